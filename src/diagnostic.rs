//! One type over the diagnostics of every phase, with what editors need: position, code,
//! severity, labels and help, rendered as miette reports or as JSON.

use miette::{GraphicalReportHandler, GraphicalTheme, NamedSource, Severity};
use serde::Serialize;

use crate::check::lints::LintError;
use crate::check::{CheckError, primary_span};
use crate::syntax::SyntaxError;
use crate::syntax::ast::Span;

/// A diagnostic of any phase.
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
pub enum Diagnostic {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Syntax(SyntaxError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Check(CheckError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Lint(LintError),
}

impl From<SyntaxError> for Diagnostic {
    fn from(e: SyntaxError) -> Self {
        Diagnostic::Syntax(e)
    }
}

impl From<CheckError> for Diagnostic {
    fn from(e: CheckError) -> Self {
        Diagnostic::Check(e)
    }
}

impl From<LintError> for Diagnostic {
    fn from(e: LintError) -> Self {
        Diagnostic::Lint(e)
    }
}

impl Diagnostic {
    /// The miette view of this diagnostic.
    pub fn as_miette(&self) -> &(dyn miette::Diagnostic + Send + Sync + 'static) {
        self
    }

    pub fn code(&self) -> String {
        self.as_miette()
            .code()
            .map(|c| c.to_string())
            .unwrap_or_default()
    }

    pub fn is_error(&self) -> bool {
        !matches!(
            self.as_miette().severity(),
            Some(Severity::Warning | Severity::Advice)
        )
    }

    /// The primary span: the first label (every variant declares its primary label first).
    pub fn span(&self) -> Span {
        match self {
            Diagnostic::Syntax(e) => first_label(e),
            Diagnostic::Check(e) => primary_span(e),
            Diagnostic::Lint(e) => first_label(e),
        }
    }

    pub fn help(&self) -> Option<String> {
        self.as_miette().help().map(|h| h.to_string())
    }

    /// The JSON object of `stackc check --format json` (contract, section 3).
    pub fn to_json(&self, src: &str, file: &str) -> JsonDiagnostic {
        let d = self.as_miette();
        let span = self.span();
        let (line, column) = line_col(src, span.start as usize);
        let (end_line, end_column) = line_col(src, span.end as usize);
        let labels = d
            .labels()
            .into_iter()
            .flatten()
            .map(|l| {
                let (line, column) = line_col(src, l.offset());
                let (end_line, end_column) = line_col(src, l.offset() + l.len());
                JsonLabel {
                    message: l.label().unwrap_or_default().to_string(),
                    line,
                    column,
                    end_line,
                    end_column,
                }
            })
            .collect();
        JsonDiagnostic {
            code: self.code(),
            severity: if self.is_error() { "error" } else { "warning" },
            message: d.to_string(),
            file: file.to_string(),
            line,
            column,
            end_line,
            end_column,
            labels,
            help: self.help(),
            suppressed: false,
        }
    }
}

fn first_label(d: &dyn miette::Diagnostic) -> Span {
    d.labels()
        .and_then(|mut l| l.next())
        .map(|l| Span::new(l.offset(), l.offset() + l.len()))
        .unwrap_or_default()
}

/// 1-based line and column (in characters) of a byte offset; offsets past the end or inside
/// a character are clamped.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[derive(Debug, Serialize, PartialEq)]
pub struct JsonDiagnostic {
    pub code: String,
    pub severity: &'static str,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub labels: Vec<JsonLabel>,
    pub help: Option<String>,
    /// Present (and `true`) only on a diagnostic silenced by an `# allow(stack::CODE)`
    /// comment: it does not count, and is not rendered for people.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct JsonLabel {
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// Renders diagnostics without colour at a fixed width: what tests snapshot.
pub fn render_plain(name: &str, src: &str, diags: &[Diagnostic]) -> String {
    render(GraphicalTheme::unicode_nocolor(), name, src, diags)
}

/// Renders diagnostics as miette reports followed by a one-line summary.
pub fn render(theme: GraphicalTheme, name: &str, src: &str, diags: &[Diagnostic]) -> String {
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let source = NamedSource::new(name, WindowedSource(std::sync::Arc::from(src)));
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

/// The source text for miette, read from a few lines before each span: miette's own reader
/// scans from the start of the text, which for a warning near the end of a big file costs
/// more than checking it. The result is exactly what miette's reader gives on the whole text.
#[derive(Clone, Debug)]
struct WindowedSource(std::sync::Arc<str>);

impl miette::SourceCode for WindowedSource {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let bytes = self.0.as_bytes();
        let offset = span.offset();
        // Start at a line start with more line breaks before the span than the context needs;
        // text with `\r` keeps miette's own reading (its line breaks are counted differently).
        let mut start = offset.min(bytes.len());
        let mut breaks = 0;
        while breaks < context_lines_before + 2 {
            match memchr::memrchr(b'\n', &bytes[..start]) {
                Some(i) => {
                    start = i;
                    breaks += 1;
                }
                None => {
                    start = 0;
                    break;
                }
            }
        }
        if start > 0 {
            start += 1;
        }
        if memchr::memchr(b'\r', &bytes[..offset.min(bytes.len())]).is_some() {
            start = 0;
        }
        if start == 0 {
            return bytes.read_span(span, context_lines_before, context_lines_after);
        }
        let lines_before = memchr::memchr_iter(b'\n', &bytes[..start]).count();
        let inner = miette::SourceSpan::new((offset - start).into(), span.len());
        let c = bytes[start..].read_span(&inner, context_lines_before, context_lines_after)?;
        let s = c.span();
        Ok(Box::new(miette::MietteSpanContents::new(
            c.data(),
            miette::SourceSpan::new((s.offset() + start).into(), s.len()),
            c.line() + lines_before,
            c.column(),
            c.line_count() + lines_before,
        )))
    }
}

fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

#[cfg(test)]
mod tests {
    use super::WindowedSource;
    use miette::{SourceCode, SourceSpan};

    #[test]
    fn the_windowed_source_reads_what_miette_reads() {
        let src: String = (0..40)
            .map(|i| format!("line {i} {}\n", "x".repeat(i % 7)))
            .collect::<String>()
            + "\n\nlast";
        let windowed = WindowedSource(std::sync::Arc::from(src.as_str()));
        for offset in (0..=src.len()).step_by(3) {
            for len in [0, 1, 5, 40] {
                let len = len.min(src.len() - offset);
                let span = SourceSpan::new(offset.into(), len);
                for (before, after) in [(0, 0), (1, 1), (2, 3)] {
                    let want = src.read_span(&span, before, after);
                    let got = windowed.read_span(&span, before, after);
                    match (want, got) {
                        (Ok(w), Ok(g)) => {
                            assert_eq!(w.data(), g.data(), "{offset} {len} {before}");
                            assert_eq!(w.span(), g.span(), "{offset} {len} {before}");
                            assert_eq!(w.line(), g.line(), "{offset} {len} {before}");
                            assert_eq!(w.column(), g.column(), "{offset} {len} {before}");
                            assert_eq!(w.line_count(), g.line_count(), "{offset} {len}");
                        }
                        (w, g) => assert_eq!(w.is_ok(), g.is_ok(), "{offset} {len} {before}"),
                    }
                }
            }
        }
    }
}
