//! Colour codes: the ANSI SGR sequences (`ESC [ 1;31 m`) build tools and CI
//! runners write, taken off a line's text before it is parsed.
//!
//! Owns: [`strip_sgr`]. Must not: touch other control sequences (cursor
//! moves, `ESC[K`, OSC titles stay in the text, inert: `sanitize` makes them
//! visible and harmless where text is shown). Invariants: a line without an
//! ESC byte is returned as it is, found with one `memchr` (no copy); only
//! complete SGR sequences (`ESC [`, parameters of digits, `;` and `:`, then
//! `m`) are removed; offsets of events still point at the raw bytes.

use std::borrow::Cow;

/// `text` without its SGR sequences (also those that taking others off
/// put together: `ESC [ ESC[0m m`).
pub fn strip_sgr(text: &str) -> Cow<'_, str> {
    let mut stripped = match strip_once(text) {
        Cow::Borrowed(_) => return Cow::Borrowed(text),
        Cow::Owned(once) => once,
    };
    while let Cow::Owned(again) = strip_once(&stripped) {
        stripped = again;
    }
    Cow::Owned(stripped)
}

fn strip_once(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let Some(first) = memchr::memchr(0x1b, bytes) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = first;
    loop {
        if let Some(len) = sgr_len(&bytes[at..]) {
            out.push_str(&text[copied..at]);
            copied = at + len;
            at = copied;
        } else {
            at += 1;
        }
        match memchr::memchr(0x1b, &bytes[at.min(bytes.len())..]) {
            Some(next) => at += next,
            None => break,
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The length of the SGR sequence at the start of `bytes`, if one is there.
fn sgr_len(bytes: &[u8]) -> Option<usize> {
    if bytes.get(1) != Some(&b'[') {
        return None;
    }
    let params = bytes[2..]
        .iter()
        .take_while(|b| b.is_ascii_digit() || matches!(b, b';' | b':'))
        .count();
    (bytes.get(2 + params) == Some(&b'm')).then_some(3 + params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn colours_come_off_other_sequences_stay() {
        assert_eq!(
            strip_sgr("[\u{1b}[1;34mINFO\u{1b}[m] \u{1b}[1;31mBUILD FAILURE\u{1b}[m"),
            "[INFO] BUILD FAILURE"
        );
        assert_eq!(strip_sgr("\u{1b}[38;5;196mred\u{1b}[0m"), "red");
        assert_eq!(strip_sgr("\u{1b}[38:2:255:0:0mrgb\u{1b}[39m"), "rgb");
        // Erase-line and a lone ESC are not colours.
        assert_eq!(strip_sgr("a\u{1b}[Kb"), "a\u{1b}[Kb");
        assert_eq!(strip_sgr("a\u{1b}"), "a\u{1b}");
        assert_eq!(strip_sgr("\u{1b}[1;31"), "\u{1b}[1;31");
        assert!(matches!(strip_sgr("plain"), Cow::Borrowed(_)));
        assert!(matches!(strip_sgr("a\u{1b}[K"), Cow::Borrowed(_)));
    }

    proptest! {
        #[test]
        fn stripping_leaves_no_sgr_and_is_idempotent(s in "(\u{1b}\\[[0-9;]{0,6}m|[ -~]|\u{1b}){0,40}") {
            let once = strip_sgr(&s).into_owned();
            prop_assert_eq!(strip_sgr(&once).into_owned(), once.clone());
            prop_assert!(once.len() <= s.len());
        }
    }
}
