//! The stress harness: the real binary under the operations logs really go
//! through (`world`: a writer at ~2,500 sequence-numbered lines a second,
//! one kind of rotation every ~300 ms, `kill -9` of `watch` or `ingest` at
//! random moments) and an exact account of every sequence number in the
//! alerts and the index (`account`, whose doc states the acceptance line and
//! its one exception).
//!
//! One test per mode, sized for CI (2 s of writing each). The same code
//! runs longer on demand, through `benches/stress.sh` or these variables:
//! `TRIAGE_STRESS_SECS` (writing time), `TRIAGE_STRESS_RATE` (lines a
//! second), `TRIAGE_STRESS_SEED` (replay a run: every test prints its seed),
//! `TRIAGE_STRESS_ROTATE_MS`, `TRIAGE_STRESS_KILL_MS` (mean time between
//! rotations, kills; 0: no kills), `TRIAGE_STRESS_TERM_ONE_IN` (one stop in
//! N is a SIGTERM; 0: none), `TRIAGE_STRESS_BIN` (another build of
//! `triage`), `TRIAGE_STRESS_KEEP` (keep the directory, with each
//! incarnation's stdout and the checkpoint and index commit it resumed from),
//! `TRIAGE_STRESS_LOG` (`watch`'s log filter, e.g. `info`, into its
//! `watch-N.stderr` beside the logs), `TRIAGE_STRESS_READ_COMPRESSED`
//! (`watch --read-compressed` in the compressed modes; CI runs three of
//! them so), and for
//! `stress_from_env` `TRIAGE_STRESS_MODES` / `TRIAGE_STRESS_COMPRESS`
//! (comma-separated names, default all).

mod account;
mod world;

use std::{fmt::Write as _, path::PathBuf, time::Duration};

use account::{Verdict, judge, runs, whereabouts};
use world::{Compress, Config, Mode, Record};

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value}: not a whole number")),
    )
}

/// The configuration of a run of `mode`, from the environment.
fn config(mode: Mode, compress: Compress) -> Config {
    let seed = env_u64("TRIAGE_STRESS_SEED").unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        (nanos ^ u64::from(std::process::id()).rotate_left(32)) % 1_000_000_007
    });
    let secs = std::env::var("TRIAGE_STRESS_SECS")
        .ok()
        .map(|s| {
            s.trim()
                .parse::<f64>()
                .expect("TRIAGE_STRESS_SECS: seconds")
        })
        .unwrap_or(2.0);
    Config {
        mode,
        compress,
        secs,
        rate: env_u64("TRIAGE_STRESS_RATE").unwrap_or(2500),
        seed,
        rotate_every: Duration::from_millis(env_u64("TRIAGE_STRESS_ROTATE_MS").unwrap_or(300)),
        kill_every: match env_u64("TRIAGE_STRESS_KILL_MS").unwrap_or(800) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        },
        term_one_in: env_u64("TRIAGE_STRESS_TERM_ONE_IN").unwrap_or(4),
        oom_one_in: 10,
        trace_one_in: 20,
        bin: std::env::var_os("TRIAGE_STRESS_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_triage")),
            PathBuf::from,
        ),
        patience: Duration::from_secs(120),
        quiet: Duration::from_secs(env_u64("TRIAGE_STRESS_QUIET_SECS").unwrap_or(8)),
        read_compressed: std::env::var_os("TRIAGE_STRESS_READ_COMPRESSED").is_some(),
    }
}

/// The table's header, for `benches/stress.sh`.
const HEADER: &str = "STRESS| mode | compress | seed | secs | written | OOM | rotations | kills+terms | index missing | index dup | foreign docs | split traces | alerts missing | alerts dup | bad repeats | repeats max/span | gone index/alerts | settle s | verdict";

fn row(cfg: &Config, r: &Record, v: &Verdict) -> String {
    let ooms = r
        .written
        .kinds
        .iter()
        .filter(|k| **k == account::Kind::Oom)
        .count();
    format!(
        "STRESS| {} | {} | {} | {} | {} | {} | {} | {}+{} | {} | {} | {} | {} | {} | {} | {} | {}/{} | {}/{} | {:.1} | {}",
        cfg.mode.name(),
        match cfg.read_compressed && cfg.compress != Compress::None {
            true => format!("{}, read", cfg.compress.name()),
            false => cfg.compress.name().to_owned(),
        },
        cfg.seed,
        cfg.secs,
        r.written.kinds.len(),
        ooms,
        r.stats.rotations,
        r.stats.kills,
        r.stats.terms,
        v.index.missing.len(),
        v.index.duplicated.len(),
        v.foreign.0,
        v.split_traces.len(),
        v.alerts.missing.len(),
        v.alerts.duplicated.len(),
        v.bad_repeats.len(),
        v.repeats_max,
        v.repeat_span_max,
        v.index.gone,
        v.alerts.gone,
        r.stats.settle.as_secs_f64(),
        if v.ok() { "PASS" } else { "FAIL" }
    )
}

