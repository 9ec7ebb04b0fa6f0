//! Problems no signature knows: events that look like a failure (level
//! error or worse, or a failure marker in their text) that no signature
//! matched, grouped by the template of their message.
//!
//! Owns: the problem-like test ([`problem_like`]), the literal search that
//! finds every line a problem-like event may hold in a block of bytes
//! ([`candidate_lines`], used by `scan`'s fast path), and [`Problems`], the
//! groups (a template miner of their own, or the engine's miner of every
//! event, plus per-template counts of problem-like events). Must not: do
//! I/O or read a clock (times come with the events).
//!
//! Invariants: a problem-like event holds at least one line
//! [`candidate_lines`] names (so the fast path, which only looks at those
//! lines, finds the same problems as the line-by-line path; property-tested
//! in `scan`); memory is bounded by the miner's [`Config`] (groups of
//! templates evicted by the miner are dropped).
//!
//! The failure markers, and why each is there (what real failing logs say
//! when their level does not: Loghub's BlueGene/L, Hadoop, OpenSSH, Linux
//! samples, Kafka brokers, CI builds):
//! - an exception or error class or word: `IOException`, `ValueError`,
//!   `error:`, `errors` (Java, Python, compilers, CI steps);
//! - a stack trace's head or cause: `Traceback (most recent call last)`,
//!   `Caused by:`;
//! - `panic`, `fatal`, `abort`, `segfault`, `segmentation fault`, `core
//!   dumped`, `killed`, `crash`, `out of memory`: a process died;
//! - `fail`, `failed`, `failure`, `failing`: an operation said it failed;
//! - `refused`, `denied`, `unreachable`, `timed out`, `deadline exceeded`,
//!   `connection reset`, `broken pipe`, `no space left`: the errno texts of
//!   the usual outages;
//! - `cannot`, `can't`, `could not`, `couldn't`, `unable to`: an operation
//!   that did not happen;
//! - `corrupt`, `corrupted`, `corruption`: data damage;
//! - a non-zero exit: `exit code 2`, `exit status 1`, `exited with code
//!   137`, `non-zero exit`.
//!
//!   A marker counted as zero is not one: `0 errors`, `errors: 0`,
//!   `failed=0`, `no errors`, `without error` (test and build summaries say
//!   so when all went well).

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock},
};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind, Span, packed};
use regex::Regex;

use super::teddy::{self, Teddy};
use crate::{
    lines,
    model::{Captures, Event, Level, Severity},
    parse::format::Format,
    parse::template::{
        Config, Levels, Miner, Seen, TemplateId, TemplateRef, stats::floor_boundary,
    },
};

/// Why an event is problem-like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Its level is error or worse.
    Level(Level),
    /// Its text carries a failure marker.
    Marker,
}

/// The failure markers (see the module's documentation), matched
/// case-insensitively at word starts.
static MARKERS: LazyLock<Regex> = LazyLock::new(|| {
    // ASCII case only (`-u`): the literal search folds ASCII, and Unicode
    // folding would make the Kelvin sign a `k` (`\u{212A}illed`).
    Regex::new(
        r"(?xi-u)
        \b(?:
            (?-i:[A-Za-z0-9_.$]*(?:Exception|Error))\b
          | (?:exception|errors?)\b
          | traceback\ \(most\ recent\ call\ last\)
          | caused\ by:
          | panic(?:ked|s)?\b
          | fatal\b
          | abort(?:ed|ing|s)?\b
          | segfault | segmentation\ fault | core\ dumped
          | killed\b
          | crash(?:ed|es|ing)?\b
          | out\ of\ memory\b
          | fail(?:ed|ure|ures|ing|s)?\b
          | refused\b
          | denied\b
          | unreachable\b
          | timed\ out\b
          | deadline\ exceeded\b
          | connection\ reset\b
          | broken\ pipe\b
          | no\ space\ left\b
          | cannot\b | can't\b | could\ not\b | couldn't\b | unable\ to\b
          | corrupt(?:ed|ion)?\b
          | exit(?:ed)?(?:\ with)?\ (?:code|status)[\ :=]*[1-9]
          | non-?zero\ exit
        )",
    )
    .expect("valid regex")
});

/// A marker counted as zero or negated: `0 errors`, `no failures`,
/// `without error` before it.
static ZERO_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^0-9.])(?:0|no|zero|without)\s*$").expect("valid regex")
});

/// A marker counted as zero after it: `errors: 0`, `failed=0`, `Failures 0`.
static ZERO_AFTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*[:=]?\s*0(?:[^0-9.]|$)").expect("valid regex"));

/// Whether `text` carries a failure marker not counted as zero.
pub fn has_marker(text: &str) -> bool {
    MARKERS.find_iter(text).any(|m| {
        let mut from = m.start().saturating_sub(12);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let before = &text[from..m.start()];
        let after = &text[m.end()..];
        let after = &after[..floor_boundary(after, 12)];
        !(ZERO_BEFORE.is_match(before) || ZERO_AFTER.is_match(after))
    })
}

/// Whether `event` is problem-like, and why (its level first).
pub fn problem_like(event: &Event) -> Option<Why> {
    match event.level {
        Some(level) if level >= Level::Error => Some(Why::Level(level)),
        _ => has_marker(&event.text).then_some(Why::Marker),
    }
}

/// The severity a problem gets from the worst level its lines had: high
/// for fatal or critical, medium for error, low when only a marker said so.
pub fn severity_of(levels: Levels) -> Severity {
    match levels.max() {
        Some(Level::Fatal | Level::Critical) => Severity::High,
        Some(Level::Error) => Severity::Medium,
        _ => Severity::Low,
    }
}

