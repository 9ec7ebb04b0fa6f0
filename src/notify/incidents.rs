//! The incident journal as a feed for outputs: the events appended while
//! `watch` runs (by its own recorder or by `triage incident ...` in another
//! shell) that people want to see in a channel — opened, acknowledged,
//! notes, status and severity changes.
//!
//! Reads the journal incrementally (`incident::Journal::refresh`); never
//! writes it. Events already in the journal when `watch` starts are not
//! sent again.

use std::path::Path;

use serde_json::{Value, json};

use crate::incident::{
    Journal,
    event::{Event, Kind},
};

/// New journal events, as they are appended.
pub struct Feed {
    journal: Journal,
    seen: u64,
}

impl Feed {
    /// Starts at the journal's current end; `None` (said once) when it
    /// cannot be read.
    pub fn open(data_dir: &Path) -> Option<Feed> {
        match Journal::open(data_dir) {
            Ok(journal) => {
                let seen = journal.timeline().last().map_or(0, |e| e.seq);
                Some(Feed { journal, seen })
            }
            Err(err) => {
                tracing::error!("incident events will not reach the outputs: {err}");
                None
            }
        }
    }

    /// The events appended since the last call that outputs care about,
    /// with the signatures of their incident.
    pub fn poll(&mut self) -> Vec<(Event, Vec<String>)> {
        if let Err(err) = self.journal.refresh() {
            tracing::warn!("reading the incident journal: {err}");
            return Vec::new();
        }
        let timeline = self.journal.timeline();
        let mut found = Vec::new();
        for event in timeline.events().iter().filter(|e| e.seq > self.seen) {
            if matches!(
                event.kind,
                Kind::IncidentOpened
                    | Kind::Ack
                    | Kind::Note
                    | Kind::StatusChanged
                    | Kind::SeverityChanged
            ) {
                let signatures = timeline
                    .incident(&event.incident)
                    .map(|i| i.signatures.iter().map(|s| s.id.clone()).collect())
                    .unwrap_or_default();
                found.push((event.clone(), signatures));
            }
        }
        self.seen = timeline.last().map_or(self.seen, |e| e.seq);
        found
    }
}

/// What a journal event is called in notifications.
pub fn name(event: &Event) -> String {
    match event.kind {
        Kind::IncidentOpened => "opened".to_owned(),
        Kind::Ack => "acknowledged".to_owned(),
        Kind::Note => "note".to_owned(),
        Kind::StatusChanged => event
            .detail_str("to")
            .unwrap_or("status changed")
            .to_owned(),
        Kind::SeverityChanged => "severity changed".to_owned(),
        _ => event.kind.as_str().to_owned(),
    }
}

/// Triage's webhook body for an incident event.
pub fn webhook(event: &Event) -> Value {
    json!({
        "type": "incident",
        "dedup_key": format!("triage/incident/{}/{}", event.incident, event.seq),
        "incident": event.incident,
        "event": name(event),
        "kind": event.kind.as_str(),
        "summary": event.summary,
        "actor": event.actor,
        "occurred_at": event.occurred_at.to_string(),
        "details": event.details,
        "command": format!("triage incident show {}", event.incident),
    })
}

/// A Slack message for an incident event.
pub fn slack(event: &Event) -> Value {
    let text = format!(
        "[{}] {}: {} (by {}) · `triage incident show {}`",
        event.incident,
        name(event),
        event.summary,
        event.actor,
        event.incident
    );
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    json!({
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": escaped}}],
    })
}
