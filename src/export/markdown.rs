//! The postmortem as Markdown: a first draft after the Google SRE template,
//! with the facts filled in from the journal and clearly marked sections for
//! people to write.
//!
//! Pure: lays out the sections `sections::walk` hands it into a `String`.
//! Every piece of text that comes from a log, a person or a pattern file
//! goes through `escape` (`md_text`, `md_code`, `md_fence`); the structure
//! (headings, tables, fences) is written only here.

use std::fmt::{self, Write};

use jiff::{SignedDuration, Timestamp, tz::TimeZone};

use super::{
    escape::{md_code, md_fence, md_text},
    report::{
        Detection, EarlyWarning, Excerpt, Header, JournalInfo, MetricRow, MilestoneRow, NewInLogs,
        Postmortem, RunbookRow, SignatureRow, StepRow, TimelineRow,
    },
    sections::{Renderer, walk},
};
use crate::incident::text::{duration, time, zone_name};

fn ms(millis: Option<i64>) -> String {
    millis.map_or_else(
        || "—".to_owned(),
        |m| duration(SignedDuration::from_millis(m)),
    )
}

/// Renders the Markdown postmortem, times in `zone`.
pub fn render(pm: &Postmortem, zone: &TimeZone) -> String {
    let mut markdown = Markdown {
        out: String::new(),
        zone,
        tz: zone_name(zone),
    };
    // Writing to a String cannot fail.
    let _ = walk(pm, &mut markdown);
    markdown.out
}

/// The Markdown document being written.
struct Markdown<'z> {
    out: String,
    zone: &'z TimeZone,
    /// The zone's name, as the headings say it.
    tz: String,
}

impl Markdown<'_> {
    fn t(&self, ts: Timestamp) -> String {
        time(ts, self.zone)
    }
}

