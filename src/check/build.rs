//! A service's build: `build = "DIR"` or `build { context dockerfile target args }`, read into
//! the model's [`Build`]; a service's one image source, `image` or a build
//! (`stack::image_source`); the paths the text alone shows wrong, and ([`paths`]) the paths
//! against what exists (`stack::build_path`). The file system is asked through an oracle the
//! caller gives (the CLI's looks at the files), so the core stays without IO.

use std::path::{Component, Path};

use super::attrs::{self, AttrMap, BUILD, BUILD_BLOCK, Kind};
use super::{CheckError, PathProblem};
use crate::check::model::{Build, ImageSource};
use crate::syntax::ast::{self, Attr, Block, Entry, Item, Nested, Span, ValueKind};

/// How a build is written.
#[derive(Clone, Copy)]
enum Form<'a> {
    /// `build = "DIR"`: the context, with its `Dockerfile`.
    Short(&'a Attr),
    /// `build { ... }`.
    Block(&'a Nested),
}

impl Form<'_> {
    fn span(self) -> Span {
        match self {
            Form::Short(a) => a.key.span,
            Form::Block(n) => n.name.span,
        }
    }
}

/// Where a build's paths are written, for the diagnostics about them.
#[derive(Clone, Copy, Default)]
struct Spans {
    context: Span,
    /// The `dockerfile` written, else the context (which holds the default one).
    dockerfile: Span,
    /// The short form: the Dockerfile is the context's default one.
    short: bool,
}

/// The image source of a service: its `image`, or its build (`build = "DIR"`, or a `build`
/// block of `blocks`). Reports a build written twice, both sources or none, and paths the text
/// shows wrong; the source returned then is a placeholder (the model is not returned).
pub(super) fn image_source(
    block: &Block,
    m: &AttrMap,
    blocks: &[&Nested],
    errors: &mut Vec<CheckError>,
) -> ImageSource {
    let service = block.name.text.as_str();
    let short = first_attr(block.entries.iter(), BUILD_BLOCK);
    // Every form written, in source order: the first is the build, the others are reported.
    let mut forms: Vec<Form<'_>> = short.map(Form::Short).into_iter().collect();
    forms.extend(blocks.iter().map(|n| Form::Block(n)));
    forms.sort_by_key(|f| f.span());
    if let Some((first, again)) = forms.split_first() {
        for f in again {
            errors.push(CheckError::DuplicateName {
                span: f.span(),
                first: first.span(),
                what: "build of service",
                name: service.to_string(),
                verb: "defined",
                help: Some(
                    "a service has one build: keep the block, or the short form \
                     `build = \"DIR\"` for a context with its `Dockerfile`"
                        .into(),
                ),
            });
        }
    }
    // A misspelled `buld = ...` counts as written (it was reported).
    let built = !forms.is_empty() || m.written(BUILD_BLOCK);
    let image = first_attr(block.entries.iter(), "image").map(|a| a.key.span);
    match (image, built) {
        (Some(image), true) => {
            if let Some(first) = forms.first() {
                errors.push(CheckError::BothImageAndBuild {
                    span: first.span(),
                    image,
                    service: service.to_string(),
                });
            }
        }
        (None, false) if !m.written("image") => errors.push(CheckError::NoImageSource {
            span: block.name.span,
            service: service.to_string(),
        }),
        _ => {}
    }
    // Every form is checked; the first is the service's build.
    let mut read_forms = forms.iter().filter_map(|f| read(service, *f, errors));
    let first = read_forms.next();
    read_forms.for_each(drop);
    match first {
        Some((build, spans)) => {
            errors.extend(lexical(&build, spans));
            ImageSource::Build(Box::new(build))
        }
        None => ImageSource::Image(m.compact_str("image").unwrap_or_default()),
    }
}

fn first_attr<'a>(mut entries: impl Iterator<Item = &'a Entry>, key: &str) -> Option<&'a Attr> {
    entries.find_map(|e| match e {
        Entry::Attr(a) if a.key.text == key => Some(a),
        _ => None,
    })
}

