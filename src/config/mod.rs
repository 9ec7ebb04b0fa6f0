//! Where triage's own files come from: the pattern and runbook files shipped
//! inside the binary, the user's directories of them, and `triage.toml`.
//!
//! Owns reading those files (never log files: only `tail` opens those) and
//! the checked TOML walk in [`table`]. Holds no parsed signatures or runbooks:
//! `library` turns these files into them.

pub mod table;

use std::{
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

use globset::{Glob, GlobMatcher};
use jiff::tz::TimeZone;

use crate::{
    diag::{Diagnostic, Loc, SourceText},
    parse::{Format, Multiline, ReadAs, Settings, TimeFormat},
};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Which kind of library file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `patterns/*.toml`: failure signatures.
    Patterns,
    /// `runbooks/*.toml`: recovery steps.
    Runbooks,
}

/// Where a library file comes from; a user's definition replaces a shipped
/// one with the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// Embedded in the binary at build time.
    Shipped,
    /// Given with `--patterns` / `--runbooks`.
    User,
}

/// One pattern or runbook file, read.
#[derive(Debug, Clone)]
pub struct LibraryFile {
    /// Name and contents.
    pub source: Arc<SourceText>,
    /// Shipped or user.
    pub origin: Origin,
}

/// The shipped files of a kind, then every `*.toml` in each user directory
/// (sorted by name). A directory or file that cannot be read is reported and
/// the others are still read.
pub fn library_files(
    kind: Kind,
    user_dirs: &[PathBuf],
    diags: &mut Vec<Diagnostic>,
) -> Vec<LibraryFile> {
    let shipped = match kind {
        Kind::Patterns => embedded::PATTERNS,
        Kind::Runbooks => embedded::RUNBOOKS,
    };
    let mut files: Vec<LibraryFile> = shipped
        .iter()
        .map(|(name, text)| LibraryFile {
            source: SourceText::new(format!("{name} (built-in)"), *text),
            origin: Origin::Shipped,
        })
        .collect();
    for dir in user_dirs {
        for path in toml_files(dir, diags) {
            match fs::read_to_string(&path) {
                Ok(text) => files.push(LibraryFile {
                    source: SourceText::new(path.display().to_string(), text),
                    origin: Origin::User,
                }),
                Err(err) => diags.push(Diagnostic::file(
                    path.display().to_string(),
                    format!("cannot read: {err}"),
                )),
            }
        }
    }
    files
}

fn toml_files(dir: &Path, diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            diags.push(Diagnostic::file(
                dir.display().to_string(),
                format!("cannot read directory: {err}"),
            ));
            return Vec::new();
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml") && path.is_file())
        .collect();
    paths.sort();
    paths
}

/// `triage.toml`: the sources a team follows and how to read them.
#[derive(Debug, Default)]
pub struct Config {
    /// `[[source]]` tables in file order.
    pub sources: Vec<SourceConfig>,
    /// `[[output]]` tables: where notifications go (`notify`).
    pub outputs: Vec<crate::notify::config::Output>,
    /// `[nats]`: the fleet's servers (`fleet`).
    pub nats: Option<crate::fleet::Settings>,
}

/// One `[[source]]` of `triage.toml`.
#[derive(Debug)]
pub struct SourceConfig {
    /// A short name for messages.
    pub name: String,
    /// Paths or globs of the files.
    pub paths: Vec<String>,
    matchers: Vec<GlobMatcher>,
    /// The zone of timestamps that carry none.
    pub timezone: Option<TimeZone>,
    /// How its lines are read: format and multi-line rule.
    pub read: Settings,
}

