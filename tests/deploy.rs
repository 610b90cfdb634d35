//! Deploy end to end: the real `stackc` binary against the moto emulator (tests/support),
//! through the fault proxy, inspected with independent reads (boto3 in the test venv).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{boto, moto, proxy, proxy_post, proxy_stats, stackc};
use serde_json::Value;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: &std::process::Output) -> String {
    let t = text(out);
    assert!(
        out.status.success(),
        "stackc failed ({:?}):\n{t}",
        out.status.code()
    );
    t
}

/// A copy of a program in a temporary directory, with text replaced.
fn program(dir: &Path, from: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut src = std::fs::read_to_string(example(from)).expect("example");
    for (a, b) in edits {
        assert!(src.contains(a), "{a:?} not in {from}");
        src = src.replace(a, b);
    }
    let p = dir.join(from);
    std::fs::write(&p, src).expect("write program");
    p
}

fn mutating(stats: &Value) -> u64 {
    stats["mutating"].as_u64().expect("mutating count")
}

/// The resources of stack `complex-docker`, counted by independent reads.
fn inventory(endpoint: &str) -> Vec<(String, usize)> {
    let sgs = boto(
        endpoint,
        "ec2",
        "c.describe_security_groups(Filters=[{'Name':'tag:stackc:stack','Values':['complex-docker']}])['SecurityGroups']",
    );
    let dbs = boto(endpoint, "rds", "c.describe_db_instances()['DBInstances']");
    let caches = boto(
        endpoint,
        "elasticache",
        "c.describe_cache_clusters()['CacheClusters']",
    );
    let apps = boto(
        endpoint,
        "elasticbeanstalk",
        "c.describe_applications()['Applications']",
    );
    let versions = boto(
        endpoint,
        "elasticbeanstalk",
        "c.describe_application_versions(ApplicationName='complex-docker')['ApplicationVersions']",
    );
    let envs = boto(
        endpoint,
        "elasticbeanstalk",
        "c.describe_environments(IncludeDeleted=False)['Environments']",
    );
    let roles = boto(
        endpoint,
        "iam",
        "[r for r in c.list_roles()['Roles'] if r['RoleName'].startswith('complex-docker-')]",
    );
    let profiles = boto(
        endpoint,
        "iam",
        "c.list_instance_profiles()['InstanceProfiles']",
    );
    let n = |v: &Value| v.as_array().map_or(0, Vec::len);
    vec![
        ("security groups".into(), n(&sgs)),
        ("RDS instances".into(), n(&dbs)),
        ("cache clusters".into(), n(&caches)),
        ("applications".into(), n(&apps)),
        ("application versions".into(), n(&versions)),
        ("environments".into(), n(&envs)),
        ("roles".into(), n(&roles)),
        ("instance profiles".into(), n(&profiles)),
    ]
}

