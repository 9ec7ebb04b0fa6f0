//! Detection latency of `triage watch`: the time from a line being appended
//! to its alert being printed, p50 and p99, with the follower idle and under
//! 50,000 lines/s of background appends to the same file.
//!
//! `cargo bench --bench latency` (add `-- --quick` for fewer probes). The
//! real binary runs as a user would run it; the probe lines are appended by
//! this process and timed until their alert is read from `watch`'s stdout.
//! With `-- --with-output`, every alert also goes to a webhook output whose
//! receiver (on 127.0.0.1) accepts connections and never answers: the
//! latency must not change. `TRIAGE_BIN=path` measures that binary instead
//! of this build's.

use std::{
    fs::{self, OpenOptions},
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

const PATTERNS: &str = "[[signature]]\nid = 'probe'\ntitle = 'Probe'\nseverity = 'info'\ndescription = 'Latency probe.'\n\
regex = 'probe-(?P<id>\\d+)'\n[[signature.example]]\nline = 'probe-1'\n[[signature.example]]\nline = 'x'\nmatch = false\n";

/// Background load: lines per second, written in slices this often.
const LOAD_LINES_PER_SEC: u64 = 50_000;
const LOAD_SLICE: Duration = Duration::from_millis(5);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn append(path: &Path, text: &str) {
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .expect("open log");
    file.write_all(text.as_bytes()).expect("append");
}

/// Appends `probes` probe lines `gap` apart and returns each one's latency.
fn measure(
    log: &Path,
    alerts: &mpsc::Receiver<(u64, Instant)>,
    first_id: u64,
    probes: u64,
    gap: Duration,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for id in first_id..first_id + probes {
        let sent = Instant::now();
        append(
            log,
            &format!("2026-11-21T03:00:00Z ERROR probe-{id} checkout failed\n"),
        );
        loop {
            let (got, at) = alerts
                .recv_timeout(Duration::from_secs(10))
                .expect("alert within 10 s");
            if got == id {
                latencies.push(at.duration_since(sent));
                break;
            }
        }
        thread::sleep(gap);
    }
    latencies.sort();
    latencies
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let probes = if quick { 50 } else { 300 };
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("app.log");
    fs::write(&log, "").expect("create log");
    let patterns = dir.path().join("patterns.toml");
    fs::write(&patterns, PATTERNS).expect("patterns");
    let with_output = std::env::args().any(|a| a == "--with-output");
    // Accepts connections (the kernel's backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let config = dir.path().join("triage.toml");
    if with_output {
        let addr = silent.local_addr().expect("addr");
        fs::write(
            &config,
            format!("[[output]]\nname = 'void'\nkind = 'webhook'\nurl = 'http://{addr}'\nmin_severity = 'info'\ntimeout = '1h'\n"),
        )
        .expect("config");
    } else {
        fs::write(&config, "").expect("config");
    }
    // TRIAGE_BIN: another build to measure (e.g. an earlier commit's).
    let bin = std::env::var_os("TRIAGE_BIN")
        .unwrap_or_else(|| std::ffi::OsString::from(env!("CARGO_BIN_EXE_triage")));
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("state"))
        .arg("--patterns")
        .arg(&patterns)
        .args(["watch", "--json"])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start triage watch");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, alerts) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let at = Instant::now();
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if let Some(id) = value["captures"]["id"]
                .as_str()
                .and_then(|id| id.parse::<u64>().ok())
                && tx.send((id, at)).is_err()
            {
                break;
            }
        }
    });
    // Warm up: wait until watch follows the file.
    let mut ready = false;
    for attempt in 0..100 {
        append(&log, &format!("probe-{}\n", 1_000_000 + attempt));
        if alerts.recv_timeout(Duration::from_millis(100)).is_ok() {
            ready = true;
            break;
        }
    }
    assert!(ready, "triage watch did not start following");
    while alerts.try_recv().is_ok() {}

    let idle = measure(&log, &alerts, 0, probes, Duration::from_millis(20));

    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let stop = Arc::clone(&stop);
        let log = log.clone();
        thread::spawn(move || {
            let per_slice = LOAD_LINES_PER_SEC * LOAD_SLICE.as_millis() as u64 / 1000;
            let mut written = 0u64;
            let start = Instant::now();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut text = String::with_capacity(per_slice as usize * 90);
                for _ in 0..per_slice {
                    n += 1;
                    text.push_str(&format!(
                        "2026-11-21T03:00:00Z INFO request {n} GET /api/orders/{} 200 12ms\n",
                        n % 9973
                    ));
                }
                append(&log, &text);
                written += per_slice;
                let due =
                    start + Duration::from_secs_f64(written as f64 / LOAD_LINES_PER_SEC as f64);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    thread::sleep(wait);
                }
            }
            written as f64 / start.elapsed().as_secs_f64()
        })
    };
    thread::sleep(Duration::from_millis(500));
    let loaded = measure(&log, &alerts, 10_000, probes, Duration::from_millis(20));
    stop.store(true, Ordering::Relaxed);
    let rate = load.join().expect("load thread");
    let _ = child.kill();
    let _ = child.wait();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    drop(silent);
    println!(
        "detection latency, line appended -> alert printed by `triage watch` ({probes} probes each{})",
        if with_output {
            ", every alert also to a webhook that never answers"
        } else {
            ""
        }
    );
    println!("| load | p50 | p99 | max |");
    println!("|---|---|---|---|");
    for (name, set) in [
        ("idle".to_owned(), &idle),
        (format!("{rate:.0} lines/s appended"), &loaded),
    ] {
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms |",
            ms(percentile(set, 0.5)),
            ms(percentile(set, 0.99)),
            ms(*set.last().expect("probes"))
        );
    }
}
