//! Exact accounting of a stress run: what the writer wrote (every sequence
//! number, its kind, the file generation it went to and what became of that
//! generation) against what came out (each `watch` incarnation's alerts and
//! the index's documents). Pure: no process, no file.
//!
//! The acceptance line, checked here:
//! - index: every sequence number exactly once, no document without one (a
//!   compressed file indexed as text, a stack trace split in two);
//! - alerts: every kernel-OOM sequence number at least once; never twice
//!   within one incarnation of `watch`; again in a later incarnation only
//!   right after a `kill -9` (never after SIGTERM), only numbers the killed
//!   incarnation printed, spanning at most [`REPEAT_BOUND`] sequence numbers
//!   (one checkpointed batch of 4,096 lines plus one 64 KiB read);
//! - the one exception: lines whose plain bytes were destroyed before `watch`
//!   read them. A truncation (plain, or the part of a copytruncate written
//!   between the copy and the truncation) races the reader at any time; a
//!   deletion, or the removal of a plain file once compressed, only while
//!   `watch` is down (from a kill until the next incarnation's first output).
//!   Such a line may be missing only when no later line of the same
//!   generation came out (the reader reads a file in order): the lost lines
//!   are a suffix of what the file held, counted as `gone`. From the index,
//!   lines read (even alerted) but not yet committed are also gone when their
//!   bytes are destroyed and a `kill -9` lands after that and within
//!   [`COMMIT_WINDOW_MS`] of the line's writing: the next `watch` cannot
//!   read them again. So are, from the alerts, lines of a file removed while
//!   `watch` was up (a copy compressed right after a copytruncate) that it
//!   had not alerted yet, read or only opened, when such a `kill -9` landed
//!   (alerting precedes the commit: the same window bounds it), unless the
//!   index holds them: a `watch` that indexed a line had alerted on it.

use std::{collections::BTreeMap, fmt::Write as _};

/// Most sequence numbers (max - min + 1) that the alerts repeated after one
/// `kill -9` may span: one batch of 4,096 lines plus the rest of the 64 KiB
/// read that filled it (lines of at least 48 bytes here).
pub const REPEAT_BOUND: u64 = 4096 + 64 * 1024 / 48;

/// What a sequence number was written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An ordinary line.
    Plain,
    /// A kernel OOM line: the shipped `linux-oom-killer` alerts on it.
    Oom,
    /// A four-line stack trace written in one write(): one event.
    Trace,
}

/// A part of a generation whose plain bytes were destroyed.
#[derive(Debug, Clone)]
pub struct Risk {
    /// First sequence number destroyed.
    pub from: u64,
    /// One past the last.
    pub to: u64,
    /// When (milliseconds since the run started).
    pub at_ms: u64,
    /// Destroyed by a truncation: a race with the reader whenever it happens.
    /// Otherwise (deleted, compressed) only a loss while `watch` was down.
    pub truncation: bool,
}

/// One stretch of content of one file: from its creation or truncation to
/// the writer's reopening it or its next truncation.
#[derive(Debug, Clone)]
pub struct Generation {
    /// File name(s) it had, in order ("app.log -> app.log.3 -> app.log.3.gz").
    pub names: String,
    /// First sequence number.
    pub first: u64,
    /// One past the last.
    pub end: u64,
    /// What destroyed which part of it.
    pub risks: Vec<Risk>,
}

/// Everything the writer and rotator did.
#[derive(Debug, Default, Clone)]
pub struct Written {
    /// Kind of each sequence number (index = sequence number).
    pub kinds: Vec<Kind>,
    /// When each was written (milliseconds since the start).
    pub at_ms: Vec<u64>,
    /// The generations, in order of creation.
    pub gens: Vec<Generation>,
}

/// How an incarnation of `watch` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// `kill -9`.
    Kill,
    /// SIGTERM.
    Term,
}

