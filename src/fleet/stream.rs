//! The fleet's JetStream stream: created by triage with the settings it
//! needs, and checked (never changed) when it exists.
//!
//! One stream (`<PREFIX>`, e.g. `TRIAGE`) holds `<prefix>.*.events` and
//! `<prefix>.*.alerts`: file storage, a configurable replica count (R3 for
//! a cluster), a duplicate window longer than an agent retries (so a
//! message sent again after a crash or an outage is dropped by the server),
//! retention by age and by size. A stream whose settings differ is
//! reported with each difference; triage does not touch it.

use std::time::Duration;

use async_nats::jetstream::{
    self,
    stream::{Config, DiscardPolicy, RetentionPolicy, StorageType},
};

use super::{FleetError, Settings};

/// What the stream must look like.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// Replicas (1, or 3 for a three-node cluster).
    pub replicas: usize,
    /// Messages older than this are removed.
    pub max_age: Duration,
    /// The stream keeps at most this many bytes (oldest removed first).
    pub max_bytes: i64,
    /// A message id seen within this window is a duplicate.
    pub duplicate_window: Duration,
}

impl Default for Wanted {
    fn default() -> Wanted {
        Wanted {
            replicas: 1,
            max_age: Duration::from_secs(7 * 24 * 3600),
            max_bytes: 8 << 30,
            duplicate_window: Duration::from_secs(2 * 3600),
        }
    }
}

/// The stream's configuration for `settings`.
pub fn config(settings: &Settings, wanted: &Wanted) -> Config {
    Config {
        name: settings.stream_name(),
        subjects: subjects(settings),
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        discard: DiscardPolicy::Old,
        num_replicas: wanted.replicas,
        max_age: wanted.max_age,
        max_bytes: wanted.max_bytes,
        duplicate_window: wanted.duplicate_window,
        description: Some("triage: the fleet's events, alerts and clears".to_owned()),
        ..Config::default()
    }
}

fn subjects(settings: &Settings) -> Vec<String> {
    vec![
        format!("{}.*.events", settings.prefix),
        format!("{}.*.alerts", settings.prefix),
    ]
}

/// What differs between the stream as it is and as it should be (empty:
/// fine). With `all` false only what triage depends on (subjects, storage,
/// retention, a long enough duplicate window); replicas and limits are the
/// operator's to choose once the stream exists. Pure.
pub fn differences(have: &Config, want: &Config, all: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut have_subjects = have.subjects.clone();
    let mut want_subjects = want.subjects.clone();
    have_subjects.sort();
    want_subjects.sort();
    if have_subjects != want_subjects {
        out.push(format!(
            "subjects are {:?}, triage needs {:?}",
            have.subjects, want.subjects
        ));
    }
    if have.storage != want.storage {
        out.push(format!(
            "storage is {:?}, triage needs file storage",
            have.storage
        ));
    }
    if have.retention != want.retention {
        out.push(format!(
            "retention is {:?}, triage needs limits (the collector reads, it does not consume)",
            have.retention
        ));
    }
    if all && have.num_replicas.max(1) != want.num_replicas.max(1) {
        out.push(format!(
            "{} replica(s), asked for {}",
            have.num_replicas.max(1),
            want.num_replicas.max(1)
        ));
    }
    if have.duplicate_window < want.duplicate_window {
        out.push(format!(
            "duplicate window {}, shorter than the {} agents may resend within",
            human(have.duplicate_window),
            human(want.duplicate_window)
        ));
    }
    if all && have.max_age != want.max_age {
        out.push(format!(
            "max age {}, asked for {}",
            human(have.max_age),
            human(want.max_age)
        ));
    }
    if all && have.max_bytes != want.max_bytes {
        out.push(format!(
            "max bytes {}, asked for {}",
            have.max_bytes, want.max_bytes
        ));
    }
    out
}

