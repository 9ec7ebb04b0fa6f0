//! Issue 18, "answers a user can trust": each answer checked through the real
//! binary on small files written here (no silent folding across hosts, no
//! invented times, search that means what it says, a command line that
//! talks).

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::harness::Triage;

/// Two hosts out of disk a minute apart are two alerts, not one folded into
/// the other; the summary says how many sources the signature hit.
#[test]
fn disk_full_on_two_hosts_gives_two_alerts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("db1-postgresql.log");
    let web = tmp.path().join("web3-nginx-error.log");
    fs::write(
        &db,
        "2026-11-21 03:30:12.100 UTC [818] LOG:  checkpoint starting: time\n\
         2026-11-21 03:30:12.100 UTC [818] PANIC:  could not write to file \"pg_wal/xlogtemp.818\": No space left on device\n",
    )
    .expect("write");
    fs::write(
        &web,
        "2026/11/21 03:31:12 [crit] 31#31: *1234 pwrite() \"/var/cache/nginx/client_temp/0000000012\" failed (28: No space left on device), client: 10.1.2.3, server: shop.example.com, request: \"POST /api/uploads HTTP/1.1\", host: \"shop.example.com\"\n",
    )
    .expect("write");
    let out = Triage::new()
        .args(["scan", "--json"])
        .arg(&db)
        .arg(&web)
        .run()
        .code(0);
    let disk: Vec<_> = out
        .json_lines()
        .into_iter()
        .filter(|a| a["signature"] == "disk-full")
        .collect();
    assert_eq!(disk.len(), 2, "{}", out.stdout);
    assert_ne!(disk[0]["source"], disk[1]["source"]);

    let out = Triage::new()
        .args(["scan", "--summary", "--json"])
        .arg(&db)
        .arg(&web)
        .run()
        .code(0);
    let row = out
        .json_lines()
        .into_iter()
        .find(|r| r["signature"] == "disk-full")
        .expect("disk-full row");
    assert_eq!(row["alerts"], 2);
    assert_eq!(row["sources"], 2);
}

fn triage(data: &Path) -> Triage {
    Triage::new().arg("--data-dir").arg(data)
}

fn count(data: &Path, args: &[&str]) -> u64 {
    let out = triage(data).arg("search").arg("--count").args(args).run();
    assert!(
        out.code == 0 || out.code == 1,
        "search {args:?}: {}",
        out.stderr
    );
    out.stdout.trim().parse().expect("a count")
}

/// An sshd auth log: which lines hold which words is known by construction.
fn auth_log(dir: &Path) -> PathBuf {
    let mut text = String::new();
    for i in 0..40 {
        let (user, what) = match i % 4 {
            0 => ("root", "Failed password"),
            1 => ("admin", "Failed password"),
            2 => ("root", "Accepted password"),
            _ => ("deploy", "Failed publickey"),
        };
        text.push_str(&format!(
            "2026-11-21T03:{:02}:{:02}Z sshd[{}]: {what} for {user} from 10.0.0.{} port 22 ssh2\n",
            i / 60,
            i % 60,
            1000 + i,
            i % 7
        ));
    }
    let path = dir.join("auth.log");
    fs::write(&path, text).expect("write");
    path
}

