//! The log pane's filters, as lnav has them: a level (at least one, or
//! exactly one), one source, show-only and hide regexes stacked; all of them switched off and
//! on again with one key. Which events pass is decided here; the log pane
//! keeps the indices of those that do.
//!
//! Pure: no state but the filters themselves. A regex is compiled once,
//! when added, with a size limit (a user's pattern cannot blow up memory).

use std::sync::Arc;

use regex::{Regex, RegexBuilder};

use super::msg::LogLine;
use crate::model::Level;

/// Which levels pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelRule {
    /// This level or a more severe one.
    AtLeast(Level),
    /// This level only.
    Exactly(Level),
}

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
    /// Events of these levels (events without a level pass only when no
    /// level is asked for).
    pub level: Option<LevelRule>,
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
        self.level.is_none()
            && self.source.is_none()
            && self.show.is_empty()
            && self.hide.is_empty()
    }

    /// Whether `line` is shown.
    pub fn passes(&self, line: &LogLine) -> bool {
        if !self.active() {
            return true;
        }
        let level_passes = match self.level {
            None => true,
            Some(LevelRule::AtLeast(floor)) => line.level.is_some_and(|l| l >= floor),
            Some(LevelRule::Exactly(level)) => line.level == Some(level),
        };
        if !level_passes {
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

    /// The next level floor after the current one (after an exact level:
    /// every level).
    pub fn cycle_level(&mut self) {
        let floor = match self.level {
            Some(LevelRule::AtLeast(floor)) => Some(floor),
            Some(LevelRule::Exactly(_)) => Some(Level::Error),
            None => None,
        };
        let i = LEVEL_STEPS.iter().position(|l| *l == floor).unwrap_or(0);
        self.level = LEVEL_STEPS[(i + 1) % LEVEL_STEPS.len()].map(LevelRule::AtLeast);
        self.off = false;
    }

    /// Exactly `level` (`None`: an event without a level, which sets no
    /// filter); again on the same level: every level.
    pub fn toggle_exact(&mut self, level: Option<Level>) {
        self.level = match (self.level, level) {
            (Some(LevelRule::Exactly(now)), Some(l)) if now == l => None,
            (_, Some(l)) => Some(LevelRule::Exactly(l)),
            (_, None) => None,
        };
        self.off = false;
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
        match self.level {
            Some(LevelRule::AtLeast(level)) => parts.push(format!("level≥{}", level.as_str())),
            Some(LevelRule::Exactly(level)) => parts.push(format!("level={}", level.as_str())),
            None => {}
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
        assert_eq!(f.level, Some(LevelRule::AtLeast(Level::Warn)));
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

    #[test]
    fn exactly_one_level_and_back() {
        let mut f = Filters::default();
        let warn = line("api.log", Some(Level::Warn), "slow request");
        let error = line("db.log", Some(Level::Error), "connection refused");
        let fatal = line("db.log", Some(Level::Fatal), "shutting down");
        let plain = line("api.log", None, "GET /orders 200");
        f.toggle_exact(Some(Level::Error));
        assert!(f.passes(&error));
        assert!(!f.passes(&warn) && !f.passes(&fatal) && !f.passes(&plain));
        assert_eq!(f.describe(), "level=error");
        // Again on the same level: every level.
        f.toggle_exact(Some(Level::Error));
        assert!(f.is_empty());
        // From an exact level, L goes back to the floors.
        f.toggle_exact(Some(Level::Warn));
        f.cycle_level();
        assert_eq!(f.level, None);
        f.cycle_level();
        assert_eq!(f.level, Some(LevelRule::AtLeast(Level::Debug)));
        assert!(f.passes(&fatal) && !f.passes(&plain));
        // An event without a level asks for no level filter.
        f.toggle_exact(None);
        assert!(f.is_empty());
    }
}
