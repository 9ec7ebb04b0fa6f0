//! The incident console (`triage ui`, and `triage demo` on a terminal): the
//! only code that touches the terminal.
//!
//! - [`app`]: the state and its update (keys, messages → effects); pure.
//! - [`keys`]: the one key table (dispatch, help, README); [`prompt`]: the
//!   prompts' line editor; [`filter`]: the log pane's filters; [`histogram`]:
//!   its strip of events over time.
//! - [`view`]: drawing the state with ratatui; reads it only.
//! - [`msg`]: the messages the pipeline threads send and the operator
//!   commands the console makes.
//! - [`feed`]: first screen, background detection and the live pipeline, on
//!   their own threads.
//! - [`fleet`]: the feed of `triage ui --nats`: the fleet's stream, read
//!   only, in place of local files.
//! - [`journal`]: journal writes (`incident::Op`s through `incident::apply`) and
//!   incremental reads of the journal, on its own thread.
//! - [`index_search`]: the search prompt over the index, when there is one.
//! - [`logfile`]: where `tracing` writes while the console owns the screen.
//!
//! The demo's writer thread is `demo::replay`'s: the console only turns how
//! it ended into a message.
//!
//! The runtime here is one loop on the UI thread over one channel: the
//! pipeline threads' messages and the terminal's input (read on a thread
//! of its own, `ui-input`), with a tick. The first frame is drawn before
//! anything is read or loaded; the files' ends come next, and the library
//! loads in the background (detection starts when it has).
//!
//! The terminal is restored on exit, on Ctrl-C, SIGTERM or SIGHUP, and on
//! a panic (before its message is printed). When the terminal goes away
//! (SIGHUP, its multiplexer killed, reads or writes failing) the console
//! stops within about a second: the UI thread never blocks in a terminal
//! read (crossterm's reader can spin forever on a hung-up terminal, so it
//! runs on `ui-input`, which is left behind), and a heartbeat write every
//! second finds a terminal that hung up without a signal.

pub mod app;
pub mod feed;
pub mod filter;
pub mod fleet;
pub mod histogram;
pub mod index_search;
pub mod journal;
pub mod keys;
pub mod logfile;
pub mod msg;
pub mod patterns;
pub mod patterns_view;
pub mod prompt;
pub mod view;

