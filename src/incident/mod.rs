//! The incident timeline: an append-only, hash-chained journal of what
//! happened, who did what, and the log lines that prove it.
//!
//! - [`event`]: one journal line (fields, kinds, canonical form, hash).
//! - [`payload`]: what each kind of event says, typed (its `details`).
//! - [`journal`]: the file in the data directory: locked appends from any
//!   number of processes, incremental reads.
//! - [`state`]: the pure fold of events into incidents (status, severity,
//!   milestones, TTD/TTA/TTM/TTR, signatures, runbook steps).
//! - [`recorder`]: automatic events from the pipeline (incident opened,
//!   signature fired / repeated / cleared, started and detected).
//! - [`op`]: the typed operations a person does ([`Op`], [`apply`]), for
//!   the command line and the console alike.
//! - [`command`]: `triage incident ...`: its arguments mapped to an [`Op`],
//!   and the reads (list, show, verify).
//! - [`verify`]: walking the hash chain.
//! - [`text`]: incidents as text for a terminal.
//!
//! Must not: read or match log files (the pipeline tells the recorder what it
//! found), run a runbook command, or rewrite a journal line. Every edit is a
//! new event that references an older one by `seq`.

pub mod command;
pub mod event;
pub mod journal;
pub mod op;
pub mod payload;
pub mod recorder;
pub mod state;
pub mod text;
pub mod verify;

pub use event::{Draft, Evidence, JournalEvent, Kind, TimeSource};
pub use journal::{Journal, JournalError};
pub use op::{Op, OpContext, apply};
pub use payload::Payload;
pub use recorder::{Recorder, record_events};
pub use state::{Incident, Metrics, Milestone, Status, StepState, Timeline};
