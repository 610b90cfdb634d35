//! Human rendering of diagnostics with miette's graphical handler (through
//! `stackc::diagnostic::render`, which escapes and clips what it shows of the input); plain
//! (no colour) when `NO_COLOR` is set or the stream is not a terminal.

use std::io::IsTerminal;

use miette::GraphicalTheme;
use stackc::Diagnostic;
use stackc::diagnostic::render;

use super::output;

#[derive(Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Prints the report of `diags` (on stdout, `NAME: ok` when there is none); false when
/// stdout could not be written (the error has been said).
pub fn report(stream: Stream, name: &str, src: &str, diags: &[Diagnostic]) -> bool {
    let tty = match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    };
    let colour = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let theme = if colour {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let text = if diags.is_empty() {
        match stream {
            Stream::Stdout => format!("{}: ok\n", stackc::diagnostic::printable(name)),
            Stream::Stderr => String::new(),
        }
    } else {
        render(theme, name, src, diags)
    };
    match stream {
        Stream::Stdout => output::to_stdout(text.as_bytes()).is_ok(),
        Stream::Stderr => {
            output::stderr(&text);
            true
        }
    }
}
