//! How alerts, summaries and runbooks are written: text for people (log text
//! sanitised, severity coloured on a terminal) and JSON lines for programs.
//!
//! Writes only to the writer it is given, except [`message`]: the one way a
//! message for people (an error, a warning, a notice) reaches standard
//! error, sanitised. Never decides exit codes.

use std::io::{self, Write};

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::{
    formats::FileReport,
    library::{Coverage, Library},
    model::Alert,
    model::{Event, Severity},
    parse::template::TemplateId,
    runbook::{CommandLine, Runbook},
    sanitize::for_terminal,
    scan::Tally,
    signature::{Captures, Signature},
};

/// Text styling: ANSI colours on a terminal, nothing otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Whether to emit colours.
    pub color: bool,
}

impl Style {
    /// `text` in the ANSI style `code` (on a terminal).
    pub fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// A severity, padded and coloured.
    pub fn severity(self, severity: Severity) -> String {
        let code = match severity {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.paint(code, &format!("{:<8}", severity.as_str()))
    }
}

/// [`message`] of a text of several lines (a query error with its caret
/// line): the first after `triage: `, the others as they are, each
/// sanitised.
pub fn message_lines(text: &str) {
    let mut stderr = io::stderr().lock();
    for (i, line) in text.lines().enumerate() {
        let lead = if i == 0 { "triage: " } else { "" };
        let _ = writeln!(stderr, "{lead}{}", for_terminal(line));
    }
}

/// Writes `triage: MESSAGE` and a newline to standard error.
///
/// The whole message goes through [`for_terminal`]: messages name files and
/// echo what users and logs wrote, and anyone who can create a file in a
/// watched directory chooses its name (`\e]52;c;...\a.log` would write to
/// the terminal's clipboard). A newline in it is escaped too, so one message
/// is one line. A standard error that has gone away is not an error (there
/// is no one left to tell), and never a panic (as `eprintln!` would be).
pub fn message(message: impl std::fmt::Display) {
    let text = message.to_string();
    let _ = writeln!(io::stderr().lock(), "triage: {}", for_terminal(&text));
}

/// Says why the command-line argument `path` (read as `input`) could not
/// be read (`err`): a glob that does not compile is said to be a bad glob,
/// not a file that is not found ([`crate::glob::bad`]).
pub fn cannot_read(
    path: &std::path::Path,
    input: impl std::fmt::Display,
    err: impl std::fmt::Display,
) {
    match crate::glob::bad(path) {
        Some(glob) => message(glob),
        None => message(format_args!("{input}: {err}")),
    }
}

/// First or last seen: a time, or "no time" when no matching event had one.
fn seen_text(ts: Option<Timestamp>) -> String {
    ts.map_or_else(|| "no time".to_owned(), |t| t.to_string())
}

/// A time as written in output, `-` when there is none.
pub fn ts_text(ts: Option<Timestamp>) -> String {
    ts.map_or_else(|| "-".to_owned(), |t| t.to_string())
}

/// An alert's event's time as `search` writes it: its own, `~` and its
/// source's nearest earlier time when it has none of its own, else "no
/// time" (never when it was read).
fn alert_time_text(found: &Alert) -> String {
    match (found.event.ts, found.time) {
        (Some(ts), _) => ts.to_string(),
        (None, Some(time)) => format!("~{time}"),
        (None, None) => "no time".to_owned(),
    }
}

fn captures_json(captures: &Captures) -> Value {
    Value::Object(
        captures
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<_, _>>(),
    )
}

/// One alert as a JSON object (design.md §3).
pub fn alert_json(found: &Alert, library: &Library) -> Value {
    let signature = library.signature(found.signature);
    json!({
        "kind": "alert",
        "signature": signature.id,
        "severity": signature.severity,
        "title": signature.title,
        "runbook": signature.runbook.as_ref().map(|(id, _)| id),
        "source": &*found.event.source,
        "line_no": found.event.line_no,
        "offset": found.event.offset,
        "lines": found.event.lines,
        "ts": found.event.ts.map(|t| t.to_string()),
        "level": found.event.level,
        "line": found.event.text,
        "captures": captures_json(&found.captures),
        "hits": found.hits,
        "suppressed": found.suppressed,
        "truncated": found.event.truncated,
        "partial": found.event.partial,
        "invalid_utf8": found.event.lossy,
    })
}

/// One event as a JSON object (`scan --all --json`): where it is, its
/// time, level, fields and text, and the signatures it matched.
pub fn event_json(event: &Event, matched: &[&Signature], template: Option<TemplateId>) -> Value {
    let fields: Map<String, Value> = event
        .fields
        .iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    json!({
        "source": &*event.source,
        "line_no": event.line_no,
        "offset": event.offset,
        "lines": event.lines,
        "ts": event.ts.map(|t| t.to_string()),
        "level": event.level,
        "fields": fields,
        "line": event.text,
        "signatures": matched.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        "template": template.map(|t| t.to_string()),
        "truncated": event.truncated,
        "partial": event.partial,
        "invalid_utf8": event.lossy,
    })
}

/// Writes one event as a JSON line.
pub fn write_event_json(
    out: &mut dyn Write,
    event: &Event,
    matched: &[&Signature],
    template: Option<TemplateId>,
) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &event_json(event, matched, template))?;
    out.write_all(b"\n")
}

