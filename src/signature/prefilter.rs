//! Which lines of a buffer some signature may match, found without running
//! every regex on every line.
//!
//! Each regex gets a few required literals ([`super::literals`]). All the
//! literals are searched for at once over the whole buffer with vectorised
//! packed searchers (Teddy, up to 64 literals per pass; one Aho-Corasick DFA
//! pass beyond a few hundred literals or where Teddy is unavailable). Where a
//! literal occurs, only the regexes that own it are run, on that line alone;
//! a line one of them matches is named, and the search goes on after it.
//! Regexes with no useful literal run as lazy-DFA automata over the buffer,
//! with text anchors (`\A`, `\z`) made line anchors, so that a match in a
//! line is found in the buffer too.
//!
//! Invariant (checked by property tests against a per-line reference): every
//! line that is valid UTF-8 and that some regex matches as a string is named
//! by [`Prefilter::matching_lines`], and only such lines. Lines that are not
//! valid UTF-8, or were cut at the line length cap, read differently once
//! decoded: the caller takes them without asking. Pure: no I/O.

use std::{collections::HashMap, sync::Arc};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, packed};
use memchr::{memchr2, memrchr2};
use regex::Regex;
use regex_automata::{Input, meta, util::syntax};
use regex_syntax::hir::{Capture, Hir, HirKind, Look, Repetition};

use super::literals;

/// Literals per Teddy searcher: beyond 64 it loses its speed.
const TEDDY_GROUP: usize = 64;
/// With more literals than this, one Aho-Corasick DFA pass beats that many
/// Teddy passes.
const MAX_TEDDY_LITERALS: usize = 4 * TEDDY_GROUP;
/// Size limit of the combined automaton of literal-less regexes.
const REST_NFA_LIMIT: usize = 64 << 20;
/// Its lazy DFA cache: large enough that hundreds of regexes do not thrash.
const REST_DFA_CACHE: usize = 32 << 20;
/// At most this many literals for one regex: beyond, case-insensitive text
/// for instance, the automaton does better.
const MAX_LITERALS_PER_REGEX: usize = 8;
/// Up to this many literal-less regexes each get their own automaton (each
/// then keeps its own optimisations, such as a case-insensitive prefix
/// search); beyond, they share one.
const MAX_SEPARATE_AUTOMATA: usize = 8;

/// Why a prefilter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The regex syntax is refused.
    #[error(transparent)]
    Syntax(#[from] Box<regex_syntax::Error>),
    /// The combined automaton of literal-less regexes is too big.
    #[error(transparent)]
    Automaton(#[from] Box<meta::BuildError>),
    /// The literal searcher could not be built.
    #[error(transparent)]
    Literals(#[from] aho_corasick::BuildError),
    /// A regex without its start anchors does not build.
    #[error(transparent)]
    Regex(#[from] regex::Error),
}

/// A multi-literal searcher over the whole buffer.
#[derive(Debug, Clone)]
enum Searcher {
    Teddy(packed::Searcher),
    AhoCorasick(AhoCorasick),
}

/// One pass over the buffer for some of the literals.
#[derive(Debug, Clone)]
struct Pass {
    searcher: Searcher,
    /// The literal id of each of the searcher's patterns.
    ids: Vec<u32>,
}

/// A pass of an automaton over the buffer for literal-less regexes.
#[derive(Debug, Clone)]
struct Automaton {
    regex: meta::Regex,
    /// The regexes it runs.
    owners: Vec<u32>,
}

/// The literal search: the passes over the buffer, and what each literal
/// found stands for.
#[derive(Debug, Clone)]
struct LiteralSearch {
    passes: Vec<Pass>,
    /// Every literal, by id.
    literals: Vec<Vec<u8>>,
    /// For each literal, the regexes that require it (one of their set).
    owners: Vec<Vec<u32>>,
    /// For each literal, the literals of the same pass that can start at the
    /// same place (one is a prefix of the other): a search reports only one.
    related: Vec<Vec<u32>>,
}

/// Literals, each with the regexes that require it.
type Literals = (Vec<Vec<u8>>, Vec<Vec<u32>>);

/// Finds the lines that match one of a list of regexes.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// The literals the regexes require, with their owners, before any
    /// [`Prefilter::tuned`] picks the part of each to search for.
    required: Arc<Literals>,
    /// The literal search in use (shared by copies: see
    /// [`Prefilter::search_like`]).
    search: Arc<LiteralSearch>,
    /// Regexes without useful literals.
    automata: Vec<Automaton>,
    /// Each regex, to check one line (a line that is not UTF-8 is not
    /// checked: the caller takes it anyway).
    checks: Vec<Regex>,
}

/// Reusable memory for [`Prefilter::matching_lines`].
#[derive(Debug, Default)]
pub struct Scratch {
    /// Per regex, the epoch of the line it was last checked on.
    checked: Vec<u32>,
    epoch: u32,
}

impl Scratch {
    /// A new line: nothing checked on it yet.
    fn next_line(&mut self, regexes: usize) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 || self.checked.len() != regexes {
            self.checked.clear();
            self.checked.resize(regexes, 0);
            self.epoch = 1;
        }
    }

    /// Whether regex `owner` is still to be checked on this line (and marks it).
    fn first_time(&mut self, owner: u32) -> bool {
        let slot = &mut self.checked[owner as usize];
        let first = *slot != self.epoch;
        *slot = self.epoch;
        first
    }
}

/// What the prefilter made of its regexes, for logs and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Regexes found through literals.
    pub with_literals: usize,
    /// Distinct literals searched for.
    pub literals: usize,
    /// Passes over the buffer for literals.
    pub literal_passes: usize,
    /// Regexes run as automata over the buffer.
    pub automaton: usize,
    /// Passes over the buffer for them.
    pub automaton_passes: usize,
}

