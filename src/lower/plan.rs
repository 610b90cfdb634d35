//! `plan.json`: the ordered provisioning steps for an account that has none of the stack.
//!
//! Each step is one AWS resource of a type of `deploy::resources`, built as that type's typed
//! desired state; `plan.json` shows it as the API call that creates it (`service:Operation`, as
//! IAM names it) with the call's parameters. Values known only after an earlier step ran are
//! typed references to that step's outputs (`{"ref": "STEP.attribute"}` in JSON); a step
//! depends on every step it refers to, so `depends_on` is derived from the parameters and
//! cannot disagree with them (plus a few ordering-only dependencies: a role is used only once
//! all its policies are attached). `deploy` executes these steps.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;
use serde::ser::SerializeStruct;
use serde_json::Value;

use crate::check::{EnvValue, Export, Model, Password, Protocol, Scaling, Store, StoreKind, Tier};
use crate::deploy::resource::{Handle, Ref, TagMap, Tags, Val};
use crate::deploy::resources::app_servers::AppServers;
use crate::deploy::resources::app_version::{self, AppVersion, SourceBundle};
use crate::deploy::resources::application::{self, Application};
use crate::deploy::resources::bundle::{
    self, AwsLogs, Body, Bundle, DOCKERRUN, HTTPS_REDIRECT, StorageLocation,
};
use crate::deploy::resources::cache::{self, CacheCluster, ReplicationGroup};
use crate::deploy::resources::certificate::{self, Certificate, CertificateValidation};
use crate::deploy::resources::db_instance::{self, DbInstance};
use crate::deploy::resources::default_subnets::{self, DefaultSubnets};
use crate::deploy::resources::default_vpc::{self, DefaultVpc};
use crate::deploy::resources::dns::{self, DnsRecord, HostedZone};
use crate::deploy::resources::environment::{
    self, Environment, HTTPS_LISTENER, OptionSetting, PROPERTIES, TLS_POLICY,
};
use crate::deploy::resources::environment_properties::EnvironmentProperties;
use crate::deploy::resources::image::{self, Image};
use crate::deploy::resources::ingress::{GroupPair, Ingress, IpPermission, IpRange};
use crate::deploy::resources::instance_profile::{self, InstanceProfile, ProfileRole};
use crate::deploy::resources::load_balancer::{self, LoadBalancer};
use crate::deploy::resources::log_group::LogGroup;
use crate::deploy::resources::platform::{self, ECS_PLATFORM_BRANCH, Platform};
use crate::deploy::resources::repository::{self, Repository};
use crate::deploy::resources::role::{self, PolicyDocument, Role};
use crate::deploy::resources::role_policy::RolePolicy;
use crate::deploy::resources::role_policy_attachment::RolePolicyAttachment;
use crate::deploy::resources::security_group::{self, SecurityGroup};
use crate::deploy::resources::subnet_group::{self, CacheSubnetGroup, DbSubnetGroup};
use crate::deploy::resources::{Desired, Kind, Member};
use crate::naming;

/// AWS managed policies for the EB instance role and service role.
pub const INSTANCE_POLICIES: [&str; 2] = [
    "arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier",
    "arn:aws:iam::aws:policy/AWSElasticBeanstalkMulticontainerDocker",
];
/// The AWS managed policy of the ECS task execution role stackc makes (ECR pulls, logs).
pub const EXECUTION_POLICIES: [&str; 1] =
    ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"];
pub const SERVICE_POLICIES: [&str; 2] = [
    "arn:aws:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth",
    "arn:aws:iam::aws:policy/AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Plan {
    pub stack: String,
    /// The environment, when the file has several (each has its own resources).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// The environment is a template for previews (its instance, when deployed): its data is
    /// not kept when it is destroyed, and the deployer may act on every instance's names.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub template: bool,
    pub region: Option<String>,
    pub steps: Vec<Step>,
}

impl Plan {
    /// The base of the names of the plan's resources ([`naming::base`]).
    pub fn base(&self) -> String {
        naming::base(&self.stack, self.env.as_deref())
    }

    /// Whose resources the plan's deploy may change.
    pub fn owner(&self) -> crate::deploy::resource::Owner {
        crate::deploy::resource::Owner {
            stack: self.stack.clone(),
            env: self.env.clone(),
        }
    }
}

/// One resource of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    /// For people: `RDS instance shop-db`.
    pub resource: String,
    pub depends_on: Vec<String>,
    pub desired: Desired,
}

impl Step {
    pub fn kind(&self) -> Kind {
        self.desired.kind()
    }

    /// The API call that creates it, as IAM names it.
    pub fn action(&self) -> &'static str {
        self.kind().action()
    }

    /// Its parameters as `plan.json` shows them.
    pub fn params(&self) -> Value {
        serde_json::to_value(&self.desired).unwrap_or(Value::Null)
    }

    /// Its desired state, if it is of type `R`.
    pub fn desired_as<R: Member>(&self) -> Option<&R> {
        R::of(&self.desired)
    }
}

impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Step", 5)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("action", self.action())?;
        st.serialize_field("resource", &self.resource)?;
        st.serialize_field("depends_on", &self.depends_on)?;
        st.serialize_field("params", &self.desired)?;
        st.end()
    }
}

impl Plan {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The step of type `R` a reference points at.
    pub fn referred<R: Member, T>(&self, v: &Val<T>) -> Option<&R> {
        match v {
            Val::Ref { target } => self.step(target.parts().0)?.desired_as::<R>(),
            Val::Secret { .. } | Val::Lit(_) => None,
        }
    }
}

struct Builder<'m> {
    model: &'m Model,
    steps: Vec<Step>,
}

impl Builder<'_> {
    /// The tags of a resource made for the block (or role) `name`, and of the environment in
    /// a file with several.
    fn tags(&self, name: &str) -> Tags {
        let mut tags = Tags::of(&self.model.stack.name, name);
        if let Some(env) = self.model.scoped_env() {
            tags.0.push(crate::deploy::resource::Tag {
                key: naming::TAG_ENV.into(),
                value: env.into(),
            });
        }
        tags
    }

    fn add<R: Member + Into<Desired>>(
        &mut self,
        id: impl Into<String>,
        resource: impl Into<String>,
        desired: R,
    ) -> Handle<R> {
        self.add_after(id, resource, desired, &[])
    }

    /// A step that must also wait for `after`, steps whose outputs it does not read.
    fn add_after<R: Member + Into<Desired>>(
        &mut self,
        id: impl Into<String>,
        resource: impl Into<String>,
        desired: R,
        after: &[String],
    ) -> Handle<R> {
        let id = id.into();
        let desired: Desired = desired.into();
        let mut deps: BTreeSet<String> = after.iter().cloned().collect();
        collect_refs(
            &serde_json::to_value(&desired).unwrap_or(Value::Null),
            &mut deps,
        );
        self.steps.push(Step {
            id: id.clone(),
            resource: resource.into(),
            depends_on: deps.into_iter().collect(),
            desired,
        });
        Handle::new(id)
    }
}

