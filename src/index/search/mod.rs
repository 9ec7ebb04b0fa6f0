//! Reading the index: hits sorted by time then file order, counts, a
//! histogram per interval and level, context lines by file order, and the
//! words to highlight.
//!
//! A [`Searcher`] takes no lock: it works alongside a running writer and
//! sees what was committed when it was opened (or last [`Searcher::reload`]ed).
//! A regex on the line is checked on the stored line of each candidate, so
//! it costs a read of every document the rest of the query leaves.
//!
//! A damaged index is an error naming it (and the segment, and the file
//! when its checksum says so) and `triage reindex`, never a panic: every
//! call into tantivy that reads segment data goes through [`guard::catch`]
//! (tantivy panics on some damage, with no error path), per segment where
//! the segment is known ([`Guarded`] for the collectors). An error of the
//! system (permissions, too many open files) is reported as it is.
//!
//! Cut along its seams: this file is the API (the types a search returns
//! and [`Searcher`]'s calls); `build` turns query text and filters into a
//! tantivy query; `collect` counts, keeps the latest hits and builds the
//! histogram in one pass (or from the minute terms alone); `highlight`
//! finds what to highlight in a line; `damage` runs every read under
//! [`guard::catch`] and turns failures into errors naming what is damaged.

mod build;
mod collect;
mod damage;
mod highlight;
#[cfg(test)]
mod tests;

use std::{collections::BTreeSet, ops::Bound, path::Path};

use jiff::Timestamp;
use tantivy::{
    DocAddress, IndexReader, ReloadPolicy, TantivyDocument, Term,
    collector::{Count, DocSetCollector},
    query::{BooleanQuery, ExistsQuery, Occur, Query, RangeQuery, TermQuery},
    schema::{IndexRecordOption, Value},
};

use self::{
    collect::{Gather, buckets},
    damage::{Failure, read_error},
};
use super::{
    Fields, IndexError, Store, guard,
    query::Request,
    schema::{self, flag},
};
use crate::model::{FileKey, Level};

/// One event found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Its own timestamp, if the line has one.
    pub ts: Option<Timestamp>,
    /// The time it is sorted by: its own, else the last one before it in its
    /// file; `None`: it has no time (sorted after the timed ones).
    pub at: Option<Timestamp>,
    /// The path it was read from.
    pub source: String,
    /// 1-based line number.
    pub line_no: u64,
    /// Byte offset in the (decompressed) file.
    pub offset: u64,
    /// Its level.
    pub level: Option<Level>,
    /// The text.
    pub line: String,
    /// The file's identity.
    pub origin: FileKey,
    /// Signatures it matched.
    pub signatures: Vec<String>,
    /// Cut at the line cap.
    pub truncated: bool,
}

/// Counts for one histogram interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Start of the interval.
    pub start: Timestamp,
    /// Events in it, by level number (0: no level, 1: trace ... 8: fatal).
    pub by_level: [u64; 9],
}

impl Bucket {
    /// Events in the interval.
    pub fn total(&self) -> u64 {
        self.by_level.iter().sum()
    }
}

/// What a search returned.
#[derive(Debug, Default)]
pub struct Results {
    /// How many events match.
    pub total: u64,
    /// The latest `limit` of them, in time then file order.
    pub hits: Vec<Hit>,
    /// Counts per interval (when asked), in time order, empty intervals
    /// between the first and the last included.
    pub histogram: Vec<Bucket>,
}

/// A reader of the index.
pub struct Searcher {
    store: Store,
    reader: IndexReader,
}

/// Sort key: time in milliseconds, then file identity and offset.
type Key = (i64, u64, u64, u64);

/// Most empty buckets filled in between the first and last interval.
const MAX_FILLED_BUCKETS: i64 = 100_000;

/// `--source` globs that match no indexed file.
#[derive(Debug)]
pub struct Unmatched {
    /// The globs, as given.
    pub globs: Vec<String>,
    /// Every indexed file.
    pub indexed: BTreeSet<String>,
}

impl Searcher {
    /// Opens the index at `path` for reading.
    pub fn open(path: &Path) -> Result<Searcher, IndexError> {
        Searcher::of(&Store::open(path, false)?)
    }

