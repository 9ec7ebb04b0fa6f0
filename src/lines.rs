//! Where a line starts and ends in a buffer of bytes: a line ends at LF,
//! CR or CRLF (as `tail::split` cuts), or at the end of the buffer.
//!
//! Pure byte arithmetic shared by everything that finds lines inside a
//! buffer it did not split itself (the block scan, the prefilter, the
//! problem search). Must not allocate or know about events.

use memchr::{memchr2, memrchr2};

/// Where the line holding byte `from` ends: its terminator, or the end.
pub fn end(bytes: &[u8], from: usize) -> usize {
    memchr2(b'\n', b'\r', &bytes[from..]).map_or(bytes.len(), |i| from + i)
}

/// The line around byte `at`, as `(start, end)`: from after the previous
/// terminator to the next one.
pub fn around(bytes: &[u8], at: usize) -> (usize, usize) {
    let start = memrchr2(b'\n', b'\r', &bytes[..at]).map_or(0, |i| i + 1);
    (start, end(bytes, at))
}

/// Where the line after the one ending at `end` starts (past a CRLF as one
/// terminator).
pub fn next(bytes: &[u8], end: usize) -> usize {
    match bytes.get(end) {
        None => end,
        Some(b'\r') if bytes.get(end + 1) == Some(&b'\n') => end + 2,
        Some(_) => end + 1,
    }
}

/// The line before the one starting at `start`, as `(start, end)`; `None`
/// at the start of `bytes`.
pub fn prev(bytes: &[u8], start: usize) -> Option<(usize, usize)> {
    if start == 0 {
        return None;
    }
    // The line before ends with the terminator just before `start`.
    let mut end = start - 1;
    if bytes[end] == b'\n' && end > 0 && bytes[end - 1] == b'\r' {
        end -= 1;
    }
    if end == start - 1 && !matches!(bytes[end], b'\n' | b'\r') {
        // `start` is the end of unterminated bytes: the last line ends there.
        end = start;
    }
    let line_start = memrchr2(b'\n', b'\r', &bytes[..end]).map_or(0, |i| i + 1);
    Some((line_start, end))
}

/// Sorts the lines `out[from..]` (as `(start, end)`) and keeps each once.
pub fn sort_unique(out: &mut Vec<(usize, usize)>, from: usize) {
    out[from..].sort_unstable();
    let mut kept = from;
    for i in from..out.len() {
        if kept == from || out[kept - 1] != out[i] {
            out[kept] = out[i];
            kept += 1;
        }
    }
    out.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The lines of `bytes` as `tail::split` would cut them: `(start, end)`.
    fn cut(bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < bytes.len() {
            let e = end(bytes, start);
            out.push((start, e));
            start = next(bytes, e);
        }
        out
    }

    #[test]
    fn every_terminator() {
        let bytes = b"a\nbb\r\nc\rd";
        assert_eq!(cut(bytes), [(0, 1), (2, 4), (6, 7), (8, 9)]);
        assert_eq!(around(bytes, 3), (2, 4));
        assert_eq!(prev(bytes, 6), Some((2, 4)));
        assert_eq!(prev(bytes, 0), None);
        assert_eq!(prev(bytes, 9), Some((8, 9)));
    }

    proptest! {
        /// Walking back with `prev` from each line start finds the line
        /// before, and `around` any byte of a line finds that line.
        #[test]
        fn prev_and_around_agree_with_the_cut(text in "[ab\r\n]{0,40}") {
            let bytes = text.as_bytes();
            let lines = cut(bytes);
            for (i, &(s, e)) in lines.iter().enumerate() {
                if i > 0 {
                    prop_assert_eq!(prev(bytes, s), Some(lines[i - 1]));
                }
                for at in s..e {
                    prop_assert_eq!(around(bytes, at), (s, e));
                }
            }
        }
    }
}
