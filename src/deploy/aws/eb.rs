//! PLACEHOLDER: being written.

use serde_json::{Map, Value};

use super::{Ctx, DeployError};
use crate::deploy::diff::Op;
use crate::deploy::state::{Found, Snapshot};
use crate::lower::{Plan, Step};

pub async fn refresh(_ctx: &Ctx, _plan: &Plan) -> Result<Snapshot, DeployError> {
    Ok(Snapshot::default())
}

pub async fn run(_ctx: &Ctx, step: &Step, _op: Op, _p: &Value, _found: Option<&Found>) -> Result<Map<String, Value>, DeployError> {
    Err(DeployError::other(&step.resource, "not implemented yet"))
}

pub async fn delete(_ctx: &Ctx, _action: &str, _id: &str, _resource: &str) -> Result<(), DeployError> {
    Ok(())
}
