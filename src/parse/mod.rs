//! Turns raw lines into events: timestamp, level, fields, text; and joins
//! the lines of one multi-line event ([`Assembler`]).
//!
//! Owns: everything between a [`RawLine`] and an [`Event`]: the format of a
//! file ([`Format`], detected or named), timestamps ([`timestamp`]), levels,
//! fields ([`fields`]) and multi-line events ([`multiline`]). Must not: open
//! files, spawn threads or read a clock (the present is passed in through
//! [`TimeContext`] and to the assembler's calls). Invariants: never panics on
//! any input; an event keeps the offset and line number of its first line;
//! times are in UTC.

pub mod fields;
pub mod format;
pub mod multiline;
#[cfg(test)]
mod real_data;
pub mod source;
pub mod template;
pub mod timestamp;

use std::sync::{Arc, LazyLock};

pub use format::{Format, UnknownFormat};
pub use multiline::{Assembler, Limits, Multiline};
pub use source::{Profile, Settings, SourceReader};
pub use timestamp::TimeContext;

use jiff::Timestamp;
use regex::Regex;

use crate::model::{Event, Fields, Level, RawLine};

/// How many leading words may hold the level (after the timestamp).
const LEVEL_WORDS: usize = 6;

/// JSON keys that may hold an event's time, most specific first.
const TIME_KEYS: [&str; 12] = [
    "timestamp",
    "@timestamp",
    "time",
    "ts",
    "t",
    "datetime",
    "date",
    "log_time",
    "record.log_time",
    "asctime",
    "eventTime",
    "receiveTimestamp",
];

/// Keys that may hold an event's level, JSON and logfmt.
const LEVEL_KEYS: [&str; 10] = [
    "level",
    "severity",
    "lvl",
    "loglevel",
    "log.level",
    "levelname",
    "error_severity",
    "record.error_severity",
    "@l",
    "level_name",
];

/// Reads events from one source's raw lines.
#[derive(Debug, Clone)]
pub struct Parser {
    source: Arc<str>,
    time: TimeContext,
    format: Format,
}

impl Parser {
    /// A parser for lines from `source` with the generic rules
    /// ([`Format::Plain`]: a leading timestamp and a level word).
    pub fn new(source: Arc<str>, time: TimeContext) -> Parser {
        Parser::with_format(source, time, Format::Plain)
    }

    /// A parser for lines from `source` written in `format` (detected with
    /// [`Format::detect`] or named in the configuration).
    pub fn with_format(source: Arc<str>, time: TimeContext, format: Format) -> Parser {
        Parser {
            source,
            time,
            format,
        }
    }

    /// Reads syslog timestamps (no year) as not later than `now` from now
    /// on (a long-running reader moves its present along).
    pub fn set_now(&mut self, now: Timestamp) {
        self.time.now = now;
    }

    /// The format this parser reads.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The source lines come from.
    pub fn source(&self) -> &Arc<str> {
        &self.source
    }

    /// The event a raw line holds (one physical line: `lines` is 1).
    pub fn event(&self, raw: RawLine) -> Event {
        let (text, lossy) = match String::from_utf8(raw.bytes) {
            Ok(text) => (text, false),
            Err(err) => (String::from_utf8_lossy(err.as_bytes()).into_owned(), true),
        };
        let (ts, level, fields) = self.read(&text);
        Event {
            source: Arc::clone(&self.source),
            offset: raw.offset,
            line_no: raw.line_no,
            ts,
            level,
            text,
            lossy,
            truncated: raw.truncated,
            partial: raw.partial,
            fields,
            lines: 1,
        }
    }

