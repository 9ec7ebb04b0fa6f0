//! `triage scan`: positions, formats, exit codes and hostile input, on real
//! logs from `../shared/data/` and on files made here.

use std::{fs, io::Write, path::Path};

use flate2::{Compression, write::GzEncoder};

use crate::harness::{Triage, fixture, shared_data};

/// A user pattern file with one broad signature, so every line of interest
/// is a hit and its position can be checked.
fn broad_patterns(dir: &Path, regex: &str) -> std::path::PathBuf {
    let path = dir.join("broad.toml");
    fs::write(
        &path,
        format!(
            "[[signature]]\nid = 'test-broad'\ntitle = 'Broad'\nseverity = 'info'\ndescription = 'Test.'\nregex = '{regex}'\n\
             [[signature.example]]\nline = 'x'\nmatch = false\n"
        ),
    )
    .expect("write patterns");
    path
}

/// Independent reference: the byte offset and line number of every line,
/// with LF, CRLF and bare CR as terminators.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i + 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                i += 1;
                starts.push(i + 1);
            }
            b'\r' => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    if starts.last() == Some(&bytes.len()) {
        starts.pop();
    }
    starts
}

/// The text of `lines` lines from line `line_no` on, joined by `\n`, as an
/// event holds them.
fn event_text(bytes: &[u8], starts: &[usize], line_no: usize, lines: usize) -> String {
    let text: Vec<String> = (line_no..line_no + lines)
        .map(|n| {
            let end = starts.get(n).copied().unwrap_or(bytes.len());
            let raw = String::from_utf8_lossy(&bytes[starts[n - 1]..end]);
            raw.trim_end_matches(['\r', '\n']).to_owned()
        })
        .collect();
    text.join("\n")
}

/// Checks each JSON hit against the file: `offset` is the start of line
/// `line_no`, and `line` is the text of the `lines` lines from there.
fn assert_positions(hits: &[serde_json::Value], bytes: &[u8]) {
    let starts = line_starts(bytes);
    assert!(!hits.is_empty());
    for hit in hits {
        let line_no = hit["line_no"].as_u64().expect("line_no") as usize;
        let offset = hit["offset"].as_u64().expect("offset") as usize;
        let lines = hit["lines"].as_u64().expect("lines") as usize;
        assert_eq!(starts[line_no - 1], offset, "offset of line {line_no}");
        assert_eq!(
            event_text(bytes, &starts, line_no, lines),
            hit["line"].as_str().expect("line"),
            "line {line_no}"
        );
        for key in [
            "signature",
            "severity",
            "title",
            "runbook",
            "source",
            "ts",
            "captures",
        ] {
            assert!(hit.get(key).is_some(), "{key} missing in {hit}");
        }
    }
}

