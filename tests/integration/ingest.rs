//! `triage ingest`, `reindex`, `prune` and `watch` indexing end to end: the
//! real binary on real files (plain and rotated archives), killed with
//! `kill -9` at random points; the index must hold every line exactly once.

use std::{
    collections::BTreeMap,
    fs::{self, File, OpenOptions},
    io::Write,
    path::Path,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::harness::{Triage, shared_data};

/// How long a test waits for the binary before it fails (debug builds on
/// small, busy CI machines).
const PATIENCE: Duration = Duration::from_secs(180);

/// A sequence-numbered line: a unique word `nN` per line.
fn seq_line(n: u64) -> String {
    format!(
        "2026-11-21T03:{:02}:{:02}.{:03}Z INFO worker-{} n{n} request handled in {}ms\n",
        (n / 60_000) % 60,
        (n / 1000) % 60,
        n % 1000,
        n % 7,
        n % 97
    )
}

fn lines(from: u64, to: u64) -> String {
    (from..to).map(seq_line).collect()
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).expect("compress");
    enc.finish().expect("compress")
}

fn bzip2(text: &str) -> Vec<u8> {
    let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    enc.write_all(text.as_bytes()).expect("compress");
    enc.finish().expect("compress")
}

fn zstd(text: &str) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(text.as_bytes(), ruzstd::encoding::CompressionLevel::Fastest)
}

fn triage(data: &Path) -> Triage {
    Triage::new().arg("--data-dir").arg(data)
}

fn count(data: &Path, query: &str) -> u64 {
    let out = triage(data).args(["search", "--count", "--", query]).run();
    assert!(
        out.code == 0 || out.code == 1,
        "search failed: {}",
        out.stderr
    );
    out.stdout.trim().parse().expect("a count")
}

/// Every `nN` word in the index, with how often it is there.
fn indexed_seqs(data: &Path) -> BTreeMap<u64, usize> {
    let out = triage(data)
        .args(["search", "--json", "--limit", "10000000", "*"])
        .run();
    let mut seen = BTreeMap::new();
    for hit in out.json_lines() {
        let line = hit["line"].as_str().expect("line");
        if let Some(n) = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix('n').and_then(|n| n.parse::<u64>().ok()))
        {
            *seen.entry(n).or_insert(0) += 1;
        }
    }
    seen
}

fn assert_exactly_once(data: &Path, total: u64) {
    assert_eq!(count(data, "*"), total, "search '*' --count");
    let seen = indexed_seqs(data);
    let missing: Vec<u64> = (0..total)
        .filter(|n| !seen.contains_key(n))
        .take(10)
        .collect();
    let twice: Vec<(&u64, &usize)> = seen.iter().filter(|(_, c)| **c > 1).take(10).collect();
    assert!(missing.is_empty(), "never indexed: {missing:?}");
    assert!(twice.is_empty(), "indexed more than once: {twice:?}");
    assert_eq!(seen.len() as u64, total);
}

fn spawn(args: &[&str], data: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("triage starts")
}

/// A small xorshift, so the kill points are random but repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `ingest` over a plain file and three archives, killed with `kill -9` at
/// random points and restarted each time; at the end every line is in the
/// index exactly once.
#[test]
fn ingest_killed_at_random_points_indexes_every_line_exactly_once() {
    let _heavy = crate::serial::heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).expect("mkdir");
    fs::write(logs.join("app.log"), lines(0, 12_000)).expect("write");
    fs::write(logs.join("app.log.1.gz"), gzip(&lines(12_000, 20_000))).expect("write");
    fs::write(logs.join("app.log.2.bz2"), bzip2(&lines(20_000, 26_000))).expect("write");
    fs::write(logs.join("app.log.3.zst"), zstd(&lines(26_000, 30_000))).expect("write");
    const TOTAL: u64 = 30_000;
    let data = tmp.path().join("data");
    let args = ["ingest", "--commit-every", "200ms"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut kills = 0;
    for _ in 0..6 {
        let mut child = spawn(
            &[&args[..], &[logs.to_str().expect("utf-8")]].concat(),
            &data,
        );
        thread::sleep(Duration::from_millis(300 + rng.next() % 1500));
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("kill -9");
            kills += 1;
        }
        child.wait().expect("reaped");
    }
    eprintln!("ingest: killed {kills} times");
    triage(&data).args(args).arg(&logs).run().code(0);
    assert_exactly_once(&data, TOTAL);
    // Per line: each sequence word finds its own line, once.
    for n in [0, 11_999, 12_000, 19_999, 20_000, 25_999, 26_000, 29_999] {
        assert_eq!(count(&data, &format!("n{n}")), 1, "n{n}");
    }
}

