//! The command line: global options and subcommands (clap, derive).
//!
//! Only declarations live here; `run` carries them out. A subcommand appears
//! here once it really works.

use std::{path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};

use crate::tail::split::DEFAULT_MAX_LINE;

/// Recognises known failures in log files, shows the agreed recovery steps,
/// and keeps the incident timeline.
#[derive(Debug, Parser)]
#[command(name = "triage", version, about, max_term_width = 100)]
#[command(
    after_help = "Exit status: 0 when something matched, 1 when nothing did, 2 on an error.\n\
Start with `triage demo` to see an incident unfold; `triage check` validates pattern and runbook files."
)]
pub struct Cli {
    /// Options that apply to every command.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options for every command.
#[derive(Debug, Args)]
pub struct Global {
    /// Where triage keeps its state (checkpoints, index, incident journal).
    #[arg(
        long,
        global = true,
        env = "TRIAGE_DATA_DIR",
        default_value = ".triage",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
    /// Sources file (default: ./triage.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra pattern files: a directory of *.toml or one file; repeatable. An
    /// id defined here replaces the built-in one.
    #[arg(long, global = true, value_name = "DIR")]
    pub patterns: Vec<PathBuf>,
    /// Extra runbook files: a directory of *.toml or one file; repeatable. An
    /// id defined here replaces the built-in one.
    #[arg(long, global = true, value_name = "DIR")]
    pub runbooks: Vec<PathBuf>,
    /// Log what triage does to stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a realistic incident (several services' logs) to a fresh
    /// directory and watch it unfold in the console (on a terminal; else, or
    /// with --text, print what triage detects in it, with runbooks).
    Demo(DemoArgs),
    /// The incident console: alerts, live log, runbook checklist and
    /// timeline in the terminal (attaches to a running `triage watch`).
    Ui(UiArgs),
    /// One pass over log files: print every signature that fires.
    Scan(ScanArgs),
    /// Say which format and time layout (and where in the line) triage
    /// finds in each file, and how many of its events get a time and a
    /// level: to see why one is missing.
    Formats(FormatsArgs),
    /// Follow files (through rotation, truncation and restarts) and print
    /// each alert as it happens.
    Watch(WatchArgs),
    /// `watch` on one host of a fleet, publishing every event, alert and
    /// clear to NATS JetStream for `triage collect` (spooled on disk while
    /// the servers are unreachable).
    Agent(AgentArgs),
    /// The fleet's central side: index the events the agents publish and
    /// keep their alerts in the incident journal of --data-dir (`search`,
    /// `incident`, `export` and `ui` work on it).
    Collect(CollectArgs),
    /// Validate pattern and runbook files (built-in and --patterns/--runbooks)
    /// and run every inline example.
    Check(CheckArgs),
    /// Index existing files and rotated archives (plain, gzip, bzip2, zstd)
    /// for `search`; what is already indexed is not added again.
    Ingest(IngestArgs),
    /// Search the index: words, phrases, field:value, AND/OR/NOT, a time
    /// range, sources, levels, signatures.
    Search(SearchArgs),
    /// Rebuild the index from the logs it was built from (after an upgrade,
    /// or when it is damaged).
    Reindex(ReindexArgs),
    /// Delete old events from the index: by age, or the oldest until it fits
    /// a size.
    Prune(PruneArgs),
    /// The incident timeline from the shell: declare, acknowledge, note, tick
    /// off runbook steps, change severity and status; list, show, verify.
    Incident(IncidentArgs),
    /// Write an incident's postmortem: Markdown (default), JSON, CSV
    /// (the timeline) or one self-contained HTML file.
    Export(ExportArgs),
    /// The notifications waiting to be sent to outputs (`[[output]]` in
    /// triage.toml), or refused and parked: list, retry, drop.
    Outbox(OutboxArgs),
    /// The outputs of triage.toml: list them, or send each a test
    /// notification and print the receiver's answer.
    Outputs(OutputsArgs),
    /// The runbooks: list them, or show one (steps, commands, expected
    /// outcomes, parameters).
    Runbook(LibraryArgs),
    /// The failure signatures: list them, or show one (regexes, threshold,
    /// suppression, runbook).
    Signature(LibraryArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish,
    /// powershell); e.g. `triage completions bash >
    /// ~/.local/share/bash-completion/completions/triage`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff); e.g. `triage man > ~/.local/share/man/man1/triage.1`.
    Man,
    /// The templates of files' messages (variable parts as <*>): count,
    /// first and last seen, level, a sparkline over time, a sample line;
    /// --suggest ID prints a signature for one of them.
    Patterns(PatternsArgs),
    /// What changed between a baseline and a target (files, or two time
    /// windows of files or of the index: --since), by template: new, gone,
    /// and changed in rate (significance stated in the output).
    Diff(DiffArgs),
}

/// `triage outbox`.
#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: OutboxCommand,
}

/// `triage outbox ...`.
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Every notification waiting (with its attempts, next attempt and
    /// last answer) and every one parked.
    List {
        /// One JSON object per notification.
        #[arg(long)]
        json: bool,
        /// Of this output only.
        #[arg(long, value_name = "NAME")]
        output: Option<String>,
    },
    /// Make notifications due now (parked ones back in line); when no
    /// `triage watch` runs on the data directory, send them now.
    Retry {
        /// Sequence numbers (as `list` shows them; default: all).
        #[arg(value_name = "SEQ")]
        seqs: Vec<u64>,
        /// Of this output only.
        #[arg(long, value_name = "NAME")]
        output: Option<String>,
        /// Parked notifications only.
        #[arg(long)]
        parked: bool,
    },
    /// Delete notifications without sending them.
    Drop {
        /// Sequence numbers (as `list` shows them).
        #[arg(value_name = "SEQ")]
        seqs: Vec<u64>,
        /// Of this output only.
        #[arg(long, value_name = "NAME")]
        output: Option<String>,
        /// Parked notifications only.
        #[arg(long)]
        parked: bool,
        /// Every notification.
        #[arg(long, conflicts_with_all = ["seqs", "output", "parked"])]
        all: bool,
    },
}

/// `triage outputs`.
#[derive(Debug, Args)]
pub struct OutputsArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: OutputsCommand,
}

