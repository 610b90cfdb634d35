"""Elastic Beanstalk: fills moto 5.2.5 gaps.

moto 5.2.5 only has Create/Describe/DeleteApplication, Create/DescribeEnvironments,
ListAvailableSolutionStacks and environment tags. CreateEnvironment drops most of its
input (OptionSettings, PlatformArn, VersionLabel, Tier; EnvironmentId and CNAME come
back empty), DescribeEnvironments ignores every filter, and UpdateEnvironment,
TerminateEnvironment, RestartAppServer, Create/Describe/DeleteApplicationVersion,
CreateStorageLocation, DescribeConfigurationSettings, ValidateConfigurationSettings,
ListPlatformVersions, DescribeEvents, DescribeEnvironmentHealth and DescribeInstancesHealth
answer HTTP 500. Its environments are always Green.

Status changes are driven by DescribeEnvironments and DescribeEnvironmentHealth (what a
client polls anyway): an operation puts the environment into Launching/Updating/Terminating
and a later describe settles it into Ready/Terminated. STACKC_MOTO_EB_DELAY_SECONDS
(default 0) is the minimum time before settling; when it is above 0 the transitional
status is also shown by at least one describe.

When an operation that starts the environment's ECS task settles (create, version or
configuration deployment, RestartAppServer), its health is computed from what that task
would do on AWS (``ecs_tasks``), and the events and health causes AWS gives are recorded
(``eb_health``). Option names are checked and answered as AWS does (``eb_options``).
"""

import os
import re
import string
import time
from datetime import UTC
from typing import Any

from moto.core.common_models import BaseModel
from moto.core.exceptions import ServiceException
from moto.core.resource_tagging import TaggedResource
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.elasticbeanstalk import urls as eb_urls
from moto.elasticbeanstalk.exceptions import (
    InvalidParameterValueError,
    ResourceNotFoundException,
)
from moto.elasticbeanstalk.models import Application, EBBackend, Environment, eb_backends
from moto.elasticbeanstalk.responses import SOLUTION_STACK_DETAILS, EBResponse
from moto.elasticbeanstalk.utils import make_arn
from moto.moto_api._internal import mock_random
from moto.s3.exceptions import MissingBucket
from moto.s3.models import S3Backend, s3_backends
from moto.logs.models import logs_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.utilities.aws_headers import gen_amzn_requestid_long
from moto.utilities.utils import get_partition

from . import eb_health, eb_load_balancer, eb_options, ecs_tasks
from .eb_health import CONFIGURE, CREATE, DEPLOY, RESTART, Health

DELAY_ENV_VAR = "STACKC_MOTO_EB_DELAY_SECONDS"

# (PlatformBranchName, version, solution stack suffix); the newest version of each
# branch is the "Recommended" one, as in ListPlatformVersions on AWS.
PLATFORM_CATALOGUE = [
    ("ECS running on 64bit Amazon Linux 2023", "4.3.1", "ECS"),
    ("ECS running on 64bit Amazon Linux 2023", "4.4.0", "ECS"),
    ("Docker running on 64bit Amazon Linux 2023", "4.4.0", "Docker"),
]

# AWS: "Must be from 4 to 40 characters in length. The name can contain only letters,
# numbers, and hyphens. It can't start or end with a hyphen."
ENVIRONMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9]$")

ENVIRONMENT_NS = "aws:elasticbeanstalk:environment"
# DescribeEvents' Severity, lowest first.
SEVERITIES = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
LAUNCH_NS = "aws:autoscaling:launchconfiguration"

# Health while an operation runs; once Ready, health is what the operation's tasks did.
HEALTH_BY_STATUS = {
    "Launching": ("Grey", "Pending"),
    "Updating": ("Green", "Info"),
    "Terminating": ("Grey", None),
    "Terminated": ("Grey", None),
}


class InvalidParameterCombinationError(ServiceException):
    code = "InvalidParameterCombination"


class InvalidRequestError(ServiceException):
    code = "InvalidRequestException"


class ConfigurationValidationError(ServiceException):
    # AWS answers an unknown option with this code and "Configuration validation exception: "
    # before the message (real answers: "An error occurred (ConfigurationValidationException)
    # when calling the CreateEnvironment operation: Configuration validation exception: ...",
    # squidsolutions/aws-eb-shell#1; pulumi/pulumi-aws#3461, status code 400).
    code = "ConfigurationValidationException"


