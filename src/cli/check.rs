//! `counsel check`: what the cluster would say on `kubectl apply`, before
//! the developer runs it, pointing at the lines of their own files.
//!
//! Files are handled one after another and each one document at a time:
//! read, reviewed, rendered and written out, then dropped, so memory follows
//! the largest document (and file text), not the whole input.

mod fix;
mod inputs;
mod json;
mod pretty;

use std::cell::OnceCell;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use counsel::explain::Report;
use counsel::fix::FixScope;
use counsel::request::{Operation, Request};
use counsel::review::{Reviewer, Scope};
use counsel::source::{self, Document};
use serde_json::Value;

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

/// Counts over the whole run, for the last lines and the exit code.
#[derive(Debug, Default)]
pub struct Totals {
    /// Objects checked.
    pub objects: usize,
    /// Inputs (files, documents, objects) that could not be checked.
    pub unchecked: usize,
    /// Whether any object would be denied.
    pub denied: bool,
    /// With `--fix`: violations fixed, files changed, and violations of
    /// the modes `--fix` fixes that are still there.
    pub fixed: usize,
    pub changed_files: usize,
    pub need_a_person: usize,
}

/// One input file, read.
pub struct File {
    /// The name shown (`-` for standard input).
    pub name: String,
    /// Its text.
    pub text: String,
    /// How it is encoded on disk.
    pub encoding: source::Encoding,
    /// Where it is on disk (not for standard input).
    pub path: Option<PathBuf>,
    /// Where each line starts, built when a diagnostic first shows a line.
    lines: OnceCell<Vec<usize>>,
}

impl File {
    fn new(name: String, text: String, encoding: source::Encoding, path: Option<PathBuf>) -> Self {
        File {
            name,
            text,
            encoding,
            path,
            lines: OnceCell::new(),
        }
    }

    /// Takes the fixed text in place of the text read.
    fn replace_text(&mut self, text: String) {
        self.text = text;
        self.lines = OnceCell::new();
    }

    /// Line `number` (from 1) without its line break; lines end as YAML's
    /// do (LF, CRLF or a lone CR), as the positions count them.
    pub fn line(&self, number: usize) -> Option<&str> {
        let starts = self.lines.get_or_init(|| {
            let bytes = self.text.as_bytes();
            let mut starts = vec![0];
            for (i, &byte) in bytes.iter().enumerate() {
                if byte == b'\n' || (byte == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                    starts.push(i + 1);
                }
            }
            starts
        });
        let start = *starts.get(number.checked_sub(1)?)?;
        let end = starts.get(number).copied().unwrap_or(self.text.len());
        let line = self.text.get(start..end)?;
        Some(line.trim_end_matches(['\n', '\r']))
    }
}

/// What reviews each object.
struct Checker {
    reviewer: Reviewer,
    operation: Operation,
    namespace: Option<String>,
}

impl Checker {
    fn review(&self, object: &Value) -> anyhow::Result<Report> {
        let request =
            Request::for_manifest(object.clone(), self.operation, self.namespace.as_deref());
        // Scope::All never names a policy, so review cannot fail here.
        Ok(self.reviewer.review(&request, Scope::All, None)?)
    }
}

/// Where the report goes: rendered a file, a document at a time, and
/// written out as it comes, so nothing of a file stays once it is done.
struct Sink<W: Write> {
    renderer: Renderer,
    out: W,
    buffer: String,
    totals: Totals,
}

enum Renderer {
    Pretty(pretty::Pretty),
    Json(json::Json),
}

impl<W: Write> Sink<W> {
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.write_all(self.buffer.as_bytes())?;
        self.buffer.clear();
        Ok(())
    }

    fn error(&mut self, error: &InputError, file: Option<&File>) {
        self.totals.unchecked += 1;
        match &mut self.renderer {
            Renderer::Pretty(r) => r.error(&mut self.buffer, error, file),
            Renderer::Json(r) => r.error(error),
        }
    }

    fn checked(&mut self, file: &File, document: &Document, checked: &Checked) {
        self.totals.objects += 1;
        self.totals.denied |= !checked.report.allowed();
        match &mut self.renderer {
            Renderer::Pretty(r) => r.checked(&mut self.buffer, file, document, checked),
            Renderer::Json(r) => r.checked(&mut self.buffer, file, document, checked),
        }
    }
}

