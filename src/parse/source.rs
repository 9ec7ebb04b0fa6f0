//! One source's events, in order: its profile (format, where and how its
//! lines write their time, whether its events start with one) decided from
//! its first lines, then every line through the multi-line [`Assembler`],
//! each event with the time detection uses for it.
//!
//! Owns: [`Settings`] (what `triage.toml` says about a source), [`ReadAs`]
//! (those with the source's zone), [`Profile`] (what its first lines say),
//! [`reader_for`], the one factory of readers every read loop uses (`scan`'s
//! block and line paths, `formats`, the live pipeline, the console's first
//! screen), and [`SourceReader`] with its line loop
//! ([`SourceReader::read_all`]). Must not: read files or a clock (the lines
//! and the present are passed in).
//! Invariants: every line pushed ends up in exactly one event, in order; an
//! event's detection time is its own timestamp, else that of the latest
//! earlier line that had one (a stack trace's lines share their first
//! line's time).

use std::sync::Arc;

use jiff::Timestamp;
use memchr::memchr2;

use super::{
    Assembler, Format, Layout, Limits, Multiline, Parser, TimeContext, TimeFormat, clean, layout,
    message, multiline::looks_like_continuation, timestamp::LineTime,
};
use crate::model::{Event, RawLine};

/// At most this many lines of a source's start decide its profile.
pub const SAMPLE_LINES: usize = 64;
/// At most this many bytes of a source's start decide its profile.
pub const SAMPLE_BYTES: usize = 64 * 1024;

/// How a source is read, as configured (`triage.toml`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The format; `None` detects it from the first lines.
    pub format: Option<Format>,
    /// How its lines write their time (`time_format`); `None` learns it
    /// from the first lines.
    pub time_format: Option<Arc<TimeFormat>>,
    /// Where events start.
    pub multiline: Multiline,
    /// Bounds on one event.
    pub limits: Limits,
}

/// How one source is read: what `triage.toml` says of it (nothing: the
/// defaults) and the zone of times written without one.
#[derive(Debug, Clone)]
pub struct ReadAs {
    /// Format, time format, multi-line rule and limits.
    pub settings: Settings,
    /// The zone of times written without one.
    pub zone: jiff::tz::TimeZone,
}

impl ReadAs {
    /// The defaults (format and layout detected) in `zone`.
    pub fn in_zone(zone: jiff::tz::TimeZone) -> ReadAs {
        ReadAs {
            settings: Settings::default(),
            zone,
        }
    }
}

/// The reader of `source` read as `read_as` says, its profile decided from
/// `sample`, its first bytes (`whole`: all of it, so an unterminated last
/// line counts); times without a year are read as not later than `now`.
/// Every reader of a source is made here: a followed file's reader then
/// keeps learning ([`SourceReader::learning`]).
pub fn reader_for(
    read_as: &ReadAs,
    source: Arc<str>,
    sample: &[u8],
    whole: bool,
    now: Timestamp,
) -> SourceReader {
    let time = TimeContext::new(read_as.zone.clone(), now);
    let profile = Profile::configured(sample, whole, &read_as.settings, &time);
    SourceReader::new(source, time, profile, &read_as.settings)
}

/// What a source's first lines say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The format its lines are written in.
    pub format: Format,
    /// Its events start with a timestamp (at least half of its lines that
    /// do not look like continuations have one), so a line without one
    /// continues the event before it.
    pub stamped: bool,
    /// Where and how its lines write their time, when at least half of the
    /// sample's lines that may start an event agree (or `time_format` says).
    pub layout: Option<Layout>,
    /// How its messages start after the time, when at most two prefixes
    /// cover half of the sample's lines with a time (a shortcut, not a
    /// rule: a line it does not fit is read token by token).
    pub prefix: Option<message::Prefix>,
    /// What the sample showed of times, for `triage formats`.
    pub times: SampleTimes,
}

