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
//! Must not: open files (the scanner's line path reads them), decide exit
//! codes.

use std::{
    collections::HashMap,
    io::{self, Write},
    path::PathBuf,
    sync::Arc,
};

use serde_json::json;

use super::{Outcome, cut};
use crate::{
    cli::DiffArgs,
    output::Style,
    parse::template::{Miner, TemplateRef},
    sanitize::for_terminal,
    scan::Scanner,
    signature::problem::problem_like,
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
fn files(args: &[String]) -> Vec<PathBuf> {
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
}

/// Mines both sides and compares them.
pub fn diff(scanner: &Scanner<'_>, baseline: &[PathBuf], target: &[PathBuf]) -> Diff {
    let mut miner = Miner::default();
    let mut counts: HashMap<TemplateRef, Counts> = HashMap::new();
    let mut result = Diff::default();
    for (side_target, paths) in [(false, baseline), (true, target)] {
        for path in paths {
            let input = Input::from_arg(path);
            let read = scanner.events(&input, &mut |event, _| {
                let assigned = miner.add_event(&event);
                let c = counts.entry(assigned.template).or_default();
                c.problem |= problem_like(&event).is_some();
                if side_target {
                    result.events_target += 1;
                    c.target += 1;
                    if c.lines.len() < MAX_LINES {
                        c.lines.push((Arc::clone(&event.source), event.line_no));
                    }
                    if c.shown.len() < SHOWN {
                        let first = event.text.split('\n').next().unwrap_or("");
                        c.shown
                            .push((Arc::clone(&event.source), event.line_no, cut(first, 300)));
                    }
                } else {
                    result.events_baseline += 1;
                    c.baseline += 1;
                }
            });
            if let Err(err) = read {
                crate::output::message(format_args!("{input}: {err}"));
                result.failed = true;
            }
        }
    }
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

/// `triage diff`.
pub fn run(scanner: &Scanner<'_>, args: &DiffArgs, style: Style) -> io::Result<Outcome> {
    let baseline = files(&args.baseline);
    let target = files(&args.target);
    let mut result = diff(scanner, &baseline, &target);
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
