//! The naming rules AWS enforces, checked before AWS can refuse them.

/// A rule that a name breaks, as a short sentence for a label; None when the name is valid.
pub type Verdict = Option<&'static str>;

/// Names of blocks: `[a-z][a-z0-9_-]*` (the language's own rule).
pub fn block_name(s: &str) -> Verdict {
    let mut cs = s.chars();
    match cs.next() {
        Some('a'..='z') => {}
        _ => return Some("names start with a lowercase letter"),
    }
    if cs.any(|c| !matches!(c, 'a'..='z' | '0'..='9' | '_' | '-')) {
        return Some("names hold lowercase letters, digits, `_` and `-`");
    }
    None
}

/// Elastic Beanstalk environment names: 4 to 40 letters, digits and hyphens, not starting or
/// ending with a hyphen.
pub fn eb_environment(s: &str) -> Verdict {
    if !(4..=40).contains(&s.len()) {
        return Some("Elastic Beanstalk environment names are 4 to 40 characters long");
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Some("Elastic Beanstalk environment names hold only letters, digits and `-`");
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Some("Elastic Beanstalk environment names do not start or end with `-`");
    }
    None
}

/// A preview's name (`--name`), which every derived name holds: lowercase letters, digits and
/// single hyphens, a letter first, no hyphen last — what RDS and ElastiCache identifiers and
/// Elastic Beanstalk environment names all accept — and at most 32 characters.
pub fn instance_name(s: &str) -> Verdict {
    if s.is_empty() || s.len() > INSTANCE_MAX {
        return Some("a preview's name is 1 to 32 characters long");
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some("a preview's name starts with a lowercase letter");
    }
    if !s.chars().all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-')) {
        return Some("a preview's name holds only lowercase letters, digits and `-`");
    }
    if s.ends_with('-') || s.contains("--") {
        return Some("a preview's name does not end with `-` or hold `--`");
    }
    None
}

/// The longest preview name: the derived names add the stack's and a suffix, and the
/// shortest limit among them is an ElastiCache group id's 40 characters.
const INSTANCE_MAX: usize = 32;

/// Elastic Beanstalk application names: 1 to 100 characters, no `/`.
pub fn eb_application(s: &str) -> Verdict {
    if s.is_empty() || s.len() > 100 || s.contains('/') {
        return Some("Elastic Beanstalk application names are 1 to 100 characters, without `/`");
    }
    None
}

/// RDS DB instance identifiers and ElastiCache ids share one shape: a letter first, then
/// letters, digits and single hyphens, not ending with a hyphen, at most `max` characters.
pub fn aws_identifier(s: &str, max: usize) -> Verdict {
    if s.is_empty() || s.len() > max {
        return Some(match max {
            63 => "RDS identifiers are 1 to 63 characters long",
            50 => "ElastiCache cluster ids are 1 to 50 characters long",
            _ => "ElastiCache replication group ids are 1 to 40 characters long",
        });
    }
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some("identifiers start with a letter");
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Some("identifiers hold only letters, digits and `-`");
    }
    if s.ends_with('-') || s.contains("--") {
        return Some("identifiers do not end with `-` or hold `--`");
    }
    None
}

/// PostgreSQL names on RDS (database and master user): a letter first, then letters, digits
/// and `_`, at most 63 characters, not a reserved word.
pub fn pg_name(s: &str, what: &'static str) -> Verdict {
    if s.is_empty() || s.len() > 63 {
        return Some(if what == "database" {
            "database names are 1 to 63 characters long"
        } else {
            "user names are 1 to 63 characters long"
        });
    }
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some("PostgreSQL names on RDS start with a letter");
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some("PostgreSQL names on RDS hold only letters, digits and `_`");
    }
    const RESERVED: &[&str] = &[
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "default",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "for",
        "foreign",
        "from",
        "grant",
        "group",
        "having",
        "in",
        "into",
        "leading",
        "limit",
        "not",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "primary",
        "references",
        "select",
        "table",
        "then",
        "to",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "when",
        "where",
        "with",
        "rdsadmin",
    ];
    if RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
        return Some("a word PostgreSQL or RDS reserves");
    }
    None
}

