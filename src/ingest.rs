//! `triage ingest`: backfill the index from existing files and rotated
//! archives (plain, gzip, bzip2, zstd), exactly once.
//!
//! Wiring only. Events come from the scanner's line path
//! ([`Scanner::events`], then [`Scanner::process`] for the signatures each
//! matched), on this thread; documents go in batches through a bounded
//! channel to the indexing thread, which owns the index writer (tantivy
//! indexes on its own worker threads) and commits at most every
//! `commit_every` with, as commit payload, how far each file is indexed
//! (per file identity: events starting before `next` are in). A restart
//! after `kill -9` resumes each file there: nothing lost, nothing twice.
//! A file read to its end is remembered with its size: ingesting it again
//! adds nothing.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    config::Config,
    index::{self, Document, IndexError, Ingested, Store, Writer},
    library::Library,
    model::FileKey,
    scan::Scanner,
    tail::{
        discover::{self, Target},
        read::{Input, content_starts_with, identify},
    },
};

/// A line without its newline in a file written this recently may still be
/// being written: it is left for the next run (as `watch --partial-idle`).
const PARTIAL_IDLE: Duration = Duration::from_secs(5);
/// Files with other identities are taken for the same content only when at
/// least this many first bytes are known and equal.
const MIN_SAME_CONTENT: u32 = 64;

/// Events per batch handed to the indexing thread: large enough that the
/// channel costs nothing per event, small enough that a batch is a few
/// hundred kilobytes.
const BATCH: usize = 2048;
/// Batches in flight: keeps the indexing thread fed while this one parses,
/// and bounds memory; a slow index blocks parsing (never drops).
const BATCHES_IN_FLIGHT: usize = 4;

/// What `ingest` is asked to do.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Files, directories (read recursively) and globs.
    pub paths: Vec<PathBuf>,
    /// The index folder.
    pub index: PathBuf,
    /// Zone of timestamps written without one (unless the source says).
    pub zone: TimeZone,
    /// Line length cap.
    pub max_line: usize,
    /// Commit at most this often.
    pub commit_every: Duration,
    /// Tantivy indexing threads.
    pub threads: usize,
}

/// Progress, for a progress bar.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Files done (read, skipped or failed).
    pub files_done: usize,
    /// Files to do.
    pub files: usize,
    /// Bytes on disk of the files done, plus the part read of the current
    /// one (an estimate for archives).
    pub bytes_done: u64,
    /// Bytes on disk of all files.
    pub bytes: u64,
    /// Events indexed so far.
    pub events: u64,
    /// The file being read.
    pub current: String,
}

/// What `ingest` did.
#[derive(Debug, Default)]
pub struct Report {
    /// Files read (in full or from where a previous run stopped).
    pub files: usize,
    /// Files already fully indexed.
    pub unchanged: usize,
    /// Events added.
    pub events: u64,
    /// Bytes on disk of the files read.
    pub bytes: u64,
    /// Files that could not be read, with why.
    pub failed: Vec<(String, String)>,
}

/// A batch for the indexing thread, with the progress it completes.
struct Batch {
    docs: Vec<Document>,
    mark: Ingested,
}

