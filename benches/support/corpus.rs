//! A deterministic generator of a large, realistic log corpus for benchmarks
//! and false-positive checks: a day of a small web shop's logs in the real
//! formats of each system.
//!
//! Shared by `examples/gen_corpus.rs` (writes a corpus to disk for
//! `benches/compare.sh`) and `benches/matching.rs` (generates a few MB in
//! memory). Pure apart from the writer it is given: the same seed and size
//! always give the same bytes.
//!
//! Mostly healthy traffic, with the near misses real systems print (404s,
//! client disconnects, duplicate keys, short statements, `[warn]` lines,
//! cron and session noise), and, unless `healthy` is set, rare incidents: a
//! short burst of failure lines of one kind at a random moment.

use std::{
    fmt::Write as _,
    fs,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
};

// The demo's deterministic random source.
use triage::demo::SplitMix64 as Rng;

/// 2026-11-21T00:00:00Z, the first moment of the corpus.
pub const START_SECOND: i64 = 1_795_219_200;
/// The corpus covers one day of log time.
pub const SPAN_SECONDS: i64 = 86_400;

/// The files of a corpus and the share of the bytes each gets, in percent.
pub const FILES: [(Format, &str, u64); 7] = [
    (Format::NginxAccess, "nginx/access.log", 33),
    (Format::Logback, "app/orders.log", 24),
    (Format::Postgres, "postgresql/postgresql.log", 14),
    (Format::Syslog, "syslog/syslog", 10),
    (Format::Python, "worker/worker.log", 8),
    (Format::Kubelet, "kubernetes/kubelet.log", 6),
    (Format::NginxError, "nginx/error.log", 5),
];

/// The log formats the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// nginx `combined` access log.
    NginxAccess,
    /// nginx error log.
    NginxError,
    /// A Spring Boot service's logback log with multi-line stack traces.
    Logback,
    /// PostgreSQL's stderr log with `log_line_prefix = '%m [%p] '`.
    Postgres,
    /// RFC 3164 syslog of an application host: kernel, systemd, cron, sshd.
    Syslog,
    /// A Python worker (gunicorn + celery) with tracebacks.
    Python,
    /// kubelet's klog output as journald forwards it.
    Kubelet,
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Bytes in all, split between the files by their share.
    pub total_bytes: u64,
    /// The same seed always gives the same corpus.
    pub seed: u64,
    /// No incidents at all: only healthy traffic and its near misses.
    pub healthy: bool,
}

/// Writes every file of the corpus under `dir`; returns each path and its size.
pub fn write_corpus(dir: &Path, spec: &Spec) -> io::Result<Vec<(PathBuf, u64)>> {
    let mut written = Vec::new();
    for (i, &(format, name, share)) in FILES.iter().enumerate() {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(&path)?);
        let bytes = spec.total_bytes * share / 100;
        let seed = spec.seed.wrapping_mul(0x9E37_79B9).wrapping_add(i as u64);
        let n = generate(format, bytes, seed, spec.healthy, &mut out)?;
        out.flush()?;
        written.push((path, n));
    }
    Ok(written)
}

/// Writes about `bytes` bytes of `format` (whole lines); returns the bytes
/// written.
pub fn generate(
    format: Format,
    bytes: u64,
    seed: u64,
    healthy: bool,
    out: &mut dyn Write,
) -> io::Result<u64> {
    let mut g = Gen::new(format, bytes, seed, healthy);
    let mut buf = String::with_capacity(1 << 16);
    let mut total = 0u64;
    while total < bytes {
        buf.clear();
        while buf.len() < 60_000 {
            g.next(&mut buf);
        }
        out.write_all(buf.as_bytes())?;
        total += buf.len() as u64;
    }
    Ok(total)
}

/// Generates `bytes` bytes of `format` in memory.
pub fn generate_vec(format: Format, bytes: u64, seed: u64, healthy: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes as usize + 65_536);
    generate(format, bytes, seed, healthy, &mut out).expect("writing to a Vec cannot fail");
    out
}

/// Civil time fields of a second, cached: most lines share their second.
#[derive(Debug, Default, Clone, Copy)]
pub struct Civil {
    /// The Unix second these fields are of.
    pub second: i64,
    /// Year.
    pub year: i64,
    /// Month, 1-12.
    pub month: usize,
    /// Day of the month.
    pub day: i64,
    /// Hour.
    pub hour: i64,
    /// Minute.
    pub minute: i64,
    /// Second of the minute.
    pub sec: i64,
}

/// The UTC civil time of a Unix second.
pub fn civil(unix: i64) -> Civil {
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        second: unix,
        year,
        month: month as usize,
        day,
        hour: secs / 3_600,
        minute: secs / 60 % 60,
        sec: secs % 60,
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

const AGENTS: [&str; 6] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
    "okhttp/4.12.0",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
];

