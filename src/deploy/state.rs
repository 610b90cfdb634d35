//! What exists in the account, as found by refresh: one record per plan step whose resource
//! exists, in the shape of that step's parameters, so the diff can compare like with like.
//! Pure data; the AWS reads that fill it live in `aws/refresh.rs`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The current state of the stack's resources.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Plan step id → what exists for it.
    pub found: BTreeMap<String, Found>,
    /// Resources tagged with this stack that no step of the plan describes (to delete).
    pub orphans: Vec<Orphan>,
    /// Names the plan needs that resources outside this stack already hold.
    pub conflicts: Vec<Conflict>,
}

/// An existing resource for a plan step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// Current values under the parameter names of the step's create call.
    pub current: Map<String, Value>,
    /// What later steps may refer to (`{"ref": "STEP.attr"}`), e.g. `group_id`, `host`.
    pub outputs: Map<String, Value>,
    /// AWS's status word when the resource has one (`available`, `Ready`, `creating`, ...).
    pub status: Option<String>,
    /// The create action that made what exists, when it differs from the plan's (a redis
    /// cluster where the plan now wants a replication group).
    pub action: Option<String>,
}

/// A resource of this stack that the program no longer describes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Orphan {
    /// The create action of its kind, e.g. `rds:CreateDBInstance`.
    pub action: String,
    /// Its AWS identifier (group id, DB identifier, environment name, ...).
    pub id: String,
    /// For messages: `RDS instance old-db`.
    pub resource: String,
}

/// A name the plan needs that a resource outside this stack holds: apply stops before any change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub step: String,
    pub resource: String,
    pub why: String,
}

impl Found {
    pub fn new(current: Value, outputs: Value) -> Found {
        Found {
            current: into_map(current),
            outputs: into_map(outputs),
            status: None,
            action: None,
        }
    }

    pub fn with_status(mut self, status: impl Into<String>) -> Found {
        self.status = Some(status.into());
        self
    }
}

fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
