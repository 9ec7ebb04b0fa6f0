//! The alerts pane: one row per signature and key that fired, ranked
//! (firing, severity, newest), with its evidence; the evidence view it
//! opens in the log pane.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
};

use jiff::Timestamp;

use super::{
    App,
    log::{CONTEXT, LogMode, unit_of},
};
use crate::model::Severity;
use crate::ui::msg::{AlertInfo, LogLine};

/// Evidence lines kept per alert.
pub(super) const MAX_EVIDENCE: usize = 20;

/// Firing times kept per alert (for the sparkline).
pub(super) const MAX_TIMES: usize = 512;

/// Minutes in an alert's sparkline.
pub const SPARK_MINUTES: usize = 8;

/// One row of the alerts pane: a signature and key that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    /// The latest alert (title, severity, runbook, captures, evidence).
    pub info: AlertInfo,
    /// First fired.
    pub first: Timestamp,
    /// Last fired.
    pub last: Timestamp,
    /// Alerts fired.
    pub fired: u64,
    /// Matching lines over all its alerts.
    pub lines: u64,
    /// Sources its evidence came from.
    pub sources: HashSet<Arc<str>>,
    /// Hosts its evidence came from (a fleet's), in name order.
    pub hosts: std::collections::BTreeSet<Arc<str>>,
    /// Firing times, for the sparkline.
    pub times: VecDeque<Timestamp>,
    /// When it went quiet (cleared), unless it fired again since.
    pub cleared: Option<Timestamp>,
    /// The latest evidence lines.
    pub evidence: VecDeque<LogLine>,
}

impl AlertRow {
    /// Alerts per minute over the [`SPARK_MINUTES`] minutes up to `now`,
    /// oldest first.
    pub fn per_minute(&self, now: Timestamp) -> [u64; SPARK_MINUTES] {
        let mut counts = [0; SPARK_MINUTES];
        for t in &self.times {
            let ago = now.duration_since(*t).as_secs();
            if ago < 0 {
                counts[SPARK_MINUTES - 1] += 1;
                continue;
            }
            let minute = (ago / 60) as usize;
            if minute < SPARK_MINUTES {
                counts[SPARK_MINUTES - 1 - minute] += 1;
            }
        }
        counts
    }

    /// Firing before cleared, then most severe, then most recent.
    pub(super) fn rank(
        &self,
    ) -> (
        bool,
        std::cmp::Reverse<Severity>,
        std::cmp::Reverse<Timestamp>,
    ) {
        (
            self.cleared.is_some(),
            std::cmp::Reverse(self.info.severity),
            std::cmp::Reverse(self.last),
        )
    }
}

/// The alerts pane's state.
#[derive(Debug)]
pub struct AlertsPane {
    /// Its rows: firing before cleared, then by severity, then newest
    /// first.
    pub rows: Vec<AlertRow>,
    /// Lines seen matching each signature (in the lines the console read).
    pub(super) matched: HashMap<Arc<str>, u64>,
    /// The selected row.
    pub cursor: usize,
    /// The selection stays on the first row (the most severe firing alert)
    /// until the operator moves it.
    pub(super) follow: bool,
}

impl Default for AlertsPane {
    fn default() -> AlertsPane {
        AlertsPane {
            rows: Vec::new(),
            matched: HashMap::new(),
            cursor: 0,
            follow: true,
        }
    }
}

impl App {
    pub(super) fn on_alert(&mut self, info: AlertInfo) {
        let selected = self
            .alerts
            .rows
            .get(self.alerts.cursor)
            .map(|r| (Arc::clone(&r.info.signature), r.info.key.clone()));
        let existing = self
            .alerts
            .rows
            .iter()
            .position(|r| r.info.signature == info.signature && r.info.key == info.key);
        let mut row = match existing {
            Some(i) => self.alerts.rows.remove(i),
            None => AlertRow {
                info: info.clone(),
                first: info.at,
                last: info.at,
                fired: 0,
                lines: 0,
                sources: HashSet::new(),
                hosts: std::collections::BTreeSet::new(),
                times: VecDeque::new(),
                cleared: None,
                evidence: VecDeque::new(),
            },
        };
        row.fired += 1;
        row.lines += info.hits.max(1);
        row.sources.insert(Arc::clone(&info.evidence.source));
        row.hosts.extend(info.evidence.host.clone());
        row.first = row.first.min(info.at);
        row.last = row.last.max(info.at);
        row.cleared = None;
        row.times.push_back(info.at);
        if row.times.len() > MAX_TIMES {
            row.times.pop_front();
        }
        row.evidence.push_back(info.evidence.clone());
        if row.evidence.len() > MAX_EVIDENCE {
            row.evidence.pop_front();
        }
        row.info = info;
        self.alerts.rows.push(row);
        self.sort_alerts(selected);
    }

