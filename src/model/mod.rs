//! Plain data that flows between the stages: raw lines, events, alerts and
//! what clears them, file identities and a checkpoint's positions
//! (`checkpoint`), severities, levels and durations.
//!
//! This module depends on nothing else in the crate; every stage depends on
//! it, never on each other. Types here carry data only: no I/O, no clocks.

use std::{fmt, str::FromStr, sync::Arc, time::Duration};

pub mod checkpoint;

use jiff::Timestamp;
use serde::Serialize;

/// Device and inode: where a file lives, whatever its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKey {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
}

impl FileKey {
    /// The key of a file from its metadata.
    pub fn of(meta: &std::fs::Metadata) -> FileKey {
        use std::os::unix::fs::MetadataExt;
        FileKey {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// A signature's place in the loaded library: what alerts carry, instead of
/// a reference into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignatureId(pub usize);

/// Named captures of a signature's regexes, in the order they were found.
pub type Captures = Vec<(String, String)>;

/// A signature firing on an event, after thresholds and suppression.
#[derive(Debug, Clone)]
pub struct Alert {
    /// Which signature.
    pub signature: SignatureId,
    /// The event that made it fire.
    pub event: Event,
    /// What its regexes captured.
    pub captures: Captures,
    /// Hits that made this alert (the threshold's count, or 1).
    pub hits: u64,
    /// Hits suppressed for this key since its previous alert.
    pub suppressed: u64,
    /// The key's `(capture, value)` pairs (suppression key, else group).
    pub key: Captures,
    /// The event's time: its own, else the nearest earlier timed line's of
    /// its source; `None`: it has no time (never shown as one).
    pub time: Option<Timestamp>,
    /// The time the alert was decided at: [`Alert::time`], else the
    /// pipeline's clock when the event was read (what windows and
    /// thresholds count on; the time the alert fired, not the event's).
    pub at: Timestamp,
}

/// When an event happened, as far as its source says, and the time
/// detection counted it at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// The event's time: its own, else the nearest earlier timed line's of
    /// its source; `None`: it has no time, and is indexed, searched and
    /// shown as having none.
    pub time: Option<Timestamp>,
    /// The time detection used: `time`, else the pipeline's clock when the
    /// event was read. Suppression windows, thresholds and clearing need a
    /// clock; this is never the event's time where people read it.
    pub at: Timestamp,
}

/// A signature (one key of it) quiet for its `clear_after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleared {
    /// Which signature.
    pub signature: SignatureId,
    /// The key that went quiet.
    pub key: Captures,
    /// When it was last seen (milliseconds since the Unix epoch).
    pub last_hit_ms: i64,
}

/// One physical line as read from a source, before any parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    /// Byte offset of the line's first byte in the (decompressed) stream.
    pub offset: u64,
    /// 1-based line number in the stream.
    pub line_no: u64,
    /// The line without its terminator, at most the configured cap.
    pub bytes: Vec<u8>,
    /// The line was longer than the cap; `bytes` holds its first part.
    pub truncated: bool,
    /// The stream ended before a line terminator arrived.
    pub partial: bool,
}

/// One log event: a line with what parsing found in it.
#[derive(Debug, Clone)]
pub struct Event {
    /// Where the event was read from (a path, or `-` for stdin).
    pub source: Arc<str>,
    /// Byte offset of the event's first byte.
    pub offset: u64,
    /// 1-based line number of the event's first line.
    pub line_no: u64,
    /// The timestamp written at the start of the line, in UTC.
    pub ts: Option<Timestamp>,
    /// The level written near the start of the line.
    pub level: Option<Level>,
    /// Byte offset in `text` where the message starts: after the prefix
    /// the logger, the CI runner or the container runtime wrote before it
    /// (time, level, host, program and pid, thread, logger name; GitHub
    /// Actions' `2021-12-01T13:01:04.3807878Z ` and its downloaded
    /// `job<TAB>step<TAB>` form; a Kubernetes CRI `time stream tag `, then
    /// the container's own prefix). `text[message..]` is the message, then
    /// the event's other lines. `0` when the line has no prefix the parser
    /// knows, and for formats whose message is a field (JSON, logfmt, access
    /// and PostgreSQL CSV lines). Always a char boundary, at most
    /// `text.len()`.
    pub message: usize,
    /// The text, converted to UTF-8 (invalid bytes replaced by U+FFFD),
    /// without ANSI colour (SGR) sequences and without a leading byte order
    /// mark.
    pub text: String,
    /// The bytes were not valid UTF-8.
    pub lossy: bool,
    /// The line was cut at the line length cap.
    pub truncated: bool,
    /// The line had no newline when it was read (end of input, or emitted
    /// after an idle time or at shutdown).
    pub partial: bool,
    /// Key/values the format carries (JSON and logfmt keys, nested JSON
    /// flattened with dots; syslog `host`, `program`, `pid`; access log
    /// `method`, `path`, `status`, ...), in the order they were read.
    pub fields: Fields,
    /// How many physical lines the event spans (1 for a single line).
    pub lines: u32,
}

/// Key/value fields of an event, in the order they were read; the first
/// of repeated keys wins. One word in an event (most lines have none);
/// every key and value in one string, each field's key end and value end
/// kept beside it: a few allocations an event however many fields it has
/// (parsing pushes some on every line), looked up by a linear scan.
#[derive(Debug, Clone, Default)]
pub struct Fields(Option<Box<FieldText>>);

