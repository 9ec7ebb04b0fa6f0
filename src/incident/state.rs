//! The fold: journal events in, the state of every incident out (status,
//! severity, milestones, TTD/TTA/TTM/TTR, signatures with counts, runbook
//! step progress, responders, the effective time and pin of each event).
//!
//! Pure: no I/O and no clock; where a figure depends on the present (how long
//! an open incident has lasted) "now" is an argument. Events are applied one
//! at a time in journal order, so a reader can fold new lines as they arrive.
//!
//! Rules (the journal is append-only, so every edit is a later event):
//! - A milestone is the latest `milestone.set` for it; a value set by a person
//!   beats a value proposed by triage, whatever their order. `cleared: true`
//!   unsets it (a re-opened incident is no longer resolved).
//! - `event.time_set` replaces the effective `occurred_at` of its target (and
//!   so of a milestone set by that target, of the incident's opening when it
//!   targets `incident.opened`, of its end when it targets the merge that
//!   closed it); `event.pinned`/`event.unpinned` change its pin. The
//!   target's line never changes.
//! - TTD = detected − started, TTA = acknowledged − detected,
//!   TTM = mitigated − started, TTR = resolved − started.

use std::{collections::HashMap, fmt, str::FromStr};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{
    event::{AUTOMATIC_ACTOR, JournalEvent, Kind, TimeSource},
    payload::{self, Payload},
};
use crate::model::Severity;

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being worked on.
    Investigating,
    /// The impact is contained; the cause may still be there.
    Mitigated,
    /// Over.
    Resolved,
}

impl Status {
    /// The name used in the journal and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Investigating => "investigating",
            Status::Mitigated => "mitigated",
            Status::Resolved => "resolved",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Status {
    type Err = ();

    fn from_str(s: &str) -> Result<Status, ()> {
        [Status::Investigating, Status::Mitigated, Status::Resolved]
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or(())
    }
}

/// The five moments an incident is measured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Milestone {
    /// The failure began (proposed from the first matching line).
    Started,
    /// The first signature fired (or a person declared the incident).
    Detected,
    /// A person acknowledged.
    Acknowledged,
    /// The impact was contained.
    Mitigated,
    /// It was over.
    Resolved,
}

impl Milestone {
    /// Every milestone, in the order they normally happen.
    pub const ALL: [Milestone; 5] = [
        Milestone::Started,
        Milestone::Detected,
        Milestone::Acknowledged,
        Milestone::Mitigated,
        Milestone::Resolved,
    ];

    /// The name used in the journal and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Milestone::Started => "started",
            Milestone::Detected => "detected",
            Milestone::Acknowledged => "acknowledged",
            Milestone::Mitigated => "mitigated",
            Milestone::Resolved => "resolved",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Milestone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Milestone {
    type Err = ();

    fn from_str(s: &str) -> Result<Milestone, ()> {
        Milestone::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or(())
    }
}

/// What became of a runbook step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    /// Someone is on it.
    Started,
    /// Done.
    Done,
    /// Deliberately not done.
    Skipped,
}

impl StepState {
    /// The name used on the command line and in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Started => "started",
            StepState::Done => "done",
            StepState::Skipped => "skipped",
        }
    }

    /// The event kind that records it.
    pub fn kind(self) -> Kind {
        match self {
            StepState::Started => Kind::StepStarted,
            StepState::Done => Kind::StepDone,
            StepState::Skipped => Kind::StepSkipped,
        }
    }
}

/// One event of an incident with its effective time and pin.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Index of the event in [`Timeline::events`].
    pub index: usize,
    /// Its `seq`.
    pub seq: u64,
    /// `occurred_at`, or the latest `event.time_set` for it.
    pub occurred_at: Timestamp,
    /// Where that time comes from.
    pub source: TimeSource,
    /// Pinned for the postmortem.
    pub pinned: bool,
    /// Its time was corrected by a later event.
    pub retimed: bool,
}

/// A milestone's value, as set by one `milestone.set` event.
#[derive(Debug, Clone, PartialEq)]
pub struct MilestoneValue {
    /// Which milestone.
    pub milestone: Milestone,
    /// When (the effective time of the event that set it).
    pub at: Timestamp,
    /// Where that time comes from.
    pub source: TimeSource,
    /// `seq` of the `milestone.set` event.
    pub seq: u64,
    /// Proposed by triage rather than set by a person.
    pub proposed: bool,
    /// Who set it.
    pub actor: String,
    /// Why: the event's summary.
    pub basis: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Mark {
    seq: u64,
    proposed: bool,
    actor: String,
    basis: String,
}

/// The four figures a postmortem is measured by, and how long it has lasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Metrics {
    /// Time to detect: detected − started.
    pub ttd: Option<SignedDuration>,
    /// Time to acknowledge: acknowledged − detected.
    pub tta: Option<SignedDuration>,
    /// Time to mitigate: mitigated − started.
    pub ttm: Option<SignedDuration>,
    /// Time to resolve: resolved − started.
    pub ttr: Option<SignedDuration>,
    /// From started (else detected, else opened) to resolved or to its
    /// merge into another incident (the earlier), or to now while it is
    /// open.
    pub elapsed: SignedDuration,
}

