//! `triage incident ...`: operator commands through the real binary, the hash
//! chain check, concurrent appends from several processes, and the recorder
//! fed from a one-shot pass over the demo's logs.

use std::{
    fs,
    path::{Path, PathBuf},
};

use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use triage::{
    config::Config,
    demo,
    incident::{Journal, Recorder, record_events},
    library::Library,
    scan::Scanner,
    tail::{read::Input, split::DEFAULT_MAX_LINE},
};

use crate::harness::{Output, Triage};

/// Records `files` into the journal in `data`, in one pass in time order,
/// as `watch` would have live (syslog years read as of `now`).
pub fn record(files: &[PathBuf], data: &Path, now: Timestamp) {
    record_with(files, data, now, &Config::default());
}

/// [`record`] with sources read as `config` says.
pub fn record_with(files: &[PathBuf], data: &Path, now: Timestamp, config: &Config) {
    // Problems in the library are `check`'s tests' to report.
    let (library, _) = Library::load(&[], &[]);
    let scanner = Scanner::new(&library, config, TimeZone::UTC, DEFAULT_MAX_LINE, now);
    let mut events = Vec::new();
    for file in files {
        scanner
            .events(&Input::Path(file.clone()), &mut |e, at| {
                events.push((e, at.unwrap_or(now)));
            })
            .expect("reads");
    }
    events.sort_by_key(|(_, at)| *at);
    let journal = Journal::open(data).expect("journal opens");
    let mut recorder = Recorder::new(journal, &library);
    record_events(&mut recorder, &library, events).expect("records");
}

/// Writes the demo's logs under `dir/logs` and records them into
/// `dir/.triage` (the default data directory when run from `dir`).
pub fn record_demo(dir: &Path) {
    let start = demo::default_start();
    let files = demo::write_all(&dir.join("logs"), 1, start).expect("demo written");
    record(
        &files,
        &dir.join(".triage"),
        start + SignedDuration::from_hours(24),
    );
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    Triage::new().current_dir(dir).args(args).run()
}

fn journal_lines(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join(".triage/journal.jsonl"))
        .expect("journal exists")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn operator_commands_build_the_timeline_and_show_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = run(
        d,
        &[
            "incident",
            "declare",
            "--title",
            "Checkout is slow",
            "--severity",
            "medium",
            "--at",
            "2026-11-21T03:05:00Z",
            "--actor",
            "alice",
        ],
    )
    .code(0);
    assert!(out.stdout.starts_with("INC-1 #1 "), "{}", out.stdout);
    run(
        d,
        &[
            "incident",
            "milestone",
            "started",
            "2026-11-21T03:00:00Z",
            "--actor",
            "alice",
        ],
    )
    .code(0);
    run(
        d,
        &[
            "incident",
            "ack",
            "--at",
            "2026-11-21T03:07:00Z",
            "--actor",
            "bob",
        ],
    )
    .code(0);
    run(
        d,
        &[
            "incident",
            "step",
            "postgres-connections",
            "who-holds-slots",
            "done",
            "--note",
            "62 sessions idle in transaction",
            "--at",
            "2026-11-21T03:08:00Z",
            "--actor",
            "bob",
        ],
    )
    .code(0);
    run(
        d,
        &[
            "incident",
            "step",
            "postgres-connections",
            "limits",
            "skipped",
            "--actor",
            "bob",
        ],
    )
    .code(0);
    run(
        d,
        &[
            "incident",
            "note",
            "paused the reporting job",
            "--actor",
            "alice",
            "--at",
            "2026-11-21T03:09:00Z",
        ],
    )
    .code(0);
    run(
        d,
        &[
            "incident",
            "severity",
            "critical",
            "--actor",
            "alice",
            "--at",
            "2026-11-21T03:09:30Z",
        ],
    )
    .code(0);
    run(
        d,
        &[
            "incident",
            "status",
            "mitigated",
            "--actor",
            "alice",
            "--at",
            "2026-11-21T03:10:00Z",
        ],
    )
    .code(0);
    run(
        d,
        &[
            "incident",
            "status",
            "resolved",
            "--actor",
            "alice",
            "--at",
            "2026-11-21T03:20:00Z",
        ],
    )
    .code(0);

    let show = run(d, &["incident", "show", "INC-1"]).code(0).stdout;
    for expected in [
        "INC-1  Checkout is slow",
        "severity    critical",
        "status      resolved",
        "responders  alice, bob",
        "started       2026-11-21 03:00:00",
        "detected      2026-11-21 03:05:00",
        "acknowledged  2026-11-21 03:07:00",
        "mitigated     2026-11-21 03:10:00",
        "resolved      2026-11-21 03:20:00",
        "TTD 5m 00s   TTA 2m 00s   TTM 10m 00s   TTR 20m 00s   (lasted 20m 00s)",
        "done     postgres-connections/who-holds-slots  bob  2026-11-21 03:08:00  — 62 sessions idle in transaction",
        "skipped  postgres-connections/limits  bob",
        "paused the reporting job",
        "Severity medium → critical",
    ] {
        assert!(show.contains(expected), "missing {expected:?} in\n{show}");
    }
    // Edits are new events: correct the acknowledgement's time (#5 is its
    // milestone), pin the note (#8).
    let out = run(
        d,
        &[
            "incident",
            "set-time",
            "5",
            "2026-11-21T03:06:00Z",
            "--actor",
            "alice",
        ],
    )
    .code(0)
    .stdout;
    assert!(
        out.contains(
            "event.time_set  Time of #5 set to 2026-11-21T03:06:00Z (was 2026-11-21T03:07:00Z)"
        ),
        "{out}"
    );
    run(d, &["incident", "pin", "8", "--actor", "alice"]).code(0);
    let show = run(d, &["incident", "show"]).code(0).stdout;
    assert!(show.contains("TTD 5m 00s   TTA 1m 00s"), "{show}");
    assert!(show.contains("paused the reporting job [pinned]"), "{show}");
    assert!(show.contains("[time corrected]"), "{show}");
    let list = run(d, &["incident", "list"]).code(0).stdout;
    let row: Vec<&str> = list
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(row[..3], ["INC-1", "resolved", "critical"], "{list}");
    // Resolved: nothing is open any more, so a write needs --incident.
    let err = run(d, &["incident", "note", "late", "--actor", "alice"])
        .code(2)
        .stderr;
    assert!(err.contains("no open incident"), "{err}");
    run(
        d,
        &[
            "incident",
            "--incident",
            "1",
            "note",
            "late",
            "--actor",
            "alice",
        ],
    )
    .code(0);
    run(d, &["incident", "verify"]).code(0);
}