impl Event {
    /// The message: the text from [`Event::message`] on.
    pub fn message_text(&self) -> &str {
        self.text.get(self.message..).unwrap_or(&self.text)
    }
}

/// The fields of [`Fields`] that has any.
#[derive(Debug, Clone)]
struct FieldText {
    /// The keys and values, one after the other.
    text: String,
    /// Per field, where its key ends and where its value ends in `text`
    /// (its key starts where the field before it ends).
    ends: Vec<(u32, u32)>,
}

impl Fields {
    /// No fields.
    pub fn new() -> Fields {
        Fields(None)
    }

    /// No fields yet, room for `bytes` of keys and values (at most the
    /// length of the line they are cut from: one allocation for all).
    pub fn with_capacity(bytes: usize) -> Fields {
        Fields(Some(Box::new(FieldText {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(4),
        })))
    }

    /// Adds a field at the end. A field that would take the fields' text
    /// past 4 GiB is not kept (no line is that long).
    pub fn push(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) {
        let (key, value) = (key.as_ref(), value.as_ref());
        let fields = self.0.get_or_insert_with(|| {
            Box::new(FieldText {
                text: String::with_capacity(64.max(key.len() + value.len())),
                ends: Vec::with_capacity(4),
            })
        });
        let key_end = fields.text.len() + key.len();
        let (Ok(key_end), Ok(value_end)) =
            (u32::try_from(key_end), u32::try_from(key_end + value.len()))
        else {
            return;
        };
        fields.text.push_str(key);
        fields.text.push_str(value);
        fields.ends.push((key_end, value_end));
    }

    /// The value of the first field named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|&(k, _)| k == key).map(|(_, v)| v)
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let (text, ends) = match &self.0 {
            Some(fields) => (fields.text.as_str(), fields.ends.as_slice()),
            None => ("", &[][..]),
        };
        let mut start = 0;
        ends.iter().map(move |&(key_end, value_end)| {
            let (key_end, value_end) = (key_end as usize, value_end as usize);
            let field = (&text[start..key_end], &text[key_end..value_end]);
            start = value_end;
            field
        })
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |fields| fields.ends.len())
    }

    /// There are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Equal when the same fields are in the same order (room reserved is not
/// compared).
impl PartialEq for Fields {
    fn eq(&self, other: &Fields) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Fields {}

impl Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// How bad a signature's failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, not a problem.
    Info,
    /// An early warning.
    Low,
    /// Degraded, not yet an outage.
    Medium,
    /// An outage or about to become one; opens an incident.
    High,
    /// Data loss or a full outage.
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Severity::ALL
            .into_iter()
            .find(|severity| severity.as_str() == s)
            .ok_or(())
    }
}

/// The level a log line declares, least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// TRACE.
    Trace,
    /// DEBUG (and PostgreSQL's DEBUG1..5).
    Debug,
    /// INFO, and PostgreSQL's LOG.
    Info,
    /// NOTICE.
    Notice,
    /// WARN, WARNING.
    Warn,
    /// ERROR, ERR.
    Error,
    /// CRITICAL, CRIT, ALERT.
    Critical,
    /// FATAL, PANIC, EMERG.
    Fatal,
}

impl Level {
    /// Every level, least severe first.
    pub const ALL: [Level; 8] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Notice,
        Level::Warn,
        Level::Error,
        Level::Critical,
        Level::Fatal,
    ];

    /// The name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Notice => "notice",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Critical => "critical",
            Level::Fatal => "fatal",
        }
    }

    /// Reads a level word as log lines write it (`WARNING`, `err`, `LOG`, ...).
    pub fn from_word(word: &str) -> Option<Level> {
        let level = match word.to_ascii_uppercase().as_str() {
            "TRACE" | "TRC" => Level::Trace,
            "DEBUG" | "DBG" | "DEBUG1" | "DEBUG2" | "DEBUG3" | "DEBUG4" | "DEBUG5" => Level::Debug,
            "INFO" | "INF" | "LOG" => Level::Info,
            "NOTICE" => Level::Notice,
            "WARN" | "WARNING" | "WRN" => Level::Warn,
            "ERROR" | "ERR" => Level::Error,
            "CRITICAL" | "CRIT" | "ALERT" => Level::Critical,
            "FATAL" | "PANIC" | "EMERG" => Level::Fatal,
            _ => return None,
        };
        Some(level)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Parses a duration written as an integer and a unit: `500ms`, `30s`, `2m`,
/// `1h`, `7d`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let millis_per_unit = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    number
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86400)));
        assert_eq!(parse_duration("2"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("2 m"), None);
        assert_eq!(parse_duration("99999999999999999999d"), None);
    }

    #[test]
    fn level_words_map_to_levels() {
        assert_eq!(Level::from_word("WARNING"), Some(Level::Warn));
        assert_eq!(Level::from_word("err"), Some(Level::Error));
        assert_eq!(Level::from_word("LOG"), Some(Level::Info));
        assert_eq!(Level::from_word("PANIC"), Some(Level::Fatal));
        assert_eq!(Level::from_word("hello"), None);
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert_eq!("medium".parse(), Ok(Severity::Medium));
        assert_eq!("urgent".parse::<Severity>(), Err(()));
    }
}
