//! The log pane's histogram strip: how many events each stretch of time
//! holds over the time range of the events the pane shows (after the
//! filters), with each stretch's worst level, as lnav's histogram view has
//! it on one line. Buckets are a round number of minutes (1, 2, 5, 10, 15,
//! 30, 60, … minutes) so that the strip reads as "events per N minutes".
//!
//! Pure: made from the rows' times and levels at draw time; events without
//! a time are not counted.

use jiff::{SignedDuration, Timestamp};

use crate::model::Level;

/// Bucket lengths in minutes, shortest first; beyond the last, whole days.
const STEPS: [i64; 12] = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

/// One bucket: its events and the worst of their levels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Events in it.
    pub count: u64,
    /// The most severe level among them (`None`: none had a level).
    pub worst: Option<Level>,
}

/// The strip: buckets of `minutes` minutes from `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strip {
    /// The start of the first bucket (on a whole minute).
    pub start: Timestamp,
    /// Minutes per bucket.
    pub minutes: i64,
    /// The buckets, oldest first (at most the width asked for).
    pub buckets: Vec<Bucket>,
}

impl Strip {
    /// Buckets of events at `events` (time, level), at most `width` of them;
    /// `None` when no event has a time or there is no room.
    pub fn of(events: &[(Timestamp, Option<Level>)], width: usize) -> Option<Strip> {
        if width == 0 {
            return None;
        }
        let first = events.iter().map(|e| e.0).min()?;
        let last = events.iter().map(|e| e.0).max()?;
        let start = Timestamp::from_second(first.as_second().div_euclid(60) * 60).ok()?;
        // Minutes from the first bucket's start to the last event, inclusive.
        let span = last.duration_since(start).as_secs().div_euclid(60) + 1;
        let need = span.div_euclid(width as i64) + i64::from(span % width as i64 != 0);
        let minutes = STEPS
            .iter()
            .copied()
            .find(|&m| m >= need)
            .unwrap_or_else(|| need.div_euclid(1440) * 1440 + 1440);
        let len = (span.div_euclid(minutes) + i64::from(span % minutes != 0)).max(1) as usize;
        let mut buckets = vec![Bucket::default(); len.min(width)];
        let last_bucket = buckets.len() - 1;
        for &(at, level) in events {
            let i = (at.duration_since(start).as_secs().div_euclid(60 * minutes)) as usize;
            let bucket = &mut buckets[i.min(last_bucket)];
            bucket.count += 1;
            bucket.worst = bucket.worst.max(level);
        }
        Some(Strip {
            start,
            minutes,
            buckets,
        })
    }

    /// The most events in one bucket.
    pub fn peak(&self) -> u64 {
        self.buckets.iter().map(|b| b.count).max().unwrap_or(0)
    }

    /// The bucket holding `at` (clamped to the strip).
    pub fn bucket_of(&self, at: Timestamp) -> usize {
        let i = at
            .duration_since(self.start)
            .as_secs()
            .div_euclid(60 * self.minutes)
            .max(0) as usize;
        i.min(self.buckets.len().saturating_sub(1))
    }

    /// When bucket `i` starts.
    pub fn start_of(&self, i: usize) -> Timestamp {
        self.start
            .saturating_add(SignedDuration::from_mins(self.minutes * i as i64))
            .unwrap_or(self.start)
    }

    /// The bucket length as people write it: `1m`, `15m`, `2h`, `1d`.
    pub fn step_name(&self) -> String {
        match self.minutes {
            m if m % 1440 == 0 => format!("{}d", m / 1440),
            m if m % 60 == 0 => format!("{}h", m / 60),
            m => format!("{m}m"),
        }
    }
}

/// The bar for `count` out of `peak`: a space for none, else one of eight
/// heights (any event shows at least the lowest).
pub fn bar(count: u64, peak: u64) -> char {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if count == 0 || peak == 0 {
        return ' ';
    }
    let step = (count * 8).div_ceil(peak).clamp(1, 8);
    BARS[step as usize - 1]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    #[test]
    fn minutes_of_a_short_incident() {
        let events = [
            (at("2026-11-21T03:00:10Z"), Some(Level::Info)),
            (at("2026-11-21T03:00:50Z"), Some(Level::Error)),
            (at("2026-11-21T03:02:05Z"), None),
            (at("2026-11-21T03:04:59Z"), Some(Level::Warn)),
        ];
        let strip = Strip::of(&events, 60).expect("a strip");
        assert_eq!(strip.start, at("2026-11-21T03:00:00Z"));
        assert_eq!(strip.minutes, 1);
        assert_eq!(strip.step_name(), "1m");
        let counts: Vec<u64> = strip.buckets.iter().map(|b| b.count).collect();
        assert_eq!(counts, [2, 0, 1, 0, 1]);
        assert_eq!(strip.buckets[0].worst, Some(Level::Error));
        assert_eq!(strip.buckets[2].worst, None);
        assert_eq!(strip.peak(), 2);
        assert_eq!(strip.bucket_of(at("2026-11-21T03:02:30Z")), 2);
        assert_eq!(strip.start_of(4), at("2026-11-21T03:04:00Z"));
    }

    #[test]
    fn a_long_range_takes_round_buckets() {
        // Ten hours in 40 columns: 15-minute buckets (600 / 40 = 15).
        let events = [
            (at("2026-11-21T00:00:00Z"), Some(Level::Info)),
            (at("2026-11-21T09:59:00Z"), Some(Level::Info)),
        ];
        let strip = Strip::of(&events, 40).expect("a strip");
        assert_eq!((strip.minutes, strip.buckets.len()), (15, 40));
        // Twelve years in 80 columns: whole days.
        let events = [
            (at("2005-06-03T15:42:50Z"), None),
            (at("2017-01-01T00:00:00Z"), None),
        ];
        let strip = Strip::of(&events, 80).expect("a strip");
        assert_eq!(strip.minutes % 1440, 0);
        assert!(strip.buckets.len() <= 80);
        assert!(strip.step_name().ends_with('d'));
    }

    #[test]
    fn nothing_timed_no_strip() {
        assert_eq!(Strip::of(&[], 80), None);
        assert_eq!(Strip::of(&[(at("2026-11-21T00:00:00Z"), None)], 0), None);
    }

    #[test]
    fn bars_grow_with_the_count() {
        assert_eq!(bar(0, 10), ' ');
        assert_eq!(bar(1, 1000), '▁');
        assert_eq!(bar(10, 10), '█');
        assert_eq!(bar(5, 10), '▄');
    }

    proptest! {
        #[test]
        fn every_timed_event_counted_once_within_the_width(
            seconds in proptest::collection::vec(0i64..400_000_000, 1..200),
            width in 1usize..300,
        ) {
            let events: Vec<(Timestamp, Option<Level>)> = seconds
                .iter()
                .map(|&s| (Timestamp::from_second(1_000_000_000 + s).expect("in range"), None))
                .collect();
            let strip = Strip::of(&events, width).expect("a strip");
            prop_assert!(strip.buckets.len() <= width);
            prop_assert_eq!(
                strip.buckets.iter().map(|b| b.count).sum::<u64>(),
                events.len() as u64
            );
            for &(t, _) in &events {
                let i = strip.bucket_of(t);
                prop_assert!(strip.start_of(i) <= t);
                prop_assert!(i + 1 == strip.buckets.len() || t < strip.start_of(i + 1));
            }
        }
    }
}
