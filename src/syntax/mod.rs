//! Syntax: text → [`ast::File`], with spans on every node. Pure, no IO.

pub mod ast;
mod build;
mod chunked;
mod error;
mod explain;
pub mod lex;
pub mod lines;
mod parser;

pub use error::SyntaxError;
pub use parser::{Parsed, parse};
