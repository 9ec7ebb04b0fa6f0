//! Problems no signature knows (`scan`), templates (`patterns`, `scan --all
//! --json`), `diff` and `patterns --suggest`, through the real binary on
//! Loghub excerpts (`tests/fixtures/loghub/`: BlueGene/L's first 400 lines;
//! a Hadoop MapReduce job's log before (lines 600-847) and after (848-1100)
//! its network to the resource manager went away).

use std::{collections::HashMap, fs};

use serde_json::Value;

use crate::harness::{Triage, fixture, shared_data};

fn loghub(name: &str) -> std::path::PathBuf {
    fixture(&format!("loghub/{name}"))
}

fn lines_of(path: &std::path::Path) -> Vec<String> {
    fs::read_to_string(path)
        .expect("fixture")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bluegene_fatal_lines_are_problems_grouped_by_template() {
    let log = loghub("BGL_head.log");
    let lines = lines_of(&log);
    let fatal = lines.iter().filter(|l| l.contains(" FATAL ")).count();
    assert!(fatal > 100, "{fatal}");
    // No signature fires: the exit status says so (1); the problems are told.
    let out = Triage::new()
        .arg("scan")
        .arg("--json")
        .arg(&log)
        .run()
        .code(1);
    let objects = out.json_lines();
    let problems: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "problem").collect();
    assert!(!problems.is_empty());
    // No signature knows BlueGene/L: every object is a problem, each
    // template once.
    assert_eq!(problems.len(), objects.len());
    let mut ids: Vec<&str> = problems
        .iter()
        .map(|p| p["template"].as_str().expect("id"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), problems.len(), "each template is reported once");
    // Every FATAL line is in a problem whose levels include fatal, and
    // such problems are high.
    let fatal_counted: u64 = problems
        .iter()
        .filter(|p| {
            p["levels"]
                .as_array()
                .expect("levels")
                .contains(&Value::from("fatal"))
        })
        .map(|p| {
            assert_eq!(p["severity"], "high", "{p}");
            p["count"].as_u64().expect("count")
        })
        .sum();
    assert_eq!(fatal_counted as usize, fatal);
    for p in &problems {
        for key in [
            "template",
            "template_text",
            "severity",
            "count",
            "first",
            "last",
            "sample",
        ] {
            assert!(!p[key].is_null(), "{key} missing in {p}");
        }
        // The sample is the first occurrence's line, where it says.
        let first = p["first"]["line_no"].as_u64().expect("line_no") as usize;
        assert_eq!(p["sample"].as_str(), Some(lines[first - 1].as_str()), "{p}");
        assert!(p["last"]["line_no"].as_u64() >= Some(first as u64));
        assert_eq!(p["runbook"], "unknown-problem");
    }
    // Ranked: most severe first, then the rarest.
    let rank = |p: &Value| match p["severity"].as_str() {
        Some("high") => 0,
        Some("medium") => 1,
        _ => 2,
    };
    for pair in problems.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(
            rank(a) < rank(b) || (rank(a) == rank(b) && a["count"].as_u64() <= b["count"].as_u64()),
            "{a} before {b}"
        );
    }
}

