//! Turns raw lines into events: timestamp, level, text.
//!
//! Pure: bytes in, events out; no files, no threads, no clock (the present is
//! passed in through [`TimeContext`]). Never panics on any input.

pub mod timestamp;

use std::sync::Arc;

pub use timestamp::TimeContext;

use crate::model::{Event, Level, RawLine};

/// How many leading words may hold the level (after the timestamp).
const LEVEL_WORDS: usize = 6;

/// Reads events from one source's raw lines.
#[derive(Debug, Clone)]
pub struct Parser {
    source: Arc<str>,
    time: TimeContext,
}

impl Parser {
    /// A parser for lines from `source`.
    pub fn new(source: Arc<str>, time: TimeContext) -> Parser {
        Parser { source, time }
    }

    /// The event a raw line holds.
    pub fn event(&self, raw: RawLine) -> Event {
        let (text, lossy) = match String::from_utf8(raw.bytes) {
            Ok(text) => (text, false),
            Err(err) => (String::from_utf8_lossy(err.as_bytes()).into_owned(), true),
        };
        let ts = timestamp::leading(&text, &self.time);
        let level = level(&text);
        Event {
            source: Arc::clone(&self.source),
            offset: raw.offset,
            line_no: raw.line_no,
            ts,
            level,
            text,
            lossy,
            truncated: raw.truncated,
            partial: raw.partial,
        }
    }
}

/// The level a line declares near its start: an upper-case level word
/// (`ERROR`, `FATAL:`) or one in brackets in any case (`[error]`), within the
/// first few words.
pub fn level(text: &str) -> Option<Level> {
    let head = &text[..floor_boundary(text, 160)];
    head.split([' ', '\t'])
        .filter(|word| !word.is_empty())
        .take(LEVEL_WORDS + 4)
        .find_map(|word| {
            let bracketed = word.starts_with(['[', '<', '(']);
            let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            let upper = word
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if bracketed || upper {
                Level::from_word(word)
            } else {
                None
            }
        })
}

fn floor_boundary(text: &str, max: usize) -> usize {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;
    use proptest::prelude::*;

    #[test]
    fn level_words_near_the_start() {
        assert_eq!(
            level("2026-11-21 03:12:09,114 ERROR [main] x"),
            Some(Level::Error)
        );
        assert_eq!(
            level("2026-11-21 03:04:10.123 UTC [4242] FATAL:  sorry"),
            Some(Level::Fatal)
        );
        assert_eq!(
            level("2026/11/21 03:05:12 [error] 31#31: upstream"),
            Some(Level::Error)
        );
        assert_eq!(
            level("2026-11-21 03:04:10 UTC [1] LOG:  checkpoint"),
            Some(Level::Info)
        );
        assert_eq!(
            level("2026-11-21T03:00:00Z WARN pool at 90%"),
            Some(Level::Warn)
        );
        assert_eq!(level("the error handling code ran"), None);
        assert_eq!(level("Nov 21 03:14:02 web-1 kernel: Out of memory"), None);
    }

    #[test]
    fn event_keeps_position_and_flags_invalid_utf8() {
        let ctx = TimeContext::new(TimeZone::UTC, jiff::Timestamp::UNIX_EPOCH);
        let parser = Parser::new(Arc::from("a.log"), ctx);
        let event = parser.event(RawLine {
            offset: 10,
            line_no: 2,
            bytes: b"2026-11-21T00:00:00Z ERROR \xff\x00x".to_vec(),
            truncated: false,
            partial: false,
        });
        assert_eq!((event.offset, event.line_no), (10, 2));
        assert!(event.lossy);
        assert_eq!(event.level, Some(Level::Error));
        assert_eq!(
            event.ts.map(|t| t.to_string()).as_deref(),
            Some("2026-11-21T00:00:00Z")
        );
        assert!(event.text.ends_with("\u{fffd}\0x"));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let ctx = TimeContext::new(TimeZone::UTC, jiff::Timestamp::UNIX_EPOCH);
            let parser = Parser::new(Arc::from("p"), ctx);
            let _ = parser.event(RawLine { offset: 0, line_no: 1, bytes, truncated: false, partial: false });
        }

        #[test]
        fn timestamp_like_text_never_panics(s in "[0-9<>\\[\\] :/.,TZ+-]{0,40}[A-Za-z ]{0,6}") {
            let ctx = TimeContext::new(TimeZone::UTC, jiff::Timestamp::UNIX_EPOCH);
            let _ = timestamp::leading(&s, &ctx);
        }
    }
}
