//! The `stackc` command line. All terminal and file IO of the compiler lives under `cli/`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
