//! The story of the demo: who does what when — healthy traffic, the
//! reporting job, the pool filling, PostgreSQL's refusals, the upstream
//! timeouts, the heap filling, the OOM kill and the restart — as a
//! [`Demo`] that collects lines in log time.
//!
//! Which words each system prints is said here; how a line is laid out
//! (its time stamp, prefix and fields) is `formats`'. Pure: the only input
//! is the seed (through [`SplitMix64`]) and the start.

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::{POSTGRES_LOG, SPAN_MS, TIME_SCALE, rng::SplitMix64};

// ---------------------------------------------------------------------------
// The phases of the cascade, in milliseconds of log time after the start.

/// Last moment of log time a line may carry.
pub(super) const LOG_END_MS: u64 = SPAN_MS * TIME_SCALE - TIME_SCALE;
/// The reporting job starts and opens its connections (03:04:00).
pub(super) const T_REPORT_START: u64 = 240_000;
/// The orders pool has no idle connection left and threads wait (03:05:30).
pub(super) const T_POOL_SATURATED: u64 = 330_000;
/// PostgreSQL refuses new connections (03:06:06).
pub(super) const T_PG_FULL: u64 = 366_000;
/// The first pool timeout in the orders service (03:06:38).
pub(super) const T_POOL_TIMEOUTS: u64 = 398_000;
/// The first `OutOfMemoryError` in the orders service (03:11:30).
pub(super) const T_HEAP_OOM: u64 = 690_000;
/// The kernel OOM killer kills java (03:14:02).
pub(super) const T_KILL: u64 = 842_500;
/// systemd restarts orders.service (03:14:07).
pub(super) const T_RESTART: u64 = 847_400;
/// The restarted service accepts requests again (03:14:27).
pub(super) const T_READY: u64 = 867_000;
/// The reporting job finishes and disconnects (03:15:15).
pub(super) const T_REPORT_END: u64 = 915_000;

/// The host the orders service runs on.
pub(super) const APP_HOST: &str = "web-1";
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
// The generator.

/// A line before sorting: its log time decides its place.
pub(super) struct Entry {
    pub(super) log_ms: u64,
    pub(super) file: &'static str,
    pub(super) text: String,
}

/// A client of the shop, as nginx sees it.
pub(super) struct Client {
    pub(super) ip: String,
    pub(super) agent: &'static str,
    pub(super) browser: bool,
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

pub(super) struct Demo {
    pub(super) start: Timestamp,
    pub(super) rng: SplitMix64,
    pub(super) out: Vec<Entry>,
    pub(super) clients: Vec<Client>,
    /// nginx's connection counter (`*N` in the error log).
    nginx_conn: u64,
    /// PostgreSQL backend pids given out so far.
    pg_pids: BTreeSet<u32>,
    /// Backend pids of the orders pool's connections.
    pool_pids: Vec<u32>,
    /// Kernel uptime at the start, in microseconds.
    pub(super) uptime_us: u64,
    /// Hikari timeouts printed so far (every few get a full stack trace).
    pool_failures: u32,
    /// Heap exhaustion errors printed so far (the first gets a stack trace).
    oom_failures: u32,
    /// The next order id.
    order_id: u64,
}

/// Every line of the story, in log time order (stable).
pub(super) fn entries(seed: u64, start: Timestamp) -> Vec<Entry> {
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
}

impl Demo {
    fn new(seed: u64, start: Timestamp) -> Demo {
        let mut rng = SplitMix64::new(seed);
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
