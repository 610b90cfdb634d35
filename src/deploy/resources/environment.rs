//! The Elastic Beanstalk environment that runs the services: created with every option known
//! up front (the store endpoints follow in `environment_properties`), updated option by option
//! and version by version, terminated on destroy. Environment names are unique in a region,
//! so one held by another application is a conflict; other environments of the stack's
//! application are orphans.
//!
//! Option values may be secrets: the executor scrubs them from every error of the step.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Kind;
use crate::deploy::resource::{OptionRules, Output, Resource, Stage, Tags};

/// Elastic Beanstalk sets an environment's load balancer type once, at creation (a
/// single-instance environment gets one when it becomes load balanced).
pub const LOAD_BALANCER_TYPE: &str = "aws:elasticbeanstalk:environment/LoadBalancerType";

/// The environment's options: environment properties no step sets any more are removed.
pub const OPTIONS: OptionRules = OptionRules {
    prune: Some(PROPERTIES),
    replace: &[LOAD_BALANCER_TYPE],
};

/// The namespaces of environment properties (`...:environment` and `...:environmentsecrets`).
pub const PROPERTIES: &str = "aws:elasticbeanstalk:application:environment";

crate::desired! {
    /// The parameters of CreateEnvironment.
    pub struct Environment<S> {
        #[field("ApplicationName", Identity)]
        pub application: S::Of<String>,
        #[field("EnvironmentName", Identity)]
        pub name: String,
        #[field("PlatformArn", Ignore("the newest recommended version when the environment was created; platform updates are Elastic Beanstalk's managed updates"))]
        pub platform: S::Of<String>,
        #[field("VersionLabel", Update)]
        pub version: S::Of<String>,
        #[field("OptionSettings", Options(OPTIONS))]
        pub options: Vec<OptionSetting<S>>,
        #[field("Tags", Ignore("tags are set at creation; environments belong to the stack through its application"))]
        pub tags: Tags,
    }
}

/// One option setting: `{"Namespace", "OptionName", "Value"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptionSetting<S: Stage> {
    #[serde(rename = "Namespace")]
    pub namespace: String,
    #[serde(rename = "OptionName")]
    pub name: String,
    #[serde(rename = "Value")]
    pub value: S::Of<String>,
}

impl<S: Stage> OptionSetting<S> {
    pub fn new(namespace: &str, name: &str, value: impl Into<S::Of<String>>) -> OptionSetting<S> {
        OptionSetting {
            namespace: namespace.into(),
            name: name.into(),
            value: value.into(),
        }
    }

    /// `namespace/name`, as the diff names an option.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

pub const ENVIRONMENT_NAME: Output<Environment, String> = Output::new("environment_name");

impl Resource for Environment {
    const ACTION: &'static str = "elasticbeanstalk:CreateEnvironment";
    const USES: &'static [Kind] = &[
        Kind::Application,
        Kind::AppVersion,
        Kind::Platform,
        Kind::SecurityGroup,
        Kind::ProfileRole,
        Kind::Role,
        Kind::RolePolicyAttachment,
    ];

    /// Replacing an environment means terminating the running application first.
    fn refuse_replacement(_current: &Map<String, Value>, _want: &Value) -> Option<String> {
        Some(", which stops the application: keep the setting, or run `stackc destroy` and then `stackc apply`".into())
    }
}

#[cfg(feature = "aws")]
pub(crate) use aws::{
    environment_state, outputs as environment_outputs, set_options, wait_ready_by_name,
};

#[cfg(feature = "aws")]
mod aws {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use aws_sdk_elasticbeanstalk::operation::RequestId as _;
    use aws_sdk_elasticbeanstalk::types::{
        ConfigurationOptionSetting, EnvironmentDescription, EnvironmentStatus, EventSeverity,
        OptionSpecification,
    };
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::wait::{self, Poll};
    use crate::deploy::aws::{
        Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code, message_has,
    };
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::application::{Application, app_is_ours, eb_tags};
    use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
    use crate::lower::{Plan, Step};

