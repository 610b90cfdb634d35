//! Waiting for AWS to finish: poll a describe call until the resource reaches a final state,
//! with backoff between polls and a timeout per resource. Transitional states are waited
//! for, not failed.

use std::future::Future;
use std::time::{Duration, Instant};

use super::{Ctx, DeployError};

/// What one poll saw.
pub enum Poll<T> {
    /// Done, with the result.
    Ready(T),
    /// Still in progress, in this AWS status.
    Pending(String),
    /// A final state that is not the one wanted (e.g. `failed`, `incompatible-parameters`).
    Failed(String),
}

/// Polls `check` until it is ready, showing each status on the step's progress line.
pub async fn until<T, F, Fut>(
    ctx: &Ctx,
    step: &str,
    resource: &str,
    timeout: Duration,
    mut check: F,
) -> Result<T, DeployError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, DeployError>>,
{
    let start = Instant::now();
    let mut interval = ctx.timing.poll_first;
    loop {
        match check().await? {
            Poll::Ready(t) => return Ok(t),
            Poll::Failed(status) => {
                return Err(DeployError::other(
                    resource,
                    format!("ended in status `{status}`"),
                ));
            }
            Poll::Pending(status) => {
                ctx.progress.status(step, &status);
                if start.elapsed() + interval > timeout {
                    return Err(DeployError::other(
                        resource,
                        format!(
                            "still `{status}` after {}; run apply again to keep waiting",
                            duration(timeout)
                        ),
                    ));
                }
            }
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 3 / 2).min(ctx.timing.poll_max);
    }
}

/// A timeout in words: `15 minutes`, `90 seconds`.
fn duration(d: Duration) -> String {
    match d.as_secs() {
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}
