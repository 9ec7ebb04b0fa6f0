//! The fast path of a scan: one stream read in blocks of whole lines, where
//! only the lines some signature may match, or a problem-like event may
//! hold, are turned into events.
//!
//! Two halves. [`take_lines`] is pure and may run on any thread: for one
//! block, the lines some regex matches (the prefilter's literal search over
//! the whole block, confirmed per line by the regexes that own the literals
//! found), the lines a problem-like event may hold (a literal search of
//! its own), plus the lines that read differently once decoded and cut (not
//! valid UTF-8, or longer than the cap), which are always taken. [`Pass`]
//! runs in stream order: each taken line becomes exactly the event the
//! line-by-line path makes of it (same offset, line number, text, flags),
//! with the same detection time: its own timestamp, else the latest one
//! written on an earlier line of the same stream, else the clock. Lines not
//! taken cannot match, so the alerts and problems are those of the
//! line-by-line path (a property test checks it).

use jiff::Timestamp;
use memchr::memchr2;

use crate::{
    lines,
    model::{Event, RawLine},
    parse::{Format, SourceReader},
    signature::{
        prefilter::{Prefilter, Scratch},
        problem,
    },
    tail::read::{Block, count_line_ends, line_starts},
};

/// The lines of one block a scan must look at (see [`take_lines`]).
#[derive(Debug, Default)]
pub(super) struct Taken {
    /// Every line to look at, as `(start, end)` in the block (`end` is
    /// where the terminator is), sorted, each once.
    pub(super) lines: Vec<(usize, usize)>,
    /// The starts of those some signature may match, sorted: the rest only
    /// a problem-like event may hold, and an event none of whose lines is
    /// here matches no signature.
    pub(super) signature: Vec<usize>,
    /// The line number of each of `lines` in the block (its first line is
    /// 0).
    pub(super) line_nos: Vec<u64>,
    /// Scratch: the start of every line of the block.
    starts: Vec<usize>,
}

impl Taken {
    /// The one line of a view that is a single (long) line.
    pub(super) fn whole(len: usize) -> Taken {
        Taken {
            lines: vec![(0, len)],
            signature: vec![0],
            line_nos: vec![0],
            starts: Vec::new(),
        }
    }
}

/// The lines of one block a scan must look at: those some regex of
/// `prefilter` matches and those that are not valid UTF-8, are longer than
/// `max_line` or hold colour codes (the signatures' lines), then those a
/// problem-like event may hold ([`problem::candidate_lines`], the level
/// spellings the stream's format reads). `out` is cleared first.
pub(super) fn take_lines(
    prefilter: &Prefilter,
    scratch: &mut Scratch,
    bytes: &[u8],
    max_line: usize,
    format: Format,
    out: &mut Taken,
) {
    let Taken {
        lines,
        signature,
        line_nos,
        starts,
    } = out;
    lines.clear();
    signature.clear();
    line_nos.clear();
    starts.clear();
    prefilter.matching_lines(bytes, scratch, lines);
    let matched = lines.len();
    forced_lines(bytes, max_line.max(1), lines);
    sort_once(lines, matched);
    signature.extend(lines.iter().map(|&(start, _)| start));
    let known = lines.len();
    line_starts(bytes, starts);
    problem::candidate_lines(bytes, starts, format, lines);
    sort_once(lines, known);
    // Each line's number is its place among the line starts (both sorted).
    let mut at = 0;
    for &(start, _) in lines.iter() {
        at += starts[at..].partition_point(|&s| s < start);
        debug_assert_eq!(starts.get(at), Some(&start), "a taken line starts a line");
        line_nos.push(at as u64);
    }
}

/// Sorts `lines` and keeps each once, when more than its first `sorted`
/// (already sorted, each once) are there.
fn sort_once(lines: &mut Vec<(usize, usize)>, sorted: usize) {
    if lines.len() > sorted {
        lines.sort_unstable();
        lines.dedup();
    }
}

/// The lines of a stream a pass looks at next: a block of whole lines, or
/// one line longer than a block (already cut at the cap).
#[derive(Clone, Copy)]
pub(super) struct View<'b> {
    /// The lines, each with its terminator (the last may have none).
    pub(super) bytes: &'b [u8],
    /// Stream offset of the first byte.
    pub(super) offset: u64,
    /// Line number of the first line: the pass numbers lines itself (the
    /// reader does not count them), this is 0 until it does.
    line_no: u64,
    /// The last line has no terminator and the stream ends with it.
    pub(super) partial_end: bool,
    /// The view is one line that was cut at the cap.
    pub(super) cut: bool,
}

