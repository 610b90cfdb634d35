use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_rds::types::{DbInstance as Db, Tag};

use super::*;
use crate::deploy::aws::reads::Reads;
use crate::deploy::aws::wait::{self, Poll};
use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code};
use crate::deploy::diff::FieldChange;
use crate::deploy::resource::{Live, Outputs, version};
use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
use crate::lower::{Plan, Step};

// Statuses: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html

/// A status that waiting will not fix.
fn failed(status: &str) -> bool {
    matches!(
        status,
        "failed" | "restore-error" | "storage-full" | "insufficient-capacity"
    ) || status.starts_with("incompatible-")
        || status.starts_with("inaccessible-encryption-credentials")
}

/// Serving connections at its endpoint: nothing to wait for before others use it.
/// `stopped` is the operator's choice and does not end by waiting.
fn usable(status: &str) -> bool {
    matches!(
        status,
        "available" | "backing-up" | "storage-optimization" | "stopped"
    )
}

fn tags_of(db: &Db) -> Vec<(&str, &str)> {
    db.tag_list()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect()
}

/// What exists, as the desired struct.
pub(super) fn current(db: &Db, want: &DbInstance) -> DbInstance<Live> {
    let mut groups: Vec<String> = db
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
        .collect();
    groups.sort();
    groups.dedup();
    DbInstance {
        identifier: db.db_instance_identifier().unwrap_or_default().to_string(),
        engine: db.engine().unwrap_or_default().to_string(),
        engine_version: db.engine_version().unwrap_or_default().to_string(),
        class: db.db_instance_class().unwrap_or_default().to_string(),
        storage_gib: db
            .allocated_storage()
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0),
        db_name: db.db_name().unwrap_or_default().to_string(),
        username: db.master_username().unwrap_or_default().to_string(),
        managed_password: db.master_user_secret().is_some(),
        password: None,
        backup_days: db
            .backup_retention_period()
            .and_then(|d| u32::try_from(d).ok())
            .unwrap_or(0),
        deletion_protection: db.deletion_protection().unwrap_or(false),
        multi_az: db.multi_az().unwrap_or(false),
        encrypted: db.storage_encrypted().unwrap_or(false),
        public: db.publicly_accessible().unwrap_or(false),
        security_groups: groups,
        subnet_group: db
            .db_subnet_group()
            .and_then(|g| g.db_subnet_group_name())
            .unwrap_or_default()
            .to_string(),
        copy_tags: db.copy_tags_to_snapshot().unwrap_or(false),
        tags: want.tags.clone(),
    }
}

/// What later steps read.
pub(super) fn outputs(db: &Db) -> Outputs {
    let mut out = Outputs::new();
    if let Some(e) = db.endpoint() {
        if let Some(host) = e.address() {
            HOST.set(&mut out, host.to_string());
        }
        if let Some(port) = e.port() {
            PORT.set(&mut out, port.to_string());
        }
    }
    if let Some(arn) = db.master_user_secret().and_then(|s| s.secret_arn()) {
        PASSWORD_SECRET.set(&mut out, format!("{arn}:password::"));
        SECRET_ARN.set(&mut out, arn.to_string());
    }
    ID.set(
        &mut out,
        db.db_instance_identifier().unwrap_or_default().to_string(),
    );
    out
}

