//! Key/values a line carries, read per format: JSON (nested objects
//! flattened with dots), logfmt, syslog headers (`host`, `program`, `pid`),
//! access logs (`method`, `path`, `status`, ...), PostgreSQL CSV columns and
//! the `pid` of a PostgreSQL stderr prefix.
//!
//! Owns: splitting a line into fields. Must not: decide timestamps or levels
//! (the parser reads those from the fields), do I/O. Invariants: never panics
//! on any input; at most [`MAX_FIELDS`] fields per line and [`MAX_DEPTH`]
//! levels of JSON nesting, so a hostile line cannot blow memory up; keys keep
//! the order they were written in.

use std::{borrow::Cow, sync::LazyLock};

use regex::Regex;
use serde_json::Value;

use crate::model::Fields;

/// At most this many fields are kept per event; more are dropped.
pub const MAX_FIELDS: usize = 128;

/// JSON nested deeper than this is kept as JSON text in one field.
pub const MAX_DEPTH: usize = 8;

/// The fields of a JSON object line (`None` when the line is no JSON
/// object). Nested objects are flattened with dots (`http.status`), arrays
/// with indexes (`tags.0`); strings are kept as written, other values as
/// JSON text.
pub fn json(line: &str) -> Option<Fields> {
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(line) else {
        return None;
    };
    let mut fields = Fields::with_capacity(line.len());
    // One path, grown and cut back as the walk goes down and up: no
    // string made per nested key.
    let mut path = String::with_capacity(64);
    for (key, value) in &object {
        path.clear();
        path.push_str(key);
        flatten(&mut path, value, 1, &mut fields);
    }
    Some(fields)
}

fn flatten(path: &mut String, value: &Value, depth: usize, fields: &mut Fields) {
    if fields.len() >= MAX_FIELDS {
        return;
    }
    let len = path.len();
    match value {
        Value::Object(object) if depth < MAX_DEPTH && !object.is_empty() => {
            for (key, value) in object {
                path.push('.');
                path.push_str(key);
                flatten(path, value, depth + 1, fields);
                path.truncate(len);
            }
        }
        Value::Array(items) if depth < MAX_DEPTH && !items.is_empty() => {
            for (index, value) in items.iter().enumerate() {
                path.push('.');
                path.push_str(Decimal::of(index as u64, false).as_str());
                flatten(path, value, depth + 1, fields);
                path.truncate(len);
            }
        }
        Value::String(text) => fields.push(&*path, text.as_str()),
        // Whole numbers, `true`, `false` and `null` as JSON writes them,
        // without the formatter; a fraction (and an object or array kept
        // whole) as JSON text.
        Value::Number(number) if number.is_u64() || number.is_i64() => {
            let decimal = match number.as_u64() {
                Some(n) => Decimal::of(n, false),
                None => Decimal::of(number.as_i64().unwrap_or(0).unsigned_abs(), true),
            };
            fields.push(&*path, decimal.as_str());
        }
        Value::Bool(true) => fields.push(&*path, "true"),
        Value::Bool(false) => fields.push(&*path, "false"),
        Value::Null => fields.push(&*path, "null"),
        other => fields.push(&*path, other.to_string()),
    }
}

/// A whole number written in decimal, on the stack.
struct Decimal {
    digits: [u8; 21],
    start: usize,
}

impl Decimal {
    /// `magnitude`, with a `-` before it when `negative`.
    fn of(magnitude: u64, negative: bool) -> Decimal {
        let mut digits = [0_u8; 21];
        let mut start = digits.len();
        let mut rest = magnitude;
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        if negative {
            start -= 1;
            digits[start] = b'-';
        }
        Decimal { digits, start }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.digits[self.start..]).expect("ASCII digits and a sign")
    }
}

