//! A small builder that runs the real binary and checks stdout, stderr and
//! the exit code.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// A file of the shared real-log corpus (`../shared/data/`). Outside CI a
/// checkout without the corpus beside it skips these tests (and says so); in
/// CI (`CI` set) the corpus must be there.
pub fn shared_data(name: &str) -> Option<PathBuf> {
    let path = root().join("../shared/data").join(name);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing in CI",
        path.display()
    );
    eprintln!("skipped: {} is not beside this checkout", path.display());
    None
}

/// One run of `triage`, configured step by step.
pub struct Triage {
    args: Vec<String>,
    dir: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
}

/// What a run printed and how it ended.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Triage {
    pub fn new() -> Triage {
        Triage {
            args: Vec::new(),
            dir: None,
            stdin: None,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Triage {
        self.args.push(arg.as_ref().to_string_lossy().into_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> Triage {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Triage {
        self.dir = Some(dir.as_ref().to_path_buf());
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Triage {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn run(self) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_triage"));
        command
            .args(&self.args)
            .env_remove("TRIAGE_DATA_DIR")
            .env_remove("TRIAGE_LOG")
            .env("NO_COLOR", "1")
            .env("TZ", "UTC")
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        let mut child = command.spawn().expect("triage binary runs");
        if let Some(bytes) = self.stdin {
            let mut stdin = child.stdin.take().expect("piped stdin");
            std::thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            });
        }
        let out = child.wait_with_output().expect("triage finishes");
        let output = Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        };
        assert!(
            !output.stderr.contains("panicked")
                && !output.stderr.contains("internal error")
                && !output.stderr.contains("RUST_BACKTRACE"),
            "triage {:?} panicked:\n{}",
            self.args,
            output.stderr
        );
        output
    }
}

impl Output {
    #[track_caller]
    pub fn code(self, expected: i32) -> Output {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The stdout lines parsed as JSON objects.
    #[track_caller]
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
            })
            .collect()
    }
}

/// Runs `triage watch ARGS` in `dir` (with `TZ=UTC`) until it printed at
/// least `lines` lines and then nothing for `quiet`, stops it with SIGTERM,
/// checks it exited 0, and returns what it printed. A wait of a minute for a
/// line panics with the lines seen.
pub fn watch_until_quiet(
    dir: &Path,
    args: &[&str],
    lines: usize,
    quiet: std::time::Duration,
) -> Vec<String> {
    use std::{
        io::{BufRead, BufReader},
        sync::mpsc,
        time::Duration,
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .current_dir(dir)
        .arg("watch")
        .args(args)
        .env("TZ", "UTC")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("watch starts");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    while seen.len() < lines {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("{} of {lines} lines from watch: {seen:#?}", seen.len()),
        }
    }
    while let Ok(line) = rx.recv_timeout(quiet) {
        seen.push(line);
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(child.wait().expect("wait").success());
    seen
}
