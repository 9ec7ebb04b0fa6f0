//! The console's pipeline side, on its own threads: what the files hold at
//! start-up (their last lines, drawn first), a background pass that runs
//! detection over what they held, and the live follower → parse → match →
//! detect (→ incident recorder) loop. Everything reaches the UI as
//! [`Msg`]s over a bounded channel, so the UI never waits on I/O and a slow
//! UI slows the follower down instead of growing memory.
//!
//! The live side is the shared `pipeline::run`, with [`UiSink`] as its sink.
//! A replay (the demo, whose log time runs 20× faster than the wall clock)
//! needs the pipeline's present to be the newest log time, which
//! `pipeline::Options` does not offer yet: for it only, `replay_loop` runs
//! the same wiring on the log clock.
//!
//! Must not: touch the terminal, or write anything but the journal (through
//! the recorder). Reads log files only through `tail`, except [`tail_of`],
//! which reads the last bytes of a plain file read-only (a seek that
//! `tail::read` does not offer yet).

use std::{
    collections::HashMap,
    fs::File,
    io::{self, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc::SyncSender,
    },
    thread,
    time::Duration,
};

use jiff::{Timestamp, tz::TimeZone};

use super::msg::{AlertInfo, LogLine, Msg, Stats, clean};
use crate::{
    config::Config,
    incident::{Journal, Recorder, recorder::key_text},
    library::Library,
    model::Event,
    parse::{Parser, TimeContext},
    scan::{Found, Scanner},
    signature::{Signature, detector::Cleared},
    tail::{
        checkpoint::Checkpoint,
        discover::{self, FileKey, Target},
        follow::{self, FollowOptions, RunOptions, Tailer},
        read::Input,
    },
};

/// Bytes read from the end of each file for the first screen: a few
/// thousand lines, read in well under a millisecond per file.
pub const TAIL_BYTES: u64 = 256 * 1024;
/// Files whose end is read for the first screen.
const TAIL_FILES: usize = 64;

/// What the feed is asked to do.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// Paths and globs to follow.
    pub targets: Vec<Target>,
    /// How files are followed.
    pub follow: FollowOptions,
    /// How the follower thread runs.
    pub run: RunOptions,
    /// Zone of timestamps written without one.
    pub zone: TimeZone,
    /// The data directory (the journal).
    pub data_dir: PathBuf,
    /// Feed the incident recorder (false when attached to a `watch`).
    pub record: bool,
    /// Send alerts (false when attached: they come from the journal).
    pub alerts: bool,
    /// Run the background detection pass over what the files held.
    pub backfill: bool,
    /// Read the files' last lines for the first screen.
    pub tail_first: bool,
    /// The present is the newest log time seen, not the wall clock (a
    /// replay, such as the demo, runs log time faster).
    pub log_clock: bool,
    /// "Now" for reading timestamps without a year (default: the clock).
    pub parse_now: Option<Timestamp>,
    /// Sources are shown relative to this directory.
    pub relative_to: Option<PathBuf>,
}

/// What the live pipeline tells the console: one call per event, per alert,
/// per cleared signature, and `flush` at the end of each delivery.
pub trait Sink {
    /// An event, the signatures it matched and the time detection used.
    fn on_event(&mut self, event: &Event, matched: &[&Signature], at: Timestamp);
    /// A signature fired.
    fn on_alert(&mut self, found: &Found<'_>, library: &Library);
    /// A signature's key went quiet.
    fn on_cleared(&mut self, signature: &Signature, cleared: &Cleared, at: Timestamp);
    /// A file cannot be read, or the journal cannot be written.
    fn on_problem(&mut self, text: String);
    /// The end of a delivery: `files` followed, the present of the pipeline.
    /// `Err` when the console is gone and the pipeline should stop.
    fn flush(&mut self, files: usize, now: Timestamp) -> Result<(), Gone>;
}

/// The console has gone away: stop feeding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// The sink that turns pipeline calls into [`Msg`]s.
pub struct UiSink {
    tx: SyncSender<Msg>,
    relative_to: Option<PathBuf>,
    alerts: bool,
    lines: Vec<LogLine>,
    pending: Vec<Msg>,
    total: u64,
    names: HashMap<Arc<str>, Arc<str>>,
}

impl UiSink {
    /// A sink sending to `tx`; sources shown relative to `relative_to`.
    pub fn new(tx: SyncSender<Msg>, relative_to: Option<PathBuf>, alerts: bool) -> UiSink {
        UiSink {
            tx,
            relative_to,
            alerts,
            lines: Vec::new(),
            pending: Vec::new(),
            total: 0,
            names: HashMap::new(),
        }
    }

