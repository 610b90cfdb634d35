//! The instance profile stackc makes for the environment's instances, and the role it holds
//! (an instance profile holds at most one role). Named after the instance role.

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource, Tags};

crate::desired! {
    /// The parameters of CreateInstanceProfile.
    pub struct InstanceProfile {
        #[field("InstanceProfileName", Identity)]
        pub name: String,
        #[field("Tags", Ignore("tags are set at creation; the stack tag is how refresh finds the profile"))]
        pub tags: Tags,
    }
}

crate::desired! {
    /// The parameters of AddRoleToInstanceProfile.
    pub struct ProfileRole<S> {
        #[field("InstanceProfileName", Identity)]
        pub profile: S::Of<String>,
        #[field("RoleName", Update)]
        pub role: S::Of<String>,
    }
}

pub const PROFILE_NAME: Output<InstanceProfile, String> = Output::new("instance_profile_name");
/// The profile, once it holds its role: what the environment names.
pub const HOLDING_PROFILE: Output<ProfileRole, String> = Output::new("instance_profile_name");

impl Resource for InstanceProfile {
    const ACTIONS: &'static [&'static str] = &[
        "iam:GetInstanceProfile",
        "iam:CreateInstanceProfile",
        "iam:TagInstanceProfile",
        "iam:DeleteInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:ListInstanceProfilesForRole",
    ];

    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        vec![Grant::new(
            Self::ACTIONS,
            vec![
                scope.iam(&format!("instance-profile/{}-*", scope.stack)),
                scope.iam(&format!("role/{}-*", scope.stack)),
            ],
        )]
    }
    const ACTION: &'static str = "iam:CreateInstanceProfile";
    const USES: &'static [Kind] = &[];
}

impl Resource for ProfileRole {
    const ACTIONS: &'static [&'static str] = &[
        "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:GetInstanceProfile",
        "iam:PassRole",
    ];

    /// Putting a role in a profile passes it (AWS requires `iam:PassRole` on the role).
    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        vec![
            Grant::new(
                &[
                    "iam:AddRoleToInstanceProfile",
                    "iam:RemoveRoleFromInstanceProfile",
                    "iam:GetInstanceProfile",
                ],
                vec![scope.iam(&format!("instance-profile/{}-*", scope.stack))],
            ),
            Grant::new(
                &["iam:PassRole"],
                vec![scope.iam(&format!("role/{}-*", scope.stack))],
            ),
        ]
    }
    const ACTION: &'static str = "iam:AddRoleToInstanceProfile";
    const USES: &'static [Kind] = &[Kind::InstanceProfile, Kind::Role];
}

#[cfg(feature = "aws")]
pub(crate) use aws::{profiles_of, remove_role};

