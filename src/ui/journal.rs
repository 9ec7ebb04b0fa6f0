//! The console's journal side, on its own thread: carries out the
//! operations the console builds (`incident::Op`) with `incident::apply`
//! on the journal it keeps open (so the console writes exactly what
//! `triage incident ...` would, with the library the console already
//! loaded, and reports the events written), and reads the journal
//! incrementally to keep the timeline (and, when attached to a `watch`, the
//! alerts) up to date.
//!
//! Must not: touch the terminal, or write the journal except through
//! `incident::apply`. Journal appends take a lock and fsync: that is why
//! they happen here and never on the UI thread.

use std::{
    cell::OnceCell,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc::{Receiver, RecvTimeoutError, SyncSender},
    },
    thread,
    time::Duration,
};

use jiff::{Timestamp, tz::TimeZone};

use super::msg::{AlertInfo, IncidentView, LogLine, Msg, TimelineRow, Write, clean};
use crate::{
    incident::{
        Journal, OpContext, Payload,
        command::{self, CommandError},
        event::JournalEvent,
        state::{Incident, Timeline},
    },
    library::Library,
    model::Severity,
};

/// Incidents sent to the console at most (the open ones, newest first).
const MAX_INCIDENTS: usize = 20;

/// A write for the journal thread, with the console's library (runbook
/// steps are checked against it) when it has loaded.
pub struct Request {
    /// What to write, and where.
    pub write: Write,
    /// The library the console uses.
    pub library: Option<Arc<Library>>,
    /// The console's present when it was asked for: the log clock of a
    /// replay (the demo's log time runs faster than the wall clock, and its
    /// operator events must be on the same clock as its alerts), else
    /// `None`: the wall clock.
    pub at: Option<Timestamp>,
}

/// How often the journal is read for what others appended.
const REFRESH: Duration = Duration::from_millis(250);

/// What the journal thread works with.
#[derive(Debug, Clone)]
pub struct JournalOptions {
    /// The data directory.
    pub data_dir: PathBuf,
    /// `--patterns` directories (for the runbooks a step names).
    pub pattern_dirs: Vec<PathBuf>,
    /// `--runbooks` directories.
    pub runbook_dirs: Vec<PathBuf>,
    /// The zone of times.
    pub zone: TimeZone,
    /// Attached to a running `watch`: alerts come from the journal.
    pub attached: bool,
    /// Who acts (default: `$USER`).
    pub actor: Option<String>,
    /// Sources in evidence are shown relative to this directory.
    pub relative_to: Option<PathBuf>,
}

/// Starts the journal thread: commands from `ops`, messages to `tx`.
pub fn spawn(
    options: JournalOptions,
    ops: Receiver<Request>,
    tx: SyncSender<Msg>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<thread::JoinHandle<()>> {
    thread::Builder::new()
        .name("ui-journal".into())
        .spawn(move || {
            let report = tx.clone();
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(&options, &ops, &tx, &stop);
            }))
            .is_err()
            {
                let _ = report.send(Msg::Stopped(
                    "internal error in the journal thread (details in the log file)".into(),
                ));
            }
        })
}

