//! A checkpoint's data: where each followed file (each content: identity
//! and first bytes) was read up to, and from where it was followed. Plain
//! data; reading and writing its file is `tail::checkpoint`'s.

use std::{
    path::PathBuf,
    time::{Duration, SystemTime},
};

use serde::{Deserialize, Serialize};

use super::FileKey;

/// Version of the checkpoint format.
pub const VERSION: u32 = 1;

/// The first bytes of a file, hashed: tells a file from another that got the
/// same inode, and a truncated file from the one that was there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// How many leading bytes are covered.
    pub len: u32,
    /// FNV-1a of those bytes.
    pub hash: u64,
}

impl Fingerprint {
    /// The fingerprint of `bytes`.
    pub fn of(bytes: &[u8]) -> Fingerprint {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Fingerprint {
            len: bytes.len() as u32,
            hash,
        }
    }

    /// Whether `head`, a content's first bytes, starts with the bytes this
    /// fingerprint was taken of.
    pub fn is_prefix_of(self, head: &[u8]) -> bool {
        head.get(..self.len as usize)
            .is_some_and(|prefix| Fingerprint::of(prefix) == self)
    }
}

/// One file's position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCheckpoint {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Fingerprint of its first bytes.
    pub fingerprint: Fingerprint,
    /// Offset of the first byte not yet emitted as part of a line.
    pub offset: u64,
    /// Line number of the line starting at `offset`.
    pub line_no: u64,
    /// Where the file was last seen (to find it again if it was renamed).
    pub path: PathBuf,
    /// Where following this content began (its start, or its end when it
    /// was first seen at start-up, as `tail -F`): where indexing resumes
    /// when no index commit covers it yet.
    #[serde(default)]
    pub from_offset: u64,
    /// Line number of the line starting at `from_offset`.
    #[serde(default = "first_line")]
    pub from_line: u64,
    /// Where the symlink it was followed through pointed (to find it there
    /// after the symlink was switched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<PathBuf>,
    /// The first bytes of a content that is gone (truncated or replaced),
    /// kept so that a copy of it still being written, or shorter than its
    /// fingerprint, is recognised after a restart. Empty for files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub head: Vec<u8>,
    /// Lines of this content before this offset were alerted on (handed
    /// over) by an earlier run, when that is beyond `offset`: reading
    /// resumed behind what was alerted on (the index's commit was behind
    /// the data directory's checkpoint) and has not caught up yet. Kept so
    /// that a crash before it catches up does not alert on them again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub alerted: u64,
}

fn first_line() -> u64 {
    1
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl FileCheckpoint {
    /// The file's identity.
    pub fn key(&self) -> FileKey {
        FileKey {
            dev: self.dev,
            ino: self.ino,
        }
    }

    /// Where following this content began: offset and line number.
    pub fn from(&self) -> (u64, u64) {
        (self.from_offset, self.from_line)
    }

    /// Below which offset its lines were alerted on.
    pub fn alerted_below(&self) -> u64 {
        self.offset.max(self.alerted)
    }
}

/// Positions of every followed file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version.
    pub version: u32,
    /// One entry per file.
    pub files: Vec<FileCheckpoint>,
    /// When it was taken (nanoseconds since the Unix epoch): a file last
    /// written before it and not in it was never a followed file's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_ns: Option<u64>,
}

impl Checkpoint {
    /// Moves the position of the content followed under `key` back to
    /// `offset` (line `line_no`) when it is beyond: an event still being
    /// assembled from its lines starts there, and must be read again after
    /// a restart. Only that content's record moves: the first with this
    /// identity that is not a gone content's (the follower's checkpoint lists
    /// the files followed first), never the records after it of
    /// earlier contents of the same inode (a truncated file's old content,
    /// a deleted file whose inode was reused), whose positions are in other
    /// bytes.
    pub fn hold_back(&mut self, key: FileKey, offset: u64, line_no: u64) {
        if let Some(file) = self
            .files
            .iter_mut()
            .find(|f| f.key() == key && f.head.is_empty())
            && offset < file.offset
        {
            file.offset = offset;
            file.line_no = line_no;
        }
    }

    /// When it was taken, if it says.
    pub fn taken(&self) -> Option<SystemTime> {
        self.taken_ns
            .map(|ns| SystemTime::UNIX_EPOCH + Duration::from_nanos(ns))
    }
}
