//! EC2 security groups: one for the environment's instances, one for its load balancer, one
//! per data store. Found by name and `stackc:name` tag among the groups tagged with the stack.

use serde::{Deserialize, Serialize};

use serde_json::json;

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource, Stage, Tags, Val};

crate::desired! {
    /// The parameters of CreateSecurityGroup.
    pub struct SecurityGroup<S> {
        #[field("GroupName", Identity)]
        pub name: String,
        #[field("Description", Ignore("EC2 cannot change a group's description; ours only says what the group is for"))]
        pub description: String,
        #[field("VpcId", Replace)]
        pub vpc_id: S::Of<String>,
        #[field("TagSpecifications", Ignore("tags are set at creation; the stack tag is how refresh finds the group"))]
        pub tag_specifications: Vec<TagSpecification>,
    }
}

/// `{"ResourceType": "security-group", "Tags": [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagSpecification {
    #[serde(rename = "ResourceType")]
    pub resource_type: String,
    #[serde(rename = "Tags")]
    pub tags: Tags,
}

pub const GROUP_ID: Output<SecurityGroup, String> = Output::new("group_id");
pub const ID: Output<SecurityGroup, String> = Output::new("id");

impl SecurityGroup {
    pub fn new(
        name: String,
        description: String,
        vpc_id: Val<String>,
        tags: Tags,
    ) -> SecurityGroup {
        SecurityGroup {
            name,
            description,
            vpc_id,
            tag_specifications: vec![TagSpecification {
                resource_type: "security-group".into(),
                tags,
            }],
        }
    }
}

impl<S: Stage> SecurityGroup<S> {
    /// The `stackc:name` the group is tagged with.
    pub fn tag_name(&self) -> Option<&str> {
        self.tag_specifications
            .iter()
            .find_map(|t| crate::deploy::resource::tag_name(t.tags.pairs()))
    }
}

impl Resource for SecurityGroup {
    const ACTIONS: &'static [&'static str] = &[
        "ec2:DescribeSecurityGroups",
        "ec2:CreateSecurityGroup",
        "ec2:CreateTags",
        "ec2:DeleteSecurityGroup",
    ];

    /// A group's id is AWS's: it is created with the stack's tag and deleted only with it.
    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        let groups = scope.arn("ec2", "security-group/*");
        vec![
            Grant::anywhere(&["ec2:DescribeSecurityGroups"]),
            Grant::new(
                &["ec2:CreateSecurityGroup"],
                vec![scope.arn("ec2", "vpc/*")],
            ),
            Grant::new(&["ec2:CreateSecurityGroup"], vec![groups.clone()])
                .when(scope.tagged(&format!("aws:RequestTag/{}", crate::naming::TAG_STACK))),
            Grant::new(&["ec2:CreateTags"], vec![groups.clone()])
                .when(json!({ "StringEquals": { "ec2:CreateAction": "CreateSecurityGroup" } })),
            Grant::new(&["ec2:DeleteSecurityGroup"], vec![groups])
                .when(scope.tagged(&format!("ec2:ResourceTag/{}", crate::naming::TAG_STACK))),
        ]
    }
    const ACTION: &'static str = "ec2:CreateSecurityGroup";
    const USES: &'static [Kind] = &[Kind::DefaultVpc];
}

#[cfg(feature = "aws")]
pub(crate) use aws::{find, group, stack_groups};

