//! `stackc graph`: check a file, then print its graph (or its plan's) in DOT or Mermaid; and
//! `stackc iam-policy`: the deployer's policy for its plan. Both print what the compiler makes
//! of a file, on stdout.

use std::path::Path;
use std::process::ExitCode;

use stackc::lower::graph::{self, Format};
use stackc::{compile, lower};

use super::args::{GraphArgs, GraphFormat};
use super::{read_source, render, write_stdout};

/// The checked model of a file; diagnostics go to stderr, and a file with errors is an exit 1
/// saying that nothing (`what`) was printed.
fn model(path: &Path, what: &str) -> Result<stackc::check::Model, ExitCode> {
    let src = read_source(path)?;
    let name = path.display().to_string();
    let (model, diags) = compile(&src);
    render::report(render::Stream::Stderr, &name, &src, &diags);
    model.ok_or_else(|| {
        say!("error: {name}: has errors; no {what} was printed");
        ExitCode::from(1)
    })
}

pub fn iam_policy(path: &Path) -> ExitCode {
    let model = match model(path, "policy") {
        Ok(m) => m,
        Err(code) => return code,
    };
    let policy = stackc::deploy::policy::deployer_policy(&lower::lower(&model).plan);
    let mut text = serde_json::to_string_pretty(&policy).unwrap_or_default();
    text.push('\n');
    write_stdout(text.as_bytes())
}

pub fn main(a: &GraphArgs) -> ExitCode {
    let model = match model(&a.file, "graph") {
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
