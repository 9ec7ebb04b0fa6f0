//! Required literals of a regex: a few byte strings, one of which every
//! match of the regex contains.
//!
//! The prefilter looks for these strings with a vectorised multi-literal
//! search instead of running the regexes over every line; a line that holds
//! none of a regex's literals cannot match it. Pure: a parsed regex in, a set
//! of strings and a score out.
//!
//! Soundness is the only hard rule here: for every string `m` the regex can
//! match, some returned literal is a substring of `m`. Every step keeps it:
//! `exact` over-approximates the strings a node matches (a superset is
//! fine), a run of nodes in a concatenation matches a substring of the whole
//! match, a prefix of a required literal is required, and so on. Quality
//! (rare, long, few literals) is a heuristic score.

use regex_syntax::hir::{Class, Hir, HirKind};

/// At most this many strings in a set.
const MAX_SET: usize = 16;
/// Exact strings longer than this are given up on (the set is not kept).
const MAX_EXACT_LEN: usize = 256;
/// Literals are cut to this many bytes: longer ones filter no better.
const MAX_LITERAL_LEN: usize = 48;
/// A class with more members than this is not expanded.
const MAX_CLASS: u32 = 4;
/// A literal set scoring below this many bits filters too little to be worth
/// searching for: its regex is run as an automaton instead.
pub const MIN_SCORE: f64 = 9.0;

/// A literal this rare (in bits) is a good filter on its own.
const GOOD_BITS: f64 = 30.0;

/// Strings a node may match (a superset), or `None` when there are too many.
type Set = Vec<Vec<u8>>;

/// How rare a byte is in log text, in bits: a rough frequency model. Spaces
/// and the punctuation that structures log lines (quotes, brackets, colons,
/// `=`, commas, dashes, slashes, dots) are everywhere, as are common
/// lower-case letters; capitals, digits (specific values) and other
/// punctuation are rarer. A literal made only of structure (`] "`) is thus
/// weak, and one naming a value (`" 5`) is worth more.
fn byte_bits(b: u8) -> f64 {
    match b {
        b' ' => 1.5,
        b'"' | b'[' | b']' | b':' | b'=' | b',' | b'-' | b'/' | b'.' | b'(' | b')' => 3.0,
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' => 3.5,
        b'a'..=b'z' => 5.0,
        b'0'..=b'9' => 5.0,
        b'A'..=b'Z' => 6.0,
        0x21..=0x7e => 7.0,
        _ => 8.0,
    }
}

/// Bits of one literal (capped: beyond a few words, rarer is not better).
/// A literal of `b` bits is expected about once in `2^b` positions; a single
/// lower-case word counts half.
pub fn literal_bits(literal: &[u8]) -> f64 {
    let bits = literal.iter().map(|&b| byte_bits(b)).sum::<f64>().min(60.0);
    // An ordinary word is far more frequent than its letters suggest; a
    // phrase of several real words is rare again.
    let words = literal
        .split(|&b| b == b' ')
        .filter(|word| word.len() >= 4)
        .count();
    if word_like(literal) && words < 2 {
        bits / 2.0
    } else {
        bits
    }
}

/// How selective a set is: its weakest literal's bits, less the cost of
/// looking for many.
pub fn score(set: &[Vec<u8>]) -> f64 {
    if set.is_empty() || set.iter().any(Vec::is_empty) {
        return f64::NEG_INFINITY;
    }
    let weakest = set
        .iter()
        .map(|l| literal_bits(l))
        .fold(f64::INFINITY, f64::min);
    weakest - (set.len() as f64).log2()
}

/// The best set of required literals of `hir` with its score, or `None`
/// when no set of a few literals is required by every match.
pub fn required(hir: &Hir) -> Option<(Vec<Vec<u8>>, f64)> {
    let set = tidy(best(hir)?);
    let s = score(&set);
    (s > f64::NEG_INFINITY).then_some((set, s))
}

