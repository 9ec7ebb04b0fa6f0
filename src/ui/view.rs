//! Drawing the console: the title bar, the four panes (alerts, runbook, log,
//! timeline), the status bar, the prompt or the write waiting for `y`, and
//! the help and detail overlays.
//!
//! Reads the [`App`] only (`draw(&App)`); draws into any ratatui backend, so
//! tests render into `TestBackend` at a fixed size. Every text drawn from a
//! log or the journal was sanitised when its message was built; this module
//! adds only its own fixed labels. Works from 80×24 up: at small sizes panes
//! shrink and lines are cut, nothing wraps into another pane.

use std::{collections::BTreeSet, sync::Arc};

use jiff::{Timestamp, tz::TimeZone};
use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    style::{Color, Modifier, Style},
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph, Wrap},
};

use super::{
    app::{App, LogMode, LogRows, Pane, SPARK_MINUTES},
    histogram::{self, Strip},
    keys::{self, BINDINGS},
    msg::LogLine,
};
use crate::{
    incident::state::StepState,
    model::{Level, Severity},
    runbook::CommandLine,
};

/// Draws the whole console.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    let [title, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let [top, log, timeline] = Layout::vertical([
        Constraint::Percentage(36),
        Constraint::Min(4),
        Constraint::Percentage(26),
    ])
    .areas(body);
    let [alerts, runbook] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    draw_title(frame, app, title);
    draw_alerts(frame, app, alerts);
    draw_runbook(frame, app, runbook);
    draw_log(frame, app, log);
    draw_timeline(frame, app, timeline);
    draw_status(frame, app, status);
    if app.patterns.open {
        super::patterns_view::draw(frame, app, area);
    }
    if app.help {
        draw_help(frame, area, app.help_scroll);
    }
    if let Some(detail) = &app.detail {
        draw_detail(frame, app, detail, area);
    }
}

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Critical => Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        Severity::High => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Severity::Medium => Style::new().fg(Color::Yellow),
        Severity::Low => Style::new().fg(Color::Cyan),
        Severity::Info => Style::new().fg(Color::Gray),
    }
}

fn level_style(level: Option<Level>) -> Style {
    match level {
        Some(Level::Error | Level::Fatal) => Style::new().fg(Color::Red),
        Some(Level::Warn) => Style::new().fg(Color::Yellow),
        Some(Level::Debug | Level::Trace) => Style::new().fg(Color::DarkGray),
        _ => Style::new(),
    }
}

fn pane_block(title: String, focused: bool) -> Block<'static> {
    let style = if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    Block::new()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Span::styled(title, style))
}

fn clock(ts: Timestamp, zone: &TimeZone) -> String {
    ts.to_zoned(zone.clone()).strftime("%H:%M:%S").to_string()
}

