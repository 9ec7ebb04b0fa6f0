//! Tests of the console without a terminal: keys and messages applied to
//! the state, panes rendered into `TestBackend` at a fixed size and clock,
//! hostile log lines, and the journal side on a temporary data directory.

use std::sync::Arc;

use jiff::{Timestamp, tz::TimeZone};
use ratatui::{
    Terminal,
    backend::TestBackend,
    buffer::Buffer,
    crossterm::event::{KeyCode, KeyEvent, KeyModifiers},
};

use super::{
    app::{App, Effect, LogMode, MAX_EVENTS, Pane},
    msg::{AlertInfo, IncidentView, LogLine, Msg, TimelineRow, Write},
};
use crate::{
    incident::Op,
    incident::state::{Status, StepProgress, StepState},
    library::Library,
    model::{Level, Severity},
};

fn ts(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

fn now() -> Timestamp {
    ts("2026-11-21T03:10:00Z")
}

fn library() -> Arc<Library> {
    Arc::new(Library::load(&[], &[]).0)
}

fn app() -> App {
    App::new(Some(library()), TimeZone::UTC, "test".into(), now())
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.on_key(key(code), now())
}

/// What a confirmed write to the latest open incident looks like.
fn wrote(op: Op) -> Vec<Effect> {
    vec![Effect::Op(Write { op, incident: None })]
}

/// Presses `code`, checks that it only asks, then confirms with `y`.
fn confirmed(app: &mut App, code: KeyCode) -> Vec<Effect> {
    assert_eq!(press(app, code), Vec::new(), "{code:?} asks first");
    assert!(app.pending.is_some(), "{code:?} waits for y");
    let screen = text_of(&render(app, 80, 24));
    assert!(screen.contains("y: write"), "{screen}");
    press(app, KeyCode::Char('y'))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn line(source: &str, offset: u64, at: Option<&str>, text: &str) -> LogLine {
    let mut line = LogLine::new(Arc::from(source), offset + 1, offset, text);
    line.ts = at.map(ts);
    line.level = Some(Level::Info);
    line
}

/// The signature `postgres-connection-slots-exhausted` fires with its
/// runbook, on the line at `offset`.
fn alert(offset: u64, at: &str) -> AlertInfo {
    AlertInfo {
        signature: Arc::from("postgres-connection-slots-exhausted"),
        title: "PostgreSQL connection slots exhausted".into(),
        severity: Severity::Critical,
        key: String::new(),
        at: ts(at),
        runbook: Some("postgres-connections".into()),
        captures: Vec::new(),
        hits: 1,
        evidence: line(
            "postgresql.log",
            offset,
            Some(at),
            "FATAL:  sorry, too many clients already",
        ),
        backfill: false,
    }
}

fn render(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| super::view::draw(frame, app))
        .expect("draw");
    terminal.backend().buffer().clone()
}

fn text_of(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        for x in 0..area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn keys_move_focus_open_help_and_quit() {
    let mut app = app();
    assert_eq!(app.focus, Pane::Alerts);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Log);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, Pane::Timeline);
    press(&mut app, KeyCode::Char('3'));
    assert_eq!(app.focus, Pane::Runbook);
    press(&mut app, KeyCode::Char('?'));
    assert!(app.help);
    assert!(
        press(&mut app, KeyCode::Char('q')).is_empty(),
        "a key closes help"
    );
    assert!(!app.help);
    assert_eq!(press(&mut app, KeyCode::Char('q')), vec![Effect::Quit]);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(
        app.on_key(ctrl_c, now()),
        vec![Effect::Quit],
        "even in a prompt"
    );
}

/// The events of `text` as the first screen reads them: the file's end
/// through `tail::read::read_tail` and the parser's source reader.
fn tail_lines(dir: &std::path::Path, name: &str, text: &str, window: u64) -> Vec<LogLine> {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    let tail = crate::tail::read::read_tail(&path, window)
        .expect("read")
        .expect("plain");
    let source: Arc<str> = Arc::from(path.display().to_string());
    let config = crate::config::Config::default();
    let read_as = config.read_as(Some(&path), &TimeZone::UTC);
    let mut lines = Vec::new();
    super::feed::tail_events(&tail, &read_as, source, 1 << 20, now(), &mut |event| {
        lines.push(LogLine::of_event(Arc::from(name), &event));
    });
    lines
}

#[test]
fn lines_merge_by_time_and_stack_traces_are_one_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app();
    // The window starts inside an earlier trace: its last line is cut off,
    // the rest comes as the parser assembles it.
    let text = "2026-11-21 03:00:00,000 ERROR old\n\tat com.example.Old.run(Old.java:1)\n\
                2026-11-21 03:00:02,000 ERROR boom\n\
                \tat com.example.Orders.place(Orders.java:42)\n\
                Caused by: java.sql.SQLException\n";
    let window = (text.len() - text.find("java:1)").expect("cut")) as u64;
    let lines = tail_lines(dir.path(), "app.log", text, window);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].text, "2026-11-21 03:00:02,000 ERROR boom");
    assert_eq!(
        lines[0].line_no, 0,
        "line numbers of a file's end are unknown"
    );
    app.on_msg(Msg::Tail(lines), now());
    app.on_msg(
        Msg::Lines(vec![line(
            "db.log",
            0,
            Some("2026-11-21T03:00:01Z"),
            "LOG: checkpoint",
        )]),
        now(),
    );
    let rows = app.log_rows();
    assert_eq!(rows.len(), 2, "the trace joined its first line");
    assert_eq!(
        rows.get(0).map(|l| l.text.as_str()),
        Some("LOG: checkpoint")
    );
    let first = rows.get(1).expect("the app event");
    assert_eq!(first.more.len(), 2);
    assert!(
        first.more[0].starts_with("    at com.example"),
        "tab made spaces"
    );
    assert!(!app.is_expanded(first));
    app.focus = Pane::Log;
    app.log.cursor = 1;
    press(&mut app, KeyCode::Char(' '));
    let first = app.log_rows().get(1).expect("event").clone();
    assert!(app.is_expanded(&first));
    let screen = text_of(&render(&app, 80, 24));
    assert!(
        screen.contains("Caused by: java.sql.SQLException"),
        "{screen}"
    );
    press(&mut app, KeyCode::Char(' '));
    assert!(!app.is_expanded(&first));
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("[+2 lines]"), "{screen}");
}