/// Cuts literals to [`MAX_LITERAL_LEN`] and drops those containing another
/// (any occurrence of the longer one is an occurrence of the shorter).
fn tidy(set: Set) -> Set {
    let mut cut: Set = set
        .into_iter()
        .map(|mut l| {
            l.truncate(MAX_LITERAL_LEN);
            l
        })
        .collect();
    cut.sort_by_key(Vec::len);
    cut.dedup();
    let mut kept: Set = Vec::new();
    for literal in cut {
        if !kept.iter().any(|k| contains(&literal, k)) {
            kept.push(literal);
        }
    }
    kept.sort();
    kept
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Lower-case letters and spaces only: likely ordinary words (" process ",
/// "connection"), frequent in logs whatever the letters' frequencies say.
pub fn word_like(literal: &[u8]) -> bool {
    literal.iter().all(|&b| b.is_ascii_lowercase() || b == b' ')
}

/// The weakest literal's bits.
fn weakest(set: &[Vec<u8>]) -> f64 {
    set.iter()
        .map(|l| literal_bits(l))
        .fold(f64::INFINITY, f64::min)
}

/// A candidate set of required literals, tidied, with what ranks it.
#[derive(Debug, Clone)]
struct Candidate {
    set: Set,
    score: f64,
    good: bool,
}

impl Candidate {
    /// The candidate for `set`, unless it holds an empty string (which is in
    /// every line, so filters nothing).
    fn new(set: Set) -> Option<Candidate> {
        if set.is_empty() || set.iter().any(Vec::is_empty) {
            return None;
        }
        let set = tidy(set);
        let score = score(&set);
        let good = weakest(&set) >= GOOD_BITS && !set.iter().any(|l| word_like(l));
        Some(Candidate { set, score, good })
    }

    /// Whether to search for `self` rather than `other`. Sets whose every
    /// literal is rare enough ([`GOOD_BITS`]) are all good filters: then the
    /// one with fewer literals wins, since every literal costs search time
    /// and many patterns must share a few passes. Otherwise the higher score
    /// wins.
    fn beats(&self, other: &Candidate) -> bool {
        if self.good && other.good {
            (self.set.len(), -self.score) < (other.set.len(), -other.score)
        } else {
            self.score > other.score
        }
    }
}

/// Keeps the better of the best so far and a new candidate.
fn consider(best: &mut Option<Candidate>, set: Option<Set>) {
    if let Some(candidate) = set.and_then(Candidate::new)
        && best.as_ref().is_none_or(|b| candidate.beats(b))
    {
        *best = Some(candidate);
    }
}

/// The best required set of a node.
fn best(hir: &Hir) -> Option<Set> {
    best_candidate(hir).map(|c| c.set)
}

fn best_candidate(hir: &Hir) -> Option<Candidate> {
    let mut found = None;
    consider(&mut found, exact(hir));
    match hir.kind() {
        HirKind::Capture(capture) => {
            consider(&mut found, best(&capture.sub));
        }
        HirKind::Repetition(rep) if rep.min >= 1 => {
            consider(&mut found, best(&rep.sub));
        }
        HirKind::Alternation(branches) => {
            let mut union = Some(Set::new());
            for branch in branches {
                union = match (union, best(branch)) {
                    (Some(mut all), Some(set)) if all.len() + set.len() <= MAX_SET => {
                        all.extend(set);
                        Some(all)
                    }
                    _ => None,
                };
            }
            consider(&mut found, union);
        }
        HirKind::Concat(children) => {
            // Runs of children with exact sets: their concatenation is a
            // substring of every match. A run may begin with what the child
            // before it must end with, and end with what the child after it
            // must begin with.
            let exacts: Vec<Option<Set>> = children.iter().map(exact).collect();
            let starts: Vec<Set> = children.iter().map(prefixes).collect();
            let ends: Vec<Set> = children.iter().map(suffixes).collect();
            for start in 0..children.len() {
                let mut heads: Vec<&Set> = Vec::with_capacity(2);
                let empty = vec![Vec::new()];
                heads.push(&empty);
                if start > 0 {
                    heads.push(&ends[start - 1]);
                }
                for head in heads {
                    let mut run = head.clone();
                    for child in start..children.len() {
                        consider(&mut found, product(&run, &starts[child]));
                        let Some(next) = exacts[child].as_ref().and_then(|set| product(&run, set))
                        else {
                            break;
                        };
                        run = next;
                        consider(&mut found, Some(run.clone()));
                    }
                }
            }
            for child in children {
                if let Some(candidate) = best_candidate(child)
                    && found.as_ref().is_none_or(|b| candidate.beats(b))
                {
                    found = Some(candidate);
                }
            }
        }
        _ => {}
    }
    found
}

/// Strings one of which every match of `hir` starts with (`[""]` when
/// nothing is known).
fn prefixes(hir: &Hir) -> Set {
    affixes(hir, true)
}

/// Strings one of which every match of `hir` ends with.
fn suffixes(hir: &Hir) -> Set {
    affixes(hir, false)
}

fn affixes(hir: &Hir, front: bool) -> Set {
    let unknown = || vec![Vec::new()];
    if let Some(set) = exact(hir) {
        return set;
    }
    match hir.kind() {
        HirKind::Capture(capture) => affixes(&capture.sub, front),
        HirKind::Repetition(rep) if rep.min >= 1 => affixes(&rep.sub, front),
        HirKind::Alternation(branches) => {
            let mut set = Set::new();
            for branch in branches {
                set.extend(affixes(branch, front));
                if set.len() > MAX_SET {
                    return unknown();
                }
            }
            set.sort();
            set.dedup();
            set
        }
        HirKind::Concat(children) => {
            let mut acc = unknown();
            let ordered: Vec<&Hir> = if front {
                children.iter().collect()
            } else {
                children.iter().rev().collect()
            };
            for child in ordered {
                let (part, whole) = match exact(child) {
                    Some(set) => (set, true),
                    None => (affixes(child, front), false),
                };
                let joined = if front {
                    product(&acc, &part)
                } else {
                    product(&part, &acc)
                };
                match joined {
                    Some(joined) => acc = joined,
                    None => break,
                }
                if !whole {
                    break;
                }
            }
            acc
        }
        _ => unknown(),
    }
}

/// Every concatenation of a string of `a` with one of `b`, if few and short.
fn product(a: &Set, b: &Set) -> Option<Set> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    let mut out = Set::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            if x.len() + y.len() > MAX_EXACT_LEN {
                return None;
            }
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.push(s);
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// How many members a class of these inclusive ranges has.
fn class_size(ranges: impl Iterator<Item = (u32, u32)>) -> u32 {
    ranges.map(|(start, end)| end - start + 1).sum()
}

/// A finite superset of the strings `hir` matches, if small.
fn exact(hir: &Hir) -> Option<Set> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(literal) => {
            (literal.0.len() <= MAX_EXACT_LEN).then(|| vec![literal.0.to_vec()])
        }
        HirKind::Class(Class::Unicode(class)) => {
            let ranges = class
                .ranges()
                .iter()
                .map(|r| (r.start().into(), r.end().into()));
            if class_size(ranges) > MAX_CLASS {
                return None;
            }
            let mut set = Set::new();
            for r in class.ranges() {
                for c in u32::from(r.start())..=u32::from(r.end()) {
                    let c = char::from_u32(c)?;
                    let mut buf = [0; 4];
                    set.push(c.encode_utf8(&mut buf).as_bytes().to_vec());
                }
            }
            Some(set)
        }
        HirKind::Class(Class::Bytes(class)) => {
            let ranges = class
                .ranges()
                .iter()
                .map(|r| (r.start().into(), r.end().into()));
            if class_size(ranges) > MAX_CLASS {
                return None;
            }
            Some(
                class
                    .ranges()
                    .iter()
                    .flat_map(|r| (r.start()..=r.end()).map(|b| vec![b]))
                    .collect(),
            )
        }
        HirKind::Capture(capture) => exact(&capture.sub),
        HirKind::Repetition(rep) => {
            let max = rep.max.filter(|&m| m <= 3)?;
            let sub = exact(&rep.sub)?;
            let mut all = Set::new();
            let mut power: Set = vec![Vec::new()];
            for k in 0..=max {
                if k >= rep.min {
                    all.extend(power.iter().cloned());
                }
                if k < max {
                    power = product(&power, &sub)?;
                }
            }
            all.sort();
            all.dedup();
            (all.len() <= MAX_SET).then_some(all)
        }
        HirKind::Concat(children) => {
            let mut set: Set = vec![Vec::new()];
            for child in children {
                set = product(&set, &exact(child)?)?;
            }
            Some(set)
        }
        HirKind::Alternation(branches) => {
            let mut set = Set::new();
            for branch in branches {
                set.extend(exact(branch)?);
                if set.len() > MAX_SET {
                    return None;
                }
            }
            set.sort();
            set.dedup();
            Some(set)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn literals(pattern: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::parse(pattern).expect("parses");
        required(&hir).map(|(set, _)| {
            set.into_iter()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .collect()
        })
    }

    #[test]
    fn a_plain_literal_is_its_own_requirement() {
        assert_eq!(
            literals(r"ERROR: +deadlock detected"),
            Some(vec!["deadlock detected".into()])
        );
    }

    #[test]
    fn a_long_literal_wins_over_alternatives() {
        assert_eq!(
            literals(r"upstream timed out \(110: (?:Connection|Operation) timed out\) while"),
            Some(vec!["upstream timed out (110: ".into()])
        );
    }

    #[test]
    fn top_level_alternatives_each_give_literals() {
        assert_eq!(
            literals(
                r"(?:Out of memory|Memory cgroup out of memory): Kill(?:ed)? process (?P<pid>[0-9]+)"
            ),
            Some(vec![
                "Memory cgroup out of memory: Kill".into(),
                "Out of memory: Kill".into(),
            ])
        );
        assert_eq!(
            literals(r"[a-z]+ (?:alpha[0-9]+|[0-9]+beta)"),
            Some(vec!["alpha".into(), "beta".into()])
        );
    }

    #[test]
    fn a_run_takes_in_the_start_of_the_next_group() {
        assert_eq!(
            literals(r#"\[[^\]]+\] "(?P<request>[^"]*)" (?P<status>5[0-9]{2}) "#),
            Some(vec!["\" 5".into()])
        );
        assert_eq!(
            literals(r"(?P<id>[a-z]+ok)[0-9]+ (?:GET|POST) /api"),
            Some(vec![" GET /api".into(), " POST /api".into()])
        );
        assert_eq!(
            literals(r"(?P<id>[0-9]+ok) [0-9]+"),
            Some(vec!["ok ".into()])
        );
    }

    #[test]
    fn patterns_without_a_literal_have_none() {
        assert_eq!(literals(r"[a-z]+\d{3,}"), None);
        assert_eq!(literals(r"(?:x|[0-9]+)"), None);
        assert_eq!(literals(r"a?b?"), None);
    }

    #[test]
    fn case_insensitive_text_is_bounded() {
        let set = literals(r"(?i:too many open files)").expect("some literals");
        assert!(set.len() <= MAX_SET, "{set:?}");
    }

    proptest! {
        /// Every match of a regex contains one of its required literals.
        #[test]
        fn required_literals_are_sound(
            pattern in "(?:[ab]|x[cd]|\\(\\?i:ab\\)|\\(ab\\|cd\\)|\\[a-c\\]|e\\+|f\\?|g\\{1,2\\}|\\\\d|\\.|\\^|\\$|\\\\b){1,8}",
            haystacks in proptest::collection::vec("[a-gxABC0-9 ]{0,24}", 1..20),
        ) {
            let Ok(hir) = regex_syntax::parse(&pattern) else { return Ok(()); };
            let Some((set, _)) = required(&hir) else { return Ok(()); };
            let regex = regex::Regex::new(&pattern).expect("the syntax parsed it");
            for haystack in &haystacks {
                for m in regex.find_iter(haystack) {
                    let text = m.as_str().as_bytes();
                    prop_assert!(
                        set.iter().any(|l| contains(text, l)),
                        "{pattern:?} matched {:?} which holds none of {set:?}", m.as_str()
                    );
                }
            }
        }
    }
}
