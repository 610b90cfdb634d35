//! IAM: the instance role and its instance profile, and the service role, that an Elastic
//! Beanstalk environment needs when the program names none. A new account has none of these
//! (the console makes them, the API does not).
//!
//! Refresh reads each role once (`GetRole`, tags included, and `ListAttachedRolePolicies`
//! shared by all its attachment steps) and the instance profile once (`GetInstanceProfile`,
//! roles and tags included). A name held by a role or profile without this stack's tag is a
//! conflict. IAM is eventually consistent; the environment's creation waits for what was just
//! created here to become visible (see `eb.rs`).

use aws_sdk_iam::types::Tag;
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

use super::{Ctx, DeployError, aws_error, error_code, owned, params};
use crate::deploy::diff::Op;
use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
use crate::lower::{Plan, Step};

const CREATE_ROLE: &str = "iam:CreateRole";
const ATTACH: &str = "iam:AttachRolePolicy";
const CREATE_PROFILE: &str = "iam:CreateInstanceProfile";
const ADD_ROLE: &str = "iam:AddRoleToInstanceProfile";
/// An inline policy of a role (the instance role's right to read managed passwords).
const PUT_POLICY: &str = "iam:PutRolePolicy";

/// The names `lower::plan::names` gives the stack's roles and instance profile (the instance
/// profile is named after its role). Refresh looks them up when the plan does not create them
/// (the program now names its own), to delete what an earlier apply made. A unit test keeps
/// these in step with `names`.
fn fixed_role_names(stack: &str) -> [String; 2] {
    [format!("{stack}-eb-ec2"), format!("{stack}-eb-service")]
}

fn fixed_profile_name(stack: &str) -> String {
    format!("{stack}-eb-ec2")
}

/// Whether an IAM error says the entity does not exist.
fn not_found<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(e: &E) -> bool {
    error_code(e) == Some("NoSuchEntity")
}

fn tags_of(tags: &[Tag]) -> Vec<(&str, &str)> {
    tags.iter().map(|t| (t.key(), t.value())).collect()
}

/// IAM returns policy documents URL-encoded (RFC 3986): `%7B%22Version%22...`.
fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The trust policy as a JSON string: decoded when it comes URL-encoded, as IAM sends it.
fn policy_document(raw: &str) -> String {
    if serde_json::from_str::<Value>(raw).is_ok() {
        raw.to_string()
    } else {
        url_decode(raw)
    }
}

/// What one role lookup found.
enum RoleState {
    Missing,
    /// Held by a role without this stack's tag.
    Foreign,
    Ours {
        arn: String,
        document: String,
        attached: Vec<String>,
        /// The inline policies asked for that exist: (name, document as JSON text).
        inline: Vec<(String, String)>,
    },
}

async fn read_role(
    iam: aws_sdk_iam::Client,
    stack: String,
    name: String,
    policies: bool,
    inline_names: Vec<String>,
) -> Result<RoleState, DeployError> {
    let resource = format!("role {name}");
    let role = match iam.get_role().role_name(&name).send().await {
        Ok(r) => r,
        Err(e) if not_found(&e) => return Ok(RoleState::Missing),
        Err(e) => return Err(aws_error(&resource, "GetRole", &e)),
    };
    let Some(role) = role.role() else {
        return Ok(RoleState::Missing);
    };
    if !owned(tags_of(role.tags()), &stack) {
        return Ok(RoleState::Foreign);
    }
    let (attached, inline) = tokio::join!(
        attached_policies(&iam, &name, &resource, policies),
        inline_policies(&iam, &name, &resource, inline_names),
    );
    let (Some(attached), Some(inline)) = (attached?, inline?) else {
        return Ok(RoleState::Missing);
    };
    Ok(RoleState::Ours {
        arn: role.arn().to_string(),
        document: role
            .assume_role_policy_document()
            .map(policy_document)
            .unwrap_or_default(),
        attached,
        inline,
    })
}

/// The managed policies attached to a role (none asked: none read); None if the role went.
async fn attached_policies(
    iam: &aws_sdk_iam::Client,
    name: &str,
    resource: &str,
    policies: bool,
) -> Result<Option<Vec<String>>, DeployError> {
    if !policies {
        return Ok(Some(Vec::new()));
    }
    Ok(Some(
        match iam
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
        {
            Ok(list) => list
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect(),
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(aws_error(resource, "ListAttachedRolePolicies", &e)),
        },
    ))
}

