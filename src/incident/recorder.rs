//! Automatic events: what the pipeline's matches, alerts and clearings write
//! on the incident timeline.
//!
//! [`Tracker`] is the pure core (no I/O, no clock: every time is an
//! argument); [`Recorder`] is the thin shell a `watch` (or a one-shot pass,
//! [`record_events`]) drives, which refreshes and appends to the [`Journal`].
//!
//! Must not match, detect or read logs: it is told about matches, alerts and
//! clearings. Must not write one event per log line.
//!
//! Rules:
//! - A firing joins the open incident it belongs to ([`Tracker::incident_for`]:
//!   same signature, same or `related` runbook, same host or file lately, or
//!   a person's fresh declaration); else a signature of severity ≥ high
//!   opens an incident of its own. The decision is taken under the journal
//!   lock on the freshly read journal, so two recorders never open two
//!   incidents for one failure.
//! - `signature.fired` is written once per signature and key (`pool=orders`)
//!   in an incident, and again only after that key cleared. Further alerts and
//!   matching lines are counted and written as one `signature.repeated` per
//!   signature at most every [`REPEAT_EVERY`], and at [`Recorder::finish`].
//! - `signature.cleared` when the detector reports a key quiet for its
//!   `clear_after`; its time is the last hit plus `clear_after`.
//! - Severity is raised (never lowered) when a more severe signature joins,
//!   unless a person set the severity.
//! - **Started** (proposed; a person's `milestone started` overrides it): the
//!   earliest first matching line, within [`LOOKBACK`] before detection, of
//!   the signature that opened the incident and of every *related* signature
//!   whose run of matches is still going on (no gap over [`RUN_GAP`]).
//!   Related means sharing a tag or the runbook with the opening signature
//!   (`postgres-slow-statement` and `jdbc-pool-saturated` are related to
//!   `postgres-connection-slots-exhausted` through `database`). The alerts of
//!   those related signatures join the timeline as early warnings
//!   (`signature.fired` with `precursor: true`, at their own time).
//! - **Detected**: the time of the alert that opened the incident.
//!
//! Per-line cost: [`Recorder::on_match`] finds the signature by address
//! (one subtraction and a length compare) and bumps counters; no allocation,
//! no I/O, no lock. Call it for a line *before* `on_alert` for that line.

use std::collections::HashMap;

use super::{
    event::{AUTOMATIC_ACTOR, Draft, Evidence, JournalEvent, TimeSource},
    journal::{Journal, JournalError},
    payload::{self, Payload},
    state::{Incident, Milestone, Timeline},
};
use crate::{
    library::Library,
    model::{self, Alert, Cleared, Severity, SignatureId},
    signature::Signature,
};
use jiff::{SignedDuration, Timestamp};

/// Matches of one signature further apart than this start a new run.
pub const RUN_GAP: SignedDuration = SignedDuration::from_mins(5);
/// How long before detection an earlier warning may place `started`.
pub const LOOKBACK: SignedDuration = SignedDuration::from_mins(30);
/// At most one `signature.repeated` per signature this often.
pub const REPEAT_EVERY: SignedDuration = SignedDuration::from_secs(60);
/// An alert from a file or host where an open incident's signature was seen
/// this recently joins that incident.
pub const JOIN_WINDOW: SignedDuration = SignedDuration::from_mins(30);

/// The tag a pattern uses to say it is an early warning; not a relation.
const EARLY_WARNING_TAG: &str = "early-warning";

#[derive(Debug)]
struct SigInfo {
    id: String,
    tags: Vec<String>,
    runbook: Option<String>,
    /// The runbooks its runbook names as related.
    related: Vec<String>,
}

/// A run of matches of one signature, and its first alert while no incident
/// was open.
#[derive(Debug, Default)]
struct Run {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    early: Option<(Timestamp, Draft)>,
    /// Matching lines and alerts since the early alert: counted in the
    /// incident if the early warning joins one.
    since_early: (u64, u64),
}

/// Counts not yet written.
#[derive(Debug, Default)]
struct Pending {
    incident: Option<String>,
    matches: u64,
    alerts: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// The first `tick` that saw these counts.
    seen: Option<Timestamp>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.matches == 0 && self.alerts == 0
    }

    fn count(&mut self, at: Timestamp, matches: u64, alerts: u64) {
        self.matches += matches;
        self.alerts += alerts;
        self.first = Some(self.first.map_or(at, |f| f.min(at)));
        self.last = Some(self.last.map_or(at, |l| l.max(at)));
    }
}

/// What to do to the tracker once an alert's drafts are written.
#[derive(Debug)]
enum Effect {
    /// Nothing was written; keep this alert as an early warning.
    Early(usize, Timestamp, Box<Draft>),
    /// Counted in an incident where it already fired.
    Aggregated(usize, String, Timestamp),
    /// Written; these early warnings were used, and the signature's pending
    /// counts were flushed.
    Written {
        used: Vec<usize>,
        flushed: usize,
        incident: String,
    },
    /// Nothing to do.
    None,
}

