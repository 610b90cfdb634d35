//! The container CLI that builds, logs in and pushes: docker or podman, chosen by
//! `STACKC_CONTAINER_CLI` or found (docker when its daemon answers, else podman).
//!
//! Every command is a list of arguments (no shell), every value a flag takes is joined to it
//! (`--target=...`, so a value cannot read as another flag) and every positional argument is
//! validated or absolute; each command has a deadline, after which it is killed; its output is
//! read as it comes, keeping the last lines for the error. A password goes on standard input,
//! never on the command line. Plain HTTP (podman's `--tls-verify=false`) is used only for a
//! registry on the loopback interface, where the test registry runs; docker's daemon already
//! treats 127.0.0.0/8 so.
//!
//! The CLI runs as its user configured it: stackc adds no storage or isolation flag, as
//! `--storage-driver` that differs from an existing store makes podman refuse to start. Where
//! podman needs them (in a container without systemd, as root), podman's own settings say so:
//! `CONTAINERS_STORAGE_CONF`, `CONTAINERS_CONF`, `BUILDAH_ISOLATION` (tests/images/README.md).

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::context::BuildSpec;
use crate::diagnostic::printable;

/// The environment variable that chooses the container CLI: `docker`, `podman`, or a path.
pub const CHOICE_VAR: &str = "STACKC_CONTAINER_CLI";

/// How long `--version` and `info` may take (a daemon that does not answer hangs `docker`).
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a build may take: dependencies are downloaded and compiled, on one core maybe.
const BUILD_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How long a login may take.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a push may take: layers of hundreds of MB on a slow uplink.
const PUSH_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long the output of a command that ended is still read (a child it left may hold the
/// pipes open).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How many of the last lines of each of a command's two output streams an error keeps.
pub const TAIL_LINES: usize = 40;
/// The longest line kept, in bytes: the rest of a longer one is dropped.
const MAX_LINE: usize = 4096;
/// How many lines of standard output a command's caller may read (digests, versions).
const STDOUT_LINES: usize = 1000;

/// Which CLI it is: the two take different flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Docker,
    Podman,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Docker => "docker",
            Kind::Podman => "podman",
        }
    }
}

/// A container CLI that answered.
#[derive(Clone, Debug)]
pub struct ContainerCli {
    kind: Kind,
    program: PathBuf,
    /// Variables set for every command, on top of this process's environment.
    env: Vec<(OsString, OsString)>,
}

/// A registry, repository and tag: where an image is pushed. Validated by [`ImageRef::new`]
/// against the grammar of image references, so none of its parts reads as a flag.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    registry: String,
    repository: String,
    tag: String,
}

/// A part of an image reference that the grammar of references refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{}` is not a valid {part} of an image reference", printable(.value))]
pub struct RefError {
    /// `registry`, `repository` or `tag`.
    pub part: &'static str,
    pub value: String,
}

/// The digest of a pushed manifest: `sha256:` and 64 lower-case hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

/// A container CLI command that did not do its job. Its display is multi-line when the command
/// printed something: the message, then the last lines of its output, escaped for a terminal.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot run {}: {source}", printable(.program))]
    Spawn { program: String, source: io::Error },
    #[error("`{}` failed ({status}){}", printable(.command), Tail(.tail))]
    Failed {
        command: String,
        status: ExitStatus,
        tail: Vec<String>,
    },
    #[error("`{}` did not finish within {} s{}", printable(.command), .after.as_secs(), Tail(.tail))]
    TimedOut {
        command: String,
        after: Duration,
        tail: Vec<String>,
    },
    #[error("`{}` gave no digest for {image}{}", printable(.command), Tail(.tail))]
    NoDigest {
        command: String,
        image: String,
        tail: Vec<String>,
    },
    #[error("`{}` is not a registry host", printable(.registry))]
    BadRegistry { registry: String },
    #[error("{image} was built for {} where {wanted} was asked, even without the build cache; remove the base images of the other platform and build again", printable(.built))]
    WrongPlatform {
        image: String,
        built: String,
        wanted: &'static str,
    },
}

