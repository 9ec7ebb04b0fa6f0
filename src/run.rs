//! Carries out a parsed command line and decides the exit code, in one place.
//!
//! Exit codes as grep: 0 something matched, 1 nothing did, 2 an error (the
//! rest of the work is still done, then 2). `check`: 0 all valid, 1 not.
//! Errors go to stderr as `triage: what: why`, through `output::message`
//! (sanitised: they name files); a closed stdout (`| head`) is not an error.

use std::{
    collections::HashSet,
    fs,
    io::{self, IsTerminal, Write},
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    cli::{
        Cli, Command, DemoArgs, ExportArgs, FormatsArgs, IncidentArgs, IndexOptions, PruneArgs,
        ReindexArgs, ScanArgs, SearchArgs, UiArgs, WatchArgs,
    },
    config::Config,
    demo,
    diag::Diagnostic,
    library::Library,
    model::Event,
    output::{self, Style},
    parse::TimeContext,
    scan::{ScanError, Scanner},
    signature::Signature,
    tail::{
        discover::Target,
        follow::{FollowOptions, RunOptions, StartAt},
        read::Input,
        split::DEFAULT_MAX_LINE,
    },
    watch::{WatchError, WatchOptions},
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

/// Runs the command line.
pub fn run(cli: Cli) -> Exit {
    let global = &cli.global;
    let result = match &cli.command {
        Command::Check(args) => check(
            &global.patterns,
            &global.runbooks,
            args.coverage,
            global.verbose > 0,
        ),
        Command::Scan(args) => scan(&cli, args),
        Command::Formats(args) => formats(&cli, args),
        Command::Watch(args) => watch(&cli, args),
        Command::Agent(args) => crate::fleet::command::agent(&cli, args).map(|()| Exit::Found),
        Command::Collect(args) => crate::fleet::command::collect(&cli, args).map(|()| Exit::Found),
        Command::Demo(args) => demo(&cli, args),
        Command::Ui(args) => ui(&cli, args),
        Command::Incident(args) => incident(&cli, Some(args), None),
        Command::Export(args) => incident(&cli, None, Some(args)),
        Command::Ingest(args) => {
            match crate::select::select(
                &args.paths,
                &args.include,
                &args.exclude,
                &cli.global.data_dir,
            ) {
                Ok(selection) => {
                    skipped_notice(&selection.skipped);
                    ingest(&cli, &selection.paths, &args.index)
                }
                Err(err) => Err(io::Error::other(err)),
            }
        }
        Command::Search(args) => search(&cli, args),
        Command::Reindex(args) => reindex(&cli, args),
        Command::Prune(args) => prune(&cli, args),
        Command::Outbox(args) => outbox(&cli, args),
        Command::Outputs(args) => outputs(&cli, args),
        Command::Runbook(args) => library_command(&cli, args, true),
        Command::Signature(args) => library_command(&cli, args, false),
        Command::Completions { shell } => {
            crate::manual::completions(*shell, &mut io::stdout().lock()).map(|()| Exit::Found)
        }
        Command::Man => crate::manual::man(&mut io::stdout().lock()).map(|()| Exit::Found),
        Command::Patterns(args) => patterns(&cli, Templates::List(args)),
        Command::Diff(args) => patterns(&cli, Templates::Diff(args)),
    };
    match result {
        Ok(exit) => exit,
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Exit::Found,
        Err(err) => {
            output::message(err);
            Exit::Error
        }
    }
}

/// `triage runbook ...` (`runbooks`) and `triage signature ...`.
fn library_command(cli: &Cli, args: &crate::cli::LibraryArgs, runbooks: bool) -> io::Result<Exit> {
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
        Ok(written) => written.map(|()| if failed { Exit::Error } else { Exit::Found }),
        Err(unknown) => {
            output::message(unknown);
            Ok(Exit::Error)
        }
    }
}