/// `triage outputs ...`.
#[derive(Debug, Subcommand)]
pub enum OutputsCommand {
    /// Each output: its kind, minimum severity and where its URL comes from.
    List,
    /// Send a clearly marked test notification to each output (or the one
    /// named) and print the receiver's answer.
    Test {
        /// The output's `name`.
        #[arg(value_name = "NAME")]
        name: Option<String>,
    },
}

/// `triage runbook` and `triage signature`.
#[derive(Debug, Args)]
pub struct LibraryArgs {
    /// List or show.
    #[command(subcommand)]
    pub action: LibraryAction,
}

/// What to do with the library.
#[derive(Debug, Subcommand)]
pub enum LibraryAction {
    /// One line per entry: id, and what it is.
    List {
        /// One JSON object per entry.
        #[arg(long)]
        json: bool,
    },
    /// One entry in full.
    Show {
        /// Its id (`triage runbook list` lists them).
        id: String,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// How `triage patterns` sorts templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PatternSort {
    /// Most lines first.
    Count,
    /// Earliest first seen first.
    First,
    /// Fewest lines first.
    Rarity,
}

/// `triage patterns`.
#[derive(Debug, Args)]
pub struct PatternsArgs {
    /// Files to read: plain or compressed (recognised by content); `-` reads
    /// stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// One JSON object per template.
    #[arg(long)]
    pub json: bool,
    /// Only templates with a line of this level or worse (trace, debug,
    /// info, notice, warn, error, critical, fatal).
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,
    /// Only templates with at least this many lines.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub min_count: u64,
    /// Order of the list.
    #[arg(long, value_enum, default_value_t = PatternSort::Count)]
    pub sort: PatternSort,
    /// At most this many templates (0: all).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub limit: usize,
    /// Print a `[[signature]]` for the template with this id (or a former
    /// id of it), with examples from the files, that `triage check` accepts.
    #[arg(long, value_name = "ID")]
    pub suggest: Option<String>,
    /// Lines longer than this many bytes are cut (and marked truncated).
    #[arg(long, default_value_t = DEFAULT_MAX_LINE, value_name = "BYTES")]
    pub max_line_bytes: usize,
    /// Zone of timestamps written without one (default: this machine's).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
}

/// `triage diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The good period or run: files or globs. With --since: the files
    /// whose time windows are compared (none: the index in the data
    /// directory).
    #[arg(value_name = "BASELINE")]
    pub baseline: Vec<String>,
    /// The bad period or run, after `--`: files or globs.
    #[arg(last = true, value_name = "TARGET")]
    pub target: Vec<String>,
    /// Compare time windows instead: the target window starts here (a
    /// time, or a duration before now: 1h).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// The target window ends here (default: the end of the data).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// The baseline window starts here (default: the start of the data).
    #[arg(long, value_name = "TIME")]
    pub baseline_since: Option<String>,
    /// The baseline window ends here (default: where the target starts).
    #[arg(long, value_name = "TIME")]
    pub baseline_until: Option<String>,
    /// One JSON object per template that changed.
    #[arg(long)]
    pub json: bool,
    /// At most this many templates of each kind (0: all).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub limit: usize,
    /// Lines longer than this many bytes are cut (and marked truncated).
    #[arg(long, default_value_t = DEFAULT_MAX_LINE, value_name = "BYTES")]
    pub max_line_bytes: usize,
    /// Zone of timestamps written without one (default: this machine's).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
}

