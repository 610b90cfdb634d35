use std::sync::Arc;
use std::time::Duration;

use aws_sdk_acm::types::{CertificateStatus, Tag, ValidationMethod};

use super::*;
use crate::deploy::aws::reads::Reads;
use crate::deploy::aws::wait::{self, Poll};
use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code};
use crate::deploy::resource::{Live, Outputs};
use crate::deploy::resources::environment::{LISTENER_CERTIFICATE, environment_state};
use crate::deploy::state::{Found, Orphan, Snapshot};
use crate::lower::{Plan, Step};

/// ACM fills in a new certificate's validation record "within a few seconds" of the request;
/// past this it is not coming.
const RECORD_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// A certificate as ACM describes it.
#[derive(Clone, Debug)]
pub(crate) struct Cert {
    pub arn: String,
    pub domain: String,
    /// ACM's status: `PENDING_VALIDATION`, `ISSUED`, `VALIDATION_TIMED_OUT`, ...
    pub status: String,
    /// The CNAME record that validates the domain: its name and value, without the final dot.
    pub record: Option<(String, String)>,
    created: Option<i64>,
}

impl Cert {
    /// A certificate that is or will be issued.
    fn usable(&self) -> bool {
        matches!(self.status.as_str(), "ISSUED" | "PENDING_VALIDATION")
    }

    pub(crate) fn outputs(&self) -> Outputs {
        let mut out = Outputs::new();
        CERTIFICATE_ARN.set(&mut out, self.arn.clone());
        if let Some((name, value)) = &self.record {
            RECORD_NAME.set(&mut out, name.clone());
            RECORD_VALUE.set(&mut out, value.clone());
        }
        out.insert("id".into(), self.arn.clone().into());
        out
    }
}

/// What refresh found of the stack's certificates.
#[derive(Default)]
pub(crate) struct Certificates {
    /// The plan's certificate: ours, of its domain, issued or pending.
    pub planned: Option<Cert>,
    /// Ours that the plan does not want.
    pub orphans: Vec<Cert>,
}

fn trim_dot(s: &str) -> String {
    s.trim_end_matches('.').to_ascii_lowercase()
}

async fn describe(ctx: &Ctx, resource: &str, arn: &str) -> Result<Option<Cert>, DeployError> {
    let r = match ctx
        .clients
        .acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => return Ok(None),
        Err(e) => return Err(aws_error(resource, "DescribeCertificate", &e)),
    };
    let Some(c) = r.certificate() else {
        return Ok(None);
    };
    let domain = c.domain_name().unwrap_or_default().to_string();
    let record = c
        .domain_validation_options()
        .iter()
        .find(|d| d.domain_name() == domain)
        .and_then(|d| d.resource_record())
        .map(|r| (trim_dot(r.name()), trim_dot(r.value())));
    Ok(Some(Cert {
        arn: arn.to_string(),
        domain,
        status: c
            .status()
            .map_or("unknown", CertificateStatus::as_str)
            .to_string(),
        record,
        created: c.created_at().map(|t| t.secs()),
    }))
}

/// Whether the certificate carries this stack's tag; a certificate gone meanwhile is not.
async fn ours(ctx: &Ctx, arn: &str) -> Result<bool, DeployError> {
    match ctx
        .clients
        .acm
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(r) => Ok(ctx
            .owner
            .owns(r.tags().iter().map(|t| (t.key(), t.value().unwrap_or(""))))),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(aws_error("ACM certificates", "ListTagsForCertificate", &e)),
    }
}

/// The certificates of the plan's domain that are ours.
async fn of_domain(ctx: &Ctx, domain: &str) -> Result<Vec<Cert>, DeployError> {
    let statuses = [
        CertificateStatus::PendingValidation,
        CertificateStatus::Issued,
        CertificateStatus::ValidationTimedOut,
        CertificateStatus::Failed,
    ];
    let summaries = ctx
        .clients
        .acm
        .list_certificates()
        .set_certificate_statuses(Some(statuses.to_vec()))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| aws_error("ACM certificates", "ListCertificates", &e))?;
    let mut found = Vec::new();
    for s in summaries {
        let (Some(arn), Some(d)) = (s.certificate_arn(), s.domain_name()) else {
            continue;
        };
        if d != domain || !ours(ctx, arn).await? {
            continue;
        }
        if let Some(c) = describe(ctx, &format!("ACM certificate for {domain}"), arn).await? {
            found.push(c);
        }
    }
    Ok(found)
}

