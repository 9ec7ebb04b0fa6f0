//! `triage reindex`, the plan: which log files to rebuild the index from.
//!
//! Every file the index has events from (by identity, as its documents say)
//! is looked for: under the names its events were read under, by identity in
//! their directories (a rotation renamed it), then by content (its first
//! bytes, decompressed: a rotation compressed it) among the files of those
//! directories whose names start like its own. Files the last commit lists
//! are added. What cannot be found is reported with its event count, so a
//! rebuild never shrinks the index silently. Wiring only: the index says
//! what it holds, `tail` finds and identifies files.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use crate::{
    index::{IndexError, State, files::IndexedFile},
    tail::{
        checkpoint::Fingerprint,
        discover::{self, FileKey},
        read::content_starts_with,
    },
};

/// What to rebuild from.
#[derive(Debug, Default)]
pub struct Plan {
    /// The files to read, each once.
    pub paths: Vec<PathBuf>,
    /// Files the index has events from that cannot be found.
    pub missing: Vec<IndexedFile>,
    /// Events the index holds.
    pub events: u64,
}

impl Plan {
    /// Events of the files that cannot be found.
    pub fn missing_events(&self) -> u64 {
        self.missing.iter().map(|f| f.events).sum()
    }
}

/// The plan for an index holding `files`, whose last commit is `state`.
pub fn plan(files: Vec<IndexedFile>, state: &State) -> Plan {
    let mut plan = Plan::default();
    let mut paths = BTreeSet::new();
    for file in files {
        plan.events += file.events;
        let fingerprints = fingerprints_of(state, file.key);
        match locate(&file, &fingerprints) {
            Some(path) => {
                paths.insert(path);
            }
            None => plan.missing.push(file),
        }
    }
    // Files the last commit lists that hold no event yet (still empty).
    for path in state.paths() {
        if fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            paths.insert(path);
        }
    }
    plan.paths = paths.into_iter().collect();
    plan
}

/// The plan when the index cannot be read (damaged, or of another
/// version): the files its last commit lists.
pub fn plan_from_commit(paths: Vec<PathBuf>) -> Plan {
    Plan {
        paths,
        ..Plan::default()
    }
}

/// What the last commit knows of a content's first bytes, by identity.
fn fingerprints_of(state: &State, key: FileKey) -> Vec<Fingerprint> {
    state
        .ingested
        .iter()
        .filter(|i| i.key() == key)
        .map(|i| i.fingerprint)
        .chain(
            state
                .tail
                .files
                .iter()
                .filter(|f| f.key() == key)
                .map(|f| f.fingerprint),
        )
        .filter(|fp| fp.len > 0)
        .collect()
}

/// Where the file with `file`'s identity (or, failing that, its content)
/// is now.
fn locate(file: &IndexedFile, fingerprints: &[Fingerprint]) -> Option<PathBuf> {
    let same = |path: &Path| fs::metadata(path).is_ok_and(|m| FileKey::of(&m) == file.key);
    if let Some(name) = file.names.iter().find(|name| same(name)) {
        return Some(name.clone());
    }
    let dirs: BTreeSet<PathBuf> = file.names.iter().map(|n| discover::parent(n)).collect();
    if let Some(path) = dirs
        .iter()
        .find_map(|dir| discover::find_in_dir(dir, file.key))
    {
        return Some(path);
    }
    // Rotated and compressed (or copied): a sibling whose name starts like
    // one of the file's names and whose content starts with its first bytes.
    for name in &file.names {
        let Some(stem) = name.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let Ok(entries) = fs::read_dir(discover::parent(name)) else {
            continue;
        };
        let mut siblings: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&stem))
            })
            .collect();
        siblings.sort();
        let found = siblings.into_iter().find(|path| {
            fingerprints
                .iter()
                .any(|fp| content_starts_with(path, *fp).unwrap_or(false))
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Why a rebuild would lose events: what cannot be found, for a person.
pub fn describe_missing(plan: &Plan) -> String {
    let mut text = format!(
        "{} of the index's {} events come from files that cannot be found:",
        plan.missing_events(),
        plan.events
    );
    for file in &plan.missing {
        let names: Vec<String> = file
            .names
            .iter()
            .map(|n| crate::sanitize::for_terminal(&n.display().to_string()).into_owned())
            .collect();
        text.push_str(&format!(
            "\n  {} events from {} (device {}, inode {})",
            file.events,
            names.join(", "),
            file.key.dev,
            file.key.ino
        ));
    }
    text
}

/// Reads the plan for the index at `index` (its documents and last commit),
/// or, when they cannot be read, from what its commit lists.
pub fn plan_for(index: &Path) -> Result<Plan, IndexError> {
    match (
        crate::index::files::indexed_files(index),
        crate::index::Store::open(index, false).and_then(|s| s.state()),
    ) {
        (Ok(files), Ok(state)) => Ok(plan(files, &state)),
        _ => crate::index::recorded_paths(index).map(plan_from_commit),
    }
}
