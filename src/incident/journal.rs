//! The journal file: `<data-dir>/journal.jsonl`, append-only JSON Lines, one
//! event per line, every incident in one hash chain.
//!
//! Owns all I/O on the journal, its lock file (`journal.lock`) and its head
//! (`journal.head`): reading (a reader folds the lines appended since its
//! last read, so it sees new events as they come) and appending (under an
//! exclusive `File::lock` on the lock file: catch up with what other
//! processes appended, check the journal still reaches its recorded head,
//! let the caller decide on the fresh state, seal the drafts onto the chain,
//! write them with one `write_all`, `fsync`, record the new head, unlock).
//! Several processes (a `watch`, a `ui`, shell commands) can therefore
//! append at once and never fork the chain.
//!
//! Must not decide what to record (the caller's closure does) nor format
//! anything for people.
//!
//! Invariants:
//! - Only whole lines are read; a line still being written (no newline yet)
//!   is left for the next read.
//! - A line without its newline found *under the lock* can only be a write
//!   torn by a crash (no one else can be writing): it was never acknowledged,
//!   so it is cut off before appending, and a warning says so.
//! - Every line read is a valid event of a known format version, or reading
//!   fails with the file and line number.
//! - Lines are never rewritten; `seq` and `prev_hash` come from the last line
//!   on disk, read under the lock.
//! - The head is written after the events it names are durable (journal
//!   `fsync`, then the head's slot overwritten in place and `fsync`'d): the
//!   journal is never behind its head unless events were removed, and a
//!   crash leaves it ahead of its head by the append it interrupted. A journal that does not reach its
//!   head (cut, or rewritten) gets no new event: appending would record a
//!   new head and erase the evidence.

use std::{
    fs::{self, File, OpenOptions},
    hash::{BuildHasher, Hasher, RandomState},
    io::{self, Read, Seek, SeekFrom, Write},
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
};

use jiff::Timestamp;
use serde_json::Value;

use super::{
    event::{Draft, FORMAT_VERSION, GENESIS, HEAD_SLOT, Head, JournalEvent},
    state::Timeline,
    verify::{HeadCheck, check_head},
};

/// The journal's file name in the data directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "journal.lock";
/// The head file's name in the data directory: the last event's seq and
/// hash, recorded after every append.
pub const HEAD_FILE: &str = "journal.head";

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file system said no.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: io::Error,
    },
    /// A line is not an event.
    #[error(
        "{}:{line}: not a journal event ({reason}); `triage incident verify` tells what changed",
        path.display()
    )]
    Corrupt {
        /// The journal.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A line of a newer format.
    #[error(
        "{}:{line}: written by a newer triage (journal format {found}; this one reads up to {FORMAT_VERSION})",
        path.display()
    )]
    NewerVersion {
        /// The journal.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The version found.
        found: u64,
    },
    /// The file lost lines that had been read.
    #[error(
        "{}: is shorter ({len} bytes) than when it was read ({read} bytes): it was truncated or replaced",
        path.display()
    )]
    Shrunk {
        /// The journal.
        path: PathBuf,
        /// Its length now.
        len: u64,
        /// How much had been read.
        read: u64,
    },
    /// The head file does not read.
    #[error(
        "{}: not a journal head ({reason}); nothing more is written to the journal: \
         `triage incident verify` checks it, and moving the head aside lets the next \
         append record a new one",
        path.display()
    )]
    BadHead {
        /// The head file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The journal does not reach its recorded head: nothing more is
    /// appended to it.
    #[error(
        "{}: {check}; nothing more is written to it: keep it as evidence, and move it \
         and {HEAD_FILE} aside to start a new journal",
        path.display()
    )]
    Cut {
        /// The journal.
        path: PathBuf,
        /// How it falls short of its head.
        check: HeadCheck,
    },
}

/// Reads one journal line as an event.
pub fn parse_line(line: &[u8]) -> Result<JournalEvent, LineError> {
    match serde_json::from_slice::<JournalEvent>(line) {
        Ok(event) if u64::from(event.version) > u64::from(FORMAT_VERSION) => {
            Err(LineError::NewerVersion(u64::from(event.version)))
        }
        Ok(event) => Ok(event),
        Err(err) => {
            if let Ok(value) = serde_json::from_slice::<Value>(line)
                && let Some(version) = value.get("version").and_then(Value::as_u64)
                && version > u64::from(FORMAT_VERSION)
            {
                return Err(LineError::NewerVersion(version));
            }
            Err(LineError::Invalid(
                err.to_string().replace(" at line 1 column ", " at column "),
            ))
        }
    }
}

