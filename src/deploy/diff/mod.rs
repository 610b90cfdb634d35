//! The diff: the plan's steps against what refresh found, as create / update (which fields,
//! old → new) / replace / delete / no change per resource. Pure: unit-tested without AWS.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::state::{Found, Snapshot};
use crate::lower::{Plan, Step};

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
    /// A lookup (default VPC, platform version): no resource of its own.
    Read,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The plan step, or `orphan:ID` for a resource the program no longer describes.
    pub step: String,
    pub action: String,
    pub resource: String,
    pub op: Op,
    pub fields: Vec<FieldChange>,
    /// Why a replacement or deletion happens, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One changed field. `new` is `"(known after apply)"` for values not known yet and
/// `"(sensitive)"` for secrets; `old` likewise never holds a secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
    pub forces_replacement: bool,
}

const UNKNOWN: &str = "(known after apply)";
const SENSITIVE: &str = "(sensitive)";

/// How a field of a create call may change on an existing resource.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Policy {
    Ignore,
    Update,
    Replace,
    /// Compared as a set, updated in place.
    Set,
    /// An engine version: upgrades in place, downgrades by replacement; `16` matches `16.4`.
    Version,
    /// Grows in place, shrinks by replacement (RDS storage).
    Grow,
    /// A JSON document (IAM policies, as text or as JSON), compared as JSON.
    JsonDoc,
    /// Security group rules, compared rule by rule.
    Rules,
    /// EB option settings: each desired option must hold its value; others are AWS's.
    Options,
}

fn policy(action: &str, field: &str) -> Policy {
    use Policy::*;
    match (action, field) {
        (_, "Tags" | "TagSpecifications" | "Description") => Ignore,
        ("ec2:CreateSecurityGroup", "VpcId") => Replace,
        ("ec2:AuthorizeSecurityGroupIngress", "IpPermissions") => Rules,
        (_, "SubnetIds" | "VpcSecurityGroupIds" | "SecurityGroupIds") => Set,
        ("rds:CreateDBInstance", f) => match f {
            "Engine" | "DBName" | "MasterUsername" | "StorageEncrypted" => Replace,
            "EngineVersion" => Version,
            "AllocatedStorage" => Grow,
            "DBInstanceClass"
            | "BackupRetentionPeriod"
            | "DeletionProtection"
            | "MultiAZ"
            | "PubliclyAccessible"
            | "CopyTagsToSnapshot"
            | "ManageMasterUserPassword" => Update,
            // A password cannot be read back; it is set at creation and by rotation.
            _ => Ignore,
        },
        ("elasticache:CreateCacheCluster" | "elasticache:CreateReplicationGroup", f) => match f {
            "Engine" | "TransitEncryptionEnabled" | "AtRestEncryptionEnabled" => Replace,
            "EngineVersion" => Version,
            "CacheNodeType" | "NumCacheClusters" | "AutomaticFailoverEnabled" => Update,
            _ => Ignore,
        },
        ("iam:CreateRole", "AssumeRolePolicyDocument") => JsonDoc,
        ("iam:PutRolePolicy", "PolicyDocument") => JsonDoc,
        ("iam:AddRoleToInstanceProfile", "RoleName") => Update,
        ("elasticbeanstalk:CreateEnvironment", "VersionLabel") => Update,
        (
            "elasticbeanstalk:CreateEnvironment" | "elasticbeanstalk:UpdateEnvironment",
            "OptionSettings",
        ) => Options,
        _ => Ignore,
    }
}

/// Reads of the plan that own no resource.
pub fn is_read(action: &str) -> bool {
    let op = action.split_once(':').map_or(action, |(_, op)| op);
    op.starts_with("Describe")
        || op.starts_with("List")
        || op.starts_with("Get")
        || op == "CreateStorageLocation"
}

