//! Runbooks: agreed recovery steps, read from `runbooks/*.toml`, and the
//! safe rendering of their commands with values captured from log lines.
//!
//! Log content is attacker-influenced, so a command is an argv array, a
//! placeholder fills one whole argument, and a value is used only when it
//! matches its parameter's validation pattern; otherwise it is shown as
//! missing. For display every argument is shell-quoted, so a copied command
//! means exactly what it shows. Nothing here runs a command.

use std::fmt;

use regex::Regex;

use crate::{
    config::{Origin, table::Table},
    diag::{Diagnostic, Loc},
    signature::{Captures, compile_regex, is_kebab_case},
};

/// A runbook.
#[derive(Debug)]
pub struct Runbook {
    /// Unique, kebab-case.
    pub id: String,
    /// One line for people.
    pub title: String,
    /// Team or person who owns it.
    pub owner: Option<String>,
    /// Runbooks of failures this one is often a cause or a symptom of (an
    /// upstream error and its backend's): their alerts join one incident.
    /// Each with where it is written.
    pub related: Vec<(String, Loc)>,
    /// What is failing, what users see, when to escalate.
    pub summary: String,
    /// Values a step may use.
    pub params: Vec<Param>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Where the file starts.
    pub loc: Loc,
    /// Shipped or user.
    pub origin: Origin,
}

/// `[params.NAME]`: a value taken from a capture, validated before use.
#[derive(Debug)]
pub struct Param {
    /// The placeholder name.
    pub name: String,
    /// The capture it comes from (`from = "capture.NAME"`).
    pub capture: String,
    /// The value must match this entirely.
    pub pattern: Regex,
    /// Where `from` is written.
    pub loc: Loc,
}

/// What a step is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Find out what is wrong.
    Diagnose,
    /// Reduce the impact.
    Mitigate,
    /// Check that it worked.
    Verify,
    /// Tell people.
    Communicate,
    /// Undo a change.
    Rollback,
}

impl StepKind {
    const ALL: [StepKind; 5] = [
        StepKind::Diagnose,
        StepKind::Mitigate,
        StepKind::Verify,
        StepKind::Communicate,
        StepKind::Rollback,
    ];

    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Diagnose => "diagnose",
            StepKind::Mitigate => "mitigate",
            StepKind::Verify => "verify",
            StepKind::Communicate => "communicate",
            StepKind::Rollback => "rollback",
        }
    }
}

/// One step of a runbook.
#[derive(Debug)]
pub struct Step {
    /// Unique in the runbook.
    pub id: String,
    /// One line.
    pub title: String,
    /// What it is for.
    pub kind: StepKind,
    /// What to do, for a person.
    pub instructions: Option<String>,
    /// The command, as argv.
    pub command: Vec<Arg>,
    /// What the operator should see.
    pub expect: Option<String>,
    /// How to undo the step.
    pub rollback: Option<String>,
    /// Where the step is.
    pub loc: Loc,
}

/// One argument of a step's command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Written as is.
    Literal(String),
    /// `{NAME}`: a parameter's value.
    Param(String),
}

/// An argument after rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// A literal, or a parameter whose value passed validation.
    Value(String),
    /// A parameter with no valid value.
    Missing(String),
}

const RUNBOOK_KEYS: &[&str] = &[
    "id", "title", "owner", "summary", "related", "params", "step",
];
const STEP_KEYS: &[&str] = &[
    "id",
    "title",
    "kind",
    "instructions",
    "command",
    "expect",
    "rollback",
];

