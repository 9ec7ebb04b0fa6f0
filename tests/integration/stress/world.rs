//! The world a stress run builds around the real binary: a writer appending
//! sequence-numbered lines at a steady rate, a rotator doing one kind of
//! rotation again and again (as logrotate, systemd or an application does
//! it), and a killer stopping `watch` (or `ingest`) with `kill -9` at random
//! moments and starting it again on the same data directory. Everything they
//! do is recorded for [`super::account`]; nothing here judges.
//!
//! Timing is random but seeded: the same seed makes the same lines, the same
//! rotation kinds and the same delays (what the processes do meanwhile is up
//! to the machine).

use std::{
    fs::{self, File, OpenOptions},
    io::{BufRead, BufReader, Read, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use super::account::{Doc, End, Generation, Incarnation, Kind, Risk, Written};

/// What the rotator does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Rename `app.log` to `app.log.N` (a name `app.log*` matches) and
    /// create a new one; the writer reopens a little later.
    RenameMatching,
    /// Rename `app.log` to `app.log.N`, which `*.log` does not match.
    RenameUnmatched,
    /// Copy `app.log` to `app.log.N` with the writer paused, truncate later.
    CopytruncatePaused,
    /// Copy, let the writer go on, truncate later: the lines written in
    /// between are only in the original, until the truncation.
    CopytruncateConcurrent,
    /// A slow copy (writer paused): the copy is seen empty, then partial
    /// (cut inside a line), then complete, then the original truncated.
    CopytruncateSlowCopy,
    /// Truncate `app.log` in place.
    Truncate,
    /// Delete `app.log` and create it again.
    DeleteRecreate,
    /// `current.log` is a symlink, switched to a new file `log.N`.
    Symlink,
    /// No `watch`: rename rotation, `ingest` of the directory killed with
    /// `kill -9` at random moments and run again.
    Ingest,
}

impl Mode {
    /// Every mode, in table order.
    pub const ALL: [Mode; 9] = [
        Mode::RenameMatching,
        Mode::RenameUnmatched,
        Mode::CopytruncatePaused,
        Mode::CopytruncateConcurrent,
        Mode::CopytruncateSlowCopy,
        Mode::Truncate,
        Mode::DeleteRecreate,
        Mode::Symlink,
        Mode::Ingest,
    ];

    /// Its name in tables and in `TRIAGE_STRESS_MODE`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::RenameMatching => "rename-matching",
            Mode::RenameUnmatched => "rename-unmatched",
            Mode::CopytruncatePaused => "copytruncate-paused",
            Mode::CopytruncateConcurrent => "copytruncate-concurrent",
            Mode::CopytruncateSlowCopy => "copytruncate-slow-copy",
            Mode::Truncate => "truncate",
            Mode::DeleteRecreate => "delete-recreate",
            Mode::Symlink => "symlink",
            Mode::Ingest => "ingest",
        }
    }

    /// Whether a rotated file exists to be compressed.
    pub fn rotates_a_file(self) -> bool {
        !matches!(self, Mode::Truncate | Mode::DeleteRecreate)
    }

    /// What `watch` (or `ingest`) is given, relative to the logs directory.
    fn target(self) -> &'static str {
        match self {
            Mode::RenameMatching
            | Mode::CopytruncatePaused
            | Mode::CopytruncateConcurrent
            | Mode::CopytruncateSlowCopy => "app.log*",
            Mode::RenameUnmatched | Mode::Truncate | Mode::DeleteRecreate => "*.log",
            Mode::Symlink => "current.log",
            Mode::Ingest => "",
        }
    }
}

/// Whether and when the rotated file is gzipped (then the plain one removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compress {
    /// Never.
    None,
    /// Right after the rotation (logrotate's `compress`).
    Now,
    /// At the next rotation (`compress` + `delaycompress`).
    Delayed,
}

impl Compress {
    /// Its name in tables and in `TRIAGE_STRESS_COMPRESS`.
    pub fn name(self) -> &'static str {
        match self {
            Compress::None => "none",
            Compress::Now => "gzip",
            Compress::Delayed => "delaygzip",
        }
    }
}

