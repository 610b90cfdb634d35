//! `stackc explain CODE` and `stackc explain --list`: the pages of `docs/rules/`.

use std::process::ExitCode;

use stackc::check::explain;

use super::args::ExplainArgs;
use super::write_stdout;

pub fn main(args: &ExplainArgs) -> ExitCode {
    if args.list {
        return write_stdout(explain::list().as_bytes());
    }
    let code = args.code.as_deref().unwrap_or_default();
    match explain::page(code) {
        Some(page) => write_stdout(page.text.as_bytes()),
        None => {
            let help = match explain::closest(code) {
                Some(c) => format!("did you mean `{c}`?"),
                None => "`stackc explain --list` lists every code".into(),
            };
            say!("error: no diagnostic has the code `{code}`: {help}");
            ExitCode::from(1)
        }
    }
}
