//! Paging people: `[[output]]`s of `triage.toml` (Alertmanager, PagerDuty,
//! Slack, webhooks) fed from the live pipeline through a durable outbox.
//!
//! [`Notifier`] is a pipeline [`Sink`]: on the detection thread it only
//! decides (severity, signature globs, rate limit per output), renders the
//! bodies (`render`) and hands entries to the outbox's writer thread over a
//! bounded queue; when the queue is full it writes the entry to the outbox
//! itself (a local file, never the network). At the end of a delivery
//! that produced notifications, [`Sink::flush`] hands the writer a barrier
//! (with what fires and the incident-event cursors to record after the
//! entries): the checkpoint's saving thread waits for it
//! ([`Sink::durable`]), not the detection thread, so the checkpoint never
//! moves past an alert whose notification a `kill -9` could lose and the
//! next alert is not delayed by an fsync. One sender thread per output sends its outbox
//! entries in order (`send`), retrying with capped exponential backoff and
//! jitter, parking what a receiver refuses. Nothing here blocks on the
//! network on the detection thread. What each output was told is firing,
//! and which incident events it had, outlive the process (`firing`): the
//! next `watch` re-sends, resolves and catches up from there.
//!
//! Must not: print to stdout, put a secret in a message or a file, open
//! log files.

pub mod command;
pub mod config;
pub mod firing;
pub mod incidents;
pub mod metrics;
pub mod outbox;
pub mod render;
pub mod send;