/// The role's inline policies of these names that exist, with their documents; None if the
/// role went.
async fn inline_policies(
    iam: &aws_sdk_iam::Client,
    role: &str,
    resource: &str,
    names: Vec<String>,
) -> Result<Option<Vec<(String, String)>>, DeployError> {
    let mut found = Vec::new();
    for name in names {
        match iam
            .get_role_policy()
            .role_name(role)
            .policy_name(&name)
            .send()
            .await
        {
            Ok(r) => found.push((name, policy_document(r.policy_document()))),
            // A missing policy and a missing role both answer NoSuchEntity: the role was
            // just read, so it is the policy.
            Err(e) if not_found(&e) => {}
            Err(e) => return Err(aws_error(resource, "GetRolePolicy", &e)),
        }
    }
    Ok(Some(found))
}

enum ProfileState {
    Missing,
    Foreign,
    Ours { arn: String, roles: Vec<String> },
}

async fn read_profile(
    iam: aws_sdk_iam::Client,
    stack: String,
    name: String,
) -> Result<ProfileState, DeployError> {
    match iam
        .get_instance_profile()
        .instance_profile_name(&name)
        .send()
        .await
    {
        Ok(r) => {
            let Some(p) = r.instance_profile() else {
                return Ok(ProfileState::Missing);
            };
            if !owned(tags_of(p.tags()), &stack) {
                return Ok(ProfileState::Foreign);
            }
            Ok(ProfileState::Ours {
                arn: p.arn().to_string(),
                roles: p
                    .roles()
                    .iter()
                    .map(|r| r.role_name().to_string())
                    .collect(),
            })
        }
        Err(e) if not_found(&e) => Ok(ProfileState::Missing),
        Err(e) => Err(aws_error(
            &format!("instance profile {name}"),
            "GetInstanceProfile",
            &e,
        )),
    }
}

/// The inline policies the plan puts on the role named `role`.
fn inline_names(plan: &Plan, role_steps: &[&Step], role: &str) -> Vec<String> {
    let Some(role_step) = role_steps
        .iter()
        .find(|s| params::str(&s.params, "RoleName") == role)
    else {
        return Vec::new();
    };
    steps_on_role(plan, PUT_POLICY, &role_step.id)
        .map(|s| params::str(&s.params, "PolicyName").to_string())
        .collect()
}

/// The plan's steps of `action` on the role that step `role_step` creates.
fn steps_on_role<'p>(
    plan: &'p Plan,
    action: &'p str,
    role_step: &'p str,
) -> impl Iterator<Item = &'p Step> {
    plan.steps
        .iter()
        .filter(move |s| s.action == action && refers(s, "RoleName", role_step, "role_name"))
}

/// Whether `step` reads `attr` of step `of` through its parameter `param`.
fn refers(step: &Step, param: &str, of: &str, attr: &str) -> bool {
    step.params[param]["ref"].as_str() == Some(&format!("{of}.{attr}"))
}

enum Lookup {
    Role(RoleState),
    Profile(ProfileState),
}

