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
    ffi::OsStr,
    fs::{self, File},
    io,
    os::unix::fs::{FileExt, MetadataExt},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant, SystemTime},
};

use memchr::{memchr_iter, memrchr2};

pub use self::known::Seen;
use self::known::{Before, Known};
use super::{
    checkpoint::{Checkpoint, FileCheckpoint, Fingerprint, VERSION},
    discover::{self, FileKey, Stamp, Target, stamp},
    read,
    split::{DEFAULT_MAX_LINE, LineSplitter},
    wake::{Changes, Wake},
};
use crate::model::RawLine;

/// Leading bytes covered by a fingerprint.
pub const FINGERPRINT_BYTES: usize = 256;
/// Asked to stop, how long the follower goes on reading what is left (the
/// rest of files deleted or rotated away while still open, which a restart
/// could not find again).
const STOP_DRAIN: Duration = Duration::from_secs(5);
/// A copy is recognised only by a fingerprint this long at least, so that two
/// files that merely start alike are not confused.
const MIN_COPY_FINGERPRINT: u32 = 16;
/// How much earlier than the clock a file's times may be (the kernel
/// stamps files with a coarse clock).
const COARSE_FILE_TIME: Duration = Duration::from_millis(20);
/// Files done with remembered, so that one is not started again as a
/// symlink's skipped target.
const DONE_WITH_KEPT: usize = 256;
/// Read buffer size.
const CHUNK: usize = 64 * 1024;
/// How long the content of a truncated file is remembered, for a copy of it
/// to appear.
const GHOST_LIFETIME: Duration = Duration::from_secs(60);
/// A new file that may yet become a copy (empty, or starting like a followed
/// file) is started as a file of its own once unchanged this long (or the
/// rotation grace, if longer).
const MIN_SETTLE: Duration = Duration::from_millis(500);

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
    /// Read compressed files the targets name (decompressed, exactly once:
    /// a compressed rotation goes on where its original was read up to);
    /// otherwise they are skipped.
    pub read_compressed: bool,
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
            read_compressed: false,
        }
    }
}

/// Descriptors kept for everything but log files (the index, the journal,
/// checkpoints, the terminal, change events).
const RESERVED_DESCRIPTORS: u64 = 128;

impl FollowOptions {
    /// These options with `max_open` within the process's open-file limit
    /// (`RLIMIT_NOFILE`): the soft limit is raised towards the hard one as
    /// far as `max_open` needs, and at most half of what it allows beyond
    /// [`RESERVED_DESCRIPTORS`] goes to log files. Says so (a warning) when
    /// that is fewer than asked.
    pub fn within_descriptor_limit(mut self) -> FollowOptions {
        let wanted = (self.max_open as u64).saturating_mul(2) + RESERVED_DESCRIPTORS;
        let soft = rlimit::increase_nofile_limit(wanted)
            .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
            .unwrap_or(1024);
        let allowed = usize::try_from(soft.saturating_sub(RESERVED_DESCRIPTORS) / 2)
            .unwrap_or(usize::MAX)
            .max(1);
        if allowed < self.max_open {
            tracing::warn!(
                "the open-file limit (ulimit -n) is {soft}: at most {allowed} log files are kept open at once (asked: {}); quiet ones are closed and opened again when they change",
                self.max_open
            );
            self.max_open = allowed;
        }
        self
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
    /// What happened to it before a restart (read again because the index
    /// resumes behind what was alerted on, or `ingest` indexed it).
    pub seen: Seen,
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
    /// Contents that ended in this poll (a followed file truncated or
    /// replaced: its lines from now on are of a new content), with the
    /// file a copy of that content goes on in (copytruncate's copy, read on
    /// from where the truncated file stopped), when one took it over in
    /// this same poll. An event still being assembled from the old content
    /// is complete, or goes on in the copy.
    pub restarted: Vec<(FileKey, Option<FileKey>)>,
    /// Some file has more to read than this poll read (its read budget or
    /// the batch's line limit stopped it): poll again at once.
    pub more: bool,
    /// Files read to an end at a page boundary: a write may be only partly
    /// visible yet (the kernel makes a write visible a page at a time), so
    /// an event that seems complete there may go on (a stack trace written
    /// at once): whoever assembles events waits for the next poll.
    pub unsettled: Vec<FileKey>,
}

/// The granularity at which a write becomes visible to readers: a file's
/// size seen during a write is a multiple of it.
const PAGE: u64 = 4096;

/// Which files a poll looks at.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Every target listed again and every file checked: the first poll,
    /// and the periodic safety net.
    All,
    /// The files change events named (paths in [`discover::normal`] form),
    /// and those looked at whatever happens: renamed away and draining,
    /// behind, holding a partial line, followed through a symlink.
    Changed(&'a HashSet<PathBuf>),
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
    /// Size and change times at the last check: an unchanged stamp means
    /// nothing new, so a quiet file is neither opened nor read.
    seen: Stamp,
    /// May hold bytes not read yet: its stamp changed, or the last read
    /// stopped before its end.
    dirty: bool,
    /// Where the symlink it is named through points: writes to it raise
    /// events in another directory, so it is looked at in every poll, and
    /// it is looked for there when gone.
    link: Option<PathBuf>,
    /// Where following this content began.
    from: (u64, u64),
    /// What was done with its lines before a restart.
    before: Before,
    last_growth: Instant,
    /// Followed through a symlink: when a poll last found the symlink
    /// pointing at it. Targets the symlink was switched to after that and
    /// away from before the next poll are found by their names.
    linked_at: Option<SystemTime>,
}

impl Tracked {
    fn line(&self, raw: RawLine) -> TailLine {
        TailLine {
            key: self.key,
            path: Arc::clone(&self.display),
            seen: self.before.seen(raw.offset),
            raw,
        }
    }
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
    /// that poll, marked partial (and the ghost goes on after it: its
    /// offset and line number after the part).
    held: Option<(RawLine, u64, u64)>,
    /// Its first bytes, when known (not for a ghost from a checkpoint).
    head: Vec<u8>,
    /// How sure its position is (see `Known::rank`): a content truncated
    /// while followed is as sure as reading itself.
    rank: u8,
    /// Where following the content began.
    from: (u64, u64),
    before: Before,
    link: Option<PathBuf>,
    since: Instant,
}

impl Ghost {
    /// The content `t` holds, read up to `(offset, line_no)`: as sure as
    /// reading itself.
    fn of(
        t: &Tracked,
        (offset, line_no): (u64, u64),
        held: Option<(RawLine, u64, u64)>,
        now: Instant,
    ) -> Ghost {
        Ghost {
            key: t.key,
            path: t.path.clone(),
            fingerprint: Fingerprint::of(&t.head),
            offset,
            line_no,
            held,
            head: t.head.clone(),
            rank: known::RESUME_RANK,
            from: t.from,
            before: t.before,
            link: t.link.clone(),
            since: now,
        }
    }

