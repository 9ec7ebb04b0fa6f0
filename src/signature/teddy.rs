//! A vectorised search for many short literals at once, without a copy of
//! the text: Teddy (Hyperscan's packed matcher, as the `aho-corasick`
//! crate has it), rewritten for two needs of ours. A literal may be
//! searched for *folded* (ASCII case, `\r` as `\n`, a tab as a space: the
//! problem search's spelling of a line), which Teddy's nibble masks hold
//! at no cost, where a search of the crate's needs a folded copy of the
//! text first; and up to 32 buckets per pass instead of 16, so that a
//! hundred needles are one pass over the text rather than three.
//!
//! How: the literals are put in buckets (8 per *set* of masks, up to 4
//! sets). For each of a literal's first four bytes, every byte that reads
//! as it sets the literal's bucket bit in two 16-entry tables, one indexed
//! by the byte's low nibble, one by its high nibble. Thirty-two places of
//! the text are looked at at once: a place is a candidate for a bucket
//! when, for each of the four bytes from it, both nibbles' entries have
//! the bucket's bit. Candidates are verified against the bucket's
//! literals in place. A literal shorter than four bytes lets any byte
//! through where it has none. Where AVX2 is missing (or in the last few
//! places of a text) the same tables are read one place at a time.
//!
//! Finds the leftmost place where some literal starts, and of the literals
//! starting there the first given. Pure: no I/O.

/// Bytes of a literal the masks look at.
const MASK_LEN: usize = 4;
/// Buckets per set of masks (one bit each in a mask byte).
const BUCKETS_PER_SET: usize = 8;
/// At most this many sets of masks.
const MAX_SETS: usize = 4;
/// Literals per bucket aimed at when choosing how many sets.
const PER_BUCKET: usize = 3;

/// A literal to search for, and whether it is matched folded (it is then
/// given folded: see [`fold`]).
#[derive(Debug, Clone, Copy)]
pub struct Literal<'a> {
    /// Its bytes.
    pub bytes: &'a [u8],
    /// Matched folded.
    pub folded: bool,
}

/// The folding of a byte a folded literal is matched under: ASCII lower
/// case, `\r` as `\n`, a tab as a space.
pub fn fold(b: u8) -> u8 {
    match b {
        b'\r' => b'\n',
        b'\t' => b' ',
        _ => b.to_ascii_lowercase(),
    }
}

/// The bytes that read as `b` of a literal.
fn forms(b: u8, folded: bool) -> impl Iterator<Item = u8> {
    let other = match (folded, b) {
        (false, _) => None,
        (true, b'a'..=b'z') => Some(b.to_ascii_uppercase()),
        (true, b'\n') => Some(b'\r'),
        (true, b' ') => Some(b'\t'),
        (true, _) => None,
    };
    std::iter::once(b).chain(other)
}

/// The search (see the module's documentation).
#[derive(Debug, Clone)]
pub struct Teddy {
    literals: Vec<(Vec<u8>, bool)>,
    /// The literals of each bucket, by index, ascending.
    buckets: Vec<Vec<u32>>,
    /// Sets of masks in use.
    sets: usize,
    /// For set `s` and the literal's byte `k`, at `s * MASK_LEN + k`: the
    /// buckets whose literals may have a byte with this low nibble there.
    lo: Vec<[u8; 16]>,
    /// ... and with this high nibble.
    hi: Vec<[u8; 16]>,
    /// Each of `lo` in both halves of 32 bytes (a vector's two lanes).
    lo32: Vec<[u8; 32]>,
    /// ... and of `hi`.
    hi32: Vec<[u8; 32]>,
    /// Whether the CPU runs the vectorised search.
    fast: bool,
}

