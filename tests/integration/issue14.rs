//! Regression tests for the defects of issue 14, each named after it and
//! each the smallest sequence of operations that shows it through the real
//! binary (the stress harness, `stress`, finds them at random; these pin
//! them down).

use std::{
    fs::{self, File, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::harness::Triage;

/// How long a wait for the binary may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// Lines `from..to`, every fifth a kernel OOM line (alerted by the shipped
/// `linux-oom-killer`, its pid the sequence number), each with the word `nN`.
fn lines(from: u64, to: u64) -> String {
    (from..to)
        .map(|n| {
            if n % 5 == 0 {
                format!(
                    "2026-11-21T03:00:00.000Z ERROR kernel: Out of memory: Killed process {n} (p) total-vm:1kB n{n}\n"
                )
            } else {
                format!("2026-11-21T03:00:00.000Z INFO worker n{n} handled\n")
            }
        })
        .collect()
}

fn append(path: &Path, text: &str) {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open")
        .write_all(text.as_bytes())
        .expect("append");
}

fn truncate(path: &Path) {
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .expect("truncate");
}

fn triage(data: &Path) -> Triage {
    Triage::new().arg("--data-dir").arg(data)
}

/// `search --count` of `query`, or `None` while there is no index.
fn count(data: &Path, query: &str) -> Option<u64> {
    let out = triage(data).args(["search", "--count", "--", query]).run();
    (out.code != 2)
        .then(|| out.stdout.trim().parse().ok())
        .flatten()
}

fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        thread::sleep(Duration::from_millis(100));
    }
    done()
}

/// The pids of the OOM alerts in a `watch --json` output file.
fn alerts_in(out: &Path) -> Vec<u64> {
    fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["signature"] == "linux-oom-killer")
        .filter_map(|v| v["captures"]["pid"].as_str()?.parse().ok())
        .collect()
}

/// A running `triage watch --json`, its stdout in a file.
struct Watch {
    child: Child,
    out: PathBuf,
}

impl Watch {
    fn start(dir: &Path, args: &[&str]) -> Watch {
        let out = (0..)
            .map(|i| dir.join(format!("watch-{i}.json")))
            .find(|p| !p.exists())
            .expect("a free name");
        let child = Command::new(env!("CARGO_BIN_EXE_triage"))
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["watch", "--json"])
            .args(args)
            .current_dir(dir)
            .env("TZ", "UTC")
            .env_remove("TRIAGE_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("stdout file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("watch starts");
        Watch { child, out }
    }

    /// The pids of the OOM alerts printed so far.
    fn alerts(&self) -> Vec<u64> {
        alerts_in(&self.out)
    }

    /// Waits until `n` alerts are out (or patience runs out).
    fn wait_alerts(&self, n: usize) -> bool {
        wait_until(|| self.alerts().len() >= n)
    }

    /// Starts (`--from-start`, so that a line appended before it follows is
    /// read too) and waits until it has alerted the OOM line `pid` appended
    /// once to `probe`.
    fn following(dir: &Path, args: &[&str], probe: &Path, pid: u64) -> Watch {
        let watch = Watch::start(dir, &[&["--from-start"], args].concat());
        append(probe, &lines(pid, pid + 1));
        let ready = wait_until(|| watch.alerts().contains(&pid));
        assert!(ready, "watch did not start following {}", probe.display());
        watch
    }

    fn term(mut self) -> Vec<u64> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "watch exited with {status}");
        self.alerts()
    }

    fn kill(mut self) -> Vec<u64> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.alerts()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- alerts lost after a restart --------------------------------------------

/// `watch` stopped (cleanly), the file copytruncated, `watch` started again:
/// a new OOM line at an offset below the one reached before is alerted.
#[test]
fn copytruncate_after_restart_still_alerts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let log = dir.join("app.log");
    File::create(&log).expect("create");
    let watch = Watch::following(dir, &["app.log"], &log, 0);
    watch.term();
    fs::copy(&log, dir.join("app.log.1")).expect("copy");
    truncate(&log);
    let watch = Watch::start(dir, &["app.log"]);
    // The new first line: as long as the one before, so below its offset.
    append(&log, &lines(5, 6));
    let alerted = watch.wait_alerts(1);
    let alerts = watch.term();
    assert!(
        alerted && alerts == [5],
        "alerts after the restart: {alerts:?}"
    );
}