/// Plain words and `AND` are one conjunction whatever the mix, `word*` is a
/// prefix, `source:` takes a bare file name as `--source` does, times of
/// day are taken, and a query or filter that cannot mean anything is an
/// error naming what is wrong and the valid choices, never an empty result.
#[test]
fn search_means_what_it_says() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let log = auth_log(tmp.path());
    triage(&data).arg("ingest").arg(&log).run().code(0);
    // 10 of each of the four kinds of line.
    assert_eq!(count(&data, &["Failed password AND root"]), 10);
    assert_eq!(count(&data, &["Failed AND password AND root"]), 10);
    assert_eq!(count(&data, &["Failed password root"]), 10);
    assert_eq!(count(&data, &["Failed password OR publickey"]), 30);
    assert_eq!(count(&data, &["root OR admin NOT Failed"]), 20);
    assert_eq!(count(&data, &["fail*"]), 30);
    assert_eq!(count(&data, &["pass* -Accepted"]), 20);
    assert_eq!(count(&data, &["source:auth.log"]), 40);
    assert_eq!(count(&data, &["--source", "auth.log", "root"]), 20);
    assert_eq!(count(&data, &["--since", "2026-11-21", "root"]), 20);
    assert_eq!(count(&data, &["--level", "err", "root"]), 0);

    let refused = |args: &[&str], wanted: &[&str]| {
        let out = triage(&data).arg("search").args(args).run().code(2);
        for w in wanted {
            assert!(out.stderr.contains(w), "{args:?}: {}", out.stderr);
        }
        assert!(out.stdout.is_empty());
    };
    refused(
        &["(Failed password"],
        &["query:1:1: this `(` is never closed"],
    );
    refused(&["Failed AND"], &["query:1:11:"]);
    refused(
        &["level:eror"],
        &["query:1:7: `eror` is not a level: one of", "error"],
    );
    refused(&["--level", "eror"], &["--level", "not a level", "warn"]);
    refused(
        &["colour:red"],
        &["unknown field `colour`", "level", "source"],
    );
    refused(
        &["--since", "2h", "--until", "3h"],
        &["is not before --until"],
    );
    refused(&["--since", "soon"], &["a time of day"]);
    // A time of day is taken as --incident --at takes it.
    let out = triage(&data)
        .args(["search", "--count", "--since", "03:00"])
        .run();
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    // A --source that names no indexed file says so, and which exist.
    let out = triage(&data)
        .args(["search", "--source", "auht.log", "root"])
        .run()
        .code(1);
    assert!(
        out.stderr
            .contains("--source `auht.log` matches no indexed file (indexed: ")
            && out.stderr.contains("auth.log)"),
        "{}",
        out.stderr
    );
}

/// The library is readable from the shell: runbook and signature lists,
/// a runbook shown with its steps, commands, expected outcomes and the
/// signatures that link to it; an unknown id lists the known ones.
#[test]
fn runbook_and_signature_show_the_library() {
    let out = Triage::new().args(["runbook", "list"]).run().code(0);
    assert!(out.stdout.starts_with("ID"), "{}", out.stdout);
    assert!(out.stdout.lines().any(|l| l.starts_with("disk-full ")));
    let out = Triage::new()
        .args(["runbook", "show", "disk-full"])
        .run()
        .code(0);
    for wanted in [
        "Filesystem full (disk-full)",
        "owner: platform team",
        "1. [diagnose] Find the full filesystem (which-filesystem)",
        "$ df -hT -x tmpfs -x devtmpfs -x overlay",
        "expect: a filesystem at or near 100% Use%",
        "signatures: ",
    ] {
        assert!(out.stdout.contains(wanted), "{wanted}:\n{}", out.stdout);
    }
    let out = Triage::new()
        .args(["runbook", "show", "disk-full", "--json"])
        .run()
        .code(0);
    let json = &out.json_lines()[0];
    assert_eq!(json["id"], "disk-full");
    assert_eq!(json["steps"][0]["id"], "which-filesystem");
    assert!(
        json["signatures"]
            .as_array()
            .expect("signatures")
            .iter()
            .any(|s| s == "disk-full")
    );
    let out = Triage::new()
        .args(["runbook", "show", "disk-ful"])
        .run()
        .code(2);
    assert!(
        out.stderr
            .contains("triage: no runbook `disk-ful` in the library; runbooks: disk-full"),
        "{}",
        out.stderr
    );
    let out = Triage::new()
        .args(["signature", "show", "disk-full"])
        .run()
        .code(0);
    assert!(out.stdout.contains("severity: critical") || out.stdout.contains("severity: high"));
    assert!(out.stdout.contains("runbook: disk-full"), "{}", out.stdout);
    assert!(
        out.stdout.contains("per source (file and host)"),
        "{}",
        out.stdout
    );
    let out = Triage::new().args(["signature", "list"]).run().code(0);
    assert!(out.stdout.lines().count() > 50);
    let out = Triage::new().args(["check", "-v"]).run().code(0);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("signature disk-full (")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("runbook disk-full ("))
    );
}