/// What a profile's sample showed of times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleTimes {
    /// Sample lines that may start an event.
    pub lines: usize,
    /// Of those, the ones a time was read in.
    pub with_time: usize,
    /// The time as written in the first line the layout reads.
    pub example: Option<String>,
}

impl Profile {
    /// The profile of a source that starts with `sample` (its first bytes;
    /// `whole` when that is all of it, so an unterminated last line counts),
    /// in the configured `format` or the one detected. Only the first
    /// [`SAMPLE_LINES`] complete lines count.
    pub fn of(sample: &[u8], whole: bool, format: Option<Format>, time: &TimeContext) -> Profile {
        let settings = Settings {
            format,
            ..Settings::default()
        };
        Profile::configured(sample, whole, &settings, time)
    }

    /// [`Profile::of`] with everything `settings` say: the format and the
    /// `time_format`.
    pub fn configured(
        sample: &[u8],
        whole: bool,
        settings: &Settings,
        time: &TimeContext,
    ) -> Profile {
        let sample = &sample[..sample.len().min(SAMPLE_BYTES)];
        let whole = whole && sample.len() <= SAMPLE_BYTES;
        let mut lines = Vec::new();
        let mut at = 0;
        while lines.len() < SAMPLE_LINES && at < sample.len() {
            let end = match memchr2(b'\n', b'\r', &sample[at..]) {
                Some(i) => at + i,
                None if whole => sample.len(),
                None => break,
            };
            lines.push(clean(
                String::from_utf8_lossy(&sample[at..end]).into_owned(),
            ));
            at = end + 1;
            if sample.get(end) == Some(&b'\r') && sample.get(at) == Some(&b'\n') {
                at += 1;
            }
        }
        let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
        let format = settings.format.unwrap_or_else(|| Format::detect(&texts));
        let starts: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| !looks_like_continuation(t))
            .collect();
        let learned = match format.is_json() && settings.time_format.is_none() {
            true => None,
            false => layout::learn(&starts, settings.time_format.as_ref(), time),
        };
        let layout = learned.as_ref().map(|l| l.layout.clone());
        let parser =
            Parser::with_format(Arc::from(""), time.clone(), format).with_layout(layout.clone());
        let keyed = format.is_json() || format == Format::Logfmt;
        let timed: Vec<(&str, Option<LineTime>)> = starts
            .iter()
            .map(|text| (*text, if keyed { None } else { parser.time(text) }))
            .collect();
        let stamped = match keyed {
            true => starts
                .iter()
                .filter(|t| parser.read(t).ts.is_some())
                .count(),
            false => timed.iter().filter(|(_, t)| t.is_some()).count(),
        };
        let prefix = message::learn(&timed, format, time);
        Profile {
            format,
            stamped: stamped > 0 && stamped * 2 >= starts.len(),
            layout,
            prefix,
            times: SampleTimes {
                lines: starts.len(),
                with_time: stamped,
                example: learned.map(|l| l.example).filter(|e| !e.is_empty()),
            },
        }
    }
}

/// Lines that may start an event, and how many of those have a timestamp.
#[derive(Debug, Clone, Copy, Default)]
struct Stamps {
    starts: usize,
    stamped: usize,
}

impl Stamps {
    fn add(&mut self, text: &str, has_ts: bool) {
        if !looks_like_continuation(text) {
            self.starts += 1;
            self.stamped += usize::from(has_ts);
        }
    }

    /// At least half of the lines that may start an event have a
    /// timestamp.
    fn stamped(self) -> bool {
        self.stamped > 0 && self.stamped * 2 >= self.starts
    }
}

/// Turns one source's lines into events, line by line.
#[derive(Debug)]
pub struct SourceReader {
    assembler: Assembler,
    /// What the first lines said (`triage formats` shows it).
    profile: Profile,
    /// Still learning whether events start with a timestamp, from the
    /// lines as they come (a followed file first seen at its end).
    learning: Option<Stamps>,
    /// Still learning where lines write their time (the profile's sample
    /// agreed on none): the lines that may start an event so far.
    learning_layout: Option<Vec<String>>,
    /// The latest timestamp of any line pushed so far.
    last_ts: Option<Timestamp>,
    /// The latest timestamp before the held-back event's first line.
    pending_before: Option<Timestamp>,
}

