//! `counsel check`: what the cluster would say on `kubectl apply`, before
//! the developer runs it, pointing at the lines of their own files.

mod fix;
mod inputs;
mod json;
mod pretty;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use counsel::fix::FixScope;
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
    /// Make the machine fixes of enforce, warn and fix-mode violations in
    /// the files themselves (audit findings are left alone), then check
    /// again and report what is left for a person. `--fix` (or
    /// `--fix=safe`) makes the fixes that are safe to make unattended, as
    /// the webhook would; `--fix=all` also makes those that are only
    /// suggestions (such as runAsNonRoot: true, which an image that runs as
    /// root does not start with): check that they suit your images. Only
    /// the fixed fields change: comments, order, indentation and quoting
    /// stay as written. Files are replaced atomically; standard input
    /// cannot be fixed.
    #[arg(
        long,
        value_enum,
        value_name = "WHICH",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "safe"
    )]
    pub fix: Option<FixArg>,
    /// With --fix: print the changes as a unified diff and change nothing.
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
}

/// Which fixes `--fix` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixArg {
    /// Only fixes safe to make unattended (what the webhook makes).
    Safe,
    /// Suggestions too; check that they suit your images.
    All,
}

impl From<FixArg> for FixScope {
    fn from(arg: FixArg) -> FixScope {
        match arg {
            FixArg::Safe => FixScope::Safe,
            FixArg::All => FixScope::All,
        }
    }
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
    /// As an update that changes nothing (the old object is the file
    /// itself): violations already there deny only under `updates: strict`.
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
    /// What `--fix` did, before `checked` was made of the fixed files.
    pub fixes: Option<Fixes>,
}

/// What `--fix` did.
pub struct Fixes {
    /// Per file it looked at.
    pub files: Vec<fix::FileFix>,
    /// Whether the files were left as they were (`--dry-run`).
    pub dry_run: bool,
}

impl Fixes {
    /// Violations fixed in all files.
    pub fn fixed(&self) -> usize {
        self.files.iter().map(|f| f.fixed).sum()
    }

    /// Files changed (or that would be).
    pub fn changed_files(&self) -> usize {
        self.files
            .iter()
            .filter(|f| !f.diff.is_empty() && f.write_error.is_none())
            .count()
    }
}

impl Outcome {
    /// Violations of the modes `--fix` fixes that are still there.
    pub fn need_a_person(&self) -> usize {
        self.checked
            .iter()
            .flat_map(|c| &c.report.findings)
            .filter(|f| fix::FIXED_MODES.contains(&f.mode))
            .count()
    }
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
    if args.fix.is_some() && args.files.iter().any(|file| file.as_os_str() == "-") {
        anyhow::bail!(
            "--fix rewrites files in place, so it cannot fix standard input (-); save the manifest to a file and run counsel check --fix -f FILE"
        );
    }
    let reviewer = args.policies.load()?;
    let operation = match args.operation {
        OperationArg::Create => Operation::Create,
        OperationArg::Update => Operation::Update,
    };
    let (mut files, read_errors) = inputs::read(&args.files);
    let review_all = |files: &[File]| -> anyhow::Result<(Vec<Checked>, Vec<InputError>)> {
        let mut errors = read_errors.clone();
        let mut checked = Vec::new();
        for (file_index, file) in files.iter().enumerate() {
            for object in inputs::objects(file_index, file, &mut errors) {
                let request = Request::for_manifest(
                    object.value.clone(),
                    operation,
                    args.namespace.as_deref(),
                );
                // Scope::All never names a policy, so review cannot fail here.
                let report = reviewer.review(&request, Scope::All, None)?;
                checked.push(Checked { object, report });
            }
        }
        Ok((checked, errors))
    };
    let (mut checked, mut errors) = review_all(&files)?;
    let mut fixes = None;
    if let Some(which) = args.fix {
        let fixed = fix::fix_files(&mut files, &checked, which.into(), args.dry_run);
        // What is left is what the fixed files say.
        (checked, errors) = review_all(&files)?;
        for file in &fixed {
            if let Some(problem) = &file.write_error {
                errors.push(InputError {
                    file: files[file.file].name.clone(),
                    line: None,
                    column: None,
                    message: format!("cannot write the fixed file, left as it was: {problem}"),
                });
            }
        }
        fixes = Some(Fixes {
            files: fixed,
            dry_run: args.dry_run,
        });
    }
    let outcome = Outcome {
        files,
        checked,
        errors,
        fixes,
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
