//! The diff: the plan's steps against what refresh found, as create / update (which fields,
//! old → new) / replace / delete / no change per resource. Generic: how each field compares
//! and whether a change is made in place or by replacement is what its resource type declares
//! ([`Field`]); nothing here knows a resource type. Pure: unit-tested without AWS.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::resource::{Change as How, Field, OptionRules, secret_var, version};
use super::resources::Kind;
use super::state::{Found, Snapshot};
use crate::lower::Plan;

/// What apply will do to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Create,
    Update,
    Replace,
    Delete,
    /// Exists and matches: nothing to do.
    Keep,
    /// A lookup (default VPC, platform version) refresh could not make: read during apply.
    Read,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The plan step, or `orphan:ID` for a resource the program no longer describes.
    pub step: String,
    #[serde(skip)]
    pub kind: Kind,
    /// The API call that creates it.
    pub action: &'static str,
    pub resource: String,
    pub op: Op,
    pub fields: Vec<FieldChange>,
    /// Why a replacement or deletion happens, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One changed field. `new` is `"(known after apply)"` for values not known yet and
/// `"(sensitive)"` for secrets; `old` likewise never holds a secret. An option of Elastic
/// Beanstalk is named `namespace/name`; `new` is null for one to remove.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
    pub forces_replacement: bool,
}

const UNKNOWN: &str = "(known after apply)";
const SENSITIVE: &str = "(sensitive)";

/// Resolves `{"ref"}` with known outputs (unknown ones become `{"unknown": REF}`) and
/// `{"secret": VAR}` with `secret(VAR)`. Fails on a secret variable that is not set.
pub fn resolve(
    v: &Value,
    outputs: &HashMap<String, Map<String, Value>>,
    secret: &dyn Fn(&str) -> Option<String>,
) -> Result<Value, String> {
    if let Some(var) = secret_var(v) {
        let problem = || {
            let var = var.to_string();
            super::preflight::Problem::Secret { var, empty: false }.to_string()
        };
        return secret(var).map(Value::String).ok_or_else(problem);
    }
    Ok(match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("ref") => {
            let r = m["ref"].as_str().unwrap_or_default();
            let (step, attr) = r.rsplit_once('.').unwrap_or((r, ""));
            match outputs.get(step).and_then(|o| o.get(attr)) {
                Some(v) => v.clone(),
                None => json!({ "unknown": r }),
            }
        }
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.clone(), resolve(v, outputs, secret)?);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| resolve(v, outputs, secret))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// The resolved values of a step's secrets (`{"secret": VAR}` in `planned`, at the same place
/// in `resolved`): what must never appear in a message.
pub fn secret_values(planned: &Value, resolved: &Value, out: &mut Vec<String>) {
    match (planned, resolved) {
        (p, Value::String(s)) if secret_var(p).is_some() && !s.is_empty() => {
            out.push(s.clone());
        }
        (Value::Object(p), Value::Object(r)) => {
            for (k, v) in p {
                if let Some(rv) = r.get(k) {
                    secret_values(v, rv, out);
                }
            }
        }
        (Value::Array(p), Value::Array(r)) => {
            p.iter().zip(r).for_each(|(p, r)| secret_values(p, r, out))
        }
        _ => {}
    }
}

fn has_unknown(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            m.contains_key("unknown") && m.len() == 1 || m.values().any(has_unknown)
        }
        Value::Array(a) => a.iter().any(has_unknown),
        _ => false,
    }
}

fn has_secret(v: &Value) -> bool {
    match v {
        v if secret_var(v).is_some() => true,
        Value::Object(m) => m.values().any(has_secret),
        Value::Array(a) => a.iter().any(has_secret),
        _ => false,
    }
}

/// The value as the plan shows it: unknowns and secrets replaced by words.
fn shown(sensitive: bool, resolved: &Value) -> Value {
    if sensitive {
        json!(SENSITIVE)
    } else if has_unknown(resolved) {
        json!(UNKNOWN)
    } else {
        resolved.clone()
    }
}

