//! The executor: runs the diff's changes as a dependency graph. A step starts as soon as every
//! step it depends on is done; independent steps run concurrently (bounded). On the first
//! failure nothing new starts, the calls in flight finish, and the error says what was done.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::task::JoinSet;

use super::{Ctx, DeployError};
use crate::deploy::diff::{Change, Op, resolve};
use crate::deploy::state::Snapshot;
use crate::lower::Plan;

/// How many steps may be in flight at once: enough for every independent start of the
/// reference program, few enough to stay clear of AWS's request rate limits.
const MAX_IN_FLIGHT: usize = 16;

/// Reads the deployer's environment variable for `secret("VAR")`.
pub type SecretFn = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A finished step: its outputs, or why it failed.
type StepResult = Result<Map<String, Value>, DeployError>;

/// An apply that stopped on an error: the error and what had been done before it.
#[derive(Debug)]
pub struct Failure {
    pub error: DeployError,
    pub done: Vec<String>,
}

/// Whether a status means "settled": nothing to wait for before using the resource.
pub fn settled(status: Option<&str>) -> bool {
    matches!(status, None | Some("available" | "Ready"))
}

fn verb(op: Op) -> &'static str {
    match op {
        Op::Create => "created",
        Op::Update => "updated",
        Op::Replace => "replaced",
        Op::Delete => "deleted",
        Op::Keep => "ready",
        Op::Read => "read",
    }
}

fn sign(op: Op) -> &'static str {
    match op {
        Op::Create => "+",
        Op::Update => "~",
        Op::Replace => "-/+",
        Op::Delete => "-",
        Op::Keep | Op::Read => "=",
    }
}

fn doing(op: Op) -> &'static str {
    match op {
        Op::Create => "creating",
        Op::Update => "updating",
        Op::Replace => "replacing",
        Op::Delete => "deleting",
        Op::Keep => "waiting",
        Op::Read => "reading",
    }
}