use std::{
    fs,
    io::{self, IsTerminal, Write},
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use jiff::{Timestamp, tz::TimeZone};
use ratatui::{
    Terminal,
    backend::CrosstermBackend,
    crossterm::{
        cursor,
        event::{self, Event as TermEvent},
        execute,
        terminal::{self, EnterAlternateScreen, LeaveAlternateScreen},
    },
};

use self::{
    app::{App, Effect, SearchBackend},
    feed::{FeedOptions, LoadLibrary},
    journal::JournalOptions,
    msg::{LogLine, Msg},
};
use crate::{
    config::Config,
    demo::replay::{Ended, Replay},
    diag::Diagnostic,
};

/// Messages in flight from the pipeline threads to the UI: enough for a few
/// deliveries ahead, small enough that a UI behind slows the follower down
/// (back-pressure) rather than growing memory.
const CHANNEL_MESSAGES: usize = 64;
/// Messages applied between two draws, so that input stays responsive under
/// a flood of lines.
const MESSAGES_PER_FRAME: usize = 256;
/// Time between two draws while messages arrive.
const FRAME: Duration = Duration::from_millis(50);
/// The longest the UI thread waits before looking at the stop flag (set
/// on Ctrl-C, SIGTERM or SIGHUP).
const TICK: Duration = Duration::from_millis(250);
/// How often a terminal that may have gone away is written to (a harmless
/// "hide the cursor" that fails once it has).
const HEARTBEAT: Duration = Duration::from_secs(1);
/// The file a copied command is also written to, in the data directory.
pub const COPY_FILE: &str = "copied-command.sh";
/// The console's log file, in the data directory.
pub const LOG_FILE: &str = "ui.log";

/// A search backend: the index, when there is one. It runs on its own
/// thread; the console sends it the query and shows the hits.
pub trait Search: Send {
    /// Events matching `query`, oldest first, at most `limit`.
    fn search(&mut self, query: &str, limit: usize) -> Result<Vec<LogLine>, String>;
}

/// What the console is asked to do.
pub struct UiOptions {
    /// The pipeline side.
    pub feed: FeedOptions,
    /// `--patterns` directories.
    pub pattern_dirs: Vec<PathBuf>,
    /// `--runbooks` directories.
    pub runbook_dirs: Vec<PathBuf>,
    /// The title bar's text.
    pub title: String,
    /// Zone of the times shown.
    pub zone: TimeZone,
    /// The demo's writer, when the console shows the demo.
    pub replay: Option<Replay>,
    /// The index, when there is one.
    pub search: Option<Box<dyn Search>>,
    /// The fleet's stream to show instead of local files (`--nats`): read
    /// only; the console then takes no lock and records nothing (the
    /// collector keeps the journal).
    pub fleet: Option<crate::fleet::Settings>,
}

/// Why the console could not run.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// Standard input or output is not a terminal.
    #[error("the console needs a terminal (stdin and stdout); use `triage watch` in scripts")]
    NotATerminal,
    /// The terminal could not be set up or drawn to.
    #[error("terminal: {0}")]
    Terminal(io::Error),
    /// The data directory (or its lock) could not be set up.
    #[error("{}: {source}", path.display())]
    Io {
        /// The directory or lock file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A thread could not be started.
    #[error("cannot start the console's {what}: {source}")]
    Spawn {
        /// Which thread.
        what: &'static str,
        /// Why.
        source: io::Error,
    },
    /// A thread of the console died (a bug; its panic is in the log file).
    #[error("the console's thread `{0}` failed (details in the log file)")]
    Thread(String),
}

/// Whether the console can run here.
pub fn is_terminal() -> bool {
    io::stdout().is_terminal() && io::stdin().is_terminal()
}

/// Runs the console until the operator quits, `stop` is set (a signal)
/// or the terminal goes away. The first frame is drawn before `load` runs
/// (on a thread of its own). Returns the problems `load` found in the
/// user's files, for the caller to report once the screen is restored.
pub fn run(
    mut options: UiOptions,
    load: LoadLibrary,
    config: Config,
    stop: Arc<AtomicBool>,
) -> Result<Vec<Diagnostic>, UiError> {
    if !is_terminal() {
        return Err(UiError::NotATerminal);
    }
    let data_dir = options.feed.data_dir.clone();
    fs::create_dir_all(&data_dir).map_err(|source| UiError::Io {
        path: data_dir.clone(),
        source,
    })?;
    logfile::start(&data_dir.join(LOG_FILE));
    // One recorder per data directory: when a `watch` holds the lock, attach
    // to it (its journal), else hold the lock for as long as we record.
    let fleet = options.fleet.take();
    let (lock, attached) = match fleet {
        Some(_) => (None, false),
        None => {
            let lock = crate::watch::try_lock(&data_dir)
                .map_err(|(path, source)| UiError::Io { path, source })?;
            let attached = lock.is_none();
            (lock, attached)
        }
    };
    options.feed.record = !attached;
    options.feed.alerts = !attached;
    options.feed.backfill &= !attached;
    let config = Arc::new(config);
    let mut app = App::new(
        None,
        options.zone.clone(),
        // The paths or globs it was given: outside text too.
        msg::clean(&options.title),
        Timestamp::now(),
    );
    app.attached = attached;
    if options.search.is_none() && attached {
        // The watch we attach to builds the index: searched once it has
        // committed (it may not have yet).
        options.search = Some(Box::new(index_search::IndexSearch::lazy(
            crate::index::path_in(&data_dir),
        )));
    }
    if options.search.is_some() {
        app.search_backend = SearchBackend::Index;
    }
    // The first frame, before anything is read or loaded.
    let mut screen = Screen::enter().map_err(UiError::Terminal)?;
    screen
        .terminal
        .draw(|frame| view::draw(frame, &app))
        .map_err(UiError::Terminal)?;
    // Whatever way this returns (an error below included), the threads
    // started from here on are told to stop.
    let _stop_threads = StopOnDrop(Arc::clone(&stop));
    let (tx, rx) = mpsc::sync_channel::<Msg>(CHANNEL_MESSAGES);
    let (ops_tx, ops_rx) = mpsc::channel::<journal::Request>();
    let mut threads = Vec::new();
    let io_err = |what: &'static str| move |source| UiError::Spawn { what, source };
    if let Some(replay) = options.replay.take() {
        let tx = tx.clone();
        let ended = move |ended| {
            let _ = tx.send(match ended {
                Ended::Written => Msg::Info(
                    "the demo's logs are all written; mark steps, ack, then q to quit".into(),
                ),
                Ended::Failed { file, error } => {
                    Msg::Problem(msg::clean(&format!("demo writer: {file}: {error}")))
                }
            });
        };
        threads.push(
            replay
                .spawn(Arc::clone(&stop), ended)
                .map_err(io_err("demo writer"))?,
        );
    }
    threads.push(
        journal::spawn(
            JournalOptions {
                data_dir: data_dir.clone(),
                pattern_dirs: options.pattern_dirs.clone(),
                runbook_dirs: options.runbook_dirs.clone(),
                zone: options.zone.clone(),
                attached,
                actor: None,
                relative_to: options.feed.relative_to.clone(),
            },
            ops_rx,
            tx.clone(),
            Arc::clone(&stop),
        )
        .map_err(io_err("journal thread"))?,
    );
    match fleet {
        Some(settings) => threads.push(
            fleet::spawn(settings, load, Arc::clone(&stop), tx.clone())
                .map_err(io_err("fleet feed"))?,
        ),
        None => threads.extend(
            feed::spawn(
                options.feed,
                load,
                Arc::clone(&config),
                Arc::clone(&stop),
                tx.clone(),
            )
            .map_err(io_err("pipeline threads"))?,
        ),
    }
    // Not joined: on a terminal that hung up it may never return.
    spawn_input(tx.clone()).map_err(io_err("input thread"))?;
    let search_tx = match options.search.take() {
        Some(search) => Some(spawn_search(search, tx.clone()).map_err(io_err("search thread"))?),
        None => None,
    };
    drop(tx);
    let copy_path = data_dir.join(COPY_FILE);
    let result = event_loop(
        &mut screen,
        &mut app,
        &rx,
        &ops_tx,
        search_tx.as_ref(),
        &copy_path,
        &stop,
    );
    drop(screen);
    // Stop the threads: the flag, then the channels they block on.
    stop.store(true, Ordering::SeqCst);
    drop(rx);
    drop(ops_tx);
    drop(search_tx);
    // A thread that died is an error, not a clean end.
    let mut died = None;
    for thread in threads {
        let name = thread.thread().name().unwrap_or("unnamed").to_owned();
        if thread.join().is_err() && died.is_none() {
            died = Some(name);
        }
    }
    drop(lock);
    logfile::stop();
    result?;
    match died {
        Some(name) => Err(UiError::Thread(name)),
        None => Ok(app.diagnostics().to_vec()),
    }
}

/// Sets the stop flag when dropped.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Reads the terminal's input on a thread of its own and hands it to the
/// UI thread as messages; a read error ends it with [`Msg::TerminalGone`].
fn spawn_input(tx: mpsc::SyncSender<Msg>) -> io::Result<()> {
    thread::Builder::new()
        .name("ui-input".into())
        .spawn(move || {
            loop {
                let msg = match event::read() {
                    Ok(TermEvent::Key(key)) => Msg::Key(key),
                    Ok(TermEvent::Resize(..)) => Msg::Resize,
                    Ok(_) => continue,
                    Err(err) => Msg::TerminalGone(err.to_string()),
                };
                let gone = matches!(msg, Msg::TerminalGone(_));
                if tx.send(msg).is_err() || gone {
                    return;
                }
            }
        })?;
    Ok(())
}

fn spawn_search(
    mut search: Box<dyn Search>,
    tx: mpsc::SyncSender<Msg>,
) -> io::Result<mpsc::Sender<String>> {
    let (query_tx, query_rx) = mpsc::channel::<String>();
    thread::Builder::new()
        .name("ui-search".into())
        .spawn(move || {
            while let Ok(query) = query_rx.recv() {
                let msg = match search.search(&query, 5_000) {
                    Ok(hits) => Msg::Found { query, hits },
                    Err(err) => Msg::Done(Err(format!("search: {err}"))),
                };
                if tx.send(msg).is_err() {
                    return;
                }
            }
        })?;
    Ok(query_tx)
}

/// The terminal while the console owns it; restored when dropped (on
/// return and while unwinding) and by the panic hook.
struct Screen {
    terminal: Terminal<CrosstermBackend<io::Stdout>>,
}

/// Whether the terminal is in the console's modes (raw, alternate screen).
static ACTIVE: Mutex<bool> = Mutex::new(false);

fn restore() {
    let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
    if *active {
        let _ = terminal::disable_raw_mode();
        let _ = execute!(io::stdout(), LeaveAlternateScreen, cursor::Show);
        *active = false;
    }
}

impl Screen {
    fn enter() -> io::Result<Screen> {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            let ui_thread = thread::current().id();
            std::panic::set_hook(Box::new(move |info| {
                if crate::index::guard::catching() {
                    // A damaged index met by a search: an error, the
                    // console goes on.
                } else if thread::current().id() == ui_thread {
                    restore();
                    previous(info);
                } else {
                    // A pipeline thread: the console reports it stopped; the
                    // details go to the log file, never over the screen.
                    tracing::error!("internal error: {info}");
                }
            }));
        });
        terminal::enable_raw_mode()?;
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = true;
        if let Err(err) = execute!(io::stdout(), EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(err);
        }
        match Terminal::new(CrosstermBackend::new(io::stdout())) {
            Ok(terminal) => Ok(Screen { terminal }),
            Err(err) => {
                restore();
                Err(err)
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

fn event_loop(
    screen: &mut Screen,
    app: &mut App,
    rx: &mpsc::Receiver<Msg>,
    ops: &mpsc::Sender<journal::Request>,
    search: Option<&mpsc::Sender<String>>,
    copy_path: &std::path::Path,
    stop: &AtomicBool,
) -> Result<(), UiError> {
    let mut dirty = false;
    let mut last_draw = Instant::now();
    let mut last_beat = Instant::now();
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        if dirty && last_draw.elapsed() >= FRAME {
            screen
                .terminal
                .draw(|frame| view::draw(frame, app))
                .map_err(UiError::Terminal)?;
            dirty = false;
            last_draw = Instant::now();
        }
        if last_beat.elapsed() >= HEARTBEAT {
            heartbeat().map_err(UiError::Terminal)?;
            last_beat = Instant::now();
        }
        let wait = if dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            TICK
        };
        let first = match rx.recv_timeout(wait) {
            Ok(msg) => msg,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            // Every thread has ended, the input thread included (it ends
            // only with a message saying the terminal is gone).
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(msg) = next.take() {
            match handle(screen, app, msg, ops, search, copy_path)? {
                Handled::Quit => return Ok(()),
                // Draw the answer to a key (and the first screen) at once.
                Handled::DrawNow => {
                    last_draw = Instant::now() - FRAME;
                    dirty = true;
                }
                Handled::Changed => dirty = true,
            }
            handled += 1;
            if handled < MESSAGES_PER_FRAME {
                next = rx.try_recv().ok();
            }
        }
    }
}

/// What handling one message asks of the loop.
enum Handled {
    Quit,
    DrawNow,
    Changed,
}

fn handle(
    screen: &mut Screen,
    app: &mut App,
    msg: Msg,
    ops: &mpsc::Sender<journal::Request>,
    search: Option<&mpsc::Sender<String>>,
    copy_path: &std::path::Path,
) -> Result<Handled, UiError> {
    match msg {
        Msg::Key(key) => {
            for effect in app.on_key(key, Timestamp::now()) {
                match effect {
                    Effect::Quit => return Ok(Handled::Quit),
                    Effect::Op(write) => {
                        let request = journal::Request {
                            write,
                            library: app.library_arc(),
                            at: app.clock,
                        };
                        if ops.send(request).is_err() {
                            app.on_msg(
                                Msg::Done(Err("the journal thread has stopped".into())),
                                Timestamp::now(),
                            );
                        }
                    }
                    Effect::Copy(text) => copy(app, &text, copy_path),
                    Effect::Suggest { name, toml } => suggest(app, &name, &toml, copy_path),
                    Effect::Search(query) => {
                        if let Some(search) = search {
                            let _ = search.send(query);
                        }
                    }
                }
            }
            Ok(Handled::DrawNow)
        }
        Msg::Resize => {
            screen.terminal.autoresize().map_err(UiError::Terminal)?;
            Ok(Handled::DrawNow)
        }
        Msg::TerminalGone(why) => {
            tracing::warn!("the terminal has gone away: {why}");
            Err(UiError::Terminal(io::Error::other(why)))
        }
        msg @ Msg::Tail(_) => {
            app.on_msg(msg, Timestamp::now());
            Ok(Handled::DrawNow)
        }
        msg => {
            app.on_msg(msg, Timestamp::now());
            Ok(Handled::Changed)
        }
    }
}

/// Writes a harmless sequence (hide the cursor, which the console keeps
/// hidden) straight to the terminal: an error says it has gone away.
fn heartbeat() -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(b"\x1b[?25l")?;
    out.flush()
}

/// Puts `text` on the terminal's clipboard (OSC 52, which most terminal
/// emulators and tmux honour) and into `path`, for terminals that do not.
/// The text is a rendered runbook command: every value in it passed its
/// parameter's pattern, and it travels base64-encoded.
fn copy(app: &mut App, text: &str, path: &std::path::Path) {
    let mut out = io::stdout();
    let _ = out.write_all(&osc52(text));
    let _ = out.flush();
    let written = fs::write(path, format!("{text}\n"));
    let msg = match written {
        Ok(()) => Ok(format!("copied: {text}  (also in {})", path.display())),
        Err(err) => Err(format!(
            "copied to the terminal clipboard; {}: {err}",
            path.display()
        )),
    };
    app.on_msg(Msg::Done(msg), Timestamp::now());
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard
/// (crossterm's `CopyToClipboard`: base64, `c` destination).
pub fn osc52(text: &str) -> Vec<u8> {
    use ratatui::crossterm::{clipboard::CopyToClipboard, queue};
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = queue!(out, CopyToClipboard::to_clipboard_from(text));
    out
}

/// Writes a suggested signature to `<data-dir>/suggested/NAME` (the data
/// directory is where `copy_path` is) and says where.
fn suggest(app: &mut App, name: &str, toml: &str, copy_path: &std::path::Path) {
    let dir = copy_path
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("suggested");
    let path = dir.join(name);
    let written = fs::create_dir_all(&dir).and_then(|()| fs::write(&path, toml));
    let msg = match written {
        Ok(()) => Ok(format!(
            "suggested signature written to {} (check: triage --patterns {} check)",
            path.display(),
            dir.display()
        )),
        Err(err) => Err(format!("{}: {err}", path.display())),
    };
    app.on_msg(Msg::Done(msg), Timestamp::now());
}

#[cfg(test)]
mod tests;
