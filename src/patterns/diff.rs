//! `triage diff BASELINE... -- TARGET...`: what changed between a good
//! period or run and a bad one, by template.
//!
//! Both sides are mined by one miner (so a template is the same on both
//! sides), each template counting its baseline and target events. A
//! template is `new` when only the target has it, `gone` when only the
//! baseline has it, and `changed` when both have it and its rate (its share
//! of its side's events) differs significantly: a G-test (log-likelihood
//! ratio) on the 2×2 table of its events and the other events of each side,
//! G ≥ 10.83 (p < 0.001 for one degree of freedom), and by at least a
//! factor of two either way (on large logs a tiny change in rate is
//! significant but not interesting). Ranked: problem-like templates first
//! (a line of level error or worse, or a failure marker, as
//! `signature::problem` decides), then new, changed, gone, then the most
//! target events.
//!
//! Two time windows can be compared instead (`--since`, with
//! `--until`, `--baseline-since`, `--baseline-until`): of the same files
//! (each event on the side its time falls in; an event without a time takes
//! the last time before it in its file), or, with no file named, of the
//! events the index in the data directory holds (at most [`MAX_INDEXED`] per
//! side, the latest; the output says when a side was cut).
//!
//! Must not: open files (the scanner's line path reads them; the index is
//! read through `index::search`), decide exit codes.

use std::{
    collections::HashMap,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use jiff::{Timestamp, tz::TimeZone};
use serde_json::json;

use super::{Outcome, cut};
use crate::{
    cli::DiffArgs,
    index::{
        query::Request,
        search::{Hit, Searcher},
    },
    model::{Event, Level},
    output::Style,
    parse::{
        Parser, TimeContext,
        source::Profile,
        template::{Miner, Occurrence, TemplateRef, message_start},
    },
    sanitize::for_terminal,
    scan::Scanner,
    signature::problem::{has_marker, problem_like},
    tail::{
        discover::{Target, expand},
        read::Input,
    },
};

/// G at or above this is significant at p < 0.001 (χ², 1 d.o.f.).
pub const G_CRITICAL: f64 = 10.83;

/// A changed rate must also differ by at least this factor.
pub const MIN_FACTOR: f64 = 2.0;

/// At most this many target line numbers are kept per template.
pub const MAX_LINES: usize = 1_000;

/// Target lines shown per template in text.
const SHOWN: usize = 3;

/// Events read from the index per side (the latest of its window): bounds
/// the memory of a diff over a long window.
pub const MAX_INDEXED: usize = 200_000;

/// What a template did between the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Only in the target.
    New,
    /// In both, at a significantly different rate.
    Changed,
    /// Only in the baseline.
    Gone,
}

impl Kind {
    /// As written in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::New => "new",
            Kind::Changed => "changed",
            Kind::Gone => "gone",
        }
    }
}

/// Counts of one template on both sides.
#[derive(Debug, Default, Clone)]
struct Counts {
    baseline: u64,
    target: u64,
    problem: bool,
    /// Target lines: source and line number (at most [`MAX_LINES`]).
    lines: Vec<(Arc<str>, u64)>,
    /// The first target lines: source, line number, text (at most
    /// [`SHOWN`]).
    shown: Vec<(Arc<str>, u64, String)>,
}

impl Counts {
    fn join(&mut self, other: Counts) {
        self.baseline += other.baseline;
        self.target += other.target;
        self.problem |= other.problem;
        self.lines.extend(other.lines);
        self.lines.sort();
        self.lines.truncate(MAX_LINES);
        self.shown.extend(other.shown);
        self.shown.sort();
        self.shown.truncate(SHOWN);
    }
}

/// One template that changed.
#[derive(Debug, Clone)]
pub struct Change {
    /// New, changed or gone.
    pub kind: Kind,
    /// The template's id.
    pub template: String,
    /// Its text.
    pub template_text: String,
    /// Baseline events.
    pub count_baseline: u64,
    /// Target events.
    pub count_target: u64,
    /// G statistic (for changed).
    pub g: f64,
    /// A line of it was problem-like.
    pub problem: bool,
    /// Target lines (source, line number), at most [`MAX_LINES`].
    pub lines: Vec<(Arc<str>, u64)>,
    /// First target lines: source, line number, text.
    pub shown: Vec<(Arc<str>, u64, String)>,
}