impl Teddy {
    /// A search for `literals` (at least one, none empty; at most
    /// `u32::MAX`). Literals sharing their first bytes share a bucket.
    pub fn new(literals: &[Literal<'_>]) -> Teddy {
        assert!(
            literals.iter().all(|l| !l.bytes.is_empty()),
            "no empty literal"
        );
        let literals: Vec<(Vec<u8>, bool)> = literals
            .iter()
            .map(|l| match l.folded {
                true => (l.bytes.iter().map(|&b| fold(b)).collect(), true),
                false => (l.bytes.to_vec(), false),
            })
            .collect();
        let sets = literals
            .len()
            .div_ceil(BUCKETS_PER_SET * PER_BUCKET)
            .clamp(1, MAX_SETS);
        let buckets = buckets(&literals, sets * BUCKETS_PER_SET);
        let mut lo = vec![[0u8; 16]; sets * MASK_LEN];
        let mut hi = vec![[0u8; 16]; sets * MASK_LEN];
        for (bucket, ids) in buckets.iter().enumerate() {
            let (set, bit) = (bucket / BUCKETS_PER_SET, 1u8 << (bucket % BUCKETS_PER_SET));
            for &id in ids {
                let (bytes, folded) = &literals[id as usize];
                for k in 0..MASK_LEN {
                    let (lo, hi) = (&mut lo[set * MASK_LEN + k], &mut hi[set * MASK_LEN + k]);
                    match bytes.get(k) {
                        Some(&b) => {
                            for form in forms(b, *folded) {
                                lo[usize::from(form & 0xf)] |= bit;
                                hi[usize::from(form >> 4)] |= bit;
                            }
                        }
                        // No byte here: any byte lets it through.
                        None => {
                            lo.iter_mut().for_each(|m| *m |= bit);
                            hi.iter_mut().for_each(|m| *m |= bit);
                        }
                    }
                }
            }
        }
        let both = |tables: &[[u8; 16]]| -> Vec<[u8; 32]> {
            tables
                .iter()
                .map(|t| std::array::from_fn(|i| t[i % 16]))
                .collect()
        };
        Teddy {
            literals,
            buckets,
            sets,
            lo32: both(&lo),
            hi32: both(&hi),
            lo,
            hi,
            fast: avx2::available(),
        }
    }

    /// Whether the search is vectorised on this CPU (else it looks at one
    /// place at a time: correct, but slower than other searches).
    pub fn is_fast(&self) -> bool {
        self.fast
    }

    /// The leftmost place at or after `at` where a literal starts, and the
    /// first literal (by index) starting there.
    pub fn find(&self, haystack: &[u8], at: usize) -> Option<(usize, u32)> {
        let mut at = at;
        if self.fast {
            match avx2::find(self, haystack, at) {
                Ok(found) => return found,
                Err(tail) => at = tail,
            }
        }
        (at..haystack.len()).find_map(|place| self.at_place(haystack, place))
    }

    /// The first literal starting at `place`, through the masks.
    fn at_place(&self, haystack: &[u8], place: usize) -> Option<(usize, u32)> {
        let mut best = None;
        for set in 0..self.sets {
            let mut bits = u8::MAX;
            for k in 0..MASK_LEN {
                if let Some(&b) = haystack.get(place + k) {
                    let i = set * MASK_LEN + k;
                    bits &= self.lo[i][usize::from(b & 0xf)] & self.hi[i][usize::from(b >> 4)];
                }
            }
            best = self.verify(haystack, place, set, bits, best);
        }
        best.map(|id| (place, id))
    }

    /// `best`, or a literal of a lower index of the buckets of `set` named
    /// by `bits` that starts at `place`.
    fn verify(
        &self,
        haystack: &[u8],
        place: usize,
        set: usize,
        mut bits: u8,
        mut best: Option<u32>,
    ) -> Option<u32> {
        while bits != 0 {
            let bucket = set * BUCKETS_PER_SET + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            for &id in &self.buckets[bucket] {
                if best.is_some_and(|b| b < id) {
                    break;
                }
                if self.starts_at(haystack, place, id) {
                    best = Some(id);
                    break;
                }
            }
        }
        best
    }

    /// Whether literal `id` starts at `place`.
    fn starts_at(&self, haystack: &[u8], place: usize, id: u32) -> bool {
        let (bytes, folded) = &self.literals[id as usize];
        let Some(text) = haystack.get(place..place + bytes.len()) else {
            return false;
        };
        match folded {
            true => text.iter().zip(bytes).all(|(&t, &l)| fold(t) == l),
            false => text == &bytes[..],
        }
    }
}

/// The literals' buckets: those of four bytes or more sorted by their
/// first bytes (neighbours share bits of the masks, which stay tight), in
/// runs over most buckets; the shorter ones (which let more through) in
/// buckets of their own.
fn buckets(literals: &[(Vec<u8>, bool)], count: usize) -> Vec<Vec<u32>> {
    let mut order: Vec<u32> = (0..literals.len() as u32).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&literals[a as usize].0, &literals[b as usize].0);
        (a.len() < MASK_LEN, a).cmp(&(b.len() < MASK_LEN, b))
    });
    let short = literals.iter().filter(|l| l.0.len() < MASK_LEN).count();
    let long = literals.len() - short;
    let short_buckets = match short {
        0 => 0,
        _ if long == 0 => count,
        _ => (short * count).div_ceil(literals.len()).clamp(1, count - 1),
    };
    let long_buckets = count - short_buckets;
    let mut buckets = vec![Vec::new(); count];
    for (i, &id) in order.iter().enumerate() {
        let bucket = match i < long {
            true => i * long_buckets / long.max(1),
            false => long_buckets + (i - long) * short_buckets / short,
        };
        buckets[bucket].push(id);
    }
    for bucket in &mut buckets {
        bucket.sort_unstable();
    }
    buckets
}

