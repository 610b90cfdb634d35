//! What both shapes of a Redis store share: reading them together (with their ownership),
//! describing one, waiting for it, creating and deleting it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_sdk_elasticache::types::{
    AutomaticFailoverStatus, CacheCluster as Cluster, Endpoint, ReplicationGroup as Group,
};

use super::*;
use crate::deploy::aws::reads::Reads;
use crate::deploy::aws::wait::{self, Poll};
use crate::deploy::aws::{Ctx, DeployError, Gone, StepRef, aws_error, error_code};
use crate::deploy::resource::{Live, Outputs};
use crate::deploy::resources::subnet_group::elasticache_owned;
use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
use crate::lower::{Plan, Step};

// Statuses: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.html

/// A status that waiting will not fix.
pub(super) fn failed(status: &str) -> bool {
    matches!(
        status,
        "create-failed" | "incompatible-network" | "restore-failed" | "deleted" | "deleting"
    )
}

/// Serving at its endpoint: nothing to wait for before others use it.
pub(super) fn usable(status: &str) -> bool {
    matches!(status, "available" | "snapshotting")
}

/// The two shapes of a Redis store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Shape {
    Cluster,
    Group,
}

impl Shape {
    fn kind(self) -> Kind {
        match self {
            Shape::Cluster => Kind::CacheCluster,
            Shape::Group => Kind::ReplicationGroup,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Shape::Cluster => "ElastiCache cluster",
            Shape::Group => "ElastiCache replication group",
        }
    }

    fn of(kind: Kind) -> Shape {
        if kind == Kind::ReplicationGroup {
            Shape::Group
        } else {
            Shape::Cluster
        }
    }
}

/// One Redis store as it exists.
#[derive(Clone, Debug)]
pub(super) enum Store {
    Cluster(Cluster),
    Group(Group),
}

impl Store {
    fn shape(&self) -> Shape {
        match self {
            Store::Cluster(_) => Shape::Cluster,
            Store::Group(_) => Shape::Group,
        }
    }

    fn id(&self) -> &str {
        match self {
            Store::Cluster(c) => c.cache_cluster_id(),
            Store::Group(g) => g.replication_group_id(),
        }
        .unwrap_or_default()
    }

    fn arn(&self) -> Option<&str> {
        match self {
            Store::Cluster(c) => c.arn(),
            Store::Group(g) => g.arn(),
        }
    }

    fn status(&self) -> &str {
        match self {
            Store::Cluster(c) => c.cache_cluster_status(),
            Store::Group(g) => g.status(),
        }
        .unwrap_or("unknown")
    }

    /// A single-node cluster is reached at its node; a replication group at its primary
    /// endpoint (or its configuration endpoint in cluster mode).
    fn endpoint(&self) -> Option<&Endpoint> {
        match self {
            Store::Cluster(c) => c
                .cache_nodes()
                .first()
                .and_then(|n| n.endpoint())
                .or(c.configuration_endpoint()),
            Store::Group(g) => g
                .node_groups()
                .first()
                .and_then(|n| n.primary_endpoint())
                .or(g.configuration_endpoint()),
        }
    }

    fn outputs(&self) -> Outputs {
        let mut out = Outputs::new();
        if let Some(e) = self.endpoint() {
            if let Some(host) = e.address() {
                CLUSTER_HOST.set(&mut out, host.to_string());
            }
            if let Some(port) = e.port() {
                CLUSTER_PORT.set(&mut out, port.to_string());
            }
        }
        out.insert("id".into(), self.id().into());
        out
    }

