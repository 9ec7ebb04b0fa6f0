//! `triage formats`: what triage makes of each file — its format, where and
//! how its lines write their time, how many of its events have a time and a
//! level — so a user can see why a time or a level is missing.
//!
//! Wiring only: files are read as `scan` reads them (`tail::read`: plain or
//! compressed, the first 64 KiB as the profile's sample, then every line
//! through the source reader), parsing is `parse`'s, writing is `output`'s.
//! Must not: print, decide exit codes, or open files other than through
//! `tail`.

use std::{io, sync::Arc};

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    config::Config,
    model::Event,
    parse::{
        Format, Profile, Settings, SourceReader, TimeContext,
        layout::Written,
        source::{SAMPLE_BYTES, SampleTimes},
    },
    tail::read::{Input, open, read_lines_from, sample},
};

/// What triage makes of one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The file, as named.
    pub source: String,
    /// The format its lines are read in.
    pub format: Format,
    /// The format was named in `triage.toml`, not detected.
    pub format_configured: bool,
    /// Where and how its lines write their time (`None`: the sample agreed
    /// on no place; times are still read at the start of lines in the forms
    /// that need no learning).
    pub layout: Option<String>,
    /// The layout is `triage.toml`'s `time_format`.
    pub time_format_configured: bool,
    /// What the sample showed of times.
    pub sample: SampleTimes,
    /// Events in the whole file.
    pub events: u64,
    /// Physical lines in the whole file.
    pub lines: u64,
    /// Events with a time.
    pub with_time: u64,
    /// Events with a level.
    pub with_level: u64,
    /// The first event without a time: its line number and first line.
    pub first_without_time: Option<(u64, String)>,
}

/// Reads `input` as `scan` does and says what it found.
pub fn inspect(
    input: &Input,
    config: &Config,
    default_zone: &TimeZone,
    max_line: usize,
    now: Timestamp,
) -> io::Result<FileReport> {
    let configured = match input {
        Input::Path(path) => config.source_for(path),
        Input::Stdin => None,
    };
    let settings: Settings = configured.map(|s| s.read.clone()).unwrap_or_default();
    let zone = configured
        .and_then(|s| s.timezone.clone())
        .unwrap_or_else(|| default_zone.clone());
    let time = TimeContext::new(zone, now);
    let fill = !matches!(input, Input::Stdin);
    let (head, whole, reader) = sample(open(input)?, SAMPLE_BYTES, fill)?;
    let profile = Profile::configured(&head, whole, &settings, &time);
    let mut report = FileReport {
        source: input.to_string(),
        format: profile.format,
        format_configured: settings.format.is_some(),
        layout: profile
            .layout
            .as_ref()
            .map(|l| l.describe(profile.times.example.as_deref())),
        time_format_configured: matches!(
            profile.layout.as_ref().map(|l| &l.written),
            Some(Written::Format(_))
        ),
        sample: profile.times.clone(),
        events: 0,
        lines: 0,
        with_time: 0,
        with_level: 0,
        first_without_time: None,
    };
    let mut source = SourceReader::new(Arc::from(input.to_string()), time, profile, &settings);
    let mut count = |event: Event, _: Option<Timestamp>| {
        report.events += 1;
        report.lines += u64::from(event.lines);
        report.with_level += u64::from(event.level.is_some());
        match event.ts {
            Some(_) => report.with_time += 1,
            None if report.first_without_time.is_none() => {
                let first = event.text.split('\n').next().unwrap_or_default();
                report.first_without_time = Some((event.line_no, first.to_owned()));
            }
            None => {}
        }
    };
    let read = read_lines_from(reader, max_line, |raw| source.push(raw, now, &mut count));
    source.finish(&mut count);
    read?;
    Ok(report)
}