impl<'b> View<'b> {
    pub(super) fn block(block: &'b Block) -> View<'b> {
        View {
            bytes: block.bytes(),
            offset: block.offset,
            line_no: 0,
            partial_end: block.partial_end,
            cut: false,
        }
    }

    pub(super) fn long(raw: &'b RawLine) -> View<'b> {
        View {
            bytes: &raw.bytes,
            offset: raw.offset,
            line_no: 0,
            partial_end: raw.partial,
            cut: raw.truncated,
        }
    }
}

/// Where the source reader's next line is.
#[derive(Debug, Clone, Copy)]
enum At {
    /// In the carried lines of earlier views.
    Carry(usize),
    /// At this byte of the current view.
    View(usize),
}

/// A line of the current view or the carry, with its number.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    at: At,
    line_no: u64,
}

/// The state of one stream's pass, in stream order.
///
/// A taken line's event is found by walking back to a line that starts an
/// event whatever came before it ([`SourceReader::starts_event`]), then
/// feeding the source reader from there until the event is complete: the
/// reader's state is then exactly that of the line-by-line path. Lines of
/// earlier views from their last such start are carried, so that an event
/// may span views.
pub(super) struct Pass {
    source: SourceReader,
    max_line: usize,
    /// The latest timestamp of a line before view position `known_at`.
    known_ts: Option<Timestamp>,
    known_at: usize,
    /// The lines of earlier views from the last one that surely starts an
    /// event (at most [`MAX_CARRY`]).
    carry: Vec<Event>,
    /// The latest timestamp before the first carried line.
    carry_before: Option<Timestamp>,
    /// The next line the source reader expects, when its state is exact.
    fed: Option<Cursor>,
    /// The source reader holds an event with a taken line that reached the
    /// end of the previous view.
    open: bool,
    /// The line after the last event handed out.
    emitted_to: u64,
    /// The latest timestamp before the current view.
    view_before: Option<Timestamp>,
    /// The present, for the source reader (whose idle limit a pass never
    /// uses).
    now: Timestamp,
    /// The event the first line to feed makes on its own, when
    /// [`Pass::event_start`] read it.
    first: Option<Event>,
    /// The line number of the next view's first line.
    next_line: u64,
    /// Scratch of [`Pass::view`]: the line numbers of the taken lines, and
    /// of those some signature may match.
    line_nos: Vec<u64>,
    signature_nos: Vec<u64>,
}

/// At most this many lines are carried from one view to the next (an
/// event longer than that read in blocks may be cut differently than line
/// by line).
const MAX_CARRY: usize = 2_000;

impl Pass {
    pub(super) fn new(source: SourceReader, max_line: usize, now: Timestamp) -> Pass {
        Pass {
            view_before: None,
            now,
            source,
            max_line: max_line.max(1),
            known_ts: None,
            known_at: 0,
            carry: Vec::new(),
            carry_before: None,
            fed: None,
            open: false,
            emitted_to: 0,
            first: None,
            next_line: 1,
            line_nos: Vec::new(),
            signature_nos: Vec::new(),
        }
    }

    /// Hands each event holding one of `taken`'s lines of `view` to `emit`,
    /// with its time (its own, else the latest earlier line's; `None` when
    /// no line so far had one) and whether a signature may match it (false
    /// when it lies in this view and none of its lines is one of `taken`'s
    /// signature lines).
    pub(super) fn view<E>(
        &mut self,
        view: &View<'_>,
        taken: &Taken,
        emit: &mut dyn FnMut(Event, Option<Timestamp>, bool) -> Result<(), E>,
    ) -> Result<(), E> {
        let view = &View {
            line_no: self.next_line,
            ..*view
        };
        // A block's lines all end but its last, which ends unless it is the
        // stream's partial last line; a long line is one line.
        self.next_line += match taken.starts.len() {
            0 => 1,
            starts => starts as u64 - u64::from(view.partial_end),
        };
        self.known_at = 0;
        self.view_before = self.known_ts;
        self.fed = match self.open {
            true => Some(Cursor {
                at: At::View(0),
                line_no: view.line_no,
            }),
            false => None,
        };
        // The line number of each taken line, and of each signature line.
        let (mut line_nos, mut signature) = (
            std::mem::take(&mut self.line_nos),
            std::mem::take(&mut self.signature_nos),
        );
        line_nos.clear();
        signature.clear();
        let mut starts = taken.signature.iter().peekable();
        for (&(start, _), &line) in taken.lines.iter().zip(&taken.line_nos) {
            let line_no = view.line_no + line;
            line_nos.push(line_no);
            if starts.next_if_eq(&&start).is_some() {
                signature.push(line_no);
            }
        }
        let may_match = |event: &Event| {
            let from = signature.partition_point(|&n| n < event.line_no);
            event.line_no < view.line_no
                || signature
                    .get(from)
                    .is_some_and(|&n| n < event.line_no + u64::from(event.lines))
        };
        let mut result = Ok(());
        let mut out = |event: Event, at: Option<Timestamp>, target: u64| {
            if result.is_ok() && event.line_no + u64::from(event.lines) > target {
                let may_match = may_match(&event);
                result = emit(event, at, may_match);
            }
        };
        if self.open
            && let Some((_, target)) = self.source.held()
        {
            self.open = self.feed(view, target, &mut out);
        }
        for (&(start, _), &line_no) in taken.lines.iter().zip(&line_nos) {
            if self.open || line_no < self.emitted_to {
                continue;
            }
            if self.fed.is_some_and(|fed| fed.line_no > line_no) {
                // The source reader holds this line already: feeding on
                // hands its event out.
                self.open = self.feed(view, line_no, &mut out);
                continue;
            }
            let (begin, first) = self.event_start(view, start, line_no);
            match self.fed {
                Some(fed) if begin.line_no < fed.line_no => {}
                _ => {
                    // The time before the event counts only when its first
                    // line has none.
                    let before = match (&first, begin.at) {
                        (Some(first), _) if first.ts.is_some() => None,
                        (_, At::Carry(_)) => self.carry_before,
                        (_, At::View(pos)) => self.before(view, pos),
                    };
                    self.source.reset(before);
                    self.fed = Some(begin);
                    self.first = first;
                }
            }
            self.open = self.feed(view, line_no, &mut out);
        }
        self.line_nos = line_nos;
        self.signature_nos = signature;
        result?;
        self.carry_over(view, taken);
        Ok(())
    }

