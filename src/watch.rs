//! `triage watch`: follow files headless and print each alert as it happens.
//!
//! Wiring only: the follower (`tail::follow`) runs on its own thread and
//! hands over batches of lines with the checkpoint that holds once they are
//! processed; this loop parses, matches, prints, flushes, and only then hands
//! the checkpoint to the saver thread. A crash therefore never loses a line,
//! and repeats at most the lines whose checkpoint was not yet on disk. One `watch` per data directory
//! (a lock file says so to a second one).
//!
//! Every match and alert also goes to the incident recorder, which keeps the
//! incident journal in the data directory: an incident opens when a
//! signature of severity high or above fires.

use std::{
    collections::HashMap,
    fs::{self, File},
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, atomic::AtomicBool, mpsc},
    thread,
};

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    config::Config,
    incident::{Journal, JournalError, Recorder},
    library::Library,
    output::{self, Style},
    parse::{Parser, TimeContext},
    scan::{Found, Scanner},
    tail::{
        checkpoint::Checkpoint,
        discover::{FileKey, Target},
        follow::{self, FollowOptions, RunOptions, Tailer},
    },
};

/// Where the follower's checkpoint lives in the data directory.
pub const CHECKPOINT_FILE: &str = "tail-checkpoint.json";
/// The lock that keeps a second `watch` off the same data directory.
pub const LOCK_FILE: &str = "watch.lock";

/// What `watch` was asked to do.
#[derive(Debug)]
pub struct WatchOptions {
    /// Paths and globs to follow.
    pub targets: Vec<Target>,
    /// JSON lines instead of text.
    pub json: bool,
    /// How files are followed.
    pub follow: FollowOptions,
    /// How the follower thread runs.
    pub run: RunOptions,
    /// Zone of timestamps written without one.
    pub zone: TimeZone,
    /// The data directory.
    pub data_dir: PathBuf,
}

/// Why `watch` could not run.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The data directory is in use by another `watch`.
    #[error(
        "another `triage watch` is already using {0} (lock file {1}); stop it first, or use another --data-dir"
    )]
    Locked(String, String),
    /// Reading or writing state failed.
    #[error("{0}: {1}")]
    Io(String, io::Error),
    /// The incident journal cannot be opened.
    #[error("{0}")]
    Journal(String),
}

/// Takes the data directory's lock for as long as the returned file lives.
fn lock(data_dir: &Path) -> Result<File, WatchError> {
    let io_err = |err| WatchError::Io(data_dir.display().to_string(), err);
    fs::create_dir_all(data_dir).map_err(io_err)?;
    let path = data_dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|err| WatchError::Io(path.display().to_string(), err))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(WatchError::Locked(
            data_dir.display().to_string(),
            path.display().to_string(),
        )),
        Err(fs::TryLockError::Error(err)) => Err(WatchError::Io(path.display().to_string(), err)),
    }
}