#[test]
fn the_buffer_stays_bounded() {
    let mut app = app();
    for batch in 0..3 {
        let lines = (0..MAX_EVENTS as u64 / 2)
            .map(|i| {
                let n = batch * MAX_EVENTS as u64 + i;
                line("big.log", n * 10, Some("2026-11-21T03:00:00Z"), "x")
            })
            .collect();
        app.on_msg(Msg::Lines(lines), now());
    }
    assert_eq!(app.log_rows().len(), MAX_EVENTS);
    assert!(app.log.follow);
    assert_eq!(app.log.cursor, MAX_EVENTS - 1, "following: the newest");
}

#[test]
fn search_filters_loaded_lines_and_n_walks_the_hits() {
    let mut app = app();
    app.on_msg(
        Msg::Lines(vec![
            line(
                "a.log",
                0,
                Some("2026-11-21T03:00:01Z"),
                "GET /api/orders 200",
            ),
            line("a.log", 30, Some("2026-11-21T03:00:02Z"), "GET /static 200"),
            line(
                "a.log",
                60,
                Some("2026-11-21T03:00:03Z"),
                "POST /api/orders 504",
            ),
            line("a.log", 90, Some("2026-11-21T03:00:04Z"), "GET /health 200"),
        ]),
        now(),
    );
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "ORDERS");
    assert_eq!(press(&mut app, KeyCode::Enter), Vec::new());
    assert_eq!(app.log.mode, LogMode::Search("ORDERS".into()));
    assert_eq!(app.focus, Pane::Log);
    assert_eq!(app.log_rows().len(), 2);
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("2 hits for `ORDERS`"), "{screen}");
    // Enter on a hit opens its detail view, Enter there goes to it in the
    // live log; n and N walk the hits.
    press(&mut app, KeyCode::Char('k'));
    press(&mut app, KeyCode::Enter);
    assert!(app.detail.is_some());
    let screen = text_of(&render(&app, 80, 24));
    assert!(
        screen.contains("a.log:1"),
        "source:line in the detail: {screen}"
    );
    assert!(
        screen.contains("2026-11-21 03:00:01"),
        "a date in the detail: {screen}"
    );
    press(&mut app, KeyCode::Enter);
    assert!(app.detail.is_none());
    assert_eq!(app.log.mode, LogMode::Live);
    assert_eq!(app.log.cursor, 0);
    assert!(!app.log.follow);
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(app.log.cursor, 2);
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(app.log.cursor, 2, "no later hit");
    press(&mut app, KeyCode::Char('N'));
    assert_eq!(app.log.cursor, 0);
    // Follow goes back to the newest line.
    press(&mut app, KeyCode::Char('f'));
    assert!(app.log.follow);
    assert_eq!(app.log.cursor, 3);
    press(&mut app, KeyCode::Char('f'));
    assert!(!app.log.follow);
    // The prompt opens empty, the last query one Up away; a new line
    // arriving while searching is a hit when it matches.
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(
        app.prompt.as_ref().map(|p| p.line.text()),
        Some(String::new())
    );
    press(&mut app, KeyCode::Up);
    assert_eq!(
        app.prompt.as_ref().map(|p| p.line.text()),
        Some("ORDERS".into())
    );
    press(&mut app, KeyCode::Enter);
    app.on_msg(
        Msg::Lines(vec![line(
            "a.log",
            120,
            Some("2026-11-21T03:00:05Z"),
            "GET /api/orders/7 200",
        )]),
        now(),
    );
    assert_eq!(app.log_rows().len(), 3);
}

#[test]
fn jump_to_time_goes_to_the_first_line_at_or_after_it() {
    let mut app = app();
    app.on_msg(
        Msg::Lines(
            (0..10)
                .map(|i| {
                    line(
                        "a.log",
                        i * 10,
                        Some(&format!("2026-11-21T03:0{i}:00Z")),
                        "x",
                    )
                })
                .collect(),
        ),
        now(),
    );
    press(&mut app, KeyCode::Char('t'));
    typed(&mut app, "03:04:30");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.log.cursor, 5);
    assert!(!app.log.follow);
    press(&mut app, KeyCode::Char('t'));
    typed(&mut app, "soon");
    press(&mut app, KeyCode::Enter);
    assert!(
        app.message
            .as_ref()
            .is_some_and(|(m, error)| *error && m.contains("not a time"))
    );
}