    fn name(&mut self, source: &Arc<str>) -> Arc<str> {
        if let Some(name) = self.names.get(source) {
            return Arc::clone(name);
        }
        let shown = display_name(source, self.relative_to.as_deref());
        self.names.insert(Arc::clone(source), Arc::clone(&shown));
        shown
    }

    fn line_of(&mut self, event: &Event) -> LogLine {
        let mut line = LogLine::new(
            self.name(&event.source),
            event.line_no,
            event.offset,
            &event.text,
        );
        line.ts = event.ts;
        line.level = event.level;
        line
    }
}

/// `source` as shown: relative to `dir` when under it, sanitised.
pub fn display_name(source: &str, dir: Option<&Path>) -> Arc<str> {
    let shown = dir
        .and_then(|dir| Path::new(source).strip_prefix(dir).ok())
        .map_or_else(|| source.to_owned(), |p| p.display().to_string());
    Arc::from(clean(&shown))
}

impl Sink for UiSink {
    fn on_event(&mut self, event: &Event, matched: &[&Signature], _at: Timestamp) {
        let mut line = self.line_of(event);
        line.signatures = matched.iter().map(|s| Arc::from(s.id.as_str())).collect();
        self.total += 1;
        self.lines.push(line);
    }

    fn on_alert(&mut self, found: &Found<'_>, library: &Library) {
        if !self.alerts {
            return;
        }
        let info = alert_info(found, library, self.line_of(&found.event), false);
        // Lines before the alert go first, so that its evidence is there.
        if !self.lines.is_empty() {
            self.pending
                .push(Msg::Lines(std::mem::take(&mut self.lines)));
        }
        self.pending.push(Msg::Alert(Box::new(info)));
    }

    fn on_cleared(&mut self, signature: &Signature, cleared: &Cleared, at: Timestamp) {
        if !self.alerts {
            return;
        }
        self.pending.push(Msg::Cleared {
            signature: Arc::from(signature.id.as_str()),
            key: clean(&key_text(&cleared.key)),
            at,
        });
    }

    fn on_problem(&mut self, text: String) {
        self.pending.push(Msg::Problem(text));
    }