/// The steps a value refers to.
fn collect_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m
                .get("ref")
                .and_then(|r| serde_json::from_value::<Ref>(r.clone()).ok())
            {
                out.insert(r.parts().0.to_string());
            }
            m.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// What a store is, as the plan made it: later steps read its endpoint.
enum StoreStep {
    Postgres(Handle<DbInstance>),
    Cluster(Handle<CacheCluster>),
    Group(Handle<ReplicationGroup>),
}

impl StoreStep {
    fn host(&self) -> Val<String> {
        match self {
            StoreStep::Postgres(h) => h.get(db_instance::HOST),
            StoreStep::Cluster(h) => h.get(cache::CLUSTER_HOST),
            StoreStep::Group(h) => h.get(cache::GROUP_HOST),
        }
    }

    fn port(&self) -> Val<String> {
        match self {
            StoreStep::Postgres(h) => h.get(db_instance::PORT),
            StoreStep::Cluster(h) => h.get(cache::CLUSTER_PORT),
            StoreStep::Group(h) => h.get(cache::GROUP_PORT),
        }
    }
}

/// The value of an env property that reads `store.export`, and whether it is a managed
/// password (a secret of Secrets Manager, read by Elastic Beanstalk itself).
fn export_value(store: &Store, step: &StoreStep, export: Export) -> Option<(Val<String>, bool)> {
    Some(match (&store.kind, export, step) {
        (_, Export::Host, _) => (step.host(), false),
        (_, Export::Port, _) => (step.port(), false),
        (StoreKind::Postgres(p), Export::Database, _) => (p.database.clone().into(), false),
        (StoreKind::Postgres(p), Export::Username, _) => (p.username.clone().into(), false),
        (StoreKind::Postgres(p), Export::Password, StoreStep::Postgres(h)) => match &p.password {
            Password::Managed => (h.get(db_instance::PASSWORD_SECRET), true),
            Password::Env(var) => (Val::secret(var.clone()), false),
        },
        // The checker only lets postgres export database, username and password.
        _ => return None,
    })
}

