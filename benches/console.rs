//! The console's pure state under load: the log pane's 20,000 buffered
//! events (its cap) filtered — a level floor, an exact level, a show regex,
//! all off — each followed by a redraw at 200×50 into ratatui's
//! `TestBackend`, as a key press in the console does. The bar is a
//! filter change with its redraw under 50 ms. `cargo bench --bench console`;
//! CI only compiles it.

use std::{hint::black_box, sync::Arc, time::Duration};

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{Timestamp, tz::TimeZone};
use ratatui::{
    Terminal,
    backend::TestBackend,
    crossterm::event::{KeyCode, KeyEvent, KeyModifiers},
};
use triage::{
    model::Level,
    ui::{
        app::{App, MAX_EVENTS},
        msg::{LogLine, Msg},
        view,
    },
};

/// A console holding `MAX_EVENTS` events of three sources over two hours,
/// one in twenty an error, one in ten a warning.
fn console(now: Timestamp) -> App {
    let mut app = App::new(None, TimeZone::UTC, "bench".into(), now);
    let sources: [Arc<str>; 3] = [
        Arc::from("api.log"),
        Arc::from("db.log"),
        Arc::from("lb.log"),
    ];
    let start = now.as_second() - 7_200;
    let lines: Vec<LogLine> = (0..MAX_EVENTS as u64)
        .map(|i| {
            let text = format!(
                "request {i} GET /api/orders/{} took {} ms upstream=10.0.{}.{}",
                i * 7 % 9973,
                i % 800,
                i % 7,
                i % 251
            );
            let mut line = LogLine::new(Arc::clone(&sources[i as usize % 3]), i + 1, i * 90, &text);
            line.ts = Timestamp::from_second(start + (i as i64 * 7_200) / MAX_EVENTS as i64).ok();
            line.level = Some(match i % 20 {
                0 => Level::Error,
                1 | 2 => Level::Warn,
                _ => Level::Info,
            });
            line
        })
        .collect();
    app.on_msg(Msg::Lines(lines), now);
    // Focus the log pane.
    app.on_key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE), now);
    app
}

fn press(app: &mut App, c: char, now: Timestamp) {
    black_box(app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), now));
}

fn draw(terminal: &mut Terminal<TestBackend>, app: &App) {
    terminal.draw(|f| view::draw(f, app)).expect("draw");
}

fn bench(c: &mut Criterion) {
    let now: Timestamp = "2026-11-21T05:00:00Z".parse().expect("time");
    let mut app = console(now);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    let mut group = c.benchmark_group("console_20k");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("redraw", |b| b.iter(|| draw(&mut terminal, &app)));
    // Each press refilters all 20,000 events, then the pane is redrawn:
    // L cycles five level floors; O on an error is exactly that level, and
    // again every level; F switches a show regex off and on.
    for (name, key) in [
        ("level_floor_and_redraw", 'L'),
        ("exact_level_and_redraw", 'O'),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                press(&mut app, key, now);
                draw(&mut terminal, &app);
            });
        });
    }
    press(&mut app, '=', now);
    press(&mut app, '+', now);
    for c in "orders/1[0-9]".chars() {
        press(&mut app, c, now);
    }
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), now);
    group.bench_function("regex_filter_toggle_and_redraw", |b| {
        b.iter(|| {
            press(&mut app, 'F', now);
            draw(&mut terminal, &app);
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
