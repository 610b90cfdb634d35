//! Human rendering of diagnostics with miette's graphical handler; plain (no colour) when
//! `NO_COLOR` is set or the stream is not a terminal.

use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme, NamedSource};
use stackc::Diagnostic;

#[derive(Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Renders diagnostics without colour at a fixed width: what tests snapshot.
pub fn render_plain(name: &str, src: &str, diags: &[Diagnostic]) -> String {
    render_with(GraphicalTheme::unicode_nocolor(), name, src, diags)
}

fn render_with(theme: GraphicalTheme, name: &str, src: &str, diags: &[Diagnostic]) -> String {
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let source = NamedSource::new(name, src.to_string());
    let mut out = String::new();
    for d in diags {
        let report = miette::Report::new(d.clone()).with_source_code(source.clone());
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, report.as_ref());
        out.push('\n');
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    if !diags.is_empty() {
        out.push_str(&format!("{name}: {}\n", summary(errors, warnings)));
    }
    out
}

fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
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
        render_with(theme, name, src, diags)
    };
    match stream {
        Stream::Stdout => print!("{text}"),
        Stream::Stderr => eprint!("{text}"),
    }
}