async fn read_certificates(
    ctx: &Ctx,
    reads: &Reads,
    plan: &Plan,
) -> Result<Certificates, DeployError> {
    let domain = plan
        .steps
        .iter()
        .find_map(|s| s.desired_as::<Certificate>())
        .map(|c| c.domain.clone());
    // The certificate the environment's HTTPS listener uses now.
    let listening = match environment_state(ctx, reads, plan).await? {
        Some((state, true)) => state.ours.as_ref().and_then(|(_, settings)| {
            settings
                .iter()
                .find(|o| o.key() == LISTENER_CERTIFICATE)
                .map(|o| o.value.trim().to_string())
                .filter(|v| !v.is_empty())
        }),
        _ => None,
    };
    let mut candidates = match &domain {
        Some(d) => of_domain(ctx, d).await?,
        None => Vec::new(),
    };
    if let Some(arn) = &listening {
        if !candidates.iter().any(|c| &c.arn == arn) && ours(ctx, arn).await? {
            candidates.extend(describe(ctx, "ACM certificate", arn).await?);
        }
    }
    // The plan's: the one the listener uses, else an issued one, else the newest.
    let best = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.usable() && Some(&c.domain) == domain.as_ref())
        .max_by_key(|(_, c)| {
            (
                Some(&c.arn) == listening.as_ref(),
                c.status == "ISSUED",
                c.created,
            )
        })
        .map(|(i, _)| i);
    let planned = best.map(|i| candidates.remove(i));
    Ok(Certificates {
        planned,
        orphans: candidates,
    })
}

/// The stack's certificates, read once per refresh.
pub(crate) async fn certificates(
    ctx: &Ctx,
    reads: &Reads,
    plan: &Plan,
) -> Result<Arc<Certificates>, DeployError> {
    // Boxed: the read holds the environment's and ACM's, a large future to poll on a stack.
    reads
        .once(
            "acm:ListCertificates",
            Box::pin(read_certificates(ctx, reads, plan)),
        )
        .await
}

/// Waits until ACM has filled in the certificate's validation record.
async fn with_record(ctx: &Ctx, step: &StepRef<'_>, arn: &str) -> Result<Cert, DeployError> {
    wait::until(ctx, step.id, step.resource, RECORD_TIMEOUT, || async {
        Ok(match describe(ctx, step.resource, arn).await? {
            Some(c) if c.record.is_some() => Poll::Ready(c),
            Some(c) => Poll::Pending(format!("{}: waiting for its DNS record", c.status)),
            None => Poll::Failed("deleted".into()),
        })
    })
    .await
}

/// The record to create, in words.
fn record_text(c: &Cert) -> String {
    match &c.record {
        Some((name, value)) => format!("{name} CNAME {value}"),
        None => "(ACM has not given the record yet)".into(),
    }
}

/// Waits until ACM has issued the certificate. When Route 53 does not hold the domain's zone
/// (`zone` is empty) the record is the user's to create, and the wait names it.
async fn issued(
    ctx: &Ctx,
    step: &StepRef<'_>,
    arn: &str,
    zone: &str,
) -> Result<Outputs, DeployError> {
    let c = wait::until(
        ctx,
        step.id,
        step.resource,
        ctx.timing.validation_timeout,
        || async {
            let Some(c) = describe(ctx, step.resource, arn).await? else {
                return Err(DeployError::other(
                    step.resource,
                    format!("certificate {arn} does not exist: run apply again to request a new one"),
                ));
            };
            match c.status.as_str() {
                "ISSUED" => Ok(Poll::Ready(c)),
                "PENDING_VALIDATION" if zone.is_empty() => Ok(Poll::Pending(format!(
                    "PENDING_VALIDATION: waiting for ACM to see the DNS record {}, which is yours to create where the zone of {} is served",
                    record_text(&c),
                    c.domain
                ))),
                "PENDING_VALIDATION" => Ok(Poll::Pending(
                    "PENDING_VALIDATION: waiting for ACM to see the DNS record".into(),
                )),
                // ACM stops trying 72 hours after the request ("Troubleshoot DNS validation
                // problems"); refresh then treats the certificate as an orphan.
                other => Err(DeployError::other(
                    step.resource,
                    format!(
                        "ACM gave up on the certificate ({other}): run apply again to request a new one"
                    ),
                )),
            }
        },
    )
    .await?;
    Ok(validated(&c.arn))
}

