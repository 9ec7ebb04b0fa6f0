//! Operator commands from the shell: `triage incident list | show | declare |
//! ack | note | step | severity | status | pin | set-time | milestone |
//! merge | split | verify`.
//!
//! The command line's side of the journal: reads (`list`, `show`, `verify`)
//! and the mapping of each write's arguments to one [`Op`] (times read in
//! the one grammar of [`crate::timearg`]), carried out by [`op::apply`].
//! Returns an [`Outcome`]; the exit code is decided by `run`.
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
    event::{AUTOMATIC_ACTOR, JournalEvent},
    journal::{Journal, JournalError},
    op::{self, Op, OpContext},
    state::{Incident, Milestone, Status, StepState, Timeline},
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
        }
    }

    /// The context of an operation by `actor`: this library, loaded when
    /// the operation first needs it.
    pub fn op_context<'c>(&'c self, actor: &'c str) -> OpContext<'c> {
        OpContext::loading(
            &self.library,
            self.pattern_dirs,
            self.runbook_dirs,
            actor,
            self.now,
        )
    }

    /// Signatures and runbooks, shipped and the user's (problems in the
    /// user's files are `triage check`'s to report).
    pub fn library(&self) -> &Library {
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

/// `text` read as a time for argument `what`.
fn time_arg(what: &'static str, text: &str, ctx: &Context<'_>) -> Result<Timestamp, CommandError> {
    parse_time(text, &ctx.zone, ctx.now).ok_or_else(|| CommandError::BadTime {
        what,
        text: text.to_owned(),
        zone: text::zone_name(&ctx.zone),
    })
}

/// `--at`, when given.
fn at_arg(at: Option<&str>, ctx: &Context<'_>) -> Result<Option<Timestamp>, CommandError> {
    at.map(|text| time_arg("--at", text, ctx)).transpose()
}

/// The incident a read shows: the one named, else the latest open one, else
/// the latest.
pub fn shown<'t>(
    timeline: &'t Timeline,
    named: Option<&str>,
    path: &Path,
) -> Result<&'t Incident, CommandError> {
    match named {
        Some(_) => op::target(timeline, named),
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
            let Some(op) = op_of(command, ctx)? else {
                return Ok(Outcome::Done);
            };
            let actor = actor(args.actor.as_deref())?;
            let op_ctx = ctx.op_context(&actor);
            let written = op::apply(&mut journal, &op, named, &op_ctx)?;
            confirm(out, journal.timeline(), &written)?;
            Ok(Outcome::Done)
        }
    }
}

/// The operation a write's arguments ask for (`None` for the reads).
fn op_of(command: &IncidentCommand, ctx: &Context<'_>) -> Result<Option<Op>, CommandError> {
    Ok(Some(match command {
        IncidentCommand::Declare {
            title,
            severity,
            at,
        } => Op::Declare {
            title: title.clone(),
            severity: severity.map(severity_of),
            at: at_arg(at.as_deref(), ctx)?,
        },
        IncidentCommand::Ack { at } => Op::Ack {
            at: at_arg(at.as_deref(), ctx)?,
        },
        IncidentCommand::Note { text, at } => {
            if text.trim().is_empty() {
                return Err(CommandError::Empty("the note"));
            }
            Op::Note {
                text: text.clone(),
                at: at_arg(at.as_deref(), ctx)?,
            }
        }
        IncidentCommand::Step {
            runbook,
            step,
            outcome,
            note,
            at,
        } => Op::Step {
            runbook: runbook.clone(),
            step: step.clone(),
            outcome: step_state_of(*outcome),
            note: note.clone(),
            at: at_arg(at.as_deref(), ctx)?,
        },
        IncidentCommand::Severity { severity, at } => Op::Severity {
            to: severity_of(*severity),
            at: at_arg(at.as_deref(), ctx)?,
        },
        IncidentCommand::Status { status, note, at } => Op::Status {
            to: status_of(*status),
            note: note.clone(),
            at: at_arg(at.as_deref(), ctx)?,
        },
        IncidentCommand::Pin { seq, unpin } => Op::Pin {
            seq: *seq,
            unpin: *unpin,
        },
        IncidentCommand::SetTime { seq, time } => Op::SetTime {
            seq: *seq,
            to: time_arg("TIME", time, ctx)?,
        },
        IncidentCommand::Milestone { milestone, time } => Op::Milestone {
            milestone: milestone_of(*milestone),
            at: time_arg("TIME", time, ctx)?,
        },
        IncidentCommand::Merge { id, into } => Op::Merge {
            id: id.clone(),
            into: into.clone(),
        },
        IncidentCommand::Split { signatures, title } => Op::Split {
            signatures: signatures.clone(),
            title: title.clone(),
        },
        IncidentCommand::List | IncidentCommand::Show { .. } | IncidentCommand::Verify => {
            return Ok(None);
        }
    }))
}

/// One line per event written; or that nothing changed.
fn confirm(out: &mut dyn Write, timeline: &Timeline, written: &[JournalEvent]) -> io::Result<()> {
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