#[test]
fn json_positions_are_exact_on_the_apache_access_log_plain_and_gzip() {
    let Some(log) = shared_data("apache-access/access.log") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let patterns = broad_patterns(dir.path(), r#"\"GET (?P<path>\S+)"#);
    let bytes = fs::read(&log).expect("read log");
    let plain = Triage::new()
        .arg("--patterns")
        .arg(&patterns)
        .args(["scan", "--json"])
        .arg(&log)
        .run()
        .code(0);
    let hits: Vec<_> = plain
        .json_lines()
        .into_iter()
        .filter(|h| h["signature"] == "test-broad")
        .collect();
    let gets = bytes
        .split(|&b| b == b'\n')
        .filter(|l| l.windows(5).any(|w| w == b"\"GET "))
        .count();
    assert_eq!(hits.len(), gets, "one hit per GET line");
    assert_positions(&hits, &bytes);
    assert_eq!(hits[0]["ts"], "2015-05-17T10:05:03Z");

    let gz = dir.path().join("access.log.gz");
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(&bytes).expect("compress");
    fs::write(&gz, enc.finish().expect("compress")).expect("write gz");
    let zipped = Triage::new()
        .arg("--patterns")
        .arg(&patterns)
        .args(["scan", "--json"])
        .arg(&gz)
        .run()
        .code(0);
    let strip = |v: serde_json::Value| {
        let mut v = v;
        v.as_object_mut().expect("object").remove("source");
        v
    };
    let a: Vec<_> = plain.json_lines().into_iter().map(strip).collect();
    let b: Vec<_> = zipped.json_lines().into_iter().map(strip).collect();
    assert!(a == b, "gzip and plain give the same hits");
}

#[test]
fn json_positions_are_exact_on_postgresql_logs() {
    let Some(dir) = shared_data("postgresql") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let patterns = broad_patterns(tmp.path(), r"(?:LOG|ERROR|FATAL|STATEMENT|DETAIL):");
    let mut logs: Vec<_> = fs::read_dir(&dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    assert!(logs.len() >= 5);
    for log in logs {
        let out = Triage::new()
            .arg("--patterns")
            .arg(&patterns)
            .args(["scan", "--json"])
            .arg(&log)
            .run();
        assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
        let hits: Vec<_> = out
            .json_lines()
            .into_iter()
            .filter(|h| h["signature"] == "test-broad")
            .collect();
        if !hits.is_empty() {
            assert_positions(&hits, &fs::read(&log).expect("read"));
        }
        assert!(
            hits.iter()
                .all(|h| h["source"] == log.display().to_string())
        );
    }
}

#[test]
fn gzip_postgresql_logs_are_read() {
    let Some(log) = shared_data("postgresql/pgbouncer.log.gz") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let patterns = broad_patterns(tmp.path(), r"LOG");
    let out = Triage::new()
        .arg("--patterns")
        .arg(&patterns)
        .args(["scan", "--summary", "--json"])
        .arg(&log)
        .run()
        .code(0);
    let rows = out.json_lines();
    let broad = rows
        .iter()
        .find(|r| r["signature"] == "test-broad")
        .expect("broad row");
    assert!(
        broad["matches"].as_u64().expect("matches") > 1000,
        "{broad}"
    );
}

#[test]
fn line_ends_lf_crlf_and_bare_cr_and_stdin() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let patterns = broad_patterns(tmp.path(), "hit (?P<n>\\d+)");
    let bytes = b"2026-11-21T03:00:00Z hit 1\r\nmiss\rhit 2\rhit 3\n\nhit 4".to_vec();
    let out = Triage::new()
        .arg("--patterns")
        .arg(&patterns)
        .args(["scan", "--json", "-"])
        .stdin(bytes.clone())
        .run()
        .code(0);
    let hits = out.json_lines();
    let numbered: Vec<_> = hits
        .iter()
        .map(|h| (h["line_no"].as_u64(), h["captures"]["n"].as_str()))
        .collect();
    assert_eq!(
        numbered,
        [
            (Some(1), Some("1")),
            (Some(3), Some("2")),
            (Some(4), Some("3")),
            (Some(6), Some("4"))
        ]
    );
    assert_positions(&hits, &bytes);
    assert_eq!(hits[0]["source"], "-");
    assert_eq!(hits[0]["ts"], "2026-11-21T03:00:00Z");
    assert_eq!(hits[1]["ts"], serde_json::Value::Null);
}

#[test]
fn exit_codes_follow_grep() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let quiet = tmp.path().join("quiet.log");
    fs::write(&quiet, "2026-11-21T03:00:00Z INFO all good\n").expect("write");
    Triage::new().arg("scan").arg(&quiet).run().code(1);
    let bad = tmp.path().join("oom.log");
    fs::write(
        &bad,
        "Nov 21 03:14:02 web-1 kernel: Out of memory: Killed process 4321 (java) total-vm:1kB\n",
    )
    .expect("write");
    Triage::new().arg("scan").arg(&bad).run().code(0);
}

#[test]
fn an_unreadable_file_is_reported_and_the_others_are_scanned() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad = tmp.path().join("oom.log");
    fs::write(
        &bad,
        "Nov 21 03:14:02 web-1 kernel: Out of memory: Killed process 4321 (java) total-vm:1kB\n",
    )
    .expect("write");
    let missing = tmp.path().join("missing.log");
    let out = Triage::new()
        .args(["scan", "--json"])
        .arg(&missing)
        .arg(tmp.path())
        .arg(&bad)
        .run()
        .code(2);
    assert_eq!(out.json_lines().len(), 1, "the readable file was scanned");
    assert!(
        out.stderr.contains(&format!(
            "triage: {}: No such file or directory",
            missing.display()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("triage: {}: is a directory", tmp.path().display())),
        "{}",
        out.stderr
    );
}

