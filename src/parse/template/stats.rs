//! What a template keeps about the lines it was given: where and when it
//! was first and last seen, counts over time, example lines, the values of
//! its variables. Every part is bounded.
//!
//! Owns: [`Seen`], [`Histogram`], [`Values`]. Must not: read a clock or do
//! I/O. Invariants: a histogram never holds more than [`MAX_BUCKETS`]
//! buckets (it widens its buckets, by doubling, to cover a longer span); a
//! [`Values`] holds at most the cap it was given, each value cut to
//! [`MAX_VALUE_LEN`] bytes.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::model::Level;

/// The most buckets a histogram holds.
pub const MAX_BUCKETS: usize = 256;

/// A value of a variable is kept up to this many bytes.
pub const MAX_VALUE_LEN: usize = 64;

/// Where and when a line was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The source (a path, or `-`).
    pub source: Arc<str>,
    /// 1-based line number.
    pub line_no: u64,
    /// Byte offset of the line's first byte.
    pub offset: u64,
    /// The line's time, if it had one.
    pub ts: Option<Timestamp>,
}

/// Counts per bucket of time: one minute wide until the span seen needs
/// more than [`MAX_BUCKETS`] of them, then two, four, ... minutes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    /// The first bucket's start, in minutes since the epoch (a multiple of
    /// the width).
    base: i64,
    /// Bucket width in minutes: `1 << shift`.
    shift: u32,
    counts: Vec<u32>,
}

impl Histogram {
    /// Counts one line at `ts`.
    pub fn add(&mut self, ts: Timestamp) {
        let minute = ts.as_second().div_euclid(60);
        if self.counts.is_empty() {
            self.shift = 0;
            self.base = minute;
            self.counts.push(1);
            return;
        }
        loop {
            let width = 1i64 << self.shift;
            let index = minute.div_euclid(width) - self.base.div_euclid(width);
            if index >= 0 && (index as usize) < self.counts.len() {
                let slot = &mut self.counts[index as usize];
                *slot = slot.saturating_add(1);
                return;
            }
            if index >= 0 && (index as usize) < MAX_BUCKETS {
                self.counts.resize(index as usize + 1, 0);
                self.counts[index as usize] = 1;
                return;
            }
            if index < 0 && self.counts.len() + (-index) as usize <= MAX_BUCKETS {
                let mut counts = vec![0; (-index) as usize];
                counts.extend_from_slice(&self.counts);
                counts[0] = 1;
                self.counts = counts;
                self.base = minute.div_euclid(width) * width;
                return;
            }
            self.widen();
        }
    }

    /// Doubles the bucket width.
    fn widen(&mut self) {
        let old = 1i64 << self.shift;
        self.shift += 1;
        let new = old * 2;
        let base = self.base.div_euclid(new) * new;
        let mut counts = vec![0u32; self.counts.len() / 2 + 2];
        for (i, &c) in self.counts.iter().enumerate() {
            let start = self.base + i as i64 * old;
            let j = ((start - base) / new) as usize;
            counts[j] = counts[j].saturating_add(c);
        }
        while counts.last() == Some(&0) {
            counts.pop();
        }
        self.base = base;
        self.counts = counts;
    }

    /// Bucket width in minutes.
    pub fn width_minutes(&self) -> u32 {
        1 << self.shift
    }

    /// The first bucket's start, if any line had a time.
    pub fn start(&self) -> Option<Timestamp> {
        if self.counts.is_empty() {
            return None;
        }
        Timestamp::from_second(self.base.saturating_mul(60)).ok()
    }

    /// Counts per bucket, oldest first.
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.counts.capacity() * 4
    }
}

/// The distinct values one variable took, up to a cap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Values {
    /// The values, in the order first seen.
    pub values: Vec<String>,
    /// More distinct values were seen than are kept.
    pub more: bool,
}

impl Values {
    /// Records `value`, keeping at most `cap` distinct values.
    pub fn add(&mut self, value: &str, cap: usize) {
        if self.more && self.values.len() >= cap {
            return;
        }
        let value = &value[..floor_boundary(value, MAX_VALUE_LEN)];
        if self.values.iter().any(|v| v == value) {
            return;
        }
        if self.values.len() >= cap {
            self.more = true;
            return;
        }
        self.values.push(value.to_owned());
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.values.capacity() * size_of::<String>()
            + self.values.iter().map(String::capacity).sum::<usize>()
    }
}

/// A set of levels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Levels(u16);

impl Levels {
    /// Adds `level`.
    pub fn add(&mut self, level: Level) {
        self.0 |= 1 << level as u16;
    }

    /// Every level in the set, least severe first.
    pub fn iter(self) -> impl Iterator<Item = Level> {
        Level::ALL
            .into_iter()
            .filter(move |&l| self.0 & (1 << l as u16) != 0)
    }

    /// The most severe level in the set.
    pub fn max(self) -> Option<Level> {
        self.iter().last()
    }

    /// Both sets together.
    pub fn union(self, other: Levels) -> Levels {
        Levels(self.0 | other.0)
    }
}

/// The largest char boundary of `text` not after `max`.
pub fn floor_boundary(text: &str, max: usize) -> usize {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_minute(m: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 / 60 * 60 + m * 60).expect("in range")
    }

    #[test]
    fn histogram_counts_per_minute_then_widens() {
        let mut h = Histogram::default();
        for m in [0, 0, 1, 5] {
            h.add(at_minute(m));
        }
        assert_eq!(h.counts(), [2, 1, 0, 0, 0, 1]);
        assert_eq!(h.width_minutes(), 1);
        h.add(at_minute(-2));
        assert_eq!(h.counts(), [1, 0, 2, 1, 0, 0, 0, 1]);
        h.add(at_minute(10_000));
        assert!(h.counts().len() <= MAX_BUCKETS);
        assert!(h.width_minutes() >= 64);
        assert_eq!(h.counts().iter().map(|&c| u64::from(c)).sum::<u64>(), 6);
        for m in (-100_000..100_000).step_by(977) {
            h.add(at_minute(m));
            assert!(h.counts().len() <= MAX_BUCKETS);
        }
    }

    #[test]
    fn values_are_capped() {
        let mut v = Values::default();
        for i in 0..20 {
            v.add(&i.to_string(), 4);
            v.add("0", 4);
        }
        assert_eq!(v.values, ["0", "1", "2", "3"]);
        assert!(v.more);
        v.add(&"é".repeat(100), 4);
        assert_eq!(v.values.len(), 4);
        let mut w = Values::default();
        w.add(&"é".repeat(100), 8);
        assert!(w.values[0].len() <= MAX_VALUE_LEN);
    }
}
