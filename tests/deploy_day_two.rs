//! Day two, end to end against the emulator: `stackc status` (exit 0 healthy, 1 not, 2 not
//! deployed) and `stackc rollback` (the versions, and deploying an earlier one through the
//! health gate).

mod common;

use common::{boto, moto, ok, stackc, text, write_program};
use serde_json::Value;

const PROGRAM: &str = r#"
stack shop { region = "us-east-1" }

environment shop-env { }

service web {
  image     = "nginx:1.27"
  memory    = 128 MiB
  essential = true
  ports     = [80:80]
  env {
    PGHOST     = db.host
    PGPASSWORD = db.password
  }
}

postgres db {
  database            = "shop"
  deletion_protection = false
}

redis cache { }

firewall {
  allow 80 from internet to web
  allow db from web
}
"#;

fn status_json(url: &str, file: &str) -> (Option<i32>, Value) {
    let out = stackc(url, &["status", file, "--format", "json"], &[]);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("status --format json is JSON ({e}): {}", text(&out)));
    (out.status.code(), v)
}

fn version(url: &str) -> String {
    boto(url, "elasticbeanstalk", "c.describe_environments(EnvironmentNames=['shop-env'], IncludeDeleted=False)['Environments'][0]['VersionLabel']")
        .as_str()
        .expect("a version label")
        .to_string()
}

#[test]
fn status_says_whether_the_stack_is_deployed_and_healthy() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let file = write_program(
        dir.path(),
        "shop.stack",
        &PROGRAM.replace("redis cache { }\n", ""),
        &[],
    );
    let f = file.to_str().unwrap();

    let (code, s) = status_json(&url, f);
    assert_eq!(code, Some(2), "not deployed: {s}");
    assert_eq!(s["status"], Value::Null);

    ok(&stackc(&url, &["apply", f, "--yes"], &[]));
    let (code, s) = status_json(&url, f);
    assert_eq!(code, Some(0), "{s}");
    assert_eq!(
        (s["status"].as_str(), s["health"].as_str()),
        (Some("Ready"), Some("Green")),
        "{s}"
    );
    assert_eq!(s["running"]["label"], version(&url).as_str());
    assert_eq!(
        s["running"]["images"],
        serde_json::json!([["web", "nginx:1.27"]]),
        "{s}"
    );
    assert!(
        s["url"].as_str().is_some_and(|u| u.starts_with("http://")),
        "{s}"
    );
    assert_eq!(s["stores"][0]["status"], "available", "{s}");
    assert_eq!(s["stores"][0]["protected"], false, "{s}");
    let human = ok(&stackc(&url, &["status", f], &[]));
    assert!(
        human.contains("environment shop-env of stack shop: Ready, Green"),
        "{human}"
    );
    assert!(human.contains("web: nginx:1.27"), "{human}");

    // A version that fails, kept for inspection: status is not healthy and says why.
    let bad = write_program(
        dir.path(),
        "bad.stack",
        &std::fs::read_to_string(&file).unwrap(),
        &[("nginx:1.27", "nginx:does-not-exist")],
    );
    let out = stackc(
        &url,
        &["apply", bad.to_str().unwrap(), "--yes", "--no-rollback"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (code, s) = status_json(&url, f);
    assert_eq!(code, Some(1), "{s}");
    assert_eq!(s["health"], "Red", "{s}");
    assert!(
        s["causes"]["environment"]
            .to_string()
            .contains("Command failed"),
        "{s}"
    );
    let human = stackc(&url, &["status", f], &[]);
    assert!(text(&human).contains("cause: "), "{}", text(&human));
}

#[test]
fn rollback_deploys_an_earlier_version_through_the_health_gate() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let v1 = write_program(dir.path(), "shop.stack", PROGRAM, &[]);
    ok(&stackc(
        &url,
        &["apply", v1.to_str().unwrap(), "--yes"],
        &[],
    ));
    let first = version(&url);
    let v2 = write_program(
        dir.path(),
        "shop.stack",
        PROGRAM,
        &[("nginx:1.27", "nginx:1.28")],
    );
    let f = v2.to_str().unwrap();
    ok(&stackc(&url, &["apply", f, "--yes"], &[]));
    let second = version(&url);
    assert_ne!(first, second);

    let list = ok(&stackc(&url, &["rollback", f, "--list"], &[]));
    let lines: Vec<&str> = list.lines().collect();
    assert!(
        lines[0].starts_with(&second) && lines[0].ends_with("(running)"),
        "{list}"
    );
    assert!(lines[1].starts_with(&first), "{list}");

    // Without --yes and without a terminal, nothing happens.
    let out = stackc(&url, &["rollback", f], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(version(&url), second);

    let out = ok(&stackc(&url, &["rollback", f, "--yes"], &[]));
    assert!(
        out.contains(&format!("Rolled back from {second} to {first}")),
        "{out}"
    );
    assert_eq!(version(&url), first);
    let (code, _) = status_json(&url, f);
    assert_eq!(code, Some(0));
    // And forward again, by name.
    ok(&stackc(
        &url,
        &["rollback", f, "--to", &second, "--yes"],
        &[],
    ));
    assert_eq!(version(&url), second);
    let out = stackc(
        &url,
        &["rollback", f, "--to", "v-nosuchversion", "--yes"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("has no version v-nosuchversion"),
        "{}",
        text(&out)
    );
}
