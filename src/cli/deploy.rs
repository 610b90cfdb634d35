//! `stackc plan`, `apply` and `destroy`: compile, refresh what exists, diff, then act.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use stackc::deploy::aws::exec::{self, Failure, SecretFn};
use stackc::deploy::aws::progress::Progress;
use stackc::deploy::aws::{self, Clients, Ctx, Timing};
use stackc::deploy::diff::{self, has_changes};
use stackc::deploy::preflight::{self, Problem};
use stackc::deploy::state::Snapshot;
use stackc::lower::{self, Artifacts};

use super::args::{DeployArgs, Format, LogsArgs, RollbackArgs, StatusArgs, Target};

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

/// Compiles the file and lowers its environment (the one `--env` names, in a file with several;
/// a preview with `--name`);
/// diagnostics go to stderr.
fn compile(path: &Path, target: &Target) -> Result<Artifacts, ExitCode> {
    let model = super::program::target(
        path,
        target.env.as_deref(),
        target.name.as_deref(),
        "nothing was done",
        true,
    )?;
    // The built services' tags: the content hash of what each build reads.
    let images = super::builds::images(path, &model).map_err(|e| {
        eprintln!("error: {e}; nothing was done");
        ExitCode::from(1)
    })?;
    Ok(lower::lower_with(&model, &images))
}

/// Reports every problem of the deploy configuration; nothing was called.
fn refuse(problems: &[Problem]) -> ExitCode {
    for p in problems {
        eprintln!("error: {p}");
    }
    fail("nothing was done")
}

/// Runs `f` on an async runtime.
fn on_runtime<F: std::future::Future<Output = ExitCode>>(f: F) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r.block_on(f),
        Err(e) => fail(format!("cannot start the async runtime: {e}")),
    }
}

pub fn main(mode: Mode, args: &DeployArgs) -> ExitCode {
    let artifacts = match compile(&args.file, &args.target) {
        Ok(a) => a,
        Err(code) => return code,
    };
    on_runtime(run(mode, args, artifacts))
}

/// The context of AWS calls for a compiled program.
async fn context(
    artifacts: &Artifacts,
    file: &Path,
    endpoint: Option<&str>,
    timing: Timing,
    rollback: bool,
    problems: Vec<Problem>,
) -> Result<Arc<Ctx>, ExitCode> {
    let plan = &artifacts.plan;
    let (clients, region) = match Clients::load(plan.region.as_deref(), endpoint).await {
        Ok(c) if problems.is_empty() => c,
        Ok(_) => return Err(refuse(&problems)),
        Err(more) => return Err(refuse(&[problems, more].concat())),
    };
    Ok(Arc::new(Ctx {
        stack: plan.base(),
        owner: plan.owner(),
        region,
        clients,
        dockerrun: artifacts.dockerrun.clone(),
        timing,
        progress: Progress::new(std::io::stderr().is_terminal()),
        rollback,
        preview: plan.template,
        source_dir: file.parent().unwrap_or(Path::new("")).to_path_buf(),
    }))
}

/// The context of a command that only reads (`status`, `logs`): default timings, no rollback.
async fn reading_context(
    artifacts: &Artifacts,
    file: &Path,
    endpoint: Option<&str>,
) -> Result<Arc<Ctx>, ExitCode> {
    context(
        artifacts,
        file,
        endpoint,
        Timing::from_env(),
        false,
        Vec::new(),
    )
    .await
}

