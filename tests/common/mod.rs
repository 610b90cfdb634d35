//! Shared support of the integration tests that talk to AWS: the moto emulator and the fault
//! proxy from `tests/support/`, started on free loopback ports and stopped when dropped, and
//! a runner for the real `stackc` binary pointed at them; `images.rs`: podman and a container
//! registry for the tests of images; and what other tests share (the examples, an import
//! context that reads the files beside a compose file).

#![allow(dead_code)]

pub mod images;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};

/// The Python of the test venv: `STACKC_TEST_PYTHON`, else `<repo>/.venv/bin/python`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("STACKC_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        p.exists(),
        "no test venv at {}: run `bash tests/support/setup-venv.sh` (or `bash tests/run.sh`)",
        p.display()
    );
    p
}

/// A helper process that prints `READY <port>` and exits when its stdin closes.
pub struct Server {
    child: Child,
    // Held open: dropping it tells the server to exit.
    _stdin: ChildStdin,
    pub port: u16,
}

impl Server {
    fn start(script: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/support")
            .join(script);
        let mut cmd = Command::new(python());
        cmd.arg(&path)
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("READY line");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{script} did not start: {line:?}"));
        Server {
            child,
            _stdin: stdin,
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The moto server with stackc's patches.
pub fn moto() -> Server {
    moto_with(&[])
}

/// [`moto`] with variables of its own (`STACKC_ECR_REGISTRY`: the registry whose images
/// stand for ECR's, `tests/support/moto_patches/ecr.py`).
pub fn moto_with(env: &[(&str, &str)]) -> Server {
    Server::start("stackc_moto.py", &[], env)
}

/// The fault proxy in front of `upstream`, with extra flags (`--throttle-rate 0.3`, ...).
pub fn proxy(upstream: &Server, flags: &[&str]) -> Server {
    let up = upstream.url();
    let mut args = vec!["--upstream", up.as_str()];
    args.extend_from_slice(flags);
    Server::start("faultproxy.py", &args, &[])
}

/// The proxy's call statistics (`GET /__proxy/stats`).
pub fn proxy_stats(proxy: &Server) -> serde_json::Value {
    let out = Command::new(python())
        .args(["-c", &format!("import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('{}/__proxy/stats').read().decode())", proxy.url())])
        .output()
        .expect("python runs");
    serde_json::from_slice(&out.stdout).expect("stats are JSON")
}

/// `POST /__proxy/reset` or `/__proxy/config` with a JSON body.
pub fn proxy_post(proxy: &Server, path: &str, body: &str) {
    let status = Command::new(python())
        .args([
            "-c",
            &format!(
                "import urllib.request; urllib.request.urlopen(urllib.request.Request('{}/__proxy/{path}', data={body:?}.encode(), method='POST'))",
                proxy.url()
            ),
        ])
        .status()
        .expect("python runs");
    assert!(status.success(), "proxy {path} failed");
}

/// Runs the real binary against `endpoint` with test credentials.
pub fn stackc(endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackc"));
    cmd.args(args)
        .arg("--endpoint-url")
        .arg(endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("STACKC_POLL_MS", "20")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("stackc runs")
}

/// A read through boto3 in the venv: `expr` is a Python expression over `c` (the client),
/// printed as JSON.
pub fn boto(endpoint: &str, service: &str, expr: &str) -> serde_json::Value {
    boto_in(endpoint, None, service, expr)
}

/// [`boto`] in another account than the tests' (`123456789012`) when `account` is given: a
/// role assumed there (how the emulator serves several accounts).
pub fn boto_in(
    endpoint: &str,
    account: Option<&str>,
    service: &str,
    expr: &str,
) -> serde_json::Value {
    let test_keys = "aws_access_key_id='testing', aws_secret_access_key='testing'";
    let keys = match account {
        None => format!("keys = dict({test_keys})\n"),
        Some(a) => format!(
            "k = boto3.client('sts', endpoint_url='{endpoint}', region_name='us-east-1', {test_keys})\
             .assume_role(RoleArn='arn:aws:iam::{a}:role/tests', RoleSessionName='tests')['Credentials']\n\
             keys = dict(aws_access_key_id=k['AccessKeyId'], aws_secret_access_key=k['SecretAccessKey'], \
             aws_session_token=k['SessionToken'])\n"
        ),
    };
    let script = format!(
        "import boto3, json, sys\n\
         {keys}\
         c = boto3.client('{service}', endpoint_url='{endpoint}', region_name='us-east-1', **keys)\n\
         r = {expr}\n\
         if isinstance(r, dict): r.pop('ResponseMetadata', None)\n\
         sys.stdout.write(json.dumps(r, default=str))\n"
    );
    let out = Command::new(python())
        .args(["-c", &script])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "boto3 {service}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from boto3")
}

/// Every `examples/*.stack`, sorted, with its source. Fails when there are fewer than four, so
/// a test over the examples cannot pass vacuously.
pub fn examples() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "stack"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 4,
        "expected at least 4 examples in {}, found {paths:?}",
        dir.display()
    );
    paths
        .into_iter()
        .map(|p| {
            let src =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, src)
        })
        .collect()
}

