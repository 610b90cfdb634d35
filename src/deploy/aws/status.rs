//! Day two: `stackc status` (one screen: the environment's status and health with its causes,
//! its instances, the version it runs with its images, each data store, the URL) and the
//! version history and rollback of `stackc rollback`. Reads in two rounds at most: everything
//! the program names at once, then the bundle of the running version (its images).

use serde::Serialize;

use super::{Ctx, DeployError, StepRef};
use crate::deploy::resources::app_version::{VersionInfo, versions};
use crate::deploy::resources::application::Application;
use crate::deploy::resources::bundle::images;
use crate::deploy::resources::cache::{CacheCluster, ReplicationGroup, observe_cache};
use crate::deploy::resources::db_instance::{DbInstance, observe_db};
use crate::deploy::resources::environment::{
    Causes, Environment, causes, deploy_version, describe_by_name,
};
use crate::lower::Plan;

/// A data store as it is.
#[derive(Clone, Debug, Serialize)]
pub struct StoreState {
    pub resource: String,
    pub status: String,
    pub engine_version: String,
    /// Deletion protection (RDS); None where the store has none.
    pub protected: Option<bool>,
    pub endpoint: Option<String>,
}

impl StoreState {
    /// Serving: nothing in a failed or transitional state.
    pub fn usable(&self) -> bool {
        matches!(
            self.status.as_str(),
            "available" | "backing-up" | "snapshotting" | "storage-optimization"
        )
    }
}

/// The running version.
#[derive(Clone, Debug, Serialize)]
pub struct Running {
    pub label: String,
    /// When the version was created (RFC 3339), if AWS says.
    pub created: Option<String>,
    /// Container → image, from the version's bundle.
    pub images: Vec<(String, String)>,
}

/// What `stackc status` shows.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub stack: String,
    pub environment: String,
    /// AWS's status (`Ready`, `Updating`, ...); None when the environment does not exist.
    pub status: Option<String>,
    pub health: Option<String>,
    pub health_status: Option<String>,
    pub causes: Causes,
    pub url: Option<String>,
    pub running: Option<Running>,
    pub stores: Vec<StoreState>,
}

impl Status {
    pub fn deployed(&self) -> bool {
        self.status.is_some()
    }

    /// Ready, Green, and every store serving.
    pub fn healthy(&self) -> bool {
        self.status.as_deref() == Some("Ready")
            && self.health.as_deref() == Some("Green")
            && self.stores.iter().all(StoreState::usable)
    }
}

fn planned<R: crate::deploy::resources::Member>(
    plan: &Plan,
) -> impl Iterator<Item = (&crate::lower::Step, &R)> {
    plan.steps
        .iter()
        .filter_map(|s| s.desired_as::<R>().map(|d| (s, d)))
}

fn environment_of(plan: &Plan) -> Result<(&str, &str), DeployError> {
    let env = planned::<Environment>(plan)
        .next()
        .map(|(_, e)| e.name.as_str());
    let app = planned::<Application>(plan)
        .next()
        .map(|(_, a)| a.name.as_str());
    env.zip(app)
        .ok_or_else(|| DeployError::other("stackc", "the plan has no environment"))
}