    /// Feeds lines from `self.fed` on until the event holding line
    /// `target` is handed out (events before it are only context); whether
    /// it is still held at the end of the view.
    fn feed(
        &mut self,
        view: &View<'_>,
        target: u64,
        out: &mut dyn FnMut(Event, Option<Timestamp>, u64),
    ) -> bool {
        let Some(mut fed) = self.fed else {
            return false;
        };
        let bytes = view.bytes;
        let mut done = false;
        loop {
            let line = match fed.at {
                At::Carry(i) if i < self.carry.len() => {
                    fed.at = At::Carry(i + 1);
                    self.carry[i].clone()
                }
                At::Carry(_) => {
                    fed.at = At::View(0);
                    continue;
                }
                At::View(pos) if pos < bytes.len() => {
                    let end = lines::end(bytes, pos);
                    fed.at = At::View(lines::next(bytes, end));
                    match self.first.take() {
                        Some(first) if first.line_no == fed.line_no => first,
                        _ => self.line(view, pos, end, fed.line_no),
                    }
                }
                At::View(pos) => {
                    self.fed = Some(fed);
                    self.note_known(pos);
                    return true;
                }
            };
            fed.line_no += 1;
            let mut handed = |event: Event, at: Option<Timestamp>| {
                if event.line_no <= target {
                    done = event.line_no + u64::from(event.lines) > target;
                    out(event, at, target);
                }
            };
            self.source.push_line(line, self.now, &mut handed);
            if done {
                self.emitted_to = fed.line_no - 1;
                // The line that ended the event starts the next one.
                if let At::View(pos) = fed.at {
                    self.note_known(pos);
                }
                self.fed = Some(fed);
                return false;
            }
        }
    }

    /// Records that the source reader has seen every line before view
    /// position `pos`.
    fn note_known(&mut self, pos: usize) {
        if pos >= self.known_at {
            self.known_at = pos;
            self.known_ts = self.source.last_ts();
        }
    }

    /// Where the event holding the line at `start` (number `line_no`)
    /// begins: the nearest line at or before it that starts an event
    /// whatever came before, else the first carried line; with the event
    /// that first line makes on its own when it was read to tell.
    fn event_start(&self, view: &View<'_>, start: usize, line_no: u64) -> (Cursor, Option<Event>) {
        let bytes = view.bytes;
        let (mut pos, mut line_no) = (start, line_no);
        loop {
            let end = lines::end(bytes, pos);
            let prev = lines::prev(bytes, pos);
            let (starts, line) = match line_no <= 1 {
                true => (true, None),
                false => {
                    let line = self.line(view, pos, end, line_no);
                    let prev_text = match prev {
                        Some((s, e)) => Some(String::from_utf8_lossy(&bytes[s..e])),
                        None => self.carry.last().map(|e| e.text.as_str().into()),
                    };
                    let starts = self
                        .source
                        .starts_event(&line, prev_text.as_deref())
                        .unwrap_or(false);
                    (starts, Some(line))
                }
            };
            if starts {
                let begin = Cursor {
                    at: At::View(pos),
                    line_no,
                };
                return (begin, line);
            }
            match prev {
                Some((s, _)) => (pos, line_no) = (s, line_no - 1),
                None if self.carry.is_empty() => {
                    let begin = Cursor {
                        at: At::View(pos),
                        line_no,
                    };
                    return (begin, line);
                }
                None => {
                    let begin = Cursor {
                        at: At::Carry(0),
                        line_no: self.carry[0].line_no,
                    };
                    return (begin, None);
                }
            }
        }
    }

