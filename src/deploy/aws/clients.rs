//! One SDK client per AWS service, from one shared configuration: the standard credential and
//! region chain (`AWS_PROFILE`, `AWS_REGION`, SSO, ...), the program's `region` over the
//! environment's, `--endpoint-url` or `AWS_ENDPOINT_URL` for every client, and the SDK's
//! standard retry mode (it backs off on `Throttling`, `RequestLimitExceeded`, 5xx, ...), except
//! for connection errors before a service has answered ([`Reach`]). The region, endpoints and
//! credentials are checked before any call ([`preflight`]).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::config::ProvideCredentials;

use super::reach::Reach;
use crate::deploy::preflight::{self, Problem};

#[derive(Clone, Debug)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub rds: aws_sdk_rds::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub eb: aws_sdk_elasticbeanstalk::Client,
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub secretsmanager: aws_sdk_secretsmanager::Client,
    pub acm: aws_sdk_acm::Client,
    pub route53: aws_sdk_route53::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ecr: aws_sdk_ecr::Client,
}

/// Attempts per call, first included. Throttling on a busy account clears within this with
/// the standard mode's exponential backoff.
const MAX_ATTEMPTS: u32 = 10;

/// A TCP and TLS connection is made within this or not at all (the SDK's own default).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// AWS's APIs answer in well under a second; a server that accepts a connection and stays
/// silent this long is not going to answer (no call of stackc streams a large body).
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the credential chain may take (SSO, a container's or instance's role).
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of one service from the shared configuration, with the [`Reach`] policy.
macro_rules! client {
    ($sdk:ident, $conf:expr, $reach:expr $(, $setting:ident($value:expr))*) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from($conf)
                .interceptor($reach.clone())
                .retry_classifier($reach.clone())
                $(.$setting($value))*
                .build(),
        )
    };
}

/// The endpoint URLs the SDK would use: `--endpoint-url` (or `AWS_ENDPOINT_URL`), and the
/// per-service variables the SDK reads too (`AWS_ENDPOINT_URL_EC2`, ...).
fn endpoint_problems(endpoint_url: Option<&str>) -> Vec<Problem> {
    let mut problems: Vec<Problem> = endpoint_url
        .and_then(|u| preflight::endpoint(u, "--endpoint-url or AWS_ENDPOINT_URL"))
        .into_iter()
        .collect();
    for (name, value) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("AWS_ENDPOINT_URL_") {
            let value = value.to_string_lossy();
            problems.extend(preflight::endpoint(&value, &name));
        }
    }
    problems
}

/// Where the region in use came from, for a message.
fn region_source(program: Option<&str>) -> &'static str {
    let set = |v: &str| std::env::var_os(v).is_some();
    if program.is_some() {
        "the stack block"
    } else if set("AWS_REGION") {
        "AWS_REGION"
    } else if set("AWS_DEFAULT_REGION") {
        "AWS_DEFAULT_REGION"
    } else {
        "your AWS profile"
    }
}

impl Clients {
    /// Loads the configuration; `region` is the program's, `endpoint_url` the CLI's. Returns
    /// the clients and the region in use, or every problem that would make the first call fail.
    pub async fn load(
        region: Option<&str>,
        endpoint_url: Option<&str>,
    ) -> Result<(Clients, String), Vec<Problem>> {
        // A URL the SDK cannot use would fail (or, empty, panic) inside the first call.
        let mut problems = endpoint_problems(endpoint_url);
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .read_timeout(READ_TIMEOUT)
                    .build(),
            );
        if let Some(r) = region {
            loader = loader.region(Region::new(r.to_string()));
        }
        if let Some(url) = endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let conf = loader.load().await;
        let in_use = conf.region().map(|r| r.to_string());
        problems.extend(preflight::region(in_use.as_deref(), region_source(region)));
        match conf.credentials_provider() {
            None => problems.push(Problem::NoCredentials {
                why: "no credential provider".into(),
            }),
            Some(p) => {
                match tokio::time::timeout(CREDENTIALS_TIMEOUT, p.provide_credentials()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => problems.push(Problem::NoCredentials {
                        why: super::error::one_line(&e),
                    }),
                    Err(_) => problems.push(Problem::NoCredentials {
                        why: format!("none found within {}s", CREDENTIALS_TIMEOUT.as_secs()),
                    }),
                }
            }
        }
        let region = match (in_use, problems.is_empty()) {
            (Some(r), true) => r,
            _ => return Err(problems),
        };
        let reach = Reach::default();
        // An emulator serves buckets by path, not by virtual host.
        let path_style = endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
        Ok((
            Clients {
                ec2: client!(aws_sdk_ec2, &conf, reach),
                rds: client!(aws_sdk_rds, &conf, reach),
                elasticache: client!(aws_sdk_elasticache, &conf, reach),
                eb: client!(aws_sdk_elasticbeanstalk, &conf, reach),
                s3: client!(aws_sdk_s3, &conf, reach, force_path_style(path_style)),
                iam: client!(aws_sdk_iam, &conf, reach),
                secretsmanager: client!(aws_sdk_secretsmanager, &conf, reach),
                acm: client!(aws_sdk_acm, &conf, reach),
                route53: client!(aws_sdk_route53, &conf, reach),
                elbv2: client!(aws_sdk_elasticloadbalancingv2, &conf, reach),
                logs: client!(aws_sdk_cloudwatchlogs, &conf, reach),
                ecr: client!(aws_sdk_ecr, &conf, reach),
            },
            region,
        ))
    }
}
