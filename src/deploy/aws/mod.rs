//! The AWS side of deploy: the SDK clients, the error type, the [`Apply`] contract every
//! resource type implements (in its own file under `resources/`), and the generic glue that
//! refreshes and runs a step of any type.
//!
//! Retries of throttled or failed calls are the SDK's own (standard mode, see [`clients`]);
//! what else waits is a waiter on a status AWS documents ([`wait`]).

pub mod clients;
pub mod consistency;
mod error;
pub mod exec;
pub mod logs;
pub mod progress;
pub mod reach;
pub mod reads;
pub mod status;
pub mod wait;

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

pub use clients::Clients;
pub use error::{DeployError, aws_error, error_code, message_has, scrub};
use progress::Progress;
use reads::Reads;

use super::diff::{FieldChange, Op};
use super::resource::Outputs;
use super::resources::{Kind, Member};
use super::state::{Found, Snapshot};
use crate::lower::{Plan, Step};

/// Everything a step needs to talk to AWS.
pub struct Ctx {
    /// The base of the names derived from the program: the stack's name, or with several
    /// environments in the file `<stack>-<environment>`.
    pub stack: String,
    /// Whose resources this deploy may change.
    pub owner: crate::deploy::resource::Owner,
    pub region: String,
    pub clients: Clients,
    /// The bytes of `Dockerrun.aws.json`, zipped into the source bundle.
    pub dockerrun: String,
    pub timing: Timing,
    pub progress: Progress,
    /// Deploy the version that ran before when a new one fails its health check.
    pub rollback: bool,
    /// A preview (an instance of a template): destroy keeps no final snapshot of its data.
    pub preview: bool,
    /// The `.stack` file's folder, which build contexts are relative to.
    pub source_dir: std::path::PathBuf,
}

/// How long apply waits, by default, for an environment to become healthy after an operation.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// How long apply waits, by default, for ACM to validate a certificate. With the record in
/// Route 53 ACM issues within minutes; a record the user creates elsewhere may take longer,
/// and a later apply goes on waiting (ACM itself gives up 72 hours after the request).
pub const VALIDATION_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Poll intervals and timeouts of the waiters.
#[derive(Clone, Debug)]
pub struct Timing {
    /// First poll interval; later polls back off to `poll_max`.
    pub poll_first: Duration,
    pub poll_max: Duration,
    /// How long a database or cache may take to become available.
    pub store_timeout: Duration,
    /// How long an environment may take to become Ready.
    pub environment_timeout: Duration,
    /// How long a Ready environment may take to become healthy after an operation.
    pub health_timeout: Duration,
    /// How long apply waits for ACM to validate a certificate (a later apply waits again).
    pub validation_timeout: Duration,
}

impl Timing {
    /// AWS-sized defaults; `STACKC_POLL_MS` shortens polling (the tests' emulator answers at once).
    pub fn from_env() -> Timing {
        let first = std::env::var("STACKC_POLL_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_secs(5), Duration::from_millis);
        Timing {
            poll_first: first,
            poll_max: (first * 6).min(Duration::from_secs(30)).max(first),
            store_timeout: Duration::from_secs(60 * 60),
            environment_timeout: Duration::from_secs(45 * 60),
            health_timeout: HEALTH_TIMEOUT,
            validation_timeout: VALIDATION_TIMEOUT,
        }
    }
}

/// A step as its messages and progress line name it.
#[derive(Clone, Copy, Debug)]
pub struct StepRef<'a> {
    /// The plan step's id: the key of its progress line.
    pub id: &'a str,
    /// For people: `RDS instance shop-db`.
    pub resource: &'a str,
}

/// A resource to delete.
#[derive(Clone, Copy, Debug)]
pub struct Gone<'a> {
    /// Its AWS identifier (group id, DB identifier, environment id, ...).
    pub id: &'a str,
    pub resource: &'a str,
    /// The key of its progress line.
    pub key: &'a str,
    /// What refresh found, when it belongs to a step of the plan.
    pub found: Option<&'a Found>,
}

/// One step to perform.
pub struct Job<'a> {
    pub step: &'a Step,
    pub op: Op,
    /// The step's parameters, resolved: no references, secrets as their values.
    pub params: Value,
    pub found: Option<&'a Found>,
    /// What the diff found changed (for an update).
    pub changes: &'a [FieldChange],
}

