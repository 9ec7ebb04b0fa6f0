//! `triage agent`: `watch` on one host (the same follower, parser and
//! engine; alerts still print and go to the local outputs), plus a
//! pipeline sink that publishes every event, alert and clear to JetStream.
//!
//! Exactly once, end to end: each message carries a `Nats-Msg-Id` (host,
//! file identity, offset), and the sink's [`flush`](Sink::flush) — after
//! which the pipeline moves the checkpoint — returns only once every
//! message of the delivery is acknowledged by the stream or durably in the
//! spool. Lines read again after a crash are published again and dropped
//! by the server as duplicates. Acks are awaited a chunk at a time
//! (bounded in flight).
//!
//! While NATS does not acknowledge (down, no stream yet, failing over), a
//! delivery goes to the on-disk spool (`spool`) and a task drains it in
//! order as soon as the server takes messages; deliveries keep going to the
//! spool behind it until it is empty, so order per host is kept. A full
//! spool makes `flush` wait (the follower stops reading: back-pressure,
//! never a drop). Detection and local alerting never wait on the network:
//! the printer is handed each alert before this sink.
//!
//! Must not: open log files, touch the index, print a credential.

use std::{
    io,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_nats::jetstream::{self, message::PublishMessage};

use super::{
    FleetError, Settings,
    spool::{Record, Spool},
    wire::{AlertMsg, EventMsg},
};
use crate::{
    config::Config,
    library::Library,
    model::{Alert, Cleared, Event, FileKey, Timing},
    output::Style,
    pipeline::Sink,
    signature::Signature,
    tail::{checkpoint::Checkpoint, follow::Seen},
    watch::WatchOptions,
};

/// Messages sent before their acks are awaited.
const CHUNK: usize = 1024;
/// How long a delivery waits for its acks before it is spooled instead.
const DIRECT_WAIT: Duration = Duration::from_secs(3);
/// How often a delivery waiting for its acks looks whether the connection
/// is still up: a server that went away fails no ack, so without this a
/// delivery in flight would wait [`DIRECT_WAIT`] and hold up the alerts of
/// the lines behind it.
const LOST_POLL: Duration = Duration::from_millis(10);
/// How long the drainer waits for one segment's acks.
const DRAIN_WAIT: Duration = Duration::from_secs(30);
/// Where the spool lives in the data directory.
pub const SPOOL_DIR: &str = "spool";

/// What `triage agent` was asked to do, beside what `watch` does.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// Servers, credentials, prefix.
    pub settings: Settings,
    /// The host name published.
    pub host: String,
    /// The spool's bound in bytes.
    pub spool_max: u64,
}

/// Runs `watch` with the publishing sink until SIGINT or SIGTERM.
pub fn run(
    options: WatchOptions,
    agent: AgentOptions,
    library: &Library,
    config: &Config,
    style: Style,
    stop: Arc<AtomicBool>,
    out: &mut dyn io::Write,
) -> Result<(), FleetError> {
    let spool = options.data_dir.join(SPOOL_DIR);
    let mut sink = Publisher::connect(&agent, spool, library, Arc::clone(&stop))?;
    crate::watch::watch_with(options, library, config, style, stop, out, Some(&mut sink))
        .map_err(FleetError::Watch)
}

/// The sink that publishes.
pub struct Publisher<'l> {
    library: &'l Library,
    host: String,
    events: String,
    alerts: String,
    rt: tokio::runtime::Runtime,
    client: async_nats::Client,
    js: jetstream::Context,
    spool_dir: PathBuf,
    spool_max: u64,
    /// Opened at the first flush (the data directory's lock is held then).
    spool: Option<Arc<Mutex<Spool>>>,
    wake: Arc<tokio::sync::Notify>,
    pending: Vec<Record>,
    /// The file the last event came from (an alert follows its event).
    last_key: FileKey,
    stop: Arc<AtomicBool>,
    said_full: bool,
}

