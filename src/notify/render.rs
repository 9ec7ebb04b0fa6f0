//! The request bodies, per kind of output: pure functions of an alert (or a
//! clear) and the library, so every field is unit-tested without a network.
//!
//! Schemas followed: Alertmanager's `POST /api/v2/alerts` (a list of
//! `{labels, annotations, startsAt, endsAt, generatorURL}`), PagerDuty's
//! Events API v2 (`event_action`, `dedup_key`, `payload`; the
//! `routing_key` is added at send time, never stored), Slack's incoming
//! webhooks (`text` and `blocks`), and triage's own webhook body
//! (README, "Paging people"). Log text goes out as data in JSON strings;
//! Slack's `mrkdwn` has `&`, `<` and `>` escaped.

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::{
    library::Library,
    model::{Alert, Captures, Severity},
    output::alert_json,
};

/// How many runbook steps a notification carries.
const STEPS: usize = 3;
/// Longest evidence line sent (bytes, cut at a character boundary).
const EVIDENCE: usize = 2000;

/// What one alert says, gathered once for every output.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The signature's id.
    pub signature: String,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// Its severity.
    pub severity: Severity,
    /// Where the event was read.
    pub source: String,
    /// Its line number.
    pub line_no: u64,
    /// The host the event names (syslog host, JSON `host`), if any.
    pub host: Option<String>,
    /// The evidence: the event's first line, cut.
    pub evidence: String,
    /// The alert's key.
    pub key: Captures,
    /// Everything its regexes captured.
    pub captures: Captures,
    /// When it was decided.
    pub at: Timestamp,
    /// The runbook: id, title and its first steps' titles.
    pub runbook: Option<(String, String, Vec<String>)>,
    /// Stable per signature and key.
    pub dedup_key: String,
    /// `triage watch --json`'s object for it.
    pub json: Value,
}

impl Facts {
    /// Gathers what the bodies need from an alert.
    pub fn of(alert: &Alert, library: &Library) -> Facts {
        let signature = library.signature(alert.signature);
        let runbook = signature
            .runbook
            .as_ref()
            .and_then(|(id, _)| library.runbook(id))
            .map(|runbook| {
                (
                    runbook.id.clone(),
                    runbook.title.clone(),
                    runbook
                        .steps
                        .iter()
                        .take(STEPS)
                        .map(|s| s.title.clone())
                        .collect(),
                )
            });
        let first = alert.event.text.split('\n').next().unwrap_or_default();
        Facts {
            signature: signature.id.clone(),
            title: signature.title.clone(),
            description: signature.description.trim().to_owned(),
            severity: signature.severity,
            source: alert.event.source.to_string(),
            line_no: alert.event.line_no,
            host: alert
                .event
                .fields
                .get("host")
                .or_else(|| alert.event.fields.get("hostname"))
                .map(str::to_owned),
            evidence: cut(first, EVIDENCE),
            key: alert.key.clone(),
            captures: alert.captures.clone(),
            at: alert.at,
            runbook,
            dedup_key: dedup_key(&signature.id, &alert.key),
            json: alert_json(alert, library),
        }
    }

    /// `triage search` for this alert's signature around its time.
    fn pointer(&self) -> String {
        format!("triage search 'signature:{}'", self.signature)
    }