/// Why one line is not an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Not JSON, or not the fields of an event.
    Invalid(String),
    /// A format version this triage does not read.
    NewerVersion(u64),
}

/// A journal, and the state folded from what has been read of it.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    path: PathBuf,
    lock_path: PathBuf,
    head_path: PathBuf,
    timeline: Timeline,
    /// Bytes of whole lines read so far.
    offset: u64,
    /// Lines read so far.
    lines: u64,
}

/// The exclusive lock on a journal; released when dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A fresh unique event id: 16 hex digits.
fn new_id(seq: u64, recorded_at: Timestamp) -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(seq);
    hasher.write_i128(recorded_at.as_nanosecond());
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

impl Journal {
    /// The journal in `data_dir`, read to its end. A journal that does not
    /// exist yet is empty; nothing is created until the first append.
    pub fn open(data_dir: &Path) -> Result<Journal, JournalError> {
        let mut journal = Journal::unread(data_dir);
        journal.refresh()?;
        Ok(journal)
    }

    /// The journal in `data_dir`, not read yet (for `verify`, which must
    /// work on a journal that no longer reads).
    pub fn unread(data_dir: &Path) -> Journal {
        Journal {
            dir: data_dir.to_path_buf(),
            path: data_dir.join(JOURNAL_FILE),
            lock_path: data_dir.join(LOCK_FILE),
            head_path: data_dir.join(HEAD_FILE),
            timeline: Timeline::new(),
            offset: 0,
            lines: 0,
        }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Everything read so far, folded.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// The head recorded beside the journal, if any (read now; take the
    /// [`lock`](Journal::lock) to read it together with the journal).
    pub fn recorded_head(&self) -> Result<Option<Head>, JournalError> {
        let bytes = match fs::read(&self.head_path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(io_error(&self.head_path)(err)),
        };
        Head::from_slots(&bytes).map_err(|reason| JournalError::BadHead {
            path: self.head_path.clone(),
            reason,
        })
    }

    /// What the recorded head says of the events read so far.
    pub fn check_head(&self) -> Result<HeadCheck, JournalError> {
        Ok(check_head(
            self.timeline.events(),
            self.recorded_head()?.as_ref(),
        ))
    }

    /// Fails when the events read so far do not reach the recorded head.
    pub fn ensure_reaches_head(&self) -> Result<HeadCheck, JournalError> {
        let check = self.check_head()?;
        if check.is_ok() {
            Ok(check)
        } else {
            Err(JournalError::Cut {
                path: self.path.clone(),
                check,
            })
        }
    }

    /// Records `head` in the head file's slot not holding the newest head,
    /// in place, `fsync`'d (see [`Head`]: a write torn by a crash leaves
    /// the previous head in the other slot, one append behind the journal,
    /// which is intact). A new or short file is written whole.
    fn record_head(&self, head: &Head) -> Result<(), JournalError> {
        let path = &self.head_path;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_error(path))?;
        let mut bytes = Vec::with_capacity(2 * HEAD_SLOT);
        file.read_to_end(&mut bytes).map_err(io_error(path))?;
        let written = if bytes.len() == 2 * HEAD_SLOT {
            let at = Head::next_slot(&bytes) * HEAD_SLOT;
            file.write_all_at(&head.to_slot(), at as u64)
        } else {
            let whole = [head.to_slot(), Head::empty_slot()].concat();
            file.set_len(0).and_then(|()| file.write_all_at(&whole, 0))
        };
        written
            .and_then(|()| file.sync_data())
            .map_err(io_error(path))
    }

