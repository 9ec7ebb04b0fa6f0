//! What a journal event says, by kind: one [`Payload`] variant per
//! [`Kind`], each with typed fields, written as the event's `details`.
//!
//! The writers build a payload and the readers match on it, so a field
//! renamed or retyped is a compile error on both sides, never an empty
//! postmortem. The JSON is the one journals have always held (format 1):
//! fields in declaration order (`serde_json`'s `preserve_order`), optional
//! ones left out when absent unless a writer always wrote them (`runbook`
//! and `runbook_title` of a firing are `null` when the signature has no
//! runbook), times as RFC 3339 in UTC, flags that only ever appeared when
//! true (`cleared`, `implied`) left out when false. The hash chain is
//! computed over the details as read, so an old line verifies whatever
//! this module makes of it; the fixture journal in
//! `tests/fixtures/journal/v1/` checks that every one of its payloads
//! reads and writes back to the same bytes.
//!
//! Reading is as lenient as the fold was: counts and flags an older writer
//! may not have written default (`hits` to 1, the rest to 0 or false);
//! what gives a kind its meaning (a firing's signature, a step's runbook
//! and step, a status change's status) is required, and a line without it
//! is reported as unreadable, naming the field.
//!
//! Must not: do I/O, or change what is written for a kind without a new
//! [`super::event::FORMAT_VERSION`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    event::Kind,
    state::{Milestone, Status},
};
use crate::model::{Captures, Severity};

/// What an event says: one variant per [`Kind`].
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// `incident.opened`.
    IncidentOpened(Opened),
    /// `signature.fired`.
    SignatureFired(Fired),
    /// `signature.repeated`.
    SignatureRepeated(Repeated),
    /// `signature.cleared`.
    SignatureCleared(Cleared),
    /// `ack`.
    Ack(Ack),
    /// `note`.
    Note(Note),
    /// `step.started`.
    StepStarted(Step),
    /// `step.done`.
    StepDone(Step),
    /// `step.skipped`.
    StepSkipped(Step),
    /// `severity.changed`.
    SeverityChanged(SeverityChange),
    /// `status.changed`.
    StatusChanged(StatusChange),
    /// `milestone.set`.
    MilestoneSet(MilestoneSet),
    /// `export.generated`.
    ExportGenerated(Exported),
    /// `event.pinned`.
    EventPinned(Target),
    /// `event.unpinned`.
    EventUnpinned(Target),
    /// `event.time_set`.
    EventTimeSet(TimeSet),
    /// `incident.merged`.
    IncidentMerged(Merged),
    /// `incident.split`.
    IncidentSplit(Split),
}

/// An incident opened by a signature, declared by a person, or split off
/// another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    /// One line saying what is wrong.
    pub title: String,
    /// How bad, at opening.
    #[serde(with = "severity")]
    pub severity: Severity,
    /// The signature that opened it (none when declared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Declared by a person.
    #[serde(default)]
    pub declared: bool,
    /// Declared with a severity a person chose (`Some` on declared
    /// incidents only): signatures joining later do not raise it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_given: Option<bool>,
    /// The incident it was split off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_from: Option<String>,
}

/// A signature fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fired {
    /// The signature's id.
    pub signature: String,
    /// Its title.
    pub title: String,
    /// Its severity.
    #[serde(with = "severity")]
    pub severity: Severity,
    /// Its runbook's id (written as `null` when it has none).
    #[serde(default)]
    pub runbook: Option<String>,
    /// Its runbook's title (`null` likewise).
    #[serde(default)]
    pub runbook_title: Option<String>,
    /// The key's `capture=value` pairs, as text.
    #[serde(default)]
    pub key: String,
    /// Lines behind the alert.
    #[serde(default = "one")]
    pub hits: u64,
    /// Hits suppressed since the key's previous alert.
    #[serde(default)]
    pub suppressed: u64,
    /// The pattern's captures, in the pattern's order.
    #[serde(default, with = "captures")]
    pub captures: Captures,
    /// An early warning brought into an incident a later signature opened.
    #[serde(default)]
    pub precursor: bool,
    /// The host the line names (or the agent's, for a collector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

fn one() -> u64 {
    1
}

/// More lines and alerts of a signature that already fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repeated {
    /// The signature's id.
    pub signature: String,
    /// Matching lines counted.
    #[serde(default)]
    pub matches: u64,
    /// Alerts counted.
    #[serde(default)]
    pub alerts: u64,
    /// The first of them.
    pub from: Timestamp,
    /// The last of them.
    pub to: Timestamp,
}

