//! Turns hits into alerts: thresholds (N hits in T per key), suppression (one
//! alert per key per window, the rest counted) and clearing (quiet this long).
//!
//! Pure: the time of each hit is passed in (the event's timestamp, falling
//! back to arrival time), so `scan` of an old file and `watch` of a live one
//! decide the same way, and tests run on an injected clock. Times are
//! milliseconds since the Unix epoch.
//!
//! Keyed by where: a threshold counts, and a suppression window holds, per
//! signature and source (the file and host a hit came from) and the
//! signature's key captures; `across_sources` collapses the sources.

use std::collections::{HashMap, VecDeque};

use super::{Captures, Signature};
use crate::model::{Cleared, SignatureId};

/// What the detector made of one hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The signature fires.
    Alert(Fired),
    /// Counted towards a threshold not yet reached.
    Pending,
    /// Within a suppression window: counted, not alerted.
    Suppressed,
}

/// A signature firing: the counts an alert carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    /// Hits that made this alert (the threshold's count, or 1).
    pub hits: u64,
    /// Hits suppressed for this key since its previous alert.
    pub suppressed: u64,
    /// The key's `(capture, value)` pairs (suppression key, else group).
    pub key: Vec<(String, String)>,
}

/// Signature, source (empty across sources) and the key's values.
type Key = (usize, String, Vec<String>);

/// The detector's state across hits.
#[derive(Debug, Default)]
pub struct Detector {
    windows: HashMap<Key, VecDeque<i64>>,
    suppressed: HashMap<Key, (i64, u64)>,
    active: HashMap<Key, i64>,
}

fn key_values(names: &[String], captures: &Captures) -> Vec<String> {
    names
        .iter()
        .map(|name| {
            captures
                .iter()
                .find(|(n, _)| n == name)
                .map_or_else(String::new, |(_, v)| v.clone())
        })
        .collect()
}

fn alert_key(signature: &Signature) -> &[String] {
    match (&signature.suppress, &signature.threshold) {
        (Some(s), _) => &s.key,
        (None, Some(t)) => &t.group_by,
        (None, None) => &[],
    }
}

/// The source part of a key: `source` unless the rule counts across
/// sources.
fn source_part(across: bool, source: &str) -> String {
    match across {
        true => String::new(),
        false => source.to_owned(),
    }
}

impl Detector {
    /// A detector with no history.
    pub fn new() -> Detector {
        Detector::default()
    }

    /// Decides what a hit of signature `index` from `source` (the file
    /// and host it came from) at `at_ms` is.
    pub fn observe(
        &mut self,
        index: usize,
        signature: &Signature,
        captures: &Captures,
        source: &str,
        at_ms: i64,
    ) -> Decision {
        let names = alert_key(signature);
        let across = signature.suppress.as_ref().map_or_else(
            || {
                signature
                    .threshold
                    .as_ref()
                    .is_some_and(|t| t.across_sources)
            },
            |s| s.across_sources,
        );
        let key = (
            index,
            source_part(across, source),
            key_values(names, captures),
        );
        if let Some(last) = self.active.get_mut(&key) {
            *last = (*last).max(at_ms);
        }
        let mut hits = 1;
        if let Some(threshold) = &signature.threshold {
            let group = (
                index,
                source_part(threshold.across_sources, source),
                key_values(&threshold.group_by, captures),
            );
            let window_ms = threshold.window.as_millis() as i64;
            let times = self.windows.entry(group).or_default();
            times.retain(|&t| t > at_ms - window_ms);
            times.push_back(at_ms);
            if (times.len() as u64) < threshold.count {
                return Decision::Pending;
            }
            hits = times.len() as u64;
            times.clear();
        }
        let mut suppressed = 0;
        if let Some(suppress) = &signature.suppress {
            let window_ms = suppress.window.as_millis() as i64;
            match self.suppressed.get_mut(&key) {
                Some((last_alert, count))
                    if at_ms >= *last_alert && at_ms - *last_alert < window_ms =>
                {
                    *count += 1;
                    return Decision::Suppressed;
                }
                Some((last_alert, count)) => {
                    *last_alert = at_ms;
                    suppressed = std::mem::take(count);
                }
                None => {
                    self.suppressed.insert(key.clone(), (at_ms, 0));
                }
            }
        }
        let pairs = names.iter().cloned().zip(key.2.iter().cloned()).collect();
        if signature.clear_after.is_some() {
            self.active.insert(key, at_ms);
        }
        Decision::Alert(Fired {
            hits,
            suppressed,
            key: pairs,
        })
    }

