//! The data stores end to end: RDS (PostgreSQL and its DB subnet group) and ElastiCache (Redis
//! and its cache subnet group), made by the real `stackc` binary against the moto emulator
//! (tests/support) and checked with independent reads (boto3 in the test venv).

#![allow(clippy::unwrap_used)] // helpers of a test crate: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{boto, moto, proxy, proxy_post, proxy_stats, stackc};
use serde_json::Value;

const PROGRAM: &str = r#"
stack shop { region = "us-east-1" }

environment shop-env { }

service web {
  image     = "nginx"
  memory    = 128 MiB
  essential = true
  ports     = [80:80]
  env {
    PGHOST     = db.host
    PGPORT     = db.port
    PGPASSWORD = db.password
    REDIS_HOST = cache.host
    REDIS_PORT = cache.port
  }
}

postgres db {
  database            = "shop"
  deletion_protection = false
}

redis cache { }

firewall {
  allow 80 from internet to web
  allow db, cache from web
}
"#;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: &Output) -> String {
    let t = text(out);
    assert!(
        out.status.success(),
        "stackc failed ({:?}):\n{t}",
        out.status.code()
    );
    t
}

/// The program with text replaced, written to `dir`.
fn program(dir: &Path, edits: &[(&str, &str)]) -> PathBuf {
    let mut src = PROGRAM.to_string();
    for (a, b) in edits {
        assert!(src.contains(a), "{a:?} not in the program");
        src = src.replace(a, b);
    }
    let p = dir.join("shop.stack");
    std::fs::write(&p, src).expect("write program");
    p
}

fn tags(list: &Value) -> Vec<(String, String)> {
    let mut t: Vec<(String, String)> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["Key"].as_str().unwrap_or_default().to_string(),
                t["Value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    t.sort();
    t
}

fn ours(name: &str) -> Vec<(String, String)> {
    vec![
        ("stackc:name".into(), name.into()),
        ("stackc:stack".into(), "shop".into()),
    ]
}

fn group_id(endpoint: &str, name: &str) -> String {
    let g = boto(
        endpoint,
        "ec2",
        &format!(
            "c.describe_security_groups(Filters=[{{'Name':'group-name','Values':['{name}']}}])['SecurityGroups']"
        ),
    );
    g[0]["GroupId"]
        .as_str()
        .unwrap_or_else(|| panic!("no security group {name}: {g}"))
        .to_string()
}

/// The plan's changes as (step, op).
fn plan_ops(endpoint: &str, file: &Path) -> Vec<(String, String)> {
    let out = stackc(
        endpoint,
        &["plan", file.to_str().unwrap(), "--format", "json"],
        &[],
    );
    let changes: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("plan JSON ({e}):\n{}", text(&out)));
    changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["step"].as_str().unwrap().to_string(),
                c["op"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn op_of<'a>(ops: &'a [(String, String)], step: &str) -> &'a str {
    ops.iter()
        .find(|(s, _)| s == step)
        .map_or("(absent)", |(_, o)| o.as_str())
}

/// The environment's property `name` in namespace `ns`.
fn env_option(endpoint: &str, ns: &str, name: &str) -> Option<String> {
    let opts = boto(
        endpoint,
        "elasticbeanstalk",
        "c.describe_configuration_settings(ApplicationName='shop', EnvironmentName='shop-env')['ConfigurationSettings'][0]['OptionSettings']",
    );
    opts.as_array()?
        .iter()
        .find(|o| o["Namespace"] == ns && o["OptionName"] == name)
        .and_then(|o| o["Value"].as_str().map(str::to_string))
}

const ENV_NS: &str = "aws:elasticbeanstalk:application:environment";

