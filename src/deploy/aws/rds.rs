//! RDS: the PostgreSQL instance of a `postgres` store and its DB subnet group.
//!
//! Refresh reads every DB instance once (DescribeDBInstances returns the tags) and every DB
//! subnet group once, then lists the tags only of the subnet groups this stack may own (the
//! plan's names, and names starting with `<stack>-`, the pattern stackc names them with).
//! A no-change apply therefore costs one read per instance and about two per subnet group.
//!
//! The master password (`MasterUserPassword`, from `secret("VAR")`) reaches this module as a
//! plain string: it is passed to the SDK and nowhere else, and scrubbed from any AWS message.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_rds::types::{DbInstance, DbSubnetGroup, Tag};
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

use super::wait::{self, Poll};
use super::{Ctx, DeployError, aws_error, error_code, owned, params};
use crate::deploy::diff::Op;
use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
use crate::lower::{Plan, Step};

const CREATE_INSTANCE: &str = "rds:CreateDBInstance";
const CREATE_SUBNET_GROUP: &str = "rds:CreateDBSubnetGroup";

/// How long a subnet group may stay "in use" while a deleted instance lets go of it.
const SUBNET_GROUP_RELEASE: Duration = Duration::from_secs(10 * 60);

// ---------------------------------------------------------------------------------------------
// Statuses (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html)

/// A status that waiting will not fix.
fn failed(status: &str) -> bool {
    matches!(
        status,
        "failed" | "restore-error" | "storage-full" | "insufficient-capacity"
    ) || status.starts_with("incompatible-")
        || status.starts_with("inaccessible-encryption-credentials")
}

/// A status in which the instance serves connections at its endpoint: nothing to wait for
/// before others use it. `stopped` is the operator's choice and does not end by waiting.
fn usable(status: &str) -> bool {
    matches!(
        status,
        "available" | "backing-up" | "storage-optimization" | "stopped"
    )
}

// ---------------------------------------------------------------------------------------------
// Reading what exists

fn tags_of(db: &DbInstance) -> Vec<(&str, &str)> {
    db.tag_list()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// What exists, under the parameter names of CreateDBInstance.
fn instance_current(db: &DbInstance) -> Value {
    let groups = sorted(
        db.vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
            .collect(),
    );
    json!({
        "DBInstanceIdentifier": db.db_instance_identifier(),
        "Engine": db.engine(),
        "EngineVersion": db.engine_version(),
        "DBInstanceClass": db.db_instance_class(),
        "AllocatedStorage": db.allocated_storage(),
        "DBName": db.db_name(),
        "MasterUsername": db.master_username(),
        "ManageMasterUserPassword": db.master_user_secret().is_some(),
        "BackupRetentionPeriod": db.backup_retention_period(),
        "DeletionProtection": db.deletion_protection().unwrap_or(false),
        "MultiAZ": db.multi_az().unwrap_or(false),
        "StorageEncrypted": db.storage_encrypted().unwrap_or(false),
        "PubliclyAccessible": db.publicly_accessible().unwrap_or(false),
        "VpcSecurityGroupIds": groups,
        "DBSubnetGroupName": db.db_subnet_group().and_then(|g| g.db_subnet_group_name()),
        "CopyTagsToSnapshot": db.copy_tags_to_snapshot().unwrap_or(false),
    })
}

/// The EB `environmentsecrets` reference to the JSON key `password` of the managed secret.
fn password_secret(secret_arn: &str) -> String {
    format!("{secret_arn}:password::")
}

/// What later steps read: `host`, `port` (a string, as environment properties hold it),
/// `password_secret` and `secret_arn` when RDS manages the password, and `id`.
fn instance_outputs(db: &DbInstance) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(e) = db.endpoint() {
        if let Some(host) = e.address() {
            out.insert("host".into(), json!(host));
        }
        if let Some(port) = e.port() {
            out.insert("port".into(), json!(port.to_string()));
        }
    }
    if let Some(arn) = db.master_user_secret().and_then(|s| s.secret_arn()) {
        out.insert("password_secret".into(), json!(password_secret(arn)));
        out.insert("secret_arn".into(), json!(arn));
    }
    out.insert(
        "id".into(),
        json!(db.db_instance_identifier().unwrap_or_default()),
    );
    out
}

fn instance_found(db: &DbInstance) -> Found {
    let mut f = Found::new(instance_current(db), Value::Object(instance_outputs(db)));
    f.status = db.db_instance_status().map(str::to_string);
    f
}

fn subnet_group_current(g: &DbSubnetGroup) -> Value {
    let subnets = sorted(
        g.subnets()
            .iter()
            .filter_map(|s| s.subnet_identifier().map(str::to_string))
            .collect(),
    );
    json!({
        "DBSubnetGroupName": g.db_subnet_group_name(),
        "DBSubnetGroupDescription": g.db_subnet_group_description(),
        "SubnetIds": subnets,
    })
}