/// Writes one event for people: time, level, `source:line`, the text (a
/// multi-line event's further lines indented), and the signatures it
/// matched.
pub fn write_event_text(
    out: &mut dyn Write,
    event: &Event,
    matched: &[&Signature],
    style: Style,
) -> io::Result<()> {
    let level = event.level.map_or("-", |l| l.as_str());
    let mut lines = event.text.split('\n');
    write!(
        out,
        "{} {:<5} {}:{}  {}",
        ts_text(event.ts),
        level,
        for_terminal(&event.source),
        event.line_no,
        for_terminal(lines.next().unwrap_or_default())
    )?;
    if !matched.is_empty() {
        let ids: Vec<&str> = matched.iter().map(|s| s.id.as_str()).collect();
        write!(
            out,
            "  {}",
            style.paint("1", &format!("[{}]", ids.join(", ")))
        )?;
    }
    writeln!(out)?;
    for line in lines {
        writeln!(out, "    {}", for_terminal(line))?;
    }
    Ok(())
}

/// `triage formats` for people: the format, the time layout with an
/// example as written, and how many events have a time and a level.
pub fn write_formats_text(out: &mut dyn Write, report: &FileReport) -> io::Result<()> {
    let configured = |yes: bool| if yes { " (triage.toml)" } else { "" };
    writeln!(
        out,
        "{}: {}{}",
        for_terminal(&report.source),
        report.format,
        configured(report.format_configured)
    )?;
    match &report.layout {
        Some(layout) => {
            write!(
                out,
                "  time: {layout}{}",
                configured(report.time_format_configured)
            )?;
            if let Some(example) = &report.sample.example {
                write!(out, ", e.g. {:?}", for_terminal(example))?;
            }
            writeln!(out)?;
        }
        None => writeln!(
            out,
            "  time: no place the first lines agree on (a time at the start of a line is still read in the forms that need no learning)"
        )?,
    }
    writeln!(
        out,
        "  sample: {} of {} lines that start an event have a time",
        report.sample.with_time, report.sample.lines
    )?;
    writeln!(
        out,
        "  file: {} events ({} lines), {} with a time, {} with a level",
        report.events, report.lines, report.with_time, report.with_level
    )?;
    if let Some((line_no, text)) = &report.first_without_time {
        let shown: String = text.chars().take(120).collect();
        writeln!(
            out,
            "  first event without a time: line {line_no}: {}",
            for_terminal(&shown)
        )?;
    }
    Ok(())
}

