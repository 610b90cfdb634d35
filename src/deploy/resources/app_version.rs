//! The application version: the source bundle registered with Elastic Beanstalk, labelled by
//! the bundle's hash (same containers, same label). Processing it is waited for.

use serde::{Deserialize, Serialize};

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource, Stage, Tags};

crate::desired! {
    /// The parameters of CreateApplicationVersion.
    pub struct AppVersion<S> {
        #[field("ApplicationName", Identity)]
        pub application: S::Of<String>,
        #[field("VersionLabel", Identity)]
        pub label: String,
        #[field("SourceBundle", Ignore("the label is the bundle's hash: another bundle is another version"))]
        pub bundle: SourceBundle<S>,
        #[field("Process", Ignore("asked at creation: Elastic Beanstalk validates the bundle"))]
        pub process: bool,
        #[field("KeepNewest", Ignore("stackc's rule, applied after a healthy apply (`prune`): how many of the application's versions stackc keeps, not a property of this one"))]
        pub keep: u32,
        #[field("Tags", Ignore("tags are set at creation; versions belong to the stack through its application"))]
        pub tags: Tags,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceBundle<S: Stage> {
    #[serde(rename = "S3Bucket")]
    pub bucket: S::Of<String>,
    #[serde(rename = "S3Key")]
    pub key: S::Of<String>,
}

pub const LABEL: Output<AppVersion, String> = Output::new("version_label");

impl Resource for AppVersion {
    const ACTIONS: &'static [&'static str] = &[
        "elasticbeanstalk:DescribeApplicationVersions",
        "elasticbeanstalk:CreateApplicationVersion",
        "elasticbeanstalk:DeleteApplicationVersion",
        "elasticbeanstalk:AddTags",
    ];

    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        vec![
            Grant::anywhere(&["elasticbeanstalk:DescribeApplicationVersions"]),
            Grant::new(
                &[
                    "elasticbeanstalk:CreateApplicationVersion",
                    "elasticbeanstalk:DeleteApplicationVersion",
                    "elasticbeanstalk:AddTags",
                ],
                vec![
                    scope.arn(
                        "elasticbeanstalk",
                        &format!("applicationversion/{}/*", scope.stack),
                    ),
                    scope.arn("elasticbeanstalk", &format!("application/{}", scope.stack)),
                ],
            ),
        ]
    }
    const ACTION: &'static str = "elasticbeanstalk:CreateApplicationVersion";
    const USES: &'static [Kind] = &[Kind::Application, Kind::Bundle];
}

#[cfg(feature = "aws")]
pub use aws::VersionInfo;
#[cfg(feature = "aws")]
pub use aws::prune;
#[cfg(feature = "aws")]
pub(crate) use aws::{bundle_buckets, planned_version, versions};

/// The versions to delete so that `keep` of those stackc made (`ours`) remain: the oldest of
/// them, never `running`. `versions` are (label, created, ours), in any order; the others are
/// not stackc's to count or delete.
pub fn to_prune<'a, T: Ord + Copy>(
    versions: &'a [(String, T, bool)],
    keep: u32,
    running: &str,
) -> Vec<&'a str> {
    let mut newest: Vec<&(String, T, bool)> = versions.iter().filter(|v| v.2).collect();
    newest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let keep = usize::try_from(keep).unwrap_or(usize::MAX);
    newest
        .into_iter()
        .skip(keep)
        .filter(|(label, ..)| label != running)
        .map(|(label, ..)| label.as_str())
        .collect()
}