/// The same with a plain truncation.
#[test]
fn truncation_after_restart_still_alerts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let log = dir.join("app.log");
    File::create(&log).expect("create");
    let watch = Watch::following(dir, &["app.log"], &log, 0);
    watch.term();
    truncate(&log);
    let watch = Watch::start(dir, &["app.log"]);
    append(&log, &lines(5, 6));
    let alerted = watch.wait_alerts(1);
    let alerts = watch.term();
    assert!(
        alerted && alerts == [5],
        "alerts after the restart: {alerts:?}"
    );
}

// ---- lines lost from the index ----------------------------------------------

/// `watch` read and alerted 500 lines, then was killed before its first
/// index commit: the next `watch` indexes them (it resumes from the index's
/// position, not from the data directory's checkpoint).
#[test]
fn watch_killed_before_first_commit_resumes_from_index() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = dir.join("data");
    fs::write(dir.join("app.log"), lines(0, 500)).expect("write");
    let watch = Watch::start(dir, &["--from-start", "--commit-every", "1h", "app.log"]);
    assert!(watch.wait_alerts(100), "the 100 OOM lines were not alerted");
    watch.kill();
    let watch = Watch::start(dir, &["app.log"]);
    wait_until(|| count(&data, "*") == Some(500));
    let again = watch.term();
    assert_eq!(count(&data, "*"), Some(500), "indexed after the restart");
    assert!(again.is_empty(), "alerted twice: {again:?}");
}

/// A file created after the last commit (a rotation), read, then appended
/// to and renamed to a name the glob does not match while `watch` is down
/// after a `kill -9`: it is found by identity, its lines indexed and the new
/// ones alerted.
#[test]
fn rename_to_unmatched_name_between_commits_loses_no_index_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = dir.join("data");
    let log = dir.join("app.log");
    File::create(&log).expect("create");
    let watch = Watch::following(dir, &["*.log"], &log, 0);
    append(&log, &lines(1, 500));
    watch.wait_alerts(100);
    watch.term();
    assert_eq!(count(&data, "*"), Some(500), "committed at the stop");
    let watch = Watch::start(dir, &["--commit-every", "1h", "*.log"]);
    fs::rename(&log, dir.join("app.log.1")).expect("rotate");
    append(&log, &lines(500, 1000));
    assert!(watch.wait_alerts(100), "the new file was not followed");
    watch.kill();
    // While it is down: more lines, then the rotation to an unmatched name.
    append(&log, &lines(1000, 1100));
    fs::rename(&log, dir.join("app.log.2")).expect("rotate");
    File::create(&log).expect("create");
    let watch = Watch::start(dir, &["*.log"]);
    wait_until(|| count(&data, "*") == Some(1100));
    let alerts = watch.term();
    assert_eq!(count(&data, "*"), Some(1100), "indexed in the end");
    // Every new OOM line; repeats only of what the killed one printed.
    assert!(
        (1000..1100).step_by(5).all(|n| alerts.contains(&n)) && alerts.iter().all(|&n| n >= 500),
        "alerted after the restart: {alerts:?}"
    );
}

/// The same with a symlink switched twice.
#[test]
fn symlink_switched_between_commits_loses_no_index_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = dir.join("data");
    let link = dir.join("current.log");
    File::create(dir.join("log.0")).expect("create");
    let switch = |to: &str| {
        File::create(dir.join(to)).expect("create");
        let tmp_link = dir.join("next.link");
        std::os::unix::fs::symlink(to, &tmp_link).expect("symlink");
        fs::rename(&tmp_link, &link).expect("switch");
    };
    std::os::unix::fs::symlink("log.0", &link).expect("symlink");
    let watch = Watch::following(dir, &["current.log"], &link, 0);
    append(&link, &lines(1, 500));
    watch.wait_alerts(100);
    watch.term();
    let watch = Watch::start(dir, &["--commit-every", "1h", "current.log"]);
    switch("log.1");
    thread::sleep(Duration::from_millis(500));
    append(&link, &lines(500, 1000));
    assert!(watch.wait_alerts(100), "the new target was not followed");
    watch.kill();
    // While it is down: more lines, then the switch.
    append(&link, &lines(1000, 1100));
    switch("log.2");
    let watch = Watch::start(dir, &["current.log"]);
    wait_until(|| count(&data, "*") == Some(1100));
    let alerts = watch.term();
    assert_eq!(count(&data, "*"), Some(1100), "indexed in the end");
    // Every new OOM line; repeats only of what the killed one printed.
    assert!(
        (1000..1100).step_by(5).all(|n| alerts.contains(&n)) && alerts.iter().all(|&n| n >= 500),
        "alerted after the restart: {alerts:?}"
    );
}