/// A file whose lines carry no time is not stamped "now": the summary says
/// "no time" where the first and last seen would be.
#[test]
fn untimed_events_have_no_time_in_the_summary() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("build.log");
    fs::write(
        &log,
        "compiling foo\nwrite /tmp/x: No space left on device\nerror: build failed\n",
    )
    .expect("write");
    let out = Triage::new()
        .args(["scan", "--summary"])
        .arg(&log)
        .run()
        .code(0);
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("disk-full"))
        .unwrap_or_else(|| panic!("a disk-full row:\n{}", out.stdout));
    assert_eq!(row.matches("no time").count(), 2, "{row}");
    let out = Triage::new()
        .args(["scan", "--summary", "--json"])
        .arg(&log)
        .run()
        .code(0);
    let row = out
        .json_lines()
        .into_iter()
        .find(|r| r["signature"] == "disk-full")
        .expect("row");
    assert_eq!(row["first_seen"], serde_json::Value::Null);
    assert_eq!(row["untimed"], 1);
}

/// `watch` says what it follows and that a missing file will be picked up
/// when it appears, within a second of starting; a directory given as a
/// file is an error saying how to follow its files.
#[test]
fn watch_says_what_it_follows() {
    use std::{
        io::{BufRead, BufReader},
        process::{Command, Stdio},
        sync::mpsc,
        time::Duration,
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .args(["watch", "--no-index", "nosuch.log"])
        .current_dir(tmp.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("triage runs");
    let stderr = child.stderr.take().expect("stderr");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
        if seen.len() >= 2 {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.iter()
            .any(|l| l == "triage: nosuch.log: no such file (yet); watching for it to appear"),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|l| l.starts_with("triage: following nosuch.log; state in ")),
        "{seen:?}"
    );

    let out = Triage::new()
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .arg("watch")
        .arg(tmp.path())
        .run()
        .code(2);
    assert!(
        out.stderr
            .contains("a directory; follow the files in it with a glob"),
        "{}",
        out.stderr
    );
}

/// `watch` says on stderr when an incident opens, and when a person
/// acknowledges it or changes its status from another shell.
#[test]
fn watch_says_when_an_incident_opens_or_changes_status() {
    use std::{
        io::{BufRead, BufReader},
        process::{Command, Stdio},
        sync::mpsc,
        time::{Duration, Instant},
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let log = tmp.path().join("kafka-1.log");
    fs::write(&log, "").expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(&data)
        .args(["watch", "--no-index", "--json", "--from-start"])
        .arg(&log)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("triage runs");
    let stderr = child.stderr.take().expect("stderr");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let mut seen = Vec::new();
    let wait_for = |what: &str, seen: &mut Vec<String>| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !seen.iter().any(|l| l.contains(what)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("no {what:?} from watch: {seen:#?}"),
            }
        }
    };
    wait_for("following", &mut seen);
    fs::write(
        &log,
        "Nov 21 03:30:12 kafka-1 kafka-server-start.sh[2211]: [2026-11-21 03:30:12,100] ERROR Error while appending records to orders-3 in dir /var/lib/kafka (kafka.server.LogDirFailureChannel) java.io.IOException: No space left on device\n",
    )
    .expect("append");
    wait_for("triage: INC-1: Incident opened: ", &mut seen);
    triage(&data)
        .args(["incident", "ack", "--actor", "alice"])
        .run()
        .code(0);
    wait_for("triage: INC-1: Acknowledged by alice", &mut seen);
    triage(&data)
        .args(["incident", "status", "mitigated", "--actor", "alice"])
        .run()
        .code(0);
    wait_for("→ mitigated", &mut seen);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        seen.iter()
            .filter(|l| l.contains("Incident opened"))
            .count(),
        1,
        "{seen:#?}"
    );
}