/// `triage check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Also print what the library covers: its families and the systems
    /// they name, signatures per severity, signatures without a runbook and
    /// runbooks no signature links to. (`-v` lists every signature and
    /// runbook checked.)
    #[arg(long)]
    pub coverage: bool,
}

/// `triage scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files to read: plain, gzip, bzip2 or zstd (recognised by content);
    /// `-` reads stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// One JSON object per alert (or per signature with --summary, or per
    /// event with --all).
    #[arg(long)]
    pub json: bool,
    /// Print every event, matched or not: time, level, source:line and
    /// text (with --json: ts, level, fields, lines, line_no, offset, line
    /// and the signatures it matched), so any log becomes clean JSON lines.
    /// Alerts are not printed; the exit code is 0 when there was any event.
    #[arg(long, conflicts_with = "summary")]
    pub all: bool,
    /// Instead of each alert, a table of the signatures that matched: events
    /// matched, alerts, sources (files) and hosts hit, first and last seen
    /// ("no time" when no matching event had one).
    #[arg(long)]
    pub summary: bool,
    /// Lines longer than this many bytes are cut (and marked truncated).
    #[arg(long, default_value_t = DEFAULT_MAX_LINE, value_name = "BYTES")]
    pub max_line_bytes: usize,
    /// Zone of timestamps written without one (an IANA name such as
    /// `Europe/Paris`; default: this machine's zone, or the source's
    /// `timezone` in triage.toml).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// Threads searching the logs (default: the machine's cores, at most 4;
    /// 1 searches on the main thread). Several files are searched that many
    /// at a time, one file per thread; one file, that many blocks at a time.
    /// Alerts come in file order either way.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

/// `triage formats`.
#[derive(Debug, Args)]
pub struct FormatsArgs {
    /// Files to read, as `scan` reads them (plain or compressed); `-` reads
    /// stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// One JSON object per file.
    #[arg(long)]
    pub json: bool,
    /// Zone of timestamps written without one (as for `scan`).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// Lines longer than this many bytes are cut.
    #[arg(long, default_value_t = DEFAULT_MAX_LINE, value_name = "BYTES")]
    pub max_line_bytes: usize,
}