    /// A reader of an index already open.
    pub fn of(store: &Store) -> Result<Searcher, IndexError> {
        let mut store = store.clone();
        // Segments are searched in parallel, one thread per core (an index
        // an ingest left has dozens).
        store
            .index
            .set_default_multithread_executor()
            .map_err(|e| store.error(e))?;
        // Opening the reader opens every segment's files.
        let opened = guard::catch(|| {
            store
                .index()
                .reader_builder()
                .reload_policy(ReloadPolicy::Manual)
                .try_into()
        });
        let reader = match opened {
            Ok(Ok(reader)) => reader,
            Ok(Err(err)) => return Err(read_error(&store, None, Failure::Error(err))),
            Err(panic) => return Err(read_error(&store, None, Failure::Panic(panic))),
        };
        let searcher = Searcher { store, reader };
        searcher.check_segments()?;
        Ok(searcher)
    }

    /// Sees the latest commit.
    pub fn reload(&self) -> Result<(), IndexError> {
        match guard::catch(|| self.reader.reload()) {
            Ok(Ok(())) => self.check_segments(),
            Ok(Err(err)) => Err(read_error(&self.store, None, Failure::Error(err))),
            Err(panic) => Err(read_error(&self.store, None, Failure::Panic(panic))),
        }
    }

