use std::sync::Arc;

use aws_sdk_route53::types::{
    AliasTarget as R53Alias, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    RrType,
};

use super::*;
use crate::deploy::aws::reads::Reads;
use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, message_has};
use crate::deploy::diff::FieldChange;
use crate::deploy::resource::{Live, Outputs};
use crate::deploy::resources::certificate::certificates;
use crate::deploy::resources::load_balancer::load_balancer;
use crate::deploy::state::{Conflict, Found, Snapshot};
use crate::lower::{Plan, Step};

/// A DNS name as compared: without the final dot, in lower case.
fn plain(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Every hosted zone of the account: `(id, name, private)`, once per refresh.
async fn zones(ctx: &Ctx, reads: &Reads) -> Result<Arc<Vec<(String, String, bool)>>, DeployError> {
    reads
        .once("route53:ListHostedZones", async {
            let zones = ctx
                .clients
                .route53
                .list_hosted_zones()
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| aws_error("Route 53 hosted zones", "ListHostedZones", &e))?;
            Ok(zones
                .iter()
                .map(|z| {
                    (
                        z.id().trim_start_matches("/hostedzone/").to_string(),
                        plain(z.name()),
                        z.config().is_some_and(|c| c.private_zone()),
                    )
                })
                .collect())
        })
        .await
}

/// The zone lookup's outputs for `domain`: its id, or empty when no public zone holds it.
async fn zone_outputs(ctx: &Ctx, reads: &Reads, domain: &str) -> Result<Outputs, DeployError> {
    let all = zones(ctx, reads).await?;
    let zone = zone_for(domain, &all).map_err(|ids| {
        DeployError::other(
            format!("public hosted zone of {domain}"),
            format!(
                "several public hosted zones hold it ({}): stackc cannot tell which one the domain's registrar uses; delete the others",
                ids.join(", ")
            ),
        )
    })?;
    let mut out = Outputs::new();
    ZONE_ID.set(&mut out, zone.map(|z| z.0.clone()).unwrap_or_default());
    out.insert(
        "zone_name".into(),
        zone.map(|z| z.1.clone()).unwrap_or_default().into(),
    );
    out.insert(
        "id".into(),
        zone.map(|z| z.0.clone()).unwrap_or_default().into(),
    );
    Ok(out)
}

/// A planned value as far as refresh can know it: a literal, or an output of the step it
/// refers to that its type reads (the zone, the certificate, the load balancer).
async fn known(
    ctx: &Ctx,
    reads: &Reads,
    plan: &Plan,
    v: &Val<String>,
) -> Result<Option<String>, DeployError> {
    let target = match v {
        Val::Lit(s) => return Ok(Some(s.clone())),
        Val::Secret { .. } => return Ok(None),
        Val::Ref { target } => target,
    };
    let (id, attr) = target.parts();
    let Some(step) = plan.step(id) else {
        return Ok(None);
    };
    let outputs = match step.kind() {
        Kind::HostedZone => match step.desired_as::<HostedZone>() {
            Some(z) => Some(zone_outputs(ctx, reads, &z.domain).await?),
            None => None,
        },
        Kind::Certificate => certificates(ctx, reads, plan)
            .await?
            .planned
            .as_ref()
            .map(|c| c.outputs()),
        Kind::LoadBalancer => load_balancer(ctx, reads, plan).await?.as_ref().clone(),
        _ => None,
    };
    Ok(outputs.and_then(|o| o.get(attr).and_then(|v| v.as_str()).map(str::to_string)))
}

/// The record as the plan wants it, when refresh can know every value.
async fn wanted(
    ctx: &Ctx,
    reads: &Reads,
    plan: &Plan,
    want: &DnsRecord,
) -> Result<Option<DnsRecord<Live>>, DeployError> {
    let (Some(zone), Some(name)) = (
        known(ctx, reads, plan, &want.zone).await?,
        known(ctx, reads, plan, &want.name).await?,
    ) else {
        return Ok(None);
    };
    let mut values = Vec::new();
    for v in &want.values {
        match known(ctx, reads, plan, v).await? {
            Some(v) => values.push(plain(&v)),
            None => return Ok(None),
        }
    }
    let alias = match &want.alias {
        None => None,
        Some(a) => {
            let (Some(dns), Some(target)) = (
                known(ctx, reads, plan, &a.dns_name).await?,
                known(ctx, reads, plan, &a.zone).await?,
            ) else {
                return Ok(None);
            };
            Some(AliasTarget {
                dns_name: plain(&dns),
                zone: target,
                evaluate_health: a.evaluate_health,
            })
        }
    };
    Ok(Some(DnsRecord {
        zone,
        name: plain(&name),
        kind: want.kind.clone(),
        ttl: want.ttl,
        values,
        alias,
    }))
}