async fn all(ctx: &Ctx) -> Result<Vec<Db>, DeployError> {
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

async fn describe(ctx: &Ctx, id: &str, resource: &str) -> Result<Option<Db>, DeployError> {
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

/// The instance as `stackc status` shows it.
pub(crate) async fn observe_db(
    ctx: &Ctx,
    id: &str,
    resource: &str,
) -> Result<Option<crate::deploy::aws::status::StoreState>, DeployError> {
    Ok(describe(ctx, id, resource)
        .await?
        .map(|db| crate::deploy::aws::status::StoreState {
            resource: resource.to_string(),
            status: db.db_instance_status().unwrap_or("unknown").to_string(),
            engine_version: db.engine_version().unwrap_or_default().to_string(),
            protected: db.deletion_protection(),
            endpoint: db.endpoint().and_then(|e| e.address()).map(str::to_string),
        }))
}

/// Whether a modification is still pending (ApplyImmediately applies it during `modifying`).
pub(super) fn pending(db: &Db, fields: &[&str]) -> bool {
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

/// One poll of an instance that should become usable (with `fields` applied).
pub(super) fn poll_ready(db: Option<Db>, fields: &[&str]) -> Result<Poll<Db>, String> {
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

async fn wait_ready(
    ctx: &Ctx,
    key: &str,
    id: &str,
    resource: &str,
    fields: &[&str],
) -> Result<Outputs, DeployError> {
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
    Ok(outputs(&db))
}

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

/// Deletes an instance with a final snapshot (a preview's without: its data is made again
/// from the template) and waits until it is gone. Transitional states that refuse deletion
/// are waited out; one already being deleted is only waited for.
async fn delete_instance(
    ctx: &Ctx,
    key: &str,
    id: &str,
    resource: &str,
    status: Option<&str>,
) -> Result<(), DeployError> {
    if status != Some("deleting") {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let snapshot = crate::naming::final_snapshot(id, secs);
        wait::until(ctx, key, resource, ctx.timing.store_timeout, move || {
            let snapshot = snapshot.clone();
            async move {
                // "DeleteDBInstance": SkipFinalSnapshot true, or a FinalDBSnapshotIdentifier
                // (specifying both is an error).
                let call = ctx
                    .clients
                    .rds
                    .delete_db_instance()
                    .db_instance_identifier(id);
                let call = match ctx.preview {
                    true => call.skip_final_snapshot(true),
                    false => call.final_db_snapshot_identifier(snapshot),
                };
                let r = call.send().await;
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
    resource: &str,
    want: &DbInstance<Live>,
) -> Result<Option<Db>, DeployError> {
    let tags = want
        .tags
        .pairs()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let r = ctx
        .clients
        .rds
        .create_db_instance()
        .db_instance_identifier(&want.identifier)
        .engine(&want.engine)
        .engine_version(&want.engine_version)
        .db_instance_class(&want.class)
        .allocated_storage(i32::try_from(want.storage_gib).unwrap_or(i32::MAX))
        .db_name(&want.db_name)
        .master_username(&want.username)
        .set_master_user_password(want.password.clone())
        .set_manage_master_user_password(want.managed_password.then_some(true))
        .backup_retention_period(i32::try_from(want.backup_days).unwrap_or(i32::MAX))
        .deletion_protection(want.deletion_protection)
        .multi_az(want.multi_az)
        .storage_encrypted(want.encrypted)
        .publicly_accessible(want.public)
        .set_vpc_security_group_ids(Some(want.security_groups.clone()))
        .db_subnet_group_name(&want.subnet_group)
        .copy_tags_to_snapshot(want.copy_tags)
        .set_tags(Some(tags))
        .send()
        .await;
    match r {
        Ok(o) => Ok(o.db_instance().cloned()),
        Err(e) => Err(aws_error(resource, "CreateDBInstance", &e)),
    }
}

/// ModifyDBInstance with the `fields` that changed, applied at once.
async fn modify(
    ctx: &Ctx,
    resource: &str,
    id: &str,
    want: &DbInstance<Live>,
    fields: &[&str],
    have_version: &str,
) -> Result<(), DeployError> {
    let mut m = ctx
        .clients
        .rds
        .modify_db_instance()
        .db_instance_identifier(id)
        .apply_immediately(true);
    let i32_of = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    for f in fields {
        m = match *f {
            "DBInstanceClass" => m.db_instance_class(&want.class),
            "AllocatedStorage" => m.allocated_storage(i32_of(want.storage_gib)),
            "EngineVersion" => m
                .engine_version(&want.engine_version)
                .set_allow_major_version_upgrade(
                    (version::major(&want.engine_version) > version::major(have_version))
                        .then_some(true),
                ),
            "BackupRetentionPeriod" => m.backup_retention_period(i32_of(want.backup_days)),
            "DeletionProtection" => m.deletion_protection(want.deletion_protection),
            "MultiAZ" => m.multi_az(want.multi_az),
            "PubliclyAccessible" => m.publicly_accessible(want.public),
            "CopyTagsToSnapshot" => m.copy_tags_to_snapshot(want.copy_tags),
            "ManageMasterUserPassword" if want.managed_password => {
                m.manage_master_user_password(true)
            }
            // The program now gives the password of a database whose password RDS managed.
            "ManageMasterUserPassword" => m
                .manage_master_user_password(false)
                .set_master_user_password(want.password.clone()),
            "VpcSecurityGroupIds" => {
                m.set_vpc_security_group_ids(Some(want.security_groups.clone()))
            }
            other => {
                return Err(DeployError::other(
                    resource,
                    format!("stackc cannot change {other} in place"),
                ));
            }
        };
    }
    m.send()
        .await
        .map_err(|e| aws_error(resource, "ModifyDBInstance", &e))?;
    Ok(())
}

/// Outputs of an existing instance, once it serves.
async fn ready(ctx: &Ctx, step: &StepRef<'_>, found: &Found) -> Result<Outputs, DeployError> {
    let usable_now =
        found.status.as_deref().is_some_and(usable) && found.outputs.contains_key(HOST.name());
    if usable_now {
        return Ok(found.outputs.clone());
    }
    wait_ready(
        ctx,
        step.id,
        found.id().unwrap_or_default(),
        step.resource,
        &[],
    )
    .await
}

impl Apply for DbInstance {
    const UPDATES: &'static [&'static str] = &[
        "DBInstanceClass",
        "AllocatedStorage",
        "EngineVersion",
        "BackupRetentionPeriod",
        "DeletionProtection",
        "MultiAZ",
        "PubliclyAccessible",
        "CopyTagsToSnapshot",
        "ManageMasterUserPassword",
        "VpcSecurityGroupIds",
    ];

    async fn refresh(
        ctx: &Ctx,
        _reads: &Reads,
        _plan: &Plan,
        steps: &[(&Step, &Self)],
    ) -> Result<Snapshot, DeployError> {
        let mut snap = Snapshot::default();
        let instances = all(ctx).await?;
        let mut matched = BTreeSet::new();
        for (step, want) in steps {
            let Some(db) = instances.iter().find(|d| {
                d.db_instance_identifier()
                    .is_some_and(|i| i.eq_ignore_ascii_case(&want.identifier))
            }) else {
                continue;
            };
            if ctx.owner.owns(tags_of(db)) {
                matched.insert(db.db_instance_identifier().unwrap_or_default().to_string());
                let mut f = Found::new(Kind::DbInstance, &current(db, want), outputs(db));
                if let Some(status) = db.db_instance_status() {
                    f = f.with_status(status, status == "available");
                }
                snap.found.insert(step.id.clone(), f);
            } else {
                snap.conflicts.push(Conflict::taken(
                    step,
                    format!("an RDS instance with the identifier {}", want.identifier),
                    &ctx.owner,
                ));
            }
        }
        for db in &instances {
            let id = db.db_instance_identifier().unwrap_or_default();
            if ctx.owner.owns(tags_of(db)) && !matched.contains(id) {
                snap.orphans.push(Orphan {
                    kind: Kind::DbInstance,
                    id: id.to_string(),
                    resource: format!("RDS instance {id}"),
                });
            }
        }
        Ok(snap)
    }

    async fn create(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &DbInstance<Live>,
    ) -> Result<Outputs, DeployError> {
        let (key, resource, id) = (step.id, step.resource, want.identifier.as_str());
        let created = match create_instance(ctx, resource, want).await {
            Ok(db) => db,
            Err(e) if e.code == "DBInstanceAlreadyExists" => {
                // Refresh did not see it: created since, or still being deleted.
                match describe(ctx, id, resource).await? {
                    Some(db)
                        if ctx.owner.owns(tags_of(&db))
                            && db.db_instance_status() == Some("deleting") =>
                    {
                        wait_gone(ctx, key, id, resource).await?;
                        create_instance(ctx, resource, want).await?
                    }
                    Some(db) if ctx.owner.owns(tags_of(&db)) => Some(db),
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        // A response that already shows a usable instance needs no wait.
        if let Some(Ok(Poll::Ready(db))) = created.map(|db| poll_ready(Some(db), &[])) {
            return Ok(outputs(&db));
        }
        wait_ready(ctx, key, id, resource, &[]).await
    }

    async fn update(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &DbInstance<Live>,
        found: &Found,
        changes: &[FieldChange],
    ) -> Result<Outputs, DeployError> {
        if found.status.as_deref() == Some("deleting") {
            return Self::settle(ctx, step, want, found).await;
        }
        let id = found.id().unwrap_or(&want.identifier);
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        if !fields.is_empty() {
            // ModifyDBInstance refuses an instance that is busy: let it settle first.
            if !found.status.as_deref().is_some_and(usable) {
                wait_ready(ctx, step.id, id, step.resource, &[]).await?;
            }
            let have = found
                .current
                .get("EngineVersion")
                .and_then(Value::as_str)
                .unwrap_or_default();
            modify(ctx, step.resource, id, want, &fields, have).await?;
        }
        wait_ready(ctx, step.id, id, step.resource, &fields).await
    }

    /// An instance still being deleted (an interrupted destroy) is waited out, then
    /// created anew; one still starting or modifying is waited for.
    async fn settle(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &DbInstance<Live>,
        found: &Found,
    ) -> Result<Outputs, DeployError> {
        if found.status.as_deref() == Some("deleting") {
            wait_gone(
                ctx,
                step.id,
                found.id().unwrap_or(&want.identifier),
                step.resource,
            )
            .await?;
            return Self::create(ctx, step, want).await;
        }
        ready(ctx, step, found).await
    }

    async fn replace(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &DbInstance<Live>,
        found: &Found,
    ) -> Result<Outputs, DeployError> {
        let id = found.id().unwrap_or(&want.identifier);
        if is_protected(found.current.get("DeletionProtection")) {
            if want.deletion_protection {
                // Refused before any change by the plan; a last guard.
                return Err(DeployError::other(
                    step.resource,
                    format!(
                        "must be replaced (deleted, with a final snapshot, and created again) but {PROTECTED}"
                    ),
                ));
            }
            // The file turns protection off: do so, then replace.
            if !found.status.as_deref().is_some_and(usable) {
                wait_ready(ctx, step.id, id, step.resource, &[]).await?;
            }
            modify(ctx, step.resource, id, want, &["DeletionProtection"], "").await?;
        }
        ctx.progress.status(step.id, "deleting the old instance");
        delete_instance(ctx, step.id, id, step.resource, found.status.as_deref()).await?;
        Self::create(ctx, step, want).await
    }

    async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
        if gone
            .found
            .is_some_and(|f| is_protected(f.current.get("DeletionProtection")))
        {
            return Err(protected_error(
                gone.resource,
                "DeletionProtection",
                "not deleted",
            ));
        }
        delete_instance(
            ctx,
            gone.key,
            gone.id,
            gone.resource,
            gone.found.and_then(|f| f.status.as_deref()),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_rds::types::{
        DbSubnetGroup, Endpoint, MasterUserSecret, PendingModifiedValues,
        VpcSecurityGroupMembership,
    };
    use serde_json::json;

    use super::*;

    fn instance(status: &str) -> Db {
        Db::builder()
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

    fn planned() -> DbInstance {
        let plan = crate::lower::lower(
            &crate::compile("stack shop { }\nenvironment shop-env { }\nservice web { image = \"nginx\" memory = 128 MiB essential = true env { H = db.host } }\npostgres db { database = \"shop\" }\nfirewall { allow db from web }\n")
                .0
                .expect("compiles"),
        )
        .plan;
        plan.steps
            .iter()
            .find_map(|s| s.desired_as::<DbInstance>())
            .cloned()
            .expect("an RDS step")
    }

    #[test]
    fn current_uses_the_create_parameter_names() {
        let c = serde_json::to_value(current(&instance("available"), &planned())).unwrap();
        assert_eq!(c["DBInstanceClass"], "db.t3.micro");
        assert_eq!(c["AllocatedStorage"], 20);
        assert_eq!(c["ManageMasterUserPassword"], true);
        assert_eq!(c["VpcSecurityGroupIds"], json!(["sg-1", "sg-2"]));
        assert_eq!(c["DBSubnetGroupName"], "shop-db");
        assert_eq!(c["DeletionProtection"], true);
        assert_eq!(c["EngineVersion"], "16.4");
        assert!(
            c.get("MasterUserPassword").is_none(),
            "a password is never read back"
        );
    }

    #[test]
    fn outputs_hold_the_endpoint_and_the_secret_reference() {
        let o = outputs(&instance("available"));
        assert_eq!(o["host"], "shop-db.abc.eu-west-1.rds.amazonaws.com");
        assert_eq!(o["port"], "5432");
        assert_eq!(
            o["password_secret"],
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1:password::"
        );
        assert_eq!(o["id"], "shop-db");
        let unmanaged = Db::builder().db_instance_identifier("x").build();
        assert!(!outputs(&unmanaged).contains_key("password_secret"));
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
        let bare = Db::builder().db_instance_status("available").build();
        assert!(matches!(poll_ready(Some(bare), &[]), Ok(Poll::Pending(_))));
    }

    #[test]
    fn pending_modifications_keep_the_wait_going() {
        let db = Db::builder()
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
}
