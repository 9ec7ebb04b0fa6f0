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
    Format, TimeContext, level_bytes, level_word, postgres_severity_span,
    timestamp::{self, LineTime},
};

/// The most prefix tokens taken after a time.
const MAX_TOKENS: usize = 12;

/// The byte offset where the message of `text` (one line, or a record's
/// first line) starts, given the time found in it.
pub fn start(text: &str, format: Format, time: Option<LineTime>, ctx: &TimeContext) -> usize {
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
pub fn after_prefix(text: &str, time: Option<LineTime>, ctx: &TimeContext) -> usize {
    walk_prefix(text, time, ctx).0
}

/// How a prefix ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// At a token that is no prefix; whether a level was among the prefix.
    AtMessage { level_seen: bool },
    /// After [`MAX_TOKENS`] prefix tokens, or at the end of the line.
    Cut,
}

/// [`after_prefix`], and how the prefix ended.
fn walk_prefix(text: &str, time: Option<LineTime>, ctx: &TimeContext) -> (usize, Ended) {
    let bytes = text.as_bytes();
    let mut at = match time {
        Some(found) => close_time(bytes, found),
        None => 0,
    };
    if time.is_some() {
        let inner = skip_blanks(bytes, at);
        let may_be_time = may_start_time(&bytes[inner.min(bytes.len())..]);
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
            return (bytes.len(), Ended::Cut);
        }
        match take_token(text, token_start, level_seen, taken_any) {
            Some((end, level)) => {
                at = end;
                taken_any = true;
                level_seen |= level;
            }
            None => return (token_start, Ended::AtMessage { level_seen }),
        }
    }
    (skip_blanks(bytes, at), Ended::Cut)
}

