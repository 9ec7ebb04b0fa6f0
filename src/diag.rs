//! Diagnostics about files a team writes: `path:line:col: message`, the
//! source line, and a caret under the spot.
//!
//! A [`SourceText`] is one file's name and contents; a [`Loc`] is a byte span
//! in one. Both are cheap to clone and outlive parsing, so a problem found
//! late (a dangling runbook reference, a failing example) can still point at
//! the exact place it comes from.

use std::{fmt, ops::Range, sync::Arc};

use crate::sanitize::for_terminal;

/// One file's display name and contents.
#[derive(Debug)]
pub struct SourceText {
    /// The name shown in messages (`patterns/jvm.toml`, or a user's path).
    pub name: String,
    /// The whole file.
    pub text: String,
}

impl SourceText {
    /// Wraps a file for sharing among the locations that point into it.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceText> {
        Arc::new(SourceText {
            name: name.into(),
            text: text.into(),
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A byte span in a source file.
#[derive(Debug, Clone)]
pub struct Loc {
    /// The file.
    pub source: Arc<SourceText>,
    /// The bytes the location covers.
    pub span: Range<usize>,
}

impl Loc {
    /// A location in `source`.
    pub fn new(source: &Arc<SourceText>, span: Range<usize>) -> Loc {
        Loc {
            source: Arc::clone(source),
            span,
        }
    }

    /// An error at this location.
    pub fn error(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            loc: Some(self.clone()),
            path: self.source.name.clone(),
            message: message.into(),
        }
    }

    /// `path:line:col`.
    pub fn position(&self) -> String {
        let (line, col) = self.source.line_col(self.span.start);
        format!("{}:{line}:{col}", self.source.name)
    }
}

/// A problem in a file, ready to show to the person who wrote it.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Where, when the problem has a place in the file.
    pub loc: Option<Loc>,
    /// The file's display name (also when there is no location).
    pub path: String,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl Diagnostic {
    /// A problem with a whole file (it cannot be read, say).
    pub fn file(path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            loc: None,
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Renders for a terminal: the file's name, the message (which may quote
/// the file) and the source line are outside text, so each goes through
/// `sanitize::for_terminal`; the caret is placed under the sanitised line.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = for_terminal(&self.path);
        let message = for_terminal(&self.message);
        let Some(loc) = &self.loc else {
            return write!(f, "{path}: {message}");
        };
        let text = &loc.source.text;
        let (line, col) = loc.source.line_col(loc.span.start);
        writeln!(f, "{path}:{line}:{col}: {message}")?;
        let start = floor_char_boundary(text, loc.span.start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let end = floor_char_boundary(text, loc.span.end.clamp(start, line_end));
        let end_of_line = text[..line_end].trim_end_matches('\r').len().max(start);
        // Shown as drawn: tabs as one space, unsafe characters escaped.
        let shown = |part: &str| for_terminal(&part.replace('\t', " ")).into_owned();
        let before = shown(&text[line_start..start]);
        let spot = shown(&text[start..end.min(end_of_line)]);
        let after = shown(&text[end.min(end_of_line)..end_of_line]);
        let gutter = line.to_string().len();
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{line} | {before}{spot}{after}")?;
        write!(
            f,
            "{:gutter$} | {}{}",
            "",
            " ".repeat(before.chars().count()),
            "^".repeat(spot.chars().count().max(1))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_path_line_col_source_and_caret() {
        let source = SourceText::new("p.toml", "a = 1\nregex = '(x'\n");
        let diag = Loc::new(&source, 14..18).error("regex does not compile");
        assert_eq!(
            diag.to_string(),
            "p.toml:2:9: regex does not compile\n  |\n2 | regex = '(x'\n  |         ^^^^"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let source = SourceText::new("p.toml", "t = 'é'\nx = 1");
        assert_eq!(source.line_col(source.text.find('x').unwrap_or(0)), (2, 1));
        assert_eq!(source.line_col(8), (1, 8));
    }

    #[test]
    fn escape_sequences_in_the_name_message_and_line_are_made_visible() {
        let source = SourceText::new("p\x1b]52;c;SGk=\x07.toml", "id = 'a\x1b[2Jb'\nx = 1");
        let diag = Loc::new(&source, 5..15).error("bad id 'a\x1b[2Jb'");
        assert_eq!(
            diag.to_string(),
            "p\\x1b]52;c;SGk=\\x07.toml:1:6: bad id 'a\\x1b[2Jb'\n  \
             |\n1 | id = 'a\\x1b[2Jb'\n  |      ^^^^^^^^^^^"
        );
        let whole = Diagnostic::file("\x1b[31mred.toml", "unreadable");
        assert_eq!(whole.to_string(), "\\x1b[31mred.toml: unreadable");
    }

    #[test]
    fn span_at_end_of_file_does_not_panic() {
        let source = SourceText::new("p.toml", "abc");
        let diag = Loc::new(&source, 3..10).error("unexpected end");
        assert!(diag.to_string().starts_with("p.toml:1:4: unexpected end"));
    }
}
