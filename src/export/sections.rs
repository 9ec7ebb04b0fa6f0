//! The postmortem's sections, walked once for every document format: which
//! sections there are and in which order, what each holds (the rows shown,
//! the cases said in words: no runbook, nothing pinned, ...), and the prose
//! they share. A [`Renderer`] only lays out what the walk hands it:
//! `markdown` and `html` are the two.
//!
//! Pure: a [`Postmortem`] in, calls on the renderer out.

use std::fmt;

use super::report::{
    Detection, EarlyWarning, Excerpt, Header, JournalInfo, MetricRow, MilestoneRow, NewInLogs,
    Postmortem, RunbookRow, SignatureRow, StepRow, TimelineRow,
};
use crate::incident::Kind;

/// Lays out one document format. Each method writes one element of a
/// section; the walk ([`walk`]) decides which, in which order, how many.
pub trait Renderer {
    /// The document's start: its head, title and provenance line.
    fn begin(&mut self, pm: &Postmortem) -> fmt::Result;
    /// The incident's facts: id, status, severity, opened, duration,
    /// responders.
    fn facts(&mut self, inc: &Header) -> fmt::Result;
    /// A section's heading.
    fn section(&mut self, title: &str) -> fmt::Result;
    /// What people are to write in the section.
    fn to_be_written(&mut self, what: &str) -> fmt::Result;
    /// A sentence of the walk's own (no text from the journal in it).
    fn paragraph(&mut self, text: &str) -> fmt::Result;

    /// Before the milestone rows.
    fn milestones_begin(&mut self) -> fmt::Result;
    /// One milestone, set or not.
    fn milestone(&mut self, row: &MilestoneRow) -> fmt::Result;
    /// After the milestone rows.
    fn milestones_end(&mut self) -> fmt::Result;
    /// Before the metric rows.
    fn metrics_begin(&mut self) -> fmt::Result;
    /// One of TTD, TTA, TTM, TTR.
    fn metric(&mut self, row: &MetricRow) -> fmt::Result;
    /// After the metric rows.
    fn metrics_end(&mut self) -> fmt::Result;

    /// What fired first, when, on which line.
    fn detected(&mut self, detection: &Detection) -> fmt::Result;
    /// Before the early warnings (there are some).
    fn early_warnings_begin(&mut self) -> fmt::Result;
    /// One early warning.
    fn early_warning(&mut self, warning: &EarlyWarning) -> fmt::Result;
    /// After the early warnings.
    fn early_warnings_end(&mut self) -> fmt::Result;
    /// No signature fired: who declared it, when.
    fn declared(&mut self, inc: &Header) -> fmt::Result;
    /// The chart of the signatures that fired (there are some), for the
    /// formats that draw one.
    fn chart(&mut self, pm: &Postmortem) -> fmt::Result;

    /// Before the timeline rows.
    fn timeline_begin(&mut self) -> fmt::Result;
    /// One row of the timeline.
    fn timeline_row(&mut self, row: &TimelineRow) -> fmt::Result;
    /// After the timeline rows.
    fn timeline_end(&mut self) -> fmt::Result;
    /// What the timeline leaves out, in words.
    fn left_out(&mut self, note: &str) -> fmt::Result;

    /// A runbook with a recorded step: its title, owner, signatures, and
    /// the start of its steps.
    fn runbook_begin(&mut self, book: &RunbookRow) -> fmt::Result;
    /// One of its steps.
    fn step(&mut self, step: &StepRow) -> fmt::Result;
    /// After its steps.
    fn runbook_end(&mut self) -> fmt::Result;
    /// Before the runbooks with no step recorded (there are some).
    fn unused_begin(&mut self) -> fmt::Result;
    /// One of them.
    fn unused(&mut self, book: &RunbookRow) -> fmt::Result;
    /// After them.
    fn unused_end(&mut self) -> fmt::Result;

    /// Before the signature rows.
    fn signatures_begin(&mut self) -> fmt::Result;
    /// One signature that fired.
    fn signature(&mut self, row: &SignatureRow) -> fmt::Result;
    /// After the signature rows.
    fn signatures_end(&mut self) -> fmt::Result;

    /// The empty table of action items.
    fn action_items(&mut self) -> fmt::Result;
    /// A problem template first seen during the incident.
    fn new_in_logs(&mut self, item: &NewInLogs) -> fmt::Result;
    /// Nothing is pinned: how to pin.
    fn no_excerpts(&mut self) -> fmt::Result;
    /// The log line behind a pinned event.
    fn excerpt(&mut self, excerpt: &Excerpt) -> fmt::Result;
    /// The document's end: where the events come from, the journal's head.
    fn end(&mut self, journal: &JournalInfo) -> fmt::Result;
}

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

