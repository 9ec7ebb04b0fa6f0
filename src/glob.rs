//! The one glob dialect of paths given on the command line (`scan`,
//! `formats`, `watch`, `ingest`, `ui`, `agent`, `patterns`, `diff`): globset's
//! syntax — `*`, `?`, `[...]`, `**`, and braces (`logs/{app,db}.log*`) —
//! matched as a shell matches: `*` and `?` stay within one directory, and a
//! name starting with a dot is matched only where the pattern writes the
//! dot (`logs/*/*.log` is not `logs/.triage/ui.log`, triage's own log;
//! `logs/.triage/*.log` is).
//!
//! Lists directories, never opens a file (only `tail` opens log files).
//! Globs over other things (a signature's `sources`, `--source`, outputs'
//! filters, `--include`/`--exclude`) are globset too, with their own rules
//! of what they are matched against.

use std::{
    collections::HashMap,
    path::{Component, Path, PathBuf},
    sync::{Arc, LazyLock, Mutex, PoisonError},
};

use globset::{GlobBuilder, GlobMatcher};
use walkdir::WalkDir;

/// Whether `text` is a glob rather than a path: it holds one of `*?[{`.
pub fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '[', '{'])
}

/// A compiled glob over paths.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern, without a leading `./`.
    text: String,
    matcher: GlobMatcher,
    /// The directory its literal leading components name (`.` if none).
    base: PathBuf,
    /// Components of `text` after `base`: what a name of that depth must
    /// match, and whether a `**` lets it lie deeper.
    rest: Vec<GlobMatcher>,
    recursive: bool,
}

/// A glob that does not compile: the pattern and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pattern}: bad glob: {why}")]
pub struct Error {
    /// The pattern, as given.
    pub pattern: String,
    /// globset's reason.
    pub why: String,
}

fn compile(text: &str, pattern: &str) -> Result<GlobMatcher, Error> {
    GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(true)
        .empty_alternates(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| Error {
            pattern: pattern.to_owned(),
            why: e.kind().to_string(),
        })
}

impl Pattern {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Pattern, Error> {
        let mut text = pattern;
        while let Some(rest) = text.strip_prefix("./") {
            text = rest.trim_start_matches('/');
        }
        let matcher = compile(text, pattern)?;
        let parts = components(text);
        let literal = parts
            .iter()
            .take_while(|p| !is_glob(p))
            .count()
            // The last component is a file name, even when literal.
            .min(parts.len().saturating_sub(1));
        let base = if literal == 0 {
            if text.starts_with('/') {
                PathBuf::from("/")
            } else {
                PathBuf::from(".")
            }
        } else {
            let joined = parts[..literal].join("/");
            PathBuf::from(if joined.is_empty() { "/" } else { &joined })
        };
        let mut rest = Vec::new();
        let mut recursive = false;
        for part in &parts[literal..] {
            // `**`, or braces whose choices cross directories.
            if part.contains("**") || part.contains('/') {
                recursive = true;
            }
            rest.push(compile(part, pattern)?);
        }
        Ok(Pattern {
            text: text.to_owned(),
            matcher,
            base,
            rest,
            recursive,
        })
    }