#[test]
fn scan_text_and_summary_show_alerts_then_problems() {
    let log = loghub("Hadoop_bad.log");
    let out = Triage::new().arg("scan").arg(&log).run().code(0);
    let problems_at = out
        .stdout
        .find("problems no signature knows")
        .expect("a problems section");
    // Alerts (known signatures) come first.
    let first_alert = out.stdout.find("runbook:").expect("an alert");
    assert!(first_alert < problems_at, "{}", out.stdout);
    // The tasks' NoRouteToHost exits: FATAL, no signature for them.
    assert!(
        out.stdout[problems_at..].contains("high     problem")
            && out.stdout[problems_at..].contains("exited : java.net.NoRouteToHostException"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout[problems_at..].contains("runbook: An error no signature knows"),
        "{}",
        out.stdout
    );
    let summary = Triage::new()
        .arg("scan")
        .arg("--summary")
        .arg(&log)
        .run()
        .code(0);
    let sig = summary.stdout.find("SIGNATURE").expect("signature table");
    let prob = summary.stdout.find("PROBLEM").expect("problem table");
    assert!(sig < prob, "{}", summary.stdout);
    // JSON: alerts say kind alert, problems kind problem.
    let json = Triage::new()
        .arg("scan")
        .arg("--json")
        .arg(&log)
        .run()
        .code(0);
    let kinds: Vec<String> = json
        .json_lines()
        .iter()
        .map(|o| o["kind"].as_str().expect("kind").to_owned())
        .collect();
    assert!(kinds.iter().any(|k| k == "alert"));
    let first_problem = kinds.iter().position(|k| k == "problem").expect("problems");
    assert!(
        kinds[first_problem..].iter().all(|k| k == "problem"),
        "{kinds:?}"
    );
}

#[test]
fn the_problem_runbook_renders_real_commands() {
    // The shipped runbook's parameters are all filled from a problem.
    let out = Triage::new().arg("check").run().code(0);
    assert!(out.stdout.contains("all valid"), "{}", out.stdout);
    let runbook = fs::read_to_string(crate::harness::root().join("runbooks/unknown-problem.toml"))
        .expect("shipped runbook");
    for command in [
        "\"sed\"",
        "\"triage\", \"patterns\"",
        "\"journalctl\"",
        "\"--suggest\"",
    ] {
        assert!(runbook.contains(command), "{command}");
    }
}

#[test]
fn patterns_and_scan_all_name_the_same_templates() {
    let log = loghub("Hadoop_good.log");
    let patterns = Triage::new()
        .args(["patterns", "--json"])
        .arg(&log)
        .run()
        .code(0);
    let templates = patterns.json_lines();
    let counts: HashMap<String, u64> = templates
        .iter()
        .map(|t| {
            (
                t["template"].as_str().expect("id").to_owned(),
                t["count"].as_u64().expect("count"),
            )
        })
        .collect();
    let all = Triage::new()
        .args(["scan", "--all", "--json"])
        .arg(&log)
        .run()
        .code(0);
    let events = all.json_lines();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for e in &events {
        let id = e["template"].as_str().expect("every event has a template");
        *seen.entry(id.to_owned()).or_default() += 1;
    }
    assert_eq!(seen, counts);
    // Sorted by count, most first; every template has a sample line of its own.
    let by_count: Vec<u64> = templates
        .iter()
        .map(|t| t["count"].as_u64().expect("count"))
        .collect();
    assert!(by_count.windows(2).all(|w| w[0] >= w[1]), "{by_count:?}");
    // The same input gives the same ids in another run.
    let again = Triage::new()
        .args(["patterns", "--json"])
        .arg(&log)
        .run()
        .code(0);
    assert_eq!(again.stdout, patterns.stdout);
    // Filters.
    let errors = Triage::new()
        .args(["patterns", "--json", "--level", "warn", "--min-count", "2"])
        .arg(loghub("Hadoop_bad.log"))
        .run()
        .code(0);
    for t in errors.json_lines() {
        assert!(
            matches!(
                t["level"].as_str(),
                Some("warn" | "error" | "critical" | "fatal")
            ),
            "{t}"
        );
        assert!(t["count"].as_u64() >= Some(2), "{t}");
    }
    let text = Triage::new()
        .args(["patterns", "--sort", "first", "--limit", "3"])
        .arg(&log)
        .run()
        .code(0);
    assert_eq!(
        text.stdout.lines().filter(|l| !l.starts_with(' ')).count(),
        3,
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("│"), "{}", text.stdout);
}

#[test]
fn diff_finds_what_is_new_in_the_failing_period() {
    let good = loghub("Hadoop_good.log");
    let bad = loghub("Hadoop_bad.log");
    let bad_lines = lines_of(&bad);
    let out = Triage::new()
        .args(["diff", "--json"])
        .arg(&good)
        .arg("--")
        .arg(&bad)
        .run()
        .code(0);
    let changes = out.json_lines();
    // The resource manager going away is new, with exactly its lines.
    let rm = changes
        .iter()
        .find(|c| {
            c["template_text"]
                .as_str()
                .is_some_and(|t| t.contains("ERROR IN CONTACTING RM"))
        })
        .expect("the RM errors");
    assert_eq!(rm["kind"], "new");
    assert_eq!(rm["count_baseline"], 0);
    let expected: Vec<u64> = bad_lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("ERROR IN CONTACTING RM"))
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(rm["lines"], Value::from(expected.clone()));
    assert_eq!(rm["count_target"], expected.len());
    // Problem-like templates first.
    let problem: Vec<bool> = changes.iter().map(|c| c["problem"] == true).collect();
    assert!(problem.windows(2).all(|w| w[0] || !w[1]), "{problem:?}");
    // Kinds and their counts agree.
    for c in &changes {
        match c["kind"].as_str() {
            Some("new") => {
                assert!(c["count_baseline"] == 0 && c["count_target"].as_u64() > Some(0));
            }
            Some("gone") => {
                assert!(c["count_target"] == 0 && c["lines"].as_array().is_some_and(Vec::is_empty));
            }
            Some("changed") => assert!(c["g"].as_f64() >= Some(10.83), "{c}"),
            other => panic!("kind {other:?}"),
        }
    }
    let text = Triage::new()
        .arg("diff")
        .arg(&good)
        .arg("--")
        .arg(&bad)
        .run()
        .code(0);
    assert!(text.stdout.starts_with("baseline "), "{}", text.stdout);
    assert!(text.stdout.contains("G-test"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains(&format!("Hadoop_bad.log:{}  ", expected[0])),
        "{}",
        text.stdout
    );
    // The same file on both sides: nothing changed.
    let same = Triage::new()
        .arg("diff")
        .arg(&good)
        .arg("--")
        .arg(&good)
        .run()
        .code(1);
    assert!(
        same.stdout.contains("nothing new, gone or changed"),
        "{}",
        same.stdout
    );
}

#[test]
fn a_suggested_signature_passes_check_and_replaces_the_problem() {
    let bad = loghub("Hadoop_bad.log");
    let problems = Triage::new()
        .args(["scan", "--json"])
        .arg(&bad)
        .run()
        .code(0);
    let rm = problems
        .json_lines()
        .into_iter()
        .find(|p| {
            p["kind"] == "problem"
                && p["template_text"]
                    .as_str()
                    .is_some_and(|t| t.contains("- exited : java.net.NoRouteToHostException"))
        })
        .expect("the tasks' exits are a problem");
    let id = rm["template"].as_str().expect("id").to_owned();
    // `patterns` on the same file knows the id `scan` reported only when
    // mining the same lines; suggest from the template `patterns` lists.
    let listed = Triage::new()
        .args(["patterns", "--json"])
        .arg(&bad)
        .run()
        .code(0);
    let listed_id = listed
        .json_lines()
        .into_iter()
        .find(|t| t["template_text"] == rm["template_text"])
        .map(|t| t["template"].as_str().expect("id").to_owned())
        .unwrap_or(id);
    let out = Triage::new()
        .args(["patterns", "--suggest", &listed_id])
        .arg(&bad)
        .run()
        .code(0);
    let block = out.stdout;
    assert!(block.starts_with("[[signature]]\n"), "{block}");
    assert!(!block.contains(".*"), "{block}");
    assert_eq!(block.matches("[[signature.example]]").count(), 4, "{block}");
    assert_eq!(block.matches("match = false").count(), 2, "{block}");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("suggested.toml");
    fs::write(&file, &block).expect("write");
    let check = Triage::new()
        .arg("--patterns")
        .arg(&file)
        .arg("check")
        .run()
        .code(0);
    assert!(check.stdout.contains("all valid"), "{}", check.stdout);
    // With it, the lines are a known alert and no longer a problem.
    let again = Triage::new()
        .arg("--patterns")
        .arg(&file)
        .args(["scan", "--json"])
        .arg(&bad)
        .run()
        .code(0);
    let objects = again.json_lines();
    assert!(
        objects
            .iter()
            .any(|o| o["kind"] == "alert" && o["signature"] == format!("suggested-{listed_id}"))
    );
    assert!(
        !objects
            .iter()
            .any(|o| o["kind"] == "problem" && o["template_text"] == rm["template_text"])
    );
    // An unknown id is an error naming it.
    let unknown = Triage::new()
        .args(["patterns", "--suggest", "000000000000"])
        .arg(&bad)
        .run()
        .code(2);
    assert!(
        unknown.stderr.contains("no template 000000000000"),
        "{}",
        unknown.stderr
    );
}

/// Reads `watch --json` lines from `child` on a thread.
fn collect_json(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<Value> {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Ok(value) = serde_json::from_str::<Value>(&line) else {
                break;
            };
            if tx.send(value).is_err() {
                break;
            }
        }
    });
    rx
}

