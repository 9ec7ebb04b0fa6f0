//! Failure signatures: their definition in `patterns/*.toml`, how one is
//! checked against an event, and (in [`matcher`] and [`detector`]) how all of
//! them are run over a stream of events.
//!
//! Regexes come from files a team writes and are compiled with explicit size
//! limits by the `regex` crate, which never backtracks, so no pattern can make
//! matching slow on hostile input or blow up memory.

pub mod detector;
pub mod engine;
pub mod literals;
pub mod matcher;
pub mod prefilter;
pub mod problem;
pub mod teddy;

use std::{sync::Arc, time::Duration};

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::{Regex, RegexBuilder};

use crate::{
    config::{Origin, table::Table},
    diag::{Diagnostic, Loc},
    model::{Event, Fields, Level, Severity, parse_duration},
};

/// Compiled size limit of one regex (the `regex` crate's default is 10 MiB).
pub const REGEX_SIZE_LIMIT: usize = 2 << 20;

/// Values captured by a match: `(name, value)` in the order of the pattern.
pub use crate::model::Captures;

/// One failure signature.
#[derive(Debug)]
pub struct Signature {
    /// Unique, kebab-case.
    pub id: String,
    /// One line for people.
    pub title: String,
    /// How bad.
    pub severity: Severity,
    /// What it means.
    pub description: String,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// The runbook's id, and where the reference is written.
    pub runbook: Option<(String, Loc)>,
    /// What must match.
    pub rule: Rule,
    /// Only events at this level or above.
    pub level: Option<Level>,
    /// Only events from sources matching one of these globs.
    pub sources: Option<GlobSet>,
    /// Conditions on the event's parsed fields.
    pub fields: Vec<FieldRule>,
    /// Fire only on `count` hits within `window` per key.
    pub threshold: Option<Threshold>,
    /// One alert per key per window.
    pub suppress: Option<Suppress>,
    /// Quiet this long means cleared.
    pub clear_after: Option<Duration>,
    /// Inline tests.
    pub examples: Vec<Example>,
    /// Where the `[[signature]]` table starts.
    pub loc: Loc,
    /// Shipped or user.
    pub origin: Origin,
    /// Raised by triage itself (`raised = true`: `new-problem`), not by
    /// matching: its regex is written to match nothing (`[^\s\S]`), so it
    /// needs no matching example.
    pub raised: bool,
}

/// How the regexes of a signature combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// `regex = '...'`: the one regex matches.
    One,
    /// `any = [...]`: at least one matches.
    Any,
    /// `all = [...]`: every one matches.
    All,
}

/// The regexes a signature is made of.
#[derive(Debug)]
pub struct Rule {
    /// How `patterns` combine.
    pub combine: Combine,
    /// Regexes that must match (one, any or all of them).
    pub patterns: Vec<Pattern>,
    /// Regexes none of which may match.
    pub not: Vec<Pattern>,
}

/// A compiled regex and where it is written.
#[derive(Debug)]
pub struct Pattern {
    /// The compiled regex.
    pub regex: Regex,
    /// Its place in the file.
    pub loc: Loc,
}

/// `field.NAME = 'regex'`: the event's parsed field `NAME` must be there
/// and match the regex as a whole.
#[derive(Debug)]
pub struct FieldRule {
    /// The field's name (`status`, `host`, `http.method`, ...).
    pub name: String,
    /// The regex, anchored at both ends.
    pub pattern: Pattern,
}

/// `threshold = { count, window, group_by, across_sources }`.
#[derive(Debug, Clone)]
pub struct Threshold {
    /// Hits needed.
    pub count: u64,
    /// Within this long.
    pub window: Duration,
    /// Counted separately per value of these captures (and per source: the
    /// file and host the hit came from, unless `across_sources`).
    pub group_by: Vec<String>,
    /// Hits of every file and host count together.
    pub across_sources: bool,
}

