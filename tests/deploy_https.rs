//! HTTPS on the program's own domain and autoscaling, end to end against the emulator
//! (tests/support: ACM's DNS validation, Route 53, the environment's Application Load
//! Balancer): the certificate, its validation record and the domain's alias in the account's
//! hosted zone, or printed when no zone of the account holds the domain and picked up by a
//! later apply; the 443 listener with the certificate and AWS's recommended TLS policy, port
//! 80 redirected; the Auto Scaling group's options; and a second apply that changes nothing,
//! counted through the fault proxy; with two environments in one file, HTTPS and scaling are
//! only the environment's that writes them.

mod common;

use common::{
    boto, boto_in, moto, ok, proxy, proxy_post, proxy_stats, stackc, text, write_program,
};
use serde_json::Value;

const PROGRAM: &str = r#"
stack shop { region = "us-east-1" }

environment shop-env {
  tier               = load_balanced
  domain             = "shop.example.com"
  min_instances      = 2
  max_instances      = 5
  target_cpu_percent = 60
}

service web {
  image     = "nginx:1.27"
  memory    = 128 MiB
  essential = true
  ports     = [80:80]
}

firewall {
  allow 80 from internet to web
}
"#;

/// AWS's recommended security policy, which the listener must carry.
const TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09";

/// The calls of a run that changed something, as `service operation`.
fn mutations(stats: &Value) -> Vec<String> {
    stats["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["mutating"] == Value::Bool(true))
        .map(|c| {
            format!(
                "{} {}",
                c["service"].as_str().unwrap_or_default(),
                c["operation"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// Applies through the proxy from a clean count; returns the run's text and its mutations.
fn counted_apply(proxy: &common::Server, file: &str, extra: &[&str]) -> (String, Vec<String>) {
    proxy_post(proxy, "reset", "{}");
    let mut args = vec!["apply", file, "--yes"];
    args.extend_from_slice(extra);
    let out = ok(&stackc(&proxy.url(), &args, &[]));
    (out, mutations(&proxy_stats(proxy)))
}

/// A call in another account, which stands for a DNS provider outside the deployer's.
fn elsewhere(endpoint: &str, service: &str, expr: &str) -> Value {
    boto_in(endpoint, Some("111111111111"), service, expr)
}

/// A public hosted zone `example.com` in the deployer's account: its id.
fn hosted_zone(url: &str) -> String {
    let zone = boto(
        url,
        "route53",
        "c.create_hosted_zone(Name='example.com', CallerReference='shop')['HostedZone']['Id']",
    );
    zone.as_str().expect("a zone id").to_string()
}

/// The stack's certificates in ACM: (ARN, domain, status).
fn certificates(url: &str) -> Vec<(String, String, String)> {
    let list = boto(
        url,
        "acm",
        "c.list_certificates(CertificateStatuses=['PENDING_VALIDATION','ISSUED','VALIDATION_TIMED_OUT'])['CertificateSummaryList']",
    );
    list.as_array()
        .expect("certificates")
        .iter()
        .map(|c| {
            (
                c["CertificateArn"].as_str().unwrap_or_default().to_string(),
                c["DomainName"].as_str().unwrap_or_default().to_string(),
                c["Status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The Elastic Beanstalk application and environment of `PROGRAM`.
const SHOP_ENV: (&str, &str) = ("shop", "shop-env");

/// The load balancer of Elastic Beanstalk environment `env` and its listeners, by port.
fn load_balancer(url: &str, env: &str) -> (Value, Vec<Value>) {
    let arn = boto(
        url,
        "elasticbeanstalk",
        &format!(
            "c.describe_environment_resources(EnvironmentName='{env}')['EnvironmentResources']['LoadBalancers'][0]['Name']"
        ),
    );
    let arn = arn.as_str().expect("the load balancer's ARN");
    let lb = boto(
        url,
        "elbv2",
        &format!("c.describe_load_balancers(LoadBalancerArns=['{arn}'])['LoadBalancers'][0]"),
    );
    let listeners = boto(
        url,
        "elbv2",
        &format!(
            "sorted(c.describe_listeners(LoadBalancerArn='{arn}')['Listeners'], key=lambda l: l['Port'])"
        ),
    );
    (lb, listeners.as_array().expect("listeners").clone())
}

/// An option setting (`namespace/name`) of environment `(application, environment)`.
fn setting(url: &str, (app, env): (&str, &str), key: &str) -> Value {
    let (ns, name) = key.rsplit_once('/').expect("namespace/name");
    boto(
        url,
        "elasticbeanstalk",
        &format!(
            "[o.get('Value') for o in c.describe_configuration_settings(ApplicationName='{app}', EnvironmentName='{env}')['ConfigurationSettings'][0]['OptionSettings'] if (o['Namespace'], o['OptionName']) == ('{ns}', '{name}')][0]"
        ),
    )
}

/// The 443 listener of environment `env` holds `certificate` and the recommended policy; port
/// 80 redirects to it.
fn assert_https(url: &str, env: &str, certificate: &str) -> Value {
    let (lb, listeners) = load_balancer(url, env);
    let ports: Vec<(u64, &str)> = listeners
        .iter()
        .map(|l| {
            (
                l["Port"].as_u64().unwrap_or_default(),
                l["Protocol"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(ports, [(80, "HTTP"), (443, "HTTPS")], "{listeners:?}");
    let https = &listeners[1];
    assert_eq!(https["Certificates"][0]["CertificateArn"], certificate);
    assert_eq!(https["SslPolicy"], TLS_POLICY);
    let redirect = &listeners[0]["DefaultActions"][0];
    assert_eq!(redirect["Type"], "redirect", "{redirect}");
    assert_eq!(
        (
            &redirect["RedirectConfig"]["Protocol"],
            &redirect["RedirectConfig"]["Port"],
            &redirect["RedirectConfig"]["StatusCode"]
        ),
        (
            &Value::from("HTTPS"),
            &Value::from("443"),
            &Value::from("HTTP_301")
        )
    );
    lb
}

#[test]
fn a_domain_with_a_hosted_zone_is_served_over_https_and_scales() {
    let aws = moto();
    let proxy = proxy(&aws, &[]);
    let url = aws.url();
    let zone = hosted_zone(&url);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write_program(dir.path(), "shop.stack", PROGRAM, &[]);
    let f = file.to_str().expect("a UTF-8 path");

    // 1. The certificate, validated through the record stackc writes, on the 443 listener.
    let (out, _) = counted_apply(&proxy, f, &[]);
    assert!(out.contains("Apply complete"), "{out}");
    let certs = certificates(&url);
    assert_eq!(certs.len(), 1, "one certificate: {certs:?}");
    let (arn, domain, status) = &certs[0];
    assert_eq!(
        (domain.as_str(), status.as_str()),
        ("shop.example.com", "ISSUED")
    );
    let tags = boto(
        &url,
        "acm",
        &format!("c.list_tags_for_certificate(CertificateArn='{arn}')['Tags']"),
    );
    assert!(
        tags.as_array()
            .expect("tags")
            .iter()
            .any(|t| t["Key"] == "stackc:stack" && t["Value"] == "shop"),
        "{tags}"
    );
    let lb = assert_https(&url, SHOP_ENV.1, arn);

    // The domain's alias to the load balancer, and the validation record, in the zone.
    let records = boto(
        &url,
        "route53",
        &format!("c.list_resource_record_sets(HostedZoneId='{zone}')['ResourceRecordSets']"),
    );
    let records = records.as_array().expect("records");
    let alias = records
        .iter()
        .find(|r| r["Name"] == "shop.example.com." && r["Type"] == "A")
        .unwrap_or_else(|| panic!("an alias record: {records:?}"));
    let dns = lb["DNSName"].as_str().expect("a DNS name").to_lowercase();
    assert_eq!(
        alias["AliasTarget"]["DNSName"]
            .as_str()
            .map(|d| d.trim_end_matches('.')),
        Some(dns.as_str())
    );
    assert_eq!(
        alias["AliasTarget"]["HostedZoneId"],
        lb["CanonicalHostedZoneId"]
    );
    let record = boto(
        &url,
        "acm",
        &format!(
            "c.describe_certificate(CertificateArn='{arn}')['Certificate']['DomainValidationOptions'][0]['ResourceRecord']"
        ),
    );
    assert!(
        records.iter().any(|r| r["Type"] == "CNAME"
            && r["Name"] == record["Name"]
            && r["ResourceRecords"][0]["Value"]
                .as_str()
                .map(|v| v.trim_end_matches('.'))
                == record["Value"].as_str().map(|v| v.trim_end_matches('.'))),
        "the validation record: {records:?}"
    );

    // HTTPS is open to the sources of port 80, on the load balancer only.
    let groups = boto(
        &url,
        "ec2",
        "{g['GroupName']: g['IpPermissions'] for g in c.describe_security_groups()['SecurityGroups']}",
    );
    let lb_ports: Vec<(u64, &str)> = groups["shop-env-lb"]
        .as_array()
        .expect("the load balancer's group")
        .iter()
        .map(|p| {
            (
                p["FromPort"].as_u64().unwrap_or_default(),
                p["IpRanges"][0]["CidrIp"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(lb_ports.contains(&(443, "0.0.0.0/0")), "{lb_ports:?}");
    assert!(
        !groups["shop-env"].to_string().contains("443"),
        "{}",
        groups["shop-env"]
    );

    // The Auto Scaling group and its CPU trigger.
    for (key, value) in [
        ("aws:autoscaling:asg/MinSize", "2"),
        ("aws:autoscaling:asg/MaxSize", "5"),
        ("aws:autoscaling:trigger/MeasureName", "CPUUtilization"),
        ("aws:autoscaling:trigger/Unit", "Percent"),
        ("aws:autoscaling:trigger/UpperThreshold", "60"),
        ("aws:autoscaling:trigger/LowerThreshold", "30"),
    ] {
        assert_eq!(setting(&url, SHOP_ENV, key), value, "{key}");
    }
    let instances = boto(
        &url,
        "elasticbeanstalk",
        "len(c.describe_environment_resources(EnvironmentName='shop-env')['EnvironmentResources']['Instances'])",
    );
    assert_eq!(instances, 2, "the group starts with min_instances");

    // 2. Nothing to do the second time.
    let (out, changed) = counted_apply(&proxy, f, &[]);
    assert!(out.contains("No changes"), "{out}");
    assert!(changed.is_empty(), "a no-change apply changed {changed:?}");

    // 3. No CPU target and a larger group: one configuration update; then nothing again.
    let file = write_program(
        dir.path(),
        "shop.stack",
        PROGRAM,
        &[
            ("  target_cpu_percent = 60\n", ""),
            ("max_instances      = 5", "max_instances      = 8"),
        ],
    );
    let f = file.to_str().expect("a UTF-8 path");
    let (out, changed) = counted_apply(&proxy, f, &[]);
    assert!(out.contains("Apply complete"), "{out}");
    assert_eq!(
        changed,
        ["elasticbeanstalk UpdateEnvironment"],
        "only the environment's options change"
    );
    for (key, value) in [
        ("aws:autoscaling:asg/MaxSize", "8"),
        ("aws:autoscaling:trigger/MeasureName", "NetworkOut"),
        ("aws:autoscaling:trigger/Unit", "Bytes"),
        ("aws:autoscaling:trigger/UpperThreshold", "6000000"),
        ("aws:autoscaling:trigger/LowerThreshold", "2000000"),
    ] {
        assert_eq!(setting(&url, SHOP_ENV, key), value, "{key}");
    }
    let (_, changed) = counted_apply(&proxy, f, &[]);
    assert!(changed.is_empty(), "{changed:?}");

    // 4. Destroy removes the records stackc wrote, the environment and the certificate.
    ok(&stackc(&url, &["destroy", f, "--yes"], &[]));
    let left = boto(
        &url,
        "route53",
        &format!(
            "[r['Type'] for r in c.list_resource_record_sets(HostedZoneId='{zone}')['ResourceRecordSets']]"
        ),
    );
    assert_eq!(
        left,
        serde_json::json!(["NS", "SOA"]),
        "the zone keeps only its own records"
    );
    assert!(certificates(&url).is_empty(), "{:?}", certificates(&url));
}

#[test]
fn without_a_zone_the_records_are_printed_and_a_later_apply_resumes() {
    let aws = moto();
    let proxy = proxy(&aws, &[]);
    let url = aws.url();
    // The domain's zone is served outside the deployer's account.
    let zone = elsewhere(
        &url,
        "route53",
        "c.create_hosted_zone(Name='example.com', CallerReference='dns')['HostedZone']['Id']",
    );
    let zone = zone.as_str().expect("a zone id").to_string();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write_program(dir.path(), "shop.stack", PROGRAM, &[]);
    let f = file.to_str().expect("a UTF-8 path");

    // 1. The records are the user's: printed, and the wait ends at its deadline.
    let out = stackc(
        &url,
        &["apply", f, "--yes", "--validation-timeout", "2s"],
        &[],
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    let certs = certificates(&url);
    assert_eq!(certs.len(), 1, "{certs:?}");
    let arn = certs[0].0.clone();
    let record = boto(
        &url,
        "acm",
        &format!(
            "c.describe_certificate(CertificateArn='{arn}')['Certificate']['DomainValidationOptions'][0]['ResourceRecord']"
        ),
    );
    let (name, value) = (
        record["Name"]
            .as_str()
            .expect("a name")
            .trim_end_matches('.'),
        record["Value"]
            .as_str()
            .expect("a value")
            .trim_end_matches('.'),
    );
    assert!(
        t.contains("no Route 53 hosted zone in this account holds it")
            && t.contains(&format!("{name} CNAME {value}")),
        "the record to create is printed: {t}"
    );
    assert!(
        t.contains("still `PENDING_VALIDATION") && t.contains("run apply again"),
        "{t}"
    );
    let envs = boto(
        &url,
        "elasticbeanstalk",
        "c.describe_environments(IncludeDeleted=False)['Environments']",
    );
    assert_eq!(
        envs,
        serde_json::json!([]),
        "the environment waits for its certificate"
    );

    // 2. The user creates the record; the next apply picks the certificate up and finishes.
    elsewhere(
        &url,
        "route53",
        &format!(
            "c.change_resource_record_sets(HostedZoneId='{zone}', ChangeBatch={{'Changes': [{{'Action': 'UPSERT', 'ResourceRecordSet': {{'Name': '{name}', 'Type': 'CNAME', 'TTL': 300, 'ResourceRecords': [{{'Value': '{value}'}}]}}}}]}})"
        ),
    );
    let (out, changed) = counted_apply(&proxy, f, &[]);
    assert!(out.contains("Apply complete"), "{out}");
    assert!(
        !changed.iter().any(|c| c.contains("RequestCertificate")),
        "no second certificate: {changed:?}"
    );
    assert!(
        !changed.iter().any(|c| c.starts_with("route53 ")),
        "nothing written in Route 53: {changed:?}"
    );
    let lb = assert_https(&url, SHOP_ENV.1, &arn);
    let dns = lb["DNSName"].as_str().expect("a DNS name").to_lowercase();
    assert!(
        out.contains(&format!("shop.example.com CNAME {dns}")),
        "the domain's record to create is printed: {out}"
    );
    assert_eq!(certificates(&url).len(), 1);

    // 3. Nothing to do the third time.
    let (out, changed) = counted_apply(&proxy, f, &[]);
    assert!(out.contains("No changes"), "{out}");
    assert!(changed.is_empty(), "{changed:?}");
}

#[test]
fn a_named_certificate_is_used_and_a_foreign_record_stops_apply() {
    let aws = moto();
    let proxy = proxy(&aws, &[]);
    let url = aws.url();
    // A certificate of the user's, issued through a zone of another account.
    let arn = boto(
        &url,
        "acm",
        "c.request_certificate(DomainName='www.example.org', ValidationMethod='DNS')['CertificateArn']",
    );
    let arn = arn.as_str().expect("an ARN").to_string();
    let record = boto(
        &url,
        "acm",
        &format!(
            "[c.describe_certificate(CertificateArn='{arn}') for _ in range(2)][-1]['Certificate']['DomainValidationOptions'][0]['ResourceRecord']"
        ),
    );
    elsewhere(
        &url,
        "route53",
        &format!(
            "c.change_resource_record_sets(HostedZoneId=c.create_hosted_zone(Name='example.org', CallerReference='o')['HostedZone']['Id'], ChangeBatch={{'Changes': [{{'Action': 'UPSERT', 'ResourceRecordSet': {{'Name': '{}', 'Type': 'CNAME', 'TTL': 300, 'ResourceRecords': [{{'Value': '{}'}}]}}}}]}})",
            record["Name"].as_str().expect("a name"),
            record["Value"].as_str().expect("a value")
        ),
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write_program(
        dir.path(),
        "shop.stack",
        PROGRAM,
        &[(
            "domain             = \"shop.example.com\"",
            &format!("certificate        = \"{arn}\""),
        )],
    );
    let f = file.to_str().expect("a UTF-8 path");
    let (out, changed) = counted_apply(&proxy, f, &[]);
    assert!(out.contains("Apply complete"), "{out}");
    assert!(
        !changed
            .iter()
            .any(|c| c.contains("acm") || c.contains("route53")),
        "the certificate is used as it is, with no DNS: {changed:?}"
    );
    assert_https(&url, SHOP_ENV.1, &arn);
    let (_, changed) = counted_apply(&proxy, f, &[]);
    assert!(changed.is_empty(), "{changed:?}");
    ok(&stackc(&url, &["destroy", f, "--yes"], &[]));
    assert_eq!(
        certificates(&url).len(),
        1,
        "destroy keeps the user's certificate"
    );

    // A record of the domain that stackc did not write: apply changes nothing.
    let zone = boto(
        &url,
        "route53",
        "c.create_hosted_zone(Name='example.com', CallerReference='mine')['HostedZone']['Id']",
    );
    boto(
        &url,
        "route53",
        &format!(
            "c.change_resource_record_sets(HostedZoneId='{}', ChangeBatch={{'Changes': [{{'Action': 'UPSERT', 'ResourceRecordSet': {{'Name': 'shop.example.com', 'Type': 'A', 'TTL': 60, 'ResourceRecords': [{{'Value': '192.0.2.10'}}]}}}}]}})",
            zone.as_str().expect("a zone id")
        ),
    );
    let file = write_program(dir.path(), "shop.stack", PROGRAM, &[]);
    let f = file.to_str().expect("a UTF-8 path");
    proxy_post(&proxy, "reset", "{}");
    let out = stackc(&proxy.url(), &["apply", f, "--yes"], &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("shop.example.com A 192.0.2.10") && t.contains("which stackc did not write"),
        "{t}"
    );
    assert!(
        mutations(&proxy_stats(&proxy)).is_empty(),
        "nothing was changed"
    );
}

#[test]
fn dropping_the_domain_closes_https_and_deletes_the_certificate() {
    let aws = moto();
    let proxy = proxy(&aws, &[]);
    let url = aws.url();
    hosted_zone(&url);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write_program(dir.path(), "shop.stack", PROGRAM, &[]);
    let f = file.to_str().expect("a UTF-8 path");
    counted_apply(&proxy, f, &[]);
    let arn = certificates(&url)[0].0.clone();
    assert_https(&url, SHOP_ENV.1, &arn);

    let file = write_program(
        dir.path(),
        "shop.stack",
        PROGRAM,
        &[("  domain             = \"shop.example.com\"\n", "")],
    );
    let f = file.to_str().expect("a UTF-8 path");
    let (out, _) = counted_apply(&proxy, f, &[]);
    assert!(
        out.contains("ACM certificate for shop.example.com (ISSUED): deleted"),
        "{out}"
    );
    let (_, listeners) = load_balancer(&url, SHOP_ENV.1);
    let ports: Vec<(&Value, &Value)> = listeners
        .iter()
        .map(|l| (&l["Port"], &l["DefaultActions"][0]["Type"]))
        .collect();
    assert_eq!(
        ports,
        [(&Value::from(80), &Value::from("forward"))],
        "no HTTPS, no redirect: {listeners:?}"
    );
    assert!(certificates(&url).is_empty(), "{:?}", certificates(&url));
    let (out, changed) = counted_apply(&proxy, f, &[]);
    assert!(out.contains("No changes"), "{out}");
    assert!(changed.is_empty(), "{changed:?}");
}

/// `PROGRAM` as production, with a staging beside it written without HTTPS or scaling.
const TWO_ENVIRONMENTS: &[(&str, &str)] = &[(
    "environment shop-env {",
    "environment staging {\n  tier = load_balanced\n}\n\nenvironment production {",
)];

/// The records of hosted zone `zone`, as `name type` → the alias's DNS name or the values.
fn records(url: &str, zone: &str) -> Vec<(String, Value)> {
    let sets = boto(
        url,
        "route53",
        &format!(
            "[(r['Name'] + ' ' + r['Type'], r.get('AliasTarget', {{}}).get('DNSName') or [v['Value'] for v in r.get('ResourceRecords', [])]) for r in c.list_resource_record_sets(HostedZoneId='{zone}')['ResourceRecordSets']]"
        ),
    );
    sets.as_array()
        .expect("records")
        .iter()
        .map(|r| (r[0].as_str().unwrap_or_default().to_string(), r[1].clone()))
        .collect()
}

/// HTTPS, its DNS records and the scaling written in production are production's alone: staging
/// gets none of them, production's certificate carries its environment's tag, the alias points
/// at production's load balancer, and destroying staging leaves them all as they were.
#[test]
fn https_and_scaling_belong_to_their_environment() {
    let aws = moto();
    let url = aws.url();
    let zone = hosted_zone(&url);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write_program(dir.path(), "shop.stack", PROGRAM, TWO_ENVIRONMENTS);
    let f = file.to_str().expect("a UTF-8 path");
    let (staging, production) = (
        ("shop-staging", "shop-staging"),
        ("shop-production", "shop-production"),
    );
    ok(&stackc(
        &url,
        &["apply", f, "--env", "staging", "--yes"],
        &[],
    ));
    assert!(certificates(&url).is_empty(), "{:?}", certificates(&url));
    ok(&stackc(
        &url,
        &["apply", f, "--env", "production", "--yes"],
        &[],
    ));

    let certs = certificates(&url);
    assert_eq!(certs.len(), 1, "production's certificate only: {certs:?}");
    let arn = certs[0].0.clone();
    let tags = boto(
        &url,
        "acm",
        &format!(
            "sorted((t['Key'], t['Value']) for t in c.list_tags_for_certificate(CertificateArn='{arn}')['Tags'])"
        ),
    );
    assert_eq!(
        tags,
        serde_json::json!([
            ["stackc:env", "production"],
            ["stackc:name", "shop.example.com"],
            ["stackc:stack", "shop"]
        ])
    );
    let lb = assert_https(&url, production.1, &arn);
    let (_, listeners) = load_balancer(&url, staging.1);
    let ports: Vec<(&Value, &Value)> = listeners
        .iter()
        .map(|l| (&l["Port"], &l["DefaultActions"][0]["Type"]))
        .collect();
    assert_eq!(
        ports,
        [(&Value::from(80), &Value::from("forward"))],
        "staging serves plain HTTP: {listeners:?}"
    );
    for (env, min, max, measure) in [
        (staging, "1", "4", "NetworkOut"),
        (production, "2", "5", "CPUUtilization"),
    ] {
        assert_eq!(setting(&url, env, "aws:autoscaling:asg/MinSize"), min);
        assert_eq!(setting(&url, env, "aws:autoscaling:asg/MaxSize"), max);
        assert_eq!(
            setting(&url, env, "aws:autoscaling:trigger/MeasureName"),
            measure
        );
    }
    let dns = lb["DNSName"].as_str().expect("a DNS name").to_lowercase();
    let before = records(&url, &zone);
    let alias = before
        .iter()
        .find(|(k, _)| k == "shop.example.com. A")
        .unwrap_or_else(|| panic!("an alias record: {before:?}"));
    assert_eq!(
        alias.1.as_str().map(|d| d.trim_end_matches('.')),
        Some(dns.as_str()),
        "the alias points at production's load balancer"
    );

    // Each environment's plan finds its own as it should be.
    for env in ["staging", "production"] {
        let plan = stackc(&url, &["plan", f, "--env", env, "--detailed-exitcode"], &[]);
        assert_eq!(plan.status.code(), Some(0), "{env}: {}", text(&plan));
    }

    // Destroying staging leaves production's certificate and records.
    ok(&stackc(
        &url,
        &["destroy", f, "--env", "staging", "--yes"],
        &[],
    ));
    assert_eq!(certificates(&url), certs);
    assert_eq!(records(&url, &zone), before);
    assert_https(&url, production.1, &arn);

    ok(&stackc(
        &url,
        &["destroy", f, "--env", "production", "--yes"],
        &[],
    ));
    let left: Vec<String> = records(&url, &zone).into_iter().map(|(k, _)| k).collect();
    assert_eq!(left, ["example.com. NS", "example.com. SOA"]);
    assert!(certificates(&url).is_empty(), "{:?}", certificates(&url));
}