impl Prefilter {
    /// A prefilter for `regexes` (each checks a single line where the
    /// search says it may match).
    pub fn new(regexes: &[Regex]) -> Result<Prefilter, BuildError> {
        let mut ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<u32>> = Vec::new();
        let mut rest_owners = Vec::new();
        let mut rest_hirs = Vec::new();
        let checks = regexes.to_vec();
        for (index, regex) in regexes.iter().enumerate() {
            let owner = index as u32;
            let pattern = regex.as_str();
            let hir = regex_syntax::parse(pattern).map_err(Box::new)?;
            match literals::required(&hir) {
                Some((set, score))
                    if score >= literals::MIN_SCORE && set.len() <= MAX_LITERALS_PER_REGEX =>
                {
                    for literal in set {
                        let id = *ids.entry(literal.clone()).or_insert_with(|| {
                            literals.push(literal);
                            owners.push(Vec::new());
                            owners.len() - 1
                        });
                        if owners[id].last() != Some(&owner) {
                            owners[id].push(owner);
                        }
                    }
                }
                _ => {
                    let lines = regex_syntax::ParserBuilder::new()
                        .multi_line(true)
                        .crlf(true)
                        .build()
                        .parse(pattern)
                        .map_err(Box::new)?;
                    rest_hirs.push(per_line(&lines));
                    rest_owners.push(owner);
                }
            }
        }
        let (literals, owners) = merge_contained(literals, owners);
        let required = share_needles(literals, owners);
        let search = Arc::new(LiteralSearch::new(required.0.clone(), required.1.clone())?);
        let automata = if rest_hirs.len() <= MAX_SEPARATE_AUTOMATA {
            rest_hirs
                .iter()
                .zip(&rest_owners)
                .map(|(hir, &owner)| {
                    Ok(Automaton {
                        regex: automaton(std::slice::from_ref(hir))?,
                        owners: vec![owner],
                    })
                })
                .collect::<Result<_, BuildError>>()?
        } else {
            vec![Automaton {
                regex: automaton(&rest_hirs)?,
                owners: rest_owners,
            }]
        };
        let prefilter = Prefilter {
            required: Arc::new(required),
            search,
            automata,
            checks,
        };
        tracing::debug!(shape = ?prefilter.shape(), "prefilter built");
        Ok(prefilter)
    }

    /// The same prefilter, its literal search fitted to text like `sample`
    /// (the first bytes of a stream): of each literal it searches for the
    /// part whose first bytes are rarest in the sample. The vectorised
    /// search tells literals apart by their first four bytes; where those
    /// are common in the text (`http` in an access log), every place they
    /// occur has to be checked. A part of a literal occurs wherever the
    /// literal does, so the lines found are the same; only fewer false
    /// candidates are looked at.
    pub fn tuned(&self, sample: &[u8]) -> Prefilter {
        let (literals, owners) = &*self.required;
        if sample.is_empty() || literals.is_empty() {
            return self.clone();
        }
        let parts = rare_parts(literals, sample);
        let (parts, owners) = merge_contained(parts, owners.clone());
        match LiteralSearch::new(parts, owners) {
            Ok(search) => Prefilter {
                search: Arc::new(search),
                ..self.clone()
            },
            Err(_) => self.clone(),
        }
    }

    /// Searches as `other` does: `other` is this prefilter, or a copy of
    /// it, [`Prefilter::tuned`] or not. A copy per thread keeps each thread's
    /// regexes to itself (a regex shared by threads hands its scratch memory
    /// over through a lock at every line checked); this hands it another
    /// stream's search without building the regexes again.
    pub fn search_like(&mut self, other: &Prefilter) {
        self.search = Arc::clone(&other.search);
    }