/// A build as written; None when it cannot be read (the reason was reported into `errors`, or
/// for the short form, by the attribute table's reader).
fn read(service: &str, form: Form<'_>, errors: &mut Vec<CheckError>) -> Option<(Build, Spans)> {
    match form {
        Form::Short(a) => {
            let ValueKind::Str(context) = &a.value.kind else {
                return None;
            };
            let build = Build {
                context: context.clone(),
                dockerfile: attrs::default_str(BUILD, "dockerfile").into(),
                target: None,
                args: Default::default(),
            };
            let spans = Spans {
                context: a.value.span,
                dockerfile: a.value.span,
                short: true,
            };
            Some((build, spans))
        }
        Form::Block(n) => {
            let written: Vec<&Attr> = n.attrs.iter().collect();
            let m = attrs::read_build(service, n.name.span, &written, errors);
            let context = m.compact_str("context")?;
            let context_span = m.span("context").unwrap_or(n.name.span);
            let build = Build {
                context,
                dockerfile: m.str_or_default("dockerfile").into(),
                target: m.compact_str("target"),
                args: m.build_args("args").cloned().unwrap_or_default(),
            };
            let spans = Spans {
                context: context_span,
                dockerfile: m.span("dockerfile").unwrap_or(context_span),
                short: false,
            };
            Some((build, spans))
        }
    }
}

/// The `stack::build_path` errors that the paths of `build` show as written, without a place:
/// for the tools that write builds (`stackc import`), which must not write one the checker
/// refuses.
pub fn written_wrong(build: &Build) -> Vec<CheckError> {
    lexical(build, Spans::default())
}

/// What the text alone shows wrong with a build's paths: an empty one, a URL for a context
/// (stackc hashes and sends a local directory), an absolute context (the file would build
/// another directory on another machine), a Dockerfile outside its context.
fn lexical(build: &Build, spans: Spans) -> Vec<CheckError> {
    let mut errors = Vec::new();
    let context = build.context.as_str();
    let problem = if context.is_empty() {
        Some(PathProblem::Empty)
    } else if context.contains("://") || context.starts_with("git@") {
        Some(PathProblem::Url)
    } else if Path::new(context).is_absolute() {
        Some(PathProblem::Absolute)
    } else {
        None
    };
    if let Some(problem) = problem {
        errors.push(path_error(build, spans, PathWhat::Context, problem, None));
    }
    let dockerfile = build.dockerfile.as_str();
    let problem = if dockerfile.is_empty() {
        Some(PathProblem::Empty)
    } else if !inside(Path::new(dockerfile)) {
        Some(PathProblem::Outside)
    } else {
        None
    };
    if let Some(problem) = problem {
        errors.push(path_error(
            build,
            spans,
            PathWhat::Dockerfile,
            problem,
            None,
        ));
    }
    errors
}

/// Whether a relative path stays below where it starts (`a/../b` does, `../b` and `/b` do not).
fn inside(path: &Path) -> bool {
    let mut depth = 0usize;
    for c in path.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Which of a build's paths a diagnostic is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PathWhat {
    Context,
    Dockerfile,
}

