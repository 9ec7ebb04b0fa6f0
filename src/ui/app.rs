//! The console's state and its update: one [`App`], changed only by
//! [`App::on_key`] (operator input) and [`App::on_msg`] (pipeline messages),
//! which return the [`Effect`]s the runtime must carry out (quit, an
//! operator command for the journal, a copy, a search).
//!
//! Pure: no terminal, no I/O, no clock (the present is passed in), so every
//! key and message is tested without a terminal. Rendering only reads this
//! state (`view`).
//!
//! Invariants: the log buffer holds at most [`MAX_EVENTS`] events (the
//! oldest go first), so memory stays bounded while following; every text in
//! it was sanitised when its message was built.

use std::{
    collections::{HashSet, VecDeque},
    sync::Arc,
};

use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::msg::{AlertInfo, IncidentView, LogLine, Msg, Op, Stats, clean};
use crate::{
    cli::{SeverityArg, StatusArg, StepOutcomeArg},
    library::Library,
    model::Severity,
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
    StepNote(StepOutcomeArg),
    /// One key: the new severity (`v`).
    Severity,
    /// One key: the new status (`u`).
    Status,
}

impl PromptKind {
    /// The prompt's label.
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Search => "search: ",
            PromptKind::JumpTime => "jump to time (03:10, 2026-11-21 03:10:00): ",
            PromptKind::Note => "note: ",
            PromptKind::StepNote(StepOutcomeArg::Started) => "step started, note: ",
            PromptKind::StepNote(StepOutcomeArg::Done) => "step done, note: ",
            PromptKind::StepNote(StepOutcomeArg::Skipped) => "step skipped, why: ",
            PromptKind::Severity => {
                "severity: [i]nfo [l]ow [m]edium [h]igh [c]ritical  (Esc cancels)"
            }
            PromptKind::Status => "status: [i]nvestigating [m]itigated [r]esolved  (Esc cancels)",
        }
    }

    /// Answered by one key, without Enter.
    pub fn is_choice(self) -> bool {
        matches!(self, PromptKind::Severity | PromptKind::Status)
    }
}

/// A prompt being answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// What it asks for.
    pub kind: PromptKind,
    /// What was typed.
    pub input: String,
}

/// What the runtime must do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Leave the console.
    Quit,
    /// Append to the incident journal.
    Op(Op),
    /// Put a command on the clipboard.
    Copy(String),
    /// Run a query against the index.
    Search(String),
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
    /// The prompt being answered.
    pub prompt: Option<Prompt>,
    /// The log buffer, merged by time.
    log: VecDeque<LogLine>,
    /// What the log pane shows.
    pub log_mode: LogMode,
    /// The rows of the evidence or search view.
    view: Vec<LogLine>,
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
    /// Rows of the alerts pane, newest first.
    pub alerts: Vec<AlertRow>,
    /// The selected alert.
    pub alert_cursor: usize,
    /// The selection stays on the newest alert until the operator moves it.
    alert_follow: bool,
    /// The selected runbook step.
    pub step_cursor: usize,
    /// The selected timeline row.
    pub timeline_cursor: usize,
    /// The timeline row selection follows the newest.
    timeline_follow: bool,
    /// The incident shown.
    pub incident: Option<IncidentView>,
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
}

