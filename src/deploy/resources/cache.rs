//! The ElastiCache store of a `redis` store: a single-node cache cluster, or a replication
//! group when it has replicas or encryption. One file for both shapes: they are read together,
//! and a store that changes shape is replaced.
//!
//! ElastiCache's describe calls carry no tags, so ownership needs ListTagsForResource per
//! resource. Refresh lists clusters and replication groups once each, then the tags only of
//! the stores this stack may own: the plan's ids, ids starting with `<stack>-` (stackc's
//! default), and clusters in a subnet group starting with `<stack>-` (stackc always puts its
//! caches in one; this finds a store whose identifier was renamed). Stores being deleted are
//! skipped: they are going away, and a create that meets one waits for it to go.

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource, Tags};

crate::desired! {
    /// The parameters of CreateCacheCluster.
    pub struct CacheCluster<S> {
        #[field("CacheClusterId", Identity)]
        pub id: String,
        #[field("Engine", Replace)]
        pub engine: String,
        #[field("EngineVersion", Version)]
        pub engine_version: String,
        #[field("CacheNodeType", Update)]
        pub node_type: String,
        #[field("NumCacheNodes", Ignore("always 1: a Redis cluster has one node; replicas make a replication group"))]
        pub nodes: u32,
        #[field("CacheSubnetGroupName", Ignore("named after the stack and the store; a cache cannot move to another subnet group"))]
        pub subnet_group: S::Of<String>,
        #[field("SecurityGroupIds", Set)]
        pub security_groups: Vec<S::Of<String>>,
        #[field("Tags", Ignore("tags are set at creation; the stack tag is how refresh finds the cache"))]
        pub tags: Tags,
    }
}

crate::desired! {
    /// The parameters of CreateReplicationGroup.
    pub struct ReplicationGroup<S> {
        #[field("ReplicationGroupId", Identity)]
        pub id: String,
        #[field("ReplicationGroupDescription", Ignore("ours only says what the group is for"))]
        pub description: String,
        #[field("Engine", Replace)]
        pub engine: String,
        #[field("EngineVersion", Version)]
        pub engine_version: String,
        #[field("CacheNodeType", Update)]
        pub node_type: String,
        /// The primary and its replicas.
        #[field("NumCacheClusters", Update)]
        pub clusters: u32,
        #[field("AutomaticFailoverEnabled", Update)]
        pub failover: bool,
        #[field("TransitEncryptionEnabled", Replace)]
        pub transit_encryption: bool,
        #[field("AtRestEncryptionEnabled", Replace)]
        pub at_rest_encryption: bool,
        #[field("CacheSubnetGroupName", Ignore("named after the stack and the store; a cache cannot move to another subnet group"))]
        pub subnet_group: S::Of<String>,
        #[field("SecurityGroupIds", Set)]
        pub security_groups: Vec<S::Of<String>>,
        #[field("Tags", Ignore("tags are set at creation; the stack tag is how refresh finds the cache"))]
        pub tags: Tags,
    }
}

pub const CLUSTER_HOST: Output<CacheCluster, String> = Output::new("host");
pub const CLUSTER_PORT: Output<CacheCluster, String> = Output::new("port");
pub const GROUP_HOST: Output<ReplicationGroup, String> = Output::new("host");
pub const GROUP_PORT: Output<ReplicationGroup, String> = Output::new("port");

/// A Redis store's grants: reads of every cache (refresh lists them all and the tags of those
/// the stack may own), changes of its own ids and of those named after the stack.
fn cache_grants(
    scope: &Scope<'_>,
    ids: &[&str],
    noun: &str,
    changes: &[&'static str],
) -> Vec<Grant> {
    let mut own = vec![scope.arn("elasticache", &format!("{noun}:{}-*", scope.stack))];
    own.extend(
        ids.iter()
            .map(|id| scope.arn("elasticache", &format!("{noun}:{id}"))),
    );
    own.extend([
        scope.arn("elasticache", &format!("subnetgroup:{}-*", scope.stack)),
        scope.arn("elasticache", "parametergroup:default*"),
        scope.arn("elasticache", &format!("cluster:{}-*", scope.stack)),
    ]);
    vec![
        Grant::new(
            &[
                "elasticache:DescribeCacheClusters",
                "elasticache:DescribeReplicationGroups",
                "elasticache:ListTagsForResource",
            ],
            vec![
                scope.arn("elasticache", "cluster:*"),
                scope.arn("elasticache", "replicationgroup:*"),
            ],
        ),
        Grant::new(changes, own),
    ]
}

impl Resource for CacheCluster {
    const ACTIONS: &'static [&'static str] = &[
        "elasticache:DescribeCacheClusters",
        "elasticache:DescribeReplicationGroups",
        "elasticache:ListTagsForResource",
        "elasticache:CreateCacheCluster",
        "elasticache:AddTagsToResource",
        "elasticache:ModifyCacheCluster",
        "elasticache:DeleteCacheCluster",
    ];

    fn grants(scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        let ids: Vec<&str> = steps.iter().map(|c| c.id.as_str()).collect();
        cache_grants(
            scope,
            &ids,
            "cluster",
            &[
                "elasticache:CreateCacheCluster",
                "elasticache:AddTagsToResource",
                "elasticache:ModifyCacheCluster",
                "elasticache:DeleteCacheCluster",
            ],
        )
    }
    const ACTION: &'static str = "elasticache:CreateCacheCluster";
    const USES: &'static [Kind] = &[Kind::SecurityGroup, Kind::CacheSubnetGroup];
}

impl Resource for ReplicationGroup {
    const ACTIONS: &'static [&'static str] = &[
        "elasticache:DescribeCacheClusters",
        "elasticache:DescribeReplicationGroups",
        "elasticache:ListTagsForResource",
        "elasticache:CreateReplicationGroup",
        "elasticache:AddTagsToResource",
        "elasticache:ModifyReplicationGroup",
        "elasticache:IncreaseReplicaCount",
        "elasticache:DecreaseReplicaCount",
        "elasticache:DeleteReplicationGroup",
    ];

    fn grants(scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        let ids: Vec<&str> = steps.iter().map(|g| g.id.as_str()).collect();
        cache_grants(
            scope,
            &ids,
            "replicationgroup",
            &[
                "elasticache:CreateReplicationGroup",
                "elasticache:AddTagsToResource",
                "elasticache:ModifyReplicationGroup",
                "elasticache:IncreaseReplicaCount",
                "elasticache:DecreaseReplicaCount",
                "elasticache:DeleteReplicationGroup",
            ],
        )
    }
    const ACTION: &'static str = "elasticache:CreateReplicationGroup";
    const USES: &'static [Kind] = &[Kind::SecurityGroup, Kind::CacheSubnetGroup];
}

#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "aws")]
mod store;
#[cfg(feature = "aws")]
pub(crate) use store::observe_cache;