/// Ingests `options.paths` into the index; per-file problems are in the
/// report, an index problem is the error.
pub fn ingest(
    options: &IngestOptions,
    library: &Library,
    config: &Config,
    stop: &AtomicBool,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Report, IndexError> {
    let mut report = Report::default();
    let store = Store::open(&options.index, true)?;
    // The index's own files are never logs to ingest (`triage ingest .`
    // with the data directory inside).
    let own = fs::canonicalize(&options.index).ok();
    let files = expand(&options.paths, own.as_deref(), &mut report.failed);
    let mut writer = store.writer(options.threads)?;
    writer.defer_merges();
    let state = writer.state().clone();
    let mut progress = Progress {
        files: files.len(),
        bytes: files.iter().map(|(_, len)| len).sum(),
        ..Progress::default()
    };
    let (send, receive) = mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT);
    let commit_every = options.commit_every;
    let failed = Arc::new(AtomicBool::new(false));
    let failed_flag = Arc::clone(&failed);
    let indexing = std::thread::Builder::new()
        .name("triage-index".to_owned())
        .spawn(move || {
            let result = index_batches(writer, &receive, commit_every);
            if result.is_err() {
                failed_flag.store(true, Ordering::SeqCst);
            }
            result
        })
        .map_err(|e| index::io_error(&options.index, e))?;
    let now = Timestamp::now();
    let reader = Scanner::new(library, config, options.zone.clone(), options.max_line, now);
    let mut matcher = Scanner::new(library, config, options.zone.clone(), options.max_line, now);
    let fields = *store.fields();
    for (path, _) in &files {
        if stop.load(Ordering::SeqCst) || failed.load(Ordering::SeqCst) {
            break;
        }
        progress.current = path.display().to_string();
        on_progress(&progress);
        match ingest_file(
            path,
            &state,
            (&reader, &mut matcher),
            &fields,
            &send,
            &failed,
            &mut progress,
            on_progress,
            stop,
        ) {
            Ok(FileOutcome::Unchanged(len)) => {
                report.unchanged += 1;
                progress.bytes_done += len;
            }
            Ok(FileOutcome::Read { len, events }) => {
                report.files += 1;
                report.events += events;
                report.bytes += len;
                progress.bytes_done += len;
            }
            Err(why) => {
                report.failed.push((path.display().to_string(), why));
                progress.bytes_done += fs::metadata(path).map_or(0, |m| m.len());
            }
        }
        progress.files_done += 1;
        on_progress(&progress);
    }
    drop(send);
    let written = indexing.join().map_err(|_| IndexError::Other {
        path: options.index.clone(),
        why: "the indexing thread failed".to_owned(),
    })?;
    written?;
    Ok(report)
}

enum FileOutcome {
    Unchanged(u64),
    Read { len: u64, events: u64 },
}

/// Reads one file from where the index has it, sending its events.
#[allow(clippy::too_many_arguments)]
fn ingest_file(
    path: &Path,
    state: &index::State,
    scanners: (&Scanner<'_>, &mut Scanner<'_>),
    fields: &index::Fields,
    send: &mpsc::SyncSender<Batch>,
    failed: &AtomicBool,
    progress: &mut Progress,
    on_progress: &mut dyn FnMut(&Progress),
    stop: &AtomicBool,
) -> Result<FileOutcome, String> {
    let id = identify(path).map_err(|e| e.to_string())?;
    // What the index has of this content: under this identity (the file
    // may have grown since), or under another with the same first bytes
    // (an archive compressed from a file ingested before, a copy).
    let same = |i: &&Ingested| content_starts_with(path, i.fingerprint).unwrap_or(false);
    let previous = state.ingested(id.key).filter(same).or_else(|| {
        state
            .ingested
            .iter()
            .filter(|i| i.key() != id.key && i.fingerprint.len >= MIN_SAME_CONTENT)
            .find(same)
    });
    if let Some(previous) = previous
        && previous.key() == id.key
        && previous.complete == Some(id.len)
    {
        return Ok(FileOutcome::Unchanged(id.len));
    }
    let resume = previous.map_or(0, |p| p.next);
    // A last line without its newline may still be being written: it waits
    // for its newline (the next `ingest` reads it whole), unless the file
    // has been quiet a while or is an archive.
    let settled = id.compressed
        || id
            .modified
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|quiet| quiet >= PARTIAL_IDLE);
    let origin = FileKey {
        dev: id.key.dev,
        ino: id.key.ino,
    };
    let mark = |next: u64, complete: Option<u64>| Ingested {
        dev: id.key.dev,
        ino: id.key.ino,
        fingerprint: id.fingerprint,
        next,
        complete,
        path: path.to_path_buf(),
    };
    let mut batch: Vec<Document> = Vec::with_capacity(BATCH);
    let mut last_offset: Option<u64> = None;
    let mut events = 0u64;
    let mut sent_ok = true;
    let base = progress.bytes_done;
    let events_before = progress.events;
    let mut last_report = Instant::now();
    let mut ids: Vec<&str> = Vec::new();
    let mut held: Option<(u64, Document)> = None;
    let input = Input::Path(path.to_path_buf());
    // Events are read by one scanner (shared borrow) and matched by the
    // other (exclusive): the same library and settings.
    let (reader, matcher) = scanners;
    let read = reader.events(&input, &mut |event, at| {
        if !sent_ok || event.offset < resume {
            return;
        }
        if batch.len() >= BATCH {
            // The batch ends just before this event.
            let docs = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            sent_ok = send
                .send(Batch {
                    docs,
                    mark: mark(event.offset, None),
                })
                .is_ok()
                && !failed.load(Ordering::Relaxed)
                && !stop.load(Ordering::Relaxed);
            if !sent_ok {
                return;
            }
        }
        // Alerts are not wanted here, only which signatures matched.
        let _ = matcher.process_at(&event, at, &mut Timestamp::now, &mut |_| Ok(()));
        ids.clear();
        ids.extend(matcher.matched().map(|s| s.id.as_str()));
        let doc = index::schema::document(fields, &event, at, origin, &ids);
        let offset = event.offset;
        if event.partial && !settled {
            held = Some((offset, doc));
            return;
        }
        batch.push(doc);
        last_offset = Some(offset);
        events += 1;
        if events.is_multiple_of(4096) && last_report.elapsed() > Duration::from_millis(100) {
            last_report = Instant::now();
            progress.bytes_done = base + offset.min(id.len);
            progress.events = events_before + events;
            on_progress(progress);
        }
    });
    progress.bytes_done = base;
    progress.events = events_before + events;
    if !sent_ok {
        return Err("stopped before the end".to_owned());
    }
    // Everything read is in: the end mark covers the last event (a read
    // error keeps what came before it; the file is not marked complete
    // then), but for a held partial line, where the next run starts.
    let (next, complete) = match held {
        Some((offset, _)) => (offset, None),
        None => (
            last_offset.map_or(resume, |o| (o + 1).max(resume)),
            read.is_ok().then_some(id.len),
        ),
    };
    send.send(Batch {
        docs: batch,
        mark: mark(next, complete),
    })
    .map_err(|_| "the index stopped".to_owned())?;
    read.map_err(|e| e.to_string())?;
    Ok(FileOutcome::Read {
        len: id.len,
        events,
    })
}

