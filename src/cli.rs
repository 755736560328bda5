//! Command-line parsing and the commands themselves. This is the binary's
//! edge: errors become messages and exit codes here.

mod audit;
mod certs;
mod check;
mod install;
mod new;
mod precompile;
mod run;
mod serve;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use counsel::config::Config;
use counsel::engine::{Engine, EngineOptions};
use counsel::review::Reviewer;

/// Exit code for usage, configuration and input errors.
pub const EXIT_ERROR: u8 = 2;

/// Counsel: admission policies that explain themselves.
#[derive(Debug, Parser)]
#[command(name = "counsel", version, about, long_about = None)]
pub struct Cli {
    /// Log filter (tracing's env-filter syntax), e.g. `info` or
    /// `counsel=debug`; default `info` for serve, `warn` otherwise.
    #[arg(long, global = true, env = "COUNSEL_LOG")]
    pub log: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests against the policies, as the cluster would on apply.
    Check(check::CheckArgs),
    /// What already runs and would be denied if the policies were enforced
    /// (the rollout report), from a cluster or manifests.
    Audit(audit::AuditArgs),
    /// Serve the admission webhook over HTTPS.
    Serve(serve::ServeArgs),
    /// Write a CA and a serving certificate, and print the caBundle.
    Certs(certs::CertsArgs),
    /// Print Counsel's deployment as Kubernetes manifests, certificates
    /// included, for `counsel install | kubectl apply -f -`.
    Install(install::InstallArgs),
    /// Compile the policies of a configuration ahead of time, into a
    /// directory `counsel serve --precompiled-dir` reads.
    Precompile(precompile::PrecompileArgs),
    /// Run declarative test suites of policies (`*.test.yaml`).
    Test(test::TestArgs),
    /// Evaluate one policy, with its settings, on a manifest or an
    /// AdmissionReview, without a configuration file.
    Run(run::RunArgs),
    /// Start a new policy (CEL rules or a Rust crate) with a test suite
    /// that passes as generated.
    New(new::NewArgs),
}

/// Options shared by every command that loads policies.
#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    /// The configuration file; the built-in configuration (bundled
    /// policies) when not given.
    #[arg(long, short = 'c', env = "COUNSEL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where compiled policies are cached (default: ~/.cache/counsel/compiled).
    #[arg(long, env = "COUNSEL_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Policies compiled ahead of time by `counsel precompile`, read before
    /// the cache and never written to (the image sets it to its own).
    #[arg(long, env = "COUNSEL_PRECOMPILED_DIR", value_name = "DIR")]
    pub precompiled_dir: Option<PathBuf>,
}

impl PolicyArgs {
    /// Reads the configuration and loads every policy it names; returns both.
    pub fn load(&self) -> anyhow::Result<(Config, Reviewer)> {
        let config = self.config()?;
        let reviewer = self.reviewer(&config)?;
        Ok((config, reviewer))
    }

    /// Reads the configuration (the built-in one when none is given).
    pub fn config(&self) -> anyhow::Result<Config> {
        Ok(match &self.config {
            Some(path) => Config::load(path)?,
            None => Config::builtin(),
        })
    }

    /// Loads every policy `config` names.
    pub fn reviewer(&self, config: &Config) -> anyhow::Result<Reviewer> {
        Ok(Reviewer::load(config, &self.engine()?)?)
    }

    /// The policy engine, with the cache directories given.
    pub fn engine(&self) -> anyhow::Result<Engine> {
        let options = EngineOptions {
            cache_dir: self
                .cache_dir
                .clone()
                .or_else(counsel::engine::default_cache_dir),
            precompiled_dir: self.precompiled_dir.clone(),
            ..EngineOptions::default()
        };
        Engine::new(options).context("starting the policy engine")
    }
}

/// Sends logs to stderr, so that command output stays clean.
pub fn init_logging(cli: &Cli) {
    if let Command::Serve(args) = &cli.command {
        serve::init_logging(cli.log.as_deref().unwrap_or("info"), args.log_format);
        return;
    }
    let filter = tracing_subscriber::EnvFilter::try_new(cli.log.as_deref().unwrap_or("warn"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(serve::colour_stderr())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the chosen command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Certs(args) => certs::run(args),
        Command::Install(args) => install::run(args),
        Command::Precompile(args) => precompile::run(args),
        Command::Test(args) => test::run(args),
        Command::Run(args) => run::run(args),
        Command::New(args) => new::run(args),
    }
}
