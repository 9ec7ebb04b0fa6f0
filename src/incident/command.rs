//! Operator commands from the shell: `triage incident list | show | declare |
//! ack | note | step | severity | status | pin | set-time | milestone |
//! merge | split | verify`.
//!
//! Each write is planned inside [`Journal::append`], on the journal as read
//! under its lock, so "the latest open incident" and "already acknowledged"
//! are decided on what is really there, whoever else is appending. Returns an
//! [`Outcome`]; the exit code is decided by `run`.
//!
//! Must not print log text without sanitising it (see `text`), nor run
//! anything: a runbook step is recorded, never executed.

use std::{
    cell::OnceCell,
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use jiff::{Timestamp, tz::TimeZone};

use super::{
    event::{AUTOMATIC_ACTOR, Draft, Event, Kind, TimeSource, time_value},
    journal::{Journal, JournalError},
    state::{Incident, Milestone, SignatureStats, Status, StepState, Timeline},
    text,
    verify::{Verification, verify},
};
use crate::{
    cli::{IncidentArgs, IncidentCommand, MilestoneArg, SeverityArg, StatusArg, StepOutcomeArg},
    library::Library,
    model::Severity,
    sanitize::for_terminal,
};

/// What a command found, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; or something to show.
    Done,
    /// Nothing to show (no incidents).
    Empty,
    /// `verify` found the chain broken.
    Broken,
}

/// Why a command could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Reading or writing the journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// No incident is open and none was named.
    #[error(
        "no open incident: declare one (`triage incident declare`) or name one with --incident"
    )]
    NoOpenIncident,
    /// The journal has no incident at all.
    #[error("no incident yet in {}", path.display())]
    NoIncident {
        /// The journal.
        path: PathBuf,
    },
    /// The named incident does not exist.
    #[error("no incident `{id}` (known: {known})")]
    UnknownIncident {
        /// As given.
        id: String,
        /// The ids that exist.
        known: String,
    },
    /// The event number does not exist.
    #[error("no event {0} in the journal")]
    UnknownEvent(u64),
    /// `--incident` and the event's incident disagree.
    #[error("event {seq} belongs to {actual}, not {given}")]
    WrongIncident {
        /// The event.
        seq: u64,
        /// Its incident.
        actual: String,
        /// The one named.
        given: String,
    },
    /// The runbook does not exist.
    #[error("no runbook `{id}` (known: {known})")]
    UnknownRunbook {
        /// As given.
        id: String,
        /// The ids that exist.
        known: String,
    },
    /// The step does not exist in the runbook.
    #[error("runbook `{runbook}` has no step `{step}`; its steps are: {steps}")]
    UnknownStep {
        /// The runbook.
        runbook: String,
        /// As given.
        step: String,
        /// Its step ids.
        steps: String,
    },
    /// A time that cannot be read.
    #[error(
        "{what}: `{text}` is not a time: use {forms} (in {zone})",
        forms = crate::timearg::FORMS
    )]
    BadTime {
        /// Which argument.
        what: &'static str,
        /// As given.
        text: String,
        /// The zone it would be read in.
        zone: String,
    },
    /// A merge or split that cannot be done.
    #[error("{0}")]
    Regroup(String),
    /// An unusable actor name.
    #[error("--actor: {0}")]
    BadActor(String),
    /// `--tz` names no zone.
    #[error("--tz: unknown time zone `{0}` (an IANA name such as Europe/Paris, or UTC)")]
    UnknownZone(String),
    /// An empty text.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// Writing the output failed.
    #[error("{0}")]
    Output(#[from] io::Error),
}

/// What a command works with.
#[derive(Debug)]
pub struct Context<'a> {
    /// The data directory (`--data-dir`).
    pub data_dir: &'a Path,
    /// `--patterns` directories.
    pub pattern_dirs: &'a [PathBuf],
    /// `--runbooks` directories.
    pub runbook_dirs: &'a [PathBuf],
    /// The present.
    pub now: Timestamp,
    /// The zone of times written without an offset.
    pub zone: TimeZone,
    library: OnceCell<Library>,
    loaded: Option<&'a Library>,
}

