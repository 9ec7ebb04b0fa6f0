//! Compressed rotations (`app.log.2.gz`, `.bz2`, `.zst`) that a target
//! names, read when asked (`watch --read-compressed`): decompressed a budget
//! at a time, exactly once. An archive is usually the compression of a file
//! already followed (logrotate's `compress`, `delaycompress`): it is told
//! from its first decompressed bytes and goes on where that content was read
//! up to — nothing if the original is still followed (it gives its own
//! lines), the rest if the original was truncated or deleted with lines not
//! read. Its position is checkpointed like a file's, so a restart goes on
//! where it stopped; an archive done is kept at its end.
//!
//! An archive still being written (a compressor at work) reads as cut short:
//! what it gave is emitted, and it is read on from there once it stops
//! changing; one that stays cut short is reported as damaged.

use std::{
    fs::File,
    io::{self, BufReader, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use super::{
    Batch, FINGERPRINT_BYTES, MIN_COPY_FINGERPRINT, MIN_SETTLE, TailLine, Tailer,
    known::{self, Before},
};
use crate::{
    model::RawLine,
    tail::{
        checkpoint::{FileCheckpoint, Fingerprint},
        discover::{self, FileKey, Stamp},
        read,
        split::LineSplitter,
    },
};

/// Where reading a content resumes: its position (offset and line number),
/// where following it began, and what was done with its lines before.
type Resume = ((u64, u64), (u64, u64), Before);

/// One archive being read, or read to its end.
pub(super) struct Archive {
    pub key: FileKey,
    pub path: PathBuf,
    display: Arc<str>,
    file: File,
    /// Fingerprint of its first decompressed bytes.
    fingerprint: Fingerprint,
    /// Position in the decompressed content.
    splitter: LineSplitter,
    /// The decoder, at the splitter's read position (`None`: built again
    /// from the start, skipping what was read).
    decoder: Option<Box<dyn Read + Send>>,
    /// Read to its end (or started at it).
    pub done: bool,
    from: (u64, u64),
    before: Before,
    /// Size and change times when last looked at, and since when unchanged.
    stamp: Stamp,
    changed: Instant,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("path", &self.path)
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

impl Archive {
    /// Where it stands, for the checkpoint.
    pub fn record(&self) -> FileCheckpoint {
        FileCheckpoint {
            dev: self.key.dev,
            ino: self.key.ino,
            fingerprint: self.fingerprint,
            offset: self.splitter.line_start(),
            line_no: self.splitter.next_line_no(),
            path: self.path.clone(),
            from_offset: self.from.0,
            from_line: self.from.1,
            link: None,
            head: Vec::new(),
            alerted: self.before.alerted,
        }
    }

    /// What the checkpoint's hash of positions covers.
    pub fn position(&self) -> (FileKey, u64, u64, bool) {
        (
            self.key,
            self.splitter.line_start(),
            self.splitter.next_line_no(),
            self.done,
        )
    }

    fn line(&self, raw: RawLine) -> TailLine {
        TailLine {
            key: self.key,
            path: Arc::clone(&self.display),
            seen: self.before.seen(raw.offset),
            raw,
        }
    }

    /// A decoder over the whole archive, from its first byte.
    fn decoder_from_start(&self) -> io::Result<Box<dyn Read + Send>> {
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        read::decompress(Box::new(BufReader::new(file)))
    }
}

/// The first decompressed bytes of the archive `file`, when they can tell
/// its content: [`FINGERPRINT_BYTES`] of them, or all of a shorter content
/// (`None` while it is cut short: a compressor at work, or damage).
fn decompressed_head(file: &File) -> io::Result<Option<Vec<u8>>> {
    let mut file = file.try_clone()?;
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(FINGERPRINT_BYTES);
    let reader = read::decompress(Box::new(BufReader::new(file)))?;
    match reader.take(FINGERPRINT_BYTES as u64).read_to_end(&mut head) {
        Ok(_) => Ok((!head.is_empty()).then_some(head)),
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
            ) =>
        {
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// Whether `head`, a content's first bytes, starts with what `fingerprint`
/// was taken of (at least [`MIN_COPY_FINGERPRINT`] bytes).
fn starts_with(head: &[u8], fingerprint: Fingerprint) -> bool {
    let len = fingerprint.len as usize;
    fingerprint.len >= MIN_COPY_FINGERPRINT
        && head.len() >= len
        && Fingerprint::of(&head[..len]) == fingerprint
}

impl Tailer {
    /// Starts reading the archive at `path` (opened as `file`), from where
    /// its content was read up to before (only if it was, when
    /// `known_only`: an archive no target names); `false` when it cannot be told
    /// yet (too little of it decompresses so far: looked at again when it
    /// changes).
    pub(super) fn start_archive(
        &mut self,
        path: &Path,
        key: FileKey,
        file: File,
        known_only: bool,
        now: Instant,
        out: &mut Batch,
    ) -> io::Result<bool> {
        if self.archived.iter().any(|a| a.key == key)
            || self.new_archives.iter().any(|(_, k, ..)| *k == key)
        {
            return Ok(true);
        }
        let meta = file.metadata()?;
        let Some(head) = decompressed_head(&file)? else {
            return Ok(false);
        };
        let fingerprint = Fingerprint::of(&head);
        let same_content = |theirs: &[u8]| super::same_start(theirs, &head);
        // Where its content was read up to: its own record (a restart), a
        // file followed now (which gives the lines itself), a truncated or
        // deleted content (a ghost), or a record of the previous run.
        //
        // Every record of its content counts, whatever identity it was
        // taken under: after a crash the index's commit may know the
        // content under its original's identity (read up to there) and the
        // data directory's checkpoint under the archive's (alerted up to
        // there); reading resumes at the index's position.
        // A ghost of the content (truncated or gone while followed, or
        // a record of it found nowhere) counts likewise.
        let mut end = false;
        let mut at = None;
        let record = known::take_merged(&mut self.known, |k| {
            starts_with(&head, k.fingerprint) || same_content(&k.head)
        })
        .map(|k| {
            let position = k.at.unwrap_or(k.from);
            (k.rank(), (position, k.from, k.before))
        });
        let of_it = |g: &super::Ghost| starts_with(&head, g.fingerprint) || same_content(&g.head);
        let live = self.files.iter().any(|t| same_content(&t.head));
        // (Of several ghosts of it, the surest and furthest, knowing what
        // all of them knew was alerted on.)
        let ghost = match (&record, live) {
            (None, true) => None,
            _ => self
                .ghosts
                .extract_if(.., |g| of_it(g))
                .map(|g| (g.rank, ((g.offset, g.line_no), g.from, g.before)))
                .reduce(|a, b| {
                    let (best, other) = match (b.0, b.1.0.0) > (a.0, a.1.0.0) {
                        true => (b, a),
                        false => (a, b),
                    };
                    (best.0, (best.1.0, best.1.1, best.1.2.merge(other.1.2)))
                }),
        };
        let further = |(rank, (position, ..)): &(u8, Resume)| (*rank, position.0);
        if let Some(r) = record.or(ghost) {
            let best = match ghost.filter(|_| record.is_some()) {
                Some(g) if further(&g) > further(&r) => (g.1.0, g.1.1, g.1.2.merge(r.1.2)),
                Some(g) => (r.1.0, r.1.1, r.1.2.merge(g.1.2)),
                None => r.1,
            };
            at = Some(best);
        } else if live {
            end = true;
        } else if known_only {
            return Ok(false);
        } else if self.starts_at_end() {
            end = true;
        }
        // (Started at its end, its length unknown: a position past any.
        // Following it begins there too: nothing of it is ever read, even
        // when the index's commit does not know it.)
        let ((offset, line_no), from, before) = match (end, at) {
            (true, _) => ((u64::MAX, 1), (u64::MAX, 1), Before::default()),
            (false, Some(at)) => at,
            (false, None) => ((0, 1), (0, 1), Before::default()),
        };
        let how = match (end, at.is_some()) {
            (true, _) => "a compressed copy of what is read already".to_owned(),
            (false, true) => {
                format!("a compressed copy; reading on from line {line_no} (byte {offset})")
            }
            (false, false) => "compressed; reading it from its start".to_owned(),
        };
        out.notices.push(format!("{}: {how}", path.display()));
        self.archived.push(Archive {
            key,
            path: path.to_path_buf(),
            display: Arc::from(path.display().to_string()),
            file,
            fingerprint,
            splitter: LineSplitter::resume(offset, line_no, self.options.max_line),
            decoder: None,
            done: end,
            from,
            before,
            stamp: discover::stamp(&meta),
            changed: now,
        });
        Ok(true)
    }

    /// Looks in `dirs` for an archive of the content `fingerprint` was
    /// taken of (a file of the previous run compressed and deleted while
    /// triage was stopped) and starts it: it goes on where that content
    /// was read up to. Whether one was found.
    pub(super) fn find_archive_of(
        &mut self,
        dirs: &[PathBuf],
        fingerprint: Fingerprint,
        now: Instant,
        out: &mut Batch,
    ) -> bool {
        if fingerprint.len < MIN_COPY_FINGERPRINT {
            return false;
        }
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                let Ok(file) = File::open(&path) else {
                    continue;
                };
                let Ok(meta) = file.metadata() else {
                    continue;
                };
                let key = FileKey::of(&meta);
                if !meta.is_file()
                    || self.files.iter().any(|t| t.key == key)
                    || self.archived.iter().any(|a| a.key == key)
                    || !super::read_head(&file, meta.len()).is_ok_and(|h| read::is_compressed(&h))
                {
                    continue;
                }
                if let Ok(Some(head)) = decompressed_head(&file)
                    && starts_with(&head, fingerprint)
                {
                    // Found in this poll already: started now, while the
                    // records of the previous run are at hand.
                    self.new_archives.retain(|(_, k, ..)| *k != key);
                    if self
                        .start_archive(&path, key, file, true, now, out)
                        .unwrap_or(false)
                    {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Reads on in the archives not done, a budget each.
    pub(super) fn read_archives(&mut self, now: Instant, out: &mut Batch) {
        let budget = self.options.read_budget;
        let mut buf = std::mem::take(&mut self.buf);
        for i in 0..self.archived.len() {
            if self.archived[i].done {
                continue;
            }
            let (max_line, settle) = (
                self.options.max_line,
                self.options.rotated_grace.max(MIN_SETTLE),
            );
            match read_archive(
                &mut self.archived[i],
                &mut buf,
                budget,
                (max_line, settle),
                now,
                out,
            ) {
                Ok(()) => {}
                Err(err) => {
                    let a = &mut self.archived[i];
                    a.done = true;
                    let (path, line_no) = (a.path.clone(), a.splitter.next_line_no());
                    let message = format!("a damaged archive, read up to line {line_no}: {err}");
                    self.problem(out, &path, message);
                }
            }
        }
        self.buf = buf;
    }
}

/// Reads `a` on, up to `budget` decompressed bytes. An archive cut short is
/// read on later while it changes; an error once it has settled is
/// returned.
fn read_archive(
    a: &mut Archive,
    buf: &mut [u8],
    budget: u64,
    (max_line, settle): (usize, Duration),
    now: Instant,
    out: &mut Batch,
) -> io::Result<()> {
    let stamp = discover::stamp(&a.file.metadata()?);
    if stamp != a.stamp {
        (a.stamp, a.changed) = (stamp, now);
    }
    if a.decoder.is_none() {
        let mut decoder = a.decoder_from_start()?;
        let skip = a.splitter.line_start();
        match io::copy(&mut (&mut decoder).take(skip), &mut io::sink()) {
            Ok(n) if n == skip => {}
            // Complete, and shorter than where its content was read up to
            // (lines were written between the copy and the truncation):
            // nothing left in it.
            Ok(_) => {
                a.done = true;
                return Ok(());
            }
            Err(err) => return cut_short(a, now, err, (max_line, settle)),
        }
        a.decoder = Some(decoder);
    }
    let mut lines = Vec::new();
    let mut read = 0;
    let result = loop {
        if read >= budget {
            out.more = true;
            break Ok(());
        }
        let Some(decoder) = a.decoder.as_mut() else {
            break Ok(());
        };
        match decoder.read(buf) {
            Ok(0) => {
                a.splitter.finish(&mut |raw| lines.push(raw));
                a.done = true;
                a.decoder = None;
                break Ok(());
            }
            Ok(n) => {
                read += n as u64;
                a.splitter.push(&buf[..n], &mut |raw| lines.push(raw));
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => break Err(err),
        }
    };
    out.lines.extend(lines.into_iter().map(|raw| a.line(raw)));
    match result {
        Ok(()) => Ok(()),
        Err(err) => cut_short(a, now, err, (max_line, settle)),
    }
}

/// The archive's stream ended early or is damaged: while the archive still
/// changes (a compressor at work), it is read again from the start of the
/// line it stopped in at a later poll; once it has settled, it is damaged.
fn cut_short(
    a: &mut Archive,
    now: Instant,
    err: io::Error,
    (max_line, settle): (usize, Duration),
) -> io::Result<()> {
    a.decoder = None;
    a.splitter = LineSplitter::resume(a.splitter.line_start(), a.splitter.next_line_no(), max_line);
    match now.duration_since(a.changed) >= settle {
        true => Err(err),
        false => Ok(()),
    }
}
