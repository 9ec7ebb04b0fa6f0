//! The console driven in a real terminal (`tmux`): start the demo, wait for
//! an alert, mark a runbook step done (asked, then `y`), quit; the journal
//! has the step and the terminal is restored. At 80×24 and 200×50: Ctrl
//! chords write nothing, every journal-writing key asks and `y` writes (any
//! other key cancels), `!` asks a title and a severity and `I` switches
//! incidents, the prompts edit with readline keys, the log filters and the
//! detail view work. The console exits when its terminal goes away
//! (the tmux server killed), with or without a SIGHUP; and it attaches to a
//! running `triage watch`: the watch's alert shows, an operator action
//! lands in the journal, the watch keeps running. Skips (saying why) only
//! when tmux is missing; CI installs it (`.ci/run`).

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

/// A tmux server of its own (its own socket), killed when dropped.
pub(crate) struct Tmux {
    socket: String,
}

impl Tmux {
    pub(crate) fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub(crate) fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "ui"])
    }

    pub(crate) fn keys(&self, keys: &str) {
        self.run(&["send-keys", "-t", "ui", keys]);
    }

    /// Esc, then a pause: a key right after it would reach the console as
    /// an Alt chord (that is how terminals send Alt).
    fn escape(&self) {
        self.keys("Escape");
        thread::sleep(Duration::from_millis(300));
    }

    /// Types `text` as it is (no key names).
    fn literal(&self, text: &str) {
        self.run(&["send-keys", "-t", "ui", "-l", text]);
    }

    /// Waits until `done` holds for the screen, or panics with the screen.
    pub(crate) fn wait(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if what != "the console to exit" && screen.contains("EXITED") {
                panic!("triage ended while waiting for {what}:\n{screen}");
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

pub(crate) fn no_tmux() -> bool {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is missing in CI (.ci/run installs it)"
        );
        println!(
            "SKIPPED: tmux is not installed and could not be (.ci/run installs it with apt-get)"
        );
        return true;
    }
    false
}

/// A tmux server of its own, with one session `ui` of 100x30 running
/// `command` (through `sh -c`).
pub(crate) fn tmux_with(name: &str, command: &str) -> Tmux {
    let tmux = Tmux {
        socket: format!("triage-test-{name}-{}", std::process::id()),
    };
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "ui",
        "-x",
        "100",
        "-y",
        "30",
        command,
    ]);
    tmux
}

/// The `triage` processes whose command line holds `needle` (the test's
/// own temp directory), as `/proc` lists them; zombies (exited, not yet
/// reaped) do not count.
fn running_with(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).into_owned();
        let program = cmdline.split('\0').next().unwrap_or_default();
        if !program.ends_with("triage") {
            continue;
        }
        let zombie = std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|stat| {
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        });
        if cmdline.contains(needle) && !zombie {
            found.push(pid);
        }
    }
    found
}

fn journal_has(path: &Path, kind: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.contains(&format!("\"kind\":\"{kind}\"")))
}

/// `triage demo --speed SPEED` in a fresh directory (with `env`, such as
/// `USER=alice`), in a tmux session `ui` of `width`×`height`; `None` (the
/// test skipped) without tmux.
fn demo_in_tmux(
    name: &str,
    speed: u32,
    (width, height): (u16, u16),
    env: &str,
) -> Option<(tempfile::TempDir, PathBuf, Tmux)> {
    if no_tmux() {
        return None;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let demo = tmp.path().join("demo");
    let tmux = Tmux {
        socket: format!("triage-test-{name}-{}", std::process::id()),
    };
    let command = format!(
        "env -u TRIAGE_DATA_DIR {env} '{}' demo --speed {speed} --dir '{}'; echo \"EXITED $?\"; sleep 60",
        env!("CARGO_BIN_EXE_triage"),
        demo.display()
    );
    let (w, h) = (width.to_string(), height.to_string());
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "ui",
        "-x",
        &w,
        "-y",
        &h,
        &command,
    ]);
    Some((tmp, demo, tmux))
}

