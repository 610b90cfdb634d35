//! Every AWS resource type of the plan, one file each. A file holds, for its type and nowhere
//! else: the desired state (a [`desired!`](crate::desired) struct, with each field's
//! [`Change`](super::resource::Change)), its outputs, and behind the `aws` feature its reads
//! (refresh), create, update, delete, waiters and AWS error handling (an
//! [`Apply`](super::aws::Apply) impl).
//!
//! The list below registers them: one line per type gives the [`Kind`] enum, the [`Desired`]
//! enum of the plan, and the exhaustive dispatch of the executor. Adding a type is its own file
//! plus one line here.

pub mod app_servers;
pub mod app_version;
pub mod application;
pub mod bundle;
pub mod cache;
pub mod certificate;
pub mod db_instance;
pub mod default_subnets;
pub mod default_vpc;
pub mod dns;
pub mod environment;
pub mod environment_properties;
pub mod image;
pub mod ingress;
pub mod instance_profile;
pub mod load_balancer;
pub mod log_group;
pub mod platform;
pub mod repository;
pub mod role;
pub mod role_policy;
pub mod role_policy_attachment;
pub mod security_group;
pub mod subnet_group;

use serde::Serialize;
use serde_json::{Map, Value};

use super::resource::{Field, Resource, Schema};

/// A resource type's place in the registry.
pub trait Member: Resource {
    const KIND: Kind;
    /// This type's desired state, if `d` is one.
    fn of(d: &Desired) -> Option<&Self>;
}

macro_rules! registry {
    ($( $variant:ident => $ty:ty, )*) => {
        /// Every resource type of the plan.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $( $variant, )*
        }

        impl Kind {
            pub const ALL: &'static [Kind] = &[ $( Kind::$variant, )* ];

            /// The API call that creates it: `plan.json`'s `action`.
            pub fn action(self) -> &'static str {
                match self { $( Kind::$variant => <$ty as Resource>::ACTION, )* }
            }

            pub fn fields(self) -> &'static [Field] {
                match self { $( Kind::$variant => <$ty as Schema>::FIELDS, )* }
            }

            /// The kinds it uses (it is deleted before them).
            pub fn uses(self) -> &'static [Kind] {
                match self { $( Kind::$variant => <$ty as Resource>::USES, )* }
            }

            pub fn folds_into(self) -> Option<(Kind, &'static str)> {
                match self { $( Kind::$variant => <$ty as Resource>::FOLDS_INTO, )* }
            }

            pub fn verbs(self) -> (&'static str, &'static str) {
                match self { $( Kind::$variant => <$ty as Resource>::VERBS, )* }
            }

            pub fn update_reason(self) -> Option<&'static str> {
                match self { $( Kind::$variant => <$ty as Resource>::UPDATE_REASON, )* }
            }

            pub fn create_reason(self) -> Option<&'static str> {
                match self { $( Kind::$variant => <$ty as Resource>::CREATE_REASON, )* }
            }

            pub fn is_lookup(self) -> bool {
                match self { $( Kind::$variant => <$ty as Resource>::LOOKUP, )* }
            }

            pub fn refuse_replacement(self, current: &Map<String, Value>, want: &Value) -> Option<String> {
                match self { $( Kind::$variant => <$ty as Resource>::refuse_replacement(current, want), )* }
            }

            /// The module (file, or folder) of its code under `resources/`.
            pub fn module(self) -> &'static str {
                match self { $( Kind::$variant => stringify!($ty).split("::").next().unwrap_or_default().trim(), )* }
            }

            pub fn actions(self) -> &'static [&'static str] {
                match self { $( Kind::$variant => <$ty as Resource>::ACTIONS, )* }
            }

            /// Its grants for the plan's steps of this type.
            pub fn grants(self, scope: &super::policy::Scope<'_>, plan: &crate::lower::Plan) -> Vec<super::policy::Grant> {
                match self {
                    $( Kind::$variant => {
                        let steps: Vec<&$ty> = plan.steps.iter().filter_map(|s| <$ty as Member>::of(&s.desired)).collect();
                        <$ty as Resource>::grants(scope, &steps)
                    } )*
                }
            }

            pub fn kept_by_destroy(self, current: &Map<String, Value>, options: &super::resource::DestroyOptions) -> Option<String> {
                match self { $( Kind::$variant => <$ty as Resource>::kept_by_destroy(current, options), )* }
            }
        }

        /// The desired state of one step of the plan.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        #[serde(untagged)]
        pub enum Desired {
            $( $variant($ty), )*
        }

        impl Desired {
            pub fn kind(&self) -> Kind {
                match self { $( Desired::$variant(_) => Kind::$variant, )* }
            }
        }

        $(
            impl From<$ty> for Desired {
                fn from(r: $ty) -> Desired {
                    Desired::$variant(r)
                }
            }

            impl Member for $ty {
                const KIND: Kind = Kind::$variant;
                fn of(d: &Desired) -> Option<&Self> {
                    match d {
                        Desired::$variant(r) => Some(r),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )*

        /// The executor's dispatch: one arm per type, no fallback.
        #[cfg(feature = "aws")]
        impl Kind {
            /// The fields its update changes.
            #[cfg(test)]
            pub(crate) fn updates(self) -> &'static [&'static str] {
                match self { $( Kind::$variant => <$ty as super::aws::Apply>::UPDATES, )* }
            }

            pub(crate) async fn refresh(
                self,
                ctx: &super::aws::Ctx,
                reads: &super::aws::reads::Reads,
                plan: &crate::lower::Plan,
            ) -> Result<super::state::Snapshot, super::aws::DeployError> {
                match self { $( Kind::$variant => super::aws::refresh_kind::<$ty>(ctx, reads, plan).await, )* }
            }

            pub(crate) async fn run(
                self,
                ctx: &super::aws::Ctx,
                job: super::aws::Job<'_>,
            ) -> Result<super::resource::Outputs, super::aws::DeployError> {
                match self { $( Kind::$variant => super::aws::run_kind::<$ty>(ctx, job).await, )* }
            }

            pub(crate) async fn delete(
                self,
                ctx: &super::aws::Ctx,
                gone: &super::aws::Gone<'_>,
            ) -> Result<(), super::aws::DeployError> {
                match self { $( Kind::$variant => <$ty as super::aws::Apply>::delete(ctx, gone).await, )* }
            }
        }
    };
}

