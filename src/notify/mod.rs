//! Paging people: `[[output]]`s of `triage.toml` (Alertmanager, PagerDuty,
//! Slack, webhooks) fed from the live pipeline through a durable outbox.
//!
//! [`Notifier`] is a pipeline [`Sink`]: on the detection thread it only
//! decides (severity, signature globs, rate limit per output), renders the
//! bodies (`render`) and hands entries to the outbox's writer thread over a
//! bounded queue; when the queue is full it writes the entry to the outbox
//! itself (a local file, never the network). At the end of a delivery
//! that produced notifications, [`Sink::flush`] waits until they are on
//! disk, so the checkpoint never moves past an alert whose notification a
//! `kill -9` could lose. One sender thread per output sends its outbox
//! entries in order (`send`), retrying with capped exponential backoff and
//! jitter, parking what a receiver refuses. Nothing here blocks on the
//! network on the detection thread.
//!
//! Must not: print to stdout, put a secret in a message or a file, open
//! log files.

pub mod command;
pub mod config;
pub mod incidents;
pub mod metrics;
pub mod outbox;
pub mod render;
pub mod send;

use std::{
    collections::{HashMap, HashSet},
    io,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc::{self, RecvTimeoutError, SyncSender, TrySendError},
    },
    thread,
    time::{Duration, Instant},
};

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::{
    library::Library,
    model::{Alert, Cleared},
    pipeline::Sink,
    tail::checkpoint::Checkpoint,
};

use self::{
    config::{Kind, Output},
    outbox::{Entry, Outbox, OutboxError, State},
    render::Facts,
    send::Outcome,
};

/// Entries waiting for the outbox's writer before the detection thread
/// writes them itself.
const QUEUE: usize = 1024;
/// Firing alerts remembered for re-sending and resolving, per output.
const FIRING_MAX: usize = 10_000;
/// How often the incident journal is looked at for new events.
const JOURNAL_EVERY: Duration = Duration::from_millis(500);
/// How often a sender looks at its outbox even when not woken (entries
/// retried or dropped from the command line).
const LOOK_EVERY: Duration = Duration::from_millis(500);

/// Counters shared by the notifier's threads (read by `/metrics`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Entries waiting in the outbox.
    pub depth: AtomicU64,
    /// Notifications delivered (2xx).
    pub sent: AtomicU64,
    /// Attempts that failed (retried or parked).
    pub failures: AtomicU64,
    /// Notifications refused and parked.
    pub parked: AtomicU64,
    /// Alerts not sent because of the output's rate limit.
    pub rate_limited: AtomicU64,
}

/// What the threads share.
#[derive(Debug)]
pub struct Shared {
    stop: AtomicBool,
    wake: Vec<SyncSender<()>>,
    /// Per output, in `[[output]]` order.
    pub counters: Vec<Counters>,
    /// The outputs.
    pub outputs: Arc<Vec<Output>>,
}

impl Shared {
    fn wake(&self, output: usize) {
        if let Some(wake) = self.wake.get(output) {
            let _ = wake.try_send(());
        }
    }
}

enum Msg {
    Entry(usize, Box<Entry>),
    Barrier(SyncSender<()>),
}

/// An Alertmanager alert being re-sent until it clears.
struct Firing {
    body: Value,
    source: String,
    last_sent: Instant,
}

