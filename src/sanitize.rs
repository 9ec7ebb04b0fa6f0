//! Makes log text safe to draw on a terminal.
//!
//! Log content is attacker-influenced: an escape sequence in a log line must
//! not move the cursor, change the window title, clear the screen or hide
//! text. Every control character (C0 except tab, DEL, C1) and every bidi
//! override or isolate is replaced by a visible escape such as `\x1b`, so
//! the evidence stays readable and nothing is interpreted.

use std::{borrow::Cow, fmt::Write};

/// Whether `c` must not reach a terminal as is.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// `text` with every unsafe character written as a visible escape.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
    Cow::Owned(out)
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

    proptest! {
        #[test]
        fn output_has_no_control_characters(s in any::<String>()) {
            let out = for_terminal(&s);
            prop_assert!(!out.chars().any(is_unsafe));
        }
    }
}