/// The vectorised search, on x86-64 CPUs with AVX2.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8, _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_srli_epi16,
    };

    use super::{MASK_LEN, MAX_SETS, Teddy};

    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
    }

    /// [`Teddy::find`] over the places whose four bytes are in
    /// `haystack` 32 at a time: `Ok` with what it found, or `Err` with
    /// the first place left to look at one at a time.
    #[allow(unsafe_code)]
    pub(super) fn find(
        teddy: &Teddy,
        haystack: &[u8],
        at: usize,
    ) -> Result<Option<(usize, u32)>, usize> {
        debug_assert!(available());
        // SAFETY: `Teddy::new` set `fast` only where the CPU has AVX2,
        // the one feature `run` is compiled for.
        unsafe {
            match teddy.sets {
                1 => run::<1>(teddy, haystack, at),
                2 => run::<2>(teddy, haystack, at),
                3 => run::<3>(teddy, haystack, at),
                _ => run::<MAX_SETS>(teddy, haystack, at),
            }
        }
    }

    /// 32 bytes from `at` (the caller checked that they are there).
    #[inline(always)]
    fn load(haystack: &[u8], at: usize) -> __m256i {
        let bytes: &[u8; 32] = haystack[at..].first_chunk().expect("32 bytes are there");
        bytemuck::cast(*bytes)
    }

    #[target_feature(enable = "avx2")]
    fn run<const SETS: usize>(
        teddy: &Teddy,
        haystack: &[u8],
        mut at: usize,
    ) -> Result<Option<(usize, u32)>, usize> {
        let (lo, hi) = (
            &teddy.lo32[..SETS * MASK_LEN],
            &teddy.hi32[..SETS * MASK_LEN],
        );
        let table = |tables: &[[u8; 32]], set: usize, k: usize| -> __m256i {
            bytemuck::cast(tables[set * MASK_LEN + k])
        };
        let nibble = _mm256_set1_epi8(0x0f);
        let zero = _mm256_setzero_si256();
        while at + 32 + MASK_LEN - 1 <= haystack.len() {
            let mut found = [_mm256_set1_epi8(-1); SETS];
            for k in 0..MASK_LEN {
                let bytes = load(haystack, at + k);
                let low = _mm256_and_si256(bytes, nibble);
                let high = _mm256_and_si256(_mm256_srli_epi16::<4>(bytes), nibble);
                for (set, found) in found.iter_mut().enumerate() {
                    let bits = _mm256_and_si256(
                        _mm256_shuffle_epi8(table(lo, set, k), low),
                        _mm256_shuffle_epi8(table(hi, set, k), high),
                    );
                    *found = _mm256_and_si256(*found, bits);
                }
            }
            let mut any = found[0];
            for bits in &found[1..] {
                any = _mm256_or_si256(any, *bits);
            }
            let mut places = !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(any, zero)) as u32);
            if places != 0 {
                let found: [[u8; 32]; SETS] = found.map(bytemuck::cast);
                while places != 0 {
                    let i = places.trailing_zeros() as usize;
                    places &= places - 1;
                    let mut best = None;
                    for (set, bits) in found.iter().enumerate() {
                        best = teddy.verify(haystack, at + i, set, bits[i], best);
                    }
                    if let Some(id) = best {
                        return Ok(Some((at + i, id)));
                    }
                }
            }
            at += 32;
        }
        Err(at)
    }
}

/// Where no CPU runs the vectorised search: one place at a time.
#[cfg(not(target_arch = "x86_64"))]
mod avx2 {
    use super::Teddy;

