//! `triage search`: runs a request on the index and writes what it found,
//! for people (time, source:line, level, the line with its hits
//! highlighted on a terminal, sanitised) or as JSON lines (design §3).
//!
//! Wiring and output only: the index answers ([`crate::index::search`]);
//! `run` decides the exit code from the [`Outcome`].

use std::{
    collections::{HashSet, VecDeque},
    io::{self, Write},
    ops::Range,
};

use serde_json::{Value, json};

use crate::{
    index::{
        IndexError,
        query::Request,
        schema,
        search::{Bucket, Hit, Searcher},
    },
    model::Level,
    sanitize::for_terminal,
};

/// What to print.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// The events.
    Hits {
        /// The latest this many.
        limit: usize,
        /// Context events around each.
        context: Option<u64>,
    },
    /// Only the count.
    Count,
    /// Counts per interval (ms) and level.
    Histogram(i64),
}

/// How it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Events that matched.
    pub total: u64,
    /// Events printed (at most the limit).
    pub shown: u64,
}

/// Runs `request` and writes the result to `out`.
pub fn search(
    searcher: &Searcher,
    request: &Request,
    mode: Mode,
    json: bool,
    color: bool,
    out: &mut dyn Write,
) -> Result<Outcome, SearchError> {
    match mode {
        Mode::Count => {
            let total = searcher.count(request)?;
            if json {
                writeln!(out, "{}", json!({ "count": total }))?;
            } else {
                writeln!(out, "{total}")?;
            }
            Ok(Outcome { total, shown: 0 })
        }
        Mode::Histogram(interval) => {
            let found = searcher.run(request, 0, Some(interval))?;
            for bucket in &found.histogram {
                write_bucket(out, bucket, json)?;
            }
            Ok(Outcome {
                total: found.total,
                shown: 0,
            })
        }
        Mode::Hits { limit, context } => {
            let found = searcher.run(request, limit, None)?;
            let words = if color {
                searcher.words(request)
            } else {
                HashSet::new()
            };
            let painter = Painter {
                searcher,
                words: &words,
                regex: request.regex.as_ref(),
                color,
            };
            let mut printed: VecDeque<(u64, u64, u64)> = VecDeque::new();
            let mut last_group_end: Option<(u64, u64, u64)> = None;
            for hit in &found.hits {
                let Some(n) = context else {
                    write_hit(out, hit, json, &painter, Role::Hit)?;
                    continue;
                };
                let (before, after) = searcher.context(hit, n)?;
                if json {
                    let mut value = hit_json(hit);
                    value["context"] = json!({
                        "before": before.iter().map(hit_json).collect::<Vec<_>>(),
                        "after": after.iter().map(hit_json).collect::<Vec<_>>(),
                    });
                    writeln!(out, "{value}")?;
                    continue;
                }
                // grep's way: groups separated by `--`, a line printed once.
                let key = |h: &Hit| (h.origin.dev, h.origin.ino, h.offset);
                let first = before.first().unwrap_or(hit);
                if last_group_end.is_some()
                    && !printed.contains(&key(first))
                    && !before
                        .iter()
                        .chain([hit])
                        .any(|h| printed.contains(&key(h)))
                {
                    writeln!(out, "--")?;
                }
                for (h, role) in before
                    .iter()
                    .map(|h| (h, Role::Context))
                    .chain([(hit, Role::Hit)])
                    .chain(after.iter().map(|h| (h, Role::Context)))
                {
                    if printed.contains(&key(h)) {
                        continue;
                    }
                    write_hit(out, h, false, &painter, role)?;
                    printed.push_back(key(h));
                    if printed.len() > 4096 {
                        printed.pop_front();
                    }
                    last_group_end = Some(key(h));
                }
            }
            Ok(Outcome {
                total: found.total,
                shown: found.hits.len() as u64,
            })
        }
    }
}

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index could not answer.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The output could not be written.
    #[error(transparent)]
    Output(#[from] io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Hit,
    Context,
}

