//! The content hash of a build: what names an image, so that an unchanged context costs no
//! build and no push. It covers every entry of the context the container CLI would send
//! (`.dockerignore` honoured, see `ignore.rs`) — each one's relative path, its kind, whether
//! it is executable, a file's content, a symbolic link's target (links are not followed) — and
//! the Dockerfile's content, the target, the build arguments and the platform.
//!
//! The hash is the same on every machine for the same files: entries are hashed in path order,
//! whatever order the file system lists them in; times, owners and permission bits other than
//! the executable bit are left out (a fresh clone gets its own, and git keeps only that bit).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::ignore::{self, Patterns};
use super::platform::Platform;
use crate::diagnostic::printable;

/// The name of the ignore file read from the context's root (podman's `.containerignore`
/// and BuildKit's `<Dockerfile>.dockerignore` are not read).
pub const IGNORE_FILE: &str = ".dockerignore";

/// Changes whenever the hashed form changes, so old tags are never reused for it.
const FORMAT: &[u8] = b"stackc build context v1\0";

/// What one image is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSpec {
    /// The build context: a directory.
    pub context: PathBuf,
    /// The Dockerfile, relative to the context (`Dockerfile` when the program names none).
    pub dockerfile: PathBuf,
    /// The stage of a multi-stage Dockerfile to build, or the last one.
    pub target: Option<String>,
    /// The build arguments (`--build-arg`).
    pub args: BTreeMap<String, String>,
    /// The platform the image is built for.
    pub platform: Platform,
}

impl BuildSpec {
    /// The Dockerfile's path: the context joined with the spec's Dockerfile.
    pub fn dockerfile_path(&self) -> PathBuf {
        self.context.join(&self.dockerfile)
    }
}

/// The SHA-256 content hash of a build.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// The hash in lower-case hex (64 characters).
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The image tag this hash gives: `c-` and its first 12 hex digits (48 bits: a collision
    /// between two builds of one repository is out of reach, and the tag stays readable).
    pub fn tag(&self) -> String {
        format!("c-{}", &self.hex()[..12])
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.hex())
    }
}

/// Why a build's content could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("build context {} does not exist", shown(.path))]
    MissingContext { path: PathBuf },
    #[error("build context {} is not a directory", shown(.path))]
    ContextNotDirectory { path: PathBuf },
    #[error("dockerfile {} does not exist", shown(.path))]
    MissingDockerfile { path: PathBuf },
    #[error("dockerfile {} is not a file", shown(.path))]
    DockerfileNotFile { path: PathBuf },
    #[error("{}: bad pattern `{}`", shown(.path), printable(.pattern))]
    BadIgnorePattern { path: PathBuf, pattern: String },
    #[error("cannot read {}: {source}", shown(.path))]
    Unreadable { path: PathBuf, source: io::Error },
}

/// A path as a message shows it: control characters escaped.
fn shown(path: &Path) -> String {
    printable(&path.display().to_string()).into_owned()
}

/// The content hash of `spec` (see the module's documentation for what it covers).
pub fn content_hash(spec: &BuildSpec) -> Result<ContentHash, ContextError> {
    check_paths(spec)?;
    let mut h = Sha256::new();
    h.update(FORMAT);
    walk(&spec.context, &ignore_patterns(spec)?, |entry| {
        h.update([entry.kind as u8]);
        field(&mut h, entry.rel);
        match entry.kind {
            Kind::File | Kind::Executable => h.update(file_digest(entry.path)?),
            Kind::Link => {
                let target =
                    fs::read_link(entry.path).map_err(|source| ContextError::Unreadable {
                        path: entry.path.to_path_buf(),
                        source,
                    })?;
                field(&mut h, target.as_os_str().as_bytes());
            }
            Kind::Dir | Kind::Other => {}
        }
        Ok(())
    })?;
    h.update(b"dockerfile\0");
    h.update(file_digest(&spec.dockerfile_path())?);
    match &spec.target {
        Some(t) => {
            h.update([1]);
            field(&mut h, t.as_bytes());
        }
        None => h.update([0]),
    }
    h.update((spec.args.len() as u64).to_le_bytes());
    for (k, v) in &spec.args {
        field(&mut h, k.as_bytes());
        field(&mut h, v.as_bytes());
    }
    field(&mut h, spec.platform.as_str().as_bytes());
    Ok(ContentHash(h.finalize().into()))
}