impl<'a> Context<'a> {
    /// A context; the library is loaded when a command first needs it.
    pub fn new(
        data_dir: &'a Path,
        pattern_dirs: &'a [PathBuf],
        runbook_dirs: &'a [PathBuf],
        now: Timestamp,
        zone: TimeZone,
    ) -> Context<'a> {
        Context {
            data_dir,
            pattern_dirs,
            runbook_dirs,
            now,
            zone,
            library: OnceCell::new(),
            loaded: None,
        }
    }

    /// The same context using an already loaded library (the console's),
    /// instead of loading one.
    pub fn with_library(mut self, library: &'a Library) -> Context<'a> {
        self.loaded = Some(library);
        self
    }

    /// Signatures and runbooks, shipped and the user's (problems in the
    /// user's files are `triage check`'s to report).
    pub fn library(&self) -> &Library {
        if let Some(library) = self.loaded {
            return library;
        }
        self.library
            .get_or_init(|| Library::load(self.pattern_dirs, self.runbook_dirs).0)
    }
}

/// The longest actor name accepted.
const MAX_ACTOR: usize = 64;

/// Who is acting: `given`, else `$USER` (or `$LOGNAME`, `$USERNAME`), else
/// the login name of this process's user. `triage` is reserved for
/// automatic events.
pub fn actor(given: Option<&str>) -> Result<String, CommandError> {
    let name = match given {
        Some(name) => name.trim().to_owned(),
        None => ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .filter_map(|var| std::env::var(var).ok())
            .map(|v| v.trim().to_owned())
            .find(|v| !v.is_empty())
            .or_else(login_name)
            .unwrap_or_else(|| "operator".to_owned()),
    };
    if name.is_empty() {
        return Err(CommandError::BadActor("the name is empty".into()));
    }
    if name == AUTOMATIC_ACTOR {
        return Err(CommandError::BadActor(
            "`triage` is the name of automatic events; give yours".into(),
        ));
    }
    if name.chars().any(char::is_control) || name.chars().count() > MAX_ACTOR {
        return Err(CommandError::BadActor(format!(
            "a name is at most {MAX_ACTOR} characters, without control characters"
        )));
    }
    Ok(name)
}

/// The user name of this process's uid, from `/etc/passwd` (what `whoami`
/// prints), without calling libc.
#[cfg(unix)]
fn login_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = fs::metadata("/proc/self").ok()?.uid();
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let entry_uid: u32 = fields.nth(1)?.parse().ok()?;
        (entry_uid == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

#[cfg(not(unix))]
fn login_name() -> Option<String> {
    None
}

/// Reads a time from the command line, in the one grammar of times
/// ([`crate::timearg`]).
pub fn parse_time(text: &str, zone: &TimeZone, now: Timestamp) -> Option<Timestamp> {
    crate::timearg::parse(text, zone, now).ok()
}

fn when(
    what: &'static str,
    at: Option<&str>,
    ctx: &Context<'_>,
) -> Result<(Timestamp, TimeSource), CommandError> {
    match at {
        None => Ok((ctx.now, TimeSource::Clock)),
        Some(text) => parse_time(text, &ctx.zone, ctx.now)
            .map(|t| (t, TimeSource::Operator))
            .ok_or_else(|| CommandError::BadTime {
                what,
                text: text.to_owned(),
                zone: text::zone_name(&ctx.zone),
            }),
    }
}

fn known_incidents(timeline: &Timeline) -> String {
    let ids: Vec<&str> = timeline.incidents().iter().map(|i| i.id.as_str()).collect();
    if ids.is_empty() {
        "none".to_owned()
    } else {
        ids.join(", ")
    }
}

/// The incident a write goes to: the one named, else the latest open one.
fn target<'t>(timeline: &'t Timeline, named: Option<&str>) -> Result<&'t Incident, CommandError> {
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

/// The incident a read shows: the one named, else the latest open one, else
/// the latest.
pub fn shown<'t>(
    timeline: &'t Timeline,
    named: Option<&str>,
    path: &Path,
) -> Result<&'t Incident, CommandError> {
    match named {
        Some(_) => target(timeline, named),
        None => timeline
            .latest_open()
            .or_else(|| timeline.latest())
            .ok_or_else(|| CommandError::NoIncident {
                path: path.to_path_buf(),
            }),
    }
}

