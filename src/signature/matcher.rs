//! Runs every signature over each event in one pass.
//!
//! All positive regexes of all signatures go into one `RegexSet`, which says
//! in a single scan of the line which of them can match; only the signatures
//! it names are confirmed, and captures are extracted only for those that
//! match. Size and lazy-DFA cache limits are explicit so a large library still
//! builds and stays fast.

use regex::{RegexSet, RegexSetBuilder};

use super::{Captures, REGEX_SIZE_LIMIT, Signature};
use crate::model::Event;

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
}

impl Matcher {
    /// Builds the combined set over `signatures`.
    pub fn new(signatures: &[Signature]) -> Result<Matcher, regex::Error> {
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        let mut first_pattern = Vec::with_capacity(signatures.len());
        for (s, signature) in signatures.iter().enumerate() {
            first_pattern.push(patterns.len());
            for (p, pattern) in signature.rule.patterns.iter().enumerate() {
                patterns.push(pattern.regex.as_str());
                owners.push((s, p));
            }
        }
        let set = RegexSetBuilder::new(&patterns)
            .size_limit(REGEX_SIZE_LIMIT.max(SET_SIZE_LIMIT_PER_PATTERN * patterns.len()))
            .dfa_size_limit(SET_DFA_CACHE)
            .build()?;
        Ok(Matcher {
            set,
            owners,
            first_pattern,
        })
    }

    /// The signatures that match `event`, in signature order.
    pub fn matches(&self, signatures: &[Signature], event: &Event, out: &mut Vec<Hit>) {
        let candidates = self.set.matches(&event.text);
        if !candidates.matched_any() {
            return;
        }
        let mut last = usize::MAX;
        for index in candidates.iter() {
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
            if let Some(captures) =
                signature.check_text(&event.text, |p| candidates.matched(first + p))
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
            text: text.to_owned(),
            lossy: false,
            truncated: false,
            partial: false,
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
