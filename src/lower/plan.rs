//! `plan.json`: the ordered provisioning steps for an account that has none of the stack.
//!
//! Each step is one AWS API call, named `service:Operation` as IAM names it, with parameters
//! named as the API names them. Values known only after an earlier step ran appear as
//! `{"ref": "STEP.attribute"}`; a step depends on every step it refers to, so `depends_on` is
//! derived from the parameters and cannot disagree with them (plus a few ordering-only
//! dependencies: a role is used only once all its policies are attached). `deploy` executes
//! these steps.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;
use serde_json::{Value, json};

use crate::check::{EnvValue, Export, Model, Password, Protocol, Store, StoreKind, Tier};

/// The platform branch `platform = ecs` resolves to, newest recommended version at apply time.
pub const ECS_PLATFORM_BRANCH: &str = "ECS running on 64bit Amazon Linux 2023";

/// AWS managed policies for the EB instance role and service role.
pub const INSTANCE_POLICIES: [&str; 2] = [
    "arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier",
    "arn:aws:iam::aws:policy/AWSElasticBeanstalkMulticontainerDocker",
];
pub const SERVICE_POLICIES: [&str; 2] = [
    "arn:aws:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth",
    "arn:aws:iam::aws:policy/AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Plan {
    pub stack: String,
    pub region: Option<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Step {
    pub id: String,
    pub action: String,
    pub resource: String,
    pub depends_on: Vec<String>,
    pub params: Value,
}

fn r(step: &str, attr: &str) -> Value {
    json!({ "ref": format!("{step}.{attr}") })
}

struct Builder<'m> {
    model: &'m Model,
    steps: Vec<Step>,
}

impl Builder<'_> {
    fn tags(&self, name: &str) -> Value {
        json!([
            { "Key": "stackc:stack", "Value": self.model.stack.name },
            { "Key": "stackc:name", "Value": name },
        ])
    }

    fn step(
        &mut self,
        id: impl Into<String>,
        action: &str,
        resource: impl Into<String>,
        params: Value,
    ) {
        self.step_after(id, action, resource, params, &[]);
    }

    /// A step that must also wait for `after`, steps whose outputs it does not read.
    fn step_after(
        &mut self,
        id: impl Into<String>,
        action: &str,
        resource: impl Into<String>,
        params: Value,
        after: &[String],
    ) {
        let mut deps: BTreeSet<String> = after.iter().cloned().collect();
        collect_refs(&params, &mut deps);
        self.steps.push(Step {
            id: id.into(),
            action: action.into(),
            resource: resource.into(),
            depends_on: deps.into_iter().collect(),
            params,
        });
    }

    fn security_group(&mut self, id: &str, group_name: &str, tag_name: &str, description: &str) {
        let tags = self.tags(tag_name);
        self.step(
            id,
            "ec2:CreateSecurityGroup",
            format!("security group {group_name}"),
            json!({
                "GroupName": group_name,
                "Description": description,
                "VpcId": r("vpc", "vpc_id"),
                "TagSpecifications": [{ "ResourceType": "security-group", "Tags": tags }],
            }),
        );
    }
}

fn collect_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(s)) = m.get("ref") {
                if let Some((step, _)) = s.rsplit_once('.') {
                    out.insert(step.to_string());
                }
            }
            m.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Names of the resources stackc creates; shared with deploy so both agree.
pub mod names {
    use crate::check::Model;

    pub fn env_security_group(m: &Model) -> String {
        m.environment.name.clone()
    }
    pub fn lb_security_group(m: &Model) -> String {
        format!("{}-lb", m.environment.name)
    }
    pub fn store_security_group(m: &Model, store: &str) -> String {
        format!("{}-{store}", m.stack.name)
    }
    pub fn subnet_group(m: &Model, store: &str) -> String {
        format!("{}-{store}", m.stack.name)
    }
    pub fn instance_role(m: &Model) -> String {
        format!("{}-eb-ec2", m.stack.name)
    }
    pub fn service_role(m: &Model) -> String {
        format!("{}-eb-service", m.stack.name)
    }
}

/// The step id of a store's resource.
fn store_step(s: &Store) -> String {
    format!("store.{}", s.name)
}

