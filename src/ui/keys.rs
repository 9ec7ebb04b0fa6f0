//! The console's one key table: every key, where it works and what it does.
//! [`BINDINGS`] drives dispatch ([`lookup`]), the help overlay and README's
//! key table (a test checks README against [`readme_table`]).
//!
//! Modifiers are part of a key: Ctrl-D is not `d`, Alt-a is not `a`; a
//! chord the table does not list does nothing (it never falls through to
//! the plain letter). Shift is part of the character (`D`, `?`) and is not
//! compared for characters.
//!
//! Pure data and lookups: no state, no terminal.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use self::Scope::{Anywhere, In, Lists};
use super::app::Pane;

/// Where a key works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// In every pane.
    Anywhere,
    /// In every pane that is a list (all four).
    Lists,
    /// In one pane.
    In(Pane),
}

impl Scope {
    /// The name in the help and README.
    pub fn name(self) -> &'static str {
        match self {
            Anywhere => "anywhere",
            Lists => "lists",
            In(Pane::Alerts) => "alerts",
            In(Pane::Log) => "log",
            In(Pane::Runbook) => "runbook",
            In(Pane::Timeline) => "timeline",
        }
    }

    fn covers(self, focus: Pane) -> bool {
        match self {
            Anywhere | Lists => true,
            In(pane) => pane == focus,
        }
    }

    /// Pane keys come before list keys, list keys before global ones.
    fn rank(self) -> u8 {
        match self {
            In(_) => 0,
            Lists => 1,
            Anywhere => 2,
        }
    }
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the console.
    Quit,
    /// The help overlay.
    Help,
    /// Focus the next pane.
    NextPane,
    /// Focus the previous pane.
    PrevPane,
    /// Focus a pane.
    Focus(Pane),
    /// The search prompt.
    Search,
    /// The jump-to-time prompt.
    JumpTime,
    /// Follow on/off.
    Follow,
    /// Acknowledge the incident (confirmed).
    Ack,
    /// The note prompt.
    Note,
    /// The severity choice.
    Severity,
    /// The status choice.
    Status,
    /// Declare an incident: title, severity, confirmation.
    Declare,
    /// Show the next incident.
    NextIncident,
    /// Cursor down.
    Down,
    /// Cursor up.
    Up,
    /// A page down.
    PageDown,
    /// A page up.
    PageUp,
    /// The first row.
    First,
    /// The last row.
    Last,
    /// The alert's evidence in the log pane.
    Evidence,
    /// Expand or collapse a multi-line event.
    Expand,
    /// The detail view of the selected event.
    Detail,
    /// Next search hit.
    FindNext,
    /// Previous search hit.
    FindPrev,
    /// Next event at error or worse.
    NextError,
    /// Previous event at error or worse.
    PrevError,
    /// Back to the live tail.
    Live,
    /// Wrap long lines on/off.
    Wrap,
    /// The log pane's histogram strip on/off.
    Histogram,
    /// Scroll the log pane left.
    Left,
    /// Scroll the log pane right.
    Right,
    /// Cycle the level filter.
    Level,
    /// Only the selected event's source, or every source again.
    OnlySource,
    /// Only the selected event's level / every level.
    ExactLevel,
    /// A show-only regex filter.
    ShowFilter,
    /// A hide regex filter.
    HideFilter,
    /// Filters off and on again.
    ToggleFilters,
    /// Remove every filter.
    ClearFilters,
    /// Bookmark the selected event (or remove its bookmark).
    Mark,
    /// The next bookmark.
    NextMark,
    /// The previous bookmark.
    PrevMark,
    /// Step started (confirmed).
    StepStarted,
    /// Step done (confirmed).
    StepDone,
    /// Step skipped (confirmed).
    StepSkipped,
    /// Step started, with a note.
    StepStartedNote,
    /// Step done, with a note.
    StepDoneNote,
    /// Step skipped, with why.
    StepSkippedNote,
    /// Copy the step's command.
    Copy,
    /// Pin or unpin a timeline event (confirmed).
    Pin,
    /// Every timeline row, or the grouped view.
    AllRows,
    /// The Patterns view: templates of the events read, new and surging
    /// since the incident opened first.
    Patterns,
}

/// One key: a code and the modifiers that must be held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl and Alt (and Shift for keys that are not characters).
    pub mods: KeyModifiers,
}

const fn ch(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::NONE,
    }
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

