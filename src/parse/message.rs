//! Where a line's message starts: after the prefix a logger, a runner or a
//! container runtime put before it (time, level, host, program and pid,
//! thread, logger name, CI and CRI prefixes).
//!
//! Owns: [`start`], the byte offset of the message in a line's text, per
//! format. Must not: do I/O. Invariants: never panics on any input; the
//! offset is a char boundary of the text, at most its length; `0` when the
//! line has no prefix it knows (or for formats whose message is a field:
//! JSON, logfmt, access and PostgreSQL CSV lines keep the whole line).
//!
//! After the time, these are taken as prefix, in any order, at most a dozen
//! tokens: separators (`-`, `|`, `:`, `---`), one level (`ERROR`, `[INFO]`,
//! `info`, `<E>`, GitHub's `##[error]`), a bracketed group (`[main]`, `[req-1 u p - - -]`,
//! `(worker-3)`), a number followed by more prefix (a pid, a thread id), a
//! source location (`main.go:12]`), a logger name followed by `-`, `:` or a
//! bracket (`com.example.Pool -`, `triage::scan:`). The first token that is
//! none of these starts the message: `FAILURE: Build failed` keeps its
//! `FAILURE:`, a Maven line's message starts after `[INFO] `.

use super::{
    Format, TimeContext, level_word, postgres_severity_span,
    timestamp::{self, Found},
};

/// The most prefix tokens taken after a time.
const MAX_TOKENS: usize = 12;

/// The byte offset where the message of `text` (one line, or a record's
/// first line) starts, given the time found in it.
pub fn start(text: &str, format: Format, time: Option<Found>, ctx: &TimeContext) -> usize {
    let at = match format {
        Format::Json
        | Format::DockerJson
        | Format::PostgresJson
        | Format::Logfmt
        | Format::Access
        | Format::PostgresCsv => return 0,
        Format::Syslog => syslog(text, time, ctx),
        Format::Syslog5424 => syslog5424(text, time),
        Format::Cri => cri(text, ctx),
        Format::Postgres => postgres(text, time, ctx),
        Format::NginxError => nginx_error(text, time, ctx),
        Format::ApacheError => apache_error(text),
        Format::Python => python(text, time, ctx),
        Format::Logcat => logcat(text, time, ctx),
        Format::Log4j | Format::Tracing | Format::Plain => after_prefix(text, time, ctx),
    };
    floor_boundary(text, at)
}

/// The message after a time and the generic prefix tokens (the module's
/// list); with no time, after a leading level and what follows it. A line
/// written inside another (a CI runner's time, then the step's own line
/// with its time) has both prefixes taken.
pub fn after_prefix(text: &str, time: Option<Found>, ctx: &TimeContext) -> usize {
    let bytes = text.as_bytes();
    let mut at = match time {
        Some(found) => close_time(bytes, found),
        None => 0,
    };
    if time.is_some() {
        let inner = skip_blanks(bytes, at);
        let may_be_time = bytes
            .get(inner)
            .is_some_and(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || *b == b'[');
        if may_be_time
            && let Some(found) = timestamp::at_start(&text[floor_boundary(text, inner)..], ctx)
                .filter(|f| f.start <= 1)
        {
            at = inner + close_time(&bytes[inner..], found);
        }
    }
    let mut level_seen = false;
    let mut taken_any = time.is_some();
    for _ in 0..MAX_TOKENS {
        let token_start = skip_blanks(bytes, at);
        if token_start >= bytes.len() {
            return bytes.len();
        }
        let end = token_end(bytes, token_start);
        let token = &text[token_start..end];
        let next = next_token(text, end);
        let taken = if let Some(len) = annotation_end(token).filter(|_| !level_seen) {
            level_seen = true;
            Some(token_start + len)
        } else if is_separator(token) {
            taken_any.then_some(end)
        } else if !level_seen && is_level_token(token) {
            level_seen = true;
            Some(end)
        } else if let Some(close) =
            group_end(bytes, token_start).filter(|_| taken_any || level_seen)
        {
            Some(close)
        } else {
            let number = token.bytes().all(|b| b.is_ascii_digit())
                && taken_any
                && next.is_some_and(|n| {
                    is_level_token(n)
                        || is_separator(n)
                        || n.bytes().all(|b| b.is_ascii_digit())
                        || n.starts_with(['[', '('])
                        || is_source_location(n)
                });
            let location = taken_any && is_source_location(token);
            let logger = (taken_any || level_seen) && is_logger(token, next);
            (number || location || logger).then_some(end)
        };
        match taken {
            Some(end) => {
                at = end;
                taken_any = true;
            }
            None => return token_start,
        }
    }
    skip_blanks(bytes, at)
}

