//! Carries out a parsed command line and decides the exit code, in one place.
//!
//! Exit codes as grep: 0 something matched, 1 nothing did, 2 an error (the
//! rest of the work is still done, then 2). `check`: 0 all valid, 1 not.
//! Each command family is a file of its own (`run/scan.rs`, `run/watch.rs`,
//! `run/index.rs`, `run/incident.rs`, `run/console.rs`, `run/check.rs`);
//! each returns an [`Exit`] or an [`Error`], and [`run`] alone turns an
//! error into a message and exit status 2. Errors go to stderr as
//! `triage: what: why`, through `output::message` (sanitised: they name
//! files); a closed stdout (`| head`) is not an error.

mod check;
mod console;
mod incident;
mod index;
mod scan;
mod watch;

use std::{
    io::{self, IsTerminal, Write},
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use jiff::{Timestamp, tz::TimeZone};

pub(crate) use self::{index::size_arg, watch::watch_options};
use crate::{
    cli::{Cli, Command},
    config::Config,
    diag::Diagnostic,
    index::IndexError,
    library::Library,
    output::{self, Style},
    ui::UiError,
    watch::WatchError,
};

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Something matched; or all valid.
    Found = 0,
    /// Nothing matched; or something invalid (`check`).
    NotFound = 1,
    /// An error.
    Error = 2,
}

