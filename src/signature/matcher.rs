//! Runs every signature over each event in one pass.
//!
//! All positive regexes of all signatures go into one `RegexSet`, which says
//! in a single scan of the line which of them can match; only the signatures
//! it names are confirmed, and captures are extracted only for those that
//! match. Size and lazy-DFA cache limits are explicit so a large library still
//! builds and stays fast.
//!
//! For scanning many lines at once, the matcher also holds a [`Prefilter`]
//! over the same regexes: it finds, in a whole buffer, the few lines some
//! signature may match, and only those are parsed and run through
//! [`Matcher::matches`].

use regex::{RegexSet, RegexSetBuilder};

use super::{
    Captures, Combine, REGEX_SIZE_LIMIT, Signature,
    prefilter::{self, Prefilter},
};
use crate::model::Event;

/// Why the signatures do not build together.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The combined set is too big.
    #[error(transparent)]
    Set(#[from] regex::Error),
    /// The prefilter could not be built.
    #[error(transparent)]
    Prefilter(#[from] prefilter::BuildError),
}

/// Size limit of the combined set: grows with the library.
const SET_SIZE_LIMIT_PER_PATTERN: usize = 1 << 20;
/// Lazy DFA cache of the combined set. The default (2 MiB) thrashes beyond a
/// few dozen patterns; 64 MiB keeps hundreds of them at full speed.
const SET_DFA_CACHE: usize = 64 << 20;

/// A match of one signature on one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Index of the signature in the matcher's list.
    pub signature: usize,
    /// Named captures of the regex(es) that matched.
    pub captures: Captures,
}

/// Every signature, ready to run.
#[derive(Debug)]
pub struct Matcher {
    set: RegexSet,
    /// For each pattern of the set: (signature index, pattern index in it).
    owners: Vec<(usize, usize)>,
    /// Per signature, the set indexes of its patterns.
    first_pattern: Vec<usize>,
    /// Finds the lines of a buffer that may match.
    prefilter: Prefilter,
}

impl Matcher {
    /// Builds the combined set over `signatures`.
    pub fn new(signatures: &[Signature]) -> Result<Matcher, BuildError> {
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        let mut first_pattern = Vec::with_capacity(signatures.len());
        // A line can match a signature only if it matches one of its positive
        // regexes; for `all`, any one of them is enough to look for.
        let mut wanted = Vec::new();
        for (s, signature) in signatures.iter().enumerate() {
            first_pattern.push(patterns.len());
            for (p, pattern) in signature.rule.patterns.iter().enumerate() {
                patterns.push(pattern.regex.as_str());
                owners.push((s, p));
                if p == 0 || signature.rule.combine != Combine::All {
                    wanted.push(pattern.regex.clone());
                }
            }
        }
        let prefilter = Prefilter::new(&wanted)?;
        let set = RegexSetBuilder::new(&patterns)
            .size_limit(REGEX_SIZE_LIMIT.max(SET_SIZE_LIMIT_PER_PATTERN * patterns.len()))
            .dfa_size_limit(SET_DFA_CACHE)
            .build()?;
        Ok(Matcher {
            set,
            owners,
            first_pattern,
            prefilter,
        })
    }

    /// The prefilter over the same regexes, for scanning whole buffers.
    pub fn prefilter(&self) -> &Prefilter {
        &self.prefilter
    }

    /// The signatures that match `event`, in signature order.
    pub fn matches(&self, signatures: &[Signature], event: &Event, out: &mut Vec<Hit>) {
        // Most events match nothing: the literal search says so for a
        // fraction of what the combined set costs.
        if !self.prefilter.may_match(event.text.as_bytes()) {
            return;
        }
        // The combined set's lazy DFA gives up on Unicode word boundaries in
        // non-ASCII text and falls back to a slow overlapping NFA over every
        // pattern (binary garbage: ~100x slower). Such lines are rare in
        // logs: each signature checks them on its own instead.
        if !event.text.is_ascii() {
            for (s, signature) in signatures.iter().enumerate() {
                if signature.admits(Some(&event.source), event.level)
                    && let Some(mut captures) = signature.check_text(&event.text, |_| true)
                    && signature.fields_match(&event.fields, &mut captures)
                {
                    out.push(Hit {
                        signature: s,
                        captures,
                    });
                }
            }
            return;
        }
        // Regexes match within one line of the event.
        let mut candidates: Vec<usize> = match memchr::memchr(b'\n', event.text.as_bytes()) {
            None => self.set.matches(&event.text).into_iter().collect(),
            Some(_) => super::lines(&event.text)
                .flat_map(|line| self.set.matches(line).into_iter())
                .collect(),
        };
        if candidates.is_empty() {
            return;
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut last = usize::MAX;
        for &index in &candidates {
            let (s, _) = self.owners[index];
            if s == last {
                continue;
            }
            last = s;
            let signature = &signatures[s];
            if !signature.admits(Some(&event.source), event.level) {
                continue;
            }
            let first = self.first_pattern[s];
            if let Some(mut captures) = signature.check_text(&event.text, |p| {
                candidates.binary_search(&(first + p)).is_ok()
            }) && signature.fields_match(&event.fields, &mut captures)
            {
                out.push(Hit {
                    signature: s,
                    captures,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::signature::tests::load;

    fn event(text: &str) -> Event {
        Event {
            source: Arc::from("/var/log/app.log"),
            offset: 0,
            line_no: 1,
            ts: None,
            level: crate::parse::level(text),
            message: 0,
            text: text.to_owned(),
            lossy: false,
            truncated: false,
            partial: false,
            fields: Default::default(),
            lines: 1,
        }
    }

    #[test]
    fn matcher_agrees_with_each_signature_alone() {
        let (sigs, diags) = load(
            "[[signature]]\nid='a'\ntitle='t'\nseverity='low'\ndescription='d'\nregex='timeout after (?P<ms>\\d+)ms'\n\
             [[signature]]\nid='b'\ntitle='t'\nseverity='low'\ndescription='d'\nall=['pool', 'exhausted']\n\
             [[signature]]\nid='c'\ntitle='t'\nseverity='low'\ndescription='d'\nany=['OOM', 'out of memory']\nnot=['test']\nlevel='error'\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let matcher = Matcher::new(&sigs).expect("builds");
        for text in [
            "timeout after 300ms",
            "ERROR pool exhausted after timeout after 5ms",
            "pool ok",
            "ERROR out of memory",
            "INFO out of memory",
            "ERROR OOM in test",
            "",
        ] {
            let mut hits = Vec::new();
            matcher.matches(&sigs, &event(text), &mut hits);
            let alone: Vec<Hit> = sigs
                .iter()
                .enumerate()
                .filter_map(|(s, sig)| {
                    sig.check(&event(text)).map(|captures| Hit {
                        signature: s,
                        captures,
                    })
                })
                .collect();
            assert_eq!(hits, alone, "{text:?}");
        }
    }

    #[test]
    fn five_hundred_signatures_build() {
        let mut text = String::new();
        for i in 0..500 {
            text.push_str(&format!(
                "[[signature]]\nid='s{i}'\ntitle='t'\nseverity='low'\ndescription='d'\nregex='error code {i}: (?P<detail>\\w+) in [a-z]+ module'\n"
            ));
        }
        let (sigs, diags) = load(&text);
        assert!(diags.is_empty());
        let matcher = Matcher::new(&sigs).expect("500 signatures build");
        let mut hits = Vec::new();
        matcher.matches(
            &sigs,
            &event("error code 417: boom in disk module"),
            &mut hits,
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(sigs[hits[0].signature].id, "s417");
    }
}
