//! `/metrics` for Prometheus: `triage watch --metrics 127.0.0.1:9464`.
//!
//! Owns the registry (`prometheus-client` encodes it), the pipeline sink
//! that counts ([`MetricsSink`]: lines and bytes read per source from the
//! checkpoints' progress, events, matches and alerts per signature and
//! severity, problems no signature knows and their templates per level,
//! detection latency, files followed) and the HTTP server thread
//! (`tiny_http`) that answers scrapes. Gauges that describe the present
//! (follower lag, outbox depth, the index's documents and commit age, from
//! `index::last_commit`) are computed at scrape time. The body is
//! the Prometheus text format 0.0.4 (OpenMetrics when the scraper asks
//! for it in `Accept`). Must not open log files: a file's size comes from
//! its metadata.

use std::{
    collections::HashMap,
    fmt::Write as _,
    io,
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    thread,
};

use jiff::Timestamp;
use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
        info::Info,
    },
    registry::Registry,
};

use crate::{
    library::Library,
    model::{Alert, Event, FileKey, Timing},
    pipeline::Sink,
    signature::{Signature, problem::Observed},
    tail::{checkpoint::Checkpoint, follow::Seen},
};

use super::Shared;

type Labels = Vec<(String, String)>;

/// The metrics `watch` keeps.
#[derive(Clone)]
struct Families {
    lines: Family<Labels, Counter>,
    bytes: Family<Labels, Counter>,
    events: Family<Labels, Counter>,
    matches: Family<Labels, Counter>,
    alerts: Family<Labels, Counter>,
    problems: Family<Labels, Counter>,
    problem_templates: Family<Labels, Counter>,
    latency: Histogram,
    files: Gauge,
    lag: Family<Labels, Gauge>,
    outbox_depth: Family<Labels, Gauge>,
    sent: Family<Labels, Gauge>,
    failures: Family<Labels, Gauge>,
    parked: Family<Labels, Gauge>,
    rate_limited: Family<Labels, Gauge>,
    index_docs: Gauge,
    index_age: Gauge<f64, AtomicU64>,
}

/// The files followed as of the last checkpoint: path and offset.
type Positions = Arc<Mutex<Vec<(PathBuf, u64)>>>;

/// The pipeline sink that counts.
pub struct MetricsSink<'l> {
    library: &'l Library,
    families: Families,
    /// Per file: the last offset and line number seen in a checkpoint.
    seen: HashMap<FileKey, (u64, u64)>,
    positions: Positions,
}

/// Why `/metrics` cannot be served.
#[derive(Debug, thiserror::Error)]
#[error("--metrics {addr}: {message}")]
pub struct MetricsError {
    addr: String,
    message: String,
}

/// Reads `--metrics`: `HOST:PORT`, or a port alone (on 127.0.0.1).
pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    let full = if text.chars().all(|c| c.is_ascii_digit()) {
        format!("127.0.0.1:{text}")
    } else if let Some(port) = text.strip_prefix(':') {
        format!("127.0.0.1:{port}")
    } else {
        text.to_owned()
    };
    full.parse::<SocketAddr>()
        .map_err(|_| format!("`{text}` is not an address: write HOST:PORT, e.g. 127.0.0.1:9464"))
}

fn label(key: &str, value: &str) -> Labels {
    vec![(key.to_owned(), value.to_owned())]
}

