//! `triage watch`: follow files headless and print each alert as it happens.
//!
//! Wiring only: takes the data directory's lock (one `watch` per data
//! directory; a lock file says so to a second one) and runs the live
//! pipeline (`pipeline`) with a sink that prints each alert and flushes
//! stdout before the checkpoint moves. The pipeline also feeds the incident
//! recorder, which keeps the incident journal in the data directory: an
//! incident opens when a signature of severity high or above fires.

use std::{
    fs::{self, File},
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, atomic::AtomicBool},
};

use jiff::tz::TimeZone;

use crate::{
    config::Config,
    library::Library,
    model::Alert,
    output::{self, Style},
    pipeline::{self, Ended, PipelineError, Sink, Stage, Tagged},
    tail::{
        checkpoint::Checkpoint,
        discover::Target,
        follow::{FollowOptions, RunOptions},
    },
};

pub use crate::pipeline::CHECKPOINT_FILE;
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
    /// Index every event (in `<data-dir>/index`), committing at most this
    /// often; `None`: no index.
    pub index: Option<std::time::Duration>,
    /// Serve Prometheus metrics here.
    pub metrics: Option<std::net::SocketAddr>,
    /// The problem templates of `--baseline` (`patterns::baseline`).
    pub baseline: Option<crate::parse::template::Miner>,
}

/// Why `watch` could not run.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The data directory is in use by another `watch`.
    #[error(
        "another `triage watch` is already using {} (lock file {}); stop it first, or use another --data-dir",
        data_dir.display(),
        lock.display()
    )]
    Locked {
        /// The data directory.
        data_dir: PathBuf,
        /// Its lock file.
        lock: PathBuf,
    },
    /// The data directory's lock could not be taken.
    #[error("{}: {source}", path.display())]
    Io {
        /// The lock file (or the data directory).
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The index cannot be opened.
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    /// The pipeline failed: its state, the journal, a sink (which one it
    /// says: the alerts' output, the index, ...) or the follower thread.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The outputs cannot be fed.
    #[error(transparent)]
    Notify(#[from] crate::notify::NotifyError),
    /// `/metrics` cannot be served.
    #[error(transparent)]
    Metrics(#[from] crate::notify::metrics::MetricsError),
}

impl WatchError {
    /// Standard output was closed (`| head`): not an error.
    pub fn closed_output(&self) -> bool {
        matches!(self, WatchError::Pipeline(err) if err.closed_output())
    }
}

/// Takes the data directory's lock (creating the directory) for as long as
/// the returned file lives; `None` when another process (a `watch`, a
/// console) holds it. The error names the path that failed.
pub fn try_lock(data_dir: &Path) -> Result<Option<File>, (PathBuf, io::Error)> {
    fs::create_dir_all(data_dir).map_err(|err| (data_dir.to_path_buf(), err))?;
    let path = data_dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|err| (path.clone(), err))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(err)) => Err((path, err)),
    }
}

/// A directory among the targets: it cannot be followed as a file.
pub fn directories(targets: &[Target]) -> Vec<PathBuf> {
    targets
        .iter()
        .filter_map(|t| match t {
            Target::Path(path) if path.is_dir() => Some(path.clone()),
            _ => None,
        })
        .collect()
}

/// Says on stderr what is followed (files, globs), where state is kept and
/// whether events are indexed; a path not there yet is named, with the
/// promise to pick it up when it appears.
pub fn announce(targets: &[Target], data_dir: &Path, index: bool) {
    let mut files = Vec::new();
    let mut globs = Vec::new();
    for target in targets {
        match target {
            Target::Path(path) => {
                if !path.exists() {
                    output::message(format_args!(
                        "{}: no such file (yet); watching for it to appear",
                        crate::sanitize::path(path)
                    ));
                }
                files.push(crate::sanitize::path(path));
            }
            Target::Glob(glob) => globs.push(format!("'{}'", crate::sanitize::for_terminal(glob))),
        }
    }
    let mut what = Vec::new();
    if !files.is_empty() {
        what.push(files.join(", "));
    }
    if !globs.is_empty() {
        what.push(format!(
            "the files matching {} (now and later)",
            globs.join(", ")
        ));
    }
    output::message(format_args!(
        "following {}; state in {}{}",
        what.join(" and "),
        crate::sanitize::path(data_dir),
        if index {
            ", every event indexed for `triage search`"
        } else {
            ", no index (--no-index)"
        }
    ));
}

