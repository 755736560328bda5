//! `counsel check`: what the cluster would say on `kubectl apply`, before
//! the developer runs it, pointing at the lines of their own files.

mod inputs;
mod json;
mod pretty;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use counsel::request::{Operation, Request};
use counsel::review::Scope;
use counsel::source::Document;

use super::{EXIT_ERROR, PolicyArgs};
use inputs::{Checked, InputError};

/// Exit code when an enforced rule is broken (or a policy failed under
/// `failurePolicy: fail`).
const EXIT_DENIED: u8 = 1;

/// Arguments of `counsel check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to check (YAML or JSON; directories are searched
    /// for *.yaml, *.yml and *.json); `-` reads standard input.
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub policies: PolicyArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Pretty)]
    pub output: Format,
    /// Namespace for objects that do not name one (like `kubectl -n`).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// The operation to check as.
    #[arg(long, value_enum, ignore_case = true, default_value_t = OperationArg::Create)]
    pub operation: OperationArg,
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Output formats of `counsel check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics for people, pointing at source lines.
    Pretty,
    /// One JSON document for tools.
    Json,
}

/// The operations a manifest can be checked as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OperationArg {
    /// As a new object.
    Create,
    /// As a change to an existing object (the old object is the same).
    Update,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When standard output is a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// What was checked, for the renderers.
pub struct Outcome {
    /// Every file read, with its documents (empty when it did not parse).
    pub files: Vec<File>,
    /// Every object checked.
    pub checked: Vec<Checked>,
    /// Every file, document or object that could not be checked.
    pub errors: Vec<InputError>,
}

/// One input file.
pub struct File {
    /// The name shown (`-` for standard input).
    pub name: String,
    /// Its text.
    pub text: String,
    /// Its documents with positions.
    pub documents: Vec<Document>,
}

/// Runs `counsel check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let reviewer = args.policies.load()?;
    let operation = match args.operation {
        OperationArg::Create => Operation::Create,
        OperationArg::Update => Operation::Update,
    };
    let (files, mut errors) = inputs::read(&args.files);
    let mut checked = Vec::new();
    for (file_index, file) in files.iter().enumerate() {
        for object in inputs::objects(file_index, file, &mut errors) {
            let request =
                Request::for_manifest(object.value.clone(), operation, args.namespace.as_deref());
            // Scope::All never names a policy, so review cannot fail here.
            let report = reviewer.review(&request, Scope::All, None)?;
            checked.push(Checked { object, report });
        }
    }
    let outcome = Outcome {
        files,
        checked,
        errors,
    };
    let stdout = std::io::stdout();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = match args.output {
        Format::Pretty => pretty::render(&outcome, color),
        Format::Json => json::render(&outcome),
    };
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::from(if !outcome.errors.is_empty() {
        EXIT_ERROR
    } else if outcome.checked.iter().any(|c| !c.report.allowed()) {
        EXIT_DENIED
    } else {
        0
    }))
}