/// Past the time's text and whatever closes it (`]`, `)`, `"`, `:`, `,`).
fn close_time(bytes: &[u8], found: Found) -> usize {
    let mut at = found.end;
    while at < bytes.len() && matches!(bytes[at], b']' | b')' | b'"' | b':' | b',' | b'>') {
        at += 1;
    }
    at
}

fn skip_blanks(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') {
        at += 1;
    }
    at
}

fn token_end(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && !matches!(bytes[at], b' ' | b'\t') {
        at += 1;
    }
    at
}

fn next_token(text: &str, at: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    let start = skip_blanks(bytes, at);
    (start < bytes.len()).then(|| &text[start..token_end(bytes, start)])
}

fn is_separator(token: &str) -> bool {
    !token.is_empty() && token.len() <= 3 && token.bytes().all(|b| matches!(b, b'-' | b'|' | b':'))
}

/// GitHub Actions' level annotations glued to the message:
/// `##[error]Process completed`, `##[warning]...`: where the message after
/// one starts.
fn annotation_end(token: &str) -> Option<usize> {
    let rest = token.strip_prefix("##[")?;
    let close = rest.find(']')?;
    level_word(&rest[..close])?;
    Some(3 + close + 1)
}

/// A level as a prefix writes it: `ERROR`, `info`, `[INFO]`, `<E>`,
/// `INFO:`, `local.ERROR:`; not a lower-case word with a colon, which is
/// how compilers and runtimes start their messages (`error: could not
/// compile`, `panic: runtime error`).
fn is_level_token(token: &str) -> bool {
    let enclosed = token.starts_with(['[', '(', '<']);
    if !enclosed && token.ends_with(':') && token.bytes().any(|b| b.is_ascii_lowercase()) {
        return false;
    }
    let inner =
        token.trim_matches(|c: char| matches!(c, '[' | ']' | '(' | ')' | '<' | '>' | ':' | ','));
    if inner.is_empty() || inner.len() > 12 {
        return false;
    }
    let inner = inner.rsplit('.').next().unwrap_or(inner);
    level_word(inner).is_some()
}

/// The end of a bracketed group starting at `at` (`[main]`, `(worker-3)`,
/// OpenStack's `[req-1 u p - - -]`), with what glues to its close (`]:`),
/// if it closes within 200 bytes.
fn group_end(bytes: &[u8], at: usize) -> Option<usize> {
    let close = match bytes.get(at)? {
        b'[' => b']',
        b'(' => b')',
        b'{' => b'}',
        _ => return None,
    };
    let open = bytes[at];
    let limit = bytes.len().min(at + 200);
    let mut depth = 0_u32;
    for (i, &b) in bytes[at..limit].iter().enumerate() {
        if b == open {
            depth += 1;
        } else if b == close {
            depth -= 1;
            if depth == 0 {
                let mut end = at + i + 1;
                while end < bytes.len() && matches!(bytes[end], b':' | b',') {
                    end += 1;
                }
                return (end >= bytes.len() || matches!(bytes[end], b' ' | b'\t')).then_some(end);
            }
        }
    }
    None
}

/// `main.go:12]`, `Foo.java:42)`: a file and line closing a group.
fn is_source_location(token: &str) -> bool {
    let Some(body) = token.strip_suffix([']', ')']) else {
        return false;
    };
    let Some((file, line)) = body.rsplit_once(':') else {
        return false;
    };
    !file.is_empty() && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit())
}

/// A logger name: dotted (`com.example.Pool`, `o.s.b.App`) or with `::`
/// (`triage::scan`), followed by a separator or a bracket, or ending in a
/// colon.
fn is_logger(token: &str, next: Option<&str>) -> bool {
    let colon = token.ends_with(':');
    let name = token.trim_end_matches(':');
    let name = match name.rsplit_once(':') {
        Some((name, line)) if !name.ends_with(':') && line.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => name,
    };
    let shaped = (name.contains('.') || name.contains("::"))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$' | b':' | b'-' | b'#')
        })
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'#');
    shaped && (colon || next.is_some_and(|n| is_separator(n) || n.starts_with(['[', '('])))
}