fn details(r: &Record, v: &Verdict) -> String {
    let mut out = String::new();
    let incs = &r.incarnations;
    let about = |out: &mut String, ns: &[u64]| {
        for &n in ns.iter().take(3) {
            let _ = writeln!(out, "    {}", whereabouts(&r.written, incs, n));
        }
    };
    if !v.index.missing.is_empty() {
        let _ = writeln!(
            out,
            "  index: {} never indexed: {}",
            v.index.missing.len(),
            runs(&v.index.missing, 12)
        );
        about(&mut out, &v.index.missing);
    }
    if !v.index.duplicated.is_empty() {
        let ns: Vec<u64> = v.index.duplicated.iter().map(|(n, _)| *n).collect();
        let extra: usize = v.index.duplicated.iter().map(|(_, c)| c - 1).sum();
        let _ = writeln!(
            out,
            "  index: {} indexed more than once ({extra} extra documents): {}",
            ns.len(),
            runs(&ns, 12)
        );
        about(&mut out, &ns);
    }
    if v.foreign.0 > 0 {
        let _ = writeln!(
            out,
            "  index: {} documents without a sequence number, e.g. {:?}",
            v.foreign.0, v.foreign.1
        );
    }
    if !v.split_traces.is_empty() {
        let _ = writeln!(
            out,
            "  index: {} stack traces not in one document: {}",
            v.split_traces.len(),
            runs(&v.split_traces, 12)
        );
    }
    if !v.alerts.missing.is_empty() {
        let _ = writeln!(
            out,
            "  alerts: {} OOM lines never alerted: {}",
            v.alerts.missing.len(),
            runs(&v.alerts.missing, 12)
        );
        about(&mut out, &v.alerts.missing);
    }
    if !v.alerts.duplicated.is_empty() {
        let ns: Vec<u64> = v.alerts.duplicated.iter().map(|(n, _)| *n).collect();
        let _ = writeln!(
            out,
            "  alerts: {} alerted twice by one incarnation: {}",
            ns.len(),
            runs(&ns, 12)
        );
        about(&mut out, &ns);
    }
    for (n, why) in v.bad_repeats.iter().take(5) {
        let _ = writeln!(out, "  alerts: n{n} repeated: {why}");
    }
    for failure in v.failures.iter().take(5) {
        let _ = writeln!(out, "  failure: {failure}");
    }
    if r.stats.ingest_vanished > 0 {
        let _ = writeln!(
            out,
            "  note: {} of {} ingest runs exited 2 naming only files rotated away meanwhile",
            r.stats.ingest_vanished, r.stats.ingests
        );
    }
    if let Some(note) = &r.stats.settle_note {
        let _ = writeln!(out, "  wait: {note}");
    }
    out
}

/// Runs `mode` once; the verdict, the table row and the details.
fn stress(mode: Mode, compress: Compress) -> (bool, String) {
    stress_with(config(mode, compress))
}

fn stress_with(cfg: Config) -> (bool, String) {
    let (mode, compress) = (cfg.mode, cfg.compress);
    eprintln!(
        "stress {} {}: seed {} (replay with TRIAGE_STRESS_SEED={}), {} s at {} lines/s",
        mode.name(),
        compress.name(),
        cfg.seed,
        cfg.seed,
        cfg.secs,
        cfg.rate
    );
    let record = world::run(&cfg);
    let mut verdict = judge(&record.written, &record.incarnations, &record.docs);
    verdict.failures.extend(record.ingest_failures.clone());
    let text = format!(
        "{}\n{}{}",
        row(&cfg, &record, &verdict),
        details(&record, &verdict),
        if verdict.ok() {
            String::new()
        } else {
            format!("  replay: TRIAGE_STRESS_SEED={}\n", cfg.seed)
        }
    );
    eprintln!("{text}");
    (verdict.ok(), text)
}

#[track_caller]
fn check(mode: Mode, compress: Compress) {
    let _heavy = crate::serial::heavy();
    let (ok, text) = stress(mode, compress);
    assert!(ok, "the acceptance line does not hold:\n{text}");
}

/// [`check`] with `watch --read-compressed`.
#[track_caller]
fn check_read_compressed(mode: Mode, compress: Compress) {
    let _heavy = crate::serial::heavy();
    let (ok, text) = stress_with(Config {
        read_compressed: true,
        ..config(mode, compress)
    });
    assert!(ok, "the acceptance line does not hold:\n{text}");
}

