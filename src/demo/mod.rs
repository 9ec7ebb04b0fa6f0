//! The demo incident: a deterministic generator of the logs of an unfolding
//! outage on a small web shop, for `triage demo` and for tests.
//!
//! This module owns the script of the demo and nothing else: it is pure
//! (no clock, no threads, no I/O) except for [`write_all`], which writes a
//! script out as files. Five logs are produced, each in the real format of its
//! system: a Java service (logback, with multi-line stack traces), PostgreSQL
//! (stderr log with `%m [%p] ` prefix), nginx access (combined) and error
//! logs, and the kernel / systemd syslog of the application host.
//!
//! The story, in log time (the demo starts at 03:00:00 by default): four
//! minutes of healthy traffic; then a reporting job opens dozens of database
//! connections and runs heavy queries, the orders service's connection pool
//! fills (early warnings: slow statements, pool stats with waiting threads);
//! PostgreSQL runs out of connection slots; the pool times out requests with
//! stack traces; nginx times out on the upstream and a burst of 502/504
//! follows; the retry backlog fills the JVM heap (`OutOfMemoryError`); the
//! kernel OOM killer kills java; systemd restarts the service; traffic
//! recovers.
//!
//! Invariants:
//! - [`script`] is a pure function of `(seed, start)`: same inputs, same lines.
//! - The seed varies the ordinary traffic (clients, paths, latencies, exact
//!   timings); the cascade always happens in the same order, in the same
//!   phases.
//! - Lines are sorted by `at_ms` (stable), and every `at_ms` is below
//!   [`SPAN_MS`], so a replay at real speed takes a minute.
//! - The time printed in a line is `start + at_ms * TIME_SCALE` plus less
//!   than `TIME_SCALE` milliseconds: the ~60 s of the demo show ~20 minutes
//!   of log time, and printed times never go backwards within a file.
//! - No line contains a line terminator; stack trace continuation lines start
//!   with a tab (or `Caused by:` / `... N common frames omitted`) like the JVM
//!   prints them.
//!
//! Cut along its seams: `story` (what happens when), `formats` (how each
//! system writes a line), `rng` (the seeded randomness), `replay` (the
//! writer thread that appends the script to its files at their time, for
//! the console's live demo).

mod formats;
pub mod replay;
mod rng;
mod story;

use std::{
    collections::BTreeMap,
    fs, io,
    path::{Path, PathBuf},
};

use jiff::Timestamp;

pub use rng::SplitMix64;

/// The demo lasts this many milliseconds of `at_ms`.
pub const SPAN_MS: u64 = 60_000;

/// One millisecond of `at_ms` shows this many milliseconds of log time.
pub const TIME_SCALE: u64 = 20;

/// The Java service's log.
pub const APP_LOG: &str = "app/orders.log";
/// PostgreSQL's server log.
pub const POSTGRES_LOG: &str = "postgresql/postgresql.log";
/// nginx's access log (combined format).
pub const ACCESS_LOG: &str = "nginx/access.log";
/// nginx's error log.
pub const NGINX_ERROR_LOG: &str = "nginx/error.log";
/// The application host's kernel and systemd messages.
pub const KERN_LOG: &str = "syslog/kern.log";

/// Every file of the demo.
pub const FILES: [&str; 5] = [APP_LOG, POSTGRES_LOG, ACCESS_LOG, NGINX_ERROR_LOG, KERN_LOG];

/// One line of the demo, in the order it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLine {
    /// File name relative to the demo directory, e.g. "app/orders.log".
    pub file: &'static str,
    /// Milliseconds after the demo's start at which the line is written.
    pub at_ms: u64,
    /// The line, without its newline.
    pub text: String,
}

/// The default start of the demo's clock: 2026-11-21T03:00:00Z.
pub fn default_start() -> Timestamp {
    Timestamp::from_second(1_795_230_000).expect("2026-11-21T03:00:00Z is a valid timestamp")
}

/// Every line of the demo, sorted by `at_ms` (stable), deterministic for (seed, start).
pub fn script(seed: u64, start: Timestamp) -> Vec<DemoLine> {
    story::entries(seed, start)
        .into_iter()
        .map(|entry| DemoLine {
            file: entry.file,
            at_ms: entry.log_ms / TIME_SCALE,
            text: entry.text,
        })
        .collect()
}

