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

/// A glob can expand to a name that looks like an option: clap's usage
/// error quotes it. On a terminal (`CLICOLOR_FORCE` makes clap behave as
/// on one), it was written raw.
#[test]
fn escape_sequences_in_arguments_do_not_reach_the_terminal_from_usage_errors() {
    for args in [
        vec!["scan".to_owned(), format!("--{OSC52_NAME}")],
        vec!["scan".to_owned(), format!("-{CSI_NAME}")],
        vec![OSC52_NAME.to_owned()],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_triage"))
            .args(&args)
            .env_remove("NO_COLOR")
            .env("CLICOLOR_FORCE", "1")
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr:?}");
        assert!(
            !stderr.contains(['\x1b', '\x07']) && stderr.contains("Usage: "),
            "{stderr:?}"
        );
    }
}

/// `watch` reports a file it cannot read on every target kind (a path, a
/// glob) and goes on; the report is sanitised.
#[test]
fn escape_sequences_in_file_names_do_not_reach_the_terminal_from_watch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).expect("mkdir");
    let names = unreadable_files(&logs);
    // A directory named as a path (root's stand-in for a file it cannot
    // read: an existing path is that path, `[` or not) is refused before
    // any work, its name sanitised too.
    let (dirs, files): (Vec<PathBuf>, Vec<PathBuf>) =
        names.iter().map(|n| logs.join(n)).partition(|p| p.is_dir());
    for targets in [files, vec![logs.join("*.log")]] {
        let stderr = watch_stderr(&tmp.path().join("data"), &targets, "Too many levels");
        assert_clean(&stderr, &[OSC52_NAME]);
    }
    for dir in dirs {
        let stderr = watch_stderr(&tmp.path().join("data"), &[dir], "a directory");
        assert_clean(&stderr, &[CSI_NAME]);
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

fn last_event(journal: &Path) -> (u64, String) {
    let text = fs::read_to_string(journal).expect("journal");
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("an event")).expect("json");
    (
        last["seq"].as_u64().expect("seq"),
        last["hash"].as_str().expect("hash").to_owned(),
    )
}

/// An incident with a few notes, written by this build.
fn journal_with_notes(data: &Path, notes: usize) -> PathBuf {
    triage(data)
        .args(["incident", "declare", "--actor", "alice"])
        .run()
        .code(0);
    for i in 0..notes {
        triage(data)
            .args(["incident", "note", &format!("note {i}"), "--actor", "bob"])
            .run()
            .code(0);
    }
    data.join("journal.jsonl")
}

#[test]
fn a_journal_with_its_last_event_deleted_fails_verify() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let journal = journal_with_notes(&data, 3);
    let out = triage(&data).args(["incident", "verify"]).run().code(0);
    assert!(
        out.stdout
            .contains("its end matches the head recorded in journal.head"),
        "{}",
        out.stdout
    );
    let (seq, hash) = last_event(&journal);
    let text = fs::read_to_string(&journal).expect("journal");
    let kept: Vec<&str> = text.lines().collect();
    fs::write(&journal, kept[..kept.len() - 1].join("\n") + "\n").expect("cut");

    let out = triage(&data).args(["incident", "verify"]).run().code(1);
    assert!(
        out.stdout.contains(&format!(
            "journal.jsonl: journal ends at seq {} but its head says seq {seq} (hash {hash}): \
             events were removed from its end\nthe {} events it holds verify",
            seq - 1,
            seq - 1
        )),
        "{}",
        out.stdout
    );
    // Nothing is appended to it (which would record a new head over the
    // evidence), and no postmortem is made from it.
    let out = triage(&data)
        .args(["incident", "note", "after the cut", "--actor", "bob"])
        .run()
        .code(2);
    assert!(
        out.stderr.contains("events were removed from its end"),
        "{}",
        out.stderr
    );
    let out = triage(&data).arg("export").run().code(2);
    assert!(
        out.stderr.contains("events were removed from its end"),
        "{}",
        out.stderr
    );
    assert_eq!(last_event(&journal).0, seq - 1);

    // Every event deleted, the file emptied or gone: still a cut.
    fs::write(&journal, "").expect("empty");
    let out = triage(&data).args(["incident", "verify"]).run().code(1);
    assert!(
        out.stdout
            .contains("journal ends at seq 0 but its head says seq")
    );
    fs::remove_file(&journal).expect("remove");
    triage(&data).args(["incident", "verify"]).run().code(1);
}

#[test]
fn a_journal_from_before_heads_verifies_and_gets_one_on_its_next_append() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    journal_with_notes(&data, 2);
    fs::remove_file(data.join("journal.head")).expect("as an older triage left it");
    let out = triage(&data).args(["incident", "verify"]).run().code(0);
    assert!(out.stdout.contains("hash chain intact"), "{}", out.stdout);
    assert!(out.stdout.contains("no head recorded"), "{}", out.stdout);
    triage(&data)
        .args(["incident", "note", "one more", "--actor", "bob"])
        .run()
        .code(0);
    assert!(data.join("journal.head").exists());
    let out = triage(&data).args(["incident", "verify"]).run().code(0);
    assert!(out.stdout.contains("matches the head"), "{}", out.stdout);
}

