//! `triage collect`: the fleet's stream into one data directory — events
//! into the usual index, alerts and clears into the usual incident journal.
//!
//! Exactly once from stream to index: the stream sequence of the last
//! message indexed is the commit's payload (`index::State::stream`); the
//! collector's durable pull consumer is made again at start to deliver from
//! the message after it, messages are acknowledged (ack-all) only after the
//! commit that holds them, and a message delivered again (an ack that came
//! too late) is told by its sequence and skipped. Alerts go to the journal
//! through the incident recorder as `watch`'s do (an alert of a signature
//! already firing in the open incident is only counted); the sequence of
//! the last one recorded is kept beside the journal (`fleet-journal.seq`,
//! written after each), so one replayed after a crash is not recorded
//! twice. The journal's evidence names the host: an alert's source is
//! `host:path`, and its event's `host` field is the agent's unless the line
//! names its own (the journal's `host` detail, the console's hosts, the
//! recorder's "same host" joining).
//!
//! Must not: import tantivy (writes through `index`), open log files,
//! decide exit codes.

use std::{
    io,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use async_nats::jetstream::{
    self,
    consumer::{AckPolicy, DeliverPolicy, pull},
};
use futures_util::StreamExt;
use jiff::Timestamp;

use super::{
    FleetError, Settings,
    stream::{self, Ensured, Wanted},
    wire::{AlertMsg, EventMsg},
};
use crate::{
    incident::{Journal, Recorder},
    index::{self, StreamPosition},
    library::Library,
    model::{Alert, Cleared},
};

/// The collector's durable consumer.
pub const CONSUMER: &str = "triage-collect";
/// Beside the journal: the stream sequence of the last alert or clear
/// recorded.
pub const JOURNAL_SEQ_FILE: &str = "fleet-journal.seq";
/// Messages asked for at once.
const BATCH: usize = 2_000;
/// Documents that make a commit due before `commit_every`.
const COMMIT_DOCS: u64 = 50_000;

/// What `collect` was asked to do.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// The data directory (index, journal).
    pub data_dir: PathBuf,
    /// The stream's settings (created with them, checked against them).
    pub wanted: Wanted,
    /// Only create or check the stream, then stop.
    pub init_only: bool,
    /// Commit (make new events searchable, acknowledge) at most this often.
    pub commit_every: Duration,
}

/// What a run did (for the last message and the tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct Collected {
    /// Events indexed.
    pub events: u64,
    /// Alerts and clears handed to the recorder.
    pub alerts: u64,
    /// The last stream sequence committed.
    pub seq: u64,
}

