//! The postmortem as data: everything any export format shows, built from
//! the folded journal and the library, and the JSON export itself
//! (serialize it; [`Postmortem`] reads back from it unchanged).
//!
//! Pure: no I/O, no clock (the generation time is an argument), no
//! formatting for people (times stay timestamps; renderers pick the zone).
//!
//! Invariants: `events` holds the incident's journal events verbatim (each
//! still verifies against its own hash); `timeline` has one row per event in
//! effective-time order; every figure in the other sections is derived from
//! `events` by the same fold as `triage incident show`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{
    incident::{
        Evidence, Incident, JournalEvent, Kind, Milestone, Payload, StepState, TimeSource,
        Timeline, payload::Fired, text::metric_rows,
    },
    library::Library,
};

/// The `format` tag of a JSON export.
pub const FORMAT: &str = "triage-postmortem";
/// The version of the JSON export.
pub const VERSION: u32 = 1;

/// A whole postmortem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Postmortem {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// `triage 0.1.0`.
    pub generator: String,
    /// When it was generated.
    pub generated_at: Timestamp,
    /// Who, what, how bad, how long.
    pub incident: Header,
    /// The five milestones, in order, set or not.
    pub milestones: Vec<MilestoneRow>,
    /// TTD, TTA, TTM, TTR.
    pub metrics: Vec<MetricRow>,
    /// What fired first, and how long after the first matching line.
    pub detection: Option<Detection>,
    /// Every event, in time order.
    pub timeline: Vec<TimelineRow>,
    /// The runbooks involved and their steps.
    pub runbooks: Vec<RunbookRow>,
    /// Signatures that fired, with counts.
    pub signatures: Vec<SignatureRow>,
    /// The log lines behind pinned events.
    pub excerpts: Vec<Excerpt>,
    /// Problem templates first seen during the incident (`new-problem`
    /// alerts), in the order they appeared.
    #[serde(default)]
    pub new_in_logs: Vec<NewInLogs>,
    /// Where the events come from, and the journal's head when exported.
    pub journal: JournalInfo,
    /// The incident's journal events, verbatim.
    pub events: Vec<JournalEvent>,
}

/// The header of the postmortem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// `INC-1`.
    pub id: String,
    /// One line.
    pub title: String,
    /// Current severity.
    pub severity: String,
    /// Current status.
    pub status: String,
    /// Still open.
    pub open: bool,
    /// The incident it was merged into (it ended there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// Who opened it (`triage` when a signature did).
    pub opened_by: String,
    /// The signature that opened it.
    pub cause: Option<String>,
    /// A person declared it.
    pub declared: bool,
    /// People who acted, in order of first action.
    pub responders: Vec<String>,
    /// From started (else detected) to resolved or to its merge, or to the
    /// export while open.
    pub duration_ms: i64,
}

/// One milestone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneRow {
    /// Which.
    pub milestone: Milestone,
    /// When, if set.
    pub at: Option<Timestamp>,
    /// Where that time comes from.
    pub source: Option<TimeSource>,
    /// The `milestone.set` event.
    pub seq: Option<u64>,
    /// Who set it.
    pub actor: Option<String>,
    /// Proposed by triage rather than set by a person.
    pub proposed: bool,
    /// Why.
    pub basis: Option<String>,
    /// The log line behind it.
    pub evidence: Option<Evidence>,
}

/// One metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricRow {
    /// `TTD`.
    pub name: String,
    /// `time to detect (detected − started)`.
    pub description: String,
    /// The value, when both milestones are set.
    pub millis: Option<i64>,
}

/// How the incident was detected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detection {
    /// The first signature that fired (not as an early warning).
    pub signature: String,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: String,
    /// When.
    pub at: Timestamp,
    /// The line.
    pub evidence: Option<Evidence>,
    /// The started milestone: the first matching line.
    pub first_line_at: Option<Timestamp>,
    /// Detected − started.
    pub after_first_line_ms: Option<i64>,
    /// Signatures that fired before, as early warnings.
    pub early_warnings: Vec<EarlyWarning>,
}

/// A signature that fired before detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyWarning {
    /// Signature id.
    pub signature: String,
    /// Its severity.
    pub severity: String,
    /// What it said.
    pub summary: String,
    /// When.
    pub at: Timestamp,
    /// The line.
    pub evidence: Option<Evidence>,
}

