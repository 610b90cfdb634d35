//! EC2: the default VPC and its subnets (lookups), security groups and their ingress rules.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, ResourceType, SecurityGroup, Tag, TagSpecification,
    UserIdGroupPair,
};
use serde_json::{Map, Value, json};

use super::{Ctx, DeployError, aws_error, error_code, owned, params, tag_name};
use crate::deploy::diff::Op;
use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
use crate::lower::{Plan, Step};

fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    let mut f = Filter::builder().name(name);
    for v in values {
        f = f.values(v);
    }
    f.build()
}

fn tags_of(sg: &SecurityGroup) -> Vec<(&str, &str)> {
    sg.tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect()
}

/// The `stackc:name` a create step will tag its group with.
fn wanted_tag_name(step: &Step) -> String {
    step.params["TagSpecifications"][0]["Tags"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["Key"] == "stackc:name")
        .and_then(|t| t["Value"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// A group's ingress rules in the parameter shape of `AuthorizeSecurityGroupIngress`.
fn permissions_json(sg: &SecurityGroup) -> Value {
    let perms: Vec<Value> = sg
        .ip_permissions()
        .iter()
        .map(|p| {
            json!({
                "IpProtocol": p.ip_protocol().unwrap_or_default(),
                "FromPort": p.from_port(),
                "ToPort": p.to_port(),
                "IpRanges": p.ip_ranges().iter().map(|r| json!({ "CidrIp": r.cidr_ip() })).collect::<Vec<_>>(),
                "UserIdGroupPairs": p.user_id_group_pairs().iter().map(|g| json!({ "GroupId": g.group_id() })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Value::Array(perms)
}

async fn all_groups(ctx: &Ctx, filters: Vec<Filter>) -> Result<Vec<SecurityGroup>, DeployError> {
    ctx.clients
        .ec2
        .describe_security_groups()
        .set_filters(Some(filters))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| aws_error("security groups", "DescribeSecurityGroups", &e))
}

pub async fn refresh(ctx: &Ctx, plan: &Plan) -> Result<Snapshot, DeployError> {
    let mut snap = Snapshot::default();
    let group_steps: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| s.action == "ec2:CreateSecurityGroup")
        .collect();
    let names: Vec<String> = group_steps
        .iter()
        .map(|s| params::str(&s.params, "GroupName").to_string())
        .collect();
    // One round trip: none of these reads needs another's answer (results are narrowed to
    // the default VPC afterwards).
    let vpcs = async {
        ctx.clients
            .ec2
            .describe_vpcs()
            .filters(filter("isDefault", ["true"]))
            .send()
            .await
            .map_err(|e| aws_error("default VPC", "DescribeVpcs", &e))
    };
    let subnets = async {
        ctx.clients
            .ec2
            .describe_subnets()
            .filters(filter("default-for-az", ["true"]))
            .send()
            .await
            .map_err(|e| aws_error("default subnets", "DescribeSubnets", &e))
    };
    let ours = all_groups(ctx, vec![filter("tag:stackc:stack", [ctx.stack.clone()])]);
    let by_name = async {
        if names.is_empty() {
            Ok(Vec::new())
        } else {
            all_groups(ctx, vec![filter("group-name", names.clone())]).await
        }
    };
    let (vpcs, subnets, ours, by_name) = tokio::join!(vpcs, subnets, ours, by_name);
    let (vpcs, subnets, ours, by_name) = (vpcs?, subnets?, ours?, by_name?);
    let Some(vpc_id) = vpcs
        .vpcs()
        .first()
        .and_then(|v| v.vpc_id())
        .map(str::to_string)
    else {
        return Err(DeployError::other(
            "default VPC",
            format!(
                "region {} has no default VPC; stackc deploys into the default VPC (create one with `aws ec2 create-default-vpc`)",
                ctx.region
            ),
        ));
    };
    snap.found.insert(
        "vpc".into(),
        Found::new(json!({}), json!({ "vpc_id": vpc_id })),
    );
    let mut subnet_ids: Vec<String> = subnets
        .subnets()
        .iter()
        .filter(|s| s.vpc_id() == Some(vpc_id.as_str()))
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    subnet_ids.sort();
    snap.found.insert(
        "subnets".into(),
        Found::new(json!({}), json!({ "subnet_ids": subnet_ids })),
    );
    let by_name: Vec<SecurityGroup> = by_name
        .into_iter()
        .filter(|g| g.vpc_id() == Some(vpc_id.as_str()))
        .collect();
    let mut matched = BTreeSet::new();
    for step in &group_steps {
        let name = params::str(&step.params, "GroupName");
        let tag = wanted_tag_name(step);
        if let Some(sg) = ours
            .iter()
            .find(|g| g.group_name() == Some(name) && tag_name(tags_of(g)) == Some(tag.as_str()))
        {
            let id = sg.group_id().unwrap_or_default();
            matched.insert(id.to_string());
            snap.found.insert(
                step.id.clone(),
                Found::new(
                    json!({ "GroupName": name, "VpcId": sg.vpc_id(), "Description": sg.description() }),
                    json!({ "group_id": id, "id": id }),
                ),
            );
            // The rules of this group are the state of the step that authorizes them.
            for ingress in plan
                .steps
                .iter()
                .filter(|s| s.action == "ec2:AuthorizeSecurityGroupIngress")
            {
                if ingress.params["GroupId"]["ref"].as_str()
                    == Some(&format!("{}.group_id", step.id))
                {
                    snap.found.insert(
                        ingress.id.clone(),
                        Found::new(
                            json!({ "IpPermissions": permissions_json(sg) }),
                            json!({ "id": id }),
                        ),
                    );
                }
            }
        } else if let Some(g) = by_name
            .iter()
            .find(|g| g.group_name() == Some(name) && !owned(tags_of(g), &ctx.stack))
        {
            snap.conflicts.push(Conflict {
                step: step.id.clone(),
                resource: step.resource.clone(),
                why: format!("security group {} ({}) already has this name and is not tagged `stackc:stack = {}`", name, g.group_id().unwrap_or_default(), ctx.stack),
            });
        }
    }
    for g in &ours {
        let id = g.group_id().unwrap_or_default();
        if !matched.contains(id) {
            snap.orphans.push(Orphan {
                action: "ec2:CreateSecurityGroup".into(),
                id: id.to_string(),
                resource: format!("security group {}", g.group_name().unwrap_or(id)),
            });
        }
    }
    Ok(snap)
}

/// One rule per (protocol, ports, source): the unit AWS authorizes and revokes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rule {
    protocol: String,
    from: i32,
    to: i32,
    cidr: Option<String>,
    group: Option<String>,
    description: Option<String>,
}

fn rules(perms: &Value) -> Vec<Rule> {
    let mut out = Vec::new();
    for p in perms.as_array().into_iter().flatten() {
        let base = Rule {
            protocol: p["IpProtocol"].as_str().unwrap_or("tcp").to_string(),
            from: p["FromPort"].as_i64().unwrap_or(0) as i32,
            to: p["ToPort"].as_i64().unwrap_or(0) as i32,
            cidr: None,
            group: None,
            description: None,
        };
        for r in p["IpRanges"].as_array().into_iter().flatten() {
            out.push(Rule {
                cidr: r["CidrIp"].as_str().map(str::to_string),
                description: r["Description"].as_str().map(str::to_string),
                ..base.clone()
            });
        }
        for g in p["UserIdGroupPairs"].as_array().into_iter().flatten() {
            out.push(Rule {
                group: g["GroupId"].as_str().map(str::to_string),
                description: g["Description"].as_str().map(str::to_string),
                ..base.clone()
            });
        }
    }
    out
}

fn same_rule(a: &Rule, b: &Rule) -> bool {
    (&a.protocol, a.from, a.to, &a.cidr, &a.group) == (&b.protocol, b.from, b.to, &b.cidr, &b.group)
}

fn permission(r: &Rule) -> IpPermission {
    let mut p = IpPermission::builder()
        .ip_protocol(&r.protocol)
        .from_port(r.from)
        .to_port(r.to);
    if let Some(c) = &r.cidr {
        p = p.ip_ranges(
            IpRange::builder()
                .cidr_ip(c)
                .set_description(r.description.clone())
                .build(),
        );
    }
    if let Some(g) = &r.group {
        p = p.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(g)
                .set_description(r.description.clone())
                .build(),
        );
    }
    p.build()
}

pub async fn run(
    ctx: &Ctx,
    step: &Step,
    op: Op,
    p: &Value,
    found: Option<&Found>,
) -> Result<Map<String, Value>, DeployError> {
    let ec2 = &ctx.clients.ec2;
    let out = match step.action.as_str() {
        "ec2:DescribeVpcs" | "ec2:DescribeSubnets" => {
            // Refresh always reads these; reaching here means refresh found them missing.
            return Err(DeployError::other(
                &step.resource,
                "not found in the region",
            ));
        }
        "ec2:CreateSecurityGroup" => {
            if op == Op::Replace {
                if let Some(id) = found
                    .and_then(|f| f.outputs.get("id"))
                    .and_then(Value::as_str)
                {
                    delete_group(ctx, id, &step.resource).await?;
                }
            }
            let tags: Vec<Tag> = step.params["TagSpecifications"][0]["Tags"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| {
                    Tag::builder()
                        .key(t["Key"].as_str().unwrap_or_default())
                        .value(t["Value"].as_str().unwrap_or_default())
                        .build()
                })
                .collect();
            let r = ec2
                .create_security_group()
                .group_name(params::str(p, "GroupName"))
                .description(params::str(p, "Description"))
                .vpc_id(params::str(p, "VpcId"))
                .tag_specifications(
                    TagSpecification::builder()
                        .resource_type(ResourceType::SecurityGroup)
                        .set_tags(Some(tags))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| aws_error(&step.resource, "CreateSecurityGroup", &e))?;
            let id = r.group_id().unwrap_or_default();
            json!({ "group_id": id, "id": id })
        }
        "ec2:AuthorizeSecurityGroupIngress" => {
            let group = params::str(p, "GroupId");
            let want = rules(&p["IpPermissions"]);
            let have = found
                .map(|f| rules(&f.current["IpPermissions"]))
                .unwrap_or_default();
            let add: Vec<IpPermission> = want
                .iter()
                .filter(|w| !have.iter().any(|h| same_rule(w, h)))
                .map(permission)
                .collect();
            let remove: Vec<IpPermission> = have
                .iter()
                .filter(|h| !want.iter().any(|w| same_rule(w, h)))
                .map(permission)
                .collect();
            if !remove.is_empty() {
                ec2.revoke_security_group_ingress()
                    .group_id(group)
                    .set_ip_permissions(Some(remove))
                    .send()
                    .await
                    .map_err(|e| aws_error(&step.resource, "RevokeSecurityGroupIngress", &e))?;
            }
            if !add.is_empty() {
                ec2.authorize_security_group_ingress()
                    .group_id(group)
                    .set_ip_permissions(Some(add))
                    .send()
                    .await
                    .map_err(|e| aws_error(&step.resource, "AuthorizeSecurityGroupIngress", &e))?;
            }
            json!({ "id": group })
        }
        other => {
            return Err(DeployError::other(
                &step.resource,
                format!("no executor for {other}"),
            ));
        }
    };
    Ok(match out {
        Value::Object(m) => m,
        _ => Map::new(),
    })
}

/// Deletes a security group, retrying while AWS still sees network interfaces of deleted
/// databases or instances in it (`DependencyViolation` clears as they detach).
async fn delete_group(ctx: &Ctx, id: &str, resource: &str) -> Result<(), DeployError> {
    let start = Instant::now();
    let mut wait = ctx.timing.poll_first;
    loop {
        match ctx
            .clients
            .ec2
            .delete_security_group()
            .group_id(id)
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if error_code(&e) == Some("InvalidGroup.NotFound") => return Ok(()),
            Err(e)
                if error_code(&e) == Some("DependencyViolation")
                    && start.elapsed() < Duration::from_secs(20 * 60) =>
            {
                ctx.progress.status(
                    &format!("destroy:{id}:ec2:CreateSecurityGroup"),
                    "waiting for network interfaces to detach",
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 3 / 2).min(ctx.timing.poll_max);
            }
            Err(e) => return Err(aws_error(resource, "DeleteSecurityGroup", &e)),
        }
    }
}

pub async fn delete(ctx: &Ctx, action: &str, id: &str, resource: &str) -> Result<(), DeployError> {
    match action {
        "ec2:CreateSecurityGroup" => delete_group(ctx, id, resource).await,
        "ec2:AuthorizeSecurityGroupIngress" => {
            // Revoke every rule of the group, so groups it names can be deleted.
            let groups = all_groups(ctx, vec![filter("group-id", [id.to_string()])]).await?;
            let Some(g) = groups.first() else {
                return Ok(());
            };
            let perms = g.ip_permissions().to_vec();
            if perms.is_empty() {
                return Ok(());
            }
            ctx.clients
                .ec2
                .revoke_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(perms))
                .send()
                .await
                .map_err(|e| aws_error(resource, "RevokeSecurityGroupIngress", &e))?;
            Ok(())
        }
        _ => Ok(()),
    }
}