/// The value of an env property that reads `store.export`.
fn export_value(store: &Store, export: Export) -> Value {
    let id = store_step(store);
    match (&store.kind, export) {
        (_, Export::Host) => r(&id, "host"),
        (_, Export::Port) => r(&id, "port"),
        (StoreKind::Postgres(p), Export::Database) => json!(p.database),
        (StoreKind::Postgres(p), Export::Username) => json!(p.username),
        (StoreKind::Postgres(p), Export::Password) => match &p.password {
            Password::Managed => r(&id, "password_secret"),
            Password::Env(var) => json!({ "secret": var }),
        },
        // The checker only lets postgres export database, username and password.
        (StoreKind::Redis(_), _) => Value::Null,
    }
}

/// The whole plan. `bundle_hash` is the hex SHA-256 of `Dockerrun.aws.json`.
pub fn plan(model: &Model, bundle_hash: &str) -> Plan {
    let mut b = Builder {
        model,
        steps: Vec::new(),
    };
    let stack = &model.stack.name;
    let env = &model.environment;

    b.step(
        "vpc",
        "ec2:DescribeVpcs",
        "default VPC",
        json!({ "Filters": [{ "Name": "isDefault", "Values": ["true"] }] }),
    );
    b.step(
        "subnets",
        "ec2:DescribeSubnets",
        "default subnets",
        json!({ "Filters": [
            { "Name": "vpc-id", "Values": [r("vpc", "vpc_id")] },
            { "Name": "default-for-az", "Values": ["true"] },
        ] }),
    );

    // Security groups: one for the instances (and one for the load balancer), one per store.
    let env_sg = names::env_security_group(model);
    b.security_group(
        "sg.environment",
        &env_sg,
        &env.name,
        &format!("stackc {stack}: instances of {}", env.name),
    );
    let lb = env.tier == Tier::LoadBalanced;
    if lb {
        let lb_sg = names::lb_security_group(model);
        b.security_group(
            "sg.load_balancer",
            &lb_sg,
            &format!("{}/lb", env.name),
            &format!("stackc {stack}: load balancer of {}", env.name),
        );
    }
    for s in &model.stores {
        let name = names::store_security_group(model, &s.name);
        b.security_group(
            &format!("sg.{}", s.name),
            &name,
            &s.name,
            &format!("stackc {stack}: {} {}", kind_word(s), s.name),
        );
    }

    // Ingress: the firewall's port rules go where the traffic first lands.
    let ingress_target = if lb {
        "sg.load_balancer"
    } else {
        "sg.environment"
    };
    let mut public: Vec<Value> = Vec::new();
    let mut seen = HashSet::new();
    for i in &model.firewall.ingress {
        if !seen.insert((i.port, i.protocol, i.cidr.clone())) {
            continue;
        }
        public.push(json!({
            "IpProtocol": i.protocol.as_str(),
            "FromPort": i.port,
            "ToPort": i.port,
            "IpRanges": [{ "CidrIp": i.cidr, "Description": format!("to service {}", i.service) }],
        }));
    }
    if !public.is_empty() {
        b.step(
            format!("ingress.{}", ingress_target.trim_start_matches("sg.")),
            "ec2:AuthorizeSecurityGroupIngress",
            format!(
                "ingress rules of {}",
                if lb {
                    names::lb_security_group(model)
                } else {
                    env_sg.clone()
                }
            ),
            json!({ "GroupId": r(ingress_target, "group_id"), "IpPermissions": public }),
        );
    }
    if lb {
        let mut ports: Vec<(u16, &str)> = model
            .firewall
            .ingress
            .iter()
            .map(|i| (i.port, i.protocol.as_str()))
            .collect();
        ports.sort_unstable();
        ports.dedup();
        let perms: Vec<Value> = ports
            .iter()
            .map(|(p, proto)| json!({
                "IpProtocol": proto,
                "FromPort": p,
                "ToPort": p,
                "UserIdGroupPairs": [{ "GroupId": r("sg.load_balancer", "group_id"), "Description": "from the load balancer" }],
            }))
            .collect();
        if !perms.is_empty() {
            b.step(
                "ingress.environment",
                "ec2:AuthorizeSecurityGroupIngress",
                format!("ingress rules of {env_sg}"),
                json!({ "GroupId": r("sg.environment", "group_id"), "IpPermissions": perms }),
            );
        }
    }
    for &i in &model.firewall.reachable_stores {
        let s = &model.stores[i];
        b.step(
            format!("ingress.{}", s.name),
            "ec2:AuthorizeSecurityGroupIngress",
            format!("ingress rules of {}", names::store_security_group(model, &s.name)),
            json!({
                "GroupId": r(&format!("sg.{}", s.name), "group_id"),
                "IpPermissions": [{
                    "IpProtocol": "tcp",
                    "FromPort": s.port(),
                    "ToPort": s.port(),
                    "UserIdGroupPairs": [{ "GroupId": r("sg.environment", "group_id"), "Description": format!("from environment {}", env.name) }],
                }],
            }),
        );
    }

    // Data stores, each in a subnet group of the default VPC's subnets.
    for s in &model.stores {
        store_steps(&mut b, s);
    }

    // IAM: what a new account lacks and the console would make.
    let instance_profile = match &env.instance_profile {
        Some(p) => json!(p),
        None => {
            iam_role(
                &mut b,
                "iam.instance_role",
                &names::instance_role(model),
                "ec2.amazonaws.com",
                &INSTANCE_POLICIES,
            );
            let name = names::instance_role(model);
            let tags = b.tags(&name);
            b.step(
                "iam.instance_profile",
                "iam:CreateInstanceProfile",
                format!("instance profile {name}"),
                json!({ "InstanceProfileName": name, "Tags": tags }),
            );
            b.step_after(
                "iam.instance_profile.role",
                "iam:AddRoleToInstanceProfile",
                format!("role of instance profile {name}"),
                json!({
                    "InstanceProfileName": r("iam.instance_profile", "instance_profile_name"),
                    "RoleName": r("iam.instance_role", "role_name"),
                }),
                // The role goes into use with all its policies.
                &policy_steps("iam.instance_role", &INSTANCE_POLICIES),
            );
            r("iam.instance_profile.role", "instance_profile_name")
        }
    };
    let mut service_role_after = Vec::new();
    let service_role = match &env.service_role {
        Some(role) => json!(role),
        None => {
            iam_role(
                &mut b,
                "iam.service_role",
                &names::service_role(model),
                "elasticbeanstalk.amazonaws.com",
                &SERVICE_POLICIES,
            );
            service_role_after = policy_steps("iam.service_role", &SERVICE_POLICIES);
            r("iam.service_role", "role_name")
        }
    };

    // Elastic Beanstalk: application, bundle, version, platform, environment.
    let app_tags = b.tags(stack);
    b.step(
        "app",
        "elasticbeanstalk:CreateApplication",
        format!("application {stack}"),
        json!({ "ApplicationName": stack, "Description": "managed by stackc", "Tags": app_tags }),
    );
    b.step(
        "storage",
        "elasticbeanstalk:CreateStorageLocation",
        "Elastic Beanstalk's S3 bucket",
        json!({}),
    );
    let label = version_label(bundle_hash);
    let key = format!("stackc/{stack}/{label}.zip");
    b.step(
        "bundle",
        "s3:PutObject",
        format!("source bundle {key}"),
        json!({
            "Bucket": r("storage", "s3_bucket"),
            "Key": key,
            "Body": { "zip": ["Dockerrun.aws.json"] },
        }),
    );
    let version_tags = b.tags(stack);
    b.step(
        "version",
        "elasticbeanstalk:CreateApplicationVersion",
        format!("application version {label}"),
        json!({
            "ApplicationName": r("app", "application_name"),
            "VersionLabel": label,
            "SourceBundle": { "S3Bucket": r("bundle", "bucket"), "S3Key": r("bundle", "key") },
            "Process": true,
            "Tags": version_tags,
        }),
    );
    b.step(
        "platform",
        "elasticbeanstalk:ListPlatformVersions",
        format!("newest recommended \"{ECS_PLATFORM_BRANCH}\" platform"),
        json!({ "Filters": [
            { "Type": "PlatformBranchName", "Operator": "=", "Values": [ECS_PLATFORM_BRANCH] },
            { "Type": "PlatformLifecycleState", "Operator": "=", "Values": ["Recommended"] },
        ] }),
    );

    let mut options = vec![
        opt(
            "aws:autoscaling:launchconfiguration",
            "InstanceType",
            json!(env.instance_type),
        ),
        opt(
            "aws:autoscaling:launchconfiguration",
            "IamInstanceProfile",
            instance_profile,
        ),
        opt(
            "aws:autoscaling:launchconfiguration",
            "SecurityGroups",
            r("sg.environment", "group_id"),
        ),
        // Without this EB adds its own group, which admits port 80 from anywhere.
        opt(
            "aws:autoscaling:launchconfiguration",
            "DisableDefaultEC2SecurityGroup",
            json!("true"),
        ),
        opt(
            "aws:elasticbeanstalk:environment",
            "EnvironmentType",
            json!(if lb { "LoadBalanced" } else { "SingleInstance" }),
        ),
        opt(
            "aws:elasticbeanstalk:environment",
            "ServiceRole",
            service_role,
        ),
        opt(
            "aws:elasticbeanstalk:healthreporting:system",
            "SystemType",
            json!("enhanced"),
        ),
    ];
    if lb {
        options.push(opt(
            "aws:elasticbeanstalk:environment",
            "LoadBalancerType",
            json!("application"),
        ));
        options.push(opt(
            "aws:elbv2:loadbalancer",
            "SecurityGroups",
            r("sg.load_balancer", "group_id"),
        ));
        options.push(opt(
            "aws:elbv2:loadbalancer",
            "ManagedSecurityGroup",
            r("sg.load_balancer", "group_id"),
        ));
        options.extend(listeners(model));
    }
    // Properties that need a store's endpoint go in a second step, so the environment (minutes
    // to create) and the stores (minutes too) are created at the same time, not one after the
    // other. The rest is known up front and goes in the creation call.
    let (late, early): (Vec<Value>, Vec<Value>) =
        env_properties(model).into_iter().partition(|o| {
            let mut refs = BTreeSet::new();
            collect_refs(o, &mut refs);
            !refs.is_empty()
        });
    options.extend(early);
    let env_tags = b.tags(&env.name);
    b.step_after(
        "environment",
        "elasticbeanstalk:CreateEnvironment",
        format!("environment {}", env.name),
        json!({
            "ApplicationName": r("app", "application_name"),
            "EnvironmentName": env.name,
            "PlatformArn": r("platform", "platform_arn"),
            "VersionLabel": r("version", "version_label"),
            "OptionSettings": options,
            "Tags": env_tags,
        }),
        &service_role_after,
    );
    if !late.is_empty() {
        // The instances fetch `environmentsecrets` with the instance profile's role: the role
        // stackc makes may read exactly the secrets the environment names, before it names
        // them. (A profile the program names is the program's to grant.)
        let secrets: BTreeSet<&str> = late
            .iter()
            .filter_map(|o| o["Value"]["ref"].as_str()?.strip_suffix(".password_secret"))
            .collect();
        let secrets: Vec<Value> = secrets.iter().map(|s| r(s, "secret_arn")).collect();
        let mut after = Vec::new();
        if env.instance_profile.is_none() && !secrets.is_empty() {
            let role = names::instance_role(model);
            b.step(
                "iam.instance_role.secrets",
                "iam:PutRolePolicy",
                format!("secrets policy of role {role}"),
                json!({
                    "RoleName": r("iam.instance_role", "role_name"),
                    "PolicyName": SECRETS_POLICY,
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Action": "secretsmanager:GetSecretValue",
                            "Resource": secrets,
                        }],
                    },
                }),
            );
            after.push("iam.instance_role.secrets".to_string());
        }
        b.step_after(
            "environment.stores",
            "elasticbeanstalk:UpdateEnvironment",
            format!("store endpoints of environment {}", env.name),
            json!({
                "EnvironmentName": r("environment", "environment_name"),
                "OptionSettings": late,
            }),
            &after,
        );
    }

    Plan {
        stack: stack.clone(),
        region: model.stack.region.clone(),
        steps: b.steps,
    }
}

