//! `triage export`: an incident's postmortem, in Markdown (a first draft
//! after the Google SRE template), JSON (everything, and it reads back),
//! CSV (the timeline) or one self-contained HTML page with a time chart.
//!
//! [`report`] builds the postmortem as data from the folded journal;
//! [`sections`] walks its sections once, in order, for the two document
//! formats, whose renderers ([`markdown`], [`html`]) only lay out what the
//! walk hands them; [`csv`] is the timeline alone. Every piece of text from
//! logs or people goes through [`escape`]. This file does the
//! I/O: reads the journal, writes the document (to stdout, or atomically to
//! `-o FILE`) and records `export.generated` on the timeline.
//!
//! Must not change the incident beyond that one event, nor read log files.

pub mod csv;
pub mod escape;
pub mod html;
pub mod markdown;
pub mod report;
pub mod sections;

use std::{
    io::{self, Write},
    path::Path,
};

use jiff::tz::TimeZone;

use crate::{
    cli::{ExportArgs, ExportFormatArg},
    incident::{
        Draft, Journal, JournalError, Payload, TimeSource,
        command::{CommandError, Context, Outcome, actor, shown},
        event::sha256_hex,
        payload::Exported,
    },
    sanitize::for_terminal,
};

/// The zone named by `--tz`.
pub fn zone(name: &str) -> Result<TimeZone, CommandError> {
    if name.eq_ignore_ascii_case("utc") || name == "Z" {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name).map_err(|_| CommandError::UnknownZone(name.to_owned()))
}

fn format_name(format: ExportFormatArg) -> &'static str {
    match format {
        ExportFormatArg::Md => "md",
        ExportFormatArg::Json => "json",
        ExportFormatArg::Csv => "csv",
        ExportFormatArg::Html => "html",
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced,
/// then renamed over it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CommandError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let io_err = |source: io::Error| {
        CommandError::Journal(JournalError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io_err)?;
    file.write_all(bytes).map_err(io_err)?;
    file.as_file().sync_all().map_err(io_err)?;
    file.persist(path).map_err(|e| io_err(e.error))?;
    Ok(())
}

/// Carries out `triage export`.
pub fn execute(
    args: &ExportArgs,
    ctx: &Context<'_>,
    out: &mut dyn Write,
) -> Result<Outcome, CommandError> {
    let zone = zone(&args.tz)?;
    let actor = actor(args.actor.as_deref())?;
    let mut journal = Journal::open(ctx.data_dir)?;
    // A journal cut at its end is evidence, not a source for a postmortem
    // (nor would it take the `export.generated` event).
    journal.ensure_reaches_head()?;
    let inc = shown(journal.timeline(), args.incident.as_deref(), journal.path())?;
    let postmortem = report::build(
        journal.timeline(),
        inc,
        ctx.library(),
        &journal.path().display().to_string(),
        ctx.now,
    );
    let document = match args.format {
        ExportFormatArg::Md => markdown::render(&postmortem, &zone),
        ExportFormatArg::Json => {
            let mut json = serde_json::to_string_pretty(&postmortem)
                .expect("a postmortem is plain data and always serializes");
            json.push('\n');
            json
        }
        ExportFormatArg::Csv => csv::render(&postmortem, &zone),
        ExportFormatArg::Html => html::render(&postmortem, &zone),
    };
    let target = match &args.output {
        Some(path) => {
            write_atomically(path, document.as_bytes())?;
            path.display().to_string()
        }
        None => {
            out.write_all(document.as_bytes())?;
            out.flush()?;
            "-".to_owned()
        }
    };
    let id = inc.id.clone();
    let format = format_name(args.format);
    let head = postmortem.journal.head_seq;
    let digest = sha256_hex(document.as_bytes());
    let written = journal.append(ctx.now, |_| {
        Ok::<_, CommandError>(vec![Draft::new(
            &id,
            Payload::ExportGenerated(Exported {
                format: format.to_owned(),
                output: target.clone(),
                bytes: document.len() as u64,
                sha256: digest.clone(),
                journal_head_seq: head,
            }),
            ctx.now,
            TimeSource::Clock,
            &actor,
            format!("Postmortem exported ({format}, {} bytes)", document.len()),
        )])
    })?;
    if let (Some(path), Some(event)) = (&args.output, written.first()) {
        writeln!(
            out,
            "wrote the postmortem of {} ({format}, {} bytes) to {}; recorded as event {} \
             (the journal's head now: keep sha256 {})",
            for_terminal(&id),
            document.len(),
            crate::sanitize::path(path),
            event.seq,
            event.hash
        )?;
    }
    Ok(Outcome::Done)
}
