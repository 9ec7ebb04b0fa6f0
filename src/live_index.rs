//! Indexing as the live pipeline tails: a [`Sink`] that adds every event to
//! the index and commits, at most every `commit_every`, at the end of a
//! delivery with that delivery's checkpoint as the commit payload.
//!
//! Wiring only (the index is `index`'s). The writer lives on a thread of its
//! own ("index"), fed in order over a bounded channel: documents, then the
//! commit of a delivery with its checkpoint. So a commit never delays the
//! next alert (detection latency is not bound to the commit interval), and
//! the documents a commit makes visible are exactly the lines before the
//! checkpoint it carries: resuming from the index's committed checkpoint
//! ([`resume_from`](IndexSink::resume_from)) indexes nothing twice and
//! loses nothing. A slow index holds the pipeline back (the channel is
//! bounded); it never drops a document. The follower delivers at least
//! every poll interval even when idle, so a new line is searchable within
//! about `commit_every` plus one poll. Events of a file `ingest` already
//! indexed (the follower tells them by identity and first bytes, before
//! where it stopped) are not added again.

use std::{
    io,
    path::{Path, PathBuf},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use jiff::Timestamp;

use crate::{
    index::{self, Document, IndexError, Store, Writer},
    model::{Alert, Cleared, Event, FileKey, Timing},
    pipeline::Sink,
    signature::{Signature, problem::Observed},
    tail::{
        checkpoint::{Checkpoint, Fingerprint},
        follow::Seen,
    },
};

/// Documents and commits in flight to the indexing thread.
const QUEUE: usize = 8_192;

/// What the indexing thread is handed, in order.
enum Work {
    Add(Document),
    /// Commit what came before, with this checkpoint as payload.
    Commit {
        checkpoint: Checkpoint,
        last: bool,
    },
}

/// How often an index that failed is tried again.
const RETRY: Duration = Duration::from_secs(10);
/// A failed index is tried again when this much can be written beside it.
const PROBE_BYTES: usize = 4 << 20;

/// The sink that indexes.
///
/// Degrades, never stops the pipeline: when the index cannot be written
/// (a full disk, a damaged segment), the error is reported once, documents
/// are dropped (alerting and the journal go on), and every [`RETRY`] a
/// probe write beside the index is tried; once it succeeds the sink asks
/// for a restart ([`Sink::wants_restart`]), and the pipeline follows again
/// from the index's last commit, replaying what was alerted since without
/// alerting again, so the index catches up.
pub struct IndexSink {
    path: PathBuf,
    /// Since when the index cannot be written, and when it was last tried.
    down: Option<(Instant, Instant)>,
    /// Why the index went down (said again when `watch` stops).
    why_down: String,
    restart: bool,
    tx: Option<mpsc::SyncSender<Work>>,
    thread: Option<thread::JoinHandle<Result<(), IndexError>>>,
    fields: index::Fields,
    commit_every: Duration,
    last_commit: Instant,
    ids: Vec<String>,
    resume: Checkpoint,
    ingested: Vec<(FileKey, Fingerprint, u64, PathBuf)>,
}

impl IndexSink {
    /// Opens (or creates) the index at `path` for writing: fails with
    /// [`IndexError::Locked`] when another process writes it.
    pub fn open(path: &Path, commit_every: Duration) -> Result<IndexSink, IndexError> {
        let store = Store::open(path, true)?;
        let writer = store.writer(1)?;
        let resume = writer.state().tail.clone();
        let ingested = writer
            .state()
            .ingested
            .iter()
            .map(|i| (i.key(), i.fingerprint, i.next, i.path.clone()))
            .collect();
        let fields = *store.fields();
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let thread = thread::Builder::new()
            .name("index".into())
            .spawn(move || index_loop(writer, rx))
            .map_err(|err| IndexError::Other {
                path: path.to_path_buf(),
                why: format!("cannot start the indexing thread: {err}"),
            })?;
        Ok(IndexSink {
            path: path.to_path_buf(),
            down: None,
            why_down: String::new(),
            restart: false,
            tx: Some(tx),
            thread: Some(thread),
            fields,
            commit_every,
            last_commit: Instant::now(),
            ids: Vec::new(),
            resume,
            ingested,
        })
    }

    /// The checkpoint committed with the index, to follow from (empty when
    /// it has no commit of followed files yet: then files are read from
    /// where following them began, as the data directory's checkpoint says).
    pub fn resume_from(&self) -> Checkpoint {
        self.resume.clone()
    }

    /// What `ingest` indexed: identity, first bytes, the offset its indexed
    /// events end before, and where it read the file.
    pub fn ingested(&self) -> Vec<(FileKey, Fingerprint, u64, PathBuf)> {
        self.ingested.clone()
    }

    /// Hands `work` to the indexing thread; when it has stopped, the index
    /// is down (reported once) and nothing is sent until it recovers.
    fn send(&mut self, work: Work) {
        if self.down.is_some() {
            return;
        }
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(work).is_ok());
        if !sent {
            // Tantivy's own error hides the cause; a full disk says itself.
            let why = match self.writable() {
                Err(err) if err.kind() == io::ErrorKind::StorageFull => {
                    "no space left on device".to_owned()
                }
                _ => self.stopped(),
            };
            self.tx = None;
            tracing::error!(
                "the index in {} cannot be written: {why}; alerts and the incident journal go on without it, and it catches up from its last commit once it can be written again",
                self.path.display()
            );
            self.down = Some((Instant::now(), Instant::now()));
            self.why_down = why;
        }
    }

    /// Why the indexing thread stopped (joining it).
    fn stopped(&mut self) -> String {
        self.tx = None;
        match self.thread.take().map(thread::JoinHandle::join) {
            Some(Ok(Err(err))) => err.to_string(),
            Some(Err(_)) => "the indexing thread failed".to_owned(),
            _ => "the indexing thread stopped".to_owned(),
        }
    }

    /// The error `watch` ends with when the index is down as it stops.
    fn down_error(&self) -> io::Error {
        let path = self.path.display().to_string();
        let why = match self.why_down.starts_with(&path) {
            true => self.why_down.clone(),
            false => format!("{path}: {}", self.why_down),
        };
        io::Error::other(format!(
            "{why}; the lines since its last commit are indexed at the next start"
        ))
    }

    /// Whether the index's directory takes writes (a probe file written,
    /// synced and removed).
    fn writable(&self) -> io::Result<()> {
        let probe = self.path.join(".triage-probe");
        let written = (|| -> io::Result<()> {
            let mut file = std::fs::File::create(&probe)?;
            io::Write::write_all(&mut file, &vec![0u8; PROBE_BYTES])?;
            file.sync_all()
        })();
        let _ = std::fs::remove_file(&probe);
        written
    }
}