/// The pure core of the recorder.
#[derive(Debug)]
pub struct Tracker {
    infos: Vec<SigInfo>,
    by_id: HashMap<String, usize>,
    runs: Vec<Run>,
    pending: Vec<Pending>,
    /// Per signature: the latest open incident it fired in, which its
    /// matching lines count towards.
    joined: Vec<Option<String>>,
}

/// `pool=orders, host=db-1`; empty for a signature without key.
pub fn key_text(key: &[(String, String)]) -> String {
    key.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn evidence_of(found: &Alert) -> Evidence {
    Evidence {
        source: found.event.source.to_string(),
        offset: found.event.offset,
        line_no: found.event.line_no,
        line: found.event.text.clone(),
    }
}

/// A log's time when the event has one (its own or its source's nearest
/// earlier one), else the clock's: the alert's time is when it fired.
fn time_source(found: &Alert) -> TimeSource {
    if found.time.is_some() {
        TimeSource::Log
    } else {
        TimeSource::Clock
    }
}

/// "5m", "90s", "2h": a short duration for summaries.
pub fn short_duration(d: SignedDuration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s != 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s != 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

impl Tracker {
    /// A tracker for the signatures of `library`.
    pub fn new(library: &Library) -> Tracker {
        let infos: Vec<SigInfo> = library
            .signatures
            .iter()
            .map(|s| SigInfo {
                id: s.id.clone(),
                tags: s
                    .tags
                    .iter()
                    .filter(|t| *t != EARLY_WARNING_TAG)
                    .cloned()
                    .collect(),
                runbook: s.runbook.as_ref().map(|(id, _)| id.clone()),
                related: library
                    .runbook_of(s)
                    .map(|r| r.related.iter().map(|(id, _)| id.clone()).collect())
                    .unwrap_or_default(),
            })
            .collect();
        let n = infos.len();
        Tracker {
            by_id: infos
                .iter()
                .enumerate()
                .map(|(i, s)| (s.id.clone(), i))
                .collect(),
            infos,
            runs: (0..n).map(|_| Run::default()).collect(),
            pending: (0..n).map(|_| Pending::default()).collect(),
            joined: vec![None; n],
        }
    }

    /// The index of a signature of the library this tracker was made for.
    pub fn index_of(&self, signature: &Signature) -> Option<usize> {
        self.by_id.get(&signature.id).copied()
    }

    fn touch(&mut self, i: usize, at: Timestamp) {
        let run = &mut self.runs[i];
        match (run.first, run.last) {
            (Some(first), Some(last)) if at.duration_since(last) <= RUN_GAP => {
                run.first = Some(first.min(at));
                run.last = Some(last.max(at));
            }
            _ => {
                *run = Run {
                    first: Some(at),
                    last: Some(at),
                    ..Run::default()
                };
            }
        }
    }

    /// A matching line of signature `i` at `at`.
    pub fn on_match(&mut self, i: usize, at: Timestamp) {
        self.touch(i, at);
        if self.runs[i].early.is_some() {
            self.runs[i].since_early.0 += 1;
        }
        if let Some(incident) = &self.joined[i] {
            let pending = &mut self.pending[i];
            if pending.incident.is_none() {
                pending.incident = Some(incident.clone());
            }
            pending.count(at, 1, 0);
        }
    }

    /// Recomputes which open incident each signature counts towards.
    pub fn sync(&mut self, timeline: &Timeline) {
        for (i, info) in self.infos.iter().enumerate() {
            self.joined[i] = timeline
                .incidents()
                .iter()
                .rev()
                .find(|inc| inc.is_open() && inc.signature(&info.id).is_some())
                .map(|inc| inc.id.clone());
        }
    }

    /// The open incident an alert of signature `i` joins: the most recently
    /// opened one it belongs to — it already has the signature; a person
    /// declared it and nothing fired in it yet; one of its signatures has the
    /// same runbook, or a runbook that names this one's as related (or is
    /// named by it); or one of its signatures was seen on the same host (in
    /// the same file, when a line names no host) within [`JOIN_WINDOW`].
    /// Tags alone do not join: `linux` or `kubernetes` name a platform, not
    /// a failure. `None`: the alert is about something else.
    pub fn incident_for<'t>(
        &self,
        timeline: &'t Timeline,
        i: usize,
        found: &Alert,
    ) -> Option<&'t Incident> {
        let id = &self.infos[i].id;
        let host = found.event.fields.get("host");
        timeline.incidents().iter().rev().find(|inc| {
            inc.is_open()
                && (inc.signature(id).is_some()
                    || (inc.declared && inc.signatures.is_empty())
                    || inc.signatures.iter().any(|s| {
                        self.by_id
                            .get(&s.id)
                            .is_some_and(|&j| j != i && self.linked(i, j))
                    })
                    || inc.seen_near(&found.event.source, host, found.at, JOIN_WINDOW))
        })
    }

    /// Whether signature `b` may be an early warning of `a`: they share a
    /// tag or are [`Tracker::linked`].
    fn related(&self, a: usize, b: usize) -> bool {
        self.linked(a, b)
            || self.infos[a]
                .tags
                .iter()
                .any(|t| self.infos[b].tags.contains(t))
    }

    /// Whether signatures `a` and `b` are about one failure wherever they
    /// fire: the same runbook, or one's runbook names the other's as
    /// related.
    fn linked(&self, a: usize, b: usize) -> bool {
        let (a, b) = (&self.infos[a], &self.infos[b]);
        let names = |x: &SigInfo, y: &SigInfo| {
            y.runbook
                .as_ref()
                .is_some_and(|r| x.related.iter().any(|n| n == r))
        };
        (a.runbook.is_some() && a.runbook == b.runbook) || names(a, b) || names(b, a)
    }

    fn fired_draft(found: &Alert, library: &Library, precursor: bool) -> Draft {
        let signature = library.signature(found.signature);
        let key = key_text(&found.key);
        let mut summary = if precursor {
            format!("Early warning: {}", signature.title)
        } else {
            signature.title.clone()
        };
        if !key.is_empty() {
            summary.push_str(&format!(" ({key})"));
        }
        let runbook = library.runbook_of(signature);
        Draft::new(
            "",
            Payload::SignatureFired(payload::Fired {
                signature: signature.id.clone(),
                title: signature.title.clone(),
                severity: signature.severity,
                runbook: runbook.map(|r| r.id.clone()),
                runbook_title: runbook.map(|r| r.title.clone()),
                key,
                hits: found.hits,
                suppressed: found.suppressed,
                captures: found.captures.clone(),
                precursor,
                host: found.event.fields.get("host").map(|h| h.to_string()),
            }),
            found.at,
            time_source(found),
            AUTOMATIC_ACTOR,
            summary,
        )
        .evidence(Some(evidence_of(found)))
    }

    /// The `started` proposal and the early warnings to add, for an incident
    /// first detected by signature `i` at `at`.
    fn started(&self, incident: &str, i: usize, found: &Alert) -> (Draft, Vec<(usize, Draft)>) {
        let at = found.at;
        let floor = at.checked_sub(LOOKBACK).unwrap_or(Timestamp::MIN);
        let own = self.runs[i].first.filter(|f| *f >= floor && *f <= at);
        let mut best = (own.unwrap_or(at), i);
        let mut early = Vec::new();
        for j in 0..self.infos.len() {
            if j == i || !self.related(i, j) {
                continue;
            }
            let run = &self.runs[j];
            let (Some(first), Some(last)) = (run.first, run.last) else {
                continue;
            };
            if first < floor || first > at || at.duration_since(last) > RUN_GAP {
                continue;
            }
            if first < best.0 {
                best = (first, j);
            }
            if let Some((t, draft)) = &run.early
                && *t >= floor
                && *t <= at
            {
                let mut draft = draft.clone();
                draft.incident = incident.to_owned();
                early.push((j, draft));
            }
        }
        early.sort_by_key(|(_, d)| d.occurred_at);
        let (time, j) = best;
        let evidence = if j == i && time == at {
            Some(evidence_of(found))
        } else {
            early
                .iter()
                .find(|(k, d)| *k == j && d.occurred_at == time)
                .and_then(|(_, d)| d.evidence.clone())
        };
        let id = &self.infos[j].id;
        let draft = Draft::new(
            incident,
            Payload::MilestoneSet(payload::MilestoneSet {
                milestone: Milestone::Started,
                proposed: true,
                signature: Some(id.clone()),
                rule: Some(
                    "earliest first matching line, within 30m before detection, of the detecting signature or a related one still matching"
                        .to_owned(),
                ),
                cleared: false,
                implied: false,
            }),
            time,
            TimeSource::Log,
            AUTOMATIC_ACTOR,
            format!("Started (proposed): first matching line of {id}"),
        )
        .evidence(evidence);
        (draft, early)
    }

    fn repeated_draft(&self, i: usize) -> Option<Draft> {
        let pending = &self.pending[i];
        if pending.is_empty() {
            return None;
        }
        let (first, last) = (pending.first?, pending.last?);
        let incident = pending.incident.as_deref()?;
        let id = &self.infos[i].id;
        let mut parts = Vec::new();
        if pending.matches > 0 {
            parts.push(plural(
                pending.matches,
                "more matching line",
                "more matching lines",
            ));
        }
        if pending.alerts > 0 {
            parts.push(plural(pending.alerts, "more alert", "more alerts"));
        }
        Some(Draft::new(
            incident,
            Payload::SignatureRepeated(payload::Repeated {
                signature: id.clone(),
                matches: pending.matches,
                alerts: pending.alerts,
                from: first,
                to: last,
            }),
            last,
            TimeSource::Log,
            AUTOMATIC_ACTOR,
            format!("{id}: {}", parts.join(", ")),
        ))
    }

    /// Decides what an alert writes, on the fresh state `timeline`.
    fn plan_alert(
        &self,
        timeline: &Timeline,
        i: usize,
        found: &Alert,
        library: &Library,
    ) -> (Vec<Draft>, Effect) {
        let signature = library.signature(found.signature);
        let key = key_text(&found.key);
        let Some(open) = self.incident_for(timeline, i, found) else {
            if signature.severity < Severity::High {
                return (
                    Vec::new(),
                    Effect::Early(
                        i,
                        found.at,
                        Box::new(Self::fired_draft(found, library, true)),
                    ),
                );
            }
            return self.open_incident(timeline, i, found, library);
        };
        if open.is_active(&signature.id, &key) {
            return (Vec::new(), Effect::Aggregated(i, open.id.clone(), found.at));
        }
        let mut drafts = Vec::new();
        let mut flushed = usize::MAX;
        if self.pending[i].incident.as_deref() != Some(open.id.as_str())
            && let Some(draft) = self.repeated_draft(i)
        {
            drafts.push(draft);
            flushed = i;
        }
        let mut used = Vec::new();
        if open.milestone(Milestone::Started).is_none() && open.signatures.is_empty() {
            let (started, early) = self.started(&open.id, i, found);
            drafts.push(started);
            for (j, draft) in early {
                used.push(j);
                drafts.push(draft);
            }
        }
        if signature.severity > open.severity && !open.severity_by_operator {
            drafts.push(severity_raised(open, signature, found));
        }
        let mut fired = Self::fired_draft(found, library, false);
        fired.incident.clone_from(&open.id);
        drafts.push(fired);
        let incident = open.id.clone();
        (
            drafts,
            Effect::Written {
                used,
                flushed,
                incident,
            },
        )
    }

    fn open_incident(
        &self,
        timeline: &Timeline,
        i: usize,
        found: &Alert,
        library: &Library,
    ) -> (Vec<Draft>, Effect) {
        let signature = library.signature(found.signature);
        let id = timeline.next_incident_id();
        let source = time_source(found);
        let mut drafts = vec![Draft::new(
            &id,
            Payload::IncidentOpened(payload::Opened {
                title: signature.title.clone(),
                severity: signature.severity,
                signature: Some(signature.id.clone()),
                declared: false,
                severity_given: None,
                split_from: None,
            }),
            found.at,
            source,
            AUTOMATIC_ACTOR,
            format!("Incident opened: {}", signature.title),
        )];
        let (started, early) = self.started(&id, i, found);
        drafts.push(started);
        drafts.push(Draft::new(
            &id,
            Payload::MilestoneSet(payload::MilestoneSet {
                milestone: Milestone::Detected,
                proposed: false,
                signature: Some(signature.id.clone()),
                rule: None,
                cleared: false,
                implied: false,
            }),
            found.at,
            source,
            AUTOMATIC_ACTOR,
            format!("Detected: {} fired", signature.id),
        ));
        let mut used = Vec::new();
        for (j, draft) in early {
            used.push(j);
            drafts.push(draft);
        }
        let mut fired = Self::fired_draft(found, library, false).pinned(true);
        fired.incident.clone_from(&id);
        drafts.push(fired);
        (
            drafts,
            Effect::Written {
                used,
                flushed: usize::MAX,
                incident: id,
            },
        )
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Early(i, at, draft) => {
                let run = &mut self.runs[i];
                if run.early.is_none() {
                    run.early = Some((at, *draft));
                } else {
                    run.since_early.1 += 1;
                }
            }
            Effect::Aggregated(i, incident, at) => {
                let pending = &mut self.pending[i];
                if pending.incident.is_none() {
                    pending.incident = Some(incident);
                }
                pending.count(at, 0, 1);
            }
            Effect::Written {
                used,
                flushed,
                incident,
            } => {
                if let Some(pending) = self.pending.get_mut(flushed) {
                    *pending = Pending::default();
                }
                // What an early warning did before it joined, counted in
                // the incident it joined.
                for j in used {
                    let run = &mut self.runs[j];
                    let (matches, alerts) = std::mem::take(&mut run.since_early);
                    if run.early.take().is_some()
                        && let Some(last) = run.last
                        && matches + alerts > 0
                    {
                        let pending = &mut self.pending[j];
                        if pending.incident.is_none() {
                            pending.incident = Some(incident.clone());
                        }
                        pending.count(last, matches, alerts);
                    }
                }
            }
            Effect::None => {}
        }
    }

    /// Signatures whose counts are due at `now` (at least [`REPEAT_EVERY`]
    /// after a tick first saw them), or all with counts when `all`.
    fn due(&mut self, now: Timestamp, all: bool) -> Vec<usize> {
        let mut due = Vec::new();
        for (i, pending) in self.pending.iter_mut().enumerate() {
            if pending.is_empty() {
                continue;
            }
            let seen = *pending.seen.get_or_insert(now);
            if all || now.duration_since(seen) >= REPEAT_EVERY {
                due.push(i);
            }
        }
        due
    }

    fn plan_cleared(
        &self,
        timeline: &Timeline,
        i: usize,
        cleared: &Cleared,
        clear_after: SignedDuration,
    ) -> (Vec<Draft>, Effect) {
        let id = &self.infos[i].id;
        let key = key_text(&cleared.key);
        let Some(incident) = timeline
            .incidents()
            .iter()
            .rev()
            .find(|inc| inc.is_active(id, &key))
        else {
            return (Vec::new(), Effect::None);
        };
        let Ok(last_seen) = Timestamp::from_millisecond(cleared.last_hit_ms) else {
            return (Vec::new(), Effect::None);
        };
        let mut drafts = Vec::new();
        let mut flushed = usize::MAX;
        if let Some(draft) = self.repeated_draft(i) {
            drafts.push(draft);
            flushed = i;
        }
        let label = if key.is_empty() {
            id.clone()
        } else {
            format!("{id} ({key})")
        };
        drafts.push(Draft::new(
            &incident.id,
            Payload::SignatureCleared(payload::Cleared {
                signature: id.clone(),
                key,
                last_seen,
                clear_after: short_duration(clear_after),
            }),
            last_seen.checked_add(clear_after).unwrap_or(Timestamp::MAX),
            TimeSource::Log,
            AUTOMATIC_ACTOR,
            format!("{label} cleared: quiet for {}", short_duration(clear_after)),
        ));
        (
            drafts,
            Effect::Written {
                used: Vec::new(),
                flushed,
                incident: incident.id.clone(),
            },
        )
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn severity_raised(open: &Incident, signature: &Signature, found: &Alert) -> Draft {
    Draft::new(
        &open.id,
        Payload::SeverityChanged(payload::SeverityChange {
            from: open.severity,
            to: signature.severity,
            signature: Some(signature.id.clone()),
        }),
        found.at,
        time_source(found),
        AUTOMATIC_ACTOR,
        format!(
            "Severity {} → {} ({} fired)",
            open.severity, signature.severity, signature.id
        ),
    )
}

/// Records automatic events in a journal, as the pipeline reports them.
#[derive(Debug)]
pub struct Recorder {
    journal: Journal,
    tracker: Tracker,
    clock: fn() -> Timestamp,
}

impl Recorder {
    /// A recorder for the signatures of `library` writing to `journal`.
    pub fn new(journal: Journal, library: &Library) -> Recorder {
        let mut tracker = Tracker::new(library);
        tracker.sync(journal.timeline());
        Recorder {
            journal,
            tracker,
            clock: Timestamp::now,
        }
    }

    /// Uses `clock` for `recorded_at` instead of the system clock (tests).
    pub fn with_clock(mut self, clock: fn() -> Timestamp) -> Recorder {
        self.clock = clock;
        self
    }

    /// The journal, as of the last read or write.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// A line matched signature `id` at `at`. Counting only: no I/O.
    pub fn on_match(&mut self, id: SignatureId, at: Timestamp) {
        if id.0 < self.tracker.infos.len() {
            self.tracker.on_match(id.0, at);
        }
    }

    /// `found` fired. Writes `incident.opened`, `signature.fired` and the
    /// rest when that is news; otherwise only counts. Returns what it wrote.
    pub fn on_alert(
        &mut self,
        found: &Alert,
        library: &Library,
    ) -> Result<Vec<JournalEvent>, JournalError> {
        let i = found.signature.0;
        if i >= self.tracker.infos.len() {
            return Ok(Vec::new());
        }
        self.tracker.touch(i, found.at);
        self.journal.refresh()?;
        self.tracker.sync(self.journal.timeline());
        // The common case, decided without the lock: it already fired here.
        if let Some(open) = self.tracker.incident_for(self.journal.timeline(), i, found)
            && open.is_active(&self.tracker.infos[i].id, &key_text(&found.key))
        {
            let incident = open.id.clone();
            self.tracker
                .apply(Effect::Aggregated(i, incident, found.at));
            return Ok(Vec::new());
        }
        let mut effect = Effect::None;
        let tracker = &self.tracker;
        let written = self.journal.append((self.clock)(), |timeline| {
            let (drafts, planned) = tracker.plan_alert(timeline, i, found, library);
            effect = planned;
            Ok::<_, JournalError>(drafts)
        })?;
        self.tracker.apply(effect);
        self.tracker.sync(self.journal.timeline());
        Ok(written)
    }

    /// The detector found `signature` quiet (for `cleared.key`) for its
    /// `clear_after`. Writes `signature.cleared` when it had fired in an
    /// incident.
    pub fn on_cleared(
        &mut self,
        cleared: &Cleared,
        library: &Library,
    ) -> Result<Vec<JournalEvent>, JournalError> {
        let i = cleared.signature.0;
        if i >= self.tracker.infos.len() {
            return Ok(Vec::new());
        }
        let clear_after = library
            .signature(cleared.signature)
            .clear_after
            .and_then(|d| SignedDuration::try_from(d).ok())
            .unwrap_or(SignedDuration::ZERO);
        let mut effect = Effect::None;
        let tracker = &self.tracker;
        let written = self.journal.append((self.clock)(), |timeline| {
            let (drafts, planned) = tracker.plan_cleared(timeline, i, cleared, clear_after);
            effect = planned;
            Ok::<_, JournalError>(drafts)
        })?;
        self.tracker.apply(effect);
        self.tracker.sync(self.journal.timeline());
        Ok(written)
    }

    /// Call about once a second (`now` in the same time as the lines': the
    /// clock when following live, the log's time in a one-shot pass). Reads
    /// what others appended, and writes the `signature.repeated` counts that
    /// are due.
    pub fn tick(&mut self, now: Timestamp) -> Result<Vec<JournalEvent>, JournalError> {
        self.flush(now, false)
    }

    /// Writes every count not yet written (at shutdown, or the end of a pass).
    pub fn finish(&mut self, now: Timestamp) -> Result<Vec<JournalEvent>, JournalError> {
        self.flush(now, true)
    }

    fn flush(&mut self, now: Timestamp, all: bool) -> Result<Vec<JournalEvent>, JournalError> {
        self.journal.refresh()?;
        self.tracker.sync(self.journal.timeline());
        let due = self.tracker.due(now, all);
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let drafts: Vec<Draft> = due
            .iter()
            .filter_map(|&i| self.tracker.repeated_draft(i))
            .collect();
        let written = self
            .journal
            .append((self.clock)(), |_| Ok::<_, JournalError>(drafts))?;
        for i in due {
            self.tracker.pending[i] = Pending::default();
        }
        Ok(written)
    }
}

/// A one-shot pass: feeds time-ordered `(event, time)` pairs through
/// matching and detection into `recorder`, ticking on the events' own time
/// (so an old log gives the timeline it would have given live), then
/// finishes. The same wiring `watch` does live, for scans and tests.
pub fn record_events(
    recorder: &mut Recorder,
    library: &Library,
    events: impl IntoIterator<Item = (model::Event, Timestamp)>,
) -> Result<Option<Timestamp>, JournalError> {
    let mut engine = library.engine();
    let mut last_tick: Option<Timestamp> = None;
    let mut end = None;
    let mut alerts = Vec::new();
    for (event, at) in events {
        end = Some(end.map_or(at, |e: Timestamp| e.max(at)));
        if last_tick.is_none_or(|t| at.duration_since(t) >= SignedDuration::from_secs(1)) {
            for cleared in engine.clear_due(at) {
                recorder.on_cleared(&cleared, library)?;
            }
            recorder.tick(at)?;
            last_tick = Some(at);
        }
        let _ = engine.process(&event, at, &mut |alert| {
            alerts.push(alert);
            Ok(())
        });
        for &id in engine.matched() {
            recorder.on_match(id, at);
        }
        for alert in alerts.drain(..) {
            recorder.on_alert(&alert, library)?;
        }
    }
    if let Some(end) = end {
        recorder.finish(end)?;
    }
    Ok(end)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use jiff::tz::TimeZone;

    use super::*;
    use crate::{
        config::Config,
        demo,
        incident::event::tests::ts,
        scan::Scanner,
        tail::{read::Input, split::DEFAULT_MAX_LINE},
    };

    fn recorded_at() -> Timestamp {
        ts("2026-11-21T04:00:00Z")
    }

    /// Writes the demo's logs to `dir` and records them into `data` in one
    /// pass, the way `watch` would have live.
    pub(crate) fn record_demo(dir: &Path, data: &Path) -> Journal {
        // Problems in the library are `check`'s tests' to report.
        let (library, _) = Library::load(&[], &[]);
        let start = demo::default_start();
        let files = demo::write_all(dir, 1, start).expect("demo written");
        let config = Config::default();
        let now = start + SignedDuration::from_hours(24);
        let scanner = Scanner::new(&library, &config, TimeZone::UTC, DEFAULT_MAX_LINE, now);
        let mut events = Vec::new();
        for file in &files {
            scanner
                .events(&Input::Path(file.clone()), &mut |e, at| {
                    events.push((e, at.expect("the demo's lines have times")));
                })
                .expect("reads");
        }
        events.sort_by_key(|(_, at)| *at);
        let journal = Journal::open(data).expect("opens");
        let mut recorder = Recorder::new(journal, &library).with_clock(recorded_at);
        record_events(&mut recorder, &library, events).expect("records");
        Journal::open(data).expect("reopens")
    }

    fn library() -> Library {
        // Problems in the library are `check`'s tests' to report.
        let (library, _) = Library::load(&[], &[]);
        library
    }

    fn found(library: &Library, id: &str, at: &str, line_no: u64) -> Alert {
        let signature = library
            .signatures
            .iter()
            .position(|s| s.id == id)
            .expect("shipped signature");
        Alert {
            signature: SignatureId(signature),
            event: model::Event {
                source: "db.log".into(),
                offset: line_no * 100,
                line_no,
                ts: Some(ts(at)),
                level: None,
                message: 0,
                text: format!("line {line_no} of {id}"),
                lossy: false,
                truncated: false,
                partial: false,
                fields: Default::default(),
                lines: 1,
            },
            captures: Vec::new(),
            hits: 1,
            suppressed: 0,
            key: Vec::new(),
            time: Some(ts(at)),
            at: ts(at),
        }
    }

    fn recorder(dir: &Path, library: &Library) -> Recorder {
        Recorder::new(Journal::open(dir).expect("opens"), library).with_clock(recorded_at)
    }

    fn kinds(journal: &Journal) -> Vec<&'static str> {
        journal
            .timeline()
            .events()
            .iter()
            .map(|e| e.kind.as_str())
            .collect()
    }

    #[test]
    fn low_alerts_alone_open_nothing_and_a_high_one_brings_them_along() {
        let lib = library();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut rec = recorder(dir.path(), &lib);
        let slow = found(&lib, "postgres-slow-statement", "2026-11-21T03:00:00Z", 1);
        rec.on_match(slow.signature, slow.at);
        assert!(rec.on_alert(&slow, &lib).expect("ok").is_empty());
        // Unrelated (no shared tag or runbook): not an early warning.
        let disk = found(&lib, "http-5xx", "2026-11-21T03:01:00Z", 2);
        rec.on_match(disk.signature, disk.at);
        assert!(rec.on_alert(&disk, &lib).expect("ok").is_empty());
        for i in 0..3 {
            rec.on_match(
                slow.signature,
                ts("2026-11-21T03:02:00Z") + SignedDuration::from_secs(i),
            );
        }
        let full = found(
            &lib,
            "postgres-connection-slots-exhausted",
            "2026-11-21T03:05:00Z",
            3,
        );
        rec.on_match(full.signature, full.at);
        let written = rec.on_alert(&full, &lib).expect("ok");
        let kinds: Vec<&str> = written.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "incident.opened",
                "milestone.set",
                "milestone.set",
                "signature.fired",
                "signature.fired"
            ]
        );
        assert!(matches!(written[3].payload(), Payload::SignatureFired(f) if f.precursor));
        assert_eq!(written[3].occurred_at, ts("2026-11-21T03:00:00Z"));
        assert!(written[4].pinned, "the opening alert is pinned");
        let inc = rec.journal().timeline().latest_open().expect("open");
        assert_eq!(
            inc.milestone(Milestone::Started).map(|m| m.at),
            Some(ts("2026-11-21T03:00:00Z"))
        );
        // The early warning's lines since its alert are counted in the incident.
        rec.finish(ts("2026-11-21T03:06:00Z")).expect("ok");
        let inc = rec.journal().timeline().latest_open().expect("open");
        let slow = inc.signature("postgres-slow-statement").expect("joined");
        assert_eq!((slow.matches, slow.alerts), (4, 1));
        assert!(inc.signature("http-5xx").is_none());
    }

    #[test]
    fn repeated_firings_are_counted_at_most_once_a_minute() {
        let lib = library();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut rec = recorder(dir.path(), &lib);
        let start = ts("2026-11-21T03:00:00Z");
        let first = found(&lib, "linux-oom-killer", "2026-11-21T03:00:00Z", 1);
        rec.on_match(first.signature, first.at);
        rec.on_alert(&first, &lib).expect("ok");
        // 600 kills, one a second, each an alert (no suppression): ten
        // minutes of them, ticked every second.
        for i in 1..600 {
            let at = start + SignedDuration::from_secs(i);
            let mut f = found(
                &lib,
                "linux-oom-killer",
                "2026-11-21T03:00:00Z",
                1 + i as u64,
            );
            f.at = at;
            rec.on_match(f.signature, at);
            rec.on_alert(&f, &lib).expect("ok");
            rec.tick(at).expect("ok");
        }
        rec.finish(start + SignedDuration::from_secs(600))
            .expect("ok");
        let journal = rec.journal();
        let repeated = kinds(journal)
            .iter()
            .filter(|k| **k == "signature.repeated")
            .count();
        assert!(
            (9..=11).contains(&repeated),
            "{repeated} counts for ten minutes"
        );
        let inc = journal.timeline().latest().expect("incident");
        let stats = inc.signature("linux-oom-killer").expect("fired");
        assert_eq!((stats.fired, stats.alerts, stats.matches), (1, 600, 600));
    }

    #[test]
    fn two_recorders_open_one_incident() {
        let lib = library();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut a = recorder(dir.path(), &lib);
        let mut b = recorder(dir.path(), &lib);
        let f = found(
            &lib,
            "postgres-connection-slots-exhausted",
            "2026-11-21T03:05:00Z",
            1,
        );
        let g = found(&lib, "jvm-heap-oom", "2026-11-21T03:05:01Z", 2);
        a.on_alert(&f, &lib).expect("ok");
        b.on_alert(&g, &lib).expect("ok");
        b.on_alert(&f, &lib).expect("ok");
        let journal = Journal::open(dir.path()).expect("opens");
        assert_eq!(journal.timeline().incidents().len(), 1);
        let fired = kinds(&journal)
            .iter()
            .filter(|k| **k == "signature.fired")
            .count();
        assert_eq!(fired, 2, "the second recorder saw the first one's firing");
    }

    #[test]
    fn a_declared_incident_is_joined_and_severity_rises_unless_set_by_a_person() {
        let lib = library();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        journal
            .append::<JournalError>(recorded_at(), |_| {
                Ok(vec![Draft::new(
                    "INC-1",
                    Payload::IncidentOpened(payload::Opened {
                        title: "declared".into(),
                        severity: Severity::Medium,
                        signature: None,
                        declared: true,
                        severity_given: Some(false),
                        split_from: None,
                    }),
                    ts("2026-11-21T03:00:00Z"),
                    TimeSource::Clock,
                    "alice",
                    "declared",
                )])
            })
            .expect("declared");
        let mut rec = Recorder::new(journal, &lib).with_clock(recorded_at);
        let f = found(&lib, "jvm-heap-oom", "2026-11-21T03:05:00Z", 1);
        rec.on_match(f.signature, f.at);
        let written = rec.on_alert(&f, &lib).expect("ok");
        let kinds: Vec<&str> = written.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["milestone.set", "severity.changed", "signature.fired"]
        );
        let inc = rec.journal().timeline().latest_open().expect("open");
        assert_eq!(
            (inc.id.as_str(), inc.severity),
            ("INC-1", Severity::Critical)
        );

        // A person's severity stands.
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        journal
            .append::<JournalError>(recorded_at(), |_| {
                Ok(vec![Draft::new(
                    "INC-1",
                    Payload::IncidentOpened(payload::Opened {
                        title: "declared".into(),
                        severity: Severity::Medium,
                        signature: None,
                        declared: true,
                        severity_given: Some(true),
                        split_from: None,
                    }),
                    ts("2026-11-21T03:00:00Z"),
                    TimeSource::Clock,
                    "alice",
                    "declared",
                )])
            })
            .expect("declared");
        let mut rec = Recorder::new(journal, &lib).with_clock(recorded_at);
        rec.on_alert(&f, &lib).expect("ok");
        let inc = rec.journal().timeline().latest_open().expect("open");
        assert_eq!(inc.severity, Severity::Medium);
    }

    #[test]
    fn signatures_are_found_by_address_or_by_id() {
        let lib = library();
        let tracker = Tracker::new(&lib);
        for (i, s) in lib.signatures.iter().enumerate() {
            assert_eq!(tracker.index_of(s), Some(i));
        }
        let other = library();
        assert_eq!(tracker.index_of(&other.signatures[3]), Some(3));
    }

    #[test]
    fn the_demo_opens_one_incident_with_its_early_warnings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = record_demo(&dir.path().join("logs"), &dir.path().join("data"));
        let tl = journal.timeline();
        assert_eq!(tl.incidents().len(), 1);
        let inc = &tl.incidents()[0];
        assert_eq!(
            inc.cause.as_deref(),
            Some("postgres-connection-slots-exhausted")
        );
        assert_eq!(inc.opened_at, ts("2026-11-21T03:06:06.071Z"));
        let started = inc.milestone(Milestone::Started).expect("proposed");
        assert!(started.proposed);
        assert_eq!(started.at, ts("2026-11-21T03:04:31.474Z"));
        assert!(
            started.basis.contains("postgres-slow-statement"),
            "{}",
            started.basis
        );
        let detected = inc.milestone(Milestone::Detected).expect("detected");
        assert_eq!(detected.at, inc.opened_at);
        let early: Vec<&str> = inc
            .signatures
            .iter()
            .filter(|s| s.precursor)
            .map(|s| s.id.as_str())
            .collect();
        for expected in ["postgres-slow-statement", "jdbc-pool-saturated"] {
            assert!(early.contains(&expected), "{early:?}");
        }
        assert!(
            tl.events().len() < 150,
            "aggregated: {} events",
            tl.events().len()
        );

        // The counts are those of a scan of the same lines merged by time.
        let (library, _) = Library::load(&[], &[]);
        let config = Config::default();
        let logs = dir.path().join("logs");
        let now = demo::default_start() + SignedDuration::from_hours(24);
        let mut scanner = Scanner::new(&library, &config, TimeZone::UTC, DEFAULT_MAX_LINE, now);
        let mut events = Vec::new();
        for file in demo::FILES {
            scanner
                .events(&Input::Path(logs.join(file)), &mut |e, at| {
                    events.push((e, at.expect("the demo's lines have times")));
                })
                .expect("reads");
        }
        events.sort_by_key(|(_, at)| *at);
        for (event, at) in events {
            scanner
                .process(&event, at, &mut |_| Ok(()))
                .expect("no output");
        }
        for (signature, tally) in scanner.tallies().filter(|(_, t)| t.matches > 0) {
            let stats = inc
                .signature(&signature.id)
                .expect("every signature joined");
            assert_eq!(
                (stats.matches, stats.alerts),
                (tally.matches, tally.alerts),
                "{}",
                signature.id
            );
        }
        // At most one count per signature per minute of log time.
        for stats in &inc.signatures {
            let counts: Vec<&JournalEvent> = tl
                .events()
                .iter()
                .filter(|e| {
                    matches!(e.payload(), Payload::SignatureRepeated(r) if r.signature == stats.id)
                })
                .collect();
            let span = stats.last_seen.duration_since(stats.first_fired).as_secs() / 60;
            assert!(
                counts.len() as i64 <= span + 2,
                "{}: {} counts",
                stats.id,
                counts.len()
            );
        }
    }
}
