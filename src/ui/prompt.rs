//! The prompts' line editor: readline's basics (Ctrl-A/E/U/W/K, Left and
//! Right, Home and End, Backspace and Delete) and a history per prompt on
//! Up and Down. A prompt opens empty; the last answer is one Up away.
//!
//! Pure: keys in, text out. Modifiers are part of a key here as in the key
//! table: a Ctrl or Alt chord never inserts its letter.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The longest line accepted, in characters.
pub const MAX_CHARS: usize = 500;
/// Answers remembered per prompt.
const MAX_HISTORY: usize = 50;

/// A line being edited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEditor {
    chars: Vec<char>,
    /// Cursor position, in characters (0..=len).
    cursor: usize,
    /// Position in the history while walking it (`None`: the new line).
    walking: Option<usize>,
    /// The new line, kept while walking the history.
    draft: Vec<char>,
}

/// What a key did to the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The line or the cursor changed, or nothing happened.
    Editing,
    /// Enter.
    Accept,
    /// Esc.
    Cancel,
}

impl LineEditor {
    /// The text.
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// The cursor, in characters.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Replaces the text, cursor at its end.
    pub fn set(&mut self, text: &str) {
        self.chars = text.chars().take(MAX_CHARS).collect();
        self.cursor = self.chars.len();
    }

    /// Applies one key; `history` is this prompt's earlier answers, oldest
    /// first.
    pub fn key(&mut self, key: KeyEvent, history: &[String]) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Enter => return Edit::Accept,
            KeyCode::Esc => return Edit::Cancel,
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.chars.len(),
            KeyCode::Char('b') if ctrl => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Char('f') if ctrl => self.cursor = (self.cursor + 1).min(self.chars.len()),
            KeyCode::Char('u') if ctrl => {
                self.chars.drain(..self.cursor);
                self.cursor = 0;
            }
            KeyCode::Char('k') if ctrl => self.chars.truncate(self.cursor),
            KeyCode::Char('w') if ctrl => self.delete_word(),
            KeyCode::Char('h') if ctrl => self.backspace(),
            KeyCode::Char('d') if ctrl => self.delete(),
            KeyCode::Backspace if ctrl || alt => self.delete_word(),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.delete(),
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.chars.len()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.chars.len(),
            KeyCode::Up => self.walk(history, true),
            KeyCode::Down => self.walk(history, false),
            KeyCode::Char(c) if !ctrl && !alt && !c.is_control() => self.insert(c),
            _ => {}
        }
        Edit::Editing
    }

    fn insert(&mut self, c: char) {
        if self.chars.len() < MAX_CHARS {
            self.chars.insert(self.cursor, c);
            self.cursor += 1;
        }
    }

    fn delete(&mut self) {
        if self.cursor < self.chars.len() {
            self.chars.remove(self.cursor);
        }
    }

    fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            self.chars.remove(self.cursor);
        }
    }

    /// Deletes the word before the cursor (and the spaces after it).
    fn delete_word(&mut self) {
        let mut from = self.cursor;
        while from > 0 && self.chars[from - 1].is_whitespace() {
            from -= 1;
        }
        while from > 0 && !self.chars[from - 1].is_whitespace() {
            from -= 1;
        }
        self.chars.drain(from..self.cursor);
        self.cursor = from;
    }

    fn walk(&mut self, history: &[String], back: bool) {
        if history.is_empty() {
            return;
        }
        let next = match (self.walking, back) {
            (None, true) => {
                self.draft = self.chars.clone();
                Some(history.len() - 1)
            }
            (None, false) => return,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i + 1 < history.len() => Some(i + 1),
            (Some(_), false) => None,
        };
        self.walking = next;
        match next {
            Some(i) => self.set(&history[i]),
            None => {
                self.chars = std::mem::take(&mut self.draft);
                self.cursor = self.chars.len();
            }
        }
    }
}

/// Remembers `answer` at the end of `history` (once, not empty).
pub fn remember(history: &mut Vec<String>, answer: &str) {
    let answer = answer.trim();
    if answer.is_empty() {
        return;
    }
    history.retain(|h| h != answer);
    history.push(answer.to_owned());
    if history.len() > MAX_HISTORY {
        history.remove(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn c(ch: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(ch), KeyModifiers::CONTROL)
    }

    fn typed(line: &mut LineEditor, text: &str) {
        for ch in text.chars() {
            line.key(k(KeyCode::Char(ch)), &[]);
        }
    }

    #[test]
    fn readline_basics() {
        let mut line = LineEditor::default();
        typed(&mut line, "connection refused");
        assert_eq!(line.key(c('w'), &[]), Edit::Editing);
        assert_eq!(
            line.text(),
            "connection ",
            "Ctrl-W deletes a word, not types w"
        );
        line.key(c('a'), &[]);
        assert_eq!(line.cursor(), 0);
        typed(&mut line, "db ");
        assert_eq!(line.text(), "db connection ");
        line.key(c('e'), &[]);
        typed(&mut line, "reset");
        assert_eq!(line.text(), "db connection reset");
        line.key(k(KeyCode::Left), &[]);
        line.key(k(KeyCode::Left), &[]);
        line.key(c('k'), &[]);
        assert_eq!(line.text(), "db connection res");
        line.key(k(KeyCode::Home), &[]);
        line.key(k(KeyCode::Right), &[]);
        line.key(k(KeyCode::Right), &[]);
        line.key(c('u'), &[]);
        assert_eq!(line.text(), " connection res");
        line.key(k(KeyCode::Delete), &[]);
        assert_eq!(line.text(), "connection res");
        let alt_x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT);
        line.key(alt_x, &[]);
        assert_eq!(line.text(), "connection res", "Alt-x types nothing");
        assert_eq!(line.key(k(KeyCode::Enter), &[]), Edit::Accept);
        assert_eq!(line.key(k(KeyCode::Esc), &[]), Edit::Cancel);
    }

    #[test]
    fn history_on_up_and_down() {
        let mut history = Vec::new();
        remember(&mut history, "timeout");
        remember(&mut history, "refused");
        remember(&mut history, "timeout");
        assert_eq!(history, ["refused", "timeout"]);
        let mut line = LineEditor::default();
        typed(&mut line, "new");
        line.key(k(KeyCode::Up), &history);
        assert_eq!(line.text(), "timeout");
        line.key(k(KeyCode::Up), &history);
        assert_eq!(line.text(), "refused");
        line.key(k(KeyCode::Up), &history);
        assert_eq!(line.text(), "refused");
        line.key(k(KeyCode::Down), &history);
        assert_eq!(line.text(), "timeout");
        line.key(k(KeyCode::Down), &history);
        assert_eq!(line.text(), "new", "back to what was being typed");
    }
}
