//! Following files through rotation, truncation, deletion and restarts:
//! every line comes out once, none is lost, none comes out twice.
//!
//! [`Tailer::poll`] is the whole algorithm, synchronous and deterministic
//! (the clock is passed in), so a model-based test can drive it step by
//! step. [`spawn`] runs it on a thread, woken by `notify` events with a
//! periodic poll as the safety net: correctness never depends on an event
//! arriving.
//!
//! Identity: a file is its device and inode, checked against a fingerprint
//! of its first bytes (so a reused inode or a truncated-and-rewritten file is
//! told apart from the file that was there). What each kind of rotation does:
//!
//! - rename (move and create): the old file keeps its inode, so it is found
//!   again under its new name (or, when no target matches that name, by
//!   looking for its inode in its directory) and drained to its end; the new
//!   file is read from its start.
//! - copytruncate / truncation: the size drops below what was read, or the
//!   first bytes change; the file is read again from its start. A copy that
//!   a glob also matches starts with the fingerprint of the file it was
//!   copied from and is read from where that file was read up to, so no line
//!   is read twice.
//! - delete and re-create: the open descriptor drains the deleted file; the
//!   new one is read from its start.
//! - a symlink pointed at a new file: as a rename.
//!
//! A line without its newline is held until the rest arrives, and emitted
//! (marked partial) at shutdown, after `partial_idle`, or when its file is
//! truncated or gone. The checkpoint of a file is the start of its first
//! line not yet emitted.

use std::{
    collections::{HashMap, HashSet},
    fs::File,
    io,
    os::unix::fs::{FileExt, MetadataExt},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use memchr::{memchr_iter, memrchr2};

use super::{
    checkpoint::{Checkpoint, FileCheckpoint, Fingerprint, VERSION},
    discover::{self, FileKey, Target},
    split::{DEFAULT_MAX_LINE, LineSplitter},
};
use crate::model::RawLine;

/// Leading bytes covered by a fingerprint.
pub const FINGERPRINT_BYTES: usize = 256;
/// A copy is recognised only by a fingerprint this long at least, so that two
/// files that merely start alike are not confused.
const MIN_COPY_FINGERPRINT: u32 = 16;
/// Read buffer size.
const CHUNK: usize = 64 * 1024;
/// How long the content of a truncated file is remembered, for a copy of it
/// to appear.
const GHOST_LIFETIME: Duration = Duration::from_secs(60);

/// How files are followed.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Cap on one line's length.
    pub max_line: usize,
    /// Where to start in a file never seen before.
    pub start: StartAt,
    /// Emit a held partial line after its file has been quiet this long.
    pub partial_idle: Option<Duration>,
    /// Keep reading a file renamed away (or deleted) this long after it last
    /// grew: writers take a moment to reopen their log.
    pub rotated_grace: Duration,
    /// Most files kept open at once; quiet ones are closed and reopened when
    /// they change.
    pub max_open: usize,
    /// A file quiet this long is closed.
    pub idle_close: Duration,
    /// Bytes read from one file per poll, so one busy file cannot starve the
    /// others.
    pub read_budget: u64,
    /// Lines per poll (about: a read in progress finishes its chunk). Each
    /// poll's lines are checkpointed together, so this bounds what a crash
    /// can make `watch` print twice.
    pub max_batch_lines: usize,
}

impl Default for FollowOptions {
    fn default() -> FollowOptions {
        FollowOptions {
            max_line: DEFAULT_MAX_LINE,
            start: StartAt::Auto,
            partial_idle: Some(Duration::from_secs(5)),
            rotated_grace: Duration::from_secs(5),
            max_open: 512,
            idle_close: Duration::from_secs(60),
            read_budget: 8 << 20,
            max_batch_lines: 4096,
        }
    }
}

/// Where reading starts in a file with no checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// At the end for files present at the first start (like `tail -F`);
    /// at the start for files that appear later, or that appeared since the
    /// last checkpoint.
    Auto,
    /// Always at the start.
    Beginning,
    /// At the end for files present when `watch` starts; files that appear
    /// later are still read from their start.
    End,
}

