//! Incidents as text for people on a terminal (`incident list`, `incident
//! show`), and the time and duration formats every view of an incident uses.
//!
//! Writes only to the writer it is given. Everything that comes from the
//! journal (summaries, notes, actors, titles, log lines) is passed through
//! [`crate::sanitize::for_terminal`]: a log line must not be able to move the
//! cursor or hide text when an incident is shown.

use std::io::{self, Write};

use jiff::{SignedDuration, Timestamp, tz::TimeZone};

use super::{
    event::{AUTOMATIC_ACTOR, JournalEvent},
    state::{Incident, Metrics, Milestone, Timeline},
};
use crate::sanitize::for_terminal;

/// `2026-11-21 03:06:06.071` in `zone` (milliseconds only when not zero).
pub fn time(ts: Timestamp, zone: &TimeZone) -> String {
    let zoned = ts.to_zoned(zone.clone());
    let base = zoned.strftime("%Y-%m-%d %H:%M:%S").to_string();
    match zoned.subsec_nanosecond() / 1_000_000 {
        0 => base,
        ms => format!("{base}.{ms:03}"),
    }
}

/// `03:06:06` in `zone`.
pub fn clock_time(ts: Timestamp, zone: &TimeZone) -> String {
    ts.to_zoned(zone.clone()).strftime("%H:%M:%S").to_string()
}

/// The name to show for a zone: `UTC`, or its IANA name.
pub fn zone_name(zone: &TimeZone) -> String {
    match zone.iana_name() {
        Some("Etc/UTC" | "UTC") | None => "UTC".to_owned(),
        Some(name) => name.to_owned(),
    }
}

/// `1h 02m`, `4m 05s`, `35s`, rounded to the second; `-` before a negative.
pub fn duration(d: SignedDuration) -> String {
    let millis = d.as_millis();
    let sign = if millis < 0 { "-" } else { "" };
    let secs = (millis.unsigned_abs() + 500) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{sign}{h}h {m:02}m")
    } else if m > 0 {
        format!("{sign}{m}m {s:02}s")
    } else {
        format!("{sign}{s}s")
    }
}

/// The four metrics as `(short name, long name, value)`.
pub fn metric_rows(m: &Metrics) -> [(&'static str, &'static str, Option<SignedDuration>); 4] {
    [
        ("TTD", "time to detect (detected − started)", m.ttd),
        (
            "TTA",
            "time to acknowledge (acknowledged − detected)",
            m.tta,
        ),
        ("TTM", "time to mitigate (mitigated − started)", m.ttm),
        ("TTR", "time to resolve (resolved − started)", m.ttr),
    ]
}

/// `incident list`: one line per incident, newest first.
pub fn write_list(out: &mut dyn Write, timeline: &Timeline, now: Timestamp) -> io::Result<()> {
    let utc = TimeZone::UTC;
    let rows: Vec<[String; 6]> = timeline
        .incidents()
        .iter()
        .rev()
        .map(|inc| {
            [
                inc.id.clone(),
                match &inc.merged_into {
                    Some(into) => format!("merged into {into}"),
                    None => inc.status.as_str().to_owned(),
                },
                inc.severity.as_str().to_owned(),
                time(inc.opened_at, &utc),
                duration(inc.metrics(now).elapsed),
                for_terminal(&inc.title).into_owned(),
            ]
        })
        .collect();
    let header = [
        "ID",
        "STATUS",
        "SEVERITY",
        "OPENED (UTC)",
        "LASTED",
        "TITLE",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut line = |cells: [&str; 6]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == 5 {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(header)?;
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]])?;
    }
    Ok(())
}

/// The evidence of an event: where it was read, then its line; a
/// multi-line event's further lines each on a line of its own, under the
/// first (`indent` is what precedes the first).
fn evidence_line(event: &JournalEvent, indent: &str) -> Option<String> {
    let evidence = event.evidence.as_ref()?;
    let cite = for_terminal(&evidence.cite()).into_owned();
    let mut lines = evidence.line.split('\n');
    let mut text = format!(
        "{cite}  │ {}",
        for_terminal(lines.next().unwrap_or("").trim_end_matches('\r'))
    );
    let pad = " ".repeat(indent.chars().count() + cite.chars().count() + 2);
    for line in lines {
        text.push_str(&format!(
            "\n{pad}│     {}",
            for_terminal(line.trim_end_matches('\r'))
        ));
    }
    Some(text)
}

