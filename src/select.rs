//! Which files under a directory given to `ingest` are logs: by name
//! (`*.log`, rotations such as `app.log.1` and `syslog.2.gz`, names with no
//! extension such as `messages`; not documents, data, code, configuration,
//! images or archives of other things), with `--include`/`--exclude` globs
//! over the name or the path deciding first. Files named on the command
//! line, and globs, are taken as given.
//!
//! Lists directories, never opens a file (only `tail` opens log files).

use std::{
    fs,
    path::{Path, PathBuf},
};

use globset::{Glob, GlobSet, GlobSetBuilder};
use walkdir::WalkDir;

/// Extensions of files that are not logs.
const NOT_LOGS: &[&str] = &[
    "md",
    "markdown",
    "rst",
    "adoc",
    "csv",
    "tsv",
    "json",
    "toml",
    "yaml",
    "yml",
    "xml",
    "html",
    "htm",
    "css",
    "js",
    "ts",
    "rs",
    "py",
    "rb",
    "go",
    "java",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "sh",
    "bash",
    "zsh",
    "bat",
    "ps1",
    "ini",
    "cfg",
    "conf",
    "properties",
    "lock",
    "pid",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "ico",
    "webp",
    "pdf",
    "doc",
    "docx",
    "xls",
    "xlsx",
    "ppt",
    "zip",
    "tar",
    "tgz",
    "7z",
    "rar",
    "jar",
    "war",
    "class",
    "so",
    "o",
    "a",
    "dll",
    "exe",
    "bin",
    "db",
    "sqlite",
    "pyc",
    "swp",
    "orig",
    "patch",
    "diff",
    "sql",
    "proto",
    "mod",
    "sum",
    "tf",
    "pem",
    "crt",
    "key",
    "gpg",
    "sig",
];

/// Names (without extension, any case) of files that are not logs.
const NOT_LOG_NAMES: &[&str] = &[
    "readme",
    "license",
    "licence",
    "copying",
    "notice",
    "authors",
    "changelog",
    "changes",
    "makefile",
    "dockerfile",
    "cargo",
    "package",
];

/// Files that mark a directory as triage's own state (a data directory, an
/// index), never read as logs.
const STATE_FILES: &[&str] = &[".managed.json", "journal.head", "watch.lock"];

/// Suffixes a compressed or rotated log may end with.
const COMPRESSED: &[&str] = &["gz", "bz2", "zst", "zstd", "xz"];

/// Whether a file called `name` looks like a log.
pub fn looks_like_log(name: &str) -> bool {
    if name.starts_with('.') {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split('.').collect();
    // `app.log.2.gz`: drop the compression, then rotation numbers.
    if parts.len() > 1 && parts.last().is_some_and(|p| COMPRESSED.contains(p)) {
        parts.pop();
    }
    while parts.len() > 1
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
    {
        parts.pop();
    }
    let stem = parts[0];
    if NOT_LOG_NAMES.contains(&stem) {
        return false;
    }
    match parts.last() {
        Some(ext) if parts.len() > 1 => !NOT_LOGS.contains(ext),
        _ => true,
    }
}

/// What `ingest` takes from the paths given, and what it left out.
#[derive(Debug, Default)]
pub struct Selection {
    /// Files, and globs as given.
    pub paths: Vec<PathBuf>,
    /// Files under directories that do not look like logs (or `--exclude`d).
    pub skipped: Vec<PathBuf>,
}

fn globs(patterns: &[String], what: &str) -> Result<GlobSet, String> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        set.add(Glob::new(p).map_err(|e| format!("{what} `{p}`: {e}"))?);
    }
    set.build().map_err(|e| format!("{what}: {e}"))
}

/// The files of `paths`: directories walked (sorted; `data_dir`, triage's
/// own state, left out), their files taken when `--include` matches them,
/// or else when they look like logs and `--exclude` does not match them.
/// Files and globs given are kept.
pub fn select(
    paths: &[PathBuf],
    include: &[String],
    exclude: &[String],
    data_dir: &Path,
) -> Result<Selection, String> {
    let own = fs::canonicalize(data_dir).ok();
    let include = globs(include, "--include")?;
    let exclude = globs(exclude, "--exclude")?;
    let matches = |set: &GlobSet, path: &Path| {
        set.is_match(path) || path.file_name().is_some_and(|n| set.is_match(n))
    };
    let mut out = Selection::default();
    for path in paths {
        if !path.is_dir() {
            out.paths.push(path.clone());
            continue;
        }
        // Depth first, in sorted order, as the ingest itself walks; triage's
        // own data directories are not entered.
        let walk = WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                !e.file_type().is_dir()
                    || !(own
                        .as_ref()
                        .is_some_and(|own| fs::canonicalize(e.path()).ok().as_ref() == Some(own))
                        || STATE_FILES.iter().any(|f| e.path().join(f).exists()))
            });
        for entry in walk {
            let p = match entry {
                Ok(e) if e.file_type().is_dir() => continue,
                Ok(e) => e.into_path(),
                Err(err) => {
                    // The ingest reports what it cannot read.
                    out.paths.push(err.path().unwrap_or(path).to_path_buf());
                    continue;
                }
            };
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if matches(&include, &p) || (looks_like_log(&name) && !matches(&exclude, &p)) {
                out.paths.push(p);
            } else {
                out.skipped.push(p);
            }
        }
    }
    out.skipped.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_names() {
        for name in [
            "app.log",
            "app.log.1",
            "syslog.2.gz",
            "messages",
            "kern.log.3.zst",
            "access.log-20261121",
            "catalina.out",
            "events.jsonl",
            "postgresql-2026-11-21_000000.log",
            "daemon",
        ] {
            assert!(looks_like_log(name), "{name}");
        }
        for name in [
            "README.md",
            "README",
            "LICENSE",
            "data.csv",
            "report.json",
            "config.yaml",
            ".hidden.log",
            "image.png",
            "notes.md.gz",
            "Cargo.toml",
        ] {
            assert!(!looks_like_log(name), "{name}");
        }
    }
}
