//! Which files the index holds events from: each file identity (device and
//! inode) with the names its events were read under and how many there are.
//! `reindex` rebuilds from exactly these, and says what it cannot find.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use tantivy::{DocSet, TERMINATED, schema::IndexRecordOption};

use super::{IndexError, Store};
use crate::tail::discover::FileKey;

/// One file the index has events from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFile {
    /// Its identity when it was read.
    pub key: FileKey,
    /// The names its events were read under (a file renamed while followed
    /// has several).
    pub names: BTreeSet<PathBuf>,
    /// Its events in the index.
    pub events: u64,
}

/// Every file the index at `path` has events from, by identity.
pub fn indexed_files(path: &Path) -> Result<Vec<IndexedFile>, IndexError> {
    let store = Store::open(path, false)?;
    let fields = *store.fields();
    let reader = store.index().reader().map_err(|e| store.error(e))?;
    let searcher = reader.searcher();
    let mut files: BTreeMap<FileKey, IndexedFile> = BTreeMap::new();
    for segment in searcher.segment_readers() {
        let columns = segment.fast_fields();
        let dev = columns.u64("dev").map_err(|e| store.error(e))?;
        let ino = columns.u64("ino").map_err(|e| store.error(e))?;
        let alive = segment.alive_bitset();
        let inverted = segment
            .inverted_index(fields.source)
            .map_err(|e| store.error(e))?;
        let mut terms = inverted
            .terms()
            .stream()
            .map_err(|e| store.error(e.into()))?;
        while terms.advance() {
            let name = PathBuf::from(String::from_utf8_lossy(terms.key()).into_owned());
            let mut postings = inverted
                .read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)
                .map_err(|e| store.error(e.into()))?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    let key = FileKey {
                        dev: dev.first(doc).unwrap_or(0),
                        ino: ino.first(doc).unwrap_or(0),
                    };
                    let file = files.entry(key).or_insert_with(|| IndexedFile {
                        key,
                        names: BTreeSet::new(),
                        events: 0,
                    });
                    if !file.names.contains(&name) {
                        file.names.insert(name.clone());
                    }
                    file.events += 1;
                }
                doc = postings.advance();
            }
        }
    }
    Ok(files.into_values().collect())
}