#[test]
fn summary_counts_first_and_last_seen() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let patterns = broad_patterns(tmp.path(), "hit");
    let log = tmp.path().join("a.log");
    fs::write(
        &log,
        "2026-11-21T03:00:00Z hit\n2026-11-21T02:00:00Z hit\nno\n2026-11-21T04:00:00Z hit\n",
    )
    .expect("write");
    let out = Triage::new()
        .arg("--patterns")
        .arg(&patterns)
        .args(["scan", "--summary"])
        .arg(&log)
        .run()
        .code(0);
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("test-broad"))
        .expect("row");
    let cells: Vec<_> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "test-broad",
            "info",
            "3",
            "3",
            "1",
            "0",
            "2026-11-21T02:00:00Z",
            "2026-11-21T04:00:00Z"
        ]
    );
    assert!(out.stdout.starts_with("SIGNATURE"));
}

#[test]
fn text_output_neutralises_terminal_escapes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let patterns = broad_patterns(tmp.path(), "hit");
    let out = Triage::new()
        .arg("--patterns")
        .arg(&patterns)
        .args(["scan", "-"])
        .stdin("hit \x1b]0;pwned\x07 \x1b[2J \u{202e}evil\n")
        .run()
        .code(0);
    assert!(
        !out.stdout.contains('\x1b')
            && !out.stdout.contains('\x07')
            && !out.stdout.contains('\u{202e}')
    );
    assert!(
        out.stdout
            .contains("hit \\x1b]0;pwned\\x07 \\x1b[2J \\u{202e}evil"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("test-broad"));
}

#[test]
fn hostile_input_never_panics() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let empty = tmp.path().join("empty.log");
    fs::write(&empty, "").expect("write");
    let binary = tmp.path().join("binary.bin");
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let noise: Vec<u8> = (0..2_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    fs::write(&binary, &noise).expect("write");
    let invalid = tmp.path().join("invalid.log");
    fs::write(
        &invalid,
        b"2026-11-21T03:00:00Z \xff\xfe Out of memory: Killed process 1 (\xc3\x28) \x00\n",
    )
    .expect("write");
    let huge = tmp.path().join("huge.log");
    let mut line = vec![b'a'; 50 << 20];
    line.extend_from_slice(b" Out of memory: Killed process 7 (java)\nNov 21 03:14:02 h kernel: Out of memory: Killed process 8 (java)\n");
    fs::write(&huge, &line).expect("write");
    for path in [&empty, &binary, &invalid] {
        let out = Triage::new().args(["scan", "--json"]).arg(path).run();
        assert!(
            out.code == 0 || out.code == 1,
            "{}: {}",
            path.display(),
            out.stderr
        );
    }
    let out = Triage::new()
        .args(["scan", "--json"])
        .arg(&huge)
        .run()
        .code(0);
    let hits = out.json_lines();
    // The 50 MB line is cut at 1 MiB (losing its match at the end), marked,
    // and the line after it is still read at its exact offset.
    assert_eq!(hits.len(), 1, "{}", out.stdout.len());
    assert_eq!(hits[0]["line_no"], 2);
    assert_eq!(hits[0]["offset"].as_u64(), Some((50 << 20) + 40));
    let out = Triage::new()
        .args(["scan", "--json", "--max-line-bytes", "100000000"])
        .arg(&huge)
        .run()
        .code(0);
    let hits = out.json_lines();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0]["truncated"], false);
}