/// The records of `name` in `zone` (up to ten: one per type at most).
async fn existing(
    ctx: &Ctx,
    resource: &str,
    zone: &str,
    name: &str,
) -> Result<Vec<DnsRecord<Live>>, DeployError> {
    let r = ctx
        .clients
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .start_record_name(name)
        .max_items(10)
        .send()
        .await
        .map_err(|e| aws_error(resource, "ListResourceRecordSets", &e))?;
    Ok(r.resource_record_sets()
        .iter()
        .filter(|rs| plain(rs.name()) == name)
        .map(|rs| DnsRecord {
            zone: zone.to_string(),
            name: name.to_string(),
            kind: rs.r#type().as_str().to_string(),
            ttl: rs.ttl(),
            values: rs
                .resource_records()
                .iter()
                .map(|v| plain(v.value()))
                .collect(),
            alias: rs.alias_target().map(|a| AliasTarget {
                dns_name: plain(a.dns_name()),
                zone: a.hosted_zone_id().to_string(),
                evaluate_health: a.evaluate_target_health(),
            }),
        })
        .collect())
}

fn outputs(r: &DnsRecord<Live>) -> Outputs {
    let mut out = Outputs::new();
    out.insert(
        "id".into(),
        format!("{}/{}/{}", r.zone, r.name, r.kind).into(),
    );
    out
}

/// The record in the words of a DNS provider's form.
fn record_text(r: &DnsRecord<Live>) -> String {
    match &r.alias {
        // Outside Route 53 an alias is a CNAME (at a zone's apex, the provider's ALIAS or
        // ANAME record).
        Some(a) => format!("{} CNAME {}", r.name, a.dns_name),
        None => format!("{} {} {}", r.name, r.kind, r.values.join(" ")),
    }
}

fn record_set(r: &DnsRecord<Live>, resource: &str) -> Result<ResourceRecordSet, DeployError> {
    let invalid = |e: aws_sdk_route53::error::BuildError| {
        DeployError::other(resource, format!("invalid record: {e}"))
    };
    let values = r
        .values
        .iter()
        .map(|v| ResourceRecord::builder().value(v).build().map_err(invalid))
        .collect::<Result<Vec<_>, _>>()?;
    let alias = match &r.alias {
        None => None,
        Some(a) => Some(
            R53Alias::builder()
                .dns_name(&a.dns_name)
                .hosted_zone_id(&a.zone)
                .evaluate_target_health(a.evaluate_health)
                .build()
                .map_err(invalid)?,
        ),
    };
    ResourceRecordSet::builder()
        .name(&r.name)
        .r#type(RrType::from(r.kind.as_str()))
        .set_ttl(r.ttl)
        .set_resource_records((!values.is_empty()).then_some(values))
        .set_alias_target(alias)
        .build()
        .map_err(invalid)
}

async fn change(
    ctx: &Ctx,
    resource: &str,
    action: ChangeAction,
    r: &DnsRecord<Live>,
) -> Result<(), DeployError> {
    let invalid = |e: aws_sdk_route53::error::BuildError| {
        DeployError::other(resource, format!("invalid change: {e}"))
    };
    let batch = ChangeBatch::builder()
        .comment(format!("stackc {}", ctx.stack))
        .changes(
            Change::builder()
                .action(action.clone())
                .resource_record_set(record_set(r, resource)?)
                .build()
                .map_err(invalid)?,
        )
        .build()
        .map_err(invalid)?;
    let sent = ctx
        .clients
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(&r.zone)
        .change_batch(batch)
        .send()
        .await;
    match sent {
        Ok(_) => Ok(()),
        // Deleting what is already gone: "Tried to delete resource record set ... but it was
        // not found".
        Err(e)
            if action == ChangeAction::Delete
                && message_has(&e, "InvalidChangeBatch", &["not found"]) =>
        {
            Ok(())
        }
        Err(e) => Err(aws_error(resource, "ChangeResourceRecordSets", &e)),
    }
}

