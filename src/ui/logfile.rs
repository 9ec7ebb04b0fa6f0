//! Where `tracing` writes: standard error normally; while the console owns
//! the screen, a file in the data directory (`ui.log`), so that no log line
//! is ever drawn over the console.
//!
//! `main` installs [`LogWriter`] as the subscriber's writer; the console
//! calls [`start`] before taking the screen and [`stop`] after giving it
//! back. When the file cannot be opened, log lines are dropped while the
//! console runs (never written to the screen).

use std::{
    fs::File,
    io::{self, Write},
    path::Path,
    sync::Mutex,
};

use tracing_subscriber::fmt::MakeWriter;

/// The console's state as the writer sees it.
enum Target {
    /// No console: standard error.
    Stderr,
    /// The console runs: its log file, or nowhere.
    File(Option<File>),
}

static TARGET: Mutex<Target> = Mutex::new(Target::Stderr);

/// From now on, log lines go to `path` (appended).
pub fn start(path: &Path) {
    let file = File::options().create(true).append(true).open(path).ok();
    *TARGET.lock().unwrap_or_else(|e| e.into_inner()) = Target::File(file);
}

/// From now on, log lines go to standard error again.
pub fn stop() {
    *TARGET.lock().unwrap_or_else(|e| e.into_inner()) = Target::Stderr;
}

/// The writer for `tracing_subscriber::fmt().with_writer(LogWriter)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

/// One log line being written.
#[derive(Debug)]
pub struct LineWriter;

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut target = TARGET.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *target {
            Target::Stderr => io::stderr().write(buf),
            Target::File(Some(file)) => file.write(buf),
            Target::File(None) => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut target = TARGET.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *target {
            Target::Stderr => io::stderr().flush(),
            Target::File(Some(file)) => file.flush(),
            Target::File(None) => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter
    }
}
