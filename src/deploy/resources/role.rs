//! IAM roles stackc makes when the program names none: the environment's instance role
//! (trusted by EC2) and Elastic Beanstalk's service role. A new account has neither (the
//! console makes them, the API does not). Refresh also looks up the roles an earlier apply
//! made that the plan no longer creates (the program now names its own), to delete them.

use serde::{Deserialize, Serialize};

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource, Tags};

crate::desired! {
    /// The parameters of CreateRole.
    pub struct Role {
        #[field("RoleName", Identity)]
        pub name: String,
        /// The trust policy, as JSON text (as IAM takes it).
        #[field("AssumeRolePolicyDocument", Document)]
        pub trust: String,
        #[field("Tags", Ignore("tags are set at creation; the stack tag is how refresh finds the role"))]
        pub tags: Tags,
    }
}

pub const ROLE_NAME: Output<Role, String> = Output::new("role_name");
pub const ARN: Output<Role, String> = Output::new("arn");

/// An IAM policy document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyDocument<S: crate::deploy::resource::Stage> {
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Statement")]
    pub statement: Vec<Statement<S>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statement<S: crate::deploy::resource::Stage> {
    #[serde(rename = "Effect")]
    pub effect: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Resource")]
    pub resource: Vec<S::Of<String>>,
    #[serde(rename = "Condition", default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<serde_json::Value>,
}

impl<S: crate::deploy::resource::Stage> PolicyDocument<S> {
    /// A policy that allows one action on these resources (under a condition).
    pub fn allow(
        action: &str,
        resource: Vec<S::Of<String>>,
        condition: Option<serde_json::Value>,
    ) -> Self {
        PolicyDocument {
            version: "2012-10-17".into(),
            statement: vec![Statement {
                effect: "Allow".into(),
                action: action.into(),
                resource,
                condition,
            }],
        }
    }
}

impl Role {
    /// A role `principal` (`ec2.amazonaws.com`) may assume.
    pub fn trusting(name: &str, principal: &str, tags: Tags) -> Role {
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Principal": { "Service": principal }, "Action": "sts:AssumeRole" }],
        });
        Role {
            name: name.to_string(),
            trust: trust.to_string(),
            tags,
        }
    }
}

impl Resource for Role {
    const ACTIONS: &'static [&'static str] = &[
        "iam:GetRole",
        "iam:CreateRole",
        "iam:TagRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:DeleteRole",
        "iam:ListAttachedRolePolicies",
        "iam:DetachRolePolicy",
        "iam:ListRolePolicies",
        "iam:DeleteRolePolicy",
        "iam:ListInstanceProfilesForRole",
        "iam:RemoveRoleFromInstanceProfile",
    ];

    /// The roles stackc makes are named after the stack.
    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        vec![Grant::new(
            Self::ACTIONS,
            vec![
                scope.iam(&format!("role/{}-*", scope.stack)),
                scope.iam(&format!("instance-profile/{}-*", scope.stack)),
            ],
        )]
    }
    const ACTION: &'static str = "iam:CreateRole";
    const USES: &'static [Kind] = &[];
}

#[cfg(feature = "aws")]
pub(crate) use aws::{iam_tags, not_found, policy_document, role_of};

#[cfg(feature = "aws")]
mod aws {
    use std::sync::Arc;

