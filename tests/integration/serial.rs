//! Which tests must not run beside each other, and why.
//!
//! Most tests run in parallel (libtest's threads, one per core). A few
//! run a writer and `triage` flat out — tens of thousands of lines through
//! rotations, `kill -9` loops, the stress harness, a NATS cluster with
//! agents and a collector: two of them at once would share the cores four
//! ways, and what they check (every line once, through faults timed against
//! the follower's polls) would be tested under a load no machine of theirs
//! has. Those take [`heavy`], one at a time; a light test (a few lines, a
//! webhook receiver, a refused second writer, a console in tmux) takes
//! nothing and runs beside whatever runs.

use std::sync::{Mutex, MutexGuard};

static HEAVY: Mutex<()> = Mutex::new(());

/// Held for the whole of a heavy test: no other heavy test runs meanwhile.
pub fn heavy() -> MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