    /// How the regexes are searched for.
    pub fn shape(&self) -> Shape {
        let automaton: usize = self.automata.iter().map(|a| a.owners.len()).sum();
        Shape {
            with_literals: self.checks.len() - automaton,
            literals: self.search.literals.len(),
            literal_passes: self.search.passes.len(),
            automaton,
            automaton_passes: self.automata.len(),
        }
    }

    /// Appends to `out` the `(start, end)` of every line of `region` that
    /// some regex matches (`end` is where its terminator is, or the end of
    /// `region`), sorted, each once. `region` holds whole lines; the answer
    /// is exact for lines that are valid UTF-8.
    pub fn matching_lines(
        &self,
        region: &[u8],
        scratch: &mut Scratch,
        out: &mut Vec<(usize, usize)>,
    ) {
        let first = out.len();
        let search = &self.search;
        for pass in &search.passes {
            let mut pos = 0;
            let mut line = (usize::MAX, 0);
            while pos < region.len() {
                let found = match &pass.searcher {
                    Searcher::Teddy(searcher) => searcher
                        .find_in(region, aho_corasick::Span::from(pos..region.len()))
                        .map(|m| (m.start(), m.pattern().as_usize())),
                    Searcher::AhoCorasick(ac) => ac
                        .find(aho_corasick::Input::new(region).range(pos..))
                        .map(|m| (m.start(), m.pattern().as_usize())),
                };
                let Some((at, literal)) = found else { break };
                if line.0 == usize::MAX || at > line.1 {
                    line = line_around(region, at);
                    scratch.next_line(self.checks.len());
                }
                let literal = pass.ids[literal];
                let text = std::str::from_utf8(&region[line.0..line.1]).ok();
                let hit = std::iter::once(literal)
                    .chain(
                        search.related[literal as usize]
                            .iter()
                            .copied()
                            .filter(|&other| {
                                region[at..].starts_with(&search.literals[other as usize])
                            }),
                    )
                    .flat_map(|lit| &search.owners[lit as usize])
                    .any(|&owner| {
                        scratch.first_time(owner)
                            && text.is_some_and(|t| self.checks[owner as usize].is_match(t))
                    });
                if hit {
                    out.push(line);
                    pos = line.1 + 1;
                } else {
                    pos = at + 1;
                }
            }
        }
        for automaton in &self.automata {
            let mut pos = 0;
            while pos < region.len() {
                let input = Input::new(region).range(pos..).earliest(true);
                let Some(half) = automaton.regex.search_half(&input) else {
                    break;
                };
                // A non-empty match ends after its last byte.
                let at = if half.offset() > pos {
                    half.offset() - 1
                } else {
                    half.offset()
                };
                if at >= region.len() {
                    break;
                }
                let line = line_around(region, at);
                let text = std::str::from_utf8(&region[line.0..line.1]).ok();
                if automaton
                    .owners
                    .iter()
                    .any(|&owner| text.is_some_and(|t| self.checks[owner as usize].is_match(t)))
                {
                    out.push(line);
                }
                pos = line.1 + 1;
            }
        }
        if search.passes.len() + self.automata.len() > 1 {
            out[first..].sort_unstable();
            let mut kept = first;
            for i in first..out.len() {
                if kept == first || out[kept - 1] != out[i] {
                    out[kept] = out[i];
                    kept += 1;
                }
            }
            out.truncate(kept);
        }
    }

    /// Whether some regex may match somewhere in `text`: one of the
    /// literals occurs in it, or a literal-less regex matches. Never false
    /// where a regex matches; cheap where none does (one short search per
    /// pass, no line is confirmed).
    pub fn may_match(&self, text: &[u8]) -> bool {
        self.search.passes.iter().any(|pass| match &pass.searcher {
            Searcher::Teddy(searcher) => searcher.find(text).is_some(),
            Searcher::AhoCorasick(ac) => ac.is_match(text),
        }) || self
            .automata
            .iter()
            .any(|automaton| automaton.regex.is_match(text))
    }
}

/// Merges each literal that contains a shorter one into it: wherever the
/// longer occurs the shorter does, so searching for the shorter alone finds
/// both, with one literal less to search for.
fn merge_contained(literals: Vec<Vec<u8>>, owners: Vec<Vec<u32>>) -> (Vec<Vec<u8>>, Vec<Vec<u32>>) {
    let mut order: Vec<usize> = (0..literals.len()).collect();
    order.sort_by_key(|&i| (literals[i].len(), i));
    let mut kept: Vec<Vec<u8>> = Vec::new();
    let mut kept_owners: Vec<Vec<u32>> = Vec::new();
    for i in order {
        let container = kept
            .iter()
            .position(|k| memchr::memmem::find(&literals[i], k).is_some());
        match container {
            Some(k) => kept_owners[k].extend(&owners[i]),
            None => {
                kept.push(literals[i].clone());
                kept_owners.push(owners[i].clone());
            }
        }
    }
    for owners in &mut kept_owners {
        owners.sort_unstable();
        owners.dedup();
    }
    (kept, kept_owners)
}