/// The whole plan. `bundle_hash` is the hex SHA-256 of `Dockerrun.aws.json`; `images` holds
/// the built services' `<repository>:<tag>` ([`super::Images`]).
pub fn plan(model: &Model, images: &super::Images, bundle_hash: &str) -> Plan {
    let mut b = Builder {
        model,
        steps: Vec::new(),
    };
    // The base of every derived name: the stack's, or `<stack>-<env>` with several environments.
    let base = model.base();
    let stack = &base;
    let env = &model.environment;
    let eb_env = model.eb_environment();

    let vpc = b.add("vpc", "default VPC", DefaultVpc::default());
    let subnets = b.add(
        "subnets",
        "default subnets",
        DefaultSubnets::of_vpc(vpc.get(default_vpc::VPC_ID)),
    );

    // Security groups: one for the instances (and one for the load balancer), one per store.
    let group = |b: &mut Builder<'_>, id: &str, name: String, tag: &str, what: String| {
        let tags = b.tags(tag);
        let sg = SecurityGroup::new(
            name.clone(),
            format!("stackc {stack}: {what}"),
            vpc.get(default_vpc::VPC_ID),
            tags,
        );
        b.add(id, format!("security group {name}"), sg)
    };
    let env_sg_name = naming::environment_security_group(&eb_env);
    let env_sg = group(
        &mut b,
        "sg.environment",
        env_sg_name.clone(),
        &env.name,
        format!("instances of {eb_env}"),
    );
    let lb = env.tier == Tier::LoadBalanced;
    let lb_sg_name = naming::load_balancer_security_group(&eb_env);
    let lb_sg = lb.then(|| {
        group(
            &mut b,
            "sg.load_balancer",
            lb_sg_name.clone(),
            &naming::load_balancer_tag(&env.name),
            format!("load balancer of {eb_env}"),
        )
    });
    let store_sgs: Vec<Handle<SecurityGroup>> = model
        .stores
        .iter()
        .map(|s| {
            let name = naming::store_security_group(stack, &s.name);
            group(
                &mut b,
                &format!("sg.{}", s.name),
                name,
                &s.name,
                format!("{} {}", kind_word(s), s.name),
            )
        })
        .collect();

    // Ingress: the firewall's port rules go where the traffic first lands.
    let mut public: Vec<IpPermission<_>> = Vec::new();
    let mut seen = HashSet::new();
    for i in &model.firewall.ingress {
        if !seen.insert((i.port, i.protocol, i.cidr.clone())) {
            continue;
        }
        public.push(IpPermission {
            protocol: i.protocol.as_str().into(),
            from: i.port.into(),
            to: i.port.into(),
            ranges: vec![IpRange {
                cidr: i.cidr.clone(),
                description: Some(format!("to service {}", i.service)),
            }],
            groups: Vec::new(),
        });
    }
    // HTTPS: port 443 of the load balancer, to whoever may reach port 80 (which redirects).
    if env.https.is_some() {
        let mut https = Vec::new();
        for i in &model.firewall.ingress {
            if i.port == 80
                && i.protocol == Protocol::Tcp
                && seen.insert((443, i.protocol, i.cidr.clone()))
            {
                https.push(IpPermission {
                    protocol: "tcp".into(),
                    from: 443,
                    to: 443,
                    ranges: vec![IpRange {
                        cidr: i.cidr.clone(),
                        description: Some(format!("HTTPS to service {}", i.service)),
                    }],
                    groups: Vec::new(),
                });
            }
        }
        public.extend(https);
    }
    if !public.is_empty() {
        let (id, target, name) = match &lb_sg {
            Some(lb_sg) => ("ingress.load_balancer", lb_sg, &lb_sg_name),
            None => ("ingress.environment", &env_sg, &env_sg_name),
        };
        b.add(
            id,
            format!("ingress rules of {name}"),
            Ingress {
                group_id: target.get(security_group::GROUP_ID),
                permissions: public,
            },
        );
    }
    if let Some(lb_sg) = &lb_sg {
        let mut ports: Vec<(u16, &str)> = model
            .firewall
            .ingress
            .iter()
            .map(|i| (i.port, i.protocol.as_str()))
            .collect();
        ports.sort_unstable();
        ports.dedup();
        let perms: Vec<IpPermission<_>> = ports
            .iter()
            .map(|&(p, proto)| IpPermission {
                protocol: proto.into(),
                from: p.into(),
                to: p.into(),
                ranges: Vec::new(),
                groups: vec![GroupPair {
                    group_id: lb_sg.get(security_group::GROUP_ID),
                    description: Some("from the load balancer".into()),
                }],
            })
            .collect();
        if !perms.is_empty() {
            b.add(
                "ingress.environment",
                format!("ingress rules of {env_sg_name}"),
                Ingress {
                    group_id: env_sg.get(security_group::GROUP_ID),
                    permissions: perms,
                },
            );
        }
    }
    for &i in &model.firewall.reachable_stores {
        let s = &model.stores[i];
        b.add(
            format!("ingress.{}", s.name),
            format!(
                "ingress rules of {}",
                naming::store_security_group(stack, &s.name)
            ),
            Ingress {
                group_id: store_sgs[i].get(security_group::GROUP_ID),
                permissions: vec![IpPermission {
                    protocol: "tcp".into(),
                    from: s.port().into(),
                    to: s.port().into(),
                    ranges: Vec::new(),
                    groups: vec![GroupPair {
                        group_id: env_sg.get(security_group::GROUP_ID),
                        description: Some(format!("from environment {eb_env}")),
                    }],
                }],
            },
        );
    }

    // Data stores, each in a subnet group of the default VPC's subnets.
    let subnet_ids = subnets.get(default_subnets::SUBNET_IDS);
    let store_steps: Vec<StoreStep> = model
        .stores
        .iter()
        .zip(&store_sgs)
        .map(|(s, sg)| {
            store_steps(
                &mut b,
                s,
                sg.get(security_group::GROUP_ID),
                subnet_ids.clone(),
            )
        })
        .collect();

    // IAM: what a new account lacks and the console would make.
    let mut instance_role = None;
    let instance_profile: Val<String> = match &env.instance_profile {
        Some(p) => p.clone().into(),
        None => {
            let name = naming::instance_role(stack);
            let (role, policies) = iam_role(
                &mut b,
                "iam.instance_role",
                &name,
                "ec2.amazonaws.com",
                &INSTANCE_POLICIES,
            );
            let profile_name = naming::instance_profile(stack);
            let tags = b.tags(&profile_name);
            let profile = b.add(
                "iam.instance_profile",
                format!("instance profile {profile_name}"),
                InstanceProfile {
                    name: profile_name.clone(),
                    tags,
                },
            );
            let holding = b.add_after(
                "iam.instance_profile.role",
                format!("role of instance profile {profile_name}"),
                ProfileRole {
                    profile: profile.get(instance_profile::PROFILE_NAME),
                    role: role.get(role::ROLE_NAME),
                },
                // The role goes into use with all its policies.
                &policies,
            );
            instance_role = Some(role);
            holding.get(instance_profile::HOLDING_PROFILE)
        }
    };
    let mut service_role_after = Vec::new();
    let service_role: Val<String> = match &env.service_role {
        Some(role) => role.clone().into(),
        None => {
            let name = naming::service_role(stack);
            let (role, policies) = iam_role(
                &mut b,
                "iam.service_role",
                &name,
                "elasticbeanstalk.amazonaws.com",
                &SERVICE_POLICIES,
            );
            service_role_after = policies;
            role.get(role::ROLE_NAME)
        }
    };

    // The ECS task execution role, when a container reads a managed password (ECS fetches
    // it with this role) and the program names none: stackc makes it when it also makes the
    // instance role, which must be allowed to pass it (the checker asks a program that names
    // its own instance profile to name the execution role too).
    let mut environment_after = service_role_after;
    let mut execution_role_made = None;
    let execution_role: Option<Val<String>> = match &env.execution_role {
        Some(arn) => Some(arn.clone().into()),
        None if instance_role.is_some() && super::reads_managed_password(model) => {
            let name = naming::execution_role(stack);
            let (role, policies) = iam_role(
                &mut b,
                "iam.execution_role",
                &name,
                "ecs-tasks.amazonaws.com",
                &EXECUTION_POLICIES,
            );
            environment_after.extend(policies);
            let arn = role.get(role::ARN);
            execution_role_made = Some(role);
            Some(arn)
        }
        None => None,
    };
    // Elastic Beanstalk passes the execution role to ECS as the instance role: the role stackc
    // makes may pass exactly that role, to ECS only.
    if let (Some(instance), Some(arn)) = (&instance_role, &execution_role) {
        let role = naming::instance_role(stack);
        b.add(
            "iam.instance_role.pass",
            format!("pass-role policy of role {role}"),
            RolePolicy {
                role: instance.get(role::ROLE_NAME),
                name: naming::PASS_ROLE_POLICY.into(),
                document: PolicyDocument::allow(
                    "iam:PassRole",
                    vec![arn.clone()],
                    Some(serde_json::json!({ "StringEquals": { "iam:PassedToService": "ecs-tasks.amazonaws.com" } })),
                ),
            },
        );
        environment_after.push("iam.instance_role.pass".into());
    }

    // Elastic Beanstalk: application, bundle, version, platform, environment.
    let app_tags = b.tags(stack);
    let app = b.add(
        "app",
        format!("application {stack}"),
        Application {
            name: stack.clone(),
            description: "managed by stackc".into(),
            tags: app_tags,
        },
    );
    let storage = b.add(
        "storage",
        "Elastic Beanstalk's S3 bucket",
        StorageLocation::default(),
    );
    // The containers write to a group of their own. Its name is known now: the bundle names
    // it without waiting for it, the environment (whose tasks write to it) waits.
    let log_group = naming::container_log_group(&eb_env);
    let log_tags = b.tags(&env.name);
    b.add(
        "logs",
        format!("log group {log_group}"),
        LogGroup {
            name: log_group.clone(),
            retention_days: env.log_days,
            tags: TagMap(log_tags),
        },
    );
    environment_after.push("logs".into());

    // Built services: a repository each, and the image of the tag that says what was built
    // (the content hash); they depend on nothing else, so they build beside the stores.
    let platform = crate::images::platform::Platform::of_instance_type(&env.instance_type);
    let mut built: std::collections::BTreeMap<String, Val<String>> = Default::default();
    let mut repositories: Vec<Val<String>> = Vec::new();
    for s in &model.services {
        let Some(build) = s.build() else { continue };
        let name = naming::repository(stack, &s.name);
        let repo_tags = b.tags(&s.name);
        let repo = b.add(
            format!("repo.{}", s.name),
            format!("ECR repository {name}"),
            Repository {
                name: name.clone(),
                tag_mutability: repository::IMMUTABLE.into(),
                scan_on_push: true,
                lifecycle_policy: Repository::keeping(env.keep_versions),
                tags: repo_tags,
            },
        );
        let tag = images
            .get(s.name.as_str())
            .and_then(|r| r.rsplit_once(':'))
            .map_or(super::UNBUILT_TAG, |(_, tag)| tag);
        let image = b.add(
            format!("image.{}", s.name),
            format!("image {name}:{tag}"),
            Image {
                repository: repo.get(repository::URI),
                tag: tag.to_string(),
                context: build.context.to_string(),
                dockerfile: build.dockerfile.to_string(),
                target: build.target.as_ref().map(|t| t.to_string()),
                args: build.args.clone(),
                platform: platform.as_str().into(),
            },
        );
        built.insert(s.name.to_string(), image.get(image::REFERENCE));
        repositories.push(repo.get(repository::ARN));
    }
    // The instances pull them with the instance role ("Authenticating with image repositories",
    // Elastic Beanstalk: a token from the account, the layers of exactly these repositories).
    // A profile the program names is the program's to grant.
    if let (Some(role), false) = (&instance_role, repositories.is_empty()) {
        let name = naming::instance_role(stack);
        let allow = |action: &str, resource: Vec<Val<String>>| role::Statement {
            effect: "Allow".into(),
            action: action.into(),
            resource,
            condition: None,
        };
        b.add(
            "iam.instance_role.images",
            format!("image pull policy of role {name}"),
            RolePolicy {
                role: role.get(role::ROLE_NAME),
                name: naming::IMAGES_POLICY.into(),
                document: PolicyDocument {
                    version: "2012-10-17".into(),
                    statement: vec![
                        allow("ecr:GetAuthorizationToken", vec![Val::Lit("*".into())]),
                        allow("ecr:BatchCheckLayerAvailability", repositories.clone()),
                        allow("ecr:GetDownloadUrlForLayer", repositories.clone()),
                        allow("ecr:BatchGetImage", repositories),
                    ],
                },
            },
        );
        environment_after.push("iam.instance_role.images".into());
    }

    let label = naming::version_label(bundle_hash);
    let key = naming::bundle_key(stack, &label);
    let upload = b.add(
        "bundle",
        format!("source bundle {key}"),
        Bundle {
            bucket: storage.get(bundle::S3_BUCKET),
            key,
            body: Body {
                zip: std::iter::once(DOCKERRUN)
                    .chain(bundle_extras(model))
                    .map(String::from)
                    .collect(),
                // The ARN of a role stackc makes holds the account's id, known at apply.
                execution_role: execution_role_made.as_ref().map(|r| r.get(role::ARN)),
                awslogs: Some(AwsLogs {
                    group: Val::Lit(log_group),
                    stream_prefix: naming::LOG_STREAM_PREFIX.into(),
                }),
                // Each built service runs its image by digest, known once it is pushed.
                images: built,
            },
        },
    );
    let version_tags = b.tags(stack);
    let version = b.add(
        "version",
        format!("application version {label}"),
        AppVersion {
            application: app.get(application::NAME),
            label: label.clone(),
            bundle: SourceBundle {
                bucket: upload.get(bundle::BUCKET),
                key: upload.get(bundle::KEY),
            },
            process: true,
            keep: model.environment.keep_versions,
            tags: version_tags,
        },
    );
    let platform = b.add(
        "platform",
        format!("newest recommended \"{ECS_PLATFORM_BRANCH}\" platform"),
        Platform::newest(ECS_PLATFORM_BRANCH),
    );

    // HTTPS: the certificate (requested for the domain and validated through DNS, unless
    // the program names one), and the domain's hosted zone, where its records go.
    let zone = env
        .https
        .as_ref()
        .and_then(|h| h.domain.as_ref())
        .map(|domain| {
            b.add(
                "dns.zone",
                format!("public hosted zone of {domain}"),
                HostedZone {
                    domain: domain.clone(),
                },
            )
        });
    let certificate_arn: Option<Val<String>> =
        match env.https.as_ref().map(|h| (&h.domain, &h.certificate)) {
            None => None,
            Some((_, Some(arn))) => Some(arn.clone().into()),
            Some((Some(domain), None)) => {
                let zone_id = zone
                    .as_ref()
                    .map_or_else(|| String::new().into(), |z| z.get(dns::ZONE_ID));
                let tags = b.tags(domain);
                let cert = b.add(
                    "certificate",
                    format!("ACM certificate for {domain}"),
                    Certificate::dns(domain, tags),
                );
                let record = b.add(
                    "certificate.record",
                    format!("validation record of the certificate for {domain}"),
                    DnsRecord::cname(
                        zone_id.clone(),
                        cert.get(certificate::RECORD_NAME),
                        cert.get(certificate::RECORD_VALUE),
                    ),
                );
                let validation = b.add_after(
                    "certificate.validation",
                    format!("validation of the certificate for {domain}"),
                    CertificateValidation {
                        certificate: cert.get(certificate::CERTIFICATE_ARN),
                        zone: zone_id,
                    },
                    &[record.id().to_string()],
                );
                Some(validation.get(certificate::VALIDATED_ARN))
            }
            // The checker gives HTTPS a domain or a certificate.
            Some((None, None)) => None,
        };

    let launch = "aws:autoscaling:launchconfiguration";
    let mut options: Vec<OptionSetting<_>> = vec![
        // `aws:autoscaling:launchconfiguration/InstanceType` is obsolete: Elastic Beanstalk
        // ignores it once `InstanceTypes` is set ("General options for all environments").
        OptionSetting::new(
            "aws:ec2:instances",
            "InstanceTypes",
            env.instance_type.clone(),
        ),
        OptionSetting::new(launch, "IamInstanceProfile", instance_profile),
        OptionSetting::new(
            launch,
            "SecurityGroups",
            env_sg.get(security_group::GROUP_ID),
        ),
        // Without this EB adds its own group, which admits port 80 from anywhere.
        OptionSetting::new(launch, "DisableDefaultEC2SecurityGroup", "true".to_string()),
        OptionSetting::new(
            "aws:elasticbeanstalk:environment",
            "EnvironmentType",
            if lb { "LoadBalanced" } else { "SingleInstance" }.to_string(),
        ),
        OptionSetting::new(
            "aws:elasticbeanstalk:environment",
            "ServiceRole",
            service_role,
        ),
        OptionSetting::new(
            "aws:elasticbeanstalk:healthreporting:system",
            "SystemType",
            "enhanced".to_string(),
        ),
        // The platform's own logs (the ECS agent's, Elastic Beanstalk's) stream to CloudWatch
        // Logs too, kept as long as the containers'.
        OptionSetting::new(
            "aws:elasticbeanstalk:cloudwatch:logs",
            "StreamLogs",
            "true".to_string(),
        ),
        OptionSetting::new(
            "aws:elasticbeanstalk:cloudwatch:logs",
            "RetentionInDays",
            env.log_days.to_string(),
        ),
    ];
    if let Some(lb_sg) = &lb_sg {
        options.push(OptionSetting::new(
            "aws:elasticbeanstalk:environment",
            "LoadBalancerType",
            "application".to_string(),
        ));
        options.push(OptionSetting::new(
            "aws:elbv2:loadbalancer",
            "SecurityGroups",
            lb_sg.get(security_group::GROUP_ID),
        ));
        options.push(OptionSetting::new(
            "aws:elbv2:loadbalancer",
            "ManagedSecurityGroup",
            lb_sg.get(security_group::GROUP_ID),
        ));
        options.extend(listeners(model, certificate_arn));
    }
    if let Some(scaling) = &env.scaling {
        options.extend(scaling_options(scaling));
    }
    // Properties that need a store's endpoint go in a second step, so the environment (minutes
    // to create) and the stores (minutes too) are created at the same time, not one after the
    // other. The rest is known up front and goes in the creation call.
    let (late, early): (Vec<Property>, Vec<Property>) = env_properties(model, &store_steps)
        .into_iter()
        .partition(|p| matches!(p.option.value, Val::Ref { .. }));
    options.extend(early.into_iter().map(|p| p.option));
    let env_tags = b.tags(&env.name);
    let environment = b.add_after(
        "environment",
        format!("environment {eb_env}"),
        Environment {
            application: app.get(application::NAME),
            name: eb_env.clone(),
            platform: platform.get(platform::PLATFORM_ARN),
            version: version.get(app_version::LABEL),
            options,
            tags: env_tags,
        },
        &environment_after,
    );
    // The domain's alias to the load balancer, in its hosted zone (or printed for the user).
    if let (Some(zone), Some(domain)) = (&zone, env.https.as_ref().and_then(|h| h.domain.as_ref()))
    {
        let lb = b.add(
            "load_balancer",
            format!("load balancer of environment {eb_env}"),
            LoadBalancer {
                environment: environment.get(environment::ENVIRONMENT_NAME),
            },
        );
        b.add(
            "dns.alias",
            format!("DNS record {domain}"),
            DnsRecord::alias(
                zone.get(dns::ZONE_ID),
                domain,
                lb.get(load_balancer::DNS_NAME),
                lb.get(load_balancer::HOSTED_ZONE_ID),
            ),
        );
    }
    if !late.is_empty() {
        // The instances fetch `environmentsecrets` with the instance profile's role: the role
        // stackc makes may read exactly the secrets the environment names, before it names
        // them. (A profile the program names is the program's to grant.)
        let mut secrets: Vec<Val<String>> = Vec::new();
        for p in late.iter().filter(|p| p.managed_secret) {
            if let Some(store) = p.store {
                if let StoreStep::Postgres(h) = &store_steps[store] {
                    let arn = h.get(db_instance::SECRET_ARN);
                    if !secrets.contains(&arn) {
                        secrets.push(arn);
                    }
                }
            }
        }
        secrets.sort_by_key(|v| serde_json::to_string(v).unwrap_or_default());
        // Elastic Beanstalk reads them with the instance role, ECS with the execution role: the
        // roles stackc makes may read exactly these secrets, before the environment names them.
        let mut after = Vec::new();
        let readers = [
            (
                "iam.instance_role.secrets",
                naming::instance_role(stack),
                &instance_role,
            ),
            (
                "iam.execution_role.secrets",
                naming::execution_role(stack),
                &execution_role_made,
            ),
        ];
        for (id, name, role) in readers {
            if let (Some(role), false) = (role, secrets.is_empty()) {
                b.add(
                    id,
                    format!("secrets policy of role {name}"),
                    RolePolicy {
                        role: role.get(role::ROLE_NAME),
                        name: naming::SECRETS_POLICY.into(),
                        document: PolicyDocument::allow(
                            "secretsmanager:GetSecretValue",
                            secrets.clone(),
                            None,
                        ),
                    },
                );
                after.push(id.to_string());
            }
        }
        let environment_name = environment.get(environment::ENVIRONMENT_NAME);
        b.add_after(
            "environment.stores",
            format!("store endpoints of environment {eb_env}"),
            EnvironmentProperties {
                environment: environment_name.clone(),
                options: late.into_iter().map(|p| p.option).collect(),
            },
            &after,
        );
        // Tasks load their secrets when they start: a rotation restarts them.
        if !secrets.is_empty() {
            b.add_after(
                "environment.app_servers",
                format!("app servers of environment {eb_env}"),
                AppServers {
                    environment: environment_name,
                    secrets_loaded: secrets,
                },
                &["environment.stores".to_string()],
            );
        }
    }

    Plan {
        stack: model.stack.name.clone(),
        env: model.scoped_env().map(str::to_string),
        template: model.environment.template,
        region: model.stack.region.clone(),
        steps: b.steps,
    }
}