#[test]
fn every_export_format_prints_the_journal_head() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let journal = journal_with_notes(&data, 1);
    for format in ["md", "html", "json", "csv"] {
        let (seq, hash) = last_event(&journal);
        let out = triage(&data)
            .args(["export", "--format", format])
            .run()
            .code(0);
        let printed = match format {
            "json" => {
                let pm: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
                (
                    pm["journal"]["head_seq"].as_u64().expect("seq"),
                    pm["journal"]["head_hash"]
                        .as_str()
                        .expect("hash")
                        .to_owned(),
                )
            }
            "csv" => {
                let last = out.stdout.lines().last().expect("a record");
                let cells: Vec<&str> = last.split(',').collect();
                (
                    cells[cells.len() - 2].parse().expect("seq"),
                    cells[cells.len() - 1].to_owned(),
                )
            }
            _ => {
                assert!(
                    out.stdout
                        .contains(&format!("journal head at export: event {seq}, sha256 ")),
                    "{format}"
                );
                (
                    seq,
                    if out.stdout.contains(&hash) {
                        hash.clone()
                    } else {
                        String::new()
                    },
                )
            }
        };
        assert_eq!(printed, (seq, hash), "{format}");
    }
    // Written to a file, the export's own event is the head now: printed.
    let out = triage(&data)
        .args(["export", "-o"])
        .arg(tmp.path().join("pm.md"))
        .run()
        .code(0);
    let (seq, hash) = last_event(&journal);
    assert!(
        out.stdout.contains(&format!(
            "recorded as event {seq} (the journal's head now: keep sha256 {hash})"
        )),
        "{}",
        out.stdout
    );
    triage(&data).args(["incident", "verify"]).run().code(0);
}

/// An index built by `ingest` from a few hundred lines over two hours.
fn small_index(dir: &Path) -> PathBuf {
    let log = dir.join("app.log");
    let text: String = (0..600)
        .map(|i| {
            format!(
                "2026-11-21T{:02}:{:02}:{:02}Z {} request {i} served by worker-{}\n",
                3 + i / 300,
                (i / 5) % 60,
                i % 60,
                ["INFO", "WARN", "ERROR"][i % 3],
                i % 7
            )
        })
        .collect();
    fs::write(&log, text).expect("write");
    let data = dir.join("data");
    triage(&data).arg("ingest").arg(&log).run().code(0);
    data
}

#[test]
fn a_query_nested_too_deep_is_refused_with_the_limit() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = small_index(tmp.path());
    let deep = 10_000;
    for query in [
        format!("{}request{}", "(".repeat(deep), ")".repeat(deep)),
        format!("{}request", "NOT ".repeat(deep)),
        format!("{}request{}", "NOT (".repeat(deep), ")".repeat(deep)),
        format!("{}request{}", "-(".repeat(deep), ")".repeat(deep)),
        format!("{}request{}", "line:(".repeat(deep), ")".repeat(deep)),
        format!("{}request{}", "(served AND ".repeat(deep), ")".repeat(deep)),
    ] {
        for mode in [&[][..], &["--count"], &["--histogram", "1h"]] {
            let out = triage(&data)
                .arg("search")
                .args(mode)
                .arg("--")
                .arg(&query)
                .run()
                .code(2);
            // Each group and each NOT is a level.
            let levels = deep * (1 + usize::from(query.starts_with("NOT (")));
            assert!(
                out.stderr.contains(&format!(
                    "triage: the query nests {levels} levels deep (groups in parentheses and \
                     NOTs inside one another); at most 100 are allowed"
                )),
                "{}",
                out.stderr
            );
        }
    }
    // At the limit, it searches.
    let at_limit = format!("{}request{}", "NOT (".repeat(50), ")".repeat(50));
    let out = triage(&data)
        .args(["search", "--count", "--"])
        .arg(&at_limit)
        .run();
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    let out = triage(&data)
        .args(["search", "--count", "--"])
        .arg(format!("{}request{}", "(".repeat(100), ")".repeat(100)))
        .run()
        .code(0);
    assert_eq!(out.stdout.trim(), "600");
}

