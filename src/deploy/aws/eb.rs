//! Elastic Beanstalk: the application, the storage location, the source bundle (a zip holding
//! `Dockerrun.aws.json`, uploaded with `s3:PutObject`), the application version labelled by the
//! bundle's hash, the platform lookup, and the environment with its store endpoints.
//!
//! Ownership: the application carries this stack's tags (read with `ListTagsForResource`);
//! its versions and environments belong to the stack through it. Environment names are unique
//! in a region, so one held by another application is a conflict.
//!
//! Option values may be secrets: they are never logged, printed or put in an error message
//! (AWS's messages are scrubbed of them).

use std::collections::BTreeSet;
use std::io::Write as _;
use std::time::{Duration, Instant};

use aws_sdk_elasticbeanstalk::operation::RequestId as _;
use aws_sdk_elasticbeanstalk::types::{
    ApplicationVersionDescription, ApplicationVersionStatus, ConfigurationOptionSetting,
    EnvironmentDescription, EnvironmentStatus, EventSeverity, OptionSpecification, PlatformFilter,
    S3Location, Tag,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Map, Value, json};

use super::wait::{self, Poll};
use super::{Ctx, DeployError, aws_error, error_code, owned, params};
use crate::deploy::diff::Op;
use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
use crate::lower::{Plan, Step};

const CREATE_APP: &str = "elasticbeanstalk:CreateApplication";
const STORAGE: &str = "elasticbeanstalk:CreateStorageLocation";
const PUT_BUNDLE: &str = "s3:PutObject";
const CREATE_VERSION: &str = "elasticbeanstalk:CreateApplicationVersion";
const PLATFORMS: &str = "elasticbeanstalk:ListPlatformVersions";
const CREATE_ENV: &str = "elasticbeanstalk:CreateEnvironment";
const UPDATE_ENV: &str = "elasticbeanstalk:UpdateEnvironment";

/// The namespaces of environment properties (`...:environment` and `...:environmentsecrets`).
const ENV_PROPERTIES: &str = "aws:elasticbeanstalk:application:environment";

/// The name of the bundle file inside the zip, as Elastic Beanstalk's ECS platform reads it.
const DOCKERRUN: &str = "Dockerrun.aws.json";

/// How long IAM may take to show a role or instance profile that was just created to
/// Elastic Beanstalk.
const IAM_PROPAGATION: Duration = Duration::from_secs(120);

fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The plan's Elastic Beanstalk steps, by kind.
#[derive(Default)]
struct Steps<'p> {
    app: Option<&'p Step>,
    bundle: Option<&'p Step>,
    version: Option<&'p Step>,
    platform: Option<&'p Step>,
    env: Option<&'p Step>,
    stores: Option<&'p Step>,
}