/// `scan` where no signature matches says how much it read, and how much of
/// it was at error level, instead of printing nothing.
#[test]
fn scan_with_no_match_says_what_it_read() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    fs::write(
        &log,
        "2026-11-21T03:00:00Z INFO started\n\
         2026-11-21T03:00:01Z ERROR something odd\n\
         2026-11-21T03:00:02Z INFO done\n",
    )
    .expect("write");
    let out = Triage::new().arg("scan").arg(&log).run().code(1);
    // The error line is told as a problem no signature knows; the exit
    // status is still the signatures'.
    assert!(
        out.stdout.contains("1 problem no signature knows") && out.stdout.contains("something odd"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(
            "triage: no signature matched in 3 events read from 1 file (1 at error level or worse"
        ),
        "{}",
        out.stderr
    );
}

/// `-C 1` is one event before and after, so a hit right after a stack
/// trace shows the whole trace, its lines printed as lines, indented.
#[test]
fn context_is_events_and_multi_line_events_print_as_lines() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let log = tmp.path().join("app.log");
    fs::write(
        &log,
        "2026-11-21 03:00:00,000 INFO [main] app - starting\n\
         2026-11-21 03:00:01,000 ERROR [main] app - request failed\n\
         java.lang.IllegalStateException: pool exhausted\n\
         \tat com.example.Pool.get(Pool.java:42)\n\
         \tat com.example.Api.handle(Api.java:7)\n\
         2026-11-21 03:00:02,000 INFO [main] app - recovered\n",
    )
    .expect("write");
    triage(&data).arg("ingest").arg(&log).run().code(0);
    let out = triage(&data)
        .args(["search", "recovered", "-C", "1"])
        .run()
        .code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let trace = lines
        .iter()
        .position(|l| l.contains("request failed"))
        .unwrap_or_else(|| panic!("the trace as context:\n{}", out.stdout));
    assert!(lines[trace].contains("-2 "), "{}", out.stdout);
    assert_eq!(
        lines[trace + 1],
        "    java.lang.IllegalStateException: pool exhausted"
    );
    assert_eq!(
        lines[trace + 2],
        "    \tat com.example.Pool.get(Pool.java:42)"
    );
    assert!(lines[trace + 4].contains(":6 "), "{}", out.stdout);
    assert!(!out.stdout.contains("\\x0a"));
}

/// A stack trace that fired a signature is its lines, indented, in
/// `incident show` and in every export (no literal `\x0a`; in CSV one
/// quoted cell holding the lines).
#[test]
fn a_stack_trace_is_its_lines_in_incident_show_and_exports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    fs::write(
        d.join("app.log"),
        "2026-11-21 03:11:30,000 INFO [main] app - serving\n\
         2026-11-21 03:11:31,208 ERROR [exec-1] app - request failed\n\
         java.lang.OutOfMemoryError: Java heap space\n\
         \tat com.example.Cache.fill(Cache.java:42)\n\
         \tat com.example.Api.handle(Api.java:7)\n\
         2026-11-21 03:11:32,000 INFO [main] app - still serving\n",
    )
    .expect("write");
    crate::harness::watch_until_quiet(
        d,
        &["--from-start", "--no-index", "--json", "app.log"],
        1,
        std::time::Duration::from_secs(2),
    );
    let data = d.join(".triage");
    let show = triage(&data).args(["incident", "show"]).run().code(0);
    let at = |text: &str, line: &str| text.lines().position(|l| l.ends_with(line));
    let first = at(&show.stdout, "java.lang.OutOfMemoryError: Java heap space")
        .unwrap_or_else(|| panic!("the trace in incident show:\n{}", show.stdout));
    assert!(
        show.stdout
            .lines()
            .nth(first + 1)
            .is_some_and(|l| l.contains("\tat com.example.Cache.fill(Cache.java:42)")),
        "{}",
        show.stdout
    );
    for format in ["md", "html", "csv"] {
        let out = triage(&data)
            .args(["export", "--format", format])
            .run()
            .code(0);
        assert!(!out.stdout.contains("\\x0a"), "{format}: {}", out.stdout);
        assert!(
            out.stdout.contains("com.example.Cache.fill(Cache.java:42)"),
            "{format}: {}",
            out.stdout
        );
        if format == "md" {
            let trace = at(&out.stdout, "java.lang.OutOfMemoryError: Java heap space")
                .unwrap_or_else(|| panic!("md: the trace's lines:\n{}", out.stdout));
            assert!(
                out.stdout
                    .lines()
                    .nth(trace + 1)
                    .is_some_and(|l| l.contains("com.example.Cache.fill")),
                "{}",
                out.stdout
            );
        }
    }
}