/// The `stack::build_path` error of one of a build's paths; `looked` is where the caller looked
/// for it on the file system.
fn path_error(
    build: &Build,
    spans: Spans,
    what: PathWhat,
    problem: PathProblem,
    looked: Option<&Path>,
) -> CheckError {
    let (ctx, file) = (build.context.as_str(), build.dockerfile.as_str());
    let looked = looked.map(|p| p.display().to_string());
    let (span, path, what_name) = match what {
        PathWhat::Context => (spans.context, ctx.to_string(), "build context"),
        PathWhat::Dockerfile => {
            let joined = match problem {
                // Where it points is the point: show it as written.
                PathProblem::Outside | PathProblem::Empty => file.to_string(),
                _ => Path::new(ctx).join(file).display().to_string(),
            };
            (spans.dockerfile, joined, "Dockerfile")
        }
    };
    let help = match (what, problem) {
        (PathWhat::Context, PathProblem::Empty) => {
            "name a directory that holds a Dockerfile, relative to the `.stack` file: \
             `build = \"./DIR\"`"
                .to_string()
        }
        (PathWhat::Context, PathProblem::Absolute) => "paths are relative to the `.stack` file, \
             so that it builds the same image on every machine: write the directory relative \
             to it"
            .to_string(),
        (PathWhat::Context, PathProblem::Url) => "stackc builds from a directory it can read \
             and hash: clone the repository and name its directory"
            .to_string(),
        (PathWhat::Context, PathProblem::Missing) => format!(
            "paths are relative to the `.stack` file: stackc looked for `{}`",
            looked.unwrap_or(path.clone())
        ),
        (PathWhat::Context, _) => format!(
            "a build context is a directory holding the Dockerfile{}",
            looked
                .map(|l| format!(" (stackc looked at `{l}`)"))
                .unwrap_or_default()
        ),
        (PathWhat::Dockerfile, PathProblem::Empty) => {
            "name the Dockerfile, relative to the context: `dockerfile = \"Dockerfile\"`"
                .to_string()
        }
        (PathWhat::Dockerfile, PathProblem::Outside) => format!(
            "the container CLI reads the context `{ctx}` only: move the Dockerfile into it, or \
             make the context the directory that holds both"
        ),
        (PathWhat::Dockerfile, PathProblem::Missing) if spans.short => format!(
            "stackc looked for `{}`; name another Dockerfile with the block form: \
             `build {{ context = \"{ctx}\"  dockerfile = \"...\" }}`",
            looked.unwrap_or(path.clone())
        ),
        (PathWhat::Dockerfile, _) if spans.short => format!(
            "a build context holds its Dockerfile, a file named `{file}`{}",
            looked
                .map(|l| format!(": stackc looked at `{l}`"))
                .unwrap_or_default()
        ),
        (PathWhat::Dockerfile, _) => format!(
            "`dockerfile` names a file relative to the context `{ctx}`{}",
            looked
                .map(|l| format!(": stackc looked for `{l}`"))
                .unwrap_or_default()
        ),
    };
    CheckError::BuildPath {
        span,
        what: what_name,
        path,
        problem,
        help: Some(help),
    }
}

/// What a path names on the file system, as the caller's oracle says (following links).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathKind {
    Missing,
    Directory,
    File,
    /// Anything else: a device, a socket, or a path that cannot be looked at.
    Other,
}

