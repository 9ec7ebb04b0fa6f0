//! The one detection engine: an event in, the signatures it matched and the
//! alerts they fire out, with per-signature tallies. Every driver uses it:
//! `scan` (block and line paths), the live pipeline (`watch`, the console),
//! `ingest`, the demo and tests.
//!
//! Pure: no I/O, no clock (each event comes with the time detection uses
//! for it). Alerts and clears name their signature by [`SignatureId`], its
//! place in the library's list.

use std::{
    collections::{BTreeSet, HashSet},
    io,
    sync::Arc,
};

use jiff::Timestamp;

use super::{
    Signature,
    detector::{Decision, Detector},
    matcher::{Matcher, SignatureMatch},
    problem::{self, Observed, Problems},
};
use crate::{
    model::{Alert, Cleared, Event, Level, SignatureId},
    parse::template::{Seen, TemplateId},
};

/// Raising `new-problem` alerts: the library's two raised signatures and
/// the problem templates already known.
struct NewProblems {
    medium: SignatureId,
    high: SignatureId,
    known: HashSet<TemplateId>,
}

/// At most this many known problem templates are remembered (then the
/// oldest knowledge is dropped all at once: a template may be raised again).
const MAX_KNOWN: usize = 100_000;

/// Counts for one signature over what the engine saw.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Events that matched.
    pub matches: u64,
    /// Alerts fired (after thresholds and suppression).
    pub alerts: u64,
    /// Earliest time of a matching event that has one.
    pub first: Option<Timestamp>,
    /// Latest time of a matching event that has one.
    pub last: Option<Timestamp>,
    /// Matching events with no time (none of their own, no earlier line of
    /// their source with one): in no first or last seen.
    pub untimed: u64,
    /// The sources (files) its matches came from.
    pub sources: BTreeSet<Arc<str>>,
    /// The hosts its matches named (`host` field), when they did.
    pub hosts: BTreeSet<String>,
}

/// Matching, detection and tallies over a library's signatures.
pub struct Engine<'l> {
    signatures: &'l [Signature],
    matcher: &'l Matcher,
    detector: Detector,
    tallies: Vec<Tally>,
    hits: Vec<SignatureMatch>,
    /// Signatures the last event matched (alerting or not).
    matched: Vec<SignatureId>,
    /// Problem-like events no signature matched, by template.
    problems: Problems,
    /// What the problems made of the last event.
    observed: Option<Observed>,
    /// Set when the engine raises `new-problem` alerts.
    new_problems: Option<NewProblems>,
}