/// What a signature did within an incident.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureStats {
    /// Signature id.
    pub id: String,
    /// Its title when it fired.
    pub title: String,
    /// Its severity when it fired.
    pub severity: Severity,
    /// Its runbook.
    pub runbook: Option<String>,
    /// First `signature.fired`.
    pub first_fired: Timestamp,
    /// Last time it was seen (fired, or the end of a `signature.repeated`).
    pub last_seen: Timestamp,
    /// `signature.fired` events.
    pub fired: u64,
    /// Alerts: fired plus those counted in `signature.repeated`.
    pub alerts: u64,
    /// Matching lines: the hits of each firing plus those counted since.
    pub matches: u64,
    /// Keys (`pool=orders`) that fired and have not cleared.
    pub active: Vec<String>,
    /// Every key that fired.
    pub keys: Vec<String>,
    /// When the last active key cleared, if all have.
    pub cleared_at: Option<Timestamp>,
    /// It fired only as an early warning, before the incident opened.
    pub precursor: bool,
    /// `seq` of its first `signature.fired`.
    pub first_seq: u64,
    /// The files its evidence lines came from, in order of first firing.
    pub sources: Vec<String>,
    /// The hosts its evidence lines named (`host` detail), if any.
    pub hosts: Vec<String>,
}

impl SignatureStats {
    /// Folds `other` (the same signature in another incident) into this.
    fn absorb(&mut self, other: SignatureStats) {
        self.first_fired = self.first_fired.min(other.first_fired);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.fired += other.fired;
        self.alerts += other.alerts;
        self.matches += other.matches;
        self.precursor &= other.precursor;
        self.first_seq = self.first_seq.min(other.first_seq);
        self.cleared_at = match (self.active.is_empty(), other.active.is_empty()) {
            (true, true) => self.cleared_at.max(other.cleared_at),
            _ => None,
        };
        for (mine, theirs) in [
            (&mut self.active, other.active),
            (&mut self.keys, other.keys),
            (&mut self.sources, other.sources),
            (&mut self.hosts, other.hosts),
        ] {
            for item in theirs {
                if !mine.contains(&item) {
                    mine.push(item);
                }
            }
        }
    }
}

/// Where a runbook step stands.
#[derive(Debug, Clone, PartialEq)]
pub struct StepProgress {
    /// Runbook id.
    pub runbook: String,
    /// Step id.
    pub step: String,
    /// Latest state.
    pub state: StepState,
    /// Who set it.
    pub actor: String,
    /// `seq` of the latest step event (its effective time is the step's).
    pub seq: u64,
    /// The note given with it.
    pub note: Option<String>,
    /// How many step events it has had.
    pub updates: u32,
}

/// One incident, folded from its events.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// `INC-1`, ...
    pub id: String,
    /// One line for people.
    pub title: String,
    /// Current severity.
    pub severity: Severity,
    /// A person set the severity (triage no longer raises it).
    pub severity_by_operator: bool,
    /// Current status.
    pub status: Status,
    /// `seq` of `incident.opened`.
    pub opened_seq: u64,
    /// When it was opened (the firing line's time, or the declaration),
    /// as corrected by the latest `event.time_set` of its opening event.
    pub opened_at: Timestamp,
    /// Who opened it.
    pub opened_by: String,
    /// The signature that opened it.
    pub cause: Option<String>,
    /// A person declared it.
    pub declared: bool,
    /// Every event, in journal order.
    pub entries: Vec<Entry>,
    entry_by_seq: HashMap<u64, usize>,
    marks: [Option<Mark>; 5],
    /// Signatures that fired, in order of first firing.
    pub signatures: Vec<SignatureStats>,
    /// Runbook steps touched, in order of first touch.
    pub steps: Vec<StepProgress>,
    /// People who acted, in order of first action.
    pub responders: Vec<String>,
    /// A person merged it into this incident: it is closed, and events
    /// written for it later go there.
    pub merged_into: Option<String>,
    /// The `incident.merged` event that closed it (its entry's time is
    /// when it ended).
    merged_seq: Option<u64>,
    /// It was split off this incident.
    pub split_from: Option<String>,
}

impl Incident {
    fn new(id: &str, seq: u64, at: Timestamp, actor: &str) -> Incident {
        Incident {
            id: id.to_owned(),
            title: id.to_owned(),
            severity: Severity::High,
            severity_by_operator: false,
            status: Status::Investigating,
            opened_seq: seq,
            opened_at: at,
            opened_by: actor.to_owned(),
            cause: None,
            declared: false,
            entries: Vec::new(),
            entry_by_seq: HashMap::new(),
            marks: Default::default(),
            signatures: Vec::new(),
            steps: Vec::new(),
            responders: Vec::new(),
            merged_into: None,
            merged_seq: None,
            split_from: None,
        }
    }

    /// Whether it is neither resolved nor merged into another.
    pub fn is_open(&self) -> bool {
        self.status != Status::Resolved && self.merged_into.is_none()
    }

    /// When one of its signatures was last seen (fired or repeated).
    pub fn last_alert(&self) -> Option<Timestamp> {
        self.signatures.iter().map(|s| s.last_seen).max()
    }

