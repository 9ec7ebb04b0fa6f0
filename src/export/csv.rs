//! The timeline as CSV (RFC 4180: comma-separated, CRLF records, a header
//! row), one record per event in time order, every event included.
//!
//! The journal's head at export (its last event's seq and hash, for an
//! auditor to keep) is in the last two columns of every record: CSV has no
//! comments, and a record of another shape would break the table for every
//! program reading it.
//!
//! Pure. Every cell goes through `escape::csv_cell`: quoted when needed,
//! control characters made visible, and formula-like cells (`=`, `+`, `-`,
//! `@`, tab, CR) neutralised with a leading `'`.

use jiff::tz::TimeZone;

use super::{escape::csv_row, report::Postmortem};
use crate::incident::text::{time, zone_name};

/// Renders the timeline, the first column in `zone`.
pub fn render(pm: &Postmortem, zone: &TimeZone) -> String {
    let mut out = csv_row(&[
        format!("time ({})", zone_name(zone)),
        "occurred_at".into(),
        "seq".into(),
        "incident".into(),
        "actor".into(),
        "kind".into(),
        "summary".into(),
        "source".into(),
        "line_no".into(),
        "offset".into(),
        "line".into(),
        "pinned".into(),
        "time_source".into(),
        "time_corrected".into(),
        "recorded_at".into(),
        "id".into(),
        "journal_head_seq".into(),
        "journal_head_sha256".into(),
    ]);
    for row in &pm.timeline {
        let evidence = row.evidence.as_ref();
        out.push_str(&csv_row(&[
            time(row.occurred_at, zone),
            row.occurred_at.to_string(),
            row.seq.to_string(),
            pm.incident.id.clone(),
            row.actor.clone(),
            row.kind.as_str().to_owned(),
            row.summary.clone(),
            evidence.map(|e| e.source.clone()).unwrap_or_default(),
            evidence.map(|e| e.line_no.to_string()).unwrap_or_default(),
            evidence.map(|e| e.offset.to_string()).unwrap_or_default(),
            evidence.map(|e| e.line.clone()).unwrap_or_default(),
            row.pinned.to_string(),
            row.occurred_at_source.as_str().to_owned(),
            row.retimed.to_string(),
            row.recorded_at.to_string(),
            row.id.clone(),
            pm.journal.head_seq.to_string(),
            pm.journal.head_hash.clone(),
        ]));
    }
    out
}
