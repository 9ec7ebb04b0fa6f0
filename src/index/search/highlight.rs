//! What to highlight in a line: the query's words as the index's tokenizer
//! cuts them (prefixes kept with their `*`), and what the regex matches.

use std::{cmp::Reverse, collections::HashSet, ops::Range};

use regex::Regex;

use super::Searcher;
use crate::index::{
    expr::{self, Kind},
    query::Request,
    schema,
};

impl Searcher {
    /// The lowercased words of `request`'s query that search the line (for
    /// highlighting).
    pub fn words(&self, request: &Request) -> HashSet<String> {
        let mut words = HashSet::new();
        let Ok(parsed) = expr::parse(&request.query) else {
            return words;
        };
        for leaf in parsed.positive_leaves() {
            if !matches!(leaf.field.as_deref(), None | Some("line")) {
                continue;
            }
            let tokens = self.line_tokens(&leaf.text);
            let last = tokens.len().saturating_sub(1);
            for (i, token) in tokens.into_iter().enumerate() {
                // A prefix is kept with its `*` (tokens have none).
                if leaf.kind == Kind::Prefix && i == last {
                    words.insert(format!("{token}*"));
                } else {
                    words.insert(token);
                }
            }
        }
        words
    }

    /// Byte ranges of `line` to highlight: tokens among `words`, and what
    /// the regex matches. Sorted, not overlapping.
    pub fn highlights(
        &self,
        line: &str,
        words: &HashSet<String>,
        regex: Option<&Regex>,
    ) -> Vec<Range<usize>> {
        let mut ranges = Vec::new();
        if !words.is_empty()
            && let Some(mut analyzer) = self.store.index().tokenizers().get(schema::WORDS)
        {
            let mut stream = analyzer.token_stream(line);
            while let Some(token) = stream.next() {
                if words.contains(&token.text)
                    || words.iter().any(|w| {
                        w.strip_suffix('*')
                            .is_some_and(|p| token.text.starts_with(p))
                    })
                {
                    ranges.push(token.offset_from..token.offset_to);
                }
            }
        }
        if let Some(regex) = regex {
            ranges.extend(
                regex
                    .find_iter(line)
                    .filter(|m| !m.is_empty())
                    .map(|m| m.range()),
            );
        }
        ranges.sort_by_key(|r| (r.start, Reverse(r.end)));
        let mut merged: Vec<Range<usize>> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }
}