#[test]
fn alerts_most_severe_firing_first_with_evidence_in_context() {
    let mut app = app();
    let lines: Vec<LogLine> = (0..10)
        .map(|i| {
            line(
                "postgresql.log",
                i * 100,
                Some("2026-11-21T03:06:00Z"),
                &format!("line {i}"),
            )
        })
        .collect();
    app.on_msg(Msg::Lines(lines), now());
    app.on_msg(
        Msg::Alert(Box::new(alert(500, "2026-11-21T03:06:00Z"))),
        now(),
    );
    let mut other = alert(0, "2026-11-21T03:07:00Z");
    other.signature = Arc::from("http-5xx");
    other.runbook = Some("http-5xx".into());
    other.severity = Severity::Medium;
    other.key = "status=504".into();
    other.hits = 334;
    other.evidence.source = Arc::from("nginx.log");
    app.on_msg(Msg::Alert(Box::new(other.clone())), now());
    assert_eq!(
        &*app.alerts.rows[0].info.signature, "postgres-connection-slots-exhausted",
        "the critical alert first, though older"
    );
    assert_eq!(
        app.alerts.cursor, 0,
        "the selection is the most severe firing"
    );
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(
        &*app.selected_alert().expect("alert").info.signature,
        "http-5xx"
    );
    other.evidence.source = Arc::from("api.log");
    other.hits = 1;
    app.on_msg(Msg::Alert(Box::new(other)), now());
    assert_eq!(
        app.alerts.rows[1].fired, 2,
        "same signature and key: one row"
    );
    assert_eq!(app.alerts.rows[1].lines, 335, "lines counted, not alerts");
    assert_eq!(app.alerts.rows[1].sources.len(), 2);
    assert_eq!(
        &*app.selected_alert().expect("alert").info.signature,
        "http-5xx",
        "the selection stays on the alert being read"
    );
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains(" 335/2"), "{screen}");
    app.on_msg(
        Msg::Cleared {
            signature: Arc::from("postgres-connection-slots-exhausted"),
            key: String::new(),
            at: ts("2026-11-21T03:09:00Z"),
        },
        now(),
    );
    assert_eq!(
        &*app.alerts.rows[0].info.signature, "http-5xx",
        "firing before cleared"
    );
    assert!(app.alerts.rows[1].cleared.is_some());
    app.alerts.cursor = 1;
    // Evidence: the line that fired with three lines of context each side.
    press(&mut app, KeyCode::Enter);
    assert!(matches!(app.log.mode, LogMode::Evidence(_)));
    let rows = app.log_rows();
    let texts: Vec<&str> = (0..rows.len())
        .filter_map(|i| rows.get(i))
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "line 2", "line 3", "line 4", "line 5", "line 6", "line 7", "line 8"
        ]
    );
    assert_eq!(rows.get(app.log.cursor).map(|l| l.offset), Some(500));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.log.mode, LogMode::Live);
}

#[test]
fn runbook_keys_record_steps_and_copy_commands() {
    let mut app = app();
    // No alert: nothing to record, and the console says why.
    app.focus = Pane::Runbook;
    assert!(press(&mut app, KeyCode::Char('d')).is_empty());
    assert!(app.message.as_ref().is_some_and(|(_, error)| *error));
    app.on_msg(
        Msg::Alert(Box::new(alert(0, "2026-11-21T03:06:00Z"))),
        now(),
    );
    let book = app.selected_runbook().expect("runbook").id.clone();
    let steps: Vec<String> = app
        .selected_runbook()
        .expect("runbook")
        .steps
        .iter()
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(
        app.on_key(
            KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL),
            now()
        ),
        Vec::new(),
        "Ctrl-D is not d"
    );
    assert!(app.pending.is_none());
    assert!(app.runbook.cursor > 0, "Ctrl-D paged down");
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('d'));
    assert!(
        press(&mut app, KeyCode::Char('n')).is_empty(),
        "any other key cancels"
    );
    assert!(app.pending.is_none());
    assert!(
        app.message
            .as_ref()
            .is_some_and(|(m, _)| m.starts_with("not written"))
    );
    assert_eq!(
        confirmed(&mut app, KeyCode::Char('d')),
        wrote(Op::Step {
            runbook: book.clone(),
            step: steps[0].clone(),
            outcome: StepState::Done,
            note: None,
            at: None,
        })
    );
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('X'));
    typed(&mut app, "not our cluster");
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        wrote(Op::Step {
            runbook: book.clone(),
            step: steps[1].clone(),
            outcome: StepState::Skipped,
            note: Some("not our cluster".into()),
            at: None,
        }),
        "typed and sent with Enter: no second question"
    );
    let copied = press(&mut app, KeyCode::Char('c'));
    let [Effect::Copy(command)] = copied.as_slice() else {
        panic!("expected a copy: {copied:?}");
    };
    assert!(
        command.starts_with("psql -X -U postgres -c 'select "),
        "{command}"
    );
    // Incident keys.
    assert_eq!(
        app.on_key(
            KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL),
            now()
        ),
        Vec::new(),
        "Ctrl-A is not ack"
    );
    assert!(app.pending.is_none());
    assert_eq!(
        confirmed(&mut app, KeyCode::Char('a')),
        wrote(Op::Ack { at: None })
    );
    press(&mut app, KeyCode::Char('v'));
    assert_eq!(
        confirmed(&mut app, KeyCode::Char('h')),
        wrote(Op::Severity {
            to: Severity::High,
            at: None
        })
    );
    press(&mut app, KeyCode::Char('u'));
    assert!(
        press(&mut app, KeyCode::Char('z')).is_empty(),
        "not a choice"
    );
    assert_eq!(
        confirmed(&mut app, KeyCode::Char('m')),
        wrote(Op::Status {
            to: Status::Mitigated,
            note: None,
            at: None
        })
    );
    press(&mut app, KeyCode::Char('i'));
    typed(&mut app, "failing over");
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        wrote(Op::Note {
            text: "failing over".into(),
            at: None
        })
    );
    // `!` asks for a title, then a severity, then y.
    press(&mut app, KeyCode::Char('!'));
    typed(&mut app, "checkout down");
    press(&mut app, KeyCode::Enter);
    assert!(app.pending.is_none() && app.prompt.is_some());
    assert_eq!(
        confirmed(&mut app, KeyCode::Char('c')),
        wrote(Op::Declare {
            title: Some("checkout down".into()),
            severity: Some(Severity::Critical),
            at: None,
        })
    );
}

fn incident(steps: Vec<StepProgress>) -> IncidentView {
    IncidentView {
        id: "INC-1".into(),
        title: "PostgreSQL connection slots exhausted".into(),
        severity: Severity::Critical,
        status: Status::Investigating,
        opened_at: ts("2026-11-21T03:06:00Z"),
        steps,
        rows: vec![
            TimelineRow {
                seq: 1,
                at: ts("2026-11-21T03:06:00Z"),
                actor: "triage".into(),
                kind: "incident.opened",
                summary: "Incident opened".into(),
                pinned: false,
            },
            TimelineRow {
                seq: 4,
                at: ts("2026-11-21T03:07:30Z"),
                actor: "alice".into(),
                kind: "step.done",
                summary: "Step done: who holds the slots".into(),
                pinned: true,
            },
        ],
    }
}

