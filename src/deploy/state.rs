//! What exists in the account, as found by refresh: one record per plan step whose resource
//! exists, in the shape of that step's desired struct, so the diff can compare like with like.
//! Pure data; the AWS reads that fill it live in each resource type's file.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::resource::Outputs;
use super::resources::Kind;

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
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// What exists: usually the step's kind, but a cache cluster may stand where the plan now
    /// wants a replication group.
    pub kind: Kind,
    /// Current values under the field names of the kind's desired struct.
    pub current: Map<String, Value>,
    /// What later steps may refer to (`{"ref": "STEP.attr"}`), e.g. `group_id`, `host`; `id`
    /// is its AWS identifier.
    pub outputs: Outputs,
    /// AWS's status word when the resource has one (`available`, `Ready`, `creating`, ...).
    pub status: Option<String>,
    /// Whether it can be used as it is, as its type reads its status: an unchanged resource
    /// that is not (an interrupted apply left it launching) is waited for.
    pub settled: bool,
}

/// A resource of this stack that the program no longer describes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Orphan {
    pub kind: Kind,
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

impl Conflict {
    /// `what` (`a role with this name`) exists and is not the owner's.
    pub fn taken(
        step: &crate::lower::Step,
        what: impl std::fmt::Display,
        owner: &crate::deploy::resource::Owner,
    ) -> Conflict {
        Conflict {
            step: step.id.clone(),
            resource: step.resource.clone(),
            why: format!("{what} already exists and is not tagged {owner}"),
        }
    }
}

impl Found {
    /// What exists, from its current values (the desired struct in its live stage, or any
    /// value that serialises to the same field names) and its outputs.
    pub fn new(kind: Kind, current: &impl Serialize, outputs: Outputs) -> Found {
        Found {
            kind,
            current: into_map(serde_json::to_value(current).unwrap_or(Value::Null)),
            outputs,
            status: None,
            settled: true,
        }
    }

    /// A lookup's answer: only outputs.
    pub fn lookup(kind: Kind, outputs: Outputs) -> Found {
        Found {
            kind,
            current: Map::new(),
            outputs,
            status: None,
            settled: true,
        }
    }

    /// With AWS's status word, and whether it means the resource is settled.
    pub fn with_status(mut self, status: impl Into<String>, settled: bool) -> Found {
        self.status = Some(status.into());
        self.settled = settled;
        self
    }

    /// What exists as a desired struct (of its live stage), when it reads as one.
    pub fn current_as<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(Value::Object(self.current.clone())).ok()
    }

    /// Its AWS identifier, from the `id` output.
    pub fn id(&self) -> Option<&str> {
        self.outputs.get("id").and_then(Value::as_str)
    }
}

/// The object inside a JSON value (empty for anything else).
pub fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
