//! `triage ingest`, `triage reindex`, `triage prune` and `triage search`:
//! the index built, rebuilt, trimmed and searched. The work is `ingest`'s,
//! `reindex`'s, `index`'s and `search`'s; the exit codes are decided here.

use std::{
    fs,
    io::{self, IsTerminal, Write},
    path::Path,
    sync::atomic::Ordering,
};

use jiff::Timestamp;

use super::{Error, Exit, Outcome, load_config, load_library, stop_flag, style, zone};
use crate::{
    cli::{Cli, IndexOptions, PruneArgs, ReindexArgs, SearchArgs},
    output,
};

/// Says which files under the directories given `ingest` left out.
pub(super) fn skipped_notice(skipped: &[std::path::PathBuf]) {
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

pub(crate) fn size_arg(option: &'static str, text: Option<&str>) -> Result<Option<u64>, Error> {
    text.map(|t| crate::index::query::parse_size(t).map_err(|why| Error::Argument { option, why }))
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

pub(super) fn ingest(cli: &Cli, paths: &[std::path::PathBuf], opts: &IndexOptions) -> Outcome {
    let Some(config) = load_config(cli) else {
        return Ok(Exit::Error);
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
    let report = result?;
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
) -> Result<u64, Error> {
    let store = crate::index::Store::open(index, false)?;
    let mut writer = store.writer(1)?;
    let deleted = writer.retain(max_age, max_size, Timestamp::now())?;
    writer.finish()?;
    tracing::info!(deleted, "retention");
    Ok(deleted)
}

pub(super) fn prune(cli: &Cli, args: &PruneArgs) -> Outcome {
    let max_size = size_arg("--max-size", args.max_size.as_deref())?;
    let deleted = retain(
        &crate::index::path_in(&cli.global.data_dir),
        args.max_age,
        max_size,
    )?;
    println!("deleted {deleted} events");
    Ok(Exit::Found)
}

pub(super) fn reindex(cli: &Cli, args: &ReindexArgs) -> Outcome {
    use crate::index::{IndexError, Store, path_in};
    let index = path_in(&cli.global.data_dir);
    // A running writer keeps its index: refuse rather than pull it away.
    if let Err(err @ IndexError::Locked(_)) =
        Store::open(&index, false).and_then(|store| store.writer(1).map(drop))
    {
        return Err(err.into());
    }
    let paths = if args.paths.is_empty() {
        let plan = crate::reindex::plan_for(&index).map_err(Error::NoPlan)?;
        if !plan.missing.is_empty() {
            let text = crate::reindex::describe_missing(&plan);
            if !args.allow_missing {
                return Err(Error::Missing(text));
            }
            output::message_lines(&format!(
                "{text}\nrebuilding without them (--allow-missing)"
            ));
        }
        if plan.paths.is_empty() {
            return Err(Error::NothingIndexed(index));
        }
        plan.paths
    } else {
        args.paths.clone()
    };
    let aside = index.with_extension("old");
    if index.exists() {
        if aside.exists() {
            fs::remove_dir_all(&aside).map_err(Error::at(&aside))?;
        }
        fs::rename(&index, &aside).map_err(Error::at(&index))?;
    }
    let exit = ingest(cli, &paths, &args.index);
    match &exit {
        Ok(Exit::Found) => {
            if aside.exists() {
                fs::remove_dir_all(&aside).map_err(Error::at(&aside))?;
            }
        }
        _ => output::message(format_args!(
            "the previous index is kept in {}",
            aside.display()
        )),
    }
    exit
}

pub(super) fn search(cli: &Cli, args: &SearchArgs) -> Outcome {
    use crate::index::query;
    let bad = |option: &'static str, why: String| Error::Argument { option, why };
    let zone = zone(args.timezone.as_deref())?;
    let now = Timestamp::now();
    let time = |text: &Option<String>, what: &'static str| {
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
        return Err(Error::EmptyTimeRange { since, until });
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
        crate::index::search::Searcher::open(&crate::index::path_in(&cli.global.data_dir))?;
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
        Err(crate::search_cmd::SearchError::Output(err)) => return Err(Error::Output(err)),
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
