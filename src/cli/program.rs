//! A checked file and its environments, for the commands that work on one environment (deploy,
//! `graph`) or on each (`build`, `iam-policy`): the file's models, the one `--env` names, and a
//! preview (`--env TEMPLATE --name INSTANCE`).

use std::path::Path;
use std::process::ExitCode;

use stackc::check::Model;

use super::{read_source, render};

/// The models of a file, one per environment; its diagnostics go to stderr, and a file with
/// errors is an exit 1 saying that nothing (`what`) was done.
pub fn models(path: &Path, what: &str) -> Result<Vec<Model>, ExitCode> {
    let src = read_source(path)?;
    compiled(path, &src, what, None)
}

fn compiled(
    path: &Path,
    src: &str,
    what: &str,
    instance: Option<stackc::Instance<'_>>,
) -> Result<Vec<Model>, ExitCode> {
    let name = path.display().to_string();
    let options = stackc::check::lints::Options::default();
    let c = match instance {
        Some(i) => stackc::compile_instance(src, &options, i),
        None => stackc::compile_with(src, &options),
    };
    render::report(render::Stream::Stderr, &name, src, &c.diagnostics);
    if c.models.is_empty() {
        match instance {
            Some(i) => say!(
                "error: {name}: the names of preview `{}` are not valid (above); {what}",
                i.name
            ),
            None => say!("error: {name}: has errors; {what}"),
        }
        return Err(ExitCode::from(1));
    }
    Ok(c.models)
}

fn usage(msg: String) -> ExitCode {
    say!("error: {msg}");
    ExitCode::from(2)
}

/// The environment a command works on: the only one, or the one `env` names. A file with
/// several and no `--env` is a usage error (exit 2) that lists them.
pub fn select(path: &Path, models: Vec<Model>, env: Option<&str>) -> Result<Model, ExitCode> {
    let names: Vec<String> = models.iter().map(|m| m.environment.name.clone()).collect();
    let file = path.display();
    match env {
        None if models.len() == 1 => Ok(models.into_iter().next().expect("one model")),
        None => Err(usage(format!(
            "{file} has several environments ({}): choose one with --env",
            names.join(", ")
        ))),
        Some(e) => match models.into_iter().find(|m| m.environment.name == e) {
            Some(m) => Ok(m),
            None => {
                let hint = stackc::check::did_you_mean(e, names.iter().map(String::as_str))
                    .map(|d| format!("did you mean `{d}`?"))
                    .unwrap_or_else(|| format!("its environments are {}", names.join(", ")));
                Err(usage(format!("{file} has no environment `{e}`; {hint}")))
            }
        },
    }
}

/// The one environment a command works on, a preview when `name` is given: the template
/// `env` names, checked again with the instance's name in every derived name. `deploys`: the
/// command acts on AWS, where a template itself never exists (only its instances do).
pub fn target(
    path: &Path,
    env: Option<&str>,
    name: Option<&str>,
    what: &str,
    deploys: bool,
) -> Result<Model, ExitCode> {
    let src = read_source(path)?;
    let models = compiled(path, &src, what, None)?;
    let names: Vec<String> = models.iter().map(|m| m.environment.name.clone()).collect();
    let model = select(path, models, env)?;
    let file = path.display();
    let template = &model.environment.name;
    match name {
        None if deploys && model.environment.template => Err(usage(format!(
            "{file}: environment `{template}` is a template: name the preview with --name \
             (e.g. --env {template} --name pr-42)"
        ))),
        None => Ok(model),
        Some(_) if !model.environment.template => Err(usage(format!(
            "{file}: environment `{template}` is not a template (`template = true`): only a \
             template has previews; leave out --name"
        ))),
        Some(name) => {
            if let Some(rule) = stackc::check::names::instance_name(name) {
                return Err(usage(format!("--name `{}`: {rule}", name.escape_debug())));
            }
            // Its resources would be that environment's.
            if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                return Err(usage(format!(
                    "--name `{name}`: {file} has an environment of that name; a preview needs \
                     its own"
                )));
            }
            let instance = stackc::Instance { template, name };
            let mut models = compiled(path, &src, what, Some(instance))?;
            Ok(models.remove(0))
        }
    }
}
