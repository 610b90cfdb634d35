"""Checks stackc_moto.py (moto + moto_patches) and faultproxy.py as real subprocesses.

Run: bash tests/support/setup-venv.sh && .venv/bin/pytest -q tests/support
"""

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import boto3
import botocore.exceptions
import botocore.retries.standard
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
ECS_BRANCH = "ECS running on 64bit Amazon Linux 2023"
ECS_440_ARN = f"arn:aws:elasticbeanstalk:us-east-1::platform/{ECS_BRANCH}/4.4.0"
ACCOUNT = "123456789012"


class Process:
    """A support script started like the Rust tests do: stdin and stdout piped, READY awaited."""

    def __init__(self, script: str, *args: str, env: dict[str, str] | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        line = self._read_line(timeout=30)
        match = re.fullmatch(r"READY (\d+)\n", line)
        assert match, f"{script} printed {line!r} instead of READY <port>"
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def _read_line(self, timeout: float) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not result:
            self.proc.kill()
            raise AssertionError("no READY line in time")
        return result[0]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.stdin.close()
        return self.proc.wait(timeout=10)


def client(endpoint: str, service: str, attempts: int = 1) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}, s3={"addressing_style": "path"}),
    )


def error_of(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"].get("Message", ""),
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def moto() -> Iterator[Process]:
    server = Process("stackc_moto.py", "--port", "0")
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="session")
def proxy(moto: Process) -> Iterator[Process]:
    server = Process("faultproxy.py", "--upstream", moto.url, "--port", "0")
    yield server
    assert server.stop() == 0