/// One row of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineRow {
    /// The event's number.
    pub seq: u64,
    /// Its id.
    pub id: String,
    /// When it happened (after corrections).
    pub occurred_at: Timestamp,
    /// Where that time comes from.
    pub occurred_at_source: TimeSource,
    /// The time was corrected by a later event.
    pub retimed: bool,
    /// When it was written.
    pub recorded_at: Timestamp,
    /// Who.
    pub actor: String,
    /// What kind.
    pub kind: Kind,
    /// What.
    pub summary: String,
    /// The line behind it.
    pub evidence: Option<Evidence>,
    /// Pinned for the postmortem.
    pub pinned: bool,
}

/// A runbook involved in the incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunbookRow {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Owner.
    pub owner: Option<String>,
    /// Signatures of the incident linked to it.
    pub signatures: Vec<String>,
    /// Its steps (all of them when the runbook is known), in order.
    pub steps: Vec<StepRow>,
}

/// A runbook step and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRow {
    /// 1-based position in the runbook (0 when the runbook is unknown).
    pub number: usize,
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// diagnose, mitigate, ...
    pub kind: Option<String>,
    /// Latest state, if any was recorded.
    pub state: Option<StepState>,
    /// Who.
    pub actor: Option<String>,
    /// When.
    pub at: Option<Timestamp>,
    /// The note given.
    pub note: Option<String>,
    /// The latest step event.
    pub seq: Option<u64>,
}

/// A signature that fired in the incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureRow {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: String,
    /// Runbook id.
    pub runbook: Option<String>,
    /// First firing.
    pub first_fired: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
    /// When it cleared, if it did.
    pub cleared_at: Option<Timestamp>,
    /// `signature.fired` events.
    pub fired: u64,
    /// Alerts.
    pub alerts: u64,
    /// Matching lines.
    pub matches: u64,
    /// Keys that fired.
    pub keys: Vec<String>,
    /// Only an early warning.
    pub precursor: bool,
    /// Times it was recorded (fired and repeated), for the chart.
    pub points: Vec<Timestamp>,
}

/// A problem template no signature knew, first seen during the incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInLogs {
    /// The `signature.fired` event.
    pub seq: u64,
    /// When its first line was written.
    pub first_seen: Timestamp,
    /// `new-problem` or `new-fatal-problem`.
    pub signature: String,
    /// Its severity.
    pub severity: String,
    /// The template's id.
    pub template: String,
    /// The template's text.
    pub template_text: String,
    /// Its first line.
    pub evidence: Option<Evidence>,
}

/// A pinned event's log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Excerpt {
    /// The event.
    pub seq: u64,
    /// When.
    pub occurred_at: Timestamp,
    /// What.
    pub summary: String,
    /// The line.
    pub evidence: Evidence,
}

/// The journal the postmortem was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalInfo {
    /// Its path.
    pub path: String,
    /// Events of this incident.
    pub events: usize,
    /// The journal's last event when exported.
    pub head_seq: u64,
    /// Its hash.
    pub head_hash: String,
}

/// A milestone event's summary without its `Started (proposed): ` lead.
fn basis(milestone: Milestone, summary: &str) -> String {
    let name = milestone.as_str();
    match summary.split_once(": ") {
        Some((lead, rest)) if lead.to_lowercase().starts_with(name) => rest.to_owned(),
        _ => summary.to_owned(),
    }
}

/// The firing an event records, if it is one.
fn firing(event: &JournalEvent) -> Option<&Fired> {
    match event.payload() {
        Payload::SignatureFired(fired) => Some(fired),
        _ => None,
    }
}