/// `incident show`: header, milestones and metrics, signatures, steps, and
/// the timeline in time order.
pub fn write_show(
    out: &mut dyn Write,
    timeline: &Timeline,
    inc: &Incident,
    now: Timestamp,
) -> io::Result<()> {
    let utc = TimeZone::UTC;
    writeln!(out, "{}  {}", inc.id, for_terminal(&inc.title))?;
    writeln!(out, "  severity    {}", inc.severity)?;
    match &inc.merged_into {
        Some(into) => writeln!(out, "  status      merged into {into}")?,
        None => writeln!(out, "  status      {}", inc.status)?,
    }
    if let Some(from) = &inc.split_from {
        writeln!(out, "  split from  {from}")?;
    }
    let cause = inc
        .cause
        .as_deref()
        .map(|c| format!(" ({})", for_terminal(c)))
        .unwrap_or_default();
    writeln!(
        out,
        "  opened      {} UTC by {}{cause}",
        time(inc.opened_at, &utc),
        for_terminal(&inc.opened_by)
    )?;
    if !inc.responders.is_empty() {
        let names: Vec<String> = inc
            .responders
            .iter()
            .map(|r| for_terminal(r).into_owned())
            .collect();
        writeln!(out, "  responders  {}", names.join(", "))?;
    }
    writeln!(out, "\nMILESTONES (UTC)")?;
    for milestone in Milestone::ALL {
        match inc.milestone(milestone) {
            Some(m) => writeln!(
                out,
                "  {:<13} {:<23}  #{:<4} {}",
                milestone.as_str(),
                time(m.at, &utc),
                m.seq,
                for_terminal(&m.basis),
            )?,
            None => writeln!(out, "  {:<13} -", milestone.as_str())?,
        }
    }
    let metrics = inc.metrics(now);
    let figures: Vec<String> = metric_rows(&metrics)
        .iter()
        .map(|(name, _, value)| format!("{name} {}", value.map_or("-".to_owned(), duration)))
        .collect();
    let lasted = if inc.is_open() {
        format!("open for {}", duration(metrics.elapsed))
    } else {
        format!("lasted {}", duration(metrics.elapsed))
    };
    writeln!(out, "  {}   ({lasted})", figures.join("   "))?;

    if !inc.signatures.is_empty() {
        writeln!(out, "\nSIGNATURES")?;
        for s in &inc.signatures {
            let cleared = s
                .cleared_at
                .map(|t| format!("  cleared {}", clock_time(t, &utc)))
                .unwrap_or_default();
            writeln!(
                out,
                "  {:<8} {}  fired {}  alerts {}  lines {}  first {}  last {}{cleared}{}",
                s.severity.as_str(),
                for_terminal(&s.id),
                s.fired,
                s.alerts,
                s.matches,
                clock_time(s.first_fired, &utc),
                clock_time(s.last_seen, &utc),
                if s.precursor { "  (early warning)" } else { "" }
            )?;
        }
    }
    if !inc.steps.is_empty() {
        writeln!(out, "\nRUNBOOK STEPS")?;
        for step in &inc.steps {
            let at = inc
                .time_of(step.seq)
                .map(|t| time(t, &utc))
                .unwrap_or_default();
            let note = step
                .note
                .as_deref()
                .map(|n| format!("  — {}", for_terminal(n)))
                .unwrap_or_default();
            writeln!(
                out,
                "  {:<8} {}/{}  {}  {at}{note}",
                step.state.as_str(),
                for_terminal(&step.runbook),
                for_terminal(&step.step),
                for_terminal(&step.actor)
            )?;
        }
    }
    writeln!(out, "\nTIMELINE (UTC)")?;
    for entry in inc.chronological() {
        let event = timeline.event_of(entry);
        let mut marks = String::new();
        if entry.pinned {
            marks.push_str(" [pinned]");
        }
        if entry.retimed {
            marks.push_str(" [time corrected]");
        }
        let actor = if event.actor == AUTOMATIC_ACTOR {
            AUTOMATIC_ACTOR.to_owned()
        } else {
            for_terminal(&event.actor).into_owned()
        };
        writeln!(
            out,
            "  #{:<4} {:<23}  {:<8} {:<18} {}{marks}",
            event.seq,
            time(entry.occurred_at, &utc),
            actor,
            event.kind.as_str(),
            for_terminal(&event.summary)
        )?;
        if let Some(line) = evidence_line(event, "        ") {
            writeln!(out, "        {line}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::event::tests::ts;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(duration(SignedDuration::from_millis(94_600)), "1m 35s");
        assert_eq!(duration(SignedDuration::from_secs(35)), "35s");
        assert_eq!(duration(SignedDuration::from_secs(3723)), "1h 02m");
        assert_eq!(duration(SignedDuration::from_secs(-65)), "-1m 05s");
        assert_eq!(duration(SignedDuration::ZERO), "0s");
    }

    #[test]
    fn times_show_milliseconds_only_when_there_are_some() {
        let utc = TimeZone::UTC;
        assert_eq!(
            time(ts("2026-11-21T03:06:06Z"), &utc),
            "2026-11-21 03:06:06"
        );
        assert_eq!(
            time(ts("2026-11-21T03:06:06.071Z"), &utc),
            "2026-11-21 03:06:06.071"
        );
        let paris = TimeZone::get("Europe/Paris").expect("tzdb");
        assert_eq!(
            time(ts("2026-11-21T03:06:06Z"), &paris),
            "2026-11-21 04:06:06"
        );
        assert_eq!(zone_name(&utc), "UTC");
    }
}
