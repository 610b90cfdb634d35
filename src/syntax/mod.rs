//! Syntax: text → [`ast::File`], with spans on every node. Pure, no IO.

pub mod ast;
mod chunked;
mod error;
pub mod lex;
pub mod lines;
mod parser;

pub use error::SyntaxError;
pub use parser::{Parsed, parse};