/// The demo's log time runs faster than the wall clock; what a person does
/// in its console is stamped on the same clock as its alerts, so the TTA of
/// an ack given as the incident opens is minutes, not the days between the
/// demo's dates and today.
#[test]
fn demo_console_acks_on_the_demos_clock() {
    let Some((_tmp, demo, tmux)) = demo_in_tmux("tta", 1, (100, 30), "") else {
        return;
    };
    tmux.wait("an incident", Duration::from_secs(60), |s| {
        s.contains("Timeline INC-1")
    });
    tmux.keys("a");
    tmux.wait("the question", Duration::from_secs(5), |s| {
        s.contains("y: write")
    });
    tmux.keys("y");
    wait_journal(&tmux, &demo.join(".triage").join("journal.jsonl"), "ack", 1);
    tmux.keys("q");
    tmux.wait("the console to exit", Duration::from_secs(15), |s| {
        s.contains("EXITED")
    });
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(demo.join(".triage"))
        .args(["export", "--format", "json"])
        .output()
        .expect("export runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON export");
    let tta = json["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["name"] == "TTA")
        .and_then(|m| m["millis"].as_i64())
        .unwrap_or_else(|| panic!("no TTA: {json}"));
    assert!(
        (0..10 * 60 * 1000).contains(&tta),
        "TTA {tta} ms: {}",
        json["metrics"]
    );
}

#[test]
fn demo_console_marks_a_step_done_and_restores_the_terminal() {
    let Some((_tmp, demo, tmux)) = demo_in_tmux("step", 20, (100, 30), "") else {
        return;
    };
    // The console comes up and the cascade fires: an incident opens.
    tmux.wait("an alert and an incident", Duration::from_secs(30), |s| {
        s.contains("CRIT") && s.contains("Timeline INC-1")
    });
    // The runbook pane: mark the selected step done.
    tmux.keys("3");
    tmux.wait("the runbook pane", Duration::from_secs(5), |s| {
        s.contains("3 Runbook:")
    });
    tmux.keys("d");
    tmux.wait("the question", Duration::from_secs(5), |s| {
        s.contains("y: write")
    });
    tmux.keys("y");
    let journal = demo.join(".triage").join("journal.jsonl");
    wait_journal(&tmux, &journal, "step.done", 1);
    tmux.wait("the step ticked", Duration::from_secs(10), |s| {
        s.contains("[✓]")
    });
    tmux.keys("q");
    let screen = tmux.wait("the console to exit", Duration::from_secs(15), |s| {
        s.contains("EXITED")
    });
    assert!(screen.contains("EXITED 0"), "{screen}");
    // Restored: back on the main screen, cursor shown, and none of the
    // console left on it.
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "ui", "#{alternate_on}"])
            .trim(),
        "0"
    );
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "ui", "#{cursor_flag}"])
            .trim(),
        "1"
    );
    assert!(!screen.contains("1 Alerts"), "{screen}");
    assert!(
        screen.contains("The demo's logs and journal are in"),
        "{screen}"
    );
    // The step, in the journal, as `triage incident` would have written it.
    let text = std::fs::read_to_string(&journal).expect("journal");
    let step = text
        .lines()
        .find(|l| l.contains("\"kind\":\"step.done\""))
        .expect("step line");
    assert!(step.contains("\"runbook\":"), "{step}");
}

