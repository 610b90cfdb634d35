//! The command-line grammar (clap derive). `--help` texts live here.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "stackc",
    version,
    about = "Compile a .stack file into an Elastic Beanstalk multi-container app, and deploy it",
    after_help = "Examples:\n  stackc check app.stack\n  stackc check --format json app.stack\n  stackc build app.stack --out out/\n  stackc graph app.stack --format mermaid\n  stackc import docker-compose.yml > app.stack"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Parse and check a file, reporting every problem
    #[command(
        after_help = "Exit status: 0 when clean, 1 on errors (or warnings with --deny-warnings), 2 on usage errors."
    )]
    Check(CheckArgs),
    /// Check a file and write Dockerrun.aws.json and plan.json
    #[command(
        after_help = "Example:\n  stackc build examples/complex-docker.stack --out out/\n\nNothing is written when the file has errors."
    )]
    Build(BuildArgs),
    /// Format .stack files in place (or standard input to standard output)
    #[command(
        after_help = "Examples:\n  stackc fmt app.stack\n  stackc fmt .\n  stackc fmt --check examples/\n  stackc fmt < app.stack\n\nA file with syntax errors is left unchanged (exit 1). With --check, nothing is written:\nthe files that would change are listed and the exit status is 1 if there is any."
    )]
    Fmt(FmtArgs),
    /// Print the graph of services, links, data stores and firewall paths (or of the plan's steps)
    #[command(
        after_help = "Examples:\n  stackc graph app.stack | dot -Tsvg > app.svg\n  stackc graph app.stack --format mermaid\n  stackc graph app.stack --plan\n\nNothing is printed on stdout when the file has errors (exit 1)."
    )]
    Graph(GraphArgs),
    /// Convert a docker-compose.yml or a Dockerrun.aws.json into a .stack file, printed on stdout
    #[command(
        after_help = "Example:\n  stackc import docker-compose.yml > app.stack\n\nWarnings (keys with no equivalent, placeholders to fill in) go to stderr with their line;\nthe output has `# TODO` comments where you must decide."
    )]
    Import(ImportArgs),
    /// Run the language server (LSP over stdin/stdout), for editors
    #[command(
        after_help = "Example (Neovim):\n  vim.lsp.start({ name = 'stackc', cmd = { 'stackc', 'lsp' } })\n\nAn editor starts it; see docs/editors.md for Neovim, Helix and VS Code."
    )]
    Lsp(LspArgs),
    /// Show what apply would create, update, replace and delete in AWS
    #[cfg(feature = "aws")]
    #[command(
        after_help = "Exit status: 0 on success (with --detailed-exitcode: 0 no changes, 2 changes), 1 on errors."
    )]
    Plan(DeployArgs),
    /// Create or update the stack's resources in AWS
    #[cfg(feature = "aws")]
    #[command(
        after_help = "Example:\n  stackc apply examples/complex-docker.stack --yes\n\nAn interrupted apply is finished by running it again."
    )]
    Apply(DeployArgs),
    /// Delete the stack's resources from AWS (data stores with deletion protection are kept)
    #[cfg(feature = "aws")]
    Destroy(DeployArgs),
    /// Show the environment's status and health, its instances, the running version and the data stores
    #[cfg(feature = "aws")]
    #[command(after_help = "Exit status: 0 healthy, 1 not healthy, 2 not deployed.")]
    Status(StatusArgs),
    /// Deploy the previous (or a named) application version again, through the health gate
    #[cfg(feature = "aws")]
    #[command(
        after_help = "Examples:\n  stackc rollback app.stack --list\n  stackc rollback app.stack --yes\n  stackc rollback app.stack --to v-0123456789ab --yes"
    )]
    Rollback(RollbackArgs),
    /// Print the containers' logs (and the platform's) from CloudWatch Logs
    #[cfg(feature = "aws")]
    #[command(
        after_help = "Examples:\n  stackc logs app.stack\n  stackc logs app.stack web --since 1h\n  stackc logs app.stack --follow\n  stackc logs app.stack --platform --since 30m\n\nLines are interleaved by time, each after its service (or platform log file).\nWith --format json, one JSON object per line: time, source, stream, message."
    )]
    Logs(LogsArgs),
    /// Print the least-privilege IAM policy a deployer needs to run plan, apply and destroy for a file
    #[command(
        after_help = "Example:\n  stackc iam-policy app.stack > deployer-policy.json\n  aws iam create-policy --policy-name app-deployer --policy-document file://deployer-policy.json\n\nResources are scoped by the stack's names and tags where AWS allows it; see docs/deploy.md.\nNothing is printed on stdout when the file has errors (exit 1)."
    )]
    IamPolicy(IamPolicyArgs),
    /// Print the CI pipeline that checks, plans and deploys a file (GitHub Actions, GitLab CI,
    /// Travis CI), or the IAM role it deploys with
    #[command(
        after_help = "Examples:\n  stackc ci github app.stack --out .github/workflows/stackc.yml\n  stackc ci gitlab app.stack > .gitlab-ci.yml\n  stackc ci github app.stack --print-role --repository acme/shop --account 123456789012\n\nFILE is the path from the repository's top folder, where the pipeline runs. Its environments\napply on the main branch in the file's order, those with `approval = true` once a person\napproves; the first `template = true` environment is each pull request's preview (pr-N). The\nset-up (role, trust policy, variables) is in docs/deploy.md, \"Deploying from CI\". Nothing is\nprinted or written when the file has errors, or only templates (exit 1)."
    )]
    Ci(CiArgs),
    /// Print the page of a diagnostic code: what it checks, why, an example and the fix
    #[command(
        after_help = "Examples:\n  stackc explain stack::open_to_world\n  stackc explain unused_port\n  stackc explain --list"
    )]
    Explain(ExplainArgs),
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  stackc completions bash > ~/.local/share/bash-completion/completions/stackc\n  stackc completions zsh > ~/.zfunc/_stackc\n  stackc completions fish > ~/.config/fish/completions/stackc.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff), generated from these definitions
    #[command(after_help = "Example:\n  stackc man > /usr/local/share/man/man1/stackc.1")]
    Man,
}