fn run(options: &JournalOptions, ops: &Receiver<Request>, tx: &SyncSender<Msg>, stop: &AtomicBool) {
    // The library when a write needs one before the console has loaded its
    // own: loaded once, kept.
    let fallback = OnceCell::new();
    let mut journal: Option<Journal> = None;
    let mut seen = 0usize;
    let mut last_error: Option<String> = None;
    let mut shown: Option<Vec<IncidentView>> = None;
    let mut first = true;
    while !stop.load(Ordering::SeqCst) {
        match ops.recv_timeout(if first { Duration::ZERO } else { REFRESH }) {
            Ok(request) => {
                let result = match journal.as_mut() {
                    Some(journal) => execute(options, journal, &fallback, request),
                    None => Journal::open(&options.data_dir)
                        .map_err(|e| format!("journal: {e}"))
                        .and_then(|mut opened| {
                            let result = execute(options, &mut opened, &fallback, request);
                            journal = Some(opened);
                            result
                        }),
                };
                if tx.send(Msg::Done(result)).is_err() {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        first = false;
        let refreshed = match journal.as_mut() {
            Some(journal) => journal.refresh().map(|_| ()),
            None => Journal::open(&options.data_dir).map(|j| journal = Some(j)),
        };
        if let Err(err) = refreshed {
            let text = format!("journal: {err}");
            if last_error.as_deref() != Some(text.as_str()) {
                let _ = tx.send(Msg::Problem(text.clone()));
                last_error = Some(text);
            }
            continue;
        }
        last_error = None;
        let Some(journal) = journal.as_ref() else {
            continue;
        };
        let timeline = journal.timeline();
        if options.attached {
            for event in &timeline.events()[seen.min(timeline.events().len())..] {
                if let Some(msg) = alert_of(event, options.relative_to.as_deref())
                    && tx.send(msg).is_err()
                {
                    return;
                }
            }
        }
        seen = timeline.events().len();
        let views = incident_views(timeline);
        if shown.as_ref() != Some(&views) {
            shown = Some(views.clone());
            if tx.send(Msg::Incidents(views)).is_err() {
                return;
            }
        }
    }
}

/// Carries out one operation as `triage incident ...` would, on the open
/// `journal`, with the console's library (else the one loaded into
/// `fallback` the first time a write needs it); says what was written
/// (`INC-1 #53 Step done: …`).
pub fn execute(
    options: &JournalOptions,
    journal: &mut Journal,
    fallback: &OnceCell<Library>,
    request: Request,
) -> Result<String, String> {
    let Request { write, library, at } = request;
    let actor = command::actor(options.actor.as_deref()).map_err(|e| e.to_string())?;
    let now = at.unwrap_or_else(Timestamp::now);
    let ctx = match library.as_deref() {
        Some(library) => OpContext::new(library, &actor, now),
        None => OpContext::loading(
            fallback,
            &options.pattern_dirs,
            &options.runbook_dirs,
            &actor,
            now,
        ),
    };
    match crate::incident::apply(journal, &write.op, write.incident.as_deref(), &ctx) {
        Ok(events) => Ok(written(&events)),
        Err(CommandError::NoOpenIncident) => {
            Err("no open incident: press ! to declare one".to_owned())
        }
        Err(err) => Err(err.to_string()),
    }
}

/// What the status bar says about events written: the first one's
/// incident, number and summary (and how many more).
fn written(events: &[JournalEvent]) -> String {
    let Some(first) = events.first() else {
        return "nothing to change".to_owned();
    };
    let more = match events.len() - 1 {
        0 => String::new(),
        n => format!(" (+{n} more)"),
    };
    format!(
        "{} #{} {}{more}",
        clean(&first.incident),
        first.seq,
        clean(&first.summary)
    )
}

/// The incidents to show: the open ones, latest first (at most
/// [`MAX_INCIDENTS`]), else the latest one.
pub fn incident_views(timeline: &Timeline) -> Vec<IncidentView> {
    let open: Vec<&Incident> = timeline
        .incidents()
        .iter()
        .rev()
        .filter(|i| i.is_open())
        .take(MAX_INCIDENTS)
        .collect();
    if open.is_empty() {
        return timeline
            .latest()
            .map(|inc| view_of(timeline, inc))
            .into_iter()
            .collect();
    }
    open.into_iter().map(|inc| view_of(timeline, inc)).collect()
}

/// The incident to show first: the latest open one, else the latest.
pub fn incident_view(timeline: &Timeline) -> Option<IncidentView> {
    incident_views(timeline).into_iter().next()
}

fn view_of(timeline: &Timeline, inc: &Incident) -> IncidentView {
    let rows = inc
        .chronological()
        .into_iter()
        .map(|entry| {
            let event = timeline.event_of(entry);
            TimelineRow {
                seq: entry.seq,
                at: entry.occurred_at,
                actor: clean(&event.actor),
                kind: event.kind.as_str(),
                summary: clean(&event.summary),
                pinned: entry.pinned,
            }
        })
        .collect();
    IncidentView {
        id: inc.id.clone(),
        title: clean(&inc.title),
        severity: inc.severity,
        status: inc.status,
        opened_at: inc.opened_at,
        steps: inc.steps.clone(),
        rows,
    }
}

/// The alert a `watch` recorded, for a console attached to it: a firing,
/// or a repetition (which says only its signature: shown as a medium alert
/// of that signature, its summary as the line).
fn alert_of(event: &JournalEvent, relative_to: Option<&std::path::Path>) -> Option<Msg> {
    let fired = match event.payload() {
        Payload::SignatureFired(fired) => Some(fired),
        Payload::SignatureRepeated(_) => None,
        Payload::SignatureCleared(cleared) => {
            return Some(Msg::Cleared {
                signature: Arc::from(cleared.signature.as_str()),
                key: clean(&cleared.key),
                at: event.occurred_at,
            });
        }
        _ => return None,
    };
    let signature = event.payload().signature_event()?;
    let mut evidence = match &event.evidence {
        Some(ev) => LogLine::new(
            super::feed::display_name(&ev.source, relative_to),
            ev.line_no,
            ev.offset,
            &ev.line,
        ),
        None => LogLine::new(Arc::from("journal"), 0, 0, &event.summary),
    };
    evidence.ts = Some(event.occurred_at);
    // The host the line came from (a collector's alerts: the agent's; a line
    // that names its host: that one).
    evidence.host = fired
        .and_then(|f| f.host.as_deref())
        .map(|h| Arc::from(clean(h)));
    Some(Msg::Alert(Box::new(AlertInfo {
        signature: Arc::from(signature),
        title: clean(fired.map_or(signature, |f| &f.title)),
        severity: fired.map_or(Severity::Medium, |f| f.severity),
        key: fired.map(|f| clean(&f.key)).unwrap_or_default(),
        at: event.occurred_at,
        runbook: fired.and_then(|f| f.runbook.clone()),
        captures: fired.map(|f| f.captures.clone()).unwrap_or_default(),
        hits: fired.map_or(1, |f| f.hits),
        evidence,
        backfill: false,
    })))
}