/// Takes the data directory's lock, or says who holds it.
fn lock(data_dir: &Path) -> Result<File, WatchError> {
    match try_lock(data_dir) {
        Ok(Some(file)) => Ok(file),
        Ok(None) => Err(WatchError::Locked {
            data_dir: data_dir.to_path_buf(),
            lock: data_dir.join(LOCK_FILE),
        }),
        Err((path, source)) => Err(WatchError::Io { path, source }),
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
    watch_with(options, library, config, style, stop, out, None)
}

/// [`watch`] with one more sink, handed everything right after the alert
/// printer (`triage agent`'s publisher): the checkpoint moves only once it
/// flushed too.
pub fn watch_with<'l>(
    options: WatchOptions,
    library: &'l Library,
    config: &'l Config,
    style: Style,
    stop: Arc<AtomicBool>,
    out: &mut dyn Write,
    mut extra: Option<&mut dyn Sink<'l>>,
) -> Result<(), WatchError> {
    let _lock = lock(&options.data_dir)?;
    let mut printer = Printer {
        out,
        library,
        style,
        json: options.json,
    };
    // Notifications and metrics live across restarts of the pipeline.
    let mut notifier = match config.outputs.is_empty() {
        true => None,
        false => Some(crate::notify::Notifier::start(
            config.outputs.clone(),
            &options.data_dir,
            library,
        )?),
    };
    let mut metrics = match options.metrics {
        Some(addr) => {
            let shared = notifier.as_ref().map(crate::notify::Notifier::shared);
            let index = options
                .index
                .map(|_| crate::index::path_in(&options.data_dir));
            let (metrics, bound) =
                crate::notify::metrics::MetricsSink::serve(addr, shared, index, library)?;
            tracing::info!("serving metrics at http://{bound}/metrics");
            Some(metrics)
        }
        None => None,
    };
    // Once more after the index failed and can be written again: from its
    // last commit, so it catches up (what was alerted is not alerted again).
    loop {
        let mut index = match options.index {
            Some(commit_every) => open_index(&options.data_dir, commit_every)?,
            None => None,
        };
        let pipeline = pipeline::Options {
            resume: index.as_ref().map(|i| i.resume_from()),
            ingested: index.as_ref().map(|i| i.ingested()).unwrap_or_default(),
            targets: options.targets.clone(),
            follow: options.follow.clone(),
            run: options.run.clone(),
            zone: options.zone.clone(),
            data_dir: options.data_dir.clone(),
            record: true,
            checkpoint: true,
            clock: pipeline::Clock::Wall,
        };
        // Each sink's errors say which it is (a failing index is not
        // stdout).
        let mut printed: &mut dyn Sink<'_> = &mut printer;
        let (mut extra_tagged, mut with_extra);
        if let Some(extra) = extra.as_deref_mut() {
            extra_tagged = Tagged {
                stage: Stage::Publish,
                sink: extra,
            };
            with_extra = crate::live_index::Both {
                first: printed,
                second: &mut extra_tagged,
            };
            printed = &mut with_extra;
        }
        let (mut index_tagged, mut with_index);
        if let Some(index) = &mut index {
            index_tagged = Tagged {
                stage: Stage::Index,
                sink: index,
            };
            with_index = crate::live_index::Both {
                first: printed,
                second: &mut index_tagged,
            };
            printed = &mut with_index;
        }
        let (mut notifier_tagged, mut with_notifier);
        if let Some(notifier) = &mut notifier {
            notifier_tagged = Tagged {
                stage: Stage::Notify,
                sink: notifier,
            };
            with_notifier = crate::live_index::Both {
                first: printed,
                second: &mut notifier_tagged,
            };
            printed = &mut with_notifier;
        }
        let (mut metrics_tagged, mut with_metrics);
        if let Some(metrics) = &mut metrics {
            metrics_tagged = Tagged {
                stage: Stage::Metrics,
                sink: metrics,
            };
            with_metrics = crate::live_index::Both {
                first: printed,
                second: &mut metrics_tagged,
            };
            printed = &mut with_metrics;
        }
        let sink = printed;
        let ended = pipeline::run_raising(
            pipeline,
            library,
            config,
            Arc::clone(&stop),
            sink,
            Some(options.baseline.as_ref()),
        )?;
        match ended {
            Ended::Stopped => return Ok(()),
            Ended::Restart => tracing::warn!(
                "the index in {} can be written again: catching up from its last commit",
                crate::index::path_in(&options.data_dir).display()
            ),
        }
    }
}

/// The index to write as `watch` follows; `None` (said once, alerting goes
/// on) when it cannot be opened for a reason other than another writer.
fn open_index(
    data_dir: &Path,
    commit_every: std::time::Duration,
) -> Result<Option<crate::live_index::IndexSink>, WatchError> {
    match crate::live_index::IndexSink::open(&crate::index::path_in(data_dir), commit_every) {
        Ok(index) => Ok(Some(index)),
        Err(err @ crate::index::IndexError::Locked(_)) => Err(err.into()),
        Err(err) => {
            tracing::error!("{err}; alerts and the incident journal go on without the index");
            Ok(None)
        }
    }
}

/// Prints each alert as it happens, whole: formatted first, then written
/// and flushed at once, so that a reader of a pipe never gets half an alert
/// (a write of up to `PIPE_BUF`, 4 KiB, to a pipe is atomic; a `kill -9`
/// between two writes of one buffered batch used to cut a JSON line).
struct Printer<'o, 'l> {
    out: &'o mut dyn Write,
    library: &'l Library,
    style: Style,
    json: bool,
}

impl<'l> Sink<'l> for Printer<'_, 'l> {
    fn alert(&mut self, found: &Alert) -> io::Result<()> {
        let mut whole = Vec::with_capacity(1024);
        if self.json {
            output::write_alert_json(&mut whole, found, self.library)?;
        } else {
            output::write_alert_text(&mut whole, found, self.library, self.style)?;
        }
        self.out.write_all(&whole)?;
        self.out.flush()
    }

    fn problem(&mut self, path: &Path, message: &str) {
        output::message(format_args!("{}: {message}", path.display()));
    }

    /// On stderr (stdout is the alerts', maybe JSON lines): `INC-2: Incident
    /// opened: Filesystem full`, `INC-2: Status investigating → mitigated`.
    fn incident(&mut self, event: &crate::incident::JournalEvent) {
        output::message(format_args!("{}: {}", event.incident, event.summary));
    }

    fn flush(&mut self, _: &Checkpoint, _: bool) -> io::Result<()> {
        self.out.flush()
    }
}
