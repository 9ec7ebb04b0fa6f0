//! `triage outbox list|retry|drop` and `triage outputs list|test`: the
//! outbox and the outputs from the shell.
//!
//! Returns whether everything went well; `run` turns that into the exit
//! code. Receivers' answers are printed sanitised and with the output's
//! secrets replaced by where they come from.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
};

use jiff::Timestamp;
use serde_json::json;

use crate::{sanitize::for_terminal, watch::try_lock};

use super::{
    config::Output,
    outbox::{Entry, Outbox, OutboxError, State},
    render,
    send::{self, Outcome},
};

/// What `outbox` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxAction {
    /// Print every entry, waiting and parked.
    List {
        /// JSON lines instead of a table.
        json: bool,
    },
    /// Make entries due now (parked ones back in line) and, when no
    /// `watch` runs on the data directory, send them.
    Retry,
    /// Delete entries.
    Drop,
}

/// Which entries a command is about.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// These sequence numbers (all when empty).
    pub seqs: Vec<u64>,
    /// Of this output only.
    pub output: Option<String>,
    /// Only parked entries.
    pub parked: bool,
    /// Every entry (what `drop` needs to be told explicitly).
    pub all: bool,
}

impl Selection {
    fn takes(&self, output: &str, seq: u64, state: State) -> bool {
        (self.seqs.is_empty() || self.seqs.contains(&seq))
            && self.output.as_deref().is_none_or(|o| o == output)
            && (!self.parked || state == State::Parked)
    }
}

/// Why an `outbox` or `outputs` command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Standard output could not be written.
    #[error(transparent)]
    Output(#[from] io::Error),
    /// The outbox could not be read or changed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// `outbox drop` with nothing chosen.
    #[error("outbox drop: name the entries (SEQ...), or use --output NAME, --parked or --all")]
    NothingChosen,
    /// The data directory's lock could not be taken.
    #[error("{}: {source}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// `outputs test NAME` names no output.
    #[error("no output named `{0}` in triage.toml")]
    NoSuchOutput(String),
    /// `outputs test` and triage.toml has no output.
    #[error("no [[output]] in triage.toml")]
    NoOutputs,
}

fn entries(outbox: &Outbox, selection: &Selection) -> Result<Vec<(State, Entry)>, CommandError> {
    let mut found = Vec::new();
    for output in outbox.outputs()? {
        for state in [State::Pending, State::Parked] {
            for (seq, path) in outbox.list(&output, state)? {
                if !selection.takes(&output, seq, state) {
                    continue;
                }
                match outbox.read(&path) {
                    Ok(entry) => found.push((state, entry)),
                    Err(err) => crate::output::message(err),
                }
            }
        }
    }
    found.sort_by_key(|(_, e)| e.seq);
    Ok(found)
}

fn state_name(state: State) -> &'static str {
    match state {
        State::Pending => "waiting",
        State::Parked => "parked",
    }
}

