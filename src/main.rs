//! The `stackc` command line. All terminal and file IO of the compiler lives under `cli/`, and
//! the language server's stdio under `lsp/`.

mod cli;
mod lsp;

fn main() -> std::process::ExitCode {
    cli::main()
}
