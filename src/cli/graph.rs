//! `stackc graph`: check a file, then print its graph (or its plan's) in DOT or Mermaid.

use std::path::Path;
use std::process::ExitCode;

use stackc::lower::graph::{self, Format};
use stackc::{compile, lower};

use super::args::{GraphArgs, GraphFormat};
use super::{read_source, render, write_stdout};

pub fn main(a: &GraphArgs) -> ExitCode {
    let path: &Path = &a.file;
    let src = match read_source(path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let name = path.display().to_string();
    let (model, diags) = compile(&src);
    render::report(render::Stream::Stderr, &name, &src, &diags);
    let Some(model) = model else {
        say!("error: {name}: has errors; no graph was printed");
        return ExitCode::from(1);
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
