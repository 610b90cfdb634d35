//! The subnet group of a data store, for RDS (`DBSubnetGroup`) and for ElastiCache
//! (`CacheSubnetGroup`): the default VPC's default subnets, named `<stack>-<store>`. One
//! implementation for both services; each service is a small adapter of five calls.
//!
//! Neither describe call returns tags: refresh lists every group once, then the tags only of
//! the groups this stack may own (the plan's names, and names starting with `<stack>-`).

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource, Stage, Tags};

crate::desired! {
    /// The parameters of CreateDBSubnetGroup.
    pub struct DbSubnetGroup<S> {
        #[field("DBSubnetGroupName", Identity)]
        pub name: String,
        #[field("DBSubnetGroupDescription", Ignore("ours only says what the group is for"))]
        pub description: String,
        #[field("SubnetIds", Set)]
        pub subnets: S::Of<Vec<String>>,
        #[field("Tags", Ignore("tags are set at creation; the stack tag is how refresh finds the group"))]
        pub tags: Tags,
    }
}

crate::desired! {
    /// The parameters of CreateCacheSubnetGroup.
    pub struct CacheSubnetGroup<S> {
        #[field("CacheSubnetGroupName", Identity)]
        pub name: String,
        #[field("CacheSubnetGroupDescription", Ignore("ours only says what the group is for"))]
        pub description: String,
        #[field("SubnetIds", Set)]
        pub subnets: S::Of<Vec<String>>,
        #[field("Tags", Ignore("tags are set at creation; the stack tag is how refresh finds the group"))]
        pub tags: Tags,
    }
}

pub const DB_NAME: Output<DbSubnetGroup, String> = Output::new("name");
pub const CACHE_NAME: Output<CacheSubnetGroup, String> = Output::new("name");

impl Resource for DbSubnetGroup {
    const ACTIONS: &'static [&'static str] = &[
        "rds:DescribeDBSubnetGroups",
        "rds:ListTagsForResource",
        "rds:CreateDBSubnetGroup",
        "rds:AddTagsToResource",
        "rds:ModifyDBSubnetGroup",
        "rds:DeleteDBSubnetGroup",
    ];

    /// Refresh reads every group's name and the tags of those the stack may own; it changes
    /// only the groups named after it.
    fn grants(scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        let mut own = vec![scope.arn("rds", &format!("subgrp:{}-*", scope.stack))];
        own.extend(
            steps
                .iter()
                .map(|g| scope.arn("rds", &format!("subgrp:{}", g.name))),
        );
        vec![
            Grant::new(
                &["rds:DescribeDBSubnetGroups", "rds:ListTagsForResource"],
                vec![scope.arn("rds", "subgrp:*")],
            ),
            Grant::new(
                &[
                    "rds:CreateDBSubnetGroup",
                    "rds:AddTagsToResource",
                    "rds:ModifyDBSubnetGroup",
                    "rds:DeleteDBSubnetGroup",
                ],
                own,
            ),
        ]
    }
    const ACTION: &'static str = "rds:CreateDBSubnetGroup";
    const USES: &'static [Kind] = &[Kind::DefaultSubnets];
}

impl Resource for CacheSubnetGroup {
    const ACTIONS: &'static [&'static str] = &[
        "elasticache:DescribeCacheSubnetGroups",
        "elasticache:ListTagsForResource",
        "elasticache:CreateCacheSubnetGroup",
        "elasticache:AddTagsToResource",
        "elasticache:ModifyCacheSubnetGroup",
        "elasticache:DeleteCacheSubnetGroup",
    ];

    fn grants(scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        let mut own = vec![scope.arn("elasticache", &format!("subnetgroup:{}-*", scope.stack))];
        own.extend(
            steps
                .iter()
                .map(|g| scope.arn("elasticache", &format!("subnetgroup:{}", g.name))),
        );
        vec![
            Grant::new(
                &[
                    "elasticache:DescribeCacheSubnetGroups",
                    "elasticache:ListTagsForResource",
                ],
                vec![scope.arn("elasticache", "subnetgroup:*")],
            ),
            Grant::new(
                &[
                    "elasticache:CreateCacheSubnetGroup",
                    "elasticache:AddTagsToResource",
                    "elasticache:ModifyCacheSubnetGroup",
                    "elasticache:DeleteCacheSubnetGroup",
                ],
                own,
            ),
        ]
    }
    const ACTION: &'static str = "elasticache:CreateCacheSubnetGroup";
    const USES: &'static [Kind] = &[Kind::DefaultSubnets];
}

/// What the two desired structs share.
pub trait Spec<S: Stage> {
    fn name(&self) -> &str;
    fn description(&self) -> &str;
    fn subnets(&self) -> &S::Of<Vec<String>>;
    fn tags(&self) -> &Tags;
}

