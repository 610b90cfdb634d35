//! One type over the diagnostics of every phase, with what editors need: position, code,
//! severity, labels and help, rendered as miette reports or as JSON.

use miette::Severity;
use serde::Serialize;

mod escape;
mod render;

pub use escape::{is_unsafe, printable};
pub use render::{render, render_plain};

use crate::check::lints::LintError;
use crate::check::{CheckError, primary_span};
use crate::syntax::SyntaxError;
use crate::syntax::ast::Span;
use crate::syntax::lines::LineIndex;

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
    #[error(transparent)]
    #[diagnostic(transparent)]
    InEnvironments(InEnvironments),
}

/// A diagnostic that holds in some of the file's environments only: each environment's
/// program is checked on its own (`check::envs`), and what all of them say is said once.
#[derive(Debug, Clone, PartialEq)]
pub struct InEnvironments {
    /// In source order.
    pub envs: Vec<String>,
    pub inner: Box<Diagnostic>,
}

impl std::fmt::Display for InEnvironments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quoted: Vec<String> = self.envs.iter().map(|e| format!("`{e}`")).collect();
        match quoted.as_slice() {
            [one] => write!(f, "{} (in environment {one})", self.inner),
            [rest @ .., last] => write!(
                f,
                "{} (in environments {} and {last})",
                self.inner,
                rest.join(", ")
            ),
            [] => write!(f, "{}", self.inner),
        }
    }
}

impl std::error::Error for InEnvironments {}

impl miette::Diagnostic for InEnvironments {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.as_miette().code()
    }
    fn severity(&self) -> Option<Severity> {
        self.inner.as_miette().severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.as_miette().help()
    }
    fn url<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.as_miette().url()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.inner.as_miette().labels()
    }
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
            Diagnostic::InEnvironments(e) => e.inner.span(),
        }
    }

    pub fn help(&self) -> Option<String> {
        self.as_miette().help().map(|h| h.to_string())
    }

    /// The JSON object of `stackc check --format json` (contract, section 3); positions come
    /// from the text's one [`LineIndex`].
    pub fn to_json(&self, index: &LineIndex<'_>, file: &str) -> JsonDiagnostic {
        let d = self.as_miette();
        let span = self.span();
        let (line, column) = index.line_col(span.start as usize);
        let (end_line, end_column) = index.line_col(span.end as usize);
        let labels = d
            .labels()
            .into_iter()
            .flatten()
            .map(|l| {
                let (line, column) = index.line_col(l.offset());
                let (end_line, end_column) = index.line_col(l.offset() + l.len());
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
/// a character are clamped. For one lookup: many go through one [`LineIndex`].
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(src).line_col(offset)
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
