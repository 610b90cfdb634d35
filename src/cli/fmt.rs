//! `stackc fmt`: formats files in place, or checks that they are formatted.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::args::FmtArgs;
use super::{io_reason, output, read_source, render, write_stdout};

pub fn main(args: &FmtArgs) -> ExitCode {
    let stdin = args.files.is_empty() || args.files.iter().any(|f| f == Path::new("-"));
    if stdin {
        if args.files.len() > 1 {
            eprintln!("error: `-` (standard input) cannot be mixed with file names");
            return ExitCode::from(2);
        }
        return format_stdin(args.check);
    }
    let mut failed = false;
    for path in &args.files {
        if path.is_dir() {
            let mut files = Vec::new();
            if let Err(msg) = stack_files(path, &mut files) {
                eprintln!("error: {msg}");
                failed = true;
            }
            for file in files {
                failed |= !format_file(&file, args.check);
            }
        } else {
            failed |= !format_file(path, args.check);
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The `.stack` files below a directory, in name order; hidden directories (`.git`) and
/// `target` are not entered.
fn stack_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: {}", dir.display(), io_reason(&e)))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                stack_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "stack") {
            out.push(path);
        }
    }
    Ok(())
}

/// Formats one file; false when it has syntax errors, cannot be read or written, or (with
/// `--check`) is not formatted.
fn format_file(path: &Path, check: bool) -> bool {
    let Ok(src) = read_source(path) else {
        return false;
    };
    let name = path.display().to_string();
    let formatted = match stackc::fmt::format(&src) {
        Ok(f) => f,
        Err(diags) => {
            render::report(render::Stream::Stderr, &name, &src, &diags);
            eprintln!("error: {name}: not formatted: it has syntax errors; the file is unchanged");
            return false;
        }
    };
    if formatted == src {
        return true;
    }
    if check {
        // The names of the files that would change, as `gofmt -l` lists them.
        println!("{name}");
        return false;
    }
    match output::replace_file(path, formatted.as_bytes()) {
        Ok(()) => true,
        Err(msg) => {
            eprintln!("error: {msg}");
            false
        }
    }
}

/// Standard input to standard output (for editors); with `--check`, only the exit status.
fn format_stdin(check: bool) -> ExitCode {
    let mut src = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut src) {
        eprintln!("error: <stdin>: {}", io_reason(&e));
        return ExitCode::from(1);
    }
    match stackc::fmt::format(&src) {
        Ok(formatted) if check => {
            if formatted == src {
                ExitCode::SUCCESS
            } else {
                println!("<stdin>");
                ExitCode::from(1)
            }
        }
        Ok(formatted) => write_stdout(formatted.as_bytes()),
        Err(diags) => {
            render::report(render::Stream::Stderr, "<stdin>", &src, &diags);
            eprintln!("error: <stdin>: not formatted: it has syntax errors");
            ExitCode::from(1)
        }
    }
}