impl Renderer for Markdown<'_> {
    fn begin(&mut self, pm: &Postmortem) -> fmt::Result {
        let inc = &pm.incident;
        let generated = self.t(pm.generated_at);
        let tz = &self.tz;
        writeln!(
            self.out,
            "# Postmortem: {} ({})\n",
            md_text(&inc.title),
            md_text(&inc.id)
        )?;
        writeln!(
            self.out,
            "*First draft, written by {} from the incident journal on {generated} {tz}. \
             Sections marked **To be written** are for people; the rest comes from the \
             journal and the log lines it cites. Times are in {tz}.*\n",
            md_text(&pm.generator),
        )
    }

    fn facts(&mut self, inc: &Header) -> fmt::Result {
        let opened = self.t(inc.opened_at);
        let out = &mut self.out;
        writeln!(out, "| | |\n|---|---|")?;
        writeln!(out, "| Incident | {} |", md_text(&inc.id))?;
        match &inc.merged_into {
            Some(into) => writeln!(out, "| Status | merged into {} |", md_text(into))?,
            None => writeln!(out, "| Status | {} |", md_text(&inc.status))?,
        }
        writeln!(out, "| Severity | {} |", md_text(&inc.severity))?;
        let how = match (&inc.cause, inc.declared) {
            (Some(cause), _) => format!(" (signature {})", md_code(cause, true)),
            (None, true) => " (declared)".to_owned(),
            (None, false) => String::new(),
        };
        writeln!(
            out,
            "| Opened | {opened} by {}{how} |",
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
        writeln!(out, "| Responders | {responders} |\n")
    }

    fn section(&mut self, title: &str) -> fmt::Result {
        writeln!(self.out, "## {title}\n")
    }

    fn to_be_written(&mut self, what: &str) -> fmt::Result {
        write!(self.out, "> **To be written:** {what}\n\n")
    }

    fn paragraph(&mut self, text: &str) -> fmt::Result {
        writeln!(self.out, "{text}\n")
    }

    fn milestones_begin(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "| Milestone | Time ({}) | Set by | Basis |\n|---|---|---|---|",
            self.tz
        )
    }

    fn milestone(&mut self, m: &MilestoneRow) -> fmt::Result {
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
                let at = self.t(at);
                writeln!(
                    self.out,
                    "| {name} | {at} | {by} | {}{evidence} |",
                    md_text(m.basis.as_deref().unwrap_or(""))
                )
            }
            None => writeln!(self.out, "| {name} | — | | not set |"),
        }
    }

    fn milestones_end(&mut self) -> fmt::Result {
        Ok(())
    }

    fn metrics_begin(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "\n| Metric | Value | Measured as |\n|---|---|---|"
        )
    }

    fn metric(&mut self, metric: &MetricRow) -> fmt::Result {
        writeln!(
            self.out,
            "| {} | {} | {} |",
            metric.name,
            ms(metric.millis),
            md_text(&metric.description)
        )
    }

    fn metrics_end(&mut self) -> fmt::Result {
        writeln!(self.out)
    }

    fn detected(&mut self, d: &Detection) -> fmt::Result {
        let at = self.t(d.at);
        write!(
            self.out,
            "{} ({}) fired at {at}",
            md_code(&d.signature, false),
            md_text(&d.severity),
        )?;
        if let Some(e) = &d.evidence {
            write!(self.out, " on {}", md_code(&e.cite(), false))?;
        }
        match (d.after_first_line_ms, d.first_line_at) {
            (Some(after), Some(first)) if after > 0 => {
                let first = self.t(first);
                writeln!(
                    self.out,
                    ", **{}** after the first matching line ({first}).\n",
                    ms(Some(after)),
                )
            }
            _ => writeln!(self.out, ".\n"),
        }
    }

    fn early_warnings_begin(&mut self) -> fmt::Result {
        writeln!(self.out, "Early warnings before detection:\n")
    }

    fn early_warning(&mut self, w: &EarlyWarning) -> fmt::Result {
        let cite = w
            .evidence
            .as_ref()
            .map(|e| format!(" — {}", md_code(&e.cite(), false)))
            .unwrap_or_default();
        let at = self.t(w.at);
        writeln!(
            self.out,
            "- {at} {} ({}): {}{cite}",
            md_code(&w.signature, false),
            md_text(&w.severity),
            md_text(&w.summary)
        )
    }

    fn early_warnings_end(&mut self) -> fmt::Result {
        writeln!(self.out)
    }

    fn declared(&mut self, inc: &Header) -> fmt::Result {
        let at = self.t(inc.opened_at);
        writeln!(
            self.out,
            "Declared by {} at {at}; no signature fired.\n",
            md_text(&inc.opened_by),
        )
    }

    /// Markdown draws no chart: the signatures table has its figures.
    fn chart(&mut self, _pm: &Postmortem) -> fmt::Result {
        Ok(())
    }

    fn timeline_begin(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "| Time ({}) | # | Actor | Event | Evidence |\n|---|---|---|---|---|",
            self.tz
        )
    }

    fn timeline_row(&mut self, row: &TimelineRow) -> fmt::Result {
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
        let at = self.t(row.occurred_at);
        writeln!(
            self.out,
            "| {at}{marks} | {} | {} | {} {} | {evidence} |",
            row.seq,
            md_text(&row.actor),
            md_code(row.kind.as_str(), true),
            md_text(&row.summary)
        )
    }

    fn timeline_end(&mut self) -> fmt::Result {
        writeln!(self.out)
    }

    fn left_out(&mut self, note: &str) -> fmt::Result {
        writeln!(self.out, "*{note}*\n")
    }

    fn runbook_begin(&mut self, book: &RunbookRow) -> fmt::Result {
        let out = &mut self.out;
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
        )
    }

    fn step(&mut self, step: &StepRow) -> fmt::Result {
        let number = if step.number == 0 {
            "—".to_owned()
        } else {
            step.number.to_string()
        };
        let when = step.at.map_or_else(String::new, |at| self.t(at));
        writeln!(
            self.out,
            "| {number} | {} {} | {} | {} | {} | {when} | {} |",
            md_text(&step.title),
            md_code(&step.id, true),
            md_text(step.kind.as_deref().unwrap_or("")),
            step.state.map_or("not recorded", |s| s.as_str()),
            step.actor.as_deref().map_or_else(String::new, md_text),
            step.note.as_deref().map_or_else(String::new, md_text)
        )
    }

    fn runbook_end(&mut self) -> fmt::Result {
        writeln!(self.out)
    }

    fn unused_begin(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "Runbooks of signatures that fired, with no step recorded:\n"
        )
    }

    fn unused(&mut self, book: &RunbookRow) -> fmt::Result {
        let sigs: Vec<String> = book.signatures.iter().map(|s| md_code(s, false)).collect();
        writeln!(
            self.out,
            "- {} — {} ({} steps; for {})",
            md_code(&book.id, false),
            md_text(&book.title),
            book.steps.len(),
            sigs.join(", ")
        )
    }

    fn unused_end(&mut self) -> fmt::Result {
        writeln!(self.out)
    }

    fn signatures_begin(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "| Signature | Severity | First fired | Last seen | Cleared | Alerts | Matching lines |\n|---|---|---|---|---|---|---|"
        )
    }

    fn signature(&mut self, s: &SignatureRow) -> fmt::Result {
        let keys = if s.keys.is_empty() {
            String::new()
        } else {
            format!(" ({})", md_text(&s.keys.join("; ")))
        };
        let early = if s.precursor { " (early warning)" } else { "" };
        let (first, last) = (self.t(s.first_fired), self.t(s.last_seen));
        let cleared = s.cleared_at.map_or_else(|| "—".to_owned(), |c| self.t(c));
        writeln!(
            self.out,
            "| {}{keys}{early} | {} | {first} | {last} | {cleared} | {} | {} |",
            md_code(&s.id, true),
            md_text(&s.severity),
            s.alerts,
            s.matches
        )
    }

    fn signatures_end(&mut self) -> fmt::Result {
        writeln!(self.out)
    }

    fn action_items(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "| Action | Type | Owner | Tracking |\n|---|---|---|---|\n| | | | |\n"
        )
    }

    fn new_in_logs(&mut self, n: &NewInLogs) -> fmt::Result {
        let first = self.t(n.first_seen);
        writeln!(
            self.out,
            "**{}** ({}, template {}) — first seen {first}\n",
            md_text(&n.template_text),
            md_text(&n.severity),
            md_code(&n.template, false),
        )?;
        if let Some(evidence) = &n.evidence {
            writeln!(self.out, "{}\n", md_code(&evidence.cite(), false))?;
            let lines: Vec<&str> = evidence.line.split('\n').collect();
            writeln!(self.out, "{}", md_fence(&lines, "text"))?;
        }
        Ok(())
    }

    fn no_excerpts(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "No event is pinned: pin the ones that matter with `triage incident pin SEQ`.\n"
        )
    }

    fn excerpt(&mut self, x: &Excerpt) -> fmt::Result {
        let at = self.t(x.occurred_at);
        writeln!(
            self.out,
            "**#{} — {at}** — {}\n",
            x.seq,
            md_text(&x.summary)
        )?;
        writeln!(
            self.out,
            "{} (byte offset {})\n",
            md_code(&x.evidence.cite(), false),
            x.evidence.offset
        )?;
        // A multi-line event (a stack trace) keeps its lines.
        let lines: Vec<&str> = x.evidence.line.split('\n').collect();
        writeln!(self.out, "{}", md_fence(&lines, "text"))
    }

    fn end(&mut self, journal: &JournalInfo) -> fmt::Result {
        writeln!(
            self.out,
            "---\n\n*Journal {}: {} events of this incident; journal head at export: event {}, sha256 {}. \
             `triage incident verify` checks the chain.*",
            md_code(&journal.path, false),
            journal.events,
            journal.head_seq,
            md_code(&journal.head_hash, false)
        )
    }
}