#[test]
fn fixture_logs_scan_against_user_patterns() {
    let dir = fixture("valid");
    let log = tempfile::tempdir().expect("tempdir");
    let path = log.path().join("checkout.log");
    let mut text = String::new();
    for second in 0..5 {
        text.push_str(&format!(
            "2026-11-21T03:00:0{second}Z ERROR payment provider acme timed out after 3000 ms\n"
        ));
    }
    fs::write(&path, text).expect("write");
    let out = Triage::new()
        .current_dir(&dir)
        .args([
            "--patterns",
            "patterns",
            "--runbooks",
            "runbooks",
            "scan",
            "--json",
        ])
        .arg(&path)
        .run()
        .code(0);
    let hits = out.json_lines();
    // Threshold 3 in 1m, then suppressed for 10m: one alert from five lines.
    assert_eq!(hits.len(), 1, "{}", out.stdout);
    assert_eq!(hits[0]["hits"], 3);
    assert_eq!(hits[0]["line_no"], 3);
    assert_eq!(hits[0]["runbook"], "payment-provider");
}

/// Checks `scan --all --json` on one file against an independent reading
/// of it: the events cover every line once and in order, each starts where
/// its line does and holds exactly its lines; returns the events.
fn all_events(log: &Path) -> Vec<serde_json::Value> {
    let bytes = fs::read(log).expect("read log");
    let events = Triage::new()
        .args(["scan", "--all", "--json"])
        .arg(log)
        .run()
        .code(0)
        .json_lines();
    let starts = line_starts(&bytes);
    let mut next = 1;
    for event in &events {
        let line_no = event["line_no"].as_u64().expect("line_no") as usize;
        let lines = event["lines"].as_u64().expect("lines") as usize;
        assert_eq!(line_no, next, "{}: events follow each other", log.display());
        assert_eq!(event["offset"].as_u64(), Some(starts[line_no - 1] as u64));
        let text = event_text(&bytes, &starts, line_no, lines);
        assert_eq!(event["line"].as_str(), Some(text.as_str()));
        for key in ["ts", "level", "fields", "signatures"] {
            assert!(event.get(key).is_some(), "{key} missing in {event}");
        }
        next += lines;
    }
    assert_eq!(next - 1, starts.len(), "{}: every line", log.display());
    events
}

#[test]
fn all_turns_postgresql_logs_into_whole_events() {
    let Some(dir) = shared_data("postgresql") else {
        return;
    };
    // Independent rule: a line starts an event when it starts with a
    // timestamp and is not a secondary message (DETAIL, HINT, ...) of the
    // one before; every event then has its first line's time.
    let stamped = regex::Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").expect("valid");
    let secondary =
        regex::Regex::new(r"\b(DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION):  ").expect("valid");
    let mut multi = 0;
    for name in [
        "multiline_param.log",
        "begin_end.log",
        "pg-timezones.log",
        "postgresql_param_range.log",
        "stmt_type.log",
        "weeknumber.log",
    ] {
        let log = dir.join(name);
        let text = fs::read_to_string(&log).expect("read log");
        let expected = text
            .lines()
            .filter(|l| stamped.is_match(l) && !secondary.is_match(l))
            .count();
        let events = all_events(&log);
        assert_eq!(events.len(), expected, "{name}: events");
        assert!(events.iter().all(|e| e["ts"].is_string()), "{name}: times");
        multi += events
            .iter()
            .filter(|e| e["lines"].as_u64() > Some(1))
            .count();
    }
    assert!(multi > 0, "multi-line statements are one event each");
}

#[test]
fn all_reads_every_access_log_line_with_its_time_and_level() {
    let Some(log) = shared_data("apache-access/access.log") else {
        return;
    };
    let events = all_events(&log);
    let text = fs::read_to_string(&log).expect("read log");
    let stamped = text
        .lines()
        .filter(|l| l.contains(" [") && l.contains("] \""))
        .count();
    assert_eq!(events.len(), text.lines().count(), "one event per line");
    let timed = events.iter().filter(|e| e["ts"].is_string()).count();
    assert_eq!(timed, stamped, "every request has its time");
    for event in &events {
        let status = event["fields"]["status"].as_str().unwrap_or_default();
        let level = event["level"].as_str();
        match status.as_bytes().first() {
            Some(b'5') => assert_eq!(level, Some("error"), "{event}"),
            Some(b'4') => assert_eq!(level, Some("warn"), "{event}"),
            _ => {}
        }
    }
}