fn expected_inventory() -> Vec<(String, usize)> {
    [
        ("security groups", 3),
        ("RDS instances", 1),
        ("cache clusters", 1),
        ("applications", 1),
        ("application versions", 1),
        ("environments", 1),
        ("roles", 3),
        ("instance profiles", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[test]
fn apply_builds_the_reference_stack_and_a_second_apply_changes_nothing() {
    let aws = moto();
    let px = proxy(&aws, &[]);
    let file = example("complex-docker.stack");
    let f = file.to_str().unwrap();

    let plan = ok(&stackc(&px.url(), &["plan", f], &[]));
    assert!(
        plan.contains("+ RDS instance complex-docker-postgres (create)"),
        "{plan}"
    );
    ok(&stackc(&px.url(), &["apply", f, "--yes"], &[]));
    assert_eq!(inventory(&aws.url()), expected_inventory());

    // The environment runs the version built from this file, with the store endpoints.
    let env = boto(
        &aws.url(),
        "elasticbeanstalk",
        "c.describe_configuration_settings(ApplicationName='complex-docker', EnvironmentName='complex-docker-env')['ConfigurationSettings'][0]['OptionSettings']",
    );
    let opt = |ns: &str, name: &str| -> Option<String> {
        env.as_array()?
            .iter()
            .find(|o| o["Namespace"] == ns && o["OptionName"] == name)
            .and_then(|o| o["Value"].as_str().map(str::to_string))
    };
    let db = boto(
        &aws.url(),
        "rds",
        "c.describe_db_instances(DBInstanceIdentifier='complex-docker-postgres')['DBInstances'][0]",
    );
    assert_eq!(
        opt("aws:elasticbeanstalk:application:environment", "PGHOST").as_deref(),
        db["Endpoint"]["Address"].as_str()
    );
    let secret = opt(
        "aws:elasticbeanstalk:application:environmentsecrets",
        "PGPASSWORD",
    )
    .expect("PGPASSWORD secret");
    assert_eq!(
        secret,
        format!(
            "{}:password::",
            db["MasterUserSecret"]["SecretArn"].as_str().unwrap()
        )
    );
    assert_eq!(
        opt("aws:ec2:instances", "InstanceTypes").as_deref(),
        Some("t3.small")
    );
    // The instances may read that secret, and only it: Elastic Beanstalk fetches
    // `environmentsecrets` with the instance profile's role.
    let policy = boto(
        &aws.url(),
        "iam",
        "c.get_role_policy(RoleName='complex-docker-eb-ec2', PolicyName='read-managed-passwords')['PolicyDocument']",
    );
    assert_eq!(
        policy["Statement"],
        serde_json::json!([{
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": [db["MasterUserSecret"]["SecretArn"]],
        }]),
        "{policy}"
    );

    // Nothing to do the second time: zero mutating calls, at most 2 reads per resource.
    proxy_post(&px, "reset", "{}");
    let again = ok(&stackc(&px.url(), &["apply", f, "--yes"], &[]));
    assert!(again.contains("No changes"), "{again}");
    let stats = proxy_stats(&px);
    assert_eq!(mutating(&stats), 0, "{stats}");
    let resources = 28;
    assert!(
        stats["reads"].as_u64().unwrap() <= 2 * resources,
        "{} reads",
        stats["reads"]
    );

    // `plan --detailed-exitcode` says "no changes" with 0, and a change with 2.
    assert_eq!(
        stackc(&px.url(), &["plan", f, "--detailed-exitcode"], &[])
            .status
            .code(),
        Some(0)
    );
    let dir = tempfile::tempdir().unwrap();
    let bigger = program(
        dir.path(),
        "complex-docker.stack",
        &[(
            "instance_type = \"t3.small\"",
            "instance_type = \"t3.medium\"",
        )],
    );
    let out = stackc(
        &px.url(),
        &["plan", bigger.to_str().unwrap(), "--detailed-exitcode"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("aws:ec2:instances/InstanceTypes: \"t3.small\" → \"t3.medium\""),
        "{}",
        text(&out)
    );
}

#[test]
fn security_groups_admit_only_each_stores_port_from_the_environment() {
    let aws = moto();
    let f = example("complex-docker.stack");
    ok(&stackc(
        &aws.url(),
        &["apply", f.to_str().unwrap(), "--yes"],
        &[],
    ));
    let groups = boto(
        &aws.url(),
        "ec2",
        "c.describe_security_groups(Filters=[{'Name':'tag:stackc:stack','Values':['complex-docker']}])['SecurityGroups']",
    );
    let by_name = |n: &str| {
        groups
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["GroupName"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("no group {n}"))
    };
    let env = by_name("complex-docker-env");
    let env_id = env["GroupId"].as_str().unwrap();
    for (name, port) in [("complex-docker-db", 5432), ("complex-docker-cache", 6379)] {
        let g = by_name(name);
        let perms = g["IpPermissions"].as_array().unwrap();
        assert_eq!(perms.len(), 1, "{name}: {perms:?}");
        assert_eq!(perms[0]["FromPort"], port);
        assert_eq!(perms[0]["ToPort"], port);
        assert!(
            perms[0]["IpRanges"].as_array().unwrap().is_empty(),
            "{name} open to a CIDR"
        );
        let pairs = perms[0]["UserIdGroupPairs"].as_array().unwrap();
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0]["GroupId"], env_id);
    }
    let perms = env["IpPermissions"].as_array().unwrap();
    assert_eq!(perms.len(), 1, "{perms:?}");
    assert_eq!(perms[0]["FromPort"], 80);
    assert_eq!(perms[0]["IpRanges"][0]["CidrIp"], "0.0.0.0/0");
}

#[test]
fn apply_converges_with_throttling_unavailable_errors_and_broken_connections() {
    let aws = moto();
    let px = proxy(
        &aws,
        &[
            "--throttle-rate",
            "0.3",
            "--unavailable-rate",
            "0.05",
            "--reset-rate",
            "0.05",
            "--seed",
            "7",
        ],
    );
    let f = example("complex-docker.stack");
    ok(&stackc(
        &px.url(),
        &["apply", f.to_str().unwrap(), "--yes"],
        &[],
    ));
    let stats = proxy_stats(&px);
    let faults = |kind: &str| {
        stats["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["fault"] == kind)
            .count()
    };
    // Connections broken mid-run are retried like throttling (once a service has answered).
    for kind in ["throttle", "unavailable", "reset"] {
        assert!(faults(kind) > 0, "no {kind} fault was injected");
    }
    assert_eq!(inventory(&aws.url()), expected_inventory());
}

#[test]
fn an_interrupted_apply_is_finished_by_running_it_again() {
    let aws = moto();
    // Slow calls, so that the kill lands in the middle.
    let px = proxy(&aws, &["--latency-ms", "150"]);
    let f = example("complex-docker.stack");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args([
            "apply",
            f.to_str().unwrap(),
            "--yes",
            "--endpoint-url",
            &px.url(),
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("STACKC_POLL_MS", "20")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until some resources exist, then kill -9.
    let start = std::time::Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if mutating(&proxy_stats(&px)) >= 6 || start.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_ne!(
        inventory(&aws.url()),
        expected_inventory(),
        "the kill came too late to test anything"
    );
    ok(&stackc(
        &px.url(),
        &["apply", f.to_str().unwrap(), "--yes"],
        &[],
    ));
    assert_eq!(inventory(&aws.url()), expected_inventory());
}

#[test]
fn destroy_keeps_protected_stores_and_removes_the_rest() {
    let aws = moto();
    let f = example("complex-docker.stack");
    let f = f.to_str().unwrap();
    ok(&stackc(&aws.url(), &["apply", f, "--yes"], &[]));
    let out = ok(&stackc(&aws.url(), &["destroy", f, "--yes"], &[]));
    assert!(out.contains("deletion protection"), "{out}");
    let left: Vec<(String, usize)> = inventory(&aws.url())
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    // The protected database stays, with its security group; everything else is gone.
    assert_eq!(
        left,
        vec![
            ("security groups".to_string(), 1),
            ("RDS instances".to_string(), 1)
        ],
        "{out}"
    );
    // Destroying again changes nothing and succeeds.
    ok(&stackc(&aws.url(), &["destroy", f, "--yes"], &[]));
}

#[test]
fn a_password_never_appears_in_any_output() {
    let aws = moto();
    let dir = tempfile::tempdir().unwrap();
    let file = program(
        dir.path(),
        "complex-docker.stack",
        &[(
            "password   = managed",
            "password   = secret(\"DB_PASSWORD\")",
        )],
    );
    let f = file.to_str().unwrap();
    let password = "Zebra-Quokka-4471-unmistakable";
    let env = [("DB_PASSWORD", password)];
    let out_dir = dir.path().join("out");
    let mut all = String::new();
    all += &text(
        &Command::new(env!("CARGO_BIN_EXE_stackc"))
            .args(["build", f, "--out"])
            .arg(&out_dir)
            .env("DB_PASSWORD", password)
            .output()
            .unwrap(),
    );
    all += &ok(&stackc(&aws.url(), &["plan", f, "--format", "json"], &env));
    all += &ok(&stackc(&aws.url(), &["plan", f], &env));
    all += &ok(&stackc(&aws.url(), &["apply", f, "--yes"], &env));
    all += &ok(&stackc(&aws.url(), &["plan", f], &env));
    all += &ok(&stackc(&aws.url(), &["destroy", f, "--yes"], &env));
    assert!(!all.contains(password), "the password leaked:\n{all}");
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(password));
    }
    // It did reach AWS, where it belongs.
    let db = boto(
        &aws.url(),
        "rds",
        "c.describe_db_instances()['DBInstances']",
    );
    assert_eq!(db.as_array().unwrap().len(), 1);
    // A missing variable is an error before any change.
    let other = tempfile::tempdir().unwrap();
    let aws2 = moto();
    let file2 = program(
        other.path(),
        "complex-docker.stack",
        &[(
            "password   = managed",
            "password   = secret(\"DB_PASSWORD\")",
        )],
    );
    let out = stackc(
        &aws2.url(),
        &["apply", file2.to_str().unwrap(), "--yes"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("DB_PASSWORD"), "{}", text(&out));
    let sgs = boto(
        &aws2.url(),
        "ec2",
        "c.describe_security_groups(Filters=[{'Name':'tag:stackc:stack','Values':['complex-docker']}])['SecurityGroups']",
    );
    assert_eq!(sgs.as_array().unwrap().len(), 0, "nothing was created");
}

#[test]
fn a_name_taken_outside_the_stack_stops_apply_before_any_change() {
    let aws = moto();
    boto(
        &aws.url(),
        "rds",
        "c.create_db_instance(DBInstanceIdentifier='complex-docker-postgres', Engine='postgres', DBInstanceClass='db.t3.micro', MasterUsername='x', MasterUserPassword='12345678', AllocatedStorage=20)",
    );
    let px = proxy(&aws, &[]);
    let f = example("complex-docker.stack");
    let out = stackc(&px.url(), &["apply", f.to_str().unwrap(), "--yes"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("complex-docker-postgres"),
        "{}",
        text(&out)
    );
    assert_eq!(mutating(&proxy_stats(&px)), 0);
}

/// Whatever AWS echoes in an error, a secret stackc sent never reaches the terminal: every call
/// that carries one (the database's creation and its switch to a given password, the
/// environment's creation and its update with secret environment properties) answers with a
/// validation error that quotes every value of the request (the fault proxy's echo fault).
#[test]
fn secrets_are_scrubbed_from_every_error_that_echoes_them() {
    let aws = moto();
    let px = proxy(&aws, &[]);
    let dir = tempfile::tempdir().unwrap();
    let managed = program(
        dir.path(),
        "complex-docker.stack",
        &[(
            "PGUSER     = db.username",
            "PGUSER     = db.username\n    API_KEY    = secret(\"API_KEY\")",
        )],
    );
    let given = dir.path().join("given.stack");
    std::fs::write(
        &given,
        std::fs::read_to_string(&managed)
            .unwrap()
            .replace(
                "password   = managed",
                "password   = secret(\"DB_PASSWORD\")",
            )
            .replace(
                "PGPASSWORD = db.password",
                "PGPASSWORD = secret(\"DB_PASSWORD\")",
            ),
    )
    .unwrap();
    let (db_password, api_key) = (
        "Zebra-Quokka-4471-unmistakable",
        "Marmot-Pelican-9902-distinct",
    );
    let env = [("DB_PASSWORD", db_password), ("API_KEY", api_key)];
    let echo = |ops: &[&str]| {
        proxy_post(
            &px,
            "config",
            &serde_json::json!({ "echo_operations": ops }).to_string(),
        )
    };
    let fails = |file: &Path, op: &str, secret: &str| {
        echo(&[op]);
        let out = stackc(&px.url(), &["apply", file.to_str().unwrap(), "--yes"], &env);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{op} did not fail: {t}");
        assert!(
            t.contains(&format!("{op} failed: ValidationError")),
            "{op}: {t}"
        );
        assert!(
            t.contains("(sensitive)"),
            "{op}: the echoed secret is not marked: {t}"
        );
        assert!(!t.contains(secret), "{op} leaked a secret:\n{t}");
    };
    // The environment's creation carries API_KEY.
    fails(&managed, "CreateEnvironment", api_key);
    echo(&[]);
    ok(&stackc(
        &px.url(),
        &["apply", managed.to_str().unwrap(), "--yes"],
        &env,
    ));
    // Its update carries a new value of it.
    let env2 = [
        ("DB_PASSWORD", db_password),
        ("API_KEY", "Walrus-Heron-1234-another"),
    ];
    echo(&["UpdateEnvironment"]);
    let out = stackc(
        &px.url(),
        &["apply", managed.to_str().unwrap(), "--yes"],
        &env2,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        !text(&out).contains("Walrus-Heron-1234-another"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("(sensitive)"), "{}", text(&out));
    // The switch from a managed password to a given one carries the password.
    fails(&given, "ModifyDBInstance", db_password);

    // A new stack: the database's creation carries its password.
    let aws2 = moto();
    let px2 = proxy(&aws2, &[]);
    proxy_post(
        &px2,
        "config",
        r#"{"echo_operations": ["CreateDBInstance"]}"#,
    );
    let out = stackc(
        &px2.url(),
        &["apply", given.to_str().unwrap(), "--yes"],
        &env,
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("CreateDBInstance failed: ValidationError"),
        "{t}"
    );
    assert!(
        !t.contains(db_password),
        "CreateDBInstance leaked the password:\n{t}"
    );
}
