//! `Dockerrun.aws.json` v2: one ECS container definition per service, in source order.

use std::borrow::Cow;

use serde::Serialize;

use super::Images;
use crate::check::{EnvValue, ImageSource, Model, Service};
use crate::syntax::ast::CompactString;

/// The tag of a built service's image when its build was not hashed ([`super::lower`]): a
/// valid reference that names the repository, and no tag a build ever gets (`c-<hex>`).
pub const UNBUILT_TAG: &str = "unbuilt";

/// The image a service's container runs: the one it names, or for a built service its entry
/// of `images`, else `<repository>:unbuilt`.
pub fn image<'a>(model: &Model, service: &'a Service, images: &'a Images) -> Cow<'a, str> {
    match &service.source {
        ImageSource::Image(image) => Cow::Borrowed(image),
        ImageSource::Build(_) => match images.get(service.name.as_str()) {
            Some(image) => Cow::Borrowed(image),
            None => Cow::Owned(format!(
                "{}:{UNBUILT_TAG}",
                crate::naming::repository(&model.base(), &service.name)
            )),
        },
    }
}

#[derive(Serialize)]
struct Dockerrun<'a> {
    #[serde(rename = "AWSEBDockerrunVersion")]
    version: u32,
    #[serde(rename = "executionRoleArn", skip_serializing_if = "Option::is_none")]
    execution_role_arn: Option<&'a str>,
    #[serde(rename = "containerDefinitions")]
    container_definitions: Vec<Container<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Container<'a> {
    name: &'a str,
    image: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    essential: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_reservation: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    port_mappings: Vec<PortMapping>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a [CompactString]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry_point: Option<&'a [CompactString]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_directory: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    environment: Vec<KeyValue<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PortMapping {
    host_port: u16,
    container_port: u16,
    protocol: &'static str,
}

#[derive(Serialize)]
struct KeyValue<'a> {
    name: &'a str,
    value: &'a str,
}

/// Whether a service reads a `managed` password, which ECS fetches with the execution role.
pub fn reads_managed_password(model: &Model) -> bool {
    use crate::check::{Export, Password, StoreKind};
    model.services.iter().flat_map(|s| &s.env).any(|e| {
        matches!(e.value, EnvValue::Store { store, export: Export::Password }
            if matches!(&model.stores[store].kind, StoreKind::Postgres(p) if p.password == Password::Managed))
    })
}

/// The file's bytes: pretty JSON with a final newline; the built services run their `images`.
pub fn dockerrun(model: &Model, images: &Images) -> String {
    let doc = Dockerrun {
        version: 2,
        // A role the program names is always its tasks' execution role; one stackc makes goes
        // in at upload (its ARN holds the account's id).
        execution_role_arn: model.environment.execution_role.as_deref(),
        container_definitions: model
            .services
            .iter()
            .map(|s| Container {
                name: &s.name,
                image: image(model, s, images),
                hostname: s.hostname.as_deref(),
                essential: s.essential,
                memory: s.memory,
                memory_reservation: s.memory_reservation,
                port_mappings: s
                    .ports
                    .iter()
                    .map(|p| PortMapping {
                        host_port: p.host,
                        container_port: p.container,
                        protocol: p.protocol.as_str(),
                    })
                    .collect(),
                links: s.links.iter().map(CompactString::as_str).collect(),
                command: s.command.as_deref(),
                entry_point: s.entrypoint.as_deref(),
                working_directory: s.working_dir.as_deref(),
                // Store references and secrets travel as EB environment properties instead.
                environment: s
                    .env
                    .iter()
                    .filter_map(|e| match &e.value {
                        EnvValue::Literal(v) => Some(KeyValue {
                            name: &e.key,
                            value: v,
                        }),
                        _ => None,
                    })
                    .collect(),
            })
            .collect(),
    };
    super::to_json(&doc)
}
