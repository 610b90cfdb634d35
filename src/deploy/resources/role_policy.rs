//! An inline policy of a role stackc makes: the instance role's right to read exactly the
//! managed passwords the environment names (Elastic Beanstalk fetches `environmentsecrets`
//! with the instance profile's role).

use super::Kind;
use super::role::PolicyDocument;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource};

crate::desired! {
    /// The parameters of PutRolePolicy.
    pub struct RolePolicy<S> {
        #[field("RoleName", Identity)]
        pub role: S::Of<String>,
        #[field("PolicyName", Identity)]
        pub name: String,
        #[field("PolicyDocument", Document)]
        pub document: PolicyDocument<S>,
    }
}

pub const ID: Output<RolePolicy, String> = Output::new("id");

impl Resource for RolePolicy {
    const ACTIONS: &'static [&'static str] = &[
        "iam:PutRolePolicy",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:DeleteRolePolicy",
    ];

    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        vec![Grant::new(
            Self::ACTIONS,
            vec![scope.iam(&format!("role/{}-*", scope.stack))],
        )]
    }
    const ACTION: &'static str = "iam:PutRolePolicy";
    const USES: &'static [Kind] = &[Kind::Role, Kind::DbInstance];
}

#[cfg(feature = "aws")]
pub(crate) use aws::{delete_policy, inline_names};

#[cfg(feature = "aws")]
mod aws {
    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error};
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::role::{not_found, policy_document, role_of};
    use crate::deploy::resources::role_policy_attachment::attachment_id;
    use crate::deploy::state::{Found, Snapshot};
    use crate::lower::{Plan, Step};

    /// The names of a role's inline policies.
    pub(crate) async fn inline_names(
        ctx: &Ctx,
        role: &str,
        resource: &str,
    ) -> Result<Vec<String>, DeployError> {
        match ctx
            .clients
            .iam
            .list_role_policies()
            .role_name(role)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
        {
            Ok(list) => Ok(list),
            Err(e) if not_found(&e) => Ok(Vec::new()),
            Err(e) => Err(aws_error(resource, "ListRolePolicies", &e)),
        }
    }

    pub(crate) async fn delete_policy(
        ctx: &Ctx,
        role: &str,
        name: &str,
        resource: &str,
    ) -> Result<(), DeployError> {
        match ctx
            .clients
            .iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(aws_error(resource, "DeleteRolePolicy", &e)),
        }
    }

    fn outputs(role: &str, name: &str) -> Outputs {
        let mut out = Outputs::new();
        ID.set(&mut out, attachment_id(role, name));
        out
    }

    /// Putting a policy replaces one of the same name: create and update alike.
    async fn put(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &RolePolicy<Live>,
    ) -> Result<Outputs, DeployError> {
        let document = serde_json::to_string(&want.document)
            .map_err(|e| DeployError::other(step.resource, e.to_string()))?;
        ctx.clients
            .iam
            .put_role_policy()
            .role_name(&want.role)
            .policy_name(&want.name)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| aws_error(step.resource, "PutRolePolicy", &e))?;
        Ok(outputs(&want.role, &want.name))
    }

    impl Apply for RolePolicy {
        const UPDATES: &'static [&'static str] = &["PolicyDocument"];

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
                match ctx
                    .clients
                    .iam
                    .get_role_policy()
                    .role_name(&role)
                    .policy_name(&want.name)
                    .send()
                    .await
                {
                    Ok(r) => {
                        let document: serde_json::Value =
                            serde_json::from_str(&policy_document(r.policy_document()))
                                .unwrap_or_default();
                        let current = serde_json::json!({ "RoleName": role, "PolicyName": want.name, "PolicyDocument": document });
                        snap.found.insert(
                            step.id.clone(),
                            Found::new(Kind::RolePolicy, &current, outputs(&role, &want.name)),
                        );
                    }
                    // A missing policy and a missing role both answer NoSuchEntity: the role was
                    // just read, so it is the policy.
                    Err(e) if not_found(&e) => {}
                    Err(e) => return Err(aws_error(&step.resource, "GetRolePolicy", &e)),
                }
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &RolePolicy<Live>,
        ) -> Result<Outputs, DeployError> {
            put(ctx, step, want).await
        }

        async fn update(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &RolePolicy<Live>,
            _found: &Found,
            _changes: &[FieldChange],
        ) -> Result<Outputs, DeployError> {
            put(ctx, step, want).await
        }

        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            if let Some((role, name)) = gone.id.split_once('/') {
                delete_policy(ctx, role, name, gone.resource).await?;
            }
            Ok(())
        }
    }
}
