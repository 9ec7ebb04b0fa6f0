//! `triage export`: the demo incident worked from the shell and exported in
//! every format with the right TTx figures; JSON read back; hostile log lines
//! and notes that cannot change any format's structure.

use std::{fs, path::Path};

use pulldown_cmark::{Event as Md, Options, Parser, Tag, TagEnd};
use serde_json::Value;
use triage::export::report::Postmortem;

use crate::incident::{record_demo, record_with, run};

/// The shell work on the demo incident: ack, two steps, a note, mitigated,
/// resolved.
fn work_the_demo(d: &Path) {
    for args in [
        &[
            "incident",
            "ack",
            "--at",
            "2026-11-21T03:09:12Z",
            "--actor",
            "alice",
        ][..],
        &[
            "incident",
            "step",
            "postgres-connections",
            "who-holds-slots",
            "done",
            "--note",
            "62 sessions idle in transaction, role reporting",
            "--at",
            "2026-11-21T03:10:05Z",
            "--actor",
            "alice",
        ],
        &[
            "incident",
            "step",
            "postgres-connections",
            "stop-offender",
            "done",
            "--at",
            "2026-11-21T03:12:40Z",
            "--actor",
            "bob",
        ],
        &[
            "incident",
            "note",
            "orders restarted by systemd after the OOM kill",
            "--at",
            "2026-11-21T03:14:30Z",
            "--actor",
            "bob",
        ],
        &[
            "incident",
            "status",
            "mitigated",
            "--at",
            "2026-11-21T03:15:10Z",
            "--actor",
            "alice",
        ],
        &[
            "incident",
            "status",
            "resolved",
            "--at",
            "2026-11-21T03:21:00Z",
            "--actor",
            "alice",
        ],
    ] {
        run(d, args).code(0);
    }
}

/// RFC 4180 records (CRLF between records, quotes doubled inside quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => {
                assert!(c != '\n' && c != '\r', "a bare line break outside quotes");
                cell.push(c);
            }
        }
    }
    assert!(
        cell.is_empty() && row.is_empty(),
        "the last record ends with CRLF"
    );
    rows
}

/// What a CommonMark + GFM reader makes of a Markdown export.
struct Parsed {
    headings: Vec<String>,
    code_blocks: Vec<String>,
    /// (cells in the header, cells in each body row)
    tables: Vec<(usize, Vec<usize>)>,
    emphasised: Vec<String>,
    forbidden: Vec<String>,
}

fn parse_markdown(text: &str) -> Parsed {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_MATH
        | Options::ENABLE_GFM;
    let mut parsed = Parsed {
        headings: Vec::new(),
        code_blocks: Vec::new(),
        tables: Vec::new(),
        emphasised: Vec::new(),
        forbidden: Vec::new(),
    };
    let (mut in_heading, mut in_code, mut emphasis) = (false, false, 0);
    let mut cells = 0;
    for event in Parser::new_ext(text, options) {
        match event {
            Md::Start(Tag::Heading { .. }) => {
                in_heading = true;
                parsed.headings.push(String::new());
            }
            Md::End(TagEnd::Heading(_)) => in_heading = false,
            Md::Start(Tag::CodeBlock(_)) => {
                in_code = true;
                parsed.code_blocks.push(String::new());
            }
            Md::End(TagEnd::CodeBlock) => in_code = false,
            Md::Start(Tag::Emphasis | Tag::Strong) => emphasis += 1,
            Md::End(TagEnd::Emphasis | TagEnd::Strong) => emphasis -= 1,
            Md::Start(Tag::Table(_)) => parsed.tables.push((0, Vec::new())),
            Md::Start(Tag::TableHead | Tag::TableRow) => cells = 0,
            Md::Start(Tag::TableCell) => cells += 1,
            Md::End(TagEnd::TableHead) => {
                if let Some(table) = parsed.tables.last_mut() {
                    table.0 = cells;
                }
            }
            Md::End(TagEnd::TableRow) => {
                if let Some(table) = parsed.tables.last_mut() {
                    table.1.push(cells);
                }
            }
            Md::Text(text) | Md::Code(text) => {
                if in_heading && let Some(h) = parsed.headings.last_mut() {
                    h.push_str(&text);
                }
                if in_code && let Some(c) = parsed.code_blocks.last_mut() {
                    c.push_str(&text);
                }
                if emphasis > 0 {
                    parsed.emphasised.push(text.to_string());
                }
            }
            Md::Html(html) | Md::InlineHtml(html) => parsed.forbidden.push(format!("html {html}")),
            Md::InlineMath(m) | Md::DisplayMath(m) => parsed.forbidden.push(format!("math {m}")),
            Md::Start(Tag::Link { dest_url, .. }) => {
                parsed.forbidden.push(format!("link {dest_url}"));
            }
            Md::Start(Tag::Image { dest_url, .. }) => {
                parsed.forbidden.push(format!("image {dest_url}"));
            }
            Md::Start(Tag::Strikethrough) => parsed.forbidden.push("strikethrough".into()),
            Md::Start(Tag::List(_)) | Md::Start(Tag::Item) | Md::End(_) => {}
            _ => {}
        }
    }
    parsed
}