impl<'l> MetricsSink<'l> {
    /// Starts serving `/metrics` on `addr` (the bound address is returned:
    /// port 0 picks one) with the notifier's counters when there is one,
    /// and the index's documents and commit age when `index` (its folder)
    /// is written.
    pub fn serve(
        addr: SocketAddr,
        notify: Option<Arc<Shared>>,
        index: Option<PathBuf>,
        library: &'l Library,
    ) -> Result<(MetricsSink<'l>, SocketAddr), MetricsError> {
        let mut registry = Registry::default();
        let families = Families {
            lines: Family::default(),
            bytes: Family::default(),
            events: Family::default(),
            matches: Family::default(),
            alerts: Family::default(),
            problems: Family::default(),
            problem_templates: Family::default(),
            latency: Histogram::new(exponential_buckets(0.005, 2.0, 18)),
            files: Gauge::default(),
            lag: Family::default(),
            outbox_depth: Family::default(),
            sent: Family::default(),
            failures: Family::default(),
            parked: Family::default(),
            rate_limited: Family::default(),
            index_docs: Gauge::default(),
            index_age: Gauge::default(),
        };
        let f = &families;
        registry.register(
            "triage_lines_read",
            "Lines read, per source file",
            f.lines.clone(),
        );
        registry.register(
            "triage_bytes_read",
            "Bytes read, per source file",
            f.bytes.clone(),
        );
        registry.register(
            "triage_events_parsed",
            "Events parsed, per source file",
            f.events.clone(),
        );
        registry.register(
            "triage_matches",
            "Events matched, per signature and severity (before thresholds and suppression)",
            f.matches.clone(),
        );
        registry.register(
            "triage_alerts",
            "Alerts, per signature and severity",
            f.alerts.clone(),
        );
        registry.register(
            "triage_problems",
            "Problem-like events no signature matched (the unknown failures `triage patterns` groups by template), per level (`none`: a failure marker without a level)",
            f.problems.clone(),
        );
        registry.register(
            "triage_problem_templates",
            "Problem templates given their first event since start (or since the miner last evicted them), per level of that event",
            f.problem_templates.clone(),
        );
        registry.register(
            "triage_detection_latency_seconds",
            "From an alert's event timestamp to the alert",
            f.latency.clone(),
        );
        registry.register("triage_files_followed", "Files followed", f.files.clone());
        registry.register(
            "triage_follower_lag_bytes",
            "Bytes behind the end of each followed file",
            f.lag.clone(),
        );
        registry.register(
            "triage_outbox_depth",
            "Notifications waiting in the outbox, per output",
            f.outbox_depth.clone(),
        );
        registry.register(
            "triage_notifications_sent",
            "Notifications delivered (2xx) since start, per output",
            f.sent.clone(),
        );
        registry.register(
            "triage_notification_failures",
            "Failed sends (retried or parked) since start, per output",
            f.failures.clone(),
        );
        registry.register(
            "triage_notifications_parked",
            "Notifications refused by the receiver since start, per output",
            f.parked.clone(),
        );
        registry.register(
            "triage_notifications_rate_limited",
            "Alerts not sent because of an output's rate limit since start",
            f.rate_limited.clone(),
        );
        if index.is_some() {
            registry.register(
                "triage_index_documents",
                "Documents in the index as of its last commit",
                f.index_docs.clone(),
            );
            registry.register(
                "triage_index_commit_age_seconds",
                "Seconds since the index's last commit",
                f.index_age.clone(),
            );
        }
        registry.register(
            "triage_build",
            "triage's version",
            Info::new(label("version", env!("CARGO_PKG_VERSION"))),
        );
        let server = tiny_http::Server::http(addr).map_err(|err| MetricsError {
            addr: addr.to_string(),
            message: err.to_string(),
        })?;
        let bound = server.server_addr().to_ip().ok_or_else(|| MetricsError {
            addr: addr.to_string(),
            message: "not an IP address".to_owned(),
        })?;
        let positions: Positions = Arc::default();
        let scrape = Scrape {
            registry,
            families: families.clone(),
            positions: Arc::clone(&positions),
            notify,
            index,
        };
        thread::Builder::new()
            .name("metrics".to_owned())
            .spawn(move || scrape.serve(&server))
            .map_err(|err| MetricsError {
                addr: addr.to_string(),
                message: err.to_string(),
            })?;
        Ok((
            MetricsSink {
                library,
                families,
                seen: HashMap::new(),
                positions,
            },
            bound,
        ))
    }
}

