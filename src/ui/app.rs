//! The console's state and its update: one [`App`], changed only by
//! [`App::on_key`] (operator input) and [`App::on_msg`] (pipeline messages),
//! which return the [`Effect`]s the runtime must carry out (quit, a write
//! to the journal, a copy, a search).
//!
//! Keys are looked up in the one key table (`keys`); prompts are line
//! editors (`prompt`); the log pane's filters are `filter`'s. Anything that
//! writes the journal from one key press names what it will write and waits
//! for `y` ([`Pending`]).
//!
//! Pure: no terminal, no I/O, no clock (the present is passed in), so every
//! key and message is tested without a terminal. Rendering only reads this
//! state (`view`).
//!
//! Invariants: the log buffer holds at most [`MAX_EVENTS`] events (the
//! oldest go first), so memory stays bounded while following; every text in
//! it was sanitised when its message was built; when filters are on, the
//! live view's rows are the indices of the buffer's events that pass, in
//! order, and the log cursor indexes those rows.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
};

use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use ratatui::crossterm::event::{KeyEvent, KeyEventKind};

use super::{
    filter::Filters,
    keys::{self, Action, Key},
    msg::{AlertInfo, IncidentView, LogLine, Msg, Stats, TimelineRow, Write, clean},
    patterns::Patterns,
    prompt::{Edit, LineEditor, remember},
};
use crate::{
    incident::{Op, Status, StepState},
    library::Library,
    model::{Level, Severity},
    runbook::{CommandLine, Runbook},
};

/// Events kept in the log buffer: a few screens' worth of history many times
/// over, at a few MB.
pub const MAX_EVENTS: usize = 20_000;
/// Evidence lines kept per alert.
const MAX_EVIDENCE: usize = 20;
/// Firing times kept per alert (for the sparkline).
const MAX_TIMES: usize = 512;
/// Search hits kept.
const MAX_HITS: usize = 5_000;
/// Events of context around each evidence line.
const CONTEXT: usize = 3;
/// Problems remembered for the status bar.
const MAX_PROBLEMS: usize = 20;
/// How far back a late line is merged by time, in events: lines arrive
/// nearly in order, so a short walk back suffices.
const MERGE_WINDOW: usize = 4_096;
/// Minutes in an alert's sparkline.
pub const SPARK_MINUTES: usize = 8;
/// Characters the log pane scrolls sideways per key.
const HSCROLL: usize = 20;

/// The four panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// Signatures that fired.
    Alerts,
    /// Log lines.
    Log,
    /// The selected alert's runbook.
    Runbook,
    /// The incident's timeline.
    Timeline,
}

impl Pane {
    const ORDER: [Pane; 4] = [Pane::Alerts, Pane::Log, Pane::Runbook, Pane::Timeline];

    fn next(self, step: isize) -> Pane {
        let i = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0) as isize;
        Pane::ORDER[(i + step).rem_euclid(4) as usize]
    }
}

/// What a prompt at the bottom of the screen asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// A search query (`/`).
    Search,
    /// A time to jump to (`t`).
    JumpTime,
    /// A note for the timeline (`i`).
    Note,
    /// A note for a step outcome (`S`, `D`, `X`).
    StepNote(StepState),
    /// One key: the new severity (`v`).
    Severity,
    /// One key: the new status (`u`).
    Status,
    /// The title of an incident declared by hand (`!`).
    DeclareTitle,
    /// One key: the severity of the incident being declared.
    DeclareSeverity,
    /// A show-only regex for the log pane (`+`).
    ShowFilter,
    /// A hide regex for the log pane (`-`).
    HideFilter,
}

impl PromptKind {
    /// The prompt's label.
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Search => "search: ",
            PromptKind::JumpTime => "jump to time (03:10, 2026-11-21 03:10:00): ",
            PromptKind::Note => "note: ",
            PromptKind::StepNote(StepState::Started) => "step started, note: ",
            PromptKind::StepNote(StepState::Done) => "step done, note: ",
            PromptKind::StepNote(StepState::Skipped) => "step skipped, why: ",
            PromptKind::Severity => {
                "severity: [i]nfo [l]ow [m]edium [h]igh [c]ritical  (Esc cancels)"
            }
            PromptKind::Status => "status: [i]nvestigating [m]itigated [r]esolved  (Esc cancels)",
            PromptKind::DeclareTitle => "declare an incident, title: ",
            PromptKind::DeclareSeverity => {
                "its severity: [i]nfo [l]ow [m]edium [h]igh [c]ritical  (Esc cancels)"
            }
            PromptKind::ShowFilter => "show only lines matching (regex): ",
            PromptKind::HideFilter => "hide lines matching (regex): ",
        }
    }

    /// Answered by one key, without Enter.
    pub fn is_choice(self) -> bool {
        matches!(
            self,
            PromptKind::Severity | PromptKind::Status | PromptKind::DeclareSeverity
        )
    }

    /// Which history the prompt's answers go to.
    fn history(self) -> u8 {
        match self {
            PromptKind::Search => 0,
            PromptKind::JumpTime => 1,
            PromptKind::Note | PromptKind::StepNote(_) => 2,
            PromptKind::DeclareTitle => 3,
            PromptKind::ShowFilter | PromptKind::HideFilter => 4,
            PromptKind::Severity | PromptKind::Status | PromptKind::DeclareSeverity => 5,
        }
    }
}

/// A prompt being answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// What it asks for.
    pub kind: PromptKind,
    /// What was typed.
    pub line: LineEditor,
}

/// A journal write waiting for `y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// What will be written.
    pub write: Write,
    /// What the status bar says it will write.
    pub what: String,
}

/// What the runtime must do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Leave the console.
    Quit,
    /// Append to the incident journal.
    Op(Write),
    /// Put a command on the clipboard.
    Copy(String),
    /// Run a query against the index.
    Search(String),
    /// Write a suggested `[[signature]]` (from the Patterns view) to a
    /// file of its own under the data directory.
    Suggest {
        /// The file's name.
        name: String,
        /// The TOML block.
        toml: String,
    },
}

/// What the log pane shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogMode {
    /// Every source, merged by time.
    Live,
    /// The selected alert's evidence lines with their context.
    Evidence(String),
    /// The results of a search.
    Search(String),
    /// The events of a template chosen in the Patterns view (its id and
    /// text).
    Pattern(String),
}

/// One row of the alerts pane: a signature and key that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    /// The latest alert (title, severity, runbook, captures, evidence).
    pub info: AlertInfo,
    /// First fired.
    pub first: Timestamp,
    /// Last fired.
    pub last: Timestamp,
    /// Alerts fired.
    pub fired: u64,
    /// Matching lines over all its alerts.
    pub lines: u64,
    /// Sources its evidence came from.
    pub sources: HashSet<Arc<str>>,
    /// Hosts its evidence came from (a fleet's), in name order.
    pub hosts: std::collections::BTreeSet<Arc<str>>,
    /// Firing times, for the sparkline.
    pub times: VecDeque<Timestamp>,
    /// When it went quiet (cleared), unless it fired again since.
    pub cleared: Option<Timestamp>,
    /// The latest evidence lines.
    pub evidence: VecDeque<LogLine>,
}