impl<'p> Steps<'p> {
    fn of(plan: &'p Plan) -> Steps<'p> {
        let mut s = Steps::default();
        for step in &plan.steps {
            let slot = match step.action.as_str() {
                CREATE_APP => &mut s.app,
                PUT_BUNDLE => &mut s.bundle,
                CREATE_VERSION => &mut s.version,
                PLATFORMS => &mut s.platform,
                CREATE_ENV => &mut s.env,
                UPDATE_ENV => &mut s.stores,
                _ => continue,
            };
            slot.get_or_insert(step);
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Reads

/// What `DescribeApplications` + `ListTagsForResource` found.
struct AppState {
    arn: String,
    ours: bool,
}

async fn read_app(ctx: &Ctx, name: &str) -> Result<Option<AppState>, DeployError> {
    let resource = format!("application {name}");
    let r = ctx
        .clients
        .eb
        .describe_applications()
        .application_names(name)
        .send()
        .await
        .map_err(|e| aws_error(&resource, "DescribeApplications", &e))?;
    let Some(app) = r
        .applications()
        .iter()
        .find(|a| a.application_name() == Some(name))
    else {
        return Ok(None);
    };
    let arn = app.application_arn().unwrap_or_default().to_string();
    let tags = ctx
        .clients
        .eb
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(|e| aws_error(&resource, "ListTagsForResource", &e))?;
    let ours = owned(
        tags.resource_tags()
            .iter()
            .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
        &ctx.stack,
    );
    Ok(Some(AppState { arn, ours }))
}

async fn read_version(
    ctx: &Ctx,
    app: &str,
    label: &str,
) -> Result<Option<ApplicationVersionDescription>, DeployError> {
    let r = ctx
        .clients
        .eb
        .describe_application_versions()
        .application_name(app)
        .version_labels(label)
        .send()
        .await
        .map_err(|e| {
            aws_error(
                &format!("application version {label}"),
                "DescribeApplicationVersions",
                &e,
            )
        })?;
    Ok(r.application_versions()
        .iter()
        .find(|v| v.version_label() == Some(label))
        .cloned())
}

/// The platform filters of a `ListPlatformVersions` step.
fn platform_filters(p: &Value) -> Vec<PlatformFilter> {
    p.get("Filters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|f| {
            PlatformFilter::builder()
                .set_type(f.get("Type").and_then(Value::as_str).map(str::to_string))
                .set_operator(
                    f.get("Operator")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                )
                .set_values(Some(params::strings(f, "Values")))
                .build()
        })
        .collect()
}

/// `4.10.2` after `4.9.0`: versions compare number by number.
fn version_key(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// The ARN of the newest platform version matching the step's filters.
async fn newest_platform(
    ctx: &Ctx,
    resource: &str,
    p: &Value,
) -> Result<Option<String>, DeployError> {
    let pages = ctx
        .clients
        .eb
        .list_platform_versions()
        .set_filters(Some(platform_filters(p)))
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| aws_error(resource, "ListPlatformVersions", &e))?;
    let newest = pages
        .iter()
        .flat_map(|page| page.platform_summary_list())
        .filter(|s| s.platform_arn().is_some())
        .max_by(|a, b| {
            version_key(a.platform_version().unwrap_or_default())
                .cmp(&version_key(b.platform_version().unwrap_or_default()))
        });
    Ok(newest.and_then(|s| s.platform_arn()).map(str::to_string))
}

/// Which environment a describe is about.
#[derive(Clone, Copy)]
enum Target<'a> {
    Id(&'a str),
    Name(&'a str),
}

impl<'a> Target<'a> {
    /// An identifier from outputs: environment ids look like `e-abcd123456`.
    fn of(id: &'a str) -> Target<'a> {
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

async fn describe_envs(
    ctx: &Ctx,
    resource: &str,
    app: Option<&str>,
    target: Option<Target<'_>>,
    include_deleted: bool,
) -> Result<Vec<EnvironmentDescription>, DeployError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = ctx
            .clients
            .eb
            .describe_environments()
            .set_application_name(app.map(str::to_string))
            .include_deleted(include_deleted);
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
async fn describe_live(
    ctx: &Ctx,
    resource: &str,
    target: Target<'_>,
) -> Result<Option<EnvironmentDescription>, DeployError> {
    let envs = describe_envs(ctx, resource, None, Some(target), false).await?;
    Ok(envs
        .into_iter()
        .find(|e| e.status() != Some(&EnvironmentStatus::Terminated)))
}

async fn option_settings(
    ctx: &Ctx,
    resource: &str,
    app: &str,
    env: &str,
) -> Result<Vec<ConfigurationOptionSetting>, DeployError> {
    let r = ctx
        .clients
        .eb
        .describe_configuration_settings()
        .application_name(app)
        .environment_name(env)
        .send()
        .await
        .map_err(|e| aws_error(resource, "DescribeConfigurationSettings", &e))?;
    Ok(r.configuration_settings()
        .first()
        .map(|c| c.option_settings().to_vec())
        .unwrap_or_default())
}

/// What the environment reads found.
#[derive(Default)]
struct EnvState {
    /// The plan's environment in our application, with its option settings.
    ours: Option<(EnvironmentDescription, Vec<ConfigurationOptionSetting>)>,
    /// Other live environments of our application.
    others: Vec<EnvironmentDescription>,
    /// An environment of another application holding the plan's environment name.
    foreign: Option<EnvironmentDescription>,
}

async fn read_environments(
    ctx: &Ctx,
    app: &str,
    name: Option<&str>,
    resource: &str,
) -> Result<EnvState, DeployError> {
    let mut state = EnvState::default();
    // The application's environments, and who holds the name (environment names are unique
    // in a region, across applications): both at once, as a fresh apply needs both.
    let (live, holders) = tokio::join!(
        describe_envs(ctx, resource, Some(app), None, false),
        async {
            match name {
                Some(n) => describe_envs(ctx, resource, None, Some(Target::Name(n)), false).await,
                None => Ok(Vec::new()),
            }
        }
    );
    let live: Vec<EnvironmentDescription> =
        live?.into_iter().filter(|e| !is_gone(e.status())).collect();
    for env in live {
        if name.is_some() && env.environment_name() == name && state.ours.is_none() {
            state.ours = Some((env, Vec::new()));
        } else {
            state.others.push(env);
        }
    }
    match (&mut state.ours, name) {
        (Some((_, settings)), Some(n)) => {
            *settings = option_settings(ctx, resource, app, n).await?
        }
        (None, Some(_)) => {
            // Not ours: is the name held elsewhere? (A terminating holder frees it soon.)
            state.foreign = holders?
                .into_iter()
                .find(|e| e.application_name() != Some(app) && !is_gone(e.status()));
        }
        _ => {}
    }
    Ok(state)
}

fn settings_json(settings: &[ConfigurationOptionSetting]) -> Value {
    Value::Array(
        settings
            .iter()
            .map(|s| json!({ "Namespace": s.namespace(), "OptionName": s.option_name(), "Value": s.value() }))
            .collect(),
    )
}

fn env_outputs(env: &EnvironmentDescription) -> Map<String, Value> {
    into_map(json!({
        "environment_name": env.environment_name(),
        "environment_id": env.environment_id(),
        "cname": env.cname(),
        "id": env.environment_id().or(env.environment_name()),
    }))
}

fn status_word(env: &EnvironmentDescription) -> String {
    env.status()
        .map_or("unknown", EnvironmentStatus::as_str)
        .to_string()
}

/// Every environment property any step of the plan sets, as (namespace, name).
fn wanted_properties(plan: &Plan) -> BTreeSet<(String, String)> {
    plan.steps
        .iter()
        .flat_map(|s| {
            s.params
                .get("OptionSettings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|o| {
            let ns = o.get("Namespace")?.as_str()?;
            let name = o.get("OptionName")?.as_str()?;
            ns.starts_with(ENV_PROPERTIES)
                .then(|| (ns.to_string(), name.to_string()))
        })
        .collect()
}

/// Environment properties set on the environment that no step of the plan wants any more.
fn properties_to_remove(
    current: &[ConfigurationOptionSetting],
    wanted: &BTreeSet<(String, String)>,
) -> Value {
    Value::Array(
        current
            .iter()
            .filter_map(|s| {
                let (ns, name) = (s.namespace()?, s.option_name()?);
                (ns.starts_with(ENV_PROPERTIES)
                    && !wanted.contains(&(ns.to_string(), name.to_string())))
                .then(|| json!({ "Namespace": ns, "OptionName": name }))
            })
            .collect(),
    )
}

pub async fn refresh(ctx: &Ctx, plan: &Plan) -> Result<Snapshot, DeployError> {
    let mut snap = Snapshot::default();
    let steps = Steps::of(plan);
    let Some(app_step) = steps.app else {
        return Ok(snap);
    };
    let app_name = params::str(&app_step.params, "ApplicationName").to_string();
    let label = steps
        .version
        .map(|s| params::str(&s.params, "VersionLabel").to_string());
    let env_name = steps
        .env
        .map(|s| params::str(&s.params, "EnvironmentName").to_string());
    let env_resource = steps.env.map_or_else(
        || format!("environments of {app_name}"),
        |s| s.resource.clone(),
    );

    // Independent reads, at the same time.
    let (app, version, platform, envs) = tokio::join!(
        read_app(ctx, &app_name),
        async {
            match &label {
                Some(l) => read_version(ctx, &app_name, l).await,
                None => Ok(None),
            }
        },
        async {
            match steps.platform {
                Some(s) => newest_platform(ctx, &s.resource, &s.params).await,
                None => Ok(None),
            }
        },
        read_environments(ctx, &app_name, env_name.as_deref(), &env_resource),
    );
    let (app, version, platform, envs) = (app?, version?, platform?, envs?);

    if let (Some(step), Some(arn)) = (steps.platform, platform) {
        snap.found.insert(
            step.id.clone(),
            Found::new(json!({}), json!({ "platform_arn": arn })),
        );
    }
    if let (Some(step), Some(foreign)) = (steps.env, &envs.foreign) {
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
    let Some(app) = app else { return Ok(snap) };
    if !app.ours {
        snap.conflicts.push(Conflict {
            step: app_step.id.clone(),
            resource: app_step.resource.clone(),
            why: format!("an application with this name already exists and is not tagged `stackc:stack = {}`", ctx.stack),
        });
        return Ok(snap);
    }
    snap.found.insert(
        app_step.id.clone(),
        Found::new(
            json!({ "ApplicationName": app_name }),
            json!({ "application_name": app_name, "arn": app.arn, "id": app_name }),
        ),
    );

    if let (Some(step), Some(v)) = (steps.version, &version) {
        let label = v.version_label().unwrap_or_default();
        let bucket = v.source_bundle().and_then(S3Location::s3_bucket);
        let key = v.source_bundle().and_then(S3Location::s3_key);
        let mut found = Found::new(
            json!({
                "ApplicationName": app_name,
                "VersionLabel": label,
                "SourceBundle": { "S3Bucket": bucket, "S3Key": key },
            }),
            json!({ "version_label": label, "id": label }),
        );
        // Only an unfinished or failed version needs the executor's attention.
        found.status = match version_state(v.status()) {
            VersionState::Done => None,
            VersionState::Pending(s) | VersionState::Failed(s) => Some(s),
        };
        snap.found.insert(step.id.clone(), found);
        // The label is the bundle's hash: this version's bundle is the plan's.
        if let (Some(bundle), Some(bucket), Some(key)) = (steps.bundle, bucket, key) {
            snap.found.insert(
                bundle.id.clone(),
                Found::new(
                    json!({ "Bucket": bucket, "Key": key }),
                    json!({ "bucket": bucket, "key": key, "id": format!("{bucket}/{key}") }),
                ),
            );
        }
    }

    if let Some((env, settings)) = &envs.ours {
        let options = settings_json(settings);
        let status = status_word(env);
        if let Some(step) = steps.env {
            let mut found = Found::new(
                json!({
                    "ApplicationName": env.application_name(),
                    "EnvironmentName": env.environment_name(),
                    "PlatformArn": env.platform_arn(),
                    "VersionLabel": env.version_label(),
                    "OptionSettings": options,
                    // Not a parameter of the create call: what an update of this step removes.
                    "OptionsToRemove": properties_to_remove(settings, &wanted_properties(plan)),
                }),
                json!({}),
            )
            .with_status(&status);
            found.outputs = env_outputs(env);
            snap.found.insert(step.id.clone(), found);
        }
        if let Some(step) = steps.stores {
            let mut found = Found::new(
                json!({ "EnvironmentName": env.environment_name(), "OptionSettings": options }),
                json!({}),
            )
            .with_status(&status);
            found.outputs = env_outputs(env);
            snap.found.insert(step.id.clone(), found);
        }
    }
    for env in &envs.others {
        let name = env.environment_name().unwrap_or_default();
        snap.orphans.push(Orphan {
            action: CREATE_ENV.into(),
            id: env.environment_id().unwrap_or(name).to_string(),
            resource: format!("environment {name}"),
        });
    }
    Ok(snap)
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// The resolved values of the step's options that are secrets (`{"secret": VAR}` in the plan).
fn secret_values(step: &Step, p: &Value) -> Vec<String> {
    let raw = step.params.get("OptionSettings").and_then(Value::as_array);
    let resolved = p.get("OptionSettings").and_then(Value::as_array);
    let (Some(raw), Some(resolved)) = (raw, resolved) else {
        return Vec::new();
    };
    raw.iter()
        .zip(resolved)
        .filter(|(r, _)| r.get("Value").and_then(|v| v.get("secret")).is_some())
        .filter_map(|(_, v)| {
            v.get("Value")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .collect()
}

/// Removes secret values from a message that AWS may have built from the request.
fn scrub(message: &str, secrets: &[String]) -> String {
    secrets.iter().fold(message.to_string(), |m, s| {
        m.replace(s.as_str(), "(sensitive)")
    })
}

fn scrubbed(mut e: DeployError, secrets: &[String]) -> DeployError {
    e.message = scrub(&e.message, secrets);
    e
}

// ---------------------------------------------------------------------------------------------
// Options

fn value_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn option_key(o: &Value) -> (String, String) {
    (
        params::str(o, "Namespace").to_string(),
        params::str(o, "OptionName").to_string(),
    )
}

/// The desired options whose value differs from the current one (all of them without a
/// current state).
fn changed_options(desired: &Value, current: Option<&Value>) -> Vec<Value> {
    let current: Vec<&Value> = current
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    desired
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| {
            let key = option_key(o);
            let want = value_str(&o["Value"]);
            !current
                .iter()
                .any(|c| option_key(c) == key && value_str(&c["Value"]) == want)
        })
        .cloned()
        .collect()
}

fn to_settings(options: &[Value]) -> Vec<ConfigurationOptionSetting> {
    options
        .iter()
        .map(|o| {
            ConfigurationOptionSetting::builder()
                .namespace(params::str(o, "Namespace"))
                .option_name(params::str(o, "OptionName"))
                .value(value_str(&o["Value"]))
                .build()
        })
        .collect()
}

fn to_specs(options: &[Value]) -> Vec<OptionSpecification> {
    options
        .iter()
        .map(|o| {
            OptionSpecification::builder()
                .namespace(params::str(o, "Namespace"))
                .option_name(params::str(o, "OptionName"))
                .build()
        })
        .collect()
}

fn eb_tags(step: &Step) -> Vec<Tag> {
    params::tags(&step.params)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Errors

fn message_has<E: ProvideErrorMetadata>(e: &E, code: &str, needles: &[&str]) -> bool {
    let msg = e.message().unwrap_or_default().to_ascii_lowercase();
    error_code(e) == Some(code) && needles.iter().any(|n| msg.contains(n))
}

/// "Environment named X is in an invalid state for this operation. Must be Ready."
fn not_ready<E: ProvideErrorMetadata>(e: &E) -> bool {
    message_has(e, "InvalidParameterValue", &["invalid state"])
}

/// "No Environment found for EnvironmentId = 'e-...'."
fn no_environment<E: ProvideErrorMetadata>(e: &E) -> bool {
    message_has(e, "InvalidParameterValue", &["no environment found"])
}

/// CreateEnvironment naming a role or instance profile IAM has not shown to Elastic Beanstalk
/// yet: "The instance profile X associated with the environment does not exist.", "Invalid
/// IamInstanceProfile", "Role ... is invalid or cannot be assumed".
fn iam_not_visible<E: ProvideErrorMetadata>(e: &E) -> bool {
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

// ---------------------------------------------------------------------------------------------
// Waiters

fn transitional(status: Option<&str>) -> bool {
    !matches!(status, None | Some("Ready"))
}

/// Waits until the environment is `Ready`; `Launching`, `Updating` and the like are waited
/// for, `Terminating` or `Terminated` fail.
async fn wait_ready(
    ctx: &Ctx,
    step: &str,
    resource: &str,
    target: Target<'_>,
) -> Result<EnvironmentDescription, DeployError> {
    wait::until(
        ctx,
        step,
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

/// Waits until the environment is gone.
async fn wait_terminated(
    ctx: &Ctx,
    step: &str,
    resource: &str,
    target: Target<'_>,
) -> Result<(), DeployError> {
    wait::until(
        ctx,
        step,
        resource,
        ctx.timing.environment_timeout,
        || async {
            let envs = describe_envs(ctx, resource, None, Some(target), false).await?;
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

/// Elastic Beanstalk reports what went wrong in an operation (an image that cannot be pulled,
/// an option value it rejected and rolled back) as events of that request; an environment can
/// be `Ready` after a failed update. This fails with those events' messages.
async fn check_events(
    ctx: &Ctx,
    resource: &str,
    env: &str,
    request_id: Option<&str>,
    secrets: &[String],
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
    let errors: Vec<String> = r
        .events()
        .iter()
        .filter(|e| {
            matches!(
                e.severity(),
                Some(EventSeverity::Error | EventSeverity::Fatal)
            )
        })
        .filter(|e| e.request_id().is_none_or(|id| id == request_id))
        .filter_map(|e| e.message().map(|m| scrub(m, secrets)))
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(DeployError::other(
        resource,
        format!("Elastic Beanstalk reported errors: {}", errors.join("; ")),
    ))
}

// ---------------------------------------------------------------------------------------------
// Run

pub async fn run(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    let eb = &ctx.clients.eb;
    let resource = step.resource.as_str();
    match step.action.as_str() {
        CREATE_APP => {
            if let (Op::Keep | Op::Update | Op::Replace, Some(f)) = (op, found) {
                // Nothing of an application changes in place here (its description is ours).
                return Ok(f.outputs.clone());
            }
            let name = params::str(p, "ApplicationName");
            let r = eb
                .create_application()
                .application_name(name)
                .set_description(params::opt_str(p, "Description"))
                .set_tags(Some(eb_tags(step)))
                .send()
                .await
                .map_err(|e| aws_error(resource, "CreateApplication", &e))?;
            let arn = r.application().and_then(|a| a.application_arn());
            Ok(into_map(
                json!({ "application_name": name, "arn": arn, "id": name }),
            ))
        }
        STORAGE => {
            // Creates Elastic Beanstalk's bucket for the region if it does not exist yet, and
            // names it; the same bucket every time.
            let r = eb
                .create_storage_location()
                .send()
                .await
                .map_err(|e| aws_error(resource, "CreateStorageLocation", &e))?;
            Ok(into_map(json!({ "s3_bucket": r.s3_bucket() })))
        }
        PUT_BUNDLE => {
            if let (Op::Keep, Some(f)) = (op, found) {
                return Ok(f.outputs.clone());
            }
            upload_bundle(ctx, step, p).await
        }
        CREATE_VERSION => version(ctx, step, op, p, found).await,
        PLATFORMS => {
            if let Some(f) = found {
                return Ok(f.outputs.clone());
            }
            match newest_platform(ctx, resource, p).await? {
                Some(arn) => Ok(into_map(json!({ "platform_arn": arn }))),
                None => Err(DeployError::other(
                    resource,
                    format!(
                        "no Elastic Beanstalk platform version in {} matches the filters {}",
                        ctx.region,
                        p.get("Filters").unwrap_or(&Value::Null)
                    ),
                )),
            }
        }
        CREATE_ENV => environment(ctx, step, op, p, found).await,
        UPDATE_ENV => store_options(ctx, step, op, p, found).await,
        other => Err(DeployError::other(
            resource,
            format!("no executor for {other}"),
        )),
    }
}

/// The source bundle: a zip holding `Dockerrun.aws.json`, byte-identical for the same content
/// (fixed timestamp 1980-01-01 00:00, fixed permissions, fixed compression level).
pub(crate) fn bundle_zip(dockerrun: &str) -> Result<Vec<u8>, String> {
    use zip::write::SimpleFileOptions;
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(DOCKERRUN, options)
        .map_err(|e| e.to_string())?;
    w.write_all(dockerrun.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(w.finish().map_err(|e| e.to_string())?.into_inner())
}

async fn upload_bundle(
    ctx: &Ctx,
    step: &Step,
    p: &Value,
) -> Result<Map<String, Value>, DeployError> {
    let resource = step.resource.as_str();
    let files = params::strings(&p["Body"], "zip");
    if files.iter().any(|f| f != DOCKERRUN) {
        return Err(DeployError::other(
            resource,
            format!("the bundle can only hold {DOCKERRUN}, not {files:?}"),
        ));
    }
    let body = bundle_zip(&ctx.dockerrun)
        .map_err(|e| DeployError::other(resource, format!("cannot build the zip: {e}")))?;
    let (bucket, key) = (params::str(p, "Bucket"), params::str(p, "Key"));
    ctx.clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/zip")
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| aws_error(resource, "PutObject", &e))?;
    Ok(into_map(
        json!({ "bucket": bucket, "key": key, "id": format!("{bucket}/{key}") }),
    ))
}

/// Where an application version's processing stands.
enum VersionState {
    /// Processed, or not to be processed (`Unprocessed`), or no status reported: usable.
    Done,
    Pending(String),
    Failed(String),
}

/// AWS documents `Processed`, `Processing`, ...; some implementations send `PROCESSED`, so
/// the word is compared without case.
fn version_state(status: Option<&ApplicationVersionStatus>) -> VersionState {
    let Some(s) = status else {
        return VersionState::Done;
    };
    let word = s.as_str().to_string();
    match word.to_ascii_lowercase().as_str() {
        "processed" | "unprocessed" => VersionState::Done,
        "failed" => VersionState::Failed(word),
        _ => VersionState::Pending(word),
    }
}

async fn version(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    let resource = step.resource.as_str();
    let app = params::str(p, "ApplicationName");
    let label = params::str(p, "VersionLabel");
    let outputs = into_map(json!({ "version_label": label, "id": label }));
    let mut status = found.and_then(|f| f.status.clone());
    if op == Op::Create || found.is_none() {
        let bundle = S3Location::builder()
            .s3_bucket(params::str(&p["SourceBundle"], "S3Bucket"))
            .s3_key(params::str(&p["SourceBundle"], "S3Key"))
            .build();
        match ctx
            .clients
            .eb
            .create_application_version()
            .application_name(app)
            .version_label(label)
            .source_bundle(bundle)
            .process(params::bool(p, "Process").unwrap_or(true))
            .set_tags(Some(eb_tags(step)))
            .send()
            .await
        {
            Ok(r) => {
                status = r
                    .application_version()
                    .and_then(|v| v.status())
                    .map(|s| s.as_str().to_string())
            }
            // The label is the bundle's hash: an existing version is this bundle (an apply
            // interrupted after creating it, or the SDK retrying a create that went through).
            Err(e) if message_has(&e, "InvalidParameterValue", &["already exists"]) => {
                status = Some("Processing".into())
            }
            Err(e) => return Err(aws_error(resource, "CreateApplicationVersion", &e)),
        }
    }
    if matches!(
        version_state(
            status
                .as_deref()
                .map(ApplicationVersionStatus::from)
                .as_ref()
        ),
        VersionState::Done
    ) {
        return Ok(outputs);
    }
    wait::until(ctx, &step.id, resource, ctx.timing.environment_timeout, || async {
        Ok(match read_version(ctx, app, label).await? {
            None => Poll::Failed("deleted".into()),
            Some(v) => match version_state(v.status()) {
                VersionState::Done => Poll::Ready(()),
                VersionState::Pending(s) => Poll::Pending(s),
                VersionState::Failed(s) => Poll::Failed(format!(
                    "{s}: Elastic Beanstalk could not process the source bundle; see `aws elasticbeanstalk describe-events`, \
                     then delete this version and apply again"
                )),
            },
        })
    })
    .await?;
    Ok(outputs)
}

/// What one UpdateEnvironment call changes.
enum Change<'a> {
    Options {
        set: &'a [Value],
        remove: &'a [Value],
    },
    Version(&'a str),
}

/// UpdateEnvironment; an environment busy with another operation is waited for first.
/// Returns the request id (for its events).
async fn update_environment(
    ctx: &Ctx,
    step: &Step,
    name: &str,
    change: Change<'_>,
    secrets: &[String],
) -> Result<Option<String>, DeployError> {
    let resource = step.resource.as_str();
    let start = Instant::now();
    loop {
        let req = ctx.clients.eb.update_environment().environment_name(name);
        let req = match &change {
            Change::Options { set, remove } => req
                .set_option_settings(Some(to_settings(set)))
                .set_options_to_remove(Some(to_specs(remove))),
            Change::Version(label) => req.version_label(*label),
        };
        match req.send().await {
            Ok(r) => return Ok(r.request_id().map(str::to_string)),
            Err(e) if not_ready(&e) && start.elapsed() < ctx.timing.environment_timeout => {
                wait_ready(ctx, &step.id, resource, Target::Name(name)).await?;
            }
            Err(e) => {
                return Err(scrubbed(
                    aws_error(resource, "UpdateEnvironment", &e),
                    secrets,
                ));
            }
        }
    }
}

/// CreateEnvironment, waiting out IAM's propagation delay and a namesake still terminating.
async fn create_environment(
    ctx: &Ctx,
    step: &Step,
    p: &Value,
    secrets: &[String],
) -> Result<Option<String>, DeployError> {
    let resource = step.resource.as_str();
    let name = params::str(p, "EnvironmentName");
    let app = params::str(p, "ApplicationName");
    let options: Vec<Value> = p
        .get("OptionSettings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let start = Instant::now();
    let mut pause = ctx.timing.poll_first;
    loop {
        let r = ctx
            .clients
            .eb
            .create_environment()
            .application_name(app)
            .environment_name(name)
            .set_platform_arn(params::opt_str(p, "PlatformArn"))
            .set_version_label(params::opt_str(p, "VersionLabel"))
            .set_option_settings(Some(to_settings(&options)))
            .set_tags(Some(eb_tags(step)))
            .send()
            .await;
        match r {
            Ok(r) => return Ok(r.request_id().map(str::to_string)),
            // A waiter on IAM's eventual consistency, not a retry of failures: the role and
            // instance profile were created moments ago (same apply) and IAM has not shown them
            // to Elastic Beanstalk yet, which AWS documents can take a while. Only this error,
            // and only for as long as propagation plausibly takes.
            Err(e) if iam_not_visible(&e) && start.elapsed() < IAM_PROPAGATION => {
                ctx.progress
                    .status(&step.id, "waiting for IAM to propagate the roles");
                tokio::time::sleep(pause).await;
                pause = (pause * 3 / 2).min(ctx.timing.poll_max);
            }
            Err(e) if message_has(&e, "InvalidParameterValue", &["already exists"]) => {
                match describe_live(ctx, resource, Target::Name(name)).await? {
                    // Ours already: the SDK retried a create that went through.
                    Some(env) if env.application_name() == Some(app) && !is_gone(env.status()) => {
                        return Ok(None);
                    }
                    // A namesake terminating: the name is free once it is gone.
                    Some(env) if env.status() == Some(&EnvironmentStatus::Terminating) => {
                        wait_terminated(ctx, &step.id, resource, Target::Name(name)).await?;
                    }
                    None => {}
                    Some(_) => {
                        return Err(scrubbed(
                            aws_error(resource, "CreateEnvironment", &e),
                            secrets,
                        ));
                    }
                }
            }
            Err(e) => {
                return Err(scrubbed(
                    aws_error(resource, "CreateEnvironment", &e),
                    secrets,
                ));
            }
        }
    }
}

async fn environment(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    let resource = step.resource.as_str();
    let name = params::str(p, "EnvironmentName");
    let secrets = secret_values(step, p);
    let Some(f) = found.filter(|_| op != Op::Create) else {
        let request = create_environment(ctx, step, p, &secrets).await?;
        let env = wait_ready(ctx, &step.id, resource, Target::Name(name)).await?;
        check_events(ctx, resource, name, request.as_deref(), &secrets).await?;
        return Ok(env_outputs(&env));
    };
    let mut outputs = f.outputs.clone();
    if transitional(f.status.as_deref()) {
        outputs = env_outputs(&wait_ready(ctx, &step.id, resource, Target::Name(name)).await?);
    }
    if op == Op::Keep || op == Op::Read {
        return Ok(outputs);
    }
    // Configuration and version in separate calls: Elastic Beanstalk refuses both at once.
    let set = changed_options(&p["OptionSettings"], f.current.get("OptionSettings"));
    let remove: Vec<Value> = f
        .current
        .get("OptionsToRemove")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !set.is_empty() || !remove.is_empty() {
        let request = update_environment(
            ctx,
            step,
            name,
            Change::Options {
                set: &set,
                remove: &remove,
            },
            &secrets,
        )
        .await?;
        outputs = env_outputs(&wait_ready(ctx, &step.id, resource, Target::Name(name)).await?);
        check_events(ctx, resource, name, request.as_deref(), &secrets).await?;
    }
    let label = params::str(p, "VersionLabel");
    if !label.is_empty() && f.current.get("VersionLabel").and_then(Value::as_str) != Some(label) {
        let request = update_environment(ctx, step, name, Change::Version(label), &secrets).await?;
        outputs = env_outputs(&wait_ready(ctx, &step.id, resource, Target::Name(name)).await?);
        check_events(ctx, resource, name, request.as_deref(), &secrets).await?;
    }
    Ok(outputs)
}

/// `environment.stores`: the store endpoints as environment properties of the existing
/// environment.
async fn store_options(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    let resource = step.resource.as_str();
    let name = params::str(p, "EnvironmentName");
    let secrets = secret_values(step, p);
    let set = changed_options(
        &p["OptionSettings"],
        found.and_then(|f| f.current.get("OptionSettings")),
    );
    if op == Op::Keep || op == Op::Read || set.is_empty() {
        // An apply interrupted while the environment was busy: wait for it.
        let env = wait_ready(ctx, &step.id, resource, Target::Name(name)).await?;
        return Ok(env_outputs(&env));
    }
    if found.is_some_and(|f| transitional(f.status.as_deref())) {
        wait_ready(ctx, &step.id, resource, Target::Name(name)).await?;
    }
    let request = update_environment(
        ctx,
        step,
        name,
        Change::Options {
            set: &set,
            remove: &[],
        },
        &secrets,
    )
    .await?;
    let env = wait_ready(ctx, &step.id, resource, Target::Name(name)).await?;
    check_events(ctx, resource, name, request.as_deref(), &secrets).await?;
    Ok(env_outputs(&env))
}

// ---------------------------------------------------------------------------------------------
// Delete

/// Deletes the objects under `prefix` in `bucket`; a missing bucket is nothing to delete.
async fn delete_prefix(
    ctx: &Ctx,
    bucket: &str,
    prefix: &str,
    resource: &str,
) -> Result<(), DeployError> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let s3 = &ctx.clients.s3;
    let pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut keys = Vec::new();
    for page in pages {
        match page {
            Ok(page) => keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            ),
            Err(e) if error_code(&e) == Some("NoSuchBucket") => return Ok(()),
            Err(e) => return Err(aws_error(resource, "ListObjectsV2", &e)),
        }
    }
    // One DeleteObjects call deletes up to 1000 keys.
    for chunk in keys.chunks(1000) {
        let objects = chunk
            .iter()
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DeployError::other(resource, format!("invalid object key: {e}")))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| DeployError::other(resource, format!("invalid delete request: {e}")))?;
        let r = match s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) if error_code(&e) == Some("NoSuchBucket") => return Ok(()),
            Err(e) => return Err(aws_error(resource, "DeleteObjects", &e)),
        };
        if let Some(err) = r.errors().iter().find(|e| e.code() != Some("NoSuchKey")) {
            return Err(DeployError {
                resource: resource.to_string(),
                call: "DeleteObjects".into(),
                code: err.code().unwrap_or("Error").to_string(),
                message: format!(
                    "{}: {}",
                    err.key().unwrap_or_default(),
                    err.message().unwrap_or_default()
                ),
            });
        }
    }
    Ok(())
}

/// The prefix under which the stack's bundles are uploaded (`stackc/<stack>/`).
fn bundle_prefix(stack: &str) -> String {
    format!("stackc/{stack}/")
}

async fn terminate(ctx: &Ctx, action: &str, id: &str, resource: &str) -> Result<(), DeployError> {
    let key = format!("destroy:{id}:{action}");
    let target = Target::of(id);
    let start = Instant::now();
    loop {
        let req = ctx.clients.eb.terminate_environment();
        let req = match target {
            Target::Id(id) => req.environment_id(id),
            Target::Name(n) => req.environment_name(n),
        };
        match req.send().await {
            Ok(_) => break,
            Err(e) if no_environment(&e) => return Ok(()),
            // Busy (launching, updating) or already terminating.
            Err(e) if not_ready(&e) && start.elapsed() < ctx.timing.environment_timeout => {
                match describe_live(ctx, resource, target).await? {
                    None => return Ok(()),
                    Some(env) if is_gone(env.status()) => break,
                    Some(_) => {
                        wait_ready(ctx, &key, resource, target).await?;
                    }
                }
            }
            Err(e) => return Err(aws_error(resource, "TerminateEnvironment", &e)),
        }
    }
    wait_terminated(ctx, &key, resource, target).await
}

pub async fn delete(ctx: &Ctx, action: &str, id: &str, resource: &str) -> Result<(), DeployError> {
    let eb = &ctx.clients.eb;
    match action {
        CREATE_ENV => terminate(ctx, action, id, resource).await,
        CREATE_VERSION => {
            match eb
                .delete_application_version()
                .application_name(&ctx.stack)
                .version_label(id)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                // "No Application Version named ...", "No Application named ...".
                Err(e) if message_has(&e, "InvalidParameterValue", &["no application"]) => Ok(()),
                Err(e) => Err(aws_error(resource, "DeleteApplicationVersion", &e)),
            }
        }
        PUT_BUNDLE => match id.split_once('/') {
            Some((bucket, _)) => {
                delete_prefix(ctx, bucket, &bundle_prefix(&ctx.stack), resource).await
            }
            None => Ok(()),
        },
        CREATE_APP => {
            // The stack's bundles, wherever its versions say they are: Elastic Beanstalk's
            // bucket is found without creating anything.
            let versions = match eb
                .describe_application_versions()
                .application_name(id)
                .send()
                .await
            {
                Ok(r) => r.application_versions().to_vec(),
                Err(e) => return Err(aws_error(resource, "DescribeApplicationVersions", &e)),
            };
            let prefix = bundle_prefix(&ctx.stack);
            let buckets: BTreeSet<&str> = versions
                .iter()
                .filter_map(|v| v.source_bundle())
                .filter(|b| b.s3_key().is_some_and(|k| k.starts_with(&prefix)))
                .filter_map(S3Location::s3_bucket)
                .collect();
            for bucket in buckets {
                delete_prefix(ctx, bucket, &prefix, resource).await?;
            }
            match eb
                .delete_application()
                .application_name(id)
                .terminate_env_by_force(false)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if message_has(&e, "InvalidParameterValue", &["no application"]) => Ok(()),
                Err(e) => Err(aws_error(resource, "DeleteApplication", &e)),
            }
        }
        // The store endpoints go with the environment; the lookups own nothing.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn the_bundle_is_deterministic_and_readable() {
        let doc = r#"{"AWSEBDockerrunVersion":2,"containerDefinitions":[]}"#;
        let a = bundle_zip(doc).expect("zip");
        let b = bundle_zip(doc).expect("zip");
        assert_eq!(a, b, "same content, same bytes");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(a)).expect("a valid zip");
        assert_eq!(archive.len(), 1);
        let mut file = archive
            .by_name(DOCKERRUN)
            .expect("Dockerrun.aws.json inside");
        assert_eq!(file.unix_mode(), Some(0o100644));
        let t = file.last_modified().expect("a timestamp");
        assert_eq!(
            (t.year(), t.month(), t.day(), t.hour(), t.minute()),
            (1980, 1, 1, 0, 0)
        );
        let mut text = String::new();
        file.read_to_string(&mut text).expect("readable");
        assert_eq!(text, doc);
        assert_ne!(
            bundle_zip("{}").expect("zip"),
            bundle_zip(doc).expect("zip")
        );
    }

    #[test]
    fn platform_versions_compare_numerically() {
        assert!(version_key("4.10.0") > version_key("4.9.3"));
        assert!(version_key("4.4.0") > version_key("4.3.1"));
        assert_eq!(version_key("4.4"), vec![4, 4]);
    }

    fn opt(ns: &str, name: &str, v: Value) -> Value {
        json!({ "Namespace": ns, "OptionName": name, "Value": v })
    }

    #[test]
    fn only_changed_options_are_sent() {
        let lc = "aws:autoscaling:launchconfiguration";
        let desired = json!([
            opt(lc, "InstanceType", json!("t3.small")),
            opt(lc, "SecurityGroups", json!("sg-1")),
            opt(ENV_PROPERTIES, "PORT", json!(5432))
        ]);
        let current = json!([
            opt(lc, "InstanceType", json!("t3.micro")),
            opt(lc, "SecurityGroups", json!("sg-1")),
            opt(ENV_PROPERTIES, "PORT", json!("5432"))
        ]);
        let changed = changed_options(&desired, Some(&current));
        assert_eq!(changed, vec![opt(lc, "InstanceType", json!("t3.small"))]);
        assert_eq!(changed_options(&desired, None).len(), 3);
        let settings = to_settings(&changed_options(&desired, None));
        assert_eq!(
            settings[2].value(),
            Some("5432"),
            "numbers are sent as EB's strings"
        );
    }

    #[test]
    fn unwanted_properties_are_removed_and_others_kept() {
        let setting = |ns: &str, name: &str| {
            ConfigurationOptionSetting::builder()
                .namespace(ns)
                .option_name(name)
                .value("x")
                .build()
        };
        let current = vec![
            setting("aws:autoscaling:launchconfiguration", "InstanceType"),
            setting(ENV_PROPERTIES, "KEEP"),
            setting(ENV_PROPERTIES, "OLD"),
            setting(
                "aws:elasticbeanstalk:application:environmentsecrets",
                "OLD_SECRET",
            ),
        ];
        let wanted: BTreeSet<(String, String)> =
            [(ENV_PROPERTIES.to_string(), "KEEP".to_string())].into();
        assert_eq!(
            properties_to_remove(&current, &wanted),
            json!([
                { "Namespace": ENV_PROPERTIES, "OptionName": "OLD" },
                { "Namespace": "aws:elasticbeanstalk:application:environmentsecrets", "OptionName": "OLD_SECRET" },
            ])
        );
    }

    #[test]
    fn secrets_are_found_and_scrubbed() {
        let step = Step {
            id: "environment".into(),
            action: CREATE_ENV.into(),
            resource: "environment e".into(),
            depends_on: Vec::new(),
            params: json!({ "OptionSettings": [
                opt(ENV_PROPERTIES, "PLAIN", json!("visible")),
                opt(ENV_PROPERTIES, "API_KEY", json!({ "secret": "API_KEY" })),
            ] }),
        };
        let resolved = json!({ "OptionSettings": [opt(ENV_PROPERTIES, "PLAIN", json!("visible")), opt(ENV_PROPERTIES, "API_KEY", json!("hunter2-secret"))] });
        let secrets = secret_values(&step, &resolved);
        assert_eq!(secrets, vec!["hunter2-secret".to_string()]);
        let e = scrubbed(
            DeployError::other(
                "environment e",
                "Invalid option value: 'hunter2-secret' (visible)",
            ),
            &secrets,
        );
        assert_eq!(e.message, "Invalid option value: '(sensitive)' (visible)");
    }

    #[test]
    fn version_states_ignore_case() {
        let st = |s: &str| version_state(Some(&ApplicationVersionStatus::from(s)));
        assert!(matches!(st("Processed"), VersionState::Done));
        assert!(matches!(st("PROCESSED"), VersionState::Done));
        assert!(matches!(st("Unprocessed"), VersionState::Done));
        assert!(matches!(version_state(None), VersionState::Done));
        assert!(matches!(st("PROCESSING"), VersionState::Pending(w) if w == "PROCESSING"));
        assert!(matches!(st("Building"), VersionState::Pending(_)));
        assert!(matches!(st("Failed"), VersionState::Failed(_)));
    }

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
}
