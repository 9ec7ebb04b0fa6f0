//! How each of the demo's systems lays out a line: logback, PostgreSQL's
//! `%m [%p] ` prefix, nginx's combined access log and its error log, RFC
//! 3164 syslog with the kernel's uptime stamp. Each writer takes a moment
//! of log time and the words (`story` decides them) and pushes the line.

use jiff::{SignedDuration, Zoned, tz::TimeZone};

use super::{
    ACCESS_LOG, APP_LOG, KERN_LOG, NGINX_ERROR_LOG, POSTGRES_LOG,
    story::{APP_HOST, Demo, Entry, LOG_END_MS},
};

/// nginx worker processes.
const NGINX_WORKERS: [u32; 4] = [31, 32, 33, 34];

const REFERERS: [&str; 3] = [
    "https://shop.example.com/account/orders",
    "https://shop.example.com/checkout",
    "https://shop.example.com/",
];

impl Demo {
    pub(super) fn push(&mut self, file: &'static str, log_ms: u64, text: String) {
        self.out.push(Entry {
            log_ms: log_ms.min(LOG_END_MS),
            file,
            text,
        });
    }

    /// The printed time of a moment of log time, in UTC.
    pub(super) fn time(&self, log_ms: u64) -> Zoned {
        let ms = i64::try_from(log_ms.min(LOG_END_MS)).expect("log times stay below 20 minutes");
        self.start
            .saturating_add(SignedDuration::from_millis(ms))
            .expect("adding a SignedDuration has no calendar units to fail on")
            .to_zoned(TimeZone::UTC)
    }

    // -- formats ------------------------------------------------------------

    /// logback: `2026-11-21 03:00:01,234 INFO  [thread] logger - message`.
    pub(super) fn app(&mut self, ms: u64, level: &str, thread: &str, logger: &str, message: &str) {
        let t = self.time(ms);
        let text = format!(
            "{} {level:<5} [{thread}] {logger} - {message}",
            t.strftime("%Y-%m-%d %H:%M:%S,%3f")
        );
        self.push(APP_LOG, ms, text);
    }

    /// A continuation line of a stack trace, exactly as given.
    pub(super) fn app_raw(&mut self, ms: u64, text: String) {
        self.push(APP_LOG, ms, text);
    }

    /// PostgreSQL with `log_line_prefix = '%m [%p] '`.
    pub(super) fn pg(&mut self, ms: u64, pid: u32, severity: &str, message: &str) {
        let t = self.time(ms);
        let text = format!(
            "{} UTC [{pid}] {severity}:  {message}",
            t.strftime("%Y-%m-%d %H:%M:%S.%3f")
        );
        self.push(POSTGRES_LOG, ms, text);
    }

    /// The HTTP version a client speaks: browsers use HTTP/2.
    pub(super) fn protocol(&self, client: usize) -> &'static str {
        if self.clients[client].browser {
            "HTTP/2.0"
        } else {
            "HTTP/1.1"
        }
    }

    /// The page a client's request comes from (`-` for apps).
    pub(super) fn referer(&mut self, client: usize) -> &'static str {
        if self.clients[client].browser {
            REFERERS[self.rng.below(REFERERS.len() as u64) as usize]
        } else {
            "-"
        }
    }

    /// nginx combined format.
    pub(super) fn access(
        &mut self,
        ms: u64,
        client: usize,
        method: &str,
        path: &str,
        status: u16,
        bytes: u64,
    ) {
        let referer = self.referer(client);
        self.access_from(ms, client, method, path, status, bytes, referer);
    }

    /// nginx combined format, with a given referer.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn access_from(
        &mut self,
        ms: u64,
        client: usize,
        method: &str,
        path: &str,
        status: u16,
        bytes: u64,
        referer: &str,
    ) {
        let t = self.time(ms);
        let protocol = self.protocol(client);
        let c = &self.clients[client];
        let text = format!(
            "{} - - [{}] \"{method} {path} {protocol}\" {status} {bytes} \"{referer}\" \"{}\"",
            c.ip,
            t.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            c.agent
        );
        self.push(ACCESS_LOG, ms, text);
    }

    /// nginx error log: `2026/11/21 03:05:12 [error] 31#31: *8812 message`.
    pub(super) fn nginx_error(&mut self, ms: u64, level: &str, conn: u64, message: &str) {
        let t = self.time(ms);
        let worker = *self.rng.pick(&NGINX_WORKERS);
        let text = format!(
            "{} [{level}] {worker}#{worker}: *{conn} {message}",
            t.strftime("%Y/%m/%d %H:%M:%S")
        );
        self.push(NGINX_ERROR_LOG, ms, text);
    }

    /// RFC 3164 syslog line from the application host.
    pub(super) fn syslog(&mut self, ms: u64, tag: &str, message: &str) {
        let t = self.time(ms);
        let text = format!(
            "{} {APP_HOST} {tag}: {message}",
            t.strftime("%b %e %H:%M:%S")
        );
        self.push(KERN_LOG, ms, text);
    }

    /// A kernel message, with the uptime stamp the kernel prints. `micros`
    /// orders messages written within the same millisecond.
    pub(super) fn kernel(&mut self, ms: u64, micros: u64, message: &str) {
        let up = self.uptime_us + ms * 1_000 + micros;
        let text = format!("[{}.{:06}] {message}", up / 1_000_000, up % 1_000_000);
        self.syslog(ms, "kernel", &text);
    }
}
