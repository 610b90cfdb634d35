//! `stackc import FILE`: read a compose file or a Dockerrun.aws.json, print the `.stack`
//! program on stdout and the warnings, with their lines, on stderr. The import reads the
//! shell's variables and the files beside FILE (`.env`, `env_file`) through [`Beside`].

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use stackc::import::{self, Context, SourceKind};

use super::{MAX_INPUT, io_reason, read_source, write_stdout};

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
                    Some(l) => eprintln!("warning: {name}:{l}: {}", w.message),
                    None => eprintln!("warning: {name}: {}", w.message),
                }
            }
            write_stdout(out.stack.as_bytes())
        }
        Err(e) => {
            match e.line {
                Some(l) => eprintln!("error: {name}:{l}: {}", e.message),
                None => eprintln!("error: {name}: {}", e.message),
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
        // The import asks only for paths inside the folder.
        let full = self.dir.join(path);
        let file = match std::fs::File::open(&full) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => return Some(Err(io_reason(&e))),
        };
        // At most the cap and one byte more, whatever the file claims to be (a FIFO, a
        // device): more than the cap is refused, not read.
        let mut bytes = Vec::new();
        if let Err(e) = file.take(MAX_INPUT + 1).read_to_end(&mut bytes) {
            return Some(Err(io_reason(&e)));
        }
        if bytes.len() as u64 > MAX_INPUT {
            return Some(Err("larger than 512 MiB".into()));
        }
        Some(String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into()))
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
