//! The messages the console consumes and the requests it makes: plain data
//! between the other threads (feed, journal, search, terminal input) and
//! the UI thread.
//!
//! Every text field that came from a log line or the journal is already
//! sanitised (`sanitize::for_terminal`) when a message is built, so the view
//! can draw it as is. Must not hold references into the library or the
//! journal: messages cross threads (the library, once loaded, is handed
//! over whole, shared: [`Loaded`]).

use std::sync::Arc;

use jiff::Timestamp;

use crate::{
    diag::Diagnostic,
    incident::{
        Op,
        state::{Status, StepProgress},
    },
    library::Library,
    model::{Event, Level, Severity},
};

/// Longest text kept for one physical line (the rest is cut with `…`):
/// enough for any screen, and it bounds the memory of the log buffer.
pub const MAX_LINE_CHARS: usize = 2_000;

/// Continuation lines kept in one multi-line event.
pub const MAX_CONTINUATION: usize = 200;

/// One log event as the console shows it: its first line, and the lines that
/// continue it (a stack trace) as one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Where it came from, as shown (relative to the demo directory when
    /// there is one).
    pub source: Arc<str>,
    /// 1-based line number of its first line (0: not known, a line of a
    /// file's end read for the first screen).
    pub line_no: u64,
    /// Byte offset of its first line.
    pub offset: u64,
    /// The timestamp written in the line.
    pub ts: Option<Timestamp>,
    /// The level written in the line.
    pub level: Option<Level>,
    /// The first line, sanitised.
    pub text: String,
    /// Where the message starts in `text`, after the prefix the parser
    /// found (time, level, thread, logger…); 0 when it found none.
    pub message: usize,
    /// The lines that continue the event, sanitised.
    pub more: Vec<String>,
    /// Ids of the signatures the line matched.
    pub signatures: Vec<Arc<str>>,
    /// The host it was read on, when it came from a fleet (`--nats`, or a
    /// collector's journal), sanitised; `None`: this machine.
    pub host: Option<Arc<str>>,
    /// The fields the parser read (`status`, `pid`, JSON keys…), sanitised,
    /// at most [`MAX_FIELDS`], each value cut at [`MAX_FIELD_CHARS`]: for the
    /// detail view.
    pub fields: Vec<(String, String)>,
}

/// Parsed fields an event keeps in the console.
pub const MAX_FIELDS: usize = 16;

/// Characters of a field's value the console keeps.
pub const MAX_FIELD_CHARS: usize = 160;

impl LogLine {
    /// A line of `text` (sanitised and cut here).
    pub fn new(source: Arc<str>, line_no: u64, offset: u64, text: &str) -> LogLine {
        LogLine {
            source,
            line_no,
            offset,
            ts: None,
            level: None,
            text: clean(text),
            message: 0,
            more: Vec::new(),
            signatures: Vec::new(),
            host: None,
            fields: Vec::new(),
        }
    }

    /// A parsed event as shown: its first line, and the lines of a
    /// multi-line event (at most [`MAX_CONTINUATION`]) as continuation.
    pub fn of_event(source: Arc<str>, event: &Event) -> LogLine {
        let mut lines = event.text.split('\n');
        let first = lines.next().unwrap_or_default();
        let mut line = LogLine::new(source, event.line_no, event.offset, first);
        // The prefix sanitised on its own: sanitising is per character, so
        // its length is where the message starts in the sanitised text.
        if event.message > 0 && event.message < first.len() && first.is_char_boundary(event.message)
        {
            let at = clean(&first[..event.message]).len();
            if at < line.text.len() && line.text.is_char_boundary(at) {
                line.message = at;
            }
        }
        line.ts = event.ts;
        line.level = event.level;
        line.more = lines.take(MAX_CONTINUATION).map(clean).collect();
        let cut = |text: &str| clean(&text.chars().take(MAX_FIELD_CHARS).collect::<String>());
        line.fields = event
            .fields
            .iter()
            .take(MAX_FIELDS)
            .map(|(k, v)| (cut(k), cut(v)))
            .collect();
        line
    }
}

