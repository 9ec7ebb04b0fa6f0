//! The console's Patterns view: the templates of the events the console
//! read (`parse::template::Miner`, mined as they arrive), with their counts,
//! worst level, first and last seen and a sparkline over the console's span,
//! ranked with those **new** (first seen since the shown incident opened)
//! or **surging** (a rate since it opened that differs from the rate before
//! by `patterns::diff`'s test: G ≥ 10.83 and at least 2×) first, then the
//! problem-like ones (a line at error or worse, or a failure marker in the
//! template), then the most frequent. The selected template's events are
//! found again in the log buffer by looking their messages up in the miner
//! (the template a message belongs to *now*, after the template
//! generalised), so no per-line state is kept. `s` makes a
//! `[[signature]]` of the selected template (`patterns::suggest`), which the
//! runtime writes under the data directory, never into shipped files.
//!
//! Pure state: no terminal, no I/O, no clock (the present is passed in);
//! `app` routes keys and messages here, `patterns_view` draws it.
//! Invariants: memory is bounded (the miner keeps at most
//! [`MAX_TEMPLATES`] templates, least recently seen evicted; at most
//! [`MAX_ROWS`] rows are built); the texts are the sanitised lines' own
//! (every line was sanitised when its message was built), cut for drawing.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::msg::LogLine;
use crate::{
    model::Level,
    parse::template::{Config, Histogram, Miner, Occurrence, TemplateId, message_start},
    patterns::{
        diff::significant,
        suggest::{Suggestion, suggest},
    },
    signature::problem::has_marker,
};

/// Templates the console's miner keeps (the least recently seen evicted):
/// far more than an incident's logs have, a few MB at most.
pub const MAX_TEMPLATES: usize = 2_000;
/// Rows built for the view.
pub const MAX_ROWS: usize = 500;
/// Cells of a row's sparkline.
pub const SPARK_CELLS: usize = 16;
/// Characters of a template's text kept in a row.
const MAX_TEXT: usize = 400;
/// While the view is open, rows are rebuilt at most this often as lines
/// arrive.
const REFRESH: SignedDuration = SignedDuration::from_secs(1);

/// What a template did since the incident opened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// First seen since.
    New,
    /// Its share of the events since is this many times its share before
    /// (significant by the G-test).
    Surge(f64),
    /// Neither, or no incident to compare with.
    Steady,
}

/// One row of the view.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternRow {
    /// The template's id (as `triage patterns` prints it).
    pub id: TemplateId,
    /// Its text (`<*>` for variable parts), cut.
    pub text: String,
    /// Events counted (since the console started).
    pub count: u64,
    /// The worst level of its lines.
    pub level: Option<Level>,
    /// First seen (time, `source:line`).
    pub first: (Option<Timestamp>, Arc<str>, u64),
    /// Last seen.
    pub last: Option<Timestamp>,
    /// Counts over the console's span, [`SPARK_CELLS`] cells, oldest first.
    pub spark: Vec<u32>,
    /// New, surging or steady since the incident opened.
    pub change: Change,
    /// A line at error or worse, or a failure marker in its text.
    pub problem: bool,
    /// A line of it, cut.
    pub sample: String,
}

/// The view's state and the miner behind it.
pub struct Patterns {
    miner: Miner,
    /// The view is open (drawn over the panes, keys go to it).
    pub open: bool,
    /// The selected row.
    pub cursor: usize,
    /// The rows, ranked (built when the view opens, then as lines arrive).
    pub rows: Vec<PatternRow>,
    /// What "new" is measured against: the incident's id and opening time.
    pub since: Option<(String, Timestamp)>,
    /// Events mined.
    pub events: u64,
    /// The earliest time of an event mined.
    earliest: Option<Timestamp>,
    /// When the rows were built.
    built: Option<Timestamp>,
}

impl Default for Patterns {
    fn default() -> Patterns {
        Patterns::new()
    }
}

impl Patterns {
    /// An empty view with a bounded miner.
    pub fn new() -> Patterns {
        let config = Config {
            max_templates: MAX_TEMPLATES,
            max_bytes: 16 * 1024 * 1024,
            ..Config::default()
        };
        Patterns {
            miner: Miner::new(config),
            open: false,
            cursor: 0,
            rows: Vec::new(),
            since: None,
            events: 0,
            earliest: None,
            built: None,
        }
    }

