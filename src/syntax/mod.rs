//! Syntax: text → [`ast::File`], with spans on every node. Pure, no IO.

pub mod ast;
mod build;
mod error;
mod explain;
mod parser;

pub use error::SyntaxError;
pub use parser::{Parsed, parse};
