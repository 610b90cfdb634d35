//! A service's image, built from its own Dockerfile and pushed to its ECR repository. Its tag
//! is the content hash of what the build reads (context with `.dockerignore`, Dockerfile,
//! target, arguments, platform: `images::context`), so an image with the tag in the
//! repository is this build, and a second apply of unchanged contexts builds and pushes
//! nothing. The container CLI the user has (docker, else podman; `STACKC_CONTAINER_CLI`)
//! builds for the environment's architecture, logs in with `GetAuthorizationToken`'s token and
//! pushes; the output is `<registry>/<repository>@sha256:<digest>`, which the bundle's
//! Dockerrun runs.
//!
//! `STACKC_ECR_REGISTRY=HOST:PORT` replaces the account's registry host in pushes and in the
//! image names (a registry on loopback, for tests: plain HTTP there).

use std::collections::BTreeMap;

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource};

crate::desired! {
    /// What the build is made from (`plan` shows why an image is built: its tag is new).
    pub struct Image<S> {
        #[field("repositoryUri", Identity)]
        pub repository: S::Of<String>,
        #[field("imageTag", Identity)]
        pub tag: String,
        #[field("context", Ignore("part of the tag: another context is another tag"))]
        pub context: String,
        #[field("dockerfile", Ignore("part of the tag"))]
        pub dockerfile: String,
        #[field("target", Ignore("part of the tag"))]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub target: Option<String>,
        #[field("args", Ignore("part of the tag"))]
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub args: BTreeMap<String, String>,
        #[field("platform", Ignore("part of the tag"))]
        pub platform: String,
    }
}

/// `<registry>/<repository>@sha256:<digest>`: what the container runs.
pub const REFERENCE: Output<Image, String> = Output::new("image");

/// The variable that points pushes and image names at another registry.
pub const REGISTRY_OVERRIDE: &str = "STACKC_ECR_REGISTRY";

impl Resource for Image {
    const ACTIONS: &'static [&'static str] = &[
        "ecr:DescribeImages",
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
    ];

    /// A token for the registry is asked of the account (`*`); the rest is on the stack's
    /// repositories ("Private repository policy examples": the push actions).
    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        vec![
            Grant::anywhere(&["ecr:GetAuthorizationToken"]),
            Grant::new(
                &[
                    "ecr:DescribeImages",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:InitiateLayerUpload",
                    "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload",
                    "ecr:PutImage",
                ],
                vec![scope.arn("ecr", &format!("repository/{}/*", scope.stack))],
            ),
        ]
    }
    const ACTION: &'static str = "ecr:PutImage";
    const USES: &'static [Kind] = &[Kind::Repository];
    const VERBS: (&'static str, &'static str) = ("build and push", "build and push");
    const CREATE_REASON: Option<&'static str> =
        Some("the repository has no image of this content hash");
}

/// The repository's name in its URI (`<registry>/<name>`), and the registry.
pub fn split_uri(uri: &str) -> (&str, &str) {
    uri.split_once('/').unwrap_or(("", uri))
}

