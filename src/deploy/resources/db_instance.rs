//! The RDS PostgreSQL instance of a `postgres` store.
//!
//! Refresh reads every DB instance once (DescribeDBInstances returns the tags). The master
//! password (`MasterUserPassword`, from `secret("VAR")`) is passed to the SDK and nowhere
//! else, and scrubbed from any AWS message.

use serde_json::{Map, Value};

use super::Kind;
use crate::deploy::resource::{Output, Resource, Tags};

crate::desired! {
    /// The parameters of CreateDBInstance.
    pub struct DbInstance<S> {
        #[field("DBInstanceIdentifier", Identity)]
        pub identifier: String,
        #[field("Engine", Replace)]
        pub engine: String,
        #[field("EngineVersion", Version)]
        pub engine_version: String,
        #[field("DBInstanceClass", Update)]
        pub class: String,
        #[field("AllocatedStorage", Grow)]
        pub storage_gib: u32,
        #[field("DBName", Replace)]
        pub db_name: String,
        #[field("MasterUsername", Replace)]
        pub username: String,
        /// True: RDS keeps the password in Secrets Manager. Turned off, the program's password
        /// is set in the same call.
        #[field("ManageMasterUserPassword", Update)]
        pub managed_password: bool,
        #[field("MasterUserPassword", Ignore("write-only: RDS never returns a password; it is set at creation and when managing is turned off"), sensitive)]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub password: Option<S::Of<String>>,
        #[field("BackupRetentionPeriod", Update)]
        pub backup_days: u32,
        #[field("DeletionProtection", Update)]
        pub deletion_protection: bool,
        #[field("MultiAZ", Update)]
        pub multi_az: bool,
        #[field("StorageEncrypted", Replace)]
        pub encrypted: bool,
        #[field("PubliclyAccessible", Update)]
        pub public: bool,
        #[field("VpcSecurityGroupIds", Set)]
        pub security_groups: Vec<S::Of<String>>,
        #[field("DBSubnetGroupName", Ignore("named after the stack and the store; moving an instance to another subnet group is a VPC migration stackc does not make"))]
        pub subnet_group: S::Of<String>,
        #[field("CopyTagsToSnapshot", Update)]
        pub copy_tags: bool,
        #[field("Tags", Ignore("tags are set at creation; the stack tag is how refresh finds the instance"))]
        pub tags: Tags,
    }
}

pub const HOST: Output<DbInstance, String> = Output::new("host");
/// A string: environment properties hold strings.
pub const PORT: Output<DbInstance, String> = Output::new("port");
/// The `environmentsecrets` reference to the managed password (`ARN:password::`).
pub const PASSWORD_SECRET: Output<DbInstance, String> = Output::new("password_secret");
/// The ARN of the managed password's secret.
pub const SECRET_ARN: Output<DbInstance, String> = Output::new("secret_arn");
pub const ID: Output<DbInstance, String> = Output::new("id");

const PROTECTED: &str = "has deletion protection on: set `deletion_protection = false` for it in the file and run `stackc apply` first";

fn is_protected(v: Option<&Value>) -> bool {
    v == Some(&Value::Bool(true))
}

impl Resource for DbInstance {
    const ACTION: &'static str = "rds:CreateDBInstance";
    const USES: &'static [Kind] = &[Kind::SecurityGroup, Kind::DbSubnetGroup];

    fn refuse_replacement(current: &Map<String, Value>, want: &Value) -> Option<String> {
        let turned_off = want.get("DeletionProtection") == Some(&Value::Bool(false));
        (is_protected(current.get("DeletionProtection")) && !turned_off)
            .then(|| format!(" but {PROTECTED}"))
    }

    fn protected(current: &Map<String, Value>) -> bool {
        is_protected(current.get("DeletionProtection"))
    }
}

#[cfg(feature = "aws")]
mod aws {
    use std::collections::BTreeSet;
    use std::time::{SystemTime, UNIX_EPOCH};

    use aws_sdk_rds::types::{DbInstance as Db, Tag};

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::wait::{self, Poll};
    use crate::deploy::aws::{
        Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code, scrub,
    };
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::{Live, Outputs, owned, version};
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

    /// Deletes an instance with a final snapshot and waits until it is gone. Transitional
    /// states that refuse deletion are waited out; one already being deleted is only waited for.
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
                        Err(e) if error_code(&e) == Some("DBInstanceNotFound") => {
                            Ok(Poll::Ready(()))
                        }
                        Err(e) if error_code(&e) == Some("InvalidDBInstanceState") => {
                            // Busy (modifying, backing up) or already being deleted.
                            match describe(ctx, id, resource).await? {
                                None => Ok(Poll::Ready(())),
                                Some(db) if db.db_instance_status() == Some("deleting") => {
                                    Ok(Poll::Ready(()))
                                }
                                Some(db) => {
                                    let s =
                                        db.db_instance_status().unwrap_or("unknown").to_string();
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
            Err(e) => Err(scrub(
                aws_error(resource, "CreateDBInstance", &e),
                want.password.as_slice(),
            )),
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
                _ => m,
            };
        }
        m.send().await.map_err(|e| {
            scrub(
                aws_error(resource, "ModifyDBInstance", &e),
                want.password.as_slice(),
            )
        })?;
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
                if owned(tags_of(db), &ctx.stack) {
                    matched.insert(db.db_instance_identifier().unwrap_or_default().to_string());
                    let mut f = Found::new(Kind::DbInstance, &current(db, want), outputs(db));
                    f.status = db.db_instance_status().map(str::to_string);
                    snap.found.insert(step.id.clone(), f);
                } else {
                    snap.conflicts.push(Conflict {
                        step: step.id.clone(),
                        resource: step.resource.clone(),
                        why: format!(
                            "an RDS instance with the identifier {} already exists and is not tagged `stackc:stack = {}`",
                            want.identifier, ctx.stack
                        ),
                    });
                }
            }
            for db in &instances {
                let id = db.db_instance_identifier().unwrap_or_default();
                if owned(tags_of(db), &ctx.stack) && !matched.contains(id) {
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
                            if owned(tags_of(&db), &ctx.stack)
                                && db.db_instance_status() == Some("deleting") =>
                        {
                            wait_gone(ctx, key, id, resource).await?;
                            create_instance(ctx, resource, want).await?
                        }
                        Some(db) if owned(tags_of(&db), &ctx.stack) => Some(db),
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
}