/// One stress run's parameters.
#[derive(Debug, Clone)]
pub struct Config {
    /// The rotation.
    pub mode: Mode,
    /// Compression of rotated files.
    pub compress: Compress,
    /// How long the writer writes.
    pub secs: f64,
    /// Sequence numbers written per second.
    pub rate: u64,
    /// The seed of every random choice.
    pub seed: u64,
    /// Mean time between rotations (each uniform in half to one and a half).
    pub rotate_every: Duration,
    /// Mean time between kills, likewise; `None`: never.
    pub kill_every: Option<Duration>,
    /// One stop in this many is a SIGTERM instead of `kill -9` (0: none).
    pub term_one_in: u64,
    /// One line in this many is a kernel OOM line.
    pub oom_one_in: u64,
    /// One event in this many is a stack trace.
    pub trace_one_in: u64,
    /// The binary.
    pub bin: PathBuf,
    /// Longest wait for the outputs to catch up once writing stopped.
    pub patience: Duration,
    /// Stop waiting when nothing new came out for this long.
    pub quiet: Duration,
    /// `watch --read-compressed` in the compressed modes.
    pub read_compressed: bool,
}

/// What a run did, for the report.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Rotations done.
    pub rotations: u64,
    /// `kill -9`s.
    pub kills: u64,
    /// SIGTERMs.
    pub terms: u64,
    /// `ingest` runs (killed or finished).
    pub ingests: u64,
    /// `ingest` runs that ended with status 2 naming only files that
    /// vanished (rotated away) while it ran.
    pub ingest_vanished: u64,
    /// How long the outputs took to catch up after the writer stopped.
    pub settle: Duration,
    /// What the wait saw when it gave up, if it did.
    pub settle_note: Option<String>,
}

/// Everything a run recorded.
pub struct Record {
    /// What was written.
    pub written: Written,
    /// Each `watch` incarnation.
    pub incarnations: Vec<Incarnation>,
    /// The index's documents at the end.
    pub docs: Vec<Doc>,
    /// Counters.
    pub stats: Stats,
    /// `ingest` failures (exit status and stderr).
    pub ingest_failures: Vec<String>,
}

/// A small xorshift: random, repeatable from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// From a seed (any value; zero is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(splitmix(seed).max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// Uniform in half to one and a half of `mean`.
    fn around(&mut self, mean: Duration) -> Duration {
        let ms = mean.as_millis() as u64;
        Duration::from_millis(ms / 2 + self.below(ms + 1))
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The kind of sequence number `n` under `seed`.
fn kind_of(cfg: &Config, n: u64) -> Kind {
    // The first is the probe that shows `watch` follows the file.
    if n == 0 {
        return Kind::Oom;
    }
    let h = splitmix(cfg.seed ^ n.wrapping_mul(0x2545_f491_4f6c_dd1d));
    if h.is_multiple_of(cfg.oom_one_in) {
        Kind::Oom
    } else if (h / cfg.oom_one_in).is_multiple_of(cfg.trace_one_in) {
        Kind::Trace
    } else {
        Kind::Plain
    }
}

/// The text of sequence number `n`: one line, or a four-line trace. Every
/// event starts with a timestamp and carries the word `nN`.
pub fn text(kind: Kind, n: u64) -> String {
    let ts = format!(
        "2026-11-21T{:02}:{:02}:{:02}.{:03}Z",
        3 + (n / 3_600_000) % 20,
        (n / 60_000) % 60,
        (n / 1000) % 60,
        n % 1000
    );
    match kind {
        Kind::Plain => format!(
            "{ts} INFO worker-{} n{n} request handled in {}ms\n",
            n % 7,
            n % 97
        ),
        Kind::Oom => format!(
            "{ts} ERROR kernel: Out of memory: Killed process {n} (stress-{}) total-vm:81234kB, anon-rss:6234kB n{n}\n",
            n % 5
        ),
        Kind::Trace => format!(
            "{ts} ERROR request failed n{n}\njava.lang.IllegalStateException: pool drained\n\
             \tat com.example.Pool.take(Pool.java:{})\nCaused by: java.io.IOException: peer went away\n",
            n % 500
        ),
    }
}

/// Reads a document's line back: its sequence number, and whether the
/// event is whole (a trace with all four lines).
pub fn doc_of(line: &str) -> Doc {
    let n = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix('n').and_then(|d| d.parse::<u64>().ok()));
    match n {
        Some(n) if line.contains(" request failed ") => Doc::Seq {
            n,
            whole: line.ends_with("peer went away") && line.lines().count() == 4,
        },
        Some(n) => Doc::Seq { n, whole: true },
        None => Doc::Foreign(line.to_owned()),
    }
}