#[cfg(feature = "aws")]
mod aws {
    use aws_sdk_ecr::types::ImageIdentifier;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code};
    use crate::deploy::resource::Outputs;
    use crate::deploy::resources::repository::Repository;
    use crate::deploy::state::{Found, Snapshot};
    use crate::images::cli::{ContainerCli, ImageRef};
    use crate::images::context::BuildSpec;
    use crate::images::platform::Platform;
    use crate::lower::{Plan, Step};

    /// The registry pushes and image names use: `STACKC_ECR_REGISTRY`, else the account's
    /// (the host of a repository URI, `ACCOUNT.dkr.ecr.REGION.amazonaws.com`).
    fn registry(account_host: impl FnOnce() -> String) -> String {
        std::env::var(REGISTRY_OVERRIDE)
            .ok()
            .filter(|r| !r.is_empty())
            .unwrap_or_else(account_host)
    }

    fn outputs(reference: String) -> Outputs {
        let mut out = Outputs::new();
        out.insert("id".into(), reference.clone().into());
        REFERENCE.set(&mut out, reference);
        out
    }

    fn failed(resource: &str, call: &str, message: String) -> DeployError {
        DeployError {
            resource: resource.to_string(),
            call: call.into(),
            code: String::new(),
            message,
        }
    }

    /// The image `want` names in repository `name`, as found, keyed by its step.
    async fn read(
        ctx: &Ctx,
        step: &Step,
        want: &Image,
        name: &str,
    ) -> Result<Option<(String, Found)>, DeployError> {
        let r = ctx
            .clients
            .ecr
            .describe_images()
            .repository_name(name)
            .image_ids(ImageIdentifier::builder().image_tag(&want.tag).build())
            .send()
            .await;
        let described = match r {
            Ok(r) => r,
            Err(e)
                if matches!(
                    error_code(&e),
                    Some("ImageNotFoundException" | "RepositoryNotFoundException")
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(aws_error(&step.resource, "DescribeImages", &e)),
        };
        let Some(detail) = described.image_details().first() else {
            return Ok(None);
        };
        let Some(digest) = detail.image_digest() else {
            return Ok(None);
        };
        let registry = registry(|| {
            format!(
                "{}.dkr.ecr.{}.amazonaws.com",
                detail.registry_id().unwrap_or_default(),
                ctx.region
            )
        });
        let current = Image::<crate::deploy::resource::Live> {
            repository: format!("{registry}/{name}"),
            tag: want.tag.clone(),
            context: want.context.clone(),
            dockerfile: want.dockerfile.clone(),
            target: want.target.clone(),
            args: want.args.clone(),
            platform: want.platform.clone(),
        };
        let reference = format!("{registry}/{name}@{digest}");
        Ok(Some((
            step.id.clone(),
            Found::new(Kind::Image, &current, outputs(reference)),
        )))
    }

    impl Apply for Image {
        /// One DescribeImages per image, all at once: whether the repository has the tag, and
        /// its digest.
        async fn refresh(
            ctx: &Ctx,
            _reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let found =
                futures_util::future::try_join_all(steps.iter().filter_map(|(step, want)| {
                    let repo = plan.referred::<Repository, _>(&want.repository)?;
                    Some(read(ctx, step, want, &repo.name))
                }))
                .await?;
            let mut snap = Snapshot::default();
            snap.found.extend(found.into_iter().flatten());
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &Image<crate::deploy::resource::Live>,
        ) -> Result<Outputs, DeployError> {
            let registry = registry(|| split_uri(&want.repository).0.to_string());
            let name = split_uri(&want.repository).1;
            let token = ctx
                .clients
                .ecr
                .get_authorization_token()
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "GetAuthorizationToken", &e))?;
            // "The authorization token is a base64-encoded string of `AWS:password`"
            // (GetAuthorizationToken, Amazon ECR API Reference).
            let (user, password) = token
                .authorization_data()
                .first()
                .and_then(|d| d.authorization_token())
                .and_then(|t| aws_smithy_types::base64::decode(t).ok())
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|t| {
                    t.split_once(':')
                        .map(|(u, p)| (u.to_string(), p.to_string()))
                })
                .ok_or_else(|| {
                    failed(
                        step.resource,
                        "GetAuthorizationToken",
                        "ECR gave no authorization token".into(),
                    )
                })?;
            let platform = Platform::parse(&want.platform).ok_or_else(|| {
                failed(
                    step.resource,
                    "build",
                    format!("unknown platform {}", want.platform),
                )
            })?;
            let build = crate::check::Build {
                context: want.context.as_str().into(),
                dockerfile: want.dockerfile.as_str().into(),
                target: want.target.as_deref().map(Into::into),
                args: want.args.clone(),
            };
            let spec = BuildSpec::of(&build, &ctx.source_dir, platform);
            let image = ImageRef::new(&registry, name, &want.tag)
                .map_err(|e| failed(step.resource, "build", e.to_string()))?;
            let fail =
                |call: &str, e: &dyn std::fmt::Display| failed(step.resource, call, e.to_string());
            // The container CLI blocks (with its own deadlines): off the async workers.
            let digest = tokio::task::block_in_place(|| {
                let cli = ContainerCli::detect().map_err(|e| fail("build", &e))?;
                cli.login(&registry, &user, &password)
                    .map_err(|e| fail("login", &e))?;
                ctx.progress.status(step.id, "building");
                cli.build(&spec, &image).map_err(|e| fail("build", &e))?;
                ctx.progress.status(step.id, "pushing");
                cli.push(&image).map_err(|e| fail("push", &e))
            })?;
            Ok(outputs(image.at(&digest)))
        }

        /// An image goes with its repository (the lifecycle policy, or `--delete-images`).
        async fn delete(_ctx: &Ctx, _gone: &Gone<'_>) -> Result<(), DeployError> {
            Ok(())
        }
    }
}