    fn steps_text(&self) -> Option<String> {
        let (_, _, steps) = self.runbook.as_ref()?;
        Some(
            steps
                .iter()
                .enumerate()
                .map(|(i, s)| format!("{}. {s}", i + 1))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}

fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The stable key of a signature's key: `triage/<signature>[/k=v...]`,
/// hashed when longer than PagerDuty's 255 bytes allow.
pub fn dedup_key(signature: &str, key: &Captures) -> String {
    let mut text = format!("triage/{signature}");
    for (k, v) in key {
        text.push_str(&format!("/{k}={v}"));
    }
    if text.len() <= 200 {
        return text;
    }
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("triage/{}/{hex}", cut(signature, 100))
}

fn rfc3339(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A label name Alertmanager accepts (`[a-zA-Z_][a-zA-Z0-9_]*`).
fn label_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

/// Percent-encodes a URL query value.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One Alertmanager alert (an element of the list POSTed), firing until
/// `ends`.
pub fn alertmanager(facts: &Facts, ends: Timestamp) -> Value {
    let mut labels = Map::new();
    labels.insert("alertname".into(), facts.signature.clone().into());
    labels.insert("severity".into(), facts.severity.as_str().into());
    labels.insert("source".into(), facts.source.clone().into());
    if let Some(host) = &facts.host {
        labels.insert("host".into(), host.clone().into());
    }
    for (k, v) in &facts.key {
        let name = label_name(k);
        if !labels.contains_key(&name) {
            labels.insert(name, v.clone().into());
        }
    }
    let mut annotations = Map::new();
    annotations.insert("summary".into(), facts.title.clone().into());
    annotations.insert("description".into(), facts.description.clone().into());
    annotations.insert("evidence".into(), facts.evidence.clone().into());
    annotations.insert(
        "evidence_at".into(),
        format!("{}:{}", facts.source, facts.line_no).into(),
    );
    if let Some((id, title, _)) = &facts.runbook {
        annotations.insert("runbook".into(), id.clone().into());
        annotations.insert("runbook_title".into(), title.clone().into());
    }
    if let Some(steps) = facts.steps_text() {
        annotations.insert("runbook_steps".into(), steps.into());
    }
    annotations.insert("triage_command".into(), facts.pointer().into());
    json!({
        "labels": labels,
        "annotations": annotations,
        "startsAt": rfc3339(facts.at),
        "endsAt": rfc3339(ends),
        "generatorURL": format!(
            "triage://search?q={}&source={}&line={}",
            encode(&format!("signature:{}", facts.signature)),
            encode(&facts.source),
            facts.line_no
        ),
    })
}

/// The same Alertmanager alert, resolved at `at`.
pub fn alertmanager_resolved(firing: &Value, at: Timestamp) -> Value {
    let mut resolved = firing.clone();
    resolved["endsAt"] = rfc3339(at).into();
    resolved
}

fn pagerduty_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "info",
    }
}

/// A PagerDuty `trigger` (without its `routing_key`).
pub fn pagerduty_trigger(facts: &Facts) -> Value {
    let mut details = Map::new();
    details.insert("evidence".into(), facts.evidence.clone().into());
    details.insert(
        "at".into(),
        format!("{}:{}", facts.source, facts.line_no).into(),
    );
    details.insert("description".into(), facts.description.clone().into());
    details.insert("captures".into(), pairs(&facts.captures));
    if let Some((id, title, steps)) = &facts.runbook {
        details.insert("runbook".into(), id.clone().into());
        details.insert("runbook_title".into(), title.clone().into());
        details.insert("runbook_steps".into(), json!(steps));
    }
    details.insert("triage_command".into(), facts.pointer().into());
    json!({
        "event_action": "trigger",
        "dedup_key": facts.dedup_key,
        "client": "triage",
        "payload": {
            "summary": cut(&format!("[{}] {}: {}", facts.severity.as_str(), facts.title, facts.evidence), 1000),
            "source": facts.host.clone().unwrap_or_else(|| facts.source.clone()),
            "severity": pagerduty_severity(facts.severity),
            "timestamp": rfc3339(facts.at),
            "component": facts.source,
            "group": facts.runbook.as_ref().map_or_else(|| facts.signature.clone(), |(id, _, _)| id.clone()),
            "class": facts.signature,
            "custom_details": details,
        },
    })
}

/// A PagerDuty `resolve` or `acknowledge` for a dedup key.
pub fn pagerduty_action(action: &str, dedup_key: &str) -> Value {
    json!({ "event_action": action, "dedup_key": dedup_key })
}

fn pairs(captures: &Captures) -> Value {
    Value::Object(
        captures
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Escapes text for Slack's `mrkdwn`.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack message for an alert.
pub fn slack_alert(facts: &Facts) -> Value {
    let where_ = match &facts.host {
        Some(host) => format!("{host} {}:{}", facts.source, facts.line_no),
        None => format!("{}:{}", facts.source, facts.line_no),
    };
    let text = format!(
        "[{}] {} ({}) at {}",
        facts.severity.as_str().to_uppercase(),
        facts.title,
        facts.signature,
        where_
    );
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&format!("[{}] {}", facts.severity.as_str().to_uppercase(), facts.title), 150)}}),
        json!({"type": "section", "fields": [
            {"type": "mrkdwn", "text": format!("*Severity*\n{}", facts.severity.as_str())},
            {"type": "mrkdwn", "text": format!("*Signature*\n{}", slack_escape(&facts.signature))},
            {"type": "mrkdwn", "text": format!("*Host*\n{}", slack_escape(facts.host.as_deref().unwrap_or("-")))},
            {"type": "mrkdwn", "text": format!("*Source*\n{}", slack_escape(&format!("{}:{}", facts.source, facts.line_no)))},
        ]}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("```{}```", slack_escape(&cut(&facts.evidence.replace("```", "'''"), 2900)))}}),
    ];
    if let Some((id, title, _)) = &facts.runbook {
        let steps = facts.steps_text().unwrap_or_default();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*Runbook: {}* ({})\n{}", slack_escape(title), slack_escape(id), slack_escape(&steps))}}));
    }
    blocks.push(json!({"type": "context", "elements": [
        {"type": "mrkdwn", "text": format!("`triage incident show` · `{}`", slack_escape(&facts.pointer()))},
    ]}));
    json!({ "text": text, "blocks": blocks })
}

