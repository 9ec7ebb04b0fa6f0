//! The console's pipeline side, on its own threads: what the files hold at
//! start-up (their last lines, drawn first), a background pass that runs
//! detection over what they held, and the live follower → parse → match →
//! detect (→ incident recorder) loop. Everything reaches the UI as
//! [`Msg`]s over a bounded channel, so the UI never waits on I/O and a slow
//! UI slows the follower down instead of growing memory.
//!
//! The first screen needs no library: the files' ends are read
//! ([`tail::read::read_tail`](crate::tail::read::read_tail)) and parsed on
//! their own thread while the library loads on another; detection (the
//! background pass and the live loop) starts once it has loaded.
//!
//! Events come from the parser's [`SourceReader`] both at start-up and
//! live, so a multi-line event (a stack trace) is the same unit the console
//! shows that `scan --all` and `watch` see. The live side is the shared
//! `pipeline::run` with [`UiSink`] as its sink; a replay (the demo, whose
//! log time runs faster than the wall clock) runs it on the log clock
//! ([`Clock::Log`]).
//!
//! Must not: touch the terminal, open log files (only `tail` does), or
//! write anything but the journal (through the pipeline's recorder).

use std::{
    collections::HashMap,
    io,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc::SyncSender,
    },
    thread,
};

use jiff::{Timestamp, tz::TimeZone};

use super::msg::{AlertInfo, LogLine, Msg, Stats, clean};
use crate::{
    config::Config,
    diag::Diagnostic,
    incident::recorder::key_text,
    library::Library,
    model::Event,
    model::RawLine,
    model::{Alert, Cleared, Timing},
    parse::{ReadAs, reader_for},
    pipeline::Clock,
    scan::Scanner,
    signature::Signature,
    tail::{
        checkpoint::Checkpoint,
        discover::{self, Target},
        follow::{FollowOptions, RunOptions},
        read::{Input, read_tail},
    },
};

/// Bytes read from the end of each file for the first screen: a few
/// thousand lines, read in well under a millisecond per file.
pub const TAIL_BYTES: u64 = 256 * 1024;
/// Files whose end is read for the first screen.
const TAIL_FILES: usize = 64;
/// Bytes read for the first screen over all files: with many files, each
/// gives less (at least [`TAIL_MIN_BYTES`]), so that the first screen stays
/// a few milliseconds of work however many files are followed.
const TAIL_TOTAL_BYTES: u64 = 4 * 1024 * 1024;
/// The least read from the end of one file for the first screen.
const TAIL_MIN_BYTES: u64 = 16 * 1024;

/// Loads the library (signatures, runbooks) and says what was wrong in
/// the user's files; called on a thread of its own after the first screen.
pub type LoadLibrary = Box<dyn FnOnce() -> (Library, Vec<Diagnostic>) + Send>;

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
    /// The pipeline's present: the wall clock, or (a replay such as the
    /// demo, whose log time runs faster) the newest log time seen.
    pub clock: Clock,
    /// "Now" for reading timestamps without a year at start-up (default:
    /// the clock).
    pub parse_now: Option<Timestamp>,
    /// Sources are shown relative to this directory.
    pub relative_to: Option<PathBuf>,
}

/// The pipeline's sink: turns its calls into [`Msg`]s, sent at the end of
/// each delivery (lines before the alerts they explain).
pub struct UiSink {
    tx: SyncSender<Msg>,
    library: Arc<Library>,
    relative_to: Option<PathBuf>,
    alerts: bool,
    lines: Vec<LogLine>,
    pending: Vec<Msg>,
    total: u64,
    present: Option<Timestamp>,
    log_clock: bool,
    names: HashMap<Arc<str>, Arc<str>>,
}

impl UiSink {
    /// A sink sending to `tx`; sources shown relative to `relative_to`;
    /// alerts sent only when `alerts` (attached, they come from the journal).
    pub fn new(
        tx: SyncSender<Msg>,
        library: Arc<Library>,
        relative_to: Option<PathBuf>,
        alerts: bool,
    ) -> UiSink {
        UiSink {
            tx,
            library,
            relative_to,
            alerts,
            lines: Vec::new(),
            pending: Vec::new(),
            total: 0,
            present: None,
            log_clock: false,
            names: HashMap::new(),
        }
    }

    /// The pipeline runs on the log clock: its present is shown as the
    /// log time (on the wall clock, the console's own clock is the present).
    pub fn on_log_clock(mut self, log_clock: bool) -> UiSink {
        self.log_clock = log_clock;
        self
    }

    fn name(&mut self, source: &Arc<str>) -> Arc<str> {
        if let Some(name) = self.names.get(source) {
            return Arc::clone(name);
        }
        let shown = display_name(source, self.relative_to.as_deref());
        self.names.insert(Arc::clone(source), Arc::clone(&shown));
        shown
    }
}