#[cfg(feature = "aws")]
mod aws {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use aws_sdk_ec2::types::{Filter, ResourceType, SecurityGroup as Group, Tag, TagSpecification};

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::wait::{self, Poll};
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code};
    use crate::deploy::resource::{Live, Outputs, tag_name};
    use crate::deploy::resources::default_vpc::default_vpc;
    use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
    use crate::lower::{Plan, Step};

    fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
        let mut f = Filter::builder().name(name);
        for v in values {
            f = f.values(v);
        }
        f.build()
    }

    pub(crate) fn tags_of(g: &Group) -> Vec<(&str, &str)> {
        g.tags()
            .iter()
            .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
            .collect()
    }

    async fn groups(ctx: &Ctx, filters: Vec<Filter>) -> Result<Vec<Group>, DeployError> {
        ctx.clients
            .ec2
            .describe_security_groups()
            .set_filters(Some(filters))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| aws_error("security groups", "DescribeSecurityGroups", &e))
    }

    /// Every security group tagged with the stack, with its rules: read once per refresh (the
    /// groups' rules are the state of the ingress steps).
    pub(crate) async fn stack_groups(
        ctx: &Ctx,
        reads: &Reads,
    ) -> Result<Arc<Vec<Group>>, DeployError> {
        reads
            .once(
                "ec2:DescribeSecurityGroups tag:stackc:stack",
                groups(ctx, {
                    let owner = &ctx.owner;
                    let tag =
                        |key: &str, value: &str| filter(&format!("tag:{key}"), [value.to_string()]);
                    let mut filters = vec![tag(crate::naming::TAG_STACK, &owner.stack)];
                    filters.extend(owner.env.as_deref().map(|e| tag(crate::naming::TAG_ENV, e)));
                    filters
                }),
            )
            .await
    }

    /// One group by id, with its rules (None once it is gone).
    pub(crate) async fn group(
        ctx: &Ctx,
        id: &str,
        resource: &str,
    ) -> Result<Option<Group>, DeployError> {
        match groups(ctx, vec![filter("group-id", [id.to_string()])]).await {
            Ok(g) => Ok(g.into_iter().next()),
            Err(e) if e.code == "InvalidGroup.NotFound" => Ok(None),
            Err(e) => Err(DeployError {
                resource: resource.to_string(),
                ..e
            }),
        }
    }

    /// The group of the stack that a planned group is: same name, same `stackc:name` tag.
    pub(crate) fn find<'g, S: Stage>(
        groups: &'g [Group],
        want: &SecurityGroup<S>,
    ) -> Option<&'g Group> {
        groups.iter().find(|g| {
            g.group_name() == Some(want.name.as_str()) && tag_name(tags_of(g)) == want.tag_name()
        })
    }

    fn outputs(id: &str) -> Outputs {
        let mut out = Outputs::new();
        GROUP_ID.set(&mut out, id.to_string());
        ID.set(&mut out, id.to_string());
        out
    }

    /// Deletes a group. `DependencyViolation` is waited out: AWS still sees network interfaces
    /// of deleted databases or instances in the group until they detach.
    async fn delete_group(
        ctx: &Ctx,
        id: &str,
        key: &str,
        resource: &str,
    ) -> Result<(), DeployError> {
        wait::until(
            ctx,
            key,
            resource,
            std::time::Duration::from_secs(20 * 60),
            || async {
                match ctx
                    .clients
                    .ec2
                    .delete_security_group()
                    .group_id(id)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Poll::Ready(())),
                    Err(e) if error_code(&e) == Some("InvalidGroup.NotFound") => {
                        Ok(Poll::Ready(()))
                    }
                    Err(e) if error_code(&e) == Some("DependencyViolation") => Ok(Poll::Pending(
                        "waiting for network interfaces to detach".into(),
                    )),
                    Err(e) => Err(aws_error(resource, "DeleteSecurityGroup", &e)),
                }
            },
        )
        .await
    }

    impl Apply for SecurityGroup {
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            _plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            let names: Vec<String> = steps.iter().map(|(_, g)| g.name.clone()).collect();
            // One round trip: none of these reads needs another's answer.
            let by_name = async {
                if names.is_empty() {
                    Ok(Vec::new())
                } else {
                    groups(ctx, vec![filter("group-name", names.clone())]).await
                }
            };
            let vpc = async {
                if steps.is_empty() {
                    Ok(String::new())
                } else {
                    default_vpc(ctx, reads).await
                }
            };
            let (ours, by_name, vpc) = tokio::join!(stack_groups(ctx, reads), by_name, vpc);
            let (ours, by_name, vpc) = (ours?, by_name?, vpc?);
            let mut matched = BTreeSet::new();
            for (step, want) in steps {
                if let Some(g) = find(&ours, want) {
                    let id = g.group_id().unwrap_or_default();
                    matched.insert(id.to_string());
                    let current = SecurityGroup::<Live> {
                        name: want.name.clone(),
                        description: g.description().unwrap_or_default().to_string(),
                        vpc_id: g.vpc_id().unwrap_or_default().to_string(),
                        tag_specifications: want.tag_specifications.clone(),
                    };
                    snap.found.insert(
                        step.id.clone(),
                        Found::new(Kind::SecurityGroup, &current, outputs(id)),
                    );
                } else if let Some(g) = by_name.iter().find(|g| {
                    g.group_name() == Some(want.name.as_str())
                        && g.vpc_id() == Some(vpc.as_str())
                        && !ctx.owner.owns(tags_of(g))
                }) {
                    snap.conflicts.push(Conflict::taken(
                        step,
                        format!(
                            "security group {} ({})",
                            want.name,
                            g.group_id().unwrap_or_default()
                        ),
                        &ctx.owner,
                    ));
                }
            }
            for g in ours.iter() {
                let id = g.group_id().unwrap_or_default();
                if !matched.contains(id) {
                    snap.orphans.push(Orphan {
                        kind: Kind::SecurityGroup,
                        id: id.to_string(),
                        resource: format!("security group {}", g.group_name().unwrap_or(id)),
                    });
                }
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &SecurityGroup<Live>,
        ) -> Result<Outputs, DeployError> {
            let specs = want
                .tag_specifications
                .iter()
                .map(|s| {
                    TagSpecification::builder()
                        .resource_type(ResourceType::from(s.resource_type.as_str()))
                        .set_tags(Some(
                            s.tags
                                .pairs()
                                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                                .collect(),
                        ))
                        .build()
                })
                .collect();
            let r = ctx
                .clients
                .ec2
                .create_security_group()
                .group_name(&want.name)
                .description(&want.description)
                .vpc_id(&want.vpc_id)
                .set_tag_specifications(Some(specs))
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "CreateSecurityGroup", &e))?;
            Ok(outputs(r.group_id().unwrap_or_default()))
        }

        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            delete_group(ctx, gone.id, gone.key, gone.resource).await
        }
    }
}
