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
    index::{self, Document, IndexError, Origin, Store, Writer},
    model::Event,
    pipeline::Sink,
    scan::Found,
    signature::{Signature, detector::Cleared},
    tail::{
        checkpoint::{Checkpoint, Fingerprint},
        discover::FileKey,
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

/// The sink that indexes.
pub struct IndexSink {
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

    /// Hands `work` to the indexing thread; its error when it has stopped.
    fn send(&mut self, work: Work) -> io::Result<()> {
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(work).is_ok());
        if sent { Ok(()) } else { Err(self.stopped()) }
    }

    /// Why the indexing thread stopped (joining it).
    fn stopped(&mut self) -> io::Error {
        self.tx = None;
        match self.thread.take().map(thread::JoinHandle::join) {
            Some(Ok(Err(err))) => io_error(err),
            Some(Err(_)) => io::Error::other("the indexing thread failed"),
            _ => io::Error::other("the indexing thread stopped"),
        }
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

fn io_error(err: IndexError) -> io::Error {
    io::Error::other(err.to_string())
}

impl<'l> Sink<'l> for IndexSink {
    fn event_of(
        &mut self,
        key: FileKey,
        seen: Seen,
        event: &Event,
        at: Timestamp,
        matched: &[&'l Signature],
    ) -> io::Result<()> {
        if seen.indexed {
            return Ok(());
        }
        self.ids.clear();
        self.ids.extend(matched.iter().map(|s| s.id.clone()));
        let ids: Vec<&str> = self.ids.iter().map(String::as_str).collect();
        let origin = Origin {
            dev: key.dev,
            ino: key.ino,
        };
        let doc = index::schema::document(&self.fields, event, at, origin, &ids);
        self.send(Work::Add(doc))
    }

    fn flush(&mut self, checkpoint: &Checkpoint, last: bool) -> io::Result<()> {
        if last || self.last_commit.elapsed() >= self.commit_every {
            self.send(Work::Commit {
                checkpoint: checkpoint.clone(),
                last,
            })?;
            self.last_commit = Instant::now();
        }
        if last {
            // Shutting down: the last commit is on disk before `watch` ends.
            self.tx = None;
            if let Some(thread) = self.thread.take() {
                match thread.join() {
                    Ok(result) => result.map_err(io_error)?,
                    Err(_) => return Err(io::Error::other("the indexing thread failed")),
                }
            }
        }
        Ok(())
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
        at: Timestamp,
        matched: &[&'l Signature],
    ) -> io::Result<()> {
        self.first.event_of(key, seen, event, at, matched)?;
        self.second.event_of(key, seen, event, at, matched)
    }

    fn alert(&mut self, found: &Found<'l>) -> io::Result<()> {
        self.first.alert(found)?;
        self.second.alert(found)
    }

    fn cleared(&mut self, signature: &'l Signature, cleared: &Cleared) -> io::Result<()> {
        self.first.cleared(signature, cleared)?;
        self.second.cleared(signature, cleared)
    }

    fn problem(&mut self, path: &Path, message: &str) {
        self.first.problem(path, message);
    }

    fn flush(&mut self, checkpoint: &Checkpoint, last: bool) -> io::Result<()> {
        self.first.flush(checkpoint, last)?;
        self.second.flush(checkpoint, last)
    }
}
