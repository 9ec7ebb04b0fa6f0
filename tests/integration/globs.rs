//! One glob dialect through the real binary: braces, `*` within a
//! directory, `**`, and a hidden name matched only where the glob writes
//! its dot — the same files for `scan`, `formats`, `ingest` and `watch`.

use std::{
    fs,
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

use crate::harness::Triage;

const PATTERNS: &str = "[[signature]]\nid = 'boom'\ntitle = 'Boom'\nseverity = 'high'\n\
description = 'Test.'\nregex = 'BOOM (?P<n>\\d+)'\n[[signature.example]]\nline = 'BOOM 1'\n\
[[signature.example]]\nline = 'x'\nmatch = false\n";

/// `logs/` with files a braces glob takes (`app.log`, `app.log.1`,
/// `db.log`) and some it does not (`web.log`, a hidden directory's).
fn logs(dir: &Path) {
    fs::create_dir_all(dir.join("logs/.hidden")).expect("mkdir");
    fs::write(dir.join("p.toml"), PATTERNS).expect("patterns");
    for file in [
        "app.log",
        "app.log.1",
        "db.log",
        "web.log",
        ".hidden/app.log",
    ] {
        fs::write(
            dir.join("logs").join(file),
            format!("2026-11-21T03:00:00Z ERROR BOOM 1 in {file}\n"),
        )
        .expect("write");
    }
}

fn sources(stdout: &str) -> Vec<String> {
    let mut out: Vec<String> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["source"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

#[test]
fn scan_formats_and_ingest_take_braces() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    logs(dir);
    let out = Triage::new()
        .current_dir(dir)
        .args([
            "--patterns",
            "p.toml",
            "scan",
            "--json",
            "logs/{app,db}.log*",
        ])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        sources(&out.stdout),
        ["logs/app.log", "logs/app.log.1", "logs/db.log"]
    );
    // `**` does not enter a hidden directory; written with its dot, it is
    // taken.
    let out = Triage::new()
        .current_dir(dir)
        .args(["formats", "logs/**/app.log", "logs/.hidden/*.log"])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let files: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split(':').next())
        .collect();
    assert_eq!(
        files,
        ["logs/app.log", "logs/.hidden/app.log"],
        "{}",
        out.stdout
    );
    let out = Triage::new()
        .current_dir(dir)
        .args(["--data-dir", "state", "ingest", "logs/{app,db}.log*"])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = Triage::new()
        .current_dir(dir)
        .args(["--data-dir", "state", "search", "--json", "*"])
        .run();
    assert_eq!(
        sources(&out.stdout),
        ["logs/app.log", "logs/app.log.1", "logs/db.log"]
    );
    // A glob that does not compile is named.
    let out = Triage::new()
        .current_dir(dir)
        .args(["--patterns", "p.toml", "scan", "logs/{app,db.log"])
        .run();
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("logs/{app,db.log"), "{}", out.stderr);
}

#[test]
fn watch_follows_a_braces_glob_and_only_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    logs(dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .current_dir(dir)
        .args([
            "--data-dir",
            "state",
            "--patterns",
            "p.toml",
            "watch",
            "--json",
            "--no-index",
            "--from-start",
            "logs/{app,db}.log*",
        ])
        .env_remove("TRIAGE_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("watch starts");
    let stdout = child.stdout.take().expect("stdout");
    let seen = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&seen);
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let mut seen = sink.lock().expect("lock");
            seen.push_str(&line);
            seen.push('\n');
        }
    });
    let have = |n: usize| {
        let seen = seen.lock().expect("lock").clone();
        match sources(&seen).len() >= n {
            true => Ok(()),
            false => Err(seen),
        }
    };
    crate::wait::until("the three files' alerts", Duration::from_secs(60), || {
        have(3)
    });
    // A file the glob names that appears later is followed; one it does
    // not name is not.
    fs::write(
        dir.join("logs/db.log.2"),
        "2026-11-21T03:00:01Z ERROR BOOM 2 in db.log.2\n",
    )
    .expect("write");
    fs::write(
        dir.join("logs/web.log.1"),
        "2026-11-21T03:00:01Z ERROR BOOM 3 in web.log.1\n",
    )
    .expect("write");
    crate::wait::until("the new file's alert", Duration::from_secs(60), || have(4));
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    let _ = reader.join();
    assert_eq!(
        sources(&seen.lock().expect("lock")),
        [
            "logs/app.log",
            "logs/app.log.1",
            "logs/db.log",
            "logs/db.log.2"
        ]
    );
}

