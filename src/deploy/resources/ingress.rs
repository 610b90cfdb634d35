//! The ingress rules of a security group: the firewall's port rules on the group where the
//! traffic first lands, and each store's port from the environment's instances. The rules of
//! a group are one resource: apply authorizes what is missing and revokes what is no longer
//! wanted. Their state is read with the groups (`security_group::stack_groups`).

use serde::{Deserialize, Serialize};

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource, Stage};

crate::desired! {
    /// The parameters of AuthorizeSecurityGroupIngress.
    pub struct Ingress<S> {
        #[field("GroupId", Identity)]
        pub group_id: S::Of<String>,
        #[field("IpPermissions", Rules)]
        pub permissions: Vec<IpPermission<S>>,
    }
}

/// One protocol and port range, from CIDR blocks or other groups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IpPermission<S: Stage> {
    #[serde(rename = "IpProtocol")]
    pub protocol: String,
    #[serde(rename = "FromPort")]
    pub from: i32,
    #[serde(rename = "ToPort")]
    pub to: i32,
    #[serde(rename = "IpRanges", default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<IpRange>,
    #[serde(
        rename = "UserIdGroupPairs",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub groups: Vec<GroupPair<S>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IpRange {
    #[serde(rename = "CidrIp")]
    pub cidr: String,
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupPair<S: Stage> {
    #[serde(rename = "GroupId")]
    pub group_id: S::Of<String>,
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
}

pub const ID: Output<Ingress, String> = Output::new("id");

impl Resource for Ingress {
    const ACTIONS: &'static [&'static str] = &[
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:DescribeSecurityGroups",
    ];

    /// Only on the stack's groups.
    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        vec![
            Grant::anywhere(&["ec2:DescribeSecurityGroups"]),
            Grant::new(
                &[
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:RevokeSecurityGroupIngress",
                ],
                vec![scope.arn("ec2", "security-group/*")],
            )
            .when(scope.tagged(&format!("ec2:ResourceTag/{}", crate::naming::TAG_STACK))),
        ]
    }
    const ACTION: &'static str = "ec2:AuthorizeSecurityGroupIngress";
    const USES: &'static [Kind] = &[Kind::SecurityGroup];
}

#[cfg(feature = "aws")]
mod aws {
    use aws_sdk_ec2::types::{
        IpPermission as Permission, IpRange as Range, SecurityGroup as Group, UserIdGroupPair,
    };

    use aws_sdk_ec2::operation::authorize_security_group_ingress::AuthorizeSecurityGroupIngressError;
    use aws_sdk_ec2::operation::revoke_security_group_ingress::RevokeSecurityGroupIngressError;

