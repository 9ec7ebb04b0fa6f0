//! Walks the hash chain of a journal and names the first event that was
//! altered, removed or reordered.
//!
//! Pure: works on the journal's bytes (the caller reads them under the lock).
//! Checks, line by line: the line is an event; its hash matches its content;
//! its `seq` is the one after the previous line's; its `prev_hash` is the
//! previous line's hash. The first failure is the answer.
//!
//! Then the end: cutting events off the *end* of a chain leaves a valid,
//! shorter chain, so every append records the head (last seq and hash) in
//! `journal.head` after the events, and [`check_head`] compares the two.
//!
//! Limits (of anything kept next to the data): whoever can rewrite the
//! journal and its head together can re-hash both. So `verify` reports the
//! head, and each export prints it: compare it with a head kept elsewhere.

use std::collections::HashSet;

use super::{
    event::{GENESIS, Head, JournalEvent, Kind},
    journal::{HEAD_FILE, LineError, parse_line},
};

/// What the walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every link holds, and the journal reaches its recorded head.
    Intact {
        /// Events in the journal.
        events: u64,
        /// The last event's seq and hash (none for an empty journal).
        head: Option<(u64, String)>,
        /// What the recorded head says (a note: never a failure here).
        recorded: HeadCheck,
    },
    /// The first break.
    Broken(Break),
    /// Every link holds, but the journal does not reach its recorded head:
    /// events were removed from its end, or rewritten up to it.
    Cut {
        /// Events in the journal (all verify).
        events: u64,
        /// How it falls short ([`HeadCheck::Cut`] or [`HeadCheck::Rewritten`]).
        check: HeadCheck,
    },
}

/// The journal's events against its recorded head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadCheck {
    /// No head is recorded: a journal written before heads were kept (its
    /// next append records one). A cut at its end cannot be seen.
    NotRecorded,
    /// The head names the journal's last event.
    Matches,
    /// The journal goes on past its head, and the head's event is there.
    /// Nothing is missing: the events are appended and made durable first,
    /// and the head written after them, so a crash between the two leaves
    /// the journal one append (`one_append`: all events past the head were
    /// recorded at the same instant, as one append seals them) ahead of its
    /// head. More than one append ahead means events were appended without
    /// recording the head (a triage that keeps none, or by hand); these are
    /// on the chain for all to see, and cannot hide a removal: removing or
    /// changing any event up to the head changes the head's hash.
    Behind {
        /// The head's seq.
        head: u64,
        /// The journal's last seq.
        last: u64,
        /// Whether the events past the head are those of one append.
        one_append: bool,
    },
    /// The journal ends before its head: events were removed from its end.
    Cut {
        /// The journal's last seq (0: no event).
        last: u64,
        /// The head recorded.
        head: Head,
    },
    /// The journal's event at the head's seq is not the one recorded: the
    /// journal was rewritten (and re-hashed) up to there at least.
    Rewritten {
        /// The hash of the journal's event at the head's seq.
        found: String,
        /// The head recorded.
        head: Head,
    },
}

impl HeadCheck {
    /// Whether the journal reaches its head (or has none to reach).
    pub fn is_ok(&self) -> bool {
        matches!(
            self,
            HeadCheck::NotRecorded | HeadCheck::Matches | HeadCheck::Behind { .. }
        )
    }
}