/// The indexing thread: adds and commits in the order handed over.
fn index_loop(mut writer: Writer, rx: mpsc::Receiver<Work>) -> Result<(), IndexError> {
    for work in rx {
        match work {
            Work::Add(doc) => writer.add(doc)?,
            Work::Commit { checkpoint, last } => {
                if writer.state().tail != checkpoint {
                    writer.state_mut().tail = checkpoint;
                } else if writer.pending() == 0 && !last {
                    continue;
                }
                writer.commit()?;
                if last {
                    break;
                }
            }
        }
    }
    Ok(())
}

impl<'l> Sink<'l> for IndexSink {
    fn event_of(
        &mut self,
        key: FileKey,
        seen: Seen,
        event: &Event,
        when: Timing,
        matched: &[&'l Signature],
    ) -> io::Result<()> {
        if seen.indexed {
            return Ok(());
        }
        self.ids.clear();
        self.ids.extend(matched.iter().map(|s| s.id.clone()));
        let ids: Vec<&str> = self.ids.iter().map(String::as_str).collect();
        let origin = FileKey {
            dev: key.dev,
            ino: key.ino,
        };
        let doc = index::schema::document(&self.fields, event, when.time, origin, &ids);
        self.send(Work::Add(doc));
        Ok(())
    }

    /// Fails when `watch` stops with the index down, or when the last
    /// commit failed or its thread died: `watch` then ends with an error
    /// (the lines are indexed at the next start).
    fn flush(&mut self, checkpoint: &Checkpoint, last: bool) -> io::Result<()> {
        if let Some((_, tried)) = &mut self.down {
            if last {
                return Err(self.down_error());
            }
            if tried.elapsed() >= RETRY {
                *tried = Instant::now();
                self.restart = self.writable().is_ok();
            }
            return Ok(());
        }
        if last || self.last_commit.elapsed() >= self.commit_every {
            self.send(Work::Commit {
                checkpoint: checkpoint.clone(),
                last,
            });
            self.last_commit = Instant::now();
        }
        if last && self.down.is_some() {
            // The thread died taking the last commit.
            return Err(self.down_error());
        }
        if last {
            // Shutting down: the last commit is on disk before `watch` ends.
            self.tx = None;
            if let Some(thread) = self.thread.take() {
                let why = match thread.join() {
                    Ok(Ok(())) => None,
                    Ok(Err(err)) => Some(err.to_string()),
                    Err(_) => Some("the indexing thread failed".to_owned()),
                };
                if let Some(why) = why {
                    return Err(io::Error::other(format!(
                        "{} could not take the last lines: {why}; they are indexed at the next start",
                        self.path.display()
                    )));
                }
            }
        }
        Ok(())
    }

    fn wants_restart(&self) -> bool {
        self.restart
    }
}

/// Two sinks, each handed everything in turn (the first one first).
pub struct Both<'a, 'l> {
    /// Handed everything first (e.g. the alert printer: detection latency).
    pub first: &'a mut dyn Sink<'l>,
    /// Then this one.
    pub second: &'a mut dyn Sink<'l>,
}

impl<'l> Sink<'l> for Both<'_, 'l> {
    fn event_of(
        &mut self,
        key: FileKey,
        seen: Seen,
        event: &Event,
        when: Timing,
        matched: &[&'l Signature],
    ) -> io::Result<()> {
        self.first.event_of(key, seen, event, when, matched)?;
        self.second.event_of(key, seen, event, when, matched)
    }

    fn unknown_problem(&mut self, event: &Event, observed: &Observed) {
        self.first.unknown_problem(event, observed);
        self.second.unknown_problem(event, observed);
    }

    fn alert(&mut self, found: &Alert) -> io::Result<()> {
        self.first.alert(found)?;
        self.second.alert(found)
    }

    fn cleared(&mut self, cleared: &Cleared) -> io::Result<()> {
        self.first.cleared(cleared)?;
        self.second.cleared(cleared)
    }

    fn incident(&mut self, event: &crate::incident::JournalEvent) {
        self.first.incident(event);
        self.second.incident(event);
    }

    fn problem(&mut self, path: &Path, message: &str) {
        self.first.problem(path, message);
    }

    fn present(&mut self, now: Timestamp) {
        self.first.present(now);
        self.second.present(now);
    }

    fn flush(&mut self, checkpoint: &Checkpoint, last: bool) -> io::Result<()> {
        self.first.flush(checkpoint, last)?;
        self.second.flush(checkpoint, last)
    }

    fn durable(&mut self, gates: &mut Vec<crate::pipeline::Durable>) {
        self.first.durable(gates);
        self.second.durable(gates);
    }

    fn wants_restart(&self) -> bool {
        self.first.wants_restart() || self.second.wants_restart()
    }
}