/// `ingest` indexed a file, `watch --from-start` follows it, the file is
/// copytruncated and gets new lines: they are indexed although they sit
/// below the offset `ingest` had reached.
#[test]
fn ingest_then_watch_then_copytruncate_indexes_new_content() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = dir.join("data");
    let log = dir.join("app.log");
    fs::write(&log, lines(0, 100)).expect("write");
    triage(&data).arg("ingest").arg(&log).run().code(0);
    let watch = Watch::start(dir, &["--from-start", "app.log"]);
    assert!(watch.wait_alerts(20), "watch did not read the file");
    fs::copy(&log, dir.join("app.log.1")).expect("copy");
    truncate(&log);
    append(&log, &lines(100, 150));
    wait_until(|| count(&data, "*") == Some(150));
    watch.term();
    assert_eq!(count(&data, "*"), Some(150));
    assert_eq!(count(&data, "n120"), Some(1));
}

/// `reindex` after a rename rotation rebuilds from every file the index has
/// documents from (the rotated one found by identity), or says what it
/// could not find: it never shrinks the index silently.
#[test]
fn reindex_after_rename_rotation_keeps_every_event() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = dir.join("data");
    let log = dir.join("app.log");
    fs::write(&log, lines(0, 100)).expect("write");
    triage(&data).arg("ingest").arg(&log).run().code(0);
    fs::rename(&log, dir.join("app.log.1")).expect("rotate");
    fs::write(&log, lines(100, 110)).expect("write");
    triage(&data).arg("ingest").arg(&log).run().code(0);
    assert_eq!(count(&data, "*"), Some(110));
    let out = triage(&data).arg("reindex").run();
    let after = count(&data, "*");
    assert!(
        after == Some(110) || (out.code == 2 && out.stderr.contains("app.log")),
        "reindex exited {} with {after:?} events of 110; stderr: {}",
        out.code,
        out.stderr
    );
}

// ---- lines duplicated without a crash ---------------------------------------

/// A copytruncate whose copy is seen empty first (then filled, then the
/// original truncated): nothing is read twice.
#[test]
fn copytruncate_copy_seen_empty_reads_nothing_twice() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = dir.join("data");
    let log = dir.join("app.log");
    File::create(&log).expect("create");
    let watch = Watch::following(dir, &["app.log*"], &log, 0);
    append(&log, &lines(1, 1000));
    watch.wait_alerts(200);
    let copy = dir.join("app.log.1");
    File::create(&copy).expect("an empty copy");
    thread::sleep(Duration::from_millis(600));
    fs::write(&copy, fs::read(&log).expect("read")).expect("copy");
    truncate(&log);
    append(&log, &lines(1000, 1010));
    watch.wait_alerts(202);
    thread::sleep(Duration::from_secs(2));
    let alerts = watch.term();
    assert_eq!(alerts.len(), 202, "alerts");
    assert_eq!(count(&data, "*"), Some(1010), "indexed");
}

/// A copytruncate with lines appended between the copy and the truncation:
/// those lines are read once, the copy's prefix never again.
#[test]
fn copytruncate_with_a_write_between_copy_and_truncate_reads_nothing_twice() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = dir.join("data");
    let log = dir.join("app.log");
    File::create(&log).expect("create");
    let watch = Watch::following(dir, &["app.log*"], &log, 0);
    append(&log, &lines(1, 1000));
    watch.wait_alerts(200);
    fs::copy(&log, dir.join("app.log.1")).expect("copy");
    append(&log, &lines(1000, 1100));
    watch.wait_alerts(220);
    truncate(&log);
    append(&log, &lines(1100, 1110));
    watch.wait_alerts(222);
    thread::sleep(Duration::from_secs(2));
    let alerts = watch.term();
    assert_eq!(alerts.len(), 222, "alerts");
    assert_eq!(count(&data, "*"), Some(1110), "indexed");
}