#[cfg(feature = "aws")]
mod aws {
    use aws_sdk_elasticbeanstalk::types::{
        ApplicationVersionDescription, ApplicationVersionStatus, S3Location,
    };

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::wait::{self, Poll};
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, message_has};
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::application::{Application, app_is_ours, eb_tags};
    use crate::deploy::state::{Found, Snapshot};
    use crate::lower::{Plan, Step};

    /// Where a version's processing stands.
    enum State {
        /// Processed, or not to be processed (`Unprocessed`), or no status reported: usable.
        Done,
        Pending(String),
        Failed(String),
    }

    /// AWS documents `Processed`, `Processing`, ...; some implementations send `PROCESSED`, so
    /// the word is compared without case.
    fn state(status: Option<&ApplicationVersionStatus>) -> State {
        let Some(s) = status else { return State::Done };
        let word = s.as_str().to_string();
        match word.to_ascii_lowercase().as_str() {
            "processed" | "unprocessed" => State::Done,
            "failed" => State::Failed(word),
            _ => State::Pending(word),
        }
    }

    async fn describe(
        ctx: &Ctx,
        app: &str,
        label: &str,
    ) -> Result<Option<ApplicationVersionDescription>, DeployError> {
        let r = ctx
            .clients
            .eb
            .describe_application_versions()
            .application_name(app)
            .version_labels(label)
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &format!("application version {label}"),
                    "DescribeApplicationVersions",
                    &e,
                )
            })?;
        Ok(r.application_versions()
            .iter()
            .find(|v| v.version_label() == Some(label))
            .cloned())
    }

    /// The plan's version as it exists, if its application is the stack's: read once per
    /// refresh, at the same time as the application.
    pub(crate) async fn planned_version(
        ctx: &Ctx,
        reads: &Reads,
        plan: &Plan,
    ) -> Result<Option<ApplicationVersionDescription>, DeployError> {
        let Some(v) = plan.steps.iter().find_map(|s| s.desired_as::<AppVersion>()) else {
            return Ok(None);
        };
        let Some(app) = plan.referred::<Application, _>(&v.application) else {
            return Ok(None);
        };
        let version = reads.once(
            format!("elasticbeanstalk:DescribeApplicationVersions {}", v.label),
            describe(ctx, &app.name, &v.label),
        );
        let (ours, version) = tokio::join!(app_is_ours(ctx, reads, &app.name), version);
        Ok(if ours? { (*version?).clone() } else { None })
    }

    /// One version of an application.
    pub struct VersionInfo {
        pub label: String,
        pub created: Option<aws_smithy_types::DateTime>,
        pub bucket: Option<String>,
        pub key: Option<String>,
    }

    /// Every version of the application.
    pub(crate) async fn versions(
        ctx: &Ctx,
        app: &str,
        resource: &str,
    ) -> Result<Vec<VersionInfo>, DeployError> {
        // DescribeApplicationVersions pages with NextToken when MaxRecords is given; without
        // it AWS answers every version at once.
        let r = ctx
            .clients
            .eb
            .describe_application_versions()
            .application_name(app)
            .send()
            .await
            .map_err(|e| aws_error(resource, "DescribeApplicationVersions", &e))?;
        Ok(r.application_versions()
            .iter()
            .map(|v| VersionInfo {
                label: v.version_label().unwrap_or_default().to_string(),
                created: v.date_created().copied(),
                bucket: v
                    .source_bundle()
                    .and_then(|b| b.s3_bucket())
                    .map(str::to_string),
                key: v
                    .source_bundle()
                    .and_then(|b| b.s3_key())
                    .map(str::to_string),
            })
            .collect())
    }

    /// The buckets holding the application's bundles under `prefix`, wherever its versions
    /// say they are (Elastic Beanstalk's bucket is found without creating anything).
    pub(crate) async fn bundle_buckets(
        ctx: &Ctx,
        app: &str,
        prefix: &str,
        resource: &str,
    ) -> Result<std::collections::BTreeSet<String>, DeployError> {
        Ok(versions(ctx, app, resource)
            .await?
            .into_iter()
            .filter(|v| v.key.as_deref().is_some_and(|k| k.starts_with(prefix)))
            .filter_map(|v| v.bucket)
            .collect())
    }

    /// After a healthy apply: deletes the application's oldest versions that stackc made (a
    /// `v-` label of a bundle under the stack's prefix), with their bundles, so that the plan's
    /// `keep` newest remain, never the one just deployed. Returns the labels deleted; one that
    /// cannot be deleted (AWS refuses a version an environment runs) is a note, not a failure:
    /// the deploy itself is done.
    pub async fn prune(ctx: &Ctx, plan: &Plan) -> (Vec<String>, Vec<String>) {
        let (mut deleted, mut notes) = (Vec::new(), Vec::new());
        let Some(v) = plan.steps.iter().find_map(|s| s.desired_as::<AppVersion>()) else {
            return (deleted, notes);
        };
        let Some(app) = plan.referred::<Application, _>(&v.application) else {
            return (deleted, notes);
        };
        let resource = format!("application {}", app.name);
        let all = match versions(ctx, &app.name, &resource).await {
            Ok(all) => all,
            Err(e) => {
                notes.push(format!("old versions were not pruned: {e}"));
                return (deleted, notes);
            }
        };
        let prefix = crate::naming::bundle_prefix(&ctx.stack);
        // (label, nanoseconds since 1970 — a version without a date counts as the oldest, ours)
        let listed: Vec<(String, i128, bool)> = all
            .iter()
            .map(|i| {
                let ours = crate::naming::is_version_label(&i.label)
                    && i.key.as_deref().is_some_and(|k| k.starts_with(&prefix));
                let created = i.created.map_or(i128::MIN, |c| c.as_nanos());
                (i.label.clone(), created, ours)
            })
            .collect();
        for label in super::to_prune(&listed, v.keep, &v.label) {
            let r = ctx
                .clients
                .eb
                .delete_application_version()
                .application_name(&app.name)
                .version_label(label)
                .delete_source_bundle(true)
                .send()
                .await;
            match r {
                Ok(_) => deleted.push(label.to_string()),
                Err(e) => notes.push(format!(
                    "old version {label} was not deleted: {}",
                    aws_error(&resource, "DeleteApplicationVersion", &e)
                )),
            }
        }
        (deleted, notes)
    }

    fn outputs(label: &str) -> Outputs {
        let mut out = Outputs::new();
        LABEL.set(&mut out, label.to_string());
        out.insert("id".into(), label.into());
        out
    }

    /// Waits until Elastic Beanstalk has processed the bundle.
    async fn processed(
        ctx: &Ctx,
        step: &StepRef<'_>,
        app: &str,
        label: &str,
    ) -> Result<Outputs, DeployError> {
        wait::until(ctx, step.id, step.resource, ctx.timing.environment_timeout, || async {
            Ok(match describe(ctx, app, label).await? {
                None => Poll::Failed("deleted".into()),
                Some(v) => match state(v.status()) {
                    State::Done => Poll::Ready(()),
                    State::Pending(s) => Poll::Pending(s),
                    State::Failed(s) => Poll::Failed(format!(
                        "{s}: Elastic Beanstalk could not process the source bundle; see `aws elasticbeanstalk describe-events`, \
                         then delete this version and apply again"
                    )),
                },
            })
        })
        .await?;
        Ok(outputs(label))
    }

    impl Apply for AppVersion {
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            let Some((step, want)) = steps.first() else {
                return Ok(snap);
            };
            let Some(v) = planned_version(ctx, reads, plan).await? else {
                return Ok(snap);
            };
            let label = v.version_label().unwrap_or_default();
            let b = v.source_bundle();
            let current = AppVersion::<Live> {
                application: v.application_name().unwrap_or_default().to_string(),
                label: label.to_string(),
                bundle: SourceBundle {
                    bucket: b
                        .and_then(S3Location::s3_bucket)
                        .unwrap_or_default()
                        .to_string(),
                    key: b
                        .and_then(S3Location::s3_key)
                        .unwrap_or_default()
                        .to_string(),
                },
                process: want.process,
                keep: want.keep,
                tags: want.tags.clone(),
            };
            let mut found = Found::new(Kind::AppVersion, &current, outputs(label));
            // Only an unfinished or failed version needs the executor's attention.
            if let State::Pending(s) | State::Failed(s) = state(v.status()) {
                found = found.with_status(s, false);
            }
            snap.found.insert(step.id.clone(), found);
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &AppVersion<Live>,
        ) -> Result<Outputs, DeployError> {
            let bundle = S3Location::builder()
                .s3_bucket(&want.bundle.bucket)
                .s3_key(&want.bundle.key)
                .build();
            let status = match ctx
                .clients
                .eb
                .create_application_version()
                .application_name(&want.application)
                .version_label(&want.label)
                .source_bundle(bundle)
                .process(want.process)
                .set_tags(Some(eb_tags(&want.tags)))
                .send()
                .await
            {
                Ok(r) => r.application_version().and_then(|v| v.status()).cloned(),
                // The label is the bundle's hash: an existing version is this bundle (an apply
                // interrupted after creating it, or the SDK retrying a create that went through).
                Err(e) if message_has(&e, "InvalidParameterValue", &["already exists"]) => {
                    Some(ApplicationVersionStatus::Processing)
                }
                Err(e) => return Err(aws_error(step.resource, "CreateApplicationVersion", &e)),
            };
            if matches!(state(status.as_ref()), State::Done) {
                return Ok(outputs(&want.label));
            }
            processed(ctx, step, &want.application, &want.label).await
        }

        async fn settle(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &AppVersion<Live>,
            found: &Found,
        ) -> Result<Outputs, DeployError> {
            if found.status.is_none() {
                return Ok(found.outputs.clone());
            }
            processed(ctx, step, &want.application, &want.label).await
        }

        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            match ctx
                .clients
                .eb
                .delete_application_version()
                .application_name(&ctx.stack)
                .version_label(gone.id)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                // "No Application Version named ...", "No Application named ...".
                Err(e) if message_has(&e, "InvalidParameterValue", &["no application"]) => Ok(()),
                Err(e) => Err(aws_error(gone.resource, "DeleteApplicationVersion", &e)),
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn version_states_ignore_case() {
            let st = |s: &str| state(Some(&ApplicationVersionStatus::from(s)));
            assert!(matches!(st("Processed"), State::Done));
            assert!(matches!(st("PROCESSED"), State::Done));
            assert!(matches!(st("Unprocessed"), State::Done));
            assert!(matches!(state(None), State::Done));
            assert!(matches!(st("PROCESSING"), State::Pending(w) if w == "PROCESSING"));
            assert!(matches!(st("Building"), State::Pending(_)));
            assert!(matches!(st("Failed"), State::Failed(_)));
        }
    }
}

#[cfg(test)]
mod prune_tests {
    use super::to_prune;

    fn v(label: &str, at: i64, ours: bool) -> (String, i64, bool) {
        (label.to_string(), at, ours)
    }

    #[test]
    fn the_oldest_of_ours_go_never_the_running_one() {
        let all = [
            v("v-5", 5, true),
            v("v-1", 1, true),
            v("manual", 2, false),
            v("v-4", 4, true),
            v("v-3", 3, true),
        ];
        // The two newest of stackc's stay; the one a person uploaded is not counted or deleted.
        assert_eq!(to_prune(&all, 2, "v-5"), ["v-3", "v-1"]);
        // A rollback runs an old version: it is not deleted, even when it is past `keep`.
        assert_eq!(to_prune(&all, 2, "v-1"), ["v-3"]);
        assert_eq!(to_prune(&all, 3, "v-5"), ["v-1"]);
        assert!(to_prune(&all, 4, "v-5").is_empty());
        assert!(to_prune(&all[..0], 2, "v-5").is_empty());
    }
}
