//! `triage formats`: what triage makes of each file — its format, where and
//! how its lines write their time, how many of its events have a time and a
//! level — so a user can see why a time or a level is missing.
//!
//! Wiring only: files are read by `scan`'s line path (`scan::read_events`:
//! plain or compressed, the first 64 KiB as the profile's sample, then every
//! line through the source reader), parsing is `parse`'s, writing is
//! `output`'s.
//! Must not: print, decide exit codes, or open files other than through
//! `tail`.

use std::io;

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    config::Config,
    model::Event,
    parse::{Format, layout::Written, source::SampleTimes},
    scan::{path_of, read_events},
    tail::read::Input,
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

/// Reads `input` as `scan` does (its line path) and says what it found.
pub fn inspect(
    input: &Input,
    config: &Config,
    default_zone: &TimeZone,
    max_line: usize,
    now: Timestamp,
) -> io::Result<FileReport> {
    let read_as = config.read_as(path_of(input), default_zone);
    let format_configured = read_as.settings.format.is_some();
    let (mut events, mut lines, mut with_time, mut with_level) = (0, 0, 0, 0);
    let mut first_without_time = None;
    let mut count = |event: Event, _: Option<Timestamp>| {
        events += 1;
        lines += u64::from(event.lines);
        with_level += u64::from(event.level.is_some());
        match event.ts {
            Some(_) => with_time += 1,
            None if first_without_time.is_none() => {
                let first = event.text.split('\n').next().unwrap_or_default();
                first_without_time = Some((event.line_no, first.to_owned()));
            }
            None => {}
        }
    };
    let profile = read_events(input, read_as, max_line, now, &mut count)?;
    Ok(FileReport {
        source: input.to_string(),
        format: profile.format,
        format_configured,
        layout: profile
            .layout
            .as_ref()
            .map(|l| l.describe(profile.times.example.as_deref())),
        time_format_configured: matches!(
            profile.layout.as_ref().map(|l| &l.written),
            Some(Written::Format(_))
        ),
        sample: profile.times,
        events,
        lines,
        with_time,
        with_level,
        first_without_time,
    })
}
