//! Tests of the parser against logs real systems wrote
//! (`../shared/data/`, see its README): every line gets the right
//! timestamp, checked against an independent extraction (one plain regex per
//! file shape, its own zone table), the format is detected, and multi-line
//! PostgreSQL statements come out as one event.
//!
//! Owns: nothing outside tests. Test-only I/O: reads the data files (plain
//! or gzip). Outside CI a checkout without the data folder beside it skips
//! these tests, with a note on stderr; in CI (`CI` set) a missing folder
//! fails them.

use std::{io::Read, path::PathBuf, sync::Arc};

use jiff::{Timestamp, civil::DateTime, tz::TimeZone};
use regex::Regex;

use super::{Assembler, Format, Limits, Multiline, Parser, TimeContext};
use crate::model::{Level, RawLine};

/// An independent reading of a line's timestamp.
type Extract = fn(&str) -> Option<Timestamp>;

fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing in CI",
        dir.display()
    );
    eprintln!("skipped: {} is absent", dir.display());
    None
}

fn read_lines(path: &PathBuf) -> Vec<String> {
    let bytes = std::fs::read(path).expect("data file reads");
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .expect("gzip");
        out
    } else {
        bytes
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

fn ctx() -> TimeContext {
    // The syslog files have no year: read them as if in 2026.
    TimeContext::new(
        TimeZone::UTC,
        "2026-11-21T12:00:00Z".parse().expect("valid"),
    )
}

/// The test's own zone table, independent of the parser's.
fn zone_hours(zone: &str) -> i64 {
    match zone {
        "" | "UTC" | "GMT" | "Z" | "+00:00" => 0,
        "CET" => 1,
        "CEST" => 2,
        "MSK" => 3,
        other => panic!("zone {other} not in the test's table"),
    }
}

/// The timestamp an independent regex finds at the start of a PostgreSQL
/// line (stderr, CSV, RDS, logplex): date, time, zone.
fn expected_postgres(line: &str) -> Option<Timestamp> {
    static RE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(
            r#"^"?(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?)(?: ?([A-Z]{3,4}|\+00:00)\b)?"#,
        )
        .expect("valid")
    });
    let caps = RE.captures(line)?;
    let civil: DateTime = format!("{}T{}", &caps[1], &caps[2]).parse().ok()?;
    let zone = caps.get(3).map_or("", |m| m.as_str());
    let utc = civil.to_zoned(TimeZone::UTC).ok()?.timestamp();
    Some(utc - jiff::SignedDuration::from_hours(zone_hours(zone)))
}

fn expected_syslog(line: &str) -> Option<Timestamp> {
    static RE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) ").expect("valid")
    });
    let caps = RE.captures(line)?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == &caps[1])?
        + 1;
    let text = format!("2026-{month:02}-{:0>2}T{}Z", &caps[2], &caps[3]);
    text.parse().ok()
}

fn expected_cnpg(line: &str) -> Option<Timestamp> {
    static RE: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r#""ts":(\d+)\.(\d+)"#).expect("valid"));
    let caps = RE.captures(line)?;
    let seconds: i64 = caps[1].parse().ok()?;
    let fraction = format!("{:0<9}", &caps[2][..caps[2].len().min(9)]);
    let nanos: i32 = fraction.parse().ok()?;
    Timestamp::new(seconds, nanos).ok()
}

fn expected_cloudsql(line: &str) -> Option<Timestamp> {
    static RE: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r#","timestamp":"([^"]+)""#).expect("valid"));
    RE.captures(line)?[1].parse().ok()
}

fn expected_access(line: &str) -> Option<Timestamp> {
    static RE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^\S+ \S+ \S+ \[(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d:\d\d:\d\d) \+0000\]")
            .expect("valid")
    });
    let caps = RE.captures(line)?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == &caps[2])?
        + 1;
    format!("{}-{month:02}-{}T{}Z", &caps[3], &caps[1], &caps[4])
        .parse()
        .ok()
}

/// Per file: the parser's timestamps equal the independent ones line by
/// line, and as many lines have one.
fn check_timestamps(
    name: &str,
    lines: &[String],
    format: Format,
    expected: fn(&str) -> Option<Timestamp>,
) -> (usize, usize) {
    let sample: Vec<&str> = lines.iter().take(64).map(String::as_str).collect();
    assert_eq!(Format::detect(&sample), format, "{name}: detected format");
    let parser = Parser::with_format(Arc::from(name), ctx(), format);
    let (mut found, mut want) = (0, 0);
    for (i, line) in lines.iter().enumerate() {
        let event = parser.event(RawLine {
            offset: 0,
            line_no: i as u64 + 1,
            bytes: line.as_bytes().to_vec(),
            truncated: false,
            partial: false,
        });
        let independent = expected(line);
        found += usize::from(event.ts.is_some());
        want += usize::from(independent.is_some());
        assert_eq!(event.ts, independent, "{name}:{}: {line}", i + 1);
    }
    assert_eq!(found, want, "{name}: lines with a timestamp");
    (found, lines.len())
}

/// Events the assembler makes of `lines`, as (first line, line count).
fn assemble(name: &str, lines: &[String], format: Format) -> Vec<(u64, u32)> {
    let parser = Parser::with_format(Arc::from(name), ctx(), format);
    let sample = lines[..lines.len().min(64)].join("\n");
    let profile = super::Profile::of(sample.as_bytes(), true, Some(format), &ctx());
    let mut asm =
        Assembler::new(parser, Multiline::Auto, Limits::default()).with_stamped(profile.stamped);
    let now = ctx().now;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let raw = RawLine {
            offset: 0,
            line_no: i as u64 + 1,
            bytes: line.as_bytes().to_vec(),
            truncated: false,
            partial: false,
        };
        out.extend(asm.push(raw, now).map(|e| (e.line_no, e.lines)));
    }
    out.extend(asm.finish().map(|e| (e.line_no, e.lines)));
    let total: u64 = out.iter().map(|(_, n)| u64::from(*n)).sum();
    assert_eq!(total, lines.len() as u64, "{name}: every line in one event");
    out
}

