//! Walks the hash chain of a journal and names the first event that was
//! altered, removed or reordered.
//!
//! Pure: works on the journal's bytes (the caller reads them under the lock).
//! Checks, line by line: the line is an event; its hash matches its content;
//! its `seq` is the one after the previous line's; its `prev_hash` is the
//! previous line's hash. The first failure is the answer.
//!
//! Limits (of any hash chain kept next to the data): cutting events off the
//! *end* leaves a valid, shorter chain, and whoever can rewrite the whole file
//! can re-hash it. So `verify` reports the head (last seq and hash), and each
//! export prints it: compare it with a head recorded elsewhere.

use std::collections::HashSet;

use super::{
    event::{Event, GENESIS, Kind},
    journal::{LineError, parse_line},
};

/// What the walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every link holds.
    Intact {
        /// Events in the journal.
        events: u64,
        /// The last event's seq and hash (none for an empty journal).
        head: Option<(u64, String)>,
    },
    /// The first break.
    Broken(Break),
}

/// Where the chain breaks. Displays as the message without the line,
/// which the caller puts after the path (`journal.jsonl:3: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// 1-based line number in the journal.
    pub line: u64,
    /// What the line says it is (when it can still be read).
    pub event: Option<(u64, String, Kind)>,
    /// What is wrong.
    pub problem: Problem,
    /// Events before the break that verified.
    pub intact_before: u64,
}

/// The kinds of break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The line is no longer an event.
    Unreadable(String),
    /// The content does not match the hash written with it.
    Altered,
    /// The previous line was changed and re-hashed: this event's
    /// `prev_hash` still names the original.
    PreviousRehashed,
    /// Events `from..=to` are missing before this one.
    Removed {
        /// First missing seq.
        from: u64,
        /// Last missing seq.
        to: u64,
    },
    /// The event expected here (`expected`) is elsewhere in the file, or this
    /// one is a copy of an earlier one.
    Reordered {
        /// The seq that should be on this line.
        expected: u64,
    },
    /// The last line has no newline: a write was interrupted (or the file
    /// was cut).
    Incomplete,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.event {
            Some((seq, id, kind)) => format!("event {seq} ({kind}, id {id})"),
            None => "the event".to_owned(),
        };
        match &self.problem {
            Problem::Unreadable(reason) => {
                write!(
                    f,
                    "{what} was altered: not a valid event any more ({reason})"
                )
            }
            Problem::Altered => {
                write!(f, "{what} was altered: its content does not match its hash")
            }
            Problem::PreviousRehashed => write!(
                f,
                "the event before {what} was altered and re-hashed: {what} links to a different hash"
            ),
            Problem::Removed { from, to } if from == to => write!(
                f,
                "event {from} was removed: {what} follows event {}",
                from - 1
            ),
            Problem::Removed { from, to } => write!(
                f,
                "events {from} to {to} were removed: {what} follows event {}",
                from - 1
            ),
            Problem::Reordered { expected } => write!(
                f,
                "events were reordered: {what} is where event {expected} should be"
            ),
            Problem::Incomplete => write!(
                f,
                "the last line is incomplete (an interrupted write, or the file was cut)"
            ),
        }
    }
}

fn describe(event: &Event) -> Option<(u64, String, Kind)> {
    Some((event.seq, event.id.clone(), event.kind))
}

