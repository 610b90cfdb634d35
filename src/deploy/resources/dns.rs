//! The environment's domain in DNS: the public Route 53 hosted zone that holds it (a lookup),
//! and the records stackc writes there (`UPSERT`): the certificate's validation CNAME and the
//! domain's alias to the load balancer. When no zone of the account holds the domain, the
//! records are the user's to create where the domain is served: stackc prints them.
//!
//! Route 53 records carry no tags. A record of the plan's name that exists with other values
//! than the plan's is someone else's: apply stops before any change rather than overwrite it.
//! A record stackc wrote is deleted by destroy only while it still holds stackc's values.

use serde::{Deserialize, Serialize};

use super::Kind;
use crate::deploy::policy::{Grant, Scope, only_with_steps};
use crate::deploy::resource::{Output, Resource, Stage, Val};

crate::desired! {
    /// ListHostedZones, narrowed to the public zone whose name is the longest suffix of the
    /// domain.
    pub struct HostedZone {
        #[field("DomainName", Ignore("a lookup: read every time, nothing to change"))]
        pub domain: String,
    }
}

/// The zone's id (`Z...`), empty when no public zone of the account holds the domain.
pub const ZONE_ID: Output<HostedZone, String> = Output::new("zone_id");

crate::desired! {
    /// One record set of ChangeResourceRecordSets, written with `UPSERT` in its hosted zone; an
    /// empty `HostedZoneId` means no zone of the account holds it, and it is printed instead.
    pub struct DnsRecord<S> {
        #[field("HostedZoneId", Identity)]
        pub zone: S::Of<String>,
        #[field("Name", Identity)]
        pub name: S::Of<String>,
        #[field("Type", Identity)]
        pub kind: String,
        #[field("TTL", Update)]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ttl: Option<i64>,
        #[field("ResourceRecords", Update)]
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub values: Vec<S::Of<String>>,
        #[field("AliasTarget", Update)]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub alias: Option<AliasTarget<S>>,
    }
}

/// An alias record's target: a load balancer's DNS name and its canonical hosted zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AliasTarget<S: Stage> {
    #[serde(rename = "DNSName")]
    pub dns_name: S::Of<String>,
    #[serde(rename = "HostedZoneId")]
    pub zone: S::Of<String>,
    #[serde(rename = "EvaluateTargetHealth")]
    pub evaluate_health: bool,
}

/// The TTL of the validation record: ACM's own example ("Setting up DNS validation") uses
/// 300 seconds.
pub const VALIDATION_TTL: i64 = 300;

impl DnsRecord {
    /// A CNAME record with one value.
    pub fn cname(zone: Val<String>, name: Val<String>, value: Val<String>) -> DnsRecord {
        DnsRecord {
            zone,
            name,
            kind: "CNAME".into(),
            ttl: Some(VALIDATION_TTL),
            values: vec![value],
            alias: None,
        }
    }

    /// An `A` record that aliases `name` to a load balancer.
    pub fn alias(
        zone: Val<String>,
        name: &str,
        dns_name: Val<String>,
        target_zone: Val<String>,
    ) -> DnsRecord {
        DnsRecord {
            zone,
            name: name.to_string().into(),
            kind: "A".into(),
            ttl: None,
            values: Vec::new(),
            alias: Some(AliasTarget {
                dns_name,
                zone: target_zone,
                evaluate_health: false,
            }),
        }
    }
}

impl Resource for HostedZone {
    const ACTIONS: &'static [&'static str] = &["route53:ListHostedZones"];

    fn grants(_scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        only_with_steps(steps, Self::ACTIONS)
    }
    const ACTION: &'static str = "route53:ListHostedZones";
    const USES: &'static [Kind] = &[];
    const LOOKUP: bool = true;
}

impl Resource for DnsRecord {
    const ACTIONS: &'static [&'static str] = &[
        "route53:ListResourceRecordSets",
        "route53:ChangeResourceRecordSets",
    ];

    /// Changes only the plan's names (the domain, and the validation record ACM names under
    /// it) and types, in any zone (the zone is found at apply time).
    fn grants(_scope: &Scope<'_>, steps: &[&Self]) -> Vec<Grant> {
        let zones = vec!["arn:aws:route53:::hostedzone/*".to_string()];
        let mut names: Vec<String> = steps
            .iter()
            .filter_map(|r| match &r.name {
                Val::Lit(n) => Some([n.clone(), format!("_*.{n}")]),
                _ => None,
            })
            .flatten()
            .collect();
        names.sort();
        names.dedup();
        let mut types: Vec<&str> = steps.iter().map(|r| r.kind.as_str()).collect();
        types.sort_unstable();
        types.dedup();
        let mut grants = Vec::new();
        if !steps.is_empty() {
            grants.push(Grant::new(
                &["route53:ListResourceRecordSets"],
                zones.clone(),
            ));
            grants.push(
                Grant::new(&["route53:ChangeResourceRecordSets"], zones).when(serde_json::json!({
                    "ForAllValues:StringLike": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": names,
                        "route53:ChangeResourceRecordSetsRecordTypes": types,
                    }
                })),
            );
        }
        grants
    }
    const ACTION: &'static str = "route53:ChangeResourceRecordSets";
    /// The alias points at the environment's load balancer, the validation record names the
    /// certificate: both go first.
    const USES: &'static [Kind] = &[Kind::Environment, Kind::Certificate];
}

/// The public zone for `domain` among `zones` (`(id, name, private)`, names without the final
/// dot): the one whose name is the longest suffix of the domain, at a label boundary. Two
/// public zones of that name are ambiguous (Route 53 allows it; only the registrar knows which
/// one serves the domain): `Err` with their ids.
pub fn zone_for<'a>(
    domain: &str,
    zones: &'a [(String, String, bool)],
) -> Result<Option<&'a (String, String, bool)>, Vec<String>> {
    let holds = |name: &str| domain == name || domain.ends_with(&format!(".{name}"));
    let best = zones
        .iter()
        .filter(|(_, name, private)| !private && holds(name))
        .map(|z| z.1.len())
        .max();
    let Some(len) = best else { return Ok(None) };
    let found: Vec<&(String, String, bool)> = zones
        .iter()
        .filter(|(_, name, private)| !private && holds(name) && name.len() == len)
        .collect();
    match found.as_slice() {
        [one] => Ok(Some(one)),
        many => Err(many.iter().map(|z| z.0.clone()).collect()),
    }
}

#[cfg(feature = "aws")]
mod aws;

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(id: &str, name: &str, private: bool) -> (String, String, bool) {
        (id.into(), name.into(), private)
    }

    #[test]
    fn the_longest_public_suffix_at_a_label_boundary_holds_the_domain() {
        let zones = [
            zone("Z1", "example.com", false),
            zone("Z2", "app.example.com", true),
            zone("Z3", "shop.example.com", false),
            zone("Z4", "ample.com", false),
        ];
        let id = |d: &str| {
            zone_for(d, &zones)
                .expect("unambiguous")
                .map(|z| z.0.as_str())
        };
        assert_eq!(
            id("app.example.com"),
            Some("Z1"),
            "a private zone does not count"
        );
        assert_eq!(id("www.shop.example.com"), Some("Z3"));
        assert_eq!(id("shop.example.com"), Some("Z3"));
        assert_eq!(id("example.org"), None);
        assert_eq!(id("xample.com"), None, "not at a label boundary");
        let twice = [
            zone("Z1", "example.com", false),
            zone("Z2", "example.com", false),
        ];
        assert_eq!(
            zone_for("app.example.com", &twice),
            Err(vec!["Z1".to_string(), "Z2".to_string()])
        );
    }
}