/// `source` as shown: relative to `dir` when under it, sanitised.
pub fn display_name(source: &str, dir: Option<&Path>) -> Arc<str> {
    let shown = dir
        .and_then(|dir| Path::new(source).strip_prefix(dir).ok())
        .map_or_else(|| source.to_owned(), |p| p.display().to_string());
    Arc::from(clean(&shown))
}

impl<'l> crate::pipeline::Sink<'l> for UiSink {
    fn event(&mut self, event: &Event, _when: Timing, matched: &[&'l Signature]) -> io::Result<()> {
        let mut line = LogLine::of_event(self.name(&event.source), event);
        line.signatures = matched.iter().map(|s| Arc::from(s.id.as_str())).collect();
        self.total += 1;
        self.lines.push(line);
        Ok(())
    }

    fn alert(&mut self, found: &Alert) -> io::Result<()> {
        if !self.alerts {
            return Ok(());
        }
        let evidence = LogLine::of_event(self.name(&found.event.source), &found.event);
        let info = alert_info(found, &self.library, evidence, false);
        // Lines before the alert go first, so that its evidence is there.
        if !self.lines.is_empty() {
            self.pending
                .push(Msg::Lines(std::mem::take(&mut self.lines)));
        }
        self.pending.push(Msg::Alert(Box::new(info)));
        Ok(())
    }

    fn cleared(&mut self, cleared: &Cleared) -> io::Result<()> {
        if !self.alerts {
            return Ok(());
        }
        let at = self.present.unwrap_or_else(Timestamp::now);
        let signature = self.library.signature(cleared.signature);
        self.pending.push(Msg::Cleared {
            signature: Arc::from(signature.id.as_str()),
            key: clean(&key_text(&cleared.key)),
            at,
        });
        Ok(())
    }

    fn problem(&mut self, path: &Path, message: &str) {
        self.pending
            .push(Msg::Problem(format!("{}: {message}", path.display())));
    }

    fn present(&mut self, now: Timestamp) {
        self.present = Some(now);
    }

    fn flush(&mut self, checkpoint: &Checkpoint, _last: bool) -> io::Result<()> {
        if !self.lines.is_empty() {
            self.pending
                .push(Msg::Lines(std::mem::take(&mut self.lines)));
        }
        if self.log_clock
            && let Some(present) = self.present
        {
            self.pending.push(Msg::Clock(present));
        }
        self.pending.push(Msg::Stats(Stats {
            files: checkpoint.files.len(),
            lines: self.total,
            index_lag: None,
        }));
        for msg in self.pending.drain(..) {
            self.tx
                .send(msg)
                .map_err(|_| io::Error::other("the console has closed"))?;
        }
        Ok(())
    }
}

/// An alert as the console shows it.
pub fn alert_info(
    found: &Alert,
    library: &Library,
    evidence: LogLine,
    backfill: bool,
) -> AlertInfo {
    let signature = library.signature(found.signature);
    AlertInfo {
        signature: Arc::from(signature.id.as_str()),
        title: clean(&signature.title),
        severity: signature.severity,
        key: clean(&key_text(&found.key)),
        at: found.at,
        runbook: library.runbook_of(signature).map(|r| r.id.clone()),
        captures: found.captures.clone(),
        hits: found.hits + found.suppressed,
        evidence,
        backfill,
    }
}

/// Starts the feed's threads: the first screen (`ui-first`: the files'
/// ends, no library needed) and the live side (`ui-live`: loads the
/// library, hands it to the console, starts the background detection pass
/// on `ui-backfill`, then runs the pipeline). A thread that ends on an
/// error or a bug says so with [`Msg::Stopped`]. The backfill thread is
/// not among the handles: it stops at the next file or alert once `stop`
/// is set, and the console does not wait for it.
pub fn spawn(
    options: FeedOptions,
    load: LoadLibrary,
    config: Arc<Config>,
    stop: Arc<AtomicBool>,
    tx: SyncSender<Msg>,
) -> io::Result<Vec<thread::JoinHandle<()>>> {
    let mut handles = Vec::new();
    if options.tail_first {
        let (options, config, tx) = (options.clone(), Arc::clone(&config), tx.clone());
        handles.push(
            thread::Builder::new()
                .name("ui-first".into())
                .spawn(move || {
                    guarded("the first screen", &tx.clone(), || {
                        first_screen(&options, &config, &tx);
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
                    live(options, load, config, stop, tx, &report);
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

/// The first screen: the last events of each file, merged by time.
fn first_screen(options: &FeedOptions, config: &Config, tx: &SyncSender<Msg>) {
    let mut errors = Vec::new();
    let files = discover::expand(&options.targets, &mut errors);
    let now = options.parse_now.unwrap_or_else(Timestamp::now);
    let mut lines = Vec::new();
    let count = files.len().clamp(1, TAIL_FILES) as u64;
    let budget = (TAIL_TOTAL_BYTES / count).clamp(TAIL_MIN_BYTES, TAIL_BYTES);
    for file in files.iter().take(TAIL_FILES) {
        match read_tail(&file.path, budget) {
            Ok(Some(tail)) => {
                let source: Arc<str> = Arc::from(file.path.display().to_string());
                let shown = display_name(&source, options.relative_to.as_deref());
                let read_as = config.read_as(Some(&file.path), &options.zone);
                let max_line = options.follow.max_line;
                tail_events(&tail, &read_as, source, max_line, now, &mut |e| {
                    lines.push(LogLine::of_event(Arc::clone(&shown), &e));
                });
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
    for (path, err) in errors {
        let _ = tx.send(Msg::Problem(format!("{}: {err}", path.display())));
    }
}

/// The events of a file's end (`source`, read as `read_as` says), read
/// through the reader the live pipeline would make for it (its profile
/// from those bytes), multi-line events joined. A last line without its
/// newline is left out: the follower starts at the last line boundary and
/// reads it (whole, once it is), so the first screen showing it too would
/// show it twice.
pub fn tail_events(
    tail: &crate::tail::read::Tail,
    read_as: &ReadAs,
    source: Arc<str>,
    max_line: usize,
    now: Timestamp,
    emit: &mut dyn FnMut(Event),
) {
    let mut reader = reader_for(read_as, source, &tail.bytes, true, now).learning();
    let lines = |push: &mut dyn FnMut(RawLine)| {
        tail.lines(max_line, |raw| {
            if !raw.partial {
                push(raw);
            }
        });
        Ok::<(), std::convert::Infallible>(())
    };
    let Ok(()) = reader.read_all(now, lines, &mut |event, _| emit(event));
}

/// Detection over what the files held when the console started, with one
/// worker (the live loop and the UI keep the other core).
fn backfill(
    options: &FeedOptions,
    library: &Library,
    config: &Config,
    stop: &AtomicBool,
    tx: &SyncSender<Msg>,
) {
    let mut errors = Vec::new();
    let files = discover::expand(&options.targets, &mut errors);
    if files.is_empty() {
        return;
    }
    let now = options.parse_now.unwrap_or_else(Timestamp::now);
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
        let result = scanner.scan(&input, &mut |found: Alert| {
            if stop.load(Ordering::SeqCst) {
                return Err(io::Error::other("stopped"));
            }
            alerts += 1;
            let source = display_name(&found.event.source, relative.as_deref());
            let evidence = LogLine::of_event(source, &found.event);
            let info = alert_info(&found, library, evidence, true);
            tx.send(Msg::Alert(Box::new(info)))
                .map_err(|_| io::Error::other("console gone"))
        });
        if let Err(crate::scan::ScanError::Read(err)) = result {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let _ = tx.send(Msg::Problem(format!("{}: {err}", file.path.display())));
        }
    }
    let _ = tx.send(Msg::Info(format!(
        "detection over the existing {} files done: {alerts} earlier alerts",
        files.len()
    )));
}

/// The live side: loads the library, hands it to the console, starts the
/// background pass, then runs the shared pipeline into a [`UiSink`].
fn live(
    options: FeedOptions,
    load: LoadLibrary,
    config: Arc<Config>,
    stop: Arc<AtomicBool>,
    tx: SyncSender<Msg>,
    report: &SyncSender<Msg>,
) {
    let (library, diagnostics) = load();
    let library = Arc::new(library);
    let loaded = Msg::Library(super::msg::Loaded {
        library: Arc::clone(&library),
        diagnostics: Arc::new(diagnostics),
    });
    if tx.send(loaded).is_err() || stop.load(Ordering::SeqCst) {
        return;
    }
    if options.backfill {
        let (options, library, config, stop, pass_tx) = (
            options.clone(),
            Arc::clone(&library),
            Arc::clone(&config),
            Arc::clone(&stop),
            tx.clone(),
        );
        let spawned = thread::Builder::new()
            .name("ui-backfill".into())
            .spawn(move || {
                guarded("the start-up pass", &pass_tx.clone(), || {
                    backfill(&options, &library, &config, &stop, &pass_tx);
                });
            });
        if let Err(err) = spawned {
            let _ = tx.send(Msg::Problem(format!(
                "detection over the existing files cannot start: {err}"
            )));
        }
    }
    let clock = options.clock;
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
        ingested: Vec::new(),
        clock,
    };
    let mut sink = UiSink::new(
        tx,
        Arc::clone(&library),
        options.relative_to.clone(),
        options.alerts,
    )
    .on_log_clock(matches!(clock, Clock::Log { .. }));
    let result = crate::pipeline::run(pipeline, &library, &config, Arc::clone(&stop), &mut sink)
        .map_err(|err| err.to_string())
        .and_then(|_| match stop.load(Ordering::SeqCst) {
            true => Ok(()),
            false => Err("the follower stopped".to_owned()),
        });
    if let Err(err) = result
        && !stop.load(Ordering::SeqCst)
    {
        let _ = report.send(Msg::Stopped(err));
    }
}