/// The `LASTED` cell of `id` in `incident list`.
fn lasted_in_list(d: &Path, id: &str) -> String {
    let list = run(d, &["incident", "list"]).code(0).stdout;
    let header = list.lines().next().expect("a header");
    let (from, to) = (
        header.find("LASTED").expect("LASTED"),
        header.find("TITLE").expect("TITLE"),
    );
    let row = list
        .lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .unwrap_or_else(|| panic!("no {id} in\n{list}"));
    row[from..to].trim().to_owned()
}

/// A merged incident ended at its merge: `list`, `show` and `export` stop
/// its duration there (it ran on with the clock, days and counting), at
/// the merge's corrected time when it was corrected; the incident it went
/// into runs on.
#[test]
fn a_merged_incident_lasts_until_its_merge_not_until_now() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for (title, at) in [
        ("checkout slow", "2026-11-21T03:00:00Z"),
        ("orders slow", "2026-11-21T03:10:00Z"),
    ] {
        run(
            d,
            &[
                "incident", "declare", "--title", title, "--at", at, "--actor", "alice",
            ],
        )
        .code(0);
    }
    let merged = run(
        d,
        &[
            "incident", "merge", "INC-2", "--into", "INC-1", "--actor", "alice",
        ],
    )
    .code(0)
    .stdout;
    // `INC-2 #5 <time> incident.merged ...`
    let seq = merged
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.strip_prefix('#'))
        .unwrap_or_else(|| panic!("no seq in {merged:?}"));
    // The merge happened now, on the clock: the incident lasted from its
    // opening until then, whenever it is looked at later.
    let journal = journal_lines(d);
    let merge: serde_json::Value = serde_json::from_str(
        journal
            .iter()
            .find(|l| l.contains("\"incident.merged\""))
            .expect("the merge event"),
    )
    .expect("json");
    let merged_at: Timestamp = merge["occurred_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("a time");
    let opened: Timestamp = "2026-11-21T03:10:00Z".parse().expect("time");
    let until_merge = triage::incident::text::duration(merged_at.duration_since(opened));
    assert_eq!(lasted_in_list(d, "INC-2"), until_merge);

    // The merge's time corrected to 30 minutes after the opening.
    run(
        d,
        &[
            "incident",
            "set-time",
            "--incident",
            "INC-2",
            seq,
            "2026-11-21T03:40:00Z",
            "--actor",
            "alice",
        ],
    )
    .code(0);
    assert_eq!(lasted_in_list(d, "INC-2"), "30m 00s");
    let show = run(d, &["incident", "show", "INC-2"]).code(0).stdout;
    assert!(show.contains("(lasted 30m 00s)"), "{show}");
    assert!(show.contains("status      merged into INC-1"), "{show}");
    let md = run(d, &["export", "--incident", "INC-2"]).code(0).stdout;
    assert!(md.contains("| Duration | 30m 00s |"), "{md}");
    assert!(md.contains("| Status | merged into INC-1 |"), "{md}");
    let html = run(d, &["export", "--incident", "INC-2", "--format", "html"])
        .code(0)
        .stdout;
    assert!(
        html.contains("<tr><th>Status</th><td>merged into INC-1</td></tr>")
            && html.contains("<tr><th>Duration</th><td>30m 00s</td></tr>"),
        "{html}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &run(d, &["export", "--incident", "INC-2", "--format", "json"])
            .code(0)
            .stdout,
    )
    .expect("json");
    assert_eq!(json["incident"]["duration_ms"], 30 * 60 * 1000);
    assert_eq!(json["incident"]["open"], false);
    assert_eq!(json["incident"]["merged_into"], "INC-1");

    // The incident it went into is open: it runs on (days, by now).
    let one = lasted_in_list(d, "INC-1");
    let hours: u64 = one
        .split_once("h ")
        .and_then(|(h, _)| h.parse().ok())
        .unwrap_or_else(|| panic!("INC-1 lasted {one:?}"));
    assert!(hours >= 24, "INC-1 lasted {one}");
}