/// Every key, for the help overlay and the README: (where, key, what).
pub const KEYS: &[(&str, &str, &str)] = &[
    ("anywhere", "q  Ctrl-C", "quit (the terminal is restored)"),
    ("anywhere", "?", "this help (any key closes it)"),
    ("anywhere", "Tab  Shift-Tab", "next / previous pane"),
    (
        "anywhere",
        "1 2 3 4",
        "focus alerts / log / runbook / timeline",
    ),
    (
        "anywhere",
        "/",
        "search (shows matching events in the log pane)",
    ),
    ("anywhere", "t", "jump to a time in the log"),
    (
        "anywhere",
        "f",
        "follow new lines on/off (back to the live tail)",
    ),
    ("anywhere", "a", "acknowledge the incident"),
    ("anywhere", "i", "add a note to the timeline"),
    ("anywhere", "v", "change the incident's severity"),
    ("anywhere", "u", "change the incident's status"),
    ("anywhere", "!", "declare an incident by hand"),
    ("lists", "j k  ↓ ↑", "move"),
    ("lists", "PgDn PgUp  g G", "page, first, last"),
    (
        "alerts",
        "Enter  e",
        "show the alert's evidence with context",
    ),
    ("log", "Space", "expand / collapse a multi-line event"),
    (
        "log",
        "Enter",
        "on a hit or evidence line: go to it in the live log",
    ),
    ("log", "n  N", "next / previous search hit"),
    ("log", "Esc", "back to the live tail"),
    (
        "runbook",
        "s d x  S D X",
        "step started / done / skipped (capital: + note)",
    ),
    (
        "runbook",
        "c",
        "copy the command (clipboard + copied-command.sh)",
    ),
    ("timeline", "p", "pin / unpin the event for the postmortem"),
];

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
            prompt: None,
            log: VecDeque::new(),
            log_mode: LogMode::Live,
            view: Vec::new(),
            log_cursor: 0,
            follow: true,
            expanded: HashSet::new(),
            find: None,
            search_backend: SearchBackend::Loaded,
            alerts: Vec::new(),
            alert_cursor: 0,
            alert_follow: true,
            step_cursor: 0,
            timeline_cursor: 0,
            timeline_follow: true,
            incident: None,
            stats: Stats::default(),
            rate: 0.0,
            rate_mark: None,
            problems: VecDeque::new(),
            problem_count: 0,
            message: None,
            clock: None,
            now,
            stopped: None,
        }
    }

    /// The library (signatures and runbooks), once loaded.
    pub fn library(&self) -> Option<&Library> {
        self.library.as_deref()
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
        match self.log_mode {
            LogMode::Live => LogRows::Buffer(&self.log),
            _ => LogRows::View(&self.view),
        }
    }

    /// Whether the multi-line event is shown expanded.
    pub fn is_expanded(&self, line: &LogLine) -> bool {
        self.expanded
            .contains(&(Arc::clone(&line.source), line.offset))
    }

    fn rows_len(&self) -> usize {
        self.log_rows().len()
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
        // Events come assembled by the parser (a stack trace is one event
        // with its lines in `more`).
        for line in lines {
            let at = self.insert_position(&line);
            if self.log_mode == LogMode::Live && at <= self.log_cursor && !self.log.is_empty() {
                self.log_cursor += 1;
            }
            self.log.insert(at, line);
        }
        let excess = self.log.len().saturating_sub(MAX_EVENTS);
        if excess > 0 {
            for line in self.log.drain(..excess) {
                self.expanded.remove(&(line.source, line.offset));
            }
            if self.log_mode == LogMode::Live {
                self.log_cursor = self.log_cursor.saturating_sub(excess);
            }
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
            self.log_cursor = self.log.len().saturating_sub(1);
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
            Some(at) => self.log_cursor = at,
            None => {
                self.message = Some((
                    "that event is no longer in the console's buffer".into(),
                    true,
                ));
            }
        }
    }

    fn jump_to_time(&mut self, text: &str) {
        let Some(at) = crate::incident::command::parse_time(text, &self.zone, self.present())
        else {
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
        self.log_cursor = self
            .log
            .iter()
            .position(|l| l.ts.is_some_and(|ts| ts >= at))
            .unwrap_or(self.log.len().saturating_sub(1));
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
        let len = self.log.len();
        let hit = if forward {
            (self.log_cursor + 1..len).find(|&i| matches_query(&self.log[i], &term))
        } else {
            (0..self.log_cursor.min(len))
                .rev()
                .find(|&i| matches_query(&self.log[i], &term))
        };
        match hit {
            Some(i) => {
                self.log_cursor = i;
                self.follow = false;
            }
            None => {
                self.message = Some((
                    format!(
                        "no {} match for `{}`",
                        if forward { "later" } else { "earlier" },
                        clean(&term)
                    ),
                    false,
                ));
            }
        }
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
                times: VecDeque::new(),
                cleared: None,
                evidence: VecDeque::new(),
            },
        };
        row.fired += 1;
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
        // Newest first: the row moves to the top; the selection follows the
        // newest until the operator moves it, then stays on the alert they
        // are reading.
        self.alerts.insert(0, row);
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
        for row in &mut self.alerts {
            if &*row.info.signature == signature && row.info.key == key {
                row.cleared = Some(at);
            }
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

    fn step_op(&mut self, outcome: StepOutcomeArg, note: Option<String>) -> Vec<Effect> {
        let Some(book) = self.selected_runbook() else {
            self.message = Some(("no runbook: select an alert that has one".into(), true));
            return Vec::new();
        };
        let Some(step) = book.steps.get(self.step_cursor) else {
            return Vec::new();
        };
        let op = Op::Step {
            runbook: book.id.clone(),
            step: step.id.clone(),
            outcome,
            note,
        };
        vec![Effect::Op(op)]
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

    // ------------------------------------------------------------ updates

    /// Applies a message from a pipeline thread.
    pub fn on_msg(&mut self, msg: Msg, now: Timestamp) {
        self.now = now;
        match msg {
            Msg::Lines(lines) | Msg::Tail(lines) => self.push_lines(lines),
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
            Msg::Incident(view) => {
                self.incident = view.map(|v| *v);
                let rows = self.incident.as_ref().map_or(0, |i| i.rows.len());
                if self.timeline_follow {
                    self.timeline_cursor = rows.saturating_sub(1);
                } else {
                    self.timeline_cursor = self.timeline_cursor.min(rows.saturating_sub(1));
                }
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
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q')) {
            return vec![Effect::Quit];
        }
        if self.help {
            self.help = false;
            return Vec::new();
        }
        if self.prompt.is_some() {
            return self.on_prompt_key(key);
        }
        if let Some(effects) = self.on_pane_key(key) {
            return effects;
        }
        let before = self.focus;
        match key.code {
            KeyCode::Char('q') => return vec![Effect::Quit],
            KeyCode::Char('?') => self.help = true,
            KeyCode::Tab => self.focus = self.focus.next(1),
            KeyCode::BackTab => self.focus = self.focus.next(-1),
            KeyCode::Char(c @ '1'..='4') => {
                self.focus = Pane::ORDER[(c as usize) - ('1' as usize)];
            }
            KeyCode::Char('/') => self.open_prompt(PromptKind::Search),
            KeyCode::Char('t') => self.open_prompt(PromptKind::JumpTime),
            KeyCode::Char('i') => self.open_prompt(PromptKind::Note),
            KeyCode::Char('v') => self.open_prompt(PromptKind::Severity),
            KeyCode::Char('u') => self.open_prompt(PromptKind::Status),
            KeyCode::Char('a') => return vec![Effect::Op(Op::Ack)],
            KeyCode::Char('!') => return vec![Effect::Op(Op::Declare)],
            KeyCode::Char('f') => {
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
            KeyCode::Esc if self.log_mode != LogMode::Live => self.go_live(true),
            _ => {}
        }
        if self.focus == Pane::Runbook && before != Pane::Runbook {
            // The operator is working on this alert's runbook: a newer alert
            // must not swap it from under them.
            self.alert_follow = false;
        }
        Vec::new()
    }

    fn open_prompt(&mut self, kind: PromptKind) {
        let input = match kind {
            PromptKind::Search => self.find.clone().unwrap_or_default(),
            _ => String::new(),
        };
        self.prompt = Some(Prompt { kind, input });
    }

    fn on_prompt_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(prompt) = self.prompt.as_mut() else {
            return Vec::new();
        };
        if key.code == KeyCode::Esc {
            self.prompt = None;
            return Vec::new();
        }
        if prompt.kind.is_choice() {
            let KeyCode::Char(c) = key.code else {
                return Vec::new();
            };
            let op = match (prompt.kind, c) {
                (PromptKind::Severity, 'i') => Op::Severity(SeverityArg::Info),
                (PromptKind::Severity, 'l') => Op::Severity(SeverityArg::Low),
                (PromptKind::Severity, 'm') => Op::Severity(SeverityArg::Medium),
                (PromptKind::Severity, 'h') => Op::Severity(SeverityArg::High),
                (PromptKind::Severity, 'c') => Op::Severity(SeverityArg::Critical),
                (PromptKind::Status, 'i') => Op::Status(StatusArg::Investigating),
                (PromptKind::Status, 'm') => Op::Status(StatusArg::Mitigated),
                (PromptKind::Status, 'r') => Op::Status(StatusArg::Resolved),
                _ => return Vec::new(),
            };
            self.prompt = None;
            return vec![Effect::Op(op)];
        }
        match key.code {
            KeyCode::Enter => {
                let Some(Prompt { kind, input }) = self.prompt.take() else {
                    return Vec::new();
                };
                self.submit(kind, input)
            }
            KeyCode::Backspace => {
                prompt.input.pop();
                Vec::new()
            }
            KeyCode::Char(c) if !c.is_control() => {
                if prompt.input.chars().count() < 500 {
                    prompt.input.push(c);
                }
                Vec::new()
            }
            _ => Vec::new(),
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
                vec![Effect::Op(Op::Note(text))]
            }
            PromptKind::StepNote(outcome) => {
                self.step_op(outcome, (!text.is_empty()).then_some(text))
            }
            PromptKind::Severity | PromptKind::Status => Vec::new(),
        }
    }

    /// Keys that belong to the focused pane; `None` when the key is not one.
    fn on_pane_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let step: isize = match key.code {
            KeyCode::Down | KeyCode::Char('j') => 1,
            KeyCode::Up | KeyCode::Char('k') => -1,
            KeyCode::PageDown => 10,
            KeyCode::PageUp => -10,
            KeyCode::Home | KeyCode::Char('g') => isize::MIN / 2,
            KeyCode::End | KeyCode::Char('G') => isize::MAX / 2,
            _ => 0,
        };
        match self.focus {
            Pane::Alerts => {
                if step != 0 {
                    self.alert_cursor = moved(self.alert_cursor, step, self.alerts.len());
                    self.alert_follow = self.alert_cursor == 0;
                    self.step_cursor = 0;
                    return Some(Vec::new());
                }
                if matches!(key.code, KeyCode::Enter | KeyCode::Char('e')) {
                    self.show_evidence();
                    return Some(Vec::new());
                }
            }
            Pane::Log => {
                if step != 0 {
                    if step == isize::MAX / 2 && self.log_mode == LogMode::Live {
                        self.follow = true;
                    } else if step < 0 {
                        self.follow = false;
                    }
                    self.move_log(step.clamp(-(1 << 40), 1 << 40));
                    return Some(Vec::new());
                }
                match key.code {
                    KeyCode::Char('n') => self.find_next(true),
                    KeyCode::Char('N') => self.find_next(false),
                    KeyCode::Char(' ') => self.toggle_expand(),
                    KeyCode::Enter => match self.log_mode {
                        LogMode::Live => self.toggle_expand(),
                        _ => {
                            if let Some(line) = self.view.get(self.log_cursor) {
                                let (source, offset) = (Arc::clone(&line.source), line.offset);
                                self.jump_to(&source, offset);
                            }
                        }
                    },
                    _ => return None,
                }
                return Some(Vec::new());
            }
            Pane::Runbook => {
                let steps = self.selected_runbook().map_or(0, |b| b.steps.len());
                if step != 0 {
                    self.step_cursor = moved(self.step_cursor, step, steps);
                    return Some(Vec::new());
                }
                let effects = match key.code {
                    KeyCode::Char('s') => self.step_op(StepOutcomeArg::Started, None),
                    KeyCode::Char('d') => self.step_op(StepOutcomeArg::Done, None),
                    KeyCode::Char('x') => self.step_op(StepOutcomeArg::Skipped, None),
                    KeyCode::Char(c @ ('S' | 'D' | 'X')) => {
                        if self.selected_runbook().is_none() {
                            self.message =
                                Some(("no runbook: select an alert that has one".into(), true));
                        } else {
                            let outcome = match c {
                                'S' => StepOutcomeArg::Started,
                                'D' => StepOutcomeArg::Done,
                                _ => StepOutcomeArg::Skipped,
                            };
                            self.open_prompt(PromptKind::StepNote(outcome));
                        }
                        Vec::new()
                    }
                    KeyCode::Char('c') | KeyCode::Char('y') => self.copy_command(),
                    _ => return None,
                };
                return Some(effects);
            }
            Pane::Timeline => {
                let rows = self.incident.as_ref().map_or(0, |i| i.rows.len());
                if step != 0 {
                    self.timeline_cursor = moved(self.timeline_cursor, step, rows);
                    self.timeline_follow = self.timeline_cursor + 1 == rows;
                    return Some(Vec::new());
                }
                if key.code == KeyCode::Char('p') {
                    let row = self
                        .incident
                        .as_ref()
                        .and_then(|i| i.rows.get(self.timeline_cursor));
                    return Some(match row {
                        Some(row) => vec![Effect::Op(Op::Pin {
                            seq: row.seq,
                            unpin: row.pinned,
                        })],
                        None => Vec::new(),
                    });
                }
            }
        }
        None
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
    /// An evidence or search view.
    View(&'a [LogLine]),
}

impl<'a> LogRows<'a> {
    /// How many events.
    pub fn len(&self) -> usize {
        match self {
            LogRows::Buffer(b) => b.len(),
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