/// The `key=value` pairs of a logfmt line. Values may be double-quoted with
/// backslash escapes; a bare word without `=` is skipped.
pub fn logfmt(line: &str) -> Fields {
    let mut fields = Fields::with_capacity(line.len());
    let bytes = line.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() && fields.len() < MAX_FIELDS {
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let key_start = pos;
        while pos < bytes.len() && !bytes[pos].is_ascii_whitespace() && bytes[pos] != b'=' {
            pos += 1;
        }
        let key = &line[key_start..pos];
        if pos >= bytes.len() || bytes[pos] != b'=' {
            continue; // A bare word.
        }
        pos += 1;
        let value: Cow<str> = if bytes.get(pos) == Some(&b'"') {
            pos += 1;
            let mut value = String::new();
            let mut chunk_start = pos;
            while pos < bytes.len() && bytes[pos] != b'"' {
                if bytes[pos] == b'\\' && pos + 1 < bytes.len() {
                    value.push_str(&line[chunk_start..pos]);
                    let escaped = bytes[pos + 1];
                    match escaped {
                        b'n' => value.push('\n'),
                        b't' => value.push('\t'),
                        b'"' | b'\\' => value.push(char::from(escaped)),
                        _ => {
                            value.push('\\');
                            chunk_start = pos + 1;
                            pos += 1;
                            continue;
                        }
                    }
                    pos += 2;
                    chunk_start = pos;
                } else {
                    pos += 1;
                }
            }
            let end = pos.min(bytes.len());
            pos += 1; // The closing quote, if there is one.
            if value.is_empty() {
                Cow::Borrowed(&line[chunk_start..end])
            } else {
                value.push_str(&line[chunk_start..end]);
                Cow::Owned(value)
            }
        } else {
            let value_start = pos;
            while pos < bytes.len() && !bytes[pos].is_ascii_whitespace() {
                pos += 1;
            }
            Cow::Borrowed(&line[value_start..pos])
        };
        if !key.is_empty() {
            fields.push(key, value);
        }
    }
    fields
}

static SYSLOG_3164: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:<(\d{1,3})>)?[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? (\S+) ([^\s:\[]+)(?:\[(\d+)\])?: ",
    )
});
static SYSLOG_5424: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^<(\d{1,3})>\d{1,2} \S+ (\S+) (\S+) (\S+) (\S+) "));
static ACCESS: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?"#,
    )
});
/// Apache's `vhost_combined`: the virtual host first.
static ACCESS_VHOST: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"^(\S+) (\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?"#,
    )
});
/// The time first: `2013-02-11T06:43:36 10.1.2.3 - GET "/client/" -1 200
/// 5778` (client, user, method, path, status, bytes).
static ACCESS_TIME_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"^\d{4}-\d\d-\d\dT\S+ (\S+) (\S+) ([A-Z]+) "?([^ "]+)"? -?\d+ (\d{3}) (\d+|-)"#)
});
/// The pid in a PostgreSQL prefix: `[4242]` (`%p`), RDS `:[12760]:`, or
/// pgBouncer's bare number after the time.
static POSTGRES_PID: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\S+ \S+(?: [A-Z]{2,5})?(?:[ :].{0,160}?\[(\d+)\]|\s(\d+)\s)"));

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the built-in field patterns are valid")
}

/// `facility`/`severity` from a `<PRI>`, then `host`, `program`, `pid` of a
/// BSD (RFC 3164) or RFC 5424 syslog line (`msgid` for 5424; `-` means
/// absent).
pub fn syslog(line: &str) -> Fields {
    let mut fields = Fields::with_capacity(64);
    let Some(parts) = syslog_parts(line) else {
        return fields;
    };
    priority(parts.pri, &mut fields);
    for (value, name) in [
        (parts.host, "host"),
        (parts.program, "program"),
        (parts.pid, "pid"),
        (parts.msgid, "msgid"),
    ] {
        if let Some(value) = value {
            fields.push(name, value);
        }
    }
    fields
}

/// What the syslog patterns capture (`-` values of RFC 5424 left out).
#[derive(Debug, PartialEq, Eq)]
struct SyslogParts<'a> {
    pri: Option<&'a str>,
    host: Option<&'a str>,
    program: Option<&'a str>,
    pid: Option<&'a str>,
    msgid: Option<&'a str>,
}

/// [`SyslogParts`] read by hand for an ASCII prefix, else by the patterns.
fn syslog_parts(line: &str) -> Option<SyslogParts<'_>> {
    match syslog_by_hand(line) {
        Some(parts) => parts,
        None => syslog_by_pattern(line),
    }
}

/// A run of non-blank ASCII at `at`: where it ends; `Err` for a byte
/// outside ASCII (the patterns decide).
fn ascii_run(bytes: &[u8], mut at: usize, stop: &[u8]) -> Result<usize, ()> {
    while at < bytes.len() && !bytes[at].is_ascii_whitespace() && !stop.contains(&bytes[at]) {
        if bytes[at] >= 0x80 {
            return Err(());
        }
        at += 1;
    }
    Ok(at)
}

