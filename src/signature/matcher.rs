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
    /// Some pattern has a start anchor: the starts of a line's prefix words
    /// are tried too.
    anchored: bool,
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
                    // The prefilter sees whole lines; `^` also matches
                    // where a word of the line's prefix starts.
                    wanted.push(prefilter::without_start_anchors(&pattern.regex)?);
                }
            }
        }
        let prefilter = Prefilter::new(&wanted)?;
        let anchored = patterns.iter().any(|p| super::may_anchor_start(p));
        let set = RegexSetBuilder::new(&patterns)
            .size_limit(REGEX_SIZE_LIMIT.max(SET_SIZE_LIMIT_PER_PATTERN * patterns.len()))
            .dfa_size_limit(SET_DFA_CACHE)
            .build()?;
        Ok(Matcher {
            set,
            owners,
            first_pattern,
            prefilter,
            anchored,
        })
    }

    /// The prefilter over the same regexes, for scanning whole buffers.
    pub fn prefilter(&self) -> &Prefilter {
        &self.prefilter
    }

    /// The signatures that match `event`, in signature order. Regexes match
    /// each line of the event on its own; in its first line, `^` matches at
    /// the start of the line and of each word of the prefix before the
    /// message ([`super::starts`]), the message's start included.
    pub fn matches(&self, signatures: &[Signature], event: &Event, out: &mut Vec<Hit>) {
        let text = event.text.as_str();
        // Most events match nothing: the literal search says so for a
        // fraction of what the combined set costs.
        if !self.prefilter.may_match(text.as_bytes()) {
            return;
        }
        // The combined set's lazy DFA gives up on Unicode word boundaries in
        // non-ASCII text and falls back to a slow overlapping NFA over every
        // pattern (binary garbage: ~100x slower). Such lines are rare in
        // logs: each signature checks them on its own instead.
        if !text.is_ascii() {
            for (s, signature) in signatures.iter().enumerate() {
                if signature.admits(Some(&event.source), event.level)
                    && let Some(mut captures) = signature.check_text(text, event.message, |_| true)
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
        let mut candidates: Vec<usize> = match memchr::memchr(b'\n', text.as_bytes()) {
            None => self.set.matches(text).into_iter().collect(),
            Some(_) => super::lines(text)
                .flat_map(|line| self.set.matches(line).into_iter())
                .collect(),
        };
        if event.message > 0 && self.anchored {
            let first = super::lines(text).next().unwrap_or("");
            for at in super::starts(first, event.message).skip(1) {
                candidates.extend(self.set.matches(&first[at..]));
            }
        }
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
            if let Some(mut captures) = signature.check_text(text, event.message, |p| {
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
    fn start_anchors_match_at_the_message_and_at_prefix_words_only() {
        let (sigs, diags) = load(
            "[[signature]]\nid='a'\ntitle='t'\nseverity='low'\ndescription='d'\nregex='^\\[INFO\\] BUILD (?P<how>[A-Z]+)$'\n\
             [[signature]]\nid='b'\ntitle='t'\nseverity='low'\ndescription='d'\nregex='^BUILD FAILURE$'\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let matcher = Matcher::new(&sigs).expect("builds");
        let line = "2024-05-14T09:21:19.5539512Z [INFO] BUILD FAILURE";
        let hits = |message: usize| {
            let mut e = event(line);
            e.message = message;
            let mut hits = Vec::new();
            matcher.matches(&sigs, &e, &mut hits);
            let alone: Vec<usize> = (0..sigs.len())
                .filter(|&s| sigs[s].check(&e).is_some())
                .collect();
            let ids: Vec<usize> = hits.iter().map(|h| h.signature).collect();
            assert_eq!(ids, alone, "matcher and check agree at {message}");
            hits
        };
        // No prefix known: the line's start only.
        assert!(hits(0).is_empty());
        // The message starts after `[INFO] `: both, from where each fits.
        let found = hits(36);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].captures,
            vec![("how".to_owned(), "FAILURE".to_owned())]
        );
        // Not in the middle of a message.
        let mut e = event("2024-05-14T09:21:19Z note: [INFO] BUILD FAILURE");
        e.message = 21;
        let mut out = Vec::new();
        matcher.matches(&sigs, &e, &mut out);
        assert!(out.is_empty(), "{out:?}");
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
