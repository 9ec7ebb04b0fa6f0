//! The postmortem as one self-contained HTML page: the same sections as the
//! Markdown draft, inline CSS, and an inline SVG time chart of the signatures
//! that fired with the milestones. No script, no external asset (a Content
//! Security Policy in the page forbids both, as a second line of defence).
//!
//! Pure: lays out the sections `sections::walk` hands it. Every piece of
//! text from the journal goes through `escape::html`; markup is written
//! only here.

use std::fmt::{self, Write};

use jiff::{SignedDuration, Timestamp, tz::TimeZone};

use super::{
    escape::{html, html_attr_lines, html_lines},
    report::{
        Detection, EarlyWarning, Excerpt, Header, JournalInfo, MetricRow, MilestoneRow, NewInLogs,
        Postmortem, RunbookRow, SignatureRow, StepRow, TimelineRow,
    },
    sections::{Renderer, walk},
};
use crate::incident::text::{clock_time, duration, time, zone_name};

const STYLE: &str = "\
body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;max-width:1100px;margin:2em auto;padding:0 1em}\
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}\
table{border-collapse:collapse;margin:.6em 0;width:100%}th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#f6f8fa}td.time{white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}\
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.6em;white-space:pre-wrap;word-break:break-all}\
.todo{background:#fff8c5;border:1px solid #d4a72c;padding:.6em .8em}.muted{color:#656d76}\
.sev-critical{color:#b00020;font-weight:600}.sev-high{color:#c2410c;font-weight:600}.sev-medium{color:#9a6700}.sev-low{color:#0969da}.sev-info{color:#656d76}\
svg{width:100%;height:auto;border:1px solid #d0d7de;background:#fff}";

fn color(severity: &str) -> &'static str {
    match severity {
        "critical" => "#b00020",
        "high" => "#c2410c",
        "medium" => "#d4a72c",
        "low" => "#0969da",
        _ => "#8c959f",
    }
}

fn ms(millis: Option<i64>) -> String {
    millis.map_or_else(
        || "—".to_owned(),
        |m| duration(SignedDuration::from_millis(m)),
    )
}

/// Renders the page, times in `zone`.
pub fn render(pm: &Postmortem, zone: &TimeZone) -> String {
    let mut page = Html {
        out: String::new(),
        zone,
        tz: html(&zone_name(zone)),
    };
    // Writing to a String cannot fail.
    let _ = walk(pm, &mut page);
    page.out
}

/// The page being written.
struct Html<'z> {
    out: String,
    zone: &'z TimeZone,
    /// The zone's name, escaped, as the headings say it.
    tz: String,
}

impl Html<'_> {
    fn t(&self, ts: Timestamp) -> String {
        html(&time(ts, self.zone))
    }
}