/// Why no container CLI can be used.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("{CHOICE_VAR}={}: {reason}", printable(.choice))]
    Chosen {
        choice: String,
        reason: Box<Unusable>,
    },
    #[error(
        "no container CLI works (install docker or podman, or set {CHOICE_VAR}): docker: {docker}; podman: {podman}"
    )]
    NoneWorks {
        docker: Box<Unusable>,
        podman: Box<Unusable>,
    },
}

/// Why a program cannot serve as the container CLI.
#[derive(Debug, thiserror::Error)]
pub enum Unusable {
    #[error(transparent)]
    Failed(CliError),
    /// What its `--version` printed first.
    #[error("`--version` names neither docker nor podman: {}", printable(.0))]
    Unrecognised(String),
}

/// The lines of a command's output after an error's message.
struct Tail<'a>(&'a [String]);

impl fmt::Display for Tail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        write!(f, "; its last {} lines:", self.0.len())?;
        for line in self.0 {
            write!(f, "\n  | {}", printable(line))?;
        }
        Ok(())
    }
}

impl CliError {
    /// The last lines of the command's output (empty when it did not run).
    pub fn tail(&self) -> &[String] {
        match self {
            CliError::Failed { tail, .. }
            | CliError::TimedOut { tail, .. }
            | CliError::NoDigest { tail, .. } => tail,
            CliError::Spawn { .. }
            | CliError::BadRegistry { .. }
            | CliError::WrongPlatform { .. } => &[],
        }
    }
}

impl ContainerCli {
    /// The CLI `STACKC_CONTAINER_CLI` chooses (`docker`, `podman`, or a path to either), after
    /// checking that it answers; without it, docker if its daemon answers (`docker info`), else
    /// podman.
    pub fn detect() -> Result<ContainerCli, DetectError> {
        ContainerCli::detect_from(std::env::var_os(CHOICE_VAR).as_deref(), Vec::new())
    }

    /// [`ContainerCli::detect`] with the choice given, and `env` set for every command it runs
    /// (tests point podman at a throwaway store this way).
    pub fn detect_from(
        choice: Option<&OsStr>,
        env: Vec<(OsString, OsString)>,
    ) -> Result<ContainerCli, DetectError> {
        if let Some(choice) = choice.filter(|c| !c.is_empty()) {
            return ContainerCli::probe(Path::new(choice), env).map_err(|reason| {
                DetectError::Chosen {
                    choice: choice.to_string_lossy().into_owned(),
                    reason: Box::new(reason),
                }
            });
        }
        let docker = match ContainerCli::probe(Path::new("docker"), env.clone()) {
            Ok(cli) => return Ok(cli),
            Err(e) => e,
        };
        match ContainerCli::probe(Path::new("podman"), env) {
            Ok(cli) => Ok(cli),
            Err(podman) => Err(DetectError::NoneWorks {
                docker: Box::new(docker),
                podman: Box::new(podman),
            }),
        }
    }

    /// Which CLI `program` is (by what `--version` prints: podman's `docker` shim is podman),
    /// and whether it can work (`info`: docker's daemon answers, podman's store opens).
    fn probe(program: &Path, env: Vec<(OsString, OsString)>) -> Result<ContainerCli, Unusable> {
        let unknown = ContainerCli {
            kind: Kind::Docker,
            program: program.to_path_buf(),
            env,
        };
        let version = unknown
            .run_ok(&["--version".into()], None, PROBE_TIMEOUT)
            .map_err(Unusable::Failed)?;
        let first = version.stdout.first().cloned().unwrap_or_default();
        let lower = first.to_ascii_lowercase();
        let kind = if lower.starts_with("podman version") {
            Kind::Podman
        } else if lower.starts_with("docker version") {
            Kind::Docker
        } else {
            return Err(Unusable::Unrecognised(first));
        };
        let cli = ContainerCli { kind, ..unknown };
        cli.run_ok(&["info".into()], None, PROBE_TIMEOUT)
            .map_err(Unusable::Failed)?;
        Ok(cli)
    }

