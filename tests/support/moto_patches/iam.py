"""IAM: fills a moto 5.2.5 gap, and evaluates roles' policies for the other patches.

* AttachRolePolicy with an AWS managed policy (arn:aws:iam::aws:policy/...) answers
  NoSuchEntity because moto only loads its copy of the AWS managed policies when asked to.
  Loading them keeps AWS's paths, so e.g. AWSElasticBeanstalkEnhancedHealth is only found
  at arn:aws:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth, as on AWS, and
  AmazonECSTaskExecutionRolePolicy at .../service-role/AmazonECSTaskExecutionRolePolicy.

* ``allows`` and ``trusts`` answer what AWS would for a role in moto's IAM backend, so the
  Elastic Beanstalk patch can tell whether an ECS task could start. A small evaluator of
  identity-based policies (the role's inline and attached managed policies, default
  versions), following AWS's "Policy evaluation logic" (an explicit Deny wins; otherwise an
  Allow is needed) and "IAM JSON policy elements": Action/NotAction (case-insensitive, `*`
  and `?` wildcards), Resource/NotResource (case-sensitive, wildcards), and Condition with
  the String and Arn operators (Equals, NotEquals, Like, NotLike, optional IfExists) over
  the keys the caller supplies. Not modelled: permissions boundaries, SCPs, session
  policies, resource-based policies (a secret's own policy), any other condition operator
  (a statement using one is treated as not applying), policy variables.
"""

import json
import os
import re
from typing import Any
from urllib.parse import unquote

from moto.iam.exceptions import NotFoundException
from moto.iam.models import IAMBackend, InstanceProfile, Role, iam_backends


def apply() -> None:
    # Read by moto when an account's IAM backend is first created.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"


def backend(account_id: str, partition: str) -> IAMBackend:
    return iam_backends[account_id][partition]


def role_by_arn(account_id: str, partition: str, arn: str) -> Role | None:
    try:
        return backend(account_id, partition).get_role_by_arn(arn)
    except NotFoundException:
        return None


def instance_profile(account_id: str, partition: str, name_or_arn: str) -> InstanceProfile | None:
    # aws:autoscaling:launchconfiguration/IamInstanceProfile: "the instance profile's name or its ARN".
    iam = backend(account_id, partition)
    try:
        if name_or_arn.startswith("arn:"):
            return iam.get_instance_profile_by_arn(name_or_arn)
        return iam.get_instance_profile(name_or_arn)
    except NotFoundException:
        return None


def trusts(role: Role, service: str) -> bool:
    """Whether the role's trust policy lets `service` (e.g. ecs-tasks.amazonaws.com) assume it."""
    for statement in _statements(_document(role.assume_role_policy_document)):
        if statement.get("Effect") != "Allow" or not _matches_action(statement, "sts:AssumeRole"):
            continue
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        if principal == "*" or service in _as_list(services):
            return True
    return False


def allows(role: Role, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """Whether the role's identity-based policies allow `action` on `resource`."""
    allowed = False
    for statement in _role_statements(role):
        if not (
            _matches_action(statement, action)
            and _matches_resource(statement, resource)
            and _conditions_hold(statement.get("Condition", {}), context or {})
        ):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def denial(role: Role, session: str, action: str, resource: str) -> str:
    # AWS's form of an identity-based denial ("Troubleshooting access denied error messages").
    return (
        f"User: arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{session} is not authorized to "
        f"perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
    )


def _role_statements(role: Role) -> list[dict[str, Any]]:
    documents = [_document(doc) for doc in role.policies.values()]
    for policy in role.managed_policies.values():
        documents += [_document(v.document) for v in policy.versions if v.is_default_version]
    return [statement for document in documents for statement in _statements(document)]


def _document(text: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    text = text.strip()
    return json.loads(text if text.startswith("{") else unquote(text))


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return _as_list(document.get("Statement", []))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, ignore_case: bool) -> bool:
    # IAM wildcards are `*` (any characters) and `?` (one character); nothing else is special.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _matches_action(statement: dict[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(_wildcard(a, action, True) for a in _as_list(statement["NotAction"]))
    return any(_wildcard(a, action, True) for a in _as_list(statement.get("Action", [])))


def _matches_resource(statement: dict[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not any(_wildcard(r, resource, False) for r in _as_list(statement["NotResource"]))
    return any(_wildcard(r, resource, False) for r in _as_list(statement.get("Resource", [])))


_OPERATORS = {
    "StringEquals": lambda value, wanted: value == wanted,
    "StringNotEquals": lambda value, wanted: value != wanted,
    "StringLike": lambda value, wanted: _wildcard(wanted, value, False),
    "StringNotLike": lambda value, wanted: not _wildcard(wanted, value, False),
    "ArnEquals": lambda value, wanted: value == wanted,
    "ArnNotEquals": lambda value, wanted: value != wanted,
    "ArnLike": lambda value, wanted: _wildcard(wanted, value, False),
    "ArnNotLike": lambda value, wanted: not _wildcard(wanted, value, False),
}


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    """Every operator block must hold; within one, every key; a key holds when any of its
    values matches ("Creating a condition with multiple keys or values")."""
    for operator, keys in conditions.items():
        base = operator.removesuffix("IfExists")
        if base not in _OPERATORS:
            return False
        for key, wanted in keys.items():
            actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
            if actual is None:
                # A missing key fails the condition, unless the operator ends in IfExists.
                if operator.endswith("IfExists"):
                    continue
                return False
            if not any(_OPERATORS[base](actual, str(w)) for w in _as_list(wanted)):
                return False
    return True