impl Renderer for Html<'_> {
    fn begin(&mut self, pm: &Postmortem) -> fmt::Result {
        let inc = &pm.incident;
        let generated = self.t(pm.generated_at);
        let tz = &self.tz;
        let out = &mut self.out;
        writeln!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
        )?;
        writeln!(
            out,
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        )?;
        writeln!(
            out,
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        )?;
        writeln!(
            out,
            "<title>Postmortem: {} ({})</title>",
            html(&inc.title),
            html(&inc.id)
        )?;
        writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>")?;
        writeln!(
            out,
            "<h1>Postmortem: {} ({})</h1>",
            html(&inc.title),
            html(&inc.id)
        )?;
        writeln!(
            out,
            "<p class=\"muted\">First draft, written by {} from the incident journal on {generated} {tz}. \
             Sections marked <strong>To be written</strong> are for people; the rest comes from the \
             journal and the log lines it cites. Times are in {tz}.</p>",
            html(&pm.generator),
        )
    }

    fn facts(&mut self, inc: &Header) -> fmt::Result {
        let opened = self.t(inc.opened_at);
        let out = &mut self.out;
        writeln!(out, "<table>")?;
        writeln!(out, "<tr><th>Incident</th><td>{}</td></tr>", html(&inc.id))?;
        let status = match &inc.merged_into {
            Some(into) => format!("merged into {}", html(into)),
            None => html(&inc.status),
        };
        writeln!(out, "<tr><th>Status</th><td>{status}</td></tr>")?;
        writeln!(
            out,
            "<tr><th>Severity</th><td class=\"sev-{0}\">{0}</td></tr>",
            html(&inc.severity)
        )?;
        let how = match (&inc.cause, inc.declared) {
            (Some(cause), _) => format!(" (signature <code>{}</code>)", html(cause)),
            (None, true) => " (declared)".to_owned(),
            (None, false) => String::new(),
        };
        writeln!(
            out,
            "<tr><th>Opened</th><td>{opened} by {}{how}</td></tr>",
            html(&inc.opened_by)
        )?;
        let lasted = duration(SignedDuration::from_millis(inc.duration_ms));
        let lasted = if inc.open {
            format!("{lasted} so far (still {})", html(&inc.status))
        } else {
            lasted
        };
        writeln!(out, "<tr><th>Duration</th><td>{lasted}</td></tr>")?;
        let responders: Vec<String> = inc.responders.iter().map(|r| html(r)).collect();
        writeln!(
            out,
            "<tr><th>Responders</th><td>{}</td></tr>\n</table>",
            if responders.is_empty() {
                "—".to_owned()
            } else {
                responders.join(", ")
            }
        )
    }

    fn section(&mut self, title: &str) -> fmt::Result {
        writeln!(self.out, "<h2>{title}</h2>")
    }

    fn to_be_written(&mut self, what: &str) -> fmt::Result {
        writeln!(
            self.out,
            "<p class=\"todo\"><strong>To be written:</strong> {}</p>",
            html(what)
        )
    }

    fn paragraph(&mut self, text: &str) -> fmt::Result {
        writeln!(self.out, "<p>{text}</p>")
    }

    fn milestones_begin(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "<table>\n<tr><th>Milestone</th><th>Time ({})</th><th>Set by</th><th>Basis</th></tr>",
            self.tz
        )
    }

    fn milestone(&mut self, m: &MilestoneRow) -> fmt::Result {
        match m.at {
            Some(at) => {
                let by = html(m.actor.as_deref().unwrap_or(""));
                let by = if m.proposed {
                    format!("{by} (proposed)")
                } else {
                    by
                };
                let evidence = m
                    .evidence
                    .as_ref()
                    .map(|e| format!(" — <code>{}</code>", html(&e.cite())))
                    .unwrap_or_default();
                let at = self.t(at);
                writeln!(
                    self.out,
                    "<tr><td>{}</td><td class=\"time\">{at}</td><td>{by}</td><td>{}{evidence}</td></tr>",
                    m.milestone.as_str(),
                    html(m.basis.as_deref().unwrap_or(""))
                )
            }
            None => writeln!(
                self.out,
                "<tr><td>{}</td><td>—</td><td></td><td class=\"muted\">not set</td></tr>",
                m.milestone.as_str()
            ),
        }
    }

    fn milestones_end(&mut self) -> fmt::Result {
        writeln!(self.out, "</table>")
    }

    fn metrics_begin(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "<table>\n<tr><th>Metric</th><th>Value</th><th>Measured as</th></tr>"
        )
    }

    fn metric(&mut self, metric: &MetricRow) -> fmt::Result {
        writeln!(
            self.out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            html(&metric.name),
            ms(metric.millis),
            html(&metric.description)
        )
    }

    fn metrics_end(&mut self) -> fmt::Result {
        writeln!(self.out, "</table>")
    }

    fn detected(&mut self, d: &Detection) -> fmt::Result {
        let at = self.t(d.at);
        write!(
            self.out,
            "<p><code>{}</code> (<span class=\"sev-{1}\">{1}</span>) fired at {at}",
            html(&d.signature),
            html(&d.severity),
        )?;
        if let Some(e) = &d.evidence {
            write!(self.out, " on <code>{}</code>", html(&e.cite()))?;
        }
        match (d.after_first_line_ms, d.first_line_at) {
            (Some(after), Some(first)) if after > 0 => {
                let first = self.t(first);
                writeln!(
                    self.out,
                    ", <strong>{}</strong> after the first matching line ({first}).</p>",
                    ms(Some(after)),
                )
            }
            _ => writeln!(self.out, ".</p>"),
        }
    }

    fn early_warnings_begin(&mut self) -> fmt::Result {
        writeln!(self.out, "<p>Early warnings before detection:</p>\n<ul>")
    }

    fn early_warning(&mut self, w: &EarlyWarning) -> fmt::Result {
        let cite = w
            .evidence
            .as_ref()
            .map(|e| format!(" — <code>{}</code>", html(&e.cite())))
            .unwrap_or_default();
        let at = self.t(w.at);
        writeln!(
            self.out,
            "<li>{at} <code>{}</code> ({}): {}{cite}</li>",
            html(&w.signature),
            html(&w.severity),
            html(&w.summary)
        )
    }

    fn early_warnings_end(&mut self) -> fmt::Result {
        writeln!(self.out, "</ul>")
    }

    fn declared(&mut self, inc: &Header) -> fmt::Result {
        let at = self.t(inc.opened_at);
        writeln!(
            self.out,
            "<p>Declared by {} at {at}; no signature fired.</p>",
            html(&inc.opened_by),
        )
    }

    fn chart(&mut self, pm: &Postmortem) -> fmt::Result {
        writeln!(self.out, "{}", chart(pm, self.zone))
    }

    fn timeline_begin(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "<table>\n<tr><th>Time ({})</th><th>#</th><th>Actor</th><th>Event</th><th>Evidence</th></tr>",
            self.tz
        )
    }

    fn timeline_row(&mut self, row: &TimelineRow) -> fmt::Result {
        let mut marks = String::new();
        if row.retimed {
            marks.push_str(" <span class=\"muted\">(time corrected)</span>");
        }
        if row.pinned {
            marks.push_str(" <span class=\"muted\">(pinned)</span>");
        }
        let evidence = row
            .evidence
            .as_ref()
            .map(|e| {
                format!(
                    "<code title=\"{}\">{}</code>",
                    html_attr_lines(&e.line),
                    html(&e.cite())
                )
            })
            .unwrap_or_default();
        let at = self.t(row.occurred_at);
        writeln!(
            self.out,
            "<tr><td class=\"time\">{at}{marks}</td><td class=\"num\">{}</td><td>{}</td><td><code>{}</code> {}</td><td>{evidence}</td></tr>",
            row.seq,
            html(&row.actor),
            html(row.kind.as_str()),
            html(&row.summary)
        )
    }

    fn timeline_end(&mut self) -> fmt::Result {
        writeln!(self.out, "</table>")
    }

    fn left_out(&mut self, note: &str) -> fmt::Result {
        writeln!(self.out, "<p class=\"muted\">{}</p>", html(note))
    }

    fn runbook_begin(&mut self, book: &RunbookRow) -> fmt::Result {
        let out = &mut self.out;
        write!(
            out,
            "<h3>{} — <code>{}</code>",
            html(&book.title),
            html(&book.id)
        )?;
        if let Some(owner) = &book.owner {
            write!(
                out,
                " <span class=\"muted\">(owner: {})</span>",
                html(owner)
            )?;
        }
        writeln!(out, "</h3>")?;
        if !book.signatures.is_empty() {
            let sigs: Vec<String> = book
                .signatures
                .iter()
                .map(|s| format!("<code>{}</code>", html(s)))
                .collect();
            writeln!(out, "<p>Linked to {}.</p>", sigs.join(", "))?;
        }
        writeln!(
            out,
            "<table>\n<tr><th>#</th><th>Step</th><th>Kind</th><th>Outcome</th><th>By</th><th>When</th><th>Note</th></tr>"
        )
    }

    fn step(&mut self, step: &StepRow) -> fmt::Result {
        let when = step.at.map_or_else(String::new, |at| self.t(at));
        writeln!(
            self.out,
            "<tr><td class=\"num\">{}</td><td>{} <code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{when}</td><td>{}</td></tr>",
            if step.number == 0 {
                "—".to_owned()
            } else {
                step.number.to_string()
            },
            html(&step.title),
            html(&step.id),
            html(step.kind.as_deref().unwrap_or("")),
            step.state
                .map_or("<span class=\"muted\">not recorded</span>", |s| s.as_str()),
            html(step.actor.as_deref().unwrap_or("")),
            html(step.note.as_deref().unwrap_or(""))
        )
    }

    fn runbook_end(&mut self) -> fmt::Result {
        writeln!(self.out, "</table>")
    }

    fn unused_begin(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "<p>Runbooks of signatures that fired, with no step recorded:</p>\n<ul>"
        )
    }

    fn unused(&mut self, book: &RunbookRow) -> fmt::Result {
        let sigs: Vec<String> = book
            .signatures
            .iter()
            .map(|s| format!("<code>{}</code>", html(s)))
            .collect();
        writeln!(
            self.out,
            "<li><code>{}</code> — {} ({} steps; for {})</li>",
            html(&book.id),
            html(&book.title),
            book.steps.len(),
            sigs.join(", ")
        )
    }

    fn unused_end(&mut self) -> fmt::Result {
        writeln!(self.out, "</ul>")
    }

    fn signatures_begin(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "<table>\n<tr><th>Signature</th><th>Severity</th><th>First fired</th><th>Last seen</th><th>Cleared</th><th>Alerts</th><th>Matching lines</th></tr>"
        )
    }

    fn signature(&mut self, s: &SignatureRow) -> fmt::Result {
        let keys = if s.keys.is_empty() {
            String::new()
        } else {
            format!(
                " <span class=\"muted\">({})</span>",
                html(&s.keys.join("; "))
            )
        };
        let early = if s.precursor {
            " <span class=\"muted\">(early warning)</span>"
        } else {
            ""
        };
        let (first, last) = (self.t(s.first_fired), self.t(s.last_seen));
        let cleared = s.cleared_at.map_or_else(|| "—".to_owned(), |c| self.t(c));
        writeln!(
            self.out,
            "<tr><td><code>{}</code>{keys}{early}</td><td class=\"sev-{1}\">{1}</td><td>{first}</td><td>{last}</td><td>{cleared}</td><td class=\"num\">{2}</td><td class=\"num\">{3}</td></tr>",
            html(&s.id),
            html(&s.severity),
            s.alerts,
            s.matches
        )
    }

    fn signatures_end(&mut self) -> fmt::Result {
        writeln!(self.out, "</table>")
    }

    fn action_items(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "<table>\n<tr><th>Action</th><th>Type</th><th>Owner</th><th>Tracking</th></tr>\n<tr><td>&nbsp;</td><td></td><td></td><td></td></tr>\n</table>"
        )
    }

    fn new_in_logs(&mut self, n: &NewInLogs) -> fmt::Result {
        let first = self.t(n.first_seen);
        write!(
            self.out,
            "<p><strong>{}</strong> (<span class=\"sev-{1}\">{1}</span>, template <code>{2}</code>) — first seen {first}",
            html(&n.template_text),
            html(&n.severity),
            html(&n.template),
        )?;
        match &n.evidence {
            Some(evidence) => writeln!(
                self.out,
                "<br><code>{}</code></p>\n<pre>{}</pre>",
                html(&evidence.cite()),
                html_lines(&evidence.line)
            ),
            None => writeln!(self.out, "</p>"),
        }
    }

    fn no_excerpts(&mut self) -> fmt::Result {
        writeln!(
            self.out,
            "<p class=\"muted\">No event is pinned: pin the ones that matter with <code>triage incident pin SEQ</code>.</p>"
        )
    }

    fn excerpt(&mut self, x: &Excerpt) -> fmt::Result {
        let at = self.t(x.occurred_at);
        writeln!(
            self.out,
            "<p><strong>#{} — {at}</strong> — {}<br><code>{}</code> <span class=\"muted\">(byte offset {})</span></p>\n<pre>{}</pre>",
            x.seq,
            html(&x.summary),
            html(&x.evidence.cite()),
            x.evidence.offset,
            html_lines(&x.evidence.line)
        )
    }

    fn end(&mut self, journal: &JournalInfo) -> fmt::Result {
        writeln!(
            self.out,
            "<hr>\n<p class=\"muted\">Journal <code>{}</code>: {} events of this incident; journal head at export: event {}, sha256 <code>{}</code>. <code>triage incident verify</code> checks the chain.</p>",
            html(&journal.path),
            journal.events,
            journal.head_seq,
            html(&journal.head_hash)
        )?;
        writeln!(self.out, "</body>\n</html>")
    }
}