/// The G statistic of `a` of `n_a` events against `b` of `n_b`.
pub fn g_test(a: u64, n_a: u64, b: u64, n_b: u64) -> f64 {
    let (a, n_a, b, n_b) = (a as f64, n_a as f64, b as f64, n_b as f64);
    let total = n_a + n_b;
    if total == 0.0 {
        return 0.0;
    }
    let k = a + b;
    let cells = [
        (a, k * n_a / total),
        (n_a - a, (total - k) * n_a / total),
        (b, k * n_b / total),
        (n_b - b, (total - k) * n_b / total),
    ];
    2.0 * cells
        .iter()
        .filter(|(o, e)| *o > 0.0 && *e > 0.0)
        .map(|(o, e)| o * (o / e).ln())
        .sum::<f64>()
}

/// Whether a template seen on both sides changed significantly.
pub fn significant(target: u64, n_target: u64, baseline: u64, n_baseline: u64) -> (bool, f64) {
    let g = g_test(target, n_target, baseline, n_baseline);
    if n_target == 0 || n_baseline == 0 {
        return (false, g);
    }
    let rate_t = target as f64 / n_target as f64;
    let rate_b = baseline as f64 / n_baseline as f64;
    let factor = if rate_b > 0.0 {
        rate_t / rate_b
    } else {
        f64::INFINITY
    };
    let big = factor >= MIN_FACTOR || factor <= 1.0 / MIN_FACTOR;
    (g >= G_CRITICAL && big, g)
}

/// The files of arguments: paths as they are, globs expanded (sorted).
pub(crate) fn files(args: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for arg in args {
        match Target::parse(arg) {
            Target::Path(path) => out.push(path),
            target @ Target::Glob(_) => {
                let mut errors = Vec::new();
                let found = expand(&[target], &mut errors);
                if found.is_empty() {
                    // Left for the reader to report.
                    out.push(PathBuf::from(arg));
                }
                out.extend(found.into_iter().map(|f| f.path));
            }
        }
    }
    out
}

/// The result of a diff.
#[derive(Debug, Default)]
pub struct Diff {
    /// Events read on each side.
    pub events_baseline: u64,
    /// Target events.
    pub events_target: u64,
    /// Templates in all.
    pub templates: usize,
    /// What changed, ranked.
    pub changes: Vec<Change>,
    /// A file could not be read.
    pub failed: bool,
    /// Sides read from the index only in part: target side or not, events
    /// read, events in its window.
    pub cut: Vec<(bool, u64, u64)>,
}

/// Both sides, mined by one miner, counted per template.
#[derive(Default)]
struct Sides {
    miner: Miner,
    counts: HashMap<TemplateRef, Counts>,
    result: Diff,
}

impl Sides {
    /// Counts a parsed event on one side.
    fn event(&mut self, event: &Event, target: bool) {
        let assigned = self.miner.add_event(event);
        let problem = problem_like(event).is_some();
        let first = event.text.split('\n').next().unwrap_or("");
        self.count(
            assigned.template,
            problem,
            target,
            &event.source,
            event.line_no,
            first,
        );
    }

    /// Counts an event read from the index on one side; its message
    /// starts where `parser` (its source's) finds it.
    fn indexed(&mut self, hit: &Hit, source: &Arc<str>, parser: &Parser, target: bool) {
        let first = hit.line.split('\n').next().unwrap_or("");
        let start = parser.read(first).message.min(first.len());
        let start = match first.is_char_boundary(start) {
            true => start,
            false => message_start(first),
        };
        let assigned = self.miner.add(&Occurrence {
            line: first,
            message: &first[start..],
            source,
            line_no: hit.line_no,
            offset: hit.offset,
            ts: hit.ts,
            level: hit.level,
        });
        let problem = hit.level.is_some_and(|l| l >= Level::Error) || has_marker(&hit.line);
        self.count(
            assigned.template,
            problem,
            target,
            source,
            hit.line_no,
            first,
        );
    }

    fn count(
        &mut self,
        template: TemplateRef,
        problem: bool,
        target: bool,
        source: &Arc<str>,
        line_no: u64,
        first: &str,
    ) {
        let c = self.counts.entry(template).or_default();
        c.problem |= problem;
        if target {
            self.result.events_target += 1;
            c.target += 1;
            if c.lines.len() < MAX_LINES {
                c.lines.push((Arc::clone(source), line_no));
            }
            if c.shown.len() < SHOWN {
                c.shown.push((Arc::clone(source), line_no, cut(first, 300)));
            }
        } else {
            self.result.events_baseline += 1;
            c.baseline += 1;
        }
    }

