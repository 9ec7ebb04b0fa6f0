//! Multi-line events: a Java stack trace, a Python traceback, a PostgreSQL
//! statement with its `DETAIL:` and `STATEMENT:` lines, a syslog record split
//! into `[n-1]`, `[n-2]` pieces, a CSV record with newlines in a quoted
//! value, a CRI partial line: one event each, not one per line.
//!
//! Owns: the [`Assembler`], which takes raw lines one at a time and hands out
//! complete events. Must not: read files, spawn threads or read a clock (the
//! present is an argument of [`Assembler::push`] and [`Assembler::flush`]).
//! Invariants: every pushed line ends up in exactly one event, in order (an
//! event's `line_no + lines` is the next event's `line_no`); an event keeps
//! the offset and line number of its first line and the time, level and
//! fields of its first line; at most one event is held back, and it is cut
//! at [`Limits::max_lines`] and [`Limits::max_bytes`] (the rest starts a new
//! event) and handed out after [`Limits::idle`] without a new line, so a
//! never-ending event neither holds memory nor delays detection.

use std::{str::FromStr, sync::LazyLock};

use jiff::{SignedDuration, Timestamp};
use regex::Regex;

use super::{Format, Parser, fields, postgres_severity};
use crate::model::{Event, RawLine};

/// How an assembler decides where an event starts.
#[derive(Debug, Clone)]
pub enum Multiline {
    /// Every line is an event.
    Off,
    /// Lines that do not look like the start of an event join the previous
    /// one: no leading timestamp where the file's events usually have one, a
    /// stack-trace continuation (leading whitespace, `at `, `Caused by:`,
    /// `...`, `Traceback`, Go `goroutine` dumps), a PostgreSQL `DETAIL:`,
    /// `HINT:`, `STATEMENT:`, `CONTEXT:`, `QUERY:` or `LOCATION:` line of the
    /// same process, a syslog continuation record `[n-m]` with `m > 1`, the
    /// rest of an open CSV quote, the rest of a CRI partial (`P`) line.
    Auto,
    /// A line matching the regex starts an event; any other joins.
    Start(Regex),
}

/// A `multiline` setting that does not read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MultilineError {
    /// Not `auto`, `off` or a start regex.
    #[error("unknown multiline rule {0:?} (expected \"auto\", \"off\", or {{ start = 'regex' }})")]
    Unknown(String),
    /// The start regex does not compile.
    #[error("multiline start regex: {0}")]
    Regex(#[from] regex::Error),
}

impl Default for Multiline {
    /// [`Multiline::Auto`].
    fn default() -> Multiline {
        Multiline::Auto
    }
}

impl Multiline {
    /// The rule `{ start = 'regex' }`, with the same size limit as
    /// signature regexes.
    pub fn start(pattern: &str) -> Result<Multiline, MultilineError> {
        let regex = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()?;
        Ok(Multiline::Start(regex))
    }
}

impl FromStr for Multiline {
    type Err = MultilineError;

    /// `auto`, or `off` (also `none`, `false`).
    fn from_str(text: &str) -> Result<Multiline, MultilineError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Multiline::Auto),
            "off" | "none" | "false" => Ok(Multiline::Off),
            _ => Err(MultilineError::Unknown(text.to_owned())),
        }
    }
}

/// Bounds on one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// At most this many physical lines per event.
    pub max_lines: u32,
    /// At most this many bytes of text per event (a single longer line is
    /// kept whole: the tailer's line cap bounds it).
    pub max_bytes: usize,
    /// An event with no new line for this long is complete.
    pub idle: SignedDuration,
}

impl Default for Limits {
    /// 1,000 lines and 1 MiB cover the deepest JVM stack traces seen in
    /// practice; 2 seconds is long enough for a writer to finish a stack
    /// trace and short enough not to delay an alert noticeably.
    fn default() -> Limits {
        Limits {
            max_lines: 1_000,
            max_bytes: 1 << 20,
            idle: SignedDuration::from_secs(2),
        }
    }
}

/// The event being assembled.
#[derive(Debug)]
struct Pending {
    event: Event,
    /// When its last line was pushed.
    last_at: Timestamp,
    /// PostgreSQL CSV: a quoted value is still open.
    open_quote: bool,
    /// CRI: the last line was a partial (`P`) line.
    cri_partial: bool,
}