    /// Its current values under the field names of its desired struct. A replication
    /// group's engine version, subnet group and security groups come from a member cluster.
    fn found(&self, clusters: &[Cluster]) -> Found {
        let groups = |c: &Cluster| {
            let mut g: Vec<String> = c
                .security_groups()
                .iter()
                .filter_map(|g| g.security_group_id().map(str::to_string))
                .collect();
            g.sort();
            g.dedup();
            g
        };
        let s = |v: Option<&str>| v.unwrap_or_default().to_string();
        let f = match self {
            Store::Cluster(c) => Found::new(
                Kind::CacheCluster,
                &CacheCluster::<Live> {
                    id: s(c.cache_cluster_id()),
                    engine: s(c.engine()),
                    engine_version: s(c.engine_version()),
                    node_type: s(c.cache_node_type()),
                    nodes: c
                        .num_cache_nodes()
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(0),
                    subnet_group: s(c.cache_subnet_group_name()),
                    security_groups: groups(c),
                    tags: Tags::default(),
                },
                self.outputs(),
            ),
            Store::Group(g) => {
                let member = clusters
                    .iter()
                    .find(|c| c.replication_group_id() == g.replication_group_id());
                let current = ReplicationGroup::<Live> {
                    id: s(g.replication_group_id()),
                    description: s(g.description()),
                    // Replication groups made before the Engine field existed are all Redis.
                    engine: member
                        .and_then(|m| m.engine())
                        .or(g.engine())
                        .unwrap_or("redis")
                        .to_string(),
                    engine_version: s(member.and_then(|m| m.engine_version())),
                    node_type: s(g.cache_node_type()),
                    clusters: u32::try_from(g.member_clusters().len()).unwrap_or(u32::MAX),
                    failover: matches!(
                        g.automatic_failover(),
                        Some(AutomaticFailoverStatus::Enabled | AutomaticFailoverStatus::Enabling)
                    ),
                    transit_encryption: g.transit_encryption_enabled().unwrap_or(false),
                    at_rest_encryption: g.at_rest_encryption_enabled().unwrap_or(false),
                    subnet_group: s(member.and_then(|m| m.cache_subnet_group_name())),
                    security_groups: member.map(groups).unwrap_or_default(),
                    tags: Tags::default(),
                };
                let mut f = Found::new(Kind::ReplicationGroup, &current, self.outputs());
                if member.is_none() {
                    // Unknown without a member: not compared rather than seen as changed.
                    for k in ["EngineVersion", "CacheSubnetGroupName", "SecurityGroupIds"] {
                        f.current.remove(k);
                    }
                }
                f
            }
        };
        f.with_status(self.status(), self.status() == "available")
    }
}

/// The stores of the region this stack owns, matched to the plan's steps of both shapes.
#[derive(Default)]
pub(super) struct Stores {
    found: BTreeMap<String, Found>,
    conflicts: Vec<Conflict>,
    orphans: Vec<Orphan>,
}

/// The id a planned store of either shape asks for.
pub(super) fn planned_id(step: &Step) -> Option<(Shape, &str)> {
    if let Some(c) = step.desired_as::<CacheCluster>() {
        return Some((Shape::Cluster, c.id.as_str()));
    }
    step.desired_as::<ReplicationGroup>()
        .map(|g| (Shape::Group, g.id.as_str()))
}