/// The indexing thread: adds each batch, records its mark, commits at most
/// every `commit_every` (and at the end).
fn index_batches(
    mut writer: Writer,
    batches: &mpsc::Receiver<Batch>,
    commit_every: Duration,
) -> Result<(), IndexError> {
    let mut last_commit = Instant::now();
    loop {
        match batches.recv_timeout(commit_every) {
            Ok(batch) => {
                writer.add_all(batch.docs)?;
                writer.state_mut().set_ingested(batch.mark);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if last_commit.elapsed() >= commit_every {
            writer.commit()?;
            last_commit = Instant::now();
        }
    }
    writer.finish()
}

/// Files, directories (recursively, sorted) and globs to regular files with
/// their sizes; what cannot be found is reported.
fn expand(
    paths: &[PathBuf],
    skip: Option<&Path>,
    failed: &mut Vec<(String, String)>,
) -> Vec<(PathBuf, u64)> {
    let mut out: Vec<(PathBuf, u64)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut add = |path: PathBuf, len: u64, key| {
        if seen.insert(key) {
            out.push((path, len));
        }
    };
    for path in paths {
        let text = path.to_string_lossy();
        if !path.exists() && crate::glob::is_glob(&text) {
            let mut errors = Vec::new();
            let found = discover::expand(&[Target::Glob(text.into_owned())], &mut errors);
            for (p, e) in errors {
                failed.push((p.display().to_string(), e.to_string()));
            }
            if found.is_empty() {
                failed.push((path.display().to_string(), "no file matches".to_owned()));
            }
            for f in found {
                add(f.path, f.len, f.key);
            }
            continue;
        }
        // Depth first, in sorted order; a symbolic link's target is walked
        // (a loop is reported, not followed forever).
        let walk = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                skip.is_none_or(|skip| {
                    !fs::canonicalize(e.path()).is_ok_and(|c| c.starts_with(skip))
                })
            });
        for entry in walk {
            let failure = |err: walkdir::Error| {
                let at = err.path().unwrap_or(path).display().to_string();
                // The I/O error alone ("Permission denied"): the path is said
                // beside it.
                let why = err
                    .io_error()
                    .map_or_else(|| err.to_string(), ToString::to_string);
                (at, why)
            };
            match entry.and_then(|e| Ok((e.metadata()?, e))) {
                Ok((meta, e)) if meta.is_file() => {
                    add(e.into_path(), meta.len(), FileKey::of(&meta));
                }
                Ok(_) => {}
                Err(err) => failed.push(failure(err)),
            }
        }
    }
    out
}
