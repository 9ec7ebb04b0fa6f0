//! Many hosts: `triage agent` on each host publishes what it reads and
//! detects to NATS JetStream; `triage collect` indexes the fleet's events
//! and keeps its incident journal in one data directory.
//!
//! Owns the connection settings (`[nats]` in triage.toml, `--nats`), the
//! subjects, and the tokio runtime the NATS client needs: the runtime is
//! created here and never leaves this module tree (the rest of triage is
//! synchronous). `wire` (the messages), `spool` (the agent's on-disk
//! buffer), `agent` (the pipeline sink that publishes), `stream` (creating
//! and checking the stream), `collect` (the consumer that indexes).
//!
//! Must not: open log files (the agent follows through `pipeline` and
//! `tail`), import tantivy (the collector writes through `index`), print a
//! credential.

pub mod agent;
pub mod collect;
pub mod command;
pub mod spool;
pub mod stream;
pub mod tap;
pub mod wire;

use std::{path::PathBuf, time::Duration};

use crate::config::table::Table;
use crate::diag::Diagnostic;

/// The subjects' first token unless `[nats] prefix` says otherwise.
pub const DEFAULT_PREFIX: &str = "triage";

/// Why talking to NATS failed.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// No server given.
    #[error(
        "no NATS server: pass --nats URL (or a comma-separated list), or set `url` in [nats] of triage.toml"
    )]
    NoServer,
    /// A setting is not usable.
    #[error("{0}")]
    Settings(String),
    /// The connection or a JetStream request failed.
    #[error("NATS: {0}")]
    Nats(String),
    /// The stream exists with settings other than asked for, or the servers
    /// refuse it as asked (no room for it).
    #[error("{0}")]
    Stream(String),
    /// Local state (spool, index, journal) failed.
    #[error("{0}")]
    Local(String),
    /// The agent's `watch` failed.
    #[error(transparent)]
    Watch(#[from] crate::watch::WatchError),
}

/// Where the fleet's NATS servers are and how to reach them.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Server URLs (a cluster's: the client fails over between them).
    pub urls: Vec<String>,
    /// A `.creds` file (JWT and NKey seed); never printed.
    pub credentials: Option<PathBuf>,
    /// The CA of the servers' TLS certificates.
    pub tls_ca: Option<PathBuf>,
    /// The subjects' first token.
    pub prefix: String,
    /// This host's name as the agent publishes it.
    pub host: Option<String>,
}

impl Settings {
    /// The settings of `[nats]` with `--nats` (a URL or a comma-separated
    /// list) and `--host` in front.
    pub fn resolve(
        config: Option<&Settings>,
        urls: Option<&str>,
        host: Option<&str>,
    ) -> Result<Settings, FleetError> {
        let mut settings = config.cloned().unwrap_or_else(|| Settings {
            prefix: DEFAULT_PREFIX.to_owned(),
            ..Settings::default()
        });
        if let Some(urls) = urls {
            settings.urls = split_urls(urls);
        }
        if let Some(host) = host {
            settings.host = Some(host.to_owned());
        }
        if settings.urls.is_empty() {
            return Err(FleetError::NoServer);
        }
        if !valid_token(&settings.prefix) {
            return Err(FleetError::Settings(format!(
                "[nats] prefix `{}`: one subject token (letters, digits, - and _)",
                crate::sanitize::for_terminal(&settings.prefix)
            )));
        }
        Ok(settings)
    }

    /// The subject of a host's events.
    pub fn events_subject(&self, host: &str) -> String {
        format!("{}.{}.events", self.prefix, subject_token(host))
    }

    /// The subject of a host's alerts and clears.
    pub fn alerts_subject(&self, host: &str) -> String {
        format!("{}.{}.alerts", self.prefix, subject_token(host))
    }

    /// The stream holding every host's subjects.
    pub fn stream_name(&self) -> String {
        self.prefix.to_uppercase()
    }

