//! The runbook pane: the selected alert's runbook, its steps' state in the
//! shown incident, step outcomes written (after `y`), a step's command
//! copied.

use super::{App, Effect, Pending};
use crate::{
    incident::{Op, StepState},
    runbook::{CommandLine, Runbook},
};

/// The runbook pane's state (its runbook is the selected alert's).
#[derive(Debug, Default)]
pub struct RunbookPane {
    /// The selected step.
    pub cursor: usize,
}

impl App {
    /// The runbook of the selected alert.
    pub fn selected_runbook(&self) -> Option<&Runbook> {
        let id = self.selected_alert()?.info.runbook.as_deref()?;
        self.library.as_ref()?.runbook(id)
    }

    /// What the incident recorded for a step of a runbook.
    pub fn step_state(
        &self,
        runbook: &str,
        step: &str,
    ) -> Option<&crate::incident::state::StepProgress> {
        self.timeline
            .incident
            .as_ref()?
            .steps
            .iter()
            .find(|s| s.runbook == runbook && s.step == step)
    }

    /// The write of a step outcome, and what it says.
    pub(super) fn step_write(
        &mut self,
        outcome: StepState,
        note: Option<String>,
    ) -> Option<Pending> {
        let Some(book) = self.selected_runbook() else {
            self.message = Some(("no runbook: select an alert that has one".into(), true));
            return None;
        };
        let step = book.steps.get(self.runbook.cursor)?;
        let what = format!(
            "step {}: {}. {}",
            outcome.as_str(),
            self.runbook.cursor + 1,
            step.title
        );
        let op = Op::Step {
            runbook: book.id.clone(),
            step: step.id.clone(),
            outcome,
            note,
            at: None,
        };
        Some(self.pending_of(op, what))
    }

    pub(super) fn copy_command(&mut self) -> Vec<Effect> {
        let Some(row) = self.selected_alert() else {
            return Vec::new();
        };
        let captures = row.info.captures.clone();
        let Some(book) = self.selected_runbook() else {
            self.message = Some(("no runbook: select an alert that has one".into(), true));
            return Vec::new();
        };
        let Some(step) = book.steps.get(self.runbook.cursor) else {
            return Vec::new();
        };
        if step.command.is_empty() {
            self.message = Some(("this step has no command".into(), true));
            return Vec::new();
        }
        let rendered = book.render(step, &captures);
        vec![Effect::Copy(CommandLine(&rendered).to_string())]
    }
}
