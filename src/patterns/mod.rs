//! Templates and problems for people and programs: the problems of a scan
//! (text, JSON lines, the summary table), `triage patterns` (the templates
//! of files, and `--suggest`, a signature for one of them) and `triage diff`
//! (what changed between a baseline and a target, by template).
//!
//! Owns the output of templates and problems and the logic of these two
//! commands. Must not: open log files (reading goes through `scan`, which
//! asks `tail`), mine or match itself (the engine and `parse::template` do),
//! or decide exit codes (`run` does). Log text is sanitised before it is
//! written for people.

pub mod diff;
pub mod known;
pub mod list;
pub mod suggest;

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::{
    library::Library,
    model::Captures,
    output::{Style, ts_text},
    parse::template::Seen,
    sanitize::for_terminal,
    signature::problem::Problem,
};

/// What a command of this module found, for `run` to choose the exit code.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// Something was listed.
    pub found: bool,
    /// An input could not be read.
    pub failed: bool,
}

/// The runbook every problem links to.
pub const PROBLEM_RUNBOOK: &str = "unknown-problem";

/// Where and when, as JSON.
pub fn seen_json(seen: &Seen) -> Value {
    json!({
        "source": &*seen.source,
        "line_no": seen.line_no,
        "offset": seen.offset,
        "ts": seen.ts.map(|t| t.to_string()),
    })
}

/// The values the problem runbook's parameters are taken from
/// ([`crate::signature::problem::captures`]).
pub fn problem_captures(problem: &Problem) -> Captures {
    crate::signature::problem::captures(&problem.first, problem.template, &problem.template_text)
}

/// One problem as a JSON object (`scan --json`).
pub fn problem_json(problem: &Problem, library: &Library) -> Value {
    json!({
        "kind": "problem",
        "template": problem.template.to_string(),
        "template_text": problem.template_text,
        "severity": problem.severity,
        "rank": problem.rank,
        "count": problem.count,
        "levels": problem.levels.iter().collect::<Vec<_>>(),
        "first": seen_json(&problem.first),
        "last": seen_json(&problem.last),
        "sample": problem.sample,
        "runbook": library.runbook(PROBLEM_RUNBOOK).map(|r| r.id.as_str()),
    })
}

/// Writes the problems as JSON lines.
pub fn write_problems_json(
    out: &mut dyn Write,
    problems: &[Problem],
    library: &Library,
) -> io::Result<()> {
    for problem in problems {
        serde_json::to_writer(&mut *out, &problem_json(problem, library))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn place(seen: &Seen) -> String {
    format!("{}:{}", for_terminal(&seen.source), seen.line_no)
}

/// Writes the problems for people, after the alerts:
///
/// ```text
/// 2 problems no signature knows (by template, most severe first):
///
/// high     problem 55b26409fbdb  143 lines  data TLB error interrupt
///   first BGL_2k.log:12  2005-06-03T15:42:50Z   last BGL_2k.log:1990  2005-06-04T...
///   │ - 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 ... FATAL data TLB error interrupt
///   runbook: An error no signature knows: read it from its first occurrence (unknown-problem)
/// ```
pub fn write_problems_text(
    out: &mut dyn Write,
    problems: &[Problem],
    library: &Library,
    style: Style,
) -> io::Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{} no signature knows (by template, most severe first):",
        match problems.len() {
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        }
    )?;
    let runbook = library.runbook(PROBLEM_RUNBOOK);
    for problem in problems {
        writeln!(out)?;
        writeln!(
            out,
            "{} {} {}  {} {}  {}",
            style.severity(problem.severity),
            style.paint("1", "problem"),
            problem.template,
            problem.count,
            if problem.count == 1 { "line" } else { "lines" },
            for_terminal(&problem.template_text)
        )?;
        writeln!(
            out,
            "  first {}  {}   last {}  {}",
            place(&problem.first),
            ts_text(problem.first.ts),
            place(&problem.last),
            ts_text(problem.last.ts)
        )?;
        writeln!(out, "  │ {}", for_terminal(&problem.sample))?;
        match runbook {
            Some(r) => writeln!(out, "  runbook: {} ({})", r.title, r.id)?,
            None => writeln!(out, "  runbook: {PROBLEM_RUNBOOK} (not found)")?,
        }
    }
    Ok(())
}

/// Writes the problems' table of `scan --summary` (or its JSON lines).
pub fn write_problems_summary(
    out: &mut dyn Write,
    problems: &[Problem],
    json: bool,
    style: Style,
) -> io::Result<()> {
    if json {
        for p in problems {
            let row = json!({
                "kind": "problem",
                "template": p.template.to_string(),
                "template_text": p.template_text,
                "severity": p.severity,
                "count": p.count,
                "first_seen": p.first.ts.map(|t| t.to_string()),
                "last_seen": p.last.ts.map(|t| t.to_string()),
                "first": seen_json(&p.first),
            });
            serde_json::to_writer(&mut *out, &row)?;
            out.write_all(b"\n")?;
        }
        return Ok(());
    }
    writeln!(out)?;
    if problems.is_empty() {
        return writeln!(out, "no problem-like line outside the signatures");
    }
    writeln!(
        out,
        "{:<12}  {:<8}  {:>7}  {:<24}  {:<24}  TEMPLATE",
        "PROBLEM", "SEVERITY", "COUNT", "FIRST SEEN", "LAST SEEN"
    )?;
    for p in problems {
        writeln!(
            out,
            "{:<12}  {}  {:>7}  {:<24}  {:<24}  {}",
            p.template,
            style.severity(p.severity),
            p.count,
            ts_text(p.first.ts),
            ts_text(p.last.ts),
            for_terminal(&cut(&p.template_text, 100))
        )?;
    }
    Ok(())
}

/// At most `max` characters of `text`, `…` when cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// A sparkline of counts: one block character per bucket, scaled to the
/// largest.
pub fn sparkline(counts: &[u32], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if counts.is_empty() {
        return String::new();
    }
    // Buckets joined so the line is at most `width` wide.
    let per = counts.len().div_ceil(width.max(1));
    let joined: Vec<u64> = counts
        .chunks(per)
        .map(|c| c.iter().map(|&n| u64::from(n)).sum())
        .collect();
    let max = joined.iter().copied().max().unwrap_or(0).max(1);
    joined
        .iter()
        .map(|&n| match n {
            0 => ' ',
            n => BARS[((n * 7) / max) as usize],
        })
        .collect()
}