/// The diff of the whole plan. `secret` reads the deployer's environment variables.
pub fn diff(
    plan: &Plan,
    snap: &Snapshot,
    secret: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Change>, String> {
    let mut outputs: HashMap<String, Map<String, Value>> = HashMap::new();
    let mut changes = Vec::new();
    let pruned = pruned_options(plan);
    for step in &plan.steps {
        let kind = step.kind();
        let planned = step.params();
        let resolved = resolve(&planned, &outputs, secret)?;
        let found = snap.found.get(&step.id);
        let (op, fields, reason) = match found {
            // A lookup refresh already made needs no second call.
            Some(_) if kind.is_lookup() => (Op::Keep, Vec::new(), None),
            None if kind.is_lookup() => (Op::Read, Vec::new(), None),
            None => (
                Op::Create,
                Vec::new(),
                kind.create_reason().map(str::to_string),
            ),
            Some(f) => compare(kind, &planned, &resolved, f, &pruned),
        };
        if let (Op::Keep | Op::Update | Op::Read, Some(f)) = (op, found) {
            outputs.insert(step.id.clone(), f.outputs.clone());
        }
        changes.push(Change {
            step: step.id.clone(),
            kind,
            action: kind.action(),
            resource: step.resource.clone(),
            op,
            fields,
            reason,
        });
    }
    for o in &snap.orphans {
        // What destroy would keep (a repository's images), apply keeps too.
        let keeps = o
            .kind
            .kept_by_destroy(&Default::default(), &Default::default());
        if keeps.is_some() {
            continue;
        }
        changes.push(Change {
            step: format!("orphan:{}", o.id),
            kind: o.kind,
            action: o.kind.action(),
            resource: o.resource.clone(),
            op: Op::Delete,
            fields: Vec::new(),
            reason: Some("no longer in the program".into()),
        });
    }
    Ok(changes)
}

/// For each namespace prefix an option list prunes: every option of it some step of the plan
/// sets, as (namespace, name).
fn pruned_options(plan: &Plan) -> HashMap<&'static str, BTreeSet<(String, String)>> {
    let mut out: HashMap<&'static str, BTreeSet<(String, String)>> = HashMap::new();
    let prefixes: BTreeSet<&'static str> = Kind::ALL
        .iter()
        .flat_map(|k| k.fields())
        .filter_map(|f| match f.change {
            How::Options(OptionRules { prune: Some(p), .. }) => Some(p),
            _ => None,
        })
        .collect();
    for prefix in prefixes {
        let keys = out.entry(prefix).or_default();
        for step in &plan.steps {
            let params = step.params();
            for f in step
                .kind()
                .fields()
                .iter()
                .filter(|f| matches!(f.change, How::Options(_)))
            {
                for o in params
                    .get(f.name)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let (ns, name) = option_key(o);
                    if ns.starts_with(prefix) {
                        keys.insert((ns, name));
                    }
                }
            }
        }
    }
    out
}

fn compare(
    kind: Kind,
    planned: &Value,
    desired: &Value,
    found: &Found,
    pruned: &HashMap<&'static str, BTreeSet<(String, String)>>,
) -> (Op, Vec<FieldChange>, Option<String>) {
    if found.kind != kind {
        return (
            Op::Replace,
            Vec::new(),
            Some(format!(
                "it exists as {} and must become {}",
                short(found.kind),
                short(kind)
            )),
        );
    }
    let mut fields = Vec::new();
    for field in kind.fields() {
        let new = desired.get(field.name).unwrap_or(&Value::Null);
        let raw = planned.get(field.name).unwrap_or(&Value::Null);
        let old = found
            .current
            .get(field.name)
            .cloned()
            .unwrap_or(Value::Null);
        fields.extend(field_changes(field, raw, new, old, pruned));
    }
    let op = if fields.iter().any(|f| f.forces_replacement) {
        Op::Replace
    } else if fields.is_empty() {
        Op::Keep
    } else {
        Op::Update
    };
    let reason = match op {
        Op::Replace => {
            let f: Vec<&str> = fields
                .iter()
                .filter(|f| f.forces_replacement)
                .map(|f| f.field.as_str())
                .collect();
            Some(format!("{} cannot be changed in place", f.join(", ")))
        }
        Op::Update => kind.update_reason().map(str::to_string),
        _ => None,
    };
    (op, fields, reason)
}

