//! `stackc plan`, `apply` and `destroy`: compile, refresh what exists, diff, then act.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use stackc::deploy::aws::exec::{self, Failure, SecretFn};
use stackc::deploy::aws::progress::Progress;
use stackc::deploy::aws::{self, Clients, Ctx, Timing};
use stackc::deploy::diff::{self, has_changes};
use stackc::deploy::state::Snapshot;
use stackc::lower::{self, Artifacts};

use super::args::{DeployArgs, Format};
use super::{read_source, render};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plan,
    Apply,
    Destroy,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(1)
}

/// Compiles the file; prints diagnostics and returns None when it has errors.
fn compile(path: &Path) -> Result<Artifacts, ExitCode> {
    let src = read_source(path)?;
    let name = path.display().to_string();
    let (model, diags) = stackc::compile(&src);
    render::report(render::Stream::Stderr, &name, &src, &diags);
    match model {
        Some(m) => Ok(lower::lower(&m)),
        None => Err(fail(format!("{name}: has errors; nothing was done"))),
    }
}

pub fn main(mode: Mode, args: &DeployArgs) -> ExitCode {
    let artifacts = match compile(&args.file) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(run(mode, args, artifacts))
}

fn secret_from_env() -> SecretFn {
    Arc::new(|var: &str| std::env::var(var).ok())
}

async fn run(mode: Mode, args: &DeployArgs, artifacts: Artifacts) -> ExitCode {
    let plan = &artifacts.plan;
    let endpoint = args.endpoint_url.as_deref();
    let (clients, region) = match Clients::load(plan.region.as_deref(), endpoint).await {
        Ok(c) => c,
        Err(msg) => return fail(msg),
    };
    let ctx = Arc::new(Ctx {
        stack: plan.stack.clone(),
        region: region.clone(),
        clients,
        dockerrun: artifacts.dockerrun.clone(),
        timing: Timing {
            health_timeout: args.health_timeout,
            ..Timing::from_env()
        },
        progress: Progress::new(std::io::stderr().is_terminal()),
        rollback: !args.no_rollback,
    });
    eprintln!("reading the state of stack {} in {region}...", plan.stack);
    let snap = match aws::refresh(&ctx, plan).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if !snap.conflicts.is_empty() {
        for c in &snap.conflicts {
            eprintln!("error: {}: {}", c.resource, c.why);
        }
        return fail(
            "names the program needs are held by resources outside this stack; nothing was changed",
        );
    }
    if mode == Mode::Destroy {
        return destroy(ctx, plan, &snap, args.yes).await;
    }
    let secret = secret_from_env();
    let changes = match diff::diff(plan, &snap, &*secret) {
        Ok(c) => c,
        Err(msg) => return fail(format!("{msg}; nothing was changed")),
    };
    match args.format {
        Format::Json if mode == Mode::Plan => {
            println!(
                "{}",
                serde_json::to_string_pretty(&changes).expect("plain data serialises")
            );
        }
        _ => print!("{}", diff::render(&changes)),
    }
    let pending = has_changes(&changes);
    let refused = diff::refused(plan, &snap, &changes);
    for (resource, why) in &refused {
        eprintln!("error: {resource}: {why}");
    }
    if mode == Mode::Plan {
        if !refused.is_empty() {
            eprintln!("apply would refuse this plan as it stands");
        }
        return if pending && args.detailed_exitcode {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    // Nothing to change, but what an interrupted apply started may still be settling (an
    // environment launching): apply then waits for it.
    let unsettled = snap.found.values().any(|f| !f.settled);
    if !pending && !unsettled {
        return ExitCode::SUCCESS;
    }
    if !refused.is_empty() {
        return fail("nothing was changed");
    }
    if pending && !confirm("Apply these changes?", args.yes) {
        return fail("not confirmed; nothing was changed");
    }
    match exec::apply(ctx, plan, &changes, &snap, secret).await {
        Ok(done) => {
            eprintln!("Apply complete: {} changes.", done.len());
            ExitCode::SUCCESS
        }
        Err(f) => report_failure(&f),
    }
}

async fn destroy(ctx: Arc<Ctx>, plan: &lower::Plan, snap: &Snapshot, yes: bool) -> ExitCode {
    let n = snap
        .found
        .keys()
        .filter(|k| {
            plan.steps
                .iter()
                .any(|s| &s.id == *k && !s.kind().is_lookup())
        })
        .count()
        + snap.orphans.len();
    if n == 0 {
        println!(
            "Nothing to destroy: no resource of stack {} exists.",
            plan.stack
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "Destroy will delete the {n} resources of stack {} (protected data stores are kept).",
        plan.stack
    );
    if !confirm("Destroy the stack?", yes) {
        return fail("not confirmed; nothing was deleted");
    }
    match exec::destroy(ctx, plan, snap).await {
        Ok((done, kept)) => {
            for k in &kept {
                eprintln!("note: {k}");
            }
            eprintln!(
                "Destroy complete: {} deleted, {} kept.",
                done.len(),
                kept.len()
            );
            ExitCode::SUCCESS
        }
        Err(f) => report_failure(&f),
    }
}

fn report_failure(f: &Failure) -> ExitCode {
    eprintln!("error: {}", f.error);
    if f.done.is_empty() {
        eprintln!("nothing had been changed before the failure");
    } else {
        eprintln!("done before the failure:");
        for d in &f.done {
            eprintln!("  {d}");
        }
    }
    eprintln!("run the same command again to finish once the cause is fixed");
    ExitCode::from(1)
}

/// Asks on a terminal; elsewhere `--yes` is required.
fn confirm(question: &str, yes: bool) -> bool {
    if yes {
        return true;
    }
    if !std::io::stdin().is_terminal() {
        eprintln!("error: not a terminal: pass --yes to confirm");
        return false;
    }
    eprint!("{question} Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line.trim() == "yes"
}
