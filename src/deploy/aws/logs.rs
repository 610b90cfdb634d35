//! `stackc logs`: the containers' lines from the environment's log group, and with `platform`
//! the ECS platform's log files Elastic Beanstalk streams, interleaved by time, each named by
//! its service (ECS names an `awslogs` stream `<prefix>/<container>/<task id>`) or its file.

use serde::Serialize;

use super::{Ctx, DeployError};
use crate::deploy::resources::environment::Environment;
use crate::deploy::resources::log_group::{self, LogGroup};
use crate::lower::Plan;
use crate::naming;

/// What to read.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// One service's containers; all when None.
    pub service: Option<String>,
    /// The platform's log files too.
    pub platform: bool,
}

/// One line of a log.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    #[serde(skip)]
    pub time_ms: i64,
    /// The service, or the platform's log file.
    pub source: String,
    pub stream: String,
    pub message: String,
    #[serde(skip)]
    pub id: String,
}

/// The groups to read and how each names its lines: `(group, stream prefix, source)`, where a
/// source of None is read from the stream's name.
fn groups(plan: &Plan, q: &Query) -> Vec<(String, Option<String>, Option<String>)> {
    let mut out = Vec::new();
    for step in &plan.steps {
        if let Some(g) = step.desired_as::<LogGroup>() {
            let streams = q.service.as_deref().map(naming::service_log_streams);
            out.push((g.name.clone(), Some(streams.unwrap_or_default()), None));
        }
        if let (Some(env), true) = (step.desired_as::<Environment>(), q.platform) {
            for file in naming::PLATFORM_LOG_FILES {
                let source = file.rsplit('/').next().unwrap_or(file);
                out.push((
                    naming::platform_log_group(&env.name, file),
                    None,
                    Some(source.trim_end_matches(".log").to_string()),
                ));
            }
        }
    }
    out
}

/// The service of an `awslogs` stream `stackc/<service>/<task id>`.
fn service_of(stream: &str) -> &str {
    stream
        .strip_prefix(naming::LOG_STREAM_PREFIX)
        .and_then(|s| s.strip_prefix('/'))
        .and_then(|s| s.split('/').next())
        .unwrap_or(stream)
}

/// Every line from `start_ms` on, in time order.
pub async fn read(
    ctx: &Ctx,
    plan: &Plan,
    q: &Query,
    start_ms: i64,
) -> Result<Vec<Line>, DeployError> {
    let reads = groups(plan, q)
        .into_iter()
        .map(|(group, streams, source)| async move {
            let events = log_group::events(ctx, &group, streams.as_deref(), start_ms).await?;
            Ok::<_, DeployError>(
                events
                    .into_iter()
                    .map(|e| Line {
                        time: aws_smithy_types::DateTime::from_millis(e.time_ms)
                            .fmt(aws_smithy_types::date_time::Format::DateTime)
                            .unwrap_or_default(),
                        time_ms: e.time_ms,
                        source: source
                            .clone()
                            .unwrap_or_else(|| service_of(&e.stream).to_string()),
                        message: e.message.trim_end_matches(['\n', '\r']).to_string(),
                        stream: e.stream,
                        id: e.id,
                    })
                    .collect::<Vec<_>>(),
            )
        });
    let mut lines: Vec<Line> = futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .collect();
    lines.sort_by_key(|l| l.time_ms);
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_names_its_service() {
        assert_eq!(service_of("stackc/web/0123abcd"), "web");
        assert_eq!(service_of("stackc/web"), "web");
        assert_eq!(service_of("i-0abc"), "i-0abc");
    }
}
