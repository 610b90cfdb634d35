//! The CloudWatch Logs group of an environment's containers. The bundle's Dockerrun sends every
//! container's output there with the `awslogs` driver (set at upload, with the region); the
//! group is made first, with the program's retention, because the driver does not make it
//! ("awslogs-create-group" is off: the instance role may write to a group, not create one).
//! Its name is under Elastic Beanstalk's prefix of the environment, where the instance role's
//! `AWSElasticBeanstalkWebTier` may write and where the platform's own logs stream.

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource, TagMap};

crate::desired! {
    /// The parameters of CreateLogGroup, and the retention of PutRetentionPolicy.
    pub struct LogGroup {
        #[field("logGroupName", Identity)]
        pub name: String,
        #[field("retentionInDays", Update)]
        pub retention_days: u64,
        #[field("tags", Ignore("tags are set at creation; the stack tag is how refresh finds the group"))]
        pub tags: TagMap,
    }
}

pub const NAME: Output<LogGroup, String> = Output::new("log_group_name");

impl Resource for LogGroup {
    const ACTIONS: &'static [&'static str] = &[
        "logs:DescribeLogGroups",
        "logs:ListTagsForResource",
        "logs:CreateLogGroup",
        "logs:TagResource",
        "logs:PutRetentionPolicy",
        "logs:DeleteLogGroup",
        "logs:FilterLogEvents",
    ];

    /// Finding the groups needs `DescribeLogGroups` on every group of the region; the rest only
    /// on the groups of the plan and on the containers' groups of Elastic Beanstalk's prefix
    /// (an orphan of a renamed environment).
    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        let prefix = crate::naming::EB_LOGS_PREFIX.trim_end_matches('/');
        let groups = scope.arn("logs", &format!("log-group:{prefix}*"));
        vec![
            Grant::new(
                &["logs:DescribeLogGroups"],
                vec![scope.arn("logs", "log-group:*")],
            ),
            Grant::new(
                &Self::ACTIONS[1..],
                vec![groups.clone(), format!("{groups}:*")],
            ),
        ]
    }
    const ACTION: &'static str = "logs:CreateLogGroup";
    const USES: &'static [Kind] = &[];
}

#[cfg(feature = "aws")]
pub(crate) use aws::events;

#[cfg(feature = "aws")]
mod aws {
    use std::collections::HashMap;

