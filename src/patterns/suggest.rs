//! `triage patterns --suggest ID`: a `[[signature]]` TOML block for one
//! template, which `triage check` accepts as it is.
//!
//! The regex is the template's tokens in order: literal text escaped, each
//! `<*>` a named group of non-space characters (named after the word or key
//! before it when there is one: `port <*>` → `port`, `uid=<*>` → `uid`),
//! tokens separated by `\s+`: anchored on the template's literal text, never
//! `.*`. Severity from the worst level of its lines; two matching examples
//! from its own lines and two non-matching ones from other templates' lines
//! of the same files, each checked against the regex before it is written.
//! Must not: write any file (the user chooses where the block goes).

use std::{collections::HashSet, io, io::Write, path::PathBuf};

use regex::Regex;

use crate::{
    model::{Level, Severity},
    parse::template::{Template, TemplateId},
    scan::Scanner,
};

/// A signature suggested for a template.
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// The TOML block.
    pub toml: String,
    /// The regex in it.
    pub regex: String,
}

/// The severity of a signature from the worst level of its lines.
fn severity(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Fatal | Level::Critical) => Severity::High,
        Some(Level::Error) => Severity::Medium,
        Some(Level::Warn) => Severity::Low,
        _ => Severity::Info,
    }
}

/// A capture name from the text before a variable: the last identifier of
/// it, lower-cased, when there is one.
fn name_from(text: &str) -> Option<String> {
    let trimmed = text.trim_end_matches(['=', ':', '[', '(', '#', '"', '\'', '_', '-', '.', '/']);
    let word: String = trimmed
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let word = word.to_ascii_lowercase();
    let word = word.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
    (word.len() >= 2 && word.len() <= 24).then(|| word.to_owned())
}

/// The regex of a template's tokens (see the module's documentation).
pub fn regex_of(tokens: &[&str]) -> Option<String> {
    let mut used = HashSet::new();
    let mut n = 0;
    let mut name = |hint: Option<String>| {
        n += 1;
        let base = hint.unwrap_or_else(|| format!("v{n}"));
        let mut candidate = base.clone();
        let mut k = 2;
        while !used.insert(candidate.clone()) {
            candidate = format!("{base}_{k}");
            k += 1;
        }
        candidate
    };
    let mut parts = Vec::new();
    let mut literal = false;
    let mut previous: Option<&str> = None;
    for token in tokens {
        let pieces: Vec<&str> = token.split("<*>").collect();
        let mut out = String::new();
        for (i, piece) in pieces.iter().enumerate() {
            if !piece.is_empty() {
                literal = true;
                out.push_str(&regex::escape(piece));
            }
            if i + 1 < pieces.len() {
                let hint = match piece.is_empty() {
                    true if i == 0 => {
                        previous.and_then(|p| (!p.contains("<*>")).then(|| name_from(p)).flatten())
                    }
                    _ => name_from(piece),
                };
                let group = name(hint);
                let last = i + 2 == pieces.len() && pieces[i + 1].is_empty();
                out.push_str(&format!(
                    "(?P<{group}>\\S{})",
                    if last { "+" } else { "+?" }
                ));
            }
        }
        parts.push(out);
        previous = Some(token);
    }
    literal.then(|| parts.join(r"\s+"))
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// The suggestion for template `t`; `others` are lines of other templates
/// (for the non-matching examples). `None` when the template has no
/// literal text to anchor a regex on.
pub fn suggest<'a>(t: &Template, others: impl Iterator<Item = &'a str>) -> Option<Suggestion> {
    let tokens: Vec<&str> = t.tokens().collect();
    let regex = regex_of(&tokens)?;
    let compiled = Regex::new(&regex).ok()?;
    let matching: Vec<&str> = t
        .examples()
        .iter()
        .map(|(line, _)| line.as_str())
        .filter(|line| compiled.is_match(line))
        .take(2)
        .collect();
    let mut seen = HashSet::new();
    let non_matching: Vec<&str> = others
        .filter(|line| !compiled.is_match(line) && seen.insert(*line))
        .take(2)
        .collect();
    let id = format!("suggested-{}", t.id());
    let words: Vec<&str> = tokens
        .iter()
        .copied()
        .filter(|w| !w.contains("<*>"))
        .take(10)
        .collect();
    let title = format!("{} (suggested)", super::cut(&words.join(" "), 80));
    let first = t.first();
    let description = format!(
        "Suggested by `triage patterns --suggest {}` from {} line(s) of the template `{}`, first seen at {}:{}. Say what fails, what users see and give it a runbook before shipping it.",
        t.id(),
        t.count(),
        super::cut(t.text(), 200),
        first.source,
        first.line_no
    );
    let mut toml = String::new();
    toml.push_str("[[signature]]\n");
    toml.push_str(&format!("id = {}\n", toml_string(&id)));
    toml.push_str(&format!("title = {}\n", toml_string(&title)));
    toml.push_str(&format!(
        "severity = \"{}\"\n",
        severity(t.levels().max()).as_str()
    ));
    toml.push_str(&format!("description = {}\n", toml_string(&description)));
    toml.push_str("tags = [\"suggested\"]\n");
    toml.push_str(&format!("regex = {}\n", toml_string(&regex)));
    for line in &matching {
        toml.push_str(&format!(
            "\n[[signature.example]]\nline = {}\n",
            toml_string(line)
        ));
    }
    for line in &non_matching {
        toml.push_str(&format!(
            "\n[[signature.example]]\nline = {}\nmatch = false\n",
            toml_string(line)
        ));
    }
    Some(Suggestion { toml, regex })
}