/// The files of the source bundle besides the Dockerrun: with HTTPS, the configuration that
/// makes port 80 redirect to it.
pub fn bundle_extras(model: &Model) -> Vec<&'static str> {
    match model.environment.https {
        Some(_) => vec![HTTPS_REDIRECT],
        None => Vec::new(),
    }
}

/// Elastic Beanstalk's default scaling trigger ("General options for all environments",
/// `aws:autoscaling:trigger`): average outbound network traffic of 6 MB per instance adds
/// one, 2 MB removes one. Written out when the program sets no CPU target, so that removing
/// `target_cpu_percent` restores it.
const DEFAULT_TRIGGER: [(&str, &str); 4] = [
    ("MeasureName", "NetworkOut"),
    ("Unit", "Bytes"),
    ("UpperThreshold", "6000000"),
    ("LowerThreshold", "2000000"),
];

/// The Auto Scaling group's bounds and trigger. A CPU target `T` adds an instance when the
/// average CPU of the group stays above `T` % (for the trigger's 5-minute breach) and removes
/// one below `T / 2` %: after removing one of `n` instances the others take at most
/// `n / (n - 1) <= 2` times their load, which stays below `T`, so a removal never calls for
/// an addition at once.
fn scaling_options(s: &Scaling) -> Vec<OptionSetting<crate::deploy::resource::Planned>> {
    let asg = "aws:autoscaling:asg";
    let trigger = "aws:autoscaling:trigger";
    let mut options = vec![
        OptionSetting::new(asg, "MinSize", s.min.to_string()),
        OptionSetting::new(asg, "MaxSize", s.max.to_string()),
    ];
    match s.cpu_percent {
        Some(t) => options.extend([
            OptionSetting::new(trigger, "MeasureName", "CPUUtilization".to_string()),
            OptionSetting::new(trigger, "Unit", "Percent".to_string()),
            OptionSetting::new(trigger, "UpperThreshold", t.to_string()),
            OptionSetting::new(trigger, "LowerThreshold", (t / 2).to_string()),
        ]),
        None => options.extend(
            DEFAULT_TRIGGER
                .iter()
                .map(|(name, value)| OptionSetting::new(trigger, name, value.to_string())),
        ),
    }
    options
}

