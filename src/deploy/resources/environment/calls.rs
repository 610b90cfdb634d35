//! The calls of an Elastic Beanstalk environment that its steps share: describing it, waiting
//! for it, updating it and reading the events of an operation.

use std::sync::Arc;

use aws_sdk_elasticbeanstalk::operation::RequestId as _;
use aws_sdk_elasticbeanstalk::types::{
    ConfigurationOptionSetting, EnvironmentDescription, EnvironmentStatus, EventSeverity,
    OptionSpecification,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::*;
use crate::deploy::aws::reads::Reads;
use crate::deploy::aws::wait::{self, Poll};
use crate::deploy::aws::{Ctx, DeployError, StepRef, aws_error, error_code, message_has};
use crate::deploy::diff::FieldChange;
use crate::deploy::resource::{Live, Outputs};
use crate::deploy::resources::application::{Application, app_is_ours};
use crate::lower::Plan;

/// Which environment a call is about.
#[derive(Clone, Copy)]
pub(super) enum Target<'a> {
    Id(&'a str),
    Name(&'a str),
}

impl<'a> Target<'a> {
    /// An identifier from outputs: environment ids look like `e-abcd123456`.
    pub(super) fn of(id: &'a str) -> Target<'a> {
        let is_id = id.strip_prefix("e-").is_some_and(|rest| {
            rest.len() == 10
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if is_id {
            Target::Id(id)
        } else {
            Target::Name(id)
        }
    }
}

pub(super) fn is_gone(status: Option<&EnvironmentStatus>) -> bool {
    matches!(
        status,
        Some(EnvironmentStatus::Terminated | EnvironmentStatus::Terminating)
    )
}

pub(super) fn status_word(env: &EnvironmentDescription) -> String {
    env.status()
        .map_or("unknown", EnvironmentStatus::as_str)
        .to_string()
}

// Errors: Elastic Beanstalk tells most of them apart only in the message.

/// "Environment named X is in an invalid state for this operation. Must be Ready."
pub(super) fn not_ready<E: ProvideErrorMetadata>(e: &E) -> bool {
    message_has(e, "InvalidParameterValue", &["invalid state"])
}

/// "No Environment found for EnvironmentId = 'e-...'."
pub(super) fn no_environment<E: ProvideErrorMetadata>(e: &E) -> bool {
    message_has(e, "InvalidParameterValue", &["no environment found"])
}

/// CreateEnvironment naming a role or instance profile IAM has not shown to Elastic
/// Beanstalk yet: "The instance profile X associated with the environment does not
/// exist.", "Invalid IamInstanceProfile", "Role ... is invalid or cannot be assumed".
pub(super) fn iam_not_visible<E: ProvideErrorMetadata>(e: &E) -> bool {
    let msg = e.message().unwrap_or_default().to_ascii_lowercase();
    error_code(e) == Some("InvalidParameterValue")
        && ["instance profile", "instanceprofile", "role"]
            .iter()
            .any(|n| msg.contains(n))
        && [
            "not exist",
            "not found",
            "invalid",
            "cannot be assumed",
            "unable to assume",
            "no such",
        ]
        .iter()
        .any(|n| msg.contains(n))
}

pub(super) async fn describe_envs(
    ctx: &Ctx,
    resource: &str,
    app: Option<&str>,
    target: Option<Target<'_>>,
) -> Result<Vec<EnvironmentDescription>, DeployError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    // Pages until AWS gives no token: bounded by the number of environments.
    loop {
        let mut req = ctx
            .clients
            .eb
            .describe_environments()
            .set_application_name(app.map(str::to_string))
            .include_deleted(false);
        req = match target {
            Some(Target::Id(id)) => req.environment_ids(id),
            Some(Target::Name(n)) => req.environment_names(n),
            None => req,
        };
        let r = req
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| aws_error(resource, "DescribeEnvironments", &e))?;
        out.extend(r.environments().iter().cloned());
        match r.next_token() {
            Some(t) if !t.is_empty() && !r.environments().is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// The environment that holds a name or id now (not terminated).
pub(super) async fn describe_live(
    ctx: &Ctx,
    resource: &str,
    target: Target<'_>,
) -> Result<Option<EnvironmentDescription>, DeployError> {
    let envs = describe_envs(ctx, resource, None, Some(target)).await?;
    Ok(envs
        .into_iter()
        .find(|e| e.status() != Some(&EnvironmentStatus::Terminated)))
}

/// What the environment reads found.
#[derive(Default)]
pub(crate) struct EnvState {
    /// The plan's environment in the stack's application, with its option settings.
    pub ours: Option<(EnvironmentDescription, Vec<OptionSetting<Live>>)>,
    /// Other live environments of the stack's application.
    pub others: Vec<EnvironmentDescription>,
    /// An environment of another application holding the plan's environment name.
    pub foreign: Option<EnvironmentDescription>,
}

pub(super) async fn read_environments(
    ctx: &Ctx,
    app: &str,
    name: &str,
    resource: &str,
) -> Result<EnvState, DeployError> {
    let mut state = EnvState::default();
    // The application's environments, and who holds the name (names are unique in a
    // region, across applications): both at once, as a fresh apply needs both.
    let (live, holders) = tokio::join!(
        describe_envs(ctx, resource, Some(app), None),
        describe_envs(ctx, resource, None, Some(Target::Name(name)))
    );
    for env in live?.into_iter().filter(|e| !is_gone(e.status())) {
        if env.environment_name() == Some(name) && state.ours.is_none() {
            state.ours = Some((env, Vec::new()));
        } else {
            state.others.push(env);
        }
    }
    match &mut state.ours {
        Some((_, settings)) => {
            let r = ctx
                .clients
                .eb
                .describe_configuration_settings()
                .application_name(app)
                .environment_name(name)
                .send()
                .await
                .map_err(|e| aws_error(resource, "DescribeConfigurationSettings", &e))?;
            *settings = r
                .configuration_settings()
                .first()
                .map(|c| live_options(c.option_settings()))
                .unwrap_or_default();
        }
        // Not ours: is the name held elsewhere? (A terminating holder frees it soon.)
        None => {
            state.foreign = holders?
                .into_iter()
                .find(|e| e.application_name() != Some(app) && !is_gone(e.status()))
        }
    }
    Ok(state)
}

/// The plan's environment and the application's others, once per refresh.
pub(crate) async fn environment_state(
    ctx: &Ctx,
    reads: &Reads,
    plan: &Plan,
) -> Result<Option<(Arc<EnvState>, bool)>, DeployError> {
    let Some(env) = plan
        .steps
        .iter()
        .find_map(|s| s.desired_as::<Environment>())
    else {
        return Ok(None);
    };
    let Some(app) = plan.referred::<Application, _>(&env.application) else {
        return Ok(None);
    };
    let resource = format!("environment {}", env.name);
    let (ours, state) = tokio::join!(
        app_is_ours(ctx, reads, &app.name),
        reads.once(
            format!("elasticbeanstalk:DescribeEnvironments {}", env.name),
            read_environments(ctx, &app.name, &env.name, &resource)
        )
    );
    Ok(Some((state?, ours?)))
}

pub(super) fn live_options(settings: &[ConfigurationOptionSetting]) -> Vec<OptionSetting<Live>> {
    settings
        .iter()
        .map(|s| OptionSetting {
            namespace: s.namespace().unwrap_or_default().to_string(),
            name: s.option_name().unwrap_or_default().to_string(),
            value: s.value().unwrap_or_default().to_string(),
        })
        .collect()
}

pub(crate) fn outputs(env: &EnvironmentDescription) -> Outputs {
    let mut out = Outputs::new();
    ENVIRONMENT_NAME.set(
        &mut out,
        env.environment_name().unwrap_or_default().to_string(),
    );
    out.insert("environment_id".into(), env.environment_id().into());
    out.insert("cname".into(), env.cname().into());
    out.insert(
        "id".into(),
        env.environment_id().or(env.environment_name()).into(),
    );
    out
}

pub(super) fn to_settings(options: &[&OptionSetting<Live>]) -> Vec<ConfigurationOptionSetting> {
    options
        .iter()
        .map(|o| {
            ConfigurationOptionSetting::builder()
                .namespace(&o.namespace)
                .option_name(&o.name)
                .value(&o.value)
                .build()
        })
        .collect()
}

/// Waits until the environment is `Ready`; `Launching`, `Updating` and the like are
/// waited for, `Terminating` or `Terminated` fail.
pub(super) async fn wait_ready(
    ctx: &Ctx,
    key: &str,
    resource: &str,
    target: Target<'_>,
) -> Result<EnvironmentDescription, DeployError> {
    wait::until(
        ctx,
        key,
        resource,
        ctx.timing.environment_timeout,
        || async {
            Ok(match describe_live(ctx, resource, target).await? {
                None => Poll::Failed("Terminated".into()),
                Some(env) => match env.status() {
                    Some(EnvironmentStatus::Ready) => Poll::Ready(env),
                    s if is_gone(s) => Poll::Failed(status_word(&env)),
                    _ => Poll::Pending(status_word(&env)),
                },
            })
        },
    )
    .await
}

/// The live environment of that name, if any.
pub(crate) async fn describe_by_name(
    ctx: &Ctx,
    resource: &str,
    name: &str,
) -> Result<Option<EnvironmentDescription>, DeployError> {
    describe_live(ctx, resource, Target::Name(name)).await
}

pub(crate) async fn wait_ready_by_name(
    ctx: &Ctx,
    step: &StepRef<'_>,
    name: &str,
) -> Result<Outputs, DeployError> {
    Ok(outputs(
        &wait_ready(ctx, step.id, step.resource, Target::Name(name)).await?,
    ))
}

pub(super) async fn wait_terminated(
    ctx: &Ctx,
    key: &str,
    resource: &str,
    target: Target<'_>,
) -> Result<(), DeployError> {
    wait::until(
        ctx,
        key,
        resource,
        ctx.timing.environment_timeout,
        || async {
            let envs = describe_envs(ctx, resource, None, Some(target)).await?;
            Ok(
                match envs
                    .iter()
                    .find(|e| e.status() != Some(&EnvironmentStatus::Terminated))
                {
                    None => Poll::Ready(()),
                    Some(env) => Poll::Pending(status_word(env)),
                },
            )
        },
    )
    .await
}

/// Elastic Beanstalk reports what went wrong in an operation (an image that cannot be
/// pulled, an option value it rejected and rolled back) as events of that request; an
/// environment can be `Ready` after a failed update. This fails with those events.
pub(super) async fn check_events(
    ctx: &Ctx,
    resource: &str,
    env: &str,
    request_id: Option<&str>,
) -> Result<(), DeployError> {
    let Some(request_id) = request_id.filter(|r| !r.is_empty()) else {
        return Ok(());
    };
    let r = ctx
        .clients
        .eb
        .describe_events()
        .environment_name(env)
        .request_id(request_id)
        .severity(EventSeverity::Error)
        .max_records(10)
        .send()
        .await
        .map_err(|e| aws_error(resource, "DescribeEvents", &e))?;
    let errors: Vec<&str> = r
        .events()
        .iter()
        .filter(|e| {
            matches!(
                e.severity(),
                Some(EventSeverity::Error | EventSeverity::Fatal)
            )
        })
        .filter(|e| e.request_id().is_none_or(|id| id == request_id))
        .filter_map(|e| e.message())
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(DeployError::other(
        resource,
        format!("Elastic Beanstalk reported errors: {}", errors.join("; ")),
    ))
}

/// What one UpdateEnvironment call changes.
pub(super) enum Update<'a> {
    Options {
        set: Vec<&'a OptionSetting<Live>>,
        remove: Vec<(&'a str, &'a str)>,
    },
    Version(&'a str),
}

/// UpdateEnvironment; an environment busy with another operation is waited for first.
/// Returns the request id (for its events).
pub(super) async fn send_update(
    ctx: &Ctx,
    step: &StepRef<'_>,
    name: &str,
    change: &Update<'_>,
) -> Result<Option<String>, DeployError> {
    wait::until(
        ctx,
        step.id,
        step.resource,
        ctx.timing.environment_timeout,
        || async {
            let req = ctx.clients.eb.update_environment().environment_name(name);
            let req = match change {
                Update::Options { set, remove } => req
                    .set_option_settings(Some(to_settings(set)))
                    .set_options_to_remove(Some(
                        remove
                            .iter()
                            .map(|(ns, n)| {
                                OptionSpecification::builder()
                                    .namespace(*ns)
                                    .option_name(*n)
                                    .build()
                            })
                            .collect(),
                    )),
                Update::Version(label) => req.version_label(*label),
            };
            match req.send().await {
                Ok(r) => Ok(Poll::Ready(r.request_id().map(str::to_string))),
                Err(e) if not_ready(&e) => {
                    wait_ready(ctx, step.id, step.resource, Target::Name(name)).await?;
                    Ok(Poll::Pending("Updating".into()))
                }
                Err(e) => Err(aws_error(step.resource, "UpdateEnvironment", &e)),
            }
        },
    )
    .await
}

/// Sets options (and removes environment properties) of the environment `name`, through the
/// health gate: a change that leaves the environment unhealthy fails, with its causes.
pub(crate) async fn set_options(
    ctx: &Ctx,
    step: &StepRef<'_>,
    name: &str,
    set: Vec<&OptionSetting<Live>>,
    remove: Vec<(&str, &str)>,
) -> Result<Outputs, DeployError> {
    let since = super::health::now();
    let request = send_update(ctx, step, name, &Update::Options { set, remove }).await?;
    match super::health::gate(ctx, step, name, request.as_deref(), since).await? {
        super::health::Health::Healthy(env) => Ok(outputs(&env)),
        super::health::Health::Failed(report) => Err(DeployError::other(
            step.resource,
            format!("the configuration change left it unhealthy\n{report}"),
        )),
    }
}

/// The options an update sets, and the properties it removes, from the diff's changes.
pub(super) fn option_changes<'a>(
    want: &'a [OptionSetting<Live>],
    changes: &'a [FieldChange],
) -> (Vec<&'a OptionSetting<Live>>, Vec<(&'a str, &'a str)>) {
    let set = want
        .iter()
        .filter(|o| {
            changes
                .iter()
                .any(|c| c.field == o.key() && !c.new.is_null())
        })
        .collect();
    let remove = changes
        .iter()
        .filter(|c| c.new.is_null())
        .filter_map(|c| c.field.split_once('/'))
        .collect();
    (set, remove)
}