/// Says which files under the directories given `ingest` left out.
fn skipped_notice(skipped: &[std::path::PathBuf]) {
    if skipped.is_empty() {
        return;
    }
    let names: Vec<String> = skipped
        .iter()
        .take(5)
        .map(|p| crate::sanitize::path(p))
        .collect();
    output::message(format_args!(
        "left out {} file{} that do not look like logs: {}{} (--include GLOB takes them)",
        skipped.len(),
        if skipped.len() == 1 { "" } else { "s" },
        names.join(", "),
        if skipped.len() > 5 { ", ..." } else { "" }
    ));
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

fn check(
    pattern_dirs: &[std::path::PathBuf],
    runbook_dirs: &[std::path::PathBuf],
    coverage: bool,
    verbose: bool,
) -> io::Result<Exit> {
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

fn scan(cli: &Cli, args: &ScanArgs) -> io::Result<Exit> {
    let paths = crate::glob::expand_args(&args.paths);
    let zone = match &args.timezone {
        Some(name) => TimeZone::get(name)
            .map_err(|_| io::Error::other(format!("--timezone: unknown time zone `{name}`")))?,
        None => TimeZone::system(),
    };
    let config = match Config::load(cli.global.config.as_deref()) {
        Ok(config) => config,
        Err(diags) => {
            report(&diags);
            return Ok(Exit::Error);
        }
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
    for path in &paths {
        let input = Input::from_arg(path);
        let scanned = if args.all {
            let mut on_event = |event: &Event, matched: &[&Signature], template| {
                events += 1;
                match args.json {
                    true => output::write_event_json(&mut stdout, event, matched, template),
                    false => output::write_event_text(&mut stdout, event, matched, style),
                }
            };
            scanner.scan_all(&input, &mut on_event, &mut |_| Ok(()))
        } else {
            let mut on_alert = |found: crate::model::Alert| {
                alerts += 1;
                match (args.summary, args.json) {
                    (true, _) => Ok(()),
                    (false, true) => output::write_alert_json(&mut stdout, &found, &library),
                    (false, false) => {
                        output::write_alert_text(&mut stdout, &found, &library, style)
                    }
                }
            };
            scanner.scan(&input, &mut on_alert)
        };
        match scanned {
            Ok(()) => {}
            Err(ScanError::Output(err)) => return Err(err),
            Err(ScanError::Read(err)) => {
                stdout.flush()?;
                output::message(format_args!("{input}: {err}"));
                failed = true;
            }
        }
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
enum Templates<'a> {
    List(&'a crate::cli::PatternsArgs),
    Diff(&'a crate::cli::DiffArgs),
}

/// `triage patterns` or `triage diff`: a scanner for their reading, the
/// work in `patterns`, the exit code here.
fn patterns(cli: &Cli, command: Templates<'_>) -> io::Result<Exit> {
    let (timezone, max_line) = match command {
        Templates::List(a) => (a.timezone.as_deref(), a.max_line_bytes),
        Templates::Diff(a) => (a.timezone.as_deref(), a.max_line_bytes),
    };
    let zone = zone(timezone)?;
    let zone_of_diff = zone.clone();
    let config = match Config::load(cli.global.config.as_deref()) {
        Ok(config) => config,
        Err(diags) => {
            report(&diags);
            return Ok(Exit::Error);
        }
    };
    let (library, failed) = load_library(cli);
    let mut scanner = Scanner::new(&library, &config, zone, max_line, Timestamp::now());
    let outcome = match command {
        Templates::List(args) => crate::patterns::list::run(&mut scanner, args, style())?,
        Templates::Diff(args) => crate::patterns::diff::run(
            &scanner,
            args,
            style(),
            &cli.global.data_dir,
            &zone_of_diff,
        )?,
    };
    Ok(match (failed || outcome.failed, outcome.found) {
        (true, _) => Exit::Error,
        (false, true) => Exit::Found,
        (false, false) => Exit::NotFound,
    })
}

/// `triage formats`: 0 when every file was read, 2 when one could not be.
fn formats(cli: &Cli, args: &FormatsArgs) -> io::Result<Exit> {
    let zone = zone(args.timezone.as_deref())?;
    let config = match Config::load(cli.global.config.as_deref()) {
        Ok(config) => config,
        Err(diags) => {
            report(&diags);
            return Ok(Exit::Error);
        }
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
                serde_json::to_writer(&mut stdout, &output::formats_json(&found))?;
                stdout.write_all(b"\n")?;
            }
            Ok(found) => output::write_formats_text(&mut stdout, &found)?,
            Err(err) => {
                stdout.flush()?;
                eprintln!("triage: {input}: {err}");
                failed = true;
            }
        }
    }
    stdout.flush()?;
    Ok(if failed { Exit::Error } else { Exit::Found })
}

fn zone(name: Option<&str>) -> io::Result<TimeZone> {
    match name {
        Some(name) => TimeZone::get(name)
            .map_err(|_| io::Error::other(format!("--timezone: unknown time zone `{name}`"))),
        None => Ok(TimeZone::system()),
    }
}

fn watch(cli: &Cli, args: &WatchArgs) -> io::Result<Exit> {
    // Before anything slow (the library's load): a SIGTERM or Ctrl-C that
    // comes early is a clean stop, not death by the signal.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).map_err(io::Error::other)?;
    let config = match Config::load(cli.global.config.as_deref()) {
        Ok(config) => config,
        Err(diags) => {
            report(&diags);
            return Ok(Exit::Error);
        }
    };
    let options = watch_options(cli, args)?;
    // Said before the library loads, so it comes at once.
    crate::watch::announce(&options.targets, &options.data_dir, options.index.is_some());
    let (library, _) = load_library(cli);
    let mut options = options;
    if !args.baseline.is_empty() {
        let scanner = Scanner::new(
            &library,
            &config,
            options.zone.clone(),
            args.max_line_bytes,
            Timestamp::now(),
        );
        options.baseline = Some(crate::patterns::baseline::mine(&scanner, &args.baseline)?);
    }
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    match crate::watch::watch(options, &library, &config, style(), stop, &mut stdout) {
        Ok(()) => Ok(Exit::Found),
        Err(WatchError::Output(err)) if err.kind() == io::ErrorKind::BrokenPipe => {
            tracing::debug!("output closed");
            Ok(Exit::Found)
        }
        Err(err) => Err(io::Error::other(err.to_string())),
    }
}

/// What `watch` (and `agent`) follow and how, from their arguments.
pub(crate) fn watch_options(cli: &Cli, args: &WatchArgs) -> io::Result<WatchOptions> {
    let start = match (args.from_start, args.from_end) {
        (true, _) => StartAt::Beginning,
        (_, true) => StartAt::End,
        _ => StartAt::Auto,
    };
    let options = WatchOptions {
        targets: args.targets.iter().map(|t| Target::parse(t)).collect(),
        json: args.json,
        follow: FollowOptions {
            max_line: args.max_line_bytes,
            start,
            partial_idle: Some(args.partial_idle),
            rotated_grace: args.rotated_grace,
            max_open: args.max_open.max(1),
            read_compressed: args.read_compressed,
            ..FollowOptions::default()
        },
        run: RunOptions {
            poll_interval: args.poll_interval.max(std::time::Duration::from_millis(1)),
            use_notify: !args.poll,
        },
        zone: zone(args.timezone.as_deref())?,
        data_dir: cli.global.data_dir.clone(),
        index: (!args.no_index).then_some(args.commit_every),
        metrics: args.metrics,
        baseline: None,
    };
    if let Some(dir) = crate::watch::directories(&options.targets).first() {
        return Err(io::Error::other(format!(
            "{}: a directory; follow the files in it with a glob: triage watch '{}/*.log'",
            crate::sanitize::path(dir),
            crate::sanitize::path(dir)
        )));
    }
    Ok(options)
}

/// `triage outbox ...`: the notifications waiting for outputs.
fn outbox(cli: &Cli, args: &crate::cli::OutboxArgs) -> io::Result<Exit> {
    use crate::{
        cli::OutboxCommand,
        notify::command::{OutboxAction, Selection},
    };
    let Ok(config) = Config::load(cli.global.config.as_deref()).map_err(|diags| report(&diags))
    else {
        return Ok(Exit::Error);
    };
    let (action, selection) = match &args.action {
        OutboxCommand::List { json, output } => (
            OutboxAction::List { json: *json },
            Selection {
                output: output.clone(),
                ..Selection::default()
            },
        ),
        OutboxCommand::Retry {
            seqs,
            output,
            parked,
        } => (
            OutboxAction::Retry,
            Selection {
                seqs: seqs.clone(),
                output: output.clone(),
                parked: *parked,
                all: false,
            },
        ),
        OutboxCommand::Drop {
            seqs,
            output,
            parked,
            all,
        } => (
            OutboxAction::Drop,
            Selection {
                seqs: seqs.clone(),
                output: output.clone(),
                parked: *parked,
                all: *all,
            },
        ),
    };
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let good = crate::notify::command::outbox(
        &action,
        &selection,
        &cli.global.data_dir,
        &config.outputs,
        &mut stdout,
    )?;
    stdout.flush()?;
    Ok(if good { Exit::Found } else { Exit::Error })
}

/// `triage outputs ...`: the outputs of triage.toml.
fn outputs(cli: &Cli, args: &crate::cli::OutputsArgs) -> io::Result<Exit> {
    use crate::cli::OutputsCommand;
    let Ok(config) = Config::load(cli.global.config.as_deref()).map_err(|diags| report(&diags))
    else {
        return Ok(Exit::Error);
    };
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let good = match &args.action {
        OutputsCommand::List => crate::notify::command::list(&config.outputs, &mut stdout)?,
        OutputsCommand::Test { name } => {
            crate::notify::command::test(&config.outputs, name.as_deref(), &mut stdout)?
        }
    };
    stdout.flush()?;
    Ok(if good { Exit::Found } else { Exit::Error })
}

/// `triage incident ...` and `triage export`: the journal's commands.
fn incident(
    cli: &Cli,
    incident: Option<&IncidentArgs>,
    export: Option<&ExportArgs>,
) -> io::Result<Exit> {
    use crate::incident::command::{CommandError, Context, Outcome};
    let ctx = Context::new(
        &cli.global.data_dir,
        &cli.global.patterns,
        &cli.global.runbooks,
        Timestamp::now(),
        TimeZone::system(),
    );
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let result = match (incident, export) {
        (Some(args), _) => crate::incident::command::execute(args, &ctx, &mut stdout),
        (None, Some(args)) => crate::export::execute(args, &ctx, &mut stdout),
        (None, None) => Ok(Outcome::Empty),
    };
    stdout.flush()?;
    match result {
        Ok(Outcome::Done) => Ok(Exit::Found),
        Ok(Outcome::Empty | Outcome::Broken) => Ok(Exit::NotFound),
        Err(CommandError::Output(err)) => Err(err),
        Err(err @ CommandError::NoIncident { .. }) => {
            output::message(err);
            Ok(Exit::NotFound)
        }
        Err(err) => {
            output::message(err);
            Ok(Exit::Error)
        }
    }
}

fn demo(cli: &Cli, args: &DemoArgs) -> io::Result<Exit> {
    let console = !args.text && crate::ui::is_terminal();
    let dir = match &args.dir {
        Some(dir) => {
            fs::create_dir_all(dir)?;
            if fs::read_dir(dir)?.next().is_some() {
                return Err(io::Error::other(format!(
                    "{}: not empty; the demo writes into a new or empty directory",
                    dir.display()
                )));
            }
            dir.clone()
        }
        None => tempfile::Builder::new()
            .prefix("triage-demo-")
            .tempdir()?
            .keep(),
    };
    let start = demo::default_start();
    if console {
        return demo_console(cli, args, dir, start);
    }
    let files = demo::write_all(&dir, args.seed, start)?;
    let script = demo::script(args.seed, start);
    let style = style();
    let mut out = io::BufWriter::new(io::stdout().lock());
    writeln!(
        out,
        "Wrote a demo incident to {}: {} lines in {} log files.\n",
        crate::sanitize::path(&dir),
        script.len(),
        files.len()
    )?;

    let (library, failed) = load_library(cli);
    let config = Config::default();
    // Syslog lines carry no year: read them as of the demo's day.
    let now = start
        .checked_add(jiff::SignedDuration::from_hours(24))
        .unwrap_or(start);
    let mut scanner = Scanner::new(&library, &config, TimeZone::UTC, DEFAULT_MAX_LINE, now);
    // Detection runs over all files merged by time, as it would have live.
    let mut events = Vec::new();
    for file in &files {
        let input = Input::Path(file.clone());
        scanner
            .events(&input, &mut |event, at| {
                events.push((at.unwrap_or(now), event));
            })
            .map_err(|err| io::Error::other(format!("{input}: {err}")))?;
    }
    events.sort_by_key(|(at, _)| *at);
    let mut found = Vec::new();
    for (at, event) in events {
        scanner.process(&event, at, &mut |f| {
            found.push(f);
            Ok(())
        })?;
    }
    writeln!(
        out,
        "triage detected {} alerts, in the order they happened:\n",
        found.len()
    )?;
    let mut shown_runbooks = HashSet::new();
    for f in &mut found {
        f.event.source = relative(&dir, &f.event.source).into();
        output::write_alert_text(&mut out, f, &library, style)?;
        if let Some(runbook) = library.runbook_of(library.signature(f.signature))
            && shown_runbooks.insert(runbook.id.as_str())
        {
            output::write_runbook(&mut out, runbook, &f.captures, style)?;
        }
        writeln!(out)?;
    }
    output::write_summary(&mut out, scanner.tallies().collect(), false, style)?;
    writeln!(
        out,
        "\nThe logs are still there: try `triage scan --summary {}/*/*.log`.",
        crate::sanitize::path(&dir)
    )?;
    out.flush()?;
    Ok(if failed { Exit::Error } else { Exit::Found })
}

fn relative(dir: &Path, source: &str) -> String {
    Path::new(source)
        .strip_prefix(dir)
        .map_or_else(|_| source.to_owned(), |p| p.display().to_string())
}

/// Where the console keeps its state: `--data-dir` when given, else
/// `default` (for the demo, inside its directory, so that a demo never
/// writes into the journal of the directory it was started from).
fn chosen_data_dir(cli: &Cli, default: &Path) -> std::path::PathBuf {
    let given = &cli.global.data_dir;
    if given == Path::new(".triage") && std::env::var_os("TRIAGE_DATA_DIR").is_none() {
        default.to_path_buf()
    } else {
        given.clone()
    }
}

/// The library's loader for the console, which calls it on a thread of
/// its own after its first frame; problems are reported after the console.
fn library_loader(cli: &Cli) -> crate::ui::feed::LoadLibrary {
    let (patterns, runbooks) = (cli.global.patterns.clone(), cli.global.runbooks.clone());
    Box::new(move || Library::load(&patterns, &runbooks))
}

fn console_result(result: Result<Vec<Diagnostic>, crate::ui::UiError>) -> io::Result<Exit> {
    match result {
        Ok(diags) if !diags.is_empty() => {
            report(&diags);
            Ok(Exit::Error)
        }
        Ok(_) => Ok(Exit::Found),
        Err(err) => Err(io::Error::other(err.to_string())),
    }
}

/// `triage demo` on a terminal: the console over the demo's logs, written
/// live by the replay thread.
fn demo_console(
    cli: &Cli,
    args: &DemoArgs,
    dir: std::path::PathBuf,
    start: Timestamp,
) -> io::Result<Exit> {
    use crate::{
        demo::replay::Replay,
        ui::{UiOptions, feed::FeedOptions},
    };
    let data_dir = chosen_data_dir(cli, &dir.join(".triage"));
    let options = UiOptions {
        feed: FeedOptions {
            targets: demo::FILES
                .iter()
                .map(|file| Target::Path(dir.join(file)))
                .collect(),
            follow: FollowOptions {
                start: StartAt::Beginning,
                partial_idle: Some(std::time::Duration::from_secs(1)),
                ..FollowOptions::default()
            },
            run: RunOptions {
                poll_interval: std::time::Duration::from_millis(100),
                use_notify: true,
            },
            zone: TimeZone::UTC,
            data_dir,
            record: true,
            alerts: true,
            backfill: false,
            tail_first: false,
            // The demo's log time runs faster than the wall clock; syslog
            // lines carry no year: read them as of the demo's day.
            clock: crate::pipeline::Clock::Log {
                read_as_of: read_as_of(start),
            },
            parse_now: Some(read_as_of(start)),
            relative_to: Some(dir.clone()),
        },
        pattern_dirs: cli.global.patterns.clone(),
        runbook_dirs: cli.global.runbooks.clone(),
        title: format!("demo · {}", dir.display()),
        zone: TimeZone::UTC,
        replay: Some(Replay {
            dir: dir.clone(),
            script: demo::script(args.seed, start),
            speed: args.speed,
        }),
        search: None,
        fleet: None,
    };
    let stop = stop_flag()?;
    let result = crate::ui::run(options, library_loader(cli), Config::default(), stop);
    if result.is_ok() {
        // Not `println!`: the terminal may have gone away.
        let _ = writeln!(
            io::stdout(),
            "The demo's logs and journal are in {}: try `triage --data-dir {} incident show`.",
            crate::sanitize::path(&dir),
            crate::sanitize::path(&chosen_data_dir(cli, &dir.join(".triage")))
        );
    }
    console_result(result)
}

/// The demo's "now" for timestamps without a year: a day after it starts.
fn read_as_of(start: Timestamp) -> Timestamp {
    start
        .checked_add(jiff::SignedDuration::from_hours(24))
        .unwrap_or(start)
}

/// `triage ui`: the console over the given files.
fn ui(cli: &Cli, args: &UiArgs) -> io::Result<Exit> {
    use crate::ui::{UiOptions, feed::FeedOptions};
    let config = match Config::load(cli.global.config.as_deref()) {
        Ok(config) => config,
        Err(diags) => {
            report(&diags);
            return Ok(Exit::Error);
        }
    };
    let zone = zone(args.timezone.as_deref())?;
    let fleet = match &args.nats {
        Some(urls) => Some(
            crate::fleet::Settings::resolve(config.nats.as_ref(), Some(urls), None)
                .map_err(|err| io::Error::other(err.to_string()))?,
        ),
        None => None,
    };
    let title = match &fleet {
        Some(settings) => format!("fleet · {}", settings.servers_for_display()),
        None => args.targets.join(" "),
    };
    let options = UiOptions {
        feed: FeedOptions {
            targets: args.targets.iter().map(|t| Target::parse(t)).collect(),
            follow: FollowOptions {
                max_line: args.max_line_bytes,
                // Files present now: their end is drawn first and detection
                // over them runs in the background; the follower takes over
                // from their end. Files that appear later: from their start.
                start: StartAt::End,
                ..FollowOptions::default()
            },
            run: RunOptions {
                poll_interval: args.poll_interval.max(std::time::Duration::from_millis(1)),
                use_notify: !args.poll,
            },
            zone: zone.clone(),
            data_dir: cli.global.data_dir.clone(),
            record: true,
            alerts: true,
            backfill: !args.no_backfill,
            tail_first: true,
            clock: crate::pipeline::Clock::Wall,
            parse_now: None,
            relative_to: std::env::current_dir().ok(),
        },
        pattern_dirs: cli.global.patterns.clone(),
        runbook_dirs: cli.global.runbooks.clone(),
        title,
        zone,
        replay: None,
        search: index_search(&cli.global.data_dir),
        fleet,
    };
    let stop = stop_flag()?;
    console_result(crate::ui::run(options, library_loader(cli), config, stop))
}

/// The console's search over the index of `data_dir`, when there is one
/// (built by `watch` or `ingest`); else the prompt filters the loaded lines.
fn index_search(data_dir: &Path) -> Option<Box<dyn crate::ui::Search>> {
    let path = crate::index::path_in(data_dir);
    if !path.exists() {
        return None;
    }
    match crate::index::search::Searcher::open(&path) {
        Ok(searcher) => Some(Box::new(crate::ui::index_search::IndexSearch::new(
            searcher,
        ))),
        Err(err) => {
            tracing::warn!("the index cannot be searched from the console: {err}");
            None
        }
    }
}

/// A Ctrl-C flag: the first Ctrl-C asks the work to stop at a clean point.
fn stop_flag() -> io::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).map_err(io::Error::other)?;
    Ok(stop)
}

pub(crate) fn size_arg(name: &str, text: Option<&str>) -> io::Result<Option<u64>> {
    text.map(|t| {
        crate::index::query::parse_size(t).map_err(|e| io::Error::other(format!("{name}: {e}")))
    })
    .transpose()
}

/// The ingest progress bar on stderr (drawn only on a terminal, at most 20
/// times a second, by indicatif): bytes, rate, events, which file.
fn progress_bar(show: bool) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "[{bar:24}] {percent:>3}%  {decimal_bytes}/{decimal_total_bytes}  {decimal_bytes_per_sec}  {msg}",
    ) {
        bar.set_style(style.progress_chars("#> "));
    }
    bar
}

