//! Tests against logs of sixteen real systems from Loghub
//! (`tests/fixtures/loghub/`, the first 200 lines of each `*_2k.log`, see
//! its LICENSE): every line gets the time and level Loghub's own structured
//! CSV gives for it (its `Date`/`Time`/`Timestamp`/`Level` columns, as
//! written there, read here by `jiff`'s `strptime` with each system's
//! documented layout: an extraction independent of the parser's).
//!
//! Owns: nothing outside tests. Test-only I/O: reads the fixtures.

use std::{collections::HashMap, path::PathBuf, sync::Arc};

use jiff::{Timestamp, civil::DateTime, tz::TimeZone};

use super::{ReadAs, reader_for};
use crate::{
    model::{Event, Level, RawLine},
    tail::split::LineSplitter,
};

/// The present the logs are read at: late in a year, so that times without
/// a year (Android, syslog, Proxifier) are this year's.
const NOW: &str = "2026-12-31T12:00:00Z";
/// The year times without one are given.
const YEAR: &str = "2026";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/loghub")
}

/// Every event of a fixture, read as `scan` reads a file.
fn events(name: &str) -> Vec<Event> {
    let bytes = std::fs::read(dir().join(format!("{name}.log"))).expect("fixture reads");
    let now: Timestamp = NOW.parse().expect("valid");
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

/// The expected columns of each line, by line number.
fn expected(name: &str) -> Vec<HashMap<String, String>> {
    let text =
        std::fs::read_to_string(dir().join(format!("{name}.expected.tsv"))).expect("fixture reads");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    lines
        .map(|line| {
            header
                .iter()
                .zip(line.split('\t'))
                .map(|(k, v)| (k.to_string(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// A civil time in UTC (the test's zone) by `strptime`.
fn civil(format: &str, text: &str) -> Timestamp {
    let dt = DateTime::strptime(format, text)
        .unwrap_or_else(|err| panic!("{text:?} as {format}: {err}"));
    dt.to_zoned(TimeZone::UTC).expect("valid").timestamp()
}

fn epoch(text: &str) -> Timestamp {
    Timestamp::from_second(text.parse().expect("epoch")).expect("valid")
}

/// The time Loghub's columns give for a line of `system`, read with the
/// system's layout as Loghub documents it.
fn expected_time(system: &str, row: &HashMap<String, String>) -> Timestamp {
    let col = |name: &str| row[name].as_str();
    match system {
        "Android" => civil(
            "%Y-%m-%d %H:%M:%S%.f",
            &format!("{YEAR}-{} {}", col("Date"), col("Time")),
        ),
        "Apache" => civil("%a %b %d %H:%M:%S %Y", col("Time")),
        "BGL" | "Thunderbird" => epoch(col("Timestamp")),
        "HPC" => epoch(col("Time")),
        "HDFS" => civil("%y%m%d %H%M%S", &format!("{} {}", col("Date"), col("Time"))),
        "Hadoop" | "Zookeeper" => civil(
            "%Y-%m-%d %H:%M:%S%.f",
            &format!("{} {}", col("Date"), col("Time").replace(',', ".")),
        ),
        "HealthApp" => {
            // yyyyMMdd-HH:mm:ss:S, the milliseconds unpadded (`:11`
            // comes between `:851` and `:12`).
            let (date_time, millis) = col("Time").rsplit_once(':').expect("millis");
            let millis: u32 = millis.parse().expect("millis");
            civil("%Y%m%d-%H:%M:%S%.f", &format!("{date_time}.{millis:03}"))
        }
        "Linux" | "Mac" => civil(
            "%Y %b %d %H:%M:%S",
            &format!("{YEAR} {} {} {}", col("Month"), col("Date"), col("Time")),
        ),
        "OpenSSH" => civil(
            "%Y %b %d %H:%M:%S",
            &format!("{YEAR} {} {} {}", col("Date"), col("Day"), col("Time")),
        ),
        "OpenStack" | "Windows" => civil(
            "%Y-%m-%d %H:%M:%S%.f",
            &format!("{} {}", col("Date"), col("Time")),
        ),
        // MM.dd HH:mm:ss
        "Proxifier" => civil("%Y.%m.%d %H:%M:%S", &format!("{YEAR}.{}", col("Time"))),
        // yy/MM/dd HH:mm:ss (log4j's pattern in Spark's default configuration)
        "Spark" => civil(
            "%y/%m/%d %H:%M:%S",
            &format!("{} {}", col("Date"), col("Time")),
        ),
        other => panic!("no layout for {other}"),
    }
}

/// The test's own reading of Loghub's level column.
fn expected_level(text: &str) -> Level {
    match text {
        "V" => Level::Trace,
        "D" => Level::Debug,
        "I" | "INFO" | "Info" | "notice" => match text {
            "notice" => Level::Notice,
            _ => Level::Info,
        },
        "W" | "WARN" | "WARNING" => Level::Warn,
        "E" | "error" | "ERROR" | "SEVERE" => Level::Error,
        "FATAL" => Level::Fatal,
        other => panic!("level {other:?} not in the test's table"),
    }
}

const SYSTEMS: [&str; 16] = [
    "Android",
    "Apache",
    "BGL",
    "HDFS",
    "HPC",
    "Hadoop",
    "HealthApp",
    "Linux",
    "Mac",
    "OpenSSH",
    "OpenStack",
    "Proxifier",
    "Spark",
    "Thunderbird",
    "Windows",
    "Zookeeper",
];

#[test]
fn every_loghub_line_gets_loghubs_time_and_level() {
    let mut report = Vec::new();
    for system in SYSTEMS {
        let events = events(system);
        let rows = expected(system);
        assert_eq!(events.len(), rows.len(), "{system}: one event per line");
        let (mut times, mut levels) = (0, 0);
        for (event, row) in events.iter().zip(&rows) {
            assert_eq!(event.line_no.to_string(), row["LineId"], "{system}");
            let want = expected_time(system, row);
            assert_eq!(
                event.ts,
                Some(want),
                "{system}:{}: {}",
                event.line_no,
                event.text
            );
            times += 1;
            if let Some(level) = row.get("Level") {
                assert_eq!(
                    event.level,
                    Some(expected_level(level)),
                    "{system}:{}: {}",
                    event.line_no,
                    event.text
                );
                levels += 1;
            }
        }
        report.push(format!("{system}: {times} times, {levels} levels"));
    }
    eprintln!("{}", report.join("\n"));
}
