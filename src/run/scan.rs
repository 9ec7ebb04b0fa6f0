//! `triage scan`, `triage formats`, `triage patterns` and `triage diff`:
//! one pass over files. The reading is `scan`'s, the formatting `output`'s
//! and `patterns`'; the exit codes are decided here.

use std::io::{self, Write};

use jiff::Timestamp;

use super::{Error, Exit, Outcome, load_config, load_library, style, zone};
use crate::{
    cli::{Cli, FormatsArgs, ScanArgs},
    model::Event,
    output,
    scan::{ScanError, Scanner},
    signature::Signature,
    tail::read::Input,
};

pub(super) fn scan(cli: &Cli, args: &ScanArgs) -> Outcome {
    let paths = crate::glob::expand_args(&args.paths);
    let zone = zone(args.timezone.as_deref())?;
    let Some(config) = load_config(cli) else {
        return Ok(Exit::Error);
    };
    let (library, mut failed) = load_library(cli);
    let mut scanner = Scanner::new(
        &library,
        &config,
        zone,
        args.max_line_bytes,
        Timestamp::now(),
    );
    if let Some(threads) = args.threads {
        scanner = scanner.with_workers(usize::from(threads));
    }
    let style = style();
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let mut alerts = 0u64;
    let mut events = 0u64;
    if args.all && args.json {
        // Templates learned from every file first: each event is then named
        // by its template's final id, as `triage patterns` lists it.
        crate::patterns::list::learn(&mut scanner, &paths);
    }
    let cannot_read = |stdout: &mut io::BufWriter<io::StdoutLock<'_>>,
                       path: &std::path::Path,
                       input: &Input,
                       err: &io::Error|
     -> io::Result<()> {
        stdout.flush()?;
        output::cannot_read(path, input, err);
        Ok(())
    };
    if args.all {
        for path in &paths {
            let input = Input::from_arg(path);
            let mut on_event = |event: &Event, matched: &[&Signature], template| {
                events += 1;
                match args.json {
                    true => output::write_event_json(&mut stdout, event, matched, template),
                    false => output::write_event_text(&mut stdout, event, matched, style),
                }
            };
            match scanner.scan_all(&input, &mut on_event, &mut |_| Ok(())) {
                Ok(()) => {}
                Err(ScanError::Output(err)) => return Err(Error::Output(err)),
                Err(ScanError::Read(err)) => {
                    cannot_read(&mut stdout, path, &input, &err)?;
                    failed = true;
                }
            }
        }
    } else {
        let inputs: Vec<Input> = paths.iter().map(|path| Input::from_arg(path)).collect();
        let stdout = std::cell::RefCell::new(&mut stdout);
        let mut on_alert = |found: crate::model::Alert| {
            alerts += 1;
            let mut stdout = stdout.borrow_mut();
            match (args.summary, args.json) {
                (true, _) => Ok(()),
                (false, true) => output::write_alert_json(&mut *stdout, &found, &library),
                (false, false) => output::write_alert_text(&mut *stdout, &found, &library, style),
            }
        };
        let mut unread = Ok(());
        let mut on_done = |i: usize, done: io::Result<()>| {
            if let Err(err) = done {
                failed = true;
                if unread.is_ok() {
                    unread = cannot_read(&mut stdout.borrow_mut(), &paths[i], &inputs[i], &err);
                }
            }
        };
        scanner
            .scan_many(&inputs, &mut on_alert, &mut on_done)
            .map_err(Error::Output)?;
        unread?;
    }
    let problems = match args.all {
        true => Vec::new(),
        false => scanner.problems(),
    };
    if args.summary {
        output::write_summary(&mut stdout, scanner.tallies().collect(), args.json, style)?;
        crate::patterns::write_problems_summary(&mut stdout, &problems, args.json, style)?;
    } else if args.json {
        crate::patterns::write_problems_json(&mut stdout, &problems, &library)?;
    } else {
        if alerts > 0 && !problems.is_empty() {
            writeln!(stdout)?;
        }
        crate::patterns::write_problems_text(&mut stdout, &problems, &library, style)?;
    }
    stdout.flush()?;
    // Problems are told, but the exit status says whether a signature
    // fired (or, with --all, any event was printed), as before.
    if !args.all && !failed && scanner.tallies().all(|(_, t)| t.matches == 0) {
        nothing_matched(&scanner, &paths);
    }
    Ok(match (failed, alerts + events) {
        (true, _) => Exit::Error,
        (false, 0) => Exit::NotFound,
        (false, _) => Exit::Found,
    })
}