fn subnet_group_outputs(name: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    out.insert("id".into(), json!(name));
    out
}

async fn all_instances(ctx: &Ctx) -> Result<Vec<DbInstance>, DeployError> {
    ctx.clients
        .rds
        .describe_db_instances()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| aws_error("RDS instances", "DescribeDBInstances", &e))
}

async fn all_subnet_groups(ctx: &Ctx) -> Result<Vec<DbSubnetGroup>, DeployError> {
    ctx.clients
        .rds
        .describe_db_subnet_groups()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| aws_error("DB subnet groups", "DescribeDBSubnetGroups", &e))
}

/// The tags of each `(name, arn)`, listed concurrently.
async fn tags_by_name(
    ctx: &Ctx,
    arns: Vec<(String, String)>,
) -> Result<Vec<(String, Vec<(String, String)>)>, DeployError> {
    let mut set = JoinSet::new();
    for (name, arn) in arns {
        let rds = ctx.clients.rds.clone();
        set.spawn(async move {
            let r = rds
                .list_tags_for_resource()
                .resource_name(&arn)
                .send()
                .await;
            let r = r
                .map(|o| {
                    o.tag_list()
                        .iter()
                        .map(|t| {
                            (
                                t.key().unwrap_or_default().to_string(),
                                t.value().unwrap_or_default().to_string(),
                            )
                        })
                        .collect()
                })
                .map_err(|e| {
                    aws_error(
                        &format!("DB subnet group {name}"),
                        "ListTagsForResource",
                        &e,
                    )
                });
            (name, r)
        });
    }
    let mut out = Vec::new();
    while let Some(j) = set.join_next().await {
        let (name, r) = j.map_err(|e| {
            DeployError::other(
                "DB subnet groups",
                format!("a read stopped unexpectedly: {e}"),
            )
        })?;
        out.push((name, r?));
    }
    out.sort();
    Ok(out)
}

pub async fn refresh(ctx: &Ctx, plan: &Plan) -> Result<Snapshot, DeployError> {
    let mut snap = Snapshot::default();
    let (instances, groups) = tokio::join!(all_instances(ctx), all_subnet_groups(ctx));
    let (instances, groups) = (instances?, groups?);

    // Instances: by identifier; the tags come with the description.
    let mut matched = BTreeSet::new();
    for step in plan.steps.iter().filter(|s| s.action == CREATE_INSTANCE) {
        let id = params::str(&step.params, "DBInstanceIdentifier");
        let Some(db) = instances.iter().find(|d| {
            d.db_instance_identifier()
                .is_some_and(|i| i.eq_ignore_ascii_case(id))
        }) else {
            continue;
        };
        if owned(tags_of(db), &ctx.stack) {
            matched.insert(db.db_instance_identifier().unwrap_or_default().to_string());
            snap.found.insert(step.id.clone(), instance_found(db));
        } else {
            snap.conflicts.push(Conflict {
                step: step.id.clone(),
                resource: step.resource.clone(),
                why: format!("an RDS instance with the identifier {id} already exists and is not tagged `stackc:stack = {}`", ctx.stack),
            });
        }
    }
    for db in &instances {
        let id = db.db_instance_identifier().unwrap_or_default();
        if owned(tags_of(db), &ctx.stack) && !matched.contains(id) {
            snap.orphans.push(Orphan {
                action: CREATE_INSTANCE.into(),
                id: id.to_string(),
                resource: format!("RDS instance {id}"),
            });
        }
    }

    // Subnet groups: tags only of the ones this stack may own.
    let group_steps: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| s.action == CREATE_SUBNET_GROUP)
        .collect();
    let wanted: BTreeSet<String> = group_steps
        .iter()
        .map(|s| params::str(&s.params, "DBSubnetGroupName").to_ascii_lowercase())
        .collect();
    let prefix = format!("{}-", ctx.stack.to_ascii_lowercase());
    let candidates: Vec<(String, String)> = groups
        .iter()
        .filter_map(|g| {
            let name = g.db_subnet_group_name()?.to_string();
            let lower = name.to_ascii_lowercase();
            (wanted.contains(&lower) || lower.starts_with(&prefix))
                .then(|| g.db_subnet_group_arn().map(|a| (name, a.to_string())))?
        })
        .collect();
    let tags = tags_by_name(ctx, candidates).await?;
    let is_ours = |name: &str| {
        tags.iter().any(|(n, t)| {
            n == name && owned(t.iter().map(|(k, v)| (k.as_str(), v.as_str())), &ctx.stack)
        })
    };
    let mut matched = BTreeSet::new();
    for step in &group_steps {
        let want = params::str(&step.params, "DBSubnetGroupName");
        let Some(g) = groups.iter().find(|g| {
            g.db_subnet_group_name()
                .is_some_and(|n| n.eq_ignore_ascii_case(want))
        }) else {
            continue;
        };
        let name = g.db_subnet_group_name().unwrap_or_default();
        if is_ours(name) {
            matched.insert(name.to_string());
            snap.found.insert(
                step.id.clone(),
                Found::new(
                    subnet_group_current(g),
                    Value::Object(subnet_group_outputs(name)),
                ),
            );
        } else {
            snap.conflicts.push(Conflict {
                step: step.id.clone(),
                resource: step.resource.clone(),
                why: format!("a DB subnet group named {name} already exists and is not tagged `stackc:stack = {}`", ctx.stack),
            });
        }
    }
    for (name, _) in &tags {
        if is_ours(name) && !matched.contains(name) {
            snap.orphans.push(Orphan {
                action: CREATE_SUBNET_GROUP.into(),
                id: name.clone(),
                resource: format!("DB subnet group {name}"),
            });
        }
    }
    Ok(snap)
}