/// A token bucket: `per_minute` alerts a minute, bursts of as many.
struct Bucket {
    per_minute: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * self.per_minute / 60.0;
        self.tokens = (self.tokens + refill).min(self.per_minute);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The pipeline sink that pages people (see the module's documentation).
pub struct Notifier<'l> {
    library: &'l Library,
    outbox: Arc<Outbox>,
    shared: Arc<Shared>,
    queue: Option<SyncSender<Msg>>,
    writer: Option<thread::JoinHandle<()>>,
    /// Something was handed over since the last flush.
    unsynced: bool,
    firing: Vec<HashMap<String, Vec<Firing>>>,
    /// Dedup keys an alert went out for, per output (what a clear resolves).
    alerted: Vec<HashSet<String>>,
    buckets: Vec<Option<Bucket>>,
    /// The incident journal's new events (when an output wants them, or
    /// a PagerDuty output acknowledges and resolves with incidents).
    feed: Option<(incidents::Feed, Instant)>,
}

/// Why the notifier could not start.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The outbox cannot be opened.
    #[error("the outbox: {0}")]
    Outbox(#[from] OutboxError),
    /// A thread cannot be started.
    #[error("cannot start a thread: {0}")]
    Thread(io::Error),
}

impl<'l> Notifier<'l> {
    /// Opens the outbox in `data_dir` and starts the writer and one sender
    /// per output (which first send what a previous run left).
    pub fn start(
        outputs: Vec<Output>,
        data_dir: &Path,
        library: &'l Library,
    ) -> Result<Notifier<'l>, NotifyError> {
        let outbox = Arc::new(Outbox::open(data_dir, true)?);
        let outputs = Arc::new(outputs);
        let mut wakes = Vec::new();
        let mut wakers = Vec::new();
        for _ in outputs.iter() {
            let (tx, rx) = mpsc::sync_channel(1);
            wakes.push(tx);
            wakers.push(rx);
        }
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            wake: wakes,
            counters: outputs.iter().map(|_| Counters::default()).collect(),
            outputs: Arc::clone(&outputs),
        });
        for (index, woken) in wakers.into_iter().enumerate() {
            let shared = Arc::clone(&shared);
            let outbox = Arc::clone(&outbox);
            thread::Builder::new()
                .name(format!("notify-{}", outputs[index].name))
                .spawn(move || sender(index, &shared, &outbox, &woken))
                .map_err(NotifyError::Thread)?;
        }
        let (queue, received) = mpsc::sync_channel(QUEUE);
        let writer = {
            let shared = Arc::clone(&shared);
            let outbox = Arc::clone(&outbox);
            thread::Builder::new()
                .name("outbox".to_owned())
                .spawn(move || write_entries(&received, &shared, &outbox))
                .map_err(NotifyError::Thread)?
        };
        Ok(Notifier {
            library,
            outbox,
            firing: outputs.iter().map(|_| HashMap::new()).collect(),
            alerted: outputs.iter().map(|_| HashSet::new()).collect(),
            buckets: outputs
                .iter()
                .map(|o| {
                    o.max_per_minute.map(|n| Bucket {
                        per_minute: f64::from(n),
                        tokens: f64::from(n),
                        at: Instant::now(),
                    })
                })
                .collect(),
            feed: outputs
                .iter()
                .any(|o| o.incidents || o.kind == Kind::Pagerduty)
                .then(|| incidents::Feed::open(data_dir))
                .flatten()
                .map(|feed| (feed, Instant::now())),
            shared,
            queue: Some(queue),
            writer: Some(writer),
            unsynced: false,
        })
    }

    /// What the threads share (for `/metrics`).
    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    fn enqueue(
        &mut self,
        output: usize,
        what: &str,
        dedup_key: &str,
        signature: Option<&str>,
        body: Value,
    ) {
        let entry = Entry {
            seq: self.outbox.take_seq(),
            output: self.shared.outputs[output].name.clone(),
            what: what.to_owned(),
            dedup_key: dedup_key.to_owned(),
            signature: signature.map(str::to_owned),
            created_ms: Timestamp::now().as_millisecond(),
            attempts: 0,
            next_ms: 0,
            last_error: None,
            body,
        };
        self.shared.counters[output]
            .depth
            .fetch_add(1, Ordering::Relaxed);
        self.unsynced = true;
        let Some(queue) = &self.queue else { return };
        match queue.try_send(Msg::Entry(output, Box::new(entry))) {
            Ok(()) => {}
            // The writer is behind: write it here (a local file).
            Err(TrySendError::Full(Msg::Entry(_, entry))) => {
                if let Err(err) = self.outbox.put(&entry) {
                    tracing::error!("cannot write a notification to the outbox: {err}");
                }
                self.shared.wake(output);
            }
            Err(_) => tracing::error!("the outbox's writer stopped: a notification is lost"),
        }
    }
}