/// Runs `triage ARGS` in `dir`, killed after 60 s (a command that follows
/// files would otherwise wait forever on a glob it cannot read): exit
/// status and stderr.
fn run_bounded(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .current_dir(dir)
        .args(args)
        .env_remove("TRIAGE_DATA_DIR")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("triage runs");
    let stderr = child.stderr.take().expect("piped");
    let reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        text
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().expect("stderr read");
    match status {
        Some(status) => (status.code(), text),
        None => panic!("triage {args:?} still running after 60 s; stderr:\n{text}"),
    }
}

/// A glob that does not compile is a bad glob, named with the problem, in
/// every command that takes globs (it was "No such file" to the commands
/// that read once, and `watch` followed it forever), exit 2. The commands
/// that follow files (and `diff`) refuse it before any work; those that
/// read once say so of it as of a file they cannot read, and read the
/// rest.
#[test]
fn a_bad_glob_is_reported_as_one_by_every_command_that_takes_globs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    logs(dir);
    let unclosed = "logs/{app,db.log";
    let class = "logs/[ab.log";
    let said = [
        "triage: logs/{app,db.log: bad glob: unclosed alternate group; missing '}' \
         (maybe escape '{' with '[{]'?)",
        "triage: logs/[ab.log: bad glob: unclosed character class; missing ']'",
    ];
    let refused: &[&[&str]] = &[
        &["diff", unclosed, "logs/web.log", "--", class],
        &["watch", unclosed, "logs/web.log", class],
        &[
            "watch",
            "logs/web.log",
            "--baseline",
            unclosed,
            "--baseline",
            class,
        ],
        &["agent", unclosed, "logs/web.log", class],
        &["ui", unclosed, "logs/web.log", class],
    ];
    for args in refused {
        let (code, stderr) = run_bounded(dir, args);
        assert_eq!(code, Some(2), "triage {args:?}:\n{stderr}");
        assert_eq!(stderr.lines().collect::<Vec<_>>(), said, "triage {args:?}");
    }
    // Nothing was done: no index, no journal, no checkpoint.
    assert!(!dir.join(".triage").exists());

    let read_once: &[&[&str]] = &[
        &["scan", "--json", unclosed, "logs/web.log", class],
        &["formats", unclosed, "logs/web.log", class],
        &["patterns", unclosed, "logs/web.log", class],
        &["ingest", unclosed, "logs/web.log", class],
        &["reindex", unclosed, "logs/web.log", class],
    ];
    for args in read_once {
        let out = Triage::new()
            .current_dir(dir)
            .args(["--patterns", "p.toml"])
            .args(*args)
            .run()
            .code(2);
        let lines: Vec<&str> = out.stderr.lines().collect();
        let at = |line: &str| lines.iter().position(|l| *l == line);
        assert!(
            at(said[0]).is_some_and(|first| at(said[1]).is_some_and(|second| first < second)),
            "triage {args:?}: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("No such file") && !out.stderr.contains("no file matches"),
            "triage {args:?}: {}",
            out.stderr
        );
        // The rest is read.
        match args[0] {
            "scan" => assert_eq!(sources(&out.stdout), ["logs/web.log"]),
            "formats" => assert!(out.stdout.starts_with("logs/web.log: "), "{}", out.stdout),
            "patterns" => assert!(out.stdout.contains("BOOM"), "{}", out.stdout),
            _ => {}
        }
    }
    let indexed = Triage::new()
        .current_dir(dir)
        .args(["search", "--count", "--", "BOOM"])
        .run()
        .code(0);
    assert_eq!(indexed.stdout.trim(), "1", "web.log indexed");

    // A file whose name is a bad glob is a path, as any existing path is.
    fs::write(
        dir.join(unclosed),
        "2026-11-21T03:00:00Z ERROR BOOM 7 in braces\n",
    )
    .expect("write");
    let out = Triage::new()
        .current_dir(dir)
        .args(["--patterns", "p.toml", "scan", "--json", unclosed])
        .run()
        .code(0);
    assert_eq!(sources(&out.stdout), [unclosed]);
}
