//! One pass over files: read → parse → match → detect, calling back for each
//! alert and keeping per-signature counts.
//!
//! Wiring only: reading belongs to `tail`, parsing to `parse`, matching and
//! detection to `signature`, formatting to `output`. Time for thresholds and
//! suppression is the event's timestamp, else the last timestamp seen in the
//! same file (continuation lines), else the time of reading.

use std::{io, sync::Arc};

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    config::Config,
    library::Library,
    model::Event,
    parse::{Parser, TimeContext},
    signature::{
        Captures, Signature,
        detector::{Alert, Decision, Detector},
        matcher::Hit,
    },
    tail::read::{Input, read_lines},
};

/// A signature that fired on an event.
#[derive(Debug)]
pub struct Found<'l> {
    /// Which signature.
    pub signature: &'l Signature,
    /// The event that made it fire.
    pub event: Event,
    /// What its regexes captured.
    pub captures: Captures,
    /// Threshold and suppression counts.
    pub alert: Alert,
    /// The time the alert was decided at: the event's timestamp, else the
    /// last one seen in its file, else when it was read.
    pub at: Timestamp,
}

/// Counts for one signature over a scan.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Lines that matched.
    pub matches: u64,
    /// Alerts fired (after thresholds and suppression).
    pub alerts: u64,
    /// Earliest time of a matching line.
    pub first: Option<Timestamp>,
    /// Latest time of a matching line.
    pub last: Option<Timestamp>,
}

/// Why reading an input stopped.
#[derive(Debug)]
pub enum ScanError {
    /// The input could not be read (the scan goes on with the next one).
    Read(io::Error),
    /// The output could not be written (the scan stops).
    Output(io::Error),
}

/// A scan in progress over any number of inputs.
pub struct Scanner<'l> {
    reader: EventReader<'l>,
    detection: Detection<'l>,
}

/// Reads and parses inputs, giving each event its detection time.
struct EventReader<'l> {
    config: &'l Config,
    default_zone: TimeZone,
    max_line: usize,
    now: Timestamp,
}

/// Matching and detection state across inputs.
struct Detection<'l> {
    library: &'l Library,
    detector: Detector,
    tallies: Vec<Tally>,
    hits: Vec<Hit>,
}

impl<'l> Scanner<'l> {
    /// A scan with `library`; timestamps without a zone are in the source's
    /// configured zone, else `default_zone`; syslog timestamps (no year) are
    /// read as not later than `now`.
    pub fn new(
        library: &'l Library,
        config: &'l Config,
        default_zone: TimeZone,
        max_line: usize,
        now: Timestamp,
    ) -> Scanner<'l> {
        Scanner {
            reader: EventReader {
                config,
                default_zone,
                max_line,
                now,
            },
            detection: Detection {
                library,
                detector: Detector::new(),
                tallies: vec![Tally::default(); library.signatures.len()],
                hits: Vec::new(),
            },
        }
    }

    /// Per-signature counts so far, in library order.
    pub fn tallies(&self) -> impl Iterator<Item = (&'l Signature, &Tally)> {
        self.detection
            .library
            .signatures
            .iter()
            .zip(&self.detection.tallies)
    }

    /// Reads `input` to its end, calling `on_alert` for each alert. Lines read
    /// before an error have been fully processed.
    pub fn scan(
        &mut self,
        input: &Input,
        on_alert: &mut dyn FnMut(Found<'l>) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        let mut output_error = None;
        let detection = &mut self.detection;
        let read = self.reader.events(input, &mut |event, at| {
            if output_error.is_none()
                && let Err(err) = detection.process(event, at, on_alert)
            {
                output_error = Some(err);
            }
        });
        if let Some(err) = output_error {
            return Err(ScanError::Output(err));
        }
        read.map_err(ScanError::Read)
    }

    /// Reads and parses `input` without matching: each event with the time
    /// detection will use for it.
    pub fn events(
        &self,
        input: &Input,
        on_event: &mut dyn FnMut(Event, Timestamp),
    ) -> io::Result<()> {
        self.reader.events(input, on_event)
    }

    /// Matches one event and runs detection on its hits at time `at`.
    pub fn process(
        &mut self,
        event: Event,
        at: Timestamp,
        on_alert: &mut dyn FnMut(Found<'l>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.detection.process(event, at, on_alert)
    }
}

impl EventReader<'_> {
    fn events(&self, input: &Input, on_event: &mut dyn FnMut(Event, Timestamp)) -> io::Result<()> {
        let zone = match input {
            Input::Path(path) => self
                .config
                .source_for(path)
                .and_then(|s| s.timezone.clone()),
            Input::Stdin => None,
        }
        .unwrap_or_else(|| self.default_zone.clone());
        let parser = Parser::new(
            Arc::from(input.to_string()),
            TimeContext::new(zone, self.now),
        );
        let mut last_ts: Option<Timestamp> = None;
        read_lines(input, self.max_line, |raw| {
            let event = parser.event(raw);
            last_ts = event.ts.or(last_ts);
            let at = last_ts.unwrap_or_else(Timestamp::now);
            on_event(event, at);
        })
    }
}

impl<'l> Detection<'l> {
    fn process(
        &mut self,
        event: Event,
        at: Timestamp,
        on_alert: &mut dyn FnMut(Found<'l>) -> io::Result<()>,
    ) -> io::Result<()> {
        let library = self.library;
        self.hits.clear();
        library
            .matcher()
            .matches(&library.signatures, &event, &mut self.hits);
        for Hit {
            signature: index,
            captures,
        } in self.hits.drain(..)
        {
            let signature = &library.signatures[index];
            let tally = &mut self.tallies[index];
            tally.matches += 1;
            tally.first = Some(tally.first.map_or(at, |t| t.min(at)));
            tally.last = Some(tally.last.map_or(at, |t| t.max(at)));
            if let Decision::Alert(alert) =
                self.detector
                    .observe(index, signature, &captures, at.as_millisecond())
            {
                tally.alerts += 1;
                on_alert(Found {
                    signature,
                    event: event.clone(),
                    captures,
                    alert,
                    at,
                })?;
            }
        }
        Ok(())
    }
}