/// The relative paths (`/`-separated) of the entries of the context that the container CLI
/// sends, directories included, in the order they are hashed: what the content hash covers.
pub fn sent_entries(spec: &BuildSpec) -> Result<Vec<String>, ContextError> {
    check_paths(spec)?;
    let mut out = Vec::new();
    walk(&spec.context, &ignore_patterns(spec)?, |entry| {
        out.push(String::from_utf8_lossy(entry.rel).into_owned());
        Ok(())
    })?;
    Ok(out)
}

/// That the context is a directory and the Dockerfile a file.
fn check_paths(spec: &BuildSpec) -> Result<(), ContextError> {
    let context = &spec.context;
    match fs::metadata(context) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(ContextError::ContextNotDirectory {
                path: context.clone(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ContextError::MissingContext {
                path: context.clone(),
            });
        }
        Err(source) => {
            return Err(ContextError::Unreadable {
                path: context.clone(),
                source,
            });
        }
    }
    let path = spec.dockerfile_path();
    match fs::metadata(&path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(ContextError::DockerfileNotFile { path }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(ContextError::MissingDockerfile { path })
        }
        Err(source) => Err(ContextError::Unreadable { path, source }),
    }
}

/// The `.dockerignore` patterns, with the exceptions the docker CLI adds so that the file
/// itself and the Dockerfile are always sent.
fn ignore_patterns(spec: &BuildSpec) -> Result<Patterns, ContextError> {
    let path = spec.context.join(IGNORE_FILE);
    let text = match fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Patterns::default()),
        Err(source) => return Err(ContextError::Unreadable { path, source }),
    };
    let mut patterns =
        Patterns::new(&ignore::read(&text)).map_err(|bad| ContextError::BadIgnorePattern {
            path: path.clone(),
            pattern: bad.pattern,
        })?;
    let dockerfile = ignore::clean(&spec.dockerfile.to_string_lossy());
    for always in [IGNORE_FILE, dockerfile.as_str()] {
        if patterns.excludes(always) {
            patterns.push_exception(always);
        }
    }
    Ok(patterns)
}

/// A directory's entry: its name and what `lstat` says of it.
type Entry = (Vec<u8>, Metadata);

/// A directory being walked: its entries left, in reverse name order (popped from the end).
struct Dir {
    /// Relative path as the file system has it, `/`-separated, empty for the context's root.
    rel: Vec<u8>,
    entries: Vec<Entry>,
    /// What each pattern did for this directory, for its entries (None at the root).
    matched: Option<Vec<bool>>,
    /// Whether this directory is excluded and not hashed yet: it is hashed before the first
    /// entry under it that is sent, as BuildKit sends the parents of what it sends.
    pending: bool,
}

/// The kind of an entry, as hashed.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Kind {
    Dir = b'd',
    File = b'f',
    Executable = b'x',
    Link = b'l',
    /// A FIFO, socket or device: sent as such, never opened (a FIFO would block).
    Other = b'o',
}

/// An entry of the context that is sent.
struct Sent<'a> {
    kind: Kind,
    /// Its relative path as the file system has it, `/`-separated.
    rel: &'a [u8],
    path: &'a Path,
}