fn human(d: Duration) -> String {
    match d.as_secs() {
        0 => "none".to_owned(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Whether the stream was there or made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    /// It was there, with the right settings.
    Checked,
    /// Triage created it.
    Created,
}

/// Creates the stream, or checks the one there (every setting with `all`,
/// else what triage depends on); an error names every setting that differs.
pub async fn ensure(
    js: &jetstream::Context,
    settings: &Settings,
    wanted: &Wanted,
    all: bool,
) -> Result<Ensured, FleetError> {
    let want = config(settings, wanted);
    match js.get_stream(&want.name).await {
        Ok(mut stream) => {
            let info = stream
                .info()
                .await
                .map_err(|err| FleetError::Nats(format!("stream {}: {err}", want.name)))?;
            let diffs = differences(&info.config, &want, all);
            if diffs.is_empty() {
                Ok(Ensured::Checked)
            } else {
                Err(FleetError::Stream(format!(
                    "the stream {} exists with other settings than triage needs (it is left as it is; change it with `nats stream edit`, or pass the settings it has): {}",
                    want.name,
                    diffs.join("; ")
                )))
            }
        }
        Err(err) if is_not_found(&err) => {
            js.create_stream(want.clone()).await.map_err(|err| {
                let text = format!("cannot create the stream {}: {err}", want.name);
                // A stream may not hold more than the servers' disk allows:
                // said at once (asked again, the answer is the same). No
                // peer for it may be a cluster still forming: retried.
                let hint = " (a server may not have room for --max-bytes: pass a smaller one, or give the servers more disk)";
                match err.kind() {
                    jetstream::context::CreateStreamErrorKind::JetStream(js)
                        if js.error_code() == jetstream::ErrorCode::STORAGE_RESOURCES_EXCEEDED =>
                    {
                        FleetError::Stream(format!("{text}{hint}"))
                    }
                    jetstream::context::CreateStreamErrorKind::JetStream(js)
                        if js.error_code() == jetstream::ErrorCode::CLUSTER_NO_PEERS =>
                    {
                        FleetError::Nats(format!("{text}{hint}"))
                    }
                    _ => FleetError::Nats(text),
                }
            })?;
            Ok(Ensured::Created)
        }
        Err(err) => Err(FleetError::Nats(format!("stream {}: {err}", want.name))),
    }
}

fn is_not_found(err: &jetstream::context::GetStreamError) -> bool {
    matches!(
        err.kind(),
        jetstream::context::GetStreamErrorKind::JetStream(js)
            if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}

/// The oldest nats-server release that kept every acknowledged message of
/// a replicated stream through triage's three-node test (each node in turn
/// killed with `kill -9` and restarted while agents publish: 2.10.26 in 50
/// runs, 2.12.8 in 88). 2.9.10, Debian 12's package, lost some in 3 runs of
/// 73: its replicas diverged, two agents' messages were acknowledged with the
/// same stream sequence and one of them was lost.
pub const CLUSTER_TESTED_FROM: (u64, u64, u64) = (2, 10, 26);

/// A warning when a server in a cluster is older than
/// [`CLUSTER_TESTED_FROM`] (`None`: fine, or a version not understood).
/// Pure.
pub fn cluster_caveat(version: &str, clustered: bool) -> Option<String> {
    let mut parts = version.trim_start_matches('v').split(['.', '-']);
    let mut next = || parts.next().and_then(|p| p.parse::<u64>().ok());
    let (major, minor) = (next()?, next()?);
    let patch = next().unwrap_or(0);
    let (a, b, c) = CLUSTER_TESTED_FROM;
    (clustered && (major, minor, patch) < CLUSTER_TESTED_FROM).then(|| {
        format!(
            "nats-server {} is older than {a}.{b}.{c}, the oldest release triage was tested with in a cluster: 2.9.10 lost acknowledged messages there when a node was killed (its replicas diverged); upgrade the servers",
            crate::sanitize::for_terminal(version),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_clustered_servers_are_named() {
        let old = cluster_caveat("2.9.10", true).expect("a warning");
        assert!(
            old.starts_with("nats-server 2.9.10 is older than 2.10.26"),
            "{old}"
        );
        assert!(cluster_caveat("v2.9.25", true).is_some());
        assert!(cluster_caveat("1.4.1", true).is_some());
        assert!(cluster_caveat("2.10", true).is_some());
        assert!(cluster_caveat("2.10.25", true).is_some());
        // A single server has no replicas to diverge.
        assert_eq!(cluster_caveat("2.9.10", false), None);
        for fine in ["2.10.26", "2.11.0", "2.12.8", "2.15.1-RC.1", "3.0.0"] {
            assert_eq!(cluster_caveat(fine, true), None, "{fine}");
        }
        // Not a version: nothing said rather than a guess.
        assert_eq!(cluster_caveat("", true), None);
        assert_eq!(cluster_caveat("dev", true), None);
    }

    #[test]
    fn every_difference_is_named() {
        let settings = Settings::resolve(None, Some("127.0.0.1:1"), None).expect("settings");
        let want = config(&settings, &Wanted::default());
        assert!(differences(&want, &want, true).is_empty());
        let mut have = want.clone();
        have.subjects = vec!["triage.>".into()];
        have.storage = StorageType::Memory;
        have.num_replicas = 3;
        have.duplicate_window = Duration::from_secs(120);
        let diffs = differences(&have, &want, true);
        assert_eq!(diffs.len(), 4, "{diffs:?}");
        assert!(diffs[3].contains("duplicate window 2m, shorter than the 2h"));
        // Replicas are the operator's once the stream exists.
        assert_eq!(differences(&have, &want, false).len(), 3);
        let mut longer = want.clone();
        longer.duplicate_window = Duration::from_secs(86_400);
        assert!(differences(&longer, &want, true).is_empty());
    }
}
