//! One journal event: its fields, its kinds, its canonical form and its hash.
//!
//! Owns the on-disk shape of an event (one JSON object per line, fields in a
//! fixed order, format [`FORMAT_VERSION`]) and the hash chain: an event's
//! `hash` is the SHA-256 of its canonical serialization, which is the event's
//! JSON without the `hash` field and includes `prev_hash`, so changing,
//! removing or reordering an event breaks every link after it.
//!
//! Must not do I/O or read a clock: a [`Draft`] becomes an [`JournalEvent`] only when
//! the journal seals it under its lock with the sequence number, the time of
//! recording and the previous hash.
//!
//! Invariants: `seq` starts at 1 and grows by one per event of a journal; the
//! first event's `prev_hash` is [`GENESIS`]; `recorded_at` is never edited
//! (edits are new events that reference an older one by `seq`).

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::payload::{Payload, PayloadError};

/// Version of the journal line format; written in every event.
pub const FORMAT_VERSION: u32 = 1;

/// `prev_hash` of the first event of a journal.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The actor of automatic events.
pub const AUTOMATIC_ACTOR: &str = "triage";

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// An incident was opened by a signature or declared by a person.
    #[serde(rename = "incident.opened")]
    IncidentOpened,
    /// A signature fired (with the evidence line).
    #[serde(rename = "signature.fired")]
    SignatureFired,
    /// More matching lines and alerts of a signature that already fired,
    /// counted over about a minute.
    #[serde(rename = "signature.repeated")]
    SignatureRepeated,
    /// A signature was quiet for its `clear_after`.
    #[serde(rename = "signature.cleared")]
    SignatureCleared,
    /// Someone acknowledged the incident.
    #[serde(rename = "ack")]
    Ack,
    /// A note.
    #[serde(rename = "note")]
    Note,
    /// A runbook step was started.
    #[serde(rename = "step.started")]
    StepStarted,
    /// A runbook step was done.
    #[serde(rename = "step.done")]
    StepDone,
    /// A runbook step was skipped.
    #[serde(rename = "step.skipped")]
    StepSkipped,
    /// The severity changed.
    #[serde(rename = "severity.changed")]
    SeverityChanged,
    /// The status changed (investigating, mitigated, resolved).
    #[serde(rename = "status.changed")]
    StatusChanged,
    /// A milestone was set (or cleared).
    #[serde(rename = "milestone.set")]
    MilestoneSet,
    /// A postmortem was exported.
    #[serde(rename = "export.generated")]
    ExportGenerated,
    /// An earlier event was pinned for the postmortem.
    #[serde(rename = "event.pinned")]
    EventPinned,
    /// An earlier event was unpinned.
    #[serde(rename = "event.unpinned")]
    EventUnpinned,
    /// The time of an earlier event was corrected.
    #[serde(rename = "event.time_set")]
    EventTimeSet,
    /// A person merged this incident into another (`into`): its timeline,
    /// signatures and steps are the other's from here on.
    #[serde(rename = "incident.merged")]
    IncidentMerged,
    /// A person split signatures (`signatures`) off incident `from` into
    /// this one, which an `incident.opened` just before opened.
    #[serde(rename = "incident.split")]
    IncidentSplit,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 18] = [
        Kind::IncidentOpened,
        Kind::SignatureFired,
        Kind::SignatureRepeated,
        Kind::SignatureCleared,
        Kind::Ack,
        Kind::Note,
        Kind::StepStarted,
        Kind::StepDone,
        Kind::StepSkipped,
        Kind::SeverityChanged,
        Kind::StatusChanged,
        Kind::MilestoneSet,
        Kind::ExportGenerated,
        Kind::EventPinned,
        Kind::EventUnpinned,
        Kind::EventTimeSet,
        Kind::IncidentMerged,
        Kind::IncidentSplit,
    ];

    /// The name written in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::IncidentOpened => "incident.opened",
            Kind::SignatureFired => "signature.fired",
            Kind::SignatureRepeated => "signature.repeated",
            Kind::SignatureCleared => "signature.cleared",
            Kind::Ack => "ack",
            Kind::Note => "note",
            Kind::StepStarted => "step.started",
            Kind::StepDone => "step.done",
            Kind::StepSkipped => "step.skipped",
            Kind::SeverityChanged => "severity.changed",
            Kind::StatusChanged => "status.changed",
            Kind::MilestoneSet => "milestone.set",
            Kind::ExportGenerated => "export.generated",
            Kind::EventPinned => "event.pinned",
            Kind::EventUnpinned => "event.unpinned",
            Kind::EventTimeSet => "event.time_set",
            Kind::IncidentMerged => "incident.merged",
            Kind::IncidentSplit => "incident.split",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Where an event's `occurred_at` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeSource {
    /// The timestamp written in a log line.
    Log,
    /// Given by a person (`--at`, `set-time`, `milestone`).
    Operator,
    /// This machine's clock when the event was recorded.
    Clock,
}