impl Runbook {
    /// Reads a runbook file's top-level table. Every problem is reported; the
    /// runbook is returned with its valid parameters and steps whenever its
    /// id, title and summary are readable.
    pub fn from_table(
        root: &Table<'_, '_>,
        origin: Origin,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Runbook> {
        root.check_keys(RUNBOOK_KEYS, "a runbook", diags);
        let id = root.required("id", "a runbook", diags).and_then(|f| {
            let id = f.str(diags)?;
            if !is_kebab_case(id) {
                diags.push(f.loc.error(format!(
                    "runbook id `{id}` must be kebab-case (like `jvm-memory`)"
                )));
            }
            Some(id.to_owned())
        });
        let what = id
            .as_ref()
            .map_or_else(|| "a runbook".to_owned(), |id| format!("runbook `{id}`"));
        let text = |key: &'static str, diags: &mut Vec<Diagnostic>| {
            root.required(key, &what, diags)
                .and_then(|f| f.str(diags))
                .map(str::to_owned)
        };
        let title = text("title", diags);
        let summary = text("summary", diags);
        let owner = root
            .field("owner")
            .and_then(|f| f.str(diags))
            .map(str::to_owned);
        let related = root
            .field("related")
            .and_then(|f| f.strings(diags))
            .unwrap_or_default();
        let mut params = Vec::new();
        if let Some(table) = root.field("params").and_then(|f| f.table(diags)) {
            for (_, field) in table.entries() {
                let Some(param) = field.table(diags) else {
                    continue;
                };
                let what = format!("parameter `{}` of {what}", field.key);
                param.check_keys(&["from", "pattern"], &what, diags);
                let from = param.required("from", &what, diags).and_then(|f| {
                    let from = f.str(diags)?;
                    let capture = from.strip_prefix("capture.").filter(|c| !c.is_empty());
                    if capture.is_none() {
                        diags.push(
                            f.loc
                                .error(format!("`from` must be \"capture.NAME\", not \"{from}\"")),
                        );
                    }
                    Some((capture?.to_owned(), f.loc.clone()))
                });
                let pattern = param.required("pattern", &what, diags).and_then(|f| {
                    let text = f.str(diags)?;
                    // Validation is of the whole value, whatever the anchors say.
                    let whole = format!("^(?:{text})$");
                    compile_regex(&whole, &f.loc, diags)
                });
                if let (Some((capture, loc)), Some(pattern)) = (from, pattern) {
                    params.push(Param {
                        name: field.key.to_owned(),
                        capture,
                        pattern,
                        loc,
                    });
                }
            }
        }
        let step_tables = root
            .required("step", &what, diags)
            .map(|f| f.tables(diags))
            .unwrap_or_default();
        let mut seen: Vec<(&str, Loc)> = Vec::new();
        for table in &step_tables {
            let Some(field) = table.field("id") else {
                continue;
            };
            let Some(id) = field.value_str() else {
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == id) {
                diags.push(field.loc.error(format!(
                    "duplicate step id `{id}` in {what}; first defined at {}",
                    first.position()
                )));
            }
            seen.push((id, field.loc.clone()));
        }
        let steps = step_tables
            .iter()
            .filter_map(|table| Step::from_table(table, &what, &params, diags))
            .collect();
        let runbook = Runbook {
            id: id?,
            title: title?,
            owner,
            related,
            summary: summary?,
            params,
            steps,
            loc: root.loc(),
            origin,
        };
        Some(runbook)
    }

    /// The parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// A step's command with each placeholder filled from `captures` when
    /// the value passes validation, and marked missing otherwise.
    pub fn render(&self, step: &Step, captures: &Captures) -> Vec<Rendered> {
        step.command
            .iter()
            .map(|arg| match arg {
                Arg::Literal(text) => Rendered::Value(text.clone()),
                Arg::Param(name) => self
                    .param(name)
                    .and_then(|param| {
                        let (_, value) = captures.iter().find(|(n, _)| *n == param.capture)?;
                        param
                            .pattern
                            .is_match(value)
                            .then(|| Rendered::Value(value.clone()))
                    })
                    .unwrap_or_else(|| Rendered::Missing(name.clone())),
            })
            .collect()
    }
}

impl Step {
    fn from_table(
        table: &Table<'_, '_>,
        runbook: &str,
        params: &[Param],
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Step> {
        let before = diags.len();
        let what = format!("a step of {runbook}");
        table.check_keys(STEP_KEYS, &what, diags);
        let id = table.required("id", &what, diags).and_then(|f| {
            let id = f.str(diags)?;
            if !is_kebab_case(id) {
                diags.push(f.loc.error(format!("step id `{id}` must be kebab-case")));
            }
            Some(id.to_owned())
        });
        let title = table
            .required("title", &what, diags)
            .and_then(|f| f.str(diags));
        let kind = table.required("kind", &what, diags).and_then(|f| {
            let word = f.str(diags)?;
            let kind = StepKind::ALL.into_iter().find(|k| k.as_str() == word);
            if kind.is_none() {
                diags.push(f.loc.error(format!(
                    "unknown step kind `{word}`; expected one of: diagnose, mitigate, verify, communicate, rollback"
                )));
            }
            kind
        });
        let optional = |key: &'static str, diags: &mut Vec<Diagnostic>| {
            table
                .field(key)
                .and_then(|f| f.str(diags))
                .map(str::to_owned)
        };
        let instructions = optional("instructions", diags);
        let expect = optional("expect", diags);
        let rollback = optional("rollback", diags);
        let mut command = Vec::new();
        if let Some(args) = table.field("command").and_then(|f| f.strings(diags)) {
            if args.is_empty() {
                diags.push(table.loc().error(format!("`command` of {what} is empty")));
            }
            for (arg, loc) in args {
                command.push(parse_arg(&arg, &loc, params, diags));
            }
        }
        let step = Step {
            id: id?,
            title: title?.to_owned(),
            kind: kind?,
            instructions,
            command,
            expect,
            rollback,
            loc: table.loc(),
        };
        (diags.len() == before).then_some(step)
    }
}

