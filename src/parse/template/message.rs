//! Where the message starts in a line: after its leading timestamp and
//! level, so a template is about what was said, not when.
//!
//! Owns: [`message_start`], for lines whose event carries no message start
//! of its own (`Event::message` is 0: no prefix the parser knows, or a
//! format whose message is a field); the miner takes the event's otherwise. The rules are lexical and the same
//! for every line: no format or system is named. Must not: know any system or format
//! by name, or read a clock. Invariants: the start is a char boundary of
//! the line, never past its end; a line that is all prefix keeps its last
//! word as message (a template is never empty for a non-blank line).

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

/// How many leading words may hold the level or a syslog program tag.
const HEADER_WORDS: usize = 12;

/// The byte offset where the message of `line` starts: after the leading
/// words that are parts of a timestamp (digits with `-/:.,+TZ`, month and
/// day names, a time zone), a syslog `<PRI>`, and a level word among them
/// (`INFO`, `[error]`, `<WARN>`, `E:`); and, within the first twelve words,
/// after the level word written in capitals or brackets (as the parser
/// finds it: `... RAS KERNEL INFO msg`, `... 25746 INFO nova.api msg`) and
/// after a syslog program tag (`sshd[24200]:`, `kernel[0]:`), whichever
/// comes last.
pub fn message_start(line: &str) -> usize {
    let bytes = line.as_bytes();
    let mut at = 0;
    let mut taken = 0;
    let mut leading = true;
    let mut level_seen = false;
    let mut tag_seen = false;
    let mut words = 0;
    let mut last_word = 0;
    while words < HEADER_WORDS {
        while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') {
            at += 1;
        }
        if at == bytes.len() {
            break;
        }
        let start = at;
        at = word_end(bytes, at);
        let word = &line[start..at];
        words += 1;
        last_word = start;
        if leading {
            match kind(word) {
                Word::Time => {
                    taken = at;
                    continue;
                }
                Word::Level => {
                    taken = at;
                    level_seen = true;
                    leading = false;
                    continue;
                }
                Word::Other => leading = false,
            }
        }
        if !level_seen && is_level_word(word) {
            level_seen = true;
            taken = taken.max(at);
        } else if !tag_seen && is_program_tag(word) {
            tag_seen = true;
            taken = taken.max(at);
        }
    }
    if skip_space(line, taken) >= line.len() {
        // All prefix: keep the last word.
        return last_word.min(taken);
    }
    skip_space(line, taken)
}

/// A level word as the parser reads one past the start: in capitals
/// (`INFO`, `FATAL`) or in brackets in any case (`[error]`, `<warn>`).
fn is_level_word(word: &str) -> bool {
    if word.len() < 3 || word.len() > 13 {
        return false;
    }
    let bracketed = word.starts_with(['[', '<', '(']);
    // Trimmed by bytes: every byte of a non-ASCII character is trimmed too.
    let inner = trim_bytes(word, |b| !b.is_ascii_alphanumeric());
    let upper = !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_uppercase());
    (bracketed || upper) && is_level_name(inner)
}

/// One of [`LEVELS`], in any case.
fn is_level_name(word: &str) -> bool {
    if !(3..=11).contains(&word.len()) {
        return false;
    }
    let mut lower = [0u8; 11];
    for (l, b) in lower.iter_mut().zip(word.bytes()) {
        *l = b.to_ascii_lowercase();
    }
    let lower = &lower[..word.len()];
    LEVELS.iter().any(|l| l.as_bytes() == lower)
}

/// `sshd[24200]:`, `com.apple.cts[258]:`, `sshd(pam_unix)[19939]:`: a
/// program name, its pid in brackets, a colon.
fn is_program_tag(word: &str) -> bool {
    if !word.ends_with(':') {
        return false;
    }
    let Some(rest) = word.strip_suffix("]:") else {
        return false;
    };
    let Some((name, pid)) = rest.rsplit_once('[') else {
        return false;
    };
    !name.is_empty()
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
}

/// Where the word at `at` ends: the first space or tab from there, or the
/// end. Eight bytes at a time (header words are short: `memchr`'s set-up
/// costs more than the search).
fn word_end(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let space = word ^ (ONES * u64::from(b' '));
        let tab = word ^ (ONES * u64::from(b'\t'));
        // The lowest byte marked in each is a zero byte there (a space,
        // a tab), so the lowest of both is the first one.
        let found =
            (space.wrapping_sub(ONES) & !space | tab.wrapping_sub(ONES) & !tab) & (ONES * 0x80);
        if found != 0 {
            return at + found.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    while at < bytes.len() && !matches!(bytes[at], b' ' | b'\t') {
        at += 1;
    }
    at
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
    let inner = trim_bytes(word, |b| {
        matches!(
            b,
            b'[' | b']' | b'(' | b')' | b'<' | b'>' | b',' | b':' | b'|'
        )
    });
    if inner.is_empty() {
        // `-`, `|`, `[]`: a separator of the prefix.
        return if word.len() <= 2 {
            Word::Time
        } else {
            Word::Other
        };
    }
    let first = inner.as_bytes()[0];
    if first.is_ascii_alphabetic() {
        let one_of = |list: &[&str]| list.iter().any(|w| w.eq_ignore_ascii_case(inner));
        if is_level_name(inner)
            && (inner.bytes().all(|b| b.is_ascii_uppercase()) || inner.len() != word.len())
        {
            return Word::Level;
        }
        if inner.len() <= 3 && (one_of(&MONTHS) || one_of(&DAYS) || one_of(&["utc", "gmt", "z"])) {
            return Word::Time;
        }
        return Word::Other;
    }
    let mut digits = false;
    for b in inner.bytes() {
        if b.is_ascii_digit() {
            digits = true;
        } else if !matches!(b, b'-' | b'/' | b':' | b'.' | b',' | b'+' | b'T' | b'Z') {
            return Word::Other;
        }
    }
    if digits { Word::Time } else { Word::Other }
}

/// `word` without the bytes at either end for which `trim` holds; the
/// bytes trimmed are ASCII or whole non-ASCII characters, so the result is
/// a `str` slice.
fn trim_bytes(word: &str, trim: impl Fn(u8) -> bool) -> &str {
    let bytes = word.as_bytes();
    let mut start = 0;
    let mut end = bytes.len();
    while start < end && trim(bytes[start]) {
        start += 1;
    }
    while end > start && trim(bytes[end - 1]) {
        end -= 1;
    }
    word.get(start..end).unwrap_or("")
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
            "check pass"
        );
        assert_eq!(
            message("Jun  1 07:57:30 combo logrotate: ALERT exited"),
            "exited"
        );
        assert_eq!(
            message(
                "- 1117955341 2005.06.05 R25-M0-N7-C:J02-U01 2005-06-05-00.09.01.903373 R25-M0-N7-C:J02-U01 RAS KERNEL INFO generating core.2275"
            ),
            "generating core.2275"
        );
        assert_eq!(
            message("x.log.1 2017-05-16 00:00:00.008 25746 INFO nova.api [req-1] GET"),
            "nova.api [req-1] GET"
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
        assert_eq!(
            message("2026-11-21T03:12:09.114Z\tWARN\tsome-long-component-name:\tmsg"),
            "some-long-component-name:\tmsg"
        );
        assert_eq!(message(""), "");
        assert_eq!(message("   ").trim(), "");
    }
}