/// Walks the postmortem's sections in order through `r`.
pub fn walk<R: Renderer>(pm: &Postmortem, r: &mut R) -> fmt::Result {
    let inc = &pm.incident;
    r.begin(pm)?;
    r.facts(inc)?;

    r.section("Summary")?;
    r.to_be_written(
        "two or three sentences: what happened, who was affected, for how long, and how it ended.",
    )?;
    r.section("Impact")?;
    r.to_be_written(
        "who and what was affected (users, requests, data, money), how badly, and for how long.",
    )?;

    r.section("Key timestamps")?;
    r.milestones_begin()?;
    for row in &pm.milestones {
        r.milestone(row)?;
    }
    r.milestones_end()?;
    r.metrics_begin()?;
    for row in &pm.metrics {
        r.metric(row)?;
    }
    r.metrics_end()?;

    r.section("Detection")?;
    match &pm.detection {
        Some(detection) => {
            r.detected(detection)?;
            if !detection.early_warnings.is_empty() {
                r.early_warnings_begin()?;
                for warning in &detection.early_warnings {
                    r.early_warning(warning)?;
                }
                r.early_warnings_end()?;
            }
        }
        None => r.declared(inc)?,
    }
    if !pm.signatures.is_empty() {
        r.chart(pm)?;
    }

    r.section("Timeline")?;
    r.timeline_begin()?;
    for row in pm.timeline.iter().filter(|r| shown_in_timeline(r)) {
        r.timeline_row(row)?;
    }
    r.timeline_end()?;
    let note = left_out(pm);
    if !note.is_empty() {
        r.left_out(&note)?;
    }

    r.section("Response")?;
    let (used, unused) = runbook_order(pm);
    if pm.runbooks.is_empty() {
        r.paragraph("No runbook was linked or used.")?;
    } else if used.is_empty() {
        r.paragraph("No runbook step was recorded.")?;
    }
    for book in used {
        r.runbook_begin(book)?;
        for step in &book.steps {
            r.step(step)?;
        }
        r.runbook_end()?;
    }
    if !unused.is_empty() {
        r.unused_begin()?;
        for book in unused {
            r.unused(book)?;
        }
        r.unused_end()?;
    }

    r.section("Signatures fired")?;
    r.signatures_begin()?;
    for row in &pm.signatures {
        r.signature(row)?;
    }
    r.signatures_end()?;

    r.section("Trigger and root causes")?;
    r.to_be_written(
        "what set it off, and why the system let it become an outage (ask why until the answers are about the system, not a person).",
    )?;
    r.section("Action items")?;
    r.to_be_written(
        "one row per action: what, of which type (mitigate, prevent, detect, process), who owns it, where it is tracked.",
    )?;
    r.action_items()?;
    r.section("Lessons learned")?;
    r.to_be_written("what went well; what went wrong; where we got lucky.")?;

    r.section("What was new in the logs")?;
    if pm.new_in_logs.is_empty() {
        r.paragraph(
            "No problem that no signature knows appeared for the first time during the incident.",
        )?;
    }
    for item in &pm.new_in_logs {
        r.new_in_logs(item)?;
    }

    r.section("Supporting log excerpts")?;
    if pm.excerpts.is_empty() {
        r.no_excerpts()?;
    }
    for excerpt in &pm.excerpts {
        r.excerpt(excerpt)?;
    }
    r.end(&pm.journal)
}

#[cfg(test)]
mod tests {
    use crate::{
        export::{html, markdown, report},
        incident::{Timeline, journal::parse_line},
        library::Library,
    };

    /// The section titles of a document, in order.
    fn headings(text: &str, open: &str, close: &str) -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix(open)?.strip_suffix(close))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn markdown_and_html_have_the_same_sections_in_the_same_order() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/journal/v1/journal.jsonl"
        );
        let text = std::fs::read_to_string(path).expect("fixture");
        let timeline = Timeline::from_events(
            text.lines()
                .map(|l| parse_line(l.as_bytes()).expect("an event")),
        );
        let (library, _) = Library::load(&[], &[]);
        let now = "2026-11-22T00:00:00Z".parse().expect("time");
        for inc in timeline.incidents() {
            let pm = report::build(&timeline, inc, &library, "journal.jsonl", now);
            let zone = jiff::tz::TimeZone::UTC;
            let md = headings(&markdown::render(&pm, &zone), "## ", "");
            let page = headings(&html::render(&pm, &zone), "<h2>", "</h2>");
            assert_eq!(md, page, "{}", inc.id);
        }
    }
}
