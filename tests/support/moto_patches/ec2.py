"""EC2: fills moto 5.2.5 gaps.

* DeleteSecurityGroup deletes a group that is still in use. AWS answers DependencyViolation
  ("resource sg-... has a dependent object") while another group's rule references it or
  while a network interface (here: an RDS instance or ElastiCache cluster) uses it, so
  teardown order matters and has to be tested.

* A new security group is known at once to every call. AWS documents the opposite
  ("Eventual consistency in the Amazon EC2 API",
  https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html): "if you run a
  command to modify or describe the resource that you just created, its ID might not have
  propagated throughout the system, and you will get an error responding that the resource
  does not exist", and its examples of such errors name InvalidGroup.NotFound for a command
  run with the id CreateSecurityGroup just returned. Here the first
  STACKC_MOTO_EC2_PROPAGATION_CALLS calls (default 1; 0 turns this off) that name a new
  group by id answer HTTP 400 InvalidGroup.NotFound, "The security group 'sg-...' does not
  exist", as AWS does. A number of calls rather than a time window: a client that calls
  right after CreateSecurityGroup always meets it, and a client that retries meets it
  exactly that many times, so tests that prove the retry neither flake (a window could
  outlast any retry's backoff) nor wait. DescribeSecurityGroups with filters (no ids) is not
  affected.
"""

import os
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import DependencyViolationError, InvalidSecurityGroupNotFoundError
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.ec2.responses.security_groups import SecurityGroups
from moto.elasticache.models import elasticache_backends
from moto.rds.models import rds_backends

PROPAGATION_ENV_VAR = "STACKC_MOTO_EC2_PROPAGATION_CALLS"

# The calls that name security groups by id (GroupId, GroupId.N, ...Groups.N.GroupId).
REFERENCING_CALLS = [
    "authorize_security_group_ingress",
    "authorize_security_group_egress",
    "revoke_security_group_ingress",
    "revoke_security_group_egress",
    "describe_security_groups",
    "delete_security_group",
    "modify_security_group_rules",
    "update_security_group_rule_descriptions_ingress",
    "update_security_group_rule_descriptions_egress",
]

# Group id -> how many more calls will not find it. One server process, calls serialized.
_unseen: dict[str, int] = {}


def _in_use(backend: Any, group_id: str) -> bool:
    for groups in backend.groups.values():
        for group in groups.values():
            if group.id == group_id:
                continue
            for rule in group.ingress_rules + group.egress_rules:
                if rule.source_group.get("GroupId") == group_id:
                    return True
    rds = rds_backends[backend.account_id][backend.region_name]
    if any(group_id in db.vpc_security_group_ids for db in rds.databases.values()):
        return True
    elasticache = elasticache_backends[backend.account_id][backend.region_name]
    return any(group_id in c.security_group_ids for c in elasticache.cache_clusters.values())


def _refuse_when_in_use(original: Any) -> Any:
    def delete_security_group(self: Any, name: str | None = None, group_id: str | None = None) -> None:
        group = self.get_security_group_by_name_or_id(group_id or name)
        if group is not None and _in_use(self, group.id):
            raise DependencyViolationError(f"resource {group.id} has a dependent object")
        return original(self, name=name, group_id=group_id)

    return delete_security_group


def _propagation_calls() -> int:
    return int(os.environ.get(PROPAGATION_ENV_VAR, "1") or 0)


def _remember_new_group(original: Callable[[Any], ActionResult]) -> Callable[[Any], ActionResult]:
    def create_security_group(self: Any) -> ActionResult:
        result = original(self)
        if _propagation_calls() > 0:
            _unseen[result.result["GroupId"]] = _propagation_calls()  # type: ignore[index]
        return result

    return create_security_group


def _referenced_group_ids(querystring: dict[str, list[str]]) -> list[str]:
    return [
        value
        for key, values in querystring.items()
        if key == "GroupId" or key.startswith("GroupId.") or key.endswith(".GroupId")
        for value in values
    ]


def _not_yet_visible(original: Callable[[Any], ActionResult]) -> Callable[[Any], ActionResult]:
    def call(self: Any) -> ActionResult:
        unseen = [group for group in _referenced_group_ids(self.querystring) if _unseen.get(group)]
        for group in unseen:
            _unseen[group] -= 1
        if unseen:
            raise InvalidSecurityGroupNotFoundError(unseen[0])
        return original(self)

    return call


def apply() -> None:
    SecurityGroupBackend.delete_security_group = _refuse_when_in_use(SecurityGroupBackend.delete_security_group)
    SecurityGroups.create_security_group = _remember_new_group(SecurityGroups.create_security_group)
    for name in REFERENCING_CALLS:
        setattr(SecurityGroups, name, _not_yet_visible(getattr(SecurityGroups, name)))