impl Config {
    /// Reads `triage.toml`: the file given, or `triage.toml` in the working
    /// directory when it exists, or nothing.
    pub fn load(explicit: Option<&Path>) -> Result<Config, Vec<Diagnostic>> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None if Path::new("triage.toml").is_file() => PathBuf::from("triage.toml"),
            None => return Ok(Config::default()),
        };
        let text = fs::read_to_string(&path).map_err(|err| {
            vec![Diagnostic::file(
                path.display().to_string(),
                format!("cannot read: {err}"),
            )]
        })?;
        let source = SourceText::new(path.display().to_string(), text);
        let mut diags = Vec::new();
        let base = path.parent().unwrap_or(Path::new("."));
        let config = Config::parse_in(&source, base, &mut diags);
        if diags.is_empty() {
            Ok(config)
        } else {
            Err(diags)
        }
    }

    #[cfg(test)]
    fn parse(source: &Arc<SourceText>, diags: &mut Vec<Diagnostic>) -> Config {
        Config::parse_in(source, Path::new("."), diags)
    }

    /// Parses `triage.toml`; `base` is its directory (for `*_file` keys).
    fn parse_in(source: &Arc<SourceText>, base: &Path, diags: &mut Vec<Diagnostic>) -> Config {
        let mut config = Config::default();
        let Some(doc) = table::parse(source, &source.text, diags) else {
            return config;
        };
        let root = table::Table::root(source, &doc);
        root.check_keys(&["source", "output", "nats"], "triage.toml", diags);
        if let Some(nats) = root.field("nats").and_then(|f| f.table(diags)) {
            config.nats = Some(crate::fleet::parse_config(&nats, base, diags));
        }
        let outputs = root
            .field("output")
            .map(|f| f.tables(diags))
            .unwrap_or_default();
        config.outputs = crate::notify::config::parse(&outputs, base, diags);
        let tables = root
            .field("source")
            .map(|f| f.tables(diags))
            .unwrap_or_default();
        for table in tables {
            table.check_keys(
                &[
                    "name",
                    "paths",
                    "timezone",
                    "format",
                    "time_format",
                    "multiline",
                ],
                "a [[source]]",
                diags,
            );
            let name = table
                .required("name", "a [[source]]", diags)
                .and_then(|f| f.str(diags))
                .unwrap_or_default()
                .to_owned();
            let mut paths = Vec::new();
            let mut matchers = Vec::new();
            if let Some(list) = table
                .required("paths", "a [[source]]", diags)
                .and_then(|f| f.strings(diags))
            {
                for (pattern, loc) in list {
                    match Glob::new(&pattern) {
                        Ok(glob) => matchers.push(glob.compile_matcher()),
                        Err(err) => diags.push(loc.error(format!("bad glob: {}", err.kind()))),
                    }
                    paths.push(pattern);
                }
            }
            let timezone = table.field("timezone").and_then(|field| {
                let name = field.str(diags)?;
                let zone = TimeZone::get(name);
                if zone.is_err() {
                    diags.push(field.loc.error(format!("unknown time zone `{name}`")));
                }
                zone.ok()
            });
            let mut read = Settings::default();
            if let Some(field) = table.field("format")
                && let Some(name) = field.str(diags)
                && name != "auto"
            {
                match name.parse::<Format>() {
                    Ok(format) => read.format = Some(format),
                    Err(err) => diags.push(field.loc.error(err.to_string())),
                }
            }
            if let Some(field) = table.field("time_format")
                && let Some(text) = field.str(diags)
            {
                match TimeFormat::parse(text) {
                    Ok(format) => read.time_format = Some(Arc::new(format)),
                    Err(err) => diags.push(
                        in_string(&field.loc, text, err.offset)
                            .error(format!("time_format: {}", err.message)),
                    ),
                }
            }
            if let Some(field) = table.field("multiline") {
                let rule = match field.is_table() {
                    true => field.table(diags).and_then(|rule| {
                        rule.check_keys(&["start"], "`multiline`", diags);
                        let start = rule.required("start", "`multiline`", diags)?;
                        let pattern = start.str(diags)?;
                        Multiline::start(pattern)
                            .map_err(|err| diags.push(start.loc.error(err.to_string())))
                            .ok()
                    }),
                    false => field.str(diags).and_then(|text| {
                        text.parse::<Multiline>()
                            .map_err(|err| diags.push(field.loc.error(err.to_string())))
                            .ok()
                    }),
                };
                if let Some(rule) = rule {
                    read.multiline = rule;
                }
            }
            config.sources.push(SourceConfig {
                name,
                paths,
                matchers,
                timezone,
                read,
            });
        }
        config
    }

    /// The first source whose paths match `path`.
    pub fn source_for(&self, path: &Path) -> Option<&SourceConfig> {
        self.sources
            .iter()
            .find(|source| source.matchers.iter().any(|m| m.is_match(path)))
    }

    /// How the file at `path` is read (standard input: `None`): as its
    /// `[[source]]` says, in its zone, else in `default_zone`.
    pub fn read_as(&self, path: Option<&Path>, default_zone: &TimeZone) -> ReadAs {
        let configured = path.and_then(|path| self.source_for(path));
        ReadAs {
            settings: configured.map(|s| s.read.clone()).unwrap_or_default(),
            zone: configured
                .and_then(|s| s.timezone.clone())
                .unwrap_or_else(|| default_zone.clone()),
        }
    }
}