/// The load balancer's listeners besides Elastic Beanstalk's default one (HTTP on port 80,
/// forwarded to port 80 of the instances): for every other TCP port a rule opens, an HTTP
/// listener on that port and a process that forwards it to the same port of the instances.
/// (The checker refuses UDP rules on a load-balanced environment.) Port 443 is HTTPS with
/// `certificate` (forwarded to the default process, port 80, like the default listener), an
/// HTTP listener when a rule opens it, and otherwise disabled, so that a program that drops
/// HTTPS closes it.
fn listeners(
    model: &Model,
    certificate: Option<Val<String>>,
) -> Vec<OptionSetting<crate::deploy::resource::Planned>> {
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
    for &p in &ports {
        let process = format!("port{p}");
        let process_ns = format!("aws:elasticbeanstalk:environment:process:{process}");
        options.push(OptionSetting::new(&process_ns, "Port", p.to_string()));
        options.push(OptionSetting::new(
            &process_ns,
            "Protocol",
            "HTTP".to_string(),
        ));
        let listener_ns = format!("aws:elbv2:listener:{p}");
        options.push(OptionSetting::new(
            &listener_ns,
            "ListenerEnabled",
            "true".to_string(),
        ));
        options.push(OptionSetting::new(
            &listener_ns,
            "Protocol",
            "HTTP".to_string(),
        ));
        options.push(OptionSetting::new(&listener_ns, "DefaultProcess", process));
    }
    let enabled = |on: bool| OptionSetting::new(HTTPS_LISTENER, "ListenerEnabled", on.to_string());
    match certificate {
        Some(arn) => options.extend([
            enabled(true),
            OptionSetting::new(HTTPS_LISTENER, "Protocol", "HTTPS".to_string()),
            OptionSetting::new(HTTPS_LISTENER, "SSLCertificateArns", arn),
            OptionSetting::new(HTTPS_LISTENER, "SSLPolicy", TLS_POLICY.to_string()),
        ]),
        None if !ports.contains(&443) => options.push(enabled(false)),
        None => {}
    }
    options
}