/// Environment variable keys: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_key(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// AWS region names such as `us-east-1`, `eu-central-2`, `us-gov-west-1`.
pub fn region(s: &str) -> Verdict {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    (!ok).then_some("AWS regions look like `us-east-1`")
}

/// Container hostnames: an RFC 1123 name of at most 63-character labels.
pub fn hostname(s: &str) -> Verdict {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    (!ok).then_some("hostnames are letters, digits and `-`, in dot-separated labels")
}

/// The longest image name ECS takes (before an `@` digest).
pub const MAX_IMAGE: usize = 255;

/// A container image as ECS takes it (`ContainerDefinition.image`): up to 255 characters of
/// letters, digits, `-`, `_`, `:`, `.`, `/` and `#` before an optional `@sha256:` digest of 64
/// hexadecimal digits.
pub fn image(s: &str) -> Verdict {
    let (name, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    // A NUL or a line break is no image, and would reach Dockerrun.aws.json as it is.
    if s.chars().any(char::is_control) {
        return Some("images hold no control characters");
    }
    if name.is_empty() || name.len() > MAX_IMAGE {
        return Some("ECS takes images of 1 to 255 characters (before an `@` digest)");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.' | '/' | '#'))
    {
        return Some(
            "ECS takes images of letters, digits, `-`, `_`, `:`, `.`, `/` and `#`, without spaces",
        );
    }
    if let Some(d) = digest {
        let ok = d
            .strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()));
        if !ok {
            return Some("an image digest is `@sha256:` and 64 hexadecimal digits");
        }
    }
    None
}

/// An IAM role ARN: `arn:aws:iam::123456789012:role/NAME` (any partition).
pub fn role_arn(s: &str) -> Verdict {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > 5
        // IAM paths and names: letters, digits and `+=,.@_-` (no space, no control character).
        && parts[5]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
    (!ok).then_some("IAM role ARNs look like `arn:aws:iam::123456789012:role/NAME`")
}

/// ECR repository names: 2 to 256 characters, `/`-separated parts of lowercase letters and
/// digits with single `.`, `_` or `-` between them ("CreateRepository", Amazon ECR API
/// Reference: `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`).
pub fn ecr_repository(s: &str) -> Verdict {
    if !(2..=256).contains(&s.len()) {
        return Some("ECR repository names are 2 to 256 characters long");
    }
    if !s.split('/').all(ecr_part) {
        return Some(
            "ECR repository names are lowercase letters and digits with single `.`, `_` or `-` \
             between them",
        );
    }
    None
}

