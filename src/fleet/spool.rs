//! The agent's spool: messages not yet acknowledged by NATS, on disk in
//! `<data-dir>/spool/`, drained in order when the server is back.
//!
//! One segment file per batch handed over (`<seq>.seg`, written to a
//! temporary name, synced, renamed, the directory synced): a segment is
//! whole or absent, never torn, so a `kill -9` loses nothing that was
//! spooled. Segments are read back oldest first and deleted only after
//! every message in them was acknowledged. The spool is bounded in bytes:
//! [`Spool::fits`] says when a batch must wait (the agent stops reading, it
//! never drops). Must not: talk to NATS (the agent does), open log files.
//!
//! A segment: for each message, three length-prefixed (u32 LE) parts:
//! subject, message id, payload; then a u32 LE count of messages as a
//! trailer.

use std::{
    collections::VecDeque,
    fs, io,
    io::Write,
    path::{Path, PathBuf},
};

/// One message waiting to be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its subject.
    pub subject: String,
    /// Its `Nats-Msg-Id`.
    pub id: String,
    /// Its payload.
    pub payload: Vec<u8>,
}

impl Record {
    /// Bytes it takes in a segment.
    pub fn size(&self) -> u64 {
        (12 + self.subject.len() + self.id.len() + self.payload.len()) as u64
    }
}

/// The spool directory.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    /// Segments on disk, oldest first: sequence and size.
    segments: VecDeque<(u64, u64)>,
    bytes: u64,
    next: u64,
}

impl Spool {
    /// Opens (creating) the spool in `dir`, holding at most `max_bytes`;
    /// what a crash left half-written is removed.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<Spool> {
        fs::create_dir_all(dir)?;
        let mut segments = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".tmp") {
                fs::remove_file(entry.path())?;
                continue;
            }
            if let Some(seq) = name
                .strip_suffix(".seg")
                .and_then(|s| s.parse::<u64>().ok())
            {
                segments.push((seq, entry.metadata()?.len()));
            }
        }
        segments.sort_unstable();
        let next = segments.last().map_or(0, |(seq, _)| seq + 1);
        let bytes = segments.iter().map(|(_, size)| size).sum();
        Ok(Spool {
            dir: dir.to_path_buf(),
            max_bytes,
            segments: segments.into(),
            bytes,
            next,
        })
    }

    /// Nothing waits.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Bytes spooled.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Segments spooled.
    pub fn segments(&self) -> usize {
        self.segments.len()
    }

    /// Whether `records` can be added within the bound (always when the
    /// spool is empty: a batch larger than the bound goes in alone).
    pub fn fits(&self, records: &[Record]) -> bool {
        let size: u64 = records.iter().map(Record::size).sum::<u64>() + 4;
        self.is_empty() || self.bytes + size <= self.max_bytes
    }

    fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}.seg"))
    }

    /// Adds `records` as one segment, durably, after the ones there.
    pub fn append(&mut self, records: &[Record]) -> io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let bytes = encode(records);
        let seq = self.next;
        let path = self.path(seq);
        let tmp = path.with_extension("tmp");
        {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        sync_dir(&self.dir)?;
        self.next += 1;
        self.bytes += bytes.len() as u64;
        self.segments.push_back((seq, bytes.len() as u64));
        Ok(())
    }

    /// The oldest segment: its sequence and messages.
    pub fn head(&self) -> Option<io::Result<(u64, Vec<Record>)>> {
        let &(seq, _) = self.segments.front()?;
        Some(fs::read(self.path(seq)).and_then(|bytes| {
            decode(&bytes).map(|records| (seq, records)).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: not a whole spool segment", self.path(seq).display()),
                )
            })
        }))
    }

    /// Removes the oldest segment (all of it acknowledged).
    pub fn pop(&mut self, seq: u64) -> io::Result<()> {
        if self.segments.front().map(|(s, _)| *s) != Some(seq) {
            return Ok(());
        }
        fs::remove_file(self.path(seq))?;
        if let Some((_, size)) = self.segments.pop_front() {
            self.bytes -= size;
        }
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::options().read(true).open(dir)?.sync_all()
}

/// The bytes of a segment.
pub fn encode(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.iter().map(|r| r.size() as usize).sum::<usize>() + 4);
    for record in records {
        for part in [
            record.subject.as_bytes(),
            record.id.as_bytes(),
            &record.payload,
        ] {
            out.extend_from_slice(&(part.len() as u32).to_le_bytes());
            out.extend_from_slice(part);
        }
    }
    out.extend_from_slice(&(records.len() as u32).to_le_bytes());
    out
}

/// The messages of a segment; `None` when it is not whole.
pub fn decode(bytes: &[u8]) -> Option<Vec<Record>> {
    let (body, trailer) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
    let count = u32::from_le_bytes(trailer.try_into().ok()?) as usize;
    let mut rest = body;
    let mut part = || -> Option<Vec<u8>> {
        let (len, tail) = rest.split_at_checked(4)?;
        let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
        let (value, tail) = tail.split_at_checked(len)?;
        rest = tail;
        Some(value.to_vec())
    };
    let mut records = Vec::new();
    while records.len() < count {
        let subject = String::from_utf8(part()?).ok()?;
        let id = String::from_utf8(part()?).ok()?;
        let payload = part()?;
        records.push(Record {
            subject,
            id,
            payload,
        });
    }
    rest.is_empty().then_some(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(n: u8) -> Record {
        Record {
            subject: format!("triage.h{n}.events"),
            id: format!("h/1:2/{n}"),
            payload: vec![n; n as usize],
        }
    }

    proptest! {
        #[test]
        fn segments_read_back_and_a_cut_one_never_reads_as_whole(
            records in proptest::collection::vec((".{0,8}", ".{0,8}", proptest::collection::vec(any::<u8>(), 0..40)), 0..8),
            cut in 1usize..64,
        ) {
            let records: Vec<Record> = records
                .into_iter()
                .map(|(subject, id, payload)| Record { subject, id, payload })
                .collect();
            let bytes = encode(&records);
            prop_assert_eq!(decode(&bytes), Some(records.clone()));
            if cut < bytes.len() {
                let cut_bytes = &bytes[..bytes.len() - cut];
                prop_assert_ne!(decode(cut_bytes), Some(records));
            }
        }
    }

    #[test]
    fn drains_in_order_across_a_reopen_and_keeps_its_bound() {
        let dir = tempfile::tempdir().expect("dir");
        let mut spool = Spool::open(dir.path(), 200).expect("open");
        assert!(spool.is_empty() && spool.fits(&[record(250)]));
        spool.append(&[record(1), record(2)]).expect("append");
        spool.append(&[record(3)]).expect("append");
        assert!(!spool.fits(&[record(200)]));
        fs::write(dir.path().join("00000000000000000009.tmp"), b"torn").expect("tmp");
        drop(spool);
        let mut spool = Spool::open(dir.path(), 200).expect("reopen");
        assert_eq!(spool.segments(), 2);
        let (seq, first) = spool.head().expect("head").expect("read");
        assert_eq!(first, vec![record(1), record(2)]);
        spool.pop(seq).expect("pop");
        let (seq, second) = spool.head().expect("head").expect("read");
        assert_eq!(second, vec![record(3)]);
        spool.append(&[record(4)]).expect("append");
        spool.pop(seq).expect("pop");
        assert_eq!(
            spool.head().expect("head").expect("read").1,
            vec![record(4)]
        );
        assert!(!dir.path().join("00000000000000000009.tmp").exists());
    }
}
