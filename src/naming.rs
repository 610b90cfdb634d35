//! The names `apply` gives what it creates, derived from the program's names: store
//! identifiers, security and subnet groups, IAM roles and profiles, inline policies, bundle keys,
//! version labels, image repositories and tags. One place, called by `check` (which validates these names against
//! AWS's rules before anything is deployed), `lower` (which writes them into the plan) and
//! `deploy` (which finds what an earlier apply made by them), so the three cannot drift apart.

/// The tag that marks a resource as this stack's: nothing without it is changed or deleted.
pub const TAG_STACK: &str = "stackc:stack";
/// The tag naming the block a resource was made for.
pub const TAG_NAME: &str = "stackc:name";
/// The tag naming the environment a resource belongs to, in a file with several.
pub const TAG_ENV: &str = "stackc:env";

/// The base of the names of an environment's resources: the stack's name, or in a file with
/// several environments `<stack>-<environment>` (each has its own stores, groups and roles).
pub fn base(stack: &str, env: Option<&str>) -> String {
    match env {
        Some(env) => format!("{stack}-{env}"),
        None => stack.to_string(),
    }
}

/// The default identifier of a data store (RDS instance, ElastiCache cluster or group).
pub fn store_identifier(stack: &str, store: &str) -> String {
    format!("{stack}-{store}")
}

/// The security group of the environment's instances: the environment's name.
pub fn environment_security_group(env: &str) -> String {
    env.to_string()
}

/// The security group of the environment's load balancer.
pub fn load_balancer_security_group(env: &str) -> String {
    format!("{env}-lb")
}

/// The `stackc:name` tag of the load balancer's security group.
pub fn load_balancer_tag(env: &str) -> String {
    format!("{env}/lb")
}

/// The security group of a data store.
pub fn store_security_group(stack: &str, store: &str) -> String {
    format!("{stack}-{store}")
}

/// The DB or cache subnet group of a data store.
pub fn subnet_group(stack: &str, store: &str) -> String {
    format!("{stack}-{store}")
}

/// Suffix of the instance role (and its instance profile) after the stack's name.
pub const INSTANCE_ROLE_SUFFIX: &str = "-eb-ec2";
/// Suffix of the service role after the stack's name.
pub const SERVICE_ROLE_SUFFIX: &str = "-eb-service";

/// The role of the environment's instances, made when the program names no `instance_profile`.
pub fn instance_role(stack: &str) -> String {
    format!("{stack}{INSTANCE_ROLE_SUFFIX}")
}

/// The instance profile holding [`instance_role`]: the same name.
pub fn instance_profile(stack: &str) -> String {
    instance_role(stack)
}

/// Elastic Beanstalk's service role, made when the program names no `service_role`.
pub fn service_role(stack: &str) -> String {
    format!("{stack}{SERVICE_ROLE_SUFFIX}")
}

/// Suffix of the ECS task execution role after the stack's name.
pub const EXECUTION_ROLE_SUFFIX: &str = "-ecs-exec";

/// The ECS task execution role, made when a container reads a managed password and the
/// program names no `execution_role` (and no `instance_profile`).
pub fn execution_role(stack: &str) -> String {
    format!("{stack}{EXECUTION_ROLE_SUFFIX}")
}