    fn flush(&mut self, files: usize, now: Timestamp) -> Result<(), Gone> {
        if !self.lines.is_empty() {
            self.pending
                .push(Msg::Lines(std::mem::take(&mut self.lines)));
        }
        self.pending.push(Msg::Clock(now));
        self.pending.push(Msg::Stats(Stats {
            files,
            lines: self.total,
            index_lag: None,
        }));
        for msg in self.pending.drain(..) {
            self.tx.send(msg).map_err(|_| Gone)?;
        }
        Ok(())
    }
}

/// An alert as the console shows it.
pub fn alert_info(
    found: &Found<'_>,
    library: &Library,
    evidence: LogLine,
    backfill: bool,
) -> AlertInfo {
    let signature = found.signature;
    AlertInfo {
        signature: Arc::from(signature.id.as_str()),
        title: clean(&signature.title),
        severity: signature.severity,
        key: clean(&key_text(&found.alert.key)),
        at: found.at,
        runbook: library.runbook_of(signature).map(|r| r.id.clone()),
        captures: found.captures.clone(),
        hits: found.alert.hits,
        evidence,
        backfill,
    }
}

/// Starts the feed's threads: the first screen and the background pass
/// (`first`), and the live loop (`live`). Each reports its end as
/// [`Msg::Stopped`] when it ends on an error or a bug.
pub fn spawn(
    options: FeedOptions,
    library: Arc<Library>,
    config: Arc<Config>,
    stop: Arc<AtomicBool>,
    tx: SyncSender<Msg>,
) -> io::Result<Vec<thread::JoinHandle<()>>> {
    let mut handles = Vec::new();
    if options.tail_first || options.backfill {
        let (options, library, config, tx) = (
            options.clone(),
            Arc::clone(&library),
            Arc::clone(&config),
            tx.clone(),
        );
        let stop = Arc::clone(&stop);
        handles.push(
            thread::Builder::new()
                .name("ui-first".into())
                .spawn(move || {
                    guarded("the start-up pass", &tx.clone(), || {
                        first(&options, &library, &config, &stop, &tx);
                    });
                })?,
        );
    }
    handles.push(
        thread::Builder::new()
            .name("ui-live".into())
            .spawn(move || {
                let report = tx.clone();
                guarded("the live pipeline", &report, || {
                    live(options, &library, &config, stop, tx, &report);
                });
            })?,
    );
    Ok(handles)
}

/// Runs `body`; a panic in it becomes a [`Msg::Stopped`] instead of a dead
/// thread nobody notices (the panic itself goes to the log file).
fn guarded(what: &str, tx: &SyncSender<Msg>, body: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_err() {
        let _ = tx.send(Msg::Stopped(format!(
            "internal error in {what} (details in the log file)"
        )));
    }
}

/// The first screen (the last lines of each file), then detection over what
/// the files held, in the background.
fn first(
    options: &FeedOptions,
    library: &Library,
    config: &Config,
    stop: &AtomicBool,
    tx: &SyncSender<Msg>,
) {
    let mut errors = Vec::new();
    let files = discover::expand(&options.targets, &mut errors);
    let now = options.parse_now.unwrap_or_else(Timestamp::now);
    if options.tail_first {
        let mut lines = Vec::new();
        for file in files.iter().take(TAIL_FILES) {
            match tail_of(&file.path, TAIL_BYTES) {
                Ok(Some((start, bytes))) => {
                    let source: Arc<str> = Arc::from(file.path.display().to_string());
                    let parser = Parser::new(
                        Arc::clone(&source),
                        time_context(options, config, &file.path, now),
                    );
                    let shown = display_name(&source, options.relative_to.as_deref());
                    let mut offset = start;
                    for raw in bytes.split(|&b| b == b'\n') {
                        let len = raw.len() as u64 + 1;
                        if !raw.is_empty() {
                            let text =
                                String::from_utf8_lossy(raw.strip_suffix(b"\r").unwrap_or(raw));
                            let (ts, level, _) = parser.read(&text);
                            let mut line = LogLine::new(Arc::clone(&shown), 0, offset, &text);
                            line.ts = ts;
                            line.level = level;
                            lines.push(line);
                        }
                        offset += len;
                    }
                }
                Ok(None) => {}
                Err(err) => {
                    let _ = tx.send(Msg::Problem(format!("{}: {err}", file.path.display())));
                }
            }
        }
        // Merged by time: the buffer sorts late lines in.
        lines.sort_by_key(|l| l.ts);
        if tx.send(Msg::Tail(lines)).is_err() {
            return;
        }
    }
    for (path, err) in errors {
        let _ = tx.send(Msg::Problem(format!("{}: {err}", path.display())));
    }
    if !options.backfill || files.is_empty() {
        return;
    }
    // One worker: the live loop and the UI keep the other core.
    let mut scanner = Scanner::new(
        library,
        config,
        options.zone.clone(),
        options.follow.max_line,
        now,
    )
    .with_workers(1);
    let mut alerts = 0u64;
    for file in &files {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let input = Input::Path(file.path.clone());
        let relative = options.relative_to.clone();
        let result = scanner.scan(&input, &mut |found: Found<'_>| {
            if stop.load(Ordering::SeqCst) {
                return Err(io::Error::other("stopped"));
            }
            alerts += 1;
            let source = display_name(&found.event.source, relative.as_deref());
            let mut evidence = LogLine::new(
                source,
                found.event.line_no,
                found.event.offset,
                &found.event.text,
            );
            evidence.ts = found.event.ts;
            evidence.level = found.event.level;
            let info = alert_info(&found, library, evidence, true);
            tx.send(Msg::Alert(Box::new(info)))
                .map_err(|_| io::Error::other("console gone"))
        });
        if let Err(crate::scan::ScanError::Read(err)) = result {
            let _ = tx.send(Msg::Problem(format!("{}: {err}", file.path.display())));
        }
    }
    let _ = tx.send(Msg::Info(format!(
        "detection over the existing {} files done: {alerts} earlier alerts",
        files.len()
    )));
}

