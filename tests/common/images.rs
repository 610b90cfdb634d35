//! Real containers for the image tests (tests/images/README.md): podman with a throwaway store
//! that works as root in a container without systemd, and the CNCF distribution registry
//! (Debian's `docker-registry`) on a free loopback port. Both are removed when dropped. A test
//! that needs them fails, saying what to install, when they are missing.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stackc::images::{BuildSpec, ContainerCli, Platform};
use tempfile::TempDir;

/// What to run when a program of these tests is missing.
const INSTALL: &str = "apt-get install -y podman docker-registry busybox-static (tests/run.sh installs them; see tests/images/README.md)";

/// The user and password of [`Registry::with_login`]; `tests/images/htpasswd` holds their
/// bcrypt hash (cost 4: the registry checks it on every request).
pub const USER: &str = "stackc";
pub const PASSWORD: &str = "stackc-test-password";

/// The manifest types a registry may hold for an image, as a pull asks for them.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

/// `program`'s path, or a failure naming what to install.
pub fn require(program: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("`{program}` is not installed: {INSTALL}"))
}

/// A statically linked busybox, to `COPY` into a `FROM scratch` image and `RUN` there.
pub fn static_busybox() -> PathBuf {
    let path = require("busybox");
    let elf = std::fs::read(&path).expect("busybox is readable");
    assert!(
        !has_interpreter(&elf),
        "{} is linked dynamically: {INSTALL}",
        path.display()
    );
    path
}

/// Whether a 64-bit little-endian ELF executable has a `PT_INTERP` program header: a dynamic
/// loader to run it, which a `FROM scratch` image lacks.
fn has_interpreter(elf: &[u8]) -> bool {
    let num = |at: usize, len: usize| {
        elf.get(at..at + len).map_or(0, |b| {
            b.iter().rev().fold(0usize, |n, &x| n << 8 | usize::from(x))
        })
    };
    let (phoff, phentsize, phnum) = (num(0x20, 8), num(0x36, 2), num(0x38, 2));
    (0..phnum).any(|i| num(phoff + i * phentsize, 4) == 3)
}

/// podman with its own store in a temporary directory: the one place that says what podman
/// needs on these machines (as root, in a container, no systemd, cgroups v1 or hybrid).
pub struct Podman {
    dir: TempDir,
}

impl Podman {
    pub fn new() -> Podman {
        require("podman");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path();
        // vfs: a store of plain directories, no overlay mounts to leave behind or to nest in
        // the container's own overlay file system.
        std::fs::write(
            root.join("storage.conf"),
            format!(
                "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
                root.join("graph").display(),
                root.join("run").display()
            ),
        )
        .expect("storage.conf");
        // No systemd: cgroups through the file system, events to a file.
        std::fs::write(
            root.join("containers.conf"),
            format!(
                "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nevents_logfile_path = \"{}\"\n",
                root.join("events.log").display()
            ),
        )
        .expect("containers.conf");
        // podman refuses an auth file named by REGISTRY_AUTH_FILE that does not exist.
        std::fs::write(root.join("auth.json"), "{\"auths\":{}}").expect("auth.json");
        Podman { dir }
    }

    /// The variables that point podman at this store; a `RUN` step runs chrooted (crun's
    /// default isolation cannot create a container under cgroups v1 or hybrid here).
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        let root = self.dir.path();
        vec![
            (
                "CONTAINERS_STORAGE_CONF".into(),
                root.join("storage.conf").into(),
            ),
            (
                "CONTAINERS_CONF".into(),
                root.join("containers.conf").into(),
            ),
            ("BUILDAH_ISOLATION".into(), "chroot".into()),
            ("REGISTRY_AUTH_FILE".into(), root.join("auth.json").into()),
        ]
    }

    /// The container CLI, chosen as `STACKC_CONTAINER_CLI=podman` chooses it.
    pub fn cli(&self) -> ContainerCli {
        ContainerCli::detect_from(Some("podman".as_ref()), self.env())
            .unwrap_or_else(|e| panic!("podman does not work: {e}"))
    }

    /// `podman ARGS` with this store; its standard output, after asserting that it succeeded.
    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("podman")
            .args(args)
            .envs(self.env())
            .stdin(Stdio::null())
            .output()
            .expect("podman runs");
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every path in `image`'s file system under `dir`, relative to it, sorted (the image is
    /// mounted, which needs no container).
    pub fn files(&self, image: &str, dir: &str) -> Vec<String> {
        let root = PathBuf::from(self.run(&["image", "mount", image]).trim());
        let base = root.join(dir.trim_start_matches('/'));
        let mut out = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("the image's directory") {
                let p = e.expect("an entry").path();
                let rel = p.strip_prefix(&base).expect("under base");
                out.push(rel.to_string_lossy().into_owned());
                if p.symlink_metadata().expect("lstat").is_dir() {
                    stack.push(p);
                }
            }
        }
        self.run(&["image", "unmount", image]);
        out.sort();
        out
    }
}

impl Default for Podman {
    fn default() -> Self {
        Podman::new()
    }
}

/// The CNCF distribution registry on a free loopback port, with its storage in a temporary
/// directory; stopped when dropped.
pub struct Registry {
    child: Child,
    dir: TempDir,
    pub port: u16,
    login: bool,
}

