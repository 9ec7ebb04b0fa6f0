//! Parse throughput per format: every line of a buffer through the source
//! reader the scan's line path and the live pipeline use (format read from
//! the first lines, timestamp, level, fields, multi-line events), in MB/s.
//!
//! Formats: those of the generated corpus (nginx access and error, logback
//! with stack traces, PostgreSQL, syslog, Python with tracebacks, klog),
//! JSON lines, logfmt and Kubernetes CRI lines made here, and the real logs
//! of `../shared/data/` when present. `cargo bench --bench parse`; CI only
//! compiles it.

#[path = "support/corpus.rs"]
#[allow(dead_code, missing_docs)]
mod corpus;

use std::{fmt::Write as _, hint::black_box, path::Path, sync::Arc, time::Duration};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jiff::{Timestamp, tz::TimeZone};
use triage::{
    parse::{Profile, Settings, SourceReader, TimeContext},
    tail::split::LineSplitter,
};

/// Bytes of log per format.
const PER_FORMAT: u64 = 4 << 20;

/// Lines in a format the corpus does not write, `n` of them.
fn made_here(name: &str, n: usize) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..n {
        let (minute, second, ms) = (i / 60_000 % 60, i / 1000 % 60, i % 1000);
        let ts = format!("2026-11-21T03:{minute:02}:{second:02}.{ms:03}Z");
        let level = ["info", "debug", "warn", "error"][i % 4];
        let _ = match name {
            "json" => writeln!(
                out,
                r#"{{"time":"{ts}","level":"{level}","msg":"request done","http":{{"method":"GET","path":"/api/orders/{i}","status":200}},"duration_ms":{}}}"#,
                i % 97
            ),
            "logfmt" => writeln!(
                out,
                r#"time={ts} level={level} msg="request done" method=GET path=/api/orders/{i} status=200 duration={}ms"#,
                i % 97
            ),
            _ => writeln!(
                out,
                "{ts} stdout F {level} request done path=/api/orders/{i} status=200"
            ),
        };
    }
    out.into_bytes()
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = corpus::FILES
        .iter()
        .enumerate()
        .map(|(i, &(format, name, _))| {
            let bytes = corpus::generate_vec(format, PER_FORMAT, 11 + i as u64, false);
            (name.replace('/', "-"), bytes)
        })
        .collect();
    for name in ["json", "logfmt", "cri"] {
        out.push((name.to_owned(), made_here(name, 40_000)));
    }
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    for name in [
        "apache-access/access.log",
        "postgresql/pg-timezones.log",
        "postgresql/pg_rawcsv.log",
    ] {
        if let Ok(bytes) = std::fs::read(shared.join(name)) {
            out.push((format!("shared-{}", name.replace('/', "-")), bytes));
        }
    }
    out
}

/// Reads every event of `bytes`; returns how many.
fn parse_all(bytes: &[u8], now: Timestamp) -> usize {
    let time = TimeContext::new(TimeZone::UTC, now);
    let profile = Profile::of(bytes, true, None, &time);
    let mut reader = SourceReader::new(Arc::from("bench.log"), time, profile, &Settings::default());
    let mut events = 0;
    let mut count = |event: triage::model::Event, _at: Option<Timestamp>| {
        black_box(&event);
        events += 1;
    };
    let mut splitter = LineSplitter::new(1 << 20);
    splitter.push(bytes, &mut |raw| reader.push(raw, now, &mut count));
    splitter.finish(&mut |raw| reader.push(raw, now, &mut count));
    reader.finish(&mut count);
    events
}

fn parse(c: &mut Criterion) {
    let now: Timestamp = "2026-11-22T00:00:00Z".parse().expect("valid");
    let mut group = c.benchmark_group("parse");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    for (name, bytes) in inputs() {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&name), &bytes, |b, bytes| {
            b.iter(|| parse_all(bytes, now));
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