/// One line read from a followed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailLine {
    /// The file's identity.
    pub key: FileKey,
    /// The name the file had when the line was read.
    pub path: Arc<str>,
    /// The line with its offset and number in that file.
    pub raw: RawLine,
}

/// A file that cannot be read right now (reported once until it recovers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Which file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

/// What one poll produced.
#[derive(Debug, Default)]
pub struct Batch {
    /// Lines, in file order per file.
    pub lines: Vec<TailLine>,
    /// Files that could not be read (new problems only).
    pub problems: Vec<Problem>,
    /// Files started, rotated or truncated, for the log.
    pub notices: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A target names it.
    Live,
    /// No target names it any more: drained, then dropped.
    Gone,
}

#[derive(Debug)]
struct Tracked {
    key: FileKey,
    path: PathBuf,
    display: Arc<str>,
    /// The file's first bytes (up to [`FINGERPRINT_BYTES`]) as last verified:
    /// the content that `read_pos` and the splitter refer to.
    head: Vec<u8>,
    splitter: LineSplitter,
    read_pos: u64,
    handle: Option<File>,
    state: State,
    /// Size and mtime at the last check, to skip unchanged files cheaply.
    seen: (u64, i64, i64),
    last_growth: Instant,
}

/// The content a truncated or replaced file had, as far as it was read: a
/// copy of it (copytruncate) goes on from there. Ghosts are checkpointed, so
/// a copy first seen after a restart is recognised too.
#[derive(Debug)]
struct Ghost {
    key: FileKey,
    path: PathBuf,
    fingerprint: Fingerprint,
    /// Start of the first line not emitted.
    offset: u64,
    line_no: u64,
    /// The partial line the file held when it was truncated. copytruncate
    /// copies before it truncates, so a copy is there in the same poll: it
    /// reads the line whole. Without one, the part is emitted at the end of
    /// that poll, marked partial.
    held: Option<RawLine>,
    since: Instant,
}

/// What a new file turns out to be a copy of.
enum CopyOf {
    /// The content of a truncated file.
    Ghost(Ghost),
    /// A file still followed (copied, not yet truncated).
    Live,
}

/// The follower's state across polls.
#[derive(Debug)]
pub struct Tailer {
    targets: Vec<Target>,
    options: FollowOptions,
    files: Vec<Tracked>,
    resume: Vec<FileCheckpoint>,
    ghosts: Vec<Ghost>,
    first_poll: bool,
    had_checkpoint: bool,
    /// Problems reported and not yet recovered from, by path.
    reported: HashMap<PathBuf, String>,
    /// Paths with a problem in the current poll.
    failing: HashSet<PathBuf>,
    /// Where the next poll starts reading.
    next_read: usize,
    /// Files that appeared while the consumer was behind, opened at once so
    /// that a quick rotation cannot take them away unread; started at the
    /// next poll.
    early: Vec<(FileKey, PathBuf, File)>,
    buf: Vec<u8>,
}

impl Tailer {
    /// A tailer for `targets`, resuming from `checkpoint` (empty for none).
    pub fn new(targets: Vec<Target>, options: FollowOptions, checkpoint: Checkpoint) -> Tailer {
        Tailer {
            targets,
            options,
            files: Vec::new(),
            had_checkpoint: !checkpoint.files.is_empty(),
            resume: checkpoint.files,
            ghosts: Vec::new(),
            first_poll: true,
            reported: HashMap::new(),
            failing: HashSet::new(),
            next_read: 0,
            early: Vec::new(),
            buf: vec![0; CHUNK],
        }
    }

    /// Files being followed now.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Files open now.
    pub fn open_count(&self) -> usize {
        self.files.iter().filter(|f| f.handle.is_some()).count()
    }