    /// Time, level and fields of a line (or of a whole record, for formats
    /// whose records span lines).
    pub fn read(&self, text: &str) -> (Option<Timestamp>, Option<Level>, Fields) {
        let ctx = &self.time;
        match self.format {
            Format::Json | Format::DockerJson | Format::PostgresJson => {
                let Some(fields) = fields::json(text) else {
                    return (timestamp::leading(text, ctx), level(text), Fields::new());
                };
                let ts = TIME_KEYS.iter().find_map(|key| {
                    let value = fields.get(key)?;
                    // A float went through f64: read its digits as written.
                    let value = match value.contains('.') && !value.contains(['-', ':']) {
                        true => raw_number(text, key).unwrap_or(value),
                        false => value,
                    };
                    timestamp::from_value(value, ctx)
                });
                let level = LEVEL_KEYS
                    .iter()
                    .find_map(|key| level_value(fields.get(key)?))
                    .or_else(|| fields.get("log").and_then(level))
                    .or_else(|| fields.get("textPayload").and_then(postgres_level));
                (ts, level, fields)
            }
            Format::Logfmt => {
                let fields = fields::logfmt(text);
                let ts = ["ts", "time", "timestamp", "t", "date"]
                    .iter()
                    .find_map(|key| timestamp::from_value(fields.get(key)?, ctx))
                    .or_else(|| timestamp::leading(text, ctx));
                let level = LEVEL_KEYS
                    .iter()
                    .find_map(|key| level_value(fields.get(key)?))
                    .or_else(|| level(text));
                (ts, level, fields)
            }
            Format::Syslog | Format::Syslog5424 => {
                let fields = fields::syslog(text);
                let level = level(text).or_else(|| postgres_level(text));
                (timestamp::leading(text, ctx), level, fields)
            }
            Format::Access => {
                let fields = fields::access(text);
                let level = fields.get("status").and_then(status_level);
                (timestamp::leading(text, ctx), level, fields)
            }
            Format::Cri => {
                let mut fields = Fields::new();
                let mut parts = text.splitn(4, ' ');
                let (_, stream, tag, message) =
                    (parts.next(), parts.next(), parts.next(), parts.next());
                if let (Some(stream), Some(tag)) = (stream, tag) {
                    fields.push("stream", stream);
                    fields.push("tag", tag);
                }
                let level = message.and_then(level);
                (timestamp::leading(text, ctx), level, fields)
            }
            Format::PostgresCsv => {
                let fields = fields::postgres_csv(text);
                let level = fields.get("error_severity").and_then(level_value);
                (timestamp::leading(text, ctx), level, fields)
            }
            Format::Postgres => {
                let fields = fields::postgres(text);
                let level = postgres_level(text).or_else(|| level(text));
                (timestamp::leading(text, ctx), level, fields)
            }
            Format::Python => {
                // `basicConfig`'s `LEVEL:logger:message` has no space.
                let level = level(text).or_else(|| level_value(text.split(':').next()?));
                (timestamp::leading(text, ctx), level, Fields::new())
            }
            Format::Tracing => {
                // zap's console encoder writes the level in lower case
                // between tabs.
                let level = level(text).or_else(|| level_value(text.split('\t').nth(1)?));
                (timestamp::leading(text, ctx), level, Fields::new())
            }
            Format::ApacheError => {
                // `[Sat Nov 21 ...] [core:error] ...`: the level after the module.
                let level = text
                    .split('[')
                    .nth(2)
                    .and_then(|tag| tag.split(']').next())
                    .and_then(|tag| level_value(tag.rsplit(':').next()?))
                    .or_else(|| level(text));
                (timestamp::leading(text, ctx), level, Fields::new())
            }
            Format::NginxError | Format::Log4j | Format::Plain => {
                (timestamp::leading(text, ctx), level(text), Fields::new())
            }
        }
    }
}

/// The number literal after `"key":` in a JSON line, as written (a float
/// parsed into an `f64` keeps only about 16 digits: too few for an epoch
/// with nanoseconds).
fn raw_number<'t>(line: &'t str, key: &str) -> Option<&'t str> {
    let quoted = format!("\"{key}\"");
    let at = line.find(&quoted)? + quoted.len();
    let rest = line[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|n| !n.is_empty())
}

