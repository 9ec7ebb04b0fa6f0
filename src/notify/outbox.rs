//! The durable outbox: `<data-dir>/outbox/<output>/<seq>.json`, one file
//! per notification, written (fsync, then rename) before it is sent and
//! removed only once the receiver answered 2xx; refused ones (a 4xx other
//! than 429) are moved to `<output>/parked/` with the receiver's answer.
//!
//! Sequence numbers are global and increasing (the next one is one past
//! the highest found at start-up), so each output's files, in name order,
//! are its notifications in the order they were decided. An entry holds
//! the request's body and its retry state, never a secret: URLs, routing
//! keys and signing keys are added at send time from `triage.toml`.

use std::{
    fs::{self, File},
    io::{self, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The outbox's directory in the data directory.
pub const DIR: &str = "outbox";
const PARKED: &str = "parked";

/// One notification waiting to be sent (or parked).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// Global order of decision.
    pub seq: u64,
    /// The `[[output]]` it goes to.
    pub output: String,
    /// `firing`, `resend`, `resolved`, `incident` or `test`.
    pub what: String,
    /// Receivers deduplicate on it (PagerDuty's `dedup_key`; the
    /// webhook's `X-Triage-Dedup-Key`); the same alert keeps the same key.
    pub dedup_key: String,
    /// The signature, when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The incident journal's event it tells of, when it does (what the
    /// incident cursor counts as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_seq: Option<u64>,
    /// When it was decided (milliseconds since the Unix epoch).
    pub created_ms: i64,
    /// Attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// Not before this (milliseconds since the Unix epoch).
    #[serde(default)]
    pub next_ms: i64,
    /// What the last attempt got (the receiver's status and message, or
    /// why it could not be reached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The request's JSON body (without secrets).
    pub body: Value,
}

/// Why the outbox could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct OutboxError {
    /// The file or directory.
    pub path: PathBuf,
    /// What went wrong.
    pub source: io::Error,
}

fn err(path: &Path) -> impl FnOnce(io::Error) -> OutboxError + '_ {
    move |source| OutboxError {
        path: path.to_path_buf(),
        source,
    }
}

/// The outbox of one data directory.
#[derive(Debug)]
pub struct Outbox {
    root: PathBuf,
    next_seq: AtomicU64,
}

/// Whether an entry is waiting or parked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting to be sent (or retried).
    Pending,
    /// Refused by the receiver; kept until `triage outbox retry` or `drop`.
    Parked,
}

impl Outbox {
    /// Opens (creating) the outbox in `data_dir`; `owner` (the `watch`
    /// holding the data directory's lock) removes what a crash left.
    pub fn open(data_dir: &Path, owner: bool) -> Result<Outbox, OutboxError> {
        let root = data_dir.join(DIR);
        fs::create_dir_all(&root).map_err(err(&root))?;
        let outbox = Outbox {
            root,
            next_seq: AtomicU64::new(1),
        };
        let mut highest = 0;
        for output in outbox.outputs()? {
            if owner {
                outbox.remove_leftovers(&output);
            }
            for state in [State::Pending, State::Parked] {
                for (seq, _) in outbox.list(&output, state)? {
                    highest = highest.max(seq);
                }
            }
        }
        outbox.next_seq.store(highest + 1, Ordering::SeqCst);
        Ok(outbox)
    }

