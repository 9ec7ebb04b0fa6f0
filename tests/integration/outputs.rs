//! Paging people end to end: the real `triage watch` with `[[output]]`s
//! pointed at small receivers on 127.0.0.1 (an Alertmanager-shaped, a
//! PagerDuty-shaped, a Slack-shaped and a webhook endpoint) that check each
//! body against the documented schema, record it, and answer as a test
//! scripts (500, 429, 400, or never). `/metrics` is scraped and parsed
//! with a real exposition-format parser. No fixed sleeps: every wait is on
//! a condition, with a deadline.

use std::{
    collections::VecDeque,
    fs::{self, OpenOptions},
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::harness::Triage;

const PATIENCE: Duration = Duration::from_secs(120);

/// A signature that clears after a second of quiet (with a runbook), and
/// one that never clears, keyed by its capture.
const PATTERNS: &str = r#"
[[signature]]
id = "disk-full"
title = "Disk full"
severity = "critical"
description = "A file system has no space left."
runbook = "free-disk"
regex = 'No space left on device: (?P<mount>/\S*)'
suppress = { window = "1h", key = ["mount"] }
clear_after = "1s"
[[signature.example]]
line = "write failed: No space left on device: /var"
[[signature.example]]
line = "fine"
match = false

[[signature]]
id = "job-failed"
title = "Job failed"
severity = "high"
description = "A batch job failed."
regex = 'job (?P<n>\d+) failed'
[[signature.example]]
line = "job 3 failed"
[[signature.example]]
line = "fine"
match = false

[[signature]]
id = "chatter"
title = "Chatter"
severity = "info"
description = "Not worth paging."
regex = 'chatter'
[[signature.example]]
line = "chatter"
[[signature.example]]
line = "fine"
match = false
"#;

const RUNBOOK: &str = r#"
id = "free-disk"
title = "Free disk space"
summary = "Find what fills the disk and free it."

[[step]]
id = "usage"
title = "See what is full"
kind = "diagnose"
command = ["df", "-h"]
expect = "a file system at 100%"

[[step]]
id = "biggest"
title = "Find the biggest directories"
kind = "diagnose"
command = ["du", "-xsh", "/var"]
expect = "the culprit"
"#;

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Got {
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
    raw: Vec<u8>,
    /// The status it was answered with.
    status: u16,
    /// When it came.
    received: jiff::Timestamp,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    Alertmanager,
    Pagerduty,
    Slack,
    Webhook,
}

/// A receiver on 127.0.0.1: answers the scripted statuses in turn, then
/// 202; a body that breaks its schema gets a 422 (and the test fails).
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Got>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    violations: Arc<Mutex<Vec<String>>>,
    server: Arc<tiny_http::Server>,
}

impl Receiver {
    fn start(shape: Shape, script: &[u16]) -> Receiver {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let port = server.server_addr().to_ip().expect("ip").port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let violations = Arc::new(Mutex::new(Vec::new()));
        let (g, s, v, srv) = (
            Arc::clone(&got),
            Arc::clone(&script),
            Arc::clone(&violations),
            Arc::clone(&server),
        );
        thread::spawn(move || {
            for mut request in srv.incoming_requests() {
                let mut raw = Vec::new();
                let _ = request.as_reader().read_to_end(&mut raw);
                let headers = request
                    .headers()
                    .iter()
                    .map(|h| (h.field.to_string(), h.value.to_string()))
                    .collect();
                let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
                let problems = check(shape, &body);
                let status = if problems.is_empty() {
                    s.lock().expect("lock").pop_front().unwrap_or(202)
                } else {
                    v.lock().expect("lock").extend(problems.clone());
                    422
                };
                g.lock().expect("lock").push(Got {
                    received: jiff::Timestamp::now(),
                    path: request.url().to_owned(),
                    headers,
                    body,
                    raw,
                    status,
                });
                let mut response = tiny_http::Response::from_string(match status {
                    400 => "invalid label set: label \"x\" is bad".to_owned(),
                    429 => "slow down".to_owned(),
                    _ => format!("status {status}"),
                })
                .with_status_code(status);
                if status == 429 {
                    response = response.with_header(
                        tiny_http::Header::from_bytes("Retry-After", "1").expect("header"),
                    );
                }
                let _ = request.respond(response);
            }
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}"),
            got,
            script,
            violations,
            server,
        }
    }

    /// Answers these statuses from now on (then 202).
    fn answer(&self, statuses: &[u16]) {
        *self.script.lock().expect("lock") = statuses.iter().copied().collect();
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().expect("lock").clone()
    }

    /// The bodies answered 2xx.
    fn delivered(&self) -> Vec<Got> {
        self.got()
            .into_iter()
            .filter(|g| (200..300).contains(&g.status))
            .collect()
    }

