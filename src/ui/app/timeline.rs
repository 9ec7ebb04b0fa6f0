//! The timeline pane and the incident keys write to: the incidents the
//! journal thread knows, the one shown (`I` switches), its rows grouped,
//! and journal writes named and held for `y`.

use super::{App, Pending};
use crate::{
    incident::Op,
    ui::msg::{IncidentView, TimelineRow, Write},
};

/// One row of the timeline as shown: an event, or automatic events of one
/// kind in a row grouped (the last one stands for them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelineEntry<'a> {
    /// The event (the group's last).
    pub row: &'a TimelineRow,
    /// Events it stands for (1: itself).
    pub count: usize,
}

/// The timeline pane's state: the incidents known and the one shown.
#[derive(Debug)]
pub struct TimelinePane {
    /// The selected row (of [`App::timeline_rows`]).
    pub cursor: usize,
    /// The row selection follows the newest.
    pub(super) follow: bool,
    /// Every row, automatic repeats not grouped.
    pub all: bool,
    /// The incident shown.
    pub incident: Option<IncidentView>,
    /// The incidents the journal thread knows (open ones, and the latest).
    pub incidents: Vec<IncidentView>,
    /// The incident the operator chose to show (`I`); `None`: the latest
    /// open one.
    pub(super) shown: Option<String>,
}

impl Default for TimelinePane {
    fn default() -> TimelinePane {
        TimelinePane {
            cursor: 0,
            follow: true,
            all: false,
            incident: None,
            incidents: Vec::new(),
            shown: None,
        }
    }
}

impl App {
    /// The incident keys write to: the one shown.
    pub(super) fn target(&self) -> Option<String> {
        self.timeline.incident.as_ref().map(|i| i.id.clone())
    }

    /// A write to the incident shown, with what the status bar says.
    pub(super) fn pending_of(&self, op: Op, what: String) -> Pending {
        let incident = match op {
            Op::Declare { .. } => None,
            _ => self.target(),
        };
        let what = match (&incident, &op) {
            (Some(id), _) => format!("{id}: {what}"),
            (None, Op::Declare { .. }) => what,
            (None, _) => format!("{what} (no incident shown: the latest open one)"),
        };
        Pending {
            write: Write { op, incident },
            what,
        }
    }

    pub(super) fn ask(&mut self, pending: Option<Pending>) {
        if let Some(pending) = pending {
            self.message = None;
            self.pending = Some(pending);
        }
    }

    /// The shown incident: the one chosen with `I` while it is known, else
    /// the latest open one (the journal thread's first), else the latest.
    pub(super) fn pick_incident(&mut self) {
        let chosen = self
            .timeline
            .shown
            .as_ref()
            .and_then(|id| self.timeline.incidents.iter().find(|i| &i.id == id))
            .or_else(|| self.timeline.incidents.first())
            .cloned();
        self.timeline.incident = chosen;
        let rows = self.timeline_rows().len();
        if self.timeline.follow {
            self.timeline.cursor = rows.saturating_sub(1);
        } else {
            self.timeline.cursor = self.timeline.cursor.min(rows.saturating_sub(1));
        }
    }

    pub(super) fn next_incident(&mut self) {
        if self.timeline.incidents.len() < 2 {
            self.message = Some((
                match self.timeline.incidents.len() {
                    0 => "no incident yet (! declares one)".to_owned(),
                    _ => "only one incident".to_owned(),
                },
                false,
            ));
            return;
        }
        let at = self
            .timeline
            .incident
            .as_ref()
            .and_then(|shown| {
                self.timeline
                    .incidents
                    .iter()
                    .position(|i| i.id == shown.id)
            })
            .map_or(0, |i| (i + 1) % self.timeline.incidents.len());
        self.timeline.shown = Some(self.timeline.incidents[at].id.clone());
        self.timeline.follow = true;
        self.pick_incident();
        if let Some(inc) = &self.timeline.incident {
            self.message = Some((
                format!(
                    "showing {} ({}, {}); keys write to it",
                    inc.id, inc.status, inc.severity
                ),
                false,
            ));
        }
    }

    /// The timeline's rows as shown: automatic events of one kind in a row
    /// grouped into their last (unless [`TimelinePane::all`]); people's
    /// entries always on their own.
    pub fn timeline_rows(&self) -> Vec<TimelineEntry<'_>> {
        let Some(inc) = &self.timeline.incident else {
            return Vec::new();
        };
        let mut out: Vec<TimelineEntry<'_>> = Vec::with_capacity(inc.rows.len());
        for row in &inc.rows {
            let groups = !self.timeline.all
                && row.actor == crate::incident::event::AUTOMATIC_ACTOR
                && matches!(row.kind, "signature.repeated" | "signature.cleared");
            if groups
                && let Some(last) = out.last_mut()
                && last.row.kind == row.kind
                && last.row.actor == row.actor
                && !last.row.pinned
                && !row.pinned
            {
                last.row = row;
                last.count += 1;
                continue;
            }
            out.push(TimelineEntry { row, count: 1 });
        }
        out
    }
}
