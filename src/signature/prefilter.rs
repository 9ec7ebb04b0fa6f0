//! Which lines of a buffer some signature may match, found without running
//! every regex on every line.
//!
//! Each regex gets a few required literals ([`super::literals`]). The
//! literals are searched for at once over the whole buffer, through needles
//! ([`needles`]: parts of them, one part shared by several literals where it
//! is rare), with vectorised packed searchers (Teddy, up to 64 needles per
//! pass, `memmem` for a pass of one; one Aho-Corasick DFA pass beyond 512
//! needles or where Teddy is unavailable). Where a needle occurs, the
//! literals it stands for are checked in place, and only the regexes owning
//! one found are run, on that line alone; a line one of them matches is
//! named, and the search goes on after it. Regexes with no useful literal
//! run as lazy-DFA automata over the buffer, with text anchors (`\A`, `\z`)
//! made line anchors, so that a match in a line is found in the buffer too.
//!
//! The needles are chosen once from a model of log text; a long stream gets
//! its own, fewer and rarer there, from its first bytes
//! ([`Prefilter::tuned`]).
//!
//! Invariant (checked by property tests against a per-line reference): every
//! line that is valid UTF-8 and that some regex matches as a string is named
//! by [`Prefilter::matching_lines`], and only such lines. Lines that are not
//! valid UTF-8, or were cut at the line length cap, read differently once
//! decoded: the caller takes them without asking. Pure: no I/O.

mod needles;

use std::{collections::HashMap, sync::Arc};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, packed};
use rayon::prelude::*;
use regex::Regex;
use regex_automata::{Input, PatternSet, meta, util::syntax};
use regex_syntax::hir::{Capture, Hir, HirKind, Look, Repetition};

use self::needles::Needle;
use super::literals;

/// Needles per Teddy searcher: beyond 64 (four per bucket) its fingerprints
/// get loose and it verifies many more false candidates.
const TEDDY_GROUP: usize = 64;
/// With more needles than this, one Aho-Corasick DFA pass beats that many
/// Teddy passes.
const MAX_TEDDY_NEEDLES: usize = 8 * TEDDY_GROUP;
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

/// A multi-needle searcher over the whole buffer.
#[derive(Debug, Clone)]
enum Searcher {
    Teddy(packed::Searcher),
    AhoCorasick(AhoCorasick),
    /// A pass of one needle (`memchr`'s search for one string is faster
    /// than Teddy's for one).
    One(memchr::memmem::Finder<'static>),
}

/// One pass over the buffer for some of the needles.
#[derive(Debug, Clone)]
struct Pass {
    searcher: Searcher,
    /// The needle id of each of the searcher's patterns.
    ids: Vec<u32>,
}

/// A pass of an automaton over the buffer for literal-less regexes.
#[derive(Debug, Clone)]
struct Automaton {
    regex: meta::Regex,
    /// The regexes it runs (pattern `i` of the automaton is `owners[i]`).
    owners: Vec<u32>,
}

/// The literals the regexes require, each with the regexes that require it
/// (one of their set).
#[derive(Debug)]
struct Required {
    literals: Vec<Vec<u8>>,
    owners: Vec<Vec<u32>>,
    /// Their four-byte strings, made for the first [`Prefilter::tuned`].
    grams: std::sync::OnceLock<needles::Grams>,
}

/// The needle search: the passes over the buffer, and what each needle
/// found stands for.
#[derive(Debug)]
struct NeedleSearch {
    passes: Vec<Pass>,
    /// Every needle, by id.
    needles: Vec<Needle>,
    /// For each needle, the needles of the same pass that can start at the
    /// same place (one is a prefix of the other): a search reports only one.
    related: Vec<Vec<u32>>,
}

/// Finds the lines that match one of a list of regexes.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// The literals the regexes require, with their owners.
    required: Arc<Required>,
    /// The needle search in use (shared by copies: see
    /// [`Prefilter::search_like`]).
    search: Arc<NeedleSearch>,
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
    /// Distinct literals they require.
    pub literals: usize,
    /// Needles searched for, standing for the literals.
    pub needles: usize,
    /// Passes over the buffer for needles.
    pub literal_passes: usize,
    /// Regexes run as automata over the buffer.
    pub automaton: usize,
    /// Passes over the buffer for them.
    pub automaton_passes: usize,
}