/// `Some(None)` when the line is surely no syslog line, `None` when the
/// patterns must decide.
fn syslog_by_hand(line: &str) -> Option<Option<SyslogParts<'_>>> {
    let bytes = line.as_bytes();
    let digits = |from: usize, max: usize| {
        bytes[from.min(bytes.len())..]
            .iter()
            .take(max + 1)
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    // `<PRI>`.
    let mut at = 0;
    let mut pri = None;
    if bytes.first() == Some(&b'<') {
        let n = digits(1, 3);
        if !(1..=3).contains(&n) || bytes.get(1 + n) != Some(&b'>') {
            return Some(None);
        }
        pri = Some(&line[1..1 + n]);
        at = 2 + n;
        // RFC 5424: `<PRI>VERSION TIME HOST APP PROCID MSGID `.
        let version = digits(at, 2);
        if (1..=2).contains(&version) && bytes.get(at + version) == Some(&b' ') {
            let mut ends = [0_usize; 5];
            let mut from = at + version + 1;
            for end in &mut ends {
                let stop = ascii_run(bytes, from, &[]).ok()?;
                if stop == from || bytes.get(stop) != Some(&b' ') {
                    return Some(None);
                }
                *end = stop;
                from = stop + 1;
            }
            let field = |i: usize| {
                let start = ends[i - 1] + 1;
                Some(&line[start..ends[i]]).filter(|v| *v != "-")
            };
            return Some(Some(SyslogParts {
                pri,
                host: field(1),
                program: field(2),
                pid: field(3),
                msgid: field(4),
            }));
        }
    }
    // RFC 3164: `Mmm dd HH:MM:SS[.f] HOST PROGRAM[PID]: `.
    let shape = |i: usize, ok: fn(&u8) -> bool| bytes.get(at + i).is_some_and(ok);
    let clock = shape(0, u8::is_ascii_uppercase)
        && shape(1, u8::is_ascii_lowercase)
        && shape(2, u8::is_ascii_lowercase)
        && shape(3, |b| *b == b' ')
        && shape(4, |b| *b == b' ' || b.is_ascii_digit())
        && shape(5, u8::is_ascii_digit)
        && shape(6, |b| *b == b' ')
        && [7, 8, 10, 11, 13, 14]
            .iter()
            .all(|&i| shape(i, u8::is_ascii_digit))
        && shape(9, |b| *b == b':')
        && shape(12, |b| *b == b':');
    if !clock {
        return Some(None);
    }
    at += 15;
    if bytes.get(at) == Some(&b'.') {
        let n = digits(at + 1, usize::MAX - 1);
        if n == 0 {
            return Some(None);
        }
        at += 1 + n;
    }
    if bytes.get(at) != Some(&b' ') {
        return Some(None);
    }
    let host_start = at + 1;
    let host_end = ascii_run(bytes, host_start, &[]).ok()?;
    if host_end == host_start || bytes.get(host_end) != Some(&b' ') {
        return Some(None);
    }
    let program_start = host_end + 1;
    let program_end = ascii_run(bytes, program_start, b":[").ok()?;
    if program_end == program_start {
        return Some(None);
    }
    let mut end = program_end;
    let mut pid = None;
    if bytes.get(end) == Some(&b'[') {
        let n = digits(end + 1, usize::MAX - 1);
        if n > 0 && bytes.get(end + 1 + n) == Some(&b']') {
            pid = Some(&line[end + 1..end + 1 + n]);
            end += n + 2;
        }
    }
    if !bytes[end..].starts_with(b": ") {
        return Some(None);
    }
    Some(Some(SyslogParts {
        pri,
        host: Some(&line[host_start..host_end]),
        program: Some(&line[program_start..program_end]),
        pid,
        msgid: None,
    }))
}

/// [`SyslogParts`] by the `SYSLOG_5424` and `SYSLOG_3164` patterns.
fn syslog_by_pattern(line: &str) -> Option<SyslogParts<'_>> {
    fn text(m: Option<regex::Match<'_>>) -> Option<&str> {
        m.map(|m| m.as_str())
    }
    if let Some(caps) = SYSLOG_5424.captures(line) {
        let field = |i| text(caps.get(i)).filter(|v| *v != "-");
        return Some(SyslogParts {
            pri: text(caps.get(1)),
            host: field(2),
            program: field(3),
            pid: field(4),
            msgid: field(5),
        });
    }
    let caps = SYSLOG_3164.captures(line)?;
    Some(SyslogParts {
        pri: text(caps.get(1)),
        host: text(caps.get(2)),
        program: text(caps.get(3)),
        pid: text(caps.get(4)),
        msgid: None,
    })
}

