//! What the readers of both input formats produce: the app as the input describes it, before
//! any decision about stores, names, links or the firewall; and the small parsers both share
//! (memory sizes, port specs, shell words).

use compact_str::CompactString;

use crate::check::Protocol;

/// An app as read from a compose file or a Dockerrun.aws.json.
#[derive(Clone, Debug, Default)]
pub struct RawApp {
    /// A project name written in the file (compose's top-level `name`).
    pub name: Option<String>,
    pub services: Vec<RawService>,
    /// Dockerrun's `executionRoleArn`, and its line.
    pub execution_role: Option<(String, usize)>,
    /// Essential flags are the file's own (Dockerrun); otherwise one is chosen.
    pub has_essential: bool,
}

#[derive(Clone, Debug, Default)]
pub struct RawService {
    /// As written in the file.
    pub name: String,
    pub line: usize,
    pub image: Option<String>,
    /// The line of `image` (or of `build` when there is no image).
    pub image_line: usize,
    /// The build context, for a service compose builds.
    pub build: Option<String>,
    pub ports: Vec<RawPort>,
    /// `links` entries: target and alias.
    pub links: Vec<(String, Option<String>, usize)>,
    pub depends_on: Vec<(String, usize)>,
    /// Moved out before the convert, which takes it apart from the app and consumes it.
    pub env: Vec<RawEnv>,
    /// Bytes.
    pub memory: Option<(u64, usize)>,
    /// Bytes.
    pub memory_reservation: Option<(u64, usize)>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub hostname: Option<(String, usize)>,
    /// Other names the service answers to (compose `container_name`, network aliases).
    pub aliases: Vec<String>,
    /// Dockerrun's `essential`.
    pub essential: Option<bool>,
    /// A memory limit or reservation was written but could not be read (a warning says so).
    pub memory_unreadable: bool,
    /// Compose `profiles`: the service runs only when one of them is enabled.
    pub profiles: Vec<String>,
    /// Things the user must act on, as TODO comments in the service block.
    pub todos: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RawPort {
    /// None: compose publishes it on a random host port (or the container port only).
    pub host: Option<u16>,
    pub container: u16,
    pub protocol: Protocol,
    /// Bound to a loopback address only (`127.0.0.1:8080:80`): for development, never opened.
    pub loopback: bool,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RawEnv {
    pub key: CompactString,
    pub value: EnvLiteral,
    /// The line of the compose file (of its `env_file` key, for a variable read from one).
    pub line: usize,
    /// The `env_file` it was read from, and its line there.
    pub from: Option<(String, usize)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EnvLiteral {
    Str(CompactString),
    /// A non-negative integer as YAML wrote it.
    Int(u64),
    /// The value of a variable of the shell when the app starts: a key with no value, which
    /// compose passes through, or a value that is one unset variable (`${DB_PASSWORD}`).
    FromShell(CompactString),
}

impl EnvLiteral {
    pub fn text(&self) -> Option<String> {
        match self {
            EnvLiteral::Str(s) => Some(s.to_string()),
            EnvLiteral::Int(i) => Some(i.to_string()),
            EnvLiteral::FromShell(_) => None,
        }
    }
}

/// Docker's byte sizes (`512m`, `1g`, `1.5GB`, `268435456`), binary units as Docker reads them.
pub fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let factor: u64 = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return None,
    };
    if num.is_empty() {
        return None;
    }
    if let Ok(n) = num.parse::<u64>() {
        return n.checked_mul(factor);
    }
    let f: f64 = num.parse().ok()?;
    let bytes = f * factor as f64;
    (0.0..1e18).contains(&bytes).then_some(bytes.round() as u64)
}

/// A port or a port range (`8080`, `8080-8082`).
pub fn parse_port_range(s: &str) -> Option<(u16, u16)> {
    let s = s.trim();
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u16 = a.trim().parse().ok()?;
    let b: u16 = b.trim().parse().ok()?;
    (a >= 1 && b >= a).then_some((a, b))
}

/// Splits a command line as a POSIX shell would (quotes and backslashes), as compose does for
/// the string form of `command` and `entrypoint`. None for an unterminated quote.
pub fn shell_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => cur.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => cur.push(c),
                            '\n' => {}
                            c => {
                                cur.push('\\');
                                cur.push(c);
                            }
                        },
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => cur.push(c),
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// The repository name of an image reference without registry, namespace, tag or digest
/// (`docker.io/library/postgres:16-alpine` → `postgres`), and its tag.
pub fn image_repo_and_tag(image: &str) -> (String, Option<String>) {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    match last.split_once(':') {
        Some((repo, tag)) => (repo.to_ascii_lowercase(), Some(tag.to_string())),
        None => (last.to_ascii_lowercase(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("512m"), Some(512 << 20));
        assert_eq!(parse_bytes("1g"), Some(1 << 30));
        assert_eq!(parse_bytes("1GB"), Some(1 << 30));
        assert_eq!(parse_bytes("50M"), Some(50 << 20));
        assert_eq!(parse_bytes("1.5g"), Some(3 << 29));
        assert_eq!(parse_bytes("268435456"), Some(268_435_456));
        assert_eq!(parse_bytes("2048k"), Some(2 << 20));
        assert_eq!(parse_bytes("12x"), None);
        assert_eq!(parse_bytes("m"), None);
        assert_eq!(parse_bytes("99999999999999999999g"), None);
    }

    #[test]
    fn words() {
        assert_eq!(
            shell_words("npm run dev").expect("ok"),
            ["npm", "run", "dev"]
        );
        assert_eq!(
            shell_words(r#"sh -c "echo 'hi there'" x\ y"#).expect("ok"),
            ["sh", "-c", "echo 'hi there'", "x y"]
        );
        assert_eq!(shell_words("''").expect("ok"), [""]);
        assert_eq!(shell_words("a 'b"), None);
    }

    #[test]
    fn images() {
        assert_eq!(image_repo_and_tag("postgres"), ("postgres".into(), None));
        assert_eq!(
            image_repo_and_tag("docker.io/library/postgres:16-alpine"),
            ("postgres".into(), Some("16-alpine".into()))
        );
        assert_eq!(
            image_repo_and_tag("localhost:5000/redis"),
            ("redis".into(), None)
        );
        assert_eq!(
            image_repo_and_tag("bitnami/redis@sha256:abc"),
            ("redis".into(), None)
        );
    }
}