    /// A content known from before a restart and not found as it was.
    fn known(k: Known, now: Instant) -> Ghost {
        let (offset, line_no) = k.at.unwrap_or(k.from);
        Ghost {
            key: k.key,
            fingerprint: k.fingerprint,
            offset,
            line_no,
            held: None,
            rank: k.rank(),
            from: k.from,
            before: k.before,
            since: now,
            path: k.path,
            head: k.head,
            link: k.link,
        }
    }
}

/// A new file that may yet become a copy.
#[derive(Debug)]
struct Waiting {
    key: FileKey,
    /// Open, so that it is read even if renamed away before it is told
    /// apart.
    file: File,
    stamp: Stamp,
    /// When its stamp last changed.
    changed: Instant,
    /// When it was first seen.
    first: Instant,
}

/// What a new file turns out to be a copy of.
enum CopyOf {
    /// The content of a truncated file.
    Ghost(Box<Ghost>),
    /// A file still followed (copied, not yet truncated).
    Live,
}

/// The follower's state across polls.
#[derive(Debug)]
pub struct Tailer {
    targets: Vec<Target>,
    options: FollowOptions,
    files: Vec<Tracked>,
    /// Contents known from before a restart, not found yet.
    known: Vec<Known>,
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
    /// New files not started yet (a copy of a followed file, waiting for
    /// the original's truncation, or still being written): looked at in
    /// every poll, and drained if renamed away meanwhile.
    waiting: HashMap<PathBuf, Waiting>,
    /// Compressed files the targets name: not followed.
    archives: HashSet<FileKey>,
    /// Compressed files read (with `read_compressed`).
    archived: Vec<archive::Archive>,
    /// Compressed files found in this poll, started after its reads:
    /// (path, identity, file, only if a content read before is theirs).
    new_archives: Vec<(PathBuf, FileKey, File, bool)>,
    /// Said that there are more files than may be open at once.
    told_budget: bool,
    /// Files recently done with (drained and dropped): not started again
    /// as a symlink's skipped target.
    done_with: std::collections::VecDeque<FileKey>,
    /// The last checkpoint built, with the hash of the positions it holds.
    last_checkpoint: Option<(u64, Arc<Checkpoint>)>,
    /// When the newest checkpoint resumed from was taken: files last
    /// written before it were known to the previous run, or not followed.
    previous_until: Option<SystemTime>,
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
            known: checkpoint.files.iter().map(Known::resume).collect(),
            ghosts: Vec::new(),
            first_poll: true,
            reported: HashMap::new(),
            failing: HashSet::new(),
            next_read: 0,
            early: Vec::new(),
            waiting: HashMap::new(),
            archives: HashSet::new(),
            archived: Vec::new(),
            new_archives: Vec::new(),
            told_budget: false,
            done_with: std::collections::VecDeque::new(),
            last_checkpoint: None,
            previous_until: checkpoint.taken(),
            buf: vec![0; CHUNK],
        }
    }

    /// Also knows what was handed over before a restart, ahead of the
    /// checkpoint reading resumes from (the data directory's checkpoint when
    /// the index's commit is behind it): lines of those contents before
    /// its offsets come out as [`Seen::alerted`], and a content the resume
    /// checkpoint does not have is read from where following it began.
    pub fn handed_over(mut self, handed: &Checkpoint) -> Tailer {
        self.had_checkpoint |= !handed.files.is_empty();
        self.previous_until = self.previous_until.max(handed.taken());
        self.known.extend(handed.files.iter().map(Known::handed));
        self
    }

    /// Also knows what `ingest` indexed: `(identity, first bytes, next)`,
    /// lines of those contents before `next` come out as [`Seen::indexed`].
    pub fn ingested(
        mut self,
        files: impl IntoIterator<Item = (FileKey, Fingerprint, u64, PathBuf)>,
    ) -> Tailer {
        self.known.extend(
            files.into_iter().map(|(key, fingerprint, next, path)| {
                Known::ingested(key, fingerprint, next, path)
            }),
        );
        self
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
                from_offset: t.from.0,
                from_line: t.from.1,
                link: t.link.clone(),
                head: Vec::new(),
                alerted: t.before.alerted,
            })
            .collect();
        files.extend(self.ghosts.iter().map(|g| FileCheckpoint {
            dev: g.key.dev,
            ino: g.key.ino,
            fingerprint: g.fingerprint,
            offset: g.offset,
            line_no: g.line_no,
            path: g.path.clone(),
            from_offset: g.from.0,
            from_line: g.from.1,
            link: g.link.clone(),
            head: g.head.clone(),
            alerted: g.before.alerted,
        }));
        files.extend(self.archived.iter().map(archive::Archive::record));
        // Contents of the previous run not found yet (before the first
        // poll) where reading would resume.
        files.extend(self.known.iter().filter_map(|k| {
            let (offset, line_no) = k.at?;
            Some(FileCheckpoint {
                dev: k.key.dev,
                ino: k.key.ino,
                fingerprint: k.fingerprint,
                offset,
                line_no,
                path: k.path.clone(),
                from_offset: k.from.0,
                from_line: k.from.1,
                link: k.link.clone(),
                head: k.head.clone(),
                alerted: k.before.alerted,
            })
        }));
        let taken_ns = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Checkpoint {
            version: VERSION,
            files,
            taken_ns: Some(taken_ns),
        }
    }

    /// [`Tailer::checkpoint`], built again only when something in it moved
    /// (a cheap hash of the positions tells): an idle follower of thousands
    /// of files neither copies nor compares them at every poll.
    pub fn shared_checkpoint(&mut self) -> Arc<Checkpoint> {
        let hash = self.position_hash();
        match &self.last_checkpoint {
            Some((h, checkpoint)) if *h == hash => Arc::clone(checkpoint),
            _ => {
                let checkpoint = Arc::new(self.checkpoint());
                self.last_checkpoint = Some((hash, Arc::clone(&checkpoint)));
                checkpoint
            }
        }
    }

    /// A hash of everything [`Tailer::checkpoint`] holds.
    fn position_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for t in &self.files {
            (
                t.key,
                t.splitter.line_start(),
                t.splitter.next_line_no(),
                &t.path,
                t.from,
            )
                .hash(&mut h);
            (t.head.len(), &t.link).hash(&mut h);
        }
        for g in &self.ghosts {
            (g.key, g.offset, g.line_no, &g.path, g.fingerprint.hash).hash(&mut h);
        }
        for a in &self.archived {
            a.position().hash(&mut h);
        }
        (self.files.len(), self.ghosts.len(), self.known.len()).hash(&mut h);
        h.finish()
    }

    /// One round over everything: find files, notice rotations, read what
    /// is new.
    pub fn poll(&mut self, now: Instant, out: &mut Batch) {
        self.poll_in(Scope::All, now, out);
    }

    /// One round over `scope`: find files, notice rotations, read what is
    /// new. A file whose stamp has not changed is not opened.
    pub fn poll_in(&mut self, scope: Scope<'_>, now: Instant, out: &mut Batch) {
        let mut errors = Vec::new();
        // When the listing began: a symlink found pointing at a file then
        // pointed there at least until this moment; a target it was
        // switched to after, and written, is younger (taken after the
        // listing, a slow listing would hide it).
        let wall = SystemTime::now();
        // Files waiting to be told apart (a copy in progress) are looked at
        // in every poll.
        let found = match scope {
            Scope::All => discover::expand(&self.targets, &mut errors),
            Scope::Changed(paths) => discover::expand_some(
                &self.targets,
                paths.iter().chain(self.waiting.keys()),
                &mut errors,
            ),
        };
        for (path, err) in errors {
            self.problem(out, &path, err.to_string());
        }
        let names: HashSet<&OsStr> = match scope {
            Scope::All => HashSet::new(),
            Scope::Changed(paths) => paths.iter().filter_map(|p| p.file_name()).collect(),
        };
        let by_key: HashMap<FileKey, &discover::Found> = found.iter().map(|f| (f.key, f)).collect();
        // Symlink targets switched away from: (target, when last found).
        let mut switched: Vec<(PathBuf, SystemTime)> = Vec::new();
        // Known files: same content still? Renamed within the targets?
        for index in 0..self.files.len() {
            let t = &self.files[index];
            let at = by_key.get(&t.key).copied();
            // Only a listing of its name can tell a file is gone from it.
            let listed = match scope {
                Scope::All => true,
                Scope::Changed(paths) => paths.contains(&t.path),
            };
            let named = listed
                || at.is_some()
                || t.link.is_some()
                || t.path.file_name().is_some_and(|n| names.contains(n));
            if !named {
                continue;
            }
            let stamp = at.map(|f| f.stamp);
            match at {
                Some(f) => {
                    let t = &mut self.files[index];
                    if t.path != f.path {
                        out.notices
                            .push(format!("{} is now {}", t.display, f.path.display()));
                        t.path = f.path.clone();
                        t.display = Arc::from(f.path.display().to_string());
                        // Found through a symlink (a target started as one
                        // skipped, which the symlink points at now): followed
                        // through it from now on, so that the symlink's next
                        // switch away is one, and the targets it skips then
                        // are looked for.
                        if t.link.is_none() {
                            t.link = link_target(&f.path);
                        }
                    }
                    t.state = State::Live;
                    if t.link.is_some() {
                        t.linked_at = Some(wall);
                    }
                }
                None if listed && self.files[index].state == State::Live => {
                    let t = &mut self.files[index];
                    t.state = State::Gone;
                    t.last_growth = now;
                    // Renamed to a name no target matches (rotated): what
                    // is still read from it is in the file of that name
                    // now. (A file followed through a symlink keeps its
                    // name: the symlink moved, not the file.)
                    if t.link.is_none()
                        && let Some(name) = discover::find_in_dir(&discover::parent(&t.path), t.key)
                            .and_then(|p| p.file_name().map(OsStr::to_owned))
                    {
                        let renamed = t.path.with_file_name(name);
                        out.notices.push(format!(
                            "{} is now {}, no longer followed: reading what is left in it",
                            t.display,
                            renamed.display()
                        ));
                        t.display = Arc::from(renamed.display().to_string());
                    }
                    if let (Some(target), Some(at)) = (&t.link, t.linked_at) {
                        switched.push((target.clone(), at));
                    }
                }
                None => {}
            }
            self.check_content(index, stamp, now, out);
        }
        // New files. First, files of the previous run truncated or replaced
        // while triage was down leave a ghost, so that a copy of their old
        // content is recognised whatever order the names sort in.
        // Longest first: of a file and its copy (never longer than the
        // original), the original is started first and the copy waits.
        if matches!(scope, Scope::All) {
            self.archives
                .retain(|key| found.iter().any(|f| f.key == *key));
            self.archived
                .retain(|a| !a.done || found.iter().any(|f| f.key == a.key));
        }
        let tracked: HashSet<FileKey> = self
            .files
            .iter()
            .map(|t| t.key)
            .chain(self.archived.iter().map(|a| a.key))
            .collect();
        let mut new: Vec<&discover::Found> = found
            .iter()
            .filter(|f| !tracked.contains(&f.key) && !self.archives.contains(&f.key))
            .collect();
        new.sort_by(|a, b| b.len.cmp(&a.len).then_with(|| a.path.cmp(&b.path)));
        for f in &new {
            if !self.known.iter().any(|k| k.key == f.key) {
                continue;
            }
            let Ok(file) = File::open(&f.path) else {
                continue;
            };
            // (The records of an archive are of its decompressed content:
            // its start takes them.)
            if read_head(&file, f.len).is_ok_and(|head| read::is_compressed(&head)) {
                continue;
            }
            let same = self.claim(&file, f.key, f.len, now);
            self.known.extend(same);
        }
        for f in new {
            if let Err(err) = self.start(&f.path, f.key, None, State::Live, now, out) {
                self.problem(out, &f.path, err.to_string());
            }
        }
        // A symlink switched more than once since the last poll: the
        // targets in between were never seen. They are named as its targets
        // are (but for digits), and written since it was last seen.
        for (target, at) in switched {
            self.start_skipped_targets(&target, at, &found, now, out);
        }
        // Files opened early and renamed away since: drained as gone files.
        // (Those still under a target were handled above, started or, for a
        // copy of a followed file, left waiting.)
        let waiting: Vec<(FileKey, PathBuf, File)> = self
            .waiting
            .extract_if(|path, w| !found.iter().any(|f| f.key == w.key && f.path == *path))
            .map(|(path, w)| (w.key, path, w.file))
            .collect();
        for (key, path, file) in std::mem::take(&mut self.early).into_iter().chain(waiting) {
            if !found.iter().any(|f| f.key == key)
                && !self.files.iter().any(|t| t.key == key)
                && let Err(err) = self.start(&path, key, Some(file), State::Gone, now, out)
            {
                self.problem(out, &path, err.to_string());
            }
        }
        // A partial line of a truncated file that no copy took over: out,
        // and a copy found later goes on after it.
        for ghost in &mut self.ghosts {
            if let Some((raw, offset, line_no)) = ghost.held.take() {
                (ghost.offset, ghost.line_no) = (offset, line_no);
                out.lines.push(TailLine {
                    key: ghost.key,
                    path: Arc::from(ghost.path.display().to_string()),
                    seen: ghost.before.seen(raw.offset),
                    raw,
                });
            }
        }
        // Files of the previous run not found under any target: renamed away
        // (or their symlink switched) while triage was down or between two
        // commits? Look for them by identity in their directory and where
        // their symlink pointed; what is not found there is gone.
        if self.first_poll {
            let mut rotated = Vec::new();
            // Names of contents of the previous run found nowhere (deleted,
            // or compressed and deleted): files rotated after them while
            // triage was down are found by those names.
            let mut lost: Vec<PathBuf> = Vec::new();
            let mut keys: Vec<FileKey> = self.known.iter().map(|k| k.key).collect();
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                // (An archive started already may have taken the identity of
                // a file deleted since: records of another content it had
                // are still looked for.)
                if self.files.iter().any(|t| t.key == key)
                    || self.waiting.values().any(|w| w.key == key)
                    || !self.known.iter().any(|k| k.key == key)
                {
                    continue;
                }
                let dirs: Vec<PathBuf> = self
                    .known
                    .iter()
                    .filter(|k| k.key == key)
                    .flat_map(|k| [Some(&k.path), k.link.as_ref()])
                    .flatten()
                    .map(|p| discover::parent(p))
                    .collect();
                if let Some(path) = dirs.iter().find_map(|dir| discover::find_in_dir(dir, key))
                    && self
                        .start_from_record(&path, key, now, out)
                        .unwrap_or(false)
                {
                    rotated.push(path);
                    continue;
                }
                lost.extend(
                    self.known
                        .iter()
                        .filter(|k| k.key == key)
                        .flat_map(|k| [Some(k.path.clone()), k.link.clone()])
                        .flatten(),
                );
                if self.options.read_compressed {
                    // Compressed and deleted meanwhile (logrotate's
                    // `compress`): its archive, told by its content.
                    let prints: Vec<Fingerprint> = self
                        .known
                        .iter()
                        .filter(|k| k.key == key)
                        .map(|k| k.fingerprint)
                        .collect();
                    for fingerprint in prints {
                        self.find_archive_of(&dirs, fingerprint, now, out);
                    }
                }
                // Remembered a while, so that a copy of it (compressed or
                // not) appearing later is read from where it stopped. (Not
                // a content too short to be told by its first bytes: its
                // record would match whatever file takes its inode.)
                let records: Vec<Known> = self.known.extract_if(.., |k| k.key == key).collect();
                self.ghosts.extend(
                    records
                        .into_iter()
                        .filter(|k| k.fingerprint.len >= MIN_COPY_FINGERPRINT)
                        .map(|k| Ghost::known(k, now)),
                );
            }
            // Files rotated the same way after those, while triage was
            // down, were never seen: they are their successors.
            lost.sort();
            lost.dedup();
            let later: Vec<PathBuf> = rotated
                .iter()
                .flat_map(|path| later_rotations(path, self.previous_until))
                .chain(
                    lost.iter()
                        .flat_map(|path| rotations_of_lost(path, self.previous_until)),
                )
                .collect();
            for later in later {
                let Ok(meta) = fs::metadata(&later) else {
                    continue;
                };
                let key = FileKey::of(&meta);
                let known = self.files.iter().any(|t| t.key == key)
                    || self.archives.contains(&key)
                    || self.archived.iter().any(|a| a.key == key)
                    || found.iter().any(|f| f.key == key)
                    || self.copies_a_followed_file(&later);
                if !known && let Err(err) = self.start(&later, key, None, State::Gone, now, out) {
                    self.problem(out, &later, err.to_string());
                }
            }
        }
        if !self.known.is_empty() {
            self.forget_known_but_waiting();
        }
        // Start each poll at another file, so that when a poll ends at the
        // batch limit no file waits for long.
        let count = self.files.len();
        self.next_read = self.next_read.wrapping_add(1);
        for k in 0..count {
            let index = (self.next_read + k) % count;
            let t = &self.files[index];
            if !t.dirty && t.state == State::Live {
                continue;
            }
            if let Err(err) = self.read(index, now, out) {
                let path = self.files[index].path.clone();
                self.problem(out, &path, err.to_string());
            }
        }
        for (path, key, file, known_only) in std::mem::take(&mut self.new_archives) {
            if let Err(err) = self.start_archive(&path, key, file, known_only, now, out) {
                self.problem(out, &path, err.to_string());
            }
        }
        self.read_archives(now, out);
        self.finish_gone(now, out);
        self.flush_idle_partials(now, out);
        self.close_idle(now);
        if self.files.len() > self.options.max_open && !self.told_budget {
            self.told_budget = true;
            tracing::warn!(
                "following {} files with at most {} open at once (--max-open): quiet ones are closed and opened again when they change",
                self.files.len(),
                self.options.max_open
            );
        }
        let lifetime = self.options.rotated_grace.max(GHOST_LIFETIME);
        self.ghosts
            .retain(|g| now.duration_since(g.since) < lifetime);
        // A path that reads again is reported again when it next fails.
        let failing = std::mem::take(&mut self.failing);
        self.reported.retain(|path, _| failing.contains(path));
        self.first_poll = false;
    }

    /// Starts, as gone files, the targets a symlink pointed at between
    /// `target` (last found at `since`) and the one it points at now: in
    /// `target`'s directory, named as it is but for digits, not empty,
    /// written after `since`, and neither followed nor done with.
    fn start_skipped_targets(
        &mut self,
        target: &Path,
        since: SystemTime,
        found: &[discover::Found],
        now: Instant,
        out: &mut Batch,
    ) {
        // (File times are coarser than the clock: a little earlier.)
        let since = since.checked_sub(COARSE_FILE_TIME).unwrap_or(since);
        for path in rotations_since(target, since) {
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            let key = FileKey::of(&meta);
            let known = self.files.iter().any(|t| t.key == key)
                || self.done_with.contains(&key)
                || self.archives.contains(&key)
                || self.archived.iter().any(|a| a.key == key)
                || self.waiting.values().any(|w| w.key == key)
                || found.iter().any(|f| f.key == key);
            if known || meta.len() == 0 {
                continue;
            }
            out.notices.push(format!(
                "{}: a target of {} skipped between two looks; reading it",
                path.display(),
                target.display()
            ));
            if let Err(err) = self.start(&path, key, None, State::Gone, now, out) {
                self.problem(out, &path, err.to_string());
            }
        }
    }

    /// Opens files that appeared since the last poll without reading them:
    /// called while the consumer is behind, so a file created and rotated
    /// away between two polls is still read (within the descriptor budget).
    pub fn open_new_files(&mut self) {
        let found = discover::expand(&self.targets, &mut Vec::new());
        for f in found {
            if self.files.iter().any(|t| t.key == f.key)
                || self.early.iter().any(|(k, _, _)| *k == f.key)
            {
                continue;
            }
            if self.open_count() + self.early.len() >= self.options.max_open {
                break;
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
        // (Before opening: a symlink opened now pointed there at least
        // from this moment.)
        let opened_at = SystemTime::now();
        let file = match opened {
            Some(file) => file,
            None => {
                self.make_room(None);
                File::open(path)?
            }
        };
        let meta = file.metadata()?;
        if FileKey::of(&meta) != key {
            // Replaced between listing and opening: the next poll starts
            // what is there now. A symlink switched meanwhile pointed at
            // the listed file in between: it is read, as a gone file, found
            // by its inode beside the symlink's target now.
            if state == State::Live
                && let Some(target) = link_target(path)
                && let Some(listed) = discover::find_in_dir(&discover::parent(&target), key)
            {
                return self.start(&listed, key, None, State::Gone, now, out);
            }
            return Ok(());
        }
        let len = meta.len();
        let head = read_head(&file, len)?;
        // A rotated archive (`app.log.2.gz`, which a glob such as `app.log*`
        // matches) is not text to follow: `ingest` reads archives.
        if read::is_compressed(&head) && self.options.read_compressed {
            // Started after this poll's reads, when the heads of the files
            // it may be a compressed copy of are known.
            self.waiting.remove(path);
            self.new_archives
                .push((path.to_path_buf(), key, file, false));
            return Ok(());
        }
        if read::is_compressed(&head) {
            self.archives.insert(key);
            out.notices.push(format!(
                "{}: a compressed archive, not followed (`watch --read-compressed` and `triage ingest` read archives)",
                path.display()
            ));
            return Ok(());
        }
        let same = self.claim(&file, key, len, now);
        let before = same.as_ref().map(|k| k.before).unwrap_or_default();
        // Where reading resumed under this identity, and how sure that is
        // (see `Known::rank`): only the index's own position is certain; a
        // copy's content may be known better under its original's identity.
        let resumed = same
            .as_ref()
            .and_then(|k| Some((k.at?, k.from, k.before, k.rank())));
        // (A record of an empty file cannot tell its content from another
        // that took its inode since: that may be a copy.)
        let told = same.as_ref().is_some_and(|k| k.fingerprint.len > 0);
        let copy = match resumed {
            Some((.., rank)) if rank >= known::RESUME_RANK && told => None,
            _ => {
                let settled = state == State::Gone || self.settled(path, key, &meta, now);
                self.copy_of(&file, &head, len, settled)
            }
        };
        let copy = match (copy, resumed) {
            (Some(CopyOf::Ghost(ghost)), Some(((offset, _), _, _, rank)))
                if rank > ghost.rank || (rank == ghost.rank && offset >= ghost.offset) =>
            {
                None
            }
            (Some(CopyOf::Live), Some(_)) if told => None,
            (copy, _) => copy,
        };
        let (offset, line_no, from, before, how) =
            if let (None, Some(((offset, line_no), from, before, _))) = (&copy, resumed) {
                (offset, line_no, from, before, "resumed")
            } else if let Some(copy) = copy {
                match copy {
                    CopyOf::Ghost(ghost) if ghost.offset <= len => {
                        // Truncated in this poll: its content goes on here.
                        if let Some(ended) = out
                            .restarted
                            .iter_mut()
                            .find(|(from, to)| *from == ghost.key && to.is_none())
                        {
                            ended.1 = Some(key);
                        }
                        (
                            ghost.offset,
                            ghost.line_no,
                            ghost.from,
                            ghost.before.merge(before),
                            "a copy of a truncated file; reading what was not read of it",
                        )
                    }
                    // Lines were written between the copy and the truncation,
                    // and read: the copy holds nothing unread.
                    CopyOf::Ghost(ghost) => {
                        let (boundary, line_no) = last_line_boundary(&file, len)?;
                        let line_no = line_no + u64::from(boundary < len);
                        (
                            len,
                            line_no,
                            ghost.from,
                            ghost.before.merge(before),
                            "a copy of a truncated file, all read",
                        )
                    }
                    // A copy of a file still followed holds nothing the
                    // original will not give: it waits until the original is
                    // truncated (copytruncate), then reads on from where the
                    // original stopped; a file still being written may yet
                    // become a copy. Until then it is looked at each poll.
                    CopyOf::Live => {
                        self.known.extend(same);
                        let stamp = stamp(&meta);
                        let waiting = self.waiting.entry(path.to_path_buf()).or_insert(Waiting {
                            key,
                            file,
                            stamp,
                            changed: now,
                            first: now,
                        });
                        if waiting.stamp != stamp {
                            (waiting.stamp, waiting.changed) = (stamp, now);
                        }
                        return Ok(());
                    }
                }
            } else if self.starts_at_end() {
                let (offset, line_no) = last_line_boundary(&file, len)?;
                (
                    offset,
                    line_no,
                    (offset, line_no),
                    before,
                    "following from its end",
                )
            } else {
                (0, 1, (0, 1), before, "reading from its start")
            };
        self.waiting.remove(path);
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
            dirty: true,
            linked_at: state_linked(path, state, opened_at),
            link: link_target(path),
            from,
            before,
            last_growth: now,
        });
        Ok(())
    }

    /// Whether a new file at `path` (identity `key`) that may yet become a
    /// copy has waited long enough: unchanged for the rotation grace, or
    /// waiting for [`GHOST_LIFETIME`]. Not at first sight.
    fn settled(&self, path: &Path, key: FileKey, meta: &fs::Metadata, now: Instant) -> bool {
        let Some(w) = self.waiting.get(path).filter(|w| w.key == key) else {
            return false;
        };
        let changed = if w.stamp == stamp(meta) {
            w.changed
        } else {
            now
        };
        now.duration_since(changed) >= self.options.rotated_grace.max(MIN_SETTLE)
            || now.duration_since(w.first) >= GHOST_LIFETIME
    }

    /// The merged record of what was known before of the content `file`
    /// (identity `key`, length `len`) holds now; records of its earlier
    /// contents (truncated or replaced since) become ghosts, so a copy of
    /// them is recognised whatever order names sort in.
    fn claim(&mut self, file: &File, key: FileKey, len: u64, now: Instant) -> Option<Known> {
        if !self.known.iter().any(|k| k.key == key) {
            return None;
        }
        let (same, earlier) = known::claim(&mut self.known, key, file, len);
        self.ghosts
            .extend(earlier.into_iter().map(|k| Ghost::known(k, now)));
        same
    }

    /// Follows, as gone, a file of the previous run found renamed away;
    /// whether it still holds the content known (an archive that took its
    /// inode since is started as an archive).
    fn start_from_record(
        &mut self,
        path: &Path,
        key: FileKey,
        now: Instant,
        out: &mut Batch,
    ) -> io::Result<bool> {
        self.make_room(None);
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let len = meta.len();
        if FileKey::of(&meta) != key {
            return Ok(false);
        }
        // (Its inode taken by an archive since: an archive is started as
        // one, or not at all.)
        if read::is_compressed(&read_head(&file, len)?) {
            if self.options.read_compressed {
                self.new_archives
                    .push((path.to_path_buf(), key, file, true));
            }
            return Ok(false);
        }
        let Some(k) = self.claim(&file, key, len, now) else {
            return Ok(false);
        };
        // A record of an empty file cannot tell it from a copy of a
        // followed file that took its inode since.
        if k.fingerprint.len == 0 && self.copies_a_followed_file(path) {
            return Ok(false);
        }
        let (offset, line_no) = k.at.unwrap_or(k.from);
        out.notices.push(format!(
            "{}: renamed while triage was stopped; draining it",
            path.display()
        ));
        self.files.push(Tracked {
            key,
            path: path.to_path_buf(),
            display: Arc::from(path.display().to_string()),
            head: read_head(&file, len)?,
            splitter: LineSplitter::resume(offset, line_no, self.options.max_line),
            read_pos: offset,
            handle: Some(file),
            state: State::Gone,
            seen: stamp(&meta),
            dirty: true,
            link: link_target(path),
            from: k.from,
            before: k.before,
            last_growth: now,
            linked_at: None,
        });
        Ok(true)
    }

    fn starts_at_end(&self) -> bool {
        match self.options.start {
            StartAt::Beginning => false,
            StartAt::End => self.first_poll,
            StartAt::Auto => self.first_poll && !self.had_checkpoint,
        }
    }

    /// What a new file that starts like a truncated or followed file is a
    /// copy of (copytruncate, with the copy's name matching a target).
    ///
    /// Of a truncated file's content (its fingerprint, the first
    /// [`FINGERPRINT_BYTES`] of the original or all of it when shorter, at
    /// least [`MIN_COPY_FINGERPRINT`] bytes): it goes on where that stopped.
    /// Unless `settled`, a file whose bytes so far are the start of a
    /// followed file's or a truncated file's content — empty, or a copy
    /// still being written — may yet become a copy: it waits.
    fn copy_of(&mut self, file: &File, head: &[u8], len: u64, settled: bool) -> Option<CopyOf> {
        // Lines written between the copy and the truncation make the copy
        // shorter than the content's fingerprint: then it is the start of
        // the content (as far as it is known).
        let copies = |g: &Ghost| {
            g.fingerprint.len >= MIN_COPY_FINGERPRINT
                && match u64::from(g.fingerprint.len) <= len {
                    true => prefix_matches(file, g.fingerprint, len),
                    false => {
                        head.len() >= MIN_COPY_FINGERPRINT as usize && g.head.starts_with(head)
                    }
                }
        };
        if let Some(i) = self.ghosts.iter().rposition(copies) {
            return Some(CopyOf::Ghost(Box::new(self.ghosts.remove(i))));
        }
        if settled {
            return None;
        }
        // (Heads are at most `FINGERPRINT_BYTES` long: a complete copy of a
        // longer file has the same head.)
        let starts =
            |known: &[u8]| known.len() >= MIN_COPY_FINGERPRINT as usize && known.starts_with(head);
        let may_be = self.files.iter().any(|t| starts(&t.head))
            || self.ghosts.iter().any(|g| starts(&g.head));
        may_be.then_some(CopyOf::Live)
    }

    /// Drops what is known from before a restart but of copies still
    /// waiting (kept for them, and for the checkpoint if triage stops
    /// before they start).
    fn forget_known_but_waiting(&mut self) {
        let waiting: HashSet<FileKey> = self.waiting.values().map(|w| w.key).collect();
        self.known.retain(|k| waiting.contains(&k.key));
    }

    /// Whether the file at `path` holds the start of a file followed now
    /// (a copy made since the last checkpoint, as copytruncate makes): the
    /// original gives its lines.
    fn copies_a_followed_file(&self, path: &Path) -> bool {
        let Ok(head) = File::open(path).and_then(|f| {
            let len = f.metadata()?.len();
            read_head(&f, len)
        }) else {
            return false;
        };
        self.files
            .iter()
            .any(|t| t.state == State::Live && same_start(&t.head, &head))
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
            State::Gone => [Some(&t.path), t.link.as_ref()]
                .into_iter()
                .flatten()
                .find_map(|p| discover::find_in_dir(&discover::parent(p), t.key)),
        };
        let Some(path) = path else { return Ok(false) };
        self.make_room(Some(index));
        let file = File::open(&path)?;
        if FileKey::of(&file.metadata()?) != self.files[index].key {
            return Ok(false);
        }
        self.files[index].handle = Some(file);
        Ok(true)
    }

    /// Closes the least recently grown open file (followed under its name,
    /// so it can be opened again; not `keep`) when the descriptor budget is
    /// spent.
    fn make_room(&mut self, keep: Option<usize>) {
        if self.open_count() + self.early.len() + self.waiting.len() < self.options.max_open {
            return;
        }
        let lru = (0..self.files.len())
            .filter(|&i| Some(i) != keep)
            .filter(|&i| self.files[i].handle.is_some() && self.files[i].state == State::Live)
            .min_by_key(|&i| self.files[i].last_growth);
        if let Some(i) = lru {
            self.files[i].handle = None;
        }
    }

    /// Notices growth, truncation or replacement of a known file (same
    /// inode, other content; it starts over). `listed`: its stamp as the
    /// listing found it. A closed file whose stamp has not changed is not
    /// opened.
    fn check_content(
        &mut self,
        index: usize,
        listed: Option<Stamp>,
        now: Instant,
        out: &mut Batch,
    ) {
        let t = &self.files[index];
        if t.state == State::Gone {
            return;
        }
        let unchanged = match (listed, &t.handle) {
            (Some(stamp), _) => stamp == t.seen,
            (None, Some(handle)) => handle.metadata().is_ok_and(|m| stamp(&m) == t.seen),
            (None, None) => {
                fs::metadata(&t.path).is_ok_and(|m| FileKey::of(&m) == t.key && stamp(&m) == t.seen)
            }
        };
        if unchanged || !matches!(self.ensure_open(index), Ok(true)) {
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
        t.dirty = true;
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
        let held = held.map(|raw| (raw, t.splitter.line_start(), t.splitter.next_line_no()));
        self.ghosts.push(Ghost::of(t, (offset, line_no), held, now));
        out.restarted.push((t.key, None));
        out.notices.push(format!(
            "{}: truncated or replaced; reading from its start",
            t.display
        ));
        t.head = now_head;
        t.splitter = LineSplitter::new(self.options.max_line);
        t.read_pos = 0;
        t.from = (0, 1);
        t.before = Before::default();
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
            t.dirty = false;
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
            let (display, key, before) = (&t.display, t.key, t.before);
            t.splitter.push(&self.buf[..n], &mut |raw| {
                lines.push(TailLine {
                    key,
                    path: Arc::clone(display),
                    seen: before.seen(raw.offset),
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
        // Stopped by the budget or the batch limit: more to read at once.
        t.dirty = t.read_pos < len;
        out.more |= t.dirty;
        if t.read_pos == len && len % PAGE == 0 && t.read_pos > before.1 {
            out.unsettled.push(t.key);
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
            if t.state != State::Gone {
                index += 1;
                continue;
            }
            let drained = match &t.handle {
                Some(handle) => handle.metadata().map_or(true, |m| m.len() <= t.read_pos),
                None => true,
            };
            let deleted = t
                .handle
                .as_ref()
                .is_some_and(|h| h.metadata().is_ok_and(|m| m.nlink() == 0));
            if drained && (deleted || now.duration_since(t.last_growth) >= grace) {
                emit_partial(t, out);
                // Its content, read to its end, is remembered for a while
                // when archives are read: a compressed copy of it holds
                // nothing new.
                if self.options.read_compressed && t.head.len() >= MIN_COPY_FINGERPRINT as usize {
                    let at = (t.splitter.line_start(), t.splitter.next_line_no());
                    let ghost = Ghost::of(t, at, None, now);
                    self.ghosts.push(ghost);
                }
                let t = &mut self.files[index];
                out.notices.push(format!(
                    "{}: rotated away or deleted; done with it",
                    t.display
                ));
                let key = t.key;
                self.files.remove(index);
                if self.done_with.len() >= DONE_WITH_KEPT {
                    self.done_with.pop_front();
                }
                self.done_with.push_back(key);
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
            let holds_part = t.splitter.line_start() < t.read_pos;
            if holds_part && !t.dirty && now.duration_since(t.last_growth) >= idle {
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
    let mut held = None;
    t.splitter.finish(&mut |raw| held = Some(raw));
    if let Some(raw) = held {
        out.lines.push(t.line(raw));
    }
}

/// The files rotated the same way as `rotated` (a file of the previous run
/// found renamed away, or where its symlink pointed) after it: in its
/// directory, named as it is but for digits (`app.log.2` → `app.log.3`,
/// `log-20261205` → `log-20261206`; compressed archives are not followed),
/// and last written after it and after the previous run's last checkpoint
/// (`previous_until`: what was written before, that run saw or did not
/// follow). Oldest first.
fn later_rotations(rotated: &Path, previous_until: Option<SystemTime>) -> Vec<PathBuf> {
    let shape = |name: &OsStr| -> String {
        name.to_string_lossy()
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect()
    };
    let (Some(name), Ok(since)) = (
        rotated.file_name(),
        fs::metadata(rotated).and_then(|m| m.modified()),
    ) else {
        return Vec::new();
    };
    let since = since.max(previous_until.unwrap_or(SystemTime::UNIX_EPOCH));
    let shape_of = shape(name);
    let Ok(entries) = fs::read_dir(discover::parent(rotated)) else {
        return Vec::new();
    };
    let mut later: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != name && shape(&e.file_name()) == shape_of)
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(fs::Metadata::is_file)?;
            let modified = meta.modified().ok().filter(|m| *m > since)?;
            Some((modified, e.path()))
        })
        .collect();
    later.sort();
    later.into_iter().map(|(_, path)| path).collect()
}

/// The files rotated from the name `lost` (a content of the previous run
/// found nowhere: deleted, or compressed and deleted, while triage was
/// down) while triage was down: in its directory, named as it is but for
/// digits, or its name with a suffix (`app.log` → `app.log.3`,
/// `app.log-20261205`), a compression extension aside, and last written
/// after the previous run's last checkpoint (`previous_until`; without one,
/// none). Oldest first.
fn rotations_of_lost(lost: &Path, previous_until: Option<SystemTime>) -> Vec<PathBuf> {
    let (Some(name), Some(since)) = (lost.file_name(), previous_until) else {
        return Vec::new();
    };
    let name = name.to_string_lossy().into_owned();
    let shape_of = rotation_shape(&name);
    let Ok(entries) = fs::read_dir(discover::parent(lost)) else {
        return Vec::new();
    };
    let mut later: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let other = e.file_name().to_string_lossy().into_owned();
            other != name
                && (rotation_shape(&other) == shape_of
                    || other
                        .strip_prefix(&name)
                        .is_some_and(|rest| rest.starts_with(['.', '-', '_'])))
        })
        .filter_map(|e| {
            // (An empty one holds nothing yet: it may be a copy being
            // made, of a file followed now.)
            let meta = e.metadata().ok().filter(|m| m.is_file() && m.len() > 0)?;
            let modified = meta.modified().ok().filter(|m| *m > since)?;
            Some((modified, e.path()))
        })
        .collect();
    later.sort();
    later.into_iter().map(|(_, path)| path).collect()
}

/// A file name without its digits and its compression extension: the
/// names one rotation scheme gives have one shape (`log.3.gz`, `log.4`).
fn rotation_shape(name: &str) -> String {
    let plain = [".gz", ".bz2", ".zst"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name);
    plain.chars().filter(|c| !c.is_ascii_digit()).collect()
}

/// The files in `path`'s directory named as it is but for digits (a
/// compression extension aside) and last written after `since`, oldest
/// first.
fn rotations_since(path: &Path, since: SystemTime) -> Vec<PathBuf> {
    let Some(name) = path.file_name() else {
        return Vec::new();
    };
    let name = name.to_string_lossy().into_owned();
    let shape_of = rotation_shape(&name);
    let Ok(entries) = fs::read_dir(discover::parent(path)) else {
        return Vec::new();
    };
    let mut later: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let other = e.file_name().to_string_lossy().into_owned();
            other != name && rotation_shape(&other) == shape_of
        })
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(fs::Metadata::is_file)?;
            let modified = meta.modified().ok().filter(|m| *m > since)?;
            Some((modified, e.path()))
        })
        .collect();
    later.sort();
    later.into_iter().map(|(_, path)| path).collect()
}