const fn code(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

impl Key {
    /// The key of an event: Shift dropped for characters (it is in the
    /// character) and Back-Tab; only Ctrl, Alt and Shift kept.
    pub fn of(event: KeyEvent) -> Key {
        let mut mods = event.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        if event.modifiers.contains(KeyModifiers::SHIFT)
            && !matches!(event.code, KeyCode::Char(_) | KeyCode::BackTab)
        {
            mods |= KeyModifiers::SHIFT;
        }
        let code = match event.code {
            // Terminals send Ctrl-letters lower case; some send Ctrl-Shift.
            KeyCode::Char(c) if !mods.is_empty() => KeyCode::Char(c.to_ascii_lowercase()),
            code => code,
        };
        Key { code, mods }
    }

    /// As people write it: `Ctrl-C`, `Shift-Tab`, `PgDn`, `↓`.
    pub fn name(self) -> String {
        let mut out = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            out.push_str("Ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            out.push_str("Alt-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            out.push_str("Shift-");
        }
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) if !self.mods.is_empty() => c.to_ascii_uppercase().to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Backspace => "Backspace".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        out.push_str(&base);
        out
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// Where it works.
    pub scope: Scope,
    /// The keys (any of them).
    pub keys: &'static [Key],
    /// What they do.
    pub action: Action,
    /// The help text.
    pub what: &'static str,
}

const fn bind(scope: Scope, keys: &'static [Key], action: Action, what: &'static str) -> Binding {
    Binding {
        scope,
        keys,
        action,
        what,
    }
}

/// Every key, in the order the help shows them.
pub const BINDINGS: &[Binding] = &[
    bind(
        Anywhere,
        &[ch('q'), ctrl('c')],
        Action::Quit,
        "quit (the terminal is restored)",
    ),
    bind(
        Anywhere,
        &[ch('?')],
        Action::Help,
        "this help (any key closes it)",
    ),
    bind(
        Anywhere,
        &[code(KeyCode::Tab)],
        Action::NextPane,
        "next pane",
    ),
    bind(
        Anywhere,
        &[code(KeyCode::BackTab)],
        Action::PrevPane,
        "previous pane",
    ),
    bind(
        Anywhere,
        &[ch('1')],
        Action::Focus(Pane::Alerts),
        "focus alerts",
    ),
    bind(
        Anywhere,
        &[ch('2')],
        Action::Focus(Pane::Log),
        "focus the log",
    ),
    bind(
        Anywhere,
        &[ch('3')],
        Action::Focus(Pane::Runbook),
        "focus the runbook",
    ),
    bind(
        Anywhere,
        &[ch('4')],
        Action::Focus(Pane::Timeline),
        "focus the timeline",
    ),
    bind(
        Anywhere,
        &[ch('/')],
        Action::Search,
        "search (matching events in the log pane; ↑ recalls the last query)",
    ),
    bind(
        Anywhere,
        &[ch('t')],
        Action::JumpTime,
        "jump to a time in the log",
    ),
    bind(
        Anywhere,
        &[ch('f')],
        Action::Follow,
        "follow new lines on/off (back to the live tail)",
    ),
    bind(
        Anywhere,
        &[ch('a')],
        Action::Ack,
        "acknowledge the incident (y confirms)",
    ),
    bind(
        Anywhere,
        &[ch('i')],
        Action::Note,
        "add a note to the timeline",
    ),
    bind(
        Anywhere,
        &[ch('v')],
        Action::Severity,
        "change the incident's severity (y confirms)",
    ),
    bind(
        Anywhere,
        &[ch('u')],
        Action::Status,
        "change the incident's status (y confirms)",
    ),
    bind(
        Anywhere,
        &[ch('!')],
        Action::Declare,
        "declare an incident: title, severity, y confirms",
    ),
    bind(
        Anywhere,
        &[ch('I')],
        Action::NextIncident,
        "show the next incident (keys write to the one shown)",
    ),
    bind(
        Anywhere,
        &[ch('P')],
        Action::Patterns,
        "patterns: templates of the events read, new or surging since the incident opened first (j/k select, Enter: its events in the log pane, s: a suggested signature into the data directory, any other key closes)",
    ),
    bind(Lists, &[ch('j'), code(KeyCode::Down)], Action::Down, "down"),
    bind(Lists, &[ch('k'), code(KeyCode::Up)], Action::Up, "up"),
    bind(
        Lists,
        &[code(KeyCode::PageDown), ctrl('f'), ctrl('d')],
        Action::PageDown,
        "page down",
    ),
    bind(
        Lists,
        &[code(KeyCode::PageUp), ctrl('b'), ctrl('u')],
        Action::PageUp,
        "page up",
    ),
    bind(
        Lists,
        &[ch('g'), code(KeyCode::Home)],
        Action::First,
        "first",
    ),
    bind(Lists, &[ch('G'), code(KeyCode::End)], Action::Last, "last"),
    bind(
        In(Pane::Alerts),
        &[code(KeyCode::Enter), ch('e')],
        Action::Evidence,
        "show the alert's evidence with context",
    ),
    bind(
        In(Pane::Log),
        &[code(KeyCode::Enter)],
        Action::Detail,
        "detail view: the whole event, its date, source:line, signatures",
    ),
    bind(
        In(Pane::Log),
        &[ch(' ')],
        Action::Expand,
        "expand / collapse a multi-line event",
    ),
    bind(
        In(Pane::Log),
        &[ch('w')],
        Action::Wrap,
        "wrap long lines on/off",
    ),
    bind(
        In(Pane::Log),
        &[ch('H')],
        Action::Histogram,
        "histogram strip (events over time, worst level) on/off",
    ),
    bind(
        In(Pane::Log),
        &[code(KeyCode::Left), ch('h')],
        Action::Left,
        "scroll left",
    ),
    bind(
        In(Pane::Log),
        &[code(KeyCode::Right), ch('l')],
        Action::Right,
        "scroll right",
    ),
    bind(
        In(Pane::Log),
        &[ch('n')],
        Action::FindNext,
        "next search hit",
    ),
    bind(
        In(Pane::Log),
        &[ch('N')],
        Action::FindPrev,
        "previous search hit",
    ),
    bind(
        In(Pane::Log),
        &[ch('e')],
        Action::NextError,
        "next error (or worse)",
    ),
    bind(
        In(Pane::Log),
        &[ch('E')],
        Action::PrevError,
        "previous error (or worse)",
    ),
    bind(
        In(Pane::Log),
        &[ch('L')],
        Action::Level,
        "level filter: all, debug+, info+, warn+, error+",
    ),
    bind(
        In(Pane::Log),
        &[ch('o')],
        Action::OnlySource,
        "only the selected event's source / every source",
    ),
    bind(
        In(Pane::Log),
        &[ch('O')],
        Action::ExactLevel,
        "only the selected event's level, exactly / every level",
    ),
    bind(
        In(Pane::Log),
        &[ch('+')],
        Action::ShowFilter,
        "add a show-only filter (regex)",
    ),
    bind(
        In(Pane::Log),
        &[ch('-')],
        Action::HideFilter,
        "add a hide filter (regex)",
    ),
    bind(
        In(Pane::Log),
        &[ch('F')],
        Action::ToggleFilters,
        "filters off / on",
    ),
    bind(
        In(Pane::Log),
        &[ch('=')],
        Action::ClearFilters,
        "remove every filter",
    ),
    bind(
        In(Pane::Log),
        &[ch('m')],
        Action::Mark,
        "bookmark the event (again: remove it)",
    ),
    bind(In(Pane::Log), &[ch('b')], Action::NextMark, "next bookmark"),
    bind(
        In(Pane::Log),
        &[ch('B')],
        Action::PrevMark,
        "previous bookmark",
    ),
    bind(
        In(Pane::Log),
        &[code(KeyCode::Esc)],
        Action::Live,
        "back to the live tail",
    ),
    bind(
        In(Pane::Runbook),
        &[ch('s')],
        Action::StepStarted,
        "step started (y confirms)",
    ),
    bind(
        In(Pane::Runbook),
        &[ch('d')],
        Action::StepDone,
        "step done (y confirms)",
    ),
    bind(
        In(Pane::Runbook),
        &[ch('x')],
        Action::StepSkipped,
        "step skipped (y confirms)",
    ),
    bind(
        In(Pane::Runbook),
        &[ch('S')],
        Action::StepStartedNote,
        "step started, with a note",
    ),
    bind(
        In(Pane::Runbook),
        &[ch('D')],
        Action::StepDoneNote,
        "step done, with a note",
    ),
    bind(
        In(Pane::Runbook),
        &[ch('X')],
        Action::StepSkippedNote,
        "step skipped, with why",
    ),
    bind(
        In(Pane::Runbook),
        &[ch('c'), ch('y')],
        Action::Copy,
        "copy the command (clipboard + copied-command.sh)",
    ),
    bind(
        In(Pane::Timeline),
        &[ch('p')],
        Action::Pin,
        "pin / unpin the event for the postmortem (y confirms)",
    ),
    bind(
        In(Pane::Timeline),
        &[ch('A')],
        Action::AllRows,
        "every row / automatic repeats grouped",
    ),
];

/// What `key` does in `focus`: the pane's own keys first, then list keys,
/// then global ones. `None` for a key (or chord) the table does not list.
pub fn lookup(focus: Pane, event: KeyEvent) -> Option<Action> {
    let key = Key::of(event);
    BINDINGS
        .iter()
        .filter(|b| b.scope.covers(focus) && b.keys.contains(&key))
        .min_by_key(|b| b.scope.rank())
        .map(|b| b.action)
}

/// The keys of a binding as the help shows them: `q  Ctrl-C`.
pub fn keys_label(binding: &Binding) -> String {
    binding
        .keys
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join("  ")
}

/// README's key table, as generated from [`BINDINGS`].
pub fn readme_table() -> String {
    let mut out = String::from("| where | key | what |\n|---|---|---|\n");
    for b in BINDINGS {
        let keys: Vec<String> = b
            .keys
            .iter()
            .map(|k| {
                let name = k.name();
                if name.contains('|') {
                    format!("`{}`", name.replace('|', "\\|"))
                } else {
                    format!("`{name}`")
                }
            })
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            b.scope.name(),
            keys.join(" "),
            b.what
        ));
    }
    out
}

