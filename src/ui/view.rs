//! Drawing the console: the title bar, the four panes (alerts, runbook, log,
//! timeline), the status bar or the prompt, and the help overlay.
//!
//! Reads the [`App`] only (`draw(&App)`); draws into any ratatui backend, so
//! tests render into `TestBackend` at a fixed size. Every text drawn from a
//! log or the journal was sanitised when its message was built; this module
//! adds only its own fixed labels. Works from 80×24 up: at small sizes panes
//! shrink and lines are cut, nothing wraps into another pane.

use jiff::{Timestamp, tz::TimeZone};
use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    style::{Color, Modifier, Style},
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph},
};

use super::{
    app::{App, KEYS, LogMode, Pane, SPARK_MINUTES},
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
    if app.help {
        draw_help(frame, area);
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
        format!(" 1 Alerts ({}) ", app.alerts.len()),
        app.focus == Pane::Alerts,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.alerts.is_empty() {
        let text = vec![
            Line::from("No alert yet."),
            Line::styled(
                "Signatures that fire appear here, newest first.",
                Style::new().fg(Color::DarkGray),
            ),
        ];
        frame.render_widget(Paragraph::new(text), inner);
        return;
    }
    let height = inner.height as usize;
    let start = window_start(app.alert_cursor, app.alerts.len(), height);
    let now = app.present();
    let wide = inner.width >= 60;
    let narrow = inner.width < 50;
    let lines: Vec<Line<'_>> = app
        .alerts
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
                Span::styled(format!("×{:<3}", row.fired), base),
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
                Span::styled(
                    info.signature.to_string(),
                    base.add_modifier(Modifier::BOLD),
                ),
            ];
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
            if i == app.alert_cursor {
                line.style(selected_style(app.focus == Pane::Alerts))
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
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
        let selected = n == app.step_cursor;
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
                lines.push(Line::from(vec![
                    Span::styled("    $ ", Style::new().fg(Color::DarkGray)),
                    Span::styled(
                        crate::sanitize::for_terminal(&CommandLine(&rendered).to_string())
                            .into_owned(),
                        Style::new().fg(Color::Cyan),
                    ),
                ]));
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
    let what = match &app.log_mode {
        LogMode::Live => format!(
            " 2 Log · live, {} · {} events ",
            if app.follow { "following" } else { "paused" },
            rows.len()
        ),
        LogMode::Evidence(title) => format!(" 2 Log · evidence of {title} · Esc: live "),
        LogMode::Search(query) => format!(
            " 2 Log · {} hits for `{}` · Enter: go to · Esc: live ",
            rows.len(),
            super::msg::clean(query)
        ),
    };
    let block = pane_block(what, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        let text = match app.log_mode {
            LogMode::Live => "Waiting for log lines…",
            _ => "Nothing to show.",
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, Style::new().fg(Color::DarkGray))),
            inner,
        );
        return;
    }
    let height = inner.height as usize;
    // Rows of each event (an expanded event takes several), walking back
    // from the cursor; the cursor sits at the bottom when following, else
    // about in the middle.
    let heights = |i: usize| -> usize {
        rows.get(i).map_or(1, |l| {
            if app.is_expanded(l) {
                1 + l.more.len()
            } else {
                1
            }
        })
    };
    let cursor = app.log_cursor.min(rows.len() - 1);
    let target_above = if app.follow { height } else { height / 2 };
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
    let find = app.find.as_deref();
    // Lines carry their own time; a column of times in one zone helps
    // reading merged sources when there is room for it.
    let show_time = inner.width >= 120;
    let source_width = if inner.width >= 120 { 24 } else { 16 };
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
            source_width,
            show_time,
            app,
        ));
        if app.is_expanded(line) {
            for more in &line.more {
                let mut spans = vec![Span::styled("   │ ", Style::new().fg(Color::DarkGray))];
                spans.extend(highlighted(more, find, Style::new()));
                lines.push(Line::from(spans));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

#[allow(clippy::too_many_arguments)]
fn log_line<'a>(
    line: &'a LogLine,
    zone: &TimeZone,
    find: Option<&str>,
    selected: bool,
    focused: bool,
    expanded: bool,
    source_width: usize,
    show_time: bool,
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
    let source = short_source(&line.source, source_width);
    let mut spans = vec![marker];
    if show_time {
        let time = line
            .ts
            .map_or_else(|| "        ".to_owned(), |ts| clock(ts, zone));
        spans.push(Span::styled(time, Style::new().fg(Color::DarkGray)));
        spans.push(Span::raw(" "));
    }
    spans.extend([Span::styled(
        format!("{source:<source_width$} "),
        Style::new().fg(Color::Blue),
    )]);
    let style = level_style(line.level);
    spans.extend(highlighted(&line.text, find, style));
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
    let Some(inc) = &app.incident else {
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
    let title = format!(
        " 4 Timeline {} · {} · {} · {} ",
        inc.id, inc.severity, inc.status, inc.title
    );
    let block = pane_block(title, focused).title_style(severity_style(inc.severity));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height as usize;
    let start = window_start(app.timeline_cursor, inc.rows.len(), height);
    let lines: Vec<Line<'_>> = inc
        .rows
        .iter()
        .enumerate()
        .skip(start)
        .take(height)
        .map(|(i, row)| {
            let actor_style = if row.actor == crate::incident::event::AUTOMATIC_ACTOR {
                Style::new().fg(Color::DarkGray)
            } else {
                Style::new().fg(Color::Green)
            };
            let line = Line::from(vec![
                Span::styled(
                    if row.pinned { "★" } else { " " },
                    Style::new().fg(Color::Yellow),
                ),
                Span::styled(format!("#{:<4}", row.seq), Style::new().fg(Color::DarkGray)),
                Span::raw(format!("{} ", clock(row.at, &app.zone))),
                Span::styled(format!("{:<8} ", row.actor), actor_style),
                Span::styled(format!("{:<18} ", row.kind), Style::new().fg(Color::Blue)),
                Span::raw(row.summary.as_str()),
            ]);
            if i == app.timeline_cursor {
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
            spans.push(Span::raw(super::msg::clean(&prompt.input)));
            spans.push(Span::styled(
                " ",
                Style::new().add_modifier(Modifier::REVERSED),
            ));
            spans.push(Span::styled(
                "  Enter: ok  Esc: cancel",
                Style::new().fg(Color::DarkGray),
            ));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    let stats = app.stats;
    let index = match stats.index_lag {
        Some(lag) => format!("index lag {lag}"),
        None => "no index".to_owned(),
    };
    let mut spans = vec![Span::styled(
        format!(
            " {} files · {} lines/s · {} · {} ",
            stats.files,
            human_rate(app.rate),
            index,
            if app.follow { "follow" } else { "paused" }
        ),
        Style::new().fg(Color::Black).bg(Color::Gray),
    )];
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

fn draw_help(frame: &mut Frame<'_>, area: Rect) {
    let width = area.width.saturating_sub(2).min(96);
    let height = area.height.min(KEYS.len() as u16 + 2);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(Style::new().fg(Color::Cyan))
        .title(" Keys — any key closes ");
    let mut lines = Vec::with_capacity(KEYS.len());
    for (place, key, what) in KEYS {
        lines.push(Line::from(vec![
            Span::styled(format!("{place:<9}"), Style::new().fg(Color::DarkGray)),
            Span::styled(
                format!("{key:<14}"),
                Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            ),
            Span::raw(*what),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