fn start_watch(data: &std::path::Path, log: &std::path::Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(data)
        .args(["watch", "--json", "--from-start", "--poll-interval", "20ms"])
        .arg(log)
        .env("TZ", "UTC")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("watch starts")
}

/// Alerts until one whose line contains `probe` (written last) came out.
fn alerts_until(rx: &std::sync::mpsc::Receiver<Value>, probe: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let mut alerts = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let alert = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no alert for {probe}: {alerts:?}"));
        let done = alert["line"].as_str().is_some_and(|l| l.contains(probe));
        alerts.push(alert);
        if done {
            return alerts;
        }
    }
}

fn stop(mut child: std::process::Child) {
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().expect("wait");
    assert!(status.success(), "watch exited with {status}");
}

#[test]
fn watch_raises_new_problem_once_per_template_and_journals_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("app.log");
    let data = dir.path().join("data");
    let mut text = fs::read_to_string(loghub("Hadoop_bad.log")).expect("fixture");
    text.push_str("2015-10-18 18:07:00,000 FATAL [main] org.example.Probe: probe one failed\n");
    fs::write(&log, &text).expect("write");
    let mut child = start_watch(&data, &log);
    let rx = collect_json(&mut child);
    let alerts = alerts_until(&rx, "probe one failed");
    let new: Vec<&Value> = alerts
        .iter()
        .filter(|a| {
            matches!(
                a["signature"].as_str(),
                Some("new-problem" | "new-fatal-problem")
            )
        })
        .collect();
    // Once per template: the task exits (two FATAL lines of one template)
    // raise one alert, high, at the first of them.
    let exits: Vec<&&Value> = new
        .iter()
        .filter(|a| {
            a["line"]
                .as_str()
                .is_some_and(|l| l.contains("- exited : java.net.NoRouteToHostException"))
        })
        .collect();
    assert_eq!(exits.len(), 1, "{new:?}");
    assert_eq!(exits[0]["signature"], "new-fatal-problem");
    assert_eq!(exits[0]["severity"], "high");
    assert_eq!(exits[0]["line_no"], 173);
    assert_eq!(exits[0]["runbook"], "unknown-problem");
    let mut templates: Vec<&str> = new
        .iter()
        .map(|a| a["captures"]["template"].as_str().expect("template"))
        .collect();
    let all = templates.len();
    templates.sort_unstable();
    templates.dedup();
    assert_eq!(templates.len(), all, "one alert per template");
    // Lines a signature knows are alerts of that signature, not problems.
    assert!(!new.iter().any(|a| {
        a["line"]
            .as_str()
            .is_some_and(|l| l.contains("ERROR IN CONTACTING RM"))
    }));
    stop(child);
    // On the incident timeline, like any signature.
    let journal = fs::read_to_string(data.join("journal.jsonl")).expect("journal");
    assert!(
        journal.contains("\"signature\":\"new-fatal-problem\""),
        "{journal}"
    );
    assert!(journal.contains(&format!(
        "template={}",
        exits[0]["captures"]["template"].as_str().expect("id")
    )));
    // After a restart, the same templates are known: only a new one alerts.
    let mut more = String::new();
    more.push_str(
        &text
            .lines()
            .nth(172)
            .expect("line 173")
            .replace("m_000002_0", "m_000009_0"),
    );
    more.push('\n');
    more.push_str("2015-10-18 18:08:00,000 ERROR [main] org.example.Probe: probe two was refused by the broker\n");
    fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .and_then(|mut f| std::io::Write::write_all(&mut f, more.as_bytes()))
        .expect("append");
    let mut child = start_watch(&data, &log);
    let rx = collect_json(&mut child);
    let alerts = alerts_until(&rx, "probe two was refused");
    let new: Vec<&Value> = alerts
        .iter()
        .filter(|a| {
            matches!(
                a["signature"].as_str(),
                Some("new-problem" | "new-fatal-problem")
            )
        })
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0]["signature"], "new-problem");
    stop(child);
}