/// Calls `visit` with every entry of the context that is sent, depth first in byte order of
/// names. A walk with an explicit stack: a deep tree cannot exhaust a thread's stack.
fn walk(
    context: &Path,
    patterns: &Patterns,
    mut visit: impl FnMut(Sent) -> Result<(), ContextError>,
) -> Result<(), ContextError> {
    let mut stack = vec![Dir {
        rel: Vec::new(),
        entries: read_dir(context, false)?.unwrap_or_default(),
        matched: None,
        pending: false,
    }];
    while let Some(top) = stack.last_mut() {
        let Some((name, meta)) = top.entries.pop() else {
            stack.pop();
            continue;
        };
        let mut rel = top.rel.clone();
        if !rel.is_empty() {
            rel.push(b'/');
        }
        rel.extend_from_slice(&name);
        // Patterns match text; a name that is not UTF-8 is matched as Go would see it.
        let text = String::from_utf8_lossy(&rel);
        let (excluded, matched) = patterns.excludes_under(&text, top.matched.as_deref());
        let path = context.join(OsStr::from_bytes(&rel));
        let file_type = meta.file_type();
        if file_type.is_dir() {
            if excluded && !patterns.may_send_under(&text) {
                continue;
            }
            if !excluded {
                flush_pending(context, &mut stack, &mut visit)?;
                visit(Sent {
                    kind: Kind::Dir,
                    rel: &rel,
                    path: &path,
                })?;
            }
            // BuildKit passes over an excluded directory it may not read.
            let Some(entries) = read_dir(&path, excluded)? else {
                continue;
            };
            stack.push(Dir {
                rel,
                entries,
                matched: Some(matched),
                pending: excluded,
            });
            continue;
        }
        if excluded {
            continue;
        }
        flush_pending(context, &mut stack, &mut visit)?;
        let kind = if file_type.is_file() {
            if meta.permissions().mode() & 0o111 != 0 {
                Kind::Executable
            } else {
                Kind::File
            }
        } else if file_type.is_symlink() {
            Kind::Link
        } else {
            Kind::Other
        };
        visit(Sent {
            kind,
            rel: &rel,
            path: &path,
        })?;
    }
    Ok(())
}

/// Visits the excluded directories above the next entry that is sent, outermost first.
fn flush_pending(
    context: &Path,
    stack: &mut [Dir],
    visit: &mut impl FnMut(Sent) -> Result<(), ContextError>,
) -> Result<(), ContextError> {
    for dir in stack.iter_mut().filter(|d| d.pending) {
        visit(Sent {
            kind: Kind::Dir,
            rel: &dir.rel,
            path: &context.join(OsStr::from_bytes(&dir.rel)),
        })?;
        dir.pending = false;
    }
    Ok(())
}

/// A length-prefixed field: no two sequences of fields hash the same bytes.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// The entries of a directory, sorted by name in reverse (the walk pops them). None when the
/// directory may be passed over (`lenient`) and cannot be read for lack of permission.
fn read_dir(dir: &Path, lenient: bool) -> Result<Option<Vec<Entry>>, ContextError> {
    let unreadable = |source: io::Error| ContextError::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    let list = match fs::read_dir(dir) {
        Ok(list) => list,
        Err(e) if lenient && e.kind() == io::ErrorKind::PermissionDenied => return Ok(None),
        Err(e) => return Err(unreadable(e)),
    };
    let mut out = Vec::new();
    for e in list {
        let e = e.map_err(unreadable)?;
        let meta = e.metadata().map_err(|source| ContextError::Unreadable {
            path: e.path(),
            source,
        })?;
        out.push((e.file_name().as_bytes().to_vec(), meta));
    }
    out.sort_unstable_by(|a, b| b.0.cmp(&a.0));
    Ok(Some(out))
}

/// The SHA-256 of a file's content, read in blocks.
fn file_digest(path: &Path) -> Result<[u8; 32], ContextError> {
    let unreadable = |source| ContextError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(unreadable)?;
    let mut h = Sha256::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(unreadable(e)),
        }
    }
    Ok(h.finalize().into())
}