    /// Whether an alert from `source` (and `host`, when the line named one)
    /// at `at` comes from where one of its signatures was seen within
    /// `window` before: the same host when both lines named one (one
    /// syslog file holds many hosts), else the same file.
    pub fn seen_near(
        &self,
        source: &str,
        host: Option<&str>,
        at: Timestamp,
        window: SignedDuration,
    ) -> bool {
        self.signatures.iter().any(|s| {
            at.duration_since(s.last_seen) <= window
                && match host {
                    Some(host) if !s.hosts.is_empty() => s.hosts.iter().any(|h| h == host),
                    _ => s.sources.iter().any(|x| x == source),
                }
        })
    }

    fn rebuild_entry_index(&mut self) {
        self.entries.sort_by_key(|e| e.seq);
        self.entry_by_seq = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.seq, i))
            .collect();
    }

    /// The entry of event `seq`, when it belongs to this incident.
    pub fn entry(&self, seq: u64) -> Option<&Entry> {
        self.entry_by_seq.get(&seq).map(|&i| &self.entries[i])
    }

    /// Entries in time order (effective `occurred_at`, then `seq`).
    pub fn chronological(&self) -> Vec<&Entry> {
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by_key(|e| (e.occurred_at, e.seq));
        entries
    }

    /// A milestone's current value.
    pub fn milestone(&self, milestone: Milestone) -> Option<MilestoneValue> {
        let mark = self.marks[milestone.index()].as_ref()?;
        let entry = self.entry(mark.seq)?;
        Some(MilestoneValue {
            milestone,
            at: entry.occurred_at,
            source: entry.source,
            seq: mark.seq,
            proposed: mark.proposed,
            actor: mark.actor.clone(),
            basis: mark.basis.clone(),
        })
    }

    fn at(&self, milestone: Milestone) -> Option<Timestamp> {
        self.milestone(milestone).map(|m| m.at)
    }

    /// TTD, TTA, TTM, TTR, and how long it has lasted as of `now`.
    pub fn metrics(&self, now: Timestamp) -> Metrics {
        let started = self.at(Milestone::Started);
        let detected = self.at(Milestone::Detected);
        let between =
            |from: Option<Timestamp>, to: Option<Timestamp>| Some(to?.duration_since(from?));
        let begin = started.or(detected).unwrap_or(self.opened_at);
        let resolved = match self.status {
            Status::Resolved => Some(self.at(Milestone::Resolved).unwrap_or(now)),
            _ => None,
        };
        // A merged incident ended at its merge (the merge event's time, as
        // corrected if it was).
        let merged = self
            .merged_seq
            .and_then(|seq| self.entry(seq))
            .map(|e| e.occurred_at);
        let end = match (resolved, merged) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(now),
        };
        Metrics {
            ttd: between(started, detected),
            tta: between(detected, self.at(Milestone::Acknowledged)),
            ttm: between(started, self.at(Milestone::Mitigated)),
            ttr: between(started, self.at(Milestone::Resolved)),
            elapsed: end.duration_since(begin),
        }
    }

    /// Whether `signature` fired with `key` here and has not cleared since.
    pub fn is_active(&self, signature: &str, key: &str) -> bool {
        self.signature(signature)
            .is_some_and(|s| s.active.iter().any(|k| k == key))
    }

    /// What `signature` did here.
    pub fn signature(&self, signature: &str) -> Option<&SignatureStats> {
        self.signatures.iter().find(|s| s.id == signature)
    }

    /// Where a runbook step stands.
    pub fn step(&self, runbook: &str, step: &str) -> Option<&StepProgress> {
        self.steps
            .iter()
            .find(|s| s.runbook == runbook && s.step == step)
    }

    /// The effective time of one of its events.
    pub fn time_of(&self, seq: u64) -> Option<Timestamp> {
        self.entry(seq).map(|e| e.occurred_at)
    }
}

/// Every event read so far and the incidents they make.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    events: Vec<JournalEvent>,
    event_by_seq: HashMap<u64, usize>,
    incidents: Vec<Incident>,
    incident_by_id: HashMap<String, usize>,
}

/// The number in an incident id: `INC-12` and `12` are both 12.
fn incident_number(id: &str) -> Option<u64> {
    let digits = id
        .strip_prefix("INC-")
        .or_else(|| id.strip_prefix("inc-"))
        .unwrap_or(id);
    digits.parse().ok()
}

impl Timeline {
    /// No events yet.
    pub fn new() -> Timeline {
        Timeline::default()
    }

    /// Folds `events` in order.
    pub fn from_events(events: impl IntoIterator<Item = JournalEvent>) -> Timeline {
        let mut timeline = Timeline::new();
        for event in events {
            timeline.apply(event);
        }
        timeline
    }

    /// Every event, in journal order.
    pub fn events(&self) -> &[JournalEvent] {
        &self.events
    }

    /// The event at `seq`.
    pub fn event(&self, seq: u64) -> Option<&JournalEvent> {
        self.event_by_seq.get(&seq).map(|&i| &self.events[i])
    }

    /// The last event (its `seq` and `hash` are what the next one links to).
    pub fn last(&self) -> Option<&JournalEvent> {
        self.events.last()
    }

    /// Every incident, in order of opening.
    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// The incident with this id (`INC-3`, `inc-3` or `3`).
    pub fn incident(&self, id: &str) -> Option<&Incident> {
        if let Some(&i) = self.incident_by_id.get(id) {
            return Some(&self.incidents[i]);
        }
        let number = incident_number(id)?;
        self.incidents
            .iter()
            .find(|inc| incident_number(&inc.id) == Some(number))
    }