/// A part of an ECR repository name between `/`: runs of lowercase letters and digits joined
/// by single `.`, `_` or `-`.
pub fn ecr_part(s: &str) -> bool {
    s.split(['.', '_', '-']).all(|run| {
        !run.is_empty()
            && run
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// A name close to `s` that is a part of an ECR repository name and a block name, if one.
pub fn fix_ecr_part(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let start = lower.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    let fixed = squeeze(start, |c| c.is_ascii_alphanumeric(), '-');
    (!fixed.is_empty() && fixed != s && ecr_part(&fixed) && block_name(&fixed).is_none())
        .then_some(fixed)
}

/// The longest domain ACM puts in a certificate's Common Name (RequestCertificate's
/// `DomainName`: "In compliance with RFC 5280, the length of the domain name (technically, the
/// Common Name) that you provide cannot exceed 64 octets").
pub const CERTIFICATE_DOMAIN_MAX: usize = 64;

/// A domain served over HTTPS: at least two dot-separated labels of lowercase letters, digits
/// and `-` (not at either end of a label), each at most 63 characters, the whole at most
/// `max` (DNS: 253; the certificate's Common Name: [`CERTIFICATE_DOMAIN_MAX`]). No wildcard:
/// an alias record and a listener serve one name.
pub fn domain(s: &str, max: usize) -> Verdict {
    if s.starts_with("*.") {
        return Some(
            "a wildcard is not a domain that can be served: name one, e.g. `app.example.com`",
        );
    }
    if s.len() > max {
        return Some(if max == CERTIFICATE_DOMAIN_MAX {
            "an ACM certificate's domain has at most 64 characters"
        } else {
            "a domain has at most 253 characters"
        });
    }
    let labels: Vec<&str> = s.split('.').collect();
    let ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
    (!ok).then_some(
        "domains are lowercase letters, digits and `-`, in two or more dot-separated labels",
    )
}

/// An ACM certificate ARN: `arn:aws:acm:REGION:123456789012:certificate/UUID` (any
/// partition). The load balancer takes certificates of its own region only.
pub fn certificate_arn(s: &str) -> Verdict {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let uuid = |id: &str| {
        id.len() == 36
            && id.char_indices().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == '-',
                _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
            })
    };
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "acm"
        && region(parts[3]).is_none()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].strip_prefix("certificate/").is_some_and(uuid);
    (!ok).then_some(
        "ACM certificate ARNs look like `arn:aws:acm:us-east-1:123456789012:certificate/UUID`",
    )
}

/// The region of an ARN (its fourth field).
pub fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// ECS container names (a service's name): at most 255 characters.
pub fn container_name(s: &str) -> Verdict {
    (s.len() > 255).then_some("ECS container names are at most 255 characters long")
}

/// Instance and node types: `family.size`, e.g. `t3.small`, `db.t3.micro`, `cache.t3.micro`.
pub fn instance_type(s: &str, prefix: &str) -> Verdict {
    let Some(rest) = s.strip_prefix(prefix) else {
        return Some(match prefix {
            "db." => "RDS instance classes start with `db.`",
            "cache." => "ElastiCache node types start with `cache.`",
            _ => "instance types look like `t3.small`",
        });
    };
    let ok = rest.split_once('.').is_some_and(|(f, sz)| {
        !f.is_empty()
            && !sz.is_empty()
            && f.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            // `metal-24xl` (m7i, c7i, r7i) has a hyphen inside.
            && !sz.starts_with('-')
            && !sz.ends_with('-')
            && sz
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    (!ok).then_some("instance types look like `family.size`, e.g. `t3.small`")
}

// ----- Suggestions: the closest valid name, for help lines -------------------------------------

/// The name as a block name (`[a-z][a-z0-9_-]*`), when it can be made one.
pub fn fix_block_name(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let fixed = lower.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    (!fixed.is_empty() && fixed != s && block_name(fixed).is_none()).then(|| fixed.to_string())
}

/// `s` with every run of characters outside `keep` replaced by one `sep`, trimmed of `sep`.
fn squeeze(s: &str, keep: impl Fn(char) -> bool, sep: char) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if keep(c) {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(sep) {
            out.push(sep);
        }
    }
    out.trim_end_matches(sep).to_string()
}

/// An RDS or ElastiCache identifier close to `s`, when one exists.
pub fn fix_identifier(s: &str, max: usize) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let start = lower.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    let mut fixed = squeeze(start, |c| c.is_ascii_alphanumeric(), '-');
    fixed.truncate(max);
    let fixed = fixed.trim_end_matches('-').to_string();
    (!fixed.is_empty() && fixed != s && aws_identifier(&fixed, max).is_none()).then_some(fixed)
}

/// An Elastic Beanstalk environment name close to `s`, when one exists.
pub fn fix_eb_environment(s: &str) -> Option<String> {
    let mut fixed = squeeze(s, |c| c.is_ascii_alphanumeric(), '-');
    fixed.truncate(40);
    let fixed = fixed.trim_matches('-').to_string();
    (fixed != s && eb_environment(&fixed).is_none()).then_some(fixed)
}

