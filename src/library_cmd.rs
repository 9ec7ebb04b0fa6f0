//! `triage runbook list|show` and `triage signature list|show`: the library
//! readable from the shell, as the console's runbook pane shows it (steps,
//! commands shell-quoted with their parameters as placeholders, expected
//! outcomes, parameters and where their values come from), and what
//! `check -v` lists.
//!
//! Writes only to the writer it is given; the texts come from the
//! library's own files (shipped or `--patterns`/`--runbooks`), and pass
//! through `sanitize::for_terminal` all the same, since user files are
//! outside text.

use std::{
    io::{self, Write},
    time::Duration,
};

use serde_json::{Value, json};

use crate::{
    library::Library,
    runbook::{Arg, Runbook, shell_quote},
    sanitize::for_terminal as clean,
    signature::{Combine, Signature},
};

/// An id the library does not have.
#[derive(Debug, thiserror::Error)]
#[error("no {what} `{id}` in the library; {what}s: {known}")]
pub struct Unknown {
    /// `runbook` or `signature`.
    pub what: &'static str,
    /// As given.
    pub id: String,
    /// The ids it has (those sharing a word first).
    pub known: String,
}

fn known<'a>(id: &str, ids: impl Iterator<Item = &'a str>) -> String {
    let words: Vec<&str> = id.split('-').filter(|w| w.len() > 2).collect();
    let (mut close, mut other): (Vec<&str>, Vec<&str>) =
        ids.partition(|k| words.iter().any(|w| k.contains(w)));
    close.sort_unstable();
    other.sort_unstable();
    close.extend(other);
    let more = close.len().saturating_sub(30);
    let mut text = close
        .into_iter()
        .take(30)
        .map(|k| clean(k).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more (`list` shows them all)"));
    }
    text
}

fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 => format!("{}ms", d.as_millis()),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// A step's command as written: literals shell-quoted, parameters as
/// `{NAME}`.
fn command_text(args: &[Arg]) -> String {
    args.iter()
        .map(|arg| match arg {
            Arg::Literal(text) => shell_quote(text),
            Arg::Param(name) => format!("{{{name}}}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn signatures_of<'a>(library: &'a Library, runbook: &Runbook) -> Vec<&'a str> {
    library
        .signatures
        .iter()
        .filter(|s| s.runbook.as_ref().is_some_and(|(id, _)| *id == runbook.id))
        .map(|s| s.id.as_str())
        .collect()
}

/// `runbook list`: one line per runbook.
pub fn runbook_list(out: &mut dyn Write, library: &Library, json: bool) -> io::Result<()> {
    let mut runbooks: Vec<&Runbook> = library.runbooks.iter().collect();
    runbooks.sort_by(|a, b| a.id.cmp(&b.id));
    if json {
        for runbook in runbooks {
            writeln!(out, "{}", runbook_json(library, runbook))?;
        }
        return Ok(());
    }
    let width = runbooks
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    writeln!(out, "{:<width$}  STEPS  SIGNATURES  TITLE", "ID")?;
    for runbook in runbooks {
        writeln!(
            out,
            "{:<width$}  {:>5}  {:>10}  {}",
            clean(&runbook.id),
            runbook.steps.len(),
            signatures_of(library, runbook).len(),
            clean(&runbook.title)
        )?;
    }
    Ok(())
}

fn runbook_json(library: &Library, runbook: &Runbook) -> Value {
    json!({
        "id": runbook.id,
        "title": runbook.title,
        "owner": runbook.owner,
        "summary": runbook.summary,
        "file": runbook.loc.source.name,
        "signatures": signatures_of(library, runbook),
        "params": runbook.params.iter().map(|p| json!({
            "name": p.name,
            "from": format!("capture.{}", p.capture),
            "pattern": p.pattern.as_str(),
        })).collect::<Vec<_>>(),
        "steps": runbook.steps.iter().map(|s| json!({
            "id": s.id,
            "title": s.title,
            "kind": s.kind.as_str(),
            "instructions": s.instructions,
            "command": s.command.iter().map(|a| match a {
                Arg::Literal(t) => json!({ "literal": t }),
                Arg::Param(n) => json!({ "param": n }),
            }).collect::<Vec<_>>(),
            "command_line": (!s.command.is_empty()).then(|| command_text(&s.command)),
            "expect": s.expect,
            "rollback": s.rollback,
        })).collect::<Vec<_>>(),
    })
}

/// `runbook show ID`.
pub fn runbook_show(
    out: &mut dyn Write,
    library: &Library,
    id: &str,
    json: bool,
) -> Result<io::Result<()>, Unknown> {
    let Some(runbook) = library.runbook(id) else {
        return Err(Unknown {
            what: "runbook",
            id: id.to_owned(),
            known: known(id, library.runbooks.iter().map(|r| r.id.as_str())),
        });
    };
    Ok(if json {
        writeln!(out, "{}", runbook_json(library, runbook))
    } else {
        write_runbook(out, library, runbook)
    })
}

fn write_runbook(out: &mut dyn Write, library: &Library, runbook: &Runbook) -> io::Result<()> {
    writeln!(out, "{} ({})", clean(&runbook.title), clean(&runbook.id))?;
    if let Some(owner) = &runbook.owner {
        writeln!(out, "owner: {}", clean(owner))?;
    }
    writeln!(out, "file: {}", clean(&runbook.loc.source.name))?;
    let signatures = signatures_of(library, runbook);
    if !signatures.is_empty() {
        writeln!(out, "signatures: {}", clean(&signatures.join(", ")))?;
    }
    writeln!(out)?;
    for line in wrap(&runbook.summary, 78) {
        writeln!(out, "{}", clean(&line))?;
    }
    if !runbook.params.is_empty() {
        writeln!(out, "\nparameters:")?;
        for p in &runbook.params {
            writeln!(
                out,
                "  {{{}}} from capture.{}, must match {}",
                clean(&p.name),
                clean(&p.capture),
                clean(p.pattern.as_str())
            )?;
        }
    }
    writeln!(out, "\nsteps:")?;
    for (n, step) in runbook.steps.iter().enumerate() {
        writeln!(
            out,
            "  {}. [{}] {} ({})",
            n + 1,
            step.kind.as_str(),
            clean(&step.title),
            clean(&step.id)
        )?;
        if let Some(instructions) = &step.instructions {
            for line in wrap(instructions, 72) {
                writeln!(out, "       {}", clean(&line))?;
            }
        }
        if !step.command.is_empty() {
            writeln!(out, "       $ {}", clean(&command_text(&step.command)))?;
        }
        if let Some(expect) = &step.expect {
            writeln!(out, "       expect: {}", clean(expect))?;
        }
        if let Some(rollback) = &step.rollback {
            writeln!(out, "       rollback: {}", clean(rollback))?;
        }
    }
    Ok(())
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split("\n\n") {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !lines.is_empty() && !line.is_empty() {
            lines.push(String::new());
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// `signature list`: one line per signature, most severe first.
pub fn signature_list(out: &mut dyn Write, library: &Library, json: bool) -> io::Result<()> {
    let mut signatures: Vec<&Signature> = library.signatures.iter().collect();
    signatures.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
    if json {
        for signature in signatures {
            writeln!(out, "{}", signature_json(signature))?;
        }
        return Ok(());
    }
    let width = signatures
        .iter()
        .map(|s| s.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let rb = signatures
        .iter()
        .filter_map(|s| s.runbook.as_ref().map(|(r, _)| r.len()))
        .max()
        .unwrap_or(7)
        .max(7);
    writeln!(
        out,
        "{:<width$}  {:<8}  {:<rb$}  TITLE",
        "ID", "SEVERITY", "RUNBOOK"
    )?;
    for s in signatures {
        writeln!(
            out,
            "{:<width$}  {:<8}  {:<rb$}  {}",
            clean(&s.id),
            s.severity.as_str(),
            clean(s.runbook.as_ref().map_or("-", |(r, _)| r.as_str())),
            clean(&s.title)
        )?;
    }
    Ok(())
}

fn combine(c: Combine) -> &'static str {
    match c {
        Combine::One => "regex",
        Combine::Any => "any",
        Combine::All => "all",
    }
}

fn signature_json(s: &Signature) -> Value {
    json!({
        "id": s.id,
        "title": s.title,
        "severity": s.severity.as_str(),
        "description": s.description,
        "tags": s.tags,
        "runbook": s.runbook.as_ref().map(|(r, _)| r),
        "file": s.loc.source.name,
        combine(s.rule.combine): s.rule.patterns.iter().map(|p| p.regex.as_str()).collect::<Vec<_>>(),
        "not": s.rule.not.iter().map(|p| p.regex.as_str()).collect::<Vec<_>>(),
        "level": s.level.map(|l| l.as_str()),
        "fields": s.fields.iter().map(|f| json!({ "name": f.name, "regex": f.pattern.regex.as_str() })).collect::<Vec<_>>(),
        "threshold": s.threshold.as_ref().map(|t| json!({
            "count": t.count,
            "window": duration(t.window),
            "group_by": t.group_by,
            "across_sources": t.across_sources,
        })),
        "suppress": s.suppress.as_ref().map(|t| json!({
            "window": duration(t.window),
            "key": t.key,
            "across_sources": t.across_sources,
        })),
        "clear_after": s.clear_after.map(duration),
        "examples": s.examples.len(),
    })
}

/// `signature show ID`.
pub fn signature_show(
    out: &mut dyn Write,
    library: &Library,
    id: &str,
    json: bool,
) -> Result<io::Result<()>, Unknown> {
    let Some(s) = library.signatures.iter().find(|s| s.id == id) else {
        return Err(Unknown {
            what: "signature",
            id: id.to_owned(),
            known: known(id, library.signatures.iter().map(|s| s.id.as_str())),
        });
    };
    Ok(if json {
        writeln!(out, "{}", signature_json(s))
    } else {
        write_signature(out, s)
    })
}

fn write_signature(out: &mut dyn Write, s: &Signature) -> io::Result<()> {
    writeln!(out, "{} ({})", clean(&s.title), clean(&s.id))?;
    writeln!(out, "severity: {}", s.severity.as_str())?;
    writeln!(out, "file: {}", clean(&s.loc.source.name))?;
    if let Some((runbook, _)) = &s.runbook {
        writeln!(
            out,
            "runbook: {} (`triage runbook show {}`)",
            clean(runbook),
            clean(runbook)
        )?;
    }
    if !s.tags.is_empty() {
        writeln!(out, "tags: {}", clean(&s.tags.join(", ")))?;
    }
    writeln!(out)?;
    for line in wrap(&s.description, 78) {
        writeln!(out, "{}", clean(&line))?;
    }
    writeln!(
        out,
        "\nmatches when {}:",
        match s.rule.combine {
            Combine::One => "this regex matches a line of the event",
            Combine::Any => "any of these regexes matches a line of the event",
            Combine::All => "all of these regexes match a line of the event",
        }
    )?;
    for p in &s.rule.patterns {
        writeln!(out, "  {}", clean(p.regex.as_str()))?;
    }
    if !s.rule.not.is_empty() {
        writeln!(out, "and none of these:")?;
        for p in &s.rule.not {
            writeln!(out, "  {}", clean(p.regex.as_str()))?;
        }
    }
    if let Some(level) = s.level {
        writeln!(out, "level: {} or worse", level.as_str())?;
    }
    for f in &s.fields {
        writeln!(
            out,
            "field {}: {}",
            clean(&f.name),
            clean(f.pattern.regex.as_str())
        )?;
    }
    if let Some(t) = &s.threshold {
        writeln!(
            out,
            "threshold: {} hits within {}{}{}",
            t.count,
            duration(t.window),
            if t.group_by.is_empty() {
                String::new()
            } else {
                format!(", per {}", clean(&t.group_by.join(", ")))
            },
            if t.across_sources {
                ", all sources together"
            } else {
                ", per source (file and host)"
            }
        )?;
    }
    if let Some(t) = &s.suppress {
        writeln!(
            out,
            "suppress: one alert per {}{}{}",
            duration(t.window),
            if t.key.is_empty() {
                String::new()
            } else {
                format!(" per {}", clean(&t.key.join(", ")))
            },
            if t.across_sources {
                ", all sources together"
            } else {
                ", per source (file and host)"
            }
        )?;
    }
    if let Some(c) = s.clear_after {
        writeln!(out, "clears after {} quiet", duration(c))?;
    }
    writeln!(out, "examples: {}", s.examples.len())?;
    Ok(())
}

/// `check -v`: what was checked, one line per signature and runbook.
pub fn write_checked(out: &mut dyn Write, library: &Library) -> io::Result<()> {
    let mut signatures: Vec<&Signature> = library.signatures.iter().collect();
    signatures.sort_by(|a, b| {
        (a.loc.source.name.as_str(), &a.id).cmp(&(b.loc.source.name.as_str(), &b.id))
    });
    for s in signatures {
        writeln!(
            out,
            "signature {} ({}): {} examples, runbook {}",
            clean(&s.id),
            clean(&s.loc.source.name),
            s.examples.len(),
            clean(s.runbook.as_ref().map_or("-", |(r, _)| r.as_str()))
        )?;
    }
    let mut runbooks: Vec<&Runbook> = library.runbooks.iter().collect();
    runbooks.sort_by(|a, b| a.id.cmp(&b.id));
    for r in runbooks {
        writeln!(
            out,
            "runbook {} ({}): {} steps, {} parameters",
            clean(&r.id),
            clean(&r.loc.source.name),
            r.steps.len(),
            r.params.len()
        )?;
    }
    Ok(())
}