/// Says, when no signature matched, how many events were read and how many
/// of them were at error level or worse (a second, parse-only pass over the
/// files; standard input cannot be read twice).
fn nothing_matched(scanner: &Scanner<'_>, paths: &[std::path::PathBuf]) {
    let (mut events, mut errors, mut files) = (0u64, 0u64, 0usize);
    for path in paths {
        let input = Input::from_arg(path);
        if matches!(input, Input::Stdin) {
            continue;
        }
        files += 1;
        let _ = scanner.events(&input, &mut |event, _| {
            events += 1;
            errors += u64::from(event.level >= Some(crate::model::Level::Error));
        });
    }
    if files == 0 {
        output::message("no signature matched");
        return;
    }
    output::message(format_args!(
        "no signature matched in {events} events read from {files} file{} ({errors} at error \
         level or worse: `triage scan --all` prints every event, `triage check --coverage` \
         what the library knows)",
        if files == 1 { "" } else { "s" }
    ));
}

/// The commands about templates.
#[derive(Clone, Copy)]
pub(super) enum Templates<'a> {
    List(&'a crate::cli::PatternsArgs),
    Diff(&'a crate::cli::DiffArgs),
}

/// `triage patterns` or `triage diff`: a scanner for their reading, the
/// work in `patterns`, the exit code here.
pub(super) fn patterns(cli: &Cli, command: Templates<'_>) -> Outcome {
    let (timezone, max_line) = match command {
        Templates::List(a) => (a.timezone.as_deref(), a.max_line_bytes),
        Templates::Diff(a) => (a.timezone.as_deref(), a.max_line_bytes),
    };
    let zone = zone(timezone)?;
    let zone_of_diff = zone.clone();
    let Some(config) = load_config(cli) else {
        return Ok(Exit::Error);
    };
    let (library, failed) = load_library(cli);
    let mut scanner = Scanner::new(&library, &config, zone, max_line, Timestamp::now());
    let outcome = match command {
        Templates::List(args) => crate::patterns::list::run(&mut scanner, args, style()),
        Templates::Diff(args) => {
            crate::patterns::diff::run(&scanner, args, style(), &cli.global.data_dir, &zone_of_diff)
        }
    }
    .map_err(Error::Stage)?;
    Ok(match (failed || outcome.failed, outcome.found) {
        (true, _) => Exit::Error,
        (false, true) => Exit::Found,
        (false, false) => Exit::NotFound,
    })
}

/// `triage formats`: 0 when every file was read, 2 when one could not be.
pub(super) fn formats(cli: &Cli, args: &FormatsArgs) -> Outcome {
    let zone = zone(args.timezone.as_deref())?;
    let Some(config) = load_config(cli) else {
        return Ok(Exit::Error);
    };
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let mut failed = false;
    for path in &crate::glob::expand_args(&args.paths) {
        let input = Input::from_arg(path);
        match crate::formats::inspect(
            &input,
            &config,
            &zone,
            args.max_line_bytes,
            Timestamp::now(),
        ) {
            Ok(found) if args.json => {
                serde_json::to_writer(&mut stdout, &output::formats_json(&found))
                    .map_err(io::Error::from)?;
                stdout.write_all(b"\n")?;
            }
            Ok(found) => output::write_formats_text(&mut stdout, &found)?,
            Err(err) => {
                stdout.flush()?;
                output::cannot_read(path, &input, &err);
                failed = true;
            }
        }
    }
    stdout.flush()?;
    Ok(if failed { Exit::Error } else { Exit::Found })
}