/// `triage formats --json`: one object per file.
pub fn formats_json(report: &FileReport) -> Value {
    json!({
        "source": report.source,
        "format": report.format.as_str(),
        "format_configured": report.format_configured,
        "time": report.layout.as_ref().map(|layout| json!({
            "layout": layout,
            "example": report.sample.example,
            "configured": report.time_format_configured,
        })),
        "sample_lines": report.sample.lines,
        "sample_lines_with_time": report.sample.with_time,
        "events": report.events,
        "lines": report.lines,
        "events_with_time": report.with_time,
        "events_with_level": report.with_level,
        "first_without_time": report.first_without_time.as_ref().map(|(line, text)| json!({
            "line": line,
            "text": text,
        })),
    })
}

/// Writes one alert as a JSON line.
pub fn write_alert_json(out: &mut dyn Write, found: &Alert, library: &Library) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &alert_json(found, library))?;
    out.write_all(b"\n")
}

/// Writes one alert for people:
///
/// ```text
/// critical pg-too-many-clients  PostgreSQL ran out of connection slots
///   postgresql/postgresql.log:412  2026-11-21T03:04:10.123Z
///   │ 2026-11-21 03:04:10.123 UTC [4242] FATAL:  sorry, too many clients already
///   runbook: PostgreSQL connection exhaustion (pg-connections)
/// ```
pub fn write_alert_text(
    out: &mut dyn Write,
    found: &Alert,
    library: &Library,
    style: Style,
) -> io::Result<()> {
    let signature = library.signature(found.signature);
    let event = &found.event;
    let mut notes = Vec::new();
    if found.hits > 1 {
        notes.push(format!("{} hits", found.hits));
    }
    if found.suppressed > 0 {
        notes.push(format!("{} suppressed since last alert", found.suppressed));
    }
    if event.truncated {
        notes.push("line truncated".to_owned());
    }
    if event.partial {
        notes.push("line without its newline".to_owned());
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("  ({})", notes.join(", "))
    };
    writeln!(
        out,
        "{} {}  {}{notes}",
        style.severity(signature.severity),
        style.paint("1", &signature.id),
        signature.title
    )?;
    writeln!(
        out,
        "  {}:{}  {}",
        for_terminal(&event.source),
        event.line_no,
        alert_time_text(found)
    )?;
    for line in event.text.split('\n') {
        writeln!(out, "  │ {}", for_terminal(line))?;
    }
    match (library.runbook_of(signature), &signature.runbook) {
        (Some(runbook), _) => writeln!(out, "  runbook: {} ({})", runbook.title, runbook.id),
        (None, Some((id, _))) => writeln!(out, "  runbook: {id} (not found)"),
        (None, None) => writeln!(out, "  runbook: none"),
    }
}

/// Writes a runbook's steps, with commands rendered from `captures` and
/// shell-quoted.
pub fn write_runbook(
    out: &mut dyn Write,
    runbook: &Runbook,
    captures: &Captures,
    style: Style,
) -> io::Result<()> {
    writeln!(
        out,
        "  ┌ {} ({}){}",
        style.paint("1", &runbook.title),
        runbook.id,
        runbook
            .owner
            .as_ref()
            .map_or(String::new(), |o| format!(" — owner: {o}"))
    )?;
    for line in textwrap(&runbook.summary, 76) {
        writeln!(out, "  │ {line}")?;
    }
    for (n, step) in runbook.steps.iter().enumerate() {
        writeln!(
            out,
            "  │ {}. [{}] {}",
            n + 1,
            step.kind.as_str(),
            step.title
        )?;
        if !step.command.is_empty() {
            let rendered = runbook.render(step, captures);
            writeln!(out, "  │      $ {}", CommandLine(&rendered))?;
        }
        if let Some(expect) = &step.expect {
            writeln!(out, "  │      expect: {expect}")?;
        }
    }
    writeln!(out, "  └")
}

