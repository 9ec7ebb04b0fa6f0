//! The searcher's tests: real indexes in temporary directories.

use std::sync::Arc;

use std::collections::BTreeMap;

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