fn severity_of(arg: SeverityArg) -> Severity {
    match arg {
        SeverityArg::Info => Severity::Info,
        SeverityArg::Low => Severity::Low,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::High => Severity::High,
        SeverityArg::Critical => Severity::Critical,
    }
}

fn status_of(arg: StatusArg) -> Status {
    match arg {
        StatusArg::Investigating => Status::Investigating,
        StatusArg::Mitigated => Status::Mitigated,
        StatusArg::Resolved => Status::Resolved,
    }
}

fn milestone_of(arg: MilestoneArg) -> Milestone {
    match arg {
        MilestoneArg::Started => Milestone::Started,
        MilestoneArg::Detected => Milestone::Detected,
        MilestoneArg::Acknowledged => Milestone::Acknowledged,
        MilestoneArg::Mitigated => Milestone::Mitigated,
        MilestoneArg::Resolved => Milestone::Resolved,
    }
}

fn step_state_of(arg: StepOutcomeArg) -> StepState {
    match arg {
        StepOutcomeArg::Started => StepState::Started,
        StepOutcomeArg::Done => StepState::Done,
        StepOutcomeArg::Skipped => StepState::Skipped,
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
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
        Kind::MilestoneSet,
        at,
        source,
        actor,
        format!("{}: {basis}", capitalized(milestone.as_str())),
    )
    .detail("milestone", milestone.as_str())
    .detail("proposed", false)
}

fn cleared_milestone(inc: &str, milestone: Milestone, at: Timestamp, actor: &str) -> Draft {
    Draft::new(
        inc,
        Kind::MilestoneSet,
        at,
        TimeSource::Clock,
        actor,
        format!(
            "{} cleared: the incident is open again",
            capitalized(milestone.as_str())
        ),
    )
    .detail("milestone", milestone.as_str())
    .detail("proposed", false)
    .detail("cleared", true)
}

/// Carries out `triage incident ...`, writing what it has to say to `out`.
pub fn execute(
    args: &IncidentArgs,
    ctx: &Context<'_>,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    if matches!(args.command, IncidentCommand::Verify) {
        // A journal that no longer reads is what `verify` is for.
        return verify_command(&Journal::unread(ctx.data_dir), out);
    }
    let mut journal = Journal::open(ctx.data_dir)?;
    let named = args.incident.as_deref();
    match &args.command {
        IncidentCommand::List => {
            if journal.timeline().incidents().is_empty() {
                writeln!(out, "no incidents yet")?;
                return Ok(Outcome::Empty);
            }
            text::write_list(out, journal.timeline(), ctx.now)?;
            Ok(Outcome::Done)
        }
        IncidentCommand::Show { id } => {
            let inc = shown(journal.timeline(), id.as_deref().or(named), journal.path())?;
            text::write_show(out, journal.timeline(), inc, ctx.now)?;
            Ok(Outcome::Done)
        }
        IncidentCommand::Verify => verify_command(&journal, out),
        command => {
            let actor = actor(args.actor.as_deref())?;
            let written = write(&mut journal, command, named, &actor, ctx)?;
            confirm(out, journal.timeline(), &written)?;
            Ok(Outcome::Done)
        }
    }
}