impl Registry {
    /// A registry anyone may push to.
    pub fn start() -> Registry {
        Registry::start_with(false)
    }

    /// A registry that takes pushes only from [`USER`] with [`PASSWORD`] (HTTP basic auth
    /// over plain HTTP: loopback only).
    pub fn with_login() -> Registry {
        Registry::start_with(true)
    }

    fn start_with(login: bool) -> Registry {
        let program = require("docker-registry");
        // A port found free may be taken before the registry binds it: try another then.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let dir = tempfile::tempdir().expect("a temporary directory");
            let auth = if login {
                let htpasswd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/images/htpasswd");
                format!(
                    "auth:\n  htpasswd:\n    realm: stackc-test\n    path: {}\n",
                    htpasswd.display()
                )
            } else {
                String::new()
            };
            let config = format!(
                "version: 0.1\n\
                 log:\n  level: error\n  accesslog:\n    disabled: false\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: stackc-test\n\
                 health:\n  storagedriver:\n    enabled: false\n{auth}",
                dir.path().join("data").display()
            );
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).expect("registry config");
            let log = |name: &str| {
                std::fs::File::create(dir.path().join(name)).expect("registry log file")
            };
            let child = Command::new(&program)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log("access.log"))
                .stderr(log("error.log"))
                .spawn()
                .expect("docker-registry starts");
            let mut registry = Registry {
                child,
                dir,
                port,
                login,
            };
            if registry.wait_ready() {
                return registry;
            }
        }
        panic!("the registry did not start on a free port in 5 tries");
    }

    /// Whether `/v2/` answers before the registry exits or 10 s pass.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(r) = self.request("GET", "/v2/", &[]) {
                if r.status == 200 || r.status == 401 {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// `127.0.0.1:PORT`, as image references name it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The digest of the manifest `repository:reference` names, from the registry's
    /// `Docker-Content-Digest` (`HEAD /v2/<name>/manifests/<reference>`), or None when it
    /// holds none.
    pub fn manifest_digest(&self, repository: &str, reference: &str) -> Option<String> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let r = self
            .request("HEAD", &path, &[("Accept", MANIFEST_TYPES)])
            .expect("the registry answers");
        if r.status == 404 {
            return None;
        }
        assert_eq!(r.status, 200, "HEAD {path}");
        r.headers
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("docker-content-digest"))
            .map(|(_, v)| v)
    }

    /// The JSON document at `path` (a manifest, an image config), after asserting a 200.
    pub fn json(&self, path: &str) -> serde_json::Value {
        let r = self
            .request("GET", path, &[("Accept", MANIFEST_TYPES)])
            .expect("the registry answers");
        let body = String::from_utf8_lossy(&r.body);
        assert_eq!(r.status, 200, "GET {path}: {body}");
        serde_json::from_slice(&r.body).expect("JSON from the registry")
    }

    /// The architecture of the image `repository:reference`, from its config.
    pub fn architecture(&self, repository: &str, reference: &str) -> String {
        let manifest = self.json(&format!("/v2/{repository}/manifests/{reference}"));
        let config = manifest["config"]["digest"]
            .as_str()
            .expect("a config digest");
        let config = self.json(&format!("/v2/{repository}/blobs/{config}"));
        config["architecture"]
            .as_str()
            .expect("an architecture")
            .to_string()
    }

    /// Every manifest pushed so far, as `repository:reference`, from the access log: a
    /// successful `PUT /v2/<name>/manifests/<reference>`.
    pub fn manifest_pushes(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        log.lines()
            .filter_map(|line| {
                let request = line.split('"').nth(1)?;
                let status = line.split('"').nth(2)?.split_whitespace().next()?;
                let path = request.strip_prefix("PUT /v2/")?.split(' ').next()?;
                let (name, reference) = path.split_once("/manifests/")?;
                (status == "201").then(|| format!("{name}:{reference}"))
            })
            .collect()
    }

    /// One HTTP/1.1 request over a fresh connection.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> std::io::Result<Response> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.host()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if self.login {
            let token = base64(format!("{USER}:{PASSWORD}").as_bytes());
            req.push_str(&format!("Authorization: Basic {token}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| std::io::Error::other("no end of headers"))?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other("no status"))?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect::<Vec<_>>();
        let mut body = raw[split + 4..].to_vec();
        let chunked = headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
        });
        if chunked {
            body = dechunk(&body);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// An HTTP response: status, headers, body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chunked HTTP body, joined.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&raw[..end])
                .split(';')
                .next()
                .unwrap_or_default()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&raw[start..(start + size).min(raw.len())]);
        raw = raw.get(start + size + 2..).unwrap_or_default();
    }
    out
}

/// Standard base64 with padding (HTTP basic auth).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The build of `context`'s `Dockerfile` for linux/amd64, no target, no arguments.
pub fn spec(context: &Path) -> BuildSpec {
    BuildSpec {
        context: context.to_path_buf(),
        dockerfile: PathBuf::from("Dockerfile"),
        target: None,
        args: BTreeMap::new(),
        platform: Platform::LinuxAmd64,
    }
}

/// Writes `files` (relative path, content) under `dir`, creating folders.
pub fn write_tree(dir: &Path, files: &[(&str, &str)]) {
    for (rel, content) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folders");
        }
        std::fs::write(&path, content).expect("write a file");
    }
}
