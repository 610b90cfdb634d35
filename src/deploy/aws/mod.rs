//! The AWS side of deploy: clients, the error type, and dispatch to one module per service.
//!
//! Every module offers the same three entry points for the plan actions it owns:
//! `refresh` (reads only: fill the [`Snapshot`]), `run` (perform one step: create, update,
//! replace, read or wait, and return the step's outputs) and `delete` (remove and wait until
//! gone). Retries of throttled or failed calls are the SDK's own (standard mode, see
//! [`clients`]); the only loops here are waiters on AWS's documented statuses.

pub mod clients;
mod eb;
mod ec2;
mod elasticache;
pub mod exec;
mod iam;
pub mod progress;
mod rds;
pub mod wait;

use std::fmt;
use std::time::Duration;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Map, Value};

use super::diff::Op;
use super::state::{Found, Snapshot};
use crate::lower::{Plan, Step};
pub use clients::Clients;
use progress::Progress;

/// Everything a step needs to talk to AWS.
pub struct Ctx {
    pub stack: String,
    pub region: String,
    pub clients: Clients,
    /// The bytes of `Dockerrun.aws.json`, zipped into the source bundle.
    pub dockerrun: String,
    pub timing: Timing,
    pub progress: Progress,
}

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
        }
    }
}

/// A failed AWS call: which resource, which call, AWS's error code and message.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployError {
    pub resource: String,
    pub call: String,
    pub code: String,
    pub message: String,
}

impl fmt::Display for DeployError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.call.is_empty() {
            write!(f, "{}: {}", self.resource, self.message)
        } else {
            write!(
                f,
                "{}: {} failed: {}: {}",
                self.resource, self.call, self.code, self.message
            )
        }
    }
}

impl std::error::Error for DeployError {}

impl DeployError {
    /// A failure that is not an AWS error response (a timeout, a missing field).
    pub fn other(resource: impl Into<String>, message: impl Into<String>) -> DeployError {
        DeployError {
            resource: resource.into(),
            call: String::new(),
            code: String::new(),
            message: message.into(),
        }
    }
}

/// Turns an SDK error into a [`DeployError`]: AWS's code and message, never a debug dump.
pub fn aws_error<E>(resource: &str, call: &str, e: &E) -> DeployError
where
    E: ProvideErrorMetadata + std::error::Error,
{
    let code = e.code().unwrap_or("NoAwsError").to_string();
    let message = match e.message() {
        Some(m) => m.to_string(),
        // No AWS error in the answer (a refused connection, a timeout, a proxy's HTML page):
        // the innermost cause in one line, never the SDK's dump of the raw response.
        None => {
            let mut cause: &dyn std::error::Error = e;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            let text = cause.to_string();
            let line: String = text
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect();
            if line.is_empty() {
                "no AWS error in the response".to_string()
            } else {
                format!("no AWS error in the response: {line}")
            }
        }
    };
    DeployError {
        resource: resource.to_string(),
        call: call.to_string(),
        code,
        message,
    }
}

/// The error code of an SDK error, for matching "not found" and friends.
pub fn error_code<E: ProvideErrorMetadata>(e: &E) -> Option<&str> {
    e.code()
}

/// Whether a tag list (as key/value pairs) marks a resource of `stack`.
pub fn owned<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>, stack: &str) -> bool {
    tags.into_iter()
        .any(|(k, v)| k == "stackc:stack" && v == stack)
}

/// The value of tag `stackc:name`, if any.
pub fn tag_name<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<&'a str> {
    tags.into_iter()
        .find(|(k, _)| *k == "stackc:name")
        .map(|(_, v)| v)
}

/// The AWS service part of a plan action (`rds` of `rds:CreateDBInstance`).
fn service_of(action: &str) -> &str {
    action.split_once(':').map_or(action, |(s, _)| s)
}

/// Reads the current state of every resource of the plan, and this stack's others.
pub async fn refresh(ctx: &Ctx, plan: &Plan) -> Result<Snapshot, DeployError> {
    let mut snap = Snapshot::default();
    let (a, b, c, d, e) = tokio::join!(
        ec2::refresh(ctx, plan),
        rds::refresh(ctx, plan),
        elasticache::refresh(ctx, plan),
        iam::refresh(ctx, plan),
        eb::refresh(ctx, plan),
    );
    for part in [a?, b?, c?, d?, e?] {
        snap.found.extend(part.found);
        snap.orphans.extend(part.orphans);
        snap.conflicts.extend(part.conflicts);
    }
    snap.orphans.sort();
    Ok(snap)
}

/// Performs one step and returns its outputs. `params` are resolved (no refs, secrets as
/// their values); `found` is what refresh saw.
pub async fn run(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    params: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    match service_of(&step.action) {
        "ec2" => ec2::run(ctx, step, op, params, found).await,
        "rds" => rds::run(ctx, step, op, params, found).await,
        "elasticache" => elasticache::run(ctx, step, op, params, found).await,
        "iam" => iam::run(ctx, step, op, params, found).await,
        "elasticbeanstalk" | "s3" => eb::run(ctx, step, op, params, found).await,
        other => Err(DeployError::other(
            &step.resource,
            format!("no executor for AWS service {other}"),
        )),
    }
}

/// Deletes a resource found for `action` with AWS identifier `id`, and waits until it is gone.
pub async fn delete(
    ctx: &Ctx,
    action: &str,
    id: &str,
    resource: &str,
    found: Option<&Found>,
) -> Result<(), DeployError> {
    match service_of(action) {
        "ec2" => ec2::delete(ctx, action, id, resource).await,
        "rds" => rds::delete(ctx, action, id, resource, found).await,
        "elasticache" => elasticache::delete(ctx, action, id, resource).await,
        "iam" => iam::delete(ctx, action, id, resource, found).await,
        "elasticbeanstalk" | "s3" => eb::delete(ctx, action, id, resource).await,
        _ => Ok(()),
    }
}

/// Helpers to read resolved JSON parameters.
pub(crate) mod params {
    use serde_json::Value;

    pub fn str<'a>(p: &'a Value, key: &str) -> &'a str {
        p.get(key).and_then(Value::as_str).unwrap_or_default()
    }

    pub fn opt_str(p: &Value, key: &str) -> Option<String> {
        p.get(key).and_then(Value::as_str).map(str::to_string)
    }

    pub fn int(p: &Value, key: &str) -> Option<i32> {
        p.get(key)
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
    }

    pub fn bool(p: &Value, key: &str) -> Option<bool> {
        p.get(key).and_then(Value::as_bool)
    }

    pub fn strings(p: &Value, key: &str) -> Vec<String> {
        p.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// `Tags: [{Key, Value}]` as pairs.
    pub fn tags(p: &Value) -> Vec<(String, String)> {
        p.get("Tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| {
                (
                    t["Key"].as_str().unwrap_or_default().to_string(),
                    t["Value"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}
