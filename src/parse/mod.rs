//! Turns raw lines into events: time, level, fields, where the message
//! starts, text; and joins the lines of one multi-line event
//! ([`Assembler`]).
//!
//! Owns: everything between a [`RawLine`] and an [`Event`]: the format of a
//! file ([`Format`], detected or named), where and how it writes its time
//! ([`layout`], learned per source; [`timestamp`], the written forms;
//! [`time_format`], a configured one), levels, fields ([`fields`]), the
//! message's start ([`message`]), colour codes ([`ansi`]) and multi-line
//! events ([`multiline`]). Must not: open files, spawn threads or read a
//! clock (the present is passed in through [`TimeContext`] and to the
//! assembler's calls). Invariants: never panics on any input; an event keeps
//! the offset and line number of its first line (offsets count the raw
//! bytes, colour codes included); times are in UTC; an event's text has no
//! SGR colour sequence and no leading byte order mark.

pub mod ansi;

/// The part of a token inside the brackets, parentheses, angle brackets,
/// colons and commas around a level word (`[ERROR]`, `<warn>:`), as a
/// range of its bytes.
fn without_brackets(bytes: &[u8]) -> std::ops::Range<usize> {
    let bracket = |b: &u8| matches!(b, b'[' | b']' | b'(' | b')' | b'<' | b'>' | b':' | b',');
    let start = bytes
        .iter()
        .position(|b| !bracket(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !bracket(b))
        .map_or(start, |i| i + 1);
    start..end
}

#[cfg(test)]
mod ci_logs;
pub mod fields;
pub mod format;
pub mod layout;
#[cfg(test)]
mod lnav_samples;
#[cfg(test)]
mod loghub;
pub mod message;
pub mod multiline;
#[cfg(test)]
mod real_data;
pub mod source;
pub mod template;
pub mod time_format;
pub mod timestamp;

use std::sync::Arc;

pub use format::{Format, UnknownFormat};
pub use layout::Layout;
pub use multiline::{Assembler, Limits, Multiline};
pub use source::{Profile, ReadAs, Settings, SourceReader, reader_for};
pub use time_format::{TimeFormat, TimeFormatError};
pub use timestamp::TimeContext;

use jiff::Timestamp;
use timestamp::LineTime;

use crate::model::{Event, Fields, Level, RawLine};

/// How many leading words may hold the level (after the timestamp).
const LEVEL_WORDS: usize = 6;

/// JSON keys that may hold an event's time, most specific first (then
/// MongoDB's `{"t":{"$date":...}}`, journald's `journalctl -o json`
/// microseconds, Cloudflare's nanoseconds).
const TIME_KEYS: [&str; 16] = [
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
    "timestamp_ns",
    "t.$date",
    "__REALTIME_TIMESTAMP",
    "EdgeStartTimestamp",
];

/// Keys that may hold an event's level, JSON and logfmt.
const LEVEL_KEYS: [&str; 14] = [
    "level",
    "severity",
    "lvl",
    "loglevel",
    "log_level",
    "log.level",
    "levelname",
    "level_name",
    "error_severity",
    "record.error_severity",
    "@l",
    "Level",
    "LEVEL",
    "severity_text",
];

/// What reading one line (or a record's text) found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// Its time, in UTC.
    pub ts: Option<Timestamp>,
    /// Its level.
    pub level: Option<Level>,
    /// The key/values its format carries.
    pub fields: Fields,
    /// The byte offset where its message starts (see [`Event::message`]).
    pub message: usize,
}

/// Reads events from one source's raw lines.
#[derive(Debug, Clone)]
pub struct Parser {
    source: Arc<str>,
    time: TimeContext,
    format: Format,
    layout: Option<Layout>,
    prefix: Option<message::Prefix>,
}

impl Parser {
    /// A parser for lines from `source` with the generic rules
    /// ([`Format::Plain`]: a leading timestamp and a level word).
    pub fn new(source: Arc<str>, time: TimeContext) -> Parser {
        Parser::with_format(source, time, Format::Plain)
    }

