"""What Elastic Beanstalk reports when an operation that starts an environment's tasks ends:
its events and its enhanced health, in AWS's words. Pure; used by ``elasticbeanstalk.py``.

Sources for the wording (AWS documents few of these sentences; where it does not, the
form is the one real environments print, and the place it was seen is named):
* "Enhanced health colors and statuses" (health-enhanced-status.html): Ok/Green, Info,
  Severe/Red, Pending/Grey; "ELB health is failing or not available for all instances."
* "Using the ECS managed Docker platform branch", "Failed container deployments": "If an
  Amazon ECS task fails, one or more containers in your Elastic Beanstalk environment will
  not start. Elastic Beanstalk does not roll back multicontainer environments due to a
  failed Amazon ECS task." Nothing runs until a working version is deployed again.
* Event texts of real AL2/AL2023 environments: "Deploying new version to instance(s).",
  "[Instance: i-...] Command failed on instance. Return code: 1 Output: Engine execution
  has encountered an error.", "Command execution completed on all instances. Summary:
  [Successful: 0, Failed: 1].", "Unsuccessful command execution on instance id(s) '...'.
  Aborting the operation.", "Failed to deploy application." (einaregilsson/beanstalk-deploy
  #86); "New application version was deployed to running EC2 instances." (aws/elastic-
  beanstalk-roadmap#162); "Create environment operation is complete, but with errors.";
  the ECS platform's "ECS task stopped due to: Task failed to start. (container: reason)"
  (its eb-ecs-mgr hook, which sends it as an ERROR event); health causes "Command failed on
  all instances." and "Incorrect application version found on all instances. Expected
  version "..." (deployment N)." after a failed deployment, with the environment expecting
  the version that ran before.
The wordings this module makes up itself are marked "emulator wording".
"""

from dataclasses import dataclass, field

from .ecs_tasks import Failure

# The operations after which tasks (re)start, and so health is computed again: a create,
# a version deployment, a configuration deployment (on the ECS platform a new task
# definition), RestartAppServer ("Restarts the application container server running on
# each Amazon EC2 instance").
CREATE, DEPLOY, CONFIGURE, RESTART = "create", "deploy", "configure", "restart"

# DescribeEnvironmentHealth's InstancesHealth counts instances in each of these.
INSTANCE_STATUSES = ["NoData", "Unknown", "Pending", "Ok", "Info", "Warning", "Degraded", "Severe"]


@dataclass
class Health:
    color: str = "Green"
    status: str = "Ok"
    causes: list[str] = field(default_factory=list)
    instance_causes: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """How an operation ended: the events to record (severity, message) and the health."""

    events: list[tuple[str, str]]
    health: Health
    failed: bool


def outcome(
    operation: str,
    environment_name: str,
    instance_ids: list[str],
    failures: list[Failure],
    expected_version: str | None,
    deployment_id: int,
    load_balanced: bool,
) -> Outcome:
    events = [("INFO", "Deploying new version to instance(s).")] if operation == DEPLOY else []
    if not failures:
        return Outcome(events + _success(operation, environment_name), Health(), False)
    causes = ["Command failed on all instances."]
    if operation == DEPLOY:
        causes.append(
            f'Incorrect application version found on all instances. Expected version "{expected_version}" '
            f"(deployment {deployment_id})."
        )
    if load_balanced:
        causes.append("ELB health is failing or not available for all instances.")
    health = Health("Red", "Severe", causes, ["Command failed on instance."])
    return Outcome(events + _failure_events(operation, instance_ids, failures), health, True)


def _failure_events(operation: str, instance_ids: list[str], failures: list[Failure]) -> list[tuple[str, str]]:
    events = [("ERROR", text) for text in _failure_texts(failures)]
    events += [
        (
            "ERROR",
            f"[Instance: {i}] Command failed on instance. Return code: 1 Output: "
            "Engine execution has encountered an error.",
        )
        for i in instance_ids
    ]
    if operation in (DEPLOY, CONFIGURE):
        summary = f"Summary: [Successful: 0, Failed: {len(instance_ids)}]."
        events += [
            ("INFO", f"Command execution completed on all instances. {summary}"),
            (
                "ERROR",
                f"Unsuccessful command execution on instance id(s) '{','.join(instance_ids)}'. Aborting the operation.",
            ),
        ]
    return events + [("ERROR", _failed_operation(operation))]


def transition_event(before: str, after: str, causes: list[str]) -> tuple[str, str] | None:
    """The event enhanced health records when the environment's status changes."""
    if before == after:
        return None
    severity = "WARN" if after in ("Warning", "Degraded", "Severe") else "INFO"
    return severity, " ".join([f"Environment health has transitioned from {before} to {after}.", *causes])


def _success(operation: str, environment_name: str) -> list[tuple[str, str]]:
    return {
        CREATE: [("INFO", f"Successfully launched environment: {environment_name}")],
        DEPLOY: [
            ("INFO", "New application version was deployed to running EC2 instances."),
            ("INFO", "Environment update completed successfully."),
        ],
        CONFIGURE: [
            ("INFO", "Successfully deployed new configuration to environment."),
            ("INFO", "Environment update completed successfully."),
        ],
        RESTART: [("INFO", "restartAppServer completed successfully.")],
    }[operation]


def _failed_operation(operation: str) -> str:
    return {
        CREATE: "Create environment operation is complete, but with errors. For more information, see "
        "troubleshooting documentation.",
        DEPLOY: "Failed to deploy application.",
        CONFIGURE: "Failed to deploy configuration.",
        RESTART: "restartAppServer completed, but with errors.",  # emulator wording
    }[operation]


def _failure_texts(failures: list[Failure]) -> list[str]:
    if not failures[0].ecs:
        return [failures[0].reason]
    if failures[0].container is None:
        return [f"ECS task stopped due to: {failures[0].reason}"]
    containers = "\n".join(f"{f.container}: {f.reason}" for f in failures)
    return [f"ECS task stopped due to: Task failed to start. ({containers})"]