    /// Keys of signatures with `clear_after` that have been quiet that long at
    /// `now_ms` in every source: each is reported once, until it fires again.
    pub fn clear_due(&mut self, signatures: &[Signature], now_ms: i64) -> Vec<Cleared> {
        // (signature, key values) → (quiet long enough everywhere, last hit).
        let mut groups: HashMap<(usize, &[String]), (bool, i64)> = HashMap::new();
        for ((index, _, values), &last_hit) in &self.active {
            let Some(after) = signatures[*index].clear_after else {
                continue;
            };
            let quiet = now_ms - last_hit >= after.as_millis() as i64;
            let group = groups.entry((*index, values)).or_insert((true, last_hit));
            group.0 &= quiet;
            group.1 = group.1.max(last_hit);
        }
        let mut cleared: Vec<Cleared> = groups
            .into_iter()
            .filter(|(_, (quiet, _))| *quiet)
            .map(|((index, values), (_, last_hit))| Cleared {
                signature: SignatureId(index),
                key: alert_key(&signatures[index])
                    .iter()
                    .cloned()
                    .zip(values.iter().cloned())
                    .collect(),
                last_hit_ms: last_hit,
            })
            .collect();
        self.active.retain(|(index, _, values), _| {
            !cleared
                .iter()
                .any(|c| c.signature.0 == *index && c.key.iter().map(|(_, v)| v).eq(values.iter()))
        });
        cleared.sort_by(|a, b| {
            (a.last_hit_ms, a.signature, &a.key).cmp(&(b.last_hit_ms, b.signature, &b.key))
        });
        cleared
    }

    /// Hits suppressed since each key's last alert, for a final count.
    pub fn pending_suppressed(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.suppressed
            .iter()
            .map(|((index, ..), (_, count))| (*index, *count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::tests::load;

    const MIN: i64 = 60_000;

    fn sig(extra: &str) -> Signature {
        let (mut sigs, diags) = load(&format!(
            "[[signature]]\nid='a'\ntitle='t'\nseverity='low'\ndescription='d'\nregex='(?P<host>h\\d) (?P<kind>\\w+)'\n{extra}\n"
        ));
        assert!(diags.is_empty(), "{diags:?}");
        sigs.remove(0)
    }

    fn caps(host: &str, kind: &str) -> Captures {
        vec![("host".into(), host.into()), ("kind".into(), kind.into())]
    }

    fn alert(hits: u64, suppressed: u64, key: &[(&str, &str)]) -> Decision {
        Decision::Alert(Fired {
            hits,
            suppressed,
            key: key
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })
    }

    #[test]
    fn without_rules_every_hit_alerts() {
        let s = sig("");
        let mut d = Detector::new();
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "a.log", 0),
            alert(1, 0, &[])
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "a.log", 0),
            alert(1, 0, &[])
        );
    }