// ---- compressed rotations -----------------------------------------------------

/// `watch 'app.log*'` with logrotate's `compress`: the `.gz` rotation is
/// not indexed as text (no document without a sequence number), and no line
/// twice.
#[test]
fn gz_rotation_is_not_indexed_as_text() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = dir.join("data");
    let log = dir.join("app.log");
    File::create(&log).expect("create");
    let watch = Watch::following(dir, &["app.log*"], &log, 0);
    append(&log, &lines(1, 1000));
    watch.wait_alerts(200);
    let rotated = dir.join("app.log.1");
    fs::rename(&log, &rotated).expect("rotate");
    File::create(&log).expect("create");
    thread::sleep(Duration::from_millis(500));
    let mut gz = flate2::write::GzEncoder::new(
        File::create(dir.join("app.log.1.gz")).expect("create"),
        flate2::Compression::fast(),
    );
    gz.write_all(&fs::read(&rotated).expect("read"))
        .expect("compress");
    gz.finish().expect("compress");
    fs::remove_file(&rotated).expect("remove");
    thread::sleep(Duration::from_secs(3));
    watch.term();
    assert_eq!(count(&data, "*"), Some(1000), "documents");
}

/// `ingest` of a directory after its file was rotated and gzipped: the
/// archive is the content already indexed, recognised by its decompressed
/// prefix, and adds nothing twice.
#[test]
fn ingest_of_a_gzipped_rotation_adds_nothing_twice() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).expect("mkdir");
    let data = tmp.path().join("data");
    fs::write(logs.join("app.log"), lines(0, 100)).expect("write");
    triage(&data).arg("ingest").arg(&logs).run().code(0);
    let mut gz = flate2::write::GzEncoder::new(
        File::create(logs.join("app.log.1.gz")).expect("create"),
        flate2::Compression::fast(),
    );
    gz.write_all(lines(0, 100).as_bytes()).expect("compress");
    gz.finish().expect("compress");
    fs::write(logs.join("app.log"), lines(100, 110)).expect("write");
    triage(&data).arg("ingest").arg(&logs).run().code(0);
    assert_eq!(count(&data, "*"), Some(110));
}

/// gzip `from` into `to` and remove `from`, as logrotate's `compress`.
fn compress_away(from: &Path, to: &Path) {
    let mut gz = flate2::write::GzEncoder::new(
        File::create(to).expect("create"),
        flate2::Compression::fast(),
    );
    gz.write_all(&fs::read(from).expect("read"))
        .expect("compress");
    gz.finish().expect("compress");
    fs::remove_file(from).expect("remove");
}

/// `ingest` stopped partway through a file (its last line still being
/// written), the file then renamed, compressed and its plain copy removed
/// before the next `ingest`: the archive is recognised as the content
/// already indexed and only the rest of it is added.
#[test]
fn ingest_of_an_archive_whose_plain_file_is_gone_adds_only_the_rest() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).expect("mkdir");
    let data = tmp.path().join("data");
    let live = logs.join("app.log");
    let partial = "2026-11-21T03:00:00.000Z INFO worker n60 hal";
    fs::write(&live, lines(0, 60) + partial).expect("write");
    triage(&data).arg("ingest").arg(&logs).run().code(0);
    assert_eq!(count(&data, "*"), Some(60), "the partial line held back");
    append(&live, &("f done\n".to_owned() + &lines(61, 100)));
    fs::rename(&live, logs.join("app.log.1")).expect("rename");
    append(&live, &lines(100, 110));
    compress_away(&logs.join("app.log.1"), &logs.join("app.log.1.gz"));
    triage(&data).arg("ingest").arg(&logs).run().code(0);
    assert_eq!(count(&data, "*"), Some(110));
    for n in [0, 59, 60, 61, 99, 100, 109] {
        assert_eq!(count(&data, &format!("n{n}")), Some(1), "n{n}");
    }
}