def control(proxy: Process, endpoint: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{proxy.url}/__proxy/{endpoint}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None and endpoint == "stats" else "POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def clean_proxy(proxy: Process) -> Iterator[Process]:
    control(proxy, "config", {"throttle_rate": 0, "unavailable_rate": 0, "reset_rate": 0, "latency_ms": 0, "seed": 0})
    control(proxy, "reset", {})
    yield proxy
    control(proxy, "config", {"throttle_rate": 0, "unavailable_rate": 0, "latency_ms": 0, "seed": 0})


def dockerrun(*images: str, execution_role: str | None = None, **container: Any) -> dict[str, Any]:
    """A Dockerrun.aws.json v2 with one container per image."""
    document: dict[str, Any] = {
        "AWSEBDockerrunVersion": 2,
        "containerDefinitions": [
            {"name": f"c{n}", "image": image, "essential": True, "memory": 128, **container}
            for n, image in enumerate(images or ("nginx:1.27",))
        ],
    }
    if execution_role:
        document["executionRoleArn"] = execution_role
    return document


def add_version(
    endpoint: str, app: str, label: str, document: dict[str, Any] | None = None, files: dict[str, str] | None = None
) -> None:
    """Uploads a source bundle (a zip holding Dockerrun.aws.json, and `files`) and creates
    version `label`."""
    eb, s3 = client(endpoint, "elasticbeanstalk"), client(endpoint, "s3")
    bucket = eb.create_storage_location()["S3Bucket"]
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("Dockerrun.aws.json", json.dumps(document or dockerrun()))
        for name, text in (files or {}).items():
            archive.writestr(name, text)
    s3.put_object(Bucket=bucket, Key=f"{app}/{label}.zip", Body=bundle.getvalue())
    eb.create_application_version(
        ApplicationName=app, VersionLabel=label, SourceBundle={"S3Bucket": bucket, "S3Key": f"{app}/{label}.zip"}
    )


def eb_app_with_version(endpoint: str, document: dict[str, Any] | None = None) -> tuple[Any, str]:
    """A new application with version v1, its bundle uploaded to the storage location."""
    eb = client(endpoint, "elasticbeanstalk")
    app = unique("app")
    eb.create_application(ApplicationName=app, Tags=[{"Key": "stackc:stack", "Value": app}])
    add_version(endpoint, app, "v1", document)
    return eb, app


def create_env(eb: Any, app: str, **extra: Any) -> dict[str, Any]:
    return eb.create_environment(ApplicationName=app, EnvironmentName=unique("env"), PlatformArn=ECS_440_ARN, **extra)


def settled(eb: Any, name: str) -> dict[str, Any]:
    """The environment once its operation has settled (no delay: the next describe settles it)."""
    env = eb.describe_environments(EnvironmentNames=[name])["Environments"][0]
    assert env["Status"] in ("Ready", "Terminated"), env["Status"]
    return env


def events_of(eb: Any, name: str, **filters: Any) -> list[tuple[str, str, str]]:
    """(Severity, Message, RequestId) of an environment's events, oldest first."""
    events = eb.describe_events(EnvironmentName=name, **filters)["Events"]
    return [(e["Severity"], e["Message"], e["RequestId"]) for e in reversed(events)]


def propagated(ec2: Any, group_id: str) -> None:
    """Waits out a new group's propagation as a client must: its first use answers NotFound."""
    code, status, message = error_of(lambda: ec2.describe_security_groups(GroupIds=[group_id]))
    assert (code, status, message) == ("InvalidGroup.NotFound", 400, f"The security group '{group_id}' does not exist")
    ec2.describe_security_groups(GroupIds=[group_id])


# Elastic Beanstalk


def test_eb_a_version_an_environment_runs_is_not_deleted(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    name = create_env(eb, app, VersionLabel="v1")["EnvironmentName"]
    code, _, message = error_of(lambda: eb.delete_application_version(ApplicationName=app, VersionLabel="v1"))
    assert code == "InvalidParameterValue" and name in message
    assert eb.describe_application_versions(ApplicationName=app, VersionLabels=["v1"])["ApplicationVersions"]


def test_eb_environment_lifecycle(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    option = {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "InstanceType", "Value": "t3.small"}
    env = create_env(eb, app, VersionLabel="v1", OptionSettings=[option], Tags=[{"Key": "team", "Value": "a"}])
    name, env_id = env["EnvironmentName"], env["EnvironmentId"]
    assert env["Status"] == "Launching"
    assert re.fullmatch(r"e-[a-z0-9]{10}", env_id)
    assert re.fullmatch(rf"{name}\.[a-z0-9]{{10}}\.us-east-1\.elasticbeanstalk\.com", env["CNAME"])
    assert env["EndpointURL"] and env["VersionLabel"] == "v1" and env["PlatformArn"] == ECS_440_ARN
    assert env["SolutionStackName"] == "64bit Amazon Linux 2023 v4.4.0 running ECS"

    code, _, message = error_of(lambda: eb.update_environment(EnvironmentName=name, VersionLabel="v1"))
    assert (code, message) == (
        "InvalidParameterValue",
        f"Environment named {name} is in an invalid state for this operation. Must be Ready.",
    )

    described = eb.describe_environments(EnvironmentNames=[name])["Environments"]
    assert [(e["Status"], e["Health"]) for e in described] == [("Ready", "Green")]
    assert eb.describe_environments(EnvironmentIds=[env_id])["Environments"][0]["EnvironmentName"] == name
    assert [e["EnvironmentName"] for e in eb.describe_environments(ApplicationName=app)["Environments"]] == [name]
    assert eb.describe_environments(ApplicationName="no-such-app")["Environments"] == []

    code, _, _ = error_of(
        lambda: eb.update_environment(EnvironmentName=name, VersionLabel="v1", OptionSettings=[option])
    )
    assert code == "InvalidParameterCombination"

    extra = {"Namespace": "aws:elasticbeanstalk:application:environment", "OptionName": "MODE", "Value": "x"}
    updated = eb.update_environment(EnvironmentName=name, OptionSettings=[dict(option, Value="t3.large"), extra])
    assert updated["Status"] == "Updating"
    assert eb.describe_environments(EnvironmentNames=[name])["Environments"][0]["Status"] == "Ready"
    eb.update_environment(
        EnvironmentId=env_id, OptionsToRemove=[{"Namespace": extra["Namespace"], "OptionName": "MODE"}]
    )
    eb.describe_environments(EnvironmentIds=[env_id])
    settings = eb.describe_configuration_settings(ApplicationName=app, EnvironmentName=name)["ConfigurationSettings"]
    chosen = {(o["Namespace"], o["OptionName"]): o.get("Value") for o in settings[0]["OptionSettings"]}
    assert chosen[(option["Namespace"], "InstanceType")] == "t3.large"
    assert ("aws:elasticbeanstalk:application:environment", "MODE") not in chosen

    tags = eb.list_tags_for_resource(ResourceArn=env["EnvironmentArn"])["ResourceTags"]
    assert tags == [{"Key": "team", "Value": "a"}]
    app_arn = f"arn:aws:elasticbeanstalk:us-east-1:{ACCOUNT}:application/{app}"
    eb.update_tags_for_resource(
        ResourceArn=app_arn, TagsToAdd=[{"Key": "x", "Value": "1"}], TagsToRemove=["stackc:stack"]
    )
    assert eb.list_tags_for_resource(ResourceArn=app_arn)["ResourceTags"] == [{"Key": "x", "Value": "1"}]

    assert eb.terminate_environment(EnvironmentName=name)["Status"] == "Terminating"
    assert eb.describe_environments(EnvironmentNames=[name], IncludeDeleted=False)["Environments"] == []
    gone = eb.describe_environments(EnvironmentNames=[name], IncludeDeleted=True)["Environments"]
    assert [e["Status"] for e in gone] == ["Terminated"]
    code, _, message = error_of(lambda: eb.terminate_environment(EnvironmentName=name))
    assert (code, message) == ("InvalidParameterValue", f"No Environment found for EnvironmentName = '{name}'.")

    messages = [e["Message"] for e in eb.describe_events(EnvironmentName=name)["Events"]]
    assert messages[0] == "terminateEnvironment completed successfully."
    assert messages[-1] == "createEnvironment is starting."


def test_eb_status_delay_keeps_transitional_status_visible() -> None:
    server = Process("stackc_moto.py", env={**os.environ, "STACKC_MOTO_EB_DELAY_SECONDS": "0.3"})
    try:
        eb, app = eb_app_with_version(server.url)
        name = create_env(eb, app)["EnvironmentName"]
        time.sleep(0.4)  # past the delay, but Launching has not been shown yet
        assert eb.describe_environments(EnvironmentNames=[name])["Environments"][0]["Status"] == "Launching"
        assert eb.describe_environments(EnvironmentNames=[name])["Environments"][0]["Status"] == "Ready"
        for operation in (
            lambda: eb.update_environment(EnvironmentName=name, VersionLabel="v1"),
            lambda: eb.restart_app_server(EnvironmentName=name),
        ):
            operation()
            assert eb.describe_environments(EnvironmentNames=[name])["Environments"][0]["Status"] == "Updating"
            assert eb.describe_environments(EnvironmentNames=[name])["Environments"][0]["Status"] == "Updating"
            time.sleep(0.35)
            assert eb.describe_environments(EnvironmentNames=[name])["Environments"][0]["Status"] == "Ready"
    finally:
        assert server.stop() == 0


def test_eb_application_versions(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    bucket = f"elasticbeanstalk-us-east-1-{ACCOUNT}"
    code, _, message = error_of(
        lambda: eb.create_application_version(
            ApplicationName=app, VersionLabel="v1", SourceBundle={"S3Bucket": bucket, "S3Key": f"{app}/v1.zip"}
        )
    )
    assert (code, message) == ("InvalidParameterValue", "Application Version v1 already exists.")
    code, _, _ = error_of(
        lambda: eb.create_application_version(
            ApplicationName=app, VersionLabel="v2", SourceBundle={"S3Bucket": bucket, "S3Key": "missing.zip"}
        )
    )
    assert code == "InvalidParameterCombination"
    code, _, _ = error_of(lambda: eb.create_application_version(ApplicationName="no-such-app", VersionLabel="v1"))
    assert code == "InvalidParameterValue"

    client(moto.url, "s3").put_object(Bucket=bucket, Key=f"{app}/v2.zip", Body=b"PK")
    created = eb.create_application_version(
        ApplicationName=app,
        VersionLabel="v2",
        Process=True,
        SourceBundle={"S3Bucket": bucket, "S3Key": f"{app}/v2.zip"},
    )
    assert created["ApplicationVersion"]["Status"] == "Processing"
    versions = eb.describe_application_versions(ApplicationName=app)["ApplicationVersions"]
    assert [(v["VersionLabel"], v["Status"]) for v in versions] == [("v2", "Processed"), ("v1", "Unprocessed")]
    only = eb.describe_application_versions(ApplicationName=app, VersionLabels=["v1"])["ApplicationVersions"]
    assert only[0]["SourceBundle"] == {"S3Bucket": bucket, "S3Key": f"{app}/v1.zip"}
    assert eb.describe_applications(ApplicationNames=[app])["Applications"][0]["Versions"] == ["v1", "v2"]

    eb.delete_application_version(ApplicationName=app, VersionLabel="v1")
    assert [
        v["VersionLabel"] for v in eb.describe_application_versions(ApplicationName=app)["ApplicationVersions"]
    ] == ["v2"]
    code, _, _ = error_of(lambda: eb.delete_application_version(ApplicationName=app, VersionLabel="v1"))
    assert code == "InvalidParameterValue"


def test_eb_storage_location_is_idempotent_and_creates_bucket(moto: Process) -> None:
    eb = client(moto.url, "elasticbeanstalk")
    first, second = eb.create_storage_location()["S3Bucket"], eb.create_storage_location()["S3Bucket"]
    assert first == second == f"elasticbeanstalk-us-east-1-{ACCOUNT}"
    client(moto.url, "s3").head_bucket(Bucket=first)


def test_eb_list_platform_versions_filters(moto: Process) -> None:
    eb = client(moto.url, "elasticbeanstalk")

    def versions(*filters: tuple[str, str, str]) -> list[str]:
        summaries = eb.list_platform_versions(
            Filters=[{"Type": t, "Operator": o, "Values": [v]} for t, o, v in filters]
        )["PlatformSummaryList"]
        return sorted(s["PlatformArn"].split("platform/")[1] for s in summaries)

    assert len(versions()) == 3
    assert versions(("PlatformBranchName", "=", ECS_BRANCH)) == [f"{ECS_BRANCH}/4.3.1", f"{ECS_BRANCH}/4.4.0"]
    assert versions(("PlatformBranchName", "=", ECS_BRANCH), ("PlatformLifecycleState", "=", "Recommended")) == [
        f"{ECS_BRANCH}/4.4.0"
    ]
    assert versions(("PlatformName", "contains", "Docker")) == ["Docker running on 64bit Amazon Linux 2023/4.4.0"]
    assert len(versions(("PlatformStatus", "=", "Ready"))) == 3
    summary = eb.list_platform_versions()["PlatformSummaryList"][0]
    assert summary["PlatformCategory"] and summary["OperatingSystemName"] == "Amazon Linux"


def test_eb_create_environment_validation(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    for bad in (
        {"PlatformArn": ECS_440_ARN.replace("4.4.0", "9.9.9")},
        {"SolutionStackName": "no such stack"},
        {"PlatformArn": ECS_440_ARN, "VersionLabel": "nope"},
    ):
        assert (
            error_of(lambda: eb.create_environment(ApplicationName=app, EnvironmentName=unique("env"), **bad))[0]
            == "InvalidParameterValue"
        )
    # Botocore checks the length client-side; the Rust SDK does not, so the server must.
    raw = client(moto.url, "elasticbeanstalk")
    raw.meta.events.register("before-parameter-build.*.*", lambda params, **_: params.update(EnvironmentName="x" * 41))
    assert (
        error_of(
            lambda: raw.create_environment(ApplicationName=app, EnvironmentName="valid-name", PlatformArn=ECS_440_ARN)
        )[0]
        == "InvalidParameterValue"
    )
    name = create_env(eb, app)["EnvironmentName"]
    code, _, message = error_of(
        lambda: eb.create_environment(ApplicationName=app, EnvironmentName=name, PlatformArn=ECS_440_ARN)
    )
    assert (code, message) == ("InvalidParameterValue", f"Environment {name} already exists.")
    stack = eb.create_environment(
        ApplicationName=app,
        EnvironmentName=unique("env"),
        SolutionStackName="64bit Amazon Linux 2023 v4.3.1 running ECS",
    )
    assert stack["PlatformArn"].endswith("/4.3.1")


def test_eb_delete_application(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    name = create_env(eb, app)["EnvironmentName"]
    assert error_of(lambda: eb.delete_application(ApplicationName=app))[0] == "InvalidParameterValue"
    eb.delete_application(ApplicationName=app, TerminateEnvByForce=True)
    assert eb.describe_applications(ApplicationNames=[app])["Applications"] == []
    assert [e["Status"] for e in eb.describe_environments(EnvironmentNames=[name])["Environments"]] == ["Terminated"]


# Elastic Beanstalk: health of the ECS platform's task

ECS_TASKS = "ecs-tasks.amazonaws.com"


def allow(action: str, resource: str, **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def make_role(endpoint: str, service: str, *statements: dict[str, Any], name: str | None = None) -> str:
    """A role trusted by `service` with one inline policy holding `statements`; its ARN."""
    iam = client(endpoint, "iam")
    name = name or unique("role")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if statements:
        iam.put_role_policy(
            RoleName=name,
            PolicyName="p",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
        )
    return arn


def make_instance_profile(endpoint: str, *statements: dict[str, Any]) -> str:
    """An instance profile whose EC2 role holds `statements`; its name."""
    iam = client(endpoint, "iam")
    role_name = make_role(endpoint, "ec2.amazonaws.com", *statements).rsplit("/", 1)[1]
    name = unique("profile")
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role_name)
    return name


def make_secret(endpoint: str) -> str:
    return client(endpoint, "secretsmanager").create_secret(
        Name=unique("db"), SecretString=json.dumps({"username": "app", "password": "pw"})
    )["ARN"]


@dataclass
class TaskWorld:
    """The IAM and Secrets Manager setup one environment's task meets."""

    exec_service: str | None = ECS_TASKS  # None: the role does not exist
    exec_reads_secret: bool = True
    instance_passes_role: bool = True
    instance_reads_secret: bool = True
    execution_role_in_dockerrun: bool = True
    image: str = "nginx:1.27"
    passed_to_service: str = ECS_TASKS
    secret_exists: bool = True
    json_key: str = "password"


def env_in(endpoint: str, world: TaskWorld, secret: str | None = None) -> tuple[Any, str, str, str]:
    """Creates an environment whose version's task meets `world` and reads `secret` (a new one by
    default): (client, name, the create's RequestId, the execution role's ARN)."""
    gone = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:gone-AbCdEf"
    secret = secret or (make_secret(endpoint) if world.secret_exists else gone)
    exec_arn = f"arn:aws:iam::{ACCOUNT}:role/{unique('missing')}"
    if world.exec_service:
        reads = [allow("secretsmanager:GetSecretValue", secret)] if world.exec_reads_secret else []
        exec_arn = make_role(endpoint, world.exec_service, *reads)
    instance: list[dict[str, Any]] = []
    if world.instance_passes_role:
        instance.append(allow("iam:PassRole", exec_arn, StringEquals={"iam:PassedToService": world.passed_to_service}))
    if world.instance_reads_secret:
        instance.append(allow("secretsmanager:GetSecretValue", secret))
    profile = make_instance_profile(endpoint, *instance)
    document = dockerrun(world.image, execution_role=exec_arn if world.execution_role_in_dockerrun else None)
    eb, app = eb_app_with_version(endpoint, document)
    options = [
        {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "IamInstanceProfile", "Value": profile},
        {
            "Namespace": "aws:elasticbeanstalk:application:environmentsecrets",
            "OptionName": "DB_PASSWORD",
            "Value": f"{secret}:{world.json_key}::",
        },
    ]
    created = create_env(eb, app, VersionLabel="v1", OptionSettings=options)
    return eb, created["EnvironmentName"], created["ResponseMetadata"]["RequestId"], exec_arn


def test_eb_task_that_can_start_is_green(moto: Process) -> None:
    # The execution role has an inline GetSecretValue policy and no AmazonECSTaskExecutionRolePolicy:
    # on EC2 instances that pull public images, ECS needs nothing more (ecs_tasks.py).
    eb, name, request_id, _ = env_in(moto.url, TaskWorld())
    env = settled(eb, name)
    assert (env["Health"], env["HealthStatus"], env["VersionLabel"]) == ("Green", "Ok", "v1")
    assert events_of(eb, name, RequestId=request_id)[-2:] == [
        ("INFO", f"Successfully launched environment: {name}", request_id),
        ("INFO", "Environment health has transitioned from Pending to Ok.", request_id),
    ]
    health = eb.describe_environment_health(EnvironmentName=name, AttributeNames=["All"])
    assert (health["Status"], health["Color"], health["HealthStatus"], health["Causes"]) == ("Ready", "Green", "Ok", [])
    assert health["InstancesHealth"]["Ok"] == 1 and health["InstancesHealth"]["Severe"] == 0
    assert set(eb.describe_environment_health(EnvironmentName=name)) == {"EnvironmentName", "ResponseMetadata"}
    instances = eb.describe_instances_health(EnvironmentName=name, AttributeNames=["All"])["InstanceHealthList"]
    assert [(i["HealthStatus"], i["Deployment"]["VersionLabel"], i["Deployment"]["Status"]) for i in instances] == [
        ("Ok", "v1", "Deployed")
    ]
    assert re.fullmatch(r"i-[0-9a-f]{17}", instances[0]["InstanceId"])


PASS_ROLE_DENIED = re.compile(
    rf"AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:assumed-role/role-\w+/i-[0-9a-f]+ is not authorized to "
    r"perform: iam:PassRole on resource: arn:aws:iam::\d+:role/role-\w+ because no identity-based policy allows "
    r"the iam:PassRole action"
)
CANNOT_ASSUME = re.compile(
    r"ECS was unable to assume the role 'arn:aws:iam::\d+:role/[\w-]+' that was provided for this task\. "
    r"Please verify that the role being passed has the proper trust relationship and permissions"
)


@pytest.mark.parametrize(
    "world, reason",
    [
        (
            TaskWorld(image="nginx:does-not-exist"),
            re.compile(
                r"Task failed to start\. \(c0: CannotPullContainerError: Error response from daemon: manifest for "
                r"nginx:does-not-exist not found: manifest unknown: manifest unknown\)"
            ),
        ),
        (TaskWorld(exec_service=None), CANNOT_ASSUME),
        (TaskWorld(exec_service="ec2.amazonaws.com"), CANNOT_ASSUME),
        (TaskWorld(instance_passes_role=False), PASS_ROLE_DENIED),
        (TaskWorld(passed_to_service="ec2.amazonaws.com"), PASS_ROLE_DENIED),
        (
            TaskWorld(exec_reads_secret=False),
            re.compile(
                r"ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
                r"failed: unable to retrieve secret from asm: service call has been retried 1 time\(s\): "
                r"AccessDeniedException: User: .*:assumed-role/role-\w+/[0-9a-f]{32} is not authorized to perform: "
                r"secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:\d+:secret:db-\w+-\w{6} "
            ),
        ),
        (
            TaskWorld(secret_exists=False),
            re.compile(
                r"retried 1 time\(s\): ResourceNotFoundException: Secrets Manager can't find the specified secret"
            ),
        ),
        (
            TaskWorld(json_key="passwd"),
            re.compile(r"retried 1 time\(s\): retrieved secret from Secrets Manager did not contain json key passwd$"),
        ),
        (
            TaskWorld(instance_reads_secret=False),
            re.compile(
                r"AccessDeniedException: User: .*/i-[0-9a-f]+ is not authorized to perform: "
                r"secretsmanager:GetSecretValue"
            ),
        ),
        (
            TaskWorld(execution_role_in_dockerrun=False),
            re.compile(
                r"ClientException: When you are specifying container secrets, you must also specify a value for "
                r"'executionRoleArn'\."
            ),
        ),
    ],
    ids=[
        "image-missing",
        "execution-role-missing",
        "execution-role-not-trusting-ecs-tasks",
        "instance-role-without-pass-role",
        "pass-role-for-another-service",
        "execution-role-cannot-read-secret",
        "secret-missing",
        "secret-without-json-key",
        "instance-role-cannot-read-secret",
        "secrets-without-execution-role",
    ],
)
def test_eb_task_that_cannot_start_is_red(moto: Process, world: TaskWorld, reason: re.Pattern[str]) -> None:
    eb, name, request_id, _ = env_in(moto.url, world)
    env = settled(eb, name)
    assert (env["Status"], env["Health"], env["HealthStatus"]) == ("Ready", "Red", "Severe")
    events = events_of(eb, name, RequestId=request_id)
    errors = [message for severity, message, _ in events if severity == "ERROR"]
    assert errors[0].startswith("ECS task stopped due to: ") and reason.search(errors[0]), errors[0]
    assert errors[-1] == (
        "Create environment operation is complete, but with errors. For more information, see troubleshooting "
        "documentation."
    )
    assert events[-1][:2] == (
        "WARN",
        (
            "Environment health has transitioned from Pending to Severe. Command failed on all instances. "
            "ELB health is failing or not available for all instances."
        ),
    )
    causes = eb.describe_environment_health(EnvironmentName=name, AttributeNames=["Causes"])["Causes"]
    assert causes == ["Command failed on all instances.", "ELB health is failing or not available for all instances."]


def test_eb_iam_evaluation_wildcards_and_deny(moto: Process) -> None:
    """The evaluator reads Action and Resource wildcards, managed policies, and explicit Deny."""
    iam = client(moto.url, "iam")
    secret = make_secret(moto.url)
    exec_arn = make_role(moto.url, ECS_TASKS, allow("secretsmanager:Get*", secret.rsplit(":", 1)[0] + ":db-*"))
    profile = make_instance_profile(moto.url, allow("iam:Pass*", "*"), allow("secretsmanager:*", "*"))
    eb, app = eb_app_with_version(moto.url, dockerrun(execution_role=exec_arn))
    add_version(moto.url, app, "v2", dockerrun(execution_role=exec_arn))
    options = [
        {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "IamInstanceProfile", "Value": profile},
        {"Namespace": "aws:elasticbeanstalk:application:environmentsecrets", "OptionName": "S", "Value": secret},
    ]
    name = create_env(eb, app, VersionLabel="v1", OptionSettings=options)["EnvironmentName"]
    assert settled(eb, name)["Health"] == "Green"
    # An attached customer managed policy that denies: the explicit Deny wins.
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}]}
    policy = iam.create_policy(PolicyName=unique("deny"), PolicyDocument=json.dumps(deny))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=exec_arn.rsplit("/", 1)[1], PolicyArn=policy)
    eb.update_environment(EnvironmentName=name, VersionLabel="v2")
    assert settled(eb, name)["Health"] == "Red"


def test_eb_failed_deployment_is_not_rolled_back(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    add_version(moto.url, app, "v2", dockerrun("nginx:1.27", "redis:does-not-exist"))
    name = create_env(eb, app, VersionLabel="v1")["EnvironmentName"]
    assert settled(eb, name)["Health"] == "Green"

    update = eb.update_environment(EnvironmentName=name, VersionLabel="v2")
    assert (update["Status"], update["VersionLabel"]) == ("Updating", "v2")
    request_id = update["ResponseMetadata"]["RequestId"]
    env = settled(eb, name)
    # Nothing runs and nothing rolls back; the environment expects the version that ran before.
    assert (env["Status"], env["Health"], env["HealthStatus"], env["VersionLabel"]) == ("Ready", "Red", "Severe", "v1")
    health = eb.describe_environment_health(EnvironmentId=env["EnvironmentId"], AttributeNames=["Causes", "Color"])
    assert health["Causes"] == [
        "Command failed on all instances.",
        'Incorrect application version found on all instances. Expected version "v1" (deployment 1).',
        "ELB health is failing or not available for all instances.",
    ]
    deployment = eb.describe_instances_health(EnvironmentName=name, AttributeNames=["Deployment"])[
        "InstanceHealthList"
    ][0]["Deployment"]
    assert (deployment["VersionLabel"], deployment["DeploymentId"], deployment["Status"]) == ("v2", 2, "Failed")
    messages = [m for _, m, _ in events_of(eb, name, RequestId=request_id)]
    assert messages[:2] == ["Environment update is starting.", "Deploying new version to instance(s)."]
    assert messages[2] == (
        "ECS task stopped due to: Task failed to start. (c1: CannotPullContainerError: Error response from daemon: "
        "manifest for redis:does-not-exist not found: manifest unknown: manifest unknown)"
    )
    assert "Failed to deploy application." in messages
    assert [m for s, m, _ in events_of(eb, name, Severity="ERROR")] == [
        m for s, m, _ in events_of(eb, name, RequestId=request_id) if s == "ERROR"
    ]

    # Deploying a version that works brings the environment back.
    redeploy = eb.update_environment(EnvironmentName=name, VersionLabel="v1")["ResponseMetadata"]["RequestId"]
    env = settled(eb, name)
    assert (env["Health"], env["HealthStatus"], env["VersionLabel"]) == ("Green", "Ok", "v1")
    assert events_of(eb, name, RequestId=redeploy)[-1][:2] == (
        "INFO",
        "Environment health has transitioned from Severe to Ok.",
    )


def awslogs(group: str, **extra: str) -> dict[str, Any]:
    options = {"awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app", **extra}
    return {"logDriver": "awslogs", "options": {k: v for k, v in options.items() if v}}


@pytest.mark.parametrize(
    "group_exists, statements, config, reason",
    [
        (True, [allow("logs:CreateLogStream", "*"), allow("logs:PutLogEvents", "*")], {}, None),
        # AWSElasticBeanstalkWebTier's CloudWatchLogsAccess covers groups under /aws/elasticbeanstalk.
        (True, ["WebTier"], {}, None),
        (
            False,
            [allow("logs:*", "*")],
            {},
            r"c0: CannotStartContainerError: Error response from daemon: failed to initialize logging driver: "
            r"failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist\.",
        ),
        (False, [allow("logs:*", "*")], {"awslogs-create-group": "true"}, None),
        (
            True,
            [allow("logs:PutLogEvents", "*")],
            {},
            r"c0: CannotStartContainerError: .*failed to create Cloudwatch log stream: AccessDeniedException: User: "
            r".*/i-[0-9a-f]+ is not authorized to perform: logs:CreateLogStream on resource: arn:aws:logs:us-east-1:"
            r"\d+:log-group:/aws/elasticbeanstalk/g-[0-9a-f]+/containers:log-stream:app/c0/[0-9a-f]{32} ",
        ),
        (
            True,
            [allow("logs:*", "*")],
            {"awslogs-region": ""},
            r"ClientException: Log driver awslogs option 'awslogs-region' should not be null or empty\.",
        ),
    ],
    ids=["allowed", "web-tier-policy", "group-missing", "group-created", "no-create-log-stream", "no-region"],
)
def test_eb_awslogs_driver_needs_its_group_and_the_instance_roles_rights(
    moto: Process, group_exists: bool, statements: list[Any], config: dict[str, str], reason: str | None
) -> None:
    group = f"/aws/elasticbeanstalk/{unique('g')}/containers"
    if group_exists:
        client(moto.url, "logs").create_log_group(logGroupName=group)
    inline = [st for st in statements if isinstance(st, dict)]
    profile = make_instance_profile(moto.url, *inline)
    if "WebTier" in statements:
        role = client(moto.url, "iam").get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"][0]
        client(moto.url, "iam").attach_role_policy(
            RoleName=role["RoleName"], PolicyArn="arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier"
        )
    eb, app = eb_app_with_version(moto.url, dockerrun(logConfiguration=awslogs(group, **config)))
    options = [{"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "IamInstanceProfile", "Value": profile}]
    created = create_env(eb, app, VersionLabel="v1", OptionSettings=options)
    env = settled(eb, created["EnvironmentName"])
    errors = [m for s, m, _ in events_of(eb, created["EnvironmentName"]) if s == "ERROR"]
    if reason is None:
        assert (env["Health"], errors) == ("Green", [])
    else:
        assert env["Health"] == "Red"
        assert errors[0].startswith("ECS task stopped due to: ") and re.search(reason, errors[0]), errors[0]


ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/shop/web@sha256:{'a' * 64}"
ECR_REPOSITORY = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/shop/web"


@pytest.mark.parametrize(
    ("statements", "reason"),
    [
        (
            [
                {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": ECR_REPOSITORY},
            ],
            None,
        ),
        (
            [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}],
            r"CannotPullContainerError: .*AccessDeniedException: .*ecr:BatchGetImage",
        ),
        (
            [{"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "*"}],
            r"CannotPullContainerError: .*ecr:GetAuthorizationToken",
        ),
    ],
)
def test_eb_ecr_images_are_pulled_with_the_instance_role(moto: Process, statements: list[Any], reason: str | None) -> None:
    profile = make_instance_profile(moto.url, *statements)
    eb, app = eb_app_with_version(moto.url, dockerrun(ECR_IMAGE))
    options = [{"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "IamInstanceProfile", "Value": profile}]
    created = create_env(eb, app, VersionLabel="v1", OptionSettings=options)
    env = settled(eb, created["EnvironmentName"])
    errors = [m for s, m, _ in events_of(eb, created["EnvironmentName"]) if s == "ERROR"]
    if reason is None:
        assert (env["Health"], errors) == ("Green", [])
    else:
        assert env["Health"] == "Red"
        assert re.search(reason, errors[0]), errors[0]


def test_eb_environment_without_dockerrun_fails_to_deploy(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    bucket = eb.create_storage_location()["S3Bucket"]
    client(moto.url, "s3").put_object(Bucket=bucket, Key=f"{app}/empty.zip", Body=b"not a zip")
    eb.create_application_version(
        ApplicationName=app, VersionLabel="empty", SourceBundle={"S3Bucket": bucket, "S3Key": f"{app}/empty.zip"}
    )
    name = create_env(eb, app, VersionLabel="empty")["EnvironmentName"]
    assert settled(eb, name)["Health"] == "Red"
    assert ("ERROR", "Instance deployment failed. For details, see 'eb-engine.log'.") in [
        e[:2] for e in events_of(eb, name)
    ]
    # The Docker platform and the sample application (no version) are not modelled: Green.
    docker = eb.create_environment(
        ApplicationName=app, EnvironmentName=unique("env"), PlatformArn=ECS_440_ARN.replace("ECS", "Docker")
    )
    assert settled(eb, docker["EnvironmentName"])["Health"] == "Green"


def test_eb_restart_app_server_starts_tasks_again(moto: Process) -> None:
    eb, name, _, exec_arn = env_in(moto.url, TaskWorld())
    before = settled(eb, name)
    assert before["Health"] == "Green"
    restart = eb.restart_app_server(EnvironmentName=name)["ResponseMetadata"]["RequestId"]
    # Updating until a describe settles it (the delay test shows the status itself).
    code, _, message = error_of(lambda: eb.restart_app_server(EnvironmentName=name))
    assert (code, message) == (
        "InvalidParameterValue",
        f"Environment named {name} is in an invalid state for this operation. Must be Ready.",
    )
    after = settled(eb, name)
    assert after["Health"] == "Green" and after["DateUpdated"] > before["DateUpdated"]
    assert [e[:2] for e in events_of(eb, name, RequestId=restart)] == [
        ("INFO", "restartAppServer is starting."),
        ("INFO", "restartAppServer completed successfully."),
    ]
    # Tasks read their secrets again when they start: a role that lost access now fails.
    client(moto.url, "iam").delete_role_policy(RoleName=exec_arn.rsplit("/", 1)[1], PolicyName="p")
    eb.restart_app_server(EnvironmentName=name)
    assert settled(eb, name)["Health"] == "Red"


def test_eb_request_ids_are_the_calls_own(moto: Process) -> None:
    eb = client(moto.url, "elasticbeanstalk")
    with pytest.raises(ClientError) as caught:
        eb.terminate_environment(EnvironmentName="no-such-env")
    for metadata in (caught.value.response["ResponseMetadata"], eb.describe_events()["ResponseMetadata"]):
        assert re.fullmatch(r"[A-Za-z0-9]{52}", metadata["RequestId"])
        assert metadata["RequestId"] == metadata["HTTPHeaders"]["x-amzn-requestid"]


def test_eb_describe_events_filters(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    created = create_env(eb, app, VersionLabel="v1")
    name = created["EnvironmentName"]
    settled(eb, name)
    every = eb.describe_events(EnvironmentName=name)["Events"]
    middle = every[len(every) // 2]["EventDate"]
    assert all(e["EventDate"] >= middle for e in eb.describe_events(EnvironmentName=name, StartTime=middle)["Events"])
    assert all(e["EventDate"] < middle for e in eb.describe_events(EnvironmentName=name, EndTime=middle)["Events"])
    assert eb.describe_events(EnvironmentName=name, Severity="WARN")["Events"] == []
    assert {e["RequestId"] for e in every} == {created["ResponseMetadata"]["RequestId"]}
    assert eb.describe_events(EnvironmentName=name, RequestId="no-such-request")["Events"] == []
    assert len(eb.describe_events(EnvironmentName=name, MaxRecords=1)["Events"]) == 1


# Elastic Beanstalk: configuration options

# What stackc sends (src/lower/plan.rs): every option must be one AWS knows.
STACKC_OPTIONS = [
    ("aws:autoscaling:launchconfiguration", "InstanceType", "t3.small"),
    ("aws:ec2:instances", "InstanceTypes", "t3.small"),
    ("aws:autoscaling:launchconfiguration", "IamInstanceProfile", "stack-ec2"),
    ("aws:autoscaling:launchconfiguration", "SecurityGroups", "sg-0123456789abcdef0"),
    ("aws:autoscaling:launchconfiguration", "DisableDefaultEC2SecurityGroup", "true"),
    ("aws:elasticbeanstalk:environment", "EnvironmentType", "LoadBalanced"),
    ("aws:elasticbeanstalk:environment", "ServiceRole", "stack-eb-service"),
    ("aws:elasticbeanstalk:environment", "LoadBalancerType", "application"),
    ("aws:elasticbeanstalk:healthreporting:system", "SystemType", "enhanced"),
    ("aws:elbv2:loadbalancer", "SecurityGroups", "sg-0123456789abcdef1"),
    ("aws:elbv2:loadbalancer", "ManagedSecurityGroup", "sg-0123456789abcdef1"),
    ("aws:elasticbeanstalk:environment:process:port8080", "Port", "8080"),
    ("aws:elasticbeanstalk:environment:process:port8080", "Protocol", "HTTP"),
    ("aws:elbv2:listener:8080", "ListenerEnabled", "true"),
    ("aws:elbv2:listener:8080", "Protocol", "HTTP"),
    ("aws:elbv2:listener:8080", "DefaultProcess", "port8080"),
    ("aws:elasticbeanstalk:application:environment", "API_URL", "http://api"),
    ("aws:elasticbeanstalk:application:environmentsecrets", "DB_PASSWORD", "arn:aws:secretsmanager:::secret:x"),
]


def options(*triples: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"Namespace": n, "OptionName": o, "Value": v} for n, o, v in triples]


def test_eb_rejects_unknown_options_as_aws_does(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    for namespace, option in (
        ("aws:elasticbeanstalk:environment", "Domain"),
        ("aws:elb:loadbalancer", "LoadBalancerType"),
        ("aws:no:such:namespace", "X"),
        # The Docker platform's proxy option does not apply to the ECS platform.
        ("aws:elasticbeanstalk:environment:proxy", "ProxyServer"),
    ):
        code, status, message = error_of(lambda: create_env(eb, app, OptionSettings=options((namespace, option, "x"))))
        assert (code, status, message) == (
            "ConfigurationValidationException",
            400,
            (
                f"Configuration validation exception: Invalid option specification (Namespace: '{namespace}', "
                f"OptionName: '{option}'): Unknown configuration setting."
            ),
        )
    name = create_env(eb, app, VersionLabel="v1", OptionSettings=options(*STACKC_OPTIONS))["EnvironmentName"]
    settled(eb, name)
    bad = options(("aws:elbv2:listener:443", "Protocl", "HTTPS"))
    assert error_of(lambda: eb.update_environment(EnvironmentName=name, OptionSettings=bad))[0] == (
        "ConfigurationValidationException"
    )
    messages = eb.validate_configuration_settings(
        ApplicationName=app, EnvironmentName=name, OptionSettings=bad + options(*STACKC_OPTIONS)
    )["Messages"]
    assert messages == [
        {
            "Message": "Invalid option specification (Namespace: 'aws:elbv2:listener:443', OptionName: 'Protocl'): "
            "Unknown configuration setting.",
            "Severity": "error",
            "Namespace": "aws:elbv2:listener:443",
            "OptionName": "Protocl",
        }
    ]
    docker = ECS_440_ARN.replace("ECS", "Docker")
    eb.create_environment(
        ApplicationName=app,
        EnvironmentName=unique("env"),
        PlatformArn=docker,
        OptionSettings=options(("aws:elasticbeanstalk:environment:proxy", "ProxyServer", "none")),
    )


def configuration(eb: Any, app: str, name: str) -> dict[tuple[str, str], dict[str, Any]]:
    settings = eb.describe_configuration_settings(ApplicationName=app, EnvironmentName=name)["ConfigurationSettings"]
    found = settings[0]["OptionSettings"]
    assert found == sorted(found, key=lambda o: (o["Namespace"], o["OptionName"])), "AWS answers sorted"
    return {(o["Namespace"], o["OptionName"]): o for o in found}


def test_eb_configuration_settings_are_aws_full_answer(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    env = create_env(eb, app, VersionLabel="v1", OptionSettings=options(*STACKC_OPTIONS))
    settled(eb, env["EnvironmentName"])
    found = configuration(eb, app, env["EnvironmentName"])

    def value(namespace: str, option: str) -> str | None:
        return found[(namespace, option)].get("Value")

    assert len(found) > 80
    # AWS's defaults, with the resource they configure.
    assert found[("aws:autoscaling:asg", "MinSize")] == {
        "Namespace": "aws:autoscaling:asg",
        "OptionName": "MinSize",
        "ResourceName": "AWSEBAutoScalingGroup",
        "Value": "1",
    }
    assert value("aws:autoscaling:asg", "MaxSize") == "4"
    assert value("aws:elasticbeanstalk:command", "DeploymentPolicy") == "AllAtOnce"
    assert value("aws:elasticbeanstalk:environment:process:default", "HealthCheckPath") == "/"
    assert value("aws:elbv2:listener:default", "ListenerEnabled") == "true"
    assert "Value" not in found[("aws:autoscaling:launchconfiguration", "EC2KeyName")]
    # What was sent, in AWS's forms: ServiceRole as an ARN, the rest as sent.
    assert value("aws:elasticbeanstalk:environment", "ServiceRole") == f"arn:aws:iam::{ACCOUNT}:role/stack-eb-service"
    assert value("aws:autoscaling:launchconfiguration", "SecurityGroups") == "sg-0123456789abcdef0"
    assert value("aws:elasticbeanstalk:healthreporting:system", "SystemType") == "enhanced"
    assert value("aws:elasticbeanstalk:environment:process:port8080", "Port") == "8080"
    assert value("aws:elasticbeanstalk:environment:process:port8080", "HealthCheckPath") == "/"
    assert value("aws:elasticbeanstalk:application:environment", "API_URL") == "http://api"
    # A classic load balancer's namespaces do not apply to an application load balancer.
    assert not any(namespace.startswith("aws:elb:") for namespace, _ in found)

    # The obsolete InstanceType follows InstanceTypes' first entry, whatever was sent for it.
    eb.update_environment(
        EnvironmentName=env["EnvironmentName"],
        OptionSettings=options(
            ("aws:ec2:instances", "InstanceTypes", "t3.large,t3.xlarge"),
            ("aws:autoscaling:launchconfiguration", "InstanceType", "t3.nano"),
        ),
    )
    settled(eb, env["EnvironmentName"])
    found = configuration(eb, app, env["EnvironmentName"])
    assert value("aws:ec2:instances", "InstanceTypes") == "t3.large,t3.xlarge"
    assert value("aws:autoscaling:launchconfiguration", "InstanceType") == "t3.large"


def test_eb_configuration_settings_defaults_depend_on_environment(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    single = create_env(
        eb, app, OptionSettings=options(("aws:elasticbeanstalk:environment", "EnvironmentType", "SingleInstance"))
    )
    found = configuration(eb, app, single["EnvironmentName"])
    assert found[("aws:autoscaling:asg", "MaxSize")]["Value"] == "1"
    assert found[("aws:ec2:instances", "InstanceTypes")]["Value"] == "t3.micro, t3.small"
    assert found[("aws:autoscaling:launchconfiguration", "InstanceType")]["Value"] == "t3.micro"
    assert not any(ns.startswith(("aws:elb", "aws:elasticbeanstalk:environment:process")) for ns, _ in found)
    # Without DisableDefaultEC2SecurityGroup, Elastic Beanstalk adds the group it creates.
    groups = found[("aws:autoscaling:launchconfiguration", "SecurityGroups")]["Value"]
    assert re.fullmatch(rf"awseb-{single['EnvironmentId']}-stack-AWSEBSecurityGroup-\w{{12}}", groups)

    classic = create_env(eb, app)
    found = configuration(eb, app, classic["EnvironmentName"])
    assert found[("aws:elasticbeanstalk:environment", "LoadBalancerType")]["Value"] == "classic"
    assert found[("aws:elb:healthcheck", "Target")] == {
        "Namespace": "aws:elb:healthcheck",
        "OptionName": "Target",
        "ResourceName": "AWSEBLoadBalancer",
        "Value": "TCP:80",
    }


# ElastiCache


# ACM and an environment's load balancer


def validation_record(acm: Any, arn: str) -> dict[str, str]:
    """The certificate's validation record, once ACM shows it (not on the first describe)."""
    for _ in range(2):
        option = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"][0]
        if "ResourceRecord" in option:
            return option["ResourceRecord"]
    raise AssertionError(f"no validation record for {arn}")


def publish(r53: Any, zone: str, name: str, value: str) -> None:
    change = {"Name": name, "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": value}]}
    r53.change_resource_record_sets(
        HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": change}]}
    )


def status_of(acm: Any, arn: str) -> str:
    return acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]


def test_acm_certificate_is_issued_once_its_record_is_in_a_public_zone(moto: Process) -> None:
    acm, r53 = client(moto.url, "acm"), client(moto.url, "route53")
    parent = f"{unique('shop')}.example"
    domain = f"app.{parent}"
    arn = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
    first = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert first["Status"] == "PENDING_VALIDATION" and "IssuedAt" not in first
    assert "ResourceRecord" not in first["DomainValidationOptions"][0], "ACM takes a moment to make the record"
    record = validation_record(acm, arn)
    assert re.fullmatch(rf"_[0-9a-f]{{32}}\.{re.escape(domain)}\.", record["Name"]), record
    assert re.fullmatch(r"_[0-9a-f]{32}\.[a-z]{10}\.acm-validations\.aws\.", record["Value"]), record
    other = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
    assert validation_record(acm, other) == record, "one record per domain and account"
    assert validation_record(acm, acm.request_certificate(DomainName=f"www.{parent}")["CertificateArn"]) != record

    vpc = client(moto.url, "ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    private = r53.create_hosted_zone(
        Name=parent, CallerReference=unique("p"), VPC={"VPCRegion": "us-east-1", "VPCId": vpc},
        HostedZoneConfig={"PrivateZone": True},
    )["HostedZone"]["Id"]
    publish(r53, private, record["Name"], record["Value"])
    assert status_of(acm, arn) == "PENDING_VALIDATION", "public DNS does not see a private zone"
    public = r53.create_hosted_zone(Name=parent, CallerReference=unique("z"))["HostedZone"]["Id"]
    publish(r53, public, record["Name"], "_0.wrong.acm-validations.aws.")
    assert status_of(acm, arn) == "PENDING_VALIDATION", "the value must be ACM's"
    publish(r53, public, record["Name"], record["Value"])
    issued = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert (issued["Status"], issued["DomainValidationOptions"][0]["ValidationStatus"]) == ("ISSUED", "SUCCESS")
    assert "IssuedAt" in issued and issued["InUseBy"] == []
    assert status_of(acm, other) == "ISSUED", "the same record validates both"


def other_account(endpoint: str, service: str, account: str = "111111111111") -> Any:
    """A client of `service` in another account (a role assumed there): a DNS provider outside
    the deployer's account."""
    creds = client(endpoint, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/dns", RoleSessionName="dns"
    )["Credentials"]
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def test_acm_sees_the_public_zones_of_every_account(moto: Process) -> None:
    acm = client(moto.url, "acm")
    parent = f"{unique('elsewhere')}.example"
    arn = acm.request_certificate(DomainName=f"app.{parent}", ValidationMethod="DNS")["CertificateArn"]
    record = validation_record(acm, arn)
    r53 = other_account(moto.url, "route53")
    zone = r53.create_hosted_zone(Name=parent, CallerReference=unique("z"))["HostedZone"]["Id"]
    mine = client(moto.url, "route53").list_hosted_zones()["HostedZones"]
    assert all(z["Id"] != zone for z in mine), "the zone is the other account's"
    publish(r53, zone, record["Name"], record["Value"])
    assert status_of(acm, arn) == "ISSUED"


def test_acm_validation_times_out_and_the_record_can_come_at_once() -> None:
    env = {**os.environ, "STACKC_MOTO_ACM_VALIDATION_TIMEOUT_SECONDS": "1", "STACKC_MOTO_ACM_RECORD_CALLS": "0"}
    server = Process("stackc_moto.py", env=env)
    try:
        acm = client(server.url, "acm")
        arn = acm.request_certificate(DomainName="late.example.org", ValidationMethod="DNS")["CertificateArn"]
        assert "ResourceRecord" in acm.describe_certificate(CertificateArn=arn)["Certificate"][
            "DomainValidationOptions"
        ][0]
        assert status_of(acm, arn) == "PENDING_VALIDATION"
        time.sleep(1.2)
        assert status_of(acm, arn) == "VALIDATION_TIMED_OUT"
        record = validation_record(acm, arn)
        r53 = client(server.url, "route53")
        zone = r53.create_hosted_zone(Name="example.org", CallerReference="z")["HostedZone"]["Id"]
        publish(r53, zone, record["Name"], record["Value"])
        assert status_of(acm, arn) == "VALIDATION_TIMED_OUT", "a timed-out certificate stays so"
    finally:
        assert server.stop() == 0


def issued_certificate(endpoint: str, domain: str) -> str:
    acm, r53 = client(endpoint, "acm"), client(endpoint, "route53")
    arn = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
    record = validation_record(acm, arn)
    zone = r53.create_hosted_zone(Name=domain, CallerReference=unique("z"))["HostedZone"]["Id"]
    publish(r53, zone, record["Name"], record["Value"])
    assert status_of(acm, arn) == "ISSUED"
    return arn


def load_balanced(*extra: tuple[str, str, str]) -> list[dict[str, str]]:
    return options(
        ("aws:elasticbeanstalk:environment", "EnvironmentType", "LoadBalanced"),
        ("aws:elasticbeanstalk:environment", "LoadBalancerType", "application"),
        *extra,
    )


def load_balancer_of(endpoint: str, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The environment's load balancer and its listeners, by port."""
    eb, elbv2 = client(endpoint, "elasticbeanstalk"), client(endpoint, "elbv2")
    lbs = eb.describe_environment_resources(EnvironmentName=name)["EnvironmentResources"]["LoadBalancers"]
    assert len(lbs) == 1, lbs
    lb = elbv2.describe_load_balancers(LoadBalancerArns=[lbs[0]["Name"]])["LoadBalancers"][0]
    listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    return lb, sorted(listeners, key=lambda listener: listener["Port"])


def test_eb_load_balanced_environment_has_an_application_load_balancer(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    listener = "aws:elbv2:listener:8080"
    process = "aws:elasticbeanstalk:environment:process:port8080"
    env = create_env(
        eb,
        app,
        VersionLabel="v1",
        OptionSettings=load_balanced(
            (listener, "ListenerEnabled", "true"), (listener, "DefaultProcess", "port8080"), (process, "Port", "8080")
        ),
    )
    described = settled(eb, env["EnvironmentName"])
    lb, listeners = load_balancer_of(moto.url, env["EnvironmentName"])
    assert (lb["Type"], lb["Scheme"]) == ("application", "internet-facing")
    assert described["EndpointURL"] == lb["DNSName"], "EndpointURL is the load balancer's name"
    assert [(item["Port"], item["Protocol"], item["DefaultActions"][0]["Type"]) for item in listeners] == [
        (80, "HTTP", "forward"),
        (8080, "HTTP", "forward"),
    ]
    groups = client(moto.url, "elbv2").describe_target_groups(
        TargetGroupArns=[item["DefaultActions"][0]["TargetGroupArn"] for item in listeners]
    )["TargetGroups"]
    assert sorted(g["Port"] for g in groups) == [80, 8080]

    single = create_env(
        eb, app, VersionLabel="v1",
        OptionSettings=options(("aws:elasticbeanstalk:environment", "EnvironmentType", "SingleInstance")),
    )
    settled(eb, single["EnvironmentName"])
    resources = eb.describe_environment_resources(EnvironmentName=single["EnvironmentName"])
    assert resources["EnvironmentResources"]["LoadBalancers"] == []

    eb.terminate_environment(EnvironmentName=env["EnvironmentName"])
    settled(eb, env["EnvironmentName"])
    code, _, _ = error_of(lambda: client(moto.url, "elbv2").describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]]))
    assert code == "LoadBalancerNotFound", "the load balancer goes with its environment"


REDIRECT = """Resources:
  AWSEBV2LoadBalancerListener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn:
        Ref: AWSEBV2LoadBalancer
      Port: 80
      Protocol: HTTP
      DefaultActions:
        - Type: redirect
          RedirectConfig: {Protocol: HTTPS, Port: "443", Host: "#{host}", Path: "/#{path}", Query: "#{query}", StatusCode: HTTP_301}
"""


def test_eb_https_listener_needs_an_issued_certificate(moto: Process) -> None:
    eb, app = eb_app_with_version(moto.url)
    acm = client(moto.url, "acm")
    https = "aws:elbv2:listener:443"
    pending = acm.request_certificate(DomainName=f"{unique('p')}.example.net", ValidationMethod="DNS")["CertificateArn"]
    env = create_env(
        eb,
        app,
        VersionLabel="v1",
        OptionSettings=load_balanced(
            (https, "ListenerEnabled", "true"), (https, "Protocol", "HTTPS"), (https, "SSLCertificateArns", pending)
        ),
    )
    name = env["EnvironmentName"]
    failed = settled(eb, name)
    assert failed["Health"] == "Red"
    errors = [m for severity, m, _ in events_of(eb, name) if severity == "ERROR"]
    assert any(f"Certificate '{pending}' not found" in m and "CertificateNotFound" in m for m in errors), errors

    arn = issued_certificate(moto.url, f"{unique('i')}.example.net")
    policy = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    eb.update_environment(
        EnvironmentName=name,
        OptionSettings=options((https, "SSLCertificateArns", arn), (https, "SSLPolicy", policy)),
    )
    assert settled(eb, name)["Health"] == "Green"
    lb, listeners = load_balancer_of(moto.url, name)
    assert [(item["Port"], item["Protocol"]) for item in listeners] == [(80, "HTTP"), (443, "HTTPS")]
    assert listeners[1]["Certificates"][0]["CertificateArn"] == arn and listeners[1]["SslPolicy"] == policy
    assert listeners[0]["DefaultActions"][0]["Type"] == "forward"
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"] == [lb["LoadBalancerArn"]]
    code, status, _ = error_of(lambda: acm.delete_certificate(CertificateArn=arn))
    assert (code, status) == ("ResourceInUseException", 400)

    add_version(moto.url, app, "v2", files={".ebextensions/https-redirect.config": REDIRECT})
    eb.update_environment(EnvironmentName=name, VersionLabel="v2")
    settled(eb, name)
    _, listeners = load_balancer_of(moto.url, name)
    redirect = listeners[0]["DefaultActions"][0]
    assert redirect["Type"] == "redirect", listeners[0]
    assert (redirect["RedirectConfig"]["Protocol"], redirect["RedirectConfig"]["Port"]) == ("HTTPS", "443")
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"

    eb.terminate_environment(EnvironmentName=name)
    settled(eb, name)
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"] == []
    acm.delete_certificate(CertificateArn=arn)


def default_network(endpoint: str) -> tuple[Any, str, list[str]]:
    ec2 = client(endpoint, "ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    return ec2, vpc, [s["SubnetId"] for s in subnets]


def test_elasticache_single_node_cluster(moto: Process) -> None:
    ec2, vpc, subnets = default_network(moto.url)
    ec = client(moto.url, "elasticache")
    group = ec2.create_security_group(GroupName=unique("redis"), Description="redis", VpcId=vpc)["GroupId"]
    propagated(ec2, group)
    subnet_group, cluster_id = unique("subnets"), unique("redis")
    ec.create_cache_subnet_group(
        CacheSubnetGroupName=subnet_group, CacheSubnetGroupDescription="d", SubnetIds=subnets[:2]
    )
    arn = ec.create_cache_cluster(
        CacheClusterId=cluster_id,
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheNodes=1,
        CacheSubnetGroupName=subnet_group,
        SecurityGroupIds=[group],
        Tags=[{"Key": "stackc:stack", "Value": "s"}],
    )["CacheCluster"]["ARN"]

    cluster = ec.describe_cache_clusters(CacheClusterId=cluster_id, ShowCacheNodeInfo=True)["CacheClusters"][0]
    assert cluster["CacheClusterStatus"] == "available"
    endpoint = cluster["CacheNodes"][0]["Endpoint"]
    assert re.fullmatch(rf"{cluster_id}\.[a-z0-9]{{6}}\.0001\.use1\.cache\.amazonaws\.com", endpoint["Address"])
    assert endpoint["Port"] == 6379
    assert cluster["SecurityGroups"] == [{"SecurityGroupId": group, "Status": "active"}]
    assert "CacheNodes" not in ec.describe_cache_clusters(CacheClusterId=cluster_id)["CacheClusters"][0]
    assert ec.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "stackc:stack", "Value": "s"}]

    assert (
        error_of(lambda: ec.delete_cache_subnet_group(CacheSubnetGroupName=subnet_group))[0] == "CacheSubnetGroupInUse"
    )
    assert error_of(lambda: ec2.delete_security_group(GroupId=group))[0] == "DependencyViolation"
    deleted = ec.delete_cache_cluster(CacheClusterId=cluster_id)["CacheCluster"]
    assert deleted["CacheClusterStatus"] == "deleting"
    assert error_of(lambda: ec.describe_cache_clusters(CacheClusterId=cluster_id))[0] == "CacheClusterNotFound"
    ec.delete_cache_subnet_group(CacheSubnetGroupName=subnet_group)
    assert (
        error_of(lambda: ec.describe_cache_subnet_groups(CacheSubnetGroupName=subnet_group))[0]
        == "CacheSubnetGroupNotFoundFault"
    )
    ec2.delete_security_group(GroupId=group)


def test_elasticache_replication_group(moto: Process) -> None:
    ec = client(moto.url, "elasticache")
    group_id = unique("rg")
    created = ec.create_replication_group(
        ReplicationGroupId=group_id,
        ReplicationGroupDescription="d",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheClusters=1,
        TransitEncryptionEnabled=True,
        AtRestEncryptionEnabled=True,
        Tags=[{"Key": "stackc:stack", "Value": "s"}],
    )["ReplicationGroup"]
    described = ec.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
    assert described["Status"] == "available"
    assert described["NodeGroups"][0]["PrimaryEndpoint"]["Port"] == 6379
    assert described["TransitEncryptionEnabled"] and described["AtRestEncryptionEnabled"]
    assert ec.list_tags_for_resource(ResourceName=created["ARN"])["TagList"] == [{"Key": "stackc:stack", "Value": "s"}]
    ec.delete_replication_group(ReplicationGroupId=group_id)
    assert (
        error_of(lambda: ec.describe_replication_groups(ReplicationGroupId=group_id))[0]
        == "ReplicationGroupNotFoundFault"
    )


# RDS


def test_rds_instance_lifecycle(moto: Process) -> None:
    ec2, vpc, subnets = default_network(moto.url)
    rds, secrets = client(moto.url, "rds"), client(moto.url, "secretsmanager")
    group = ec2.create_security_group(GroupName=unique("db"), Description="db", VpcId=vpc)["GroupId"]
    propagated(ec2, group)
    subnet_group, db_id = unique("dbsubnets"), unique("db")
    rds.create_db_subnet_group(DBSubnetGroupName=subnet_group, DBSubnetGroupDescription="d", SubnetIds=subnets[:2])
    created = rds.create_db_instance(
        DBInstanceIdentifier=db_id,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="stackc",
        ManageMasterUserPassword=True,
        DBSubnetGroupName=subnet_group,
        VpcSecurityGroupIds=[group],
        StorageEncrypted=True,
        DeletionProtection=True,
        Tags=[{"Key": "stackc:stack", "Value": "s"}],
    )["DBInstance"]
    secret = json.loads(secrets.get_secret_value(SecretId=created["MasterUserSecret"]["SecretArn"])["SecretString"])
    assert secret["username"] == "stackc" and len(secret["password"]) >= 16

    db = rds.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0]
    assert db["Endpoint"]["Address"] and db["Endpoint"]["Port"] == 5432
    assert db["VpcSecurityGroups"] == [{"VpcSecurityGroupId": group, "Status": "active"}]
    assert db["DeletionProtection"] and db["StorageEncrypted"]
    assert db["TagList"] == [{"Key": "stackc:stack", "Value": "s"}]
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == subnet_group

    assert (
        error_of(lambda: rds.delete_db_instance(DBInstanceIdentifier=db_id, SkipFinalSnapshot=True))[0]
        == "InvalidParameterCombination"
    )
    rds.modify_db_instance(DBInstanceIdentifier=db_id, DeletionProtection=False, ApplyImmediately=True)
    code, _, message = error_of(lambda: rds.delete_db_instance(DBInstanceIdentifier=db_id))
    assert (code, message) == (
        "InvalidParameterCombination",
        "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.",
    )
    assert error_of(lambda: ec2.delete_security_group(GroupId=group))[0] == "DependencyViolation"
    rds.delete_db_instance(DBInstanceIdentifier=db_id, FinalDBSnapshotIdentifier=f"{db_id}-final")
    assert rds.describe_db_snapshots(DBSnapshotIdentifier=f"{db_id}-final")["DBSnapshots"][0]["Status"] == "available"
    assert error_of(lambda: rds.describe_db_instances(DBInstanceIdentifier=db_id))[0] == "DBInstanceNotFound"
    ec2.delete_security_group(GroupId=group)


def test_rds_managed_password_rotation_is_observable(moto: Process) -> None:
    rds, secrets = client(moto.url, "rds"), client(moto.url, "secretsmanager")
    arn = rds.create_db_instance(
        DBInstanceIdentifier=unique("db"),
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="stackc",
        ManageMasterUserPassword=True,
    )["DBInstance"]["MasterUserSecret"]["SecretArn"]
    created = secrets.describe_secret(SecretId=arn)
    assert (created["RotationEnabled"], created["RotationRules"]) == (True, {"AutomaticallyAfterDays": 7})
    assert "LastRotatedDate" not in created and created["OwningService"] == "rds"
    before = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])

    # An environment whose tasks read the password and started before the rotation.
    eb, name, _, _ = env_in(moto.url, TaskWorld(), secret=arn)
    env = settled(eb, name)
    assert env["Health"] == "Green"
    started = env["DateUpdated"]

    rotated_id = secrets.rotate_secret(SecretId=arn)["VersionId"]
    rotated = secrets.describe_secret(SecretId=arn)
    assert rotated["LastRotatedDate"] > started and rotated["LastChangedDate"] == rotated["LastRotatedDate"]
    assert rotated["VersionIdsToStages"][rotated_id] == ["AWSCURRENT"]
    assert sorted(rotated["VersionIdsToStages"].values()) == [["AWSCURRENT"], ["AWSPREVIOUS"]]
    after = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    assert after["username"] == before["username"] == "stackc" and after["password"] != before["password"]
    previous = json.loads(secrets.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"])
    assert previous == before

    # RestartAppServer starts the tasks again, after the rotation.
    eb.restart_app_server(EnvironmentName=name)
    restarted = settled(eb, name)
    assert restarted["Health"] == "Green" and restarted["DateUpdated"] > rotated["LastRotatedDate"]


# EC2, IAM, S3


def test_ec2_new_security_group_is_not_visible_at_once(moto: Process) -> None:
    ec2, vpc, _ = default_network(moto.url)
    group = ec2.create_security_group(GroupName=unique("new"), Description="d", VpcId=vpc)["GroupId"]
    other = ec2.create_security_group(GroupName=unique("other"), Description="d", VpcId=vpc)["GroupId"]
    rule = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": other}]}
    # Filters do not name the group: they are not affected.
    found = ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroups"]
    assert [g["GroupId"] for g in found] == [group]
    # The group the rule names counts as much as the group the call changes.
    assert error_of(lambda: ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[rule])) == (
        "InvalidGroup.NotFound",
        400,
        f"The security group '{group}' does not exist",
    )
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[rule])
    assert ec2.describe_security_groups(GroupIds=[group, other])["SecurityGroups"]
    # The botocore standard retry policy does not retry it: the client must.
    retrying = client(moto.url, "ec2", attempts=3)
    late = retrying.create_security_group(GroupName=unique("late"), Description="d", VpcId=vpc)["GroupId"]
    assert error_of(lambda: retrying.delete_security_group(GroupId=late))[0] == "InvalidGroup.NotFound"
    retrying.delete_security_group(GroupId=late)


@pytest.mark.parametrize("calls", [0, 2])
def test_ec2_propagation_calls_are_configurable(calls: int) -> None:
    server = Process("stackc_moto.py", env={**os.environ, "STACKC_MOTO_EC2_PROPAGATION_CALLS": str(calls)})
    try:
        ec2, vpc, _ = default_network(server.url)
        group = ec2.create_security_group(GroupName=unique("g"), Description="d", VpcId=vpc)["GroupId"]
        for _ in range(calls):
            assert error_of(lambda: ec2.describe_security_groups(GroupIds=[group]))[0] == "InvalidGroup.NotFound"
        ec2.describe_security_groups(GroupIds=[group])
    finally:
        assert server.stop() == 0


def test_ec2_security_groups(moto: Process) -> None:
    ec2, vpc, subnets = default_network(moto.url)
    assert len(subnets) >= 2
    stack = unique("stack")
    tag_spec = [{"ResourceType": "security-group", "Tags": [{"Key": "stackc:stack", "Value": stack}]}]
    app = ec2.create_security_group(GroupName=unique("app"), Description="app", VpcId=vpc, TagSpecifications=tag_spec)
    db = ec2.create_security_group(GroupName=unique("db"), Description="db", VpcId=vpc, TagSpecifications=tag_spec)
    propagated(ec2, app["GroupId"])
    propagated(ec2, db["GroupId"])
    permission = {
        "IpProtocol": "tcp",
        "FromPort": 5432,
        "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": app["GroupId"]}],
    }
    ec2.authorize_security_group_ingress(GroupId=db["GroupId"], IpPermissions=[permission])
    assert (
        error_of(lambda: ec2.authorize_security_group_ingress(GroupId=db["GroupId"], IpPermissions=[permission]))[0]
        == "InvalidPermission.Duplicate"
    )
    found = ec2.describe_security_groups(Filters=[{"Name": "tag:stackc:stack", "Values": [stack]}])["SecurityGroups"]
    assert sorted(g["GroupId"] for g in found) == sorted([app["GroupId"], db["GroupId"]])

    code, _, message = error_of(lambda: ec2.delete_security_group(GroupId=app["GroupId"]))
    assert (code, message) == ("DependencyViolation", f"resource {app['GroupId']} has a dependent object")
    ec2.delete_security_group(GroupId=db["GroupId"])
    ec2.delete_security_group(GroupId=app["GroupId"])
    assert error_of(lambda: ec2.delete_security_group(GroupId=app["GroupId"]))[0] == "InvalidGroup.NotFound"


def test_iam_role_with_managed_policies_and_instance_profile(moto: Process) -> None:
    iam = client(moto.url, "iam")
    name = unique("stackc-ec2")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=[{"Key": "stackc:stack", "Value": "s"}]
    )
    policies = [
        "AWSElasticBeanstalkWebTier",
        "AWSElasticBeanstalkMulticontainerDocker",
        "service-role/AWSElasticBeanstalkEnhancedHealth",
        "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
        "service-role/AmazonECSTaskExecutionRolePolicy",
    ]
    for policy in policies:
        iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted(f"arn:aws:iam::aws:policy/{p}" for p in policies)
    # Like AWS, the Enhanced Health policy only exists under service-role/.
    assert (
        error_of(
            lambda: iam.attach_role_policy(
                RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AWSElasticBeanstalkEnhancedHealth"
            )
        )[0]
        == "NoSuchEntity"
    )
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [name]
    assert iam.get_role(RoleName=name)["Role"]["Tags"] == [{"Key": "stackc:stack", "Value": "s"}]


def test_s3_put_and_head(moto: Process) -> None:
    s3 = client(moto.url, "s3")
    bucket = unique("bundles")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="app/v1.zip", Body=b"bundle")
    assert s3.head_object(Bucket=bucket, Key="app/v1.zip")["ContentLength"] == 6
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="missing"))[1] == 404


