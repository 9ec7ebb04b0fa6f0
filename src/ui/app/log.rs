//! The log pane: the buffer of events merged by time (bounded), the live
//! view through the filters, the evidence, search and pattern views, the
//! cursor, finding, bookmarks, expansion, the detail view, and the
//! Patterns view's keys (its choice is shown here).

use std::{
    collections::{HashSet, VecDeque},
    sync::Arc,
};

use jiff::Timestamp;
use ratatui::crossterm::event::KeyEvent;

use super::{App, Effect, Pane, SearchBackend};
use crate::ui::{
    filter::Filters,
    keys::{self, Action, Key},
    msg::{LogLine, clean},
};

/// Events kept in the log buffer: a few screens' worth of history many times
/// over, at a few MB.
pub const MAX_EVENTS: usize = 20_000;

/// Search hits kept.
pub(super) const MAX_HITS: usize = 5_000;

/// Events of context around each evidence line.
pub(super) const CONTEXT: usize = 3;

/// How far back a late line is merged by time, in events: lines arrive
/// nearly in order, so a short walk back suffices.
pub(super) const MERGE_WINDOW: usize = 4_096;

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

/// The log pane's state: the buffer, what is shown of it, and how.
#[derive(Debug)]
pub struct LogPane {
    /// The log buffer, merged by time.
    pub(super) buffer: VecDeque<LogLine>,
    /// What the log pane shows.
    pub mode: LogMode,
    /// The rows of the evidence or search view.
    pub(super) view: Vec<LogLine>,
    /// The log pane's filters.
    pub filters: Filters,
    /// With filters on: the buffer's events that pass (indices, in order).
    pub(super) visible: Option<Vec<usize>>,
    /// Bookmarked events, by (source, offset).
    pub(super) marks: HashSet<(Arc<str>, u64)>,
    /// Long lines wrap in the log pane.
    pub wrap: bool,
    /// The log pane shows its histogram strip (when it has room).
    pub histogram: bool,
    /// Characters of the log lines' text scrolled off to the left.
    pub hscroll: usize,
    /// The selected event in the current log view.
    pub cursor: usize,
    /// The log pane follows new lines.
    pub follow: bool,
    /// Multi-line events shown expanded, by (source, offset).
    pub(super) expanded: HashSet<(Arc<str>, u64)>,
    /// The term highlighted and found by `n`/`N`.
    pub find: Option<String>,
}

