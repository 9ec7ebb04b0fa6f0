//! The collector: one pass over the matching documents counts them, keeps
//! the latest `limit` by time then file order, and counts the histogram per
//! interval and level (reading the time and level columns a block at a
//! time); or the histogram from the minute-and-level terms alone when that
//! is exact ([`Searcher::rollup`]).

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap},
};

use jiff::Timestamp;
use regex::Regex;
use tantivy::{
    COLLECT_BLOCK_BUFFER_LEN, DocAddress, DocId, Score, SegmentOrdinal, SegmentReader,
    TantivyDocument, TantivyError, Term,
    collector::{Collector, SegmentCollector},
    columnar::{Cardinality, Column, ColumnType, ColumnValues},
    schema::{Field, Value},
    store::StoreReader,
};

use super::{Bucket, Key, MAX_FILLED_BUCKETS, Searcher};
use crate::index::{
    IndexError,
    query::{Request, is_everything},
    schema::{self},
};

impl Searcher {
    /// The histogram of `request` read from the minute-and-level terms
    /// ([`schema::bucket`]) alone, when that gives it exactly: no query text
    /// or filter but levels and minute-aligned times, an interval of whole
    /// minutes, and no deleted document (their terms still count them).
    /// Else `None`: the documents are visited.
    pub(super) fn rollup(
        &self,
        request: &Request,
        interval: i64,
    ) -> Result<Option<BTreeMap<i64, [u64; 9]>>, IndexError> {
        let aligned = |t: Option<Timestamp>| t.is_none_or(|t| t.as_millisecond() % 60_000 == 0);
        if !is_everything(&request.query)
            || request.regex.is_some()
            || !request.sources.is_empty()
            || !request.signatures.is_empty()
            || !request.hosts.is_empty()
            || interval % 60_000 != 0
            || !aligned(request.since)
            || !aligned(request.until)
        {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        if searcher
            .segment_readers()
            .iter()
            .any(SegmentReader::has_deletes)
        {
            return Ok(None);
        }
        let min_level = request
            .min_level
            .map_or(0, |l| schema::level_number(Some(l)));
        let term = |millis: i64| {
            Term::from_field_i64(self.fields().bucket, schema::bucket(millis, 0))
                .serialized_value_bytes()
                .to_vec()
        };
        let since = request.since.map(|t| term(t.as_millisecond()));
        let until = request.until.map(|t| term(t.as_millisecond()));
        let mut histogram: BTreeMap<i64, [u64; 9]> = BTreeMap::new();
        for segment in searcher.segment_readers() {
            self.in_segment(segment, || {
                let inverted = segment.inverted_index(self.fields().bucket)?;
                let mut range = inverted.terms().range();
                if let Some(since) = &since {
                    range = range.ge(since);
                }
                if let Some(until) = &until {
                    range = range.lt(until);
                }
                let mut stream = range.into_stream()?;
                // Terms come in order: one map entry per interval, not per
                // term.
                let mut current: Option<(i64, [u64; 9])> = None;
                while stream.advance() {
                    let Ok(bytes) = <[u8; 8]>::try_from(stream.key()) else {
                        continue;
                    };
                    let (minute, level) =
                        schema::unbucket(tantivy::u64_to_i64(u64::from_be_bytes(bytes)));
                    if level < min_level {
                        continue;
                    }
                    let start = minute.div_euclid(interval) * interval;
                    if current.is_none_or(|(at, _)| at != start) {
                        flush(&mut histogram, current.take());
                        current = Some((start, [0; 9]));
                    }
                    if let Some((_, counts)) = &mut current {
                        counts[level.min(8) as usize] += u64::from(stream.value().doc_freq);
                    }
                }
                flush(&mut histogram, current);
                Ok(())
            })?;
        }
        Ok(Some(histogram))
    }
}

/// Histogram counts keyed by interval start (ms) to buckets in time order,
/// the empty ones between included.
pub(super) fn buckets(counts: BTreeMap<i64, [u64; 9]>, interval: i64) -> Vec<Bucket> {
    let (Some(first), Some(last)) = (
        counts.first_key_value().map(|(k, _)| *k),
        counts.last_key_value().map(|(k, _)| *k),
    ) else {
        return Vec::new();
    };
    let fill = (last - first) / interval <= MAX_FILLED_BUCKETS;
    let mut out = Vec::new();
    let mut push = |start: i64, by_level: [u64; 9]| {
        if let Ok(start) = Timestamp::from_millisecond(start) {
            out.push(Bucket { start, by_level });
        }
    };
    if fill {
        let mut at = first;
        while at <= last {
            push(at, counts.get(&at).copied().unwrap_or_default());
            at += interval;
        }
    } else {
        for (start, by_level) in counts {
            push(start, by_level);
        }
    }
    out
}

/// Adds one interval's counts to a histogram.
pub(super) fn flush(histogram: &mut BTreeMap<i64, [u64; 9]>, interval: Option<(i64, [u64; 9])>) {
    if let Some((start, counts)) = interval {
        let slot = histogram.entry(start).or_default();
        for (s, c) in slot.iter_mut().zip(counts) {
            *s += c;
        }
    }
}

/// Collects the count, the top hits by [`Key`] and the histogram in one
/// pass over the matching documents.
pub(super) struct Gather {
    pub(super) limit: usize,
    pub(super) interval: Option<i64>,
    pub(super) regex: Option<Regex>,
    pub(super) line: Field,
}

/// What one segment (or all) gathered.
pub(super) struct Gathered {
    pub(super) count: u64,
    /// Smallest key first once sorted: kept as a min-heap of the largest.
    pub(super) top: Vec<(Key, DocAddress)>,
    pub(super) histogram: BTreeMap<i64, [u64; 9]>,
    /// A stored document the regex could not be checked on (the first):
    /// the answer would be short of it, so the search fails.
    pub(super) unreadable: Option<(SegmentOrdinal, TantivyError)>,
}

pub(super) const NANOS_PER_MS: i64 = 1_000_000;

/// The sort time of a document with no time: after every timed one; in no
/// histogram interval.
pub(super) const NO_TIME: i64 = i64::MAX;

/// Values of columns every document of a segment has, as stored: read a
/// block at a time with no per-document presence check, and the times
/// without converting each to a date.
pub(super) struct FullColumns {
    /// `ts` as stored: nanoseconds since the epoch, as tantivy maps an i64
    /// to a u64 (order kept).
    ts: std::sync::Arc<dyn ColumnValues<u64>>,
    lvl: std::sync::Arc<dyn ColumnValues<u64>>,
}

impl FullColumns {
    /// The columns of `reader`'s segment (`lvl` already open), when every
    /// document has both.
    fn of(reader: &SegmentReader, lvl: &Column<u64>) -> tantivy::Result<Option<FullColumns>> {
        let fast = reader.fast_fields();
        let ts = match fast.dynamic_column_handle("ts", ColumnType::DateTime)? {
            Some(handle) => handle.open_u64_lenient()?,
            None => None,
        };
        Ok(match ts {
            Some(ts)
                if ts.get_cardinality() == Cardinality::Full
                    && lvl.get_cardinality() == Cardinality::Full =>
            {
                Some(FullColumns {
                    ts: ts.values,
                    lvl: lvl.values.clone(),
                })
            }
            _ => None,
        })
    }

