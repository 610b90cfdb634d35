//! The containers' logs, end to end against the emulator: apply makes the log group with the
//! program's retention and sends every container there (`awslogs` in the deployed Dockerrun,
//! which the emulated ECS platform only starts when the group exists and the instance role may
//! write to it); `stackc logs` prints what was written, by service, since a time, and with
//! `--follow` what is written after it started.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
}

service worker {
  image  = "busybox:1.36"
  memory = 64 MiB
}

firewall {
  allow 80 from internet to web
}
"#;

const GROUP: &str = "/aws/elasticbeanstalk/shop-env/containers";

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis(),
    )
    .expect("a time in range")
}

/// Writes `events` (milliseconds before now, message) to a stream of the group, as the `awslogs`
/// driver does for a container.
fn write(url: &str, stream: &str, events: &[(i64, &str)]) {
    let now = now_ms();
    let events: Vec<Value> = events
        .iter()
        .map(|(ago, m)| serde_json::json!({"timestamp": now - ago, "message": m}))
        .collect();
    boto(
        url,
        "logs",
        &format!(
            "(c.create_log_stream(logGroupName='{GROUP}', logStreamName='{stream}') if not c.describe_log_streams(logGroupName='{GROUP}', logStreamNamePrefix='{stream}')['logStreams'] else None, c.put_log_events(logGroupName='{GROUP}', logStreamName='{stream}', logEvents=json.loads(r'''{}''')))[1]",
            serde_json::to_string(&events).expect("JSON")
        ),
    );
}