/// `triage watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Files or globs to follow (quote globs so triage expands them: files
    /// that start to match later are picked up).
    #[arg(required = true, value_name = "PATH|GLOB")]
    pub targets: Vec<String>,
    /// One JSON object per alert, as for `scan --json`.
    #[arg(long)]
    pub json: bool,
    /// Do not use file system events, only poll (for NFS and other file
    /// systems that do not deliver them).
    #[arg(long)]
    pub poll: bool,
    /// How often to look for changes when no event arrives.
    #[arg(long, default_value = "250ms", value_parser = duration, value_name = "DURATION")]
    pub poll_interval: Duration,
    /// Read files never seen before from their start.
    #[arg(long, conflicts_with = "from_end")]
    pub from_start: bool,
    /// Read files present at start-up from their end, even after a restart
    /// (files that appear later are always read from their start).
    #[arg(long)]
    pub from_end: bool,
    /// Emit a line still missing its newline after this long, marked
    /// partial.
    #[arg(long, default_value = "5s", value_parser = duration, value_name = "DURATION")]
    pub partial_idle: Duration,
    /// Keep reading a file renamed away or deleted this long after it last
    /// grew.
    #[arg(long, default_value = "5s", value_parser = duration, value_name = "DURATION")]
    pub rotated_grace: Duration,
    /// Most files kept open at once; quiet ones are closed and reopened.
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub max_open: usize,
    /// Also read compressed files (gzip, bzip2, zstd) the targets name,
    /// such as rotations a glob like `app.log*` matches: a compressed copy
    /// of a file already read goes on where that was read up to, exactly
    /// once through restarts and crashes (by default they are skipped;
    /// `triage ingest` reads archives exactly once too).
    #[arg(long)]
    pub read_compressed: bool,
    /// Lines longer than this many bytes are cut (and marked truncated).
    #[arg(long, default_value_t = DEFAULT_MAX_LINE, value_name = "BYTES")]
    pub max_line_bytes: usize,
    /// Zone of timestamps written without one (default: this machine's).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// Do not index what is read (by default every event goes to the index
    /// in the data directory, for `triage search`).
    #[arg(long)]
    pub no_index: bool,
    /// Commit the index (make new lines searchable) at most this often.
    #[arg(long, default_value = "1s", value_parser = duration, value_name = "DURATION")]
    pub commit_every: Duration,
    /// Serve Prometheus metrics at http://ADDR/metrics (HOST:PORT, or a
    /// port alone on 127.0.0.1).
    #[arg(long, value_name = "ADDR", value_parser = crate::notify::metrics::parse_addr)]
    pub metrics: Option<std::net::SocketAddr>,
    /// Files or globs of a known-good period or run (repeatable): a problem
    /// whose template they have is not new (no `new-problem` alert), as
    /// one the data directory has seen is not.
    #[arg(long, value_name = "PATH|GLOB")]
    pub baseline: Vec<String>,
}

/// The NATS servers (`--nats`), for `agent` and `collect`.
#[derive(Debug, Args)]
pub struct NatsArgs {
    /// NATS server URL, or a comma-separated list of a cluster's (failing
    /// over between them); default: `url` in [nats] of triage.toml.
    #[arg(long, env = "TRIAGE_NATS", value_name = "URL[,URL...]")]
    pub nats: Option<String>,
}

/// `triage agent`.
#[derive(Debug, Args)]
#[command(
    after_help = "Events go to <prefix>.<host>.events, alerts and clears to <prefix>.<host>.alerts \
(prefix `triage` unless [nats] says). Alerts print here as with `watch`. Use --no-index unless this \
host should keep its own index too."
)]
pub struct AgentArgs {
    /// Servers.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// The host name published (default: [nats] host, else this machine's).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Most bytes spooled on disk while NATS is unreachable; when full,
    /// reading pauses (nothing is dropped).
    #[arg(long, default_value = "256MiB", value_name = "SIZE")]
    pub spool_max: String,
    /// What is followed, and how (as for `watch`).
    #[command(flatten)]
    pub watch: WatchArgs,
}

/// `triage collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Servers.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Create the stream (or check the one there), then stop.
    #[arg(long)]
    pub init: bool,
    /// Replicas of the stream it creates (3 on a three-node cluster).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub replicas: usize,
    /// The stream keeps messages this long.
    #[arg(long, default_value = "7d", value_parser = duration, value_name = "DURATION")]
    pub max_age: Duration,
    /// The stream keeps at most this much (oldest dropped first).
    #[arg(long, default_value = "8GiB", value_name = "SIZE")]
    pub max_bytes: String,
    /// A message id seen again within this long is a duplicate; longer than
    /// an agent may resend after an outage.
    #[arg(long, default_value = "2h", value_parser = duration, value_name = "DURATION")]
    pub duplicate_window: Duration,
    /// Commit the index (make new events searchable) at most this often.
    #[arg(long, default_value = "1s", value_parser = duration, value_name = "DURATION")]
    pub commit_every: Duration,
}