/// An index of two segments, each written by one thread: a small one
/// (three lines) and a large one (600); their ids, small first.
fn two_segment_index(dir: &Path) -> (PathBuf, String, String) {
    fs::create_dir_all(dir).expect("mkdir");
    let data = small_index(dir);
    // `small_index` used every core: again, on one thread, in two commits.
    fs::remove_dir_all(&data).expect("remove");
    let tiny = dir.join("tiny.log");
    fs::write(
        &tiny,
        "2026-11-21T07:00:00Z ERROR disk full\n2026-11-21T07:00:01Z ERROR disk full again\n\
         2026-11-21T07:00:02Z INFO ok\n",
    )
    .expect("write");
    for log in [tiny, dir.join("app.log")] {
        triage(&data)
            .args(["ingest", "--threads", "1"])
            .arg(log)
            .run()
            .code(0);
    }
    let mut segments: Vec<(u64, String)> = fs::read_dir(data.join("index"))
        .expect("index")
        .filter_map(|e| {
            let e = e.ok()?;
            let id = e
                .file_name()
                .into_string()
                .ok()?
                .strip_suffix(".idx")?
                .to_owned();
            Some((e.metadata().ok()?.len(), id))
        })
        .collect();
    segments.sort();
    assert_eq!(segments.len(), 2, "{segments:?}");
    (data, segments[0].1.clone(), segments[1].1.clone())
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Every search mode on `data` fails as a damaged index should: exit 2,
/// the index and `triage reindex` named, with `names` (and no panic: the
/// harness fails on panic text). `at_open`: the damage is found on opening
/// the index, so even searches reading no segment data fail (else those
/// may answer from what is intact, as `--count '*'` reads only metadata).
#[track_caller]
fn assert_damage_reported(data: &Path, at_open: bool, names: &[&str]) {
    let mut modes = vec![
        &["error"][..],
        &["--count", "error"],
        &["--histogram", "1h", "error"],
        &["-C", "1", "error"],
    ];
    if at_open {
        modes.extend([&["--count", "*"][..], &["--histogram", "1m", "*"]]);
    }
    for mode in modes {
        let out = triage(data).arg("search").args(mode).run();
        assert_eq!(out.code, 2, "search {mode:?}: {}", out.stderr);
        let index = data.join("index");
        assert!(
            out.stderr.contains(&format!(
                "triage: {}: the index is damaged (",
                index.display()
            )) && out
                .stderr
                .contains("rebuild it from the logs with `triage reindex`"),
            "search {mode:?}: {}",
            out.stderr
        );
        for name in names {
            assert!(
                out.stderr.contains(name),
                "search {mode:?}: {name} not in {}",
                out.stderr
            );
        }
    }
}

#[test]
fn a_damaged_index_file_is_an_error_naming_it_and_reindex_never_a_panic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (built, small, large) = two_segment_index(&tmp.path().join("built"));
    // Cut short (its end, with its footer, gone): each kind of file.
    for kind in ["fast", "idx", "pos", "store", "term", "fieldnorm"] {
        let data = tmp.path().join(format!("cut-{kind}"));
        copy_dir(&built, &data);
        let file = data.join("index").join(format!("{small}.{kind}"));
        let len = fs::metadata(&file).expect("file").len();
        fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_len(len / 2))
            .expect("cut");
        assert_damage_reported(
            &data,
            true,
            &[&format!("{small}.{kind} is cut or overwritten")],
        );
    }
    // Overwritten by another segment's file: valid on its own, checksum
    // included. A `.fast` file is caught on opening (its row count).
    let data = tmp.path().join("swapped-fast");
    copy_dir(&built, &data);
    let index = data.join("index");
    fs::copy(
        index.join(format!("{large}.fast")),
        index.join(format!("{small}.fast")),
    )
    .expect("copy");
    assert_damage_reported(
        &data,
        true,
        &[&format!(
            "segment {small}: {small}.fast holds 600 documents, the segment 3"
        )],
    );
    // A term dictionary pointing past the postings made tantivy panic
    // ("assertion failed: start <= orig_range.end").
    let data = tmp.path().join("swapped-term");
    copy_dir(&built, &data);
    let index = data.join("index");
    let file = index.join(format!("{small}.term"));
    fs::copy(index.join(format!("{large}.term")), &file).expect("copy");
    assert_damage_reported(
        &data,
        false,
        &[&format!(
            "segment {small}: its files pass their checksums but do not fit together"
        )],
    );
    // And a byte changed in it: its checksum names it.
    let mut bytes = fs::read(&file).expect("file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    fs::write(&file, bytes).expect("write");
    assert_damage_reported(
        &data,
        false,
        &[&format!("segment {small}: {small}.term fails its checksum")],
    );
    // The index's own meta.json.
    let data = tmp.path().join("meta");
    copy_dir(&built, &data);
    fs::write(data.join("index/meta.json"), "{\"segments\": [").expect("write");
    assert_damage_reported(&data, true, &["meta.json"]);
    // The index it was all copied from still searches.
    let out = triage(&built)
        .args(["search", "--count", "*"])
        .run()
        .code(0);
    assert_eq!(out.stdout.trim(), "603");
}