/// The writer's side, shared with the rotator (which holds the lock to pause
/// the writer).
struct Shared {
    /// The writer's descriptor.
    file: File,
    /// The name it opens again when told to.
    live: PathBuf,
    /// Reopen at this moment (an application told to reopen its log).
    reopen_at: Option<Instant>,
    next: u64,
    written: Written,
    /// Generation being written.
    current: usize,
    start: Instant,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Ends the current generation at `next` and starts one named `name`.
    fn new_generation(&mut self, name: &str) -> usize {
        let old = self.current;
        self.written.gens[old].end = self.next;
        self.written.gens.push(Generation {
            names: name.to_owned(),
            first: self.next,
            end: self.next,
            risks: Vec::new(),
        });
        self.current = self.written.gens.len() - 1;
        old
    }

    fn reopen(&mut self) {
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.live)
            .expect("writer reopens its log");
        self.reopen_at = None;
        let name = fs::canonicalize(&self.live)
            .ok()
            .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
            .unwrap_or_default();
        self.new_generation(&name);
    }

    /// Appends `count` events in one write().
    fn write(&mut self, cfg: &Config, count: u64) {
        let mut buf = String::new();
        let now = self.now_ms();
        for _ in 0..count {
            let n = self.next;
            let kind = kind_of(cfg, n);
            buf.push_str(&text(kind, n));
            self.written.kinds.push(kind);
            self.written.at_ms.push(now);
            self.next += 1;
        }
        self.file.write_all(buf.as_bytes()).expect("writer appends");
        let current = self.current;
        self.written.gens[current].end = self.next;
    }
}

/// A running `watch`, its alerts collected into its incarnation record.
struct WatchProc {
    child: Child,
    reader: thread::JoinHandle<()>,
    index: usize,
    stderr: PathBuf,
}

/// The run: directories, the shared writer state, the incarnations.
struct World {
    cfg: Config,
    logs: PathBuf,
    data: PathBuf,
    start: Instant,
    shared: Mutex<Shared>,
    incarnations: Arc<Mutex<Vec<Incarnation>>>,
    watch: Mutex<Option<WatchProc>>,
    stats: Mutex<Stats>,
    ingest_failures: Mutex<Vec<String>>,
    stop_rotating: AtomicBool,
    stop_writing: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn tail_of(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}

fn gzip_file(plain: &Path) {
    let mut gz = plain.as_os_str().to_owned();
    gz.push(".gz");
    let mut input = File::open(plain).expect("open the rotated file");
    let out = File::create(&gz).expect("create the .gz");
    let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = input.read(&mut buf).expect("read the rotated file");
        if n == 0 {
            break;
        }
        enc.write_all(&buf[..n]).expect("compress");
    }
    enc.finish().expect("compress");
    fs::remove_file(plain).expect("remove the plain rotated file");
}

