//! The Elastic Beanstalk environment that runs the services: created with every option known
//! up front (the store endpoints follow in `environment_properties`), updated option by option
//! and version by version, terminated on destroy. Environment names are unique in a region,
//! so one held by another application is a conflict; other environments of the stack's
//! application are orphans.
//!
//! Option values may be secrets: the executor scrubs them from every error of the step.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{OptionRules, Output, Resource, Stage, Tags};

/// Elastic Beanstalk sets an environment's load balancer type once, at creation (a
/// single-instance environment gets one when it becomes load balanced).
pub const LOAD_BALANCER_TYPE: &str = "aws:elasticbeanstalk:environment/LoadBalancerType";

/// The environment's options: environment properties no step sets any more are removed.
pub const OPTIONS: OptionRules = OptionRules {
    prune: Some(PROPERTIES),
    replace: &[LOAD_BALANCER_TYPE],
    normalize: normalize_option,
};

/// An option value in the form compared, as Elastic Beanstalk answers it in
/// DescribeConfigurationSettings: a role or instance profile named by name comes back as its
/// ARN ("Service roles, instance profiles, and user policies"), booleans in any case, and
/// comma-separated lists in any order and spacing.
pub fn normalize_option(key: &str, value: &str) -> String {
    let value = value.trim();
    match key {
        "aws:elasticbeanstalk:environment/ServiceRole"
        | "aws:autoscaling:launchconfiguration/IamInstanceProfile" => {
            match value.strip_prefix("arn:") {
                Some(arn) => arn.rsplit('/').next().unwrap_or(arn).to_string(),
                None => value.to_string(),
            }
        }
        _ if value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false") => {
            value.to_ascii_lowercase()
        }
        _ if value.contains(',') => {
            let mut items: Vec<&str> = value.split(',').map(str::trim).collect();
            items.sort_unstable();
            items.join(",")
        }
        _ => value.to_string(),
    }
}

/// The Application Load Balancer's HTTPS listener ("General options for all environments",
/// `aws:elbv2:listener:listener_port`).
pub const HTTPS_LISTENER: &str = "aws:elbv2:listener:443";

/// The option that names the certificate of the HTTPS listener.
pub const LISTENER_CERTIFICATE: &str = "aws:elbv2:listener:443/SSLCertificateArns";

/// The security policy of the HTTPS listener: the one AWS recommends today ("Security
/// policies for your Application Load Balancer", docs.aws.amazon.com/elasticloadbalancing/
/// latest/application/describe-ssl-policies.html: "AWS recommends implementing the new
/// post-quantum TLS (PQ-TLS) based security policy ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
/// which "ensures backward compatibility by supporting clients capable of negotiating hybrid
/// PQ-TLS, TLS 1.3 only, or TLS 1.2 only"; the console's default). Without it an HTTPS
/// listener made through Elastic Beanstalk gets ELB's API default, `ELBSecurityPolicy-2016-08`,
/// which still accepts TLS 1.0.
pub const TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09";

/// The namespaces of environment properties (`...:environment` and `...:environmentsecrets`).
pub const PROPERTIES: &str = "aws:elasticbeanstalk:application:environment";

crate::desired! {
    /// The parameters of CreateEnvironment.
    pub struct Environment<S> {
        #[field("ApplicationName", Identity)]
        pub application: S::Of<String>,
        #[field("EnvironmentName", Identity)]
        pub name: String,
        #[field("PlatformArn", Ignore("the newest recommended version when the environment was created; platform updates are Elastic Beanstalk's managed updates"))]
        pub platform: S::Of<String>,
        #[field("VersionLabel", Update)]
        pub version: S::Of<String>,
        #[field("OptionSettings", Options(OPTIONS))]
        pub options: Vec<OptionSetting<S>>,
        #[field("Tags", Ignore("tags are set at creation; environments belong to the stack through its application"))]
        pub tags: Tags,
    }
}

/// One option setting: `{"Namespace", "OptionName", "Value"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptionSetting<S: Stage> {
    #[serde(rename = "Namespace")]
    pub namespace: String,
    #[serde(rename = "OptionName")]
    pub name: String,
    #[serde(rename = "Value")]
    pub value: S::Of<String>,
}

impl<S: Stage> OptionSetting<S> {
    pub fn new(namespace: &str, name: &str, value: impl Into<S::Of<String>>) -> OptionSetting<S> {
        OptionSetting {
            namespace: namespace.into(),
            name: name.into(),
            value: value.into(),
        }
    }