fn textwrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Writes the per-signature summary of a scan: only signatures that matched,
/// most severe first.
pub fn write_summary(
    out: &mut dyn Write,
    tallies: Vec<(&Signature, &Tally)>,
    json: bool,
    style: Style,
) -> io::Result<()> {
    let mut rows: Vec<_> = tallies.into_iter().filter(|(_, t)| t.matches > 0).collect();
    rows.sort_by(|(a, ta), (b, tb)| {
        b.severity
            .cmp(&a.severity)
            .then(ta.first.cmp(&tb.first))
            .then(a.id.cmp(&b.id))
    });
    if json {
        for (signature, tally) in rows {
            let row = json!({
                "signature": signature.id,
                "severity": signature.severity,
                "title": signature.title,
                "matches": tally.matches,
                "alerts": tally.alerts,
                "sources": tally.sources.len(),
                "hosts": tally.hosts.len(),
                "untimed": tally.untimed,
                "first_seen": tally.first.map(|t| t.to_string()),
                "last_seen": tally.last.map(|t| t.to_string()),
            });
            serde_json::to_writer(&mut *out, &row)?;
            out.write_all(b"\n")?;
        }
        return Ok(());
    }
    if rows.is_empty() {
        return writeln!(out, "no signature matched");
    }
    let width = rows
        .iter()
        .map(|(s, _)| s.id.len())
        .max()
        .unwrap_or(9)
        .max(9);
    writeln!(
        out,
        "{:<width$}  {:<8}  {:>7}  {:>6}  {:>7}  {:>5}  {:<24}  LAST SEEN",
        "SIGNATURE", "SEVERITY", "MATCHES", "ALERTS", "SOURCES", "HOSTS", "FIRST SEEN"
    )?;
    for (signature, tally) in rows {
        writeln!(
            out,
            "{:<width$}  {}  {:>7}  {:>6}  {:>7}  {:>5}  {:<24}  {}",
            signature.id,
            style.severity(signature.severity),
            tally.matches,
            tally.alerts,
            tally.sources.len(),
            tally.hosts.len(),
            seen_text(tally.first),
            seen_text(tally.last)
        )?;
    }
    Ok(())
}

/// Writes `check --coverage`: one row per family (signatures per severity,
/// the systems it names, its runbooks), the totals per severity, signatures
/// without a runbook and runbooks no signature links to. The names come from
/// the library's own files, never from a log.
pub fn write_coverage(out: &mut dyn Write, coverage: &Coverage) -> io::Result<()> {
    writeln!(
        out,
        "coverage: {} signatures in {} families, {} runbooks",
        coverage.signatures(),
        coverage.families.len(),
        coverage.runbooks
    )?;
    let width = coverage
        .families
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(6)
        .max("family".len());
    writeln!(
        out,
        "  {:width$}  {:>4}  {:>4} {:>4} {:>4} {:>4} {:>4}  systems; runbooks",
        "family", "sigs", "crit", "high", "med", "low", "info"
    )?;
    for family in &coverage.families {
        let [info, low, medium, high, critical] = family.by_severity;
        writeln!(
            out,
            "  {:width$}  {:>4}  {:>4} {:>4} {:>4} {:>4} {:>4}  {}; {}",
            family.name,
            family.signatures(),
            critical,
            high,
            medium,
            low,
            info,
            family.systems.join(", "),
            family.runbooks.join(", ")
        )?;
    }
    let per_severity: Vec<String> = Severity::ALL
        .iter()
        .zip(coverage.by_severity)
        .rev()
        .map(|(severity, n)| format!("{} {n}", severity.as_str()))
        .collect();
    writeln!(out, "signatures per severity: {}", per_severity.join(", "))?;
    let list = |ids: &[String]| {
        if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.join(", ")
        }
    };
    writeln!(
        out,
        "signatures without a runbook ({}): {}",
        coverage.without_runbook.len(),
        list(&coverage.without_runbook)
    )?;
    writeln!(
        out,
        "runbooks no signature links to ({}): {}",
        coverage.unlinked_runbooks.len(),
        list(&coverage.unlinked_runbooks)
    )
}