/// `text` made safe to draw (see `sanitize`; tabs become spaces) and cut at
/// [`MAX_LINE_CHARS`].
pub fn clean(text: &str) -> String {
    // A tab would move the terminal's cursor past cells the view counts.
    let text = if text.contains('\t') {
        std::borrow::Cow::Owned(text.replace('\t', "    "))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    let safe = crate::sanitize::for_terminal(&text);
    if safe.chars().count() <= MAX_LINE_CHARS {
        return safe.into_owned();
    }
    let mut cut: String = safe.chars().take(MAX_LINE_CHARS).collect();
    cut.push('…');
    cut
}

/// A signature that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertInfo {
    /// The signature's id.
    pub signature: Arc<str>,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// The alert's key as `name=value` pairs (host, pool…), sanitised.
    pub key: String,
    /// When it fired (the line's time).
    pub at: Timestamp,
    /// The runbook linked to the signature.
    pub runbook: Option<String>,
    /// What the regexes captured (values sanitised), for the runbook's
    /// parameters and for highlighting.
    pub captures: Vec<(String, String)>,
    /// Matching lines it accounts for: those that made it fire and those
    /// suppressed since the key's previous alert.
    pub hits: u64,
    /// The line that made it fire.
    pub evidence: LogLine,
    /// Found by the background pass over what the files held at start-up,
    /// not live.
    pub backfill: bool,
}

/// One timeline row of the incident.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    /// The event's number in the journal.
    pub seq: u64,
    /// When it happened (effective time).
    pub at: Timestamp,
    /// Who (a person, or `triage`).
    pub actor: String,
    /// Its kind, as in the journal (`step.done`).
    pub kind: &'static str,
    /// One line, sanitised.
    pub summary: String,
    /// Pinned for the postmortem.
    pub pinned: bool,
}

/// The incident the console shows: the latest open one, else the latest.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentView {
    /// `INC-3`.
    pub id: String,
    /// Its title, sanitised.
    pub title: String,
    /// How bad.
    pub severity: Severity,
    /// Where it stands.
    pub status: Status,
    /// When it opened.
    pub opened_at: Timestamp,
    /// Runbook steps recorded so far.
    pub steps: Vec<StepProgress>,
    /// Its events, oldest first.
    pub rows: Vec<TimelineRow>,
}

/// Counters of the feed, for the status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Files followed.
    pub files: usize,
    /// Lines read since start.
    pub lines: u64,
    /// How far the index is behind the files, when an index is in use.
    pub index_lag: Option<u64>,
}

/// What the pipeline threads tell the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// New log events (in the order read).
    Lines(Vec<LogLine>),
    /// The last events of the files as they were at start-up: drawn first.
    Tail(Vec<LogLine>),
    /// The library has loaded (after the first screen): detection runs.
    Library(Loaded),
    /// A signature fired.
    Alert(Box<AlertInfo>),
    /// A signature's key went quiet.
    Cleared {
        /// Which signature.
        signature: Arc<str>,
        /// Which key (as in [`AlertInfo::key`]).
        key: String,
        /// When.
        at: Timestamp,
    },
    /// The feed's counters.
    Stats(Stats),
    /// The present of the log clock moved (the demo replays log time faster
    /// than the wall clock).
    Clock(Timestamp),
    /// Something went wrong that the operator should see (an unreadable
    /// file, a journal that cannot be written).
    Problem(String),
    /// A notice that is not an error (background pass finished…).
    Info(String),
    /// The incidents changed: the open ones, latest first, else the
    /// latest one.
    Incidents(Vec<IncidentView>),
    /// An operator command was carried out (`Ok` with what was written) or
    /// refused (`Err` with why).
    Done(Result<String, String>),
    /// Results of a search prompt.
    Found {
        /// The query.
        query: String,
        /// The matching events, in time order.
        hits: Vec<LogLine>,
    },
    /// A pipeline thread ended; the text says why.
    Stopped(String),
    /// A key pressed (from the input thread).
    Key(crossterm::event::KeyEvent),
    /// The terminal was resized (from the input thread).
    Resize,
    /// Reading the terminal failed: it has gone away.
    TerminalGone(String),
}

/// A write to the journal: an operation and the incident it goes to
/// (`None`: the latest open one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// What to write (carried out by `incident::apply` on the journal
    /// thread).
    pub op: Op,
    /// The incident shown when it was asked for.
    pub incident: Option<String>,
}

/// The library, loaded on the feed's thread, and what was wrong in the
/// user's pattern and runbook files (listed when the console closes).
#[derive(Clone)]
pub struct Loaded {
    /// Signatures and runbooks.
    pub library: Arc<Library>,
    /// Problems in the user's files; what did load is used.
    pub diagnostics: Arc<Vec<Diagnostic>>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("signatures", &self.library.signatures.len())
            .field("diagnostics", &self.diagnostics.len())
            .finish()
    }
}

impl PartialEq for Loaded {
    fn eq(&self, other: &Loaded) -> bool {
        Arc::ptr_eq(&self.library, &other.library)
            && Arc::ptr_eq(&self.diagnostics, &other.diagnostics)
    }
}