/// A file whose lines carry no time, ingested, is not "now": `--since 20m`
/// leaves it out and says how many events it left out for having no time;
/// without a time range it is there, shown with "no time".
#[test]
fn untimed_events_are_not_in_a_time_range() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let untimed = tmp.path().join("build.log");
    fs::write(
        &untimed,
        "compiling foo\ncompiling bar\nerror: build failed\n",
    )
    .expect("write");
    let recent = tmp.path().join("app.log");
    let now = jiff::Timestamp::now();
    fs::write(
        &recent,
        format!(
            "{} INFO started\n{} ERROR build failed\n",
            now - jiff::SignedDuration::from_mins(5),
            now - jiff::SignedDuration::from_mins(4)
        ),
    )
    .expect("write");
    triage(&data)
        .arg("ingest")
        .arg(&untimed)
        .arg(&recent)
        .run()
        .code(0);
    let out = triage(&data)
        .args(["search", "--count", "--since", "20m", "*"])
        .run()
        .code(0);
    assert_eq!(out.stdout.trim(), "2");
    assert!(
        out.stderr
            .contains("triage: 3 events without a time were left out by --since/--until"),
        "{}",
        out.stderr
    );
    assert_eq!(count(&data, &["*"]), 5);
    let out = triage(&data).args(["search", "failed"]).run().code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(
        lines[1].starts_with("no time "),
        "untimed last: {}",
        out.stdout
    );
}

/// Lines with no time followed live are not "now" either: `watch` prints
/// the alert with "no time", indexes the events with none (so `--since 20m`
/// leaves them out and says so, and search shows "no time"), and the
/// journal records the alert at the clock's time marked as the clock's.
#[test]
fn watched_untimed_events_have_no_time() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    fs::write(
        d.join("build.log"),
        "compiling orders\n\
         Out of memory: Killed process 4321 (java) total-vm:8123456kB, anon-rss:6234567kB\n\
         linking orders\n",
    )
    .expect("write");
    let printed = crate::harness::watch_until_quiet(
        d,
        &["--from-start", "build.log"],
        2,
        std::time::Duration::from_secs(2),
    );
    assert!(
        printed.iter().any(|l| l.trim() == "build.log:2  no time"),
        "{printed:#?}"
    );
    let data = d.join(".triage");
    let out = triage(&data)
        .args(["search", "--count", "--since", "20m", "*"])
        .run();
    assert_eq!(out.stdout.trim(), "0", "{}", out.stderr);
    assert!(
        out.stderr
            .contains("triage: 3 events without a time were left out by --since/--until"),
        "{}",
        out.stderr
    );
    assert_eq!(count(&data, &["*"]), 3);
    let out = triage(&data).args(["search", "Killed"]).run().code(0);
    assert!(out.stdout.starts_with("no time "), "{}", out.stdout);
    let journal = fs::read_to_string(data.join("journal.jsonl")).expect("journal");
    let fired = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .find(|e| e["kind"] == "signature.fired")
        .unwrap_or_else(|| panic!("no signature.fired in {journal}"));
    assert_eq!(fired["occurred_at_source"], "clock", "{fired}");
}