    /// `pattern` compiled once per process: the follower matches the paths
    /// change events name against its targets on every wake.
    pub fn cached(pattern: &str) -> Result<Arc<Pattern>, Error> {
        /// Distinct patterns kept (a process follows a handful).
        const KEPT: usize = 256;
        static CACHE: LazyLock<Mutex<HashMap<String, Arc<Pattern>>>> =
            LazyLock::new(Mutex::default);
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(compiled) = cache.get(pattern) {
            return Ok(Arc::clone(compiled));
        }
        let compiled = Arc::new(Pattern::new(pattern)?);
        if cache.len() >= KEPT {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), Arc::clone(&compiled));
        Ok(compiled)
    }

    /// The pattern as matched (a leading `./` dropped).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The directory its literal leading components name: where a walk
    /// starts, and what to watch for changes.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// Whether it may match below the directories right under its base
    /// (a `/` after its first wildcard, or a `**`).
    pub fn recursive(&self) -> bool {
        self.recursive || self.rest.len() > 1
    }

    /// Whether `path` matches (`path` written as the pattern is: relative
    /// or absolute, without `./`).
    pub fn matches(&self, path: &Path) -> bool {
        let path = path.strip_prefix(".").unwrap_or(path);
        if !self.matcher.is_match(path) {
            return false;
        }
        let below = path.strip_prefix(&self.base).unwrap_or(path);
        below.components().all(|c| match c {
            Component::Normal(name) => {
                let name = name.to_string_lossy();
                !name.starts_with('.') || self.writes_dot(&name)
            }
            _ => true,
        })
    }

    /// Whether some component of the pattern matches the hidden `name`
    /// because it writes the dot: it matches `name` and not `name` with
    /// another first character (a `*` or `?` matches both).
    fn writes_dot(&self, name: &str) -> bool {
        let other = format!("x{}", &name[1..]);
        self.rest
            .iter()
            .any(|part| part.is_match(name) && !part.is_match(&other))
    }

    /// The paths that match now, sorted: every entry under the base
    /// (symbolic links followed, and named even when they lead nowhere or
    /// round in a loop), so directories too when the pattern names them.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut walk = WalkDir::new(&self.base).follow_links(true).min_depth(1);
        if !self.recursive {
            walk = walk.max_depth(self.rest.len().max(1));
        }
        let base_is_dot = self.base == Path::new(".");
        let mut out: Vec<PathBuf> = walk
            .into_iter()
            .filter_entry(|e| {
                // A hidden directory is entered only where the pattern
                // writes its dot.
                let name = e.file_name().to_string_lossy();
                !name.starts_with('.') || e.depth() == 0 || self.writes_dot(&name)
            })
            // An entry that cannot be followed (a symlink loop, a link to
            // nowhere) is still named when it matches: whoever reads it
            // says what is wrong with it.
            .filter_map(|entry| match entry {
                Ok(e) => Some(e.into_path()),
                Err(err) => err.path().map(Path::to_path_buf),
            })
            .map(|path| match base_is_dot {
                true => path
                    .strip_prefix(".")
                    .map(Path::to_path_buf)
                    .unwrap_or(path),
                false => path,
            })
            .filter(|path| self.matches(path))
            .collect();
        out.sort();
        out
    }
}