/// `set-time` on an incident's opening event moves when it opened in
/// `list`, `show` and every export format (they kept the original time),
/// as a merge's corrected time ends a merged incident.
#[test]
fn a_corrected_opening_is_when_the_incident_opened_everywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let declared = run(
        d,
        &[
            "incident",
            "declare",
            "--title",
            "checkout slow",
            "--at",
            "2026-11-21T03:10:00Z",
            "--actor",
            "alice",
        ],
    )
    .code(0)
    .stdout;
    // `INC-1 #1 <time> incident.opened ...`
    let seq = declared
        .lines()
        .find(|l| l.contains("incident.opened"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.strip_prefix('#'))
        .unwrap_or_else(|| panic!("no opening in {declared:?}"));
    run(
        d,
        &[
            "incident",
            "set-time",
            "--incident",
            "INC-1",
            seq,
            "2026-11-21T02:55:00Z",
            "--actor",
            "alice",
        ],
    )
    .code(0);

    let list = run(d, &["incident", "list"]).code(0).stdout;
    let row = list
        .lines()
        .find(|l| l.starts_with("INC-1 "))
        .unwrap_or_else(|| panic!("no INC-1 in\n{list}"));
    assert!(row.contains("2026-11-21 02:55:00"), "{list}");
    assert!(!list.contains("03:10:00"), "{list}");
    let show = run(d, &["incident", "show", "INC-1"]).code(0).stdout;
    assert!(
        show.contains("opened      2026-11-21 02:55:00 UTC by alice"),
        "{show}"
    );
    let md = run(d, &["export", "--incident", "INC-1"]).code(0).stdout;
    assert!(
        md.contains("| Opened | 2026-11-21 02:55:00 by alice (declared) |"),
        "{md}"
    );
    assert!(
        md.contains("Declared by alice at 2026-11-21 02:55:00; no signature fired."),
        "{md}"
    );
    let html = run(d, &["export", "--incident", "INC-1", "--format", "html"])
        .code(0)
        .stdout;
    assert!(
        html.contains("<p>Declared by alice at 2026-11-21 02:55:00; no signature fired.</p>"),
        "{html}"
    );
    let opened_row = html
        .lines()
        .find(|l| l.starts_with("<tr><th>Opened</th>"))
        .unwrap_or_else(|| panic!("no Opened row in {html}"));
    assert!(opened_row.contains("2026-11-21 02:55:00"), "{opened_row}");
    let json: serde_json::Value = serde_json::from_str(
        &run(d, &["export", "--incident", "INC-1", "--format", "json"])
            .code(0)
            .stdout,
    )
    .expect("json");
    assert_eq!(json["incident"]["opened_at"], "2026-11-21T02:55:00Z");
}