#[derive(clap::Args)]
pub struct GraphArgs {
    /// The .stack file
    pub file: PathBuf,
    #[command(flatten)]
    pub target: Target,
    /// The graph language: Graphviz DOT or a Mermaid flowchart
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// Draw the provisioning steps of plan.json and their dependencies instead
    #[arg(long)]
    pub plan: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT (`dot -Tsvg`)
    Dot,
    /// A Mermaid flowchart (renders in GitHub Markdown)
    Mermaid,
}

#[derive(clap::Args)]
pub struct FmtArgs {
    /// The .stack files, or directories to format every .stack file below; none or `-` reads
    /// standard input and prints the result
    pub files: Vec<PathBuf>,
    /// Write nothing; list the files that are not formatted and exit 1 if there is any
    #[arg(long)]
    pub check: bool,
}

#[derive(clap::Args)]
pub struct LspArgs {
    /// Speak over stdin/stdout (the only transport; accepted because some clients pass it)
    #[arg(long)]
    pub stdio: bool,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// A docker-compose.yml (or .yaml) or a Dockerrun.aws.json
    pub file: PathBuf,
}

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(feature = "aws")]
#[derive(clap::Args)]
pub struct DeployArgs {
    /// The .stack file
    pub file: PathBuf,
    #[command(flatten)]
    pub target: Target,
    /// Send every AWS call to this endpoint (e.g. a local emulator); also AWS_ENDPOINT_URL
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Do not ask for confirmation (required when not on a terminal)
    #[arg(long, short)]
    pub yes: bool,
    /// How to print the plan (plan only)
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit 2 when there are changes (plan only)
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// How long apply waits for the environment to become healthy after a deployment, e.g.
    /// `15m`, `90s`, `1h` (apply only)
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub health_timeout: std::time::Duration,
    /// Keep a version that fails its health check instead of deploying the one before again,
    /// to inspect it (apply only)
    #[arg(long)]
    pub no_rollback: bool,
    /// How long apply waits for ACM to validate the certificate of `domain`, e.g. `30m`; a
    /// later apply goes on waiting (apply only)
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub validation_timeout: std::time::Duration,
    /// Delete the ECR repositories of built services too, with their images; destroy keeps
    /// them otherwise, as images are data (destroy only)
    #[arg(long)]
    pub delete_images: bool,
}