/// Which spellings of a level of error or worse a stream's lines may hold,
/// by what its format's parser reads (`parse::Parser::read`): the
/// candidate literals of [`candidate_lines`] are chosen by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An access log: the level is the status (5xx).
    Access,
    /// Level words, klog's and CUPS's letters at a line start, ESXi's
    /// `Er(`, SSSD's `(0x0040)`, syslog priorities: every text format.
    Words,
    /// [`Kind::Words`], and a level written as a number (pino's 50 and
    /// 60) where the format reads one from a field or a column.
    Numeric,
    /// [`Kind::Numeric`], and a JSON record's `PRIORITY` (journald),
    /// `severity_number` (OpenTelemetry) and `log` value (klog's letter
    /// after its quote).
    Json,
    /// [`Kind::Words`], and the letters of klog and CUPS starting the
    /// message a CRI prefix wraps (after a space).
    Cri,
    /// [`Kind::Words`], and logcat's level letter standing alone after the
    /// time (or before `/tag`).
    Logcat,
}

impl Kind {
    /// Every kind, in declaration order (`kind as usize` is its place).
    const ALL: [Kind; 6] = [
        Kind::Access,
        Kind::Words,
        Kind::Numeric,
        Kind::Json,
        Kind::Cri,
        Kind::Logcat,
    ];

    fn of(format: Format) -> Kind {
        match format {
            Format::Access => Kind::Access,
            Format::Json | Format::DockerJson | Format::PostgresJson => Kind::Json,
            Format::Logfmt
            | Format::Python
            | Format::Tracing
            | Format::ApacheError
            | Format::PostgresCsv => Kind::Numeric,
            Format::Cri => Kind::Cri,
            Format::Logcat => Kind::Logcat,
            Format::Syslog | Format::Syslog5424 | Format::NginxError | Format::Log4j => Kind::Words,
            Format::Postgres | Format::Plain => Kind::Words,
        }
    }

    /// The literals searched for in the folded bytes ([`fold`]), besides
    /// `err` (found apart, see [`Candidates`]).
    fn literals(self) -> Vec<&'static str> {
        let mut all = MARKER_STEMS.to_vec();
        if self == Kind::Access {
            all.extend(STATUS_5XX);
            return all;
        }
        all.extend(LEVEL_FORMS);
        match self {
            Kind::Access | Kind::Words => {}
            Kind::Numeric => all.extend(NUMERIC.iter().chain(&ESCAPES)),
            Kind::Json => all.extend(
                NUMERIC
                    .iter()
                    .chain(&ESCAPES)
                    .chain(&JSON_FIELDS)
                    .chain(&QUOTED_KLOG),
            ),
            Kind::Cri => all.extend(SPACED_LETTERS),
            Kind::Logcat => all.extend(LOGCAT),
        }
        all
    }
}

/// The failure markers' stems, as folded (see the module's list; `err`,
/// the stem of `error`, `errors`, `...Error` and the level words ERROR
/// and ERR, is found apart): every marker holds one.
const MARKER_STEMS: [&str; 27] = [
    "exception",
    "traceback",
    "caused by",
    "panic",
    "fatal",
    "abort",
    "segfault",
    "segmentation fault",
    "core dumped",
    "killed",
    "crash",
    "out of memory",
    "fail",
    "refused",
    "denied",
    "unreachable",
    "timed out",
    "deadline exceeded",
    "connection reset",
    "broken pipe",
    "no space left",
    "cannot",
    "can't",
    // `could not`, `couldn't`.
    "could",
    "unable to",
    "corrupt",
    // `exit code 2`, `exited with status 1`, `non-zero exit`.
    "exit",
];

/// The other spellings of a level of error or worse a text line may
/// hold where `parse::line_level` reads it (ERROR and ERR are `err`):
/// level words (CRITICAL, CRIT, ALERT, EMERG, EMERGENCY, SEVERE; FATAL,
/// PANIC and DPANIC are markers), ESXi's `Er(`, `Cr(`, `Al(`, `Em(` after
/// the time (and a space), SSSD's `(0x0010)` ... `(0x0040)`. klog's and
/// CUPS's letters at a line start are found apart ([`letter_lines`]).
const LEVEL_FORMS: [&str; 9] = [
    "crit", "alert", "emerg", "severe", " er(", " cr(", " al(", " em(", "(0x0",
];

/// An access log's 5xx status after the quoted request.
const STATUS_5XX: [&str; 10] = [
    "\" 50", "\" 51", "\" 52", "\" 53", "\" 54", "\" 55", "\" 56", "\" 57", "\" 58", "\" 59",
];

/// pino/bunyan levels 50 and 60 as a field's value or a column (a JSON
/// or logfmt value, Python's `50:name:msg`, zap's tab-separated column;
/// tabs fold to spaces).
const NUMERIC: [&str; 10] = [
    ":50", "=50", "\"50", " 50", "\n50", ":60", "=60", "\"60", " 60", "\n60",
];

/// A JSON escape of an ASCII character (`\u0045RROR` is `ERROR` once
/// decoded; a level is read from the decoded value).
const ESCAPES: [&str; 1] = ["\\u00"];

/// The keys of journald's `PRIORITY` and OpenTelemetry's
/// `severity_number` (their values are written with and without quotes
/// and spaces: every record with one is a candidate).
const JSON_FIELDS: [&str; 2] = ["\"priority\"", "\"severity_number\""];

/// klog's letter (4 or 8 digits after it) starting a JSON value (the `log`
/// of Docker's and Fluentd's records).
const QUOTED_KLOG: [&str; 6] = ["\"e0", "\"e1", "\"e2", "\"f0", "\"f1", "\"f2"];

/// klog's letter and CUPS's `E [` starting the message a CRI prefix wraps.
const SPACED_LETTERS: [&str; 14] = [
    " e0", " e1", " e2", " f0", " f1", " f2", " e [", " e, ", " c [", " c, ", " f [", " f, ",
    " a [", " a, ",
];

/// logcat's level letter as a word of its own (`... 2395 E Tag: ...`),
/// before `/tag`, or last on the line.
const LOGCAT: [&str; 12] = [
    " e ", " e/", " e\n", " f ", " f/", " f\n", " c ", " c/", " c\n", " a ", " a/", " a\n",
];