    /// Mines the first line of each event, from where its message starts
    /// (the parser's start when it found a prefix, as `triage patterns`
    /// mines, else the miner's own).
    pub fn add(&mut self, lines: &[LogLine]) {
        for line in lines {
            let start = start_of(line);
            self.miner.add(&Occurrence {
                line: &line.text,
                message: &line.text[start..],
                source: &line.source,
                line_no: line.line_no,
                offset: line.offset,
                ts: line.ts,
                level: line.level,
            });
            self.events += 1;
            if let Some(ts) = line.ts {
                self.earliest = Some(self.earliest.map_or(ts, |e| e.min(ts)));
            }
        }
    }

    fn lookup(&mut self, line: &LogLine) -> Option<&crate::parse::template::Template> {
        let start = start_of(line);
        self.miner.lookup(&line.text[start..])
    }

    /// The template `line` belongs to now, if the miner still keeps it.
    pub fn template_of(&mut self, line: &LogLine) -> Option<TemplateId> {
        self.lookup(line).map(|t| t.id())
    }

    /// The template `line` belongs to now, as `ID text` (the detail view).
    pub fn template_text_of(&mut self, line: &LogLine) -> Option<String> {
        self.lookup(line)
            .map(|t| format!("{} {}", t.id(), crate::patterns::cut(t.text(), MAX_TEXT)))
    }

    /// The events of `lines` whose template is `id`, in order.
    pub fn lines_of<'a>(
        &mut self,
        id: TemplateId,
        lines: impl Iterator<Item = &'a LogLine>,
    ) -> Vec<LogLine> {
        lines
            .filter(|l| self.template_of(l) == Some(id))
            .cloned()
            .collect()
    }

    /// A `[[signature]]` for the selected template (`patterns::suggest`:
    /// examples from its lines, non-matching ones from other templates'),
    /// with its id; `None` when it has no literal text to anchor on.
    pub fn suggestion(&self) -> Option<(TemplateId, Suggestion)> {
        let id = self.selected()?.id;
        let template = self.miner.find(id)?;
        let others = self
            .miner
            .templates()
            .filter(|t| t.id() != template.id())
            .flat_map(|t| t.examples().iter().map(|(line, _)| line.as_str()));
        suggest(template, others).map(|s| (template.id(), s))
    }

    /// The selected row.
    pub fn selected(&self) -> Option<&PatternRow> {
        self.rows.get(self.cursor)
    }

    /// Moves the selection by `by` rows (clamped).
    pub fn move_cursor(&mut self, by: isize) {
        let last = self.rows.len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize)
            .saturating_add(by)
            .clamp(0, last.max(0)) as usize;
    }

    /// Rebuilds the rows when open and the last build is older than a
    /// second (lines arriving).
    pub fn refresh_if_due(&mut self, since: Option<(String, Timestamp)>, now: Timestamp) {
        if self.open && self.built.is_none_or(|b| now.duration_since(b) >= REFRESH) {
            self.refresh(since, now);
        }
    }

    /// Rebuilds the rows against `since` (the shown incident), up to
    /// `now`, keeping the selection on the same template.
    pub fn refresh(&mut self, since: Option<(String, Timestamp)>, now: Timestamp) {
        let selected = self.selected().map(|r| r.id);
        self.since = since;
        self.built = Some(now);
        let cut_at = self.since.as_ref().map(|(_, at)| *at);
        let span = self.earliest.map(|from| (from, now.max(from)));
        // Events before and since the incident opened, over all templates.
        let (mut total_before, mut total_after) = (0u64, 0u64);
        if let Some(at) = cut_at {
            for t in self.miner.templates() {
                let (b, a) = split(t.histogram(), at);
                total_before += b;
                total_after += a;
            }
        }
        let mut rows: Vec<PatternRow> = self
            .miner
            .templates()
            .map(|t| {
                let change = match cut_at {
                    Some(at) if t.first().ts.is_some_and(|f| f >= at) => Change::New,
                    Some(at) => {
                        let (before, after) = split(t.histogram(), at);
                        let (changed, _) = significant(after, total_after, before, total_before);
                        let factor = (after as f64 / total_after.max(1) as f64)
                            / (before as f64 / total_before.max(1) as f64);
                        if changed && factor > 1.0 {
                            Change::Surge(factor)
                        } else {
                            Change::Steady
                        }
                    }
                    None => Change::Steady,
                };
                let level = t.levels().max();
                PatternRow {
                    id: t.id(),
                    text: crate::patterns::cut(t.text(), MAX_TEXT),
                    count: t.count(),
                    level,
                    first: (
                        t.first().ts,
                        Arc::clone(&t.first().source),
                        t.first().line_no,
                    ),
                    last: t.last().ts,
                    spark: span.map_or_else(Vec::new, |(from, to)| {
                        spread(t.histogram(), from, to, SPARK_CELLS)
                    }),
                    change,
                    problem: level.is_some_and(|l| l >= Level::Error) || has_marker(t.text()),
                    sample: t
                        .examples()
                        .first()
                        .map(|(line, _)| crate::patterns::cut(line, MAX_TEXT))
                        .unwrap_or_default(),
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            rank(a)
                .partial_cmp(&rank(b))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.first.cmp(&b.first))
        });
        rows.truncate(MAX_ROWS);
        self.rows = rows;
        self.cursor = selected
            .and_then(|id| self.rows.iter().position(|r| r.id == id))
            .unwrap_or(0);
    }
}