#[test]
fn watch_with_a_baseline_raises_new_problem_only_for_templates_it_lacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = dir.path().join("good.log");
    let log = dir.path().join("app.log");
    let data = dir.path().join("data");
    let text = fs::read_to_string(loghub("Hadoop_bad.log")).expect("fixture");
    fs::write(&baseline, &text).expect("write");
    // The baseline's problems again, with other values, then one it lacks.
    let mut watched: String = text
        .lines()
        .map(|l| {
            l.replace("m_000002_0", "m_000009_0")
                .replace("_0001", "_0007")
        })
        .collect::<Vec<_>>()
        .join("\n");
    watched
        .push_str("\n2015-10-18 18:07:00,000 FATAL [main] org.example.Probe: probe one failed\n");
    fs::write(&log, &watched).expect("write");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(&data)
        .args(["watch", "--json", "--from-start", "--poll-interval", "20ms"])
        .arg("--baseline")
        .arg(&baseline)
        .arg(&log)
        .env("TZ", "UTC")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("watch starts");
    let rx = collect_json(&mut child);
    let alerts = alerts_until(&rx, "probe one failed");
    let new: Vec<&Value> = alerts
        .iter()
        .filter(|a| {
            matches!(
                a["signature"].as_str(),
                Some("new-problem" | "new-fatal-problem")
            )
        })
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert!(
        new[0]["line"]
            .as_str()
            .is_some_and(|l| l.contains("probe one failed")),
        "{new:?}"
    );
    // Signatures still alert as without a baseline.
    assert!(
        alerts
            .iter()
            .any(|a| a["signature"] != "new-problem" && a["signature"] != "new-fatal-problem")
    );
    stop(child);
}