/// Walks the chain of a whole journal.
pub fn verify(bytes: &[u8]) -> Verification {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // What follows the last newline: empty unless a line is incomplete.
    let tail = lines.pop().unwrap_or_default();
    let parsed: Vec<Result<Event, LineError>> = lines.iter().map(|l| parse_line(l)).collect();
    let seqs: HashSet<u64> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok().map(|e| e.seq))
        .collect();
    let mut prev_hash = GENESIS.to_owned();
    let mut expected = 1u64;
    for (i, parsed) in parsed.iter().enumerate() {
        let line = i as u64 + 1;
        let broken = |event: Option<(u64, String, Kind)>, problem| {
            Verification::Broken(Break {
                line,
                event,
                problem,
                intact_before: expected - 1,
            })
        };
        let event = match parsed {
            Ok(event) => event,
            Err(LineError::Invalid(reason)) => {
                return broken(None, Problem::Unreadable(reason.clone()));
            }
            Err(LineError::NewerVersion(v)) => {
                return broken(
                    None,
                    Problem::Unreadable(format!(
                        "format version {v} is not one this triage writes"
                    )),
                );
            }
        };
        if !event.hash_is_valid() {
            return broken(describe(event), Problem::Altered);
        }
        if event.seq > expected {
            let problem = if seqs.contains(&expected) {
                Problem::Reordered { expected }
            } else {
                Problem::Removed {
                    from: expected,
                    to: event.seq - 1,
                }
            };
            return broken(describe(event), problem);
        }
        if event.seq < expected {
            return broken(describe(event), Problem::Reordered { expected });
        }
        if event.prev_hash != prev_hash {
            return broken(describe(event), Problem::PreviousRehashed);
        }
        prev_hash.clone_from(&event.hash);
        expected += 1;
    }
    if !tail.is_empty() {
        return Verification::Broken(Break {
            line: lines.len() as u64 + 1,
            event: None,
            problem: Problem::Incomplete,
            intact_before: expected - 1,
        });
    }
    let head = (expected > 1).then(|| (expected - 1, prev_hash));
    Verification::Intact {
        events: expected - 1,
        head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::{event::Draft, event::tests::sample};

    fn journal(n: u64) -> Vec<String> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let event = sample(seq, &prev);
                prev = event.hash.clone();
                event.to_line()
            })
            .collect()
    }

    fn bytes(lines: &[String]) -> Vec<u8> {
        lines
            .iter()
            .flat_map(|l| format!("{l}\n").into_bytes())
            .collect()
    }

    fn broken(lines: &[String]) -> Break {
        match verify(&bytes(lines)) {
            Verification::Broken(b) => b,
            intact => panic!("expected a break, got {intact:?}"),
        }
    }

    #[test]
    fn an_untouched_journal_is_intact() {
        let lines = journal(5);
        let Verification::Intact { events, head } = verify(&bytes(&lines)) else {
            panic!("intact");
        };
        assert_eq!(events, 5);
        assert_eq!(head.map(|(seq, _)| seq), Some(5));
        assert_eq!(
            verify(b""),
            Verification::Intact {
                events: 0,
                head: None
            }
        );
    }

    #[test]
    fn a_changed_byte_names_the_event() {
        let mut lines = journal(5);
        lines[2] = lines[2].replace("restarted", "Restarted");
        let b = broken(&lines);
        assert_eq!((b.line, b.problem.clone()), (3, Problem::Altered));
        assert_eq!(b.event.as_ref().map(|e| e.0), Some(3));
        assert!(b.to_string().starts_with("event 3 (note, id "), "{b}");
    }

    #[test]
    fn a_change_that_breaks_the_json_is_still_named() {
        let mut lines = journal(3);
        lines[1] = lines[1].replacen('{', "[", 1);
        let b = broken(&lines);
        assert_eq!(b.line, 2);
        assert!(matches!(b.problem, Problem::Unreadable(_)));
    }

    #[test]
    fn removal_and_reordering_are_told_apart() {
        let lines = journal(5);
        let mut removed = lines.clone();
        removed.remove(2);
        let b = broken(&removed);
        assert_eq!(
            (b.line, b.problem),
            (3, Problem::Removed { from: 3, to: 3 })
        );

        let mut swapped = lines.clone();
        swapped.swap(1, 3);
        let b = broken(&swapped);
        assert_eq!((b.line, b.problem), (2, Problem::Reordered { expected: 2 }));

        let mut duplicated = lines;
        duplicated.insert(3, duplicated[1].clone());
        let b = broken(&duplicated);
        assert_eq!((b.line, b.problem), (4, Problem::Reordered { expected: 4 }));
    }

    #[test]
    fn an_event_changed_and_rehashed_is_caught_by_the_next_link() {
        let mut lines = journal(4);
        let mut event: Event = serde_json::from_str(&lines[1]).expect("parses");
        event.summary = "nothing to see".into();
        event.hash = event.compute_hash();
        lines[1] = event.to_line();
        let b = broken(&lines);
        assert_eq!((b.line, b.problem), (3, Problem::PreviousRehashed));
    }

    #[test]
    fn an_incomplete_last_line_is_reported() {
        let lines = journal(2);
        let mut data = bytes(&lines);
        data.extend_from_slice(b"{\"version\":1");
        let Verification::Broken(b) = verify(&data) else {
            panic!("broken");
        };
        assert_eq!((b.line, b.problem), (3, Problem::Incomplete));
    }

    #[test]
    fn a_foreign_first_event_is_caught() {
        // A journal that starts at seq 1 but links to something else.
        let event = Draft::new(
            "INC-1",
            Kind::Note,
            crate::incident::event::tests::ts("2026-11-21T03:00:00Z"),
            crate::incident::event::TimeSource::Clock,
            "a",
            "x",
        )
        .seal(
            1,
            "0".repeat(16),
            crate::incident::event::tests::ts("2026-11-21T03:00:00Z"),
            &"f".repeat(64),
        );
        let b = broken(&[event.to_line()]);
        assert_eq!((b.line, b.problem), (1, Problem::PreviousRehashed));
    }
}