    use aws_sdk_cloudwatchlogs::types::LogGroup as AwsLogGroup;

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code};
    use crate::deploy::diff::FieldChange;
    use crate::deploy::resource::Outputs;
    use crate::deploy::state::{Conflict, Found, Orphan, Snapshot};
    use crate::lower::{Plan, Step};

    const NOT_FOUND: &str = "ResourceNotFoundException";

    /// The groups whose names start with `prefix`, every page.
    async fn groups(ctx: &Ctx, prefix: &str) -> Result<Vec<AwsLogGroup>, DeployError> {
        let resource = format!("log groups {prefix}*");
        let mut pages = ctx
            .clients
            .logs
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error(&resource, "DescribeLogGroups", &e))?;
            out.extend(page.log_groups().iter().cloned());
        }
        Ok(out)
    }

    /// Whether a group carries the stack's tag.
    async fn is_ours(ctx: &Ctx, group: &AwsLogGroup) -> Result<bool, DeployError> {
        let name = group.log_group_name().unwrap_or_default();
        let arn = group
            .log_group_arn()
            .map(str::to_string)
            .unwrap_or_else(|| {
                group
                    .arn()
                    .unwrap_or_default()
                    .trim_end_matches(":*")
                    .to_string()
            });
        let r = ctx
            .clients
            .logs
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| aws_error(&format!("log group {name}"), "ListTagsForResource", &e))?;
        let tags: HashMap<String, String> = r.tags().cloned().unwrap_or_default();
        Ok(ctx
            .owner
            .owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
    }

    /// One log event (`stackc logs`).
    #[derive(Clone, Debug)]
    pub(crate) struct Event {
        pub id: String,
        /// Milliseconds since the Unix epoch.
        pub time_ms: i64,
        pub stream: String,
        pub message: String,
    }

    /// The events of `group` from `start_ms` on, in the streams whose names start with
    /// `streams` (all when None), every page, in time order. A group that does not exist (yet)
    /// has none: the platform's appear once an instance streams to them.
    pub(crate) async fn events(
        ctx: &Ctx,
        group: &str,
        streams: Option<&str>,
        start_ms: i64,
    ) -> Result<Vec<Event>, DeployError> {
        let mut pages = ctx
            .clients
            .logs
            .filter_log_events()
            .log_group_name(group)
            .set_log_stream_name_prefix(streams.map(str::to_string))
            .start_time(start_ms)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) if error_code(&e) == Some(NOT_FOUND) => return Ok(Vec::new()),
                Err(e) => {
                    return Err(aws_error(
                        &format!("log group {group}"),
                        "FilterLogEvents",
                        &e,
                    ));
                }
            };
            out.extend(page.events().iter().map(|e| Event {
                id: e.event_id().unwrap_or_default().to_string(),
                time_ms: e.timestamp().unwrap_or_default(),
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().to_string(),
            }));
        }
        out.sort_by_key(|e| e.time_ms);
        Ok(out)
    }

    fn outputs(name: &str) -> Outputs {
        let mut out = Outputs::new();
        NAME.set(&mut out, name.to_string());
        out.insert("id".into(), name.into());
        out
    }

    impl Apply for LogGroup {
        const UPDATES: &'static [&'static str] = &["retentionInDays"];

        /// One listing of the containers' groups under Elastic Beanstalk's prefix: the plan's
        /// groups and the stack's others (an environment renamed) are among them.
        async fn refresh(
            ctx: &Ctx,
            _reads: &Reads,
            _plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            let suffix = format!("/{}", crate::naming::CONTAINER_LOGS);
            for group in groups(ctx, crate::naming::EB_LOGS_PREFIX).await? {
                let name = group.log_group_name().unwrap_or_default().to_string();
                let step = steps.iter().find(|(_, want)| want.name == name);
                if step.is_none() && !name.ends_with(&suffix) {
                    continue;
                }
                let ours = is_ours(ctx, &group).await?;
                match step {
                    Some((step, _)) if !ours => snap.conflicts.push(Conflict::taken(
                        step,
                        "a log group with this name",
                        &ctx.owner,
                    )),
                    Some((step, want)) => {
                        let current = LogGroup {
                            name: name.clone(),
                            // No retention: the logs never expire.
                            retention_days: group
                                .retention_in_days()
                                .and_then(|d| u64::try_from(d).ok())
                                .unwrap_or(0),
                            tags: want.tags.clone(),
                        };
                        snap.found.insert(
                            step.id.clone(),
                            Found::new(Kind::LogGroup, &current, outputs(&name)),
                        );
                    }
                    None if ours => snap.orphans.push(Orphan {
                        kind: Kind::LogGroup,
                        id: name.clone(),
                        resource: format!("log group {name}"),
                    }),
                    None => {}
                }
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &LogGroup,
        ) -> Result<Outputs, DeployError> {
            let tags = want
                .tags
                .0
                .pairs()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            ctx.clients
                .logs
                .create_log_group()
                .log_group_name(&want.name)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "CreateLogGroup", &e))?;
            retain(ctx, step, want).await?;
            Ok(outputs(&want.name))
        }

        async fn update(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &LogGroup,
            found: &Found,
            _changes: &[FieldChange],
        ) -> Result<Outputs, DeployError> {
            retain(ctx, step, want).await?;
            Ok(found.outputs.clone())
        }

        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            match ctx
                .clients
                .logs
                .delete_log_group()
                .log_group_name(gone.id)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if error_code(&e) == Some(NOT_FOUND) => Ok(()),
                Err(e) => Err(aws_error(gone.resource, "DeleteLogGroup", &e)),
            }
        }
    }

    async fn retain(ctx: &Ctx, step: &StepRef<'_>, want: &LogGroup) -> Result<(), DeployError> {
        let days = i32::try_from(want.retention_days).unwrap_or(i32::MAX);
        ctx.clients
            .logs
            .put_retention_policy()
            .log_group_name(&want.name)
            .retention_in_days(days)
            .send()
            .await
            .map_err(|e| aws_error(step.resource, "PutRetentionPolicy", &e))?;
        Ok(())
    }
}
