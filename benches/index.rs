//! Index throughput and search latency: end-to-end ingest (read → parse →
//! match → index, committed and searchable) against a naive single-thread
//! tantivy loop over the same lines, and search latency for a term, a
//! phrase, a field with a time range and a histogram.
//!
//! `cargo bench --bench index` runs the criterion benchmarks on a small
//! generated corpus (CI only compiles them). For the figures on a large
//! corpus, with p50/p99 and the index size ratio, point it at a corpus
//! written by `cargo run --release --example gen_corpus -- corpus --out DIR`:
//!
//! ```text
//! TRIAGE_BENCH_CORPUS=DIR cargo bench --bench index
//! ```
//!
//! It then prints one table (and, with `TRIAGE_BENCH_JSON=1`, one JSON line
//! per figure) and skips criterion; `benches/compare.sh` uses that mode.

#[path = "support/corpus.rs"]
#[allow(dead_code, missing_docs)]
mod corpus;

use std::{
    fs,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    sync::atomic::AtomicBool,
    time::{Duration, Instant},
};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::{Timestamp, tz::TimeZone};
use tantivy::{
    Index, TantivyDocument,
    schema::{STORED, Schema, TEXT},
};
use triage::{
    config::Config,
    index::{query::Request, search::Searcher},
    ingest::{IngestOptions, Progress, ingest},
    library::Library,
};

/// Bytes of the generated corpus of the criterion benchmarks.
const SMALL: u64 = 16 << 20;

