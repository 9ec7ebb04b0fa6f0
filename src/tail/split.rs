//! Splits a byte stream into lines on LF, CRLF and bare CR, keeping each
//! line's byte offset and line number.
//!
//! Pure and incremental: bytes arrive in chunks of any size and the lines that
//! come out are the same whatever the chunking (a property test checks it). A
//! line longer than the cap keeps its first `max_line` bytes and is marked
//! truncated; the rest of it is skipped, so memory stays bounded on a line of
//! any length.

use memchr::memchr2;

use crate::model::RawLine;

/// The default cap on one line's length: 1 MiB.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// Incremental line splitter over one stream.
#[derive(Debug, Clone)]
pub struct LineSplitter {
    max_line: usize,
    buf: Vec<u8>,
    truncated: bool,
    /// Stream offset of the current line's first byte.
    line_start: u64,
    /// Stream offset of the next byte to arrive.
    pos: u64,
    /// Line number of the current line.
    line_no: u64,
    /// The last byte was a CR: an LF next belongs to it.
    pending_cr: bool,
}

impl LineSplitter {
    /// A splitter at the start of a stream.
    pub fn new(max_line: usize) -> LineSplitter {
        LineSplitter::resume(0, 1, max_line)
    }

    /// A splitter whose next byte is at `offset`, the start of line `line_no`.
    pub fn resume(offset: u64, line_no: u64, max_line: usize) -> LineSplitter {
        LineSplitter {
            max_line: max_line.max(1),
            buf: Vec::new(),
            truncated: false,
            line_start: offset,
            pos: offset,
            line_no,
            pending_cr: false,
        }
    }

    /// Feeds the next bytes of the stream; calls `emit` for each line they end.
    pub fn push(&mut self, chunk: &[u8], emit: &mut impl FnMut(RawLine)) {
        if chunk.is_empty() {
            return;
        }
        let base = self.pos;
        self.pos += chunk.len() as u64;
        let mut i = 0;
        if std::mem::take(&mut self.pending_cr) && chunk.first() == Some(&b'\n') {
            // The LF of a CRLF split across chunks.
            i = 1;
            self.line_start += 1;
        }
        while let Some(k) = memchr2(b'\n', b'\r', &chunk[i..]) {
            let end = i + k;
            self.append(&chunk[i..end]);
            let mut next = end + 1;
            if chunk[end] == b'\r' {
                match chunk.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
            emit(self.take_line(false));
            self.line_start = base + next as u64;
            i = next;
        }
        self.append(&chunk[i..]);
    }

    /// The stream has ended: a last line without a terminator comes out,
    /// marked partial.
    pub fn finish(&mut self, emit: &mut impl FnMut(RawLine)) {
        if self.pos > self.line_start {
            emit(self.take_line(true));
            self.line_start = self.pos;
        }
    }

    /// Stream offset of the first byte not yet part of an emitted line.
    pub fn line_start(&self) -> u64 {
        self.line_start
    }

    /// Line number of the next line to be emitted.
    pub fn next_line_no(&self) -> u64 {
        self.line_no
    }

    fn append(&mut self, bytes: &[u8]) {
        let room = self.max_line.saturating_sub(self.buf.len());
        if bytes.len() > room {
            self.truncated = true;
        }
        self.buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn take_line(&mut self, partial: bool) -> RawLine {
        let line = RawLine {
            offset: self.line_start,
            line_no: self.line_no,
            bytes: std::mem::take(&mut self.buf),
            truncated: std::mem::take(&mut self.truncated),
            partial,
        };
        self.line_no += 1;
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(chunks: &[&[u8]], max_line: usize) -> Vec<RawLine> {
        let mut splitter = LineSplitter::new(max_line);
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, &mut |line| lines.push(line));
        }
        splitter.finish(&mut |line| lines.push(line));
        lines
    }

    fn summary(lines: &[RawLine]) -> Vec<(u64, u64, String, bool, bool)> {
        lines
            .iter()
            .map(|l| {
                let text = String::from_utf8_lossy(&l.bytes).into_owned();
                (l.offset, l.line_no, text, l.truncated, l.partial)
            })
            .collect()
    }

    #[test]
    fn lf_crlf_and_bare_cr_end_lines() {
        let lines = split(&[b"a\nbb\r\nc\rd"], 100);
        assert_eq!(
            summary(&lines),
            [
                (0, 1, "a".into(), false, false),
                (2, 2, "bb".into(), false, false),
                (6, 3, "c".into(), false, false),
                (8, 4, "d".into(), false, true),
            ]
        );
    }

    #[test]
    fn crlf_split_across_chunks_is_one_terminator() {
        let lines = split(&[b"ab\r", b"\ncd\n"], 100);
        assert_eq!(
            summary(&lines),
            [
                (0, 1, "ab".into(), false, false),
                (4, 2, "cd".into(), false, false)
            ]
        );
    }

    #[test]
    fn empty_lines_count() {
        let lines = split(&[b"\n\n\r\n"], 100);
        assert_eq!(
            lines.iter().map(|l| l.offset).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(lines.iter().all(|l| l.bytes.is_empty() && !l.partial));
    }

    #[test]
    fn long_lines_are_capped_and_marked() {
        let lines = split(&[b"abcdefgh", b"ij\nxy\n"], 4);
        assert_eq!(
            summary(&lines),
            [
                (0, 1, "abcd".into(), true, false),
                (11, 2, "xy".into(), false, false)
            ]
        );
    }

    #[test]
    fn resume_continues_numbering() {
        let mut splitter = LineSplitter::resume(100, 7, 10);
        let mut lines = Vec::new();
        splitter.push(b"x\n", &mut |l| lines.push(l));
        assert_eq!((lines[0].offset, lines[0].line_no), (100, 7));
        assert_eq!((splitter.line_start(), splitter.next_line_no()), (102, 8));
    }

    /// One case: the bytes, where to cut them into chunks, the line cap.
    fn chunks_case() -> impl Strategy<Value = (Vec<u8>, Vec<usize>, usize)> {
        (
            proptest::collection::vec(
                prop_oneof![
                    Just(b'\n'),
                    Just(b'\r'),
                    Just(b'a'),
                    Just(b'b'),
                    any::<u8>()
                ],
                0..200,
            ),
            proptest::collection::vec(0usize..200, 0..8),
            1usize..50,
        )
    }

    /// The lines do not depend on how the stream is cut into chunks, and
    /// each offset points at its line's bytes in the stream.
    fn chunking_agrees(
        (data, cuts, max_line): (Vec<u8>, Vec<usize>, usize),
    ) -> Result<(), TestCaseError> {
        let whole = split(&[&data], max_line);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        cuts.sort_unstable();
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut prev = 0;
        for cut in cuts {
            chunks.push(&data[prev..cut]);
            prev = cut;
        }
        chunks.push(&data[prev..]);
        prop_assert_eq!(summary(&split(&chunks, max_line)), summary(&whole));
        for line in &whole {
            let start = line.offset as usize;
            prop_assert_eq!(&data[start..start + line.bytes.len()], &line.bytes[..]);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn chunking_does_not_change_lines(case in chunks_case()) {
            chunking_agrees(case)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::test_support::NIGHTLY_CASES))]

        #[test]
        #[ignore = "nightly: many cases, run by hand with `cargo test -- --ignored`"]
        fn chunking_does_not_change_lines_nightly(case in chunks_case()) {
            chunking_agrees(case)?;
        }
    }
}
