//! What to follow: paths and globs given by the user, expanded to the
//! regular files they name right now, each with its identity.
//!
//! Expansion happens on every poll, so files that start to match a glob while
//! `watch` runs are picked up. A symlink is followed: the identity is that of
//! the file it points to. Nothing here opens a file for reading.
//!
//! An argument that names an existing path is that path, whatever
//! characters its name holds (`app[1].log`, as `scan` reads it:
//! [`crate::glob::expand_args`]); only an argument naming nothing at start
//! and holding one of `*?[{` is a glob, and then its exact name is followed
//! too, should a file appear under it later.

use std::{
    fs, io,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use crate::glob::Pattern;
pub use crate::model::FileKey;

/// One thing the user asked to follow.
#[derive(Debug, Clone)]
pub enum Target {
    /// A path, followed whether or not it exists yet.
    Path(PathBuf),
    /// A glob pattern (`*`, `?`, `[...]`, `**`, `{a,b}`: [`crate::glob`]),
    /// and the file of its exact name: `app[1].log` created after `watch`
    /// started is the file meant, not a name the glob matches (`app1.log`).
    Glob(String),
}

impl Target {
    /// An existing path is that path; otherwise one with glob characters
    /// is a glob; anything else a path (followed once it appears).
    pub fn parse(arg: &str) -> Target {
        if crate::glob::is_glob(arg) && !Path::new(arg).exists() {
            Target::Glob(arg.to_owned())
        } else {
            Target::Path(PathBuf::from(arg))
        }
    }

    /// Whether this target names `path` (in [`normal`] form).
    pub fn names(&self, path: &Path) -> bool {
        match self {
            Target::Path(target) => normal(target) == path,
            Target::Glob(pattern) => {
                normal(Path::new(pattern)) == path
                    || Pattern::cached(pattern).is_ok_and(|p| p.matches(path))
            }
        }
    }

    /// The directory to watch for changes, and whether recursively.
    pub fn watch_dir(&self) -> (PathBuf, bool) {
        match self {
            Target::Path(path) => (parent(path), false),
            Target::Glob(pattern) => match Pattern::cached(pattern) {
                Ok(pattern) => (pattern.base().to_path_buf(), pattern.recursive()),
                // Nothing matches it (`expand` says why).
                Err(_) => (PathBuf::from("."), false),
            },
        }
    }
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A regular file that a target names now.
#[derive(Debug, Clone)]
pub struct Found {
    /// The name it was found under.
    pub path: PathBuf,
    /// Its identity (of the symlink's target, for a symlink).
    pub key: FileKey,
    /// Its size.
    pub len: u64,
    /// Its size and change times when it was listed: a file whose stamp
    /// has not changed since it was read has nothing new.
    pub stamp: Stamp,
}

/// Size, mtime and ctime (nanoseconds): what changes when a file is
/// written, truncated or replaced in place.
pub type Stamp = (u64, i64, i64);

/// The [`Stamp`] of a file's metadata.
pub fn stamp(meta: &fs::Metadata) -> Stamp {
    (
        meta.len(),
        meta.mtime()
            .wrapping_mul(1_000_000_000)
            .wrapping_add(meta.mtime_nsec()),
        meta.ctime()
            .wrapping_mul(1_000_000_000)
            .wrapping_add(meta.ctime_nsec()),
    )
}

/// Files found so far, and their identities (each file once, whatever
/// names it has).
#[derive(Default)]
struct Listing {
    found: Vec<Found>,
    keys: std::collections::HashSet<FileKey>,
}

/// Adds `path` to `found` when it is a regular file not found already
/// (by identity); errors other than "not found" go to `errors`.
fn add(listing: &mut Listing, path: PathBuf, errors: &mut Vec<(PathBuf, io::Error)>) {
    match fs::metadata(&path) {
        Ok(meta) if meta.is_file() => {
            let key = FileKey::of(&meta);
            if listing.keys.insert(key) {
                listing.found.push(Found {
                    path,
                    key,
                    len: meta.len(),
                    stamp: stamp(&meta),
                });
            }
        }
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => errors.push((path, err)),
    }
}

/// The files among `paths` (named by change events) that a target names:
/// what [`expand`] would find of them, without listing any directory.
pub fn expand_some<'p>(
    targets: &[Target],
    paths: impl IntoIterator<Item = &'p PathBuf>,
    errors: &mut Vec<(PathBuf, io::Error)>,
) -> Vec<Found> {
    let mut listing = Listing::default();
    for path in paths {
        if targets.iter().any(|t| t.names(path)) {
            add(&mut listing, path.clone(), errors);
        }
    }
    listing.found
}

/// `path` without leading `./` components: the form listings and change
/// events are compared in.
pub fn normal(path: &Path) -> PathBuf {
    let mut components = path.components().peekable();
    while components.peek() == Some(&std::path::Component::CurDir) {
        components.next();
    }
    let normal: PathBuf = components.collect();
    if normal.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        normal
    }
}

/// Expands every target; a path that does not exist is skipped (it may
/// appear later). Errors other than "not found" are returned per path.
pub fn expand(targets: &[Target], errors: &mut Vec<(PathBuf, io::Error)>) -> Vec<Found> {
    let mut listing = Listing::default();
    let mut add = |path: PathBuf, errors: &mut Vec<(PathBuf, io::Error)>| {
        add(&mut listing, normal(&path), errors);
    };
    for target in targets {
        match target {
            Target::Path(path) => add(path.clone(), errors),
            // A glob matches as a shell's does: `*` stays within one
            // directory and does not match a leading dot (`logs/*/*.log` is
            // not `logs/.triage/ui.log`, triage's own log).
            Target::Glob(pattern) => match Pattern::cached(pattern) {
                Ok(compiled) => {
                    // Its exact name first: a file of that name is the
                    // one meant (its directory is under the glob's base).
                    // Only a probe: that no such file can be (`app.log/*.gz`
                    // with `app.log` a file) is no error of the glob's.
                    add(PathBuf::from(pattern), &mut Vec::new());
                    for path in compiled.paths() {
                        add(path, errors);
                    }
                }
                Err(err) => errors.push((
                    PathBuf::from(pattern),
                    io::Error::new(io::ErrorKind::InvalidInput, err.why),
                )),
            },
        }
    }
    listing.found
}