impl TimeSource {
    /// The name written in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeSource::Log => "log",
            TimeSource::Operator => "operator",
            TimeSource::Clock => "clock",
        }
    }
}

/// The log line that proves an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The file (path as it was followed or scanned, or `-`).
    pub source: String,
    /// Byte offset of the line's first byte (in the decompressed stream).
    pub offset: u64,
    /// 1-based line number.
    pub line_no: u64,
    /// The line itself, as read (not sanitised: sanitising is for display).
    pub line: String,
}

impl Evidence {
    /// `source:line_no`, the way evidence is cited.
    pub fn cite(&self) -> String {
        format!("{}:{}", self.source, self.line_no)
    }
}

/// One line of the journal.
///
/// Its `details` are kept as read (the hash covers them, so an old line
/// verifies whatever this triage makes of it) and read once into
/// [`Payload`], the typed form every reader uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Line")]
pub struct JournalEvent {
    /// [`FORMAT_VERSION`] of the writer.
    pub version: u32,
    /// Position in the journal, from 1, without gaps.
    pub seq: u64,
    /// Unique id of the event (16 hex digits).
    pub id: String,
    /// The incident it belongs to (`INC-1`, ...).
    pub incident: String,
    /// What happened.
    pub kind: Kind,
    /// When it happened (from the log, a person, or the clock).
    pub occurred_at: Timestamp,
    /// Where `occurred_at` comes from.
    pub occurred_at_source: TimeSource,
    /// When it was written to the journal; never edited.
    pub recorded_at: Timestamp,
    /// A person, or `triage` for automatic events.
    pub actor: String,
    /// One line for people.
    pub summary: String,
    /// Kind-specific fields as written (integers and strings only: no
    /// floats, so the canonical form is stable); read them as `payload`.
    details: Map<String, Value>,
    /// The log line behind the event.
    pub evidence: Option<Evidence>,
    /// Pinned for the postmortem when written (pins added later are
    /// `event.pinned` events).
    pub pinned: bool,
    /// `hash` of the previous event, or [`GENESIS`].
    pub prev_hash: String,
    /// SHA-256 of the canonical form, lower-case hex.
    pub hash: String,
    /// What `details` say, typed by `kind` (read once, when the line is;
    /// made with `details` when a draft is sealed).
    #[serde(skip_serializing)]
    payload: Payload,
}

/// A journal line as written: an [`JournalEvent`] before its details are read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    version: u32,
    seq: u64,
    id: String,
    incident: String,
    kind: Kind,
    occurred_at: Timestamp,
    occurred_at_source: TimeSource,
    recorded_at: Timestamp,
    actor: String,
    summary: String,
    details: Map<String, Value>,
    evidence: Option<Evidence>,
    pinned: bool,
    prev_hash: String,
    hash: String,
}

impl TryFrom<Line> for JournalEvent {
    type Error = PayloadError;

    fn try_from(line: Line) -> Result<JournalEvent, PayloadError> {
        let payload = Payload::from_details(line.kind, &line.details)?;
        Ok(JournalEvent {
            version: line.version,
            seq: line.seq,
            id: line.id,
            incident: line.incident,
            kind: line.kind,
            occurred_at: line.occurred_at,
            occurred_at_source: line.occurred_at_source,
            recorded_at: line.recorded_at,
            actor: line.actor,
            summary: line.summary,
            details: line.details,
            evidence: line.evidence,
            pinned: line.pinned,
            prev_hash: line.prev_hash,
            hash: line.hash,
            payload,
        })
    }
}

