//! Import: a `docker-compose.yml` or a `Dockerrun.aws.json` → an equivalent `.stack` program,
//! as text, with warnings for what has no equivalent. Pure, like the rest of the core: text in,
//! text and warnings out; the CLI reads the file and prints the result.
//!
//! The steps: [`yaml`] reads the file (JSON is YAML) into a tree that keeps lines; [`compose`]
//! or [`dockerrun`] reads that tree into a [`raw::RawApp`]; [`convert`] makes every decision
//! (which services become data stores, names, links, memory, the essential container, the
//! firewall); [`emit`] writes the text. Last, the text is compiled: any error it still has
//! (there should be none) comes back as a warning, so the user is never handed a file that
//! fails `stackc check` without being told.

mod compose;
mod convert;
mod dockerrun;
mod emit;
mod raw;
mod yaml;

use std::fmt;

/// What the input file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// `docker-compose.yml`, `compose.yaml`, ...
    Compose,
    /// An Elastic Beanstalk `Dockerrun.aws.json`, version 1 or 2.
    Dockerrun,
}

impl SourceKind {
    /// By the file's extension (`.json` is a Dockerrun file, `.yml`/`.yaml` a compose file),
    /// else by its content.
    pub fn detect(file_name: &str, src: &str) -> SourceKind {
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".json") {
            SourceKind::Dockerrun
        } else if lower.ends_with(".yml") || lower.ends_with(".yaml") {
            SourceKind::Compose
        } else if src.contains("AWSEBDockerrunVersion") || src.contains("containerDefinitions") {
            SourceKind::Dockerrun
        } else {
            SourceKind::Compose
        }
    }
}

/// The imported program and what the user should know about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The `.stack` text, ending with a newline.
    pub stack: String,
    /// In line order; those without a line first.
    pub warnings: Vec<Warning>,
}

/// Something that was not carried over, or that the user must decide.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    /// 1-based line of the input it is about.
    pub line: Option<usize>,
    pub message: String,
}

/// The input cannot be imported at all.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportError {
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ImportError {}

/// Collects warnings.
#[derive(Debug, Default)]
pub(crate) struct Warnings(Vec<Warning>);

impl Warnings {
    pub(crate) fn add(&mut self, line: usize, message: String) {
        self.0.push(Warning {
            line: Some(line),
            message,
        });
    }

    pub(crate) fn general(&mut self, message: String) {
        self.0.push(Warning {
            line: None,
            message,
        });
    }
}

/// The kinds of data store an image can become.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum StoreKind {
    Postgres,
    Redis,
}

/// The store an image runs, by its repository name: `postgres` / `postgresql` images become
/// RDS PostgreSQL, `redis` / `valkey` images ElastiCache.
pub(crate) fn store_kind(image: &str) -> Option<StoreKind> {
    let (repo, _) = raw::image_repo_and_tag(image);
    match repo.as_str() {
        "postgres" | "postgresql" => Some(StoreKind::Postgres),
        "redis" | "valkey" => Some(StoreKind::Redis),
        _ => None,
    }
}

/// Imports `src`. `source_name` is the file's name as the user gave it (for the header
/// comment); `project` names the stack when the file does not (compose's directory name).
pub fn import(
    src: &str,
    kind: SourceKind,
    source_name: &str,
    project: &str,
) -> Result<Imported, ImportError> {
    let mut w = Warnings::default();
    let root = yaml::parse(src)?;
    let app = match kind {
        SourceKind::Compose => compose::read(&root, &mut w)?,
        SourceKind::Dockerrun => dockerrun::read(&root, &mut w)?,
    };
    let program = convert::convert(
        &app,
        &convert::Options {
            kind,
            source_name,
            project,
        },
        &mut w,
    )?;
    let stack = emit::render(&program);

    let (_, diags) = crate::compile(&stack);
    for d in diags.iter().filter(|d| d.is_error()) {
        let (line, _) = crate::diagnostic::line_col(&stack, d.span().start as usize);
        w.general(format!(
            "the imported program still has an error (line {line} of the output): {d} [{}]; this is a bug of `stackc import`, please report it",
            d.code()
        ));
    }
    let mut warnings = w.0;
    warnings.sort_by_key(|w| w.line.unwrap_or(0));
    Ok(Imported { stack, warnings })
}
