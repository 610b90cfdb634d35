//! Deploy: `plan`, `apply` and `destroy` against AWS.
//!
//! - [`state`]: what exists, as refresh found it, in the shape of the plan's parameters;
//! - [`diff`]: plan steps against that state → create / update / replace / delete (pure);
//! - `aws` (feature `aws`): the SDK clients, refresh, the executor, one module per AWS service.
//!
//! Resources belong to a stack through the tags `stackc:stack` and `stackc:name`; nothing
//! without this stack's tag is ever changed or deleted.

pub mod diff;
pub mod state;

#[cfg(feature = "aws")]
pub mod aws;