/// `v-` and the first 12 hex digits of the bundle's hash: same bundle, same label.
pub fn version_label(bundle_hash: &str) -> String {
    format!("v-{}", &bundle_hash[..bundle_hash.len().min(12)])
}

/// The load balancer's listeners besides Elastic Beanstalk's default one (HTTP on port 80,
/// forwarded to port 80 of the instances): for every other TCP port a rule opens, an HTTP
/// listener on that port and a process that forwards it to the same port of the instances.
/// (The checker refuses UDP rules on a load-balanced environment.)
fn listeners(model: &Model) -> Vec<Value> {
    let mut ports: Vec<u16> = model
        .firewall
        .ingress
        .iter()
        .filter(|i| i.protocol == Protocol::Tcp && i.port != 80)
        .map(|i| i.port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    let mut options = Vec::with_capacity(ports.len() * 5);
    for p in ports {
        let process = format!("port{p}");
        let process_ns = format!("aws:elasticbeanstalk:environment:process:{process}");
        options.push(opt(&process_ns, "Port", json!(p.to_string())));
        options.push(opt(&process_ns, "Protocol", json!("HTTP")));
        let listener_ns = format!("aws:elbv2:listener:{p}");
        options.push(opt(&listener_ns, "ListenerEnabled", json!("true")));
        options.push(opt(&listener_ns, "Protocol", json!("HTTP")));
        options.push(opt(&listener_ns, "DefaultProcess", json!(process)));
    }
    options
}

fn kind_word(s: &Store) -> &'static str {
    match s.kind {
        StoreKind::Postgres(_) => "postgres",
        StoreKind::Redis(_) => "redis",
    }
}