fn priority(pri: Option<&str>, fields: &mut Fields) {
    if let Some(pri) = pri.and_then(|p| p.parse::<u16>().ok()) {
        fields.push("facility", (pri / 8).to_string());
        fields.push("severity", (pri % 8).to_string());
    }
}

/// `client`, `ident`, `user`, `method`, `path`, `protocol`, `status`,
/// `bytes`, `referer`, `agent` of a common/combined access log line. A
/// request that is not `METHOD PATH PROTOCOL` is kept whole as `request`.
pub fn access(line: &str) -> Fields {
    let mut fields = Fields::with_capacity(line.len());
    let time_first = line.as_bytes().get(4) == Some(&b'-')
        && line.as_bytes()[..4].iter().all(u8::is_ascii_digit);
    if time_first && let Some(caps) = ACCESS_TIME_FIRST.captures(line) {
        let get = |index| caps.get(index).map_or("", |m| m.as_str());
        fields.push("client", get(1));
        if get(2) != "-" {
            fields.push("user", get(2));
        }
        fields.push("method", get(3));
        fields.push("path", get(4));
        fields.push("status", get(5));
        fields.push("bytes", get(6));
        return fields;
    }
    let Some(parts) = access_parts(line) else {
        return fields;
    };
    if let Some(vhost) = parts.vhost {
        fields.push("vhost", vhost);
    }
    fields.push("client", parts.client);
    for (value, name) in [(parts.ident, "ident"), (parts.user, "user")] {
        if value != "-" {
            fields.push(name, value);
        }
    }
    let request = parts.request;
    let mut words = request.split(' ');
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some(method), Some(path), Some(protocol), None) => {
            fields.push("method", method);
            fields.push("path", path);
            fields.push("protocol", protocol);
        }
        (Some(method), Some(path), None, None) => {
            fields.push("method", method);
            fields.push("path", path);
        }
        _ => fields.push("request", request),
    }
    fields.push("status", parts.status);
    fields.push("bytes", parts.bytes);
    if let Some((referer, agent)) = parts.referer_agent {
        fields.push("referer", referer);
        fields.push("agent", agent);
    }
    fields
}

/// The parts of a common or combined access line (a virtual host first or
/// not), as the `ACCESS` and `ACCESS_VHOST` patterns capture them.
#[derive(Debug, PartialEq, Eq)]
struct AccessParts<'a> {
    vhost: Option<&'a str>,
    client: &'a str,
    ident: &'a str,
    user: &'a str,
    request: &'a str,
    status: &'a str,
    bytes: &'a str,
    referer_agent: Option<(&'a str, &'a str)>,
}

/// [`AccessParts`] read by hand for an ASCII prefix (the common case, a
/// tenth of the cost of the patterns), else by the patterns.
fn access_parts(line: &str) -> Option<AccessParts<'_>> {
    match access_by_hand(line) {
        Some(Some(parts)) => Some(parts),
        Some(None) => None,
        None => access_by_pattern(line),
    }
}

/// `Some(None)` when the line is surely no access line, `None` when the
/// patterns must decide (a byte outside ASCII where a field is read).
fn access_by_hand(line: &str) -> Option<Option<AccessParts<'_>>> {
    let bytes = line.as_bytes();
    // The fields before the `[`: runs of non-blank ASCII, one space after
    // each; three, or four with a virtual host first.
    let mut fields: [&str; 4] = [""; 4];
    let mut count = 0;
    let mut at = 0;
    while bytes.get(at) != Some(&b'[') {
        if count == 4 {
            return Some(None);
        }
        let start = at;
        while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
            if bytes[at] >= 0x80 {
                return None;
            }
            at += 1;
        }
        if at == start || bytes.get(at) != Some(&b' ') {
            return Some(None);
        }
        fields[count] = &line[start..at];
        count += 1;
        at += 1;
    }
    if count < 3 {
        return Some(None);
    }
    // `[time] "request" status bytes`.
    let close = match memchr::memchr(b']', &bytes[at..]) {
        Some(i) if i > 1 => at + i,
        _ => return Some(None),
    };
    at = close + 1;
    if !bytes[at..].starts_with(b" \"") {
        return Some(None);
    }
    let Some((request, end)) = quoted(line, at + 1) else {
        return Some(None);
    };
    at = end;
    if bytes.get(at) != Some(&b' ') {
        return Some(None);
    }
    at += 1;
    let status_start = at;
    while at < bytes.len() && at - status_start < 3 && bytes[at].is_ascii_digit() {
        at += 1;
    }
    if at - status_start != 3 || bytes.get(at) != Some(&b' ') {
        return match bytes.get(at) {
            Some(b) if *b >= 0x80 => None,
            _ => Some(None),
        };
    }
    let status = &line[status_start..at];
    at += 1;
    let bytes_start = at;
    if bytes.get(at) == Some(&b'-') {
        at += 1;
    } else {
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        if at == bytes_start {
            return match bytes.get(at) {
                Some(b) if *b >= 0x80 => None,
                _ => Some(None),
            };
        }
        if bytes.get(at).is_some_and(|b| *b >= 0x80) {
            return None;
        }
    }
    let size = &line[bytes_start..at];
    let referer_agent = (|| {
        if !bytes[at..].starts_with(b" \"") {
            return None;
        }
        let (referer, end) = quoted(line, at + 1)?;
        if !bytes[end..].starts_with(b" \"") {
            return None;
        }
        let (agent, _) = quoted(line, end + 1)?;
        Some((referer, agent))
    })();
    let (vhost, rest) = match count {
        4 => (Some(fields[0]), &fields[1..]),
        _ => (None, &fields[..3]),
    };
    Some(Some(AccessParts {
        vhost,
        client: rest[0],
        ident: rest[1],
        user: rest[2],
        request,
        status,
        bytes: size,
        referer_agent,
    }))
}