pub async fn refresh(ctx: &Ctx, plan: &Plan) -> Result<Snapshot, DeployError> {
    let mut snap = Snapshot::default();
    let role_steps: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| s.action == CREATE_ROLE)
        .collect();
    let profile_steps: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| s.action == CREATE_PROFILE)
        .collect();
    let planned_roles: Vec<&str> = role_steps
        .iter()
        .map(|s| params::str(&s.params, "RoleName"))
        .collect();
    let planned_profiles: Vec<&str> = profile_steps
        .iter()
        .map(|s| params::str(&s.params, "InstanceProfileName"))
        .collect();

    // Every lookup at once: (index, what) so results come back in a known order.
    let mut reads: JoinSet<(usize, Result<Lookup, DeployError>)> = JoinSet::new();
    let mut names: Vec<(bool, String)> = Vec::new(); // (is a role, name), by index
    for name in &planned_roles {
        names.push((true, name.to_string()));
    }
    for name in &planned_profiles {
        names.push((false, name.to_string()));
    }
    // Roles and profile of an earlier apply that the plan no longer creates: to delete.
    let stale_roles: Vec<String> = fixed_role_names(&ctx.stack)
        .into_iter()
        .filter(|n| !planned_roles.contains(&n.as_str()))
        .collect();
    let stale_profile =
        Some(fixed_profile_name(&ctx.stack)).filter(|n| !planned_profiles.contains(&n.as_str()));
    let first_stale = names.len();
    for name in stale_roles {
        names.push((true, name));
    }
    if let Some(name) = stale_profile {
        names.push((false, name));
    }
    for (i, (is_role, name)) in names.iter().enumerate() {
        let (iam, stack, name) = (ctx.clients.iam.clone(), ctx.stack.clone(), name.clone());
        if *is_role {
            // Attachments and inline policies matter only for roles the plan describes.
            let policies = i < first_stale;
            let inline = inline_names(plan, &role_steps, &name);
            reads.spawn(async move {
                (
                    i,
                    read_role(iam, stack, name, policies, inline)
                        .await
                        .map(Lookup::Role),
                )
            });
        } else {
            reads.spawn(
                async move { (i, read_profile(iam, stack, name).await.map(Lookup::Profile)) },
            );
        }
    }
    let mut results: Vec<Option<Lookup>> = names.iter().map(|_| None).collect();
    while let Some(joined) = reads.join_next().await {
        let (i, r) = joined
            .map_err(|e| DeployError::other("IAM", format!("a read stopped unexpectedly: {e}")))?;
        results[i] = Some(r?);
    }

    for (i, result) in results.into_iter().enumerate() {
        let (_, name) = &names[i];
        let stale = i >= first_stale;
        match result {
            Some(Lookup::Role(state)) => {
                if stale {
                    if let RoleState::Ours { .. } = state {
                        snap.orphans.push(Orphan {
                            action: CREATE_ROLE.into(),
                            id: name.clone(),
                            resource: format!("role {name}"),
                        });
                    }
                    continue;
                }
                let Some(step) = role_steps
                    .iter()
                    .find(|s| params::str(&s.params, "RoleName") == name)
                else {
                    continue;
                };
                match state {
                    RoleState::Missing => {}
                    RoleState::Foreign => snap.conflicts.push(Conflict {
                        step: step.id.clone(),
                        resource: step.resource.clone(),
                        why: format!("a role with this name already exists and is not tagged `stackc:stack = {}`", ctx.stack),
                    }),
                    RoleState::Ours { arn, document, attached, inline } => {
                        for put in steps_on_role(plan, PUT_POLICY, &step.id) {
                            let policy = params::str(&put.params, "PolicyName");
                            if let Some((_, doc)) = inline.iter().find(|(n, _)| n == policy) {
                                snap.found.insert(
                                    put.id.clone(),
                                    Found::new(
                                        json!({ "RoleName": name, "PolicyName": policy, "PolicyDocument": doc }),
                                        json!({ "id": attachment_id(name, policy) }),
                                    ),
                                );
                            }
                        }
                        snap.found.insert(
                            step.id.clone(),
                            Found::new(
                                json!({ "RoleName": name, "AssumeRolePolicyDocument": document }),
                                json!({ "role_name": name, "arn": arn, "id": name }),
                            ),
                        );
                        for a in steps_on_role(plan, ATTACH, &step.id) {
                            let policy = params::str(&a.params, "PolicyArn");
                            if attached.iter().any(|p| p == policy) {
                                snap.found.insert(
                                    a.id.clone(),
                                    Found::new(
                                        json!({ "RoleName": name, "PolicyArn": policy }),
                                        json!({ "id": attachment_id(name, policy) }),
                                    ),
                                );
                            }
                        }
                    }
                }
            }
            Some(Lookup::Profile(state)) => {
                if stale {
                    if let ProfileState::Ours { .. } = state {
                        snap.orphans.push(Orphan {
                            action: CREATE_PROFILE.into(),
                            id: name.clone(),
                            resource: format!("instance profile {name}"),
                        });
                    }
                    continue;
                }
                let Some(step) = profile_steps
                    .iter()
                    .find(|s| params::str(&s.params, "InstanceProfileName") == name)
                else {
                    continue;
                };
                match state {
                    ProfileState::Missing => {}
                    ProfileState::Foreign => snap.conflicts.push(Conflict {
                        step: step.id.clone(),
                        resource: step.resource.clone(),
                        why: format!("an instance profile with this name already exists and is not tagged `stackc:stack = {}`", ctx.stack),
                    }),
                    ProfileState::Ours { arn, roles } => {
                        snap.found.insert(
                            step.id.clone(),
                            Found::new(
                                json!({ "InstanceProfileName": name }),
                                json!({ "instance_profile_name": name, "arn": arn, "id": name }),
                            ),
                        );
                        // An instance profile holds at most one role.
                        if let Some(role) = roles.first() {
                            for add in plan.steps.iter().filter(|s| s.action == ADD_ROLE && refers(s, "InstanceProfileName", &step.id, "instance_profile_name")) {
                                snap.found.insert(
                                    add.id.clone(),
                                    Found::new(
                                        json!({ "InstanceProfileName": name, "RoleName": role }),
                                        json!({ "instance_profile_name": name, "id": name }),
                                    ),
                                );
                            }
                        }
                    }
                }
            }
            None => {}
        }
    }
    Ok(snap)
}