fn opt(namespace: &str, name: &str, value: Value) -> Value {
    json!({ "Namespace": namespace, "OptionName": name, "Value": value })
}

/// Env values that read a store or a secret become EB environment properties, by key (the
/// checker guarantees one binding per key).
fn env_properties(model: &Model) -> Vec<Value> {
    let mut props: Vec<(&str, Value, bool)> = Vec::new();
    let mut seen = HashSet::new();
    for svc in &model.services {
        for e in &svc.env {
            let (value, secret) = match &e.value {
                EnvValue::Literal(_) => continue,
                EnvValue::Secret(var) => (json!({ "secret": var }), false),
                EnvValue::Store { store, export } => {
                    let s = &model.stores[*store];
                    let v = export_value(s, *export);
                    let managed = v
                        .get("ref")
                        .and_then(Value::as_str)
                        .is_some_and(|r| r.ends_with(".password_secret"));
                    (v, managed)
                }
            };
            if seen.insert(e.key.as_str()) {
                props.push((&e.key, value, secret));
            }
        }
    }
    props.sort_by(|a, b| a.0.cmp(b.0));
    props
        .into_iter()
        .map(|(k, v, secret)| {
            let ns = if secret {
                "aws:elasticbeanstalk:application:environmentsecrets"
            } else {
                "aws:elasticbeanstalk:application:environment"
            };
            opt(ns, k, v)
        })
        .collect()
}