/// Builds the postmortem of `inc`.
pub fn build(
    timeline: &Timeline,
    inc: &Incident,
    library: &Library,
    journal_path: &str,
    generated_at: Timestamp,
) -> Postmortem {
    let metrics = inc.metrics(generated_at);
    let chronological = inc.chronological();
    let events: Vec<JournalEvent> = inc
        .entries
        .iter()
        .map(|e| timeline.event_of(e).clone())
        .collect();

    let milestones = Milestone::ALL
        .iter()
        .map(|&m| {
            let value = inc.milestone(m);
            MilestoneRow {
                milestone: m,
                at: value.as_ref().map(|v| v.at),
                source: value.as_ref().map(|v| v.source),
                seq: value.as_ref().map(|v| v.seq),
                actor: value.as_ref().map(|v| v.actor.clone()),
                proposed: value.as_ref().is_some_and(|v| v.proposed),
                basis: value.as_ref().map(|v| basis(m, &v.basis)),
                evidence: value
                    .as_ref()
                    .and_then(|v| timeline.event(v.seq))
                    .and_then(|e| e.evidence.clone()),
            }
        })
        .collect();

    let metric_rows = metric_rows(&metrics)
        .iter()
        .map(|(name, description, value)| MetricRow {
            name: (*name).to_owned(),
            description: (*description).to_owned(),
            millis: value.map(|d| d.as_millis() as i64),
        })
        .collect();

    let fired: Vec<(&JournalEvent, &Fired, Timestamp)> = chronological
        .iter()
        .filter_map(|e| {
            let event = timeline.event_of(e);
            Some((event, firing(event)?, e.occurred_at))
        })
        .collect();
    let detection = fired
        .iter()
        .find(|(_, f, _)| !f.precursor)
        .map(|(first, f, at)| {
            let first_line_at = inc.milestone(Milestone::Started).map(|m| m.at);
            Detection {
                signature: f.signature.clone(),
                title: f.title.clone(),
                severity: f.severity.as_str().to_owned(),
                at: *at,
                evidence: first.evidence.clone(),
                first_line_at,
                after_first_line_ms: first_line_at.map(|s| at.duration_since(s).as_millis() as i64),
                early_warnings: fired
                    .iter()
                    .filter(|(_, f, _)| f.precursor)
                    .map(|(e, f, at)| EarlyWarning {
                        signature: f.signature.clone(),
                        severity: f.severity.as_str().to_owned(),
                        summary: e.summary.clone(),
                        at: *at,
                        evidence: e.evidence.clone(),
                    })
                    .collect(),
            }
        });

    let rows: Vec<TimelineRow> = chronological
        .iter()
        .map(|entry| {
            let e = timeline.event_of(entry);
            TimelineRow {
                seq: e.seq,
                id: e.id.clone(),
                occurred_at: entry.occurred_at,
                occurred_at_source: entry.source,
                retimed: entry.retimed,
                recorded_at: e.recorded_at,
                actor: e.actor.clone(),
                kind: e.kind,
                summary: e.summary.clone(),
                evidence: e.evidence.clone(),
                pinned: entry.pinned,
            }
        })
        .collect();

    let excerpts = rows
        .iter()
        .filter(|r| r.pinned)
        .filter_map(|r| {
            Some(Excerpt {
                seq: r.seq,
                occurred_at: r.occurred_at,
                summary: r.summary.clone(),
                evidence: r.evidence.clone()?,
            })
        })
        .collect();

    // Signatures triage raises itself from what it mined (`new-problem`).
    let raised: Vec<&str> = library.raised_signatures().map(|s| s.id.as_str()).collect();
    let new_in_logs = rows
        .iter()
        .filter(|r| r.kind == Kind::SignatureFired)
        .filter_map(|r| {
            let f = firing(timeline.event(r.seq)?)?;
            if !raised.contains(&f.signature.as_str()) {
                return None;
            }
            let capture = |key: &str| {
                f.captures
                    .iter()
                    .find(|(name, _)| name == key)
                    .map(|(_, value)| value.clone())
                    .unwrap_or_default()
            };
            Some(NewInLogs {
                seq: r.seq,
                first_seen: r.occurred_at,
                signature: f.signature.clone(),
                severity: f.severity.as_str().to_owned(),
                template: capture("template"),
                template_text: capture("template_text"),
                evidence: r.evidence.clone(),
            })
        })
        .collect();

    let signatures = inc
        .signatures
        .iter()
        .map(|s| SignatureRow {
            id: s.id.clone(),
            title: s.title.clone(),
            severity: s.severity.as_str().to_owned(),
            runbook: s.runbook.clone(),
            first_fired: s.first_fired,
            last_seen: s.last_seen,
            cleared_at: s.cleared_at,
            fired: s.fired,
            alerts: s.alerts,
            matches: s.matches,
            keys: s.keys.iter().filter(|k| !k.is_empty()).cloned().collect(),
            precursor: s.precursor,
            points: rows
                .iter()
                .filter(|r| {
                    matches!(r.kind, Kind::SignatureFired | Kind::SignatureRepeated)
                        && timeline
                            .event(r.seq)
                            .and_then(|e| e.payload().signature_event())
                            .is_some_and(|id| id == s.id)
                })
                .map(|r| r.occurred_at)
                .collect(),
        })
        .collect();

    let head = timeline.last();
    Postmortem {
        format: FORMAT.to_owned(),
        version: VERSION,
        generator: format!("triage {}", env!("CARGO_PKG_VERSION")),
        generated_at,
        incident: Header {
            id: inc.id.clone(),
            title: inc.title.clone(),
            severity: inc.severity.as_str().to_owned(),
            status: inc.status.as_str().to_owned(),
            open: inc.is_open(),
            merged_into: inc.merged_into.clone(),
            opened_at: inc.opened_at,
            opened_by: inc.opened_by.clone(),
            cause: inc.cause.clone(),
            declared: inc.declared,
            responders: inc.responders.clone(),
            duration_ms: metrics.elapsed.as_millis() as i64,
        },
        milestones,
        metrics: metric_rows,
        detection,
        timeline: rows,
        runbooks: runbooks(timeline, inc, library),
        signatures,
        excerpts,
        new_in_logs,
        journal: JournalInfo {
            path: journal_path.to_owned(),
            events: events.len(),
            head_seq: head.map_or(0, |e| e.seq),
            head_hash: head.map_or_else(String::new, |e| e.hash.clone()),
        },
        events,
    }
}

