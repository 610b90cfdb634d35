//! The diagnostics of `stackc check`, as LSP diagnostics: same codes, severities and messages;
//! the primary label is the range, secondary labels are related information, and the help
//! line ends the message. Pure.

use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri};
use stackc::check::lints::Options;
use stackc::syntax::ast::Span;

use super::index::LineIndex;

/// Checks a document as `stackc check` does (with `strict` as `--strict`), but for whether its
/// builds' paths exist, which only the commands that read a file look at (`check::paths`).
pub fn check(uri: &Uri, text: &str, options: &Options) -> Vec<lsp_types::Diagnostic> {
    let compiled = stackc::compile_with(text, options);
    let index = LineIndex::new(text);
    compiled
        .diagnostics
        .iter()
        .map(|d| convert(uri, &index, d))
        .collect()
}

fn convert(uri: &Uri, index: &LineIndex<'_>, d: &stackc::Diagnostic) -> lsp_types::Diagnostic {
    let m = d.as_miette();
    // The first label is the primary span (an invariant of every diagnostic); the rest are
    // the other places that matter, such as "first defined here".
    let related: Vec<DiagnosticRelatedInformation> = m
        .labels()
        .into_iter()
        .flatten()
        .skip(1)
        .map(|l| DiagnosticRelatedInformation {
            location: Location::new(
                uri.clone(),
                index.range(Span::new(l.offset(), l.offset() + l.len())),
            ),
            message: l.label().unwrap_or("related").to_string(),
        })
        .collect();
    let mut message = m.to_string();
    if let Some(help) = d.help() {
        message.push_str("\nhelp: ");
        message.push_str(&help);
    }
    lsp_types::Diagnostic {
        range: index.range(d.span()),
        severity: Some(if d.is_error() {
            DiagnosticSeverity::ERROR
        } else {
            DiagnosticSeverity::WARNING
        }),
        code: Some(NumberOrString::String(d.code())),
        source: Some("stackc".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, Range};
    use std::str::FromStr;

    fn uri() -> Uri {
        Uri::from_str("file:///tmp/app.stack").unwrap()
    }

    #[test]
    fn codes_ranges_related_places_and_help_are_kept() {
        let src = "stack s { }\nenvironment e { }\nservice web { image = \"x\" memory = 64 MiB essential = true }\nservice web { }\n";
        let diags = check(&uri(), src, &Options::default());
        let dup = diags
            .iter()
            .find(|d| d.code == Some(NumberOrString::String("stack::duplicate_name".into())))
            .expect("a duplicate name");
        assert_eq!(
            dup.range,
            Range::new(Position::new(3, 8), Position::new(3, 11))
        );
        assert_eq!(dup.severity, Some(DiagnosticSeverity::ERROR));
        assert_eq!(dup.source.as_deref(), Some("stackc"));
        let related = dup
            .related_information
            .as_ref()
            .expect("the first definition");
        assert_eq!(related[0].location.range.start, Position::new(2, 8));
        assert!(dup.message.contains("\nhelp: "), "{}", dup.message);
    }

    #[test]
    fn the_same_diagnostics_as_check() {
        let src = "stack s { }\nenvironment e { }\nservice web { image = \"x\" memroy = 64 MiB }\n";
        let diags = check(&uri(), src, &Options::default());
        let (_, want) = stackc::compile(src);
        let codes: Vec<String> = diags
            .iter()
            .map(|d| match &d.code {
                Some(NumberOrString::String(s)) => s.clone(),
                _ => String::new(),
            })
            .collect();
        let want: Vec<String> = want.iter().map(|d| d.code()).collect();
        assert_eq!(codes, want);
        assert!(codes.contains(&"stack::unknown_attribute".to_string()));
        // Columns are UTF-16 units: the line has only ASCII before `memroy`.
        let unknown = &diags[codes
            .iter()
            .position(|c| c == "stack::unknown_attribute")
            .unwrap()];
        assert_eq!(unknown.range.start, Position::new(2, 26));
    }
}
