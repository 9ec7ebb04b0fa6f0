//! Turns hits into alerts: thresholds (N hits in T per key), suppression (one
//! alert per key per window, the rest counted) and clearing (quiet this long).
//!
//! Pure: the time of each hit is passed in (the event's timestamp, falling
//! back to arrival time), so `scan` of an old file and `watch` of a live one
//! decide the same way, and tests run on an injected clock. Times are
//! milliseconds since the Unix epoch.

use std::collections::{HashMap, VecDeque};

use super::{Captures, Signature};

/// What the detector made of one hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The signature fires.
    Alert(Alert),
    /// Counted towards a threshold not yet reached.
    Pending,
    /// Within a suppression window: counted, not alerted.
    Suppressed,
}

/// A signature firing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Hits that made this alert (the threshold's count, or 1).
    pub hits: u64,
    /// Hits suppressed for this key since its previous alert.
    pub suppressed: u64,
    /// The key's `(capture, value)` pairs (suppression key, else group).
    pub key: Vec<(String, String)>,
}

/// A signature that has been quiet for its `clear_after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleared {
    /// Index of the signature.
    pub signature: usize,
    /// The key that went quiet.
    pub key: Vec<(String, String)>,
    /// When it was last seen.
    pub last_hit_ms: i64,
}

type Key = (usize, Vec<String>);

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

impl Detector {
    /// A detector with no history.
    pub fn new() -> Detector {
        Detector::default()
    }

    /// Decides what a hit of signature `index` at `at_ms` is.
    pub fn observe(
        &mut self,
        index: usize,
        signature: &Signature,
        captures: &Captures,
        at_ms: i64,
    ) -> Decision {
        let names = alert_key(signature);
        let key = (index, key_values(names, captures));
        if let Some(last) = self.active.get_mut(&key) {
            *last = (*last).max(at_ms);
        }
        let mut hits = 1;
        if let Some(threshold) = &signature.threshold {
            let group = (index, key_values(&threshold.group_by, captures));
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
        let pairs = names.iter().cloned().zip(key.1.iter().cloned()).collect();
        if signature.clear_after.is_some() {
            self.active.insert(key, at_ms);
        }
        Decision::Alert(Alert {
            hits,
            suppressed,
            key: pairs,
        })
    }

    /// Keys of signatures with `clear_after` that have been quiet that long at
    /// `now_ms`; each is reported once, until it fires again.
    pub fn clear_due(&mut self, signatures: &[Signature], now_ms: i64) -> Vec<Cleared> {
        let mut cleared = Vec::new();
        self.active.retain(|(index, values), last_hit| {
            let Some(after) = signatures[*index].clear_after else {
                return true;
            };
            if now_ms - *last_hit < after.as_millis() as i64 {
                return true;
            }
            let names = alert_key(&signatures[*index]);
            cleared.push(Cleared {
                signature: *index,
                key: names.iter().cloned().zip(values.iter().cloned()).collect(),
                last_hit_ms: *last_hit,
            });
            false
        });
        cleared.sort_by_key(|c| (c.last_hit_ms, c.signature));
        cleared
    }

    /// Hits suppressed since each key's last alert, for a final count.
    pub fn pending_suppressed(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.suppressed
            .iter()
            .map(|((index, _), (_, count))| (*index, *count))
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
        Decision::Alert(Alert {
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
        assert_eq!(d.observe(0, &s, &caps("h1", "x"), 0), alert(1, 0, &[]));
        assert_eq!(d.observe(0, &s, &caps("h1", "x"), 0), alert(1, 0, &[]));
    }

    #[test]
    fn threshold_fires_on_n_hits_within_the_window_per_group() {
        let s = sig("threshold = { count = 3, window = '1m', group_by = ['host'] }");
        let mut d = Detector::new();
        assert_eq!(d.observe(0, &s, &caps("h1", "x"), 0), Decision::Pending);
        assert_eq!(d.observe(0, &s, &caps("h2", "x"), 1_000), Decision::Pending);
        assert_eq!(d.observe(0, &s, &caps("h1", "x"), 2_000), Decision::Pending);
        // The first h1 hit has left the window by now.
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), MIN + 1),
            Decision::Pending
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), MIN + 2),
            alert(3, 0, &[("host", "h1")])
        );
        // After firing, counting starts again.
        assert_eq!(
            d.observe(0, &s, &caps("h1", "x"), MIN + 3),
            Decision::Pending
        );
    }

    #[test]
    fn suppression_keeps_one_alert_per_key_per_window_and_counts_the_rest() {
        let s = sig("suppress = { window = '5m', key = ['kind'] }");
        let mut d = Detector::new();
        assert_eq!(
            d.observe(0, &s, &caps("h1", "a"), 0),
            alert(1, 0, &[("kind", "a")])
        );
        assert_eq!(
            d.observe(0, &s, &caps("h2", "a"), MIN),
            Decision::Suppressed
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "b"), MIN),
            alert(1, 0, &[("kind", "b")])
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "a"), 4 * MIN),
            Decision::Suppressed
        );
        assert_eq!(
            d.observe(0, &s, &caps("h1", "a"), 5 * MIN),
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
        assert_eq!(d.observe(0, &s, &caps("h1", "a"), 0), Decision::Pending);
        assert_eq!(d.observe(0, &s, &caps("h1", "a"), 1), alert(2, 0, &[]));
        assert_eq!(d.observe(0, &s, &caps("h1", "a"), 2), Decision::Pending);
        assert_eq!(d.observe(0, &s, &caps("h1", "a"), 3), Decision::Suppressed);
    }

    #[test]
    fn quiet_keys_clear_once() {
        let s = sig("clear_after = '5m'\nsuppress = { window = '1m', key = ['host'] }");
        let sigs = [s];
        let mut d = Detector::new();
        assert!(matches!(
            d.observe(0, &sigs[0], &caps("h1", "a"), 0),
            Decision::Alert(_)
        ));
        assert_eq!(
            d.observe(0, &sigs[0], &caps("h1", "a"), 2 * MIN),
            alert(1, 0, &[("host", "h1")])
        );
        assert!(d.clear_due(&sigs, 6 * MIN).is_empty(), "last hit was at 2m");
        let cleared = d.clear_due(&sigs, 7 * MIN);
        assert_eq!(
            cleared,
            [Cleared {
                signature: 0,
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
            d.observe(0, &s, &caps("h", "a"), 10 * MIN),
            Decision::Pending
        );
        assert!(matches!(
            d.observe(0, &s, &caps("h", "a"), 10 * MIN - 1),
            Decision::Alert(_)
        ));
        assert_eq!(d.observe(0, &s, &caps("h", "a"), 0), Decision::Pending);
    }
}
