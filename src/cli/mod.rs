//! Command-line interface: argument parsing (clap), reading the input, rendering diagnostics,
//! writing outputs; `graph`, `import`, `ci`, and the generated completions and man page. Exit codes:
//! 0 clean, 1 problems in the input or an unreadable file, 2 usage errors (clap's own).

/// Prints one line on stderr, with any control character from the input escaped; a failure
/// to write there has nowhere to be reported.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::output::stderr_line(&format!($($arg)*))
    };
}

mod args;
mod builds;
mod ci;
#[cfg(feature = "aws")]
mod deploy;
mod explain;
mod fmt;
mod generate;
mod graph;
mod import;
pub(crate) mod input;
pub(crate) mod output;
mod program;
mod render;

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use args::{Args, CheckArgs, Command, Format};
use stackc::check::lints::Options;
use stackc::syntax::lines::LineIndex;
use stackc::{Diagnostic, compile_with, lower};

pub(crate) use input::read_source;
pub(crate) use output::write_stdout;

pub fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Command::Check(c) => check(&c),
        Command::Explain(e) => explain::main(&e),
        Command::Build(b) => build(&b.file, &b.out, b.env.as_deref(), b.name.as_deref()),
        Command::Fmt(f) => fmt::main(&f),
        Command::Graph(g) => graph::main(&g),
        Command::IamPolicy(p) => graph::iam_policy(&p.file, p.env.as_deref()),
        Command::Ci(c) => ci::main(&c),
        Command::Import(i) => import::main(&i.file),
        Command::Lsp(_) => crate::lsp::main(),
        #[cfg(feature = "aws")]
        Command::Plan(a) => deploy::main(deploy::Mode::Plan, &a),
        #[cfg(feature = "aws")]
        Command::Apply(a) => deploy::main(deploy::Mode::Apply, &a),
        #[cfg(feature = "aws")]
        Command::Destroy(a) => deploy::main(deploy::Mode::Destroy, &a),
        #[cfg(feature = "aws")]
        Command::Status(a) => deploy::status(&a),
        #[cfg(feature = "aws")]
        Command::Rollback(a) => deploy::rollback(&a),
        #[cfg(feature = "aws")]
        Command::Logs(a) => deploy::logs(&a),
        Command::Completions(c) => generate::completions(c.shell),
        Command::Man => generate::man(),
    }
}

/// An IO error in words, without Rust's "(os error 2)" suffix.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s,
            }
        }
    }
}

fn has_errors(diags: &[Diagnostic], deny_warnings: bool) -> bool {
    diags.iter().any(|d| d.is_error() || deny_warnings)
}

fn check(args: &CheckArgs) -> ExitCode {
    let CheckArgs {
        file: path,
        format,
        deny_warnings,
        strict,
    } = args;
    let src = match read_source(path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let compiled = compile_with(&src, &Options { strict: *strict });
    let mut diags = compiled.diagnostics;
    // The builds' paths against the files, once the program is sound.
    if let (false, Some(file)) = (compiled.models.is_empty(), &compiled.file) {
        diags.extend(builds::path_diagnostics(path, file));
        diags.sort_by_key(|d| (d.span().start, d.span().end));
    }
    // Freed before the report is rendered, which then reuses their memory: a big program's
    // peak stays that of the checker.
    drop((compiled.file, compiled.models));
    let name = path.display().to_string();
    match format {
        Format::Json => {
            // Suppressed diagnostics are reported too, marked `"suppressed": true`.
            let index = LineIndex::new(&src);
            let mut json: Vec<_> = diags.iter().map(|d| d.to_json(&index, &name)).collect();
            json.extend(compiled.suppressed.iter().map(|d| {
                let mut j = d.to_json(&index, &name);
                j.suppressed = true;
                j
            }));
            json.sort_by_key(|j| (j.line, j.column, j.end_line, j.end_column));
            let written = output::stream_stdout(|out| {
                serde_json::to_writer_pretty(&mut *out, &json)?;
                out.write_all(b"\n")
            });
            if let Err(code) = written {
                return code;
            }
        }
        Format::Human => {
            if !render::report(render::Stream::Stdout, &name, &src, &diags) {
                return ExitCode::from(1);
            }
        }
    }
    if has_errors(&diags, *deny_warnings) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `stackc build`: the artifacts of the file's environment, or of the one `--env` names; of
/// each, in a folder named after it, when the file has several.
fn build(path: &Path, out_dir: &Path, env: Option<&str>, instance: Option<&str>) -> ExitCode {
    let name = path.display().to_string();
    const WHAT: &str = "not built; nothing was written";
    let (models, folders) = match env {
        None => {
            let models = match program::models(path, WHAT) {
                Ok(m) => m,
                Err(code) => return code,
            };
            let folders: Vec<Option<String>> = match models.len() {
                1 => vec![None],
                _ => models
                    .iter()
                    .map(|m| Some(m.environment.name.clone()))
                    .collect(),
            };
            (models, folders)
        }
        Some(_) => match program::target(path, env, instance, WHAT, false) {
            Ok(m) => (vec![m], vec![None]),
            Err(code) => return code,
        },
    };
    // Each built service's image is named by the content hash of its build.
    let images: Result<Vec<_>, String> = models.iter().map(|m| builds::images(path, m)).collect();
    let images = match images {
        Ok(images) => images,
        Err(msg) => {
            say!("error: {msg}; not built; nothing was written");
            return ExitCode::from(1);
        }
    };
    let built: Vec<_> = models
        .iter()
        .zip(&images)
        .map(|(m, images)| lower::lower_with(m, images))
        .collect();
    let paths: Vec<(String, String)> = folders
        .iter()
        .map(|f| {
            let at = |file: &str| match f {
                Some(env) => format!("{env}/{file}"),
                None => file.to_string(),
            };
            (at("Dockerrun.aws.json"), at("plan.json"))
        })
        .collect();
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    for ((dockerrun, plan), a) in paths.iter().zip(&built) {
        files.push((dockerrun, a.dockerrun.as_bytes()));
        files.push((plan, a.plan_json.as_bytes()));
    }
    if let Err(msg) = output::write_all(out_dir, &files) {
        say!("error: {msg}");
        return ExitCode::from(1);
    }
    for ((model, a), folder) in models.iter().zip(&built).zip(&folders) {
        let n = model.services.len();
        let dir = match folder {
            Some(env) => out_dir.join(env),
            None => out_dir.to_path_buf(),
        };
        say!(
            "built {name} → {} ({n} container{}, {} plan steps)",
            dir.display(),
            if n == 1 { "" } else { "s" },
            a.plan.steps.len()
        );
    }
    ExitCode::SUCCESS
}
