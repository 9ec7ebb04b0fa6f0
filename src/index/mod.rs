//! The search index (`<data-dir>/index/`): **the only code that imports
//! tantivy**.
//!
//! One document per event ([`schema`]). A [`Writer`] (one per index: tantivy's
//! lock file keeps a second one out, with a clear message) adds documents and
//! commits with the reading state as the commit payload, so what is indexed
//! and where reading resumes can never disagree: after a crash, reading
//! resumes from the last committed [`State`], nothing lost, nothing indexed
//! twice. Readers ([`Searcher`], in `search`) open the index without a lock
//! and work alongside a writer.
//!
//! An index written by another version of triage, or damaged, is refused
//! with an error naming it and saying to run `triage reindex`.

pub mod expr;
pub mod files;
pub mod guard;
pub mod query;
pub mod schema;
pub mod search;

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use tantivy::{
    Index, IndexWriter, TantivyDocument, TantivyError, Term,
    directory::{MmapDirectory, error::LockError},
    indexer::{IndexWriterOptions, LogMergePolicy, NoMergePolicy, UserOperation},
    query::RangeQuery,
};

use crate::tail::{checkpoint::Checkpoint, checkpoint::Fingerprint, discover::FileKey};
pub use schema::Fields;

/// One document of the index, as [`schema::document`] makes it.
pub type Document = TantivyDocument;

/// The index's folder in the data directory.
pub const INDEX_DIR: &str = "index";
/// Version of the commit payload's format.
pub const STATE_VERSION: u32 = 1;

/// What went wrong with the index, always naming it.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// No index there yet.
    #[error("{0}: no index yet; build one with `triage ingest PATH...` or `triage watch`")]
    Missing(PathBuf),
    /// Another process holds the writer lock.
    #[error(
        "{0}: another triage process (`watch`, `ui` or `ingest`) is writing this index; \
         stop it or wait for it to finish (searching works meanwhile)"
    )]
    Locked(PathBuf),
    /// Written by another version of triage.
    #[error(
        "{path}: the index was written by another version of triage ({why}); \
         rebuild it from the logs with `triage reindex`"
    )]
    Incompatible {
        /// The index folder.
        path: PathBuf,
        /// What differs.
        why: String,
    },
    /// Unreadable or inconsistent files.
    #[error("{path}: the index is damaged ({why}); rebuild it from the logs with `triage reindex`")]
    Corrupt {
        /// The index folder.
        path: PathBuf,
        /// What tantivy said.
        why: String,
    },
    /// A query that cannot run.
    #[error("{0}")]
    Query(String),
    /// Any other failure of the index.
    #[error("{path}: {why}")]
    Other {
        /// The index folder.
        path: PathBuf,
        /// What failed.
        why: String,
    },
}

impl IndexError {
    fn from_tantivy(path: &Path, err: TantivyError) -> IndexError {
        let path = path.to_path_buf();
        match err {
            TantivyError::LockFailure(LockError::LockBusy, _) => IndexError::Locked(path),
            TantivyError::DataCorruption(_)
            | TantivyError::OpenReadError(_)
            | TantivyError::DeserializeError(_)
            | TantivyError::OpenDirectoryError(_) => IndexError::Corrupt {
                path,
                why: err.to_string(),
            },
            TantivyError::IncompatibleIndex(_) | TantivyError::SchemaError(_) => {
                IndexError::Incompatible {
                    path,
                    why: err.to_string(),
                }
            }
            other => IndexError::Other {
                path,
                why: other.to_string(),
            },
        }
    }
}

/// How far `ingest` has read one file: every event starting before `next`
/// is in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ingested {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Its first bytes, hashed (a new file on a reused inode differs).
    pub fingerprint: Fingerprint,
    /// Events with an offset below this are indexed (in the decompressed
    /// stream).
    pub next: u64,
    /// The file's size on disk when it was read to its end (`None` while
    /// reading): the same size again means nothing new.
    pub complete: Option<u64>,
    /// Where it was read from (for `reindex`).
    pub path: PathBuf,
}

impl Ingested {
    /// The file's identity.
    pub fn key(&self) -> FileKey {
        FileKey {
            dev: self.dev,
            ino: self.ino,
        }
    }
}

/// What is in the index, committed atomically with it as the commit
/// payload (JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Payload format version ([`STATE_VERSION`]).
    pub version: u32,
    /// Schema version ([`schema::SCHEMA_VERSION`]).
    pub schema: u32,
    /// The follower's checkpoint (`watch`, `ui`): where following resumes.
    pub tail: Checkpoint,
    /// Files read by `ingest`.
    pub ingested: Vec<Ingested>,
    /// When this state was committed (milliseconds since the Unix epoch;
    /// absent in commits of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_ms: Option<i64>,
    /// The stream `collect` indexes from, and the last of its messages in
    /// this commit (`fleet`): it resumes after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamPosition>,
}