/// Parses a template id as written (twelve hex digits).
pub fn parse_id(text: &str) -> io::Result<TemplateId> {
    u64::from_str_radix(text.trim(), 16)
        .ok()
        .filter(|_| text.trim().len() <= 16)
        .map(TemplateId)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("--suggest: `{text}` is not a template id (twelve hex digits, as `triage patterns` lists them)"),
            )
        })
}

/// Writes the suggestion for template `id` of what the scanner mined from
/// `paths`; whether there was one (an unknown id is an error).
pub fn run(
    scanner: &mut Scanner<'_>,
    id: &str,
    paths: &[PathBuf],
    out: &mut dyn Write,
) -> io::Result<bool> {
    let id = parse_id(id)?;
    let miner = scanner.engine_problems().miner();
    let Some(t) = miner.find(id) else {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "--suggest: no template {id} in {} (ids come from `triage patterns` on the same files)",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let mut others: Vec<&Template> = miner.templates().filter(|o| o.id() != t.id()).collect();
    others.sort_by(|a, b| b.count().cmp(&a.count()).then(a.id().cmp(&b.id())));
    let lines = others
        .iter()
        .flat_map(|o| o.examples().iter().map(|(line, _)| line.as_str()));
    match suggest(t, lines) {
        Some(s) => {
            out.write_all(s.toml.as_bytes())?;
            Ok(true)
        }
        None => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("--suggest: template {id} has no literal text to anchor a signature on"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_named_groups_anchored_on_literals() {
        let regex = regex_of(&[
            "Failed",
            "password",
            "for",
            "<*>",
            "from",
            "<*>",
            "port",
            "<*>",
            "uid=<*>",
            "blk_<*>:x",
        ])
        .expect("literal text");
        assert_eq!(
            regex,
            r"Failed\s+password\s+for\s+(?P<for>\S+)\s+from\s+(?P<from>\S+)\s+port\s+(?P<port>\S+)\s+uid=(?P<uid>\S+)\s+blk_(?P<blk>\S+?):x"
        );
        let re = Regex::new(&regex).expect("valid");
        assert!(re.is_match("Failed password for root from 10.0.0.1 port 22 uid=0 blk_12:x"));
        assert_eq!(regex_of(&["<*>", "<*>"]), None);
    }
}