/// Lines that start a PostgreSQL event by an independent rule: a leading
/// timestamp, and neither a secondary severity (`DETAIL:` ...) nor a
/// syslog continuation record `[n-m]`, `m > 1`.
fn expected_starts(lines: &[String], stamped: fn(&str) -> Option<Timestamp>) -> usize {
    let secondary =
        Regex::new(r"\b(DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION):  ").expect("valid");
    let continuation = Regex::new(r"\]: (\[[A-Z]+\] )?\[\d+-([2-9]|\d\d+)\]").expect("valid");
    lines
        .iter()
        .filter(|l| stamped(l).is_some() && !secondary.is_match(l) && !continuation.is_match(l))
        .count()
}

#[test]
fn postgres_files_get_the_right_timestamps_and_statements_stay_whole() {
    let Some(dir) = data_dir() else { return };
    let pg = dir.join("postgresql");
    let files: [(&str, Format, Extract); 16] = [
        ("anonymize.log", Format::PostgresCsv, expected_postgres),
        ("begin_end.log", Format::Postgres, expected_postgres),
        (
            "csv_statement_without_duration.log",
            Format::PostgresCsv,
            expected_postgres,
        ),
        ("multiline_param.log", Format::Postgres, expected_postgres),
        ("pg-timezones.log", Format::Postgres, expected_postgres),
        ("pg_rawcsv.log", Format::Postgres, expected_postgres),
        (
            "postgresql_param_range.log",
            Format::Postgres,
            expected_postgres,
        ),
        ("stmt_type.log", Format::Postgres, expected_postgres),
        ("weeknumber.log", Format::PostgresCsv, expected_postgres),
        ("queryid.log.gz", Format::Postgres, expected_postgres),
        ("tempfile_only.log.gz", Format::Postgres, expected_postgres),
        ("logplex.gz", Format::Postgres, expected_postgres),
        ("pgbouncer.log.gz", Format::Plain, expected_postgres),
        ("pg-syslog.2.gz", Format::Syslog, expected_syslog),
        ("cnpg.log.gz", Format::PostgresJson, expected_cnpg),
        ("cloudsql.log.gz", Format::Json, expected_cloudsql),
    ];
    let mut report = Vec::new();
    for (name, format, expected) in files {
        let lines = read_lines(&pg.join(name));
        let (stamped, total) = check_timestamps(name, &lines, format, expected);
        let events = assemble(name, &lines, format);
        if matches!(format, Format::Postgres | Format::Syslog) {
            assert_eq!(
                events.len(),
                expected_starts(&lines, expected),
                "{name}: events"
            );
        }
        report.push(format!(
            "{name}: {format}, {total} lines, {stamped} with a timestamp, {} events",
            events.len()
        ));
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn multi_line_statement_with_parameters_is_one_event() {
    let Some(dir) = data_dir() else { return };
    let lines = read_lines(&dir.join("postgresql/multiline_param.log"));
    let events = assemble("multiline_param.log", &lines, Format::Postgres);
    // bind/execute + DETAIL + the parameter's second line, four times.
    assert_eq!(
        events,
        [
            (1, 1),
            (2, 1),
            (3, 1),
            (4, 1),
            (5, 3),
            (8, 3),
            (11, 3),
            (14, 3)
        ]
    );
    let lines = read_lines(&dir.join("postgresql/pg_rawcsv.log"));
    let events = assemble("pg_rawcsv.log", &lines, Format::Postgres);
    // FATAL followed by pg_ctl's two lines; ERROR + DETAIL + STATEMENT.
    assert!(events.contains(&(2, 3)), "{events:?}");
    assert!(events.contains(&(10, 3)), "{events:?}");
    assert!(events.contains(&(13, 2)), "{events:?}");
}

#[test]
fn apache_access_log_timestamps_and_levels_from_status() {
    let Some(dir) = data_dir() else { return };
    let name = "access.log";
    let lines = read_lines(&dir.join("apache-access/access.log"));
    let (stamped, total) = check_timestamps(name, &lines, Format::Access, expected_access);
    assert_eq!((stamped, total), (10_000, 10_000));
    let parser = Parser::with_format(Arc::from(name), ctx(), Format::Access);
    let status =
        Regex::new(r#"^\S+ \S+ \S+ \[[^\]]+\] "(?:[^"\\]|\\.)*" (\d)\d\d "#).expect("valid");
    let (mut errors, mut warnings, mut want_errors, mut want_warnings) = (0, 0, 0, 0);
    for line in &lines {
        let event = parser.event(RawLine {
            offset: 0,
            line_no: 1,
            bytes: line.as_bytes().to_vec(),
            truncated: false,
            partial: false,
        });
        errors += usize::from(event.level == Some(Level::Error));
        warnings += usize::from(event.level == Some(Level::Warn));
        match status.captures(line).map(|c| c[1].to_owned()).as_deref() {
            Some("5") => want_errors += 1,
            Some("4") => want_warnings += 1,
            _ => {}
        }
    }
    assert_eq!((errors, warnings), (want_errors, want_warnings));
    assert!(want_errors > 0 && want_warnings > 0);
    let events = assemble(name, &lines, Format::Access);
    assert_eq!(events.len(), 10_000, "access lines never join");
    eprintln!(
        "{name}: {total} lines, {stamped} with a timestamp, {want_errors} 5xx, {want_warnings} 4xx"
    );
}