/// How far a collector has indexed a message stream: every message up to
/// `seq` is in the commit that carries this.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPosition {
    /// The stream's name.
    pub name: String,
    /// The stream sequence of the last message in.
    pub seq: u64,
}

impl State {
    fn new() -> State {
        State {
            version: STATE_VERSION,
            schema: schema::SCHEMA_VERSION,
            ..State::default()
        }
    }

    /// The ingest progress of the file with this identity.
    pub fn ingested(&self, key: FileKey) -> Option<&Ingested> {
        self.ingested.iter().find(|i| i.key() == key)
    }

    /// Records ingest progress, replacing what was there for the file.
    pub fn set_ingested(&mut self, entry: Ingested) {
        match self.ingested.iter_mut().find(|i| i.key() == entry.key()) {
            Some(slot) => *slot = entry,
            None => self.ingested.push(entry),
        }
    }

    /// Every path the index was built from (for `reindex`).
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self
            .ingested
            .iter()
            .map(|i| i.path.clone())
            .chain(self.tail.files.iter().map(|f| f.path.clone()))
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }
}

/// An open index.
#[derive(Clone)]
pub struct Store {
    index: Index,
    fields: Fields,
    path: PathBuf,
}

/// What an index's last commit holds (for `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastCommit {
    /// Documents visible (deleted ones not counted).
    pub docs: u64,
    /// When it was made (`None`: by a version that did not say).
    pub at: Option<jiff::Timestamp>,
}

/// The last commit of the index at `path` (`None`: no index there yet).
/// Reads its metadata only; works beside the writer.
pub fn last_commit(path: &Path) -> Result<Option<LastCommit>, IndexError> {
    if !path.join("meta.json").exists() {
        return Ok(None);
    }
    let err = |e| IndexError::from_tantivy(path, e);
    let metas = Index::open_in_dir(path)
        .map_err(err)?
        .load_metas()
        .map_err(err)?;
    let docs = metas.segments.iter().map(|s| u64::from(s.num_docs())).sum();
    let at = metas
        .payload
        .and_then(|p| serde_json::from_str::<State>(&p).ok())
        .and_then(|s| s.committed_ms)
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok());
    Ok(Some(LastCommit { docs, at }))
}

/// The index folder of a data directory.
pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join(INDEX_DIR)
}

impl Store {
    /// Opens the index at `path`, creating it when `create` and it is
    /// missing.
    pub fn open(path: &Path, create: bool) -> Result<Store, IndexError> {
        let err = |e| IndexError::from_tantivy(path, e);
        let exists = path.join("meta.json").exists();
        if !exists && !create {
            return Err(IndexError::Missing(path.to_path_buf()));
        }
        let (schema, fields) = schema::build();
        let index = if exists {
            let index = Index::open_in_dir(path).map_err(err)?;
            let found = serde_json::to_string(&index.schema()).unwrap_or_default();
            let wanted = serde_json::to_string(&schema).unwrap_or_default();
            if found != wanted {
                return Err(IndexError::Incompatible {
                    path: path.to_path_buf(),
                    why: "its fields differ from this version's".to_owned(),
                });
            }
            index
        } else {
            fs::create_dir_all(path).map_err(|e| IndexError::Other {
                path: path.to_path_buf(),
                why: e.to_string(),
            })?;
            let dir = MmapDirectory::open(path).map_err(|e| IndexError::Other {
                path: path.to_path_buf(),
                why: e.to_string(),
            })?;
            Index::create(dir, schema, tantivy::IndexSettings::default()).map_err(err)?
        };
        schema::register_tokenizers(index.tokenizers());
        let store = Store {
            index,
            fields,
            path: path.to_path_buf(),
        };
        // The payload must be ours, of this version.
        store.state()?;
        Ok(store)
    }