#[cfg(feature = "aws")]
mod aws {
    use std::sync::Arc;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code};
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::role::{iam_tags, not_found};
    use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
    use crate::lower::{Plan, Step};

    enum ProfileState {
        Missing,
        Foreign,
        Ours { arn: String, roles: Vec<String> },
    }

    async fn get_profile(ctx: &Ctx, name: &str) -> Result<ProfileState, DeployError> {
        match ctx
            .clients
            .iam
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
        {
            Ok(r) => {
                let Some(p) = r.instance_profile() else {
                    return Ok(ProfileState::Missing);
                };
                if !ctx
                    .owner
                    .owns(p.tags().iter().map(|t| (t.key(), t.value())))
                {
                    return Ok(ProfileState::Foreign);
                }
                Ok(ProfileState::Ours {
                    arn: p.arn().to_string(),
                    roles: p
                        .roles()
                        .iter()
                        .map(|r| r.role_name().to_string())
                        .collect(),
                })
            }
            Err(e) if not_found(&e) => Ok(ProfileState::Missing),
            Err(e) => Err(aws_error(
                &format!("instance profile {name}"),
                "GetInstanceProfile",
                &e,
            )),
        }
    }

    /// GetInstanceProfile, once per refresh for each name.
    async fn read_profile(
        ctx: &Ctx,
        reads: &Reads,
        name: &str,
    ) -> Result<Arc<ProfileState>, DeployError> {
        reads
            .once(
                format!("iam:GetInstanceProfile {name}"),
                get_profile(ctx, name),
            )
            .await
    }

    /// The instance profiles holding a role.
    pub(crate) async fn profiles_of(
        ctx: &Ctx,
        role: &str,
        resource: &str,
    ) -> Result<Vec<String>, DeployError> {
        match ctx
            .clients
            .iam
            .list_instance_profiles_for_role()
            .role_name(role)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
        {
            Ok(list) => Ok(list
                .iter()
                .map(|p| p.instance_profile_name().to_string())
                .collect()),
            Err(e) if not_found(&e) => Ok(Vec::new()),
            Err(e) => Err(aws_error(resource, "ListInstanceProfilesForRole", &e)),
        }
    }

    pub(crate) async fn remove_role(
        ctx: &Ctx,
        profile: &str,
        role: &str,
        resource: &str,
    ) -> Result<(), DeployError> {
        match ctx
            .clients
            .iam
            .remove_role_from_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(aws_error(resource, "RemoveRoleFromInstanceProfile", &e)),
        }
    }

    /// Takes every role out of an instance profile.
    async fn empty_profile(ctx: &Ctx, profile: &str, resource: &str) -> Result<(), DeployError> {
        if let ProfileState::Ours { roles, .. } = get_profile(ctx, profile).await? {
            for role in &roles {
                remove_role(ctx, profile, role, resource).await?;
            }
        }
        Ok(())
    }

    fn profile_outputs(name: &str, arn: Option<&str>) -> Outputs {
        let mut out = Outputs::new();
        PROFILE_NAME.set(&mut out, name.to_string());
        if let Some(arn) = arn {
            out.insert("arn".into(), arn.into());
        }
        out.insert("id".into(), name.into());
        out
    }

    impl Apply for InstanceProfile {
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            _plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            let planned: Vec<&str> = steps.iter().map(|(_, p)| p.name.as_str()).collect();
            // The profile of an earlier apply that the plan no longer creates: to delete.
            let stale = Some(crate::naming::instance_profile(&ctx.stack))
                .filter(|n| !planned.contains(&n.as_str()));
            let names: Vec<&str> = planned.iter().copied().chain(stale.as_deref()).collect();
            let states = futures_util::future::try_join_all(
                names.iter().map(|n| read_profile(ctx, reads, n)),
            )
            .await?;
            for (i, state) in states.iter().enumerate() {
                let name = names[i];
                let Some((step, want)) = steps.get(i) else {
                    if let ProfileState::Ours { .. } = **state {
                        snap.orphans.push(Orphan {
                            kind: Kind::InstanceProfile,
                            id: name.to_string(),
                            resource: format!("instance profile {name}"),
                        });
                    }
                    continue;
                };
                match &**state {
                    ProfileState::Missing => {}
                    ProfileState::Foreign => snap.conflicts.push(Conflict::taken(
                        step,
                        "an instance profile with this name",
                        &ctx.owner,
                    )),
                    ProfileState::Ours { arn, .. } => {
                        let current = InstanceProfile {
                            name: name.to_string(),
                            tags: want.tags.clone(),
                        };
                        snap.found.insert(
                            step.id.clone(),
                            Found::new(
                                Kind::InstanceProfile,
                                &current,
                                profile_outputs(name, Some(arn)),
                            ),
                        );
                    }
                }
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &InstanceProfile,
        ) -> Result<Outputs, DeployError> {
            let tags = iam_tags(&want.tags, step.resource)?;
            let r = ctx
                .clients
                .iam
                .create_instance_profile()
                .instance_profile_name(&want.name)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "CreateInstanceProfile", &e))?;
            Ok(profile_outputs(
                &want.name,
                r.instance_profile().map(|p| p.arn()),
            ))
        }

        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            empty_profile(ctx, gone.id, gone.resource).await?;
            match ctx
                .clients
                .iam
                .delete_instance_profile()
                .instance_profile_name(gone.id)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if not_found(&e) => Ok(()),
                Err(e) => Err(aws_error(gone.resource, "DeleteInstanceProfile", &e)),
            }
        }
    }

    /// Puts `role` in the profile, taking out another role it holds first.
    async fn add_role(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &ProfileRole<Live>,
        held: Option<&str>,
    ) -> Result<Outputs, DeployError> {
        let mut out = Outputs::new();
        HOLDING_PROFILE.set(&mut out, want.profile.clone());
        out.insert("id".into(), want.profile.clone().into());
        if held == Some(want.role.as_str()) {
            return Ok(out);
        }
        if let Some(old) = held {
            remove_role(ctx, &want.profile, old, step.resource).await?;
        }
        match ctx
            .clients
            .iam
            .add_role_to_instance_profile()
            .instance_profile_name(&want.profile)
            .role_name(&want.role)
            .send()
            .await
        {
            Ok(_) => Ok(out),
            // The profile is full: fine if it already holds this role (an apply that was
            // interrupted right after adding it).
            Err(e) if error_code(&e) == Some("LimitExceeded") => {
                match get_profile(ctx, &want.profile).await? {
                    ProfileState::Ours { roles, .. } if roles.contains(&want.role) => Ok(out),
                    _ => Err(aws_error(step.resource, "AddRoleToInstanceProfile", &e)),
                }
            }
            Err(e) => Err(aws_error(step.resource, "AddRoleToInstanceProfile", &e)),
        }
    }

    impl Apply for ProfileRole {
        const UPDATES: &'static [&'static str] = &["RoleName"];

        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            for (step, want) in steps {
                let Some(profile) = plan.referred::<InstanceProfile, _>(&want.profile) else {
                    continue;
                };
                // An instance profile holds at most one role.
                if let ProfileState::Ours { roles, .. } =
                    &*read_profile(ctx, reads, &profile.name).await?
                {
                    if let Some(role) = roles.first() {
                        let current = ProfileRole::<Live> {
                            profile: profile.name.clone(),
                            role: role.clone(),
                        };
                        let mut out = Outputs::new();
                        HOLDING_PROFILE.set(&mut out, profile.name.clone());
                        out.insert("id".into(), profile.name.clone().into());
                        snap.found.insert(
                            step.id.clone(),
                            Found::new(Kind::ProfileRole, &current, out),
                        );
                    }
                }
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &ProfileRole<Live>,
        ) -> Result<Outputs, DeployError> {
            add_role(ctx, step, want, None).await
        }

        async fn update(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &ProfileRole<Live>,
            found: &Found,
            _changes: &[FieldChange],
        ) -> Result<Outputs, DeployError> {
            let held: Option<ProfileRole<Live>> = found.current_as();
            add_role(ctx, step, want, held.as_ref().map(|h| h.role.as_str())).await
        }

        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            match gone.found.and_then(Found::current_as::<ProfileRole<Live>>) {
                Some(held) => remove_role(ctx, gone.id, &held.role, gone.resource).await,
                None => empty_profile(ctx, gone.id, gone.resource).await,
            }
        }
    }
}