/// Looks in `dir` for a regular file with identity `key` (a file renamed
/// to a name no target matches).
pub fn find_in_dir(dir: &Path, key: FileKey) -> Option<PathBuf> {
    fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .find_map(|entry| {
            let meta = entry.metadata().ok()?;
            (meta.is_file() && FileKey::of(&meta) == key).then(|| entry.path())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_globs_own_name_that_cannot_be_a_file_is_no_error() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("app.log");
        fs::write(&file, "x\n").expect("written");
        let glob = format!("{}/*.gz", file.display());
        let mut errors = Vec::new();
        assert!(expand(&[Target::parse(&glob)], &mut errors).is_empty());
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn targets_and_their_watch_dirs() {
        assert!(matches!(Target::parse("/var/log/app.log"), Target::Path(_)));
        assert!(matches!(Target::parse("/var/log/*.log"), Target::Glob(_)));
        assert_eq!(
            Target::parse("/var/log/app.log").watch_dir(),
            (PathBuf::from("/var/log"), false)
        );
        assert_eq!(
            Target::parse("app.log").watch_dir(),
            (PathBuf::from("."), false)
        );
        assert_eq!(
            Target::parse("/var/log/*.log").watch_dir(),
            (PathBuf::from("/var/log"), false)
        );
        assert_eq!(
            Target::parse("/var/log/**/*.log").watch_dir(),
            (PathBuf::from("/var/log"), true)
        );
        assert_eq!(
            Target::parse("logs/*/x.log").watch_dir(),
            (PathBuf::from("logs"), true)
        );
    }

    #[test]
    fn an_existing_path_is_that_path_whatever_its_name_holds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let literal = dir.path().join("app[1].log");
        let matched = dir.path().join("app1.log");
        let arg = literal.display().to_string();
        fs::write(&matched, "x\n").expect("write");
        // Not there yet: a glob, which also names its exact name.
        let target = Target::parse(&arg);
        assert!(matches!(target, Target::Glob(_)), "{target:?}");
        assert!(target.names(&normal(&matched)));
        assert!(target.names(&normal(&literal)));
        assert!(!target.names(&normal(&dir.path().join("app2.log"))));
        assert_eq!(target.watch_dir(), (dir.path().to_path_buf(), false));
        let mut errors = Vec::new();
        let paths = |target: &Target, errors: &mut Vec<_>| -> Vec<PathBuf> {
            expand(std::slice::from_ref(target), errors)
                .into_iter()
                .map(|f| f.path)
                .collect()
        };
        assert_eq!(paths(&target, &mut errors), [normal(&matched)]);
        // Created later under its exact name: followed, beside what the
        // glob matches.
        fs::write(&literal, "x\n").expect("write");
        assert_eq!(
            paths(&target, &mut errors),
            [normal(&literal), normal(&matched)]
        );
        assert!(errors.is_empty(), "{errors:?}");
        // There at start: that file only.
        let target = Target::parse(&arg);
        assert!(
            matches!(&target, Target::Path(p) if *p == literal),
            "{target:?}"
        );
        assert!(!target.names(&normal(&matched)));
        assert_eq!(paths(&target, &mut errors), [normal(&literal)]);
        // Escaped, the glob names the literal name only (README).
        let escaped = Target::parse(&format!("{}/app\\[1\\].log", dir.path().display()));
        assert!(matches!(escaped, Target::Glob(_)), "{escaped:?}");
        assert!(escaped.names(&normal(&literal)));
        assert!(!escaped.names(&normal(&matched)));
        assert_eq!(paths(&escaped, &mut errors), [normal(&literal)]);
    }

    #[test]
    fn a_star_matches_no_hidden_file_or_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let logs = dir.path().join("logs");
        for file in ["app/a.log", ".triage/ui.log", "app/.b.log"] {
            let path = logs.join(file);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(&path, "x\n").expect("write");
        }
        let target = Target::parse(&format!("{}/*/*.log", logs.display()));
        let mut errors = Vec::new();
        let found: Vec<PathBuf> = expand(std::slice::from_ref(&target), &mut errors)
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(found, [normal(&logs.join("app/a.log"))]);
        assert!(!target.names(&normal(&logs.join(".triage/ui.log"))));
        assert!(target.names(&normal(&logs.join("app/a.log"))));
        // Named with its dot, it is matched.
        let hidden = Target::parse(&format!("{}/.triage/*.log", logs.display()));
        assert_eq!(expand(&[hidden], &mut errors).len(), 1);
    }

    #[test]
    fn expansion_follows_symlinks_and_dedupes_by_identity() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.log");
        fs::write(&a, "x\n").expect("write");
        std::os::unix::fs::symlink(&a, dir.path().join("current.log")).expect("symlink");
        fs::create_dir(dir.path().join("sub.log")).expect("dir");
        let mut errors = Vec::new();
        let glob = format!("{}/*.log", dir.path().display());
        let found = expand(
            &[
                Target::Glob(glob),
                Target::Path(dir.path().join("missing.log")),
            ],
            &mut errors,
        );
        assert!(errors.is_empty());
        assert_eq!(found.len(), 1, "{found:?}");
        let key = found[0].key;
        assert_eq!(find_in_dir(dir.path(), key), Some(a));
    }
}
