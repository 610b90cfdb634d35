//! The ECR repository of a service built from its own Dockerfile, `<base>/<service>`: immutable
//! tags (a tag is a content hash, so it never names two images), a scan of every push, and a
//! lifecycle policy that expires images beyond the newest the environment keeps (as many as its
//! application versions, so a version rollback can return to still has its images).
//!
//! Images are data: destroy keeps the repositories unless it is given `--delete-images`.

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource, Tags};

crate::desired! {
    /// The parameters of CreateRepository, and what PutImageTagMutability,
    /// PutImageScanningConfiguration and PutLifecyclePolicy set.
    pub struct Repository {
        #[field("repositoryName", Identity)]
        pub name: String,
        #[field("imageTagMutability", Update)]
        pub tag_mutability: String,
        #[field("scanOnPush", Update)]
        pub scan_on_push: bool,
        #[field("lifecyclePolicyText", Update)]
        pub lifecycle_policy: String,
        #[field("tags", Ignore("tags are set at creation; the stack tag is how refresh finds the repository"))]
        pub tags: Tags,
    }
}

/// `IMMUTABLE`: a pushed tag cannot be moved to another image.
pub const IMMUTABLE: &str = "IMMUTABLE";

pub const URI: Output<Repository, String> = Output::new("repository_uri");
pub const ARN: Output<Repository, String> = Output::new("repository_arn");

impl Repository {
    /// The lifecycle policy that expires every image beyond the newest `keep` ("Examples of
    /// lifecycle policies in Amazon ECR": `imageCountMoreThan` with `tagStatus` `any`).
    pub fn keeping(keep: u32) -> String {
        serde_json::json!({
            "rules": [{
                "rulePriority": 1,
                "description": format!("keep the newest {keep} images"),
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": keep
                },
                "action": { "type": "expire" }
            }]
        })
        .to_string()
    }
}

impl Resource for Repository {
    const ACTIONS: &'static [&'static str] = &[
        "ecr:DescribeRepositories",
        "ecr:ListTagsForResource",
        "ecr:GetLifecyclePolicy",
        "ecr:CreateRepository",
        "ecr:TagResource",
        "ecr:PutImageTagMutability",
        "ecr:PutImageScanningConfiguration",
        "ecr:PutLifecyclePolicy",
        "ecr:DeleteRepository",
    ];

    /// Listing repositories needs `DescribeRepositories` on all; the rest only on the stack's
    /// repositories, `<base>/*`.
    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        vec![
            Grant::new(
                &["ecr:DescribeRepositories"],
                vec![scope.arn("ecr", "repository/*")],
            ),
            Grant::new(
                &Self::ACTIONS[1..],
                vec![scope.arn("ecr", &format!("repository/{}/*", scope.stack))],
            ),
        ]
    }
    const ACTION: &'static str = "ecr:CreateRepository";
    const USES: &'static [Kind] = &[];
    const UPDATE_REASON: Option<&'static str> = None;

    fn kept_by_destroy(
        _current: &serde_json::Map<String, serde_json::Value>,
        options: &crate::deploy::resource::DestroyOptions,
    ) -> Option<String> {
        (!options.delete_images).then(|| {
            "holds the service's images and was kept: `stackc destroy --delete-images` deletes it"
                .to_string()
        })
    }
}