/// A level written as a field's value: a word (`warn`, `Warning`, `ERROR`)
/// or a pino/bunyan number (10 trace ... 60 fatal).
pub fn level_value(value: &str) -> Option<Level> {
    let value = value.trim();
    if let Ok(number) = value.parse::<u16>() {
        return match number {
            10 => Some(Level::Trace),
            20 => Some(Level::Debug),
            30 => Some(Level::Info),
            40 => Some(Level::Warn),
            50 => Some(Level::Error),
            60 => Some(Level::Fatal),
            _ => None,
        };
    }
    match value.to_ascii_uppercase().as_str() {
        "DEFAULT" => None,
        "DPANIC" | "EMERGENCY" => Some(Level::Fatal),
        "INFORMATION" | "INFORMATIONAL" => Some(Level::Info),
        "VERBOSE" | "FINE" | "FINER" | "FINEST" => Some(Level::Debug),
        "SEVERE" => Some(Level::Error),
        _ => Level::from_word(value),
    }
}

/// The level of an access log line from its status: 5xx error, 4xx warn,
/// anything else info.
pub fn status_level(status: &str) -> Option<Level> {
    match status.as_bytes().first()? {
        b'5' => Some(Level::Error),
        b'4' => Some(Level::Warn),
        b'1'..=b'3' => Some(Level::Info),
        _ => None,
    }
}

/// A PostgreSQL severity word followed by a colon, in the prefix.
static POSTGRES_SEVERITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[\s:\]])(DEBUG[1-5]|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION):\s",
    )
    .expect("valid regex")
});

/// The severity word of a PostgreSQL line (`LOG:`, `ERROR:`, `DETAIL:`),
/// as written, within the first 300 bytes.
pub fn postgres_severity(text: &str) -> Option<&str> {
    let head = &text[..floor_boundary(text, 300)];
    POSTGRES_SEVERITY
        .captures(head)
        .and_then(|caps| caps.get(1))
        .map(|m| m.as_str())
}

fn postgres_level(text: &str) -> Option<Level> {
    postgres_severity(text).and_then(Level::from_word)
}

/// The level a line declares near its start: an upper-case level word
/// (`ERROR`, `FATAL:`) or one in brackets in any case (`[error]`), within the
/// first few words.
///
/// A syslog `<PRI>` at the start gives the level by its severity
/// (`<11>`: err), and klog's letter (`E1121 03:12:09...`) likewise.
pub fn level(text: &str) -> Option<Level> {
    if let Some(level) = priority_level(text).or_else(|| klog_level(text)) {
        return Some(level);
    }
    let head = &text[..floor_boundary(text, 160)];
    head.split([' ', '\t'])
        .filter(|word| !word.is_empty())
        .take(LEVEL_WORDS + 4)
        .find_map(|word| {
            let bracketed = word.starts_with(['[', '<', '(']);
            let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            let upper = word
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if bracketed || upper {
                Level::from_word(word)
            } else {
                None
            }
        })
}

/// The level of a syslog `<PRI>`: its severity is `PRI % 8`.
fn priority_level(text: &str) -> Option<Level> {
    let rest = text.strip_prefix('<')?;
    let close = rest.find('>').filter(|&i| (1..=3).contains(&i))?;
    let pri: u16 = rest[..close].parse().ok()?;
    Some(match pri % 8 {
        0 => Level::Fatal,
        1 | 2 => Level::Critical,
        3 => Level::Error,
        4 => Level::Warn,
        5 => Level::Notice,
        6 => Level::Info,
        _ => Level::Debug,
    })
}

/// klog's level letter: `I1121 03:12:09.114567`.
fn klog_level(text: &str) -> Option<Level> {
    let bytes = text.as_bytes();
    let shape = bytes.len() > 8
        && bytes[1..5].iter().all(u8::is_ascii_digit)
        && bytes[5] == b' '
        && bytes[6..8].iter().all(u8::is_ascii_digit)
        && bytes[8] == b':';
    if !shape {
        return None;
    }
    match bytes[0] {
        b'I' => Some(Level::Info),
        b'W' => Some(Level::Warn),
        b'E' => Some(Level::Error),
        b'F' => Some(Level::Fatal),
        _ => None,
    }
}

