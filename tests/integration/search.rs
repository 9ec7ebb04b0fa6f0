//! `triage search` end to end: counts checked against an independent scanner
//! on real logs (`../shared/data/`), and every option on a small corpus
//! whose answers are known.

use std::{fs, path::Path};

use crate::harness::{Triage, shared_data};

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

/// The words of a line as the reference sees them: runs of letters and
/// digits, lowercased (written here from the definition, not from the
/// index's tokenizer).
fn words(line: &str) -> Vec<String> {
    line.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Lines holding the words of `phrase` one after the other.
fn reference_count(lines: &[Vec<String>], phrase: &str) -> u64 {
    let wanted = words(phrase);
    lines
        .iter()
        .filter(|line| line.windows(wanted.len()).any(|w| w == wanted.as_slice()))
        .count() as u64
}

/// For a set of words and phrases, `search --count` equals what an
/// independent scanner finds in the raw file (the `rg -c -w -i` of each).
#[test]
fn counts_equal_an_independent_scanner_on_real_logs() {
    let Some(access) = shared_data("apache-access/access.log") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    triage(&data).arg("ingest").arg(&access).run().code(0);
    let text = String::from_utf8_lossy(&fs::read(&access).expect("read")).into_owned();
    let lines: Vec<Vec<String>> = text.lines().map(words).collect();
    assert_eq!(count(&data, &["*"]), lines.len() as u64);
    let probes = [
        "GET",
        "post",
        "Mozilla",
        "404",
        "googlebot",
        "windows",
        "favicon",
        "HTTP",
        "semicomplete",
        "nonexistentword",
        "\"Windows NT 6.1\"",
        "\"GET /favicon.ico\"",
        "\"Intel Mac OS X\"",
    ];
    for probe in probes {
        let phrase = probe.trim_matches('"');
        assert_eq!(
            count(&data, &["--", probe]),
            reference_count(&lines, phrase),
            "search --count {probe}"
        );
    }
    // Booleans, against the same reference.
    let both = lines
        .iter()
        .filter(|l| l.iter().any(|w| w == "get") && !l.iter().any(|w| w == "200"))
        .count() as u64;
    assert_eq!(count(&data, &["GET AND NOT 200"]), both);
    assert_eq!(count(&data, &["GET -200"]), both);
    let either = lines
        .iter()
        .filter(|l| l.iter().any(|w| w == "favicon" || w == "robots"))
        .count() as u64;
    assert_eq!(count(&data, &["favicon OR robots"]), either);
    // A regex on the line.
    let regex = regex::Regex::new(r"\s50[0-9]\s").expect("regex");
    let expected = text.lines().filter(|l| regex.is_match(l)).count() as u64;
    assert_eq!(count(&data, &["-e", r"\s50[0-9]\s", "*"]), expected);
}

/// Two files whose lines interleave in time, with known levels, a
/// signature's bait, an identifier longer than 40 bytes and a time gap.
fn corpus(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let a = dir.join("api.log");
    let b = dir.join("db.log");
    let mut api = String::new();
    let mut db = String::new();
    for i in 0..30 {
        let level = ["INFO", "WARN", "ERROR"][i % 3];
        api.push_str(&format!(
            "2026-11-21T03:{:02}:00Z {level} api request {i} took {}ms\n",
            i,
            i * 10
        ));
        db.push_str(&format!(
            "2026-11-21T03:{:02}:30Z INFO db checkpoint {i} complete\n",
            i
        ));
    }
    // Same time in both files: file order decides.
    api.push_str("2026-11-21T04:00:00Z INFO same-time api\n");
    db.push_str("2026-11-21T04:00:00Z INFO same-time db\n");
    db.push_str("2026-11-21 04:01:00.000 UTC [42415] FATAL:  sorry, too many clients already\n");
    api.push_str(
        "2026-11-21T04:02:00Z ERROR upload failed sha256 \
         9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 trace \
         4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7\n",
    );
    fs::write(&a, api).expect("write");
    fs::write(&b, db).expect("write");
    (a, b)
}

#[test]
fn filters_order_limit_context_histogram_and_json() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (api, db) = corpus(tmp.path());
    let data = tmp.path().join("data");
    triage(&data).arg("ingest").arg(&api).arg(&db).run().code(0);
    assert_eq!(count(&data, &["*"]), 64);

    // Time ranges: since inclusive, until exclusive.
    assert_eq!(
        count(
            &data,
            &[
                "--since",
                "2026-11-21T03:10:00Z",
                "--until",
                "2026-11-21T03:20:00Z",
                "request"
            ]
        ),
        10
    );
    assert_eq!(count(&data, &["--since", "2026-11-21 03:29", "api"]), 2);
    // Relative times: everything is long ago.
    assert_eq!(count(&data, &["--since", "2h", "*"]), 0);
    assert_eq!(count(&data, &["--until", "1h", "*"]), 64);

    // Levels: this level or worse; level:NAME in the query.
    assert_eq!(count(&data, &["--level", "error", "*"]), 10 + 1 + 1);
    assert_eq!(count(&data, &["level:WARN"]), 10);
    assert_eq!(
        count(&data, &["--level", "warn", "--source", "db.log", "*"]),
        1
    );

    // Sources by glob; signatures by id.
    assert_eq!(count(&data, &["--source", "*/api.log", "*"]), 32);
    assert_eq!(count(&data, &["--source", "db.*", "checkpoint"]), 30);
    assert_eq!(count(&data, &["--source", "nothing*", "*"]), 0);
    assert_eq!(
        count(
            &data,
            &["--signature", "postgres-connection-slots-exhausted", "*"]
        ),
        1
    );
    assert_eq!(
        count(&data, &["signature:postgres-connection-slots-exhausted"]),
        1
    );

    // Long identifiers stay searchable, whole.
    assert_eq!(
        count(
            &data,
            &["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
        ),
        1
    );
    assert_eq!(count(&data, &["4bf92f3577b34da6a3ce929d0e0e4736"]), 1);

    // Time then file order; --limit keeps the latest.
    let out = triage(&data)
        .args([
            "search",
            "--json",
            "--limit",
            "3",
            "same OR upload OR clients",
        ])
        .run()
        .code(0);
    let hits = out.json_lines();
    let text: Vec<&str> = hits
        .iter()
        .map(|h| h["line"].as_str().expect("line"))
        .collect();
    assert_eq!(hits.len(), 3);
    assert!(text[0].ends_with("same-time db") || text[0].ends_with("same-time api"));
    assert!(text[1].contains("too many clients"), "{text:?}");
    assert!(text[2].contains("upload failed"), "{text:?}");
    let out = triage(&data)
        .args(["search", "--json", "same"])
        .run()
        .code(0);
    let hits = out.json_lines();
    let first_api = api.display().to_string() < db.display().to_string();
    let order: Vec<bool> = hits
        .iter()
        .map(|h| h["source"].as_str().expect("source").ends_with("api.log"))
        .collect();
    assert_eq!(order.len(), 2);
    // Same time: file order (by identity) then offset; both present once.
    assert_ne!(order[0], order[1], "{first_api}");
    // JSON fields of design §3.
    let hit = &hits[0];
    for key in ["ts", "source", "line_no", "offset", "level", "line"] {
        assert!(hit.get(key).is_some(), "{key} missing: {hit}");
    }
    assert_eq!(hit["ts"], "2026-11-21T04:00:00Z");
    assert_eq!(hit["line_no"], 31);
    assert_eq!(hit["level"], "info");

    // Human output: time, source:line, level, line.
    let out = triage(&data).args(["search", "upload"]).run().code(0);
    assert!(
        out.stdout.starts_with("2026-11-21T04:02:00Z "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("api.log:32 error "), "{}", out.stdout);

    // Context, from the same file in file order.
    let out = triage(&data)
        .args(["search", "-C", "2", "--source", "api.log", "\"request 15\""])
        .run()
        .code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", out.stdout);
    assert!(lines[0].contains("api.log-14 ") && lines[0].contains("request 13 "));
    assert!(lines[2].contains("api.log:16 ") && lines[2].contains("request 15 "));
    assert!(lines[4].contains("api.log-18 ") && lines[4].contains("request 17 "));

    // Histogram per interval and level.
    let out = triage(&data)
        .args([
            "search",
            "--histogram",
            "10m",
            "--json",
            "--source",
            "api.log",
            "request",
        ])
        .run()
        .code(0);
    let buckets = out.json_lines();
    assert_eq!(buckets.len(), 3);
    assert_eq!(buckets[0]["start"], "2026-11-21T03:00:00Z");
    assert_eq!(buckets[0]["count"], 10);
    assert_eq!(buckets[0]["levels"]["error"], 3);
    assert_eq!(buckets[0]["levels"]["warn"], 3);
    assert_eq!(buckets[0]["levels"]["info"], 4);
    let out = triage(&data)
        .args(["search", "--histogram", "1h", "*"])
        .run()
        .code(0);
    let expected = format!(
        "2026-11-21T03:00:00Z  {:>8}  info=40 warn=10 error=10\n",
        60
    );
    assert!(out.stdout.starts_with(&expected), "{}", out.stdout);

    // Exit codes and errors.
    triage(&data).args(["search", "zebra"]).run().code(1);
    let out = triage(&data).args(["search", "(unclosed"]).run().code(2);
    assert!(
        out.stderr
            .starts_with("triage: query:1:1: this `(` is never closed\n  (unclosed\n  ^\n"),
        "{}",
        out.stderr
    );
    let out = triage(&data)
        .args(["search", "--since", "yesterday", "*"])
        .run()
        .code(2);
    assert!(
        out.stderr.contains("--since: `yesterday` is not a time"),
        "{}",
        out.stderr
    );
    let out = triage(&data)
        .args(["search", "--level", "loud", "*"])
        .run()
        .code(2);
    assert!(out.stderr.contains("--level"), "{}", out.stderr);
    let empty = tmp.path().join("empty");
    let out = triage(&empty).args(["search", "x"]).run().code(2);
    assert!(out.stderr.contains("no index yet"), "{}", out.stderr);
}

#[test]
fn log_text_is_sanitised_for_people_and_kept_in_json() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("evil.log");
    fs::write(
        &log,
        "2026-11-21T03:00:00Z ERROR owned \x1b]0;title\x07 \x1b[2J here\n",
    )
    .expect("write");
    let data = tmp.path().join("data");
    triage(&data).arg("ingest").arg(&log).run().code(0);
    let out = triage(&data).args(["search", "owned"]).run().code(0);
    assert!(!out.stdout.contains('\x1b'), "{:?}", out.stdout);
    assert!(
        out.stdout.contains("\\x1b]0;title\\x07"),
        "{:?}",
        out.stdout
    );
    let out = triage(&data)
        .args(["search", "--json", "owned"])
        .run()
        .code(0);
    assert_eq!(
        out.json_lines()[0]["line"],
        "2026-11-21T03:00:00Z ERROR owned \x1b]0;title\x07 \x1b[2J here"
    );
}