    /// The most recently opened incident that is not resolved.
    pub fn latest_open(&self) -> Option<&Incident> {
        self.incidents.iter().rev().find(|inc| inc.is_open())
    }

    /// The most recently opened incident.
    pub fn latest(&self) -> Option<&Incident> {
        self.incidents.last()
    }

    /// The id the next incident gets.
    pub fn next_incident_id(&self) -> String {
        let last = self
            .incidents
            .iter()
            .filter_map(|inc| incident_number(&inc.id))
            .max()
            .unwrap_or(0);
        format!("INC-{}", last + 1)
    }

    /// The event of an incident's entry.
    pub fn event_of(&self, entry: &Entry) -> &JournalEvent {
        &self.events[entry.index]
    }

    /// Where events of incident `i` go: the incident it was merged into
    /// (that one's, in turn), else itself.
    fn merged_target(&self, mut i: usize) -> usize {
        // A merge never names an incident merged already, so a chain is
        // short; the bound only guards against a hand-edited journal.
        for _ in 0..self.incidents.len() {
            match self.incidents[i]
                .merged_into
                .as_ref()
                .and_then(|id| self.incident_by_id.get(id))
            {
                Some(&next) if next != i => i = next,
                _ => break,
            }
        }
        i
    }

    fn incident_index(&mut self, event: &JournalEvent) -> usize {
        if let Some(&i) = self.incident_by_id.get(&event.incident) {
            return match event.kind {
                Kind::IncidentMerged => i,
                _ => self.merged_target(i),
            };
        }
        self.incidents.push(Incident::new(
            &event.incident,
            event.seq,
            event.occurred_at,
            &event.actor,
        ));
        let i = self.incidents.len() - 1;
        self.incident_by_id.insert(event.incident.clone(), i);
        i
    }