/// The hashed part of an event: every field but `hash`, in line order.
#[derive(Serialize)]
struct Canonical<'a> {
    version: u32,
    seq: u64,
    id: &'a str,
    incident: &'a str,
    kind: Kind,
    occurred_at: Timestamp,
    occurred_at_source: TimeSource,
    recorded_at: Timestamp,
    actor: &'a str,
    summary: &'a str,
    details: &'a Map<String, Value>,
    evidence: &'a Option<Evidence>,
    pinned: bool,
    prev_hash: &'a str,
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

impl JournalEvent {
    /// The canonical serialization the hash is computed over.
    pub fn canonical(&self) -> Vec<u8> {
        let canonical = Canonical {
            version: self.version,
            seq: self.seq,
            id: &self.id,
            incident: &self.incident,
            kind: self.kind,
            occurred_at: self.occurred_at,
            occurred_at_source: self.occurred_at_source,
            recorded_at: self.recorded_at,
            actor: &self.actor,
            summary: &self.summary,
            details: &self.details,
            evidence: &self.evidence,
            pinned: self.pinned,
            prev_hash: &self.prev_hash,
        };
        serde_json::to_vec(&canonical).expect("an event is plain data and always serializes")
    }

    /// The hash this event's content calls for.
    pub fn compute_hash(&self) -> String {
        sha256_hex(&self.canonical())
    }

    /// Whether `hash` matches the content.
    pub fn hash_is_valid(&self) -> bool {
        self.compute_hash() == self.hash
    }

    /// The journal line (without its newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("an event is plain data and always serializes")
    }

    /// What the event says, typed by its kind.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The details as written (for bodies that pass them on verbatim, such
    /// as a webhook's).
    pub fn details(&self) -> &Map<String, Value> {
        &self.details
    }
}

/// An event before the journal seals it.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// The incident it belongs to.
    pub incident: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Where that time comes from.
    pub occurred_at_source: TimeSource,
    /// Who.
    pub actor: String,
    /// One line for people.
    pub summary: String,
    /// What it says (its kind is the payload's).
    pub payload: Payload,
    /// The log line behind it.
    pub evidence: Option<Evidence>,
    /// Pinned for the postmortem.
    pub pinned: bool,
}

impl Draft {
    /// A draft with no evidence, not pinned.
    pub fn new(
        incident: &str,
        payload: Payload,
        occurred_at: Timestamp,
        occurred_at_source: TimeSource,
        actor: &str,
        summary: impl Into<String>,
    ) -> Draft {
        Draft {
            incident: incident.to_owned(),
            occurred_at,
            occurred_at_source,
            actor: actor.to_owned(),
            summary: summary.into(),
            payload,
            evidence: None,
            pinned: false,
        }
    }

    /// What it records.
    pub fn kind(&self) -> Kind {
        self.payload.kind()
    }

    /// Adds the evidence.
    pub fn evidence(mut self, evidence: Option<Evidence>) -> Draft {
        self.evidence = evidence;
        self
    }

    /// Marks it pinned.
    pub fn pinned(mut self, pinned: bool) -> Draft {
        self.pinned = pinned;
        self
    }

    /// The event this draft becomes at position `seq` after `prev_hash`.
    pub fn seal(
        self,
        seq: u64,
        id: String,
        recorded_at: Timestamp,
        prev_hash: &str,
    ) -> JournalEvent {
        let mut event = JournalEvent {
            version: FORMAT_VERSION,
            seq,
            id,
            incident: self.incident,
            kind: self.payload.kind(),
            occurred_at: self.occurred_at,
            occurred_at_source: self.occurred_at_source,
            recorded_at,
            actor: self.actor,
            summary: self.summary,
            details: self.payload.to_details(),
            evidence: self.evidence,
            pinned: self.pinned,
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
            payload: self.payload,
        };
        event.hash = event.compute_hash();
        event
    }
}

/// Version of the head file's format; written in it.
pub const HEAD_VERSION: u32 = 1;

