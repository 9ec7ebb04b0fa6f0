//! What wakes the follower thread: file system events from `notify`, kept as
//! the set of paths they named since the last poll, so a poll looks at those
//! files only; everything is listed again when events may have been lost.
//!
//! Events the follower causes itself (opening and reading a file, listing a
//! directory: inotify's `IN_OPEN`, `IN_ACCESS`, `IN_CLOSE_NOWRITE`) are
//! dropped here, so an idle follower stays idle. Correctness never depends
//! on an event arriving: the caller still polls everything at an interval.

use std::{
    collections::HashSet,
    mem,
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError, mpsc},
    time::Duration,
};

use notify::{
    EventKind, RecursiveMode, Watcher,
    event::{AccessKind, AccessMode},
};

use super::discover::{self, Target};

/// What changed since the last poll.
#[derive(Debug, Default)]
pub struct Changes {
    /// Look at everything: events were lost (the kernel's queue
    /// overflowed), or a directory could not be watched.
    pub all: bool,
    /// Paths events named (in [`discover::normal`] form).
    pub paths: HashSet<PathBuf>,
}

/// The wake-ups of one follower.
pub struct Wake {
    rx: mpsc::Receiver<()>,
    changes: Arc<Mutex<Changes>>,
    watcher: Option<notify::RecommendedWatcher>,
    /// Directories to watch that could not be watched yet (they may not
    /// exist yet); tried again at each [`Wake::take`].
    unwatched: Vec<(PathBuf, RecursiveMode)>,
}

impl Wake {
    /// Watches the directories of `targets` (when `use_events`; otherwise
    /// only the timeout wakes).
    pub fn new(targets: &[Target], use_events: bool) -> Wake {
        let (tx, rx) = mpsc::channel();
        let changes = Arc::new(Mutex::new(Changes::default()));
        let mut wake = Wake {
            rx,
            changes: Arc::clone(&changes),
            watcher: None,
            unwatched: Vec::new(),
        };
        if !use_events {
            return wake;
        }
        for target in targets {
            let (dir, recursive) = target.watch_dir();
            let mode = match recursive {
                true => RecursiveMode::Recursive,
                false => RecursiveMode::NonRecursive,
            };
            if !wake.unwatched.iter().any(|(d, _)| *d == dir) {
                wake.unwatched.push((dir, mode));
            }
        }
        // Events name paths under the absolute form of a watched directory:
        // they are told in the form the targets list them in.
        let roots = Roots::of(wake.unwatched.iter().map(|(dir, _)| dir.clone()));
        let handler = move |event: notify::Result<notify::Event>| {
            let mut changes = changes.lock().unwrap_or_else(PoisonError::into_inner);
            match event {
                Ok(event) if caused_by_reading(&event.kind) => return,
                Ok(event) => {
                    changes.all |= event.need_rescan();
                    changes.paths.extend(
                        event
                            .paths
                            .iter()
                            .map(|p| discover::normal(&roots.relative(p))),
                    );
                }
                Err(_) => changes.all = true,
            }
            drop(changes);
            let _ = tx.send(());
        };
        match notify::recommended_watcher(handler) {
            Ok(watcher) => wake.watcher = Some(watcher),
            Err(err) => {
                tracing::info!(%err, "no file system events; polling");
                return wake;
            }
        }
        wake.watch_pending();
        wake
    }

    /// Whether events cover every target (otherwise every poll lists
    /// everything).
    pub fn watching(&self) -> bool {
        self.watcher.is_some() && self.unwatched.is_empty()
    }

    /// Waits for an event or `timeout`, whichever comes first.
    pub fn wait(&self, timeout: Duration) {
        match self.rx.recv_timeout(timeout) {
            Ok(()) => while self.rx.try_recv().is_ok() {},
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(timeout),
        }
    }

    /// What changed since the last call.
    pub fn take(&mut self) -> Changes {
        self.watch_pending();
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut taken = mem::take(&mut *changes);
        taken.all |= !self.unwatched.is_empty() || self.watcher.is_none();
        taken
    }

