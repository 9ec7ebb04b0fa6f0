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

use std::collections::HashMap;

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
}

/// A multi-literal searcher over the whole buffer.
#[derive(Debug)]
enum Searcher {
    Teddy(packed::Searcher),
    AhoCorasick(AhoCorasick),
}

/// One pass over the buffer for some of the literals.
#[derive(Debug)]
struct Pass {
    searcher: Searcher,
    /// Global id of the pass's first literal.
    base: usize,
}

/// A pass of an automaton over the buffer for literal-less regexes.
#[derive(Debug)]
struct Automaton {
    regex: meta::Regex,
    /// The regexes it runs.
    owners: Vec<u32>,
}

/// Finds the lines that match one of a list of regexes.
#[derive(Debug)]
pub struct Prefilter {
    /// Literal searches over the buffer.
    passes: Vec<Pass>,
    /// Every literal, by global id.
    literals: Vec<Vec<u8>>,
    /// For each literal, the regexes that require it (one of their set).
    owners: Vec<Vec<u32>>,
    /// For each literal, the literals of the same pass that can start at the
    /// same place (one is a prefix of the other): a search reports only one.
    related: Vec<Vec<u32>>,
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
        let (literals, owners) = share_needles(literals, owners);
        let (literals, owners) = by_prefix(literals, owners);
        let passes = passes(&literals)?;
        let related = related(&literals, &passes);
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
            passes,
            literals,
            owners,
            related,
            automata,
            checks,
        };
        tracing::debug!(shape = ?prefilter.shape(), "prefilter built");
        Ok(prefilter)
    }

    /// How the regexes are searched for.
    pub fn shape(&self) -> Shape {
        let automaton: usize = self.automata.iter().map(|a| a.owners.len()).sum();
        Shape {
            with_literals: self.checks.len() - automaton,
            literals: self.literals.len(),
            literal_passes: self.passes.len(),
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
        for pass in &self.passes {
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
                let literal = pass.base + literal;
                let text = std::str::from_utf8(&region[line.0..line.1]).ok();
                let hit =
                    std::iter::once(literal as u32)
                        .chain(self.related[literal].iter().copied().filter(|&other| {
                            region[at..].starts_with(&self.literals[other as usize])
                        }))
                        .flat_map(|lit| &self.owners[lit as usize])
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
        if self.passes.len() + self.automata.len() > 1 {
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
        self.passes.iter().any(|pass| match &pass.searcher {
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
    let mut holders: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (id, literal) in literals.iter().enumerate() {
        for len in MIN_NEEDLE..=MAX_NEEDLE.min(literal.len()) {
            for window in literal.windows(len) {
                let ids = holders.entry(window).or_default();
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
        }
    }
    let mut candidates: Vec<(&[u8], Vec<usize>, f64)> = holders
        .into_iter()
        .filter(|(needle, ids)| ids.len() >= 2 && !literals::word_like(needle))
        .map(|(needle, ids)| (needle, ids, literals::literal_bits(needle)))
        .filter(|(_, _, bits)| *bits >= NEEDLE_BITS)
        .collect();
    // Deterministic order whatever the hash map's.
    candidates.sort_by(|a, b| a.0.cmp(b.0));
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

/// For each literal, the others in its pass that can match at the same
/// start: those it is a prefix of, and those that are a prefix of it.
fn related(literals: &[Vec<u8>], passes: &[Pass]) -> Vec<Vec<u32>> {
    let mut related = vec![Vec::new(); literals.len()];
    let mut bounds: Vec<usize> = passes.iter().map(|p| p.base).collect();
    bounds.push(literals.len());
    for pass in bounds.windows(2) {
        for a in pass[0]..pass[1] {
            for b in pass[0]..pass[1] {
                if a != b
                    && (literals[a].starts_with(&literals[b])
                        || literals[b].starts_with(&literals[a]))
                {
                    related[a].push(b as u32);
                }
            }
        }
    }
    related
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

/// The passes for `literals`: Teddy, 64 literals per pass, when few enough;
/// else one Aho-Corasick DFA pass.
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
                let group = &literals[w[0]..w[1]];
                let searcher = packed::Config::new().builder().extend(group).build()?;
                Some(Pass {
                    searcher: Searcher::Teddy(searcher),
                    base: w[0],
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
        base: 0,
    }])
}

/// The line of `region` around byte `at`: from after the previous
/// terminator to the next one.
fn line_around(region: &[u8], at: usize) -> (usize, usize) {
    let start = memrchr2(b'\n', b'\r', &region[..at]).map_or(0, |i| i + 1);
    let end = memchr2(b'\n', b'\r', &region[at..]).map_or(region.len(), |i| at + i);
    (start, end)
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

    proptest! {
        /// Whatever the text, the prefilter keeps exactly the lines some
        /// regex matches (among valid UTF-8 lines).
        #[test]
        fn agrees_with_a_per_line_reference(
            pieces in proptest::collection::vec(prop_oneof![
                Just("FATAL:  sorry, too many clients already".as_bytes().to_vec()),
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
            ], 0..40),
        ) {
            let text: Vec<u8> = pieces.concat();
            let prefilter = Prefilter::new(&compiled(&PATTERNS)).expect("builds");
            let expected = reference(&PATTERNS, &text);
            prop_assert_eq!(found(&prefilter, &text), expected.clone());
            // `may_match` is never false on a line (or a text) some regex matches.
            for &(start, end) in &expected {
                prop_assert!(prefilter.may_match(&text[start..end]));
            }
            if !expected.is_empty() {
                prop_assert!(prefilter.may_match(&text));
            }
        }
    }
}