/// What a resource type does against AWS. Each method waits until AWS has finished what it
/// asked for (a database available, an environment Ready) and returns the outputs later steps
/// read.
pub trait Apply: Member {
    /// The fields [`Apply::update`] changes: exactly those the type declares as changing in
    /// place (a test holds the two lists together).
    const UPDATES: &'static [&'static str] = &[];

    /// Reads what exists for the plan's steps of this type, at once, and the resources of this
    /// type tagged with the stack that no step describes (orphans). Reads another type also
    /// needs go through `reads`, which makes each once per refresh.
    fn refresh(
        ctx: &Ctx,
        reads: &Reads,
        plan: &Plan,
        steps: &[(&Step, &Self)],
    ) -> impl Future<Output = Result<Snapshot, DeployError>> + Send;

    /// Creates it (a lookup: reads it).
    fn create(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &Self::Live,
    ) -> impl Future<Output = Result<Outputs, DeployError>> + Send;

    /// Changes what `changes` lists, in place.
    fn update(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &Self::Live,
        found: &Found,
        changes: &[FieldChange],
    ) -> impl Future<Output = Result<Outputs, DeployError>> + Send {
        let _ = (ctx, want, found, changes);
        let resource = step.resource.to_string();
        async move {
            Err(DeployError::other(
                resource,
                "stackc cannot change this resource in place",
            ))
        }
    }

    /// Waits for an unchanged resource that is not settled yet (an interrupted apply).
    fn settle(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &Self::Live,
        found: &Found,
    ) -> impl Future<Output = Result<Outputs, DeployError>> + Send {
        let _ = (ctx, step, want);
        let outputs = found.outputs.clone();
        async move { Ok(outputs) }
    }

    /// Deletes what exists, then creates it anew.
    fn replace(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &Self::Live,
        found: &Found,
    ) -> impl Future<Output = Result<Outputs, DeployError>> + Send {
        async move {
            let gone = Gone {
                id: found.id().unwrap_or(step.id),
                resource: step.resource,
                key: step.id,
                found: Some(found),
            };
            Self::delete(ctx, &gone).await?;
            Self::create(ctx, step, want).await
        }
    }

    /// Deletes it and waits until it is gone; what is already gone is not an error.
    fn delete(ctx: &Ctx, gone: &Gone<'_>) -> impl Future<Output = Result<(), DeployError>> + Send;
}

/// Refresh of one type: its steps of the plan.
pub(crate) async fn refresh_kind<R: Apply>(
    ctx: &Ctx,
    reads: &Reads,
    plan: &Plan,
) -> Result<Snapshot, DeployError> {
    let steps: Vec<(&Step, &R)> = plan
        .steps
        .iter()
        .filter_map(|s| R::of(&s.desired).map(|d| (s, d)))
        .collect();
    R::refresh(ctx, reads, plan, &steps).await
}

/// One step of one type.
pub(crate) async fn run_kind<R: Apply>(ctx: &Ctx, job: Job<'_>) -> Result<Outputs, DeployError> {
    let step = StepRef {
        id: &job.step.id,
        resource: &job.step.resource,
    };
    let want: R::Live = serde_json::from_value(job.params).map_err(|e| {
        DeployError::other(
            step.resource,
            format!("the step's parameters are not valid: {e}"),
        )
    })?;
    match (job.op, job.found) {
        (Op::Keep, Some(f)) => R::settle(ctx, &step, &want, f).await,
        (Op::Update, Some(f)) => R::update(ctx, &step, &want, f, job.changes).await,
        // What exists is another kind (a cache cluster that must become a replication group).
        (Op::Replace, Some(f)) if f.kind != R::KIND => {
            let gone = Gone {
                id: f.id().unwrap_or(step.id),
                resource: step.resource,
                key: step.id,
                found: Some(f),
            };
            f.kind.delete(ctx, &gone).await?;
            R::create(ctx, &step, &want).await
        }
        (Op::Replace, Some(f)) => R::replace(ctx, &step, &want, f).await,
        (Op::Create | Op::Read, _) | (Op::Keep | Op::Update | Op::Replace, None) => {
            R::create(ctx, &step, &want).await
        }
        (Op::Delete, _) => Err(DeployError::other(
            step.resource,
            "a step of the plan is never deleted",
        )),
    }
}

/// Reads the current state of every resource of the plan, and this stack's others: every type
/// at once, each shared read made once.
pub async fn refresh(ctx: &Ctx, plan: &Plan) -> Result<Snapshot, DeployError> {
    let reads = Reads::default();
    let parts =
        futures_util::future::try_join_all(Kind::ALL.iter().map(|k| k.refresh(ctx, &reads, plan)))
            .await?;
    let mut snap = Snapshot::default();
    for part in parts {
        snap.found.extend(part.found);
        snap.orphans.extend(part.orphans);
        snap.conflicts.extend(part.conflicts);
    }
    snap.orphans.sort();
    Ok(snap)
}