/// Runs `counsel check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    if args.fix.is_some() && args.files.iter().any(|file| file.as_os_str() == "-") {
        anyhow::bail!(
            "--fix rewrites files in place, so it cannot fix standard input (-); save the manifest to a file and run counsel check --fix -f FILE"
        );
    }
    let checker = Checker {
        reviewer: args.policies.load()?,
        operation: match args.operation {
            OperationArg::Create => Operation::Create,
            OperationArg::Update => Operation::Update,
        },
        namespace: args.namespace.clone(),
    };
    let stdout = std::io::stdout();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let fixing = args.fix.is_some();
    let dry_run = fixing && args.dry_run;
    let mut sink = Sink {
        renderer: match args.output {
            Format::Pretty => Renderer::Pretty(pretty::Pretty::new(color, dry_run)),
            Format::Json => Renderer::Json(json::Json::new()),
        },
        out: std::io::BufWriter::new(stdout.lock()),
        buffer: String::new(),
        totals: Totals::default(),
    };
    if let Renderer::Json(r) = &sink.renderer {
        r.start(&mut sink.buffer);
    }
    let found = inputs::find(&args.files);
    for skipped in &found.skipped {
        match &mut sink.renderer {
            Renderer::Pretty(r) => r.skipped(&mut sink.buffer, skipped),
            Renderer::Json(r) => r.skipped(skipped),
        }
    }
    for error in &found.errors {
        sink.error(error, None);
    }
    sink.flush()?;
    for input in &found.inputs {
        let mut file = match inputs::read(input) {
            Ok(file) => file,
            Err(error) => {
                sink.error(&error, None);
                sink.flush()?;
                continue;
            }
        };
        if let Some(which) = args.fix {
            let fixed = fix::fix_file(&checker, &mut file, which.into(), dry_run)?;
            sink.totals.fixed += fixed.fixed;
            sink.totals.changed_files += usize::from(fixed.changed());
            match &mut sink.renderer {
                Renderer::Pretty(r) => r.fixed(&mut sink.buffer, &file.name, &fixed),
                Renderer::Json(r) => r.fixed(&file.name, &fixed),
            }
            if let Some(problem) = &fixed.write_error {
                let message = format!("cannot write the fixed file, left as it was: {problem}");
                sink.error(&inputs::whole_file(&file.name, message), None);
            }
        }
        check_file(&checker, &file, &mut sink, fixing)?;
    }
    let totals = std::mem::take(&mut sink.totals);
    match &mut sink.renderer {
        Renderer::Pretty(r) => r.finish(&mut sink.buffer, &totals, fixing),
        Renderer::Json(r) => r.finish(&mut sink.buffer, &totals, fixing.then_some(dry_run)),
    }
    sink.flush()?;
    sink.out.flush()?;
    Ok(ExitCode::from(if totals.unchecked > 0 {
        EXIT_ERROR
    } else if totals.denied {
        EXIT_DENIED
    } else {
        0
    }))
}

/// Reviews and reports every object of a file, one document at a time.
fn check_file<W: Write>(
    checker: &Checker,
    file: &File,
    sink: &mut Sink<W>,
    fixing: bool,
) -> anyhow::Result<()> {
    let mut failed: Option<anyhow::Error> = None;
    let read = source::parse_each(&file.text, |document| {
        if failed.is_some() {
            return;
        }
        let mut errors = Vec::new();
        for object in inputs::objects(&file.name, &document, &mut errors) {
            let report = match checker.review(&object.value) {
                Ok(report) => report,
                Err(error) => {
                    failed = Some(error);
                    return;
                }
            };
            if fixing {
                sink.totals.need_a_person += report
                    .findings
                    .iter()
                    .filter(|f| fix::FIXED_MODES.contains(&f.mode))
                    .count();
            }
            sink.checked(file, &document, &Checked { object, report });
        }
        for error in &errors {
            sink.error(error, Some(file));
        }
        if let Err(error) = sink.flush() {
            failed = Some(error.into());
        }
    });
    if let Some(error) = failed {
        return Err(error);
    }
    if let Err(error) = read {
        let error = InputError {
            file: file.name.clone(),
            line: Some(error.line),
            column: Some(error.column),
            message: error.message,
        };
        sink.error(&error, Some(file));
    }
    sink.flush()?;
    Ok(())
}