/// Joins the lines of one source into events; pure and incremental.
#[derive(Debug)]
pub struct Assembler {
    parser: Parser,
    rule: Multiline,
    limits: Limits,
    pending: Option<Pending>,
    /// Whether the file's events usually start with a timestamp (decided
    /// from a sample before the first line: see [`super::Profile`]), so that
    /// a line without one continues the previous event.
    stamped: bool,
}

impl Assembler {
    /// An assembler of lines read by `parser`, under `rule` and `limits`.
    pub fn new(parser: Parser, rule: Multiline, limits: Limits) -> Assembler {
        Assembler {
            parser,
            rule,
            limits,
            pending: None,
            stamped: false,
        }
    }

    /// Whether lines without a timestamp continue the previous event (the
    /// file's events usually have one). Off by default.
    pub fn with_stamped(mut self, stamped: bool) -> Assembler {
        self.stamped = stamped;
        self
    }

    /// Changes [`Assembler::with_stamped`] from the next line on.
    pub fn set_stamped(&mut self, stamped: bool) {
        self.stamped = stamped;
    }

    /// The parser lines go through.
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// The parser, to move its present along.
    pub fn parser_mut(&mut self) -> &mut Parser {
        &mut self.parser
    }

    /// Takes the next line (pushed at `now`); returns the previous event
    /// when this line starts a new one or the previous one is full.
    pub fn push(&mut self, raw: RawLine, now: Timestamp) -> Option<Event> {
        let line = self.parser.event(raw);
        self.push_line(line, now)
    }

    /// [`Assembler::push`] for a line its parser has already read (inlined
    /// into the line path, as [`Parser::event`] is).
    #[inline(always)]
    pub fn push_line(&mut self, line: Event, now: Timestamp) -> Option<Event> {
        let mut done = None;
        self.push_line_then(line, now, |event, _| done = Some(event));
        done
    }

    /// [`Assembler::push_line`], the event it completes handed to `done`
    /// with its own time (read where the event was kept, before it moves).
    /// The new line takes the held-back event's place: that event is
    /// copied once, from memory written a line ago, not through
    /// temporaries the processor must wait to read back.
    #[inline(always)]
    pub fn push_line_then(
        &mut self,
        line: Event,
        now: Timestamp,
        done: impl FnOnce(Event, Option<Timestamp>),
    ) {
        let joins = match &self.pending {
            Some(pending) => self.continues(pending, &line) && self.has_room(pending, &line),
            None => false,
        };
        let format = self.parser.format();
        let Some(pending) = &mut self.pending else {
            self.pending = Some(start(line, format, now));
            return;
        };
        if joins {
            append(pending, line, format, now);
            return;
        }
        finish_in_place(&self.parser, &mut pending.event);
        let ts = pending.event.ts;
        let next = start(line, format, now);
        pending.last_at = next.last_at;
        pending.open_quote = next.open_quote;
        pending.cri_partial = next.cri_partial;
        let event = std::mem::replace(&mut pending.event, next.event);
        done(event, ts);
    }

    /// The held-back event, if no line came for [`Limits::idle`] by `now`.
    pub fn flush(&mut self, now: Timestamp) -> Option<Event> {
        let idle = self
            .pending
            .as_ref()
            .is_some_and(|p| now.duration_since(p.last_at) >= self.limits.idle);
        if idle { self.finish() } else { None }
    }

    /// The held-back event, now (end of input, shutdown).
    pub fn finish(&mut self) -> Option<Event> {
        self.pending.take().map(|p| self.finish_event(p))
    }

    /// Reads the held-back event's first line again if it has no time (its
    /// parser learned where times are since): time, level, fields and
    /// message start.
    pub fn reread_pending(&mut self) {
        let Some(pending) = &mut self.pending else {
            return;
        };
        if pending.event.ts.is_some() {
            return;
        }
        let first = pending.event.text.split('\n').next().unwrap_or("");
        let reading = self.parser.read(first);
        if reading.ts.is_some() {
            let event = &mut pending.event;
            event.ts = reading.ts;
            event.level = event.level.or(reading.level);
            event.message = reading.message;
            if event.fields.is_empty() {
                event.fields = reading.fields;
            }
        }
    }