macro_rules! spec {
    ($t:ident) => {
        impl<S: Stage> Spec<S> for $t<S> {
            fn name(&self) -> &str {
                &self.name
            }
            fn description(&self) -> &str {
                &self.description
            }
            fn subnets(&self) -> &S::Of<Vec<String>> {
                &self.subnets
            }
            fn tags(&self) -> &Tags {
                &self.tags
            }
        }
    };
}
spec!(DbSubnetGroup);
spec!(CacheSubnetGroup);

#[cfg(feature = "aws")]
pub(crate) use aws::elasticache_owned;

#[cfg(feature = "aws")]
mod aws {
    use std::collections::{BTreeMap, BTreeSet};
    use std::future::Future;
    use std::time::Duration;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::wait::{self, Poll};
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code};
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::Member;
    use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
    use crate::lower::{Plan, Step};

    /// How long a subnet group may stay "in use" while a deleted store lets go of it.
    const RELEASE: Duration = Duration::from_secs(10 * 60);

    /// A subnet group as either service describes it.
    struct Group {
        name: String,
        arn: Option<String>,
        description: String,
        subnets: Vec<String>,
    }

    /// What deleting answered.
    enum Deleted {
        Gone,
        InUse,
    }

    /// The calls of one service.
    trait Api: Member + Spec<crate::deploy::resource::Planned> {
        const NOUN: &'static str;
        fn list(ctx: &Ctx) -> impl Future<Output = Result<Vec<Group>, DeployError>> + Send;
        /// Whether each group (name, ARN) carries the stack's tag.
        fn owned(
            ctx: &Ctx,
            arns: Vec<(String, String)>,
        ) -> impl Future<Output = Result<BTreeMap<String, bool>, DeployError>> + Send;
        fn create(
            ctx: &Ctx,
            resource: &str,
            want: &Self::Live,
        ) -> impl Future<Output = Result<(), DeployError>> + Send;
        fn modify(
            ctx: &Ctx,
            resource: &str,
            want: &Self::Live,
        ) -> impl Future<Output = Result<(), DeployError>> + Send;
        fn delete(
            ctx: &Ctx,
            resource: &str,
            name: &str,
        ) -> impl Future<Output = Result<Deleted, DeployError>> + Send;
        fn live_name(want: &Self::Live) -> &str;
        fn current(g: &Group, want: &Self) -> Self::Live;
    }

    fn outputs(name: &str) -> Outputs {
        let mut out = Outputs::new();
        out.insert("name".into(), name.into());
        out.insert("id".into(), name.into());
        out
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v.dedup();
        v
    }

    async fn refresh<A: Api>(ctx: &Ctx, steps: &[(&Step, &A)]) -> Result<Snapshot, DeployError> {
        let mut snap = Snapshot::default();
        let groups = A::list(ctx).await?;
        let wanted: BTreeSet<String> = steps
            .iter()
            .map(|(_, g)| g.name().to_ascii_lowercase())
            .collect();
        let prefix = format!("{}-", ctx.stack.to_ascii_lowercase());
        let candidates: Vec<(String, String)> = groups
            .iter()
            .filter(|g| {
                let lower = g.name.to_ascii_lowercase();
                wanted.contains(&lower) || lower.starts_with(&prefix)
            })
            .filter_map(|g| g.arn.clone().map(|a| (g.name.clone(), a)))
            .collect();
        let owners = A::owned(ctx, candidates).await?;
        let ours = |name: &str| owners.get(name) == Some(&true);
        let mut matched = BTreeSet::new();
        for (step, want) in steps {
            let Some(g) = groups
                .iter()
                .find(|g| g.name.eq_ignore_ascii_case(want.name()))
            else {
                continue;
            };
            if ours(&g.name) {
                matched.insert(g.name.clone());
                snap.found.insert(
                    step.id.clone(),
                    Found::new(A::KIND, &A::current(g, want), outputs(&g.name)),
                );
            } else {
                snap.conflicts.push(Conflict::taken(
                    step,
                    format!("a {} named {}", A::NOUN, g.name),
                    &ctx.owner,
                ));
            }
        }
        for (name, is_ours) in &owners {
            if *is_ours && !matched.contains(name) {
                snap.orphans.push(Orphan {
                    kind: A::KIND,
                    id: name.clone(),
                    resource: format!("{} {name}", A::NOUN),
                });
            }
        }
        Ok(snap)
    }

    /// Deletes a group; one still in use by a store that is going away is waited for.
    async fn delete<A: Api>(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
        wait::until(ctx, gone.key, gone.resource, RELEASE, || async {
            Ok(match A::delete(ctx, gone.resource, gone.id).await? {
                Deleted::Gone => Poll::Ready(()),
                Deleted::InUse => Poll::Pending("in use".into()),
            })
        })
        .await
    }

    macro_rules! apply {
        ($t:ident) => {
            impl Apply for $t {
                const UPDATES: &'static [&'static str] = &["SubnetIds"];

                async fn refresh(
                    _ctx_: &Ctx,
                    _reads: &Reads,
                    _plan: &Plan,
                    steps: &[(&Step, &Self)],
                ) -> Result<Snapshot, DeployError> {
                    refresh::<$t>(_ctx_, steps).await
                }

                async fn create(
                    ctx: &Ctx,
                    step: &StepRef<'_>,
                    want: &$t<Live>,
                ) -> Result<Outputs, DeployError> {
                    <$t as Api>::create(ctx, step.resource, want).await?;
                    Ok(outputs(<$t as Api>::live_name(want)))
                }

                async fn update(
                    ctx: &Ctx,
                    step: &StepRef<'_>,
                    want: &$t<Live>,
                    _found: &Found,
                    _changes: &[FieldChange],
                ) -> Result<Outputs, DeployError> {
                    // The subnets are the only field that changes in place.
                    <$t as Api>::modify(ctx, step.resource, want).await?;
                    Ok(outputs(<$t as Api>::live_name(want)))
                }

                async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
                    delete::<$t>(ctx, gone).await
                }
            }
        };
    }
    apply!(DbSubnetGroup);
    apply!(CacheSubnetGroup);

    impl Api for DbSubnetGroup {
        const NOUN: &'static str = "DB subnet group";

        async fn list(ctx: &Ctx) -> Result<Vec<Group>, DeployError> {
            let groups = ctx
                .clients
                .rds
                .describe_db_subnet_groups()
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| aws_error("DB subnet groups", "DescribeDBSubnetGroups", &e))?;
            Ok(groups
                .iter()
                .map(|g| Group {
                    name: g.db_subnet_group_name().unwrap_or_default().to_string(),
                    arn: g.db_subnet_group_arn().map(str::to_string),
                    description: g
                        .db_subnet_group_description()
                        .unwrap_or_default()
                        .to_string(),
                    subnets: sorted(
                        g.subnets()
                            .iter()
                            .filter_map(|s| s.subnet_identifier().map(str::to_string))
                            .collect(),
                    ),
                })
                .collect())
        }

        async fn owned(
            ctx: &Ctx,
            arns: Vec<(String, String)>,
        ) -> Result<BTreeMap<String, bool>, DeployError> {
            let reads = arns.into_iter().map(|(name, arn)| async move {
                let tags = ctx
                    .clients
                    .rds
                    .list_tags_for_resource()
                    .resource_name(&arn)
                    .send()
                    .await
                    .map_err(|e| {
                        aws_error(
                            &format!("DB subnet group {name}"),
                            "ListTagsForResource",
                            &e,
                        )
                    })?;
                let ours = ctx.owner.owns(
                    tags.tag_list()
                        .iter()
                        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
                );
                Ok::<_, DeployError>((name, ours))
            });
            Ok(futures_util::future::try_join_all(reads)
                .await?
                .into_iter()
                .collect())
        }

        async fn create(
            ctx: &Ctx,
            resource: &str,
            want: &DbSubnetGroup<Live>,
        ) -> Result<(), DeployError> {
            let tags = want
                .tags
                .pairs()
                .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
                .collect();
            ctx.clients
                .rds
                .create_db_subnet_group()
                .db_subnet_group_name(&want.name)
                .db_subnet_group_description(&want.description)
                .set_subnet_ids(Some(want.subnets.clone()))
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| aws_error(resource, "CreateDBSubnetGroup", &e))?;
            Ok(())
        }

        async fn modify(
            ctx: &Ctx,
            resource: &str,
            want: &DbSubnetGroup<Live>,
        ) -> Result<(), DeployError> {
            ctx.clients
                .rds
                .modify_db_subnet_group()
                .db_subnet_group_name(&want.name)
                .set_subnet_ids(Some(want.subnets.clone()))
                .send()
                .await
                .map_err(|e| aws_error(resource, "ModifyDBSubnetGroup", &e))?;
            Ok(())
        }

        async fn delete(ctx: &Ctx, resource: &str, name: &str) -> Result<Deleted, DeployError> {
            match ctx
                .clients
                .rds
                .delete_db_subnet_group()
                .db_subnet_group_name(name)
                .send()
                .await
            {
                Ok(_) => Ok(Deleted::Gone),
                Err(e) if error_code(&e) == Some("DBSubnetGroupNotFoundFault") => Ok(Deleted::Gone),
                Err(e) if error_code(&e) == Some("InvalidDBSubnetGroupStateFault") => {
                    Ok(Deleted::InUse)
                }
                Err(e) => Err(aws_error(resource, "DeleteDBSubnetGroup", &e)),
            }
        }

        fn live_name(want: &DbSubnetGroup<Live>) -> &str {
            &want.name
        }

        fn current(g: &Group, want: &Self) -> DbSubnetGroup<Live> {
            DbSubnetGroup {
                name: g.name.clone(),
                description: g.description.clone(),
                subnets: g.subnets.clone(),
                tags: want.tags.clone(),
            }
        }
    }

    impl Api for CacheSubnetGroup {
        const NOUN: &'static str = "cache subnet group";

        async fn list(ctx: &Ctx) -> Result<Vec<Group>, DeployError> {
            let groups = ctx
                .clients
                .elasticache
                .describe_cache_subnet_groups()
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| aws_error("cache subnet groups", "DescribeCacheSubnetGroups", &e))?;
            Ok(groups
                .iter()
                .map(|g| Group {
                    name: g.cache_subnet_group_name().unwrap_or_default().to_string(),
                    arn: g.arn().map(str::to_string),
                    description: g
                        .cache_subnet_group_description()
                        .unwrap_or_default()
                        .to_string(),
                    subnets: sorted(
                        g.subnets()
                            .iter()
                            .filter_map(|s| s.subnet_identifier().map(str::to_string))
                            .collect(),
                    ),
                })
                .collect())
        }

        async fn owned(
            ctx: &Ctx,
            arns: Vec<(String, String)>,
        ) -> Result<BTreeMap<String, bool>, DeployError> {
            elasticache_owned(ctx, arns).await
        }

        async fn create(
            ctx: &Ctx,
            resource: &str,
            want: &CacheSubnetGroup<Live>,
        ) -> Result<(), DeployError> {
            let tags = want
                .tags
                .pairs()
                .map(|(k, v)| {
                    aws_sdk_elasticache::types::Tag::builder()
                        .key(k)
                        .value(v)
                        .build()
                })
                .collect();
            ctx.clients
                .elasticache
                .create_cache_subnet_group()
                .cache_subnet_group_name(&want.name)
                .cache_subnet_group_description(&want.description)
                .set_subnet_ids(Some(want.subnets.clone()))
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| aws_error(resource, "CreateCacheSubnetGroup", &e))?;
            Ok(())
        }

        async fn modify(
            ctx: &Ctx,
            resource: &str,
            want: &CacheSubnetGroup<Live>,
        ) -> Result<(), DeployError> {
            ctx.clients
                .elasticache
                .modify_cache_subnet_group()
                .cache_subnet_group_name(&want.name)
                .set_subnet_ids(Some(want.subnets.clone()))
                .send()
                .await
                .map_err(|e| aws_error(resource, "ModifyCacheSubnetGroup", &e))?;
            Ok(())
        }

        async fn delete(ctx: &Ctx, resource: &str, name: &str) -> Result<Deleted, DeployError> {
            match ctx
                .clients
                .elasticache
                .delete_cache_subnet_group()
                .cache_subnet_group_name(name)
                .send()
                .await
            {
                Ok(_) => Ok(Deleted::Gone),
                Err(e) if error_code(&e) == Some("CacheSubnetGroupNotFoundFault") => {
                    Ok(Deleted::Gone)
                }
                Err(e) if error_code(&e) == Some("CacheSubnetGroupInUse") => Ok(Deleted::InUse),
                Err(e) => Err(aws_error(resource, "DeleteCacheSubnetGroup", &e)),
            }
        }

        fn live_name(want: &CacheSubnetGroup<Live>) -> &str {
            &want.name
        }

        fn current(g: &Group, want: &Self) -> CacheSubnetGroup<Live> {
            CacheSubnetGroup {
                name: g.name.clone(),
                description: g.description.clone(),
                subnets: g.subnets.clone(),
                tags: want.tags.clone(),
            }
        }
    }

    /// Whether each ElastiCache resource (key, ARN) carries the stack's tag: ElastiCache's
    /// describe calls carry no tags. A resource that vanished meanwhile is not ours.
    pub(crate) async fn elasticache_owned(
        ctx: &Ctx,
        arns: Vec<(String, String)>,
    ) -> Result<BTreeMap<String, bool>, DeployError> {
        let reads = arns.into_iter().map(|(key, arn)| async move {
            let ours = match ctx
                .clients
                .elasticache
                .list_tags_for_resource()
                .resource_name(&arn)
                .send()
                .await
            {
                Ok(o) => ctx.owner.owns(
                    o.tag_list()
                        .iter()
                        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
                ),
                Err(e)
                    if error_code(&e).is_some_and(|c| {
                        c.ends_with("NotFound") || c.ends_with("NotFoundFault")
                    }) =>
                {
                    false
                }
                Err(e) => return Err(aws_error(&arn, "ListTagsForResource", &e)),
            };
            Ok((key, ours))
        });
        Ok(futures_util::future::try_join_all(reads)
            .await?
            .into_iter()
            .collect())
    }
}