/// Runs until SIGINT or SIGTERM (or `stop` is set); alerts go to `out`.
pub fn watch(
    options: WatchOptions,
    library: &Library,
    config: &Config,
    style: Style,
    stop: Arc<AtomicBool>,
    out: &mut dyn Write,
) -> Result<(), WatchError> {
    let _lock = lock(&options.data_dir)?;
    let checkpoint_path = options.data_dir.join(CHECKPOINT_FILE);
    let checkpoint = Checkpoint::load(&checkpoint_path)
        .map_err(|err| WatchError::Io(checkpoint_path.display().to_string(), err))?;
    let tailer = Tailer::new(options.targets, options.follow.clone(), checkpoint.clone());
    let (deliveries, thread) = follow::spawn(tailer, options.run, stop)
        .map_err(|err| WatchError::Io("follower thread".into(), err))?;
    let mut scanner = Scanner::new(
        library,
        config,
        options.zone.clone(),
        options.follow.max_line,
        Timestamp::now(),
    );
    let mut last_ts: HashMap<FileKey, Timestamp> = HashMap::new();
    let journal =
        Journal::open(&options.data_dir).map_err(|err| WatchError::Journal(err.to_string()))?;
    let mut recorder = Recorder::new(journal, library);
    let mut journal_failed = false;
    let mut record = |result: Result<Vec<crate::incident::Event>, JournalError>| {
        if let Err(err) = result
            && !std::mem::replace(&mut journal_failed, true)
        {
            eprintln!(
                "triage: the incident journal cannot be written, alerts go on without it: {err}"
            );
        }
    };
    let mut last_tick: Option<Timestamp> = None;
    let mut alerts: Vec<Found<'_>> = Vec::new();
    let saver = Saver::spawn(checkpoint_path.clone())?;
    let mut saved = checkpoint;
    let mut result = Ok(());
    for delivery in deliveries {
        for problem in &delivery.batch.problems {
            eprintln!("triage: {}: {}", problem.path.display(), problem.message);
        }
        for notice in &delivery.batch.notices {
            tracing::info!("{notice}");
        }
        let now = Timestamp::now();
        for line in delivery.batch.lines {
            let zone = config
                .source_for(Path::new(&*line.path))
                .and_then(|s| s.timezone.clone())
                .unwrap_or_else(|| options.zone.clone());
            let event = Parser::new(line.path, TimeContext::new(zone, now)).event(line.raw);
            if let Some(ts) = event.ts {
                last_ts.insert(line.key, ts);
            }
            let at = event
                .ts
                .or_else(|| last_ts.get(&line.key).copied())
                .unwrap_or(now);
            let _ = scanner.process(event, at, &mut |found: Found<'_>| {
                alerts.push(found);
                Ok(())
            });
            for signature in scanner.matched() {
                recorder.on_match(signature, at);
            }
            for found in alerts.drain(..) {
                record(recorder.on_alert(&found, library));
                let printed = if options.json {
                    output::write_alert_json(out, &found)
                } else {
                    output::write_alert_text(out, &found, library, style)
                };
                if let Err(err) = printed {
                    result = Err(WatchError::Io("stdout".into(), err));
                }
            }
            if result.is_err() {
                break;
            }
        }
        // About once a second: signatures gone quiet, and the periodic
        // counts of the incident timeline.
        let now = Timestamp::now();
        if last_tick.is_none_or(|t| now.duration_since(t).as_secs() >= 1) || delivery.last {
            for (signature, cleared) in scanner.clear_due(now) {
                record(recorder.on_cleared(signature, &cleared));
            }
            record(recorder.tick(now));
            last_tick = Some(now);
        }
        if let Err(err) = out.flush() {
            result = Err(WatchError::Io("stdout".into(), err));
        }
        if result.is_err() {
            break;
        }
        // Only now that the lines are out does the checkpoint move past them.
        if delivery.checkpoint != saved {
            saved = delivery.checkpoint;
            saver.save(saved.clone());
        }
        if delivery.last {
            break;
        }
    }
    let _ = thread.join();
    record(recorder.finish(Timestamp::now()));
    saver
        .finish()
        .map_err(|err| WatchError::Io(checkpoint_path.display().to_string(), err))?;
    result
}

/// Writes checkpoints on its own thread, so that an fsync never delays the
/// next alert; when several wait, only the newest is written. A crash can
/// therefore repeat the lines of the batches whose checkpoint was still
/// being written (typically one).
struct Saver {
    tx: mpsc::Sender<Checkpoint>,
    thread: thread::JoinHandle<io::Result<()>>,
}

impl Saver {
    fn spawn(path: PathBuf) -> Result<Saver, WatchError> {
        let (tx, rx) = mpsc::channel::<Checkpoint>();
        let thread = thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || {
                // The newest checkpoint's save decides: an older failure that
                // a later save made good is no longer a problem.
                let mut last = Ok(());
                while let Ok(mut checkpoint) = rx.recv() {
                    while let Ok(newer) = rx.try_recv() {
                        checkpoint = newer;
                    }
                    last = checkpoint.save(&path);
                    if let Err(err) = &last {
                        tracing::warn!(path = %path.display(), %err, "cannot save the checkpoint");
                    }
                }
                last
            })
            .map_err(|err| WatchError::Io("checkpoint thread".into(), err))?;
        Ok(Saver { tx, thread })
    }

    fn save(&self, checkpoint: Checkpoint) {
        let _ = self.tx.send(checkpoint);
    }

    /// Waits until the newest checkpoint is written.
    fn finish(self) -> io::Result<()> {
        drop(self.tx);
        self.thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("checkpoint thread failed")))
    }
}
