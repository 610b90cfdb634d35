//! Elastic Beanstalk and IAM end to end: the real `stackc` binary against the moto emulator
//! (tests/support), through the fault proxy (no faults: it counts the calls), checked with
//! independent reads (boto3 in the test venv).
//!
//! One program, `examples/single-container.stack` plus a secret environment property, goes
//! through apply → no-change plan and apply → an instance type change and the property's
//! removal → destroy.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{boto, moto, proxy, proxy_post, proxy_stats, stackc};
use serde_json::Value;

const STACK: &str = "static-site";
const ENV: &str = "static-site-prod";
const SECRET_VAR: &str = "STACKC_TEST_API_KEY";
const SECRET: &str = "s3cr3t-Value-that-must-never-show";

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: &Output) -> String {
    let t = text(out);
    assert!(
        out.status.success(),
        "stackc failed ({:?}):\n{t}",
        out.status.code()
    );
    assert!(
        !t.contains(SECRET),
        "the secret leaked into stackc's output:\n{t}"
    );
    t
}

/// The example with `edits` applied, written to `dir`.
fn program(dir: &Path, edits: &[(&str, &str)]) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/single-container.stack");
    let mut src = std::fs::read_to_string(example).expect("the example exists");
    for (a, b) in edits {
        assert!(src.contains(a), "{a:?} not in the example");
        src = src.replace(a, b);
    }
    let p = dir.join("app.stack");
    std::fs::write(&p, src).expect("write the program");
    p
}

const WITH_SECRET: (&str, &str) = (
    "  ports     = [80]\n",
    "  ports     = [80]\n  env {\n    API_KEY = secret(\"STACKC_TEST_API_KEY\")\n  }\n",
);

fn run(endpoint: &str, args: &[&str]) -> Output {
    stackc(
        endpoint,
        args,
        &[(SECRET_VAR, SECRET), ("STACKC_POLL_MS", "50")],
    )
}

/// `{Namespace/OptionName: Value}` of the environment, read by boto3.
fn options(endpoint: &str) -> serde_json::Map<String, Value> {
    let settings = boto(
        endpoint,
        "elasticbeanstalk",
        &format!(
            "c.describe_configuration_settings(ApplicationName='{STACK}', EnvironmentName='{ENV}')['ConfigurationSettings'][0]['OptionSettings']"
        ),
    );
    settings
        .as_array()
        .expect("a list of settings")
        .iter()
        .map(|s| {
            (
                format!(
                    "{}/{}",
                    s["Namespace"].as_str().unwrap_or_default(),
                    s["OptionName"].as_str().unwrap_or_default()
                ),
                s["Value"].clone(),
            )
        })
        .collect()
}

