//! The ACM certificate of the environment's domain (RequestCertificate, DNS validation), and
//! its validation: a step that waits until ACM has issued it, once its validation record
//! exists (written by a `dns` step when Route 53 hosts the domain's zone, or by the user when
//! stackc printed it). Terraform's `aws_acm_certificate` and `aws_acm_certificate_validation`
//! split the same way: the record sits between the request and the wait.
//!
//! Certificates carry the stack's tag. Refresh finds the plan's certificate among those of
//! its domain, and also reads the one the environment's HTTPS listener uses now: one of ours
//! that the plan no longer wants (the domain changed or went away), and ours that ACM gave up
//! on (`VALIDATION_TIMED_OUT`, `FAILED`), are orphans, deleted once nothing uses them.

use super::Kind;
use crate::deploy::policy::{Grant, Scope, only_with_steps};
use crate::deploy::resource::{Output, Resource, Tags};

crate::desired! {
    /// The parameters of RequestCertificate.
    pub struct Certificate {
        #[field("DomainName", Identity)]
        pub domain: String,
        #[field("ValidationMethod", Ignore("always DNS: the record stackc writes or prints"))]
        pub validation: String,
        #[field("Tags", Ignore("tags are set at creation; the stack tag is how refresh finds the certificate"))]
        pub tags: Tags,
    }
}

impl Certificate {
    /// A certificate for `domain`, validated through DNS.
    pub fn dns(domain: &str, tags: Tags) -> Certificate {
        Certificate {
            domain: domain.to_string(),
            validation: "DNS".into(),
            tags,
        }
    }
}

pub const CERTIFICATE_ARN: Output<Certificate, String> = Output::new("certificate_arn");
/// The CNAME record ACM validates the domain with: its name and its value.
pub const RECORD_NAME: Output<Certificate, String> = Output::new("record_name");
pub const RECORD_VALUE: Output<Certificate, String> = Output::new("record_value");

crate::desired! {
    /// What the validation waits for: DescribeCertificate's `Status` to be `ISSUED`.
    pub struct CertificateValidation<S> {
        #[field("CertificateArn", Identity)]
        pub certificate: S::Of<String>,
        #[field("HostedZoneId", Ignore("where the record is: empty when it is the user's to create, which the wait then says"))]
        pub zone: S::Of<String>,
    }
}

/// The certificate's ARN, once issued.
pub const VALIDATED_ARN: Output<CertificateValidation, String> = Output::new("certificate_arn");

impl Resource for Certificate {
    const ACTIONS: &'static [&'static str] = &[
        "acm:RequestCertificate",
        "acm:AddTagsToCertificate",
        "acm:ListCertificates",
        "acm:ListTagsForCertificate",
        "acm:DescribeCertificate",
        "acm:DeleteCertificate",
    ];

    /// ACM names a certificate by a random id: it is requested with the stack's tag and
    /// deleted only with it. A program without a domain still reads and deletes the one an
    /// earlier apply made; it requests none.
    fn grants(scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        let tag = crate::naming::TAG_STACK;
        let mut grants = vec![
            Grant::anywhere(&[
                "acm:ListCertificates",
                "acm:ListTagsForCertificate",
                "acm:DescribeCertificate",
            ]),
            Grant::new(
                &["acm:DeleteCertificate"],
                vec![scope.arn("acm", "certificate/*")],
            )
            .when(scope.tagged(&format!("aws:ResourceTag/{tag}"))),
        ];
        if !steps.is_empty() {
            grants.push(
                Grant::anywhere(&["acm:RequestCertificate", "acm:AddTagsToCertificate"])
                    .when(scope.tagged(&format!("aws:RequestTag/{tag}"))),
            );
        }
        grants
    }
    const ACTION: &'static str = "acm:RequestCertificate";
    const USES: &'static [Kind] = &[];
}

impl Resource for CertificateValidation {
    const ACTIONS: &'static [&'static str] = &["acm:DescribeCertificate"];

    fn grants(_scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        only_with_steps(steps, Self::ACTIONS)
    }
    const ACTION: &'static str = "acm:DescribeCertificate";
    const USES: &'static [Kind] = &[Kind::Certificate];
    /// It owns nothing: it reads the certificate until ACM has issued it.
    const LOOKUP: bool = true;
}

#[cfg(feature = "aws")]
pub(crate) use aws::certificates;

#[cfg(feature = "aws")]
mod aws;
