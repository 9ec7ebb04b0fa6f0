//! Runs every signature over each event in one pass.
//!
//! The positive regexes of all signatures (for `all`, its first one: any
//! match needs it) go into one [`Prefilter`]: its literal search says, in a
//! few vectorised passes over the event's text, which regexes may match
//! (those owning a literal found there, and the literal-less ones its
//! automata find); only the signatures owning one are confirmed, and
//! captures are extracted only for those that match.
//!
//! For scanning many lines at once, the same prefilter finds, in a whole
//! buffer, the few lines some signature may match, and only those are
//! parsed and run through [`Matcher::matches`].

use std::cell::RefCell;

use rayon::prelude::*;

use super::{
    Captures, Combine, Signature,
    prefilter::{self, Prefilter},
};
use crate::model::Event;

/// Why the signatures do not build together.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The prefilter could not be built.
    #[error(transparent)]
    Prefilter(#[from] prefilter::BuildError),
}

/// A match of one signature on one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureMatch {
    /// Index of the signature in the matcher's list.
    pub signature: usize,
    /// Named captures of the regex(es) that matched.
    pub captures: Captures,
}

/// Every signature, ready to run.
#[derive(Debug)]
pub struct Matcher {
    /// For each regex of the prefilter: its signature.
    owners: Vec<usize>,
    /// Per signature, the prefilter index of its first regex.
    first_regex: Vec<usize>,
    /// Finds the regexes that may match an event, and the lines of a buffer
    /// that may match.
    prefilter: Prefilter,
}

impl Matcher {
    /// Builds the prefilter over `signatures`.
    pub fn new(signatures: &[Signature]) -> Result<Matcher, BuildError> {
        let mut owners = Vec::new();
        let mut first_regex = Vec::with_capacity(signatures.len());
        // A line can match a signature only if it matches one of its positive
        // regexes; for `all`, any one of them is enough to look for.
        let mut wanted = Vec::new();
        for (s, signature) in signatures.iter().enumerate() {
            first_regex.push(wanted.len());
            for (p, pattern) in signature.rule.patterns.iter().enumerate() {
                if p == 0 || signature.rule.combine != Combine::All {
                    wanted.push(&pattern.regex);
                    owners.push(s);
                }
            }
        }
        // The prefilter sees whole lines; `^` also matches where a word of
        // the line's prefix starts. (Compiled on every core: most of the
        // start of a scan.)
        let wanted = wanted
            .into_par_iter()
            .map(prefilter::without_start_anchors)
            .collect::<Result<Vec<_>, _>>()?;
        let prefilter = Prefilter::new(&wanted)?;
        Ok(Matcher {
            owners,
            first_regex,
            prefilter,
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
    pub fn matches(&self, signatures: &[Signature], event: &Event, out: &mut Vec<SignatureMatch>) {
        CANDIDATES.with_borrow_mut(|candidates| {
            self.matches_with(signatures, event, candidates, out);
        });
    }

    fn matches_with(
        &self,
        signatures: &[Signature],
        event: &Event,
        candidates: &mut Vec<u32>,
        out: &mut Vec<SignatureMatch>,
    ) {
        // Most events match nothing: the literal search says so, and
        // otherwise names the few regexes worth running.
        self.prefilter.candidates(event.text.as_bytes(), candidates);
        let mut last = usize::MAX;
        for &index in candidates.iter() {
            let s = self.owners[index as usize];
            if s == last {
                continue;
            }
            last = s;
            let signature = &signatures[s];
            if !signature.admits(Some(&event.source), event.level) {
                continue;
            }
            let first = self.first_regex[s];
            let all = signature.rule.combine == Combine::All;
            // The regexes of an `all` after its first are not in the
            // prefilter: they are run.
            let hit = |p: usize| {
                (all && p > 0) || candidates.binary_search(&((first + p) as u32)).is_ok()
            };
            if let Some(mut captures) = signature.check_text(&event.text, event.message, hit)
                && signature.fields_match(&event.fields, &mut captures)
            {
                out.push(SignatureMatch {
                    signature: s,
                    captures,
                });
            }
        }
    }
}

thread_local! {
    /// The regexes that may match the event at hand (memory reused).
    static CANDIDATES: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::signature::tests::load;
    use proptest::prelude::*;

    fn event(text: &str) -> Event {
        Event {
            source: Arc::from("/var/log/app.log"),
            offset: 0,
            line_no: 1,
            ts: None,
            level: crate::parse::level(text),
            text: text.to_owned(),
            message: 0,
            lossy: false,
            truncated: false,
            partial: false,
            fields: Default::default(),
            lines: 1,
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
            let alone: Vec<SignatureMatch> = sigs
                .iter()
                .enumerate()
                .filter_map(|(s, sig)| {
                    sig.check(&event(text)).map(|captures| SignatureMatch {
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

    /// Every signature checked alone on `event`.
    fn alone(sigs: &[Signature], event: &Event) -> Vec<SignatureMatch> {
        sigs.iter()
            .enumerate()
            .filter_map(|(s, sig)| {
                sig.check(event).map(|captures| SignatureMatch {
                    signature: s,
                    captures,
                })
            })
            .collect()
    }

    /// The shipped library's example lines, each with the source it is
    /// tried with.
    fn examples(library: &crate::library::Library) -> Vec<(String, Arc<str>)> {
        library
            .signatures
            .iter()
            .flat_map(|sig| &sig.examples)
            .map(|e| {
                let source = e.source.as_deref().unwrap_or("/var/log/app.log");
                (e.line.clone(), Arc::from(source))
            })
            .collect()
    }

    fn shipped() -> &'static crate::library::Library {
        static LIBRARY: std::sync::OnceLock<crate::library::Library> = std::sync::OnceLock::new();
        LIBRARY.get_or_init(|| {
            let (library, diags) = crate::library::Library::load(&[], &[]);
            assert!(diags.is_empty(), "{diags:?}");
            library
        })
    }

    #[test]
    fn the_shipped_library_matches_as_each_signature_alone() {
        let library = shipped();
        let sigs = &library.signatures;
        let mut matched = 0;
        for (line, source) in examples(library) {
            let mut e = event(&line);
            e.source = source;
            let mut hits = Vec::new();
            library.matcher().matches(sigs, &e, &mut hits);
            assert_eq!(hits, alone(sigs, &e), "{line:?}");
            matched += usize::from(!hits.is_empty());
        }
        assert!(matched > sigs.len(), "{matched}");
    }

    proptest! {
        /// Events of several lines, made of the shipped examples cut and
        /// joined: the matcher finds what each signature alone finds.
        #[test]
        fn events_of_example_pieces_match_as_each_signature_alone(
            picks in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..200, 0usize..200), 1..4),
        ) {
            let library = shipped();
            let all = examples(library);
            let mut lines = Vec::new();
            for (pick, from, len) in picks {
                let line = &all[pick.index(all.len())].0;
                let from = (from..=line.len()).find(|&i| line.is_char_boundary(i)).unwrap_or(line.len());
                let to = (from + len).min(line.len());
                let to = (to..=line.len()).find(|&i| line.is_char_boundary(i)).unwrap_or(line.len());
                lines.push(if len % 3 == 0 { &line[..] } else { &line[from..to] });
            }
            let mut e = event(&lines.join("\n"));
            e.lines = lines.len() as u32;
            let mut hits = Vec::new();
            library.matcher().matches(&library.signatures, &e, &mut hits);
            prop_assert_eq!(hits, alone(&library.signatures, &e));
        }
    }
}
