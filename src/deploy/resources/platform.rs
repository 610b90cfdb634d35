//! The platform version an environment runs (a lookup): the newest recommended version of the
//! ECS platform branch, at the time the environment is created.

use serde::{Deserialize, Serialize};

use super::Kind;
use crate::deploy::resource::{Output, Resource};

/// The platform branch `platform = ecs` resolves to.
pub const ECS_PLATFORM_BRANCH: &str = "ECS running on 64bit Amazon Linux 2023";

crate::desired! {
    /// The parameters of ListPlatformVersions.
    pub struct Platform {
        #[field("Filters", Ignore("a lookup: read every time, nothing to change"))]
        pub filters: Vec<PlatformFilter>,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlatformFilter {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Operator")]
    pub operator: String,
    #[serde(rename = "Values")]
    pub values: Vec<String>,
}

pub const PLATFORM_ARN: Output<Platform, String> = Output::new("platform_arn");

impl Platform {
    /// The newest recommended version of `branch`.
    pub fn newest(branch: &str) -> Platform {
        let filter = |kind: &str, value: &str| PlatformFilter {
            kind: kind.into(),
            operator: "=".into(),
            values: vec![value.into()],
        };
        Platform {
            filters: vec![
                filter("PlatformBranchName", branch),
                filter("PlatformLifecycleState", "Recommended"),
            ],
        }
    }
}

impl Resource for Platform {
    const ACTIONS: &'static [&'static str] = &["elasticbeanstalk:ListPlatformVersions"];
    const ACTION: &'static str = "elasticbeanstalk:ListPlatformVersions";
    const USES: &'static [Kind] = &[];
    const LOOKUP: bool = true;
}

#[cfg(feature = "aws")]
mod aws {
    use aws_sdk_elasticbeanstalk::types::PlatformFilter as Filter;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error};
    use crate::deploy::resource::{Outputs, version};
    use crate::deploy::state::{Found, Snapshot};
    use crate::lower::{Plan, Step};

    /// The ARN of the newest platform version matching the filters.
    async fn newest(
        ctx: &Ctx,
        resource: &str,
        want: &Platform,
    ) -> Result<Option<String>, DeployError> {
        let filters = want
            .filters
            .iter()
            .map(|f| {
                Filter::builder()
                    .r#type(&f.kind)
                    .operator(&f.operator)
                    .set_values(Some(f.values.clone()))
                    .build()
            })
            .collect();
        let pages = ctx
            .clients
            .eb
            .list_platform_versions()
            .set_filters(Some(filters))
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| aws_error(resource, "ListPlatformVersions", &e))?;
        let newest = pages
            .iter()
            .flat_map(|page| page.platform_summary_list())
            .filter(|s| s.platform_arn().is_some())
            .max_by(|a, b| {
                version::cmp(
                    a.platform_version().unwrap_or_default(),
                    b.platform_version().unwrap_or_default(),
                )
            });
        Ok(newest.and_then(|s| s.platform_arn()).map(str::to_string))
    }

    fn outputs(arn: String) -> Outputs {
        let mut out = Outputs::new();
        PLATFORM_ARN.set(&mut out, arn);
        out
    }

    impl Apply for Platform {
        async fn refresh(
            ctx: &Ctx,
            _reads: &Reads,
            _plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            for (step, want) in steps {
                if let Some(arn) = newest(ctx, &step.resource, want).await? {
                    snap.found
                        .insert(step.id.clone(), Found::lookup(Kind::Platform, outputs(arn)));
                }
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &Platform,
        ) -> Result<Outputs, DeployError> {
            match newest(ctx, step.resource, want).await? {
                Some(arn) => Ok(outputs(arn)),
                None => Err(DeployError::other(
                    step.resource,
                    format!(
                        "no Elastic Beanstalk platform version in {} matches the filters {}",
                        ctx.region,
                        serde_json::to_string(&want.filters).unwrap_or_default()
                    ),
                )),
            }
        }

        async fn delete(_ctx: &Ctx, _gone: &Gone<'_>) -> Result<(), DeployError> {
            Ok(())
        }
    }
}
