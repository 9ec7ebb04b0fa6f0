//! `[[output]]` tables of `triage.toml`: where notifications go.
//!
//! Owns reading and checking the tables (every problem at its `line:col`)
//! and resolving secrets (`url`, `routing_key`, `secret`, each also as
//! `*_env` = an environment variable or `*_file` = a file). A secret's
//! value never appears in a message, a log line or the outbox: errors name
//! the variable or file only, and [`Secret`]'s `Debug` hides it.

use std::{fmt, fs, path::Path, time::Duration};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::{
    config::table::Table,
    diag::Diagnostic,
    model::{Severity, parse_duration},
};

/// Where PagerDuty's Events API v2 takes events.
pub const PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// What an output speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Alertmanager's `POST /api/v2/alerts`.
    Alertmanager,
    /// PagerDuty Events API v2.
    Pagerduty,
    /// A Slack incoming webhook.
    Slack,
    /// Triage's own JSON body, optionally signed.
    Webhook,
}

impl Kind {
    /// The name used in `triage.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Alertmanager => "alertmanager",
            Kind::Pagerduty => "pagerduty",
            Kind::Slack => "slack",
            Kind::Webhook => "webhook",
        }
    }

    fn parse(text: &str) -> Option<Kind> {
        [
            Kind::Alertmanager,
            Kind::Pagerduty,
            Kind::Slack,
            Kind::Webhook,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// A value that must not be shown: its `Debug` and `Display` say where it
/// came from, never what it is.
#[derive(Clone)]
pub struct Secret {
    value: String,
    from: String,
}

impl Secret {
    /// The value, for the request only.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Where it came from (`url`, `env PD_KEY`, `file /run/secrets/x`).
    pub fn origin(&self) -> &str {
        &self.from
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.from)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.from)
    }
}

/// One `[[output]]`.
#[derive(Debug, Clone)]
pub struct Output {
    /// Unique; names its outbox directory (letters, digits, `-`, `_`).
    pub name: String,
    /// What it speaks.
    pub kind: Kind,
    /// Where to POST (a secret: Slack's and webhooks' URLs carry tokens).
    pub url: Secret,
    /// PagerDuty's integration key.
    pub routing_key: Option<Secret>,
    /// Webhook: the HMAC-SHA256 key of the signature header.
    pub secret: Option<Secret>,
    /// Alerts of signatures below this severity are not sent.
    pub min_severity: Severity,
    /// Only signatures whose id matches one of these globs (all if none).
    pub include: Option<GlobSet>,
    /// Never signatures whose id matches one of these globs.
    pub exclude: Option<GlobSet>,
    /// At most this many alerts a minute (clears always go).
    pub max_per_minute: Option<u32>,
    /// How long a request may take.
    pub timeout: Duration,
    /// Alertmanager: a firing alert is sent again this often.
    pub resend_every: Duration,
    /// Alertmanager: how long an alert of a signature without
    /// `clear_after` stays firing.
    pub resolve_after: Duration,
    /// Slack and webhook: also the incident's events.
    pub incidents: bool,
    /// The first retry waits about this long; each next one twice as long.
    pub backoff_min: Duration,
    /// Retries wait at most this long.
    pub backoff_max: Duration,
}

impl Output {
    /// Whether an alert of this signature goes to this output.
    pub fn wants(&self, signature: &str, severity: Severity) -> bool {
        severity >= self.min_severity
            && self
                .include
                .as_ref()
                .is_none_or(|set| set.is_match(signature))
            && !self
                .exclude
                .as_ref()
                .is_some_and(|set| set.is_match(signature))
    }
}

const KEYS: &[&str] = &[
    "name",
    "kind",
    "url",
    "url_env",
    "url_file",
    "routing_key",
    "routing_key_env",
    "routing_key_file",
    "secret",
    "secret_env",
    "secret_file",
    "min_severity",
    "include",
    "exclude",
    "max_per_minute",
    "timeout",
    "resend_every",
    "resolve_after",
    "incidents",
    "backoff_min",
    "backoff_max",
];