/// The SVG chart: one row per signature (a bar from first fired to cleared or
/// last seen, a dot per firing and per count), dashed lines at milestones,
/// and a time axis in `zone`.
fn chart(pm: &Postmortem, zone: &TimeZone) -> String {
    const WIDTH: f64 = 1000.0;
    const LEFT: f64 = 300.0;
    const RIGHT: f64 = 30.0;
    const TOP: f64 = 46.0;
    const ROW: f64 = 24.0;
    let sigs: &[SignatureRow] = &pm.signatures;
    let milestones: Vec<(&str, Timestamp)> = pm
        .milestones
        .iter()
        .filter_map(|m| Some((m.milestone.as_str(), m.at?)))
        .collect();
    let mut times: Vec<Timestamp> = milestones.iter().map(|(_, t)| *t).collect();
    for s in sigs {
        times.push(s.first_fired);
        times.push(s.cleared_at.unwrap_or(s.last_seen));
    }
    let (Some(&t0), Some(&t1)) = (times.iter().min(), times.iter().max()) else {
        return String::new();
    };
    let span = t1.duration_since(t0).as_secs_f64().max(60.0);
    let x =
        |t: Timestamp| LEFT + t.duration_since(t0).as_secs_f64() / span * (WIDTH - LEFT - RIGHT);
    let height = TOP + ROW * sigs.len() as f64 + 34.0;
    let bottom = TOP + ROW * sigs.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"Signatures fired over time\" font-family=\"system-ui,sans-serif\" font-size=\"12\">\n"
    );
    for (i, s) in sigs.iter().enumerate() {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        let c = color(&s.severity);
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" dominant-baseline=\"middle\" fill=\"#1f2328\">{}</text>",
            LEFT - 10.0,
            y,
            html(&s.id)
        );
        if let Some(cleared) = s.cleared_at {
            // Quiet until cleared: a thin dashed tail.
            let _ = writeln!(
                svg,
                "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{c}\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"><title>quiet until cleared at {}</title></line>",
                x(s.last_seen),
                x(cleared),
                html(&clock_time(cleared, zone))
            );
        }
        let _ = writeln!(
            svg,
            "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{c}\" stroke-width=\"6\" stroke-linecap=\"round\" opacity=\"{}\"><title>{} ({}): first fired {}, last seen {}, {} alerts, {} lines</title></line>",
            x(s.first_fired),
            x(s.last_seen).max(x(s.first_fired) + 0.5),
            if s.precursor { "0.55" } else { "0.85" },
            html(&s.id),
            html(&s.severity),
            html(&clock_time(s.first_fired, zone)),
            html(&clock_time(s.last_seen, zone)),
            s.alerts,
            s.matches
        );
        for &p in &s.points {
            let _ = writeln!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"{c}\" stroke=\"#fff\" stroke-width=\"1\"/>",
                x(p)
            );
        }
    }
    for (i, (name, t)) in milestones.iter().enumerate() {
        let mx = x(*t);
        let label_y = if i % 2 == 0 { 14.0 } else { 30.0 };
        let anchor = if mx > WIDTH - RIGHT - 90.0 {
            "end"
        } else if mx < LEFT + 90.0 {
            "start"
        } else {
            "middle"
        };
        let _ = writeln!(
            svg,
            "<line x1=\"{mx:.1}\" y1=\"{:.1}\" x2=\"{mx:.1}\" y2=\"{bottom:.1}\" stroke=\"#57606a\" stroke-dasharray=\"4 3\"/>\n<text x=\"{mx:.1}\" y=\"{label_y:.1}\" text-anchor=\"{anchor}\" fill=\"#57606a\">{} {}</text>",
            label_y + 4.0,
            html(name),
            html(&clock_time(*t, zone))
        );
    }
    for k in 0..=4 {
        let t = t0
            .checked_add(SignedDuration::from_secs_f64(span * f64::from(k) / 4.0))
            .unwrap_or(t0);
        let tx = x(t);
        let _ = writeln!(
            svg,
            "<line x1=\"{tx:.1}\" y1=\"{bottom:.1}\" x2=\"{tx:.1}\" y2=\"{:.1}\" stroke=\"#8c959f\"/>\n<text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#57606a\">{}</text>",
            bottom + 5.0,
            bottom + 20.0,
            html(&clock_time(t, zone))
        );
    }
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\" stroke=\"#8c959f\"/>\n</svg>",
        WIDTH - RIGHT
    );
    svg
}