/// Whether the token at `token_start` is more prefix (given whether a level
/// and any prefix token were seen before it): where the prefix goes on
/// after it, and whether it is the level; `None` where the message starts.
/// Dispatched on the first byte: each token is tried only as what it can
/// be.
fn take_token(
    text: &str,
    token_start: usize,
    level_seen: bool,
    taken_any: bool,
) -> Option<(usize, bool)> {
    let bytes = text.as_bytes();
    let end = token_end(bytes, token_start);
    let token = &text[token_start..end];
    let next = || next_token(text, end);
    match bytes[token_start] {
        b'-' | b'|' | b':' if is_separator(token) => taken_any.then_some((end, false)),
        b'#' if !level_seen => annotation_end(token).map(|len| (token_start + len, true)),
        b'[' | b'(' | b'{' | b'<' => {
            if !level_seen && is_level_token(token) {
                Some((end, true))
            } else if taken_any || level_seen {
                group_end(bytes, token_start).map(|close| (close, false))
            } else {
                None
            }
        }
        b'0'..=b'9' => {
            let number = taken_any
                && token.bytes().all(|b| b.is_ascii_digit())
                && next().is_some_and(|n| {
                    is_level_token(n)
                        || is_separator(n)
                        || n.bytes().all(|b| b.is_ascii_digit())
                        || n.starts_with(['[', '('])
                        || is_source_location(n)
                });
            number.then_some((end, false))
        }
        b if b.is_ascii_alphabetic() => {
            if !level_seen && is_level_token(token) {
                Some((end, true))
            } else if (taken_any && is_source_location(token))
                || ((taken_any || level_seen) && is_logger(token, next))
            {
                Some((end, false))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// How a source's messages start after their time, learned from its
/// sample ([`learn`]): so many blank-separated prefix tokens after the
/// time, the last of a given shape (the two commonest such prefixes: a
/// thread name with a space in it adds a token). Reading a line with it
/// skips that many tokens, checks each one's class, the last one's shape
/// and that the next is no prefix, instead of trying each token as what it
/// may be; a line it does not fit is read token by token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    shapes: [Option<Learned>; 2],
}

/// One learned prefix: so many tokens (at most [`LEARNED_TOKENS`]), the
/// class of each, the last of which shape, a level among them or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Learned {
    tokens: u8,
    classes: [u8; LEARNED_TOKENS],
    last: Shape,
    level_seen: bool,
}

/// The most tokens a learned prefix has.
const LEARNED_TOKENS: usize = 16;

/// The shape of the last prefix token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No token: the message follows the time.
    None,
    /// A separator (`-`, `|`, `:`, `---`), by its first byte and length.
    Separator(u8, u8),
    /// A token closing a group: `]`, `)`, `}` (then perhaps `:`).
    Close(u8),
    /// A token ending with `:` (`triage::scan:`, `c.e.Pool:`).
    Colon,
    /// A level word.
    Level,
}

impl Shape {
    fn of(token: &[u8]) -> Option<Shape> {
        if token.len() <= 3 && token.iter().all(|b| matches!(b, b'-' | b'|' | b':')) {
            return Some(Shape::Separator(*token.first()?, token.len() as u8));
        }
        let trimmed = token.strip_suffix(b":").unwrap_or(token);
        match trimmed.last()? {
            b @ (b']' | b')' | b'}') => Some(Shape::Close(*b)),
            _ if is_level_bytes(token) => Some(Shape::Level),
            _ if token.ends_with(b":")
                && (memchr::memchr(b'.', token).is_some()
                    || token[..token.len() - 1].windows(2).any(|w| w == b"::")) =>
            {
                Some(Shape::Colon)
            }
            _ => None,
        }
    }
}

/// The prefixes most of `lines` (text and the time found in it) have, for
/// the formats whose message starts are found token by token: the two
/// commonest, each of at least a tenth of the lines with a time, together of
/// at least half.
pub fn learn(
    lines: &[(&str, Option<LineTime>)],
    format: Format,
    ctx: &TimeContext,
) -> Option<Prefix> {
    if !matches!(format, Format::Log4j | Format::Tracing | Format::Plain) {
        return None;
    }
    let mut counts: Vec<(Learned, usize)> = Vec::new();
    let mut timed = 0;
    for &(text, time) in lines {
        let Some(found) = time else { continue };
        timed += 1;
        let bytes = text.as_bytes();
        let from = close_time(bytes, found);
        let (message, ended) = walk_prefix(text, time, ctx);
        let Ended::AtMessage { level_seen } = ended else {
            continue;
        };
        let Some((tokens, classes, last)) = prefix_of(bytes, from, message) else {
            continue;
        };
        if last == Shape::None {
            continue;
        }
        let learned = Learned {
            tokens,
            classes,
            last,
            level_seen,
        };
        match counts.iter_mut().find(|(p, _)| *p == learned) {
            Some((_, n)) => *n += 1,
            None => counts.push((learned, 1)),
        }
    }
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    counts.retain(|&(_, n)| n * 10 >= timed);
    counts.truncate(2);
    let covered: usize = counts.iter().map(|&(_, n)| n).sum();
    if counts.is_empty() || covered * 2 < timed {
        return None;
    }
    let mut shapes = [None; 2];
    for (slot, (learned, _)) in shapes.iter_mut().zip(counts) {
        *slot = Some(learned);
    }
    Some(Prefix { shapes })
}

/// The prefix between `from` (after a time) and `message`: how many
/// tokens, the class of each, the last of which shape.
fn prefix_of(
    bytes: &[u8],
    from: usize,
    message: usize,
) -> Option<(u8, [u8; LEARNED_TOKENS], Shape)> {
    let (mut tokens, mut last) = (0_usize, None);
    let mut classes = [0_u8; LEARNED_TOKENS];
    let mut at = skip_blanks(bytes, from);
    while at < message {
        let end = token_end(bytes, at).min(message);
        *classes.get_mut(tokens)? = first_class(bytes[at]);
        tokens += 1;
        last = Some((at, end));
        at = skip_blanks(bytes, end);
    }
    if at != message {
        return None;
    }
    let last = match last {
        None => Shape::None,
        Some((start, end)) => Shape::of(&bytes[start..end])?,
    };
    Some((u8::try_from(tokens).ok()?, classes, last))
}

/// The message start of `text` by a learned prefix, if the line fits one:
/// its tokens skipped, the last of the learned shape, and the token after
/// them no prefix (so the start is the one [`after_prefix`] gives).
pub fn start_by(prefix: Prefix, text: &str, time: LineTime) -> Option<usize> {
    let bytes = text.as_bytes();
    let from = close_time(bytes, time);
    prefix
        .shapes
        .iter()
        .flatten()
        .find_map(|learned| start_by_one(learned, text, from))
}

/// [`start_by`] with one learned prefix, the time closed at `from`.
fn start_by_one(learned: &Learned, text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from;
    let mut last = from;
    for &expected in &learned.classes[..usize::from(learned.tokens)] {
        let start = skip_blanks(bytes, at);
        if start >= bytes.len() || first_class(bytes[start]) != expected {
            return None;
        }
        last = start;
        at = token_end(bytes, start);
    }
    if !learned.last.fits(&bytes[last..at]) {
        return None;
    }
    let message = skip_blanks(bytes, at);
    // The walk would go on past a token after the prefix that is prefix too
    // (a second logger-like word before `:`).
    if message < bytes.len()
        && !plainly_message(bytes, message, learned.level_seen)
        && take_token(text, message, learned.level_seen, learned.tokens > 0).is_some()
    {
        return None;
    }
    Some(floor_boundary(text, message))
}

/// Whether the token at `at` is surely no prefix ([`take_token`] would
/// say `None`), told from its bytes alone: it starts with none of the bytes
/// a prefix token starts with, or (a level seen before it) with a letter and
/// has none of `.` `:` `]` `)` (no logger name, no source location). The
/// commonest first word of a message, a plain word, then costs a look at
/// its bytes instead of [`take_token`]'s tests.
fn plainly_message(bytes: &[u8], at: usize, level_seen: bool) -> bool {
    match bytes[at] {
        b'-' | b'|' | b':' | b'#' | b'[' | b'(' | b'{' | b'<' | b'0'..=b'9' => false,
        b if b.is_ascii_alphabetic() => {
            level_seen
                && bytes[at..]
                    .iter()
                    .take_while(|b| !matches!(b, b' ' | b'\t'))
                    .all(|b| !matches!(b, b'.' | b':' | b']' | b')'))
        }
        _ => true,
    }
}

/// The class of a token by its first byte: a digit, an opening bracket, a
/// letter, a separator, anything else. A table, not a `match`: it is read
/// for every prefix token of every line (fewer instructions, no branches).
fn first_class(byte: u8) -> u8 {
    FIRST_CLASS[usize::from(byte)]
}

const FIRST_CLASS: [u8; 256] = {
    let mut table = [5_u8; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = match byte as u8 {
            b'0'..=b'9' => 1,
            b'[' | b'(' | b'{' | b'<' => 2,
            b'-' | b'|' | b':' => 4,
            b'a'..=b'z' | b'A'..=b'Z' => 3,
            _ => 5,
        };
        byte += 1;
    }
    table
};

impl Shape {
    /// Whether `token` (the last prefix token; empty for none) has this
    /// shape.
    fn fits(self, token: &[u8]) -> bool {
        match self {
            Shape::None => token.is_empty(),
            Shape::Separator(first, len) => {
                token.len() == usize::from(len)
                    && token.first() == Some(&first)
                    && token.iter().all(|b| matches!(b, b'-' | b'|' | b':'))
            }
            Shape::Close(close) => token.strip_suffix(b":").unwrap_or(token).last() == Some(&close),
            Shape::Colon | Shape::Level => Shape::of(token) == Some(self),
        }
    }
}

/// Whether a time in a form that needs no learning may start here: a digit
/// (after a `[`), a klog letter and digits, or a month's or weekday's
/// capitalised name: a cheap test before trying the forms.
fn may_start_time(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"[").unwrap_or(bytes);
    matches!(
        bytes,
        [b'0'..=b'9', ..]
            | [b'I' | b'W' | b'E' | b'F', b'0'..=b'9', ..]
            | [
                b'A'..=b'Z',
                b'a'..=b'z',
                b'a'..=b'z',
                b' ' | b',' | b'-',
                ..
            ]
    )
}