    /// The index folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema's fields.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    pub(crate) fn error(&self, err: TantivyError) -> IndexError {
        IndexError::from_tantivy(&self.path, err)
    }

    /// The state of the last commit (empty for a new index).
    pub fn state(&self) -> Result<State, IndexError> {
        let metas = self.index.load_metas().map_err(|e| self.error(e))?;
        let Some(payload) = metas.payload else {
            return Ok(State::new());
        };
        let state: State = serde_json::from_str(&payload).map_err(|e| IndexError::Corrupt {
            path: self.path.clone(),
            why: format!("commit payload: {e}"),
        })?;
        if state.version != STATE_VERSION || state.schema != schema::SCHEMA_VERSION {
            return Err(IndexError::Incompatible {
                path: self.path.clone(),
                why: format!(
                    "state version {} schema {}, this version reads {} and {}",
                    state.version,
                    state.schema,
                    STATE_VERSION,
                    schema::SCHEMA_VERSION
                ),
            });
        }
        Ok(state)
    }

    /// Size of the index files, in bytes.
    pub fn size_on_disk(&self) -> u64 {
        fs::read_dir(&self.path)
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Takes the writer lock and returns a writer with `threads` indexing
    /// threads.
    pub fn writer(&self, threads: usize) -> Result<Writer, IndexError> {
        let threads = threads.clamp(1, 8);
        let options = IndexWriterOptions::builder()
            .num_worker_threads(threads)
            .memory_budget_per_thread(WRITER_MEMORY_PER_THREAD)
            .num_merge_threads(1)
            .build();
        let writer: IndexWriter<TantivyDocument> = self
            .index
            .writer_with_options(options)
            .map_err(|e| self.error(e))?;
        let mut policy = LogMergePolicy::default();
        // Many small commits (one a second) are merged early.
        policy.set_min_num_segments(6);
        writer.set_merge_policy(Box::new(policy));
        Ok(Writer {
            writer,
            store: self.clone(),
            state: self.state()?,
            pending: 0,
        })
    }
}

/// Memory for each indexing thread's in-memory segment: big enough that a
/// second of ingest fits before a flush, small enough that two threads stay
/// well under the 500 MB budget. Its tables grow by doubling: 96 MB took
/// `ingest` of an 800 MB corpus to 497 MB peak, 64 MB to 271 MB, at the same
/// speed.
const WRITER_MEMORY_PER_THREAD: usize = 64 << 20;

/// Documents per group handed to tantivy's indexing threads. Its queue holds
/// 10,000 groups whatever their size: four documents a group keep it to a
/// few tens of megabytes.
const ADD_GROUP: usize = 4;

/// The one writer of an index.
pub struct Writer {
    writer: IndexWriter<TantivyDocument>,
    store: Store,
    state: State,
    pending: u64,
}

impl Writer {
    /// The state as of the documents added so far (committed with them by
    /// the next [`Writer::commit`]).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Changes the state that the next commit carries.
    pub fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// The index.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Adds a document (searchable after the next commit).
    pub fn add(&mut self, doc: TantivyDocument) -> Result<(), IndexError> {
        self.writer
            .add_document(doc)
            .map_err(|e| self.store.error(e))?;
        self.pending += 1;
        Ok(())
    }

    /// Adds documents (searchable after the next commit), handed to the
    /// indexing threads [`ADD_GROUP`] at a time: a tenth less CPU than one
    /// by one (fewer hand-overs through tantivy's full queue, each a
    /// wake-up on both sides).
    pub fn add_all(&mut self, docs: Vec<TantivyDocument>) -> Result<(), IndexError> {
        let count = docs.len() as u64;
        let mut docs = docs.into_iter();
        loop {
            let group: Vec<UserOperation> = docs
                .by_ref()
                .take(ADD_GROUP)
                .map(UserOperation::Add)
                .collect();
            if group.is_empty() {
                break;
            }
            self.writer.run(group).map_err(|e| self.store.error(e))?;
        }
        self.pending += count;
        Ok(())
    }

    /// Documents added since the last commit.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// Commits the documents added so far with the current state as payload:
    /// both become visible at once, or (after a crash) neither.
    pub fn commit(&mut self) -> Result<(), IndexError> {
        self.state.committed_ms = Some(jiff::Timestamp::now().as_millisecond());
        let payload = serde_json::to_string(&self.state).map_err(|e| IndexError::Other {
            path: self.store.path.clone(),
            why: e.to_string(),
        })?;
        let mut prepared = self
            .writer
            .prepare_commit()
            .map_err(|e| self.store.error(e))?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(|e| self.store.error(e))?;
        self.pending = 0;
        Ok(())
    }

    /// Deletes every document older than `cutoff` and commits.
    pub fn delete_before(&mut self, cutoff: jiff::Timestamp) -> Result<(), IndexError> {
        let field = self.store.fields.ts;
        let query = RangeQuery::new(
            std::ops::Bound::Unbounded,
            std::ops::Bound::Excluded(Term::from_field_date(field, schema::date(cutoff))),
        );
        self.writer
            .delete_query(Box::new(query))
            .map_err(|e| self.store.error(e))?;
        self.commit()
    }