fn names<T: Copy>(var: &str, all: &[T], name: fn(T) -> &'static str) -> Vec<T> {
    match std::env::var(var) {
        Err(_) => all.to_vec(),
        Ok(list) => list
            .split(',')
            .map(|want| {
                *all.iter()
                    .find(|m| name(**m) == want.trim())
                    .unwrap_or_else(|| panic!("{var}: no such name {want}"))
            })
            .collect(),
    }
}

/// Every mode (or `TRIAGE_STRESS_MODES`) with every compression (or
/// `TRIAGE_STRESS_COMPRESS`), one table: what `benches/stress.sh` runs.
#[test]
#[ignore = "on demand: benches/stress.sh"]
fn stress_from_env() {
    let _heavy = crate::serial::heavy();
    let modes = names("TRIAGE_STRESS_MODES", &Mode::ALL, Mode::name);
    let compressions = names(
        "TRIAGE_STRESS_COMPRESS",
        &[Compress::None, Compress::Now, Compress::Delayed],
        Compress::name,
    );
    let mut rows = vec![HEADER.to_owned()];
    let mut failed = 0;
    for &mode in &modes {
        for &compress in &compressions {
            if compress != Compress::None && !mode.rotates_a_file() {
                continue;
            }
            let (ok, text) = stress(mode, compress);
            failed += usize::from(!ok);
            rows.push(text.lines().next().unwrap_or_default().to_owned());
        }
    }
    eprintln!("{}", rows.join("\n"));
    assert_eq!(failed, 0, "{failed} runs failed the acceptance line");
}

#[test]
fn stress_accounting_is_pure_and_checked() {
    // The accounting's own tests are in `account`; this checks the line
    // formats read back.
    for kind in [
        account::Kind::Plain,
        account::Kind::Oom,
        account::Kind::Trace,
    ] {
        let line = world::text(kind, 1234);
        let event = line.trim_end_matches('\n');
        match world::doc_of(event) {
            account::Doc::Seq { n, whole } => assert_eq!((n, whole), (1234, true), "{event}"),
            account::Doc::Foreign(l) => panic!("not read back: {l}"),
        }
    }
    let first = world::text(account::Kind::Trace, 7);
    let first = first.lines().next().unwrap_or_default();
    assert!(matches!(
        world::doc_of(first),
        account::Doc::Seq { n: 7, whole: false }
    ));
}

#[test]
fn stress_rename_matching() {
    check(Mode::RenameMatching, Compress::None);
}

#[test]
fn stress_rename_matching_gzip() {
    check(Mode::RenameMatching, Compress::Now);
}

#[test]
fn stress_rename_unmatched() {
    check(Mode::RenameUnmatched, Compress::None);
}

#[test]
fn stress_rename_unmatched_gzip() {
    check(Mode::RenameUnmatched, Compress::Now);
}

#[test]
fn stress_copytruncate_paused() {
    check(Mode::CopytruncatePaused, Compress::None);
}

#[test]
fn stress_copytruncate_paused_delaygzip() {
    check(Mode::CopytruncatePaused, Compress::Delayed);
}

#[test]
fn stress_copytruncate_concurrent() {
    check(Mode::CopytruncateConcurrent, Compress::None);
}

#[test]
fn stress_copytruncate_concurrent_delaygzip() {
    check(Mode::CopytruncateConcurrent, Compress::Delayed);
}

#[test]
fn stress_copytruncate_slow_copy() {
    check(Mode::CopytruncateSlowCopy, Compress::None);
}

#[test]
fn stress_copytruncate_slow_copy_delaygzip() {
    check(Mode::CopytruncateSlowCopy, Compress::Delayed);
}

#[test]
fn stress_truncate() {
    check(Mode::Truncate, Compress::None);
}

#[test]
fn stress_delete_recreate() {
    check(Mode::DeleteRecreate, Compress::None);
}

#[test]
fn stress_symlink() {
    check(Mode::Symlink, Compress::None);
}

#[test]
fn stress_symlink_gzip() {
    check(Mode::Symlink, Compress::Now);
}

#[test]
fn stress_symlink_gzip_read_compressed() {
    check_read_compressed(Mode::Symlink, Compress::Now);
}

#[test]
fn stress_copytruncate_concurrent_delaygzip_read_compressed() {
    check_read_compressed(Mode::CopytruncateConcurrent, Compress::Delayed);
}

#[test]
fn stress_rename_unmatched_delaygzip_read_compressed() {
    check_read_compressed(Mode::RenameUnmatched, Compress::Delayed);
}

#[test]
fn stress_ingest() {
    check(Mode::Ingest, Compress::None);
}

#[test]
fn stress_ingest_delaygzip() {
    check(Mode::Ingest, Compress::Delayed);
}