const SECTIONS: [&str; 12] = [
    "Summary",
    "Impact",
    "Key timestamps",
    "Detection",
    "Timeline",
    "Response",
    "Signatures fired",
    "Trigger and root causes",
    "Action items",
    "Lessons learned",
    "What was new in the logs",
    "Supporting log excerpts",
];

#[test]
fn the_demo_postmortem_has_everything_in_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    record_demo(d);
    work_the_demo(d);

    // Markdown, to stdout.
    let md = run(d, &["export"]).code(0).stdout;
    for expected in [
        "# Postmortem: PostgreSQL connection slots exhausted (INC-1)",
        "| Status | resolved |",
        "| Severity | critical |",
        "| Responders | alice, bob |",
        "| Started | 2026-11-21 03:04:31.474 | triage (proposed) | first matching line of postgres-slow-statement — `",
        "| Acknowledged | 2026-11-21 03:09:12 | alice |",
        "| Mitigated | 2026-11-21 03:15:10 | alice |",
        "| Resolved | 2026-11-21 03:21:00 | alice |",
        "| TTD | 1m 35s | time to detect (detected − started) |",
        "| TTA | 3m 06s |",
        "| TTM | 10m 39s |",
        "| TTR | 16m 29s |",
        "postgresql/postgresql.log:139`, **1m 35s** after the first matching line (2026-11-21 03:04:31.474).",
        "- 2026-11-21 03:05:30.333 `jdbc-pool-saturated` (low): Early warning: JDBC connection pool saturated",
        "| 2026-11-21 03:14:30 | ",
        "| bob | `note` orders restarted by systemd after the OOM kill |",
        "| 1 | See which clients hold the slots `who-holds-slots` | diagnose | done | alice | 2026-11-21 03:10:05 | 62 sessions idle in transaction, role reporting |",
        "| 4 | Stop the client that took the slots, at its source `stop-offender` | mitigate | done | bob | 2026-11-21 03:12:40 |  |",
        "| `postgres-connection-slots-exhausted` | critical | 2026-11-21 03:06:06.071 | 2026-11-21 03:13:57.737 | 2026-11-21 03:18:57.737 | 2 | 68 |",
        "```text\n2026-11-21 03:06:06.071 UTC [56608] FATAL:  remaining connection slots are reserved for non-replication superuser connections\n```",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in\n{md}");
    }
    let parsed = parse_markdown(&md);
    assert!(parsed.forbidden.is_empty(), "{:?}", parsed.forbidden);
    let mut headings: Vec<&str> = parsed.headings.iter().map(String::as_str).skip(1).collect();
    headings.retain(|h| SECTIONS.contains(h));
    assert_eq!(headings, SECTIONS, "{:?}", parsed.headings);
    assert_eq!(md.matches("**To be written:**").count(), 5);

    // JSON, to a file: complete, and it reads back.
    run(
        d,
        &[
            "export", "--format", "json", "-o", "pm.json", "--actor", "carol",
        ],
    )
    .code(0);
    let text = fs::read_to_string(d.join("pm.json")).expect("written");
    let pm: Postmortem = serde_json::from_str(&text).expect("reads back as a postmortem");
    assert_eq!(
        serde_json::to_string_pretty(&pm).expect("serializes") + "\n",
        text
    );
    let millis: Vec<Option<i64>> = pm.metrics.iter().map(|m| m.millis).collect();
    assert_eq!(
        millis,
        [Some(94_597), Some(185_929), Some(638_526), Some(988_526)]
    );
    assert_eq!(
        pm.incident.responders,
        ["alice", "bob"],
        "exporting is not responding"
    );
    assert!(
        pm.events.iter().all(|e| e.hash_is_valid()),
        "events verbatim"
    );
    assert_eq!(pm.events.len(), pm.timeline.len());
    assert!(
        pm.timeline
            .iter()
            .any(|r| r.summary == "orders restarted by systemd after the OOM kill")
    );
    let book = pm
        .runbooks
        .iter()
        .find(|b| b.id == "postgres-connections")
        .expect("runbook");
    let done: Vec<(&str, Option<&str>)> = book
        .steps
        .iter()
        .filter(|s| s.state.is_some())
        .map(|s| (s.id.as_str(), s.actor.as_deref()))
        .collect();
    assert_eq!(
        done,
        [
            ("who-holds-slots", Some("alice")),
            ("stop-offender", Some("bob"))
        ]
    );
    let raw: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(raw["format"], "triage-postmortem");

    // CSV: the timeline, every event (the JSON export's own event too).
    let csv = run(d, &["export", "--format", "csv"]).code(0).stdout;
    let rows = parse_csv(&csv);
    assert_eq!(rows[0][0], "time (UTC)");
    assert!(
        rows.iter().all(|r| r.len() == 18),
        "18 fields in every record"
    );
    // The journal's head at export, on every record.
    assert_eq!(rows[0][16..], ["journal_head_seq", "journal_head_sha256"]);
    let last_seq = rows[1..]
        .iter()
        .filter_map(|r| r[2].parse::<u64>().ok())
        .max()
        .expect("events");
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[16] == last_seq.to_string() && r[17].len() == 64 && r[17] == rows[1][17]),
        "{rows:?}"
    );
    assert_eq!(rows.len() - 1, pm.events.len() + 1);
    assert!(rows.iter().any(|r| r[5] == "note" && r[4] == "bob"));
    assert_eq!(rows.iter().filter(|r| r[5] == "step.done").count(), 2);
    assert!(
        rows.iter()
            .any(|r| r[5] == "export.generated" && r[4] == "carol")
    );

    // HTML: one self-contained file.
    run(d, &["export", "--format", "html", "-o", "pm.html"]).code(0);
    let html = fs::read_to_string(d.join("pm.html")).expect("written");
    for expected in [
        "<!DOCTYPE html>",
        "Content-Security-Policy",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"",
        "<td>TTD</td><td class=\"num\">1m 35s</td>",
        "<td>TTR</td><td class=\"num\">16m 29s</td>",
        "orders restarted by systemd after the OOM kill",
        "<code>who-holds-slots</code>",
        ">postgres-connection-slots-exhausted</text>",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    let lower = html.to_lowercase();
    for forbidden in [
        "<script", "src=", "href=", "url(", "@import", "<link", "<iframe",
    ] {
        assert!(!lower.contains(forbidden), "{forbidden} in the page");
    }

    // Another zone for people elsewhere.
    let paris = run(d, &["export", "--tz", "Europe/Paris"]).code(0).stdout;
    assert!(paris.contains("Times are in Europe/Paris"));
    assert!(
        paris.contains("| Started | 2026-11-21 04:04:31.474 |"),
        "{paris}"
    );
    let err = run(d, &["export", "--tz", "Mars/Olympus"]).code(2).stderr;
    assert!(err.contains("unknown time zone `Mars/Olympus`"), "{err}");

    // The record holds; one changed byte breaks it.
    run(d, &["incident", "verify"]).code(0);
    let path = d.join(".triage/journal.jsonl");
    let mut bytes = fs::read(&path).expect("reads");
    let at = bytes
        .windows(20)
        .position(|w| w == b"restarted by systemd")
        .expect("the note is there");
    bytes[at] = b'0';
    fs::write(&path, bytes).expect("writes");
    let out = run(d, &["incident", "verify"]).code(1).stdout;
    assert!(
        out.contains("(note, id ") && out.contains("was altered"),
        "{out}"
    );
}