    /// A parser for lines from `source` written in `format` (detected with
    /// [`Format::detect`] or named in the configuration), reading times at
    /// the start of lines in the forms that need no learning.
    pub fn with_format(source: Arc<str>, time: TimeContext, format: Format) -> Parser {
        Parser {
            source,
            time,
            format,
            layout: None,
            prefix: None,
        }
    }

    /// The same parser reading times where and as `layout` says (learned
    /// from the source's first lines: [`Profile`]).
    pub fn with_layout(mut self, layout: Option<Layout>) -> Parser {
        self.layout = layout;
        self
    }

    /// The same parser finding message starts by `prefix` first (learned
    /// from the source's first lines: [`Profile`]).
    pub fn with_prefix(mut self, prefix: Option<message::Prefix>) -> Parser {
        self.prefix = prefix;
        self
    }

    /// Reads times as `layout` says from now on.
    pub fn set_layout(&mut self, layout: Option<Layout>) {
        self.layout = layout;
    }

    /// Reads syslog timestamps (no year) as not later than `now` from now
    /// on (a long-running reader moves its present along).
    pub fn set_now(&mut self, now: Timestamp) {
        self.time.now = now;
    }

    /// Lines read from now on come from `source` (the file was renamed).
    pub fn set_source(&mut self, source: Arc<str>) {
        self.source = source;
    }

    /// The format this parser reads.
    pub fn format(&self) -> Format {
        self.format
    }

    /// What times without a zone or a year are read against.
    pub fn time_context(&self) -> &TimeContext {
        &self.time
    }

    /// Where and how it reads times, when learned.
    pub fn layout(&self) -> Option<&Layout> {
        self.layout.as_ref()
    }

    /// The source lines come from.
    pub fn source(&self) -> &Arc<str> {
        &self.source
    }

    /// The event a raw line holds (one physical line: `lines` is 1), its
    /// text without colour codes or a leading byte order mark. Inlined into
    /// the line path ([`SourceReader::push`]) with what it calls: the event
    /// is built where it is kept, not copied from call to call.
    #[inline(always)]
    pub fn event(&self, raw: RawLine) -> Event {
        let (text, lossy) = match String::from_utf8(raw.bytes) {
            Ok(text) => (text, false),
            Err(err) => (String::from_utf8_lossy(err.as_bytes()).into_owned(), true),
        };
        let text = clean(text);
        let Reading {
            ts,
            level,
            fields,
            message,
        } = self.read_inline(&text);
        Event {
            source: Arc::clone(&self.source),
            offset: raw.offset,
            line_no: raw.line_no,
            ts,
            level,
            message,
            text,
            lossy,
            truncated: raw.truncated,
            partial: raw.partial,
            fields,
            lines: 1,
        }
    }

    /// The time in a text line: where the learned layout puts it, else at
    /// the start of the line in a form that needs no learning, else in the
    /// layout's form in the line's prefix (see [`Layout::search`]).
    /// Inlined (into the line path, with [`Layout::at_anchor`]): the time
    /// found is used where it is found, not stored and read back at once.
    #[inline(always)]
    pub fn time(&self, text: &str) -> Option<LineTime> {
        let ctx = &self.time;
        match &self.layout {
            Some(layout) => layout
                .at_anchor(text, ctx)
                .or_else(|| timestamp::at_start(text, ctx))
                .or_else(|| layout.search(text, ctx)),
            None => timestamp::at_start(text, ctx),
        }
    }

    /// Where the message of `text` starts: by the learned prefix when the
    /// line fits it, else token by token.
    fn message_start(&self, text: &str, time: Option<LineTime>) -> usize {
        if let (Some(prefix), Some(found)) = (self.prefix, time)
            && let Some(at) = message::start_by(prefix, text, found)
        {
            return at;
        }
        message::start(text, self.format, time, &self.time)
    }