pub(super) async fn read_stores(ctx: &Ctx, plan: &Plan) -> Result<Stores, DeployError> {
    let ec = &ctx.clients.elasticache;
    let clusters = async {
        ec.describe_cache_clusters()
            .show_cache_node_info(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| aws_error("ElastiCache clusters", "DescribeCacheClusters", &e))
    };
    let groups = async {
        ec.describe_replication_groups()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| {
                aws_error(
                    "ElastiCache replication groups",
                    "DescribeReplicationGroups",
                    &e,
                )
            })
    };
    let (clusters, groups) = tokio::join!(clusters, groups);
    let (clusters, groups) = (clusters?, groups?);
    let steps: Vec<(&Step, Shape, &str)> = plan
        .steps
        .iter()
        .filter_map(|s| planned_id(s).map(|(k, id)| (s, k, id)))
        .collect();
    let planned: BTreeSet<String> = steps
        .iter()
        .map(|(_, _, id)| id.to_ascii_lowercase())
        .collect();
    let prefix = format!("{}-", ctx.stack.to_ascii_lowercase());
    let ours_by_name = |s: &str| s.to_ascii_lowercase().starts_with(&prefix);

    // Standalone clusters (members of a group belong to their group) and groups.
    let mut stores: Vec<Store> = clusters
        .iter()
        .filter(|c| c.replication_group_id().is_none())
        .cloned()
        .map(Store::Cluster)
        .collect();
    stores.extend(groups.iter().cloned().map(Store::Group));
    stores.retain(|s| s.status() != "deleting");
    let in_our_subnets = |s: &Store| match s {
        Store::Cluster(c) => c.cache_subnet_group_name().is_some_and(ours_by_name),
        Store::Group(g) => clusters.iter().any(|c| {
            c.replication_group_id() == g.replication_group_id()
                && c.cache_subnet_group_name().is_some_and(ours_by_name)
        }),
    };
    let arns: Vec<(String, String)> = stores
        .iter()
        .filter(|s| {
            planned.contains(&s.id().to_ascii_lowercase())
                || ours_by_name(s.id())
                || in_our_subnets(s)
        })
        .filter_map(|s| s.arn().map(|a| (a.to_string(), a.to_string())))
        .collect();
    let owners = elasticache_owned(ctx, arns).await?;
    let is_ours = |s: &Store| s.arn().is_some_and(|a| owners.get(a) == Some(&true));

    let mut out = Stores::default();
    let mut matched: BTreeSet<(Shape, String)> = BTreeSet::new();
    for (step, shape, id) in &steps {
        let find = |k: Shape| {
            stores
                .iter()
                .find(|s| s.shape() == k && s.id().eq_ignore_ascii_case(id))
        };
        let other = if *shape == Shape::Cluster {
            Shape::Group
        } else {
            Shape::Cluster
        };
        if let Some(s) = find(*shape) {
            if is_ours(s) {
                matched.insert((s.shape(), s.id().to_string()));
                out.found.insert(step.id.clone(), s.found(&clusters));
            } else {
                out.conflicts.push(Conflict::taken(
                    step,
                    format!("an {} with the id {id}", shape.noun()),
                    &ctx.owner,
                ));
            }
        } else if let Some(s) = find(other).filter(|s| is_ours(s)) {
            // Ours, of the other shape: the diff replaces it.
            matched.insert((s.shape(), s.id().to_string()));
            out.found.insert(step.id.clone(), s.found(&clusters));
        }
    }
    for s in &stores {
        if is_ours(s) && !matched.contains(&(s.shape(), s.id().to_string())) {
            out.orphans.push(Orphan {
                kind: s.shape().kind(),
                id: s.id().to_string(),
                resource: format!("{} {}", s.shape().noun(), s.id()),
            });
        }
    }
    Ok(out)
}

/// This shape's part of the shared read.
pub(super) async fn refresh(
    ctx: &Ctx,
    reads: &Reads,
    plan: &Plan,
    steps: &[&Step],
    shape: Shape,
) -> Result<Snapshot, DeployError> {
    let stores: Arc<Stores> = reads
        .once("elasticache stores", read_stores(ctx, plan))
        .await?;
    let mut snap = Snapshot::default();
    for step in steps {
        if let Some(f) = stores.found.get(&step.id) {
            snap.found.insert(step.id.clone(), f.clone());
        }
        snap.conflicts.extend(
            stores
                .conflicts
                .iter()
                .filter(|c| c.step == step.id)
                .cloned(),
        );
    }
    snap.orphans.extend(
        stores
            .orphans
            .iter()
            .filter(|o| Shape::of(o.kind) == shape)
            .cloned(),
    );
    Ok(snap)
}

pub(super) async fn describe(
    ctx: &Ctx,
    shape: Shape,
    id: &str,
    resource: &str,
) -> Result<Option<Store>, DeployError> {
    let ec = &ctx.clients.elasticache;
    match shape {
        Shape::Cluster => match ec
            .describe_cache_clusters()
            .cache_cluster_id(id)
            .show_cache_node_info(true)
            .send()
            .await
        {
            Ok(o) => Ok(o.cache_clusters().first().cloned().map(Store::Cluster)),
            Err(e) if error_code(&e) == Some("CacheClusterNotFound") => Ok(None),
            Err(e) => Err(aws_error(resource, "DescribeCacheClusters", &e)),
        },
        Shape::Group => match ec
            .describe_replication_groups()
            .replication_group_id(id)
            .send()
            .await
        {
            Ok(o) => Ok(o.replication_groups().first().cloned().map(Store::Group)),
            Err(e) if error_code(&e) == Some("ReplicationGroupNotFoundFault") => Ok(None),
            Err(e) => Err(aws_error(resource, "DescribeReplicationGroups", &e)),
        },
    }
}