#[test]
fn apply_sends_the_containers_to_a_log_group_and_logs_prints_them() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_program(dir.path(), "shop.stack", PROGRAM, &[]);
    let f = file.to_str().expect("utf-8");
    ok(&stackc(&url, &["apply", f, "--yes"], &[]));

    // The group, kept 30 days by default, and the deployed Dockerrun's logging.
    let groups = boto(
        &url,
        "logs",
        &format!("c.describe_log_groups(logGroupNamePrefix='{GROUP}')['logGroups']"),
    );
    assert_eq!(groups[0]["logGroupName"], GROUP, "{groups}");
    assert_eq!(groups[0]["retentionInDays"], 30, "{groups}");
    let dockerrun = boto(
        &url,
        "elasticbeanstalk",
        "(lambda v: json.loads(__import__('zipfile').ZipFile(__import__('io').BytesIO(boto3.client('s3', endpoint_url=c.meta.endpoint_url, region_name='us-east-1', aws_access_key_id='t', aws_secret_access_key='t').get_object(Bucket=v['SourceBundle']['S3Bucket'], Key=v['SourceBundle']['S3Key'])['Body'].read())).read('Dockerrun.aws.json')))(c.describe_application_versions(ApplicationName='shop')['ApplicationVersions'][0])",
    );
    for c in dockerrun["containerDefinitions"]
        .as_array()
        .expect("containers")
    {
        assert_eq!(
            c["logConfiguration"],
            serde_json::json!({"logDriver": "awslogs", "options": {
                "awslogs-group": GROUP, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "stackc"}}),
            "{c}"
        );
    }

    write(
        &url,
        "stackc/web/0a1b2c",
        &[
            (2 * 3_600_000, "an old line"),
            (300_000, "GET / 200"),
            (100_000, "\u{1b}]0;owned\u{7}GET /x 404"),
        ],
    );
    write(&url, "stackc/worker/3d4e5f", &[(240_000, "job done")]);

    // Since 10 minutes by default, every service, interleaved by time.
    let all = ok(&stackc(&url, &["logs", f], &[]));
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 3, "{all}");
    assert!(
        lines[0].ends_with("   web | GET / 200") && lines[1].ends_with("worker | job done"),
        "{all}"
    );
    // What a container wrote reaches the terminal escaped.
    assert!(
        lines[2].ends_with("web | \\u{1b}]0;owned\\u{7}GET /x 404") && !all.contains('\u{1b}'),
        "{all}"
    );

    // The platform's logs: Elastic Beanstalk streams them (StreamLogs, same retention) to a
    // group per file, which `--platform` adds.
    let options = boto(
        &url,
        "elasticbeanstalk",
        "{o['OptionName']: o.get('Value') for o in c.describe_configuration_settings(ApplicationName='shop', EnvironmentName='shop-env')['ConfigurationSettings'][0]['OptionSettings'] if o['Namespace'] == 'aws:elasticbeanstalk:cloudwatch:logs'}",
    );
    assert_eq!(options["StreamLogs"], "true", "{options}");
    assert_eq!(options["RetentionInDays"], "30", "{options}");
    let engine = "/aws/elasticbeanstalk/shop-env/var/log/eb-engine.log";
    boto(
        &url,
        "logs",
        &format!("c.create_log_group(logGroupName='{engine}')"),
    );
    boto(
        &url,
        "logs",
        &format!(
            "(c.create_log_stream(logGroupName='{engine}', logStreamName='i-0abc'), c.put_log_events(logGroupName='{engine}', logStreamName='i-0abc', logEvents=[{{'timestamp': {}, 'message': 'Instance deployment completed successfully.'}}]))[1]",
            now_ms() - 200_000
        ),
    );
    let platform = ok(&stackc(&url, &["logs", f, "--platform"], &[]));
    assert_eq!(platform.lines().count(), 4, "{platform}");
    assert!(
        platform.contains("eb-engine | Instance deployment completed successfully."),
        "{platform}"
    );
    let containers = ok(&stackc(&url, &["logs", f], &[]));
    assert!(!containers.contains("Instance deployment"), "{containers}");

    // One service, further back, as JSON lines.
    let web = ok(&stackc(
        &url,
        &["logs", f, "web", "--since", "3h", "--format", "json"],
        &[],
    ));
    let events: Vec<Value> = web
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().expect("message"))
        .collect();
    assert_eq!(messages[..2], ["an old line", "GET / 200"], "{web}");
    assert!(events.iter().all(|e| e["source"] == "web"), "{web}");

    // A service the program does not have is a usage error, with the fix.
    let out = stackc(&url, &["logs", f, "wrker"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("did you mean `worker`?"),
        "{}",
        text(&out)
    );

    // --follow prints what is written after it started.
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(["logs", f, "--follow", "--endpoint-url", &url])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("STACKC_POLL_MS", "100")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .expect("stackc runs");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &str| -> Vec<String> {
        let mut seen = Vec::new();
        while !seen.iter().any(|l: &String| l.contains(needle)) {
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok(l) => seen.push(l),
                Err(_) => panic!("no line with {needle:?} after {seen:?}"),
            }
        }
        seen
    };
    let first = wait_for("job done");
    write(
        &url,
        "stackc/worker/3d4e5f",
        &[(0, "written after follow began")],
    );
    let next = wait_for("written after follow began");
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(
        !next.iter().any(|l| first.contains(l)),
        "a line was printed twice: {first:?} then {next:?}"
    );

    // Nothing changes on a second apply; a new retention is an update of the group only.
    let out = stackc(&url, &["plan", f, "--detailed-exitcode"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let week = write_program(
        dir.path(),
        "shop.stack",
        PROGRAM,
        &[(
            "environment shop-env { }",
            "environment shop-env { log_days = 7 }",
        )],
    );
    let plan = ok(&stackc(&url, &["plan", week.to_str().expect("utf-8")], &[]));
    assert!(
        plan.contains(&format!("~ log group {GROUP} (update)"))
            && plan.contains("retentionInDays: 30 → 7"),
        "{plan}"
    );
    assert!(plan.contains("~ environment shop-env (update)"), "{plan}");
    ok(&stackc(
        &url,
        &["apply", week.to_str().expect("utf-8"), "--yes"],
        &[],
    ));
    let groups = boto(
        &url,
        "logs",
        &format!("c.describe_log_groups(logGroupNamePrefix='{GROUP}')['logGroups']"),
    );
    assert_eq!(groups[0]["retentionInDays"], 7, "{groups}");

    // destroy removes the group with the rest.
    ok(&stackc(&url, &["destroy", f, "--yes"], &[]));
    let groups = boto(
        &url,
        "logs",
        &format!("c.describe_log_groups(logGroupNamePrefix='{GROUP}')['logGroups']"),
    );
    assert_eq!(groups, serde_json::json!([]));
}