/// One run of `watch` between a start and a stop.
#[derive(Debug, Clone)]
pub struct Incarnation {
    /// Its first output line, if any.
    pub first_output_ms: Option<u64>,
    /// Stopped, and how.
    pub end: Option<(u64, End)>,
    /// OOM sequence numbers alerted, in order.
    pub alerts: Vec<u64>,
    /// Its exit status and the last lines of its stderr, when it failed.
    pub failure: Option<String>,
}

/// One document of the index: its sequence number, or the line if it has
/// none; and whether a trace came out whole.
#[derive(Debug, Clone)]
pub enum Doc {
    /// A line of ours.
    Seq {
        /// Its sequence number.
        n: u64,
        /// The document holds the whole event (all lines of a trace).
        whole: bool,
    },
    /// A document with no sequence number.
    Foreign(String),
}

/// The verdict on one stream (alerts or index).
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Expected and never seen, not excused.
    pub missing: Vec<u64>,
    /// Expected and never seen, excused: destroyed before being read.
    pub gone: u64,
    /// Seen more often than allowed: (sequence number, times).
    pub duplicated: Vec<(u64, usize)>,
}

/// The whole verdict.
#[derive(Debug, Default, Clone)]
pub struct Verdict {
    /// The index.
    pub index: Tally,
    /// Documents with no sequence number (count, first few).
    pub foreign: (usize, Vec<String>),
    /// Traces not in one document.
    pub split_traces: Vec<u64>,
    /// The alerts.
    pub alerts: Tally,
    /// Repeats after a kill: the most in one, and their widest span.
    pub repeats_max: usize,
    /// Widest span of repeated numbers after one kill.
    pub repeat_span_max: u64,
    /// Repeats not allowed (after SIGTERM, from an older incarnation, or
    /// spanning more than a batch): (sequence number, why).
    pub bad_repeats: Vec<(u64, String)>,
    /// Incarnations that failed (exit status, stderr).
    pub failures: Vec<String>,
}

impl Verdict {
    /// The acceptance line holds.
    pub fn ok(&self) -> bool {
        self.index.missing.is_empty()
            && self.index.duplicated.is_empty()
            && self.foreign.0 == 0
            && self.split_traces.is_empty()
            && self.alerts.missing.is_empty()
            && self.alerts.duplicated.is_empty()
            && self.bad_repeats.is_empty()
            && self.failures.is_empty()
    }
}

/// Whether `watch` was down at `t`: before the first incarnation printed
/// anything, or after one ended and before the next printed anything.
fn down_at(incarnations: &[Incarnation], t: u64) -> bool {
    let before_first = incarnations
        .first()
        .is_some_and(|first| t <= first.first_output_ms.unwrap_or(u64::MAX));
    before_first
        || incarnations.iter().enumerate().any(|(i, inc)| {
            let Some((end, _)) = inc.end else {
                return false;
            };
            let up_again = incarnations
                .get(i + 1)
                .map_or(u64::MAX, |next| next.first_output_ms.unwrap_or(u64::MAX));
            (end..=up_again).contains(&t)
        })
}

/// How long after reading a line `watch` may take to commit it to the index:
/// `--commit-every` (1 s by default) plus a commit's own time on a small,
/// busy machine.
pub const COMMIT_WINDOW_MS: u64 = 2000;

/// A stretch of sequence numbers excused if missing: always, or only when
/// a `kill -9` landed after the destruction at `.0` and before the line could
/// have been committed ([`COMMIT_WINDOW_MS`] after it was written).
#[derive(Debug, Clone, Copy)]
enum When {
    Always,
    KilledAfter(u64),
    /// [`When::KilledAfter`], for a line not in the index: a line indexed
    /// was read whole by a `watch` that alerted before it committed.
    KilledAfterUnindexed(u64),
}