#[test]
fn the_whole_console_at_80_by_24() {
    let mut app = app();
    app.clock = Some(ts("2026-11-21T03:08:00Z"));
    app.on_msg(
        Msg::Lines(vec![line(
            "postgresql.log",
            0,
            Some("2026-11-21T03:06:00Z"),
            "FATAL:  sorry, too many clients already",
        )]),
        now(),
    );
    app.on_msg(
        Msg::Alert(Box::new(alert(0, "2026-11-21T03:06:00Z"))),
        now(),
    );
    let book = app.selected_runbook().expect("runbook").id.clone();
    let step = app.selected_runbook().expect("runbook").steps[0].id.clone();
    app.on_msg(
        Msg::Incidents(vec![
            (incident(vec![StepProgress {
                runbook: book,
                step,
                state: StepState::Done,
                actor: "alice".into(),
                seq: 4,
                note: None,
                updates: 1,
            }])),
        ]),
        now(),
    );
    app.on_msg(
        Msg::Stats(super::msg::Stats {
            files: 5,
            lines: 10,
            index_lag: None,
        }),
        now(),
    );
    let buffer = render(&app, 80, 24);
    let screen = text_of(&buffer);
    let rows: Vec<&str> = screen.lines().collect();
    assert_eq!(rows.len(), 24);
    assert!(
        rows[0].contains("triage") && rows[0].contains("log time 03:08:00 UTC"),
        "{screen}"
    );
    assert!(rows[1].contains("1 Alerts (1)"), "{screen}");
    assert!(
        rows[2].contains("CRIT    1        █   postgres-connecti"),
        "{screen}"
    );
    assert!(rows[1].contains("3 Runbook"), "{screen}");
    assert!(
        screen.contains("[✓] 1."),
        "the done step is ticked:\n{screen}"
    );
    assert!(screen.contains("$ psql -X -U postgres -c"), "{screen}");
    assert!(
        screen.contains("2 Log · live, following · 1 events"),
        "{screen}"
    );
    assert!(
        screen.contains("4 Timeline INC-1 · critical · investigating"),
        "{screen}"
    );
    assert!(screen.contains("★#4   03:07:30 alice"), "{screen}");
    assert!(
        rows[23].starts_with(" 5 files · 0 lines/s · no index · follow"),
        "{screen}"
    );
    // The severity colour of the alert.
    let crit = rows[2].find("CRIT").expect("CRIT");
    let x = rows[2][..crit].chars().count() as u16;
    assert_eq!(buffer[(x, 2)].fg, ratatui::style::Color::Magenta);
    // The help overlay lists every key, even at this size.
    press(&mut app, KeyCode::Char('?'));
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("any other key closes"), "{screen}");
    assert!(screen.contains("quit"), "{screen}");
    press(&mut app, KeyCode::Char('G'));
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("pin / unpin"), "{screen}");
    assert!(screen.contains("earlier answers"), "{screen}");
    assert!(app.help, "scrolling keeps it open");
    // And larger screens, and tiny ones, draw without panicking.
    press(&mut app, KeyCode::Char('?'));
    assert!(!app.help);
    for (w, h) in [(200, 60), (120, 40), (40, 10), (1, 1)] {
        render(&app, w, h);
    }
}

#[test]
fn empty_console_says_what_will_appear() {
    let app = app();
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("No alert yet."), "{screen}");
    assert!(screen.contains("Waiting for log lines…"), "{screen}");
    assert!(screen.contains("No incident."), "{screen}");
}

#[test]
fn hostile_log_lines_reach_the_screen_as_visible_text() {
    let hostile = [
        "csi \x1b[2J\x1b[H cleared?",
        "osc \x1b]0;pwned\x07 title",
        "osc52 \x1b]52;c;cm0gLXJmIC8=\x07 clipboard",
        "cr\roverwrite",
        "back\x08\x08space",
        "bidi user\u{202E}gnp.exe \u{2066}isolate\u{2069}",
        "zero\u{200B}width\u{FEFF}bom",
        "wide 注文注文注文 🚀 \u{FDFD}",
        "zalgo a\u{301}\u{302}\u{303}\u{304}\u{305}",
        "c1 \u{9b}31m",
    ];
    let mut app = app();
    let lines = hostile
        .iter()
        .enumerate()
        .map(|(i, text)| {
            line(
                "evil.log",
                i as u64 * 100,
                Some("2026-11-21T03:00:00Z"),
                text,
            )
        })
        .collect();
    app.on_msg(Msg::Lines(lines), now());
    app.focus = Pane::Log;
    let buffer = render(&app, 100, 40);
    for cell in buffer.content() {
        for c in cell.symbol().chars() {
            assert!(
                !c.is_control()
                    && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}' | '\u{FEFF}' | '\u{FDFD}'),
                "{c:?} reached the screen"
            );
        }
    }
    let screen = text_of(&buffer);
    for visible in [
        "csi \\x1b[2J\\x1b[H cleared?",
        "\\x1b]0;pwned\\x07",
        "cr\\x0doverwrite",
        "back\\x08\\x08space",
        "user\\u{202e}gnp.exe",
        "zero\\u{200b}width\\u{feff}bom",
        "\\u{fdfd}",
        "\\u{0303}",
        "c1 \\x9b31m",
    ] {
        assert!(screen.contains(visible), "{visible} not shown:\n{screen}");
    }
    assert!(screen.contains("注"), "wide characters are drawn");
}

