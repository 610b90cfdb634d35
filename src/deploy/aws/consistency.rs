//! EC2's eventual consistency, retried the SDK's way. AWS documents that a resource just
//! created may be unknown to the next calls that name it ("Eventual consistency in the Amazon
//! EC2 API": `InvalidGroup.NotFound` right after CreateSecurityGroup, and recommends retrying
//! with a capped exponential backoff). The SDK's standard retry does not retry these codes, so
//! the calls that name a group stackc may have just created add a retry classifier for them,
//! with their own bounded retry: never a hand-written loop.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// The codes EC2 answers for a security group it does not show yet.
pub const GROUP_NOT_YET_VISIBLE: [&str; 2] = ["InvalidGroup.NotFound", "InvalidGroupId.NotFound"];

/// Retries an operation whose error `E` has one of `codes`.
pub struct NotYetVisible<E> {
    codes: &'static [&'static str],
    _error: PhantomData<fn() -> E>,
}

impl<E> NotYetVisible<E> {
    pub fn new(codes: &'static [&'static str]) -> NotYetVisible<E> {
        NotYetVisible {
            codes,
            _error: PhantomData,
        }
    }
}

impl<E> fmt::Debug for NotYetVisible<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NotYetVisible({:?})", self.codes)
    }
}

impl<E> ClassifyRetry for NotYetVisible<E>
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let code = OrchestratorError::as_operation_error(error)
            .and_then(|e| e.downcast_ref::<E>())
            .and_then(ProvideErrorMetadata::code);
        match code {
            Some(c) if self.codes.contains(&c) => RetryAction::transient_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "not yet visible (EC2 eventual consistency)"
    }
}

/// The retry of such a call: short first waits (the group usually shows within a second),
/// capped, bounded (about a minute in all).
pub fn retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(10)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(10))
}