/// Per generation, the sequence numbers excused if missing from a stream
/// (see the module's doc): in a destroyed part, after the last one of the
/// generation that came out in that stream. `alerted` is given for the
/// index: there a part destroyed while `watch` was up is excused only past
/// the last line alerted (an alert shows the reader had got that far, and
/// the index must then have it), or when a `kill -9` landed before those
/// lines could be committed (read, not yet committed, then gone from the
/// disk: nothing can index them again).
fn excused(
    written: &Written,
    incarnations: &[Incarnation],
    seen: &dyn Fn(u64) -> bool,
    alerted: Option<&dyn Fn(u64) -> bool>,
) -> Vec<(u64, u64, When)> {
    let mut ranges = Vec::new();
    for g in &written.gens {
        let last = |f: &dyn Fn(u64) -> bool| (g.first..g.end).rev().find(|&n| f(n));
        let last_seen = last(seen);
        let last_alerted = alerted.and_then(last);
        for risk in &g.risks {
            let down = down_at(incarnations, risk.at_ms);
            let from = last_seen.map_or(risk.from, |l| risk.from.max(l + 1));
            if down || (risk.truncation && alerted.is_none()) {
                ranges.push((from, risk.to, When::Always));
                continue;
            }
            if alerted.is_none() {
                // Alerts: read (or only opened) but not yet alerted when a
                // `kill -9` lands after the destruction, as for the index;
                // not a line in the index (alerted before committed).
                ranges.push((from, risk.to, When::KilledAfterUnindexed(risk.at_ms)));
                continue;
            }
            if risk.truncation {
                let past = last_alerted.map_or(from, |l| from.max(l + 1));
                ranges.push((past, risk.to, When::Always));
            }
            ranges.push((from, risk.to, When::KilledAfter(risk.at_ms)));
        }
    }
    ranges
}

fn is_excused(
    ranges: &[(u64, u64, When)],
    written: &Written,
    incarnations: &[Incarnation],
    indexed: &dyn Fn(u64) -> bool,
    n: u64,
) -> bool {
    ranges.iter().any(|&(a, b, when)| {
        (a..b).contains(&n)
            && match when {
                When::Always => true,
                When::KilledAfterUnindexed(_) if indexed(n) => false,
                When::KilledAfter(t) | When::KilledAfterUnindexed(t) => {
                    // (Read no earlier than the incarnation was up: a slow
                    // start on a busy machine delays the first commit.)
                    let written_at = written.at_ms[n as usize];
                    incarnations.iter().any(|inc| {
                        let read_by = written_at.max(inc.first_output_ms.unwrap_or(written_at));
                        let committed_by = read_by + COMMIT_WINDOW_MS;
                        matches!(inc.end, Some((end, End::Kill)) if (t..=committed_by).contains(&end))
                    })
                }
            }
    })
}