    /// Time, level, fields and message start of a line (or of a whole
    /// record, for formats whose records span lines).
    pub fn read(&self, text: &str) -> Reading {
        self.read_inline(text)
    }

    /// [`Parser::read`], inlined into [`Parser::event`] (the line path):
    /// what it finds is used where it was found, not written to memory
    /// and read back at once (a wait for the processor's store buffer).
    #[inline(always)]
    fn read_inline(&self, text: &str) -> Reading {
        let ctx = &self.time;
        let reading = |time: Option<LineTime>, level: Option<Level>, fields: Fields| Reading {
            ts: time.map(|f| f.ts),
            level,
            message: self.message_start(text, time),
            fields,
        };
        match self.format {
            Format::Json | Format::DockerJson | Format::PostgresJson => {
                let Some(fields) = fields::json(text) else {
                    let time = self.time(text);
                    return reading(time, line_level(text, time), Fields::new());
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
                    .or_else(|| fields.get("PRIORITY").and_then(syslog_severity))
                    .or_else(|| fields.get("severity_number").and_then(otel_severity))
                    .or_else(|| fields.get("log").and_then(level))
                    .or_else(|| fields.get("textPayload").and_then(postgres_level));
                Reading {
                    ts,
                    level,
                    fields,
                    message: 0,
                }
            }
            Format::Logfmt => {
                let fields = fields::logfmt(text);
                let ts = ["ts", "time", "timestamp", "t", "date"]
                    .iter()
                    .find_map(|key| timestamp::from_value(fields.get(key)?, ctx))
                    .or_else(|| self.time(text).map(|f| f.ts));
                let level = LEVEL_KEYS
                    .iter()
                    .find_map(|key| level_value(fields.get(key)?))
                    .or_else(|| level(text));
                Reading {
                    ts,
                    level,
                    fields,
                    message: 0,
                }
            }
            Format::Syslog | Format::Syslog5424 => {
                let fields = fields::syslog(text);
                let time = self.time(text);
                let level = line_level(text, time).or_else(|| postgres_level(text));
                reading(time, level, fields)
            }
            Format::Access => {
                let fields = fields::access(text);
                let level = fields.get("status").and_then(status_level);
                reading(self.time(text), level, fields)
            }
            Format::Cri => {
                let mut fields = Fields::with_capacity(16);
                // The common head in one pass; any other the long way.
                let (at, has_message) = match message::cri_head(text) {
                    Some(head) => {
                        fields.push("stream", head.stream);
                        fields.push("tag", head.tag);
                        (head.inner, true)
                    }
                    None => {
                        let mut parts = text.splitn(4, ' ');
                        let (_, stream, tag, message) =
                            (parts.next(), parts.next(), parts.next(), parts.next());
                        if let (Some(stream), Some(tag)) = (stream, tag) {
                            fields.push("stream", stream);
                            fields.push("tag", tag);
                        }
                        (message::cri_inner(text), message.is_some())
                    }
                };
                let inner = &text[at..];
                let inner_time = message::cri_inner_time(inner, ctx);
                let level = match has_message {
                    true => line_level(inner, inner_time),
                    false => None,
                };
                let time = self.time(text);
                Reading {
                    ts: time.map(|f| f.ts),
                    level,
                    fields,
                    message: at + message::after_prefix(inner, inner_time, ctx),
                }
            }
            Format::PostgresCsv => {
                let fields = fields::postgres_csv(text);
                let level = fields.get("error_severity").and_then(level_value);
                reading(self.time(text), level, fields)
            }
            Format::Postgres => {
                let fields = fields::postgres(text);
                let time = self.time(text);
                let span = postgres_severity_span(text);
                let level = span
                    .and_then(|(start, end)| Level::from_word(&text[start..end - 1]))
                    .or_else(|| line_level(text, time));
                let message = match span {
                    Some((_, end)) => message::skip_blanks_at(text, end),
                    None => self.message_start(text, time),
                };
                Reading {
                    ts: time.map(|f| f.ts),
                    level,
                    fields,
                    message,
                }
            }
            Format::Python => {
                // `basicConfig`'s `LEVEL:logger:message` has no space.
                let time = self.time(text);
                let level = line_level(text, time).or_else(|| level_value(text.split(':').next()?));
                reading(time, level, Fields::new())
            }
            Format::Tracing => {
                // zap's console encoder writes the level in lower case
                // between tabs.
                let time = self.time(text);
                let level =
                    line_level(text, time).or_else(|| level_value(text.split('\t').nth(1)?));
                reading(time, level, Fields::new())
            }
            Format::ApacheError => {
                // `[Sat Nov 21 ...] [core:error] ...`: the level after the module.
                let time = self.time(text);
                let level = text
                    .split('[')
                    .nth(2)
                    .and_then(|tag| tag.split(']').next())
                    .and_then(|tag| level_value(tag.rsplit(':').next()?))
                    .or_else(|| line_level(text, time));
                reading(time, level, Fields::new())
            }
            Format::Logcat => {
                let time = self.time(text);
                let level = time
                    .and_then(|found| logcat_level(text, found.end))
                    .or_else(|| line_level(text, time));
                reading(time, level, Fields::new())
            }
            Format::NginxError | Format::Log4j | Format::Plain => {
                let time = self.time(text);
                reading(time, line_level(text, time), Fields::new())
            }
        }
    }
}

/// A line's text as events carry it: without SGR colour sequences (found
/// with one `memchr`: a line without an ESC byte is not copied) and without
/// a leading byte order mark (GitHub Actions' logs start with one).
#[inline(always)]
fn clean(text: String) -> String {
    // The common line, neither: one test for each, no copy, no `Cow`.
    let bytes = text.as_bytes();
    if !bytes.starts_with(b"\xef\xbb\xbf") && memchr::memchr(0x1b, bytes).is_none() {
        return text;
    }
    let text = match text.as_bytes().starts_with(b"\xef\xbb\xbf") {
        true => text[3..].to_owned(),
        false => text,
    };
    match ansi::strip_sgr(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(stripped) => stripped,
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
    // The numbers as pino and bunyan write them (not `050` or `+50`).
    match value.trim() {
        "10" => Some(Level::Trace),
        "20" => Some(Level::Debug),
        "30" => Some(Level::Info),
        "40" => Some(Level::Warn),
        "50" => Some(Level::Error),
        "60" => Some(Level::Fatal),
        value => level_word(value),
    }
}

/// A level word in any case, as loggers spell it: `WARN`, `Warning`, `err`,
/// `crit`, `SEVERE`, `FATAL`, `notice`, `emerg`, `verbose`,
/// `Information`, `DPANIC`, ... (`LOG`, PostgreSQL's, in upper case only).
/// Compared without allocating: it runs on the first words of every line.
pub fn level_word(word: &str) -> Option<Level> {
    level_bytes(word.as_bytes())
}

/// [`level_word`] on bytes (a word cut from a line without a UTF-8
/// check: only ASCII letters and digits can match).
pub(crate) fn level_bytes(bytes: &[u8]) -> Option<Level> {
    if !(2..=13).contains(&bytes.len()) || !bytes[0].is_ascii_alphabetic() {
        return None;
    }
    let mut lower = [0_u8; 13];
    for (to, from) in lower.iter_mut().zip(bytes) {
        *to = from.to_ascii_lowercase();
    }
    let level = match &lower[..bytes.len()] {
        b"trace" | b"trc" | b"verbose" | b"finer" | b"finest" => Level::Trace,
        b"debug" | b"dbg" | b"debug1" | b"debug2" | b"debug3" | b"debug4" | b"debug5" | b"fine" => {
            Level::Debug
        }
        b"info" | b"inf" | b"information" | b"informational" => Level::Info,
        b"log" if bytes == b"LOG" => Level::Info,
        b"notice" => Level::Notice,
        b"warn" | b"warning" | b"wrn" => Level::Warn,
        b"error" | b"err" | b"severe" => Level::Error,
        b"critical" | b"crit" | b"alert" => Level::Critical,
        b"fatal" | b"panic" | b"emerg" | b"emergency" | b"dpanic" => Level::Fatal,
        _ => return None,
    };
    Some(level)
}

/// A syslog severity number (journald's `PRIORITY`): 0 emerg ... 7 debug.
fn syslog_severity(value: &str) -> Option<Level> {
    let severity: u8 = value.trim().parse().ok()?;
    Some(match severity {
        0 => Level::Fatal,
        1 | 2 => Level::Critical,
        3 => Level::Error,
        4 => Level::Warn,
        5 => Level::Notice,
        6 => Level::Info,
        7 => Level::Debug,
        _ => return None,
    })
}

/// An OpenTelemetry severity number: 1-4 trace, 5-8 debug, 9-12 info,
/// 13-16 warn, 17-20 error, 21-24 fatal.
fn otel_severity(value: &str) -> Option<Level> {
    let number: u8 = value.trim().parse().ok()?;
    Some(match number {
        1..=4 => Level::Trace,
        5..=8 => Level::Debug,
        9..=12 => Level::Info,
        13..=16 => Level::Warn,
        17..=20 => Level::Error,
        21..=24 => Level::Fatal,
        _ => return None,
    })
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

/// The words PostgreSQL writes before a colon to say what a line is: its
/// severities (`elog.c`'s `error_severity`) and the labels of the lines
/// that follow an error (`DETAIL`, `HINT`, ...).
const POSTGRES_WORDS: [&str; 13] = [
    "LOG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "FATAL",
    "PANIC",
    "DETAIL",
    "HINT",
    "STATEMENT",
    "CONTEXT",
    "QUERY",
    "LOCATION",
];

/// Whether `word` is one PostgreSQL writes before the colon of a line.
fn is_postgres_word(word: &[u8]) -> bool {
    match word {
        [b'D', b'E', b'B', b'U', b'G', b'1'..=b'5'] => true,
        _ => POSTGRES_WORDS.iter().any(|w| w.as_bytes() == word),
    }
}

/// The severity word of a PostgreSQL line (`LOG:`, `ERROR:`, `DETAIL:`),
/// as written, within the first 300 bytes.
pub fn postgres_severity(text: &str) -> Option<&str> {
    postgres_severity_span(text).map(|(start, end)| &text[start..end - 1])
}

/// Where the severity word of a PostgreSQL line starts, and where its
/// colon ends: the first such word in the first 300 bytes that starts the
/// text or follows whitespace, `:` or `]`, and whose colon is followed by
/// whitespace. By hand (every line of a PostgreSQL log is read here, and a
/// regex with a capture was 8% of a scan of one): the first colon followed
/// by whitespace whose word is one.
pub(crate) fn postgres_severity_span(text: &str) -> Option<(usize, usize)> {
    let head = &text[..floor_boundary(text, 300)];
    let bytes = head.as_bytes();
    memchr::memchr_iter(b':', bytes).find_map(|colon| {
        let spaced = head[colon + 1..]
            .chars()
            .next()
            .is_some_and(char::is_whitespace);
        if !spaced {
            return None;
        }
        let start = bytes[..colon]
            .iter()
            .rposition(|b| !b.is_ascii_alphanumeric())
            .map_or(0, |i| i + 1);
        let after_boundary = start == 0
            || matches!(bytes[start - 1], b':' | b']')
            || head[..start]
                .chars()
                .next_back()
                .is_some_and(char::is_whitespace);
        (after_boundary && is_postgres_word(&bytes[start..colon])).then_some((start, colon + 1))
    })
}

fn postgres_level(text: &str) -> Option<Level> {
    postgres_severity(text).and_then(Level::from_word)
}

/// The level of a text line, knowing where its time is: the level a syslog
/// `<PRI>`, a klog letter or a leading `E [` gives; the word right after the
/// time in any case (`info`, `Warning`, ESXi's `Wa(180)`, syslog's
/// `user.warn`, GitHub's `##[error]`); else [`level`]'s words; else SSSD's
/// `(0x0040)`.
pub fn line_level(text: &str, time: Option<LineTime>) -> Option<Level> {
    if let Some(level) = priority_level(text)
        .or_else(|| klog_level(text))
        .or_else(|| letter_level(text))
    {
        return Some(level);
    }
    if let Some(found) = time
        && let Some(level) = after_time_level(text, found.end)
    {
        return Some(level);
    }
    let level = level(text);
    match (level, time) {
        (None, Some(_)) => sssd_level(text),
        _ => level,
    }
}

/// The level in the token right after a time.
fn after_time_level(text: &str, end: usize) -> Option<Level> {
    let bytes = text.as_bytes();
    let mut start = end;
    while matches!(
        bytes.get(start),
        Some(b']' | b')' | b'"' | b',' | b':' | b' ' | b'\t' | b'|')
    ) {
        start += 1;
    }
    if start >= bytes.len() {
        return None;
    }
    let limit = bytes.len().min(start + 24);
    let mut stop = start;
    while stop < limit && !matches!(bytes[stop], b' ' | b'\t') {
        stop += 1;
    }
    // Delimited by ASCII bytes: a char boundary either side.
    let token = text.get(start..stop)?;
    if let Some(annotation) = token.strip_prefix("##[") {
        return match annotation.split(']').next()? {
            "error" => Some(Level::Error),
            "warning" => Some(Level::Warn),
            "notice" => Some(Level::Notice),
            "debug" => Some(Level::Debug),
            _ => None,
        };
    }
    // ESXi's `Wa(180)` follows the time after a blank (what lets `scan`
    // find it with the literal ` wa(`).
    if token.as_bytes().get(2) == Some(&b'(')
        && matches!(start.checked_sub(1).map(|i| bytes[i]), Some(b' ' | b'\t'))
        && let Some(level) = esxi_level(token)
    {
        return Some(level);
    }
    // Trimmed by byte (ASCII: the cuts are char boundaries).
    let word = &token[without_brackets(token.as_bytes())];
    level_word(word)
        .or_else(|| facility_level(word))
        // Glued to what follows by a colon: `...,672:DEBUG:foo bar`.
        .or_else(|| level_word(word.split(':').next()?))
}

/// ESXi's `In(14)`, `Db(167)`, `Wa(180)`, ...: the level's two letters and
/// the syslog priority.
fn esxi_level(token: &str) -> Option<Level> {
    let (word, rest) = token.split_once('(')?;
    let digits = rest.split(')').next()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match word {
        "Db" => Level::Debug,
        "In" => Level::Info,
        "No" => Level::Notice,
        "Wa" => Level::Warn,
        "Er" => Level::Error,
        "Cr" => Level::Critical,
        "Al" | "Em" => Level::Fatal,
        _ => return None,
    })
}

/// Syslog's `facility.severity` (`user.warn`, `daemon.err`, `local0.info`)
/// and an environment before an upper-case level (`production.ERROR`).
fn facility_level(token: &str) -> Option<Level> {
    const FACILITIES: [&str; 21] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
        "authpriv", "ftp", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
        "local7", "security",
    ];
    let (prefix, word) = token.rsplit_once('.')?;
    let upper = word.bytes().all(|b| b.is_ascii_uppercase());
    if !(upper || FACILITIES.contains(&prefix)) {
        return None;
    }
    level_word(word)
}

/// A single level letter at the start of a line before a bracketed time:
/// CUPS's `E [04/Nov/2010:...]`, Ruby's `E, [2024-06-26T...`.
fn letter_level(text: &str) -> Option<Level> {
    let bytes = text.as_bytes();
    let rest = bytes.get(1..)?;
    if !(rest.starts_with(b" [") || rest.starts_with(b", [")) {
        return None;
    }
    letter(bytes[0])
}

fn letter(byte: u8) -> Option<Level> {
    Some(match byte {
        b'V' => Level::Trace,
        b'D' => Level::Debug,
        b'I' => Level::Info,
        b'W' => Level::Warn,
        b'E' => Level::Error,
        b'C' => Level::Critical,
        b'F' | b'A' => Level::Fatal,
        _ => return None,
    })
}

/// logcat's level letter: after the time, the pid and tid (and a uid), a
/// letter alone; or the letter before `/tag` (`brief`, `time` formats).
fn logcat_level(text: &str, end: usize) -> Option<Level> {
    let rest = text.get(end..)?;
    for token in rest.split([' ', '\t']).filter(|t| !t.is_empty()).take(4) {
        let bytes = token.as_bytes();
        if bytes.len() == 1 || bytes.get(1) == Some(&b'/') {
            return letter(bytes[0]);
        }
    }
    None
}

/// SSSD's debug level in `(0x0040):` after the prefix.
fn sssd_level(text: &str) -> Option<Level> {
    let head = &text.as_bytes()[..floor_boundary(text, 200)];
    let at = memchr::memchr_iter(b'(', head).find(|&at| {
        head.get(at + 1..at + 3) == Some(b"0x") && head.get(at + 7..at + 9) == Some(b"):")
    })?;
    // Four hex digits between ASCII bytes: valid UTF-8 if they are digits.
    let hex = std::str::from_utf8(&head[at + 3..at + 7]).ok()?;
    let value = u16::from_str_radix(hex, 16).ok()?;
    Some(match value {
        0x0010 => Level::Fatal,
        0x0020 => Level::Critical,
        0x0040 => Level::Error,
        0x0080 => Level::Warn,
        0x0100 => Level::Info,
        0x0200..=0x1000 => Level::Debug,
        0x2000..=0xffff => Level::Trace,
        _ => return None,
    })
}

/// The level a line declares near its start: an upper-case level word
/// (`ERROR`, `FATAL:`, `local.ERROR:`) or one in brackets in any case
/// (`[error]`), within the first few words.
///
/// A syslog `<PRI>` at the start gives the level by its severity
/// (`<11>`: err), and klog's letter (`E1121 03:12:09...`) likewise.
pub fn level(text: &str) -> Option<Level> {
    if let Some(level) = priority_level(text).or_else(|| klog_level(text)) {
        return Some(level);
    }
    let head = &text.as_bytes()[..floor_boundary(text, 160)];
    words(head).take(LEVEL_WORDS + 4).find_map(|word| {
        let bracketed = matches!(word[0], b'[' | b'<' | b'(');
        // Most words are turned away by their first two bytes: a
        // level is bracketed or upper-case.
        let upper_start =
            word[0].is_ascii_uppercase() && !word.get(1).is_some_and(u8::is_ascii_lowercase);
        if !(bracketed || upper_start) {
            return None;
        }
        let start = word.iter().position(u8::is_ascii_alphanumeric)?;
        let end = word.iter().rposition(u8::is_ascii_alphanumeric)? + 1;
        let word = &word[start..end];
        let word = match memchr::memrchr(b'.', word) {
            Some(dot) if word[dot + 1..].iter().all(u8::is_ascii_uppercase) => &word[dot + 1..],
            _ => word,
        };
        let upper = word
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !(bracketed || upper) || !(2..=13).contains(&word.len()) {
            return None;
        }
        // ASCII letters and digits only: valid UTF-8.
        level_word(std::str::from_utf8(word).ok()?)
    })
}

/// The blank-separated words of `bytes` (spaces and tabs; none empty),
/// each found with [`message::find_blank`]: this runs on the first words
/// of every line.
fn words(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') {
            at += 1;
        }
        if at >= bytes.len() {
            return None;
        }
        let start = at;
        at = message::find_blank(&bytes[start..]).map_or(bytes.len(), |i| start + i);
        Some(&bytes[start..at])
    })
}

