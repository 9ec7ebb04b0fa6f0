//! The console's journal side, on its own thread: carries out operator
//! commands by calling `incident::command::write` on the journal it keeps
//! open (so the console writes exactly what `triage incident ...` would,
//! with the library the console already loaded, and reports the events
//! written, not printed text), and reads the journal incrementally to keep
//! the timeline (and, when attached to a `watch`, the alerts) up to date.
//!
//! Must not: touch the terminal, or write the journal except through
//! `incident::command`. Journal appends take a lock and fsync: that is why
//! they happen here and never on the UI thread.

use std::{
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
use serde_json::Value;

use super::msg::{AlertInfo, IncidentView, LogLine, Msg, Op, TimelineRow, Write, clean};
use crate::{
    cli::IncidentCommand,
    incident::{
        Journal,
        command::{self, CommandError, Context},
        event::{Event, Kind},
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
    let mut journal: Option<Journal> = None;
    let mut seen = 0usize;
    let mut last_error: Option<String> = None;
    let mut shown: Option<Vec<IncidentView>> = None;
    let mut first = true;
    while !stop.load(Ordering::SeqCst) {
        match ops.recv_timeout(if first { Duration::ZERO } else { REFRESH }) {
            Ok(request) => {
                let result = match journal.as_mut() {
                    Some(journal) => execute(options, journal, request),
                    None => Journal::open(&options.data_dir)
                        .map_err(|e| format!("journal: {e}"))
                        .and_then(|mut opened| {
                            let result = execute(options, &mut opened, request);
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

/// Carries out one operator command as `triage incident ...` would, on
/// the open `journal`; says what was written (`INC-1 #53 Step done: …`).
pub fn execute(
    options: &JournalOptions,
    journal: &mut Journal,
    request: Request,
) -> Result<String, String> {
    let Request { write, library, at } = request;
    let command = match write.op {
        Op::Declare { title, severity } => IncidentCommand::Declare {
            title: Some(title),
            severity: Some(severity),
            at: None,
        },
        Op::Ack => IncidentCommand::Ack { at: None },
        Op::Note(text) => IncidentCommand::Note { text, at: None },
        Op::Step {
            runbook,
            step,
            outcome,
            note,
        } => IncidentCommand::Step {
            runbook,
            step,
            outcome,
            note,
            at: None,
        },
        Op::Severity(severity) => IncidentCommand::Severity { severity, at: None },
        Op::Status(status) => IncidentCommand::Status {
            status,
            note: None,
            at: None,
        },
        Op::Pin { seq, unpin } => IncidentCommand::Pin { seq, unpin },
    };
    let mut ctx = Context::new(
        &options.data_dir,
        &options.pattern_dirs,
        &options.runbook_dirs,
        at.unwrap_or_else(Timestamp::now),
        options.zone.clone(),
    );
    if let Some(library) = library.as_deref() {
        ctx = ctx.with_library(library);
    }
    let actor = command::actor(options.actor.as_deref()).map_err(|e| e.to_string())?;
    match command::write(journal, &command, write.incident.as_deref(), &actor, &ctx) {
        Ok(events) => Ok(written(&events)),
        Err(CommandError::NoOpenIncident) => {
            Err("no open incident: press ! to declare one".to_owned())
        }
        Err(err) => Err(err.to_string()),
    }
}

/// What the status bar says about events written: the first one's
/// incident, number and summary (and how many more).
fn written(events: &[Event]) -> String {
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

/// The alert a `watch` recorded, for a console attached to it.
fn alert_of(event: &Event, relative_to: Option<&std::path::Path>) -> Option<Msg> {
    let text = |key: &str| event.details.get(key).and_then(Value::as_str);
    match event.kind {
        Kind::SignatureFired | Kind::SignatureRepeated => {
            let signature = text("signature")?;
            let severity = Severity::ALL
                .into_iter()
                .find(|s| Some(s.as_str()) == text("severity"))
                .unwrap_or(Severity::Medium);
            let captures = match event.details.get("captures") {
                Some(Value::Object(map)) => map
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect(),
                _ => Vec::new(),
            };
            let evidence = match &event.evidence {
                Some(ev) => LogLine::new(
                    super::feed::display_name(&ev.source, relative_to),
                    ev.line_no,
                    ev.offset,
                    &ev.line,
                ),
                None => LogLine::new(Arc::from("journal"), 0, 0, &event.summary),
            };
            let mut evidence = evidence;
            evidence.ts = Some(event.occurred_at);
            // The host the line came from (a collector's alerts: the agent's;
            // a line that names its host: that one).
            evidence.host = text("host").map(|h| Arc::from(clean(h)));
            Some(Msg::Alert(Box::new(AlertInfo {
                signature: Arc::from(signature),
                title: clean(text("title").unwrap_or(signature)),
                severity,
                key: clean(text("key").unwrap_or("")),
                at: event.occurred_at,
                runbook: text("runbook").map(str::to_owned),
                captures,
                hits: event
                    .details
                    .get("hits")
                    .and_then(Value::as_u64)
                    .unwrap_or(1),
                evidence,
                backfill: false,
            })))
        }
        Kind::SignatureCleared => Some(Msg::Cleared {
            signature: Arc::from(text("signature")?),
            key: clean(text("key").unwrap_or("")),
            at: event.occurred_at,
        }),
        _ => None,
    }
}