    /// Removes temporary files a crash left behind (their entry was
    /// never renamed into place: the checkpoint's saver had not been told
    /// it was written, so the checkpoint did not move past it).
    fn remove_leftovers(&self, output: &str) {
        for state in [State::Pending, State::Parked] {
            let Ok(entries) = fs::read_dir(self.dir(output, state)) else {
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                let name = entry.file_name();
                if name
                    .to_str()
                    .is_some_and(|n| n.starts_with('.') && n.ends_with(".tmp"))
                {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
    }

    /// The outbox's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The next sequence number (taken).
    pub fn take_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::SeqCst)
    }

    fn dir(&self, output: &str, state: State) -> PathBuf {
        match state {
            State::Pending => self.root.join(output),
            State::Parked => self.root.join(output).join(PARKED),
        }
    }

    /// Outputs that have a directory here, sorted.
    pub fn outputs(&self) -> Result<Vec<String>, OutboxError> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.root).map_err(err(&self.root))? {
            let entry = entry.map_err(err(&self.root))?;
            if entry.file_type().is_ok_and(|t| t.is_dir())
                && let Some(name) = entry.file_name().to_str()
            {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// An output's entries in a state, by sequence number.
    pub fn list(&self, output: &str, state: State) -> Result<Vec<(u64, PathBuf)>, OutboxError> {
        let dir = self.dir(output, state);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(err(&dir)(e)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(err(&dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(seq) = name
                .strip_suffix(".json")
                .and_then(|n| n.parse::<u64>().ok())
            {
                found.push((seq, entry.path()));
            }
        }
        found.sort();
        Ok(found)
    }

    /// Reads one entry.
    pub fn read(&self, path: &Path) -> Result<Entry, OutboxError> {
        let text = fs::read(path).map_err(err(path))?;
        serde_json::from_slice(&text).map_err(|e| OutboxError {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidData, e),
        })
    }

    /// Writes an entry durably (temporary file, fsync, rename) as pending;
    /// [`Outbox::sync`] makes the renames themselves durable.
    pub fn put(&self, entry: &Entry) -> Result<(), OutboxError> {
        self.write(entry, State::Pending)
    }

    fn write(&self, entry: &Entry, state: State) -> Result<(), OutboxError> {
        let dir = self.dir(&entry.output, state);
        fs::create_dir_all(&dir).map_err(err(&dir))?;
        let path = dir.join(format!("{:020}.json", entry.seq));
        let tmp = dir.join(format!(".{:020}.tmp", entry.seq));
        let mut bytes = serde_json::to_vec(entry).map_err(|e| OutboxError {
            path: path.clone(),
            source: io::Error::other(e),
        })?;
        bytes.push(b'\n');
        let mut file = File::create(&tmp).map_err(err(&tmp))?;
        file.write_all(&bytes).map_err(err(&tmp))?;
        file.sync_data().map_err(err(&tmp))?;
        fs::rename(&tmp, &path).map_err(err(&path))?;
        Ok(())
    }

    /// Makes the directory entries of an output durable.
    pub fn sync(&self, output: &str) -> Result<(), OutboxError> {
        let dir = self.dir(output, State::Pending);
        // The directory itself (triage's own file, never a log).
        match File::options().read(true).open(&dir) {
            Ok(file) => file.sync_all().map_err(err(&dir)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(err(&dir)(e)),
        }
    }

    /// Rewrites a pending entry (its retry state).
    pub fn update(&self, entry: &Entry) -> Result<(), OutboxError> {
        self.write(entry, State::Pending)
    }

    /// Removes a pending entry (delivered, or dropped).
    pub fn remove(&self, output: &str, seq: u64, state: State) -> Result<bool, OutboxError> {
        let path = self.dir(output, state).join(format!("{seq:020}.json"));
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(err(&path)(e)),
        }
    }

    /// Moves a pending entry to `parked/`, with its last answer.
    pub fn park(&self, entry: &Entry) -> Result<(), OutboxError> {
        self.write(entry, State::Parked)?;
        self.remove(&entry.output, entry.seq, State::Pending)?;
        Ok(())
    }

    /// Moves a parked entry back to pending, due now.
    pub fn unpark(&self, mut entry: Entry) -> Result<(), OutboxError> {
        entry.next_ms = 0;
        self.write(&entry, State::Pending)?;
        self.remove(&entry.output, entry.seq, State::Parked)?;
        Ok(())
    }

    /// The newest incident journal event in an output's entries, waiting
    /// or parked.
    pub fn journal_high(&self, output: &str) -> Option<u64> {
        let mut high = None;
        for state in [State::Pending, State::Parked] {
            for (_, path) in self.list(output, state).unwrap_or_default() {
                if let Some(seq) = self.read(&path).ok().and_then(|e| e.journal_seq) {
                    high = high.max(Some(seq));
                }
            }
        }
        high
    }

    /// How many entries an output has waiting.
    pub fn depth(&self, output: &str) -> usize {
        self.list(output, State::Pending).map_or(0, |l| l.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, output: &str) -> Entry {
        Entry {
            seq,
            output: output.to_owned(),
            what: "firing".to_owned(),
            dedup_key: format!("k{seq}"),
            signature: None,
            journal_seq: None,
            created_ms: 1,
            attempts: 0,
            next_ms: 0,
            last_error: None,
            body: serde_json::json!({"n": seq}),
        }
    }

    #[test]
    fn entries_come_back_in_order_and_sequence_numbers_go_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = Outbox::open(dir.path(), true).expect("open");
        for _ in 0..12 {
            let seq = outbox.take_seq();
            outbox.put(&entry(seq, "a")).expect("put");
        }
        let listed: Vec<u64> = outbox
            .list("a", State::Pending)
            .expect("list")
            .into_iter()
            .map(|(seq, _)| seq)
            .collect();
        assert_eq!(listed, (1..=12).collect::<Vec<_>>());
        let head = outbox.read(&outbox.list("a", State::Pending).expect("list")[0].1);
        assert_eq!(head.expect("read"), entry(1, "a"));
        outbox.park(&entry(3, "a")).expect("park");
        fs::write(dir.path().join("outbox/a/.00000000000000000099.tmp"), "{").expect("tmp");
        assert!(outbox.remove("a", 12, State::Pending).expect("remove"));
        let reopened = Outbox::open(dir.path(), true).expect("reopen");
        assert_eq!(reopened.take_seq(), 12, "one past the highest left");
        assert_eq!(reopened.depth("a"), 10);
        assert!(
            !dir.path()
                .join("outbox/a/.00000000000000000099.tmp")
                .exists()
        );
        assert_eq!(reopened.list("a", State::Parked).expect("list").len(), 1);
        reopened.unpark(entry(3, "a")).expect("unpark");
        assert_eq!(reopened.depth("a"), 11);
    }
}