    /// Where every file is read up to: the start of its first line not yet
    /// emitted. Ghosts of truncated files (so a copy found after a restart
    /// goes on where the original stopped) and files of the previous run
    /// not found yet are kept.
    pub fn checkpoint(&self) -> Checkpoint {
        let mut files: Vec<FileCheckpoint> = self
            .files
            .iter()
            .map(|t| FileCheckpoint {
                dev: t.key.dev,
                ino: t.key.ino,
                fingerprint: Fingerprint::of(&t.head),
                offset: t.splitter.line_start(),
                line_no: t.splitter.next_line_no(),
                path: t.path.clone(),
            })
            .collect();
        files.extend(self.ghosts.iter().map(|g| FileCheckpoint {
            dev: g.key.dev,
            ino: g.key.ino,
            fingerprint: g.fingerprint,
            offset: g.offset,
            line_no: g.line_no,
            path: g.path.clone(),
        }));
        files.extend(self.resume.iter().cloned());
        Checkpoint {
            version: VERSION,
            files,
        }
    }

    /// One round: find files, notice rotations, read what is new.
    pub fn poll(&mut self, now: Instant, out: &mut Batch) {
        let mut errors = Vec::new();
        let found = discover::expand(&self.targets, &mut errors);
        for (path, err) in errors {
            self.problem(out, &path, err.to_string());
        }
        // Known files: same content still? Renamed within the targets?
        for index in 0..self.files.len() {
            let at = found.iter().find(|f| f.key == self.files[index].key);
            match at {
                Some(f) => {
                    let t = &mut self.files[index];
                    if t.path != f.path {
                        out.notices
                            .push(format!("{} is now {}", t.display, f.path.display()));
                        t.path = f.path.clone();
                        t.display = Arc::from(f.path.display().to_string());
                    }
                    t.state = State::Live;
                }
                None if self.files[index].state == State::Live => {
                    self.files[index].state = State::Gone;
                    self.files[index].last_growth = now;
                }
                None => {}
            }
            self.check_content(index, now, out);
        }
        // New files. First, files of the previous run truncated or replaced
        // while triage was down leave a ghost, so that a copy of their old
        // content is recognised whatever order the names sort in.
        let new: Vec<&discover::Found> = found
            .iter()
            .filter(|f| !self.files.iter().any(|t| t.key == f.key))
            .collect();
        for f in &new {
            let Ok(file) = File::open(&f.path) else {
                continue;
            };
            let mut i = 0;
            while i < self.resume.len() {
                if self.resume[i].key() == f.key && !record_matches(&file, &self.resume[i], f.len) {
                    let r = self.resume.swap_remove(i);
                    self.ghosts.push(Ghost {
                        key: r.key(),
                        path: r.path,
                        fingerprint: r.fingerprint,
                        offset: r.offset,
                        line_no: r.line_no,
                        held: None,
                        since: now,
                    });
                } else {
                    i += 1;
                }
            }
        }
        for f in new {
            if let Err(err) = self.start(&f.path, f.key, None, State::Live, now, out) {
                self.problem(out, &f.path, err.to_string());
            }
        }
        // Files opened early and renamed away since: drained as gone files.
        // (Those still under a target were handled above, started or, for a
        // copy of a followed file, left waiting.)
        for (key, path, file) in std::mem::take(&mut self.early) {
            if !found.iter().any(|f| f.key == key)
                && !self.files.iter().any(|t| t.key == key)
                && let Err(err) = self.start(&path, key, Some(file), State::Gone, now, out)
            {
                self.problem(out, &path, err.to_string());
            }
        }
        // A partial line of a truncated file that no copy took over.
        for ghost in &mut self.ghosts {
            if let Some(raw) = ghost.held.take() {
                out.lines.push(TailLine {
                    key: ghost.key,
                    path: Arc::from(ghost.path.display().to_string()),
                    raw,
                });
            }
        }
        // Files of the previous run not found under any target: renamed away
        // while triage was down? Look for them in their directory.
        if self.first_poll {
            for record in std::mem::take(&mut self.resume) {
                if self.files.iter().any(|t| t.key == record.key()) {
                    continue;
                }
                if let Some(path) =
                    discover::find_in_dir(&discover::parent(&record.path), record.key())
                {
                    let _ = self.start_from_record(&path, &record, now, out);
                }
            }
        }
        // Start each poll at another file, so that when a poll ends at the
        // batch limit no file waits for long.
        let count = self.files.len();
        self.next_read = self.next_read.wrapping_add(1);
        for k in 0..count {
            let index = (self.next_read + k) % count;
            if let Err(err) = self.read(index, now, out) {
                let path = self.files[index].path.clone();
                self.problem(out, &path, err.to_string());
            }
        }
        self.finish_gone(now, out);
        self.flush_idle_partials(now, out);
        self.close_idle(now);
        let lifetime = self.options.rotated_grace.max(GHOST_LIFETIME);
        self.ghosts
            .retain(|g| now.duration_since(g.since) < lifetime);
        // A path that reads again is reported again when it next fails.
        let failing = std::mem::take(&mut self.failing);
        self.reported.retain(|path, _| failing.contains(path));
        self.first_poll = false;
    }

