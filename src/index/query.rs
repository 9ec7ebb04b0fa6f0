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
    /// Only events from one of these hosts (any case).
    pub hosts: Vec<String>,
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
            hosts: Vec::new(),
        }
    }
}

/// Reads a time bound in the one grammar of times ([`crate::timearg`]).
pub fn parse_time(text: &str, now: Timestamp, zone: &TimeZone) -> Result<Timestamp, String> {
    crate::timearg::parse(text, zone, now)
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

/// Deepest nesting a query may have (groups in parentheses and `NOT`s
/// inside one another). tantivy's query parser, the query it builds and
/// the search over it each recurse once per level: 10,000 levels overflow
/// the stack (an abort, not an error); a debug build still searches 400
/// levels on a search thread's stack. No query a person writes comes near.
pub const MAX_QUERY_DEPTH: usize = 100;

/// How deep `query` nests, counted on its text before any parser sees it:
/// each open group `(` (also `field:(`) is a level until its `)`, and each
/// `NOT` a level until the word, phrase or group it negates ends. Only what
/// the parser surely reads as text does not nest: an escaped character
/// (`\(`) and a quoted phrase (`"..."`, `'...'`) that starts a term and is
/// closed. Anything else counts, so the count is never below the parser's
/// own depth. Flat queries of any length count 1.
pub fn nesting(query: &str) -> usize {
    // Per open group: the NOTs in it still waiting for their operand.
    let mut frames: Vec<usize> = vec![0];
    let mut level = 0usize;
    let mut deepest = 0usize;
    let chars: Vec<char> = query.chars().collect();
    // A term ended: the NOTs waiting in the current group are complete.
    let operand = |frames: &mut Vec<usize>, level: &mut usize| {
        if let Some(pending) = frames.last_mut() {
            *level -= *pending;
            *pending = 0;
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let term_start =
            i == 0 || matches!(chars[i - 1], '(' | ':' | '+' | '-') || chars[i - 1].is_whitespace();
        if c == '(' {
            frames.push(0);
            level += 1;
            deepest = deepest.max(level);
            i += 1;
        } else if c == ')' {
            if frames.len() > 1 {
                let pending = frames.pop().unwrap_or(0);
                level -= 1 + pending;
                operand(&mut frames, &mut level);
            }
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if let Some(end) = (term_start && matches!(c, '"' | '\''))
            .then(|| closing(&chars, i))
            .flatten()
        {
            operand(&mut frames, &mut level);
            i = end + 1;
        } else {
            // A word (with its `+`/`-`, `field:` and `^boost`) up to
            // whitespace or a parenthesis not escaped.
            let start = i;
            while i < chars.len() && !(chars[i].is_whitespace() || matches!(chars[i], '(' | ')')) {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            let word: String = chars[start..i.min(chars.len())].iter().collect();
            let followed_by_space = chars.get(i).is_some_and(|c| c.is_whitespace());
            if word.trim_start_matches(['+', '-']) == "NOT" && followed_by_space {
                if let Some(pending) = frames.last_mut() {
                    *pending += 1;
                }
                level += 1;
                deepest = deepest.max(level);
            } else if chars.get(i) != Some(&'(') {
                // Else `field:(` opens a group, which is the operand.
                operand(&mut frames, &mut level);
            }
        }
    }
    deepest.max(usize::from(!query.trim().is_empty()))
}

/// Where the quote opened at `open` closes (escapes skipped), if it does.
fn closing(chars: &[char], open: usize) -> Option<usize> {
    let quote = chars[open];
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            c if c == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
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

    #[test]
    fn nesting_counts_groups_and_nots_inside_one_another() {
        for (query, depth) in [
            ("", 0),
            ("error", 1),
            ("a b c AND d OR e", 1),
            ("(a)", 1),
            ("((a))", 2),
            ("a AND (b OR (c AND NOT d))", 3),
            ("NOT a", 1),
            ("NOT NOT NOT a", 3),
            ("NOT a AND NOT b AND NOT c", 1),
            ("NOT (NOT (a))", 4),
            ("-(a) +(b)", 1),
            ("line:(a OR line:(b))", 2),
            // Inside phrases and escapes, nothing nests.
            ("\"((((\" '((' \\(\\( ts:[a TO z] b", 1),
            ("\"a \\\" (\" (b)", 1),
            // Anything else counts: never below the parser's depth.
            ("ts:[a TO ((] b", 2),
            ("a\"((\" b", 2),
            ("\"(( b", 2),
            // Unbalanced: the parser says what is wrong.
            ("a)) ((b", 2),
        ] {
            assert_eq!(nesting(query), depth, "{query}");
        }
        let deep = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(nesting(&deep), 10_000);
        assert_eq!(nesting(&format!("{}a", "NOT ".repeat(10_000))), 10_000);
        assert_eq!(nesting(&"a AND ".repeat(10_000)), 1);
    }

    /// A query as a tree, as text, with its height (groups and NOTs on
    /// the deepest path) and whether it is one term (a NOT takes one).
    fn query_tree() -> impl proptest::strategy::Strategy<Value = (String, usize, bool)> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            "[a-z0-9]{1,6}".prop_map(|w| (w, 0, true)),
            // Parentheses in phrases and escapes do not nest.
            "[a-z()]{0,6}".prop_map(|w| (format!("\"{w}\""), 0, true)),
            "[a-z()]{0,6}".prop_map(|w| (format!("'{w}'"), 0, true)),
            "[a-z]{0,6}".prop_map(|w| (format!("ts:[{w} TO z]"), 0, true)),
            "[a-z]{1,3}".prop_map(|w| (format!("{w}\\(\\)"), 0, true)),
        ];
        leaf.prop_recursive(8, 64, 4, |inner| {
            prop_oneof![
                inner
                    .clone()
                    .prop_map(|(q, h, _)| (format!("({q})"), h + 1, true)),
                inner
                    .clone()
                    .prop_map(|(q, h, _)| (format!("line:({q})"), h + 1, true)),
                inner.clone().prop_map(|(q, h, one)| match one {
                    true => (format!("NOT {q}"), h + 1, true),
                    false => (format!("NOT ({q})"), h + 2, true),
                }),
                inner
                    .clone()
                    .prop_map(|(q, h, _)| (format!("-({q})"), h + 1, true)),
                (
                    proptest::collection::vec(inner, 2..4),
                    prop_oneof![Just(" "), Just(" AND "), Just(" OR ")]
                )
                    .prop_map(|(children, op)| {
                        let height = children.iter().map(|c| c.1).max().unwrap_or(0);
                        let text: Vec<String> = children.into_iter().map(|c| c.0).collect();
                        (text.join(op), height, false)
                    }),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn nesting_is_the_height_of_the_query_tree((query, height, _) in query_tree()) {
            proptest::prop_assert_eq!(nesting(&query), height.max(1), "{}", query);
        }

        #[test]
        fn nesting_never_panics(text in ".{0,200}") {
            let _ = nesting(&text);
        }
    }
}