fn draw_title(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let mut spans = vec![
        Span::styled(" triage ", Style::new().fg(Color::Black).bg(Color::Cyan)),
        Span::raw(" "),
        Span::styled(app.title.clone(), Style::new().add_modifier(Modifier::BOLD)),
    ];
    if app.attached {
        spans.push(Span::styled(
            "  attached to triage watch",
            Style::new().fg(Color::Yellow),
        ));
    }
    if let Some(clock_at) = app.clock {
        spans.push(Span::raw(format!(
            "  log time {} {}",
            clock(clock_at, &app.zone),
            crate::incident::text::zone_name(&app.zone)
        )));
    }
    spans.push(Span::styled(
        "  ? help  q quit",
        Style::new().fg(Color::DarkGray),
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn spark(counts: &[u64; SPARK_MINUTES]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .map(|&c| {
            if c == 0 {
                ' '
            } else {
                BARS[((c * 7).div_ceil(max.max(1)) as usize).min(7)]
            }
        })
        .collect()
}

fn draw_alerts(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let block = pane_block(
        format!(" 1 Alerts ({}) · lines/sources ", app.alerts.rows.len()),
        app.focus == Pane::Alerts,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.alerts.rows.is_empty() {
        let text = vec![
            Line::from("No alert yet."),
            Line::styled(
                "Signatures that fire appear here: firing first, most severe first.",
                Style::new().fg(Color::DarkGray),
            ),
        ];
        frame.render_widget(Paragraph::new(text), inner);
        return;
    }
    let height = inner.height as usize;
    let start = window_start(app.alerts.cursor, app.alerts.rows.len(), height);
    let now = app.present();
    let wide = inner.width >= 60;
    let narrow = inner.width < 50;
    let lines: Vec<Line<'_>> = app
        .alerts
        .rows
        .iter()
        .enumerate()
        .skip(start)
        .take(height)
        .map(|(i, row)| {
            let info = &row.info;
            let mut sev = severity_style(info.severity);
            let mut base = Style::new();
            if row.cleared.is_some() {
                sev = sev.add_modifier(Modifier::DIM);
                base = base.add_modifier(Modifier::DIM);
            }
            let mut spans = vec![
                Span::styled(format!("{:<4} ", short_severity(info.severity)), sev),
                Span::styled(format!("{:>4}", short_count(app.alert_lines(row))), base),
                Span::styled(
                    if row.sources.len() > 1 {
                        format!("/{:<2}", row.sources.len().min(99))
                    } else {
                        "   ".to_owned()
                    },
                    base.fg(Color::DarkGray),
                ),
                Span::styled(
                    spark(&row.per_minute(now)),
                    sev.remove_modifier(Modifier::BOLD),
                ),
                Span::styled(
                    if narrow {
                        " ".to_owned()
                    } else {
                        format!(" {} ", clock(row.last, &app.zone))
                    },
                    base,
                ),
            ];
            // A fleet's: the hosts first, the signature's id may be cut.
            if let Some(hosts) = hosts_text(&row.hosts) {
                spans.push(Span::styled(hosts, base.fg(Color::Cyan)));
            }
            spans.push(Span::styled(
                info.signature.to_string(),
                base.add_modifier(Modifier::BOLD),
            ));
            if wide {
                spans.push(Span::styled(
                    format!(" (first {})", clock(row.first, &app.zone)),
                    base.fg(Color::DarkGray),
                ));
            }
            if row.cleared.is_some() {
                spans.push(Span::styled(" cleared", base.fg(Color::DarkGray)));
            }
            if info.backfill {
                spans.push(Span::styled(" earlier", base.fg(Color::DarkGray)));
            }
            if !info.key.is_empty() {
                spans.push(Span::styled(format!(" {}", info.key), base.fg(Color::Blue)));
            }
            let line = Line::from(spans);
            if i == app.alerts.cursor {
                line.style(selected_style(app.focus == Pane::Alerts))
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A count in at most four characters: `335`, `12k`, `3.4M`.
fn short_count(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1000),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

fn short_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "CRIT",
        Severity::High => "HIGH",
        Severity::Medium => "MED",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

fn selected_style(focused: bool) -> Style {
    if focused {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new().add_modifier(Modifier::UNDERLINED)
    }
}

/// The first row to draw so that `cursor` is visible in `height` rows,
/// roughly centred, never past the end.
fn window_start(cursor: usize, len: usize, height: usize) -> usize {
    if height == 0 || len <= height {
        return 0;
    }
    cursor
        .saturating_sub(height / 2)
        .min(len.saturating_sub(height))
}

fn draw_runbook(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::Runbook;
    let Some(alert) = app.selected_alert() else {
        let block = pane_block(" 3 Runbook ".into(), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(
            Paragraph::new(Line::styled(
                "The runbook of the selected alert shows here.",
                Style::new().fg(Color::DarkGray),
            )),
            inner,
        );
        return;
    };
    let Some(book) = app.selected_runbook() else {
        let block = pane_block(" 3 Runbook ".into(), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let text = vec![
            Line::from(Span::styled(
                alert.info.title.clone(),
                severity_style(alert.info.severity),
            )),
            Line::styled(
                format!("No runbook is linked to {}.", alert.info.signature),
                Style::new().fg(Color::DarkGray),
            ),
        ];
        frame.render_widget(Paragraph::new(text), inner);
        return;
    };
    let block = pane_block(format!(" 3 Runbook: {} ", book.title), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines: Vec<Line<'_>> = vec![Line::from(vec![
        Span::styled(
            alert.info.title.clone(),
            severity_style(alert.info.severity),
        ),
        Span::styled(format!("  ({})", book.id), Style::new().fg(Color::DarkGray)),
    ])];
    lines.push(Line::styled(
        book.summary.clone(),
        Style::new().fg(Color::DarkGray),
    ));
    let mut selected_line = 0;
    for (n, step) in book.steps.iter().enumerate() {
        let progress = app.step_state(&book.id, &step.id);
        let (mark, style) = match progress.map(|p| p.state) {
            Some(StepState::Done) => ("[✓]", Style::new().fg(Color::Green)),
            Some(StepState::Started) => ("[~]", Style::new().fg(Color::Yellow)),
            Some(StepState::Skipped) => ("[-]", Style::new().fg(Color::DarkGray)),
            None => ("[ ]", Style::new()),
        };
        let selected = n == app.runbook.cursor;
        if selected {
            selected_line = lines.len();
        }
        let line = Line::from(vec![
            Span::styled(format!("{mark} "), style),
            Span::raw(format!("{}. {}", n + 1, step.title)),
            Span::styled(
                format!("  {}", step.kind.as_str()),
                Style::new().fg(Color::DarkGray),
            ),
        ]);
        lines.push(if selected {
            line.style(selected_style(focused))
        } else {
            line
        });
        if selected {
            if !step.command.is_empty() {
                let rendered = book.render(step, &alert.info.captures);
                let command =
                    crate::sanitize::for_terminal(&CommandLine(&rendered).to_string()).into_owned();
                // Wrapped, never cut: the whole command is what gets run.
                let room = (inner.width as usize).saturating_sub(6).max(10);
                let chars: Vec<char> = command.chars().collect();
                for (n, chunk) in chars.chunks(room).enumerate() {
                    lines.push(Line::from(vec![
                        Span::styled(
                            if n == 0 { "    $ " } else { "      " },
                            Style::new().fg(Color::DarkGray),
                        ),
                        Span::styled(
                            chunk.iter().collect::<String>(),
                            Style::new().fg(Color::Cyan),
                        ),
                    ]));
                }
            }
            if let Some(instructions) = &step.instructions {
                lines.push(Line::raw(format!("    {}", one_line(instructions))));
            }
            if let Some(expect) = &step.expect {
                lines.push(Line::styled(
                    format!("    expect: {}", one_line(expect)),
                    Style::new().fg(Color::Green),
                ));
            }
            if let Some(p) = progress {
                let note = p
                    .note
                    .as_deref()
                    .map(|n| format!(": {}", super::msg::clean(n)))
                    .unwrap_or_default();
                lines.push(Line::styled(
                    format!("    {} by {}{note}", p.state.as_str(), p.actor),
                    Style::new().fg(Color::DarkGray),
                ));
            }
        }
    }
    let height = inner.height as usize;
    let start = if selected_line + 4 > height {
        (selected_line + 4 - height).min(lines.len().saturating_sub(height))
    } else {
        0
    };
    let lines: Vec<Line<'_>> = lines.into_iter().skip(start).collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn draw_log(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::Log;
    let rows = app.log_rows();
    let mut what = match &app.log.mode {
        LogMode::Live if app.log.filters.active() => format!(
            " 2 Log · live, {} · {} events shown by the filters (F: off) ",
            if app.log.follow {
                "following"
            } else {
                "paused"
            },
            rows.len()
        ),
        LogMode::Live => format!(
            " 2 Log · live, {} · {} events ",
            if app.log.follow {
                "following"
            } else {
                "paused"
            },
            rows.len()
        ),
        LogMode::Evidence(title) => format!(" 2 Log · evidence of {title} · Esc: live "),
        LogMode::Pattern(title) => format!(
            " 2 Log · {} events of pattern {title} · Enter: detail · Esc: live ",
            rows.len()
        ),
        LogMode::Search(query) => format!(
            " 2 Log · {} hits for `{}` · Enter: detail · Esc: live ",
            rows.len(),
            super::msg::clean(query)
        ),
    };
    if app.log.wrap {
        what.push_str("· wrap ");
    } else if app.log.hscroll > 0 {
        what.push_str(&format!("· ←{} ", app.log.hscroll));
    }
    let block = pane_block(what, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        let text = match app.log.mode {
            LogMode::Live if app.log.filters.active() => {
                "No event passes the filters (F switches them off, = removes them)."
            }
            LogMode::Live => "Waiting for log lines…",
            _ => "Nothing to show.",
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, Style::new().fg(Color::DarkGray))),
            inner,
        );
        return;
    }
    // The histogram strip takes the pane's first row when there is room.
    let (strip_area, inner) = if app.log.histogram && inner.height >= 10 {
        let [strip, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
        (Some(strip), rest)
    } else {
        (None, inner)
    };
    let height = inner.height as usize;
    let width = (inner.width as usize).max(1);
    let cursor = app.log.cursor.min(rows.len() - 1);
    // Dates when the lines around span more than a day.
    let dated = {
        let from = cursor.saturating_sub(height);
        let to = (cursor + height).min(rows.len());
        let times = (from..to).filter_map(|i| rows.get(i).and_then(|l| l.ts));
        let (min, max) = times.fold((None::<Timestamp>, None::<Timestamp>), |(lo, hi), t| {
            (
                Some(lo.map_or(t, |lo| lo.min(t))),
                Some(hi.map_or(t, |hi| hi.max(t))),
            )
        });
        matches!((min, max), (Some(lo), Some(hi)) if hi.duration_since(lo) > jiff::SignedDuration::from_hours(24))
    };
    // Lines carry their own time; a column of times in one zone helps
    // reading merged sources when there is room for it, and a date when
    // they span days.
    let show_time = inner.width >= 120 || dated;
    let source_width = if inner.width >= 120 { 24 } else { 16 };
    let time_width = match (show_time, dated) {
        (false, _) => 0,
        (true, false) => 9,
        (true, true) => 20,
    };
    let prefix = 2 + time_width + source_width + 1;
    let wrapped = |chars: usize| -> usize {
        if app.log.wrap {
            chars.div_ceil(width).max(1)
        } else {
            1
        }
    };
    // Rows of each event (an expanded event takes several; with wrap, a
    // long line too), walking back from the cursor; the cursor sits at the
    // bottom when following, else about in the middle.
    let heights = |i: usize| -> usize {
        rows.get(i).map_or(1, |l| {
            let mut h =
                wrapped(prefix + unicode_width::UnicodeWidthStr::width(l.text.as_str()) + 12);
            if app.is_expanded(l) {
                h += l
                    .more
                    .iter()
                    .map(|m| wrapped(5 + unicode_width::UnicodeWidthStr::width(m.as_str())))
                    .sum::<usize>();
            }
            h
        })
    };
    let target_above = if app.log.follow { height } else { height / 2 };
    let mut start = cursor;
    let mut used = heights(cursor);
    while start > 0 && used + heights(start - 1) <= target_above.max(1) {
        start -= 1;
        used += heights(start);
    }
    // Fill the rest of the pane below; if the end comes first, go back up.
    let mut end = cursor + 1;
    while end < rows.len() && used + heights(end) <= height {
        used += heights(end);
        end += 1;
    }
    while start > 0 && used + heights(start - 1) <= height {
        start -= 1;
        used += heights(start);
    }
    let mut lines: Vec<Line<'_>> = Vec::with_capacity(height);
    let find = app.log.find.as_deref();
    let columns = Columns {
        source_width,
        time_width,
        hscroll: if app.log.wrap { 0 } else { app.log.hscroll },
    };
    for i in start..end {
        let Some(line) = rows.get(i) else { break };
        let selected = i == cursor;
        lines.push(log_line(
            line,
            &app.zone,
            find,
            selected,
            focused,
            app.is_expanded(line),
            columns,
            app,
        ));
        if app.is_expanded(line) {
            for more in &line.more {
                let mut spans = vec![Span::styled("   │ ", Style::new().fg(Color::DarkGray))];
                spans.extend(highlighted(
                    skip_chars(more, columns.hscroll),
                    find,
                    Style::new(),
                ));
                lines.push(Line::from(spans));
            }
        }
    }
    let mut paragraph = Paragraph::new(lines);
    if app.log.wrap {
        paragraph = paragraph.wrap(Wrap { trim: false });
    }
    frame.render_widget(paragraph, inner);
    if let Some(area) = strip_area {
        draw_histogram(frame, app, &rows, start..end, area);
    }
}

/// The histogram strip: events per bucket of the rows shown, coloured by
/// each bucket's worst level, the buckets of the lines on screen
/// highlighted; the first bucket's time on the left, the bucket length and
/// the busiest bucket's count on the right.
fn draw_histogram(
    frame: &mut Frame<'_>,
    app: &App,
    rows: &LogRows<'_>,
    on_screen: std::ops::Range<usize>,
    area: Rect,
) {
    let events: Vec<(Timestamp, Option<Level>)> = (0..rows.len())
        .filter_map(|i| rows.get(i))
        .filter_map(|l| Some((l.ts?, l.level)))
        .collect();
    let width = area.width as usize;
    let days = match (
        events.iter().map(|e| e.0).min(),
        events.iter().map(|e| e.0).max(),
    ) {
        (Some(lo), Some(hi)) => hi.duration_since(lo) > jiff::SignedDuration::from_hours(24),
        _ => false,
    };
    // Room for the labels only when the bars keep most of the width.
    let (left, right) = (if days { 17 } else { 6 }, 22);
    let labelled = width >= left + right + 20;
    let bars = if labelled {
        width - left - right
    } else {
        width
    };
    let Some(strip) = Strip::of(&events, bars) else {
        return;
    };
    let peak = strip.peak();
    let seen = (on_screen.start..on_screen.end)
        .filter_map(|i| rows.get(i).and_then(|l| l.ts))
        .fold(None::<(usize, usize)>, |acc, t| {
            let b = strip.bucket_of(t);
            Some(acc.map_or((b, b), |(lo, hi)| (lo.min(b), hi.max(b))))
        });
    let dim = Style::new().fg(Color::DarkGray);
    let mut spans = Vec::with_capacity(strip.buckets.len() + 2);
    if labelled {
        let format = if days { "%Y-%m-%d %H:%M " } else { "%H:%M " };
        let start = strip.start.to_zoned(app.zone.clone()).strftime(format);
        spans.push(Span::styled(format!("{start:<left$}"), dim));
    }
    for (i, bucket) in strip.buckets.iter().enumerate() {
        let color = match bucket.worst {
            Some(l) if l >= Level::Error => Color::Red,
            Some(Level::Warn) => Color::Yellow,
            Some(_) => Color::Cyan,
            None => Color::Gray,
        };
        let mut style = Style::new().fg(color);
        if seen.is_some_and(|(lo, hi)| (lo..=hi).contains(&i)) {
            style = style.bg(Color::DarkGray);
        }
        spans.push(Span::styled(
            histogram::bar(bucket.count, peak).to_string(),
            style,
        ));
    }
    if labelled {
        // At the pane's right edge, however few the bars.
        let label = format!(" {}/bar, peak {}", strip.step_name(), short_count(peak));
        let room = width - left - strip.buckets.len();
        spans.push(Span::styled(format!("{label:>room$}"), dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The log pane's columns.
#[derive(Debug, Clone, Copy)]
struct Columns {
    source_width: usize,
    /// 0: no time column; 9: time; 20: date and time.
    time_width: usize,
    hscroll: usize,
}

/// `text` without its first `n` characters.
fn skip_chars(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((at, _)) => &text[at..],
        None if n == 0 => text,
        None => "",
    }
}

#[allow(clippy::too_many_arguments)]
fn log_line<'a>(
    line: &'a LogLine,
    zone: &TimeZone,
    find: Option<&str>,
    selected: bool,
    focused: bool,
    expanded: bool,
    columns: Columns,
    app: &App,
) -> Line<'a> {
    let marker = match line
        .signatures
        .iter()
        .filter_map(|id| app.library()?.signatures.iter().find(|s| s.id == **id))
        .map(|s| s.severity)
        .max()
    {
        Some(severity) => Span::styled("▌", severity_style(severity)),
        None => Span::raw(" "),
    };
    let source_width = columns.source_width;
    let source = match &line.host {
        Some(host) => short_hosted(host, &line.source, source_width),
        None => short_source(&line.source, source_width),
    };
    let mark = if app.is_marked(line) {
        Span::styled("◆", Style::new().fg(Color::Cyan))
    } else {
        Span::raw(" ")
    };
    let mut spans = vec![marker, mark];
    if columns.time_width > 0 {
        let time = match line.ts {
            None => " ".repeat(columns.time_width - 1),
            Some(ts) if columns.time_width > 9 => ts
                .to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string(),
            Some(ts) => clock(ts, zone),
        };
        spans.push(Span::styled(time, Style::new().fg(Color::DarkGray)));
        spans.push(Span::raw(" "));
    }
    spans.extend([Span::styled(
        format!("{source:<source_width$} "),
        Style::new().fg(Color::Blue),
    )]);
    let style = level_style(line.level);
    spans.extend(highlighted(
        skip_chars(&line.text, columns.hscroll),
        find,
        style,
    ));
    if !line.more.is_empty() {
        spans.push(Span::styled(
            if expanded {
                " [−]".to_owned()
            } else {
                format!(" [+{} lines]", line.more.len())
            },
            Style::new().fg(Color::Magenta),
        ));
    }
    let line = Line::from(spans);
    if selected {
        line.style(selected_style(focused))
    } else {
        line
    }
}

/// The end of a source path, at most `width` characters.
fn short_source(source: &str, width: usize) -> String {
    let count = source.chars().count();
    if count <= width {
        return source.to_owned();
    }
    let tail: String = source.chars().skip(count - (width - 1)).collect();
    format!("…{tail}")
}

/// `host:path` in at most `width` characters: the host (at most half of
/// them) and the end of the path.
fn short_hosted(host: &str, source: &str, width: usize) -> String {
    if source.chars().count() <= width {
        return source.to_owned();
    }
    let path = source
        .strip_prefix(host)
        .and_then(|s| s.strip_prefix(':'))
        .unwrap_or(source);
    let host: String = host.chars().take(width / 2).collect();
    let room = width.saturating_sub(host.chars().count() + 1).max(2);
    format!("{host}:{}", short_source(path, room))
}

/// The hosts of an alert row: one or two by name, else how many.
fn hosts_text(hosts: &BTreeSet<Arc<str>>) -> Option<String> {
    match hosts.len() {
        0 => None,
        1 | 2 => Some(format!(
            "{} ",
            hosts.iter().map(|h| &**h).collect::<Vec<_>>().join(",")
        )),
        n => Some(format!("{n} hosts ")),
    }
}

/// `text` with every case-insensitive occurrence of a word of `find`
/// highlighted.
fn highlighted<'a>(text: &'a str, find: Option<&str>, style: Style) -> Vec<Span<'a>> {
    let hl = Style::new().fg(Color::Black).bg(Color::Yellow);
    let words: Vec<String> = find
        .map(|f| f.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    if words.is_empty() || !text.is_ascii() {
        // Case-folding can change byte lengths outside ASCII: highlight only
        // exact matches there.
        return exact_highlight(text, &words, style, hl);
    }
    let lower = text.to_ascii_lowercase();
    let mut marks = vec![false; text.len()];
    for word in &words {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(word.as_str()) {
            let at = from + pos;
            marks[at..at + word.len()]
                .iter_mut()
                .for_each(|m| *m = true);
            from = at + word.len().max(1);
        }
    }
    split_marked(text, &marks, style, hl)
}

fn exact_highlight<'a>(text: &'a str, words: &[String], style: Style, hl: Style) -> Vec<Span<'a>> {
    let mut marks = vec![false; text.len()];
    for word in words.iter().filter(|w| !w.is_empty()) {
        for (at, _) in text.match_indices(word.as_str()) {
            marks[at..at + word.len()]
                .iter_mut()
                .for_each(|m| *m = true);
        }
    }
    split_marked(text, &marks, style, hl)
}

fn split_marked<'a>(text: &'a str, marks: &[bool], style: Style, hl: Style) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    let mut start = 0;
    let mut state = marks.first().copied().unwrap_or(false);
    for (i, _) in text.char_indices() {
        if marks[i] != state {
            if i > start {
                spans.push(Span::styled(
                    &text[start..i],
                    if state { hl } else { style },
                ));
            }
            start = i;
            state = marks[i];
        }
    }
    if start < text.len() {
        spans.push(Span::styled(&text[start..], if state { hl } else { style }));
    }
    spans
}

fn draw_timeline(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Pane::Timeline;
    let Some(inc) = &app.timeline.incident else {
        let block = pane_block(" 4 Timeline ".into(), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(
            Paragraph::new(vec![
                Line::from("No incident."),
                Line::styled(
                    "One opens when a high or critical signature fires; ! declares one.",
                    Style::new().fg(Color::DarkGray),
                ),
            ]),
            inner,
        );
        return;
    };
    let others = app.timeline.incidents.len().saturating_sub(1);
    let title = format!(
        " 4 Timeline {} · {} · {} · {}{} ",
        inc.id,
        inc.severity,
        inc.status,
        inc.title,
        if others > 0 {
            format!(" · I: {others} more open")
        } else {
            String::new()
        }
    );
    let block = pane_block(title, focused).title_style(severity_style(inc.severity));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height as usize;
    let entries = app.timeline_rows();
    let start = window_start(app.timeline.cursor, entries.len(), height);
    let lines: Vec<Line<'_>> = entries
        .iter()
        .enumerate()
        .skip(start)
        .take(height)
        .map(|(i, entry)| {
            let row = entry.row;
            let actor_style = if row.actor == crate::incident::event::AUTOMATIC_ACTOR {
                Style::new().fg(Color::DarkGray)
            } else {
                Style::new().fg(Color::Green)
            };
            let mut spans = vec![
                Span::styled(
                    if row.pinned { "★" } else { " " },
                    Style::new().fg(Color::Yellow),
                ),
                Span::styled(format!("#{:<4}", row.seq), Style::new().fg(Color::DarkGray)),
                Span::raw(format!("{} ", clock(row.at, &app.zone))),
                Span::styled(format!("{:<8} ", row.actor), actor_style),
                Span::styled(format!("{:<18} ", row.kind), Style::new().fg(Color::Blue)),
            ];
            if entry.count > 1 {
                spans.push(Span::styled(
                    format!("×{} (A: all) ", entry.count),
                    Style::new().fg(Color::Magenta),
                ));
            }
            spans.push(Span::raw(row.summary.as_str()));
            let line = Line::from(spans);
            if i == app.timeline.cursor {
                line.style(selected_style(focused))
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_status(frame: &mut Frame<'_>, app: &App, area: Rect) {
    if let Some(prompt) = &app.prompt {
        let mut spans = vec![Span::styled(
            prompt.kind.label(),
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        )];
        if !prompt.kind.is_choice() {
            let text = prompt.line.text();
            let at = prompt.line.cursor();
            let before: String = text.chars().take(at).collect();
            let under: String = text.chars().nth(at).map_or(" ".to_owned(), String::from);
            let after: String = text.chars().skip(at + 1).collect();
            spans.push(Span::raw(super::msg::clean(&before)));
            spans.push(Span::styled(
                super::msg::clean(&under),
                Style::new().add_modifier(Modifier::REVERSED),
            ));
            spans.push(Span::raw(super::msg::clean(&after)));
            spans.push(Span::styled(
                "  Enter: ok  Esc: cancel  ↑: earlier",
                Style::new().fg(Color::DarkGray),
            ));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    if let Some(pending) = &app.pending {
        let spans = vec![
            Span::styled(
                " y: write · other key: cancel ",
                Style::new()
                    .fg(Color::Black)
                    .bg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!(" {}", pending.what),
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
        ];
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    let stats = app.stats;
    let index = match (stats.index_lag, app.search_backend) {
        (Some(lag), _) => format!("index lag {lag}"),
        (None, super::app::SearchBackend::Index) => "index".to_owned(),
        (None, super::app::SearchBackend::Loaded) => "no index".to_owned(),
    };
    let mut spans = vec![Span::styled(
        format!(
            " {} files · {} lines/s · {} · {} ",
            stats.files,
            human_rate(app.rate),
            index,
            if app.log.follow { "follow" } else { "paused" }
        ),
        Style::new().fg(Color::Black).bg(Color::Gray),
    )];
    if !app.log.filters.is_empty() {
        spans.push(Span::styled(
            format!(" filters: {} ", app.log.filters.describe()),
            Style::new().fg(Color::Black).bg(Color::Cyan),
        ));
    }
    if app.library().is_none() {
        spans.push(Span::styled(
            " loading signatures… ",
            Style::new().fg(Color::Yellow),
        ));
    }
    if let Some(why) = &app.stopped {
        spans.push(Span::styled(
            format!(" pipeline stopped: {why} "),
            Style::new().fg(Color::White).bg(Color::Red),
        ));
    } else if app.problem_count > 0 {
        let last = app.problems.back().map(String::as_str).unwrap_or("");
        spans.push(Span::styled(
            format!(" {} errors, last: {last} ", app.problem_count),
            Style::new().fg(Color::White).bg(Color::Red),
        ));
    }
    if let Some((text, error)) = &app.message {
        let style = if *error {
            Style::new().fg(Color::Red)
        } else {
            Style::new().fg(Color::Green)
        };
        spans.push(Span::styled(format!(" {text}"), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn human_rate(rate: f64) -> String {
    if rate >= 10_000.0 {
        format!("{:.0}k", rate / 1000.0)
    } else if rate >= 1000.0 {
        format!("{:.1}k", rate / 1000.0)
    } else {
        format!("{rate:.0}")
    }
}

fn draw_help(frame: &mut Frame<'_>, area: Rect, scroll: usize) {
    let labels: Vec<String> = BINDINGS.iter().map(keys::keys_label).collect();
    let place_w = BINDINGS
        .iter()
        .map(|b| b.scope.name().len())
        .max()
        .unwrap_or(8);
    let key_w = labels
        .iter()
        .chain(
            keys::PROMPT_KEYS
                .iter()
                .map(|(k, _)| k)
                .map(|k| (*k).to_owned())
                .collect::<Vec<_>>()
                .iter(),
        )
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(10);
    let rows = BINDINGS.len() + keys::PROMPT_KEYS.len() + 1;
    let width = area.width.saturating_sub(2).min(110);
    let height = area.height.min(rows as u16 + 2);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(Style::new().fg(Color::Cyan))
        .title(if rows + 2 > height as usize {
            " Keys — j k PgDn PgUp scroll, any other key closes "
        } else {
            " Keys — any key closes "
        });
    let mut lines = Vec::with_capacity(rows);
    let key_style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    for (b, label) in BINDINGS.iter().zip(&labels) {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<place_w$}  ", b.scope.name()),
                Style::new().fg(Color::DarkGray),
            ),
            Span::styled(format!("{label:<key_w$}  "), key_style),
            Span::raw(b.what),
        ]));
    }
    lines.push(Line::styled(
        "in prompts:",
        Style::new().fg(Color::DarkGray),
    ));
    for (key, what) in keys::PROMPT_KEYS {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<place_w$}  ", "prompt"),
                Style::new().fg(Color::DarkGray),
            ),
            Span::styled(format!("{key:<key_w$}  "), key_style),
            Span::raw(*what),
        ]));
    }
    let scroll = scroll.min(rows.saturating_sub(height.saturating_sub(2) as usize));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(u16::MAX as usize) as u16, 0)),
        rect,
    );
}

/// A box of `width` × `height` in the middle of `area` (cut to `area`
/// when it is smaller: a tiny terminal).
pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let (width, height) = (width.min(area.width), height.min(area.height));
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

fn draw_detail(frame: &mut Frame<'_>, app: &App, detail: &super::app::Detail, area: Rect) {
    let width = area.width.saturating_sub(4).max(10);
    let height = area.height.saturating_sub(2).max(5);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let line = &detail.line;
    let dim = Style::new().fg(Color::DarkGray);
    let label = |name: &str| Span::styled(format!("{name:<11}"), dim);
    let mut lines: Vec<Line<'_>> = Vec::new();
    let at = if line.line_no > 0 {
        format!("{}:{}", line.source, line.line_no)
    } else {
        format!("{} (byte {})", line.source, line.offset)
    };
    lines.push(Line::from(vec![label("source"), Span::raw(at)]));
    lines.push(Line::from(vec![
        label("time"),
        Span::raw(line.ts.map_or_else(
            || "none written in the line".to_owned(),
            |ts| {
                format!(
                    "{} {}",
                    ts.to_zoned(app.zone.clone())
                        .strftime("%Y-%m-%d %H:%M:%S%.3f"),
                    crate::incident::text::zone_name(&app.zone)
                )
            },
        )),
    ]));
    lines.push(Line::from(vec![
        label("level"),
        Span::styled(
            line.level.map_or("none", Level::as_str).to_owned(),
            level_style(line.level),
        ),
    ]));
    if line.signatures.is_empty() {
        lines.push(Line::from(vec![
            label("signatures"),
            Span::styled("none", dim),
        ]));
    }
    for id in &line.signatures {
        let sig = app
            .library()
            .and_then(|l| l.signatures.iter().find(|s| s.id == **id));
        let mut spans = vec![label("signature")];
        match sig {
            Some(sig) => {
                spans.push(Span::styled(format!("{id} "), severity_style(sig.severity)));
                spans.push(Span::raw(sig.title.clone()));
            }
            None => spans.push(Span::raw(id.to_string())),
        }
        lines.push(Line::from(spans));
    }
    for (key, value) in &line.fields {
        lines.push(Line::from(vec![
            label("field"),
            Span::styled(format!("{key} "), dim),
            Span::raw(value.clone()),
        ]));
    }
    lines.push(Line::from(vec![
        label("template"),
        match &detail.template {
            Some(template) => Span::raw(template.clone()),
            None => Span::styled("none (not mined)", dim),
        },
    ]));
    if app.is_marked(line) {
        lines.push(Line::from(vec![label("bookmark"), Span::raw("yes")]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(line.text.clone(), level_style(line.level)));
    for more in &line.more {
        lines.push(Line::raw(more.clone()));
    }
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(Style::new().fg(Color::Cyan))
        .title(if app.log.mode == LogMode::Live {
            " Event — Esc closes, j/k scroll "
        } else {
            " Event — Esc closes, j/k scroll, Enter: go to it in the live log "
        });
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((detail.scroll.min(u16::MAX as usize) as u16, 0)),
        rect,
    );
}
