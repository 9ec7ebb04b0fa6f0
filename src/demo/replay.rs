//! The demo, live: a writer thread that appends the demo's lines to its
//! files at their time (`at_ms` divided by the speed factor), so that the
//! console's live pipeline follows them as it would follow real services.
//!
//! Writes only the demo's own files in the demo directory; the lines come
//! from `demo::script` (pure). All files are created empty first, so the
//! follower knows them from its start and reads every line.
//!
//! Knows nothing of the console: how it ended is handed to a callback
//! ([`Ended`]), which the console turns into its own messages.

use std::{
    fs::{self, File},
    io::{self, Write},
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use super::DemoLine;

/// How the writer thread ended (when it was not told to stop).
#[derive(Debug)]
pub enum Ended {
    /// Every line is written.
    Written,
    /// Writing a file failed; nothing more is written.
    Failed {
        /// The file, relative to the demo directory.
        file: &'static str,
        /// Why.
        error: io::Error,
    },
}

/// The demo's writer.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The demo directory.
    pub dir: PathBuf,
    /// The lines, sorted by `at_ms`.
    pub script: Vec<DemoLine>,
    /// How many times faster than the script's minute.
    pub speed: f64,
}

impl Replay {
    /// Creates the (empty) files now, then appends on a thread until the
    /// script ends (`ended` is told how) or `stop` is set.
    pub fn spawn(
        self,
        stop: Arc<AtomicBool>,
        ended: impl FnOnce(Ended) + Send + 'static,
    ) -> io::Result<thread::JoinHandle<()>> {
        let mut files: Vec<(&'static str, File)> = Vec::new();
        for line in &self.script {
            if files.iter().any(|(name, _)| *name == line.file) {
                continue;
            }
            let path = self.dir.join(line.file);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            files.push((
                line.file,
                File::options().create(true).append(true).open(&path)?,
            ));
        }
        let speed = if self.speed.is_finite() && self.speed > 0.0 {
            self.speed
        } else {
            1.0
        };
        thread::Builder::new()
            .name("demo-writer".into())
            .spawn(move || {
                let start = Instant::now();
                let mut next = 0;
                while next < self.script.len() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let due =
                        Duration::from_secs_f64(self.script[next].at_ms as f64 / 1000.0 / speed);
                    let elapsed = start.elapsed();
                    if due > elapsed {
                        thread::sleep((due - elapsed).min(Duration::from_millis(100)));
                        continue;
                    }
                    // Everything due by now, one write per file.
                    let mut batch: Vec<(&'static str, String)> = Vec::new();
                    while next < self.script.len()
                        && Duration::from_secs_f64(self.script[next].at_ms as f64 / 1000.0 / speed)
                            <= elapsed
                    {
                        let line = &self.script[next];
                        match batch.iter_mut().find(|(f, _)| *f == line.file) {
                            Some((_, text)) => {
                                text.push_str(&line.text);
                                text.push('\n');
                            }
                            None => batch.push((line.file, format!("{}\n", line.text))),
                        }
                        next += 1;
                    }
                    for (name, text) in batch {
                        if let Some((_, file)) = files.iter_mut().find(|(f, _)| *f == name)
                            && let Err(error) = file.write_all(text.as_bytes())
                        {
                            ended(Ended::Failed { file: name, error });
                            return;
                        }
                    }
                }
                ended(Ended::Written);
            })
    }
}