    /// Whether an event is being held back.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The byte offset and line number of the held-back event's first line.
    pub fn pending_start(&self) -> Option<(u64, u64)> {
        self.pending
            .as_ref()
            .map(|p| (p.event.offset, p.event.line_no))
    }

    /// Whether where events start can be decided from a line and the one
    /// before it alone (every rule but PostgreSQL CSV's open quotes).
    pub fn is_local(&self) -> bool {
        !(matches!(self.rule, Multiline::Auto) && self.parser.format() == Format::PostgresCsv)
    }

    /// Whether `line` starts an event whatever came before it, given only
    /// the text of the line before it (`prev`): no held-back event could
    /// take it. Only meaningful when [`Assembler::is_local`].
    pub fn starts_event(&self, line: &Event, prev: Option<&str>) -> bool {
        match &self.rule {
            Multiline::Off => return true,
            Multiline::Start(regex) => return regex.is_match(&line.text),
            Multiline::Auto => {}
        }
        let format = self.parser.format();
        match format {
            Format::Json | Format::DockerJson | Format::PostgresJson | Format::Access => {
                return true;
            }
            // The line before as the line path saw it: without colours.
            Format::Cri => {
                return prev.is_none_or(|p| !cri_tag_is_partial(&super::ansi::strip_sgr(p)));
            }
            Format::PostgresCsv => return false,
            _ => {}
        }
        let text = line.text.as_str();
        !(looks_like_continuation(text)
            || (matches!(format, Format::Postgres | Format::Syslog | Format::Plain)
                && (postgres_continuation(text) || syslog_continuation(text)))
            || (line.ts.is_none() && self.stamped))
    }

    #[inline(always)]
    fn finish_event(&self, pending: Pending) -> Event {
        let mut event = pending.event;
        finish_in_place(&self.parser, &mut event);
        event
    }

    fn has_room(&self, pending: &Pending, line: &Event) -> bool {
        pending.event.lines < self.limits.max_lines
            && pending.event.text.len() + 1 + line.text.len() <= self.limits.max_bytes
    }

    /// Whether `line` continues the pending event.
    fn continues(&self, pending: &Pending, line: &Event) -> bool {
        let format = self.parser.format();
        match &self.rule {
            Multiline::Off => return false,
            Multiline::Start(regex) => return !regex.is_match(&line.text),
            Multiline::Auto => {}
        }
        if pending.open_quote {
            return true;
        }
        match format {
            Format::Json | Format::DockerJson | Format::PostgresJson | Format::Access => {
                return false;
            }
            Format::Cri => return pending.cri_partial,
            _ => {}
        }
        let text = line.text.as_str();
        if looks_like_continuation(text) {
            return true;
        }
        if matches!(format, Format::Postgres | Format::Syslog | Format::Plain)
            && (postgres_continuation(text) || syslog_continuation(text))
            && same_process(&pending.event, line)
        {
            return true;
        }
        // No timestamp where the file's events usually have one.
        line.ts.is_none() && self.stamped
    }
}

/// What an event gets once its last line is in: a PostgreSQL CSV record's
/// columns (only whole now).
fn finish_in_place(parser: &Parser, event: &mut Event) {
    if event.lines > 1 && parser.format() == Format::PostgresCsv {
        let reading = parser.read(&event.text);
        event.fields = reading.fields;
        event.level = reading.level.or(event.level);
    }
}

#[inline(always)]
fn start(event: Event, format: Format, now: Timestamp) -> Pending {
    let open_quote = format == Format::PostgresCsv && odd_quotes(&event.text);
    let cri_partial = format == Format::Cri && cri_tag_is_partial(&event.text);
    Pending {
        event,
        last_at: now,
        open_quote,
        cri_partial,
    }
}

fn append(pending: &mut Pending, line: Event, format: Format, now: Timestamp) {
    let event = &mut pending.event;
    event.text.push('\n');
    event.text.push_str(&line.text);
    event.lines += 1;
    event.lossy |= line.lossy;
    event.truncated |= line.truncated;
    event.partial = line.partial;
    pending.last_at = now;
    if format == Format::PostgresCsv {
        pending.open_quote ^= odd_quotes(&line.text);
    }
    pending.cri_partial = format == Format::Cri && cri_tag_is_partial(&line.text);
}