/// When a file followed under `path` was last found through its symlink:
/// `at` (when it was opened through it), if `path` is one it is followed
/// under.
fn state_linked(path: &Path, state: State, at: SystemTime) -> Option<SystemTime> {
    (state == State::Live && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()))
        .then_some(at)
}

/// Where `path` points when it is a symlink.
fn link_target(path: &Path) -> Option<PathBuf> {
    fs::symlink_metadata(path)
        .is_ok_and(|m| m.file_type().is_symlink())
        .then(|| fs::canonicalize(path).ok())
        .flatten()
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
/// Whether two contents' first bytes (each at least
/// [`MIN_COPY_FINGERPRINT`] long) are the start of one content.
fn same_start(a: &[u8], b: &[u8]) -> bool {
    a.len().min(b.len()) >= MIN_COPY_FINGERPRINT as usize && (a.starts_with(b) || b.starts_with(a))
}

fn read_head(file: &File, len: u64) -> io::Result<Vec<u8>> {
    read_prefix(file, (len as usize).min(FINGERPRINT_BYTES))
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
    /// Where every file is read up to after this batch (the same `Arc` as
    /// the previous delivery's when nothing moved).
    pub checkpoint: Arc<Checkpoint>,
    /// Files followed, for status displays.
    pub files: usize,
    /// The follower stopped after this batch.
    pub last: bool,
}

/// Batches in flight between the follower and its consumer. A slow consumer
/// blocks the follower (back-pressure), it never loses lines.
const CHANNEL_BATCHES: usize = 4;

/// With change events covering every target, everything is still listed
/// and checked this often (at least every poll interval): the safety net
/// for events a file system does not deliver.
const SAFETY_LISTING: Duration = Duration::from_secs(5);

/// Runs a tailer on its own thread until `stop` is set; the last delivery
/// carries the partial lines flushed at shutdown.
///
/// Each poll looks at what change events named (and at files that need a
/// look whatever happens); everything is listed and checked at the first
/// poll, every [`SAFETY_LISTING`], when events may have been lost, and at
/// every poll when events are off or do not cover every target.
pub fn spawn(
    mut tailer: Tailer,
    options: RunOptions,
    stop: Arc<AtomicBool>,
) -> io::Result<(mpsc::Receiver<Delivery>, thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::sync_channel::<Delivery>(CHANNEL_BATCHES);
    let mut wake = Wake::new(&tailer.targets, options.use_notify);
    let listing_every = SAFETY_LISTING.max(options.poll_interval);
    let handle = thread::Builder::new().name("tail".into()).spawn(move || {
        let mut listed: Option<Instant> = None;
        let mut stop_seen: Option<Instant> = None;
        loop {
            if stop_seen.is_none() && stop.load(Ordering::SeqCst) {
                stop_seen = Some(Instant::now());
            }
            let mut batch = Batch::default();
            let now = Instant::now();
            let changes: Changes = wake.take();
            // (Stopping, everything is looked at: what an event has not
            // named yet may be read now or never.)
            if changes.all
                || stop_seen.is_some()
                || !wake.watching()
                || listed.is_none_or(|at| now.duration_since(at) >= listing_every)
            {
                tailer.poll(now, &mut batch);
                listed = Some(now);
            } else {
                tailer.poll_in(Scope::Changed(&changes.paths), now, &mut batch);
            }
            // Asked to stop, what is left to read is read first (for
            // a while): a deleted file still open cannot be read again
            // after a restart.
            let stopping = stop_seen.is_some_and(|at| !batch.more || at.elapsed() >= STOP_DRAIN);
            if stopping {
                tailer.shutdown(&mut batch);
            }
            let busy = !batch.lines.is_empty() || batch.more;
            let delivery = Delivery {
                checkpoint: tailer.shared_checkpoint(),
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
                        wake.wait(options.poll_interval);
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
            wake.wait(options.poll_interval);
        }
    })?;
    Ok((rx, handle))
}

mod archive;
mod known;
#[cfg(test)]
mod tests;