    pub(super) fn available() -> bool {
        false
    }

    pub(super) fn find(_: &Teddy, _: &[u8], at: usize) -> Result<Option<(usize, u32)>, usize> {
        Err(at)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The leftmost place and first literal there, one literal at a time.
    fn reference(literals: &[(Vec<u8>, bool)], haystack: &[u8], at: usize) -> Option<(usize, u32)> {
        (at..haystack.len()).find_map(|place| {
            literals
                .iter()
                .position(|(bytes, folded)| {
                    haystack
                        .get(place..place + bytes.len())
                        .is_some_and(|text| {
                            text.iter().zip(bytes).all(|(&t, &l)| match folded {
                                true => fold(t) == fold(l),
                                false => t == l,
                            })
                        })
                })
                .map(|id| (place, id as u32))
        })
    }

    fn every_find(teddy: &Teddy, haystack: &[u8]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some((place, id)) = teddy.find(haystack, at) {
            out.push((place, id));
            at = place + 1;
        }
        out
    }

    fn every_reference(literals: &[(Vec<u8>, bool)], haystack: &[u8]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some((place, id)) = reference(literals, haystack, at) {
            out.push((place, id));
            at = place + 1;
        }
        out
    }

    fn build(literals: &[(Vec<u8>, bool)]) -> Teddy {
        let given: Vec<Literal<'_>> = literals
            .iter()
            .map(|(bytes, folded)| Literal {
                bytes,
                folded: *folded,
            })
            .collect();
        Teddy::new(&given)
    }

    #[test]
    fn folded_literals_match_any_case_and_terminators_and_tabs() {
        let literals = vec![
            (b"timed out".to_vec(), true),
            (b"err".to_vec(), true),
            (b"\n50".to_vec(), true),
            (b"Exact".to_vec(), false),
        ];
        let teddy = build(&literals);
        let text = b"x TIMED\tOUT y\r50 ERR exact Exact eRr";
        let found = every_find(&teddy, text);
        assert_eq!(found, every_reference(&literals, text));
        assert_eq!(found, vec![(2, 0), (13, 2), (17, 1), (27, 3), (33, 1)]);
    }

    fn literal() -> impl Strategy<Value = (Vec<u8>, bool)> {
        (
            proptest::collection::vec(
                prop_oneof![
                    Just(b'a'),
                    Just(b'B'),
                    Just(b' '),
                    Just(b'\n'),
                    Just(b'e'),
                    any::<u8>()
                ],
                1..7,
            ),
            any::<bool>(),
        )
    }

    fn haystack() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                Just(b'a'),
                Just(b'A'),
                Just(b'b'),
                Just(b'B'),
                Just(b' '),
                Just(b'\t'),
                Just(b'\n'),
                Just(b'\r'),
                Just(b'e'),
                Just(b'E'),
                any::<u8>()
            ],
            0..300,
        )
    }

    proptest! {
        /// Every place and literal, whatever the number of literals (one
        /// to four sets), their lengths (shorter than the masks too) and
        /// the text's length (the vectorised part and the rest).
        #[test]
        fn finds_what_one_literal_at_a_time_finds(
            literals in proptest::collection::vec(literal(), 1..120),
            haystack in haystack(),
        ) {
            let teddy = build(&literals);
            let expected = every_reference(&literals, &haystack);
            prop_assert_eq!(every_find(&teddy, &haystack), expected.clone());
            let one_at_a_time = Teddy { fast: false, ..teddy };
            prop_assert_eq!(every_find(&one_at_a_time, &haystack), expected);
        }

        /// The same with a literal taken from the text (found for sure).
        #[test]
        fn finds_a_literal_taken_from_the_text(
            literals in proptest::collection::vec(literal(), 0..80),
            haystack in haystack(),
            from in any::<prop::sample::Index>(),
            len in 1usize..9,
            folded in any::<bool>(),
        ) {
            prop_assume!(!haystack.is_empty());
            let start = from.index(haystack.len());
            let end = (start + len).min(haystack.len());
            let mut literals = literals;
            literals.push((haystack[start..end].to_vec(), folded));
            let teddy = build(&literals);
            let found = every_find(&teddy, &haystack);
            prop_assert!(found.iter().any(|&(place, _)| place <= start));
            prop_assert_eq!(found, every_reference(&literals, &haystack));
        }
    }
}