fn odd_quotes(text: &str) -> bool {
    memchr::memchr_iter(b'"', text.as_bytes()).count() % 2 == 1
}

/// Whether a CRI line's tag (its third space-separated part) is `P`: by
/// byte, it runs on every line of a CRI source.
fn cri_tag_is_partial(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(first) = memchr::memchr(b' ', bytes) else {
        return false;
    };
    let Some(second) = memchr::memchr(b' ', &bytes[first + 1..]) else {
        return false;
    };
    let tag = &bytes[first + 1 + second + 1..];
    tag.first() == Some(&b'P') && matches!(tag.get(1), None | Some(b' '))
}

/// Both events name a process (PostgreSQL prefix or syslog `pid`) and it is
/// the same, or either names none.
fn same_process(first: &Event, line: &Event) -> bool {
    let pid = |event: &Event| {
        event
            .fields
            .get("pid")
            .map(str::to_owned)
            .or_else(|| fields::postgres(&event.text).get("pid").map(str::to_owned))
    };
    match (pid(first), pid(line)) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// A PostgreSQL line that belongs to the message before it. Asked of
/// every line of PostgreSQL, syslog and plain sources: the severity pattern
/// runs only where one of the words is written before a colon (which it
/// needs to find one of them first).
fn postgres_continuation(text: &str) -> bool {
    const WORDS: [&[u8]; 6] = [
        b"DETAIL",
        b"HINT",
        b"STATEMENT",
        b"CONTEXT",
        b"QUERY",
        b"LOCATION",
    ];
    let head = &text.as_bytes()[..super::floor_boundary(text, 300)];
    let written = memchr::memchr_iter(b':', head)
        .any(|colon| WORDS.iter().any(|word| head[..colon].ends_with(word)));
    written
        && postgres_severity(text).is_some_and(|word| {
            matches!(
                word,
                "DETAIL" | "HINT" | "STATEMENT" | "CONTEXT" | "QUERY" | "LOCATION"
            )
        })
}

/// Lines that continue whatever came before in any text format.
/// Dispatched on the first byte: it runs on every line, most of which
/// start with none of these.
pub(super) fn looks_like_continuation(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return true;
    };
    let starts: &[u8] = match first {
        b' ' | b'\t' => return true,
        b'a' => b"at ",
        b'C' => b"Caused by:",
        b'S' => b"Suppressed:",
        b'.' => b"...",
        b'T' => b"Traceback (most recent call last)",
        b'g' => b"goroutine ",
        b'c' => b"created by ",
        _ => return false,
    };
    bytes.starts_with(starts)
}