impl SourceReader {
    /// A reader of lines from `source` with `profile`, as `settings` say.
    pub fn new(
        source: Arc<str>,
        time: TimeContext,
        profile: Profile,
        settings: &Settings,
    ) -> SourceReader {
        SourceReader {
            assembler: assembler(source, time, profile.clone(), settings),
            profile,
            learning: None,
            learning_layout: None,
            last_ts: None,
            pending_before: None,
        }
    }

    /// The line path: every line `lines` hands to the function it is
    /// given goes through [`SourceReader::push`] (read at `now`), then the
    /// held-back event is handed out, also when `lines` failed (what was
    /// read before the failure is all used); `lines`' result is returned.
    pub fn read_all<E>(
        &mut self,
        now: Timestamp,
        lines: impl FnOnce(&mut dyn FnMut(RawLine)) -> Result<(), E>,
        emit: &mut dyn FnMut(Event, Option<Timestamp>),
    ) -> Result<(), E> {
        let read = lines(&mut |raw| self.push(raw, now, emit));
        self.finish(emit);
        read
    }

    /// What the source's first lines said (before any learning from the
    /// lines pushed).
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Takes the next line (read at `now`); hands out the events it
    /// completes, each with its detection time (`None`: no line so far had
    /// a timestamp).
    pub fn push(
        &mut self,
        raw: RawLine,
        now: Timestamp,
        emit: &mut dyn FnMut(Event, Option<Timestamp>),
    ) {
        let line = self.assembler.parser().event(raw);
        self.push_line(line, now, emit);
    }

    /// Keeps deciding whether events start with a timestamp from the
    /// first [`SAMPLE_LINES`] lines pushed, not only from the profile's
    /// sample, and, when the profile found no layout of times, learns one
    /// from those lines (after 1, 2, 4, ... 64 of them): for a file
    /// followed from wherever it was when first seen, or empty then.
    pub fn learning(mut self) -> SourceReader {
        self.learning = Some(Stamps::default());
        if self.assembler.parser().layout().is_none() {
            self.learning_layout = Some(Vec::new());
        }
        self
    }

    /// [`SourceReader::push`] for a line [`SourceReader::parser`] has read
    /// (inlined into it, as [`Parser::event`] is).
    #[inline(always)]
    pub fn push_line(
        &mut self,
        line: Event,
        now: Timestamp,
        emit: &mut dyn FnMut(Event, Option<Timestamp>),
    ) {
        let mut line = line;
        // Its time and number as read (not loaded back from the event once
        // it is in memory), unless learning reads it again.
        let (mut ts, line_no) = (line.ts, line.line_no);
        if self.learning_layout.is_some() {
            self.relearn(&mut line);
            ts = line.ts;
        }
        if let Some(stamps) = &mut self.learning {
            stamps.add(&line.text, ts.is_some());
            self.assembler.set_stamped(stamps.stamped());
            if stamps.starts >= SAMPLE_LINES {
                self.learning = None;
            }
        }
        let before = self.last_ts;
        self.last_ts = ts.or(self.last_ts);
        let pending_before = self.pending_before;
        self.assembler.push_line_then(line, now, |done, ts| {
            emit(done, ts.or(pending_before));
        });
        if self.assembler.pending_start().map(|(_, n)| n) == Some(line_no) {
            self.pending_before = before;
        }
    }

