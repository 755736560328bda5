//! `counsel check`: what the cluster would say on `kubectl apply`, before
//! the developer runs it, pointing at the lines of their own files.
//!
//! Files are handled one after another and each one document at a time:
//! read, reviewed, rendered and written out, then dropped, so memory follows
//! the largest document (and file text), not the whole input.

mod args;
mod base;
mod exceptions;
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
use std::time::SystemTime;

use counsel::explain::Report;
use counsel::request::{Operation, Request};
use counsel::review::{Context, Reviewer, Scope};
use counsel::source::{self, Document};
use serde_json::Value;

use super::EXIT_ERROR;
pub use args::{CheckArgs, ColorChoice, FailOn, Format, OperationArg};
use inputs::{Checked, InputError};

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
    /// `--exceptions`.
    exceptions: Option<counsel::exceptions::Exceptions>,
    /// The time every object is reviewed at (exceptions' expiry).
    now: SystemTime,
}

impl Checker {
    fn review(&self, object: &Value) -> anyhow::Result<Report> {
        let request =
            Request::for_manifest(object.clone(), self.operation, self.namespace.as_deref());
        let context = Context {
            now: self.now,
            exceptions: self.exceptions.as_ref(),
            ..Context::alone()
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
        if let Renderer::Markdown(r) = &mut self.renderer {
            r.file_done(out, file);
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
    let (config, reviewer) = args.policies.load()?;
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
        exceptions,
        now,
    };
    if args.draft_exception {
        return exceptions::draft(&checker, &args, &config);
    }
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
        check_file(
            &checker,
            &file,
            &mut sink,
            fixing,
            args.output.shows_fixes(),
        )?;
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
                    .filter(|f| fix::FIXED_MODES.contains(&f.mode) && f.excepted_by().is_none())
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