/// `suppress = { window, key, across_sources }`.
#[derive(Debug, Clone)]
pub struct Suppress {
    /// At most one alert per key this long.
    pub window: Duration,
    /// Captures that make the key (with the source: the file and host the
    /// hit came from, unless `across_sources`).
    pub key: Vec<String>,
    /// One alert per window for every file and host together.
    pub across_sources: bool,
}

/// `[[signature.example]]`: a line and what the signature must make of it.
#[derive(Debug)]
pub struct Example {
    /// The log line.
    pub line: String,
    /// Whether it must match.
    pub expect_match: bool,
    /// Captures it must produce.
    pub captures: Vec<(String, String)>,
    /// The source path to test `sources` with.
    pub source: Option<String>,
    /// Where the example is.
    pub loc: Loc,
}

const SIGNATURE_KEYS: &[&str] = &[
    "id",
    "title",
    "severity",
    "description",
    "tags",
    "runbook",
    "regex",
    "any",
    "all",
    "not",
    "level",
    "sources",
    "field",
    "threshold",
    "suppress",
    "clear_after",
    "example",
    "raised",
];

/// An optional boolean key of a table (false when absent).
fn flag(table: &Table<'_, '_>, key: &str, diags: &mut Vec<Diagnostic>) -> bool {
    table
        .field(key)
        .and_then(|f| f.bool(diags))
        .unwrap_or(false)
}

/// Whether `id` is kebab-case: lower-case words of letters and digits joined
/// by single dashes.
pub fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Compiles one regex from a file with the crate's limits.
pub fn compile_regex(text: &str, loc: &Loc, diags: &mut Vec<Diagnostic>) -> Option<Regex> {
    match RegexBuilder::new(text).size_limit(REGEX_SIZE_LIMIT).build() {
        Ok(regex) => Some(regex),
        Err(err) => {
            let detail = err.to_string();
            let last = detail
                .lines()
                .last()
                .unwrap_or(&detail)
                .trim()
                .trim_start_matches("error: ");
            diags.push(loc.error(format!("regex does not compile: {last}")));
            None
        }
    }
}

