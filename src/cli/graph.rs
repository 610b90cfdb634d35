//! `stackc graph`: check a file, then print its graph (or its plan's) in DOT or Mermaid; and
//! `stackc iam-policy`: the deployer's policy for its plan. Both print what the compiler makes
//! of a file, on stdout.

use std::path::Path;
use std::process::ExitCode;

use stackc::check::Model;
use stackc::lower;
use stackc::lower::graph::{self, Format};

use super::args::{GraphArgs, GraphFormat};
use super::{program, write_stdout};

pub fn iam_policy(path: &Path, env: Option<&str>) -> ExitCode {
    let models = match program::models(path, "no policy was printed") {
        Ok(m) => m,
        Err(code) => return code,
    };
    let models = match env {
        None => models,
        Some(_) => match program::select(path, models, env) {
            Ok(m) => vec![m],
            Err(code) => return code,
        },
    };
    let mut text = serde_json::to_string_pretty(&deployer_policy(&models)).unwrap_or_default();
    text.push('\n');
    write_stdout(text.as_bytes())
}

/// The deployer's policy for `models` (a file's environments, its templates' previews
/// included): `iam-policy`'s, and the CI role's of `stackc ci --print-role`.
pub fn deployer_policy(models: &[Model]) -> serde_json::Value {
    let plans: Vec<_> = models.iter().map(|m| lower::lower(m).plan).collect();
    stackc::deploy::policy::deployer_policy(&plans)
}

pub fn main(a: &GraphArgs) -> ExitCode {
    let model = match program::target(
        &a.file,
        a.target.env.as_deref(),
        a.target.name.as_deref(),
        "no graph was printed",
        false,
    ) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let g = if a.plan {
        graph::plan_graph(&lower::lower(&model).plan)
    } else {
        graph::model_graph(&model)
    };
    let format = match a.format {
        GraphFormat::Dot => Format::Dot,
        GraphFormat::Mermaid => Format::Mermaid,
    };
    write_stdout(graph::render(&g, format).as_bytes())
}