/// Past the time's text and whatever closes it (`]`, `)`, `"`, `:`, `,`).
fn close_time(bytes: &[u8], found: LineTime) -> usize {
    let mut at = found.end;
    while at < bytes.len() && matches!(bytes[at], b']' | b')' | b'"' | b':' | b',' | b'>') {
        at += 1;
    }
    at
}

/// `at` past blanks in `text`.
pub(super) fn skip_blanks_at(text: &str, at: usize) -> usize {
    skip_blanks(text.as_bytes(), at)
}

fn skip_blanks(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') {
        at += 1;
    }
    at
}

fn token_end(bytes: &[u8], at: usize) -> usize {
    let rest = &bytes[at.min(bytes.len())..];
    match find_blank(rest) {
        Some(i) => at + i,
        None => bytes.len(),
    }
}

/// The first space or tab in `bytes`, eight bytes at a time: prefix tokens
/// are short, shorter than `memchr`'s set-up pays for.
pub(super) fn find_blank(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let chunk: [u8; 8] = bytes[at..at + 8].try_into().expect("eight bytes");
        let word = u64::from_le_bytes(chunk);
        let spaces = word ^ (ONES * u64::from(b' '));
        let tabs = word ^ (ONES * u64::from(b'\t'));
        // A byte that is zero after the xor is a match; the lowest flagged
        // byte of either mask is a true one.
        let found =
            ((spaces.wrapping_sub(ONES) & !spaces) | (tabs.wrapping_sub(ONES) & !tabs)) & HIGHS;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .map(|i| at + i)
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
    is_level_bytes(token.as_bytes())
}