/// The folder of a test's npm packages (`tests/DIR`, installed by `npm ci` in tests/run.sh),
/// or None, after saying that the test is skipped, when `package` is not installed there.
pub fn npm_support(dir: &str, package: &str) -> Option<PathBuf> {
    let support = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    if support.join("node_modules").join(package).exists() {
        Some(support)
    } else {
        println!("skipped: run `npm ci --prefix tests/{dir}` (tests/run.sh does)");
        None
    }
}

/// Runs a Node script of the test support with `args` and reads the JSON it prints.
pub fn node_json<T: serde::de::DeserializeOwned>(
    script: &Path,
    args: impl IntoIterator<Item = impl AsRef<std::ffi::OsStr>>,
) -> T {
    let out = std::process::Command::new("node")
        .arg(script)
        .args(args)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the script")
}

/// stdout and stderr of a run, together.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The run's text, after asserting that it succeeded.
pub fn ok(out: &Output) -> String {
    let t = text(out);
    assert!(
        out.status.success(),
        "stackc failed ({:?}):\n{t}",
        out.status.code()
    );
    t
}

/// `src` with text replaced (each must be there), written to `dir/name`.
pub fn write_program(dir: &Path, name: &str, src: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut src = src.to_string();
    for (a, b) in edits {
        assert!(src.contains(a), "{a:?} not in the program");
        src = src.replace(a, b);
    }
    let p = dir.join(name);
    std::fs::write(&p, src).expect("write program");
    p
}

/// An import context with no shell variables, reading the files beside the imported one (the
/// CLI's, without the shell).
pub struct Beside<'a>(pub &'a Path);

impl stackc::import::Context for Beside<'_> {
    fn var(&self, _: &str) -> Option<String> {
        None
    }

    fn file(&self, path: &str) -> Option<Result<String, String>> {
        let dir = self.0.parent().expect("a folder");
        std::fs::read_to_string(dir.join(path)).ok().map(Ok)
    }
}

/// `\n`, `\r`, `\t`, `\e`, `\0`, `\\`, `\xHH` (a byte) and `\u{H...}` (a character) in a
/// header value or an escaped body of a hostile case (`tests/hostile/README.md`).
pub fn unescape_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let c = if c != '\\' {
            c
        } else {
            match chars.next() {
                Some('n') => '\n',
                Some('r') => '\r',
                Some('t') => '\t',
                Some('e') => '\u{1b}',
                Some('0') => '\0',
                Some('\\') => '\\',
                Some('x') => {
                    let hex: String = chars.by_ref().take(2).collect();
                    out.push(u8::from_str_radix(&hex, 16).expect("\\xHH: two hex digits"));
                    continue;
                }
                Some('u') => {
                    assert_eq!(chars.next(), Some('{'), "\\u{{...}} in {s}");
                    let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).expect("\\u{H...}: hex digits"))
                        .expect("\\u{H...}: a character")
                }
                other => panic!("unknown escape \\{other:?} in {s}"),
            }
        };
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }
    out
}