/// Applies `changes` (from [`crate::deploy::diff::diff`] of `plan` against `snap`).
/// Returns the list of what was done.
pub async fn apply(
    ctx: Arc<Ctx>,
    plan: &Plan,
    changes: &[Change],
    snap: &Snapshot,
    secret: SecretFn,
) -> Result<Vec<String>, Failure> {
    let ops: HashMap<&str, Op> = changes.iter().map(|c| (c.step.as_str(), c.op)).collect();
    let mut outputs: HashMap<String, Map<String, Value>> = HashMap::new();
    let mut pending: Vec<usize> = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        let op = ops.get(step.id.as_str()).copied().unwrap_or(Op::Keep);
        let found = snap.found.get(&step.id);
        if op == Op::Keep && settled(found.and_then(|f| f.status.as_deref())) {
            // Nothing to do; what exists already answers the references to it.
            outputs.insert(
                step.id.clone(),
                found.map(|f| f.outputs.clone()).unwrap_or_default(),
            );
        } else {
            pending.push(i);
        }
    }
    // Longest chain first: a step that many others wait for starts before one that ends a
    // chain, so the bound on steps in flight never delays the critical path.
    let tail = chain_lengths(plan);
    pending.sort_by_key(|&i| (std::cmp::Reverse(tail[i]), i));
    let mut done_steps: HashSet<String> = outputs.keys().cloned().collect();
    let mut done: Vec<String> = Vec::new();
    let mut running: JoinSet<(usize, StepResult)> = JoinSet::new();
    let mut in_flight = 0usize;
    let mut failure: Option<DeployError> = None;
    // Steps whose work went into an earlier call (see `fold_into_creation`).
    let mut folded: HashSet<String> = HashSet::new();

    loop {
        // Start every step whose dependencies are done, within the bound.
        if failure.is_none() {
            let mut i = 0;
            while i < pending.len() && in_flight < MAX_IN_FLIGHT {
                let step = &plan.steps[pending[i]];
                if !step.depends_on.iter().all(|d| done_steps.contains(d)) {
                    i += 1;
                    continue;
                }
                let idx = pending.remove(i);
                let op = ops.get(step.id.as_str()).copied().unwrap_or(Op::Keep);
                if folded.contains(&step.id) {
                    outputs.insert(step.id.clone(), Map::new());
                    done_steps.insert(step.id.clone());
                    done.push(format!(
                        "{} {} (in the creation call)",
                        verb(op),
                        step.resource
                    ));
                    // What waited for it may start now: scan again from the top.
                    i = 0;
                    continue;
                }
                let mut params = match resolve(&step.params, &outputs, &*secret) {
                    Ok(p) => p,
                    Err(msg) => {
                        failure = Some(DeployError::other(&step.resource, msg));
                        break;
                    }
                };
                if op == Op::Create {
                    folded.extend(fold_into_creation(
                        plan,
                        step,
                        &mut params,
                        &ops,
                        &done_steps,
                        &outputs,
                        &*secret,
                    ));
                }
                let ctx = ctx.clone();
                let step = step.clone();
                let found = snap.found.get(&step.id).cloned();
                ctx.progress.begin(
                    &step.id,
                    &format!("{} {}", sign(op), step.resource),
                    doing(op),
                );
                in_flight += 1;
                running.spawn(async move {
                    let r = super::run(&ctx, &step, op, &params, found.as_ref()).await;
                    (idx, r)
                });
            }
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        in_flight -= 1;
        let (idx, result) = match joined {
            Ok(r) => r,
            Err(e) => {
                failure.get_or_insert(DeployError::other(
                    "stackc",
                    format!("a step stopped unexpectedly: {e}"),
                ));
                continue;
            }
        };
        let step = &plan.steps[idx];
        let op = ops.get(step.id.as_str()).copied().unwrap_or(Op::Keep);
        match result {
            Ok(out) => {
                ctx.progress.finish(&step.id, verb(op));
                if matches!(op, Op::Create | Op::Update | Op::Replace) {
                    done.push(format!("{} {}", verb(op), step.resource));
                }
                outputs.insert(step.id.clone(), out);
                done_steps.insert(step.id.clone());
            }
            Err(e) => {
                ctx.progress.finish(&step.id, "failed");
                failure.get_or_insert(e);
            }
        }
    }
    if let Some(error) = failure {
        return Err(Failure { error, done });
    }
    if let Some(i) = pending.first() {
        // Unreachable for a plan from `lower`, whose dependencies always come earlier.
        let step = &plan.steps[*i];
        return Err(Failure {
            error: DeployError::other(&step.resource, "its dependencies never completed"),
            done,
        });
    }

    // Resources the program no longer describes go last, users of others first.
    let mut orphans: Vec<&Change> = changes.iter().filter(|c| c.op == Op::Delete).collect();
    orphans.sort_by_key(|c| delete_rank(&c.action));
    for c in orphans {
        let id = c.step.trim_start_matches("orphan:");
        ctx.progress
            .begin(&c.step, &format!("- {}", c.resource), "deleting");
        match super::delete(&ctx, &c.action, id, &c.resource, None).await {
            Ok(()) => {
                ctx.progress.finish(&c.step, "deleted");
                done.push(format!("deleted {}", c.resource));
            }
            Err(error) => {
                ctx.progress.finish(&c.step, "failed");
                return Err(Failure { error, done });
            }
        }
    }
    Ok(done)
}

/// An environment created now can take, in its creation call, the options of an
/// `UpdateEnvironment` step that only waited for it and for steps already done (the store
/// endpoints when the stores were ready first): one call and one wait less on the critical
/// path. Returns the steps so folded.
fn fold_into_creation(
    plan: &Plan,
    step: &crate::lower::Step,
    params: &mut Value,
    ops: &HashMap<&str, Op>,
    done_steps: &HashSet<String>,
    outputs: &HashMap<String, Map<String, Value>>,
    secret: &(dyn Fn(&str) -> Option<String> + Send + Sync),
) -> Vec<String> {
    if step.action != "elasticbeanstalk:CreateEnvironment" {
        return Vec::new();
    }
    let mut folded = Vec::new();
    for f in &plan.steps {
        let foldable = f.action == "elasticbeanstalk:UpdateEnvironment"
            && f.depends_on.contains(&step.id)
            && f.depends_on
                .iter()
                .all(|d| d == &step.id || done_steps.contains(d))
            && matches!(ops.get(f.id.as_str()), Some(Op::Create | Op::Update));
        if !foldable {
            continue;
        }
        let Ok(extra) = resolve(&f.params, outputs, secret) else {
            continue;
        };
        if let (Some(Value::Array(into)), Some(Value::Array(more))) = (
            params.get_mut("OptionSettings"),
            extra.get("OptionSettings"),
        ) {
            into.extend(more.iter().cloned());
            folded.push(f.id.clone());
        }
    }
    folded
}

/// For each step, the number of steps in the longest chain that starts with it.
fn chain_lengths(plan: &Plan) -> Vec<usize> {
    let index: HashMap<&str, usize> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut tail = vec![1usize; plan.steps.len()];
    // Dependencies come earlier in the plan, so one backward pass sees every dependent first.
    for (i, step) in plan.steps.iter().enumerate().rev() {
        for d in &step.depends_on {
            if let Some(&j) = index.get(d.as_str()) {
                tail[j] = tail[j].max(tail[i] + 1);
            }
        }
    }
    tail
}

