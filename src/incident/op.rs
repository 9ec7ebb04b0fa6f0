//! The typed incident API: every operation a person does on the journal
//! ([`Op`]: declare, ack, note, step, severity, status, pin, set-time,
//! milestone, merge, split), carried out by [`apply`] on an open
//! [`Journal`] with an [`OpContext`] that borrows the library the caller
//! already has. `triage incident ...` maps its arguments to an `Op` once
//! (`command`); the console builds `Op`s from keys. Both get back the events
//! written and say what they like about them.
//!
//! Each write is planned inside [`Journal::append`], on the journal as read
//! under its lock, so "the latest open incident" and "already acknowledged"
//! are decided on what is really there, whoever else is appending.
//!
//! Must not: parse text (times arrive as timestamps), print, or run
//! anything (a runbook step is recorded, never executed).

use std::{cell::OnceCell, path::PathBuf};

use jiff::Timestamp;

use super::{
    command::CommandError,
    event::{Draft, JournalEvent, TimeSource},
    journal::Journal,
    payload::{self, Payload},
    state::{Incident, Milestone, SignatureStats, Status, StepState, Timeline},
};
use crate::{library::Library, model::Severity};

/// One thing a person does to an incident. Times (`at`) are when it
/// happened, as the person says (`None`: now, by the clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Open an incident by hand (and propose its detection).
    Declare {
        /// One line saying what is wrong (default: "Incident declared by …").
        title: Option<String>,
        /// How bad (default: high).
        severity: Option<Severity>,
        /// When it was detected.
        at: Option<Timestamp>,
    },
    /// Someone is on it (sets the acknowledged milestone once).
    Ack {
        /// When.
        at: Option<Timestamp>,
    },
    /// A note on the timeline.
    Note {
        /// The note.
        text: String,
        /// When.
        at: Option<Timestamp>,
    },
    /// A runbook step started, done or skipped.
    Step {
        /// Runbook id.
        runbook: String,
        /// Step id within it.
        step: String,
        /// What became of it.
        outcome: StepState,
        /// What was seen, or why it was skipped.
        note: Option<String>,
        /// When.
        at: Option<Timestamp>,
    },
    /// A new severity (nothing when it is already that).
    Severity {
        /// The severity.
        to: Severity,
        /// When.
        at: Option<Timestamp>,
    },
    /// A new status, with the milestones it sets or clears (nothing when it
    /// is already that).
    Status {
        /// The status.
        to: Status,
        /// Why.
        note: Option<String>,
        /// When.
        at: Option<Timestamp>,
    },
    /// Pin (or unpin) an event for the postmortem.
    Pin {
        /// The event's number.
        seq: u64,
        /// Unpin instead.
        unpin: bool,
    },
    /// Correct when an event happened.
    SetTime {
        /// The event's number.
        seq: u64,
        /// When it really happened.
        to: Timestamp,
    },
    /// Set a milestone's time by hand.
    Milestone {
        /// Which.
        milestone: Milestone,
        /// When.
        at: Timestamp,
    },
    /// Merge incident `id` into `into`.
    Merge {
        /// The incident that closes.
        id: String,
        /// The one it goes into.
        into: String,
    },
    /// Split signatures off the incident into a new one.
    Split {
        /// The signatures to move.
        signatures: Vec<String>,
        /// The new incident's title (default: the first signature's).
        title: Option<String>,
    },
}

/// What an operation is carried out with.
pub struct OpContext<'a> {
    /// Who acts (checked: see `command::actor`).
    pub actor: &'a str,
    /// The present: the time of events without an `at`.
    pub now: Timestamp,
    library: Runbooks<'a>,
}

/// Where the runbooks a step names are looked up.
enum Runbooks<'a> {
    /// A library the caller loaded.
    Loaded(&'a Library),
    /// Loaded the first time an operation needs it (the command line: only
    /// `step` does).
    OnFirstUse {
        cell: &'a OnceCell<Library>,
        patterns: &'a [PathBuf],
        runbooks: &'a [PathBuf],
    },
}