/// The text of a `"..."` starting at `open` (backslash escapes kept as
/// written), and where it ends (after the closing quote).
fn quoted(line: &str, open: usize) -> Option<(&str, usize)> {
    let bytes = line.as_bytes();
    if bytes.get(open) != Some(&b'"') {
        return None;
    }
    let mut at = open + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => return Some((&line[open + 1..at], at + 1)),
            b'\\' if at + 1 < bytes.len() => {
                at += 1;
                // An escaped character may be longer than a byte.
                at += line[at..].chars().next().map_or(1, char::len_utf8);
            }
            b'\\' => return None,
            _ => at += 1,
        }
    }
    None
}

/// [`AccessParts`] by the `ACCESS` and `ACCESS_VHOST` patterns.
fn access_by_pattern(line: &str) -> Option<AccessParts<'_>> {
    let (caps, shift) = match ACCESS.captures(line) {
        Some(caps) => (caps, 0),
        None => (ACCESS_VHOST.captures(line)?, 1),
    };
    let get = |index: usize| caps.get(index + shift).map_or("", |m| m.as_str());
    Some(AccessParts {
        vhost: (shift == 1).then(|| caps.get(1).map_or("", |m| m.as_str())),
        client: get(1),
        ident: get(2),
        user: get(3),
        request: get(5),
        status: get(6),
        bytes: get(7),
        referer_agent: caps.get(8 + shift).map(|_| (get(8), get(9))),
    })
}

/// The columns of PostgreSQL's `csvlog`, in order (PostgreSQL 9.0 to 17).
const POSTGRES_CSV_COLUMNS: [&str; 26] = [
    "log_time",
    "user_name",
    "database_name",
    "process_id",
    "connection_from",
    "session_id",
    "session_line_num",
    "command_tag",
    "session_start_time",
    "virtual_transaction_id",
    "transaction_id",
    "error_severity",
    "sql_state_code",
    "message",
    "detail",
    "hint",
    "internal_query",
    "internal_query_pos",
    "context",
    "query",
    "query_pos",
    "location",
    "application_name",
    "backend_type",
    "leader_pid",
    "query_id",
];

/// The named, non-empty columns of a PostgreSQL CSV record (which may span
/// lines: quoted values keep their newlines).
pub fn postgres_csv(record: &str) -> Fields {
    let mut fields = Fields::with_capacity(record.len());
    for (name, value) in POSTGRES_CSV_COLUMNS.iter().zip(csv(record)) {
        if !value.is_empty() {
            fields.push(*name, value);
        }
    }
    fields
}

/// The values of one CSV record: `"` quotes a value, `""` inside quotes is a
/// quote. An unclosed quote runs to the end.
pub fn csv(record: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut value = String::new();
    let mut quoted = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                value.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => {
                values.push(std::mem::take(&mut value));
                if values.len() >= MAX_FIELDS {
                    return values;
                }
            }
            (c, _) => value.push(c),
        }
    }
    values.push(value);
    values
}

/// The `pid` of a PostgreSQL (or pgBouncer) stderr prefix.
pub fn postgres(line: &str) -> Fields {
    let mut fields = Fields::with_capacity(16);
    let head = &line[..super::floor_boundary(line, 240)];
    if let Some(pid) = usual_postgres_pid(head).or_else(|| postgres_pid_by_regex(head)) {
        fields.push("pid", pid);
    }
    fields
}

