//! A deploy configuration that cannot work fails before the first call, all of it at once, and
//! an endpoint that cannot be reached fails at the first attempt, naming its URL and service.
//! The endpoints here are listeners of the test itself on 127.0.0.1 that count what reaches
//! them: a configuration problem must leave them untouched.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

const PROGRAM: &str = r#"
stack shop { }

environment shop-env { }

service web {
  image     = "nginx:1.27"
  memory    = 128 MiB
  essential = true
  ports     = [80:80]
}

postgres db {
  database            = "shop"
  password            = secret("SHOP_DB_PASSWORD")
  deletion_protection = false
}

firewall {
  allow 80 from internet to web
  allow db from web
}
"#;

/// Runs stackc with nothing of this machine's environment: no credentials, config files or
/// instance metadata unless `env` gives them.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackc"));
    cmd.args(args)
        .env_clear()
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("stackc runs")
}

const GOOD: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
    ("SHOP_DB_PASSWORD", "correct-horse"),
];

/// GOOD with `changes` over it; a value of `None` removes the variable.
fn env_with<'a>(changes: &[(&'a str, Option<&'a str>)]) -> Vec<(&'a str, &'a str)> {
    let mut env: Vec<(&str, &str)> = GOOD
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .copied()
        .collect();
    env.extend(changes.iter().filter_map(|(k, v)| v.map(|v| (*k, v))));
    env
}

/// An endpoint that reads each request's head, records its `amz-sdk-request` header
/// (`attempt=N; max=M`) and hangs up without an answer.
struct HangUp {
    url: String,
    attempts: Arc<Mutex<Vec<String>>>,
}

fn hang_up() -> HangUp {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let seen = attempts.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let attempt = attempt_of(&stream);
            seen.lock().expect("lock").push(attempt);
        }
    });
    HangUp { url, attempts }
}

/// The `amz-sdk-request` header of the request on `stream` (`attempt=N; max=M`).
fn attempt_of(stream: &TcpStream) -> String {
    let mut head = BufReader::new(stream);
    let mut line = String::new();
    let mut attempt = String::from("(none)");
    while head.read_line(&mut line).is_ok_and(|n| n > 2) {
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("amz-sdk-request") {
                attempt = v.trim().to_string();
            }
        }
        line.clear();
    }
    attempt
}

