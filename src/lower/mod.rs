//! Lower: [`Model`] → `Dockerrun.aws.json` and `plan.json`. Pure, no IO, deterministic: the
//! same model gives byte-identical files (no hash-map order reaches the output). [`graph`]
//! draws a model or a plan in DOT or Mermaid for `stackc graph`.

mod dockerrun;
pub mod graph;
pub mod plan;

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::check::Model;
pub use dockerrun::{UNBUILT_TAG, dockerrun, image, reads_managed_password};
pub use plan::{Plan, Step};

/// The images of the services built from a Dockerfile, by service name: the reference each
/// one's container runs. `stackc build` gives `<repository>:<content-hash tag>`, apply
/// `<registry>/<repository>@sha256:<digest>`; a built service left out runs the placeholder
/// `<repository>:unbuilt` ([`UNBUILT_TAG`]).
pub type Images = BTreeMap<String, String>;

/// The files `stackc build` writes, as bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifacts {
    pub dockerrun: String,
    pub plan: Plan,
    pub plan_json: String,
}

/// Lowers a checked model without knowing the images of the built services (that needs their
/// build contexts): each runs the placeholder `<repository>:unbuilt`.
pub fn lower(model: &Model) -> Artifacts {
    lower_with(model, &Images::new())
}

/// Lowers a checked model, each built service running its image from `images`.
pub fn lower_with(model: &Model, images: &Images) -> Artifacts {
    let dockerrun = dockerrun(model, images);
    let hash = bundle_hash(&dockerrun, &plan::bundle_extras(model));
    let plan = plan::plan(model, images, &hash);
    let plan_json = to_json(&plan);
    Artifacts {
        dockerrun,
        plan,
        plan_json,
    }
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("plain data always serialises");
    s.push('\n');
    s
}

/// The hash of the source bundle's content, which names its version: the Dockerrun's alone
/// (what it was before bundles held other files), then each further file's name and text.
fn bundle_hash(dockerrun: &str, extras: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(dockerrun.as_bytes());
    for name in extras {
        let text = crate::deploy::resources::bundle::extra_file(name).unwrap_or_default();
        for part in [name.as_bytes(), text.as_bytes()] {
            h.update([0u8]);
            h.update(part);
        }
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