/// `diff --since`: two time windows of the same files, and of the index
/// those files were ingested into, give exactly what the files' diff gives
/// (the good run's lines end before the bad run's start).
#[test]
fn diff_of_time_windows_of_files_and_of_the_index_is_the_files_diff() {
    let good = loghub("Hadoop_good.log");
    let bad = loghub("Hadoop_bad.log");
    let key = |c: &Value| {
        (
            c["kind"].to_string(),
            c["template_text"].to_string(),
            c["count_baseline"].to_string(),
            c["count_target"].to_string(),
            c["lines"].to_string(),
        )
    };
    let files = Triage::new()
        .args(["diff", "--json", "--timezone", "UTC"])
        .arg(&good)
        .arg("--")
        .arg(&bad)
        .run()
        .code(0);
    let expected: Vec<_> = files.json_lines().iter().map(key).collect();
    assert!(expected.len() > 10, "{}", files.stdout);
    // The bad run's first line is at 18:05:27,570; the good run's last
    // before it.
    let since = ["--since", "2015-10-18 18:05:27", "--timezone", "UTC"];
    let windows = Triage::new()
        .args(["diff", "--json"])
        .args(since)
        .arg(&good)
        .arg(&bad)
        .run()
        .code(0);
    assert_eq!(
        windows.json_lines().iter().map(key).collect::<Vec<_>>(),
        expected
    );

    let data = tempfile::tempdir().expect("tempdir");
    Triage::new()
        .arg("--data-dir")
        .arg(data.path())
        .args(["ingest", "--timezone", "UTC"])
        .arg(&good)
        .arg(&bad)
        .run()
        .code(0);
    let indexed = Triage::new()
        .arg("--data-dir")
        .arg(data.path())
        .args(["diff", "--json"])
        .args(since)
        .run()
        .code(0);
    assert_eq!(
        indexed.json_lines().iter().map(key).collect::<Vec<_>>(),
        expected
    );

    // A window that ends before the data: everything is gone.
    let early = Triage::new()
        .arg("--data-dir")
        .arg(data.path())
        .args(["diff", "--json", "--timezone", "UTC"])
        .args([
            "--since",
            "2015-10-18 18:05:00",
            "--until",
            "2015-10-18 18:05:01",
        ])
        .args(["--baseline-since", "2015-10-18 18:04:00"])
        .run();
    let kinds: Vec<Value> = early
        .json_lines()
        .iter()
        .map(|c| c["kind"].clone())
        .collect();
    assert!(
        !kinds.is_empty() && kinds.iter().all(|k| k == "gone" || k == "new"),
        "{kinds:?}"
    );

    // Misuse is named.
    let both = Triage::new()
        .args(["diff", "--since", "1h"])
        .arg(&good)
        .arg("--")
        .arg(&bad)
        .run()
        .code(2);
    assert!(
        both.stderr.contains("with --since, name the files once"),
        "{}",
        both.stderr
    );
    let none = Triage::new().arg("diff").run().code(2);
    assert!(
        none.stderr
            .contains("BASELINE... -- TARGET..., or compare time windows with --since"),
        "{}",
        none.stderr
    );
}