struct Painter<'a> {
    searcher: &'a Searcher,
    words: &'a HashSet<String>,
    regex: Option<&'a regex::Regex>,
    color: bool,
}

impl Painter<'_> {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// The line, sanitised, with its hits in bold red on a terminal.
    fn line(&self, line: &str, role: Role) -> String {
        if !self.color || role == Role::Context {
            return for_terminal(line).into_owned();
        }
        let ranges: Vec<Range<usize>> = self.searcher.highlights(line, self.words, self.regex);
        let mut out = String::with_capacity(line.len() + ranges.len() * 12);
        let mut at = 0;
        for r in ranges {
            if r.start < at || r.end > line.len() {
                continue;
            }
            out.push_str(&for_terminal(&line[at..r.start]));
            out.push_str(&self.paint("1;31", &for_terminal(&line[r.clone()])));
            at = r.end;
        }
        out.push_str(&for_terminal(&line[at..]));
        out
    }

    fn level(&self, level: Option<Level>) -> String {
        let name = format!("{:<8}", level.map_or("-", Level::as_str));
        let code = match level {
            Some(Level::Fatal | Level::Critical) => "1;31",
            Some(Level::Error) => "31",
            Some(Level::Warn) => "33",
            Some(Level::Notice | Level::Info) => "32",
            Some(Level::Debug | Level::Trace) | None => "2",
        };
        self.paint(code, &name)
    }
}

/// A hit as a JSON object (design §3: ts, source, line_no, offset, level,
/// line), with the signatures it matched.
pub fn hit_json(hit: &Hit) -> Value {
    json!({
        "ts": hit.ts.map(|t| t.to_string()),
        "source": hit.source,
        "line_no": hit.line_no,
        "offset": hit.offset,
        "level": hit.level,
        "line": hit.line,
        "signatures": hit.signatures,
        "truncated": hit.truncated,
    })
}

fn write_hit(
    out: &mut dyn Write,
    hit: &Hit,
    json: bool,
    painter: &Painter<'_>,
    role: Role,
) -> io::Result<()> {
    if json {
        return writeln!(out, "{}", hit_json(hit));
    }
    // The time sorted by; `~` when the line has none of its own (it is the
    // last one before it in its file).
    let time = match (hit.ts, hit.at) {
        (Some(ts), _) => ts.to_string(),
        (None, Some(at)) => format!("~{at}"),
        (None, None) => "no time".to_owned(),
    };
    let sep = if role == Role::Hit { ':' } else { '-' };
    // A multi-line event (a stack trace) prints as its lines, the ones
    // after the first indented.
    let mut lines = hit.line.split('\n');
    writeln!(
        out,
        "{} {}{}{} {} {}",
        painter.paint("2", &time),
        painter.paint("36", &for_terminal(&hit.source)),
        sep,
        hit.line_no,
        painter.level(hit.level),
        painter.line(lines.next().unwrap_or(""), role)
    )?;
    for line in lines {
        writeln!(
            out,
            "    {}",
            painter.line(line.trim_end_matches('\r'), role)
        )?;
    }
    Ok(())
}

fn write_bucket(out: &mut dyn Write, bucket: &Bucket, json: bool) -> io::Result<()> {
    let levels = (0..9u64).filter_map(|n| {
        let count = bucket.by_level[n as usize];
        (count > 0).then(|| (schema::level_of(n).map_or("none", Level::as_str), count))
    });
    if json {
        let levels: serde_json::Map<String, Value> = levels
            .map(|(name, c)| (name.to_owned(), json!(c)))
            .collect();
        return writeln!(
            out,
            "{}",
            json!({ "start": bucket.start.to_string(), "count": bucket.total(), "levels": levels })
        );
    }
    let detail: Vec<String> = levels.map(|(name, c)| format!("{name}={c}")).collect();
    writeln!(
        out,
        "{}  {:>8}  {}",
        bucket.start,
        bucket.total(),
        detail.join(" ")
    )
}
