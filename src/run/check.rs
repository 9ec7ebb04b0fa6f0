//! `triage check`, `triage runbook ...` and `triage signature ...`: the
//! library's files checked, listed and shown. Exit codes are decided here
//! (and rendered by `run`); the work is `library` and `library_cmd`'s.

use std::{
    collections::HashSet,
    io::{self, Write},
};

use jiff::{Timestamp, tz::TimeZone};

use super::{Exit, Outcome, load_library, report};
use crate::{cli::Cli, library::Library, output, parse::TimeContext};

pub(super) fn check(
    pattern_dirs: &[std::path::PathBuf],
    runbook_dirs: &[std::path::PathBuf],
    coverage: bool,
    verbose: bool,
) -> Outcome {
    let (library, mut diags) = Library::load(pattern_dirs, runbook_dirs);
    diags.extend(library.run_examples(&TimeContext::new(TimeZone::UTC, Timestamp::now())));
    report(&diags);
    let examples: usize = library.signatures.iter().map(|s| s.examples.len()).sum();
    let files: HashSet<&str> = library
        .signatures
        .iter()
        .map(|s| s.loc.source.name.as_str())
        .collect();
    println!(
        "checked {} signatures in {} files, {} runbooks and {} examples: {}",
        library.signatures.len(),
        files.len(),
        library.runbooks.len(),
        examples,
        match diags.len() {
            0 => "all valid".to_owned(),
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        }
    );
    if verbose {
        crate::library_cmd::write_checked(&mut io::stdout().lock(), &library)?;
    }
    if coverage {
        output::write_coverage(&mut io::stdout().lock(), &library.coverage())?;
    }
    Ok(if diags.is_empty() {
        Exit::Found
    } else {
        Exit::NotFound
    })
}

/// `triage runbook ...` (`runbooks`) and `triage signature ...`.
pub(super) fn library_command(
    cli: &Cli,
    args: &crate::cli::LibraryArgs,
    runbooks: bool,
) -> Outcome {
    use crate::{cli::LibraryAction, library_cmd};
    let (library, failed) = load_library(cli);
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let shown = match (&args.action, runbooks) {
        (LibraryAction::List { json }, true) => {
            Ok(library_cmd::runbook_list(&mut stdout, &library, *json))
        }
        (LibraryAction::List { json }, false) => {
            Ok(library_cmd::signature_list(&mut stdout, &library, *json))
        }
        (LibraryAction::Show { id, json }, true) => {
            library_cmd::runbook_show(&mut stdout, &library, id, *json)
        }
        (LibraryAction::Show { id, json }, false) => {
            library_cmd::signature_show(&mut stdout, &library, id, *json)
        }
    };
    stdout.flush()?;
    match shown {
        Ok(written) => {
            written?;
            Ok(if failed { Exit::Error } else { Exit::Found })
        }
        Err(unknown) => {
            output::message(unknown);
            Ok(Exit::Error)
        }
    }
}
