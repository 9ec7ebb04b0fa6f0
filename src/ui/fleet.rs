//! The console's feed from a fleet (`triage ui --nats URL`), on its own
//! thread (`ui-fleet`): the library loaded first (titles, severities and
//! runbooks of the alerts), then the fleet's stream read through
//! [`fleet::tap::Tap`](crate::fleet::tap::Tap) — a read-only view, no local
//! file, no lock, nothing recorded (the collector keeps the journal) — and
//! turned into the same [`Msg`]s the local feed sends.
//!
//! A line's source is `host:path` (so two hosts' files are two sources for
//! the filters, the marks and the evidence) and its host is kept beside it
//! for the view. Alerts that fired before the console started are marked
//! earlier, as the local feed's background pass marks its own.
//!
//! Must not: touch the terminal, open a file, talk to NATS itself (the
//! `fleet` module owns the client and its runtime).

use std::{
    collections::HashSet,
    io,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc::SyncSender,
    },
    thread,
    time::Duration,
};

use jiff::Timestamp;

use super::{
    feed::{LoadLibrary, alert_info},
    msg::{AlertInfo, LogLine, Msg, Stats, clean},
};
use crate::{
    fleet::{
        Settings,
        tap::{Tap, Tapped},
        wire::{AlertMsg, EventMsg},
    },
    incident::recorder::key_text,
    library::Library,
    model::{Alert, Severity},
};

/// How long one wait for the stream's messages lasts (the stop flag is
/// looked at between two).
const WAIT: Duration = Duration::from_millis(200);

/// Starts the fleet feed's thread.
pub fn spawn(
    settings: Settings,
    load: LoadLibrary,
    stop: Arc<AtomicBool>,
    tx: SyncSender<Msg>,
) -> io::Result<thread::JoinHandle<()>> {
    thread::Builder::new()
        .name("ui-fleet".into())
        .spawn(move || {
            let report = tx.clone();
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(&settings, load, &stop, &tx);
            }))
            .is_err()
            {
                let _ = report.send(Msg::Stopped(
                    "internal error in the fleet feed (details in the log file)".into(),
                ));
            }
        })
}

/// What the feed has seen: for the status bar, and the stream positions a
/// view opened again goes on after.
#[derive(Default)]
struct Seen {
    sources: HashSet<Arc<str>>,
    lines: u64,
    last_event: u64,
    last_alert: u64,
}