fn rfc3339(d: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    d.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

/// Reads the status of the program's environment and stores.
pub async fn status(ctx: &Ctx, plan: &Plan) -> Result<Status, DeployError> {
    let (env_name, app) = environment_of(plan)?;
    let resource = format!("environment {env_name}");
    // Round one: everything the program names.
    let stores = futures_util::future::try_join_all(
        planned::<DbInstance>(plan)
            .map(|(s, d)| (s.resource.clone(), d.identifier.clone(), None))
            .chain(
                planned::<CacheCluster>(plan)
                    .map(|(s, c)| (s.resource.clone(), c.id.clone(), Some(false))),
            )
            .chain(
                planned::<ReplicationGroup>(plan)
                    .map(|(s, g)| (s.resource.clone(), g.id.clone(), Some(true))),
            )
            .map(|(resource, id, group)| async move {
                match group {
                    None => observe_db(ctx, &id, &resource).await,
                    Some(group) => observe_cache(ctx, group, &id, &resource).await,
                }
            }),
    );
    let (env, health, all_versions, stores) = tokio::join!(
        describe_by_name(ctx, &resource, env_name),
        causes(ctx, &resource, env_name),
        versions(ctx, app, &resource),
        stores,
    );
    let stores: Vec<StoreState> = stores?.into_iter().flatten().collect();
    let Some(env) = env? else {
        return Ok(Status {
            stack: plan.stack.clone(),
            environment: env_name.to_string(),
            status: None,
            health: None,
            health_status: None,
            causes: Causes::default(),
            url: None,
            running: None,
            stores,
        });
    };
    // Round two: the running version's images.
    let label = env.version_label().unwrap_or_default().to_string();
    let version = all_versions?.into_iter().find(|v| v.label == label);
    let running = match version {
        Some(v) => Some(Running {
            images: match (&v.bucket, &v.key) {
                (Some(b), Some(k)) => images(ctx, b, k, &resource).await?,
                _ => Vec::new(),
            },
            created: rfc3339(v.created.as_ref()),
            label,
        }),
        None if label.is_empty() => None,
        None => Some(Running {
            label,
            created: None,
            images: Vec::new(),
        }),
    };
    Ok(Status {
        stack: plan.stack.clone(),
        environment: env_name.to_string(),
        status: env.status().map(|s| s.as_str().to_string()),
        health: env.health().map(|h| h.as_str().to_string()),
        health_status: env.health_status().map(|h| h.as_str().to_string()),
        causes: health.unwrap_or_default(),
        url: env.cname().map(|c| format!("http://{c}")),
        running,
        stores,
    })
}

/// One version of the application, for `rollback --list`.
#[derive(Clone, Debug, Serialize)]
pub struct VersionRow {
    pub label: String,
    pub created: Option<String>,
    pub running: bool,
}

/// The application's versions, newest first, and the one the environment runs.
pub async fn history(ctx: &Ctx, plan: &Plan) -> Result<Vec<VersionRow>, DeployError> {
    let (env_name, app) = environment_of(plan)?;
    let resource = format!("environment {env_name}");
    let (env, all) = tokio::join!(
        describe_by_name(ctx, &resource, env_name),
        versions(ctx, app, &resource)
    );
    let running = env?.and_then(|e| e.version_label().map(str::to_string));
    let mut all: Vec<VersionInfo> = all?;
    all.sort_by_key(|v| std::cmp::Reverse(v.created.map(|d| (d.secs(), d.subsec_nanos()))));
    Ok(all
        .into_iter()
        .map(|v| VersionRow {
            running: running.as_deref() == Some(v.label.as_str()),
            created: rfc3339(v.created.as_ref()),
            label: v.label,
        })
        .collect())
}

/// Deploys `to` (by default the version before the running one) through the health gate; a
/// version that fails it is rolled back to the one that ran (unless `ctx.rollback` is off).
/// Returns (the version that ran, the version that runs now).
pub async fn roll_back(
    ctx: &Ctx,
    plan: &Plan,
    to: Option<&str>,
) -> Result<(String, String), DeployError> {
    let (env_name, _) = environment_of(plan)?;
    let rows = history(ctx, plan).await?;
    let resource = format!("environment {env_name}");
    let Some(running) = rows.iter().position(|r| r.running) else {
        return Err(DeployError::other(
            &resource,
            "is not deployed: there is nothing to roll back",
        ));
    };
    let target = match to {
        Some(label) => rows.iter().find(|r| r.label == label).ok_or_else(|| {
            DeployError::other(&resource, format!("the application has no version {label}: `stackc rollback --list` shows its versions"))
        })?,
        None => rows.get(running + 1).ok_or_else(|| {
            DeployError::other(&resource, "runs the application's oldest version: there is no earlier one to go back to")
        })?,
    };
    let from = rows[running].label.clone();
    if target.label == from {
        return Err(DeployError::other(
            &resource,
            format!("already runs {from}"),
        ));
    }
    let step = StepRef {
        id: "rollback",
        resource: &resource,
    };
    deploy_version(ctx, &step, env_name, &target.label, Some(&from)).await?;
    Ok((from, target.label.clone()))
}