#[test]
fn ingesting_again_adds_only_what_was_appended() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    let archive = tmp.path().join("app.log.1.gz");
    fs::write(&log, lines(0, 300)).expect("write");
    fs::write(&archive, gzip(&lines(300, 500))).expect("write");
    let data = tmp.path().join("data");
    triage(&data)
        .arg("ingest")
        .arg(&log)
        .arg(&archive)
        .run()
        .code(0);
    assert_eq!(count(&data, "*"), 500);
    let again = triage(&data)
        .args(["-v", "ingest"])
        .arg(&log)
        .arg(&archive)
        .run()
        .code(0);
    assert!(
        again.stderr.contains("2 already indexed"),
        "{}",
        again.stderr
    );
    assert_eq!(count(&data, "*"), 500);
    let mut file = OpenOptions::new().append(true).open(&log).expect("open");
    file.write_all(lines(500, 520).as_bytes()).expect("append");
    drop(file);
    // A directory is read recursively; the archive is still known.
    triage(&data).arg("ingest").arg(tmp.path()).run().code(0);
    assert_exactly_once(&data, 520);
}

#[test]
fn unreadable_paths_are_named_and_the_rest_is_indexed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    fs::write(&log, lines(0, 10)).expect("write");
    let bad = tmp.path().join("bad.gz");
    let mut bytes = gzip(&lines(10, 5000));
    bytes.truncate(bytes.len() / 2);
    fs::write(&bad, bytes).expect("write");
    let data = tmp.path().join("data");
    let out = triage(&data)
        .arg("ingest")
        .arg(&log)
        .arg(tmp.path().join("missing.log"))
        .arg(&bad)
        .run()
        .code(2);
    assert!(out.stderr.contains("missing.log: "), "{}", out.stderr);
    assert!(out.stderr.contains("bad.gz: "), "{}", out.stderr);
    // The lines of the damaged archive read before the damage are in.
    assert!(count(&data, "*") > 10);
    assert_eq!(count(&data, "n3"), 1);
}

#[test]
fn real_rotated_archives_are_read_like_scan_reads_them() {
    let Some(dir) = shared_data("postgresql") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let mut expected = 0u64;
    let mut archives = Vec::new();
    for name in [
        "light.postgres.log.bz2",
        "tempfile_only.log.gz",
        "queryid.log.gz",
    ] {
        let path = dir.join(name);
        let mut text = String::new();
        let reader: Box<dyn std::io::Read> = if name.ends_with(".bz2") {
            Box::new(bzip2::read::MultiBzDecoder::new(
                File::open(&path).expect("open"),
            ))
        } else {
            Box::new(flate2::read::MultiGzDecoder::new(
                File::open(&path).expect("open"),
            ))
        };
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut { reader }, &mut bytes).expect("decompress");
        text.push_str(&String::from_utf8_lossy(&bytes));
        expected += text.lines().count() as u64;
        archives.push(path);
    }
    triage(&data).arg("ingest").args(&archives).run().code(0);
    // Multi-line events may join lines: never more events than lines.
    let got = count(&data, "*");
    assert!(
        got > 0 && got <= expected,
        "{got} events for {expected} lines"
    );
    let out = triage(&data)
        .args([
            "search",
            "--json",
            "-n",
            "1",
            "--source",
            "light.postgres.log.bz2",
            "*",
        ])
        .run()
        .code(0);
    assert!(
        out.stdout.contains("light.postgres.log.bz2"),
        "{}",
        out.stdout
    );
}

