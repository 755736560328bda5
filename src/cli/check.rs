//! `counsel check`: what the cluster would say on `kubectl apply`, before
//! the developer runs it, pointing at the lines of their own files.
//!
//! Files are handled one after another and each one document at a time:
//! read, reviewed, rendered and written out, then dropped, so memory follows
//! the largest document (and file text), not the whole input.

mod args;
mod base;
pub(super) mod exceptions;
mod fix;
mod github;
pub(super) mod inputs;
mod json;
pub(super) mod junit;
pub(super) mod markdown;
pub(super) mod namespaces;
pub(super) mod pretty;
mod reported;
mod sarif;
mod suggestions;

use std::cell::OnceCell;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use counsel::config::Config;
use counsel::explain::Report;
use counsel::remedy::Remedy;
use counsel::request::{Operation, Request};
use counsel::review::{Context, Reviewer, Scope};
use counsel::source::{self, Document};
use serde_json::Value;

use super::EXIT_ERROR;
pub use args::{CheckArgs, ColorChoice, FailOn, FixArg, Format, OperationArg};
use inputs::{Checked, InputError, Skipped};
use namespaces::KnownNamespaces;
pub(super) use reported::render_report;

/// Exit code when something fails the run (`--fail-on`; by default an
/// enforced rule broken or a policy failed under `failurePolicy: fail`).
const EXIT_DENIED: u8 = 1;

/// Counts over the whole run, for the last lines and the exit code.
#[derive(Debug, Default)]
pub struct Totals {
    /// Objects checked.
    pub objects: usize,
    /// Inputs (files, documents, objects) that could not be checked.
    pub unchecked: usize,
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
    namespaces: KnownNamespaces,
    /// `--exceptions`.
    exceptions: Option<counsel::exceptions::Exceptions>,
    /// The time every object is reviewed at (exceptions' expiry).
    now: SystemTime,
}

impl Checker {
    fn review(&self, object: &Value) -> anyhow::Result<Report> {
        self.namespaces.learn(object);
        let request =
            Request::for_manifest(object.clone(), self.operation, self.namespace.as_deref());
        let namespace = request
            .namespace
            .as_deref()
            .and_then(|name| self.namespaces.get(name));
        let context = Context {
            namespace: namespace.as_ref(),
            now: self.now,
            exceptions: self.exceptions.as_ref(),
        };
        // Scope::All never names a policy, so review cannot fail here.
        Ok(self
            .reviewer
            .review_in(&request, Scope::All, None, &context)?)
    }
}

/// Where the report goes: rendered a file, a document at a time, and
/// written out as it comes, so nothing of a file stays once it is done.
struct Sink<W: Write> {
    renderer: Box<dyn Renderer>,
    out: W,
    buffer: String,
    totals: Totals,
    fail_on: FailOn,
}

/// One output format: each call writes what the format says of the event
/// into `out` (often nothing yet: some formats say everything at the end).
trait Renderer {
    /// The run begins.
    fn start(&mut self, _out: &mut String) {}
    /// A file or directory reached again through a link, not read twice.
    fn skipped(&mut self, _out: &mut String, _skipped: &Skipped) {}
    /// Something could not be checked (in `file`, when it was read).
    fn error(&mut self, out: &mut String, error: &InputError, file: Option<&File>);
    /// What `--fix` did to `file`.
    fn fixed(&mut self, _out: &mut String, _file: &File, _fix: &fix::FileFix) {}
    /// One object checked.
    fn checked(&mut self, out: &mut String, file: &File, document: &Document, checked: &Checked);
    /// Every document of `file` has been checked.
    fn file_done(&mut self, _out: &mut String, _file: &File) {}
    /// The run is over; `fix`: with `--fix`, whether it was a dry run.
    fn finish(&mut self, out: &mut String, totals: &Totals, fix: Option<bool>);
}

impl<W: Write> Sink<W> {
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.write_all(self.buffer.as_bytes())?;
        self.buffer.clear();
        Ok(())
    }

    fn error(&mut self, error: &InputError, file: Option<&File>) {
        self.totals.unchecked += 1;
        self.renderer.error(&mut self.buffer, error, file);
    }

    fn checked(&mut self, file: &File, document: &Document, checked: &Checked) {
        self.totals.objects += 1;
        self.totals.failing |= self.fail_on.fails_report(&checked.report);
        self.renderer
            .checked(&mut self.buffer, file, document, checked);
    }

    /// A file is done (every document of it rendered).
    fn file_done(&mut self, file: &File) {
        self.renderer.file_done(&mut self.buffer, file);
    }
}

