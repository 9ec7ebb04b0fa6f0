//! Waiting on a condition instead of sleeping a fixed time, and saying
//! what was seen when the wait runs out.
//!
//! [`until`] polls a probe that answers `Ok` when the condition holds, else
//! `Err` with what it sees now; on timeout the test fails with the last of
//! those. [`seq_seen`] describes a set of sequence numbers against the
//! `0..n` expected: how many, the first missing, the duplicates.

use std::{
    collections::BTreeMap,
    ops::Range,
    thread,
    time::{Duration, Instant},
};

/// Polls `probe` (every 10 ms at first, then up to every 200 ms) until it
/// answers `Ok`, and returns that; after `patience`, fails naming `what`
/// and the last thing the probe saw.
#[track_caller]
pub fn until<T>(what: &str, patience: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        match probe() {
            Ok(value) => return value,
            Err(seen) if start.elapsed() >= patience => {
                panic!("timed out after {patience:?} waiting for {what}; saw: {seen}")
            }
            Err(_) => {}
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// What a set of sequence numbers holds of those `expected`: the count of
/// distinct ones, the first missing, and the first duplicates with how
/// often each came.
pub fn seq_seen(seen: impl IntoIterator<Item = u64>, expected: Range<u64>) -> String {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for s in seen {
        *counts.entry(s).or_default() += 1;
    }
    let n = expected.end - expected.start;
    let first_missing = expected.clone().find(|s| !counts.contains_key(s));
    let duplicates: Vec<String> = counts
        .iter()
        .filter(|(_, c)| **c > 1)
        .take(10)
        .map(|(s, c)| format!("{s}×{c}"))
        .collect();
    let outside = counts.keys().filter(|s| !expected.contains(s)).count();
    format!(
        "{} of {n} distinct; first missing: {}; duplicates: {}{}",
        counts.keys().filter(|s| expected.contains(s)).count(),
        first_missing.map_or_else(|| "none".to_owned(), |s| s.to_string()),
        if duplicates.is_empty() {
            "none".to_owned()
        } else {
            duplicates.join(", ")
        },
        if outside > 0 {
            format!("; {outside} outside {expected:?}")
        } else {
            String::new()
        }
    )
}

#[test]
fn seq_seen_names_the_count_the_first_missing_and_the_duplicates() {
    assert_eq!(
        seq_seen([0, 1, 1, 3, 3, 3, 7], 0..5),
        "3 of 5 distinct; first missing: 2; duplicates: 1×2, 3×3; 1 outside 0..5"
    );
    assert_eq!(
        seq_seen(1..5, 1..5),
        "4 of 4 distinct; first missing: none; duplicates: none"
    );
}

#[test]
fn until_returns_what_the_probe_found_and_a_timeout_says_what_it_saw() {
    let mut polls = 0;
    let found = until("the third poll", Duration::from_secs(5), || {
        polls += 1;
        if polls == 3 {
            Ok(polls)
        } else {
            Err(format!("poll {polls}"))
        }
    });
    assert_eq!(found, 3);
    let failed = std::panic::catch_unwind(|| {
        until::<()>("nothing", Duration::from_millis(30), || {
            Err("still 0".into())
        });
    })
    .expect_err("times out");
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("waiting for nothing") && message.contains("saw: still 0"),
        "{message}"
    );
}
