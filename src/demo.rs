//! The demo incident: a deterministic generator of the logs of an unfolding
//! outage on a small web shop, for `triage demo` and for tests.
//!
//! This module owns the script of the demo and nothing else: it is pure
//! (no clock, no threads, no I/O) except for [`write_all`], which writes a
//! script out as files. Five logs are produced, each in the real format of its
//! system: a Java service (logback, with multi-line stack traces), PostgreSQL
//! (stderr log with `%m [%p] ` prefix), nginx access (combined) and error
//! logs, and the kernel / systemd syslog of the application host.
//!
//! The story, in log time (the demo starts at 03:00:00 by default): four
//! minutes of healthy traffic; then a reporting job opens dozens of database
//! connections and runs heavy queries, the orders service's connection pool
//! fills (early warnings: slow statements, pool stats with waiting threads);
//! PostgreSQL runs out of connection slots; the pool times out requests with
//! stack traces; nginx times out on the upstream and a burst of 502/504
//! follows; the retry backlog fills the JVM heap (`OutOfMemoryError`); the
//! kernel OOM killer kills java; systemd restarts the service; traffic
//! recovers.
//!
//! Invariants:
//! - [`script`] is a pure function of `(seed, start)`: same inputs, same lines.
//! - The seed varies the ordinary traffic (clients, paths, latencies, exact
//!   timings); the cascade always happens in the same order, in the same
//!   phases.
//! - Lines are sorted by `at_ms` (stable), and every `at_ms` is below
//!   [`SPAN_MS`], so a replay at real speed takes a minute.
//! - The time printed in a line is `start + at_ms * TIME_SCALE` plus less
//!   than `TIME_SCALE` milliseconds: the ~60 s of the demo show ~20 minutes
//!   of log time, and printed times never go backwards within a file.
//! - No line contains a line terminator; stack trace continuation lines start
//!   with a tab (or `Caused by:` / `... N common frames omitted`) like the JVM
//!   prints them.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs, io,
    path::{Path, PathBuf},
};

use jiff::{SignedDuration, Timestamp, Zoned, tz::TimeZone};

/// The demo lasts this many milliseconds of `at_ms`.
pub const SPAN_MS: u64 = 60_000;

/// One millisecond of `at_ms` shows this many milliseconds of log time.
pub const TIME_SCALE: u64 = 20;

/// The Java service's log.
pub const APP_LOG: &str = "app/orders.log";
/// PostgreSQL's server log.
pub const POSTGRES_LOG: &str = "postgresql/postgresql.log";
/// nginx's access log (combined format).
pub const ACCESS_LOG: &str = "nginx/access.log";
/// nginx's error log.
pub const NGINX_ERROR_LOG: &str = "nginx/error.log";
/// The application host's kernel and systemd messages.
pub const KERN_LOG: &str = "syslog/kern.log";

/// Every file of the demo.
pub const FILES: [&str; 5] = [APP_LOG, POSTGRES_LOG, ACCESS_LOG, NGINX_ERROR_LOG, KERN_LOG];

/// One line of the demo, in the order it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLine {
    /// File name relative to the demo directory, e.g. "app/orders.log".
    pub file: &'static str,
    /// Milliseconds after the demo's start at which the line is written.
    pub at_ms: u64,
    /// The line, without its newline.
    pub text: String,
}

/// The default start of the demo's clock: 2026-11-21T03:00:00Z.
pub fn default_start() -> Timestamp {
    Timestamp::from_second(1_795_230_000).expect("2026-11-21T03:00:00Z is a valid timestamp")
}

/// Every line of the demo, sorted by `at_ms` (stable), deterministic for (seed, start).
pub fn script(seed: u64, start: Timestamp) -> Vec<DemoLine> {
    let mut demo = Demo::new(seed, start);
    demo.healthy_background();
    demo.traffic();
    demo.app_periodic();
    demo.postgres();
    demo.oom_kill();
    demo.restart();
    let mut entries = demo.out;
    entries.sort_by_key(|entry| entry.log_ms);
    entries
        .into_iter()
        .map(|entry| DemoLine {
            file: entry.file,
            at_ms: entry.log_ms / TIME_SCALE,
            text: entry.text,
        })
        .collect()
}

/// Writes the whole script into `dir` (creating subdirectories), one file per `DemoLine::file`,
/// LF line ends; returns the paths written, sorted.
pub fn write_all(dir: &Path, seed: u64, start: Timestamp) -> io::Result<Vec<PathBuf>> {
    let mut files: BTreeMap<&'static str, String> = BTreeMap::new();
    for line in script(seed, start) {
        let content = files.entry(line.file).or_default();
        content.push_str(&line.text);
        content.push('\n');
    }
    let mut written = Vec::with_capacity(files.len());
    for (file, content) in files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, content)?;
        written.push(path);
    }
    written.sort();
    Ok(written)
}

// ---------------------------------------------------------------------------
// The phases of the cascade, in milliseconds of log time after the start.

/// Last moment of log time a line may carry.
const LOG_END_MS: u64 = SPAN_MS * TIME_SCALE - TIME_SCALE;
/// The reporting job starts and opens its connections (03:04:00).
const T_REPORT_START: u64 = 240_000;
/// The orders pool has no idle connection left and threads wait (03:05:30).
const T_POOL_SATURATED: u64 = 330_000;
/// PostgreSQL refuses new connections (03:06:06).
const T_PG_FULL: u64 = 366_000;
/// The first pool timeout in the orders service (03:06:38).
const T_POOL_TIMEOUTS: u64 = 398_000;
/// The first `OutOfMemoryError` in the orders service (03:11:30).
const T_HEAP_OOM: u64 = 690_000;
/// The kernel OOM killer kills java (03:14:02).
const T_KILL: u64 = 842_500;
/// systemd restarts orders.service (03:14:07).
const T_RESTART: u64 = 847_400;
/// The restarted service accepts requests again (03:14:27).
const T_READY: u64 = 867_000;
/// The reporting job finishes and disconnects (03:15:15).
const T_REPORT_END: u64 = 915_000;

/// The host the orders service runs on.
const APP_HOST: &str = "web-1";
/// Its address, as nginx sees the upstream.
const APP_ADDR: &str = "10.0.3.7";
/// The reporting job's host.
const REPORT_ADDR: &str = "10.0.3.9";
/// The java process that gets killed.
const JAVA_PID: u32 = 4321;
/// The java process after the restart.
const JAVA_PID_RESTARTED: u32 = 4502;
/// Connections the reporting job opens.
const REPORT_CONNECTIONS: usize = 40;
/// The orders pool's `maximumPoolSize`.
const POOL_MAX: u32 = 20;
/// nginx worker processes.
const NGINX_WORKERS: [u32; 4] = [31, 32, 33, 34];

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

const USER_AGENTS: [(&str, bool); 7] = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        true,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
        true,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
        true,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
        true,
    ),
    ("ShopApp/4.12.0 (Android 15; Pixel 9)", false),
    ("ShopApp/4.12.0 (iOS 26.1; iPhone17,3)", false),
    ("okhttp/4.12.0", false),
];

const REFERERS: [&str; 3] = [
    "https://shop.example.com/account/orders",
    "https://shop.example.com/checkout",
    "https://shop.example.com/",
];

const STATIC_FILES: [(&str, u32); 4] = [
    ("/static/js/app.5f3c9a1e.js", 248_113),
    ("/static/css/main.9b2d41c7.css", 41_234),
    ("/static/img/logo.svg", 3_187),
    ("/robots.txt", 67),
];