impl<'a> OpContext<'a> {
    /// A context over a loaded library.
    pub fn new(library: &'a Library, actor: &'a str, now: Timestamp) -> OpContext<'a> {
        OpContext {
            actor,
            now,
            library: Runbooks::Loaded(library),
        }
    }

    /// A context that loads the library (shipped files and these
    /// directories) into `cell` when an operation first needs it.
    pub fn loading(
        cell: &'a OnceCell<Library>,
        patterns: &'a [PathBuf],
        runbooks: &'a [PathBuf],
        actor: &'a str,
        now: Timestamp,
    ) -> OpContext<'a> {
        OpContext {
            actor,
            now,
            library: Runbooks::OnFirstUse {
                cell,
                patterns,
                runbooks,
            },
        }
    }

    /// Signatures and runbooks (problems in the user's files are `triage
    /// check`'s to report).
    pub fn library(&self) -> &Library {
        match &self.library {
            Runbooks::Loaded(library) => library,
            Runbooks::OnFirstUse {
                cell,
                patterns,
                runbooks,
            } => cell.get_or_init(|| Library::load(patterns, runbooks).0),
        }
    }

    fn when(&self, at: Option<Timestamp>) -> (Timestamp, TimeSource) {
        match at {
            Some(at) => (at, TimeSource::Operator),
            None => (self.now, TimeSource::Clock),
        }
    }
}

fn known_incidents(timeline: &Timeline) -> String {
    match timeline.incidents() {
        [] => "none".to_owned(),
        incidents => listed(incidents.iter().map(|i| i.id.as_str())),
    }
}