    /// While learning a layout: keeps `line`'s text and learns from the
    /// lines kept after 1, 2, 4, ... [`SAMPLE_LINES`] of them, until one is
    /// found; this line and the held-back event are read again with it.
    fn relearn(&mut self, line: &mut Event) {
        let Some(kept) = &mut self.learning_layout else {
            return;
        };
        if looks_like_continuation(&line.text) {
            return;
        }
        kept.push(line.text.clone());
        let n = kept.len();
        if !n.is_power_of_two() && n < SAMPLE_LINES {
            return;
        }
        let texts: Vec<&str> = kept.iter().map(String::as_str).collect();
        let parser = self.assembler.parser();
        let learned = layout::learn(&texts, None, parser.time_context());
        let done = learned.is_some() || n >= SAMPLE_LINES;
        if let Some(learned) = learned {
            self.assembler.parser_mut().set_layout(Some(learned.layout));
            self.assembler.reread_pending();
        }
        if done {
            self.learning_layout = None;
        }
        if line.ts.is_none() {
            let reading = self.assembler.parser().read(&line.text);
            line.ts = reading.ts;
            line.level = line.level.or(reading.level);
            line.message = reading.message;
            line.fields = reading.fields;
        }
    }

    /// Hands out the held-back event if no line came for the idle limit.
    pub fn flush(&mut self, now: Timestamp, emit: &mut dyn FnMut(Event, Option<Timestamp>)) {
        if let Some(done) = self.assembler.flush(now) {
            emit_event(done, self.pending_before, emit);
        }
    }

    /// Hands out the held-back event now (end of input).
    pub fn finish(&mut self, emit: &mut dyn FnMut(Event, Option<Timestamp>)) {
        if let Some(done) = self.assembler.finish() {
            emit_event(done, self.pending_before, emit);
        }
    }

    /// The parser lines go through.
    pub fn parser(&self) -> &Parser {
        self.assembler.parser()
    }

    /// Reads syslog timestamps (no year) as not later than `now`.
    pub fn set_now(&mut self, now: Timestamp) {
        self.assembler.parser_mut().set_now(now);
    }

    /// The file goes by `name` now (renamed while followed): events that
    /// start from here on are from `name`; one being assembled keeps the
    /// name its first line was read under.
    pub fn renamed(&mut self, name: &Arc<str>) {
        if !Arc::ptr_eq(self.assembler.parser().source(), name)
            && **self.assembler.parser().source() != **name
        {
            self.assembler.parser_mut().set_source(Arc::clone(name));
        }
    }

    /// Whether `line` starts an event whatever came before it (see
    /// [`Assembler::starts_event`]); `None` when that cannot be told from
    /// one line (PostgreSQL CSV's quotes): only the line-by-line path reads
    /// such a source.
    pub fn starts_event(&self, line: &Event, prev: Option<&str>) -> Option<bool> {
        self.assembler
            .is_local()
            .then(|| self.assembler.starts_event(line, prev))
    }

    /// Whether where events start can be told from a line and the one
    /// before it (see [`SourceReader::starts_event`]).
    pub fn is_local(&self) -> bool {
        self.assembler.is_local()
    }

    /// The latest timestamp of a line pushed so far.
    pub fn last_ts(&self) -> Option<Timestamp> {
        self.last_ts
    }

    /// Drops the held-back event and starts over as if the latest earlier
    /// line with a timestamp had `before`: for a reader that skips lines
    /// and resumes at a line that surely starts an event.
    pub fn reset(&mut self, before: Option<Timestamp>) {
        self.assembler.finish();
        self.last_ts = before;
        self.pending_before = None;
    }

    /// The byte offset and line number of the first line not yet handed
    /// out in an event (a checkpoint must not move past it).
    pub fn held(&self) -> Option<(u64, u64)> {
        self.assembler.pending_start()
    }
}

/// The assembler a source's lines go through.
pub fn assembler(
    source: Arc<str>,
    time: TimeContext,
    profile: Profile,
    settings: &Settings,
) -> Assembler {
    let parser = Parser::with_format(source, time, profile.format)
        .with_layout(profile.layout)
        .with_prefix(profile.prefix);
    Assembler::new(parser, settings.multiline.clone(), settings.limits)
        .with_stamped(profile.stamped)
}

