//! The signature and runbook library: the shipped files merged with the
//! user's, checked as a whole.
//!
//! Owns the rules that span files: unique ids (a user's definition replaces a
//! shipped one with the same id; two in the same layer are an error), every
//! `runbook` reference resolves, every runbook parameter is captured by some
//! signature that links to it, and every inline example passes. A broken
//! definition is reported and left out; everything else still loads.
//! [`Library::coverage`] says what the merged library covers (pure: no
//! output of its own).

use std::{collections::HashMap, path::PathBuf, sync::Arc};

use rayon::prelude::*;

use crate::{
    config::{self, Kind, LibraryFile, Origin, table},
    diag::{Diagnostic, Loc},
    model::SignatureId,
    model::{Event, Severity},
    parse,
    runbook::Runbook,
    signature::{Combine, Signature, engine::Engine, matcher::Matcher},
};

/// Every signature and runbook in use.
#[derive(Debug)]
pub struct Library {
    /// Signatures, shipped ones first, in file order.
    pub signatures: Vec<Signature>,
    /// Runbooks, in file order.
    pub runbooks: Vec<Runbook>,
    matcher: Matcher,
}

impl Library {
    /// Loads the shipped library plus the user's directories. Problems are
    /// returned next to what did load.
    pub fn load(pattern_dirs: &[PathBuf], runbook_dirs: &[PathBuf]) -> (Library, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let pattern_files = config::library_files(Kind::Patterns, pattern_dirs, &mut diags);
        let runbook_files = config::library_files(Kind::Runbooks, runbook_dirs, &mut diags);
        let signatures = read_all(&pattern_files, read_patterns, &mut diags);
        let signatures = merge(
            signatures.into_iter().flatten().collect(),
            "signature",
            |s| (&s.id, s.origin, &s.loc),
            &mut diags,
        );
        let runbooks = read_all(&runbook_files, read_runbook, &mut diags);
        let runbooks = merge(
            runbooks.into_iter().flatten().collect(),
            "runbook",
            |r| (&r.id, r.origin, &r.loc),
            &mut diags,
        );
        check_links(&signatures, &runbooks, &mut diags);
        let matcher = match Matcher::new(&signatures) {
            Ok(matcher) => matcher,
            Err(err) => {
                diags.push(Diagnostic::file(
                    "library",
                    format!("the signatures do not build together: {err}"),
                ));
                Matcher::new(&[] as &[Signature]).expect("an empty set always builds")
            }
        };
        let library = Library {
            signatures,
            runbooks,
            matcher,
        };
        (library, diags)
    }

    /// The runbook with this id.
    pub fn runbook(&self, id: &str) -> Option<&Runbook> {
        self.runbooks.iter().find(|r| r.id == id)
    }

    /// The runbook a signature links to.
    pub fn runbook_of(&self, signature: &Signature) -> Option<&Runbook> {
        signature
            .runbook
            .as_ref()
            .and_then(|(id, _)| self.runbook(id))
    }