const STATIC: [(&str, u64); 6] = [
    ("/static/js/app.5f3c9a1e.js", 184_223),
    ("/static/css/main.9b1d2e.css", 41_877),
    ("/static/img/logo.svg", 3_512),
    ("/static/fonts/inter-var.woff2", 98_112),
    ("/static/js/vendor.0c44e1.js", 402_915),
    ("/static/img/hero-1280.webp", 77_310),
];

const JAVA_FRAMES: [&str; 14] = [
    "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:686)",
    "\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:179)",
    "\tat com.zaxxer.hikari.HikariDataSource.getConnection(HikariDataSource.java:100)",
    "\tat org.hibernate.engine.jdbc.connections.internal.DatasourceConnectionProviderImpl.getConnection(DatasourceConnectionProviderImpl.java:122)",
    "\tat org.springframework.orm.jpa.JpaTransactionManager.doBegin(JpaTransactionManager.java:466)",
    "\tat org.springframework.transaction.interceptor.TransactionAspectSupport.invokeWithinTransaction(TransactionAspectSupport.java:392)",
    "\tat com.example.orders.OrderService$$SpringCGLIB$$0.findOrder(<generated>)",
    "\tat com.example.orders.OrderController.getOrder(OrderController.java:54)",
    "\tat org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
    "\tat jakarta.servlet.http.HttpServlet.service(HttpServlet.java:564)",
    "\tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:138)",
    "\tat org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:1769)",
    "\tat org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:659)",
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
];

const QUERIES: [&str; 6] = [
    "SELECT o.id, o.status, o.total_cents, o.created_at FROM orders o WHERE o.customer_id = $1 ORDER BY o.created_at DESC LIMIT 20",
    "SELECT oi.product_id, oi.quantity, oi.unit_price_cents FROM order_items oi WHERE oi.order_id = $1",
    "SELECT c.id, c.updated_at, ci.product_id, ci.quantity FROM carts c JOIN cart_items ci ON ci.cart_id = c.id WHERE c.customer_id = $1",
    "UPDATE orders SET status = $1, updated_at = now() WHERE id = $2",
    "INSERT INTO outbox (aggregate_id, type, payload) VALUES ($1, $2, $3)",
    "SELECT p.id, p.name, p.price_cents FROM products p WHERE p.id = ANY($1)",
];

/// The state of one file's generator.
struct Gen {
    format: Format,
    rng: Rng,
    healthy: bool,
    /// Log time, milliseconds since the Unix epoch.
    now_ms: i64,
    /// Mean milliseconds between lines.
    step_ms: u64,
    civil: Civil,
    /// Lines of an incident still to write, one per call.
    incident: Vec<String>,
    /// When the next incident starts.
    next_incident_ms: i64,
    pid: u64,
    conn: u64,
    uptime_us: u64,
}

impl Gen {
    fn new(format: Format, bytes: u64, seed: u64, healthy: bool) -> Gen {
        let avg_line: u64 = match format {
            Format::NginxAccess => 190,
            Format::NginxError => 260,
            Format::Logback => 150,
            Format::Postgres => 140,
            Format::Syslog => 120,
            Format::Python => 150,
            Format::Kubelet => 200,
        };
        let lines = (bytes / avg_line).max(1);
        let step_ms = ((SPAN_SECONDS as u64 * 1_000) / lines).max(1);
        let mut rng = Rng::new(seed ^ 0x5DEE_CE66_D1CE_4E5B);
        let first_incident = START_SECOND * 1_000 + rng.range(600_000, 7_200_000) as i64;
        Gen {
            format,
            healthy,
            now_ms: START_SECOND * 1_000,
            step_ms,
            civil: civil(START_SECOND),
            incident: Vec::new(),
            next_incident_ms: first_incident,
            pid: 3_000 + rng.range(0, 1_000),
            conn: 100_000 + rng.range(0, 10_000),
            uptime_us: 811_900_000_000 + rng.range(0, 999_999_999),
            rng,
        }
    }

    fn tick(&mut self) {
        self.now_ms += self.rng.range(0, 2 * self.step_ms) as i64;
        let second = self.now_ms.div_euclid(1_000);
        if second != self.civil.second {
            self.civil = civil(second);
        }
    }

    fn millis(&self) -> i64 {
        self.now_ms.rem_euclid(1_000)
    }

