//! `counsel check`: what the cluster would say on `kubectl apply`, before
//! the developer runs it, pointing at the lines of their own files.
//!
//! Files are handled one after another and each one document at a time:
//! read, reviewed, rendered and written out, then dropped, so memory follows
//! the largest document (and file text), not the whole input.

mod base;
mod fix;
mod github;
mod inputs;
mod json;
mod junit;
mod markdown;
mod pretty;
mod sarif;
mod suggestions;

use std::cell::OnceCell;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use counsel::config::Mode;
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
    /// With --fix: print the changes as a unified diff and change nothing
    /// (with --output pretty or json).
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
    /// Exit with 1 when a finding of this mode or a stricter one is found:
    /// `enforce` (the default: what the cluster would deny), `warn` (also
    /// warnings) or `audit` (any finding).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = FailOn::Enforce)]
    pub fail_on: FailOn,
    /// The directory that file locations in SARIF and GitHub annotations are
    /// relative to (default: the git repository holding the current
    /// directory, or the current directory).
    #[arg(long, value_name = "DIR")]
    pub sarif_base: Option<PathBuf>,
}

/// The least strict finding that fails the run (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum FailOn {
    /// What the cluster would deny: enforced rules, failed policies.
    Enforce,
    /// Also warnings (warn and fix modes, policy warnings).
    Warn,
    /// Any finding, audit too.
    Audit,
}

impl FailOn {
    /// Whether a finding of `mode` fails the run.
    pub fn fails(self, mode: Mode) -> bool {
        match mode {
            Mode::Enforce => true,
            Mode::Warn | Mode::Fix => self >= FailOn::Warn,
            Mode::Audit => self == FailOn::Audit,
        }
    }

    /// Whether an object's report fails the run.
    fn fails_report(self, report: &Report) -> bool {
        !report.allowed()
            || report.findings.iter().any(|f| self.fails(f.mode))
            || (self >= FailOn::Warn && !(report.warnings.is_empty() && report.failures.is_empty()))
    }
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
    /// SARIF 2.1.0 for code scanning, with fixes as text replacements.
    Sarif,
    /// JUnit XML for CI dashboards: a test case per object and policy.
    Junit,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// A summary for a pull-request comment, with suggested diffs.
    Markdown,
}

impl Format {
    /// Whether the format shows fixes as text replacements.
    fn shows_fixes(self) -> bool {
        matches!(self, Format::Sarif | Format::Markdown)
    }
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
    /// Whether any object has a finding that fails the run (`--fail-on`).
    pub failing: bool,
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
        let starts = self.starts();
        let start = *starts.get(number.checked_sub(1)?)?;
        let end = starts.get(number).copied().unwrap_or(self.text.len());
        let line = self.text.get(start..end)?;
        Some(line.trim_end_matches(['\n', '\r']))
    }

    /// The line (from 1) and column (from 1, in UTF-16 code units, as SARIF
    /// and editors count) of a byte offset of the text.
    pub fn utf16_position(&self, offset: usize) -> (usize, usize) {
        let starts = self.starts();
        let line = starts.partition_point(|&start| start <= offset).max(1);
        let before = self.text.get(starts[line - 1]..offset).unwrap_or_default();
        (line, before.encode_utf16().count() + 1)
    }

    /// Column `column` (from 1, in characters) of line `line` in UTF-16
    /// code units (past the end of the line, one unit per character).
    pub fn utf16_column(&self, line: usize, column: usize) -> usize {
        let text = self.line(line).unwrap_or_default();
        let chars = column.saturating_sub(1);
        let within: usize = text.chars().take(chars).map(char::len_utf16).sum();
        within + chars.saturating_sub(text.chars().count()) + 1
    }

    fn starts(&self) -> &[usize] {
        self.lines.get_or_init(|| {
            let bytes = self.text.as_bytes();
            let mut starts = vec![0];
            for (i, &byte) in bytes.iter().enumerate() {
                if byte == b'\n' || (byte == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                    starts.push(i + 1);
                }
            }
            starts
        })
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
    fail_on: FailOn,
}

enum Renderer {
    Pretty(pretty::Pretty),
    Json(json::Json),
    Sarif(sarif::Sarif),
    Junit(junit::Junit),
    Github(github::Github),
    Markdown(markdown::Markdown),
}

