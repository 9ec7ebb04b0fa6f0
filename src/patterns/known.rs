//! The problem templates a data directory already knows
//! (`<data-dir>/known-problems`): one template id per line, appended when
//! `watch` raises `new-problem` for it, read when it starts, so a template
//! is new once per data directory, not once per run.
//!
//! Owns that file. Must not: read logs. A damaged line is skipped (the
//! worst outcome is one more `new-problem` alert).

use std::{
    collections::HashSet,
    fs,
    io::{self, Write},
    path::Path,
};

use crate::parse::template::TemplateId;

/// The file's name in the data directory.
pub const KNOWN_FILE: &str = "known-problems";

/// The ids in the data directory's file (none when it does not exist).
pub fn load(data_dir: &Path) -> io::Result<HashSet<TemplateId>> {
    match fs::read_to_string(data_dir.join(KNOWN_FILE)) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|line| u64::from_str_radix(line.trim(), 16).ok())
            .map(TemplateId)
            .collect()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(HashSet::new()),
        Err(err) => Err(err),
    }
}

/// Appends an id to the data directory's file.
pub fn append(data_dir: &Path, id: &str) -> io::Result<()> {
    fs::create_dir_all(data_dir)?;
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join(KNOWN_FILE))?;
    writeln!(file, "{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_ids_are_known_after() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(load(dir.path()).expect("load").is_empty());
        append(dir.path(), "0123456789ab").expect("append");
        append(dir.path(), "not an id").expect("append");
        let known = load(dir.path()).expect("load");
        assert_eq!(known.len(), 1);
        assert!(known.contains(&TemplateId(0x0123_4567_89ab)));
    }
}