/// Reads one argv element: a whole `{NAME}` is a parameter; a placeholder
/// inside a longer argument is refused (it could splice a value into a
/// larger string); anything else is literal.
fn parse_arg(arg: &str, loc: &Loc, params: &[Param], diags: &mut Vec<Diagnostic>) -> Arg {
    let is_name =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if let Some(name) = arg.strip_prefix('{').and_then(|a| a.strip_suffix('}'))
        && is_name(name)
    {
        if !params.iter().any(|p| p.name == name) {
            diags.push(loc.error(format!(
                "placeholder `{{{name}}}` is not a declared parameter; add [params.{name}]"
            )));
        }
        return Arg::Param(name.to_owned());
    }
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(close) = after.find('}')
            && is_name(&after[..close])
        {
            diags.push(loc.error(format!(
                "placeholder `{{{}}}` must be a whole argument, not part of \"{arg}\"",
                &after[..close]
            )));
            break;
        }
        rest = after;
    }
    Arg::Literal(arg.to_owned())
}

/// Quotes `arg` for a POSIX shell when it holds anything but safe characters.
pub fn shell_quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b));
    if safe {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// A rendered command, for display: each argument shell-quoted, a missing
/// value shown as `<NAME?>` (which a shell would refuse to run as is).
pub struct CommandLine<'a>(pub &'a [Rendered]);

impl fmt::Display for CommandLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match arg {
                Rendered::Value(value) => f.write_str(&shell_quote(value))?,
                Rendered::Missing(name) => write!(f, "<{name}?>")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::table, diag::SourceText};

    fn load(text: &str) -> (Option<Runbook>, Vec<String>) {
        let source = SourceText::new("r.toml", text);
        let mut diags = Vec::new();
        let runbook = table::parse(&source, &source.text, &mut diags).and_then(|doc| {
            Runbook::from_table(&Table::root(&source, &doc), Origin::User, &mut diags)
        });
        (
            runbook,
            diags
                .iter()
                .map(|d| d.to_string().lines().next().unwrap_or("").to_owned())
                .collect(),
        )
    }

    const GOOD: &str = "id = 'svc'\ntitle = 'T'\nsummary = 'S'\n\n[params.unit]\nfrom = 'capture.unit'\npattern = '[a-z-]+\\.service'\n\n[[step]]\nid = 'logs'\ntitle = 'Read logs'\nkind = 'diagnose'\ncommand = ['journalctl', '-u', '{unit}', '--since', '-15min']\n";

    #[test]
    fn placeholders_fill_whole_arguments_with_valid_values_only() {
        let (runbook, diags) = load(GOOD);
        assert!(diags.is_empty(), "{diags:?}");
        let runbook = runbook.expect("valid");
        let step = &runbook.steps[0];
        let good = vec![("unit".to_owned(), "orders.service".to_owned())];
        assert_eq!(
            CommandLine(&runbook.render(step, &good)).to_string(),
            "journalctl -u orders.service --since -15min"
        );
        for hostile in [
            "x.service; rm -rf /",
            "$(reboot).service",
            "a.service\nb",
            "orders.service ",
        ] {
            let bad = vec![("unit".to_owned(), hostile.to_owned())];
            assert_eq!(
                CommandLine(&runbook.render(step, &bad)).to_string(),
                "journalctl -u <unit?> --since -15min",
                "{hostile:?}"
            );
        }
        assert_eq!(
            CommandLine(&runbook.render(step, &vec![])).to_string(),
            "journalctl -u <unit?> --since -15min"
        );
    }

    #[test]
    fn shell_quoting_is_safe_to_paste() {
        assert_eq!(shell_quote("plain-arg_1.0"), "plain-arg_1.0");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's $HOME `x`"), r"'it'\''s $HOME `x`'");
        assert_eq!(
            shell_quote("select count(*) from t;"),
            "'select count(*) from t;'"
        );
    }

    #[test]
    fn bad_runbooks_report_every_problem() {
        let (runbook, diags) = load(
            "id = 'svc'\ntitle = 'T'\nsummary = 'S'\nextra = 1\n[params.pid]\nfrom = 'pid'\npattern = '('\n[[step]]\nid = 'a'\ntitle = 't'\nkind = 'pray'\ncommand = ['kill', '-9', 'pid={pid}', '{nope}']\n",
        );
        // What is valid stays usable: the runbook, without the broken parts.
        let runbook = runbook.expect("id, title and summary are valid");
        assert!(runbook.params.is_empty() && runbook.steps.is_empty());
        assert_eq!(
            diags,
            [
                "r.toml:4:1: unknown key `extra` in a runbook; expected one of: id, title, owner, summary, related, params, step",
                "r.toml:6:8: `from` must be \"capture.NAME\", not \"pid\"",
                "r.toml:7:11: regex does not compile: unclosed group",
                "r.toml:11:8: unknown step kind `pray`; expected one of: diagnose, mitigate, verify, communicate, rollback",
                "r.toml:12:26: placeholder `{pid}` must be a whole argument, not part of \"pid={pid}\"",
                "r.toml:12:39: placeholder `{nope}` is not a declared parameter; add [params.nope]",
            ]
        );
    }
}