/// The literal search of one [`Kind`]: its literals and `err` (last), all
/// folded ([`teddy::fold`]), in one vectorised pass over the bytes as they
/// are, where the CPU has it; else over a folded copy, the literals with
/// Teddy (every literal four bytes or more in the common kinds: four-byte
/// masks) or an Aho-Corasick automaton, and `err` apart with `memmem` (a
/// three-byte literal would shorten every mask to three bytes).
struct Candidates {
    kind: Kind,
    /// The vectorised pass, and what each of its literals is.
    teddy: Option<(Teddy, Vec<Hit>)>,
    literals: Search,
    err: memchr::memmem::Finder<'static>,
}

/// What a literal the search found is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hit {
    /// A literal naming its line (the next, when it starts with a
    /// terminator).
    Literal,
    /// `err`: its line when [`err_may_be_problem`] says so.
    Err,
}

/// A literal search.
enum Search {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Search {
    fn new(literals: &[&str]) -> Search {
        let mut all: Vec<Vec<u8>> = literals
            .iter()
            .map(|l| l.bytes().map(teddy::fold).collect())
            .collect();
        all.sort();
        all.dedup();
        let teddy = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&all)
            .build();
        match teddy {
            Some(searcher) => Search::Packed(searcher),
            None => Search::Automaton(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&all)
                    .expect("valid literals"),
            ),
        }
    }

    /// Where the first literal at or after `at` starts.
    fn find(&self, haystack: &[u8], at: usize) -> Option<usize> {
        match self {
            Search::Packed(s) => s.find_in(haystack, Span::from(at..haystack.len())),
            Search::Automaton(a) => a.find(Input::new(haystack).span(at..haystack.len())),
        }
        .map(|m| m.start())
    }
}

impl Candidates {
    fn new(kind: Kind) -> Candidates {
        let literals = kind.literals();
        let folded = |bytes: &'static [u8]| teddy::Literal {
            bytes,
            folded: true,
        };
        let mut all: Vec<teddy::Literal<'_>> =
            literals.iter().map(|l| folded(l.as_bytes())).collect();
        let mut roles = vec![Hit::Literal; all.len()];
        all.push(folded(b"err"));
        roles.push(Hit::Err);
        Candidates {
            kind,
            teddy: Some((Teddy::new(&all), roles)).filter(|(t, _)| t.is_fast()),
            literals: Search::new(&literals),
            err: memchr::memmem::Finder::new(b"err"),
        }
    }

    fn of(format: Format) -> &'static Candidates {
        static KINDS: LazyLock<[Candidates; 6]> = LazyLock::new(|| Kind::ALL.map(Candidates::new));
        &KINDS[Kind::of(format) as usize]
    }

    /// The search's hits: what is at the first at or after a place of
    /// `bytes` (`folded`: their folding, when no vectorised pass reads
    /// `bytes` as they are).
    fn hits<'a>(
        &'a self,
        bytes: &'a [u8],
        folded: &'a [u8],
    ) -> impl FnMut(usize) -> Option<(usize, Hit)> + 'a {
        // Each search's next hit from where it last looked, while ahead
        // (`hit_lines` looks past an `err` for another hit in its line, then
        // goes on from the line's end: the hit found past it is not
        // searched for twice).
        let mut hit = (usize::MAX, None);
        let (mut literal, mut err) = ((usize::MAX, None), (usize::MAX, None));
        move |at| {
            if let Some((teddy, roles)) = &self.teddy {
                return ahead(&mut hit, at, |at| {
                    teddy
                        .find(bytes, at)
                        .map(|(place, id)| (place, roles[id as usize]))
                });
            }
            let place = |found: Option<usize>| found.map(|place| (place, ()));
            let literal = ahead(&mut literal, at, |at| place(self.literals.find(folded, at)));
            let err = ahead(&mut err, at, |at| {
                place(self.err.find(&folded[at..]).map(|i| at + i))
            });
            match (literal, err) {
                (Some((l, ())), Some((e, ()))) if e < l => Some((e, Hit::Err)),
                (Some((l, ())), _) => Some((l, Hit::Literal)),
                (None, e) => e.map(|(e, ())| (e, Hit::Err)),
            }
        }
    }
}

/// The next hit at or after `at` of a search (where, and what), kept in
/// `last` (where it last looked, what it found) and searched for again
/// (`find`) only when `at` is before where it looked or past what it found.
fn ahead<T: Copy>(
    last: &mut (usize, Option<(usize, T)>),
    at: usize,
    find: impl Fn(usize) -> Option<(usize, T)>,
) -> Option<(usize, T)> {
    if at < last.0 || last.1.is_some_and(|(found, _)| found < at) {
        *last = (at, find(at));
    }
    last.1
}

