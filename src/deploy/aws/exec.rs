//! The executor: runs the diff's changes as a dependency graph. A step starts as soon as every
//! step it depends on is done; independent steps run concurrently (bounded). On the first
//! failure nothing new starts, the calls in flight finish, and the error says what was done.
//! It knows no resource type: what a step does is its type's [`Apply`](super::Apply), the
//! order is the plan's `depends_on`, and deletions follow the types' declared uses.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::task::JoinSet;

use super::{Ctx, DeployError, Gone, Job, scrub};
use crate::deploy::diff::{Change, FieldChange, Op, resolve, secret_values};
use crate::deploy::resource::DestroyOptions;
use crate::deploy::resources::Kind;
use crate::deploy::state::{Found, Snapshot};
use crate::lower::{Plan, Step};

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
    let fields: HashMap<&str, &[FieldChange]> = changes
        .iter()
        .map(|c| (c.step.as_str(), c.fields.as_slice()))
        .collect();
    let op_of = |id: &str| ops.get(id).copied().unwrap_or(Op::Keep);
    let mut outputs: HashMap<String, Map<String, Value>> = HashMap::new();
    let mut pending: Vec<usize> = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        let found = snap.found.get(&step.id);
        if op_of(&step.id) == Op::Keep && found.is_none_or(|f| f.settled) {
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
    // Steps whose work went into an earlier call (see `fold`).
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
                let op = op_of(&step.id);
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
                let planned = step.params();
                let mut params = match resolve(&planned, &outputs, &*secret) {
                    Ok(p) => p,
                    Err(msg) => {
                        failure = Some(DeployError::other(&step.resource, msg));
                        break;
                    }
                };
                let mut secrets = Vec::new();
                secret_values(&planned, &params, &mut secrets);
                if op == Op::Create {
                    for (id, field, items) in
                        fold(plan, step, &ops, &done_steps, &outputs, &*secret)
                    {
                        if let Some(f) = plan.step(&id) {
                            secret_values(&f.params()[field], &items, &mut secrets);
                        }
                        if let (Some(Value::Array(into)), Value::Array(more)) =
                            (params.get_mut(field), items)
                        {
                            into.extend(more);
                            folded.insert(id);
                        }
                    }
                }
                let ctx = ctx.clone();
                let step = step.clone();
                let found = snap.found.get(&step.id).cloned();
                let step_fields = fields
                    .get(step.id.as_str())
                    .map(|f| f.to_vec())
                    .unwrap_or_default();
                ctx.progress.begin(
                    &step.id,
                    &format!("{} {}", sign(op), step.resource),
                    doing(op),
                );
                in_flight += 1;
                running.spawn(async move {
                    let job = Job {
                        step: &step,
                        op,
                        params,
                        found: found.as_ref(),
                        changes: &step_fields,
                    };
                    let r = step.kind().run(&ctx, job).await;
                    (idx, r.map_err(|e| scrub(e, &secrets)))
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
        let op = op_of(&step.id);
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
    orphans.sort_by_key(|c| c.kind.delete_level());
    for c in orphans {
        let id = c.step.trim_start_matches("orphan:");
        ctx.progress
            .begin(&c.step, &format!("- {}", c.resource), "deleting");
        let gone = Gone {
            id,
            resource: &c.resource,
            key: &c.step,
            found: None,
        };
        match c.kind.delete(&ctx, &gone).await {
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

/// Steps that can go into the creation call of `step` (their type declares it, see
/// `Resource::FOLDS_INTO`): to be created now, waiting only for `step` and for steps already
/// done (the store endpoints when the stores were ready first). One call and one wait less on
/// the critical path. Returns each such step with the field and the resolved items to append.
fn fold(
    plan: &Plan,
    step: &Step,
    ops: &HashMap<&str, Op>,
    done_steps: &HashSet<String>,
    outputs: &HashMap<String, Map<String, Value>>,
    secret: &(dyn Fn(&str) -> Option<String> + Send + Sync),
) -> Vec<(String, &'static str, Value)> {
    let mut out = Vec::new();
    for f in &plan.steps {
        let Some((into, field)) = f.kind().folds_into() else {
            continue;
        };
        let foldable = into == step.kind()
            && f.depends_on.contains(&step.id)
            && f.depends_on
                .iter()
                .all(|d| d == &step.id || done_steps.contains(d))
            && matches!(ops.get(f.id.as_str()), Some(Op::Create | Op::Update));
        if !foldable {
            continue;
        }
        let Ok(extra) = resolve(&f.params(), outputs, secret) else {
            continue;
        };
        if let Some(items) = extra.get(field) {
            out.push((f.id.clone(), field, items.clone()));
        }
    }
    out
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

/// The steps destroy keeps: every resource its type says destroy keeps (a database with
/// deletion protection, a repository's images), with everything it stands on (its security
/// group and subnet group). Its ingress rules go, so the environment's group (gone with the
/// environment) is free.
fn kept(plan: &Plan, snap: &Snapshot, options: &DestroyOptions) -> (HashSet<String>, Vec<String>) {
    let mut keep = HashSet::new();
    let mut notes = Vec::new();
    let mut stack: Vec<&Step> = Vec::new();
    for step in &plan.steps {
        let why = snap
            .found
            .get(&step.id)
            .and_then(|f| step.kind().kept_by_destroy(&f.current, options));
        if let Some(why) = why {
            notes.push(format!("{} {why}", step.resource));
            stack.push(step);
        }
    }
    while let Some(step) = stack.pop() {
        if keep.insert(step.id.clone()) {
            stack.extend(step.depends_on.iter().filter_map(|d| plan.step(d)));
        }
    }
    (keep, notes)
}

/// Destroys every resource of the stack that refresh found: users before what they use.
/// What its type keeps (protected data stores, images) is kept and named in the returned notes.
pub async fn destroy(
    ctx: Arc<Ctx>,
    plan: &Plan,
    snap: &Snapshot,
    options: &DestroyOptions,
) -> Result<(Vec<String>, Vec<String>), Failure> {
    let (keep, mut notes) = kept(plan, snap, options);
    // (kind, AWS id, resource, what refresh found)
    let mut targets: Vec<(Kind, String, String, Option<Found>)> = Vec::new();
    for step in &plan.steps {
        let Some(f) = snap.found.get(&step.id) else {
            continue;
        };
        if step.kind().is_lookup() || keep.contains(&step.id) {
            continue;
        }
        let id = f.id().unwrap_or(&step.id).to_string();
        targets.push((f.kind, id, step.resource.clone(), Some(f.clone())));
    }
    for o in &snap.orphans {
        match o.kind.kept_by_destroy(&Default::default(), options) {
            Some(why) => notes.push(format!("{} {why}", o.resource)),
            None => targets.push((o.kind, o.id.clone(), o.resource.clone(), None)),
        }
    }
    targets.sort_by_key(|t| t.0.delete_level());
    let mut done = Vec::new();
    // Same level: independent of each other, so deleted concurrently.
    let mut i = 0;
    while i < targets.len() {
        let level = targets[i].0.delete_level();
        let mut set = JoinSet::new();
        while i < targets.len() && targets[i].0.delete_level() == level {
            let (kind, id, resource, found) = targets[i].clone();
            i += 1;
            let ctx = ctx.clone();
            let key = format!("destroy:{id}:{}", kind.action());
            ctx.progress
                .begin(&key, &format!("- {resource}"), "deleting");
            set.spawn(async move {
                let gone = Gone {
                    id: &id,
                    resource: &resource,
                    key: &key,
                    found: found.as_ref(),
                };
                let r = kind.delete(&ctx, &gone).await;
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
    Ok((done, notes))
}