/// Needles shorter than this are not shared: too common.
const MIN_NEEDLE: usize = 4;
/// Nor longer than this: sharing is about short common words.
const MAX_NEEDLE: usize = 12;
/// A shared needle must be at least this rare (bits, see
/// [`literals::literal_bits`]): it is searched for wherever any of the
/// literals it stands for would be.
const NEEDLE_BITS: f64 = 22.0;

/// Replaces literals by fewer needles where several literals share a rare
/// substring: wherever a literal occurs its substring does, so searching for
/// the substring alone finds them all. The search costs about the same per
/// needle whatever its length, so fewer needles is faster, as long as they
/// stay rare. Greedy set cover: the rare substring shared by the most
/// literals not yet covered first; literals left over stand for themselves.
fn share_needles(literals: Vec<Vec<u8>>, owners: Vec<Vec<u32>>) -> (Vec<Vec<u8>>, Vec<Vec<u32>>) {
    // Every (window, literal) pair, sorted: the literals holding a window
    // are then neighbours (one sort is much cheaper than a map of lists).
    let mut pairs: Vec<(&[u8], usize)> = Vec::new();
    for (id, literal) in literals.iter().enumerate() {
        for len in MIN_NEEDLE..=MAX_NEEDLE.min(literal.len()) {
            pairs.extend(literal.windows(len).map(|window| (window, id)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut candidates: Vec<(&[u8], Vec<usize>, f64)> = pairs
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|group| group.len() >= 2 && !literals::word_like(group[0].0))
        .map(|group| {
            let needle = group[0].0;
            let ids = group.iter().map(|&(_, id)| id).collect();
            (needle, ids, literals::literal_bits(needle))
        })
        .filter(|(_, _, bits)| *bits >= NEEDLE_BITS)
        .collect();
    let mut covered = vec![false; literals.len()];
    let mut needles: Vec<Vec<u8>> = Vec::new();
    let mut needle_owners: Vec<Vec<u32>> = Vec::new();
    loop {
        // One pass: drop candidates that cover fewer than two new literals,
        // and find the one covering most (then the rarest, then the first).
        let mut best: Option<(usize, f64, usize)> = None;
        let mut kept = 0;
        for i in 0..candidates.len() {
            let fresh = candidates[i].1.iter().filter(|&&id| !covered[id]).count();
            if fresh < 2 {
                continue;
            }
            candidates.swap(kept, i);
            let bits = candidates[kept].2;
            if best.is_none_or(|(f, b, _)| (fresh, bits) > (f, b)) {
                best = Some((fresh, bits, kept));
            }
            kept += 1;
        }
        candidates.truncate(kept);
        let Some((_, _, at)) = best else {
            break;
        };
        let (needle, ids) = (candidates[at].0.to_vec(), candidates[at].1.clone());
        let mut all: Vec<u32> = Vec::new();
        for &id in ids.iter() {
            if !covered[id] {
                covered[id] = true;
                all.extend(&owners[id]);
            }
        }
        all.sort_unstable();
        all.dedup();
        needles.push(needle);
        needle_owners.push(all);
    }
    for (id, literal) in literals.iter().enumerate() {
        if !covered[id] {
            needles.push(literal.clone());
            needle_owners.push(owners[id].clone());
        }
    }
    (needles, needle_owners)
}

/// Sorts literals: those shorter than 4 bytes last (they go in the last
/// pass), and so that those sharing their first bytes land in the same pass:
/// Teddy's fingerprints of a pass are tighter, so it verifies fewer false
/// candidates.
fn by_prefix(literals: Vec<Vec<u8>>, owners: Vec<Vec<u32>>) -> (Vec<Vec<u8>>, Vec<Vec<u32>>) {
    let mut pairs: Vec<(Vec<u8>, Vec<u32>)> = literals.into_iter().zip(owners).collect();
    pairs.sort_by(|a, b| (a.0.len() < 4, &a.0).cmp(&(b.0.len() < 4, &b.0)));
    pairs.into_iter().unzip()
}

/// One automaton over `hirs`, finding their matches in many lines at once.
fn automaton(hirs: &[Hir]) -> Result<meta::Regex, BuildError> {
    let regex = meta::Regex::builder()
        .syntax(syntax::Config::new().multi_line(true).crlf(true))
        .configure(
            meta::Config::new()
                .nfa_size_limit(Some(REST_NFA_LIMIT))
                .hybrid_cache_capacity(REST_DFA_CACHE)
                .which_captures(regex_automata::nfa::thompson::WhichCaptures::Implicit),
        )
        .build_many_from_hir(hirs)
        .map_err(Box::new)?;
    Ok(regex)
}

impl LiteralSearch {
    /// The search for `literals` (each standing for its `owners`).
    fn new(literals: Vec<Vec<u8>>, owners: Vec<Vec<u32>>) -> Result<LiteralSearch, BuildError> {
        let (literals, owners) = by_prefix(literals, owners);
        let passes = passes(&literals)?;
        let related = related(&literals, &passes);
        Ok(LiteralSearch {
            passes,
            literals,
            owners,
            related,
        })
    }
}

/// The passes for `literals` (sorted by [`by_prefix`]): Teddy, 64 literals
/// per pass, when few enough; else one Aho-Corasick DFA pass.
fn passes(literals: &[Vec<u8>]) -> Result<Vec<Pass>, BuildError> {
    if literals.is_empty() {
        return Ok(Vec::new());
    }
    if literals.len() <= MAX_TEDDY_LITERALS {
        // Teddy fingerprints a pass's literals by their first bytes, as many
        // as its shortest literal has (up to 4): one short literal among long
        // ones makes the whole pass verify many more false candidates. The
        // short ones (sorted last) share the last, smallest pass, or get one
        // of their own if it is full.
        let short = literals.iter().rev().take_while(|l| l.len() < 4).count();
        let long = literals.len() - short;
        let mut bounds = vec![0];
        let mut at = 0;
        while long - at > TEDDY_GROUP {
            at += TEDDY_GROUP;
            bounds.push(at);
        }
        if short > 0 && long - at + short > TEDDY_GROUP {
            bounds.push(long);
        }
        bounds.push(literals.len());
        bounds.dedup();
        let teddy: Option<Vec<Pass>> = bounds
            .windows(2)
            .map(|w| {
                let ids = teddy_order(w[0], w[1] - w[0]);
                let searcher = packed::Config::new()
                    .builder()
                    .extend(ids.iter().map(|&id| &literals[id as usize]))
                    .build()?;
                Some(Pass {
                    searcher: Searcher::Teddy(searcher),
                    ids,
                })
            })
            .collect();
        if let Some(teddy) = teddy {
            return Ok(teddy);
        }
    }
    let ac = AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .match_kind(MatchKind::LeftmostFirst)
        .build(literals)?;
    Ok(vec![Pass {
        searcher: Searcher::AhoCorasick(ac),
        ids: (0..literals.len() as u32).collect(),
    }])
}

/// The order in which to give Teddy the `count` literals starting at id
/// `first` (sorted, so that neighbours share their first bytes), so that
/// neighbours land in the same bucket. Teddy puts its pattern `k` in bucket
/// `B - 1 - k % B` (8 buckets up to 32 patterns, else 16) and checks, where
/// the bytes at some place fit the first-byte masks of a bucket, each of its
/// literals there. Neighbours in a bucket keep its masks tight; literals
/// spread over the buckets (the order they come in) make every bucket's
/// masks loose, and common text fits them: many more false candidates.
fn teddy_order(first: usize, count: usize) -> Vec<u32> {
    let buckets = if count > 32 { 16 } else { 8 };
    let mut order = vec![0u32; count];
    let mut next = first as u32;
    for bucket in 0..buckets {
        // The patterns Teddy puts in this bucket, in order.
        let mut k = buckets - 1 - bucket;
        while k < count {
            order[k] = next;
            next += 1;
            k += buckets;
        }
    }
    order
}

/// For each literal, the others in its pass that can match at the same
/// start: those it is a prefix of, and those that are a prefix of it.
fn related(literals: &[Vec<u8>], passes: &[Pass]) -> Vec<Vec<u32>> {
    let mut related = vec![Vec::new(); literals.len()];
    for pass in passes {
        for &a in &pass.ids {
            for &b in &pass.ids {
                let (la, lb) = (&literals[a as usize], &literals[b as usize]);
                if a != b && (la.starts_with(lb) || lb.starts_with(la)) {
                    related[a as usize].push(b);
                }
            }
        }
    }
    related
}

/// The prefix length Teddy tells literals apart by.
const FINGERPRINT: usize = 4;
/// A part of a literal searched for instead of it is at least this long (or
/// the whole literal): shorter ones occur by chance too often.
const MIN_PART: usize = 6;

/// Of each literal, its longest part (a suffix: it occurs wherever the
/// literal does) whose first [`FINGERPRINT`] bytes occur least often in
/// `sample`; the whole literal when none is rarer.
fn rare_parts(literals: &[Vec<u8>], sample: &[u8]) -> Vec<Vec<u8>> {
    let starts = |literal: &Vec<u8>| {
        let min = MIN_PART.max(FINGERPRINT).min(literal.len());
        0..=literal.len() - min
    };
    let key = |bytes: &[u8]| -> [u8; FINGERPRINT] {
        let mut key = [0; FINGERPRINT];
        key.copy_from_slice(&bytes[..FINGERPRINT]);
        key
    };
    let mut counts: HashMap<[u8; FINGERPRINT], u32> = HashMap::new();
    let mut first = [false; 256];
    for literal in literals.iter().filter(|l| l.len() > FINGERPRINT) {
        for start in starts(literal) {
            counts.insert(key(&literal[start..]), 0);
            first[usize::from(literal[start])] = true;
        }
    }
    for at in 0..sample.len().saturating_sub(FINGERPRINT - 1) {
        if first[usize::from(sample[at])]
            && let Some(count) = counts.get_mut(&key(&sample[at..]))
        {
            *count += 1;
        }
    }
    literals
        .iter()
        .map(|literal| {
            if literal.len() <= FINGERPRINT {
                return literal.clone();
            }
            let best = starts(literal)
                .min_by_key(|&start| (counts[&key(&literal[start..])], start))
                .unwrap_or(0);
            literal[best..].to_vec()
        })
        .collect()
}

/// The line of `region` around byte `at`: from after the previous
/// terminator to the next one.
fn line_around(region: &[u8], at: usize) -> (usize, usize) {
    let start = memrchr2(b'\n', b'\r', &region[..at]).map_or(0, |i| i + 1);
    let end = memchr2(b'\n', b'\r', &region[at..]).map_or(region.len(), |i| at + i);
    (start, end)
}

/// `regex` with its start anchors (`^`, `\A`, `(?m)^`) dropped: it matches
/// wherever `regex` matches a part of the text starting anywhere (a
/// message that starts after a line's prefix), and more. The regex itself
/// when it has none.
pub fn without_start_anchors(regex: &Regex) -> Result<Regex, BuildError> {
    // The common case, a leading `^` or `\A` and no other start anchor:
    // the rest as written (the syntax tree printed back would spell out
    // every class, slower to compile).
    let pattern = regex.as_str();
    let rest = pattern
        .strip_prefix('^')
        .or_else(|| pattern.strip_prefix("\\A"));
    if let Some(rest) = rest
        && !super::may_anchor_start(rest)
    {
        return Ok(regex::RegexBuilder::new(rest)
            .size_limit(super::REGEX_SIZE_LIMIT)
            .build()?);
    }
    let hir = regex_syntax::parse(pattern).map_err(Box::new)?;
    let starts = hir.properties().look_set();
    if !(starts.contains(Look::Start)
        || starts.contains(Look::StartLF)
        || starts.contains(Look::StartCRLF))
    {
        return Ok(regex.clone());
    }
    let unanchored = unanchor_start(&hir);
    Ok(regex::RegexBuilder::new(&unanchored.to_string())
        .size_limit(super::REGEX_SIZE_LIMIT)
        .build()?)
}

/// [`without_start_anchors`] on a syntax tree: each start anchor made the
/// empty match (a superset of what it matched).
fn unanchor_start(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Look(Look::Start | Look::StartLF | Look::StartCRLF) => Hir::empty(),
        HirKind::Repetition(rep) => Hir::repetition(Repetition {
            min: rep.min,
            max: rep.max,
            greedy: rep.greedy,
            sub: Box::new(unanchor_start(&rep.sub)),
        }),
        HirKind::Capture(capture) => Hir::capture(Capture {
            index: capture.index,
            name: capture.name.clone(),
            sub: Box::new(unanchor_start(&capture.sub)),
        }),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(unanchor_start).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(unanchor_start).collect()),
        _ => hir.clone(),
    }
}

/// The same regex with text anchors (`\A`, `\z`) made line anchors, so that
/// run over many lines it still finds what it finds in one line.
fn per_line(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Look(Look::Start | Look::StartLF) => Hir::look(Look::StartCRLF),
        HirKind::Look(Look::End | Look::EndLF) => Hir::look(Look::EndCRLF),
        HirKind::Repetition(rep) => Hir::repetition(Repetition {
            min: rep.min,
            max: rep.max,
            greedy: rep.greedy,
            sub: Box::new(per_line(&rep.sub)),
        }),
        HirKind::Capture(capture) => Hir::capture(Capture {
            index: capture.index,
            name: capture.name.clone(),
            sub: Box::new(per_line(&capture.sub)),
        }),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(per_line).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(per_line).collect()),
        _ => hir.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn without_start_anchors_matches_where_the_anchored_regex_matches_a_part() {
        let regex = Regex::new(r"^a(?P<x>b)|(?m:^c)|\Ad|e^").expect("valid");
        let loose = without_start_anchors(&regex).expect("builds");
        for text in ["ab", "x ab", "zc", "yd", "e"] {
            assert!(loose.is_match(text), "{text}");
        }
        assert!(!loose.is_match("a x b"));
        assert_eq!(loose.capture_names().flatten().collect::<Vec<_>>(), ["x"]);
        let leading = without_start_anchors(&Regex::new(r"^\[INFO\] (?P<w>B)$").expect("valid"))
            .expect("builds");
        assert_eq!(leading.as_str(), r"\[INFO\] (?P<w>B)$");
        let plain = Regex::new("[^a]b$").expect("valid");
        assert_eq!(
            without_start_anchors(&plain).expect("builds").as_str(),
            "[^a]b$"
        );
    }

    fn compiled(patterns: &[&str]) -> Vec<Regex> {
        patterns
            .iter()
            .map(|p| Regex::new(p).expect("valid"))
            .collect()
    }

    /// Every line of `text` that some regex matches, as `(start, end)`.
    fn reference(patterns: &[&str], text: &[u8]) -> Vec<(usize, usize)> {
        let regexes: Vec<Regex> = patterns
            .iter()
            .map(|p| Regex::new(p).expect("valid"))
            .collect();
        let mut out = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i <= text.len() {
            if i == text.len() || text[i] == b'\n' || text[i] == b'\r' {
                let line = &text[start..i];
                if let Ok(line_text) = std::str::from_utf8(line)
                    && regexes.iter().any(|r| r.is_match(line_text))
                {
                    out.push((start, i));
                }
                if i + 1 < text.len() && text[i] == b'\r' && text[i + 1] == b'\n' {
                    i += 1;
                }
                start = i + 1;
            }
            i += 1;
        }
        out
    }

    fn found(prefilter: &Prefilter, text: &[u8]) -> Vec<(usize, usize)> {
        let mut lines = Vec::new();
        prefilter.matching_lines(text, &mut Scratch::default(), &mut lines);
        lines
            .into_iter()
            .filter(|&(s, e)| std::str::from_utf8(&text[s..e]).is_ok())
            .collect()
    }

    const PATTERNS: [&str; 8] = [
        r"FATAL: +(?P<reason>sorry, too many clients already|remaining connection slots)",
        r"^(?P<client>[^ ]+) [^ ]+ [^ ]+ \[[^\]]+\] (?P<status>5[0-9]{2}) ",
        r"[a-z]+\d{3,}$",
        r"^\d+ [a-z]+\b",
        r"\Aboot\z",
        r"(?:Out of memory|Memory cgroup out of memory): Kill(?:ed)? process (?P<pid>[0-9]+)",
        r"(?i:disk quota exceeded)",
        r"\bé\w+ ok",
    ];

    #[test]
    fn literals_and_the_automaton_share_the_work() {
        let prefilter = Prefilter::new(&compiled(&PATTERNS)).expect("builds");
        let shape = prefilter.shape();
        assert_eq!(shape.with_literals + shape.automaton, PATTERNS.len());
        assert!(shape.with_literals >= 3, "{shape:?}");
        assert!(shape.automaton >= 2, "{shape:?}");
    }

    #[test]
    fn finds_each_matching_line_once() {
        let prefilter = Prefilter::new(&compiled(&PATTERNS)).expect("builds");
        let text = b"ok\nx FATAL:  sorry, too many clients already\r\nboot\rnot boot\n\
            1.2.3.4 - - [x] 503 \n42 abc\nabc12\nabc1234\nabc1234 \nDISK QUOTA EXCEEDED\n\xff boot\n\
            \xc3\xa9t\xc3\xa9 ok\nOut of memory: Killed process 12 (java)";
        assert_eq!(found(&prefilter, text), reference(&PATTERNS, text));
        assert_eq!(reference(&PATTERNS, text).len(), 8);
    }

    #[test]
    fn short_literals_share_the_last_teddy_pass() {
        let code = |i: usize| {
            let a = char::from(b'A' + (i / 26) as u8);
            let b = char::from(b'A' + (i % 26) as u8);
            format!("Q{a}{b}Z")
        };
        let mut patterns: Vec<String> = (0..130).map(|i| format!("{}-[0-9]+", code(i))).collect();
        patterns.push(r#"" 5[0-9]{2} "#.to_owned());
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let prefilter = Prefilter::new(&compiled(&refs)).expect("builds");
        let shape = prefilter.shape();
        assert_eq!(
            (shape.literals, shape.literal_passes),
            (131, 3),
            "{shape:?}"
        );
        let text = format!(
            "x {}-12\n{}-\nGET /\" 503 1\n\" 200 1\n{}-7 {}-1\n",
            code(3),
            code(64),
            code(129),
            code(0)
        );
        let found = found(&prefilter, text.as_bytes());
        assert_eq!(found, reference(&refs, text.as_bytes()));
        assert_eq!(found.len(), 3);
    }

    #[test]
    fn many_patterns_use_one_automaton_pass() {
        let patterns: Vec<String> = (0..400)
            .map(|i| format!("component-{i}: quorum lost after (?P<n>[0-9]+) tries"))
            .collect();
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let prefilter = Prefilter::new(&compiled(&refs)).expect("builds");
        assert_eq!(prefilter.shape().literal_passes, 1);
        let text = b"x component-317: quorum lost after 3 tries\ncomponent-3: quorum lost\n";
        assert_eq!(found(&prefilter, text), reference(&refs, text));
    }

    #[test]
    fn neighbours_share_a_teddy_bucket() {
        // Teddy's bucket of pattern k is B - 1 - k % B.
        let bucket = |k: usize, b: usize| b - 1 - k % b;
        for (first, count) in [(0, 64), (64, 64), (128, 13), (0, 32), (5, 33), (0, 1)] {
            let order = teddy_order(first, count);
            let b = if count > 32 { 16 } else { 8 };
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(
                sorted,
                (first as u32..(first + count) as u32).collect::<Vec<_>>()
            );
            // Literal ids, sorted, go bucket by bucket.
            let mut by_bucket: Vec<(usize, u32)> = order
                .iter()
                .enumerate()
                .map(|(k, &id)| (bucket(k, b), id))
                .collect();
            by_bucket.sort_unstable();
            let ids: Vec<u32> = by_bucket.iter().map(|&(_, id)| id).collect();
            assert_eq!(ids, sorted, "{first} {count}");
        }
    }

    #[test]
    fn rare_parts_avoid_common_starts() {
        let literals = vec![
            b"http: panic serving ".to_vec(),
            b"Exception".to_vec(),
            b"OOM".to_vec(),
        ];
        let sample = b"GET http://x/ HTTP/1.1 http://y/ Exception\n".repeat(10);
        let parts = rare_parts(&literals, &sample);
        // `http` starts every referrer; the part chosen starts rarer.
        assert!(
            !parts[0].starts_with(b"http"),
            "{:?}",
            String::from_utf8_lossy(&parts[0])
        );
        assert!(literals[0].ends_with(&parts[0]) && parts[0].len() >= MIN_PART);
        // Equally common everywhere: the whole literal is kept.
        assert_eq!(parts[1], b"Exception");
        assert_eq!(parts[2], b"OOM");
    }

    /// Texts made of the pieces real lines and the signatures' edges are made of.
    fn text() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                Just(
                    "FATAL:  sorry, too many clients already"
                        .as_bytes()
                        .to_vec()
                ),
                Just(b"1.2.3.4 - - [21/Nov] 502 ".to_vec()),
                Just(b"abc123".to_vec()),
                Just(b"boot".to_vec()),
                Just(b"12 ab".to_vec()),
                Just(b"Memory cgroup out of memory: Kill process 7".to_vec()),
                Just(b"Disk Quota Exceeded".to_vec()),
                Just("\u{e9}t\u{e9} ok".as_bytes().to_vec()),
                Just(b"\n".to_vec()),
                Just(b"\r".to_vec()),
                Just(b"\r\n".to_vec()),
                Just(b" ".to_vec()),
                Just(vec![0xff]),
                "[a-z0-9 :]{0,12}".prop_map(String::into_bytes),
            ],
            0..40,
        )
        .prop_map(|pieces| pieces.concat())
    }

    /// Whatever the text, the prefilter keeps exactly the lines some regex
    /// matches (among valid UTF-8 lines).
    fn agrees(text: Vec<u8>) -> Result<(), TestCaseError> {
        let prefilter = Prefilter::new(&compiled(&PATTERNS)).expect("builds");
        let expected = reference(&PATTERNS, &text);
        prop_assert_eq!(found(&prefilter, &text), expected.clone());
        // Fitted to any sample (this text, or its start), the same lines.
        let tuned = prefilter.tuned(&text);
        prop_assert_eq!(found(&tuned, &text), expected.clone());
        let tuned = prefilter.tuned(&text[..text.len() / 3]);
        prop_assert_eq!(found(&tuned, &text), expected.clone());
        // `may_match` is never false on a line (or a text) some regex matches.
        for &(start, end) in &expected {
            prop_assert!(prefilter.may_match(&text[start..end]));
        }
        if !expected.is_empty() {
            prop_assert!(prefilter.may_match(&text));
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn agrees_with_a_per_line_reference(text in text()) {
            agrees(text)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::test_support::NIGHTLY_CASES))]

        #[test]
        #[ignore = "nightly: many cases, run by hand with `cargo test -- --ignored`"]
        fn agrees_with_a_per_line_reference_nightly(text in text()) {
            agrees(text)?;
        }
    }
}
