//! The fast path of a scan: one stream read in blocks of whole lines, where
//! only the lines some signature may match are turned into events.
//!
//! Two halves. [`take_lines`] is pure and may run on any thread: for one
//! block, the lines some regex matches (the prefilter's literal search over
//! the whole block, confirmed per line by the regexes that own the literals
//! found) plus the lines that read differently once decoded and cut (not
//! valid UTF-8, or longer than the cap), which are always taken. [`Pass`]
//! runs in stream order: each taken line becomes exactly the event the
//! line-by-line path makes of it (same offset, line number, text, flags),
//! with the same detection time: its own timestamp, else the latest one
//! written on an earlier line of the same stream, else the clock. Lines not
//! taken cannot match, so the alerts are those of the line-by-line path (a
//! property test checks it).

use jiff::Timestamp;
use memchr::{memchr2, memrchr2};

use crate::{
    model::{Event, RawLine},
    parse::Parser,
    signature::prefilter::{Prefilter, Scratch},
    tail::read::{Block, count_line_ends},
};

/// The lines of one block a scan must look at, as `(start, end)` in the
/// block (`end` is where the terminator is), sorted, each once: those some
/// regex of `prefilter` matches, and those that are not valid UTF-8 or are
/// longer than `max_line`. `out` is cleared first.
pub(super) fn take_lines(
    prefilter: &Prefilter,
    scratch: &mut Scratch,
    bytes: &[u8],
    max_line: usize,
    out: &mut Vec<(usize, usize)>,
) {
    out.clear();
    prefilter.matching_lines(bytes, scratch, out);
    let matched = out.len();
    forced_lines(bytes, max_line.max(1), out);
    if out.len() > matched {
        out.sort_unstable();
        out.dedup();
    }
}

/// The state of one stream's pass, in stream order.
pub(super) struct Pass {
    parser: Parser,
    max_line: usize,
    /// The latest timestamp written on a line before the current block's
    /// lines from `known_at` on.
    known_ts: Option<Timestamp>,
    /// Index in the current block up to which `known_ts` accounts for lines.
    known_at: usize,
}

impl Pass {
    pub(super) fn new(parser: Parser, max_line: usize) -> Pass {
        Pass {
            parser,
            max_line: max_line.max(1),
            known_ts: None,
            known_at: 0,
        }
    }

    /// Hands each of `lines` (from [`take_lines`]) of `block` to `emit`, as
    /// an event with the time detection uses for it (`clock` when no line so
    /// far had one).
    pub(super) fn block<E>(
        &mut self,
        block: &Block,
        lines: &[(usize, usize)],
        clock: &mut dyn FnMut() -> Timestamp,
        emit: &mut dyn FnMut(Event, Timestamp) -> Result<(), E>,
    ) -> Result<(), E> {
        let bytes = block.bytes();
        self.known_at = 0;
        let (mut cursor, mut cursor_line) = (0, block.line_no);
        for &(start, end) in lines {
            cursor_line += count_line_ends(&bytes[cursor..start]);
            cursor = start;
            let text = &bytes[start..end];
            let event = self.parser.event(RawLine {
                offset: block.offset + start as u64,
                line_no: cursor_line,
                bytes: text[..text.len().min(self.max_line)].to_vec(),
                truncated: text.len() > self.max_line,
                partial: block.partial_end && end == bytes.len(),
            });
            let ts = match event.ts {
                Some(ts) => Some(ts),
                None => self
                    .latest_ts(bytes, self.known_at, start)
                    .or(self.known_ts),
            };
            self.known_ts = ts;
            self.known_at = next_line(bytes, end);
            let at = ts.unwrap_or_else(&mut *clock);
            emit(event, at)?;
        }
        // Account for the rest of the block, for lines of the next one.
        let end = bytes.len();
        let tail_ts = if block.partial_end {
            let last = memrchr2(b'\n', b'\r', bytes).map_or(0, |i| i + 1);
            self.line_ts(&bytes[last..])
                .or_else(|| self.latest_ts(bytes, self.known_at, last))
        } else {
            self.latest_ts(bytes, self.known_at, end)
        };
        self.known_ts = tail_ts.or(self.known_ts);
        self.known_at = end;
        Ok(())
    }