const ORDERS_QUERY: &str = "SELECT o.id, o.status, o.total_cents, o.created_at FROM orders o WHERE o.customer_id = $1 ORDER BY o.created_at DESC LIMIT 20";
const ORDER_ITEMS_QUERY: &str = "SELECT oi.product_id, oi.quantity, oi.unit_price_cents FROM order_items oi WHERE oi.order_id = $1";
const CART_QUERY: &str = "SELECT c.id, c.updated_at, ci.product_id, ci.quantity FROM carts c JOIN cart_items ci ON ci.cart_id = c.id WHERE c.customer_id = $1";
const REPORT_QUERIES: [&str; 3] = [
    "SELECT date_trunc('day', o.created_at) AS day, c.country, count(*), sum(oi.quantity * oi.unit_price_cents) FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN customers c ON c.id = o.customer_id WHERE o.created_at >= now() - interval '400 days' GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT p.sku, sum(oi.quantity) AS units FROM order_items oi JOIN products p ON p.id = oi.product_id JOIN orders o ON o.id = oi.order_id WHERE o.status <> 'cancelled' GROUP BY p.sku ORDER BY units DESC",
    "COPY (SELECT o.id, o.customer_id, o.status, o.total_cents, o.created_at FROM orders o WHERE o.created_at >= '2025-11-01') TO STDOUT WITH (FORMAT csv, HEADER)",
];

const HIKARI_TIMEOUT: &str =
    "HikariPool-1 - Connection is not available, request timed out after 30000ms.";
const SERVLET_OOM: &str = "Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Handler dispatch failed: java.lang.OutOfMemoryError: Java heap space] with root cause";
const DISPATCHER: &str = "o.a.c.c.C.[.[.[/].[dispatcherServlet]";
const SQL_HELPER: &str = "o.h.engine.jdbc.spi.SqlExceptionHelper";
const HIKARI_POOL: &str = "com.zaxxer.hikari.pool.HikariPool";
const CONTROLLER: &str = "c.e.orders.OrderController";

const HIKARI_FRAMES: [&str; 20] = [
    "com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:686)",
    "com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:179)",
    "com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:144)",
    "com.zaxxer.hikari.HikariDataSource.getConnection(HikariDataSource.java:99)",
    "org.hibernate.engine.jdbc.connections.internal.DatasourceConnectionProviderImpl.getConnection(DatasourceConnectionProviderImpl.java:122)",
    "org.hibernate.internal.NonContextualJdbcConnectionAccess.obtainConnection(NonContextualJdbcConnectionAccess.java:46)",
    "org.hibernate.resource.jdbc.internal.LogicalConnectionManagedImpl.acquireConnectionIfNeeded(LogicalConnectionManagedImpl.java:126)",
    "org.hibernate.resource.jdbc.internal.LogicalConnectionManagedImpl.getPhysicalConnection(LogicalConnectionManagedImpl.java:156)",
    "org.springframework.orm.jpa.JpaTransactionManager.doBegin(JpaTransactionManager.java:420)",
    "org.springframework.transaction.support.AbstractPlatformTransactionManager.startTransaction(AbstractPlatformTransactionManager.java:532)",
    "org.springframework.transaction.support.AbstractPlatformTransactionManager.getTransaction(AbstractPlatformTransactionManager.java:405)",
    "org.springframework.transaction.interceptor.TransactionAspectSupport.invokeWithinTransaction(TransactionAspectSupport.java:386)",
    "org.springframework.transaction.interceptor.TransactionInterceptor.invoke(TransactionInterceptor.java:119)",
    "org.springframework.aop.framework.CglibAopProxy$DynamicAdvisedInterceptor.intercept(CglibAopProxy.java:720)",
    "com.example.orders.OrderService$$SpringCGLIB$$0.findOrder(<generated>)",
    "com.example.orders.OrderController.getOrder(OrderController.java:57)",
    "org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
    "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:564)",
    "org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:659)",
    "java.base/java.lang.Thread.run(Thread.java:1583)",
];

const PSQL_CAUSE_FRAMES: [&str; 9] = [
    "org.postgresql.core.v3.ConnectionFactoryImpl.doAuthentication(ConnectionFactoryImpl.java:698)",
    "org.postgresql.core.v3.ConnectionFactoryImpl.tryConnect(ConnectionFactoryImpl.java:207)",
    "org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:262)",
    "org.postgresql.core.ConnectionFactory.openConnection(ConnectionFactory.java:54)",
    "org.postgresql.jdbc.PgConnection.<init>(PgConnection.java:273)",
    "org.postgresql.Driver.makeConnection(Driver.java:446)",
    "org.postgresql.Driver.connect(Driver.java:298)",
    "com.zaxxer.hikari.util.DriverDataSource.getConnection(DriverDataSource.java:137)",
    "com.zaxxer.hikari.pool.PoolBase.newConnection(PoolBase.java:360)",
];

const OOM_FRAMES: [&str; 12] = [
    "java.base/java.util.Arrays.copyOf(Arrays.java:3541)",
    "java.base/java.io.ByteArrayOutputStream.ensureCapacity(ByteArrayOutputStream.java:100)",
    "java.base/java.io.ByteArrayOutputStream.write(ByteArrayOutputStream.java:132)",
    "com.fasterxml.jackson.core.json.UTF8JsonGenerator._flushBuffer(UTF8JsonGenerator.java:2203)",
    "com.fasterxml.jackson.core.json.UTF8JsonGenerator.writeString(UTF8JsonGenerator.java:521)",
    "com.fasterxml.jackson.databind.ObjectMapper.writeValueAsBytes(ObjectMapper.java:3905)",
    "com.example.orders.outbox.OutboxBuffer.append(OutboxBuffer.java:88)",
    "com.example.orders.OrderService.createOrder(OrderService.java:142)",
    "com.example.orders.OrderController.createOrder(OrderController.java:81)",
    "org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
    "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:564)",
    "java.base/java.lang.Thread.run(Thread.java:1583)",
];

// ---------------------------------------------------------------------------
// Randomness.

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to vary
/// the ordinary traffic; the same seed always gives the same stream. Also
/// the random source of the benchmark corpus (`benches/support/corpus.rs`).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// True once in `per` times.
    pub fn one_in(&mut self, per: u64) -> bool {
        self.below(per) == 0
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------
// The generator.

/// A line before sorting: its log time decides its place.
struct Entry {
    log_ms: u64,
    file: &'static str,
    text: String,
}

/// A client of the shop, as nginx sees it.
struct Client {
    ip: String,
    agent: &'static str,
    browser: bool,
}

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    GetOrder,
    ListOrders,
    CreateOrder,
    OrderStatus,
    Cart,
    Static,
    Favicon,
}

/// Where the cascade stands at a moment of log time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Healthy,
    Degraded,
    PoolTimeouts,
    HeapOom,
    Down,
    Recovered,
}

fn phase(ms: u64) -> Phase {
    if ms < T_REPORT_START {
        Phase::Healthy
    } else if ms < T_POOL_TIMEOUTS {
        Phase::Degraded
    } else if ms < T_HEAP_OOM {
        Phase::PoolTimeouts
    } else if ms < T_KILL {
        Phase::HeapOom
    } else if ms < T_READY {
        Phase::Down
    } else {
        Phase::Recovered
    }
}

struct Demo {
    start: Timestamp,
    rng: SplitMix64,
    out: Vec<Entry>,
    clients: Vec<Client>,
    /// nginx's connection counter (`*N` in the error log).
    nginx_conn: u64,
    /// PostgreSQL backend pids given out so far.
    pg_pids: BTreeSet<u32>,
    /// Backend pids of the orders pool's connections.
    pool_pids: Vec<u32>,
    /// Kernel uptime at the start, in microseconds.
    uptime_us: u64,
    /// Hikari timeouts printed so far (every few get a full stack trace).
    pool_failures: u32,
    /// Heap exhaustion errors printed so far (the first gets a stack trace).
    oom_failures: u32,
    /// The next order id.
    order_id: u64,
}

