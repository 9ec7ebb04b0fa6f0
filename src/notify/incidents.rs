//! The incident journal as a feed for outputs: the events appended while
//! `watch` runs (by its own recorder or by `triage incident ...` in another
//! shell) that people want to see in a channel — opened, acknowledged,
//! notes, status and severity changes.
//!
//! Reads the journal incrementally (`incident::Journal::refresh`); never
//! writes it. Where it starts is the notifier's (its incident cursor:
//! events written while no `watch` ran go out when one starts, events
//! already sent never again).

use std::path::Path;

use serde_json::{Value, json};

use crate::incident::{
    Journal, Payload,
    event::{JournalEvent, Kind},
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

    /// The sequence number of the journal's last event (0: empty).
    pub fn end(&self) -> u64 {
        self.journal.timeline().last().map_or(0, |e| e.seq)
    }

    /// The next [`Feed::poll`] returns the events after `seq`.
    pub fn start_after(&mut self, seq: u64) {
        self.seen = seq;
    }

    /// The open incident an alert of `signature` joined (the latest open
    /// one, when it lists the signature).
    pub fn incident_of(&mut self, signature: &str) -> Option<String> {
        if let Err(err) = self.journal.refresh() {
            tracing::warn!("reading the incident journal: {err}");
        }
        self.journal
            .timeline()
            .latest_open()
            .filter(|i| i.signatures.iter().any(|s| s.id == signature))
            .map(|i| i.id.clone())
    }

    /// The events appended since the last call that outputs care about,
    /// with the signatures of their incident, and the sequence number of
    /// the last event looked at.
    pub fn poll(&mut self) -> (Vec<(JournalEvent, Vec<String>)>, u64) {
        if let Err(err) = self.journal.refresh() {
            tracing::warn!("reading the incident journal: {err}");
            return (Vec::new(), self.seen);
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
        (found, self.seen)
    }
}

/// What a journal event is called in notifications.
pub fn name(event: &JournalEvent) -> String {
    match event.payload() {
        Payload::IncidentOpened(_) => "opened",
        Payload::Ack(_) => "acknowledged",
        Payload::Note(_) => "note",
        Payload::StatusChanged(change) => change.to.as_str(),
        Payload::SeverityChanged(_) => "severity changed",
        _ => event.kind.as_str(),
    }
    .to_owned()
}

/// Triage's webhook body for an incident event.
pub fn webhook(event: &JournalEvent) -> Value {
    json!({
        "type": "incident",
        "dedup_key": format!("triage/incident/{}/{}", event.incident, event.seq),
        "incident": event.incident,
        "event": name(event),
        "kind": event.kind.as_str(),
        "summary": event.summary,
        "actor": event.actor,
        "occurred_at": event.occurred_at.to_string(),
        "details": event.details(),
        "command": format!("triage incident show {}", event.incident),
    })
}

/// A Slack message for an incident event.
pub fn slack(event: &JournalEvent) -> Value {
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
