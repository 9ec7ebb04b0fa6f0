//! The live pipeline: follower thread → parse → match → detect → sinks.
//!
//! Wiring only, shared by `watch` (alerts to stdout), the console (`ui`) and
//! indexing: the follower (`tail::follow`) runs on its own thread and hands
//! over batches of lines with the checkpoint that holds once they are
//! processed; this loop turns them into events (`parse`: one source reader
//! per file, its format detected from the first lines it delivers, lines
//! joined into multi-line events), matches and
//! detects (`signature::Engine`), feeds the incident recorder when asked to, and
//! hands everything to a [`Sink`]. Only after the sink's
//! [`flush`](Sink::flush) returns does the checkpoint move (saved by a
//! thread of its own, so an fsync never delays the next alert). What a
//! sink makes durable on a thread of its own (the notifier's outbox) it
//! says with [`Sink::durable`]: the saving thread, not the detection
//! thread, waits for that before writing the checkpoint. A crash
//! therefore never loses a line, and repeats at most the lines whose
//! checkpoint was not yet on disk. A multi-line event still being
//! assembled keeps its file's checkpoint at its first line.
//!
//! Live, an event ends with what the writer has written so far: the events
//! a delivery completes are handed over at its end (a stack trace written
//! in one `write` is one event), unless the delivery was full and more
//! lines are waiting.
//!
//! The pipeline's present ([`Clock`]) is the wall clock (`watch`, the
//! console on live files), or for a replay whose log time runs faster than
//! the wall clock (the demo) the newest log time seen. It is the time of
//! clearing, of the timeline's periodic counts and of an event that has no
//! timestamp and follows none; clearing is looked at about once a second
//! of wall time either way.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    io,
    path::{Path, PathBuf},
    sync::{Arc, atomic::AtomicBool, mpsc},
    thread,
    time::{Duration, Instant},
};

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    config::Config,
    incident::{Journal, JournalError, Recorder},
    library::Library,
    model::Event,
    model::{Alert, Cleared, Timing},
    parse::{SourceReader, reader_for, source::SAMPLE_LINES},
    signature::{Signature, problem::Observed},
    tail::{
        checkpoint::{Checkpoint, FileCheckpoint, Fingerprint},
        discover::{FileKey, Target},
        follow::{self, FollowOptions, RunOptions, Seen, Tailer},
    },
};

/// Where the follower's checkpoint lives in the data directory.
pub const CHECKPOINT_FILE: &str = "tail-checkpoint.json";
/// How often (wall time) signatures gone quiet are looked for and the
/// timeline's periodic counts written.
const TICK: Duration = Duration::from_secs(1);

/// What the pipeline takes as the present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The wall clock.
    Wall,
    /// The newest log timestamp seen so far (the wall clock until one is),
    /// for a replay whose log time runs faster than the wall clock.
    /// Timestamps without a year are read as not later than `read_as_of`.
    Log {
        /// The present for reading timestamps without a year.
        read_as_of: Timestamp,
    },
}

impl Clock {
    /// The present, given the newest log time seen.
    fn now(self, newest: Option<Timestamp>) -> Timestamp {
        match (self, newest) {
            (Clock::Log { .. }, Some(newest)) => newest,
            _ => Timestamp::now(),
        }
    }

    /// The present for reading timestamps that carry no year.
    fn read_as_of(self) -> Timestamp {
        match self {
            Clock::Wall => Timestamp::now(),
            Clock::Log { read_as_of } => read_as_of,
        }
    }
}

/// What to follow and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Paths and globs to follow.
    pub targets: Vec<Target>,
    /// How files are followed.
    pub follow: FollowOptions,
    /// How the follower thread runs.
    pub run: RunOptions,
    /// Zone of timestamps written without one.
    pub zone: TimeZone,
    /// The data directory (checkpoint, journal).
    pub data_dir: PathBuf,
    /// Feed the incident recorder (off when another process already does,
    /// e.g. a console attached to a running `watch`).
    pub record: bool,
    /// Resume from and save the checkpoint in the data directory (off for a
    /// reader that must not move a running `watch`'s position).
    pub checkpoint: bool,
    /// Follow from this checkpoint instead (the one committed with the
    /// index, so indexed lines and resume offsets agree; empty when the
    /// index has no commit yet). Lines before the data directory's
    /// checkpoint (already handed over before a crash) are replayed to
    /// [`Sink::event_of`] only: no alert, no journal entry again; files the
    /// index has no position for are read from where following them began.
    pub resume: Option<Checkpoint>,
    /// What `ingest` indexed, by identity, first bytes and the offset its
    /// indexed events end before (with where it read the file): those
    /// events come with [`Seen::indexed`].
    pub ingested: Vec<(FileKey, Fingerprint, u64, PathBuf)>,
    /// The present: [`Clock::Wall`] but for a replay.
    pub clock: Clock,
}

