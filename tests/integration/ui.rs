//! The console driven in a real terminal (`tmux`): start the demo, wait for
//! an alert, mark a runbook step done, quit; the journal has the step and
//! the terminal is restored. Skips (saying why) only when tmux is missing;
//! CI installs it (`.ci/run`).

use std::{
    path::Path,
    process::Command,
    thread,
    time::{Duration, Instant},
};

/// A tmux server of its own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "ui"])
    }

    fn keys(&self, keys: &str) {
        self.run(&["send-keys", "-t", "ui", keys]);
    }

    /// Waits until `done` holds for the screen, or panics with the screen.
    fn wait(&self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
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

fn journal_has(path: &Path, kind: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.contains(&format!("\"kind\":\"{kind}\"")))
}

#[test]
fn demo_console_marks_a_step_done_and_restores_the_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!(
            "SKIPPED: tmux is not installed and could not be (.ci/run installs it with apt-get)"
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let demo = tmp.path().join("demo");
    let tmux = Tmux {
        socket: format!("triage-test-{}", std::process::id()),
    };
    let command = format!(
        "env -u TRIAGE_DATA_DIR '{}' demo --speed 20 --dir '{}'; echo \"EXITED $?\"; sleep 60",
        env!("CARGO_BIN_EXE_triage"),
        demo.display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "ui",
        "-x",
        "100",
        "-y",
        "30",
        &command,
    ]);
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
    let journal = demo.join(".triage").join("journal.jsonl");
    let start = Instant::now();
    while !journal_has(&journal, "step.done") {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no step.done in the journal; the screen:\n{}",
            tmux.screen()
        );
        thread::sleep(Duration::from_millis(100));
    }
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
