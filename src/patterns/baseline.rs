//! `watch --baseline`: the problem templates of a known-good period or run,
//! which `new-problem` then takes as known (as it takes those the data
//! directory has seen).
//!
//! Owns mining a baseline's problem-like events into a miner the engine
//! then starts from, and the ids it knows. Must not: open log files
//! (reading goes through `scan`), raise alerts (the engine does).
//!
//! Invariant: a problem-like event of a template the baseline has (the same
//! template, or one it grows into) is known: the engine's miner starts as
//! the baseline's, so the event joins the baseline's template, whose id, or
//! one of its former ids, is among [`known_ids`].

use std::io;

use crate::{
    parse::template::{Miner, TemplateId},
    scan::Scanner,
    signature::problem::problem_like,
    tail::read::Input,
};

/// Mines the problem-like events of the baseline's files and globs (as
/// `triage diff` takes them). A file that cannot be read is an error.
pub fn mine(scanner: &Scanner<'_>, args: &[String]) -> io::Result<Miner> {
    let mut miner = Miner::default();
    for path in super::diff::files(args) {
        let input = Input::from_arg(&path);
        scanner
            .events(&input, &mut |event, _| {
                if problem_like(&event).is_some() {
                    miner.add_event(&event);
                }
            })
            .map_err(|err| io::Error::other(format!("--baseline {input}: {err}")))?;
    }
    Ok(miner)
}

/// The ids of every template of `miner`, current and former.
pub fn known_ids(miner: &Miner) -> Vec<TemplateId> {
    miner
        .templates()
        .flat_map(|t| std::iter::once(t.id()).chain(t.former_ids().iter().copied()))
        .collect()
}