/// Deletion order: what uses others goes first (environments before the stores they read,
/// stores before their security groups, security groups last but for IAM).
pub fn delete_rank(action: &str) -> u8 {
    match action {
        "elasticbeanstalk:UpdateEnvironment" | "elasticbeanstalk:CreateEnvironment" => 0,
        "elasticbeanstalk:CreateApplicationVersion" | "s3:PutObject" => 1,
        "elasticbeanstalk:CreateApplication" => 2,
        "rds:CreateDBInstance"
        | "elasticache:CreateCacheCluster"
        | "elasticache:CreateReplicationGroup" => 3,
        "rds:CreateDBSubnetGroup" | "elasticache:CreateCacheSubnetGroup" => 4,
        "ec2:AuthorizeSecurityGroupIngress" => 5,
        "ec2:CreateSecurityGroup" => 6,
        "iam:AddRoleToInstanceProfile" => 7,
        "iam:CreateInstanceProfile" | "iam:AttachRolePolicy" => 8,
        "iam:CreateRole" => 9,
        _ => 10,
    }
}

/// Destroys every resource of the stack that refresh found: users before what they use.
/// Protected data stores are kept and named in the returned notes.
pub async fn destroy(
    ctx: Arc<Ctx>,
    plan: &Plan,
    snap: &Snapshot,
) -> Result<(Vec<String>, Vec<String>), Failure> {
    // A protected store is kept with what it stands on: its security group and subnet group.
    // Its ingress rules go, so the environment's group (gone with the environment) is free.
    let mut kept = Vec::new();
    let mut keep: HashSet<String> = HashSet::new();
    for step in &plan.steps {
        let Some(f) = snap.found.get(&step.id) else {
            continue;
        };
        if f.current.get("DeletionProtection") == Some(&Value::Bool(true)) {
            let name = step.id.trim_start_matches("store.");
            keep.extend([
                step.id.clone(),
                format!("sg.{name}"),
                format!("{}.subnets", step.id),
            ]);
            kept.push(format!(
                "{} has deletion protection and was kept: set `deletion_protection = false` in the file, run `stackc apply`, then `stackc destroy` again",
                step.resource
            ));
        }
    }
    let mut targets: Vec<(
        u8,
        String,
        String,
        String,
        Option<crate::deploy::state::Found>,
    )> = Vec::new();
    for step in &plan.steps {
        let Some(f) = snap.found.get(&step.id) else {
            continue;
        };
        if super::super::diff::is_read(&step.action) || keep.contains(&step.id) {
            continue;
        }
        let id = f
            .outputs
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(&step.id)
            .to_string();
        let action = f.action.clone().unwrap_or_else(|| step.action.clone());
        targets.push((
            delete_rank(&action),
            action,
            id,
            step.resource.clone(),
            Some(f.clone()),
        ));
    }
    for o in &snap.orphans {
        targets.push((
            delete_rank(&o.action),
            o.action.clone(),
            o.id.clone(),
            o.resource.clone(),
            None,
        ));
    }
    targets.sort_by_key(|t| t.0);
    let mut done = Vec::new();
    // Same rank: independent of each other, so deleted concurrently.
    let mut i = 0;
    while i < targets.len() {
        let rank = targets[i].0;
        let mut set = JoinSet::new();
        while i < targets.len() && targets[i].0 == rank {
            let (_, action, id, resource, found) = targets[i].clone();
            i += 1;
            let ctx = ctx.clone();
            let key = format!("destroy:{id}:{action}");
            ctx.progress
                .begin(&key, &format!("- {resource}"), "deleting");
            set.spawn(async move {
                let r = super::delete(&ctx, &action, &id, &resource, found.as_ref()).await;
                ctx.progress
                    .finish(&key, if r.is_ok() { "deleted" } else { "failed" });
                (resource, r)
            });
        }
        let mut error = None;
        while let Some(j) = set.join_next().await {
            match j {
                Ok((resource, Ok(()))) => done.push(format!("deleted {resource}")),
                Ok((_, Err(e))) => {
                    error.get_or_insert(e);
                }
                Err(e) => {
                    error.get_or_insert(DeployError::other(
                        "stackc",
                        format!("a step stopped unexpectedly: {e}"),
                    ));
                }
            }
        }
        if let Some(error) = error {
            return Err(Failure { error, done });
        }
    }
    Ok((done, kept))
}