/// Names as an error message lists them: `a, b, c`.
fn listed<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// The incident a write goes to: the one named, else the latest open one.
pub fn target<'t>(
    timeline: &'t Timeline,
    named: Option<&str>,
) -> Result<&'t Incident, CommandError> {
    match named {
        Some(id) => timeline
            .incident(id)
            .ok_or_else(|| CommandError::UnknownIncident {
                id: id.to_owned(),
                known: known_incidents(timeline),
            }),
        None => timeline.latest_open().ok_or(CommandError::NoOpenIncident),
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

fn milestone_set(milestone: Milestone) -> payload::MilestoneSet {
    payload::MilestoneSet {
        milestone,
        proposed: false,
        signature: None,
        rule: None,
        cleared: false,
        implied: false,
    }
}

fn milestone_draft(
    inc: &str,
    milestone: Milestone,
    at: Timestamp,
    source: TimeSource,
    actor: &str,
    basis: &str,
) -> Draft {
    Draft::new(
        inc,
        Payload::MilestoneSet(milestone_set(milestone)),
        at,
        source,
        actor,
        format!("{}: {basis}", capitalized(milestone.as_str())),
    )
}

/// [`milestone_draft`] marked implied (set because a later milestone was).
fn implied_milestone(
    inc: &str,
    milestone: Milestone,
    at: Timestamp,
    source: TimeSource,
    actor: &str,
    basis: &str,
) -> Draft {
    let mut draft = milestone_draft(inc, milestone, at, source, actor, basis);
    draft.payload = Payload::MilestoneSet(payload::MilestoneSet {
        implied: true,
        ..milestone_set(milestone)
    });
    draft
}

fn cleared_milestone(inc: &str, milestone: Milestone, at: Timestamp, actor: &str) -> Draft {
    Draft::new(
        inc,
        Payload::MilestoneSet(payload::MilestoneSet {
            cleared: true,
            ..milestone_set(milestone)
        }),
        at,
        TimeSource::Clock,
        actor,
        format!(
            "{} cleared: the incident is open again",
            capitalized(milestone.as_str())
        ),
    )
}

/// Carries out `op` on the open `journal`, for incident `named` (`None`:
/// the latest open one; `merge` names its own), and returns the events
/// written (none: nothing to change).
pub fn apply(
    journal: &mut Journal,
    op: &Op,
    named: Option<&str>,
    ctx: &OpContext<'_>,
) -> Result<Vec<JournalEvent>, CommandError> {
    let now = ctx.now;
    let actor = ctx.actor;
    match op {
        Op::Declare {
            title,
            severity,
            at,
        } => {
            let (at, source) = ctx.when(*at);
            let title = match title.as_deref().map(str::trim) {
                Some("") => return Err(CommandError::Empty("--title")),
                Some(title) => title.to_owned(),
                None => format!("Incident declared by {actor}"),
            };
            let severity_given = severity.is_some();
            let severity = severity.unwrap_or(Severity::High);
            journal.append(now, |tl| {
                let id = tl.next_incident_id();
                Ok(vec![
                    Draft::new(
                        &id,
                        Payload::IncidentOpened(payload::Opened {
                            title: title.clone(),
                            severity,
                            signature: None,
                            declared: true,
                            severity_given: Some(severity_given),
                            split_from: None,
                        }),
                        at,
                        source,
                        actor,
                        format!("Incident declared: {title}"),
                    ),
                    milestone_draft(
                        &id,
                        Milestone::Detected,
                        at,
                        source,
                        actor,
                        &format!("declared by {actor}"),
                    ),
                ])
            })
        }
        Op::Ack { at } => {
            let (at, source) = ctx.when(*at);
            journal.append(now, |tl| {
                let inc = target(tl, named)?;
                let mut drafts = vec![Draft::new(
                    &inc.id,
                    Payload::Ack(payload::Ack {}),
                    at,
                    source,
                    actor,
                    format!("Acknowledged by {actor}"),
                )];
                if inc.milestone(Milestone::Acknowledged).is_none() {
                    drafts.push(milestone_draft(
                        &inc.id,
                        Milestone::Acknowledged,
                        at,
                        source,
                        actor,
                        &format!("{actor} acknowledged"),
                    ));
                }
                Ok(drafts)
            })
        }
        Op::Note { text, at } => {
            if text.trim().is_empty() {
                return Err(CommandError::Empty("the note"));
            }
            let (at, source) = ctx.when(*at);
            journal.append(now, |tl| {
                let inc = target(tl, named)?;
                Ok(vec![Draft::new(
                    &inc.id,
                    Payload::Note(payload::Note { text: text.clone() }),
                    at,
                    source,
                    actor,
                    text.as_str(),
                )])
            })
        }
        Op::Step {
            runbook,
            step,
            outcome,
            note,
            at,
        } => {
            let library = ctx.library();
            let book = library
                .runbook(runbook)
                .ok_or_else(|| CommandError::UnknownRunbook {
                    id: runbook.clone(),
                    known: listed(library.runbooks.iter().map(|r| r.id.as_str())),
                })?;
            let found = book.steps.iter().find(|s| s.id == *step).ok_or_else(|| {
                CommandError::UnknownStep {
                    runbook: runbook.clone(),
                    step: step.clone(),
                    steps: listed(book.steps.iter().map(|s| s.id.as_str())),
                }
            })?;
            let (at, source) = ctx.when(*at);
            let fields = payload::Step {
                runbook: book.id.clone(),
                step: found.id.clone(),
                runbook_title: book.title.clone(),
                step_title: found.title.clone(),
                step_kind: found.kind.as_str().to_owned(),
                note: note.clone(),
            };
            let state = *outcome;
            journal.append(now, |tl| {
                let inc = target(tl, named)?;
                let payload = match state {
                    StepState::Started => Payload::StepStarted(fields.clone()),
                    StepState::Done => Payload::StepDone(fields.clone()),
                    StepState::Skipped => Payload::StepSkipped(fields.clone()),
                };
                Ok(vec![Draft::new(
                    &inc.id,
                    payload,
                    at,
                    source,
                    actor,
                    format!(
                        "Step {}: {} — {} ({}/{})",
                        state.as_str(),
                        book.title,
                        found.title,
                        book.id,
                        found.id
                    ),
                )])
            })
        }
        Op::Severity { to, at } => {
            let (at, source) = ctx.when(*at);
            let to = *to;
            journal.append(now, |tl| {
                let inc = target(tl, named)?;
                if inc.severity == to {
                    return Ok(Vec::new());
                }
                Ok(vec![Draft::new(
                    &inc.id,
                    Payload::SeverityChanged(payload::SeverityChange {
                        from: inc.severity,
                        to,
                        signature: None,
                    }),
                    at,
                    source,
                    actor,
                    format!("Severity {} → {to}", inc.severity),
                )])
            })
        }
        Op::Status { to, note, at } => {
            let (at, source) = ctx.when(*at);
            let to = *to;
            journal.append(now, |tl| {
                let inc = target(tl, named)?;
                if inc.status == to {
                    return Ok(Vec::new());
                }
                let mut drafts = vec![Draft::new(
                    &inc.id,
                    Payload::StatusChanged(payload::StatusChange {
                        from: inc.status,
                        to,
                        note: note.clone(),
                    }),
                    at,
                    source,
                    actor,
                    format!("Status {} → {to}", inc.status),
                )];
                let set = |m: Milestone| inc.milestone(m).is_some();
                match to {
                    Status::Investigating => {
                        for m in [Milestone::Mitigated, Milestone::Resolved] {
                            if set(m) {
                                drafts.push(cleared_milestone(&inc.id, m, at, actor));
                            }
                        }
                    }
                    Status::Mitigated => {
                        if !set(Milestone::Mitigated) {
                            drafts.push(milestone_draft(
                                &inc.id,
                                Milestone::Mitigated,
                                at,
                                source,
                                actor,
                                &format!("{actor} marked it mitigated"),
                            ));
                        }
                    }
                    Status::Resolved => {
                        if !set(Milestone::Mitigated) {
                            drafts.push(implied_milestone(
                                &inc.id,
                                Milestone::Mitigated,
                                at,
                                source,
                                actor,
                                "resolved without a separate mitigation",
                            ));
                        }
                        drafts.push(milestone_draft(
                            &inc.id,
                            Milestone::Resolved,
                            at,
                            source,
                            actor,
                            &format!("{actor} marked it resolved"),
                        ));
                    }
                }
                Ok(drafts)
            })
        }
        Op::Pin { seq, unpin } => journal.append(now, |tl| {
            let (event, inc) = edit_target(tl, *seq, named)?;
            let fields = payload::Target {
                target_seq: *seq,
                target_id: event.id.clone(),
            };
            let (payload, verb) = if *unpin {
                (Payload::EventUnpinned(fields), "Unpinned")
            } else {
                (Payload::EventPinned(fields), "Pinned")
            };
            Ok(vec![Draft::new(
                &inc.id,
                payload,
                now,
                TimeSource::Clock,
                actor,
                format!("{verb} #{seq}: {}", event.summary),
            )])
        }),
        Op::SetTime { seq, to } => {
            let to = *to;
            journal.append(now, |tl| {
                let (event, inc) = edit_target(tl, *seq, named)?;
                let from = inc.time_of(*seq).unwrap_or(event.occurred_at);
                Ok(vec![Draft::new(
                    &inc.id,
                    Payload::EventTimeSet(payload::TimeSet {
                        target_seq: *seq,
                        target_id: event.id.clone(),
                        from,
                        to,
                    }),
                    now,
                    TimeSource::Clock,
                    actor,
                    format!("Time of #{seq} set to {to} (was {from})"),
                )])
            })
        }
        Op::Milestone { milestone, at } => journal.append(now, |tl| {
            let inc = target(tl, named)?;
            Ok(vec![milestone_draft(
                &inc.id,
                *milestone,
                *at,
                TimeSource::Operator,
                actor,
                &format!("set by {actor}"),
            )])
        }),
        Op::Merge { id, into } => journal.append(now, |tl| {
            let from = target(tl, Some(id))?;
            let to = target(tl, Some(into))?;
            if from.id == to.id {
                return Err(CommandError::Regroup(format!(
                    "cannot merge {} into itself",
                    from.id
                )));
            }
            if let Some(already) = from.merged_into.as_ref().or(to.merged_into.as_ref()) {
                let merged = if from.merged_into.is_some() { from } else { to };
                return Err(CommandError::Regroup(format!(
                    "{} was already merged into {already}",
                    merged.id
                )));
            }
            Ok(vec![Draft::new(
                &from.id,
                Payload::IncidentMerged(payload::Merged {
                    into: to.id.clone(),
                }),
                now,
                TimeSource::Clock,
                actor,
                format!("{} merged into {} by {actor}", from.id, to.id),
            )])
        }),
        Op::Split { signatures, title } => journal.append(now, |tl| {
            let from = target(tl, named)?;
            let moved: Vec<&SignatureStats> = signatures
                .iter()
                .map(|id| {
                    from.signature(id).ok_or_else(|| {
                        CommandError::Regroup(format!(
                            "{} has no signature `{id}` (it has: {})",
                            from.id,
                            listed(from.signatures.iter().map(|s| s.id.as_str()))
                        ))
                    })
                })
                .collect::<Result<_, _>>()?;
            if moved.len() >= from.signatures.len() {
                return Err(CommandError::Regroup(format!(
                    "that would leave {} with no signature: split off fewer, or declare a new incident",
                    from.id
                )));
            }
            let id = tl.next_incident_id();
            let first = moved
                .iter()
                .min_by_key(|s| s.first_fired)
                .expect("at least one signature");
            let severity = moved.iter().map(|s| s.severity).max().unwrap_or(first.severity);
            let title = match title.as_deref().map(str::trim) {
                Some("") => return Err(CommandError::Empty("--title")),
                Some(title) => title.to_owned(),
                None => first.title.clone(),
            };
            let names: Vec<String> = moved.iter().map(|s| s.id.clone()).collect();
            Ok(vec![
                Draft::new(
                    &id,
                    Payload::IncidentOpened(payload::Opened {
                        title: title.clone(),
                        severity,
                        signature: Some(first.id.clone()),
                        declared: false,
                        severity_given: None,
                        split_from: Some(from.id.clone()),
                    }),
                    first.first_fired,
                    TimeSource::Log,
                    actor,
                    format!("Incident split off {}: {title}", from.id),
                ),
                Draft::new(
                    &id,
                    Payload::IncidentSplit(payload::Split {
                        from: from.id.clone(),
                        signatures: names.clone(),
                    }),
                    now,
                    TimeSource::Clock,
                    actor,
                    format!("{} split off {} by {actor}", names.join(", "), from.id),
                ),
                milestone_draft(
                    &id,
                    Milestone::Detected,
                    first.first_fired,
                    TimeSource::Log,
                    actor,
                    &format!("{} first fired", first.id),
                ),
            ])
        }),
    }
}

/// The event an edit targets, and its incident (which must be the named one
/// when one is named).
fn edit_target<'t>(
    timeline: &'t Timeline,
    seq: u64,
    named: Option<&str>,
) -> Result<(&'t JournalEvent, &'t Incident), CommandError> {
    let event = timeline.event(seq).ok_or(CommandError::UnknownEvent(seq))?;
    let inc = timeline
        .incident(&event.incident)
        .ok_or(CommandError::UnknownEvent(seq))?;
    if let Some(given) = named
        && timeline.incident(given).map(|i| &i.id) != Some(&inc.id)
    {
        return Err(CommandError::WrongIncident {
            seq,
            actual: inc.id.clone(),
            given: given.to_owned(),
        });
    }
    Ok((event, inc))
}