/// `triage ingest`.
#[derive(Debug, Args)]
#[command(
    after_help = "Ingesting a file again adds only what was appended since; a run killed \
midway resumes where its last commit stopped. Exit status: 0 done, 2 a file or the index failed."
)]
pub struct IngestArgs {
    /// Files, directories (read recursively: the files that look like logs
    /// by name) or quoted globs.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// In directories, also take files this glob matches (by name or
    /// path), whatever their name; repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// In directories, leave out files this glob matches (by name or
    /// path); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// How the index is written.
    #[command(flatten)]
    pub index: IndexOptions,
}

/// Options of the commands that write the index.
#[derive(Debug, Args)]
pub struct IndexOptions {
    /// Commit (make what was read searchable, and remember how far) at most
    /// this often. A backfill commits less often than `watch` (1 s): each
    /// commit waits for the indexing threads and the disk, and a killed run
    /// redoes at most this much.
    #[arg(long, default_value = "10s", value_parser = duration, value_name = "DURATION")]
    pub commit_every: Duration,
    /// Indexing threads (default: the machine's cores, at most 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=8))]
    pub threads: Option<u16>,
    /// Then delete events older than this (e.g. 30d).
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub max_age: Option<Duration>,
    /// Then delete the oldest events until the index is under this size
    /// (e.g. 2G, 500M).
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
    /// No progress bar even on a terminal.
    #[arg(short, long)]
    pub quiet: bool,
    /// Lines longer than this many bytes are cut (and marked truncated).
    #[arg(long, default_value_t = DEFAULT_MAX_LINE, value_name = "BYTES")]
    pub max_line_bytes: usize,
    /// Zone of timestamps written without one (default: this machine's).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
}

/// `triage reindex`.
#[derive(Debug, Args)]
pub struct ReindexArgs {
    /// Logs to build from (default: the files the index was built from, as
    /// its last commit lists them).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Rebuild even when some files the index has events from cannot be
    /// found (their events are lost); without it, reindex says which and
    /// leaves the index as it is.
    #[arg(long)]
    pub allow_missing: bool,
    /// How the index is written.
    #[command(flatten)]
    pub index: IndexOptions,
}

/// `triage prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete events older than this (e.g. 30d).
    #[arg(long, value_parser = duration, value_name = "DURATION", required_unless_present = "max_size")]
    pub max_age: Option<Duration>,
    /// Delete the oldest events until the index is under this size.
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
}

/// `triage search`.
#[derive(Debug, Args)]
#[command(
    after_help = "QUERY: words (all must appear, any case), \"a phrase\", field:value \
(level, source, host, signature, or any parsed field such as status:504), AND, OR, NOT, -word, \
+word, (grouping), * for everything.\n\
TIME: 2026-11-21T03:00:00Z, `2026-11-21 03:00`, 2026-11-21, or a duration before now: 15m, 2h, 7d.\n\
Exit status: 0 something found, 1 nothing, 2 an error."
)]
pub struct SearchArgs {
    /// What to look for (`*`: everything).
    #[arg(value_name = "QUERY", default_value = "*")]
    pub query: String,
    /// Only events whose line this regular expression matches.
    #[arg(short = 'e', long, value_name = "REGEX")]
    pub regex: Option<String>,
    /// Only events at or after this time.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only events from a path this glob matches (a glob without `/` may
    /// match the file name); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub source: Vec<String>,
    /// Only events of this level or worse (trace, debug, info, notice, warn,
    /// error, critical, fatal).
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,
    /// Only events that matched this signature; repeatable.
    #[arg(long, value_name = "ID")]
    pub signature: Vec<String>,
    /// Only events from this host (a fleet's agent, or a line's own host
    /// field); repeatable.
    #[arg(long, value_name = "NAME")]
    pub host: Vec<String>,
    /// Show the latest this many events (in time order).
    #[arg(short = 'n', long, default_value_t = 100, value_name = "N")]
    pub limit: usize,
    /// One JSON object per event: ts, source, line_no, offset, level, line.
    #[arg(long)]
    pub json: bool,
    /// Only print how many events match.
    #[arg(short, long, conflicts_with = "histogram")]
    pub count: bool,
    /// Counts per interval (e.g. 1m, 1h), per level.
    #[arg(long, value_name = "INTERVAL")]
    pub histogram: Option<String>,
    /// Show this many events before and after each one, from its file.
    #[arg(short = 'C', long, value_name = "N")]
    pub context: Option<u64>,
    /// Zone of times given without an offset (default: this machine's).
    /// Times are shown in UTC.
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
}