/// The journal's head as recorded beside it (`journal.head`) after every
/// append: the last event's `seq` and `hash`. A chain kept next to its data
/// shows every change but one: events cut off its end leave a valid,
/// shorter chain. The head, written after the events it names, shows that
/// cut (see `verify::check_head`).
///
/// On disk: two slots of [`HEAD_SLOT`] bytes, each one line of JSON padded
/// with spaces, with a `check` (SHA-256 of the rest) so that a slot torn by
/// a crash reads as no slot. An append overwrites, in place, the slot not
/// holding the newest head (one `fsync` of a file that does not change
/// size: half the price of a new file renamed), so the other slot always
/// holds the previous head whole. The head is the valid slot of highest
/// seq.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// [`HEAD_VERSION`] of the writer.
    pub version: u32,
    /// The last event's `seq`.
    pub seq: u64,
    /// Its `hash`.
    pub hash: String,
}

/// Bytes of one slot of the head file, newline included.
pub const HEAD_SLOT: usize = 192;

/// A slot as written: the head and its check.
#[derive(Serialize, Deserialize)]
struct Slot {
    version: u32,
    seq: u64,
    hash: String,
    check: String,
}

fn slot_check(version: u32, seq: u64, hash: &str) -> String {
    sha256_hex(format!("{version}:{seq}:{hash}").as_bytes())[..16].to_owned()
}

impl Head {
    /// The head naming `event`.
    pub fn of(event: &JournalEvent) -> Head {
        Head {
            version: HEAD_VERSION,
            seq: event.seq,
            hash: event.hash.clone(),
        }
    }

    /// This head as one slot: [`HEAD_SLOT`] bytes, a line.
    pub fn to_slot(&self) -> Vec<u8> {
        let slot = Slot {
            version: self.version,
            seq: self.seq,
            hash: self.hash.clone(),
            check: slot_check(self.version, self.seq, &self.hash),
        };
        let mut line = serde_json::to_vec(&slot).expect("a head is plain data");
        // A hash is 64 hex digits: a slot fits with room to spare.
        line.resize(HEAD_SLOT - 1, b' ');
        line.push(b'\n');
        line
    }

    /// A slot that holds nothing yet.
    pub fn empty_slot() -> Vec<u8> {
        let mut line = vec![b' '; HEAD_SLOT - 1];
        line.push(b'\n');
        line
    }

    /// The head in a head file's bytes: the valid slot of highest seq;
    /// `None` when no slot holds one yet. A file with slots of which none
    /// is valid (or one of a newer format) is an error, said in words.
    pub fn from_slots(bytes: &[u8]) -> Result<Option<Head>, String> {
        Ok(Head::newest(bytes)?.map(|(_, head)| head))
    }

    /// The slot the next head goes to: the one not holding the newest.
    pub fn next_slot(bytes: &[u8]) -> usize {
        match Head::newest(bytes) {
            Ok(Some((0, _))) => 1,
            _ => 0,
        }
    }

