//! ElastiCache: the Redis of a `redis` store — a single-node cache cluster, or a replication
//! group when it has replicas or encryption — and its cache subnet group.
//!
//! ElastiCache's describe calls carry no tags, so ownership needs ListTagsForResource per
//! resource. Refresh lists clusters, replication groups and subnet groups once each (three
//! concurrent reads), then the tags only of the resources this stack may own: the ids and
//! names the plan names, ids and names starting with `<stack>-` (the pattern of stackc's
//! defaults), and clusters in a subnet group starting with `<stack>-` (stackc always puts its
//! caches in one; this finds a store whose identifier was renamed). Resources being deleted are
//! skipped: they are going away, and a create that meets one waits for it to go.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_elasticache::types::{
    AutomaticFailoverStatus, CacheCluster, CacheSubnetGroup, Endpoint, ReplicationGroup, Tag,
};
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

use super::wait::{self, Poll};
use super::{Ctx, DeployError, aws_error, error_code, owned, params};
use crate::deploy::diff::Op;
use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
use crate::lower::{Plan, Step};

const CREATE_CLUSTER: &str = "elasticache:CreateCacheCluster";
const CREATE_GROUP: &str = "elasticache:CreateReplicationGroup";
const CREATE_SUBNET_GROUP: &str = "elasticache:CreateCacheSubnetGroup";

/// How long a subnet group may stay "in use" while a deleted cache lets go of it.
const SUBNET_GROUP_RELEASE: Duration = Duration::from_secs(10 * 60);

/// The two shapes a Redis store takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Cluster,
    Group,
}

impl Kind {
    fn of(action: &str) -> Option<Kind> {
        match action {
            CREATE_CLUSTER => Some(Kind::Cluster),
            CREATE_GROUP => Some(Kind::Group),
            _ => None,
        }
    }

    fn action(self) -> &'static str {
        match self {
            Kind::Cluster => CREATE_CLUSTER,
            Kind::Group => CREATE_GROUP,
        }
    }

    fn id_param(self) -> &'static str {
        match self {
            Kind::Cluster => "CacheClusterId",
            Kind::Group => "ReplicationGroupId",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Cluster => "ElastiCache cluster",
            Kind::Group => "ElastiCache replication group",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Statuses (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.html)

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

/// One Redis store as it exists.
#[derive(Clone, Debug)]
enum Store {
    Cluster(CacheCluster),
    Group(ReplicationGroup),
}

fn endpoint_outputs(id: &str, e: Option<&Endpoint>) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(e) = e {
        if let Some(host) = e.address() {
            out.insert("host".into(), json!(host));
        }
        if let Some(port) = e.port() {
            out.insert("port".into(), json!(port.to_string()));
        }
    }
    out.insert("id".into(), json!(id));
    out
}

/// A single-node cluster is reached at its node; a replication group at its primary endpoint
/// (or its configuration endpoint in cluster mode).
fn cluster_endpoint(c: &CacheCluster) -> Option<&Endpoint> {
    c.cache_nodes()
        .first()
        .and_then(|n| n.endpoint())
        .or(c.configuration_endpoint())
}

fn group_endpoint(g: &ReplicationGroup) -> Option<&Endpoint> {
    g.node_groups()
        .first()
        .and_then(|n| n.primary_endpoint())
        .or(g.configuration_endpoint())
}