impl<'l> Sink<'l> for MetricsSink<'l> {
    fn event_of(
        &mut self,
        _key: FileKey,
        seen: Seen,
        event: &Event,
        _when: Timing,
        matched: &[&'l Signature],
    ) -> io::Result<()> {
        if seen.alerted {
            return Ok(());
        }
        self.families
            .events
            .get_or_create(&label("source", &event.source))
            .inc();
        for signature in matched {
            self.families
                .matches
                .get_or_create(&vec![
                    ("signature".to_owned(), signature.id.clone()),
                    (
                        "severity".to_owned(),
                        signature.severity.as_str().to_owned(),
                    ),
                ])
                .inc();
        }
        Ok(())
    }

    fn unknown_problem(&mut self, event: &Event, observed: &Observed) {
        let level = label("level", event.level.map_or("none", |l| l.as_str()));
        self.families.problems.get_or_create(&level).inc();
        if observed.new_group {
            self.families.problem_templates.get_or_create(&level).inc();
        }
    }

    fn alert(&mut self, found: &Alert) -> io::Result<()> {
        let signature = self.library.signature(found.signature);
        let families = &self.families;
        families
            .alerts
            .get_or_create(&vec![
                ("signature".to_owned(), signature.id.clone()),
                (
                    "severity".to_owned(),
                    signature.severity.as_str().to_owned(),
                ),
            ])
            .inc();
        if let Some(ts) = found.event.ts {
            let seconds = Timestamp::now().duration_since(ts).as_secs_f64();
            if seconds >= 0.0 {
                families.latency.observe(seconds);
            }
        }
        Ok(())
    }

    fn flush(&mut self, checkpoint: &Checkpoint, _: bool) -> io::Result<()> {
        let mut positions = Vec::with_capacity(checkpoint.files.len());
        for file in &checkpoint.files {
            let key = file.key();
            let (offset, line_no) = self
                .seen
                .get(&key)
                .copied()
                .unwrap_or((file.from_offset, file.from_line));
            let (bytes, lines) = if file.offset >= offset {
                (file.offset - offset, file.line_no.saturating_sub(line_no))
            } else {
                // Truncated and read again from its start.
                (file.offset, file.line_no.saturating_sub(1))
            };
            let source = label("source", &file.path.display().to_string());
            if bytes > 0 {
                self.families.bytes.get_or_create(&source).inc_by(bytes);
            }
            if lines > 0 {
                self.families.lines.get_or_create(&source).inc_by(lines);
            }
            self.seen.insert(key, (file.offset, file.line_no));
            positions.push((file.path.clone(), file.offset));
        }
        self.families
            .files
            .set(i64::try_from(checkpoint.files.len()).unwrap_or(i64::MAX));
        if let Ok(mut shared) = self.positions.lock() {
            *shared = positions;
        }
        Ok(())
    }
}

/// What the server thread answers from.
struct Scrape {
    registry: Registry,
    families: Families,
    positions: Positions,
    notify: Option<Arc<Shared>>,
    index: Option<PathBuf>,
}

impl Scrape {
    fn serve(&self, server: &tiny_http::Server) {
        for request in server.incoming_requests() {
            let path = request.url().split('?').next().unwrap_or_default();
            let response = if path == "/metrics" {
                let openmetrics = request.headers().iter().any(|h| {
                    h.field.equiv("Accept")
                        && h.value.as_str().contains("application/openmetrics-text")
                });
                let (body, content_type) = match self.render() {
                    Ok(text) if openmetrics => (
                        text,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    ),
                    Ok(text) => (
                        to_text_004(&text),
                        "text/plain; version=0.0.4; charset=utf-8",
                    ),
                    Err(_) => ("cannot encode the metrics\n".to_owned(), "text/plain"),
                };
                let header = tiny_http::Header::from_bytes("Content-Type", content_type);
                let response = tiny_http::Response::from_string(body);
                match header {
                    Ok(header) => response.with_header(header),
                    Err(()) => response,
                }
            } else {
                tiny_http::Response::from_string("triage: see /metrics\n").with_status_code(404)
            };
            let _ = request.respond(response);
        }
    }