    #[track_caller]
    fn wait_until(&self, what: &str, done: impl Fn(&[Got]) -> bool) -> Vec<Got> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let got = self.got();
            if done(&got) {
                let violations = self.violations.lock().expect("lock");
                assert!(violations.is_empty(), "schema: {violations:?}");
                return got;
            }
            assert!(Instant::now() < deadline, "{what}: receiver got {got:#?}");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn is_rfc3339(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.parse::<jiff::Timestamp>().is_ok())
}

/// What each documented schema requires.
fn check(shape: Shape, body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut need = |ok: bool, what: &str| {
        if !ok {
            problems.push(format!("{shape:?}: {what} in {body}"));
        }
    };
    match shape {
        Shape::Alertmanager => {
            // api/v2 postableAlerts: a list of {labels (string → string,
            // not empty), annotations, startsAt, endsAt, generatorURL}.
            let alerts = body.as_array();
            need(alerts.is_some_and(|a| !a.is_empty()), "a non-empty list");
            for alert in alerts.into_iter().flatten() {
                let labels = alert["labels"].as_object();
                need(
                    labels.is_some_and(|l| {
                        l.contains_key("alertname")
                            && l.iter().all(|(k, v)| {
                                v.is_string()
                                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                                    && !k.starts_with(|c: char| c.is_ascii_digit())
                            })
                    }),
                    "labels with alertname, valid names, string values",
                );
                need(
                    alert["annotations"]
                        .as_object()
                        .is_some_and(|a| a.values().all(Value::is_string)),
                    "string annotations",
                );
                need(is_rfc3339(&alert["startsAt"]), "startsAt");
                need(is_rfc3339(&alert["endsAt"]), "endsAt");
                need(alert["generatorURL"].is_string(), "generatorURL");
            }
        }
        Shape::Pagerduty => {
            need(body["routing_key"] == "R0UT1NGKEY", "the routing key");
            let action = body["event_action"].as_str().unwrap_or_default();
            need(
                ["trigger", "acknowledge", "resolve"].contains(&action),
                "event_action",
            );
            need(
                body["dedup_key"]
                    .as_str()
                    .is_some_and(|k| !k.is_empty() && k.len() <= 255),
                "dedup_key",
            );
            if action == "trigger" {
                let p = &body["payload"];
                need(
                    p["summary"]
                        .as_str()
                        .is_some_and(|s| !s.is_empty() && s.len() <= 1024),
                    "payload.summary",
                );
                need(p["source"].is_string(), "payload.source");
                need(
                    ["critical", "error", "warning", "info"]
                        .contains(&p["severity"].as_str().unwrap_or_default()),
                    "payload.severity",
                );
                need(is_rfc3339(&p["timestamp"]), "payload.timestamp");
            }
        }
        Shape::Slack => {
            need(body["text"].is_string(), "text");
            if let Some(blocks) = body.get("blocks") {
                need(
                    blocks
                        .as_array()
                        .is_some_and(|b| b.iter().all(|b| b["type"].is_string())),
                    "typed blocks",
                );
            }
        }
        Shape::Webhook => {
            need(
                ["alert", "cleared", "test", "incident"]
                    .contains(&body["type"].as_str().unwrap_or_default()),
                "type",
            );
            need(body["dedup_key"].is_string(), "dedup_key");
        }
    }
    problems
}

/// A running `triage watch` with its stdout lines and stderr collected.
struct Watch {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
}

impl Watch {
    fn start(dir: &Path, extra: &[&str]) -> Watch {
        Watch::spawn(dir, extra, false)
    }

    /// [`Watch::start`] with every event indexed.
    fn start_indexed(dir: &Path, extra: &[&str]) -> Watch {
        Watch::spawn(dir, extra, true)
    }