    /// Which CLI this is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The program run.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Builds `spec` for its platform and tags the image `image`. The build's output is kept
    /// only for the error: its last lines.
    ///
    /// podman builds in docker's image format (`--format=docker`): its default, OCI's, drops
    /// `HEALTHCHECK`, `SHELL` and `STOPSIGNAL`, which a Dockerfile written for docker means.
    ///
    /// The image built is checked to be for the platform asked: podman before buildah 1.41
    /// (Debian 12 has podman 4.3) reuses a cached step built for another platform when the
    /// stage starts `FROM scratch` (containers/podman#18723); the build is then made again
    /// without the cache, and an image still of another platform is an error.
    pub fn build(&self, spec: &BuildSpec, image: &ImageRef) -> Result<(), CliError> {
        self.build_once(spec, image, false)?;
        let wanted = spec.platform.as_str();
        if self.platform_of(image)? == wanted {
            return Ok(());
        }
        self.build_once(spec, image, true)?;
        let built = self.platform_of(image)?;
        if built == wanted {
            return Ok(());
        }
        Err(CliError::WrongPlatform {
            image: image.to_string(),
            built,
            wanted,
        })
    }

    fn build_once(
        &self,
        spec: &BuildSpec,
        image: &ImageRef,
        no_cache: bool,
    ) -> Result<(), CliError> {
        // Absolute, so that a context named `-x` is not read as a flag.
        let context = std::path::absolute(&spec.context).map_err(|source| CliError::Spawn {
            program: self.program.display().to_string(),
            source,
        })?;
        let mut args: Vec<OsString> = vec!["build".into()];
        if self.kind == Kind::Podman {
            args.push("--format=docker".into());
        }
        if no_cache {
            args.push("--no-cache".into());
        }
        args.push(format!("--platform={}", spec.platform).into());
        args.push(joined(
            "--file=",
            context.join(&spec.dockerfile).as_os_str(),
        ));
        args.push(format!("--tag={image}").into());
        if let Some(target) = &spec.target {
            args.push(format!("--target={target}").into());
        }
        for (k, v) in &spec.args {
            args.push(format!("--build-arg={k}={v}").into());
        }
        args.push(context.into_os_string());
        self.run_ok(&args, None, BUILD_TIMEOUT).map(|_| ())
    }

    /// The platform of a local image, `os/architecture` (`linux/arm64`).
    fn platform_of(&self, image: &ImageRef) -> Result<String, CliError> {
        Ok(self
            .inspect(image, "{{.Os}}/{{.Architecture}}")?
            .first()
            .map(|l| l.trim().to_string())
            .unwrap_or_default())
    }

    /// Logs in to `registry` (a host, with its port) as `user`; the password goes on standard
    /// input. The CLI keeps the credentials where it keeps them (podman: `REGISTRY_AUTH_FILE`,
    /// docker: its config or credential helper).
    pub fn login(&self, registry: &str, user: &str, password: &str) -> Result<(), CliError> {
        if !valid_registry(registry) {
            return Err(CliError::BadRegistry {
                registry: registry.to_string(),
            });
        }
        let mut args: Vec<OsString> = vec![
            "login".into(),
            format!("--username={user}").into(),
            "--password-stdin".into(),
        ];
        if self.kind == Kind::Podman && is_loopback(registry) {
            args.push("--tls-verify=false".into());
        }
        args.push(registry.into());
        self.run_ok(&args, Some(password.as_bytes()), LOGIN_TIMEOUT)
            .map(|_| ())
    }

    /// Pushes `image` and returns the digest of the manifest the registry now holds for it.
    pub fn push(&self, image: &ImageRef) -> Result<Digest, CliError> {
        match self.kind {
            Kind::Podman => self.push_podman(image),
            Kind::Docker => self.push_docker(image),
        }
    }