/// Creates or checks the stream; with `init_only`, stops there; else
/// indexes until `stop` is set.
pub fn run(
    settings: &Settings,
    options: &CollectOptions,
    library: &Library,
    stop: Arc<AtomicBool>,
) -> Result<Collected, FleetError> {
    let rt = super::runtime()?;
    let _entered = rt.enter();
    let client = rt.block_on(super::connect(settings, "triage collect"))?;
    let js = jetstream::new(client.clone());
    let name = settings.stream_name();
    // The servers may still be starting (or electing a leader): retry.
    let started = Instant::now();
    let ensured = loop {
        let attempt = rt.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(5),
                stream::ensure(&js, settings, &options.wanted, options.init_only),
            )
            .await
        });
        match attempt {
            Ok(Ok(ensured)) => break ensured,
            Ok(Err(err @ FleetError::Stream(_))) => return Err(err),
            Ok(Err(err)) if stop.load(Ordering::SeqCst) || started.elapsed() > INIT_PATIENCE => {
                return Err(err);
            }
            Err(_) if stop.load(Ordering::SeqCst) || started.elapsed() > INIT_PATIENCE => {
                return Err(FleetError::Nats(format!(
                    "{}: no answer",
                    settings.servers_for_display()
                )));
            }
            _ => std::thread::sleep(Duration::from_millis(500)),
        }
    };
    match ensured {
        Ensured::Created => crate::output::message(format_args!(
            "created the stream {name} ({} replica(s)) on {}",
            options.wanted.replicas,
            settings.servers_for_display()
        )),
        Ensured::Checked => tracing::info!("the stream {name} is there with the right settings"),
    }
    let server = client.server_info();
    if let Some(caveat) = stream::cluster_caveat(&server.version, server.cluster.is_some()) {
        tracing::warn!("{caveat}");
    }
    if options.init_only {
        if ensured == Ensured::Checked {
            crate::output::message(format_args!(
                "the stream {name} is there with the settings triage needs"
            ));
        }
        return Ok(Collected::default());
    }
    let _lock = match crate::watch::try_lock(&options.data_dir) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            return Err(FleetError::Local(format!(
                "another triage process (a `watch` or `collect`) is using {}; stop it first, or use another --data-dir",
                crate::sanitize::path(&options.data_dir)
            )));
        }
        Err((path, err)) => {
            return Err(FleetError::Local(format!(
                "{}: {err}",
                crate::sanitize::path(&path)
            )));
        }
    };
    let local = |err: &dyn std::fmt::Display| FleetError::Local(err.to_string());
    let store =
        index::Store::open(&index::path_in(&options.data_dir), true).map_err(|e| local(&e))?;
    let mut writer = store.writer(1).map_err(|e| local(&e))?;
    let fields = *store.fields();
    let committed = writer
        .state()
        .stream
        .as_ref()
        .filter(|s| s.name == name)
        .map_or(0, |s| s.seq);
    let journal = Journal::open(&options.data_dir).map_err(|e| local(&e))?;
    let mut recorder = Recorder::new(journal, library);
    let seq_path = options.data_dir.join(JOURNAL_SEQ_FILE);
    let mut journal_seq = read_seq(&seq_path);
    // The consumer is made in the loop, so a cluster still electing or
    // losing a node at start is retried like one failing later.
    let mut messages: Option<pull::Stream> = None;
    tracing::info!("collecting from {name} after sequence {committed}");
    let mut collected = Collected {
        seq: committed,
        ..Collected::default()
    };
    let mut last = committed;
    let mut acker: Option<jetstream::message::Acker> = None;
    let mut last_commit = Instant::now();
    let mut last_tick = Instant::now();
    let mut failing = 0u32;
    let mut unknown = std::collections::HashSet::new();
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        let messages = match stopping {
            true => Vec::new(),
            false => {
                let got = match &mut messages {
                    Some(stream) => rt.block_on(next_batch(stream, Duration::from_millis(200))),
                    // The consumer made (again) after what this run has
                    // already taken (its commit is due).
                    None => match rt.block_on(pull_from(&js, &name, last + 1)) {
                        Ok(stream) => {
                            messages = Some(stream);
                            Ok(Vec::new())
                        }
                        Err(err) => Err(err.to_string()),
                    },
                };
                match got {
                    Ok(got) => {
                        if failing > 0 {
                            tracing::warn!("NATS answers again: collecting");
                            failing = 0;
                        }
                        got
                    }
                    Err(why) => {
                        if failing == 0 {
                            tracing::warn!("NATS: {why}; trying again");
                        }
                        failing += 1;
                        // A consumer that keeps failing (its server's
                        // store lost, a stream ended) is made again.
                        if failing.is_multiple_of(20) {
                            messages = None;
                        }
                        std::thread::sleep(Duration::from_millis(500));
                        Vec::new()
                    }
                }
            }
        };
        for message in messages {
            let seq = match message.info() {
                Ok(info) => info.stream_sequence,
                Err(_) => continue,
            };
            let (message, ack) = message.split();
            if seq <= last {
                continue;
            }
            if seq > last + 1 && last > 0 {
                tracing::warn!(
                    "stream {name}: messages {} to {} are not in the stream (removed by its age or size limit before they were indexed, or lost by the servers)",
                    last + 1,
                    seq - 1
                );
            }
            let subject = message.subject.as_str();
            if subject.ends_with(".events") {
                match serde_json::from_slice::<EventMsg>(&message.payload) {
                    Ok(msg) => {
                        let event = msg.event();
                        let ids: Vec<&str> = msg.signatures.iter().map(String::as_str).collect();
                        for id in &ids {
                            if let Some(id) = library.signature_id(id) {
                                recorder.on_match(id, msg.at);
                            }
                        }
                        let origin = crate::model::FileKey {
                            dev: msg.dev,
                            ino: msg.ino,
                        };
                        let doc = index::schema::document_on(
                            &fields,
                            &event,
                            msg.ts.or(msg.time),
                            origin,
                            &ids,
                            Some(&msg.host),
                        );
                        writer.add(doc).map_err(|e| local(&e))?;
                        collected.events += 1;
                    }
                    Err(err) => tracing::warn!("message {seq} on {subject} is not an event: {err}"),
                }
            } else if subject.ends_with(".alerts") && seq > journal_seq {
                match serde_json::from_slice::<AlertMsg>(&message.payload) {
                    Ok(msg) => {
                        record(&mut recorder, library, msg, &mut unknown)?;
                        write_seq(&seq_path, seq).map_err(|e| local(&e))?;
                        journal_seq = seq;
                        collected.alerts += 1;
                    }
                    Err(err) => tracing::warn!("message {seq} on {subject} is not an alert: {err}"),
                }
            }
            last = seq;
            acker = Some(ack);
        }
        if last_tick.elapsed() >= Duration::from_secs(1) {
            last_tick = Instant::now();
            if let Err(err) = recorder.tick(Timestamp::now()) {
                tracing::error!("the incident journal: {err}");
            }
        }
        let due = stopping
            || writer.pending() >= COMMIT_DOCS
            || last_commit.elapsed() >= options.commit_every;
        if due && last > collected.seq {
            writer.state_mut().stream = Some(StreamPosition {
                name: name.clone(),
                seq: last,
            });
            writer.commit().map_err(|e| local(&e))?;
            collected.seq = last;
            last_commit = Instant::now();
            if let Some(ack) = acker.take() {
                // Ack-all: everything up to here. A lost ack is harmless:
                // the next start goes on from the committed sequence.
                let _ = rt.block_on(async {
                    tokio::time::timeout(Duration::from_secs(2), ack.ack()).await
                });
            }
        }
        if stopping {
            if let Err(err) = recorder.finish(Timestamp::now()) {
                tracing::error!("the incident journal: {err}");
            }
            writer.finish().map_err(|e| local(&e))?;
            return Ok(collected);
        }
    }
}