/// Completions and the man page come from the command line's definitions:
/// every subcommand is in them, and `scan --help` says what `scan` reads.
#[test]
fn completions_man_page_and_help() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Triage::new().args(["completions", shell]).run().code(0);
        for sub in ["scan", "watch", "search", "runbook", "signature"] {
            assert!(out.stdout.contains(sub), "{shell} lacks {sub}");
        }
    }
    let out = Triage::new().arg("man").run().code(0);
    assert!(out.stdout.starts_with(".ie"), "roff: {}", &out.stdout[..40]);
    assert!(out.stdout.contains(".TH triage 1"));
    for section in ["TRIAGE SCAN", "TRIAGE RUNBOOK", "TRIAGE SEARCH"] {
        assert!(
            out.stdout.contains(&format!(".SH \"{section}\"")),
            "{section}"
        );
    }
    let out = Triage::new().args(["scan", "--help"]).run().code(0);
    assert!(
        out.stdout.contains("plain, gzip, bzip2 or zstd"),
        "{}",
        out.stdout
    );
}

/// `ingest DIR` takes the files that look like logs, says what it left
/// out, and takes more with `--include`.
#[test]
fn ingest_a_directory_takes_logs_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("logs");
    fs::create_dir_all(dir.join("old")).expect("mkdir");
    let line = "2026-11-21T03:00:00Z ERROR write failed: No space left on device\n";
    fs::write(dir.join("app.log"), line).expect("write");
    fs::write(dir.join("old/app.log.1"), line).expect("write");
    fs::write(
        dir.join("README.md"),
        "# logs\nNo space left on device here\n",
    )
    .expect("write");
    fs::write(dir.join("hosts.csv"), "host,No space left on device\n").expect("write");
    let data = dir.join("data");
    let out = triage(&data).arg("ingest").arg(&dir).run().code(0);
    assert!(
        out.stderr
            .contains("triage: left out 2 files that do not look like logs: "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("README.md"), "{}", out.stderr);
    assert_eq!(count(&data, &["space"]), 2);
    let data = tmp.path().join("data2");
    triage(&data)
        .arg("ingest")
        .arg(&dir)
        .args(["--include", "*.csv", "--exclude", "*.1"])
        .run()
        .code(0);
    assert_eq!(count(&data, &["space"]), 2, "app.log and hosts.csv");
}