/// The record of a content outlives the file's identity: after logrotate's
/// `copytruncate` + `compress`, the truncated file (same device and inode,
/// new content) is ingested first, then the archive of the old content,
/// whose plain copy is gone: the archive is still known for what was
/// indexed of it and adds only the rest. (Also what happens when a deleted
/// file's inode is given to a new file before the archive is ingested.)
#[test]
fn ingest_of_an_archive_after_its_files_identity_took_new_content_adds_nothing_twice() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).expect("mkdir");
    let data = tmp.path().join("data");
    let live = logs.join("app.log");
    fs::write(&live, lines(0, 60)).expect("write");
    triage(&data).arg("ingest").arg(&live).run().code(0);
    append(&live, &lines(60, 100));
    fs::copy(&live, logs.join("app.log.1")).expect("copy");
    truncate(&live);
    append(&live, &lines(100, 130));
    compress_away(&logs.join("app.log.1"), &logs.join("app.log.1.gz"));
    // The file alone first (a periodic `ingest` of it, or a run killed
    // after it), then the directory.
    triage(&data).arg("ingest").arg(&live).run().code(0);
    assert_eq!(count(&data, "*"), Some(90));
    triage(&data).arg("ingest").arg(&logs).run().code(0);
    assert_eq!(count(&data, "*"), Some(130));
    for n in [0, 59, 60, 99, 100, 129] {
        assert_eq!(count(&data, &format!("n{n}")), Some(1), "n{n}");
    }
    // And again: nothing more.
    triage(&data).arg("ingest").arg(&logs).run().code(0);
    assert_eq!(count(&data, "*"), Some(130));
}

// ---- ingest exactly once --------------------------------------------------------

/// A last line without its newline is not indexed cut: once complete (the
/// next `ingest`), it is indexed once, whole.
#[test]
fn ingest_partial_last_line_indexed_once_complete() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let log = tmp.path().join("app.log");
    fs::write(
        &log,
        lines(0, 10) + "2026-11-21T03:00:00.000Z INFO worker n10 hal",
    )
    .expect("write");
    triage(&data).arg("ingest").arg(&log).run().code(0);
    append(&log, &("f done\n".to_owned() + &lines(11, 12)));
    triage(&data).arg("ingest").arg(&log).run().code(0);
    assert_eq!(count(&data, "*"), Some(12));
    assert_eq!(count(&data, "n10"), Some(1));
    assert_eq!(count(&data, "\"half done\""), Some(1), "the line whole");
}

/// A file under 256 bytes that grows is not indexed again from its start.
#[test]
fn small_file_growing_is_not_reindexed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let log = tmp.path().join("a.log");
    fs::write(&log, lines(1, 2)).expect("write");
    triage(&data).arg("ingest").arg(&log).run().code(0);
    append(&log, &lines(2, 3));
    triage(&data).arg("ingest").arg(&log).run().code(0);
    assert_eq!(count(&data, "*"), Some(2));
}

// ---- security and integrity -----------------------------------------------------

/// A file name carrying an escape sequence (an OSC 52 clipboard write) is
/// shown sanitised in an error message, never raw.
#[test]
fn file_name_escape_sequences_are_sanitised_in_messages() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let name = tmp.path().join("x\u{1b}]52;c;aGk=\u{7}.log");
    let out = Triage::new().arg("scan").arg(&name).run().code(2);
    assert!(
        !out.stderr.contains('\u{1b}') && !out.stderr.contains('\u{7}'),
        "raw control characters in: {:?}",
        out.stderr
    );
    assert!(out.stderr.contains("52;c;aGk="), "{:?}", out.stderr);
}

/// Deleting the journal's last event is caught by `incident verify`.
#[test]
fn journal_cut_at_the_end_fails_verify() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    triage(&data)
        .args(["incident", "declare", "--title", "t", "--severity", "high"])
        .run()
        .code(0);
    triage(&data)
        .args(["incident", "note", "first"])
        .run()
        .code(0);
    triage(&data)
        .args(["incident", "note", "second"])
        .run()
        .code(0);
    let journal = data.join("journal.jsonl");
    let text = fs::read_to_string(&journal).expect("journal");
    let mut kept: Vec<&str> = text.lines().collect();
    kept.pop();
    fs::write(&journal, kept.join("\n") + "\n").expect("cut");
    let out = triage(&data).args(["incident", "verify"]).run();
    assert_ne!(out.code, 0, "verify passed a cut journal: {}", out.stdout);
}