#[test]
fn stores_are_created_as_the_file_says_and_a_second_plan_keeps_them() {
    let aws = moto();
    let px = proxy(&aws, &[]);
    let dir = tempfile::tempdir().unwrap();
    let file = program(dir.path(), &[]);
    let out = stackc(&px.url(), &["apply", file.to_str().unwrap(), "--yes"], &[]);
    let log = text(&out);
    let url = aws.url();

    // The RDS instance, with every setting of the create call, tagged.
    assert_eq!(
        boto(&url, "rds", "len(c.describe_db_instances()['DBInstances'])"),
        1,
        "{log}"
    );
    let db = boto(
        &url,
        "rds",
        "c.describe_db_instances(DBInstanceIdentifier='shop-db')['DBInstances'][0]",
    );
    assert_eq!(db["Engine"], "postgres", "{log}");
    assert_eq!(db["DBInstanceClass"], "db.t3.micro");
    assert_eq!(db["AllocatedStorage"], 20);
    assert_eq!(db["DBName"], "shop");
    assert_eq!(db["MasterUsername"], "postgres");
    assert_eq!(db["BackupRetentionPeriod"], 7);
    assert_eq!(db["DeletionProtection"], false);
    assert_eq!(db["MultiAZ"], false);
    assert_eq!(db["StorageEncrypted"], true);
    assert_eq!(db["PubliclyAccessible"], false);
    assert_eq!(db["CopyTagsToSnapshot"], true);
    assert!(
        db["MasterUserSecret"]["SecretArn"].is_string(),
        "managed password: {db}"
    );
    assert_eq!(db["DBSubnetGroup"]["DBSubnetGroupName"], "shop-db");
    assert_eq!(
        db["VpcSecurityGroups"][0]["VpcSecurityGroupId"],
        group_id(&url, "shop-db").as_str()
    );
    assert_eq!(tags(&db["TagList"]), ours("db"));

    // Its subnet group: the default VPC's default subnets, tagged.
    let subnets = boto(
        &url,
        "ec2",
        "sorted(s['SubnetId'] for s in c.describe_subnets(Filters=[{'Name':'default-for-az','Values':['true']}])['Subnets'])",
    );
    let sg = boto(
        &url,
        "rds",
        "c.describe_db_subnet_groups(DBSubnetGroupName='shop-db')['DBSubnetGroups'][0]",
    );
    let mut ids: Vec<&str> = sg["Subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["SubnetIdentifier"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(serde_json::json!(ids), subnets);
    let arn = sg["DBSubnetGroupArn"].as_str().unwrap();
    assert_eq!(
        tags(&boto(
            &url,
            "rds",
            &format!("c.list_tags_for_resource(ResourceName='{arn}')['TagList']")
        )),
        ours("db")
    );

    // The Redis cluster and its subnet group.
    let cache = boto(
        &url,
        "elasticache",
        "c.describe_cache_clusters(CacheClusterId='shop-cache', ShowCacheNodeInfo=True)['CacheClusters'][0]",
    );
    assert_eq!(cache["Engine"], "redis");
    assert_eq!(cache["EngineVersion"], "7.1");
    assert_eq!(cache["CacheNodeType"], "cache.t3.micro");
    assert_eq!(cache["NumCacheNodes"], 1);
    assert_eq!(cache["CacheSubnetGroupName"], "shop-cache");
    assert_eq!(
        cache["SecurityGroups"][0]["SecurityGroupId"],
        group_id(&url, "shop-cache").as_str()
    );
    let arn = cache["ARN"].as_str().unwrap();
    assert_eq!(
        tags(&boto(
            &url,
            "elasticache",
            &format!("c.list_tags_for_resource(ResourceName='{arn}')['TagList']")
        )),
        ours("cache")
    );
    let csg = boto(
        &url,
        "elasticache",
        "c.describe_cache_subnet_groups(CacheSubnetGroupName='shop-cache')['CacheSubnetGroups'][0]",
    );
    let arn = csg["ARN"].as_str().unwrap();
    assert_eq!(
        tags(&boto(
            &url,
            "elasticache",
            &format!("c.list_tags_for_resource(ResourceName='{arn}')['TagList']")
        )),
        ours("cache")
    );

    // The endpoints reached the environment (needs the Elastic Beanstalk module).
    ok(&out);
    assert_eq!(
        env_option(&url, ENV_NS, "PGHOST").as_deref(),
        db["Endpoint"]["Address"].as_str()
    );
    assert_eq!(env_option(&url, ENV_NS, "PGPORT").as_deref(), Some("5432"));
    let node = &cache["CacheNodes"][0]["Endpoint"];
    assert_eq!(
        env_option(&url, ENV_NS, "REDIS_HOST").as_deref(),
        node["Address"].as_str()
    );
    assert_eq!(
        env_option(&url, ENV_NS, "REDIS_PORT").as_deref(),
        Some("6379")
    );
    let secret = env_option(
        &url,
        "aws:elasticbeanstalk:application:environmentsecrets",
        "PGPASSWORD",
    );
    assert_eq!(
        secret,
        Some(format!(
            "{}:password::",
            db["MasterUserSecret"]["SecretArn"].as_str().unwrap()
        ))
    );

    // A second plan keeps all four, reading at most 2 calls per resource for them.
    proxy_post(&px, "reset", "{}");
    let ops = plan_ops(&px.url(), &file);
    for step in [
        "store.db",
        "store.db.subnets",
        "store.cache",
        "store.cache.subnets",
    ] {
        assert_eq!(op_of(&ops, step), "keep", "{step}: {ops:?}");
    }
    assert!(
        !ops.iter().any(|(s, _)| s.starts_with("orphan:")),
        "{ops:?}"
    );
    let stats = proxy_stats(&px);
    let calls = stats["calls"].as_array().unwrap();
    let store_reads: Vec<&Value> = calls
        .iter()
        .filter(|c| c["service"] == "rds" || c["service"] == "elasticache")
        .collect();
    assert!(
        store_reads.iter().all(|c| c["mutating"] == false),
        "{store_reads:?}"
    );
    assert!(
        store_reads.len() <= 8,
        "{} reads for 4 resources: {store_reads:?}",
        store_reads.len()
    );
}

#[test]
fn a_new_class_is_an_update_in_place() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let file = program(dir.path(), &[]);
    stackc(&url, &["apply", file.to_str().unwrap(), "--yes"], &[]);
    let before = boto(
        &url,
        "rds",
        "c.describe_db_instances(DBInstanceIdentifier='shop-db')['DBInstances'][0]['DbiResourceId']",
    );

    let bigger = program(
        dir.path(),
        &[(
            "database            = \"shop\"",
            "database = \"shop\"\n  class = \"db.t3.small\"\n  backup_days = 3",
        )],
    );
    let plan = ok(&stackc(&url, &["plan", bigger.to_str().unwrap()], &[]));
    assert!(plan.contains("~ RDS instance shop-db (update)"), "{plan}");
    assert!(
        plan.contains("DBInstanceClass: \"db.t3.micro\" → \"db.t3.small\""),
        "{plan}"
    );
    assert!(plan.contains("BackupRetentionPeriod: 7 → 3"), "{plan}");
    assert!(!plan.contains("forces replacement"), "{plan}");

    ok(&stackc(
        &url,
        &["apply", bigger.to_str().unwrap(), "--yes"],
        &[],
    ));
    let db = boto(
        &url,
        "rds",
        "c.describe_db_instances(DBInstanceIdentifier='shop-db')['DBInstances'][0]",
    );
    assert_eq!(db["DBInstanceClass"], "db.t3.small");
    assert_eq!(db["BackupRetentionPeriod"], 3);
    assert_eq!(db["DbiResourceId"], before, "the same instance, modified");
    let ops = plan_ops(&url, &bigger);
    assert_eq!(op_of(&ops, "store.db"), "keep", "{ops:?}");

    // A new Redis node type is an update too (ModifyCacheCluster: see the report on moto).
    let cache = program(
        dir.path(),
        &[(
            "redis cache { }",
            "redis cache { node_type = \"cache.t3.small\" }",
        )],
    );
    let plan = ok(&stackc(&url, &["plan", cache.to_str().unwrap()], &[]));
    assert!(
        plan.contains("~ ElastiCache cluster shop-cache (update)"),
        "{plan}"
    );
    assert!(
        plan.contains("CacheNodeType: \"cache.t3.micro\" → \"cache.t3.small\""),
        "{plan}"
    );
}