/// `stackc status`: exit 0 healthy, 1 not healthy, 2 not deployed.
pub fn status(args: &StatusArgs) -> ExitCode {
    let artifacts = match compile(&args.file, &args.target) {
        Ok(a) => a,
        Err(code) => return code,
    };
    on_runtime(async move {
        let ctx = match reading_context(&artifacts, &args.file, args.endpoint_url.as_deref()).await
        {
            Ok(c) => c,
            Err(code) => return code,
        };
        let s = match aws::status::status(&ctx, &artifacts.plan).await {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let text = match args.format {
            Format::Json => format!("{}\n", serde_json::to_string_pretty(&s).unwrap_or_default()),
            Format::Human => render_status(&s),
        };
        let written = super::write_stdout(text.as_bytes());
        if written != ExitCode::SUCCESS {
            return written;
        }
        if !s.deployed() {
            ExitCode::from(2)
        } else if s.healthy() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    })
}

fn render_status(s: &aws::status::Status) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let Some(status) = &s.status else {
        let _ = writeln!(
            out,
            "environment {} of stack {} is not deployed",
            s.environment, s.stack
        );
        return out;
    };
    let health = match (&s.health, &s.health_status) {
        (Some(h), Some(st)) => format!("{h} ({st})"),
        (Some(h), None) => h.clone(),
        _ => "no health".into(),
    };
    let _ = writeln!(
        out,
        "environment {} of stack {}: {status}, {health}",
        s.environment, s.stack
    );
    if let Some(url) = &s.url {
        let _ = writeln!(out, "  url: {url}");
    }
    for c in &s.causes.environment {
        let _ = writeln!(out, "  cause: {c}");
    }
    if let Some(r) = &s.running {
        let when = r
            .created
            .as_deref()
            .map(|c| format!(" (made {c})"))
            .unwrap_or_default();
        let _ = writeln!(out, "  version: {}{when}", r.label);
        for (name, image) in &r.images {
            let _ = writeln!(out, "    {name}: {image}");
        }
    }
    if !s.causes.instances.is_empty() {
        let _ = writeln!(out, "  instances:");
    }
    for i in &s.causes.instances {
        let _ = writeln!(out, "    {}: {}", i.id, i.health);
        for c in &i.causes {
            let _ = writeln!(out, "      {c}");
        }
    }
    if !s.stores.is_empty() {
        let _ = writeln!(out, "  data stores:");
    }
    for st in &s.stores {
        let protection = match st.protected {
            Some(true) => ", deletion protection on",
            Some(false) => ", deletion protection off",
            None => "",
        };
        let _ = writeln!(
            out,
            "    {}: {}, version {}{protection}",
            st.resource, st.status, st.engine_version
        );
    }
    out
}