    /// Keeps the lines of the view's last event (from its last line that
    /// surely starts one) for the next view, and the latest timestamp.
    fn carry_over(&mut self, view: &View<'_>, taken: &Taken) {
        let bytes = view.bytes;
        if bytes.is_empty() {
            return;
        }
        let last = lines::prev(bytes, bytes.len()).map_or(0, |(s, _)| s);
        let last_no = view.line_no
            + match taken.starts.last() {
                Some(&start) if start == last => taken.starts.len() as u64 - 1,
                _ => count_line_ends(&bytes[..last]),
            };
        let (begin, _) = self.event_start(view, last, last_no);
        let mut kept = Vec::new();
        let mut pos = match begin.at {
            At::View(pos) => pos,
            At::Carry(_) => {
                kept = std::mem::take(&mut self.carry);
                0
            }
        };
        if let At::View(pos) = begin.at {
            self.carry_before = self.before(view, pos);
        }
        let mut line_no = begin.line_no.max(view.line_no);
        while pos < bytes.len() {
            let end = lines::end(bytes, pos);
            kept.push(self.line(view, pos, end, line_no));
            pos = lines::next(bytes, end);
            line_no += 1;
        }
        if kept.len() > MAX_CARRY {
            let cut = kept.len() - MAX_CARRY;
            self.carry_before = kept[..cut]
                .iter()
                .rev()
                .find_map(|e| e.ts)
                .or(self.carry_before);
            kept.drain(..cut);
        }
        self.carry = kept;
        self.known_ts = self
            .latest_ts(view, self.known_at, bytes.len())
            .or(self.known_ts);
    }

    /// The latest timestamp of a line before view position `pos`.
    fn before(&self, view: &View<'_>, pos: usize) -> Option<Timestamp> {
        match pos >= self.known_at {
            true => self.latest_ts(view, self.known_at, pos).or(self.known_ts),
            false => self.latest_ts(view, 0, pos).or(self.view_before),
        }
    }

    /// The event the line at `start..end` of `view` makes on its own.
    fn line(&self, view: &View<'_>, start: usize, end: usize, line_no: u64) -> Event {
        let text = &view.bytes[start..end];
        self.source.parser().event(RawLine {
            offset: view.offset + start as u64,
            line_no,
            bytes: text[..text.len().min(self.max_line)].to_vec(),
            truncated: view.cut || text.len() > self.max_line,
            partial: view.partial_end && end == view.bytes.len(),
        })
    }

    /// Hands out the event still held at the end of the stream.
    pub(super) fn finish<E>(
        &mut self,
        emit: &mut dyn FnMut(Event, Option<Timestamp>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut result = Ok(());
        if std::mem::take(&mut self.open) {
            self.source.finish(&mut |event, at| {
                result = emit(event, at);
            });
        }
        result
    }

    /// The timestamp of the last line in `view.bytes[from..to]` that has
    /// one; `from` and `to` are line starts.
    fn latest_ts(&self, view: &View<'_>, from: usize, to: usize) -> Option<Timestamp> {
        let bytes = view.bytes;
        let mut next = to;
        while next > from {
            let (start, end) = lines::prev(&bytes[from..], next - from)
                .map(|(s, e)| (from + s, from + e))
                .expect("a line before a position past `from`");
            if let Some(ts) = self.line(view, start, end, 0).ts {
                return Some(ts);
            }
            next = start;
        }
        None
    }
}

/// Appends the lines of `bytes` that must be taken whatever the prefilter
/// says: those that are not valid UTF-8, those longer than `max_line`, and
/// those with an ESC byte (colour codes, taken off before matching, may
/// sit inside what a regex matches).
fn forced_lines(bytes: &[u8], max_line: usize, out: &mut Vec<(usize, usize)>) {
    let mut from = 0;
    while let Some(i) = memchr::memchr(0x1b, &bytes[from..]) {
        let line = lines::around(bytes, from + i);
        out.push(line);
        from = line.1;
    }
    let mut from = 0;
    while from < bytes.len() {
        match simdutf8::compat::from_utf8(&bytes[from..]) {
            Ok(_) => break,
            Err(err) => {
                let line = lines::around(bytes, from + err.valid_up_to());
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
                let line = lines::around(bytes, at);
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
