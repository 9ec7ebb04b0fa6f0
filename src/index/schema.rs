//! The index's schema: one document per event, and how an event becomes one.
//!
//! Pure: no I/O. The field names here are the ones a query may use
//! (`level:error`, `source:...`, `host:web-1`, `signature:pg-too-many-clients`,
//! and any parsed field by its name, `status:504`). The schema's version is
//! [`SCHEMA_VERSION`]; an index written with another one is refused with a
//! clear message (see `index::IndexError::Incompatible`).

use jiff::Timestamp;
use tantivy::{
    DateTime, TantivyDocument,
    schema::{
        DateOptions, DateTimePrecision, FAST, Field, INDEXED, IndexRecordOption, JsonObjectOptions,
        STORED, Schema, TextFieldIndexing, TextOptions,
        document::{ReferenceValue, ReferenceValueLeaf, Value},
    },
    tokenizer::{
        LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, TokenizerManager,
    },
};

use crate::model::{Event, FileKey, Level};

/// Bumped whenever the schema or the tokenizers change: an index written
/// with another version must be rebuilt (`triage reindex`).
pub const SCHEMA_VERSION: u32 = 3;

/// The tokenizer of the line and of parsed fields: words are runs of
/// letters and digits, lowercased. Tokens up to [`MAX_TOKEN`] bytes are
/// kept, so trace ids, hashes and long identifiers stay searchable (tantivy's
/// default tokenizer drops tokens over 40 bytes).
pub const WORDS: &str = "triage_words";
/// The tokenizer of keyword fields compared without case (level, host).
pub const KEYWORD: &str = "triage_keyword";
/// Longest token kept, in bytes: longer runs of letters and digits are
/// not identifiers anyone types.
pub const MAX_TOKEN: usize = 1024;

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The event's time (its own timestamp, else the last one before it in
    /// its file, else when `watch` read it), milliseconds; fast, stored.
    /// Absent when the event has no time (`ingest` of a file whose lines
    /// carry none).
    pub ts: Field,
    /// Bit 0: the time is the event's own timestamp; bit 1: truncated;
    /// bit 2: partial; bit 3: invalid UTF-8.
    pub flags: Field,
    /// The text of the line (the event), full-text with positions, stored.
    pub line: Field,
    /// Level name, lowercase; absent when the line has none.
    pub level: Field,
    /// Level as a number (0: none, 1 trace ... 8 fatal), fast.
    pub lvl: Field,
    /// The path the event was read from.
    pub source: Field,
    /// The host, from the line's fields (`host`, `hostname`).
    pub host: Field,
    /// Device of the file the event was read from.
    pub dev: Field,
    /// Inode of the file.
    pub ino: Field,
    /// Byte offset of the event in the (decompressed) file.
    pub offset: Field,
    /// 1-based line number of the event's first line.
    pub line_no: Field,
    /// Ids of the signatures the event matched.
    pub signature: Field,
    /// The event's minute and level as one term ([`bucket`]): how many
    /// events each minute holds, per level, is the number of documents of
    /// each term, read from the term dictionary with no document visited
    /// (histograms of everything).
    pub bucket: Field,
    /// Parsed fields, as a JSON object of strings, each value one
    /// case-insensitive keyword (`status:504`, `method:post`,
    /// `path:"/api/orders"`); times, messages and values longer than
    /// [`MAX_FIELD_VALUE`] are left to the line.
    pub fields: Field,
}

/// Longest parsed field value indexed, in bytes: longer ones are free text,
/// searched in the line.
pub const MAX_FIELD_VALUE: usize = 128;

/// Parsed fields not indexed as keywords: the time (the `ts` field has it)
/// and the message (the line has it).
const FREE_TEXT_KEYS: [&str; 8] = [
    "ts",
    "time",
    "timestamp",
    "@timestamp",
    "msg",
    "message",
    "log",
    "stack_trace",
];

/// Flag bits of [`Fields::flags`].
pub mod flag {
    /// The time is the event's own.
    pub const OWN_TIME: u64 = 1;
    /// The line was cut at the cap.
    pub const TRUNCATED: u64 = 2;
    /// The line had no line end.
    pub const PARTIAL: u64 = 4;
    /// The line was not valid UTF-8.
    pub const LOSSY: u64 = 8;
}