/// A signature quiet for its `clear_after`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cleared {
    /// The signature's id.
    pub signature: String,
    /// The key that went quiet, as text.
    #[serde(default)]
    pub key: String,
    /// Its last matching line's time.
    pub last_seen: Timestamp,
    /// The signature's `clear_after`, as written (`5m`).
    pub clear_after: String,
}

/// Someone acknowledged the incident (nothing more to say).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ack {}

/// A note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// What it says.
    pub text: String,
}

/// A runbook step started, done or skipped (the kind says which).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The runbook's id.
    pub runbook: String,
    /// The step's id within it.
    pub step: String,
    /// The runbook's title when it was written.
    #[serde(default)]
    pub runbook_title: String,
    /// The step's title.
    #[serde(default)]
    pub step_title: String,
    /// The step's kind (`check`, `action`, ...).
    #[serde(default)]
    pub step_kind: String,
    /// What was seen, or why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The severity changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityChange {
    /// Before.
    #[serde(with = "severity")]
    pub from: Severity,
    /// After.
    #[serde(with = "severity")]
    pub to: Severity,
    /// The signature whose firing raised it (automatic changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// The status changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// Before.
    pub from: Status,
    /// After.
    pub to: Status,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A milestone set, proposed or cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneSet {
    /// Which.
    pub milestone: Milestone,
    /// Proposed by triage (a person's setting wins over it).
    #[serde(default)]
    pub proposed: bool,
    /// The signature it comes from (automatic milestones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// How triage chose the time (proposals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Cleared: the incident is open again.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cleared: bool,
    /// Implied by another (mitigated by resolved).
    #[serde(default, skip_serializing_if = "is_false")]
    pub implied: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A postmortem was exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exported {
    /// `md`, `json`, `csv` or `html`.
    pub format: String,
    /// The file written, or `-` for stdout.
    pub output: String,
    /// The document's size.
    pub bytes: u64,
    /// The document's SHA-256, lower-case hex.
    pub sha256: String,
    /// The journal's last event when it was built.
    pub journal_head_seq: u64,
}

/// The event a pin or an unpin is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Its `seq`.
    pub target_seq: u64,
    /// Its `id`.
    pub target_id: String,
}

/// The time of an earlier event corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSet {
    /// The event's `seq`.
    pub target_seq: u64,
    /// Its `id`.
    pub target_id: String,
    /// The time it had.
    pub from: Timestamp,
    /// The time it has now.
    pub to: Timestamp,
}

/// This incident merged into another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merged {
    /// The incident it went into.
    pub into: String,
}

/// Signatures split off another incident into this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// The incident they came from.
    pub from: String,
    /// The signatures moved.
    pub signatures: Vec<String>,
}

/// A payload that does not fit its kind.
#[derive(Debug, thiserror::Error)]
#[error("details of `{kind}`: {source}")]
pub struct PayloadError {
    /// The event's kind.
    pub kind: Kind,
    /// What does not fit.
    #[source]
    pub source: serde_json::Error,
}

fn to_map<T: Serialize>(fields: &T) -> Map<String, Value> {
    match serde_json::to_value(fields) {
        Ok(Value::Object(map)) => map,
        _ => unreachable!("a payload is a struct of plain data and serializes to an object"),
    }
}

fn read<T: for<'de> Deserialize<'de>>(
    kind: Kind,
    details: &Map<String, Value>,
) -> Result<T, PayloadError> {
    T::deserialize(details).map_err(|source| PayloadError { kind, source })
}

impl Payload {
    /// The kind this payload is written under.
    pub fn kind(&self) -> Kind {
        match self {
            Payload::IncidentOpened(_) => Kind::IncidentOpened,
            Payload::SignatureFired(_) => Kind::SignatureFired,
            Payload::SignatureRepeated(_) => Kind::SignatureRepeated,
            Payload::SignatureCleared(_) => Kind::SignatureCleared,
            Payload::Ack(_) => Kind::Ack,
            Payload::Note(_) => Kind::Note,
            Payload::StepStarted(_) => Kind::StepStarted,
            Payload::StepDone(_) => Kind::StepDone,
            Payload::StepSkipped(_) => Kind::StepSkipped,
            Payload::SeverityChanged(_) => Kind::SeverityChanged,
            Payload::StatusChanged(_) => Kind::StatusChanged,
            Payload::MilestoneSet(_) => Kind::MilestoneSet,
            Payload::ExportGenerated(_) => Kind::ExportGenerated,
            Payload::EventPinned(_) => Kind::EventPinned,
            Payload::EventUnpinned(_) => Kind::EventUnpinned,
            Payload::EventTimeSet(_) => Kind::EventTimeSet,
            Payload::IncidentMerged(_) => Kind::IncidentMerged,
            Payload::IncidentSplit(_) => Kind::IncidentSplit,
        }
    }

