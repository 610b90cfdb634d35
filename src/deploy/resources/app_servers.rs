//! The environment's app servers (its running tasks), as far as the secrets they read go.
//! Elastic Beanstalk and ECS read `environmentsecrets` only when a task starts; RDS rotates a
//! managed master password every seven days by default ("Password management with Amazon RDS
//! and AWS Secrets Manager"), after which new connections with the old password fail. So a
//! secret rotated after the tasks last started is a change: the app servers are restarted
//! (RestartAppServer), then go through the health gate.
//!
//! `SecretsLoaded` lists the managed secrets the environment reads; what exists lists those
//! whose current value the running tasks loaded (not rotated since the environment's last
//! operation settled: `DateUpdated`, "the last modified date for this environment").

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::Resource;

crate::desired! {
    /// RestartAppServer's `EnvironmentName`, and the secrets its tasks must have loaded (not a
    /// parameter of the call: what decides whether it is made).
    pub struct AppServers<S> {
        #[field("EnvironmentName", Identity)]
        pub environment: S::Of<String>,
        #[field("SecretsLoaded", Set)]
        pub secrets_loaded: Vec<S::Of<String>>,
    }
}

impl Resource for AppServers {
    const ACTIONS: &'static [&'static str] = &[
        "elasticbeanstalk:RestartAppServer",
        "elasticbeanstalk:DescribeEnvironments",
        "secretsmanager:DescribeSecret",
    ];

    /// RDS names its managed secrets `rds!...`.
    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        vec![
            Grant::new(
                &["elasticbeanstalk:RestartAppServer"],
                vec![scope.arn(
                    "elasticbeanstalk",
                    &format!("environment/{}/*", scope.stack),
                )],
            ),
            Grant::new(
                &["secretsmanager:DescribeSecret"],
                vec![scope.arn("secretsmanager", "secret:rds!*")],
            ),
            Grant::anywhere(&["elasticbeanstalk:DescribeEnvironments"]),
        ]
    }
    const ACTION: &'static str = "elasticbeanstalk:RestartAppServer";
    const USES: &'static [Kind] = &[Kind::EnvironmentProperties];
    const VERBS: (&'static str, &'static str) = ("start", "restart");
    const UPDATE_REASON: Option<&'static str> =
        Some("a secret they read was rotated after they started");
}

/// The secret's ARN of an `environmentsecrets` value (`ARN:jsonkey::` for a JSON key):
/// `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`.
pub fn secret_of(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.splitn(8, ':').collect();
    (parts.len() >= 7 && parts[2] == "secretsmanager").then(|| parts[..7].join(":"))
}