/// Syslog: after `host program[pid]: ` (a program with no pid, `kernel:`,
/// too), then a level.
fn syslog(text: &str, time: Option<Found>, ctx: &TimeContext) -> usize {
    let Some(found) = time else {
        return 0;
    };
    let bytes = text.as_bytes();
    let head_end = bytes.len().min(found.end + 160);
    let after = match memchr::memmem::find(&bytes[found.end..head_end], b": ") {
        Some(i) => found.end + i + 2,
        None => return after_prefix(text, time, ctx),
    };
    level_then_message(text, after)
}

/// RFC 5424: `<PRI>1 TIME HOST APP PROCID MSGID SD MSG`.
fn syslog5424(text: &str, time: Option<Found>) -> usize {
    let Some(found) = time else {
        return 0;
    };
    let bytes = text.as_bytes();
    let mut at = found.end;
    for _ in 0..4 {
        at = token_end(bytes, skip_blanks(bytes, at));
    }
    at = skip_blanks(bytes, at);
    // Structured data: `-` or one or more `[...]`.
    if bytes.get(at) == Some(&b'-') {
        at += 1;
    } else {
        while bytes.get(at) == Some(&b'[') {
            let mut i = at + 1;
            while i < bytes.len() && bytes[i] != b']' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            at = (i + 1).min(bytes.len());
        }
    }
    at = skip_blanks(bytes, at);
    if bytes[at.min(bytes.len())..].starts_with(b"\xef\xbb\xbf") {
        at += 3;
    }
    at.min(bytes.len())
}

/// CRI: `TIME stream tag ` then the container's own line, whose prefix is
/// taken too.
fn cri(text: &str, ctx: &TimeContext) -> usize {
    let bytes = text.as_bytes();
    let mut at = 0;
    for _ in 0..3 {
        at = skip_blanks(bytes, token_end(bytes, at));
    }
    let at = floor_boundary(text, at);
    let inner = &text[at..];
    at + after_prefix(inner, timestamp::at_start(inner, ctx), ctx)
}

/// PostgreSQL: after `SEVERITY:  `.
fn postgres(text: &str, time: Option<Found>, ctx: &TimeContext) -> usize {
    match postgres_severity_span(text) {
        Some((_, end)) => skip_blanks(text.as_bytes(), end),
        None => after_prefix(text, time, ctx),
    }
}

/// nginx: `TIME [level] pid#tid: *cid message`.
fn nginx_error(text: &str, time: Option<Found>, ctx: &TimeContext) -> usize {
    let bytes = text.as_bytes();
    let from = time.map_or(0, |f| f.end);
    let head_end = bytes.len().min(from + 80);
    let Some(i) = memchr::memmem::find(&bytes[from..head_end], b": ") else {
        return after_prefix(text, time, ctx);
    };
    let mut at = from + i + 2;
    if bytes.get(at) == Some(&b'*') {
        at = skip_blanks(bytes, token_end(bytes, at));
    }
    at
}

/// Apache: after the leading bracketed groups (`[time] [mod:level] [pid n]
/// [client a:p] `).
fn apache_error(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut at = 0;
    while bytes.get(at) == Some(&b'[') {
        match memchr::memchr(b']', &bytes[at..]) {
            Some(i) => at = skip_blanks(bytes, at + i + 1),
            None => break,
        }
    }
    at
}

/// Python: `LEVEL:logger:message`, or `TIME - logger - LEVEL - message`.
fn python(text: &str, time: Option<Found>, ctx: &TimeContext) -> usize {
    if time.is_none()
        && let Some((level, rest)) = text.split_once(':')
        && level_word(level).is_some()
        && let Some(i) = rest.find(':')
    {
        return level.len() + 1 + i + 1;
    }
    after_prefix(text, time, ctx)
}

/// logcat: `TIME  pid  tid L tag: message` or `TIME L/tag( pid): message`.
fn logcat(text: &str, time: Option<Found>, ctx: &TimeContext) -> usize {
    let Some(found) = time else {
        return 0;
    };
    let bytes = text.as_bytes();
    let head_end = bytes.len().min(found.end + 120);
    match memchr::memmem::find(&bytes[found.end..head_end], b": ") {
        Some(i) => found.end + i + 2,
        None => after_prefix(text, time, ctx),
    }
}

/// After a level word (and its colon) at `at`, if one is there.
fn level_then_message(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let start = skip_blanks(bytes, at);
    let end = token_end(bytes, start);
    match start < end && is_level_token(&text[start..end]) {
        true => skip_blanks(bytes, end),
        false => at,
    }
}