/// What the pipeline hands over. Every method has a default that does
/// nothing, so a sink implements only what it uses. An error stops the
/// pipeline (after the follower thread is joined and the last good
/// checkpoint saved).
pub trait Sink<'l> {
    /// Every event, in file order per file, after matching: `when` is its
    /// time (own or its source's nearest earlier one, or none) and the time
    /// detection used, `matched` the signatures it matched (alerting or
    /// not).
    fn event(&mut self, event: &Event, when: Timing, matched: &[&'l Signature]) -> io::Result<()> {
        let _ = (event, when, matched);
        Ok(())
    }

    /// [`Sink::event`] with the identity of the file the event was read
    /// from and what happened to it before a restart (`seen.alerted`: its
    /// alerts were handed over already; only [`Options::resume`] replays;
    /// `seen.indexed`: `ingest` indexed it). The default skips replayed
    /// events and calls [`Sink::event`].
    fn event_of(
        &mut self,
        key: FileKey,
        seen: Seen,
        event: &Event,
        when: Timing,
        matched: &[&'l Signature],
    ) -> io::Result<()> {
        let _ = key;
        if seen.alerted {
            return Ok(());
        }
        self.event(event, when, matched)
    }

    /// A problem-like event no signature matched (an unknown failure:
    /// error level or worse, or a failure marker), as the engine grouped it
    /// by template (`observed.new_group`: the first of its template), right
    /// after [`Sink::event_of`]; not for events replayed after a restart.
    fn unknown_problem(&mut self, event: &Event, observed: &Observed) {
        let _ = (event, observed);
    }

    /// An alert (after thresholds and suppression), right after its event.
    fn alert(&mut self, found: &Alert) -> io::Result<()> {
        let _ = found;
        Ok(())
    }

    /// An incident opened, was acknowledged, changed status or was merged,
    /// as the journal records it (written here or by a person's command
    /// meanwhile; seen when the recorder next reads the journal, within
    /// about a second). Only with the incident recorder.
    fn incident(&mut self, event: &crate::incident::JournalEvent) {
        let _ = event;
    }

    /// A signature gone quiet for its `clear_after`.
    fn cleared(&mut self, cleared: &Cleared) -> io::Result<()> {
        let _ = cleared;
        Ok(())
    }

    /// A file that cannot be read (the others go on).
    fn problem(&mut self, path: &Path, message: &str) {
        tracing::warn!(path = %path.display(), "{message}");
    }

    /// The pipeline's present at the end of a delivery (see [`Clock`]),
    /// before the signatures it clears and [`flush`](Sink::flush).
    fn present(&mut self, now: Timestamp) {
        let _ = now;
    }

    /// The end of one delivery: everything before it has been handed over.
    /// The checkpoint moves past those lines once this returns `Ok`; `last`
    /// says the pipeline is stopping.
    fn flush(&mut self, checkpoint: &Checkpoint, last: bool) -> io::Result<()> {
        let _ = (checkpoint, last);
        Ok(())
    }

    /// Asked after each [`flush`](Sink::flush): what must be on disk before
    /// the checkpoint moves past this delivery, when the sink writes it on
    /// a thread of its own (the notifier's outbox). The checkpoint's saving
    /// thread waits for it, so the next lines are handled meanwhile.
    fn durable(&mut self, gates: &mut Vec<Durable>) {
        let _ = gates;
    }

    /// Asked after each [`flush`](Sink::flush): the pipeline should stop
    /// here and be started again from the checkpoints (an index that failed
    /// can be written again and must catch up from its last commit).
    fn wants_restart(&self) -> bool {
        false
    }
}

/// Answered, or dropped, once what a sink handed over is on disk (see
/// [`Sink::durable`]).
#[derive(Debug)]
pub struct Durable(pub mpsc::Receiver<()>);

impl Durable {
    /// Not yet answered.
    fn pending(&self) -> bool {
        matches!(self.0.try_recv(), Err(mpsc::TryRecvError::Empty))
    }

    /// Waits for the answer (a dropped sender ends the wait: the sink's
    /// thread said what failed).
    fn wait(self) {
        let _ = self.0.recv();
    }
}

/// How the pipeline ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Asked to stop, or the follower stopped.
    Stopped,
    /// The sink asked for a restart ([`Sink::wants_restart`]): nothing
    /// after the last checkpoint was handed over (held partial lines are not
    /// cut short).
    Restart,
}