/// A syslog continuation record: `program[pid]: [n-m]` with `m > 1`
/// (PostgreSQL's syslog splitting, Heroku's logplex).
fn syslog_continuation(text: &str) -> bool {
    static RECORD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^.{0,200}?\]: (?:\[[A-Z]+\] )?\[\d+-(\d+)\]").expect("valid regex")
    });
    let head = &text[..super::floor_boundary(text, 260)];
    // `]: ` found by its `]` (no searcher built per line).
    let bytes = head.as_bytes();
    let written =
        memchr::memchr_iter(b']', bytes).any(|at| bytes.get(at + 1..at + 3) == Some(b": "));
    if !written {
        return false;
    }
    RECORD
        .captures(head)
        .and_then(|caps| caps.get(1))
        .is_some_and(|m| m.as_str() != "1")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::tz::TimeZone;
    use proptest::prelude::*;

    use super::*;
    use crate::parse::TimeContext;

    fn now() -> Timestamp {
        "2026-11-21T12:00:00Z".parse().expect("valid")
    }

    proptest! {
        #[test]
        fn continuations_told_by_first_byte_as_by_every_prefix(
            text in "(at |Caused by:|Suppressed:|\\.\\.\\.|Traceback \\(most recent call last\\)|goroutine |created by |[ \\tacCgSsT.])?[a-z .:]{0,6}"
        ) {
            let by_every_prefix = text.is_empty()
                || text.starts_with([' ', '\t'])
                || text.starts_with("at ")
                || text.starts_with("Caused by:")
                || text.starts_with("Suppressed:")
                || text.starts_with("...")
                || text.starts_with("Traceback (most recent call last)")
                || text.starts_with("goroutine ")
                || text.starts_with("created by ");
            prop_assert_eq!(looks_like_continuation(&text), by_every_prefix);
        }

        #[test]
        fn a_cri_tag_read_by_byte_is_the_third_part(text in "[ Pa-z\t0-9é]{0,16}") {
            prop_assert_eq!(cri_tag_is_partial(&text), text.split(' ').nth(2) == Some("P"));
        }
    }

    fn assembler(format: Format, rule: Multiline, limits: Limits) -> Assembler {
        let ctx = TimeContext::new(TimeZone::UTC, now());
        Assembler::new(
            Parser::with_format(Arc::from("t.log"), ctx, format),
            rule,
            limits,
        )
    }

    fn raw(line_no: u64, offset: u64, text: &str) -> RawLine {
        RawLine {
            offset,
            line_no,
            bytes: text.as_bytes().to_vec(),
            truncated: false,
            partial: false,
        }
    }

    /// Every event of `lines`, pushed in order, then finished; whether a
    /// line without a timestamp joins is decided from all of them.
    fn assemble(format: Format, rule: Multiline, lines: &[&str]) -> Vec<Event> {
        let ctx = TimeContext::new(TimeZone::UTC, now());
        let profile =
            crate::parse::Profile::of(lines.join("\n").as_bytes(), true, Some(format), &ctx);
        let mut asm = assembler(format, rule, Limits::default()).with_stamped(profile.stamped);
        let mut events = Vec::new();
        let mut offset = 0;
        for (i, line) in lines.iter().enumerate() {
            events.extend(asm.push(raw(i as u64 + 1, offset, line), now()));
            offset += line.len() as u64 + 1;
        }
        events.extend(asm.finish());
        events
    }

    fn shape(events: &[Event]) -> Vec<(u64, u32)> {
        events.iter().map(|e| (e.line_no, e.lines)).collect()
    }

    #[test]
    fn java_stack_trace_is_one_event() {
        let lines = [
            "2026-11-21 03:12:09,114 [main] ERROR com.example.Pool - exhausted",
            "java.lang.IllegalStateException: exhausted",
            "\tat com.example.Pool.get(Pool.java:12)",
            "Caused by: java.io.IOException: reset",
            "\t... 12 more",
            "2026-11-21 03:12:10,001 [main] INFO com.example.Pool - recovered",
        ];
        let events = assemble(Format::Log4j, Multiline::Auto, &lines);
        assert_eq!(shape(&events), [(1, 5), (6, 1)]);
        assert_eq!(events[0].text, lines[..5].join("\n"));
        assert_eq!(events[0].offset, 0);
        assert_eq!(
            events[1].offset,
            lines[..5].iter().map(|l| l.len() as u64 + 1).sum::<u64>()
        );
        assert_eq!(events[0].level, Some(crate::model::Level::Error));
    }

    #[test]
    fn python_traceback_and_go_panic_without_timestamps() {
        let python = [
            "Traceback (most recent call last):",
            "  File \"app.py\", line 3, in <module>",
            "ValueError: bad",
        ];
        // A file without timestamps: the exception line starts an event.
        let events = assemble(Format::Plain, Multiline::Auto, &python);
        assert_eq!(shape(&events), [(1, 2), (3, 1)]);
        let go = [
            "2026-11-21T03:00:00Z ERROR crashed",
            "panic: runtime error: index out of range",
            "",
            "goroutine 1 [running]:",
            "main.main()",
            "\t/src/main.go:12 +0x1d",
            "2026-11-21T03:00:01Z INFO restarted",
        ];
        let events = assemble(Format::Plain, Multiline::Auto, &go);
        assert_eq!(shape(&events), [(1, 6), (7, 1)]);
    }

    #[test]
    fn postgres_detail_and_statement_join_their_process() {
        let lines = [
            "2025-01-21 18:38:06.453 CET [78798] gilles@gilles ERROR:  conflicting values",
            "2025-01-21 18:38:06.453 CET [78798] gilles@gilles DETAIL:  This value contradicts",
            "2025-01-21 18:38:06.453 CET [78798] gilles@gilles STATEMENT:  SELECT 1;",
            "2025-01-21 18:38:06.454 CET [11111] LOG:  checkpoint starting",
            "2025-01-21 18:38:06.455 CET [22222] DETAIL:  of another process",
            "2025-01-21 18:38:09.749 CET [78798] gilles@gilles ERROR:  relation does not exist",
        ];
        let events = assemble(Format::Postgres, Multiline::Auto, &lines);
        assert_eq!(shape(&events), [(1, 3), (4, 1), (5, 1), (6, 1)]);
        assert_eq!(events[0].level, Some(crate::model::Level::Error));
        assert_eq!(events[0].fields.get("pid"), Some("78798"));
    }

    #[test]
    fn syslog_continuation_records_join() {
        let lines = [
            "Feb 10 23:15:39 test-pc postgres[10808]: [5-1] LOG:  statement: SELECT a,",
            "Feb 10 23:15:39 test-pc postgres[10808]: [5-2] #011 b FROM t",
            "Feb 10 23:15:39 test-pc postgres[10809]: [1-2] other process",
            "Feb 10 23:15:40 test-pc postgres[10808]: [6-1] LOG:  next",
        ];
        let events = assemble(Format::Syslog, Multiline::Auto, &lines);
        assert_eq!(shape(&events), [(1, 2), (3, 1), (4, 1)]);
        assert_eq!(events[0].fields.get("program"), Some("postgres"));
    }

    #[test]
    fn csv_record_with_newlines_in_quotes_is_one_event() {
        let lines = [
            "2026-05-16 05:20:03.994 UTC,\"u\",\"d\",1002,\"h\",2.3,2,\"idle\",2026-05-16 05:00:00 UTC,2/2,0,ERROR,42P01,\"relation \"\"x\"\"",
            "does not exist\",,,,,,\"SELECT *",
            "FROM x\",15,,\"psql\"",
            "2026-05-16 05:20:04.000 UTC,\"u\",\"d\",1002,\"h\",2.3,3,\"idle\",2026-05-16 05:00:00 UTC,2/2,0,LOG,00000,\"ok\",,,,,,,,,\"psql\"",
        ];
        let events = assemble(Format::PostgresCsv, Multiline::Auto, &lines);
        assert_eq!(shape(&events), [(1, 3), (4, 1)]);
        assert_eq!(
            events[0].fields.get("message"),
            Some("relation \"x\"\ndoes not exist")
        );
        assert_eq!(events[0].fields.get("query"), Some("SELECT *\nFROM x"));
        assert_eq!(events[0].level, Some(crate::model::Level::Error));
    }

    #[test]
    fn cri_partial_lines_join() {
        let lines = [
            "2026-11-21T03:00:00.1Z stdout P first half ",
            "2026-11-21T03:00:00.2Z stdout F second half",
            "2026-11-21T03:00:00.3Z stdout F   indented but whole",
        ];
        let events = assemble(Format::Cri, Multiline::Auto, &lines);
        assert_eq!(shape(&events), [(1, 2), (3, 1)]);
    }

    #[test]
    fn json_lines_never_join() {
        let lines = [r#"{"msg":"a"}"#, r#"  {"msg":"b"}"#, "not json"];
        let events = assemble(Format::Json, Multiline::Auto, &lines);
        assert_eq!(shape(&events), [(1, 1), (2, 1), (3, 1)]);
    }

    #[test]
    fn explicit_start_regex_and_off() {
        let lines = ["BEGIN 1", "x", "  y", "BEGIN 2", "z"];
        let rule = Multiline::start("^BEGIN").expect("valid");
        let events = assemble(Format::Plain, rule, &lines);
        assert_eq!(shape(&events), [(1, 3), (4, 2)]);
        let events = assemble(Format::Plain, Multiline::Off, &lines);
        assert_eq!(events.len(), 5);
        assert!(Multiline::start("(").is_err());
        assert!(matches!("auto".parse(), Ok(Multiline::Auto)));
        assert!(matches!("OFF".parse(), Ok(Multiline::Off)));
        assert!("sometimes".parse::<Multiline>().is_err());
    }

    #[test]
    fn caps_cut_a_never_ending_event() {
        let limits = Limits {
            max_lines: 3,
            max_bytes: 20,
            idle: SignedDuration::from_secs(2),
        };
        let mut asm = assembler(Format::Plain, Multiline::Auto, limits);
        let mut events = Vec::new();
        events.extend(asm.push(raw(1, 0, "2026-11-21T03:00:00Z"), now()));
        for n in 2..=8 {
            events.extend(asm.push(raw(n, 0, " x"), now()));
        }
        events.extend(asm.finish());
        assert_eq!(shape(&events), [(1, 1), (2, 3), (5, 3), (8, 1)]);
        // The byte cap: 20 bytes hold the timestamp alone.
        assert_eq!(events[0].text, "2026-11-21T03:00:00Z");
    }

    #[test]
    fn idle_flush_hands_out_the_held_event() {
        let mut asm = assembler(Format::Plain, Multiline::Auto, Limits::default());
        assert_eq!(
            asm.push(raw(1, 0, "2026-11-21T03:00:00Z boom"), now())
                .map(|e| e.line_no),
            None
        );
        assert!(
            asm.flush(now() + SignedDuration::from_millis(1999))
                .is_none()
        );
        let event = asm
            .flush(now() + SignedDuration::from_secs(2))
            .expect("idle");
        assert_eq!((event.line_no, event.lines), (1, 1));
        assert!(!asm.is_pending());
        assert!(asm.flush(now() + SignedDuration::from_secs(60)).is_none());
    }

    proptest! {
        #[test]
        fn continuation_words_found_as_the_pattern_finds_them(
            text in "(?:[A-Z]{2,9}|LOG|DETAIL|HINT|STATEMENT|QUERY|[a-z ]{1,5}|: |:\u{a0}|\\[[0-9]{1,3}\\]|[ \t]){0,12}"
        ) {
            let by_pattern = postgres_severity(&text).is_some_and(|word| {
                matches!(word, "DETAIL" | "HINT" | "STATEMENT" | "CONTEXT" | "QUERY" | "LOCATION")
            });
            prop_assert_eq!(postgres_continuation(&text), by_pattern);
        }
    }

    proptest! {
        #[test]
        fn assembling_keeps_every_line_once_in_order(
            lines in proptest::collection::vec(
                prop_oneof![
                    "[ -~]{0,30}",
                    "2026-11-21 03:00:0[0-9] [A-Z]{3,5} x",
                    "[ \t]{1,2}at [a-z.]{1,10}",
                    "2026-11-21 03:00:00 CET \\[[12]\\] (LOG|DETAIL|STATEMENT):  [a-z\"]{0,8}",
                    "Feb 10 23:15:39 h postgres\\[[12]\\]: \\[[1-3]-[1-3]\\] x",
                    proptest::collection::vec(any::<u8>(), 0..40)
                        .prop_map(|b| String::from_utf8_lossy(&b).replace('\n', " ")),
                ],
                0..40,
            ),
            format in proptest::sample::select(Format::ALL.to_vec()),
            max_lines in 1_u32..6,
            max_bytes in 1_usize..200,
        ) {
            let limits = Limits { max_lines, max_bytes, idle: SignedDuration::from_secs(2) };
            let mut asm = assembler(format, Multiline::Auto, limits);
            let mut events = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                events.extend(asm.push(raw(i as u64 + 1, i as u64 * 100, line), now()));
            }
            events.extend(asm.finish());
            let mut next = 1;
            let mut texts = Vec::new();
            for event in &events {
                prop_assert_eq!(event.line_no, next);
                prop_assert_eq!(event.offset, (next - 1) * 100);
                prop_assert!(event.lines >= 1 && event.lines <= max_lines);
                prop_assert!(event.lines == 1 || event.text.len() <= max_bytes);
                next += u64::from(event.lines);
                texts.extend(event.text.split('\n').map(str::to_owned));
            }
            prop_assert_eq!(next, lines.len() as u64 + 1);
            prop_assert_eq!(texts, lines);
        }

        #[test]
        fn assembling_arbitrary_bytes_never_panics(
            lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..20),
            format in proptest::sample::select(Format::ALL.to_vec()),
        ) {
            let mut asm = assembler(format, Multiline::Auto, Limits::default());
            for (i, bytes) in lines.into_iter().enumerate() {
                let _ = asm.push(RawLine { offset: 0, line_no: i as u64 + 1, bytes, truncated: false, partial: true }, now());
                let _ = asm.flush(now() + SignedDuration::from_secs(i as i64));
            }
            let _ = asm.finish();
        }
    }
}
