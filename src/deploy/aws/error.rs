//! The error of a failed step, made from an SDK error with AWS's code and message, never a
//! debug dump; and the scrubbing of secrets from any message AWS may have built from a request.

use std::fmt;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// A failed AWS call: which resource, which call, AWS's error code and message.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployError {
    pub resource: String,
    pub call: String,
    pub code: String,
    pub message: String,
}

impl fmt::Display for DeployError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.call.is_empty() {
            write!(f, "{}: {}", self.resource, self.message)
        } else if self.code.is_empty() {
            write!(
                f,
                "{}: {} failed: {}",
                self.resource, self.call, self.message
            )
        } else {
            write!(
                f,
                "{}: {} failed: {}: {}",
                self.resource, self.call, self.code, self.message
            )
        }
    }
}

impl std::error::Error for DeployError {}

impl DeployError {
    /// A failure that is not an AWS error response (a timeout, a missing field).
    pub fn other(resource: impl Into<String>, message: impl Into<String>) -> DeployError {
        DeployError {
            resource: resource.into(),
            call: String::new(),
            code: String::new(),
            message: message.into(),
        }
    }
}

/// The innermost cause of an error, on one line of at most 200 characters.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let text = cause.to_string();
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

/// Turns an SDK error into a [`DeployError`]: AWS's code and message, never a debug dump.
pub fn aws_error<E>(resource: &str, call: &str, e: &E) -> DeployError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = if let Some(c) = super::reach::cannot_connect(e) {
        (String::new(), c.to_string())
    } else if let Some(m) = e.message() {
        (e.code().unwrap_or("NoAwsError").to_string(), m.to_string())
    } else {
        // No AWS error in the answer (a timeout, a proxy's HTML page): the innermost cause in
        // one line, never the SDK's dump of the raw response.
        let line = one_line(e);
        let message = if line.is_empty() {
            "no AWS error in the response".to_string()
        } else {
            format!("no AWS error in the response: {line}")
        };
        (e.code().unwrap_or("NoAwsError").to_string(), message)
    };
    DeployError {
        resource: resource.to_string(),
        call: call.to_string(),
        code,
        message,
    }
}

/// The error code of an SDK error, for matching "not found" and friends.
pub fn error_code<E: ProvideErrorMetadata>(e: &E) -> Option<&str> {
    e.code()
}

/// Whether an error has this code and its message one of these words (AWS gives some errors
/// one code and tells them apart in the message: Elastic Beanstalk's `InvalidParameterValue`).
pub fn message_has<E: ProvideErrorMetadata>(e: &E, code: &str, needles: &[&str]) -> bool {
    let msg = e.message().unwrap_or_default().to_ascii_lowercase();
    error_code(e) == Some(code) && needles.iter().any(|n| msg.contains(n))
}

/// Removes secret values from an error whose message AWS may have built from the request.
pub fn scrub<S: AsRef<str>>(mut e: DeployError, secrets: &[S]) -> DeployError {
    for s in secrets.iter().map(AsRef::as_ref).filter(|s| !s.is_empty()) {
        e.message = e.message.replace(s, "(sensitive)");
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_from_errors() {
        let e = DeployError {
            resource: "RDS instance x".into(),
            call: "CreateDBInstance".into(),
            code: "InvalidParameterValue".into(),
            message: "The parameter MasterUserPassword is not valid: hunter2 contains /".into(),
        };
        let s = scrub(e, &["hunter2", ""]);
        assert!(!s.to_string().contains("hunter2"), "{s}");
        assert!(s.to_string().contains("(sensitive)"));
    }
}