#[test]
fn a_store_removed_from_the_file_is_deleted_and_destroy_leaves_a_final_snapshot() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let file = program(dir.path(), &[]);
    stackc(&url, &["apply", file.to_str().unwrap(), "--yes"], &[]);
    assert_eq!(
        boto(
            &url,
            "elasticache",
            "len(c.describe_cache_clusters()['CacheClusters'])"
        ),
        1
    );

    let without = program(
        dir.path(),
        &[
            (
                "    REDIS_HOST = cache.host\n    REDIS_PORT = cache.port\n",
                "",
            ),
            ("redis cache { }", ""),
            ("allow db, cache from web", "allow db from web"),
        ],
    );
    let plan = ok(&stackc(&url, &["plan", without.to_str().unwrap()], &[]));
    assert!(
        plan.contains("- ElastiCache cluster shop-cache (delete)"),
        "{plan}"
    );
    assert!(
        plan.contains("- cache subnet group shop-cache (delete)"),
        "{plan}"
    );
    ok(&stackc(
        &url,
        &["apply", without.to_str().unwrap(), "--yes"],
        &[],
    ));
    assert_eq!(
        boto(
            &url,
            "elasticache",
            "len(c.describe_cache_clusters()['CacheClusters'])"
        ),
        0
    );
    assert_eq!(
        boto(
            &url,
            "elasticache",
            "[g['CacheSubnetGroupName'] for g in c.describe_cache_subnet_groups()['CacheSubnetGroups'] if g['CacheSubnetGroupName'].startswith('shop')]"
        ),
        serde_json::json!([])
    );
    let ops = plan_ops(&url, &without);
    assert!(
        !ops.iter().any(|(s, _)| s.starts_with("orphan:")),
        "{ops:?}"
    );

    let out = ok(&stackc(
        &url,
        &["destroy", without.to_str().unwrap(), "--yes"],
        &[],
    ));
    assert_eq!(
        boto(&url, "rds", "len(c.describe_db_instances()['DBInstances'])"),
        0,
        "{out}"
    );
    assert_eq!(
        boto(
            &url,
            "rds",
            "[g['DBSubnetGroupName'] for g in c.describe_db_subnet_groups()['DBSubnetGroups'] if g['DBSubnetGroupName'].startswith('shop')]"
        ),
        serde_json::json!([])
    );
    let snaps = boto(
        &url,
        "rds",
        "[s['DBSnapshotIdentifier'] for s in c.describe_db_snapshots(DBInstanceIdentifier='shop-db', SnapshotType='manual')['DBSnapshots']]",
    );
    let snaps = snaps.as_array().unwrap();
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    let name = snaps[0].as_str().unwrap();
    let secs = name
        .strip_prefix("shop-db-final-")
        .unwrap_or_else(|| panic!("final snapshot name {name}"));
    assert!(
        secs.len() >= 10 && secs.chars().all(|c| c.is_ascii_digit()),
        "{name}"
    );
    // Again: nothing left, success.
    ok(&stackc(
        &url,
        &["destroy", without.to_str().unwrap(), "--yes"],
        &[],
    ));
}