/// The store as `stackc status` shows it (`group`: a replication group).
pub(crate) async fn observe_cache(
    ctx: &Ctx,
    group: bool,
    id: &str,
    resource: &str,
) -> Result<Option<crate::deploy::aws::status::StoreState>, DeployError> {
    let shape = if group { Shape::Group } else { Shape::Cluster };
    let store = describe(ctx, shape, id, resource).await?;
    Ok(store.map(|s| {
        let found = s.found(&[]);
        crate::deploy::aws::status::StoreState {
            resource: resource.to_string(),
            status: s.status().to_string(),
            engine_version: found
                .current
                .get("EngineVersion")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            protected: None,
            endpoint: s.endpoint().and_then(|e| e.address()).map(str::to_string),
        }
    }))
}

/// What a wait expects besides a usable status and an endpoint.
#[derive(Clone, Copy, Default)]
pub(super) struct Expect<'a> {
    /// Modified fields that must no longer be pending.
    pub(super) fields: &'a [&'a str],
    /// The number of clusters a replication group must have.
    pub(super) members: Option<usize>,
}

pub(super) fn poll_ready(s: Option<Store>, expect: Expect<'_>) -> Result<Poll<Store>, String> {
    let Some(s) = s else {
        return Err("no longer exists (it was deleted while stackc waited for it)".into());
    };
    let status = s.status().to_string();
    if failed(&status) {
        return Ok(Poll::Failed(status));
    }
    let pending = match &s {
        Store::Cluster(c) => c.pending_modified_values().is_some_and(|p| {
            expect.fields.iter().any(|f| match *f {
                "CacheNodeType" => p.cache_node_type().is_some(),
                "EngineVersion" => p.engine_version().is_some(),
                _ => false,
            })
        }),
        Store::Group(g) => {
            expect
                .members
                .is_some_and(|n| g.member_clusters().len() != n)
                || g.pending_modified_values().is_some_and(|p| {
                    expect.fields.contains(&"AutomaticFailoverEnabled")
                        && p.automatic_failover_status().is_some()
                })
        }
    };
    Ok(if usable(&status) && s.endpoint().is_some() && !pending {
        Poll::Ready(s)
    } else {
        Poll::Pending(status)
    })
}

pub(super) async fn wait_ready(
    ctx: &Ctx,
    step: &StepRef<'_>,
    shape: Shape,
    id: &str,
    expect: Expect<'_>,
) -> Result<Outputs, DeployError> {
    let resource = step.resource;
    let s = wait::until(
        ctx,
        step.id,
        resource,
        ctx.timing.store_timeout,
        move || async move {
            let s = describe(ctx, shape, id, resource).await?;
            poll_ready(s, expect).map_err(|m| DeployError::other(resource, m))
        },
    )
    .await?;
    Ok(s.outputs())
}

pub(super) async fn wait_gone(
    ctx: &Ctx,
    key: &str,
    shape: Shape,
    id: &str,
    resource: &str,
) -> Result<(), DeployError> {
    wait::until(
        ctx,
        key,
        resource,
        ctx.timing.store_timeout,
        move || async move {
            Ok(match describe(ctx, shape, id, resource).await? {
                None => Poll::Ready(()),
                Some(s) => Poll::Pending(s.status().to_string()),
            })
        },
    )
    .await
}

/// Deletes a cluster or replication group and waits until it is gone. States that refuse
/// deletion (creating, modifying, snapshotting) are waited out; one already being deleted
/// is only waited for.
pub(super) async fn delete_store(
    ctx: &Ctx,
    gone: &Gone<'_>,
    shape: Shape,
) -> Result<(), DeployError> {
    let (id, resource) = (gone.id, gone.resource);
    let (call, busy, missing) = match shape {
        Shape::Cluster => (
            "DeleteCacheCluster",
            "InvalidCacheClusterState",
            "CacheClusterNotFound",
        ),
        Shape::Group => (
            "DeleteReplicationGroup",
            "InvalidReplicationGroupState",
            "ReplicationGroupNotFoundFault",
        ),
    };
    wait::until(
        ctx,
        gone.key,
        resource,
        ctx.timing.store_timeout,
        move || async move {
            let ec = &ctx.clients.elasticache;
            let r = match shape {
                Shape::Cluster => ec
                    .delete_cache_cluster()
                    .cache_cluster_id(id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error(resource, call, &e)),
                Shape::Group => ec
                    .delete_replication_group()
                    .replication_group_id(id)
                    .retain_primary_cluster(false)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error(resource, call, &e)),
            };
            match r {
                Ok(()) => Ok(Poll::Ready(())),
                Err(e) if e.code == missing => Ok(Poll::Ready(())),
                Err(e) if e.code == busy => match describe(ctx, shape, id, resource).await? {
                    None => Ok(Poll::Ready(())),
                    Some(s) if s.status() == "deleting" => Ok(Poll::Ready(())),
                    Some(s) if failed(s.status()) => Err(e),
                    Some(s) => Ok(Poll::Pending(s.status().to_string())),
                },
                Err(e) => Err(e),
            }
        },
    )
    .await?;
    wait_gone(ctx, gone.key, shape, id, resource).await
}