registry! {
    DefaultVpc => default_vpc::DefaultVpc,
    DefaultSubnets => default_subnets::DefaultSubnets,
    SecurityGroup => security_group::SecurityGroup,
    Ingress => ingress::Ingress,
    DbSubnetGroup => subnet_group::DbSubnetGroup,
    CacheSubnetGroup => subnet_group::CacheSubnetGroup,
    DbInstance => db_instance::DbInstance,
    CacheCluster => cache::CacheCluster,
    ReplicationGroup => cache::ReplicationGroup,
    Role => role::Role,
    RolePolicyAttachment => role_policy_attachment::RolePolicyAttachment,
    RolePolicy => role_policy::RolePolicy,
    InstanceProfile => instance_profile::InstanceProfile,
    LogGroup => log_group::LogGroup,
    Repository => repository::Repository,
    Image => image::Image,
    ProfileRole => instance_profile::ProfileRole,
    Application => application::Application,
    StorageLocation => bundle::StorageLocation,
    Bundle => bundle::Bundle,
    AppVersion => app_version::AppVersion,
    Platform => platform::Platform,
    Certificate => certificate::Certificate,
    HostedZone => dns::HostedZone,
    CertificateValidation => certificate::CertificateValidation,
    Environment => environment::Environment,
    EnvironmentProperties => environment_properties::EnvironmentProperties,
    AppServers => app_servers::AppServers,
    LoadBalancer => load_balancer::LoadBalancer,
    DnsRecord => dns::DnsRecord,
}

impl Kind {
    /// Deletion order: every kind after all the kinds that use it (0 first). Derived from
    /// [`Kind::uses`], so a new kind takes its place without a table to edit.
    pub fn delete_level(self) -> usize {
        fn level(k: Kind, depth: usize) -> usize {
            // A cycle in `USES` would be a bug in a declaration; the depth bound keeps it finite
            // and `uses_form_no_cycle` below catches it.
            if depth > Kind::ALL.len() {
                return depth;
            }
            Kind::ALL
                .iter()
                .filter(|u| u.uses().contains(&k))
                .map(|&u| level(u, depth + 1) + 1)
                .max()
                .unwrap_or(0)
        }
        level(self, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_form_no_cycle_and_order_deletions() {
        for &k in Kind::ALL {
            assert!(
                k.delete_level() <= Kind::ALL.len(),
                "{k:?} is in a cycle of USES"
            );
            for &u in k.uses() {
                assert!(
                    k.delete_level() < u.delete_level(),
                    "{k:?} uses {u:?}, so it must be deleted first"
                );
            }
        }
    }

    /// A field declared as changing in place that the type's update does not handle (or the
    /// reverse) fails here.
    #[cfg(feature = "aws")]
    #[test]
    fn updates_handle_exactly_the_fields_that_change_in_place() {
        for &k in Kind::ALL {
            let declared: std::collections::BTreeSet<&str> = k
                .fields()
                .iter()
                .filter(|f| f.change.in_place())
                .map(|f| f.name)
                .collect();
            let handled: std::collections::BTreeSet<&str> = k.updates().iter().copied().collect();
            assert_eq!(
                declared, handled,
                "{k:?}: the fields declared as changing in place and those its update handles"
            );
        }
    }

    #[test]
    fn actions_are_unique() {
        let mut actions: Vec<&str> = Kind::ALL.iter().map(|k| k.action()).collect();
        actions.sort_unstable();
        let n = actions.len();
        actions.dedup();
        assert_eq!(actions.len(), n, "two kinds share an action");
    }
}