fn program(dir: &Path) -> PathBuf {
    let p = dir.join("shop.stack");
    std::fs::write(&p, PROGRAM).expect("write program");
    p
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_configuration_problem_is_reported_at_once_before_any_call() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = program(dir.path());
    let endpoint = hang_up();
    let env = env_with(&[
        ("AWS_REGION", Some("../../etc")),
        ("AWS_ACCESS_KEY_ID", None),
        ("AWS_SECRET_ACCESS_KEY", None),
        ("SHOP_DB_PASSWORD", None),
    ]);
    let f = file.to_str().expect("utf-8 path");
    let out = run(
        dir.path(),
        &["apply", f, "--yes", "--endpoint-url", &endpoint.url],
        &env,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for expected in [
        "the environment variable SHOP_DB_PASSWORD is not set (the program reads it with secret(\"SHOP_DB_PASSWORD\"))",
        "the AWS region \"../../etc\" (from AWS_REGION) is not a region",
        "no AWS credentials: set AWS_ACCESS_KEY_ID",
        "nothing was done",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(!err.contains("reading the state"), "{err}");
    assert!(
        endpoint.attempts.lock().expect("lock").is_empty(),
        "a call was made"
    );
}

/// Flags, environment, and what stderr must say.
type Case<'a> = (&'a [&'a str], Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn an_endpoint_or_region_that_cannot_work_is_refused_with_its_flaw() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = program(dir.path());
    let f = file.to_str().expect("utf-8 path");
    let endpoint = hang_up();
    let cases: [Case; 6] = [
        (
            &["--endpoint-url", ""],
            env_with(&[]),
            "the endpoint URL \"\" (from --endpoint-url or AWS_ENDPOINT_URL) is empty",
        ),
        (
            &["--endpoint-url", "ftp://127.0.0.1:1"],
            env_with(&[]),
            "must start with http:// or https://",
        ),
        (
            &["--endpoint-url", "http://127.0.0.1:99999"],
            env_with(&[]),
            "has a port that is not a number from 1 to 65535",
        ),
        (
            &[],
            env_with(&[("AWS_ENDPOINT_URL_EC2", Some("http://\r127.0.0.1:1"))]),
            "(from AWS_ENDPOINT_URL_EC2) contains a space or a control character",
        ),
        (
            &["--endpoint-url", &endpoint.url],
            env_with(&[("AWS_REGION", Some("us-east-1\r"))]),
            "the AWS region \"us-east-1\\r\" (from AWS_REGION) is not a region",
        ),
        (
            &["--endpoint-url", &endpoint.url],
            env_with(&[("SHOP_DB_PASSWORD", Some(""))]),
            "the environment variable SHOP_DB_PASSWORD is empty",
        ),
    ];
    for (flags, env, expected) in cases {
        let mut args = vec!["plan", f];
        args.extend_from_slice(flags);
        let out = run(dir.path(), &args, &env);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{flags:?}: {err}");
        assert!(
            err.contains(expected),
            "{flags:?}: missing {expected:?} in:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(
        endpoint.attempts.lock().expect("lock").is_empty(),
        "a call was made"
    );
}

#[test]
fn a_refused_connection_fails_at_once_naming_the_url_and_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = program(dir.path());
    // A port nobody listens on: bound, then released.
    let url = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("address"))
    };
    let out = run(
        dir.path(),
        &[
            "plan",
            file.to_str().expect("utf-8"),
            "--endpoint-url",
            &url,
        ],
        &env_with(&[]),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // The refresh reads in parallel: whichever call fails first names its service.
    let named = [
        "EC2",
        "IAM",
        "RDS",
        "ElastiCache",
        "Elastic Beanstalk",
        "S3",
    ]
    .iter()
    .any(|s| {
        err.contains(&format!(
            "cannot connect to {url} ({s}): Connection refused"
        ))
    });
    assert!(named, "{err}");
    assert!(!err.contains("NoAwsError"), "{err}");
}

#[test]
fn no_call_is_retried_before_its_service_has_answered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = program(dir.path());
    let endpoint = hang_up();
    let out = run(
        dir.path(),
        &[
            "plan",
            file.to_str().expect("utf-8"),
            "--endpoint-url",
            &endpoint.url,
        ],
        &env_with(&[]),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot connect to {} (", endpoint.url)),
        "{err}"
    );
    assert_first_attempts_only(&endpoint.attempts.lock().expect("lock"));
}

/// The SDK numbers the attempts of one call (`attempt=N; max=M`): a retry is `attempt=2`.
/// A connection whose request never arrived (stackc had already exited) counts for nothing.
fn assert_first_attempts_only(attempts: &[String]) {
    let sent: Vec<&String> = attempts
        .iter()
        .filter(|a| a.starts_with("attempt="))
        .collect();
    assert!(
        !sent.is_empty(),
        "no call reached the endpoint: {attempts:?}"
    );
    assert!(
        sent.iter().all(|a| a.starts_with("attempt=1;")),
        "{attempts:?}"
    );
}

#[test]
fn a_silent_endpoint_fails_after_the_read_timeout_not_after_ten_attempts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = program(dir.path());
    // Accepted by the kernel (the backlog), never read, never answered.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("address"));
    let out = run(
        dir.path(),
        &[
            "plan",
            file.to_str().expect("utf-8"),
            "--endpoint-url",
            &url,
        ],
        &env_with(&[]),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot connect to {url} (")) && err.contains("timed out"),
        "{err}"
    );
    // The requests wait in the kernel's buffers: each is one attempt, numbered by the SDK.
    silent.set_nonblocking(true).expect("nonblocking");
    let mut attempts = Vec::new();
    while let Ok((s, _)) = silent.accept() {
        s.set_nonblocking(false).expect("blocking");
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        attempts.push(attempt_of(&s));
    }
    assert_first_attempts_only(&attempts);
}
