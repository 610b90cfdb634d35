//! Deploy: `plan`, `apply` and `destroy` against AWS.
//!
//! - [`resource`]: the contract of a resource type and the typed values it is made of;
//! - [`resources`]: every AWS resource type of the plan, one file each, registered in one list;
//! - [`state`]: what exists, as refresh found it, in the shape of each type's desired struct;
//! - [`policy`]: the least-privilege IAM policy a deployer needs, from each type's grants;
//! - [`preflight`]: the region, endpoint, credentials and secrets a deploy needs, checked
//!   before its first call;
//! - [`diff`]: plan steps against that state → create / update / replace / delete, read from
//!   each type's declared fields (pure);
//! - `aws` (feature `aws`): the SDK clients, the [`Apply`](aws::Apply) contract, refresh and
//!   the dependency-graph executor.
//!
//! Resources belong to a stack through the tags `stackc:stack` and `stackc:name`; nothing
//! without this stack's tag is ever changed or deleted.

pub mod diff;
pub mod policy;
pub mod preflight;
pub mod resource;
pub mod resources;
pub mod state;

#[cfg(feature = "aws")]
pub mod aws;