/// The identifier of one policy attachment: role names cannot contain `/`, so the first `/`
/// separates the role from the policy ARN.
fn attachment_id(role: &str, policy: &str) -> String {
    format!("{role}/{policy}")
}

fn iam_tags(step: &Step) -> Result<Vec<Tag>, DeployError> {
    params::tags(&step.params)
        .into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| DeployError::other(&step.resource, format!("invalid tag: {e}")))
        })
        .collect()
}

fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub async fn run(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    let iam = &ctx.clients.iam;
    let resource = step.resource.as_str();
    if matches!(op, Op::Keep | Op::Read) {
        if let Some(f) = found {
            return Ok(f.outputs.clone());
        }
    }
    let out = match step.action.as_str() {
        CREATE_ROLE => {
            let name = params::str(p, "RoleName");
            let document = params::str(p, "AssumeRolePolicyDocument");
            match (op, found) {
                (Op::Update | Op::Replace, Some(f)) => {
                    // The only field that changes in place: who may assume the role.
                    iam.update_assume_role_policy()
                        .role_name(name)
                        .policy_document(document)
                        .send()
                        .await
                        .map_err(|e| aws_error(resource, "UpdateAssumeRolePolicy", &e))?;
                    return Ok(f.outputs.clone());
                }
                _ => {
                    let r = iam
                        .create_role()
                        .role_name(name)
                        .assume_role_policy_document(document)
                        .description(format!(
                            "stackc {}: created for Elastic Beanstalk",
                            ctx.stack
                        ))
                        .set_tags(Some(iam_tags(step)?))
                        .send()
                        .await
                        .map_err(|e| aws_error(resource, "CreateRole", &e))?;
                    let arn = r.role().map(|r| r.arn().to_string()).unwrap_or_default();
                    json!({ "role_name": name, "arn": arn, "id": name })
                }
            }
        }
        PUT_POLICY => {
            let role = params::str(p, "RoleName");
            let policy = params::str(p, "PolicyName");
            // Putting a policy replaces one of the same name: create and update alike.
            iam.put_role_policy()
                .role_name(role)
                .policy_name(policy)
                .policy_document(p["PolicyDocument"].to_string())
                .send()
                .await
                .map_err(|e| aws_error(resource, "PutRolePolicy", &e))?;
            json!({ "id": attachment_id(role, policy) })
        }
        ATTACH => {
            let role = params::str(p, "RoleName");
            let policy = params::str(p, "PolicyArn");
            // Attaching an attached policy is a no-op for IAM, so a resumed apply is safe.
            iam.attach_role_policy()
                .role_name(role)
                .policy_arn(policy)
                .send()
                .await
                .map_err(|e| aws_error(resource, "AttachRolePolicy", &e))?;
            json!({ "id": attachment_id(role, policy) })
        }
        CREATE_PROFILE => {
            let name = params::str(p, "InstanceProfileName");
            let r = iam
                .create_instance_profile()
                .instance_profile_name(name)
                .set_tags(Some(iam_tags(step)?))
                .send()
                .await
                .map_err(|e| aws_error(resource, "CreateInstanceProfile", &e))?;
            let arn = r
                .instance_profile()
                .map(|p| p.arn().to_string())
                .unwrap_or_default();
            json!({ "instance_profile_name": name, "arn": arn, "id": name })
        }
        ADD_ROLE => {
            let profile = params::str(p, "InstanceProfileName");
            let role = params::str(p, "RoleName");
            // A profile holds one role: take out the wrong one first.
            if let Some(old) = found
                .and_then(|f| f.current.get("RoleName"))
                .and_then(Value::as_str)
            {
                if old == role {
                    return Ok(found.map(|f| f.outputs.clone()).unwrap_or_default());
                }
                match iam
                    .remove_role_from_instance_profile()
                    .instance_profile_name(profile)
                    .role_name(old)
                    .send()
                    .await
                {
                    Ok(_) => {}
                    Err(e) if not_found(&e) => {}
                    Err(e) => return Err(aws_error(resource, "RemoveRoleFromInstanceProfile", &e)),
                }
            }
            match iam
                .add_role_to_instance_profile()
                .instance_profile_name(profile)
                .role_name(role)
                .send()
                .await
            {
                Ok(_) => {}
                // The profile is full: fine if it already holds this role (an apply that was
                // interrupted right after adding it).
                Err(e) if error_code(&e) == Some("LimitExceeded") => {
                    let holds =
                        match read_profile(iam.clone(), ctx.stack.clone(), profile.to_string())
                            .await?
                        {
                            ProfileState::Ours { roles, .. } => roles.iter().any(|r| r == role),
                            _ => false,
                        };
                    if !holds {
                        return Err(aws_error(resource, "AddRoleToInstanceProfile", &e));
                    }
                }
                Err(e) => return Err(aws_error(resource, "AddRoleToInstanceProfile", &e)),
            }
            json!({ "instance_profile_name": profile, "id": profile })
        }
        other => {
            return Err(DeployError::other(
                resource,
                format!("no executor for {other}"),
            ));
        }
    };
    Ok(into_map(out))
}

