//! `stackc ci github|gitlab|travis FILE`: check the file, then print its CI pipeline (or, with
//! `--print-role`, the IAM role the pipeline deploys with) on stdout or into `--out`.

use std::path::{Component, Path};
use std::process::ExitCode;

use clap::CommandFactory;
use clap::error::ErrorKind;
use stackc::ci::role::{self, Origin};
use stackc::ci::{self, Pipeline, Provider};

use super::args::{Args, CiArgs, CiProvider};
use super::{graph, output, program, write_stdout};

/// A usage error: clap's report (the message, the usage line) and exit 2.
fn usage(kind: ErrorKind, message: impl std::fmt::Display) -> ! {
    Args::command().error(kind, message).exit()
}

/// The file as the pipeline names it: a relative path inside the repository, in UTF-8.
fn repository_path(file: &Path) -> String {
    let Some(text) = file.to_str() else {
        usage(
            ErrorKind::InvalidValue,
            format!(
                "{}: the path is not UTF-8, so a pipeline cannot name it",
                file.display()
            ),
        )
    };
    let inside = file
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !inside {
        usage(
            ErrorKind::InvalidValue,
            format!(
                "{text}: give FILE as a path from the repository's top folder (e.g. `app.stack` or `deploy/app.stack`): the pipeline runs there"
            ),
        )
    }
    text.strip_prefix("./").unwrap_or(text).to_string()
}

pub fn main(a: &CiArgs) -> ExitCode {
    let provider = match a.provider {
        CiProvider::Github => Provider::GitHub,
        CiProvider::Gitlab => Provider::GitLab,
        CiProvider::Travis => Provider::Travis,
    };
    let file = repository_path(&a.file);
    let origin = match (a.print_role, provider, &a.repository, &a.account) {
        (false, _, _, _) | (true, Provider::Travis, _, _) => None,
        (true, _, Some(repository), Some(account)) => {
            match Origin::new(provider, repository, account) {
                Ok(o) => Some(o),
                Err(e) => usage(ErrorKind::InvalidValue, e),
            }
        }
        (true, _, _, _) => usage(
            ErrorKind::MissingRequiredArgument,
            format!(
                "--print-role for {} needs --repository and --account: the role trusts that repository's tokens through that account's OIDC provider",
                provider.as_str()
            ),
        ),
    };
    let what = if a.print_role {
        "no role was printed"
    } else {
        "no pipeline was printed"
    };
    let models = match program::models(&a.file, what) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let pipeline = match Pipeline::of_models(&file, &models) {
        Ok(p) => p,
        Err(e) => {
            say!("error: {}: {e}; {what}", a.file.display());
            return ExitCode::from(1);
        }
    };
    let text = if a.print_role {
        if provider == Provider::Travis {
            say!("{}", role::TRAVIS_WARNING);
        }
        let deployer = graph::deployer_policy(&models);
        let document = role::document(provider, &pipeline, origin.as_ref(), deployer);
        let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
        text.push('\n');
        text
    } else {
        for o in pipeline.omissions(provider) {
            say!("note: {}: {o}", a.file.display());
        }
        ci::generate(provider, &pipeline)
    };
    match &a.out {
        None => write_stdout(text.as_bytes()),
        Some(path) => write_file(path, text.as_bytes()),
    }
}

/// Writes `bytes` to `path` atomically, creating its folder.
fn write_file(path: &Path, bytes: &[u8]) -> ExitCode {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        say!(
            "error: {}: not a file name stackc can write",
            path.display()
        );
        return ExitCode::from(1);
    };
    match output::write_all(dir, &[(name, bytes)]) {
        Ok(()) => {
            say!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(msg) => {
            say!("error: {msg}");
            ExitCode::from(1)
        }
    }
}