impl Demo {
    fn new(seed: u64, start: Timestamp) -> Demo {
        let mut rng = SplitMix64(seed);
        let mut clients = Vec::new();
        for i in 0..16 {
            let ip = match i % 4 {
                0 => format!("203.0.113.{}", rng.range(2, 254)),
                1 => format!("198.51.100.{}", rng.range(2, 254)),
                2 => format!("192.0.2.{}", rng.range(2, 254)),
                _ => format!("10.1.{}.{}", rng.range(0, 7), rng.range(2, 254)),
            };
            let &(agent, browser) = rng.pick(&USER_AGENTS);
            clients.push(Client { ip, agent, browser });
        }
        let mut pool_pids = Vec::new();
        let mut pid = 3_100 + rng.range(0, 400) as u32;
        for _ in 0..POOL_MAX {
            pid += rng.range(1, 40) as u32;
            pool_pids.push(pid);
        }
        let nginx_conn = 8_000 + rng.range(0, 2_000);
        let uptime_us = 811_900_000_000 + rng.range(0, 999_999_999);
        let order_id = 1_048_000 + rng.range(0, 9_000);
        Demo {
            start,
            rng,
            out: Vec::new(),
            clients,
            nginx_conn,
            pg_pids: BTreeSet::new(),
            pool_pids,
            uptime_us,
            pool_failures: 0,
            oom_failures: 0,
            order_id,
        }
    }

    fn push(&mut self, file: &'static str, log_ms: u64, text: String) {
        self.out.push(Entry {
            log_ms: log_ms.min(LOG_END_MS),
            file,
            text,
        });
    }

    /// The printed time of a moment of log time, in UTC.
    fn time(&self, log_ms: u64) -> Zoned {
        let ms = i64::try_from(log_ms.min(LOG_END_MS)).expect("log times stay below 20 minutes");
        self.start
            .saturating_add(SignedDuration::from_millis(ms))
            .expect("adding a SignedDuration has no calendar units to fail on")
            .to_zoned(TimeZone::UTC)
    }

    // -- formats ------------------------------------------------------------