    /// The servers, for messages (no credentials are in a URL we print:
    /// user and password are cut out).
    pub fn servers_for_display(&self) -> String {
        self.urls
            .iter()
            .map(|u| crate::sanitize::for_terminal(&without_userinfo(u)).into_owned())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// `nats://a:4222,nats://b:4222` → the URLs (as the `nats` CLI takes them).
pub fn split_urls(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A URL without its `user:password@`.
fn without_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &url[..scheme + 3], &url[at + 1..])
        }
        (None, Some(at)) => url[at + 1..].to_owned(),
        _ => url.to_owned(),
    }
}

/// A subject token: letters, digits, `-` and `_`.
fn valid_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A host name as one subject token: what is not a letter, digit, `-` or
/// `_` (the dots of a domain name) becomes `_`. The message carries the
/// name itself.
pub fn subject_token(host: &str) -> String {
    let token: String = host
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                true => c,
                false => '_',
            },
        )
        .collect();
    match token.is_empty() {
        true => "_".to_owned(),
        false => token,
    }
}

/// This machine's host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`).
pub fn local_host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
}

/// The runtime the NATS client runs on: two worker threads, owned by the
/// caller (the agent's sink, the collector), dropped with it.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, FleetError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("nats")
        .enable_all()
        .build()
        .map_err(|err| FleetError::Local(format!("cannot start the NATS client's threads: {err}")))
}

/// Connects to the servers (retrying until one answers, then failing over
/// between them and those the cluster announces, forever).
pub(crate) async fn connect(
    settings: &Settings,
    name: &str,
) -> Result<async_nats::Client, FleetError> {
    let said: std::sync::Arc<std::sync::Mutex<Option<String>>> = std::sync::Arc::default();
    let mut options = async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2))
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((100 * attempts as u64).min(2_000))
        })
        .event_callback(move |event| {
            let said = std::sync::Arc::clone(&said);
            async move {
                match event {
                    async_nats::Event::Disconnected => tracing::warn!("NATS: disconnected"),
                    async_nats::Event::Connected => {
                        *said.lock().unwrap_or_else(|e| e.into_inner()) = None;
                        tracing::info!("NATS: connected");
                    }
                    // Why connecting fails (refused, TLS, authorization): an
                    // error kind, never a credential; said once while it
                    // lasts, as the client retries.
                    async_nats::Event::ClientError(err) => {
                        let text = err.to_string();
                        let mut said = said.lock().unwrap_or_else(|e| e.into_inner());
                        if said.as_deref() != Some(text.as_str()) {
                            tracing::warn!("NATS: cannot connect: {text}; trying again");
                            *said = Some(text);
                        }
                    }
                    other => tracing::debug!("NATS: {other}"),
                }
            }
        });
    if let Some(path) = &settings.credentials {
        let shown = crate::sanitize::path(path);
        // Read here first so that a missing file is said as such; the
        // contents are never part of a message.
        std::fs::read(path).map(drop).map_err(|err| {
            FleetError::Settings(format!("{shown}: cannot read the credentials: {err}"))
        })?;
        options = options.credentials_file(path).await.map_err(|err| {
            FleetError::Settings(format!(
                "{shown}: not a NATS credentials file (a user JWT and an NKey seed, as `nsc` writes them): {}",
                err.kind()
            ))
        })?;
    }
    if let Some(path) = &settings.tls_ca {
        let shown = crate::sanitize::path(path);
        let pem = std::fs::read(path).map_err(|err| {
            FleetError::Settings(format!("{shown}: cannot read the TLS CA: {err}"))
        })?;
        if memchr::memmem::find(&pem, b"-----BEGIN CERTIFICATE-----").is_none() {
            return Err(FleetError::Settings(format!(
                "{shown}: no PEM certificate in it (the TLS CA of [nats] tls_ca)"
            )));
        }
        options = options
            .add_root_certificates(path.clone())
            .require_tls(true);
    }
    options
        .connect(settings.urls.clone())
        .await
        .map_err(|err| FleetError::Nats(format!("{}: {err}", settings.servers_for_display())))
}