/// The level of a syslog `<PRI>`: its severity is `PRI % 8`.
fn priority_level(text: &str) -> Option<Level> {
    let rest = text.strip_prefix('<')?;
    let close = rest.find('>').filter(|&i| (1..=3).contains(&i))?;
    // Digits only, and a priority there is (facility 0 to 23).
    let digits = &rest[..close];
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let pri: u16 = digits.parse().ok().filter(|&pri| pri < 192)?;
    syslog_severity(&(pri % 8).to_string())
}

/// klog's and glog's level letter: `I1121 03:12:09.114567`, `I20200308
/// 23:47:32.089828`.
fn klog_level(text: &str) -> Option<Level> {
    let bytes = text.as_bytes();
    if !matches!(bytes.first(), Some(b'I' | b'W' | b'E' | b'F')) {
        return None;
    }
    let digits = bytes
        .iter()
        .skip(1)
        .take_while(|b| b.is_ascii_digit())
        .count();
    let at = 1 + digits;
    // `MMDD` (a month of 01 to 12) or `YYYYMMDD` (a year of 1xxx or 2xxx).
    let first = bytes.get(1).copied();
    let shape = ((digits == 4 && matches!(first, Some(b'0' | b'1')))
        || (digits == 8 && matches!(first, Some(b'1' | b'2'))))
        && bytes.get(at) == Some(&b' ')
        && bytes
            .get(at + 1..at + 3)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && bytes.get(at + 3) == Some(&b':');
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
    use regex::Regex;
    use std::sync::LazyLock;

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
        let Reading {
            ts, level, fields, ..
        } = parser.read(line);
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

    /// What [`postgres_severity_span`] reads, as a regex.
    static POSTGRES_SEVERITY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?:^|[\s:\]])(DEBUG[1-5]|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION):\s",
        )
        .expect("valid regex")
    });

    fn postgres_severity_by_regex(text: &str) -> Option<(usize, usize)> {
        let head = &text[..floor_boundary(text, 300)];
        POSTGRES_SEVERITY
            .captures(head)
            .and_then(|caps| caps.get(1))
            .map(|m| (m.start(), m.end() + 1))
    }

    #[test]
    fn postgres_severity_is_the_first_word_before_a_spaced_colon() {
        for (text, word) in [
            (
                "2026-11-21 00:00:00.641 UTC [4167] ERROR:  canceling",
                Some("ERROR"),
            ),
            ("[4167]:LOG: x", Some("LOG")),
            ("LOG:\tx", Some("LOG")),
            ("x\u{a0}DEBUG5: x", Some("DEBUG5")),
            ("a: LOGS: b LOG:", None),
            ("xLOG: y DETAIL: z", Some("DETAIL")),
            ("DEBUG6: x HINT:\u{3000}y", Some("HINT")),
            ("_ERROR: x", None),
            ("ERROR:x", None),
        ] {
            assert_eq!(postgres_severity(text), word, "{text:?}");
        }
        let far = format!("{} LOG: x", "a".repeat(296));
        assert_eq!(postgres_severity(&far), None);
    }

    proptest! {
        #[test]
        fn postgres_severity_reads_as_its_regex(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("LOG"), Just("ERROR"), Just("DEBUG3"), Just("DEBUG9"), Just("DETAIL"),
                    Just("STATEMENT"), Just(":"), Just(": "), Just(" "), Just("\t"), Just("]"),
                    Just("["), Just("\u{a0}"), Just("é"), Just("x"), Just("_"), Just("1"),
                    Just("\u{3000}"), Just("Ω"),
                ],
                0..40,
            ),
        ) {
            let text = parts.concat();
            prop_assert_eq!(postgres_severity_span(&text), postgres_severity_by_regex(&text));
        }

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