#[cfg(feature = "aws")]
mod aws {
    use aws_sdk_elasticbeanstalk::operation::RequestId as _;
    use aws_smithy_types::DateTime;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::wait::{self, Poll};
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, message_has};
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::environment::{
        Health, describe_by_name, environment_state, gate, now, wait_ready_by_name,
    };
    use crate::deploy::state::{Found, Snapshot};
    use crate::lower::{Plan, Step};

    /// When the secret was last rotated (DescribeSecret's `LastRotatedDate`).
    async fn rotated(
        ctx: &Ctx,
        arn: &str,
        resource: &str,
    ) -> Result<Option<DateTime>, DeployError> {
        let r = ctx
            .clients
            .secretsmanager
            .describe_secret()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| aws_error(resource, "DescribeSecret", &e))?;
        Ok(r.last_rotated_date().copied())
    }

    fn later(a: &DateTime, b: &DateTime) -> bool {
        (a.secs(), a.subsec_nanos()) > (b.secs(), b.subsec_nanos())
    }

    /// Of `secrets`, those whose current value tasks started at `started` have loaded.
    async fn loaded(
        ctx: &Ctx,
        resource: &str,
        secrets: &[String],
        started: Option<&DateTime>,
    ) -> Result<Vec<String>, DeployError> {
        let dates =
            futures_util::future::try_join_all(secrets.iter().map(|s| rotated(ctx, s, resource)))
                .await?;
        Ok(secrets
            .iter()
            .zip(dates)
            .filter(|(_, d)| match (d, started) {
                (Some(d), Some(started)) => !later(d, started),
                (None, _) => true,
                (Some(_), None) => false,
            })
            .map(|(s, _)| s.clone())
            .collect())
    }

    impl Apply for AppServers {
        const UPDATES: &'static [&'static str] = &["SecretsLoaded"];

        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            let Some((step, _)) = steps.first() else {
                return Ok(snap);
            };
            let Some((state, true)) = environment_state(ctx, reads, plan).await? else {
                return Ok(snap);
            };
            let Some((env, settings)) = &state.ours else {
                return Ok(snap);
            };
            let mut secrets: Vec<String> = settings
                .iter()
                .filter(|o| {
                    o.namespace == format!("{}secrets", super::super::environment::PROPERTIES)
                })
                .filter_map(|o| secret_of(&o.value))
                .collect();
            secrets.sort();
            secrets.dedup();
            let name = env.environment_name().unwrap_or_default().to_string();
            let current = AppServers::<Live> {
                environment: name.clone(),
                secrets_loaded: loaded(ctx, &step.resource, &secrets, env.date_updated()).await?,
            };
            let mut out = Outputs::new();
            out.insert("id".into(), name.into());
            snap.found
                .insert(step.id.clone(), Found::new(Kind::AppServers, &current, out));
            Ok(snap)
        }

        /// They start with the environment: nothing to call.
        async fn create(
            _ctx: &Ctx,
            _step: &StepRef<'_>,
            want: &AppServers<Live>,
        ) -> Result<Outputs, DeployError> {
            let mut out = Outputs::new();
            out.insert("id".into(), want.environment.clone().into());
            Ok(out)
        }

        /// Restarts the app servers, unless an operation of this apply already started them
        /// after every rotation; then the health gate.
        async fn update(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &AppServers<Live>,
            found: &Found,
            _changes: &[FieldChange],
        ) -> Result<Outputs, DeployError> {
            let started = describe_by_name(ctx, step.resource, &want.environment)
                .await?
                .and_then(|e| e.date_updated().copied());
            if loaded(ctx, step.resource, &want.secrets_loaded, started.as_ref())
                .await?
                .len()
                == want.secrets_loaded.len()
            {
                return Ok(found.outputs.clone());
            }
            let since = now();
            let request = wait::until(
                ctx,
                step.id,
                step.resource,
                ctx.timing.environment_timeout,
                || async {
                    match ctx
                        .clients
                        .eb
                        .restart_app_server()
                        .environment_name(&want.environment)
                        .send()
                        .await
                    {
                        Ok(r) => Ok(Poll::Ready(r.request_id().map(str::to_string))),
                        // Busy with another operation: once it is Ready, again.
                        Err(e) if message_has(&e, "InvalidParameterValue", &["invalid state"]) => {
                            wait_ready_by_name(ctx, step, &want.environment).await?;
                            Ok(Poll::Pending("Updating".into()))
                        }
                        Err(e) => Err(aws_error(step.resource, "RestartAppServer", &e)),
                    }
                },
            )
            .await?;
            match gate(ctx, step, &want.environment, request.as_deref(), since).await? {
                Health::Healthy(_) => Ok(found.outputs.clone()),
                Health::Failed(report) => Err(DeployError::other(
                    step.resource,
                    format!("the app servers are not healthy after their restart\n{report}"),
                )),
            }
        }

        /// They go with the environment.
        async fn delete(_ctx: &Ctx, _gone: &Gone<'_>) -> Result<(), DeployError> {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_read_from_environmentsecrets_values() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf";
        assert_eq!(
            super::secret_of(&format!("{arn}:password::")).as_deref(),
            Some(arn)
        );
        assert_eq!(super::secret_of(arn).as_deref(), Some(arn));
        assert_eq!(
            super::secret_of("arn:aws:ssm:us-east-1:123456789012:parameter/x"),
            None
        );
        assert_eq!(super::secret_of("plain"), None);
    }
}