/// How long the first contact with the servers may take.
const INIT_PATIENCE: Duration = Duration::from_secs(60);

/// The durable consumer, made again to deliver from `start` (what the index
/// holds decides, not what the server last saw acknowledged).
async fn consumer_from(
    js: &jetstream::Context,
    stream: &str,
    start: u64,
) -> Result<jetstream::consumer::Consumer<pull::Config>, FleetError> {
    let nats =
        |err: &dyn std::fmt::Display| FleetError::Nats(format!("consumer {CONSUMER}: {err}"));
    let stream = js.get_stream(stream).await.map_err(|e| nats(&e))?;
    let _ = stream.delete_consumer(CONSUMER).await;
    stream
        .create_consumer(pull::Config {
            durable_name: Some(CONSUMER.to_owned()),
            description: Some("triage collect: the index and the journal".to_owned()),
            deliver_policy: match start {
                0 | 1 => DeliverPolicy::All,
                start => DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                },
            },
            ack_policy: AckPolicy::All,
            ack_wait: Duration::from_secs(120),
            max_ack_pending: 1_000_000,
            ..pull::Config::default()
        })
        .await
        .map_err(|e| nats(&e))
}

/// The consumer, made again to deliver from `start`, and its pull stream.
async fn pull_from(
    js: &jetstream::Context,
    stream: &str,
    start: u64,
) -> Result<pull::Stream, FleetError> {
    let consumer = consumer_from(js, stream, start).await?;
    consumer
        .stream()
        .max_messages_per_batch(BATCH)
        .heartbeat(Duration::from_secs(5))
        .messages()
        .await
        .map_err(|err| FleetError::Nats(format!("consumer {CONSUMER}: {err}")))
}

/// The messages that come within `wait` (at most [`BATCH`]) from the
/// consumer's one long-lived pull stream (it keeps its pull requests and
/// heartbeats itself, and goes on across reconnections).
async fn next_batch(
    messages: &mut pull::Stream,
    wait: Duration,
) -> Result<Vec<jetstream::Message>, String> {
    let mut out = Vec::new();
    let deadline = tokio::time::sleep(wait);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(Ok(message)) => {
                    out.push(message);
                    if out.len() >= BATCH {
                        return Ok(out);
                    }
                }
                Some(Err(err)) if out.is_empty() => return Err(err.to_string()),
                Some(Err(_)) => return Ok(out),
                None => return Err("the consumer's stream ended".to_owned()),
            },
            () = &mut deadline => return Ok(out),
        }
    }
}

/// Hands an alert or a clear to the recorder.
fn record(
    recorder: &mut Recorder,
    library: &Library,
    msg: AlertMsg,
    unknown: &mut std::collections::HashSet<String>,
) -> Result<(), FleetError> {
    let id = match &msg {
        AlertMsg::Alert { signature, .. } | AlertMsg::Cleared { signature, .. } => signature,
    };
    let Some(signature) = library.signature_id(id) else {
        if unknown.insert(id.clone()) {
            tracing::warn!(
                "host {} sent alerts of signature `{}`, which this collector's library does not have: they are indexed, not recorded",
                crate::sanitize::for_terminal(msg.host()),
                crate::sanitize::for_terminal(id)
            );
        }
        return Ok(());
    };
    let written = match msg {
        AlertMsg::Alert {
            host,
            event,
            captures,
            hits,
            suppressed,
            key,
            at,
            ..
        } => {
            let time = event.ts.or(event.time);
            let mut event = event.event();
            event.source = format!("{host}:{}", event.source).into();
            // The journal's `host` (and the incident's "same host" joining):
            // the agent's, unless the line names its own.
            if event.fields.get("host").is_none() {
                event.fields.push("host", host.clone());
            }
            let alert = Alert {
                signature,
                event,
                captures,
                hits,
                suppressed,
                key,
                time,
                at,
            };
            recorder.on_alert(&alert, library)
        }
        AlertMsg::Cleared {
            key, last_hit_ms, ..
        } => recorder.on_cleared(
            &Cleared {
                signature,
                key,
                last_hit_ms,
            },
            library,
        ),
    };
    written
        .map(|_| ())
        .map_err(|err| FleetError::Local(format!("the incident journal: {err}")))
}

fn read_seq(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn write_seq(path: &Path, seq: u64) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        io::Write::write_all(&mut file, format!("{seq}\n").as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