#[test]
fn a_cache_id_taken_outside_the_stack_stops_apply_before_any_change() {
    let aws = moto();
    boto(
        &aws.url(),
        "elasticache",
        "c.create_cache_cluster(CacheClusterId='shop-cache', Engine='redis', CacheNodeType='cache.t3.micro', NumCacheNodes=1)",
    );
    let px = proxy(&aws, &[]);
    let dir = tempfile::tempdir().unwrap();
    let file = program(dir.path(), &[]);
    let out = stackc(&px.url(), &["apply", file.to_str().unwrap(), "--yes"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("ElastiCache cluster shop-cache"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("not tagged"), "{}", text(&out));
    assert_eq!(proxy_stats(&px)["mutating"], 0);
}

#[test]
fn replicas_turn_the_cluster_into_a_replication_group() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let file = program(dir.path(), &[]);
    stackc(&url, &["apply", file.to_str().unwrap(), "--yes"], &[]);

    let grouped = program(
        dir.path(),
        &[("redis cache { }", "redis cache { replicas = 1 }")],
    );
    let plan = ok(&stackc(&url, &["plan", grouped.to_str().unwrap()], &[]));
    assert!(
        plan.contains(
            "-/+ ElastiCache replication group shop-cache (replace): it exists as CacheCluster"
        ),
        "{plan}"
    );
    ok(&stackc(
        &url,
        &["apply", grouped.to_str().unwrap(), "--yes"],
        &[],
    ));
    assert_eq!(
        boto(
            &url,
            "elasticache",
            "[x['CacheClusterId'] for x in c.describe_cache_clusters()['CacheClusters'] if not x.get('ReplicationGroupId')]"
        ),
        serde_json::json!([])
    );
    let g = boto(
        &url,
        "elasticache",
        "c.describe_replication_groups(ReplicationGroupId='shop-cache')['ReplicationGroups'][0]",
    );
    assert_eq!(g["CacheNodeType"], "cache.t3.micro");
    // Not checked: MemberClusters. moto 5.2.5 ignores NumCacheClusters when cluster mode is
    // disabled (it makes ReplicasPerNodeGroup + 1 clusters), so the group has one member there.
    assert_eq!(g["AutomaticFailover"], "enabled");
    let arn = g["ARN"].as_str().unwrap();
    assert_eq!(
        tags(&boto(
            &url,
            "elasticache",
            &format!("c.list_tags_for_resource(ResourceName='{arn}')['TagList']")
        )),
        ours("cache")
    );
    let primary = g["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
        .as_str()
        .unwrap();
    assert_eq!(
        env_option(&url, ENV_NS, "REDIS_HOST").as_deref(),
        Some(primary)
    );
}

#[test]
fn a_replacement_respects_deletion_protection() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let protected = program(
        dir.path(),
        &[("deletion_protection = false", "deletion_protection = true")],
    );
    stackc(&url, &["apply", protected.to_str().unwrap(), "--yes"], &[]);

    // A new database name cannot be changed in place; protection on: refused, nothing lost.
    let renamed = program(
        dir.path(),
        &[
            ("deletion_protection = false", "deletion_protection = true"),
            ("\"shop\"", "\"shop2\""),
        ],
    );
    let plan = ok(&stackc(&url, &["plan", renamed.to_str().unwrap()], &[]));
    assert!(
        plan.contains("-/+ RDS instance shop-db (replace)"),
        "{plan}"
    );
    assert!(
        plan.contains("DBName: \"shop\" → \"shop2\"  # forces replacement"),
        "{plan}"
    );
    let out = stackc(&url, &["apply", renamed.to_str().unwrap(), "--yes"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("RDS instance shop-db: must be replaced"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("set `deletion_protection = false`"),
        "{}",
        text(&out)
    );
    // Refused before any change, not at the step.
    assert!(text(&out).contains("nothing was changed"), "{}", text(&out));
    assert!(
        !text(&out).contains("done before the failure"),
        "{}",
        text(&out)
    );
    let db = boto(
        &url,
        "rds",
        "c.describe_db_instances(DBInstanceIdentifier='shop-db')['DBInstances'][0]",
    );
    assert_eq!(db["DBName"], "shop");
    assert_eq!(db["DeletionProtection"], true);

    // The file turns protection off in the same change: replaced, with a final snapshot.
    let unprotected = program(dir.path(), &[("\"shop\"", "\"shop2\"")]);
    ok(&stackc(
        &url,
        &["apply", unprotected.to_str().unwrap(), "--yes"],
        &[],
    ));
    let db = boto(
        &url,
        "rds",
        "c.describe_db_instances(DBInstanceIdentifier='shop-db')['DBInstances'][0]",
    );
    assert_eq!(db["DBName"], "shop2");
    assert_eq!(db["DeletionProtection"], false);
    // (moto derives DbiResourceId from the identifier, so the final snapshot shows the deletion.)
    let snaps = boto(
        &url,
        "rds",
        "[s['DBSnapshotIdentifier'] for s in c.describe_db_snapshots(DBInstanceIdentifier='shop-db', SnapshotType='manual')['DBSnapshots']]",
    );
    assert_eq!(snaps.as_array().unwrap().len(), 1, "{snaps}");
    let ops = plan_ops(&url, &unprotected);
    assert_eq!(op_of(&ops, "store.db"), "keep", "{ops:?}");
}
