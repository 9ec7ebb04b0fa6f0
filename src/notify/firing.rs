//! What the outputs were told is firing, kept across restarts in
//! `<data-dir>/notify/firing.json`: per output, per dedup key, the
//! signature and key, its last hit and (Alertmanager) the alerts being
//! re-sent. A `watch` started again (after a stop or a `kill -9`) loads it,
//! goes on re-sending to Alertmanager, resolves what stays quiet for the
//! signature's `clear_after`, and still knows which PagerDuty keys an
//! incident's acknowledgement or resolution is about.
//!
//! Also the incident cursor, `<data-dir>/notify/incidents.json`: per
//! output, the last journal event handed to its outbox (so events written
//! while no `watch` ran go out once when one starts, and never twice).
//!
//! Both files are written whole and atomically (temporary file, fsync,
//! rename, directory fsync). Plain data and file I/O only: no network, no
//! clock (times are arguments).

use std::{
    collections::BTreeMap,
    fs::{self, File},
    io::{self, Write},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::Captures;

/// The directory of the notifier's state in the data directory.
pub const DIR: &str = "notify";
/// The firing state's file in [`DIR`].
pub const FIRING_FILE: &str = "firing.json";
/// The incident cursor's file in [`DIR`].
pub const CURSOR_FILE: &str = "incidents.json";
const VERSION: u32 = 1;

/// One Alertmanager alert being re-sent until it clears (one per source
/// the key fired in).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Resent {
    /// The alert as last sent.
    pub body: Value,
    /// The file it fired in.
    pub source: String,
    /// When it was last sent (milliseconds since the Unix epoch).
    pub last_sent_ms: i64,
}

/// An alert an output was sent and not yet told is over.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// The signature's id.
    pub signature: String,
    /// The alert's key.
    pub key: Captures,
    /// Its last hit known (milliseconds since the Unix epoch).
    pub last_hit_ms: i64,
    /// Alertmanager: the alerts re-sent while it fires.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resent: Vec<Resent>,
    /// Loaded from a previous run: the detection engine does not know it
    /// (until it fires again), so the notifier resolves it itself.
    #[serde(skip)]
    pub restored: bool,
}

/// Per output name, per dedup key.
pub type Firing = BTreeMap<String, BTreeMap<String, Record>>;

#[derive(Serialize, Deserialize)]
struct FiringFile {
    version: u32,
    outputs: Firing,
}

#[derive(Serialize, Deserialize)]
struct CursorFile {
    version: u32,
    /// Per output: the last journal sequence number handed to its outbox.
    outputs: BTreeMap<String, u64>,
}

/// Why the state cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct StateError {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub source: io::Error,
}

fn err(path: &Path) -> impl FnOnce(io::Error) -> StateError + '_ {
    move |source| StateError {
        path: path.display().to_string(),
        source,
    }
}

/// The notifier's state files of one data directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The state in `data_dir` (nothing is created until written).
    pub fn new(data_dir: &Path) -> Store {
        Store {
            dir: data_dir.join(DIR),
        }
    }

    /// The firing state (empty when there is none yet), every record
    /// marked restored.
    pub fn load_firing(&self) -> Result<Firing, StateError> {
        let Some(file) = self.read::<FiringFile>(FIRING_FILE)? else {
            return Ok(Firing::new());
        };
        let mut firing = file.outputs;
        for record in firing.values_mut().flat_map(BTreeMap::values_mut) {
            record.restored = true;
        }
        Ok(firing)
    }

    /// Replaces the firing state.
    pub fn save_firing(&self, firing: &Firing) -> Result<(), StateError> {
        self.write(
            FIRING_FILE,
            &FiringFile {
                version: VERSION,
                outputs: firing.clone(),
            },
        )
    }

    /// The incident cursor: per output, the last journal event handed to
    /// its outbox.
    pub fn load_cursor(&self) -> Result<BTreeMap<String, u64>, StateError> {
        Ok(self
            .read::<CursorFile>(CURSOR_FILE)?
            .map(|f| f.outputs)
            .unwrap_or_default())
    }

    /// Replaces the incident cursor.
    pub fn save_cursor(&self, cursor: &BTreeMap<String, u64>) -> Result<(), StateError> {
        self.write(
            CURSOR_FILE,
            &CursorFile {
                version: VERSION,
                outputs: cursor.clone(),
            },
        )
    }

    fn read<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<Option<T>, StateError> {
        let path = self.dir.join(name);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(err(&path)(e)),
        };
        let version: Option<u32> = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["version"].as_u64())
            .and_then(|v| u32::try_from(v).ok());
        if version != Some(VERSION) {
            return Err(err(&path)(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not a version {VERSION} file of triage's notifier"),
            )));
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| err(&path)(io::Error::new(io::ErrorKind::InvalidData, e)))
    }

    fn write<T: Serialize>(&self, name: &str, value: &T) -> Result<(), StateError> {
        fs::create_dir_all(&self.dir).map_err(err(&self.dir))?;
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let mut bytes = serde_json::to_vec(value).map_err(|e| err(&path)(io::Error::other(e)))?;
        bytes.push(b'\n');
        let mut file = File::create(&tmp).map_err(err(&tmp))?;
        file.write_all(&bytes).map_err(err(&tmp))?;
        file.sync_data().map_err(err(&tmp))?;
        fs::rename(&tmp, &path).map_err(err(&path))?;
        // The rename itself (the directory is triage's own).
        File::options()
            .read(true)
            .open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(err(&self.dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(last_hit_ms: i64) -> Record {
        Record {
            signature: "disk-full".to_owned(),
            key: vec![("mount".to_owned(), "/var".to_owned())],
            last_hit_ms,
            resent: vec![Resent {
                body: serde_json::json!({"labels": {"alertname": "disk-full"}}),
                source: "app.log".to_owned(),
                last_sent_ms: 5,
            }],
            restored: false,
        }
    }

    #[test]
    fn firing_and_cursor_come_back_and_records_are_restored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path());
        assert!(store.load_firing().expect("empty").is_empty());
        assert!(store.load_cursor().expect("empty").is_empty());
        let mut firing = Firing::new();
        firing
            .entry("oncall".to_owned())
            .or_default()
            .insert("triage/disk-full/mount=/var".to_owned(), record(7));
        store.save_firing(&firing).expect("save");
        store.save_firing(&firing).expect("save again");
        let loaded = store.load_firing().expect("load");
        let back = &loaded["oncall"]["triage/disk-full/mount=/var"];
        assert!(back.restored);
        assert_eq!(
            Record {
                restored: false,
                ..back.clone()
            },
            record(7)
        );
        store
            .save_cursor(&BTreeMap::from([("chat".to_owned(), 42)]))
            .expect("cursor");
        assert_eq!(store.load_cursor().expect("cursor")["chat"], 42);
        assert!(!dir.path().join("notify/.firing.json.tmp").exists());
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join(DIR)).expect("mkdir");
        fs::write(dir.path().join(DIR).join(FIRING_FILE), "{\"outp").expect("write");
        let err = Store::new(dir.path()).load_firing().expect_err("damaged");
        assert!(err.to_string().contains("firing.json"), "{err}");
    }
}