impl Notifier<'_> {
    /// New incident events: to the outputs that want them; an
    /// acknowledgement or resolution to PagerDuty for the incident's
    /// alerts triage triggered.
    fn incident_events(&mut self) {
        let Some((feed, last)) = &mut self.feed else {
            return;
        };
        if last.elapsed() < JOURNAL_EVERY {
            return;
        }
        *last = Instant::now();
        let events = feed.poll();
        let outputs = Arc::clone(&self.shared.outputs);
        for (event, signatures) in events {
            let key = format!("triage/incident/{}/{}", event.incident, event.seq);
            for (i, output) in outputs.iter().enumerate() {
                match output.kind {
                    Kind::Slack if output.incidents => {
                        self.enqueue(i, "incident", &key, None, incidents::slack(&event));
                    }
                    Kind::Webhook if output.incidents => {
                        self.enqueue(i, "incident", &key, None, incidents::webhook(&event));
                    }
                    Kind::Pagerduty => {
                        let action = match event.kind {
                            crate::incident::Kind::Ack => "acknowledge",
                            crate::incident::Kind::StatusChanged
                                if event.detail_str("to") == Some("resolved") =>
                            {
                                "resolve"
                            }
                            _ => continue,
                        };
                        let mut keys: Vec<String> = self.alerted[i]
                            .iter()
                            .filter(|k| {
                                signatures.iter().any(|s| {
                                    k.strip_prefix("triage/")
                                        .and_then(|k| k.strip_prefix(s.as_str()))
                                        .is_some_and(|rest| {
                                            rest.is_empty() || rest.starts_with('/')
                                        })
                                })
                            })
                            .cloned()
                            .collect();
                        keys.sort();
                        for dedup_key in keys {
                            if action == "resolve" {
                                self.alerted[i].remove(&dedup_key);
                            }
                            let body = render::pagerduty_action(action, &dedup_key);
                            self.enqueue(i, action, &dedup_key, None, body);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

impl<'l> Sink<'l> for Notifier<'l> {
    fn alert(&mut self, found: &Alert) -> io::Result<()> {
        let signature = self.library.signature(found.signature);
        let outputs = Arc::clone(&self.shared.outputs);
        let wanted: Vec<usize> = (0..outputs.len())
            .filter(|&i| outputs[i].wants(&signature.id, signature.severity))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let facts = Facts::of(found, self.library);
        for i in wanted {
            let output = &outputs[i];
            if let Some(bucket) = &mut self.buckets[i]
                && !bucket.take()
            {
                let dropped = self.shared.counters[i]
                    .rate_limited
                    .fetch_add(1, Ordering::Relaxed);
                if dropped.is_power_of_two() || dropped == 0 {
                    tracing::warn!(
                        "output `{}`: more than {} alerts a minute; {} not sent",
                        output.name,
                        output.max_per_minute.unwrap_or_default(),
                        dropped + 1
                    );
                }
                continue;
            }
            let body = match output.kind {
                Kind::Alertmanager => {
                    let now = Timestamp::now();
                    let (ends, resend) = match signature.clear_after {
                        Some(_) => (now + signed(output.resend_every * 4), true),
                        None => (found.at.max(now) + signed(output.resolve_after), false),
                    };
                    let alert = render::alertmanager(&facts, ends);
                    if resend {
                        let firing = &mut self.firing[i];
                        let same = firing.entry(facts.dedup_key.clone()).or_default();
                        same.retain(|f| f.source != facts.source);
                        same.push(Firing {
                            body: alert.clone(),
                            source: facts.source.clone(),
                            last_sent: Instant::now(),
                        });
                        if firing.len() > FIRING_MAX {
                            firing.clear();
                        }
                    }
                    Value::Array(vec![alert])
                }
                Kind::Pagerduty => render::pagerduty_trigger(&facts),
                Kind::Slack => render::slack_alert(&facts),
                Kind::Webhook => render::webhook_alert(&facts),
            };
            let alerted = &mut self.alerted[i];
            if alerted.len() > FIRING_MAX {
                alerted.clear();
            }
            alerted.insert(facts.dedup_key.clone());
            self.enqueue(i, "firing", &facts.dedup_key, Some(&facts.signature), body);
        }
        Ok(())
    }

    fn cleared(&mut self, cleared: &Cleared) -> io::Result<()> {
        let signature = self.library.signature(cleared.signature);
        let dedup_key = render::dedup_key(&signature.id, &cleared.key);
        let outputs = Arc::clone(&self.shared.outputs);
        let now = Timestamp::now();
        for (i, output) in outputs.iter().enumerate() {
            if !self.alerted[i].remove(&dedup_key) {
                continue;
            }
            let body = match output.kind {
                Kind::Alertmanager => {
                    let Some(firing) = self.firing[i].remove(&dedup_key) else {
                        continue;
                    };
                    Value::Array(
                        firing
                            .iter()
                            .map(|f| render::alertmanager_resolved(&f.body, now))
                            .collect(),
                    )
                }
                Kind::Pagerduty => render::pagerduty_action("resolve", &dedup_key),
                Kind::Slack => {
                    render::slack_cleared(&signature.id, &signature.title, &cleared.key, now)
                }
                Kind::Webhook => render::webhook_cleared(cleared, self.library),
            };
            self.enqueue(i, "resolved", &dedup_key, Some(&signature.id), body);
        }
        Ok(())
    }

    fn present(&mut self, _now: Timestamp) {
        self.incident_events();
        let outputs = Arc::clone(&self.shared.outputs);
        for (i, output) in outputs.iter().enumerate() {
            if output.kind != Kind::Alertmanager
                || self.firing[i].is_empty()
                // A backlog holds this alert already: no repeats behind it.
                || self.shared.counters[i].depth.load(Ordering::Relaxed) > 0
            {
                continue;
            }
            let now = Timestamp::now();
            let mut due: Vec<(String, Value)> = Vec::new();
            for (key, firing) in &mut self.firing[i] {
                let mut alerts = Vec::new();
                for f in firing.iter_mut() {
                    if f.last_sent.elapsed() >= output.resend_every {
                        f.last_sent = Instant::now();
                        f.body["endsAt"] = now
                            .checked_add(signed(output.resend_every * 4))
                            .unwrap_or(now)
                            .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                            .to_string()
                            .into();
                        alerts.push(f.body.clone());
                    }
                }
                if !alerts.is_empty() {
                    due.push((key.clone(), Value::Array(alerts)));
                }
            }
            for (key, body) in due {
                let signature = key.split('/').nth(1).map(str::to_owned);
                self.enqueue(i, "resend", &key, signature.as_deref(), body);
            }
        }
    }

    fn flush(&mut self, _: &Checkpoint, _: bool) -> io::Result<()> {
        if !self.unsynced {
            return Ok(());
        }
        self.unsynced = false;
        let Some(queue) = &self.queue else {
            return Ok(());
        };
        let (done, wait) = mpsc::sync_channel(1);
        if queue.send(Msg::Barrier(done)).is_ok() {
            let _ = wait.recv();
        }
        Ok(())
    }
}

impl Drop for Notifier<'_> {
    /// Lets the writer finish what is queued, then tells the senders to
    /// stop (one in the middle of a request is not waited for: its entry
    /// stays in the outbox and goes at the next start).
    fn drop(&mut self) {
        self.queue = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        self.shared.stop.store(true, Ordering::SeqCst);
        for i in 0..self.shared.wake.len() {
            self.shared.wake(i);
        }
    }
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

/// The outbox's writer: entries to disk, then their sender woken; a
/// barrier is answered once everything before it is durable.
fn write_entries(received: &mpsc::Receiver<Msg>, shared: &Shared, outbox: &Outbox) {
    let mut touched: HashSet<usize> = HashSet::new();
    for msg in received {
        match msg {
            Msg::Entry(output, entry) => {
                if let Err(err) = outbox.put(&entry) {
                    tracing::error!("cannot write a notification to the outbox: {err}");
                }
                touched.insert(output);
                shared.wake(output);
            }
            Msg::Barrier(done) => {
                for &output in &touched {
                    if let Err(err) = outbox.sync(&shared.outputs[output].name) {
                        tracing::error!("cannot sync the outbox: {err}");
                    }
                }
                touched.clear();
                let _ = done.send(());
            }
        }
    }
}

/// The delay before attempt `attempts + 1`: doubling from `min`, capped at
/// `max`, with up to a fifth taken off at random (so many triage processes
/// do not retry in step).
pub fn backoff(attempts: u32, min: Duration, max: Duration) -> Duration {
    let exp = min.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let capped = exp.min(max);
    let jitter = capped.mul_f64(fastrand::f64() * 0.2);
    capped.saturating_sub(jitter).max(Duration::from_millis(1))
}

/// One output's sender: its outbox entries in order, each until delivered
/// or parked.
fn sender(index: usize, shared: &Shared, outbox: &Outbox, woken: &mpsc::Receiver<()>) {
    let output = &shared.outputs[index];
    let counters = &shared.counters[index];
    let mut failing = false;
    let wait = |d: Duration| match woken.recv_timeout(d.min(LOOK_EVERY)) {
        Ok(()) | Err(RecvTimeoutError::Timeout) => true,
        Err(RecvTimeoutError::Disconnected) => false,
    };
    while !shared.stop.load(Ordering::SeqCst) {
        let pending = match outbox.list(&output.name, State::Pending) {
            Ok(pending) => pending,
            Err(err) => {
                tracing::error!("output `{}`: {err}", output.name);
                if !wait(LOOK_EVERY) {
                    return;
                }
                continue;
            }
        };
        counters
            .depth
            .store(pending.len() as u64, Ordering::Relaxed);
        let Some((seq, path)) = pending.first().cloned() else {
            if !wait(LOOK_EVERY) {
                return;
            }
            continue;
        };
        let mut entry = match outbox.read(&path) {
            Ok(entry) => entry,
            Err(err) if err.source.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => {
                tracing::error!(
                    "output `{}`: an unreadable outbox entry is parked: {err}",
                    output.name
                );
                let _ = std::fs::create_dir_all(path.with_file_name("parked"));
                let _ = std::fs::rename(
                    &path,
                    path.with_file_name("parked")
                        .join(path.file_name().unwrap_or_default()),
                );
                continue;
            }
        };
        let now = Timestamp::now().as_millisecond();
        if entry.next_ms > now {
            let left = Duration::from_millis((entry.next_ms - now).unsigned_abs());
            if !wait(left) {
                return;
            }
            continue;
        }
        // A re-send with a newer one behind it is superseded.
        if entry.what == "resend"
            && pending[1..].iter().any(|(_, later)| {
                outbox
                    .read(later)
                    .is_ok_and(|l| l.dedup_key == entry.dedup_key)
            })
        {
            let _ = outbox.remove(&output.name, seq, State::Pending);
            continue;
        }
        let outcome = send::send(output, &entry.body, &entry.dedup_key);
        entry.attempts += 1;
        match outcome {
            Outcome::Delivered(..) => {
                if let Err(err) = outbox.remove(&output.name, seq, State::Pending) {
                    tracing::error!("output `{}`: {err}", output.name);
                }
                counters.sent.fetch_add(1, Ordering::Relaxed);
                if failing {
                    tracing::warn!("output `{}`: delivering again", output.name);
                    failing = false;
                }
            }
            Outcome::Retry(why, after) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                let delay = after.map(|a| a.min(output.backoff_max)).unwrap_or_else(|| {
                    backoff(entry.attempts, output.backoff_min, output.backoff_max)
                });
                if !failing || entry.attempts.is_power_of_two() {
                    tracing::warn!(
                        "output `{}`: notification {seq} not delivered ({why}); attempt {} again in {:.1}s",
                        output.name,
                        entry.attempts + 1,
                        delay.as_secs_f64()
                    );
                }
                failing = true;
                entry.next_ms = Timestamp::now().as_millisecond()
                    + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
                entry.last_error = Some(why);
                if let Err(err) = outbox.update(&entry) {
                    tracing::error!("output `{}`: {err}", output.name);
                }
            }
            Outcome::Refused(status, message) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                counters.parked.fetch_add(1, Ordering::Relaxed);
                let message = crate::sanitize::for_terminal(&message).into_owned();
                tracing::error!(
                    "output `{}`: the receiver refused notification {seq} ({status}): {}; parked (see `triage outbox list`)",
                    output.name,
                    message.trim()
                );
                entry.last_error = Some(format!("{status} {}", message.trim()));
                if let Err(err) = outbox.park(&entry) {
                    tracing::error!("output `{}`: {err}", output.name);
                }
            }
        }
    }
}
