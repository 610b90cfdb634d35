//! Day two, end to end against the emulator: `stackc status` (exit 0 healthy, 1 not, 2 not
//! deployed), `stackc rollback` (the versions, and deploying an earlier one through the
//! health gate), and the versions apply keeps (`keep_versions`).

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

/// The labels of the application's versions, newest first.
fn versions(url: &str) -> Vec<String> {
    let v = boto(
        url,
        "elasticbeanstalk",
        "[v['VersionLabel'] for v in sorted(c.describe_application_versions(ApplicationName='shop')['ApplicationVersions'], key=lambda v: v['DateCreated'], reverse=True)]",
    );
    serde_json::from_value(v).expect("labels")
}

/// The keys of every object under `stackc/shop/` in any bucket.
fn bundles(url: &str) -> Vec<String> {
    let v = boto(
        url,
        "s3",
        "sorted(o['Key'] for b in c.list_buckets()['Buckets'] for o in c.list_objects_v2(Bucket=b['Name'], Prefix='stackc/shop/').get('Contents', []))",
    );
    serde_json::from_value(v).expect("keys")
}

#[test]
fn apply_keeps_the_newest_versions_and_deletes_older_ones_it_made() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let write = |image: &str| {
        let f = write_program(
            dir.path(),
            "shop.stack",
            PROGRAM,
            &[
                (
                    "environment shop-env { }",
                    "environment shop-env { keep_versions = 2 }",
                ),
                ("nginx:1.27", image),
            ],
        );
        f.to_str().unwrap().to_string()
    };
    let f = write("nginx:1.25");
    ok(&stackc(&url, &["apply", &f, "--yes"], &[]));
    // A version a person made, from a bundle of their own: not stackc's to delete.
    boto(
        &url,
        "s3",
        "(c.create_bucket(Bucket='mine'), c.put_object(Bucket='mine', Key='app.zip', Body=b'x'))[1]",
    );
    boto(
        &url,
        "elasticbeanstalk",
        "c.create_application_version(ApplicationName='shop', VersionLabel='manual-1', SourceBundle={'S3Bucket': 'mine', 'S3Key': 'app.zip'})",
    );
    let mut made = vec![version(&url)];
    for image in ["nginx:1.26", "nginx:1.27", "nginx:1.28"] {
        let out = ok(&stackc(&url, &["apply", &write(image), "--yes"], &[]));
        made.push(version(&url));
        if made.len() > 2 {
            assert!(out.contains("deleted 1 old application versions"), "{out}");
        }
    }
    // The two newest stackc made stay, with the one a person made; the older bundles are gone.
    let newest: Vec<String> = made.iter().rev().take(2).cloned().collect();
    let mut kept = versions(&url);
    kept.sort();
    let mut expected = [newest.clone(), vec!["manual-1".to_string()]].concat();
    expected.sort();
    assert_eq!(kept, expected);
    let mut keys: Vec<String> = newest
        .iter()
        .map(|l| format!("stackc/shop/{l}.zip"))
        .collect();
    keys.sort();
    assert_eq!(bundles(&url), keys);

    // A second apply of the same file deletes nothing more.
    let f = write("nginx:1.28");
    let again = ok(&stackc(&url, &["apply", &f, "--yes"], &[]));
    assert!(!again.contains("old application versions"), "{again}");
    assert_eq!(versions(&url).len(), 3);

    // Rolled back to the older of the two, then a new version: the one rolled back to is the
    // oldest of three, and goes once it no longer runs.
    ok(&stackc(&url, &["rollback", &f, "--yes"], &[]));
    assert_eq!(version(&url), newest[1]);
    ok(&stackc(
        &url,
        &["apply", &write("nginx:1.29"), "--yes"],
        &[],
    ));
    let mut now = versions(&url);
    now.sort();
    let mut expected = vec![version(&url), newest[0].clone(), "manual-1".to_string()];
    expected.sort();
    assert_eq!(now, expected);
}