    /// The templates new, gone or changed, ranked.
    fn finish(self) -> Diff {
        let Sides {
            miner,
            counts,
            mut result,
        } = self;
        // Templates that became one are counted together.
        let mut merged: HashMap<TemplateRef, Counts> = HashMap::new();
        for (r, c) in counts {
            let Some(now) = miner.current(r) else {
                continue;
            };
            match merged.get_mut(&now) {
                Some(into) => into.join(c),
                None => {
                    merged.insert(now, c);
                }
            }
        }
        result.templates = merged.len();
        for (r, c) in merged {
            let Some(t) = miner.get(r) else { continue };
            let (kind, g) = match (c.baseline, c.target) {
                (0, 0) => continue,
                (0, _) => (Kind::New, 0.0),
                (_, 0) => (Kind::Gone, 0.0),
                (b, a) => match significant(a, result.events_target, b, result.events_baseline) {
                    (true, g) => (Kind::Changed, g),
                    (false, _) => continue,
                },
            };
            result.changes.push(Change {
                kind,
                template: t.id().to_string(),
                template_text: t.text().to_owned(),
                count_baseline: c.baseline,
                count_target: c.target,
                g,
                problem: c.problem,
                lines: c.lines,
                shown: c.shown,
            });
        }
        result.changes.sort_by(|a, b| {
            b.problem
                .cmp(&a.problem)
                .then(a.kind.cmp(&b.kind))
                .then(b.count_target.cmp(&a.count_target))
                .then(b.count_baseline.cmp(&a.count_baseline))
                .then(a.lines.first().cmp(&b.lines.first()))
                .then(a.template.cmp(&b.template))
        });
        result
    }
}

/// Mines both sides and compares them.
pub fn diff(scanner: &Scanner<'_>, baseline: &[PathBuf], target: &[PathBuf]) -> Diff {
    let mut sides = Sides::default();
    let mut failed = false;
    for (side_target, paths) in [(false, baseline), (true, target)] {
        for path in paths {
            let input = Input::from_arg(path);
            let read = scanner.events(&input, &mut |event, _| sides.event(&event, side_target));
            if let Err(err) = read {
                crate::output::message(format_args!("{input}: {err}"));
                failed = true;
            }
        }
    }
    let mut result = sides.finish();
    result.failed = failed;
    result
}

/// Two time windows: `[start, end)`, either end open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// The baseline's window.
    pub baseline: (Option<Timestamp>, Option<Timestamp>),
    /// The target's window.
    pub target: (Option<Timestamp>, Option<Timestamp>),
}

impl Windows {
    /// The windows the options name (`--since` is required; the baseline
    /// ends where the target starts unless `--baseline-until` says).
    pub fn of(args: &DiffArgs, zone: &TimeZone, now: Timestamp) -> io::Result<Option<Windows>> {
        let time = |text: &Option<String>, what: &str| {
            text.as_deref()
                .map(|t| {
                    crate::timearg::parse(t, zone, now).map_err(|e| {
                        io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
                    })
                })
                .transpose()
        };
        let Some(since) = time(&args.since, "--since")? else {
            if args.until.is_some()
                || args.baseline_since.is_some()
                || args.baseline_until.is_some()
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "--until, --baseline-since and --baseline-until need --since (where the target window starts)",
                ));
            }
            return Ok(None);
        };
        let windows = Windows {
            baseline: (
                time(&args.baseline_since, "--baseline-since")?,
                Some(time(&args.baseline_until, "--baseline-until")?.unwrap_or(since)),
            ),
            target: (Some(since), time(&args.until, "--until")?),
        };
        for (name, (from, to)) in [("baseline", windows.baseline), ("target", windows.target)] {
            if let (Some(from), Some(to)) = (from, to)
                && from >= to
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the {name} window is empty: {from} is not before {to}"),
                ));
            }
        }
        Ok(Some(windows))
    }

    /// The side a time falls on: `Some(true)` the target, `Some(false)` the
    /// baseline, `None` neither.
    pub fn side(&self, at: Timestamp) -> Option<bool> {
        let inside = |(from, to): (Option<Timestamp>, Option<Timestamp>)| {
            from.is_none_or(|f| at >= f) && to.is_none_or(|t| at < t)
        };
        if inside(self.target) {
            Some(true)
        } else if inside(self.baseline) {
            Some(false)
        } else {
            None
        }
    }
}