/// The place of byte `offset` of a string value at `loc` (two bytes: a
/// directive), when the value is written as a plain quoted string; else the
/// value's place.
fn in_string(loc: &Loc, value: &str, offset: usize) -> Loc {
    let written = loc.source.text.get(loc.span.clone()).unwrap_or("");
    let plain = written.len() == value.len() + 2
        && (written.starts_with('"') || written.starts_with('\''))
        && &written[1..written.len() - 1] == value;
    if !plain {
        return loc.clone();
    }
    let start = loc.span.start + 1 + offset.min(value.len());
    let end = (start + 2).min(loc.span.end - 1).max(start);
    Loc::new(&loc.source, start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_library_is_embedded() {
        let mut diags = Vec::new();
        let files = library_files(Kind::Patterns, &[], &mut diags);
        assert!(diags.is_empty());
        assert!(!files.is_empty());
        assert!(files.iter().all(|f| f.origin == Origin::Shipped));
    }

    #[test]
    fn config_reads_sources_and_rejects_unknown_zone() {
        let source = SourceText::new(
            "triage.toml",
            "[[source]]\nname = 'api'\npaths = ['/var/log/api/*.log']\ntimezone = 'Europe/Paris'\n\n[[source]]\nname = 'x'\npaths = []\ntimezone = 'Mars/Olympus'\n",
        );
        let mut diags = Vec::new();
        let config = Config::parse(&source, &mut diags);
        assert_eq!(config.sources.len(), 2);
        assert!(
            config
                .source_for(Path::new("/var/log/api/a.log"))
                .is_some_and(|s| s.name == "api")
        );
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0]
                .to_string()
                .starts_with("triage.toml:9:12: unknown time zone")
        );
    }

    #[test]
    fn config_reads_format_and_multiline_and_names_bad_ones() {
        let source = SourceText::new(
            "triage.toml",
            "[[source]]\nname = 'app'\npaths = ['/var/log/app/*.log']\nformat = 'logback'\nmultiline = { start = '^\\d{4}-' }\n\n\
             [[source]]\nname = 'ci'\npaths = ['/ci/*.log']\nformat = 'yaml'\nmultiline = 'sometimes'\n",
        );
        let mut diags = Vec::new();
        let config = Config::parse(&source, &mut diags);
        let app = &config.sources[0].read;
        assert_eq!(app.format, Some(Format::Log4j));
        assert!(matches!(&app.multiline, Multiline::Start(re) if re.is_match("2026-11-21")));
        let messages: Vec<String> = diags.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with("triage.toml:10:10: unknown log format \"yaml\""),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with("triage.toml:11:13: unknown multiline rule"),
            "{messages:?}"
        );
        // What did read is kept: the second source with its defaults.
        assert_eq!(config.sources[1].read.format, None);
    }

    #[test]
    fn config_reads_time_format_and_points_into_a_bad_one() {
        let source = SourceText::new(
            "triage.toml",
            "[[source]]\nname = 'spark'\npaths = ['/spark/*.log']\ntime_format = \"%y/%m/%d %H:%M:%S\"\n\n\
             [[source]]\nname = 'odd'\npaths = ['/odd/*.log']\ntime_format = \"%d.%m.%Y %H:%Q\"\n",
        );
        let mut diags = Vec::new();
        let config = Config::parse(&source, &mut diags);
        let format = config.sources[0].read.time_format.as_ref().expect("read");
        assert_eq!(format.source(), "%y/%m/%d %H:%M:%S");
        assert_eq!(config.sources[1].read.time_format, None);
        let messages: Vec<String> = diags.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        // Line 9: `time_format = "%d.%m.%Y %H:%Q"`; `%Q` is at column 28.
        assert!(
            messages[0].starts_with("triage.toml:9:28: time_format: unknown directive `%Q`"),
            "{messages:?}"
        );
    }
}