thread_local! {
    /// A folded copy of the block being searched (one per thread,
    /// reused; where no vectorised pass reads the block as it is), or of
    /// a line.
    static FOLDED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Appends the lines of `bytes` (as `(start, end)`, `end` at the
/// terminator) a problem-like event of a stream in `format` may hold:
/// those with a failure marker's stem or a spelling of a level of error or
/// worse that `format`'s parser reads (in any case), a syslog priority of
/// severity 0 to 3, or a level letter at their start. `starts`: the start
/// of every line of `bytes`, ascending (`tail::read::line_starts`; the
/// caller has them already). The lines appended are sorted, each once.
pub fn candidate_lines(
    bytes: &[u8],
    starts: &[usize],
    format: Format,
    out: &mut Vec<(usize, usize)>,
) {
    Candidates::of(format).lines(bytes, starts, out);
}

impl Candidates {
    /// [`candidate_lines`] for this kind.
    fn lines(&self, bytes: &[u8], starts: &[usize], out: &mut Vec<(usize, usize)>) {
        let candidates = self;
        let from = out.len();
        FOLDED.with_borrow_mut(|folded| {
            folded.clear();
            if candidates.teddy.is_none() {
                folded.extend(bytes.iter().map(|&b| teddy::fold(b)));
            }
            let block = std::mem::take(folded);
            hit_lines(bytes, candidates.hits(bytes, &block), folded, out);
            *folded = block;
        });
        // A logcat letter last in the block (its line has no terminator).
        if candidates.kind != Kind::Access
            && let [.., space, letter] = bytes
            && teddy::fold(*space) == b' '
            && matches!(teddy::fold(*letter), b'e' | b'f' | b'c' | b'a')
        {
            let last = memchr::memrchr2(b'\n', b'\r', bytes).map_or(0, |i| i + 1);
            out.push((last, bytes.len()));
        }
        match candidates.kind {
            Kind::Access => time_first_5xx_lines(bytes, starts, out),
            _ => {
                letter_lines(bytes, starts, out);
                priority_lines(bytes, out);
            }
        }
        // A level number starting the block (Python's `50:name:msg`; after a
        // terminator it is a literal).
        if matches!(candidates.kind, Kind::Numeric | Kind::Json)
            && (bytes.starts_with(b"50") || bytes.starts_with(b"60"))
        {
            out.push((0, lines::end(bytes, 0)));
        }
        lines::sort_unique(out, from);
    }
}

/// Appends the lines of `bytes` that `hits` (the next hit at or after a
/// place, see [`Candidates::hits`]) names: the line of each literal (one
/// starting with a terminator names the line after it), and the line of
/// an `err` when a literal is in it too or it may hold a problem-like event
/// ([`err_may_be_problem`]: `line` is scratch for its folding). Each line
/// once.
fn hit_lines(
    bytes: &[u8],
    mut hits: impl FnMut(usize) -> Option<(usize, Hit)>,
    line: &mut Vec<u8>,
    out: &mut Vec<(usize, usize)>,
) {
    let mut at = 0;
    while at < bytes.len() {
        let Some((hit, what)) = hits(at) else {
            break;
        };
        let named = match bytes[hit] {
            b'\n' | b'\r' => hit + 1,
            _ => hit,
        };
        let (start, end) = lines::around(bytes, named);
        let take = match what {
            Hit::Literal => true,
            Hit::Err => {
                let mut next = hit + 1;
                let other = loop {
                    match hits(next) {
                        Some((place, what)) if place < end => match what {
                            Hit::Literal => break true,
                            Hit::Err => next = place + 1,
                        },
                        _ => break false,
                    }
                };
                other || {
                    line.clear();
                    line.extend(bytes[start..end].iter().map(|&b| teddy::fold(b)));
                    err_may_be_problem(&bytes[start..end], line)
                }
            }
        };
        if take {
            out.push((start, end));
        }
        at = end.max(hit + 1);
    }
}

/// Whether a line holding `err` (in `folded`, its folding) may hold a
/// problem-like event: an `err` of its is a whole word `err` or `error` (a
/// level word, in some position), or it carries a failure marker not
/// counted as zero. The others (`0 errors`, `stderr`) cannot: no other
/// spelling of a level or a marker is in them (else another literal named
/// the line), and a marker counted as zero in the line is counted as zero
/// in any event holding it. A line that is not valid UTF-8 may.
fn err_may_be_problem(line: &[u8], folded: &[u8]) -> bool {
    let level_word = memchr::memmem::find_iter(folded, b"err").any(|i| {
        let start = folded[..i]
            .iter()
            .rposition(|b| !b.is_ascii_alphanumeric())
            .map_or(0, |p| p + 1);
        let end = folded[i..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .map_or(folded.len(), |p| i + p);
        let word = &folded[start..end];
        // After an escape (`\tERROR` in a JSON or logfmt value), the word
        // starts after the escape's letter once decoded.
        let escaped = start > 0 && folded[start - 1] == b'\\' && word.len() > 1;
        matches!(word, b"err" | b"error") || (escaped && matches!(&word[1..], b"err" | b"error"))
    });
    level_word || std::str::from_utf8(line).map_or(true, has_marker)
}

/// Appends the lines of `bytes` that start (after a byte order mark) with
/// an upper-case `E`, `F`, `C` or `A` followed by a digit, a space, a
/// comma, a slash, a tab or the line's end: klog's and glog's level letter
/// (`E1121 03:12:09...`, `F20200308 ...`), CUPS's and Ruby's (`E [...]`,
/// `E, [...]`) and logcat's (`E/Tag`, a letter alone), of error or worse.
/// Not a word (a syslog line of February, April or August starts with
/// `Feb`, `Apr`, `Aug`: every line would be taken).
fn letter_lines(bytes: &[u8], starts: &[usize], out: &mut Vec<(usize, usize)>) {
    for &start in starts {
        letter_line(bytes, start, out);
    }
}

/// Appends the line starting at `start` when [`letter_lines`] would.
fn letter_line(bytes: &[u8], start: usize, out: &mut Vec<(usize, usize)>) {
    let at = match bytes[start..].starts_with(b"\xef\xbb\xbf") {
        true => start + 3,
        false => start,
    };
    if matches!(bytes.get(at), Some(b'E' | b'F' | b'C' | b'A'))
        && matches!(
            bytes.get(at + 1),
            None | Some(b'0'..=b'9' | b' ' | b',' | b'/' | b'\t' | b'\n' | b'\r')
        )
    {
        out.push((start, lines::end(bytes, start)));
    }
}

/// Appends the lines of `bytes` in the time-first access layout
/// (`2013-02-11T06:43:36 10.1.2.3 - GET "/client/" -1 503 5778`, its status
/// not after a quote) whose status is 5xx, read as the parser reads it.
fn time_first_5xx_lines(bytes: &[u8], starts: &[usize], out: &mut Vec<(usize, usize)>) {
    for &start in starts {
        let head = &bytes[start..bytes.len().min(start + 5)];
        if head.len() == 5 && head[..4].iter().all(u8::is_ascii_digit) && head[4] == b'-' {
            let end = lines::end(bytes, start);
            let status = std::str::from_utf8(&bytes[start..end])
                .ok()
                .and_then(|text| {
                    crate::parse::fields::access(text)
                        .get("status")
                        .and_then(crate::parse::status_level)
                });
            if status.is_some_and(|level| level >= Level::Error) {
                out.push((start, end));
            }
        }
    }
}

/// Appends the lines of `bytes` that hold a syslog priority (`<PRI>`, at
/// most three digits) whose severity (PRI % 8) is 0 to 3, each once.
fn priority_lines(bytes: &[u8], out: &mut Vec<(usize, usize)>) {
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'<', &bytes[at..]) {
        let open = at + i;
        at = open + 1;
        if priority_at(bytes, open) {
            let (start, end) = lines::around(bytes, open);
            out.push((start, end));
            at = end.max(at);
        }
    }
}

/// Whether a syslog priority of severity 0 to 3 (`<PRI>`, one to three
/// digits, below 192) starts at `open`.
fn priority_at(bytes: &[u8], open: usize) -> bool {
    let digits = bytes[open + 1..]
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(1..=3).contains(&digits) || bytes.get(open + 1 + digits) != Some(&b'>') {
        return false;
    }
    let pri = bytes[open + 1..open + 1 + digits]
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    pri < 192 && pri % 8 <= 3
}

/// A time as the runbook's commands take it: `YYYY-MM-DD HH:MM:SS`, UTC.
fn utc(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// The captures of a problem (its alert's, and the values the
/// `unknown-problem` runbook's parameters are taken from): `template`,
/// `template_text`, the first occurrence's `source` and `line`, `range`
/// (from 50 lines before it to it, as `sed -n` takes it), and `before` and
/// `first` (ten minutes before it and its time, in UTC) when it has a time.
pub fn captures(first: &Seen, template: TemplateId, text: &str) -> Captures {
    let mut captures = vec![
        ("template".to_owned(), template.to_string()),
        ("template_text".to_owned(), text.to_owned()),
        ("source".to_owned(), first.source.to_string()),
        ("line".to_owned(), first.line_no.to_string()),
        (
            "range".to_owned(),
            format!(
                "{},{}p",
                first.line_no.saturating_sub(50).max(1),
                first.line_no
            ),
        ),
    ];
    if let Some(ts) = first.ts {
        let before = ts
            .checked_sub(jiff::SignedDuration::from_mins(10))
            .unwrap_or(ts);
        captures.push(("before".to_owned(), utc(before)));
        captures.push(("first".to_owned(), utc(ts)));
    }
    captures
}

/// One group of problem-like events: the events of one template.
#[derive(Debug, Clone)]
struct Group {
    count: u64,
    first: Seen,
    last: Seen,
    levels: Levels,
    /// The first line of the first event.
    sample: String,
}

/// A problem as reported: one template's problem-like events.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The template's id.
    pub template: TemplateId,
    /// Its text, variable parts as `<*>`.
    pub template_text: String,
    /// From the worst level seen ([`severity_of`]).
    pub severity: Severity,
    /// Problem-like events of the template.
    pub count: u64,
    /// The first and last of them.
    pub first: Seen,
    /// The last of them.
    pub last: Seen,
    /// Levels seen on them.
    pub levels: Levels,
    /// The first line of the first of them (at `first`).
    pub sample: String,
    /// Its place in the ranking, from 1.
    pub rank: usize,
}

/// What [`Problems::observe`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// The template of the event.
    pub template: TemplateRef,
    /// Its id now.
    pub id: TemplateId,
    /// The event was the first problem-like one of its template.
    pub new_group: bool,
}

/// At most this many bytes of a sample line are kept.
const MAX_SAMPLE: usize = 512;

/// Problem groups: problem-like events that no signature matched, by
/// template.
#[derive(Debug)]
pub struct Problems {
    miner: Miner,
    groups: HashMap<TemplateRef, Group>,
    /// Every event is mined (not only problem-like ones): templates for
    /// `scan --all` and `patterns`.
    mine_all: bool,
    /// The template of the last event mined.
    last: Option<TemplateRef>,
    /// Nothing is mined or counted (templates were learned beforehand and
    /// are only looked up).
    paused: bool,
}

impl Default for Problems {
    fn default() -> Problems {
        Problems::new(Config::default())
    }
}

impl Problems {
    /// Groups mined with these bounds.
    pub fn new(config: Config) -> Problems {
        Problems {
            miner: Miner::new(config),
            groups: HashMap::new(),
            mine_all: false,
            last: None,
            paused: false,
        }
    }

    /// Mines every event given to [`Problems::event`], not only the
    /// problem-like ones.
    pub fn mine_all(&mut self, on: bool) {
        self.mine_all = on;
    }

    /// Stops (or resumes) mining and counting: events are then only
    /// matched.
    pub fn pause(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Whether every event is mined.
    pub fn mines_all(&self) -> bool {
        self.mine_all
    }

    /// The miner (every template, with its counts).
    pub fn miner(&self) -> &Miner {
        &self.miner
    }

    /// The miner, to look templates up.
    pub fn miner_mut(&mut self) -> &mut Miner {
        &mut self.miner
    }

    /// The template of the last event mined, when it is still kept.
    pub fn last_template(&self) -> Option<TemplateId> {
        self.miner.get(self.last?).map(|t| t.id())
    }

    /// Takes one event no signature matched: mined when it is
    /// problem-like (or every event is mined), and counted in its
    /// template's group when problem-like.
    pub fn event(&mut self, event: &Event, matched: bool) -> Option<Observed> {
        self.last = None;
        if self.paused {
            return None;
        }
        let why = if matched { None } else { problem_like(event) };
        if why.is_none() && !self.mine_all {
            return None;
        }
        let assigned = self.miner.add_event(event);
        self.last = Some(assigned.template);
        why?;
        let seen = Seen {
            source: Arc::clone(&event.source),
            line_no: event.line_no,
            offset: event.offset,
            ts: event.ts,
        };
        let mut new_group = false;
        let group = self.groups.entry(assigned.template).or_insert_with(|| {
            new_group = true;
            let first = event.text.split('\n').next().unwrap_or("");
            let cut = floor_boundary(first, MAX_SAMPLE);
            Group {
                count: 0,
                first: seen.clone(),
                last: seen.clone(),
                levels: Levels::default(),
                sample: first[..cut].to_owned(),
            }
        });
        group.count += 1;
        group.last = seen;
        if let Some(level) = event.level {
            group.levels.add(level);
        }
        if new_group && self.groups.len() > 2 * self.miner.config().max_templates.max(64) {
            self.prune();
        }
        Some(Observed {
            template: assigned.template,
            id: assigned.id,
            new_group,
        })
    }

    /// Drops the groups of templates the miner no longer keeps, and joins
    /// groups whose templates became one.
    fn prune(&mut self) {
        let groups = std::mem::take(&mut self.groups);
        for (r, group) in groups {
            let Some(now) = self.miner.current(r) else {
                continue;
            };
            match self.groups.get_mut(&now) {
                Some(into) => join(into, group),
                None => {
                    self.groups.insert(now, group);
                }
            }
        }
    }

    /// The problems so far, ranked: most severe first, then the rarest
    /// (fewest events), then the earliest.
    pub fn report(&mut self) -> Vec<Problem> {
        self.prune();
        let mut problems: Vec<Problem> = self
            .groups
            .iter()
            .filter_map(|(r, g)| {
                let t = self.miner.get(*r)?;
                Some(Problem {
                    template: t.id(),
                    template_text: t.text().to_owned(),
                    severity: severity_of(g.levels),
                    count: g.count,
                    first: g.first.clone(),
                    last: g.last.clone(),
                    levels: g.levels,
                    sample: g.sample.clone(),
                    rank: 0,
                })
            })
            .collect();
        problems.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.count.cmp(&b.count))
                .then(seen_order(&a.first, &b.first))
                .then(a.template.cmp(&b.template))
        });
        for (i, p) in problems.iter_mut().enumerate() {
            p.rank = i + 1;
        }
        problems
    }
}