// ---------------------------------------------------------------------------------------------
// Changing things

fn rds_tags(p: &Value) -> Vec<Tag> {
    params::tags(p)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Never let the password through in an error message, whatever AWS echoes.
fn scrub(mut e: DeployError, secret: Option<&str>) -> DeployError {
    if let Some(s) = secret.filter(|s| !s.is_empty()) {
        e.message = e.message.replace(s, "(sensitive)");
    }
    e
}

fn version_parts(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Whether the wanted version is what runs: `16` is satisfied by `16.4`.
fn version_matches(want: &str, have: &str) -> bool {
    want == have || have.starts_with(&format!("{want}."))
}

fn major(v: &str) -> u64 {
    version_parts(v).first().copied().unwrap_or(0)
}

fn string_set(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// The fields of ModifyDBInstance that differ between the wanted parameters and what exists.
/// Shrinking storage and downgrading the engine cannot be done in place (the diff replaces);
/// they are not modifications.
fn modifications(want: &Value, current: &Map<String, Value>) -> Vec<&'static str> {
    let mut out = Vec::new();
    let cur = |k: &str| current.get(k).unwrap_or(&Value::Null);
    for k in [
        "DBInstanceClass",
        "BackupRetentionPeriod",
        "DeletionProtection",
        "MultiAZ",
        "PubliclyAccessible",
        "CopyTagsToSnapshot",
    ] {
        if let Some(w) = want.get(k) {
            if w != cur(k) {
                out.push(k);
            }
        }
    }
    if let (Some(w), Some(c)) = (
        want.get("AllocatedStorage").and_then(Value::as_u64),
        cur("AllocatedStorage").as_u64(),
    ) {
        if w > c {
            out.push("AllocatedStorage");
        }
    }
    if let Some(w) = want.get("EngineVersion").and_then(Value::as_str) {
        let c = cur("EngineVersion").as_str().unwrap_or_default();
        if !version_matches(w, c) && version_parts(w) > version_parts(c) {
            out.push("EngineVersion");
        }
    }
    if want.get("ManageMasterUserPassword") == Some(&Value::Bool(true))
        && cur("ManageMasterUserPassword") != &Value::Bool(true)
    {
        out.push("ManageMasterUserPassword");
    }
    // The program now gives the password of a database whose password AWS manages.
    if want.get("MasterUserPassword").is_some()
        && want.get("ManageMasterUserPassword") != Some(&Value::Bool(true))
        && cur("ManageMasterUserPassword") == &Value::Bool(true)
    {
        out.push("MasterUserPassword");
    }
    if want.get("VpcSecurityGroupIds").is_some()
        && string_set(want.get("VpcSecurityGroupIds"))
            != string_set(current.get("VpcSecurityGroupIds"))
    {
        out.push("VpcSecurityGroupIds");
    }
    out
}

/// Whether a modification is still pending (ApplyImmediately applies it during `modifying`).
fn pending(db: &DbInstance, fields: &[&str]) -> bool {
    let Some(p) = db.pending_modified_values() else {
        return false;
    };
    fields.iter().any(|f| match *f {
        "DBInstanceClass" => p.db_instance_class().is_some(),
        "AllocatedStorage" => p.allocated_storage().is_some(),
        "EngineVersion" => p.engine_version().is_some(),
        "BackupRetentionPeriod" => p.backup_retention_period().is_some(),
        "MultiAZ" => p.multi_az().is_some(),
        _ => false,
    })
}

/// The final snapshot a deleted instance leaves: `<identifier>-final-<unix seconds>`.
fn final_snapshot_id(id: &str, now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{id}-final-{secs}")
}

async fn describe(ctx: &Ctx, id: &str, resource: &str) -> Result<Option<DbInstance>, DeployError> {
    match ctx
        .clients
        .rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
    {
        Ok(o) => Ok(o
            .db_instances()
            .iter()
            .find(|d| {
                d.db_instance_identifier()
                    .is_some_and(|i| i.eq_ignore_ascii_case(id))
            })
            .cloned()),
        Err(e) if error_code(&e) == Some("DBInstanceNotFound") => Ok(None),
        Err(e) => Err(aws_error(resource, "DescribeDBInstances", &e)),
    }
}

/// One poll of an instance that should become usable (with its `fields` applied).
fn poll_ready(db: Option<DbInstance>, fields: &[&str]) -> Result<Poll<DbInstance>, String> {
    let Some(db) = db else {
        return Err("no longer exists (it was deleted while stackc waited for it)".into());
    };
    let status = db.db_instance_status().unwrap_or("unknown").to_string();
    Ok(if failed(&status) || status == "deleting" {
        Poll::Failed(status)
    } else if usable(&status) && db.endpoint().is_some() && !pending(&db, fields) {
        Poll::Ready(db)
    } else {
        Poll::Pending(status)
    })
}

/// Waits until the instance serves at its endpoint, with `fields` applied; returns its outputs.
async fn wait_ready(
    ctx: &Ctx,
    key: &str,
    id: &str,
    resource: &str,
    fields: &[&str],
) -> Result<Map<String, Value>, DeployError> {
    let db = wait::until(
        ctx,
        key,
        resource,
        ctx.timing.store_timeout,
        move || async move {
            let db = describe(ctx, id, resource).await?;
            poll_ready(db, fields).map_err(|m| DeployError::other(resource, m))
        },
    )
    .await?;
    Ok(instance_outputs(&db))
}

/// Waits until DescribeDBInstances says DBInstanceNotFound.
async fn wait_gone(ctx: &Ctx, key: &str, id: &str, resource: &str) -> Result<(), DeployError> {
    wait::until(
        ctx,
        key,
        resource,
        ctx.timing.store_timeout,
        move || async move {
            Ok(match describe(ctx, id, resource).await? {
                None => Poll::Ready(()),
                Some(db) => {
                    Poll::Pending(db.db_instance_status().unwrap_or("deleting").to_string())
                }
            })
        },
    )
    .await
}

fn protected_error(resource: &str, code: &str, message: &str) -> DeployError {
    DeployError {
        resource: resource.to_string(),
        call: "DeleteDBInstance".into(),
        code: code.to_string(),
        message: format!(
            "{message} (it has deletion protection on: set `deletion_protection = false` for it in the file and run `stackc apply` \
             first; for an instance no longer in the file, `aws rds modify-db-instance --db-instance-identifier <id> \
             --no-deletion-protection --apply-immediately`)"
        ),
    }
}

/// Deletes an instance with a final snapshot and waits until it is gone. Transitional states
/// that refuse deletion are waited out; an instance already being deleted is only waited for.
async fn delete_instance(
    ctx: &Ctx,
    key: &str,
    id: &str,
    resource: &str,
    status: Option<&str>,
) -> Result<(), DeployError> {
    if status != Some("deleting") {
        let snapshot = final_snapshot_id(id, SystemTime::now());
        wait::until(ctx, key, resource, ctx.timing.store_timeout, move || {
            let snapshot = snapshot.clone();
            async move {
                let r = ctx
                    .clients
                    .rds
                    .delete_db_instance()
                    .db_instance_identifier(id)
                    .final_db_snapshot_identifier(snapshot)
                    .send()
                    .await;
                match r {
                    Ok(_) => Ok(Poll::Ready(())),
                    Err(e) if error_code(&e) == Some("DBInstanceNotFound") => Ok(Poll::Ready(())),
                    Err(e) if error_code(&e) == Some("InvalidDBInstanceState") => {
                        // Busy (modifying, backing up) or already being deleted.
                        match describe(ctx, id, resource).await? {
                            None => Ok(Poll::Ready(())),
                            Some(db) if db.db_instance_status() == Some("deleting") => {
                                Ok(Poll::Ready(()))
                            }
                            Some(db) => {
                                let s = db.db_instance_status().unwrap_or("unknown").to_string();
                                if failed(&s) {
                                    Err(aws_error(resource, "DeleteDBInstance", &e))
                                } else {
                                    Ok(Poll::Pending(s))
                                }
                            }
                        }
                    }
                    Err(e) => {
                        let err = aws_error(resource, "DeleteDBInstance", &e);
                        if err.code == "InvalidParameterCombination"
                            && err.message.to_ascii_lowercase().contains("protect")
                        {
                            Err(protected_error(resource, &err.code, &err.message))
                        } else {
                            Err(err)
                        }
                    }
                }
            }
        })
        .await?;
    }
    wait_gone(ctx, key, id, resource).await
}

async fn create_instance(
    ctx: &Ctx,
    step: &Step,
    p: &Value,
) -> Result<Option<DbInstance>, DeployError> {
    let password = params::opt_str(p, "MasterUserPassword");
    let r = ctx
        .clients
        .rds
        .create_db_instance()
        .db_instance_identifier(params::str(p, "DBInstanceIdentifier"))
        .engine(params::str(p, "Engine"))
        .set_engine_version(params::opt_str(p, "EngineVersion"))
        .db_instance_class(params::str(p, "DBInstanceClass"))
        .set_allocated_storage(params::int(p, "AllocatedStorage"))
        .set_db_name(params::opt_str(p, "DBName"))
        .set_master_username(params::opt_str(p, "MasterUsername"))
        .set_master_user_password(password.clone())
        .set_manage_master_user_password(params::bool(p, "ManageMasterUserPassword"))
        .set_backup_retention_period(params::int(p, "BackupRetentionPeriod"))
        .set_deletion_protection(params::bool(p, "DeletionProtection"))
        .set_multi_az(params::bool(p, "MultiAZ"))
        .set_storage_encrypted(params::bool(p, "StorageEncrypted"))
        .set_publicly_accessible(params::bool(p, "PubliclyAccessible"))
        .set_vpc_security_group_ids(Some(params::strings(p, "VpcSecurityGroupIds")))
        .set_db_subnet_group_name(params::opt_str(p, "DBSubnetGroupName"))
        .set_copy_tags_to_snapshot(params::bool(p, "CopyTagsToSnapshot"))
        .set_tags(Some(rds_tags(p)))
        .send()
        .await;
    match r {
        Ok(o) => Ok(o.db_instance().cloned()),
        Err(e) => Err(scrub(
            aws_error(&step.resource, "CreateDBInstance", &e),
            password.as_deref(),
        )),
    }
}

async fn modify_instance(
    ctx: &Ctx,
    step: &Step,
    id: &str,
    p: &Value,
    fields: &[&str],
    current: &Map<String, Value>,
) -> Result<(), DeployError> {
    let mut m = ctx
        .clients
        .rds
        .modify_db_instance()
        .db_instance_identifier(id)
        .apply_immediately(true);
    for f in fields {
        m = match *f {
            "DBInstanceClass" => m.set_db_instance_class(params::opt_str(p, f)),
            "AllocatedStorage" => m.set_allocated_storage(params::int(p, f)),
            "EngineVersion" => {
                let want = params::str(p, f);
                let have = current.get(*f).and_then(Value::as_str).unwrap_or_default();
                m.engine_version(want)
                    .set_allow_major_version_upgrade((major(want) > major(have)).then_some(true))
            }
            "BackupRetentionPeriod" => m.set_backup_retention_period(params::int(p, f)),
            "DeletionProtection" => m.set_deletion_protection(params::bool(p, f)),
            "MultiAZ" => m.set_multi_az(params::bool(p, f)),
            "PubliclyAccessible" => m.set_publicly_accessible(params::bool(p, f)),
            "CopyTagsToSnapshot" => m.set_copy_tags_to_snapshot(params::bool(p, f)),
            "ManageMasterUserPassword" => m.manage_master_user_password(true),
            "MasterUserPassword" => m
                .manage_master_user_password(false)
                .set_master_user_password(params::opt_str(p, f)),
            "VpcSecurityGroupIds" => m.set_vpc_security_group_ids(Some(params::strings(p, f))),
            _ => m,
        };
    }
    m.send()
        .await
        .map_err(|e| aws_error(&step.resource, "ModifyDBInstance", &e))?;
    Ok(())
}

async fn run_instance(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    let key = step.id.as_str();
    let resource = step.resource.as_str();
    let id = params::str(p, "DBInstanceIdentifier");
    let existing = found
        .and_then(|f| f.outputs.get("id"))
        .and_then(Value::as_str)
        .unwrap_or(id);
    let status = found.and_then(|f| f.status.as_deref());

    // An instance still being deleted (an interrupted destroy) is waited out, then created anew.
    let op = if status == Some("deleting") {
        wait_gone(ctx, key, existing, resource).await?;
        Op::Create
    } else {
        op
    };
    match op {
        Op::Keep | Op::Read => {
            if let Some(f) = found.filter(|f| {
                f.status.as_deref().is_some_and(usable) && f.outputs.contains_key("host")
            }) {
                return Ok(f.outputs.clone());
            }
            wait_ready(ctx, key, existing, resource, &[]).await
        }
        Op::Update => {
            let current = found.map(|f| f.current.clone()).unwrap_or_default();
            let fields = modifications(p, &current);
            if !fields.is_empty() {
                // ModifyDBInstance refuses an instance that is busy: let it settle first.
                if !status.is_some_and(usable) {
                    wait_ready(ctx, key, existing, resource, &[]).await?;
                }
                modify_instance(ctx, step, existing, p, &fields, &current).await?;
            }
            wait_ready(ctx, key, existing, resource, &fields).await
        }
        Op::Replace | Op::Create | Op::Delete => {
            if op == Op::Replace {
                if let Some(f) = found {
                    if f.current.get("DeletionProtection") == Some(&Value::Bool(true)) {
                        if params::bool(p, "DeletionProtection") == Some(false) {
                            // The file turns protection off: do so, then replace.
                            if !status.is_some_and(usable) {
                                wait_ready(ctx, key, existing, resource, &[]).await?;
                            }
                            modify_instance(
                                ctx,
                                step,
                                existing,
                                p,
                                &["DeletionProtection"],
                                &f.current,
                            )
                            .await?;
                        } else {
                            return Err(DeployError::other(
                                resource,
                                "must be replaced (deleted, with a final snapshot, and created again) but has deletion protection on: \
                                 set `deletion_protection = false` for it in the file and run `stackc apply` first",
                            ));
                        }
                    }
                    ctx.progress.status(key, "deleting the old instance");
                    delete_instance(ctx, key, existing, resource, status).await?;
                }
            }
            let created = match create_instance(ctx, step, p).await {
                Ok(db) => db,
                Err(e) if e.code == "DBInstanceAlreadyExists" => {
                    // Refresh did not see it: created since, or still being deleted.
                    match describe(ctx, id, resource).await? {
                        Some(db)
                            if owned(tags_of(&db), &ctx.stack)
                                && db.db_instance_status() == Some("deleting") =>
                        {
                            wait_gone(ctx, key, id, resource).await?;
                            create_instance(ctx, step, p).await?
                        }
                        Some(db) if owned(tags_of(&db), &ctx.stack) => Some(db),
                        _ => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
            // A response that already shows a usable instance needs no wait.
            if let Some(Ok(Poll::Ready(db))) = created.map(|db| poll_ready(Some(db), &[])) {
                return Ok(instance_outputs(&db));
            }
            wait_ready(ctx, key, id, resource, &[]).await
        }
    }
}

async fn run_subnet_group(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    let rds = &ctx.clients.rds;
    let name = params::str(p, "DBSubnetGroupName");
    match op {
        Op::Keep | Op::Read => Ok(found
            .map(|f| f.outputs.clone())
            .unwrap_or_else(|| subnet_group_outputs(name))),
        Op::Update => {
            rds.modify_db_subnet_group()
                .db_subnet_group_name(name)
                .set_subnet_ids(Some(params::strings(p, "SubnetIds")))
                .send()
                .await
                .map_err(|e| aws_error(&step.resource, "ModifyDBSubnetGroup", &e))?;
            Ok(subnet_group_outputs(name))
        }
        Op::Replace | Op::Create | Op::Delete => {
            if op == Op::Replace && found.is_some() {
                delete_subnet_group(ctx, name, &step.resource).await?;
            }
            let r = rds
                .create_db_subnet_group()
                .db_subnet_group_name(name)
                .db_subnet_group_description(params::str(p, "DBSubnetGroupDescription"))
                .set_subnet_ids(Some(params::strings(p, "SubnetIds")))
                .set_tags(Some(rds_tags(p)))
                .send()
                .await
                .map_err(|e| aws_error(&step.resource, "CreateDBSubnetGroup", &e))?;
            let name = r
                .db_subnet_group()
                .and_then(|g| g.db_subnet_group_name())
                .unwrap_or(name);
            Ok(subnet_group_outputs(name))
        }
    }
}

pub async fn run(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    match step.action.as_str() {
        CREATE_INSTANCE => run_instance(ctx, step, op, p, found).await,
        CREATE_SUBNET_GROUP => run_subnet_group(ctx, step, op, p, found).await,
        other => Err(DeployError::other(
            &step.resource,
            format!("no executor for {other}"),
        )),
    }
}

/// Deletes a DB subnet group; one still in use by an instance that is going away is retried.
async fn delete_subnet_group(ctx: &Ctx, name: &str, resource: &str) -> Result<(), DeployError> {
    let key = format!("destroy:{name}:{CREATE_SUBNET_GROUP}");
    let key = key.as_str();
    wait::until(
        ctx,
        key,
        resource,
        SUBNET_GROUP_RELEASE,
        move || async move {
            match ctx
                .clients
                .rds
                .delete_db_subnet_group()
                .db_subnet_group_name(name)
                .send()
                .await
            {
                Ok(_) => Ok(Poll::Ready(())),
                Err(e) if error_code(&e) == Some("DBSubnetGroupNotFoundFault") => {
                    Ok(Poll::Ready(()))
                }
                Err(e) if error_code(&e) == Some("InvalidDBSubnetGroupStateFault") => {
                    Ok(Poll::Pending("in use".into()))
                }
                Err(e) => Err(aws_error(resource, "DeleteDBSubnetGroup", &e)),
            }
        },
    )
    .await
}

pub async fn delete(
    ctx: &Ctx,
    action: &str,
    id: &str,
    resource: &str,
    found: Option<&Found>,
) -> Result<(), DeployError> {
    match action {
        CREATE_INSTANCE => {
            if found
                .is_some_and(|f| f.current.get("DeletionProtection") == Some(&Value::Bool(true)))
            {
                return Err(protected_error(
                    resource,
                    "DeletionProtection",
                    "not deleted",
                ));
            }
            let key = format!("destroy:{id}:{action}");
            delete_instance(
                ctx,
                &key,
                id,
                resource,
                found.and_then(|f| f.status.as_deref()),
            )
            .await
        }
        CREATE_SUBNET_GROUP => delete_subnet_group(ctx, id, resource).await,
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_rds::types::{
        DbSubnetGroup, Endpoint, MasterUserSecret, PendingModifiedValues, Subnet,
        VpcSecurityGroupMembership,
    };

    use super::*;

    fn instance(status: &str) -> DbInstance {
        DbInstance::builder()
            .db_instance_identifier("shop-db")
            .engine("postgres")
            .engine_version("16.4")
            .db_instance_class("db.t3.micro")
            .allocated_storage(20)
            .db_name("shop")
            .master_username("postgres")
            .master_user_secret(
                MasterUserSecret::builder()
                    .secret_arn("arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1")
                    .build(),
            )
            .backup_retention_period(7)
            .deletion_protection(true)
            .multi_az(false)
            .storage_encrypted(true)
            .publicly_accessible(false)
            .vpc_security_groups(
                VpcSecurityGroupMembership::builder()
                    .vpc_security_group_id("sg-2")
                    .build(),
            )
            .vpc_security_groups(
                VpcSecurityGroupMembership::builder()
                    .vpc_security_group_id("sg-1")
                    .build(),
            )
            .db_subnet_group(
                DbSubnetGroup::builder()
                    .db_subnet_group_name("shop-db")
                    .build(),
            )
            .copy_tags_to_snapshot(true)
            .db_instance_status(status)
            .endpoint(
                Endpoint::builder()
                    .address("shop-db.abc.eu-west-1.rds.amazonaws.com")
                    .port(5432)
                    .build(),
            )
            .tag_list(Tag::builder().key("stackc:stack").value("shop").build())
            .build()
    }

    #[test]
    fn current_uses_the_create_parameter_names() {
        let c = instance_current(&instance("available"));
        assert_eq!(c["DBInstanceClass"], "db.t3.micro");
        assert_eq!(c["AllocatedStorage"], 20);
        assert_eq!(c["ManageMasterUserPassword"], true);
        assert_eq!(c["VpcSecurityGroupIds"], json!(["sg-1", "sg-2"]));
        assert_eq!(c["DBSubnetGroupName"], "shop-db");
        assert_eq!(c["DeletionProtection"], true);
        assert_eq!(c["EngineVersion"], "16.4");
    }

    #[test]
    fn outputs_hold_the_endpoint_and_the_secret_reference() {
        let o = instance_outputs(&instance("available"));
        assert_eq!(o["host"], "shop-db.abc.eu-west-1.rds.amazonaws.com");
        assert_eq!(o["port"], "5432");
        assert_eq!(
            o["password_secret"],
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1:password::"
        );
        assert_eq!(o["id"], "shop-db");
        let unmanaged = DbInstance::builder().db_instance_identifier("x").build();
        assert!(!instance_outputs(&unmanaged).contains_key("password_secret"));
    }

    #[test]
    fn statuses() {
        for s in [
            "failed",
            "incompatible-parameters",
            "incompatible-network",
            "inaccessible-encryption-credentials",
            "storage-full",
        ] {
            assert!(failed(s), "{s}");
        }
        for s in [
            "creating",
            "modifying",
            "backing-up",
            "rebooting",
            "upgrading",
            "available",
        ] {
            assert!(!failed(s), "{s}");
        }
        assert!(
            matches!(poll_ready(Some(instance("creating")), &[]), Ok(Poll::Pending(s)) if s == "creating")
        );
        assert!(matches!(
            poll_ready(Some(instance("available")), &[]),
            Ok(Poll::Ready(_))
        ));
        assert!(matches!(
            poll_ready(Some(instance("backing-up")), &[]),
            Ok(Poll::Ready(_))
        ));
        assert!(matches!(
            poll_ready(Some(instance("incompatible-parameters")), &[]),
            Ok(Poll::Failed(_))
        ));
        assert!(matches!(
            poll_ready(Some(instance("deleting")), &[]),
            Ok(Poll::Failed(_))
        ));
        assert!(poll_ready(None, &[]).is_err());
        // Created but no endpoint yet: still waiting.
        let bare = DbInstance::builder()
            .db_instance_status("available")
            .build();
        assert!(matches!(poll_ready(Some(bare), &[]), Ok(Poll::Pending(_))));
    }

    #[test]
    fn pending_modifications_keep_the_wait_going() {
        let db = DbInstance::builder()
            .db_instance_identifier("shop-db")
            .db_instance_status("available")
            .endpoint(
                Endpoint::builder()
                    .address("shop-db.abc.eu-west-1.rds.amazonaws.com")
                    .port(5432)
                    .build(),
            )
            .pending_modified_values(
                PendingModifiedValues::builder()
                    .db_instance_class("db.t3.small")
                    .build(),
            )
            .build();
        assert!(matches!(
            poll_ready(Some(db.clone()), &["DBInstanceClass"]),
            Ok(Poll::Pending(_))
        ));
        assert!(matches!(
            poll_ready(Some(db), &["MultiAZ"]),
            Ok(Poll::Ready(_))
        ));
    }

    fn current() -> Map<String, Value> {
        match instance_current(&instance("available")) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn modifications_are_only_the_changed_fields() {
        let mut want = Value::Object(current());
        assert!(modifications(&want, &current()).is_empty());
        want["EngineVersion"] = json!("16");
        assert!(
            modifications(&want, &current()).is_empty(),
            "16 is satisfied by 16.4"
        );
        want["DBInstanceClass"] = json!("db.t3.small");
        want["VpcSecurityGroupIds"] = json!(["sg-2", "sg-1"]);
        assert_eq!(modifications(&want, &current()), vec!["DBInstanceClass"]);
        want["AllocatedStorage"] = json!(30);
        want["EngineVersion"] = json!("17");
        want["DeletionProtection"] = json!(false);
        want["VpcSecurityGroupIds"] = json!(["sg-3"]);
        let m = modifications(&want, &current());
        assert_eq!(
            m,
            vec![
                "DBInstanceClass",
                "DeletionProtection",
                "AllocatedStorage",
                "EngineVersion",
                "VpcSecurityGroupIds"
            ]
        );
        // A managed password given by the program from now on: managing stops, the password
        // is set; the reverse switch turns managing on.
        // (The fixture's password is managed.)
        let managed = current();
        let mut given = current();
        given.insert("ManageMasterUserPassword".into(), json!(false));
        let mut want = Value::Object(current());
        want.as_object_mut()
            .unwrap()
            .remove("ManageMasterUserPassword");
        want["MasterUserPassword"] = json!("s3cret-value");
        assert_eq!(modifications(&want, &managed), vec!["MasterUserPassword"]);
        assert!(modifications(&want, &given).is_empty());
        want = Value::Object(current());
        assert_eq!(
            modifications(&want, &given),
            vec!["ManageMasterUserPassword"]
        );
        assert!(modifications(&want, &managed).is_empty());
        // Shrinks and downgrades are replacements, not modifications.
        want = Value::Object(current());
        want["AllocatedStorage"] = json!(10);
        want["EngineVersion"] = json!("15");
        assert!(modifications(&want, &current()).is_empty());
        assert!(major("17") > major("16.4"));
        assert_eq!(major("16.4"), major("16"));
    }

    #[test]
    fn final_snapshot_names_carry_the_time() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(final_snapshot_id("shop-db", t), "shop-db-final-1700000000");
    }

    #[test]
    fn passwords_are_scrubbed_from_errors() {
        let e = DeployError {
            resource: "RDS instance x".into(),
            call: "CreateDBInstance".into(),
            code: "InvalidParameterValue".into(),
            message: "The parameter MasterUserPassword is not valid: hunter2 contains /".into(),
        };
        let s = scrub(e, Some("hunter2"));
        assert!(!s.to_string().contains("hunter2"), "{s}");
        assert!(s.to_string().contains("(sensitive)"));
    }

    #[test]
    fn subnet_group_current_is_sorted() {
        let g = DbSubnetGroup::builder()
            .db_subnet_group_name("shop-db")
            .subnets(Subnet::builder().subnet_identifier("subnet-b").build())
            .subnets(Subnet::builder().subnet_identifier("subnet-a").build())
            .build();
        assert_eq!(
            subnet_group_current(&g)["SubnetIds"],
            json!(["subnet-a", "subnet-b"])
        );
        assert_eq!(subnet_group_outputs("shop-db")["name"], "shop-db");
    }
}