impl World {
    fn ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn sleep_unless(&self, flag: &AtomicBool, d: Duration) -> bool {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if flag.load(Ordering::SeqCst) {
                return false;
            }
            thread::sleep(Duration::from_millis(5).min(until - Instant::now()));
        }
        !flag.load(Ordering::SeqCst)
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.cfg.bin);
        c.arg("--data-dir")
            .arg(&self.data)
            .env_remove("TRIAGE_DATA_DIR")
            .env_remove("TRIAGE_LOG")
            .env("TZ", "UTC")
            .envs(std::env::var("TRIAGE_STRESS_LOG").map(|l| ("TRIAGE_LOG", l)))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    // ---- watch ----------------------------------------------------------

    fn start_watch(&self) {
        let index = {
            let mut incs = lock(&self.incarnations);
            incs.push(Incarnation {
                first_output_ms: None,
                end: None,
                alerts: Vec::new(),
                failure: None,
            });
            incs.len() - 1
        };
        let stderr = self.logs.with_file_name(format!("watch-{index}.stderr"));
        // Kept with `TRIAGE_STRESS_KEEP`: the state this incarnation resumes
        // from (the data directory's checkpoint, what was handed over; the
        // index's commit, whose payload is where reading resumes), to tell
        // afterwards which record said a line was alerted already.
        if std::env::var_os("TRIAGE_STRESS_KEEP").is_some() {
            let state = [
                (self.data.join("tail-checkpoint.json"), "checkpoint.json"),
                (self.data.join("index").join("meta.json"), "index-meta.json"),
            ];
            for (from, name) in state {
                let to = self
                    .logs
                    .with_file_name(format!("watch-{index}.resumes-{name}"));
                let _ = fs::copy(from, to);
            }
        }
        let target = self.logs.join(self.cfg.mode.target());
        let mut child = self
            .command()
            .args(["watch", "--json", "--from-start"])
            // Compressed rotations read too: exactly once, like the rest.
            .args(
                (self.cfg.compress != Compress::None && self.cfg.read_compressed)
                    .then_some("--read-compressed"),
            )
            .arg(target)
            .stdout(Stdio::piped())
            .stderr(File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("watch starts");
        let stdout = child.stdout.take().expect("piped");
        let incs = Arc::clone(&self.incarnations);
        let start = self.start;
        // Kept beside the logs with `TRIAGE_STRESS_KEEP`, stamped with the
        // run's clock.
        let mut copy = std::env::var_os("TRIAGE_STRESS_KEEP").map(|_| {
            File::create(self.logs.with_file_name(format!("watch-{index}.stdout")))
                .expect("stdout copy")
        });
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let now = start.elapsed().as_millis() as u64;
                if let Some(copy) = &mut copy {
                    let _ = writeln!(copy, "{now} {line}");
                }
                let mut incs = lock(&incs);
                let inc = &mut incs[index];
                inc.first_output_ms.get_or_insert(now);
                let Ok(value) = serde_json::from_str::<Value>(&line) else {
                    inc.failure = Some(format!("not JSON on stdout: {line}"));
                    continue;
                };
                if value["signature"] != "linux-oom-killer" {
                    continue;
                }
                match value["captures"]["pid"]
                    .as_str()
                    .and_then(|p| p.parse::<u64>().ok())
                {
                    Some(n) => inc.alerts.push(n),
                    None => inc.failure = Some(format!("an OOM alert without a pid: {line}")),
                }
            }
        });
        *lock(&self.watch) = Some(WatchProc {
            child,
            reader,
            index,
            stderr,
        });
    }

    fn stop_watch(&self, how: End) {
        let Some(mut w) = lock(&self.watch).take() else {
            return;
        };
        // Down from the signal on: a stopping `watch` reads no more (lines
        // written and deleted before it is up again are gone).
        let at = self.ms();
        match how {
            End::Kill => {
                let _ = w.child.kill();
            }
            End::Term => {
                let _ = Command::new("kill")
                    .arg("-TERM")
                    .arg(w.child.id().to_string())
                    .status();
            }
        }
        let status = w.child.wait().expect("wait for watch");
        let _ = w.reader.join();
        let stderr = tail_of(&w.stderr);
        let mut incs = lock(&self.incarnations);
        let inc = &mut incs[w.index];
        inc.end = Some((at, how));
        let bad_exit = how == End::Term && !status.success();
        if bad_exit || stderr.contains("panicked") {
            let note = format!("{status}; stderr: {stderr}");
            inc.failure = Some(match inc.failure.take() {
                Some(before) => format!("{before}; {note}"),
                None => note,
            });
        }
        let mut stats = lock(&self.stats);
        match how {
            End::Kill => stats.kills += 1,
            End::Term => stats.terms += 1,
        }
    }

    /// Stops and restarts `watch` at random moments until told to stop.
    fn killer(&self) {
        let Some(every) = self.cfg.kill_every else {
            return;
        };
        let mut rng = Rng::new(self.cfg.seed ^ 0x4b11);
        loop {
            if !self.sleep_unless(&self.stop_rotating, rng.around(every)) {
                return;
            }
            let how = if self.cfg.term_one_in > 0 && rng.below(self.cfg.term_one_in) == 0 {
                End::Term
            } else {
                End::Kill
            };
            self.stop_watch(how);
            self.start_watch();
        }
    }

    // ---- ingest ---------------------------------------------------------

    fn ingest_once(&self, kill_after: Option<Duration>) -> bool {
        let n = {
            let mut stats = lock(&self.stats);
            stats.ingests += 1;
            stats.ingests
        };
        let stderr = self.logs.with_file_name(format!("ingest-{n}.stderr"));
        let mut child = self
            .command()
            .args(["ingest", "--quiet", "--commit-every", "200ms"])
            .arg(&self.logs)
            .stdout(Stdio::null())
            .stderr(File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("ingest starts");
        let deadline = kill_after.map(|d| Instant::now() + d);
        loop {
            if let Some(status) = child.try_wait().expect("wait for ingest") {
                let tail = tail_of(&stderr);
                // A file rotated away between the listing and its opening is
                // named and skipped (exit status 2): noted, not a failure.
                let vanished = status.code() == Some(2)
                    && tail
                        .lines()
                        .all(|l| l.contains("No such file or directory"));
                if vanished {
                    lock(&self.stats).ingest_vanished += 1;
                } else if !status.success() || tail.contains("panicked") {
                    lock(&self.ingest_failures).push(format!("ingest #{n}: {status}; {tail}"));
                }
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                let _ = child.kill();
                let _ = child.wait();
                lock(&self.stats).kills += 1;
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Runs `ingest` again and again, killed at random moments.
    fn ingest_killer(&self) {
        let every = self.cfg.kill_every.unwrap_or(Duration::from_millis(700));
        let mut rng = Rng::new(self.cfg.seed ^ 0x1a6e);
        let most = every.as_millis() as u64 * 3 / 2;
        while !self.stop_rotating.load(Ordering::SeqCst) {
            // From 20 ms on: an incremental run is short, a kill must be
            // able to land in it.
            self.ingest_once(Some(Duration::from_millis(20 + rng.below(most))));
        }
    }

    // ---- writer ---------------------------------------------------------

    fn writer(&self) {
        let mut done = 0u64;
        let begin = Instant::now();
        while !self.stop_writing.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(10));
            let due = (begin.elapsed().as_secs_f64() * self.cfg.rate as f64) as u64;
            let mut s = lock(&self.shared);
            if s.reopen_at.is_some_and(|t| Instant::now() >= t) {
                s.reopen();
            }
            if due > done {
                s.write(&self.cfg, due - done);
                done = due;
            }
        }
    }

    // ---- rotator --------------------------------------------------------

    fn rotator(&self) {
        let mut rng = Rng::new(self.cfg.seed ^ 0x707a);
        // The rotated file whose compression is delayed to the next
        // rotation: its path and the generations it holds.
        let mut delayed: Option<(PathBuf, usize, u64, u64)> = None;
        let mut k = 0u64;
        while self.sleep_unless(&self.stop_rotating, rng.around(self.cfg.rotate_every)) {
            k += 1;
            let rotated = self.rotate(k, &mut rng);
            lock(&self.stats).rotations += 1;
            let Some(rotated) = rotated else { continue };
            match self.cfg.compress {
                Compress::None => {}
                Compress::Now => self.compress(rotated),
                Compress::Delayed => {
                    if let Some(previous) = delayed.replace(rotated) {
                        self.compress(previous);
                    }
                }
            }
        }
    }

    /// gzips a rotated file holding `from..to` of generation `generation`.
    fn compress(&self, (path, generation, from, to): (PathBuf, usize, u64, u64)) {
        gzip_file(&path);
        let at = self.ms();
        let mut s = lock(&self.shared);
        let g = &mut s.written.gens[generation];
        g.names.push_str(" -> .gz");
        g.risks.push(Risk {
            from,
            to,
            at_ms: at,
            truncation: false,
        });
    }

    /// Waits until the writer reopened its log; the generation it closed.
    fn wait_reopened(&self) -> usize {
        loop {
            {
                let s = lock(&self.shared);
                if s.reopen_at.is_none() {
                    return s.current - 1;
                }
            }
            thread::sleep(Duration::from_millis(1));
        }
    }

    fn truncate(path: &Path) {
        OpenOptions::new()
            .write(true)
            .open(path)
            .expect("open to truncate")
            .set_len(0)
            .expect("truncate");
    }

    /// One rotation; the rotated plain file (path, generation, range) when
    /// there is one to compress.
    fn rotate(&self, k: u64, rng: &mut Rng) -> Option<(PathBuf, usize, u64, u64)> {
        let live = self.logs.join("app.log");
        let copy = self.logs.join(format!("app.log.{k}"));
        let reopen_delay = Duration::from_millis(rng.below(30));
        match self.cfg.mode {
            Mode::RenameMatching | Mode::RenameUnmatched | Mode::Ingest => {
                {
                    let mut s = lock(&self.shared);
                    fs::rename(&live, &copy).expect("rename");
                    File::create(&live).expect("create");
                    let current = s.current;
                    s.written.gens[current]
                        .names
                        .push_str(&format!(" -> app.log.{k}"));
                    s.reopen_at = Some(Instant::now() + reopen_delay);
                }
                let generation = self.wait_reopened();
                let g = &lock(&self.shared).written.gens[generation];
                Some((copy, generation, g.first, g.end))
            }
            Mode::Symlink => {
                let next = self.logs.join(format!("log.{k}"));
                let link = self.logs.join("current.log");
                let tmp = self.logs.join("current.log.new");
                let old = {
                    let mut s = lock(&self.shared);
                    let old = fs::canonicalize(&link).expect("the link's target");
                    File::create(&next).expect("create");
                    std::os::unix::fs::symlink(format!("log.{k}"), &tmp).expect("symlink");
                    fs::rename(&tmp, &link).expect("switch the link");
                    s.reopen_at = Some(Instant::now() + reopen_delay);
                    old
                };
                let generation = self.wait_reopened();
                let g = &lock(&self.shared).written.gens[generation];
                Some((old, generation, g.first, g.end))
            }
            Mode::CopytruncatePaused => {
                let mut s = lock(&self.shared);
                fs::copy(&live, &copy).expect("copy");
                thread::sleep(Duration::from_millis(10 + rng.below(50)));
                Self::truncate(&live);
                let generation = s.new_generation("app.log");
                let g = &mut s.written.gens[generation];
                g.names
                    .push_str(&format!(" (copied to app.log.{k}, truncated)"));
                Some((copy, generation, g.first, g.end))
            }
            Mode::CopytruncateConcurrent => {
                let copy_end = {
                    let s = lock(&self.shared);
                    fs::copy(&live, &copy).expect("copy");
                    s.next
                };
                thread::sleep(Duration::from_millis(5 + rng.below(50)));
                let mut s = lock(&self.shared);
                Self::truncate(&live);
                let at = s.now_ms();
                let generation = s.new_generation("app.log");
                let g = &mut s.written.gens[generation];
                g.names
                    .push_str(&format!(" (copied to app.log.{k}, truncated)"));
                g.risks.push(Risk {
                    from: copy_end,
                    to: g.end,
                    at_ms: at,
                    truncation: true,
                });
                Some((copy, generation, g.first, copy_end))
            }
            Mode::CopytruncateSlowCopy => {
                let mut s = lock(&self.shared);
                let bytes = fs::read(&live).expect("read for the copy");
                let mut out = File::create(&copy).expect("create the copy");
                thread::sleep(Duration::from_millis(5 + rng.below(20)));
                let mut done = 0;
                for part in 1..=3 {
                    let upto = bytes.len() * part / 3;
                    out.write_all(&bytes[done..upto]).expect("copy");
                    done = upto;
                    thread::sleep(Duration::from_millis(5 + rng.below(20)));
                }
                drop(out);
                Self::truncate(&live);
                let generation = s.new_generation("app.log");
                let g = &mut s.written.gens[generation];
                g.names
                    .push_str(&format!(" (slowly copied to app.log.{k}, truncated)"));
                Some((copy, generation, g.first, g.end))
            }
            Mode::Truncate => {
                let mut s = lock(&self.shared);
                Self::truncate(&live);
                let at = s.now_ms();
                let generation = s.new_generation("app.log");
                let g = &mut s.written.gens[generation];
                g.names.push_str(" (truncated)");
                g.risks.push(Risk {
                    from: g.first,
                    to: g.end,
                    at_ms: at,
                    truncation: true,
                });
                None
            }
            Mode::DeleteRecreate => {
                let mut s = lock(&self.shared);
                fs::remove_file(&live).expect("delete");
                let at = s.now_ms();
                s.file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&live)
                    .expect("re-create");
                let generation = s.new_generation("app.log");
                let g = &mut s.written.gens[generation];
                g.names.push_str(" (deleted)");
                g.risks.push(Risk {
                    from: g.first,
                    to: g.end,
                    at_ms: at,
                    truncation: false,
                });
                None
            }
        }
    }

    // ---- the index ------------------------------------------------------

    fn count_docs(&self) -> Option<u64> {
        let out = self
            .command()
            .args(["search", "--count", "*"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }

    fn docs(&self) -> Vec<Doc> {
        let out = self
            .command()
            .args(["search", "--json", "--limit", "1000000000", "*"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("search runs");
        let mut docs = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let value: Value = serde_json::from_str(line).expect("search --json prints JSON");
            docs.push(doc_of(value["line"].as_str().unwrap_or_default()));
        }
        docs
    }

    fn alerted(&self) -> usize {
        lock(&self.incarnations)
            .iter()
            .map(|i| i.alerts.len())
            .sum()
    }

    /// Waits until the index and the alerts hold everything written (less
    /// what may be gone), nothing new comes out for `quiet`, or `patience`
    /// runs out; says what it saw when it gave up.
    fn settle(&self) {
        let began = Instant::now();
        let written = lock(&self.shared).written.clone();
        let total = written.kinds.len() as u64;
        let ooms = written.kinds.iter().filter(|k| **k == Kind::Oom).count();
        let mut last = (0u64, 0usize);
        let mut changed = Instant::now();
        // The counts at the last full judgement (a search of every
        // document): judged again only once they changed.
        let mut judged: Option<(u64, usize)> = None;
        loop {
            let docs = self.count_docs().unwrap_or(0);
            let alerts = self.alerted();
            if (docs, alerts) != last {
                last = (docs, alerts);
                changed = Instant::now();
            }
            // Judge when everything may be in, or when the outputs paused
            // (lines gone with a truncation never come).
            let paused = changed.elapsed() >= Duration::from_millis(1200);
            if judged != Some(last) && ((docs >= total && alerts >= ooms) || paused) {
                judged = Some(last);
                let incs = lock(&self.incarnations).clone();
                let v = super::account::judge(&written, &incs, &self.docs());
                if v.index.missing.is_empty() && v.alerts.missing.is_empty() {
                    break;
                }
            }
            let note = if changed.elapsed() >= self.cfg.quiet {
                Some("nothing new")
            } else if began.elapsed() >= self.cfg.patience {
                Some("out of patience")
            } else {
                None
            };
            if let Some(why) = note {
                let incs = lock(&self.incarnations).clone();
                let v = super::account::judge(&written, &incs, &self.docs());
                let seen = format!(
                    "{why} after {:.1} s: index {docs} documents of {total} written, first missing {:?}, {} duplicated; {alerts} OOM alerts of {ooms} written, first missing {:?}",
                    began.elapsed().as_secs_f64(),
                    v.index.missing.first(),
                    v.index.duplicated.len(),
                    v.alerts.missing.first(),
                );
                eprintln!("stress: {seen}");
                lock(&self.stats).settle_note = Some(seen);
                break;
            }
            thread::sleep(Duration::from_millis(300));
        }
        lock(&self.stats).settle = began.elapsed();
    }
}

/// Runs one stress run and returns what it recorded.
pub fn run(cfg: &Config) -> Record {
    let tmp = tempfile::tempdir().expect("tempdir");
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).expect("mkdir");
    let live = match cfg.mode {
        Mode::Symlink => {
            File::create(logs.join("log.0")).expect("create");
            std::os::unix::fs::symlink("log.0", logs.join("current.log")).expect("symlink");
            logs.join("current.log")
        }
        _ => logs.join("app.log"),
    };
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&live)
        .expect("create the log");
    let start = Instant::now();
    let world = World {
        cfg: cfg.clone(),
        data: tmp.path().join("data"),
        logs,
        start,
        shared: Mutex::new(Shared {
            file,
            live,
            reopen_at: None,
            next: 0,
            written: Written {
                gens: vec![Generation {
                    names: if cfg.mode == Mode::Symlink {
                        "log.0".into()
                    } else {
                        "app.log".into()
                    },
                    first: 0,
                    end: 0,
                    risks: Vec::new(),
                }],
                ..Written::default()
            },
            current: 0,
            start,
        }),
        incarnations: Arc::new(Mutex::new(Vec::new())),
        watch: Mutex::new(None),
        stats: Mutex::new(Stats::default()),
        ingest_failures: Mutex::new(Vec::new()),
        stop_rotating: AtomicBool::new(false),
        stop_writing: AtomicBool::new(false),
    };
    let watching = cfg.mode != Mode::Ingest;
    if watching {
        // Lines in a file renamed to a name no target matches before `watch`
        // ever saw it cannot be found: the rotations start once it follows
        // (its first alert, of line n0, is out).
        world.start_watch();
        lock(&world.shared).write(cfg, 1);
        let deadline = Instant::now() + cfg.patience;
        while lock(&world.incarnations)[0].alerts.is_empty() {
            assert!(
                Instant::now() < deadline,
                "watch did not alert on n0 within {:?}",
                cfg.patience
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
    thread::scope(|scope| {
        let writer = scope.spawn(|| world.writer());
        let rotator = scope.spawn(|| world.rotator());
        let killer = scope.spawn(|| match watching {
            true => world.killer(),
            false => world.ingest_killer(),
        });
        thread::sleep(Duration::from_secs_f64(cfg.secs));
        // The rotator and the killer stop first (a rotation waits for the
        // writer to reopen its log), then the writer.
        world.stop_rotating.store(true, Ordering::SeqCst);
        rotator.join().expect("rotator");
        killer.join().expect("killer");
        world.stop_writing.store(true, Ordering::SeqCst);
        writer.join().expect("writer");
    });
    if watching {
        world.settle();
        // Late duplicates (a file read again at a later poll) get a chance
        // to show: a few polls and a commit more.
        thread::sleep(Duration::from_millis(1200));
        world.stop_watch(End::Term);
    } else {
        // Two complete runs: the second must add nothing.
        world.ingest_once(None);
        world.ingest_once(None);
    }
    let docs = world.docs();
    let stats = lock(&world.stats).clone();
    let ingest_failures = lock(&world.ingest_failures).clone();
    let written = lock(&world.shared).written.clone();
    let incarnations = lock(&world.incarnations).clone();
    if std::env::var_os("TRIAGE_STRESS_KEEP").is_some() {
        let kept = tmp.keep();
        eprintln!("stress: kept {}", kept.display());
    }
    Record {
        written,
        incarnations,
        docs,
        stats,
        ingest_failures,
    }
}
