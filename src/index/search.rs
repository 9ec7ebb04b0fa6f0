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

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, BinaryHeap, HashSet},
    fs,
    ops::{Bound, Range},
    path::Path,
    sync::{Mutex, PoisonError},
};

use jiff::Timestamp;
use regex::Regex;
use tantivy::{
    COLLECT_BLOCK_BUFFER_LEN, DocAddress, DocId, IndexReader, ReloadPolicy, Score, SegmentOrdinal,
    SegmentReader, TantivyDocument, TantivyError, Term,
    collector::{Collector, Count, DocSetCollector, SegmentCollector},
    columnar::{Cardinality, Column, ColumnType, ColumnValues},
    directory::error::OpenReadError,
    index::SegmentId,
    query::{
        AllQuery, BooleanQuery, EmptyQuery, ExistsQuery, Occur, PhrasePrefixQuery, Query,
        QueryParser, RangeQuery, RegexQuery, TermQuery, TermSetQuery, Weight,
    },
    schema::{Field, IndexRecordOption, Schema, Value},
    store::StoreReader,
};

use tantivy::query_grammar::{Delimiter, UserInputAst, UserInputLeaf, UserInputLiteral};

use super::{
    Fields, IndexError, Store,
    expr::{self, Expr, Kind, Leaf, ParseError},
    guard,
    query::{self, Request, is_everything},
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
pub struct Found {
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

    /// Runs `query` through `collector` over every segment; a segment that
    /// fails (a tantivy error or panic while reading it) is named.
    fn search<C: Collector>(
        &self,
        query: &dyn Query,
        collector: &C,
    ) -> Result<C::Fruit, IndexError> {
        let searcher = self.reader.searcher();
        let guarded = Guarded {
            inner: collector,
            failed: Mutex::new(None),
        };
        let result = guard::catch(|| searcher.search(query, &guarded));
        let failed = guarded
            .failed
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        match (result, failed) {
            (Ok(Ok(fruit)), _) => Ok(fruit),
            (_, Some((segment, failure))) => Err(read_error(&self.store, Some(segment), failure)),
            (Ok(Err(err)), None) => Err(read_error(&self.store, None, Failure::Error(err))),
            (Err(panic), None) => Err(read_error(&self.store, None, Failure::Panic(panic))),
        }
    }

    /// Runs `read`, which reads `segment`'s data; its failure names it.
    fn in_segment<T>(
        &self,
        segment: &SegmentReader,
        read: impl FnOnce() -> tantivy::Result<T>,
    ) -> Result<T, IndexError> {
        let failure = match guard::catch(read) {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(err)) => Failure::Error(err),
            Err(panic) => Failure::Panic(panic),
        };
        Err(read_error(&self.store, Some(segment.segment_id()), failure))
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

    /// The query of `request`, filters included (the regex excepted).
    pub fn query(&self, request: &Request) -> Result<Box<dyn Query>, IndexError> {
        let f = *self.fields();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if !is_everything(&request.query) {
            clauses.push((Occur::Must, self.parse(&request.query)?));
        }
        if request.since.is_some() || request.until.is_some() {
            let bound = |t: Option<Timestamp>, inclusive: bool| match t {
                None => Bound::Unbounded,
                Some(t) if inclusive => {
                    Bound::Included(Term::from_field_date(f.ts, schema::date(t)))
                }
                Some(t) => Bound::Excluded(Term::from_field_date(f.ts, schema::date(t))),
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    bound(request.since, true),
                    bound(request.until, false),
                )),
            ));
        }
        if let Some(level) = request.min_level {
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_u64(
                        f.lvl,
                        schema::level_number(Some(level)),
                    )),
                    Bound::Unbounded,
                )),
            ));
        }
        if !request.signatures.is_empty() {
            let terms = request
                .signatures
                .iter()
                .map(|id| Term::from_field_text(f.signature, &id.to_lowercase()));
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
        }
        if !request.hosts.is_empty() {
            let terms = request
                .hosts
                .iter()
                .map(|host| Term::from_field_text(f.host, &host.to_lowercase()));
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
        }
        if !request.sources.is_empty() {
            let sources = self.sources_matching(&request.sources)?;
            let query: Box<dyn Query> = if sources.is_empty() {
                Box::new(EmptyQuery)
            } else {
                Box::new(TermSetQuery::new(
                    sources.iter().map(|s| Term::from_field_text(f.source, s)),
                ))
            };
            clauses.push((Occur::Must, query));
        }
        Ok(match clauses.len() {
            0 => Box::new(AllQuery),
            1 => clauses.pop().map(|(_, q)| q).expect("one clause"),
            _ => Box::new(BooleanQuery::new(clauses)),
        })
    }

    fn parser(&self) -> QueryParser {
        let f = self.fields();
        let mut parser = QueryParser::for_index(self.store.index(), vec![f.line, f.fields]);
        parser.set_conjunction_by_default();
        parser
    }

    fn parse(&self, text: &str) -> Result<Box<dyn Query>, IndexError> {
        // Before any parser, which recurses once per level (as do the query
        // it builds and the search): too deep is a stack overflow.
        let depth = query::nesting(text);
        if depth > query::MAX_QUERY_DEPTH {
            return Err(IndexError::Query(format!(
                "the query nests {depth} levels deep (groups in parentheses and NOTs inside \
                 one another); at most {} are allowed",
                query::MAX_QUERY_DEPTH
            )));
        }
        let parsed = expr::parse(text).map_err(|e| IndexError::Query(e.pointed(text)))?;
        self.build(&parsed, text)
    }

    /// The index query of a parsed query: `AND` as must, `NOT` inside it as
    /// must-not, `OR` as should; a clause of exclusions only excludes from
    /// everything, as people mean it.
    fn build(&self, e: &Expr, text: &str) -> Result<Box<dyn Query>, IndexError> {
        Ok(match e {
            Expr::All => Box::new(AllQuery),
            Expr::Leaf(leaf) => self.leaf(leaf, text)?,
            Expr::And(parts) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for part in parts {
                    match part {
                        Expr::Not(inner) => {
                            clauses.push((Occur::MustNot, self.build(inner, text)?));
                        }
                        other => clauses.push((Occur::Must, self.build(other, text)?)),
                    }
                }
                if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Box::new(BooleanQuery::new(clauses))
            }
            Expr::Or(parts) => Box::new(BooleanQuery::new(
                parts
                    .iter()
                    .map(|part| Ok((Occur::Should, self.build(part, text)?)))
                    .collect::<Result<Vec<_>, IndexError>>()?,
            )),
            Expr::Not(inner) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
                (Occur::MustNot, self.build(inner, text)?),
            ])),
        })
    }

    /// The index query of one word, phrase or prefix: `source:` takes what
    /// `--source` takes, `level:` a level name, any other field must be one
    /// this index has.
    fn leaf(&self, leaf: &Leaf, text: &str) -> Result<Box<dyn Query>, IndexError> {
        let f = *self.fields();
        let error = |message: String| {
            IndexError::Query(
                ParseError {
                    column: leaf.column,
                    message,
                }
                .pointed(text),
            )
        };
        let prefix = leaf.kind == Kind::Prefix;
        match leaf.field.as_deref() {
            Some("source") => {
                let glob = if prefix {
                    format!("{}*", globset_escape(&leaf.text))
                } else {
                    leaf.text.clone()
                };
                let sources = self
                    .sources_matching(std::slice::from_ref(&glob))
                    .map_err(|e| error(e.to_string()))?;
                return Ok(if sources.is_empty() {
                    Box::new(EmptyQuery)
                } else {
                    Box::new(TermSetQuery::new(
                        sources.iter().map(|s| Term::from_field_text(f.source, s)),
                    ))
                });
            }
            Some("level") => {
                let level = query::parse_level(&leaf.text)
                    .ok()
                    .filter(|_| !prefix)
                    .ok_or_else(|| {
                        error(format!(
                            "`{}` is not a level: one of {}",
                            leaf.text,
                            Level::ALL.map(Level::as_str).join(", ")
                        ))
                    })?;
                return Ok(Box::new(TermQuery::new(
                    Term::from_field_text(f.level, level.as_str()),
                    IndexRecordOption::Basic,
                )));
            }
            Some("line" | "host" | "signature") | None => {}
            Some(name) if self.store.index().schema().get_field(name).is_ok() => {
                return Err(error(format!(
                    "`{name}` cannot be searched in a query ({}); fields: {}",
                    match name {
                        "ts" => "use --since and --until",
                        "lvl" => "use level: or --level",
                        _ => "it is internal",
                    },
                    self.field_names()?.join(", ")
                )));
            }
            Some(name) => {
                if !self.json_path_exists(name)? {
                    return Err(error(format!(
                        "unknown field `{name}`: fields in this index: {}",
                        self.field_names()?.join(", ")
                    )));
                }
            }
        }
        if leaf.kind != Kind::Phrase
            && matches!(leaf.field.as_deref(), None | Some("line"))
            && self.line_tokens(&leaf.text).is_empty()
        {
            return Err(error(format!(
                "`{}` has no letters or digits to search for (quote a phrase, or use -e REGEX)",
                leaf.text
            )));
        }
        if prefix {
            return self.prefix(leaf).map_err(error);
        }
        let literal = UserInputLiteral {
            field_name: leaf.field.clone(),
            phrase: leaf.text.clone(),
            delimiter: if leaf.kind == Kind::Phrase {
                Delimiter::DoubleQuotes
            } else {
                Delimiter::None
            },
            slop: 0,
            prefix: false,
        };
        self.parser()
            .build_query_from_user_input_ast(UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(
                literal,
            ))))
            .map_err(|e| error(e.to_string()))
    }

    /// The line's tokens of `text`, as the index cut them.
    fn line_tokens(&self, text: &str) -> Vec<String> {
        let mut tokens = Vec::new();
        if let Some(mut analyzer) = self.store.index().tokenizers().get(schema::WORDS) {
            let mut stream = analyzer.token_stream(text);
            while let Some(token) = stream.next() {
                tokens.push(token.text.clone());
            }
        }
        tokens
    }

    /// `word*`: in the line, a word starting so (the last of several words
    /// of a phrase: `web-1*`); in a field, a value starting so.
    fn prefix(&self, leaf: &Leaf) -> Result<Box<dyn Query>, String> {
        let f = *self.fields();
        let starting = |field: Field, before: &str, text: &str| -> Result<Box<dyn Query>, String> {
            let pattern = format!("{}{}.*", regex::escape(before), regex::escape(text));
            RegexQuery::from_pattern(&pattern, field)
                .map(|q| Box::new(q) as Box<dyn Query>)
                .map_err(|e| e.to_string())
        };
        match leaf.field.as_deref() {
            None | Some("line") => {
                let tokens = self.line_tokens(&leaf.text);
                match tokens.as_slice() {
                    [] => Err(format!(
                        "`{}*`: a prefix needs a letter or digit",
                        leaf.text
                    )),
                    [one] => starting(f.line, "", one),
                    _ => Ok(Box::new(PhrasePrefixQuery::new(
                        tokens
                            .iter()
                            .map(|t| Term::from_field_text(f.line, t))
                            .collect(),
                    ))),
                }
            }
            Some("host") => starting(f.host, "", &leaf.text.to_lowercase()),
            Some("signature") => starting(f.signature, "", &leaf.text.to_lowercase()),
            Some(path) => {
                let mut term = Term::from_field_json_path(f.fields, path, true);
                term.append_type_and_str("");
                let before = String::from_utf8_lossy(term.serialized_value_bytes()).into_owned();
                starting(f.fields, &before, &leaf.text.to_lowercase())
            }
        }
    }

    /// Whether some event has the parsed field `path`.
    fn json_path_exists(&self, path: &str) -> Result<bool, IndexError> {
        let f = *self.fields();
        let start = Term::from_field_json_path(f.fields, path, true);
        // Keys of a JSON field are the path, a 0 byte (which the term
        // already ends with), the type and value.
        let from = start.serialized_value_bytes().to_vec();
        let mut to = from.clone();
        to.pop();
        to.push(1);
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            let found = self.in_segment(segment, || {
                let inverted = segment.inverted_index(f.fields)?;
                let mut stream = inverted.terms().range().ge(&from).lt(&to).into_stream()?;
                Ok(stream.advance())
            })?;
            if found {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The fields a query may name: the event's own and the parsed fields
    /// this index holds (at most 60 of those listed).
    fn field_names(&self) -> Result<Vec<String>, IndexError> {
        let f = *self.fields();
        let mut paths = BTreeSet::new();
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            self.in_segment(segment, || {
                let inverted = segment.inverted_index(f.fields)?;
                let mut from: Vec<u8> = Vec::new();
                while paths.len() < 60 {
                    let mut stream = inverted.terms().range().ge(&from).into_stream()?;
                    if !stream.advance() {
                        break;
                    }
                    let key = stream.key();
                    let end = key.iter().position(|b| *b == 0).unwrap_or(key.len());
                    let path = &key[..end];
                    paths.insert(String::from_utf8_lossy(path).replace('\u{1}', "."));
                    from = path.to_vec();
                    from.push(1);
                }
                Ok(())
            })?;
        }
        let mut names: Vec<String> = ["line", "level", "source", "host", "signature"]
            .map(str::to_owned)
            .to_vec();
        paths.retain(|p| !names.contains(p));
        names.extend(paths);
        Ok(names)
    }

    /// The `--source` globs of `globs` that match no indexed file, with
    /// every indexed file (for saying which exist), when some glob matches
    /// none.
    pub fn sources_unmatched(&self, globs: &[String]) -> Result<Option<Unmatched>, IndexError> {
        let mut unmatched = Vec::new();
        for glob in globs {
            if self
                .sources_matching(std::slice::from_ref(glob))?
                .is_empty()
            {
                unmatched.push(glob.clone());
            }
        }
        if unmatched.is_empty() {
            return Ok(None);
        }
        Ok(Some(Unmatched {
            globs: unmatched,
            indexed: self.sources_matching(&["**".to_owned()])?,
        }))
    }

    /// Every indexed source path some glob matches (a glob without `/`
    /// also matches the file name alone).
    fn sources_matching(&self, globs: &[String]) -> Result<BTreeSet<String>, IndexError> {
        let matchers = globs
            .iter()
            .map(|g| {
                globset::Glob::new(g)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| IndexError::Query(format!("--source `{g}`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let f = self.fields();
        let mut found = BTreeSet::new();
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            self.in_segment(segment, || {
                let inverted = segment.inverted_index(f.source)?;
                let mut stream = inverted.terms().stream()?;
                while stream.advance() {
                    let Ok(path) = std::str::from_utf8(stream.key()) else {
                        continue;
                    };
                    let name = Path::new(path).file_name().map(Path::new);
                    if matchers.iter().zip(globs).any(|(m, g)| {
                        m.is_match(path)
                            || (!g.contains('/') && name.is_some_and(|n| m.is_match(n)))
                    }) {
                        found.insert(path.to_owned());
                    }
                }
                Ok(())
            })?;
        }
        Ok(found)
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
    ) -> Result<Found, IndexError> {
        if let Some(interval) = interval
            && let Some(histogram) = self.rollup(request, interval)?
        {
            let hits = match limit {
                0 => Vec::new(),
                // The hits, without the histogram.
                _ => self.run(request, limit, None)?.hits,
            };
            return Ok(Found {
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
    ) -> Result<Found, IndexError> {
        if limit == 0 && interval.is_none() && request.regex.is_none() {
            let total = self.search(query, &Count)?;
            return Ok(Found {
                total: total as u64,
                ..Found::default()
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
        Ok(Found {
            total: fruit.count,
            hits,
            histogram: interval.map_or_else(Vec::new, |i| buckets(fruit.histogram, i)),
        })
    }

    /// The histogram of `request` read from the minute-and-level terms
    /// ([`schema::bucket`]) alone, when that gives it exactly: no query text
    /// or filter but levels and minute-aligned times, an interval of whole
    /// minutes, and no deleted document (their terms still count them).
    /// Else `None`: the documents are visited.
    fn rollup(
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

    /// The lowercased words of `request`'s query that search the line (for
    /// highlighting).
    pub fn words(&self, request: &Request) -> HashSet<String> {
        let mut words = HashSet::new();
        let Ok(parsed) = expr::parse(&request.query) else {
            return words;
        };
        for leaf in parsed.positive_leaves() {
            if !matches!(leaf.field.as_deref(), None | Some("line")) {
                continue;
            }
            let tokens = self.line_tokens(&leaf.text);
            let last = tokens.len().saturating_sub(1);
            for (i, token) in tokens.into_iter().enumerate() {
                // A prefix is kept with its `*` (tokens have none).
                if leaf.kind == Kind::Prefix && i == last {
                    words.insert(format!("{token}*"));
                } else {
                    words.insert(token);
                }
            }
        }
        words
    }

    /// Byte ranges of `line` to highlight: tokens among `words`, and what
    /// the regex matches. Sorted, not overlapping.
    pub fn highlights(
        &self,
        line: &str,
        words: &HashSet<String>,
        regex: Option<&Regex>,
    ) -> Vec<Range<usize>> {
        let mut ranges = Vec::new();
        if !words.is_empty()
            && let Some(mut analyzer) = self.store.index().tokenizers().get(schema::WORDS)
        {
            let mut stream = analyzer.token_stream(line);
            while let Some(token) = stream.next() {
                if words.contains(&token.text)
                    || words.iter().any(|w| {
                        w.strip_suffix('*')
                            .is_some_and(|p| token.text.starts_with(p))
                    })
                {
                    ranges.push(token.offset_from..token.offset_to);
                }
            }
        }
        if let Some(regex) = regex {
            ranges.extend(
                regex
                    .find_iter(line)
                    .filter(|m| !m.is_empty())
                    .map(|m| m.range()),
            );
        }
        ranges.sort_by_key(|r| (r.start, Reverse(r.end)));
        let mut merged: Vec<Range<usize>> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
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

/// `text` with the glob's special characters escaped.
fn globset_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
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

/// Histogram counts keyed by interval start (ms) to buckets in time order,
/// the empty ones between included.
fn buckets(counts: BTreeMap<i64, [u64; 9]>, interval: i64) -> Vec<Bucket> {
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
fn flush(histogram: &mut BTreeMap<i64, [u64; 9]>, interval: Option<(i64, [u64; 9])>) {
    if let Some((start, counts)) = interval {
        let slot = histogram.entry(start).or_default();
        for (s, c) in slot.iter_mut().zip(counts) {
            *s += c;
        }
    }
}

/// Collects the count, the top hits by [`Key`] and the histogram in one
/// pass over the matching documents.
struct Gather {
    limit: usize,
    interval: Option<i64>,
    regex: Option<Regex>,
    line: Field,
}

/// What one segment (or all) gathered.
struct Gathered {
    count: u64,
    /// Smallest key first once sorted: kept as a min-heap of the largest.
    top: Vec<(Key, DocAddress)>,
    histogram: BTreeMap<i64, [u64; 9]>,
    /// A stored document the regex could not be checked on (the first):
    /// the answer would be short of it, so the search fails.
    unreadable: Option<(SegmentOrdinal, TantivyError)>,
}

const NANOS_PER_MS: i64 = 1_000_000;

/// The sort time of a document with no time: after every timed one; in no
/// histogram interval.
const NO_TIME: i64 = i64::MAX;

/// Values of columns every document of a segment has, as stored: read a
/// block at a time with no per-document presence check, and the times
/// without converting each to a date.
struct FullColumns {
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

struct SegmentGather {
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

/// A failure while reading a segment.
enum Failure {
    /// tantivy said what.
    Error(TantivyError),
    /// tantivy panicked (see `guard`), with this message.
    Panic(String),
}

/// A collector that knows which segment failed: each segment is collected
/// inside [`guard::catch`], and the first failure is kept with its segment.
struct Guarded<'c, C> {
    inner: &'c C,
    failed: Mutex<Option<(SegmentId, Failure)>>,
}

impl<C: Collector> Collector for Guarded<'_, C> {
    type Fruit = C::Fruit;
    type Child = C::Child;

    fn check_schema(&self, schema: &Schema) -> tantivy::Result<()> {
        self.inner.check_schema(schema)
    }

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<C::Child> {
        self.inner.for_segment(segment, reader)
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(
        &self,
        fruits: Vec<<C::Child as SegmentCollector>::Fruit>,
    ) -> tantivy::Result<C::Fruit> {
        self.inner.merge_fruits(fruits)
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<<C::Child as SegmentCollector>::Fruit> {
        let (failure, returned) =
            match guard::catch(|| self.inner.collect_segment(weight, segment, reader)) {
                Ok(Ok(fruit)) => return Ok(fruit),
                Ok(Err(err)) => (Failure::Error(err.clone()), err),
                Err(panic) => (
                    Failure::Panic(panic.clone()),
                    TantivyError::InternalError(panic),
                ),
            };
        let mut failed = self.failed.lock().unwrap_or_else(PoisonError::into_inner);
        failed.get_or_insert((reader.segment_id(), failure));
        Err(returned)
    }
}

/// A failure reading the index at `store`, as an error. Damage (bytes that
/// do not decode, a file cut or missing, a panic) names the segment, the
/// files of it whose checksum fails, and `triage reindex`; the system
/// refusing (an OS error: permissions, too many open files) is said as it
/// is, since rebuilding would not help.
fn read_error(store: &Store, segment: Option<SegmentId>, failure: Failure) -> IndexError {
    let path = store.path().to_path_buf();
    let what = match failure {
        Failure::Panic(message) => format!("tantivy failed reading it: {message}"),
        Failure::Error(err) => {
            if let Some(os) = os_error(&err) {
                return IndexError::Other { path, why: os };
            }
            describe(&err)
        }
    };
    let why = match segment {
        None => what,
        Some(segment) => {
            let id = segment.uuid_string();
            let damaged = damaged_files(store, &id);
            let files = match damaged.as_slice() {
                [] => "its files pass their checksums but do not fit together (one may have \
                       been overwritten by another segment's)"
                    .to_owned(),
                [one] => format!("{one} fails its checksum (cut or overwritten)"),
                many => format!(
                    "{} fail their checksums (cut or overwritten)",
                    many.join(", ")
                ),
            };
            format!("segment {id}: {files}; {what}")
        }
    };
    IndexError::Corrupt { path, why }
}

/// The message of an OS error in `err`, file included, if it is one.
fn os_error(err: &TantivyError) -> Option<String> {
    match err {
        TantivyError::IoError(io) if io.raw_os_error().is_some() => Some(io.to_string()),
        TantivyError::OpenReadError(OpenReadError::IoError { io_error, filepath })
            if io_error.raw_os_error().is_some() =>
        {
            Some(format!("{}: {io_error}", filepath.display()))
        }
        _ => None,
    }
}

/// What tantivy says of damage, the file first when it names one.
fn describe(err: &TantivyError) -> String {
    match err {
        TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(file)) => {
            format!("{} is missing", file.display())
        }
        TantivyError::OpenReadError(OpenReadError::IoError { io_error, filepath }) => {
            // Its first sentence: the rest is advice about tantivy versions.
            let text = io_error.to_string();
            let first = text
                .split_inclusive(". ")
                .next()
                .unwrap_or(&text)
                .trim_end();
            format!("{} is cut or overwritten: {first}", filepath.display())
        }
        other => format!("tantivy: {other}"),
    }
}

/// The files of segment `id` whose checksum fails (or that cannot be read
/// whole), by name. Reads them whole: only ever on the way to an error.
fn damaged_files(store: &Store, id: &str) -> Vec<String> {
    let Ok(entries) = fs::read_dir(store.path()) else {
        return Vec::new();
    };
    let directory = store.index().directory();
    let mut damaged: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| {
            name.strip_prefix(id)
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .filter(|name| {
            !matches!(
                guard::catch(|| directory.validate_checksum(Path::new(name))),
                Ok(Ok(true))
            )
        })
        .collect();
    damaged.sort();
    damaged
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        index::schema::document,
        model::{Event, Fields as EventFields},
    };

    fn event(offset: u64, line_no: u64, ts: &str, level: Option<Level>, text: &str) -> Event {
        Event {
            source: Arc::from("/logs/app.log"),
            offset,
            line_no,
            ts: Some(ts.parse().expect("time")),
            level,
            message: 0,
            text: text.to_owned(),
            lossy: false,
            truncated: false,
            partial: false,
            fields: EventFields::new(),
            lines: 1,
        }
    }

    /// An index in a temporary directory holding `events`.
    fn index_of(events: Vec<Event>) -> (tempfile::TempDir, Searcher) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("index"), true).expect("create");
        let mut writer = store.writer(1).expect("writer");
        let origin = FileKey { dev: 1, ino: 2 };
        for e in &events {
            let at = e.ts.expect("time");
            writer
                .add(document(store.fields(), e, Some(at), origin, &[]))
                .expect("add");
        }
        writer.finish().expect("commit");
        let searcher = Searcher::of(&store).expect("reader");
        (dir, searcher)
    }

    #[test]
    fn the_last_commit_says_its_documents_and_when() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index");
        assert_eq!(crate::index::last_commit(&path).expect("none yet"), None);
        let before = Timestamp::now();
        let store = Store::open(&path, true).expect("create");
        let mut writer = store.writer(1).expect("writer");
        let origin = FileKey { dev: 1, ino: 2 };
        for i in 0..3 {
            let e = event(i * 10, i + 1, "2026-11-21T03:00:00Z", None, "line");
            writer
                .add(document(store.fields(), &e, None, origin, &[]))
                .expect("add");
        }
        writer.commit().expect("commit");
        let commit = crate::index::last_commit(&path)
            .expect("reads")
            .expect("a commit");
        assert_eq!(commit.docs, 3);
        let at = commit.at.expect("its time");
        assert!(at >= before && at <= Timestamp::now(), "{at}");
        // Added but not committed: not counted.
        let e = event(40, 5, "2026-11-21T03:00:00Z", None, "line");
        writer
            .add(document(store.fields(), &e, None, origin, &[]))
            .expect("add");
        let again = crate::index::last_commit(&path).expect("reads");
        assert_eq!(again.map(|c| c.docs), Some(3));
    }

    fn count(searcher: &Searcher, query: &str) -> u64 {
        let mut request = Request::all();
        request.query = query.to_owned();
        searcher.count(&request).expect("query runs")
    }

    #[test]
    fn parsed_fields_are_keywords_by_name_nested_names_included() {
        let mut a = event(
            0,
            1,
            "2026-11-21T03:00:00Z",
            Some(Level::Error),
            "GET /api/orders 504",
        );
        a.fields.push("status", "504");
        a.fields.push("method", "GET");
        a.fields.push("path", "/api/orders");
        a.fields.push("http.status", "503");
        a.fields.push("msg", "free text is searched in the line");
        let mut b = event(
            40,
            2,
            "2026-11-21T03:00:01Z",
            Some(Level::Info),
            "GET /health 200",
        );
        b.fields.push("status", "200");
        let (_dir, s) = index_of(vec![a, b]);
        assert_eq!(count(&s, "status:504"), 1);
        assert_eq!(count(&s, "method:get"), 1);
        assert_eq!(count(&s, "path:\"/api/orders\""), 1);
        assert_eq!(count(&s, "http.status:503"), 1);
        assert_eq!(count(&s, "status:504 OR status:200"), 2);
        assert_eq!(count(&s, "level:ERROR"), 1);
        // Free text is not a field (the line has it), and a field no event
        // has is named as unknown: neither is silently nothing.
        for query in ["msg:free", "nosuchfield:1"] {
            let mut request = Request::all();
            request.query = query.to_owned();
            let err = s.count(&request).expect_err(query).to_string();
            assert!(err.contains("unknown field"), "{err}");
        }
    }

    #[test]
    fn histogram_counts_each_event_in_its_interval_whatever_the_order() {
        // 300 events (several blocks of 64), times jumping back and forth
        // over six minutes, two levels; every third mentions "needle".
        let mut events = Vec::new();
        let mut expected: BTreeMap<(i64, usize), u64> = BTreeMap::new();
        let mut expected_needle = 0;
        for i in 0..300u64 {
            let second = (i * 7919) % 360;
            let ts = format!("2026-11-21T03:{:02}:{:02}Z", second / 60, second % 60);
            let (level, number) = if i % 5 == 0 {
                (Some(Level::Error), 6)
            } else {
                (None, 0)
            };
            let text = if i % 3 == 0 { "a needle" } else { "hay" };
            expected_needle += u64::from(i % 3 == 0);
            *expected.entry(((second / 60) as i64, number)).or_default() += 1;
            events.push(event(i * 20, i + 1, &ts, level, text));
        }
        let (_dir, s) = index_of(events);
        let found = s.run(&Request::all(), 0, Some(60_000)).expect("runs");
        assert_eq!(found.total, 300);
        assert_eq!(found.histogram.len(), 6);
        for (minute, bucket) in found.histogram.iter().enumerate() {
            assert_eq!(
                bucket.start.to_string(),
                format!("2026-11-21T03:{minute:02}:00Z")
            );
            for (number, &count) in bucket.by_level.iter().enumerate() {
                let want = expected.get(&(minute as i64, number)).copied().unwrap_or(0);
                assert_eq!(count, want, "minute {minute} level {number}");
            }
        }
        let mut needle = Request::all();
        needle.query = "needle".to_owned();
        let found = s.run(&needle, 5, Some(60_000)).expect("runs");
        assert_eq!(found.total, expected_needle);
        let summed: u64 = found.histogram.iter().map(Bucket::total).sum();
        assert_eq!(summed, expected_needle);
        assert_eq!(found.hits.len(), 5);
    }

    #[test]
    fn histograms_from_minute_terms_equal_those_from_the_documents() {
        let mut events = Vec::new();
        for i in 0..500u64 {
            let second = (i * 7919) % 900;
            let ts = format!("2026-11-21T03:{:02}:{:02}Z", second / 60, second % 60);
            let level = [
                None,
                Some(Level::Info),
                Some(Level::Warn),
                Some(Level::Error),
            ][i as usize % 4];
            events.push(event(i * 20, i + 1, &ts, level, "hay"));
        }
        let (_dir, s) = index_of(events);
        let at = |t: &str| Some(t.parse::<Timestamp>().expect("time"));
        for interval in [60_000, 120_000, 300_000] {
            for (since, until) in [
                (None, None),
                (at("2026-11-21T03:02:00Z"), at("2026-11-21T03:09:00Z")),
                (None, at("2026-11-21T03:05:00Z")),
            ] {
                for min_level in [None, Some(Level::Warn)] {
                    let mut request = Request::all();
                    (request.since, request.until, request.min_level) = (since, until, min_level);
                    assert!(s.rollup(&request, interval).expect("reads").is_some());
                    let rolled = s.run(&request, 0, Some(interval)).expect("runs");
                    // An exclusion of nothing: the same events, the
                    // documents visited.
                    request.query = "* -zzz".to_owned();
                    assert!(s.rollup(&request, interval).expect("reads").is_none());
                    let visited = s.run(&request, 0, Some(interval)).expect("runs");
                    assert_eq!(rolled.total, visited.total);
                    assert_eq!(rolled.histogram, visited.histogram, "{interval} {since:?}");
                    assert!(rolled.total > 0);
                }
            }
        }
        // Times not on a minute: the documents are visited.
        let mut request = Request::all();
        request.since = at("2026-11-21T03:02:30Z");
        assert!(s.rollup(&request, 60_000).expect("reads").is_none());
    }

    #[test]
    fn exclusions_alone_exclude_from_everything() {
        let (_dir, s) = index_of(vec![
            event(0, 1, "2026-11-21T03:00:00Z", None, "alpha beta"),
            event(11, 2, "2026-11-21T03:00:01Z", None, "alpha gamma"),
            event(23, 3, "2026-11-21T03:00:02Z", None, "delta"),
        ]);
        assert_eq!(count(&s, "-beta"), 2);
        assert_eq!(count(&s, "NOT alpha"), 1);
        assert_eq!(count(&s, "alpha AND NOT beta"), 1);
        assert_eq!(count(&s, "delta OR NOT alpha"), 1);
        assert_eq!(count(&s, "*"), 3);
        let mut bad = Request::all();
        bad.query = "(alpha".to_owned();
        assert!(s.count(&bad).is_err_and(|e| {
            e.to_string()
                .contains("query:1:1: this `(` is never closed")
        }));
    }

    #[test]
    fn hits_come_latest_first_cut_then_in_time_and_file_order() {
        let (_dir, s) = index_of(vec![
            event(0, 1, "2026-11-21T03:00:05Z", None, "x one"),
            event(10, 2, "2026-11-21T03:00:01Z", None, "x two"),
            event(20, 3, "2026-11-21T03:00:05Z", None, "x three"),
            event(30, 4, "2026-11-21T03:00:09Z", None, "x four"),
        ]);
        let mut request = Request::all();
        request.query = "x".to_owned();
        let found = s.run(&request, 3, None).expect("runs");
        assert_eq!(found.total, 4);
        let lines: Vec<&str> = found.hits.iter().map(|h| h.line.as_str()).collect();
        assert_eq!(lines, ["x one", "x three", "x four"]);
        let (before, after) = s.context(&found.hits[1], 1).expect("context");
        assert_eq!(before.iter().map(|h| h.line_no).collect::<Vec<_>>(), [2]);
        assert_eq!(after.iter().map(|h| h.line_no).collect::<Vec<_>>(), [4]);
        let words = s.words(&request);
        assert_eq!(s.highlights("a x b x", &words, None), [2..3, 6..7]);
    }

    /// A query as generated: what it means, evaluated directly.
    #[derive(Debug, Clone)]
    enum Q {
        Word(&'static str),
        Prefix(&'static str),
        /// The bool: written with `AND` (else side by side).
        And(Vec<Q>, bool),
        Or(Vec<Q>),
        /// The bool: written `-x` (else `NOT x`).
        Not(Box<Q>, bool),
    }

    const VOCABULARY: [&str; 5] = ["failed", "password", "root", "refused", "timeout"];

    impl Q {
        fn eval(&self, words: &[&str]) -> bool {
            match self {
                Q::Word(w) => words.contains(w),
                Q::Prefix(p) => words.iter().any(|w| w.starts_with(p)),
                Q::And(parts, _) => parts.iter().all(|p| p.eval(words)),
                Q::Or(parts) => parts.iter().any(|p| p.eval(words)),
                Q::Not(inner, _) => !inner.eval(words),
            }
        }

        /// The text, with parentheses only where the documented binding
        /// (NOT, then AND, then OR) needs them.
        fn text(&self) -> String {
            match self {
                Q::Word(w) => (*w).to_owned(),
                Q::Prefix(p) => format!("{p}*"),
                Q::And(parts, written) => parts
                    .iter()
                    .map(|p| match p {
                        Q::Or(_) => format!("({})", p.text()),
                        _ => p.text(),
                    })
                    .collect::<Vec<_>>()
                    .join(if *written { " AND " } else { " " }),
                Q::Or(parts) => parts.iter().map(Q::text).collect::<Vec<_>>().join(" OR "),
                Q::Not(inner, minus) => match (&**inner, minus) {
                    (Q::Word(_) | Q::Prefix(_), true) => format!("-{}", inner.text()),
                    (_, true) => format!("-({})", inner.text()),
                    (Q::And(..) | Q::Or(_), false) => format!("NOT ({})", inner.text()),
                    (_, false) => format!("NOT {}", inner.text()),
                },
            }
        }
    }

    fn queries() -> impl proptest::strategy::Strategy<Value = Q> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            4 => proptest::sample::select(&VOCABULARY[..]).prop_map(Q::Word),
            1 => proptest::sample::select(&["fail", "pass", "r", "re", "ti"][..]).prop_map(Q::Prefix),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                (
                    proptest::collection::vec(inner.clone(), 2..4),
                    any::<bool>()
                )
                    .prop_map(|(p, w)| Q::And(p, w)),
                proptest::collection::vec(inner.clone(), 2..4).prop_map(Q::Or),
                (inner, any::<bool>()).prop_map(|(q, m)| Q::Not(Box::new(q), m)),
            ]
        })
    }

    /// Random mixes of words, prefixes, AND (written or not), OR, NOT and
    /// `-` count exactly what a direct evaluation of their meaning finds,
    /// over every combination of five words.
    #[test]
    fn queries_mean_what_they_say_against_a_reference() {
        use proptest::test_runner::{Config, TestRunner};
        let mut events = Vec::new();
        for set in 0u64..32 {
            let words: Vec<&str> = VOCABULARY
                .iter()
                .enumerate()
                .filter(|(i, _)| set & (1 << i) != 0)
                .map(|(_, w)| *w)
                .collect();
            let text = format!("line {}", words.join(" "));
            events.push(event(
                set * 100,
                set + 1,
                "2026-11-21T03:00:00Z",
                None,
                &text,
            ));
        }
        let (_dir, s) = index_of(events);
        let corpus: Vec<Vec<&str>> = (0u64..32)
            .map(|set| {
                VOCABULARY
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| set & (1 << i) != 0)
                    .map(|(_, w)| *w)
                    .collect()
            })
            .collect();
        let mut runner = TestRunner::new(Config {
            cases: 300,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&queries(), |q| {
                let text = q.text();
                let expected = corpus.iter().filter(|words| q.eval(words)).count() as u64;
                proptest::prop_assert_eq!(count(&s, &text), expected, "query {}", text);
                Ok(())
            })
            .expect("every query counts what it means");
        // The issue's example: a mix of a plain word and AND.
        assert_eq!(count(&s, "failed password AND root"), 4);
        assert_eq!(
            count(&s, "failed password AND root"),
            count(&s, "failed AND password AND root")
        );
    }

    #[test]
    fn fields_and_levels_are_checked() {
        let mut a = event(
            0,
            1,
            "2026-11-21T03:00:00Z",
            Some(Level::Error),
            "GET /a 504",
        );
        a.fields.push("status", "504");
        let (_dir, s) = index_of(vec![a]);
        assert_eq!(count(&s, "level:err"), 1);
        assert_eq!(count(&s, "status:5*"), 1);
        assert_eq!(count(&s, "stat*"), 0);
        assert_eq!(count(&s, "source:app.log"), 1);
        assert_eq!(count(&s, "source:app*"), 1);
        let err = |query: &str| {
            let mut request = Request::all();
            request.query = query.to_owned();
            s.count(&request).expect_err(query).to_string()
        };
        let unknown = err("colour:red");
        assert!(unknown.contains("unknown field `colour`"), "{unknown}");
        assert!(unknown.contains("status"), "{unknown}");
        let level = err("a level:eror");
        assert!(
            level.starts_with("query:1:9: `eror` is not a level: one of"),
            "{level}"
        );
        assert!(err("ts:3").contains("--since"));
        assert!(err("a AND").starts_with("query:1:6:"));
    }
}
