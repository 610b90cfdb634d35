//! Human rendering of diagnostics with miette's graphical handler; plain (no colour) when
//! `NO_COLOR` is set or the stream is not a terminal.

use std::io::IsTerminal;

use miette::GraphicalTheme;
use stackc::Diagnostic;
use stackc::diagnostic::render;

#[derive(Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

pub fn report(stream: Stream, name: &str, src: &str, diags: &[Diagnostic]) {
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
            Stream::Stdout => format!("{name}: ok\n"),
            Stream::Stderr => String::new(),
        }
    } else {
        render(theme, name, src, diags)
    };
    match stream {
        Stream::Stdout => print!("{text}"),
        Stream::Stderr => eprint!("{text}"),
    }
}