/// Why the pipeline could not run, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Reading or writing state (checkpoint, known problems) failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A thread of the pipeline could not be started.
    #[error("cannot start the {what} thread: {source}")]
    Spawn {
        /// Which thread.
        what: &'static str,
        /// Why.
        source: io::Error,
    },
    /// The incident journal cannot be opened.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A sink failed: which one, and why.
    #[error("{stage}: {source}")]
    Sink {
        /// The sink's stage ([`Tagged`]; untagged: the output).
        stage: Stage,
        /// Why.
        source: io::Error,
    },
    /// The follower thread died (a bug): what it read last may be lost.
    #[error("the thread following the files failed")]
    Follower,
}

impl PipelineError {
    /// A sink's error, with the stage [`Tagged`] put in it (none: the
    /// output's).
    fn sink(err: io::Error) -> PipelineError {
        if !err.get_ref().is_some_and(|inner| inner.is::<StageError>()) {
            return PipelineError::Sink {
                stage: Stage::Output,
                source: err,
            };
        }
        let kind = err.kind();
        match err.into_inner().map(|inner| inner.downcast::<StageError>()) {
            Some(Ok(tagged)) => PipelineError::Sink {
                stage: tagged.stage,
                source: tagged.error,
            },
            Some(Err(other)) => PipelineError::Sink {
                stage: Stage::Output,
                source: io::Error::new(kind, other),
            },
            None => PipelineError::Sink {
                stage: Stage::Output,
                source: io::Error::from(kind),
            },
        }
    }

    /// Standard output was closed (`| head`): the alerts' reader went away.
    pub fn closed_output(&self) -> bool {
        matches!(
            self,
            PipelineError::Sink { stage: Stage::Output, source }
                if source.kind() == io::ErrorKind::BrokenPipe
        )
    }
}

/// Which stage of what the pipeline feeds a sink is, so that its error says
/// what failed (an index that cannot take the last lines is not stdout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The alerts printed (stdout), or the console.
    Output,
    /// The index (`live_index`).
    Index,
    /// The outputs (`notify`).
    Notify,
    /// `/metrics`.
    Metrics,
    /// The fleet's stream (`fleet::agent`).
    Publish,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Output => "cannot write the alerts",
            Stage::Index => "the index failed",
            Stage::Notify => "the outputs failed",
            Stage::Metrics => "/metrics failed",
            Stage::Publish => "publishing to the stream failed",
        })
    }
}

/// A sink's error tagged with its stage, inside the `io::Error` the sink
/// returned (its kind kept).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
struct StageError {
    stage: Stage,
    #[source]
    error: io::Error,
}

/// The error `err` of a sink of `stage` (one tagged already keeps its
/// stage: the innermost sink knows best).
fn tag(stage: Stage, err: io::Error) -> io::Error {
    if err.get_ref().is_some_and(|inner| inner.is::<StageError>()) {
        return err;
    }
    io::Error::new(err.kind(), StageError { stage, error: err })
}

/// A sink whose errors say they came from `stage`.
pub struct Tagged<'a, 'l> {
    /// What the sink is.
    pub stage: Stage,
    /// The sink.
    pub sink: &'a mut dyn Sink<'l>,
}