/// Starts the console on a small file in tmux, kills the tmux server, and
/// checks the console has exited within a few seconds. `prefix` runs it
/// another way (e.g. `setsid`: no SIGHUP reaches it, it must find out from
/// the terminal itself).
fn console_exits_when_the_terminal_goes(name: &str, prefix: &str) {
    if no_tmux() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    let mut text = String::new();
    for i in 0..200 {
        text.push_str(&format!(
            "2026-11-21 03:00:{:02},000 INFO request {i} served\n",
            i % 60
        ));
    }
    text.push_str("2026-11-21 03:01:00,000 INFO the-last-line-of-the-file\n");
    std::fs::write(&log, text).expect("write");
    let data = tmp.path().join("data");
    let needle = tmp.path().display().to_string();
    let command = format!(
        "env -u TRIAGE_DATA_DIR {prefix} '{}' --data-dir '{}' ui '{}'; sleep 60",
        env!("CARGO_BIN_EXE_triage"),
        data.display(),
        log.display()
    );
    let tmux = tmux_with(name, &command);
    tmux.wait("the first screen", Duration::from_secs(20), |s| {
        s.contains("the-last-line-of-the-file")
    });
    let pids = running_with(&needle);
    assert!(!pids.is_empty(), "the console runs");
    tmux.run(&["kill-server"]);
    let start = Instant::now();
    while !running_with(&needle).is_empty() {
        if start.elapsed() > Duration::from_secs(8) {
            let left = running_with(&needle);
            // Do not leave it spinning: this test started it.
            for pid in &left {
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            }
            panic!("the console still runs 8 s after its terminal went away: {left:?}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_console_exits_when_its_terminal_is_killed() {
    console_exits_when_the_terminal_goes("hup", "");
}

#[test]
fn the_console_exits_when_its_terminal_goes_without_a_sighup() {
    // A session of its own: the hang-up signal goes to the pane's session,
    // not to the console, which must notice the terminal is gone.
    console_exits_when_the_terminal_goes("nohup", "setsid");
}

/// `triage watch` as a child, its JSON alerts collected.
struct Watch {
    child: Child,
    alerts: Arc<Mutex<Vec<String>>>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_console_attaches_to_a_running_watch() {
    if no_tmux() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("app.log");
    let data = tmp.path().join("data");
    std::fs::write(
        &log,
        "2026-11-21 03:12:08,000 INFO heap usage 41%\n\
         2026-11-21 03:12:09,114 ERROR [main] java.lang.OutOfMemoryError: Java heap space\n",
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(&data)
        .args(["watch", "--json", "--from-start", "--poll-interval", "20ms"])
        .arg(&log)
        .env_remove("TRIAGE_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("watch starts");
    let stdout = child.stdout.take().expect("piped");
    let watch = Watch {
        child,
        alerts: Arc::new(Mutex::new(Vec::new())),
    };
    let sink = Arc::clone(&watch.alerts);
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().expect("lock").push(line);
        }
    });
    let journal = data.join("journal.jsonl");
    crate::wait::until(
        "watch to record an alert",
        Duration::from_secs(20),
        || match journal_has(&journal, "signature.fired") {
            true => Ok(()),
            false => Err(format!(
                "the journal: {:?}",
                std::fs::read_to_string(&journal).unwrap_or_default()
            )),
        },
    );
    // Its stdout comes right after the journal.
    crate::wait::until(
        "watch to print an alert",
        Duration::from_secs(20),
        || match watch.alerts.lock().expect("lock").is_empty() {
            false => Ok(()),
            true => Err("nothing on its stdout".to_owned()),
        },
    );
    let command = format!(
        "env -u TRIAGE_DATA_DIR '{}' --data-dir '{}' ui '{}'; echo \"EXITED $?\"; sleep 60",
        env!("CARGO_BIN_EXE_triage"),
        data.display(),
        log.display()
    );
    let tmux = tmux_with("attach", &command);
    // The alert comes from the watch's journal; the console says it is
    // attached.
    tmux.wait("the watch's alert", Duration::from_secs(60), |s| {
        s.contains("attached to triage watch") && s.contains("JVM ran out of heap")
    });
    tmux.wait("the incident", Duration::from_secs(30), |s| {
        s.contains("Timeline INC-1")
    });
    // An operator action from the console lands in the journal the watch
    // writes.
    tmux.keys("a");
    tmux.wait("the question", Duration::from_secs(5), |s| {
        s.contains("y: write")
    });
    tmux.keys("y");
    let start = Instant::now();
    while !journal_has(&journal, "ack") {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no ack in the journal; the screen:\n{}",
            tmux.screen()
        );
        thread::sleep(Duration::from_millis(100));
    }
    // The watch keeps running, and still detects.
    let mut watch = watch;
    assert!(
        watch.child.try_wait().expect("status").is_none(),
        "watch stopped"
    );
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open");
    std::io::Write::write_all(
        &mut file,
        b"2026-11-21 03:13:00,000 ERROR [main] java.lang.OutOfMemoryError: Metaspace\n",
    )
    .expect("append");
    drop(file);
    crate::wait::until("watch's second alert", Duration::from_secs(20), || {
        let alerts = watch.alerts.lock().expect("lock");
        match alerts.len() >= 2 {
            true => Ok(()),
            false => Err(format!("{alerts:?}")),
        }
    });
    tmux.keys("q");
    let screen = tmux.wait("the console to exit", Duration::from_secs(15), |s| {
        s.contains("EXITED")
    });
    assert!(screen.contains("EXITED 0"), "{screen}");
    assert!(
        watch.child.try_wait().expect("status").is_none(),
        "watch stopped with the console"
    );
    // The ack is an operator's, on the watch's incident, in one chain.
    let text = std::fs::read_to_string(&journal).expect("journal");
    let ack = text
        .lines()
        .find(|l| l.contains("\"kind\":\"ack\""))
        .expect("ack line");
    assert!(ack.contains("\"incident\":\"INC-1\""), "{ack}");
    let verify = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(&data)
        .args(["incident", "verify"])
        .env_remove("TRIAGE_DATA_DIR")
        .output()
        .expect("verify runs");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

fn journal_count(path: &Path, kind: &str) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| {
        text.matches(&format!("\"kind\":\"{kind}\"")).count()
    })
}

/// Waits until the journal holds `n` events of `kind`.
fn wait_journal(tmux: &Tmux, path: &Path, kind: &str, n: usize) {
    let start = Instant::now();
    while journal_count(path, kind) < n {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{n} {kind} expected in the journal; the screen:\n{}",
            tmux.screen()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// The demo's console at `width`×`height`, driven as a person would.
fn console_keys_at(width: u16, height: u16) {
    let Some((_tmp, demo, tmux)) =
        demo_in_tmux(&format!("keys-{width}"), 20, (width, height), "USER=alice")
    else {
        return;
    };
    let journal = demo.join(".triage").join("journal.jsonl");
    tmux.wait("an alert and an incident", Duration::from_secs(40), |s| {
        s.contains("CRIT") && s.contains("Timeline INC-1")
    });
    // Ctrl chords in the runbook pane: Ctrl-D pages, Ctrl-A and Ctrl-X do
    // nothing; none of them writes.
    tmux.keys("3");
    tmux.wait("the runbook pane", Duration::from_secs(5), |s| {
        s.contains("3 Runbook:")
    });
    for chord in ["C-d", "C-a", "C-x", "M-d", "C-s"] {
        tmux.keys(chord);
    }
    tmux.keys("g");
    // A step: asked, cancelled by another key, asked again, written on y.
    tmux.keys("d");
    tmux.wait("the question", Duration::from_secs(5), |s| {
        s.contains("y: write") && s.contains("step done")
    });
    tmux.keys("n");
    // The question goes (the status bar may by then say something else:
    // the demo announces the end of its logs).
    tmux.wait("cancelled", Duration::from_secs(5), |s| {
        !s.contains("y: write")
    });
    tmux.keys("d");
    tmux.wait("the question", Duration::from_secs(5), |s| {
        s.contains("y: write")
    });
    tmux.keys("y");
    wait_journal(&tmux, &journal, "step.done", 1);
    // Keys become journal writes in order, on one thread: once this step
    // is in, a write of the cancelled question or of a chord would be too.
    assert_eq!(journal_count(&journal, "step.done"), 1, "{}", tmux.screen());
    assert_eq!(journal_count(&journal, "ack"), 0, "Ctrl-A acknowledged");
    tmux.wait("the step ticked", Duration::from_secs(10), |s| {
        s.contains("[✓]")
    });
    // Ack: asked, then written.
    tmux.keys("a");
    tmux.wait("the ack question", Duration::from_secs(5), |s| {
        s.contains("y: write") && s.contains("acknowledge")
    });
    tmux.keys("y");
    wait_journal(&tmux, &journal, "ack", 1);
    // Severity: v, a choice, y.
    tmux.keys("v");
    tmux.keys("m");
    tmux.wait("the severity question", Duration::from_secs(5), |s| {
        s.contains("severity → medium")
    });
    tmux.keys("y");
    wait_journal(&tmux, &journal, "severity.changed", 1);
    // A note, edited with readline keys: Ctrl-W deletes a word, Ctrl-U
    // the line; Enter sends it.
    tmux.keys("i");
    tmux.literal("wrong words");
    tmux.keys("C-w");
    tmux.keys("C-u");
    tmux.literal("failing over to the replica");
    tmux.keys("C-a");
    tmux.literal(">> ");
    tmux.keys("Enter");
    wait_journal(&tmux, &journal, "note", 1);
    let text = std::fs::read_to_string(&journal).expect("journal");
    assert!(
        text.contains("\"text\":\">> failing over to the replica\""),
        "{text}"
    );
    // `!`: a title, a severity, y; the new incident is shown, I goes back.
    tmux.keys("!");
    tmux.wait("the title prompt", Duration::from_secs(5), |s| {
        s.contains("declare an incident, title:")
    });
    tmux.literal("checkout down");
    tmux.keys("Enter");
    tmux.keys("h");
    tmux.wait("the declare question", Duration::from_secs(5), |s| {
        s.contains("checkout down") && s.contains("y: write")
    });
    tmux.keys("y");
    tmux.wait("the new incident", Duration::from_secs(10), |s| {
        s.contains("Timeline INC-2")
    });
    assert!(
        std::fs::read_to_string(&journal)
            .expect("journal")
            .contains("\"title\":\"checkout down\"")
    );
    tmux.keys("I");
    tmux.wait("back to the first incident", Duration::from_secs(5), |s| {
        s.contains("Timeline INC-1")
    });
    // The log pane: errors only, listed in the status bar; the detail view.
    tmux.keys("2");
    for _ in 0..4 {
        tmux.keys("L");
    }
    tmux.wait("the level filter", Duration::from_secs(5), |s| {
        s.contains("filters: level≥error") && s.contains("shown by the filters")
    });
    tmux.keys("Enter");
    tmux.wait("the detail view", Duration::from_secs(5), |s| {
        s.contains("Event — Esc closes") && s.contains("error")
    });
    tmux.escape();
    // Exactly the selected event's level (an error or worse), and back.
    tmux.keys("O");
    tmux.wait("the exact level", Duration::from_secs(5), |s| {
        s.contains("filters: level=") && s.contains("shown by the filters")
    });
    tmux.keys("=");
    let screen = tmux.wait("the filters removed", Duration::from_secs(5), |s| {
        !s.contains("shown by the filters")
    });
    // The histogram strip when the log pane has room (not at 80×24).
    assert_eq!(screen.contains("/bar, peak"), height >= 50, "{screen}");
    // Search: the prompt opens empty; Up recalls.
    tmux.keys("/");
    tmux.literal("OutOfMemoryError");
    tmux.keys("Enter");
    tmux.keys("/");
    tmux.keys("Up");
    tmux.wait("the recalled query", Duration::from_secs(5), |s| {
        s.contains("search: OutOfMemoryError")
    });
    tmux.escape();
    tmux.keys("q");
    let screen = tmux.wait("the console to exit", Duration::from_secs(15), |s| {
        s.contains("EXITED")
    });
    assert!(screen.contains("EXITED 0"), "{screen}");
    let verify = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--data-dir")
        .arg(demo.join(".triage"))
        .args(["incident", "verify"])
        .env_remove("TRIAGE_DATA_DIR")
        .output()
        .expect("verify runs");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[test]
fn console_keys_at_80_by_24() {
    console_keys_at(80, 24);
}

#[test]
fn console_keys_at_200_by_50() {
    console_keys_at(200, 50);
}

/// The Patterns view on the demo: `P` lists the templates of what the
/// console read with those new since the incident opened marked `new`;
/// `s` writes a signature for it that `check` accepts; Enter shows the
/// selected template's events in the log pane.
#[test]
fn demo_console_patterns_view_shows_new_templates_and_their_events() {
    let Some((_tmp, demo, tmux)) = demo_in_tmux("patterns", 20, (100, 30), "") else {
        return;
    };
    tmux.wait("an incident", Duration::from_secs(60), |s| {
        s.contains("Timeline INC-1")
    });
    tmux.keys("P");
    let new_row = |s: &str| {
        s.lines()
            .any(|l| l.trim_start_matches(['│', ' ']).starts_with("new "))
    };
    // The whole view, its selected template's line included (a capture can
    // catch a frame half drawn).
    tmux.wait(
        "the Patterns view with a new template",
        Duration::from_secs(30),
        |s| {
            s.contains("Patterns ·")
                && s.contains("since INC-1 opened")
                && new_row(s)
                && s.contains("template ")
        },
    );
    // `s`: a signature for the selected template, under the data directory,
    // which `triage check` accepts as it is.
    tmux.keys("s");
    let suggested = demo.join(".triage").join("suggested");
    tmux.wait("the suggestion written", Duration::from_secs(10), |s| {
        s.contains("suggested signature written")
    });
    let files: Vec<PathBuf> = std::fs::read_dir(&suggested)
        .expect("suggested/")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let toml = std::fs::read_to_string(&files[0]).expect("read");
    assert!(toml.starts_with("[[signature]]\n"), "{toml}");
    let check = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("--patterns")
        .arg(&suggested)
        .arg("check")
        .env_remove("TRIAGE_DATA_DIR")
        .output()
        .expect("check runs");
    assert!(
        check.status.success(),
        "{toml}\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    // The first row is selected: a new template; its events in the log pane.
    tmux.keys("Enter");
    let screen = tmux.wait("its events in the log pane", Duration::from_secs(10), |s| {
        s.contains("events of pattern")
    });
    assert!(!screen.contains("Patterns ·"), "the view closed:\n{screen}");
    tmux.keys("q");
    let screen = tmux.wait("the console to exit", Duration::from_secs(15), |s| {
        s.contains("EXITED")
    });
    assert!(screen.contains("EXITED 0"), "{screen}");
}
