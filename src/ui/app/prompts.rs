//! The prompts at the bottom of the screen: one-key choices (severity,
//! status) and line prompts (search, time, notes, filters, a declared
//! incident's title), their histories, and what an answer does.

use ratatui::crossterm::event::KeyEvent;

use super::{App, Effect, Prompt, PromptKind};
use crate::{
    incident::{Op, Status},
    model::Severity,
    ui::{
        keys::Key,
        msg::clean,
        prompt::{Edit, LineEditor, remember},
    },
};

impl App {
    pub(super) fn open_prompt(&mut self, kind: PromptKind) {
        self.prompt = Some(Prompt {
            kind,
            line: LineEditor::default(),
        });
    }

    pub(super) fn on_prompt_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(prompt) = self.prompt.as_mut() else {
            return Vec::new();
        };
        let chord = Key::of(key);
        if chord.code == crossterm::event::KeyCode::Esc {
            self.prompt = None;
            self.declaring = None;
            return Vec::new();
        }
        if prompt.kind.is_choice() {
            let crossterm::event::KeyCode::Char(c) = chord.code else {
                return Vec::new();
            };
            if !chord.mods.is_empty() {
                return Vec::new();
            }
            let severity = match c {
                'i' => Some(Severity::Info),
                'l' => Some(Severity::Low),
                'm' => Some(Severity::Medium),
                'h' => Some(Severity::High),
                'c' => Some(Severity::Critical),
                _ => None,
            };
            let status = match c {
                'i' => Some(Status::Investigating),
                'm' => Some(Status::Mitigated),
                'r' => Some(Status::Resolved),
                _ => None,
            };
            let pending = match (prompt.kind, severity, status) {
                (PromptKind::Severity, Some(s), _) => self.pending_of(
                    Op::Severity { to: s, at: None },
                    format!("severity → {}", s.as_str()),
                ),
                (PromptKind::Status, _, Some(s)) => self.pending_of(
                    Op::Status {
                        to: s,
                        note: None,
                        at: None,
                    },
                    format!("status → {}", s.as_str()),
                ),
                (PromptKind::DeclareSeverity, Some(s), _) => {
                    let title = self.declaring.take().unwrap_or_default();
                    let what = format!("declare a new incident “{title}” ({})", s.as_str());
                    self.pending_of(
                        Op::Declare {
                            title: Some(title),
                            severity: Some(s),
                            at: None,
                        },
                        what,
                    )
                }
                _ => return Vec::new(),
            };
            self.prompt = None;
            self.ask(Some(pending));
            return Vec::new();
        }
        let history = self
            .histories
            .get(&prompt.kind.history())
            .map(Vec::as_slice)
            .unwrap_or_default();
        match prompt.line.key(key, history) {
            Edit::Editing => Vec::new(),
            Edit::Cancel => {
                self.prompt = None;
                Vec::new()
            }
            Edit::Accept => {
                let Some(Prompt { kind, line }) = self.prompt.take() else {
                    return Vec::new();
                };
                let text = line.text();
                remember(self.histories.entry(kind.history()).or_default(), &text);
                self.submit(kind, text)
            }
        }
    }

    pub(super) fn submit(&mut self, kind: PromptKind, input: String) -> Vec<Effect> {
        let text = input.trim().to_owned();
        match kind {
            PromptKind::Search => self.search(text),
            PromptKind::JumpTime => {
                self.jump_to_time(&text);
                Vec::new()
            }
            PromptKind::Note => {
                if text.is_empty() {
                    self.message = Some(("empty note: nothing recorded".into(), true));
                    return Vec::new();
                }
                // Typed and sent with Enter: that is the confirmation.
                let pending = self.pending_of(Op::Note { text, at: None }, String::new());
                vec![Effect::Op(pending.write)]
            }
            PromptKind::StepNote(outcome) => self
                .step_write(outcome, (!text.is_empty()).then_some(text))
                .map(|p| vec![Effect::Op(p.write)])
                .unwrap_or_default(),
            PromptKind::DeclareTitle => {
                if text.is_empty() {
                    self.message = Some(("no title: nothing declared".into(), true));
                    return Vec::new();
                }
                self.declaring = Some(text);
                self.open_prompt(PromptKind::DeclareSeverity);
                Vec::new()
            }
            PromptKind::ShowFilter | PromptKind::HideFilter => {
                if text.is_empty() {
                    return Vec::new();
                }
                let show = kind == PromptKind::ShowFilter;
                let mut filters = self.log.filters.clone();
                match filters.add(&text, show) {
                    Ok(()) => self.set_filters(|f| *f = filters),
                    Err(err) => {
                        self.message = Some((format!("not a regex: {}", clean(&err)), true));
                    }
                }
                Vec::new()
            }
            PromptKind::Severity | PromptKind::Status | PromptKind::DeclareSeverity => Vec::new(),
        }
    }
}