    /// podman writes the digest of what it pushed to `--digestfile`.
    fn push_podman(&self, image: &ImageRef) -> Result<Digest, CliError> {
        let dir = tempfile::tempdir().map_err(|source| CliError::Spawn {
            program: self.program.display().to_string(),
            source,
        })?;
        let file = dir.path().join("digest");
        let mut args: Vec<OsString> =
            vec!["push".into(), joined("--digestfile=", file.as_os_str())];
        if is_loopback(&image.registry) {
            args.push("--tls-verify=false".into());
        }
        args.push(image.to_string().into());
        let ran = self.run_ok(&args, None, PUSH_TIMEOUT)?;
        std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| Digest::parse(text.trim()))
            .ok_or_else(|| self.no_digest("push", image, ran.tail))
    }

    /// docker prints `<tag>: digest: sha256:... size: N` when it is done; the image's
    /// `RepoDigests` hold it too.
    fn push_docker(&self, image: &ImageRef) -> Result<Digest, CliError> {
        let ran = self.run_ok(
            &["push".into(), image.to_string().into()],
            None,
            PUSH_TIMEOUT,
        )?;
        if let Some(d) = ran.stdout.iter().rev().find_map(|l| digest_in_push_line(l)) {
            return Ok(d);
        }
        let repo = format!("{}/{}@", image.registry, image.repository);
        let digests: Vec<String> =
            serde_json::from_str(&self.inspect(image, "{{json .RepoDigests}}")?.join("\n"))
                .unwrap_or_default();
        digests
            .iter()
            .find_map(|d| d.strip_prefix(&repo).and_then(Digest::parse))
            .ok_or_else(|| self.no_digest("push", image, ran.tail))
    }

    /// `image inspect --format=FORMAT` of a local image: the lines it prints.
    fn inspect(&self, image: &ImageRef, format: &str) -> Result<Vec<String>, CliError> {
        let args = [
            "image".into(),
            "inspect".into(),
            format!("--format={format}").into(),
            image.to_string().into(),
        ];
        Ok(self.run_ok(&args, None, PROBE_TIMEOUT)?.stdout)
    }

    fn no_digest(&self, sub: &str, image: &ImageRef, tail: Vec<String>) -> CliError {
        CliError::NoDigest {
            command: self.command(sub),
            image: image.to_string(),
            tail,
        }
    }

    /// `podman build`: how an error names a command.
    fn command(&self, sub: &str) -> String {
        let name = self.program.file_name().map_or_else(
            || self.program.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        format!("{name} {sub}")
    }

    /// Runs the CLI with `args`, failing when it cannot start, exits with an error or
    /// outlives `timeout`.
    fn run_ok(
        &self,
        args: &[OsString],
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Ran, CliError> {
        let command = self.command(&args[0].to_string_lossy());
        let mut cmd = Command::new(&self.program);
        cmd.args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            // docker's BuildKit: a line per step, not a redrawn screen.
            .env("BUILDKIT_PROGRESS", "plain")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn().map_err(|source| CliError::Spawn {
            program: self.program.display().to_string(),
            source,
        })?;
        let ran = run(child, stdin, timeout);
        match ran.outcome {
            Outcome::Exited(status) if status.success() => Ok(ran),
            Outcome::Exited(status) => Err(CliError::Failed {
                command,
                status,
                tail: ran.tail,
            }),
            Outcome::TimedOut => Err(CliError::TimedOut {
                command,
                after: timeout,
                tail: ran.tail,
            }),
            Outcome::Lost(source) => Err(CliError::Spawn {
                program: self.program.display().to_string(),
                source,
            }),
        }
    }
}

/// `flag` with a path joined to it, as one argument.
fn joined(flag: &str, value: &OsStr) -> OsString {
    let mut out = OsString::from(flag);
    out.push(value);
    out
}

/// The digest in a line of `docker push`'s output: `c-1: digest: sha256:... size: 528`.
fn digest_in_push_line(line: &str) -> Option<Digest> {
    let (_, rest) = line.split_once("digest: ")?;
    Digest::parse(rest.split_whitespace().next()?)
}

/// Whether a registry host is on the loopback interface: `localhost`, `127.x.y.z` or `[::1]`,
/// with or without a port.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => registry.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A registry host: DNS labels (letters, digits, inner hyphens) separated by dots, or an IPv6
/// address in brackets, and an optional port.
fn valid_registry(registry: &str) -> bool {
    let (host, port) = match registry.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((ip, port)) => {
                if ip.parse::<std::net::Ipv6Addr>().is_err() {
                    return false;
                }
                (None, port)
            }
            None => return false,
        },
        None => match registry.find(':') {
            Some(i) => (Some(&registry[..i]), &registry[i..]),
            None => (Some(registry), ""),
        },
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| {
            !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
        });
    let host_ok = host.is_none_or(|h| {
        !h.is_empty()
            && h.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            })
    });
    port_ok && host_ok
}