    /// Updates the gauges of the present, then encodes (OpenMetrics).
    fn render(&self) -> Result<String, std::fmt::Error> {
        let f = &self.families;
        if let Ok(positions) = self.positions.lock() {
            f.lag.clear();
            for (path, offset) in positions.iter() {
                if let Ok(meta) = std::fs::metadata(path) {
                    let behind = meta.len().saturating_sub(*offset);
                    f.lag
                        .get_or_create(&label("source", &path.display().to_string()))
                        .set(i64::try_from(behind).unwrap_or(i64::MAX));
                }
            }
        }
        if let Some(shared) = &self.notify {
            for (output, counters) in shared.outputs.iter().zip(&shared.counters) {
                let name = label("output", &output.name);
                let get =
                    |c: &AtomicU64| i64::try_from(c.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
                f.outbox_depth
                    .get_or_create(&name)
                    .set(get(&counters.depth));
                f.sent.get_or_create(&name).set(get(&counters.sent));
                f.failures.get_or_create(&name).set(get(&counters.failures));
                f.parked.get_or_create(&name).set(get(&counters.parked));
                f.rate_limited
                    .get_or_create(&name)
                    .set(get(&counters.rate_limited));
            }
        }
        if let Some(path) = &self.index {
            match crate::index::last_commit(path) {
                Ok(Some(commit)) => {
                    f.index_docs
                        .set(i64::try_from(commit.docs).unwrap_or(i64::MAX));
                    if let Some(at) = commit.at {
                        let age = Timestamp::now().duration_since(at).as_secs_f64();
                        f.index_age.set(age.max(0.0));
                    }
                }
                Ok(None) => {}
                Err(err) => tracing::debug!("/metrics: {err}"),
            }
        }
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// OpenMetrics text to the Prometheus text format 0.0.4: no `# EOF` or
/// `# UNIT`, a counter's `HELP`/`TYPE` named as its `_total` samples, an
/// info metric as a gauge named as its `_info` sample.
pub fn to_text_004(openmetrics: &str) -> String {
    let mut counters: Vec<String> = Vec::new();
    let mut infos: Vec<String> = Vec::new();
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            if let Some(name) = rest.strip_suffix(" counter") {
                counters.push(name.to_owned());
            } else if let Some(name) = rest.strip_suffix(" info") {
                infos.push(name.to_owned());
            }
        }
    }
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let mut written = false;
        for (prefix, kind) in [("# HELP ", None), ("# TYPE ", Some(()))] {
            if let Some(rest) = line.strip_prefix(prefix) {
                let name = rest.split(' ').next().unwrap_or_default();
                let tail = &rest[name.len()..];
                if counters.iter().any(|c| c == name) {
                    let _ = writeln!(out, "{prefix}{name}_total{tail}");
                    written = true;
                } else if infos.iter().any(|c| c == name) {
                    let tail = if kind.is_some() { " gauge" } else { tail };
                    let _ = writeln!(out, "{prefix}{name}_info{tail}");
                    written = true;
                }
            }
        }
        if !written {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_becomes_text_004() {
        let om = "# HELP a Things.\n# TYPE a counter\na_total{x=\"1\"} 2\n# HELP b Version.\n# TYPE b info\nb_info{version=\"1\"} 1\n# TYPE g gauge\ng 3\n# EOF\n";
        assert_eq!(
            to_text_004(om),
            "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n# HELP b_info Version.\n# TYPE b_info gauge\nb_info{version=\"1\"} 1\n# TYPE g gauge\ng 3\n"
        );
    }

    #[test]
    fn addresses_default_to_loopback() {
        assert_eq!(
            parse_addr("9464").map(|a| a.to_string()),
            Ok("127.0.0.1:9464".to_owned())
        );
        assert_eq!(
            parse_addr(":9464").map(|a| a.to_string()),
            Ok("127.0.0.1:9464".to_owned())
        );
        assert!(parse_addr("[::1]:9464").is_ok());
        assert!(parse_addr("nowhere").is_err());
    }
}
