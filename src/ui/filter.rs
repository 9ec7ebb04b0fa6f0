//! The log pane's filters, as lnav has them: a level floor (at least), one
//! source, show-only and hide regexes stacked; all of them switched off and
//! on again with one key. Which events pass is decided here; the log pane
//! keeps the indices of those that do.
//!
//! Pure: no state but the filters themselves. A regex is compiled once,
//! when added, with a size limit (a user's pattern cannot blow up memory).

use std::sync::Arc;

use regex::{Regex, RegexBuilder};

use super::msg::LogLine;
use crate::model::Level;

/// The level floors `L` cycles through, in order (`None`: every level).
pub const LEVEL_STEPS: [Option<Level>; 5] = [
    None,
    Some(Level::Debug),
    Some(Level::Info),
    Some(Level::Warn),
    Some(Level::Error),
];

/// The log pane's filters.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Events at least this severe (events without a level pass only when
    /// there is no floor).
    pub min_level: Option<Level>,
    /// Events of this source only.
    pub source: Option<Arc<str>>,
    /// Events matching every one of these (first line or continuation).
    pub show: Vec<Regex>,
    /// Events matching none of these.
    pub hide: Vec<Regex>,
    /// All filters switched off (kept, not removed).
    pub off: bool,
}

impl Filters {
    /// Some filter is set and switched on.
    pub fn active(&self) -> bool {
        !self.off && !self.is_empty()
    }

    /// No filter is set.
    pub fn is_empty(&self) -> bool {
        self.min_level.is_none()
            && self.source.is_none()
            && self.show.is_empty()
            && self.hide.is_empty()
    }

    /// Whether `line` is shown.
    pub fn passes(&self, line: &LogLine) -> bool {
        if !self.active() {
            return true;
        }
        if let Some(floor) = self.min_level
            && line.level.is_none_or(|l| l < floor)
        {
            return false;
        }
        if let Some(source) = &self.source
            && line.source != *source
        {
            return false;
        }
        let matches =
            |re: &Regex| re.is_match(&line.text) || line.more.iter().any(|m| re.is_match(m));
        self.show.iter().all(matches) && !self.hide.iter().any(matches)
    }

    /// The next level floor after the current one.
    pub fn cycle_level(&mut self) {
        let i = LEVEL_STEPS
            .iter()
            .position(|l| *l == self.min_level)
            .unwrap_or(0);
        self.min_level = LEVEL_STEPS[(i + 1) % LEVEL_STEPS.len()];
    }

    /// Adds a show-only (`show`) or hide regex; the error says why it is
    /// not one.
    pub fn add(&mut self, pattern: &str, show: bool) -> Result<(), String> {
        let re = RegexBuilder::new(pattern)
            .case_insensitive(pattern.chars().all(|c| !c.is_uppercase()))
            .size_limit(1 << 20)
            .build()
            .map_err(|e| e.to_string())?;
        if show {
            self.show.push(re);
        } else {
            self.hide.push(re);
        }
        self.off = false;
        Ok(())
    }

    /// For the status bar and the log pane's title: `level≥warn +timeout
    /// -health source=api.log` (`(off)` when switched off).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(level) = self.min_level {
            parts.push(format!("level≥{}", level_name(level)));
        }
        if let Some(source) = &self.source {
            parts.push(format!("source={source}"));
        }
        parts.extend(self.show.iter().map(|r| format!("+/{}/", r.as_str())));
        parts.extend(self.hide.iter().map(|r| format!("-/{}/", r.as_str())));
        let mut text = parts.join(" ");
        if self.off && !text.is_empty() {
            text.push_str(" (off)");
        }
        super::msg::clean(&text)
    }
}

/// A level as people write it.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Trace => "trace",
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Notice => "notice",
        Level::Warn => "warn",
        Level::Error => "error",
        Level::Critical => "critical",
        Level::Fatal => "fatal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(source: &str, level: Option<Level>, text: &str) -> LogLine {
        let mut l = LogLine::new(Arc::from(source), 1, 0, text);
        l.level = level;
        l
    }

    #[test]
    fn filters_stack_and_switch_off() {
        let mut f = Filters::default();
        let warn = line("api.log", Some(Level::Warn), "slow request /health");
        let error = line("db.log", Some(Level::Error), "connection refused");
        let plain = line("api.log", None, "GET /orders 200");
        assert!(f.passes(&warn) && f.passes(&error) && f.passes(&plain));
        f.cycle_level();
        f.cycle_level();
        f.cycle_level();
        assert_eq!(f.min_level, Some(Level::Warn));
        assert!(f.passes(&warn) && f.passes(&error) && !f.passes(&plain));
        f.add("health", false).expect("regex");
        assert!(!f.passes(&warn) && f.passes(&error));
        f.add("REFUSED|timeout", true).expect("regex");
        assert!(!f.passes(&error), "upper case: case-sensitive");
        f.show.clear();
        f.add("refused|timeout", true).expect("regex");
        assert!(f.passes(&error));
        assert_eq!(f.describe(), "level≥warn +/refused|timeout/ -/health/");
        f.off = true;
        assert!(f.passes(&plain) && f.passes(&warn));
        assert!(f.describe().ends_with("(off)"));
        f.off = false;
        f.source = Some(Arc::from("api.log"));
        assert!(!f.passes(&error));
        assert!(f.add("(", true).is_err());
    }
}