/// What the bar says of `p` beside the bytes: events, and which file.
fn progress_message(p: &crate::ingest::Progress) -> String {
    let name = Path::new(&p.current)
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let name: String = crate::sanitize::for_terminal(&name)
        .chars()
        .take(40)
        .collect();
    format!(
        "{} events  file {}/{} {name}",
        p.events,
        (p.files_done + 1).min(p.files.max(1)),
        p.files
    )
}

fn ingest(cli: &Cli, paths: &[std::path::PathBuf], opts: &IndexOptions) -> io::Result<Exit> {
    let config = match Config::load(cli.global.config.as_deref()) {
        Ok(config) => config,
        Err(diags) => {
            report(&diags);
            return Ok(Exit::Error);
        }
    };
    let max_size = size_arg("--max-size", opts.max_size.as_deref())?;
    let (library, _) = load_library(cli);
    let options = crate::ingest::IngestOptions {
        paths: paths.to_vec(),
        index: crate::index::path_in(&cli.global.data_dir),
        zone: zone(opts.timezone.as_deref())?,
        max_line: opts.max_line_bytes,
        commit_every: opts.commit_every,
        threads: opts.threads.map_or_else(
            || {
                std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .min(4)
            },
            usize::from,
        ),
    };
    let stop = stop_flag()?;
    let show = !opts.quiet && io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let bar = progress_bar(show);
    let mut on_progress = |p: &crate::ingest::Progress| {
        bar.set_length(p.bytes);
        bar.set_position(p.bytes_done.min(p.bytes));
        bar.set_message(progress_message(p));
    };
    let result = crate::ingest::ingest(&options, &library, &config, &stop, &mut on_progress);
    bar.finish_and_clear();
    let report = result.map_err(|e| io::Error::other(e.to_string()))?;
    for (path, why) in &report.failed {
        output::message(format_args!("{path}: {why}"));
    }
    if show || cli.global.verbose > 0 {
        let secs = started.elapsed().as_secs_f64().max(0.001);
        eprintln!(
            "indexed {} events from {} files ({:.1} MB, {:.1} MB/s){}",
            report.events,
            report.files,
            report.bytes as f64 / 1e6,
            report.bytes as f64 / 1e6 / secs,
            match report.unchanged {
                0 => String::new(),
                n => format!("; {n} already indexed"),
            }
        );
    }
    if stop.load(Ordering::SeqCst) {
        output::message("interrupted; run the same command again to go on where it stopped");
        return Ok(Exit::Error);
    }
    if opts.max_age.is_some() || max_size.is_some() {
        retain(&options.index, opts.max_age, max_size)?;
    }
    Ok(if report.failed.is_empty() {
        Exit::Found
    } else {
        Exit::Error
    })
}