def _random_id(length: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(mock_random.choice(alphabet) for _ in range(length))


def _delay_seconds() -> float:
    return float(os.environ.get(DELAY_ENV_VAR, "0") or 0)


class Transition:
    """A pending move to ``final``; see the module docstring for when it settles."""

    def __init__(self, final: str):
        self.final = final
        self.delay = _delay_seconds()
        self.due = time.monotonic() + self.delay
        self.shown = False

    def settles_now(self) -> bool:
        if time.monotonic() >= self.due and (self.shown or self.delay == 0):
            return True
        self.shown = True
        return False


def _platform_summaries(region: str) -> list[dict[str, Any]]:
    newest: dict[str, str] = {}
    for branch, version, _ in PLATFORM_CATALOGUE:
        newest[branch] = max(newest.get(branch, version), version, key=_version_key)
    summaries = []
    for branch, version, _ in PLATFORM_CATALOGUE:
        summary = {
            "PlatformArn": _platform_arn(region, branch, version),
            "PlatformOwner": "AWSElasticBeanstalk",
            "PlatformStatus": "Ready",
            "PlatformCategory": "Docker",
            "OperatingSystemName": "Amazon Linux",
            "OperatingSystemVersion": "2023",
            "SupportedTierList": ["WebServer/Standard", "Worker/SQS/HTTP"],
            "SupportedAddonList": ["Log/S3", "Monitoring/Healthd", "WorkerDaemon/SQSD"],
            "PlatformVersion": version,
            "PlatformBranchName": branch,
            "PlatformBranchLifecycleState": "Supported",
        }
        if newest[branch] == version:
            summary["PlatformLifecycleState"] = "Recommended"
        summaries.append(summary)
    return summaries


def _platform_arn(region: str, branch: str, version: str) -> str:
    return f"arn:{get_partition(region)}:elasticbeanstalk:{region}::platform/{branch}/{version}"


def _solution_stacks_by_platform_arn(region: str) -> dict[str, str]:
    return {
        _platform_arn(region, branch, version): f"64bit Amazon Linux 2023 v{version} running {suffix}"
        for branch, version, suffix in PLATFORM_CATALOGUE
    }


def _s3(backend: EBBackend) -> S3Backend:
    return s3_backends[backend.account_id][get_partition(backend.region_name)]


def _bucket_exists(s3: S3Backend, bucket: str) -> bool:
    try:
        s3.get_bucket(bucket)
    except MissingBucket:
        return False
    return True


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _matches_filter(summary: dict[str, Any], platform_filter: dict[str, Any]) -> bool:
    """One ListPlatformVersions PlatformFilter; the summary must match any of its Values."""
    kind = platform_filter.get("Type")
    operator = platform_filter.get("Operator", "=")
    values = platform_filter.get("Values") or []
    if kind == "PlatformName":
        actual = summary["PlatformArn"].split("platform/", 1)[1].rsplit("/", 1)[0]
    elif kind in ("SupportedTier", "SupportedAddon"):
        actual = summary[f"{kind}List"]
    else:
        actual = summary.get(kind)
    if actual is None:
        return operator == "!="

    def one(value: str) -> bool:
        if isinstance(actual, list):
            return value in actual if operator in ("=", "contains") else value not in actual
        if kind == "PlatformVersion" and operator in ("<", "<=", ">", ">="):
            a, b = _version_key(actual), _version_key(value)
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[operator]
        return {
            "=": actual == value,
            "!=": actual != value,
            "contains": value in actual,
            "begins_with": actual.startswith(value),
            "ends_with": actual.endswith(value),
        }.get(operator, False)

    return any(one(value) for value in values)


class StackcApplication(Application):
    def __init__(
        self, backend: "StackcEBBackend", application_name: str, description: str | None, tags: dict[str, str]
    ):
        super().__init__(backend=backend, application_name=application_name)
        self.description = description
        self.tags = tags
        self.date_created = self.date_updated = utcnow()
        self.application_versions: dict[str, ApplicationVersion] = {}
        self.configuration_templates: list[str] = []

    @property
    def application_arn(self) -> str:
        return self.arn

    @property
    def versions(self) -> list[str]:
        return list(self.application_versions)


class ApplicationVersion(BaseModel):
    def __init__(
        self,
        app: StackcApplication,
        version_label: str,
        description: str | None,
        source_bundle: dict[str, str] | None,
        process: bool,
        tags: dict[str, str],
    ):
        self.application_name = app.application_name
        self.version_label = version_label
        self.description = description
        self.source_bundle = source_bundle
        self.process = process
        self.tags = tags
        self.date_created = self.date_updated = utcnow()
        self.application_version_arn = make_arn(
            app.region, app.account_id, "applicationversion", f"{app.application_name}/{version_label}"
        )
        self.status = "Processing" if process else "Unprocessed"
        self._transition = Transition("Processed") if process else None

    def refresh(self) -> None:
        if self._transition and self._transition.settles_now():
            self.status = self._transition.final
            self._transition = None


class StackcEnvironment(Environment):
    """Keeps what CreateEnvironment was given; outlives its application like on AWS."""

    def __init__(self, backend: "StackcEBBackend", app: StackcApplication, name: str, params: dict[str, Any]):
        super().__init__(
            application=app,
            environment_name=name,
            solution_stack_name=params["solution_stack_name"],
            tags=params["tags"],
        )
        self._application_name = app.application_name
        self._account_id = backend.account_id
        self._region = backend.region_name
        self._backend = backend
        self._transition: Transition | None = None
        self._operation: tuple[str | None, str] = (None, "")
        self.environment_id = "e-" + _random_id(10)
        self.solution_stack_name = params["solution_stack_name"]
        self._platform_arn = params["platform_arn"]
        self.version_label = params["version_label"]
        self.description = params["description"]
        self.option_settings = params["option_settings"]
        self.operations_role = params["operations_role"]
        self.tier = params["tier"]
        if self.tier["Name"] == "WebServer":
            prefix = params["cname_prefix"] or f"{name}.{_random_id(10)}"
            self.cname = f"{prefix}.{self._region}.elasticbeanstalk.com".lower()
            self.endpoint_url = (
                f"awseb-{self.environment_id}-AWSEBLoa-{_random_id(12, string.ascii_uppercase + string.digits)}"
                f"-{mock_random.randint(100000000, 999999999)}.{self._region}.elb.amazonaws.com"
            )
        else:
            self.cname = self.endpoint_url = None
        self.instances = [
            {
                "InstanceId": "i-" + _random_id(17, "0123456789abcdef"),
                "LaunchedAt": utcnow(),
                "AvailabilityZone": f"{self._region}{'abc'[n % 3]}",
            }
            for n in range(self._instance_count())
        ]
        # DescribeInstancesHealth's Deployment; "expected" is what a failed deployment leaves
        # the environment expecting: the version (and deployment) that ran before.
        self.deployment = {"VersionLabel": self.version_label, "DeploymentId": 1, "Status": "In Progress"}
        self._expected = (self.version_label, 1)
        self._health = Health("Grey", "Pending")
        self.begin("Launching", "Ready", "createEnvironment is starting.", CREATE, backend.request_id)

    @property
    def application_name(self) -> str:
        return self._application_name

    @property
    def region(self) -> str:
        return self._region

    @property
    def environment_arn(self) -> str:
        return make_arn(
            self._region, self._account_id, "environment", f"{self._application_name}/{self.environment_name}"
        )

    @property
    def platform_arn(self) -> str | None:
        return self._platform_arn

    @platform_arn.setter
    def platform_arn(self, value: str | None) -> None:
        self._platform_arn = value

    @property
    def load_balanced(self) -> bool:
        return self.tier["Name"] == "WebServer" and self.setting(ENVIRONMENT_NS, "EnvironmentType") != "SingleInstance"

    @property
    def health_causes(self) -> list[str]:
        return self._health.causes if self.status == "Ready" else []

    def setting(self, namespace: str, name: str) -> str | None:
        return next(
            (s.get("Value") for s in self.option_settings if (s["Namespace"], s["OptionName"]) == (namespace, name)),
            None,
        )

    def instance_health(self) -> tuple[str, str, list[str]]:
        """(Color, HealthStatus, Causes) of every instance; they all run the same task."""
        if self.status == "Ready":
            return self._health.color, self._health.status, self._health.instance_causes
        color, status = HEALTH_BY_STATUS[self.status]
        return color, status or "NoData", []

    def begin(self, status: str, final: str, message: str, operation: str | None, request_id: str) -> None:
        self._set_status(status)
        self.abortable_operation_in_progress = status == "Updating"
        self._transition = Transition(final)
        self._operation = (operation, request_id)
        self.record_event(message, request_id)

    def deploy(self, version_label: str) -> None:
        self.version_label = version_label
        self.deployment = {
            "VersionLabel": version_label,
            "DeploymentId": self.deployment["DeploymentId"] + 1,
            "Status": "In Progress",
        }

    def refresh(self) -> None:
        if self._transition and self._transition.settles_now():
            previous = self.status
            self._set_status(self._transition.final)
            self._transition = None
            self.abortable_operation_in_progress = False
            operation, request_id = self._operation
            if previous == "Terminating":
                eb_load_balancer.remove(self)
                self.record_event("terminateEnvironment completed successfully.", request_id)
            elif operation is None:
                self.record_event("Environment update completed successfully.", request_id)
            else:
                self._finish(operation, request_id)

    def _finish(self, operation: str, request_id: str) -> None:
        """The operation's tasks have started (or not): record AWS's events and health."""
        failures = self._backend.load_balancer_failures(self) or self._backend.task_failures(self)
        expected_label, expected_deployment = self._expected
        outcome = eb_health.outcome(
            operation,
            self.environment_name,
            [i["InstanceId"] for i in self.instances],
            failures,
            expected_label,
            expected_deployment,
            self.load_balanced,
        )
        for severity, message in outcome.events:
            self.record_event(message, request_id, severity)
        if operation in (CREATE, DEPLOY):
            self.deployment |= {"Status": "Failed" if outcome.failed else "Deployed", "DeploymentTime": utcnow()}
            if outcome.failed and operation == DEPLOY:
                # The environment goes on expecting the version that ran before.
                self.version_label = expected_label
            else:
                self._expected = (self.version_label, self.deployment["DeploymentId"])
        transition = eb_health.transition_event(self._health.status, outcome.health.status, outcome.health.causes)
        self._health = outcome.health
        self._set_status(self.status)
        if transition:
            self.record_event(transition[1], request_id, transition[0])

    def record_event(self, message: str, request_id: str, severity: str = "INFO") -> None:
        self._backend.events.append(
            {
                "EventDate": utcnow(),
                "Message": message,
                "ApplicationName": self._application_name,
                "EnvironmentName": self.environment_name,
                "VersionLabel": self.version_label,
                "PlatformArn": self._platform_arn,
                # AWS: DescribeEvents' RequestId "restricts the described events to include only
                # those associated with this request ID".
                "RequestId": request_id,
                "Severity": severity,
                "_environment_id": self.environment_id,
            }
        )

    def _instance_count(self) -> int:
        # A single-instance environment has one; a load-balanced one starts with MinSize.
        if not self.load_balanced:
            return 1
        try:
            return max(1, int(self.setting("aws:autoscaling:asg", "MinSize") or 1))
        except ValueError:
            return 1

    def _set_status(self, status: str) -> None:
        self.status = status
        if status == "Ready":
            self.health, self.health_status = self._health.color, self._health.status
        else:
            self.health, self.health_status = HEALTH_BY_STATUS[status]
        self.date_updated = utcnow()


class StackcEBBackend(EBBackend):
    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.environments: list[StackcEnvironment] = []
        self.events: list[dict[str, Any]] = []
        # The RequestId of the call being served; its events carry it.
        self.request_id = ""

    @property
    def _url_module(self) -> Any:
        # moto derives the urls module from the backend class's module, which is now ours.
        return eb_urls

    # Applications

    def create_application(
        self, application_name: str, description: str | None = None, tags: dict[str, str] | None = None
    ) -> StackcApplication:
        if application_name in self.applications:
            raise InvalidParameterValueError(f"Application {application_name} already exists.")
        app = StackcApplication(self, application_name, description, tags or {})
        self.applications[application_name] = app
        return app

    def describe_applications(self, names: list[str]) -> list[StackcApplication]:
        return [app for name, app in self.applications.items() if not names or name in names]

    def delete_application(self, application_name: str, terminate_env_by_force: bool = False) -> None:
        if application_name not in self.applications:
            return
        running = [
            env
            for env in self.environments
            if env.application_name == application_name and env.status not in ("Terminating", "Terminated")
        ]
        if running and not terminate_env_by_force:
            # AWS: "You cannot delete an application that has a running environment."
            raise InvalidParameterValueError(
                f"Unable to delete application {application_name} because it has running environments: "
                + ", ".join(env.environment_name for env in running)
            )
        for env in running:
            env.begin("Terminating", "Terminated", "terminateEnvironment is starting.", None, self.request_id)
        del self.applications[application_name]

    def _application(self, name: str) -> StackcApplication:
        if name not in self.applications:
            raise InvalidParameterValueError(f"No Application named '{name}' found.")
        return self.applications[name]

    # Application versions

    def create_application_version(
        self,
        application_name: str,
        version_label: str,
        description: str | None,
        source_bundle: dict[str, str] | None,
        process: bool,
        auto_create_application: bool,
        tags: dict[str, str],
    ) -> ApplicationVersion:
        if auto_create_application and application_name not in self.applications:
            self.create_application(application_name)
        app = self._application(application_name)
        if version_label in app.application_versions:
            raise InvalidParameterValueError(f"Application Version {version_label} already exists.")
        if source_bundle:
            self._require_s3_object(source_bundle["S3Bucket"], source_bundle["S3Key"])
        version = ApplicationVersion(app, version_label, description, source_bundle, process, tags)
        app.application_versions[version_label] = version
        app.date_updated = utcnow()
        return version

    def _require_s3_object(self, bucket: str, key: str) -> None:
        s3 = _s3(self)
        if not _bucket_exists(s3, bucket) or s3.get_object(bucket, key) is None:
            raise InvalidParameterCombinationError(
                f"Unable to download from S3 location (Bucket: {bucket} Key: {key}). Reason: Not Found"
            )

    def describe_application_versions(
        self, application_name: str | None, version_labels: list[str]
    ) -> list[ApplicationVersion]:
        versions = [
            version
            for app in self.applications.values()
            if not application_name or app.application_name == application_name
            for version in app.application_versions.values()
            if not version_labels or version.version_label in version_labels
        ]
        for version in versions:
            version.refresh()
        return sorted(versions, key=lambda v: v.date_created, reverse=True)

    def delete_application_version(self, application_name: str, version_label: str, delete_source_bundle: bool) -> None:
        app = self._application(application_name)
        if version_label not in app.application_versions:
            raise InvalidParameterValueError(f"No Application Version named '{version_label}' found.")
        # "You cannot delete an application version that is associated with a running
        # environment." (DeleteApplicationVersion, AWS Elastic Beanstalk API Reference)
        running = [
            env.environment_name
            for env in self.environments
            if env.application_name == application_name
            and env.version_label == version_label
            and env.status != "Terminated"
        ]
        if running:
            raise InvalidParameterValueError(
                f"Unable to delete application version {version_label} because it is being used by "
                f"the following environments: {', '.join(running)}."
            )
        version = app.application_versions.pop(version_label)
        if delete_source_bundle and version.source_bundle:
            bucket, key = version.source_bundle["S3Bucket"], version.source_bundle["S3Key"]
            s3 = _s3(self)
            if _bucket_exists(s3, bucket):
                s3.delete_object(bucket, key)

    # Environments

    def create_environment(
        self, application_name: str, environment_name: str, params: dict[str, Any]
    ) -> StackcEnvironment:
        app = self._application(application_name)
        if not ENVIRONMENT_NAME.match(environment_name or ""):
            raise InvalidParameterValueError(
                f"Environment name '{environment_name}' is invalid: it must be 4 to 40 letters, digits or "
                "hyphens and must not begin or end with a hyphen."
            )
        if any(env.environment_name == environment_name and env.status != "Terminated" for env in self.environments):
            raise InvalidParameterValueError(f"Environment {environment_name} already exists.")
        params["platform_arn"], params["solution_stack_name"] = self._resolve_platform(
            params["platform_arn"], params["solution_stack_name"]
        )
        if params["version_label"] and params["version_label"] not in app.application_versions:
            raise InvalidParameterValueError(f"No Application Version named '{params['version_label']}' found.")
        _reject_unknown_options(params["option_settings"], params["solution_stack_name"])
        env = StackcEnvironment(self, app, environment_name, params)
        self.environments.append(env)
        return env

    def _resolve_platform(self, platform_arn: str | None, solution_stack_name: str | None) -> tuple[str | None, str]:
        stacks_by_arn = _solution_stacks_by_platform_arn(self.region_name)
        if platform_arn:
            if platform_arn not in stacks_by_arn:
                raise InvalidParameterValueError(f"No Platform named '{platform_arn}' found.")
            return platform_arn, stacks_by_arn[platform_arn]
        if not solution_stack_name:
            raise InvalidParameterValueError("Either PlatformArn or SolutionStackName must be specified.")
        arns_by_stack = {stack: arn for arn, stack in stacks_by_arn.items()}
        known = {d["SolutionStackName"] for d in SOLUTION_STACK_DETAILS} | set(arns_by_stack)
        if solution_stack_name not in known:
            raise InvalidParameterValueError(f"No Solution Stack named '{solution_stack_name}' found.")
        return arns_by_stack.get(solution_stack_name), solution_stack_name

    def describe_environments(
        self,
        application_name: str | None = None,
        version_label: str | None = None,
        environment_ids: list[str] | None = None,
        environment_names: list[str] | None = None,
        include_deleted: bool = True,
        included_deleted_back_to: Any = None,
    ) -> list[StackcEnvironment]:
        found = []
        for env in self.environments:
            if application_name and env.application_name != application_name:
                continue
            if version_label and env.version_label != version_label:
                continue
            if environment_ids and env.environment_id not in environment_ids:
                continue
            if environment_names and env.environment_name not in environment_names:
                continue
            env.refresh()
            if env.status == "Terminated" and not (
                include_deleted and (included_deleted_back_to is None or env.date_updated >= included_deleted_back_to)
            ):
                continue
            found.append(env)
        return found

    def _live_environment(self, environment_id: str | None, environment_name: str | None) -> StackcEnvironment:
        for env in self.environments:
            if env.status != "Terminated" and (
                env.environment_id == environment_id if environment_id else env.environment_name == environment_name
            ):
                return env
        if environment_id:
            raise InvalidParameterValueError(f"No Environment found for EnvironmentId = '{environment_id}'.")
        raise InvalidParameterValueError(f"No Environment found for EnvironmentName = '{environment_name}'.")

    @staticmethod
    def _require_ready(env: StackcEnvironment) -> None:
        if env.status != "Ready":
            raise InvalidParameterValueError(
                f"Environment named {env.environment_name} is in an invalid state for this operation. Must be Ready."
            )

    def update_environment(
        self, environment_id: str | None, environment_name: str | None, params: dict[str, Any]
    ) -> StackcEnvironment:
        env = self._live_environment(environment_id, environment_name)
        changes_configuration = params["option_settings"] or params["options_to_remove"] or params["template_name"]
        if params["version_label"] and changes_configuration:
            # AWS: "Attempting to update both the release and configuration is not allowed".
            raise InvalidParameterCombinationError(
                "Attempting to update both the release and configuration is not allowed."
            )
        self._require_ready(env)
        app = self.applications.get(env.application_name)
        if params["version_label"] and (app is None or params["version_label"] not in app.application_versions):
            raise InvalidParameterValueError(f"No Application Version named '{params['version_label']}' found.")
        platform = env.platform_arn, env.solution_stack_name
        if params["platform_arn"] or params["solution_stack_name"]:
            platform = self._resolve_platform(params["platform_arn"], params["solution_stack_name"])
        _reject_unknown_options(params["option_settings"], platform[1])
        operation = None
        if params["version_label"]:
            env.deploy(params["version_label"])
            operation = DEPLOY
        elif changes_configuration or platform != (env.platform_arn, env.solution_stack_name):
            # A configuration deployment: on the ECS platform, environment properties and
            # secrets reach the containers through the task, so the tasks start again.
            operation = CONFIGURE
        env.platform_arn, env.solution_stack_name = platform
        removed = {eb_options.setting_key(option) for option in params["options_to_remove"]}
        merged = {eb_options.setting_key(s): s for s in env.option_settings if eb_options.setting_key(s) not in removed}
        merged.update({eb_options.setting_key(s): s for s in params["option_settings"]})
        env.option_settings = list(merged.values())
        if params["description"] is not None:
            env.description = params["description"]
        env.begin("Updating", "Ready", "Environment update is starting.", operation, self.request_id)
        return env

    def restart_app_server(self, environment_id: str | None, environment_name: str | None) -> None:
        # AWS: "Causes the environment to restart the application container server running on
        # each Amazon EC2 instance." The ECS platform's tasks start again, reading their secrets.
        env = self._live_environment(environment_id, environment_name)
        self._require_ready(env)
        env.begin("Updating", "Ready", "restartAppServer is starting.", RESTART, self.request_id)

    def terminate_environment(self, environment_id: str | None, environment_name: str | None) -> StackcEnvironment:
        env = self._live_environment(environment_id, environment_name)
        self._require_ready(env)
        env.begin("Terminating", "Terminated", "terminateEnvironment is starting.", None, self.request_id)
        return env

    def describe_configuration_settings(self, application_name: str, environment_name: str) -> dict[str, Any]:
        env = self._live_environment(None, environment_name)
        if env.application_name != application_name:
            raise InvalidParameterValueError(f"No Environment found for EnvironmentName = '{environment_name}'.")
        return {
            "SolutionStackName": env.solution_stack_name,
            "PlatformArn": env.platform_arn,
            "ApplicationName": env.application_name,
            "EnvironmentName": env.environment_name,
            "Description": env.description,
            "DeploymentStatus": "deployed",
            "DateCreated": env.date_created,
            "DateUpdated": env.date_updated,
            "OptionSettings": eb_options.full_settings(env.option_settings, self._options_context(env)),
        }

    def validate_configuration_settings(
        self, application_name: str, environment_name: str | None, option_settings: list[dict[str, Any]]
    ) -> list[dict[str, str]]:
        # AWS answers problems as messages ("Severity: error ... the option setting is invalid")
        # rather than as an error.
        self._application(application_name)
        stack = self._live_environment(None, environment_name).solution_stack_name if environment_name else ""
        return [
            {
                "Message": eb_options.unknown_setting_message(setting),
                "Severity": "error",
                "Namespace": setting.get("Namespace", ""),
                "OptionName": setting.get("OptionName", ""),
            }
            for setting in eb_options.unknown_settings(option_settings, _is_docker(stack))
        ]

    def _options_context(self, env: StackcEnvironment) -> eb_options.Context:
        return eb_options.Context(
            account_id=self.account_id,
            partition=get_partition(self.region_name),
            environment_id=env.environment_id,
            docker_platform=_is_docker(env.solution_stack_name),
            worker_tier=env.tier["Name"] == "Worker",
        )

    # Health

    def load_balancer_failures(self, env: StackcEnvironment) -> list[ecs_tasks.Failure]:
        """Makes the environment's load balancer what its options and bundle say, or why not."""
        app = self.applications.get(env.application_name)
        version = app.application_versions.get(env.version_label or "") if app else None
        return eb_load_balancer.sync(env, _s3(self), version.source_bundle if version else None)

    def describe_environment_resources(
        self, environment_id: str | None, environment_name: str | None
    ) -> dict[str, Any]:
        return eb_load_balancer.resources(self._live_environment(environment_id, environment_name))

    def task_failures(self, env: StackcEnvironment) -> list[ecs_tasks.Failure]:
        """Why the environment's ECS task would not start on AWS (ECS platform only; the
        Docker platform and an environment running the sample application always start)."""
        app = self.applications.get(env.application_name)
        version = app.application_versions.get(env.version_label or "") if app else None
        if not env.solution_stack_name.endswith("running ECS") or version is None or not version.source_bundle:
            return []
        dockerrun = ecs_tasks.read_dockerrun(_s3(self), version.source_bundle)
        if dockerrun is None:
            # The ECS platform needs "a configuration file named Dockerrun.aws.json"; AL2023
            # platforms report a failed deployment this way.
            return [ecs_tasks.Failure("Instance deployment failed. For details, see 'eb-engine.log'.", ecs=False)]
        env_secrets = [
            s["Value"] for s in env.option_settings if s["Namespace"] == eb_options.ENV_SECRETS and s.get("Value")
        ]
        instance = ecs_tasks.Instance(
            account_id=self.account_id,
            partition=get_partition(self.region_name),
            instance_id=env.instances[0]["InstanceId"],
            profile=env.setting(LAUNCH_NS, "IamInstanceProfile"),
            region=self.region_name,
        )
        secrets = secretsmanager_backends[self.account_id][self.region_name]
        log_groups = set(logs_backends[self.account_id][self.region_name].groups)
        return ecs_tasks.task_failures(dockerrun, env_secrets, instance, secrets, log_groups)

    def _health_environment(self, environment_id: str | None, environment_name: str | None) -> StackcEnvironment:
        # These two operations answer InvalidRequestException where the others answer
        # InvalidParameterValue (their only documented client error).
        if not environment_id and not environment_name:
            raise InvalidRequestError("Specify either EnvironmentName or EnvironmentId.")  # emulator wording
        try:
            env = self._live_environment(environment_id, environment_name)
        except InvalidParameterValueError as e:
            raise InvalidRequestError(e.message) from e
        env.refresh()
        return env

    def describe_environment_health(
        self, environment_id: str | None, environment_name: str | None, attributes: list[str]
    ) -> dict[str, Any]:
        env = self._health_environment(environment_id, environment_name)
        statuses = [env.instance_health()[1] for _ in env.instances] if env.status != "Terminated" else []
        every = {
            "Status": env.status,
            "Color": env.health,
            "HealthStatus": env.health_status,
            "Causes": env.health_causes,
            "ApplicationMetrics": {"RequestCount": 0},
            "InstancesHealth": {s: statuses.count(s) for s in eb_health.INSTANCE_STATUSES},
            "RefreshedAt": utcnow(),
        }
        # "If no attribute names are specified, returns the name of the environment."
        return {"EnvironmentName": env.environment_name} | _chosen(every, attributes)

    def describe_instances_health(
        self, environment_id: str | None, environment_name: str | None, attributes: list[str]
    ) -> dict[str, Any]:
        env = self._health_environment(environment_id, environment_name)
        color, status, causes = env.instance_health()
        instance_type = eb_options.instance_type(env.option_settings)
        instances = [
            {"InstanceId": i["InstanceId"]}
            | _chosen(
                {
                    "HealthStatus": status,
                    "Color": color,
                    "Causes": causes,
                    "LaunchedAt": i["LaunchedAt"],
                    "ApplicationMetrics": {"RequestCount": 0},
                    "System": {},
                    "Deployment": env.deployment,
                    "AvailabilityZone": i["AvailabilityZone"],
                    "InstanceType": instance_type,
                },
                attributes,
            )
            for i in env.instances
        ]
        refreshed = _chosen({"RefreshedAt": utcnow()}, attributes)
        return {"InstanceHealthList": instances} | refreshed

    # Account-level helpers

    def create_storage_location(self) -> str:
        bucket = f"elasticbeanstalk-{self.region_name}-{self.account_id}"
        s3 = _s3(self)
        if not _bucket_exists(s3, bucket):
            s3.create_bucket(bucket, self.region_name)
        return bucket

    def list_platform_versions(self, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [s for s in _platform_summaries(self.region_name) if all(_matches_filter(s, f) for f in filters)]

    def describe_events(self, filters: dict[str, Any], max_records: int | None) -> list[dict[str, Any]]:
        """Newest first. StartTime: "on or after"; EndTime: "up to, but not including";
        Severity: "the specified severity or higher"; the others must equal the event's."""
        start, end = _naive_utc(filters.pop("StartTime", None)), _naive_utc(filters.pop("EndTime", None))
        severity = filters.pop("Severity", None)
        environment_id = filters.pop("EnvironmentId", None)
        events = [
            {k: v for k, v in event.items() if not k.startswith("_")}
            for event in reversed(self.events)
            if all(value is None or event.get(key) == value for key, value in filters.items())
            and (not environment_id or event["_environment_id"] == environment_id)
            and (start is None or event["EventDate"] >= start)
            and (end is None or event["EventDate"] < end)
            and (severity is None or SEVERITIES.index(event["Severity"]) >= SEVERITIES.index(severity))
        ]
        return events[:max_records] if max_records else events

    # Tags: moto only knows environments; AWS also tags applications and versions.

    def _taggable(self, arn: str) -> Any:
        for env in self.environments:
            if env.environment_arn == arn and env.status != "Terminated":
                return env
        for app in self.applications.values():
            if app.arn == arn:
                return app
            for version in app.application_versions.values():
                if version.application_version_arn == arn:
                    return version
        raise ResourceNotFoundException(f"Resource not found for ARN '{arn}'.")

    def list_tags_for_resource(self, resource_arn: str) -> dict[str, str]:
        return self._taggable(resource_arn).tags

    def update_tags_for_resource(
        self, resource_arn: str, tags_to_add: dict[str, str], tags_to_remove: list[str]
    ) -> None:
        tags = self._taggable(resource_arn).tags
        tags.update(tags_to_add)
        for key in tags_to_remove:
            tags.pop(key, None)

    def iter_tagged_resources(self) -> Any:
        for env in self.environments:
            if env.status != "Terminated":
                yield TaggedResource(
                    arn=env.environment_arn,
                    tags=dict(env.tags),
                    resource_type="elasticbeanstalk:environment",
                    extra={"include_untagged": True},
                )
        for app in self.applications.values():
            yield TaggedResource(
                arn=app.arn,
                tags=dict(app.tags),
                resource_type="elasticbeanstalk:application",
                extra={"include_untagged": True},
            )


def _is_docker(solution_stack_name: str) -> bool:
    return solution_stack_name.endswith("running Docker")


def _reject_unknown_options(settings: list[dict[str, Any]], solution_stack_name: str) -> None:
    unknown = eb_options.unknown_settings(settings, _is_docker(solution_stack_name))
    if unknown:
        message = eb_options.unknown_setting_message(unknown[0])
        raise ConfigurationValidationError(f"Configuration validation exception: {message}")


def _chosen(attributes: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The AttributeNames asked for ("All" for every one)."""
    return {k: v for k, v in attributes.items() if "All" in names or k in names}


def _naive_utc(moment: Any) -> Any:
    # Events are stamped with moto's naive UTC; a client's time may carry a zone.
    if moment is not None and getattr(moment, "tzinfo", None) is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _tags(param: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in param or []}


class StackcEBResponse(EBResponse):
    @property
    def elasticbeanstalk_backend(self) -> StackcEBBackend:
        return eb_backends[self.current_account][self.region]

    def call_action(self) -> Any:
        # The request id is chosen before the operation runs, so that the events it records
        # carry the id the client receives.
        self.request_id = gen_amzn_requestid_long()
        self.elasticbeanstalk_backend.request_id = self.request_id
        return super().call_action()

    def _enrich_response(self, headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        # moto's version rewrites every <RequestId> in the body, events' included; only the
        # call's own (the last one, in ResponseMetadata or ErrorResponse) is the call's.
        headers["x-amzn-requestid"] = self.request_id
        if isinstance(body, str):
            body = re.sub(
                r"(.*<RequestId>)[^<]*(</RequestId>)", rf"\g<1>{self.request_id}\g<2>", body, count=1, flags=re.S
            )
        return headers, body

    def create_application(self) -> ActionResult:
        app = self.elasticbeanstalk_backend.create_application(
            self._get_param("ApplicationName"), self._get_param("Description"), _tags(self._get_param("Tags"))
        )
        return ActionResult({"Application": app})

    def describe_applications(self) -> ActionResult:
        apps = self.elasticbeanstalk_backend.describe_applications(self._get_param("ApplicationNames", []))
        return ActionResult({"Applications": apps})

    def delete_application(self) -> ActionResult:
        self.elasticbeanstalk_backend.delete_application(
            self._get_param("ApplicationName"), bool(self._get_param("TerminateEnvByForce"))
        )
        return EmptyResult()

    def create_application_version(self) -> ActionResult:
        version = self.elasticbeanstalk_backend.create_application_version(
            application_name=self._get_param("ApplicationName"),
            version_label=self._get_param("VersionLabel"),
            description=self._get_param("Description"),
            source_bundle=self._get_param("SourceBundle"),
            process=bool(self._get_param("Process")),
            auto_create_application=bool(self._get_param("AutoCreateApplication")),
            tags=_tags(self._get_param("Tags")),
        )
        return ActionResult({"ApplicationVersion": version})

    def describe_application_versions(self) -> ActionResult:
        versions = self.elasticbeanstalk_backend.describe_application_versions(
            self._get_param("ApplicationName"), self._get_param("VersionLabels", [])
        )
        return ActionResult({"ApplicationVersions": versions})

    def delete_application_version(self) -> ActionResult:
        self.elasticbeanstalk_backend.delete_application_version(
            self._get_param("ApplicationName"),
            self._get_param("VersionLabel"),
            bool(self._get_param("DeleteSourceBundle")),
        )
        return EmptyResult()

    def create_environment(self) -> ActionResult:
        env = self.elasticbeanstalk_backend.create_environment(
            self._get_param("ApplicationName"),
            self._get_param("EnvironmentName"),
            {
                "platform_arn": self._get_param("PlatformArn"),
                "solution_stack_name": self._get_param("SolutionStackName"),
                "version_label": self._get_param("VersionLabel"),
                "description": self._get_param("Description"),
                "cname_prefix": self._get_param("CNAMEPrefix"),
                "operations_role": self._get_param("OperationsRole"),
                "option_settings": list(self._get_param("OptionSettings", [])),
                "tier": {"Name": "WebServer", "Type": "Standard", "Version": "1.0"} | (self._get_param("Tier") or {}),
                "tags": _tags(self._get_param("Tags")),
            },
        )
        return ActionResult(env)

    def describe_environments(self) -> ActionResult:
        include_deleted = self._get_param("IncludeDeleted")
        envs = self.elasticbeanstalk_backend.describe_environments(
            application_name=self._get_param("ApplicationName"),
            version_label=self._get_param("VersionLabel"),
            environment_ids=self._get_param("EnvironmentIds", []),
            environment_names=self._get_param("EnvironmentNames", []),
            # AWS treats an absent IncludeDeleted as true.
            include_deleted=True if include_deleted is None else include_deleted,
            included_deleted_back_to=self._get_param("IncludedDeletedBackTo"),
        )
        return ActionResult({"Environments": envs})

    def update_environment(self) -> ActionResult:
        env = self.elasticbeanstalk_backend.update_environment(
            self._get_param("EnvironmentId"),
            self._get_param("EnvironmentName"),
            {
                "version_label": self._get_param("VersionLabel"),
                "platform_arn": self._get_param("PlatformArn"),
                "solution_stack_name": self._get_param("SolutionStackName"),
                "template_name": self._get_param("TemplateName"),
                "description": self._get_param("Description"),
                "option_settings": list(self._get_param("OptionSettings", [])),
                "options_to_remove": list(self._get_param("OptionsToRemove", [])),
            },
        )
        return ActionResult(env)

    def terminate_environment(self) -> ActionResult:
        env = self.elasticbeanstalk_backend.terminate_environment(
            self._get_param("EnvironmentId"), self._get_param("EnvironmentName")
        )
        return ActionResult(env)

    def restart_app_server(self) -> ActionResult:
        self.elasticbeanstalk_backend.restart_app_server(
            self._get_param("EnvironmentId"), self._get_param("EnvironmentName")
        )
        return EmptyResult()

    def validate_configuration_settings(self) -> ActionResult:
        messages = self.elasticbeanstalk_backend.validate_configuration_settings(
            self._get_param("ApplicationName"),
            self._get_param("EnvironmentName"),
            list(self._get_param("OptionSettings", [])),
        )
        return ActionResult({"Messages": messages})

    def describe_environment_health(self) -> ActionResult:
        health = self.elasticbeanstalk_backend.describe_environment_health(
            self._get_param("EnvironmentId"), self._get_param("EnvironmentName"), self._get_param("AttributeNames", [])
        )
        return ActionResult(health)

    def describe_instances_health(self) -> ActionResult:
        health = self.elasticbeanstalk_backend.describe_instances_health(
            self._get_param("EnvironmentId"), self._get_param("EnvironmentName"), self._get_param("AttributeNames", [])
        )
        return ActionResult(health)

    def describe_environment_resources(self) -> ActionResult:
        resources = self.elasticbeanstalk_backend.describe_environment_resources(
            self._get_param("EnvironmentId"), self._get_param("EnvironmentName")
        )
        return ActionResult({"EnvironmentResources": resources})

    def describe_configuration_settings(self) -> ActionResult:
        settings = self.elasticbeanstalk_backend.describe_configuration_settings(
            self._get_param("ApplicationName"), self._get_param("EnvironmentName")
        )
        return ActionResult({"ConfigurationSettings": [settings]})

    def create_storage_location(self) -> ActionResult:
        return ActionResult({"S3Bucket": self.elasticbeanstalk_backend.create_storage_location()})

    def list_platform_versions(self) -> ActionResult:
        summaries = self.elasticbeanstalk_backend.list_platform_versions(self._get_param("Filters", []))
        return ActionResult({"PlatformSummaryList": summaries})

    def describe_events(self) -> ActionResult:
        filters = {
            name: self._get_param(name)
            for name in (
                "ApplicationName",
                "VersionLabel",
                "TemplateName",
                "EnvironmentId",
                "EnvironmentName",
                "PlatformArn",
                "RequestId",
                "Severity",
                "StartTime",
                "EndTime",
            )
        }
        events = self.elasticbeanstalk_backend.describe_events(filters, self._get_param("MaxRecords"))
        return ActionResult({"Events": events})


def apply() -> None:
    # BackendDict builds each account/region backend from this class on first use.
    eb_backends.backend = StackcEBBackend
    eb_urls.url_paths["{0}/$"] = StackcEBResponse.dispatch
