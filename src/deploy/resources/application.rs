//! The Elastic Beanstalk application, named after the stack. It carries the stack's tags (read
//! with ListTagsForResource); its versions and environments belong to the stack through it.

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource, Tags};

crate::desired! {
    /// The parameters of CreateApplication.
    pub struct Application {
        #[field("ApplicationName", Identity)]
        pub name: String,
        #[field("Description", Ignore("ours only says who manages the application"))]
        pub description: String,
        #[field("Tags", Ignore("tags are set at creation; the stack tag is how refresh finds the application"))]
        pub tags: Tags,
    }
}

pub const NAME: Output<Application, String> = Output::new("application_name");

impl Resource for Application {
    const ACTIONS: &'static [&'static str] = &[
        "elasticbeanstalk:DescribeApplications",
        "elasticbeanstalk:ListTagsForResource",
        "elasticbeanstalk:CreateApplication",
        "elasticbeanstalk:AddTags",
        "elasticbeanstalk:DeleteApplication",
    ];

    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        vec![
            Grant::anywhere(&["elasticbeanstalk:DescribeApplications"]),
            Grant::new(
                &[
                    "elasticbeanstalk:ListTagsForResource",
                    "elasticbeanstalk:CreateApplication",
                    "elasticbeanstalk:AddTags",
                    "elasticbeanstalk:DeleteApplication",
                ],
                vec![scope.arn("elasticbeanstalk", &format!("application/{}", scope.stack))],
            ),
        ]
    }
    const ACTION: &'static str = "elasticbeanstalk:CreateApplication";
    const USES: &'static [Kind] = &[];
}

#[cfg(feature = "aws")]
pub(crate) use aws::{app_is_ours, eb_tags};

#[cfg(feature = "aws")]
mod aws {
    use std::sync::Arc;

    use aws_sdk_elasticbeanstalk::types::Tag;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, message_has};
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::Outputs;
    use crate::deploy::resources::app_version::bundle_buckets;
    use crate::deploy::resources::bundle::delete_prefix;
    use crate::deploy::state::{Conflict, Found, Snapshot};
    use crate::lower::{Plan, Step};

    /// What DescribeApplications and ListTagsForResource found.
    pub(crate) struct AppState {
        pub arn: String,
        pub ours: bool,
    }

    /// The application `name`, once per refresh.
    pub(crate) async fn read_app(
        ctx: &Ctx,
        reads: &Reads,
        name: &str,
    ) -> Result<Arc<Option<AppState>>, DeployError> {
        reads
            .once(
                format!("elasticbeanstalk:DescribeApplications {name}"),
                async {
                    let resource = format!("application {name}");
                    let r = ctx
                        .clients
                        .eb
                        .describe_applications()
                        .application_names(name)
                        .send()
                        .await
                        .map_err(|e| aws_error(&resource, "DescribeApplications", &e))?;
                    let Some(app) = r
                        .applications()
                        .iter()
                        .find(|a| a.application_name() == Some(name))
                    else {
                        return Ok(None);
                    };
                    let arn = app.application_arn().unwrap_or_default().to_string();
                    let tags = ctx
                        .clients
                        .eb
                        .list_tags_for_resource()
                        .resource_arn(&arn)
                        .send()
                        .await
                        .map_err(|e| aws_error(&resource, "ListTagsForResource", &e))?;
                    let ours = ctx.owner.owns(
                        tags.resource_tags()
                            .iter()
                            .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
                    );
                    Ok(Some(AppState { arn, ours }))
                },
            )
            .await
    }

    /// Whether the application exists and is this stack's: its versions and environments are
    /// then the stack's too.
    pub(crate) async fn app_is_ours(
        ctx: &Ctx,
        reads: &Reads,
        name: &str,
    ) -> Result<bool, DeployError> {
        Ok(read_app(ctx, reads, name)
            .await?
            .as_ref()
            .as_ref()
            .is_some_and(|a| a.ours))
    }

    pub(crate) fn eb_tags(tags: &Tags) -> Vec<Tag> {
        tags.pairs()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    }

    fn outputs(name: &str, arn: &str) -> Outputs {
        let mut out = Outputs::new();
        NAME.set(&mut out, name.to_string());
        out.insert("arn".into(), arn.into());
        out.insert("id".into(), name.into());
        out
    }

    impl Apply for Application {
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            _plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            for (step, want) in steps {
                match &*read_app(ctx, reads, &want.name).await? {
                    None => {}
                    Some(app) if !app.ours => snap.conflicts.push(Conflict::taken(
                        step,
                        "an application with this name",
                        &ctx.owner,
                    )),
                    Some(app) => {
                        let current = Application {
                            name: want.name.clone(),
                            description: want.description.clone(),
                            tags: want.tags.clone(),
                        };
                        snap.found.insert(
                            step.id.clone(),
                            Found::new(Kind::Application, &current, outputs(&want.name, &app.arn)),
                        );
                    }
                }
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &Application,
        ) -> Result<Outputs, DeployError> {
            let r = ctx
                .clients
                .eb
                .create_application()
                .application_name(&want.name)
                .description(&want.description)
                .set_tags(Some(eb_tags(&want.tags)))
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "CreateApplication", &e))?;
            Ok(outputs(
                &want.name,
                r.application()
                    .and_then(|a| a.application_arn())
                    .unwrap_or_default(),
            ))
        }

        /// Nothing of an application changes in place (its description is ours).
        async fn update(
            _ctx: &Ctx,
            _step: &StepRef<'_>,
            _want: &Application,
            found: &Found,
            _changes: &[FieldChange],
        ) -> Result<Outputs, DeployError> {
            Ok(found.outputs.clone())
        }

        /// The stack's bundles go too, wherever its versions say they are: Elastic Beanstalk's
        /// bucket is found without creating anything.
        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            let eb = &ctx.clients.eb;
            let prefix = crate::naming::bundle_prefix(&ctx.stack);
            let buckets = bundle_buckets(ctx, gone.id, &prefix, gone.resource).await?;
            for bucket in &buckets {
                delete_prefix(ctx, bucket, &prefix, gone.resource).await?;
            }
            match eb
                .delete_application()
                .application_name(gone.id)
                .terminate_env_by_force(false)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                // "No Application named ...".
                Err(e) if message_has(&e, "InvalidParameterValue", &["no application"]) => Ok(()),
                Err(e) => Err(aws_error(gone.resource, "DeleteApplication", &e)),
            }
        }
    }
}
