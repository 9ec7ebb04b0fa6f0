//! `triage ui` and `triage demo`: the console over files (or the fleet),
//! and the demo (written, then shown in the console or as text). The work
//! is `ui`'s and `demo`'s; the exit codes are decided here.

use std::{
    collections::HashSet,
    fs,
    io::{self, Write},
    path::Path,
};

use jiff::{Timestamp, tz::TimeZone};

use super::{Error, Exit, Outcome, load_config, load_library, report, stop_flag, style, zone};
use crate::{
    cli::{Cli, DemoArgs, UiArgs},
    config::Config,
    demo,
    diag::Diagnostic,
    library::Library,
    output,
    scan::Scanner,
    tail::{
        discover::Target,
        follow::{FollowOptions, RunOptions, StartAt},
        read::Input,
        split::DEFAULT_MAX_LINE,
    },
};

pub(super) fn demo(cli: &Cli, args: &DemoArgs) -> Outcome {
    let console = !args.text && crate::ui::is_terminal();
    let dir = match &args.dir {
        Some(dir) => {
            fs::create_dir_all(dir).map_err(Error::at(dir))?;
            if fs::read_dir(dir).map_err(Error::at(dir))?.next().is_some() {
                return Err(Error::NotEmpty(dir.clone()));
            }
            dir.clone()
        }
        None => tempfile::Builder::new()
            .prefix("triage-demo-")
            .tempdir()
            .map_err(Error::at(std::env::temp_dir()))?
            .keep(),
    };
    let start = demo::default_start();
    if console {
        return demo_console(cli, args, dir, start);
    }
    let files = demo::write_all(&dir, args.seed, start).map_err(Error::at(&dir))?;
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
            .map_err(Error::at(file))?;
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

fn console_result(result: Result<Vec<Diagnostic>, crate::ui::UiError>) -> Outcome {
    match result {
        Ok(diags) if !diags.is_empty() => {
            report(&diags);
            Ok(Exit::Error)
        }
        Ok(_) => Ok(Exit::Found),
        Err(err) => Err(err.into()),
    }
}

/// `triage demo` on a terminal: the console over the demo's logs, written
/// live by the replay thread.
fn demo_console(cli: &Cli, args: &DemoArgs, dir: std::path::PathBuf, start: Timestamp) -> Outcome {
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
pub(super) fn ui(cli: &Cli, args: &UiArgs) -> Outcome {
    use crate::ui::{UiOptions, feed::FeedOptions};
    let Some(config) = load_config(cli) else {
        return Ok(Exit::Error);
    };
    let zone = zone(args.timezone.as_deref())?;
    let fleet = match &args.nats {
        Some(urls) => Some(crate::fleet::Settings::resolve(
            config.nats.as_ref(),
            Some(urls),
            None,
        )?),
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
