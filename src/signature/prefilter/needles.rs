//! What the prefilter's vectorised search looks for: needles, each a byte
//! string that the literals it stands for hold at known offsets.
//!
//! Searching for a part of a literal instead of the whole is sound (the part
//! occurs wherever the literal does), and one part shared by several
//! literals is searched for once. The search costs about the same per needle
//! whatever its length, and one Teddy pass holds at most 64 needles: fewer,
//! rarer needles are fewer passes and fewer false candidates. A needle found
//! at `at` stands for literal `l` held at offset `k` only if `l`'s bytes are
//! at `at - k`: the caller checks that before running `l`'s regexes, so a
//! needle may be common without many regexes being run.
//!
//! Two ways to choose needles: [`from_model`], once per library, from a
//! rough frequency model of log text (shared substrings rare by
//! [`literals::literal_bits`]); [`from_sample`], per stream, from the counts
//! of four-byte strings in its first bytes (the fewest needles that are
//! rare there). Invariant (tested): every literal is stood for by exactly one
//! needle, which it holds at the recorded offset. Pure: no I/O.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap},
    hash::{BuildHasherDefault, Hasher},
};

use crate::signature::literals;

/// A byte string searched for, and the literals it stands for: `(literal,
/// offset)`, each literal holding the needle's bytes at that offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Needle {
    pub(super) bytes: Vec<u8>,
    pub(super) stands_for: Vec<(u32, u32)>,
}

impl Needle {
    /// The needle `self.bytes[from..to]`, standing for the same literals.
    fn part(&self, from: usize, to: usize) -> Needle {
        Needle {
            bytes: self.bytes[from..to].to_vec(),
            stands_for: shifted(&self.stands_for, from),
        }
    }
}

/// `stands_for` of a needle found `by` bytes into another.
fn shifted(stands_for: &[(u32, u32)], by: usize) -> Vec<(u32, u32)> {
    stands_for
        .iter()
        .map(|&(literal, offset)| (literal, offset + by as u32))
        .collect()
}

/// Each literal as its own needle.
pub(super) fn identity(literals: &[Vec<u8>]) -> Vec<Needle> {
    literals
        .iter()
        .enumerate()
        .map(|(id, literal)| Needle {
            bytes: literal.clone(),
            stands_for: vec![(id as u32, 0)],
        })
        .collect()
}

/// Shared needles are at least this long (four bytes are what Teddy tells
/// needles apart by)...
const MIN_SHARED: usize = 4;
/// ...and, chosen by the model, at most this long (sharing is about short
/// common words).
const MAX_SHARED: usize = 12;
/// A needle the model shares must be at least this rare (bits, see
/// [`literals::literal_bits`]): its regexes' literals are checked wherever it
/// occurs.
const SHARED_BITS: f64 = 22.0;