impl<'l> Engine<'l> {
    /// An engine over `signatures`, matched by `matcher` (built from them).
    pub fn new(signatures: &'l [Signature], matcher: &'l Matcher) -> Engine<'l> {
        Engine {
            signatures,
            matcher,
            detector: Detector::new(),
            tallies: vec![Tally::default(); signatures.len()],
            hits: Vec::new(),
            matched: Vec::new(),
            problems: Problems::default(),
            observed: None,
            new_problems: None,
        }
    }

    /// The signature an alert or clear names.
    pub fn signature(&self, id: SignatureId) -> &'l Signature {
        &self.signatures[id.0]
    }

    /// Matches `event`, runs detection on its hits at `at` (thresholds and
    /// suppression keyed by its source and host), and hands each alert to
    /// `on_alert`; an error from it stops and is returned. An event no
    /// signature matched that is problem-like joins its template's problem
    /// group ([`Engine::observed`]).
    pub fn process(
        &mut self,
        event: &Event,
        at: Timestamp,
        on_alert: &mut dyn FnMut(Alert) -> io::Result<()>,
    ) -> io::Result<()> {
        self.run(event, Some(at), at, true, on_alert)
    }

    /// [`Engine::process`] for an event whose time may be unknown (`None`:
    /// no time of its own and no earlier line of its source with one):
    /// detection runs at `clock()`, which is never taken as the event's time
    /// in the tallies.
    pub fn process_at(
        &mut self,
        event: &Event,
        time: Option<Timestamp>,
        clock: &mut dyn FnMut() -> Timestamp,
        on_alert: &mut dyn FnMut(Alert) -> io::Result<()>,
    ) -> io::Result<()> {
        self.process_matching_at(event, time, true, clock, on_alert)
    }

    /// [`Engine::process_at`], told whether a signature may match `event`:
    /// `false` when the caller knows none does (no line of it holds what a
    /// regex of the library matches: `scan`'s literal search looked), and
    /// then only the problem groups and the new-problem alerts see it, with
    /// no signature matching spent on it.
    pub fn process_matching_at(
        &mut self,
        event: &Event,
        time: Option<Timestamp>,
        may_match: bool,
        clock: &mut dyn FnMut() -> Timestamp,
        on_alert: &mut dyn FnMut(Alert) -> io::Result<()>,
    ) -> io::Result<()> {
        let at = time.unwrap_or_else(clock);
        self.run(event, time, at, may_match, on_alert)
    }

    fn run(
        &mut self,
        event: &Event,
        time: Option<Timestamp>,
        at: Timestamp,
        may_match: bool,
        on_alert: &mut dyn FnMut(Alert) -> io::Result<()>,
    ) -> io::Result<()> {
        self.hits.clear();
        self.matched.clear();
        if may_match {
            self.matcher.matches(self.signatures, event, &mut self.hits);
        }
        self.observed = self.problems.event(event, !self.hits.is_empty());
        self.raise_new_problem(event, time, at, on_alert)?;
        if self.hits.is_empty() {
            return Ok(());
        }
        let host = event.fields.get("host");
        let source = match host {
            Some(host) => format!("{}\u{0}{host}", event.source),
            None => event.source.to_string(),
        };
        for SignatureMatch {
            signature: index,
            captures,
        } in self.hits.drain(..)
        {
            let signature = &self.signatures[index];
            self.matched.push(SignatureId(index));
            let tally = &mut self.tallies[index];
            tally.matches += 1;
            match time {
                Some(time) => {
                    tally.first = Some(tally.first.map_or(time, |t| t.min(time)));
                    tally.last = Some(tally.last.map_or(time, |t| t.max(time)));
                }
                None => tally.untimed += 1,
            }
            if !tally.sources.contains(&event.source) {
                tally.sources.insert(Arc::clone(&event.source));
            }
            if let Some(host) = host.filter(|h| !tally.hosts.contains(*h)) {
                tally.hosts.insert(host.to_owned());
            }
            if let Decision::Alert(fired) =
                self.detector
                    .observe(index, signature, &captures, &source, at.as_millisecond())
            {
                tally.alerts += 1;
                on_alert(Alert {
                    signature: SignatureId(index),
                    event: event.clone(),
                    captures,
                    hits: fired.hits,
                    suppressed: fired.suppressed,
                    key: fired.key,
                    time,
                    at,
                })?;
            }
        }
        Ok(())
    }

    /// Raises a `new-problem` alert (`new-fatal-problem` for a line of
    /// level critical or fatal) for the first problem-like event of each
    /// template not in `known` (nor raised since), when the library has
    /// those signatures (`patterns/triage.toml`). Whether it has.
    pub fn raise_new_problems(&mut self, known: impl IntoIterator<Item = TemplateId>) -> bool {
        let find = |id: &str| {
            self.signatures
                .iter()
                .position(|s| s.raised && s.id == id)
                .map(SignatureId)
        };
        match (find("new-problem"), find("new-fatal-problem")) {
            (Some(medium), Some(high)) => {
                self.new_problems = Some(NewProblems {
                    medium,
                    high,
                    known: known.into_iter().collect(),
                });
                true
            }
            _ => false,
        }
    }

    fn raise_new_problem(
        &mut self,
        event: &Event,
        time: Option<Timestamp>,
        at: Timestamp,
        on_alert: &mut dyn FnMut(Alert) -> io::Result<()>,
    ) -> io::Result<()> {
        let (Some(observed), Some(raise)) = (self.observed, &mut self.new_problems) else {
            return Ok(());
        };
        if !observed.new_group {
            return Ok(());
        }
        let Some(template) = self.problems.miner().get(observed.template) else {
            return Ok(());
        };
        let known = std::iter::once(&template.id())
            .chain(template.former_ids())
            .any(|id| raise.known.contains(id));
        if known {
            return Ok(());
        }
        if raise.known.len() >= MAX_KNOWN {
            raise.known.clear();
        }
        raise.known.insert(template.id());
        let signature = match event.level {
            Some(Level::Critical | Level::Fatal) => raise.high,
            _ => raise.medium,
        };
        let first = Seen {
            source: Arc::clone(&event.source),
            line_no: event.line_no,
            offset: event.offset,
            ts: event.ts,
        };
        let captures = problem::captures(&first, template.id(), template.text());
        let tally = &mut self.tallies[signature.0];
        tally.matches += 1;
        tally.alerts += 1;
        match time {
            Some(time) => {
                tally.first = Some(tally.first.map_or(time, |t| t.min(time)));
                tally.last = Some(tally.last.map_or(time, |t| t.max(time)));
            }
            None => tally.untimed += 1,
        }
        if !tally.sources.contains(&event.source) {
            tally.sources.insert(Arc::clone(&event.source));
        }
        on_alert(Alert {
            signature,
            event: event.clone(),
            key: vec![("template".to_owned(), template.id().to_string())],
            captures,
            hits: 1,
            suppressed: 0,
            time,
            at,
        })
    }

    /// The signatures the last processed event matched (alerting or not).
    pub fn matched(&self) -> &[SignatureId] {
        &self.matched
    }

    /// [`Engine::matched`] as signatures.
    pub fn matched_signatures(&self) -> impl Iterator<Item = &'l Signature> + '_ {
        let signatures = self.signatures;
        self.matched.iter().map(move |id| &signatures[id.0])
    }

    /// What the problem groups made of the last event: its template, and
    /// whether it was the first problem-like event of it. `None` when it
    /// was not problem-like (or a signature matched it).
    pub fn observed(&self) -> Option<Observed> {
        self.observed
    }

    /// The problem groups.
    pub fn problems(&self) -> &Problems {
        &self.problems
    }

    /// The problem groups, to report them or to mine every event.
    pub fn problems_mut(&mut self) -> &mut Problems {
        &mut self.problems
    }

    /// Per-signature counts so far, in library order.
    pub fn tallies(&self) -> impl Iterator<Item = (&'l Signature, &Tally)> {
        self.signatures.iter().zip(&self.tallies)
    }

    /// Signatures (keys of them) quiet for their `clear_after` at `now`.
    pub fn clear_due(&mut self, now: Timestamp) -> Vec<Cleared> {
        self.detector
            .clear_due(self.signatures, now.as_millisecond())
    }
}