    /// logback: `2026-11-21 03:00:01,234 INFO  [thread] logger - message`.
    fn app(&mut self, ms: u64, level: &str, thread: &str, logger: &str, message: &str) {
        let t = self.time(ms);
        let text = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03} {level:<5} [{thread}] {logger} - {message}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        );
        self.push(APP_LOG, ms, text);
    }

    /// A continuation line of a stack trace, exactly as given.
    fn app_raw(&mut self, ms: u64, text: String) {
        self.push(APP_LOG, ms, text);
    }

    /// PostgreSQL with `log_line_prefix = '%m [%p] '`.
    fn pg(&mut self, ms: u64, pid: u32, severity: &str, message: &str) {
        let t = self.time(ms);
        let text = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} UTC [{pid}] {severity}:  {message}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        );
        self.push(POSTGRES_LOG, ms, text);
    }

    /// The HTTP version a client speaks: browsers use HTTP/2.
    fn protocol(&self, client: usize) -> &'static str {
        if self.clients[client].browser {
            "HTTP/2.0"
        } else {
            "HTTP/1.1"
        }
    }

    /// The page a client's request comes from (`-` for apps).
    fn referer(&mut self, client: usize) -> &'static str {
        if self.clients[client].browser {
            REFERERS[self.rng.below(REFERERS.len() as u64) as usize]
        } else {
            "-"
        }
    }

    /// nginx combined format.
    fn access(
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
    fn access_from(
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
            "{} - - [{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000] \"{method} {path} {protocol}\" {status} {bytes} \"{referer}\" \"{}\"",
            c.ip,
            t.day(),
            month_name(&t),
            t.year(),
            t.hour(),
            t.minute(),
            t.second(),
            c.agent
        );
        self.push(ACCESS_LOG, ms, text);
    }

    /// nginx error log: `2026/11/21 03:05:12 [error] 31#31: *8812 message`.
    fn nginx_error(&mut self, ms: u64, level: &str, conn: u64, message: &str) {
        let t = self.time(ms);
        let worker = *self.rng.pick(&NGINX_WORKERS);
        let text = format!(
            "{:04}/{:02}/{:02} {:02}:{:02}:{:02} [{level}] {worker}#{worker}: *{conn} {message}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        self.push(NGINX_ERROR_LOG, ms, text);
    }

    /// RFC 3164 syslog line from the application host.
    fn syslog(&mut self, ms: u64, tag: &str, message: &str) {
        let t = self.time(ms);
        let text = format!(
            "{} {:>2} {:02}:{:02}:{:02} {APP_HOST} {tag}: {message}",
            month_name(&t),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        self.push(KERN_LOG, ms, text);
    }

    /// A kernel message, with the uptime stamp the kernel prints. `micros`
    /// orders messages written within the same millisecond.
    fn kernel(&mut self, ms: u64, micros: u64, message: &str) {
        let up = self.uptime_us + ms * 1_000 + micros;
        let text = format!("[{}.{:06}] {message}", up / 1_000_000, up % 1_000_000);
        self.syslog(ms, "kernel", &text);
    }

    // -- nginx and the requests it passes on --------------------------------

    /// Requests from clients, through nginx to the orders service, for the
    /// whole demo; the status of each depends on the phase of the cascade.
    fn traffic(&mut self) {
        // The first request that times out waiting for a connection.
        let client = self.rng.below(self.clients.len() as u64) as usize;
        let path = format!("/api/orders/{}", self.rng.range(100_000, 999_999));
        self.pool_timeout(T_POOL_TIMEOUTS - 400, Endpoint::GetOrder);
        self.access(T_POOL_TIMEOUTS - 380, client, "GET", &path, 500, 112);
        let mut ms = self.rng.range(300, 1_500);
        let mut killed = false;
        while ms < LOG_END_MS - 1_000 {
            if ms >= T_KILL && !killed {
                killed = true;
                self.in_flight_reset();
            }
            self.request(ms);
            let gap = match phase(ms) {
                Phase::Healthy | Phase::Degraded => self.rng.range(1_100, 3_000),
                Phase::PoolTimeouts | Phase::HeapOom | Phase::Down => self.rng.range(550, 1_400),
                Phase::Recovered if ms < T_READY + 60_000 => self.rng.range(600, 1_600),
                Phase::Recovered => self.rng.range(1_100, 3_000),
            };
            ms += gap;
        }
    }

    /// Requests in flight when java is killed: their connections are reset.
    fn in_flight_reset(&mut self) {
        for i in 0..4 {
            let ms = T_KILL + 3 + i * self.rng.range(1, 6);
            let client = self.rng.below(self.clients.len() as u64) as usize;
            let path = format!("/api/orders/{}", self.rng.range(100_000, 999_999));
            self.upstream_failure(
                ms,
                client,
                "GET",
                &path,
                "recv() failed (104: Connection reset by peer) while reading response header from upstream",
            );
            self.access(ms, client, "GET", &path, 502, 157);
        }
    }

    fn request(&mut self, ms: u64) {
        let client = self.rng.below(self.clients.len() as u64) as usize;
        let endpoint = match self.rng.below(100) {
            0..30 => Endpoint::GetOrder,
            30..45 => Endpoint::ListOrders,
            45..57 => Endpoint::CreateOrder,
            57..72 => Endpoint::OrderStatus,
            72..84 => Endpoint::Cart,
            84..97 => Endpoint::Static,
            _ => Endpoint::Favicon,
        };
        self.nginx_conn += self.rng.range(1, 3);
        let customer = self.rng.range(1_000, 99_999);
        let order = self.rng.range(100_000, 999_999);
        let (method, path) = match endpoint {
            Endpoint::GetOrder => ("GET", format!("/api/orders/{order}")),
            Endpoint::ListOrders => (
                "GET",
                format!(
                    "/api/orders?customer={customer}&page={}",
                    self.rng.range(1, 3)
                ),
            ),
            Endpoint::CreateOrder => ("POST", "/api/orders".to_owned()),
            Endpoint::OrderStatus => ("GET", format!("/api/orders/{order}/status")),
            Endpoint::Cart => ("GET", "/api/cart".to_owned()),
            Endpoint::Static => {
                let &(path, size) = self.rng.pick(&STATIC_FILES);
                let status = if self.clients[client].browser && self.rng.chance(40) {
                    304
                } else {
                    200
                };
                let bytes = if status == 304 { 0 } else { u64::from(size) };
                self.access(ms, client, "GET", path, status, bytes);
                return;
            }
            Endpoint::Favicon => {
                let ip = self.clients[client].ip.clone();
                let protocol = self.protocol(client);
                let referer = self.referer(client);
                let mut message = format!(
                    "open() \"/usr/share/nginx/html/favicon.ico\" failed (2: No such file or directory), client: {ip}, server: shop.example.com, request: \"GET /favicon.ico {protocol}\", host: \"shop.example.com\""
                );
                if referer != "-" {
                    message.push_str(&format!(", referrer: \"{referer}\""));
                }
                self.nginx_error(ms, "error", self.nginx_conn, &message);
                self.access_from(ms, client, "GET", "/favicon.ico", 404, 153, referer);
                return;
            }
        };
        match phase(ms) {
            Phase::Healthy | Phase::Degraded | Phase::Recovered => {
                self.served(ms, client, endpoint, method, &path, customer, order);
            }
            Phase::PoolTimeouts | Phase::HeapOom => {
                let oom = phase(ms) == Phase::HeapOom;
                match self.rng.below(100) {
                    // Some requests still find a free connection.
                    0..15 => self.served(ms, client, endpoint, method, &path, customer, order),
                    // Clients that give up first.
                    15..20 => self.access(ms, client, method, &path, 499, 0),
                    // The service answers with an error after its own timeout.
                    20..50 => {
                        if oom && (endpoint == Endpoint::CreateOrder || self.rng.chance(50)) {
                            let thread = format!("http-nio-8080-exec-{}", self.rng.range(11, 200));
                            let at = ms.saturating_sub(self.rng.range(2, 30));
                            self.heap_exhausted(at, &thread, DISPATCHER, SERVLET_OOM);
                        } else {
                            let at = ms.saturating_sub(self.rng.range(2, 30));
                            self.pool_timeout(at, endpoint);
                        }
                        self.access(ms, client, method, &path, 500, 112);
                    }
                    // A GC-thrashing JVM drops the connection.
                    50..56 if oom => {
                        self.upstream_failure(
                            ms,
                            client,
                            method,
                            &path,
                            "upstream prematurely closed connection while reading response header from upstream",
                        );
                        self.access(ms, client, method, &path, 502, 157);
                    }
                    // nginx gives up first (proxy_read_timeout 30s).
                    _ => {
                        self.upstream_failure(
                            ms,
                            client,
                            method,
                            &path,
                            "upstream timed out (110: Connection timed out) while reading response header from upstream",
                        );
                        self.access(ms, client, method, &path, 504, 167);
                        let late = ms + self.rng.range(50, 900);
                        if self.rng.chance(50) && late < T_KILL - 100 {
                            self.pool_timeout(late, endpoint);
                        }
                    }
                }
            }
            Phase::Down => {
                self.upstream_failure(
                    ms,
                    client,
                    method,
                    &path,
                    "connect() failed (111: Connection refused) while connecting to upstream",
                );
                self.access(ms, client, method, &path, 502, 157);
            }
        }
    }

    /// A request the orders service answers normally.
    #[allow(clippy::too_many_arguments)]
    fn served(
        &mut self,
        ms: u64,
        client: usize,
        endpoint: Endpoint,
        method: &str,
        path: &str,
        customer: u64,
        order: u64,
    ) {
        let thread = format!("http-nio-8080-exec-{}", self.rng.range(1, 10));
        let app_ms = ms.saturating_sub(self.rng.range(1, 40));
        let (status, bytes) = match endpoint {
            Endpoint::GetOrder if self.rng.chance(5) => {
                let message = format!("Order {order} not found");
                self.app(app_ms, "INFO", &thread, CONTROLLER, &message);
                (404, 92)
            }
            Endpoint::GetOrder => (200, self.rng.range(600, 1_400)),
            Endpoint::ListOrders => (200, self.rng.range(2_000, 9_000)),
            Endpoint::OrderStatus => (200, self.rng.range(80, 140)),
            Endpoint::Cart if self.rng.chance(4) => (401, 0),
            Endpoint::Cart => (200, self.rng.range(300, 2_500)),
            Endpoint::CreateOrder if self.rng.chance(8) => {
                self.app(
                    app_ms,
                    "WARN",
                    &thread,
                    "c.e.orders.web.ApiExceptionHandler",
                    "Rejected POST /api/orders: items[0].quantity must be greater than 0",
                );
                (400, 118)
            }
            Endpoint::CreateOrder => {
                self.order_id += self.rng.range(1, 9);
                let items = self.rng.range(1, 6);
                let cents = self.rng.range(990, 49_990);
                let message = format!(
                    "Created order {} for customer {customer} ({items} items, total {}.{:02} EUR)",
                    self.order_id,
                    cents / 100,
                    cents % 100
                );
                self.app(app_ms, "INFO", &thread, CONTROLLER, &message);
                (201, self.rng.range(420, 700))
            }
            Endpoint::Static | Endpoint::Favicon => (200, 0),
        };
        if phase(ms) == Phase::Degraded && ms > T_REPORT_START + 20_000 && self.rng.chance(30) {
            let took = self.rng.range(1_800, 6_500);
            let message = format!("Slow request {method} {path} took {took} ms");
            self.app(
                app_ms,
                "WARN",
                &thread,
                "c.e.orders.web.RequestTimingFilter",
                &message,
            );
        }
        self.access(ms, client, method, path, status, bytes);
    }

    /// An nginx `[error]` line about the orders upstream.
    fn upstream_failure(&mut self, ms: u64, client: usize, method: &str, path: &str, what: &str) {
        let ip = self.clients[client].ip.clone();
        let protocol = self.protocol(client);
        let message = format!(
            "{what}, client: {ip}, server: shop.example.com, request: \"{method} {path} {protocol}\", upstream: \"http://{APP_ADDR}:8080{path}\", host: \"shop.example.com\""
        );
        self.nginx_conn += 1;
        self.nginx_error(ms, "error", self.nginx_conn, &message);
    }

    // -- the orders service ---------------------------------------------------

    /// A request thread that waited 30 s for a connection and got none.
    fn pool_timeout(&mut self, ms: u64, endpoint: Endpoint) {
        let thread = format!("http-nio-8080-exec-{}", self.rng.range(11, 200));
        self.app(
            ms,
            "WARN",
            &thread,
            SQL_HELPER,
            "SQL Error: 0, SQLState: 53300",
        );
        self.app(ms, "ERROR", &thread, SQL_HELPER, HIKARI_TIMEOUT);
        self.pool_failures += 1;
        if self.pool_failures > 2 && !self.pool_failures.is_multiple_of(20) {
            return;
        }
        let ms = ms + self.rng.range(2, 9);
        let failure = if endpoint == Endpoint::CreateOrder {
            "Request processing failed: org.springframework.transaction.CannotCreateTransactionException: Could not open JPA EntityManager for transaction"
        } else {
            "Request processing failed: org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection"
        };
        let message = format!(
            "Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [{failure}] with root cause"
        );
        self.app(ms, "ERROR", &thread, DISPATCHER, &message);
        self.app_raw(
            ms,
            format!("java.sql.SQLTransientConnectionException: {HIKARI_TIMEOUT}"),
        );
        for frame in HIKARI_FRAMES {
            self.app_raw(ms, format!("\tat {frame}"));
        }
        self.app_raw(
            ms,
            "Caused by: org.postgresql.util.PSQLException: FATAL: sorry, too many clients already"
                .to_owned(),
        );
        for frame in PSQL_CAUSE_FRAMES {
            self.app_raw(ms, format!("\tat {frame}"));
        }
        self.app_raw(ms, "\t... 7 common frames omitted".to_owned());
    }

    /// A thread that could not allocate on the heap.
    fn heap_exhausted(&mut self, ms: u64, thread: &str, logger: &str, message: &str) {
        self.app(ms, "ERROR", thread, logger, message);
        self.app_raw(ms, "java.lang.OutOfMemoryError: Java heap space".to_owned());
        self.oom_failures += 1;
        // The JVM throws preallocated errors without a stack trace once the
        // heap is exhausted; only the first ones carry frames.
        if self.oom_failures <= 2 {
            for frame in OOM_FRAMES {
                self.app_raw(ms, format!("\tat {frame}"));
            }
        }
    }

    /// The orders service's own periodic lines: pool stats from the Hikari
    /// housekeeper, the outbox publisher.
    fn app_periodic(&mut self) {
        // Hikari's housekeeper runs every 30 s; it logs pool stats at DEBUG.
        let jitter = self.rng.range(100, 900);
        let mut waiting: u64 = 0;
        let mut total = u64::from(POOL_MAX);
        for tick in 0..40u64 {
            let ms = tick * 30_000 + jitter + self.rng.range(0, 40);
            if (T_KILL..T_READY + 20_000).contains(&ms) || ms > LOG_END_MS {
                continue;
            }
            let (total_now, active) = match phase(ms) {
                Phase::Healthy => (total, self.rng.range(1, 5)),
                Phase::Degraded if ms < T_POOL_SATURATED => {
                    let progress = (ms - T_REPORT_START) * 12 / (T_POOL_SATURATED - T_REPORT_START);
                    (total, (6 + progress + self.rng.range(0, 2)).min(total - 1))
                }
                Phase::Degraded | Phase::PoolTimeouts | Phase::HeapOom => {
                    waiting = (waiting + waiting / 3 + self.rng.range(3, 9))
                        .min(170 + self.rng.range(0, 25));
                    if ms > T_PG_FULL && total > 12 {
                        total -= self.rng.range(1, 2);
                    }
                    (total, total)
                }
                Phase::Down | Phase::Recovered => {
                    waiting = 0;
                    (10, self.rng.range(1, 6))
                }
            };
            let idle = total_now - active;
            let stats = format!(
                "HikariPool-1 - Pool stats (total={total_now}, active={active}, idle={idle}, waiting={})",
                if idle == 0 { waiting } else { 0 }
            );
            self.app(ms, "DEBUG", "HikariPool-1 housekeeper", HIKARI_POOL, &stats);
            if phase(ms) == Phase::Recovered {
                self.app(
                    ms,
                    "DEBUG",
                    "HikariPool-1 housekeeper",
                    HIKARI_POOL,
                    "HikariPool-1 - Fill pool skipped, pool has sufficient level or currently being filled.",
                );
            }
        }
        // Connections retired by maxLifetime cannot be replaced once the
        // database is full.
        for i in 0..3u64 {
            let ms = T_PG_FULL + 4_000 + i * self.rng.range(20_000, 40_000);
            let conn = format!("{:08x}", self.rng.next_u64() as u32);
            let message = format!(
                "HikariPool-1 - Failed to validate connection org.postgresql.jdbc.PgConnection@{conn} (This connection has been closed.). Possibly consider using a shorter maxLifetime value."
            );
            self.app(
                ms,
                "WARN",
                "HikariPool-1 connection adder",
                "com.zaxxer.hikari.pool.PoolBase",
                &message,
            );
        }
        // The first allocation that fails: the outbox buffer, in a scheduled task.
        self.heap_exhausted(
            T_HEAP_OOM,
            "scheduling-1",
            "o.s.s.s.TaskUtils$LoggingErrorHandler",
            "Unexpected error occurred in scheduled task",
        );
        // GC thrashing starves the housekeeper.
        for i in 0..2u64 {
            let ms = T_HEAP_OOM + 40_000 + i * 55_000 + self.rng.range(0, 5_000);
            let delta = format!(
                "HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta={}s{}ms).",
                self.rng.range(41, 58),
                self.rng.range(0, 999)
            );
            self.app(ms, "WARN", "HikariPool-1 housekeeper", HIKARI_POOL, &delta);
        }
        // The outbox publisher runs every minute; without a connection its
        // backlog grows in memory (which is what fills the heap).
        let offset = self.rng.range(5_000, 25_000);
        let mut backlog: u64 = 0;
        for minute in 0..20u64 {
            let ms = minute * 60_000 + offset + self.rng.range(0, 300);
            match phase(ms) {
                Phase::Healthy | Phase::Degraded | Phase::Recovered => {
                    let events = self.rng.range(3, 40) + backlog;
                    backlog = 0;
                    let message = format!(
                        "Published {events} outbox events to topic orders.events in {} ms",
                        self.rng.range(12, 90)
                    );
                    self.app(
                        ms,
                        "INFO",
                        "scheduling-1",
                        "c.e.orders.outbox.OutboxPublisher",
                        &message,
                    );
                }
                Phase::PoolTimeouts | Phase::HeapOom => {
                    backlog = backlog * 3 + self.rng.range(20_000, 40_000);
                    let message = format!(
                        "Outbox publish deferred: no database connection available; {backlog} events buffered in memory"
                    );
                    self.app(
                        ms,
                        "WARN",
                        "scheduling-1",
                        "c.e.orders.outbox.OutboxPublisher",
                        &message,
                    );
                }
                Phase::Down => backlog = 0,
            }
        }
    }

    /// The restarted orders service starting up.
    fn restart(&mut self) {
        let mut ms = T_RESTART + 1_500;
        let pid = JAVA_PID_RESTARTED;
        let lines: [(&str, &str, String, u64); 9] = [
            (
                "c.e.orders.OrdersApplication",
                "INFO",
                format!(
                    "Starting OrdersApplication v2.14.3 using Java 21.0.5 with PID {pid} (/opt/orders/orders.jar started by orders in /opt/orders)"
                ),
                2_300,
            ),
            (
                "c.e.orders.OrdersApplication",
                "INFO",
                "The following 1 profile is active: \"prod\"".to_owned(),
                3_100,
            ),
            (
                "o.s.b.w.e.tomcat.TomcatWebServer",
                "INFO",
                "Tomcat initialized with port 8080 (http)".to_owned(),
                1_400,
            ),
            (
                "com.zaxxer.hikari.HikariDataSource",
                "INFO",
                "HikariPool-1 - Starting...".to_owned(),
                600,
            ),
            (
                HIKARI_POOL,
                "INFO",
                format!(
                    "HikariPool-1 - Added connection org.postgresql.jdbc.PgConnection@{:08x}",
                    self.rng.next_u64() as u32
                ),
                40,
            ),
            (
                "com.zaxxer.hikari.HikariDataSource",
                "INFO",
                "HikariPool-1 - Start completed.".to_owned(),
                9_800,
            ),
            (
                "o.s.b.w.e.tomcat.TomcatWebServer",
                "INFO",
                "Tomcat started on port 8080 (http) with context path '/'".to_owned(),
                60,
            ),
            (
                "c.e.orders.OrdersApplication",
                "INFO",
                format!(
                    "Started OrdersApplication in 19.874 seconds (process running for {}.{:03})",
                    20 + self.rng.range(0, 1),
                    self.rng.range(0, 999)
                ),
                400,
            ),
            (
                "c.e.orders.outbox.OutboxPublisher",
                "INFO",
                "Outbox publisher started; buffer cleared, pending events will be re-read from the outbox table".to_owned(),
                0,
            ),
        ];
        for (logger, level, message, pause) in lines {
            self.app(ms, level, "main", logger, &message);
            ms += pause;
        }
    }

    // -- PostgreSQL -----------------------------------------------------------

    fn postgres(&mut self) {
        // The restarted service fills its pool.
        let mut ms = T_RESTART + 8_320 + self.rng.range(0, 60);
        let mut new_pids = Vec::new();
        for _ in 0..10 {
            let pid = self.pid_at(ms);
            new_pids.push(pid);
            let port = self.rng.range(40_000, 60_999);
            self.pg(
                ms,
                pid,
                "LOG",
                &format!("connection received: host={APP_ADDR} port={port}"),
            );
            self.pg(
                ms + 3,
                pid,
                "LOG",
                "connection authorized: user=orders database=orders application_name=PostgreSQL JDBC Driver",
            );
            ms += self.rng.range(12, 40);
        }

        // Checkpoints every 5 minutes, spread over 90% of the interval.
        let mut ms = self.rng.range(20_000, 80_000);
        while ms < LOG_END_MS {
            self.pg(ms, 818, "LOG", "checkpoint starting: time");
            let done = ms + 269_000 + self.rng.range(100, 900);
            if done < LOG_END_MS {
                let buffers = self.rng.range(900, 4_200);
                let message = format!(
                    "checkpoint complete: wrote {buffers} buffers ({}.{}%); 0 WAL file(s) added, 0 removed, {} recycled; write=269.{:03} s, sync=0.0{:02} s, total=269.{:03} s; sync files={}, longest=0.003 s, average=0.001 s; distance={} kB, estimate={} kB; lsn=3/{:08X}, redo lsn=3/{:08X}",
                    buffers * 100 / 16_384,
                    self.rng.range(0, 9),
                    self.rng.range(1, 3),
                    self.rng.range(0, 999),
                    self.rng.range(1, 40),
                    self.rng.range(0, 999),
                    self.rng.range(20, 90),
                    self.rng.range(18_000, 40_000),
                    self.rng.range(20_000, 30_000),
                    self.rng.next_u64() as u32,
                    self.rng.next_u64() as u32
                );
                self.pg(done, 818, "LOG", &message);
            }
            ms = done + 30_000;
        }

        // Autovacuum analyzes the orders table.
        let ms = self.rng.range(100_000, 200_000);
        let pid = self.pid_at(ms);
        self.pg(
            ms,
            pid,
            "LOG",
            "automatic analyze of table \"orders.public.orders\"",
        );
        let detail = [
            format!(
                "\tavg read rate: {}.{:03} MB/s, avg write rate: 0.{:03} MB/s",
                self.rng.range(8, 30),
                self.rng.range(0, 999),
                self.rng.range(50, 400)
            ),
            format!(
                "\tbuffer usage: {} hits, {} misses, {} dirtied",
                self.rng.range(5_000, 12_000),
                self.rng.range(400, 2_000),
                self.rng.range(1, 30)
            ),
            format!(
                "\tsystem usage: CPU: user: 0.{:02} s, system: 0.0{} s, elapsed: 0.{:02} s",
                self.rng.range(20, 60),
                self.rng.range(1, 9),
                self.rng.range(60, 99)
            ),
        ];
        for line in detail {
            self.push(POSTGRES_LOG, ms, line);
        }

        // Dashboards connect now and then (log_connections, log_disconnections).
        for _ in 0..3 {
            let ms = self.rng.range(10_000, 230_000);
            self.short_session(ms, "10.0.3.21", "grafana", "grafana");
        }
        for _ in 0..2 {
            let ms = self.rng.range(T_REPORT_END + 30_000, LOG_END_MS - 5_000);
            self.short_session(ms, "10.0.3.21", "grafana", "grafana");
        }

        // Ordinary statements above log_min_duration_statement (250 ms).
        let mut ms = self.rng.range(5_000, 30_000);
        while ms < LOG_END_MS - 2_000 {
            let slow = match phase(ms) {
                Phase::Healthy | Phase::Recovered => self.rng.range(251, 940),
                Phase::Degraded if ms < T_REPORT_START + 30_000 => self.rng.range(400, 980),
                Phase::Degraded => self.rng.range(1_050, 4_800),
                Phase::PoolTimeouts | Phase::HeapOom => self.rng.range(2_000, 9_500),
                Phase::Down => {
                    // java is dead: nothing of its runs.
                    ms += 5_000;
                    continue;
                }
            };
            let pid = if phase(ms) == Phase::Recovered {
                *self.rng.pick(&new_pids)
            } else {
                *self.rng.pick(&self.pool_pids)
            };
            let (query, param) = match self.rng.below(3) {
                0 => (ORDERS_QUERY, self.rng.range(1_000, 99_999)),
                1 => (ORDER_ITEMS_QUERY, self.rng.range(100_000, 999_999)),
                _ => (CART_QUERY, self.rng.range(1_000, 99_999)),
            };
            let message = format!(
                "duration: {slow}.{:03} ms  execute S_{}: {query}",
                self.rng.range(0, 999),
                self.rng.range(1, 9)
            );
            self.pg(ms, pid, "LOG", &message);
            self.pg(ms, pid, "DETAIL", &format!("parameters: $1 = '{param}'"));
            ms += match phase(ms) {
                Phase::Healthy | Phase::Recovered | Phase::Down => self.rng.range(15_000, 45_000),
                _ => self.rng.range(6_000, 16_000),
            };
        }

        self.report_job();
        self.connection_refusals();

        // java is killed: its connections drop.
        for (i, pid) in self.pool_pids.clone().into_iter().enumerate() {
            let ms = T_KILL + 2 + i as u64;
            if i % 5 == 0 {
                self.pg(
                    ms,
                    pid,
                    "LOG",
                    "unexpected EOF on client connection with an open transaction",
                );
            }
            let message = format!(
                "disconnection: session time: 2:{:02}:{:02}.{:03} user=orders database=orders host={APP_ADDR} port={}",
                self.rng.range(10, 59),
                self.rng.range(0, 59),
                self.rng.range(0, 999),
                self.rng.range(40_000, 60_999)
            );
            self.pg(ms, pid, "LOG", &message);
        }
    }

    /// A fresh backend pid for a process forked at `ms`: pids grow with
    /// time, as the postmaster forks, and are never reused within the demo.
    fn pid_at(&mut self, ms: u64) -> u32 {
        let mut pid = 20_000 + u32::try_from(ms / 10).expect("log times stay below 20 minutes");
        pid += self.rng.range(0, 2) as u32;
        while !self.pg_pids.insert(pid) {
            pid += 1;
        }
        pid
    }

    fn short_session(&mut self, ms: u64, host: &str, user: &str, app: &str) {
        let pid = self.pid_at(ms);
        let port = self.rng.range(40_000, 60_999);
        self.pg(
            ms,
            pid,
            "LOG",
            &format!("connection received: host={host} port={port}"),
        );
        let authorized =
            format!("connection authorized: user={user} database=orders application_name={app}");
        self.pg(ms + 2, pid, "LOG", &authorized);
        let length = self.rng.range(200, 3_000);
        let message = format!(
            "disconnection: session time: 0:00:{:02}.{:03} user={user} database=orders host={host} port={port}",
            length / 1_000,
            length % 1_000
        );
        self.pg(ms + length, pid, "LOG", &message);
    }

    /// The nightly export: too many parallel workers, heavy queries.
    fn report_job(&mut self) {
        let mut pids = Vec::new();
        let mut ms = T_REPORT_START + self.rng.range(0, 900);
        for i in 0..REPORT_CONNECTIONS {
            // A first wave, then the job scales out.
            if i == REPORT_CONNECTIONS / 2 {
                ms = T_PG_FULL - 20_000 + self.rng.range(0, 2_000);
            }
            let pid = self.pid_at(ms);
            let port = self.rng.range(40_000, 60_999);
            self.pg(
                ms,
                pid,
                "LOG",
                &format!("connection received: host={REPORT_ADDR} port={port}"),
            );
            self.pg(
                ms + 2,
                pid,
                "LOG",
                "connection authorized: user=report database=orders application_name=report-worker",
            );
            pids.push((pid, port, ms));
            ms += self.rng.range(150, 900);
        }
        // Heavy statements finish now and then.
        let mut ms = T_REPORT_START + 30_000 + self.rng.range(0, 5_000);
        while ms < T_REPORT_END - 5_000 {
            let open: Vec<u32> = pids.iter().filter(|c| c.2 < ms).map(|c| c.0).collect();
            let pid = *self.rng.pick(&open);
            let query = *self.rng.pick(&REPORT_QUERIES);
            let message = format!(
                "duration: {}.{:03} ms  statement: {query}",
                self.rng.range(8_000, 95_000),
                self.rng.range(0, 999)
            );
            self.pg(ms, pid, "LOG", &message);
            ms += self.rng.range(20_000, 50_000);
        }
        // The last, longest query, then everyone disconnects.
        let (pid, _, _) = pids[0];
        let message = format!(
            "duration: {}.{:03} ms  statement: {}",
            T_REPORT_END - T_REPORT_START - self.rng.range(2_000, 9_000),
            self.rng.range(0, 999),
            REPORT_QUERIES[0]
        );
        self.pg(T_REPORT_END, pid, "LOG", &message);
        for (i, (pid, port, opened)) in pids.into_iter().enumerate() {
            let ms = T_REPORT_END + 40 + i as u64 * self.rng.range(2, 15);
            let session = ms - opened;
            let message = format!(
                "disconnection: session time: 0:{:02}:{:02}.{:03} user=report database=orders host={REPORT_ADDR} port={port}",
                session / 60_000,
                session / 1_000 % 60,
                session % 1_000
            );
            self.pg(ms, pid, "LOG", &message);
        }
    }

    /// Once the slots are gone, every new connection is refused.
    fn connection_refusals(&mut self) {
        let mut ms = T_PG_FULL + self.rng.range(0, 300);
        let mut attempts = 0;
        while ms < T_KILL {
            let pid = self.pid_at(ms);
            let (host, reason) = if attempts < 2 || self.rng.chance(25) {
                (
                    REPORT_ADDR,
                    "remaining connection slots are reserved for non-replication superuser connections",
                )
            } else if self.rng.chance(15) {
                ("10.0.3.21", "sorry, too many clients already")
            } else {
                (APP_ADDR, "sorry, too many clients already")
            };
            let port = self.rng.range(40_000, 60_999);
            self.pg(
                ms,
                pid,
                "LOG",
                &format!("connection received: host={host} port={port}"),
            );
            self.pg(ms + 1, pid, "FATAL", reason);
            attempts += 1;
            ms += self.rng.range(4_000, 14_000);
        }
    }

    // -- the kernel and systemd -------------------------------------------------

    fn healthy_background(&mut self) {
        // sysstat collects every 10 minutes.
        for minute in [0u64, 10] {
            let ms = minute * 60_000 + self.rng.range(5, 400);
            self.syslog(
                ms,
                "systemd[1]",
                "Starting sysstat-collect.service - system activity accounting tool...",
            );
            self.syslog(
                ms + 60,
                "systemd[1]",
                "sysstat-collect.service: Deactivated successfully.",
            );
            self.syslog(
                ms + 62,
                "systemd[1]",
                "Finished sysstat-collect.service - system activity accounting tool.",
            );
        }
        // An operator's session before the incident.
        let ms = self.rng.range(30_000, 150_000);
        let session = self.rng.range(4_000, 9_000);
        self.syslog(
            ms,
            "systemd[1]",
            &format!("Started session-{session}.scope - Session {session} of User deploy."),
        );
        let end = ms + self.rng.range(20_000, 60_000);
        self.syslog(
            end,
            "systemd[1]",
            &format!("session-{session}.scope: Deactivated successfully."),
        );
        // The firewall drops scans from the internet.
        for _ in 0..self.rng.range(4, 8) {
            let ms = self.rng.range(1_000, LOG_END_MS - 1_000);
            let message = format!(
                "[UFW BLOCK] IN=ens5 OUT= MAC=0a:3f:5c:21:9e:47:0a:11:2b:7d:c4:e1:08:00 SRC=198.51.100.{} DST={APP_ADDR} LEN=44 TOS=0x00 PREC=0x00 TTL={} ID={} PROTO=TCP SPT={} DPT={} WINDOW=1024 RES=0x00 SYN URGP=0",
                self.rng.range(2, 254),
                self.rng.range(230, 250),
                self.rng.range(1, 65_535),
                self.rng.range(1_024, 65_535),
                *self.rng.pick(&[22u16, 23, 3389, 5432, 6379, 8080])
            );
            let micros = self.rng.range(0, 999);
            self.kernel(ms, micros, &message);
        }
    }

    /// The OOM kill and what systemd does about it.
    fn oom_kill(&mut self) {
        let ms = T_KILL;
        let report = [
            "java invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0".to_owned(),
            format!("CPU: 1 PID: {} Comm: java Not tainted 6.8.0-49-generic #49-Ubuntu", JAVA_PID + 56),
            "Hardware name: Amazon EC2 m6i.large/, BIOS 1.0 10/16/2017".to_owned(),
            "Call Trace:".to_owned(),
            " <TASK>".to_owned(),
            " dump_stack_lvl+0x76/0xa0".to_owned(),
            " dump_header+0x4a/0x240".to_owned(),
            " oom_kill_process+0x10b/0x1a0".to_owned(),
            " out_of_memory+0x26a/0x580".to_owned(),
            " __alloc_pages_slowpath.constprop.0+0xc2e/0xe30".to_owned(),
            " __alloc_pages+0x311/0x340".to_owned(),
            " </TASK>".to_owned(),
            "Mem-Info:".to_owned(),
            "active_anon:1558712 inactive_anon:241380 isolated_anon:0 active_file:112 inactive_file:87 isolated_file:0 unevictable:0 dirty:0 writeback:0 slab_reclaimable:9214 slab_unreclaimable:14563 mapped:301 shmem:1203 pagetables:3521 free:21184 free_pcp:62 free_cma:0".to_owned(),
            "Tasks state (memory values in pages):".to_owned(),
            "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name".to_owned(),
            "[    402]     0   402    12841      512   110592        0          -250 systemd-journal".to_owned(),
            "[    911]   113   911   181406     4102   196608        0             0 node_exporter".to_owned(),
            format!("[   {JAVA_PID}]  1000  {JAVA_PID}  2030864  1558641 14336000        0             0 java"),
            format!("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/orders.service,task=java,pid={JAVA_PID},uid=1000"),
            format!("Out of memory: Killed process {JAVA_PID} (java) total-vm:8123456kB, anon-rss:6234567kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:14000kB oom_score_adj:0"),
        ];
        let before = self.rng.range(30, 60);
        let mut micros = 0;
        for (i, line) in report.iter().enumerate() {
            micros += self.rng.range(2, 40);
            let at = if i + 1 == report.len() {
                ms
            } else {
                ms - before
            };
            self.kernel(at, micros, line);
        }
        let reaped = format!(
            "oom_reaper: reaped process {JAVA_PID} (java), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"
        );
        let at = ms + self.rng.range(30, 80);
        self.kernel(at, 0, &reaped);

        let ms = T_KILL + self.rng.range(150, 400);
        for (offset, message) in [
            (
                0,
                "orders.service: A process of this unit has been killed by the OOM killer.",
            ),
            (
                1,
                "orders.service: Main process exited, code=killed, status=9/KILL",
            ),
            (2, "orders.service: Failed with result 'oom-kill'."),
            (
                3,
                "orders.service: Consumed 3h 12min 41.187s CPU time, 6.1G memory peak, 0B memory swap peak.",
            ),
        ] {
            self.syslog(ms + offset, "systemd[1]", message);
        }
        for (offset, message) in [
            (
                0,
                "orders.service: Scheduled restart job, restart counter is at 1.",
            ),
            (1, "Stopped orders.service - Orders API."),
            (2, "Started orders.service - Orders API."),
        ] {
            self.syslog(T_RESTART + offset, "systemd[1]", message);
        }
    }
}

fn month_name(t: &Zoned) -> &'static str {
    MONTHS[usize::try_from(t.month() - 1).expect("months are 1 to 12")]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(lines: &[DemoLine], needle: &str) -> usize {
        lines
            .iter()
            .position(|l| l.text.contains(needle))
            .unwrap_or_else(|| panic!("no line contains {needle:?}"))
    }

    #[test]
    fn default_start_is_three_in_the_morning() {
        assert_eq!(default_start().to_string(), "2026-11-21T03:00:00Z");
    }

    #[test]
    fn same_seed_same_script() {
        assert_eq!(script(7, default_start()), script(7, default_start()));
    }

    #[test]
    fn different_seed_different_script() {
        assert_ne!(script(7, default_start()), script(8, default_start()));
    }

    #[test]
    fn sorted_within_a_minute_and_bounded() {
        for seed in [0, 1, 42, u64::MAX] {
            let lines = script(seed, default_start());
            assert!(lines.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
            assert!(lines.iter().all(|l| l.at_ms < SPAN_MS));
            assert!(
                lines.len() > 1_000 && lines.len() < 3_000,
                "{} lines",
                lines.len()
            );
            assert!(lines.iter().all(|l| !l.text.contains(['\n', '\r'])));
        }
    }

    #[test]
    fn any_start_works() {
        for start in [Timestamp::UNIX_EPOCH, Timestamp::MIN, Timestamp::MAX] {
            let lines = script(2, start);
            assert!(lines.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        }
    }

    #[test]
    fn every_file_has_lines() {
        let lines = script(3, default_start());
        for file in FILES {
            assert!(lines.iter().any(|l| l.file == file), "{file} is empty");
        }
        assert!(lines.iter().all(|l| FILES.contains(&l.file)));
    }

    #[test]
    fn the_cascade_happens_in_order() {
        for seed in [0, 5, 99, 12_345] {
            let lines = script(seed, default_start());
            let steps = [
                "idle=0, waiting=",
                "remaining connection slots are reserved",
                "Connection is not available, request timed out",
                "upstream timed out (110: Connection timed out)",
                "java.lang.OutOfMemoryError: Java heap space",
                "Out of memory: Killed process 4321 (java)",
                "orders.service: Main process exited, code=killed, status=9/KILL",
                "Started OrdersApplication",
            ];
            let at: Vec<usize> = steps.iter().map(|s| first(&lines, s)).collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "seed {seed}: {at:?}");
            // While java is down, nginx cannot connect.
            let refused = first(&lines, "connect() failed (111: Connection refused)");
            assert!(at[5] < refused && refused < at[7], "seed {seed}");
            // Healthy traffic first: no server error in the first 4 minutes.
            let calm = lines
                .iter()
                .filter(|l| l.file == ACCESS_LOG && l.at_ms < T_REPORT_START / TIME_SCALE);
            assert!(calm.clone().count() > 60);
            assert!(calm.clone().all(|l| !l.text.contains("\" 50")));
            // A burst of 5xx: at least 20 within a minute of log time.
            let bursts: Vec<u64> = lines
                .iter()
                .filter(|l| {
                    l.file == ACCESS_LOG
                        && (l.text.contains("\" 502 ") || l.text.contains("\" 504 "))
                })
                .map(|l| l.at_ms)
                .collect();
            let per_minute = 60_000 / TIME_SCALE;
            assert!(bursts.windows(20).any(|w| w[19] - w[0] <= per_minute));
        }
    }

    #[test]
    fn printed_times_follow_the_formats() {
        let lines = script(11, default_start());
        let app = &lines[first(&lines, "Created order")];
        assert!(app.text.starts_with("2026-11-21 03:"), "{}", app.text);
        assert_eq!(&app.text[19..20], ",");
        let access = lines
            .iter()
            .find(|l| l.file == ACCESS_LOG)
            .expect("access lines");
        assert!(
            access.text.contains(" - - [21/Nov/2026:03:00:"),
            "{}",
            access.text
        );
        let kill = &lines[first(&lines, "Out of memory: Killed process")];
        assert!(
            kill.text.starts_with("Nov 21 03:14:02 web-1 kernel: ["),
            "{}",
            kill.text
        );
        let fatal = &lines[first(&lines, "FATAL:  ")];
        assert!(
            fatal.text.starts_with("2026-11-21 03:06:0"),
            "{}",
            fatal.text
        );
        assert!(fatal.text.contains(" UTC ["), "{}", fatal.text);
        let error = &lines[first(&lines, "upstream timed out")];
        assert!(error.text.starts_with("2026/11/21 03:0"), "{}", error.text);
        // Printed time = start + at_ms * TIME_SCALE, within one scale step.
        assert_eq!(kill.at_ms, T_KILL / TIME_SCALE);
    }

    #[test]
    fn write_all_writes_the_script() {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = write_all(dir.path(), 21, default_start()).expect("writes");
        let mut expected: Vec<PathBuf> = FILES.iter().map(|f| dir.path().join(f)).collect();
        expected.sort();
        assert_eq!(paths, expected);
        let lines = script(21, default_start());
        for file in FILES {
            let want: String = lines
                .iter()
                .filter(|l| l.file == file)
                .map(|l| format!("{}\n", l.text))
                .collect();
            let got = fs::read_to_string(dir.path().join(file)).expect("reads back");
            assert_eq!(got, want, "{file}");
        }
    }
}