#[test]
fn commands_explain_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let list = run(d, &["incident", "list"]).code(1);
    assert!(list.stdout.contains("no incidents yet"));
    let err = run(d, &["incident", "ack", "--actor", "a"]).code(2).stderr;
    assert_eq!(
        err.trim(),
        "triage: no open incident: declare one (`triage incident declare`) or name one with --incident"
    );
    run(d, &["incident", "declare", "--actor", "a"]).code(0);
    let err = run(
        d,
        &["incident", "step", "nope", "x", "done", "--actor", "a"],
    )
    .code(2)
    .stderr;
    assert!(
        err.starts_with("triage: no runbook `nope` (known: "),
        "{err}"
    );
    let err = run(
        d,
        &[
            "incident",
            "step",
            "postgres-connections",
            "x",
            "done",
            "--actor",
            "a",
        ],
    )
    .code(2)
    .stderr;
    assert!(
        err.contains("runbook `postgres-connections` has no step `x`; its steps are: who-holds-slots, limits,"),
        "{err}"
    );
    let err = run(
        d,
        &["incident", "ack", "--at", "yesterday-ish", "--actor", "a"],
    )
    .code(2)
    .stderr;
    assert!(err.contains("`yesterday-ish` is not a time"), "{err}");
    let err = run(d, &["incident", "note", "x", "--actor", "triage"])
        .code(2)
        .stderr;
    assert!(
        err.contains("reserved") || err.contains("automatic events"),
        "{err}"
    );
    let err = run(d, &["incident", "pin", "99", "--actor", "a"])
        .code(2)
        .stderr;
    assert!(err.contains("no event 99"), "{err}");
    let err = run(
        d,
        &["incident", "--incident", "INC-7", "ack", "--actor", "a"],
    )
    .code(2)
    .stderr;
    assert!(err.contains("no incident `INC-7` (known: INC-1)"), "{err}");
    // Nothing above wrote an event but the declaration.
    assert_eq!(journal_lines(d).len(), 2);
}

#[test]
fn verify_names_the_event_that_was_altered_removed_or_reordered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    run(d, &["incident", "declare", "--actor", "alice"]).code(0);
    for i in 1..=4 {
        run(
            d,
            &[
                "incident",
                "note",
                &format!("note number {i}"),
                "--actor",
                "alice",
            ],
        )
        .code(0);
    }
    let intact = run(d, &["incident", "verify"]).code(0).stdout;
    assert!(
        intact.contains(": 6 events, hash chain intact; head: event 6, sha256 "),
        "{intact}"
    );

    let path = d.join(".triage/journal.jsonl");
    let original = fs::read(&path).expect("reads");
    // One byte: "note number 2" becomes "note number 3" in line 4.
    let lines = journal_lines(d);
    let offset: usize = lines[..3].iter().map(|l| l.len() + 1).sum::<usize>()
        + lines[3].find("note number 2").expect("line 4 is that note")
        + "note number ".len();
    let mut changed = original.clone();
    changed[offset] = b'3';
    fs::write(&path, &changed).expect("writes");
    let out = run(d, &["incident", "verify"]).code(1).stdout;
    let event_id = lines[3]
        .split("\"id\":\"")
        .nth(1)
        .and_then(|s| s.get(..16))
        .expect("id");
    assert!(
        out.contains(&format!(
            "journal.jsonl:4: event 4 (note, id {event_id}) was altered: its content does not match its hash"
        )),
        "{out}"
    );
    assert!(out.contains("the 3 events before it verify"), "{out}");

    // A line removed.
    let mut removed = lines.clone();
    removed.remove(2);
    fs::write(&path, removed.join("\n") + "\n").expect("writes");
    let out = run(d, &["incident", "verify"]).code(1).stdout;
    assert!(
        out.contains("journal.jsonl:3: event 3 was removed: event 4 (note, id "),
        "{out}"
    );

    // Two lines swapped.
    let mut swapped = lines.clone();
    swapped.swap(3, 4);
    fs::write(&path, swapped.join("\n") + "\n").expect("writes");
    let out = run(d, &["incident", "verify"]).code(1).stdout;
    assert!(
        out.contains("journal.jsonl:4: events were reordered: event 5 (note, id "),
        "{out}"
    );

    // Put back, it verifies again.
    fs::write(&path, &original).expect("writes");
    run(d, &["incident", "verify"]).code(0);
}