    use super::*;
    use crate::deploy::aws::consistency::{self, GROUP_NOT_YET_VISIBLE, NotYetVisible};
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error};
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::{Live, Outputs, Val};
    use crate::deploy::resources::security_group::{self, SecurityGroup};
    use crate::deploy::state::{Found, Snapshot};
    use crate::lower::{Plan, Step};

    /// A group's rules, one permission per AWS permission.
    fn current(g: &Group) -> Ingress<Live> {
        Ingress {
            group_id: g.group_id().unwrap_or_default().to_string(),
            permissions: g
                .ip_permissions()
                .iter()
                .map(|p| IpPermission {
                    protocol: p.ip_protocol().unwrap_or_default().to_string(),
                    from: p.from_port().unwrap_or(0),
                    to: p.to_port().unwrap_or(0),
                    ranges: p
                        .ip_ranges()
                        .iter()
                        .map(|r| IpRange {
                            cidr: r.cidr_ip().unwrap_or_default().to_string(),
                            description: None,
                        })
                        .collect(),
                    groups: p
                        .user_id_group_pairs()
                        .iter()
                        .map(|g| GroupPair {
                            group_id: g.group_id().unwrap_or_default().to_string(),
                            description: None,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// One rule per (protocol, ports, source): the unit AWS authorizes and revokes.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Rule {
        protocol: String,
        from: i32,
        to: i32,
        cidr: Option<String>,
        group: Option<String>,
        description: Option<String>,
    }

    impl Rule {
        /// Descriptions do not make a rule another rule.
        fn same(&self, other: &Rule) -> bool {
            (&self.protocol, self.from, self.to, &self.cidr, &self.group)
                == (
                    &other.protocol,
                    other.from,
                    other.to,
                    &other.cidr,
                    &other.group,
                )
        }

        fn permission(&self) -> Permission {
            let mut p = Permission::builder()
                .ip_protocol(&self.protocol)
                .from_port(self.from)
                .to_port(self.to);
            if let Some(c) = &self.cidr {
                p = p.ip_ranges(
                    Range::builder()
                        .cidr_ip(c)
                        .set_description(self.description.clone())
                        .build(),
                );
            }
            if let Some(g) = &self.group {
                p = p.user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .group_id(g)
                        .set_description(self.description.clone())
                        .build(),
                );
            }
            p.build()
        }
    }

    fn rules(ingress: &Ingress<Live>) -> Vec<Rule> {
        let mut out = Vec::new();
        for p in &ingress.permissions {
            let base = Rule {
                protocol: p.protocol.clone(),
                from: p.from,
                to: p.to,
                cidr: None,
                group: None,
                description: None,
            };
            for r in &p.ranges {
                out.push(Rule {
                    cidr: Some(r.cidr.clone()),
                    description: r.description.clone(),
                    ..base.clone()
                });
            }
            for g in &p.groups {
                out.push(Rule {
                    group: Some(g.group_id.clone()),
                    description: g.description.clone(),
                    ..base.clone()
                });
            }
        }
        out
    }

    fn outputs(group: &str) -> Outputs {
        let mut out = Outputs::new();
        ID.set(&mut out, group.to_string());
        out
    }

    /// The rules name groups that may have been created a moment ago (this apply): EC2 may
    /// not show them yet, which the SDK retries (`aws::consistency`).
    fn new_group<E>() -> aws_sdk_ec2::config::Builder
    where
        E: std::error::Error
            + aws_smithy_types::error::metadata::ProvideErrorMetadata
            + Send
            + Sync
            + 'static,
    {
        aws_sdk_ec2::config::Builder::default()
            .retry_config(consistency::retry())
            .retry_classifier(NotYetVisible::<E>::new(&GROUP_NOT_YET_VISIBLE))
    }

    /// Authorizes the wanted rules that are missing, revokes those no longer wanted.
    async fn converge(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &Ingress<Live>,
        have: &[Rule],
    ) -> Result<Outputs, DeployError> {
        let ec2 = &ctx.clients.ec2;
        let wanted = rules(want);
        let add: Vec<Permission> = wanted
            .iter()
            .filter(|w| !have.iter().any(|h| w.same(h)))
            .map(Rule::permission)
            .collect();
        let remove: Vec<Permission> = have
            .iter()
            .filter(|h| !wanted.iter().any(|w| w.same(h)))
            .map(Rule::permission)
            .collect();
        if !remove.is_empty() {
            ec2.revoke_security_group_ingress()
                .group_id(&want.group_id)
                .set_ip_permissions(Some(remove))
                .customize()
                .config_override(new_group::<RevokeSecurityGroupIngressError>())
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "RevokeSecurityGroupIngress", &e))?;
        }
        if !add.is_empty() {
            ec2.authorize_security_group_ingress()
                .group_id(&want.group_id)
                .set_ip_permissions(Some(add))
                .customize()
                .config_override(new_group::<AuthorizeSecurityGroupIngressError>())
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "AuthorizeSecurityGroupIngress", &e))?;
        }
        Ok(outputs(&want.group_id))
    }

    impl Apply for Ingress {
        const UPDATES: &'static [&'static str] = &["IpPermissions"];

        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            if steps.is_empty() {
                return Ok(snap);
            }
            let groups = security_group::stack_groups(ctx, reads).await?;
            for (step, want) in steps {
                let Val::Ref { target } = &want.group_id else {
                    continue;
                };
                let Some(sg) = plan
                    .step(target.parts().0)
                    .and_then(|s| s.desired_as::<SecurityGroup>())
                else {
                    continue;
                };
                if let Some(g) = security_group::find(&groups, sg) {
                    let id = g.group_id().unwrap_or_default();
                    snap.found.insert(
                        step.id.clone(),
                        Found::new(Kind::Ingress, &current(g), outputs(id)),
                    );
                }
            }
            // The rules of an orphan group go with the group.
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &Ingress<Live>,
        ) -> Result<Outputs, DeployError> {
            converge(ctx, step, want, &[]).await
        }

        async fn update(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &Ingress<Live>,
            found: &Found,
            _changes: &[FieldChange],
        ) -> Result<Outputs, DeployError> {
            let have: Ingress<Live> = found.current_as().unwrap_or_else(|| Ingress {
                group_id: want.group_id.clone(),
                permissions: Vec::new(),
            });
            converge(ctx, step, want, &rules(&have)).await
        }

        /// Revokes every rule of the group, so that the groups it names can be deleted.
        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            let Some(g) = security_group::group(ctx, gone.id, gone.resource).await? else {
                return Ok(());
            };
            let perms = g.ip_permissions().to_vec();
            if perms.is_empty() {
                return Ok(());
            }
            ctx.clients
                .ec2
                .revoke_security_group_ingress()
                .group_id(gone.id)
                .set_ip_permissions(Some(perms))
                .send()
                .await
                .map_err(|e| aws_error(gone.resource, "RevokeSecurityGroupIngress", &e))?;
            Ok(())
        }
    }
}
