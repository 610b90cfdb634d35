use std::time::{Duration, Instant};

use aws_sdk_elasticbeanstalk::operation::RequestId as _;
use aws_sdk_elasticbeanstalk::types::EnvironmentStatus;

use super::calls::*;
use super::health::{Health, gate, now};
use super::*;
use crate::deploy::aws::reads::Reads;
use crate::deploy::aws::wait::{self, Poll};
use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, message_has};
use crate::deploy::diff::FieldChange;
use crate::deploy::resource::{Live, Outputs};
use crate::deploy::resources::application::eb_tags;
use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
use crate::lower::{Plan, Step};

/// How long IAM may take to show a role or instance profile just created to Elastic
/// Beanstalk.
const IAM_PROPAGATION: Duration = Duration::from_secs(120);

/// CreateEnvironment, waiting out IAM's propagation delay (roles and profile were created
/// moments ago and IAM has not shown them to Elastic Beanstalk yet, which AWS documents
/// can take a while) and a namesake still terminating.
async fn create_environment(
    ctx: &Ctx,
    step: &StepRef<'_>,
    want: &Environment<Live>,
) -> Result<Option<String>, DeployError> {
    let start = Instant::now();
    wait::until(
        ctx,
        step.id,
        step.resource,
        ctx.timing.environment_timeout,
        || async {
            let r = ctx
                .clients
                .eb
                .create_environment()
                .application_name(&want.application)
                .environment_name(&want.name)
                .platform_arn(&want.platform)
                .version_label(&want.version)
                .set_option_settings(Some(to_settings(&want.options.iter().collect::<Vec<_>>())))
                .set_tags(Some(eb_tags(&want.tags)))
                .send()
                .await;
            match r {
                Ok(r) => Ok(Poll::Ready(r.request_id().map(str::to_string))),
                Err(e) if iam_not_visible(&e) && start.elapsed() < IAM_PROPAGATION => Ok(
                    Poll::Pending("waiting for IAM to propagate the roles".into()),
                ),
                Err(e) if message_has(&e, "InvalidParameterValue", &["already exists"]) => {
                    match describe_live(ctx, step.resource, Target::Name(&want.name)).await? {
                        // Ours already: the SDK retried a create that went through.
                        Some(env)
                            if env.application_name() == Some(want.application.as_str())
                                && !is_gone(env.status()) =>
                        {
                            Ok(Poll::Ready(None))
                        }
                        // A namesake terminating: the name is free once it is gone.
                        Some(env) if env.status() == Some(&EnvironmentStatus::Terminating) => {
                            wait_terminated(ctx, step.id, step.resource, Target::Name(&want.name))
                                .await?;
                            Ok(Poll::Pending("the name is free again".into()))
                        }
                        None => Ok(Poll::Pending("the name is free again".into())),
                        Some(_) => Err(aws_error(step.resource, "CreateEnvironment", &e)),
                    }
                }
                Err(e) => Err(aws_error(step.resource, "CreateEnvironment", &e)),
            }
        },
    )
    .await
}

/// How to look at an environment that stackc leaves unhealthy.
fn inspect(name: &str) -> String {
    format!(
        "the environment was left as it is: see `aws elasticbeanstalk describe-environment-health --environment-name {name} \
         --attribute-names All` and `aws elasticbeanstalk describe-events --environment-name {name}`, then run apply again"
    )
}

/// Deploys version `label` through the health gate; when the environment is not healthy
/// after it, deploys `previous` (the version that ran before) again, unless `--no-rollback`,
/// and fails saying what failed and what was rolled back.
pub(crate) async fn deploy_version(
    ctx: &Ctx,
    step: &StepRef<'_>,
    name: &str,
    label: &str,
    previous: Option<&str>,
) -> Result<Outputs, DeployError> {
    let since = now();
    let request = send_update(ctx, step, name, &Update::Version(label)).await?;
    let report = match gate(ctx, step, name, request.as_deref(), since).await? {
        Health::Healthy(env) => return Ok(outputs(&env)),
        Health::Failed(report) => report,
    };
    let failed = format!("version {label} failed its health check\n{report}");
    let previous = previous.filter(|p| !p.is_empty() && *p != label);
    let outcome = match previous {
        _ if !ctx.rollback => format!(
            "version {label} was kept (--no-rollback); {}",
            inspect(name)
        ),
        None => format!(
            "there is no earlier version to go back to; {}",
            inspect(name)
        ),
        Some(previous) => {
            ctx.progress
                .status(step.id, &format!("rolling back to {previous}"));
            let since = now();
            let request = send_update(ctx, step, name, &Update::Version(previous)).await?;
            match gate(ctx, step, name, request.as_deref(), since).await? {
                Health::Healthy(_) => {
                    format!("rolled back to {previous}, which runs and is healthy again")
                }
                Health::Failed(again) => {
                    format!("rolled back to {previous}, which is not healthy either\n{again}")
                }
            }
        }
    };
    Err(DeployError::other(
        step.resource,
        format!("{failed}\n{outcome}"),
    ))
}

