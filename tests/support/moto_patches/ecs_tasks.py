"""What starting an Elastic Beanstalk ECS-platform environment's task would do on AWS.

"Elastic Beanstalk uses the Dockerrun.aws.json file in your project to generate the Amazon
ECS task definition" and "communicates with Amazon ECS to run a task on every instance"
(Using the ECS managed Docker platform branch). ``task_failure`` answers why that task
would not start on a real account, in ECS's own words (a task's stopped reason), or None
when it would start. It reads the version's Dockerrun.aws.json from moto's S3, the roles
from moto's IAM (evaluated by ``iam.allows``) and the secrets from moto's Secrets Manager.

The checks, in the order a task start meets them:
1. Secrets reach the task (``aws:elasticbeanstalk:application:environmentsecrets`` or a
   container's ``secrets``) without ``executionRoleArn``: ECS refuses the task definition.
   "For your application to use Elastic Beanstalk environment variables stored as secrets,
   you'll need to specify the ARN of a task execution role" (Configuring the
   Dockerrun.aws.json v2 file).
2. The instance profile's role cannot ``iam:PassRole`` the execution role to
   ecs-tasks.amazonaws.com: "Any usage of the ECS IAM task execution role requires the
   iam:PassRole permission" (same page, "EC2 instance profile grants iam:PassRole to ECS").
3. The execution role does not exist or does not trust ecs-tasks.amazonaws.com (Amazon ECS
   task execution IAM role: the role's trust policy names ecs-tasks.amazonaws.com).
4. The instance profile's role cannot read an environment secret: "Ensure that the
   necessary permissions are in place for your environment's EC2 instance profile role to
   access the secret" (General options, aws:elasticbeanstalk:application:environmentsecrets).
5. A secret does not exist, lacks the JSON key asked for, or the execution role lacks
   ``secretsmanager:GetSecretValue`` on it ("The Amazon ECS task execution IAM role also
   needs permissions to access the secrets", Dockerrun v2 page; Amazon ECS "Required IAM
   permissions for Amazon ECS secrets").
6. An image cannot be pulled. The emulator has no registry: an image whose tag is
   ``does-not-exist`` (e.g. ``nginx:does-not-exist``) stands for an image the registry does
   not have; every other image pulls. An image of an ECR repository (its host
   ``ACCOUNT.dkr.ecr.REGION.amazonaws.com``, or the registry ``STACKC_ECR_REGISTRY`` names in
   tests) is pulled with the instance profile's role: "Elastic Beanstalk automatically
   authenticates to the Amazon ECR registry with your environment's instance profile.
   Therefore you'll need to provide your instances with permission to access the images"
   (Authenticating with image repositories): ``ecr:GetAuthorizationToken``, and
   ``ecr:BatchGetImage`` and ``ecr:GetDownloadUrlForLayer`` on the repository; without them
   the pull is refused (CannotPullContainerError, "Troubleshooting Amazon ECS
   CannotPullContainerError errors").
7. A container's ``awslogs`` logging cannot start. Amazon ECS "Using the awslogs log driver":
   ``awslogs-group`` and ``awslogs-region`` are required (RegisterTaskDefinition refuses the
   task definition without them); the log group must exist unless ``awslogs-create-group`` is
   ``true``; and on EC2 "your container instance role needs ``logs:CreateLogStream`` and
   ``logs:PutLogEvents``" (with ``logs:CreateLogGroup`` to create the group). When the driver
   cannot start, Docker refuses to start the container ("failed to initialize logging driver",
   ECS's CannotStartContainerError, "Amazon ECS stopped task error messages").

Not modelled: AmazonECSTaskExecutionRolePolicy. Its permissions (ECR pulls, awslogs) are
needed by tasks "hosted on AWS Fargate or on an external instance" (Amazon ECS task
execution IAM role); Elastic Beanstalk runs tasks on its EC2 instances, which pull with
the instance profile ("Authenticating with image repositories"), so a role without it
still starts a task here. Also not modelled: private registries, the container instance
role's ecs:* permissions, memory and port conflicts, containers that start and then exit.
"""

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from moto.moto_api._internal import mock_random
from moto.s3.exceptions import MissingBucket, MissingKey
from moto.s3.models import S3Backend
from moto.secretsmanager.exceptions import SecretNotFoundException
from moto.secretsmanager.models import SecretsManagerBackend

from . import iam

ECS_TASKS = "ecs-tasks.amazonaws.com"
MISSING_IMAGE_TAG = "does-not-exist"


@dataclass
class Instance:
    """Where the task runs: what the instance profile is and who the instance is."""

    account_id: str
    partition: str
    instance_id: str
    profile: str | None  # aws:autoscaling:launchconfiguration/IamInstanceProfile
    region: str = "us-east-1"


@dataclass
class Failure:
    """Why the task did not start: ECS's reason, and for image pulls the container's name.
    `ecs` is False for a deployment that fails before ECS is involved."""

    reason: str
    container: str | None = None
    ecs: bool = True