use std::{
    collections::{BTreeMap, HashMap, HashSet, btree_map},
    io,
    path::Path,
    sync::{
        Arc, Mutex,
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
    model::{Alert, Cleared, Event, SignatureId, Timing},
    pipeline::{Durable, Sink},
    signature::Signature,
    tail::checkpoint::Checkpoint,
};

use self::{
    config::{Kind, Output},
    firing::{Record, Resent},
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
/// Last hits and re-send times are saved at most this often; so is what
/// fires and clears when more than [`SAVE_NOW_MAX`] alerts fire (below
/// that, before the checkpoint moves).
const SAVE_EVERY: Duration = Duration::from_secs(1);
/// Up to this many firing alerts, a change is saved at once.
const SAVE_NOW_MAX: usize = 256;

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
    /// Per output name: the last incident journal event handed to its
    /// outbox or delivered (kept in `store`).
    cursor: Mutex<BTreeMap<String, u64>>,
    store: firing::Store,
}

impl Shared {
    fn wake(&self, output: usize) {
        if let Some(wake) = self.wake.get(output) {
            let _ = wake.try_send(());
        }
    }

    /// Records, durably, that `output` has had the journal's events up to
    /// `seq` (never moving back).
    fn advance(&self, output: &str, seq: u64) {
        let Ok(mut cursor) = self.cursor.lock() else {
            return;
        };
        let at = cursor.entry(output.to_owned()).or_insert(0);
        if seq <= *at {
            return;
        }
        *at = seq;
        if let Err(err) = self.store.save_cursor(&cursor) {
            tracing::error!("cannot record which incident events were sent: {err}");
        }
    }
}

enum Msg {
    Entry(usize, Box<Entry>),
    /// Once the outputs' entries before it are on disk: what fires saved,
    /// the outputs' incident-event cursors moved, then answered.
    Barrier {
        outputs: HashSet<usize>,
        firing: Option<firing::Firing>,
        cursors: Vec<(usize, u64)>,
        done: SyncSender<()>,
    },
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
    /// Outputs something was handed over for since the last flush.
    unsynced: HashSet<usize>,
    /// Barriers handed to the writer, for the checkpoint to wait on.
    gates: Vec<Durable>,
    /// Per output, by dedup key: the alerts it was sent and not yet told
    /// are over (what a clear resolves, what Alertmanager gets again),
    /// kept in `<data-dir>/notify/firing.json`.
    records: Vec<BTreeMap<String, Record>>,
    /// Records loaded from a previous run that the engine does not know.
    restored: usize,
    /// The records changed: saved before the checkpoint moves.
    changed: bool,
    /// Only last hits or re-send times changed: saved at most every
    /// [`SAVE_EVERY`].
    touched: bool,
    saved_at: Instant,
    /// Signatures by id.
    ids: HashMap<String, SignatureId>,
    buckets: Vec<Option<Bucket>>,
    /// The incident journal (its new events, the incident of an alert).
    feed: Option<(incidents::Feed, Instant)>,
    /// Per output that gets incident events: the last journal event
    /// looked at for it, and whether that is newer than its cursor on disk.
    cursor: Vec<Option<(u64, bool)>>,
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

/// Whether an output gets the incident journal's events (its own or, for
/// PagerDuty, acknowledgements and resolutions).
fn wants_events(output: &Output) -> bool {
    output.incidents || output.kind == Kind::Pagerduty
}

impl<'l> Notifier<'l> {
    /// Opens the outbox in `data_dir`, loads what was firing and which
    /// incident events were sent, and starts the writer and one sender per
    /// output (which first send what a previous run left).
    pub fn start(
        outputs: Vec<Output>,
        data_dir: &Path,
        library: &'l Library,
    ) -> Result<Notifier<'l>, NotifyError> {
        let outbox = Arc::new(Outbox::open(data_dir, true)?);
        let store = firing::Store::new(data_dir);
        let mut loaded = store.load_firing().unwrap_or_else(|err| {
            tracing::error!("{err}; what was firing before this start is not re-sent or resolved");
            firing::Firing::new()
        });
        let records: Vec<BTreeMap<String, Record>> = outputs
            .iter()
            .map(|o| loaded.remove(&o.name).unwrap_or_default())
            .collect();
        let mut feed = outputs
            .iter()
            .any(|o| wants_events(o) || o.kind == Kind::Webhook)
            .then(|| incidents::Feed::open(data_dir))
            .flatten();
        // Where each output's incident events resume: past what its cursor
        // or its outbox (written before a crash let the cursor move) says
        // it had; an output new here starts at the journal's end.
        let saved = store.load_cursor().unwrap_or_else(|err| {
            tracing::error!("{err}; incident events start from the journal's end");
            BTreeMap::new()
        });
        let mut cursor_map = saved.clone();
        let end = feed.as_ref().map_or(0, incidents::Feed::end);
        let cursor: Vec<Option<(u64, bool)>> = outputs
            .iter()
            .map(|o| {
                if !wants_events(o) || feed.is_none() {
                    return None;
                }
                let seq = match (saved.get(&o.name), outbox.journal_high(&o.name)) {
                    (None, None) => end,
                    (a, b) => a.copied().unwrap_or(0).max(b.unwrap_or(0)).min(end),
                };
                cursor_map.insert(o.name.clone(), seq);
                Some((seq, false))
            })
            .collect();
        if cursor_map != saved
            && let Err(err) = store.save_cursor(&cursor_map)
        {
            tracing::error!("cannot record which incident events were sent: {err}");
        }
        if let Some(feed) = &mut feed {
            feed.start_after(cursor.iter().flatten().map(|c| c.0).min().unwrap_or(end));
        }
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
            cursor: Mutex::new(cursor_map),
            store,
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
        let restored = records.iter().map(BTreeMap::len).sum();
        if restored > 0 {
            tracing::info!("{restored} alerts sent before this start still firing");
        }
        Ok(Notifier {
            library,
            outbox,
            records,
            restored,
            changed: false,
            touched: false,
            saved_at: Instant::now(),
            ids: library
                .signatures
                .iter()
                .enumerate()
                .map(|(i, s)| (s.id.clone(), SignatureId(i)))
                .collect(),
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
            feed: feed.map(|feed| (feed, Instant::now())),
            cursor,
            shared,
            queue: Some(queue),
            writer: Some(writer),
            unsynced: HashSet::new(),
            gates: Vec::new(),
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
        journal_seq: Option<u64>,
    ) {
        let entry = Entry {
            seq: self.outbox.take_seq(),
            output: self.shared.outputs[output].name.clone(),
            what: what.to_owned(),
            dedup_key: dedup_key.to_owned(),
            signature: signature.map(str::to_owned),
            journal_seq,
            created_ms: Timestamp::now().as_millisecond(),
            attempts: 0,
            next_ms: 0,
            last_error: None,
            body,
        };
        self.shared.counters[output]
            .depth
            .fetch_add(1, Ordering::Relaxed);
        self.unsynced.insert(output);
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

    /// The open incident an alert of this signature joined, if any.
    fn incident_of(&mut self, signature: &str) -> Option<String> {
        self.feed.as_mut()?.0.incident_of(signature)
    }

    /// Tells output `i` that the alert of `dedup_key` is over.
    fn resolve(&mut self, i: usize, dedup_key: &str, record: &Record) {
        let outputs = Arc::clone(&self.shared.outputs);
        let now = Timestamp::now();
        let title = self
            .ids
            .get(&record.signature)
            .map(|&id| self.library.signature(id).title.clone())
            .unwrap_or_else(|| record.signature.clone());
        let body = match outputs[i].kind {
            Kind::Alertmanager => {
                if record.resent.is_empty() {
                    return;
                }
                Value::Array(
                    record
                        .resent
                        .iter()
                        .map(|r| render::alertmanager_resolved(&r.body, now))
                        .collect(),
                )
            }
            Kind::Pagerduty => render::pagerduty_action("resolve", dedup_key),
            Kind::Slack => render::slack_cleared(&record.signature, &title, &record.key, now),
            Kind::Webhook => {
                let incident = self.incident_of(&record.signature);
                render::webhook_cleared(
                    &record.signature,
                    &title,
                    &record.key,
                    record.last_hit_ms,
                    incident.as_deref(),
                )
            }
        };
        self.enqueue(
            i,
            "resolved",
            dedup_key,
            Some(&record.signature),
            body,
            None,
        );
    }

    /// Records from a previous run quiet for their signature's
    /// `clear_after` at `now` (or whose signature is gone) are resolved.
    fn resolve_restored(&mut self, now: Timestamp) {
        if self.restored == 0 {
            return;
        }
        let now_ms = now.as_millisecond();
        for i in 0..self.records.len() {
            let due: Vec<String> = self.records[i]
                .iter()
                .filter(|(_, r)| {
                    r.restored
                        && match self.ids.get(&r.signature) {
                            None => true,
                            Some(&id) => self.library.signature(id).clear_after.is_some_and(|d| {
                                now_ms.saturating_sub(r.last_hit_ms)
                                    >= i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
                            }),
                        }
                })
                .map(|(k, _)| k.clone())
                .collect();
            for key in due {
                if let Some(record) = self.records[i].remove(&key) {
                    self.changed = true;
                    self.resolve(i, &key, &record);
                }
            }
        }
    }

    /// The records to write (see [`firing`]), counted as saved.
    fn snapshot(&mut self) -> firing::Firing {
        let state: firing::Firing = self
            .shared
            .outputs
            .iter()
            .zip(&self.records)
            .filter(|(_, records)| !records.is_empty())
            .map(|(o, records)| (o.name.clone(), records.clone()))
            .collect();
        self.restored = self
            .records
            .iter()
            .flat_map(BTreeMap::values)
            .filter(|r| r.restored)
            .count();
        self.changed = false;
        self.touched = false;
        self.saved_at = Instant::now();
        state
    }

    /// New incident events: to the outputs that want them; an
    /// acknowledgement or resolution to PagerDuty for the incident's
    /// alerts triage triggered. Each output gets each event once, across
    /// restarts (its cursor).
    fn incident_events(&mut self) {
        let Some((feed, last)) = &mut self.feed else {
            return;
        };
        if last.elapsed() < JOURNAL_EVERY {
            return;
        }
        *last = Instant::now();
        let (events, upto) = feed.poll();
        let outputs = Arc::clone(&self.shared.outputs);
        for (event, signatures) in events {
            let key = format!("triage/incident/{}/{}", event.incident, event.seq);
            let journal_seq = Some(event.seq);
            for (i, output) in outputs.iter().enumerate() {
                if self.cursor[i].is_none_or(|(seq, _)| event.seq <= seq) {
                    continue;
                }
                match output.kind {
                    Kind::Slack if output.incidents => {
                        let body = incidents::slack(&event);
                        self.enqueue(i, "incident", &key, None, body, journal_seq);
                    }
                    Kind::Webhook if output.incidents => {
                        let body = incidents::webhook(&event);
                        self.enqueue(i, "incident", &key, None, body, journal_seq);
                    }
                    Kind::Pagerduty => {
                        let action = match event.kind {
                            crate::incident::Kind::Ack => "acknowledge",
                            crate::incident::Kind::StatusChanged
                                if matches!(
                                    event.payload(),
                                    crate::incident::Payload::StatusChanged(change)
                                        if change.to == crate::incident::Status::Resolved
                                ) =>
                            {
                                "resolve"
                            }
                            _ => continue,
                        };
                        let keys: Vec<String> = self.records[i]
                            .iter()
                            .filter(|(_, r)| signatures.contains(&r.signature))
                            .map(|(k, _)| k.clone())
                            .collect();
                        for dedup_key in keys {
                            if action == "resolve" {
                                self.records[i].remove(&dedup_key);
                                self.changed = true;
                            }
                            let body = render::pagerduty_action(action, &dedup_key);
                            self.enqueue(i, action, &dedup_key, None, body, journal_seq);
                        }
                    }
                    _ => {}
                }
            }
        }
        for cursor in self.cursor.iter_mut().flatten() {
            if upto > cursor.0 {
                *cursor = (upto, true);
            }
        }
    }
}

impl<'l> Sink<'l> for Notifier<'l> {
    /// A match of a signature with alerts from a previous run keeps them
    /// firing (the engine, started afresh, does not know their keys).
    fn event(&mut self, _: &Event, when: Timing, matched: &[&'l Signature]) -> io::Result<()> {
        if self.restored == 0 || matched.is_empty() {
            return Ok(());
        }
        let at = when.at.as_millisecond();
        for signature in matched {
            for record in self
                .records
                .iter_mut()
                .flat_map(BTreeMap::values_mut)
                .filter(|r| r.restored && r.signature == signature.id)
            {
                if at > record.last_hit_ms {
                    record.last_hit_ms = at;
                    self.touched = true;
                }
            }
        }
        Ok(())
    }

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
        let incident = match wanted.iter().any(|&i| outputs[i].kind == Kind::Webhook) {
            true => self.incident_of(&signature.id),
            false => None,
        };
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
            let mut resent = None;
            let body = match output.kind {
                Kind::Alertmanager => {
                    let now = Timestamp::now();
                    let (ends, resend) = match signature.clear_after {
                        Some(_) => (now + signed(output.resend_every * 4), true),
                        None => (found.at.max(now) + signed(output.resolve_after), false),
                    };
                    let alert = render::alertmanager(&facts, ends);
                    if resend {
                        resent = Some(Resent {
                            body: alert.clone(),
                            source: facts.source.clone(),
                            last_sent_ms: now.as_millisecond(),
                        });
                    }
                    Value::Array(vec![alert])
                }
                Kind::Pagerduty => render::pagerduty_trigger(&facts),
                Kind::Slack => render::slack_alert(&facts),
                Kind::Webhook => render::webhook_alert(&facts, incident.as_deref()),
            };
            let records = &mut self.records[i];
            if records.len() > FIRING_MAX {
                records.clear();
            }
            // A new key (or one the engine did not know) is saved before
            // the checkpoint moves; a repeat of one only refreshes it.
            let record = match records.entry(facts.dedup_key.clone()) {
                btree_map::Entry::Occupied(entry) => entry.into_mut(),
                btree_map::Entry::Vacant(entry) => {
                    self.changed = true;
                    entry.insert(Record {
                        signature: signature.id.clone(),
                        key: found.key.clone(),
                        last_hit_ms: found.at.as_millisecond(),
                        resent: Vec::new(),
                        restored: false,
                    })
                }
            };
            self.changed |= record.restored;
            record.restored = false;
            record.last_hit_ms = record.last_hit_ms.max(found.at.as_millisecond());
            if let Some(resent) = resent {
                self.changed |= !record.resent.iter().any(|r| r.source == resent.source);
                record.resent.retain(|r| r.source != resent.source);
                record.resent.push(resent);
            }
            self.touched = true;
            self.enqueue(
                i,
                "firing",
                &facts.dedup_key,
                Some(&facts.signature),
                body,
                None,
            );
        }
        Ok(())
    }

    fn cleared(&mut self, cleared: &Cleared) -> io::Result<()> {
        let signature = self.library.signature(cleared.signature);
        let dedup_key = render::dedup_key(&signature.id, &cleared.key);
        for i in 0..self.records.len() {
            let Some(mut record) = self.records[i].remove(&dedup_key) else {
                continue;
            };
            self.changed = true;
            record.last_hit_ms = record.last_hit_ms.max(cleared.last_hit_ms);
            self.resolve(i, &dedup_key, &record);
        }
        Ok(())
    }

    fn present(&mut self, now: Timestamp) {
        self.incident_events();
        self.resolve_restored(now);
        let outputs = Arc::clone(&self.shared.outputs);
        for (i, output) in outputs.iter().enumerate() {
            if output.kind != Kind::Alertmanager
                || self.records[i].is_empty()
                // A backlog holds this alert already: no repeats behind it.
                || self.shared.counters[i].depth.load(Ordering::Relaxed) > 0
            {
                continue;
            }
            let now = Timestamp::now();
            let now_ms = now.as_millisecond();
            let every = i64::try_from(output.resend_every.as_millis()).unwrap_or(i64::MAX);
            let ends = now
                .checked_add(signed(output.resend_every * 4))
                .unwrap_or(now)
                .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string();
            let mut due: Vec<(String, String, Value)> = Vec::new();
            for (key, record) in &mut self.records[i] {
                let mut alerts = Vec::new();
                for r in &mut record.resent {
                    if now_ms.saturating_sub(r.last_sent_ms) >= every {
                        r.last_sent_ms = now_ms;
                        r.body["endsAt"] = ends.clone().into();
                        alerts.push(r.body.clone());
                    }
                }
                if !alerts.is_empty() {
                    due.push((key.clone(), record.signature.clone(), Value::Array(alerts)));
                }
            }
            if !due.is_empty() {
                self.touched = true;
            }
            for (key, signature, body) in due {
                self.enqueue(i, "resend", &key, Some(&signature), body, None);
            }
        }
    }

    fn flush(&mut self, _: &Checkpoint, _: bool) -> io::Result<()> {
        // Once the entries are on disk, the cursors may move past their
        // events.
        let mut cursors = Vec::new();
        for (i, cursor) in self.cursor.iter_mut().enumerate() {
            if let Some((seq, moved @ true)) = cursor {
                *moved = false;
                cursors.push((i, *seq));
            }
        }
        // An alert storm is not written out whole at every delivery: a
        // crash then forgets at most a second of it (Alertmanager resolves
        // those by their `endsAt`; a resolve forgotten is sent again).
        let due = self.saved_at.elapsed() >= SAVE_EVERY;
        let firing = ((self.changed
            && (due || self.records.iter().map(BTreeMap::len).sum::<usize>() <= SAVE_NOW_MAX))
            || (self.touched && due))
            .then(|| self.snapshot());
        if self.unsynced.is_empty() && cursors.is_empty() && firing.is_none() {
            return Ok(());
        }
        let (done, answered) = mpsc::sync_channel(1);
        let barrier = Msg::Barrier {
            outputs: std::mem::take(&mut self.unsynced),
            firing,
            cursors,
            done,
        };
        // (Blocks only when the queue is full, like writing entries here.)
        if let Some(queue) = &self.queue
            && queue.send(barrier).is_ok()
        {
            self.gates.push(Durable(answered));
            Ok(())
        } else {
            // Only a panic ends the writer before the notifier is dropped:
            // `watch` stops with an error rather than page nobody.
            Err(io::Error::other(
                "the outbox's writer thread failed: what fires is not saved",
            ))
        }
    }

    fn durable(&mut self, gates: &mut Vec<Durable>) {
        gates.append(&mut self.gates);
    }
}

impl Drop for Notifier<'_> {
    /// Lets the writer finish what is queued, then tells the senders to
    /// stop (one in the middle of a request is not waited for: its entry
    /// stays in the outbox and goes at the next start).
    fn drop(&mut self) {
        if self.touched || self.changed {
            let firing = Some(self.snapshot());
            let (done, _) = mpsc::sync_channel(1);
            if let Some(queue) = &self.queue {
                let _ = queue.send(Msg::Barrier {
                    outputs: std::mem::take(&mut self.unsynced),
                    firing,
                    cursors: Vec::new(),
                    done,
                });
            }
        }
        self.queue = None;
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("the outbox's writer thread failed: what fires may not be saved");
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
            Msg::Barrier {
                outputs,
                firing,
                cursors,
                done,
            } => {
                for &output in touched.union(&outputs) {
                    if let Err(err) = outbox.sync(&shared.outputs[output].name) {
                        tracing::error!("cannot sync the outbox: {err}");
                    }
                }
                touched.clear();
                if let Some(firing) = firing
                    && let Err(err) = shared.store.save_firing(&firing)
                {
                    tracing::error!("cannot save what is firing: {err}");
                }
                for (output, seq) in cursors {
                    shared.advance(&shared.outputs[output].name, seq);
                }
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
                // Recorded before the entry goes, so a crash in between
                // cannot make its incident event go out again.
                if let Some(journal_seq) = entry.journal_seq {
                    shared.advance(&output.name, journal_seq);
                }
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
