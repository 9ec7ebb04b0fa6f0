//! `triage formats` and the time layouts behind it, through the real
//! binary: on Loghub's logs of real systems and CI logs
//! (`tests/fixtures/loghub/`, `tests/fixtures/ci/`), with `triage.toml`'s
//! `time_format`.

use std::fs;

use crate::harness::{Triage, fixture};

#[test]
fn formats_says_which_format_and_time_layout_each_file_has() {
    let out = Triage::new()
        .arg("formats")
        .arg(fixture("loghub/Spark.log"))
        .arg(fixture("loghub/OpenStack.log"))
        .arg(fixture("loghub/Android.log"))
        .arg(fixture("ci/gradle-run-view.log"))
        .run()
        .code(0);
    let blocks: Vec<&str> = out.stdout.split("\n").collect();
    let text = out.stdout.as_str();
    assert!(
        text.contains("Spark.log: plain\n  time: yy/MM/dd HH:mm:ss, at the start of the line, e.g. \"17/06/09 20:10:40\""),
        "{text}"
    );
    assert!(
        text.contains("OpenStack.log: plain\n  time: ISO 8601 (yyyy-MM-dd HH:mm:ss), in field 2"),
        "{text}"
    );
    assert!(
        text.contains("Android.log: logcat\n  time: MM-dd HH:mm:ss, at the start of the line"),
        "{text}"
    );
    assert!(
        text.contains(
            "gradle-run-view.log: plain\n  time: ISO 8601 (yyyy-MM-dd HH:mm:ss), after tab 2"
        ),
        "{text}"
    );
    assert_eq!(
        blocks
            .iter()
            .filter(|l| l
                .starts_with("  file: 200 events (200 lines), 200 with a time, 200 with a level"))
            .count(),
        3,
        "{text}"
    );
    let json = Triage::new()
        .args(["formats", "--json"])
        .arg(fixture("loghub/HealthApp.log"))
        .arg(fixture("loghub/Proxifier.log"))
        .run()
        .code(0)
        .json_lines();
    assert_eq!(json.len(), 2);
    for file in &json {
        assert_eq!(file["events"], 200, "{file}");
        assert_eq!(file["events_with_time"], 200, "{file}");
        assert!(file["first_without_time"].is_null(), "{file}");
    }
    assert_eq!(json[0]["time"]["example"], "20171223-22:15:29:606");
    assert_eq!(
        json[1]["time"]["layout"],
        "MM.dd HH:mm:ss, at the start of the line"
    );
}

#[test]
fn formats_shows_the_first_event_without_a_time_and_reports_unreadable_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("mixed.log");
    fs::write(
        &log,
        "2026-11-21 03:00:00 INFO up\nstarting worker pool\n2026-11-21 03:00:01 INFO ready\n2026-11-21 03:00:02 WARN slow\n",
    )
    .expect("write");
    let out = Triage::new()
        .arg("formats")
        .arg(&log)
        .arg(tmp.path().join("absent.log"))
        .run()
        .code(2);
    assert!(
        out.stdout
            .contains("  file: 3 events (4 lines), 3 with a time, 3 with a level"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("absent.log"), "{}", out.stderr);
    let odd = tmp.path().join("odd.log");
    fs::write(&odd, "boot\n2026-11-21 03:00:00 INFO up\n").expect("write");
    let out = Triage::new().arg("formats").arg(&odd).run().code(0);
    assert!(
        out.stdout
            .contains("  first event without a time: line 1: boot"),
        "{}",
        out.stdout
    );
}