/// Checks the outputs against what was written. `incarnations` is empty
/// for an `ingest` run (the index alone is checked, with nothing excused).
pub fn judge(written: &Written, incarnations: &[Incarnation], docs: &[Doc]) -> Verdict {
    let mut verdict = Verdict::default();
    let total = written.kinds.len() as u64;

    // The index.
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for doc in docs {
        match doc {
            Doc::Seq { n, whole } => {
                *counts.entry(*n).or_insert(0) += 1;
                if !whole {
                    verdict.split_traces.push(*n);
                }
            }
            Doc::Foreign(line) => {
                verdict.foreign.0 += 1;
                if verdict.foreign.1.len() < 5 {
                    let mut cut: String = line.chars().take(100).collect();
                    if cut.len() < line.len() {
                        cut.push('…');
                    }
                    verdict.foreign.1.push(cut);
                }
            }
        }
    }
    let mut times: BTreeMap<u64, usize> = BTreeMap::new();
    for inc in incarnations {
        for &n in &inc.alerts {
            *times.entry(n).or_insert(0) += 1;
        }
    }
    let ranges = if incarnations.is_empty() {
        Vec::new()
    } else {
        excused(
            written,
            incarnations,
            &|n| counts.contains_key(&n),
            Some(&|n| times.contains_key(&n)),
        )
    };
    for n in 0..total {
        match counts.get(&n) {
            None if is_excused(&ranges, written, incarnations, &|_| false, n) => {
                verdict.index.gone += 1;
            }
            None => verdict.index.missing.push(n),
            Some(&c) if c > 1 => verdict.index.duplicated.push((n, c)),
            Some(_) => {}
        }
    }
    for (&n, &c) in counts.range(total..) {
        verdict.index.duplicated.push((n, c));
        verdict.foreign.0 += 1;
    }
    if incarnations.is_empty() {
        return verdict;
    }

    // The alerts.
    let mut first_in: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, inc) in incarnations.iter().enumerate() {
        if let Some(failure) = &inc.failure {
            verdict.failures.push(format!("incarnation {i}: {failure}"));
        }
        let mut here: BTreeMap<u64, usize> = BTreeMap::new();
        for &n in &inc.alerts {
            *here.entry(n).or_insert(0) += 1;
        }
        let mut repeated = Vec::new();
        // The repeats of incarnation i may be only what the last incarnation
        // that printed anything printed, if it (and any silent one since)
        // was killed with -9.
        let printer = (0..i).rev().find(|&k| !incarnations[k].alerts.is_empty());
        for (&n, &c) in &here {
            if c > 1 {
                verdict.alerts.duplicated.push((n, c));
            }
            match first_in.get(&n) {
                None => {
                    first_in.insert(n, i);
                }
                Some(&j) => {
                    repeated.push(n);
                    let Some(p) = printer else { continue };
                    if !incarnations[p].alerts.contains(&n) {
                        verdict.bad_repeats.push((
                            n,
                            format!(
                                "first alerted by incarnation {j}, again by {i}, not by {p} in between"
                            ),
                        ));
                    } else if matches!(incarnations[p].end, Some((_, End::Term))) {
                        verdict.bad_repeats.push((
                            n,
                            format!("alerted again by incarnation {i} after a SIGTERM of {p}"),
                        ));
                    }
                }
            }
        }
        if let (Some(&lo), Some(&hi)) = (repeated.first(), repeated.last()) {
            verdict.repeats_max = verdict.repeats_max.max(repeated.len());
            let span = hi - lo + 1;
            verdict.repeat_span_max = verdict.repeat_span_max.max(span);
            if span > REPEAT_BOUND {
                verdict.bad_repeats.push((
                    lo,
                    format!(
                        "{} repeats after one kill span {lo}..={hi}, over {REPEAT_BOUND}",
                        repeated.len()
                    ),
                ));
            }
        }
    }
    let ranges = excused(written, incarnations, &|n| times.contains_key(&n), None);
    for n in 0..total {
        if written.kinds[n as usize] != Kind::Oom {
            continue;
        }
        if !times.contains_key(&n) {
            if is_excused(
                &ranges,
                written,
                incarnations,
                &|n| counts.contains_key(&n),
                n,
            ) {
                verdict.alerts.gone += 1;
            } else {
                verdict.alerts.missing.push(n);
            }
        }
    }
    verdict
}

/// Where a sequence number was written: its generation and when, relative
/// to the nearest kill.
pub fn whereabouts(written: &Written, incarnations: &[Incarnation], n: u64) -> String {
    let mut out = format!("n{n}");
    if let Some(g) = written
        .gens
        .iter()
        .position(|g| (g.first..g.end).contains(&n))
    {
        let generation = &written.gens[g];
        let _ = write!(
            out,
            " in generation {g} ({}, n{}..n{}",
            generation.names,
            generation.first,
            generation.end.saturating_sub(1)
        );
        for risk in &generation.risks {
            let _ = write!(
                out,
                "; n{}..n{} {} at {} ms",
                risk.from,
                risk.to.saturating_sub(1),
                if risk.truncation {
                    "truncated"
                } else {
                    "removed"
                },
                risk.at_ms
            );
        }
        out.push(')');
    }
    if let Some(&t) = written.at_ms.get(n as usize) {
        let _ = write!(out, " written at {t} ms");
        let nearest = incarnations
            .iter()
            .filter_map(|i| i.end)
            .min_by_key(|(end, _)| end.abs_diff(t));
        if let Some((end, how)) = nearest {
            let _ = write!(
                out,
                ", {} ms {} a {}",
                end.abs_diff(t),
                if t < end { "before" } else { "after" },
                match how {
                    End::Kill => "kill -9",
                    End::Term => "SIGTERM",
                }
            );
        }
    }
    out
}