/// A query nested 10,000 deep is an error with a message, not a stack
/// overflow.
#[test]
fn deeply_nested_query_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let log = tmp.path().join("a.log");
    fs::write(&log, lines(0, 10)).expect("write");
    triage(&data).arg("ingest").arg(&log).run().code(0);
    let query = "(".repeat(10_000) + "n1" + &")".repeat(10_000);
    let out = triage(&data).args(["search", &query]).run();
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    assert!(
        !out.stderr.contains("overflow") && out.stderr.contains("triage:"),
        "{}",
        out.stderr
    );
}

/// A damaged `.fast` file (its first bytes overwritten) makes `search` fail
/// with an error naming the index and `reindex`, never a panic.
#[test]
fn damaged_fast_file_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let log = tmp.path().join("a.log");
    fs::write(&log, lines(0, 2000)).expect("write");
    triage(&data).arg("ingest").arg(&log).run().code(0);
    for entry in fs::read_dir(data.join("index")).expect("index") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "fast") {
            let mut bytes = fs::read(&path).expect("read");
            for b in bytes.iter_mut().take(16) {
                *b ^= 0xff;
            }
            fs::write(&path, bytes).expect("damage");
        }
    }
    // `Triage::run` fails the test on a panic message.
    let out = triage(&data).args(["search", "--json", "n1"]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("reindex"), "{}", out.stderr);
}

// ---- file descriptors -----------------------------------------------------------

/// 2,000 files under `ulimit -n 1024` (systemd's default soft limit): every
/// line appended to each is delivered and `watch` keeps running (quiet files
/// closed, descriptors kept under the limit).
#[test]
fn two_thousand_files_under_ulimit_1024_deliver_every_line() {
    let _heavy = crate::serial::heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let logs = dir.join("logs");
    fs::create_dir(&logs).expect("mkdir");
    const FILES: u64 = 2000;
    for i in 0..FILES {
        fs::write(
            logs.join(format!("f{i}.log")),
            "2026-11-21T03:00:00.000Z INFO started\n",
        )
        .expect("write");
    }
    let out = dir.join("watch.json");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 1024 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["watch", "--json"])
        .arg(logs.join("*.log"))
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(File::create(&out).expect("stdout file"))
        .stderr(File::create(dir.join("watch.err")).expect("stderr file"))
        .spawn()
        .expect("watch starts");
    // Following once the probe file's line is out.
    let probe = logs.join("f0.log");
    let ready = wait_until(|| {
        append(&probe, &lines(0, 1));
        thread::sleep(Duration::from_millis(300));
        !alerts_in(&out).is_empty() || child.try_wait().ok().flatten().is_some()
    });
    assert!(ready, "watch did not follow");
    for i in 1..FILES {
        append(&logs.join(format!("f{i}.log")), &lines(i * 5, i * 5 + 1));
    }
    wait_until(|| {
        let got: std::collections::BTreeSet<u64> = alerts_in(&out).into_iter().collect();
        got.len() as u64 >= FILES || child.try_wait().ok().flatten().is_some()
    });
    let running = child.try_wait().expect("wait").is_none();
    let _ = child.kill();
    let _ = child.wait();
    let got: std::collections::BTreeSet<u64> = alerts_in(&out).into_iter().collect();
    let stderr = fs::read_to_string(dir.join("watch.err")).unwrap_or_default();
    assert!(
        running && got.len() as u64 == FILES,
        "{} of {FILES} files' lines delivered, watch running: {running}; stderr: {}",
        got.len(),
        stderr.lines().take(3).collect::<Vec<_>>().join(" | ")
    );
}

// ---- a full disk under the index ----------------------------------------

/// A small disk of its own on a directory for the test's length, unmounted
/// when dropped: a tmpfs in a user and mount namespace of its own (`unshare
/// -rm`: no root needed, and gone with its holder process even if the test
/// is killed), where `triage` runs (`nsenter`) and which this process
/// reaches through the holder's `/proc/PID/root` (tantivy resolves its
/// directory's real path, so `triage` cannot take that way); else, as root,
/// a tmpfs mounted on the directory itself.
enum SmallDisk {
    /// In the namespace of `holder`, which keeps it until its stdin closes.
    Namespace {
        holder: Child,
        dir: PathBuf,
        seen: PathBuf,
    },
    /// Mounted here.
    Mounted(PathBuf),
}