/// A PostgreSQL name close to `s`, when one exists.
pub fn fix_pg_name(s: &str, what: &'static str) -> Option<String> {
    let start = s.trim_start_matches(|c: char| !c.is_ascii_alphabetic());
    let mut fixed = squeeze(start, |c| c.is_ascii_alphanumeric(), '_');
    fixed.truncate(63);
    (!fixed.is_empty() && fixed != s && pg_name(&fixed, what).is_none()).then_some(fixed)
}

/// An environment-variable name close to `s`.
pub fn fix_env_key(s: &str) -> Option<String> {
    let mut fixed: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if fixed.starts_with(|c: char| c.is_ascii_digit()) {
        fixed.insert(0, '_');
    }
    (!fixed.is_empty() && fixed != s && is_env_key(&fixed)).then_some(fixed)
}

/// Words that make an env key secret: its literal value is `stack::secret_literal`.
pub const SECRET_WORDS: [&str; 3] = ["PASSWORD", "SECRET", "TOKEN"];

/// Whether an env key names a secret (any case: `db_password`, `ApiToken`).
pub fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| k.contains(w))
}

/// The `invalid_name` error of an environment-variable name (an env key or `secret("VAR")`).
pub(crate) fn invalid_env_var(var: &crate::syntax::ast::Ident) -> super::CheckError {
    super::CheckError::InvalidName {
        span: var.span,
        name: var.text.to_string(),
        what: "environment variable name".into(),
        rule: "letters, digits and `_`, not starting with a digit".into(),
        help: fix_env_key(&var.text).map(|f| format!("try `{f}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_name_rules() {
        assert!(eb_environment("complex-docker-env").is_none());
        assert!(eb_environment("env").is_some());
        assert!(eb_environment("my_env").is_some());
        assert!(instance_name("pr-42").is_none() && instance_name("a").is_none());
        for bad in [
            "", "42", "PR-42", "pr_42", "pr--42", "pr-", "pr 42", "pr-42\n",
        ] {
            assert!(instance_name(bad).is_some(), "{bad:?}");
        }
        assert!(
            instance_name(&"a".repeat(32)).is_none() && instance_name(&"a".repeat(33)).is_some()
        );
        assert!(aws_identifier("complex-docker-postgres", 63).is_none());
        assert!(aws_identifier("a--b", 63).is_some());
        assert!(aws_identifier("1abc", 63).is_some());
        assert!(aws_identifier(&"a".repeat(41), 40).is_some());
        assert!(pg_name("fibvalues", "database").is_none());
        assert!(pg_name("select", "database").is_some());
        assert!(pg_name("fib-values", "database").is_some());
        assert!(is_env_key("PG_HOST") && !is_env_key("1X") && !is_env_key("A-B"));
        assert!(region("us-east-1").is_none() && region("us-gov-west-1").is_none());
        assert!(region("useast1").is_some() && region("us-east").is_some());
        assert!(role_arn("arn:aws:iam::123456789012:role/ecsTaskExecutionRole").is_none());
        assert!(role_arn("ecsTaskExecutionRole").is_some());
        assert!(role_arn("arn:aws:iam::123456789012:role/ecs Role").is_some());
        assert!(role_arn("arn:aws:iam::123456789012:role/ecs\nRole").is_some());
        assert!(role_arn("arn:aws:iam::123456789012:role/path/to/Role+1").is_none());
        assert!(container_name(&"a".repeat(255)).is_none());
        assert!(container_name(&"a".repeat(256)).is_some());
        assert!(image("nginx:1.27").is_none() && image("nginx\0").is_some());
        assert!(instance_type("t3.small", "").is_none());
        for ok in [
            "nginx",
            "ghcr.io/acme/api:1.2#x",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:7",
            &format!("nginx@sha256:{}", "a".repeat(64)),
        ] {
            assert!(image(ok).is_none(), "{ok}");
        }
        for bad in [
            "",
            "nginx latest",
            "nginx\u{0}",
            "nginx@sha256:abc",
            &"a".repeat(256),
        ] {
            assert!(image(bad).is_some(), "{bad:?}");
        }
        assert!(instance_type("db.t3.micro", "db.").is_none());
        assert!(instance_type("t3.micro", "db.").is_some());
        assert!(instance_type("m7i.metal-24xl", "").is_none());
        assert!(instance_type("c7i.metal-48xl", "").is_none());
        assert!(instance_type("db.m7i.metal-24xl", "db.").is_none());
        assert!(instance_type("m7i.metal-", "").is_some());
        assert!(instance_type("m7i.-metal", "").is_some());
        assert!(hostname("api").is_none() && hostname("-api").is_some());
        for ok in [
            "shop/server",
            "shop-production/web_app",
            "a.b/c-d_e",
            "ab",
            "a/b/c",
        ] {
            assert!(ecr_repository(ok).is_none(), "{ok}");
        }
        for bad in [
            "a",
            "Shop/server",
            "shop__x/server",
            "shop/web--1",
            "shop/api_",
            "shop/-api",
            "shop//api",
            "shop/a_-b",
            &format!("shop/{}", "a".repeat(252)),
        ] {
            assert!(ecr_repository(bad).is_some(), "{bad:?}");
        }
        assert!(ecr_repository(&format!("shop/{}", "a".repeat(251))).is_none());
    }

    #[test]
    fn domains_and_certificates() {
        let cert = CERTIFICATE_DOMAIN_MAX;
        assert!(domain("app.example.com", cert).is_none());
        assert!(domain("xn--bcher-kva.example", cert).is_none());
        for bad in [
            "example",
            "App.example.com",
            "app..example.com",
            "-app.example.com",
            "app-.example.com",
            "*.example.com",
            "app.example.com.",
            "app_1.example.com",
        ] {
            assert!(domain(bad, 253).is_some(), "{bad}");
        }
        let long = format!("{}.example.com", "a".repeat(60));
        assert!(domain(&long, cert).is_some() && domain(&long, 253).is_none());
        assert!(domain(&format!("{}.com", "a".repeat(64)), 253).is_some());
        let arn =
            "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        assert!(certificate_arn(arn).is_none());
        assert_eq!(arn_region(arn), Some("us-east-1"));
        for bad in [
            "arn:aws:iam::123456789012:server-certificate/site",
            "arn:aws:acm::123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "arn:aws:acm:us-east-1:12345678901:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "arn:aws:acm:us-east-1:123456789012:certificate/0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
            "arn:aws:acm:us-east-1:123456789012:certificate/site",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        ] {
            assert!(certificate_arn(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn suggestions_are_valid_names() {
        assert_eq!(fix_block_name("Web").as_deref(), Some("web"));
        assert_eq!(fix_block_name("_web").as_deref(), Some("web"));
        assert_eq!(fix_block_name("web"), None);
        assert_eq!(fix_identifier("my_db--1", 63).as_deref(), Some("my-db-1"));
        assert_eq!(fix_identifier("1db", 63).as_deref(), Some("db"));
        assert_eq!(fix_identifier("___", 63), None);
        assert_eq!(fix_eb_environment("my_env").as_deref(), Some("my-env"));
        assert_eq!(fix_eb_environment("env"), None);
        assert_eq!(fix_pg_name("my-db", "database").as_deref(), Some("my_db"));
        assert_eq!(fix_pg_name("select", "database"), None);
        assert_eq!(fix_env_key("MY-KEY").as_deref(), Some("MY_KEY"));
        assert_eq!(fix_env_key("1X").as_deref(), Some("_1X"));
        assert_eq!(fix_ecr_part("web__app-").as_deref(), Some("web-app"));
        assert_eq!(fix_ecr_part("Shop").as_deref(), Some("shop"));
        assert_eq!(fix_ecr_part("web"), None);
        assert_eq!(fix_ecr_part("__"), None);
    }
}
