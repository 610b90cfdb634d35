//! `stackc completions SHELL` and `stackc man`: generated from the clap definition in
//! [`super::args`], so they cannot fall behind the real arguments.

use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;

use super::args::Args;
use super::write_stdout;

/// The completion script for `shell`, on stdout.
pub fn completions(shell: Shell) -> ExitCode {
    let mut cmd = Args::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "stackc", &mut out);
    write_stdout(&out)
}

/// The man page, in roff, on stdout.
pub fn man() -> ExitCode {
    match man_page() {
        Ok(page) => write_stdout(&page),
        Err(e) => {
            say!("error: cannot render the man page: {e}");
            ExitCode::from(1)
        }
    }
}

/// One page, `stackc(1)`: clap_mangen's sections for the program, then a COMMANDS section
/// with each subcommand's synopsis, options and examples (rather than references to
/// `stackc-check(1)` pages that nobody installs).
fn man_page() -> std::io::Result<Vec<u8>> {
    let mut cmd = Args::command().disable_help_subcommand(true);
    cmd.build();
    let man = Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    out.extend_from_slice(b".SH COMMANDS\n");
    for sub in cmd.get_subcommands() {
        let name = sub
            .get_bin_name()
            .unwrap_or_else(|| sub.get_name())
            .replace('-', "\\-");
        out.extend_from_slice(format!(".SS \"{name}\"\n").as_bytes());
        let sub_man = Man::new(sub.clone());
        let mut section = Vec::new();
        sub_man.render_description_section(&mut section)?;
        section.extend_from_slice(b".SH PP\n");
        sub_man.render_synopsis_section(&mut section)?;
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            sub_man.render_options_section(&mut section)?;
        }
        if sub.get_after_help().is_some() {
            section.extend_from_slice(b".SH PP\n");
            sub_man.render_extra_section(&mut section)?;
        }
        // The subcommand's own section headings become paragraph breaks within its subsection.
        for line in String::from_utf8_lossy(&section).lines() {
            let line = if line == ".SH PP" {
                ".PP"
            } else if line.starts_with(".SH ") {
                continue;
            } else {
                line
            };
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    let mut extra = Vec::new();
    man.render_extra_section(&mut extra)?;
    out.extend_from_slice(
        String::from_utf8_lossy(&extra)
            .replacen(".SH EXTRA", ".SH EXAMPLES", 1)
            .as_bytes(),
    );
    man.render_version_section(&mut out)?;
    Ok(out)
}