/// The prompts' line-editing keys, for the help and README (handled by
/// `prompt::LineEditor`).
pub const PROMPT_KEYS: &[(&str, &str)] = &[
    ("Enter  Esc", "accept / cancel"),
    ("← →  Ctrl-A  Ctrl-E", "move; to the start / the end"),
    (
        "Ctrl-W  Ctrl-U  Ctrl-K",
        "delete the word before / to the start / to the end",
    ),
    ("↑  ↓", "earlier answers to the same prompt"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn chords_never_fall_through_to_the_plain_letter() {
        for pane in [Pane::Alerts, Pane::Log, Pane::Runbook, Pane::Timeline] {
            for c in 'a'..='z' {
                for mods in [KeyModifiers::CONTROL, KeyModifiers::ALT] {
                    let got = lookup(pane, press(KeyCode::Char(c), mods));
                    let listed = BINDINGS.iter().any(|b| {
                        b.scope.covers(pane)
                            && b.keys.contains(&Key {
                                code: KeyCode::Char(c),
                                mods,
                            })
                    });
                    if !listed {
                        assert_eq!(got, None, "{mods:?}-{c} in {pane:?}");
                    }
                }
            }
        }
        assert_eq!(
            lookup(
                Pane::Runbook,
                press(KeyCode::Char('d'), KeyModifiers::CONTROL)
            ),
            Some(Action::PageDown),
            "Ctrl-D pages down as in less, it is not step done"
        );
        assert_eq!(
            lookup(
                Pane::Runbook,
                press(KeyCode::Char('a'), KeyModifiers::CONTROL)
            ),
            None,
            "Ctrl-A is not ack"
        );
        assert_eq!(
            lookup(Pane::Runbook, press(KeyCode::Char('d'), KeyModifiers::NONE)),
            Some(Action::StepDone)
        );
        assert_eq!(
            lookup(
                Pane::Log,
                press(
                    KeyCode::Char('C'),
                    KeyModifiers::CONTROL | KeyModifiers::SHIFT
                )
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            lookup(Pane::Log, press(KeyCode::Char('D'), KeyModifiers::SHIFT)),
            None,
            "D is a runbook key"
        );
        assert_eq!(
            lookup(Pane::Alerts, press(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevPane)
        );
    }

    #[test]
    fn no_key_means_two_things_in_one_place() {
        for pane in [Pane::Alerts, Pane::Log, Pane::Runbook, Pane::Timeline] {
            let mut seen: Vec<(Key, u8)> = Vec::new();
            for b in BINDINGS.iter().filter(|b| b.scope.covers(pane)) {
                for k in b.keys {
                    let rank = b.scope.rank();
                    assert!(
                        !seen.contains(&(*k, rank)),
                        "{} twice in {pane:?} at the same level",
                        k.name()
                    );
                    seen.push((*k, rank));
                }
            }
        }
    }

    #[test]
    fn readme_key_table_is_the_key_table() {
        let readme = include_str!("../../README.md");
        let table = readme_table();
        assert!(
            readme.contains(&table),
            "README.md's key table differs from src/ui/keys.rs; it should read:\n{table}"
        );
    }
}