/// Compares two time windows of the same files; an event without a time
/// takes the last time before it in its file (none yet: left out).
pub fn diff_windows(scanner: &Scanner<'_>, paths: &[PathBuf], windows: Windows) -> Diff {
    let mut sides = Sides::default();
    let mut failed = false;
    for path in paths {
        let input = Input::from_arg(path);
        let mut last: Option<Timestamp> = None;
        let read = scanner.events(&input, &mut |event, _| {
            last = event.ts.or(last);
            if let Some(side) = last.and_then(|at| windows.side(at)) {
                sides.event(&event, side);
            }
        });
        if let Err(err) = read {
            crate::output::message(format_args!("{input}: {err}"));
            failed = true;
        }
    }
    let mut result = sides.finish();
    result.failed = failed;
    result
}

/// Lines of a source's first events its parser is learned from (as a file's
/// first lines teach `scan` its format, time layout and message prefix).
const PROFILE_LINES: usize = 200;

/// Compares two time windows of what the index in `data_dir` holds: at
/// most [`MAX_INDEXED`] events of each (the latest), said in `cut`. Each
/// source's events are parsed as a file of them would be (format, time
/// layout and message prefix learned from its first events), so templates
/// are those of the files.
pub fn diff_indexed(data_dir: &Path, windows: Windows, zone: &TimeZone) -> io::Result<Diff> {
    let searcher = Searcher::open(&crate::index::path_in(data_dir)).map_err(|e| {
        io::Error::other(format!("{e}; or name files to compare their time windows"))
    })?;
    let mut sides = Sides::default();
    let mut cut_sides = Vec::new();
    let mut read: Vec<(bool, Vec<Hit>)> = Vec::new();
    for (target, (since, until)) in [(false, windows.baseline), (true, windows.target)] {
        let request = Request {
            since,
            until,
            ..Request::all()
        };
        let found = searcher
            .run(&request, MAX_INDEXED, None)
            .map_err(|e| io::Error::other(e.to_string()))?;
        if found.total > found.hits.len() as u64 {
            cut_sides.push((target, found.hits.len() as u64, found.total));
        }
        read.push((target, found.hits));
    }
    // Each source's parser, from its first events in file order.
    let mut firsts: HashMap<&str, Vec<(u64, &str)>> = HashMap::new();
    for hit in read.iter().flat_map(|(_, hits)| hits) {
        firsts
            .entry(hit.source.as_str())
            .or_default()
            .push((hit.line_no, hit.line.as_str()));
    }
    let time = TimeContext::new(zone.clone(), Timestamp::now());
    let parsers: HashMap<&str, (Arc<str>, Parser)> = firsts
        .into_iter()
        .map(|(name, mut lines)| {
            lines.sort_unstable_by_key(|(n, _)| *n);
            let sample: Vec<&str> = lines.iter().take(PROFILE_LINES).map(|(_, l)| *l).collect();
            let profile = Profile::of(sample.join("\n").as_bytes(), true, None, &time);
            let source: Arc<str> = Arc::from(name);
            let parser = Parser::with_format(Arc::clone(&source), time.clone(), profile.format)
                .with_layout(profile.layout)
                .with_prefix(profile.prefix);
            (name, (source, parser))
        })
        .collect();
    for (target, hits) in &read {
        for hit in hits {
            // Every hit's source has a parser (built from the same hits).
            if let Some((source, parser)) = parsers.get(hit.source.as_str()) {
                sides.indexed(hit, source, parser, *target);
            }
        }
    }
    let mut result = sides.finish();
    result.cut = cut_sides;
    Ok(result)
}