impl std::fmt::Display for HeadCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadCheck::NotRecorded => write!(
                f,
                "no head recorded (a journal from before {HEAD_FILE} was kept; the next \
                 append records it): events cut off its end could not be seen"
            ),
            HeadCheck::Matches => write!(f, "its end matches the head recorded in {HEAD_FILE}"),
            HeadCheck::Behind {
                head,
                last,
                one_append: true,
            } => write!(
                f,
                "{HEAD_FILE} says seq {head}: the append of events {} to {last} was \
                 interrupted before it recorded the head (nothing is missing; the next \
                 append records it)",
                head + 1
            ),
            HeadCheck::Behind { head, last, .. } => write!(
                f,
                "{HEAD_FILE} says seq {head}: events {} to {last} were appended without \
                 recording the head (by a triage that keeps none, or by hand; nothing is \
                 missing)",
                head + 1
            ),
            HeadCheck::Cut { last, head } => write!(
                f,
                "journal ends at seq {last} but its head says seq {} (hash {}): events were \
                 removed from its end",
                head.seq, head.hash
            ),
            HeadCheck::Rewritten { found, head } => write!(
                f,
                "event {} has hash {found} but the journal's head says seq {} (hash {}): \
                 the journal was rewritten up to there",
                head.seq, head.seq, head.hash
            ),
        }
    }
}