def read_dockerrun(s3: S3Backend, bundle: dict[str, str]) -> dict[str, Any] | None:
    """The Dockerrun.aws.json at the root of a source bundle zip, or None."""
    try:
        body = s3.get_object(bundle["S3Bucket"], bundle["S3Key"]).value  # type: ignore[union-attr]
        with zipfile.ZipFile(io.BytesIO(body)) as bundle_zip:
            document = json.loads(bundle_zip.read("Dockerrun.aws.json"))
    except (AttributeError, KeyError, ValueError, zipfile.BadZipFile, MissingBucket, MissingKey):
        return None
    return document if isinstance(document, dict) else None


def task_failures(
    dockerrun: dict[str, Any],
    env_secrets: list[str],
    instance: Instance,
    secrets: SecretsManagerBackend,
    log_groups: set[str] | None = None,
) -> list[Failure]:
    """Why the task would not start (empty when it would), checked in the module's order."""
    containers = [c for c in dockerrun.get("containerDefinitions") or [] if isinstance(c, dict)]
    task_secrets = env_secrets + [
        s["valueFrom"] for c in containers for s in c.get("secrets") or [] if isinstance(s, dict) and "valueFrom" in s
    ]
    execution_role_arn = dockerrun.get("executionRoleArn")
    failure = _execution_role_failure(execution_role_arn, bool(task_secrets), instance)
    if failure is None:
        failure = _secret_failure(env_secrets, task_secrets, execution_role_arn, instance, secrets)
    if failure is None:
        failure = _log_option_failure(containers)
    if failure is not None:
        return [Failure(failure)]
    return _pull_failures(containers, instance) or _log_failures(containers, instance, log_groups or set())


def _execution_role_failure(role_arn: str | None, has_secrets: bool, instance: Instance) -> str | None:
    if not role_arn:
        # ECS RegisterTaskDefinition's ClientException for secrets without an execution role.
        return (
            "ClientException: When you are specifying container secrets, you must also specify a value for "
            "'executionRoleArn'."
            if has_secrets
            else None
        )
    instance_role = _instance_role(instance)
    if instance_role is None or not iam.allows(
        instance_role, "iam:PassRole", role_arn, {"iam:PassedToService": ECS_TASKS}
    ):
        return f"AccessDeniedException: {_denial(instance_role, instance, 'iam:PassRole', role_arn)}"
    role = iam.role_by_arn(instance.account_id, instance.partition, role_arn)
    if role is None or not iam.trusts(role, ECS_TASKS):
        # ECS's message when it cannot assume a task's role (missing, or not trusting ECS).
        return (
            f"ECS was unable to assume the role '{role_arn}' that was provided for this task. Please verify that "
            "the role being passed has the proper trust relationship and permissions and that your IAM user has "
            "permissions to pass this role."
        )
    return None


def _secret_failure(
    env_secrets: list[str],
    task_secrets: list[str],
    role_arn: str | None,
    instance: Instance,
    secrets: SecretsManagerBackend,
) -> str | None:
    instance_role = _instance_role(instance)
    for value_from in env_secrets:
        arn, _ = _split_secret(value_from)
        if instance_role is None or not iam.allows(instance_role, "secretsmanager:GetSecretValue", arn):
            return f"AccessDeniedException: {_denial(instance_role, instance, 'secretsmanager:GetSecretValue', arn)}"
    if not task_secrets or not role_arn:
        return None
    # The execution role exists and trusts ECS: checked first.
    role = iam.role_by_arn(instance.account_id, instance.partition, role_arn)
    for value_from in task_secrets:
        arn, json_key = _split_secret(value_from)
        problem = _unreadable(role, arn, json_key, secrets)  # type: ignore[arg-type]
        if problem:
            # ECS's ResourceInitializationError ("Troubleshooting Amazon ECS ResourceInitializationError errors").
            return (
                "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
                f"failed: unable to retrieve secret from asm: service call has been retried 1 time(s): {problem}"
            )
    return None


def _unreadable(role: iam.Role, arn: str, json_key: str, secrets: SecretsManagerBackend) -> str | None:
    if not iam.allows(role, "secretsmanager:GetSecretValue", arn):
        # The execution role's session is named after the task's id.
        task_id = "".join(mock_random.choice("0123456789abcdef") for _ in range(32))
        return f"AccessDeniedException: {iam.denial(role, task_id, 'secretsmanager:GetSecretValue', arn)}"
    try:
        value = secrets.get_secret_value(arn, None, "AWSCURRENT").get("SecretString") or ""  # type: ignore[arg-type]
    except SecretNotFoundException:
        return "ResourceNotFoundException: Secrets Manager can't find the specified secret."
    if json_key:
        try:
            found = json_key in json.loads(value)
        except (ValueError, TypeError):
            found = False
        if not found:
            return f"retrieved secret from Secrets Manager did not contain json key {json_key}"
    return None


