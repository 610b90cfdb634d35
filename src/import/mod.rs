//! Import: a `docker-compose.yml` or a `Dockerrun.aws.json` → an equivalent `.stack` program,
//! as text, with warnings for what has no equivalent. Pure, like the rest of the core: the
//! caller hands over the text, and a [`Context`] through which the import reads the shell's
//! variables and the files beside the input (`.env`, `env_file`); the CLI reads them.
//!
//! The steps: [`yaml`] reads the file (JSON is YAML) into a tree that keeps lines; [`compose`]
//! (with [`vars`] for `${VAR}` and `KEY=VALUE` files) or [`dockerrun`] reads that tree into a
//! [`raw::RawApp`], checking every value; [`convert`] makes every decision, in passes, and
//! writes the program through `stackc fmt`'s printer. Last, the text is compiled: every
//! error it still has comes back as a warning, so the user is never handed a file that fails
//! `stackc check` without being told.

mod compose;
mod convert;
mod dockerrun;
mod json;
mod raw;
mod vars;
mod yaml;

use std::fmt;

use crate::check::Kind;

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

/// What an import reads besides the file: the variables of the shell that runs it, and the
/// files beside the imported one. Compose reads both (`${VAR}`, `.env`, `env_file`).
pub trait Context {
    /// A variable of the environment.
    fn var(&self, name: &str) -> Option<String>;
    /// A file by the path the compose file gives (relative to the compose file's folder):
    /// None when there is no such file, Err with a reason when it cannot be read.
    fn file(&self, path: &str) -> Option<Result<String, String>>;
}

/// No variables and no files: an import that depends on nothing but the text.
pub struct Isolated;

impl Context for Isolated {
    fn var(&self, _: &str) -> Option<String> {
        None
    }

    fn file(&self, _: &str) -> Option<Result<String, String>> {
        None
    }
}

/// The imported program and what the user should know about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The `.stack` text, ending with a newline, in `stackc fmt`'s layout.
    pub stack: String,
    /// In line order; those without a line first.
    pub warnings: Vec<Warning>,
    /// The errors `stackc check` reports on the program (none, unless a warning explains
    /// why: more than ECS takes, or something the import could not fix).
    pub errors: usize,
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

/// Messages quote the input: its control characters are written as `\u{..}`, so that a
/// warning is one line and cannot drive the terminal it is printed on.
impl Warnings {
    pub(crate) fn add(&mut self, line: usize, message: String) {
        self.0.push(Warning {
            line: Some(line),
            message: crate::fmt::build::visible(&message),
        });
    }

    pub(crate) fn general(&mut self, message: String) {
        self.0.push(Warning {
            line: None,
            message: crate::fmt::build::visible(&message),
        });
    }
}

/// The most services an import takes: ten times what one environment can run (an ECS task
/// holds at most [`crate::check::MAX_CONTAINERS`] containers). A bigger file is refused before
/// its services are read, so that no input makes the import write (and check) a program that
/// big.
pub const MAX_SERVICES: usize = 10 * crate::check::MAX_CONTAINERS;

/// The refusal of a file with more than [`MAX_SERVICES`] services.
pub(crate) fn too_many_services(count: usize, line: usize) -> ImportError {
    ImportError {
        line: Some(line),
        message: format!(
            "the file defines {count} services; an Elastic Beanstalk environment runs at most {} containers, and an import takes at most {MAX_SERVICES}: split the file into the stacks you mean to deploy and import each",
            crate::check::MAX_CONTAINERS
        ),
    }
}

/// The store an image runs, by its repository name: PostgreSQL images (`postgres`,
/// `postgresql`, `postgis`, `pgvector`, `pgautoupgrade`) become RDS PostgreSQL, `redis` and
/// `valkey` images ElastiCache.
pub(crate) fn store_kind(image: &str) -> Option<Kind> {
    let (repo, _) = raw::image_repo_and_tag(image);
    match repo.as_str() {
        "postgres" | "postgresql" | "postgis" | "pgvector" | "pgautoupgrade" => {
            Some(Kind::Postgres)
        }
        "redis" | "valkey" => Some(Kind::Redis),
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
    cx: &dyn Context,
) -> Result<Imported, ImportError> {
    run(src, kind, source_name, project, cx).map_err(|e| ImportError {
        line: e.line,
        message: crate::fmt::build::visible(&e.message),
    })
}

fn run(
    src: &str,
    kind: SourceKind,
    source_name: &str,
    project: &str,
    cx: &dyn Context,
) -> Result<Imported, ImportError> {
    let mut w = Warnings::default();
    let parsed = yaml::parse(src)?;
    if let Some(line) = parsed.second_document {
        w.add(line, "a second YAML document starts here: only the first is read, as compose reads only the first".into());
    }
    let mut app = match kind {
        SourceKind::Compose => compose::read(&parsed.root, cx, &mut w)?,
        SourceKind::Dockerrun => dockerrun::read(&parsed.root, &mut w)?,
    };
    drop(parsed);
    // The env is the biggest part of an app: the convert consumes it, and frees it early.
    let envs = app
        .services
        .iter_mut()
        .map(|s| std::mem::take(&mut s.env))
        .collect();
    let stack = convert::convert(
        &app,
        envs,
        &convert::Options {
            kind,
            source_name,
            project,
        },
        &mut w,
    )?;
    drop(app);

    let (_, diags) = crate::compile(&stack);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    for d in &errors {
        let (line, _) = crate::diagnostic::line_col(&stack, d.span().start as usize);
        w.general(format!(
            "the imported program does not check: {d} (line {line} of the output) [{}]",
            d.code()
        ));
    }
    let mut warnings = w.0;
    warnings.sort_by_key(|w| w.line.unwrap_or(0));
    Ok(Imported {
        stack,
        warnings,
        errors: errors.len(),
    })
}
