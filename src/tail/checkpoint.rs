//! Where each followed file was read up to, persisted so that a restarted
//! `watch` resumes exactly there: the checkpoint's file (its data is plain
//! data in `model::checkpoint`).
//!
//! A versioned JSON file written atomically: a temporary file in the same
//! directory, fsync'd, renamed over the old one, and the directory fsync'd.
//! A crash leaves either the old checkpoint or the new one, never a mix.
//! (When the index exists, the checkpoint travels in its commit payload
//! instead.)

use std::{
    fs::{self, File},
    io::{self, Write},
    path::{Path, PathBuf},
};

pub use crate::model::checkpoint::{Checkpoint, FileCheckpoint, Fingerprint, VERSION};

impl Checkpoint {
    /// Reads a checkpoint file; a missing file is an empty checkpoint.
    pub fn load(path: &Path) -> io::Result<Checkpoint> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Checkpoint::default()),
            Err(err) => return Err(err),
        };
        let checkpoint: Checkpoint = serde_json::from_str(&text).map_err(|err| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a triage checkpoint: {err}", path.display()),
            )
        })?;
        if checkpoint.version != VERSION {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: checkpoint format version {} is not {VERSION}; move it away to start over",
                    path.display(),
                    checkpoint.version
                ),
            ));
        }
        Ok(checkpoint)
    }

    /// Writes the checkpoint atomically.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let dir = super::discover::parent(path);
        fs::create_dir_all(&dir)?;
        let tmp: PathBuf = path.with_extension("json.tmp");
        let mut file = File::create(&tmp)?;
        let mut body = serde_json::to_vec(&Checkpoint {
            version: VERSION,
            files: self.files.clone(),
            taken_ns: self.taken_ns,
        })
        .map_err(io::Error::other)?;
        body.push(b'\n');
        file.write_all(&body)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        File::open(&dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_versions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state/tail.json");
        assert_eq!(
            Checkpoint::load(&path).expect("missing is empty"),
            Checkpoint::default()
        );
        let checkpoint = Checkpoint {
            version: VERSION,
            files: vec![FileCheckpoint {
                dev: 1,
                ino: 2,
                fingerprint: Fingerprint::of(b"abc"),
                offset: 10,
                line_no: 3,
                path: PathBuf::from("/var/log/a.log"),
                from_offset: 0,
                from_line: 1,
                link: None,
                head: Vec::new(),
                alerted: 25,
            }],
            taken_ns: Some(1_796_000_000_000_000_000),
        };
        checkpoint.save(&path).expect("save");
        assert_eq!(Checkpoint::load(&path).expect("load"), checkpoint);
        fs::write(&path, r#"{"version":99,"files":[]}"#).expect("write");
        let err = Checkpoint::load(&path).expect_err("version");
        assert!(err.to_string().contains("version 99"), "{err}");
        fs::write(&path, "garbage").expect("write");
        assert!(Checkpoint::load(&path).is_err());
    }
}