fn run(settings: &Settings, load: LoadLibrary, stop: &AtomicBool, tx: &SyncSender<Msg>) {
    let (library, diagnostics) = load();
    let library = Arc::new(library);
    let loaded = Msg::Library(super::msg::Loaded {
        library: Arc::clone(&library),
        diagnostics: Arc::new(diagnostics),
    });
    if tx.send(loaded).is_err() {
        return;
    }
    let started = Timestamp::now();
    let connecting = Msg::Info(format!(
        "connecting to {} (why it cannot, if it cannot: in the log file)",
        settings.servers_for_display()
    ));
    if tx.send(connecting).is_err() {
        return;
    }
    let mut seen = Seen::default();
    let mut last_problem: Option<String> = None;
    // A problem is said once while it lasts; false: the console has gone.
    let problem = |last: &mut Option<String>, text: String| -> bool {
        if last.as_deref() == Some(text.as_str()) {
            return true;
        }
        *last = Some(text.clone());
        tx.send(Msg::Problem(text)).is_ok()
    };
    while !stop.load(Ordering::SeqCst) {
        let mut tap = match Tap::open(settings, stop) {
            Ok(tap) => tap,
            Err(err) => {
                if stop.load(Ordering::SeqCst) || !problem(&mut last_problem, err.to_string()) {
                    return;
                }
                thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        let live = Msg::Info(format!(
            "live on the fleet: stream {} on {}",
            settings.stream_name(),
            settings.servers_for_display()
        ));
        if tx.send(live).is_err() {
            return;
        }
        while !stop.load(Ordering::SeqCst) {
            match tap.next_batch(WAIT) {
                Ok(batch) if batch.is_empty() => {}
                Ok(batch) => {
                    last_problem = None;
                    let msgs = messages(batch, &library, started, &mut seen);
                    for msg in msgs {
                        if tx.send(msg).is_err() {
                            return;
                        }
                    }
                }
                Err(err) => {
                    // The client reconnects and the ordered consumers are
                    // made again by it; a view that ended is opened again.
                    let ended = err.to_string().contains("ended");
                    if !problem(&mut last_problem, err.to_string()) {
                        return;
                    }
                    if ended {
                        break;
                    }
                    thread::sleep(WAIT);
                }
            }
        }
    }
}

/// The console's messages of a batch: its lines first (so an alert's
/// evidence is in the log before the alert), then its alerts and clears,
/// then the counters. Messages already seen (a view opened again) are
/// skipped.
fn messages(
    batch: Vec<Tapped>,
    library: &Library,
    started: Timestamp,
    seen: &mut Seen,
) -> Vec<Msg> {
    let mut lines = Vec::new();
    let mut alerts = Vec::new();
    for tapped in batch {
        match tapped {
            Tapped::Event(seq, event) => {
                if seq <= seen.last_event {
                    continue;
                }
                seen.last_event = seq;
                let mut line = log_line(&event);
                line.signatures = event
                    .signatures
                    .iter()
                    .map(|s| Arc::from(s.as_str()))
                    .collect();
                seen.sources.insert(Arc::clone(&line.source));
                seen.lines += 1;
                lines.push(line);
            }
            Tapped::Alert(seq, alert) => {
                if seq <= seen.last_alert {
                    continue;
                }
                seen.last_alert = seq;
                alerts.push(alert_msg(*alert, library, started));
            }
            Tapped::Unreadable(seq, why) => {
                tracing::warn!("stream message {seq} is not triage's: {why}");
            }
        }
    }
    let mut out = Vec::new();
    if !lines.is_empty() {
        out.push(Msg::Lines(lines));
    }
    out.extend(alerts);
    out.push(Msg::Stats(Stats {
        files: seen.sources.len(),
        lines: seen.lines,
        index_lag: None,
    }));
    out
}

/// An event of the stream as the console shows it: source `host:path`,
/// its host beside it.
pub fn log_line(msg: &EventMsg) -> LogLine {
    let source = format!("{}:{}", msg.host, msg.source);
    let mut line = LogLine::of_event(Arc::from(clean(&source)), &msg.event());
    line.host = Some(Arc::from(clean(&msg.host)));
    line
}

/// An alert or a clear of the stream as the console shows it; an alert of
/// a signature this console's library does not know is shown by its id.
pub fn alert_msg(msg: AlertMsg, library: &Library, started: Timestamp) -> Msg {
    match msg {
        AlertMsg::Alert {
            signature,
            event,
            captures,
            hits,
            suppressed,
            key,
            at,
            ..
        } => {
            let evidence = log_line(&event);
            let backfill = at < started;
            let info = match library.signature_id(&signature) {
                Some(id) => {
                    let found = Alert {
                        signature: id,
                        time: event.ts.or(event.time),
                        event: event.event(),
                        captures,
                        hits,
                        suppressed,
                        key,
                        at,
                    };
                    alert_info(&found, library, evidence, backfill)
                }
                None => AlertInfo {
                    signature: Arc::from(clean(&signature)),
                    title: clean(&signature),
                    severity: Severity::Medium,
                    key: clean(&key_text(&key)),
                    at,
                    runbook: None,
                    captures: captures
                        .into_iter()
                        .map(|(k, v)| (clean(&k), clean(&v)))
                        .collect(),
                    hits: hits + suppressed,
                    evidence,
                    backfill,
                },
            };
            Msg::Alert(Box::new(info))
        }
        AlertMsg::Cleared {
            signature,
            key,
            last_hit_ms,
            ..
        } => Msg::Cleared {
            signature: Arc::from(clean(&signature)),
            key: clean(&key_text(&key)),
            at: Timestamp::from_millisecond(last_hit_ms).unwrap_or(started),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, FileKey, Level};

    fn event(text: &str) -> Event {
        Event {
            source: "/var/log/postgresql/main.log".into(),
            offset: 40,
            line_no: 2,
            ts: None,
            level: Some(Level::Fatal),
            text: text.into(),
            message: 0,
            lossy: false,
            truncated: false,
            partial: false,
            fields: crate::model::Fields::new(),
            lines: 1,
        }
    }

    #[test]
    fn a_fleet_alert_names_its_host_and_its_signature() {
        let library = Library::load(&[], &[]).0;
        let id = library
            .signature_id("postgres-connection-slots-exhausted")
            .expect("shipped");
        let found = Alert {
            signature: id,
            event: event("FATAL:  sorry, too many clients already"),
            captures: Vec::new(),
            hits: 1,
            suppressed: 0,
            key: Vec::new(),
            time: None,
            at: "2026-12-05T09:00:00Z".parse().expect("time"),
        };
        let key = FileKey { dev: 1, ino: 2 };
        let msg = AlertMsg::alert(
            "db-1\x1b[31m",
            "postgres-connection-slots-exhausted",
            key,
            &found,
        );
        let started = "2026-12-05T10:00:00Z".parse().expect("time");
        let Msg::Alert(info) = alert_msg(msg, &library, started) else {
            panic!("an alert");
        };
        assert_eq!(info.severity, Severity::Critical);
        assert!(info.backfill, "fired before the console started");
        // The host is outside text: sanitised, kept beside the source.
        let host = info.evidence.host.as_deref().expect("host");
        assert!(!host.contains('\x1b'), "{host:?}");
        assert!(
            info.evidence.source.starts_with(host),
            "{}",
            info.evidence.source
        );
        assert!(
            info.evidence
                .source
                .ends_with(":/var/log/postgresql/main.log")
        );
        // A signature the console does not know is shown by its id.
        let unknown = AlertMsg::alert("db-2", "their-own", key, &found);
        let Msg::Alert(info) = alert_msg(unknown, &library, started) else {
            panic!("an alert");
        };
        assert_eq!(
            (&*info.signature, info.severity, info.runbook.is_none()),
            ("their-own", Severity::Medium, true)
        );
    }

    /// The console at 100×30 after `msgs`, as text.
    fn screen(msgs: Vec<Msg>) -> String {
        use ratatui::{Terminal, backend::TestBackend};
        let now: Timestamp = "2026-12-05T09:00:30Z".parse().expect("time");
        let library = Arc::new(Library::load(&[], &[]).0);
        let mut app = super::super::app::App::new(
            Some(library),
            jiff::tz::TimeZone::UTC,
            "fleet".into(),
            now,
        );
        for msg in msgs {
            app.on_msg(msg, now);
        }
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
        terminal
            .draw(|frame| super::super::view::draw(frame, &app))
            .expect("draw");
        let buffer = terminal.backend().buffer().clone();
        let width = buffer.area.width as usize;
        buffer
            .content
            .chunks(width)
            .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn an_alert_row_names_its_hosts_and_a_line_its_host() {
        let library = Library::load(&[], &[]).0;
        let id = library
            .signature_id("postgres-connection-slots-exhausted")
            .expect("shipped");
        let started = "2026-12-05T09:00:00Z".parse().expect("time");
        let alert_on = |host: &str| {
            let found = Alert {
                signature: id,
                event: event("FATAL:  sorry, too many clients already"),
                captures: Vec::new(),
                hits: 1,
                suppressed: 0,
                key: Vec::new(),
                time: None,
                at: "2026-12-05T09:00:10Z".parse().expect("time"),
            };
            let key = FileKey { dev: 1, ino: 2 };
            let msg = AlertMsg::alert(host, "postgres-connection-slots-exhausted", key, &found);
            alert_msg(msg, &library, started)
        };
        let one = screen(vec![alert_on("web-1")]);
        assert!(one.contains("web-1 postgres-conn"), "{one}");
        let two = screen(vec![alert_on("web-1"), alert_on("db-1")]);
        assert!(two.contains("db-1,web-1 postgres-conn"), "{two}");
        let many = screen(["a-1", "b-1", "c-1"].map(alert_on).to_vec());
        assert!(many.contains("3 hosts postgres-conn"), "{many}");
        // A line of the log: its host, then as much of the path's end as
        // fits.
        let at = "2026-12-05T09:00:20Z".parse().expect("time");
        let msg = EventMsg::of(
            "db-1",
            FileKey { dev: 1, ino: 2 },
            &event("FATAL:  the database system is starting up"),
            crate::model::Timing { time: Some(at), at },
            Vec::new(),
        );
        let lines = screen(vec![Msg::Lines(vec![log_line(&msg)])]);
        assert!(
            lines.contains("db-1:…tgresql/main.log FATAL:  the database system is starting up")
                || lines.contains("db-1:…") && lines.contains("main.log FATAL:"),
            "{lines}"
        );
    }
}
