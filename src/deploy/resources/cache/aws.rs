use aws_sdk_elasticache::types::Tag;

use super::store::*;
use super::*;
use crate::deploy::aws::reads::Reads;
use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error};
use crate::deploy::diff::FieldChange;
use crate::deploy::resource::{Live, Outputs};
use crate::deploy::state::{Found, Snapshot};
use crate::lower::{Plan, Step};

fn tags(t: &Tags) -> Vec<Tag> {
    t.pairs()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn changed(changes: &[FieldChange]) -> Vec<&str> {
    changes.iter().map(|c| c.field.as_str()).collect()
}

impl Apply for CacheCluster {
    const UPDATES: &'static [&'static str] =
        &["EngineVersion", "CacheNodeType", "SecurityGroupIds"];

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
            .set_security_group_ids(has("SecurityGroupIds").then(|| want.security_groups.clone()))
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
        .set_automatic_failover_enabled(has("AutomaticFailoverEnabled").then_some(want.failover))
        .send()
        .await
        .map_err(|e| aws_error(resource, "ModifyReplicationGroup", &e))?;
    Ok(())
}

impl Apply for ReplicationGroup {
    const UPDATES: &'static [&'static str] = &[
        "EngineVersion",
        "CacheNodeType",
        "NumCacheClusters",
        "AutomaticFailoverEnabled",
        "SecurityGroupIds",
    ];

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
