//! `triage watch`, `triage outbox ...` and `triage outputs ...`: following
//! files live and what it feeds. The work is `watch`'s and `notify`'s; the
//! exit codes are decided here.

use std::{
    io::{self, Write},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use jiff::Timestamp;

use super::{Error, Exit, Outcome, load_config, load_library, style, zone};
use crate::{
    cli::{Cli, WatchArgs},
    scan::Scanner,
    tail::{
        discover::Target,
        follow::{FollowOptions, RunOptions, StartAt},
    },
    watch::WatchOptions,
};

pub(super) fn watch(cli: &Cli, args: &WatchArgs) -> Outcome {
    // Before anything slow (the library's load): a SIGTERM or Ctrl-C that
    // comes early is a clean stop, not death by the signal.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))?;
    let Some(config) = load_config(cli) else {
        return Ok(Exit::Error);
    };
    let options = watch_options(cli, args)?;
    // Said before the library loads, so it comes at once.
    crate::watch::announce(&options.targets, &options.data_dir, options.index.is_some());
    let (library, _) = load_library(cli);
    let mut options = options;
    if !args.baseline.is_empty() {
        let scanner = Scanner::new(
            &library,
            &config,
            options.zone.clone(),
            args.max_line_bytes,
            Timestamp::now(),
        );
        let baseline = crate::patterns::baseline::mine(&scanner, &args.baseline);
        options.baseline = Some(baseline.map_err(Error::Stage)?);
    }
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    crate::watch::watch(options, &library, &config, style(), stop, &mut stdout)?;
    Ok(Exit::Found)
}

/// What `watch` (and `agent`) follow and how, from their arguments.
pub(crate) fn watch_options(cli: &Cli, args: &WatchArgs) -> Result<WatchOptions, Error> {
    let start = match (args.from_start, args.from_end) {
        (true, _) => StartAt::Beginning,
        (_, true) => StartAt::End,
        _ => StartAt::Auto,
    };
    let options = WatchOptions {
        targets: args.targets.iter().map(|t| Target::parse(t)).collect(),
        json: args.json,
        follow: FollowOptions {
            max_line: args.max_line_bytes,
            start,
            partial_idle: Some(args.partial_idle),
            rotated_grace: args.rotated_grace,
            max_open: args.max_open.max(1),
            read_compressed: args.read_compressed,
            ..FollowOptions::default()
        },
        run: RunOptions {
            poll_interval: args.poll_interval.max(std::time::Duration::from_millis(1)),
            use_notify: !args.poll,
        },
        zone: zone(args.timezone.as_deref())?,
        data_dir: cli.global.data_dir.clone(),
        index: (!args.no_index).then_some(args.commit_every),
        metrics: args.metrics,
        baseline: None,
    };
    if let Some(dir) = crate::watch::directories(&options.targets).first() {
        return Err(Error::Directory(dir.clone()));
    }
    Ok(options)
}

/// `triage outbox ...`: the notifications waiting for outputs.
pub(super) fn outbox(cli: &Cli, args: &crate::cli::OutboxArgs) -> Outcome {
    use crate::{
        cli::OutboxCommand,
        notify::command::{OutboxAction, Selection},
    };
    let Some(config) = load_config(cli) else {
        return Ok(Exit::Error);
    };
    let (action, selection) = match &args.action {
        OutboxCommand::List { json, output } => (
            OutboxAction::List { json: *json },
            Selection {
                output: output.clone(),
                ..Selection::default()
            },
        ),
        OutboxCommand::Retry {
            seqs,
            output,
            parked,
        } => (
            OutboxAction::Retry,
            Selection {
                seqs: seqs.clone(),
                output: output.clone(),
                parked: *parked,
                all: false,
            },
        ),
        OutboxCommand::Drop {
            seqs,
            output,
            parked,
            all,
        } => (
            OutboxAction::Drop,
            Selection {
                seqs: seqs.clone(),
                output: output.clone(),
                parked: *parked,
                all: *all,
            },
        ),
    };
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let good = crate::notify::command::outbox(
        &action,
        &selection,
        &cli.global.data_dir,
        &config.outputs,
        &mut stdout,
    )?;
    stdout.flush()?;
    Ok(if good { Exit::Found } else { Exit::Error })
}

/// `triage outputs ...`: the outputs of triage.toml.
pub(super) fn outputs(cli: &Cli, args: &crate::cli::OutputsArgs) -> Outcome {
    use crate::cli::OutputsCommand;
    let Some(config) = load_config(cli) else {
        return Ok(Exit::Error);
    };
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let good = match &args.action {
        OutputsCommand::List => crate::notify::command::list(&config.outputs, &mut stdout),
        OutputsCommand::Test { name } => {
            crate::notify::command::test(&config.outputs, name.as_deref(), &mut stdout)
        }
    }?;
    stdout.flush()?;
    Ok(if good { Exit::Found } else { Exit::Error })
}
