//! The `triage` binary: sets up logging, parses arguments, runs, and maps the
//! outcome to an exit code. Everything else lives in the library.

use std::{
    io::{IsTerminal, Write},
    panic,
    process::ExitCode,
};

use clap::Parser;
use triage::{
    cli::Cli,
    run::{Exit, run},
};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage(&err),
    };
    let filter = match cli.global.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRIAGE_LOG")
                .unwrap_or_else(|_| filter.into()),
        )
        // No colours: the writer sanitises each line (log lines name files),
        // which would show colour codes as text.
        .with_ansi(false)
        .with_writer(triage::ui::logfile::LogWriter)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .init();
    // A bug must not show a user a backtrace: one line, and exit status 2.
    panic::set_hook(Box::new(|info| {
        // tantivy panicking on a damaged index, caught: reported as an error.
        if triage::index::guard::catching() {
            return;
        }
        // Not `eprintln!`: it panics when stderr has gone (a closed
        // terminal), and a panic in the hook aborts.
        // On one line, sanitised: the message may quote a file name.
        let text = info.to_string().replace('\n', " ");
        let _ = writeln!(
            std::io::stderr(),
            "triage: internal error, please report it: {}",
            triage::sanitize::for_terminal(&text)
        );
    }));
    let exit = panic::catch_unwind(|| run(cli)).unwrap_or(Exit::Error);
    ExitCode::from(exit as u8)
}

/// Help and version as clap prints them; a usage error as plain text,
/// sanitised line by line: it quotes the arguments, and a glob expands to
/// file names anyone could choose (`-\e]52;...`).
fn usage(err: &clap::Error) -> ExitCode {
    if !err.use_stderr() {
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    let text = err.render().to_string();
    let mut stderr = std::io::stderr().lock();
    for line in text.lines() {
        let _ = writeln!(stderr, "{}", triage::sanitize::for_terminal(line));
    }
    ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
}
