//! Reading inputs: every file and standard input is read through [`read_bounded`], which
//! takes at most [`MAX_INPUT`] + 1 bytes whatever the input is — a regular file, a device
//! (`/dev/zero` never ends, and its metadata says 0 bytes), a FIFO or a pipe — so no input
//! can make stackc grow without bound, and a text's byte offsets always fit the compiler's
//! 32-bit spans.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use super::io_reason;

/// The largest input read, in bytes: no real program comes near it, and it keeps offsets far
/// below 4 GiB.
pub const MAX_INPUT: usize = 512 * 1024 * 1024;

/// Why an input was not read.
pub enum ReadError {
    Io(std::io::Error),
    TooBig,
    NotUtf8 { offset: usize },
    IsDir,
}

impl ReadError {
    pub fn message(&self) -> String {
        match self {
            ReadError::Io(e) => io_reason(e),
            ReadError::TooBig => format!(
                "is larger than {} MiB, the most stackc reads",
                MAX_INPUT >> 20
            ),
            ReadError::NotUtf8 { offset } => {
                format!("is not UTF-8 text (invalid byte at offset {offset})")
            }
            ReadError::IsDir => "is a directory, not a file".into(),
        }
    }
}

/// Reads at most `MAX_INPUT` + 1 bytes of `r` (`hint`: the expected size, to allocate once).
pub fn read_bounded(r: impl Read, hint: usize) -> Result<String, ReadError> {
    let mut bytes = Vec::with_capacity(hint.min(MAX_INPUT) + 1);
    r.take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() > MAX_INPUT {
        return Err(ReadError::TooBig);
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Reads a file (or a device, or a FIFO) as text.
pub fn read_file(path: &Path) -> Result<String, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if meta.is_dir() {
        return Err(ReadError::IsDir);
    }
    // A regular file says its size: one too big is refused without reading it.
    if meta.is_file() && meta.len() > MAX_INPUT as u64 {
        return Err(ReadError::TooBig);
    }
    read_bounded(file, usize::try_from(meta.len()).unwrap_or(0))
}

/// Reads a source file, or prints a one-line error naming it.
pub fn read_source(path: &Path) -> Result<String, ExitCode> {
    read_file(path).map_err(|e| {
        say!("error: {}: {}", path.display(), e.message());
        ExitCode::from(1)
    })
}

/// Reads standard input, or prints a one-line error.
pub fn read_stdin() -> Result<String, ExitCode> {
    read_bounded(std::io::stdin().lock(), 0).map_err(|e| {
        say!("error: <stdin>: {}", e.message());
        ExitCode::from(1)
    })
}