    /// Opens files that appeared since the last poll without reading them:
    /// called while the consumer is behind, so a file created and rotated
    /// away between two polls is still read.
    pub fn open_new_files(&mut self) {
        let found = discover::expand(&self.targets, &mut Vec::new());
        for f in found {
            if self.files.iter().any(|t| t.key == f.key)
                || self.early.iter().any(|(k, _, _)| *k == f.key)
            {
                continue;
            }
            if let Ok(file) = File::open(&f.path)
                && file.metadata().is_ok_and(|m| FileKey::of(&m) == f.key)
            {
                self.early.push((f.key, f.path, file));
            }
        }
    }

    /// Emits every held partial line: the tailer is stopping.
    pub fn shutdown(&mut self, out: &mut Batch) {
        for t in &mut self.files {
            emit_partial(t, out);
        }
    }

    fn problem(&mut self, out: &mut Batch, path: &Path, message: String) {
        self.failing.insert(path.to_path_buf());
        if self.reported.get(path) != Some(&message) {
            self.reported.insert(path.to_path_buf(), message.clone());
            out.problems.push(Problem {
                path: path.to_path_buf(),
                message,
            });
        }
    }

    /// Starts following a file not followed yet.
    fn start(
        &mut self,
        path: &Path,
        key: FileKey,
        opened: Option<File>,
        state: State,
        now: Instant,
        out: &mut Batch,
    ) -> io::Result<()> {
        let file = match opened {
            Some(file) => file,
            None => File::open(path)?,
        };
        let meta = file.metadata()?;
        if FileKey::of(&meta) != key {
            return Ok(()); // Replaced between listing and opening: next poll.
        }
        let len = meta.len();
        let head = read_head(&file, len)?;
        let record = self
            .resume
            .iter()
            .position(|r| r.key() == key)
            .map(|i| self.resume.swap_remove(i))
            .filter(|r| record_matches(&file, r, len));
        let (offset, line_no, how) = if let Some(r) = record {
            (r.offset, r.line_no, "resumed")
        } else if let Some(copy) = self.copy_of(&file, &head, len) {
            match copy {
                CopyOf::Ghost(ghost) => (
                    ghost.offset,
                    ghost.line_no,
                    "a copy of a truncated file; reading what was not read of it",
                ),
                // A copy of a file still followed holds nothing the original
                // will not give: it waits until the original is truncated
                // (copytruncate), then reads on from where the original
                // stopped. Until then it is looked at again each poll.
                CopyOf::Live => return Ok(()),
            }
        } else if self.starts_at_end() {
            let (offset, line_no) = last_line_boundary(&file, len)?;
            (offset, line_no, "following from its end")
        } else {
            (0, 1, "reading from its start")
        };
        out.notices.push(format!(
            "{}: {how} (line {line_no}, byte {offset})",
            path.display()
        ));
        self.files.push(Tracked {
            key,
            path: path.to_path_buf(),
            display: Arc::from(path.display().to_string()),
            head,
            splitter: LineSplitter::resume(offset, line_no, self.options.max_line),
            read_pos: offset,
            handle: Some(file),
            state,
            seen: stamp(&meta),
            last_growth: now,
        });
        Ok(())
    }