#[test]
fn signatures_match_parsed_fields() {
    let Some(log) = shared_data("apache-access/access.log") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let patterns = dir.path().join("fields.toml");
    fs::write(
        &patterns,
        "[[signature]]\nid = 'test-5xx'\ntitle = 'Server error'\nseverity = 'info'\ndescription = 'Test.'\n\
         regex = 'HTTP/1'\nfield.status = '(?P<code>5\\d\\d)'\nfield.method = 'GET|POST'\n\
         [[signature.example]]\nline = '10.0.0.1 - - [21/Nov/2026:03:00:01 +0000] \"GET / HTTP/1.1\" 503 12 \"-\" \"x\"'\n\
         captures = { code = '503' }\n\
         [[signature.example]]\nline = '10.0.0.1 - - [21/Nov/2026:03:00:01 +0000] \"GET / HTTP/1.1\" 404 12 \"-\" \"x\"'\nmatch = false\n",
    )
    .expect("write patterns");
    Triage::new()
        .arg("--patterns")
        .arg(&patterns)
        .arg("check")
        .run()
        .code(0);
    let hits: Vec<_> = Triage::new()
        .arg("--patterns")
        .arg(&patterns)
        .args(["scan", "--json"])
        .arg(&log)
        .run()
        .code(0)
        .json_lines()
        .into_iter()
        .filter(|h| h["signature"] == "test-5xx")
        .collect();
    // Independent reading: the status is the first word after the quoted
    // request.
    let text = fs::read_to_string(&log).expect("read log");
    let expected: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '"');
            let request = parts.nth(1)?;
            let status = parts.next()?.split_whitespace().next()?;
            let method = request.split(' ').next()?;
            (request.contains("HTTP/1")
                && status.starts_with('5')
                && ["GET", "POST"].contains(&method))
            .then_some(status)
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(hits.len(), expected.len());
    for (hit, status) in hits.iter().zip(&expected) {
        assert_eq!(hit["captures"]["code"].as_str(), Some(*status));
    }
}

/// Many files are read and searched at once (one per thread, detection on
/// one thread in file order): the alerts, problems, messages and exit code
/// are those of one file after the other — on every real log here, with a
/// missing file and a directory among them, and a file of alerts made
/// here whose thresholds count across files.
#[test]
fn many_files_on_many_threads_scan_as_one_after_the_other() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut paths: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["real", "loghub", "ci"] {
        let Ok(entries) = fs::read_dir(fixture(dir)) else {
            continue;
        };
        let mut found: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && !p.to_string_lossy().contains("LICENSE"))
            .collect();
        found.sort();
        paths.extend(found);
    }
    if let Some(dir) = shared_data("postgresql") {
        let mut found: Vec<_> = fs::read_dir(&dir)
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| !p.to_string_lossy().contains("LICENSE"))
            .collect();
        found.sort();
        paths.extend(found);
    }
    // The same alerts in two files: counted across them in file order.
    let oom =
        "Nov 21 03:14:02 web-1 kernel: Out of memory: Killed process 4321 (java) total-vm:1kB\n";
    for name in ["a.log", "b.log"] {
        let path = tmp.path().join(name);
        fs::write(&path, oom.repeat(3)).expect("write");
        paths.insert(paths.len() / 2, path);
    }
    paths.insert(3, tmp.path().join("missing.log"));
    paths.insert(7, tmp.path().to_path_buf());
    assert!(paths.len() > 10, "{paths:?}");
    for args in [&["scan", "--json"][..], &["scan", "--summary"]] {
        let run = |threads: &str| {
            let out = Triage::new()
                .args(args)
                .args(["--threads", threads])
                .args(&paths)
                .run();
            (out.code, out.stdout, out.stderr)
        };
        let one = run("1");
        assert_eq!(one.0, 2, "a file could not be read: {}", one.2);
        assert!(!one.1.is_empty());
        let many = run("3");
        assert_eq!(many.0, one.0, "{args:?}: {}", many.2);
        assert_eq!(many.2, one.2, "{args:?}");
        assert_eq!(many.1, one.1, "{args:?}");
    }
}
