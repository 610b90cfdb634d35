//! An AWS managed policy attached to a role stackc makes (WebTier, MulticontainerDocker,
//! EnhancedHealth, ...). Read with one ListAttachedRolePolicies per role, shared by all of the
//! role's attachments.

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource};

crate::desired! {
    /// The parameters of AttachRolePolicy.
    pub struct RolePolicyAttachment<S> {
        #[field("RoleName", Identity)]
        pub role: S::Of<String>,
        #[field("PolicyArn", Identity)]
        pub policy: String,
    }
}

pub const ID: Output<RolePolicyAttachment, String> = Output::new("id");

impl Resource for RolePolicyAttachment {
    const ACTIONS: &'static [&'static str] = &[
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:ListAttachedRolePolicies",
    ];

    /// Only the AWS managed policies the plan attaches, only to the stack's roles.
    fn grants(scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        let roles = vec![scope.iam(&format!("role/{}-*", scope.stack))];
        let mut policies: Vec<&str> = steps.iter().map(|a| a.policy.as_str()).collect();
        policies.sort_unstable();
        policies.dedup();
        let mut grants = vec![Grant::new(
            &["iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"],
            roles.clone(),
        )];
        if !policies.is_empty() {
            grants.push(
                Grant::new(&["iam:AttachRolePolicy"], roles)
                    .when(serde_json::json!({ "ArnEquals": { "iam:PolicyARN": policies } })),
            );
        }
        grants
    }
    const ACTION: &'static str = "iam:AttachRolePolicy";
    const USES: &'static [Kind] = &[Kind::Role];
}

/// The identifier of one attachment: role names cannot contain `/`, so the first `/`
/// separates the role from the policy ARN.
pub fn attachment_id(role: &str, policy: &str) -> String {
    format!("{role}/{policy}")
}

#[cfg(feature = "aws")]
pub(crate) use aws::{attached, detach};

#[cfg(feature = "aws")]
mod aws {
    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error};
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::role::{not_found, role_of};
    use crate::deploy::state::{Found, Snapshot};
    use crate::lower::{Plan, Step};

    /// The managed policies attached to a role; None if the role is gone.
    pub(crate) async fn attached(
        ctx: &Ctx,
        role: &str,
        resource: &str,
    ) -> Result<Option<Vec<String>>, DeployError> {
        match ctx
            .clients
            .iam
            .list_attached_role_policies()
            .role_name(role)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
        {
            Ok(list) => Ok(Some(
                list.iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string))
                    .collect(),
            )),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(aws_error(resource, "ListAttachedRolePolicies", &e)),
        }
    }

    pub(crate) async fn detach(
        ctx: &Ctx,
        role: &str,
        policy: &str,
        resource: &str,
    ) -> Result<(), DeployError> {
        match ctx
            .clients
            .iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(policy)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(aws_error(resource, "DetachRolePolicy", &e)),
        }
    }

    fn outputs(role: &str, policy: &str) -> Outputs {
        let mut out = Outputs::new();
        ID.set(&mut out, attachment_id(role, policy));
        out
    }

    impl Apply for RolePolicyAttachment {
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            for (step, want) in steps {
                let Some(role) = role_of(ctx, reads, plan, &want.role).await? else {
                    continue;
                };
                let list = reads
                    .once(
                        format!("iam:ListAttachedRolePolicies {role}"),
                        attached(ctx, &role, &step.resource),
                    )
                    .await?;
                if list
                    .as_ref()
                    .as_ref()
                    .is_some_and(|l| l.contains(&want.policy))
                {
                    let current = RolePolicyAttachment::<Live> {
                        role: role.clone(),
                        policy: want.policy.clone(),
                    };
                    snap.found.insert(
                        step.id.clone(),
                        Found::new(
                            Kind::RolePolicyAttachment,
                            &current,
                            outputs(&role, &want.policy),
                        ),
                    );
                }
            }
            Ok(snap)
        }

        /// Attaching an attached policy is a no-op for IAM, so a resumed apply is safe.
        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &RolePolicyAttachment<Live>,
        ) -> Result<Outputs, DeployError> {
            ctx.clients
                .iam
                .attach_role_policy()
                .role_name(&want.role)
                .policy_arn(&want.policy)
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "AttachRolePolicy", &e))?;
            Ok(outputs(&want.role, &want.policy))
        }

        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            let current: Option<RolePolicyAttachment<Live>> =
                gone.found.and_then(Found::current_as);
            let (role, policy) = match &current {
                Some(c) => (c.role.as_str(), c.policy.as_str()),
                None => match gone.id.split_once('/') {
                    Some(parts) => parts,
                    None => return Ok(()),
                },
            };
            detach(ctx, role, policy, gone.resource).await
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn attachment_ids_split_at_the_first_slash() {
        let policy = "arn:aws:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth";
        assert_eq!(
            super::attachment_id("app-eb-ec2", policy).split_once('/'),
            Some(("app-eb-ec2", policy))
        );
    }
}
