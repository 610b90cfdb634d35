//! `stackc fmt`: formats files in place, or checks that they are formatted.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use stackc::diagnostic::printable;

use super::args::FmtArgs;
use super::input::read_stdin;
use super::{io_reason, output, read_source, render, write_stdout};

pub fn main(args: &FmtArgs) -> ExitCode {
    let stdin = args.files.is_empty() || args.files.iter().any(|f| f == Path::new("-"));
    if stdin {
        if args.files.len() > 1 {
            say!("error: `-` (standard input) cannot be mixed with file names");
            return ExitCode::from(2);
        }
        return format_stdin(args.check);
    }
    let mut failed = false;
    let mut seen = HashSet::new();
    for path in &args.files {
        if path.is_dir() {
            let mut files = Vec::new();
            if let Err(msg) = stack_files(path, &mut seen, &mut files) {
                say!("error: {msg}");
                failed = true;
            }
            for file in files {
                failed |= !format_file(&file, args.check);
            }
        } else if first_visit(path, &mut seen) {
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
/// `target` are not entered, nor symbolic links to directories (they may loop back), and a
/// file reached twice (through links) is listed once.
fn stack_files(
    dir: &Path,
    seen: &mut HashSet<(u64, u64)>,
    out: &mut Vec<PathBuf>,
) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: {}", dir.display(), io_reason(&e)))?;
    let mut found: Vec<(PathBuf, std::fs::FileType)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.path(), e.file_type().ok()?)))
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, kind) in found {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if kind.is_dir() {
            if !name.starts_with('.') && name != "target" {
                stack_files(&path, seen, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "stack")
            && path.is_file()
            && first_visit(&path, seen)
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether the file (a link is followed) has not been seen yet; files whose identity cannot
/// be read count as new.
fn first_visit(path: &Path, seen: &mut HashSet<(u64, u64)>) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(path) {
            return seen.insert((m.dev(), m.ino()));
        }
    }
    let _ = (path, seen);
    true
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
            say!("error: {name}: not formatted: it has syntax errors; the file is unchanged");
            return false;
        }
    };
    if formatted == src {
        return true;
    }
    if check {
        // The names of the files that would change, as `gofmt -l` lists them.
        let _ = output::to_stdout(format!("{}\n", printable(&name)).as_bytes());
        return false;
    }
    match output::replace_file(path, formatted.as_bytes()) {
        Ok(()) => true,
        Err(msg) => {
            say!("error: {msg}");
            false
        }
    }
}

/// Standard input to standard output (for editors); with `--check`, only the exit status.
fn format_stdin(check: bool) -> ExitCode {
    let src = match read_stdin() {
        Ok(s) => s,
        Err(code) => return code,
    };
    match stackc::fmt::format(&src) {
        Ok(formatted) if check => {
            if formatted == src {
                ExitCode::SUCCESS
            } else {
                let _ = output::to_stdout(b"<stdin>\n");
                ExitCode::from(1)
            }
        }
        Ok(formatted) => write_stdout(formatted.as_bytes()),
        Err(diags) => {
            render::report(render::Stream::Stderr, "<stdin>", &src, &diags);
            say!("error: <stdin>: not formatted: it has syntax errors");
            ExitCode::from(1)
        }
    }
}