#[test]
fn two_processes_appending_at_once_lose_nothing_and_keep_one_chain() {
    const NOTES: usize = 30;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_path_buf();
    run(&d, &["incident", "declare", "--actor", "alice"]).code(0);
    let writers: Vec<_> = ["alice", "bob"]
        .into_iter()
        .map(|who| {
            let d = d.clone();
            std::thread::spawn(move || {
                for i in 0..NOTES {
                    run(
                        &d,
                        &["incident", "note", &format!("{who} {i}"), "--actor", who],
                    )
                    .code(0);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer finished");
    }
    let lines = journal_lines(&d);
    assert_eq!(lines.len(), 2 + 2 * NOTES);
    for who in ["alice", "bob"] {
        for i in 0..NOTES {
            let text = format!("\"summary\":\"{who} {i}\"");
            assert_eq!(
                lines.iter().filter(|l| l.contains(&text)).count(),
                1,
                "{who} {i} exactly once"
            );
        }
    }
    let out = run(&d, &["incident", "verify"]).code(0).stdout;
    assert!(
        out.contains(&format!(": {} events, hash chain intact", 2 + 2 * NOTES)),
        "{out}"
    );
}

#[test]
fn the_demo_opens_an_incident_that_the_shell_can_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    record_demo(d);
    let list = run(d, &["incident", "list"]).code(0).stdout;
    assert!(
        list.contains("INC-1  investigating  critical  2026-11-21 03:06:06.071"),
        "{list}"
    );
    assert!(
        list.contains("PostgreSQL connection slots exhausted"),
        "{list}"
    );
    let show = run(d, &["incident", "show"]).code(0).stdout;
    for expected in [
        "started       2026-11-21 03:04:31.474",
        "Started (proposed): first matching line of postgres-slow-statement",
        "detected      2026-11-21 03:06:06.071",
        "TTD 1m 35s",
        "Early warning: JDBC connection pool saturated",
        "critical postgres-connection-slots-exhausted  fired 1  alerts 2  lines 68",
        "postgresql/postgresql.log:139  │ 2026-11-21 03:06:06.071 UTC [56608] FATAL:",
        "signature.cleared",
    ] {
        assert!(show.contains(expected), "missing {expected:?} in\n{show}");
    }
    run(d, &["incident", "verify"]).code(0);
}

#[test]
fn log_text_is_made_harmless_in_incident_show() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let log = d.join("db.log");
    fs::write(
        &log,
        "2026-11-21 03:06:06.071 UTC [1] FATAL:  sorry, too many clients already \u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}gnp.exe\n",
    )
    .expect("writes");
    record(
        &[log],
        &d.join(".triage"),
        "2026-11-22T00:00:00Z".parse().expect("time"),
    );
    run(
        d,
        &[
            "incident",
            "note",
            "\u{1b}[31mred\u{1b}[0m\rover",
            "--actor",
            "alice",
        ],
    )
    .code(0);
    let show = run(d, &["incident", "show"]).code(0).stdout;
    assert!(
        !show.contains('\u{1b}') && !show.contains('\u{7}') && !show.contains('\r'),
        "{show:?}"
    );
    assert!(!show.contains('\u{202e}'), "{show:?}");
    assert!(
        show.contains("\\x1b]0;owned\\x07\\x1b[2J\\u{202e}gnp.exe"),
        "{show}"
    );
    assert!(show.contains("\\x1b[31mred\\x1b[0m\\x0dover"), "{show}");
}

/// The operator commands that wrote events 48 to 79 of the v1 fixture
/// journal (`tests/fixtures/journal/v1/`), in order; events 1 to 47 are
/// what `watch --from-start` recorded over the demo's logs.
const V1_COMMANDS: &[&[&str]] = &[
    &[
        "incident",
        "declare",
        "--title",
        "Checkout page slow",
        "--severity",
        "medium",
        "--at",
        "2026-11-21T03:08:00Z",
    ],
    &[
        "incident",
        "ack",
        "--incident",
        "INC-1",
        "--at",
        "2026-11-21T03:09:12Z",
    ],
    &[
        "incident",
        "note",
        "--incident",
        "INC-1",
        "pool at 20/20, threads waiting",
        "--at",
        "2026-11-21T03:09:40Z",
        "--actor",
        "bob",
    ],
    &[
        "incident",
        "step",
        "--incident",
        "INC-1",
        "postgres-connections",
        "who-holds-slots",
        "started",
        "--at",
        "2026-11-21T03:09:50Z",
    ],
    &[
        "incident",
        "step",
        "--incident",
        "INC-1",
        "postgres-connections",
        "who-holds-slots",
        "done",
        "--note",
        "62 sessions idle in transaction",
        "--at",
        "2026-11-21T03:10:05Z",
    ],
    &[
        "incident",
        "step",
        "--incident",
        "INC-1",
        "postgres-connections",
        "stop-offender",
        "skipped",
        "--note",
        "reporting job already gone",
        "--at",
        "2026-11-21T03:12:40Z",
        "--actor",
        "bob",
    ],
    &[
        "incident",
        "severity",
        "--incident",
        "INC-1",
        "high",
        "--at",
        "2026-11-21T03:13:00Z",
    ],
    &[
        "incident",
        "status",
        "--incident",
        "INC-1",
        "mitigated",
        "--note",
        "failed over to replica",
        "--at",
        "2026-11-21T03:15:10Z",
    ],
    &["incident", "pin", "--incident", "INC-1", "12"],
    &["incident", "pin", "--incident", "INC-1", "12", "--unpin"],
    &["incident", "pin", "--incident", "INC-1", "7"],
    &[
        "incident",
        "set-time",
        "--incident",
        "INC-1",
        "1",
        "2026-11-21 03:06:30",
    ],
    &[
        "incident",
        "milestone",
        "--incident",
        "INC-1",
        "started",
        "2026-11-21T03:04:00Z",
    ],
    &[
        "incident",
        "status",
        "--incident",
        "INC-1",
        "investigating",
        "--note",
        "errors back",
        "--at",
        "2026-11-21T03:16:00Z",
    ],
    &[
        "incident",
        "split",
        "--incident",
        "INC-1",
        "linux-oom-killer",
        "systemd-unit-failed",
        "--title",
        "orders killed by the OOM killer",
    ],
    &["incident", "merge", "INC-2", "--into", "INC-1"],
    &[
        "incident",
        "status",
        "--incident",
        "INC-1",
        "resolved",
        "--at",
        "2026-11-21T03:21:00Z",
    ],
    &[
        "incident",
        "status",
        "--incident",
        "INC-3",
        "resolved",
        "--at",
        "2026-11-21T03:22:00Z",
    ],
    &["export", "--incident", "INC-1", "--format", "md"],
    &["export", "--incident", "INC-1", "--format", "json"],
    &["export", "--incident", "INC-3", "--format", "csv"],
    &[
        "export",
        "--incident",
        "INC-3",
        "--format",
        "html",
        "-o",
        "out.html",
    ],
];

#[test]
fn operator_commands_write_the_same_events_as_the_build_before_typed_payloads() {
    let fixture =
        fs::read_to_string(crate::harness::fixture("journal/v1/journal.jsonl")).expect("fixture");
    let lines: Vec<serde_json::Value> = fixture
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let automatic = lines
        .iter()
        .position(|l| l["actor"] != "triage")
        .expect("operator events follow");
    // The automatic part, without its head (a journal with no head file is
    // one from before heads were recorded: it takes new events).
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    fs::create_dir(d.join(".triage")).expect("data dir");
    let prefix: String = fixture
        .lines()
        .take(automatic)
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(d.join(".triage/journal.jsonl"), prefix).expect("prefix");
    for args in V1_COMMANDS {
        let mut args = args.to_vec();
        if !args.contains(&"--actor") {
            args.extend(["--actor", "alice"]);
        }
        run(d, &args).code(0);
    }
    run(d, &["incident", "verify"]).code(0);
    let written: Vec<serde_json::Value> = journal_lines(d)
        .iter()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(written.len(), lines.len());
    for (now, before) in written.iter().zip(&lines).skip(automatic) {
        let seq = &before["seq"];
        for field in [
            "seq",
            "incident",
            "kind",
            "actor",
            "occurred_at_source",
            "evidence",
            "pinned",
        ] {
            assert_eq!(now[field], before[field], "event {seq}: {field}");
        }
        // What the clock decides (the time of clock-timed events, an
        // export's bytes, which hold their generation time) differs; the
        // rest is the same, keys in the same order.
        if before["occurred_at_source"] != "clock" {
            assert_eq!(now["occurred_at"], before["occurred_at"], "event {seq}");
        }
        let details = |event: &serde_json::Value| {
            let mut details = event["details"].as_object().expect("details").clone();
            if event["kind"] == "export.generated" {
                details.remove("bytes");
                details.remove("sha256");
            }
            serde_json::to_string(&details).expect("json")
        };
        assert_eq!(details(now), details(before), "event {seq}: details");
        if before["kind"] != "export.generated" {
            assert_eq!(now["summary"], before["summary"], "event {seq}: summary");
        }
    }
}