/// Resolves `{"ref"}` with known outputs (unknown ones become `{"unknown": REF}`) and
/// `{"secret": VAR}` with `secret(VAR)`. Fails on a secret variable that is not set.
pub fn resolve(
    v: &Value,
    outputs: &HashMap<String, Map<String, Value>>,
    secret: &dyn Fn(&str) -> Option<String>,
) -> Result<Value, String> {
    Ok(match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("ref") => {
            let r = m["ref"].as_str().unwrap_or_default();
            let (step, attr) = r.rsplit_once('.').unwrap_or((r, ""));
            match outputs.get(step).and_then(|o| o.get(attr)) {
                Some(v) => v.clone(),
                None => json!({ "unknown": r }),
            }
        }
        Value::Object(m) if m.len() == 1 && m.contains_key("secret") => {
            let var = m["secret"].as_str().unwrap_or_default();
            match secret(var) {
                Some(s) => Value::String(s),
                None => {
                    return Err(format!(
                        "the environment variable {var} is not set (the program reads it with secret(\"{var}\"))"
                    ));
                }
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
        Value::Object(m) => m.contains_key("secret") && m.len() == 1 || m.values().any(has_secret),
        Value::Array(a) => a.iter().any(has_secret),
        _ => false,
    }
}

/// The value as the plan shows it: unknowns and secrets replaced by words.
fn shown(desired: &Value, resolved: &Value) -> Value {
    if has_secret(desired) {
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
    let version_exists = plan.steps.iter().any(|s| {
        s.action == "elasticbeanstalk:CreateApplicationVersion" && snap.found.contains_key(&s.id)
    });
    let env_property_keys = desired_env_properties(plan);
    for step in &plan.steps {
        let resolved = resolve(&step.params, &outputs, secret)?;
        let found = snap.found.get(&step.id);
        let (op, fields, reason) = if is_read(&step.action) {
            // A lookup refresh already made needs no second call; the bucket is needed only
            // to upload a bundle that does not exist yet.
            let storage = step.action.ends_with("CreateStorageLocation");
            let op = if (storage && version_exists) || (!storage && found.is_some()) {
                Op::Keep
            } else {
                Op::Read
            };
            (op, Vec::new(), None)
        } else if step.action == "s3:PutObject" && version_exists {
            (Op::Keep, Vec::new(), None)
        } else {
            match found {
                None => (Op::Create, Vec::new(), None),
                Some(f) => compare(step, &resolved, f, &env_property_keys),
            }
        };
        if let (Op::Keep | Op::Update | Op::Read, Some(f)) = (op, found) {
            outputs.insert(step.id.clone(), f.outputs.clone());
        }
        changes.push(Change {
            step: step.id.clone(),
            action: step.action.clone(),
            resource: step.resource.clone(),
            op,
            fields,
            reason,
        });
    }
    for o in &snap.orphans {
        changes.push(Change {
            step: format!("orphan:{}", o.id),
            action: o.action.clone(),
            resource: o.resource.clone(),
            op: Op::Delete,
            fields: Vec::new(),
            reason: Some("no longer in the program".into()),
        });
    }
    Ok(changes)
}

/// Every key the plan sets in the environment-properties namespaces.
fn desired_env_properties(plan: &Plan) -> BTreeSet<(String, String)> {
    let mut keys = BTreeSet::new();
    for s in &plan.steps {
        if let Some(opts) = s.params.get("OptionSettings").and_then(Value::as_array) {
            for o in opts {
                let ns = o["Namespace"].as_str().unwrap_or_default();
                if ns.starts_with("aws:elasticbeanstalk:application:environment") {
                    keys.insert((
                        ns.to_string(),
                        o["OptionName"].as_str().unwrap_or_default().to_string(),
                    ));
                }
            }
        }
    }
    keys
}

fn compare(
    step: &Step,
    desired: &Value,
    found: &Found,
    env_keys: &BTreeSet<(String, String)>,
) -> (Op, Vec<FieldChange>, Option<String>) {
    if let Some(existing) = &found.action {
        if existing != &step.action {
            return (
                Op::Replace,
                Vec::new(),
                Some(format!(
                    "it exists as {} and must become {}",
                    short(existing),
                    short(&step.action)
                )),
            );
        }
    }
    let mut fields = Vec::new();
    let empty = Map::new();
    let want = desired.as_object().unwrap_or(&empty);
    for (field, new) in want {
        let pol = policy(&step.action, field);
        if pol == Policy::Ignore {
            continue;
        }
        let old = found.current.get(field).cloned().unwrap_or(Value::Null);
        let raw = step.params.get(field).unwrap_or(&Value::Null);
        match pol {
            Policy::Options => {
                let remove = step.action == "elasticbeanstalk:CreateEnvironment";
                fields.extend(option_changes(raw, new, &old, remove.then_some(env_keys)));
            }
            Policy::Rules => {
                let (a, b) = (rule_set(new), rule_set(&old));
                if a != b && !has_unknown(new) {
                    fields.push(FieldChange {
                        field: field.clone(),
                        old: json!(b.iter().collect::<Vec<_>>()),
                        new: json!(a.iter().collect::<Vec<_>>()),
                        forces_replacement: false,
                    });
                } else if has_unknown(new) {
                    fields.push(FieldChange {
                        field: field.clone(),
                        old: json!(b.iter().collect::<Vec<_>>()),
                        new: json!(UNKNOWN),
                        forces_replacement: false,
                    });
                }
            }
            _ => {
                if let Some(replace) = field_differs(pol, new, &old) {
                    fields.push(FieldChange {
                        field: field.clone(),
                        old: if has_secret(raw) {
                            json!(SENSITIVE)
                        } else {
                            old
                        },
                        new: shown(raw, new),
                        forces_replacement: replace,
                    });
                }
            }
        }
    }
    if let Some(f) = password_switch(&step.action, want, &found.current) {
        fields.push(f);
    }
    let op = if fields.iter().any(|f| f.forces_replacement) {
        Op::Replace
    } else if fields.is_empty() {
        Op::Keep
    } else {
        Op::Update
    };
    let reason = (op == Op::Replace).then(|| {
        let f: Vec<&str> = fields
            .iter()
            .filter(|f| f.forces_replacement)
            .map(|f| f.field.as_str())
            .collect();
        format!("{} cannot be changed in place", f.join(", "))
    });
    (op, fields, reason)
}

/// A database whose password Secrets Manager manages, when the program now gives the password
/// (`secret("VAR")`): managing is turned off and the password set, in place. The opposite
/// switch is an ordinary field (`ManageMasterUserPassword`).
fn password_switch(
    action: &str,
    want: &Map<String, Value>,
    current: &Map<String, Value>,
) -> Option<FieldChange> {
    let managed = |m: &Map<String, Value>| m.get("ManageMasterUserPassword") == Some(&json!(true));
    (action == "rds:CreateDBInstance"
        && want.contains_key("MasterUserPassword")
        && !managed(want)
        && managed(current))
    .then(|| FieldChange {
        field: "ManageMasterUserPassword".into(),
        old: json!(true),
        new: json!(false),
        forces_replacement: false,
    })
}

fn short(action: &str) -> &str {
    action
        .split_once(':')
        .map_or(action, |(_, op)| op.trim_start_matches("Create"))
}

/// Whether a field differs; `Some(true)` when the difference forces a replacement.
fn field_differs(pol: Policy, new: &Value, old: &Value) -> Option<bool> {
    if has_unknown(new) {
        return Some(pol == Policy::Replace);
    }
    match pol {
        Policy::Set => {
            let set = |v: &Value| -> BTreeSet<String> {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|x| x.to_string())
                    .collect()
            };
            (set(new) != set(old)).then_some(false)
        }
        Policy::Version => {
            let (n, o) = (
                new.as_str().unwrap_or_default(),
                old.as_str().unwrap_or_default(),
            );
            if o == n || o.starts_with(&format!("{n}.")) {
                return None;
            }
            Some(version_key(n) < version_key(o))
        }
        Policy::Grow => {
            let (n, o) = (new.as_u64().unwrap_or(0), old.as_u64().unwrap_or(0));
            (n != o).then_some(n < o)
        }
        Policy::JsonDoc => {
            // As JSON text (IAM's answers, trust policies) or as JSON (the plan's policies).
            let parse = |v: &Value| match v {
                Value::String(s) => serde_json::from_str::<Value>(s).ok(),
                other => Some(other.clone()),
            };
            (parse(new) != parse(old)).then_some(false)
        }
        Policy::Replace => (!same(new, old)).then_some(true),
        _ => (!same(new, old)).then_some(false),
    }
}

/// Equality that lets `5432` match `"5432"`: EB and some describe calls return strings.
fn same(a: &Value, b: &Value) -> bool {
    a == b || a.to_string().trim_matches('"') == b.to_string().trim_matches('"')
}

fn version_key(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
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

const LOAD_BALANCER_TYPE: &str = "aws:elasticbeanstalk:environment/LoadBalancerType";

fn option_key(o: &Value) -> String {
    format!(
        "{}/{}",
        o["Namespace"].as_str().unwrap_or_default(),
        o["OptionName"].as_str().unwrap_or_default()
    )
}

/// Changes of EB options: each desired option against its current value; with
/// `remove_unlisted`, environment properties that exist but are no longer wanted.
fn option_changes(
    raw: &Value,
    desired: &Value,
    current: &Value,
    remove_unlisted: Option<&BTreeSet<(String, String)>>,
) -> Vec<FieldChange> {
    let cur: HashMap<String, &Value> = current
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| (option_key(o), &o["Value"]))
        .collect();
    let raws: HashMap<String, &Value> = raw
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| (option_key(o), &o["Value"]))
        .collect();
    let mut out = Vec::new();
    for o in desired.as_array().into_iter().flatten() {
        let key = option_key(o);
        let new = &o["Value"];
        let raw_v = raws.get(&key).copied().unwrap_or(&Value::Null);
        let old = cur.get(&key).copied().cloned().unwrap_or(Value::Null);
        if has_unknown(new) || !same(new, &old) {
            // Elastic Beanstalk sets an environment's load balancer type once, at creation
            // (a single-instance environment gets one when it becomes load balanced).
            let forces_replacement = key == LOAD_BALANCER_TYPE && !old.is_null();
            out.push(FieldChange {
                field: key,
                old: if has_secret(raw_v) && !old.is_null() {
                    json!(SENSITIVE)
                } else {
                    old
                },
                new: shown(raw_v, new),
                forces_replacement,
            });
        }
    }
    if let Some(wanted) = remove_unlisted {
        for o in current.as_array().into_iter().flatten() {
            let ns = o["Namespace"].as_str().unwrap_or_default();
            let name = o["OptionName"].as_str().unwrap_or_default();
            if ns.starts_with("aws:elasticbeanstalk:application:environment")
                && !wanted.contains(&(ns.to_string(), name.to_string()))
            {
                out.push(FieldChange {
                    field: option_key(o),
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

/// Replacements apply would have to refuse: a database with deletion protection on that the
/// program does not turn off, and an environment (apply does not terminate a running
/// application to create it again). Found before any change, so that apply stops before
/// starting (the database step refuses too, as a last guard). Each is (resource, why).
pub fn refused(plan: &Plan, snap: &Snapshot, changes: &[Change]) -> Vec<(String, String)> {
    let reason = |c: &Change| {
        c.reason
            .clone()
            .unwrap_or_else(|| "it cannot be changed in place".into())
    };
    let environments = changes
        .iter()
        .filter(|c| c.op == Op::Replace && c.action == "elasticbeanstalk:CreateEnvironment")
        .map(|c| {
            (
                c.resource.clone(),
                format!(
                    "must be replaced ({}), which stops the application: keep the setting, or \
                     run `stackc destroy` and then `stackc apply`",
                    reason(c)
                ),
            )
        });
    changes
        .iter()
        .filter(|c| c.op == Op::Replace && c.action == "rds:CreateDBInstance")
        .filter(|c| {
            let protected = snap
                .found
                .get(&c.step)
                .is_some_and(|f| f.current.get("DeletionProtection") == Some(&Value::Bool(true)));
            let turned_off = plan.steps.iter().any(|s| {
                s.id == c.step && s.params.get("DeletionProtection") == Some(&Value::Bool(false))
            });
            protected && !turned_off
        })
        .map(|c| {
            (
                c.resource.clone(),
                format!(
                    "must be replaced ({}) but has deletion protection on: set \
                     `deletion_protection = false` for it in the file and run `stackc apply` first",
                    reason(c)
                ),
            )
        })
        .chain(environments)
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
            Op::Create => ("+", "create"),
            Op::Update => ("~", "update"),
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