    /// Appends the next line (or lines) to `out`.
    fn next(&mut self, out: &mut String) {
        self.tick();
        if !self.healthy && self.now_ms >= self.next_incident_ms && self.incident.is_empty() {
            self.incident = self.incident_lines();
            self.incident.reverse();
            // One incident every 1 to 4 hours of log time, per file.
            self.next_incident_ms = self.now_ms + self.rng.range(3_600_000, 14_400_000) as i64;
        }
        if let Some(line) = self.incident.pop() {
            // `!` marks a continuation line (stack trace): no prefix.
            match line.strip_prefix('!') {
                Some(raw) => out.push_str(raw),
                None => {
                    self.prefix(out);
                    out.push_str(&line);
                }
            }
            out.push('\n');
            return;
        }
        match self.format {
            Format::NginxAccess => self.access(out),
            Format::NginxError => self.nginx_error(out),
            Format::Logback => self.logback(out),
            Format::Postgres => self.postgres(out),
            Format::Syslog => self.syslog(out),
            Format::Python => self.python(out),
            Format::Kubelet => self.kubelet(out),
        }
    }

    // -- prefixes -------------------------------------------------------------

    /// The format's timestamp (and fixed prefix) for a line written now;
    /// incident lines carry the rest.
    fn prefix(&mut self, out: &mut String) {
        let c = self.civil;
        let ms = self.millis();
        match self.format {
            Format::NginxAccess => {}
            Format::NginxError => {
                let w = 30 + self.rng.below(4);
                let _ = write!(
                    out,
                    "{:04}/{:02}/{:02} {:02}:{:02}:{:02} ",
                    c.year, c.month, c.day, c.hour, c.minute, c.sec
                );
                let _ = write!(out, "[error] {w}#{w}: ");
            }
            Format::Logback | Format::Python => {
                let _ = write!(
                    out,
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03} ",
                    c.year, c.month, c.day, c.hour, c.minute, c.sec, ms
                );
            }
            Format::Postgres => {
                let pid = self.pid + self.rng.below(400);
                let _ = write!(
                    out,
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} UTC [{pid}] ",
                    c.year, c.month, c.day, c.hour, c.minute, c.sec, ms
                );
            }
            Format::Syslog | Format::Kubelet => {
                let _ = write!(
                    out,
                    "{} {:>2} {:02}:{:02}:{:02} web-1 ",
                    MONTHS[c.month - 1],
                    c.day,
                    c.hour,
                    c.minute,
                    c.sec
                );
            }
        }
    }

    fn logback_head(&mut self, out: &mut String, level: &str, thread: &str, logger: &str) {
        let c = self.civil;
        let _ = write!(
            out,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03} {level:<5} [{thread}] {logger} - ",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.sec,
            self.millis()
        );
    }

    fn clf_time(&self, out: &mut String) {
        let c = self.civil;
        let _ = write!(
            out,
            "[{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000]",
            c.day,
            MONTHS[c.month - 1],
            c.year,
            c.hour,
            c.minute,
            c.sec
        );
    }

    fn ip(&mut self) -> String {
        match self.rng.below(4) {
            0 => format!("203.0.113.{}", self.rng.range(2, 254)),
            1 => format!("198.51.100.{}", self.rng.range(2, 254)),
            2 => format!("192.0.2.{}", self.rng.range(2, 254)),
            _ => format!("10.1.{}.{}", self.rng.range(0, 7), self.rng.range(2, 254)),
        }
    }

    // -- healthy traffic --------------------------------------------------------

    fn access(&mut self, out: &mut String) {
        let ip = self.ip();
        let agent = *self.rng.pick(&AGENTS);
        let (method, path, status, bytes): (&str, String, u16, u64) = match self.rng.below(1_000) {
            0..=299 => {
                let &(p, size) = self.rng.pick(&STATIC);
                let status = if self.rng.one_in(3) { 304 } else { 200 };
                (
                    "GET",
                    p.to_owned(),
                    status,
                    if status == 304 { 0 } else { size },
                )
            }
            300..=549 => (
                "GET",
                format!("/api/orders/{}", self.rng.range(100_000, 999_999)),
                200,
                self.rng.range(600, 1_400),
            ),
            550..=699 => (
                "GET",
                format!(
                    "/api/orders?customer={}&page={}",
                    self.rng.range(1_000, 99_999),
                    self.rng.range(1, 4)
                ),
                200,
                self.rng.range(2_000, 9_000),
            ),
            700..=799 => (
                "POST",
                "/api/orders".to_owned(),
                201,
                self.rng.range(300, 700),
            ),
            800..=899 => (
                "GET",
                "/api/cart".to_owned(),
                200,
                self.rng.range(200, 2_000),
            ),
            900..=939 => ("GET", "/healthz".to_owned(), 200, 2),
            940..=969 => (
                "GET",
                format!("/products/{}", self.rng.range(1, 5_000)),
                200,
                self.rng.range(20_000, 60_000),
            ),
            970..=984 => ("GET", "/favicon.ico".to_owned(), 404, 153),
            985..=989 => ("GET", "/wp-login.php".to_owned(), 404, 153),
            990..=993 => (
                "POST",
                "/api/login".to_owned(),
                if self.rng.one_in(3) { 401 } else { 200 },
                120,
            ),
            994..=996 => ("GET", "/api/orders/export".to_owned(), 499, 0),
            997 => ("GET", "/old-shop".to_owned(), 301, 169),
            _ => {
                // The odd 5xx of a healthy day.
                if self.rng.one_in(20) {
                    ("GET", "/api/cart".to_owned(), 502, 157)
                } else {
                    ("GET", "/api/cart".to_owned(), 200, 512)
                }
            }
        };
        let _ = write!(out, "{ip} - - ");
        self.clf_time(out);
        let referer = if agent.starts_with("Mozilla") {
            "https://shop.example.com/"
        } else {
            "-"
        };
        let _ = writeln!(
            out,
            " \"{method} {path} HTTP/1.1\" {status} {bytes} \"{referer}\" \"{agent}\""
        );
    }

    fn nginx_error(&mut self, out: &mut String) {
        let c = self.civil;
        let w = 30 + self.rng.below(4);
        self.conn += self.rng.range(1, 40);
        let conn = self.conn;
        let _ = write!(
            out,
            "{:04}/{:02}/{:02} {:02}:{:02}:{:02} ",
            c.year, c.month, c.day, c.hour, c.minute, c.sec
        );
        let ip = self.ip();
        match self.rng.below(10) {
            0..=3 => {
                let _ = writeln!(
                    out,
                    "[error] {w}#{w}: *{conn} open() \"/usr/share/nginx/html/favicon.ico\" failed (2: No such file or directory), client: {ip}, server: shop.example.com, request: \"GET /favicon.ico HTTP/1.1\", host: \"shop.example.com\""
                );
            }
            4..=5 => {
                let _ = writeln!(
                    out,
                    "[info] {w}#{w}: *{conn} client {ip} closed keepalive connection"
                );
            }
            6 => {
                let _ = writeln!(
                    out,
                    "[warn] {w}#{w}: *{conn} an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/{}/{:02}/00000{} while reading upstream, client: {ip}, server: shop.example.com, request: \"GET /api/orders/export HTTP/1.1\", upstream: \"http://10.0.3.7:8080/api/orders/export\", host: \"shop.example.com\"",
                    self.rng.below(10),
                    self.rng.below(100),
                    self.rng.range(10_000, 99_999)
                );
            }
            7 => {
                let _ = writeln!(
                    out,
                    "[info] {w}#{w}: *{conn} client timed out (110: Connection timed out) while waiting for request, client: {ip}, server: 0.0.0.0:443"
                );
            }
            8 => {
                let _ = writeln!(
                    out,
                    "[info] {w}#{w}: *{conn} recv() failed (104: Connection reset by peer) while reading client request line, client: {ip}, server: 0.0.0.0:443"
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "[warn] {w}#{w}: *{conn} a client request body is buffered to a temporary file /var/cache/nginx/client_temp/00000{}, client: {ip}, server: shop.example.com, request: \"POST /api/uploads HTTP/1.1\", host: \"shop.example.com\"",
                    self.rng.range(10_000, 99_999)
                );
            }
        }
    }

    fn logback(&mut self, out: &mut String) {
        let exec = format!("http-nio-8080-exec-{}", self.rng.range(1, 40));
        match self.rng.below(1_000) {
            0..=549 => {
                self.logback_head(out, "INFO", &exec, "c.e.orders.web.RequestLogFilter");
                let id = self.rng.range(100_000, 999_999);
                let ms = self.rng.range(3, 180);
                let _ = writeln!(out, "GET /api/orders/{id} 200 {ms}ms");
            }
            550..=749 => {
                self.logback_head(out, "INFO", &exec, "c.e.orders.OrderService");
                let _ = writeln!(
                    out,
                    "Order {} created for customer {} (3 items, total 129.90 EUR)",
                    self.rng.range(1_000_000, 9_999_999),
                    self.rng.range(1_000, 99_999)
                );
            }
            750..=849 => {
                self.logback_head(
                    out,
                    "DEBUG",
                    "HikariPool-1 housekeeper",
                    "com.zaxxer.hikari.pool.HikariPool",
                );
                let active = self.rng.range(1, 12);
                let _ = writeln!(
                    out,
                    "HikariPool-1 - Pool stats (total=20, active={active}, idle={}, waiting=0)",
                    20 - active
                );
            }
            850..=899 => {
                self.logback_head(out, "DEBUG", &exec, "o.s.web.servlet.DispatcherServlet");
                let _ = writeln!(out, "Completed 200 OK");
            }
            900..=939 => {
                self.logback_head(out, "WARN", &exec, "c.e.orders.web.RequestTimingFilter");
                let _ = writeln!(
                    out,
                    "request duration: {}.000 ms for GET /api/orders/export (limit 500 ms)",
                    self.rng.range(510, 900)
                );
            }
            940..=959 => {
                self.logback_head(
                    out,
                    "INFO",
                    "kafka-producer-network-thread | orders",
                    "o.a.k.c.p.internals.Sender",
                );
                let _ = writeln!(
                    out,
                    "[Producer clientId=orders] Resetting the last seen epoch of partition orders-{} to 12 since the associated topicId changed",
                    self.rng.below(12)
                );
            }
            960..=979 => {
                let _ = writeln!(
                    out,
                    "[{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000][info][gc] GC({}) Pause Young (Normal) (G1 Evacuation Pause) {}M->{}M(6144M) {}.{:03}ms",
                    self.civil.year,
                    self.civil.month,
                    self.civil.day,
                    self.civil.hour,
                    self.civil.minute,
                    self.civil.sec,
                    self.millis(),
                    self.rng.range(1_000, 90_000),
                    self.rng.range(2_000, 3_000),
                    self.rng.range(400, 900),
                    self.rng.range(3, 40),
                    self.rng.below(1_000)
                );
            }
            980..=994 => {
                // An expected, handled exception with a short trace.
                self.logback_head(out, "WARN", &exec, "c.e.orders.web.ApiExceptionHandler");
                let _ = writeln!(
                    out,
                    "Rejected request: com.example.orders.InvalidOrderException: quantity must be positive"
                );
                let _ = writeln!(
                    out,
                    "com.example.orders.InvalidOrderException: quantity must be positive"
                );
                for frame in &JAVA_FRAMES[6..10] {
                    out.push_str(frame);
                    out.push('\n');
                }
            }
            _ => {
                self.logback_head(
                    out,
                    "INFO",
                    "scheduling-1",
                    "c.e.orders.outbox.OutboxPublisher",
                );
                let _ = writeln!(
                    out,
                    "Published {} outbox events in {} ms (0 errors, retries disabled)",
                    self.rng.range(1, 200),
                    self.rng.range(2, 90)
                );
            }
        }
    }

    fn postgres(&mut self, out: &mut String) {
        self.prefix(out);
        match self.rng.below(1_000) {
            0..=449 => {
                let q = *self.rng.pick(&QUERIES);
                let _ = writeln!(
                    out,
                    "LOG:  duration: {}.{:03} ms  execute S_{}: {q}",
                    self.rng.range(0, 240),
                    self.rng.below(1_000),
                    self.rng.range(1, 9)
                );
            }
            450..=649 => {
                let _ = writeln!(
                    out,
                    "LOG:  connection received: host=10.0.3.{} port={}",
                    self.rng.range(2, 40),
                    self.rng.range(30_000, 60_000)
                );
            }
            650..=799 => {
                let _ = writeln!(
                    out,
                    "LOG:  connection authorized: user=orders database=orders application_name=PostgreSQL JDBC Driver"
                );
            }
            800..=899 => {
                let _ = writeln!(
                    out,
                    "LOG:  disconnection: session time: 0:{:02}:{:02}.{:03} user=orders database=orders host=10.0.3.7 port={}",
                    self.rng.below(60),
                    self.rng.below(60),
                    self.rng.below(1_000),
                    self.rng.range(30_000, 60_000)
                );
            }
            900..=939 => {
                let _ = writeln!(
                    out,
                    "ERROR:  duplicate key value violates unique constraint \"orders_idempotency_key_key\""
                );
                self.prefix(out);
                let _ = writeln!(
                    out,
                    "DETAIL:  Key (idempotency_key)=({:016x}) already exists.",
                    self.rng.next_u64()
                );
                self.prefix(out);
                let _ = writeln!(out, "STATEMENT:  {}", QUERIES[4]);
            }
            940..=959 => {
                let _ = writeln!(
                    out,
                    "LOG:  automatic vacuum of table \"orders.public.order_items\": index scans: 1"
                );
                let _ = writeln!(
                    out,
                    "\tpages: 0 removed, 81234 remain, 2211 scanned (2.72% of total)"
                );
                let _ = writeln!(
                    out,
                    "\ttuples: 4411 removed, 2012345 remain, 0 are dead but not yet removable"
                );
            }
            960..=969 => {
                let _ = writeln!(out, "LOG:  checkpoint starting: time");
            }
            970..=979 => {
                let _ = writeln!(
                    out,
                    "LOG:  checkpoint complete: wrote {} buffers (1.2%); 0 WAL file(s) added, 0 removed, 2 recycled; write=269.812 s, sync=0.004 s, total=269.845 s; sync files=41, longest=0.002 s, average=0.001 s; distance=32768 kB, estimate=40960 kB",
                    self.rng.range(500, 5_000)
                );
            }
            980..=989 => {
                let _ = writeln!(
                    out,
                    "LOG:  duration: {}.{:03} ms  statement: SELECT count(*) FROM orders WHERE created_at >= now() - interval '1 hour'",
                    self.rng.range(300, 980),
                    self.rng.below(1_000)
                );
            }
            _ => {
                let _ = writeln!(out, "ERROR:  canceling statement due to user request");
            }
        }
    }

    fn syslog(&mut self, out: &mut String) {
        self.prefix(out);
        self.uptime_us += self.rng.range(1_000, 2_000_000);
        let up = self.uptime_us;
        match self.rng.below(100) {
            0..=24 => {
                let _ = writeln!(
                    out,
                    "CRON[{}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
                    self.rng.range(10_000, 60_000)
                );
            }
            25..=44 => {
                let unit = *self.rng.pick(&[
                    "sysstat-collect",
                    "logrotate",
                    "apt-daily",
                    "man-db",
                    "fstrim",
                ]);
                let _ = writeln!(out, "systemd[1]: {unit}.service: Deactivated successfully.");
            }
            45..=54 => {
                let _ = writeln!(
                    out,
                    "systemd[1]: Started session-{}.scope - Session {} of User deploy.",
                    self.rng.range(100, 9_999),
                    self.rng.range(100, 9_999)
                );
            }
            55..=69 => {
                let _ = writeln!(
                    out,
                    "sshd[{}]: Accepted publickey for deploy from 10.1.0.{} port {} ssh2: ED25519 SHA256:Jt0n5c2XwB1g8a1oQ9Yk3mZp7Vf4dL6sR0uE2hT5bNc",
                    self.rng.range(10_000, 60_000),
                    self.rng.range(2, 254),
                    self.rng.range(30_000, 60_000)
                );
            }
            70..=84 => {
                let _ = writeln!(
                    out,
                    "kernel: [{}.{:06}] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=198.51.100.{} DST=10.0.3.7 LEN=44 TOS=0x00 PREC=0x00 TTL=243 ID=54321 PROTO=TCP SPT={} DPT=23 WINDOW=1024 RES=0x00 SYN URGP=0",
                    up / 1_000_000,
                    up % 1_000_000,
                    self.rng.range(2, 254),
                    self.rng.range(1_024, 65_000)
                );
            }
            85..=89 => {
                let _ = writeln!(
                    out,
                    "systemd-journald[412]: Data hash table of /var/log/journal/3f2a/system.journal has a fill level at 75.0 (8533 of 11377 items, 6553600 file size, 768 bytes per hash table item), suggesting rotation."
                );
            }
            90..=94 => {
                let _ = writeln!(
                    out,
                    "orders[{}]: 2026-11-21T{:02}:{:02}:{:02}Z INFO health check ok, 0 errors, heap 41%",
                    self.pid, self.civil.hour, self.civil.minute, self.civil.sec
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "kernel: [{}.{:06}] EXT4-fs (nvme0n1p1): mounted filesystem 2f0c7a31-9e1d-4c51-8b6a-0d3c5a1e7f42 r/w with ordered data mode. Quota mode: none.",
                    up / 1_000_000,
                    up % 1_000_000
                );
            }
        }
    }

    fn python(&mut self, out: &mut String) {
        self.prefix(out);
        match self.rng.below(100) {
            0..=49 => {
                let _ = writeln!(
                    out,
                    "INFO [celery.app.trace] Task shop.tasks.send_receipt[{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}] succeeded in {}.{:03}s: None",
                    self.rng.next_u64() as u32,
                    self.rng.below(65_536),
                    self.rng.below(4_096),
                    self.rng.below(4_096),
                    self.rng.next_u64() & 0xFFFF_FFFF_FFFF,
                    self.rng.below(3),
                    self.rng.below(1_000)
                );
            }
            50..=79 => {
                let _ = writeln!(
                    out,
                    "INFO [celery.worker.strategy] Task shop.tasks.sync_inventory[{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}] received",
                    self.rng.next_u64() as u32,
                    self.rng.below(65_536),
                    self.rng.below(4_096),
                    self.rng.below(4_096),
                    self.rng.next_u64() & 0xFFFF_FFFF_FFFF
                );
            }
            80..=89 => {
                let _ = writeln!(
                    out,
                    "INFO [gunicorn.access] 10.1.0.{} - - \"GET /internal/receipts/{} HTTP/1.1\" 200 {} \"-\" \"python-requests/2.32.3\"",
                    self.rng.range(2, 254),
                    self.rng.range(1_000, 99_999),
                    self.rng.range(300, 3_000)
                );
            }
            90..=95 => {
                let _ = writeln!(
                    out,
                    "WARNING [shop.tasks] inventory sync for warehouse {} skipped: no changes since last run (0 errors)",
                    self.rng.range(1, 9)
                );
            }
            _ => {
                // A handled, expected exception: logged with its traceback.
                let _ = writeln!(
                    out,
                    "WARNING [shop.tasks] receipt for order {} deferred: customer e-mail bounced",
                    self.rng.range(1_000_000, 9_999_999)
                );
            }
        }
    }

    fn kubelet(&mut self, out: &mut String) {
        self.prefix(out);
        let pid = 1_187;
        let c = self.civil;
        let _ = write!(
            out,
            "kubelet[{pid}]: I{:02}{:02} {:02}:{:02}:{:02}.{:06}    {pid} ",
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.sec,
            self.millis() * 1_000 + self.rng.below(1_000) as i64
        );
        let pod = format!(
            "orders-7c9f8b6d4-{}",
            ["x2kq9", "m8w4z", "p5t7c"][self.rng.below(3) as usize]
        );
        match self.rng.below(10) {
            0..=3 => {
                let _ = writeln!(
                    out,
                    "kubelet_getters.go:218] \"Pod status updated\" pod=\"shop/{pod}\" status=\"Running\""
                );
            }
            4..=5 => {
                let _ = writeln!(
                    out,
                    "prober.go:107] \"Probe succeeded\" probeType=\"Readiness\" pod=\"shop/{pod}\" containerName=\"orders\""
                );
            }
            6..=7 => {
                let _ = writeln!(
                    out,
                    "image_gc_manager.go:349] \"Disk usage on image filesystem is below the low threshold, no need to free space\" usage={} lowThreshold=80",
                    self.rng.range(40, 70)
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "kubelet.go:2455] \"SyncLoop (PLEG): event for pod\" pod=\"shop/{pod}\" event={{\"ID\":\"6f1c2a9e-8d3b-4c5a-9e7f-1b2c3d4e5f60\",\"Type\":\"ContainerStarted\"}}"
                );
            }
        }
    }

    // -- incidents ----------------------------------------------------------------

    /// The lines of one incident for this file: each gets the file's prefix
    /// (timestamp) when written.
    fn incident_lines(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        let n = self.rng.range(5, 40) as usize;
        match self.format {
            Format::NginxAccess => {
                // A burst of 502/504 (no prefix: the access log's time is inside).
                for _ in 0..n.max(25) {
                    let ip = self.ip();
                    let mut line = format!("{ip} - - ");
                    self.clf_time(&mut line);
                    let status = *self.rng.pick(&[502, 504, 504, 500]);
                    let _ = write!(
                        line,
                        " \"GET /api/orders/{} HTTP/1.1\" {status} 167 \"-\" \"okhttp/4.12.0\"",
                        self.rng.range(100_000, 999_999)
                    );
                    lines.push(line);
                }
                return lines;
            }
            Format::NginxError => {
                let kind = self.rng.below(3);
                for _ in 0..n {
                    self.conn += 1;
                    let ip = self.ip();
                    let message = match kind {
                        0 => {
                            "upstream timed out (110: Connection timed out) while reading response header from upstream"
                        }
                        1 => {
                            "connect() failed (111: Connection refused) while connecting to upstream"
                        }
                        _ => {
                            "recv() failed (104: Connection reset by peer) while reading response header from upstream"
                        }
                    };
                    lines.push(format!(
                        "*{} {message}, client: {ip}, server: shop.example.com, request: \"GET /api/cart HTTP/1.1\", upstream: \"http://10.0.3.7:8080/api/cart\", host: \"shop.example.com\"",
                        self.conn
                    ));
                }
            }
            Format::Logback => match self.rng.below(3) {
                0 => {
                    for i in 0..n {
                        lines.push(format!(
                            "ERROR [http-nio-8080-exec-{}] o.h.engine.jdbc.spi.SqlExceptionHelper - HikariPool-1 - Connection is not available, request timed out after 30000ms (total=20, active=20, idle=0, waiting={})",
                            i + 1,
                            10 + i
                        ));
                    }
                    lines.push("!java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms (total=20, active=20, idle=0, waiting=31)".to_owned());
                    lines.extend(JAVA_FRAMES.iter().map(|f| format!("!{f}")));
                }
                1 => {
                    lines.push("ERROR [kafka-producer-network-thread | orders] o.a.k.c.NetworkClient - [Producer clientId=orders] Connection to node 2 (kafka-2.internal/10.0.4.12:9092) could not be established. Broker may not be available.".to_owned());
                    for _ in 0..n {
                        lines.push("WARN  [kafka-producer-network-thread | orders] o.a.k.c.p.internals.Sender - [Producer clientId=orders] Got error produce response with correlation id 88213 on topic-partition orders-3, retrying (2147483646 attempts left). Error: NOT_LEADER_OR_FOLLOWER".to_owned());
                    }
                }
                _ => {
                    lines.push("ERROR [http-nio-8080-exec-12] o.a.c.c.C.[.[.[/].[dispatcherServlet] - Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Handler dispatch failed: java.lang.OutOfMemoryError: Java heap space] with root cause".to_owned());
                    lines.push("!java.lang.OutOfMemoryError: Java heap space".to_owned());
                    lines.extend(JAVA_FRAMES[6..].iter().map(|f| format!("!{f}")));
                }
            },
            Format::Postgres => match self.rng.below(3) {
                0 => {
                    for _ in 0..n {
                        lines.push("FATAL:  sorry, too many clients already".to_owned());
                    }
                }
                1 => {
                    lines.push("ERROR:  deadlock detected".to_owned());
                    lines.push("DETAIL:  Process 30871 waits for ShareLock on transaction 918231; blocked by process 30866.".to_owned());
                    lines.push(format!("STATEMENT:  {}", QUERIES[3]));
                }
                _ => {
                    for _ in 0..n {
                        lines.push(format!(
                            "LOG:  duration: {}.{:03} ms  statement: SELECT o.id, o.customer_id, o.total_cents FROM orders o WHERE o.created_at >= '2026-01-01' ORDER BY o.total_cents DESC",
                            self.rng.range(1_000, 60_000),
                            self.rng.below(1_000)
                        ));
                    }
                }
            },
            Format::Syslog => match self.rng.below(3) {
                0 => {
                    let up = self.uptime_us;
                    lines.push(format!("kernel: [{}.{:06}] java invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0", up / 1_000_000, up % 1_000_000));
                    lines.push(format!("kernel: [{}.{:06}] Out of memory: Killed process {} (java) total-vm:8123456kB, anon-rss:6234567kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:14000kB oom_score_adj:0", up / 1_000_000, up % 1_000_000 + 1, self.pid));
                    lines.push("systemd[1]: orders.service: Main process exited, code=killed, status=9/KILL".to_owned());
                    lines.push(
                        "systemd[1]: orders.service: Failed with result 'oom-kill'.".to_owned(),
                    );
                }
                1 => {
                    let up = self.uptime_us;
                    for i in 0..n.min(8) {
                        lines.push(format!("kernel: [{}.{:06}] blk_update_request: I/O error, dev nvme1n1, sector {} op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 0", up / 1_000_000, up % 1_000_000 + i as u64, 1_234_567 + i * 8));
                    }
                }
                _ => {
                    lines.push("systemd[1]: nginx.service: Main process exited, code=dumped, status=11/SEGV".to_owned());
                    lines.push(
                        "systemd[1]: nginx.service: Failed with result 'core-dump'.".to_owned(),
                    );
                }
            },
            Format::Python => {
                lines.push("ERROR [celery.app.trace] Task shop.tasks.sync_inventory[8f1c2a9e-8d3b-4c5a-9e7f-1b2c3d4e5f60] raised unexpected: ConnectionError('Error 111 connecting to redis.internal:6379. Connection refused.')".to_owned());
                lines.push("!Traceback (most recent call last):".to_owned());
                lines.push("!  File \"/usr/local/lib/python3.12/site-packages/redis/connection.py\", line 357, in connect".to_owned());
                lines.push("!    sock = self.retry.call_with_retry(".to_owned());
                lines.push("!redis.exceptions.ConnectionError: Error 111 connecting to redis.internal:6379. Connection refused.".to_owned());
            }
            Format::Kubelet => {
                for _ in 0..n.min(10) {
                    lines.push("kubelet[1187]: E1121 03:00:00.000000    1187 prober.go:104] \"Probe failed\" probeType=\"Liveness\" pod=\"shop/orders-7c9f8b6d4-x2kq9\" podUID=\"6f1c2a9e-8d3b-4c5a-9e7f-1b2c3d4e5f60\" containerName=\"orders\" probeResult=\"failure\" output=\"Get \\\"http://10.244.1.12:8080/healthz\\\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)\"".to_owned());
                }
                lines.push("kubelet[1187]: E1121 03:00:00.000000    1187 pod_workers.go:1298] \"Error syncing pod, skipping\" err=\"failed to \\\"StartContainer\\\" for \\\"orders\\\" with CrashLoopBackOff: \\\"back-off 5m0s restarting failed container=orders pod=orders-7c9f8b6d4-x2kq9_shop(6f1c2a9e-8d3b-4c5a-9e7f-1b2c3d4e5f60)\\\"\" pod=\"shop/orders-7c9f8b6d4-x2kq9\"".to_owned());
            }
        }
        lines
    }
}