    /// The combined matcher over all signatures.
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// A detection engine over the library's signatures.
    pub fn engine(&self) -> Engine<'_> {
        Engine::new(&self.signatures, &self.matcher)
    }

    /// The signatures triage raises itself (`raised = true`).
    pub fn raised_signatures(&self) -> impl Iterator<Item = &Signature> {
        self.signatures.iter().filter(|s| s.raised)
    }

    /// The signature an alert or clear names.
    pub fn signature(&self, id: SignatureId) -> &Signature {
        &self.signatures[id.0]
    }

    /// The place of the signature with this id (an alert read from another
    /// process names its signature by id).
    pub fn signature_id(&self, id: &str) -> Option<SignatureId> {
        self.signatures
            .iter()
            .position(|s| s.id == id)
            .map(SignatureId)
    }

    /// Runs every inline example; one diagnostic per failure, and one per
    /// part of a signature its examples do not exercise: no line that
    /// matches, no line that does not, an `any` alternative no matching
    /// example reaches, a `not` regex, `level` or `sources` filter that no
    /// non-matching example is turned away by (a line the regexes match).
    pub fn run_examples(&self, time: &parse::TimeContext) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        for signature in &self.signatures {
            let mut matched = vec![false; signature.rule.patterns.len()];
            let mut excluded = vec![false; signature.rule.not.len()];
            let (mut level_used, mut sources_used, mut fields_used) = (false, false, false);
            let (mut positives, mut negatives) = (0, 0);
            for example in &signature.examples {
                let source: Arc<str> = Arc::from(example.source.as_deref().unwrap_or("example"));
                let event = example_event(&example.line, source, time);
                let got = signature
                    .admits(example.source.as_deref(), event.level)
                    .then(|| signature.check_text(&event.text, event.message, |_| true))
                    .flatten()
                    .and_then(|mut captures| {
                        signature
                            .fields_match(&event.fields, &mut captures)
                            .then_some(captures)
                    });
                if example.expect_match {
                    positives += 1;
                    for (i, pattern) in signature.rule.patterns.iter().enumerate() {
                        matched[i] |= crate::signature::is_match_at(
                            &pattern.regex,
                            &event.text,
                            event.message,
                        );
                    }
                }
                if !example.expect_match {
                    negatives += 1;
                    if positive_rule_matches(signature, &event.text, event.message) {
                        for (i, pattern) in signature.rule.not.iter().enumerate() {
                            excluded[i] |= crate::signature::is_match_at(
                                &pattern.regex,
                                &event.text,
                                event.message,
                            );
                        }
                        if let Some(mut captures) =
                            signature.check_text(&event.text, event.message, |_| true)
                        {
                            fields_used |= !signature.fields_match(&event.fields, &mut captures);
                            level_used |= signature
                                .level
                                .is_some_and(|min| event.level.is_none_or(|l| l < min));
                            sources_used |= signature
                                .sources
                                .as_ref()
                                .zip(example.source.as_deref())
                                .is_some_and(|(globs, source)| !globs.is_match(source));
                        }
                    }
                }
                let problem = match (&got, example.expect_match) {
                    (None, true) => Some(format!(
                        "example does not match signature `{}`",
                        signature.id
                    )),
                    (Some(_), false) => Some(format!(
                        "example matches signature `{}` but says `match = false`",
                        signature.id
                    )),
                    (Some(captures), true) => example.captures.iter().find_map(|(name, want)| {
                        match captures.iter().find(|(n, _)| n == name) {
                            Some((_, got)) if got == want => None,
                            Some((_, got)) => Some(format!(
                                "example captures {name} = \"{got}\", expected \"{want}\""
                            )),
                            None => {
                                Some(format!("example captures no `{name}`, expected \"{want}\""))
                            }
                        }
                    }),
                    (None, false) => None,
                };
                if let Some(problem) = problem {
                    diags.push(example.loc.error(problem));
                }
            }
            if (positives == 0 && !signature.raised) || negatives == 0 {
                diags.push(signature.loc.error(format!(
                    "signature `{}` needs at least one matching and one non-matching example (has {positives} and {negatives})",
                    signature.id
                )));
            } else {
                if signature.rule.combine == Combine::Any && !signature.raised {
                    for (pattern, hit) in signature.rule.patterns.iter().zip(&matched) {
                        if !hit {
                            diags.push(pattern.loc.error(format!(
                                "no matching example of signature `{}` exercises this alternative",
                                signature.id
                            )));
                        }
                    }
                }
                for (pattern, hit) in signature.rule.not.iter().zip(&excluded) {
                    if !hit {
                        diags.push(pattern.loc.error(format!(
                            "no non-matching example of signature `{}` is excluded by this `not` regex (add a line the other regexes match)",
                            signature.id
                        )));
                    }
                }
                let filters = [
                    (
                        signature.level.is_some() && !level_used,
                        "level",
                        "at a lower level",
                    ),
                    (
                        signature.sources.is_some() && !sources_used,
                        "sources",
                        "with a `source` outside them",
                    ),
                    (
                        !signature.fields.is_empty() && !fields_used,
                        "field",
                        "whose fields do not match",
                    ),
                ];
                for (untested, filter, how) in filters {
                    if untested {
                        diags.push(signature.loc.error(format!(
                            "no non-matching example of signature `{}` is turned away by its `{filter}` filter (add a line the regexes match, {how})",
                            signature.id
                        )));
                    }
                }
            }
        }
        diags
    }
}

/// What a library covers, for `triage check --coverage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// One per patterns file (its name without `.toml`), in name order.
    pub families: Vec<Family>,
    /// Signatures per severity, in the order of [`Severity::ALL`].
    pub by_severity: [usize; 5],
    /// Ids of signatures that link to no runbook.
    pub without_runbook: Vec<String>,
    /// Ids of runbooks no signature links to.
    pub unlinked_runbooks: Vec<String>,
    /// How many runbooks there are.
    pub runbooks: usize,
}

/// One family of signatures: those of one patterns file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// The file's name without directory and `.toml` (`kafka`).
    pub name: String,
    /// Signatures per severity, in the order of [`Severity::ALL`].
    pub by_severity: [usize; 5],
    /// The systems its signatures name: the first tag of each, sorted,
    /// without repeats.
    pub systems: Vec<String>,
    /// The runbooks its signatures link to, sorted, without repeats.
    pub runbooks: Vec<String>,
}