/// The paths of every build written in `file` (a service's, an environment's override) against
/// what exists: the context is a directory, the Dockerfile in it a file. Paths are relative to
/// `dir`, the directory of the `.stack` file; `kind_of` is asked about `dir` joined with each.
/// For a program that checks without error: builds it cannot read are skipped.
pub fn paths(file: &ast::File, dir: &Path, kind_of: &dyn Fn(&Path) -> PathKind) -> Vec<CheckError> {
    let mut errors = Vec::new();
    for item in &file.items {
        let Item::Block(block) = item else { continue };
        let mut forms = Vec::new();
        match Kind::from_keyword(&block.kind.text) {
            Some(Kind::Service) => {
                let service = block.name.text.as_str();
                for e in &block.entries {
                    match e {
                        Entry::Attr(a) if a.key.text == BUILD_BLOCK => {
                            forms.push((service, Form::Short(a)));
                        }
                        Entry::Nested(n) if n.name.text == BUILD_BLOCK => {
                            forms.push((service, Form::Block(n)));
                        }
                        _ => {}
                    }
                }
            }
            // The overrides of an environment, each in a block named after its service.
            Some(Kind::Environment) => {
                for e in &block.entries {
                    let Entry::Nested(n) = e else { continue };
                    let service = n.name.text.as_str();
                    forms.extend(
                        n.attrs
                            .iter()
                            .filter(|a| a.key.text == BUILD_BLOCK)
                            .map(|a| (service, Form::Short(a))),
                    );
                }
            }
            _ => {}
        }
        for (service, form) in forms {
            let Some((build, spans)) = read(service, form, &mut Vec::new()) else {
                continue;
            };
            let context = dir.join(build.context.as_str());
            let (what, problem, looked) = match kind_of(&context) {
                PathKind::Missing => (PathWhat::Context, PathProblem::Missing, context),
                PathKind::File | PathKind::Other => {
                    (PathWhat::Context, PathProblem::NotDirectory, context)
                }
                PathKind::Directory => {
                    let dockerfile = context.join(build.dockerfile.as_str());
                    match kind_of(&dockerfile) {
                        PathKind::File => continue,
                        PathKind::Missing => {
                            (PathWhat::Dockerfile, PathProblem::Missing, dockerfile)
                        }
                        PathKind::Directory | PathKind::Other => {
                            (PathWhat::Dockerfile, PathProblem::NotFile, dockerfile)
                        }
                    }
                }
            };
            errors.push(path_error(&build, spans, what, problem, Some(&looked)));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::path::PathBuf;

    use super::*;
    use crate::check::Model;

    const ENVS: &str = r#"
stack shop { }
environment staging { }
environment production {
  server { image = "ghcr.io/example/server:2.4.1" }
  worker { build = "./worker-prod" }
}
service server {
  build {
    context    = "./server"
    dockerfile = "docker/Dockerfile"
    target     = "dev"
    args       = ["B=2", "A=1"]
  }
  memory    = 64 MiB
  essential = true
}
service worker {
  image  = "ghcr.io/example/worker:2.4.1"
  memory = 64 MiB
}
service web {
  build  = "./web"
  memory = 64 MiB
  env { build = "./not-a-build" }
}
"#;

    fn models(src: &str) -> Vec<Model> {
        let c = crate::compile_with(src, &Default::default());
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
        c.models
    }

    #[test]
    fn an_override_of_image_or_build_replaces_the_source() {
        let [staging, production] = &models(ENVS)[..] else {
            panic!("two environments");
        };
        let server = staging.services[0]
            .build()
            .expect("staging builds the server");
        assert_eq!(server.context, "./server");
        assert_eq!(server.dockerfile, "docker/Dockerfile");
        assert_eq!(server.target.as_deref(), Some("dev"));
        let args: Vec<_> = server.args.iter().collect();
        assert_eq!(
            args,
            [(&"A".into(), &"1".into()), (&"B".into(), &"2".into())]
        );
        assert_eq!(
            staging.services[1].image(),
            Some("ghcr.io/example/worker:2.4.1")
        );
        // Production pulls the server staging builds, and builds the worker staging pulls.
        assert_eq!(
            production.services[0].image(),
            Some("ghcr.io/example/server:2.4.1")
        );
        let worker = production.services[1]
            .build()
            .expect("production builds the worker");
        assert_eq!(
            (worker.context.as_str(), worker.dockerfile.as_str()),
            ("./worker-prod", "Dockerfile")
        );
        assert_eq!(
            production.services[2].build().map(|b| b.context.as_str()),
            Some("./web")
        );
    }

    #[test]
    fn every_written_build_is_asked_of_the_oracle_beside_the_program() {
        let file = crate::syntax::parse(ENVS).file.expect("parses");
        let kinds: Vec<(&str, PathKind)> = vec![
            ("app/server", PathKind::Directory),
            ("app/server/docker/Dockerfile", PathKind::File),
            ("app/worker-prod", PathKind::File),
            ("app/web", PathKind::Directory),
            ("app/web/Dockerfile", PathKind::Directory),
        ];
        let asked = RefCell::new(Vec::new());
        let kind_of = |p: &Path| {
            asked.borrow_mut().push(p.to_path_buf());
            kinds
                .iter()
                .find(|(k, _)| Path::new(k) == p)
                .map_or(PathKind::Missing, |(_, kind)| *kind)
        };
        let errors = paths(&file, Path::new("app"), &kind_of);
        let found: Vec<(&str, String, PathProblem)> = errors
            .iter()
            .map(|e| match e {
                CheckError::BuildPath {
                    span,
                    path,
                    problem,
                    ..
                } => (
                    &ENVS[span.start as usize..span.end as usize],
                    path.clone(),
                    *problem,
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "\"./worker-prod\"",
                    "./worker-prod".to_string(),
                    PathProblem::NotDirectory
                ),
                (
                    "\"./web\"",
                    "./web/Dockerfile".to_string(),
                    PathProblem::NotFile
                ),
            ]
        );
        // Each build once, env values never; nothing but what the program names.
        let asked: Vec<PathBuf> = asked.into_inner();
        let want: Vec<PathBuf> = [
            "app/worker-prod",
            "app/server",
            "app/server/docker/Dockerfile",
            "app/web",
            "app/web/Dockerfile",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(asked, want);
    }

    #[test]
    fn a_dockerfile_stays_inside_its_context() {
        for ok in [
            "Dockerfile",
            "./Dockerfile",
            "docker/prod",
            "a/../Dockerfile",
            "a/./b",
        ] {
            assert!(inside(Path::new(ok)), "{ok}");
        }
        for out in [
            "../Dockerfile",
            "/etc/Dockerfile",
            "a/../../Dockerfile",
            "..",
        ] {
            assert!(!inside(Path::new(out)), "{out}");
        }
    }
}