/// [`is_level_token`] on bytes.
fn is_level_bytes(bytes: &[u8]) -> bool {
    if bytes.len() > 20 {
        return false;
    }
    let enclosed = matches!(bytes.first(), Some(b'[' | b'(' | b'<'));
    let colon = bytes.last() == Some(&b':');
    if !enclosed && colon && bytes.iter().any(u8::is_ascii_lowercase) {
        return false;
    }
    let inner = &bytes[super::without_brackets(bytes)];
    let inner = match inner.iter().rposition(|&b| b == b'.') {
        Some(dot) => &inner[dot + 1..],
        None => inner,
    };
    level_bytes(inner).is_some()
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
    // By byte, not `strip_suffix([']', ')'])`: this runs on most tokens.
    if !matches!(token.as_bytes().last(), Some(b']' | b')')) {
        return false;
    }
    let body = &token[..token.len() - 1];
    let Some((file, line)) = body.rsplit_once(':') else {
        return false;
    };
    !file.is_empty() && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit())
}

/// A logger name: dotted (`com.example.Pool`, `o.s.b.App`) or with `::`
/// (`triage::scan`), followed by a separator or a bracket, or ending in a
/// colon.
fn is_logger<'t>(token: &str, next: impl FnOnce() -> Option<&'t str>) -> bool {
    let starts_as_name = token
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'#');
    // Tokens are short: a plain loop beats `memchr`'s set-up.
    if !starts_as_name || !token.bytes().any(|b| b == b'.' || b == b':') {
        return false;
    }
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
    shaped && (colon || next().is_some_and(|n| is_separator(n) || n.starts_with(['[', '('])))
}

/// Syslog: after `host program[pid]: ` (a program with no pid, `kernel:`,
/// too), then a level.
fn syslog(text: &str, time: Option<LineTime>, ctx: &TimeContext) -> usize {
    let Some(found) = time else {
        return 0;
    };
    let bytes = text.as_bytes();
    let head_end = bytes.len().min(found.end + 160);
    let after = match colon_space(&bytes[found.end..head_end]) {
        Some(i) => found.end + i + 2,
        None => return after_prefix(text, time, ctx),
    };
    level_then_message(text, after)
}

/// RFC 5424: `<PRI>1 TIME HOST APP PROCID MSGID SD MSG`.
fn syslog5424(text: &str, time: Option<LineTime>) -> usize {
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
    let at = cri_inner(text);
    let inner = &text[at..];
    at + after_prefix(inner, cri_inner_time(inner, ctx), ctx)
}