/// `triage diff`: files against files, or two time windows of files or
/// of the index in `data_dir`.
pub fn run(
    scanner: &Scanner<'_>,
    args: &DiffArgs,
    style: Style,
    data_dir: &Path,
    zone: &TimeZone,
) -> io::Result<Outcome> {
    let invalid = |text: &str| io::Error::new(io::ErrorKind::InvalidInput, text.to_owned());
    let mut result = match Windows::of(args, zone, Timestamp::now())? {
        None if args.baseline.is_empty() || args.target.is_empty() => {
            return Err(invalid(
                "give the baseline and the target: BASELINE... -- TARGET..., or compare time windows with --since",
            ));
        }
        None => diff(scanner, &files(&args.baseline), &files(&args.target)),
        Some(_) if !args.target.is_empty() => {
            return Err(invalid(
                "with --since, name the files once (no `--`): their time windows are compared",
            ));
        }
        Some(windows) if args.baseline.is_empty() => diff_indexed(data_dir, windows, zone)?,
        Some(windows) => diff_windows(scanner, &files(&args.baseline), windows),
    };
    for (target, read, total) in &result.cut {
        crate::output::message(format_args!(
            "the {} window has {total} events in the index: the latest {read} were compared",
            if *target { "target" } else { "baseline" }
        ));
    }
    if args.limit > 0 {
        let mut per_kind: HashMap<Kind, usize> = HashMap::new();
        result.changes.retain(|c| {
            let n = per_kind.entry(c.kind).or_default();
            *n += 1;
            *n <= args.limit
        });
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.json {
        for c in &result.changes {
            let mut sources: Vec<&str> = c.lines.iter().map(|(s, _)| &**s).collect();
            sources.dedup();
            let row = json!({
                "kind": c.kind.as_str(),
                "template": c.template,
                "template_text": c.template_text,
                "count_baseline": c.count_baseline,
                "count_target": c.count_target,
                "problem": c.problem,
                "g": (c.kind == Kind::Changed).then_some((c.g * 100.0).round() / 100.0),
                "lines": c.lines.iter().map(|(_, n)| n).collect::<Vec<_>>(),
                "sources": sources,
            });
            serde_json::to_writer(&mut out, &row)?;
            out.write_all(b"\n")?;
        }
    } else {
        write_text(&mut out, &result, style)?;
    }
    out.flush()?;
    Ok(Outcome {
        found: !result.changes.is_empty(),
        failed: result.failed,
    })
}

fn write_text(out: &mut dyn Write, result: &Diff, style: Style) -> io::Result<()> {
    writeln!(
        out,
        "baseline {} events, target {} events, {} templates; changed = a rate differing by a G-test at p < 0.001 (G ≥ {G_CRITICAL}) and by at least {MIN_FACTOR}×",
        result.events_baseline, result.events_target, result.templates
    )?;
    if result.changes.is_empty() {
        return writeln!(out, "nothing new, gone or changed");
    }
    for c in &result.changes {
        writeln!(out)?;
        writeln!(
            out,
            "{:<7} {}{}  baseline {} → target {}  {}",
            style.paint("1", c.kind.as_str()),
            c.template,
            if c.problem { "  problem" } else { "" },
            c.count_baseline,
            c.count_target,
            for_terminal(&cut(&c.template_text, 200))
        )?;
        for (source, line_no, text) in &c.shown {
            writeln!(
                out,
                "  {}:{}  {}",
                for_terminal(source),
                line_no,
                for_terminal(text)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_falls_in_the_target_window_first_then_the_baseline() {
        let t = |s: i64| Timestamp::from_second(s).expect("a time");
        let w = Windows {
            baseline: (Some(t(100)), Some(t(200))),
            target: (Some(t(200)), None),
        };
        assert_eq!(w.side(t(99)), None);
        assert_eq!(w.side(t(100)), Some(false));
        assert_eq!(w.side(t(199)), Some(false));
        assert_eq!(w.side(t(200)), Some(true));
        assert_eq!(w.side(t(10_000)), Some(true));
        // Overlapping windows: the target wins.
        let w = Windows {
            baseline: (None, Some(t(300))),
            target: (Some(t(200)), Some(t(250))),
        };
        assert_eq!(w.side(t(220)), Some(true));
        assert_eq!(w.side(t(260)), Some(false));
    }

    #[test]
    fn the_g_test_needs_a_real_difference() {
        // Same rate: not significant.
        assert!(!significant(10, 1000, 10, 1000).0);
        // Ten times the rate on enough events: significant.
        assert!(significant(100, 1000, 10, 1000).0);
        // A small relative change on huge counts: significant by G, not by factor.
        let (changed, g) = significant(11_000, 1_000_000, 10_000, 1_000_000);
        assert!(g > G_CRITICAL && !changed);
        // Too few events to tell.
        assert!(!significant(3, 1000, 1, 1000).0);
    }
}