impl Family {
    /// How many signatures the family has.
    pub fn signatures(&self) -> usize {
        self.by_severity.iter().sum()
    }
}

impl Coverage {
    /// How many signatures there are.
    pub fn signatures(&self) -> usize {
        self.by_severity.iter().sum()
    }
}

/// The family of a signature: the stem of the file it is written in
/// (`patterns/kafka.toml (built-in)` and `/home/me/p/kafka.toml` are both
/// `kafka`).
fn family_of(source_name: &str) -> String {
    let name = source_name
        .strip_suffix(" (built-in)")
        .unwrap_or(source_name);
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    file.strip_suffix(".toml").unwrap_or(file).to_owned()
}

fn severity_index(severity: Severity) -> usize {
    Severity::ALL
        .iter()
        .position(|s| *s == severity)
        .expect("ALL holds every severity")
}

impl Library {
    /// What the library covers: families and the systems they name,
    /// signatures per severity, signatures without a runbook and runbooks
    /// no signature links to.
    pub fn coverage(&self) -> Coverage {
        let mut families: Vec<Family> = Vec::new();
        let mut by_severity = [0; 5];
        let mut without_runbook = Vec::new();
        for signature in &self.signatures {
            let name = family_of(&signature.loc.source.name);
            let index = match families.iter().position(|f| f.name == name) {
                Some(i) => i,
                None => {
                    families.push(Family {
                        name,
                        by_severity: [0; 5],
                        systems: Vec::new(),
                        runbooks: Vec::new(),
                    });
                    families.len() - 1
                }
            };
            let family = &mut families[index];
            let severity = severity_index(signature.severity);
            family.by_severity[severity] += 1;
            by_severity[severity] += 1;
            if let Some(system) = signature.tags.first() {
                family.systems.push(system.clone());
            }
            match &signature.runbook {
                Some((id, _)) => family.runbooks.push(id.clone()),
                None => without_runbook.push(signature.id.clone()),
            }
        }
        for family in &mut families {
            family.systems.sort();
            family.systems.dedup();
            family.runbooks.sort();
            family.runbooks.dedup();
        }
        families.sort_by(|a, b| a.name.cmp(&b.name));
        let unlinked_runbooks = self
            .runbooks
            .iter()
            .filter(|r| {
                !self
                    .signatures
                    .iter()
                    .any(|s| s.runbook.as_ref().is_some_and(|(id, _)| *id == r.id))
            })
            .map(|r| r.id.clone())
            .collect();
        Coverage {
            families,
            by_severity,
            without_runbook,
            unlinked_runbooks,
            runbooks: self.runbooks.len(),
        }
    }
}

/// Whether the signature's positive regexes match `text` (one, any or all of
/// them), before `not` and the filters.
fn positive_rule_matches(signature: &Signature, text: &str, message: usize) -> bool {
    let mut hits = signature
        .rule
        .patterns
        .iter()
        .map(|p| crate::signature::is_match_at(&p.regex, text, message));
    match signature.rule.combine {
        Combine::All => hits.all(|hit| hit),
        Combine::One | Combine::Any => hits.any(|hit| hit),
    }
}

/// The event an example line makes, read in the format and layout the line
/// itself is written in (so `field.NAME` rules see its fields, and its time
/// and message start are where a log of such lines has them).
fn example_event(line: &str, source: Arc<str>, time: &parse::TimeContext) -> Event {
    let profile = parse::Profile::of(line.as_bytes(), true, None, time);
    let parser = parse::Parser::with_format(source, time.clone(), profile.format)
        .with_layout(profile.layout);
    parser.event(crate::model::RawLine {
        offset: 0,
        line_no: 1,
        bytes: line.as_bytes().to_vec(),
        truncated: false,
        partial: false,
    })
}

/// `read` of each of `files`, on as many threads as there are cores
/// (compiling the signatures' regexes is most of a command's start), in
/// file order; each file's problems added to `diags` in that order.
fn read_all<T: Send>(
    files: &[LibraryFile],
    read: impl Fn(&LibraryFile, &mut Vec<Diagnostic>) -> T + Sync,
    diags: &mut Vec<Diagnostic>,
) -> Vec<T> {
    let read: Vec<(T, Vec<Diagnostic>)> = files
        .par_iter()
        .map(|file| {
            let mut found = Vec::new();
            (read(file, &mut found), found)
        })
        .collect();
    read.into_iter()
        .map(|(items, found)| {
            diags.extend(found);
            items
        })
        .collect()
}