/// Where a CRI line's container line starts: after `TIME stream tag `.
pub(super) fn cri_inner(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut at = 0;
    for _ in 0..3 {
        at = skip_blanks(bytes, token_end(bytes, at));
    }
    floor_boundary(text, at)
}

/// A CRI line's head, `TIME stream tag `, read in one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CriHead<'t> {
    /// The stream (`stdout`, `stderr`).
    pub stream: &'t str,
    /// The tag (`F` full, `P` partial).
    pub tag: &'t str,
    /// Where the container's line starts ([`cri_inner`]'s offset).
    pub inner: usize,
}

/// The head of a CRI line when its three parts are each followed by one
/// space (no tab, none empty): what `splitn(4, ' ')` and [`cri_inner`]
/// give, found with three [`find_blank`]s; `None` for any other line (read
/// it the long way).
pub(super) fn cri_head(text: &str) -> Option<CriHead<'_>> {
    let bytes = text.as_bytes();
    let first = find_blank(bytes)?;
    let second = first + 1 + find_blank(&bytes[first + 1..])?;
    let third = second + 1 + find_blank(&bytes[second + 1..])?;
    let spaces = bytes[first] == b' ' && bytes[second] == b' ' && bytes[third] == b' ';
    if !spaces || first == 0 || second == first + 1 || third == second + 1 {
        return None;
    }
    Some(CriHead {
        stream: &text[first + 1..second],
        tag: &text[second + 1..third],
        inner: skip_blanks(bytes, third + 1),
    })
}

/// The time at the start of a CRI line's container line (`inner`), tried
/// only where one may start.
pub(super) fn cri_inner_time(inner: &str, ctx: &TimeContext) -> Option<LineTime> {
    may_start_time(inner.as_bytes())
        .then(|| timestamp::at_start(inner, ctx))
        .flatten()
}

/// PostgreSQL: after `SEVERITY:  `.
fn postgres(text: &str, time: Option<LineTime>, ctx: &TimeContext) -> usize {
    match postgres_severity_span(text) {
        Some((_, end)) => skip_blanks(text.as_bytes(), end),
        None => after_prefix(text, time, ctx),
    }
}