    /// Follows, as gone, a file of the previous run found renamed away.
    fn start_from_record(
        &mut self,
        path: &Path,
        record: &FileCheckpoint,
        now: Instant,
        out: &mut Batch,
    ) -> io::Result<()> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let len = meta.len();
        if FileKey::of(&meta) != record.key() || !record_matches(&file, record, len) {
            return Ok(());
        }
        out.notices.push(format!(
            "{}: renamed while triage was stopped; draining it",
            path.display()
        ));
        self.files.push(Tracked {
            key: record.key(),
            path: path.to_path_buf(),
            display: Arc::from(path.display().to_string()),
            head: read_head(&file, len)?,
            splitter: LineSplitter::resume(record.offset, record.line_no, self.options.max_line),
            read_pos: record.offset,
            handle: Some(file),
            state: State::Gone,
            seen: stamp(&meta),
            last_growth: now,
        });
        Ok(())
    }

    fn starts_at_end(&self) -> bool {
        match self.options.start {
            StartAt::Beginning => false,
            StartAt::End => self.first_poll,
            StartAt::Auto => self.first_poll && !self.had_checkpoint,
        }
    }

    /// Where a file that starts like a truncated or followed file was read up
    /// to: it is a copy of it (copytruncate, with the copy's name matching a
    /// target). The fingerprint compared covers the first
    /// [`FINGERPRINT_BYTES`] of the original, or all of it when shorter, and
    /// at least [`MIN_COPY_FINGERPRINT`] bytes.
    fn copy_of(&mut self, file: &File, head: &[u8], len: u64) -> Option<CopyOf> {
        if head.len() < MIN_COPY_FINGERPRINT as usize {
            return None;
        }
        let matches = |fp: Fingerprint, offset: u64| {
            fp.len >= MIN_COPY_FINGERPRINT && offset <= len && prefix_matches(file, fp, len)
        };
        if let Some(i) = self
            .ghosts
            .iter()
            .rposition(|g| matches(g.fingerprint, g.offset))
        {
            return Some(CopyOf::Ghost(self.ghosts.remove(i)));
        }
        // A copy may still be being written: what it has so far is the start
        // of a followed file's content (or the other way round).
        let live = self.files.iter().any(|t| {
            t.head.len() >= MIN_COPY_FINGERPRINT as usize
                && (t.head.starts_with(head) || head.starts_with(&t.head))
        });
        live.then_some(CopyOf::Live)
    }

    /// Opens the file again if it was closed; `false` when it cannot be
    /// found any more.
    fn ensure_open(&mut self, index: usize) -> io::Result<bool> {
        let t = &mut self.files[index];
        if t.handle.is_some() {
            return Ok(true);
        }
        let path = match t.state {
            State::Live => Some(t.path.clone()),
            State::Gone => discover::find_in_dir(&discover::parent(&t.path), t.key),
        };
        let Some(path) = path else { return Ok(false) };
        let file = File::open(&path)?;
        if FileKey::of(&file.metadata()?) != t.key {
            return Ok(false);
        }
        t.handle = Some(file);
        Ok(true)
    }

    /// Notices truncation or replacement of a known file (same inode, other
    /// content) and starts it over.
    fn check_content(&mut self, index: usize, now: Instant, out: &mut Batch) {
        if self.files[index].state == State::Gone || !matches!(self.ensure_open(index), Ok(true)) {
            return;
        }
        let t = &mut self.files[index];
        let Some(handle) = &t.handle else { return };
        let Ok(meta) = handle.metadata() else { return };
        let stamp = stamp(&meta);
        if stamp == t.seen {
            return;
        }
        t.seen = stamp;
        let len = meta.len();
        let Ok(now_head) = read_head(handle, len) else {
            return;
        };
        if len >= t.read_pos && now_head.starts_with(&t.head) {
            // Same content, maybe grown: a longer head now lets a copy of it
            // found in this same poll be recognised.
            if now_head.len() > t.head.len() {
                t.head = now_head;
            }
            return;
        }
        let (offset, line_no) = (t.splitter.line_start(), t.splitter.next_line_no());
        let mut held = None;
        t.splitter.finish(&mut |raw| held = Some(raw));
        self.ghosts.push(Ghost {
            key: t.key,
            path: t.path.clone(),
            fingerprint: Fingerprint::of(&t.head),
            offset,
            line_no,
            held,
            since: now,
        });
        out.notices.push(format!(
            "{}: truncated or replaced; reading from its start",
            t.display
        ));
        t.head = now_head;
        t.splitter = LineSplitter::new(self.options.max_line);
        t.read_pos = 0;
        t.last_growth = now;
    }

    /// Reads what is new in file `index`, up to the read budget.
    fn read(&mut self, index: usize, now: Instant, out: &mut Batch) -> io::Result<()> {
        if !self.ensure_open(index)? {
            return Ok(());
        }
        let t = &mut self.files[index];
        let handle = t.handle.as_ref().expect("ensure_open opened it");
        let len = handle.metadata()?.len();
        let end = len.min(t.read_pos + self.options.read_budget);
        if t.read_pos >= end {
            return Ok(());
        }
        let before = (t.splitter.clone(), t.read_pos);
        let mut lines = Vec::new();
        while t.read_pos < end && out.lines.len() + lines.len() < self.options.max_batch_lines {
            let want = ((end - t.read_pos) as usize).min(self.buf.len());
            let n = handle.read_at(&mut self.buf[..want], t.read_pos)?;
            if n == 0 {
                break;
            }
            let display = &t.display;
            let key = t.key;
            t.splitter.push(&self.buf[..n], &mut |raw| {
                lines.push(TailLine {
                    key,
                    path: Arc::clone(display),
                    raw,
                });
            });
            t.read_pos += n as u64;
        }
        // Was the file truncated or replaced while it was being read? Then
        // what was read may be the new content at the old position: forget
        // this read; the next poll starts the new content over.
        let len_now = handle.metadata()?.len();
        let head = read_head(handle, len_now)?;
        if len_now < t.read_pos || !head.starts_with(&t.head) {
            (t.splitter, t.read_pos) = before;
            return Ok(());
        }
        if head.len() > t.head.len() {
            t.head = head;
        }
        if t.read_pos > before.1 {
            t.last_growth = now;
        }
        out.lines.append(&mut lines);
        Ok(())
    }

    /// Drops gone files once drained and quiet for the grace period.
    fn finish_gone(&mut self, now: Instant, out: &mut Batch) {
        let grace = self.options.rotated_grace;
        let mut index = 0;
        while index < self.files.len() {
            let t = &mut self.files[index];
            let drained = match &t.handle {
                Some(handle) => handle.metadata().map_or(true, |m| m.len() <= t.read_pos),
                None => true,
            };
            let deleted = t
                .handle
                .as_ref()
                .is_some_and(|h| h.metadata().is_ok_and(|m| m.nlink() == 0));
            if t.state == State::Gone
                && drained
                && (deleted || now.duration_since(t.last_growth) >= grace)
            {
                emit_partial(t, out);
                out.notices.push(format!(
                    "{}: rotated away or deleted; done with it",
                    t.display
                ));
                self.files.remove(index);
            } else {
                index += 1;
            }
        }
    }

    fn flush_idle_partials(&mut self, now: Instant, out: &mut Batch) {
        let Some(idle) = self.options.partial_idle else {
            return;
        };
        for t in &mut self.files {
            // A file this poll did not read to its end (the batch was full)
            // has not gone quiet: it was not looked at.
            let unread = t
                .handle
                .as_ref()
                .is_some_and(|h| h.metadata().is_ok_and(|m| m.len() > t.read_pos));
            if !unread && now.duration_since(t.last_growth) >= idle {
                emit_partial(t, out);
            }
        }
    }

    /// Closes quiet files, and the least recently grown ones beyond the
    /// budget. Gone files stay open until drained.
    fn close_idle(&mut self, now: Instant) {
        for t in &mut self.files {
            if t.state == State::Live
                && now.duration_since(t.last_growth) >= self.options.idle_close
            {
                t.handle = None;
            }
        }
        let open = self.open_count();
        if open > self.options.max_open {
            let mut candidates: Vec<usize> = (0..self.files.len())
                .filter(|&i| self.files[i].handle.is_some() && self.files[i].state == State::Live)
                .collect();
            candidates.sort_by_key(|&i| self.files[i].last_growth);
            for i in candidates.into_iter().take(open - self.options.max_open) {
                self.files[i].handle = None;
            }
        }
    }
}