impl<'l> Sink<'l> for Tagged<'_, 'l> {
    fn event(&mut self, event: &Event, when: Timing, matched: &[&'l Signature]) -> io::Result<()> {
        let stage = self.stage;
        self.sink
            .event(event, when, matched)
            .map_err(|err| tag(stage, err))
    }

    fn event_of(
        &mut self,
        key: FileKey,
        seen: Seen,
        event: &Event,
        when: Timing,
        matched: &[&'l Signature],
    ) -> io::Result<()> {
        let stage = self.stage;
        self.sink
            .event_of(key, seen, event, when, matched)
            .map_err(|err| tag(stage, err))
    }

    fn unknown_problem(&mut self, event: &Event, observed: &Observed) {
        self.sink.unknown_problem(event, observed);
    }

    fn alert(&mut self, found: &Alert) -> io::Result<()> {
        let stage = self.stage;
        self.sink.alert(found).map_err(|err| tag(stage, err))
    }

    fn incident(&mut self, event: &crate::incident::JournalEvent) {
        self.sink.incident(event);
    }

    fn cleared(&mut self, cleared: &Cleared) -> io::Result<()> {
        let stage = self.stage;
        self.sink.cleared(cleared).map_err(|err| tag(stage, err))
    }

    fn problem(&mut self, path: &Path, message: &str) {
        self.sink.problem(path, message);
    }

    fn present(&mut self, now: Timestamp) {
        self.sink.present(now);
    }

    fn flush(&mut self, checkpoint: &Checkpoint, last: bool) -> io::Result<()> {
        let stage = self.stage;
        self.sink
            .flush(checkpoint, last)
            .map_err(|err| tag(stage, err))
    }

    fn durable(&mut self, gates: &mut Vec<Durable>) {
        self.sink.durable(gates);
    }

    fn wants_restart(&self) -> bool {
        self.sink.wants_restart()
    }
}

/// Runs until `stop` is set (or the follower ends), handing everything to
/// `sink`. The caller holds whatever lock keeps a second writer off the
/// data directory.
pub fn run<'l>(
    options: Options,
    library: &'l Library,
    config: &'l Config,
    stop: Arc<AtomicBool>,
    sink: &mut dyn Sink<'l>,
) -> Result<Ended, PipelineError> {
    run_raising(options, library, config, stop, sink, None)
}

/// [`run`], raising `new-problem` alerts when `new_problems` is given: for
/// problem templates the data directory does not know yet
/// (`patterns::known`, recorded there when [`Options::record`]), nor the
/// baseline's miner it holds (`patterns::baseline`), which the engine then
/// starts from.
pub fn run_raising<'l>(
    options: Options,
    library: &'l Library,
    config: &'l Config,
    stop: Arc<AtomicBool>,
    sink: &mut dyn Sink<'l>,
    new_problems: Option<Option<&crate::parse::template::Miner>>,
) -> Result<Ended, PipelineError> {
    let checkpoint_path = options.data_dir.join(CHECKPOINT_FILE);
    let handed = match options.checkpoint {
        true => Checkpoint::load(&checkpoint_path).map_err(|source| PipelineError::Io {
            path: checkpoint_path.clone(),
            source,
        })?,
        false => Checkpoint::default(),
    };
    // With a checkpoint to resume from (the index's), what the data
    // directory's says was handed over is replayed, not alerted again; the
    // follower tells which lines, by content (a file truncated since gets
    // no replay).
    let follow = options.follow.clone().within_descriptor_limit();
    let tailer = match options.resume {
        Some(resume) => Tailer::new(options.targets, follow, resume).handed_over(&handed),
        None => Tailer::new(options.targets, follow, handed.clone()),
    }
    .ingested(options.ingested);
    let checkpoint = tailer.checkpoint();
    let (deliveries, thread) =
        follow::spawn(tailer, options.run, stop).map_err(|source| PipelineError::Spawn {
            what: "follower",
            source,
        })?;
    let clock = options.clock;
    let mut engine = library.engine();
    if let Some(baseline) = new_problems {
        let path = options.data_dir.join(crate::patterns::known::KNOWN_FILE);
        let mut known = crate::patterns::known::load(&options.data_dir)
            .map_err(|source| PipelineError::Io { path, source })?;
        if let Some(miner) = baseline {
            known.extend(crate::patterns::baseline::known_ids(miner));
            *engine.problems_mut().miner_mut() = miner.clone();
        }
        engine.raise_new_problems(known);
    }
    let mut recorder = match options.record {
        true => {
            let journal = Journal::open(&options.data_dir)?;
            Some(Recorder::new(journal, library))
        }
        false => None,
    };
    let journal_path = options
        .data_dir
        .join(crate::incident::journal::JOURNAL_FILE);
    let mut journal_error = JournalFailure::default();
    // The journal's events up to here were there before: not told again.
    let mut told = recorder
        .as_ref()
        .and_then(|r| r.journal().timeline().events().last())
        .map_or(0, |e| e.seq);
    let saver = match options.checkpoint {
        true => Some(Saver::spawn(checkpoint_path.clone())?),
        false => None,
    };
    let mut sources: HashMap<FileKey, SourceReader> = HashMap::new();
    // A newly followed file's reader: its zone, format and multi-line rule
    // from `triage.toml`, its profile from `sample` (its first lines); it
    // keeps learning from the lines that come.
    let reader_of = |path: &Arc<str>, sample: &[u8], now: Timestamp| {
        let read_as = config.read_as(Some(Path::new(&**path)), &options.zone);
        reader_for(&read_as, Arc::clone(path), sample, true, now).learning()
    };
    let mut seens = Seens::default();
    // Each event with its time (own or its source's nearest earlier one;
    // `None`: none) and the time detection counts it at.
    let mut events: Vec<(FileKey, Event, Timing)> = Vec::new();
    let mut last_tick: Option<Instant> = None;
    let mut newest: Option<Timestamp> = None;
    let mut alerts: Vec<Alert> = Vec::new();
    let mut matched: Vec<&'l Signature> = Vec::new();
    let mut saved = Arc::new(checkpoint);
    // What the sinks make durable and the next checkpoint saved waits for.
    let mut gates: Vec<Durable> = Vec::new();
    // The checkpoint of the last delivery whose files' readers were kept.
    let mut followed = Arc::clone(&saved);
    let mut result = Ok(Ended::Stopped);
    'deliveries: for delivery in deliveries {
        for problem in &delivery.batch.problems {
            sink.problem(&problem.path, &problem.message);
        }
        for notice in &delivery.batch.notices {
            tracing::info!("{notice}");
        }
        let now = clock.now(newest);
        let read_as_of = clock.read_as_of();
        // A content that ended (a file truncated or replaced): the event
        // its reader was assembling is complete, or goes on in the copy
        // that took the content over; new lines under that identity are a
        // new content's.
        for &(from, to) in &delivery.batch.restarted {
            if let Some(mut source) = sources.remove(&from) {
                match to {
                    Some(to) => {
                        sources.insert(to, source);
                    }
                    None => source.finish(&mut |event, time| {
                        let at = time.unwrap_or(now);
                        events.push((from, event, Timing { time, at }));
                    }),
                }
            }
        }
        let full = delivery.batch.lines.len() >= options.follow.max_batch_lines;
        let unsettled = delivery.batch.unsettled;
        let lines = delivery.batch.lines;
        // Files whose lines are handed over for the first time are in the
        // data directory's checkpoint first (at where following them
        // began), so that after a crash they are found again by identity
        // even when renamed away meanwhile.
        if let Some(saver) = saver.as_ref().filter(|_| !lines.is_empty()) {
            let with_lines: HashSet<FileKey> = lines.iter().map(|l| l.key).collect();
            let known: HashSet<FileKey> = saved.files.iter().map(FileCheckpoint::key).collect();
            let mut before = Checkpoint::clone(&saved);
            for file in &delivery.checkpoint.files {
                if with_lines.contains(&file.key()) && !known.contains(&file.key()) {
                    before.files.push(FileCheckpoint {
                        offset: file.from_offset,
                        line_no: file.from_line,
                        ..file.clone()
                    });
                }
            }
            // (A failure is said by the saver; following goes on.)
            if before.files.len() > saved.files.len() && saver.save_now(before.clone()).is_ok() {
                saved = Arc::new(before);
            }
        }
        // A file seen for the first time: its first lines in this delivery
        // are its sample.
        for (i, line) in lines.iter().enumerate() {
            if sources.contains_key(&line.key) {
                continue;
            }
            let mut sample = Vec::new();
            for same in lines[i..]
                .iter()
                .filter(|l| l.key == line.key)
                .take(SAMPLE_LINES)
            {
                sample.extend_from_slice(&same.raw.bytes);
                sample.push(b'\n');
            }
            sources.insert(line.key, reader_of(&line.path, &sample, read_as_of));
        }
        for line in lines {
            // (Every file has its reader from the loop above.)
            let source = sources
                .entry(line.key)
                .or_insert_with(|| reader_of(&line.path, &line.raw.bytes, read_as_of));
            source.set_now(read_as_of);
            source.renamed(&line.path);
            let key = line.key;
            seens.note(key, line.raw.offset, line.seen);
            source.push(line.raw, now, &mut |event, time| {
                let at = time.unwrap_or(now);
                events.push((key, event, Timing { time, at }));
            });
        }
        // The events still being assembled are complete: the next line
        // would have come in this delivery. Not for a file that ended at a
        // page boundary, where a write may be only partly visible yet.
        if !full {
            for (&key, source) in &mut sources {
                if delivery.last || !unsettled.contains(&key) {
                    source.finish(&mut |event, time| {
                        let at = time.unwrap_or(now);
                        events.push((key, event, Timing { time, at }));
                    });
                }
            }
        }
        for (key, event, when) in events.drain(..) {
            if let Some(ts) = event.ts {
                newest = Some(newest.map_or(ts, |n| n.max(ts)));
            }
            let _ = engine.process_at(&event, when.time, &mut || when.at, &mut |alert| {
                alerts.push(alert);
                Ok(())
            });
            matched.clear();
            matched.extend(engine.matched_signatures());
            let seen = seens.of(key, event.offset);
            if seen.alerted {
                alerts.clear();
            }
            if let Some(recorder) = &mut recorder
                && !seen.alerted
            {
                for &id in engine.matched() {
                    recorder.on_match(id, when.at);
                }
            }
            if let Err(err) = sink.event_of(key, seen, &event, when, &matched) {
                result = Err(PipelineError::sink(err));
                break 'deliveries;
            }
            if !seen.alerted
                && let Some(observed) = engine.observed()
            {
                sink.unknown_problem(&event, &observed);
            }
            for found in alerts.drain(..) {
                if let Some(recorder) = &mut recorder {
                    journal_error.note(recorder.on_alert(&found, library));
                }
                if options.record
                    && library.signature(found.signature).raised
                    && let Some((_, id)) = found.key.first()
                    && let Err(err) = crate::patterns::known::append(&options.data_dir, id)
                {
                    tracing::warn!("{}: {err}", crate::patterns::known::KNOWN_FILE);
                }
                if let Err(err) = sink.alert(&found) {
                    result = Err(PipelineError::sink(err));
                    break 'deliveries;
                }
            }
        }
        // An event still being assembled keeps its file's checkpoint at its
        // first line; readers of files no longer followed go.
        let mut checkpoint = delivery.checkpoint;
        for (key, source) in &sources {
            if let Some((offset, line_no)) = source.held() {
                Arc::make_mut(&mut checkpoint).hold_back(*key, offset, line_no);
            }
        }
        if !Arc::ptr_eq(&checkpoint, &followed) {
            let keys: HashSet<FileKey> = checkpoint.files.iter().map(FileCheckpoint::key).collect();
            sources.retain(|key, source| source.held().is_some() || keys.contains(key));
            followed = Arc::clone(&checkpoint);
        }
        // About once a second: signatures gone quiet, and the periodic
        // counts of the incident timeline.
        let now = clock.now(newest);
        sink.present(now);
        if last_tick.is_none_or(|t| t.elapsed() >= TICK) || delivery.last {
            for cleared in engine.clear_due(now) {
                if let Some(recorder) = &mut recorder {
                    journal_error.note(recorder.on_cleared(&cleared, library));
                }
                if let Err(err) = sink.cleared(&cleared) {
                    result = Err(PipelineError::sink(err));
                    break 'deliveries;
                }
            }
            if let Some(recorder) = &mut recorder {
                journal_error.note(recorder.tick(now));
            }
            last_tick = Some(Instant::now());
        }
        if let Some(message) = journal_error.report() {
            sink.problem(&journal_path, &message);
        }
        if let Some(recorder) = &recorder {
            told = tell_incidents(recorder.journal().timeline().events(), told, sink);
        }
        if let Err(err) = sink.flush(&checkpoint, delivery.last) {
            result = Err(PipelineError::sink(err));
            break;
        }
        sink.durable(&mut gates);
        // Only now that the lines are handed over does the checkpoint move
        // past them (once what the sinks still write is on disk).
        if !Arc::ptr_eq(&checkpoint, &saved) && checkpoint != saved {
            saved = checkpoint;
            if let Some(saver) = &saver {
                saver.save(Checkpoint::clone(&saved), std::mem::take(&mut gates));
            }
        }
        gates.retain(Durable::pending);
        if delivery.last {
            break;
        }
        if sink.wants_restart() {
            result = Ok(Ended::Restart);
            break;
        }
    }
    // (The follower sees the deliveries' receiver gone and returns.)
    if thread.join().is_err() && result.is_ok() {
        result = Err(PipelineError::Follower);
    }
    if let Some(recorder) = &mut recorder {
        journal_error.note(recorder.finish(clock.now(newest)));
    }
    if let Some(message) = journal_error.report() {
        sink.problem(&journal_path, &message);
    }
    if let Some(saver) = saver {
        let saved = saver.finish();
        // Restarting, the checkpoint on disk may lag (the saver said so):
        // only what came after it is read again.
        if result.as_ref().is_ok_and(|ended| *ended == Ended::Stopped) {
            saved.map_err(|source| PipelineError::Io {
                path: checkpoint_path.clone(),
                source,
            })?;
        }
    }
    result
}