    #[test]
    fn threshold_fires_on_n_hits_within_the_window_per_group() {
        let s = sig("threshold = { count = 3, window = '1m', group_by = ['host'] }");
        let mut d = Detector::new();
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "a.log", 0),
            Decision::Pending
        );
        assert_eq!(
            d.observe(0, &s, &caps("h2", "x"), "a.log", 1_000),
            Decision::Pending
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "a.log", 2_000),
            Decision::Pending
        );
        // The first h1 hit has left the window by now.
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "a.log", MIN + 1),
            Decision::Pending
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "a.log", MIN + 2),
            alert(3, 0, &[("host", "h1")])
        );
        // After firing, counting starts again.
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "a.log", MIN + 3),
            Decision::Pending
        );
    }

    #[test]
    fn suppression_keeps_one_alert_per_key_per_window_and_counts_the_rest() {
        let s = sig("suppress = { window = '5m', key = ['kind'] }");
        let mut d = Detector::new();
        assert_eq!(
            d.observe(0, &s, &caps("h1", "a"), "a.log", 0),
            alert(1, 0, &[("kind", "a")])
        );
        assert_eq!(
            d.observe(0, &s, &caps("h2", "a"), "a.log", MIN),
            Decision::Suppressed
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "b"), "a.log", MIN),
            alert(1, 0, &[("kind", "b")])
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "a"), "a.log", 4 * MIN),
            Decision::Suppressed
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "a"), "a.log", 5 * MIN),
            alert(1, 2, &[("kind", "a")])
        );
        assert_eq!(d.pending_suppressed().map(|(_, n)| n).sum::<u64>(), 0);
    }

    #[test]
    fn threshold_and_suppression_together() {
        let s = sig(
            "threshold = { count = 2, window = '1m' }\nsuppress = { window = '10m', key = [] }",
        );
        let mut d = Detector::new();
        assert_eq!(
            d.observe(0, &s, &caps("h1", "a"), "a.log", 0),
            Decision::Pending
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "a"), "a.log", 1),
            alert(2, 0, &[])
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "a"), "a.log", 2),
            Decision::Pending
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "a"), "a.log", 3),
            Decision::Suppressed
        );
    }

    #[test]
    fn quiet_keys_clear_once() {
        let s = sig("clear_after = '5m'\nsuppress = { window = '1m', key = ['host'] }");
        let sigs = [s];
        let mut d = Detector::new();
        assert!(matches!(
            d.observe(0, &sigs[0], &caps("h1", "a"), "a.log", 0),
            Decision::Alert(_)
        ));
        assert_eq!(
            d.observe(0, &sigs[0], &caps("h1", "a"), "a.log", 2 * MIN),
            alert(1, 0, &[("host", "h1")])
        );
        assert!(d.clear_due(&sigs, 6 * MIN).is_empty(), "last hit was at 2m");
        let cleared = d.clear_due(&sigs, 7 * MIN);
        assert_eq!(
            cleared,
            [Cleared {
                signature: SignatureId(0),
                key: vec![("host".into(), "h1".into())],
                last_hit_ms: 2 * MIN
            }]
        );
        assert!(d.clear_due(&sigs, 20 * MIN).is_empty());
    }

    #[test]
    fn time_going_backwards_does_not_panic_or_suppress_wrongly() {
        let s =
            sig("suppress = { window = '5m', key = [] }\nthreshold = { count = 2, window = '1m' }");
        let mut d = Detector::new();
        assert_eq!(
            d.observe(0, &s, &caps("h", "a"), "a.log", 10 * MIN),
            Decision::Pending
        );
        assert!(matches!(
            d.observe(0, &s, &caps("h", "a"), "a.log", 10 * MIN - 1),
            Decision::Alert(_)
        ));
        assert_eq!(
            d.observe(0, &s, &caps("h", "a"), "a.log", 0),
            Decision::Pending
        );
    }

    #[test]
    fn suppression_holds_per_source_unless_across_sources() {
        let s = sig("suppress = { window = '5m' }");
        let mut d = Detector::new();
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "db1.log", 0),
            alert(1, 0, &[])
        );
        // Another file (or host) failing the same way is its own alert.
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "web3.log", 1_000),
            alert(1, 0, &[])
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "db1.log", 2_000),
            Decision::Suppressed
        );
        let s = sig("suppress = { window = '5m', across_sources = true }");
        let mut d = Detector::new();
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "db1.log", 0),
            alert(1, 0, &[])
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), "web3.log", 1_000),
            Decision::Suppressed
        );
    }

    #[test]
    fn a_key_clears_when_quiet_in_every_source() {
        let s = sig("suppress = { window = '1m' }\nclear_after = '5m'");
        let sigs = vec![s];
        let mut d = Detector::new();
        d.observe(0, &sigs[0], &caps("h1", "x"), "db1.log", 0);
        d.observe(0, &sigs[0], &caps("h1", "x"), "app.log", 2 * MIN);
        // db1.log is quiet for 5m, app.log is not: not cleared yet.
        assert!(d.clear_due(&sigs, 6 * MIN).is_empty());
        let cleared = d.clear_due(&sigs, 7 * MIN);
        assert_eq!(cleared.len(), 1, "{cleared:?}");
        assert_eq!(cleared[0].last_hit_ms, 2 * MIN);
        assert!(d.clear_due(&sigs, 8 * MIN).is_empty(), "cleared once");
    }
}