fn kind_word(s: &Store) -> &'static str {
    match s.kind {
        StoreKind::Postgres(_) => "postgres",
        StoreKind::Redis(_) => "redis",
    }
}

/// An environment property the program sets.
struct Property {
    option: OptionSetting<crate::deploy::resource::Planned>,
    /// The store it reads, if any.
    store: Option<usize>,
    /// A managed password: a secret Elastic Beanstalk fetches.
    managed_secret: bool,
}

/// Env values that read a store or a secret become EB environment properties, by key (the
/// checker guarantees one binding per key).
fn env_properties(model: &Model, stores: &[StoreStep]) -> Vec<Property> {
    let mut props: Vec<(&str, Val<String>, Option<usize>, bool)> = Vec::new();
    let mut seen = HashSet::new();
    for svc in &model.services {
        for e in &svc.env {
            let (value, store, managed) = match &e.value {
                EnvValue::Literal(_) => continue,
                EnvValue::Secret(var) => (Val::secret(var.to_string()), None, false),
                EnvValue::Store { store, export } => {
                    let Some((v, managed)) =
                        export_value(&model.stores[*store], &stores[*store], *export)
                    else {
                        continue;
                    };
                    (v, Some(*store), managed)
                }
            };
            if seen.insert(e.key.as_str()) {
                props.push((&e.key, value, store, managed));
            }
        }
    }
    props.sort_by(|a, b| a.0.cmp(b.0));
    props
        .into_iter()
        .map(|(k, v, store, managed)| {
            let ns = if managed {
                format!("{PROPERTIES}secrets")
            } else {
                PROPERTIES.to_string()
            };
            Property {
                option: OptionSetting::new(&ns, k, v),
                store,
                managed_secret: managed,
            }
        })
        .collect()
}

/// A role trusted by `principal`, with its managed policies attached (in parallel: each
/// attachment needs only the role). Returns the role and the attachment steps.
fn iam_role(
    b: &mut Builder<'_>,
    id: &str,
    name: &str,
    principal: &str,
    policies: &[&str],
) -> (Handle<Role>, Vec<String>) {
    let tags = b.tags(name);
    let role = b.add(
        id,
        format!("role {name}"),
        Role::trusting(name, principal, tags),
    );
    let mut steps = Vec::new();
    for (i, p) in policies.iter().enumerate() {
        let step = format!("{id}.policy.{}", i + 1);
        b.add(
            step.clone(),
            format!(
                "policy {} of role {name}",
                p.rsplit('/').next().unwrap_or(p)
            ),
            RolePolicyAttachment {
                role: role.get(role::ROLE_NAME),
                policy: p.to_string(),
            },
        );
        steps.push(step);
    }
    (role, steps)
}