#[test]
fn operator_commands_go_through_the_journal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = super::journal::JournalOptions {
        data_dir: dir.path().to_path_buf(),
        pattern_dirs: Vec::new(),
        runbook_dirs: Vec::new(),
        zone: TimeZone::UTC,
        attached: false,
        actor: Some("alice".into()),
        relative_to: None,
    };
    let request = |op: Op| super::journal::Request {
        write: Write { op, incident: None },
        library: Some(library()),
        at: None,
    };
    let fallback = std::cell::OnceCell::new();
    let mut journal = crate::incident::Journal::open(dir.path()).expect("journal");
    let refused = super::journal::execute(
        &options,
        &mut journal,
        &fallback,
        request(Op::Ack { at: None }),
    );
    assert_eq!(
        refused,
        Err("no open incident: press ! to declare one".into())
    );
    let declared = super::journal::execute(
        &options,
        &mut journal,
        &fallback,
        request(Op::Declare {
            title: Some("checkout down".into()),
            severity: Some(Severity::Critical),
            at: None,
        }),
    )
    .expect("declare");
    assert_eq!(
        declared,
        "INC-1 #1 Incident declared: checkout down (+1 more)"
    );
    let done = super::journal::execute(
        &options,
        &mut journal,
        &fallback,
        request(Op::Step {
            runbook: "postgres-connections".into(),
            step: "who-holds-slots".into(),
            outcome: StepState::Done,
            note: Some("reporting job".into()),
            at: None,
        }),
    )
    .expect("step");
    assert!(done.starts_with("INC-1 #3 Step done:"), "{done}");
    // A second incident; writes go to the one named.
    super::journal::execute(
        &options,
        &mut journal,
        &fallback,
        request(Op::Declare {
            title: Some("search slow".into()),
            severity: Some(Severity::Low),
            at: None,
        }),
    )
    .expect("declare");
    let noted = super::journal::execute(
        &options,
        &mut journal,
        &fallback,
        super::journal::Request {
            write: Write {
                op: Op::Note {
                    text: "still on checkout".into(),
                    at: None,
                },
                incident: Some("INC-1".into()),
            },
            library: None,
            at: None,
        },
    )
    .expect("note");
    assert!(noted.starts_with("INC-1 #6 still on checkout"), "{noted}");
    let journal = crate::incident::Journal::open(dir.path()).expect("journal");
    let views = super::journal::incident_views(journal.timeline());
    assert_eq!(
        views.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(),
        ["INC-2", "INC-1"],
        "open incidents, latest first"
    );
    let view = &views[1];
    assert_eq!(view.title, "checkout down");
    assert_eq!(view.severity, Severity::Critical);
    assert_eq!(view.steps.len(), 1);
    assert_eq!(view.steps[0].state, StepState::Done);
    assert_eq!(view.steps[0].actor, "alice");
    assert_eq!(view.rows.last().map(|r| r.kind), Some("note"));
    let mut journal = journal;
    let unknown = super::journal::execute(
        &options,
        &mut journal,
        &fallback,
        request(Op::Step {
            runbook: "postgres-connections".into(),
            step: "nope".into(),
            outcome: StepState::Started,
            note: None,
            at: None,
        }),
    );
    assert!(unknown.is_err_and(|e| e.contains("has no step `nope`")));
    // The console shows the latest open incident and switches with I; keys
    // write to the one shown.
    let mut app = app();
    app.on_msg(Msg::Incidents(views), now());
    assert_eq!(
        app.timeline.incident.as_ref().map(|i| i.id.as_str()),
        Some("INC-2")
    );
    press(&mut app, KeyCode::Char('I'));
    assert_eq!(
        app.timeline.incident.as_ref().map(|i| i.id.as_str()),
        Some("INC-1")
    );
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("INC-1"), "{screen}");
    assert_eq!(
        confirmed(&mut app, KeyCode::Char('a')),
        vec![Effect::Op(Write {
            op: Op::Ack { at: None },
            incident: Some("INC-1".into()),
        })]
    );
    press(&mut app, KeyCode::Char('I'));
    assert_eq!(
        app.timeline.incident.as_ref().map(|i| i.id.as_str()),
        Some("INC-2")
    );
}

#[test]
fn a_command_goes_to_the_clipboard_base64_encoded() {
    assert_eq!(
        super::osc52("psql -c 'x'"),
        b"\x1b]52;c;cHNxbCAtYyAneCc=\x1b\\"
    );
    // Nothing of the text reaches the terminal as it is.
    let sequence = super::osc52("\x1b]0;pwned\x07");
    assert_eq!(sequence.iter().filter(|&&b| b == 0x1b).count(), 2);
    assert!(!sequence.contains(&0x07));
}

#[test]
fn the_first_screen_is_drawn_before_the_library_has_loaded() {
    let mut app = App::new(None, TimeZone::UTC, "test".into(), now());
    app.on_msg(
        Msg::Tail(vec![line(
            "app.log",
            0,
            Some("2026-11-21T03:00:01Z"),
            "the last line of the file",
        )]),
        now(),
    );
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("the last line of the file"), "{screen}");
    assert!(screen.contains("loading signatures"), "{screen}");
    // An alert from an attached watch's journal before the library: no
    // runbook yet, and nothing breaks.
    app.on_msg(
        Msg::Alert(Box::new(alert(0, "2026-11-21T03:00:01Z"))),
        now(),
    );
    assert!(app.selected_runbook().is_none());
    let _ = render(&app, 80, 24);
    let (library, diagnostics) = Library::load(&[], &[]);
    app.on_msg(
        Msg::Library(super::msg::Loaded {
            library: Arc::new(library),
            diagnostics: Arc::new(diagnostics),
        }),
        now(),
    );
    assert!(app.library().is_some());
    let screen = text_of(&render(&app, 80, 24));
    assert!(!screen.contains("loading signatures"), "{screen}");
    assert!(app.selected_runbook().is_some(), "the runbook once loaded");
}