/// Where a line's message starts.
fn start_of(line: &LogLine) -> usize {
    match line.message {
        at if at > 0 && line.text.is_char_boundary(at) => at,
        _ => message_start(&line.text),
    }
}

/// The ranking key: new, then surging (most first), then steady; within
/// each, problem-like first, then the worst level, then the most events.
fn rank(row: &PatternRow) -> (u8, f64, bool, std::cmp::Reverse<Option<Level>>, u64) {
    let (kind, factor) = match row.change {
        Change::New => (0, 0.0),
        Change::Surge(f) => (1, -f),
        Change::Steady => (2, 0.0),
    };
    (
        kind,
        factor,
        !row.problem,
        std::cmp::Reverse(row.level),
        u64::MAX - row.count,
    )
}

/// A histogram's events in buckets starting before `at`, and the rest.
fn split(h: &Histogram, at: Timestamp) -> (u64, u64) {
    let Some(start) = h.start() else {
        return (0, 0);
    };
    let width = i64::from(h.width_minutes()) * 60;
    let (mut before, mut after) = (0u64, 0u64);
    for (i, &n) in h.counts().iter().enumerate() {
        let bucket = start.as_second() + i as i64 * width;
        if bucket + width <= at.as_second() {
            before += u64::from(n);
        } else {
            after += u64::from(n);
        }
    }
    (before, after)
}