impl AlertRow {
    /// Alerts per minute over the [`SPARK_MINUTES`] minutes up to `now`,
    /// oldest first.
    pub fn per_minute(&self, now: Timestamp) -> [u64; SPARK_MINUTES] {
        let mut counts = [0; SPARK_MINUTES];
        for t in &self.times {
            let ago = now.duration_since(*t).as_secs();
            if ago < 0 {
                counts[SPARK_MINUTES - 1] += 1;
                continue;
            }
            let minute = (ago / 60) as usize;
            if minute < SPARK_MINUTES {
                counts[SPARK_MINUTES - 1 - minute] += 1;
            }
        }
        counts
    }

    /// Firing before cleared, then most severe, then most recent.
    fn rank(
        &self,
    ) -> (
        bool,
        std::cmp::Reverse<Severity>,
        std::cmp::Reverse<Timestamp>,
    ) {
        (
            self.cleared.is_some(),
            std::cmp::Reverse(self.info.severity),
            std::cmp::Reverse(self.last),
        )
    }
}

/// One row of the timeline as shown: an event, or automatic events of one
/// kind in a row grouped (the last one stands for them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelineEntry<'a> {
    /// The event (the group's last).
    pub row: &'a TimelineRow,
    /// Events it stands for (1: itself).
    pub count: usize,
}

/// The detail view of one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    /// The event.
    pub line: LogLine,
    /// Its template (`ID text`), as the Patterns view mined it.
    pub template: Option<String>,
    /// First row shown.
    pub scroll: usize,
}

/// What the search prompt runs: the index when there is one (plugged in
/// by the runtime, results arrive as [`Msg::Found`]), else a filter over
/// the events loaded in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchBackend {
    /// Filter the loaded events (no index).
    Loaded,
    /// Ask the index (an [`Effect::Search`]).
    Index,
}

/// The console's whole state.
pub struct App {
    /// `None` until it has loaded (the first screen does not wait for it).
    library: Option<Arc<Library>>,
    /// Problems in the user's pattern and runbook files, from the load.
    diagnostics: Arc<Vec<crate::diag::Diagnostic>>,
    /// Zone of the times shown.
    pub zone: TimeZone,
    /// What the title bar says is being watched.
    pub title: String,
    /// Attached to a running `triage watch` (no recorder of our own).
    pub attached: bool,
    /// The focused pane.
    pub focus: Pane,
    /// The help overlay is open.
    pub help: bool,
    /// Rows of the help overlay scrolled off its top.
    pub help_scroll: usize,
    /// The prompt being answered.
    pub prompt: Option<Prompt>,
    /// Earlier answers, per prompt.
    histories: HashMap<u8, Vec<String>>,
    /// The title of the incident being declared (between its two prompts).
    declaring: Option<String>,
    /// A journal write waiting for `y`.
    pub pending: Option<Pending>,
    /// The detail view, when open.
    pub detail: Option<Detail>,
    /// The log buffer, merged by time.
    log: VecDeque<LogLine>,
    /// What the log pane shows.
    pub log_mode: LogMode,
    /// The rows of the evidence or search view.
    view: Vec<LogLine>,
    /// The log pane's filters.
    pub filters: Filters,
    /// With filters on: the buffer's events that pass (indices, in order).
    visible: Option<Vec<usize>>,
    /// Bookmarked events, by (source, offset).
    marks: HashSet<(Arc<str>, u64)>,
    /// Long lines wrap in the log pane.
    pub wrap: bool,
    /// The log pane shows its histogram strip (when it has room).
    pub histogram: bool,
    /// Characters of the log lines' text scrolled off to the left.
    pub hscroll: usize,
    /// The selected event in the current log view.
    pub log_cursor: usize,
    /// The log pane follows new lines.
    pub follow: bool,
    /// Multi-line events shown expanded, by (source, offset).
    expanded: HashSet<(Arc<str>, u64)>,
    /// The term highlighted and found by `n`/`N`.
    pub find: Option<String>,
    /// Where searches go.
    pub search_backend: SearchBackend,
    /// Rows of the alerts pane: firing before cleared, then by severity,
    /// then newest first.
    pub alerts: Vec<AlertRow>,
    /// Lines seen matching each signature (in the lines the console read).
    matched: HashMap<Arc<str>, u64>,
    /// The selected alert.
    pub alert_cursor: usize,
    /// The selection stays on the first row (the most severe firing alert)
    /// until the operator moves it.
    alert_follow: bool,
    /// The selected runbook step.
    pub step_cursor: usize,
    /// The selected timeline row (of [`App::timeline_rows`]).
    pub timeline_cursor: usize,
    /// The timeline row selection follows the newest.
    timeline_follow: bool,
    /// Every timeline row, automatic repeats not grouped.
    pub timeline_all: bool,
    /// The incident shown.
    pub incident: Option<IncidentView>,
    /// The incidents the journal thread knows (open ones, and the latest).
    pub incidents: Vec<IncidentView>,
    /// The incident the operator chose to show (`I`); `None`: the latest
    /// open one.
    shown_incident: Option<String>,
    /// The feed's counters.
    pub stats: Stats,
    /// Lines per second, from the counters.
    pub rate: f64,
    rate_mark: Option<(Timestamp, u64)>,
    /// Problems seen, newest last.
    pub problems: VecDeque<String>,
    /// Problems seen in all.
    pub problem_count: u64,
    /// The latest message for the status bar, and whether it is an error.
    pub message: Option<(String, bool)>,
    /// The log clock (the newest time the pipeline has seen).
    pub clock: Option<Timestamp>,
    /// The wall clock of the last update.
    pub now: Timestamp,
    /// A pipeline thread stopped.
    pub stopped: Option<String>,
    /// The Patterns view and the template miner behind it.
    pub patterns: Patterns,
}

impl App {
    /// An empty console; `library` is `None` while it loads (it comes as
    /// [`Msg::Library`]).
    pub fn new(
        library: Option<Arc<Library>>,
        zone: TimeZone,
        title: String,
        now: Timestamp,
    ) -> App {
        App {
            library,
            diagnostics: Arc::new(Vec::new()),
            zone,
            title,
            attached: false,
            focus: Pane::Alerts,
            help: false,
            help_scroll: 0,
            prompt: None,
            histories: HashMap::new(),
            declaring: None,
            pending: None,
            detail: None,
            log: VecDeque::new(),
            log_mode: LogMode::Live,
            view: Vec::new(),
            filters: Filters::default(),
            visible: None,
            marks: HashSet::new(),
            wrap: false,
            histogram: true,
            hscroll: 0,
            log_cursor: 0,
            follow: true,
            expanded: HashSet::new(),
            find: None,
            search_backend: SearchBackend::Loaded,
            alerts: Vec::new(),
            matched: HashMap::new(),
            alert_cursor: 0,
            alert_follow: true,
            step_cursor: 0,
            timeline_cursor: 0,
            timeline_follow: true,
            timeline_all: false,
            incident: None,
            incidents: Vec::new(),
            shown_incident: None,
            stats: Stats::default(),
            rate: 0.0,
            rate_mark: None,
            problems: VecDeque::new(),
            problem_count: 0,
            message: None,
            clock: None,
            now,
            stopped: None,
            patterns: Patterns::new(),
        }
    }

