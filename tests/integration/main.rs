//! End-to-end tests: the real `triage` binary run in temporary directories on
//! real log files (`../shared/data/`) and fixtures (`tests/fixtures/`).

mod answers;
mod check;
mod demo;
mod errors;
mod export;
mod fleet;
mod formats;
mod globs;
mod harness;
mod incident;
mod ingest;
mod integrity;
mod issue14;
mod library;
mod outputs;
mod patterns;
mod scan;
mod search;
mod serial;
mod stress;
mod ui;
mod wait;
mod watch;