fn emit_event(
    event: Event,
    before: Option<Timestamp>,
    emit: &mut dyn FnMut(Event, Option<Timestamp>),
) {
    let at = event.ts.or(before);
    emit(event, at);
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;
    use crate::model::Level;

    fn now() -> Timestamp {
        "2026-11-21T12:00:00Z".parse().expect("valid")
    }

    fn raw(line_no: u64, text: &str) -> RawLine {
        RawLine {
            offset: 0,
            line_no,
            bytes: text.as_bytes().to_vec(),
            truncated: false,
            partial: false,
        }
    }

    fn read_all(reader: &mut SourceReader, lines: &[&str]) -> Vec<Event> {
        let mut events = Vec::new();
        let mut keep = |event: Event, _: Option<Timestamp>| events.push(event);
        for (i, line) in lines.iter().enumerate() {
            reader.push(raw(i as u64 + 1, line), now(), &mut keep);
        }
        reader.finish(&mut keep);
        events
    }

    #[test]
    fn a_followed_file_empty_at_first_learns_where_its_times_are() {
        let time = TimeContext::new(TimeZone::UTC, now());
        let profile = Profile::of(b"", true, None, &time);
        assert_eq!(profile.layout, None);
        let mut reader =
            SourceReader::new(Arc::from("spark.log"), time, profile, &Settings::default())
                .learning();
        let events = read_all(
            &mut reader,
            &[
                "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered",
                "17/06/09 20:10:41 WARN spark.SecurityManager: Changing view acls",
                "17/06/09 20:10:42 ERROR executor.Executor: Exception in task 0.0",
            ],
        );
        let times: Vec<String> = events
            .iter()
            .map(|e| e.ts.map(|t| t.to_string()).unwrap_or_default())
            .collect();
        assert_eq!(
            times,
            [
                "2017-06-09T20:10:40Z",
                "2017-06-09T20:10:41Z",
                "2017-06-09T20:10:42Z"
            ]
        );
        assert_eq!(events[2].level, Some(Level::Error));
        assert_eq!(events[2].message_text(), "Exception in task 0.0");
    }

    #[test]
    fn numbers_and_times_in_messages_are_not_the_lines_time() {
        let time = TimeContext::new(TimeZone::UTC, now());
        let lines = [
            "2026-11-21 03:00:00,001 INFO [main] c.e.Jobs - job 1669575482 scheduled for 2026-11-22 04:00:00",
            "java.lang.IllegalStateException: lease 1669575482 expired at 2026-11-20 23:00:00",
            "\tat com.example.Lease.renew(Lease.java:42)",
            "2026-11-21 03:00:02,500 WARN [main] c.e.Jobs - slow",
            "worker 3 processed 12:30:00 worth of 20260101 files",
        ];
        let profile = Profile::of(lines.join("\n").as_bytes(), true, None, &time);
        let mut reader =
            SourceReader::new(Arc::from("app.log"), time, profile, &Settings::default());
        let events = read_all(&mut reader, &lines);
        // The exception, its stack line and the last line have no time of
        // their own: they continue the events before them.
        let got: Vec<(u64, u32, Option<String>)> = events
            .iter()
            .map(|e| (e.line_no, e.lines, e.ts.map(|t| t.to_string())))
            .collect();
        assert_eq!(
            got,
            [
                (1, 3, Some("2026-11-21T03:00:00.001Z".to_owned())),
                (4, 2, Some("2026-11-21T03:00:02.5Z".to_owned()))
            ]
        );
        // Without a layout (no line starts with a time), nothing is read.
        let time = TimeContext::new(TimeZone::UTC, now());
        let lines = [
            "job 1669575482 scheduled for 2026-11-22 04:00:00",
            "worker 3 processed 12:30:00 worth of files",
            "retry in 10.30 16:49:06",
        ];
        let profile = Profile::of(lines.join("\n").as_bytes(), true, None, &time);
        let mut reader =
            SourceReader::new(Arc::from("app.log"), time, profile, &Settings::default());
        let events = read_all(&mut reader, &lines);
        assert!(events.iter().all(|e| e.ts.is_none()), "{events:#?}");
    }
}