impl Default for LogPane {
    fn default() -> LogPane {
        LogPane {
            buffer: VecDeque::new(),
            mode: LogMode::Live,
            view: Vec::new(),
            filters: Filters::default(),
            visible: None,
            marks: HashSet::new(),
            wrap: false,
            histogram: true,
            hscroll: 0,
            cursor: 0,
            follow: true,
            expanded: HashSet::new(),
            find: None,
        }
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
pub(super) fn unit_of<'a>(
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

impl App {
    /// The events of the current log view.
    pub fn log_rows(&self) -> LogRows<'_> {
        match (&self.log.mode, &self.log.visible) {
            (LogMode::Live, Some(visible)) => LogRows::Filtered(&self.log.buffer, visible),
            (LogMode::Live, None) => LogRows::Buffer(&self.log.buffer),
            _ => LogRows::View(&self.log.view),
        }
    }

    /// Whether the multi-line event is shown expanded.
    pub fn is_expanded(&self, line: &LogLine) -> bool {
        self.log
            .expanded
            .contains(&(Arc::clone(&line.source), line.offset))
    }

    /// Whether the event is bookmarked.
    pub fn is_marked(&self, line: &LogLine) -> bool {
        self.log
            .marks
            .contains(&(Arc::clone(&line.source), line.offset))
    }

    pub(super) fn rows_len(&self) -> usize {
        self.log_rows().len()
    }

    /// The live view's row of buffer index `i`: itself, or with filters the
    /// first shown event at or after it (else the last shown).
    pub(super) fn row_of_buffer_index(&self, i: usize) -> usize {
        match &self.log.visible {
            Some(visible) => {
                let at = visible.partition_point(|&v| v < i);
                at.min(visible.len().saturating_sub(1))
            }
            None => i,
        }
    }

    /// Recomputes the live view's rows after the filters or the buffer
    /// changed, keeping the cursor on the same event when it is still shown.
    pub(super) fn refilter(&mut self) {
        let keep = (self.log.mode == LogMode::Live)
            .then(|| self.log_rows().get(self.log.cursor))
            .flatten()
            .map(|l| (Arc::clone(&l.source), l.offset));
        self.log.visible = self.log.filters.active().then(|| {
            self.log
                .buffer
                .iter()
                .enumerate()
                .filter(|(_, l)| self.log.filters.passes(l))
                .map(|(i, _)| i)
                .collect()
        });
        if self.log.mode != LogMode::Live {
            return;
        }
        if self.log.follow {
            self.log.cursor = self.rows_len().saturating_sub(1);
            return;
        }
        if let Some((source, offset)) = keep
            && let Some(i) = self
                .log
                .buffer
                .iter()
                .position(|l| l.source == source && l.offset == offset)
        {
            self.log.cursor = self.row_of_buffer_index(i);
        }
        self.log.cursor = self.log.cursor.min(self.rows_len().saturating_sub(1));
    }

    pub(super) fn push_lines(&mut self, lines: Vec<LogLine>) {
        let new_hits: Vec<LogLine> = match &self.log.mode {
            LogMode::Search(query) if self.search_backend == SearchBackend::Loaded => lines
                .iter()
                .filter(|l| matches_query(l, query))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        let filtered = self.log.visible.is_some();
        for line in &lines {
            for id in &line.signatures {
                *self.alerts.matched.entry(Arc::clone(id)).or_default() += 1;
            }
        }
        // Events come assembled by the parser (a stack trace is one event
        // with its lines in `more`).
        for line in lines {
            let at = self.insert_position(&line);
            if !filtered
                && self.log.mode == LogMode::Live
                && at <= self.log.cursor
                && !self.log.buffer.is_empty()
            {
                self.log.cursor += 1;
            }
            self.log.buffer.insert(at, line);
        }
        let excess = self.log.buffer.len().saturating_sub(MAX_EVENTS);
        if excess > 0 {
            for line in self.log.buffer.drain(..excess) {
                let key = (line.source, line.offset);
                self.log.expanded.remove(&key);
                self.log.marks.remove(&key);
            }
            if !filtered && self.log.mode == LogMode::Live {
                self.log.cursor = self.log.cursor.saturating_sub(excess);
            }
        }
        if filtered {
            self.refilter();
        }
        if !new_hits.is_empty() {
            self.log.view.extend(new_hits);
            let excess = self.log.view.len().saturating_sub(MAX_HITS);
            self.log.view.drain(..excess);
            self.log.cursor = self.log.cursor.saturating_sub(excess);
        }
        if self.log.follow {
            self.log.cursor = self.rows_len().saturating_sub(1);
        }
    }

    /// Where a line goes in the buffer: after every event not later than
    /// it (events without a time sort by arrival).
    pub(super) fn insert_position(&self, line: &LogLine) -> usize {
        let Some(ts) = line.ts else {
            return self.log.buffer.len();
        };
        let len = self.log.buffer.len();
        let floor = len.saturating_sub(MERGE_WINDOW);
        let mut at = len;
        while at > floor {
            match self.log.buffer[at - 1].ts {
                Some(prev) if prev > ts => at -= 1,
                _ => break,
            }
        }
        at
    }

    pub(super) fn set_view(&mut self, mode: LogMode, rows: Vec<LogLine>, cursor: usize) {
        self.log.mode = mode;
        self.log.view = rows;
        self.log.cursor = cursor.min(self.log.view.len().saturating_sub(1));
        self.log.follow = false;
        self.focus = Pane::Log;
    }

    pub(super) fn go_live(&mut self, follow: bool) {
        self.log.mode = LogMode::Live;
        self.log.view.clear();
        self.log.follow = follow;
        if follow {
            self.log.cursor = self.rows_len().saturating_sub(1);
        }
    }

    pub(super) fn search(&mut self, query: String) -> Vec<Effect> {
        if query.trim().is_empty() {
            self.log.find = None;
            self.go_live(self.log.follow);
            return Vec::new();
        }
        self.log.find = Some(query.clone());
        match self.search_backend {
            SearchBackend::Loaded => {
                let mut hits: Vec<LogLine> = self
                    .log
                    .buffer
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

    pub(super) fn jump_to(&mut self, source: &Arc<str>, offset: u64) {
        let at = unit_of(&self.log.buffer, source, offset);
        self.go_live(false);
        match at {
            Some(at) => {
                if self
                    .log
                    .visible
                    .as_ref()
                    .is_some_and(|v| v.binary_search(&at).is_err())
                {
                    self.message = Some((
                        "that event is hidden by the filters (F switches them off)".into(),
                        true,
                    ));
                }
                self.log.cursor = self.row_of_buffer_index(at);
            }
            None => {
                self.message = Some((
                    "that event is no longer in the console's buffer".into(),
                    true,
                ));
            }
        }
    }

    pub(super) fn jump_to_time(&mut self, text: &str) {
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
            .buffer
            .iter()
            .position(|l| l.ts.is_some_and(|ts| ts >= at))
            .unwrap_or(self.log.buffer.len().saturating_sub(1));
        self.log.cursor = self.row_of_buffer_index(i);
    }

    /// Moves the cursor to the next (or previous) row of the current view
    /// that `wanted` accepts; says so when there is none.
    pub(super) fn seek(
        &mut self,
        forward: bool,
        what: &str,
        wanted: impl Fn(&LogLine) -> bool,
    ) -> bool {
        let rows = self.log_rows();
        let len = rows.len();
        let hit = if forward {
            (self.log.cursor + 1..len).find(|&i| rows.get(i).is_some_and(&wanted))
        } else {
            (0..self.log.cursor.min(len))
                .rev()
                .find(|&i| rows.get(i).is_some_and(&wanted))
        };
        match hit {
            Some(i) => {
                self.log.cursor = i;
                self.log.follow = false;
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

    pub(super) fn find_next(&mut self, forward: bool) {
        if !matches!(self.log.mode, LogMode::Live) {
            self.move_log(if forward { 1 } else { -1 });
            return;
        }
        let Some(term) = self.log.find.clone() else {
            self.message = Some(("no search yet: press / to search".into(), true));
            return;
        };
        let what = format!("match for `{}`", clean(&term));
        self.seek(forward, &what, |l| matches_query(l, &term));
    }

    pub(super) fn move_log(&mut self, by: isize) {
        let len = self.rows_len();
        if len == 0 {
            return;
        }
        let to = (self.log.cursor as isize + by).clamp(0, len as isize - 1) as usize;
        self.log.cursor = to;
        self.log.follow =
            self.log.mode == LogMode::Live && to + 1 == len && by > 0 && self.log.follow;
    }

    pub(super) fn toggle_expand(&mut self) {
        let line = match self.log_rows().get(self.log.cursor) {
            Some(line) if !line.more.is_empty() => line,
            _ => return,
        };
        let key = (Arc::clone(&line.source), line.offset);
        if !self.log.expanded.remove(&key) {
            self.log.expanded.insert(key);
        }
    }

    pub(super) fn toggle_mark(&mut self) {
        let Some(line) = self.log_rows().get(self.log.cursor) else {
            return;
        };
        let key = (Arc::clone(&line.source), line.offset);
        let (text, _) = if self.log.marks.remove(&key) {
            ("bookmark removed", false)
        } else {
            self.log.marks.insert(key);
            ("bookmarked (b / B: next / previous bookmark)", true)
        };
        self.message = Some((text.into(), false));
    }

    pub(super) fn open_detail(&mut self) {
        if let Some(line) = self.log_rows().get(self.log.cursor).cloned() {
            self.detail = Some(Detail {
                template: self.patterns.template_text_of(&line),
                line,
                scroll: 0,
            });
        }
    }

    pub(super) fn on_detail_key(&mut self, key: KeyEvent) {
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
                if self.log.mode != LogMode::Live {
                    self.jump_to(&source, offset);
                }
            }
            _ => self.detail = None,
        }
    }

    pub(super) fn set_filters(&mut self, change: impl FnOnce(&mut Filters)) {
        change(&mut self.log.filters);
        if self.log.mode != LogMode::Live {
            self.go_live(false);
        }
        self.refilter();
        let shown = self.rows_len();
        let text = if self.log.filters.is_empty() {
            "no filter: every event".to_owned()
        } else {
            format!(
                "filters: {} · {shown} of {} events",
                self.log.filters.describe(),
                self.log.buffer.len()
            )
        };
        self.message = Some((text, false));
    }

    /// What the Patterns view measures "new" against: the shown incident's
    /// opening.
    pub(super) fn pattern_reference(&self) -> Option<(String, Timestamp)> {
        self.timeline
            .incident
            .as_ref()
            .map(|i| (i.id.clone(), i.opened_at))
    }

    pub(super) fn open_patterns(&mut self) {
        let since = self.pattern_reference();
        self.patterns.open = true;
        self.patterns.refresh(since, self.present());
    }

    /// Keys of the Patterns view: the list keys move, Enter shows the
    /// selected template's events in the log pane, `s` suggests a
    /// signature, any other key closes.
    pub(super) fn on_patterns_key(&mut self, key: KeyEvent) -> Vec<Effect> {
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
    pub(super) fn show_pattern(&mut self) {
        self.patterns.open = false;
        let Some(row) = self.patterns.selected() else {
            return;
        };
        let (id, count) = (row.id, row.count);
        let title = format!("{id} `{}`", crate::patterns::cut(&row.text, 60));
        let rows = self.patterns.lines_of(id, self.log.buffer.iter());
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
        self.log.find = None;
        self.set_view(LogMode::Pattern(title), rows, n.saturating_sub(1));
    }
}