#[cfg(feature = "aws")]
mod aws {
    use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Tag};

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code};
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::Outputs;
    use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
    use crate::lower::{Plan, Step};

    const NOT_FOUND: &str = "RepositoryNotFoundException";
    const NO_POLICY: &str = "LifecyclePolicyNotFoundException";

    fn outputs(name: &str, uri: &str, arn: &str) -> Outputs {
        let mut out = Outputs::new();
        URI.set(&mut out, uri.to_string());
        ARN.set(&mut out, arn.to_string());
        out.insert("id".into(), name.into());
        out
    }

    /// The repository's lifecycle policy as the plan writes it when it means the same rules
    /// (AWS may return the text with other spacing), else as AWS has it; empty without one.
    async fn policy(ctx: &Ctx, name: &str, want: &str) -> Result<String, DeployError> {
        let r = ctx
            .clients
            .ecr
            .get_lifecycle_policy()
            .repository_name(name)
            .send()
            .await;
        let text = match r {
            Ok(r) => r.lifecycle_policy_text().unwrap_or_default().to_string(),
            Err(e) if error_code(&e) == Some(NO_POLICY) => String::new(),
            Err(e) => {
                return Err(aws_error(
                    &format!("ECR repository {name}"),
                    "GetLifecyclePolicy",
                    &e,
                ));
            }
        };
        let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
        Ok(match (parse(&text), parse(want)) {
            (Some(a), Some(b)) if a == b => want.to_string(),
            _ => text,
        })
    }

    impl Apply for Repository {
        const UPDATES: &'static [&'static str] =
            &["imageTagMutability", "scanOnPush", "lifecyclePolicyText"];

        /// The stack's repositories are those under `<base>/` with its tags: the plan's, and
        /// those of services no longer built (orphans).
        async fn refresh(
            ctx: &Ctx,
            _reads: &Reads,
            _plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            let prefix = format!("{}/", ctx.stack);
            let mut pages = ctx
                .clients
                .ecr
                .describe_repositories()
                .into_paginator()
                .send();
            let mut all = Vec::new();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| aws_error("ECR repositories", "DescribeRepositories", &e))?;
                all.extend(page.repositories().iter().cloned());
            }
            for repo in all {
                let name = repo.repository_name().unwrap_or_default().to_string();
                let step = steps.iter().find(|(_, want)| want.name == name);
                if step.is_none() && !name.starts_with(&prefix) {
                    continue;
                }
                let resource = format!("ECR repository {name}");
                let tags = ctx
                    .clients
                    .ecr
                    .list_tags_for_resource()
                    .resource_arn(repo.repository_arn().unwrap_or_default())
                    .send()
                    .await
                    .map_err(|e| aws_error(&resource, "ListTagsForResource", &e))?;
                let ours = ctx
                    .owner
                    .owns(tags.tags().iter().map(|t| (t.key(), t.value())));
                let uri = repo.repository_uri().unwrap_or_default();
                let arn = repo.repository_arn().unwrap_or_default();
                match step {
                    Some((step, _)) if !ours => snap.conflicts.push(Conflict::taken(
                        step,
                        "an ECR repository with this name",
                        &ctx.owner,
                    )),
                    Some((step, want)) => {
                        let current = Repository {
                            name: name.clone(),
                            tag_mutability: repo
                                .image_tag_mutability()
                                .map(|m| m.as_str().to_string())
                                .unwrap_or_default(),
                            scan_on_push: repo
                                .image_scanning_configuration()
                                .is_some_and(|c| c.scan_on_push()),
                            lifecycle_policy: policy(ctx, &name, &want.lifecycle_policy).await?,
                            tags: want.tags.clone(),
                        };
                        snap.found.insert(
                            step.id.clone(),
                            Found::new(Kind::Repository, &current, outputs(&name, uri, arn)),
                        );
                    }
                    None if ours => snap.orphans.push(Orphan {
                        kind: Kind::Repository,
                        id: name.clone(),
                        resource,
                    }),
                    None => {}
                }
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &Repository,
        ) -> Result<Outputs, DeployError> {
            let tags: Vec<Tag> = want
                .tags
                .0
                .iter()
                .filter_map(|t| Tag::builder().key(&t.key).value(&t.value).build().ok())
                .collect();
            let r = ctx
                .clients
                .ecr
                .create_repository()
                .repository_name(&want.name)
                .image_tag_mutability(ImageTagMutability::from(want.tag_mutability.as_str()))
                .image_scanning_configuration(
                    ImageScanningConfiguration::builder()
                        .scan_on_push(want.scan_on_push)
                        .build(),
                )
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "CreateRepository", &e))?;
            put_policy(ctx, step, want).await?;
            let made = r.repository();
            let uri = made.and_then(|r| r.repository_uri()).unwrap_or_default();
            let arn = made.and_then(|r| r.repository_arn()).unwrap_or_default();
            Ok(outputs(&want.name, uri, arn))
        }

        async fn update(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &Repository,
            found: &Found,
            changes: &[FieldChange],
        ) -> Result<Outputs, DeployError> {
            let changed = |f: &str| changes.iter().any(|c| c.field == f);
            if changed("imageTagMutability") {
                ctx.clients
                    .ecr
                    .put_image_tag_mutability()
                    .repository_name(&want.name)
                    .image_tag_mutability(ImageTagMutability::from(want.tag_mutability.as_str()))
                    .send()
                    .await
                    .map_err(|e| aws_error(step.resource, "PutImageTagMutability", &e))?;
            }
            if changed("scanOnPush") {
                ctx.clients
                    .ecr
                    .put_image_scanning_configuration()
                    .repository_name(&want.name)
                    .image_scanning_configuration(
                        ImageScanningConfiguration::builder()
                            .scan_on_push(want.scan_on_push)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| aws_error(step.resource, "PutImageScanningConfiguration", &e))?;
            }
            if changed("lifecyclePolicyText") {
                put_policy(ctx, step, want).await?;
            }
            Ok(found.outputs.clone())
        }

        /// With its images (`force`): destroy asks for this only with `--delete-images`.
        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            match ctx
                .clients
                .ecr
                .delete_repository()
                .repository_name(gone.id)
                .force(true)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if error_code(&e) == Some(NOT_FOUND) => Ok(()),
                Err(e) => Err(aws_error(gone.resource, "DeleteRepository", &e)),
            }
        }
    }

    async fn put_policy(
        ctx: &Ctx,
        step: &StepRef<'_>,
        want: &Repository,
    ) -> Result<(), DeployError> {
        ctx.clients
            .ecr
            .put_lifecycle_policy()
            .repository_name(&want.name)
            .lifecycle_policy_text(&want.lifecycle_policy)
            .send()
            .await
            .map_err(|e| aws_error(step.resource, "PutLifecyclePolicy", &e))?;
        Ok(())
    }
}