#[test]
fn time_format_in_triage_toml_decides_a_layout_and_errors_point_at_the_column() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Unsettled day and month: with slashes, triage reads month first.
    fs::write(
        tmp.path().join("uk.log"),
        "05/11/2026 10:00:00 ERROR payment failed\n06/11/2026 10:00:01 INFO retried\n",
    )
    .expect("write");
    let first_time = |dir: &std::path::Path| {
        let events = Triage::new()
            .current_dir(dir)
            .args(["scan", "--all", "--json", "--timezone", "UTC", "uk.log"])
            .run()
            .code(0)
            .json_lines();
        events[0]["ts"].as_str().map(str::to_owned)
    };
    assert_eq!(
        first_time(tmp.path()).as_deref(),
        Some("2026-05-11T10:00:00Z")
    );
    fs::write(
        tmp.path().join("triage.toml"),
        "[[source]]\nname = 'uk'\npaths = ['uk.log']\ntime_format = '%d/%m/%Y %H:%M:%S'\n",
    )
    .expect("write");
    assert_eq!(
        first_time(tmp.path()).as_deref(),
        Some("2026-11-05T10:00:00Z")
    );
    let out = Triage::new()
        .current_dir(tmp.path())
        .args(["formats", "uk.log"])
        .run()
        .code(0);
    assert!(
        out.stdout.contains(
            "time: time_format \"%d/%m/%Y %H:%M:%S\", at the start of the line (triage.toml)"
        ),
        "{}",
        out.stdout
    );
    fs::write(
        tmp.path().join("triage.toml"),
        "[[source]]\nname = 'uk'\npaths = ['uk.log']\ntime_format = '%d/%m/%Y %H:%M:%q'\n",
    )
    .expect("write");
    let out = Triage::new()
        .current_dir(tmp.path())
        .args(["formats", "uk.log"])
        .run()
        .code(2);
    assert!(
        out.stderr
            .starts_with("triage.toml:4:31: time_format: unknown directive `%q` (known: %Y"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_day_over_twelve_later_in_the_sample_settles_day_and_month_for_every_line() {
    // `05/11/2026` alone reads month first; the fourth line's `21/11`
    // cannot, so the whole file is day first, its first line included.
    let tmp = tempfile::tempdir().expect("tempdir");
    fs::write(
        tmp.path().join("billing.log"),
        "05/11/2026 10:00:00 ERROR payment failed\n\
         06/11/2026 10:00:01 INFO retried\n\
         12/11/2026 08:30:00 INFO batch started\n\
         21/11/2026 09:15:00 WARN batch slow\n",
    )
    .expect("write");
    let events = Triage::new()
        .current_dir(tmp.path())
        .args([
            "scan",
            "--all",
            "--json",
            "--timezone",
            "UTC",
            "billing.log",
        ])
        .run()
        .code(0)
        .json_lines();
    let times: Vec<&str> = events.iter().filter_map(|e| e["ts"].as_str()).collect();
    assert_eq!(
        times,
        [
            "2026-11-05T10:00:00Z",
            "2026-11-06T10:00:01Z",
            "2026-11-12T08:30:00Z",
            "2026-11-21T09:15:00Z"
        ]
    );
    let out = Triage::new()
        .current_dir(tmp.path())
        .args(["formats", "billing.log"])
        .run()
        .code(0);
    assert!(out.stdout.contains("time: dd/MM/yy"), "{}", out.stdout);
}

#[test]
fn coloured_maven_output_is_shown_without_its_colour_codes() {
    let out = Triage::new()
        .args(["scan", "--all", "--timezone", "UTC"])
        .arg(fixture("ci/maven-colour.log"))
        .run()
        .code(0);
    assert!(!out.stdout.contains('\u{1b}'), "{}", out.stdout);
    assert!(!out.stdout.contains("\\x1b"), "{}", out.stdout);
    assert!(
        out.stdout.contains("2024-05-14T09:21:19.5539512Z info "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "2024-05-14T09:21:19.5539512Z [INFO] BUILD FAILURE  [ci-maven-build-failure]\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn anchored_signatures_fire_after_a_ci_runners_prefix_and_colour_codes() {
    // `^\[INFO\] BUILD FAILURE$` and `^FAILURE: Build failed with an
    // exception\.$`: each line starts with the runner's time (and, in `gh
    // run view`'s form, the job and step), Maven's with colour codes inside.
    let out = Triage::new()
        .args(["scan", "--timezone", "UTC"])
        .arg(fixture("ci/maven-colour.log"))
        .arg(fixture("ci/gradle-run-view.log"))
        .run()
        .code(0);
    for id in [
        "ci-maven-build-failure",
        "ci-test-failures",
        "ci-gradle-build-failed",
    ] {
        assert!(out.stdout.contains(id), "{id}: {}", out.stdout);
    }
    assert!(
        out.stdout
            .contains("2024-05-14T09:21:19.5539512Z [INFO] BUILD FAILURE\n"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains('\u{1b}'), "{}", out.stdout);
}