/// The components of a glob: split at each `/` outside braces (a choice
/// of braces may hold a `/`: `logs/{api/app,db}.log`).
fn components(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut escaped) = (0usize, 0, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '/' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// Why the command-line argument `path` is a glob that does not compile:
/// it names no existing path and holds one of `*?[{` (as [`expand_args`]
/// reads it). A command reports it so, not as a file that is not found.
pub fn bad(path: &Path) -> Option<Error> {
    let arg = path.to_str().filter(|arg| is_glob(arg))?;
    if path.exists() {
        return None;
    }
    Pattern::cached(arg).err()
}

/// The [`bad`] globs among command-line arguments, in order.
pub fn check_args<P: AsRef<Path>>(args: &[P]) -> Vec<Error> {
    args.iter().filter_map(|arg| bad(arg.as_ref())).collect()
}

/// Command-line arguments to paths: a path as it is, a glob expanded to the
/// paths it matches now (sorted), a glob matching nothing kept as given (the
/// reader then says it is not found), a glob that does not compile likewise
/// (the commands say why it is not read: [`bad`]).
pub fn expand_args<P: AsRef<Path>>(args: &[P]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for arg in args {
        let path = arg.as_ref();
        let Some(arg) = path.to_str().filter(|a| is_glob(a) && !path.exists()) else {
            out.push(path.to_path_buf());
            continue;
        };
        match Pattern::new(arg).map(|p| p.paths()) {
            Ok(paths) if !paths.is_empty() => out.extend(paths),
            _ => out.push(PathBuf::from(arg)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for file in files {
            let path = dir.path().join(file);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(&path, "x\n").expect("write");
        }
        dir
    }

    fn found(dir: &Path, pattern: &str) -> Vec<String> {
        let pattern = Pattern::new(&format!("{}/{pattern}", dir.display())).expect("compiles");
        pattern
            .paths()
            .into_iter()
            .filter(|p| p.is_file())
            .map(|p| {
                p.strip_prefix(dir)
                    .expect("under dir")
                    .display()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn globs_and_paths_are_told_apart() {
        for glob in ["*.log", "a?.log", "[ab].log", "logs/{app,db}.log", "**/x"] {
            assert!(is_glob(glob), "{glob}");
        }
        for path in ["/var/log/app.log", "app.log.1", "a-b_c.log"] {
            assert!(!is_glob(path), "{path}");
        }
    }

    #[test]
    fn braces_choose_among_names() {
        let dir = tree(&[
            "logs/app.log",
            "logs/app.log.1",
            "logs/db.log",
            "logs/web.log",
        ]);
        assert_eq!(
            found(dir.path(), "logs/{app,db}.log*"),
            ["logs/app.log", "logs/app.log.1", "logs/db.log"]
        );
        assert_eq!(
            found(dir.path(), "logs/app.log{,.1}"),
            ["logs/app.log", "logs/app.log.1"]
        );
    }

    #[test]
    fn braces_may_choose_among_directories() {
        let dir = tree(&["logs/api/app.log", "logs/db.log", "logs/web/app.log"]);
        assert_eq!(
            found(dir.path(), "logs/{api/app,db}.log"),
            ["logs/api/app.log", "logs/db.log"]
        );
        let p = Pattern::new("logs/{api/app,db}.log").expect("compiles");
        assert!(p.recursive());
        assert_eq!(p.base(), Path::new("logs"));
    }

    #[test]
    fn a_star_stays_in_its_directory_and_a_double_star_does_not() {
        let dir = tree(&["logs/a.log", "logs/sub/b.log", "logs/sub/deeper/c.log"]);
        assert_eq!(found(dir.path(), "logs/*.log"), ["logs/a.log"]);
        assert_eq!(found(dir.path(), "logs/*/*.log"), ["logs/sub/b.log"]);
        assert_eq!(
            found(dir.path(), "logs/**/*.log"),
            ["logs/a.log", "logs/sub/b.log", "logs/sub/deeper/c.log"]
        );
    }

    #[test]
    fn a_hidden_name_is_matched_only_where_the_pattern_writes_its_dot() {
        let dir = tree(&["logs/app/a.log", "logs/.triage/ui.log", "logs/app/.b.log"]);
        assert_eq!(found(dir.path(), "logs/*/*.log"), ["logs/app/a.log"]);
        assert_eq!(found(dir.path(), "logs/**/*.log"), ["logs/app/a.log"]);
        assert_eq!(
            found(dir.path(), "logs/.triage/*.log"),
            ["logs/.triage/ui.log"]
        );
        assert_eq!(found(dir.path(), "logs/*/.b*"), ["logs/app/.b.log"]);
        assert_eq!(
            found(dir.path(), "logs/{.triage,app}/u*"),
            ["logs/.triage/ui.log"]
        );
    }

    #[test]
    fn a_link_that_cannot_be_followed_is_still_named() {
        let dir = tree(&["logs/a.log"]);
        let logs = dir.path().join("logs");
        std::os::unix::fs::symlink("loop.log", logs.join("loop.log")).expect("symlink");
        std::os::unix::fs::symlink("gone", logs.join("dangling.log")).expect("symlink");
        let pattern = Pattern::new(&format!("{}/*.log", logs.display())).expect("compiles");
        let names: Vec<String> = pattern
            .paths()
            .iter()
            .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(names, ["a.log", "dangling.log", "loop.log"]);
    }

    #[test]
    fn base_and_recursion() {
        let p = |s: &str| Pattern::new(s).expect("compiles");
        assert_eq!(p("/var/log/*.log").base(), Path::new("/var/log"));
        assert!(!p("/var/log/*.log").recursive());
        assert!(p("/var/log/**/*.log").recursive());
        assert!(p("logs/*/x.log").recursive());
        assert_eq!(p("logs/*/x.log").base(), Path::new("logs"));
        assert_eq!(p("*.log").base(), Path::new("."));
        assert_eq!(p("./logs/{a,b}.log").base(), Path::new("logs"));
        assert!(p("./logs/{a,b}.log").matches(Path::new("logs/a.log")));
        assert!(p("/*.log").matches(Path::new("/x.log")));
        assert_eq!(p("/*.log").base(), Path::new("/"));
    }

    #[test]
    fn a_bad_glob_is_an_error_naming_it() {
        let err = Pattern::new("logs/{a,b.log").expect_err("unclosed");
        assert_eq!(err.pattern, "logs/{a,b.log");
        assert!(!err.why.is_empty());
        assert!(
            err.to_string().starts_with("logs/{a,b.log: bad glob: "),
            "{err}"
        );
    }

    #[test]
    fn checking_arguments_names_every_bad_glob_and_nothing_else() {
        let dir = tree(&["{odd.log"]);
        let args = [
            "a.log".to_owned(),
            "logs/{a,b.log".to_owned(),
            "logs/*.log".to_owned(),
            "logs/[a.log".to_owned(),
            // A file whose name looks like a bad glob is a path.
            format!("{}/{{odd.log", dir.path().display()),
        ];
        let bad: Vec<String> = check_args(&args).into_iter().map(|e| e.pattern).collect();
        assert_eq!(bad, ["logs/{a,b.log", "logs/[a.log"]);
    }

    #[test]
    fn arguments_expand_and_what_matches_nothing_stays() {
        let dir = tree(&["a.log", "b.log", "c.txt"]);
        let d = dir.path().display();
        let out = expand_args(&[
            format!("{d}/{{a,b}}.log"),
            format!("{d}/none*"),
            format!("{d}/c.txt"),
        ]);
        assert_eq!(
            out,
            [
                dir.path().join("a.log"),
                dir.path().join("b.log"),
                PathBuf::from(format!("{d}/none*")),
                dir.path().join("c.txt"),
            ]
        );
    }
}
