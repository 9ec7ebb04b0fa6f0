//! `triage completions SHELL` and `triage man`: the shell completion
//! scripts and the man page, generated from the clap definitions in `cli`
//! (so they are as true as `--help` is), written to the writer given.
//!
//! Must not: read or write any file itself (the user redirects the output
//! where their shell or `man` looks for it).

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::Cli;

/// Writes the completion script of `shell`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> io::Result<()> {
    let mut command = Cli::command();
    // Generated in memory: clap_complete panics when its writer fails (a
    // closed pipe), a write here is an error like any other.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "triage", &mut script);
    out.write_all(&script)?;
    out.flush()
}

/// Writes the man page (section 1), with a section per subcommand.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    let command = Cli::command();
    let page = clap_mangen::Man::new(command.clone());
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    page.render_subcommands_section(out)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("triage {}", sub.get_name());
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        let page = clap_mangen::Man::new(sub.clone().bin_name(name));
        let mut section = Vec::new();
        page.render_synopsis_section(&mut section)?;
        page.render_description_section(&mut section)?;
        page.render_options_section(&mut section)?;
        // Each sub-page's own headings become sub-headings.
        let text = String::from_utf8_lossy(&section).replace(".SH ", ".SS ");
        out.write_all(text.as_bytes())?;
    }
    page.render_extra_section(out)?;
    page.render_version_section(out)?;
    out.flush()
}