#[test]
fn a_multi_line_event_is_one_unit_with_its_lines() {
    let event = crate::model::Event {
        source: Arc::from("app.log"),
        offset: 10,
        line_no: 3,
        ts: Some(ts("2026-11-21T03:00:02Z")),
        level: Some(Level::Error),
        message: 0,
        text: "ERROR boom\n\tat a.B.c(B.java:1)\nCaused by: \u{1b}[31mx".into(),
        lossy: false,
        truncated: false,
        partial: false,
        fields: crate::model::Fields::new(),
        lines: 3,
    };
    let line = LogLine::of_event(Arc::from("app.log"), &event);
    assert_eq!(line.text, "ERROR boom");
    assert_eq!(line.more.len(), 2);
    assert!(line.more[0].starts_with("    at a.B.c"), "{:?}", line.more);
    assert!(
        !line.more[1].contains('\u{1b}'),
        "sanitised: {:?}",
        line.more
    );
    assert_eq!((line.offset, line.line_no), (10, 3));
    // Its parsed fields, sanitised, for the detail view.
    let mut event = event;
    event.fields.push("status", "504");
    event.fields.push("path", "/api/\u{1b}]0;x\u{7}orders");
    let line = LogLine::of_event(Arc::from("app.log"), &event);
    assert_eq!(line.fields[0], ("status".to_owned(), "504".to_owned()));
    assert!(!line.fields[1].1.contains('\u{1b}'), "{:?}", line.fields);
    let mut app = app();
    app.on_msg(Msg::Lines(vec![line]), now());
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Enter);
    let screen = text_of(&render(&app, 120, 40));
    assert!(screen.contains("status 504"), "{screen}");
}

#[test]
fn the_pipeline_sink_sends_events_as_units_and_the_log_clock_only_on_it() {
    use crate::pipeline::Sink;
    let event = crate::model::Event {
        source: Arc::from("/logs/app.log"),
        offset: 0,
        line_no: 1,
        ts: Some(ts("2026-11-21T03:00:02Z")),
        level: Some(Level::Error),
        message: 0,
        text: "ERROR boom\n\tat a.B.c(B.java:1)".into(),
        lossy: false,
        truncated: false,
        partial: false,
        fields: crate::model::Fields::new(),
        lines: 2,
    };
    for log_clock in [false, true] {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let mut sink =
            super::feed::UiSink::new(tx, library(), Some(std::path::PathBuf::from("/logs")), true)
                .on_log_clock(log_clock);
        let at = ts("2026-11-21T03:00:02Z");
        let when = crate::model::Timing { time: Some(at), at };
        sink.event(&event, when, &[]).expect("event");
        sink.present(at);
        sink.flush(&crate::tail::checkpoint::Checkpoint::default(), false)
            .expect("flush");
        let msgs: Vec<Msg> = rx.try_iter().collect();
        let Some(Msg::Lines(lines)) = msgs.first() else {
            panic!("lines first: {msgs:?}");
        };
        assert_eq!(lines.len(), 1);
        assert_eq!(&*lines[0].source, "app.log");
        assert_eq!(lines[0].more.len(), 1);
        assert_eq!(
            msgs.iter().any(|m| *m == Msg::Clock(at)),
            log_clock,
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| matches!(m, Msg::Stats(s) if s.lines == 1))
        );
    }
}

#[test]
fn a_last_line_without_its_newline_is_left_to_the_follower() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = tail_lines(
        dir.path(),
        "app.log",
        "2026-11-21T03:00:00Z INFO one\n2026-11-21T03:00:01Z INFO two",
        1 << 16,
    );
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts,
        ["2026-11-21T03:00:00Z INFO one"],
        "the follower reads the unfinished line from the last boundary: shown once"
    );
}

#[test]
fn the_help_overlay_keeps_its_columns_apart() {
    let mut app = app();
    press(&mut app, KeyCode::Char('?'));
    let screen = text_of(&render(&app, 120, 80));
    assert!(!screen.contains("Shift-Tabprevious"), "{screen}");
    let row = screen
        .lines()
        .find(|l| l.contains("Shift-Tab"))
        .expect("Shift-Tab listed");
    assert!(
        row.contains("Shift-Tab  ") && row.contains("previous pane"),
        "{row}"
    );
    let row = screen
        .lines()
        .find(|l| l.contains("PgDn"))
        .expect("PgDn listed");
    assert!(row.contains("PgDn  Ctrl-F  Ctrl-D"), "{row}");
}

fn leveled(offset: u64, at: &str, level: Level, source: &str, text: &str) -> LogLine {
    let mut l = line(source, offset, Some(at), text);
    l.level = Some(level);
    l
}

fn mixed_log(app: &mut App) {
    app.on_msg(
        Msg::Lines(vec![
            leveled(
                0,
                "2026-11-21T03:00:00Z",
                Level::Info,
                "api.log",
                "GET /health 200",
            ),
            leveled(
                10,
                "2026-11-21T03:00:01Z",
                Level::Error,
                "db.log",
                "connection refused",
            ),
            leveled(
                20,
                "2026-11-21T03:00:02Z",
                Level::Warn,
                "api.log",
                "slow /orders",
            ),
            leveled(
                30,
                "2026-11-21T03:00:03Z",
                Level::Info,
                "api.log",
                "GET /orders 200",
            ),
            leveled(
                40,
                "2026-11-21T03:00:04Z",
                Level::Fatal,
                "db.log",
                "out of slots",
            ),
            leveled(
                50,
                "2026-11-21T03:00:05Z",
                Level::Info,
                "api.log",
                "GET /health 200",
            ),
        ]),
        now(),
    );
}

fn shown_texts(app: &App) -> Vec<String> {
    let rows = app.log_rows();
    (0..rows.len())
        .filter_map(|i| rows.get(i))
        .map(|l| l.text.clone())
        .collect()
}