    use aws_sdk_iam::types::Tag;
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code};
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::{Outputs, Val};
    use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
    use crate::lower::{Plan, Step};

    /// Whether an IAM error says the entity does not exist.
    pub(crate) fn not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
        error_code(e) == Some("NoSuchEntity")
    }

    /// Tags as IAM takes them.
    pub(crate) fn iam_tags(tags: &Tags, resource: &str) -> Result<Vec<Tag>, DeployError> {
        tags.pairs()
            .map(|(k, v)| {
                Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| DeployError::other(resource, format!("invalid tag: {e}")))
            })
            .collect()
    }

    /// A policy document as JSON text: IAM returns documents URL-encoded (RFC 3986).
    pub(crate) fn policy_document(raw: &str) -> String {
        if serde_json::from_str::<serde_json::Value>(raw).is_ok() {
            raw.to_string()
        } else {
            percent_encoding::percent_decode_str(raw)
                .decode_utf8_lossy()
                .into_owned()
        }
    }

    /// What a role lookup found.
    pub(crate) enum RoleState {
        Missing,
        /// Held by a role without this stack's tag.
        Foreign,
        Ours {
            arn: String,
            trust: String,
        },
    }

    /// GetRole, once per refresh for each name.
    pub(crate) async fn read_role(
        ctx: &Ctx,
        reads: &Reads,
        name: &str,
    ) -> Result<Arc<RoleState>, DeployError> {
        reads
            .once(format!("iam:GetRole {name}"), async {
                let r = match ctx.clients.iam.get_role().role_name(name).send().await {
                    Ok(r) => r,
                    Err(e) if not_found(&e) => return Ok(RoleState::Missing),
                    Err(e) => return Err(aws_error(&format!("role {name}"), "GetRole", &e)),
                };
                let Some(role) = r.role() else {
                    return Ok(RoleState::Missing);
                };
                if !ctx
                    .owner
                    .owns(role.tags().iter().map(|t| (t.key(), t.value())))
                {
                    return Ok(RoleState::Foreign);
                }
                Ok(RoleState::Ours {
                    arn: role.arn().to_string(),
                    trust: role
                        .assume_role_policy_document()
                        .map(policy_document)
                        .unwrap_or_default(),
                })
            })
            .await
    }

    /// The role a step's `RoleName` refers to (a role the plan creates), if ours: its name.
    pub(crate) async fn role_of(
        ctx: &Ctx,
        reads: &Reads,
        plan: &Plan,
        role: &Val<String>,
    ) -> Result<Option<String>, DeployError> {
        let Some(r) = plan.referred::<Role, _>(role) else {
            return Ok(None);
        };
        Ok(match *read_role(ctx, reads, &r.name).await? {
            RoleState::Ours { .. } => Some(r.name.clone()),
            RoleState::Missing | RoleState::Foreign => None,
        })
    }

    fn outputs(name: &str, arn: &str) -> Outputs {
        let mut out = Outputs::new();
        ROLE_NAME.set(&mut out, name.to_string());
        ARN.set(&mut out, arn.to_string());
        out.insert("id".into(), name.into());
        out
    }

    async fn detach(
        ctx: &Ctx,
        role: &str,
        policy: &str,
        resource: &str,
    ) -> Result<(), DeployError> {
        crate::deploy::resources::role_policy_attachment::detach(ctx, role, policy, resource).await
    }

    /// Deletes a role with what IAM requires gone first: managed policies detached, inline
    /// policies deleted, the role taken out of its instance profiles.
    async fn delete_role(ctx: &Ctx, role: &str, resource: &str) -> Result<(), DeployError> {
        let iam = &ctx.clients.iam;
        let attached =
            match crate::deploy::resources::role_policy_attachment::attached(ctx, role, resource)
                .await?
            {
                Some(list) => list,
                None => return Ok(()),
            };
        for p in &attached {
            detach(ctx, role, p, resource).await?;
        }
        for name in crate::deploy::resources::role_policy::inline_names(ctx, role, resource).await?
        {
            crate::deploy::resources::role_policy::delete_policy(ctx, role, &name, resource)
                .await?;
        }
        for profile in
            crate::deploy::resources::instance_profile::profiles_of(ctx, role, resource).await?
        {
            crate::deploy::resources::instance_profile::remove_role(ctx, &profile, role, resource)
                .await?;
        }
        match iam.delete_role().role_name(role).send().await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(aws_error(resource, "DeleteRole", &e)),
        }
    }

    impl Apply for Role {
        const UPDATES: &'static [&'static str] = &["AssumeRolePolicyDocument"];

        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            _plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            let planned: Vec<&str> = steps.iter().map(|(_, r)| r.name.as_str()).collect();
            // Roles of an earlier apply that the plan no longer creates: to delete.
            let stale: Vec<String> = crate::naming::roles(&ctx.stack)
                .into_iter()
                .map(|(n, _)| n)
                .filter(|n| !planned.contains(&n.as_str()))
                .collect();
            let names: Vec<&str> = planned
                .iter()
                .copied()
                .chain(stale.iter().map(String::as_str))
                .collect();
            let states =
                futures_util::future::try_join_all(names.iter().map(|n| read_role(ctx, reads, n)))
                    .await?;
            for (i, state) in states.iter().enumerate() {
                let name = names[i];
                let Some((step, want)) = steps.get(i) else {
                    if let RoleState::Ours { .. } = **state {
                        snap.orphans.push(Orphan {
                            kind: Kind::Role,
                            id: name.to_string(),
                            resource: format!("role {name}"),
                        });
                    }
                    continue;
                };
                match &**state {
                    RoleState::Missing => {}
                    RoleState::Foreign => snap.conflicts.push(Conflict::taken(
                        step,
                        "a role with this name",
                        &ctx.owner,
                    )),
                    RoleState::Ours { arn, trust } => {
                        let current = Role {
                            name: name.to_string(),
                            trust: trust.clone(),
                            tags: want.tags.clone(),
                        };
                        snap.found.insert(
                            step.id.clone(),
                            Found::new(Kind::Role, &current, outputs(name, arn)),
                        );
                    }
                }
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &Role,
        ) -> Result<Outputs, DeployError> {
            let tags = iam_tags(&want.tags, step.resource)?;
            let r = ctx
                .clients
                .iam
                .create_role()
                .role_name(&want.name)
                .assume_role_policy_document(&want.trust)
                .description(format!(
                    "stackc {}: created for Elastic Beanstalk",
                    ctx.stack
                ))
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "CreateRole", &e))?;
            Ok(outputs(
                &want.name,
                r.role().map(|r| r.arn()).unwrap_or_default(),
            ))
        }

        /// The only field that changes in place: who may assume the role.
        async fn update(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &Role,
            found: &Found,
            _changes: &[FieldChange],
        ) -> Result<Outputs, DeployError> {
            ctx.clients
                .iam
                .update_assume_role_policy()
                .role_name(&want.name)
                .policy_document(&want.trust)
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "UpdateAssumeRolePolicy", &e))?;
            Ok(found.outputs.clone())
        }

        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            delete_role(ctx, gone.id, gone.resource).await
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn decodes_url_encoded_policies() {
            let raw = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
            assert_eq!(
                policy_document(raw),
                r#"{"Version":"2012-10-17","Statement":[]}"#
            );
            // Plain JSON stays as it is, `%` included.
            let plain = r#"{"Sid":"100%"}"#;
            assert_eq!(policy_document(plain), plain);
        }
    }
}
