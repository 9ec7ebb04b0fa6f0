//! Reads that may meet damage: every call into tantivy that reads segment
//! data runs under [`guard::catch`] (tantivy panics on some damage), per
//! segment where it is known ([`Guarded`] wraps a collector), and a failure
//! becomes an error naming the segment, the files whose checksum fails and
//! `triage reindex` — or, for an error of the system, saying it as it is.

use std::{
    fs,
    path::Path,
    sync::{Mutex, PoisonError},
};

use tantivy::{
    SegmentOrdinal, SegmentReader, TantivyError,
    collector::{Collector, SegmentCollector},
    directory::error::OpenReadError,
    index::SegmentId,
    query::{Query, Weight},
    schema::Schema,
};

use super::Searcher;
use crate::index::{IndexError, Store, guard};

impl Searcher {
    /// Runs `query` through `collector` over every segment; a segment that
    /// fails (a tantivy error or panic while reading it) is named.
    pub(super) fn search<C: Collector>(
        &self,
        query: &dyn Query,
        collector: &C,
    ) -> Result<C::Fruit, IndexError> {
        let searcher = self.reader.searcher();
        let guarded = Guarded {
            inner: collector,
            failed: Mutex::new(None),
        };
        let result = guard::catch(|| searcher.search(query, &guarded));
        let failed = guarded
            .failed
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        match (result, failed) {
            (Ok(Ok(fruit)), _) => Ok(fruit),
            (_, Some((segment, failure))) => Err(read_error(&self.store, Some(segment), failure)),
            (Ok(Err(err)), None) => Err(read_error(&self.store, None, Failure::Error(err))),
            (Err(panic), None) => Err(read_error(&self.store, None, Failure::Panic(panic))),
        }
    }

    /// Runs `read`, which reads `segment`'s data; its failure names it.
    pub(super) fn in_segment<T>(
        &self,
        segment: &SegmentReader,
        read: impl FnOnce() -> tantivy::Result<T>,
    ) -> Result<T, IndexError> {
        let failure = match guard::catch(read) {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(err)) => Failure::Error(err),
            Err(panic) => Failure::Panic(panic),
        };
        Err(read_error(&self.store, Some(segment.segment_id()), failure))
    }
}

/// A failure while reading a segment.
pub(super) enum Failure {
    /// tantivy said what.
    Error(TantivyError),
    /// tantivy panicked (see `guard`), with this message.
    Panic(String),
}

/// A collector that knows which segment failed: each segment is collected
/// inside [`guard::catch`], and the first failure is kept with its segment.
pub(super) struct Guarded<'c, C> {
    inner: &'c C,
    failed: Mutex<Option<(SegmentId, Failure)>>,
}

impl<C: Collector> Collector for Guarded<'_, C> {
    type Fruit = C::Fruit;
    type Child = C::Child;

    fn check_schema(&self, schema: &Schema) -> tantivy::Result<()> {
        self.inner.check_schema(schema)
    }

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<C::Child> {
        self.inner.for_segment(segment, reader)
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(
        &self,
        fruits: Vec<<C::Child as SegmentCollector>::Fruit>,
    ) -> tantivy::Result<C::Fruit> {
        self.inner.merge_fruits(fruits)
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<<C::Child as SegmentCollector>::Fruit> {
        let (failure, returned) =
            match guard::catch(|| self.inner.collect_segment(weight, segment, reader)) {
                Ok(Ok(fruit)) => return Ok(fruit),
                Ok(Err(err)) => (Failure::Error(err.clone()), err),
                Err(panic) => (
                    Failure::Panic(panic.clone()),
                    TantivyError::InternalError(panic),
                ),
            };
        let mut failed = self.failed.lock().unwrap_or_else(PoisonError::into_inner);
        failed.get_or_insert((reader.segment_id(), failure));
        Err(returned)
    }
}

/// A failure reading the index at `store`, as an error. Damage (bytes that
/// do not decode, a file cut or missing, a panic) names the segment, the
/// files of it whose checksum fails, and `triage reindex`; the system
/// refusing (an OS error: permissions, too many open files) is said as it
/// is, since rebuilding would not help.
pub(super) fn read_error(
    store: &Store,
    segment: Option<SegmentId>,
    failure: Failure,
) -> IndexError {
    let path = store.path().to_path_buf();
    let what = match failure {
        Failure::Panic(message) => format!("tantivy failed reading it: {message}"),
        Failure::Error(err) => {
            if let Some(os) = os_error(&err) {
                return IndexError::Other { path, why: os };
            }
            describe(&err)
        }
    };
    let why = match segment {
        None => what,
        Some(segment) => {
            let id = segment.uuid_string();
            let damaged = damaged_files(store, &id);
            let files = match damaged.as_slice() {
                [] => "its files pass their checksums but do not fit together (one may have \
                       been overwritten by another segment's)"
                    .to_owned(),
                [one] => format!("{one} fails its checksum (cut or overwritten)"),
                many => format!(
                    "{} fail their checksums (cut or overwritten)",
                    many.join(", ")
                ),
            };
            format!("segment {id}: {files}; {what}")
        }
    };
    IndexError::Corrupt { path, why }
}

/// The message of an OS error in `err`, file included, if it is one.
pub(super) fn os_error(err: &TantivyError) -> Option<String> {
    match err {
        TantivyError::IoError(io) if io.raw_os_error().is_some() => Some(io.to_string()),
        TantivyError::OpenReadError(OpenReadError::IoError { io_error, filepath })
            if io_error.raw_os_error().is_some() =>
        {
            Some(format!("{}: {io_error}", filepath.display()))
        }
        _ => None,
    }
}

/// What tantivy says of damage, the file first when it names one.
pub(super) fn describe(err: &TantivyError) -> String {
    match err {
        TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(file)) => {
            format!("{} is missing", file.display())
        }
        TantivyError::OpenReadError(OpenReadError::IoError { io_error, filepath }) => {
            // Its first sentence: the rest is advice about tantivy versions.
            let text = io_error.to_string();
            let first = text
                .split_inclusive(". ")
                .next()
                .unwrap_or(&text)
                .trim_end();
            format!("{} is cut or overwritten: {first}", filepath.display())
        }
        other => format!("tantivy: {other}"),
    }
}

/// The files of segment `id` whose checksum fails (or that cannot be read
/// whole), by name. Reads them whole: only ever on the way to an error.
pub(super) fn damaged_files(store: &Store, id: &str) -> Vec<String> {
    let Ok(entries) = fs::read_dir(store.path()) else {
        return Vec::new();
    };
    let directory = store.index().directory();
    let mut damaged: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| {
            name.strip_prefix(id)
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .filter(|name| {
            !matches!(
                guard::catch(|| directory.validate_checksum(Path::new(name))),
                Ok(Ok(true))
            )
        })
        .collect();
    damaged.sort();
    damaged
}