    fn watch_pending(&mut self) {
        let Some(watcher) = &mut self.watcher else {
            return;
        };
        self.unwatched
            .retain(|(dir, mode)| match watcher.watch(dir, *mode) {
                Ok(()) => false,
                Err(err) => {
                    tracing::debug!(dir = %dir.display(), %err, "not watched yet; polling it");
                    true
                }
            });
    }
}

/// The watched directories as given (maybe relative) and as events name
/// them (absolute: `notify` joins a relative one to the working directory).
struct Roots(Vec<(PathBuf, PathBuf)>);

impl Roots {
    fn of(dirs: impl Iterator<Item = PathBuf>) -> Roots {
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut roots: Vec<(PathBuf, PathBuf)> = dirs.map(|dir| (cwd.join(&dir), dir)).collect();
        // The longest first: a nested watched directory wins.
        roots.sort_by_key(|(absolute, _)| std::cmp::Reverse(absolute.as_os_str().len()));
        Roots(roots)
    }

    /// `path` under the form its watched directory was given in.
    fn relative(&self, path: &std::path::Path) -> PathBuf {
        self.0
            .iter()
            .find_map(|(absolute, given)| {
                path.strip_prefix(absolute)
                    .ok()
                    .map(|rest| given.join(rest))
            })
            .unwrap_or_else(|| path.to_path_buf())
    }
}

/// Events that reading or listing causes, which say nothing new about a
/// file's content or name.
fn caused_by_reading(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Access(access) if *access != AccessKind::Close(AccessMode::Write))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_and_listing_do_not_wake() {
        use notify::event::{CreateKind, ModifyKind};
        assert!(caused_by_reading(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(caused_by_reading(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(!caused_by_reading(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(!caused_by_reading(&EventKind::Modify(ModifyKind::Any)));
        assert!(!caused_by_reading(&EventKind::Create(CreateKind::File)));
    }

    #[test]
    fn events_name_paths_as_the_targets_do() {
        let roots = Roots::of([PathBuf::from("logs"), PathBuf::from(".")].into_iter());
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(
            roots.relative(&cwd.join("logs/app.log")),
            PathBuf::from("logs/app.log")
        );
        assert_eq!(
            discover::normal(&roots.relative(&cwd.join("app.log"))),
            PathBuf::from("app.log")
        );
        assert_eq!(
            roots.relative(std::path::Path::new("/elsewhere/x.log")),
            PathBuf::from("/elsewhere/x.log")
        );
    }

    #[test]
    fn an_idle_directory_raises_no_change_after_our_own_reads() {
        // A directory named relatively, as users do (`watch 'logs/*.log'`).
        let cwd = std::env::current_dir().expect("cwd");
        let dir = tempfile::tempdir_in(&cwd).expect("tempdir");
        let relative = dir
            .path()
            .strip_prefix(&cwd)
            .expect("under cwd")
            .to_path_buf();
        let log = relative.join("a.log");
        std::fs::write(&log, "x\n").expect("write");
        let target = Target::Glob(format!("{}/*.log", relative.display()));
        let mut wake = Wake::new(std::slice::from_ref(&target), true);
        assert!(wake.watching());
        let _ = wake.take();
        // What a poll does: list the directory, open and read the file.
        for _ in 0..3 {
            let _ = discover::expand(std::slice::from_ref(&target), &mut Vec::new());
            let _ = std::fs::read(&log).expect("read");
        }
        wake.wait(Duration::from_millis(200));
        let changes = wake.take();
        assert!(!changes.all && changes.paths.is_empty(), "{changes:?}");
        // A write is seen.
        std::fs::write(&log, "x\ny\n").expect("write");
        wake.wait(Duration::from_secs(2));
        let changes = wake.take();
        assert!(
            changes.paths.contains(&discover::normal(&log)),
            "{changes:?}"
        );
    }
}