/// A Slack message for a clear.
pub fn slack_cleared(signature: &str, title: &str, key: &Captures, at: Timestamp) -> Value {
    let key_text = if key.is_empty() {
        String::new()
    } else {
        format!(
            " ({})",
            key.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let text = format!("[RESOLVED] {title} ({signature}){key_text}: quiet since {at}");
    json!({
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(&text)}}],
    })
}

/// Triage's webhook body for an alert: the `--json` alert object, the
/// open incident it joined (`null` when none), the runbook.
pub fn webhook_alert(facts: &Facts, incident: Option<&str>) -> Value {
    json!({
        "type": "alert",
        "dedup_key": facts.dedup_key,
        "alert": facts.json,
        "incident": incident,
        "runbook": facts.runbook.as_ref().map(|(id, title, steps)| json!({"id": id, "title": title, "steps": steps})),
        "command": facts.pointer(),
    })
}

/// Triage's webhook body for a clear: the signature, its key, its last
/// hit, the open incident it is in (`null` when none).
pub fn webhook_cleared(
    signature: &str,
    title: &str,
    key: &Captures,
    last_hit_ms: i64,
    incident: Option<&str>,
) -> Value {
    json!({
        "type": "cleared",
        "dedup_key": dedup_key(signature, key),
        "signature": signature,
        "title": title,
        "key": pairs(key),
        "incident": incident,
        "last_hit": Timestamp::from_millisecond(last_hit_ms).ok().map(rfc3339),
    })
}

/// A clearly marked test notification for an output kind.
pub fn test_body(kind: super::config::Kind, now: Timestamp) -> Value {
    use super::config::Kind;
    let text = "[TEST] triage test notification: this output is configured and reachable; nothing is wrong";
    match kind {
        Kind::Alertmanager => json!([{
            "labels": {"alertname": "TriageTest", "severity": "info", "test": "true"},
            "annotations": {"summary": text},
            "startsAt": rfc3339(now),
            "endsAt": rfc3339(now + jiff::SignedDuration::from_mins(1)),
            "generatorURL": "triage://outputs/test",
        }]),
        Kind::Pagerduty => json!({
            "event_action": "trigger",
            "dedup_key": "triage/test",
            "client": "triage",
            "payload": {
                "summary": text,
                "source": "triage",
                "severity": "info",
                "timestamp": rfc3339(now),
                "class": "test",
            },
        }),
        Kind::Slack => json!({"text": text}),
        Kind::Webhook => {
            json!({"type": "test", "dedup_key": "triage/test", "text": text, "at": rfc3339(now)})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_keys_are_stable_and_short() {
        let key = vec![("db".to_owned(), "main".to_owned())];
        assert_eq!(dedup_key("pg-down", &key), "triage/pg-down/db=main");
        assert_eq!(dedup_key("pg-down", &Vec::new()), "triage/pg-down");
        let long = vec![("x".to_owned(), "y".repeat(400))];
        let hashed = dedup_key("pg-down", &long);
        assert!(hashed.len() < 255 && hashed.starts_with("triage/pg-down/"));
        assert_eq!(hashed, dedup_key("pg-down", &long));
    }

    #[test]
    fn label_names_and_escapes() {
        assert_eq!(label_name("db.name"), "db_name");
        assert_eq!(label_name("1x"), "_1x");
        assert_eq!(slack_escape("a<b>&c"), "a&lt;b&gt;&amp;c");
        assert_eq!(encode("signature:a b/é"), "signature%3Aa%20b%2F%C3%A9");
        assert_eq!(cut("ééé", 3), "é…");
    }
}