fn duration(text: &str) -> Result<Duration, String> {
    crate::model::parse_duration(text)
        .ok_or_else(|| format!("`{text}` is not a duration such as 250ms, 5s or 2m"))
}

/// `triage demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the generator: the same seed writes the same logs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the logs here (a new or empty directory) instead of a fresh
    /// temporary one.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print the text report instead of opening the console (the default
    /// when stdout is not a terminal).
    #[arg(long)]
    pub text: bool,
    /// How many times faster than real time the console replays the demo
    /// (it lasts about a minute at 1).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR", value_parser = speed)]
    pub speed: f64,
}

fn speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && (0.01..=1000.0).contains(&f) => Ok(f),
        _ => Err(format!(
            "`{text}` is not a speed factor between 0.01 and 1000"
        )),
    }
}

/// `triage ui`.
#[derive(Debug, Args)]
pub struct UiArgs {
    /// Files or globs to follow (quote globs so triage expands them: files
    /// that start to match later are picked up).
    #[arg(required_unless_present = "nats", value_name = "PATH|GLOB")]
    pub targets: Vec<String>,
    /// Show a fleet instead of local files: the events, alerts and clears
    /// its agents publish to this NATS server (or comma-separated list of a
    /// cluster's), read only; credentials and TLS CA from [nats] of
    /// triage.toml.
    #[arg(long, conflicts_with = "targets", value_name = "URL[,URL...]")]
    pub nats: Option<String>,
    /// Do not run detection over what the files already hold (only lines
    /// written from now on raise alerts).
    #[arg(long)]
    pub no_backfill: bool,
    /// Do not use file system events, only poll.
    #[arg(long)]
    pub poll: bool,
    /// How often to look for changes when no event arrives.
    #[arg(long, default_value = "250ms", value_parser = duration, value_name = "DURATION")]
    pub poll_interval: Duration,
    /// Lines longer than this many bytes are cut (and marked truncated).
    #[arg(long, default_value_t = DEFAULT_MAX_LINE, value_name = "BYTES")]
    pub max_line_bytes: usize,
    /// Zone of timestamps written without one, and of the times shown
    /// (default: this machine's).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
}

/// `triage incident`.
#[derive(Debug, Args)]
#[command(
    after_help = "TIME is 2026-11-21T03:10:00Z, or `2026-11-21 03:10[:00]`, or `03:10[:00]` \
(the last such time not in the future), in this machine's zone unless an offset is given.\n\
The journal is DATA_DIR/journal.jsonl. Exit status: 0 done; 1 no incident to list or show, or \
(verify) the chain is broken; 2 an error."
)]
pub struct IncidentArgs {
    /// Who is acting (default: $USER, else the login name).
    #[arg(long, global = true, value_name = "NAME")]
    pub actor: Option<String>,
    /// The incident (`INC-3` or `3`; default: the latest open one).
    #[arg(long, global = true, value_name = "ID")]
    pub incident: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: IncidentCommand,
}