/// Needles for `literals` chosen without seeing the text: a literal that
/// holds another is stood for by the other's needle, and literals sharing a
/// substring the model says is rare share it (greedy set cover: the
/// substring shared by the most literals not yet covered first, then the
/// rarest; widened as [`widened`] does). The rest stand for themselves.
pub(super) fn from_model(literals: &[Vec<u8>]) -> Vec<Needle> {
    let needles = merge_contained(identity(literals));
    // Every (window, needle) pair of a rare enough window, sorted: the
    // needles holding a window are then neighbours.
    let mut pairs: Vec<(&[u8], usize)> = Vec::new();
    for (id, needle) in needles.iter().enumerate() {
        let bytes = &needle.bytes;
        for len in MIN_SHARED..=MAX_SHARED.min(bytes.len()) {
            pairs.extend(
                bytes
                    .windows(len)
                    .filter(|w| !literals::word_like(w) && literals::literal_bits(w) >= SHARED_BITS)
                    .map(|window| (window, id)),
            );
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut candidates: Vec<(&[u8], Vec<usize>, f64)> = pairs
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|group| group.len() >= 2)
        .map(|group| {
            let window = group[0].0;
            let ids = group.iter().map(|&(_, id)| id).collect();
            (window, ids, literals::literal_bits(window))
        })
        .collect();
    let mut covered = vec![false; needles.len()];
    let mut out: Vec<Needle> = Vec::new();
    loop {
        // One pass: drop candidates that cover fewer than two new needles,
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
        let (window, ids) = (candidates[at].0, &candidates[at].1);
        let held: Vec<(&Needle, usize)> = ids
            .iter()
            .filter(|&&id| !covered[id])
            .map(|&id| (&needles[id], find(&needles[id].bytes, window).unwrap_or(0)))
            .collect();
        out.push(widened(&held, window.len()));
        for &id in ids {
            covered[id] = true;
        }
    }
    out.extend(
        needles
            .into_iter()
            .zip(covered)
            .filter(|(_, covered)| !covered)
            .map(|(needle, _)| needle),
    );
    out
}

/// A four-byte string, as a number.
type Gram = u32;

fn gram(bytes: &[u8]) -> Gram {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// A hasher for grams (the default one costs more than the counting).
#[derive(Default)]
struct GramHasher(u64);

impl Hasher for GramHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type GramMap<V> = HashMap<Gram, V, BuildHasherDefault<GramHasher>>;

/// A shared needle chosen from a sample occurs at most once per this many
/// bytes of it.
const SAMPLE_BYTES_PER_HIT: usize = 8 << 10;
/// A needle standing for one literal is at least this long (or the whole
/// literal): shorter ones occur by chance too often.
const MIN_PART: usize = 6;

/// The four-byte strings of a list of literals, and which literals hold
/// each: what [`from_sample`] counts in a sample and chooses from (the same
/// for every stream, so made once).
#[derive(Debug)]
pub(super) struct Grams {
    /// Every (gram, literal) pair, sorted, each once.
    pairs: Vec<(Gram, u32)>,
    /// Distinct grams, each with its range of `pairs`.
    grams: Vec<(Gram, usize, usize)>,
    /// Index of each gram in `grams`.
    index: GramMap<u32>,
    /// Which pairs of first bytes start some gram: most places of a sample
    /// are then not looked up.
    starts: Vec<bool>,
}

impl Grams {
    pub(super) fn new(literals: &[Vec<u8>]) -> Grams {
        let mut pairs: Vec<(Gram, u32)> = Vec::new();
        let mut starts = vec![false; 1 << 16];
        for (id, literal) in literals.iter().enumerate() {
            for window in literal.windows(4) {
                pairs.push((gram(window), id as u32));
                starts[usize::from(u16::from_le_bytes([window[0], window[1]]))] = true;
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut grams: Vec<(Gram, usize, usize)> = Vec::new();
        for (i, &(g, _)) in pairs.iter().enumerate() {
            match grams.last_mut() {
                Some(last) if last.0 == g => last.2 = i + 1,
                _ => grams.push((g, i, i + 1)),
            }
        }
        let index = grams
            .iter()
            .enumerate()
            .map(|(i, &(g, _, _))| (g, i as u32))
            .collect();
        Grams {
            pairs,
            grams,
            index,
            starts,
        }
    }

    /// How often each gram occurs in `sample`.
    fn counts(&self, sample: &[u8]) -> Vec<u32> {
        let mut counts = vec![0u32; self.grams.len()];
        for window in sample.windows(4) {
            if self.starts[usize::from(u16::from_le_bytes([window[0], window[1]]))]
                && let Some(&i) = self.index.get(&gram(window))
            {
                counts[i as usize] += 1;
            }
        }
        counts
    }
}

/// Needles for `literals` (whose grams are `grams`) fitted to text like
/// `sample`: the fewest shared four-byte strings that are rare in the
/// sample (at most once per [`SAMPLE_BYTES_PER_HIT`]), each widened to what
/// all the literals it stands for share after it; each literal left over
/// is searched for from its four bytes rarest in the sample on (its longest
/// such part).
pub(super) fn from_sample(literals: &[Vec<u8>], grams: &Grams, sample: &[u8]) -> Vec<Needle> {
    let needles = identity(literals);
    let counts = grams.counts(sample);
    let rare = (sample.len() / SAMPLE_BYTES_PER_HIT) as u32;
    // Lazy greedy set cover: a gram's number of needles not yet covered
    // only drops, so one popped with an up-to-date number is the best.
    let mut heap: BinaryHeap<(usize, Reverse<u32>, Reverse<usize>)> = grams
        .grams
        .iter()
        .enumerate()
        .filter(|&(i, &(_, from, to))| to - from >= 2 && counts[i] <= rare)
        .map(|(i, &(_, from, to))| (to - from, Reverse(counts[i]), Reverse(i)))
        .collect();
    let mut covered = vec![false; needles.len()];
    let mut out = Vec::new();
    let mut ids: Vec<u32> = Vec::new();
    while let Some((fresh, count, Reverse(i))) = heap.pop() {
        let (g, from, to) = grams.grams[i];
        ids.clear();
        ids.extend(
            grams.pairs[from..to]
                .iter()
                .map(|&(_, id)| id)
                .filter(|&id| !covered[id as usize]),
        );
        if ids.len() < 2 {
            continue;
        }
        if ids.len() < fresh {
            heap.push((ids.len(), count, Reverse(i)));
            continue;
        }
        let key = g.to_le_bytes();
        let held: Vec<(&Needle, usize)> = ids
            .iter()
            .map(|&id| {
                let needle = &needles[id as usize];
                (needle, find(&needle.bytes, &key).unwrap_or(0))
            })
            .collect();
        out.push(widened(&held, key.len()));
        for &id in &ids {
            covered[id as usize] = true;
        }
    }
    let count_of = |bytes: &[u8]| {
        grams
            .index
            .get(&gram(bytes))
            .map_or(0, |&i| counts[i as usize])
    };
    let rest: Vec<Needle> = needles
        .into_iter()
        .zip(covered)
        .filter(|(_, covered)| !covered)
        .map(|(needle, _)| rare_part(needle, &count_of))
        .collect();
    out.extend(rest);
    merge_contained(out)
}

/// The longest string that each `(needle, at)` holds from its bytes
/// `at..at + len` (which are the same in all) on, as a needle standing for
/// them all.
/// It is not widened to the left: its first bytes, which Teddy tells needles
/// apart by, stay the rare ones.
fn widened(held: &[(&Needle, usize)], len: usize) -> Needle {
    let (first, at) = held[0];
    let mut end = at + len;
    while held.iter().all(|&(n, a)| {
        let i = a + (end - at);
        i < n.bytes.len() && n.bytes[i] == first.bytes[end]
    }) {
        end += 1;
    }
    Needle {
        bytes: first.bytes[at..end].to_vec(),
        stands_for: held
            .iter()
            .flat_map(|&(n, a)| shifted(&n.stands_for, a))
            .collect(),
    }
}

/// The longest part of `needle` that starts with its four bytes rarest in
/// the sample (`counts`), at least [`MIN_PART`] long; the whole needle when
/// it is shorter.
fn rare_part(needle: Needle, count: &impl Fn(&[u8]) -> u32) -> Needle {
    let len = needle.bytes.len();
    let min = MIN_PART.max(4).min(len);
    if len <= 4 {
        return needle;
    }
    let best = (0..=len - min)
        .min_by_key(|&start| (count(&needle.bytes[start..]), start))
        .unwrap_or(0);
    needle.part(best, len)
}

/// Merges each needle that holds a shorter (or equal) one into it: wherever
/// the longer occurs the shorter does, so searching for the shorter alone
/// finds both, with one needle less to search for.
pub(super) fn merge_contained(mut needles: Vec<Needle>) -> Vec<Needle> {
    needles.sort_by(|a, b| (a.bytes.len(), &a.bytes).cmp(&(b.bytes.len(), &b.bytes)));
    let mut kept: Vec<Needle> = Vec::with_capacity(needles.len());
    // Kept needles by their first two bytes (one-byte ones apart).
    let mut by_start: HashMap<[u8; 2], Vec<usize>> = HashMap::new();
    let mut single = [None::<usize>; 256];
    for needle in needles {
        let bytes = &needle.bytes;
        let container = (0..bytes.len()).find_map(|i| {
            if let Some(k) = single[usize::from(bytes[i])] {
                return Some((k, i));
            }
            let key: [u8; 2] = bytes.get(i..i + 2)?.try_into().ok()?;
            let ks = by_start.get(&key)?;
            ks.iter()
                .find(|&&k| bytes[i..].starts_with(&kept[k].bytes))
                .map(|&k| (k, i))
        });
        match container {
            Some((k, i)) => {
                let moved = shifted(&needle.stands_for, i);
                kept[k].stands_for.extend(moved);
            }
            None => {
                let k = kept.len();
                match bytes.len() {
                    0 => {}
                    1 => single[usize::from(bytes[0])] = Some(k),
                    _ => by_start.entry([bytes[0], bytes[1]]).or_default().push(k),
                }
                kept.push(needle);
            }
        }
    }
    kept
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lits(texts: &[&str]) -> Vec<Vec<u8>> {
        texts.iter().map(|t| t.as_bytes().to_vec()).collect()
    }

    /// Every literal is stood for exactly once, by a needle it holds at the
    /// recorded offset.
    fn check(literals: &[Vec<u8>], needles: &[Needle]) -> Result<(), String> {
        let mut seen = vec![0; literals.len()];
        for needle in needles {
            for &(literal, offset) in &needle.stands_for {
                let literal_bytes = &literals[literal as usize];
                seen[literal as usize] += 1;
                let at = offset as usize;
                if literal_bytes.get(at..at + needle.bytes.len()) != Some(&needle.bytes[..]) {
                    return Err(format!(
                        "{:?} does not hold {:?} at {at}",
                        String::from_utf8_lossy(literal_bytes),
                        String::from_utf8_lossy(&needle.bytes)
                    ));
                }
            }
        }
        match seen.iter().position(|&n| n != 1) {
            Some(i) => Err(format!("literal {i} stood for {} times", seen[i])),
            None => Ok(()),
        }
    }

    #[test]
    fn a_literal_holding_another_is_found_through_it() {
        let literals = lits(&["upstream timed out (110: ", "timed out", "timed out"]);
        let needles = merge_contained(identity(&literals));
        assert_eq!(needles.len(), 1);
        assert_eq!(needles[0].bytes, b"timed out");
        check(&literals, &needles).expect("sound");
        assert!(needles[0].stands_for.contains(&(0, 9)));
    }

    #[test]
    fn the_model_shares_rare_substrings() {
        let literals = lits(&[
            "gssapi-with-mic for root from ",
            "hostbased for root from ",
            "Exception in thread \"main\" java.lang.OutOfMemoryError",
            "OutOfMemoryError: Java heap space",
            "deadlock detected",
        ]);
        let needles = from_model(&literals);
        check(&literals, &needles).expect("sound");
        // The two Java literals share a rare part; ordinary words are not shared.
        assert_eq!(needles.len(), 4, "{needles:?}");
        assert!(
            needles
                .iter()
                .any(|n| n.stands_for.len() == 2 && n.bytes == b"OutOfMemoryError"),
            "{needles:?}"
        );
    }

    #[test]
    fn a_sample_picks_few_rare_needles() {
        let literals = lits(&[
            "failed to renew lease ",
            "failed to exit within ",
            "failed to start daemon: ",
            "http: panic serving ",
            "Exception",
            "OOM",
        ]);
        // `failed` and `http` are everywhere in this text.
        let sample = b"GET http://x/ 200 failed ok\nhttp://y/ failed again\n".repeat(400);
        let needles = from_sample(&literals, &Grams::new(&literals), &sample);
        check(&literals, &needles).expect("sound");
        // The three `failed to ` literals share one needle, and it is not
        // the common `failed`; the `http` one is searched from a rarer part.
        assert!(needles.len() <= 4, "{needles:?}");
        for needle in &needles {
            let text = String::from_utf8_lossy(&needle.bytes);
            assert!(
                !text.starts_with("fail") && !text.starts_with("http"),
                "{text}"
            );
        }
        let shared = needles
            .iter()
            .find(|n| n.stands_for.len() == 3)
            .expect("a shared needle");
        assert!(shared.bytes.ends_with(b" to "), "{shared:?}");
    }

    proptest! {
        /// Whatever the literals and the sample, needles are sound.
        #[test]
        fn needles_stand_for_each_literal_once(
            literals in proptest::collection::vec("[ab ]{1,3}(?:[a-f:]{0,8})", 1..24),
            sample in "[a-f: ]{0,3000}",
        ) {
            let literals: Vec<Vec<u8>> = literals.into_iter().map(String::into_bytes).collect();
            check(&literals, &from_model(&literals)).map_err(TestCaseError::fail)?;
            check(&literals, &from_sample(&literals, &Grams::new(&literals), sample.as_bytes()))
                .map_err(TestCaseError::fail)?;
            check(&literals, &merge_contained(identity(&literals)))
                .map_err(TestCaseError::fail)?;
        }
    }
}