/// While `watch` writes the index, a second writer is refused with a clear
/// message and searching works alongside.
#[test]
fn a_second_writer_is_refused_and_readers_work_alongside() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    fs::write(&log, lines(0, 50)).expect("write");
    let data = tmp.path().join("data");
    let mut watch = spawn(
        &[
            "watch",
            "--from-start",
            "--poll-interval",
            "50ms",
            log.to_str().expect("utf-8"),
        ],
        &data,
    );
    wait_until(
        || count_if_any(&data) == Some(50),
        "watch to index 50 lines",
    );
    let other = tmp.path().join("other.log");
    fs::write(&other, lines(50, 60)).expect("write");
    let out = triage(&data).arg("ingest").arg(&other).run().code(2);
    assert!(
        out.stderr.contains("another triage process") && out.stderr.contains("index"),
        "{}",
        out.stderr
    );
    assert_eq!(count(&data, "n7"), 1);
    let _ = watch.kill();
    let _ = watch.wait();
}

/// A file `ingest` backfilled, then followed by `watch` from its start, is
/// in the index once: `watch` adds only what `ingest` had not.
#[test]
fn watch_after_ingest_indexes_nothing_twice() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    fs::write(&log, lines(0, 50)).expect("write");
    let data = tmp.path().join("data");
    triage(&data).arg("ingest").arg(&log).run().code(0);
    assert_eq!(count_if_any(&data), Some(50));
    let mut watch = spawn(
        &[
            "watch",
            "--from-start",
            "--poll-interval",
            "50ms",
            "--commit-every",
            "100ms",
            log.to_str().expect("utf-8"),
        ],
        &data,
    );
    let mut file = OpenOptions::new().append(true).open(&log).expect("open");
    file.write_all(lines(50, 80).as_bytes()).expect("append");
    drop(file);
    wait_until(
        || count_if_any(&data) == Some(80),
        "watch to index the 30 new lines",
    );
    // Past several commits: still nothing twice.
    thread::sleep(Duration::from_millis(500));
    let _ = watch.kill();
    let _ = watch.wait();
    let seqs = indexed_seqs(&data);
    assert_eq!(seqs.len(), 80);
    assert!(
        seqs.iter().all(|(n, times)| *n < 80 && *times == 1),
        "{seqs:?}"
    );
}

/// The count of everything, or `None` while there is no index yet.
fn count_if_any(data: &Path) -> Option<u64> {
    let out = triage(data).args(["search", "--count", "*"]).run();
    (out.code != 2)
        .then(|| out.stdout.trim().parse().ok())
        .flatten()
}

fn wait_until(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// `watch` indexes as it tails: lines appended become searchable, and across
/// `kill -9` at random points (restarting from the index's own checkpoint)
/// every line is indexed exactly once.
#[test]
fn watch_indexes_every_line_exactly_once_across_kill_9() {
    let _heavy = crate::serial::heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    File::create(&log).expect("create");
    let data = tmp.path().join("data");
    const TOTAL: u64 = 12_000;
    let writer = {
        let log = log.clone();
        let dir = tmp.path().to_path_buf();
        thread::spawn(move || {
            for round in 0..4u64 {
                for chunk in 0..10u64 {
                    let from = round * 3000 + chunk * 300;
                    let mut file = OpenOptions::new().append(true).open(&log).expect("open");
                    file.write_all(lines(from, from + 300).as_bytes())
                        .expect("append");
                    drop(file);
                    thread::sleep(Duration::from_millis(40));
                }
                fs::rename(&log, dir.join(format!("app.log.{round}"))).expect("rotate");
                File::create(&log).expect("create");
            }
        })
    };
    let target = format!("{}/app.log*", tmp.path().display());
    let args = [
        "watch",
        "--from-start",
        "--poll-interval",
        "20ms",
        "--rotated-grace",
        "1s",
        "--commit-every",
        "300ms",
        &target,
    ];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..6 {
        let mut child = spawn(&args, &data);
        thread::sleep(Duration::from_millis(400 + rng.next() % 1200));
        let _ = child.kill();
        let _ = child.wait();
    }
    writer.join().expect("writer");
    let mut child = spawn(&args, &data);
    wait_until(
        || count_if_any(&data) == Some(TOTAL),
        "every line to be indexed",
    );
    // A line appended now is searchable about a commit later.
    let mut file = OpenOptions::new().append(true).open(&log).expect("open");
    file.write_all(b"2026-11-21T04:00:00Z ERROR freshly-appended marker\n")
        .expect("append");
    drop(file);
    wait_until(|| count(&data, "\"freshly appended\"") == 1, "the new line");
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    let seen = indexed_seqs(&data);
    let twice: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).take(10).collect();
    assert!(twice.is_empty(), "indexed more than once: {twice:?}");
    assert_eq!(seen.len() as u64, TOTAL);
    assert_eq!(count(&data, "*"), TOTAL + 1);
}