    /// The library (signatures and runbooks), once loaded.
    pub fn library(&self) -> Option<&Library> {
        self.library.as_deref()
    }

    /// The library, shared (for the journal thread).
    pub fn library_arc(&self) -> Option<Arc<Library>> {
        self.library.clone()
    }

    /// Problems in the user's pattern and runbook files.
    pub fn diagnostics(&self) -> &[crate::diag::Diagnostic] {
        &self.diagnostics
    }

    /// The present as the panes see it: the log clock when the pipeline has
    /// one, else the wall clock.
    pub fn present(&self) -> Timestamp {
        self.clock.unwrap_or(self.now)
    }

    // ---------------------------------------------------------------- log

    /// The events of the current log view.
    pub fn log_rows(&self) -> LogRows<'_> {
        match (&self.log_mode, &self.visible) {
            (LogMode::Live, Some(visible)) => LogRows::Filtered(&self.log, visible),
            (LogMode::Live, None) => LogRows::Buffer(&self.log),
            _ => LogRows::View(&self.view),
        }
    }

    /// Whether the multi-line event is shown expanded.
    pub fn is_expanded(&self, line: &LogLine) -> bool {
        self.expanded
            .contains(&(Arc::clone(&line.source), line.offset))
    }

    /// Whether the event is bookmarked.
    pub fn is_marked(&self, line: &LogLine) -> bool {
        self.marks
            .contains(&(Arc::clone(&line.source), line.offset))
    }

    fn rows_len(&self) -> usize {
        self.log_rows().len()
    }

    /// The live view's row of buffer index `i`: itself, or with filters the
    /// first shown event at or after it (else the last shown).
    fn row_of_buffer_index(&self, i: usize) -> usize {
        match &self.visible {
            Some(visible) => {
                let at = visible.partition_point(|&v| v < i);
                at.min(visible.len().saturating_sub(1))
            }
            None => i,
        }
    }

    /// Recomputes the live view's rows after the filters or the buffer
    /// changed, keeping the cursor on the same event when it is still shown.
    fn refilter(&mut self) {
        let keep = (self.log_mode == LogMode::Live)
            .then(|| self.log_rows().get(self.log_cursor))
            .flatten()
            .map(|l| (Arc::clone(&l.source), l.offset));
        self.visible = self.filters.active().then(|| {
            self.log
                .iter()
                .enumerate()
                .filter(|(_, l)| self.filters.passes(l))
                .map(|(i, _)| i)
                .collect()
        });
        if self.log_mode != LogMode::Live {
            return;
        }
        if self.follow {
            self.log_cursor = self.rows_len().saturating_sub(1);
            return;
        }
        if let Some((source, offset)) = keep
            && let Some(i) = self
                .log
                .iter()
                .position(|l| l.source == source && l.offset == offset)
        {
            self.log_cursor = self.row_of_buffer_index(i);
        }
        self.log_cursor = self.log_cursor.min(self.rows_len().saturating_sub(1));
    }

    fn push_lines(&mut self, lines: Vec<LogLine>) {
        let new_hits: Vec<LogLine> = match &self.log_mode {
            LogMode::Search(query) if self.search_backend == SearchBackend::Loaded => lines
                .iter()
                .filter(|l| matches_query(l, query))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        let filtered = self.visible.is_some();
        for line in &lines {
            for id in &line.signatures {
                *self.matched.entry(Arc::clone(id)).or_default() += 1;
            }
        }
        // Events come assembled by the parser (a stack trace is one event
        // with its lines in `more`).
        for line in lines {
            let at = self.insert_position(&line);
            if !filtered
                && self.log_mode == LogMode::Live
                && at <= self.log_cursor
                && !self.log.is_empty()
            {
                self.log_cursor += 1;
            }
            self.log.insert(at, line);
        }
        let excess = self.log.len().saturating_sub(MAX_EVENTS);
        if excess > 0 {
            for line in self.log.drain(..excess) {
                let key = (line.source, line.offset);
                self.expanded.remove(&key);
                self.marks.remove(&key);
            }
            if !filtered && self.log_mode == LogMode::Live {
                self.log_cursor = self.log_cursor.saturating_sub(excess);
            }
        }
        if filtered {
            self.refilter();
        }
        if !new_hits.is_empty() {
            self.view.extend(new_hits);
            let excess = self.view.len().saturating_sub(MAX_HITS);
            self.view.drain(..excess);
            self.log_cursor = self.log_cursor.saturating_sub(excess);
        }
        if self.follow {
            self.log_cursor = self.rows_len().saturating_sub(1);
        }
    }

    /// Where a line goes in the buffer: after every event not later than
    /// it (events without a time sort by arrival).
    fn insert_position(&self, line: &LogLine) -> usize {
        let Some(ts) = line.ts else {
            return self.log.len();
        };
        let len = self.log.len();
        let floor = len.saturating_sub(MERGE_WINDOW);
        let mut at = len;
        while at > floor {
            match self.log[at - 1].ts {
                Some(prev) if prev > ts => at -= 1,
                _ => break,
            }
        }
        at
    }

    fn set_view(&mut self, mode: LogMode, rows: Vec<LogLine>, cursor: usize) {
        self.log_mode = mode;
        self.view = rows;
        self.log_cursor = cursor.min(self.view.len().saturating_sub(1));
        self.follow = false;
        self.focus = Pane::Log;
    }

    fn go_live(&mut self, follow: bool) {
        self.log_mode = LogMode::Live;
        self.view.clear();
        self.follow = follow;
        if follow {
            self.log_cursor = self.rows_len().saturating_sub(1);
        }
    }

    fn search(&mut self, query: String) -> Vec<Effect> {
        if query.trim().is_empty() {
            self.find = None;
            self.go_live(self.follow);
            return Vec::new();
        }
        self.find = Some(query.clone());
        match self.search_backend {
            SearchBackend::Loaded => {
                let mut hits: Vec<LogLine> = self
                    .log
                    .iter()
                    .filter(|l| matches_query(l, &query))
                    .cloned()
                    .collect();
                let excess = hits.len().saturating_sub(MAX_HITS);
                hits.drain(..excess);
                let n = hits.len();
                self.message = Some((
                    format!("{n} events match `{}` (loaded lines)", clean(&query)),
                    false,
                ));
                self.set_view(LogMode::Search(query), hits, n.saturating_sub(1));
                Vec::new()
            }
            SearchBackend::Index => {
                self.message = Some((
                    format!("searching the index for `{}`…", clean(&query)),
                    false,
                ));
                vec![Effect::Search(query)]
            }
        }
    }

    fn show_evidence(&mut self) {
        let Some(row) = self.alerts.get(self.alert_cursor) else {
            return;
        };
        let mut rows: Vec<LogLine> = Vec::new();
        let mut seen: HashSet<(Arc<str>, u64)> = HashSet::new();
        let mut cursor = 0;
        for evidence in &row.evidence {
            let at = unit_of(&self.log, &evidence.source, evidence.offset);
            let block: Vec<LogLine> = match at {
                Some(at) => {
                    let same_source: Vec<usize> = (0..self.log.len())
                        .filter(|&i| self.log[i].source == evidence.source)
                        .collect();
                    let k = same_source.iter().position(|&i| i == at).unwrap_or(0);
                    let from = k.saturating_sub(CONTEXT);
                    let to = (k + CONTEXT + 1).min(same_source.len());
                    same_source[from..to]
                        .iter()
                        .map(|&i| self.log[i].clone())
                        .collect()
                }
                None => vec![evidence.clone()],
            };
            for line in block {
                if seen.insert((Arc::clone(&line.source), line.offset)) {
                    if line.source == evidence.source
                        && line.offset <= evidence.offset
                        && unit_of(
                            std::slice::from_ref(&line),
                            &evidence.source,
                            evidence.offset,
                        )
                        .is_some()
                    {
                        cursor = rows.len();
                    }
                    rows.push(line);
                }
            }
        }
        let title = format!("{} {}", row.info.signature, row.info.key);
        self.find = row
            .info
            .captures
            .iter()
            .map(|(_, v)| v.clone())
            .find(|v| v.chars().count() >= 3);
        self.set_view(LogMode::Evidence(title), rows, cursor);
    }

    fn jump_to(&mut self, source: &Arc<str>, offset: u64) {
        let at = unit_of(&self.log, source, offset);
        self.go_live(false);
        match at {
            Some(at) => {
                if self
                    .visible
                    .as_ref()
                    .is_some_and(|v| v.binary_search(&at).is_err())
                {
                    self.message = Some((
                        "that event is hidden by the filters (F switches them off)".into(),
                        true,
                    ));
                }
                self.log_cursor = self.row_of_buffer_index(at);
            }
            None => {
                self.message = Some((
                    "that event is no longer in the console's buffer".into(),
                    true,
                ));
            }
        }
    }

    fn jump_to_time(&mut self, text: &str) {
        let Some(at) = crate::timearg::parse(text, &self.zone, self.present()).ok() else {
            self.message = Some((
                format!(
                    "`{}` is not a time: write 03:10, 03:10:30 or 2026-11-21 03:10",
                    clean(text)
                ),
                true,
            ));
            return;
        };
        self.go_live(false);
        self.focus = Pane::Log;
        let i = self
            .log
            .iter()
            .position(|l| l.ts.is_some_and(|ts| ts >= at))
            .unwrap_or(self.log.len().saturating_sub(1));
        self.log_cursor = self.row_of_buffer_index(i);
    }

    /// Moves the cursor to the next (or previous) row of the current view
    /// that `wanted` accepts; says so when there is none.
    fn seek(&mut self, forward: bool, what: &str, wanted: impl Fn(&LogLine) -> bool) -> bool {
        let rows = self.log_rows();
        let len = rows.len();
        let hit = if forward {
            (self.log_cursor + 1..len).find(|&i| rows.get(i).is_some_and(&wanted))
        } else {
            (0..self.log_cursor.min(len))
                .rev()
                .find(|&i| rows.get(i).is_some_and(&wanted))
        };
        match hit {
            Some(i) => {
                self.log_cursor = i;
                self.follow = false;
                true
            }
            None => {
                self.message = Some((
                    format!("no {} {what}", if forward { "later" } else { "earlier" },),
                    false,
                ));
                false
            }
        }
    }

    fn find_next(&mut self, forward: bool) {
        if !matches!(self.log_mode, LogMode::Live) {
            self.move_log(if forward { 1 } else { -1 });
            return;
        }
        let Some(term) = self.find.clone() else {
            self.message = Some(("no search yet: press / to search".into(), true));
            return;
        };
        let what = format!("match for `{}`", clean(&term));
        self.seek(forward, &what, |l| matches_query(l, &term));
    }

    fn move_log(&mut self, by: isize) {
        let len = self.rows_len();
        if len == 0 {
            return;
        }
        let to = (self.log_cursor as isize + by).clamp(0, len as isize - 1) as usize;
        self.log_cursor = to;
        self.follow = self.log_mode == LogMode::Live && to + 1 == len && by > 0 && self.follow;
    }

    fn toggle_expand(&mut self) {
        let line = match self.log_rows().get(self.log_cursor) {
            Some(line) if !line.more.is_empty() => line,
            _ => return,
        };
        let key = (Arc::clone(&line.source), line.offset);
        if !self.expanded.remove(&key) {
            self.expanded.insert(key);
        }
    }

    fn toggle_mark(&mut self) {
        let Some(line) = self.log_rows().get(self.log_cursor) else {
            return;
        };
        let key = (Arc::clone(&line.source), line.offset);
        let (text, _) = if self.marks.remove(&key) {
            ("bookmark removed", false)
        } else {
            self.marks.insert(key);
            ("bookmarked (b / B: next / previous bookmark)", true)
        };
        self.message = Some((text.into(), false));
    }

    fn open_detail(&mut self) {
        if let Some(line) = self.log_rows().get(self.log_cursor).cloned() {
            self.detail = Some(Detail {
                template: self.patterns.template_text_of(&line),
                line,
                scroll: 0,
            });
        }
    }

    fn on_detail_key(&mut self, key: KeyEvent) {
        let Some(detail) = self.detail.as_mut() else {
            return;
        };
        let action = keys::lookup(Pane::Log, key);
        match action {
            Some(Action::Down) => detail.scroll += 1,
            Some(Action::Up) => detail.scroll = detail.scroll.saturating_sub(1),
            Some(Action::PageDown) => detail.scroll += 10,
            Some(Action::PageUp) => detail.scroll = detail.scroll.saturating_sub(10),
            Some(Action::First) => detail.scroll = 0,
            Some(Action::Detail) => {
                // Enter: to the event in the live log.
                let (source, offset) = (Arc::clone(&detail.line.source), detail.line.offset);
                self.detail = None;
                if self.log_mode != LogMode::Live {
                    self.jump_to(&source, offset);
                }
            }
            _ => self.detail = None,
        }
    }

    fn set_filters(&mut self, change: impl FnOnce(&mut Filters)) {
        change(&mut self.filters);
        if self.log_mode != LogMode::Live {
            self.go_live(false);
        }
        self.refilter();
        let shown = self.rows_len();
        let text = if self.filters.is_empty() {
            "no filter: every event".to_owned()
        } else {
            format!(
                "filters: {} · {shown} of {} events",
                self.filters.describe(),
                self.log.len()
            )
        };
        self.message = Some((text, false));
    }

    // ----------------------------------------------------------- patterns

    /// What the Patterns view measures "new" against: the shown incident's
    /// opening.
    fn pattern_reference(&self) -> Option<(String, Timestamp)> {
        self.incident.as_ref().map(|i| (i.id.clone(), i.opened_at))
    }

    fn open_patterns(&mut self) {
        let since = self.pattern_reference();
        self.patterns.open = true;
        self.patterns.refresh(since, self.present());
    }

    /// Keys of the Patterns view: the list keys move, Enter shows the
    /// selected template's events in the log pane, `s` suggests a
    /// signature, any other key closes.
    fn on_patterns_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if Key::of(key) == Key::of(KeyEvent::from(crossterm::event::KeyCode::Char('s'))) {
            return match self.patterns.suggestion() {
                Some((id, suggestion)) => vec![Effect::Suggest {
                    name: format!("suggested-{id}.toml"),
                    toml: suggestion.toml,
                }],
                None => {
                    self.message = Some((
                        "this template has no literal text to anchor a signature on".into(),
                        true,
                    ));
                    Vec::new()
                }
            };
        }
        match keys::lookup(Pane::Log, key) {
            Some(Action::Down) => self.patterns.move_cursor(1),
            Some(Action::Up) => self.patterns.move_cursor(-1),
            Some(Action::PageDown) => self.patterns.move_cursor(10),
            Some(Action::PageUp) => self.patterns.move_cursor(-10),
            Some(Action::First) => self.patterns.move_cursor(isize::MIN / 2),
            Some(Action::Last) => self.patterns.move_cursor(isize::MAX / 2),
            Some(Action::Detail) => self.show_pattern(),
            _ => self.patterns.open = false,
        }
        Vec::new()
    }

    /// The selected template's events still in the log buffer, in the log
    /// pane.
    fn show_pattern(&mut self) {
        self.patterns.open = false;
        let Some(row) = self.patterns.selected() else {
            return;
        };
        let (id, count) = (row.id, row.count);
        let title = format!("{id} `{}`", crate::patterns::cut(&row.text, 60));
        let rows = self.patterns.lines_of(id, self.log.iter());
        let n = rows.len();
        self.message = Some((
            if (n as u64) < count {
                format!(
                    "{n} of its {count} events are still in the console's buffer (the last {MAX_EVENTS})"
                )
            } else {
                format!("{n} events of pattern {id}")
            },
            false,
        ));
        self.find = None;
        self.set_view(LogMode::Pattern(title), rows, n.saturating_sub(1));
    }

    // ------------------------------------------------------------- alerts

    fn on_alert(&mut self, info: AlertInfo) {
        let selected = self
            .alerts
            .get(self.alert_cursor)
            .map(|r| (Arc::clone(&r.info.signature), r.info.key.clone()));
        let existing = self
            .alerts
            .iter()
            .position(|r| r.info.signature == info.signature && r.info.key == info.key);
        let mut row = match existing {
            Some(i) => self.alerts.remove(i),
            None => AlertRow {
                info: info.clone(),
                first: info.at,
                last: info.at,
                fired: 0,
                lines: 0,
                sources: HashSet::new(),
                hosts: std::collections::BTreeSet::new(),
                times: VecDeque::new(),
                cleared: None,
                evidence: VecDeque::new(),
            },
        };
        row.fired += 1;
        row.lines += info.hits.max(1);
        row.sources.insert(Arc::clone(&info.evidence.source));
        row.hosts.extend(info.evidence.host.clone());
        row.first = row.first.min(info.at);
        row.last = row.last.max(info.at);
        row.cleared = None;
        row.times.push_back(info.at);
        if row.times.len() > MAX_TIMES {
            row.times.pop_front();
        }
        row.evidence.push_back(info.evidence.clone());
        if row.evidence.len() > MAX_EVIDENCE {
            row.evidence.pop_front();
        }
        row.info = info;
        self.alerts.push(row);
        self.sort_alerts(selected);
    }

    /// Firing before cleared, then most severe, then newest; the selection
    /// stays on the first row until the operator moves it, then on the
    /// alert they are reading.
    fn sort_alerts(&mut self, selected: Option<(Arc<str>, String)>) {
        self.alerts.sort_by_key(AlertRow::rank);
        self.alert_cursor = match selected {
            _ if self.alert_follow => 0,
            Some((sig, key)) => self
                .alerts
                .iter()
                .position(|r| r.info.signature == sig && r.info.key == key)
                .unwrap_or(0),
            None => 0,
        };
    }

    fn on_cleared(&mut self, signature: &str, key: &str, at: Timestamp) {
        let selected = self
            .alerts
            .get(self.alert_cursor)
            .map(|r| (Arc::clone(&r.info.signature), r.info.key.clone()));
        for row in &mut self.alerts {
            if &*row.info.signature == signature && row.info.key == key {
                row.cleared = Some(at);
            }
        }
        self.sort_alerts(selected);
    }

    /// Matching lines of an alert row: what its alerts account for, or
    /// when its signature has no other row, every matching line the
    /// console read if that is more.
    pub fn alert_lines(&self, row: &AlertRow) -> u64 {
        let alone = self
            .alerts
            .iter()
            .filter(|r| r.info.signature == row.info.signature)
            .count()
            == 1;
        match self.matched.get(&row.info.signature) {
            Some(&seen) if alone => row.lines.max(seen),
            _ => row.lines,
        }
    }

    /// The selected alert.
    pub fn selected_alert(&self) -> Option<&AlertRow> {
        self.alerts.get(self.alert_cursor)
    }

    /// The runbook of the selected alert.
    pub fn selected_runbook(&self) -> Option<&Runbook> {
        let id = self.selected_alert()?.info.runbook.as_deref()?;
        self.library.as_ref()?.runbook(id)
    }

    /// What the incident recorded for a step of a runbook.
    pub fn step_state(
        &self,
        runbook: &str,
        step: &str,
    ) -> Option<&crate::incident::state::StepProgress> {
        self.incident
            .as_ref()?
            .steps
            .iter()
            .find(|s| s.runbook == runbook && s.step == step)
    }

    /// The write of a step outcome, and what it says.
    fn step_write(&mut self, outcome: StepState, note: Option<String>) -> Option<Pending> {
        let Some(book) = self.selected_runbook() else {
            self.message = Some(("no runbook: select an alert that has one".into(), true));
            return None;
        };
        let step = book.steps.get(self.step_cursor)?;
        let what = format!(
            "step {}: {}. {}",
            outcome.as_str(),
            self.step_cursor + 1,
            step.title
        );
        let op = Op::Step {
            runbook: book.id.clone(),
            step: step.id.clone(),
            outcome,
            note,
            at: None,
        };
        Some(self.pending_of(op, what))
    }

    fn copy_command(&mut self) -> Vec<Effect> {
        let Some(row) = self.selected_alert() else {
            return Vec::new();
        };
        let captures = row.info.captures.clone();
        let Some(book) = self.selected_runbook() else {
            self.message = Some(("no runbook: select an alert that has one".into(), true));
            return Vec::new();
        };
        let Some(step) = book.steps.get(self.step_cursor) else {
            return Vec::new();
        };
        if step.command.is_empty() {
            self.message = Some(("this step has no command".into(), true));
            return Vec::new();
        }
        let rendered = book.render(step, &captures);
        vec![Effect::Copy(CommandLine(&rendered).to_string())]
    }

    // ----------------------------------------------------------- incident

    /// The incident keys write to: the one shown.
    fn target(&self) -> Option<String> {
        self.incident.as_ref().map(|i| i.id.clone())
    }

    /// A write to the incident shown, with what the status bar says.
    fn pending_of(&self, op: Op, what: String) -> Pending {
        let incident = match op {
            Op::Declare { .. } => None,
            _ => self.target(),
        };
        let what = match (&incident, &op) {
            (Some(id), _) => format!("{id}: {what}"),
            (None, Op::Declare { .. }) => what,
            (None, _) => format!("{what} (no incident shown: the latest open one)"),
        };
        Pending {
            write: Write { op, incident },
            what,
        }
    }

    fn ask(&mut self, pending: Option<Pending>) {
        if let Some(pending) = pending {
            self.message = None;
            self.pending = Some(pending);
        }
    }

    /// The shown incident: the one chosen with `I` while it is known, else
    /// the latest open one (the journal thread's first), else the latest.
    fn pick_incident(&mut self) {
        let chosen = self
            .shown_incident
            .as_ref()
            .and_then(|id| self.incidents.iter().find(|i| &i.id == id))
            .or_else(|| self.incidents.first())
            .cloned();
        self.incident = chosen;
        let rows = self.timeline_rows().len();
        if self.timeline_follow {
            self.timeline_cursor = rows.saturating_sub(1);
        } else {
            self.timeline_cursor = self.timeline_cursor.min(rows.saturating_sub(1));
        }
    }

    fn next_incident(&mut self) {
        if self.incidents.len() < 2 {
            self.message = Some((
                match self.incidents.len() {
                    0 => "no incident yet (! declares one)".to_owned(),
                    _ => "only one incident".to_owned(),
                },
                false,
            ));
            return;
        }
        let at = self
            .incident
            .as_ref()
            .and_then(|shown| self.incidents.iter().position(|i| i.id == shown.id))
            .map_or(0, |i| (i + 1) % self.incidents.len());
        self.shown_incident = Some(self.incidents[at].id.clone());
        self.timeline_follow = true;
        self.pick_incident();
        if let Some(inc) = &self.incident {
            self.message = Some((
                format!(
                    "showing {} ({}, {}); keys write to it",
                    inc.id, inc.status, inc.severity
                ),
                false,
            ));
        }
    }

    /// The timeline's rows as shown: automatic events of one kind in a row
    /// grouped into their last (unless [`App::timeline_all`]); people's
    /// entries always on their own.
    pub fn timeline_rows(&self) -> Vec<TimelineEntry<'_>> {
        let Some(inc) = &self.incident else {
            return Vec::new();
        };
        let mut out: Vec<TimelineEntry<'_>> = Vec::with_capacity(inc.rows.len());
        for row in &inc.rows {
            let groups = !self.timeline_all
                && row.actor == crate::incident::event::AUTOMATIC_ACTOR
                && matches!(row.kind, "signature.repeated" | "signature.cleared");
            if groups
                && let Some(last) = out.last_mut()
                && last.row.kind == row.kind
                && last.row.actor == row.actor
                && !last.row.pinned
                && !row.pinned
            {
                last.row = row;
                last.count += 1;
                continue;
            }
            out.push(TimelineEntry { row, count: 1 });
        }
        out
    }

    // ------------------------------------------------------------ updates

    /// Applies a message from a pipeline thread.
    pub fn on_msg(&mut self, msg: Msg, now: Timestamp) {
        self.now = now;
        match msg {
            Msg::Lines(lines) | Msg::Tail(lines) => {
                self.patterns.add(&lines);
                self.push_lines(lines);
                let since = self.pattern_reference();
                self.patterns.refresh_if_due(since, self.present());
            }
            Msg::Library(loaded) => {
                self.library = Some(loaded.library);
                if !loaded.diagnostics.is_empty() {
                    self.message = Some((
                        format!(
                            "{} problems in pattern or runbook files (listed when the console closes); the rest is used",
                            loaded.diagnostics.len()
                        ),
                        true,
                    ));
                }
                self.diagnostics = loaded.diagnostics;
            }
            Msg::Alert(info) => self.on_alert(*info),
            Msg::Cleared { signature, key, at } => self.on_cleared(&signature, &key, at),
            Msg::Stats(stats) => {
                match self.rate_mark {
                    Some((then, lines)) => {
                        let secs = now.duration_since(then).as_secs_f64();
                        if secs >= 1.0 {
                            self.rate = stats.lines.saturating_sub(lines) as f64 / secs;
                            self.rate_mark = Some((now, stats.lines));
                        }
                    }
                    None => self.rate_mark = Some((now, stats.lines)),
                }
                self.stats = stats;
            }
            Msg::Clock(at) => self.clock = Some(self.clock.map_or(at, |c| c.max(at))),
            Msg::Problem(text) => {
                self.problem_count += 1;
                self.problems.push_back(clean(&text));
                if self.problems.len() > MAX_PROBLEMS {
                    self.problems.pop_front();
                }
            }
            Msg::Info(text) => self.message = Some((clean(&text), false)),
            Msg::Incidents(views) => {
                let before: Vec<String> = self.incidents.iter().map(|i| i.id.clone()).collect();
                self.incidents = views;
                // A new incident (declared here or by a signature) is shown;
                // `I` goes back to the others.
                if let Some(new) = self.incidents.iter().find(|i| !before.contains(&i.id))
                    && !before.is_empty()
                {
                    self.shown_incident = Some(new.id.clone());
                    self.timeline_follow = true;
                }
                self.pick_incident();
            }
            Msg::Done(Ok(text)) => self.message = Some((clean(&text), false)),
            Msg::Done(Err(text)) => self.message = Some((clean(&text), true)),
            Msg::Found { query, hits } => {
                let n = hits.len();
                self.message = Some((format!("{n} events match `{}`", clean(&query)), false));
                self.set_view(LogMode::Search(query), hits, n.saturating_sub(1));
            }
            // The runtime handles the terminal's own messages.
            Msg::Key(_) | Msg::Resize | Msg::TerminalGone(_) => {}
            Msg::Stopped(why) => {
                self.problem_count += 1;
                self.problems.push_back(clean(&why));
                self.stopped = Some(clean(&why));
            }
        }
    }

    /// Applies a key; returns what the runtime must do.
    pub fn on_key(&mut self, key: KeyEvent, now: Timestamp) -> Vec<Effect> {
        self.now = now;
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let chord = Key::of(key);
        if chord.mods.contains(crossterm::event::KeyModifiers::CONTROL)
            && chord.code == crossterm::event::KeyCode::Char('c')
        {
            return vec![Effect::Quit];
        }
        if self.help {
            // Lists keys scroll it; any other key closes it.
            let rows = keys::BINDINGS.len() + keys::PROMPT_KEYS.len() + 1;
            match keys::lookup(Pane::Alerts, key) {
                Some(Action::Down) => self.help_scroll += 1,
                Some(Action::PageDown) => self.help_scroll += 10,
                Some(Action::Up) => self.help_scroll = self.help_scroll.saturating_sub(1),
                Some(Action::PageUp) => self.help_scroll = self.help_scroll.saturating_sub(10),
                Some(Action::First) => self.help_scroll = 0,
                Some(Action::Last) => self.help_scroll = rows,
                _ => self.help = false,
            }
            self.help_scroll = self.help_scroll.min(rows.saturating_sub(1));
            return Vec::new();
        }
        if let Some(pending) = self.pending.take() {
            if chord == Key::of(KeyEvent::from(crossterm::event::KeyCode::Char('y'))) {
                self.message = Some((format!("writing {}…", pending.what), false));
                return vec![Effect::Op(pending.write)];
            }
            self.message = Some((format!("not written: {}", pending.what), false));
            return Vec::new();
        }
        if self.prompt.is_some() {
            return self.on_prompt_key(key);
        }
        if self.detail.is_some() {
            self.on_detail_key(key);
            return Vec::new();
        }
        if self.patterns.open {
            return self.on_patterns_key(key);
        }
        let Some(action) = keys::lookup(self.focus, key) else {
            if !chord.mods.is_empty() {
                self.message = Some((
                    format!("{}: not a key here (? lists the keys)", chord.name()),
                    false,
                ));
            }
            return Vec::new();
        };
        let before = self.focus;
        let effects = self.act(action);
        if self.focus == Pane::Runbook && before != Pane::Runbook {
            // The operator is working on this alert's runbook: a newer alert
            // must not swap it from under them.
            self.alert_follow = false;
        }
        effects
    }

    fn act(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => return vec![Effect::Quit],
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Action::NextPane => self.focus = self.focus.next(1),
            Action::PrevPane => self.focus = self.focus.next(-1),
            Action::Focus(pane) => self.focus = pane,
            Action::Search => self.open_prompt(PromptKind::Search),
            Action::JumpTime => self.open_prompt(PromptKind::JumpTime),
            Action::Note => self.open_prompt(PromptKind::Note),
            Action::Severity => self.open_prompt(PromptKind::Severity),
            Action::Status => self.open_prompt(PromptKind::Status),
            Action::Declare => self.open_prompt(PromptKind::DeclareTitle),
            Action::NextIncident => self.next_incident(),
            Action::Ack => {
                let pending = self.pending_of(Op::Ack { at: None }, "acknowledge".into());
                self.ask(Some(pending));
            }
            Action::Follow => {
                if self.log_mode == LogMode::Live && self.follow {
                    self.follow = false;
                } else {
                    self.go_live(true);
                }
                self.message = Some((
                    format!("follow {}", if self.follow { "on" } else { "off" }),
                    false,
                ));
            }
            Action::Down => self.move_cursor(1),
            Action::Up => self.move_cursor(-1),
            Action::PageDown => self.move_cursor(10),
            Action::PageUp => self.move_cursor(-10),
            Action::First => self.move_cursor(isize::MIN / 2),
            Action::Last => self.move_cursor(isize::MAX / 2),
            Action::Evidence => self.show_evidence(),
            Action::Expand => self.toggle_expand(),
            Action::Detail => self.open_detail(),
            Action::FindNext => self.find_next(true),
            Action::FindPrev => self.find_next(false),
            Action::NextError | Action::PrevError => {
                self.seek(action == Action::NextError, "error (or worse)", |l| {
                    l.level.is_some_and(|l| l >= Level::Error)
                });
            }
            Action::Live => {
                if self.log_mode != LogMode::Live {
                    self.go_live(true);
                }
            }
            Action::Wrap => {
                self.wrap = !self.wrap;
                self.hscroll = 0;
                self.message = Some((
                    format!("wrap {}", if self.wrap { "on" } else { "off" }),
                    false,
                ));
            }
            Action::Histogram => {
                self.histogram = !self.histogram;
                self.message = Some((
                    format!("histogram {}", if self.histogram { "on" } else { "off" }),
                    false,
                ));
            }
            Action::Left => self.hscroll = self.hscroll.saturating_sub(HSCROLL),
            Action::Right => {
                if !self.wrap {
                    self.hscroll = (self.hscroll + HSCROLL).min(super::msg::MAX_LINE_CHARS);
                }
            }
            Action::Level => self.set_filters(Filters::cycle_level),
            Action::OnlySource => {
                let source = self
                    .log_rows()
                    .get(self.log_cursor)
                    .map(|l| Arc::clone(&l.source));
                self.set_filters(|f| {
                    f.source = match (&f.source, source) {
                        (Some(_), _) | (None, None) => None,
                        (None, Some(s)) => Some(s),
                    };
                    f.off = false;
                });
            }
            Action::ExactLevel => {
                let level = self.log_rows().get(self.log_cursor).and_then(|l| l.level);
                self.set_filters(|f| f.toggle_exact(level));
            }
            Action::ShowFilter => self.open_prompt(PromptKind::ShowFilter),
            Action::HideFilter => self.open_prompt(PromptKind::HideFilter),
            Action::ToggleFilters => self.set_filters(|f| f.off = !f.off),
            Action::ClearFilters => self.set_filters(|f| *f = Filters::default()),
            Action::Mark => self.toggle_mark(),
            Action::NextMark | Action::PrevMark => {
                let marks = self.marks.clone();
                self.seek(action == Action::NextMark, "bookmark", |l| {
                    marks.contains(&(Arc::clone(&l.source), l.offset))
                });
            }
            Action::StepStarted => {
                let p = self.step_write(StepState::Started, None);
                self.ask(p);
            }
            Action::StepDone => {
                let p = self.step_write(StepState::Done, None);
                self.ask(p);
            }
            Action::StepSkipped => {
                let p = self.step_write(StepState::Skipped, None);
                self.ask(p);
            }
            Action::StepStartedNote | Action::StepDoneNote | Action::StepSkippedNote => {
                if self.selected_runbook().is_none() {
                    self.message = Some(("no runbook: select an alert that has one".into(), true));
                } else {
                    let outcome = match action {
                        Action::StepStartedNote => StepState::Started,
                        Action::StepDoneNote => StepState::Done,
                        _ => StepState::Skipped,
                    };
                    self.open_prompt(PromptKind::StepNote(outcome));
                }
            }
            Action::Copy => return self.copy_command(),
            Action::Pin => {
                let entries = self.timeline_rows();
                let pin = entries
                    .get(self.timeline_cursor)
                    .map(|e| (e.row.seq, e.row.pinned, e.row.summary.clone()));
                if let Some((seq, unpin, summary)) = pin {
                    let verb = if unpin { "unpin" } else { "pin" };
                    let pending =
                        self.pending_of(Op::Pin { seq, unpin }, format!("{verb} #{seq} {summary}"));
                    self.ask(Some(pending));
                }
            }
            Action::Patterns => self.open_patterns(),
            Action::AllRows => {
                self.timeline_all = !self.timeline_all;
                self.timeline_follow = true;
                self.pick_incident();
                self.message = Some((
                    if self.timeline_all {
                        "timeline: every event".to_owned()
                    } else {
                        "timeline: automatic repeats grouped".to_owned()
                    },
                    false,
                ));
            }
        }
        Vec::new()
    }

    /// Moves the focused pane's cursor.
    fn move_cursor(&mut self, step: isize) {
        match self.focus {
            Pane::Alerts => {
                self.alert_cursor = moved(self.alert_cursor, step, self.alerts.len());
                self.alert_follow = self.alert_cursor == 0;
                self.step_cursor = 0;
            }
            Pane::Log => {
                if step == isize::MAX / 2 && self.log_mode == LogMode::Live {
                    self.follow = true;
                } else if step < 0 {
                    self.follow = false;
                }
                self.move_log(step.clamp(-(1 << 40), 1 << 40));
            }
            Pane::Runbook => {
                let steps = self.selected_runbook().map_or(0, |b| b.steps.len());
                self.step_cursor = moved(self.step_cursor, step, steps);
            }
            Pane::Timeline => {
                let rows = self.timeline_rows().len();
                self.timeline_cursor = moved(self.timeline_cursor, step, rows);
                self.timeline_follow = self.timeline_cursor + 1 == rows;
            }
        }
    }

    fn open_prompt(&mut self, kind: PromptKind) {
        self.prompt = Some(Prompt {
            kind,
            line: LineEditor::default(),
        });
    }

    fn on_prompt_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(prompt) = self.prompt.as_mut() else {
            return Vec::new();
        };
        let chord = Key::of(key);
        if chord.code == crossterm::event::KeyCode::Esc {
            self.prompt = None;
            self.declaring = None;
            return Vec::new();
        }
        if prompt.kind.is_choice() {
            let crossterm::event::KeyCode::Char(c) = chord.code else {
                return Vec::new();
            };
            if !chord.mods.is_empty() {
                return Vec::new();
            }
            let severity = match c {
                'i' => Some(Severity::Info),
                'l' => Some(Severity::Low),
                'm' => Some(Severity::Medium),
                'h' => Some(Severity::High),
                'c' => Some(Severity::Critical),
                _ => None,
            };
            let status = match c {
                'i' => Some(Status::Investigating),
                'm' => Some(Status::Mitigated),
                'r' => Some(Status::Resolved),
                _ => None,
            };
            let pending = match (prompt.kind, severity, status) {
                (PromptKind::Severity, Some(s), _) => self.pending_of(
                    Op::Severity { to: s, at: None },
                    format!("severity → {}", s.as_str()),
                ),
                (PromptKind::Status, _, Some(s)) => self.pending_of(
                    Op::Status {
                        to: s,
                        note: None,
                        at: None,
                    },
                    format!("status → {}", s.as_str()),
                ),
                (PromptKind::DeclareSeverity, Some(s), _) => {
                    let title = self.declaring.take().unwrap_or_default();
                    let what = format!("declare a new incident “{title}” ({})", s.as_str());
                    self.pending_of(
                        Op::Declare {
                            title: Some(title),
                            severity: Some(s),
                            at: None,
                        },
                        what,
                    )
                }
                _ => return Vec::new(),
            };
            self.prompt = None;
            self.ask(Some(pending));
            return Vec::new();
        }
        let history = self
            .histories
            .get(&prompt.kind.history())
            .map(Vec::as_slice)
            .unwrap_or_default();
        match prompt.line.key(key, history) {
            Edit::Editing => Vec::new(),
            Edit::Cancel => {
                self.prompt = None;
                Vec::new()
            }
            Edit::Accept => {
                let Some(Prompt { kind, line }) = self.prompt.take() else {
                    return Vec::new();
                };
                let text = line.text();
                remember(self.histories.entry(kind.history()).or_default(), &text);
                self.submit(kind, text)
            }
        }
    }

    fn submit(&mut self, kind: PromptKind, input: String) -> Vec<Effect> {
        let text = input.trim().to_owned();
        match kind {
            PromptKind::Search => self.search(text),
            PromptKind::JumpTime => {
                self.jump_to_time(&text);
                Vec::new()
            }
            PromptKind::Note => {
                if text.is_empty() {
                    self.message = Some(("empty note: nothing recorded".into(), true));
                    return Vec::new();
                }
                // Typed and sent with Enter: that is the confirmation.
                let pending = self.pending_of(Op::Note { text, at: None }, String::new());
                vec![Effect::Op(pending.write)]
            }
            PromptKind::StepNote(outcome) => self
                .step_write(outcome, (!text.is_empty()).then_some(text))
                .map(|p| vec![Effect::Op(p.write)])
                .unwrap_or_default(),
            PromptKind::DeclareTitle => {
                if text.is_empty() {
                    self.message = Some(("no title: nothing declared".into(), true));
                    return Vec::new();
                }
                self.declaring = Some(text);
                self.open_prompt(PromptKind::DeclareSeverity);
                Vec::new()
            }
            PromptKind::ShowFilter | PromptKind::HideFilter => {
                if text.is_empty() {
                    return Vec::new();
                }
                let show = kind == PromptKind::ShowFilter;
                let mut filters = self.filters.clone();
                match filters.add(&text, show) {
                    Ok(()) => self.set_filters(|f| *f = filters),
                    Err(err) => {
                        self.message = Some((format!("not a regex: {}", clean(&err)), true));
                    }
                }
                Vec::new()
            }
            PromptKind::Severity | PromptKind::Status | PromptKind::DeclareSeverity => Vec::new(),
        }
    }

    /// How long ago `at` was, for people (`3m`), on the log clock.
    pub fn ago(&self, at: Timestamp) -> String {
        let d = self.present().duration_since(at);
        if d < SignedDuration::ZERO {
            return "now".into();
        }
        crate::incident::recorder::short_duration(d)
    }

    /// The severity colour class of the incident, if one is shown.
    pub fn incident_severity(&self) -> Option<Severity> {
        self.incident.as_ref().map(|i| i.severity)
    }
}