    /// For a backfill: no segment is merged while this writer lives.
    /// Merging as a backfill goes rewrites the same documents again and
    /// again (a fifth of ingest's CPU) and maps every segment it merges
    /// (most of its peak memory); the next writer's merge policy (`watch`'s)
    /// merges what is left, in the background.
    pub fn defer_merges(&mut self) {
        self.writer.set_merge_policy(Box::new(NoMergePolicy));
    }

    /// Commits, then waits for merges to finish and removes files no commit
    /// uses any more.
    pub fn finish(mut self) -> Result<(), IndexError> {
        self.commit()?;
        let path = self.store.path.clone();
        self.writer
            .wait_merging_threads()
            .map_err(|e| IndexError::from_tantivy(&path, e))
    }

    /// Merges every segment into one (space taken by deleted documents is
    /// given back), then commits.
    pub fn compact(&mut self) -> Result<(), IndexError> {
        let ids = self
            .store
            .index
            .searchable_segment_ids()
            .map_err(|e| self.store.error(e))?;
        if ids.len() > 1 || self.has_deletes()? {
            let merge = self.writer.merge(&ids);
            merge.wait().map_err(|e| self.store.error(e))?;
        }
        self.commit()?;
        let _ = self.writer.garbage_collect_files().wait();
        Ok(())
    }

    /// Deletes events older than `max_age` before `now`, then the oldest
    /// events until the index is under `max_size` bytes (estimated from the
    /// mean size of an event); gives the space back. Returns how many events
    /// were deleted.
    pub fn retain(
        &mut self,
        max_age: Option<std::time::Duration>,
        max_size: Option<u64>,
        now: jiff::Timestamp,
    ) -> Result<u64, IndexError> {
        self.commit()?;
        let searcher = search::Searcher::of(&self.store)?;
        let before = searcher.num_docs();
        if let Some(age) = max_age {
            let age = jiff::SignedDuration::try_from(age)
                .map_err(|e| IndexError::Query(format!("--max-age: {e}")))?;
            let cutoff = now.checked_sub(age).unwrap_or(jiff::Timestamp::MIN);
            self.delete_before(cutoff)?;
            self.compact()?;
        }
        if let Some(max) = max_size
            && self.store.size_on_disk() > max
        {
            self.compact()?;
            searcher.reload()?;
            let size = self.store.size_on_disk();
            let docs = searcher.num_docs();
            if size > max && docs > 0 {
                let per_doc = (size / docs).max(1);
                let excess = (size - max).div_ceil(per_doc);
                let mut cutoff = None;
                let mut dropped = 0;
                for (minute, count) in searcher.minutes()? {
                    dropped += count;
                    if dropped >= excess {
                        cutoff = Some(minute + 60_000);
                        break;
                    }
                }
                let cutoff = match cutoff {
                    Some(ms) => {
                        jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::MAX)
                    }
                    None => jiff::Timestamp::MAX,
                };
                self.delete_before(cutoff)?;
                self.compact()?;
            }
        }
        searcher.reload()?;
        Ok(before.saturating_sub(searcher.num_docs()))
    }

    fn has_deletes(&self) -> Result<bool, IndexError> {
        let metas = self
            .store
            .index
            .searchable_segment_metas()
            .map_err(|e| self.store.error(e))?;
        Ok(metas.iter().any(|m| m.has_deletes()))
    }
}

/// The log files an index at `path` was built from, as its last commit
/// lists them. Reads the commit payload leniently (any version), so that
/// `reindex` can rebuild an index this version cannot open.
pub fn recorded_paths(path: &Path) -> Result<Vec<PathBuf>, IndexError> {
    let meta = path.join("meta.json");
    let text = fs::read_to_string(&meta).map_err(|e| io_error(&meta, e))?;
    let corrupt = |why: String| IndexError::Corrupt {
        path: path.to_path_buf(),
        why,
    };
    let meta: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| corrupt(format!("meta.json: {e}")))?;
    let Some(payload) = meta.get("payload").and_then(|p| p.as_str()) else {
        return Ok(Vec::new());
    };
    let payload: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| corrupt(format!("commit payload: {e}")))?;
    let mut paths: Vec<PathBuf> = ["ingested", "tail"]
        .iter()
        .filter_map(|k| payload.get(k))
        .flat_map(|v| {
            let list = v.get("files").unwrap_or(v);
            list.as_array().cloned().unwrap_or_default()
        })
        .filter_map(|entry| entry.get("path")?.as_str().map(PathBuf::from))
        .collect();
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// Why an I/O error from the data directory happened, naming the path.
pub fn io_error(path: &Path, err: io::Error) -> IndexError {
    IndexError::Other {
        path: path.to_path_buf(),
        why: err.to_string(),
    }
}
