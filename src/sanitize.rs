//! Makes log text safe to draw on a terminal.
//!
//! Log content is attacker-influenced: an escape sequence in a log line must
//! not move the cursor, change the window title, clear the screen or hide
//! text. Every control character (C0 except tab, DEL, C1), every bidi
//! override or isolate, every invisible formatting character (zero-width
//! spaces and joiners, word joiner, BOM, tag characters, soft hyphen…), the
//! few glyphs that terminals draw far wider than the one or two cells they
//! are counted as, and combining marks stacked beyond a few on one character
//! (which draw over neighbouring lines) are replaced by a visible escape such
//! as `\x1b` or `\u{200b}`, so the evidence stays readable and nothing is
//! interpreted or hidden.
//!
//! Invariant: the output holds none of those characters, and the text that
//! is left only ever occupies the cells `unicode-width` says it does.

use std::{borrow::Cow, fmt::Write, path::Path};

use unicode_width::UnicodeWidthChar;

/// Combining marks kept on one character; more are escaped.
const MAX_MARKS: usize = 2;

/// Whether `c` must not reach a terminal as is, whatever comes before it.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c,
            // Bidi embeddings, overrides, isolates and marks.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
            // Invisible: zero-width space / non-joiner / joiner, word joiner
            // and invisible operators, BOM, soft hyphen, combining grapheme
            // joiner, Mongolian vowel separator, Hangul fillers,
            // interlinear annotations, tag characters.
            | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}'
            | '\u{034F}' | '\u{180E}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}'
            // Glyphs drawn over many cells while counted as one or two.
            | '\u{FDFD}' | '\u{2E3A}' | '\u{2E3B}' | '\u{12219}' | '\u{1242B}' | '\u{A9C5}')
}

/// `text` with every unsafe character written as a visible escape.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if text.is_ascii() && !text.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return Cow::Borrowed(text);
    }
    let mut marks = 0;
    let mut changed = false;
    for c in text.chars() {
        let (unsafe_c, next) = classify(c, marks);
        marks = next;
        if unsafe_c {
            changed = true;
            break;
        }
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut marks = 0;
    for c in text.chars() {
        let (unsafe_c, next) = classify(c, marks);
        marks = next;
        if !unsafe_c {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// A path as [`for_terminal`] shows it: a file's name is chosen by whoever
/// created it, so it is outside text like a log line.
pub fn path(path: &Path) -> String {
    for_terminal(&path.to_string_lossy()).into_owned()
}

/// Whether `c` is unsafe after `marks` combining marks, and how many marks
/// precede the next character.
fn classify(c: char, marks: usize) -> (bool, usize) {
    if is_unsafe(c) {
        return (true, 0);
    }
    if c.width() == Some(0) {
        // A combining mark (or another zero-width character): a few are
        // accents, a pile of them is "zalgo" text drawn over other lines.
        return (marks >= MAX_MARKS, marks + 1);
    }
    (false, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_are_made_visible() {
        assert_eq!(for_terminal("plain\ttext é"), "plain\ttext é");
        assert_eq!(for_terminal("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
        assert_eq!(for_terminal("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
        assert_eq!(
            for_terminal("a\rb\x08c\x7f\u{9b}"),
            "a\\x0db\\x08c\\x7f\\x9b"
        );
        assert_eq!(for_terminal("user\u{202E}gnp.exe"), "user\\u{202e}gnp.exe");
    }

    #[test]
    fn invisible_and_overwide_characters_are_made_visible() {
        assert_eq!(for_terminal("pass\u{200B}word"), "pass\\u{200b}word");
        assert_eq!(for_terminal("\u{FEFF}start"), "\\u{feff}start");
        assert_eq!(for_terminal("a\u{E0041}b"), "a\\u{e0041}b");
        assert_eq!(for_terminal("x\u{FDFD}y"), "x\\u{fdfd}y");
        // Accents stay (precomposed or combining), piles of marks do not.
        assert_eq!(for_terminal("e\u{301}t\u{e9}"), "e\u{301}t\u{e9}");
        assert_eq!(
            for_terminal("a\u{301}\u{302}\u{303}\u{304}"),
            "a\u{301}\u{302}\\u{0303}\\u{0304}"
        );
        // Wide characters are drawn as they are (two cells each).
        assert_eq!(for_terminal("注文 🚀"), "注文 🚀");
    }

    proptest! {
        #[test]
        fn output_has_no_control_characters(s in any::<String>()) {
            let out = for_terminal(&s);
            prop_assert!(!out.chars().any(is_unsafe));
        }
    }
}