# faultproxy


def test_proxy_forwards_and_counts(clean_proxy: Process) -> None:
    s3, eb, ec2 = (client(clean_proxy.url, name) for name in ("s3", "elasticbeanstalk", "ec2"))
    bucket = unique("proxied")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k/v.txt", Body=b"hello")
    assert s3.head_object(Bucket=bucket, Key="k/v.txt")["ContentLength"] == 5
    eb.describe_applications()
    ec2.describe_vpcs()
    stats = control(clean_proxy, "stats")
    assert (stats["total"], stats["reads"], stats["mutating"], stats["faults"]) == (5, 3, 2, 0)
    assert [(c["service"], c["operation"], c["mutating"]) for c in stats["calls"]] == [
        ("s3", f"PUT {bucket}", True),
        ("s3", f"PUT {bucket}/k/v.txt", True),
        ("s3", f"HEAD {bucket}/k/v.txt", False),
        ("elasticbeanstalk", "DescribeApplications", False),
        ("ec2", "DescribeVpcs", False),
    ]
    assert all(c["start_ms"] <= c["end_ms"] and c["fault"] is None for c in stats["calls"])
    control(clean_proxy, "reset", {})
    assert control(clean_proxy, "stats")["total"] == 0


def test_proxy_counts_rest_services_by_method(clean_proxy: Process) -> None:
    r53, acm = client(clean_proxy.url, "route53"), client(clean_proxy.url, "acm")
    zone = r53.create_hosted_zone(Name=f"{unique('counted')}.example", CallerReference=unique("c"))["HostedZone"]
    r53.list_hosted_zones()
    r53.list_resource_record_sets(HostedZoneId=zone["Id"])
    acm.list_certificates()
    calls = [(c["service"], c["operation"].split(" ")[0], c["mutating"]) for c in control(clean_proxy, "stats")["calls"]]
    assert calls == [
        ("route53", "POST", True),
        ("route53", "GET", False),
        ("route53", "GET", False),
        ("acm", "ListCertificates", False),
    ]


