//! Unit tests of the diff on plans built from real programs and snapshots built by hand.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::*;
use crate::deploy::resource::Change as How;
use crate::deploy::resources::Kind;
use crate::deploy::state::{Found, Orphan, Snapshot};
use crate::lower::Plan;

const PROGRAM: &str = r#"
stack shop { region = "eu-west-1" }
environment shop-env { execution_role = "arn:aws:iam::123456789012:role/exec" }
service web {
  image = "nginx" memory = 128 MiB essential = true ports = [80:80]
  env { PGHOST = db.host  PGPASSWORD = db.password  REDIS_HOST = cache.host  API_KEY = secret("API_KEY") }
}
postgres db { database = "shop" }
redis cache { }
firewall { allow 80 from internet to web  allow db, cache from web }
"#;

fn plan_of(src: &str) -> Plan {
    let (model, diags) = crate::compile(src);
    assert!(diags.is_empty(), "{diags:?}");
    crate::lower::lower(&model.expect("a model")).plan
}

fn refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("ref") {
                out.insert(r.clone());
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Outputs for every referenced `step.attr`: the string `step.attr=value`.
fn fake_outputs(plan: &Plan) -> HashMap<String, Map<String, Value>> {
    let mut all = BTreeSet::new();
    for s in &plan.steps {
        refs(&s.params(), &mut all);
    }
    let mut out: HashMap<String, Map<String, Value>> = HashMap::new();
    for r in all {
        let (step, attr) = r.rsplit_once('.').unwrap();
        out.entry(step.into())
            .or_default()
            .insert(attr.into(), json!(format!("{r}=value")));
    }
    out
}

fn secret(var: &str) -> Option<String> {
    (var == "API_KEY").then(|| "hunter2-very-secret".to_string())
}

/// A snapshot where every resource exists exactly as the plan wants it.
fn matching(plan: &Plan) -> Snapshot {
    let outputs = fake_outputs(plan);
    let mut snap = Snapshot::default();
    for s in &plan.steps {
        let current = resolve(&s.params(), &outputs, &secret).unwrap();
        let out = outputs.get(&s.id).cloned().unwrap_or_default();
        snap.found
            .insert(s.id.clone(), Found::new(s.kind(), &current, out));
    }
    snap
}

fn change<'a>(changes: &'a [Change], step: &str) -> &'a Change {
    changes
        .iter()
        .find(|c| c.step == step)
        .unwrap_or_else(|| panic!("no change for {step}"))
}

#[test]
fn empty_account_creates_everything() {
    let plan = plan_of(PROGRAM);
    let changes = diff(&plan, &Snapshot::default(), &secret).unwrap();
    assert!(has_changes(&changes));
    for c in &changes {
        let expected = if c.kind.is_lookup() {
            Op::Read
        } else {
            Op::Create
        };
        assert_eq!(c.op, expected, "{}", c.step);
    }
    let text = render(&changes);
    assert!(text.contains("+ RDS instance shop-db (create)"), "{text}");
    assert!(text.contains("Plan: "), "{text}");
}

#[test]
fn matching_account_has_no_changes() {
    let plan = plan_of(PROGRAM);
    let changes = diff(&plan, &matching(&plan), &secret).unwrap();
    let busy: Vec<_> = changes
        .iter()
        .filter(|c| c.op != Op::Keep)
        .map(|c| (&c.step, c.op))
        .collect();
    assert!(busy.is_empty(), "{busy:?}");
    assert!(!has_changes(&changes));
    assert!(render(&changes).starts_with("No changes"));
}

/// The option settings the environment has in a snapshot.
fn env_options(snap: &mut Snapshot) -> &mut Vec<Value> {
    snap.found
        .get_mut("environment")
        .unwrap()
        .current
        .get_mut("OptionSettings")
        .unwrap()
        .as_array_mut()
        .unwrap()
}

fn with_current(mut snap: Snapshot, step: &str, field: &str, v: Value) -> Snapshot {
    snap.found
        .get_mut(step)
        .unwrap()
        .current
        .insert(field.into(), v);
    snap
}

