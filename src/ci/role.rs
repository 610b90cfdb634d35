//! The IAM role a pipeline deploys with (`stackc ci PROVIDER FILE --print-role`): who may
//! assume it — the provider's OIDC tokens for this repository, for exactly the subjects the
//! generated pipeline's jobs carry — and what it may do, the deployer's policy of
//! `stackc iam-policy`. Printed in the shape of CloudFormation's `AWS::IAM::Role` properties
//! (`AssumeRolePolicyDocument`, `Policies`), which docs/deploy.md feeds to the AWS CLI.
//!
//! Travis CI has no OIDC: its document is an IAM user's (`Policies` alone), with a warning.

use serde_json::{Value, json};

use super::{Pipeline, Provider, gitlab};

/// The name of the inline policy that holds the deployer's policy.
pub const POLICY_NAME: &str = "stackc-deployer";

/// GitHub's OIDC issuer (without `https://`) and the audience configure-aws-credentials asks
/// for.
pub const GITHUB_ISSUER: &str = "token.actions.githubusercontent.com";
pub const GITHUB_AUDIENCE: &str = "sts.amazonaws.com";

/// GitLab.com's OIDC issuer (without `https://`).
pub const GITLAB_ISSUER: &str = "gitlab.com";

/// What stackc says about Travis's credentials, on stderr, with its document.
pub const TRAVIS_WARNING: &str = "warning: Travis CI has no OIDC, so a pipeline there needs a long-lived access key: create an IAM user with the policy printed on stdout, store its AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as hidden variables in the repository's settings (never in .travis.yml), and rotate the key; GitHub Actions and GitLab CI get short-lived credentials instead";

/// Where the pipeline runs: the repository and the AWS account whose OIDC provider trusts it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Origin<'a> {
    /// `OWNER/NAME` on GitHub, `GROUP/PROJECT` (subgroups allowed) on GitLab.
    pub repository: &'a str,
    /// The 12-digit account id.
    pub account: &'a str,
}

/// A `--repository` or `--account` that cannot be what it names.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RoleError {
    #[error(
        "`{0}` is not a GitHub repository: write OWNER/NAME (letters, digits, `-`; the name may also hold `.` and `_`)"
    )]
    GitHubRepository(String),
    #[error(
        "`{0}` is not a GitLab project path: write GROUP/PROJECT or GROUP/SUBGROUP/PROJECT (letters, digits, `.`, `_`, `-`)"
    )]
    GitLabProject(String),
    #[error("`{0}` is not an AWS account id: it is 12 digits")]
    Account(String),
}

impl<'a> Origin<'a> {
    /// Checks both against the provider's rules.
    pub fn new(
        provider: Provider,
        repository: &'a str,
        account: &'a str,
    ) -> Result<Origin<'a>, RoleError> {
        let segment = |s: &str, extra: &[char], max: usize| {
            !s.is_empty()
                && s.len() <= max
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || extra.contains(&c))
        };
        let parts: Vec<&str> = repository.split('/').collect();
        let ok = match provider {
            Provider::GitHub => {
                parts.len() == 2
                    && segment(parts[0], &[], 39)
                    && segment(parts[1], &['.', '_'], 100)
            }
            Provider::GitLab | Provider::Travis => {
                parts.len() >= 2 && parts.iter().all(|p| segment(p, &['.', '_'], 255))
            }
        };
        if !ok {
            return Err(match provider {
                Provider::GitHub => RoleError::GitHubRepository(repository.into()),
                Provider::GitLab | Provider::Travis => RoleError::GitLabProject(repository.into()),
            });
        }
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
            return Err(RoleError::Account(account.into()));
        }
        Ok(Origin {
            repository,
            account,
        })
    }
}

/// The subjects (`sub` claims) of the pipeline's AWS jobs on GitHub: pull requests (plan,
/// previews), and each apply job's GitHub environment (a job with an `environment` carries
/// it instead of its branch, and GitHub hands the token out only once the environment's
/// protection rules have passed).
pub fn github_subjects(p: &Pipeline, repository: &str) -> Vec<String> {
    let mut subjects = vec![format!("repo:{repository}:pull_request")];
    subjects.extend(
        p.environments
            .iter()
            .map(|e| format!("repo:{repository}:environment:{}", e.name)),
    );
    subjects
}

/// The trust policy of the role, or None for Travis.
pub fn trust_policy(provider: Provider, p: &Pipeline, origin: &Origin) -> Option<Value> {
    let statement = match provider {
        Provider::GitHub => json!({
            "Effect": "Allow",
            "Principal": { "Federated": federated(origin, GITHUB_ISSUER) },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": { "StringEquals": {
                format!("{GITHUB_ISSUER}:aud"): GITHUB_AUDIENCE,
                format!("{GITHUB_ISSUER}:sub"): github_subjects(p, origin.repository),
            } },
        }),
        // A merge request's pipeline carries its source branch (`ref:BRANCH`): plans and
        // previews run on any branch, applies on the main one.
        Provider::GitLab => json!({
            "Effect": "Allow",
            "Principal": { "Federated": federated(origin, GITLAB_ISSUER) },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": { format!("{GITLAB_ISSUER}:aud"): gitlab::AUDIENCE },
                "StringLike": {
                    format!("{GITLAB_ISSUER}:sub"):
                        format!("project_path:{}:ref_type:branch:ref:*", origin.repository),
                },
            },
        }),
        Provider::Travis => return None,
    };
    Some(json!({ "Version": "2012-10-17", "Statement": [statement] }))
}

fn federated(origin: &Origin, issuer: &str) -> String {
    format!("arn:aws:iam::{}:oidc-provider/{issuer}", origin.account)
}

/// The document `--print-role` prints: the trust policy (GitHub, GitLab) and the deployer's
/// policy as an inline policy.
pub fn document(
    provider: Provider,
    p: &Pipeline,
    origin: Option<&Origin>,
    deployer: Value,
) -> Value {
    let policies = json!([{ "PolicyName": POLICY_NAME, "PolicyDocument": deployer }]);
    match origin.and_then(|o| trust_policy(provider, p, o)) {
        Some(trust) => json!({ "AssumeRolePolicyDocument": trust, "Policies": policies }),
        None => json!({ "Policies": policies }),
    }
}
