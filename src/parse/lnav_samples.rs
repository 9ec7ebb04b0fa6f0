//! Tests against the sample lines of lnav's format definitions
//! (`tests/fixtures/lnav/samples.jsonl`, see its README and LICENSE): each
//! sample, read as a source of its own (its profile learned from it alone),
//! gives lnav's time and, where the sample names one, lnav's level; the few
//! samples where triage reads differently on purpose say so and why.
//!
//! Owns: nothing outside tests. Test-only I/O: reads the fixture.

use std::{path::PathBuf, sync::Arc};

use jiff::{Timestamp, tz::TimeZone};
use serde_json::Value;

use super::{ReadAs, reader_for};
use crate::{
    model::{Event, Level, RawLine},
    tail::split::LineSplitter,
};

/// The present the samples are read at: late in a year, so that a time
/// without a year is this year's for lnav (which takes the current year)
/// and for triage (which takes the latest not in the future) alike.
const NOW: &str = "2026-12-31T12:00:00Z";

/// The first event of `text` read as a whole source.
fn first_event(text: &str) -> Option<Event> {
    let now: Timestamp = NOW.parse().expect("valid");
    let read_as = ReadAs::in_zone(TimeZone::UTC);
    let mut reader = reader_for(&read_as, Arc::from("sample"), text.as_bytes(), true, now);
    let mut events = Vec::new();
    let mut keep = |event: Event, _: Option<Timestamp>| events.push(event);
    let mut splitter = LineSplitter::new(1 << 20);
    let lines = |push: &mut dyn FnMut(RawLine)| {
        splitter.push(text.as_bytes(), &mut |raw| push(raw));
        splitter.finish(&mut |raw| push(raw));
        Ok::<(), std::convert::Infallible>(())
    };
    let Ok(()) = reader.read_all(now, lines, &mut keep);
    events.into_iter().next()
}

fn lnav_level(name: &str) -> Level {
    match name {
        "trace" => Level::Trace,
        "debug" => Level::Debug,
        "info" => Level::Info,
        "notice" => Level::Notice,
        "warning" => Level::Warn,
        "error" => Level::Error,
        "critical" => Level::Critical,
        "fatal" => Level::Fatal,
        other => panic!("lnav level {other} not in the test's table"),
    }
}

#[test]
fn lnav_format_samples_give_lnavs_time_and_level() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lnav/samples.jsonl");
    let text = std::fs::read_to_string(&path).expect("fixture reads");
    let (mut samples, mut with_time, mut same_time) = (0, 0, 0);
    let (mut with_level, mut same_level) = (0, 0);
    let mut differences = Vec::new();
    let mut failures = Vec::new();
    for line in text.lines() {
        let sample: Value = serde_json::from_str(line).expect("a JSON line");
        let format = sample["format"].as_str().expect("format");
        let line = sample["line"].as_str().expect("line");
        let lnav_time = sample["time"].as_str();
        let lnav_level_of = sample["level"].as_str().map(lnav_level);
        let ours = sample.get("triage");
        let want_time = match ours.and_then(|o| o.get("time")) {
            Some(time) => time.as_str(),
            None => lnav_time,
        };
        let want_level = match ours.and_then(|o| o.get("level")) {
            Some(level) => level.as_str().map(lnav_level),
            None => lnav_level_of,
        };
        let event = first_event(line);
        let got_time = event.as_ref().and_then(|e| e.ts).map(|t| t.to_string());
        let got_level = event.as_ref().and_then(|e| e.level);
        samples += 1;
        if lnav_time.is_some() {
            with_time += 1;
            same_time += usize::from(got_time.as_deref() == lnav_time);
        }
        if lnav_level_of.is_some() {
            with_level += 1;
            same_level += usize::from(got_level == lnav_level_of);
        }
        if let Some(why) = ours.and_then(|o| o.get("why")).and_then(Value::as_str) {
            differences.push(format!("{format}: {why}"));
        }
        if got_time.as_deref() != want_time {
            failures.push(format!(
                "{format}: time {got_time:?}, want {want_time:?}: {line}"
            ));
        }
        if want_level.is_some() && got_level != want_level {
            failures.push(format!(
                "{format}: level {got_level:?}, want {want_level:?}: {line}"
            ));
        }
    }
    eprintln!(
        "lnav samples: {samples}; lnav's time in {same_time} of {with_time}, lnav's level in {same_level} of {with_level}; on purpose:\n  {}",
        differences.join("\n  ")
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Excerpts of the logs in lnav's own tests (`tests/fixtures/lnav/logs/`,
/// from tstack/lnav `test/`), read as whole sources: each first event's
/// time and level, as lnav reads them (a level lnav's format does not name
/// from a JSON key triage does not know, MongoDB's `"s":"I"`, is none).
#[test]
fn lnav_test_logs_give_lnavs_time_and_level() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lnav/logs");
    let cases = [
        // The level glued to the time and the message by colons.
        (
            "logfile_generic.0",
            Some("2012-07-02T10:22:40.672Z"),
            Some(Level::Debug),
        ),
        (
            "logfile_vami.0",
            Some("2015-03-12T23:16:52.071Z"),
            Some(Level::Info),
        ),
        // MongoDB's `{"t":{"$date":...}}`.
        ("logfile_mongodb.0", Some("2026-03-10T20:58:09.401Z"), None),
        // `journalctl -o json`: microseconds since the epoch, `PRIORITY`.
        (
            "logfile_journald.json",
            Some("2018-08-21T14:04:21.221373Z"),
            Some(Level::Critical),
        ),
        // Cloudflare's logs: nanoseconds since the epoch.
        ("logfile_cloudflare.1", Some("2024-04-10T23:00:00.1Z"), None),
    ];
    let mut failures = Vec::new();
    for (file, time, level) in cases {
        let text = std::fs::read_to_string(dir.join(file)).expect("fixture reads");
        let event = first_event(&text).expect("an event");
        let got = (event.ts.map(|t| t.to_string()), event.level);
        if got != (time.map(str::to_owned), level) {
            failures.push(format!("{file}: got {got:?}, want {:?}", (time, level)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