/// What happened before a restart to the lines of each file pushed to its
/// reader and not yet the first line of an event: an event is what its
/// first line was.
#[derive(Debug, Default)]
struct Seens(HashMap<FileKey, VecDeque<(u64, Seen)>>);

impl Seens {
    fn note(&mut self, key: FileKey, offset: u64, seen: Seen) {
        self.0.entry(key).or_default().push_back((offset, seen));
    }

    /// What happened to the event starting at `offset` (lines before it are
    /// in earlier events: they go).
    fn of(&mut self, key: FileKey, offset: u64) -> Seen {
        let Some(lines) = self.0.get_mut(&key) else {
            return Seen::default();
        };
        while let Some((at, seen)) = lines.pop_front() {
            if at == offset {
                return seen;
            }
        }
        Seen::default()
    }
}

/// The first failure to write the incident journal, reported once through
/// the sink (alerts go on without the journal).
#[derive(Debug, Default)]
struct JournalFailure {
    reported: bool,
    pending: Option<String>,
}

impl JournalFailure {
    fn note(&mut self, result: Result<Vec<crate::incident::JournalEvent>, JournalError>) {
        if let Err(err) = result
            && !self.reported
        {
            self.reported = true;
            tracing::error!("the incident journal cannot be written: {err}");
            self.pending = Some(format!(
                "the incident journal cannot be written, alerts go on without it: {err}"
            ));
        }
    }