    /// What can be checked of each segment for the price of opening it:
    /// its fast columns hold one row per document (a `.fast` file of
    /// another segment does not; tantivy would read past its columns).
    fn check_segments(&self) -> Result<(), IndexError> {
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            let rows =
                self.in_segment(segment, || Ok(segment.fast_fields().u64("lvl")?.num_docs()))?;
            if rows != segment.max_doc() {
                let id = segment.segment_id().uuid_string();
                return Err(IndexError::Corrupt {
                    path: self.store.path().to_path_buf(),
                    why: format!(
                        "segment {id}: {id}.fast holds {rows} documents, the segment {}",
                        segment.max_doc()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Events in the index.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Segments searched (each costs a little per query).
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    fn fields(&self) -> &Fields {
        self.store.fields()
    }

    /// How many events the query and filters of `request` would match but
    /// for its time range, having no time (0 without a time range).
    pub fn untimed(&self, request: &Request) -> Result<u64, IndexError> {
        if request.since.is_none() && request.until.is_none() {
            return Ok(0);
        }
        let mut timeless = request.clone();
        timeless.since = None;
        timeless.until = None;
        let query = BooleanQuery::new(vec![
            (Occur::Must, self.query(&timeless)?),
            (
                Occur::MustNot,
                Box::new(ExistsQuery::new("ts".to_owned(), false)),
            ),
        ]);
        Ok(self.run_query(&query, &timeless, 0, None)?.total)
    }

    /// Counts the events `request` matches.
    pub fn count(&self, request: &Request) -> Result<u64, IndexError> {
        Ok(self.run(request, 0, None)?.total)
    }

    /// Runs `request`: the total, the latest `limit` hits (in time then file
    /// order) and, with `interval` (ms), the histogram.
    pub fn run(
        &self,
        request: &Request,
        limit: usize,
        interval: Option<i64>,
    ) -> Result<Results, IndexError> {
        if let Some(interval) = interval
            && let Some(histogram) = self.rollup(request, interval)?
        {
            let hits = match limit {
                0 => Vec::new(),
                // The hits, without the histogram.
                _ => self.run(request, limit, None)?.hits,
            };
            return Ok(Results {
                total: histogram.values().flatten().sum(),
                hits,
                histogram: buckets(histogram, interval),
            });
        }
        let query = self.query(request)?;
        self.run_query(&*query, request, limit, interval)
    }

    /// [`Searcher::run`] of a query already built from `request` (whose
    /// regex and nothing else it still uses).
    fn run_query(
        &self,
        query: &dyn Query,
        request: &Request,
        limit: usize,
        interval: Option<i64>,
    ) -> Result<Results, IndexError> {
        if limit == 0 && interval.is_none() && request.regex.is_none() {
            let total = self.search(query, &Count)?;
            return Ok(Results {
                total: total as u64,
                ..Results::default()
            });
        }
        let gather = Gather {
            limit,
            interval,
            regex: request.regex.clone(),
            line: self.fields().line,
        };
        let fruit = self.search(query, &gather)?;
        if let Some((segment, err)) = fruit.unreadable {
            let segment = self.reader.searcher().segment_reader(segment).segment_id();
            return Err(read_error(&self.store, Some(segment), Failure::Error(err)));
        }
        let mut hits = Vec::with_capacity(fruit.top.len());
        for (_, address) in fruit.top.iter().rev() {
            hits.push(self.hit(address)?);
        }
        Ok(Results {
            total: fruit.count,
            hits,
            histogram: interval.map_or_else(Vec::new, |i| buckets(fruit.histogram, i)),
        })
    }

    fn hit(&self, address: &DocAddress) -> Result<Hit, IndexError> {
        let searcher = self.reader.searcher();
        let segment = searcher.segment_reader(address.segment_ord);
        let doc: TantivyDocument = self.in_segment(segment, || searcher.doc(*address))?;
        Ok(hit_of(self.fields(), &doc))
    }

    /// Up to `n` events before and after `hit` in its file, in file order
    /// (the hit itself excluded).
    pub fn context(&self, hit: &Hit, n: u64) -> Result<(Vec<Hit>, Vec<Hit>), IndexError> {
        // Events, not lines: a window of lines around the hit, widened
        // until it holds `n` events on each side (or reaches the file's
        // start, or a window so wide that the file surely ends in it).
        const WIDEST: u64 = 1 << 24;
        let mut width = n.saturating_mul(4).max(16);
        loop {
            let (before, after) = self.context_within(hit, n, width)?;
            let start_reached = hit.line_no <= width;
            if (before.len() as u64 >= n || start_reached)
                && (after.len() as u64 >= n || width >= WIDEST)
            {
                return Ok((before, after));
            }
            width = width.saturating_mul(4);
        }
    }

    /// The `n` events before and after `hit` among those starting within
    /// `width` lines of it in its file.
    fn context_within(
        &self,
        hit: &Hit,
        n: u64,
        width: u64,
    ) -> Result<(Vec<Hit>, Vec<Hit>), IndexError> {
        let f = *self.fields();
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_u64(f.dev, hit.origin.dev),
                    IndexRecordOption::Basic,
                )) as Box<dyn Query>,
            ),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_u64(f.ino, hit.origin.ino),
                    IndexRecordOption::Basic,
                )),
            ),
            (
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_u64(
                        f.line_no,
                        hit.line_no.saturating_sub(width),
                    )),
                    Bound::Included(Term::from_field_u64(
                        f.line_no,
                        hit.line_no.saturating_add(width),
                    )),
                )),
            ),
        ]);
        let docs = self.search(&query, &DocSetCollector)?;
        let mut lines = Vec::with_capacity(docs.len());
        for address in &docs {
            lines.push(self.hit(address)?);
        }
        lines.sort_by_key(|h| (h.offset, h.line_no));
        lines.dedup_by_key(|h| h.offset);
        let (mut before, mut after) = (Vec::new(), Vec::new());
        for line in lines {
            if line.offset < hit.offset {
                before.push(line);
            } else if line.offset > hit.offset {
                after.push(line);
            }
        }
        let skip = before.len().saturating_sub(n as usize);
        before.drain(..skip);
        after.truncate(n as usize);
        Ok((before, after))
    }

    /// Minute counts of every event, for retention by size: (minute start in
    /// ms, events), oldest first.
    pub fn minutes(&self) -> Result<Vec<(i64, u64)>, IndexError> {
        let found = self.run(&Request::all(), 0, Some(60_000))?;
        Ok(found
            .histogram
            .iter()
            .map(|b| (b.start.as_millisecond(), b.total()))
            .collect())
    }
}

fn hit_of(f: &Fields, doc: &TantivyDocument) -> Hit {
    let text = |field| {
        doc.get_first(field)
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    let number = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
    let at = doc
        .get_first(f.ts)
        .and_then(|v| v.as_datetime())
        .and_then(|d| Timestamp::from_millisecond(d.into_timestamp_millis()).ok());
    let flags = number(f.flags);
    Hit {
        ts: at.filter(|_| flags & flag::OWN_TIME != 0),
        at,
        source: text(f.source).unwrap_or_default(),
        line_no: number(f.line_no),
        offset: number(f.offset),
        level: schema::level_of(number(f.lvl)),
        line: text(f.line).unwrap_or_default(),
        origin: FileKey {
            dev: number(f.dev),
            ino: number(f.ino),
        },
        signatures: doc
            .get_all(f.signature)
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        truncated: flags & flag::TRUNCATED != 0,
    }
}
