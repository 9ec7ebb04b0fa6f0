//! The postmortem as Markdown: a first draft after the Google SRE template,
//! with the facts filled in from the journal and clearly marked sections for
//! people to write.
//!
//! Pure: renders a [`Postmortem`] into a `String`. Every piece of text that
//! comes from a log, a person or a pattern file goes through `escape`
//! (`md_text`, `md_code`, `md_fence`); the structure (headings, tables,
//! fences) is written only here.

use std::fmt::Write;

use jiff::{SignedDuration, tz::TimeZone};

use super::{
    escape::{md_code, md_fence, md_text},
    report::{Postmortem, RunbookRow, TimelineRow},
};
use crate::incident::{
    Kind,
    text::{duration, time, zone_name},
};

/// Rows of the timeline table in Markdown and HTML: everything but exports
/// and the periodic counts (those are summed up under "Signatures fired"
/// and drawn on the chart), unless pinned. JSON and CSV have every event.
pub fn shown_in_timeline(row: &TimelineRow) -> bool {
    match row.kind {
        Kind::ExportGenerated | Kind::EventPinned | Kind::EventUnpinned | Kind::EventTimeSet => {
            false
        }
        Kind::SignatureRepeated => row.pinned,
        _ => true,
    }
}

/// What the timeline table leaves out, in words (empty when nothing).
pub fn left_out(pm: &Postmortem) -> String {
    let hidden: Vec<&TimelineRow> = pm
        .timeline
        .iter()
        .filter(|r| !shown_in_timeline(r))
        .collect();
    if hidden.is_empty() {
        return String::new();
    }
    let counts = hidden
        .iter()
        .filter(|r| r.kind == Kind::SignatureRepeated)
        .count();
    let mut parts = Vec::new();
    if counts > 0 {
        parts.push(format!(
            "{counts} periodic counts of matching lines (summed up under Signatures fired)"
        ));
    }
    if hidden.len() > counts {
        parts.push(format!(
            "{} pins, time corrections and exports (shown as marks)",
            hidden.len() - counts
        ));
    }
    format!(
        "{} more events are in the JSON and CSV exports: {}.",
        hidden.len(),
        parts.join("; ")
    )
}

/// The runbooks with a recorded step first (in order), then the others.
pub fn runbook_order(pm: &Postmortem) -> (Vec<&RunbookRow>, Vec<&RunbookRow>) {
    pm.runbooks
        .iter()
        .partition(|b| b.steps.iter().any(|s| s.state.is_some()))
}

fn ms(millis: Option<i64>) -> String {
    millis.map_or_else(
        || "—".to_owned(),
        |m| duration(SignedDuration::from_millis(m)),
    )
}

fn to_write(section: &str) -> String {
    format!("> **To be written:** {section}\n\n")
}

/// Renders the Markdown postmortem, times in `zone`.
pub fn render(pm: &Postmortem, zone: &TimeZone) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_all(&mut out, pm, zone);
    out
}