impl<W: Write> Sink<W> {
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.write_all(self.buffer.as_bytes())?;
        self.buffer.clear();
        Ok(())
    }

    fn error(&mut self, error: &InputError, file: Option<&File>) {
        self.totals.unchecked += 1;
        let out = &mut self.buffer;
        match &mut self.renderer {
            Renderer::Pretty(r) => r.error(out, error, file),
            Renderer::Json(r) => r.error(error),
            Renderer::Sarif(r) => r.error(error),
            Renderer::Junit(r) => r.error(out, error),
            Renderer::Github(r) => r.error(out, error),
            Renderer::Markdown(r) => r.error(error),
        }
    }

    fn checked(&mut self, file: &File, document: &Document, checked: &Checked) {
        self.totals.objects += 1;
        self.totals.denied |= !checked.report.allowed();
        self.totals.failing |= self.fail_on.fails_report(&checked.report);
        let out = &mut self.buffer;
        match &mut self.renderer {
            Renderer::Pretty(r) => r.checked(out, file, document, checked),
            Renderer::Json(r) => r.checked(out, file, document, checked),
            Renderer::Sarif(r) => r.checked(out, file, document, checked),
            Renderer::Junit(r) => r.checked(out, file, document, checked),
            Renderer::Github(r) => r.checked(out, file, document, checked),
            Renderer::Markdown(r) => r.checked(out, file, document, checked),
        }
    }

    /// A file is done (every document of it rendered).
    fn file_done(&mut self, file: &File) {
        let out = &mut self.buffer;
        match &mut self.renderer {
            Renderer::Markdown(r) => r.file_done(out, file),
            _ => {}
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
    if dry_run && !matches!(args.output, Format::Pretty | Format::Json) {
        anyhow::bail!(
            "--dry-run shows the fixes as a diff, which only --output pretty and json show; without --fix, --output sarif and markdown show the fixes without making them"
        );
    }
    let base = base::Base::new(args.sarif_base.as_deref())?;
    let fail_on = args.fail_on;
    let mut sink = Sink {
        renderer: match args.output {
            Format::Pretty => Renderer::Pretty(pretty::Pretty::new(color, dry_run)),
            Format::Json => Renderer::Json(json::Json::new()),
            Format::Sarif => Renderer::Sarif(sarif::Sarif::new(base)),
            Format::Junit => Renderer::Junit(junit::Junit::new(fail_on)),
            Format::Github => Renderer::Github(github::Github::new(base)),
            Format::Markdown => Renderer::Markdown(markdown::Markdown::new(fail_on)),
        },
        out: std::io::BufWriter::new(stdout.lock()),
        buffer: String::new(),
        totals: Totals::default(),
        fail_on,
    };
    match &mut sink.renderer {
        Renderer::Json(r) => r.start(&mut sink.buffer),
        Renderer::Sarif(r) => r.start(&mut sink.buffer),
        Renderer::Junit(r) => r.start(&mut sink.buffer),
        Renderer::Markdown(r) => r.start(&mut sink.buffer),
        Renderer::Pretty(_) | Renderer::Github(_) => {}
    }
    let found = inputs::find(&args.files);
    for skipped in &found.skipped {
        let out = &mut sink.buffer;
        match &mut sink.renderer {
            Renderer::Pretty(r) => r.skipped(out, skipped),
            Renderer::Json(r) => r.skipped(skipped),
            Renderer::Sarif(r) => r.skipped(skipped),
            Renderer::Junit(_) => {}
            Renderer::Github(r) => r.skipped(out, skipped),
            Renderer::Markdown(r) => r.skipped(skipped),
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
                Renderer::Github(r) => r.fixed(&mut sink.buffer, &file, &fixed),
                Renderer::Sarif(_) | Renderer::Junit(_) | Renderer::Markdown(_) => {}
            }
            if let Some(problem) = &fixed.write_error {
                let message = format!("cannot write the fixed file, left as it was: {problem}");
                sink.error(&inputs::whole_file(&file.name, message), None);
            }
        }
        check_file(&checker, &file, &mut sink, fixing, args.output.shows_fixes())?;
    }
    let totals = std::mem::take(&mut sink.totals);
    let out = &mut sink.buffer;
    match &mut sink.renderer {
        Renderer::Pretty(r) => r.finish(out, &totals, fixing),
        Renderer::Json(r) => r.finish(out, &totals, fixing.then_some(dry_run)),
        Renderer::Sarif(r) => r.finish(out, &totals),
        Renderer::Junit(r) => r.finish(out),
        Renderer::Github(r) => r.finish(out, &totals),
        Renderer::Markdown(r) => r.finish(out, &totals),
    }
    sink.flush()?;
    sink.out.flush()?;
    Ok(ExitCode::from(if totals.unchecked > 0 {
        EXIT_ERROR
    } else if totals.failing {
        EXIT_DENIED
    } else {
        0
    }))
}

/// Reviews and reports every object of a file, one document at a time;
/// with `fixes`, each finding's fix as text replacements too.
fn check_file<W: Write>(
    checker: &Checker,
    file: &File,
    sink: &mut Sink<W>,
    fixing: bool,
    fixes: bool,
) -> anyhow::Result<()> {
    let layout = fixes.then(|| suggestions::layout(&file.text));
    let mut failed: Option<anyhow::Error> = None;
    let read = source::parse_each(&file.text, |document| {
        if failed.is_some() {
            return;
        }
        let mut errors = Vec::new();
        let mut checked = Vec::new();
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
            checked.push(Checked {
                object,
                report,
                fixes: Vec::new(),
            });
        }
        if let Some(Some(layout)) = &layout {
            suggestions::attach(&file.text, layout, &document, &mut checked);
        }
        for checked in &checked {
            sink.checked(file, &document, checked);
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
    sink.file_done(file);
    sink.flush()?;
    Ok(())
}