    /// Milliseconds since the epoch of a stored `ts`.
    fn millis(raw: u64) -> i64 {
        tantivy::u64_to_i64(raw).div_euclid(NANOS_PER_MS)
    }

    /// The stored `ts` of a time in milliseconds (the mapping keeps order).
    fn stored(millis: i64) -> u64 {
        tantivy::i64_to_u64(millis.saturating_mul(NANOS_PER_MS))
    }
}

pub(super) struct SegmentGather {
    segment: SegmentOrdinal,
    limit: usize,
    interval: Option<i64>,
    regex: Option<(Regex, StoreReader, Field)>,
    /// `ts`, when some document has none (else `full` has it).
    ts: Option<Column<tantivy::DateTime>>,
    dev: Column<u64>,
    ino: Column<u64>,
    offset: Column<u64>,
    lvl: Column<u64>,
    /// The values of `ts` and `lvl` when every document has one (always, as
    /// triage writes them): read in bulk, with no per-document lookup.
    full: Option<FullColumns>,
    count: u64,
    heap: BinaryHeap<Reverse<(Key, DocId)>>,
    histogram: BTreeMap<i64, [u64; 9]>,
    /// The interval being counted, not yet in `histogram`.
    current: (i64, [u64; 9]),
    /// See [`Gathered::unreadable`].
    unreadable: Option<TantivyError>,
}

impl SegmentGather {
    /// The histogram alone (no hits wanted) of documents with these stored
    /// times and levels: each is counted into the current interval,
    /// compared as stored (no conversion while they stay in it).
    fn count_intervals(&mut self, interval: i64, ts: &[u64], lvl: &[u64]) {
        let (mut start, mut counts) = self.current;
        let bounds = |start: i64| {
            if start == i64::MIN {
                // Nothing counted yet: the first value starts an interval.
                (u64::MAX, 0)
            } else {
                (
                    FullColumns::stored(start),
                    FullColumns::stored(start.saturating_add(interval)),
                )
            }
        };
        let (mut low, mut high) = bounds(start);
        for (&raw, &lvl) in ts.iter().zip(lvl) {
            if raw < low || raw >= high {
                self.current = (start, counts);
                self.flush_current();
                start = FullColumns::millis(raw).div_euclid(interval) * interval;
                counts = [0; 9];
                (low, high) = bounds(start);
            }
            counts[lvl.min(8) as usize] += 1;
        }
        self.current = (start, counts);
    }

