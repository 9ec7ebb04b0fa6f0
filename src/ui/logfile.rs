//! Where `tracing` writes: standard error normally; while the console owns
//! the screen, a file in the data directory (`ui.log`), so that no log line
//! is ever drawn over the console.
//!
//! `main` installs [`LogWriter`] as the subscriber's writer; the console
//! calls [`start`] before taking the screen and [`stop`] after giving it
//! back. When the file cannot be opened, log lines are dropped while the
//! console runs (never written to the screen).
//!
//! Log lines carry outside text (file names, messages quoting logs), and
//! `tracing` escapes only some of it (not the values of fields), so every
//! line written goes through `sanitize::for_terminal` here, line by line;
//! `main` turns the subscriber's own colours off, so nothing else is lost.

use std::{
    fs::File,
    io::{self, Write},
    path::Path,
    sync::Mutex,
};

use tracing_subscriber::fmt::MakeWriter;

use crate::sanitize::for_terminal;

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

/// `bytes` (whole log lines: the subscriber writes each event at once) with
/// every line sanitised, newlines kept.
fn sanitised(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .split_inclusive('\n')
        .map(|line| {
            let body = line.strip_suffix('\n');
            let mut safe = for_terminal(body.unwrap_or(line)).into_owned();
            if body.is_some() {
                safe.push('\n');
            }
            safe
        })
        .collect()
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let safe = sanitised(buf);
        let mut target = TARGET.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *target {
            Target::Stderr => io::stderr().write_all(safe.as_bytes())?,
            Target::File(Some(file)) => file.write_all(safe.as_bytes())?,
            Target::File(None) => {}
        }
        Ok(buf.len())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_sanitised_line_by_line() {
        assert_eq!(
            sanitised(b" WARN triage: path=\x1b]52;c;SGk=\x07.log cannot read\nnext\n"),
            " WARN triage: path=\\x1b]52;c;SGk=\\x07.log cannot read\nnext\n"
        );
        assert_eq!(sanitised(b"no newline \xc2\x9b"), "no newline \\x9b");
    }
}