    /// How long IAM may take to show a role or instance profile just created to Elastic
    /// Beanstalk.
    const IAM_PROPAGATION: Duration = Duration::from_secs(120);

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

    fn is_gone(status: Option<&EnvironmentStatus>) -> bool {
        matches!(
            status,
            Some(EnvironmentStatus::Terminated | EnvironmentStatus::Terminating)
        )
    }

    fn status_word(env: &EnvironmentDescription) -> String {
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

    async fn describe_envs(
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
                Some(t) if !t.is_empty() && !r.environments().is_empty() => {
                    token = Some(t.to_string())
                }
                _ => return Ok(out),
            }
        }
    }

    /// The environment that holds a name or id now (not terminated).
    async fn describe_live(
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

    async fn read_environments(
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

    fn live_options(settings: &[ConfigurationOptionSetting]) -> Vec<OptionSetting<Live>> {
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

    fn to_settings(options: &[&OptionSetting<Live>]) -> Vec<ConfigurationOptionSetting> {
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
    async fn wait_ready(
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

    pub(crate) async fn wait_ready_by_name(
        ctx: &Ctx,
        step: &StepRef<'_>,
        name: &str,
    ) -> Result<Outputs, DeployError> {
        Ok(outputs(
            &wait_ready(ctx, step.id, step.resource, Target::Name(name)).await?,
        ))
    }

    async fn wait_terminated(
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
    async fn check_events(
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
    enum Update<'a> {
        Options {
            set: Vec<&'a OptionSetting<Live>>,
            remove: Vec<(&'a str, &'a str)>,
        },
        Version(&'a str),
    }

    /// UpdateEnvironment, then waits for Ready and checks the request's events. An
    /// environment busy with another operation is waited for first.
    async fn update_environment(
        ctx: &Ctx,
        step: &StepRef<'_>,
        name: &str,
        change: Update<'_>,
    ) -> Result<Outputs, DeployError> {
        let request = wait::until(
            ctx,
            step.id,
            step.resource,
            ctx.timing.environment_timeout,
            || async {
                let req = ctx.clients.eb.update_environment().environment_name(name);
                let req = match &change {
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
        .await?;
        let env = wait_ready(ctx, step.id, step.resource, Target::Name(name)).await?;
        check_events(ctx, step.resource, name, request.as_deref()).await?;
        Ok(outputs(&env))
    }

    /// Sets options (and removes environment properties) of the environment `name`.
    pub(crate) async fn set_options(
        ctx: &Ctx,
        step: &StepRef<'_>,
        name: &str,
        set: Vec<&OptionSetting<Live>>,
        remove: Vec<(&str, &str)>,
    ) -> Result<Outputs, DeployError> {
        update_environment(ctx, step, name, Update::Options { set, remove }).await
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
                    .set_option_settings(Some(to_settings(
                        &want.options.iter().collect::<Vec<_>>(),
                    )))
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
                                wait_terminated(
                                    ctx,
                                    step.id,
                                    step.resource,
                                    Target::Name(&want.name),
                                )
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

    fn transitional(status: Option<&str>) -> bool {
        !matches!(status, None | Some("Ready"))
    }

    impl Apply for Environment {
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
                    Found::new(Kind::Environment, &current, outputs(env))
                        .with_status(status_word(env)),
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
            let request = create_environment(ctx, step, want).await?;
            let env = wait_ready(ctx, step.id, step.resource, Target::Name(&want.name)).await?;
            check_events(ctx, step.resource, &want.name, request.as_deref()).await?;
            Ok(outputs(&env))
        }

        /// Configuration, then version, in separate calls: Elastic Beanstalk refuses both at
        /// once.
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
                out = update_environment(ctx, step, &want.name, Update::Version(&want.version))
                    .await?;
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
                return wait_ready_by_name(ctx, step, &want.name).await;
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
}