/// A symbolic link in a directory given to `ingest` is followed, and a link
/// back to a directory above it is reported, not walked forever; each file
/// is indexed once.
#[test]
fn ingest_a_directory_with_a_link_loop() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("logs");
    fs::create_dir_all(dir.join("old")).expect("mkdir");
    let line = "2026-11-21T03:00:00Z ERROR write failed: No space left on device\n";
    fs::write(dir.join("app.log"), line).expect("write");
    fs::write(dir.join("old/app.log.1"), line).expect("write");
    std::os::unix::fs::symlink(&dir, dir.join("old/again")).expect("symlink");
    let data = tmp.path().join("data");
    let out = triage(&data).arg("ingest").arg(&dir).run();
    assert!(out.stderr.contains("again"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(count(&data, &["space"]), 2, "{}", out.stderr);
}

/// A Kafka broker's disk filling and an OOM kill on another host are two
/// incidents; what fires on the OOM-killed host joins its incident; a
/// person can merge two incidents and split a signature off again, each a
/// new journal event (the chain stays intact).
#[test]
fn unrelated_failures_open_their_own_incidents() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    fs::write(
        d.join("kafka-1.log"),
        "Nov 21 03:30:12 kafka-1 kafka-server-start.sh[2211]: [2026-11-21 03:30:12,100] ERROR Error while appending records to orders-3 in dir /var/lib/kafka (kafka.server.LogDirFailureChannel) java.io.IOException: No space left on device\n",
    )
    .expect("write");
    fs::write(
        d.join("web-2.log"),
        "Nov 21 03:31:40 web-2 kernel: [812345.678901] Out of memory: Killed process 4321 (java) total-vm:8123456kB, anon-rss:6234567kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:14000kB oom_score_adj:0\n\
         Nov 21 03:31:41 web-2 systemd[1]: orders.service: Main process exited, code=killed, status=9/KILL\n\
         Nov 21 03:31:41 web-2 systemd[1]: orders.service: Failed with result 'signal'.\n",
    )
    .expect("write");
    crate::harness::watch_until_quiet(
        d,
        &["--from-start", "--no-index", "--json", "*.log"],
        3,
        std::time::Duration::from_secs(1),
    );
    let data = d.join(".triage");
    let list = triage(&data).args(["incident", "list"]).run().code(0);
    let rows: Vec<&str> = list.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{}", list.stdout);
    let incident_of = |signature: &str| {
        let out = triage(&data).args(["incident", "list"]).run().code(0);
        out.stdout
            .lines()
            .skip(1)
            .filter_map(|row| row.split_whitespace().next())
            .find(|id| {
                triage(&data)
                    .args(["incident", "show", id])
                    .run()
                    .code(0)
                    .stdout
                    .lines()
                    .any(|l| l.split_whitespace().nth(1) == Some(signature))
            })
            .map(str::to_owned)
    };
    let disk = incident_of("disk-full").expect("disk-full has an incident");
    let oom = incident_of("linux-oom-killer").expect("the OOM kill has an incident");
    assert_ne!(disk, oom);
    assert_eq!(
        incident_of("systemd-unit-failed").as_deref(),
        Some(oom.as_str())
    );

    // One failure after all: merge; the merged one closes.
    triage(&data)
        .args(["incident", "merge", &disk, "--into", &oom])
        .run()
        .code(0);
    let list = triage(&data).args(["incident", "list"]).run().code(0);
    assert!(
        list.stdout.contains(&format!("merged into {oom}")),
        "{}",
        list.stdout
    );
    let show = triage(&data).args(["incident", "show", &oom]).run().code(0);
    assert!(show.stdout.contains("disk-full"), "{}", show.stdout);
    // Two after all: split the disk off into a new incident.
    let split = triage(&data)
        .args(["incident", "split", "disk-full", "--incident", &oom])
        .run()
        .code(0);
    assert!(split.stdout.contains("incident.split"), "{}", split.stdout);
    let list = triage(&data).args(["incident", "list"]).run().code(0);
    assert_eq!(list.stdout.lines().skip(1).count(), 3, "{}", list.stdout);
    let newest = list
        .stdout
        .lines()
        .nth(1)
        .and_then(|r| r.split_whitespace().next());
    let newest = newest.expect("a row").to_owned();
    let show = triage(&data)
        .args(["incident", "show", &newest])
        .run()
        .code(0);
    assert!(
        show.stdout.contains(&format!("split from  {oom}")),
        "{}",
        show.stdout
    );
    let show = triage(&data).args(["incident", "show", &oom]).run().code(0);
    assert!(
        !show
            .stdout
            .lines()
            .any(|l| l.contains("high     disk-full")),
        "{}",
        show.stdout
    );
    // Refused, with the reason.
    let bad = triage(&data)
        .args(["incident", "merge", &oom, "--into", &oom])
        .run()
        .code(2);
    assert!(bad.stderr.contains("into itself"), "{}", bad.stderr);
    let bad = triage(&data)
        .args(["incident", "split", "nosuch", "--incident", &oom])
        .run()
        .code(2);
    assert!(
        bad.stderr.contains("has no signature `nosuch`"),
        "{}",
        bad.stderr
    );
    triage(&data).args(["incident", "verify"]).run().code(0);
}
