//! `triage incident ...` and `triage export`: the journal's commands. The
//! work is `incident::command`'s and `export`'s; the exit codes are decided
//! here.

use std::io::{self, Write};

use jiff::{Timestamp, tz::TimeZone};

use super::{Error, Exit, Outcome};
use crate::{
    cli::{Cli, ExportArgs, IncidentArgs},
    output,
};

/// `triage incident ...` and `triage export`: the journal's commands.
pub(super) fn incident(
    cli: &Cli,
    incident: Option<&IncidentArgs>,
    export: Option<&ExportArgs>,
) -> Outcome {
    use crate::incident::command::{CommandError, Context, Outcome};
    let ctx = Context::new(
        &cli.global.data_dir,
        &cli.global.patterns,
        &cli.global.runbooks,
        Timestamp::now(),
        TimeZone::system(),
    );
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let result = match (incident, export) {
        (Some(args), _) => crate::incident::command::execute(args, &ctx, &mut stdout),
        (None, Some(args)) => crate::export::execute(args, &ctx, &mut stdout),
        (None, None) => Ok(Outcome::Empty),
    };
    stdout.flush()?;
    match result {
        Ok(Outcome::Done) => Ok(Exit::Found),
        Ok(Outcome::Empty | Outcome::Broken) => Ok(Exit::NotFound),
        Err(CommandError::Output(err)) => Err(Error::Output(err)),
        Err(err @ CommandError::NoIncident { .. }) => {
            output::message(err);
            Ok(Exit::NotFound)
        }
        Err(err) => {
            output::message(err);
            Ok(Exit::Error)
        }
    }
}
