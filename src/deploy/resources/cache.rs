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

impl Resource for CacheCluster {
    const ACTION: &'static str = "elasticache:CreateCacheCluster";
    const USES: &'static [Kind] = &[Kind::SecurityGroup, Kind::CacheSubnetGroup];
}

impl Resource for ReplicationGroup {
    const ACTION: &'static str = "elasticache:CreateReplicationGroup";
    const USES: &'static [Kind] = &[Kind::SecurityGroup, Kind::CacheSubnetGroup];
}

#[cfg(feature = "aws")]
mod aws {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use aws_sdk_elasticache::types::{
        AutomaticFailoverStatus, CacheCluster as Cluster, Endpoint, ReplicationGroup as Group, Tag,
    };

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::wait::{self, Poll};
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code};
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::subnet_group::elasticache_owned;
    use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
    use crate::lower::{Plan, Step};

    // Statuses: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.html

    /// A status that waiting will not fix.
    fn failed(status: &str) -> bool {
        matches!(
            status,
            "create-failed" | "incompatible-network" | "restore-failed" | "deleted" | "deleting"
        )
    }

    /// Serving at its endpoint: nothing to wait for before others use it.
    fn usable(status: &str) -> bool {
        matches!(status, "available" | "snapshotting")
    }

    /// The two shapes of a Redis store.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum Shape {
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
    enum Store {
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
            let mut f = match self {
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
                            Some(
                                AutomaticFailoverStatus::Enabled
                                    | AutomaticFailoverStatus::Enabling
                            )
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
            f.status = Some(self.status().to_string());
            f
        }
    }

    /// The stores of the region this stack owns, matched to the plan's steps of both shapes.
    #[derive(Default)]
    struct Stores {
        found: BTreeMap<String, Found>,
        conflicts: Vec<Conflict>,
        orphans: Vec<Orphan>,
    }

    /// The id a planned store of either shape asks for.
    fn planned_id(step: &Step) -> Option<(Shape, &str)> {
        if let Some(c) = step.desired_as::<CacheCluster>() {
            return Some((Shape::Cluster, c.id.as_str()));
        }
        step.desired_as::<ReplicationGroup>()
            .map(|g| (Shape::Group, g.id.as_str()))
    }

    async fn read_stores(ctx: &Ctx, plan: &Plan) -> Result<Stores, DeployError> {
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
                    out.conflicts.push(Conflict {
                        step: step.id.clone(),
                        resource: step.resource.clone(),
                        why: format!("an {} with the id {id} already exists and is not tagged `stackc:stack = {}`", shape.noun(), ctx.stack),
                    });
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
    async fn refresh(
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

    async fn describe(
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

    /// What a wait expects besides a usable status and an endpoint.
    #[derive(Clone, Copy, Default)]
    struct Expect<'a> {
        /// Modified fields that must no longer be pending.
        fields: &'a [&'a str],
        /// The number of clusters a replication group must have.
        members: Option<usize>,
    }

    fn poll_ready(s: Option<Store>, expect: Expect<'_>) -> Result<Poll<Store>, String> {
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

    async fn wait_ready(
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

    async fn wait_gone(
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
    async fn delete_store(ctx: &Ctx, gone: &Gone<'_>, shape: Shape) -> Result<(), DeployError> {
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
    async fn create<F, Fut>(
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
    async fn settle<F>(
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

    fn tags(t: &Tags) -> Vec<Tag> {
        t.pairs()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    }

    fn changed(changes: &[FieldChange]) -> Vec<&str> {
        changes.iter().map(|c| c.field.as_str()).collect()
    }

    impl Apply for CacheCluster {
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let steps: Vec<&Step> = steps.iter().map(|(s, _)| *s).collect();
            refresh(ctx, reads, plan, &steps, Shape::Cluster).await
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &CacheCluster<Live>,
        ) -> Result<Outputs, DeployError> {
            create(ctx, step, Shape::Cluster, &want.id, || async {
                ctx.clients
                    .elasticache
                    .create_cache_cluster()
                    .cache_cluster_id(&want.id)
                    .engine(&want.engine)
                    .engine_version(&want.engine_version)
                    .cache_node_type(&want.node_type)
                    .num_cache_nodes(i32::try_from(want.nodes).unwrap_or(1))
                    .cache_subnet_group_name(&want.subnet_group)
                    .set_security_group_ids(Some(want.security_groups.clone()))
                    .set_tags(Some(tags(&want.tags)))
                    .send()
                    .await
                    .map(|o| o.cache_cluster().cloned().map(Store::Cluster))
                    .map_err(|e| aws_error(step.resource, "CreateCacheCluster", &e))
            })
            .await
        }

        async fn update(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &CacheCluster<Live>,
            found: &Found,
            changes: &[FieldChange],
        ) -> Result<Outputs, DeployError> {
            if found.status.as_deref() == Some("deleting") {
                return Self::settle(ctx, step, want, found).await;
            }
            let id = found.id().unwrap_or(&want.id);
            let fields = changed(changes);
            // A busy cache refuses modifications: let it settle first.
            if found.status.as_deref() != Some("available") {
                wait_ready(ctx, step, Shape::Cluster, id, Expect::default()).await?;
            }
            let has = |f: &str| fields.contains(&f);
            ctx.clients
                .elasticache
                .modify_cache_cluster()
                .cache_cluster_id(id)
                .apply_immediately(true)
                .set_cache_node_type(has("CacheNodeType").then(|| want.node_type.clone()))
                .set_engine_version(has("EngineVersion").then(|| want.engine_version.clone()))
                .set_security_group_ids(
                    has("SecurityGroupIds").then(|| want.security_groups.clone()),
                )
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "ModifyCacheCluster", &e))?;
            wait_ready(
                ctx,
                step,
                Shape::Cluster,
                id,
                Expect {
                    fields: &fields,
                    members: None,
                },
            )
            .await
        }

        async fn settle(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &CacheCluster<Live>,
            found: &Found,
        ) -> Result<Outputs, DeployError> {
            settle(ctx, step, found, Self::create(ctx, step, want)).await
        }

        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            delete_store(ctx, gone, Shape::Cluster).await
        }
    }

    /// Adds or removes replicas so the group has `want` clusters (a primary and `want - 1`
    /// replicas).
    async fn set_replicas(
        ctx: &Ctx,
        resource: &str,
        id: &str,
        want: usize,
        have: usize,
    ) -> Result<(), DeployError> {
        let ec = &ctx.clients.elasticache;
        let replicas = i32::try_from(want.saturating_sub(1)).unwrap_or(i32::MAX);
        if want > have {
            ec.increase_replica_count()
                .replication_group_id(id)
                .new_replica_count(replicas)
                .apply_immediately(true)
                .send()
                .await
                .map_err(|e| aws_error(resource, "IncreaseReplicaCount", &e))?;
        } else if want < have {
            ec.decrease_replica_count()
                .replication_group_id(id)
                .new_replica_count(replicas)
                .apply_immediately(true)
                .send()
                .await
                .map_err(|e| aws_error(resource, "DecreaseReplicaCount", &e))?;
        }
        Ok(())
    }

    async fn modify_group(
        ctx: &Ctx,
        resource: &str,
        id: &str,
        want: &ReplicationGroup<Live>,
        fields: &[&str],
    ) -> Result<(), DeployError> {
        let has = |f: &str| fields.contains(&f);
        ctx.clients
            .elasticache
            .modify_replication_group()
            .replication_group_id(id)
            .apply_immediately(true)
            .set_cache_node_type(has("CacheNodeType").then(|| want.node_type.clone()))
            .set_engine_version(has("EngineVersion").then(|| want.engine_version.clone()))
            .set_security_group_ids(has("SecurityGroupIds").then(|| want.security_groups.clone()))
            .set_automatic_failover_enabled(
                has("AutomaticFailoverEnabled").then_some(want.failover),
            )
            .send()
            .await
            .map_err(|e| aws_error(resource, "ModifyReplicationGroup", &e))?;
        Ok(())
    }

    impl Apply for ReplicationGroup {
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let steps: Vec<&Step> = steps.iter().map(|(s, _)| *s).collect();
            refresh(ctx, reads, plan, &steps, Shape::Group).await
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &ReplicationGroup<Live>,
        ) -> Result<Outputs, DeployError> {
            create(ctx, step, Shape::Group, &want.id, || async {
                ctx.clients
                    .elasticache
                    .create_replication_group()
                    .replication_group_id(&want.id)
                    .replication_group_description(&want.description)
                    .engine(&want.engine)
                    .engine_version(&want.engine_version)
                    .cache_node_type(&want.node_type)
                    .num_cache_clusters(i32::try_from(want.clusters).unwrap_or(i32::MAX))
                    .automatic_failover_enabled(want.failover)
                    .transit_encryption_enabled(want.transit_encryption)
                    .at_rest_encryption_enabled(want.at_rest_encryption)
                    .cache_subnet_group_name(&want.subnet_group)
                    .set_security_group_ids(Some(want.security_groups.clone()))
                    .set_tags(Some(tags(&want.tags)))
                    .send()
                    .await
                    .map(|o| o.replication_group().cloned().map(Store::Group))
                    .map_err(|e| aws_error(step.resource, "CreateReplicationGroup", &e))
            })
            .await
        }

        async fn update(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &ReplicationGroup<Live>,
            found: &Found,
            changes: &[FieldChange],
        ) -> Result<Outputs, DeployError> {
            if found.status.as_deref() == Some("deleting") {
                return Self::settle(ctx, step, want, found).await;
            }
            let id = found.id().unwrap_or(&want.id);
            let all = changed(changes);
            // The replica count has calls of its own.
            let fields: Vec<&str> = all
                .iter()
                .copied()
                .filter(|f| *f != "NumCacheClusters")
                .collect();
            let members = want.clusters as usize;
            let have = found
                .current
                .get("NumCacheClusters")
                .and_then(serde_json::Value::as_u64)
                .map_or(members, |n| n as usize);
            if found.status.as_deref() != Some("available") {
                wait_ready(ctx, step, Shape::Group, id, Expect::default()).await?;
            }
            let expect = Expect {
                fields: &fields,
                members: Some(members),
            };
            if members < have {
                // Fewer replicas: automatic failover goes off first (it needs a replica).
                if !fields.is_empty() {
                    modify_group(ctx, step.resource, id, want, &fields).await?;
                    wait_ready(
                        ctx,
                        step,
                        Shape::Group,
                        id,
                        Expect {
                            fields: &fields,
                            members: None,
                        },
                    )
                    .await?;
                }
                set_replicas(ctx, step.resource, id, members, have).await?;
            } else if members > have {
                // More replicas: they exist before automatic failover is turned on.
                set_replicas(ctx, step.resource, id, members, have).await?;
                if !fields.is_empty() {
                    wait_ready(
                        ctx,
                        step,
                        Shape::Group,
                        id,
                        Expect {
                            fields: &[],
                            members: Some(members),
                        },
                    )
                    .await?;
                    modify_group(ctx, step.resource, id, want, &fields).await?;
                }
            } else if !fields.is_empty() {
                modify_group(ctx, step.resource, id, want, &fields).await?;
            }
            wait_ready(ctx, step, Shape::Group, id, expect).await
        }

        async fn settle(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &ReplicationGroup<Live>,
            found: &Found,
        ) -> Result<Outputs, DeployError> {
            settle(ctx, step, found, Self::create(ctx, step, want)).await
        }

        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            delete_store(ctx, gone, Shape::Group).await
        }
    }
}
