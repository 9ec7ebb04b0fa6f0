//! What a search asks for, and the pure parts of turning the command line
//! into it: times (`2026-11-21T03:00:00Z`, `2026-11-21 03:00`, or relative
//! `2h` before now), intervals, levels.
//!
//! The query text itself uses tantivy's query language over the line and
//! the fields (see the README): words, `"phrases"`, `field:value`, `AND`,
//! `OR`, `NOT`, `-word`, `+word`, `*` for everything. Words are ANDed by
//! default, as in most log search tools.

use jiff::{Timestamp, tz::TimeZone};
use regex::Regex;

use crate::model::{Level, parse_duration};

/// One search.
#[derive(Debug, Clone)]
pub struct Request {
    /// The query text (tantivy's query language); empty or `*`: everything.
    pub query: String,
    /// Only events whose line this regex matches.
    pub regex: Option<Regex>,
    /// Only events at or after this time.
    pub since: Option<Timestamp>,
    /// Only events before this time.
    pub until: Option<Timestamp>,
    /// Only events read from a path one of these globs matches.
    pub sources: Vec<String>,
    /// Only events of this level or worse.
    pub min_level: Option<Level>,
    /// Only events that matched one of these signatures.
    pub signatures: Vec<String>,
}

impl Request {
    /// Everything.
    pub fn all() -> Request {
        Request {
            query: "*".to_owned(),
            regex: None,
            since: None,
            until: None,
            sources: Vec::new(),
            min_level: None,
            signatures: Vec::new(),
        }
    }
}

/// Reads a time bound: RFC 3339 (`2026-11-21T03:00:00Z`, with any offset),
/// a civil time `2026-11-21 03:00[:00]` or a date `2026-11-21` in `zone`, or
/// a duration before `now` (`90s`, `15m`, `2h`, `7d`).
pub fn parse_time(text: &str, now: Timestamp, zone: &TimeZone) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Some(ago) = parse_duration(text) {
        let ago = jiff::SignedDuration::try_from(ago).map_err(|e| e.to_string())?;
        return now
            .checked_sub(ago)
            .map_err(|_| format!("`{text}` reaches before the earliest time"));
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    let civil = text.replacen(' ', "T", 1);
    if let Ok(dt) = civil.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(zone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        return date
            .to_zoned(zone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    Err(format!(
        "`{text}` is not a time: use RFC 3339 (2026-11-21T03:00:00Z), \
         `2026-11-21 03:00`, a date, or a duration before now such as 2h"
    ))
}

/// Reads a histogram interval (`1m`, `30s`, `1h`), in milliseconds.
pub fn parse_interval(text: &str) -> Result<i64, String> {
    parse_duration(text)
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .filter(|ms| *ms > 0)
        .ok_or_else(|| format!("`{text}` is not an interval such as 30s, 1m or 1h"))
}

/// Reads a level name as `--level` takes it.
pub fn parse_level(text: &str) -> Result<Level, String> {
    Level::from_word(text).ok_or_else(|| {
        format!(
            "`{text}` is not a level: one of {}",
            Level::ALL.map(Level::as_str).join(", ")
        )
    })
}

/// Reads a size such as `500M`, `2G`, `100k` or a number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 500M or 2G"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(format!("`{text}` is not a size such as 500M or 2G")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// Whether `query` means "everything".
pub fn is_everything(query: &str) -> bool {
    matches!(query.trim(), "" | "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-21T12:00:00Z".parse().expect("valid")
    }

    #[test]
    fn times_are_absolute_civil_dates_or_relative() {
        let utc = TimeZone::UTC;
        let t = |s| parse_time(s, now(), &utc).map(|t| t.to_string());
        assert_eq!(t("2h").as_deref(), Ok("2026-11-21T10:00:00Z"));
        assert_eq!(t("90s").as_deref(), Ok("2026-11-21T11:58:30Z"));
        assert_eq!(t("7d").as_deref(), Ok("2026-11-14T12:00:00Z"));
        assert_eq!(
            t("2026-11-21T03:04:05.123+01:00").as_deref(),
            Ok("2026-11-21T02:04:05.123Z")
        );
        assert_eq!(t("2026-11-21 03:04").as_deref(), Ok("2026-11-21T03:04:00Z"));
        assert_eq!(t("2026-11-20").as_deref(), Ok("2026-11-20T00:00:00Z"));
        let paris = TimeZone::get("Europe/Paris").expect("tzdb");
        assert_eq!(
            parse_time("2026-11-21 03:04:05", now(), &paris).map(|t| t.to_string()),
            Ok("2026-11-21T02:04:05Z".to_owned())
        );
        assert!(t("yesterday").is_err_and(|e| e.contains("RFC 3339")));
        assert!(t("2x").is_err());
    }

    #[test]
    fn intervals_levels_and_sizes() {
        assert_eq!(parse_interval("1m"), Ok(60_000));
        assert_eq!(parse_interval("500ms"), Ok(500));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("m").is_err());
        assert_eq!(parse_level("WARNING"), Ok(Level::Warn));
        assert!(parse_level("loud").is_err_and(|e| e.contains("error")));
        assert_eq!(parse_size("500M"), Ok(500 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn star_and_nothing_mean_everything() {
        assert!(is_everything("*"));
        assert!(is_everything("  "));
        assert!(!is_everything("error"));
    }
}