/// The schema and its fields.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    // No field norms: hits are ordered by time, never scored.
    let words = TextFieldIndexing::default()
        .set_tokenizer(WORDS)
        .set_fieldnorms(false)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let keyword = TextFieldIndexing::default()
        .set_tokenizer(KEYWORD)
        .set_fieldnorms(false)
        .set_index_option(IndexRecordOption::Basic);
    let raw = TextFieldIndexing::default()
        .set_tokenizer("raw")
        .set_fieldnorms(false)
        .set_index_option(IndexRecordOption::Basic);
    let fields = Fields {
        ts: b.add_date_field(
            "ts",
            // Fast only: time ranges scan the column; a term per
            // millisecond in the inverted index would cost more than it
            // saves.
            DateOptions::default()
                .set_fast()
                .set_stored()
                .set_precision(DateTimePrecision::Milliseconds),
        ),
        flags: b.add_u64_field("flags", STORED),
        line: b.add_text_field(
            "line",
            TextOptions::default()
                .set_indexing_options(words.clone())
                .set_stored(),
        ),
        level: b.add_text_field(
            "level",
            TextOptions::default().set_indexing_options(keyword.clone()),
        ),
        lvl: b.add_u64_field("lvl", FAST | STORED),
        source: b.add_text_field(
            "source",
            TextOptions::default()
                .set_indexing_options(raw)
                .set_stored(),
        ),
        host: b.add_text_field(
            "host",
            TextOptions::default()
                .set_indexing_options(keyword.clone())
                .set_stored(),
        ),
        dev: b.add_u64_field("dev", INDEXED | FAST | STORED),
        ino: b.add_u64_field("ino", INDEXED | FAST | STORED),
        offset: b.add_u64_field("offset", FAST | STORED),
        line_no: b.add_u64_field("line_no", FAST | STORED),
        signature: b.add_text_field(
            "signature",
            TextOptions::default()
                .set_indexing_options(keyword.clone())
                .set_stored(),
        ),
        bucket: b.add_i64_field("bucket", INDEXED),
        fields: b.add_json_field(
            "fields",
            JsonObjectOptions::default()
                .set_indexing_options(keyword.clone())
                .set_expand_dots_enabled(),
        ),
    };
    (b.build(), fields)
}

/// Registers the tokenizers the schema names.
pub fn register_tokenizers(manager: &TokenizerManager) {
    manager.register(
        WORDS,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_TOKEN + 1))
            .filter(LowerCaser)
            .build(),
    );
    manager.register(
        KEYWORD,
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
}

/// The number stored for a level (0: none).
pub fn level_number(level: Option<Level>) -> u64 {
    level.map_or(0, |l| {
        Level::ALL
            .iter()
            .position(|x| *x == l)
            .map_or(0, |i| i as u64 + 1)
    })
}

/// The level of a stored number.
pub fn level_of(number: u64) -> Option<Level> {
    usize::try_from(number)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| Level::ALL.get(i).copied())
}

/// Levels per minute in [`bucket`] values.
pub const BUCKET_LEVELS: i64 = 16;

/// The [`Fields::bucket`] value of an event at `millis` with level number
/// `level` (at most 8).
pub fn bucket(millis: i64, level: u64) -> i64 {
    millis.div_euclid(60_000) * BUCKET_LEVELS + level.min(8) as i64
}

/// The minute (its start, in milliseconds) and level number of a
/// [`bucket`] value.
pub fn unbucket(value: i64) -> (i64, u64) {
    (
        value.div_euclid(BUCKET_LEVELS) * 60_000,
        value.rem_euclid(BUCKET_LEVELS) as u64,
    )
}

/// Milliseconds since the epoch as tantivy's date.
pub fn date(ts: Timestamp) -> DateTime {
    DateTime::from_timestamp_millis(ts.as_millisecond())
}

/// The document of one event. `at` is its time when it has none of its own
/// (the last one seen before it in its file, or when `watch` read it);
/// `None`: it has no time, and the document none either (no `ts`, no
/// `bucket`): no time range holds it, and it sorts after timed events.
pub fn document(
    f: &Fields,
    event: &Event,
    at: Option<Timestamp>,
    origin: FileKey,
    signatures: &[&str],
) -> TantivyDocument {
    document_on(f, event, at, origin, signatures, None)
}

