//! The health gate: after every operation that starts the environment's tasks (a creation, a
//! deployment, a configuration change, a restart), apply waits for the environment to be
//! `Ready` **and** healthy. The ECS platform does not roll back a task that fails to start
//! (AWS, "Failed container deployments"): a Ready environment can be Red with nothing running.
//!
//! Healthy is enhanced health's Green (`Ok` or `Info`); Red, or the statuses `Severe` and
//! `Degraded`, is a failure, as is any other color still there when the health timeout ends
//! (AWS, "Enhanced health colors and statuses"). A failure is reported with the environment's
//! causes (DescribeEnvironmentHealth), each instance's causes and failed deployment
//! (DescribeInstancesHealth), and the warning and error events since the operation began.

use std::sync::Mutex;
use std::time::SystemTime;

use aws_sdk_elasticbeanstalk::types::{
    EnvironmentDescription, EnvironmentHealth, EnvironmentHealthAttribute, EventSeverity,
    InstancesHealthAttribute,
};
use aws_smithy_types::DateTime;

use super::calls::*;
use crate::deploy::aws::wait::{self, Poll};
use crate::deploy::aws::{Ctx, DeployError, StepRef, aws_error};

/// What the gate saw.
pub(crate) enum Health {
    Healthy(Box<EnvironmentDescription>),
    /// Not healthy: in words, for people (color and status, causes, events).
    Failed(String),
}

/// Where an environment's health stands.
enum Color {
    Healthy,
    Failed,
    Waiting,
}

fn color(env: &EnvironmentDescription) -> (Color, String) {
    let word = format!(
        "{}{}",
        env.health().map_or("no health", EnvironmentHealth::as_str),
        env.health_status()
            .map_or(String::new(), |s| format!(" ({})", s.as_str()))
    );
    let status = env.health_status().map(|s| s.as_str());
    let c = match (env.health(), status) {
        (_, Some("Severe" | "Degraded")) | (Some(EnvironmentHealth::Red), _) => Color::Failed,
        (Some(EnvironmentHealth::Green), None | Some("Ok" | "Info")) => Color::Healthy,
        _ => Color::Waiting,
    };
    (c, word)
}

/// The moment an operation begins, for its events (a second early: clocks differ).
pub(crate) fn now() -> DateTime {
    DateTime::from(SystemTime::now() - std::time::Duration::from_secs(1))
}

/// Waits until `name` is Ready and its health settles: Green passes, Red fails, and anything
/// else is waited for until the health timeout. `request` is the operation's request id
/// (its error events fail the gate even when the environment is Green: Elastic Beanstalk
/// rolls back an option it refused), `since` when it began.
pub(crate) async fn gate(
    ctx: &Ctx,
    step: &StepRef<'_>,
    name: &str,
    request: Option<&str>,
    since: DateTime,
) -> Result<Health, DeployError> {
    let ready = wait_ready(ctx, step.id, step.resource, Target::Name(name)).await?;
    // The first look is the Ready answer itself: no call more when it is already settled.
    let first = Mutex::new(Some(ready));
    let seen = wait::until(
        ctx,
        step.id,
        step.resource,
        ctx.timing.health_timeout,
        || async {
            let seen = first.lock().unwrap_or_else(|p| p.into_inner()).take();
            let env = match seen {
                Some(env) => Some(env),
                None => describe_live(ctx, step.resource, Target::Name(name)).await?,
            };
            let Some(env) = env else {
                return Ok(Poll::Failed("Terminated".into()));
            };
            Ok(match color(&env) {
                (Color::Healthy, _) => Poll::Ready(Ok(Box::new(env))),
                (Color::Failed, word) => Poll::Ready(Err(word)),
                (Color::Waiting, word) => Poll::Pending(format!("Ready, health {word}")),
            })
        },
    )
    .await;
    let failed = match seen {
        Ok(Ok(env)) => {
            check_events(ctx, step.resource, name, request).await?;
            return Ok(Health::Healthy(env));
        }
        Ok(Err(word)) => word,
        // Still not settled when the health timeout ended.
        Err(e) => e.message,
    };
    Ok(Health::Failed(
        report(ctx, step, name, &failed, since).await?,
    ))
}

/// An environment's health as Elastic Beanstalk explains it.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Causes {
    /// DescribeEnvironmentHealth's causes.
    pub environment: Vec<String>,
    pub instances: Vec<InstanceHealth>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct InstanceHealth {
    pub id: String,
    pub health: String,
    pub causes: Vec<String>,
    /// The version it runs or failed to run, and that deployment's status.
    pub deployment: Option<(String, String)>,
}

/// DescribeEnvironmentHealth and DescribeInstancesHealth, at once.
pub(crate) async fn causes(ctx: &Ctx, resource: &str, name: &str) -> Result<Causes, DeployError> {
    let eb = &ctx.clients.eb;
    let (env, instances) = tokio::join!(
        eb.describe_environment_health()
            .environment_name(name)
            .attribute_names(EnvironmentHealthAttribute::All)
            .send(),
        eb.describe_instances_health()
            .environment_name(name)
            .attribute_names(InstancesHealthAttribute::All)
            .send(),
    );
    let env = env.map_err(|e| aws_error(resource, "DescribeEnvironmentHealth", &e))?;
    let instances = instances.map_err(|e| aws_error(resource, "DescribeInstancesHealth", &e))?;
    Ok(Causes {
        environment: env.causes().to_vec(),
        instances: instances
            .instance_health_list()
            .iter()
            .map(|i| InstanceHealth {
                id: i.instance_id().unwrap_or_default().to_string(),
                health: i.health_status().unwrap_or_default().to_string(),
                causes: i.causes().to_vec(),
                deployment: i.deployment().map(|d| {
                    (
                        d.version_label().unwrap_or_default().to_string(),
                        d.status().unwrap_or_default().to_string(),
                    )
                }),
            })
            .collect(),
    })
}

/// The causes and events of an environment that is not healthy, in lines.
async fn report(
    ctx: &Ctx,
    step: &StepRef<'_>,
    name: &str,
    health: &str,
    since: DateTime,
) -> Result<String, DeployError> {
    let events = ctx
        .clients
        .eb
        .describe_events()
        .environment_name(name)
        .start_time(since)
        .severity(EventSeverity::Warn)
        .max_records(20)
        .send();
    let (causes, events) = tokio::join!(causes(ctx, step.resource, name), events);
    let causes = causes?;
    let events = events.map_err(|e| aws_error(step.resource, "DescribeEvents", &e))?;
    let mut lines = vec![format!("environment {name} is not healthy: {health}")];
    lines.extend(causes.environment.iter().map(|c| format!("  cause: {c}")));
    for i in &causes.instances {
        lines.extend(i.causes.iter().map(|c| format!("  {}: {c}", i.id)));
        if let Some((label, _)) = i
            .deployment
            .as_ref()
            .filter(|(_, status)| status == "Failed")
        {
            lines.push(format!("  {}: deployment of {label} failed", i.id));
        }
    }
    // Oldest first, as they happened.
    let mut events: Vec<_> = events.events().iter().collect();
    events.sort_by_key(|e| e.event_date().map(|d| (d.secs(), d.subsec_nanos())));
    for e in events {
        lines.push(format!(
            "  event {}: {}",
            e.severity().map_or("?", |s| s.as_str()),
            e.message().unwrap_or_default()
        ));
    }
    Ok(lines.join("\n"))
}
