//! The source bundle: a zip holding `Dockerrun.aws.json`, uploaded with `s3:PutObject` to
//! Elastic Beanstalk's bucket of the region (the storage location, a lookup that makes the
//! bucket the first time). The key holds the version label, itself the bundle's hash: the
//! bundle exists exactly when its application version does, so both are read from the version.

use serde::{Deserialize, Serialize};

use super::Kind;
use crate::deploy::policy::{Grant, Scope};
use crate::deploy::resource::{Output, Resource, Stage};

crate::desired! {
    /// The parameters of CreateStorageLocation (none).
    #[derive(Default)]
    pub struct StorageLocation {}
}

crate::desired! {
    /// The parameters of PutObject.
    pub struct Bundle<S> {
        #[field("Bucket", Ignore("Elastic Beanstalk's bucket of the region, the same every time"))]
        pub bucket: S::Of<String>,
        #[field("Key", Identity)]
        pub key: String,
        #[field("Body", Ignore("the key holds the version label, the hash of the bundle's content"))]
        pub body: Body<S>,
    }
}

/// `{"zip": ["Dockerrun.aws.json"]}`: the body is a zip of these files. With
/// `executionRoleArn`, the ARN of the execution role stackc makes goes into the Dockerrun at
/// upload (it holds the account's id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Body<S: Stage> {
    pub zip: Vec<String>,
    #[serde(
        rename = "executionRoleArn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub execution_role: Option<S::Of<String>>,
    /// Every container writes to this log group with the `awslogs` driver, in the region of
    /// the apply (known at upload, so the Dockerrun of `stackc build` names neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awslogs: Option<AwsLogs<S>>,
    /// The images of built services by container name, `<registry>/<repository>@<digest>`
    /// (known once pushed): they replace the `<repository>:<tag>` of `stackc build`'s file.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub images: std::collections::BTreeMap<String, S::Of<String>>,
}

/// The `logConfiguration` of every container: the group and the stream prefix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AwsLogs<S: Stage> {
    pub group: S::Of<String>,
    #[serde(rename = "streamPrefix")]
    pub stream_prefix: String,
}

/// The name of the bundle's file, as Elastic Beanstalk's ECS platform reads it.
pub const DOCKERRUN: &str = "Dockerrun.aws.json";

/// A configuration file that makes the load balancer's port 80 listener redirect to HTTPS.
/// Elastic Beanstalk's options can only forward a listener's traffic to a process; AWS's way
/// is to override the listener Elastic Beanstalk makes, by its resource name, in an
/// `.ebextensions` file of the source bundle ("Configuring HTTP to HTTPS redirection":
/// "configure the environment's Application Load Balancer"; "Modifying the resources that
/// Elastic Beanstalk creates for your environment": `AWSEBV2LoadBalancerListener`, the
/// listener on port 80, and `AWSEBV2LoadBalancer`). The file is the one AWS's samples give
/// (elastic-beanstalk-samples, `https-redirect`), as a permanent (301) redirect.
pub const HTTPS_REDIRECT: &str = ".ebextensions/stackc-https-redirect.config";

const HTTPS_REDIRECT_CONFIG: &str = "\
# Written by stackc: the load balancer's port 80 listener redirects every request to HTTPS.
Resources:
  AWSEBV2LoadBalancerListener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn:
        Ref: AWSEBV2LoadBalancer
      Port: 80
      Protocol: HTTP
      DefaultActions:
        - Type: redirect
          RedirectConfig:
            Protocol: HTTPS
            Port: \"443\"
            Host: \"#{host}\"
            Path: \"/#{path}\"
            Query: \"#{query}\"
            StatusCode: HTTP_301
";

/// The files a bundle may hold besides the Dockerrun: name and text, fixed by stackc.
pub const EXTRA_FILES: &[(&str, &str)] = &[(HTTPS_REDIRECT, HTTPS_REDIRECT_CONFIG)];

/// The text of one of [`EXTRA_FILES`].
pub fn extra_file(name: &str) -> Option<&'static str> {
    EXTRA_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

pub const S3_BUCKET: Output<StorageLocation, String> = Output::new("s3_bucket");
pub const BUCKET: Output<Bundle, String> = Output::new("bucket");
pub const KEY: Output<Bundle, String> = Output::new("key");