    /// Reads the events appended since the last read; returns how many.
    pub fn refresh(&mut self) -> Result<usize, JournalError> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound && self.offset == 0 => return Ok(0),
            Err(err) => return Err(io_error(&self.path)(err)),
        };
        self.read_new(&mut file)
    }

    /// Takes the exclusive lock (waiting for it), e.g. to read a journal no
    /// one is writing to. Creates the data directory and lock file if needed.
    pub fn lock(&self) -> Result<Lock, JournalError> {
        fs::create_dir_all(&self.dir).map_err(io_error(&self.dir))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.lock_path)
            .map_err(io_error(&self.lock_path))?;
        file.lock().map_err(io_error(&self.lock_path))?;
        Ok(Lock { _file: file })
    }

    fn read_new(&mut self, file: &mut File) -> Result<usize, JournalError> {
        let path = &self.path;
        let len = file.metadata().map_err(io_error(path))?.len();
        if len < self.offset {
            return Err(JournalError::Shrunk {
                path: path.clone(),
                len,
                read: self.offset,
            });
        }
        if len == self.offset {
            return Ok(0);
        }
        file.seek(SeekFrom::Start(self.offset))
            .map_err(io_error(path))?;
        let mut bytes = Vec::new();
        file.take(len - self.offset)
            .read_to_end(&mut bytes)
            .map_err(io_error(path))?;
        let Some(end) = memchr::memrchr(b'\n', &bytes).map(|i| i + 1) else {
            return Ok(0);
        };
        let mut events = Vec::new();
        let mut line_no = self.lines;
        for line in bytes[..end - 1].split(|&b| b == b'\n') {
            line_no += 1;
            let event = parse_line(line).map_err(|err| match err {
                LineError::Invalid(reason) => JournalError::Corrupt {
                    path: path.clone(),
                    line: line_no,
                    reason,
                },
                LineError::NewerVersion(found) => JournalError::NewerVersion {
                    path: path.clone(),
                    line: line_no,
                    found,
                },
            })?;
            events.push(event);
        }
        let count = events.len();
        for event in events {
            self.timeline.apply(event);
        }
        self.offset += end as u64;
        self.lines = line_no;
        Ok(count)
    }

    /// Appends what `plan` decides, atomically with respect to every other
    /// process using this journal: under the lock, the journal is read to its
    /// end, `plan` sees that state, and its drafts are sealed (seq, id,
    /// `recorded_at`, `prev_hash`, `hash`), written and fsync'd before the
    /// lock is released. Returns the events written (none when `plan` gives
    /// none, in which case nothing is written).
    pub fn append<E>(
        &mut self,
        recorded_at: Timestamp,
        plan: impl FnOnce(&Timeline) -> Result<Vec<Draft>, E>,
    ) -> Result<Vec<JournalEvent>, E>
    where
        E: From<JournalError>,
    {
        let recorded_at = recorded_at
            .round(jiff::Unit::Millisecond)
            .unwrap_or(recorded_at);
        let _lock = self.lock()?;
        let existed = self.path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&self.path)
            .map_err(io_error(&self.path))?;
        if !existed {
            // Make the new file's directory entry durable too.
            File::open(&self.dir)
                .and_then(|dir| dir.sync_all())
                .map_err(io_error(&self.dir))?;
        }
        self.read_new(&mut file)?;
        let len = file.metadata().map_err(io_error(&self.path))?.len();
        if len > self.offset {
            tracing::warn!(
                path = %self.path.display(),
                bytes = len - self.offset,
                "cutting off an incomplete last line left by an interrupted write"
            );
            file.set_len(self.offset).map_err(io_error(&self.path))?;
        }
        if let HeadCheck::Behind {
            head,
            last,
            one_append: false,
        } = self.ensure_reaches_head()?
        {
            tracing::warn!(
                path = %self.path.display(),
                head,
                last,
                "events were appended without recording the journal's head; recording it now"
            );
        }
        let drafts = plan(&self.timeline)?;
        if drafts.is_empty() {
            return Ok(Vec::new());
        }
        let (mut seq, mut prev) = match self.timeline.last() {
            Some(last) => (last.seq, last.hash.clone()),
            None => (0, GENESIS.to_owned()),
        };
        let mut events = Vec::with_capacity(drafts.len());
        let mut bytes = Vec::new();
        for draft in drafts {
            seq += 1;
            let event = draft.seal(seq, new_id(seq, recorded_at), recorded_at, &prev);
            prev.clone_from(&event.hash);
            bytes.extend_from_slice(event.to_line().as_bytes());
            bytes.push(b'\n');
            events.push(event);
        }
        file.write_all(&bytes)
            .and_then(|()| file.sync_data())
            .map_err(io_error(&self.path))?;
        self.offset += bytes.len() as u64;
        self.lines += events.len() as u64;
        for event in &events {
            self.timeline.apply(event.clone());
        }
        // The events are durable: a head that fails to be written now only
        // leaves the journal one append ahead of it (as a crash here
        // would), which the next append mends. Not an error of this append.
        if let Some(last) = events.last()
            && let Err(err) = self.record_head(&Head::of(last))
        {
            tracing::warn!("the journal's head could not be recorded: {err}");
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::event::{TimeSource, tests::ts};

    fn note(text: &str) -> Draft {
        Draft::new(
            "INC-1",
            crate::incident::payload::tests::note("x"),
            ts("2026-11-21T03:00:00Z"),
            TimeSource::Clock,
            "alice",
            text,
        )
    }

    fn append_notes(journal: &mut Journal, texts: &[&str]) -> Vec<JournalEvent> {
        journal
            .append::<JournalError>(ts("2026-11-21T03:00:01Z"), |_| {
                Ok(texts.iter().map(|t| note(t)).collect())
            })
            .expect("appends")
    }

    #[test]
    fn appended_events_are_chained_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        assert!(journal.timeline().events().is_empty());
        let written = append_notes(&mut journal, &["one", "two"]);
        assert_eq!(written[0].prev_hash, GENESIS);
        assert_eq!(written[1].prev_hash, written[0].hash);
        assert_eq!(written[1].seq, 2);
        let reread = Journal::open(dir.path()).expect("opens");
        assert_eq!(reread.timeline().events(), &written[..]);
    }

    #[test]
    fn a_reader_sees_events_appended_by_another_handle() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut writer = Journal::open(dir.path()).expect("opens");
        let mut reader = Journal::open(dir.path()).expect("opens");
        append_notes(&mut writer, &["one"]);
        assert_eq!(reader.refresh().expect("reads"), 1);
        append_notes(&mut writer, &["two", "three"]);
        assert_eq!(reader.refresh().expect("reads"), 2);
        assert_eq!(reader.refresh().expect("reads"), 0);
        // The reader appends after the writer's events, on the same chain.
        let mine = append_notes(&mut reader, &["four"]);
        assert_eq!(mine[0].seq, 4);
        assert_eq!(writer.refresh().expect("reads"), 1);
        assert_eq!(writer.timeline().last(), reader.timeline().last());
    }

    #[test]
    fn a_partial_last_line_is_not_read_and_is_cut_off_under_the_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        append_notes(&mut journal, &["one"]);
        let path = journal.path().to_path_buf();
        let mut file = OpenOptions::new().append(true).open(&path).expect("opens");
        file.write_all(b"{\"version\":1,\"seq\":2,\"id\":\"torn")
            .expect("writes");
        let mut reader = Journal::open(dir.path()).expect("a torn tail is not an error");
        assert_eq!(reader.timeline().events().len(), 1);
        let written = append_notes(&mut reader, &["two"]);
        assert_eq!(written[0].seq, 2);
        let text = fs::read_to_string(&path).expect("reads");
        assert!(!text.contains("torn"));
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn a_corrupt_line_is_reported_with_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        append_notes(&mut journal, &["one", "two"]);
        let path = journal.path().to_path_buf();
        let text = fs::read_to_string(&path).expect("reads");
        fs::write(&path, text.replacen("\"seq\":2", "\"seq\":\"2\"", 1)).expect("writes");
        let err = Journal::open(dir.path()).expect_err("corrupt");
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("{}:2: not a journal event (", path.display())),
            "{message}"
        );
        fs::write(&path, text.replacen("\"version\":1", "\"version\":9", 1)).expect("writes");
        let err = Journal::open(dir.path()).expect_err("newer");
        assert!(matches!(
            err,
            JournalError::NewerVersion {
                line: 1,
                found: 9,
                ..
            }
        ));
    }

    #[test]
    fn a_plan_that_writes_nothing_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        let written = journal
            .append::<JournalError>(ts("2026-11-21T03:00:00Z"), |_| Ok(Vec::new()))
            .expect("appends");
        assert!(written.is_empty());
        assert_eq!(
            fs::metadata(journal.path()).expect("created").len(),
            0,
            "no bytes"
        );
    }

    #[test]
    fn threads_appending_at_once_keep_one_chain() {
        let dir = tempfile::tempdir().expect("tempdir");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let path = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    let mut journal = Journal::open(&path).expect("opens");
                    for i in 0..25 {
                        let text = format!("thread {t} note {i}");
                        append_notes(&mut journal, &[&text]);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("no panic");
        }
        let journal = Journal::open(dir.path()).expect("opens");
        let events = journal.timeline().events();
        assert_eq!(events.len(), 100);
        let mut prev = GENESIS.to_owned();
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event.seq, i as u64 + 1);
            assert_eq!(event.prev_hash, prev);
            assert!(event.hash_is_valid());
            prev.clone_from(&event.hash);
        }
    }

    #[test]
    fn every_append_records_the_head() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        assert_eq!(journal.recorded_head().expect("reads"), None);
        append_notes(&mut journal, &["one", "two"]);
        let written = append_notes(&mut journal, &["three"]);
        assert_eq!(
            journal.recorded_head().expect("reads"),
            Some(Head::of(&written[0]))
        );
        assert_eq!(journal.check_head().expect("reads"), HeadCheck::Matches);
    }

    #[test]
    fn a_journal_cut_at_its_end_gets_no_new_event() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        append_notes(&mut journal, &["one", "two"]);
        append_notes(&mut journal, &["three"]);
        let path = journal.path().to_path_buf();
        let text = fs::read_to_string(&path).expect("reads");
        let cut: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
        fs::write(&path, cut).expect("writes");
        let mut reader = Journal::open(dir.path()).expect("a cut journal still reads");
        let err = reader
            .append::<JournalError>(ts("2026-11-21T03:00:02Z"), |_| Ok(vec![note("four")]))
            .expect_err("refused");
        assert!(
            err.to_string()
                .contains("journal ends at seq 2 but its head says seq 3 (hash "),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&path).expect("reads").lines().count(), 2);
        // Moved aside with its head, a new journal starts.
        fs::rename(&path, dir.path().join("cut.jsonl")).expect("moves");
        fs::rename(dir.path().join(HEAD_FILE), dir.path().join("cut.head")).expect("moves");
        let mut fresh = Journal::open(dir.path()).expect("opens");
        assert_eq!(append_notes(&mut fresh, &["one"])[0].seq, 1);
    }

    #[test]
    fn a_journal_without_a_head_gets_one_on_its_next_append() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        append_notes(&mut journal, &["one", "two"]);
        fs::remove_file(dir.path().join(HEAD_FILE)).expect("removes");
        let mut old = Journal::open(dir.path()).expect("opens");
        assert_eq!(old.check_head().expect("reads"), HeadCheck::NotRecorded);
        let written = append_notes(&mut old, &["three"]);
        assert_eq!(
            old.recorded_head().expect("reads"),
            Some(Head::of(&written[0]))
        );
    }

    #[test]
    fn a_crash_between_the_events_and_their_head_is_mended_by_the_next_append() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        append_notes(&mut journal, &["one"]);
        let head = fs::read(dir.path().join(HEAD_FILE)).expect("reads");
        append_notes(&mut journal, &["two", "three"]);
        // As if the crash hit before the second append's head was written.
        fs::write(dir.path().join(HEAD_FILE), head).expect("writes");
        let mut after = Journal::open(dir.path()).expect("opens");
        assert!(matches!(
            after.check_head().expect("reads"),
            HeadCheck::Behind {
                head: 1,
                last: 3,
                one_append: true
            }
        ));
        let written = append_notes(&mut after, &["four"]);
        assert_eq!(after.check_head().expect("reads"), HeadCheck::Matches);
        assert_eq!(written[0].seq, 4);
    }

    #[test]
    fn a_head_write_torn_by_a_crash_leaves_the_previous_head() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        for text in ["one", "two", "three"] {
            append_notes(&mut journal, &[text]);
        }
        append_notes(&mut journal, &["four", "five"]);
        let path = dir.path().join(HEAD_FILE);
        let mut bytes = fs::read(&path).expect("reads");
        assert_eq!(bytes.len(), 2 * HEAD_SLOT);
        // The slot just written (the newest) torn after its first bytes.
        let newest = 1 - Head::next_slot(&bytes);
        bytes[newest * HEAD_SLOT + 20..(newest + 1) * HEAD_SLOT - 1].fill(b' ');
        fs::write(&path, bytes).expect("writes");
        let after = Journal::open(dir.path()).expect("opens");
        assert_eq!(
            after.check_head().expect("reads"),
            HeadCheck::Behind {
                head: 3,
                last: 5,
                one_append: true
            }
        );
    }

    #[test]
    fn a_damaged_head_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path()).expect("opens");
        append_notes(&mut journal, &["one"]);
        fs::write(dir.path().join(HEAD_FILE), "{\"seq\":").expect("writes");
        let err = journal
            .append::<JournalError>(ts("2026-11-21T03:00:02Z"), |_| Ok(vec![note("two")]))
            .expect_err("refused");
        assert!(
            err.to_string()
                .contains("journal.head: not a journal head ("),
            "{err}"
        );
    }
}