/// Earlier first: timed before untimed, by time, then by source and line
/// (a total order, so the ranking does not depend on hashing).
fn seen_order(a: &Seen, b: &Seen) -> std::cmp::Ordering {
    (a.ts.is_none(), a.ts, &*a.source, a.line_no).cmp(&(
        b.ts.is_none(),
        b.ts,
        &*b.source,
        b.line_no,
    ))
}

fn earlier(a: &Seen, b: &Seen) -> bool {
    seen_order(a, b).is_lt()
}

fn join(into: &mut Group, from: Group) {
    into.count += from.count;
    into.levels = into.levels.union(from.levels);
    if earlier(&from.first, &into.first) {
        into.first = from.first;
        into.sample = from.sample;
    }
    if earlier(&into.last, &from.last) {
        into.last = from.last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`candidate_lines`] with the line starts found here.
    fn candidates_in(bytes: &[u8], format: Format, out: &mut Vec<(usize, usize)>) {
        let mut starts = Vec::new();
        crate::tail::read::line_starts(bytes, &mut starts);
        candidate_lines(bytes, &starts, format, out);
    }

    fn event(text: &str, level: Option<Level>) -> Event {
        Event {
            source: Arc::from("t.log"),
            offset: 0,
            line_no: 1,
            ts: None,
            level,
            text: text.to_owned(),
            message: 0,
            lossy: false,
            truncated: false,
            partial: false,
            fields: Default::default(),
            lines: 1,
        }
    }

    #[test]
    fn markers_are_failures_not_counted_as_zero() {
        for yes in [
            "java.io.IOException: Connection reset by peer",
            "ValueError: invalid literal",
            "error: could not compile `triage`",
            "Traceback (most recent call last):",
            "thread 'main' panicked at src/main.rs:2:5",
            "Connection refused",
            "Permission denied (publickey)",
            "upstream timed out (110: Connection timed out)",
            "Process completed with exit code 1.",
            "Command exited with status 2",
            "returned non-zero exit status 1",
            "Failed password for root from 10.0.0.1 port 22",
            "instruction cache parity error corrected",
            "Tests run: 12, Failures: 1, Errors: 0",
        ] {
            assert!(has_marker(yes), "{yes}");
        }
        for no in [
            "Tests run: 12, Failures: 0, Errors: 0, Skipped: 0",
            "build finished with 0 errors",
            "completed without error",
            "failed=0 ok=12",
            "no errors found",
            "exit code 0",
            "Connected to 10.0.0.1",
            "the terror of stderr",
            "receiving block blk_-1608999687919862906 src: /10.250.19.102:54106",
        ] {
            assert!(!has_marker(no), "{no}");
        }
    }

    #[test]
    fn a_level_of_error_or_worse_is_enough() {
        assert_eq!(
            problem_like(&event("x", Some(Level::Fatal))),
            Some(Why::Level(Level::Fatal))
        );
        assert_eq!(problem_like(&event("x", Some(Level::Warn))), None);
        assert_eq!(
            problem_like(&event("disk failed", Some(Level::Info))),
            Some(Why::Marker)
        );
    }

    #[test]
    fn candidate_lines_hold_every_marker_and_level() {
        let candidates = |format: Format, text: &str| -> Vec<String> {
            let mut out = Vec::new();
            candidates_in(text.as_bytes(), format, &mut out);
            out.iter().map(|&(s, e)| text[s..e].to_owned()).collect()
        };
        let text = "ok line\nINFO fine\n2026 ERROR boom\nE1121 03:12:09.1 x\n<11>Nov 1 h p: x\n\
                    all good\nDisk Failed\nE [04/Nov/2010:18:45:51 +0000] x\nF20200308 23:47:32.1 y\n\
                    2020-01-01T00:00:00Z Er(163) Hostd: z\n(Mon Jan 1 00:00:00 2024) [sssd] (0x0040): w\n\
                    user.crit x\n";
        assert_eq!(
            candidates(Format::Plain, text),
            [
                "2026 ERROR boom",
                "E1121 03:12:09.1 x",
                "<11>Nov 1 h p: x",
                "Disk Failed",
                "E [04/Nov/2010:18:45:51 +0000] x",
                "F20200308 23:47:32.1 y",
                "2020-01-01T00:00:00Z Er(163) Hostd: z",
                "(Mon Jan 1 00:00:00 2024) [sssd] (0x0040): w",
                "user.crit x",
            ]
        );
        // Regression (every syslog line of August was taken, a scan of it
        // four times slower): a month is not a level letter; CUPS's, Ruby's
        // and logcat's letters are.
        let months = "Aug 21 00:00:00 h cron[1]: ok\nFeb 2 h x\nApr 1 h y\nE, [2024-06-26T1] z\n\
                      A [04/Nov/2010:18:45:51 +0000] x\nE/Tag( 12): w\nC\n";
        assert_eq!(
            candidates(Format::Syslog, months),
            [
                "E, [2024-06-26T1] z",
                "A [04/Nov/2010:18:45:51 +0000] x",
                "E/Tag( 12): w",
                "C"
            ]
        );
        let access =
            "1.2.3.4 - - [x] \"GET / HTTP/1.1\" 503 1\n1.2.3.4 - - [x] \"GET / HTTP/1.1\" 200 1\n";
        assert_eq!(
            candidates(Format::Access, access),
            ["1.2.3.4 - - [x] \"GET / HTTP/1.1\" 503 1"]
        );
        // Every record with a `PRIORITY` is one (journald writes it in
        // more ways than are worth listing).
        let json = "{\"level\":50,\"msg\":\"x\"}\n{\"level\":30}\n{ \"PRIORITY\" : \"3\", \"MESSAGE\":\"m\"}\n\
                    {\"severity_number\":17}\n{\"log\":\"E1121 03:12:09.1 x\"}\n{\"log\":\"I1121 x\"}\n";
        assert_eq!(
            candidates(Format::Json, json),
            [
                "{\"level\":50,\"msg\":\"x\"}",
                "{ \"PRIORITY\" : \"3\", \"MESSAGE\":\"m\"}",
                "{\"severity_number\":17}",
                "{\"log\":\"E1121 03:12:09.1 x\"}",
            ]
        );
        let logcat = "03-17 16:13:38.811  1702  2395 D Tag: ok\n03-17 16:13:38.811  1702  2395 E Tag: b\n\
                      03-17 16:13:38.811  1702  2395 F";
        assert_eq!(
            candidates(Format::Logcat, logcat),
            [
                "03-17 16:13:38.811  1702  2395 E Tag: b",
                "03-17 16:13:38.811  1702  2395 F"
            ]
        );
    }

    #[test]
    fn a_line_whose_only_literal_is_err_is_one_when_a_level_or_marker_may_be_there() {
        let text = "INFO health check ok, 0 errors\nINFO wrote to stderr\nINFO Errors: 0\n\
                    INFO [error] x\nx level=err y\nINFO 3 errors\nnginx: [ERROR] x\n\
                    INFO IOError raised\nINFO no errors, 2 failures\n";
        let mut out = Vec::new();
        candidates_in(text.as_bytes(), Format::Plain, &mut out);
        let lines: Vec<&str> = out.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(
            lines,
            [
                "INFO [error] x",
                "x level=err y",
                "INFO 3 errors",
                "nginx: [ERROR] x",
                "INFO IOError raised",
                "INFO no errors, 2 failures"
            ]
        );
    }

    /// Lines whose level or marker only a corner of the parser reads (found
    /// by a review): each problem-like line is a candidate of its format.
    #[test]
    fn problem_like_lines_in_the_parsers_corners_are_candidates() {
        let ctx = crate::parse::TimeContext::new(
            jiff::tz::TimeZone::UTC,
            "2026-11-21T12:00:00Z".parse().expect("a time"),
        );
        let cases: &[(Format, &str)] = &[
            (
                Format::Access,
                r#"2013-02-11T06:43:36 10.1.2.3 - GET "/client/" -1 503 5778"#,
            ),
            (
                Format::DockerJson,
                r#"{"log":"2026-11-21T03:00:00.000Z\tERROR\tdb/pool.go:12\tlost the pool\n","stream":"stderr","time":"2026-11-21T03:00:00.000000000Z"}"#,
            ),
            (Format::Json, r#"{"level":"\terror","msg":"x"}"#),
            (Format::Json, r#"{"level":"\u0065rror","msg":"x"}"#),
            (Format::Logfmt, r#"level="\terror" msg=x"#),
            (Format::Json, r#"{"log":"E3121 03:12:09.1 x"}"#),
            (
                Format::Cri,
                "2026-11-21T03:00:00Z stderr F E3121 03:12:09.1 x",
            ),
            (Format::Plain, "<192>Nov 21 03:14:02 web-1 app[42]: started"),
            (
                Format::Syslog,
                "<195>Nov 21 03:14:02 web-1 app[42]: started",
            ),
            (Format::Plain, "<+11>Nov 21 03:14:02 web-1 app[42]: started"),
            (Format::Logfmt, "level=050 msg=x"),
            (Format::Logfmt, "level=+50 msg=x"),
            (Format::Python, "50:root:pool lost"),
            (
                Format::Plain,
                "2026-11-21T03:00:00Z INFO worker \u{212A}illed by signal 9",
            ),
            (
                Format::Plain,
                "2026-11-21T03:00:00Z INFO \u{17F}egfault at 0x0",
            ),
        ];
        let mut missed = Vec::new();
        for &(format, line) in cases {
            let parser = crate::parse::Parser::with_format(Arc::from("t"), ctx.clone(), format);
            let event = parser.event(crate::model::RawLine {
                offset: 0,
                line_no: 1,
                bytes: line.as_bytes().to_vec(),
                truncated: false,
                partial: false,
            });
            let mut out = Vec::new();
            candidates_in(line.as_bytes(), format, &mut out);
            if problem_like(&event).is_some() && out.is_empty() {
                missed.push(format!("{format:?} {line:?}"));
            }
        }
        assert!(
            missed.is_empty(),
            "problem-like, no candidate:\n{}",
            missed.join("\n")
        );
    }

    #[test]
    fn every_kind_is_one_teddy_search() {
        for format in [
            Format::Access,
            Format::Plain,
            Format::Logfmt,
            Format::Json,
            Format::Cri,
            Format::Logcat,
        ] {
            let literals = Kind::of(format).literals();
            assert!(literals.len() <= 64, "{format:?}: {}", literals.len());
            if std::is_x86_feature_detected!("avx2") {
                assert!(
                    matches!(Candidates::of(format).literals, Search::Packed(_)),
                    "{format:?}"
                );
            }
        }
    }

    #[test]
    fn priorities_of_severity_zero_to_three_are_candidates() {
        let text = "<13>Nov 1 notice\n<11>Nov 1 x\n<187>x\n<188>x\n<1234>x\na <3> b\n";
        let mut out = Vec::new();
        candidates_in(text.as_bytes(), Format::Syslog, &mut out);
        let lines: Vec<&str> = out.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(lines, ["<11>Nov 1 x", "<187>x", "a <3> b"]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Whatever the case of its letters, a line with a marker is a
        /// candidate (the search runs on a folded copy).
        #[test]
        fn a_marker_in_any_case_makes_a_candidate(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "ok", "Connection", "REFUSED", "timed", "out", "Exit", "code", "3",
                    "could", "not", "fAiLeD", "ErRoR", "\"", "E1121", "done", "\r",
                ]),
                1..8,
            ),
            flips in proptest::collection::vec(proptest::bool::ANY, 64),
        ) {
            let mut line: String = words.join(" ");
            line = line.chars().zip(flips.iter().cycle()).map(|(c, &f)| {
                if f { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }
            }).collect();
            let text = format!("pad\n{line}\npad\n");
            let mut out = Vec::new();
            candidates_in(text.as_bytes(), Format::Plain, &mut out);
            for part in line.split('\r') {
                if has_marker(part) {
                    let at = text.find(part).unwrap_or(0);
                    proptest::prop_assert!(
                        out.iter().any(|&(s, e)| s <= at && at + part.len() <= e),
                        "{part:?} not in {out:?}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// The vectorised pass over the bytes as they are names the lines
        /// the search over a folded copy names, in every kind.
        #[test]
        fn one_pass_over_the_bytes_names_the_lines_a_folded_copy_does(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "ok ", "ERR", "err", "Error", "stderr", "0 errors", " errors: 0", "FAIL", "Fa",
                    "iled", "\t", "\r", "\n", "\r\n", " ", "timed\tout", "\\u0045RROR", "\\tERROR",
                    "\" 503 ", "\n50", ":60", " e ", " E/", " c [", "\"e1", "(0x0040)", "<11>",
                    "\"PRIORITY\"", "crit", "éé", "\u{212A}illed", "could not", "exit code 1", "x",
                ]),
                0..40,
            ),
            kind in proptest::sample::select(Kind::ALL.to_vec()),
        ) {
            let text = pieces.concat();
            let fast = Candidates::new(kind);
            proptest::prop_assume!(fast.teddy.is_some());
            let folded = Candidates { teddy: None, ..Candidates::new(kind) };
            let (mut a, mut b, mut starts) = (Vec::new(), Vec::new(), Vec::new());
            crate::tail::read::line_starts(text.as_bytes(), &mut starts);
            fast.lines(text.as_bytes(), &starts, &mut a);
            folded.lines(text.as_bytes(), &starts, &mut b);
            proptest::prop_assert_eq!(a, b, "{:?}", text);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(8))]

        /// Every line unique (words no template shares), failure-like:
        /// templates, groups and bytes held stay within the bounds.
        #[test]
        fn memory_stays_bounded_on_all_unique_input(seed in 0u64..1_000_000, lines in 2_000usize..4_000) {
            let config = Config { max_templates: 50, max_bytes: 64 << 10, ..Config::default() };
            let mut problems = Problems::new(config);
            let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            for i in 0..lines {
                let mut text = String::from("ERROR");
                for _ in 0..(i % 7 + 2) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let word: String = (0..6).map(|k| char::from(b'a' + ((x >> (k * 5)) % 26) as u8)).collect();
                    text.push(' ');
                    text.push_str(&word);
                }
                problems.event(&event(&text, Some(Level::Error)), false);
                proptest::prop_assert!(problems.miner().len() <= 50);
                proptest::prop_assert!(problems.groups.len() <= 2 * 64 + 1);
                proptest::prop_assert!(problems.miner().held_bytes() <= 64 << 10);
            }
            let report = problems.report();
            proptest::prop_assert!(report.len() <= 50);
        }
    }

    #[test]
    fn problems_are_grouped_by_template_and_ranked() {
        let mut problems = Problems::default();
        for i in 0..5 {
            let e = event(
                &format!("ERROR connection to 10.0.0.{i} refused"),
                Some(Level::Error),
            );
            problems.event(&e, false);
        }
        problems.event(&event("FATAL kernel panic", Some(Level::Fatal)), false);
        problems.event(&event("INFO all good", Some(Level::Info)), false);
        problems.event(&event("ERROR known one", Some(Level::Error)), true);
        let report = problems.report();
        assert_eq!(report.len(), 2, "{report:?}");
        assert_eq!(report[0].severity, Severity::High);
        assert_eq!(report[1].count, 5);
        assert!(report[1].template_text.contains("<*>"), "{report:?}");
    }
}