#[test]
fn field_updates_show_old_and_new() {
    let plan = plan_of(PROGRAM);
    let snap = with_current(
        matching(&plan),
        "store.db",
        "DBInstanceClass",
        json!("db.t3.small"),
    );
    let changes = diff(&plan, &snap, &secret).unwrap();
    let c = change(&changes, "store.db");
    assert_eq!(c.op, Op::Update);
    assert_eq!(c.fields.len(), 1);
    assert_eq!(c.fields[0].field, "DBInstanceClass");
    assert_eq!(c.fields[0].old, json!("db.t3.small"));
    assert_eq!(c.fields[0].new, json!("db.t3.micro"));
    assert!(render(&changes).contains("DBInstanceClass: \"db.t3.small\" → \"db.t3.micro\""));
}

#[test]
fn engine_versions_upgrade_in_place_and_downgrade_by_replacement() {
    let plan = plan_of(PROGRAM);
    // AWS reports the minor version it picked: `16` matches `16.4`.
    let same = with_current(matching(&plan), "store.db", "EngineVersion", json!("16.4"));
    assert_eq!(
        change(&diff(&plan, &same, &secret).unwrap(), "store.db").op,
        Op::Keep
    );
    let older = with_current(matching(&plan), "store.db", "EngineVersion", json!("15.7"));
    assert_eq!(
        change(&diff(&plan, &older, &secret).unwrap(), "store.db").op,
        Op::Update
    );
    let newer = with_current(
        matching(&plan),
        "store.cache",
        "EngineVersion",
        json!("7.2"),
    );
    let changes = diff(&plan, &newer, &secret).unwrap();
    let c = change(&changes, "store.cache");
    assert_eq!(c.op, Op::Replace);
    assert!(c.fields[0].forces_replacement);
    assert!(c.reason.as_deref().unwrap().contains("EngineVersion"));
}

#[test]
fn storage_grows_in_place_but_never_shrinks() {
    let plan = plan_of(PROGRAM);
    let smaller = with_current(matching(&plan), "store.db", "AllocatedStorage", json!(10));
    assert_eq!(
        change(&diff(&plan, &smaller, &secret).unwrap(), "store.db").op,
        Op::Update
    );
    let bigger = with_current(matching(&plan), "store.db", "AllocatedStorage", json!(100));
    assert_eq!(
        change(&diff(&plan, &bigger, &secret).unwrap(), "store.db").op,
        Op::Replace
    );
}

#[test]
fn immutable_fields_force_replacement() {
    let plan = plan_of(PROGRAM);
    let snap = with_current(
        matching(&plan),
        "store.db",
        "StorageEncrypted",
        json!(false),
    );
    let changes = diff(&plan, &snap, &secret).unwrap();
    assert_eq!(change(&changes, "store.db").op, Op::Replace);
    assert!(render(&changes).contains("# forces replacement"));
}

#[test]
fn a_cluster_that_must_become_a_replication_group_is_replaced() {
    let plan = plan_of(&PROGRAM.replace("redis cache { }", "redis cache { replicas = 1 }"));
    let mut snap = matching(&plan);
    snap.found.get_mut("store.cache").unwrap().kind = Kind::CacheCluster;
    let changes = diff(&plan, &snap, &secret).unwrap();
    let c = change(&changes, "store.cache");
    assert_eq!(c.op, Op::Replace);
    assert!(c.reason.as_deref().unwrap().contains("CacheCluster"));
}

