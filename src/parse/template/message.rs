//! Where the message starts in a line: after its leading timestamp and
//! level, so a template is about what was said, not when.
//!
//! Owns: [`message_start`], a stand-in until events carry the start of
//! their message from the format's own prefix (timestamp, level, host, pid):
//! then the miner takes that instead. Must not: know any system or format
//! by name, or read a clock. Invariants: the start is a char boundary of
//! the line, never past its end; a line that is all prefix keeps its last
//! word as message (a template is never empty for a non-blank line).

/// How many leading words may be timestamp or level.
const MAX_PREFIX_WORDS: usize = 8;

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const LEVELS: [&str; 20] = [
    "trace",
    "debug",
    "info",
    "information",
    "notice",
    "warn",
    "warning",
    "error",
    "err",
    "critical",
    "crit",
    "alert",
    "fatal",
    "panic",
    "emerg",
    "severe",
    "dbg",
    "inf",
    "wrn",
    "log",
];

/// The byte offset where the message of `line` starts: after the leading
/// words that are parts of a timestamp (digits with `-/:.,+TZ`, month and
/// day names, a time zone), a syslog `<PRI>`, and the first level word
/// (`INFO`, `[error]`, `<WARN>`, `E:`) among them; nothing else is taken.
pub fn message_start(line: &str) -> usize {
    let bytes = line.as_bytes();
    let mut at = 0;
    let mut taken = 0;
    let mut last_word = 0;
    let mut words = 0;
    while words < MAX_PREFIX_WORDS {
        while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') {
            at += 1;
        }
        if at == bytes.len() {
            break;
        }
        let start = at;
        while at < bytes.len() && !matches!(bytes[at], b' ' | b'\t') {
            at += 1;
        }
        let word = &line[start..at];
        last_word = start;
        words += 1;
        match kind(word) {
            Word::Time => taken = at,
            Word::Level => {
                taken = at;
                break;
            }
            Word::Other => break,
        }
    }
    if skip_space(line, taken) >= line.len() {
        // All prefix: keep the last word.
        return last_word.min(taken);
    }
    skip_space(line, taken)
}

fn skip_space(line: &str, mut at: usize) -> usize {
    let bytes = line.as_bytes();
    while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') {
        at += 1;
    }
    at
}

enum Word {
    Time,
    Level,
    Other,
}

fn kind(word: &str) -> Word {
    let inner = word
        .trim_matches(|c: char| matches!(c, '[' | ']' | '(' | ')' | '<' | '>' | ',' | ':' | '|'));
    if inner.is_empty() {
        // `-`, `|`, `[]`: a separator of the prefix.
        return if word.len() <= 2 {
            Word::Time
        } else {
            Word::Other
        };
    }
    let lower = inner.to_ascii_lowercase();
    if LEVELS.contains(&lower.as_str())
        && (inner.bytes().all(|b| b.is_ascii_uppercase()) || inner.len() != word.len())
    {
        return Word::Level;
    }
    if MONTHS.contains(&lower.as_str()) || DAYS.contains(&lower.as_str()) {
        return Word::Time;
    }
    if matches!(lower.as_str(), "utc" | "gmt" | "z") {
        return Word::Time;
    }
    let digits = inner.bytes().filter(u8::is_ascii_digit).count();
    let timeish = inner.bytes().all(|b| {
        b.is_ascii_digit() || matches!(b, b'-' | b'/' | b':' | b'.' | b',' | b'+' | b'T' | b'Z')
    });
    if digits >= 1 && timeish {
        return Word::Time;
    }
    Word::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(line: &str) -> &str {
        &line[message_start(line)..]
    }

    #[test]
    fn timestamp_and_level_are_taken_off() {
        assert_eq!(
            message("2026-11-21 03:12:09,114 ERROR [main] c.e.Foo - boom"),
            "[main] c.e.Foo - boom"
        );
        assert_eq!(
            message("081109 203615 148 INFO dfs.DataNode$PacketResponder: x"),
            "dfs.DataNode$PacketResponder: x"
        );
        assert_eq!(
            message("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass"),
            "combo sshd(pam_unix)[19939]: check pass"
        );
        assert_eq!(
            message("[Sun Dec 04 04:47:44 2005] [error] mod_jk child init 1 -2"),
            "mod_jk child init 1 -2"
        );
        assert_eq!(
            message("2026/11/21 02:19:07 [warn] 31#31: *128981 a client"),
            "31#31: *128981 a client"
        );
        assert_eq!(
            message("the error handling code ran"),
            "the error handling code ran"
        );
        assert_eq!(message("error: disk full"), "disk full");
        assert_eq!(message("2026-11-21 ERROR"), "ERROR");
        assert_eq!(message(""), "");
        assert_eq!(message("   ").trim(), "");
    }
}