    fn spawn(dir: &Path, extra: &[&str], index: bool) -> Watch {
        let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
            .current_dir(dir)
            .arg("--data-dir")
            .arg(dir.join("state"))
            .args(["--patterns", "patterns.toml", "--runbooks", "runbooks"])
            .args(["watch", "--json", "--poll-interval", "20ms", "--from-start"])
            .args(if index { &[][..] } else { &["--no-index"][..] })
            .args(extra)
            .arg(dir.join("app.log"))
            .env("TZ", "UTC")
            .env("PD_KEY", "R0UT1NGKEY")
            .env_remove("TRIAGE_LOG")
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("all_proxy")
            .env_remove("ALL_PROXY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("watch starts");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (out, err) = (Arc::clone(&stdout), Arc::clone(&stderr));
        let pipe = child.stdout.take().expect("piped");
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                out.lock().expect("lock").push(line);
            }
        });
        let pipe = child.stderr.take().expect("piped");
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut err = err.lock().expect("lock");
                err.push_str(&line);
                err.push('\n');
            }
        });
        Watch {
            child,
            stdout,
            stderr,
        }
    }

    #[track_caller]
    fn wait_stdout(&self, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.stdout.lock().expect("lock").len() < n {
            assert!(
                Instant::now() < deadline,
                "only {:?}; stderr: {}",
                self.stdout.lock().expect("lock"),
                self.stderr.lock().expect("lock")
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    #[track_caller]
    fn wait_stderr(&self, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let err = self.stderr.lock().expect("lock").clone();
            if err.contains(text) {
                return err;
            }
            assert!(Instant::now() < deadline, "no `{text}` in stderr: {err}");
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "watch exited with {status}");
        self.stderr.lock().expect("lock").clone()
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory with the patterns, the runbook and `triage.toml`.
fn setup(config: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    fs::write(root.join("patterns.toml"), PATTERNS).expect("write");
    fs::create_dir_all(root.join("runbooks")).expect("mkdir");
    fs::write(root.join("runbooks/free-disk.toml"), RUNBOOK).expect("write");
    fs::write(root.join("triage.toml"), config).expect("write");
    fs::write(root.join("app.log"), "").expect("write");
    (dir, root)
}

fn append(root: &Path, text: &str) {
    let mut file = OpenOptions::new()
        .append(true)
        .open(root.join("app.log"))
        .expect("open");
    file.write_all(text.as_bytes()).expect("append");
}

fn output(name: &str, kind: &str, url: &str, extra: &str) -> String {
    format!(
        "[[output]]\nname = \"{name}\"\nkind = \"{kind}\"\nurl = \"{url}\"\nbackoff_min = \"50ms\"\nbackoff_max = \"1s\"\n{extra}\n"
    )
}

#[test]
fn every_kind_gets_the_alert_with_its_fields_and_the_clear_resolves_it() {
    let am = Receiver::start(Shape::Alertmanager, &[]);
    let pd = Receiver::start(Shape::Pagerduty, &[]);
    let slack = Receiver::start(Shape::Slack, &[]);
    let hook = Receiver::start(Shape::Webhook, &[]);
    let config = [
        output("oncall", "alertmanager", &am.url, "min_severity = \"high\""),
        format!(
            "[[output]]\nname = \"pd\"\nkind = \"pagerduty\"\nurl = \"{}/v2/enqueue\"\nrouting_key_env = \"PD_KEY\"\n",
            pd.url
        ),
        output("chat", "slack", &format!("{}/services/T0/B0/S3CR3TT0K3N", slack.url), ""),
        output("hook", "webhook", &hook.url, "secret = \"hmac-key\"\nmin_severity = \"info\"\nexclude = [\"job-*\"]"),
    ]
    .concat();
    let (_dir, root) = setup(&config);
    let watch = Watch::start(&root, &[]);
    append(
        &root,
        "2026-12-05T03:00:00Z host=db1 write failed: No space left on device: /var\nchatter\n",
    );
    watch.wait_stdout(2);

    // Alertmanager: POST /api/v2/alerts with every label and annotation.
    let got = am.wait_until("alertmanager firing", |g| !g.is_empty());
    assert_eq!(got[0].path, "/api/v2/alerts");
    let alert = &got[0].body[0];
    assert_eq!(alert["labels"]["alertname"], "disk-full");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["labels"]["mount"], "/var");
    assert!(
        alert["labels"]["source"]
            .as_str()
            .is_some_and(|s| s.ends_with("app.log"))
    );
    assert_eq!(alert["annotations"]["summary"], "Disk full");
    assert_eq!(alert["annotations"]["runbook"], "free-disk");
    assert_eq!(alert["annotations"]["runbook_title"], "Free disk space");
    assert_eq!(
        alert["annotations"]["runbook_steps"],
        "1. See what is full\n2. Find the biggest directories"
    );
    assert!(
        alert["annotations"]["evidence"]
            .as_str()
            .is_some_and(|e| e.contains("No space left on device: /var"))
    );
    assert_eq!(alert["startsAt"], "2026-12-05T03:00:00.000Z");
    assert!(
        alert["generatorURL"]
            .as_str()
            .is_some_and(|u| u.contains("disk-full"))
    );

    // PagerDuty: a trigger with a stable dedup key and the runbook.
    let got = pd.wait_until("pagerduty trigger", |g| !g.is_empty());
    let event = &got[0].body;
    assert_eq!(got[0].path, "/v2/enqueue");
    assert_eq!(event["event_action"], "trigger");
    assert_eq!(event["dedup_key"], "triage/disk-full/mount=/var");
    assert_eq!(event["payload"]["severity"], "critical");
    assert_eq!(event["payload"]["class"], "disk-full");
    assert_eq!(event["payload"]["group"], "free-disk");
    assert_eq!(
        event["payload"]["custom_details"]["runbook_steps"],
        serde_json::json!(["See what is full", "Find the biggest directories"])
    );

    // Slack: text and blocks with severity, evidence and the runbook.
    let got = slack.wait_until("slack message", |g| !g.is_empty());
    assert_eq!(got[0].path, "/services/T0/B0/S3CR3TT0K3N");
    let text = got[0].body.to_string();
    for needle in [
        "CRITICAL",
        "Disk full",
        "No space left on device: /var",
        "Free disk space",
        "See what is full",
        "triage incident show",
    ] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }

    // Webhook: the `--json` alert object, signed; info passes its
    // min_severity, so `chatter` comes too.
    let got = hook.wait_until("webhook alerts", |g| g.len() >= 2);
    let disk = got
        .iter()
        .find(|g| g.body["alert"]["signature"] == "disk-full")
        .expect("disk-full");
    assert_eq!(disk.body["type"], "alert");
    assert_eq!(disk.body["alert"]["captures"]["mount"], "/var");
    // A critical alert opened an incident: the body names it.
    assert_eq!(disk.body["incident"], "INC-1");
    assert_eq!(disk.body["runbook"]["id"], "free-disk");
    assert_eq!(
        disk.header("X-Triage-Dedup-Key"),
        Some("triage/disk-full/mount=/var")
    );
    let expected = triage::notify::send::signature(b"hmac-key", &disk.raw);
    assert_eq!(
        disk.header("X-Triage-Signature-256"),
        Some(expected.as_str())
    );
    // Below min_severity: chatter went nowhere but the webhook.
    assert!(
        am.got()
            .iter()
            .all(|g| g.body[0]["labels"]["alertname"] != "chatter")
    );

    // A second of quiet clears disk-full: resolved everywhere.
    let got = am.wait_until("alertmanager resolved", |g| {
        g.iter().any(|g| {
            g.body[0]["endsAt"]
                .as_str()
                .and_then(|e| e.parse::<jiff::Timestamp>().ok())
                .is_some_and(|e| e <= jiff::Timestamp::now())
        })
    });
    assert!(got.iter().all(|g| g.body[0]["labels"]["mount"] == "/var"));
    let got = pd.wait_until("pagerduty resolve", |g| g.len() >= 2);
    assert_eq!(got[1].body["event_action"], "resolve");
    assert_eq!(got[1].body["dedup_key"], "triage/disk-full/mount=/var");
    slack.wait_until("slack resolved", |g| {
        g.iter().any(|g| {
            g.body["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("[RESOLVED]"))
        })
    });
    let got = hook.wait_until("webhook cleared", |g| {
        g.iter().any(|g| g.body["type"] == "cleared")
    });
    let cleared = got
        .iter()
        .find(|g| g.body["type"] == "cleared")
        .expect("cleared");
    assert_eq!(cleared.body["signature"], "disk-full");
    assert_eq!(cleared.body["key"]["mount"], "/var");
    assert_eq!(cleared.body["incident"], "INC-1");
    // `chatter` (info) fired while the incident was open: it joined it.
    let chatter = got
        .iter()
        .find(|g| g.body["alert"]["signature"] == "chatter")
        .expect("chatter");
    assert_eq!(chatter.body["incident"], "INC-1", "{:?}", chatter.body);
    let stderr = watch.stop();
    assert!(
        !stderr.contains("S3CR3TT0K3N") && !stderr.contains("R0UT1NGKEY"),
        "{stderr}"
    );
}

#[test]
fn incident_events_reach_the_channel_and_ack_and_resolve_reach_pagerduty() {
    let pd = Receiver::start(Shape::Pagerduty, &[]);
    let hook = Receiver::start(Shape::Webhook, &[]);
    let slack = Receiver::start(Shape::Slack, &[]);
    let config = [
        format!(
            "[[output]]\nname = \"pd\"\nkind = \"pagerduty\"\nurl = \"{}\"\nrouting_key = \"R0UT1NGKEY\"\n",
            pd.url
        ),
        output("hook", "webhook", &hook.url, "incidents = true\nmin_severity = \"critical\""),
        output("chat", "slack", &slack.url, "incidents = true\nmin_severity = \"critical\""),
    ]
    .concat();
    let (_dir, root) = setup(&config);
    let watch = Watch::start(&root, &[]);
    // A high signature opens an incident.
    append(&root, "job 5 failed\n");
    watch.wait_stdout(1);
    pd.wait_until("trigger", |g| !g.is_empty());
    let incident = |args: &[&str]| {
        Triage::new()
            .current_dir(&root)
            .args(["--data-dir", "state", "incident", "--actor", "alice"])
            .args(args)
            .run()
            .code(0)
    };
    hook.wait_until("opened", |g| g.iter().any(|g| g.body["event"] == "opened"));
    incident(&["ack"]);
    incident(&["note", "restarting the scheduler"]);
    let got = pd.wait_until("acknowledge", |g| g.len() >= 2);
    assert_eq!(got[1].body["event_action"], "acknowledge");
    assert_eq!(got[1].body["dedup_key"], "triage/job-failed");
    incident(&["status", "resolved"]);
    let got = pd.wait_until("resolve", |g| g.len() >= 3);
    assert_eq!(got[2].body["event_action"], "resolve");
    assert_eq!(got[2].body["dedup_key"], "triage/job-failed");
    let got = hook.wait_until("the timeline", |g| {
        g.iter().any(|g| g.body["event"] == "resolved")
    });
    let events: Vec<&str> = got
        .iter()
        .filter_map(|g| g.body["event"].as_str())
        .collect();
    assert_eq!(events, ["opened", "acknowledged", "note", "resolved"]);
    assert_eq!(got[1].body["incident"], "INC-1");
    assert_eq!(got[1].body["actor"], "alice");
    let got = slack.wait_until("the timeline", |g| g.len() >= 4);
    assert!(
        got[2].body["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("[INC-1] note: ")),
        "{:?}",
        got[2].body
    );
    watch.stop();
}

#[test]
fn a_receiver_down_across_kill_9_gets_the_backlog_in_order() {
    // Down (500) until told otherwise.
    let hook = Receiver::start(Shape::Webhook, &[500; 10_000]);
    let (_dir, root) = setup(&output("hook", "webhook", &hook.url, ""));
    let watch = Watch::start(&root, &[]);
    append(&root, "job 1 failed\njob 2 failed\njob 3 failed\n");
    watch.wait_stdout(3);
    hook.wait_until("failed attempts", |g| {
        g.iter().filter(|g| g.status == 500).count() >= 2
    });
    watch.kill();
    // The three are in the outbox, waiting.
    let list = Triage::new()
        .current_dir(&root)
        .args(["--data-dir", "state", "outbox", "list", "--json"])
        .run()
        .code(0)
        .json_lines();
    assert_eq!(list.len(), 3, "{list:?}");
    assert!(
        list.iter()
            .all(|e| e["state"] == "waiting" && e["output"] == "hook")
    );
    // Back up: everything arrives, in order; repeats only of the same key.
    hook.answer(&[]);
    let watch = Watch::start(&root, &[]);
    let got = hook.wait_until("the backlog", |g| {
        ["1", "2", "3"].iter().all(|n| {
            g.iter()
                .any(|g| g.status == 202 && g.body["alert"]["captures"]["n"] == *n)
        })
    });
    // First deliveries in order (a repeat, from lines read again after
    // the kill, carries the same dedup key).
    let mut order: Vec<String> = Vec::new();
    for g in got.iter().filter(|g| g.status == 202) {
        assert_eq!(g.header("X-Triage-Dedup-Key"), Some("triage/job-failed"));
        let n = g.body["alert"]["captures"]["n"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !order.contains(&n) {
            order.push(n);
        }
    }
    assert_eq!(order, ["1", "2", "3"], "in order");
    let outbox = root.join("state/outbox/hook");
    let deadline = Instant::now() + PATIENCE;
    while fs::read_dir(&outbox)
        .expect("outbox")
        .filter_map(Result::ok)
        .any(|e| e.path().extension().is_some_and(|x| x == "json"))
    {
        assert!(Instant::now() < deadline, "outbox not emptied");
        thread::sleep(Duration::from_millis(20));
    }
    watch.stop();
}

#[test]
fn a_429_backs_off_a_400_is_parked_reported_and_retried_by_hand() {
    let slow = Receiver::start(Shape::Slack, &[429]);
    let strict = Receiver::start(Shape::Alertmanager, &[400]);
    let config = [
        output("slow", "slack", &slow.url, ""),
        output("strict", "alertmanager", &strict.url, ""),
    ]
    .concat();
    let (_dir, root) = setup(&config);
    let watch = Watch::start(&root, &[]);
    append(&root, "job 7 failed\n");
    watch.wait_stdout(1);
    // 429 with Retry-After: 1: tried again after it, then delivered.
    let got = slow.wait_until("429 then delivered", |g| g.len() >= 2);
    assert_eq!(got[0].status, 429);
    assert_eq!(got[1].status, 202);
    assert_eq!(got[0].body, got[1].body);
    // 400: parked, with the receiver's message, and not retried.
    let stderr = watch.wait_stderr("parked");
    assert!(stderr.contains("invalid label set"), "{stderr}");
    watch.stop();
    assert_eq!(
        strict.got().len(),
        1,
        "a refused notification is not retried"
    );
    let list = Triage::new()
        .current_dir(&root)
        .args(["--data-dir", "state", "outbox", "list"])
        .run()
        .code(0);
    assert!(
        list.stdout.contains("parked") && list.stdout.contains("400 invalid label set"),
        "{}",
        list.stdout
    );
    // Fixed on the receiver's side: retried by hand (no watch running).
    let retry = Triage::new()
        .current_dir(&root)
        .args(["--data-dir", "state", "outbox", "retry", "--parked"])
        .run()
        .code(0);
    assert!(retry.stdout.contains("delivered: 202"), "{}", retry.stdout);
    assert_eq!(strict.delivered().len(), 1);
    let list = Triage::new()
        .current_dir(&root)
        .args(["--data-dir", "state", "outbox", "list"])
        .run()
        .code(0);
    assert_eq!(list.stdout.trim(), "the outbox is empty");
}

#[test]
fn a_receiver_that_never_answers_does_not_delay_the_next_alert() {
    // Accepts connections (the kernel's backlog) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let (_dir, root) = setup(&output("void", "webhook", &url, "timeout = \"1h\""));
    let watch = Watch::start(&root, &[]);
    append(&root, "job 1 failed\n");
    watch.wait_stdout(1);
    append(&root, "job 2 failed\n");
    // The sender is stuck for an hour; detection goes on.
    watch.wait_stdout(2);
    append(&root, "job 3 failed\n");
    watch.wait_stdout(3);
    watch.stop();
    drop(silent);
}

#[test]
fn outputs_test_prints_the_answer_and_never_a_secret() {
    let hook = Receiver::start(Shape::Webhook, &[]);
    let slack = Receiver::start(Shape::Slack, &[400]);
    let config = format!(
        "{}[[output]]\nname = \"chat\"\nkind = \"slack\"\nurl_env = \"SLACK_URL\"\n",
        output("hook", "webhook", &hook.url, "")
    );
    let (_dir, root) = setup(&config);
    // The Slack URL comes from the environment and carries its token.
    let secret_url = format!("{}/services/T0/B0/S3CR3TT0K3N", slack.url);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_triage"))
            .current_dir(&root)
            .args(["--data-dir", "state", "outputs", "test"])
            .args(args)
            .env("SLACK_URL", &secret_url)
            .env_remove("TRIAGE_LOG")
            .output()
            .expect("runs")
    };
    let out = run(&["hook"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.starts_with("hook (webhook): delivered: 202"),
        "{stdout}"
    );
    assert_eq!(hook.got()[0].body["type"], "test");
    let out = run(&["chat"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout.contains("chat (slack): refused: 400"), "{stdout}");
    assert!(
        slack.got()[0].body["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("[TEST]"))
    );
    let list = Triage::new()
        .current_dir(&root)
        .args(["outputs", "list"])
        .run();
    // Unset, the variable is named in the error, at its line.
    assert_eq!(list.code, 2);
    assert!(
        list.stderr
            .contains("triage.toml:11:11: environment variable SLACK_URL is not set"),
        "{}",
        list.stderr
    );
    let out = run(&["-vv"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("S3CR3TT0K3N"), "{all}");
}

#[test]
fn metrics_are_served_and_parse() {
    let hook = Receiver::start(Shape::Webhook, &[]);
    let (_dir, root) = setup(&output("hook", "webhook", &hook.url, ""));
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let watch = Watch::start_indexed(&root, &["--metrics", &addr, "--commit-every", "100ms"]);
    append(&root, "job 1 failed\nchatter\njob 2 failed\nnothing here\n");
    watch.wait_stdout(3);
    hook.wait_until("two alerts", |g| g.len() >= 2);
    let deadline = Instant::now() + PATIENCE;
    let scrape = loop {
        let text = scrape(&addr);
        let metrics = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
            .expect("the exposition format parses");
        let value = |name: &str, label: Option<(&str, &str)>| -> Option<f64> {
            metrics
                .samples
                .iter()
                .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
                .and_then(|s| match s.value {
                    prometheus_parse::Value::Counter(v)
                    | prometheus_parse::Value::Gauge(v)
                    | prometheus_parse::Value::Untyped(v) => Some(v),
                    _ => None,
                })
        };
        if value("triage_notifications_sent", Some(("output", "hook"))) == Some(2.0)
            && value("triage_lines_read_total", None) == Some(4.0)
            && value("triage_index_documents", None) == Some(4.0)
        {
            // Its last commit was made while this test ran.
            let age = value("triage_index_commit_age_seconds", None).expect("commit age");
            assert!(age >= 0.0 && age < started.elapsed().as_secs_f64(), "{age}");
            assert_eq!(
                value("triage_alerts_total", Some(("signature", "job-failed"))),
                Some(2.0)
            );
            assert_eq!(
                value("triage_alerts_total", Some(("signature", "chatter"))),
                Some(1.0)
            );
            assert_eq!(value("triage_events_parsed_total", None), Some(4.0));
            assert_eq!(value("triage_files_followed", None), Some(1.0));
            assert_eq!(value("triage_follower_lag_bytes", None), Some(0.0));
            assert_eq!(
                value("triage_outbox_depth", Some(("output", "hook"))),
                Some(0.0)
            );
            assert_eq!(value("triage_bytes_read_total", None), Some(47.0));
            assert!(
                value(
                    "triage_build_info",
                    Some(("version", env!("CARGO_PKG_VERSION")))
                )
                .is_some()
            );
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "metrics never showed the alerts:\n{text}"
        );
        thread::sleep(Duration::from_millis(50));
    };
    assert!(
        scrape.contains("# TYPE triage_detection_latency_seconds histogram"),
        "{scrape}"
    );
    watch.stop();
}

/// Problems no signature knows are counted per level on `/metrics`: every
/// problem-like event, and the templates they make; a line a signature
/// matched is not a problem, nor is a line below error level.
#[test]
fn metrics_count_problems_per_level() {
    let (_dir, root) = setup("");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let watch = Watch::start(&root, &["--metrics", &addr]);
    append(
        &root,
        "2026-11-21T03:00:00Z ERROR cache shard 7 unreachable from node-3\n\
         2026-11-21T03:00:01Z ERROR cache shard 9 unreachable from node-4\n\
         2026-11-21T03:00:02Z FATAL ledger replica lost, refusing writes\n\
         2026-11-21T03:00:03Z INFO cache shard 7 reachable again\n\
         2026-11-21T03:00:04Z ERROR job 5 failed\n",
    );
    // new-problem, new-fatal-problem and job-failed.
    watch.wait_stdout(3);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = scrape(&addr);
        let metrics = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
            .expect("the exposition format parses");
        let value = |name: &str, level: &str| -> Option<f64> {
            metrics
                .samples
                .iter()
                .find(|s| s.metric == name && s.labels.get("level") == Some(level))
                .and_then(|s| match s.value {
                    prometheus_parse::Value::Counter(v) => Some(v),
                    _ => None,
                })
        };
        if value("triage_problems_total", "error") == Some(2.0)
            && value("triage_problems_total", "fatal") == Some(1.0)
        {
            assert_eq!(value("triage_problem_templates_total", "error"), Some(1.0));
            assert_eq!(value("triage_problem_templates_total", "fatal"), Some(1.0));
            assert_eq!(value("triage_problems_total", "info"), None, "{text}");
            assert!(
                text.contains("# TYPE triage_problems_total counter"),
                "{text}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "metrics never counted the problems:\n{text}"
        );
        thread::sleep(Duration::from_millis(50));
    }
    watch.stop();
}

/// An Alertmanager body that resolves (ends when, or before, it came).
fn resolves(g: &Got) -> bool {
    g.body[0]["endsAt"]
        .as_str()
        .and_then(|e| e.parse::<jiff::Timestamp>().ok())
        .is_some_and(|e| e <= g.received)
}

#[test]
fn a_firing_alert_outlives_a_kill_9_it_is_re_sent_then_resolved_on_clear_after() {
    let am = Receiver::start(Shape::Alertmanager, &[]);
    let (_dir, root) = setup(&output(
        "oncall",
        "alertmanager",
        &am.url,
        "resend_every = \"300ms\"",
    ));
    fs::write(
        root.join("patterns.toml"),
        PATTERNS.replace("clear_after = \"1s\"", "clear_after = \"6s\""),
    )
    .expect("write");
    let watch = Watch::start(&root, &[]);
    let before_hit = jiff::Timestamp::now();
    // No time of its own: stamped when read.
    append(&root, "write failed: No space left on device: /var\n");
    watch.wait_stdout(1);
    am.wait_until("firing, then re-sent", |g| g.len() >= 2);
    watch.kill();
    let before = am.got().len();
    let firing = root.join("state/notify/firing.json");
    assert!(firing.exists(), "{} kept", firing.display());

    // A new `watch` knows it is firing: re-sends it, then resolves it six
    // seconds after its last hit (no line read again, nothing printed).
    let watch = Watch::start(&root, &[]);
    let got = am.wait_until("resolved", |g| g[before..].iter().any(resolves));
    let printed = watch.stdout.lock().expect("lock").clone();
    watch.stop();
    assert!(printed.is_empty(), "alerted again: {printed:?}");
    let first = &got[0].body[0];
    let after = &got[before..];
    let resolved = after.iter().position(resolves).expect("resolved");
    assert!(
        resolved >= 1,
        "the restarted watch re-sent before resolving: {after:#?}"
    );
    for g in after {
        assert_eq!(g.status, 202);
        assert_eq!(g.body[0]["labels"], first["labels"]);
        assert_eq!(g.body[0]["startsAt"], first["startsAt"]);
    }
    let ends: jiff::Timestamp = after[resolved].body[0]["endsAt"]
        .as_str()
        .and_then(|e| e.parse().ok())
        .expect("endsAt");
    assert!(
        ends >= before_hit + jiff::SignedDuration::from_secs(6),
        "resolved at {ends}, hit after {before_hit}"
    );
    assert_eq!(after.iter().filter(|g| resolves(g)).count(), 1);
    // Resolved is forgotten: a third start sends only the next alert
    // (anything left over would have gone before it).
    let before = am.got().len();
    let watch = Watch::start(&root, &[]);
    append(&root, "job 9 failed\n");
    let got = am.wait_until("the next alert", |g| g.len() > before);
    watch.stop();
    let names: Vec<&Value> = got[before..]
        .iter()
        .map(|g| &g.body[0]["labels"]["alertname"])
        .collect();
    assert_eq!(names, ["job-failed"]);
}

#[test]
fn incident_events_written_while_watch_is_stopped_go_out_once_when_it_starts() {
    let pd = Receiver::start(Shape::Pagerduty, &[]);
    let hook = Receiver::start(Shape::Webhook, &[]);
    let config = [
        format!(
            "[[output]]\nname = \"pd\"\nkind = \"pagerduty\"\nurl = \"{}\"\nrouting_key = \"R0UT1NGKEY\"\n",
            pd.url
        ),
        output("hook", "webhook", &hook.url, "incidents = true"),
    ]
    .concat();
    let (_dir, root) = setup(&config);
    let incident = |args: &[&str]| {
        Triage::new()
            .current_dir(&root)
            .args(["--data-dir", "state", "incident", "--actor", "bob"])
            .args(args)
            .run()
            .code(0)
    };
    let watch = Watch::start(&root, &[]);
    append(&root, "job 5 failed\n");
    watch.wait_stdout(1);
    pd.wait_until("trigger", |g| !g.is_empty());
    let got = hook.wait_until("the alert and the incident opened", |g| {
        g.iter().any(|g| g.body["event"] == "opened") && g.iter().any(|g| g.body["type"] == "alert")
    });
    let alert = got
        .iter()
        .find(|g| g.body["type"] == "alert")
        .expect("alert");
    assert_eq!(alert.body["incident"], "INC-1");
    watch.stop();

    // Nobody watching.
    incident(&["note", "disk checked while nobody watched"]);
    incident(&["ack"]);
    let watch = Watch::start(&root, &[]);
    hook.wait_until("the note and the ack", |g| {
        g.iter().any(|g| g.body["event"] == "acknowledged")
    });
    // PagerDuty acknowledges the key triggered before the restart.
    let got = pd.wait_until("acknowledge", |g| g.len() >= 2);
    assert_eq!(got[1].body["event_action"], "acknowledge");
    assert_eq!(got[1].body["dedup_key"], "triage/job-failed");
    // (Once the answers are in: a kill -9 between a receiver's 2xx and
    // its entry's removal repeats that entry, with its dedup key.)
    wait_outbox_empty(&root);
    watch.kill();

    // After a kill -9: what was sent is not sent again; what comes is.
    let watch = Watch::start(&root, &[]);
    incident(&["status", "resolved"]);
    hook.wait_until("resolved", |g| {
        g.iter().any(|g| g.body["event"] == "resolved")
    });
    pd.wait_until("resolve", |g| g.len() >= 3);
    watch.stop();
    // Started once more: only what is new (anything sent twice would
    // have gone before it).
    let watch = Watch::start(&root, &[]);
    incident(&["note", "--incident", "INC-1", "post-mortem on Monday"]);
    hook.wait_until("the last note", |g| {
        g.iter()
            .any(|g| g.body["actor"] == "bob" && g.body["summary"] == "post-mortem on Monday")
    });
    watch.stop();
    let events: Vec<String> = hook
        .got()
        .iter()
        .filter(|g| g.body["type"] == "incident")
        .map(|g| format!("{} {}", g.body["event"], g.body["actor"]))
        .inspect(|e| eprintln!("{e}"))
        .collect();
    assert_eq!(
        events,
        [
            "\"opened\" \"triage\"",
            "\"note\" \"bob\"",
            "\"acknowledged\" \"bob\"",
            "\"resolved\" \"bob\"",
            "\"note\" \"bob\""
        ]
    );
    let got = pd.got();
    let actions: Vec<&str> = got
        .iter()
        .map(|g| g.body["event_action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(actions, ["trigger", "acknowledge", "resolve"]);
}

/// Waits until no output has a notification waiting.
#[track_caller]
fn wait_outbox_empty(root: &Path) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let waiting: Vec<PathBuf> = fs::read_dir(root.join("state/outbox"))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .flat_map(|output| fs::read_dir(output.path()).into_iter().flatten())
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        if waiting.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "still waiting: {waiting:?}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// GET /metrics over a plain TCP connection.
fn scrape(addr: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .expect("send");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    body.to_owned()
}
