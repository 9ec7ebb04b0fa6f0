//! Matching throughput: the prefilter over whole buffers, a full `scan`
//! (read → search → parse → detect) on one thread and on all, and the
//! per-line `RegexSet` the search replaces, on generated logs in the real
//! formats and on the real logs of `../shared/data/` when present; with the
//! default library and with 500 synthetic signatures more.
//!
//! `cargo bench --bench matching`; CI only compiles it. For comparisons with
//! `rg` and `grep` on a large corpus, see `benches/compare.sh`.

#[path = "support/corpus.rs"]
#[allow(dead_code, missing_docs)]
mod corpus;
#[path = "support/patterns.rs"]
#[allow(dead_code, missing_docs)]
mod patterns;

use std::{
    hint::black_box,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jiff::{Timestamp, tz::TimeZone};
use triage::{
    config::Config,
    library::Library,
    model::RawLine,
    parse::{Parser, TimeContext},
    scan::Scanner,
    signature::prefilter::Scratch,
    tail::read::Input,
};

/// Bytes of generated log per format.
const PER_FORMAT: u64 = 4 << 20;

/// One buffer per generated format, plus the shared real logs if found.
fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = corpus::FILES
        .iter()
        .enumerate()
        .map(|(i, &(format, name, _))| {
            let bytes = corpus::generate_vec(format, PER_FORMAT, 7 + i as u64, false);
            (name.replace('/', "-"), bytes)
        })
        .collect();
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    for name in ["apache-access/access.log", "postgresql/pg-timezones.log"] {
        if let Ok(bytes) = std::fs::read(shared.join(name)) {
            out.push((format!("shared-{}", name.replace('/', "-")), bytes));
        }
    }
    out
}

fn library(extra: Option<&Path>) -> Library {
    let dirs: Vec<PathBuf> = extra.map(Path::to_path_buf).into_iter().collect();
    let (library, diags) = Library::load(&dirs, &[]);
    assert!(diags.is_empty(), "the library loads: {diags:?}");
    library
}

fn synthetic_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("synthetic.toml"),
        patterns::synthetic_toml(500),
    )
    .expect("write synthetic signatures");
    dir
}

/// The prefilter alone over whole buffers: what a scan spends most of its
/// time on.
fn prefilter(c: &mut Criterion) {
    let synthetic = synthetic_dir();
    let libraries = [
        ("default", library(None)),
        ("default+500", library(Some(synthetic.path()))),
    ];
    let mut group = c.benchmark_group("prefilter");
    group
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    for (name, bytes) in inputs() {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        for (which, library) in &libraries {
            let prefilter = library.matcher().prefilter();
            let mut scratch = Scratch::default();
            let mut lines = Vec::new();
            group.bench_with_input(BenchmarkId::new(*which, &name), &bytes, |b, bytes| {
                b.iter(|| {
                    lines.clear();
                    prefilter.matching_lines(black_box(bytes), &mut scratch, &mut lines);
                    lines.len()
                });
            });
        }
    }
    group.finish();
}

/// A whole scan of a file, as `triage scan` does it.
fn scan(c: &mut Criterion) {
    let library = library(None);
    let config = Config::default();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut all = Vec::new();
    for (_, bytes) in inputs() {
        all.extend_from_slice(&bytes);
    }
    let path = dir.path().join("mixed.log");
    std::fs::write(&path, &all).expect("write");
    let input = Input::Path(path);
    let mut group = c.benchmark_group("scan");
    group
        .measurement_time(Duration::from_secs(5))
        .sample_size(10);
    group.throughput(Throughput::Bytes(all.len() as u64));
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    for threads in [1, cores] {
        group.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| {
                let mut scanner =
                    Scanner::new(&library, &config, TimeZone::UTC, 1 << 20, Timestamp::now())
                        .with_workers(threads);
                let mut alerts = 0u64;
                scanner
                    .scan(&input, &mut |_| {
                        alerts += 1;
                        Ok(())
                    })
                    .expect("scans");
                alerts
            });
        });
    }
    group.finish();
}

/// What the prefilter replaces: every line parsed and run through the
/// combined `RegexSet`.
fn per_line(c: &mut Criterion) {
    let library = library(None);
    let (_, bytes) = inputs().swap_remove(1);
    let text = String::from_utf8(bytes).expect("generated logs are UTF-8");
    let parser = Parser::new(
        Arc::from("bench"),
        TimeContext::new(TimeZone::UTC, Timestamp::now()),
    );
    let mut group = c.benchmark_group("per-line");
    group
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse+regexset", |b| {
        let mut hits = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for (i, line) in text.lines().enumerate() {
                let event = parser.event(RawLine {
                    offset: 0,
                    line_no: i as u64,
                    bytes: line.as_bytes().to_vec(),
                    truncated: false,
                    partial: false,
                });
                hits.clear();
                library
                    .matcher()
                    .matches(&library.signatures, &event, &mut hits);
                n += hits.len();
            }
            n
        });
    });
    group.finish();
}

criterion_group!(benches, prefilter, scan, per_line);
criterion_main!(benches);