fn read_patterns(file: &LibraryFile, diags: &mut Vec<Diagnostic>) -> Vec<Signature> {
    let source = &file.source;
    let Some(doc) = table::parse(source, &source.text, diags) else {
        return Vec::new();
    };
    let root = table::Table::root(source, &doc);
    root.check_keys(&["signature"], "a patterns file", diags);
    root.field("signature")
        .map(|f| f.tables(diags))
        .unwrap_or_default()
        .iter()
        .filter_map(|t| Signature::from_table(t, file.origin, diags))
        .collect()
}

fn read_runbook(file: &LibraryFile, diags: &mut Vec<Diagnostic>) -> Option<Runbook> {
    let source = &file.source;
    let doc = table::parse(source, &source.text, diags)?;
    Runbook::from_table(&table::Table::root(source, &doc), file.origin, diags)
}

/// Keeps one definition per id: a user's replaces a shipped one; two from
/// the same layer are reported and the first is kept.
fn merge<T>(
    items: Vec<T>,
    what: &str,
    key: impl Fn(&T) -> (&String, Origin, &Loc),
    diags: &mut Vec<Diagnostic>,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for item in items {
        let (id, origin, loc) = key(&item);
        match index.get(id) {
            None => {
                index.insert(id.clone(), out.len());
                out.push(item);
            }
            Some(&i) => {
                let (_, first_origin, first_loc) = key(&out[i]);
                if first_origin < origin {
                    tracing::info!(id = %id, at = %loc.position(), "user {what} replaces the built-in one");
                    out[i] = item;
                } else {
                    let first = first_loc.position();
                    diags.push(loc.error(format!(
                        "duplicate {what} id `{id}`; first defined at {first}"
                    )));
                }
            }
        }
    }
    out
}