/// The pid [`POSTGRES_PID`] reads in `head`.
fn postgres_pid_by_regex(head: &str) -> Option<&str> {
    POSTGRES_PID
        .captures(head)
        .and_then(|caps| caps.get(1).or(caps.get(2)))
        .map(|pid| pid.as_str())
}

/// The pid of the usual prefix, `DATE TIME [ZONE ][PID]` (PostgreSQL's
/// default `%m [%p] `), read without a regex: where the prefix has this
/// shape, the pid [`POSTGRES_PID`] takes first. `None`: another shape,
/// for the regex to read. (Every line of a PostgreSQL log is read here, and
/// the regex's capture was most of its parsing.)
fn usual_postgres_pid(head: &str) -> Option<&str> {
    let bytes = head.as_bytes();
    // Two words, each ended by a space (not by other whitespace, nor by a
    // byte that may be part of a character that is).
    let mut at = 0;
    for _ in 0..2 {
        let len = bytes[at..]
            .iter()
            .position(|&b| !b.is_ascii() || matches!(b, b'\t'..=b'\r' | b' '))?;
        if len == 0 || bytes[at + len] != b' ' {
            return None;
        }
        at += len + 1;
    }
    let zone = bytes[at..]
        .iter()
        .take(6)
        .take_while(|b| b.is_ascii_uppercase())
        .count();
    match zone {
        0 => {}
        2..=5 if bytes.get(at + zone) == Some(&b' ') => at += zone + 1,
        _ => return None,
    }
    let digits = bytes
        .get(at + 1..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let closed = bytes.get(at) == Some(&b'[') && bytes.get(at + 1 + digits) == Some(&b']');
    (digits > 0 && closed).then(|| &head[at + 1..at + 1 + digits])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(fields: &Fields) -> Vec<(&str, &str)> {
        fields.iter().collect()
    }

    #[test]
    fn json_is_flattened_with_dots_in_order() {
        let fields = json(
            r#"{"level":"info","ts":1669575482.5,"record":{"pid":"600","tags":["a",{"b":true}]},"n":null,"e":{}}"#,
        )
        .expect("object");
        assert_eq!(
            pairs(&fields),
            [
                ("level", "info"),
                ("ts", "1669575482.5"),
                ("record.pid", "600"),
                ("record.tags.0", "a"),
                ("record.tags.1.b", "true"),
                ("n", "null"),
                ("e", "{}"),
            ]
        );
        assert!(json("[1,2]").is_none());
        assert!(json("{broken").is_none());
    }

    #[test]
    fn deep_and_wide_json_is_bounded() {
        let deep = format!("{}1{}", r#"{"a":"#.repeat(50), "}".repeat(50));
        let fields = json(&deep).expect("object");
        assert_eq!(fields.len(), 1);
        let wide = format!(
            "{{{}}}",
            (0..500)
                .map(|i| format!("\"k{i}\":{i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(json(&wide).expect("object").len(), MAX_FIELDS);
    }

    #[test]
    fn logfmt_pairs_with_quotes_and_escapes() {
        let fields = logfmt(
            r#"time="2026-11-21T03:12:09Z" level=info msg="said \"hi\"\nbye" bare dur=1.5s empty= path=C:\x"#,
        );
        assert_eq!(
            pairs(&fields),
            [
                ("time", "2026-11-21T03:12:09Z"),
                ("level", "info"),
                ("msg", "said \"hi\"\nbye"),
                ("dur", "1.5s"),
                ("empty", ""),
                ("path", r"C:\x"),
            ]
        );
        assert_eq!(pairs(&logfmt(r#"a="unclosed"#)), [("a", "unclosed")]);
        assert_eq!(pairs(&logfmt(r#"a="x\"#)), [("a", "x\\")]);
        assert!(logfmt("=x ===").is_empty());
    }

    #[test]
    fn syslog_host_program_pid() {
        assert_eq!(
            pairs(&syslog(
                "Feb 10 23:15:39 test-pc postgres[10808]: [1-1] db=,user= LOG:  x"
            )),
            [
                ("host", "test-pc"),
                ("program", "postgres"),
                ("pid", "10808")
            ]
        );
        assert_eq!(
            pairs(&syslog("<13>Nov 21 03:14:02 web-1 kernel: oom")),
            [
                ("facility", "1"),
                ("severity", "5"),
                ("host", "web-1"),
                ("program", "kernel")
            ]
        );
        assert_eq!(
            pairs(&syslog(
                "<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [x] msg"
            )),
            [
                ("facility", "20"),
                ("severity", "5"),
                ("host", "mymachine"),
                ("program", "evntslog"),
                ("msgid", "ID47")
            ]
        );
    }

    #[test]
    fn access_log_request_status_and_client() {
        let fields = access(
            r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /a.png HTTP/1.1" 200 203023 "http://x/" "Mozilla/5.0""#,
        );
        assert_eq!(
            pairs(&fields),
            [
                ("client", "83.149.9.216"),
                ("method", "GET"),
                ("path", "/a.png"),
                ("protocol", "HTTP/1.1"),
                ("status", "200"),
                ("bytes", "203023"),
                ("referer", "http://x/"),
                ("agent", "Mozilla/5.0")
            ]
        );
        let odd = access(r#"1.2.3.4 - bob [17/May/2015:10:05:03 +0000] "-" 400 -"#);
        assert_eq!(odd.get("request"), Some("-"));
        assert_eq!(odd.get("user"), Some("bob"));
        assert_eq!(odd.get("status"), Some("400"));
        assert!(access("not an access line").is_empty());
    }

    #[test]
    fn postgres_csv_columns_by_name() {
        let fields = postgres_csv(
            "\"2026-05-16 05:20:03.994 UTC\",\"u\",\"d\",1002,\"h:1\",2.3ea,2,\"idle\",\"2026-05-16 05:00:00 UTC\",2/2,0,LOG,00000,\"statement: SELECT \"\"x\"\"\nFROM t\",,,,,,,,,\"app\",\"client backend\",,0",
        );
        assert_eq!(fields.get("error_severity"), Some("LOG"));
        assert_eq!(fields.get("process_id"), Some("1002"));
        assert_eq!(
            fields.get("message"),
            Some("statement: SELECT \"x\"\nFROM t")
        );
        assert_eq!(fields.get("application_name"), Some("app"));
        assert_eq!(fields.get("query_id"), Some("0"));
        assert_eq!(fields.get("detail"), None);
    }

    #[test]
    fn postgres_pid_in_several_prefixes() {
        for (line, pid) in [
            ("2019-10-21 12:03:31.311 MSK [5133] LOG:  duration", "5133"),
            (
                "2020-03-11 20:40:43 CET::@:[12760]:LOG:  listening",
                "12760",
            ),
            (
                "2021-05-27 17:00:00 UTC:10.1.91.65:user@my_db:[24743]:LOG: x",
                "24743",
            ),
            (
                "2023-03-07 09:06:08 CET [130096]: [247-1] [0] usr=u LOG:  x",
                "130096",
            ),
            ("2018-09-12 16:08:54.775 3392 LOG file descriptor", "3392"),
        ] {
            assert_eq!(postgres(line).get("pid"), Some(pid), "{line}");
        }
        assert!(postgres("pg_ctl: could not start server").is_empty());
    }

    /// The flattening before its path was grown in place: what it must
    /// still give.
    fn flatten_by_format(path: &str, value: &Value, depth: usize, fields: &mut Fields) {
        if fields.len() >= MAX_FIELDS {
            return;
        }
        match value {
            Value::Object(object) if depth < MAX_DEPTH && !object.is_empty() => {
                for (key, value) in object {
                    flatten_by_format(&format!("{path}.{key}"), value, depth + 1, fields);
                }
            }
            Value::Array(items) if depth < MAX_DEPTH && !items.is_empty() => {
                for (index, value) in items.iter().enumerate() {
                    flatten_by_format(&format!("{path}.{index}"), value, depth + 1, fields);
                }
            }
            Value::String(text) => fields.push(path, text.as_str()),
            other => fields.push(path, other.to_string()),
        }
    }

    #[test]
    fn a_postgres_pid_in_the_usual_prefix_or_another() {
        for (line, pid) in [
            ("2026-11-21 00:00:00.641 UTC [4167] ERROR:  x", Some("4167")),
            ("2026-11-21 00:00:00 [12] LOG:  x", Some("12")),
            (
                "2019-01-01 00:00:00 UTC:10.0.0.1(5432):u@db:[12760]:LOG: x",
                Some("12760"),
            ),
            ("2019-01-01 00:00:00.123 CET 42 LOG C-0x1: x", Some("42")),
            ("2026-11-21 00:00:00 UTC[77] x", Some("77")),
            ("2026-11-21 00:00:00 ABCDEF [5] x", Some("5")),
            ("2026-11-21 00:00:00 UTC [x] x", None),
        ] {
            assert_eq!(postgres(line).get("pid"), pid, "{line}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_usual_postgres_prefix_is_read_as_the_regex_reads_it(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "", " ", "  ", "\t", "\u{a0}", ":", "2026-11-21", "00:00:00.1", "UTC", "X",
                    "ABCDEF", "[", "]", "42", "\u{663}", "é", "[4167]",
                ]),
                0..10,
            ),
        ) {
            // Mostly the usual shape, each part of it sometimes another.
            let usual = ["2026-11-21", " ", "00:00:00.1", " ", "UTC", " ", "[", "42", "]", " x"];
            let line: String = usual
                .iter()
                .enumerate()
                .map(|(i, part)| parts.get(i).copied().filter(|p| !p.is_empty()).unwrap_or(part))
                .collect();
            let head = &line[..super::super::floor_boundary(&line, 240)];
            let by_regex = postgres_pid_by_regex(head);
            if let Some(pid) = usual_postgres_pid(head) {
                proptest::prop_assert_eq!(Some(pid), by_regex);
            }
            let fields = postgres(&line);
            proptest::prop_assert_eq!(fields.get("pid"), by_regex);
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[a-z\"\\\\é]{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(10, 200, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec(("[a-c.]{1,2}", inner), 0..5)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn json_flattened_in_place_as_by_format(
            members in proptest::collection::vec(("[a-c]{1,2}", json_value()), 0..6)
        ) {
            let object: serde_json::Map<String, Value> = members.into_iter().collect();
            let line = Value::Object(object).to_string();
            // Read back as the line path reads it (a float's last digit
            // may move).
            let Ok(Value::Object(read)) = serde_json::from_str::<Value>(&line) else {
                panic!("{line} reads back");
            };
            let mut want = Fields::with_capacity(line.len());
            for (key, value) in &read {
                flatten_by_format(key, value, 1, &mut want);
            }
            let got = json(&line).expect("an object");
            proptest::prop_assert_eq!(pairs(&got), pairs(&want), "{}", line);
        }
        #[test]
        fn access_lines_read_by_hand_as_by_the_patterns(
            vhost in proptest::option::of("[a-z.]{1,8}"),
            client in "[0-9a-f.:]{1,12}|-",
            user in "[a-z]{1,5}|-|b\u{e9}b",
            time in "[0-9A-Za-z/: +-]{0,26}|[^]]{1,5}",
            request in "([A-Z]{3,6} /[a-z0-9/?=&%]{0,12}( HTTP/1\\.[01])?|-|[a-z \\\\\"]{0,10})",
            status in "[0-9]{3}|[0-9]{2}|xyz",
            size in "[0-9]{1,6}|-|",
            tail in "( \"[a-z:/.\\\\\"-]{0,10}\" \"[A-Za-z/. ()\\\\\"]{0,12}\")?[ a-z\u{e9}]{0,4}",
        ) {
            let line = format!(
                "{}{client} - {user} [{time}] \"{request}\" {status} {size}{tail}",
                vhost.map(|v| format!("{v} ")).unwrap_or_default()
            );
            proptest::prop_assert_eq!(access_parts(&line), access_by_pattern(&line), "{}", line);
        }
    }

    proptest::proptest! {
        #[test]
        fn syslog_lines_read_by_hand_as_by_the_patterns(
            pri in proptest::option::of("[0-9]{1,4}|x"),
            version in proptest::option::of("[0-9]{1,3}"),
            month in "[A-Z][a-z]{2}|[a-z]{3}|Ma",
            day in " [0-9]|[0-9]{2}|[0-9]",
            clock in "[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,3})?|[0-9:]{5,9}",
            host in "[a-z0-9.-]{0,6}|h\u{e9}",
            program in "[a-zA-Z/._-]{0,8}|p\u{e9}|[a-z]{2}:[a-z]",
            pid in "(\\[[0-9]{0,4}\\]|\\[x\\])?",
            rest in "(: |:|  )[a-z \u{e9}]{0,6}",
        ) {
            let head = match (&pri, &version) {
                (Some(pri), Some(version)) => format!("<{pri}>{version} 2026-11-21T03:00:00Z {host} {program} {pid} - "),
                (Some(pri), None) => format!("<{pri}>{month} {day} {clock} {host} {program}{pid}"),
                (None, _) => format!("{month} {day} {clock} {host} {program}{pid}"),
            };
            let line = format!("{head}{rest}");
            proptest::prop_assert_eq!(syslog_parts(&line), syslog_by_pattern(&line), "{}", line);
        }
    }
}