/// Every IAM role stackc may make for a stack, with the attribute that avoids making it.
pub fn roles(stack: &str) -> [(String, &'static str); 3] {
    [
        (service_role(stack), "service_role"),
        (instance_role(stack), "instance_profile"),
        (execution_role(stack), "execution_role"),
    ]
}

/// The inline policy of a role stackc makes that lets it read the managed passwords the
/// environment names (the instance role, for Elastic Beanstalk; the execution role, for ECS).
pub const SECRETS_POLICY: &str = "read-managed-passwords";

/// The inline policy of the instance role stackc makes that lets the instances pull the built
/// services' images from their repositories.
pub const IMAGES_POLICY: &str = "pull-built-images";

/// The inline policy of the instance role stackc makes that lets Elastic Beanstalk pass the
/// execution role to ECS.
pub const PASS_ROLE_POLICY: &str = "pass-execution-role";

/// The S3 prefix under which the stack's source bundles are uploaded.
pub fn bundle_prefix(stack: &str) -> String {
    format!("stackc/{stack}/")
}

/// The S3 key of the source bundle of version `label`.
pub fn bundle_key(stack: &str, label: &str) -> String {
    format!("{}{label}.zip", bundle_prefix(stack))
}

/// `v-` and the first 12 hex digits of the bundle's hash: same bundle, same label.
pub fn version_label(bundle_hash: &str) -> String {
    format!("v-{}", &bundle_hash[..bundle_hash.len().min(12)])
}

/// Whether `label` has the form of [`version_label`]: `v-` and 12 lowercase hex digits.
pub fn is_version_label(label: &str) -> bool {
    label
        .strip_prefix("v-")
        .is_some_and(|h| h.len() == 12 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// The prefix of Elastic Beanstalk's log groups ("For Linux platforms, prefix the on-instance
/// log file location with `/aws/elasticbeanstalk/environment_name`", Using Elastic Beanstalk
/// with Amazon CloudWatch Logs). The instance role's managed policy `AWSElasticBeanstalkWebTier`
/// may write to groups under it.
pub const EB_LOGS_PREFIX: &str = "/aws/elasticbeanstalk/";

/// The last part of the name of the log group the containers write to.
pub const CONTAINER_LOGS: &str = "containers";

/// The prefix of an environment's log groups.
pub fn environment_logs(env: &str) -> String {
    format!("{EB_LOGS_PREFIX}{env}/")
}

/// The log group the containers write to (the `awslogs` driver), next to the platform's.
pub fn container_log_group(env: &str) -> String {
    format!("{}{CONTAINER_LOGS}", environment_logs(env))
}

/// The log files the ECS platform streams when `StreamLogs` is on, each to the group of its
/// path under [`environment_logs`] (the "ECS on Docker" row of the table in "Using Elastic
/// Beanstalk with Amazon CloudWatch Logs").
pub const PLATFORM_LOG_FILES: [&str; 6] = [
    "/var/log/docker-events.log",
    "/var/log/eb-ecs-mgr.log",
    "/var/log/eb-engine.log",
    "/var/log/eb-hooks.log",
    "/var/log/ecs/ecs-agent.log",
    "/var/log/ecs/ecs-init.log",
];

/// The log group of one of [`PLATFORM_LOG_FILES`].
pub fn platform_log_group(env: &str, file: &str) -> String {
    format!("{}{}", environment_logs(env), file.trim_start_matches('/'))
}

/// The `awslogs-stream-prefix` of the containers: ECS names each stream
/// `<prefix>/<container>/<task id>` ("Using the awslogs log driver").
pub const LOG_STREAM_PREFIX: &str = "stackc";

/// The log stream prefix of one service's containers.
pub fn service_log_streams(service: &str) -> String {
    format!("{LOG_STREAM_PREFIX}/{service}/")
}

/// The ECR repository of a service built from a Dockerfile: `<base>/<service>`, where `base`
/// is [`base`] (each environment and preview has its own images).
pub fn repository(base: &str, service: &str) -> String {
    format!("{base}/{service}")
}

/// The final snapshot a deleted DB instance leaves: `<identifier>-final-<unix seconds>`.
pub fn final_snapshot(identifier: &str, unix_seconds: u64) -> String {
    format!("{identifier}-final-{unix_seconds}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(store_identifier("shop", "db"), "shop-db");
        assert_eq!(instance_profile("shop"), "shop-eb-ec2");
        assert_eq!(service_role("shop"), "shop-eb-service");
        assert_eq!(bundle_key("shop", "v-0123"), "stackc/shop/v-0123.zip");
        assert_eq!(
            repository("shop-production", "server"),
            "shop-production/server"
        );
        assert!(is_version_label(&version_label(&"ab12".repeat(16))));
        assert!(!is_version_label("v-0123") && !is_version_label("release-1.2"));
        assert!(!is_version_label("v-ABCDEF012345"));
        assert!(bundle_key("shop", "v-1").starts_with(&bundle_prefix("shop")));
        assert_eq!(version_label("0123456789abcdef"), "v-0123456789ab");
        assert_eq!(version_label("ab"), "v-ab");
        assert_eq!(
            final_snapshot("shop-db", 1_700_000_000),
            "shop-db-final-1700000000"
        );
    }
}