/// [`document`] of an event read on another host (a fleet's agent): `host`
/// is that host, whatever the line's own fields say.
pub fn document_on(
    f: &Fields,
    event: &Event,
    at: Option<Timestamp>,
    origin: FileKey,
    signatures: &[&str],
    host: Option<&str>,
) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    let ts = event.ts.or(at).map(date);
    if let Some(ts) = ts {
        doc.add_date(f.ts, ts);
    }
    let flags = if event.ts.is_some() {
        flag::OWN_TIME
    } else {
        0
    } | if event.truncated { flag::TRUNCATED } else { 0 }
        | if event.partial { flag::PARTIAL } else { 0 }
        | if event.lossy { flag::LOSSY } else { 0 };
    doc.add_u64(f.flags, flags);
    doc.add_text(f.line, &event.text);
    if let Some(level) = event.level {
        doc.add_text(f.level, level.as_str());
    }
    doc.add_u64(f.lvl, level_number(event.level));
    if let Some(ts) = ts {
        doc.add_i64(
            f.bucket,
            bucket(ts.into_timestamp_millis(), level_number(event.level)),
        );
    }
    doc.add_text(f.source, &*event.source);
    if let Some(host) = host.or_else(|| {
        event
            .fields
            .get("host")
            .or_else(|| event.fields.get("hostname"))
    }) {
        doc.add_text(f.host, host);
    }
    doc.add_u64(f.dev, origin.dev);
    doc.add_u64(f.ino, origin.ino);
    doc.add_u64(f.offset, event.offset);
    doc.add_u64(f.line_no, event.line_no);
    for id in signatures {
        doc.add_text(f.signature, id);
    }
    let pairs: Vec<(&str, &str)> = event
        .fields
        .iter()
        .filter(|(k, v)| v.len() <= MAX_FIELD_VALUE && !FREE_TEXT_KEYS.contains(k))
        .collect();
    if !pairs.is_empty() {
        doc.add_field_value(f.fields, Parsed::Object(&pairs));
    }
    doc
}

/// Parsed fields as tantivy reads a JSON object, borrowed from the event:
/// nothing is copied before tantivy's own copy into the document (an
/// owned object cost four allocations per field).
#[derive(Debug, Clone, Copy)]
enum Parsed<'a> {
    Object(&'a [(&'a str, &'a str)]),
    Str(&'a str),
}

/// The members of a [`Parsed::Object`].
struct Members<'a>(std::slice::Iter<'a, (&'a str, &'a str)>);

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, Parsed<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|&(key, value)| (key, Parsed::Str(value)))
    }
}

impl<'a> Value<'a> for Parsed<'a> {
    type ArrayIter = std::iter::Empty<Parsed<'a>>;
    type ObjectIter = Members<'a>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        match *self {
            Parsed::Object(pairs) => ReferenceValue::Object(Members(pairs.iter())),
            Parsed::Str(text) => ReferenceValue::Leaf(ReferenceValueLeaf::Str(text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_round_trip_through_their_numbers() {
        assert_eq!(level_number(None), 0);
        for level in Level::ALL {
            assert_eq!(level_of(level_number(Some(level))), Some(level));
        }
        assert_eq!(level_of(0), None);
        assert_eq!(level_of(99), None);
    }

    #[test]
    fn buckets_round_trip_minutes_and_levels() {
        for millis in [
            0i64,
            59_999,
            60_000,
            1_763_694_729_114,
            -1,
            -60_000,
            -60_001,
        ] {
            for level in 0..=8 {
                let minute = millis.div_euclid(60_000) * 60_000;
                assert_eq!(unbucket(bucket(millis, level)), (minute, level));
            }
        }
        // Order is kept: later minutes, then higher levels, sort after.
        assert!(bucket(59_999, 8) < bucket(60_000, 0));
    }

    #[test]
    fn long_identifiers_are_single_tokens() {
        let manager = TokenizerManager::default();
        register_tokenizers(&manager);
        let mut analyzer = manager.get(WORDS).expect("registered");
        let hash = "a".repeat(64);
        let text = format!("trace_id=4bf92f3577b34da6a3ce929d0e0e4736 sha {hash} Done");
        let mut stream = analyzer.token_stream(&text);
        let mut tokens = Vec::new();
        while let Some(token) = stream.next() {
            tokens.push(token.text.clone());
        }
        assert_eq!(
            tokens,
            [
                "trace",
                "id",
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "sha",
                &hash,
                "done"
            ]
        );
    }
}