fn check_links(signatures: &[Signature], runbooks: &[Runbook], diags: &mut Vec<Diagnostic>) {
    for signature in signatures {
        if let Some((id, loc)) = &signature.runbook
            && !runbooks.iter().any(|r| &r.id == id)
        {
            diags.push(loc.error(format!(
                "signature `{}` links to runbook `{id}`, which does not exist",
                signature.id
            )));
        }
    }
    for runbook in runbooks {
        for (id, loc) in &runbook.related {
            if !runbooks.iter().any(|r| &r.id == id) {
                diags.push(loc.error(format!(
                    "runbook `{}` names related runbook `{id}`, which does not exist",
                    runbook.id
                )));
            }
        }
    }
    for runbook in runbooks {
        let linked: Vec<&Signature> = signatures
            .iter()
            .filter(|s| s.runbook.as_ref().is_some_and(|(id, _)| *id == runbook.id))
            .collect();
        if linked.is_empty() {
            continue;
        }
        for param in &runbook.params {
            if !linked
                .iter()
                .any(|s| s.capture_names().any(|c| c == param.capture))
            {
                let names: Vec<&str> = linked.iter().map(|s| s.id.as_str()).collect();
                diags.push(param.loc.error(format!(
                    "parameter `{}` takes capture `{}`, which no signature linking to runbook `{}` captures ({})",
                    param.name,
                    param.capture,
                    runbook.id,
                    names.join(", ")
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::{Timestamp, tz::TimeZone};

    use super::*;

    /// The diagnostics `check` gives for one user patterns file (first lines
    /// only), without the shipped library's.
    fn problems(text: &str) -> Vec<String> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("p.toml"), text).expect("write");
        let (library, mut diags) = Library::load(&[dir.path().to_path_buf()], &[]);
        diags.extend(library.run_examples(&parse::TimeContext::new(
            TimeZone::UTC,
            Timestamp::UNIX_EPOCH,
        )));
        diags
            .iter()
            .map(|d| d.to_string().lines().next().unwrap_or("").to_owned())
            .filter(|d| !d.contains("(built-in)"))
            .map(|d| d.split_once(": ").map_or(d.clone(), |(_, m)| m.to_owned()))
            .collect()
    }

    const HEAD: &str =
        "[[signature]]\nid = 's'\ntitle = 't'\nseverity = 'low'\ndescription = 'd'\n";

    #[test]
    fn every_not_regex_and_filter_needs_an_example_it_turns_away() {
        let untested = format!(
            "{HEAD}regex = 'disk (?P<d>[a-z]+) failed'\nnot = ['test', 'drill']\nlevel = 'error'\nsources = ['**/k.log']\n\
             [[signature.example]]\nline = 'ERROR disk sda failed'\nsource = '/v/k.log'\n\
             [[signature.example]]\nline = 'ERROR disk sda failed in a drill'\nsource = '/v/k.log'\nmatch = false\n"
        );
        assert_eq!(
            problems(&untested),
            [
                "no non-matching example of signature `s` is excluded by this `not` regex (add a line the other regexes match)",
                "no non-matching example of signature `s` is turned away by its `level` filter (add a line the regexes match, at a lower level)",
                "no non-matching example of signature `s` is turned away by its `sources` filter (add a line the regexes match, with a `source` outside them)",
            ]
        );
        let tested = format!(
            "{untested}[[signature.example]]\nline = 'ERROR disk sdb failed: test'\nsource = '/v/k.log'\nmatch = false\n\
             [[signature.example]]\nline = 'WARN disk sdb failed'\nsource = '/v/k.log'\nmatch = false\n\
             [[signature.example]]\nline = 'ERROR disk sdb failed'\nsource = '/v/app.log'\nmatch = false\n"
        );
        assert_eq!(problems(&tested), Vec::<String>::new());
    }

    #[test]
    fn a_line_the_rule_does_not_match_does_not_exercise_a_not_regex() {
        let text = format!(
            "{HEAD}regex = 'disk failed'\nnot = ['drill']\n\
             [[signature.example]]\nline = 'disk failed'\n\
             [[signature.example]]\nline = 'a drill'\nmatch = false\n"
        );
        assert_eq!(problems(&text).len(), 1);
    }

    #[test]
    fn coverage_counts_families_severities_and_loose_ends() {
        let patterns = tempfile::tempdir().expect("tempdir");
        let runbooks = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            patterns.path().join("zz-acme.toml"),
            format!(
                "{HEAD}tags = ['acme', 'disk']\nregex = 'disk failed'\n\
                 [[signature.example]]\nline = 'disk failed'\n\
                 [[signature.example]]\nline = 'disk fine'\nmatch = false\n\
                 [[signature]]\nid = 't'\ntitle = 't'\nseverity = 'critical'\ndescription = 'd'\n\
                 tags = ['acme-db']\nrunbook = 'zz-acme'\nregex = 'db down'\n\
                 [[signature.example]]\nline = 'db down'\n\
                 [[signature.example]]\nline = 'db up'\nmatch = false\n"
            ),
        )
        .expect("write");
        for id in ["zz-acme", "zz-orphan"] {
            std::fs::write(
                runbooks.path().join(format!("{id}.toml")),
                format!("id = '{id}'\ntitle = 't'\nsummary = 's'\n[[step]]\nid = 'a'\ntitle = 'a'\nkind = 'diagnose'\n"),
            )
            .expect("write");
        }
        let (library, diags) = Library::load(
            &[patterns.path().to_path_buf()],
            &[runbooks.path().to_path_buf()],
        );
        assert!(diags.is_empty(), "{diags:?}");
        let coverage = library.coverage();
        let acme = coverage
            .families
            .iter()
            .find(|f| f.name == "zz-acme")
            .expect("the user file is a family");
        assert_eq!(acme.by_severity, [0, 1, 0, 0, 1]);
        assert_eq!(acme.systems, ["acme", "acme-db"]);
        assert_eq!(acme.runbooks, ["zz-acme"]);
        assert_eq!(coverage.without_runbook, ["s"]);
        assert_eq!(coverage.unlinked_runbooks, ["zz-orphan"]);
        assert_eq!(coverage.signatures(), library.signatures.len());
        assert!(coverage.families.iter().any(|f| f.name == "kafka"));
        assert!(coverage.families.windows(2).all(|w| w[0].name < w[1].name));
    }

    #[test]
    fn the_shipped_library_has_two_examples_each_way_for_every_signature() {
        let (library, diags) = Library::load(&[], &[]);
        assert!(diags.is_empty(), "{diags:?}");
        assert!(library.signatures.len() >= 60);
        assert!(library.runbooks.len() >= 20);
        for signature in &library.signatures {
            let positives = signature.examples.iter().filter(|e| e.expect_match).count();
            let negatives = signature.examples.len() - positives;
            assert!(
                (positives >= 2 || signature.raised) && negatives >= 2,
                "{}: {positives} matching and {negatives} non-matching examples",
                signature.id
            );
            assert!(
                signature.runbook.is_some(),
                "{} has no runbook",
                signature.id
            );
        }
        let problems =
            library.run_examples(&parse::TimeContext::new(TimeZone::UTC, Timestamp::now()));
        assert!(problems.is_empty(), "{problems:?}");
    }
}