    /// The failure not reported yet.
    fn report(&mut self) -> Option<String> {
        self.pending.take()
    }
}

/// Hands `sink` the incident events after `told` that change what an
/// incident is (opened, acknowledged, its status, merged); returns the last
/// sequence number seen.
fn tell_incidents(
    events: &[crate::incident::JournalEvent],
    told: u64,
    sink: &mut dyn Sink<'_>,
) -> u64 {
    use crate::incident::Kind;
    let new = events.partition_point(|e| e.seq <= told);
    for event in &events[new..] {
        if matches!(
            event.kind,
            Kind::IncidentOpened | Kind::Ack | Kind::StatusChanged | Kind::IncidentMerged
        ) {
            sink.incident(event);
        }
    }
    events.last().map_or(told, |e| e.seq.max(told))
}

/// Writes checkpoints on its own thread, so that an fsync never delays the
/// next alert; when several wait, only the newest is written, after what
/// the sinks said must be durable first ([`Sink::durable`]) for it and
/// those it replaces. A crash can therefore repeat the lines of the
/// batches whose checkpoint was still being written (typically one).
struct Saver {
    tx: mpsc::Sender<ToSave>,
    thread: thread::JoinHandle<io::Result<()>>,
}

/// A checkpoint, what must be durable before it, and who waits for it.
type ToSave = (
    Checkpoint,
    Vec<Durable>,
    Option<mpsc::SyncSender<io::Result<()>>>,
);