/// Log lines that try to escape each format. None contains a line break:
/// a log line cannot (notes can, and are tested below).
const HOSTILE: &[&str] = &[
    "**bold** _em_ [link](http://evil.example) ![img](http://evil.example/x.png) <b>raw</b>",
    "<script>alert('xss')</script><img src=x onerror=alert(1)>",
    "```` # not a heading ~~~ </pre></code>",
    "| injected | cells | `tick",
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\u{1b}]0;owned\u{7}\u{1b}[2J $x^2$ @alice &amp; ~~gone~~",
];

#[test]
fn hostile_log_lines_and_notes_cannot_change_any_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // A file name with markup in it, too.
    let log = d.join("db `x` |y| <i>.log");
    let mut text = String::new();
    for (i, line) in HOSTILE.iter().enumerate() {
        // Each 11 minutes after the last, so each fires anew; the hostile
        // line itself has no timestamp and takes the one before it (read
        // with `multiline = "off"`, it is an event of its own).
        text.push_str(&format!(
            "2026-11-21 {:02}:{:02}:00.000 UTC [1] LOG:  checkpoint\n",
            3 + i * 11 / 60,
            i * 11 % 60
        ));
        text.push_str(&format!("{line} FATAL:  sorry, too many clients already\n"));
    }
    fs::write(&log, text).expect("writes");
    let toml = d.join("triage.toml");
    let source = format!(
        "[[source]]\nname = 'db'\npaths = ['{}']\nmultiline = 'off'\n",
        log.display()
    );
    fs::write(&toml, source).expect("writes");
    let config = triage::config::Config::load(Some(&toml)).expect("valid config");
    record_with(
        &[log],
        &d.join(".triage"),
        "2026-11-22T00:00:00Z".parse().expect("time"),
        &config,
    );
    let journal = fs::read_to_string(d.join(".triage/journal.jsonl")).expect("journal");
    let fired: Vec<u64> = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .filter(|e| e["kind"] == "signature.fired")
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(fired.len(), HOSTILE.len(), "each hostile line fired");
    for seq in &fired[1..] {
        run(
            d,
            &["incident", "pin", &seq.to_string(), "--actor", "alice"],
        )
        .code(0);
    }
    let note = "line one\nline two\r\n# heading | cell |\n<script>alert(1)</script>\n```\n=1+1";
    run(
        d,
        &["incident", "note", note, "--actor", "=cmd|' /C calc'!A0"],
    )
    .code(0);

    // Markdown: parsed by a CommonMark + GFM reader, nothing but our own
    // structure comes out.
    let md = run(d, &["export"]).code(0).stdout;
    let parsed = parse_markdown(&md);
    assert!(parsed.forbidden.is_empty(), "{:?}", parsed.forbidden);
    let ours: Vec<&str> = parsed.headings.iter().map(String::as_str).skip(1).collect();
    assert!(
        ours.iter()
            .all(|h| SECTIONS.contains(h) || h.contains("— postgres-connections")),
        "{ours:?}"
    );
    assert!(parsed.headings[0].starts_with("Postmortem: "));
    for (head, rows) in &parsed.tables {
        assert!(
            rows.iter().all(|cells| cells == head),
            "{head} cells: {rows:?}"
        );
    }
    for text in &parsed.emphasised {
        assert!(!text.contains("bold") && !text.contains("gone"), "{text}");
    }
    assert_eq!(
        parsed.code_blocks.len(),
        HOSTILE.len(),
        "one fenced excerpt per pinned line"
    );
    for (block, line) in parsed.code_blocks.iter().zip(HOSTILE) {
        let expected = format!(
            "{} FATAL:  sorry, too many clients already\n",
            triage::sanitize::for_terminal(line)
        );
        assert_eq!(
            block, &expected,
            "the fence holds the whole line, and only it"
        );
    }

    // HTML: no markup from the logs.
    let html = run(d, &["export", "--format", "html"]).code(0).stdout;
    let lower = html.to_lowercase();
    for forbidden in ["<script", "<img", "<b>", "<i>", "</pre></code>", "\u{1b}"] {
        assert!(!lower.contains(forbidden), "{forbidden:?} in the page");
    }
    assert!(html.contains("&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;"));
    assert!(html.contains("db `x` |y| &lt;i&gt;.log"));

    // CSV: the right number of fields, and no cell a spreadsheet would run.
    let csv = run(d, &["export", "--format", "csv"]).code(0).stdout;
    let rows = parse_csv(&csv);
    assert!(rows.iter().all(|r| r.len() == 18));
    for row in &rows {
        for cell in row {
            assert!(
                !cell
                    .trim_start_matches(' ')
                    .starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula-like cell {cell:?}"
            );
        }
    }
    let lines: Vec<&String> = rows
        .iter()
        .filter(|r| r[5] == "signature.fired")
        .map(|r| &r[10])
        .collect();
    assert!(
        lines.iter().any(|l| l.starts_with("'=HYPERLINK(")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("'\t=1+1")), "{lines:?}");
    let note_row = rows.iter().find(|r| r[5] == "note").expect("the note");
    assert!(
        note_row[4].starts_with("'=cmd"),
        "the actor cell too: {:?}",
        note_row[4]
    );
    assert!(
        note_row[6].starts_with("line one\\x0aline two"),
        "{:?}",
        note_row[6]
    );
}