/// The inline policy of the instance role that lets instances read the managed passwords.
pub const SECRETS_POLICY: &str = "read-managed-passwords";

fn iam_role(b: &mut Builder<'_>, id: &str, name: &str, principal: &str, policies: &[&str]) {
    let tags = b.tags(name);
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Principal": { "Service": principal }, "Action": "sts:AssumeRole" }],
    });
    b.step(
        id,
        "iam:CreateRole",
        format!("role {name}"),
        json!({ "RoleName": name, "AssumeRolePolicyDocument": trust.to_string(), "Tags": tags }),
    );
    // In parallel: each attachment needs only the role.
    for (step, p) in policy_steps(id, policies).into_iter().zip(policies) {
        b.step(
            step,
            "iam:AttachRolePolicy",
            format!(
                "policy {} of role {name}",
                p.rsplit('/').next().unwrap_or(p)
            ),
            json!({ "RoleName": r(id, "role_name"), "PolicyArn": p }),
        );
    }
}

fn policy_steps(role_step: &str, policies: &[&str]) -> Vec<String> {
    (1..=policies.len())
        .map(|i| format!("{role_step}.policy.{i}"))
        .collect()
}

fn store_steps(b: &mut Builder<'_>, s: &Store) {
    let model = b.model;
    let id = store_step(s);
    let subnet_group = names::subnet_group(model, &s.name);
    let sg = r(&format!("sg.{}", s.name), "group_id");
    let tags = b.tags(&s.name);
    match &s.kind {
        StoreKind::Postgres(p) => {
            b.step(
                format!("{id}.subnets"),
                "rds:CreateDBSubnetGroup",
                format!("DB subnet group {subnet_group}"),
                json!({
                    "DBSubnetGroupName": subnet_group,
                    "DBSubnetGroupDescription": format!("stackc {}: subnets of {}", model.stack.name, s.name),
                    "SubnetIds": r("subnets", "subnet_ids"),
                    "Tags": tags,
                }),
            );
            let mut params = json!({
                "DBInstanceIdentifier": p.identifier,
                "Engine": "postgres",
                "EngineVersion": p.version,
                "DBInstanceClass": p.class,
                "AllocatedStorage": p.storage_gib,
                "DBName": p.database,
                "MasterUsername": p.username,
            });
            let m = params.as_object_mut().expect("params is an object");
            match &p.password {
                Password::Managed => m.insert("ManageMasterUserPassword".into(), json!(true)),
                Password::Env(var) => {
                    m.insert("MasterUserPassword".into(), json!({ "secret": var }))
                }
            };
            m.insert("BackupRetentionPeriod".into(), json!(p.backup_days));
            m.insert("DeletionProtection".into(), json!(p.deletion_protection));
            m.insert("MultiAZ".into(), json!(p.multi_az));
            m.insert("StorageEncrypted".into(), json!(p.encrypted));
            m.insert("PubliclyAccessible".into(), json!(p.public));
            m.insert("VpcSecurityGroupIds".into(), json!([sg]));
            m.insert(
                "DBSubnetGroupName".into(),
                r(&format!("{id}.subnets"), "name"),
            );
            m.insert("CopyTagsToSnapshot".into(), json!(true));
            m.insert("Tags".into(), tags);
            b.step(
                id,
                "rds:CreateDBInstance",
                format!("RDS instance {}", p.identifier),
                params,
            );
        }
        StoreKind::Redis(rd) => {
            b.step(
                format!("{id}.subnets"),
                "elasticache:CreateCacheSubnetGroup",
                format!("cache subnet group {subnet_group}"),
                json!({
                    "CacheSubnetGroupName": subnet_group,
                    "CacheSubnetGroupDescription": format!("stackc {}: subnets of {}", model.stack.name, s.name),
                    "SubnetIds": r("subnets", "subnet_ids"),
                    "Tags": tags,
                }),
            );
            let subnets = r(&format!("{id}.subnets"), "name");
            if rd.is_replication_group() {
                b.step(
                    id,
                    "elasticache:CreateReplicationGroup",
                    format!("ElastiCache replication group {}", rd.identifier),
                    json!({
                        "ReplicationGroupId": rd.identifier,
                        "ReplicationGroupDescription": format!("stackc {}: {}", model.stack.name, s.name),
                        "Engine": rd.engine.as_str(),
                        "EngineVersion": rd.version,
                        "CacheNodeType": rd.node_type,
                        "NumCacheClusters": u32::from(rd.replicas) + 1,
                        "AutomaticFailoverEnabled": rd.replicas > 0,
                        "TransitEncryptionEnabled": rd.encrypted,
                        "AtRestEncryptionEnabled": rd.encrypted,
                        "CacheSubnetGroupName": subnets,
                        "SecurityGroupIds": [sg],
                        "Tags": tags,
                    }),
                );
            } else {
                b.step(
                    id,
                    "elasticache:CreateCacheCluster",
                    format!("ElastiCache cluster {}", rd.identifier),
                    json!({
                        "CacheClusterId": rd.identifier,
                        "Engine": rd.engine.as_str(),
                        "EngineVersion": rd.version,
                        "CacheNodeType": rd.node_type,
                        "NumCacheNodes": 1,
                        "CacheSubnetGroupName": subnets,
                        "SecurityGroupIds": [sg],
                        "Tags": tags,
                    }),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn options_of(src: &str) -> Vec<(String, String, Value)> {
        let parsed = crate::syntax::parse(src);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let checked = crate::check::check(&parsed.file.expect("parses"));
        let model = checked
            .model
            .unwrap_or_else(|| panic!("{:?}", checked.errors));
        let plan = super::plan(&model, "0123456789abcdef");
        let env = plan
            .steps
            .iter()
            .find(|s| s.id == "environment")
            .expect("an environment step");
        env.params["OptionSettings"]
            .as_array()
            .expect("option settings")
            .iter()
            .map(|o| {
                (
                    o["Namespace"].as_str().unwrap_or_default().to_string(),
                    o["OptionName"].as_str().unwrap_or_default().to_string(),
                    o["Value"].clone(),
                )
            })
            .collect()
    }

    fn program(tier: &str, ports: &str, rules: &str) -> String {
        format!(
            "stack app {{ }}\n\
             environment app-env {{ tier = {tier} }}\n\
             service web {{ image = \"nginx\" memory = 128 MiB essential = true ports = [{ports}] }}\n\
             firewall {{ {rules} }}\n"
        )
    }

    #[test]
    fn a_load_balancer_listens_on_every_tcp_port_a_rule_opens() {
        let src = program(
            "load_balanced",
            "80, 8080:3000, 443:8443",
            "allow 80, 8080 from internet to web allow 443 from 10.0.0.0/8 to web allow 8080 from 10.0.0.0/8 to web",
        );
        let opts = options_of(&src);
        let ours: Vec<(String, String, String)> = opts
            .iter()
            .filter(|(ns, _, _)| ns.contains(":listener:") || ns.contains(":process:"))
            .map(|(ns, n, v)| {
                (
                    ns.clone(),
                    n.clone(),
                    v.as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let want = |ns: &str, n: &str, v: &str| (ns.to_string(), n.to_string(), v.to_string());
        assert_eq!(
            ours,
            [
                want(
                    "aws:elasticbeanstalk:environment:process:port443",
                    "Port",
                    "443"
                ),
                want(
                    "aws:elasticbeanstalk:environment:process:port443",
                    "Protocol",
                    "HTTP"
                ),
                want("aws:elbv2:listener:443", "ListenerEnabled", "true"),
                want("aws:elbv2:listener:443", "Protocol", "HTTP"),
                want("aws:elbv2:listener:443", "DefaultProcess", "port443"),
                want(
                    "aws:elasticbeanstalk:environment:process:port8080",
                    "Port",
                    "8080"
                ),
                want(
                    "aws:elasticbeanstalk:environment:process:port8080",
                    "Protocol",
                    "HTTP"
                ),
                want("aws:elbv2:listener:8080", "ListenerEnabled", "true"),
                want("aws:elbv2:listener:8080", "Protocol", "HTTP"),
                want("aws:elbv2:listener:8080", "DefaultProcess", "port8080"),
            ]
        );
    }

    #[test]
    fn port_80_and_single_instances_add_no_listener() {
        for src in [
            program("load_balanced", "80:8080", "allow 80 from internet to web"),
            program(
                "single",
                "80, 8080, 53/udp",
                "allow 80, 8080, 53/udp from internet to web",
            ),
        ] {
            let opts = options_of(&src);
            assert!(
                !opts
                    .iter()
                    .any(|(ns, _, _)| ns.contains(":listener:") || ns.contains(":process:")),
                "{opts:?}"
            );
        }
    }
}

#[cfg(test)]
mod engine_tests {
    use serde_json::Value;

    fn store_params(src: &str, id: &str) -> Value {
        let parsed = crate::syntax::parse(src);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let checked = crate::check::check(&parsed.file.expect("parses"));
        let model = checked
            .model
            .unwrap_or_else(|| panic!("{:?}", checked.errors));
        let plan = super::plan(&model, "0123456789abcdef");
        plan.steps
            .into_iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no step {id}"))
            .params
    }

    const SRC: &str = r#"
        stack app { }
        environment app-env { }
        service web { image = "a" memory = 128 MiB essential = true env { A = a.host B = b.host C = c.host } }
        redis a { }
        redis b { engine = valkey }
        redis c { engine = valkey version = "7.2" replicas = 1 }
        firewall { allow a, b, c from web }
    "#;

    #[test]
    fn redis_stores_lower_their_engine() {
        let a = store_params(SRC, "store.a");
        assert_eq!(
            (a["Engine"].as_str(), a["EngineVersion"].as_str()),
            (Some("redis"), Some("7.1"))
        );
        let b = store_params(SRC, "store.b");
        assert_eq!(
            (b["Engine"].as_str(), b["EngineVersion"].as_str()),
            (Some("valkey"), Some("8.0"))
        );
        assert!(
            b.get("CacheClusterId").is_some(),
            "a single node is a cache cluster"
        );
        let c = store_params(SRC, "store.c");
        assert_eq!(
            (c["Engine"].as_str(), c["EngineVersion"].as_str()),
            (Some("valkey"), Some("7.2"))
        );
        assert!(
            c.get("ReplicationGroupId").is_some(),
            "replicas make a replication group"
        );
    }
}
