//! The builds of a program on the file system, for the commands that read a file: their paths
//! checked against what exists (`check::paths`, with an oracle that looks at the files), and
//! the content hash of each built service's context, which names its image in `stackc build`'s
//! output (`<repository>:c-<hash>`; apply deploys it by digest instead).

use std::io;
use std::path::Path;

use stackc::Diagnostic;
use stackc::check::{Model, PathKind};
use stackc::images::{BuildSpec, Platform, content_hash};
use stackc::lower::Images;
use stackc::syntax::ast;

/// The directory that the paths of the program at `path` are relative to.
fn dir_of(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new(""))
}

/// What `path` names, following links.
fn kind_of(path: &Path) -> PathKind {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => PathKind::Directory,
        Ok(m) if m.is_file() => PathKind::File,
        Ok(_) => PathKind::Other,
        Err(e) if e.kind() == io::ErrorKind::NotFound => PathKind::Missing,
        // Not a directory on the way (`file.txt/Dockerfile`): nothing is there.
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => PathKind::Missing,
        Err(_) => PathKind::Other,
    }
}

/// The `stack::build_path` errors of the program at `path` (parsed into `file`): every build's
/// context must be a directory, and its Dockerfile a file in it.
pub fn path_diagnostics(path: &Path, file: &ast::File) -> Vec<Diagnostic> {
    stackc::check::paths(file, dir_of(path), &kind_of)
        .into_iter()
        .map(Diagnostic::from)
        .collect()
}

/// The image of each built service of `model`, the program at `path`: its repository and the
/// tag of its build's content hash, for the environment's platform. An unreadable context is
/// one line naming what could not be read.
pub fn images(path: &Path, model: &Model) -> Result<Images, String> {
    let platform = Platform::of_instance_type(&model.environment.instance_type);
    let base = model.base();
    let mut images = Images::new();
    for service in &model.services {
        let Some(build) = service.build() else {
            continue;
        };
        let spec = BuildSpec::of(build, dir_of(path), platform);
        let hash = content_hash(&spec)
            .map_err(|e| format!("{}: service `{}`: {e}", path.display(), service.name))?;
        let repository = stackc::naming::repository(&base, &service.name);
        images.insert(
            service.name.to_string(),
            format!("{repository}:{}", hash.tag()),
        );
    }
    Ok(images)
}