    /// Firing before cleared, then most severe, then newest; the selection
    /// stays on the first row until the operator moves it, then on the
    /// alert they are reading.
    pub(super) fn sort_alerts(&mut self, selected: Option<(Arc<str>, String)>) {
        self.alerts.rows.sort_by_key(AlertRow::rank);
        self.alerts.cursor = match selected {
            _ if self.alerts.follow => 0,
            Some((sig, key)) => self
                .alerts
                .rows
                .iter()
                .position(|r| r.info.signature == sig && r.info.key == key)
                .unwrap_or(0),
            None => 0,
        };
    }

    pub(super) fn on_cleared(&mut self, signature: &str, key: &str, at: Timestamp) {
        let selected = self
            .alerts
            .rows
            .get(self.alerts.cursor)
            .map(|r| (Arc::clone(&r.info.signature), r.info.key.clone()));
        for row in &mut self.alerts.rows {
            if &*row.info.signature == signature && row.info.key == key {
                row.cleared = Some(at);
            }
        }
        self.sort_alerts(selected);
    }

    /// Matching lines of an alert row: what its alerts account for, or
    /// when its signature has no other row, every matching line the
    /// console read if that is more.
    pub fn alert_lines(&self, row: &AlertRow) -> u64 {
        let alone = self
            .alerts
            .rows
            .iter()
            .filter(|r| r.info.signature == row.info.signature)
            .count()
            == 1;
        match self.alerts.matched.get(&row.info.signature) {
            Some(&seen) if alone => row.lines.max(seen),
            _ => row.lines,
        }
    }

    /// The selected alert.
    pub fn selected_alert(&self) -> Option<&AlertRow> {
        self.alerts.rows.get(self.alerts.cursor)
    }

    pub(super) fn show_evidence(&mut self) {
        let Some(row) = self.alerts.rows.get(self.alerts.cursor) else {
            return;
        };
        let mut rows: Vec<LogLine> = Vec::new();
        let mut seen: HashSet<(Arc<str>, u64)> = HashSet::new();
        let mut cursor = 0;
        for evidence in &row.evidence {
            let at = unit_of(&self.log.buffer, &evidence.source, evidence.offset);
            let block: Vec<LogLine> = match at {
                Some(at) => {
                    let same_source: Vec<usize> = (0..self.log.buffer.len())
                        .filter(|&i| self.log.buffer[i].source == evidence.source)
                        .collect();
                    let k = same_source.iter().position(|&i| i == at).unwrap_or(0);
                    let from = k.saturating_sub(CONTEXT);
                    let to = (k + CONTEXT + 1).min(same_source.len());
                    same_source[from..to]
                        .iter()
                        .map(|&i| self.log.buffer[i].clone())
                        .collect()
                }
                None => vec![evidence.clone()],
            };
            for line in block {
                if seen.insert((Arc::clone(&line.source), line.offset)) {
                    if line.source == evidence.source
                        && line.offset <= evidence.offset
                        && unit_of(
                            std::slice::from_ref(&line),
                            &evidence.source,
                            evidence.offset,
                        )
                        .is_some()
                    {
                        cursor = rows.len();
                    }
                    rows.push(line);
                }
            }
        }
        let title = format!("{} {}", row.info.signature, row.info.key);
        self.log.find = row
            .info
            .captures
            .iter()
            .map(|(_, v)| v.clone())
            .find(|v| v.chars().count() >= 3);
        self.set_view(LogMode::Evidence(title), rows, cursor);
    }
}
