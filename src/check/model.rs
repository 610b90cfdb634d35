//! The checked model: what a program means, with every name resolved and every default
//! filled in. Lowering and deploy read only this.

use std::collections::BTreeMap;

use compact_str::CompactString;

/// A whole checked program.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub stack: Stack,
    pub environment: Environment,
    /// In source order.
    pub services: Vec<Service>,
    /// Data stores in source order.
    pub stores: Vec<Store>,
    pub firewall: Firewall,
    /// The names of every environment of the file, in source order; `environment` is one of
    /// them.
    pub environments: Vec<String>,
}

impl Model {
    /// The environment whose resources are kept apart from the others' (named and tagged
    /// after it): a preview instance, a template, or the environment in a file with several.
    /// With one ordinary environment, names stay the stack's.
    pub fn scoped_env(&self) -> Option<&str> {
        let env = &self.environment;
        match &env.instance {
            Some(instance) => Some(instance),
            None => (self.environments.len() > 1 || env.template).then_some(env.name.as_str()),
        }
    }

    /// The base of the names of the environment's resources ([`crate::naming::base`]).
    pub fn base(&self) -> String {
        crate::naming::base(&self.stack.name, self.scoped_env())
    }

    /// The Elastic Beanstalk environment's name: the block's, or with several environments the
    /// base `<stack>-<env>` (environment names, like the security groups named after them,
    /// must not collide with another stack's `staging`).
    pub fn eb_environment(&self) -> String {
        match self.scoped_env() {
            Some(_) => self.base(),
            None => self.environment.name.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    pub name: String,
    pub region: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Single,
    LoadBalanced,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Environment {
    pub name: String,
    pub instance_type: String,
    pub tier: Tier,
    pub execution_role: Option<String>,
    pub instance_profile: Option<String>,
    pub service_role: Option<String>,
    /// Days CloudWatch Logs keeps the logs (one of `attrs::LOG_DAYS_ALLOWED`).
    pub log_days: u64,
    /// HTTPS on the load balancer; only a load-balanced environment has it.
    pub https: Option<Https>,
    /// The Auto Scaling group's bounds and trigger; only a load-balanced environment has
    /// them (a single instance is a group of one).
    pub scaling: Option<Scaling>,
    /// How many application versions apply keeps (`keep_versions`).
    pub keep_versions: u32,
    /// A template for preview environments (`template = true`).
    pub template: bool,
    /// CI applies it only after a person approves (`approval = true`).
    pub approval: bool,
    /// The preview this model is, an instance of the template (`--name pr-42`); its name
    /// replaces the environment's in every derived name.
    pub instance: Option<String>,
}

/// HTTPS on the load balancer's port 443, with port 80 redirecting to it. At least one of
/// the two is set.
#[derive(Clone, Debug, PartialEq)]
pub struct Https {
    /// The domain served: apply requests its certificate (unless `certificate` is set) and
    /// writes its DNS records when Route 53 hosts its zone.
    pub domain: Option<String>,
    /// The ARN of an existing ACM certificate.
    pub certificate: Option<String>,
}

/// The Auto Scaling group of a load-balanced environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scaling {
    pub min: u32,
    pub max: u32,
    /// Average CPU (percent) above which an instance is added; `None`: Elastic Beanstalk's
    /// default trigger (outbound network traffic).
    pub cpu_percent: Option<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortMapping {
    pub host: u16,
    pub container: u16,
    pub protocol: Protocol,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    pub name: CompactString,
    /// The image the container runs: one to pull, or one stackc builds.
    pub source: ImageSource,
    /// MiB.
    pub memory: Option<u32>,
    /// MiB.
    pub memory_reservation: Option<u32>,
    pub essential: bool,
    pub hostname: Option<CompactString>,
    pub ports: Vec<PortMapping>,
    pub links: Vec<CompactString>,
    pub command: Option<Vec<CompactString>>,
    pub entrypoint: Option<Vec<CompactString>>,
    pub working_dir: Option<CompactString>,
    /// In source order.
    pub env: Vec<EnvVar>,
}

impl Service {
    /// The image `image = "..."` names; None for a service built from a Dockerfile.
    pub fn image(&self) -> Option<&str> {
        match &self.source {
            ImageSource::Image(image) => Some(image),
            ImageSource::Build(_) => None,
        }
    }

    /// How the service's image is built; None for a service that names its image.
    pub fn build(&self) -> Option<&Build> {
        match &self.source {
            ImageSource::Image(_) => None,
            ImageSource::Build(build) => Some(build),
        }
    }
}

/// Where a service's image comes from: a service has exactly one source.
#[derive(Clone, Debug, PartialEq)]
pub enum ImageSource {
    /// `image = "..."`: an image someone pushed, pulled as named.
    Image(CompactString),
    /// `build = "DIR"` or `build { ... }`: built from a Dockerfile (boxed: most services name
    /// an image, and a big file has thousands).
    Build(Box<Build>),
}

// A big file has thousands of services: the (rarer) build is boxed, so that a source takes no
// more room than the image name it replaced.
#[cfg(target_pointer_width = "64")]
const _SOURCE_SIZE: () = assert!(size_of::<ImageSource>() == size_of::<CompactString>());

/// A build of a service's image from a Dockerfile.
#[derive(Clone, Debug, PartialEq)]
pub struct Build {
    /// The build context, a directory, as written: relative to the `.stack` file's directory.
    pub context: CompactString,
    /// The Dockerfile, relative to the context (`Dockerfile` unless written); never absolute,
    /// never outside the context.
    pub dockerfile: CompactString,
    /// The stage of a multi-stage Dockerfile to build (`--target`); the last one when None.
    pub target: Option<CompactString>,
    /// The build arguments (`--build-arg NAME=value`), by name.
    pub args: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnvVar {
    pub key: CompactString,
    pub value: EnvValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EnvValue {
    Literal(CompactString),
    /// `store.export`; `store` indexes [`Model::stores`].
    Store {
        store: usize,
        export: Export,
    },
    /// `secret("VAR")`: read from the deployer's environment variable at apply time.
    Secret(CompactString),
}

/// What a data store exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Export {
    Host,
    Port,
    Database,
    Username,
    Password,
}

impl Export {
    pub fn parse(s: &str) -> Option<Export> {
        Some(match s {
            "host" => Export::Host,
            "port" => Export::Port,
            "database" => Export::Database,
            "username" => Export::Username,
            "password" => Export::Password,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Export::Host => "host",
            Export::Port => "port",
            Export::Database => "database",
            Export::Username => "username",
            Export::Password => "password",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    pub name: String,
    pub kind: StoreKind,
}

impl Store {
    /// The TCP port the store listens on.
    pub fn port(&self) -> u16 {
        let kind = match self.kind {
            StoreKind::Postgres(_) => super::Kind::Postgres,
            StoreKind::Redis(_) => super::Kind::Redis,
        };
        kind.store_port().unwrap_or_default()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum StoreKind {
    Postgres(Postgres),
    Redis(Redis),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Password {
    /// RDS keeps the password in Secrets Manager.
    Managed,
    /// Read from this environment variable of the deployer at apply time.
    Env(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Postgres {
    pub identifier: String,
    pub database: String,
    pub version: String,
    pub class: String,
    pub storage_gib: u32,
    pub username: String,
    pub password: Password,
    pub backup_days: u8,
    pub deletion_protection: bool,
    pub multi_az: bool,
    pub encrypted: bool,
    pub public: bool,
}

/// The engine of a `redis` store: Redis OSS, or its fork Valkey (same protocol).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisEngine {
    Redis,
    Valkey,
}

impl RedisEngine {
    /// ElastiCache's name of the engine (`Engine`).
    pub fn as_str(self) -> &'static str {
        match self {
            RedisEngine::Redis => "redis",
            RedisEngine::Valkey => "valkey",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Redis {
    pub identifier: String,
    pub engine: RedisEngine,
    pub node_type: String,
    pub version: String,
    pub replicas: u8,
    pub encrypted: bool,
}

impl Redis {
    /// Replicas and encryption in transit need a replication group; a plain node is a cluster.
    pub fn is_replication_group(&self) -> bool {
        self.replicas > 0 || self.encrypted
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Firewall {
    /// Public or CIDR ingress to host ports of the environment's instances, in source order.
    pub ingress: Vec<Ingress>,
    /// `stores[i]` admits connections from the environment, for each i listed (sorted, unique).
    pub reachable_stores: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingress {
    pub port: u16,
    pub protocol: Protocol,
    /// Normalised CIDR, `0.0.0.0/0` for `internet`.
    pub cidr: String,
    pub service: String,
}
