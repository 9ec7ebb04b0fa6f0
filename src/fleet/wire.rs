//! The messages agents publish and the collector reads: JSON, one per
//! event (`<prefix>.<host>.events`) and one per alert or clear
//! (`<prefix>.<host>.alerts`), and their `Nats-Msg-Id`s.
//!
//! Pure: serde types and conversions from and to `model`. A message id is
//! the host, the file's identity (device and inode) and the event's byte
//! offset, so the same line read again after a crash has the same id and
//! the stream drops the copy.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{Alert, Captures, Cleared, Event, FileKey, Level, Timing};

/// Event text longer than this is cut in a message (and marked truncated):
/// a message stays under the server's default 1 MiB payload limit.
pub const MAX_TEXT: usize = 256 * 1024;

/// One event as read on an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventMsg {
    /// The agent's host name.
    pub host: String,
    /// The path it was read from, on that host.
    pub source: String,
    /// The file's device number.
    pub dev: u64,
    /// The file's inode.
    pub ino: u64,
    /// Byte offset of the event's first byte.
    pub offset: u64,
    /// 1-based line number of its first line.
    pub line_no: u64,
    /// Physical lines it spans.
    pub lines: u32,
    /// Its own timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<Timestamp>,
    /// Its time: its own, else the nearest earlier timed line's of its
    /// file (none: it has no time, and is indexed without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
    /// The time detection used for it (`time`, else the agent's clock when
    /// it was read).
    pub at: Timestamp,
    /// Its level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// The text.
    pub text: String,
    /// Where the message starts in the text (after the line's prefix).
    #[serde(default)]
    pub message: usize,
    /// Bytes were not UTF-8.
    #[serde(default)]
    pub lossy: bool,
    /// Cut at the line cap (or at [`MAX_TEXT`]).
    #[serde(default)]
    pub truncated: bool,
    /// Without its newline.
    #[serde(default)]
    pub partial: bool,
    /// Parsed fields, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
    /// Signatures it matched (alerting or not).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<String>,
}

impl EventMsg {
    /// The message of `event`, read from the file `key` on `host`.
    pub fn of(
        host: &str,
        key: FileKey,
        event: &Event,
        when: Timing,
        signatures: Vec<String>,
    ) -> EventMsg {
        let mut text = event.text.clone();
        let mut truncated = event.truncated;
        if text.len() > MAX_TEXT {
            let mut cut = MAX_TEXT;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            truncated = true;
        }
        EventMsg {
            host: host.to_owned(),
            source: event.source.to_string(),
            dev: key.dev,
            ino: key.ino,
            offset: event.offset,
            line_no: event.line_no,
            lines: event.lines,
            ts: event.ts,
            time: when.time,
            at: when.at,
            level: event.level.map(|l| l.as_str().to_owned()),
            message: event.message.min(text.len()),
            text,
            lossy: event.lossy,
            truncated,
            partial: event.partial,
            fields: event
                .fields
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            signatures,
        }
    }

    /// The event (its source is the path on its host).
    pub fn event(&self) -> Event {
        let mut fields = crate::model::Fields::new();
        for (k, v) in &self.fields {
            fields.push(k.clone(), v.clone());
        }
        Event {
            source: self.source.as_str().into(),
            offset: self.offset,
            line_no: self.line_no,
            ts: self.ts,
            level: self.level.as_deref().and_then(Level::from_word),
            text: self.text.clone(),
            message: self.message.min(self.text.len()),
            lossy: self.lossy,
            truncated: self.truncated,
            partial: self.partial,
            fields,
            lines: self.lines,
        }
    }

    /// Its `Nats-Msg-Id`.
    pub fn id(&self) -> String {
        event_id(
            &self.host,
            FileKey {
                dev: self.dev,
                ino: self.ino,
            },
            self.offset,
        )
    }
}

/// The id of the event at `offset` of file `key` on `host`.
pub fn event_id(host: &str, key: FileKey, offset: u64) -> String {
    format!("{host}/{}:{}/{offset}", key.dev, key.ino)
}

