//! The least-privilege IAM policy a deployer needs to run `plan`, `apply` and `destroy` for a
//! program (`stackc iam-policy`). Each resource type declares the IAM actions its code calls
//! (`Resource::ACTIONS`, held to the code by `tests/layout.rs`) and grants them on the
//! narrowest resources AWS allows: ARNs built from the stack's names, or conditions on the
//! stack's tag where a resource's name is AWS's (a security group's id). Grants with the same
//! resources and condition become one statement.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::lower::Plan;

/// Where the stack lives, for ARNs: the region (`*` when the program names none) and the
/// stack's name. The account is always `*`: the policy is written before it is attached.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    pub stack: &'a str,
    pub region: &'a str,
}

impl Scope<'_> {
    /// `arn:aws:SERVICE:REGION:*:RESOURCE`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:*:{resource}", self.region)
    }

    /// An IAM ARN (IAM is global): `arn:aws:iam::*:RESOURCE`.
    pub fn iam(&self, resource: &str) -> String {
        format!("arn:aws:iam::*:{resource}")
    }

    /// The condition that a resource carries this stack's tag.
    pub fn tagged(&self, key: &str) -> Value {
        json!({ "StringEquals": { key: self.stack } })
    }
}

/// Actions allowed on resources, under a condition; `sid` names a statement of its own.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    pub actions: Vec<&'static str>,
    pub resources: Vec<String>,
    pub condition: Option<Value>,
    pub sid: Option<&'static str>,
}

impl Grant {
    pub fn new(actions: &[&'static str], resources: Vec<String>) -> Grant {
        Grant {
            actions: actions.to_vec(),
            resources,
            condition: None,
            sid: None,
        }
    }

    /// A statement of its own, named.
    pub fn named(mut self, sid: &'static str) -> Grant {
        self.sid = Some(sid);
        self
    }

    /// On every resource: for calls that name none (Describe, List) or whose resources AWS
    /// names.
    pub fn anywhere(actions: &[&'static str]) -> Grant {
        Grant::new(actions, vec!["*".into()])
    }

    pub fn when(mut self, condition: Value) -> Grant {
        self.condition = Some(condition);
        self
    }
}

/// `actions` anywhere, for a type whose calls all serve the program's own steps of it (a
/// lookup): nothing when the program has none.
pub fn only_with_steps<T>(steps: &[T], actions: &[&'static str]) -> Vec<Grant> {
    match steps {
        [] => Vec::new(),
        _ => vec![Grant::anywhere(actions)],
    }
}

/// The policy document for a plan: every resource type's grants (a type the program does not
/// use still reads, to find what an earlier apply made), merged.
pub fn deployer_policy(plan: &Plan) -> Value {
    let scope = Scope {
        stack: &plan.stack,
        region: plan.region.as_deref().unwrap_or("*"),
    };
    type Key = (Option<&'static str>, Vec<String>, String);
    let mut merged: BTreeMap<Key, Vec<&'static str>> = BTreeMap::new();
    for kind in crate::deploy::resources::Kind::ALL {
        for g in kind.grants(&scope, plan) {
            let mut resources = g.resources;
            resources.sort();
            resources.dedup();
            let condition = g.condition.map(|c| c.to_string()).unwrap_or_default();
            merged
                .entry((g.sid, resources, condition))
                .or_default()
                .extend(g.actions);
        }
    }
    let statements: Vec<Value> = merged
        .into_iter()
        .map(|((sid, resources, condition), mut actions)| {
            actions.sort_unstable();
            actions.dedup();
            let mut s = json!({ "Effect": "Allow", "Action": actions, "Resource": resources });
            if let Some(sid) = sid {
                s = json!({ "Sid": sid, "Effect": "Allow", "Action": s["Action"], "Resource": s["Resource"] });
            }
            if let Ok(c) = serde_json::from_str::<Value>(&condition) {
                s["Condition"] = c;
            }
            s
        })
        .collect();
    json!({ "Version": "2012-10-17", "Statement": statements })
}
