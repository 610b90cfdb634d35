//! Command-line interface: argument parsing (clap), reading the input, rendering diagnostics,
//! writing outputs; `graph`, `import`, and the generated completions and man page. Exit codes:
//! 0 clean, 1 problems in the input or an unreadable file, 2 usage errors (clap's own).

mod args;
#[cfg(feature = "aws")]
mod deploy;
mod explain;
mod fmt;
mod generate;
mod graph;
mod import;
mod output;
mod render;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use args::{Args, CheckArgs, Command, Format};
use stackc::check::lints::Options;
use stackc::syntax::lines::LineIndex;
use stackc::{Diagnostic, compile, compile_with, lower};

pub fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Command::Check(c) => check(&c),
        Command::Explain(e) => explain::main(&e),
        Command::Build(b) => build(&b.file, &b.out),
        Command::Fmt(f) => fmt::main(&f),
        Command::Graph(g) => graph::main(&g),
        Command::Import(i) => import::main(&i.file),
        Command::Lsp(_) => crate::lsp::main(),
        #[cfg(feature = "aws")]
        Command::Plan(a) => deploy::main(deploy::Mode::Plan, &a),
        #[cfg(feature = "aws")]
        Command::Apply(a) => deploy::main(deploy::Mode::Apply, &a),
        #[cfg(feature = "aws")]
        Command::Destroy(a) => deploy::main(deploy::Mode::Destroy, &a),
        Command::Completions(c) => generate::completions(c.shell),
        Command::Man => generate::man(),
    }
}

/// Writes a command's whole output to stdout. A reader that went away (`| head`) is not an
/// error of ours; any other failure is reported and exits 1.
pub(crate) fn write_stdout(bytes: &[u8]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {}", io_reason(&e));
            ExitCode::from(1)
        }
    }
}

/// Files larger than this are refused before reading: no real program comes near it, and the
/// compiler's spans are 32-bit.
const MAX_INPUT: u64 = 512 * 1024 * 1024;

/// Reads a source file, or prints a one-line error naming it.
fn read_source(path: &Path) -> Result<String, ExitCode> {
    let fail = |msg: String| {
        eprintln!("error: {}: {msg}", path.display());
        ExitCode::from(1)
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(io_reason(&e)))?;
    if meta.is_dir() {
        return Err(fail("is a directory, not a .stack file".into()));
    }
    if meta.len() > MAX_INPUT {
        return Err(fail(format!(
            "is {} bytes; stackc reads files up to 512 MiB",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(io_reason(&e)))?;
    String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// An IO error in words, without Rust's "(os error 2)" suffix.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s,
            }
        }
    }
}

fn has_errors(diags: &[Diagnostic], deny_warnings: bool) -> bool {
    diags.iter().any(|d| d.is_error() || deny_warnings)
}

fn check(args: &CheckArgs) -> ExitCode {
    let CheckArgs {
        file: path,
        format,
        deny_warnings,
        strict,
    } = args;
    let src = match read_source(path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let compiled = compile_with(&src, &Options { strict: *strict });
    // Freed before the report is rendered, which then reuses their memory: a big program's
    // peak stays that of the checker.
    drop((compiled.file, compiled.model));
    let diags = compiled.diagnostics;
    let name = path.display().to_string();
    match format {
        Format::Json => {
            // Suppressed diagnostics are reported too, marked `"suppressed": true`.
            let index = LineIndex::new(&src);
            let mut json: Vec<_> = diags.iter().map(|d| d.to_json(&index, &name)).collect();
            json.extend(compiled.suppressed.iter().map(|d| {
                let mut j = d.to_json(&index, &name);
                j.suppressed = true;
                j
            }));
            json.sort_by_key(|j| (j.line, j.column, j.end_line, j.end_column));
            println!(
                "{}",
                serde_json::to_string_pretty(&json).expect("plain data serialises")
            );
        }
        Format::Human => {
            let out = render::Stream::Stdout;
            render::report(out, &name, &src, &diags);
        }
    }
    if has_errors(&diags, *deny_warnings) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn build(path: &Path, out_dir: &Path) -> ExitCode {
    let src = match read_source(path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let name = path.display().to_string();
    let (model, diags) = compile(&src);
    render::report(render::Stream::Stderr, &name, &src, &diags);
    let Some(model) = model else {
        eprintln!("error: {name}: not built; nothing was written");
        return ExitCode::from(1);
    };
    let artifacts = lower::lower(&model);
    let files = [
        ("Dockerrun.aws.json", artifacts.dockerrun.as_bytes()),
        ("plan.json", artifacts.plan_json.as_bytes()),
    ];
    match output::write_all(out_dir, &files) {
        Ok(()) => {
            let n = model.services.len();
            eprintln!(
                "built {name} → {} ({n} container{}, {} plan steps)",
                out_dir.display(),
                if n == 1 { "" } else { "s" },
                artifacts.plan.steps.len()
            );
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}
