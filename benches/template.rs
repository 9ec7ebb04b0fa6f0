//! Template mining throughput on the generated corpus (the seven files of
//! `benches/support/corpus.rs` interleaved, as `compare.sh` mines them), in
//! lines per second and bytes per second: the whole miner
//! (`message_start` + `Miner::add`), and its first two steps alone
//! (finding the message, splitting and masking tokens). Lines are split
//! beforehand: reading is not measured. `cargo bench --bench template`; CI
//! only compiles it.

#[path = "support/corpus.rs"]
#[allow(dead_code, missing_docs)]
mod corpus;

use std::{hint::black_box, sync::Arc, time::Duration};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use triage::parse::template::{Miner, Occurrence, message_start, token::Tokens};

/// Bytes of log per corpus file.
const PER_FILE: u64 = 2 << 20;

fn lines() -> Vec<String> {
    let mut files: Vec<Vec<String>> = corpus::FILES
        .iter()
        .enumerate()
        .map(|(i, &(format, _, _))| {
            let bytes = corpus::generate_vec(format, PER_FILE, 21 + i as u64, false);
            String::from_utf8_lossy(&bytes)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    // Interleaved, as files of one system are seen together.
    let mut out = Vec::new();
    let longest = files.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for file in &mut files {
            if let Some(line) = file.get_mut(i) {
                out.push(std::mem::take(line));
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let lines = lines();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let source: Arc<str> = Arc::from("corpus");
    let mut group = c.benchmark_group("template");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));

    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("mine lines", |b| {
        b.iter(|| {
            let mut miner = Miner::default();
            for (i, line) in lines.iter().enumerate() {
                black_box(miner.add(&Occurrence {
                    line,
                    message: &line[message_start(line)..],
                    source: &source,
                    line_no: i as u64 + 1,
                    offset: 0,
                    ts: None,
                    level: None,
                }));
            }
            miner.len()
        });
    });
    group.bench_function("message start and tokens", |b| {
        let mut tokens = Tokens::new();
        b.iter(|| {
            let mut n = 0;
            for line in &lines {
                tokens.split(&line[message_start(line)..]);
                n += tokens.len();
            }
            n
        });
    });
    group.bench_function("message start", |b| {
        b.iter(|| lines.iter().map(|l| message_start(l)).sum::<usize>());
    });

    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("mine bytes", |b| {
        b.iter(|| {
            let mut miner = Miner::default();
            for (i, line) in lines.iter().enumerate() {
                black_box(miner.add(&Occurrence {
                    line,
                    message: &line[message_start(line)..],
                    source: &source,
                    line_no: i as u64 + 1,
                    offset: 0,
                    ts: None,
                    level: None,
                }));
            }
            miner.len()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
