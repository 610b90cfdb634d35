//! One SDK client per AWS service, from one shared configuration: the standard credential and
//! region chain (`AWS_PROFILE`, `AWS_REGION`, SSO, ...), the program's `region` over the
//! environment's, `--endpoint-url` or `AWS_ENDPOINT_URL` for every client, and the SDK's
//! standard retry mode (it backs off on `Throttling`, `RequestLimitExceeded`, 5xx, ...).

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};

#[derive(Clone, Debug)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub rds: aws_sdk_rds::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub eb: aws_sdk_elasticbeanstalk::Client,
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub secretsmanager: aws_sdk_secretsmanager::Client,
}

/// Attempts per call, first included. Throttling on a busy account clears within this with
/// the standard mode's exponential backoff.
const MAX_ATTEMPTS: u32 = 10;

impl Clients {
    /// Loads the configuration; `region` is the program's, `endpoint_url` the CLI's.
    /// Returns the clients and the region in use, or a message when no region is known.
    pub async fn load(
        region: Option<&str>,
        endpoint_url: Option<&str>,
    ) -> Result<(Clients, String), String> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        if let Some(r) = region {
            loader = loader.region(Region::new(r.to_string()));
        }
        if let Some(url) = endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let conf = loader.load().await;
        let region = conf
            .region()
            .map(|r| r.to_string())
            .ok_or("no AWS region: set `region` in the stack block, or AWS_REGION, or a region in your AWS profile")?;
        // An emulator serves buckets by path, not by virtual host.
        let path_style = endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
        let s3_conf = aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(path_style)
            .build();
        Ok((
            Clients {
                ec2: aws_sdk_ec2::Client::new(&conf),
                rds: aws_sdk_rds::Client::new(&conf),
                elasticache: aws_sdk_elasticache::Client::new(&conf),
                eb: aws_sdk_elasticbeanstalk::Client::new(&conf),
                s3: aws_sdk_s3::Client::from_conf(s3_conf),
                iam: aws_sdk_iam::Client::new(&conf),
                secretsmanager: aws_sdk_secretsmanager::Client::new(&conf),
            },
            region,
        ))
    }
}
