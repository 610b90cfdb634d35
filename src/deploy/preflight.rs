//! What a deploy command needs before its first network call: a region that is a region, an
//! endpoint URL an HTTP client can reach, credentials, and every `secret("VAR")` the plan
//! reads. Each problem is found here, all at once, instead of after a minute of retried calls
//! that can never succeed (pure; the credentials are looked up by the SDK side).

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::check::names;
use crate::deploy::resource::secret_var;
use crate::lower::Plan;

/// A deploy configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The region in use, from `source`, is not an AWS region.
    Region {
        value: String,
        source: String,
    },
    NoRegion,
    /// An endpoint URL, from `source` (a flag or a variable), cannot be called.
    Endpoint {
        value: String,
        source: String,
        why: &'static str,
    },
    NoCredentials {
        why: String,
    },
    /// A `secret("VAR")` of the program whose variable is unset or empty.
    Secret {
        var: String,
        empty: bool,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Region { value, source } => write!(
                f,
                "the AWS region {:?} (from {source}) is not a region: regions look like `us-east-1`",
                value
            ),
            Problem::NoRegion => f.write_str(
                "no AWS region: set `region` in the stack block, or AWS_REGION, or a region in your AWS profile",
            ),
            Problem::Endpoint { value, source, why } => {
                write!(f, "the endpoint URL {value:?} (from {source}) {why}")
            }
            Problem::NoCredentials { why } => write!(
                f,
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, \
                 or sign in with `aws sso login` ({why})"
            ),
            Problem::Secret { var, empty } => write!(
                f,
                "the environment variable {var} is {} (the program reads it with secret(\"{var}\"))",
                if *empty { "empty" } else { "not set" }
            ),
        }
    }
}

/// The region in use, checked with the stack block's own `region` rule.
pub fn region(value: Option<&str>, source: &str) -> Option<Problem> {
    match value {
        None => Some(Problem::NoRegion),
        Some(v) if names::region(v).is_some() => Some(Problem::Region {
            value: v.to_string(),
            source: source.to_string(),
        }),
        Some(_) => None,
    }
}

/// An endpoint URL: `http` or `https`, a host, at most a port and a path; nothing an HTTP
/// client would refuse only after it has been retried.
pub fn endpoint(value: &str, source: &str) -> Option<Problem> {
    let why = endpoint_flaw(value)?;
    Some(Problem::Endpoint {
        value: value.to_string(),
        source: source.to_string(),
        why,
    })
}

fn endpoint_flaw(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return Some("is empty");
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("contains a space or a control character");
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return Some("has no scheme: write it as http://HOST:PORT or https://HOST");
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Some("must start with http:// or https://");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Some("must not carry a user name or password");
    }
    let (host, port) = match authority.strip_prefix('[') {
        // An IPv6 address: `[::1]:5000`.
        Some(v6) => match v6.split_once(']') {
            Some((addr, after))
                if !addr.is_empty()
                    && addr
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') =>
            {
                (addr, after.strip_prefix(':'))
            }
            _ => return Some("has a malformed IPv6 address"),
        },
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let host_ok = !host.is_empty()
        && (authority.starts_with('[')
            || host.split('.').all(|l| {
                !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }));
    if !host_ok {
        return Some("has no valid host name");
    }
    match port {
        Some(p)
            if !(p.chars().all(|c| c.is_ascii_digit())
                && matches!(p.parse::<u32>(), Ok(1..=65535))) =>
        {
            Some("has a port that is not a number from 1 to 65535")
        }
        _ => None,
    }
}

/// The variables of every `secret("VAR")` the plan reads: `{"secret": VAR}` in its steps.
pub fn secret_vars(plan: &Plan) -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            v if secret_var(v).is_some() => {
                out.extend(secret_var(v).map(str::to_string));
            }
            Value::Object(m) => m.values().for_each(|v| walk(v, out)),
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for step in &plan.steps {
        walk(&step.params(), &mut out);
    }
    out
}

/// The plan's secrets that `lookup` does not give a value.
pub fn secrets(plan: &Plan, lookup: &dyn Fn(&str) -> Option<String>) -> Vec<Problem> {
    secret_vars(plan)
        .into_iter()
        .filter_map(|var| match lookup(&var) {
            Some(v) if !v.is_empty() => None,
            found => Some(Problem::Secret {
                empty: found.is_some(),
                var,
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_an_http_client_can_call_pass() {
        for ok in [
            "http://127.0.0.1:5000",
            "https://ec2.us-east-1.amazonaws.com",
            "HTTP://localhost:4566/",
            "http://[::1]:5000",
            "https://proxy.example.com/aws?x=1",
        ] {
            assert_eq!(endpoint_flaw(ok), None, "{ok}");
        }
    }

    #[test]
    fn endpoints_that_can_never_answer_are_refused_with_their_flaw() {
        for (bad, why) in [
            ("", "is empty"),
            ("ftp://127.0.0.1:1", "must start with http:// or https://"),
            ("127.0.0.1:5000", "has no scheme"),
            ("http://", "has no valid host name"),
            ("http://:5000", "has no valid host name"),
            ("http://a..b", "has no valid host name"),
            ("http://host:0", "has a port"),
            ("http://host:99999", "has a port"),
            ("http://host:12a", "has a port"),
            ("http://host\r:5000", "control character"),
            ("http://user:pw@host", "user name or password"),
            ("http://[zz]:1", "IPv6"),
        ] {
            let got = endpoint_flaw(bad).unwrap_or_else(|| panic!("{bad:?} passed"));
            assert!(got.contains(why), "{bad:?}: {got}");
        }
    }

    #[test]
    fn the_region_in_use_follows_the_stack_blocks_rule() {
        assert_eq!(region(Some("eu-west-3"), "AWS_REGION"), None);
        assert_eq!(region(None, "AWS_REGION"), Some(Problem::NoRegion));
        for bad in ["", "garbage", "../../etc", "us-east-1\r"] {
            let p = region(Some(bad), "AWS_REGION").expect(bad);
            assert!(p.to_string().contains("(from AWS_REGION)"), "{p}");
        }
    }
}