/// The runbooks of the signatures that fired, then any other runbook a step
/// was recorded for; each with all its steps when the library knows it.
fn runbooks(timeline: &Timeline, inc: &Incident, library: &Library) -> Vec<RunbookRow> {
    let mut ids: Vec<String> = Vec::new();
    for s in &inc.signatures {
        if let Some(id) = &s.runbook
            && !ids.contains(id)
        {
            ids.push(id.clone());
        }
    }
    for step in &inc.steps {
        if !ids.contains(&step.runbook) {
            ids.push(step.runbook.clone());
        }
    }
    ids.into_iter()
        .map(|id| {
            let signatures = inc
                .signatures
                .iter()
                .filter(|s| s.runbook.as_deref() == Some(id.as_str()))
                .map(|s| s.id.clone())
                .collect();
            let recorded = |step_id: &str| {
                inc.step(&id, step_id).map(|p| {
                    (
                        p.state,
                        p.actor.clone(),
                        inc.time_of(p.seq),
                        p.note.clone(),
                        p.seq,
                    )
                })
            };
            let row = |number: usize, step_id: &str, title: String, kind: Option<String>| {
                let progress = recorded(step_id);
                StepRow {
                    number,
                    id: step_id.to_owned(),
                    title,
                    kind,
                    state: progress.as_ref().map(|p| p.0),
                    actor: progress.as_ref().map(|p| p.1.clone()),
                    at: progress.as_ref().and_then(|p| p.2),
                    note: progress.as_ref().and_then(|p| p.3.clone()),
                    seq: progress.as_ref().map(|p| p.4),
                }
            };
            match library.runbook(&id) {
                Some(book) => RunbookRow {
                    title: book.title.clone(),
                    owner: book.owner.clone(),
                    signatures,
                    steps: book
                        .steps
                        .iter()
                        .enumerate()
                        .map(|(i, s)| {
                            row(
                                i + 1,
                                &s.id,
                                s.title.clone(),
                                Some(s.kind.as_str().to_owned()),
                            )
                        })
                        .collect(),
                    id,
                },
                None => {
                    // Not in this library: what the journal says about it.
                    let steps = inc
                        .steps
                        .iter()
                        .filter(|p| p.runbook == id)
                        .map(|p| {
                            let step = timeline.event(p.seq).and_then(|e| e.payload().step());
                            let title = step
                                .map(|s| s.step_title.as_str())
                                .filter(|t| !t.is_empty())
                                .unwrap_or(&p.step)
                                .to_owned();
                            let kind = step.map(|s| s.step_kind.clone()).filter(|k| !k.is_empty());
                            row(0, &p.step, title, kind)
                        })
                        .collect();
                    let title = inc
                        .steps
                        .iter()
                        .filter(|p| p.runbook == id)
                        .find_map(|p| {
                            let step = timeline.event(p.seq)?.payload().step()?;
                            Some(step.runbook_title.as_str()).filter(|t| !t.is_empty())
                        })
                        .unwrap_or(&id)
                        .to_owned();
                    RunbookRow {
                        title,
                        owner: None,
                        signatures,
                        steps,
                        id,
                    }
                }
            }
        })
        .collect()
}