    /// The `details` object written for it.
    pub fn to_details(&self) -> Map<String, Value> {
        match self {
            Payload::IncidentOpened(p) => to_map(p),
            Payload::SignatureFired(p) => to_map(p),
            Payload::SignatureRepeated(p) => to_map(p),
            Payload::SignatureCleared(p) => to_map(p),
            Payload::Ack(p) => to_map(p),
            Payload::Note(p) => to_map(p),
            Payload::StepStarted(p) | Payload::StepDone(p) | Payload::StepSkipped(p) => to_map(p),
            Payload::SeverityChanged(p) => to_map(p),
            Payload::StatusChanged(p) => to_map(p),
            Payload::MilestoneSet(p) => to_map(p),
            Payload::ExportGenerated(p) => to_map(p),
            Payload::EventPinned(p) | Payload::EventUnpinned(p) => to_map(p),
            Payload::EventTimeSet(p) => to_map(p),
            Payload::IncidentMerged(p) => to_map(p),
            Payload::IncidentSplit(p) => to_map(p),
        }
    }

    /// The payload of an event of `kind` with these `details`.
    pub fn from_details(kind: Kind, details: &Map<String, Value>) -> Result<Payload, PayloadError> {
        Ok(match kind {
            Kind::IncidentOpened => Payload::IncidentOpened(read(kind, details)?),
            Kind::SignatureFired => Payload::SignatureFired(read(kind, details)?),
            Kind::SignatureRepeated => Payload::SignatureRepeated(read(kind, details)?),
            Kind::SignatureCleared => Payload::SignatureCleared(read(kind, details)?),
            Kind::Ack => Payload::Ack(read(kind, details)?),
            Kind::Note => Payload::Note(read(kind, details)?),
            Kind::StepStarted => Payload::StepStarted(read(kind, details)?),
            Kind::StepDone => Payload::StepDone(read(kind, details)?),
            Kind::StepSkipped => Payload::StepSkipped(read(kind, details)?),
            Kind::SeverityChanged => Payload::SeverityChanged(read(kind, details)?),
            Kind::StatusChanged => Payload::StatusChanged(read(kind, details)?),
            Kind::MilestoneSet => Payload::MilestoneSet(read(kind, details)?),
            Kind::ExportGenerated => Payload::ExportGenerated(read(kind, details)?),
            Kind::EventPinned => Payload::EventPinned(read(kind, details)?),
            Kind::EventUnpinned => Payload::EventUnpinned(read(kind, details)?),
            Kind::EventTimeSet => Payload::EventTimeSet(read(kind, details)?),
            Kind::IncidentMerged => Payload::IncidentMerged(read(kind, details)?),
            Kind::IncidentSplit => Payload::IncidentSplit(read(kind, details)?),
        })
    }

    /// The signature a firing, repetition or clearing is about.
    pub fn signature_event(&self) -> Option<&str> {
        match self {
            Payload::SignatureFired(p) => Some(&p.signature),
            Payload::SignatureRepeated(p) => Some(&p.signature),
            Payload::SignatureCleared(p) => Some(&p.signature),
            _ => None,
        }
    }

    /// The step of a step event.
    pub fn step(&self) -> Option<&Step> {
        match self {
            Payload::StepStarted(p) | Payload::StepDone(p) | Payload::StepSkipped(p) => Some(p),
            _ => None,
        }
    }

    /// The event an edit (pin, unpin, time set) targets.
    pub fn target_seq(&self) -> Option<u64> {
        match self {
            Payload::EventPinned(p) | Payload::EventUnpinned(p) => Some(p.target_seq),
            Payload::EventTimeSet(p) => Some(p.target_seq),
            _ => None,
        }
    }
}

/// A severity as its lower-case name.
mod severity {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::model::Severity;

    pub fn serialize<S: Serializer>(severity: &Severity, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(severity.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
        let name = String::deserialize(d)?;
        name.parse()
            .map_err(|()| D::Error::custom(format!("`{name}` is not a severity")))
    }
}

/// Captures as a JSON object, in their order.
mod captures {
    use serde::{Deserialize, Deserializer, Serializer, ser::SerializeMap};
    use serde_json::{Map, Value};