/// Writes the whole script into `dir` (creating subdirectories), one file per `DemoLine::file`,
/// LF line ends; returns the paths written, sorted.
pub fn write_all(dir: &Path, seed: u64, start: Timestamp) -> io::Result<Vec<PathBuf>> {
    let mut files: BTreeMap<&'static str, String> = BTreeMap::new();
    for line in script(seed, start) {
        let content = files.entry(line.file).or_default();
        content.push_str(&line.text);
        content.push('\n');
    }
    let mut written = Vec::with_capacity(files.len());
    for (file, content) in files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, content)?;
        written.push(path);
    }
    written.sort();
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::{
        story::{T_KILL, T_REPORT_START},
        *,
    };

    fn first(lines: &[DemoLine], needle: &str) -> usize {
        lines
            .iter()
            .position(|l| l.text.contains(needle))
            .unwrap_or_else(|| panic!("no line contains {needle:?}"))
    }

    #[test]
    fn default_start_is_three_in_the_morning() {
        assert_eq!(default_start().to_string(), "2026-11-21T03:00:00Z");
    }

    #[test]
    fn same_seed_same_script() {
        assert_eq!(script(7, default_start()), script(7, default_start()));
    }

    #[test]
    fn different_seed_different_script() {
        assert_ne!(script(7, default_start()), script(8, default_start()));
    }

    #[test]
    fn sorted_within_a_minute_and_bounded() {
        for seed in [0, 1, 42, u64::MAX] {
            let lines = script(seed, default_start());
            assert!(lines.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
            assert!(lines.iter().all(|l| l.at_ms < SPAN_MS));
            assert!(
                lines.len() > 1_000 && lines.len() < 3_000,
                "{} lines",
                lines.len()
            );
            assert!(lines.iter().all(|l| !l.text.contains(['\n', '\r'])));
        }
    }

    #[test]
    fn any_start_works() {
        for start in [Timestamp::UNIX_EPOCH, Timestamp::MIN, Timestamp::MAX] {
            let lines = script(2, start);
            assert!(lines.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        }
    }

    #[test]
    fn every_file_has_lines() {
        let lines = script(3, default_start());
        for file in FILES {
            assert!(lines.iter().any(|l| l.file == file), "{file} is empty");
        }
        assert!(lines.iter().all(|l| FILES.contains(&l.file)));
    }

    #[test]
    fn the_cascade_happens_in_order() {
        for seed in [0, 5, 99, 12_345] {
            let lines = script(seed, default_start());
            let steps = [
                "idle=0, waiting=",
                "remaining connection slots are reserved",
                "Connection is not available, request timed out",
                "upstream timed out (110: Connection timed out)",
                "java.lang.OutOfMemoryError: Java heap space",
                "Out of memory: Killed process 4321 (java)",
                "orders.service: Main process exited, code=killed, status=9/KILL",
                "Started OrdersApplication",
            ];
            let at: Vec<usize> = steps.iter().map(|s| first(&lines, s)).collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "seed {seed}: {at:?}");
            // While java is down, nginx cannot connect.
            let refused = first(&lines, "connect() failed (111: Connection refused)");
            assert!(at[5] < refused && refused < at[7], "seed {seed}");
            // Healthy traffic first: no server error in the first 4 minutes.
            let calm = lines
                .iter()
                .filter(|l| l.file == ACCESS_LOG && l.at_ms < T_REPORT_START / TIME_SCALE);
            assert!(calm.clone().count() > 60);
            assert!(calm.clone().all(|l| !l.text.contains("\" 50")));
            // A burst of 5xx: at least 20 within a minute of log time.
            let bursts: Vec<u64> = lines
                .iter()
                .filter(|l| {
                    l.file == ACCESS_LOG
                        && (l.text.contains("\" 502 ") || l.text.contains("\" 504 "))
                })
                .map(|l| l.at_ms)
                .collect();
            let per_minute = 60_000 / TIME_SCALE;
            assert!(bursts.windows(20).any(|w| w[19] - w[0] <= per_minute));
        }
    }

    #[test]
    fn printed_times_follow_the_formats() {
        let lines = script(11, default_start());
        let app = &lines[first(&lines, "Created order")];
        assert!(app.text.starts_with("2026-11-21 03:"), "{}", app.text);
        assert_eq!(&app.text[19..20], ",");
        let access = lines
            .iter()
            .find(|l| l.file == ACCESS_LOG)
            .expect("access lines");
        assert!(
            access.text.contains(" - - [21/Nov/2026:03:00:"),
            "{}",
            access.text
        );
        let kill = &lines[first(&lines, "Out of memory: Killed process")];
        assert!(
            kill.text.starts_with("Nov 21 03:14:02 web-1 kernel: ["),
            "{}",
            kill.text
        );
        let fatal = &lines[first(&lines, "FATAL:  ")];
        assert!(
            fatal.text.starts_with("2026-11-21 03:06:0"),
            "{}",
            fatal.text
        );
        assert!(fatal.text.contains(" UTC ["), "{}", fatal.text);
        let error = &lines[first(&lines, "upstream timed out")];
        assert!(error.text.starts_with("2026/11/21 03:0"), "{}", error.text);
        // Printed time = start + at_ms * TIME_SCALE, within one scale step.
        assert_eq!(kill.at_ms, T_KILL / TIME_SCALE);
    }

    #[test]
    fn write_all_writes_the_script() {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = write_all(dir.path(), 21, default_start()).expect("writes");
        let mut expected: Vec<PathBuf> = FILES.iter().map(|f| dir.path().join(f)).collect();
        expected.sort();
        assert_eq!(paths, expected);
        let lines = script(21, default_start());
        for file in FILES {
            let want: String = lines
                .iter()
                .filter(|l| l.file == file)
                .map(|l| format!("{}\n", l.text))
                .collect();
            let got = fs::read_to_string(dir.path().join(file)).expect("reads back");
            assert_eq!(got, want, "{file}");
        }
    }
}
