//! `counsel-componentize`: turns a policy's core wasm module into a Counsel
//! policy component, records the hash of the sources it was built from, and
//! verifies that committed components match the tree. `policies/build.sh`
//! drives it; it needs no external binaries.
//!
//! ```text
//! counsel-componentize --module target/.../container_security.wasm \
//!     --out policies/dist/container-security.wasm --inputs container-security
//! counsel-componentize --verify
//! ```

mod encode;
mod inputs;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{ArgGroup, Parser};

use inputs::Checkout;
use verify::Finding;

/// Build and check Counsel policy components.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
#[command(group(ArgGroup::new("mode").required(true).multiple(true).args(["module", "inputs", "verify"])))]
struct Cli {
    /// The core wasm module cargo built for the policy.
    #[arg(long, value_name = "IN.wasm", requires = "out")]
    module: Option<PathBuf>,

    /// Where to write the component (normally policies/dist/NAME.wasm).
    #[arg(long, value_name = "OUT.wasm", requires = "module")]
    out: Option<PathBuf>,

    /// Write the hash of policy NAME's inputs to policies/dist/NAME.inputs.
    #[arg(long, value_name = "NAME")]
    inputs: Option<String>,

    /// Check that every policies/dist/*.wasm was built from the sources in the tree.
    #[arg(long, conflicts_with_all = ["module", "inputs"])]
    verify: bool,

    /// The policies workspace.
    #[arg(long, value_name = "DIR", default_value = "policies")]
    policies: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("counsel-componentize: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    if let (Some(module), Some(out)) = (&cli.module, &cli.out) {
        let size = encode::componentize(module, out)?;
        println!("wrote {} ({size} bytes)", out.display());
    }
    if let Some(name) = &cli.inputs {
        let checkout = Checkout::new(&cli.policies)?;
        let record = checkout.record(name)?;
        let path = checkout.dist().join(format!("{name}.inputs"));
        encode::write_atomically(&path, record.as_bytes())
            .with_context(|| format!("cannot record the inputs of {name}"))?;
        println!(
            "wrote {} ({})",
            checkout.show(&path),
            record.lines().next().unwrap_or_default()
        );
    }
    if cli.verify {
        let checkout = Checkout::new(&cli.policies)?;
        let findings = verify::verify(&checkout)?;
        let mut stale = 0;
        for finding in &findings {
            match finding {
                Finding::UpToDate { component, hash } => {
                    println!("up to date: {component} ({hash})")
                }
                Finding::Stale(message) => {
                    stale += 1;
                    eprintln!("counsel-componentize: error: {message}");
                }
            }
        }
        if stale > 0 {
            eprintln!(
                "counsel-componentize: {stale} of {} policy files in {} do not match the sources",
                findings.len(),
                checkout.show(&checkout.dist())
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}