/// Runs of consecutive numbers, shortened: "12..40, 77, 90..91".
pub fn runs(numbers: &[u64], max: usize) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < numbers.len() && out.len() < max {
        let start = numbers[i];
        let mut end = start;
        while i + 1 < numbers.len() && numbers[i + 1] == end + 1 {
            i += 1;
            end = numbers[i];
        }
        out.push(if start == end {
            format!("{start}")
        } else {
            format!("{start}..={end}")
        });
        i += 1;
    }
    if i < numbers.len() {
        out.push("…".into());
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(n: u64, risks: Vec<Risk>) -> Written {
        Written {
            kinds: (0..n)
                .map(|i| if i % 2 == 0 { Kind::Oom } else { Kind::Plain })
                .collect(),
            at_ms: (0..n).collect(),
            gens: vec![Generation {
                names: "app.log".into(),
                first: 0,
                end: n,
                risks,
            }],
        }
    }

    fn docs(ns: impl IntoIterator<Item = u64>) -> Vec<Doc> {
        ns.into_iter()
            .map(|n| Doc::Seq { n, whole: true })
            .collect()
    }

    fn inc(alerts: Vec<u64>, end: Option<(u64, End)>) -> Incarnation {
        Incarnation {
            first_output_ms: Some(0),
            end,
            alerts,
            failure: None,
        }
    }

    #[test]
    fn a_truncated_suffix_is_excused_a_hole_is_not() {
        let w = written(
            10,
            vec![Risk {
                from: 0,
                to: 10,
                at_ms: 5,
                truncation: true,
            }],
        );
        let incs = [inc(vec![0, 2, 4], None)];
        let v = judge(&w, &incs, &docs(0..6));
        assert!(v.ok(), "{v:?}");
        assert_eq!((v.index.gone, v.alerts.gone), (4, 2));
        let v = judge(&w, &incs, &docs([0, 1, 2, 4, 5]));
        assert_eq!(v.index.missing, vec![3]);
        // An alert shows the reader got to n8 before the truncation: the
        // index must have everything up to there.
        let v = judge(&w, &[inc(vec![0, 2, 4, 8], None)], &docs(0..6));
        assert_eq!(v.index.missing, vec![6, 7, 8]);
    }

    #[test]
    fn a_removal_is_excused_only_while_watch_is_down() {
        let risk = |at_ms| Risk {
            from: 0,
            to: 10,
            at_ms,
            truncation: false,
        };
        let incs = [
            inc(vec![0, 2], Some((20, End::Kill))),
            Incarnation {
                first_output_ms: Some(30),
                ..inc(vec![2], None)
            },
        ];
        let v = judge(&written(10, vec![risk(25)]), &incs, &docs(0..4));
        assert!(v.ok(), "{v:?}");
        let v = judge(&written(10, vec![risk(35)]), &incs, &docs(0..4));
        assert_eq!(v.index.missing, (4..10).collect::<Vec<_>>());
        assert_eq!(v.alerts.missing, vec![4, 6, 8]);
    }

    #[test]
    fn read_uncommitted_then_destroyed_then_killed_is_gone_from_the_index() {
        let w = written(
            10,
            vec![Risk {
                from: 0,
                to: 10,
                at_ms: 100,
                truncation: true,
            }],
        );
        // Alerted up to n8, indexed up to n3 (line n written at n ms): n4..n8
        // are excused only if a kill -9 came after the truncation and before
        // they could have been committed.
        let killed = |at| {
            [
                inc(vec![0, 2, 4, 6, 8], Some((at, End::Kill))),
                inc(Vec::new(), None),
            ]
        };
        let v = judge(&w, &killed(4 + COMMIT_WINDOW_MS), &docs(0..4));
        assert!(v.index.missing.is_empty(), "{v:?}");
        let v = judge(&w, &killed(6 + COMMIT_WINDOW_MS), &docs(0..4));
        assert_eq!(v.index.missing, vec![4, 5]);
        let v = judge(&w, &killed(99), &docs(0..4));
        assert_eq!(v.index.missing, (4..=8).collect::<Vec<_>>());
    }

    #[test]
    fn a_copy_compressed_while_up_then_killed_is_gone_from_the_alerts() {
        // A copytruncate's copy, compressed (the plain copy removed) at
        // 100 ms while `watch` was up, holding n4..n9 it had not alerted
        // yet: gone only if a kill -9 came after the removal and before
        // those lines could have been alerted; a SIGTERM drains what is
        // open, so after one they are missing.
        let w = written(
            10,
            vec![Risk {
                from: 0,
                to: 10,
                at_ms: 100,
                truncation: false,
            }],
        );
        let stopped = |at, how| [inc(vec![0, 2], Some((at, how))), inc(Vec::new(), None)];
        let v = judge(&w, &stopped(150, End::Kill), &docs(0..4));
        assert!(v.alerts.missing.is_empty(), "{v:?}");
        assert_eq!(v.alerts.gone, 3);
        // In the index but never alerted: a `watch` had the line and did not
        // alert on it; no kill excuses that.
        let v = judge(&w, &stopped(150, End::Kill), &docs(0..7));
        assert_eq!(v.alerts.missing, vec![4, 6]);
        let v = judge(&w, &stopped(150, End::Term), &docs(0..4));
        assert_eq!(v.alerts.missing, vec![4, 6, 8]);
        let v = judge(&w, &stopped(99, End::Kill), &docs(0..4));
        assert_eq!(v.alerts.missing, vec![4, 6, 8]);
        // (Line n is written at n ms: n8 could not have been alerted yet.)
        let v = judge(&w, &stopped(7 + COMMIT_WINDOW_MS, End::Kill), &docs(0..4));
        assert_eq!(v.alerts.missing, vec![4, 6]);
    }

    #[test]
    fn repeats_only_after_a_kill_and_only_of_the_killed_incarnation() {
        let w = written(10, Vec::new());
        let all = docs(0..10);
        let ok = [
            inc(vec![0, 2, 4], Some((1, End::Kill))),
            inc(vec![4, 6, 8], None),
        ];
        let v = judge(&w, &ok, &all);
        assert!(v.ok(), "{v:?}");
        assert_eq!(v.repeats_max, 1);
        let term = [
            inc(vec![0, 2, 4], Some((1, End::Term))),
            inc(vec![4, 6, 8], None),
        ];
        assert_eq!(judge(&w, &term, &all).bad_repeats.len(), 1);
        let twice = [inc(vec![0, 2, 2, 4, 6, 8], None)];
        assert_eq!(judge(&w, &twice, &all).alerts.duplicated, vec![(2, 2)]);
    }

    #[test]
    fn foreign_and_split_documents_fail() {
        let w = written(2, Vec::new());
        let mut d = docs(0..2);
        d.push(Doc::Foreign("\u{1f}\u{8b}garbage".into()));
        let v = judge(&w, &[inc(vec![0], None)], &d);
        assert_eq!(v.foreign.0, 1);
        assert!(!v.ok());
        let d = vec![
            Doc::Seq { n: 0, whole: false },
            Doc::Seq { n: 1, whole: true },
        ];
        assert_eq!(judge(&w, &[inc(vec![0], None)], &d).split_traces, vec![0]);
    }

    #[test]
    fn runs_are_shortened() {
        assert_eq!(runs(&[1, 2, 3, 7, 9, 10], 10), "1..=3, 7, 9..=10");
        assert_eq!(runs(&[1, 3, 5], 2), "1, 3, …");
    }
}
