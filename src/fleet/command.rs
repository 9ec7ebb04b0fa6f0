//! Carrying out `triage agent` and `triage collect`: settings from the
//! arguments and triage.toml, the stop signal, the announcements on stderr.
//!
//! Wiring only; `run` turns the result into the exit code.

use std::{
    io::{self, Write},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use super::{FleetError, Settings, agent::AgentOptions, collect::CollectOptions, stream::Wanted};
use crate::{
    cli::{AgentArgs, Cli, CollectArgs},
    config::Config,
    output,
    run::{Error, Exit, Outcome},
};

fn stop_on_signal() -> Result<Arc<AtomicBool>, Error> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))?;
    Ok(stop)
}

/// triage.toml, its errors reported (then the command ends with status 2).
fn config(cli: &Cli) -> Option<Config> {
    Config::load(cli.global.config.as_deref())
        .map_err(|diags| crate::run::report(&diags))
        .ok()
}

fn size(name: &'static str, text: &str) -> Result<u64, Error> {
    crate::run::size_arg(name, Some(text)).map(Option::unwrap_or_default)
}

/// `triage agent`.
pub fn agent(cli: &Cli, args: &AgentArgs) -> Outcome {
    let stop = stop_on_signal()?;
    let Some(config) = config(cli) else {
        return Ok(Exit::Error);
    };
    let settings = Settings::resolve(
        config.nats.as_ref(),
        args.nats.nats.as_deref(),
        args.host.as_deref(),
    )?;
    let Some(host) = settings.host.clone().or_else(super::local_host_name) else {
        return Err(FleetError::Settings(
            "this machine's host name is unknown: pass --host NAME".to_owned(),
        )
        .into());
    };
    let options = crate::run::watch_options(cli, &args.watch)?;
    crate::watch::announce(&options.targets, &options.data_dir, options.index.is_some());
    output::message(format_args!(
        "publishing as host {} to {} ({}.{}.events, .alerts)",
        crate::sanitize::for_terminal(&host),
        settings.servers_for_display(),
        settings.prefix,
        super::subject_token(&host)
    ));
    let agent = AgentOptions {
        settings,
        host,
        spool_max: size("--spool-max", &args.spool_max)?,
    };
    let (library, _) = crate::run::load_library(cli);
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let result = super::agent::run(
        options,
        agent,
        &library,
        &config,
        crate::run::style(),
        stop,
        &mut stdout,
    );
    let _ = stdout.flush();
    match result {
        Ok(()) => Ok(Exit::Found),
        Err(FleetError::Watch(err)) => Err(Error::Watch(err)),
        Err(err) => Err(err.into()),
    }
}

/// `triage collect`.
pub fn collect(cli: &Cli, args: &CollectArgs) -> Outcome {
    let stop = stop_on_signal()?;
    let Some(config) = config(cli) else {
        return Ok(Exit::Error);
    };
    let settings = Settings::resolve(config.nats.as_ref(), args.nats.nats.as_deref(), None)?;
    let max_bytes = size("--max-bytes", &args.max_bytes)?;
    let options = CollectOptions {
        data_dir: cli.global.data_dir.clone(),
        wanted: Wanted {
            replicas: args.replicas.max(1),
            max_age: args.max_age,
            max_bytes: i64::try_from(max_bytes).unwrap_or(i64::MAX),
            duplicate_window: args.duplicate_window,
        },
        init_only: args.init,
        commit_every: args.commit_every,
    };
    if !args.init {
        output::message(format_args!(
            "collecting the fleet from {} into {} (stream {})",
            settings.servers_for_display(),
            crate::sanitize::path(&options.data_dir),
            settings.stream_name()
        ));
    }
    let (library, _) = crate::run::load_library(cli);
    let collected = super::collect::run(&settings, &options, &library, stop)?;
    if !args.init {
        output::message(format_args!(
            "collected {} events and {} alerts/clears; indexed up to stream sequence {}",
            collected.events, collected.alerts, collected.seq
        ));
    }
    Ok(Exit::Found)
}