def _ecr_repository(image: str) -> str | None:
    """The repository of an image in an ECR registry (``HOST/NAME@digest`` or ``HOST/NAME:tag``)."""
    host, _, rest = image.partition("/")
    test_registry = os.environ.get("STACKC_ECR_REGISTRY")
    if not rest or not (re.fullmatch(r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com", host) or host == test_registry):
        return None
    if "@" in rest:
        return rest.split("@")[0]
    return rest.rsplit(":", 1)[0]


def _pull_failures(containers: list[dict[str, Any]], instance: Instance) -> list[Failure]:
    failures = []
    for container in containers:
        image = str(container.get("image", ""))
        repository = _ecr_repository(image)
        if repository is not None:
            role = _instance_role(instance)
            arn = f"arn:{instance.partition}:ecr:{instance.region}:{instance.account_id}:repository/{repository}"
            for action, resource in (
                ("ecr:GetAuthorizationToken", "*"),
                ("ecr:BatchGetImage", arn),
                ("ecr:GetDownloadUrlForLayer", arn),
            ):
                if role is None or not iam.allows(role, action, resource):
                    failures.append(
                        Failure(
                            f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                            f"AccessDeniedException: {_denial(role, instance, action, resource)}",
                            container=str(container.get("name", "")),
                        )
                    )
                    break
            continue
        if image.rsplit("/", 1)[-1].partition(":")[2] == MISSING_IMAGE_TAG:
            # The Docker daemon's answer for a tag the registry does not have, as ECS reports it
            # ("Troubleshooting Amazon ECS CannotPullContainerError errors").
            failures.append(
                Failure(
                    f"CannotPullContainerError: Error response from daemon: manifest for {image} not found: "
                    "manifest unknown: manifest unknown",
                    container=str(container.get("name", "")),
                )
            )
    return failures


def _awslogs(container: dict[str, Any]) -> dict[str, str] | None:
    """The options of a container's ``awslogs`` driver, or None when it uses another."""
    config = container.get("logConfiguration")
    if not isinstance(config, dict) or config.get("logDriver") != "awslogs":
        return None
    options = config.get("options")
    return {str(k): str(v) for k, v in options.items()} if isinstance(options, dict) else {}


def _log_option_failure(containers: list[dict[str, Any]]) -> str | None:
    for container in containers:
        options = _awslogs(container)
        for required in ("awslogs-group", "awslogs-region"):
            if options is not None and not options.get(required):
                # RegisterTaskDefinition's ClientException for a missing awslogs option.
                return f"ClientException: Log driver awslogs option '{required}' should not be null or empty."
    return None


def _log_failures(containers: list[dict[str, Any]], instance: Instance, log_groups: set[str]) -> list[Failure]:
    role = _instance_role(instance)
    failures = []
    for container in containers:
        options = _awslogs(container)
        if options is None:
            continue
        name = str(container.get("name", ""))
        group, region = options["awslogs-group"], options["awslogs-region"]
        prefix = options.get("awslogs-stream-prefix")
        task_id = "".join(mock_random.choice("0123456789abcdef") for _ in range(32))
        stream = f"{prefix}/{name}/{task_id}" if prefix else task_id
        group_arn = f"arn:{instance.partition}:logs:{region}:{instance.account_id}:log-group:{group}"
        problem = None
        create = options.get("awslogs-create-group") == "true"
        if group not in log_groups or region != instance.region:
            if not create:
                problem = "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist."
            elif role is None or not iam.allows(role, "logs:CreateLogGroup", group_arn):
                denial = _denial(role, instance, "logs:CreateLogGroup", group_arn)
                problem = f"failed to create Cloudwatch log group: AccessDeniedException: {denial}"
        if problem is None:
            stream_arn = f"{group_arn}:log-stream:{stream}"
            for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
                if role is None or not iam.allows(role, action, stream_arn):
                    denial = _denial(role, instance, action, stream_arn)
                    problem = f"failed to create Cloudwatch log stream: AccessDeniedException: {denial}"
                    break
        if problem:
            failures.append(
                Failure(
                    f"CannotStartContainerError: Error response from daemon: failed to initialize logging driver: {problem}",
                    container=name,
                )
            )
    return failures


def _split_secret(value_from: str) -> tuple[str, str]:
    """A Secrets Manager ARN, optionally followed by :json-key:version-stage:version-id
    (Amazon ECS "Pass Secrets Manager secrets through Amazon ECS environment variables")."""
    parts = value_from.split(":")
    return ":".join(parts[:7]), (parts[7] if len(parts) > 7 else "")


def _instance_role(instance: Instance) -> iam.Role | None:
    profile = (
        iam.instance_profile(instance.account_id, instance.partition, instance.profile) if instance.profile else None
    )
    return profile.roles[0] if profile and profile.roles else None


def _denial(role: iam.Role | None, instance: Instance, action: str, resource: str) -> str:
    if role is None:
        # No role: nothing can allow the call. (The emulator's wording; AWS's depends on how
        # the instance gets no credentials.)
        profile = instance.profile
        return f"the instance profile {profile!r} gives the instances no role, so nothing allows {action} on {resource}"
    return iam.denial(role, instance.instance_id, action, resource)