/// Carries out a write (every command but `list`, `show` and `verify`) on
/// an open journal, for `incident` (`None`: the latest open one), and
/// returns the events written (none: nothing to change). What `execute`
/// and the console both call.
pub fn write(
    journal: &mut Journal,
    command: &IncidentCommand,
    named: Option<&str>,
    actor: &str,
    ctx: &Context<'_>,
) -> Result<Vec<Event>, CommandError> {
    let now = ctx.now;
    match command {
        IncidentCommand::Declare {
            title,
            severity,
            at,
        } => {
            let (at, source) = when("--at", at.as_deref(), ctx)?;
            let title = match title.as_deref().map(str::trim) {
                Some("") => return Err(CommandError::Empty("--title")),
                Some(title) => title.to_owned(),
                None => format!("Incident declared by {actor}"),
            };
            let severity_given = severity.is_some();
            let severity = severity.map_or(Severity::High, severity_of);
            journal.append(now, |tl| {
                let id = tl.next_incident_id();
                Ok(vec![
                    Draft::new(
                        &id,
                        Kind::IncidentOpened,
                        at,
                        source,
                        actor,
                        format!("Incident declared: {title}"),
                    )
                    .detail("title", title.as_str())
                    .detail("severity", severity.as_str())
                    .detail("declared", true)
                    .detail("severity_given", severity_given),
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
        IncidentCommand::Ack { at } => {
            let (at, source) = when("--at", at.as_deref(), ctx)?;
            journal.append(now, |tl| {
                let inc = target(tl, named)?;
                let mut drafts = vec![Draft::new(
                    &inc.id,
                    Kind::Ack,
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
        IncidentCommand::Note { text, at } => {
            if text.trim().is_empty() {
                return Err(CommandError::Empty("the note"));
            }
            let (at, source) = when("--at", at.as_deref(), ctx)?;
            journal.append(now, |tl| {
                let inc = target(tl, named)?;
                Ok(vec![
                    Draft::new(&inc.id, Kind::Note, at, source, actor, text.as_str())
                        .detail("text", text.as_str()),
                ])
            })
        }
        IncidentCommand::Step {
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
                    known: library
                        .runbooks
                        .iter()
                        .map(|r| r.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            let found = book.steps.iter().find(|s| s.id == *step).ok_or_else(|| {
                CommandError::UnknownStep {
                    runbook: runbook.clone(),
                    step: step.clone(),
                    steps: book
                        .steps
                        .iter()
                        .map(|s| s.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })?;
            let state = step_state_of(*outcome);
            let (at, source) = when("--at", at.as_deref(), ctx)?;
            journal.append(now, |tl| {
                let inc = target(tl, named)?;
                let mut draft = Draft::new(
                    &inc.id,
                    state.kind(),
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
                )
                .detail("runbook", book.id.as_str())
                .detail("step", found.id.as_str())
                .detail("runbook_title", book.title.as_str())
                .detail("step_title", found.title.as_str())
                .detail("step_kind", found.kind.as_str());
                if let Some(note) = note {
                    draft = draft.detail("note", note.as_str());
                }
                Ok(vec![draft])
            })
        }
        IncidentCommand::Severity { severity, at } => {
            let (at, source) = when("--at", at.as_deref(), ctx)?;
            let to = severity_of(*severity);
            journal.append(now, |tl| {
                let inc = target(tl, named)?;
                if inc.severity == to {
                    return Ok(Vec::new());
                }
                Ok(vec![
                    Draft::new(
                        &inc.id,
                        Kind::SeverityChanged,
                        at,
                        source,
                        actor,
                        format!("Severity {} → {to}", inc.severity),
                    )
                    .detail("from", inc.severity.as_str())
                    .detail("to", to.as_str()),
                ])
            })
        }
        IncidentCommand::Status { status, note, at } => {
            let (at, source) = when("--at", at.as_deref(), ctx)?;
            let to = status_of(*status);
            journal.append(now, |tl| {
                let inc = target(tl, named)?;
                if inc.status == to {
                    return Ok(Vec::new());
                }
                let mut change = Draft::new(
                    &inc.id,
                    Kind::StatusChanged,
                    at,
                    source,
                    actor,
                    format!("Status {} → {to}", inc.status),
                )
                .detail("from", inc.status.as_str())
                .detail("to", to.as_str());
                if let Some(note) = note {
                    change = change.detail("note", note.as_str());
                }
                let mut drafts = vec![change];
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
                            drafts.push(
                                milestone_draft(
                                    &inc.id,
                                    Milestone::Mitigated,
                                    at,
                                    source,
                                    actor,
                                    "resolved without a separate mitigation",
                                )
                                .detail("implied", true),
                            );
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
        IncidentCommand::Pin { seq, unpin } => journal.append(now, |tl| {
            let (event, inc) = edit_target(tl, *seq, named)?;
            let (kind, verb) = if *unpin {
                (Kind::EventUnpinned, "Unpinned")
            } else {
                (Kind::EventPinned, "Pinned")
            };
            Ok(vec![
                Draft::new(
                    &inc.id,
                    kind,
                    now,
                    TimeSource::Clock,
                    actor,
                    format!("{verb} #{seq}: {}", event.summary),
                )
                .detail("target_seq", *seq)
                .detail("target_id", event.id.as_str()),
            ])
        }),
        IncidentCommand::SetTime { seq, time } => {
            let (to, _) = when("TIME", Some(time), ctx)?;
            journal.append(now, |tl| {
                let (event, inc) = edit_target(tl, *seq, named)?;
                let from = inc.time_of(*seq).unwrap_or(event.occurred_at);
                Ok(vec![
                    Draft::new(
                        &inc.id,
                        Kind::EventTimeSet,
                        now,
                        TimeSource::Clock,
                        actor,
                        format!("Time of #{seq} set to {to} (was {from})"),
                    )
                    .detail("target_seq", *seq)
                    .detail("target_id", event.id.as_str())
                    .detail("from", time_value(from))
                    .detail("to", time_value(to)),
                ])
            })
        }
        IncidentCommand::Milestone { milestone, time } => {
            let (at, source) = when("TIME", Some(time), ctx)?;
            let milestone = milestone_of(*milestone);
            journal.append(now, |tl| {
                let inc = target(tl, named)?;
                Ok(vec![milestone_draft(
                    &inc.id,
                    milestone,
                    at,
                    source,
                    actor,
                    &format!("set by {actor}"),
                )])
            })
        }
        IncidentCommand::Merge { id, into } => journal.append(now, |tl| {
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
            Ok(vec![
                Draft::new(
                    &from.id,
                    Kind::IncidentMerged,
                    now,
                    TimeSource::Clock,
                    actor,
                    format!("{} merged into {} by {actor}", from.id, to.id),
                )
                .detail("into", to.id.as_str()),
            ])
        }),
        IncidentCommand::Split { signatures, title } => journal.append(now, |tl| {
            let from = target(tl, named)?;
            let moved: Vec<&SignatureStats> = signatures
                .iter()
                .map(|id| {
                    from.signature(id).ok_or_else(|| {
                        CommandError::Regroup(format!(
                            "{} has no signature `{id}` (it has: {})",
                            from.id,
                            from.signatures
                                .iter()
                                .map(|s| s.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
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
            let names: Vec<&str> = moved.iter().map(|s| s.id.as_str()).collect();
            Ok(vec![
                Draft::new(
                    &id,
                    Kind::IncidentOpened,
                    first.first_fired,
                    TimeSource::Log,
                    actor,
                    format!("Incident split off {}: {title}", from.id),
                )
                .detail("title", title.as_str())
                .detail("severity", severity.as_str())
                .detail("signature", first.id.as_str())
                .detail("declared", false)
                .detail("split_from", from.id.as_str()),
                Draft::new(
                    &id,
                    Kind::IncidentSplit,
                    now,
                    TimeSource::Clock,
                    actor,
                    format!("{} split off {} by {actor}", names.join(", "), from.id),
                )
                .detail("from", from.id.as_str())
                .detail("signatures", names.clone()),
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
        IncidentCommand::List | IncidentCommand::Show { .. } | IncidentCommand::Verify => {
            Ok(Vec::new())
        }
    }
}

/// The event an edit targets, and its incident (which must be the named one
/// when one is named).
fn edit_target<'t>(
    timeline: &'t Timeline,
    seq: u64,
    named: Option<&str>,
) -> Result<(&'t Event, &'t Incident), CommandError> {
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

/// One line per event written; or that nothing changed.
fn confirm(out: &mut dyn Write, timeline: &Timeline, written: &[Event]) -> io::Result<()> {
    if written.is_empty() {
        return writeln!(out, "nothing to change");
    }
    let utc = TimeZone::UTC;
    for event in written {
        let status = timeline
            .incident(&event.incident)
            .map(|i| format!("{}, {}", i.status, i.severity))
            .unwrap_or_default();
        writeln!(
            out,
            "{} #{} {} {}  {}  [{status}]",
            event.incident,
            event.seq,
            text::time(event.occurred_at, &utc),
            event.kind,
            for_terminal(&event.summary)
        )?;
    }
    Ok(())
}

fn verify_command(journal: &Journal, out: &mut dyn Write) -> Result<Outcome, CommandError> {
    let path = journal.path();
    let shown = crate::sanitize::path(path);
    let (bytes, recorded) = {
        let _lock = if path.exists() || journal.recorded_head()?.is_some() {
            Some(journal.lock()?)
        } else {
            None
        };
        let recorded = match journal.recorded_head() {
            Ok(recorded) => recorded,
            Err(err @ JournalError::BadHead { .. }) => {
                writeln!(out, "{}", for_terminal(&err.to_string()))?;
                return Ok(Outcome::Broken);
            }
            Err(err) => return Err(err.into()),
        };
        match fs::read(path) {
            Ok(bytes) => (bytes, recorded),
            // A head with no journal: every event was removed.
            Err(err) if err.kind() == io::ErrorKind::NotFound && recorded.is_some() => {
                (Vec::new(), recorded)
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                writeln!(out, "{shown}: no journal yet, nothing to verify")?;
                return Ok(Outcome::Done);
            }
            Err(source) => {
                return Err(JournalError::Io {
                    path: path.to_path_buf(),
                    source,
                }
                .into());
            }
        }
    };
    match verify(&bytes, recorded.as_ref()) {
        Verification::Intact {
            events,
            head,
            recorded,
        } => {
            let head = head
                .map(|(seq, hash)| format!("; head: event {seq}, sha256 {hash}"))
                .unwrap_or_default();
            writeln!(out, "{shown}: {events} events, hash chain intact{head}")?;
            writeln!(out, "{}", for_terminal(&recorded.to_string()))?;
            Ok(Outcome::Done)
        }
        Verification::Broken(broken) => {
            writeln!(
                out,
                "{shown}:{}: {}\nthe {} events before it verify; the chain is broken from line {} on",
                broken.line,
                for_terminal(&broken.to_string()),
                broken.intact_before,
                broken.line
            )?;
            Ok(Outcome::Broken)
        }
        Verification::Cut { events, check } => {
            writeln!(
                out,
                "{shown}: {}\nthe {events} events it holds verify",
                for_terminal(&check.to_string())
            )?;
            Ok(Outcome::Broken)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::event::tests::ts;

    #[test]
    fn times_on_the_command_line() {
        let utc = TimeZone::UTC;
        let now = ts("2026-11-21T03:30:00Z");
        assert_eq!(
            parse_time("2026-11-21T03:10:00Z", &utc, now),
            Some(ts("2026-11-21T03:10:00Z"))
        );
        assert_eq!(
            parse_time("2026-11-21T04:10:00+01:00", &utc, now),
            Some(ts("2026-11-21T03:10:00Z"))
        );
        assert_eq!(
            parse_time("2026-11-21 03:10", &utc, now),
            Some(ts("2026-11-21T03:10:00Z"))
        );
        assert_eq!(
            parse_time("03:10", &utc, now),
            Some(ts("2026-11-21T03:10:00Z"))
        );
        assert_eq!(
            parse_time("23:50:10", &utc, now),
            Some(ts("2026-11-20T23:50:10Z")),
            "a time of day later than now is yesterday's"
        );
        let paris = TimeZone::get("Europe/Paris").expect("tzdb");
        assert_eq!(
            parse_time("2026-11-21 04:10", &paris, now),
            Some(ts("2026-11-21T03:10:00Z"))
        );
        assert_eq!(parse_time("soon", &utc, now), None);
    }

    #[test]
    fn actor_names_are_checked() {
        assert_eq!(actor(Some(" alice ")).expect("ok"), "alice");
        assert!(actor(Some("triage")).is_err());
        assert!(actor(Some("")).is_err());
        assert!(actor(Some("a\u{1b}[2Jb")).is_err());
        assert!(actor(None).is_ok_and(|a| !a.is_empty()));
    }
}