fn write_all(out: &mut String, pm: &Postmortem, zone: &TimeZone) -> std::fmt::Result {
    let inc = &pm.incident;
    let tz = zone_name(zone);
    let t = |ts| time(ts, zone);
    writeln!(
        out,
        "# Postmortem: {} ({})\n",
        md_text(&inc.title),
        md_text(&inc.id)
    )?;
    writeln!(
        out,
        "*First draft, written by {} from the incident journal on {} {tz}. \
         Sections marked **To be written** are for people; the rest comes from the \
         journal and the log lines it cites. Times are in {tz}.*\n",
        md_text(&pm.generator),
        t(pm.generated_at)
    )?;
    writeln!(out, "| | |\n|---|---|")?;
    writeln!(out, "| Incident | {} |", md_text(&inc.id))?;
    writeln!(out, "| Status | {} |", md_text(&inc.status))?;
    writeln!(out, "| Severity | {} |", md_text(&inc.severity))?;
    let how = match (&inc.cause, inc.declared) {
        (Some(cause), _) => format!(" (signature {})", md_code(cause, true)),
        (None, true) => " (declared)".to_owned(),
        (None, false) => String::new(),
    };
    writeln!(
        out,
        "| Opened | {} by {}{how} |",
        t(inc.opened_at),
        md_text(&inc.opened_by)
    )?;
    let lasted = if inc.open {
        format!(
            "{} so far (still {})",
            duration(SignedDuration::from_millis(inc.duration_ms)),
            md_text(&inc.status)
        )
    } else {
        duration(SignedDuration::from_millis(inc.duration_ms))
    };
    writeln!(out, "| Duration | {lasted} |")?;
    let responders = if inc.responders.is_empty() {
        "—".to_owned()
    } else {
        inc.responders
            .iter()
            .map(|r| md_text(r))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(out, "| Responders | {responders} |\n")?;

    writeln!(out, "## Summary\n")?;
    out.push_str(&to_write(
        "two or three sentences: what happened, who was affected, for how long, and how it ended.",
    ));
    writeln!(out, "## Impact\n")?;
    out.push_str(&to_write(
        "who and what was affected (users, requests, data, money), how badly, and for how long.",
    ));

    writeln!(out, "## Key timestamps\n")?;
    writeln!(
        out,
        "| Milestone | Time ({tz}) | Set by | Basis |\n|---|---|---|---|"
    )?;
    for m in &pm.milestones {
        let name = {
            let s = m.milestone.as_str();
            let mut c = s.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        };
        match m.at {
            Some(at) => {
                let by = m.actor.as_deref().map_or_else(String::new, md_text);
                let by = if m.proposed {
                    format!("{by} (proposed)")
                } else {
                    by
                };
                let evidence = m
                    .evidence
                    .as_ref()
                    .map(|e| format!(" — {}", md_code(&e.cite(), true)))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "| {name} | {} | {by} | {}{evidence} |",
                    t(at),
                    md_text(m.basis.as_deref().unwrap_or(""))
                )?;
            }
            None => writeln!(out, "| {name} | — | | not set |")?,
        }
    }
    writeln!(out, "\n| Metric | Value | Measured as |\n|---|---|---|")?;
    for metric in &pm.metrics {
        writeln!(
            out,
            "| {} | {} | {} |",
            metric.name,
            ms(metric.millis),
            md_text(&metric.description)
        )?;
    }
    writeln!(out)?;

    writeln!(out, "## Detection\n")?;
    match &pm.detection {
        Some(d) => {
            write!(
                out,
                "{} ({}) fired at {}",
                md_code(&d.signature, false),
                md_text(&d.severity),
                t(d.at)
            )?;
            if let Some(e) = &d.evidence {
                write!(out, " on {}", md_code(&e.cite(), false))?;
            }
            match (d.after_first_line_ms, d.first_line_at) {
                (Some(after), Some(first)) if after > 0 => writeln!(
                    out,
                    ", **{}** after the first matching line ({}).\n",
                    ms(Some(after)),
                    t(first)
                )?,
                _ => writeln!(out, ".\n")?,
            }
            if !d.early_warnings.is_empty() {
                writeln!(out, "Early warnings before detection:\n")?;
                for w in &d.early_warnings {
                    let cite = w
                        .evidence
                        .as_ref()
                        .map(|e| format!(" — {}", md_code(&e.cite(), false)))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "- {} {} ({}): {}{cite}",
                        t(w.at),
                        md_code(&w.signature, false),
                        md_text(&w.severity),
                        md_text(&w.summary)
                    )?;
                }
                writeln!(out)?;
            }
        }
        None => writeln!(
            out,
            "Declared by {} at {}; no signature fired.\n",
            md_text(&inc.opened_by),
            t(inc.opened_at)
        )?,
    }

    writeln!(out, "## Timeline\n")?;
    writeln!(
        out,
        "| Time ({tz}) | # | Actor | Event | Evidence |\n|---|---|---|---|---|"
    )?;
    for row in pm.timeline.iter().filter(|r| shown_in_timeline(r)) {
        let mut marks = String::new();
        if row.retimed {
            marks.push_str(" (time corrected)");
        }
        if row.pinned {
            marks.push_str(" (pinned)");
        }
        let evidence = row
            .evidence
            .as_ref()
            .map(|e| md_code(&e.cite(), true))
            .unwrap_or_default();
        writeln!(
            out,
            "| {}{marks} | {} | {} | {} {} | {evidence} |",
            t(row.occurred_at),
            row.seq,
            md_text(&row.actor),
            md_code(row.kind.as_str(), true),
            md_text(&row.summary)
        )?;
    }
    writeln!(out)?;
    let note = left_out(pm);
    if !note.is_empty() {
        writeln!(out, "*{note}*\n")?;
    }

    writeln!(out, "## Response\n")?;
    let (used, unused) = runbook_order(pm);
    if pm.runbooks.is_empty() {
        writeln!(out, "No runbook was linked or used.\n")?;
    } else if used.is_empty() {
        writeln!(out, "No runbook step was recorded.\n")?;
    }
    for book in used {
        write!(
            out,
            "### {} — {}",
            md_text(&book.title),
            md_code(&book.id, false)
        )?;
        match &book.owner {
            Some(owner) => writeln!(out, " (owner: {})\n", md_text(owner))?,
            None => writeln!(out, "\n")?,
        }
        if !book.signatures.is_empty() {
            let sigs: Vec<String> = book.signatures.iter().map(|s| md_code(s, false)).collect();
            writeln!(out, "Linked to {}.\n", sigs.join(", "))?;
        }
        writeln!(
            out,
            "| # | Step | Kind | Outcome | By | When | Note |\n|---|---|---|---|---|---|---|"
        )?;
        for step in &book.steps {
            let number = if step.number == 0 {
                "—".to_owned()
            } else {
                step.number.to_string()
            };
            writeln!(
                out,
                "| {number} | {} {} | {} | {} | {} | {} | {} |",
                md_text(&step.title),
                md_code(&step.id, true),
                md_text(step.kind.as_deref().unwrap_or("")),
                step.state.map_or("not recorded", |s| s.as_str()),
                step.actor.as_deref().map_or_else(String::new, md_text),
                step.at.map_or_else(String::new, t),
                step.note.as_deref().map_or_else(String::new, md_text)
            )?;
        }
        writeln!(out)?;
    }
    if !unused.is_empty() {
        writeln!(
            out,
            "Runbooks of signatures that fired, with no step recorded:\n"
        )?;
        for book in unused {
            let sigs: Vec<String> = book.signatures.iter().map(|s| md_code(s, false)).collect();
            writeln!(
                out,
                "- {} — {} ({} steps; for {})",
                md_code(&book.id, false),
                md_text(&book.title),
                book.steps.len(),
                sigs.join(", ")
            )?;
        }
        writeln!(out)?;
    }

    writeln!(out, "## Signatures fired\n")?;
    writeln!(
        out,
        "| Signature | Severity | First fired | Last seen | Cleared | Alerts | Matching lines |\n|---|---|---|---|---|---|---|"
    )?;
    for s in &pm.signatures {
        let keys = if s.keys.is_empty() {
            String::new()
        } else {
            format!(" ({})", md_text(&s.keys.join("; ")))
        };
        let early = if s.precursor { " (early warning)" } else { "" };
        writeln!(
            out,
            "| {}{keys}{early} | {} | {} | {} | {} | {} | {} |",
            md_code(&s.id, true),
            md_text(&s.severity),
            t(s.first_fired),
            t(s.last_seen),
            s.cleared_at.map_or_else(|| "—".to_owned(), t),
            s.alerts,
            s.matches
        )?;
    }
    writeln!(out)?;

    writeln!(out, "## Trigger and root causes\n")?;
    out.push_str(&to_write(
        "what set it off, and why the system let it become an outage (ask why until the answers are about the system, not a person).",
    ));
    writeln!(out, "## Action items\n")?;
    out.push_str(&to_write(
        "one row per action: what, of which type (mitigate, prevent, detect, process), who owns it, where it is tracked.",
    ));
    writeln!(
        out,
        "| Action | Type | Owner | Tracking |\n|---|---|---|---|\n| | | | |\n"
    )?;
    writeln!(out, "## Lessons learned\n")?;
    out.push_str(&to_write(
        "what went well; what went wrong; where we got lucky.",
    ));

    writeln!(out, "## What was new in the logs\n")?;
    if pm.new_in_logs.is_empty() {
        writeln!(
            out,
            "No problem that no signature knows appeared for the first time during the incident.\n"
        )?;
    }
    for n in &pm.new_in_logs {
        writeln!(
            out,
            "**{}** ({}, template {}) — first seen {}\n",
            md_text(&n.template_text),
            md_text(&n.severity),
            md_code(&n.template, false),
            t(n.first_seen)
        )?;
        if let Some(evidence) = &n.evidence {
            writeln!(out, "{}\n", md_code(&evidence.cite(), false))?;
            let lines: Vec<&str> = evidence.line.split('\n').collect();
            writeln!(out, "{}", md_fence(&lines, "text"))?;
        }
    }

    writeln!(out, "## Supporting log excerpts\n")?;
    if pm.excerpts.is_empty() {
        writeln!(
            out,
            "No event is pinned: pin the ones that matter with `triage incident pin SEQ`.\n"
        )?;
    }
    for x in &pm.excerpts {
        writeln!(
            out,
            "**#{} — {}** — {}\n",
            x.seq,
            t(x.occurred_at),
            md_text(&x.summary)
        )?;
        writeln!(
            out,
            "{} (byte offset {})\n",
            md_code(&x.evidence.cite(), false),
            x.evidence.offset
        )?;
        // A multi-line event (a stack trace) keeps its lines.
        let lines: Vec<&str> = x.evidence.line.split('\n').collect();
        writeln!(out, "{}", md_fence(&lines, "text"))?;
    }

    writeln!(
        out,
        "---\n\n*Journal {}: {} events of this incident; journal head at export: event {}, sha256 {}. \
         `triage incident verify` checks the chain.*",
        md_code(&pm.journal.path, false),
        pm.journal.events,
        pm.journal.head_seq,
        md_code(&pm.journal.head_hash, false)
    )?;
    Ok(())
}