fn library() -> Library {
    let (library, diags) = Library::load(&[], &[]);
    assert!(diags.is_empty(), "{diags:?}");
    library
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for entry in fs::read_dir(&p).expect("readable corpus").flatten() {
                stack.push(entry.path());
            }
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn size_of(paths: &[PathBuf]) -> u64 {
    paths
        .iter()
        .filter_map(|p| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// triage's ingest, end to end, into `data/index`: returns the elapsed time.
fn triage_ingest(files: &[PathBuf], index: &Path, library: &Library) -> Duration {
    let options = IngestOptions {
        paths: files.to_vec(),
        index: index.to_path_buf(),
        zone: TimeZone::UTC,
        max_line: 1 << 20,
        // `triage ingest`'s default.
        commit_every: Duration::from_secs(10),
        threads: std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4),
    };
    let config = Config::default();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let report =
        ingest(&options, library, &config, &stop, &mut |_: &Progress| {}).expect("ingest works");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    started.elapsed()
}

/// The naive loop: one thread reads each line and adds it, stored and
/// indexed with tantivy's default tokenizer; no parsing, no matching; one
/// indexing thread; a commit a second and at the end.
fn naive_ingest(files: &[PathBuf], dir: &Path) -> Duration {
    let mut builder = Schema::builder();
    let line = builder.add_text_field("line", TEXT | STORED);
    let schema = builder.build();
    fs::create_dir_all(dir).expect("dir");
    let started = Instant::now();
    let index = Index::create_in_dir(dir, schema).expect("index");
    let mut writer = index
        .writer_with_num_threads::<TantivyDocument>(1, 96 << 20)
        .expect("writer");
    let mut last = Instant::now();
    for file in files {
        let reader = BufReader::with_capacity(1 << 20, fs::File::open(file).expect("open"));
        for text in reader.split(b'\n') {
            let text = text.expect("read");
            let mut doc = TantivyDocument::new();
            doc.add_text(line, String::from_utf8_lossy(&text));
            writer.add_document(doc).expect("add");
            if last.elapsed() >= Duration::from_secs(1) {
                writer.commit().expect("commit");
                last = Instant::now();
            }
        }
    }
    writer.commit().expect("commit");
    writer.wait_merging_threads().expect("merges");
    started.elapsed()
}

/// The searches measured, by name.
fn searches(zone: &TimeZone) -> Vec<(&'static str, Request, Option<i64>)> {
    let mut term = Request::all();
    term.query = "OutOfMemoryError".to_owned();
    let mut phrase = Request::all();
    phrase.query = "\"too many clients\"".to_owned();
    let mut field = Request::all();
    field.query = "level:error".to_owned();
    let now = Timestamp::now();
    field.since = triage::index::query::parse_time("2026-11-21 03:00", now, zone).ok();
    field.until = triage::index::query::parse_time("2026-11-21 03:30", now, zone).ok();
    let histogram = Request::all();
    let mut word = Request::all();
    word.query = "error".to_owned();
    vec![
        ("term", term, None),
        ("phrase", phrase, None),
        ("field+time", field, None),
        ("histogram 1m", histogram, Some(60_000)),
        ("histogram 1m word", word, Some(60_000)),
    ]
}

fn run_search(searcher: &Searcher, request: &Request, histogram: Option<i64>) -> u64 {
    let found = searcher
        .run(
            request,
            if histogram.is_some() { 0 } else { 100 },
            histogram,
        )
        .expect("search works");
    found.total
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

/// The large-corpus run for `compare.sh` and the issue's figures.
fn corpus_mode(corpus: &Path) {
    let json = std::env::var_os("TRIAGE_BENCH_JSON").is_some();
    let files = files_under(corpus);
    let bytes = size_of(&files);
    let tmp = tempfile::tempdir().expect("tempdir");
    let library = library();
    let mb = bytes as f64 / 1e6;
    let report = |name: &str, value: f64, unit: &str| {
        if json {
            println!(
                "{}",
                serde_json::json!({ "bench": "index", "name": name, "value": value, "unit": unit })
            );
        } else {
            println!("{name:<28} {value:>10.2} {unit}");
        }
    };
    report("corpus", mb, "MB");
    let naive = naive_ingest(&files, &tmp.path().join("naive"));
    report(
        "ingest naive tantivy loop",
        mb / naive.as_secs_f64(),
        "MB/s",
    );
    let index = tmp.path().join("triage/index");
    let took = triage_ingest(&files, &index, &library);
    report("ingest triage end to end", mb / took.as_secs_f64(), "MB/s");
    report(
        "ingest ratio triage/naive",
        naive.as_secs_f64() / took.as_secs_f64(),
        "x",
    );
    let size: u64 = fs::read_dir(&index)
        .expect("index")
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    report("index size / raw size", size as f64 / bytes as f64, "ratio");
    let searcher = Searcher::open(&index).expect("index opens");
    report("events", searcher.num_docs() as f64, "lines");
    report("index segments", searcher.segments() as f64, "segments");
    for (name, request, histogram) in searches(&TimeZone::UTC) {
        let mut times = Vec::new();
        let mut total = 0;
        // Warm the page cache once, then measure.
        run_search(&searcher, &request, histogram);
        for _ in 0..50 {
            let started = Instant::now();
            total = run_search(&searcher, &request, histogram);
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        report(&format!("search {name} hits"), total as f64, "events");
        report(&format!("search {name} p50"), percentile(&times, 0.5), "ms");
        report(
            &format!("search {name} p99"),
            percentile(&times, 0.99),
            "ms",
        );
    }
}

fn benches(c: &mut Criterion) {
    if let Some(corpus) = std::env::var_os("TRIAGE_BENCH_CORPUS") {
        corpus_mode(Path::new(&corpus));
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let corpus_dir = tmp.path().join("corpus");
    corpus::write_corpus(
        &corpus_dir,
        &corpus::Spec {
            total_bytes: SMALL,
            seed: 1,
            healthy: false,
        },
    )
    .expect("corpus");
    let files = files_under(&corpus_dir);
    let bytes = size_of(&files);
    let library = library();
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10).throughput(Throughput::Bytes(bytes));
    let mut run = 0;
    group.bench_function("triage end to end", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    run += 1;
                    triage_ingest(&files, &tmp.path().join(format!("t{run}/index")), &library)
                })
                .sum()
        });
    });
    group.bench_function("naive tantivy loop", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    run += 1;
                    naive_ingest(&files, &tmp.path().join(format!("n{run}")))
                })
                .sum()
        });
    });
    group.finish();
    let index = tmp.path().join("search/index");
    triage_ingest(&files, &index, &library);
    let searcher = Searcher::open(&index).expect("index opens");
    let mut group = c.benchmark_group("search");
    for (name, request, histogram) in searches(&TimeZone::UTC) {
        group.bench_function(name, |b| {
            b.iter(|| run_search(&searcher, &request, histogram));
        });
    }
    group.finish();
}

criterion_group!(index_benches, benches);
criterion_main!(index_benches);
