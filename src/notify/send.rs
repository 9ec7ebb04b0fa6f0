//! One HTTP request per notification, and what its answer means.
//!
//! Owns the client (`ureq`: blocking, a timeout per request, no redirects
//! followed: a receiver that moves must be configured again), adding the
//! secrets a body must carry at send time (PagerDuty's `routing_key`, the
//! webhook's HMAC-SHA256 signature header), and classifying the answer:
//! 2xx delivered; 429, 5xx and unreachable retried; any other status
//! parked. Every text that leaves this module has the output's secrets
//! replaced by where they come from ([`redact`]).

use std::{io::Read, time::Duration};

use hmac::{KeyInit, Mac};
use serde_json::Value;

use super::config::{Kind, Output};

/// The header carrying the webhook body's signature: `sha256=<hex>`, the
/// HMAC-SHA256 of the exact body bytes with the output's `secret`.
pub const SIGNATURE_HEADER: &str = "X-Triage-Signature-256";
/// The header carrying the notification's dedup key (webhooks).
pub const DEDUP_HEADER: &str = "X-Triage-Dedup-Key";

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx: done. The status and the receiver's answer.
    Delivered(u16, String),
    /// Worth trying again (429, 5xx, timeout, refused connection): why,
    /// and the receiver's `Retry-After` when it gave one.
    Retry(String, Option<Duration>),
    /// Refused for good (another 4xx, or 3xx): the status and message.
    Refused(u16, String),
}

impl Outcome {
    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Delivered(status, body) => format!("{status} {}", one_line(body)),
            Outcome::Retry(why, _) => why.clone(),
            Outcome::Refused(status, body) => format!("{status} {}", one_line(body)),
        }
    }
}

fn one_line(text: &str) -> String {
    let line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    line
}

/// The text with the output's secrets replaced by where they come from.
pub fn redact(text: &str, output: &Output) -> String {
    let mut text = text.to_owned();
    let secrets = [
        Some(&output.url),
        output.routing_key.as_ref(),
        output.secret.as_ref(),
    ];
    for secret in secrets.into_iter().flatten() {
        if secret.expose().len() >= 4 {
            text = text.replace(secret.expose(), &secret.to_string());
        }
    }
    text
}

/// Where the body goes: Alertmanager's base URL gets `/api/v2/alerts`.
fn endpoint(output: &Output) -> String {
    let url = output.url.expose().trim_end_matches('/');
    match output.kind {
        Kind::Alertmanager if !url.ends_with("/api/v2/alerts") => format!("{url}/api/v2/alerts"),
        _ => url.to_owned(),
    }
}

/// The HMAC-SHA256 of `body` under `key`, as the header's value.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Sends one body to an output and says how it went. `dedup_key` goes in
/// a header of webhooks.
pub fn send(output: &Output, body: &Value, dedup_key: &str) -> Outcome {
    let mut body = body.clone();
    if output.kind == Kind::Pagerduty
        && let (Some(key), Some(object)) = (&output.routing_key, body.as_object_mut())
    {
        object.insert("routing_key".into(), key.expose().into());
    }
    let bytes = match serde_json::to_vec(&body) {
        Ok(bytes) => bytes,
        Err(err) => return Outcome::Refused(0, format!("cannot encode the body: {err}")),
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(output.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("triage/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut request = agent
        .post(endpoint(output))
        .header("Content-Type", "application/json");
    if output.kind == Kind::Webhook {
        request = request.header(DEDUP_HEADER, dedup_key);
        if let Some(secret) = &output.secret {
            request = request.header(
                SIGNATURE_HEADER,
                signature(secret.expose().as_bytes(), &bytes),
            );
        }
    }
    let outcome = match request.send(&bytes[..]) {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let mut text = String::new();
            let _ = response
                .body_mut()
                .as_reader()
                .take(64 * 1024)
                .read_to_string(&mut text);
            match status {
                200..=299 => Outcome::Delivered(status, text),
                429 | 500..=599 | 408 => {
                    Outcome::Retry(format!("{status} {}", one_line(&text)), retry_after)
                }
                _ => Outcome::Refused(status, text),
            }
        }
        Err(err) => Outcome::Retry(describe(&err), None),
    };
    match outcome {
        Outcome::Delivered(s, t) => Outcome::Delivered(s, redact(&t, output)),
        Outcome::Retry(why, after) => Outcome::Retry(redact(&why, output), after),
        Outcome::Refused(s, t) => Outcome::Refused(s, redact(&t, output)),
    }
}

/// Why a request failed, without its URL.
fn describe(err: &ureq::Error) -> String {
    match err {
        ureq::Error::Io(io) => format!("cannot reach the receiver: {}", io.kind()),
        ureq::Error::Timeout(_) => "the receiver did not answer in time".to_owned(),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::ConnectionFailed => "cannot connect to the receiver".to_owned(),
        ureq::Error::BadUri(_) => "bad URL".to_owned(),
        _ => format!("request failed: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
