//! The `stackc` command line. All terminal and file IO of the compiler lives under `cli/`, and
//! the language server's stdio under `lsp/`.
//!
//! A panic is a bug of stackc or of a library, whatever the input: it is reported in one line
//! that says what to send us, and the process exits 70 (`EX_SOFTWARE`), with a backtrace only
//! when `RUST_BACKTRACE` asks for one.

mod cli;
mod lsp;

use std::process::ExitCode;

/// The exit status after a panic.
const PANICKED: u8 = 70;

fn main() -> ExitCode {
    install_panic_hook();
    match std::panic::catch_unwind(cli::main) {
        Ok(code) => code,
        // `println!` to a reader that went away (the deploy commands print with it): as for
        // every other output, not an error of ours.
        Err(p) if message(p.as_ref()).is_some_and(|m| is_broken_pipe(&m)) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(PANICKED),
    }
}

fn message(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}

fn is_broken_pipe(message: &str) -> bool {
    message.starts_with("failed printing to stdout") && message.contains("Broken pipe")
}

/// Replaces the default report of a panic (a message, a location and a note about
/// `RUST_BACKTRACE`, or a whole backtrace) with one line on stderr, unless a backtrace is
/// asked for.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            default(info);
            return;
        }
        let what = message(info.payload()).unwrap_or_else(|| "a panic".into());
        if is_broken_pipe(&what) {
            return;
        }
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        cli::output::stderr_line(&format!(
            "error: internal error in stackc {} ({what}{at}); this is a bug: please report it with the command and the input that caused it (RUST_BACKTRACE=1 shows where)",
            env!("CARGO_PKG_VERSION")
        ));
    }));
}
