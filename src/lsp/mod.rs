//! `stackc lsp`: a Language Server over stdio, for editors. Diagnostics (those of `stackc
//! check`), go to definition, hover, completion and formatting (`stackc fmt`).
//!
//! - [`index`]: byte offsets ↔ LSP positions (UTF-16 columns), and applying text changes;
//! - [`diagnostics`]: compiler diagnostics → LSP diagnostics;
//! - [`query`]: definition and hover, from the AST (so they work on files with check errors);
//! - [`complete`]: completion, from a lexical reading (so it works on half-typed text), which
//!   also serves definition and hover while the text does not parse;
//! - [`server`]: the JSON-RPC loop, the only part that does IO.

mod complete;
mod diagnostics;
mod index;
mod query;
mod server;

use std::process::ExitCode;

/// Runs the server on stdin/stdout until the client says `exit`. Exit status 0 after a
/// `shutdown` request, 1 otherwise (as the protocol asks), or on a protocol error.
pub fn main() -> ExitCode {
    let (conn, io_threads) = lsp_server::Connection::stdio();
    match server::serve(&conn) {
        Ok(clean) => {
            // The writer thread ends when the last sender is gone; the reader has stopped at
            // `exit` or at the end of the input.
            drop(conn);
            match io_threads.join() {
                Ok(()) if clean => ExitCode::SUCCESS,
                Ok(()) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("error: stackc lsp: {e}");
                    ExitCode::from(1)
                }
            }
        }
        // Not joined: the reader may still wait on stdin.
        Err(e) => {
            eprintln!("error: stackc lsp: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every lookup at many offsets of every example, and of prefixes of it (half-typed
    /// text), answers without panicking.
    #[test]
    fn every_example_and_prefix_is_read_without_panicking() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut found = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "stack") {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            let file = stackc::syntax::parse(&src).file.expect("examples parse");
            for offset in 0..=src.len() + 1 {
                let _ = super::query::hover(&file, offset);
                for d in super::query::definition(&file, offset) {
                    assert!(d.end as usize <= src.len());
                    found += 1;
                }
            }
            for cut in (0..src.len())
                .step_by(5)
                .filter(|&c| src.is_char_boundary(c))
            {
                let prefix = &src[..cut];
                for offset in [0, cut / 2, cut] {
                    let _ = super::complete::complete(prefix, offset);
                }
                if let Some(file) = stackc::syntax::parse(prefix).file {
                    let _ = super::query::hover(&file, cut);
                }
            }
        }
        assert!(
            found > 0,
            "the examples name blocks in links, references and rules"
        );
    }
}