impl SmallDisk {
    /// Mounts a tmpfs of `size` on `dir` (absolute), or says why neither
    /// way could.
    fn mount(dir: &Path, size: &str) -> Result<SmallDisk, String> {
        fs::create_dir_all(dir).expect("mkdir");
        let in_namespace = match Self::namespace(dir, size) {
            Ok(disk) => return Ok(disk),
            Err(why) => why,
        };
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Ok(SmallDisk::Mounted(dir.to_path_buf())),
            Ok(out) => Err(format!(
                "{in_namespace}; mount -t tmpfs: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(err) => Err(format!("{in_namespace}; mount: {err}")),
        }
    }

    fn namespace(dir: &Path, size: &str) -> Result<SmallDisk, String> {
        use std::io::{BufRead, BufReader};
        let mut holder = Command::new("unshare")
            .args([
                "--user",
                "--map-root-user",
                "--mount",
                "--propagation",
                "private",
            ])
            .args([
                "sh",
                "-c",
                "mount -t tmpfs -o size=\"$1\" tmpfs \"$2\" && echo mounted && read -r _",
                "sh",
                size,
            ])
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("unshare: {e}"))?;
        let mut said = String::new();
        let _ = BufReader::new(holder.stdout.take().expect("piped")).read_line(&mut said);
        if said.trim() != "mounted" {
            drop(holder.stdin.take());
            let out = holder
                .wait_with_output()
                .map_err(|e| format!("unshare: {e}"))?;
            return Err(format!(
                "unshare -rm, mount -t tmpfs: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let seen = PathBuf::from(format!("/proc/{}/root", holder.id())).join(
            dir.strip_prefix("/")
                .expect("an absolute directory (a temporary one is)"),
        );
        let disk = SmallDisk::Namespace {
            holder,
            dir: dir.to_path_buf(),
            seen,
        };
        // The disk is seen through the holder, not on the directory here.
        let probe = disk.seen().join("probe");
        fs::write(&probe, "x").map_err(|e| format!("{}: {e}", probe.display()))?;
        if dir.join("probe").exists() {
            return Err(format!(
                "{} is not the namespace's tmpfs",
                disk.seen().display()
            ));
        }
        fs::remove_file(&probe).map_err(|e| format!("{}: {e}", probe.display()))?;
        Ok(disk)
    }

    /// Where the disk is, as seen from this process.
    fn seen(&self) -> &Path {
        match self {
            SmallDisk::Namespace { seen: path, .. } | SmallDisk::Mounted(path) => path,
        }
    }

    /// Where the disk is, as [`SmallDisk::triage`] sees it.
    fn dir(&self) -> &Path {
        match self {
            SmallDisk::Namespace { dir, .. } | SmallDisk::Mounted(dir) => dir,
        }
    }

    /// A `triage` run where the disk is mounted.
    fn triage(&self) -> Command {
        let bin = env!("CARGO_BIN_EXE_triage");
        let mut command = match self {
            SmallDisk::Namespace { holder, .. } => {
                let mut nsenter = Command::new("nsenter");
                nsenter
                    .arg("--target")
                    .arg(holder.id().to_string())
                    .args(["--user", "--mount", "--", bin]);
                nsenter
            }
            SmallDisk::Mounted(_) => Command::new(bin),
        };
        command
            .env("TZ", "UTC")
            .env("NO_COLOR", "1")
            .env_remove("TRIAGE_DATA_DIR")
            .env_remove("TRIAGE_LOG")
            .stdin(Stdio::null());
        command
    }

    /// [`count`] on the data directory the disk is.
    fn count(&self, query: &str) -> Option<u64> {
        let out = self
            .triage()
            .arg("--data-dir")
            .arg(self.dir())
            .args(["search", "--count", "--", query])
            .output()
            .expect("triage search runs");
        (out.status.code() != Some(2))
            .then(|| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
            .flatten()
    }

    /// Fills it up with one file (returned, as seen here), to the last byte.
    fn fill(&self) -> PathBuf {
        let filler = self.seen().join("filler");
        let mut file = File::create(&filler).expect("filler");
        let block = vec![0u8; 256 << 10];
        while file.write_all(&block).is_ok() {}
        let small = [0u8; 512];
        while file.write_all(&small).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        match self {
            SmallDisk::Namespace { holder, .. } => {
                // Its stdin closed, the holder ends, and its namespace and
                // the tmpfs with it.
                drop(holder.stdin.take());
                if holder.wait().is_err() {
                    let _ = holder.kill();
                }
            }
            SmallDisk::Mounted(dir) => {
                let _ = Command::new("umount").arg("-l").arg(&*dir).status();
            }
        }
    }
}

/// The data directory's disk fills up: alerts go on, the index error is
/// said as a full disk, and once space returns the index catches up from
/// its last commit (nothing lost, nothing twice).
#[test]
fn full_disk_under_the_index_alerting_goes_on_and_the_index_catches_up() {
    let _heavy = crate::serial::heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let disk = match SmallDisk::mount(&dir.join("data"), "32m") {
        Ok(disk) => disk,
        Err(why) => {
            // A test that needs something fails under CI, never skips.
            assert!(
                std::env::var_os("CI").is_none(),
                "no small disk to fill under CI: {why} (needs user namespaces, \
                 or root with mount permission)"
            );
            eprintln!("skipped: cannot mount a small disk here: {why}");
            return;
        }
    };
    eprintln!(
        "the data directory is a tmpfs of 32 MiB {}",
        match disk {
            SmallDisk::Namespace { .. } => "in a user and mount namespace",
            SmallDisk::Mounted(_) => "mounted here",
        }
    );
    let count = |query: &str| disk.count(query);
    let log = dir.join("app.log");
    File::create(&log).expect("create");
    let stderr = dir.join("watch.stderr");
    let mut child = disk
        .triage()
        .arg("--data-dir")
        .arg(disk.dir())
        .args(["watch", "--json", "--from-start", "--commit-every", "200ms"])
        .arg(&log)
        .current_dir(dir)
        .stdout(File::create(dir.join("watch.json")).expect("stdout"))
        .stderr(File::create(&stderr).expect("stderr"))
        .spawn()
        .expect("watch starts");
    let alerts = || alerts_in(&dir.join("watch.json"));
    append(&log, &lines(0, 100));
    assert!(
        wait_until(|| count("n95") == Some(1)),
        "not indexed before the disk filled: {:?}",
        count("n95")
    );
    let filler = disk.fill();
    append(&log, &lines(100, 3000));
    let said = || fs::read_to_string(&stderr).unwrap_or_default();
    assert!(
        wait_until(|| alerts().contains(&2995)),
        "alerts stopped with the disk full: {} of 600, stderr: {}",
        alerts().len(),
        said()
    );
    assert!(
        wait_until(|| said().contains("no space left on device")),
        "the full disk is not said: {}",
        said()
    );
    fs::remove_file(&filler).expect("free the disk");
    append(&log, &lines(3000, 3100));
    let caught_up = wait_until(|| count("n3095") == Some(1) && count("n1500") == Some(1));
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().expect("wait");
    assert!(
        caught_up,
        "the index did not catch up: n1500 {:?}, n3095 {:?}; stderr: {}",
        count("n1500"),
        count("n3095"),
        said()
    );
    assert_eq!(count("handled OR killed"), Some(3100), "every line once");
    let mut pids = alerts();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 620, "every OOM line alerted");
    assert!(status.success(), "watch exited with {status}: {}", said());
}

// ---- idle means idle ----------------------------------------------------------

/// CPU time (user + system) `pid` has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command (which may hold spaces) end with ')'.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    let hz = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(100);
    Duration::from_millis(ticks * 1000 / hz)
}

/// `watch` on a glob with one idle file: it used to wake itself with the
/// events of its own listing and burn a core; now it sleeps. (A resource
/// check with a wide margin, not a speed measurement: the figures are in
/// `benches/idle.sh`.)
#[test]
fn idle_watch_on_a_glob_does_not_burn_a_core() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let logs = dir.join("logs");
    fs::create_dir(&logs).expect("mkdir");
    let log = logs.join("app.log");
    File::create(&log).expect("create");
    let watch = Watch::following(dir, &["logs/*.log"], &log, 0);
    let pid = watch.child.id();
    let before = cpu_time(pid);
    thread::sleep(Duration::from_secs(3));
    let used = cpu_time(pid) - before;
    watch.term();
    assert!(
        used < Duration::from_millis(300),
        "idle watch used {used:?} of CPU in 3 s"
    );
}