/// The events of a log view, without copying them.
#[derive(Debug, Clone, Copy)]
pub enum LogRows<'a> {
    /// The live buffer.
    Buffer(&'a VecDeque<LogLine>),
    /// The live buffer through the filters (indices of the events shown).
    Filtered(&'a VecDeque<LogLine>, &'a [usize]),
    /// An evidence or search view.
    View(&'a [LogLine]),
}

impl<'a> LogRows<'a> {
    /// How many events.
    pub fn len(&self) -> usize {
        match self {
            LogRows::Buffer(b) => b.len(),
            LogRows::Filtered(_, shown) => shown.len(),
            LogRows::View(v) => v.len(),
        }
    }

    /// No events.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th event.
    pub fn get(&self, i: usize) -> Option<&'a LogLine> {
        match self {
            LogRows::Buffer(b) => b.get(i),
            LogRows::Filtered(b, shown) => b.get(*shown.get(i)?),
            LogRows::View(v) => v.get(i),
        }
    }
}

/// The event of `source` that holds the byte at `offset`: the one that
/// starts there, or the last one of that source starting before it when it
/// has continuation lines.
fn unit_of<'a>(
    lines: impl IntoIterator<Item = &'a LogLine>,
    source: &str,
    offset: u64,
) -> Option<usize> {
    let mut best: Option<(usize, u64)> = None;
    for (i, l) in lines.into_iter().enumerate() {
        if &*l.source != source || l.offset > offset {
            continue;
        }
        if l.offset == offset {
            return Some(i);
        }
        if !l.more.is_empty() && best.is_none_or(|(_, o)| l.offset > o) {
            best = Some((i, l.offset));
        }
    }
    best.map(|(i, _)| i)
}

fn moved(cursor: usize, by: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (cursor as isize)
        .saturating_add(by)
        .clamp(0, len as isize - 1) as usize
}

/// Whether an event matches a query of the loaded-lines search: every word
/// of the query appears in it (case-insensitive, first line or
/// continuation lines, or the source name).
pub fn matches_query(line: &LogLine, query: &str) -> bool {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return false;
    }
    let mut hay = line.text.to_lowercase();
    for more in &line.more {
        hay.push('\n');
        hay.push_str(&more.to_lowercase());
    }
    hay.push('\n');
    hay.push_str(&line.source.to_lowercase());
    words.iter().all(|w| hay.contains(w.as_str()))
}
