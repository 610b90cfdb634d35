//! Every output: standard output and standard error, and files.
//!
//! Standard output goes through [`to_stdout`]: a reader that went away (`| head`) is not an
//! error of ours, any other failure (`> /dev/full`) is one line on stderr and exit 1 — never
//! the panic of `println!`. Standard error goes through [`stderr`] and [`stderr_line`] (the
//! `say!` macro), which escape what came from the input and ignore a failure to write there.
//!
//! Files are written atomically: each beside its destination, then renamed over it, so a
//! reader (or a crash) never sees a half-written file.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use stackc::diagnostic::printable;

use super::io_reason;

/// Writes a command's output to stdout; Err (the exit status) when it could not be written.
pub fn to_stdout(bytes: &[u8]) -> Result<(), ExitCode> {
    stream_stdout(|out| out.write_all(bytes))
}

/// Writes a command's output to stdout through `write`, buffered, as it is made (a big
/// report need not be held whole); Err (the exit status) when it could not be written.
pub fn stream_stdout(
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            stderr_line(&format!("error: cannot write to stdout: {}", io_reason(&e)));
            Err(ExitCode::from(1))
        }
    }
}

/// Writes a command's whole output to stdout: its exit status.
pub fn write_stdout(bytes: &[u8]) -> ExitCode {
    match to_stdout(bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// Writes text made by stackc (a rendered report) to stderr.
pub fn stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Writes one line to stderr, escaping any control character in it (they come from file
/// names and input values; stackc's own one-line messages hold none).
pub fn stderr_line(line: &str) {
    let mut text = printable(line).into_owned();
    text.push('\n');
    stderr(&text);
}

/// Writes every `(name, bytes)` into `dir`, creating `dir` (and the folder of a name such as
/// `staging/plan.json`) if needed.
pub fn write_all(dir: &Path, files: &[(&str, &[u8])]) -> Result<(), String> {
    for (name, _) in files {
        let folder = dir.join(name);
        let folder = folder.parent().unwrap_or(dir);
        std::fs::create_dir_all(folder).map_err(|e| {
            format!(
                "{}: cannot create directory: {}; nothing was written",
                folder.display(),
                io_reason(&e)
            )
        })?;
    }
    // Every destination must be replaceable before anything is: a directory in the way would
    // otherwise fail the second rename after the first had been done.
    for (name, _) in files {
        let dest = dir.join(name);
        if std::fs::symlink_metadata(&dest).is_ok_and(|m| m.is_dir()) {
            return Err(format!(
                "{}: is a directory; nothing was written",
                dest.display()
            ));
        }
    }
    // Write all temporaries first, then rename: an error in the middle leaves the old files.
    let mut staged = Vec::new();
    for (name, bytes) in files {
        let fail = |e: std::io::Error| {
            format!(
                "{}: {}; nothing was written",
                dir.join(name).display(),
                io_reason(&e)
            )
        };
        let dest = dir.join(name);
        let folder = dest.parent().unwrap_or(dir);
        let base = dest.file_name().map(|f| f.to_string_lossy().into_owned());
        let prefix = format!(".{}.", base.unwrap_or_default());
        let mut tmp = new_file_builder(&prefix).tempfile_in(folder).map_err(|e| {
            format!(
                "{}: cannot write a file in this directory ({}); nothing was written",
                folder.display(),
                io_reason(&e)
            )
        })?;
        tmp.write_all(bytes).map_err(fail)?;
        tmp.as_file().sync_all().map_err(fail)?;
        staged.push((tmp, dir.join(name)));
    }
    for (tmp, dest) in staged {
        tmp.persist(&dest)
            .map_err(|e| format!("{}: {}", dest.display(), io_reason(&e.error)))?;
    }
    Ok(())
}

/// A temporary file that becomes a new output: created with the mode any new file gets
/// (0666 less the umask), not tempfile's private 0600, so that the outputs are as readable as
/// the user's other files once renamed.
fn new_file_builder(prefix: &str) -> tempfile::Builder<'_, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
}

/// Replaces the file at `path` with `bytes`, keeping what makes it the same file: its mode,
/// its owner and its hard links. A symlink is followed, so the file it points to is the one
/// replaced. The file itself must be writable — read-only (no write bit), or not writable by
/// this user, it is refused — although the rename below needs only its directory.
///
/// Written beside it and renamed over it (atomic), unless it has other hard links or its
/// owner cannot be given to a new file: then it is rewritten in place.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("{}: {}", path.display(), io_reason(&e));
    let target = std::fs::canonicalize(path).map_err(fail)?;
    let meta = std::fs::metadata(&target).map_err(fail)?;
    if meta.permissions().readonly() {
        return Err(format!(
            "{}: the file is read-only; it was not changed",
            path.display()
        ));
    }
    if let Err(e) = std::fs::OpenOptions::new().write(true).open(&target) {
        return Err(format!(
            "{}: cannot write the file ({}); it was not changed",
            path.display(),
            io_reason(&e)
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return write_in_place(&target, bytes).map_err(fail);
        }
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempfile_in(dir)
        .map_err(|e| {
            format!(
                "{}: cannot write a file in its directory {} ({}); it was not changed",
                path.display(),
                dir.display(),
                io_reason(&e)
            )
        })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mine = tmp.as_file().metadata().map_err(fail)?;
        let same = (mine.uid(), mine.gid()) == (meta.uid(), meta.gid());
        if !same
            && std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid())).is_err()
        {
            drop(tmp);
            return write_in_place(&target, bytes).map_err(fail);
        }
    }
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file()
        .set_permissions(meta.permissions())
        .map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(&target).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Rewrites a file's content in place (the same inode): written over, then cut to length.
fn write_in_place(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().write(true).open(target)?;
    file.write_all(bytes)?;
    file.set_len(bytes.len() as u64)?;
    file.sync_all()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn replacing_keeps_mode_links_and_owner_and_refuses_read_only_files() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let file = dir.path().join("app.stack");
        std::fs::write(&file, "old").expect("written");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("chmod");

        // Mode kept.
        replace_file(&file, b"new").expect("replaced");
        let meta = std::fs::metadata(&file).expect("metadata");
        assert_eq!(std::fs::read(&file).expect("read"), b"new");
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);

        // Hard links kept: the same file, changed in place.
        let other = dir.path().join("other.stack");
        std::fs::hard_link(&file, &other).expect("linked");
        replace_file(&file, b"newer").expect("replaced");
        assert_eq!(std::fs::read(&other).expect("read"), b"newer");
        assert_eq!(
            std::fs::metadata(&other).expect("metadata").ino(),
            std::fs::metadata(&file).expect("metadata").ino()
        );
        std::fs::remove_file(&other).expect("unlinked");

        // The owner kept, when this process may give a file away (root, as in CI).
        if meta.uid() == 0 && std::os::unix::fs::chown(&file, Some(4321), Some(4321)).is_ok() {
            replace_file(&file, b"newest").expect("replaced");
            let meta = std::fs::metadata(&file).expect("metadata");
            assert_eq!((meta.uid(), meta.gid()), (4321, 4321));
        }

        // Read-only: refused, even for root, and unchanged.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).expect("chmod");
        let err = replace_file(&file, b"never").expect_err("refused");
        assert!(err.contains("read-only"), "{err}");
        assert_ne!(std::fs::read(&file).expect("read"), b"never");
    }
}