/// nginx: `TIME [level] pid#tid: *cid message`.
fn nginx_error(text: &str, time: Option<LineTime>, ctx: &TimeContext) -> usize {
    let bytes = text.as_bytes();
    let from = time.map_or(0, |f| f.end);
    let head_end = bytes.len().min(from + 80);
    let Some(i) = colon_space(&bytes[from..head_end]) else {
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
fn python(text: &str, time: Option<LineTime>, ctx: &TimeContext) -> usize {
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
fn logcat(text: &str, time: Option<LineTime>, ctx: &TimeContext) -> usize {
    let Some(found) = time else {
        return 0;
    };
    let bytes = text.as_bytes();
    let head_end = bytes.len().min(found.end + 120);
    match colon_space(&bytes[found.end..head_end]) {
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

/// Where `: ` first is in `bytes` (a line's head, at most a few dozen
/// bytes before it): its colons found eight bytes at a time, as
/// [`find_blank`] finds blanks (shorter than `memchr`'s set-up pays for).
fn colon_space(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let follows = |i: usize| bytes.get(i + 1) == Some(&b' ');
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let chunk: [u8; 8] = bytes[at..at + 8].try_into().expect("eight bytes");
        let colons = u64::from_le_bytes(chunk) ^ (ONES * u64::from(b':'));
        // Each zero byte flagged exactly (no borrow from a byte below:
        // every colon of the chunk is found, in order).
        let mut found = !(((colons & !HIGHS) + !HIGHS) | colons) & HIGHS;
        while found != 0 {
            let i = at + (found.trailing_zeros() / 8) as usize;
            if follows(i) {
                return Some(i);
            }
            found &= found - 1;
        }
        at += 8;
    }
    (at..bytes.len()).find(|&i| bytes[i] == b':' && follows(i))
}

fn floor_boundary(text: &str, at: usize) -> usize {
    super::floor_boundary(text, at)
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;
    use proptest::prelude::Just;

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

    proptest::proptest! {
        #[test]
        fn blanks_found_eight_at_a_time_as_one_at_a_time(bytes in proptest::collection::vec(proptest::prop_oneof![Just(b' '), Just(b'\t'), Just(b'a'), Just(0x80u8), Just(0u8), Just(0x20u8 ^ 0x80)], 0..40)) {
            let want = bytes.iter().position(|&b| b == b' ' || b == b'\t');
            proptest::prop_assert_eq!(find_blank(&bytes), want);
        }
    }

    proptest::proptest! {
        #[test]
        fn colons_found_eight_at_a_time_as_one_at_a_time(bytes in proptest::collection::vec(proptest::prop_oneof![Just(b':'), Just(b' '), Just(b'a'), Just(0xbau8), Just(0u8), Just(b':' ^ 0x80)], 0..40)) {
            let want = memchr::memchr_iter(b':', &bytes).find(|&i| bytes.get(i + 1) == Some(&b' '));
            proptest::prop_assert_eq!(colon_space(&bytes), want);
        }
    }

    proptest::proptest! {
        #[test]
        fn a_word_plainly_a_message_is_no_prefix(
            text in "(INFO|warn|Error|[a-zA-Z0-9.:\\])\\[(#|<{-]{1,8})( [a-zA-Z0-9.:\\]-]{1,4})?",
            level_seen: bool,
            taken_any: bool,
        ) {
            if plainly_message(text.as_bytes(), 0, level_seen) {
                proptest::prop_assert_eq!(take_token(&text, 0, level_seen, taken_any), None);
            }
        }

        #[test]
        fn a_cri_head_read_in_one_pass_is_the_one_read_part_by_part(text in "[ a-zF\t0-9é]{0,24}") {
            if let Some(head) = cri_head(&text) {
                let mut parts = text.splitn(4, ' ');
                let (_, stream, tag, message) = (parts.next(), parts.next(), parts.next(), parts.next());
                proptest::prop_assert_eq!(Some(head.stream), stream);
                proptest::prop_assert_eq!(Some(head.tag), tag);
                proptest::prop_assert!(message.is_some());
                proptest::prop_assert_eq!(head.inner, cri_inner(&text));
            }
        }
    }

    #[test]
    fn every_byte_has_the_class_of_its_kind() {
        for byte in 0..=u8::MAX {
            let want = if byte.is_ascii_digit() {
                1
            } else if b"[({<".contains(&byte) {
                2
            } else if byte.is_ascii_alphabetic() {
                3
            } else if b"-|:".contains(&byte) {
                4
            } else {
                5
            };
            assert_eq!(first_class(byte), want, "byte {byte:#04x}");
        }
    }

    /// On every real log the fixtures hold, a learned prefix gives the
    /// message start the token-by-token walk gives, wherever it answers.
    #[test]
    fn learned_prefixes_agree_with_the_walk_on_real_logs() {
        let ctx = TimeContext::new(
            TimeZone::UTC,
            "2026-12-31T12:00:00Z".parse().expect("valid"),
        );
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut files: Vec<std::path::PathBuf> = ["loghub", "ci"]
            .iter()
            .flat_map(|dir| std::fs::read_dir(root.join(dir)).expect("fixture dir"))
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "log"))
            .collect();
        files.sort();
        let (mut answered, mut lines) = (0, 0);
        for path in files {
            let text = std::fs::read_to_string(&path).expect("fixture reads");
            let profile = crate::parse::Profile::of(text.as_bytes(), true, None, &ctx);
            let parser = crate::parse::Parser::with_format(
                std::sync::Arc::from("t"),
                ctx.clone(),
                profile.format,
            )
            .with_layout(profile.layout.clone());
            let Some(prefix) = profile.prefix else {
                continue;
            };
            for line in text.lines() {
                let line = crate::parse::clean(line.to_owned());
                let Some(time) = parser.time(&line) else {
                    continue;
                };
                lines += 1;
                if let Some(at) = start_by(prefix, &line, time) {
                    answered += 1;
                    assert_eq!(
                        at,
                        start(&line, profile.format, Some(time), &ctx),
                        "{}: {line}",
                        path.display()
                    );
                }
            }
        }
        assert!(answered * 2 > lines, "{answered} of {lines}");
    }
}
