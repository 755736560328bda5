//! `counsel precompile`: compiles the policies of a configuration into a
//! directory, ahead of time. The image runs it when it is built, for the
//! bundled policies, so that a new pod loads them in milliseconds instead
//! of compiling them (`counsel serve --precompiled-dir`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use counsel::config::Config;
use counsel::engine::{CompiledFrom, Engine, EngineOptions};
use counsel::review::Reviewer;

/// Compile every policy of a configuration (the built-in one when none is
/// given) into DIR, for `counsel serve --precompiled-dir DIR`.
///
/// The compiled code is for this build of Counsel on this kind of machine:
/// `serve` checks both and compiles afresh what does not match.
#[derive(Debug, clap::Args)]
pub struct PrecompileArgs {
    /// The configuration whose policies to compile.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where to write the compiled policies (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Compiles, and prints one line per policy.
pub fn run(args: PrecompileArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::builtin(),
    };
    let options = EngineOptions {
        cache_dir: Some(args.out.clone()),
        precompiled_dir: None,
        ..EngineOptions::default()
    };
    let engine = Engine::new(options).context("starting the policy engine")?;
    let reviewer = Reviewer::load(&config, &engine)?;
    for name in reviewer.policies() {
        let how = match reviewer.policy(name).map(|policy| policy.compiled_from()) {
            Some(CompiledFrom::Source) => "compiled",
            Some(CompiledFrom::Cache) | None => "already compiled",
        };
        println!("{name}: {how} into {}", args.out.display());
    }
    Ok(ExitCode::SUCCESS)
}
