//! The console's search prompt over the index (`<data-dir>/index/`), when
//! `triage watch` or `triage ingest` has built one: the query goes to
//! `index::search` in the index's own query language (words, phrases,
//! `field:value`, `AND`/`OR`/`NOT`), the latest hits come back as log lines.
//!
//! Wiring only: the index module owns the query and the reading; this turns
//! hits into what the log pane shows (sanitised by [`LogLine`]).

use std::sync::Arc;

use super::{
    Search,
    msg::{LogLine, MAX_CONTINUATION, clean},
};
use crate::index::{query::Request, search::Searcher};

/// The index as the console's [`Search`].
pub struct IndexSearch {
    searcher: Option<Searcher>,
    /// Where the index will be, for a console attached to a `watch` that
    /// has not committed it yet.
    path: Option<std::path::PathBuf>,
}

impl IndexSearch {
    /// Searches through `searcher`.
    pub fn new(searcher: Searcher) -> IndexSearch {
        IndexSearch {
            searcher: Some(searcher),
            path: None,
        }
    }

    /// Searches the index at `path` once it exists (a running `watch`
    /// writes it).
    pub fn lazy(path: std::path::PathBuf) -> IndexSearch {
        IndexSearch {
            searcher: None,
            path: Some(path),
        }
    }
}

impl Search for IndexSearch {
    fn search(&mut self, query: &str, limit: usize) -> Result<Vec<LogLine>, String> {
        if self.searcher.is_none()
            && let Some(path) = &self.path
        {
            if !path.exists() {
                return Err("the watch has not committed its index yet: try again shortly".into());
            }
            self.searcher = Some(Searcher::open(path).map_err(|e| e.to_string())?);
        }
        let Some(searcher) = self.searcher.as_mut() else {
            return Err("no index".into());
        };
        // New commits (a running `watch`) become visible.
        searcher.reload().map_err(|e| e.to_string())?;
        let request = Request {
            query: query.to_owned(),
            ..Request::all()
        };
        let found = searcher
            .run(&request, limit, None)
            .map_err(|e| e.to_string())?;
        Ok(found
            .hits
            .into_iter()
            .map(|hit| {
                let mut text = hit.line.split('\n');
                let first = text.next().unwrap_or_default();
                let mut line = LogLine::new(
                    Arc::from(hit.source.as_str()),
                    hit.line_no,
                    hit.offset,
                    first,
                );
                line.ts = hit.ts;
                line.level = hit.level;
                line.more = text.take(MAX_CONTINUATION).map(clean).collect();
                line.signatures = hit
                    .signatures
                    .iter()
                    .map(|s| Arc::from(s.as_str()))
                    .collect();
                line
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::atomic::AtomicBool, time::Duration};

    use jiff::tz::TimeZone;

    use super::*;
    use crate::{
        config::Config,
        ingest::{IngestOptions, Progress, ingest},
        library::Library,
    };

    #[test]
    fn the_prompt_finds_indexed_events_with_their_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("app.log");
        std::fs::write(
            &log,
            "2026-11-21T03:00:00Z INFO started\n\
             2026-11-21T03:00:01Z ERROR pool exhausted\n\
             java.lang.IllegalStateException: pool exhausted\n\
             \tat com.example.Pool.get(Pool.java:12)\n\
             2026-11-21T03:00:02Z INFO recovered\n",
        )
        .expect("write");
        let index = dir.path().join("index");
        let options = IngestOptions {
            paths: vec![log],
            index: index.clone(),
            zone: TimeZone::UTC,
            max_line: 1 << 20,
            commit_every: Duration::from_secs(1),
            threads: 1,
        };
        let (library, _) = Library::load(&[], &[]);
        let stop = AtomicBool::new(false);
        ingest(
            &options,
            &library,
            &Config::default(),
            &stop,
            &mut |_: &Progress| {},
        )
        .expect("ingests");
        let mut search = IndexSearch::new(Searcher::open(&index).expect("opens"));
        let hits = search.search("exhausted", 10).expect("searches");
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].line_no, 2);
        assert_eq!(hits[0].text, "2026-11-21T03:00:01Z ERROR pool exhausted");
        assert_eq!(hits[0].more.len(), 2, "the stack trace comes along");
        assert!(
            search
                .search("recovered OR started", 10)
                .expect("searches")
                .len()
                == 2
        );
        assert!(
            search
                .search("\"no such phrase\"", 10)
                .expect("searches")
                .is_empty()
        );
    }
}