    use crate::model::Captures;

    pub fn serialize<S: Serializer>(captures: &Captures, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(captures.len()))?;
        for (name, value) in captures {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }

    /// Values that are not strings (no writer wrote them) are left out, as
    /// the fold always did.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Captures, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        Ok(map
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(v) => Some((k, v)),
                _ => None,
            })
            .collect())
    }
}

/// Payloads for tests, with what a test does not care about filled in.
#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::incident::journal::parse_line;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("test timestamp")
    }

    pub(crate) fn note(text: &str) -> Payload {
        Payload::Note(Note { text: text.into() })
    }

    pub(crate) fn opened(title: &str, severity: Severity, signature: Option<&str>) -> Payload {
        Payload::IncidentOpened(Opened {
            title: title.into(),
            severity,
            signature: signature.map(str::to_owned),
            declared: signature.is_none(),
            severity_given: None,
            split_from: None,
        })
    }

    pub(crate) fn fired(signature: &str, severity: Severity) -> Payload {
        Payload::SignatureFired(Fired {
            signature: signature.into(),
            title: signature.into(),
            severity,
            runbook: None,
            runbook_title: None,
            key: String::new(),
            hits: 1,
            suppressed: 0,
            captures: Vec::new(),
            precursor: false,
            host: None,
        })
    }

    pub(crate) fn repeated(signature: &str, matches: u64, alerts: u64, to: &str) -> Payload {
        Payload::SignatureRepeated(Repeated {
            signature: signature.into(),
            matches,
            alerts,
            from: at(to),
            to: at(to),
        })
    }

    pub(crate) fn cleared(signature: &str, last_seen: &str) -> Payload {
        Payload::SignatureCleared(Cleared {
            signature: signature.into(),
            key: String::new(),
            last_seen: at(last_seen),
            clear_after: "5m".into(),
        })
    }

    pub(crate) fn step(runbook: &str, step: &str, note: Option<&str>) -> Step {
        Step {
            runbook: runbook.into(),
            step: step.into(),
            runbook_title: runbook.into(),
            step_title: step.into(),
            step_kind: "check".into(),
            note: note.map(str::to_owned),
        }
    }

    pub(crate) fn status(from: Status, to: Status) -> Payload {
        Payload::StatusChanged(StatusChange {
            from,
            to,
            note: None,
        })
    }

    pub(crate) fn milestone(milestone: Milestone, proposed: bool, cleared: bool) -> Payload {
        Payload::MilestoneSet(MilestoneSet {
            milestone,
            proposed,
            signature: None,
            rule: None,
            cleared,
            implied: false,
        })
    }

    /// Every payload of the journal the binary wrote before payloads were
    /// typed reads, and writes back to the very same JSON.
    #[test]
    fn every_payload_of_the_v1_fixture_writes_back_to_the_same_bytes() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/journal/v1/journal.jsonl"
        );
        let text = std::fs::read_to_string(path).expect("fixture");
        let mut kinds = std::collections::HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let event = parse_line(line.as_bytes()).expect("an event");
            let payload = Payload::from_details(event.kind, event.details())
                .unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
            assert_eq!(payload.kind(), event.kind);
            assert_eq!(
                serde_json::to_string(&payload.to_details()).expect("json"),
                serde_json::to_string(&event.details()).expect("json"),
                "line {}",
                n + 1
            );
            kinds.insert(event.kind);
        }
        assert_eq!(kinds.len(), Kind::ALL.len(), "the fixture has every kind");
    }

    #[test]
    fn a_payload_without_what_gives_its_kind_meaning_names_the_field() {
        let details: Map<String, Value> = serde_json::from_str(r#"{"matches":3}"#).expect("json");
        let err =
            Payload::from_details(Kind::SignatureRepeated, &details).expect_err("no signature");
        assert!(
            err.to_string().contains("signature.repeated") && err.to_string().contains("signature"),
            "{err}"
        );
        let lenient: Map<String, Value> =
            serde_json::from_str(r#"{"signature":"s","title":"t","severity":"high"}"#)
                .expect("json");
        let Payload::SignatureFired(fired) =
            Payload::from_details(Kind::SignatureFired, &lenient).expect("reads")
        else {
            panic!("a firing");
        };
        assert_eq!(
            (fired.hits, fired.precursor, fired.runbook),
            (1, false, None)
        );
    }
}