/// The subcommands of `triage incident`.
#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// List incidents, newest first.
    List,
    /// Show an incident: milestones, TTx, signatures, steps and timeline.
    Show {
        /// The incident (default: --incident, else the latest open one, else
        /// the latest).
        #[arg(value_name = "ID")]
        id: Option<String>,
    },
    /// Open an incident by hand.
    Declare {
        /// One line saying what is wrong.
        #[arg(long)]
        title: Option<String>,
        /// How bad (default: high).
        #[arg(long, value_enum)]
        severity: Option<SeverityArg>,
        /// When it was detected (default: now).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Acknowledge: someone is on it (sets the acknowledged milestone).
    Ack {
        /// When (default: now).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Add a note to the timeline.
    Note {
        /// The note.
        text: String,
        /// When (default: now).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Record a runbook step as started, done or skipped.
    Step {
        /// Runbook id (as in `triage scan` output).
        runbook: String,
        /// Step id within the runbook.
        step: String,
        /// What became of it.
        #[arg(value_enum)]
        outcome: StepOutcomeArg,
        /// What was seen or why it was skipped.
        #[arg(long)]
        note: Option<String>,
        /// When (default: now).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Change the severity.
    Severity {
        /// The new severity.
        #[arg(value_enum)]
        severity: SeverityArg,
        /// When (default: now).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Change the status (mitigated and resolved set their milestones;
    /// investigating again clears them).
    Status {
        /// The new status.
        #[arg(value_enum)]
        status: StatusArg,
        /// Why.
        #[arg(long)]
        note: Option<String>,
        /// When (default: now).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Pin an event (by its number) so the postmortem shows its log excerpt.
    Pin {
        /// The event's number (`#12` in `show`).
        seq: u64,
        /// Unpin instead.
        #[arg(long)]
        unpin: bool,
    },
    /// Correct when an event happened (a new event records the change).
    SetTime {
        /// The event's number.
        seq: u64,
        /// When it really happened.
        time: String,
    },
    /// Set a milestone's time by hand (overrides triage's proposal).
    Milestone {
        /// Which milestone.
        #[arg(value_enum)]
        milestone: MilestoneArg,
        /// When.
        time: String,
    },
    /// Merge this incident into another: one failure recorded twice. Its
    /// timeline, signatures and steps become the other's; it is closed, and
    /// what is later written for it goes there.
    Merge {
        /// The incident to merge (it closes).
        #[arg(value_name = "ID")]
        id: String,
        /// The incident it goes into.
        #[arg(long, value_name = "ID")]
        into: String,
    },
    /// Split signatures off an incident (--incident, else the latest open
    /// one) into a new incident of their own: two failures recorded as one.
    Split {
        /// The signatures to move (as `incident show` lists them).
        #[arg(required = true, value_name = "SIGNATURE")]
        signatures: Vec<String>,
        /// The new incident's title (default: the first signature's).
        #[arg(long)]
        title: Option<String>,
    },
    /// Check the journal's hash chain: exit 0 when intact, 1 naming the first
    /// event altered, removed or reordered.
    Verify,
}

/// A severity on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeverityArg {
    /// Worth knowing.
    Info,
    /// An early warning.
    Low,
    /// Degraded.
    Medium,
    /// An outage or about to become one.
    High,
    /// Data loss or a full outage.
    Critical,
}

/// A runbook step's outcome on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StepOutcomeArg {
    /// Someone is on it.
    Started,
    /// Done.
    Done,
    /// Deliberately not done.
    Skipped,
}

/// An incident status on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusArg {
    /// Being worked on (again).
    Investigating,
    /// The impact is contained.
    Mitigated,
    /// Over.
    Resolved,
}

/// A milestone on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MilestoneArg {
    /// The failure began.
    Started,
    /// It was noticed.
    Detected,
    /// Someone was on it.
    Acknowledged,
    /// The impact was contained.
    Mitigated,
    /// It was over.
    Resolved,
}

/// `triage export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The incident (default: the latest open one, else the latest).
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    /// md: a postmortem draft; json: everything, machine-readable; csv: the
    /// timeline; html: one self-contained page with a time chart.
    #[arg(long, value_enum, default_value = "md")]
    pub format: ExportFormatArg,
    /// Write here instead of stdout (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Zone to show times in (an IANA name such as `Europe/Paris`).
    #[arg(long, default_value = "UTC", value_name = "ZONE")]
    pub tz: String,
    /// Who exports (recorded on the timeline; default: $USER).
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormatArg {
    /// Markdown.
    #[value(alias = "markdown")]
    Md,
    /// JSON.
    Json,
    /// CSV.
    Csv,
    /// HTML.
    Html,
}