impl Saver {
    fn spawn(path: PathBuf) -> Result<Saver, PipelineError> {
        let (tx, rx) = mpsc::channel::<ToSave>();
        let thread = thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || {
                // The newest checkpoint's save decides: an older failure that
                // a later save made good is no longer a problem. A failure is
                // said once until a save succeeds again; the last one is
                // tried again at the end.
                let mut last = Ok(());
                let mut newest = None;
                while let Ok((mut checkpoint, mut gates, mut done)) = rx.recv() {
                    // A save someone waits for is never skipped.
                    while done.is_none()
                        && let Ok((newer, more, wait)) = rx.try_recv()
                    {
                        (checkpoint, done) = (newer, wait);
                        gates.extend(more);
                    }
                    for gate in gates {
                        gate.wait();
                    }
                    let failing = last.is_err();
                    last = checkpoint.save(&path);
                    match &last {
                        Err(err) if !failing => tracing::warn!(
                            "cannot save the checkpoint {}: {err}; following goes on, and a restart would read again what came after the last one saved",
                            path.display()
                        ),
                        Ok(()) if failing => {
                            tracing::warn!("the checkpoint {} is saved again", path.display());
                        }
                        _ => {}
                    }
                    newest = Some(checkpoint);
                    if let Some(done) = done {
                        let _ = done.send(match &last {
                            Ok(()) => Ok(()),
                            Err(err) => Err(io::Error::new(err.kind(), err.to_string())),
                        });
                    }
                }
                match (last, newest) {
                    (Err(_), Some(checkpoint)) => checkpoint.save(&path),
                    (last, _) => last,
                }
            })
            .map_err(|source| PipelineError::Spawn {
                what: "checkpoint",
                source,
            })?;
        Ok(Saver { tx, thread })
    }

    fn save(&self, checkpoint: Checkpoint, gates: Vec<Durable>) {
        let _ = self.tx.send((checkpoint, gates, None));
    }

    /// Saves `checkpoint` (after any save asked before it) and waits until
    /// it is on disk.
    fn save_now(&self, checkpoint: Checkpoint) -> io::Result<()> {
        let (done, wait) = mpsc::sync_channel(1);
        self.tx
            .send((checkpoint, Vec::new(), Some(done)))
            .map_err(|_| io::Error::other("the checkpoint thread stopped"))?;
        wait.recv()
            .unwrap_or_else(|_| Err(io::Error::other("the checkpoint thread stopped")))
    }

    /// Waits until the newest checkpoint is written.
    fn finish(self) -> io::Result<()> {
        drop(self.tx);
        self.thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("checkpoint thread failed")))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::tail::follow::StartAt;

    /// The promise behind [`Sink::durable`]: a checkpoint (and one saved
    /// in its place) is not written before what a sink still makes durable
    /// for it is on disk; the detection thread does not wait for it.
    #[test]
    fn a_checkpoint_waits_for_what_a_sink_makes_durable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(CHECKPOINT_FILE);
        let saver = Saver::spawn(path.clone()).expect("checkpoint thread");
        let (durable, gate) = mpsc::sync_channel(1);
        let at = |ns| Checkpoint {
            version: crate::tail::checkpoint::VERSION,
            taken_ns: Some(ns),
            ..Checkpoint::default()
        };
        saver.save(at(1), vec![Durable(gate)]);
        saver.save(at(2), Vec::new());
        thread::sleep(Duration::from_millis(200));
        assert!(
            !path.exists(),
            "a checkpoint was saved before the sink's entries were on disk"
        );
        durable
            .send(())
            .expect("the checkpoint thread waits for it");
        saver.finish().expect("saved");
        assert_eq!(Checkpoint::load(&path).expect("load"), at(2));
    }

    const PATTERNS: &str = "[[signature]]\nid = 'boom'\ntitle = 'Boom'\nseverity = 'info'\n\
        description = 'Test.'\nregex = 'boom'\nclear_after = '1m'\n\
        [[signature.example]]\nline = 'boom'\n[[signature.example]]\nline = 'x'\nmatch = false\n";

    /// Collects what the pipeline hands over; stops it after the first
    /// delivery that had events.
    struct Collect {
        stop: Arc<AtomicBool>,
        events: usize,
        alerts: usize,
        cleared: Vec<i64>,
        present: Vec<Timestamp>,
    }

    impl<'l> Sink<'l> for Collect {
        fn event(&mut self, _: &Event, _: Timing, _: &[&'l Signature]) -> io::Result<()> {
            self.events += 1;
            Ok(())
        }

        fn alert(&mut self, _: &Alert) -> io::Result<()> {
            self.alerts += 1;
            Ok(())
        }

        fn cleared(&mut self, cleared: &Cleared) -> io::Result<()> {
            self.cleared.push(cleared.last_hit_ms);
            Ok(())
        }

        fn present(&mut self, now: Timestamp) {
            self.present.push(now);
        }

        fn flush(&mut self, _: &Checkpoint, _: bool) -> io::Result<()> {
            if self.events > 0 {
                self.stop.store(true, Ordering::SeqCst);
            }
            Ok(())
        }
    }

    /// Runs the pipeline over a file whose log time is far in the future
    /// (so the wall clock is long before it) and spans more than the
    /// signature's `clear_after`.
    fn run_with(clock: Clock) -> Collect {
        let dir = tempfile::tempdir().expect("tempdir");
        let patterns = dir.path().join("patterns.toml");
        std::fs::write(&patterns, PATTERNS).expect("write");
        let (library, diags) = Library::load(&[patterns], &[]);
        assert!(diags.is_empty(), "{diags:?}");
        let log = dir.path().join("app.log");
        std::fs::write(
            &log,
            "2090-01-01 03:00:00,000 ERROR boom\n2090-01-01 03:05:00,000 INFO later\n",
        )
        .expect("write");
        let stop = Arc::new(AtomicBool::new(false));
        let mut sink = Collect {
            stop: Arc::clone(&stop),
            events: 0,
            alerts: 0,
            cleared: Vec::new(),
            present: Vec::new(),
        };
        let options = Options {
            targets: vec![Target::Path(log)],
            follow: FollowOptions {
                start: StartAt::Beginning,
                ..FollowOptions::default()
            },
            run: RunOptions {
                poll_interval: Duration::from_millis(10),
                use_notify: false,
            },
            zone: TimeZone::UTC,
            data_dir: dir.path().join("data"),
            record: false,
            checkpoint: false,
            resume: None,
            ingested: Vec::new(),
            clock,
        };
        let config = Config::default();
        run(options, &library, &config, stop, &mut sink).expect("runs");
        assert_eq!((sink.events, sink.alerts), (2, 1));
        sink
    }

    #[test]
    fn on_the_log_clock_the_present_is_the_newest_log_time() {
        let sink = run_with(Clock::Log {
            read_as_of: "2090-01-02T00:00:00Z".parse().expect("time"),
        });
        let later: Timestamp = "2090-01-01T03:05:00Z".parse().expect("time");
        assert!(sink.present.contains(&later), "{:?}", sink.present);
        // Five minutes of log time after the hit: cleared (`clear_after`
        // is one minute), although no wall time went by.
        let hit: Timestamp = "2090-01-01T03:00:00Z".parse().expect("time");
        assert_eq!(sink.cleared, vec![hit.as_millisecond()]);
    }

    #[test]
    fn on_the_wall_clock_log_time_does_not_clear() {
        let sink = run_with(Clock::Wall);
        assert!(sink.cleared.is_empty(), "{:?}", sink.cleared);
        let year_2090: Timestamp = "2090-01-01T00:00:00Z".parse().expect("time");
        assert!(sink.present.iter().all(|&p| p < year_2090));
    }
}