@pytest.mark.parametrize(
    "kind, expected",
    [
        (
            "throttle_rate",
            {
                "ec2": ("RequestLimitExceeded", 503),
                "rds": ("Throttling", 400),
                "elasticbeanstalk": ("Throttling", 400),
                "iam": ("Throttling", 400),
                "sts": ("Throttling", 400),
                "s3": ("SlowDown", 503),
                "secretsmanager": ("ThrottlingException", 400),
                "route53": ("Throttling", 400),
                "acm": ("ThrottlingException", 400),
            },
        ),
        (
            "unavailable_rate",
            {
                "ec2": ("ServiceUnavailable", 503),
                "rds": ("ServiceUnavailable", 503),
                "s3": ("ServiceUnavailable", 503),
                "secretsmanager": ("ServiceUnavailableException", 503),
            },
        ),
    ],
)
def test_proxy_fault_shapes_per_protocol(clean_proxy: Process, kind: str, expected: dict[str, tuple[str, int]]) -> None:
    calls = {
        "ec2": lambda c: c.describe_vpcs(),
        "rds": lambda c: c.describe_db_instances(),
        "elasticbeanstalk": lambda c: c.create_storage_location(),
        "iam": lambda c: c.list_roles(),
        "sts": lambda c: c.get_caller_identity(),
        "s3": lambda c: c.put_object(Bucket="b", Key="k", Body=b"x"),
        "secretsmanager": lambda c: c.list_secrets(),
        "route53": lambda c: c.list_hosted_zones(),
        "acm": lambda c: c.list_certificates(),
    }
    control(clean_proxy, "config", {kind: 1})
    for service, (code, status) in expected.items():
        assert error_of(lambda: calls[service](client(clean_proxy.url, service)))[:2] == (code, status), service
    stats = control(clean_proxy, "stats")
    assert stats["faults"] == stats["total"] == len(expected) and stats["reads"] == stats["mutating"] == 0
    assert error_of(lambda: client(clean_proxy.url, "s3").head_object(Bucket="b", Key="k"))[1] == 503


