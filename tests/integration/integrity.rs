//! Integrity end to end (issue 14, item 7, and two robustness defects of
//! search): escape sequences in file names never reach the terminal; a
//! journal cut at its end fails `incident verify`; a query nested too deep
//! is refused; a damaged index is an error naming it and `reindex`.

use std::{
    fs,
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use crate::harness::Triage;

/// An OSC 52 sequence: a terminal that honours it writes "Hello" to the
/// clipboard.
const OSC52_NAME: &str = "\x1b]52;c;SGVsbG8=\x07.log";
/// CSI sequences: clear the screen, then red.
const CSI_NAME: &str = "\x1b[2J\x1b[31mred.log";

fn triage(data: &Path) -> Triage {
    Triage::new().arg("--data-dir").arg(data)
}

/// No byte of stderr starts or ends a terminal sequence, and each name is
/// shown with its escapes made visible.
#[track_caller]
fn assert_clean(stderr: &str, names: &[&str]) {
    assert!(
        !stderr.contains(['\x1b', '\x07', '\u{9b}', '\u{9c}', '\u{9d}']),
        "raw escape bytes on stderr: {stderr:?}"
    );
    for name in names {
        let shown = triage::sanitize::for_terminal(name);
        assert!(stderr.contains(&*shown), "{shown} not in {stderr:?}");
    }
}

/// Files no one can read, whatever the user: a symbolic link to itself
/// (`ELOOP` even for root); and, where permissions bind (not root), a
/// file with mode 000. Returns the names made.
fn unreadable_files(dir: &Path) -> Vec<&'static str> {
    let mut names = vec![OSC52_NAME];
    std::os::unix::fs::symlink(OSC52_NAME, dir.join(OSC52_NAME)).expect("symlink");
    let locked = dir.join(CSI_NAME);
    fs::write(&locked, "Out of memory: Killed process 1 (x)\n").expect("write");
    fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000))
        .expect("chmod");
    if fs::File::open(&locked).is_err() {
        names.push(CSI_NAME);
    } else {
        // Root reads anything: a directory of that name fails as a file.
        fs::remove_file(&locked).expect("remove");
        fs::create_dir(&locked).expect("mkdir");
        names.push(CSI_NAME);
    }
    names
}

#[test]
fn escape_sequences_in_file_names_do_not_reach_the_terminal_from_scan() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let names = unreadable_files(tmp.path());
    let missing = format!("missing-{OSC52_NAME}");
    let out = Triage::new()
        .arg("scan")
        .args(names.iter().map(|n| tmp.path().join(n)))
        .arg(tmp.path().join(&missing))
        .run()
        .code(2);
    assert_clean(&out.stderr, &[OSC52_NAME, CSI_NAME, &missing]);
}

#[test]
fn escape_sequences_in_file_names_do_not_reach_the_terminal_from_ingest() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).expect("mkdir");
    let names = unreadable_files(&logs);
    let missing = format!("missing-{CSI_NAME}");
    let out = triage(&tmp.path().join("data"))
        .arg("ingest")
        .args(names.iter().map(|n| logs.join(n)))
        .arg(logs.join(&missing))
        .run()
        .code(2);
    assert_clean(&out.stderr, &[OSC52_NAME, &missing]);
}

/// A data directory, an index path, a patterns path: every path in an
/// error message is shown sanitised.
#[test]
fn escape_sequences_in_paths_given_by_the_user_are_shown_escaped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join(OSC52_NAME);
    let out = triage(&data).args(["search", "x"]).run().code(2);
    assert_clean(&out.stderr, &[OSC52_NAME]);
    let patterns = tmp.path().join(CSI_NAME);
    fs::create_dir(&patterns).expect("mkdir");
    fs::write(
        patterns.join(format!("{OSC52_NAME}.toml")),
        "[[signature]]\nid = 'x\x1b[2J'\n",
    )
    .expect("write");
    let out = Triage::new()
        .arg("--patterns")
        .arg(&patterns)
        .arg("check")
        .run()
        .code(1);
    assert_clean(&out.stderr, &[CSI_NAME, OSC52_NAME]);
}

/// `watch` reports a file it cannot read on every target kind (a path, a
/// glob) and goes on; the report is sanitised.
#[test]
fn escape_sequences_in_file_names_do_not_reach_the_terminal_from_watch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).expect("mkdir");
    let names = unreadable_files(&logs);
    for targets in [
        names.iter().map(|n| logs.join(n)).collect::<Vec<PathBuf>>(),
        vec![logs.join("*.log")],
    ] {
        let stderr = watch_stderr(&tmp.path().join("data"), &targets, "Too many levels");
        assert_clean(&stderr, &[OSC52_NAME]);
    }
}

/// Runs `watch` on `targets` until its stderr holds `wanted` (or a
/// minute passes), then stops it; returns its stderr.
fn watch_stderr(data: &Path, targets: &[PathBuf], wanted: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(data)
        .args(["watch", "--poll-interval", "20ms"])
        .args(targets)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watch starts");
    let mut stderr = child.stderr.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stderr.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut bytes = Vec::new();
    while !String::from_utf8_lossy(&bytes).contains(wanted) && Instant::now() < deadline {
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
            bytes.extend(chunk);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
        bytes.extend(chunk);
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert!(
        text.contains(wanted),
        "watch never said {wanted:?}: {text:?}"
    );
    text
}
