//! Diagnostics of the syntax phase.

use miette::Diagnostic;
use thiserror::Error;

use super::ast::Span;

/// A problem found while parsing. Every variant's first field is its primary span.
#[derive(Debug, Error, Diagnostic, Clone, PartialEq)]
pub enum SyntaxError {
    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(stack::syntax))]
    Unexpected {
        #[label("expected {expected} here")]
        span: Span,
        expected: String,
        found: String,
        #[help]
        help: Option<String>,
    },

    #[error("`{header}` is not closed")]
    #[diagnostic(code(stack::syntax))]
    UnclosedBlock {
        #[label("{label}")]
        span: Span,
        #[label("this `{{` is never closed")]
        open: Span,
        header: String,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("unterminated string")]
    #[diagnostic(
        code(stack::syntax),
        help("close the string with `\"` on the same line; write a newline as `\\n`")
    )]
    UnterminatedString {
        #[label("this string is never closed")]
        span: Span,
    },

    #[error("missing `=` after `{key}`")]
    #[diagnostic(code(stack::syntax), help("write `{key} = {value}`"))]
    MissingEq {
        #[label("expected `=` here")]
        span: Span,
        key: String,
        value: String,
    },

    #[error("unknown escape `\\{escape}` in a string")]
    #[diagnostic(
        code(stack::syntax),
        help(
            "the escapes are `\\\"`, `\\\\`, `\\n`, `\\r` and `\\t`; write a backslash as `\\\\`"
        )
    )]
    BadEscape {
        #[label("not an escape")]
        span: Span,
        escape: char,
    },

    #[error("`{unit}` is not a unit of stackc")]
    #[diagnostic(code(stack::syntax), help("{reason}: write `{amount} {suggestion}`"))]
    BadUnit {
        #[label("use `{suggestion}`")]
        span: Span,
        unit: String,
        amount: u64,
        suggestion: &'static str,
        reason: &'static str,
    },

    #[error("a firewall block has no name")]
    #[diagnostic(
        code(stack::syntax),
        help("a file has one firewall block, written `firewall {{ ... }}`: remove the name")
    )]
    NamedFirewall {
        #[label("remove this name")]
        span: Span,
    },

    #[error("the number {text} is too large")]
    #[diagnostic(code(stack::out_of_range))]
    NumberTooLarge {
        #[label("larger than any value stackc accepts")]
        span: Span,
        text: String,
    },
}