/// A real pgbouncer log (gzip, 127,910 lines, `../shared/data/`), its
/// groups checked by hand with `zgrep -c`: every line is in one of seven
/// templates, each with exactly the lines of its kind.
#[test]
fn pgbouncer_log_mines_into_its_seven_hand_checked_templates() {
    let Some(log) = shared_data("postgresql/pgbouncer.log.gz") else {
        return;
    };
    let out = Triage::new()
        .args(["patterns", "--json", "--timezone", "UTC"])
        .arg(&log)
        .run()
        .code(0);
    let mut got: Vec<(u64, String)> = out
        .json_lines()
        .iter()
        .map(|t| {
            (
                t["count"].as_u64().expect("count"),
                t["template_text"].as_str().expect("text").to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut expected: Vec<(u64, String)> = [
        (63_943, "C-<*>: pgbench/gilles@<*> login attempt: db=pgbench user=gilles tls=no"),
        (63_943, "C-<*>: pgbench/gilles@<*> closing because: client close request (age=<*>)"),
        (15, "S-<*>: pgbench/gilles@<*> new connection to server (from <*>)"),
        (5, "stats: <*> xacts/s, <*> queries/s, in <*> B/s, out <*> B/s, xact <*> query <*> wait time <*>"),
        (2, "listening on <*>"),
        (1, "file descriptor limit: <*> (H:<*>), max_client_conn: <*>, max fds possible: <*>"),
        (1, "process up: pgbouncer <*>, libevent <*>-stable (epoll), adns: c-ares <*>, tls: OpenSSL <*>"),
    ]
    .into_iter()
    .map(|(n, t)| (n, t.to_owned()))
    .collect();
    expected.sort();
    assert_eq!(got, expected);
    assert_eq!(
        got.iter().map(|(n, _)| n).sum::<u64>(),
        127_910,
        "every line"
    );
}
