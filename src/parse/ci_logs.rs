//! Tests on CI logs as GitHub Actions gives them (`tests/fixtures/ci/`, see
//! its README): every line gets the runner's time, colour codes come off,
//! levels are read through the colours, and each message starts where the
//! build tool's line does, so that a signature anchored with `^` can match
//! it.
//!
//! Owns: nothing outside tests. Test-only I/O: reads the fixtures.

use std::{path::PathBuf, sync::Arc};

use jiff::{Timestamp, tz::TimeZone};

use super::{ReadAs, reader_for};
use crate::{
    model::{Event, Level, RawLine},
    tail::split::LineSplitter,
};

fn events(name: &str) -> Vec<Event> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ci")
        .join(name);
    let bytes = std::fs::read(path).expect("fixture reads");
    let now: Timestamp = "2026-11-21T12:00:00Z".parse().expect("valid");
    let read_as = ReadAs::in_zone(TimeZone::UTC);
    let mut reader = reader_for(&read_as, Arc::from(name), &bytes, true, now);
    let mut events = Vec::new();
    let mut keep = |event: Event, _: Option<Timestamp>| events.push(event);
    let mut splitter = LineSplitter::new(1 << 20);
    let lines = |push: &mut dyn FnMut(RawLine)| {
        splitter.push(&bytes, &mut |raw| push(raw));
        splitter.finish(&mut |raw| push(raw));
        Ok::<(), std::convert::Infallible>(())
    };
    let Ok(()) = reader.read_all(now, lines, &mut keep);
    events
}

fn find<'e>(events: &'e [Event], message: &str) -> &'e Event {
    events
        .iter()
        .find(|e| e.message_text().starts_with(message))
        .unwrap_or_else(|| panic!("no event whose message starts with {message:?}"))
}

#[test]
fn coloured_maven_in_a_github_actions_raw_log() {
    let events = events("maven-colour.log");
    let lines: u32 = events.iter().map(|e| e.lines).sum();
    assert_eq!(lines, 44);
    // Every line has the runner's time, the first one behind its byte
    // order mark too; no text keeps a colour code or the mark.
    assert!(events.iter().all(|e| e.ts.is_some()));
    assert_eq!(
        events[0].ts.map(|t| t.to_string()).as_deref(),
        Some("2024-05-14T09:20:41.1932412Z")
    );
    assert!(events.iter().all(|e| !e.text.contains('\u{1b}')));
    assert!(events[0].text.starts_with("2024-05-14T09:20:41.1932412Z "));
    // The message starts after the runner's time and Maven's level.
    let failure = find(&events, "BUILD FAILURE");
    assert_eq!(failure.message_text(), "BUILD FAILURE");
    assert_eq!(failure.level, Some(Level::Info));
    assert_eq!(
        failure.text,
        "2024-05-14T09:21:19.5539512Z [INFO] BUILD FAILURE"
    );
    let goal = find(&events, "Failed to execute goal");
    assert_eq!(goal.level, Some(Level::Error));
    assert_eq!(
        goal.message_text(),
        "Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) on project orders: There are test failures."
    );
    assert_eq!(find(&events, "Process completed").level, Some(Level::Error));
    assert_eq!(
        find(&events, "/home/runner/work/orders").level,
        Some(Level::Warn)
    );
    // A line the runner gives no level keeps its text whole.
    assert_eq!(
        find(&events, "Requested labels").message_text(),
        "Requested labels: ubuntu-latest"
    );
}

#[test]
fn gradle_in_gh_run_view_form() {
    let events = events("gradle-run-view.log");
    assert_eq!(events.len(), 25, "every line an event: each has a time");
    assert!(events.iter().all(|e| e.ts.is_some()));
    let failure = find(&events, "FAILURE: Build failed");
    assert_eq!(
        failure.message_text(),
        "FAILURE: Build failed with an exception."
    );
    assert_eq!(
        failure.ts.map(|t| t.to_string()).as_deref(),
        Some("2024-06-03T08:03:10.0312455Z")
    );
    assert_eq!(
        find(&events, "BUILD FAILED in").message_text(),
        "BUILD FAILED in 29s"
    );
    assert_eq!(
        find(&events, "> Task :test FAILED").message_text(),
        "> Task :test FAILED"
    );
    // An empty line of the step: its message is empty.
    assert!(events.iter().any(|e| e.message_text().is_empty()));
}
