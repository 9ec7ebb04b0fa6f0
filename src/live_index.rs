//! Indexing as the live pipeline tails: a [`Sink`] that adds every event to
//! the index and commits, at most every `commit_every`, at the end of a
//! delivery with that delivery's checkpoint as the commit payload.
//!
//! Wiring only (the index is `index`'s). Because a commit happens only in
//! [`Sink::flush`], the documents it makes visible are exactly the lines
//! before the checkpoint it carries: resuming from the index's committed
//! checkpoint ([`resume_from`]) indexes nothing twice and loses nothing.
//! The follower delivers at least every poll interval even when idle, so a
//! new line is searchable within about `commit_every` plus one poll.

use std::{
    io,
    path::Path,
    time::{Duration, Instant},
};

use jiff::Timestamp;

use crate::{
    index::{self, IndexError, Origin, Store, Writer},
    model::Event,
    pipeline::Sink,
    scan::Found,
    signature::{Signature, detector::Cleared},
    tail::{checkpoint::Checkpoint, discover::FileKey},
};

/// The sink that indexes.
pub struct IndexSink {
    writer: Writer,
    fields: index::Fields,
    commit_every: Duration,
    last_commit: Instant,
    ids: Vec<String>,
}

impl IndexSink {
    /// Opens (or creates) the index at `path` for writing: fails with
    /// [`IndexError::Locked`] when another process writes it.
    pub fn open(path: &Path, commit_every: Duration) -> Result<IndexSink, IndexError> {
        let store = Store::open(path, true)?;
        let writer = store.writer(1)?;
        Ok(IndexSink {
            fields: *store.fields(),
            writer,
            commit_every,
            last_commit: Instant::now(),
            ids: Vec::new(),
        })
    }

    /// The checkpoint committed with the index, to follow from; `None` when
    /// the index holds no followed file yet (then the data directory's
    /// checkpoint is used as before).
    pub fn resume_from(&self) -> Option<Checkpoint> {
        let tail = &self.writer.state().tail;
        (!tail.files.is_empty()).then(|| tail.clone())
    }
}

fn io_error(err: IndexError) -> io::Error {
    io::Error::other(err.to_string())
}

impl<'l> Sink<'l> for IndexSink {
    fn event_of(
        &mut self,
        key: FileKey,
        _replay: bool,
        event: &Event,
        at: Timestamp,
        matched: &[&'l Signature],
    ) -> io::Result<()> {
        self.ids.clear();
        self.ids.extend(matched.iter().map(|s| s.id.clone()));
        let ids: Vec<&str> = self.ids.iter().map(String::as_str).collect();
        let origin = Origin {
            dev: key.dev,
            ino: key.ino,
        };
        let doc = index::schema::document(&self.fields, event, at, origin, &ids);
        self.writer.add(doc).map_err(io_error)
    }

    fn flush(&mut self, checkpoint: &Checkpoint, last: bool) -> io::Result<()> {
        if self.writer.state().tail != *checkpoint {
            self.writer.state_mut().tail = checkpoint.clone();
        } else if self.writer.pending() == 0 && !last {
            return Ok(());
        }
        if last || self.last_commit.elapsed() >= self.commit_every {
            self.writer.commit().map_err(io_error)?;
            self.last_commit = Instant::now();
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
        replay: bool,
        event: &Event,
        at: Timestamp,
        matched: &[&'l Signature],
    ) -> io::Result<()> {
        self.first.event_of(key, replay, event, at, matched)?;
        self.second.event_of(key, replay, event, at, matched)
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