/// A histogram's counts spread over `cells` equal spans of `from..=to` (a
/// bucket goes to the cell its start falls in).
fn spread(h: &Histogram, from: Timestamp, to: Timestamp, cells: usize) -> Vec<u32> {
    let mut out = vec![0u32; cells];
    let Some(start) = h.start() else {
        return out;
    };
    let width = i64::from(h.width_minutes()) * 60;
    let (from, to) = (from.as_second(), to.as_second());
    let span = (to - from).max(1);
    for (i, &n) in h.counts().iter().enumerate() {
        let at = (start.as_second() + i as i64 * width).clamp(from, to);
        let cell = (((at - from) as i128 * cells as i128) / (span as i128 + 1)) as usize;
        let cell = cell.min(cells - 1);
        out[cell] = out[cell].saturating_add(n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(source: &Arc<str>, n: u64, ts: Timestamp, level: Level, text: &str) -> LogLine {
        let mut l = LogLine::new(Arc::clone(source), n, n * 100, text);
        l.ts = Some(ts);
        l.level = Some(level);
        l
    }

    fn at(minute: i64) -> Timestamp {
        Timestamp::from_second(1_764_900_000 + minute * 60).expect("a time")
    }

    /// Two hours of steady traffic, then an incident at minute 120: a new
    /// error template and a template whose rate jumps.
    fn incident_log() -> Vec<LogLine> {
        let source: Arc<str> = Arc::from("app.log");
        let mut lines = Vec::new();
        let mut n = 0;
        for minute in 0..130 {
            for k in 0..10 {
                n += 1;
                lines.push(line(
                    &source,
                    n,
                    at(minute),
                    Level::Info,
                    &format!("2026-12-05 03:10:00 INFO GET /orders/{k} 200 in {n} ms"),
                ));
            }
            let retries = if minute >= 120 { 30 } else { 1 };
            for _ in 0..retries {
                n += 1;
                lines.push(line(
                    &source,
                    n,
                    at(minute),
                    Level::Warn,
                    &format!("2026-12-05 03:10:00 WARN retrying payment call attempt {n}"),
                ));
            }
            if minute >= 121 {
                n += 1;
                lines.push(line(
                    &source,
                    n,
                    at(minute),
                    Level::Error,
                    &format!(
                        "2026-12-05 03:10:00 ERROR connection to db-{} refused",
                        minute % 3
                    ),
                ));
            }
        }
        lines
    }

    #[test]
    fn new_and_surging_templates_rank_first_and_their_lines_are_found() {
        let lines = incident_log();
        let mut p = Patterns::new();
        p.add(&lines);
        p.open = true;
        p.refresh(Some(("INC-1".into(), at(120))), at(130));
        let texts: Vec<(&str, Change)> = p.rows.iter().map(|r| (&*r.text, r.change)).collect();
        assert_eq!(p.rows.len(), 3, "{texts:?}");
        assert_eq!(p.rows[0].text, "connection to db-<*> refused", "{texts:?}");
        assert_eq!(p.rows[0].change, Change::New);
        assert!(p.rows[0].problem);
        assert_eq!(p.rows[0].count, 9);
        assert_eq!(
            p.rows[0].first.2,
            lines
                .iter()
                .position(|l| l.level == Some(Level::Error))
                .expect("an error line") as u64
                + 1
        );
        assert_eq!(p.rows[1].text, "retrying payment call attempt <*>");
        // Its share: 30 of 41 events a minute since, 1 of 11 before.
        assert!(
            matches!(p.rows[1].change, Change::Surge(f) if (8.0..8.1).contains(&f)),
            "{texts:?}"
        );
        assert_eq!(p.rows[2].change, Change::Steady);
        assert_eq!(p.rows[2].count, 1300);
        // The sparkline of the new template is empty until its last cells.
        assert_eq!(p.rows[0].spark.iter().sum::<u32>(), 9);
        assert_eq!(p.rows[0].spark[0], 0);

        let id = p.rows[0].id;
        let found = p.lines_of(id, lines.iter());
        assert_eq!(found.len(), 9);
        assert!(found.iter().all(|l| l.text.contains("refused")));
    }

    #[test]
    fn without_an_incident_problem_like_templates_rank_first() {
        let lines = incident_log();
        let mut p = Patterns::new();
        p.add(&lines);
        p.refresh(None, at(130));
        assert!(p.rows.iter().all(|r| r.change == Change::Steady));
        assert!(p.rows[0].problem);
        assert_eq!(p.rows[1].count, 420, "then the worst level (warn)");
        assert_eq!(p.rows[2].count, 1300);
    }

    #[test]
    fn the_selection_stays_on_its_template_when_rows_are_rebuilt() {
        let lines = incident_log();
        let mut p = Patterns::new();
        p.add(&lines[..1000]);
        p.open = true;
        p.refresh(None, at(100));
        p.move_cursor(1);
        let chosen = p.selected().map(|r| r.id);
        p.add(&lines[1000..]);
        p.refresh(Some(("INC-1".into(), at(120))), at(130));
        assert_eq!(p.selected().map(|r| r.id), chosen);
        p.move_cursor(-10);
        assert_eq!(p.cursor, 0);
        p.move_cursor(100);
        assert_eq!(p.cursor, p.rows.len() - 1);
    }

    #[test]
    fn memory_stays_bounded_on_all_unique_lines() {
        let source: Arc<str> = Arc::from("junk.log");
        let mut p = Patterns::new();
        for chunk in 0..50u64 {
            let lines: Vec<LogLine> = (0..1000u64)
                .map(|k| {
                    let n = chunk * 1000 + k;
                    let word: String = (0..8)
                        .map(|i| char::from(b'a' + ((n >> (i * 3)) % 26) as u8))
                        .collect();
                    line(
                        &source,
                        n,
                        at(0),
                        Level::Info,
                        &format!("{word} {word}x {word}y"),
                    )
                })
                .collect();
            p.add(&lines);
        }
        p.refresh(None, at(1));
        assert!(p.miner.len() <= MAX_TEMPLATES, "{}", p.miner.len());
        assert!(p.rows.len() <= MAX_ROWS);
        assert_eq!(p.events, 50_000);
    }
    /// Through the console's state and drawing: `P` opens the view over
    /// the panes, `j` selects, Enter shows the template's events in the log
    /// pane, any other key closes it.
    #[test]
    fn p_opens_the_view_and_enter_shows_the_templates_events() {
        use ratatui::{
            Terminal,
            backend::TestBackend,
            crossterm::event::{KeyCode, KeyEvent, KeyModifiers},
        };

        use crate::ui::{
            app::{App, LogMode},
            msg::Msg,
        };
        let lines = incident_log();
        let mut app = App::new(None, jiff::tz::TimeZone::UTC, "test".into(), at(130));
        app.on_msg(Msg::Lines(lines), at(130));
        let press = |app: &mut App, code: KeyCode| {
            app.on_key(KeyEvent::new(code, KeyModifiers::NONE), at(130))
        };
        press(&mut app, KeyCode::Char('P'));
        assert!(app.patterns.open);
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
        terminal
            .draw(|frame| crate::ui::view::draw(frame, &app))
            .expect("draw");
        let screen: String = terminal
            .backend()
            .buffer()
            .content()
            .chunks(100)
            .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
            .collect();
        assert!(
            screen.contains("Patterns · 3 templates, 1729 events"),
            "{screen}"
        );
        assert!(screen.contains("connection to db-<*> refused"), "{screen}");
        // No incident: the error template first, then the warning.
        press(&mut app, KeyCode::Char('j'));
        assert_eq!(
            app.patterns.selected().map(|r| r.text.as_str()),
            Some("retrying payment call attempt <*>")
        );
        press(&mut app, KeyCode::Enter);
        assert!(!app.patterns.open);
        assert!(matches!(&app.log.mode, LogMode::Pattern(t) if t.contains("retrying")));
        let rows = app.log_rows();
        assert_eq!(rows.len(), 420);
        assert!((0..rows.len()).all(|i| {
            rows.get(i)
                .is_some_and(|l| l.text.contains("WARN retrying"))
        }));
        press(&mut app, KeyCode::Char('P'));
        let effects = press(&mut app, KeyCode::Char('s'));
        let [crate::ui::app::Effect::Suggest { name, toml }] = effects.as_slice() else {
            panic!("{effects:?}");
        };
        assert!(
            name.starts_with("suggested-") && name.ends_with(".toml"),
            "{name}"
        );
        assert!(toml.starts_with("[[signature]]\n"), "{toml}");
        assert!(toml.contains("severity = \"low\""), "{toml}"); // warn lines
        assert!(app.patterns.open, "s leaves the view open");
        press(&mut app, KeyCode::Char('x'));
        assert!(!app.patterns.open, "any other key closes it");
    }

    /// Lines parsed as the console's feed parses them are mined from the
    /// parser's message start, so a Java logger's thread and class are not
    /// part of the template (as `triage patterns` mines them), also when
    /// sanitising changed the prefix's length.
    #[test]
    fn templates_start_where_the_parser_found_the_message() {
        use crate::{model::RawLine, parse::Parser, parse::TimeContext};
        let parser = Parser::new(
            Arc::from("app.log"),
            TimeContext::new(jiff::tz::TimeZone::UTC, at(0)),
        );
        let source: Arc<str> = Arc::from("app.log");
        let lines: Vec<LogLine> = [
            "2026-12-05 03:10:00,001 ERROR [http-nio-8080-exec-1] o.h.e.j.s.SqlExceptionHelper - Connection is not available, request timed out after 30000ms.",
            "2026-12-05 03:10:01,002 ERROR [http-nio-8080-exec-27] o.h.e.j.s.SqlExceptionHelper - Connection is not available, request timed out after 30004ms.",
            "2026-12-05 03:10:02,003 ERROR [worker\u{7}-3] o.h.e.j.s.SqlExceptionHelper - Connection is not available, request timed out after 30001ms.",
        ]
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let event = parser.event(RawLine {
                offset: i as u64 * 200,
                line_no: i as u64 + 1,
                bytes: text.as_bytes().to_vec(),
                truncated: false,
                partial: false,
            });
            LogLine::of_event(Arc::clone(&source), &event)
        })
        .collect();
        assert!(lines[2].text.contains("\\x07"), "{}", lines[2].text);
        for line in &lines {
            assert!(
                line.text[line.message..].starts_with("Connection is not"),
                "{line:?}"
            );
        }
        let mut p = Patterns::new();
        p.add(&lines);
        p.refresh(None, at(1));
        let texts: Vec<&str> = p.rows.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(
            texts,
            ["Connection is not available, request timed out after <*>."],
            "{texts:?}"
        );
    }
}