fn transitional(status: Option<&str>) -> bool {
    !matches!(status, None | Some("Ready"))
}

impl Apply for Environment {
    const UPDATES: &'static [&'static str] = &["VersionLabel", "OptionSettings"];

    async fn refresh(
        ctx: &Ctx,
        reads: &Reads,
        plan: &Plan,
        steps: &[(&Step, &Self)],
    ) -> Result<Snapshot, DeployError> {
        let mut snap = Snapshot::default();
        let Some((step, want)) = steps.first() else {
            return Ok(snap);
        };
        let Some((state, app_ours)) = environment_state(ctx, reads, plan).await? else {
            return Ok(snap);
        };
        if let Some(foreign) = &state.foreign {
            snap.conflicts.push(Conflict {
                step: step.id.clone(),
                resource: step.resource.clone(),
                why: format!(
                    "the name is held by environment {} of application {} (environment names are unique in a region)",
                    foreign.environment_id().unwrap_or_default(),
                    foreign.application_name().unwrap_or_default(),
                ),
            });
        }
        if !app_ours {
            return Ok(snap);
        }
        if let Some((env, settings)) = &state.ours {
            let current = Environment::<Live> {
                application: env.application_name().unwrap_or_default().to_string(),
                name: want.name.clone(),
                platform: env.platform_arn().unwrap_or_default().to_string(),
                version: env.version_label().unwrap_or_default().to_string(),
                options: settings.clone(),
                tags: want.tags.clone(),
            };
            snap.found.insert(
                step.id.clone(),
                Found::new(Kind::Environment, &current, outputs(env)).with_status(
                    status_word(env),
                    env.status() == Some(&EnvironmentStatus::Ready),
                ),
            );
        }
        for env in &state.others {
            let name = env.environment_name().unwrap_or_default();
            snap.orphans.push(Orphan {
                kind: Kind::Environment,
                id: env.environment_id().unwrap_or(name).to_string(),
                resource: format!("environment {name}"),
            });
        }
        Ok(snap)
    }

    async fn create(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &Environment<Live>,
    ) -> Result<Outputs, DeployError> {
        let since = now();
        let request = create_environment(ctx, step, want).await?;
        match gate(ctx, step, &want.name, request.as_deref(), since).await? {
            Health::Healthy(env) => Ok(outputs(&env)),
            // A first deployment has nothing to go back to: it is left for inspection.
            Health::Failed(report) => Err(DeployError::other(
                step.resource,
                format!("{report}\n{}", inspect(&want.name)),
            )),
        }
    }

    /// Configuration, then version, in separate calls: Elastic Beanstalk refuses both at
    /// once. Each goes through the health gate; a version that leaves the environment
    /// unhealthy is rolled back to the one that ran before.
    async fn update(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &Environment<Live>,
        found: &Found,
        changes: &[FieldChange],
    ) -> Result<Outputs, DeployError> {
        let mut out = Self::settle(ctx, step, want, found).await?;
        let (set, remove) = option_changes(&want.options, changes);
        if !set.is_empty() || !remove.is_empty() {
            out = set_options(ctx, step, &want.name, set, remove).await?;
        }
        if changes.iter().any(|c| c.field == "VersionLabel") {
            let previous = found.current.get("VersionLabel").and_then(|v| v.as_str());
            out = deploy_version(ctx, step, &want.name, &want.version, previous).await?;
        }
        Ok(out)
    }

    async fn settle(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &Environment<Live>,
        found: &Found,
    ) -> Result<Outputs, DeployError> {
        if transitional(found.status.as_deref()) {
            // An interrupted apply left it busy: what it was doing must end healthy too.
            return match gate(ctx, step, &want.name, None, now()).await? {
                Health::Healthy(env) => Ok(outputs(&env)),
                Health::Failed(report) => Err(DeployError::other(
                    step.resource,
                    format!("{report}\n{}", inspect(&want.name)),
                )),
            };
        }
        Ok(found.outputs.clone())
    }

    async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
        let target = Target::of(gone.id);
        let terminated = wait::until(
            ctx,
            gone.key,
            gone.resource,
            ctx.timing.environment_timeout,
            || async {
                let req = ctx.clients.eb.terminate_environment();
                let req = match target {
                    Target::Id(id) => req.environment_id(id),
                    Target::Name(n) => req.environment_name(n),
                };
                match req.send().await {
                    Ok(_) => Ok(Poll::Ready(true)),
                    Err(e) if no_environment(&e) => Ok(Poll::Ready(false)),
                    // Busy (launching, updating) or already terminating.
                    Err(e) if not_ready(&e) => {
                        match describe_live(ctx, gone.resource, target).await? {
                            None => Ok(Poll::Ready(false)),
                            Some(env) if is_gone(env.status()) => Ok(Poll::Ready(true)),
                            Some(env) => Ok(Poll::Pending(status_word(&env))),
                        }
                    }
                    Err(e) => Err(aws_error(gone.resource, "TerminateEnvironment", &e)),
                }
            },
        )
        .await?;
        if terminated {
            wait_terminated(ctx, gone.key, gone.resource, target).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(code: &str, message: &str) -> aws_smithy_types::error::ErrorMetadata {
        aws_smithy_types::error::ErrorMetadata::builder()
            .code(code)
            .message(message)
            .build()
    }

    #[test]
    fn iam_propagation_errors_are_recognised() {
        for m in [
            "The instance profile shop-eb-ec2 associated with the environment does not exist.",
            "Invalid IamInstanceProfile: shop-eb-ec2",
            "Role arn:aws:iam::123456789012:role/shop-eb-service is invalid or cannot be assumed.",
        ] {
            assert!(iam_not_visible(&aws("InvalidParameterValue", m)), "{m}");
        }
        assert!(!iam_not_visible(&aws(
            "InvalidParameterValue",
            "No Application Version named 'v-1' found."
        )));
        assert!(!iam_not_visible(&aws(
            "InsufficientPrivilegesException",
            "The instance profile x does not exist."
        )));
        assert!(not_ready(&aws(
            "InvalidParameterValue",
            "Environment named shop is in an invalid state for this operation. Must be Ready."
        )));
        assert!(no_environment(&aws(
            "InvalidParameterValue",
            "No Environment found for EnvironmentId = 'e-abcd123456'."
        )));
    }

    #[test]
    fn environment_targets() {
        assert!(matches!(
            Target::of("e-abcd123456"),
            Target::Id("e-abcd123456")
        ));
        assert!(matches!(Target::of("e-shop"), Target::Name("e-shop")));
        assert!(matches!(Target::of("prod"), Target::Name("prod")));
        assert!(transitional(Some("Launching")));
        assert!(!transitional(Some("Ready")));
    }

    #[test]
    fn updates_set_changed_options_and_remove_unwanted_properties() {
        let want = vec![
            OptionSetting::<Live>::new(
                "aws:autoscaling:launchconfiguration",
                "InstanceType",
                "t3.small".to_string(),
            ),
            OptionSetting::<Live>::new(PROPERTIES, "PORT", "5432".to_string()),
        ];
        let change = |field: &str, new: serde_json::Value| FieldChange {
            field: field.into(),
            old: serde_json::Value::Null,
            new,
            forces_replacement: false,
        };
        let changes = vec![
            change(
                "aws:autoscaling:launchconfiguration/InstanceType",
                "t3.small".into(),
            ),
            change(&format!("{PROPERTIES}/OLD"), serde_json::Value::Null),
        ];
        let (set, remove) = option_changes(&want, &changes);
        assert_eq!(set, vec![&want[0]]);
        assert_eq!(remove, vec![(PROPERTIES, "OLD")]);
    }
}