/// Writes the record, or, when no zone of the account holds it, prints it for the user.
async fn write(
    ctx: &Ctx,
    step: &StepRef<'_>,
    want: &DnsRecord<Live>,
) -> Result<Outputs, DeployError> {
    let want = DnsRecord {
        name: plain(&want.name),
        ..want.clone()
    };
    if want.zone.is_empty() {
        ctx.progress.println(&format!(
            "{}: no Route 53 hosted zone in this account holds it; create it where the domain's zone is served:\n    {}",
            step.resource,
            record_text(&want)
        ));
    } else {
        change(ctx, step.resource, ChangeAction::Upsert, &want).await?;
    }
    Ok(outputs(&want))
}

impl Apply for HostedZone {
    async fn refresh(
        ctx: &Ctx,
        reads: &Reads,
        _plan: &Plan,
        steps: &[(&Step, &Self)],
    ) -> Result<Snapshot, DeployError> {
        let mut snap = Snapshot::default();
        for (step, want) in steps {
            let out = zone_outputs(ctx, reads, &want.domain).await?;
            snap.found
                .insert(step.id.clone(), Found::lookup(Kind::HostedZone, out));
        }
        Ok(snap)
    }

    async fn create(
        ctx: &Ctx,
        _step: &StepRef<'_>,
        want: &HostedZone,
    ) -> Result<Outputs, DeployError> {
        zone_outputs(ctx, &Reads::default(), &want.domain).await
    }

    async fn delete(_ctx: &Ctx, _gone: &Gone<'_>) -> Result<(), DeployError> {
        Ok(())
    }
}

impl Apply for DnsRecord {
    const UPDATES: &'static [&'static str] = &["TTL", "ResourceRecords", "AliasTarget"];

    async fn refresh(
        ctx: &Ctx,
        reads: &Reads,
        plan: &Plan,
        steps: &[(&Step, &Self)],
    ) -> Result<Snapshot, DeployError> {
        let mut snap = Snapshot::default();
        for (step, want) in steps {
            let Some(zone) = known(ctx, reads, plan, &want.zone).await? else {
                continue;
            };
            let wanted = wanted(ctx, reads, plan, want).await?;
            if zone.is_empty() {
                // The user's DNS, which stackc does not read: the record was printed once
                // every value it holds was known, and stands unless one of them changes.
                if let Some(w) = wanted {
                    snap.found.insert(
                        step.id.clone(),
                        Found::new(Kind::DnsRecord, &w, outputs(&w)),
                    );
                }
                continue;
            }
            let Some(name) = known(ctx, reads, plan, &want.name).await? else {
                continue;
            };
            let name = plain(&name);
            let records = existing(ctx, &step.resource, &zone, &name).await?;
            let same = records.iter().find(|r| r.kind == want.kind);
            // A CNAME excludes every other type at its name, and any type excludes a CNAME.
            let clash = records
                .iter()
                .find(|r| r.kind != want.kind && (r.kind == "CNAME" || want.kind == "CNAME"));
            let foreign = match (same, &wanted) {
                (Some(have), Some(w)) => {
                    (have.values != w.values || have.alias != w.alias).then(|| record_text(have))
                }
                // Values the plan does not know yet: the record cannot be stackc's.
                (Some(have), None) => Some(record_text(have)),
                (None, _) => clash.map(record_text),
            };
            if let Some(held) = foreign {
                snap.conflicts.push(Conflict {
                    step: step.id.clone(),
                    resource: step.resource.clone(),
                    why: format!(
                        "the hosted zone {zone} already has the record `{held}`, which stackc did not write: delete it, or choose another domain"
                    ),
                });
                continue;
            }
            if let Some(have) = same {
                snap.found.insert(
                    step.id.clone(),
                    Found::new(Kind::DnsRecord, have, outputs(have)),
                );
            }
        }
        Ok(snap)
    }

    async fn create(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &DnsRecord<Live>,
    ) -> Result<Outputs, DeployError> {
        write(ctx, step, want).await
    }

    /// `UPSERT` writes every field at once.
    async fn update(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &DnsRecord<Live>,
        _found: &Found,
        _changes: &[FieldChange],
    ) -> Result<Outputs, DeployError> {
        write(ctx, step, want).await
    }

    /// Deletes the record as refresh found it (Route 53 deletes a record set only when given
    /// its current values); one the user was to create is theirs to remove.
    async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
        let Some(have) = gone.found.and_then(|f| f.current_as::<DnsRecord<Live>>()) else {
            return Ok(());
        };
        if have.zone.is_empty() {
            ctx.progress.println(&format!(
                "{}: remove it where the domain's zone is served: {}",
                gone.resource,
                record_text(&have)
            ));
            return Ok(());
        }
        change(ctx, gone.resource, ChangeAction::Delete, &have).await
    }
}
