//! `triage patterns PATH...`: the templates of files' messages, for people
//! (id, count, level, first and last seen, a sparkline of counts over time,
//! the template, a sample line) or as JSON lines, filtered by level and
//! count and sorted by count, first seen or rarity; `--suggest ID` hands
//! one template to [`super::suggest`].
//!
//! Reading goes through the scanner's line path (plain and compressed files
//! like `scan`); mining through the engine's miner. Must not: open files,
//! decide exit codes.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Outcome, cut, seen_json, sparkline};
use crate::{
    cli::{PatternSort, PatternsArgs},
    model::Level,
    output::{Style, ts_text},
    parse::{level_value, template::Template},
    sanitize::for_terminal,
    scan::Scanner,
    tail::read::Input,
};

/// Mines every event of `paths` (standard input excepted: it can be read
/// once only) into the scanner's miner; a file that cannot be read is
/// skipped here (reading it for output reports it).
pub fn learn(scanner: &mut Scanner<'_>, paths: &[std::path::PathBuf]) {
    for path in paths {
        let input = Input::from_arg(path);
        if !matches!(input, Input::Stdin) {
            let _ = scanner.learn_templates(&input);
        }
    }
}

/// One template as a JSON object.
pub fn template_json(t: &Template) -> Value {
    let histogram = t.histogram();
    json!({
        "template": t.id().to_string(),
        "template_text": t.text(),
        "count": t.count(),
        "level": t.levels().max(),
        "levels": t.levels().iter().collect::<Vec<_>>(),
        "first": seen_json(t.first()),
        "last": seen_json(t.last()),
        "histogram": {
            "start": histogram.start().map(|s| s.to_string()),
            "width_minutes": histogram.width_minutes(),
            "counts": histogram.counts(),
        },
        "examples": t.examples().iter().map(|(line, seen)| json!({
            "line": line,
            "source": &*seen.source,
            "line_no": seen.line_no,
        })).collect::<Vec<_>>(),
        "variables": t.values().map(|(position, values)| json!({
            "position": position,
            "values": values.values,
            "more": values.more,
        })).collect::<Vec<_>>(),
        "former_ids": t.former_ids().iter().map(|id| id.to_string()).collect::<Vec<_>>(),
    })
}

/// The level `--level` names.
pub fn parse_level(text: &str) -> io::Result<Level> {
    level_value(text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "--level: unknown level `{text}`; expected one of: trace, debug, info, notice, warn, error, critical, fatal"
            ),
        )
    })
}

/// `triage patterns`: mines `args.paths` and writes the list (or the
/// suggested signature).
pub fn run(scanner: &mut Scanner<'_>, args: &PatternsArgs, style: Style) -> io::Result<Outcome> {
    let min_level = args.level.as_deref().map(parse_level).transpose()?;
    let mut failed = false;
    let paths = crate::glob::expand_args(&args.paths);
    for path in &paths {
        let input = Input::from_arg(path);
        if let Err(err) = scanner.learn_templates(&input) {
            crate::output::cannot_read(path, &input, err);
            failed = true;
        }
    }
    scanner.engine_problems().pause(true);
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    if let Some(id) = &args.suggest {
        let found = super::suggest::run(scanner, id, &paths, &mut stdout)?;
        stdout.flush()?;
        return Ok(Outcome { found, failed });
    }
    let miner = scanner.engine_problems().miner();
    let mut templates: Vec<&Template> = miner
        .templates()
        .filter(|t| t.count() >= args.min_count)
        .filter(|t| min_level.is_none_or(|min| t.levels().max().is_some_and(|l| l >= min)))
        .collect();
    let first_order = |t: &Template| {
        let f = t.first();
        (f.ts.is_none(), f.ts, f.source.clone(), f.line_no)
    };
    match args.sort {
        PatternSort::Count => templates.sort_by(|a, b| {
            b.count()
                .cmp(&a.count())
                .then_with(|| first_order(a).cmp(&first_order(b)))
        }),
        PatternSort::Rarity => templates.sort_by(|a, b| {
            a.count()
                .cmp(&b.count())
                .then_with(|| first_order(a).cmp(&first_order(b)))
        }),
        PatternSort::First => templates.sort_by_key(|t| first_order(t)),
    }
    if args.limit > 0 {
        templates.truncate(args.limit);
    }
    if args.json {
        for t in &templates {
            serde_json::to_writer(&mut stdout, &template_json(t))?;
            stdout.write_all(b"\n")?;
        }
    } else {
        write_text(&mut stdout, &templates, style)?;
    }
    stdout.flush()?;
    Ok(Outcome {
        found: !templates.is_empty(),
        failed,
    })
}

/// Writes the templates for people:
///
/// ```text
/// 3b0a5c1e9f27      147  error  2015-10-18T18:06:01Z → 2015-10-18T18:10:54Z  ▁▁▃█▇▆
///   Address change detected. Old: <*> New: <*>
///   │ Hadoop.log:431  2015-10-18 18:06:01,840 WARN [RMCommunicator Allocator] ...
/// ```
fn write_text(out: &mut dyn Write, templates: &[&Template], style: Style) -> io::Result<()> {
    if templates.is_empty() {
        return writeln!(out, "no template");
    }
    for t in templates {
        let level = t.levels().max().map_or("-", |l| l.as_str());
        writeln!(
            out,
            "{}  {:>7}  {:<8}  {} → {}  {}",
            style.paint("1", &t.id().to_string()),
            t.count(),
            level,
            ts_text(t.first().ts),
            ts_text(t.last().ts),
            sparkline(t.histogram().counts(), 24)
        )?;
        writeln!(out, "  {}", for_terminal(&cut(t.text(), 300)))?;
        if let Some((line, seen)) = t.examples().first() {
            writeln!(
                out,
                "  │ {}:{}  {}",
                for_terminal(&seen.source),
                seen.line_no,
                for_terminal(&cut(line, 300))
            )?;
        }
    }
    Ok(())
}
