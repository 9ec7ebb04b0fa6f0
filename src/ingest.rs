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
//! adds nothing. Records are of contents (identity *and* first bytes): a
//! new file on a reused inode, or a truncated one, gets its own record
//! beside the old content's, which still tells that content by its first
//! bytes wherever it turns up again (an archive compressed from it after
//! the plain file was deleted).

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
        checkpoint::Fingerprint,
        discover::{self, Target},
        follow::FINGERPRINT_BYTES,
        read::{Input, content_head, identify_with_head},
    },
};

/// A line without its newline in a file written this recently may still be
/// being written: it is left for the next run (as `watch --partial-idle`).
const PARTIAL_IDLE: Duration = Duration::from_secs(5);
/// Files with other identities are taken for the same content only when at
/// least this many first bytes are known and equal.
const MIN_SAME_CONTENT: u32 = 64;
/// Records kept per identity (device and inode) of contents another
/// content took it over from (a file deleted, its inode reused): the old
/// content may live on under another name, compressed, and must be known
/// there. Beyond this many, the oldest is forgotten (it bounds the state a
/// long life of rotations leaves in every commit).
const RECORDS_PER_IDENTITY: usize = 4;

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
    /// The fingerprint of the record of this content under this identity
    /// that `mark` moves on (its fingerprint may have been taken of fewer
    /// bytes); `None` when there is none yet.
    continues: Option<Fingerprint>,
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
    let (id, head) = identify_with_head(path).map_err(|e| e.to_string())?;
    // What the index has of this content: under this identity (the file
    // may have grown since), or under another with the same first bytes
    // (an archive compressed from a file ingested before, a copy; the
    // record of a file deleted since is kept even when a new file got its
    // inode). Several records of one content: the one read furthest.
    let same = |i: &&Ingested| i.fingerprint.is_prefix_of(&head);
    let previous = state
        .ingested
        .iter()
        .filter(|i| i.key() == id.key)
        .filter(same)
        .max_by_key(|i| i.next)
        .or_else(|| {
            state
                .ingested
                .iter()
                .filter(|i| i.key() != id.key && i.fingerprint.len >= MIN_SAME_CONTENT)
                .filter(same)
                .max_by_key(|i| i.next)
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
    // The record this run moves on, and the fingerprint its records are
    // written with: taken again, of more bytes, while the file had fewer
    // than `FINGERPRINT_BYTES` when it was opened (so that a compressed
    // copy, found once this file is gone, is told by enough of them).
    let mut continues = previous
        .filter(|p| p.key() == id.key)
        .map(|p| p.fingerprint);
    let mut fingerprint = id.fingerprint;
    let mut mark = |next: u64, complete: Option<u64>| {
        if (fingerprint.len as usize) < FINGERPRINT_BYTES
            && let Ok(now) = content_head(path)
            && now.len() > head.len()
            && now.starts_with(&head)
        {
            fingerprint = Fingerprint::of(&now);
        }
        let mark = Ingested {
            dev: id.key.dev,
            ino: id.key.ino,
            fingerprint,
            next,
            complete,
            path: path.to_path_buf(),
        };
        (mark, continues.replace(fingerprint))
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
            let (mark, continues) = mark(event.offset, None);
            sent_ok = send
                .send(Batch {
                    docs,
                    mark,
                    continues,
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
    let (mark, continues) = mark(next, complete);
    send.send(Batch {
        docs: batch,
        mark,
        continues,
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
                record(
                    &mut writer.state_mut().ingested,
                    batch.mark,
                    batch.continues,
                );
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

/// Writes `mark` over the record of the same content under the same
/// identity (the one it `continues`, or one with its fingerprint); a new
/// content on an identity (a file deleted, its inode given to a new one)
/// gets a record of its own beside the old one's, which still tells the old
/// content wherever it lives on (`app.log.2.gz` compressed from a deleted
/// `app.log.2`): at most [`RECORDS_PER_IDENTITY`] per identity, the oldest
/// forgotten first.
fn record(records: &mut Vec<Ingested>, mark: Ingested, continues: Option<Fingerprint>) {
    let key = mark.key();
    let slot = records.iter().position(|r| {
        r.key() == key && (r.fingerprint == mark.fingerprint || Some(r.fingerprint) == continues)
    });
    if let Some(at) = slot {
        records[at] = mark;
        return;
    }
    records.push(mark);
    let mut same: Vec<usize> = (0..records.len())
        .filter(|&i| records[i].key() == key)
        .collect();
    while same.len() > RECORDS_PER_IDENTITY {
        records.remove(same.remove(0));
        // Later positions moved down by one.
        for i in &mut same {
            *i -= 1;
        }
    }
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
        if let Some(bad) = crate::glob::bad(path) {
            failed.push((bad.pattern, format!("bad glob: {}", bad.why)));
            continue;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(ino: u64, content: &[u8], next: u64) -> Ingested {
        Ingested {
            dev: 1,
            ino,
            fingerprint: Fingerprint::of(content),
            next,
            complete: None,
            path: PathBuf::from("app.log"),
        }
    }

    #[test]
    fn a_record_per_content_a_few_per_identity() {
        let mut records = Vec::new();
        record(&mut records, mark(7, b"first content", 10), None);
        // The same content read further, its fingerprint taken of more
        // bytes: the record it continues is moved on, not doubled.
        let longer = mark(7, b"first content, more of it", 20);
        record(
            &mut records,
            longer.clone(),
            Some(Fingerprint::of(b"first content")),
        );
        assert_eq!(records.len(), 1);
        assert_eq!(records[0], longer);
        // A new content on the same inode: beside it, not over it.
        record(&mut records, mark(7, b"second", 5), None);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0], longer);
        // Another identity is untouched by the limit of this one.
        record(&mut records, mark(8, b"elsewhere", 1), None);
        for n in 3..=6u8 {
            record(&mut records, mark(7, &[n; 20], u64::from(n)), None);
        }
        let on_7: Vec<u64> = records
            .iter()
            .filter(|r| r.ino == 7)
            .map(|r| r.next)
            .collect();
        // The oldest forgotten first.
        assert_eq!(on_7, [3, 4, 5, 6]);
        assert!(records.iter().any(|r| r.ino == 8));
    }
}