#[test]
fn security_group_rules_compare_as_sets_without_descriptions() {
    let plan = plan_of(PROGRAM);
    let rules = json!([{ "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{ "CidrIp": "0.0.0.0/0" }] }]);
    let same = with_current(
        matching(&plan),
        "ingress.environment",
        "IpPermissions",
        rules,
    );
    assert_eq!(
        change(&diff(&plan, &same, &secret).unwrap(), "ingress.environment").op,
        Op::Keep
    );
    let wider = json!([{ "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{ "CidrIp": "0.0.0.0/0" }] }]);
    let snap = with_current(
        matching(&plan),
        "ingress.environment",
        "IpPermissions",
        wider,
    );
    assert_eq!(
        change(&diff(&plan, &snap, &secret).unwrap(), "ingress.environment").op,
        Op::Update
    );
}

#[test]
fn secrets_are_compared_but_never_shown() {
    let plan = plan_of(PROGRAM);
    let mut snap = matching(&plan);
    let opts = env_options(&mut snap);
    for o in opts.iter_mut() {
        if o["OptionName"] == "API_KEY" {
            o["Value"] = json!("the-old-secret-value");
        }
    }
    let changes = diff(&plan, &snap, &secret).unwrap();
    let c = change(&changes, "environment");
    assert_eq!(c.op, Op::Update);
    let text = render(&changes) + &serde_json::to_string(&changes).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("the-old-secret-value"), "{text}");
    assert!(text.contains("(sensitive)"), "{text}");
}

#[test]
fn a_missing_secret_variable_is_an_error_before_anything() {
    let plan = plan_of(PROGRAM);
    let err = diff(&plan, &Snapshot::default(), &|_| None).unwrap_err();
    assert!(err.contains("API_KEY"), "{err}");
}

#[test]
fn environment_properties_no_longer_wanted_are_removed() {
    let plan = plan_of(PROGRAM);
    let mut snap = matching(&plan);
    env_options(&mut snap).push(json!({
        "Namespace": "aws:elasticbeanstalk:application:environment", "OptionName": "OLD_KEY", "Value": "x"
    }));
    let changes = diff(&plan, &snap, &secret).unwrap();
    let c = change(&changes, "environment");
    assert_eq!(c.op, Op::Update);
    assert!(
        c.fields
            .iter()
            .any(|f| f.field.ends_with("/OLD_KEY") && f.new.is_null())
    );
}

#[test]
fn unknown_values_are_known_after_apply() {
    let plan = plan_of(PROGRAM);
    let mut snap = matching(&plan);
    // The store's group is gone: the instance's group list will hold a new id.
    snap.found.remove("sg.db");
    let changes = diff(&plan, &snap, &secret).unwrap();
    assert_eq!(change(&changes, "sg.db").op, Op::Create);
    let db = change(&changes, "store.db");
    assert_eq!(db.op, Op::Update);
    assert_eq!(db.fields[0].new, json!("(known after apply)"));
}

#[test]
fn orphans_are_deleted() {
    let plan = plan_of(PROGRAM);
    let mut snap = matching(&plan);
    snap.orphans.push(Orphan {
        kind: Kind::DbInstance,
        id: "shop-old".into(),
        resource: "RDS instance shop-old".into(),
    });
    let changes = diff(&plan, &snap, &secret).unwrap();
    let c = change(&changes, "orphan:shop-old");
    assert_eq!(c.op, Op::Delete);
    assert!(render(&changes).contains("- RDS instance shop-old (delete)"));
}

#[test]
fn a_managed_password_given_by_the_program_is_an_update() {
    // The database was created with `password = managed`; the program now reads the
    // password from the deployer's environment.
    let src = PROGRAM.replace(
        r#"postgres db { database = "shop" }"#,
        "postgres db {\n  database = \"shop\"\n  # allow(stack::plain_secret_env)\n  password = secret(\"API_KEY\")\n}",
    );
    let plan = plan_of(&src);
    let snap = with_current(
        matching(&plan),
        "store.db",
        "ManageMasterUserPassword",
        json!(true),
    );
    let changes = diff(&plan, &snap, &secret).unwrap();
    let c = change(&changes, "store.db");
    assert_eq!(c.op, Op::Update, "{c:?}");
    assert_eq!(c.fields.len(), 1);
    assert_eq!(c.fields[0].field, "ManageMasterUserPassword");
    assert_eq!(
        (&c.fields[0].old, &c.fields[0].new),
        (&json!(true), &json!(false))
    );
    let text = render(&changes) + &serde_json::to_string(&changes).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    // Without the switch there is nothing to do.
    let changes = diff(&plan, &matching(&plan), &secret).unwrap();
    assert_eq!(change(&changes, "store.db").op, Op::Keep);
}

#[test]
fn a_protected_database_to_replace_is_refused_before_anything() {
    let program = |protection: bool| {
        PROGRAM.replace(
            r#"postgres db { database = "shop" }"#,
            &format!(
                "postgres db {{\n  database = \"shop\"\n  # allow(stack::no_deletion_protection)\n  deletion_protection = {protection}\n}}"
            ),
        )
    };
    let refused_for = |protection: bool| {
        let plan = plan_of(&program(protection));
        // It exists protected and unencrypted: encryption forces a replacement.
        let snap = with_current(
            matching(&plan),
            "store.db",
            "StorageEncrypted",
            json!(false),
        );
        let snap = with_current(snap, "store.db", "DeletionProtection", json!(true));
        let changes = diff(&plan, &snap, &secret).unwrap();
        assert_eq!(change(&changes, "store.db").op, Op::Replace);
        refused(&plan, &snap, &changes)
    };
    let r = refused_for(true);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].1.contains("deletion_protection = false"), "{r:?}");
    assert!(r[0].1.contains("StorageEncrypted"), "{r:?}");
    // The file turns protection off: apply may replace it.
    assert!(refused_for(false).is_empty());
    // Nothing to replace: nothing refused.
    let plan = plan_of(&program(true));
    let snap = with_current(
        matching(&plan),
        "store.db",
        "DeletionProtection",
        json!(true),
    );
    let changes = diff(&plan, &snap, &secret).unwrap();
    assert!(refused(&plan, &snap, &changes).is_empty());
}

#[test]
fn a_new_load_balancer_type_replaces_the_environment_and_apply_refuses_it() {
    let program = PROGRAM.replace(
        r#"environment shop-env { execution_role"#,
        r#"environment shop-env { tier = load_balanced execution_role"#,
    );
    let plan = plan_of(&program);
    let with_option = |value: Option<&str>| {
        let mut snap = matching(&plan);
        let opts = env_options(&mut snap);
        opts.retain(|o| o["OptionName"] != "LoadBalancerType");
        if let Some(v) = value {
            opts.push(json!({
                "Namespace": "aws:elasticbeanstalk:environment",
                "OptionName": "LoadBalancerType",
                "Value": v,
            }));
        }
        snap
    };
    // Created with a classic load balancer: only a new environment can have another type.
    let snap = with_option(Some("classic"));
    let changes = diff(&plan, &snap, &secret).unwrap();
    let c = change(&changes, "environment");
    assert_eq!(c.op, Op::Replace, "{c:?}");
    assert!(
        c.reason.as_deref().unwrap().contains("LoadBalancerType"),
        "{c:?}"
    );
    let r = refused(&plan, &snap, &changes);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].1.contains("stackc destroy"), "{r:?}");
    // A single-instance environment becoming load balanced gets its type then: an update.
    let snap = with_option(None);
    let changes = diff(&plan, &snap, &secret).unwrap();
    assert_eq!(change(&changes, "environment").op, Op::Update);
    assert!(refused(&plan, &snap, &changes).is_empty());
    // The same type: nothing to do.
    let snap = with_option(Some("application"));
    let changes = diff(&plan, &snap, &secret).unwrap();
    assert_eq!(change(&changes, "environment").op, Op::Keep);
}

/// A changed value of each kind of field, and what the diff must then do.
fn variants(how: How, current: &Value) -> Vec<(Value, Op)> {
    let other = |v: &Value| match v {
        Value::String(s) => json!(format!("{s}-other")),
        Value::Bool(b) => json!(!b),
        Value::Number(n) => json!(n.as_u64().unwrap_or(0) + 1),
        Value::Array(a) => {
            let mut a = a.clone();
            a.push(json!("other"));
            json!(a)
        }
        Value::Object(_) | Value::Null => json!({ "other": true }),
    };
    match how {
        How::Identity | How::Ignore(_) => vec![(other(current), Op::Keep)],
        How::Update | How::Set | How::Document => vec![(other(current), Op::Update)],
        How::Replace => vec![(other(current), Op::Replace)],
        How::Rules => {
            let mut rules = current.as_array().cloned().unwrap_or_default();
            rules.push(json!({ "IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": [{ "CidrIp": "10.9.9.9/32" }] }));
            vec![(json!(rules), Op::Update)]
        }
        How::Options(_) => {
            let mut options = current.as_array().cloned().unwrap_or_default();
            if let Some(first) = options.first_mut() {
                first["Value"] = other(&first["Value"]);
            }
            vec![(json!(options), Op::Update)]
        }
        // Running an older version: an upgrade; a newer one: a downgrade, by replacement.
        How::Version => vec![(json!("1.0"), Op::Update), (json!("999.1"), Op::Replace)],
        How::Grow => {
            let n = current.as_u64().unwrap_or(0);
            vec![
                (json!(n.saturating_sub(1)), Op::Update),
                (json!(n + 1), Op::Replace),
            ]
        }
    }
}

/// Programs whose plans, together, hold every resource type.
fn every_kind_programs() -> [String; 2] {
    [
        PROGRAM.to_string(),
        PROGRAM
            .replace("redis cache { }", "redis cache { replicas = 1 }")
            .replace(
                r#"postgres db { database = "shop" }"#,
                "postgres db {\n  database = \"shop\"\n  # allow(stack::plain_secret_env)\n  password = secret(\"API_KEY\")\n}",
            )
            .replace("PGPASSWORD = db.password", "")
            .replace(
                "environment shop-env {",
                "environment shop-env {\n  tier = load_balanced\n  domain = \"shop.example.com\"\n  min_instances = 2\n  target_cpu_percent = 50\n",
            )
            .replace(r#"image = "nginx""#, r#"build = "./web""#),
    ]
}

/// Every action a resource type declares is granted by the deployer's policy, on the narrowest
/// resources its type chose (and no type grants an action it does not declare). A type may
/// grant less to a program that has no step of it (the DNS records of a program without a
/// domain), so the grants of programs that hold every type, together, are its actions.
#[test]
fn every_declared_action_is_granted() {
    use crate::deploy::policy::Scope;
    let mut granted: BTreeMap<Kind, BTreeSet<&str>> = BTreeMap::new();
    for program in every_kind_programs() {
        let plan = plan_of(&program);
        let scope = Scope {
            stack: &plan.stack,
            tag: &plan.stack,
            region: "eu-west-1",
        };
        for &kind in Kind::ALL {
            let declared: BTreeSet<&str> = kind.actions().iter().copied().collect();
            let these: BTreeSet<&str> = kind
                .grants(&scope, &plan)
                .iter()
                .flat_map(|g| g.actions.clone())
                .collect();
            assert!(these.is_subset(&declared), "{kind:?} grants {these:?}");
            let used = plan.steps.iter().any(|s| s.kind() == kind);
            assert!(!used || these == declared, "{kind:?} grants {these:?}");
            granted.entry(kind).or_default().extend(these);
        }
    }
    for &kind in Kind::ALL {
        let declared: BTreeSet<&str> = kind.actions().iter().copied().collect();
        assert_eq!(granted[&kind], declared, "{kind:?}");
    }
    let policy = crate::deploy::policy::deployer_policy(&[plan_of(PROGRAM)]);
    let text = policy.to_string();
    // The database's own name is covered by the stack's wildcard, which is all that is kept.
    assert!(text.contains("arn:aws:rds:eu-west-1:*:db:shop-*"), "{text}");
    assert!(
        !text.contains("arn:aws:rds:eu-west-1:*:db:shop-db"),
        "{text}"
    );
    assert!(
        text.contains("\"ec2:ResourceTag/stackc:stack\":\"shop\""),
        "{text}"
    );
}

/// Forgetting is a test failure: every field of every resource type is declared (the
/// `desired!` struct cannot have one without a `Change`), each declared field is one the type
/// serialises, and a changed value of each field gives the action its declaration says. The
/// programs below hold every type.
#[test]
fn every_field_of_every_type_changes_as_declared() {
    let programs = every_kind_programs();
    let mut seen = BTreeSet::new();
    for program in &programs {
        let plan = plan_of(program);
        let base = matching(&plan);
        for step in &plan.steps {
            let kind = step.kind();
            seen.insert(kind);
            let declared: BTreeSet<&str> = kind.fields().iter().map(|f| f.name).collect();
            let params = step.params();
            for key in params.as_object().unwrap().keys() {
                assert!(
                    declared.contains(key.as_str()),
                    "{kind:?} serialises {key}, which it does not declare"
                );
            }
            if kind.is_lookup() {
                continue;
            }
            for field in kind.fields() {
                let Some(current) = base.found[&step.id].current.get(field.name) else {
                    continue;
                };
                for (changed, want) in variants(field.change, current) {
                    let snap = with_current(base.clone(), &step.id, field.name, changed.clone());
                    let changes = diff(&plan, &snap, &secret).unwrap();
                    let c = change(&changes, &step.id);
                    assert_eq!(
                        c.op, want,
                        "{kind:?}.{} = {changed} under {:?}: {c:?}",
                        field.name, field.change
                    );
                    if field.sensitive {
                        let text = serde_json::to_string(&c.fields).unwrap();
                        assert!(
                            !text.contains("hunter2"),
                            "{kind:?}.{} shows a secret: {text}",
                            field.name
                        );
                    }
                }
            }
        }
    }
    let all: BTreeSet<Kind> = Kind::ALL.iter().copied().collect();
    assert_eq!(
        seen, all,
        "the programs of this test must hold every resource type"
    );
}