/// The changes of one field, as its declaration says to compare it.
fn field_changes(
    field: &Field,
    raw: &Value,
    new: &Value,
    old: Value,
    pruned: &HashMap<&'static str, BTreeSet<(String, String)>>,
) -> Vec<FieldChange> {
    let sensitive = field.sensitive || has_secret(raw);
    let change = |old: Value, new: Value, forces_replacement: bool| FieldChange {
        field: field.name.to_string(),
        old: if sensitive && !old.is_null() {
            json!(SENSITIVE)
        } else {
            old
        },
        new,
        forces_replacement,
    };
    let replace = match field.change {
        How::Identity | How::Ignore(_) => return Vec::new(),
        How::Options(rules) => return option_changes(raw, new, &old, rules, pruned),
        How::Rules => {
            let (a, b) = (rule_set(new), rule_set(&old));
            return if has_unknown(new) {
                vec![change(
                    json!(b.iter().collect::<Vec<_>>()),
                    json!(UNKNOWN),
                    false,
                )]
            } else if a != b {
                vec![change(
                    json!(b.iter().collect::<Vec<_>>()),
                    json!(a.iter().collect::<Vec<_>>()),
                    false,
                )]
            } else {
                Vec::new()
            };
        }
        _ if has_unknown(new) => Some(field.change == How::Replace),
        How::Set => {
            // A single value (not a list) is a set of one.
            let set = |v: &Value| -> BTreeSet<String> {
                match v {
                    Value::Array(a) => a.iter().map(|x| x.to_string()).collect(),
                    Value::Null => BTreeSet::new(),
                    other => BTreeSet::from([other.to_string()]),
                }
            };
            (set(new) != set(&old)).then_some(false)
        }
        How::Version => {
            let (n, o) = (
                new.as_str().unwrap_or_default(),
                old.as_str().unwrap_or_default(),
            );
            (!version::satisfies(o, n)).then(|| version::cmp(n, o).is_lt())
        }
        How::Grow => {
            let (n, o) = (new.as_u64().unwrap_or(0), old.as_u64().unwrap_or(0));
            (n != o).then_some(n < o)
        }
        How::Document => {
            // As JSON text (IAM's answers, trust policies) or as JSON (the plan's policies).
            let parse = |v: &Value| match v {
                Value::String(s) => serde_json::from_str::<Value>(s).ok(),
                other => Some(other.clone()),
            };
            (parse(new) != parse(&old)).then_some(false)
        }
        How::Replace => (!same(new, &old)).then_some(true),
        How::Update => (!same(new, &old)).then_some(false),
    };
    match replace {
        Some(forces) => vec![change(old, shown(sensitive, new), forces)],
        None => Vec::new(),
    }
}

/// `CacheCluster` of `elasticache:CreateCacheCluster`.
fn short(kind: Kind) -> &'static str {
    let action = kind.action();
    action
        .split_once(':')
        .map_or(action, |(_, op)| op.trim_start_matches("Create"))
}

/// An option value as text (Elastic Beanstalk holds strings).
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Equality that lets `5432` match `"5432"`: EB and some describe calls return strings.
fn same(a: &Value, b: &Value) -> bool {
    a == b || a.to_string().trim_matches('"') == b.to_string().trim_matches('"')
}