/// The outputs of a certificate's validation: the ARN the listener uses.
fn validated(arn: &str) -> Outputs {
    let mut out = Outputs::new();
    VALIDATED_ARN.set(&mut out, arn.to_string());
    out.insert("id".into(), arn.into());
    out
}

impl Apply for Certificate {
    async fn refresh(
        ctx: &Ctx,
        reads: &Reads,
        plan: &Plan,
        steps: &[(&Step, &Self)],
    ) -> Result<Snapshot, DeployError> {
        let certs = certificates(ctx, reads, plan).await?;
        let mut snap = Snapshot::default();
        if let (Some((step, want)), Some(c)) = (steps.first(), &certs.planned) {
            let current = Certificate {
                domain: c.domain.clone(),
                validation: want.validation.clone(),
                tags: want.tags.clone(),
            };
            snap.found.insert(
                step.id.clone(),
                Found::new(Kind::Certificate, &current, c.outputs())
                    .with_status(c.status.clone(), c.record.is_some()),
            );
        }
        for c in &certs.orphans {
            snap.orphans.push(Orphan {
                kind: Kind::Certificate,
                id: c.arn.clone(),
                resource: format!("ACM certificate for {} ({})", c.domain, c.status),
            });
        }
        Ok(snap)
    }

    async fn create(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &Certificate,
    ) -> Result<Outputs, DeployError> {
        let tags = want
            .tags
            .pairs()
            .map(|(k, v)| {
                Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| DeployError::other(step.resource, format!("invalid tag: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let r = ctx
            .clients
            .acm
            .request_certificate()
            .domain_name(&want.domain)
            .validation_method(ValidationMethod::from(want.validation.as_str()))
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| aws_error(step.resource, "RequestCertificate", &e))?;
        let arn = r.certificate_arn().unwrap_or_default();
        Ok(with_record(ctx, step, arn).await?.outputs())
    }

    /// A certificate requested moments ago whose record ACM has not given yet.
    async fn settle(
        ctx: &Ctx,
        step: &StepRef<'_>,
        _want: &Certificate,
        found: &Found,
    ) -> Result<Outputs, DeployError> {
        if found.settled {
            return Ok(found.outputs.clone());
        }
        let arn = found.id().unwrap_or_default();
        Ok(with_record(ctx, step, arn).await?.outputs())
    }

    /// A certificate is deleted once nothing uses it: the environment's load balancer lets it
    /// go when its listener does, which takes a while after the environment changed.
    async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
        wait::until(
            ctx,
            gone.key,
            gone.resource,
            ctx.timing.environment_timeout,
            || async {
                match ctx
                    .clients
                    .acm
                    .delete_certificate()
                    .certificate_arn(gone.id)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Poll::Ready(())),
                    Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {
                        Ok(Poll::Ready(()))
                    }
                    Err(e) if error_code(&e) == Some("ResourceInUseException") => {
                        Ok(Poll::Pending("in use by the load balancer".into()))
                    }
                    Err(e) => Err(aws_error(gone.resource, "DeleteCertificate", &e)),
                }
            },
        )
        .await
    }
}

impl Apply for CertificateValidation {
    async fn refresh(
        ctx: &Ctx,
        reads: &Reads,
        plan: &Plan,
        steps: &[(&Step, &Self)],
    ) -> Result<Snapshot, DeployError> {
        let mut snap = Snapshot::default();
        let Some((step, _)) = steps.first() else {
            return Ok(snap);
        };
        let certs = certificates(ctx, reads, plan).await?;
        if let Some(c) = &certs.planned {
            let current = CertificateValidation::<Live> {
                certificate: c.arn.clone(),
                zone: String::new(),
            };
            snap.found.insert(
                step.id.clone(),
                Found::new(Kind::CertificateValidation, &current, validated(&c.arn))
                    .with_status(c.status.clone(), c.status == "ISSUED"),
            );
        }
        Ok(snap)
    }

    async fn create(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &CertificateValidation<Live>,
    ) -> Result<Outputs, DeployError> {
        issued(ctx, step, &want.certificate, &want.zone).await
    }

    async fn settle(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &CertificateValidation<Live>,
        found: &Found,
    ) -> Result<Outputs, DeployError> {
        if found.settled {
            return Ok(found.outputs.clone());
        }
        issued(ctx, step, &want.certificate, &want.zone).await
    }

    /// Nothing of its own: it goes with the certificate.
    async fn delete(_ctx: &Ctx, _gone: &Gone<'_>) -> Result<(), DeployError> {
        Ok(())
    }
}