/// Takes every role out of an instance profile.
async fn empty_profile(ctx: &Ctx, profile: &str, resource: &str) -> Result<(), DeployError> {
    let iam = &ctx.clients.iam;
    let roles = match iam
        .get_instance_profile()
        .instance_profile_name(profile)
        .send()
        .await
    {
        Ok(r) => r
            .instance_profile()
            .map(|p| {
                p.roles()
                    .iter()
                    .map(|r| r.role_name().to_string())
                    .collect()
            })
            .unwrap_or_default(),
        Err(e) if not_found(&e) => Vec::new(),
        Err(e) => return Err(aws_error(resource, "GetInstanceProfile", &e)),
    };
    for role in roles {
        remove_role(ctx, profile, &role, resource).await?;
    }
    Ok(())
}

async fn remove_role(
    ctx: &Ctx,
    profile: &str,
    role: &str,
    resource: &str,
) -> Result<(), DeployError> {
    match ctx
        .clients
        .iam
        .remove_role_from_instance_profile()
        .instance_profile_name(profile)
        .role_name(role)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if not_found(&e) => Ok(()),
        Err(e) => Err(aws_error(resource, "RemoveRoleFromInstanceProfile", &e)),
    }
}

async fn detach(ctx: &Ctx, role: &str, policy: &str, resource: &str) -> Result<(), DeployError> {
    match ctx
        .clients
        .iam
        .detach_role_policy()
        .role_name(role)
        .policy_arn(policy)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if not_found(&e) => Ok(()),
        Err(e) => Err(aws_error(resource, "DetachRolePolicy", &e)),
    }
}