pub(crate) fn floor_boundary(text: &str, max: usize) -> usize {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;
    use proptest::prelude::*;

    #[test]
    fn level_words_near_the_start() {
        assert_eq!(
            level("2026-11-21 03:12:09,114 ERROR [main] x"),
            Some(Level::Error)
        );
        assert_eq!(
            level("2026-11-21 03:04:10.123 UTC [4242] FATAL:  sorry"),
            Some(Level::Fatal)
        );
        assert_eq!(
            level("2026/11/21 03:05:12 [error] 31#31: upstream"),
            Some(Level::Error)
        );
        assert_eq!(
            level("2026-11-21 03:04:10 UTC [1] LOG:  checkpoint"),
            Some(Level::Info)
        );
        assert_eq!(
            level("2026-11-21T03:00:00Z WARN pool at 90%"),
            Some(Level::Warn)
        );
        assert_eq!(level("the error handling code ran"), None);
        assert_eq!(level("Nov 21 03:14:02 web-1 kernel: Out of memory"), None);
    }

    #[test]
    fn event_keeps_position_and_flags_invalid_utf8() {
        let ctx = TimeContext::new(TimeZone::UTC, Timestamp::UNIX_EPOCH);
        let parser = Parser::new(Arc::from("a.log"), ctx);
        let event = parser.event(RawLine {
            offset: 10,
            line_no: 2,
            bytes: b"2026-11-21T00:00:00Z ERROR \xff\x00x".to_vec(),
            truncated: false,
            partial: false,
        });
        assert_eq!((event.offset, event.line_no), (10, 2));
        assert!(event.lossy);
        assert_eq!(event.level, Some(Level::Error));
        assert_eq!(
            event.ts.map(|t| t.to_string()).as_deref(),
            Some("2026-11-21T00:00:00Z")
        );
        assert!(event.text.ends_with("\u{fffd}\0x"));
    }

    fn read(format: Format, line: &str) -> (Option<String>, Option<Level>, Fields) {
        let ctx = TimeContext::new(TimeZone::UTC, "2026-11-21T12:00:00Z".parse().expect("ts"));
        let parser = Parser::with_format(Arc::from("t"), ctx, format);
        let (ts, level, fields) = parser.read(line);
        (ts.map(|t| t.to_string()), level, fields)
    }

    #[test]
    fn each_format_gives_time_level_and_fields() {
        let (ts, lvl, fields) = read(
            Format::Json,
            r#"{"time":"2026-11-21T03:00:00Z","level":"warn","http":{"status":503}}"#,
        );
        assert_eq!(ts.as_deref(), Some("2026-11-21T03:00:00Z"));
        assert_eq!(lvl, Some(Level::Warn));
        assert_eq!(fields.get("http.status"), Some("503"));
        let (ts, lvl, _) = read(Format::Json, r#"{"ts":1669575482096,"level":50}"#);
        assert_eq!(ts.as_deref(), Some("2022-11-27T18:58:02.096Z"));
        assert_eq!(lvl, Some(Level::Error));
        let (ts, lvl, fields) = read(
            Format::DockerJson,
            r#"{"log":"ERROR boom\n","stream":"stderr","time":"2026-11-21T03:00:00.5Z"}"#,
        );
        assert_eq!(ts.as_deref(), Some("2026-11-21T03:00:00.5Z"));
        assert_eq!(lvl, Some(Level::Error));
        assert_eq!(fields.get("stream"), Some("stderr"));
        let (ts, lvl, fields) = read(
            Format::Logfmt,
            r#"ts=1669575482.5 level=error msg="pool exhausted" pool=main"#,
        );
        assert_eq!(ts.as_deref(), Some("2022-11-27T18:58:02.5Z"));
        assert_eq!(lvl, Some(Level::Error));
        assert_eq!(fields.get("pool"), Some("main"));
        let (_, lvl, fields) = read(Format::Syslog, "<11>Nov 21 03:14:02 web-1 app[42]: failed");
        assert_eq!(lvl, Some(Level::Error));
        assert_eq!(fields.get("pid"), Some("42"));
        let access = r#"1.2.3.4 - - [21/Nov/2026:03:00:00 +0000] "GET /x HTTP/1.1" 502 0 "-" "ua""#;
        let (ts, lvl, fields) = read(Format::Access, access);
        assert_eq!(ts.as_deref(), Some("2026-11-21T03:00:00Z"));
        assert_eq!(lvl, Some(Level::Error));
        assert_eq!(fields.get("path"), Some("/x"));
        let (_, lvl, _) = read(Format::Access, &access.replace(" 502 ", " 404 "));
        assert_eq!(lvl, Some(Level::Warn));
        let (_, lvl, _) = read(Format::Access, &access.replace(" 502 ", " 200 "));
        assert_eq!(lvl, Some(Level::Info));
        let (_, lvl, fields) = read(Format::Cri, "2026-11-21T03:00:00Z stderr F WARN slow");
        assert_eq!(lvl, Some(Level::Warn));
        assert_eq!(fields.get("tag"), Some("F"));
        let (_, lvl, _) = read(
            Format::Postgres,
            "2020-03-11 20:40:43 CET::@:[12760]:FATAL:  the database system is starting up",
        );
        assert_eq!(lvl, Some(Level::Fatal));
        let (_, lvl, _) = read(Format::Python, "CRITICAL:root:disk full");
        assert_eq!(lvl, Some(Level::Critical));
        let (_, lvl, _) = read(Format::Tracing, "2026-11-21T03:00:00Z\terror\tdb\tlost");
        assert_eq!(lvl, Some(Level::Error));
        let (_, lvl, _) = read(Format::Tracing, "E1121 03:12:09.114567   1 x.go:1] lost");
        assert_eq!(lvl, Some(Level::Error));
        let (_, lvl, _) = read(
            Format::ApacheError,
            "[Sat Nov 21 03:12:09.123456 2026] [proxy:error] [pid 42] AH00940: failed",
        );
        assert_eq!(lvl, Some(Level::Error));
        // A JSON format given a line that is no JSON falls back to the text.
        let (ts, lvl, fields) = read(Format::Json, "2026-11-21T03:00:00Z ERROR not json");
        assert_eq!(
            (ts.is_some(), lvl, fields.len()),
            (true, Some(Level::Error), 0)
        );
    }

    #[test]
    fn syslog_priority_gives_the_level() {
        assert_eq!(level("<0>Nov 21 03:14:02 h k: x"), Some(Level::Fatal));
        assert_eq!(level("<12>Nov 21 03:14:02 h k: x"), Some(Level::Warn));
        assert_eq!(level("<190>1 - h a - - - x"), Some(Level::Info));
        assert_eq!(level("<1234>x"), None);
        assert_eq!(level_value("Information"), Some(Level::Info));
        assert_eq!(level_value("35"), None);
        assert_eq!(status_level("-"), None);
    }

    proptest! {
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let ctx = TimeContext::new(TimeZone::UTC, Timestamp::UNIX_EPOCH);
            let parser = Parser::new(Arc::from("p"), ctx);
            let _ = parser.event(RawLine { offset: 0, line_no: 1, bytes, truncated: false, partial: false });
        }

        #[test]
        fn timestamp_like_text_never_panics(s in "[0-9<>\\[\\] :/.,TZ+-]{0,40}[A-Za-z ]{0,6}") {
            let ctx = TimeContext::new(TimeZone::UTC, Timestamp::UNIX_EPOCH);
            let _ = timestamp::leading(&s, &ctx);
        }
    }
}