    /// A line longer than the block buffer: always taken.
    pub(super) fn long_line(
        &mut self,
        raw: RawLine,
        clock: &mut dyn FnMut() -> Timestamp,
    ) -> (Event, Timestamp) {
        let event = self.parser.event(raw);
        self.known_ts = event.ts.or(self.known_ts);
        let at = self.known_ts.unwrap_or_else(clock);
        (event, at)
    }

    /// The timestamp of a line: that of the event the parser makes of it.
    fn line_ts(&self, line: &[u8]) -> Option<Timestamp> {
        self.parser
            .event(RawLine {
                offset: 0,
                line_no: 0,
                bytes: line[..line.len().min(self.max_line)].to_vec(),
                truncated: line.len() > self.max_line,
                partial: false,
            })
            .ts
    }

    /// The timestamp of the last line in `bytes[from..to]` that has one;
    /// `from` and `to` are line starts.
    fn latest_ts(&self, bytes: &[u8], from: usize, to: usize) -> Option<Timestamp> {
        let mut next = to;
        while next > from {
            // The line before `next` ends with the terminator just before it.
            let mut end = next - 1;
            if bytes[end] == b'\n' && end > from && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            let start = memrchr2(b'\n', b'\r', &bytes[from..end]).map_or(from, |i| from + i + 1);
            if let Some(ts) = self.line_ts(&bytes[start..end]) {
                return Some(ts);
            }
            next = start;
        }
        None
    }
}

/// Where the line after the one ending at `end` starts.
fn next_line(bytes: &[u8], end: usize) -> usize {
    match bytes.get(end) {
        None => end,
        Some(b'\r') if bytes.get(end + 1) == Some(&b'\n') => end + 2,
        Some(_) => end + 1,
    }
}

/// The line around byte `at`: from after the previous terminator to the next.
fn line_around(bytes: &[u8], at: usize) -> (usize, usize) {
    let start = memrchr2(b'\n', b'\r', &bytes[..at]).map_or(0, |i| i + 1);
    let end = memchr2(b'\n', b'\r', &bytes[at..]).map_or(bytes.len(), |i| at + i);
    (start, end)
}

/// Appends the lines of `bytes` that must be taken whatever the prefilter
/// says: those that are not valid UTF-8 and those longer than `max_line`.
fn forced_lines(bytes: &[u8], max_line: usize, out: &mut Vec<(usize, usize)>) {
    let mut from = 0;
    while from < bytes.len() {
        match std::str::from_utf8(&bytes[from..]) {
            Ok(_) => break,
            Err(err) => {
                let line = line_around(bytes, from + err.valid_up_to());
                out.push(line);
                from = line.1 + 1;
            }
        }
    }
    if bytes.len() > max_line {
        // A line longer than `max_line` holds a whole aligned window of
        // `max_line / 2` bytes with no terminator: probing one window per
        // half-cap finds it with a few short searches.
        let half = (max_line / 2).max(1);
        let mut at = 0;
        while at + half <= bytes.len() {
            if memchr2(b'\n', b'\r', &bytes[at..at + half]).is_none() {
                let line = line_around(bytes, at);
                if line.1 - line.0 > max_line {
                    out.push(line);
                }
                at = (line.1 / half + 1) * half;
            } else {
                at += half;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_lines_are_invalid_or_too_long() {
        let bytes = b"ok\nbad \xff here\r\nfine\n0123456789abcdef\nend";
        let mut out = Vec::new();
        forced_lines(bytes, 8, &mut out);
        out.sort_unstable();
        out.dedup();
        let texts: Vec<&[u8]> = out.iter().map(|&(s, e)| &bytes[s..e]).collect();
        assert_eq!(texts, [&b"bad \xff here"[..], &b"0123456789abcdef"[..]]);
    }

    #[test]
    fn an_invalid_sequence_at_a_line_end_stays_in_its_line() {
        let bytes = b"a\xc3\nb\n";
        let mut out = Vec::new();
        forced_lines(bytes, 100, &mut out);
        assert_eq!(out, [(0, 2)]);
    }
}