/// Reads `[nats]` of triage.toml: `url` (one or a comma-separated list, or
/// an array), `credentials` and `tls_ca` (files, relative to triage.toml),
/// `prefix`, `host`.
pub fn parse_config(
    table: &Table<'_, '_>,
    base: &std::path::Path,
    diags: &mut Vec<Diagnostic>,
) -> Settings {
    table.check_keys(
        &["url", "credentials", "tls_ca", "prefix", "host"],
        "[nats]",
        diags,
    );
    let mut settings = Settings {
        prefix: DEFAULT_PREFIX.to_owned(),
        ..Settings::default()
    };
    if let Some(field) = table.field("url") {
        match field.value_str() {
            Some(text) => settings.urls = split_urls(text),
            None => {
                if let Some(list) = field.strings(diags) {
                    settings.urls = list.into_iter().flat_map(|(u, _)| split_urls(&u)).collect();
                }
            }
        }
    }
    let file = |key: &str, diags: &mut Vec<Diagnostic>| {
        table
            .field(key)
            .and_then(|f| f.str(diags))
            .map(|p| base.join(p))
    };
    settings.credentials = file("credentials", diags);
    settings.tls_ca = file("tls_ca", diags);
    if let Some(field) = table.field("prefix")
        && let Some(prefix) = field.str(diags)
    {
        if valid_token(prefix) {
            settings.prefix = prefix.to_owned();
        } else {
            diags.push(
                field
                    .loc
                    .error("one subject token: letters, digits, - and _".to_owned()),
            );
        }
    }
    if let Some(field) = table.field("host")
        && let Some(host) = field.str(diags)
    {
        settings.host = Some(host.to_owned());
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_at_commas() {
        assert_eq!(
            split_urls("nats://127.0.0.1:4222, nats://127.0.0.1:4223,"),
            vec!["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"]
        );
    }

    #[test]
    fn host_names_become_one_token() {
        assert_eq!(subject_token("web-1.example.com"), "web-1_example_com");
        assert_eq!(subject_token("a b*>"), "a_b__");
        assert_eq!(subject_token(""), "_");
    }

    #[test]
    fn credentials_in_urls_are_not_shown() {
        let settings = Settings {
            urls: vec!["nats://me:secret@127.0.0.1:4222".into(), "tls://h:1".into()],
            prefix: "triage".into(),
            ..Settings::default()
        };
        assert_eq!(
            settings.servers_for_display(),
            "nats://127.0.0.1:4222,tls://h:1"
        );
    }

    #[test]
    fn nats_table_of_triage_toml() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("triage.toml");
        std::fs::write(
            &path,
            "[nats]\nurl = 'nats://a:4222,nats://b:4222'\ncredentials = 'fleet.creds'\nprefix = 'ops'\nhost = 'db-1'\n",
        )
        .expect("write");
        let config = crate::config::Config::load(Some(&path)).expect("loads");
        let nats = config.nats.expect("[nats]");
        assert_eq!(nats.urls, vec!["nats://a:4222", "nats://b:4222"]);
        assert_eq!(nats.credentials, Some(dir.path().join("fleet.creds")));
        assert_eq!(nats.events_subject("db-1"), "ops.db-1.events");
        // --nats and --host win over the file.
        let settings = Settings::resolve(Some(&nats), Some("nats://c:1"), Some("web")).expect("ok");
        assert_eq!(
            (settings.urls.len(), settings.host.as_deref()),
            (1, Some("web"))
        );
        std::fs::write(&path, "[nats]\nprefix = 'a.b'\nport = 1\n").expect("write");
        let diags = crate::config::Config::load(Some(&path)).expect_err("bad");
        let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(
            text.iter().any(|t| t.contains("triage.toml:2:10")),
            "{text:?}"
        );
    }

    #[test]
    fn subjects_and_stream() {
        let settings = Settings::resolve(None, Some("127.0.0.1:4222"), None).expect("settings");
        assert_eq!(settings.events_subject("db.1"), "triage.db_1.events");
        assert_eq!(settings.alerts_subject("db"), "triage.db.alerts");
        assert_eq!(settings.stream_name(), "TRIAGE");
        assert!(matches!(
            Settings::resolve(None, None, None),
            Err(FleetError::NoServer)
        ));
    }
}