#[test]
fn filters_errors_and_bookmarks_in_the_log_pane() {
    let mut app = app();
    mixed_log(&mut app);
    press(&mut app, KeyCode::Char('2'));
    // e / E: errors or worse.
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('e'));
    assert_eq!(app.log.cursor, 1);
    press(&mut app, KeyCode::Char('e'));
    assert_eq!(app.log.cursor, 4);
    press(&mut app, KeyCode::Char('e'));
    assert_eq!(app.log.cursor, 4, "no later error");
    press(&mut app, KeyCode::Char('E'));
    assert_eq!(app.log.cursor, 1);
    // Bookmarks.
    press(&mut app, KeyCode::Char('m'));
    press(&mut app, KeyCode::Char('G'));
    press(&mut app, KeyCode::Char('m'));
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('b'));
    assert_eq!(app.log.cursor, 1);
    press(&mut app, KeyCode::Char('b'));
    assert_eq!(app.log.cursor, 5);
    press(&mut app, KeyCode::Char('B'));
    assert_eq!(app.log.cursor, 1);
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("◆"), "{screen}");
    // Level at least warn.
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('L'));
    }
    assert_eq!(
        shown_texts(&app),
        ["connection refused", "slow /orders", "out of slots"]
    );
    assert_eq!(
        app.log_rows().get(app.log.cursor).map(|l| l.text.as_str()),
        Some("connection refused"),
        "the cursor stays on its event"
    );
    // Hide a regex; the status bar lists the filters.
    press(&mut app, KeyCode::Char('-'));
    typed(&mut app, "slow");
    press(&mut app, KeyCode::Enter);
    assert_eq!(shown_texts(&app), ["connection refused", "out of slots"]);
    let screen = text_of(&render(&app, 100, 24));
    assert!(screen.contains("filters: level≥warn -/slow/"), "{screen}");
    // New lines go through the filters.
    app.on_msg(
        Msg::Lines(vec![
            leveled(60, "2026-11-21T03:00:06Z", Level::Info, "api.log", "GET /"),
            leveled(70, "2026-11-21T03:00:07Z", Level::Error, "api.log", "panic"),
        ]),
        now(),
    );
    assert_eq!(
        shown_texts(&app),
        ["connection refused", "out of slots", "panic"]
    );
    // F switches them off (kept), F again on; = removes them.
    press(&mut app, KeyCode::Char('F'));
    assert_eq!(shown_texts(&app).len(), 8);
    press(&mut app, KeyCode::Char('F'));
    assert_eq!(shown_texts(&app).len(), 3);
    // Only one source, with a show filter stacked.
    press(&mut app, KeyCode::Char('='));
    assert_eq!(shown_texts(&app).len(), 8);
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('o'));
    press(&mut app, KeyCode::Char('+'));
    typed(&mut app, "orders|health");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        shown_texts(&app),
        [
            "GET /health 200",
            "slow /orders",
            "GET /orders 200",
            "GET /health 200"
        ]
    );
    press(&mut app, KeyCode::Char('+'));
    typed(&mut app, "([");
    press(&mut app, KeyCode::Enter);
    assert!(
        app.message
            .as_ref()
            .is_some_and(|(m, e)| *e && m.starts_with("not a regex")),
        "{:?}",
        app.message
    );
    for _ in 0..4 {
        press(&mut app, KeyCode::Char('L'));
    }
    assert_eq!(
        app.log.filters.level,
        Some(super::filter::LevelRule::AtLeast(Level::Error))
    );
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("No event passes the filters"), "{screen}");
}

#[test]
fn long_lines_wrap_scroll_sideways_and_open_whole() {
    let mut app = app();
    let long = format!(
        "kernel: Out of memory: Killed process 4242 (java) total-vm:8123456kB, anon-rss:623456kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:2048kB oom_score_adj:0 {}",
        "x".repeat(40)
    );
    app.on_msg(
        Msg::Lines(vec![leveled(
            0,
            "2026-11-21T03:00:00Z",
            Level::Error,
            "kern.log",
            &long,
        )]),
        now(),
    );
    press(&mut app, KeyCode::Char('2'));
    let screen = text_of(&render(&app, 80, 24));
    assert!(
        !screen.contains("oom_score_adj"),
        "cut without wrap: {screen}"
    );
    press(&mut app, KeyCode::Char('w'));
    let screen = text_of(&render(&app, 80, 24));
    let joined: String = screen
        .lines()
        .map(|l| l.trim_matches(|c| c == '│' || c == ' '))
        .collect();
    assert!(joined.contains("oom_score_adj:0"), "wrapped: {screen}");
    press(&mut app, KeyCode::Char('w'));
    for _ in 0..5 {
        press(&mut app, KeyCode::Right);
    }
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("oom_score_adj"), "scrolled: {screen}");
    assert!(!screen.contains("kernel: Out of memory"), "{screen}");
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Enter);
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("kern.log:1"), "{screen}");
    assert!(screen.contains("2026-11-21 03:00:00"), "{screen}");
    assert!(screen.contains("error"), "{screen}");
    press(&mut app, KeyCode::Esc);
    assert!(app.detail.is_none());
}

#[test]
fn dates_show_when_the_lines_span_days() {
    let mut app = app();
    app.on_msg(
        Msg::Lines(vec![
            leveled(
                0,
                "2005-06-12T10:00:00Z",
                Level::Info,
                "old.log",
                "from 2005",
            ),
            leveled(
                0,
                "2026-11-21T03:00:00Z",
                Level::Info,
                "new.log",
                "from 2026",
            ),
        ]),
        now(),
    );
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("2005-06-12 10:00:00"), "{screen}");
    assert!(screen.contains("2026-11-21 03:00:00"), "{screen}");
    let mut app = App::new(Some(library()), TimeZone::UTC, "t".into(), now());
    app.on_msg(
        Msg::Lines(vec![leveled(
            0,
            "2026-11-21T03:00:00Z",
            Level::Info,
            "new.log",
            "today",
        )]),
        now(),
    );
    let screen = text_of(&render(&app, 80, 24));
    assert!(!screen.contains("2026-11-21"), "{screen}");
}