/// `stackc rollback`: list the versions, or deploy an earlier one through the health gate.
pub fn rollback(args: &RollbackArgs) -> ExitCode {
    let artifacts = match compile(&args.file, &args.target) {
        Ok(a) => a,
        Err(code) => return code,
    };
    on_runtime(async move {
        let ctx = match context(
            &artifacts,
            &args.file,
            args.endpoint_url.as_deref(),
            Timing {
                health_timeout: args.health_timeout,
                ..Timing::from_env()
            },
            true,
            Vec::new(),
        )
        .await
        {
            Ok(c) => c,
            Err(code) => return code,
        };
        let plan = &artifacts.plan;
        if args.list {
            let rows = match aws::status::history(&ctx, plan).await {
                Ok(r) => r,
                Err(e) => return fail(e),
            };
            let mut text = String::new();
            for r in &rows {
                let mark = if r.running { "  (running)" } else { "" };
                text.push_str(&format!(
                    "{}  {}{mark}\n",
                    r.label,
                    r.created.as_deref().unwrap_or("-")
                ));
            }
            if rows.is_empty() {
                text.push_str("no version: the stack is not deployed\n");
            }
            return super::write_stdout(text.as_bytes());
        }
        let what = args
            .to
            .as_deref()
            .map_or("the previous version".to_string(), |t| {
                format!("version {t}")
            });
        if !confirm(&format!("Deploy {what} again?"), args.yes) {
            return fail("not confirmed; nothing was changed");
        }
        match aws::status::roll_back(&ctx, plan, args.to.as_deref()).await {
            Ok((from, to)) => {
                eprintln!("Rolled back from {from} to {to}, which runs and is healthy.");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        }
    })
}

/// The services of a compiled program: the containers of its Dockerrun.
fn services(artifacts: &Artifacts) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(&artifacts.dockerrun).unwrap_or_default();
    doc["containerDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `stackc logs`: the lines written since `--since`, then with `--follow` every new one, until
/// interrupted.
pub fn logs(args: &LogsArgs) -> ExitCode {
    let artifacts = match compile(&args.file, &args.target) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let services = services(&artifacts);
    if let Some(s) = &args.service {
        if !services.contains(s) {
            let hint = stackc::check::did_you_mean(s, services.iter().map(String::as_str))
                .map(|d| format!("; did you mean `{d}`?"))
                .unwrap_or_else(|| format!("; its services are {}", services.join(", ")));
            say!("error: {} has no service `{s}`{hint}", args.file.display());
            return ExitCode::from(2);
        }
    }
    let width = services
        .iter()
        .map(String::len)
        .chain(args.platform.then_some("eb-ecs-mgr".len()))
        .max()
        .unwrap_or(0);
    on_runtime(async move {
        let ctx = match reading_context(&artifacts, &args.file, args.endpoint_url.as_deref()).await
        {
            Ok(c) => c,
            Err(code) => return code,
        };
        let q = aws::logs::Query {
            service: args.service.clone(),
            platform: args.platform,
        };
        let since = i64::try_from(args.since.as_millis()).unwrap_or(i64::MAX);
        let mut start = now_ms().saturating_sub(since);
        // The events at `start` that were printed: the next read starts there again.
        let mut printed_at_start: Vec<String> = Vec::new();
        let interval = ctx.timing.poll_first.min(std::time::Duration::from_secs(2));
        loop {
            let lines = match aws::logs::read(&ctx, &artifacts.plan, &q, start).await {
                Ok(l) => l,
                Err(e) => return fail(e),
            };
            let new = lines.iter().filter(|l| !printed_at_start.contains(&l.id));
            let written = super::output::stream_stdout(|out| {
                for l in new {
                    match args.format {
                        Format::Json => {
                            writeln!(out, "{}", serde_json::to_string(l).unwrap_or_default())?
                        }
                        Format::Human => writeln!(
                            out,
                            "{} {:>width$} | {}",
                            l.time,
                            l.source,
                            stackc::diagnostic::printable(&l.message)
                        )?,
                    }
                }
                Ok(())
            });
            if let Err(code) = written {
                return code;
            }
            if !args.follow {
                return ExitCode::SUCCESS;
            }
            if let Some(last) = lines.last() {
                if last.time_ms > start {
                    start = last.time_ms;
                    printed_at_start.clear();
                }
                printed_at_start.extend(
                    lines
                        .iter()
                        .filter(|l| l.time_ms == start)
                        .map(|l| l.id.clone()),
                );
            }
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
                () = tokio::time::sleep(interval) => {}
            }
        }
    })
}

fn secret_from_env() -> SecretFn {
    Arc::new(|var: &str| std::env::var(var).ok())
}

async fn run(mode: Mode, args: &DeployArgs, artifacts: Artifacts) -> ExitCode {
    let plan = &artifacts.plan;
    let secret = secret_from_env();
    let unset = match mode {
        Mode::Destroy => Vec::new(),
        Mode::Plan | Mode::Apply => preflight::secrets(plan, &*secret),
    };
    let ctx = match context(
        &artifacts,
        &args.file,
        args.endpoint_url.as_deref(),
        Timing {
            health_timeout: args.health_timeout,
            validation_timeout: args.validation_timeout,
            ..Timing::from_env()
        },
        !args.no_rollback,
        unset,
    )
    .await
    {
        Ok(c) => c,
        Err(code) => return code,
    };
    let region = ctx.region.clone();
    match &plan.env {
        Some(env) => eprintln!(
            "reading the state of stack {}, environment {env}, in {region}...",
            plan.stack
        ),
        None => eprintln!("reading the state of stack {} in {region}...", plan.stack),
    }
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
        // A preview goes whole: its images too, as its data.
        let delete_images = args.delete_images || plan.template;
        return destroy(ctx, plan, &snap, args.yes, delete_images).await;
    }
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
    match exec::apply(ctx.clone(), plan, &changes, &snap, secret).await {
        Ok(done) => {
            // An application this apply made holds one version: nothing to prune, no call.
            let app_existed = plan.steps.iter().any(|s| {
                s.kind() == stackc::deploy::resources::Kind::Application
                    && snap.found.contains_key(&s.id)
            });
            let (pruned, notes) = match app_existed {
                true => stackc::deploy::resources::app_version::prune(&ctx, plan).await,
                false => Default::default(),
            };
            for n in &notes {
                eprintln!("note: {n}");
            }
            if !pruned.is_empty() {
                eprintln!(
                    "deleted {} old application versions with their bundles ({}), keeping the newest",
                    pruned.len(),
                    pruned.join(", ")
                );
            }
            eprintln!("Apply complete: {} changes.", done.len());
            ExitCode::SUCCESS
        }
        Err(f) => report_failure(&f),
    }
}

async fn destroy(
    ctx: Arc<Ctx>,
    plan: &lower::Plan,
    snap: &Snapshot,
    yes: bool,
    delete_images: bool,
) -> ExitCode {
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
        "Destroy will delete the {n} resources of stack {} (protected data stores are kept, and image repositories unless --delete-images).",
        plan.stack
    );
    if !confirm("Destroy the stack?", yes) {
        return fail("not confirmed; nothing was deleted");
    }
    let options = stackc::deploy::resource::DestroyOptions { delete_images };
    match exec::destroy(ctx, plan, snap, &options).await {
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