impl<'l> Publisher<'l> {
    /// Starts the client (connecting in the background: the agent follows
    /// and spools while no server answers).
    pub fn connect(
        agent: &AgentOptions,
        spool_dir: PathBuf,
        library: &'l Library,
        stop: Arc<AtomicBool>,
    ) -> Result<Publisher<'l>, FleetError> {
        let rt = super::runtime()?;
        let name = format!("triage agent {}", agent.host);
        let client = rt.block_on(super::connect(&agent.settings, &name))?;
        let js = {
            let _entered = rt.enter();
            jetstream::ContextBuilder::new()
                .timeout(DIRECT_WAIT)
                .max_ack_inflight(2 * CHUNK)
                .backpressure_on_inflight(true)
                .build(client.clone())
        };
        tracing::info!(
            "publishing to {} as host {} (subjects {}, {})",
            agent.settings.servers_for_display(),
            crate::sanitize::for_terminal(&agent.host),
            agent.settings.events_subject(&agent.host),
            agent.settings.alerts_subject(&agent.host)
        );
        Ok(Publisher {
            library,
            host: agent.host.clone(),
            events: agent.settings.events_subject(&agent.host),
            alerts: agent.settings.alerts_subject(&agent.host),
            rt,
            client,
            js,
            spool_dir,
            spool_max: agent.spool_max,
            spool: None,
            wake: Arc::new(tokio::sync::Notify::new()),
            pending: Vec::new(),
            last_key: FileKey { dev: 0, ino: 0 },
            stop,
            said_full: false,
        })
    }

    /// The spool, opened (and its drainer started) on first use.
    fn spool(&mut self) -> io::Result<Arc<Mutex<Spool>>> {
        if let Some(spool) = &self.spool {
            return Ok(Arc::clone(spool));
        }
        let spool = Spool::open(&self.spool_dir, self.spool_max).map_err(|err| {
            io::Error::new(err.kind(), format!("{}: {err}", self.spool_dir.display()))
        })?;
        if !spool.is_empty() {
            tracing::warn!(
                "{} message segment(s) ({} bytes) spooled before: sending them first",
                spool.segments(),
                spool.bytes()
            );
        }
        let spool = Arc::new(Mutex::new(spool));
        self.rt.spawn(drain(
            self.js.clone(),
            Arc::clone(&spool),
            Arc::clone(&self.wake),
        ));
        self.spool = Some(Arc::clone(&spool));
        Ok(spool)
    }

    fn push(&mut self, subject: String, id: String, payload: Vec<u8>) {
        self.pending.push(Record {
            subject,
            id,
            payload,
        });
    }

    /// Puts `batch` behind what is spooled, waiting while the spool is full.
    fn spool_batch(&mut self, batch: Vec<Record>) -> io::Result<()> {
        let spool = self.spool()?;
        loop {
            {
                let mut spool = spool.lock().map_err(|_| io::Error::other("spool lock"))?;
                if spool.fits(&batch) {
                    spool.append(&batch)?;
                    self.said_full = false;
                    self.wake.notify_one();
                    return Ok(());
                }
                if !self.said_full {
                    self.said_full = true;
                    tracing::warn!(
                        "the spool is full ({} bytes in {}): reading paused until NATS takes messages again",
                        spool.bytes(),
                        self.spool_dir.display()
                    );
                }
            }
            if self.stop.load(Ordering::SeqCst) {
                return Err(io::Error::other(
                    "stopping with the spool full and NATS not taking messages: the last lines are read again at the next start",
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Publishes `records` in order, awaiting the acks a chunk at a time.
async fn publish(js: &jetstream::Context, records: &[Record]) -> Result<(), String> {
    for chunk in records.chunks(CHUNK) {
        let mut acks = Vec::with_capacity(chunk.len());
        for record in chunk {
            let message = PublishMessage::build()
                .message_id(&record.id)
                .payload(record.payload.clone().into());
            let ack = js
                .send_publish(record.subject.clone(), message)
                .await
                .map_err(|err| err.to_string())?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(|err| err.to_string())?;
        }
    }
    Ok(())
}

/// Returns once `client` is not connected.
async fn lost(client: &async_nats::Client) {
    while client.connection_state() == async_nats::connection::State::Connected {
        tokio::time::sleep(LOST_POLL).await;
    }
}

/// Drains the spool, oldest segment first, for as long as the runtime runs.
async fn drain(js: jetstream::Context, spool: Arc<Mutex<Spool>>, wake: Arc<tokio::sync::Notify>) {
    let mut failing = false;
    loop {
        let head = match spool.lock() {
            Ok(spool) => spool.head(),
            Err(_) => return,
        };
        let (seq, records) = match head {
            None => {
                let _ = tokio::time::timeout(Duration::from_secs(1), wake.notified()).await;
                continue;
            }
            Some(Err(err)) => {
                tracing::error!("the spool cannot be read: {err}; retrying");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
            Some(Ok(head)) => head,
        };
        match tokio::time::timeout(DRAIN_WAIT, publish(&js, &records)).await {
            Ok(Ok(())) => {
                let left = match spool.lock() {
                    Ok(mut spool) => match spool.pop(seq) {
                        Ok(()) => spool.segments(),
                        Err(err) => {
                            tracing::error!("the spool: {err}");
                            continue;
                        }
                    },
                    Err(_) => return,
                };
                if left == 0 {
                    tracing::warn!("NATS takes messages again: the spool is sent");
                    failing = false;
                }
            }
            Ok(Err(why)) => {
                if !failing {
                    tracing::warn!("NATS: {why}; the spool is sent again in a moment");
                    failing = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(_) => {
                if !failing {
                    tracing::warn!("NATS did not acknowledge within {DRAIN_WAIT:?}; trying again");
                    failing = true;
                }
            }
        }
    }
}

impl<'l> Sink<'l> for Publisher<'l> {
    fn event_of(
        &mut self,
        key: FileKey,
        seen: Seen,
        event: &Event,
        when: Timing,
        matched: &[&'l Signature],
    ) -> io::Result<()> {
        self.last_key = key;
        if seen.alerted {
            // Handed over (published or spooled) before a restart.
            return Ok(());
        }
        let ids = matched.iter().map(|s| s.id.clone()).collect();
        let msg = EventMsg::of(&self.host, key, event, when, ids);
        let payload = serde_json::to_vec(&msg).map_err(io::Error::other)?;
        self.push(self.events.clone(), msg.id(), payload);
        Ok(())
    }

    fn alert(&mut self, found: &Alert) -> io::Result<()> {
        let signature = &self.library.signature(found.signature).id;
        let msg = AlertMsg::alert(&self.host, signature, self.last_key, found);
        let payload = serde_json::to_vec(&msg).map_err(io::Error::other)?;
        self.push(self.alerts.clone(), msg.id(), payload);
        Ok(())
    }

    fn cleared(&mut self, cleared: &Cleared) -> io::Result<()> {
        let signature = &self.library.signature(cleared.signature).id;
        let msg = AlertMsg::cleared(&self.host, signature, cleared);
        let payload = serde_json::to_vec(&msg).map_err(io::Error::other)?;
        self.push(self.alerts.clone(), msg.id(), payload);
        Ok(())
    }

    fn flush(&mut self, _checkpoint: &Checkpoint, _last: bool) -> io::Result<()> {
        let spool = self.spool()?;
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        let spooling = spool.lock().map_or(true, |s| !s.is_empty());
        let connected = self.client.connection_state() == async_nats::connection::State::Connected;
        if !spooling && connected {
            // The batch is spooled when the acks do not come in time or the
            // connection is lost meanwhile; what the server did store of it
            // is dropped as a duplicate when the spool sends it again.
            let client = self.client.clone();
            let sent = self.rt.block_on(async {
                tokio::select! {
                    sent = tokio::time::timeout(DIRECT_WAIT, publish(&self.js, &batch)) => Some(sent),
                    () = lost(&client) => None,
                }
            });
            match sent {
                Some(Ok(Ok(()))) => return Ok(()),
                Some(Ok(Err(why))) => tracing::warn!(
                    "NATS: {why}; spooling in {} until it takes messages again",
                    self.spool_dir.display()
                ),
                Some(Err(_)) => tracing::warn!(
                    "NATS did not acknowledge within {DIRECT_WAIT:?}; spooling in {} until it does",
                    self.spool_dir.display()
                ),
                None => tracing::warn!(
                    "NATS: the connection was lost with a batch in flight; spooling in {} until it is back",
                    self.spool_dir.display()
                ),
            }
        } else if !spooling {
            tracing::warn!(
                "NATS is not connected; spooling in {} until it is",
                self.spool_dir.display()
            );
        }
        self.spool_batch(batch)
    }
}