/// Runs `counsel check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    if args.fix.is_some() && args.files.iter().any(|file| file.as_os_str() == "-") {
        anyhow::bail!(
            "--fix rewrites files in place, so it cannot fix standard input (-); save the manifest to a file and run counsel check --fix -f FILE"
        );
    }
    let (config, reviewer) = args.policies.load()?;
    run_loaded(args, &config, reviewer)
}

/// Runs `counsel check` with policies already loaded (`counsel run -f`
/// loads one policy of its own).
pub(super) fn run_loaded(
    args: CheckArgs,
    config: &Config,
    reviewer: Reviewer,
) -> anyhow::Result<ExitCode> {
    let now = SystemTime::now();
    let exceptions = match &args.exceptions {
        paths if paths.is_empty() => None,
        paths => Some(exceptions::load(
            paths,
            args.namespace.as_deref(),
            &reviewer,
            config.exceptions,
            now,
        )?),
    };
    let checker = Checker {
        reviewer,
        operation: match args.operation {
            OperationArg::Create => Operation::Create,
            OperationArg::Update => Operation::Update,
        },
        namespace: args.namespace.clone(),
        namespaces: KnownNamespaces::new(&args.namespace_labels),
        exceptions,
        now,
    };
    if args.draft_exception {
        return exceptions::draft(&checker, &args, config);
    }
    let stdout = std::io::stdout();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let remedy = args.fix.map(|which| Remedy::check(which.into()));
    let fixing = remedy.is_some();
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
            Format::Pretty => Box::new(pretty::Pretty::new(color, dry_run)),
            Format::Json => Box::new(json::Json::new()),
            Format::Sarif => Box::new(sarif::Sarif::new(base)),
            Format::Junit => Box::new(junit::Junit::new(fail_on)),
            Format::Github => Box::new(github::Github::new(base)),
            Format::Markdown => Box::new(markdown::Markdown::new(fail_on)),
        },
        out: std::io::BufWriter::new(stdout.lock()),
        buffer: String::new(),
        totals: Totals::default(),
        fail_on,
    };
    sink.renderer.start(&mut sink.buffer);
    let found = inputs::find(&args.files);
    for skipped in &found.skipped {
        sink.renderer.skipped(&mut sink.buffer, skipped);
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
        if let Some(remedy) = remedy {
            let fixed = fix::fix_file(&checker, &mut file, remedy, dry_run)?;
            sink.totals.fixed += fixed.fixed;
            sink.totals.changed_files += usize::from(fixed.changed());
            sink.renderer.fixed(&mut sink.buffer, &file, &fixed);
            if let Some(problem) = &fixed.write_error {
                let message = format!("cannot write the fixed file, left as it was: {problem}");
                sink.error(&inputs::whole_file(&file.name, message), None);
            }
        }
        check_file(
            &checker,
            &file,
            &mut sink,
            remedy,
            args.output.shows_fixes(),
        )?;
    }
    let totals = std::mem::take(&mut sink.totals);
    sink.renderer
        .finish(&mut sink.buffer, &totals, fixing.then_some(dry_run));
    sink.flush()?;
    sink.out.flush()?;
    Ok(exit_code(&totals))
}

/// The exit code of a run: 2 when something could not be checked, 1 when
/// something fails it (`--fail-on`), else 0.
fn exit_code(totals: &Totals) -> ExitCode {
    ExitCode::from(if totals.unchecked > 0 {
        EXIT_ERROR
    } else if totals.failing {
        EXIT_DENIED
    } else {
        0
    })
}

/// Reviews and reports every object of a file, one document at a time;
/// with `fixes`, each finding's fix as text replacements too.
fn check_file<W: Write>(
    checker: &Checker,
    file: &File,
    sink: &mut Sink<W>,
    remedy: Option<Remedy>,
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
            if let Some(remedy) = remedy {
                sink.totals.need_a_person +=
                    report.findings.iter().filter(|f| remedy.covers(f)).count();
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