/// Reads the `[[output]]` tables; `base` is the directory relative
/// `*_file` paths are read from (triage.toml's).
pub fn parse(tables: &[Table<'_, '_>], base: &Path, diags: &mut Vec<Diagnostic>) -> Vec<Output> {
    let mut outputs: Vec<Output> = Vec::new();
    for table in tables {
        let before = diags.len();
        table.check_keys(KEYS, "an [[output]]", diags);
        let name = table
            .required("name", "an [[output]]", diags)
            .and_then(|f| {
                let name = f.str(diags)?;
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !valid {
                    diags.push(f.loc.error(format!(
                        "output name `{name}`: use letters, digits, `-` and `_` only"
                    )));
                    return None;
                }
                if outputs.iter().any(|o| o.name == name) {
                    diags.push(f.loc.error(format!("a second output named `{name}`")));
                    return None;
                }
                Some(name.to_owned())
            })
            .unwrap_or_default();
        let kind = table
            .required("kind", "an [[output]]", diags)
            .and_then(|f| {
                let text = f.str(diags)?;
                let kind = Kind::parse(text);
                if kind.is_none() {
                    diags.push(f.loc.error(format!(
                        "unknown output kind `{text}`; expected one of: alertmanager, pagerduty, slack, webhook"
                    )));
                }
                kind
            });
        let url = match kind {
            Some(Kind::Pagerduty) => secret(table, "url", base, diags).or_else(|| {
                Some(Secret {
                    value: PAGERDUTY_URL.to_owned(),
                    from: "PagerDuty's events URL".to_owned(),
                })
            }),
            _ => {
                let url = secret(table, "url", base, diags);
                if url.is_none() && !["url", "url_env", "url_file"].iter().any(|k| table.has(k)) {
                    diags.push(
                        table
                            .loc()
                            .error("missing key `url` (or `url_env`, `url_file`) in an [[output]]"),
                    );
                }
                url
            }
        };
        if let Some(url) = &url
            && !(url.value.starts_with("http://") || url.value.starts_with("https://"))
        {
            diags.push(table.loc().error(format!(
                "output `{name}`: the URL from {} must start with http:// or https://",
                url.from
            )));
        }
        let routing_key = secret(table, "routing_key", base, diags);
        if kind == Some(Kind::Pagerduty)
            && routing_key.is_none()
            && !table.has("routing_key_env")
            && !table.has("routing_key_file")
            && !table.has("routing_key")
        {
            diags.push(table.loc().error(format!(
                "output `{name}`: a pagerduty output needs `routing_key` (or `routing_key_env`, `routing_key_file`)"
            )));
        }
        let secret_key = secret(table, "secret", base, diags);
        let min_severity = table
            .field("min_severity")
            .and_then(|f| {
                let text = f.str(diags)?;
                let severity = text.parse::<Severity>().ok();
                if severity.is_none() {
                    diags.push(f.loc.error(format!(
                        "unknown severity `{text}`; expected one of: info, low, medium, high, critical"
                    )));
                }
                severity
            })
            .unwrap_or(Severity::High);
        let include = globs(table, "include", diags);
        let exclude = globs(table, "exclude", diags);
        let max_per_minute = table.field("max_per_minute").and_then(|f| {
            let n = f.u64(diags)?;
            match u32::try_from(n) {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    diags.push(
                        f.loc
                            .error("max_per_minute must be between 1 and 4294967295"),
                    );
                    None
                }
            }
        });
        let timeout = duration(table, "timeout", Duration::from_secs(10), diags);
        let resend_every = duration(table, "resend_every", Duration::from_secs(60), diags);
        let resolve_after = duration(table, "resolve_after", Duration::from_secs(300), diags);
        let backoff_min = duration(table, "backoff_min", Duration::from_secs(1), diags);
        let backoff_max = duration(table, "backoff_max", Duration::from_secs(300), diags);
        let incidents = table
            .field("incidents")
            .and_then(|f| f.bool(diags))
            .unwrap_or(false);
        if incidents && matches!(kind, Some(Kind::Alertmanager | Kind::Pagerduty)) {
            diags.push(table.loc().error(format!(
                "output `{name}`: `incidents` is for slack and webhook outputs"
            )));
        }
        if diags.len() > before {
            continue;
        }
        let (Some(kind), Some(url)) = (kind, url) else {
            continue;
        };
        outputs.push(Output {
            name,
            kind,
            url,
            routing_key,
            secret: secret_key,
            min_severity,
            include,
            exclude,
            max_per_minute,
            timeout,
            resend_every,
            resolve_after,
            incidents,
            backoff_min,
            backoff_max,
        });
    }
    outputs
}

/// `key`, `key_env` or `key_file` (at most one of them).
fn secret(
    table: &Table<'_, '_>,
    key: &'static str,
    base: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<Secret> {
    let env_key: &'static str = match key {
        "url" => "url_env",
        "routing_key" => "routing_key_env",
        _ => "secret_env",
    };
    let file_key: &'static str = match key {
        "url" => "url_file",
        "routing_key" => "routing_key_file",
        _ => "secret_file",
    };
    let given: Vec<&str> = [key, env_key, file_key]
        .into_iter()
        .filter(|k| table.has(k))
        .collect();
    if given.len() > 1 {
        diags.push(
            table
                .loc()
                .error(format!("give only one of: {}", given.join(", "))),
        );
        return None;
    }
    if let Some(field) = table.field(key) {
        let value = field.str(diags)?;
        return Some(Secret {
            value: value.to_owned(),
            from: format!("`{key}`"),
        });
    }
    if let Some(field) = table.field(env_key) {
        let var = field.str(diags)?;
        return match std::env::var(var) {
            Ok(value) if !value.trim().is_empty() => Some(Secret {
                value: value.trim().to_owned(),
                from: format!("environment variable {var}"),
            }),
            _ => {
                diags.push(
                    field
                        .loc
                        .error(format!("environment variable {var} is not set or empty")),
                );
                None
            }
        };
    }
    if let Some(field) = table.field(file_key) {
        let name = field.str(diags)?;
        let path = base.join(name);
        return match fs::read_to_string(&path) {
            Ok(value) if !value.trim().is_empty() => Some(Secret {
                value: value.trim().to_owned(),
                from: format!("file {}", path.display()),
            }),
            Ok(_) => {
                diags.push(field.loc.error(format!("{} is empty", path.display())));
                None
            }
            Err(err) => {
                // The error's kind only: never the content.
                diags.push(field.loc.error(format!(
                    "cannot read {}: {}",
                    path.display(),
                    err.kind()
                )));
                None
            }
        };
    }
    None
}

