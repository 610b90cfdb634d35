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
mod frame;
mod index;
mod query;
mod server;

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use lsp_server::{Connection, Message};
use serde_json::{Value, json};

use frame::Frame;

/// Runs the server on stdin/stdout until the client says `exit`. Exit status 0 after a
/// `shutdown` request, 1 otherwise (as the protocol asks).
///
/// The transport is ours, not lsp-server's (whose reader trusts `Content-Length`, and ends
/// the session on a message it cannot parse): a reader thread takes frames through
/// [`frame::read_frame`] and hands messages to the server's loop; what it cannot read is
/// answered at once with a JSON-RPC error (`-32700`, `-32600`), and the session goes on.
pub fn main() -> ExitCode {
    let stdout = Arc::new(Mutex::new(std::io::stdout()));
    let (to_server, from_client) = crossbeam_channel::bounded::<Message>(0);
    let (to_client, for_writer) = crossbeam_channel::unbounded::<Message>();
    let out = Arc::clone(&stdout);
    let writer = std::thread::spawn(move || {
        for msg in for_writer {
            let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
            // The client went away: nothing more can be said.
            if msg.write(&mut *out).is_err() {
                break;
            }
        }
    });
    let out = Arc::clone(&stdout);
    let reader = std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        while let Ok(Some(frame)) = frame::read_frame(&mut stdin) {
            let msg = match frame {
                Frame::Content(bytes) => decode(&bytes),
                Frame::Bad(why) => Err(error_reply(Value::Null, PARSE_ERROR, &why)),
            };
            match msg {
                Ok(msg) => {
                    let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                    if to_server.send(msg).is_err() || exit {
                        break;
                    }
                }
                Err(reply) => {
                    let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
                    let framed = format!("Content-Length: {}\r\n\r\n{reply}", reply.len());
                    if out
                        .write_all(framed.as_bytes())
                        .and_then(|()| out.flush())
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    let conn = Connection {
        sender: to_client,
        receiver: from_client,
    };
    let clean = server::serve(&conn);
    // The writer ends when the last sender is gone; the reader has stopped at `exit` or at
    // the end of the input (the loop above ends only then).
    drop(conn);
    let joined = writer.join().is_ok() && reader.join().is_ok();
    if clean && joined {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// JSON-RPC's codes for a message that is not JSON, and for JSON that is not a message.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// A message, or the error to answer instead (with the request's id when it has one).
fn decode(bytes: &[u8]) -> Result<Message, String> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| error_reply(Value::Null, PARSE_ERROR, &format!("invalid JSON: {e}")))?;
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    let invalid = |e: serde_json::Error| {
        error_reply(
            id.clone(),
            INVALID_REQUEST,
            &format!("not a JSON-RPC message: {e}"),
        )
    };
    // What it is by its fields (lsp-server's untagged reading takes anything with an `id`
    // for a response).
    match (value.get("method").is_some(), value.get("id").is_some()) {
        (true, true) => serde_json::from_value(value).map(Message::Request),
        (true, false) => serde_json::from_value(value).map(Message::Notification),
        (false, _) => serde_json::from_value(value).map(Message::Response),
    }
    .map_err(invalid)
}

fn error_reply(id: Value, code: i64, message: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}).to_string()
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