#[test]
fn an_index_from_another_version_is_refused_and_reindex_rebuilds_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    fs::write(&log, lines(0, 200)).expect("write");
    let archive = tmp.path().join("app.log.1.zst");
    fs::write(&archive, zstd(&lines(200, 300))).expect("write");
    let data = tmp.path().join("data");
    triage(&data)
        .arg("ingest")
        .arg(&log)
        .arg(&archive)
        .run()
        .code(0);
    let meta = data.join("index/meta.json");
    let text = fs::read_to_string(&meta).expect("meta");
    let ours = format!(r#"\"schema\":{}"#, triage::index::schema::SCHEMA_VERSION);
    assert!(text.contains(&ours), "{text}");
    fs::write(&meta, text.replace(&ours, r#"\"schema\":99"#)).expect("write");
    let out = triage(&data).args(["search", "x"]).run().code(2);
    assert!(
        out.stderr.contains("another version of triage") && out.stderr.contains("triage reindex"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("index"),
        "names the index: {}",
        out.stderr
    );
    triage(&data).arg("reindex").run().code(0);
    assert_exactly_once(&data, 300);
    // Damaged: the error says so, names the index, and reindex (with paths)
    // rebuilds it.
    fs::write(&meta, "{ not json").expect("write");
    let out = triage(&data).args(["search", "x"]).run().code(2);
    assert!(
        out.stderr.contains("damaged") && out.stderr.contains("triage reindex"),
        "{}",
        out.stderr
    );
    let out = triage(&data).arg("reindex").run().code(2);
    assert!(out.stderr.contains("triage reindex PATH"), "{}", out.stderr);
    triage(&data)
        .arg("reindex")
        .arg(&log)
        .arg(&archive)
        .run()
        .code(0);
    assert_exactly_once(&data, 300);
}

#[test]
fn retention_deletes_old_events_by_age_and_by_size() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let now = jiff::Timestamp::now();
    let mut text = String::new();
    for days in (0..40).rev() {
        let ts = now - jiff::SignedDuration::from_hours(24 * days);
        for i in 0..50 {
            text.push_str(&format!("{ts} INFO day{days} item{i} some payload text\n"));
        }
    }
    let log = tmp.path().join("app.log");
    fs::write(&log, text).expect("write");
    let data = tmp.path().join("data");
    triage(&data)
        .args(["ingest", "--max-age", "10d"])
        .arg(&log)
        .run()
        .code(0);
    // Days 0..=9 are younger than 10 days (day 10 is on the edge).
    let kept = count(&data, "*");
    assert!((500..=550).contains(&kept), "{kept}");
    assert_eq!(count(&data, "day39"), 0);
    assert_eq!(count(&data, "day0"), 50);
    let size = dir_size(&data.join("index"));
    triage(&data)
        .args(["prune", "--max-size"])
        .arg((size / 2).to_string())
        .run()
        .code(0);
    let left = count(&data, "*");
    assert!(left < kept && left > 0, "{left} of {kept}");
    assert_eq!(count(&data, "day0"), 50, "the newest stay");
    assert!(dir_size(&data.join("index")) <= size * 6 / 10);
}

fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .expect("index dir")
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
