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
//!
//! Cut per pane: each pane's state is a struct of its own ([`LogPane`],
//! [`AlertsPane`], [`RunbookPane`], [`TimelinePane`]) and its updates live
//! in its file (`log`, `alerts`, `runbook`, `timeline`); `prompts` answers
//! the prompts; this file holds the whole state, the message and key
//! dispatch (through the key table) and what no one pane owns.

mod alerts;
mod log;
mod prompts;
mod runbook;
mod timeline;

pub use self::{
    alerts::{AlertRow, AlertsPane, SPARK_MINUTES},
    log::{Detail, LogMode, LogPane, LogRows, MAX_EVENTS, matches_query},
    runbook::RunbookPane,
    timeline::{TimelineEntry, TimelinePane},
};

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use ratatui::crossterm::event::{KeyEvent, KeyEventKind};

use super::{
    filter::Filters,
    keys::{self, Action, Key},
    msg::{Msg, Stats, Write, clean},
    patterns::Patterns,
    prompt::LineEditor,
};
use crate::{
    incident::{Op, StepState},
    library::Library,
    model::{Level, Severity},
};

/// Problems remembered for the status bar.
const MAX_PROBLEMS: usize = 20;
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
    /// The log pane.
    pub log: LogPane,
    /// Where searches go.
    pub search_backend: SearchBackend,
    /// The alerts pane.
    pub alerts: AlertsPane,
    /// The runbook pane.
    pub runbook: RunbookPane,
    /// The timeline pane and the incidents it can show.
    pub timeline: TimelinePane,
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
            log: LogPane::default(),
            search_backend: SearchBackend::Loaded,
            alerts: AlertsPane::default(),
            runbook: RunbookPane::default(),
            timeline: TimelinePane::default(),
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
                let before: Vec<String> = self
                    .timeline
                    .incidents
                    .iter()
                    .map(|i| i.id.clone())
                    .collect();
                self.timeline.incidents = views;
                // A new incident (declared here or by a signature) is shown;
                // `I` goes back to the others.
                if let Some(new) = self
                    .timeline
                    .incidents
                    .iter()
                    .find(|i| !before.contains(&i.id))
                    && !before.is_empty()
                {
                    self.timeline.shown = Some(new.id.clone());
                    self.timeline.follow = true;
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
            self.alerts.follow = false;
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
                if self.log.mode == LogMode::Live && self.log.follow {
                    self.log.follow = false;
                } else {
                    self.go_live(true);
                }
                self.message = Some((
                    format!("follow {}", if self.log.follow { "on" } else { "off" }),
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
                if self.log.mode != LogMode::Live {
                    self.go_live(true);
                }
            }
            Action::Wrap => {
                self.log.wrap = !self.log.wrap;
                self.log.hscroll = 0;
                self.message = Some((
                    format!("wrap {}", if self.log.wrap { "on" } else { "off" }),
                    false,
                ));
            }
            Action::Histogram => {
                self.log.histogram = !self.log.histogram;
                self.message = Some((
                    format!(
                        "histogram {}",
                        if self.log.histogram { "on" } else { "off" }
                    ),
                    false,
                ));
            }
            Action::Left => self.log.hscroll = self.log.hscroll.saturating_sub(HSCROLL),
            Action::Right => {
                if !self.log.wrap {
                    self.log.hscroll = (self.log.hscroll + HSCROLL).min(super::msg::MAX_LINE_CHARS);
                }
            }
            Action::Level => self.set_filters(Filters::cycle_level),
            Action::OnlySource => {
                let source = self
                    .log_rows()
                    .get(self.log.cursor)
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
                let level = self.log_rows().get(self.log.cursor).and_then(|l| l.level);
                self.set_filters(|f| f.toggle_exact(level));
            }
            Action::ShowFilter => self.open_prompt(PromptKind::ShowFilter),
            Action::HideFilter => self.open_prompt(PromptKind::HideFilter),
            Action::ToggleFilters => self.set_filters(|f| f.off = !f.off),
            Action::ClearFilters => self.set_filters(|f| *f = Filters::default()),
            Action::Mark => self.toggle_mark(),
            Action::NextMark | Action::PrevMark => {
                let marks = self.log.marks.clone();
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
                    .get(self.timeline.cursor)
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
                self.timeline.all = !self.timeline.all;
                self.timeline.follow = true;
                self.pick_incident();
                self.message = Some((
                    if self.timeline.all {
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
                self.alerts.cursor = moved(self.alerts.cursor, step, self.alerts.rows.len());
                self.alerts.follow = self.alerts.cursor == 0;
                self.runbook.cursor = 0;
            }
            Pane::Log => {
                if step == isize::MAX / 2 && self.log.mode == LogMode::Live {
                    self.log.follow = true;
                } else if step < 0 {
                    self.log.follow = false;
                }
                self.move_log(step.clamp(-(1 << 40), 1 << 40));
            }
            Pane::Runbook => {
                let steps = self.selected_runbook().map_or(0, |b| b.steps.len());
                self.runbook.cursor = moved(self.runbook.cursor, step, steps);
            }
            Pane::Timeline => {
                let rows = self.timeline_rows().len();
                self.timeline.cursor = moved(self.timeline.cursor, step, rows);
                self.timeline.follow = self.timeline.cursor + 1 == rows;
            }
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
        self.timeline.incident.as_ref().map(|i| i.severity)
    }
}

fn moved(cursor: usize, by: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (cursor as isize)
        .saturating_add(by)
        .clamp(0, len as isize - 1) as usize
}