fn floor_boundary(text: &str, at: usize) -> usize {
    super::floor_boundary(text, at)
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;
    use crate::parse::TimeContext;

    /// The message of `text` read as a one-line source in `format`.
    fn message(format: Format, text: &str) -> String {
        let ctx = TimeContext::new(
            TimeZone::UTC,
            "2026-11-21T12:00:00Z".parse().expect("valid"),
        );
        let profile = crate::parse::Profile::of(text.as_bytes(), true, Some(format), &ctx);
        let parser = crate::parse::Parser::with_format(std::sync::Arc::from("t"), ctx, format)
            .with_layout(profile.layout);
        text[parser.read(text).message..].to_owned()
    }

    #[test]
    fn messages_start_after_the_prefix() {
        for (format, line, want) in [
            (
                Format::Plain,
                "2021-12-01T13:01:04.3807878Z FAILURE: Build failed with an exception.",
                "FAILURE: Build failed with an exception.",
            ),
            (
                Format::Plain,
                "2021-12-01T13:01:04.3807878Z [INFO] BUILD FAILURE",
                "BUILD FAILURE",
            ),
            (
                Format::Plain,
                "[ERROR] Failed to execute goal x",
                "Failed to execute goal x",
            ),
            (
                Format::Log4j,
                "2026-11-21 03:12:09,114 [main] ERROR com.example.Pool - exhausted",
                "exhausted",
            ),
            (
                Format::Log4j,
                "2026-11-21 03:12:09.114 ERROR 1 --- [main] c.e.Pool : x",
                "x",
            ),
            (
                Format::Tracing,
                "2026-11-21T03:12:09.114Z  INFO triage::scan: started",
                "started",
            ),
            (
                Format::Tracing,
                "I1121 03:12:09.114567   12345 main.go:12] ready",
                "ready",
            ),
            (
                Format::Plain,
                "2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38 11 54 - - -] 10.11.10.1 \"GET /v2\" status: 200",
                "10.11.10.1 \"GET /v2\" status: 200",
            ),
            (
                Format::Plain,
                "2026-11-21 03:00:00 3 workers started",
                "3 workers started",
            ),
            (
                Format::Syslog,
                "Nov 21 03:14:02 web-1 sshd[42]: Failed password for root",
                "Failed password for root",
            ),
            (
                Format::Syslog,
                "Nov 21 03:14:02 web-1 app[42]: ERROR disk full",
                "disk full",
            ),
            (
                Format::Syslog5424,
                "<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [exampleSDID@32473 iut=\"3\"] An application event",
                "An application event",
            ),
            (
                Format::Cri,
                "2026-11-21T03:00:00.1Z stdout F 2026-11-21 03:00:00,001 ERROR [main] c.e.A - boom",
                "boom",
            ),
            (
                Format::Cri,
                "2026-11-21T03:00:00.1Z stderr F panic: runtime error",
                "panic: runtime error",
            ),
            (
                Format::Plain,
                "2021-12-01T13:01:04.3807878Z error: could not compile `app`",
                "error: could not compile `app`",
            ),
            (
                Format::Plain,
                "2021-12-01T13:01:04.3807878Z ERROR: job failed",
                "job failed",
            ),
            (
                Format::Postgres,
                "2026-11-21 03:04:10.123 UTC [4242] FATAL:  sorry, too many clients",
                "sorry, too many clients",
            ),
            (
                Format::NginxError,
                "2026/11/21 03:05:12 [error] 31#31: *1 upstream timed out",
                "upstream timed out",
            ),
            (
                Format::ApacheError,
                "[Sat Nov 21 03:12:09.123456 2026] [proxy:error] [pid 42] [client 1.2.3.4:5] AH00940: failed",
                "AH00940: failed",
            ),
            (
                Format::Python,
                "ERROR:root:pool exhausted",
                "pool exhausted",
            ),
            (
                Format::Python,
                "2026-11-21 03:12:09,114 - app.db - ERROR - pool exhausted",
                "pool exhausted",
            ),
            (
                Format::Logcat,
                "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezing",
                "printFreezing",
            ),
            (
                Format::Access,
                "1.2.3.4 - - [21/Nov/2026:03:00:00 +0000] \"GET / HTTP/1.1\" 200 1",
                "1.2.3.4 - - [21/Nov/2026:03:00:00 +0000] \"GET / HTTP/1.1\" 200 1",
            ),
            (
                Format::Plain,
                "just words, no prefix",
                "just words, no prefix",
            ),
        ] {
            assert_eq!(message(format, line), want, "{format}: {line}");
        }
    }
}