fn globs(table: &Table<'_, '_>, key: &'static str, diags: &mut Vec<Diagnostic>) -> Option<GlobSet> {
    let list = table.field(key)?.strings(diags)?;
    let mut builder = GlobSetBuilder::new();
    for (pattern, loc) in list {
        match Glob::new(&pattern) {
            Ok(glob) => {
                builder.add(glob);
            }
            Err(err) => diags.push(loc.error(format!("bad glob: {}", err.kind()))),
        }
    }
    builder.build().ok()
}

fn duration(
    table: &Table<'_, '_>,
    key: &'static str,
    default: Duration,
    diags: &mut Vec<Diagnostic>,
) -> Duration {
    let Some(field) = table.field(key) else {
        return default;
    };
    let Some(text) = field.str(diags) else {
        return default;
    };
    match parse_duration(text) {
        Some(d) if !d.is_zero() => d,
        _ => {
            diags.push(field.loc.error(format!(
                "bad duration `{text}` for `{key}`; write e.g. 500ms, 30s, 2m, 1h"
            )));
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    use super::*;

    fn load(text: &str) -> (Option<Config>, Vec<String>, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("triage.toml");
        fs::write(&path, text).expect("write");
        fs::write(dir.path().join("key"), "t0ps3cr3t\n").expect("write");
        match Config::load(Some(&path)) {
            Ok(config) => (Some(config), Vec::new(), dir),
            Err(diags) => (None, diags.iter().map(|d| d.to_string()).collect(), dir),
        }
    }

    #[test]
    fn outputs_read_with_defaults_and_secrets_from_files() {
        let (config, errors, _dir) = load(
            "[[output]]\nname = 'pd'\nkind = 'pagerduty'\nrouting_key_file = 'key'\n\n\
             [[output]]\nname = 'am'\nkind = 'alertmanager'\nurl = 'http://127.0.0.1:9093'\nmin_severity = 'critical'\ninclude = ['pg-*']\nmax_per_minute = 5\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let outputs = config.expect("config").outputs;
        assert_eq!(outputs[0].url.expose(), PAGERDUTY_URL);
        let key = outputs[0].routing_key.as_ref().expect("key");
        assert_eq!(key.expose(), "t0ps3cr3t");
        assert!(!format!("{:?}", outputs[0]).contains("t0ps3cr3t"));
        assert_eq!(outputs[0].min_severity, Severity::High);
        assert!(outputs[1].wants("pg-down", Severity::Critical));
        assert!(!outputs[1].wants("pg-down", Severity::High));
        assert!(!outputs[1].wants("disk-full", Severity::Critical));
        assert_eq!(outputs[1].max_per_minute, Some(5));
    }

    #[test]
    fn every_problem_is_reported_at_its_place_without_the_secret() {
        let (_, errors, _dir) = load(
            "[[output]]\nname = 'a b'\nkind = 'pager'\nurl = 'ftp://s3cr3t@host'\nmin_severity = 'urgent'\ntimeout = 'soon'\n\n\
             [[output]]\nname = 'pd'\nkind = 'pagerduty'\n\n\
             [[output]]\nname = 'w'\nkind = 'webhook'\nurl_env = 'TRIAGE_TEST_SURELY_UNSET'\nsecret = 'x'\nsecret_file = 'key'\n",
        );
        let text = errors.join("\n");
        assert!(!text.contains("s3cr3t"), "{text}");
        for expected in [
            "triage.toml:2:8: output name `a b`",
            "triage.toml:3:8: unknown output kind `pager`",
            "must start with http:// or https://",
            "triage.toml:5:16: unknown severity `urgent`",
            "triage.toml:6:11: bad duration `soon`",
            "a pagerduty output needs `routing_key`",
            "triage.toml:15:11: environment variable TRIAGE_TEST_SURELY_UNSET is not set",
            "give only one of: secret, secret_file",
        ] {
            assert!(text.contains(expected), "no `{expected}` in:\n{text}");
        }
    }
}