/// `90s`, `15m`, `1h`, `1d`, or a number of seconds.
#[cfg(feature = "aws")]
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (digits, unit) = s.trim().split_at(
        s.trim()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(s.trim().len()),
    );
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: write e.g. `15m`, `90s` or `1h`"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => {
            return Err(format!(
                "`{s}` is not a duration: the unit is `s`, `m`, `h` or `d`"
            ));
        }
    };
    if secs == 0 {
        return Err("the duration must be above 0".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

#[cfg(feature = "aws")]
#[derive(clap::Args)]
pub struct StatusArgs {
    /// The .stack file
    pub file: PathBuf,
    #[command(flatten)]
    pub target: Target,
    /// Send every AWS call to this endpoint (e.g. a local emulator); also AWS_ENDPOINT_URL
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// How to print the status
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[cfg(feature = "aws")]
#[derive(clap::Args)]
pub struct RollbackArgs {
    /// The .stack file
    pub file: PathBuf,
    #[command(flatten)]
    pub target: Target,
    /// Send every AWS call to this endpoint (e.g. a local emulator); also AWS_ENDPOINT_URL
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// The version to deploy (a label of `--list`); by default the one before the running one
    #[arg(long, value_name = "LABEL")]
    pub to: Option<String>,
    /// List the application's versions, newest first, and say which one runs
    #[arg(long, conflicts_with = "to")]
    pub list: bool,
    /// Do not ask for confirmation (required when not on a terminal)
    #[arg(long, short)]
    pub yes: bool,
    /// How long to wait for the environment to become healthy, e.g. `15m`, `90s`
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub health_timeout: std::time::Duration,
}

#[cfg(feature = "aws")]
#[derive(clap::Args)]
pub struct LogsArgs {
    /// The .stack file
    pub file: PathBuf,
    #[command(flatten)]
    pub target: Target,
    /// Only this service's containers
    pub service: Option<String>,
    /// Send every AWS call to this endpoint (e.g. a local emulator); also AWS_ENDPOINT_URL
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// How far back to start, e.g. `10m`, `2h`, `1d`
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub since: std::time::Duration,
    /// Keep printing new lines until interrupted (Ctrl-C)
    #[arg(long, short)]
    pub follow: bool,
    /// The platform's log files too (the ECS agent, Elastic Beanstalk's deployments)
    #[arg(long)]
    pub platform: bool,
    /// How to print the lines
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct IamPolicyArgs {
    /// The .stack file
    pub file: PathBuf,
    /// Only this environment's resources; by default every environment's
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
}

#[derive(clap::Args)]
pub struct CiArgs {
    /// The CI service
    #[arg(value_enum)]
    pub provider: CiProvider,
    /// The .stack file, as a path from the repository's top folder
    pub file: PathBuf,
    /// Write to this file instead of stdout (its folder is created if missing)
    #[arg(long, short, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Print the IAM role the pipeline deploys with instead, as JSON: the trust policy for the
    /// service's OIDC tokens and the deployer's policy of `stackc iam-policy`
    #[arg(long)]
    pub print_role: bool,
    /// The repository the role trusts: OWNER/NAME on GitHub, GROUP/PROJECT on GitLab
    /// (--print-role needs it for both)
    #[arg(long, value_name = "PATH", requires = "print_role")]
    pub repository: Option<String>,
    /// The AWS account of the role and of its OIDC provider, 12 digits (--print-role needs it
    /// for GitHub and GitLab)
    #[arg(long, value_name = "ID", requires = "print_role")]
    pub account: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CiProvider {
    /// GitHub Actions: .github/workflows/stackc.yml
    Github,
    /// GitLab CI: .gitlab-ci.yml
    Gitlab,
    /// Travis CI: .travis.yml
    Travis,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The .stack file
    pub file: PathBuf,
    /// How to print diagnostics
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit 1) on warnings too
    #[arg(long)]
    pub deny_warnings: bool,
    /// Also run the strict lints: single_az, latest_tag, and unencrypted redis
    #[arg(long)]
    pub strict: bool,
}

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The code, with or without `stack::` (e.g. `stack::public_database`)
    #[arg(required_unless_present = "list")]
    pub code: Option<String>,
    /// List every code with its severity and a one-line summary
    #[arg(long, conflicts_with = "code")]
    pub list: bool,
}

#[derive(clap::Args)]
pub struct BuildArgs {
    /// The .stack file
    pub file: PathBuf,
    /// Only this environment; a file with several otherwise writes `DIR/<env>/` for each
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// A preview: the instance of the template environment `--env` names (e.g. pr-42)
    #[arg(long, value_name = "INSTANCE", requires = "env")]
    pub name: Option<String>,
    /// Directory to write Dockerrun.aws.json and plan.json into (created if missing)
    #[arg(long, short)]
    pub out: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Rendered reports, for people
    Human,
    /// One JSON array of diagnostics, for editors and CI
    Json,
}

/// Which environment of the file a command works on.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct Target {
    /// The environment, in a file with several (or the template of a preview)
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// A preview: the instance of the template environment `--env` names (e.g. pr-42)
    #[arg(long, value_name = "INSTANCE", requires = "env")]
    pub name: Option<String>,
}