fn time_context(
    options: &FeedOptions,
    config: &Config,
    path: &Path,
    now: Timestamp,
) -> TimeContext {
    let zone = config
        .source_for(path)
        .and_then(|s| s.timezone.clone())
        .unwrap_or_else(|| options.zone.clone());
    TimeContext::new(zone, now)
}

/// The last `bytes` bytes of a plain file from the first line that starts in
/// them, with the offset of that line; `None` for a compressed file (the
/// follower reads those). Opened read-only.
pub fn tail_of(path: &Path, bytes: u64) -> io::Result<Option<(u64, Vec<u8>)>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        return Ok(None);
    }
    let start = len.saturating_sub(bytes);
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity((len - start) as usize);
    file.take(len - start).read_to_end(&mut buf)?;
    if start == 0 {
        return Ok(Some((0, buf)));
    }
    // The first bytes may be the end of a line cut in two: skip it.
    match memchr::memchr(b'\n', &buf) {
        Some(at) => Ok(Some((start + at as u64 + 1, buf.split_off(at + 1)))),
        None => Ok(Some((len, Vec::new()))),
    }
}

/// The live side: the shared pipeline (or, for a replay, the same wiring
/// on the log clock) into a [`UiSink`].
fn live(
    options: FeedOptions,
    library: &Library,
    config: &Config,
    stop: Arc<AtomicBool>,
    tx: SyncSender<Msg>,
    report: &SyncSender<Msg>,
) {
    let mut sink = UiSink::new(tx, options.relative_to.clone(), options.alerts);
    let result = if options.log_clock {
        replay_loop(&options, library, config, Arc::clone(&stop), &mut sink)
    } else {
        let pipeline = crate::pipeline::Options {
            targets: options.targets.clone(),
            follow: options.follow.clone(),
            run: options.run.clone(),
            zone: options.zone.clone(),
            data_dir: options.data_dir.clone(),
            record: options.record,
            // The console never moves a `watch`'s position.
            checkpoint: false,
            resume: None,
        };
        let mut adapter = PipelineSink {
            sink: &mut sink,
            library,
            stop: &stop,
        };
        crate::pipeline::run(pipeline, library, config, Arc::clone(&stop), &mut adapter)
            .map_err(|err| err.to_string())
    };
    let result = result.and_then(|()| {
        if stop.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err("the follower stopped".to_owned())
        }
    });
    if let Err(err) = result
        && !stop.load(Ordering::SeqCst)
    {
        let _ = report.send(Msg::Stopped(err));
    }
}

/// [`UiSink`] as the shared pipeline's sink.
struct PipelineSink<'s, 'l> {
    sink: &'s mut UiSink,
    library: &'l Library,
    stop: &'s AtomicBool,
}