/// `triage outbox ...`.
pub fn outbox(
    action: &OutboxAction,
    selection: &Selection,
    data_dir: &Path,
    outputs: &[Output],
    out: &mut dyn Write,
) -> Result<bool, CommandError> {
    if action == &OutboxAction::Drop
        && selection.seqs.is_empty()
        && selection.output.is_none()
        && !selection.parked
        && !selection.all
    {
        return Err(CommandError::NothingChosen);
    }
    let outbox = Outbox::open(data_dir, false)?;
    let found = entries(&outbox, selection)?;
    match action {
        OutboxAction::List { json } => {
            let now = Timestamp::now().as_millisecond();
            if !json && found.is_empty() {
                writeln!(out, "the outbox is empty")?;
            }
            for (state, entry) in &found {
                if *json {
                    let value = json!({
                        "seq": entry.seq,
                        "output": entry.output,
                        "state": state_name(*state),
                        "what": entry.what,
                        "dedup_key": entry.dedup_key,
                        "signature": entry.signature,
                        "created": Timestamp::from_millisecond(entry.created_ms).ok().map(|t| t.to_string()),
                        "attempts": entry.attempts,
                        "next_attempt": (*state == State::Pending).then(|| Timestamp::from_millisecond(entry.next_ms.max(now)).ok().map(|t| t.to_string())).flatten(),
                        "last_error": entry.last_error,
                    });
                    serde_json::to_writer(&mut *out, &value).map_err(io::Error::from)?;
                    writeln!(out)?;
                } else {
                    let when = match state {
                        State::Parked => "parked".to_owned(),
                        State::Pending if entry.next_ms <= now => "due now".to_owned(),
                        State::Pending => {
                            format!("next in {}s", (entry.next_ms - now + 999) / 1000)
                        }
                    };
                    writeln!(
                        out,
                        "{:>6}  {:<12} {:<8} {:<40} attempts {:<3} {}{}",
                        entry.seq,
                        for_terminal(&entry.output),
                        entry.what,
                        for_terminal(&entry.dedup_key),
                        entry.attempts,
                        when,
                        entry
                            .last_error
                            .as_deref()
                            .map(|e| format!("  last: {}", for_terminal(e)))
                            .unwrap_or_default()
                    )?;
                }
            }
            Ok(true)
        }
        OutboxAction::Drop => {
            for (state, entry) in &found {
                outbox.remove(&entry.output, entry.seq, *state)?;
            }
            writeln!(out, "dropped {} notifications", found.len())?;
            Ok(true)
        }
        OutboxAction::Retry => {
            for (state, entry) in &found {
                match state {
                    State::Parked => outbox.unpark(entry.clone()),
                    State::Pending => outbox.update(&Entry {
                        next_ms: 0,
                        ..entry.clone()
                    }),
                }?;
            }
            let lock =
                try_lock(data_dir).map_err(|(path, source)| CommandError::Lock { path, source })?;
            if lock.is_none() {
                writeln!(
                    out,
                    "{} notifications due now; the running `triage watch` sends them",
                    found.len()
                )?;
                return Ok(true);
            }
            let mut all_good = true;
            // An output that failed gets nothing more now: order is kept.
            let mut failed: Vec<String> = Vec::new();
            for (_, entry) in &found {
                if failed.contains(&entry.output) {
                    writeln!(
                        out,
                        "{:>6}  {}: left waiting behind an earlier one",
                        entry.seq,
                        for_terminal(&entry.output)
                    )?;
                    continue;
                }
                let Some(output) = outputs.iter().find(|o| o.name == entry.output) else {
                    writeln!(
                        out,
                        "{:>6}  {}: no such output in triage.toml; left in the outbox",
                        entry.seq,
                        for_terminal(&entry.output)
                    )?;
                    all_good = false;
                    continue;
                };
                let outcome = send::send(output, &entry.body, &entry.dedup_key);
                let mut entry = entry.clone();
                entry.attempts += 1;
                let said = for_terminal(&outcome.describe()).into_owned();
                match &outcome {
                    Outcome::Delivered(..) => {
                        outbox.remove(&entry.output, entry.seq, State::Pending)?;
                        writeln!(out, "{:>6}  {}: delivered: {said}", entry.seq, output.name)?;
                    }
                    Outcome::Retry(..) => {
                        all_good = false;
                        failed.push(entry.output.clone());
                        entry.last_error = Some(outcome.describe());
                        outbox.update(&entry)?;
                        writeln!(
                            out,
                            "{:>6}  {}: not delivered: {said}",
                            entry.seq, output.name
                        )?;
                    }
                    Outcome::Refused(..) => {
                        all_good = false;
                        entry.last_error = Some(outcome.describe());
                        outbox.park(&entry)?;
                        writeln!(
                            out,
                            "{:>6}  {}: refused, parked: {said}",
                            entry.seq, output.name
                        )?;
                    }
                }
            }
            Ok(all_good)
        }
    }
}

/// `triage outputs list`: each output, its kind, filters and where its
/// secrets come from (never their values).
pub fn list(outputs: &[Output], out: &mut dyn Write) -> Result<bool, CommandError> {
    if outputs.is_empty() {
        writeln!(out, "no [[output]] in triage.toml")?;
    }
    for output in outputs {
        writeln!(
            out,
            "{:<16} {:<12} min_severity {:<8} url from {}{}",
            output.name,
            output.kind.as_str(),
            output.min_severity.as_str(),
            output.url.origin(),
            if output.incidents { "  +incidents" } else { "" }
        )?;
    }
    Ok(true)
}

/// `triage outputs test [NAME]`: a clearly marked test notification to
/// each output (or the one named), sent now, with the receiver's answer.
pub fn test(
    outputs: &[Output],
    name: Option<&str>,
    out: &mut dyn Write,
) -> Result<bool, CommandError> {
    let chosen: Vec<&Output> = outputs
        .iter()
        .filter(|o| name.is_none_or(|n| n == o.name))
        .collect();
    if chosen.is_empty() {
        return Err(match name {
            Some(name) => CommandError::NoSuchOutput(name.to_owned()),
            None => CommandError::NoOutputs,
        });
    }
    let mut all_good = true;
    for output in chosen {
        let body = render::test_body(output.kind, Timestamp::now());
        let outcome = send::send(output, &body, "triage/test");
        let said = for_terminal(&outcome.describe()).into_owned();
        let verdict = match outcome {
            Outcome::Delivered(..) => "delivered",
            Outcome::Retry(..) => "failed",
            Outcome::Refused(..) => "refused",
        };
        all_good &= verdict == "delivered";
        writeln!(
            out,
            "{} ({}): {verdict}: {said}",
            output.name,
            output.kind.as_str()
        )?;
    }
    Ok(all_good)
}