impl Store {
    fn kind(&self) -> Kind {
        match self {
            Store::Cluster(_) => Kind::Cluster,
            Store::Group(_) => Kind::Group,
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

    fn endpoint(&self) -> Option<&Endpoint> {
        match self {
            Store::Cluster(c) => cluster_endpoint(c),
            Store::Group(g) => group_endpoint(g),
        }
    }

    fn outputs(&self) -> Map<String, Value> {
        endpoint_outputs(self.id(), self.endpoint())
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn security_groups(c: &CacheCluster) -> Vec<String> {
    sorted(
        c.security_groups()
            .iter()
            .filter_map(|g| g.security_group_id().map(str::to_string))
            .collect(),
    )
}

/// A cluster under the parameter names of CreateCacheCluster.
fn cluster_current(c: &CacheCluster) -> Value {
    json!({
        "CacheClusterId": c.cache_cluster_id(),
        "Engine": c.engine(),
        "EngineVersion": c.engine_version(),
        "CacheNodeType": c.cache_node_type(),
        "NumCacheNodes": c.num_cache_nodes(),
        "CacheSubnetGroupName": c.cache_subnet_group_name(),
        "SecurityGroupIds": security_groups(c),
    })
}

/// A replication group under the parameter names of CreateReplicationGroup. The engine
/// version, subnet group and security groups are not part of a group's description: they
/// come from a member cluster, when DescribeCacheClusters lists one.
fn group_current(g: &ReplicationGroup, member: Option<&CacheCluster>) -> Value {
    let failover = matches!(
        g.automatic_failover(),
        Some(AutomaticFailoverStatus::Enabled | AutomaticFailoverStatus::Enabling)
    );
    // Replication groups made before the Engine field existed are all Redis.
    let engine = member
        .and_then(|m| m.engine())
        .or(g.engine())
        .unwrap_or("redis");
    let mut v = json!({
        "ReplicationGroupId": g.replication_group_id(),
        "ReplicationGroupDescription": g.description(),
        "Engine": engine,
        "CacheNodeType": g.cache_node_type(),
        "NumCacheClusters": g.member_clusters().len(),
        "AutomaticFailoverEnabled": failover,
        "TransitEncryptionEnabled": g.transit_encryption_enabled().unwrap_or(false),
        "AtRestEncryptionEnabled": g.at_rest_encryption_enabled().unwrap_or(false),
    });
    if let (Some(m), Value::Object(o)) = (member, &mut v) {
        o.insert("EngineVersion".into(), json!(m.engine_version()));
        o.insert(
            "CacheSubnetGroupName".into(),
            json!(m.cache_subnet_group_name()),
        );
        o.insert("SecurityGroupIds".into(), json!(security_groups(m)));
    }
    v
}

fn found_of(s: &Store, clusters: &[CacheCluster]) -> Found {
    let current = match s {
        Store::Cluster(c) => cluster_current(c),
        Store::Group(g) => {
            let member = clusters
                .iter()
                .find(|c| c.replication_group_id() == g.replication_group_id());
            group_current(g, member)
        }
    };
    let mut f = Found::new(current, Value::Object(s.outputs()));
    f.status = Some(s.status().to_string());
    f
}

fn subnet_group_current(g: &CacheSubnetGroup) -> Value {
    let subnets = sorted(
        g.subnets()
            .iter()
            .filter_map(|s| s.subnet_identifier().map(str::to_string))
            .collect(),
    );
    json!({
        "CacheSubnetGroupName": g.cache_subnet_group_name(),
        "CacheSubnetGroupDescription": g.cache_subnet_group_description(),
        "SubnetIds": subnets,
    })
}

fn subnet_group_outputs(name: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    out.insert("id".into(), json!(name));
    out
}

// ---------------------------------------------------------------------------------------------
// Refresh

async fn all_clusters(ctx: &Ctx) -> Result<Vec<CacheCluster>, DeployError> {
    ctx.clients
        .elasticache
        .describe_cache_clusters()
        .show_cache_node_info(true)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| aws_error("ElastiCache clusters", "DescribeCacheClusters", &e))
}

async fn all_groups(ctx: &Ctx) -> Result<Vec<ReplicationGroup>, DeployError> {
    ctx.clients
        .elasticache
        .describe_replication_groups()
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
}

async fn all_subnet_groups(ctx: &Ctx) -> Result<Vec<CacheSubnetGroup>, DeployError> {
    ctx.clients
        .elasticache
        .describe_cache_subnet_groups()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| aws_error("cache subnet groups", "DescribeCacheSubnetGroups", &e))
}

/// Whether each ARN carries this stack's tag, listed concurrently. A resource that vanished
/// between the describe and the listing is not ours.
async fn ownership(
    ctx: &Ctx,
    arns: BTreeSet<String>,
) -> Result<HashMap<String, bool>, DeployError> {
    let mut set = JoinSet::new();
    for arn in arns {
        let client = ctx.clients.elasticache.clone();
        let stack = ctx.stack.clone();
        set.spawn(async move {
            let r = match client
                .list_tags_for_resource()
                .resource_name(&arn)
                .send()
                .await
            {
                Ok(o) => Ok(owned(
                    o.tag_list()
                        .iter()
                        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
                    &stack,
                )),
                Err(e)
                    if error_code(&e).is_some_and(|c| {
                        c.ends_with("NotFound") || c.ends_with("NotFoundFault")
                    }) =>
                {
                    Ok(false)
                }
                Err(e) => Err(aws_error(&arn, "ListTagsForResource", &e)),
            };
            (arn, r)
        });
    }
    let mut out = HashMap::new();
    while let Some(j) = set.join_next().await {
        let (arn, r) = j.map_err(|e| {
            DeployError::other("ElastiCache", format!("a read stopped unexpectedly: {e}"))
        })?;
        out.insert(arn, r?);
    }
    Ok(out)
}

pub async fn refresh(ctx: &Ctx, plan: &Plan) -> Result<Snapshot, DeployError> {
    let mut snap = Snapshot::default();
    let (clusters, groups, subnet_groups) =
        tokio::join!(all_clusters(ctx), all_groups(ctx), all_subnet_groups(ctx));
    let (clusters, groups, subnet_groups) = (clusters?, groups?, subnet_groups?);
    let prefix = format!("{}-", ctx.stack.to_ascii_lowercase());
    let ours_by_name = |s: &str| s.to_ascii_lowercase().starts_with(&prefix);

    let store_steps: Vec<(&Step, Kind)> = plan
        .steps
        .iter()
        .filter_map(|s| Kind::of(&s.action).map(|k| (s, k)))
        .collect();
    let planned: BTreeSet<String> = store_steps
        .iter()
        .map(|(s, k)| params::str(&s.params, k.id_param()).to_ascii_lowercase())
        .collect();
    let subnet_steps: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| s.action == CREATE_SUBNET_GROUP)
        .collect();
    let wanted_subnets: BTreeSet<String> = subnet_steps
        .iter()
        .map(|s| params::str(&s.params, "CacheSubnetGroupName").to_ascii_lowercase())
        .collect();

    // Stores: standalone clusters (members of a group belong to their group) and groups.
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
    let mut arns: BTreeSet<String> = stores
        .iter()
        .filter(|s| {
            planned.contains(&s.id().to_ascii_lowercase())
                || ours_by_name(s.id())
                || in_our_subnets(s)
        })
        .filter_map(|s| s.arn().map(str::to_string))
        .collect();
    arns.extend(
        subnet_groups
            .iter()
            .filter(|g| {
                g.cache_subnet_group_name().is_some_and(|n| {
                    wanted_subnets.contains(&n.to_ascii_lowercase()) || ours_by_name(n)
                })
            })
            .filter_map(|g| g.arn().map(str::to_string)),
    );
    let owners = ownership(ctx, arns).await?;
    let is_ours = |arn: Option<&str>| arn.is_some_and(|a| owners.get(a) == Some(&true));

    let mut matched: BTreeSet<(Kind, String)> = BTreeSet::new();
    for (step, kind) in &store_steps {
        let id = params::str(&step.params, kind.id_param());
        let find = |k: Kind| {
            stores
                .iter()
                .find(|s| s.kind() == k && s.id().eq_ignore_ascii_case(id))
        };
        let other = match kind {
            Kind::Cluster => Kind::Group,
            Kind::Group => Kind::Cluster,
        };
        if let Some(s) = find(*kind) {
            if is_ours(s.arn()) {
                matched.insert((s.kind(), s.id().to_string()));
                snap.found.insert(step.id.clone(), found_of(s, &clusters));
            } else {
                snap.conflicts.push(Conflict {
                    step: step.id.clone(),
                    resource: step.resource.clone(),
                    why: format!("an {} with the id {id} already exists and is not tagged `stackc:stack = {}`", kind.noun(), ctx.stack),
                });
            }
        } else if let Some(s) = find(other).filter(|s| is_ours(s.arn())) {
            // Ours, of the other shape: the diff replaces it.
            matched.insert((s.kind(), s.id().to_string()));
            let mut f = found_of(s, &clusters);
            f.action = Some(other.action().to_string());
            snap.found.insert(step.id.clone(), f);
        }
    }
    for s in &stores {
        if is_ours(s.arn()) && !matched.contains(&(s.kind(), s.id().to_string())) {
            snap.orphans.push(Orphan {
                action: s.kind().action().into(),
                id: s.id().to_string(),
                resource: format!("{} {}", s.kind().noun(), s.id()),
            });
        }
    }

    let mut matched = BTreeSet::new();
    for step in &subnet_steps {
        let want = params::str(&step.params, "CacheSubnetGroupName");
        let Some(g) = subnet_groups.iter().find(|g| {
            g.cache_subnet_group_name()
                .is_some_and(|n| n.eq_ignore_ascii_case(want))
        }) else {
            continue;
        };
        let name = g.cache_subnet_group_name().unwrap_or_default();
        if is_ours(g.arn()) {
            matched.insert(name.to_string());
            snap.found.insert(
                step.id.clone(),
                Found::new(
                    subnet_group_current(g),
                    Value::Object(subnet_group_outputs(name)),
                ),
            );
        } else {
            snap.conflicts.push(Conflict {
                step: step.id.clone(),
                resource: step.resource.clone(),
                why: format!("a cache subnet group named {name} already exists and is not tagged `stackc:stack = {}`", ctx.stack),
            });
        }
    }
    for g in &subnet_groups {
        let name = g.cache_subnet_group_name().unwrap_or_default();
        if is_ours(g.arn()) && !matched.contains(name) {
            snap.orphans.push(Orphan {
                action: CREATE_SUBNET_GROUP.into(),
                id: name.to_string(),
                resource: format!("cache subnet group {name}"),
            });
        }
    }
    Ok(snap)
}

// ---------------------------------------------------------------------------------------------
// Waiting

async fn describe(
    ctx: &Ctx,
    kind: Kind,
    id: &str,
    resource: &str,
) -> Result<Option<Store>, DeployError> {
    let ec = &ctx.clients.elasticache;
    match kind {
        Kind::Cluster => match ec
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
        Kind::Group => match ec
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
    key: &str,
    kind: Kind,
    id: &str,
    resource: &str,
    expect: Expect<'_>,
) -> Result<Map<String, Value>, DeployError> {
    let s = wait::until(
        ctx,
        key,
        resource,
        ctx.timing.store_timeout,
        move || async move {
            let s = describe(ctx, kind, id, resource).await?;
            poll_ready(s, expect).map_err(|m| DeployError::other(resource, m))
        },
    )
    .await?;
    Ok(s.outputs())
}

async fn wait_gone(
    ctx: &Ctx,
    key: &str,
    kind: Kind,
    id: &str,
    resource: &str,
) -> Result<(), DeployError> {
    wait::until(
        ctx,
        key,
        resource,
        ctx.timing.store_timeout,
        move || async move {
            Ok(match describe(ctx, kind, id, resource).await? {
                None => Poll::Ready(()),
                Some(s) => Poll::Pending(s.status().to_string()),
            })
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Changing things

fn ec_tags(p: &Value) -> Vec<Tag> {
    params::tags(p)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn version_parts(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

fn string_set(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// The fields of ModifyCacheCluster / ModifyReplicationGroup that differ. Engine downgrades
/// are replacements (the diff says so), not modifications; the replica count has calls of its own.
fn modifications(want: &Value, current: &Map<String, Value>) -> Vec<&'static str> {
    let mut out = Vec::new();
    let cur = |k: &str| current.get(k).unwrap_or(&Value::Null);
    if let Some(w) = want.get("CacheNodeType") {
        if w != cur("CacheNodeType") {
            out.push("CacheNodeType");
        }
    }
    if let Some(w) = want.get("EngineVersion").and_then(Value::as_str) {
        let c = cur("EngineVersion").as_str().unwrap_or_default();
        let same = w == c || c.starts_with(&format!("{w}."));
        if !same && version_parts(w) > version_parts(c) {
            out.push("EngineVersion");
        }
    }
    if want.get("SecurityGroupIds").is_some()
        && string_set(want.get("SecurityGroupIds")) != string_set(current.get("SecurityGroupIds"))
    {
        out.push("SecurityGroupIds");
    }
    if let Some(w) = want.get("AutomaticFailoverEnabled") {
        if w != cur("AutomaticFailoverEnabled") {
            out.push("AutomaticFailoverEnabled");
        }
    }
    out
}

async fn create(
    ctx: &Ctx,
    step: &Step,
    kind: Kind,
    p: &Value,
) -> Result<Option<Store>, DeployError> {
    let ec = &ctx.clients.elasticache;
    let groups = Some(params::strings(p, "SecurityGroupIds"));
    match kind {
        Kind::Cluster => ec
            .create_cache_cluster()
            .cache_cluster_id(params::str(p, "CacheClusterId"))
            .engine(params::str(p, "Engine"))
            .set_engine_version(params::opt_str(p, "EngineVersion"))
            .cache_node_type(params::str(p, "CacheNodeType"))
            .set_num_cache_nodes(params::int(p, "NumCacheNodes"))
            .set_cache_subnet_group_name(params::opt_str(p, "CacheSubnetGroupName"))
            .set_security_group_ids(groups)
            .set_tags(Some(ec_tags(p)))
            .send()
            .await
            .map(|o| o.cache_cluster().cloned().map(Store::Cluster))
            .map_err(|e| aws_error(&step.resource, "CreateCacheCluster", &e)),
        Kind::Group => ec
            .create_replication_group()
            .replication_group_id(params::str(p, "ReplicationGroupId"))
            .replication_group_description(params::str(p, "ReplicationGroupDescription"))
            .engine(params::str(p, "Engine"))
            .set_engine_version(params::opt_str(p, "EngineVersion"))
            .cache_node_type(params::str(p, "CacheNodeType"))
            .set_num_cache_clusters(params::int(p, "NumCacheClusters"))
            .set_automatic_failover_enabled(params::bool(p, "AutomaticFailoverEnabled"))
            .set_transit_encryption_enabled(params::bool(p, "TransitEncryptionEnabled"))
            .set_at_rest_encryption_enabled(params::bool(p, "AtRestEncryptionEnabled"))
            .set_cache_subnet_group_name(params::opt_str(p, "CacheSubnetGroupName"))
            .set_security_group_ids(groups)
            .set_tags(Some(ec_tags(p)))
            .send()
            .await
            .map(|o| o.replication_group().cloned().map(Store::Group))
            .map_err(|e| aws_error(&step.resource, "CreateReplicationGroup", &e)),
    }
}

async fn modify(
    ctx: &Ctx,
    step: &Step,
    kind: Kind,
    id: &str,
    p: &Value,
    fields: &[&str],
) -> Result<(), DeployError> {
    let ec = &ctx.clients.elasticache;
    let has = |f: &str| fields.contains(&f);
    let groups = has("SecurityGroupIds").then(|| params::strings(p, "SecurityGroupIds"));
    let node_type = if has("CacheNodeType") {
        params::opt_str(p, "CacheNodeType")
    } else {
        None
    };
    let version = if has("EngineVersion") {
        params::opt_str(p, "EngineVersion")
    } else {
        None
    };
    match kind {
        Kind::Cluster => {
            ec.modify_cache_cluster()
                .cache_cluster_id(id)
                .apply_immediately(true)
                .set_cache_node_type(node_type)
                .set_engine_version(version)
                .set_security_group_ids(groups)
                .send()
                .await
                .map_err(|e| aws_error(&step.resource, "ModifyCacheCluster", &e))?;
        }
        Kind::Group => {
            let failover = if has("AutomaticFailoverEnabled") {
                params::bool(p, "AutomaticFailoverEnabled")
            } else {
                None
            };
            ec.modify_replication_group()
                .replication_group_id(id)
                .apply_immediately(true)
                .set_cache_node_type(node_type)
                .set_engine_version(version)
                .set_security_group_ids(groups)
                .set_automatic_failover_enabled(failover)
                .send()
                .await
                .map_err(|e| aws_error(&step.resource, "ModifyReplicationGroup", &e))?;
        }
    }
    Ok(())
}

/// Adds or removes replicas so the group has `want` clusters (one primary, `want - 1` replicas).
async fn set_replicas(
    ctx: &Ctx,
    step: &Step,
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
            .map_err(|e| aws_error(&step.resource, "IncreaseReplicaCount", &e))?;
    } else if want < have {
        ec.decrease_replica_count()
            .replication_group_id(id)
            .new_replica_count(replicas)
            .apply_immediately(true)
            .send()
            .await
            .map_err(|e| aws_error(&step.resource, "DecreaseReplicaCount", &e))?;
    }
    Ok(())
}

async fn update(
    ctx: &Ctx,
    step: &Step,
    kind: Kind,
    id: &str,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    let key = step.id.as_str();
    let resource = step.resource.as_str();
    let current = found.map(|f| f.current.clone()).unwrap_or_default();
    let fields = modifications(p, &current);
    let want = p
        .get("NumCacheClusters")
        .and_then(Value::as_u64)
        .map(|n| n as usize);
    let have = current
        .get("NumCacheClusters")
        .and_then(Value::as_u64)
        .map(|n| n as usize);
    let replicas = match (kind, want, have) {
        (Kind::Group, Some(w), Some(h)) if w != h => Some((w, h)),
        _ => None,
    };
    if fields.is_empty() && replicas.is_none() {
        return wait_ready(ctx, key, kind, id, resource, Expect::default()).await;
    }
    // A busy cache refuses modifications: let it settle first.
    if found.and_then(|f| f.status.as_deref()) != Some("available") {
        wait_ready(ctx, key, kind, id, resource, Expect::default()).await?;
    }
    let expect = Expect {
        fields: &fields,
        members: want.filter(|_| kind == Kind::Group),
    };
    match replicas {
        // Fewer replicas: automatic failover goes off first (it needs a replica).
        Some((w, h)) if w < h => {
            if !fields.is_empty() {
                modify(ctx, step, kind, id, p, &fields).await?;
                wait_ready(
                    ctx,
                    key,
                    kind,
                    id,
                    resource,
                    Expect {
                        fields: &fields,
                        members: None,
                    },
                )
                .await?;
            }
            set_replicas(ctx, step, id, w, h).await?;
            wait_ready(ctx, key, kind, id, resource, expect).await
        }
        // More replicas: they exist before automatic failover is turned on.
        Some((w, h)) => {
            set_replicas(ctx, step, id, w, h).await?;
            if fields.is_empty() {
                return wait_ready(ctx, key, kind, id, resource, expect).await;
            }
            wait_ready(
                ctx,
                key,
                kind,
                id,
                resource,
                Expect {
                    fields: &[],
                    members: Some(w),
                },
            )
            .await?;
            modify(ctx, step, kind, id, p, &fields).await?;
            wait_ready(ctx, key, kind, id, resource, expect).await
        }
        None => {
            modify(ctx, step, kind, id, p, &fields).await?;
            wait_ready(ctx, key, kind, id, resource, expect).await
        }
    }
}

async fn run_store(
    ctx: &Ctx,
    step: &Step,
    kind: Kind,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    let key = step.id.as_str();
    let resource = step.resource.as_str();
    let id = params::str(p, kind.id_param());
    let existing_kind = found
        .and_then(|f| f.action.as_deref())
        .and_then(Kind::of)
        .unwrap_or(kind);
    let existing = found
        .and_then(|f| f.outputs.get("id"))
        .and_then(Value::as_str)
        .unwrap_or(id);
    let status = found.and_then(|f| f.status.as_deref());

    // One still being deleted (an interrupted destroy) is waited out, then created anew.
    let op = if status == Some("deleting") {
        wait_gone(ctx, key, existing_kind, existing, resource).await?;
        Op::Create
    } else {
        op
    };
    match op {
        Op::Keep | Op::Read => {
            if let Some(f) = found.filter(|f| {
                f.status.as_deref().is_some_and(usable) && f.outputs.contains_key("host")
            }) {
                return Ok(f.outputs.clone());
            }
            wait_ready(
                ctx,
                key,
                existing_kind,
                existing,
                resource,
                Expect::default(),
            )
            .await
        }
        Op::Update if existing_kind == kind => update(ctx, step, kind, existing, p, found).await,
        Op::Update | Op::Replace | Op::Create | Op::Delete => {
            if matches!(op, Op::Replace | Op::Update) && found.is_some() {
                ctx.progress
                    .status(key, &format!("deleting the old {}", existing_kind.noun()));
                delete_store(ctx, key, existing_kind, existing, resource).await?;
            }
            let created = match create(ctx, step, kind, p).await {
                Ok(s) => s,
                Err(e) if e.code.ends_with("AlreadyExists") => {
                    // Refresh skipped it because it is being deleted: wait for it to go.
                    match describe(ctx, kind, id, resource).await? {
                        Some(s) if s.status() == "deleting" => {
                            wait_gone(ctx, key, kind, id, resource).await?;
                            create(ctx, step, kind, p).await?
                        }
                        _ => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
            if let Some(Ok(Poll::Ready(s))) =
                created.map(|s| poll_ready(Some(s), Expect::default()))
            {
                return Ok(s.outputs());
            }
            wait_ready(ctx, key, kind, id, resource, Expect::default()).await
        }
    }
}

async fn run_subnet_group(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    let ec = &ctx.clients.elasticache;
    let name = params::str(p, "CacheSubnetGroupName");
    match op {
        Op::Keep | Op::Read => Ok(found
            .map(|f| f.outputs.clone())
            .unwrap_or_else(|| subnet_group_outputs(name))),
        Op::Update => {
            ec.modify_cache_subnet_group()
                .cache_subnet_group_name(name)
                .set_subnet_ids(Some(params::strings(p, "SubnetIds")))
                .send()
                .await
                .map_err(|e| aws_error(&step.resource, "ModifyCacheSubnetGroup", &e))?;
            Ok(subnet_group_outputs(name))
        }
        Op::Replace | Op::Create | Op::Delete => {
            if op == Op::Replace && found.is_some() {
                delete_subnet_group(ctx, name, &step.resource).await?;
            }
            let r = ec
                .create_cache_subnet_group()
                .cache_subnet_group_name(name)
                .cache_subnet_group_description(params::str(p, "CacheSubnetGroupDescription"))
                .set_subnet_ids(Some(params::strings(p, "SubnetIds")))
                .set_tags(Some(ec_tags(p)))
                .send()
                .await
                .map_err(|e| aws_error(&step.resource, "CreateCacheSubnetGroup", &e))?;
            let name = r
                .cache_subnet_group()
                .and_then(|g| g.cache_subnet_group_name())
                .unwrap_or(name);
            Ok(subnet_group_outputs(name))
        }
    }
}

pub async fn run(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    match (step.action.as_str(), Kind::of(&step.action)) {
        (_, Some(kind)) => run_store(ctx, step, kind, op, p, found).await,
        (CREATE_SUBNET_GROUP, None) => run_subnet_group(ctx, step, op, p, found).await,
        (other, None) => Err(DeployError::other(
            &step.resource,
            format!("no executor for {other}"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Deleting

/// Deletes a cluster or replication group and waits until it is gone. States that refuse
/// deletion (creating, modifying, snapshotting) are waited out; one already being deleted is
/// only waited for.
async fn delete_store(
    ctx: &Ctx,
    key: &str,
    kind: Kind,
    id: &str,
    resource: &str,
) -> Result<(), DeployError> {
    let (call, busy, gone) = match kind {
        Kind::Cluster => (
            "DeleteCacheCluster",
            "InvalidCacheClusterState",
            "CacheClusterNotFound",
        ),
        Kind::Group => (
            "DeleteReplicationGroup",
            "InvalidReplicationGroupState",
            "ReplicationGroupNotFoundFault",
        ),
    };
    wait::until(
        ctx,
        key,
        resource,
        ctx.timing.store_timeout,
        move || async move {
            let ec = &ctx.clients.elasticache;
            let r = match kind {
                Kind::Cluster => ec
                    .delete_cache_cluster()
                    .cache_cluster_id(id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        (
                            error_code(&e).map(str::to_string),
                            aws_error(resource, call, &e),
                        )
                    }),
                Kind::Group => ec
                    .delete_replication_group()
                    .replication_group_id(id)
                    .retain_primary_cluster(false)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        (
                            error_code(&e).map(str::to_string),
                            aws_error(resource, call, &e),
                        )
                    }),
            };
            match r {
                Ok(()) => Ok(Poll::Ready(())),
                Err((Some(c), _)) if c == gone => Ok(Poll::Ready(())),
                Err((Some(c), err)) if c == busy => {
                    match describe(ctx, kind, id, resource).await? {
                        None => Ok(Poll::Ready(())),
                        Some(s) if s.status() == "deleting" => Ok(Poll::Ready(())),
                        Some(s) if failed(s.status()) => Err(err),
                        Some(s) => Ok(Poll::Pending(s.status().to_string())),
                    }
                }
                Err((_, err)) => Err(err),
            }
        },
    )
    .await?;
    wait_gone(ctx, key, kind, id, resource).await
}

/// Deletes a cache subnet group; one still in use by a cache that is going away is retried.
async fn delete_subnet_group(ctx: &Ctx, name: &str, resource: &str) -> Result<(), DeployError> {
    let key = format!("destroy:{name}:{CREATE_SUBNET_GROUP}");
    let key = key.as_str();
    wait::until(
        ctx,
        key,
        resource,
        SUBNET_GROUP_RELEASE,
        move || async move {
            match ctx
                .clients
                .elasticache
                .delete_cache_subnet_group()
                .cache_subnet_group_name(name)
                .send()
                .await
            {
                Ok(_) => Ok(Poll::Ready(())),
                Err(e) if error_code(&e) == Some("CacheSubnetGroupNotFoundFault") => {
                    Ok(Poll::Ready(()))
                }
                Err(e) if error_code(&e) == Some("CacheSubnetGroupInUse") => {
                    Ok(Poll::Pending("in use".into()))
                }
                Err(e) => Err(aws_error(resource, "DeleteCacheSubnetGroup", &e)),
            }
        },
    )
    .await
}

pub async fn delete(ctx: &Ctx, action: &str, id: &str, resource: &str) -> Result<(), DeployError> {
    match (action, Kind::of(action)) {
        (_, Some(kind)) => {
            delete_store(ctx, &format!("destroy:{id}:{action}"), kind, id, resource).await
        }
        (CREATE_SUBNET_GROUP, None) => delete_subnet_group(ctx, id, resource).await,
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticache::types::{
        CacheNode, NodeGroup, PendingModifiedValues, SecurityGroupMembership, Subnet,
    };

    use super::*;

    fn endpoint(host: &str) -> Endpoint {
        Endpoint::builder().address(host).port(6379).build()
    }

    fn cluster(status: &str, with_node: bool) -> CacheCluster {
        let mut b = CacheCluster::builder()
            .cache_cluster_id("shop-cache")
            .engine("redis")
            .engine_version("7.1.0")
            .cache_node_type("cache.t3.micro")
            .num_cache_nodes(1)
            .cache_subnet_group_name("shop-cache")
            .security_groups(
                SecurityGroupMembership::builder()
                    .security_group_id("sg-b")
                    .build(),
            )
            .security_groups(
                SecurityGroupMembership::builder()
                    .security_group_id("sg-a")
                    .build(),
            )
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

    fn group(status: &str, members: usize) -> ReplicationGroup {
        let mut b = ReplicationGroup::builder()
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
        let c = cluster("available", true);
        let cur = cluster_current(&c);
        assert_eq!(cur["CacheNodeType"], "cache.t3.micro");
        assert_eq!(cur["SecurityGroupIds"], json!(["sg-a", "sg-b"]));
        assert_eq!(cur["EngineVersion"], "7.1.0");
        let out = Store::Cluster(c).outputs();
        assert_eq!(out["host"], "shop-cache.x.0001.use1.cache.amazonaws.com");
        assert_eq!(out["port"], "6379");
        assert_eq!(out["id"], "shop-cache");
    }

    #[test]
    fn group_state_comes_partly_from_a_member() {
        let g = group("available", 2);
        let member = CacheCluster::builder()
            .cache_cluster_id("shop-cache-001")
            .replication_group_id("shop-cache")
            .engine("redis")
            .engine_version("7.1.0")
            .security_groups(
                SecurityGroupMembership::builder()
                    .security_group_id("sg-a")
                    .build(),
            )
            .build();
        let cur = group_current(&g, Some(&member));
        assert_eq!(cur["NumCacheClusters"], 2);
        assert_eq!(cur["AutomaticFailoverEnabled"], true);
        assert_eq!(cur["Engine"], "redis");
        assert_eq!(cur["EngineVersion"], "7.1.0");
        assert_eq!(cur["SecurityGroupIds"], json!(["sg-a"]));
        let bare = group_current(&g, None);
        assert!(bare.get("EngineVersion").is_none());
        assert_eq!(
            Store::Group(g).outputs()["host"],
            "master.shop-cache.x.use1.cache.amazonaws.com"
        );
        // Found for a cluster of the other shape keeps the cluster's data for the replacement.
        let f = found_of(&Store::Cluster(cluster("available", true)), &[]);
        assert_eq!(f.status.as_deref(), Some("available"));
        assert_eq!(f.outputs["id"], "shop-cache");
    }

    #[test]
    fn waits_until_usable_with_an_endpoint_and_no_pending_change() {
        let e = Expect::default();
        assert!(
            matches!(poll_ready(Some(Store::Cluster(cluster("creating", false))), e), Ok(Poll::Pending(s)) if s == "creating")
        );
        assert!(matches!(
            poll_ready(Some(Store::Cluster(cluster("available", false))), e),
            Ok(Poll::Pending(_))
        ));
        assert!(matches!(
            poll_ready(Some(Store::Cluster(cluster("available", true))), e),
            Ok(Poll::Ready(_))
        ));
        assert!(matches!(
            poll_ready(Some(Store::Cluster(cluster("create-failed", false))), e),
            Ok(Poll::Failed(_))
        ));
        assert!(matches!(
            poll_ready(Some(Store::Cluster(cluster("deleting", true))), e),
            Ok(Poll::Failed(_))
        ));
        assert!(poll_ready(None, e).is_err());
        let mut c = cluster("available", true);
        c = CacheCluster::builder()
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
            poll_ready(
                Some(Store::Cluster(c.clone())),
                Expect {
                    fields: &fields,
                    members: None
                }
            ),
            Ok(Poll::Pending(_))
        ));
        assert!(matches!(
            poll_ready(Some(Store::Cluster(c)), e),
            Ok(Poll::Ready(_))
        ));
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

    #[test]
    fn modifications_are_only_the_changed_fields() {
        let cur = match cluster_current(&cluster("available", true)) {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let mut want = json!({ "CacheNodeType": "cache.t3.micro", "EngineVersion": "7.1", "SecurityGroupIds": ["sg-b", "sg-a"] });
        assert!(modifications(&want, &cur).is_empty());
        want["CacheNodeType"] = json!("cache.t3.small");
        want["EngineVersion"] = json!("7.2");
        assert_eq!(
            modifications(&want, &cur),
            vec!["CacheNodeType", "EngineVersion"]
        );
        want["EngineVersion"] = json!("6.2");
        want["SecurityGroupIds"] = json!(["sg-c"]);
        assert_eq!(
            modifications(&want, &cur),
            vec!["CacheNodeType", "SecurityGroupIds"]
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(Kind::of(CREATE_CLUSTER), Some(Kind::Cluster));
        assert_eq!(Kind::of(CREATE_GROUP).map(Kind::action), Some(CREATE_GROUP));
        assert_eq!(Kind::of(CREATE_SUBNET_GROUP), None);
        let g = CacheSubnetGroup::builder()
            .cache_subnet_group_name("shop-cache")
            .subnets(Subnet::builder().subnet_identifier("subnet-2").build())
            .subnets(Subnet::builder().subnet_identifier("subnet-1").build())
            .build();
        assert_eq!(
            subnet_group_current(&g)["SubnetIds"],
            json!(["subnet-1", "subnet-2"])
        );
    }
}