fn store_steps(
    b: &mut Builder<'_>,
    s: &Store,
    sg: Val<String>,
    subnets: Val<Vec<String>>,
) -> StoreStep {
    let model = b.model;
    let id = format!("store.{}", s.name);
    let subnet_group = naming::subnet_group(&model.base(), &s.name);
    let description = format!("stackc {}: subnets of {}", model.base(), s.name);
    let tags = b.tags(&s.name);
    match &s.kind {
        StoreKind::Postgres(p) => {
            let group = b.add(
                format!("{id}.subnets"),
                format!("DB subnet group {subnet_group}"),
                DbSubnetGroup {
                    name: subnet_group,
                    description,
                    subnets,
                    tags: tags.clone(),
                },
            );
            let (managed, password) = match &p.password {
                Password::Managed => (true, None),
                Password::Env(var) => (false, Some(Val::secret(var.clone()))),
            };
            StoreStep::Postgres(b.add(
                id,
                format!("RDS instance {}", p.identifier),
                DbInstance {
                    identifier: p.identifier.clone(),
                    engine: "postgres".into(),
                    engine_version: p.version.clone(),
                    class: p.class.clone(),
                    storage_gib: p.storage_gib,
                    db_name: p.database.clone(),
                    username: p.username.clone(),
                    managed_password: managed,
                    password,
                    backup_days: p.backup_days.into(),
                    deletion_protection: p.deletion_protection,
                    multi_az: p.multi_az,
                    encrypted: p.encrypted,
                    public: p.public,
                    security_groups: vec![sg],
                    subnet_group: group.get(subnet_group::DB_NAME),
                    copy_tags: true,
                    tags,
                },
            ))
        }
        StoreKind::Redis(rd) => {
            let group = b.add(
                format!("{id}.subnets"),
                format!("cache subnet group {subnet_group}"),
                CacheSubnetGroup {
                    name: subnet_group,
                    description,
                    subnets,
                    tags: tags.clone(),
                },
            );
            if rd.is_replication_group() {
                StoreStep::Group(b.add(
                    id,
                    format!("ElastiCache replication group {}", rd.identifier),
                    ReplicationGroup {
                        id: rd.identifier.clone(),
                        description: format!("stackc {}: {}", model.base(), s.name),
                        engine: rd.engine.as_str().into(),
                        engine_version: rd.version.clone(),
                        node_type: rd.node_type.clone(),
                        clusters: u32::from(rd.replicas) + 1,
                        failover: rd.replicas > 0,
                        transit_encryption: rd.encrypted,
                        at_rest_encryption: rd.encrypted,
                        subnet_group: group.get(subnet_group::CACHE_NAME),
                        security_groups: vec![sg],
                        tags,
                    },
                ))
            } else {
                StoreStep::Cluster(b.add(
                    id,
                    format!("ElastiCache cluster {}", rd.identifier),
                    CacheCluster {
                        id: rd.identifier.clone(),
                        engine: rd.engine.as_str().into(),
                        engine_version: rd.version.clone(),
                        node_type: rd.node_type.clone(),
                        nodes: 1,
                        subnet_group: group.get(subnet_group::CACHE_NAME),
                        security_groups: vec![sg],
                        tags,
                    },
                ))
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
        options_in(&super::plan(
            &model,
            &Default::default(),
            "0123456789abcdef",
        ))
    }

    /// The environment step's option settings: (namespace, name, value).
    fn options_in(plan: &super::Plan) -> Vec<(String, String, Value)> {
        let env = plan.step("environment").expect("an environment step");
        env.params()["OptionSettings"]
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

    /// Port 80 is Elastic Beanstalk's default listener; a load balancer without HTTPS keeps
    /// 443 disabled (so that dropping HTTPS closes it); a single instance has no listener.
    #[test]
    fn port_80_and_single_instances_add_no_listener() {
        let listening = |src: &str| -> Vec<(String, String, Value)> {
            options_of(src)
                .into_iter()
                .filter(|(ns, _, _)| ns.contains(":listener:") || ns.contains(":process:"))
                .collect()
        };
        let lb = program("load_balanced", "80:8080", "allow 80 from internet to web");
        assert_eq!(
            listening(&lb),
            [(
                "aws:elbv2:listener:443".to_string(),
                "ListenerEnabled".to_string(),
                Value::from("false")
            )]
        );
        let single = program(
            "single",
            "80, 8080, 53/udp",
            "allow 80, 8080, 53/udp from internet to web",
        );
        assert!(listening(&single).is_empty());
    }

    fn plan_of(src: &str) -> super::Plan {
        let parsed = crate::syntax::parse(src);
        let checked = crate::check::check(&parsed.file.expect("parses"));
        let model = checked
            .model
            .unwrap_or_else(|| panic!("{:?}", checked.errors));
        crate::lower::lower(&model).plan
    }

    fn option<'a>(opts: &'a [(String, String, Value)], ns: &str, name: &str) -> Option<&'a Value> {
        opts.iter()
            .find(|(n, o, _)| n == ns && o == name)
            .map(|(_, _, v)| v)
    }

    const HTTPS: &str = "stack app { }\n\
        environment app-env { tier = load_balanced domain = \"app.example.com\" }\n\
        service web { image = \"nginx\" memory = 128 MiB essential = true ports = [80] }\n\
        firewall { allow 80 from internet, 10.0.0.0/8 to web }\n";

    /// A domain gets a certificate validated through DNS before the environment uses it on
    /// port 443, with the recommended TLS policy, opened to the sources of port 80 (which the
    /// bundle's configuration redirects), and an alias to the load balancer once it exists.
    #[test]
    fn a_domain_is_served_over_https() {
        let plan = plan_of(HTTPS);
        let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
        for id in [
            "dns.zone",
            "certificate",
            "certificate.record",
            "certificate.validation",
            "load_balancer",
            "dns.alias",
        ] {
            assert!(ids.contains(&id), "{id} in {ids:?}");
        }
        let deps = |id: &str| plan.step(id).expect("a step").depends_on.clone();
        assert_eq!(deps("certificate.record"), ["certificate", "dns.zone"]);
        assert_eq!(
            deps("certificate.validation"),
            ["certificate", "certificate.record", "dns.zone"]
        );
        assert!(deps("environment").contains(&"certificate.validation".to_string()));
        assert_eq!(deps("load_balancer"), ["environment"]);
        assert_eq!(deps("dns.alias"), ["dns.zone", "load_balancer"]);
        let opts = options_in(&plan);
        let l = "aws:elbv2:listener:443";
        assert_eq!(
            option(&opts, l, "ListenerEnabled"),
            Some(&Value::from("true"))
        );
        assert_eq!(option(&opts, l, "Protocol"), Some(&Value::from("HTTPS")));
        assert_eq!(
            option(&opts, l, "SSLPolicy"),
            Some(&Value::from(super::TLS_POLICY))
        );
        assert_eq!(
            option(&opts, l, "SSLCertificateArns"),
            Some(&serde_json::json!({"ref": "certificate.validation.certificate_arn"}))
        );
        let bundle = plan.step("bundle").expect("the bundle").params();
        assert_eq!(
            bundle["Body"]["zip"],
            serde_json::json!(["Dockerrun.aws.json", super::HTTPS_REDIRECT])
        );
        let ingress = plan
            .step("ingress.load_balancer")
            .expect("the load balancer's rules")
            .params();
        let https: Vec<&Value> = ingress["IpPermissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter(|p| p["FromPort"] == 443)
            .collect();
        let sources: Vec<&Value> = https
            .iter()
            .flat_map(|p| p["IpRanges"].as_array().expect("ranges"))
            .map(|r| &r["CidrIp"])
            .collect();
        assert_eq!(
            sources,
            [&Value::from("0.0.0.0/0"), &Value::from("10.0.0.0/8")]
        );
        let instances = plan
            .step("ingress.environment")
            .expect("the instances' rules")
            .params();
        assert!(
            !instances.to_string().contains("443"),
            "the instances get HTTP on port 80 only: {instances}"
        );
    }

    /// A certificate the program names is used as it is: nothing to request or validate,
    /// and without a domain no DNS record; and the bundle's hash changes the version label.
    #[test]
    fn a_named_certificate_is_used_as_it_is() {
        let arn =
            "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        let src = HTTPS.replace(
            "domain = \"app.example.com\"",
            &format!("certificate = \"{arn}\""),
        );
        let plan = plan_of(&src);
        assert!(
            plan.steps
                .iter()
                .all(|s| !s.id.starts_with("certificate") && !s.id.starts_with("dns.")),
            "{:?}",
            plan.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
        );
        let opts = options_of(&src);
        assert_eq!(
            option(&opts, "aws:elbv2:listener:443", "SSLCertificateArns"),
            Some(&Value::from(arn))
        );
        let label = |p: &super::Plan| {
            p.step("version").expect("a version").params()["VersionLabel"].clone()
        };
        let plain = plan_of(&HTTPS.replace(" domain = \"app.example.com\"", ""));
        assert_ne!(
            label(&plan),
            label(&plain),
            "the redirect is part of the version"
        );
    }

    /// With several environments HTTPS and scaling are each environment's own: staging,
    /// written without them, gets no certificate, no DNS record and none of production's
    /// scaling; production's certificate carries its environment's tag, and its load
    /// balancer is looked up by its own environment's name.
    #[test]
    fn https_and_scaling_stay_in_their_environment() {
        let src = "stack app { }\n\
            environment staging { tier = load_balanced }\n\
            environment production { tier = load_balanced domain = \"app.example.com\" max_instances = 8 }\n\
            service web { image = \"nginx\" memory = 128 MiB essential = true ports = [80] }\n\
            firewall { allow 80 from internet to web }\n";
        let compiled = crate::compile_with(src, &crate::check::lints::Options::default());
        assert!(
            compiled.diagnostics.is_empty(),
            "{:?}",
            compiled.diagnostics
        );
        let plans: Vec<super::Plan> = compiled
            .models
            .iter()
            .map(|m| crate::lower::lower(m).plan)
            .collect();
        let [staging, production] = plans.as_slice() else {
            panic!("two plans: {plans:?}");
        };
        let ids: Vec<&str> = staging.steps.iter().map(|s| s.id.as_str()).collect();
        assert!(
            ids.iter().all(|id| !id.starts_with("certificate")
                && !id.starts_with("dns.")
                && *id != "load_balancer"),
            "{ids:?}"
        );
        let (l, asg) = ("aws:elbv2:listener:443", "aws:autoscaling:asg");
        let (staging_opts, production_opts) = (options_in(staging), options_in(production));
        assert_eq!(
            option(&staging_opts, l, "ListenerEnabled"),
            Some(&Value::from("false"))
        );
        assert_eq!(option(&staging_opts, l, "SSLCertificateArns"), None);
        assert_eq!(
            option(&staging_opts, asg, "MaxSize"),
            Some(&Value::from("4"))
        );
        assert_eq!(
            option(&production_opts, l, "ListenerEnabled"),
            Some(&Value::from("true"))
        );
        assert_eq!(
            option(&production_opts, asg, "MaxSize"),
            Some(&Value::from("8"))
        );
        let bundle =
            |p: &super::Plan| p.step("bundle").expect("a bundle").params()["Body"]["zip"].clone();
        assert_eq!(bundle(staging), serde_json::json!(["Dockerrun.aws.json"]));
        assert_eq!(
            bundle(production),
            serde_json::json!(["Dockerrun.aws.json", super::HTTPS_REDIRECT])
        );
        let cert = production
            .step("certificate")
            .expect("a certificate")
            .params();
        let tags: Vec<(&str, &str)> = cert["Tags"]
            .as_array()
            .expect("tags")
            .iter()
            .map(|t| {
                (
                    t["Key"].as_str().unwrap_or_default(),
                    t["Value"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            tags,
            [
                ("stackc:stack", "app"),
                ("stackc:name", "app.example.com"),
                ("stackc:env", "production")
            ]
        );
        let lb = production.step("load_balancer").expect("the lookup");
        assert_eq!(lb.resource, "load balancer of environment app-production");
        assert_eq!(
            lb.params()["EnvironmentName"],
            serde_json::json!({"ref": "environment.environment_name"})
        );
        assert_eq!(
            production
                .step("environment")
                .expect("an environment")
                .params()["EnvironmentName"],
            "app-production"
        );
    }

    /// The Auto Scaling group's bounds, and a CPU trigger with its hysteresis; without a
    /// target, Elastic Beanstalk's own trigger is written out.
    #[test]
    fn scaling_lowers_to_the_group_and_its_trigger() {
        let src = program("load_balanced", "80", "allow 80 from internet to web").replace(
            "tier = load_balanced",
            "tier = load_balanced min_instances = 2 max_instances = 9 target_cpu_percent = 65",
        );
        let opts = options_of(&src);
        let (asg, trigger) = ("aws:autoscaling:asg", "aws:autoscaling:trigger");
        assert_eq!(option(&opts, asg, "MinSize"), Some(&Value::from("2")));
        assert_eq!(option(&opts, asg, "MaxSize"), Some(&Value::from("9")));
        assert_eq!(
            option(&opts, trigger, "MeasureName"),
            Some(&Value::from("CPUUtilization"))
        );
        assert_eq!(
            option(&opts, trigger, "Unit"),
            Some(&Value::from("Percent"))
        );
        assert_eq!(
            option(&opts, trigger, "UpperThreshold"),
            Some(&Value::from("65"))
        );
        assert_eq!(
            option(&opts, trigger, "LowerThreshold"),
            Some(&Value::from("32"))
        );
        let defaults = options_of(&program(
            "load_balanced",
            "80",
            "allow 80 from internet to web",
        ));
        assert_eq!(option(&defaults, asg, "MinSize"), Some(&Value::from("1")));
        assert_eq!(option(&defaults, asg, "MaxSize"), Some(&Value::from("4")));
        assert_eq!(
            option(&defaults, trigger, "MeasureName"),
            Some(&Value::from("NetworkOut"))
        );
        assert_eq!(
            option(&defaults, trigger, "UpperThreshold"),
            Some(&Value::from("6000000"))
        );
        let single = options_of(&program("single", "80", "allow 80 from internet to web"));
        assert!(
            single
                .iter()
                .all(|(ns, _, _)| !ns.starts_with("aws:autoscaling:asg")
                    && !ns.starts_with("aws:autoscaling:trigger")),
            "{single:?}"
        );
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
        let plan = super::plan(&model, &Default::default(), "0123456789abcdef");
        plan.steps
            .into_iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no step {id}"))
            .params()
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