    /// Folds one more event (the next in journal order).
    pub fn apply(&mut self, event: JournalEvent) {
        let index = self.events.len();
        let at = event.occurred_at;
        // Edits act on their target, wherever it is.
        if let Some(target) = event.payload().target_seq()
            && let Some(&target_index) = self.event_by_seq.get(&target)
        {
            let owner = self.events[target_index].incident.clone();
            let owner = self.incident_by_id.get(&owner).copied();
            // A merged incident's entries live on in the one it went into
            // (a split moved them to the new one: look there too); the
            // merged one keeps its own history, corrected alike.
            let holder = owner.map(|i| self.merged_target(i)).and_then(|i| {
                match self.incidents[i].entry_by_seq.contains_key(&target) {
                    true => Some(i),
                    false => self
                        .incidents
                        .iter()
                        .position(|inc| inc.entry_by_seq.contains_key(&target)),
                }
            });
            let own = owner.filter(|&o| Some(o) != holder);
            for i in holder.into_iter().chain(own) {
                let inc = &mut self.incidents[i];
                if let Some(&e) = inc.entry_by_seq.get(&target) {
                    let entry = &mut inc.entries[e];
                    match event.payload() {
                        Payload::EventPinned(_) => entry.pinned = true,
                        Payload::EventUnpinned(_) => entry.pinned = false,
                        Payload::EventTimeSet(set) => {
                            entry.occurred_at = set.to;
                            entry.source = TimeSource::Operator;
                            entry.retimed = true;
                            // Its opening corrected: it opened then (for
                            // `list`, `show`, the export and how long it
                            // lasted), as a merge's corrected time ends it.
                            if inc.opened_seq == target {
                                inc.opened_at = set.to;
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        let i = self.incident_index(&event);
        let inc = &mut self.incidents[i];
        inc.entry_by_seq.insert(event.seq, inc.entries.len());
        inc.entries.push(Entry {
            index,
            seq: event.seq,
            occurred_at: at,
            source: event.occurred_at_source,
            pinned: event.pinned,
            retimed: false,
        });
        // Exporting the postmortem is not responding.
        if event.actor != AUTOMATIC_ACTOR
            && event.kind != Kind::ExportGenerated
            && !inc.responders.contains(&event.actor)
        {
            inc.responders.push(event.actor.clone());
        }
        match event.payload() {
            Payload::IncidentOpened(opened) => {
                inc.opened_seq = event.seq;
                inc.opened_at = at;
                inc.opened_by = event.actor.clone();
                inc.declared = opened.declared;
                inc.cause.clone_from(&opened.signature);
                inc.title.clone_from(&opened.title);
                inc.severity = opened.severity;
                inc.severity_by_operator = opened.severity_given.unwrap_or(false);
            }
            Payload::SignatureFired(fired_) => fired(inc, &event, fired_),
            Payload::SignatureRepeated(repeated) => {
                if let Some(stats) = inc
                    .signatures
                    .iter_mut()
                    .find(|s| s.id == repeated.signature)
                {
                    stats.matches += repeated.matches;
                    stats.alerts += repeated.alerts;
                    stats.last_seen = stats.last_seen.max(repeated.to);
                }
            }
            Payload::SignatureCleared(cleared) => {
                if let Some(stats) = inc
                    .signatures
                    .iter_mut()
                    .find(|s| s.id == cleared.signature)
                {
                    stats.active.retain(|k| *k != cleared.key);
                    if stats.active.is_empty() {
                        stats.cleared_at = Some(at);
                    }
                }
            }
            Payload::SeverityChanged(change) => {
                inc.severity = change.to;
                if event.actor != AUTOMATIC_ACTOR {
                    inc.severity_by_operator = true;
                }
            }
            Payload::StatusChanged(change) => inc.status = change.to,
            Payload::MilestoneSet(set) => {
                let slot = &mut inc.marks[set.milestone.index()];
                if set.cleared {
                    *slot = None;
                } else if !(set.proposed && slot.as_ref().is_some_and(|m| !m.proposed)) {
                    *slot = Some(Mark {
                        seq: event.seq,
                        proposed: set.proposed,
                        actor: event.actor.clone(),
                        basis: event.summary.clone(),
                    });
                }
            }
            Payload::StepStarted(step) | Payload::StepDone(step) | Payload::StepSkipped(step) => {
                let state = match event.kind {
                    Kind::StepStarted => StepState::Started,
                    Kind::StepDone => StepState::Done,
                    _ => StepState::Skipped,
                };
                match inc
                    .steps
                    .iter_mut()
                    .find(|s| s.runbook == step.runbook && s.step == step.step)
                {
                    Some(progress) => {
                        progress.state = state;
                        progress.actor = event.actor.clone();
                        progress.seq = event.seq;
                        progress.note = step.note.clone().or(progress.note.take());
                        progress.updates += 1;
                    }
                    None => inc.steps.push(StepProgress {
                        runbook: step.runbook.clone(),
                        step: step.step.clone(),
                        state,
                        actor: event.actor.clone(),
                        seq: event.seq,
                        note: step.note.clone(),
                        updates: 1,
                    }),
                }
            }
            Payload::Ack(_)
            | Payload::Note(_)
            | Payload::ExportGenerated(_)
            | Payload::EventPinned(_)
            | Payload::EventUnpinned(_)
            | Payload::EventTimeSet(_)
            | Payload::IncidentMerged(_)
            | Payload::IncidentSplit(_) => {}
        }
        match event.payload() {
            Payload::IncidentMerged(merged) => {
                if let Some(&into) = self.incident_by_id.get(&merged.into) {
                    let into = self.merged_target(into);
                    if into != i {
                        self.merge(i, into, event.seq);
                    }
                }
            }
            Payload::IncidentSplit(split) => {
                if let Some(&from) = self.incident_by_id.get(&split.from)
                    && from != i
                {
                    self.split(from, i, &split.signatures);
                }
            }
            _ => {}
        }
        self.event_by_seq.insert(event.seq, index);
        self.events.push(event);
    }

    /// Incident `from` merged into `into`: `into` gets a copy of its
    /// entries, its signatures, steps, responders and the milestones it
    /// lacks; `from` keeps its own history, closed by event `seq`.
    fn merge(&mut self, from: usize, into: usize, seq: u64) {
        let source = self.incidents[from].clone();
        self.incidents[from].merged_into = Some(self.incidents[into].id.clone());
        self.incidents[from].merged_seq = Some(seq);
        let target = &mut self.incidents[into];
        for entry in source.entries {
            if !target.entry_by_seq.contains_key(&entry.seq) {
                target.entries.push(entry);
            }
        }
        target.rebuild_entry_index();
        for stats in source.signatures {
            match target.signatures.iter_mut().find(|s| s.id == stats.id) {
                Some(mine) => mine.absorb(stats),
                None => target.signatures.push(stats),
            }
        }
        for step in source.steps {
            match target
                .steps
                .iter_mut()
                .find(|s| s.runbook == step.runbook && s.step == step.step)
            {
                Some(mine) if mine.seq < step.seq => *mine = step,
                Some(_) => {}
                None => target.steps.push(step),
            }
        }
        for person in source.responders {
            if !target.responders.contains(&person) {
                target.responders.push(person);
            }
        }
        for (mine, theirs) in target.marks.iter_mut().zip(source.marks) {
            if mine.is_none() {
                *mine = theirs;
            }
        }
        if source.severity > target.severity && !target.severity_by_operator {
            target.severity = source.severity;
        }
    }

    /// Signatures `moved` split off incident `from` into `to`: their
    /// entries (fired, repeated, cleared) and statistics move.
    fn split(&mut self, from: usize, to: usize, moved: &[String]) {
        let events = &self.events;
        let source = &mut self.incidents[from];
        let (taken, kept): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut source.entries)
            .into_iter()
            .partition(|e| {
                events[e.index]
                    .payload()
                    .signature_event()
                    .is_some_and(|id| moved.iter().any(|m| m == id))
            });
        source.entries = kept;
        source.rebuild_entry_index();
        let (stats, rest): (Vec<SignatureStats>, Vec<SignatureStats>) =
            std::mem::take(&mut source.signatures)
                .into_iter()
                .partition(|s| moved.contains(&s.id));
        source.signatures = rest;
        let from_id = source.id.clone();
        let target = &mut self.incidents[to];
        target.split_from = Some(from_id);
        target.entries.extend(taken);
        target.rebuild_entry_index();
        target.signatures.extend(stats);
    }
}

fn fired(inc: &mut Incident, event: &JournalEvent, fired: &payload::Fired) {
    let id = fired.signature.as_str();
    let at = event.occurred_at;
    let key = fired.key.clone();
    let hits = fired.hits;
    let precursor = fired.precursor;
    // The hits of a signature already in the incident were counted line by
    // line (`signature.repeated`); only a first firing brings its own.
    let stats = match inc.signatures.iter_mut().position(|s| s.id == id) {
        Some(i) => &mut inc.signatures[i],
        None => {
            inc.signatures.push(SignatureStats {
                id: id.to_owned(),
                title: fired.title.clone(),
                severity: fired.severity,
                runbook: fired.runbook.clone(),
                first_fired: at,
                last_seen: at,
                fired: 0,
                alerts: 0,
                matches: hits,
                active: Vec::new(),
                keys: Vec::new(),
                cleared_at: None,
                precursor,
                first_seq: event.seq,
                sources: Vec::new(),
                hosts: Vec::new(),
            });
            inc.signatures.last_mut().expect("just pushed")
        }
    };
    stats.first_fired = stats.first_fired.min(at);
    stats.last_seen = stats.last_seen.max(at);
    stats.fired += 1;
    stats.alerts += 1;
    stats.precursor &= precursor;
    stats.cleared_at = None;
    if !stats.active.contains(&key) {
        stats.active.push(key.clone());
    }
    if !stats.keys.contains(&key) {
        stats.keys.push(key);
    }
    if let Some(evidence) = &event.evidence
        && !stats.sources.contains(&evidence.source)
    {
        stats.sources.push(evidence.source.clone());
    }
    if let Some(host) = &fired.host
        && !stats.hosts.contains(host)
    {
        stats.hosts.push(host.clone());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::incident::{
        event::{Draft, GENESIS, tests::ts},
        payload::tests as p,
    };

    /// Seals drafts into a chain, one second of recording apart.
    pub(crate) fn chain(drafts: Vec<Draft>) -> Vec<JournalEvent> {
        let mut prev = GENESIS.to_owned();
        let mut out = Vec::new();
        for (i, draft) in drafts.into_iter().enumerate() {
            let seq = i as u64 + 1;
            let event = draft.seal(
                seq,
                format!("{seq:016x}"),
                ts("2026-11-21T04:00:00Z"),
                &prev,
            );
            prev = event.hash.clone();
            out.push(event);
        }
        out
    }

    fn d(payload: Payload, at: &str, actor: &str) -> Draft {
        let source = if actor == AUTOMATIC_ACTOR {
            TimeSource::Log
        } else {
            TimeSource::Clock
        };
        let summary = payload.kind().as_str();
        Draft::new("INC-1", payload, ts(at), source, actor, summary)
    }

    fn milestone(name: &str, at: &str, actor: &str, proposed: bool) -> Draft {
        let milestone = name.parse().expect("a milestone");
        d(p::milestone(milestone, proposed, false), at, actor)
    }

    fn story() -> Vec<Draft> {
        vec![
            d(
                p::opened(
                    "PostgreSQL out of connection slots",
                    Severity::Critical,
                    Some("postgres-connection-slots-exhausted"),
                ),
                "2026-11-21T03:06:06Z",
                "triage",
            ),
            milestone("started", "2026-11-21T03:04:31Z", "triage", true),
            milestone("detected", "2026-11-21T03:06:06Z", "triage", false),
            d(
                p::fired("postgres-connection-slots-exhausted", Severity::Critical),
                "2026-11-21T03:06:06Z",
                "triage",
            ),
            d(
                p::repeated(
                    "postgres-connection-slots-exhausted",
                    20,
                    0,
                    "2026-11-21T03:07:06Z",
                ),
                "2026-11-21T03:07:06Z",
                "triage",
            ),
            d(
                Payload::Ack(payload::Ack {}),
                "2026-11-21T03:08:00Z",
                "alice",
            ),
            milestone("acknowledged", "2026-11-21T03:08:00Z", "alice", false),
            d(
                Payload::StepDone(p::step(
                    "postgres-connections",
                    "count",
                    Some("92 of 100 used"),
                )),
                "2026-11-21T03:09:00Z",
                "bob",
            ),
            d(
                p::status(Status::Investigating, Status::Mitigated),
                "2026-11-21T03:20:00Z",
                "alice",
            ),
            milestone("mitigated", "2026-11-21T03:20:00Z", "alice", false),
            d(
                p::cleared(
                    "postgres-connection-slots-exhausted",
                    "2026-11-21T03:20:00Z",
                ),
                "2026-11-21T03:25:00Z",
                "triage",
            ),
            d(
                p::status(Status::Mitigated, Status::Resolved),
                "2026-11-21T03:40:00Z",
                "alice",
            ),
            milestone("resolved", "2026-11-21T03:40:00Z", "alice", false),
        ]
    }

    #[test]
    fn folding_gives_status_milestones_and_metrics() {
        let tl = Timeline::from_events(chain(story()));
        let inc = tl.incident("INC-1").expect("opened");
        assert_eq!(inc.status, Status::Resolved);
        assert_eq!(inc.severity, Severity::Critical);
        assert_eq!(inc.responders, ["alice", "bob"]);
        let m = inc.metrics(ts("2026-11-22T00:00:00Z"));
        assert_eq!(m.ttd, Some(SignedDuration::from_secs(95)));
        assert_eq!(m.tta, Some(SignedDuration::from_secs(114)));
        assert_eq!(m.ttm, Some(SignedDuration::from_secs(15 * 60 + 29)));
        assert_eq!(m.ttr, Some(SignedDuration::from_secs(35 * 60 + 29)));
        assert_eq!(m.elapsed, m.ttr.expect("resolved"));
        let sig = &inc.signatures[0];
        assert_eq!((sig.fired, sig.alerts, sig.matches), (1, 1, 21));
        assert_eq!(sig.cleared_at, Some(ts("2026-11-21T03:25:00Z")));
        let step = inc.step("postgres-connections", "count").expect("step");
        assert_eq!(step.state, StepState::Done);
        assert_eq!(step.note.as_deref(), Some("92 of 100 used"));
        assert!(tl.latest_open().is_none());
        assert_eq!(tl.next_incident_id(), "INC-2");
        assert_eq!(tl.incident("1").map(|i| &i.id), Some(&inc.id));
    }

    #[test]
    fn open_incidents_measure_elapsed_time_up_to_now() {
        let mut drafts = story();
        drafts.truncate(7);
        let tl = Timeline::from_events(chain(drafts));
        let inc = tl.latest_open().expect("open");
        let m = inc.metrics(ts("2026-11-21T03:14:31Z"));
        assert_eq!(m.ttm, None);
        assert_eq!(m.ttr, None);
        assert_eq!(m.elapsed, SignedDuration::from_secs(600));
    }

    #[test]
    fn a_persons_milestone_beats_a_proposed_one_and_time_edits_move_it() {
        let mut drafts = story();
        drafts.push(milestone("started", "2026-11-21T03:00:00Z", "alice", false));
        drafts.push(milestone("started", "2026-11-21T03:05:00Z", "triage", true));
        // Correct the ack's milestone (seq 7) to 03:07:00.
        drafts.push(d(
            Payload::EventTimeSet(payload::TimeSet {
                target_seq: 7,
                target_id: format!("{:016x}", 7),
                from: ts("2026-11-21T03:08:00Z"),
                to: ts("2026-11-21T03:07:00Z"),
            }),
            "2026-11-21T05:00:00Z",
            "alice",
        ));
        drafts.push(d(
            Payload::EventPinned(payload::Target {
                target_seq: 4,
                target_id: format!("{:016x}", 4),
            }),
            "2026-11-21T05:00:00Z",
            "alice",
        ));
        let tl = Timeline::from_events(chain(drafts));
        let inc = tl.latest().expect("incident");
        let started = inc.milestone(Milestone::Started).expect("started");
        assert_eq!(started.at, ts("2026-11-21T03:00:00Z"));
        assert!(!started.proposed);
        let ack = inc.milestone(Milestone::Acknowledged).expect("ack");
        assert_eq!(ack.at, ts("2026-11-21T03:07:00Z"));
        assert_eq!(ack.source, TimeSource::Operator);
        assert!(inc.entry(7).expect("entry").retimed);
        assert!(inc.entry(4).expect("entry").pinned);
        let m = inc.metrics(ts("2026-11-22T00:00:00Z"));
        assert_eq!(m.ttd, Some(SignedDuration::from_secs(366)));
        assert_eq!(m.tta, Some(SignedDuration::from_secs(54)));
    }

    /// `inc` opened at `at` by triage.
    fn opened(inc: &str, at: &str) -> Draft {
        Draft::new(
            inc,
            p::opened("opened", Severity::High, None),
            ts(at),
            TimeSource::Log,
            "triage",
            "opened",
        )
    }

    fn time_set(target: u64, from: &str, to: &str) -> Payload {
        Payload::EventTimeSet(payload::TimeSet {
            target_seq: target,
            target_id: format!("{target:016x}"),
            from: ts(from),
            to: ts(to),
        })
    }

    #[test]
    fn correcting_the_opening_moves_when_it_opened() {
        let mut drafts = story();
        drafts.truncate(7);
        drafts.push(d(
            time_set(1, "2026-11-21T03:06:06Z", "2026-11-21T02:58:00Z"),
            "2026-11-21T05:00:00Z",
            "alice",
        ));
        let tl = Timeline::from_events(chain(drafts));
        let inc = tl.incident("INC-1").expect("opened");
        assert_eq!(inc.opened_at, ts("2026-11-21T02:58:00Z"));
        assert_eq!(inc.opened_seq, 1);
        // Milestones are their own events: the opening's correction
        // leaves them.
        let detected = inc.milestone(Milestone::Detected).expect("detected");
        assert_eq!(detected.at, ts("2026-11-21T03:06:06Z"));

        // A merged incident's opening corrected after the merge: its own,
        // not the opening of the one it went into.
        let tl = Timeline::from_events(chain(vec![
            opened("INC-1", "2026-11-21T03:00:00Z"),
            opened("INC-2", "2026-11-21T03:10:00Z"),
            Draft::new(
                "INC-2",
                Payload::IncidentMerged(payload::Merged {
                    into: "INC-1".into(),
                }),
                ts("2026-11-21T03:30:00Z"),
                TimeSource::Clock,
                "alice",
                "merged",
            ),
            Draft::new(
                "INC-2",
                time_set(2, "2026-11-21T03:10:00Z", "2026-11-21T03:20:00Z"),
                ts("2026-11-21T04:00:00Z"),
                TimeSource::Clock,
                "alice",
                "retimed",
            ),
        ]));
        let one = tl.incident("INC-1").expect("INC-1");
        let two = tl.incident("INC-2").expect("INC-2");
        assert_eq!(two.opened_at, ts("2026-11-21T03:20:00Z"));
        assert_eq!(one.opened_at, ts("2026-11-21T03:00:00Z"));
        let later = ts("2026-11-23T00:00:00Z");
        assert_eq!(two.metrics(later).elapsed, SignedDuration::from_mins(10));
    }

    #[test]
    fn reopening_clears_resolved() {
        let mut drafts = story();
        drafts.push(d(
            p::status(Status::Resolved, Status::Investigating),
            "2026-11-21T03:50:00Z",
            "alice",
        ));
        drafts.push(d(
            p::milestone(Milestone::Resolved, false, true),
            "2026-11-21T03:50:00Z",
            "alice",
        ));
        let tl = Timeline::from_events(chain(drafts));
        let inc = tl.latest_open().expect("open again");
        assert!(inc.milestone(Milestone::Resolved).is_none());
        assert!(inc.metrics(ts("2026-11-22T00:00:00Z")).ttr.is_none());
    }

    #[test]
    fn chronological_order_follows_effective_times() {
        let tl = Timeline::from_events(chain(story()));
        let inc = tl.latest().expect("incident");
        let seqs: Vec<u64> = inc.chronological().iter().map(|e| e.seq).collect();
        assert_eq!(seqs[0], 2, "the proposed start is the earliest");
        assert!(
            seqs.windows(2)
                .all(|w| { inc.time_of(w[0]) <= inc.time_of(w[1]) })
        );
    }

    #[test]
    fn a_merged_incident_lives_on_in_the_other_and_a_split_moves_signatures_out() {
        let fired = |inc: &str, sig: &str, at: &str| {
            Draft::new(
                inc,
                p::fired(sig, Severity::High),
                ts(at),
                TimeSource::Log,
                "triage",
                sig,
            )
        };
        let tl = Timeline::from_events(chain(vec![
            opened("INC-1", "2026-11-21T03:00:00Z"),
            fired("INC-1", "a", "2026-11-21T03:00:00Z"),
            opened("INC-2", "2026-11-21T03:01:00Z"),
            fired("INC-2", "b", "2026-11-21T03:01:00Z"),
            Draft::new(
                "INC-2",
                Payload::IncidentMerged(payload::Merged {
                    into: "INC-1".into(),
                }),
                ts("2026-11-21T03:05:00Z"),
                TimeSource::Clock,
                "alice",
                "merged",
            ),
            // Written for the merged incident afterwards: it goes on in INC-1.
            Draft::new(
                "INC-2",
                Payload::Note(payload::Note {
                    text: "note".into(),
                }),
                ts("2026-11-21T03:06:00Z"),
                TimeSource::Clock,
                "bob",
                "note",
            ),
        ]));
        let one = tl.incident("INC-1").expect("INC-1");
        let two = tl.incident("INC-2").expect("INC-2");
        assert_eq!(two.merged_into.as_deref(), Some("INC-1"));
        assert!(!two.is_open() && one.is_open());
        // A merged incident ended at its merge; the other runs on.
        let later = ts("2026-11-23T00:00:00Z");
        assert_eq!(two.metrics(later).elapsed, SignedDuration::from_mins(4));
        assert_eq!(
            one.metrics(later).elapsed,
            later.duration_since(ts("2026-11-21T03:00:00Z"))
        );
        assert_eq!(tl.latest_open().map(|i| i.id.as_str()), Some("INC-1"));
        let ids: Vec<&str> = one.signatures.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(one.entry(6).is_some(), "the later note is INC-1's");
        assert_eq!(one.responders, ["alice", "bob"]);
        let seqs: Vec<u64> = one.entries.iter().map(|e| e.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

        let mut events = chain(vec![
            opened("INC-1", "2026-11-21T03:00:00Z"),
            fired("INC-1", "a", "2026-11-21T03:00:00Z"),
            fired("INC-1", "b", "2026-11-21T03:01:00Z"),
            opened("INC-2", "2026-11-21T03:01:00Z"),
            Draft::new(
                "INC-2",
                Payload::IncidentSplit(payload::Split {
                    from: "INC-1".into(),
                    signatures: vec!["b".into()],
                }),
                ts("2026-11-21T03:05:00Z"),
                TimeSource::Clock,
                "alice",
                "split",
            ),
        ]);
        let tl = Timeline::from_events(events.drain(..));
        let one = tl.incident("INC-1").expect("INC-1");
        let two = tl.incident("INC-2").expect("INC-2");
        assert!(one.signature("b").is_none() && one.signature("a").is_some());
        assert!(two.signature("b").is_some());
        assert!(two.entry(3).is_some() && one.entry(3).is_none());
        assert_eq!(two.split_from.as_deref(), Some("INC-1"));
    }
}