impl<'l> crate::pipeline::Sink<'l> for PipelineSink<'_, 'l> {
    fn event(&mut self, event: &Event, at: Timestamp, matched: &[&'l Signature]) -> io::Result<()> {
        self.sink.on_event(event, matched, at);
        Ok(())
    }

    fn alert(&mut self, found: &Found<'l>) -> io::Result<()> {
        self.sink.on_alert(found, self.library);
        Ok(())
    }

    fn cleared(&mut self, signature: &'l Signature, cleared: &Cleared) -> io::Result<()> {
        self.sink.on_cleared(signature, cleared, Timestamp::now());
        Ok(())
    }

    fn problem(&mut self, path: &Path, message: &str) {
        self.sink
            .on_problem(format!("{}: {message}", path.display()));
    }

    fn flush(&mut self, checkpoint: &Checkpoint, _last: bool) -> io::Result<()> {
        self.sink
            .flush(checkpoint.files.len(), Timestamp::now())
            .map_err(|Gone| {
                self.stop.store(true, Ordering::SeqCst);
                io::Error::other("the console has closed")
            })
    }
}

/// The replay loop (the demo): follower batches → parse → match → detect →
/// sink (and the recorder), on the log clock. Returns why it stopped early,
/// if it did.
fn replay_loop(
    options: &FeedOptions,
    library: &Library,
    config: &Config,
    stop: Arc<AtomicBool>,
    sink: &mut dyn Sink,
) -> Result<(), String> {
    let tailer = Tailer::new(
        options.targets.clone(),
        options.follow.clone(),
        Checkpoint::default(),
    );
    let (deliveries, follower) = follow::spawn(tailer, options.run.clone(), Arc::clone(&stop))
        .map_err(|err| format!("cannot start the follower: {err}"))?;
    let started = Timestamp::now();
    let parse_now = options.parse_now;
    let mut scanner = Scanner::new(
        library,
        config,
        options.zone.clone(),
        options.follow.max_line,
        parse_now.unwrap_or(started),
    );
    let mut recorder = if options.record {
        match Journal::open(&options.data_dir) {
            Ok(journal) => Some(Recorder::new(journal, library)),
            Err(err) => {
                sink.on_problem(format!(
                    "the incident journal cannot be opened, alerts go on without it: {err}"
                ));
                None
            }
        }
    } else {
        None
    };
    let mut journal_failed = false;
    let mut record =
        |result: Result<Vec<crate::incident::Event>, crate::incident::JournalError>,
         sink: &mut dyn Sink| {
            if let Err(err) = result
                && !std::mem::replace(&mut journal_failed, true)
            {
                sink.on_problem(format!(
                    "the incident journal cannot be written, alerts go on without it: {err}"
                ));
            }
        };
    let mut last_ts: HashMap<FileKey, Timestamp> = HashMap::new();
    let mut newest: Option<Timestamp> = None;
    let mut last_tick: Option<std::time::Instant> = None;
    let mut found_alerts: Vec<Found<'_>> = Vec::new();
    let mut gone = false;
    for delivery in deliveries {
        for problem in &delivery.batch.problems {
            sink.on_problem(format!("{}: {}", problem.path.display(), problem.message));
        }
        for notice in &delivery.batch.notices {
            tracing::info!("{notice}");
        }
        let wall = Timestamp::now();
        for line in delivery.batch.lines {
            let zone = config
                .source_for(Path::new(&*line.path))
                .and_then(|s| s.timezone.clone())
                .unwrap_or_else(|| options.zone.clone());
            let event = Parser::new(line.path, TimeContext::new(zone, parse_now.unwrap_or(wall)))
                .event(line.raw);
            if let Some(ts) = event.ts {
                last_ts.insert(line.key, ts);
                newest = Some(newest.map_or(ts, |n| n.max(ts)));
            }
            let at = event
                .ts
                .or_else(|| last_ts.get(&line.key).copied())
                .unwrap_or(wall);
            let _ = scanner.process(&event, at, &mut |found: Found<'_>| {
                found_alerts.push(found);
                Ok(())
            });
            let matched: Vec<&Signature> = scanner.matched().collect();
            if let Some(recorder) = recorder.as_mut() {
                for signature in &matched {
                    recorder.on_match(signature, at);
                }
            }
            sink.on_event(&event, &matched, at);
            for found in found_alerts.drain(..) {
                if let Some(recorder) = recorder.as_mut() {
                    record(recorder.on_alert(&found, library), sink);
                }
                sink.on_alert(&found, library);
            }
        }
        let now = if options.log_clock {
            newest.unwrap_or(wall)
        } else {
            wall
        };
        if last_tick.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) || delivery.last {
            for (signature, cleared) in scanner.clear_due(now) {
                if let Some(recorder) = recorder.as_mut() {
                    record(recorder.on_cleared(signature, &cleared), sink);
                }
                sink.on_cleared(signature, &cleared, now);
            }
            if let Some(recorder) = recorder.as_mut() {
                record(recorder.tick(now), sink);
            }
            last_tick = Some(std::time::Instant::now());
        }
        if sink.flush(delivery.files, now).is_err() {
            gone = true;
            stop.store(true, Ordering::SeqCst);
            break;
        }
        if delivery.last {
            break;
        }
    }
    let _ = follower.join();
    if let Some(recorder) = recorder.as_mut() {
        let now = if options.log_clock {
            newest.unwrap_or_else(Timestamp::now)
        } else {
            Timestamp::now()
        };
        record(recorder.finish(now), sink);
    }
    if gone || stop.load(Ordering::SeqCst) {
        Ok(())
    } else {
        Err("the follower stopped".into())
    }
}
