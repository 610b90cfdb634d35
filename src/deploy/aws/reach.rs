//! Failing fast when AWS cannot be reached at all. The SDK's standard retry treats every
//! connection error as transient (`TransientErrorClassifier`: I/O, timeouts, a connection
//! closed before the answer), so an endpoint
//! that refuses connections, a host name that does not resolve or a firewall that drops
//! packets cost ten attempts and a minute of backoff before the first message. Until a service
//! has answered once, such errors mean the configuration is wrong, not that the network
//! blinked: they are not retried, and they name the URL they could not reach. Once a service
//! has answered, its calls keep the standard, patient policy (a connection reset in the middle
//! of a 10-minute apply is retried).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextMut, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::{Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The services that have answered at least once, shared by every client.
#[derive(Clone, Debug, Default)]
pub struct Reach {
    answered: Arc<Mutex<BTreeSet<String>>>,
}

/// Where the current attempt was sent: scheme and host of its URL.
#[derive(Clone, Debug)]
struct Target(String);

impl Storable for Target {
    type Storer = StoreReplace<Self>;
}

/// A connection error, with the URL and service it could not reach.
#[derive(Debug)]
pub struct CannotConnect {
    pub url: String,
    pub service: String,
    pub cause: String,
}

impl fmt::Display for CannotConnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot connect to {} ({})", self.url, self.service)?;
        if !self.cause.is_empty() {
            write!(f, ": {}", self.cause)?;
        }
        Ok(())
    }
}

impl std::error::Error for CannotConnect {}

fn service(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>()
        .map(|m| m.service().to_string())
        .unwrap_or_default()
}

/// The innermost cause of an error, on one line.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

impl Reach {
    fn has_answered(&self, service: &str) -> bool {
        self.answered
            .lock()
            .map(|s| s.contains(service))
            .unwrap_or(true)
    }
}

impl Intercept for Reach {
    fn name(&self) -> &'static str {
        "reach"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = ctx.request().uri();
        // Scheme and authority: the path and query may carry the call's parameters.
        let end = uri
            .find("://")
            .map(|i| i + 3)
            .and_then(|s| uri[s..].find(['/', '?']).map(|e| s + e))
            .unwrap_or(uri.len());
        cfg.interceptor_state()
            .store_put(Target(uri[..end].to_string()));
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _ctx: &BeforeDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(mut s) = self.answered.lock() {
            s.insert(service(cfg));
        }
        Ok(())
    }

    /// Names the URL and service in a connection error, keeping its kind for the retry
    /// classifiers.
    fn modify_before_attempt_completion(
        &self,
        ctx: &mut FinalizerInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Err(error)) = ctx.output_or_error_mut() else {
            return Ok(());
        };
        let Some(old) = error.as_connector_error() else {
            return Ok(());
        };
        let wrapped: BoxError = Box::new(CannotConnect {
            url: cfg
                .load::<Target>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
            service: service(cfg),
            cause: innermost(old),
        });
        let new = if old.is_timeout() {
            ConnectorError::timeout(wrapped)
        } else if old.is_io() {
            ConnectorError::io(wrapped)
        } else if old.is_user() {
            ConnectorError::user(wrapped)
        } else {
            ConnectorError::other(wrapped, old.as_other())
        };
        *error = OrchestratorError::connector(new);
        Ok(())
    }
}

impl ClassifyRetry for Reach {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        // No HTTP answer at all: refused, unresolved, timed out, hung up, TLS refused.
        let Some(c) = error.as_connector_error() else {
            return RetryAction::NoActionIndicated;
        };
        let service = std::error::Error::source(c)
            .and_then(|s| s.downcast_ref::<CannotConnect>())
            .map(|c| c.service.as_str())
            .unwrap_or_default();
        if !self.has_answered(service) {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "no retry before a service has answered"
    }

    /// After the SDK's transient-error classifier, whose "retry" this overrides.
    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The connection error in an SDK error's causes, if that is what it is.
pub fn cannot_connect<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e CannotConnect> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(found) = c.downcast_ref::<CannotConnect>() {
            return Some(found);
        }
        cause = c.source();
    }
    None
}
