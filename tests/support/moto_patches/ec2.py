"""EC2: fills a moto 5.2.5 gap.

DeleteSecurityGroup deletes a group that is still in use. AWS answers DependencyViolation
("resource sg-... has a dependent object") while another group's rule references it or
while a network interface (here: an RDS instance or ElastiCache cluster) uses it, so
teardown order matters and has to be tested.
"""

from typing import Any

from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.elasticache.models import elasticache_backends
from moto.rds.models import rds_backends


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


def apply() -> None:
    SecurityGroupBackend.delete_security_group = _refuse_when_in_use(SecurityGroupBackend.delete_security_group)