/// Runs `triage watch` over the demo's logs (in `d/logs`, data in
/// `d/.triage`) until its alerts stop coming, then stops it with SIGTERM.
fn watch_the_demo(d: &Path) {
    let start = triage::demo::default_start();
    triage::demo::write_all(&d.join("logs"), 1, start).expect("demo written");
    // The whole demo is on disk already: once alerts stop, it is read.
    let alerts = crate::harness::watch_until_quiet(
        d,
        &["--from-start", "--json", "logs/*/*.log"],
        1,
        std::time::Duration::from_millis(1500),
    );
    assert!(alerts[0].starts_with('{'));
}

#[test]
fn watch_opens_the_incident_that_the_shell_works_and_every_format_exports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    watch_the_demo(d);
    let list = run(d, &["incident", "list"]).code(0);
    assert!(list.stdout.contains("INC-1"), "{}", list.stdout);
    work_the_demo(d);

    let json: Value = serde_json::from_str(&run(d, &["export", "--format", "json"]).code(0).stdout)
        .expect("JSON export");
    let at = |name: &str| {
        let milestone = json["milestones"]
            .as_array()
            .expect("milestones")
            .iter()
            .find(|m| m["milestone"] == name)
            .expect("milestone");
        milestone["at"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .unwrap_or_else(|| panic!("{name} not set: {milestone}"))
    };
    assert_eq!(at("acknowledged").to_string(), "2026-11-21T03:09:12Z");
    assert_eq!(at("mitigated").to_string(), "2026-11-21T03:15:10Z");
    assert_eq!(at("resolved").to_string(), "2026-11-21T03:21:00Z");
    // Detection came from the logs: a demo line, before the operator acked.
    assert!(at("started") <= at("detected") && at("detected") < at("acknowledged"));
    let metric = |name: &str| {
        json["metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .find(|m| m["name"] == name)
            .and_then(|m| m["millis"].as_i64())
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let ms = |a: jiff::Timestamp, b: jiff::Timestamp| a.duration_since(b).as_millis() as i64;
    assert_eq!(metric("TTD"), ms(at("detected"), at("started")));
    assert_eq!(metric("TTA"), ms(at("acknowledged"), at("detected")));
    assert_eq!(metric("TTM"), ms(at("mitigated"), at("started")));
    assert_eq!(metric("TTR"), ms(at("resolved"), at("started")));

    let markdown = run(d, &["export"]).code(0).stdout;
    let csv = run(d, &["export", "--format", "csv"]).code(0).stdout;
    let html = run(d, &["export", "--format", "html"]).code(0).stdout;
    for (format, text) in [("md", &markdown), ("csv", &csv), ("html", &html)] {
        for needle in [
            "who-holds-slots",
            "stop-offender",
            "orders restarted by systemd after the OOM kill",
            "alice",
            "bob",
        ] {
            assert!(text.contains(needle), "{format} export lacks {needle:?}");
        }
    }
    run(d, &["incident", "verify"]).code(0);
    let journal = d.join(".triage/journal.jsonl");
    let mut bytes = fs::read(&journal).expect("journal");
    let at_byte = bytes.len() / 2;
    bytes[at_byte] = if bytes[at_byte] == b'a' { b'b' } else { b'a' };
    fs::write(&journal, bytes).expect("tamper");
    run(d, &["incident", "verify"]).code(1);
}

/// The journal `tests/fixtures/journal/v1/` was written by the binary before
/// journal payloads became typed (`triage watch --from-start` over the
/// demo's logs, then every operator command and every export format: all
/// eighteen event kinds). What it renders to was captured then, in
/// `expected/`, with the generation time (the only part that depends on
/// when the export runs) written as `<GENERATED>`. Set
/// `TRIAGE_BLESS_JOURNAL_FIXTURE=1` to capture it again (only when a
/// rendering is meant to change).
const JOURNAL_V1: &str = "journal/v1";

/// One `triage` run on a fresh copy of the v1 journal (an export appends
/// its `export.generated` event, which must not reach the next run).
fn on_journal_v1(args: &[&str]) -> crate::harness::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join(".triage");
    fs::create_dir(&data).expect("data dir");
    for file in ["journal.jsonl", "journal.head"] {
        fs::copy(
            crate::harness::fixture(JOURNAL_V1).join(file),
            data.join(file),
        )
        .expect("fixture copied");
    }
    run(dir.path(), args)
}

/// `text` with the generation time of an export replaced by `<GENERATED>`.
fn without_generation_time(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let marker = ["from the incident journal on ", "\"generated_at\": \""]
            .into_iter()
            .find_map(|m| line.find(m).map(|at| at + m.len()));
        match marker {
            Some(start) => {
                let rest = &line[start..];
                let end = rest.find([' ', '"', '<']).map_or(rest.len(), |first| {
                    // A rendered time is `YYYY-MM-DD HH:MM:SS[.fff]`: its
                    // second space ends it.
                    if rest.as_bytes()[first] == b' ' {
                        rest[first + 1..]
                            .find([' ', '<'])
                            .map_or(rest.len(), |second| first + 1 + second)
                    } else {
                        first
                    }
                });
                out.push_str(&line[..start]);
                out.push_str("<GENERATED>");
                out.push_str(&rest[end..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

#[test]
fn a_journal_written_before_typed_payloads_reads_verifies_and_renders_the_same() {
    let verified = on_journal_v1(&["incident", "verify"]).code(0).stdout;
    assert!(
        verified.contains("79 events, hash chain intact"),
        "{verified}"
    );
    let bless = std::env::var_os("TRIAGE_BLESS_JOURNAL_FIXTURE").is_some();
    let expected_dir = crate::harness::fixture(JOURNAL_V1).join("expected");
    let cases: [(&str, &[&str]); 12] = [
        ("verify.txt", &["incident", "verify"]),
        ("show-INC-1.txt", &["incident", "show", "INC-1"]),
        ("show-INC-3.txt", &["incident", "show", "INC-3"]),
        (
            "INC-1.md",
            &["export", "--incident", "INC-1", "--actor", "carol"],
        ),
        (
            "INC-1.json",
            &[
                "export",
                "--incident",
                "INC-1",
                "--format",
                "json",
                "--actor",
                "carol",
            ],
        ),
        (
            "INC-1.csv",
            &[
                "export",
                "--incident",
                "INC-1",
                "--format",
                "csv",
                "--actor",
                "carol",
            ],
        ),
        (
            "INC-1.html",
            &[
                "export",
                "--incident",
                "INC-1",
                "--format",
                "html",
                "--actor",
                "carol",
            ],
        ),
        (
            "INC-3.md",
            &[
                "export",
                "--incident",
                "INC-3",
                "--tz",
                "Europe/Paris",
                "--actor",
                "carol",
            ],
        ),
        (
            "INC-3.html",
            &[
                "export",
                "--incident",
                "INC-3",
                "--format",
                "html",
                "--tz",
                "Asia/Kolkata",
                "--actor",
                "carol",
            ],
        ),
        (
            "INC-2.md",
            &["export", "--incident", "INC-2", "--actor", "carol"],
        ),
        (
            "INC-2.html",
            &[
                "export",
                "--incident",
                "INC-2",
                "--format",
                "html",
                "--actor",
                "carol",
            ],
        ),
        (
            "INC-2.csv",
            &[
                "export",
                "--incident",
                "INC-2",
                "--format",
                "csv",
                "--actor",
                "carol",
            ],
        ),
    ];
    for (name, args) in cases {
        // INC-2 was merged into INC-1: its duration ends at the merge, not
        // with the clock (it ran on before).
        let got = without_generation_time(&on_journal_v1(args).code(0).stdout);
        let path = expected_dir.join(name);
        if bless {
            fs::create_dir_all(&expected_dir).expect("expected dir");
            fs::write(&path, &got).expect("blessed");
            continue;
        }
        let want = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(g, w)| g != w)
                .unwrap_or(got.lines().count().min(want.lines().count()));
            panic!(
                "triage {args:?} differs from {} at line {}:\n got: {:?}\nwant: {:?}",
                path.display(),
                line + 1,
                got.lines().nth(line),
                want.lines().nth(line)
            );
        }
    }
}

/// Issue 16 item 7 in every document format: a problem no signature knows,
/// first seen during the incident, is in "What was new in the logs" with
/// its first line — escaped in the page (a line holding `<script>` and `&`
/// is text, not markup) — and in the JSON export's `new_in_logs`.
#[test]
fn what_was_new_in_the_logs_is_in_markdown_html_and_json_with_the_line_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let line = "2026-11-21 03:00:00,000 FATAL [main] org.example.Probe: \
                <script>alert(1)</script> & <b>probe</b> failed";
    fs::write(
        d.join("app.log"),
        format!("2026-11-21 02:59:00,000 INFO [main] org.example.Probe: started\n{line}\n"),
    )
    .expect("writes");
    let alerts = crate::harness::watch_until_quiet(d, &["--from-start", "--json", "app.log"], 1, {
        std::time::Duration::from_millis(1500)
    });
    let fired: Vec<Value> = alerts
        .iter()
        .map(|l| serde_json::from_str(l).expect("json alert"))
        .collect();
    let new = fired
        .iter()
        .find(|a| a["signature"] == "new-fatal-problem")
        .unwrap_or_else(|| panic!("no new-fatal-problem alert: {alerts:?}"));
    let template = new["captures"]["template"].as_str().expect("template id");

    let json: Value = serde_json::from_str(&run(d, &["export", "--format", "json"]).code(0).stdout)
        .expect("JSON export");
    let items = json["new_in_logs"].as_array().expect("new_in_logs");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["template"], template);
    assert_eq!(items[0]["signature"], "new-fatal-problem");
    assert_eq!(items[0]["evidence"]["line"], line);
    assert_eq!(items[0]["evidence"]["line_no"], 2);

    let md = run(d, &["export"]).code(0).stdout;
    let section = md
        .split("## What was new in the logs\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_else(|| panic!("no section in\n{md}"));
    assert!(
        section.contains(&format!("template `{template}`")),
        "{section}"
    );
    assert!(
        section.contains(&format!("```text\n{line}\n```")),
        "{section}"
    );
    assert!(section.contains("app.log:2"), "{section}");

    let html = run(d, &["export", "--format", "html"]).code(0).stdout;
    let section = html
        .split("<h2>What was new in the logs</h2>\n")
        .nth(1)
        .and_then(|rest| rest.split("<h2>").next())
        .unwrap_or_else(|| panic!("no section in\n{html}"));
    assert!(
        section.contains(&format!("template <code>{template}</code>")),
        "{section}"
    );
    assert!(section.contains("app.log:2</code>"), "{section}");
    assert!(
        section.contains(
            "<pre>2026-11-21 03:00:00,000 FATAL [main] org.example.Probe: \
             &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;probe&lt;/b&gt; failed</pre>"
        ),
        "{section}"
    );
    let lower = html.to_lowercase();
    for forbidden in ["<script", "<b>", " & "] {
        assert!(!lower.contains(forbidden), "{forbidden:?} in the page");
    }
}