fn retain(
    index: &Path,
    max_age: Option<std::time::Duration>,
    max_size: Option<u64>,
) -> io::Result<u64> {
    let wrap = |e: crate::index::IndexError| io::Error::other(e.to_string());
    let store = crate::index::Store::open(index, false).map_err(wrap)?;
    let mut writer = store.writer(1).map_err(wrap)?;
    let deleted = writer
        .retain(max_age, max_size, Timestamp::now())
        .map_err(wrap)?;
    writer.finish().map_err(wrap)?;
    tracing::info!(deleted, "retention");
    Ok(deleted)
}

fn prune(cli: &Cli, args: &PruneArgs) -> io::Result<Exit> {
    let max_size = size_arg("--max-size", args.max_size.as_deref())?;
    let deleted = retain(
        &crate::index::path_in(&cli.global.data_dir),
        args.max_age,
        max_size,
    )?;
    println!("deleted {deleted} events");
    Ok(Exit::Found)
}

fn reindex(cli: &Cli, args: &ReindexArgs) -> io::Result<Exit> {
    use crate::index::{IndexError, Store, path_in};
    let index = path_in(&cli.global.data_dir);
    // A running writer keeps its index: refuse rather than pull it away.
    if let Err(err @ IndexError::Locked(_)) =
        Store::open(&index, false).and_then(|store| store.writer(1).map(drop))
    {
        return Err(io::Error::other(err.to_string()));
    }
    let paths = if args.paths.is_empty() {
        let plan = crate::reindex::plan_for(&index).map_err(|e| {
            io::Error::other(format!(
                "{e}; name the logs to rebuild from: triage reindex PATH..."
            ))
        })?;
        if !plan.missing.is_empty() {
            let text = crate::reindex::describe_missing(&plan);
            if !args.allow_missing {
                return Err(io::Error::other(format!(
                    "{text}\nthe index is left as it is; to rebuild without them: triage reindex --allow-missing"
                )));
            }
            eprintln!("triage: {text}\nrebuilding without them (--allow-missing)");
        }
        if plan.paths.is_empty() {
            return Err(io::Error::other(format!(
                "{}: the index lists no files; name the logs to rebuild from: triage reindex PATH...",
                index.display()
            )));
        }
        plan.paths
    } else {
        args.paths.clone()
    };
    let aside = index.with_extension("old");
    if index.exists() {
        if aside.exists() {
            fs::remove_dir_all(&aside)?;
        }
        fs::rename(&index, &aside)
            .map_err(|e| io::Error::other(format!("{}: {e}", index.display())))?;
    }
    let exit = ingest(cli, &paths, &args.index);
    match &exit {
        Ok(Exit::Found) => {
            if aside.exists() {
                fs::remove_dir_all(&aside)?;
            }
        }
        _ => output::message(format_args!(
            "the previous index is kept in {}",
            aside.display()
        )),
    }
    exit
}