/// What one regex gives the search.
enum Found {
    /// Literals one of which each of its matches holds.
    Literals(Vec<Vec<u8>>),
    /// None worth searching for: its syntax, per line, for an automaton.
    Lines(Hir),
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
        // Each regex on its own, on every core; then together, in order.
        let found = regexes
            .par_iter()
            .map(|regex| -> Result<Found, BuildError> {
                let pattern = regex.as_str();
                let hir = regex_syntax::parse(pattern).map_err(Box::new)?;
                Ok(match literals::required(&hir) {
                    Some((set, score))
                        if score >= literals::MIN_SCORE && set.len() <= MAX_LITERALS_PER_REGEX =>
                    {
                        Found::Literals(set)
                    }
                    _ => {
                        let lines = regex_syntax::ParserBuilder::new()
                            .multi_line(true)
                            .crlf(true)
                            .build()
                            .parse(pattern)
                            .map_err(Box::new)?;
                        Found::Lines(per_line(&lines))
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (index, found) in found.into_iter().enumerate() {
            let owner = index as u32;
            match found {
                Found::Literals(set) => {
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
                Found::Lines(hir) => {
                    rest_hirs.push(hir);
                    rest_owners.push(owner);
                }
            }
        }
        let search = Arc::new(NeedleSearch::new(needles::from_model(&literals))?);
        let automata = if rest_hirs.len() <= MAX_SEPARATE_AUTOMATA {
            rest_hirs
                .par_iter()
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
            required: Arc::new(Required {
                literals,
                owners,
                grams: std::sync::OnceLock::new(),
            }),
            search,
            automata,
            checks,
        };
        tracing::debug!(shape = ?prefilter.shape(), "prefilter built");
        Ok(prefilter)
    }

    /// The same prefilter, its needles fitted to text like `sample` (the
    /// first bytes of a stream): the fewest four-byte strings rare in the
    /// sample that the literals share, and for each literal left over, its
    /// part from its four bytes rarest there on. Every literal is still
    /// found wherever it occurs, so the lines named are the same; fewer
    /// needles are fewer passes, and rarer ones fewer false candidates.
    pub fn tuned(&self, sample: &[u8]) -> Prefilter {
        if sample.is_empty() || self.required.literals.is_empty() {
            return self.clone();
        }
        let literals = &self.required.literals;
        let grams = self
            .required
            .grams
            .get_or_init(|| needles::Grams::new(literals));
        match NeedleSearch::new(needles::from_sample(literals, grams, sample)) {
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
            literals: self.required.literals.len(),
            needles: self.search.needles.len(),
            literal_passes: self.search.passes.len(),
            automaton,
            automaton_passes: self.automata.len(),
        }
    }

    /// The literals found where needle `needle` (of a pass) was found at
    /// `at` of `haystack`, through it or through a needle of its pass
    /// starting at the same place.
    fn literals_at<'a>(
        &'a self,
        haystack: &'a [u8],
        at: usize,
        needle: u32,
    ) -> impl Iterator<Item = u32> + 'a {
        let search = &*self.search;
        let required = &*self.required;
        std::iter::once(needle)
            .chain(
                search.related[needle as usize]
                    .iter()
                    .copied()
                    .filter(move |&other| {
                        haystack[at..].starts_with(&search.needles[other as usize].bytes)
                    }),
            )
            .flat_map(move |n| &search.needles[n as usize].stands_for)
            .filter(move |&&(literal, offset)| {
                let offset = offset as usize;
                at >= offset
                    && haystack[at - offset..].starts_with(&required.literals[literal as usize])
            })
            .map(|&(literal, _)| literal)
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
        let search = &*self.search;
        for pass in &search.passes {
            let mut pos = 0;
            let mut line = (usize::MAX, 0);
            let mut text = None;
            while pos < region.len() {
                let Some((at, needle)) = pass.find(region, pos) else {
                    break;
                };
                // Most needles found stand for no literal there: the line
                // is looked for only when one does.
                let mut owners = self
                    .literals_at(region, at, pass.ids[needle])
                    .flat_map(|literal| &self.required.owners[literal as usize])
                    .peekable();
                if owners.peek().is_none() {
                    pos = at + 1;
                    continue;
                }
                if line.0 == usize::MAX || at > line.1 {
                    line = crate::lines::around(region, at);
                    text = std::str::from_utf8(&region[line.0..line.1]).ok();
                    scratch.next_line(self.checks.len());
                }
                let hit = owners.any(|&owner| {
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
                let line = crate::lines::around(region, at);
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
            crate::lines::sort_unique(out, first);
        }
    }

    /// Sets `out` to the regexes (by index, sorted, each once) that may
    /// match some line of `text`: those owning a literal found in it, and
    /// the literal-less ones their automaton finds in it. Every regex that
    /// matches a line of `text` is among them; the caller confirms.
    pub fn candidates(&self, text: &[u8], out: &mut Vec<u32>) {
        out.clear();
        for pass in &self.search.passes {
            let mut pos = 0;
            while let Some((at, needle)) = pass.find(text, pos) {
                for literal in self.literals_at(text, at, pass.ids[needle]) {
                    out.extend(&self.required.owners[literal as usize]);
                }
                pos = at + 1;
            }
        }
        for automaton in &self.automata {
            if let [owner] = automaton.owners[..] {
                if automaton.regex.is_match(text) {
                    out.push(owner);
                }
                continue;
            }
            let mut matched = PatternSet::new(automaton.regex.pattern_len());
            automaton
                .regex
                .which_overlapping_matches(&Input::new(text), &mut matched);
            out.extend(matched.iter().map(|p| automaton.owners[p.as_usize()]));
        }
        out.sort_unstable();
        out.dedup();
    }
}

impl Pass {
    /// The first needle of this pass found at or after `pos`: where, and
    /// which of the searcher's patterns.
    fn find(&self, haystack: &[u8], pos: usize) -> Option<(usize, usize)> {
        match &self.searcher {
            Searcher::Teddy(searcher) => searcher
                .find_in(haystack, aho_corasick::Span::from(pos..haystack.len()))
                .map(|m| (m.start(), m.pattern().as_usize())),
            Searcher::AhoCorasick(ac) => ac
                .find(aho_corasick::Input::new(haystack).range(pos..))
                .map(|m| (m.start(), m.pattern().as_usize())),
            Searcher::One(finder) => finder.find(&haystack[pos..]).map(|at| (pos + at, 0)),
        }
    }
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

impl NeedleSearch {
    /// The search for `needles`.
    fn new(mut needles: Vec<Needle>) -> Result<NeedleSearch, BuildError> {
        // Those shorter than four bytes last (they go in the last pass), and
        // so that those sharing their first bytes land in the same pass and
        // bucket: Teddy's fingerprints of a pass are tighter, so it
        // verifies fewer false candidates.
        needles.sort_by(|a, b| (a.bytes.len() < 4, &a.bytes).cmp(&(b.bytes.len() < 4, &b.bytes)));
        let passes = passes(&needles)?;
        let related = related(&needles, &passes);
        Ok(NeedleSearch {
            passes,
            needles,
            related,
        })
    }
}

/// The passes for `needles` (sorted as [`NeedleSearch::new`] does): Teddy,
/// at most 64 needles per pass (a pass of one needle by `memmem`), when few
/// enough; else one Aho-Corasick DFA pass.
fn passes(needles: &[Needle]) -> Result<Vec<Pass>, BuildError> {
    if needles.is_empty() {
        return Ok(Vec::new());
    }
    if needles.len() <= MAX_TEDDY_NEEDLES {
        // Teddy fingerprints a pass's needles by their first bytes, as many
        // as its shortest needle has (up to 4): one short needle among long
        // ones makes the whole pass verify many more false candidates. The
        // short ones (sorted last) get a pass of their own; the long ones
        // are spread evenly over as few passes as hold them.
        let short = needles
            .iter()
            .rev()
            .take_while(|n| n.bytes.len() < 4)
            .count();
        let long = needles.len() - short;
        let count = long.div_ceil(TEDDY_GROUP);
        let mut bounds: Vec<usize> = (0..=count).map(|i| i * long / count.max(1)).collect();
        for at in (long + TEDDY_GROUP..needles.len()).step_by(TEDDY_GROUP) {
            bounds.push(at);
        }
        bounds.push(needles.len());
        bounds.dedup();
        let teddy: Option<Vec<Pass>> = bounds
            .windows(2)
            .map(|w| {
                let ids = teddy_order(w[0], w[1] - w[0]);
                if let [id] = ids[..] {
                    let needle = &needles[id as usize].bytes;
                    return Some(Pass {
                        searcher: Searcher::One(memchr::memmem::Finder::new(needle).into_owned()),
                        ids,
                    });
                }
                let searcher = packed::Config::new()
                    .builder()
                    .extend(ids.iter().map(|&id| &needles[id as usize].bytes))
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
        .build(needles.iter().map(|n| &n.bytes))?;
    Ok(vec![Pass {
        searcher: Searcher::AhoCorasick(ac),
        ids: (0..needles.len() as u32).collect(),
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

/// For each needle, the others in its pass that can match at the same
/// start: those it is a prefix of, and those that are a prefix of it.
fn related(needles: &[Needle], passes: &[Pass]) -> Vec<Vec<u32>> {
    let mut related = vec![Vec::new(); needles.len()];
    for pass in passes {
        for &a in &pass.ids {
            for &b in &pass.ids {
                let (na, nb) = (&needles[a as usize].bytes, &needles[b as usize].bytes);
                if a != b && (na.starts_with(nb) || nb.starts_with(na)) {
                    related[a as usize].push(b);
                }
            }
        }
    }
    related
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
    fn short_literals_get_a_pass_of_their_own() {
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
        // 130 long needles in three passes of 43 or 44, the short one alone.
        assert_eq!(
            (shape.literals, shape.needles, shape.literal_passes),
            (131, 131, 4),
            "{shape:?}"
        );
        let sizes: Vec<usize> = prefilter
            .search
            .passes
            .iter()
            .map(|p| p.ids.len())
            .collect();
        assert_eq!(sizes, [43, 43, 44, 1]);
        // The one short needle is searched for by `memmem`.
        assert!(matches!(
            prefilter.search.passes[3].searcher,
            Searcher::One(_)
        ));
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
    fn literals_sharing_a_rare_part_are_one_needle() {
        let patterns: Vec<String> = (0..400)
            .map(|i| format!("component-{i}: quorum lost after (?P<n>[0-9]+) tries"))
            .collect();
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let prefilter = Prefilter::new(&compiled(&refs)).expect("builds");
        let shape = prefilter.shape();
        assert_eq!(
            (shape.literals, shape.needles, shape.literal_passes),
            (400, 1, 1)
        );
        // The needle is found on both lines; the literals it stands for are
        // told apart in place.
        let text = b"x component-317: quorum lost after 3 tries\ncomponent-3: quorum lost\n";
        assert_eq!(found(&prefilter, text), reference(&refs, text));
        assert_eq!(found(&prefilter, text).len(), 1);
    }

    #[test]
    fn many_needles_use_one_automaton_pass() {
        // Distinct codes, no rare part shared: more needles than Teddy
        // passes pay for.
        let code = |i: usize| {
            let [a, b, c] = [i / 676, i / 26 % 26, i % 26].map(|d| char::from(b'a' + d as u8));
            format!("{a}{b}{c}")
        };
        let patterns: Vec<String> = (0..600).map(|i| format!("#{}#-[0-9]+", code(i))).collect();
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let prefilter = Prefilter::new(&compiled(&refs)).expect("builds");
        let shape = prefilter.shape();
        assert!(shape.needles > MAX_TEDDY_NEEDLES, "{shape:?}");
        assert_eq!(shape.literal_passes, 1);
        assert!(matches!(
            prefilter.search.passes[0].searcher,
            Searcher::AhoCorasick(_)
        ));
        let text = format!("x #{}#-7\n#{}# found\n", code(317), code(3));
        assert_eq!(
            found(&prefilter, text.as_bytes()),
            reference(&refs, text.as_bytes())
        );
        assert_eq!(found(&prefilter, text.as_bytes()).len(), 1);
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
    fn a_tuned_search_has_fewer_needles_and_finds_the_same_lines() {
        // Failures of many components, worded alike: the model keeps a
        // needle per wording, a sample shares the parts rare in it.
        let mut patterns = Vec::new();
        for verb in ["renew lease", "exit within", "start daemon", "reach peer"] {
            for component in ["etcd", "kubelet", "dockerd", "consul", "vault", "nomad"] {
                patterns.push(format!(r"{component} failed to {verb} \d+"));
            }
        }
        patterns.push(r"http: panic serving (?P<addr>\S+)".to_owned());
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let prefilter = Prefilter::new(&compiled(&refs)).expect("builds");
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(&format!(
                "GET http://shop/{i} 200 kubelet failed to nothing\n"
            ));
            if i % 500 == 7 {
                text.push_str("vault failed to renew lease 4\nhttp: panic serving 1.2.3.4\n");
            }
        }
        let tuned = prefilter.tuned(&text.as_bytes()[..64 << 10]);
        let (model, fitted) = (prefilter.shape(), tuned.shape());
        assert!(fitted.needles < model.needles, "{model:?} {fitted:?}");
        for needle in &tuned.search.needles {
            let bytes = String::from_utf8_lossy(&needle.bytes);
            assert!(
                !bytes.starts_with("http") && !bytes.contains("failed to n"),
                "{bytes}"
            );
        }
        let expected = reference(&refs, text.as_bytes());
        assert_eq!(expected.len(), 12);
        assert_eq!(found(&prefilter, text.as_bytes()), expected);
        assert_eq!(found(&tuned, text.as_bytes()), expected);
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
        // The candidates of a text hold every regex that matches one of its
        // lines, whichever search finds them.
        let regexes = compiled(&PATTERNS);
        let mut candidates = Vec::new();
        for search in [&prefilter, &tuned] {
            search.candidates(&text, &mut candidates);
            for line in text.split(|&b| b == b'\n' || b == b'\r') {
                let Ok(line) = std::str::from_utf8(line) else {
                    continue;
                };
                for (i, regex) in regexes.iter().enumerate() {
                    if regex.is_match(line) {
                        prop_assert!(candidates.contains(&(i as u32)), "{i} {line:?}");
                    }
                }
            }
        }
        Ok(())
    }

    /// Regexes whose literals share parts, so that needles stand for
    /// several literals (and the tuned ones for others again).
    fn alike() -> Vec<String> {
        let mut patterns = Vec::new();
        for verb in ["renew lease", "exit within", "start daemon"] {
            for component in ["etcd", "kubelet", "vault"] {
                patterns.push(format!(r"{component}\[\d+\]: failed to {verb} \d+"));
            }
        }
        patterns.push(r"failed to (?:reach|exit) (?P<peer>\w+)".to_owned());
        patterns.push(r"to renew lease$".to_owned());
        patterns.push(r"(?i:lease lost)".to_owned());
        patterns.push(r"eexit within".to_owned());
        patterns
    }

    /// Texts made of the pieces of [`alike`]'s literals.
    fn alike_text() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                Just(b"failed to ".to_vec()),
                Just(b"renew lease".to_vec()),
                Just(b"exit within".to_vec()),
                Just(b"start daemon".to_vec()),
                Just(b"reach ".to_vec()),
                Just(b"etcd[".to_vec()),
                Just(b"kubelet[".to_vec()),
                Just(b"vault[".to_vec()),
                Just(b"]: ".to_vec()),
                Just(b"LEASE Lost".to_vec()),
                Just(b"e".to_vec()),
                Just(b"\n".to_vec()),
                Just(b"\r\n".to_vec()),
                "[0-9 a-z]{0,4}".prop_map(String::into_bytes),
            ],
            0..60,
        )
        .prop_map(|pieces| pieces.concat())
    }

    /// Whatever the text, the model's needles and those fitted to any
    /// sample find the lines some regex matches, and only those.
    fn agrees_alike(text: Vec<u8>, cut: usize) -> Result<(), TestCaseError> {
        let patterns = alike();
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let prefilter = Prefilter::new(&compiled(&refs)).expect("builds");
        let expected = reference(&refs, &text);
        prop_assert_eq!(found(&prefilter, &text), expected.clone());
        let cut = cut.min(text.len());
        for sample in [&text[..], &text[..cut], &text[cut..]] {
            let tuned = prefilter.tuned(sample);
            prop_assert_eq!(found(&tuned, &text), expected.clone());
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn agrees_with_a_per_line_reference(text in text()) {
            agrees(text)?;
        }

        #[test]
        fn shared_needles_agree_with_a_per_line_reference(
            text in alike_text(),
            cut in 0usize..400,
        ) {
            agrees_alike(text, cut)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::test_support::NIGHTLY_CASES))]

        #[test]
        #[ignore = "nightly: many cases, run by hand with `cargo test -- --ignored`"]
        fn agrees_with_a_per_line_reference_nightly(text in text()) {
            agrees(text)?;
        }

        #[test]
        #[ignore = "nightly: many cases, run by hand with `cargo test -- --ignored`"]
        fn shared_needles_agree_with_a_per_line_reference_nightly(
            text in alike_text(),
            cut in 0usize..400,
        ) {
            agrees_alike(text, cut)?;
        }
    }
}