/// Deletes a role with what IAM requires gone first: managed policies detached, inline
/// policies deleted, the role taken out of its instance profiles.
async fn delete_role(ctx: &Ctx, role: &str, resource: &str) -> Result<(), DeployError> {
    let iam = &ctx.clients.iam;
    let attached = match iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
    {
        Ok(list) => list,
        Err(e) if not_found(&e) => return Ok(()),
        Err(e) => return Err(aws_error(resource, "ListAttachedRolePolicies", &e)),
    };
    for p in attached.iter().filter_map(|p| p.policy_arn()) {
        detach(ctx, role, p, resource).await?;
    }
    let inline = match iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
    {
        Ok(list) => list,
        Err(e) if not_found(&e) => return Ok(()),
        Err(e) => return Err(aws_error(resource, "ListRolePolicies", &e)),
    };
    for name in inline {
        match iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(&name)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if not_found(&e) => {}
            Err(e) => return Err(aws_error(resource, "DeleteRolePolicy", &e)),
        }
    }
    let profiles = match iam
        .list_instance_profiles_for_role()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
    {
        Ok(list) => list,
        Err(e) if not_found(&e) => return Ok(()),
        Err(e) => return Err(aws_error(resource, "ListInstanceProfilesForRole", &e)),
    };
    for p in profiles {
        remove_role(ctx, p.instance_profile_name(), role, resource).await?;
    }
    match iam.delete_role().role_name(role).send().await {
        Ok(_) => Ok(()),
        Err(e) if not_found(&e) => Ok(()),
        Err(e) => Err(aws_error(resource, "DeleteRole", &e)),
    }
}

pub async fn delete(
    ctx: &Ctx,
    action: &str,
    id: &str,
    resource: &str,
    found: Option<&Found>,
) -> Result<(), DeployError> {
    match action {
        CREATE_ROLE => delete_role(ctx, id, resource).await,
        ATTACH => {
            let (role, policy) = match found {
                Some(f) => (
                    f.current
                        .get("RoleName")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    f.current
                        .get("PolicyArn")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                ),
                None => match id.split_once('/') {
                    Some((r, p)) => (r.to_string(), p.to_string()),
                    None => return Ok(()),
                },
            };
            detach(ctx, &role, &policy, resource).await
        }
        ADD_ROLE => match found
            .and_then(|f| f.current.get("RoleName"))
            .and_then(Value::as_str)
        {
            Some(role) => remove_role(ctx, id, role, resource).await,
            None => empty_profile(ctx, id, resource).await,
        },
        CREATE_PROFILE => {
            empty_profile(ctx, id, resource).await?;
            match ctx
                .clients
                .iam
                .delete_instance_profile()
                .instance_profile_name(id)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if not_found(&e) => Ok(()),
                Err(e) => Err(aws_error(resource, "DeleteInstanceProfile", &e)),
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_url_encoded_policies() {
        let raw = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            policy_document(raw),
            r#"{"Version":"2012-10-17","Statement":[]}"#
        );
        // Plain JSON stays as it is, `%` included.
        let plain = r#"{"Sid":"100%"}"#;
        assert_eq!(policy_document(plain), plain);
        // A truncated escape is kept literally.
        assert_eq!(url_decode("a%2"), "a%2");
        assert_eq!(url_decode("%zz%41"), "%zzA");
    }

    #[test]
    fn attachment_ids_split_at_the_first_slash() {
        let id = attachment_id(
            "app-eb-ec2",
            "arn:aws:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth",
        );
        assert_eq!(
            id.split_once('/'),
            Some((
                "app-eb-ec2",
                "arn:aws:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth"
            ))
        );
    }

    #[test]
    fn fixed_names_match_the_plan() {
        let src = "stack shop {\n}\nenvironment shop-prod {\n}\nservice web {\n  image = \"nginx\"\n  essential = true\n  memory = 128 MiB\n  ports = [80]\n}\n";
        let (model, diags) = crate::compile(src);
        let model = model.unwrap_or_else(|| panic!("the test program compiles: {diags:?}"));
        use crate::lower::plan::names;
        assert_eq!(
            fixed_role_names("shop"),
            [names::instance_role(&model), names::service_role(&model)]
        );
        assert_eq!(fixed_profile_name("shop"), names::instance_role(&model));
    }

    #[test]
    fn tags_are_read_as_pairs() {
        let tags = vec![
            Tag::builder()
                .key("stackc:stack")
                .value("shop")
                .build()
                .expect("key and value"),
        ];
        assert!(owned(tags_of(&tags), "shop"));
        assert!(!owned(tags_of(&tags), "other"));
    }
}