/// One security-group rule per (protocol, port range, source): descriptions do not count.
fn rule_set(perms: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for p in perms.as_array().into_iter().flatten() {
        let head = format!(
            "{} {}-{}",
            p["IpProtocol"].as_str().unwrap_or("tcp"),
            p["FromPort"],
            p["ToPort"]
        );
        for r in p["IpRanges"].as_array().into_iter().flatten() {
            out.insert(format!(
                "{head} from {}",
                r["CidrIp"].as_str().unwrap_or_default()
            ));
        }
        for g in p["UserIdGroupPairs"].as_array().into_iter().flatten() {
            let id = match &g["GroupId"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.insert(format!("{head} from {id}"));
        }
    }
    out
}

fn option_key(o: &Value) -> (String, String) {
    (
        o["Namespace"].as_str().unwrap_or_default().to_string(),
        o["OptionName"].as_str().unwrap_or_default().to_string(),
    )
}

fn option_name(o: &Value) -> String {
    let (ns, name) = option_key(o);
    format!("{ns}/{name}")
}

/// Changes of option settings: each desired option against its current value; with `prune`,
/// options of that namespace that exist but that no step wants any more.
fn option_changes(
    raw: &Value,
    desired: &Value,
    current: &Value,
    rules: OptionRules,
    pruned: &HashMap<&'static str, BTreeSet<(String, String)>>,
) -> Vec<FieldChange> {
    let cur: HashMap<String, &Value> = current
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| (option_name(o), &o["Value"]))
        .collect();
    let raws: HashMap<String, &Value> = raw
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| (option_name(o), &o["Value"]))
        .collect();
    let mut out = Vec::new();
    for o in desired.as_array().into_iter().flatten() {
        let key = option_name(o);
        let new = &o["Value"];
        let raw_v = raws.get(&key).copied().unwrap_or(&Value::Null);
        let old = cur.get(&key).copied().cloned().unwrap_or(Value::Null);
        let norm = |v: &Value| Value::String((rules.normalize)(&key, &value_text(v)));
        if has_unknown(new) || !same(&norm(new), &norm(&old)) || old.is_null() {
            let forces_replacement = rules.replace.contains(&key.as_str()) && !old.is_null();
            let sensitive = has_secret(raw_v);
            out.push(FieldChange {
                field: key,
                old: if sensitive && !old.is_null() {
                    json!(SENSITIVE)
                } else {
                    old
                },
                new: shown(sensitive, new),
                forces_replacement,
            });
        }
    }
    if let Some(prefix) = rules.prune {
        let wanted = pruned.get(prefix);
        for o in current.as_array().into_iter().flatten() {
            let key = option_key(o);
            if key.0.starts_with(prefix) && !wanted.is_some_and(|w| w.contains(&key)) {
                out.push(FieldChange {
                    field: option_name(o),
                    // The program no longer says whether it was a secret("VAR"): never show it.
                    old: json!(SENSITIVE),
                    new: Value::Null,
                    forces_replacement: false,
                });
            }
        }
    }
    out
}

/// Replacements apply would have to refuse (each resource type says which it refuses: a
/// protected database the program does not unprotect, an environment, which would stop the
/// application). Found before any change, so that apply stops before starting. Each is
/// (resource, why).
pub fn refused(plan: &Plan, snap: &Snapshot, changes: &[Change]) -> Vec<(String, String)> {
    changes
        .iter()
        .filter(|c| c.op == Op::Replace)
        .filter_map(|c| {
            let found = snap.found.get(&c.step)?;
            let want = plan.step(&c.step)?.params();
            let tail = c.kind.refuse_replacement(&found.current, &want)?;
            let reason = c
                .reason
                .clone()
                .unwrap_or_else(|| "it cannot be changed in place".into());
            Some((
                c.resource.clone(),
                format!("must be replaced ({reason}){tail}"),
            ))
        })
        .collect()
}

/// Whether there is anything to do.
pub fn has_changes(changes: &[Change]) -> bool {
    changes
        .iter()
        .any(|c| matches!(c.op, Op::Create | Op::Update | Op::Replace | Op::Delete))
}

/// The human rendering of `stackc plan`, like `terraform plan`.
pub fn render(changes: &[Change]) -> String {
    let mut out = String::new();
    for c in changes {
        let (sign, word) = match c.op {
            Op::Create => ("+", c.kind.verbs().0),
            Op::Update => ("~", c.kind.verbs().1),
            Op::Replace => ("-/+", "replace"),
            Op::Delete => ("-", "delete"),
            Op::Keep | Op::Read => continue,
        };
        let _ = write!(out, "  {sign:>3} {} ({word})", c.resource);
        if let Some(r) = &c.reason {
            let _ = write!(out, ": {r}");
        }
        out.push('\n');
        for f in &c.fields {
            let mark = if f.forces_replacement {
                "  # forces replacement"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "        {}: {} → {}{mark}",
                f.field,
                show(&f.old),
                show(&f.new)
            );
        }
    }
    let count = |op: Op| changes.iter().filter(|c| c.op == op).count();
    let (add, change, replace, delete) = (
        count(Op::Create),
        count(Op::Update),
        count(Op::Replace),
        count(Op::Delete),
    );
    if add + change + replace + delete == 0 {
        out.push_str("No changes: the account matches the program.\n");
    } else {
        let _ = writeln!(
            out,
            "\nPlan: {add} to create, {change} to update, {replace} to replace, {delete} to delete."
        );
    }
    out
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) if s == UNKNOWN || s == SENSITIVE => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