#[test]
fn automatic_repeats_group_and_people_stay_visible() {
    let mut app = app();
    let mut view = incident(Vec::new());
    let auto = |seq: u64, kind: &'static str| TimelineRow {
        seq,
        at: ts("2026-11-21T03:06:30Z"),
        actor: "triage".into(),
        kind,
        summary: format!("{kind} {seq}"),
        pinned: false,
    };
    view.rows = vec![view.rows[0].clone()];
    for seq in 2..30 {
        view.rows.push(auto(seq, "signature.repeated"));
    }
    view.rows.push(TimelineRow {
        seq: 30,
        at: ts("2026-11-21T03:08:00Z"),
        actor: "alice".into(),
        kind: "note",
        summary: "failing over to the replica".into(),
        pinned: false,
    });
    view.rows.push(auto(31, "signature.repeated"));
    view.rows.push(auto(32, "signature.cleared"));
    app.on_msg(Msg::Incidents(vec![view]), now());
    let rows = app.timeline_rows();
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(rows[1].count, 28);
    assert_eq!(rows[1].row.seq, 29);
    assert_eq!(rows[2].row.actor, "alice");
    let screen = text_of(&render(&app, 80, 24));
    assert!(screen.contains("failing over to the replica"), "{screen}");
    assert!(screen.contains("×28"), "{screen}");
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('A'));
    assert_eq!(app.timeline_rows().len(), 32);
    assert_eq!(app.timeline.cursor, 31, "follows the newest");
    // Pinning asks first and names the event.
    press(&mut app, KeyCode::Char('p'));
    assert!(
        app.pending
            .as_ref()
            .is_some_and(|p| p.what.contains("pin #32")),
        "{:?}",
        app.pending
    );
}

#[test]
fn chords_outside_the_table_do_nothing() {
    let mut app = app();
    app.on_msg(
        Msg::Alert(Box::new(alert(0, "2026-11-21T03:06:00Z"))),
        now(),
    );
    for pane in ['1', '2', '3', '4'] {
        press(&mut app, KeyCode::Char(pane));
        for c in 'a'..='z' {
            for mods in [KeyModifiers::CONTROL, KeyModifiers::ALT] {
                if c == 'c' && mods == KeyModifiers::CONTROL {
                    continue;
                }
                let effects = app.on_key(KeyEvent::new(KeyCode::Char(c), mods), now());
                assert!(effects.is_empty(), "{mods:?}-{c}: {effects:?}");
                assert!(app.pending.is_none(), "{mods:?}-{c} asks to write");
                assert!(app.prompt.is_none(), "{mods:?}-{c} opened a prompt");
                assert!(!app.help);
            }
        }
    }
}

#[test]
fn exactly_one_level_then_every_level() {
    let mut app = app();
    mixed_log(&mut app);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('e'));
    let level = app.log_rows().get(app.log.cursor).and_then(|l| l.level);
    assert!(level.is_some_and(|l| l >= Level::Error), "{level:?}");
    press(&mut app, KeyCode::Char('O'));
    let rows = app.log_rows();
    assert!(!rows.is_empty());
    assert!(
        (0..rows.len()).all(|i| rows.get(i).and_then(|l| l.level) == level),
        "{:?}",
        shown_texts(&app)
    );
    let screen = text_of(&render(&app, 100, 24));
    assert!(screen.contains("filters: level=error"), "{screen}");
    press(&mut app, KeyCode::Char('O'));
    assert!(app.log.filters.is_empty());
    assert_eq!(shown_texts(&app).len(), 6);
}

#[test]
fn the_histogram_strip_counts_what_the_log_pane_shows() {
    let mut app = app();
    // Two hours of events, one every minute, errors in the last ten.
    let lines: Vec<LogLine> = (0..120u64)
        .map(|m| {
            let at = format!("2026-11-21T{:02}:{:02}:30Z", 1 + m / 60, m % 60);
            let level = if m >= 110 { Level::Error } else { Level::Info };
            leveled(m * 100, &at, level, "api.log", &format!("event {m}"))
        })
        .collect();
    app.on_msg(Msg::Lines(lines), now());
    // 200×50: the log pane has room for the strip; 120 minutes in the bars'
    // width (about 170 columns) give one bar a minute.
    let buffer = render(&app, 200, 50);
    let screen = text_of(&buffer);
    let strip = screen
        .lines()
        .find(|l| l.contains("/bar, peak"))
        .unwrap_or_else(|| panic!("no strip:\n{screen}"));
    assert!(
        strip.contains("01:00") && strip.contains("1m/bar, peak 1"),
        "{strip}"
    );
    assert_eq!(strip.matches('█').count(), 120, "{strip}");
    // Off with H; at 80×24 the pane is too small for it anyway.
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('H'));
    assert!(!text_of(&render(&app, 200, 50)).contains("/bar"));
    press(&mut app, KeyCode::Char('H'));
    assert!(!text_of(&render(&app, 80, 24)).contains("/bar"));
    // The last bars are red (errors), the first cyan.
    let y = screen
        .lines()
        .position(|l| l.contains("/bar, peak"))
        .expect("strip row") as u16;
    let bars: Vec<_> = (0..200u16)
        .map(|x| &buffer[(x, y)])
        .filter(|c| c.symbol() == "█")
        .collect();
    assert_eq!(
        bars.first().map(|c| c.fg),
        Some(ratatui::style::Color::Cyan)
    );
    assert_eq!(bars.last().map(|c| c.fg), Some(ratatui::style::Color::Red));
}

#[test]
fn the_detail_view_names_the_events_template() {
    let mut app = app();
    mixed_log(&mut app);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Enter);
    let template = app
        .detail
        .as_ref()
        .and_then(|d| d.template.clone())
        .expect("a template");
    let screen = text_of(&render(&app, 120, 40));
    assert!(screen.contains("template"), "{screen}");
    assert!(
        screen.contains(&template[..template.len().min(40)]),
        "{template}\n{screen}"
    );
}