/// Compares `events` (a journal's, in seq order) with its recorded `head`.
pub fn check_head(events: &[JournalEvent], head: Option<&Head>) -> HeadCheck {
    let Some(head) = head else {
        return HeadCheck::NotRecorded;
    };
    let last = events.last().map_or(0, |e| e.seq);
    // Seqs run from 1 without gaps on a journal that reads; look for the
    // head's event where it should be, then anywhere.
    let at = usize::try_from(head.seq.saturating_sub(1))
        .ok()
        .and_then(|i| events.get(i))
        .filter(|e| e.seq == head.seq)
        .or_else(|| events.iter().find(|e| e.seq == head.seq));
    let Some(at) = at else {
        return HeadCheck::Cut {
            last,
            head: head.clone(),
        };
    };
    if at.hash != head.hash {
        return HeadCheck::Rewritten {
            found: at.hash.clone(),
            head: head.clone(),
        };
    }
    if last <= head.seq {
        return HeadCheck::Matches;
    }
    let past: Vec<&JournalEvent> = events.iter().filter(|e| e.seq > head.seq).collect();
    HeadCheck::Behind {
        head: head.seq,
        last,
        one_append: past
            .windows(2)
            .all(|w| w[0].recorded_at == w[1].recorded_at),
    }
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

fn describe(event: &JournalEvent) -> Option<(u64, String, Kind)> {
    Some((event.seq, event.id.clone(), event.kind))
}

/// Walks the chain of a whole journal, then compares its end with the
/// head recorded beside it.
pub fn verify(bytes: &[u8], recorded: Option<&Head>) -> Verification {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // What follows the last newline: empty unless a line is incomplete.
    let tail = lines.pop().unwrap_or_default();
    let parsed: Vec<Result<JournalEvent, LineError>> =
        lines.iter().map(|l| parse_line(l)).collect();
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
    let events: Vec<JournalEvent> = parsed.into_iter().filter_map(Result::ok).collect();
    let check = check_head(&events, recorded);
    if !check.is_ok() {
        return Verification::Cut {
            events: expected - 1,
            check,
        };
    }
    let head = (expected > 1).then(|| (expected - 1, prev_hash));
    Verification::Intact {
        events: expected - 1,
        head,
        recorded: check,
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
        match verify(&bytes(lines), None) {
            Verification::Broken(b) => b,
            intact => panic!("expected a break, got {intact:?}"),
        }
    }

    #[test]
    fn an_untouched_journal_is_intact() {
        let lines = journal(5);
        let Verification::Intact { events, head, .. } = verify(&bytes(&lines), None) else {
            panic!("intact");
        };
        assert_eq!(events, 5);
        assert_eq!(head.map(|(seq, _)| seq), Some(5));
        assert_eq!(
            verify(b"", None),
            Verification::Intact {
                events: 0,
                head: None,
                recorded: HeadCheck::NotRecorded,
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
        let mut event: JournalEvent = serde_json::from_str(&lines[1]).expect("parses");
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
        let Verification::Broken(b) = verify(&data, None) else {
            panic!("broken");
        };
        assert_eq!((b.line, b.problem), (3, Problem::Incomplete));
    }

    #[test]
    fn a_foreign_first_event_is_caught() {
        // A journal that starts at seq 1 but links to something else.
        let event = Draft::new(
            "INC-1",
            crate::incident::payload::tests::note("x"),
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

    /// A journal of `n` events, appended `per_append` at a time (one
    /// recording instant per append), and its events.
    fn appended(n: u64, per_append: u64) -> (Vec<String>, Vec<JournalEvent>) {
        let mut prev = GENESIS.to_owned();
        let events: Vec<JournalEvent> = (1..=n)
            .map(|seq| {
                let at = crate::incident::event::tests::ts("2026-11-21T03:10:00Z")
                    .checked_add(jiff::SignedDuration::from_secs(
                        ((seq - 1) / per_append) as i64,
                    ))
                    .expect("in range");
                let event = Draft::new(
                    "INC-1",
                    crate::incident::payload::tests::note("x"),
                    at,
                    crate::incident::event::TimeSource::Clock,
                    "alice",
                    format!("note {seq}"),
                )
                .seal(seq, format!("{seq:016x}"), at, &prev);
                prev = event.hash.clone();
                event
            })
            .collect();
        (events.iter().map(JournalEvent::to_line).collect(), events)
    }

    #[test]
    fn a_journal_cut_at_its_end_does_not_reach_its_head() {
        let (lines, events) = appended(5, 1);
        let head = Head::of(&events[4]);
        let Verification::Cut {
            events: left,
            check,
        } = verify(&bytes(&lines[..3]), Some(&head))
        else {
            panic!("cut");
        };
        assert_eq!(left, 3);
        assert_eq!(
            check.to_string(),
            format!(
                "journal ends at seq 3 but its head says seq 5 (hash {}): events were removed from its end",
                events[4].hash
            )
        );
        // Every event removed, or the file emptied.
        assert!(matches!(
            verify(b"", Some(&head)),
            Verification::Cut {
                events: 0,
                check: HeadCheck::Cut { last: 0, .. }
            }
        ));
    }

    #[test]
    fn a_journal_rewritten_up_to_its_head_does_not_reach_it() {
        let (lines, events) = appended(5, 1);
        let head = Head::of(&events[4]);
        // The last event dropped and a forged one chained in its place.
        let (mut forged, _) = appended(4, 1);
        let mut last: JournalEvent = serde_json::from_str(&lines[4]).expect("parses");
        last.summary = "nothing happened".into();
        last.hash = last.compute_hash();
        forged.push(last.to_line());
        let Verification::Cut { check, .. } = verify(&bytes(&forged), Some(&head)) else {
            panic!("rewritten");
        };
        assert!(matches!(check, HeadCheck::Rewritten { .. }), "{check}");
    }

    #[test]
    fn a_journal_ahead_of_its_head_is_intact() {
        // Crash after the events of one append, before its head: fine.
        let (lines, events) = appended(6, 3);
        let Verification::Intact { recorded, .. } =
            verify(&bytes(&lines), Some(&Head::of(&events[2])))
        else {
            panic!("intact");
        };
        assert_eq!(
            recorded,
            HeadCheck::Behind {
                head: 3,
                last: 6,
                one_append: true
            }
        );
        // Appends of a triage keeping no head: noted, nothing missing.
        let Verification::Intact { recorded, .. } =
            verify(&bytes(&lines), Some(&Head::of(&events[0])))
        else {
            panic!("intact");
        };
        assert!(matches!(
            recorded,
            HeadCheck::Behind {
                one_append: false,
                ..
            }
        ));
        assert!(recorded.to_string().contains("without recording the head"));
        let Verification::Intact { recorded, .. } =
            verify(&bytes(&lines), Some(&Head::of(&events[5])))
        else {
            panic!("intact");
        };
        assert_eq!(recorded, HeadCheck::Matches);
        let Verification::Intact { recorded, .. } = verify(&bytes(&lines), None) else {
            panic!("intact");
        };
        assert!(recorded.to_string().starts_with("no head recorded"));
    }
}