/// Why a command failed: every error a command returns, rendered by
/// [`run`] alone (as `triage: <the message>`, exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Standard output could not be written (a closed pipe is no error).
    #[error("{0}")]
    Output(#[from] io::Error),
    /// A file or directory named on the command line or in the data
    /// directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Path {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A stage that names its own inputs in its messages failed
    /// (`patterns`).
    #[error("{0}")]
    Stage(io::Error),
    /// `--timezone` names no zone.
    #[error("--timezone: unknown time zone `{0}`")]
    UnknownZone(String),
    /// An option's value is not understood.
    #[error("{option}: {why}")]
    Argument {
        /// The option, as written (`--max-size`).
        option: &'static str,
        /// Why.
        why: String,
    },
    /// Globs on the command line of a command that follows files, or of
    /// `diff`, that do not compile (each rendered on a line of its own,
    /// naming the pattern and the problem).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Globs(Vec<crate::glob::Error>),
    /// The selection of files (`--include`, `--exclude`) is invalid.
    #[error("{0}")]
    Selection(String),
    /// `--since` is not before `--until`.
    #[error(
        "--since {since} is not before --until {until}: no time is between them \
         (durations count back from now: --since 3h --until 2h)"
    )]
    EmptyTimeRange {
        /// `--since`, read.
        since: Timestamp,
        /// `--until`, read.
        until: Timestamp,
    },
    /// `watch` was given a directory.
    #[error(
        "{}: a directory; follow the files in it with a glob: triage watch '{}/*.log'",
        .0.display(),
        .0.display()
    )]
    Directory(PathBuf),
    /// The demo's directory has files in it.
    #[error("{}: not empty; the demo writes into a new or empty directory", .0.display())]
    NotEmpty(PathBuf),
    /// `reindex` without paths and no plan from the index.
    #[error("{0}; name the logs to rebuild from: triage reindex PATH...")]
    NoPlan(IndexError),
    /// `reindex`: files the index has documents from are gone.
    #[error(
        "{0}\nthe index is left as it is; to rebuild without them: triage reindex --allow-missing"
    )]
    Missing(String),
    /// `reindex`: the index names no file to rebuild from.
    #[error(
        "{}: the index lists no files; name the logs to rebuild from: triage reindex PATH...",
        .0.display()
    )]
    NothingIndexed(PathBuf),
    /// Ctrl-C cannot be caught.
    #[error("cannot catch Ctrl-C: {0}")]
    Signal(#[from] ctrlc::Error),
    /// `watch` failed.
    #[error(transparent)]
    Watch(#[from] WatchError),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The console failed.
    #[error(transparent)]
    Ui(#[from] UiError),
    /// The fleet's settings are invalid, or its servers failed.
    #[error(transparent)]
    Fleet(#[from] crate::fleet::FleetError),
    /// `outbox` or `outputs` failed.
    #[error(transparent)]
    Notify(#[from] crate::notify::command::CommandError),
}

impl Error {
    /// An error reading or writing `path`.
    pub fn at(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Path { path, source }
    }

    /// Standard output was closed (`| head`): not an error.
    fn is_closed_output(&self) -> bool {
        let closed = |err: &io::Error| err.kind() == io::ErrorKind::BrokenPipe;
        match self {
            Error::Output(err)
            | Error::Stage(err)
            | Error::Notify(crate::notify::command::CommandError::Output(err)) => closed(err),
            Error::Watch(err) => err.closed_output(),
            _ => false,
        }
    }
}

/// What a command ends with.
pub type Outcome = Result<Exit, Error>;

/// Runs the command line: the one place an error becomes a message and an
/// exit status.
pub fn run(cli: Cli) -> Exit {
    match command(&cli) {
        Ok(exit) => exit,
        Err(err) if err.is_closed_output() => {
            tracing::debug!("output closed");
            Exit::Found
        }
        Err(Error::Globs(bad)) => {
            for glob in bad {
                output::message(glob);
            }
            Exit::Error
        }
        Err(err) => {
            output::message(err);
            Exit::Error
        }
    }
}

/// The globs that do not compile among the arguments of the commands that
/// refuse them before any work: those that follow files (`watch`, `agent`,
/// `ui`, `--baseline`: a bad glob would be looked at forever) and `diff`
/// (one side unread is no diff). The commands that read files once
/// (`scan`, `formats`, `patterns`, `ingest`, `reindex`) say so of the
/// argument, as of a file they cannot read, and go on ([`crate::glob::bad`]).
fn bad_globs(command: &Command) -> Vec<crate::glob::Error> {
    let check = |lists: &[&[String]]| -> Vec<crate::glob::Error> {
        lists
            .iter()
            .flat_map(|args| crate::glob::check_args(args))
            .collect()
    };
    match command {
        Command::Diff(args) => check(&[&args.baseline, &args.target]),
        Command::Watch(args) => check(&[&args.targets, &args.baseline]),
        Command::Agent(args) => check(&[&args.watch.targets, &args.watch.baseline]),
        Command::Ui(args) => check(&[&args.targets]),
        _ => Vec::new(),
    }
}

/// Hands the command to its family.
fn command(cli: &Cli) -> Outcome {
    let global = &cli.global;
    let bad = bad_globs(&cli.command);
    if !bad.is_empty() {
        return Err(Error::Globs(bad));
    }
    match &cli.command {
        Command::Check(args) => check::check(
            &global.patterns,
            &global.runbooks,
            args.coverage,
            global.verbose > 0,
        ),
        Command::Scan(args) => scan::scan(cli, args),
        Command::Formats(args) => scan::formats(cli, args),
        Command::Patterns(args) => scan::patterns(cli, scan::Templates::List(args)),
        Command::Diff(args) => scan::patterns(cli, scan::Templates::Diff(args)),
        Command::Watch(args) => watch::watch(cli, args),
        Command::Outbox(args) => watch::outbox(cli, args),
        Command::Outputs(args) => watch::outputs(cli, args),
        Command::Agent(args) => crate::fleet::command::agent(cli, args),
        Command::Collect(args) => crate::fleet::command::collect(cli, args),
        Command::Demo(args) => console::demo(cli, args),
        Command::Ui(args) => console::ui(cli, args),
        Command::Incident(args) => incident::incident(cli, Some(args), None),
        Command::Export(args) => incident::incident(cli, None, Some(args)),
        Command::Ingest(args) => {
            let selection = crate::select::select(
                &args.paths,
                &args.include,
                &args.exclude,
                &cli.global.data_dir,
            )
            .map_err(Error::Selection)?;
            index::skipped_notice(&selection.skipped);
            index::ingest(cli, &selection.paths, &args.index)
        }
        Command::Search(args) => index::search(cli, args),
        Command::Reindex(args) => index::reindex(cli, args),
        Command::Prune(args) => index::prune(cli, args),
        Command::Runbook(args) => check::library_command(cli, args, true),
        Command::Signature(args) => check::library_command(cli, args, false),
        Command::Completions { shell } => {
            crate::manual::completions(*shell, &mut io::stdout().lock())?;
            Ok(Exit::Found)
        }
        Command::Man => {
            crate::manual::man(&mut io::stdout().lock())?;
            Ok(Exit::Found)
        }
    }
}

pub(crate) fn style() -> Style {
    Style {
        color: io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

pub(crate) fn report(diags: &[Diagnostic]) {
    let mut stderr = io::stderr().lock();
    for diag in diags {
        let _ = writeln!(stderr, "{diag}\n");
    }
}

/// Loads the library, reporting problems; `true` when there were any.
pub(crate) fn load_library(cli: &Cli) -> (Library, bool) {
    let (library, diags) = Library::load(&cli.global.patterns, &cli.global.runbooks);
    report(&diags);
    (library, !diags.is_empty())
}

/// Loads `triage.toml` (`--config`), reporting its problems: `None` when
/// there were any (the command then ends with exit status 2).
fn load_config(cli: &Cli) -> Option<Config> {
    Config::load(cli.global.config.as_deref())
        .map_err(|diags| report(&diags))
        .ok()
}

/// The zone `--timezone` names, else this machine's.
fn zone(name: Option<&str>) -> Result<TimeZone, Error> {
    match name {
        Some(name) => TimeZone::get(name).map_err(|_| Error::UnknownZone(name.to_owned())),
        None => Ok(TimeZone::system()),
    }
}

/// A Ctrl-C flag: the first Ctrl-C asks the work to stop at a clean point.
fn stop_flag() -> Result<Arc<AtomicBool>, Error> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))?;
    Ok(stop)
}
