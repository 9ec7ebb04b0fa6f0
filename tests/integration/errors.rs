//! Errors end to end: each says what failed (the file, the stage), and a
//! stage that died is an error and exit status 2, never a clean end.

use std::{
    fs::{self, File, OpenOptions},
    io::Write,
    path::Path,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::harness::Triage;

/// How long a wait for the binary may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// Lines `from..to`, every fifth a kernel OOM line (alerted by the shipped
/// `linux-oom-killer`, its pid the sequence number), each with the word `nN`.
fn lines(from: u64, to: u64) -> String {
    (from..to)
        .map(|n| match n % 5 {
            0 => format!(
                "2026-11-21T03:00:00.000Z ERROR kernel: Out of memory: Killed process {n} (p) total-vm:1kB n{n}\n"
            ),
            _ => format!("2026-11-21T03:00:00.000Z INFO worker n{n} handled\n"),
        })
        .collect()
}

fn append(path: &Path, text: &str) {
    OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open")
        .write_all(text.as_bytes())
        .expect("append");
}

/// Waits for `done`; on time-out, the test fails saying what it saw.
fn wait_for(what: &str, mut done: impl FnMut() -> bool, saw: impl Fn() -> String) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {PATIENCE:?}; saw {}",
            saw()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// The pids of the OOM alerts in a `watch --json` output file.
fn alerts_in(out: &Path) -> Vec<u64> {
    fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|alert| {
            let pid = alert["captures"]["pid"].as_str()?;
            pid.parse().ok()
        })
        .collect()
}

/// The index taken away under a running `watch`: the indexing thread dies,
/// alerting goes on, and when `watch` stops it says that the index failed
/// (naming it, not stdout) and exits with status 2, not 0.
#[test]
fn an_index_taken_away_under_watch_is_an_error_at_exit_naming_the_index() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let data = dir.join("data");
    let index = data.join("index");
    let log = dir.join("app.log");
    File::create(&log).expect("create");
    let out = dir.join("watch.json");
    let stderr = dir.join("watch.stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(&data)
        .args(["watch", "--json", "--from-start", "--commit-every", "200ms"])
        .arg(&log)
        .current_dir(dir)
        .env("TZ", "UTC")
        .env_remove("TRIAGE_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(File::create(&out).expect("stdout"))
        .stderr(File::create(&stderr).expect("stderr"))
        .spawn()
        .expect("watch starts");
    let said = || fs::read_to_string(&stderr).unwrap_or_default();
    let alerted = || alerts_in(&out);
    append(&log, &lines(0, 100));
    wait_for(
        "the first alerts and a commit",
        || alerted().contains(&95) && index.join("meta.json").exists(),
        || format!("{} alerts, stderr: {}", alerted().len(), said()),
    );
    // Moved away in one step (removing it file by file races with the
    // writer's commits): the index is gone from where `watch` writes it.
    fs::rename(&index, dir.join("index.gone")).expect("move the index away");
    append(&log, &lines(100, 400));
    wait_for(
        "alerts after the index went",
        || alerted().contains(&395),
        || format!("{} alerts, stderr: {}", alerted().len(), said()),
    );
    append(&log, &lines(400, 500));
    wait_for(
        "the index's failure said while watch runs",
        || said().contains("cannot be written"),
        said,
    );
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().expect("wait");
    let said = said();
    assert_eq!(status.code(), Some(2), "watch exited with {status}: {said}");
    let last = said.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("triage: the index failed: ")
            && last.contains(&index.display().to_string()),
        "the last message does not name the index: {said}"
    );
    assert!(!said.contains("cannot write the alerts"), "{said}");
    let mut pids = alerted();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 100, "every OOM line alerted once");
}

/// Errors name what failed: the file (and why), the option, the directory.
#[test]
fn error_messages_name_the_file_the_option_and_the_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let missing = dir.join("missing.log");
    let out = Triage::new().arg("scan").arg(&missing).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("triage: {}: No such file", missing.display())),
        "{}",
        out.stderr
    );
    let out = Triage::new()
        .args(["scan", "--timezone", "Mars/Olympus"])
        .arg(&missing)
        .run();
    assert_eq!(
        (out.code, out.stderr.trim()),
        (2, "triage: --timezone: unknown time zone `Mars/Olympus`")
    );
    let out = Triage::new()
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["watch", "--no-index"])
        .arg(dir)
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "triage: {}: a directory; follow the files in it with a glob",
            dir.display()
        )),
        "{}",
        out.stderr
    );
    let demo = dir.join("demo");
    fs::create_dir(&demo).expect("mkdir");
    fs::write(demo.join("x"), "x").expect("write");
    let out = Triage::new()
        .args(["demo", "--text", "--dir"])
        .arg(&demo)
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "triage: {}: not empty; the demo writes into a new or empty directory",
            demo.display()
        )),
        "{}",
        out.stderr
    );
}
