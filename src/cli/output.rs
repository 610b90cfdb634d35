//! Writing outputs atomically: each file is written beside its destination and renamed over
//! it, so a reader (or a crash) never sees a half-written file.

use std::io::Write;
use std::path::Path;

use super::io_reason;

/// Writes every `(name, bytes)` into `dir`, creating `dir` if needed.
pub fn write_all(dir: &Path, files: &[(&str, &[u8])]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| {
        format!(
            "{}: cannot create directory: {}",
            dir.display(),
            io_reason(&e)
        )
    })?;
    // Write all temporaries first, then rename: an error in the middle leaves the old files.
    let mut staged = Vec::new();
    for (name, bytes) in files {
        let fail = |e: std::io::Error| format!("{}: {}", dir.join(name).display(), io_reason(&e));
        let prefix = format!(".{name}.");
        let mut tmp = new_file_builder(&prefix).tempfile_in(dir).map_err(fail)?;
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

/// Replaces the file at `path` with `bytes` atomically, keeping its permissions; a symlink
/// is followed, so the file it points to is the one replaced.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("{}: {}", path.display(), io_reason(&e));
    let target = std::fs::canonicalize(path).map_err(fail)?;
    let perms = std::fs::metadata(&target).map_err(fail)?.permissions();
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().set_permissions(perms).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(&target).map_err(|e| fail(e.error))?;
    Ok(())
}