/// Creates a store of either shape; one of the same id still being deleted is waited out.
pub(super) async fn create<F, Fut>(
    ctx: &Ctx,
    step: &StepRef<'_>,
    shape: Shape,
    id: &str,
    call: F,
) -> Result<Outputs, DeployError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Option<Store>, DeployError>>,
{
    let created = match call().await {
        Ok(s) => s,
        Err(e) if e.code.ends_with("AlreadyExists") => {
            match describe(ctx, shape, id, step.resource).await? {
                // Refresh skipped it because it is being deleted: wait for it to go.
                Some(s) if s.status() == "deleting" => {
                    wait_gone(ctx, step.id, shape, id, step.resource).await?;
                    call().await?
                }
                _ => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    if let Some(Ok(Poll::Ready(s))) = created.map(|s| poll_ready(Some(s), Expect::default())) {
        return Ok(s.outputs());
    }
    wait_ready(ctx, step, shape, id, Expect::default()).await
}

/// An existing store: one being deleted is waited out and created anew, one busy is
/// waited for.
pub(super) async fn settle<F>(
    ctx: &Ctx,
    step: &StepRef<'_>,
    found: &Found,
    recreate: F,
) -> Result<Outputs, DeployError>
where
    F: std::future::Future<Output = Result<Outputs, DeployError>>,
{
    let shape = Shape::of(found.kind);
    let id = found.id().unwrap_or_default();
    if found.status.as_deref() == Some("deleting") {
        wait_gone(ctx, step.id, shape, id, step.resource).await?;
        return recreate.await;
    }
    if found.status.as_deref().is_some_and(usable)
        && found.outputs.contains_key(CLUSTER_HOST.name())
    {
        return Ok(found.outputs.clone());
    }
    wait_ready(ctx, step, shape, id, Expect::default()).await
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticache::types::{
        CacheNode, NodeGroup, PendingModifiedValues, SecurityGroupMembership,
    };
    use serde_json::json;

    use super::*;

    fn endpoint(host: &str) -> Endpoint {
        Endpoint::builder().address(host).port(6379).build()
    }

    fn group_member(id: &str) -> SecurityGroupMembership {
        SecurityGroupMembership::builder()
            .security_group_id(id)
            .build()
    }

    fn cluster(status: &str, with_node: bool) -> Cluster {
        let mut b = Cluster::builder()
            .cache_cluster_id("shop-cache")
            .engine("redis")
            .engine_version("7.1.0")
            .cache_node_type("cache.t3.micro")
            .num_cache_nodes(1)
            .cache_subnet_group_name("shop-cache")
            .security_groups(group_member("sg-b"))
            .security_groups(group_member("sg-a"))
            .cache_cluster_status(status);
        if with_node {
            b = b.cache_nodes(
                CacheNode::builder()
                    .cache_node_id("0001")
                    .endpoint(endpoint("shop-cache.x.0001.use1.cache.amazonaws.com"))
                    .build(),
            );
        }
        b.build()
    }

    fn group(status: &str, members: usize) -> Group {
        let mut b = Group::builder()
            .replication_group_id("shop-cache")
            .description("stackc shop: cache")
            .status(status)
            .cache_node_type("cache.t3.micro")
            .automatic_failover(AutomaticFailoverStatus::Enabled)
            .transit_encryption_enabled(true)
            .at_rest_encryption_enabled(true)
            .node_groups(
                NodeGroup::builder()
                    .primary_endpoint(endpoint("master.shop-cache.x.use1.cache.amazonaws.com"))
                    .build(),
            );
        for i in 1..=members {
            b = b.member_clusters(format!("shop-cache-00{i}"));
        }
        b.build()
    }

    #[test]
    fn cluster_state_and_outputs() {
        let f = Store::Cluster(cluster("available", true)).found(&[]);
        assert_eq!(f.kind, Kind::CacheCluster);
        assert_eq!(f.current["CacheNodeType"], "cache.t3.micro");
        assert_eq!(f.current["SecurityGroupIds"], json!(["sg-a", "sg-b"]));
        assert_eq!(f.current["EngineVersion"], "7.1.0");
        assert_eq!(
            f.outputs["host"],
            "shop-cache.x.0001.use1.cache.amazonaws.com"
        );
        assert_eq!(f.outputs["port"], "6379");
        assert_eq!(f.outputs["id"], "shop-cache");
        assert!(f.settled);
        assert!(
            !Store::Cluster(cluster("modifying", true))
                .found(&[])
                .settled
        );
    }

    #[test]
    fn group_state_comes_partly_from_a_member() {
        let g = group("available", 2);
        let member = Cluster::builder()
            .cache_cluster_id("shop-cache-001")
            .replication_group_id("shop-cache")
            .engine("redis")
            .engine_version("7.1.0")
            .security_groups(group_member("sg-a"))
            .build();
        let f = Store::Group(g.clone()).found(&[member]);
        assert_eq!(f.kind, Kind::ReplicationGroup);
        assert_eq!(f.current["NumCacheClusters"], 2);
        assert_eq!(f.current["AutomaticFailoverEnabled"], true);
        assert_eq!(f.current["Engine"], "redis");
        assert_eq!(f.current["EngineVersion"], "7.1.0");
        assert_eq!(f.current["SecurityGroupIds"], json!(["sg-a"]));
        // Without a member, what only a member tells is not compared.
        let bare = Store::Group(g).found(&[]);
        assert!(bare.current.get("EngineVersion").is_none());
        assert_eq!(
            bare.outputs["host"],
            "master.shop-cache.x.use1.cache.amazonaws.com"
        );
    }

    #[test]
    fn waits_until_usable_with_an_endpoint_and_no_pending_change() {
        let e = Expect::default();
        let poll = |c: Cluster, e: Expect<'_>| poll_ready(Some(Store::Cluster(c)), e);
        assert!(
            matches!(poll(cluster("creating", false), e), Ok(Poll::Pending(s)) if s == "creating")
        );
        assert!(matches!(
            poll(cluster("available", false), e),
            Ok(Poll::Pending(_))
        ));
        assert!(matches!(
            poll(cluster("available", true), e),
            Ok(Poll::Ready(_))
        ));
        assert!(matches!(
            poll(cluster("create-failed", false), e),
            Ok(Poll::Failed(_))
        ));
        assert!(matches!(
            poll(cluster("deleting", true), e),
            Ok(Poll::Failed(_))
        ));
        assert!(poll_ready(None, e).is_err());
        let c = cluster("available", true);
        let pending = Cluster::builder()
            .set_cache_cluster_id(c.cache_cluster_id().map(str::to_string))
            .cache_cluster_status("available")
            .set_cache_nodes(Some(c.cache_nodes().to_vec()))
            .pending_modified_values(
                PendingModifiedValues::builder()
                    .cache_node_type("cache.t3.small")
                    .build(),
            )
            .build();
        let fields = ["CacheNodeType"];
        assert!(matches!(
            poll(
                pending.clone(),
                Expect {
                    fields: &fields,
                    members: None
                }
            ),
            Ok(Poll::Pending(_))
        ));
        assert!(matches!(poll(pending, e), Ok(Poll::Ready(_))));
        let members = Expect {
            fields: &[],
            members: Some(3),
        };
        assert!(matches!(
            poll_ready(Some(Store::Group(group("available", 2))), members),
            Ok(Poll::Pending(_))
        ));
        assert!(matches!(
            poll_ready(Some(Store::Group(group("available", 3))), members),
            Ok(Poll::Ready(_))
        ));
    }
}