impl Resource for StorageLocation {
    const ACTIONS: &'static [&'static str] = &[
        "elasticbeanstalk:CreateStorageLocation",
        "s3:CreateBucket",
        "s3:PutBucketPolicy",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketPublicAccessBlock",
    ];

    /// Elastic Beanstalk makes its bucket of the region with the caller's rights.
    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        vec![
            Grant::anywhere(&["elasticbeanstalk:CreateStorageLocation"]),
            Grant::new(
                &[
                    "s3:CreateBucket",
                    "s3:PutBucketPolicy",
                    "s3:PutBucketOwnershipControls",
                    "s3:PutBucketPublicAccessBlock",
                ],
                vec![format!("arn:aws:s3:::elasticbeanstalk-{}-*", scope.region)],
            ),
        ]
    }
    const ACTION: &'static str = "elasticbeanstalk:CreateStorageLocation";
    const USES: &'static [Kind] = &[];
    const LOOKUP: bool = true;
}

impl Resource for Bundle {
    const ACTIONS: &'static [&'static str] = &[
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:DeleteObject",
    ];

    /// Only the stack's bundles, under `stackc/<stack>/`.
    fn grants(scope: &Scope<'_>, _steps: &[&Self]) -> Vec<Grant> {
        let bucket = format!("arn:aws:s3:::elasticbeanstalk-{}-*", scope.region);
        vec![
            Grant::new(&["s3:ListBucket"], vec![bucket.clone()]),
            Grant::new(
                &["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                vec![format!(
                    "{bucket}/{}*",
                    crate::naming::bundle_prefix(scope.stack)
                )],
            ),
        ]
    }
    const ACTION: &'static str = "s3:PutObject";
    const USES: &'static [Kind] = &[Kind::StorageLocation];
}

#[cfg(feature = "aws")]
pub(crate) use aws::{delete_prefix, images};

