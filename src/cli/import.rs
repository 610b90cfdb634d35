//! `stackc import FILE`: read a compose file or a Dockerrun.aws.json, print the `.stack`
//! program on stdout and the warnings, with their lines, on stderr. The import reads the
//! shell's variables and the files beside FILE (`.env`, `env_file`) through [`Beside`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use stackc::import::{self, Context, SourceKind};

use super::input::{ReadError, read_file};
use super::{read_source, write_stdout};

pub fn main(path: &Path) -> ExitCode {
    let src = match read_source(path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let name = path.display().to_string();
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.clone());
    let kind = SourceKind::detect(&file_name, &src);
    let beside = Beside {
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    match import::import(&src, kind, &file_name, &project_name(path), &beside) {
        Ok(out) => {
            for w in &out.warnings {
                match w.line {
                    Some(l) => say!("warning: {name}:{l}: {}", w.message),
                    None => say!("warning: {name}: {}", w.message),
                }
            }
            write_stdout(out.stack.as_bytes())
        }
        Err(e) => {
            match e.line {
                Some(l) => say!("error: {name}:{l}: {}", e.message),
                None => say!("error: {name}: {}", e.message),
            }
            ExitCode::from(1)
        }
    }
}

/// The shell's environment and the files in the imported file's folder.
struct Beside {
    dir: PathBuf,
}

impl Context for Beside {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn file(&self, path: &str) -> Option<Result<String, String>> {
        // The import asks only for paths inside the folder. The one bounded reader: a FIFO or
        // a device is read to the cap and no further, a directory is refused.
        match read_file(&self.dir.join(path)) {
            Ok(text) => Some(Ok(text)),
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => Some(Err(e.message())),
        }
    }
}

/// The name compose would give the project: the directory holding the file (`.` resolved),
/// else the file's stem.
fn project_name(path: &Path) -> String {
    let dir = std::fs::canonicalize(path).ok().and_then(|p| {
        p.parent()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned())
    });
    dir.or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".into())
}