fn search(cli: &Cli, args: &SearchArgs) -> io::Result<Exit> {
    use crate::index::query;
    let bad = |what: &str, e: String| io::Error::other(format!("{what}: {e}"));
    let zone = zone(args.timezone.as_deref())?;
    let now = Timestamp::now();
    let time = |text: &Option<String>, what: &str| {
        text.as_deref()
            .map(|t| query::parse_time(t, now, &zone).map_err(|e| bad(what, e)))
            .transpose()
    };
    let request = query::Request {
        query: args.query.clone(),
        regex: args
            .regex
            .as_deref()
            .map(|r| {
                regex::RegexBuilder::new(r)
                    .size_limit(crate::signature::REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| bad("--regex", e.to_string()))
            })
            .transpose()?,
        since: time(&args.since, "--since")?,
        until: time(&args.until, "--until")?,
        sources: args.source.clone(),
        min_level: args
            .level
            .as_deref()
            .map(|l| query::parse_level(l).map_err(|e| bad("--level", e)))
            .transpose()?,
        signatures: args.signature.clone(),
        hosts: args.host.clone(),
    };
    if let (Some(since), Some(until)) = (request.since, request.until)
        && since >= until
    {
        return Err(io::Error::other(format!(
            "--since {since} is not before --until {until}: no time is between them \
             (durations count back from now: --since 3h --until 2h)"
        )));
    }
    let mode = if args.count {
        crate::search_cmd::Mode::Count
    } else if let Some(interval) = &args.histogram {
        crate::search_cmd::Mode::Histogram(
            query::parse_interval(interval).map_err(|e| bad("--histogram", e))?,
        )
    } else {
        crate::search_cmd::Mode::Hits {
            limit: args.limit,
            context: args.context,
        }
    };
    let searcher =
        crate::index::search::Searcher::open(&crate::index::path_in(&cli.global.data_dir))
            .map_err(|e| io::Error::other(e.to_string()))?;
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let outcome = crate::search_cmd::search(
        &searcher,
        &request,
        mode,
        args.json,
        style().color,
        &mut stdout,
    );
    stdout.flush()?;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(crate::search_cmd::SearchError::Output(err)) => return Err(err),
        Err(crate::search_cmd::SearchError::Index(err)) => {
            output::message_lines(&err.to_string());
            return Ok(Exit::Error);
        }
    };
    if outcome.total == 0 {
        match searcher.sources_unmatched(&request.sources) {
            Ok(None) => {}
            Ok(Some(crate::index::search::Unmatched { globs, indexed })) => {
                let mut names: Vec<String> = indexed
                    .iter()
                    .take(10)
                    .map(|p| crate::sanitize::for_terminal(p).into_owned())
                    .collect();
                if indexed.len() > names.len() {
                    names.push(format!("and {} more", indexed.len() - names.len()));
                }
                output::message(format_args!(
                    "--source {} matches no indexed file (indexed: {})",
                    globs
                        .iter()
                        .map(|g| format!("`{}`", crate::sanitize::for_terminal(g)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ));
            }
            Err(err) => output::message(err),
        }
    }
    match searcher.untimed(&request) {
        Ok(0) => {}
        Ok(1) => output::message("1 event without a time was left out by --since/--until"),
        Ok(n) => output::message(format_args!(
            "{n} events without a time were left out by --since/--until"
        )),
        Err(err) => output::message(err),
    }
    if outcome.shown > 0 && outcome.total > outcome.shown {
        output::message(format_args!(
            "showing the latest {} of {} events (--limit to see more)",
            outcome.shown, outcome.total
        ));
    }
    Ok(if outcome.total > 0 {
        Exit::Found
    } else {
        Exit::NotFound
    })
}