fn tags_of(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["Key"].as_str().unwrap_or_default().to_string(),
                t["Value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn has_stack_tag(tags: &Value) -> bool {
    tags_of(tags).contains(&("stackc:stack".to_string(), STACK.to_string()))
}

fn reads_and_mutations(stats: &Value, services: &[&str]) -> (usize, usize, Vec<String>) {
    let calls: Vec<&Value> = stats["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| services.contains(&c["service"].as_str().unwrap_or_default()))
        .collect();
    let reads = calls
        .iter()
        .filter(|c| c["mutating"] == Value::Bool(false) && c["fault"] != Value::Bool(true))
        .count();
    let mutating: Vec<String> = calls
        .iter()
        .filter(|c| c["mutating"] == Value::Bool(true))
        .map(|c| format!("{} {}", c["service"], c["operation"]))
        .collect();
    (reads, mutating.len(), mutating)
}

#[test]
fn elastic_beanstalk_and_iam_end_to_end() {
    let moto = moto();
    let proxy = proxy(&moto, &[]);
    let (direct, endpoint) = (moto.url(), proxy.url());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = program(dir.path(), &[WITH_SECRET]);
    let file = file.to_str().expect("a UTF-8 path");

    // 1. A fresh apply creates everything.
    let out = ok(&run(&endpoint, &["apply", file, "--yes"]));
    assert!(out.contains("environment static-site-prod"), "{out}");

    // The application, tagged.
    let apps = boto(
        &direct,
        "elasticbeanstalk",
        &format!("c.describe_applications(ApplicationNames=['{STACK}'])['Applications']"),
    );
    assert_eq!(apps.as_array().map(Vec::len), Some(1), "{apps}");
    let app_arn = apps[0]["ApplicationArn"]
        .as_str()
        .expect("an application ARN");
    let app_tags = boto(
        &direct,
        "elasticbeanstalk",
        &format!("c.list_tags_for_resource(ResourceArn='{app_arn}')['ResourceTags']"),
    );
    assert!(has_stack_tag(&app_tags), "{app_tags}");

    // The version: processed, its bundle a zip holding exactly what `build` writes.
    let versions = boto(
        &direct,
        "elasticbeanstalk",
        &format!(
            "c.describe_application_versions(ApplicationName='{STACK}')['ApplicationVersions']"
        ),
    );
    assert_eq!(versions.as_array().map(Vec::len), Some(1), "{versions}");
    let label = versions[0]["VersionLabel"]
        .as_str()
        .expect("a label")
        .to_string();
    assert!(label.starts_with("v-"), "{label}");
    let bucket = versions[0]["SourceBundle"]["S3Bucket"]
        .as_str()
        .expect("a bucket")
        .to_string();
    let key = versions[0]["SourceBundle"]["S3Key"]
        .as_str()
        .expect("a key")
        .to_string();
    assert_eq!(key, format!("stackc/{STACK}/{label}.zip"));
    let inside = boto(
        &direct,
        "s3",
        &format!(
            "__import__('zipfile').ZipFile(__import__('io').BytesIO(c.get_object(Bucket='{bucket}', Key='{key}')['Body'].read())).namelist()"
        ),
    );
    assert_eq!(inside, serde_json::json!(["Dockerrun.aws.json"]));
    let dockerrun = boto(
        &direct,
        "s3",
        &format!(
            "__import__('zipfile').ZipFile(__import__('io').BytesIO(c.get_object(Bucket='{bucket}', Key='{key}')['Body'].read())).read('Dockerrun.aws.json').decode()"
        ),
    );
    let built = dir.path().join("out");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(["build", file, "--out"])
        .arg(&built)
        .output()
        .expect("stackc build runs");
    assert!(status.status.success(), "{}", text(&status));
    let expected = std::fs::read_to_string(built.join("Dockerrun.aws.json"))
        .expect("Dockerrun.aws.json written");
    // What build writes, and each container's logging, whose region is the apply's.
    let mut expected: Value = serde_json::from_str(&expected).expect("JSON");
    for c in expected["containerDefinitions"]
        .as_array_mut()
        .expect("containers")
    {
        c["logConfiguration"] = serde_json::json!({"logDriver": "awslogs", "options": {
            "awslogs-group": "/aws/elasticbeanstalk/static-site-prod/containers",
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "stackc"}});
    }
    let uploaded: Value =
        serde_json::from_str(dockerrun.as_str().expect("text")).expect("uploaded JSON");
    assert_eq!(uploaded, expected);

    // The environment: Ready, on the newest recommended ECS platform, with the version.
    let envs = boto(
        &direct,
        "elasticbeanstalk",
        &format!(
            "c.describe_environments(ApplicationName='{STACK}', IncludeDeleted=False)['Environments']"
        ),
    );
    assert_eq!(envs.as_array().map(Vec::len), Some(1), "{envs}");
    let env = &envs[0];
    assert_eq!(env["EnvironmentName"], ENV);
    assert_eq!(env["Status"], "Ready");
    assert_eq!(env["VersionLabel"].as_str(), Some(label.as_str()));
    let platform = env["PlatformArn"].as_str().unwrap_or_default();
    assert!(
        platform.ends_with("platform/ECS running on 64bit Amazon Linux 2023/4.4.0"),
        "{platform}"
    );
    let env_tags = boto(
        &direct,
        "elasticbeanstalk",
        &format!(
            "c.list_tags_for_resource(ResourceArn='{}')['ResourceTags']",
            env["EnvironmentArn"].as_str().unwrap_or_default()
        ),
    );
    assert!(has_stack_tag(&env_tags), "{env_tags}");
    assert!(
        tags_of(&env_tags).contains(&("stackc:name".into(), ENV.into())),
        "{env_tags}"
    );

    // Its options.
    let sg = boto(
        &direct,
        "ec2",
        &format!(
            "c.describe_security_groups(Filters=[{{'Name':'group-name','Values':['{ENV}']}}])['SecurityGroups'][0]['GroupId']"
        ),
    );
    let opts = options(&direct);
    let lc = "aws:autoscaling:launchconfiguration";
    assert_eq!(opts["aws:ec2:instances/InstanceTypes"], "t3.micro");
    assert_eq!(opts[&format!("{lc}/SecurityGroups")], sg);
    assert_eq!(
        opts[&format!("{lc}/IamInstanceProfile")],
        "static-site-eb-ec2"
    );
    assert_eq!(
        opts[&format!("{lc}/DisableDefaultEC2SecurityGroup")],
        "true"
    );
    // Elastic Beanstalk answers with the role's ARN for the name it was given.
    assert!(
        opts["aws:elasticbeanstalk:environment/ServiceRole"]
            .as_str()
            .is_some_and(|r| r.ends_with(":role/static-site-eb-service")),
        "{}",
        opts["aws:elasticbeanstalk:environment/ServiceRole"]
    );
    assert_eq!(
        opts["aws:elasticbeanstalk:environment/EnvironmentType"],
        "SingleInstance"
    );
    assert_eq!(
        opts["aws:elasticbeanstalk:healthreporting:system/SystemType"],
        "enhanced"
    );
    assert_eq!(
        opts["aws:elasticbeanstalk:application:environment/API_KEY"], SECRET,
        "the secret reached the environment"
    );

    // The roles, their policies and the instance profile, tagged.
    for (role, principal, policies) in [
        (
            "static-site-eb-ec2",
            "ec2.amazonaws.com",
            [
                "AWSElasticBeanstalkWebTier",
                "AWSElasticBeanstalkMulticontainerDocker",
            ],
        ),
        (
            "static-site-eb-service",
            "elasticbeanstalk.amazonaws.com",
            [
                "AWSElasticBeanstalkEnhancedHealth",
                "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
            ],
        ),
    ] {
        let r = boto(
            &direct,
            "iam",
            &format!("c.get_role(RoleName='{role}')['Role']"),
        );
        assert!(has_stack_tag(&r["Tags"]), "{r}");
        assert_eq!(
            r["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"], principal,
            "{r}"
        );
        let attached = boto(
            &direct,
            "iam",
            &format!(
                "sorted(p['PolicyName'] for p in c.list_attached_role_policies(RoleName='{role}')['AttachedPolicies'])"
            ),
        );
        let mut want: Vec<&str> = policies.to_vec();
        want.sort_unstable();
        assert_eq!(attached, serde_json::json!(want), "{role}");
    }
    let profile = boto(
        &direct,
        "iam",
        "c.get_instance_profile(InstanceProfileName='static-site-eb-ec2')['InstanceProfile']",
    );
    assert!(has_stack_tag(&profile["Tags"]), "{profile}");
    assert_eq!(
        profile["Roles"]
            .as_array()
            .map(|r| r.iter().map(|r| r["RoleName"].clone()).collect::<Vec<_>>()),
        Some(vec![Value::from("static-site-eb-ec2")])
    );

    // 2. Nothing changed: plan says so, apply makes no mutating call, and the reads stay few.
    let plan_steps = {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_stackc"))
            .args(["build", file, "--out"])
            .arg(&built)
            .output()
            .expect("build");
        assert!(out.status.success());
        let plan: Value = serde_json::from_str(
            &std::fs::read_to_string(built.join("plan.json")).expect("plan.json"),
        )
        .expect("JSON");
        plan["steps"].as_array().expect("steps").clone()
    };
    let ours = |s: &&Value| {
        s["action"].as_str().is_some_and(|a| {
            a.starts_with("iam:") || a.starts_with("elasticbeanstalk:") || a.starts_with("s3:")
        })
    };
    let our_steps = plan_steps.iter().filter(ours).count();
    proxy_post(&proxy, "reset", "{}");
    let out = run(&endpoint, &["plan", file, "--detailed-exitcode"]);
    let t = ok(&out);
    assert!(t.contains("No changes"), "{t}");
    let out = ok(&run(&endpoint, &["apply", file, "--yes"]));
    assert!(out.contains("No changes"), "{out}");
    let stats = proxy_stats(&proxy);
    let (reads, mutating, which) = reads_and_mutations(&stats, &["iam", "elasticbeanstalk", "s3"]);
    assert_eq!(
        mutating, 0,
        "a no-change apply changed something: {which:?}"
    );
    // Two refreshes (plan, apply), each within 2 reads per resource on average.
    assert!(
        reads <= 2 * 2 * our_steps,
        "{reads} IAM/EB/S3 reads for 2 refreshes of {our_steps} steps"
    );
    assert_eq!(stats["mutating"], 0, "{stats}");

    // 3. A bigger instance and no more API_KEY: one update of the environment.
    let file2 = program(
        dir.path(),
        &[(
            "instance_type = \"t3.micro\"",
            "instance_type = \"t3.small\"",
        )],
    );
    let file2 = file2.to_str().expect("UTF-8");
    let out = run(&endpoint, &["plan", file2, "--format", "json"]);
    let t = ok(&out);
    let changes: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("plan JSON: {e}\n{t}"));
    let changed: Vec<&Value> = changes
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["op"] != "keep" && c["op"] != "read")
        .collect();
    assert_eq!(changed.len(), 1, "{changes:#}");
    let env_change = changed[0];
    assert_eq!(
        (env_change["step"].as_str(), env_change["op"].as_str()),
        (Some("environment"), Some("update")),
        "{env_change:#}"
    );
    let fields = env_change["fields"].as_array().expect("fields");
    let instance = fields
        .iter()
        .find(|f| f["field"] == "aws:ec2:instances/InstanceTypes")
        .expect("an InstanceTypes change");
    assert_eq!(
        (instance["old"].as_str(), instance["new"].as_str()),
        (Some("t3.micro"), Some("t3.small"))
    );
    assert!(
        fields.iter().any(
            |f| f["field"] == "aws:elasticbeanstalk:application:environment/API_KEY"
                && f["new"].is_null()
        ),
        "{fields:?}"
    );
    let human = ok(&run(&endpoint, &["plan", file2]));
    assert!(
        human.contains("InstanceTypes: \"t3.micro\" → \"t3.small\""),
        "{human}"
    );

    proxy_post(&proxy, "reset", "{}");
    ok(&run(&endpoint, &["apply", file2, "--yes"]));
    let stats = proxy_stats(&proxy);
    let updates: Vec<&Value> = stats["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["mutating"] == Value::Bool(true))
        .collect();
    assert!(
        updates
            .iter()
            .all(|c| c["operation"] == "UpdateEnvironment"),
        "only the environment is updated: {updates:?}"
    );
    assert_eq!(
        updates.len(),
        1,
        "options in one call (the version did not change): {updates:?}"
    );
    let opts = options(&direct);
    assert_eq!(opts["aws:ec2:instances/InstanceTypes"], "t3.small");
    assert!(
        !opts.contains_key("aws:elasticbeanstalk:application:environment/API_KEY"),
        "API_KEY was removed"
    );
    let t = ok(&run(&endpoint, &["plan", file2, "--detailed-exitcode"]));
    assert!(t.contains("No changes"), "{t}");

    // 4. Destroy removes all of it.
    ok(&run(&endpoint, &["destroy", file2, "--yes"]));
    let apps = boto(
        &direct,
        "elasticbeanstalk",
        &format!("c.describe_applications(ApplicationNames=['{STACK}'])['Applications']"),
    );
    assert_eq!(apps, serde_json::json!([]));
    let envs = boto(
        &direct,
        "elasticbeanstalk",
        &format!(
            "[e['Status'] for e in c.describe_environments(EnvironmentNames=['{ENV}'])['Environments']]"
        ),
    );
    assert_eq!(envs, serde_json::json!(["Terminated"]));
    let roles = boto(
        &direct,
        "iam",
        "[r['RoleName'] for r in c.list_roles()['Roles'] if r['RoleName'].startswith('static-site-')]",
    );
    assert_eq!(roles, serde_json::json!([]));
    let profiles = boto(
        &direct,
        "iam",
        "[p['InstanceProfileName'] for p in c.list_instance_profiles()['InstanceProfiles']]",
    );
    assert_eq!(profiles, serde_json::json!([]));
    let objects = boto(
        &direct,
        "s3",
        &format!(
            "[o['Key'] for o in c.list_objects_v2(Bucket='{bucket}', Prefix='stackc/{STACK}/').get('Contents', [])]"
        ),
    );
    assert_eq!(objects, serde_json::json!([]));
    let t = ok(&run(&endpoint, &["plan", file2]));
    assert!(
        !t.contains("No changes"),
        "after destroy, plan creates again: {t}"
    );
}