    /// `namespace/name`, as the diff names an option.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

pub const ENVIRONMENT_NAME: Output<Environment, String> = Output::new("environment_name");

/// The statements of what Elastic Beanstalk itself does with the deployer's rights.
pub const ELASTIC_BEANSTALK_ON_YOUR_BEHALF: &str =
    "ElasticBeanstalkLaunchesTheEnvironmentWithTheseRights";

/// Elastic Beanstalk's own actions of an environment's steps: the describes on every
/// resource, the rest on the stack's environments, versions and application, and on platforms.
pub(crate) fn environment_grants(scope: &Scope<'_>, actions: &[&'static str]) -> Vec<Grant> {
    let (reads, writes): (Vec<&'static str>, Vec<&'static str>) = actions
        .iter()
        .partition(|a| a.starts_with("elasticbeanstalk:Describe"));
    vec![
        Grant::anywhere(&reads),
        Grant::new(
            &writes,
            vec![
                scope.arn(
                    "elasticbeanstalk",
                    &format!("environment/{}/*", scope.stack),
                ),
                scope.arn(
                    "elasticbeanstalk",
                    &format!("applicationversion/{}/*", scope.stack),
                ),
                scope.arn("elasticbeanstalk", &format!("application/{}", scope.stack)),
                format!("arn:aws:elasticbeanstalk:{}::platform/*", scope.region),
                format!("arn:aws:elasticbeanstalk:{}::solutionstack/*", scope.region),
            ],
        ),
    ]
}

impl Resource for Environment {
    const ACTIONS: &'static [&'static str] = &[
        "elasticbeanstalk:CreateEnvironment",
        "elasticbeanstalk:UpdateEnvironment",
        "elasticbeanstalk:TerminateEnvironment",
        "elasticbeanstalk:DescribeEnvironments",
        "elasticbeanstalk:DescribeConfigurationSettings",
        "elasticbeanstalk:DescribeEvents",
        "elasticbeanstalk:DescribeEnvironmentHealth",
        "elasticbeanstalk:DescribeInstancesHealth",
        "elasticbeanstalk:AddTags",
        "iam:PassRole",
        "cloudformation:*",
        "autoscaling:*",
        "elasticloadbalancing:*",
        "ecs:*",
        "ec2:*",
        "cloudwatch:*",
        "logs:*",
        "sns:*",
        "s3:*",
    ];

    /// Its own calls on the stack's environment, passing the stack's roles to Elastic
    /// Beanstalk, and what Elastic Beanstalk does with the caller's rights when it creates or
    /// changes an environment ("Elastic Beanstalk uses user permissions to launch resources in
    /// an environment": EC2 instances, a load balancer, an Auto Scaling group, through AWS
    /// CloudFormation; logs, notifications and metrics): broad, as AWS's own user policy is,
    /// scoped where Elastic Beanstalk's names allow (`awseb-*` stacks, its log groups and
    /// buckets).
    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        let mut grants = environment_grants(scope, &Self::ACTIONS[..9]);
        grants.extend([
            Grant::new(&["iam:PassRole"], vec![scope.iam(&format!("role/{}-*", scope.stack))])
                .when(serde_json::json!({ "StringEquals": { "iam:PassedToService": ["elasticbeanstalk.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com"] } })),
            // What Elastic Beanstalk does with these rights: AWS's own user policy grants
            // these services in full ("Elastic Beanstalk user policy").
            Grant::new(&["cloudformation:*"], vec![scope.arn("cloudformation", "stack/awseb-*")])
                .named(ELASTIC_BEANSTALK_ON_YOUR_BEHALF),
            Grant::anywhere(&["autoscaling:*", "elasticloadbalancing:*", "ecs:*", "ec2:*", "cloudwatch:*"])
                .named(ELASTIC_BEANSTALK_ON_YOUR_BEHALF),
            Grant::new(&["logs:*"], vec![scope.arn("logs", "log-group:/aws/elasticbeanstalk/*")])
                .named(ELASTIC_BEANSTALK_ON_YOUR_BEHALF),
            Grant::new(&["sns:*"], vec![scope.arn("sns", "ElasticBeanstalkNotifications*")])
                .named(ELASTIC_BEANSTALK_ON_YOUR_BEHALF),
            Grant::new(
                &["s3:*"],
                vec![
                    format!("arn:aws:s3:::elasticbeanstalk-{}-*", scope.region),
                    format!("arn:aws:s3:::elasticbeanstalk-{}-*/*", scope.region),
                ],
            )
            .named(ELASTIC_BEANSTALK_ON_YOUR_BEHALF),
        ]);
        grants
    }
    const ACTION: &'static str = "elasticbeanstalk:CreateEnvironment";
    const USES: &'static [Kind] = &[
        Kind::Application,
        Kind::AppVersion,
        Kind::Platform,
        Kind::SecurityGroup,
        Kind::ProfileRole,
        Kind::Role,
        Kind::RolePolicyAttachment,
        Kind::Certificate,
    ];

    /// Replacing an environment means terminating the running application first.
    fn refuse_replacement(_current: &Map<String, Value>, _want: &Value) -> Option<String> {
        Some(", which stops the application: keep the setting, or run `stackc destroy` and then `stackc apply`".into())
    }
}

#[cfg(feature = "aws")]
pub(crate) use aws::deploy_version;
#[cfg(feature = "aws")]
pub(crate) use calls::{
    describe_by_name, environment_state, outputs as environment_outputs, set_options,
    wait_ready_by_name,
};
#[cfg(feature = "aws")]
pub use health::{Causes, InstanceHealth};
#[cfg(feature = "aws")]
pub(crate) use health::{Health, causes, gate, now};

#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "aws")]
mod calls;
#[cfg(feature = "aws")]
mod health;