    fn flush_current(&mut self) {
        let (start, counts) = std::mem::replace(&mut self.current, (i64::MIN, [0; 9]));
        if counts.iter().any(|&c| c > 0) {
            flush(&mut self.histogram, Some((start, counts)));
        }
    }
}

impl Collector for Gather {
    type Fruit = Gathered;
    type Child = SegmentGather;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentGather> {
        let fast = reader.fast_fields();
        let regex = match &self.regex {
            Some(regex) => Some((regex.clone(), reader.get_store_reader(64)?, self.line)),
            None => None,
        };
        let lvl = fast.u64("lvl")?;
        let full = FullColumns::of(reader, &lvl)?;
        Ok(SegmentGather {
            segment,
            limit: self.limit,
            interval: self.interval,
            regex,
            ts: match full {
                Some(_) => None,
                None => Some(fast.date("ts")?),
            },
            dev: fast.u64("dev")?,
            ino: fast.u64("ino")?,
            offset: fast.u64("offset")?,
            lvl,
            full,
            count: 0,
            heap: BinaryHeap::new(),
            histogram: BTreeMap::new(),
            current: (i64::MIN, [0; 9]),
            unreadable: None,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Gathered>) -> tantivy::Result<Gathered> {
        let mut all = Gathered {
            count: 0,
            top: Vec::new(),
            histogram: BTreeMap::new(),
            unreadable: None,
        };
        for fruit in fruits {
            all.unreadable = all.unreadable.or(fruit.unreadable);
            all.count += fruit.count;
            all.top.extend(fruit.top);
            for interval in fruit.histogram {
                flush(&mut all.histogram, Some(interval));
            }
        }
        // Largest keys first, keep `limit`.
        all.top.sort_by_key(|(key, _)| Reverse(*key));
        all.top.truncate(self.limit);
        Ok(all)
    }
}

impl SegmentGather {
    /// Counts a matching document whose time is `ts` (ms) and level number
    /// `lvl` (read only when there is a histogram) and keeps it if it is
    /// among the latest `limit`.
    #[inline]
    fn tally(&mut self, doc: DocId, ts: i64, lvl: u64) {
        if let Some(interval) = self.interval.filter(|_| ts != NO_TIME) {
            // Documents come mostly in time order: count into the current
            // interval (no division while they stay in it), and touch the
            // map only when it changes.
            let (start, end) = (self.current.0, self.current.0.saturating_add(interval));
            if start == i64::MIN || ts < start || ts >= end {
                self.flush_current();
                self.current.0 = ts.div_euclid(interval) * interval;
            }
            self.current.1[lvl.min(8) as usize] += 1;
        }
        if self.limit == 0 {
            return;
        }
        if self.heap.len() == self.limit
            && let Some(Reverse((least, _))) = self.heap.peek()
            && ts < least.0
        {
            return;
        }
        let key = (
            ts,
            self.dev.first(doc).unwrap_or(0),
            self.ino.first(doc).unwrap_or(0),
            self.offset.first(doc).unwrap_or(0),
        );
        if self.heap.len() < self.limit {
            self.heap.push(Reverse((key, doc)));
        } else if let Some(mut least) = self.heap.peek_mut()
            && key > least.0.0
        {
            *least = Reverse((key, doc));
        }
    }
}

impl SegmentCollector for SegmentGather {
    type Fruit = Gathered;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some((regex, store, line)) = &self.regex {
            let stored = match store.get::<TantivyDocument>(doc) {
                Ok(stored) => stored,
                Err(err) => {
                    self.unreadable.get_or_insert(err);
                    return;
                }
            };
            let matched = stored
                .get_first(*line)
                .and_then(|v| v.as_str().map(|text| regex.is_match(text)))
                .unwrap_or(false);
            if !matched {
                return;
            }
        }
        self.count += 1;
        if self.interval.is_none() && self.limit == 0 {
            return;
        }
        let ts = match (&self.full, &self.ts) {
            (Some(full), _) => FullColumns::millis(full.ts.get_val(doc)),
            (None, Some(ts)) => ts.first(doc).map_or(NO_TIME, |d| d.into_timestamp_millis()),
            (None, None) => NO_TIME,
        };
        let lvl = match self.interval {
            Some(_) => self.lvl.first(doc).unwrap_or(0),
            None => 0,
        };
        self.tally(doc, ts, lvl);
    }

    /// A block of matching documents (no deletes, no scoring): times and
    /// levels are read for the whole block at once, several times faster
    /// than one by one (a histogram over millions of events).
    fn collect_block(&mut self, docs: &[DocId]) {
        if self.regex.is_some() {
            for &doc in docs {
                self.collect(doc, 0.0);
            }
            return;
        }
        self.count += docs.len() as u64;
        if self.interval.is_none() && self.limit == 0 {
            return;
        }
        if let Some(full) = self.full.take() {
            let mut ts = [0u64; COLLECT_BLOCK_BUFFER_LEN];
            let mut lvl = [0u64; COLLECT_BLOCK_BUFFER_LEN];
            let with_levels = self.interval.is_some();
            for block in docs.chunks(COLLECT_BLOCK_BUFFER_LEN) {
                let (ts, lvl) = (&mut ts[..block.len()], &mut lvl[..block.len()]);
                // All documents of a range (no query, no deletes): one
                // read of each column's range.
                let contiguous = block[block.len() - 1] - block[0] == block.len() as u32 - 1;
                if contiguous {
                    full.ts.get_range(u64::from(block[0]), ts);
                } else {
                    full.ts.get_vals(block, ts);
                }
                if with_levels {
                    if contiguous {
                        full.lvl.get_range(u64::from(block[0]), lvl);
                    } else {
                        full.lvl.get_vals(block, lvl);
                    }
                }
                match self.interval {
                    Some(interval) if self.limit == 0 => self.count_intervals(interval, ts, lvl),
                    _ => {
                        for ((&doc, ts), &lvl) in block.iter().zip(ts.iter()).zip(lvl.iter()) {
                            self.tally(doc, FullColumns::millis(*ts), lvl);
                        }
                    }
                }
            }
            self.full = Some(full);
            return;
        }
        let mut ts = [None; COLLECT_BLOCK_BUFFER_LEN];
        let mut lvl = [None; COLLECT_BLOCK_BUFFER_LEN];
        for block in docs.chunks(COLLECT_BLOCK_BUFFER_LEN) {
            let ts = &mut ts[..block.len()];
            let lvl = &mut lvl[..block.len()];
            if let Some(column) = &self.ts {
                column.first_vals(block, ts);
            }
            if self.interval.is_some() {
                self.lvl.first_vals(block, lvl);
            }
            for ((&doc, ts), lvl) in block.iter().zip(ts.iter()).zip(lvl.iter()) {
                let ts = ts.map_or(NO_TIME, |d| d.into_timestamp_millis());
                self.tally(doc, ts, lvl.unwrap_or(0));
            }
        }
    }

    fn harvest(mut self) -> Gathered {
        self.flush_current();
        let segment = self.segment;
        Gathered {
            count: self.count,
            top: self
                .heap
                .into_iter()
                .map(|Reverse((key, doc))| (key, DocAddress::new(segment, doc)))
                .collect(),
            histogram: self.histogram,
            unreadable: self.unreadable.map(|err| (segment, err)),
        }
    }
}