#[cfg(feature = "aws")]
mod aws {
    use std::io::Write as _;

    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};

    use super::*;
    use crate::deploy::aws::reads::Reads;
    use crate::deploy::aws::{Apply, Ctx, DeployError, Gone, StepRef, aws_error, error_code};
    use crate::deploy::resource::{Live, Outputs};
    use crate::deploy::resources::app_version::planned_version;
    use crate::deploy::state::{Found, Snapshot};
    use crate::lower::{Plan, Step};

    /// A zip of `files`, byte-identical for the same content (fixed timestamp 1980-01-01 00:00,
    /// fixed permissions, fixed compression level).
    pub(crate) fn bundle_zip(files: &[(&str, &str)]) -> Result<Vec<u8>, String> {
        use zip::write::SimpleFileOptions;
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, text) in files {
            w.start_file(*name, options).map_err(|e| e.to_string())?;
            w.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
        }
        Ok(w.finish().map_err(|e| e.to_string())?.into_inner())
    }

    /// The Dockerrun as uploaded: with `executionRoleArn` (after `AWSEBDockerrunVersion`,
    /// where `lower` writes a role the program names) and every container's
    /// `logConfiguration`, whose `awslogs-region` is the apply's.
    pub(crate) fn for_upload(
        dockerrun: &str,
        body: &Body<Live>,
        region: &str,
    ) -> Result<String, String> {
        if body.execution_role.is_none() && body.awslogs.is_none() && body.images.is_empty() {
            return Ok(dockerrun.to_string());
        }
        let doc: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(dockerrun).map_err(|e| e.to_string())?;
        let mut out = serde_json::Map::new();
        for (k, mut v) in doc {
            if k == "containerDefinitions" {
                for c in v
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.as_object_mut())
                {
                    let name = c.get("name").and_then(|n| n.as_str()).unwrap_or_default();
                    if let Some(image) = body.images.get(name) {
                        c.insert("image".into(), image.as_str().into());
                    }
                }
            }
            if let (Some(logs), "containerDefinitions") = (&body.awslogs, k.as_str()) {
                for c in v.as_array_mut().into_iter().flatten() {
                    if let Some(c) = c.as_object_mut() {
                        c.insert(
                            "logConfiguration".into(),
                            serde_json::json!({
                                "logDriver": "awslogs",
                                "options": {
                                    "awslogs-group": logs.group,
                                    "awslogs-region": region,
                                    "awslogs-stream-prefix": logs.stream_prefix,
                                }
                            }),
                        );
                    }
                }
            }
            let version = k == "AWSEBDockerrunVersion";
            out.insert(k, v);
            if let (true, Some(arn)) = (version, &body.execution_role) {
                out.insert("executionRoleArn".into(), arn.as_str().into());
            }
        }
        if let Some(arn) = &body.execution_role {
            out.entry("executionRoleArn")
                .or_insert_with(|| arn.as_str().into());
        }
        Ok(crate::lower::to_json(&out))
    }

    /// The containers and images of the Dockerrun in a bundle.
    pub(crate) async fn images(
        ctx: &Ctx,
        bucket: &str,
        key: &str,
        resource: &str,
    ) -> Result<Vec<(String, String)>, DeployError> {
        use std::io::Read as _;
        let object = ctx
            .clients
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| aws_error(resource, "GetObject", &e))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| DeployError::other(resource, format!("cannot read the bundle: {e}")))?
            .into_bytes();
        let unreadable = |e: String| {
            DeployError::other(
                resource,
                format!("the bundle {key} is not a readable zip: {e}"),
            )
        };
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| unreadable(e.to_string()))?;
        let mut text = String::new();
        zip.by_name(DOCKERRUN)
            .map_err(|e| unreadable(e.to_string()))?
            .read_to_string(&mut text)
            .map_err(|e| unreadable(e.to_string()))?;
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
        Ok(doc["containerDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["name"].as_str().unwrap_or_default().to_string(),
                    c["image"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect())
    }

    /// Deletes the objects under `prefix` in `bucket`; a missing bucket is nothing to delete.
    pub(crate) async fn delete_prefix(
        ctx: &Ctx,
        bucket: &str,
        prefix: &str,
        resource: &str,
    ) -> Result<(), DeployError> {
        let s3 = &ctx.clients.s3;
        let pages = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        let mut keys = Vec::new();
        for page in pages {
            match page {
                Ok(page) => keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key().map(str::to_string)),
                ),
                Err(e) if error_code(&e) == Some("NoSuchBucket") => return Ok(()),
                Err(e) => return Err(aws_error(resource, "ListObjectsV2", &e)),
            }
        }
        // One DeleteObjects call deletes up to 1000 keys.
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DeployError::other(resource, format!("invalid object key: {e}")))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| {
                    DeployError::other(resource, format!("invalid delete request: {e}"))
                })?;
            let r = match s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) if error_code(&e) == Some("NoSuchBucket") => return Ok(()),
                Err(e) => return Err(aws_error(resource, "DeleteObjects", &e)),
            };
            if let Some(err) = r.errors().iter().find(|e| e.code() != Some("NoSuchKey")) {
                return Err(DeployError {
                    resource: resource.to_string(),
                    call: "DeleteObjects".into(),
                    code: err.code().unwrap_or("Error").to_string(),
                    message: format!(
                        "{}: {}",
                        err.key().unwrap_or_default(),
                        err.message().unwrap_or_default()
                    ),
                });
            }
        }
        Ok(())
    }

    fn bundle_outputs(bucket: &str, key: &str) -> Outputs {
        let mut out = Outputs::new();
        BUCKET.set(&mut out, bucket.to_string());
        KEY.set(&mut out, key.to_string());
        out.insert("id".into(), format!("{bucket}/{key}").into());
        out
    }

    /// Where the plan's version's bundle is, when that version exists.
    async fn existing_bundle(
        ctx: &Ctx,
        reads: &Reads,
        plan: &Plan,
    ) -> Result<Option<(String, String)>, DeployError> {
        let Some(v) = planned_version(ctx, reads, plan).await? else {
            return Ok(None);
        };
        let b = v.source_bundle();
        Ok(b.and_then(|b| b.s3_bucket())
            .zip(b.and_then(|b| b.s3_key()))
            .map(|(b, k)| (b.to_string(), k.to_string())))
    }

    impl Apply for StorageLocation {
        /// Known without a call once the version exists: its bundle's bucket.
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            if steps.is_empty() {
                return Ok(snap);
            }
            if let Some((bucket, _)) = existing_bundle(ctx, reads, plan).await? {
                for (step, _) in steps {
                    let mut out = Outputs::new();
                    S3_BUCKET.set(&mut out, bucket.clone());
                    snap.found
                        .insert(step.id.clone(), Found::lookup(Kind::StorageLocation, out));
                }
            }
            Ok(snap)
        }

        /// Creates Elastic Beanstalk's bucket for the region if it does not exist yet, and
        /// names it; the same bucket every time.
        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            _want: &StorageLocation,
        ) -> Result<Outputs, DeployError> {
            let r = ctx
                .clients
                .eb
                .create_storage_location()
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "CreateStorageLocation", &e))?;
            let mut out = Outputs::new();
            S3_BUCKET.set(&mut out, r.s3_bucket().unwrap_or_default().to_string());
            Ok(out)
        }

        async fn delete(_ctx: &Ctx, _gone: &Gone<'_>) -> Result<(), DeployError> {
            Ok(())
        }
    }

    impl Apply for Bundle {
        async fn refresh(
            ctx: &Ctx,
            reads: &Reads,
            plan: &Plan,
            steps: &[(&Step, &Self)],
        ) -> Result<Snapshot, DeployError> {
            let mut snap = Snapshot::default();
            if steps.is_empty() {
                return Ok(snap);
            }
            if let Some((bucket, key)) = existing_bundle(ctx, reads, plan).await? {
                for (step, want) in steps {
                    let current = Bundle::<Live> {
                        bucket: bucket.clone(),
                        key: key.clone(),
                        body: Body {
                            zip: want.body.zip.clone(),
                            execution_role: None,
                            awslogs: None,
                            images: Default::default(),
                        },
                    };
                    snap.found.insert(
                        step.id.clone(),
                        Found::new(Kind::Bundle, &current, bundle_outputs(&bucket, &key)),
                    );
                }
            }
            Ok(snap)
        }

        async fn create(
            ctx: &Ctx,
            step: &StepRef<'_>,
            want: &Bundle<Live>,
        ) -> Result<Outputs, DeployError> {
            let dockerrun = for_upload(&ctx.dockerrun, &want.body, &ctx.region).map_err(|e| {
                DeployError::other(step.resource, format!("cannot read the Dockerrun: {e}"))
            })?;
            let files = want
                .body
                .zip
                .iter()
                .map(|f| match f.as_str() {
                    DOCKERRUN => Ok((DOCKERRUN, dockerrun.as_str())),
                    other => extra_file(other).map(|text| (other, text)).ok_or_else(|| {
                        DeployError::other(
                            step.resource,
                            format!("stackc does not know the bundle file {other}"),
                        )
                    }),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let body = bundle_zip(&files).map_err(|e| {
                DeployError::other(step.resource, format!("cannot build the zip: {e}"))
            })?;
            ctx.clients
                .s3
                .put_object()
                .bucket(&want.bucket)
                .key(&want.key)
                .content_type("application/zip")
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| aws_error(step.resource, "PutObject", &e))?;
            Ok(bundle_outputs(&want.bucket, &want.key))
        }

        /// Every bundle of the stack, under its prefix.
        async fn delete(ctx: &Ctx, gone: &Gone<'_>) -> Result<(), DeployError> {
            match gone.id.split_once('/') {
                Some((bucket, _)) => {
                    delete_prefix(
                        ctx,
                        bucket,
                        &crate::naming::bundle_prefix(&ctx.stack),
                        gone.resource,
                    )
                    .await
                }
                None => Ok(()),
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use std::io::Read as _;

        use super::*;

        #[test]
        fn the_bundle_is_deterministic_and_readable() {
            let doc = r#"{"AWSEBDockerrunVersion":2,"containerDefinitions":[]}"#;
            let a = bundle_zip(&[(DOCKERRUN, doc)]).expect("zip");
            assert_eq!(
                a,
                bundle_zip(&[(DOCKERRUN, doc)]).expect("zip"),
                "same content, same bytes"
            );
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(a)).expect("a valid zip");
            assert_eq!(archive.len(), 1);
            let mut file = archive
                .by_name(DOCKERRUN)
                .expect("Dockerrun.aws.json inside");
            assert_eq!(file.unix_mode(), Some(0o100644));
            let t = file.last_modified().expect("a timestamp");
            assert_eq!(
                (t.year(), t.month(), t.day(), t.hour(), t.minute()),
                (1980, 1, 1, 0, 0)
            );
            let mut text = String::new();
            file.read_to_string(&mut text).expect("readable");
            assert_eq!(text, doc);
            assert_ne!(
                bundle_zip(&[(DOCKERRUN, "{}")]).expect("zip"),
                bundle_zip(&[(DOCKERRUN, doc)]).expect("zip")
            );
        }
    }
}
