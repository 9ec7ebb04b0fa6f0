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

use std::sync::LazyLock;

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
    let mut fields = Fields::new();
    for (key, value) in &object {
        flatten(key, value, 1, &mut fields);
    }
    Some(fields)
}

fn flatten(path: &str, value: &Value, depth: usize, fields: &mut Fields) {
    if fields.len() >= MAX_FIELDS {
        return;
    }
    match value {
        Value::Object(object) if depth < MAX_DEPTH && !object.is_empty() => {
            for (key, value) in object {
                flatten(&format!("{path}.{key}"), value, depth + 1, fields);
            }
        }
        Value::Array(items) if depth < MAX_DEPTH && !items.is_empty() => {
            for (index, value) in items.iter().enumerate() {
                flatten(&format!("{path}.{index}"), value, depth + 1, fields);
            }
        }
        Value::String(text) => fields.push(path, text.as_str()),
        other => fields.push(path, other.to_string()),
    }
}

/// The `key=value` pairs of a logfmt line. Values may be double-quoted with
/// backslash escapes; a bare word without `=` is skipped.
pub fn logfmt(line: &str) -> Fields {
    let mut fields = Fields::new();
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
        let value = if bytes.get(pos) == Some(&b'"') {
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
            value.push_str(&line[chunk_start..pos.min(bytes.len())]);
            pos += 1; // The closing quote, if there is one.
            value
        } else {
            let value_start = pos;
            while pos < bytes.len() && !bytes[pos].is_ascii_whitespace() {
                pos += 1;
            }
            line[value_start..pos].to_owned()
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
    let mut fields = Fields::new();
    if let Some(caps) = SYSLOG_5424.captures(line) {
        priority(caps.get(1).map(|m| m.as_str()), &mut fields);
        for (index, name) in [(2, "host"), (3, "program"), (4, "pid"), (5, "msgid")] {
            if let Some(value) = caps.get(index).map(|m| m.as_str()).filter(|v| *v != "-") {
                fields.push(name, value);
            }
        }
    } else if let Some(caps) = SYSLOG_3164.captures(line) {
        priority(caps.get(1).map(|m| m.as_str()), &mut fields);
        for (index, name) in [(2, "host"), (3, "program"), (4, "pid")] {
            if let Some(value) = caps.get(index) {
                fields.push(name, value.as_str());
            }
        }
    }
    fields
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
    let mut fields = Fields::new();
    if let Some(caps) = ACCESS_TIME_FIRST.captures(line) {
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
    let (caps, shift) = match ACCESS.captures(line) {
        Some(caps) => (caps, 0),
        None => match ACCESS_VHOST.captures(line) {
            Some(caps) => (caps, 1),
            None => return fields,
        },
    };
    let get = |index: usize| caps.get(index + shift).map_or("", |m| m.as_str());
    if shift == 1 {
        fields.push("vhost", caps.get(1).map_or("", |m| m.as_str()));
    }
    fields.push("client", get(1));
    for (index, name) in [(2, "ident"), (3, "user")] {
        if get(index) != "-" {
            fields.push(name, get(index));
        }
    }
    let request = get(5);
    let parts: Vec<&str> = request.split(' ').collect();
    match parts.as_slice() {
        [method, path, protocol] => {
            fields.push("method", *method);
            fields.push("path", *path);
            fields.push("protocol", *protocol);
        }
        [method, path] => {
            fields.push("method", *method);
            fields.push("path", *path);
        }
        _ => fields.push("request", request),
    }
    fields.push("status", get(6));
    fields.push("bytes", get(7));
    if caps.get(8 + shift).is_some() {
        fields.push("referer", get(8));
        fields.push("agent", get(9));
    }
    fields
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
    let mut fields = Fields::new();
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
    let mut fields = Fields::new();
    let head = &line[..super::floor_boundary(line, 240)];
    if let Some(caps) = POSTGRES_PID.captures(head)
        && let Some(pid) = caps.get(1).or(caps.get(2))
    {
        fields.push("pid", pid.as_str());
    }
    fields
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
}