/// An alert or a clear, as an agent's engine decided it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertMsg {
    /// A signature fired.
    Alert {
        /// The agent's host name.
        host: String,
        /// The signature's id.
        signature: String,
        /// The event that made it fire.
        event: Box<EventMsg>,
        /// What its regexes captured.
        captures: Captures,
        /// Hits that made it.
        hits: u64,
        /// Hits suppressed since the key's previous alert.
        suppressed: u64,
        /// The key's pairs.
        key: Captures,
        /// When it was decided.
        at: Timestamp,
    },
    /// A signature's key went quiet.
    Cleared {
        /// The agent's host name.
        host: String,
        /// The signature's id.
        signature: String,
        /// The key that went quiet.
        key: Captures,
        /// When it was last seen (ms since the epoch).
        last_hit_ms: i64,
    },
}

impl AlertMsg {
    /// The message of `found`, whose event was read from file `key`.
    pub fn alert(host: &str, signature: &str, key: FileKey, found: &Alert) -> AlertMsg {
        AlertMsg::Alert {
            host: host.to_owned(),
            signature: signature.to_owned(),
            event: Box::new(EventMsg::of(
                host,
                key,
                &found.event,
                Timing {
                    time: found.time,
                    at: found.at,
                },
                vec![signature.to_owned()],
            )),
            captures: found.captures.clone(),
            hits: found.hits,
            suppressed: found.suppressed,
            key: found.key.clone(),
            at: found.at,
        }
    }

    /// The message of `cleared`.
    pub fn cleared(host: &str, signature: &str, cleared: &Cleared) -> AlertMsg {
        AlertMsg::Cleared {
            host: host.to_owned(),
            signature: signature.to_owned(),
            key: cleared.key.clone(),
            last_hit_ms: cleared.last_hit_ms,
        }
    }

    /// The host it came from.
    pub fn host(&self) -> &str {
        match self {
            AlertMsg::Alert { host, .. } | AlertMsg::Cleared { host, .. } => host,
        }
    }

    /// Its `Nats-Msg-Id`: an alert by its signature and the event that
    /// fired it, a clear by its signature, key and last hit.
    pub fn id(&self) -> String {
        match self {
            AlertMsg::Alert {
                host,
                signature,
                event,
                ..
            } => format!(
                "{host}/alert/{signature}/{}:{}/{}",
                event.dev, event.ino, event.offset
            ),
            AlertMsg::Cleared {
                host,
                signature,
                key,
                last_hit_ms,
            } => format!(
                "{host}/clear/{signature}/{}/{last_hit_ms}",
                crate::incident::recorder::key_text(key)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        let mut fields = crate::model::Fields::new();
        fields.push("status", "504");
        Event {
            source: "/var/log/app.log".into(),
            offset: 120,
            line_no: 7,
            ts: Some("2026-12-05T06:00:00Z".parse().expect("time")),
            level: Some(Level::Error),
            text: "upstream timed out".into(),
            message: 0,
            lossy: false,
            truncated: false,
            partial: false,
            fields,
            lines: 1,
        }
    }

    #[test]
    fn an_event_goes_through_a_message_unchanged() {
        let key = FileKey { dev: 3, ino: 99 };
        let at = "2026-12-05T06:00:01Z".parse().expect("time");
        let when = Timing {
            time: event().ts,
            at,
        };
        let msg = EventMsg::of("web-1", key, &event(), when, vec!["nginx-504".into()]);
        let json = serde_json::to_vec(&msg).expect("json");
        let back: EventMsg = serde_json::from_slice(&json).expect("parse");
        assert_eq!(back, msg);
        assert_eq!(format!("{:?}", back.event()), format!("{:?}", event()));
        assert_eq!(back.id(), "web-1/3:99/120");
    }

    #[test]
    fn a_long_text_is_cut_at_a_character() {
        let mut long = event();
        long.text = "é".repeat(MAX_TEXT);
        let when = Timing {
            time: None,
            at: Timestamp::UNIX_EPOCH,
        };
        let msg = EventMsg::of("h", FileKey { dev: 1, ino: 1 }, &long, when, Vec::new());
        assert!(msg.text.len() <= MAX_TEXT && msg.truncated);
    }

    #[test]
    fn alerts_and_clears_have_stable_ids() {
        let cleared = Cleared {
            signature: crate::model::SignatureId(0),
            key: vec![("db".into(), "main".into())],
            last_hit_ms: 5,
        };
        let msg = AlertMsg::cleared("db-1", "pg-down", &cleared);
        let json = serde_json::to_string(&msg).expect("json");
        assert!(json.contains("\"kind\":\"cleared\""));
        let back: AlertMsg = serde_json::from_str(&json).expect("parse");
        assert_eq!(back.id(), msg.id());
        assert_eq!(back.host(), "db-1");
    }
}