    /// The newest valid slot's index and head.
    fn newest(bytes: &[u8]) -> Result<Option<(usize, Head)>, String> {
        let mut best: Option<(usize, Head)> = None;
        let mut written = false;
        let mut why = None;
        for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
                continue;
            }
            written = true;
            let slot = match serde_json::from_slice::<Slot>(line.trim_ascii_end()) {
                Ok(slot) => slot,
                Err(err) => {
                    why.get_or_insert_with(|| err.to_string());
                    continue;
                }
            };
            if slot.version > HEAD_VERSION {
                return Err(format!(
                    "format {} is newer than this triage's {HEAD_VERSION}",
                    slot.version
                ));
            }
            if slot.check != slot_check(slot.version, slot.seq, &slot.hash) {
                why.get_or_insert_with(|| "a slot fails its check".to_owned());
                continue;
            }
            if best.as_ref().is_none_or(|(_, b)| slot.seq > b.seq) {
                let head = Head {
                    version: slot.version,
                    seq: slot.seq,
                    hash: slot.hash,
                };
                best = Some((index, head));
            }
        }
        match (best, written) {
            (Some(best), _) => Ok(Some(best)),
            (None, false) => Ok(None),
            (None, true) => Err(why.unwrap_or_else(|| "no slot holds a head".to_owned())),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn ts(s: &str) -> Timestamp {
        s.parse().expect("test timestamp")
    }

    pub(crate) fn sample(seq: u64, prev: &str) -> JournalEvent {
        Draft::new(
            "INC-1",
            Payload::Note(crate::incident::payload::Note {
                text: "restarted orders".into(),
            }),
            ts("2026-11-21T03:10:00Z"),
            TimeSource::Clock,
            "alice",
            "restarted <b>orders</b> | \"quoted\"",
        )
        .evidence(Some(Evidence {
            source: "app/orders.log".into(),
            offset: 10,
            line_no: 2,
            line: "a\u{1b}[31m line".into(),
        }))
        .seal(
            seq,
            format!("{seq:016x}"),
            ts("2026-11-21T03:10:01.5Z"),
            prev,
        )
    }

    #[test]
    fn the_line_is_the_canonical_form_plus_the_hash() {
        let event = sample(1, GENESIS);
        let line = event.to_line();
        let canonical = String::from_utf8(event.canonical()).expect("utf-8");
        assert_eq!(
            line,
            format!(
                "{},\"hash\":\"{}\"}}",
                &canonical[..canonical.len() - 1],
                event.hash
            )
        );
        assert!(line.starts_with("{\"version\":1,\"seq\":1,\"id\":"));
        assert_eq!(event.hash.len(), 64);
        assert!(event.hash_is_valid());
    }

    #[test]
    fn a_line_reads_back_to_the_same_event_and_hash() {
        let event = sample(7, &"a".repeat(64));
        let back: JournalEvent = serde_json::from_str(&event.to_line()).expect("parses");
        assert_eq!(back, event);
        assert!(back.hash_is_valid());
    }

    #[test]
    fn any_change_of_content_or_link_changes_the_hash() {
        let event = sample(1, GENESIS);
        let mut changed = event.clone();
        changed.summary.push('!');
        assert!(!changed.hash_is_valid());
        let mut relinked = event.clone();
        relinked.prev_hash = "1".repeat(64);
        assert!(!relinked.hash_is_valid());
        let mut moved = event.clone();
        moved.seq = 2;
        assert!(!moved.hash_is_valid());
        let mut retimed = event;
        retimed.recorded_at = ts("2026-11-21T03:10:02Z");
        assert!(!retimed.hash_is_valid());
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in Kind::ALL {
            let json = serde_json::to_string(&kind).expect("serializes");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<Kind>(&json).expect("parses"), kind);
        }
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_head_reads_back_from_its_slot_and_a_torn_slot_is_no_slot() {
        let older = Head::of(&sample(4, GENESIS));
        let newer = Head::of(&sample(6, &older.hash));
        let mut file = [Head::empty_slot(), Head::empty_slot()].concat();
        assert_eq!(Head::next_slot(&file), 0);
        file[..HEAD_SLOT].copy_from_slice(&older.to_slot());
        assert_eq!(Head::from_slots(&file), Ok(Some(older.clone())));
        // The next head goes to the other slot, whatever its seq.
        assert_eq!(Head::next_slot(&file), 1);
        file[HEAD_SLOT..].copy_from_slice(&newer.to_slot());
        assert_eq!(Head::from_slots(&file), Ok(Some(newer.clone())));
        assert_eq!(Head::next_slot(&file), 0);
        // The newer slot torn half way: the older one is the head.
        let start = HEAD_SLOT;
        file[start + 40..start + HEAD_SLOT].copy_from_slice(&Head::empty_slot()[40..]);
        assert_eq!(Head::from_slots(&file), Ok(Some(older.clone())));
        // A digit of the hash changed: the check fails.
        let mut changed = older.to_slot();
        let at = changed.iter().position(|&b| b == b'"').unwrap_or(0);
        let digit = older
            .to_slot()
            .windows(8)
            .position(|w| w == b"\"hash\":\"")
            .unwrap_or(at)
            + 8;
        changed[digit] = if changed[digit] == b'0' { b'1' } else { b'0' };
        assert!(Head::from_slots(&changed).is_err());
        assert_eq!(Head::from_slots(&Head::empty_slot()), Ok(None));
        assert_eq!(Head::from_slots(b""), Ok(None));
        assert!(Head::from_slots(b"{\"seq\":").is_err());
    }
}