/// A repository path: components of lower-case letters and digits, joined inside by `.`, `_`,
/// `__` or hyphens, separated by `/`.
fn valid_repository(repository: &str) -> bool {
    repository.len() <= 255
        && repository.split('/').all(|component| {
            let b = component.as_bytes();
            let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
            let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
                return false;
            };
            alnum(first)
                && alnum(last)
                && b.iter()
                    .all(|&c| alnum(c) || matches!(c, b'.' | b'_' | b'-'))
                && !component.contains("..")
                && !component.contains("___")
                && !component.contains("._")
                && !component.contains("_.")
        })
}

/// A tag: a word character, then up to 127 word characters, dots and hyphens.
fn valid_tag(tag: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

impl ImageRef {
    /// `registry/repository:tag`, each part checked against the grammar of references.
    pub fn new(registry: &str, repository: &str, tag: &str) -> Result<ImageRef, RefError> {
        let bad = |part, value: &str| RefError {
            part,
            value: value.to_string(),
        };
        if !valid_registry(registry) {
            return Err(bad("registry", registry));
        }
        if !valid_repository(repository) {
            return Err(bad("repository", repository));
        }
        if !valid_tag(tag) {
            return Err(bad("tag", tag));
        }
        Ok(ImageRef {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: tag.to_string(),
        })
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The image by digest, as a Dockerrun names what was deployed:
    /// `registry/repository@sha256:...`.
    pub fn at(&self, digest: &Digest) -> String {
        format!("{}/{}@{}", self.registry, self.repository, digest)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

impl Digest {
    /// A digest from its text, when it is `sha256:` and 64 lower-case hex digits.
    pub fn parse(text: &str) -> Option<Digest> {
        let hex = text.strip_prefix("sha256:")?;
        (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Digest(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a command ended.
enum Outcome {
    Exited(ExitStatus),
    /// Killed at its deadline.
    TimedOut,
    /// Waiting for it failed.
    Lost(io::Error),
}

/// A command that ran: how it ended, its standard output's lines (the last
/// [`STDOUT_LINES`]), and the tail of its output for an error: the last [`TAIL_LINES`] of
/// standard output, then the last [`TAIL_LINES`] of standard error. The two streams are kept
/// apart, as the order of lines across two pipes is not known; a failing build's message is
/// on standard error, after what it ran.
struct Ran {
    outcome: Outcome,
    stdout: Vec<String>,
    tail: Vec<String>,
}

#[derive(Default)]
struct Capture {
    stdout: VecDeque<String>,
    stderr: VecDeque<String>,
}

impl Capture {
    fn push(&mut self, line: String, is_stdout: bool) {
        let (ring, max) = if is_stdout {
            (&mut self.stdout, STDOUT_LINES)
        } else {
            (&mut self.stderr, TAIL_LINES)
        };
        if ring.len() == max {
            ring.pop_front();
        }
        ring.push_back(line);
    }

    fn tail(&self) -> Vec<String> {
        let skip = self.stdout.len().saturating_sub(TAIL_LINES);
        let out = self.stdout.iter().skip(skip);
        out.chain(&self.stderr).cloned().collect()
    }
}

/// Feeds `input` to a started child, reads its output as it comes and waits for it until
/// `timeout`, killing it then.
fn run(mut child: Child, input: Option<&[u8]>, timeout: Duration) -> Ran {
    let deadline = Instant::now() + timeout;
    let capture = Arc::new(Mutex::new(Capture::default()));
    let (done, finished) = mpsc::channel::<()>();
    let mut readers = 0;
    let stdout = child
        .stdout
        .take()
        .map(|p| Box::new(p) as Box<dyn Read + Send>);
    let stderr = child
        .stderr
        .take()
        .map(|p| Box::new(p) as Box<dyn Read + Send>);
    for (pipe, is_stdout) in [(stdout, true), (stderr, false)] {
        let Some(pipe) = pipe else { continue };
        let capture = Arc::clone(&capture);
        let done = done.clone();
        readers += 1;
        std::thread::spawn(move || {
            read_lines(pipe, |line| {
                if let Ok(mut c) = capture.lock() {
                    c.push(line, is_stdout);
                }
            });
            let _ = done.send(());
        });
    }
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        // A child that exits without reading makes this fail; its status says why.
        let _ = stdin.write_all(input);
    }
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Outcome::Exited(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Outcome::TimedOut;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Outcome::Lost(e),
        }
    };
    let drained = Instant::now() + DRAIN_TIMEOUT;
    for _ in 0..readers {
        let left = drained.saturating_duration_since(Instant::now());
        if finished.recv_timeout(left).is_err() {
            break;
        }
    }
    let (stdout, tail) = match capture.lock() {
        Ok(c) => (c.stdout.iter().cloned().collect(), c.tail()),
        Err(_) => (Vec::new(), Vec::new()),
    };
    Ran {
        outcome,
        stdout,
        tail,
    }
}

/// Calls `each` with every line of `pipe` (lossy UTF-8, without its line end, at most
/// [`MAX_LINE`] bytes of it), whatever the pipe holds: no line grows without bound.
fn read_lines(pipe: impl Read, mut each: impl FnMut(String)) {
    let mut reader = BufReader::new(pipe);
    let mut line: Vec<u8> = Vec::new();
    loop {
        let buf = match reader.fill_buf() {
            Ok([]) => break,
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let (chunk, ends_line) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], true),
            None => (buf, false),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len() + usize::from(ends_line);
        reader.consume(used);
        if ends_line {
            each(finish_line(&mut line));
        }
    }
    if !line.is_empty() {
        each(finish_line(&mut line));
    }
}

/// A line as a terminal would leave it: a progress line redrawn after `\r` is its last draw.
fn finish_line(line: &mut Vec<u8>) -> String {
    let shown = line
        .split(|&b| b == b'\r')
        .rfind(|part| !part.is_empty())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(shown).into_owned();
    line.clear();
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, input: Option<&[u8]>, timeout: Duration) -> Ran {
        let child = Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh starts");
        run(child, input, timeout)
    }

    #[test]
    fn the_tail_is_the_last_lines_of_each_stream() {
        let ran = sh(
            "i=1; while [ $i -le 100 ]; do echo out $i; echo err $i >&2; i=$((i+1)); done; exit 3",
            None,
            Duration::from_secs(30),
        );
        assert!(matches!(ran.outcome, Outcome::Exited(s) if s.code() == Some(3)));
        let want: Vec<String> = (61..=100)
            .map(|i| format!("out {i}"))
            .chain((61..=100).map(|i| format!("err {i}")))
            .collect();
        assert_eq!(ran.tail, want);
        assert_eq!(ran.stdout.len(), 100);
        assert_eq!(ran.stdout[99], "out 100");
    }

    #[test]
    fn a_command_past_its_deadline_is_killed_with_what_it_printed() {
        let ran = sh(
            "echo started; exec sleep 30",
            None,
            Duration::from_millis(300),
        );
        assert!(matches!(ran.outcome, Outcome::TimedOut));
        assert_eq!(ran.tail, ["started"]);
    }

    #[test]
    fn input_goes_to_standard_input() {
        let ran = sh(
            "read x; echo got $x",
            Some(b"secret\n"),
            Duration::from_secs(30),
        );
        assert_eq!(ran.stdout, ["got secret"]);
    }

    #[test]
    fn lines_are_bounded() {
        let ran = sh(
            "head -c 100000 /dev/zero | tr '\\0' a; printf '\\r\\nb'",
            None,
            Duration::from_secs(30),
        );
        assert_eq!(ran.stdout.len(), 2);
        assert_eq!(ran.stdout[0].len(), MAX_LINE);
        assert_eq!(ran.stdout[1], "b");
    }

    #[test]
    fn a_redrawn_progress_line_is_its_last_draw() {
        // docker's classic builder: `Sending build context to Docker daemon  3.072kB\r\r\n`.
        let ran = sh(
            "printf 'Sending 1kB\\rSending 3kB\\r\\r\\nStep 1/2\\n'",
            None,
            Duration::from_secs(30),
        );
        assert_eq!(ran.stdout, ["Sending 3kB", "Step 1/2"]);
    }

    #[test]
    fn docker_push_prints_the_digest_last() {
        // `docker push`'s last line (docker 28, classic and containerd stores alike).
        let d = "sha256:".to_string() + &"ab".repeat(32);
        assert_eq!(
            digest_in_push_line(&format!("c-0123456789ab: digest: {d} size: 528")),
            Digest::parse(&d)
        );
        assert_eq!(digest_in_push_line("c-1: Pushed"), None);
        assert_eq!(digest_in_push_line("digest: sha256:abc size: 1"), None);
    }

    #[test]
    fn only_loopback_registries_are_plain_http() {
        for host in [
            "127.0.0.1:5000",
            "localhost:5000",
            "localhost",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "10.0.0.1:5000",
            "localhost.example.com",
            "128.0.0.1",
            "[::2]:5000",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn image_references_follow_the_grammar() {
        let ok = ImageRef::new("127.0.0.1:5000", "shop/server", "c-0123456789ab").expect("valid");
        assert_eq!(ok.to_string(), "127.0.0.1:5000/shop/server:c-0123456789ab");
        let d = Digest::parse(&format!("sha256:{}", "0".repeat(64))).expect("digest");
        assert_eq!(ok.at(&d), format!("127.0.0.1:5000/shop/server@{d}"));
        assert!(ImageRef::new("1.dkr.ecr.eu-west-1.amazonaws.com", "a/b-c_d.e", "v1.2").is_ok());
        assert!(ImageRef::new("[::1]:5000", "a", "t").is_ok());
        for (registry, repository, tag, part, value) in [
            ("-h", "a", "t", "registry", "-h"),
            ("host:", "a", "t", "registry", "host:"),
            ("host:port", "a", "t", "registry", "host:port"),
            ("a..b", "a", "t", "registry", "a..b"),
            ("h", "A", "t", "repository", "A"),
            ("h", "-a", "t", "repository", "-a"),
            ("h", "a//b", "t", "repository", "a//b"),
            ("h", "a/", "t", "repository", "a/"),
            ("h", "a", "-t", "tag", "-t"),
            ("h", "a", "", "tag", ""),
            ("h", "a", "t:1", "tag", "t:1"),
        ] {
            assert_eq!(
                ImageRef::new(registry, repository, tag),
                Err(RefError {
                    part,
                    value: value.to_string()
                }),
            );
        }
        assert_eq!(Digest::parse("sha256:ABC"), None);
    }
}