impl Signature {
    /// Reads one `[[signature]]` table; `None` (with diagnostics) when it is
    /// not usable.
    pub fn from_table(
        table: &Table<'_, '_>,
        origin: Origin,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Signature> {
        let before = diags.len();
        let what = "a [[signature]]";
        table.check_keys(SIGNATURE_KEYS, what, diags);
        let id = table.required("id", what, diags).and_then(|f| {
            let id = f.str(diags)?;
            if !is_kebab_case(id) {
                diags.push(f.loc.error(format!(
                    "signature id `{id}` must be kebab-case (like `jvm-heap-oom`)"
                )));
            }
            Some(id.to_owned())
        });
        let what = match &id {
            Some(id) => format!("signature `{id}`"),
            None => what.to_owned(),
        };
        let text = |key: &'static str, diags: &mut Vec<Diagnostic>| {
            table
                .required(key, &what, diags)
                .and_then(|f| f.str(diags))
                .map(str::to_owned)
        };
        let title = text("title", diags);
        let description = text("description", diags);
        let severity = table.required("severity", &what, diags).and_then(|f| {
            let word = f.str(diags)?;
            let severity = word.parse().ok();
            if severity.is_none() {
                diags.push(f.loc.error(format!(
                    "unknown severity `{word}`; expected one of: info, low, medium, high, critical"
                )));
            }
            severity
        });
        let tags = table
            .field("tags")
            .and_then(|f| f.strings(diags))
            .map(|tags| tags.into_iter().map(|(t, _)| t).collect())
            .unwrap_or_default();
        let runbook = table
            .field("runbook")
            .and_then(|f| Some((f.str(diags)?.to_owned(), f.loc.clone())));
        let rule = Self::rule(table, &what, diags);
        let raised = table
            .field("raised")
            .and_then(|f| f.bool(diags))
            .unwrap_or(false);
        let level = table.field("level").and_then(|f| {
            let word = f.str(diags)?;
            let level = Level::ALL.into_iter().find(|l| l.as_str() == word);
            if level.is_none() {
                diags.push(f.loc.error(format!(
                    "unknown level `{word}`; expected one of: trace, debug, info, notice, warn, error, critical, fatal"
                )));
            }
            level
        });
        let sources = table.field("sources").and_then(|f| {
            let mut builder = GlobSetBuilder::new();
            for (glob, loc) in f.strings(diags)? {
                match Glob::new(&glob) {
                    Ok(glob) => {
                        builder.add(glob);
                    }
                    Err(err) => diags.push(loc.error(format!("bad glob: {}", err.kind()))),
                }
            }
            builder.build().ok()
        });
        let fields = table
            .field("field")
            .and_then(|f| f.table(diags))
            .map(|t| {
                t.entries()
                    .filter_map(|(_, f)| {
                        let text = f.str(diags)?;
                        let regex = compile_regex(&format!("^(?:{text})$"), &f.loc, diags)?;
                        Some(FieldRule {
                            name: f.key.to_owned(),
                            pattern: Pattern { regex, loc: f.loc },
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let threshold = table.field("threshold").and_then(|f| {
            let t = f.table(diags)?;
            let what = format!("the threshold of {what}");
            t.check_keys(
                &["count", "window", "group_by", "across_sources"],
                &what,
                diags,
            );
            let count = t.required("count", &what, diags).and_then(|f| {
                let count = f.u64(diags)?;
                if count == 0 {
                    diags.push(f.loc.error("`count` must be at least 1"));
                }
                Some(count)
            });
            let window = duration(&t, "window", &what, diags);
            let group_by = names(&t, "group_by", diags);
            Some(Threshold {
                count: count?,
                window: window?,
                group_by,
                across_sources: flag(&t, "across_sources", diags),
            })
        });
        let suppress = table.field("suppress").and_then(|f| {
            let t = f.table(diags)?;
            let what = format!("the suppress rule of {what}");
            t.check_keys(&["window", "key", "across_sources"], &what, diags);
            let window = duration(&t, "window", &what, diags);
            Some(Suppress {
                window: window?,
                key: names(&t, "key", diags),
                across_sources: flag(&t, "across_sources", diags),
            })
        });
        let clear_after = table
            .has("clear_after")
            .then(|| duration(table, "clear_after", &what, diags))
            .flatten();
        let examples = table
            .field("example")
            .map(|f| f.tables(diags))
            .unwrap_or_default()
            .iter()
            .filter_map(|t| Example::from_table(t, &what, diags))
            .collect();
        let signature = Signature {
            id: id?,
            title: title?,
            severity: severity?,
            description: description?,
            tags,
            runbook,
            rule: rule?,
            level,
            sources,
            fields,
            threshold,
            suppress,
            clear_after,
            examples,
            loc: table.loc(),
            origin,
            raised,
        };
        signature.check_capture_names(diags);
        (diags.len() == before).then_some(signature)
    }

    fn rule(table: &Table<'_, '_>, what: &str, diags: &mut Vec<Diagnostic>) -> Option<Rule> {
        let given: Vec<_> = ["regex", "any", "all"]
            .into_iter()
            .filter(|k| table.has(k))
            .collect();
        let key = match given.as_slice() {
            [key] => *key,
            [] => {
                diags.push(
                    table
                        .loc()
                        .error(format!("{what} needs one of `regex`, `any` or `all`")),
                );
                return None;
            }
            [_, second, ..] => {
                let loc = table.field(second).map_or_else(|| table.loc(), |f| f.loc);
                diags.push(loc.error(format!(
                    "{what} has more than one of `regex`, `any` and `all`; keep one"
                )));
                return None;
            }
        };
        let combine = match key {
            "any" => Combine::Any,
            "all" => Combine::All,
            _ => Combine::One,
        };
        let field = table.field(key)?;
        let texts = if combine == Combine::One {
            vec![(field.str(diags)?.to_owned(), field.loc.clone())]
        } else {
            let list = field.strings(diags)?;
            if list.is_empty() {
                diags.push(
                    field
                        .loc
                        .error(format!("`{key}` must hold at least one regex")),
                );
            }
            list
        };
        let patterns = compile_all(texts, diags);
        let not = match table.field("not") {
            Some(f) => compile_all(f.strings(diags)?, diags),
            None => Vec::new(),
        };
        for pattern in &patterns {
            if pattern.regex.is_match("") {
                diags.push(
                    pattern
                        .loc
                        .error("regex matches the empty string, so it would fire on every line"),
                );
            }
        }
        Some(Rule {
            combine,
            patterns,
            not,
        })
    }

    /// The capture names the signature's positive regexes (on the text and
    /// on fields) provide.
    pub fn capture_names(&self) -> impl Iterator<Item = &str> {
        self.rule
            .patterns
            .iter()
            .chain(self.fields.iter().map(|f| &f.pattern))
            .flat_map(|p| p.regex.capture_names().flatten())
    }

    /// Whether the event's fields satisfy every `field.NAME` rule; their
    /// named groups are added to `captures`.
    pub fn fields_match(&self, fields: &Fields, captures: &mut Captures) -> bool {
        for rule in &self.fields {
            let Some(caps) = fields
                .get(&rule.name)
                .and_then(|value| rule.pattern.regex.captures(value))
            else {
                return false;
            };
            for name in rule.pattern.regex.capture_names().flatten() {
                if let Some(value) = caps.name(name)
                    && !captures.iter().any(|(n, _)| n == name)
                {
                    captures.push((name.to_owned(), value.as_str().to_owned()));
                }
            }
        }
        true
    }

    /// Reports `group_by` / `key` names that no regex captures.
    fn check_capture_names(&self, diags: &mut Vec<Diagnostic>) {
        let mut wanted: Vec<(&str, &str)> = Vec::new();
        if let Some(t) = &self.threshold {
            wanted.extend(
                t.group_by
                    .iter()
                    .map(|n| (n.as_str(), "threshold.group_by")),
            );
        }
        if let Some(s) = &self.suppress {
            wanted.extend(s.key.iter().map(|n| (n.as_str(), "suppress.key")));
        }
        for (name, key) in wanted {
            if !self.capture_names().any(|c| c == name) {
                diags.push(self.loc.error(format!(
                    "{key} of signature `{}` names `{name}`, which no regex captures",
                    self.id
                )));
            }
        }
    }

    /// Whether the signature's filters admit an event from `source` at `level`.
    pub fn admits(&self, source: Option<&str>, level: Option<Level>) -> bool {
        if let Some(min) = self.level
            && level.is_none_or(|l| l < min)
        {
            return false;
        }
        match (&self.sources, source) {
            (Some(globs), Some(source)) => globs.is_match(source),
            _ => true,
        }
    }

    /// Checks `text` (an event's, its message starting at byte `message`)
    /// against the rule; the captures when it matches. `hit(i)` says whether
    /// positive pattern `i` may match (a prefilter's answer); patterns it
    /// rules out are not run.
    pub fn check_text(
        &self,
        text: &str,
        message: usize,
        hit: impl Fn(usize) -> bool,
    ) -> Option<Captures> {
        let rule = &self.rule;
        let mut captures = Captures::new();
        let mut matched_any = false;
        for (i, pattern) in rule.patterns.iter().enumerate() {
            let found = hit(i)
                .then(|| line_captures(&pattern.regex, text, message))
                .flatten();
            match (rule.combine, found) {
                (Combine::All, None) => return None,
                (_, None) => continue,
                (combine, Some(caps)) => {
                    matched_any = true;
                    for name in pattern.regex.capture_names().flatten() {
                        if let Some(value) = caps.name(name)
                            && !captures.iter().any(|(n, _)| n == name)
                        {
                            captures.push((name.to_owned(), value.as_str().to_owned()));
                        }
                    }
                    if combine != Combine::All {
                        break;
                    }
                }
            }
        }
        if !matched_any
            || rule
                .not
                .iter()
                .any(|p| lines(text).any(|line| p.regex.is_match(line)))
        {
            return None;
        }
        Some(captures)
    }

    /// Checks an event: filters, then the rule (on its text, `^` matching at
    /// the start of the line and of each word of its prefix: [`starts`]).
    pub fn check(&self, event: &Event) -> Option<Captures> {
        if !self.admits(Some(&event.source), event.level) {
            return None;
        }
        let mut captures = self.check_text(&event.text, event.message, |_| true)?;
        self.fields_match(&event.fields, &mut captures)
            .then_some(captures)
    }
}

/// The physical lines of an event's text (joined by `\n`): a signature's
/// regexes match within one line, so `^` and `$` are a line's ends and a
/// match never spans lines.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
}

/// Where a regex is tried in the first line of an event (`^` matches
/// there): the start of the line, and the start of each word of the prefix
/// before its message (`message`, the message start, included), so that a
/// regex anchored with `^` matches a message, or what follows a CI runner's
/// time (`2021-12-01T13:01:04.3807878Z [INFO] BUILD FAILURE`), whatever
/// prefix the line has, and one written for the whole line still matches.
/// At most [`MAX_STARTS`] of them.
pub fn starts(first_line: &str, message: usize) -> impl Iterator<Item = usize> + '_ {
    let bytes = first_line.as_bytes();
    let message = message.min(bytes.len());
    let blank = |b: u8| b == b' ' || b == b'\t';
    (0..=message)
        .filter(move |&p| p == 0 || p == message || (blank(bytes[p - 1]) && !blank(bytes[p])))
        .filter(move |&p| first_line.is_char_boundary(p))
        .take(MAX_STARTS)
}

/// The most places a regex is tried at in an event's first line.
pub const MAX_STARTS: usize = 24;

/// Whether `regex` matches `text` (an event's, its message at `message`):
/// its first line from one of its [`starts`], or another line.
pub fn is_match_at(regex: &Regex, text: &str, message: usize) -> bool {
    line_captures(regex, text, message).is_some()
}

/// The captures of the first line of `text` that `regex` matches (the
/// first line from each of its [`starts`] in turn).
fn line_captures<'t>(regex: &Regex, text: &'t str, message: usize) -> Option<regex::Captures<'t>> {
    let mut lines = lines(text);
    let first = lines.next()?;
    if let Some(caps) = regex.captures(first) {
        return Some(caps);
    }
    if message > 0 {
        let anchored = regex_anchored_at_start(regex);
        if anchored
            && let Some(caps) = starts(first, message)
                .skip(1)
                .find_map(|at| regex.captures(&first[at..]))
        {
            return Some(caps);
        }
    }
    lines.find_map(|line| regex.captures(line))
}

/// Whether `regex` may have a start anchor (else a match in a part of a
/// line is one in the whole line: no need to try the parts). Cheap, and
/// never wrong when it says no: the pattern's text has a `^` that does not
/// open a negated class, or `\A`.
fn regex_anchored_at_start(regex: &Regex) -> bool {
    may_anchor_start(regex.as_str())
}

/// [`regex_anchored_at_start`] on a pattern's text.
pub fn may_anchor_start(pattern: &str) -> bool {
    let bytes = pattern.as_bytes();
    pattern.contains("\\A")
        || memchr::memchr_iter(b'^', bytes).any(|i| i == 0 || bytes[i - 1] != b'[')
}

fn compile_all(texts: Vec<(String, Loc)>, diags: &mut Vec<Diagnostic>) -> Vec<Pattern> {
    texts
        .into_iter()
        .filter_map(|(text, loc)| {
            let regex = compile_regex(&text, &loc, diags)?;
            Some(Pattern { regex, loc })
        })
        .collect()
}

fn duration(
    table: &Table<'_, '_>,
    key: &'static str,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Duration> {
    let field = table.required(key, what, diags)?;
    let text = field.str(diags)?;
    let parsed = parse_duration(text).filter(|d| !d.is_zero());
    if parsed.is_none() {
        diags.push(field.loc.error(format!(
            "`{key}` must be a duration such as \"30s\", \"5m\" or \"1h\", not \"{text}\""
        )));
    }
    parsed
}

fn names(table: &Table<'_, '_>, key: &'static str, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    table
        .field(key)
        .and_then(|f| f.strings(diags))
        .map(|list| list.into_iter().map(|(n, _)| n).collect())
        .unwrap_or_default()
}

impl Example {
    fn from_table(
        table: &Table<'_, '_>,
        what: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Example> {
        let what = format!("an example of {what}");
        table.check_keys(&["line", "match", "captures", "source"], &what, diags);
        let line_field = table.required("line", &what, diags);
        let line = line_field.as_ref().and_then(|f| f.str(diags));
        let expect_match = table
            .field("match")
            .and_then(|f| f.bool(diags))
            .unwrap_or(true);
        let mut captures = Vec::new();
        if let Some(t) = table.field("captures").and_then(|f| f.table(diags)) {
            for (_, field) in t.entries() {
                if let Some(value) = field.str(diags) {
                    captures.push((field.key.to_owned(), value.to_owned()));
                }
            }
        }
        if !expect_match && !captures.is_empty() {
            diags.push(table.loc().error(format!("{what} has `match = false` and `captures`; a line that does not match captures nothing")));
        }
        let source = table
            .field("source")
            .and_then(|f| f.str(diags))
            .map(str::to_owned);
        Some(Example {
            line: line?.to_owned(),
            expect_match,
            captures,
            source,
            loc: line_field.map_or_else(|| table.loc(), |f| f.loc),
        })
    }
}

/// A shared handle on a signature, cheap to pass between stages.
pub type SignatureRef = Arc<Signature>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::table, diag::SourceText};

    pub(crate) fn load(text: &str) -> (Vec<Signature>, Vec<String>) {
        let source = SourceText::new("s.toml", text);
        let mut diags = Vec::new();
        let mut out = Vec::new();
        if let Some(doc) = table::parse(&source, &source.text, &mut diags) {
            let root = Table::root(&source, &doc);
            for t in root
                .field("signature")
                .map(|f| f.tables(&mut diags))
                .unwrap_or_default()
            {
                out.extend(Signature::from_table(&t, Origin::User, &mut diags));
            }
        }
        let messages = diags
            .iter()
            .map(|d| d.to_string().lines().next().unwrap_or("").to_owned())
            .collect();
        (out, messages)
    }

    fn one(text: &str) -> Signature {
        let (mut sigs, diags) = load(text);
        assert!(diags.is_empty(), "{diags:?}");
        sigs.remove(0)
    }

    #[test]
    fn any_all_and_not() {
        let any = one(
            "[[signature]]\nid='a'\ntitle='t'\nseverity='low'\ndescription='d'\nany=['foo (?P<x>\\d+)', 'bar']\nnot=['ignore']\n",
        );
        assert_eq!(
            any.check_text("foo 12", 0, |_| true),
            Some(vec![("x".into(), "12".into())])
        );
        assert_eq!(any.check_text("bar", 0, |_| true), Some(vec![]));
        assert_eq!(any.check_text("bar ignore", 0, |_| true), None);
        assert_eq!(any.check_text("baz", 0, |_| true), None);
        let all = one(
            "[[signature]]\nid='a'\ntitle='t'\nseverity='low'\ndescription='d'\nall=['foo', 'bar (?P<y>\\w+)']\n",
        );
        assert_eq!(
            all.check_text("foo bar z", 0, |_| true),
            Some(vec![("y".into(), "z".into())])
        );
        assert_eq!(all.check_text("foo", 0, |_| true), None);
    }

    #[test]
    fn level_and_source_filters() {
        let sig = one(
            "[[signature]]\nid='a'\ntitle='t'\nseverity='low'\ndescription='d'\nregex='x'\nlevel='error'\nsources=['**/nginx/*.log']\n",
        );
        assert!(sig.admits(Some("/var/log/nginx/error.log"), Some(Level::Fatal)));
        assert!(!sig.admits(Some("/var/log/nginx/error.log"), Some(Level::Warn)));
        assert!(!sig.admits(Some("/var/log/nginx/error.log"), None));
        assert!(!sig.admits(Some("/var/log/app.log"), Some(Level::Error)));
    }

    #[test]
    fn every_problem_of_a_signature_is_reported() {
        let (sigs, diags) = load(
            "[[signature]]\nid='Bad_Id'\nseverity='urgent'\ndescription='d'\nregex='(x'\ncolour='red'\nthreshold={count=0, window='2 m', group_by=['host']}\n",
        );
        assert!(sigs.is_empty());
        assert_eq!(
            diags,
            [
                "s.toml:6:1: unknown key `colour` in a [[signature]]; expected one of: id, title, severity, description, tags, runbook, regex, any, all, not, level, sources, field, threshold, suppress, clear_after, example, raised",
                "s.toml:2:4: signature id `Bad_Id` must be kebab-case (like `jvm-heap-oom`)",
                "s.toml:1:1: missing key `title` in signature `Bad_Id`",
                "s.toml:3:10: unknown severity `urgent`; expected one of: info, low, medium, high, critical",
                "s.toml:5:7: regex does not compile: unclosed group",
                "s.toml:7:18: `count` must be at least 1",
                "s.toml:7:28: `window` must be a duration such as \"30s\", \"5m\" or \"1h\", not \"2 m\"",
            ]
        );
    }

    #[test]
    fn field_rules_match_whole_values_and_capture() {
        let (sigs, diags) = load(
            "[[signature]]\nid='a'\ntitle='t'\nseverity='low'\ndescription='d'\nregex='GET'\n\
             field.status='(?P<code>5\\d\\d)'\nthreshold={count=2, window='1m', group_by=['code']}\n\
             [[signature]]\nid='b'\ntitle='t'\nseverity='low'\ndescription='d'\nregex='x'\nfield.host='(web'\n",
        );
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0].starts_with("s.toml:15:12: regex does not compile"),
            "{diags:?}"
        );
        let sig = &sigs[0];
        let mut fields = Fields::new();
        fields.push("status", "503");
        let mut captures = Captures::new();
        assert!(sig.fields_match(&fields, &mut captures));
        assert_eq!(captures, [("code".to_owned(), "503".to_owned())]);
        for status in ["1503", "50", "200"] {
            let mut fields = Fields::new();
            fields.push("status", status);
            assert!(!sig.fields_match(&fields, &mut Captures::new()), "{status}");
        }
        assert!(
            !sig.fields_match(&Fields::new(), &mut Captures::new()),
            "a missing field"
        );
    }

    #[test]
    fn empty_matching_regex_and_unknown_group_are_reported() {
        let (_, diags) = load(
            "[[signature]]\nid='a'\ntitle='t'\nseverity='low'\ndescription='d'\nregex='x*'\nsuppress={window='5m', key=['host']}\n",
        );
        assert_eq!(
            diags,
            [
                "s.toml:6:7: regex matches the empty string, so it would fire on every line",
                "s.toml:1:1: suppress.key of signature `a` names `host`, which no regex captures",
            ]
        );
    }
}
