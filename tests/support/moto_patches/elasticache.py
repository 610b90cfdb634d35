"""ElastiCache: fills moto 5.2.5 gaps.

* DescribeCacheClusters never returns CacheNodes (so a single-node Redis cluster has no
  endpoint) and never returns SecurityGroups, although CreateCacheCluster stores
  SecurityGroupIds.
* DeleteCacheCluster and DeleteReplicationGroup leave the resource in "deleting"
  forever; on AWS it disappears and a later Describe answers *NotFound.
* DeleteCacheSubnetGroup is not implemented (HTTP 500).
"""

import string
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult, PaginatedResult
from moto.elasticache.exceptions import CacheClusterNotFound, CacheSubnetGroupNotFound
from moto.elasticache.models import CacheCluster, ElastiCacheBackend
from moto.elasticache.responses import ElastiCacheResponse
from moto.moto_api._internal import mock_random

# Region names as they appear in ElastiCache endpoints: us-east-1 -> use1, ap-southeast-2 -> apse2.
_DIRECTION_ABBREVIATIONS = {
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "central": "c",
    "northeast": "ne",
    "southeast": "se",
    "northwest": "nw",
    "southwest": "sw",
}


class CacheSubnetGroupInUse(ServiceException):
    code = "CacheSubnetGroupInUse"


def _region_abbreviation(region: str) -> str:
    area, direction, number = region.split("-")[-3:]
    return f"{area}{_DIRECTION_ABBREVIATIONS.get(direction, direction[:1])}{number}"


def _endpoint_token(cluster: CacheCluster) -> str:
    # Stable per cluster, like the random label in a real endpoint.
    if not hasattr(cluster, "_stackc_endpoint_token"):
        cluster._stackc_endpoint_token = "".join(
            mock_random.choice(string.ascii_lowercase + string.digits) for _ in range(6)
        )
    return cluster._stackc_endpoint_token


def _security_groups(cluster: CacheCluster) -> list[dict[str, str]]:
    return [{"SecurityGroupId": group_id, "Status": "active"} for group_id in cluster.security_group_ids]


class ClusterWithNodes:
    """A cluster as DescribeCacheClusters shows it with ShowCacheNodeInfo=true."""

    def __init__(self, cluster: CacheCluster):
        self._cluster = cluster

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cluster, name)

    @property
    def cache_nodes(self) -> list[dict[str, Any]]:
        cluster = self._cluster
        region = cluster.arn.split(":")[3]
        return [
            {
                "CacheNodeId": f"{number:04d}",
                "CacheNodeStatus": "available",
                "CacheNodeCreateTime": cluster.cache_cluster_create_time,
                "Endpoint": {
                    "Address": f"{cluster.cache_cluster_id}.{_endpoint_token(cluster)}.{number:04d}."
                    f"{_region_abbreviation(region)}.cache.amazonaws.com",
                    "Port": cluster.port,
                },
                "ParameterGroupStatus": "in-sync",
                "CustomerAvailabilityZone": cluster.preferred_availability_zone or f"{region}a",
            }
            for number in range(1, cluster.num_cache_nodes + 1)
        ]


def describe_cache_clusters(self: ElastiCacheResponse) -> ActionResult:
    clusters = self.elasticache_backend.describe_cache_clusters(cache_cluster_id=self._get_param("CacheClusterId"))
    if self._get_param("ShowCacheNodeInfo"):
        clusters = [ClusterWithNodes(cluster) for cluster in clusters]
    return PaginatedResult({"CacheClusters": clusters})


def delete_cache_cluster(self: ElastiCacheBackend, cache_cluster_id: str) -> CacheCluster:
    cluster = self.cache_clusters.pop(cache_cluster_id, None)
    if cluster is None:
        raise CacheClusterNotFound(cache_cluster_id)
    self.tagging_service.delete_all_tags_for_resource(cluster.arn)
    cluster.cache_cluster_status = "deleting"
    return cluster


def _delete_replication_group_then_forget(original: Any) -> Any:
    def delete_replication_group(
        self: ElastiCacheBackend, replication_group_id: str, retain_primary_cluster: bool | None
    ) -> Any:
        group = original(self, replication_group_id, retain_primary_cluster)
        del self.replication_groups[replication_group_id]
        self.tagging_service.delete_all_tags_for_resource(group.arn)
        return group

    return delete_replication_group


def delete_cache_subnet_group(self: ElastiCacheBackend, cache_subnet_group_name: str) -> None:
    if cache_subnet_group_name not in self.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(cache_subnet_group_name)
    users = [c.cache_subnet_group_name for c in self.cache_clusters.values()]
    users += [g.cache_subnet_group_name for g in self.replication_groups.values()]
    if cache_subnet_group_name in users:
        raise CacheSubnetGroupInUse(
            f"Cache subnet group {cache_subnet_group_name} is currently in use by a cache cluster."
        )
    group = self.cache_subnet_groups.pop(cache_subnet_group_name)
    self.tagging_service.delete_all_tags_for_resource(group.arn)


def delete_cache_subnet_group_response(self: ElastiCacheResponse) -> ActionResult:
    self.elasticache_backend.delete_cache_subnet_group(self._get_param("CacheSubnetGroupName"))
    return EmptyResult()


def apply() -> None:
    CacheCluster.security_groups = property(_security_groups)
    ElastiCacheBackend.delete_cache_cluster = delete_cache_cluster
    ElastiCacheBackend.delete_replication_group = _delete_replication_group_then_forget(
        ElastiCacheBackend.delete_replication_group
    )
    ElastiCacheBackend.delete_cache_subnet_group = delete_cache_subnet_group
    ElastiCacheResponse.describe_cache_clusters = describe_cache_clusters
    ElastiCacheResponse.delete_cache_subnet_group = delete_cache_subnet_group_response