def test_proxy_faults_are_retryable_and_seeded(clean_proxy: Process, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda *_: 0)
    control(clean_proxy, "config", {"throttle_rate": 0.3, "unavailable_rate": 0.2, "seed": 42})
    ec2 = client(clean_proxy.url, "ec2", attempts=10)
    for _ in range(10):
        ec2.describe_vpcs()  # the SDK's standard retry policy recognises every injected error
    first = [c["fault"] for c in control(clean_proxy, "stats")["calls"]]
    assert {"throttle", "unavailable"} <= set(first)
    control(clean_proxy, "reset", {})
    for _ in range(10):
        ec2.describe_vpcs()
    assert [c["fault"] for c in control(clean_proxy, "stats")["calls"]] == first


def test_proxy_latency_applies_to_concurrent_calls(clean_proxy: Process) -> None:
    control(clean_proxy, "config", {"latency_ms": 300})
    clients = [client(clean_proxy.url, "sts") for _ in range(4)]
    started = time.monotonic()
    threads = [threading.Thread(target=c.get_caller_identity) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    calls = control(clean_proxy, "stats")["calls"]
    assert len(calls) == 4 and all(c["end_ms"] - c["start_ms"] >= 300 for c in calls)
    assert elapsed < 1.0, "calls were serialised instead of running concurrently"


def test_proxy_echo_fault_quotes_every_value_of_the_request(clean_proxy: Process) -> None:
    control(clean_proxy, "config", {"echo_operations": ["CreateDBSubnetGroup"]})
    rds = client(clean_proxy.url, "rds")
    code, status, message = error_of(
        lambda: rds.create_db_subnet_group(
            DBSubnetGroupName="g", DBSubnetGroupDescription="s3cr3t <&> value", SubnetIds=["subnet-1"]
        )
    )
    assert (code, status) == ("ValidationError", 400)
    assert "Value 's3cr3t <&> value' at 'DBSubnetGroupDescription'" in message
    assert "Value 'subnet-1'" in message
    # Other operations pass.
    rds.describe_db_instances()
    stats = control(clean_proxy, "stats")
    assert [c["fault"] for c in stats["calls"]] == ["echo", None]


def test_proxy_reset_fault_hangs_up_only_on_a_service_that_has_answered(moto: Process) -> None:
    proxy = Process("faultproxy.py", "--upstream", moto.url, "--port", "0", "--reset-rate", "1")
    try:
        sts = client(proxy.url, "sts")
        sts.get_caller_identity()  # the first call of a service is always forwarded
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            sts.get_caller_identity()
        calls = control(proxy, "stats")["calls"]
        assert [(c["service"], c["fault"], c["status"]) for c in calls] == [("sts", None, 200), ("sts", "reset", None)]
    finally:
        assert proxy.stop() == 0


def test_proxy_rejects_bad_config(clean_proxy: Process) -> None:
    for bad in (
        {"throttle_rate": 2},
        {"throttle_rate": 0.7, "unavailable_rate": 0.7},
        {"unavailable_rate": 0.5, "reset_rate": 0.6},
        {"latency": 5},
        {"echo_operations": [1]},
    ):
        with pytest.raises(urllib.error.HTTPError) as caught:
            control(clean_proxy, "config", bad)
        assert caught.value.code == 400


# Process lifetime


def test_processes_exit_on_stdin_eof_and_sigterm(moto: Process) -> None:
    for script, args in (("stackc_moto.py", ()), ("faultproxy.py", ("--upstream", moto.url))):
        by_eof = Process(script, *args)
        by_eof.proc.stdin.close()
        assert by_eof.proc.wait(timeout=10) == 0, script
        by_signal = Process(script, *args)
        by_signal.proc.send_signal(signal.SIGTERM)
        assert by_signal.proc.wait(timeout=10) == 0, script
        assert by_signal.proc.stdout.read() == "", f"{script} wrote more than the READY line"
        by_signal.proc.stdin.close()


# CloudWatch Logs


def test_logs_filter_by_stream_name_prefix(moto: Process) -> None:
    logs = client(moto.url, "logs")
    group = unique("/g")
    logs.create_log_group(logGroupName=group)
    for stream, message in (("app/web/1", "w"), ("app/worker/1", "k"), ("app/web/2", "w2")):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": int(time.time() * 1000), "message": message}])
    found = logs.filter_log_events(logGroupName=group, logStreamNamePrefix="app/web/")["events"]
    assert sorted(e["message"] for e in found) == ["w", "w2"]
    assert logs.filter_log_events(logGroupName=group, logStreamNamePrefix="none/")["events"] == []
    assert len(logs.filter_log_events(logGroupName=group)["events"]) == 3
    code, status, _ = error_of(
        lambda: logs.filter_log_events(logGroupName=group, logStreamNamePrefix="app/", logStreamNames=["app/web/1"])
    )
    assert (code, status) == ("InvalidParameterException", 400)
