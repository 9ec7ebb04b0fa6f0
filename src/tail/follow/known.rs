//! What a restarted follower knows of each file's content from before:
//! where reading resumes, where following began, and below which offsets its
//! lines were already alerted on or indexed. One record per content, told
//! apart by identity *and* first bytes, so nothing below a stale offset of a
//! truncated or replaced file is ever taken as seen.
//!
//! Three sources are merged: the checkpoint reading resumes from (the
//! index's commit, or the data directory's), the data directory's
//! checkpoint of what was handed over (alerted) — ahead of the index's when
//! `watch` stopped between two commits — and what `ingest` indexed. Records
//! of one file are matched to its content only when the file is opened
//! (their fingerprints may cover different lengths of a growing file).

use std::{fs::File, path::PathBuf};

use super::{Fingerprint, prefix_matches};
use crate::tail::{checkpoint::FileCheckpoint, discover::FileKey};

/// Below which offsets a content's lines were handed over before a restart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Before {
    /// Alerted on (printed, journalled): replayed without alerting again.
    pub alerted: u64,
    /// Indexed (by `ingest`, or by an earlier run whose commit is ahead):
    /// not indexed again.
    pub indexed: u64,
}

impl Before {
    /// What happened to the line at `offset` before.
    pub fn seen(self, offset: u64) -> Seen {
        Seen {
            alerted: offset < self.alerted,
            indexed: offset < self.indexed,
        }
    }

    /// Both: below the higher of each.
    pub fn merge(self, other: Before) -> Before {
        Before {
            alerted: self.alerted.max(other.alerted),
            indexed: self.indexed.max(other.indexed),
        }
    }
}

/// What happened to one line before a restart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// It was alerted on: replay it (detection state) without alerting.
    pub alerted: bool,
    /// It is in the index already.
    pub indexed: bool,
}

/// One content known from before.
#[derive(Debug, Clone)]
pub(super) struct Known {
    pub key: FileKey,
    pub fingerprint: Fingerprint,
    /// Where it was last seen (to find it again if it was renamed away).
    pub path: PathBuf,
    /// Where the symlink it was followed through pointed.
    pub link: Option<PathBuf>,
    /// Its first bytes, when it is a content gone before the restart.
    pub head: Vec<u8>,
    /// Where reading resumes: the start of a line and its number (`None`:
    /// the start policy decides, e.g. a file only `ingest` read).
    pub at: Option<(u64, u64)>,
    /// Where following it began.
    pub from: (u64, u64),
    pub before: Before,
    /// Which record's position wins when two describe the content: the
    /// resume checkpoint's (2), then the handed-over one's (1), then
    /// `ingest`'s (0).
    rank: u8,
}

/// The rank of a record of where reading resumes (the index's commit, or
/// the follower's own position): its position is where reading goes on.
pub(super) const RESUME_RANK: u8 = 2;

impl Known {
    /// Which record's position this is: [`RESUME_RANK`] for where reading
    /// resumes, 1 for what was handed over (reading resumes where following
    /// began), 0 for what `ingest` indexed.
    pub fn rank(&self) -> u8 {
        self.rank
    }

    /// A record of where reading resumes (lines before it were handed over
    /// and indexed with it).
    pub fn resume(r: &FileCheckpoint) -> Known {
        Known {
            rank: RESUME_RANK,
            at: Some((r.offset, r.line_no)),
            before: Before {
                alerted: r.alerted_below(),
                indexed: r.offset,
            },
            ..Known::of(r)
        }
    }

    /// A record of what was handed over: lines before its offset were
    /// alerted on; reading resumes where following began (the index may
    /// hold none of them).
    pub fn handed(r: &FileCheckpoint) -> Known {
        Known {
            rank: 1,
            at: Some(r.from()),
            before: Before {
                alerted: r.alerted_below(),
                indexed: 0,
            },
            ..Known::of(r)
        }
    }

    /// A record of what `ingest` indexed: lines before `next`.
    pub fn ingested(key: FileKey, fingerprint: Fingerprint, next: u64, path: PathBuf) -> Known {
        Known {
            key,
            fingerprint,
            path,
            link: None,
            head: Vec::new(),
            at: None,
            from: (0, 1),
            before: Before {
                alerted: 0,
                indexed: next,
            },
            rank: 0,
        }
    }

    fn of(r: &FileCheckpoint) -> Known {
        Known {
            key: r.key(),
            fingerprint: r.fingerprint,
            path: r.path.clone(),
            link: r.link.clone(),
            head: r.head.clone(),
            at: None,
            from: r.from(),
            before: Before::default(),
            rank: 0,
        }
    }

    /// Whether `file` (of length `len`) still holds this content.
    pub fn matches(&self, file: &File, len: u64) -> bool {
        self.at.is_none_or(|(offset, _)| offset <= len)
            && prefix_matches(file, self.fingerprint, len)
    }

    /// One record of two of the same content: reading resumes at the
    /// position of the higher-ranked one (of two of one rank, the further:
    /// one checkpoint can know a content under two identities, its
    /// original's and its copy's, read further).
    fn merge(self, other: Known) -> Known {
        let further = |a: &Known, b: &Known| match (a.at, b.at) {
            (Some((x, _)), Some((y, _))) => x > y,
            (Some(_), None) => true,
            _ => false,
        };
        let (first, second) =
            match other.rank > self.rank || (other.rank == self.rank && further(&other, &self)) {
                true => (other, self),
                false => (self, other),
            };
        let fingerprint = match second.fingerprint.len > first.fingerprint.len {
            true => second.fingerprint,
            false => first.fingerprint,
        };
        Known {
            at: first.at.or(second.at),
            from: match first.at {
                Some(_) => first.from,
                None => second.from,
            },
            before: first.before.merge(second.before),
            link: first.link.or(second.link),
            head: match first.head.len() >= second.head.len() {
                true => first.head,
                false => second.head,
            },
            fingerprint,
            ..first
        }
    }
}

/// Every record of one file's identity, split by whether they describe the
/// content `file` holds now: the merged record of those that do, and those
/// that do not (an earlier content: truncated or replaced since).
pub(super) fn claim(
    known: &mut Vec<Known>,
    key: FileKey,
    file: &File,
    len: u64,
) -> (Option<Known>, Vec<Known>) {
    let mut same: Option<Known> = None;
    let mut other = Vec::new();
    let mut i = 0;
    while i < known.len() {
        if known[i].key != key {
            i += 1;
            continue;
        }
        let k = known.swap_remove(i);
        if k.matches(file, len) {
            same = Some(match same {
                Some(s) => s.merge(k),
                None => k,
            });
        } else {
            // Records of one earlier content (the resume checkpoint's and
            // the handed-over one's) make one: reading its copy resumes
            // where the index stopped, not where following began.
            match other
                .iter()
                .position(|o: &Known| o.fingerprint == k.fingerprint)
            {
                Some(j) => {
                    let o = other.swap_remove(j);
                    other.push(o.merge(k));
                }
                None => other.push(k),
            }
        }
    }
    (same, other)
}

/// Every record `matches` picks, taken out and merged into one (reading
/// resumes at the higher-ranked one's position; what was alerted and
/// indexed is the most of all).
pub(super) fn take_merged(
    known: &mut Vec<Known>,
    matches: impl Fn(&Known) -> bool,
) -> Option<Known> {
    let mut merged: Option<Known> = None;
    let mut i = 0;
    while i < known.len() {
        if matches(&known[i]) {
            let k = known.swap_remove(i);
            merged = Some(match merged {
                Some(m) => m.merge(k),
                None => k,
            });
        } else {
            i += 1;
        }
    }
    merged
}