fn emit_partial(t: &mut Tracked, out: &mut Batch) {
    let key = t.key;
    let display = &t.display;
    t.splitter.finish(&mut |raw| {
        out.lines.push(TailLine {
            key,
            path: Arc::clone(display),
            raw,
        });
    });
}

/// Size, mtime and ctime (seconds and nanoseconds folded).
fn stamp(meta: &std::fs::Metadata) -> (u64, i64, i64) {
    (
        meta.len(),
        meta.mtime()
            .wrapping_mul(1_000_000_000)
            .wrapping_add(meta.mtime_nsec()),
        meta.ctime()
            .wrapping_mul(1_000_000_000)
            .wrapping_add(meta.ctime_nsec()),
    )
}

fn read_prefix(file: &File, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    let mut filled = 0;
    while filled < len {
        let n = file.read_at(&mut buf[filled..], filled as u64)?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    buf.truncate(filled);
    Ok(buf)
}

/// A file's first bytes, up to [`FINGERPRINT_BYTES`].
fn read_head(file: &File, len: u64) -> io::Result<Vec<u8>> {
    read_prefix(file, (len as usize).min(FINGERPRINT_BYTES))
}

/// Whether a checkpoint record still describes the file: it is long enough
/// and starts with the same bytes.
fn record_matches(file: &File, record: &FileCheckpoint, len: u64) -> bool {
    record.offset <= len && prefix_matches(file, record.fingerprint, len)
}

/// Whether the file starts with the bytes `fingerprint` was taken of.
fn prefix_matches(file: &File, fingerprint: Fingerprint, len: u64) -> bool {
    if u64::from(fingerprint.len) > len {
        return false;
    }
    read_prefix(file, fingerprint.len as usize).is_ok_and(|bytes| {
        bytes.len() == fingerprint.len as usize && Fingerprint::of(&bytes) == fingerprint
    })
}

/// The offset after the last line terminator before `len`, and the number of
/// the line that starts there: where `tail -F` would start.
fn last_line_boundary(file: &File, len: u64) -> io::Result<(u64, u64)> {
    let mut buf = vec![0u8; CHUNK];
    // Find the last terminator.
    let mut end = len;
    let mut boundary = 0;
    while end > 0 {
        let start = end.saturating_sub(CHUNK as u64);
        let n = (end - start) as usize;
        file.read_exact_at(&mut buf[..n], start)?;
        if let Some(i) = memrchr2(b'\n', b'\r', &buf[..n]) {
            boundary = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    // Count the lines before it: LF, CRLF and bare CR each end one line.
    let mut lines = 0u64;
    let mut pos = 0;
    while pos < boundary {
        let n = ((boundary - pos) as usize).min(CHUNK);
        file.read_exact_at(&mut buf[..n], pos)?;
        let chunk = &buf[..n];
        lines += memchr_iter(b'\n', chunk).count() as u64;
        for i in memchr_iter(b'\r', chunk) {
            let at = pos + i as u64 + 1;
            let next_is_lf = match chunk.get(i + 1) {
                Some(&b) => b == b'\n',
                None => {
                    at < len && {
                        let mut one = [0u8];
                        file.read_exact_at(&mut one, at).is_ok() && one[0] == b'\n'
                    }
                }
            };
            if !next_is_lf {
                lines += 1;
            }
        }
        pos += n as u64;
    }
    Ok((boundary, lines + 1))
}

/// Options of the follower thread.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How often to poll when no event arrives.
    pub poll_interval: Duration,
    /// Use `notify` events as wake-ups (off for file systems that do not
    /// deliver them, such as NFS).
    pub use_notify: bool,
}

/// A batch handed from the follower thread to its consumer, with the
/// checkpoint that holds once the consumer has processed it.
#[derive(Debug)]
pub struct Delivery {
    /// What the poll produced.
    pub batch: Batch,
    /// Where every file is read up to after this batch.
    pub checkpoint: Checkpoint,
    /// Files followed, for status displays.
    pub files: usize,
    /// The follower stopped after this batch.
    pub last: bool,
}

/// Batches in flight between the follower and its consumer. A slow consumer
/// blocks the follower (back-pressure), it never loses lines.
const CHANNEL_BATCHES: usize = 4;

/// Runs a tailer on its own thread until `stop` is set; the last delivery
/// carries the partial lines flushed at shutdown.
pub fn spawn(
    mut tailer: Tailer,
    options: RunOptions,
    stop: Arc<AtomicBool>,
) -> io::Result<(mpsc::Receiver<Delivery>, thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::sync_channel::<Delivery>(CHANNEL_BATCHES);
    let (wake_tx, wake_rx) = mpsc::channel::<()>();
    let watcher = if options.use_notify {
        watcher(&tailer.targets, wake_tx)
    } else {
        None
    };
    let handle = thread::Builder::new().name("tail".into()).spawn(move || {
        let _watcher = watcher;
        loop {
            let stopping = stop.load(Ordering::SeqCst);
            let mut batch = Batch::default();
            tailer.poll(Instant::now(), &mut batch);
            if stopping {
                tailer.shutdown(&mut batch);
            }
            let busy = !batch.lines.is_empty();
            let delivery = Delivery {
                checkpoint: tailer.checkpoint(),
                files: tailer.file_count(),
                batch,
                last: stopping,
            };
            // While the consumer is behind, keep opening files that appear,
            // so none is rotated away unseen; the delivery waits its turn.
            let mut delivery = delivery;
            loop {
                match tx.try_send(delivery) {
                    Ok(()) => break,
                    Err(mpsc::TrySendError::Disconnected(_)) => return,
                    Err(mpsc::TrySendError::Full(back)) => {
                        delivery = back;
                        tailer.open_new_files();
                        let _ = wake_rx.recv_timeout(options.poll_interval);
                    }
                }
            }
            if stopping {
                return;
            }
            if busy {
                // More may be waiting beyond the read budget.
                continue;
            }
            match wake_rx.recv_timeout(options.poll_interval) {
                Ok(()) => while wake_rx.try_recv().is_ok() {},
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => thread::sleep(options.poll_interval),
            }
        }
    })?;
    Ok((rx, handle))
}

/// A `notify` watcher on the directories of the targets that sends a wake-up
/// per event; `None` when none can be set up (polling still works).
fn watcher(targets: &[Target], wake: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    let mut watcher = notify::recommended_watcher(move |_event: notify::Result<notify::Event>| {
        let _ = wake.send(());
    })
    .ok()?;
    for target in targets {
        let (dir, recursive) = target.watch_dir();
        let mode = if recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        if let Err(err) = watcher.watch(&dir, mode) {
            tracing::info!(dir = %dir.display(), %err, "no change events for this directory; polling it");
        }
    }
    Some(watcher)
}

#[cfg(test)]
mod tests;
