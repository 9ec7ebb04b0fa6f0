//! The command line: global options and subcommands (clap, derive).
//!
//! Only declarations live here; `run` carries them out. A subcommand appears
//! here once it really works.

use std::path::PathBuf;

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
    /// directory and show what triage detects in it, with runbooks.
    Demo(DemoArgs),
    /// One pass over log files: print every signature that fires.
    Scan(ScanArgs),
    /// Validate pattern and runbook files (built-in and --patterns/--runbooks)
    /// and run every inline example.
    Check,
}

/// `triage scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files to read: plain or gzip (recognised by content); `-` reads stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// One JSON object per alert (or per signature with --summary).
    #[arg(long)]
    pub json: bool,
    /// Instead of each alert, a table of signatures with counts, first and
    /// last seen.
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
}
