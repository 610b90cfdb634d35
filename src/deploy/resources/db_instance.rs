//! The RDS PostgreSQL instance of a `postgres` store.
//!
//! Refresh reads every DB instance once (DescribeDBInstances returns the tags). The master
//! password (`MasterUserPassword`, from `secret("VAR")`) is passed to the SDK and nowhere
//! else; the executor scrubs it from any error of the step.

use serde_json::{Map, Value};

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
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
    const ACTIONS: &'static [&'static str] = &[
        "rds:DescribeDBInstances",
        "rds:CreateDBInstance",
        "rds:AddTagsToResource",
        "rds:ModifyDBInstance",
        "rds:DeleteDBInstance",
        "rds:CreateDBSnapshot",
        "secretsmanager:CreateSecret",
        "secretsmanager:TagResource",
        "secretsmanager:RotateSecret",
        "secretsmanager:DeleteSecret",
    ];

    /// Its identifier, its subnet group, the default option and parameter groups, its final
    /// snapshot; and the secret RDS makes for a managed password with the caller's rights
    /// ("Permissions required for Secrets Manager integration").
    fn grants(scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        let mut own: Vec<String> = steps
            .iter()
            .flat_map(|d| {
                [
                    scope.arn("rds", &format!("db:{}", d.identifier)),
                    scope.arn("rds", &format!("snapshot:{}-final-*", d.identifier)),
                ]
            })
            .collect();
        own.extend([
            scope.arn("rds", &format!("db:{}-*", scope.stack)),
            scope.arn("rds", &format!("snapshot:{}-*", scope.stack)),
            scope.arn("rds", &format!("subgrp:{}-*", scope.stack)),
            scope.arn("rds", "og:default*"),
            scope.arn("rds", "pg:default*"),
        ]);
        vec![
            Grant::new(&["rds:DescribeDBInstances"], vec![scope.arn("rds", "db:*")]),
            Grant::new(
                &[
                    "rds:CreateDBInstance",
                    "rds:AddTagsToResource",
                    "rds:ModifyDBInstance",
                    "rds:DeleteDBInstance",
                    "rds:CreateDBSnapshot",
                ],
                own,
            ),
            Grant::new(
                &[
                    "secretsmanager:CreateSecret",
                    "secretsmanager:TagResource",
                    "secretsmanager:RotateSecret",
                    "secretsmanager:DeleteSecret",
                ],
                vec![scope.arn("secretsmanager", "secret:rds!*")],
            ),
        ]
    }
    const ACTION: &'static str = "rds:CreateDBInstance";
    const USES: &'static [Kind] = &[Kind::SecurityGroup, Kind::DbSubnetGroup];

    fn refuse_replacement(current: &Map<String, Value>, want: &Value) -> Option<String> {
        let turned_off = want.get("DeletionProtection") == Some(&Value::Bool(false));
        (is_protected(current.get("DeletionProtection")) && !turned_off)
            .then(|| format!(" but {PROTECTED}"))
    }

    fn kept_by_destroy(
        current: &Map<String, Value>,
        _options: &crate::deploy::resource::DestroyOptions,
    ) -> Option<String> {
        is_protected(current.get("DeletionProtection")).then(|| {
            "has deletion protection and was kept: set `deletion_protection = false` in the \
             file, run `stackc apply`, then `stackc destroy` again"
                .to_string()
        })
    }
}

#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "aws")]
pub(crate) use aws::observe_db;
