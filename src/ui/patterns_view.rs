//! Drawing the Patterns view (`P`): an overlay over the panes listing the
//! templates of the events the console read — what changed since the shown
//! incident opened (`new`, `×N` for a surge), count, worst level, first and
//! last seen, a sparkline over the console's span, the template — and, for
//! the selected one, its id, where it was first seen and a sample line.
//!
//! Reads the state only (`ui::patterns`); every text drawn was sanitised
//! when its line's message was built. Works from 80×24 up: columns are cut,
//! nothing wraps.

use jiff::{Timestamp, tz::TimeZone};
use ratatui::{
    Frame,
    layout::Rect,
    style::{Color, Modifier, Style},
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph},
};

use super::{
    app::App,
    patterns::{Change, PatternRow},
    view::centered,
};
use crate::model::Level;

/// Draws the view over `area`.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let view = &app.patterns;
    let width = area.width.saturating_sub(2).max(10);
    let height = area.height.saturating_sub(2).max(6);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let since = match &view.since {
        Some((id, at)) => format!("new/surging since {id} opened {}", clock(*at, &app.zone)),
        None => "no incident: problem-like first".to_owned(),
    };
    let title = format!(
        " Patterns · {} templates, {} events · {since} · Enter: its events ",
        view.rows.len(),
        view.events
    );
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(Style::new().fg(Color::Cyan))
        .title(Span::styled(
            title,
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let dim = Style::new().fg(Color::DarkGray);
    if view.rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("No event read yet.", dim)),
            inner,
        );
        return;
    }
    // Rows, then a rule and three lines about the selected template.
    let list_h = (inner.height as usize).saturating_sub(4).max(1);
    let start = window_start(view.cursor, view.rows.len(), list_h);
    let mut lines: Vec<Line<'_>> = Vec::with_capacity(inner.height as usize);
    for (i, row) in view.rows.iter().enumerate().skip(start).take(list_h) {
        let mut line = row_line(row, &app.zone);
        if i == view.cursor {
            line = line.style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    while lines.len() < list_h {
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled("─".repeat(inner.width as usize), dim));
    if let Some(row) = view.selected() {
        let (ts, source, line_no) = &row.first;
        let first = match ts {
            Some(ts) => format!("{} {source}:{line_no}", clock(*ts, &app.zone)),
            None => format!("{source}:{line_no}"),
        };
        lines.push(Line::from(vec![
            Span::styled("id       ", dim),
            Span::raw(row.id.to_string()),
            Span::styled("  first seen ", dim),
            Span::raw(first),
            Span::styled("  · s: suggest a signature", dim),
        ]));
        lines.push(Line::from(vec![
            Span::styled("template ", dim),
            Span::raw(row.text.clone()),
        ]));
        lines.push(Line::from(vec![
            Span::styled("sample   ", dim),
            Span::styled(row.sample.clone(), level_style(row.level)),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// One row: change, count, level, first → last, sparkline, template.
fn row_line<'a>(row: &'a PatternRow, zone: &TimeZone) -> Line<'a> {
    let (mark, mark_style) = match row.change {
        Change::New => (
            "new".to_owned(),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        Change::Surge(f) if f >= 100.0 => (">99×".to_owned(), Style::new().fg(Color::Yellow)),
        Change::Surge(f) => (format!("{f:.0}×"), Style::new().fg(Color::Yellow)),
        Change::Steady => (String::new(), Style::new()),
    };
    let times = format!(
        "{} → {}",
        row.first.0.map_or("--:--:--".into(), |t| clock(t, zone)),
        row.last.map_or("--:--:--".into(), |t| clock(t, zone)),
    );
    Line::from(vec![
        Span::styled(format!("{mark:<4} "), mark_style),
        Span::raw(format!("{:>7} ", short_count(row.count))),
        Span::styled(
            format!("{:<5} ", row.level.map_or("-", Level::as_str)),
            level_style(row.level),
        ),
        Span::styled(format!("{times}  "), Style::new().fg(Color::DarkGray)),
        Span::styled(
            format!(
                "{:<w$} ",
                crate::patterns::sparkline(&row.spark, row.spark.len()),
                w = row.spark.len()
            ),
            Style::new().fg(Color::Cyan),
        ),
        Span::styled(
            if row.problem { "! " } else { "  " },
            Style::new().fg(Color::Red),
        ),
        Span::styled(&*row.text, level_style(row.level)),
    ])
}

fn level_style(level: Option<Level>) -> Style {
    match level {
        Some(Level::Error | Level::Critical | Level::Fatal) => Style::new().fg(Color::Red),
        Some(Level::Warn) => Style::new().fg(Color::Yellow),
        Some(Level::Debug | Level::Trace) => Style::new().fg(Color::DarkGray),
        _ => Style::new(),
    }
}

fn clock(ts: Timestamp, zone: &TimeZone) -> String {
    ts.to_zoned(zone.clone()).strftime("%H:%M:%S").to_string()
}

fn short_count(n: u64) -> String {
    match n {
        0..10_000 => n.to_string(),
        10_000..10_000_000 => format!("{}k", n / 1000),
        _ => format!("{}M", n / 1_000_000),
    }
}

/// The first row to draw so that `cursor` is visible in `height` rows.
fn window_start(cursor: usize, len: usize, height: usize) -> usize {
    if height == 0 || len <= height {
        return 0;
    }
    cursor
        .saturating_sub(height / 2)
        .min(len.saturating_sub(height))
}
