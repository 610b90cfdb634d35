//! The least-privilege IAM policy a deployer needs to run `plan`, `apply` and `destroy` for a
//! program (`stackc iam-policy`). Each resource type declares the IAM actions its code calls
//! (`Resource::ACTIONS`, held to the code by `tests/layout.rs`) and grants them on the
//! narrowest resources AWS allows: ARNs built from the stack's names, or conditions on the
//! stack's tag where a resource's name is AWS's (a security group's id). Grants with the same
//! resources and condition become one statement.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::lower::Plan;

/// Where the stack lives, for ARNs: the region (`*` when the program names none) and the base
/// of the names derived from it (the stack's name, or `<stack>-<env>` with several
/// environments); for tag conditions, the stack's name. The account is always `*`: the policy
/// is written before it is attached.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    pub stack: &'a str,
    pub tag: &'a str,
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
        json!({ "StringEquals": { key: self.tag } })
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

/// The policy document for plans (one per environment): every resource type's grants (a type
/// the program does not use still reads, to find what an earlier apply made), merged.
pub fn deployer_policy(plans: &[Plan]) -> Value {
    type Key = (Option<&'static str>, Vec<String>, String);
    let mut merged: BTreeMap<Key, Vec<&'static str>> = BTreeMap::new();
    for (plan, kind) in plans.iter().flat_map(|p| {
        crate::deploy::resources::Kind::ALL
            .iter()
            .map(move |k| (p, k))
    }) {
        let base = plan.base();
        let scope = Scope {
            stack: &base,
            tag: &plan.stack,
            region: plan.region.as_deref().unwrap_or("*"),
        };
        // A template's previews are named after instances CI chooses (`pr-42`): its names,
        // `<stack>-<template>...`, stand for `<stack>-*...`.
        let wildcard = format!("{}-*", plan.stack);
        for g in kind.grants(&scope, plan) {
            let mut resources: Vec<String> = match plan.template {
                true => g
                    .resources
                    .iter()
                    .map(|r| r.replace(&base, &wildcard))
                    .collect(),
                false => g.resources,
            };
            resources.sort();
            resources.dedup();
            let condition = g.condition.map(|c| c.to_string()).unwrap_or_default();
            merged
                .entry((g.sid, resources, condition))
                .or_default()
                .extend(g.actions);
        }
    }
    // Then the same actions on several resources (one per environment) are one statement.
    type Actions = (Option<&'static str>, Vec<&'static str>, String);
    let mut by_actions: BTreeMap<Actions, Vec<String>> = BTreeMap::new();
    for ((sid, resources, condition), mut actions) in merged {
        actions.sort_unstable();
        actions.dedup();
        by_actions
            .entry((sid, actions, condition))
            .or_default()
            .extend(resources);
    }
    let statements: Vec<Value> = by_actions
        .into_iter()
        .map(|((sid, actions, condition), mut resources)| {
            resources.sort();
            resources.dedup();
            // A resource another one's wildcard covers says nothing more (and IAM counts it
            // against the policy's size).
            let covered = |r: &String| {
                resources
                    .iter()
                    .any(|w| w != r && w.contains('*') && glob(w, r))
            };
            let resources: Vec<&String> = resources.iter().filter(|r| !covered(r)).collect();
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

/// Whether IAM's `*` wildcard pattern `pattern` matches `text` (`*` matches any run of
/// characters; stackc writes no `?`).
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn wildcards_match_as_iam_reads_them() {
        assert!(glob("arn:db:shop-*", "arn:db:shop-db"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(glob("a*", "a"));
        assert!(!glob("arn:db:shop-*", "arn:db:shopx"));
        assert!(!glob("a*bc", "abc-x"));
        assert!(!glob("ab*ba", "aba"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }
}
