//! `counsel test`: declarative test suites of policies (`*.test.yaml`; the
//! format is in docs/operations.md, "Test policies"). Each suite names one
//! policy as counsel.yaml would; each case sends one object and says what
//! must come of it. The object is reviewed exactly as `counsel check`
//! reviews it, and fixed by the same remedy as `counsel check --fix`.

mod case;
mod output;
mod suite;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use counsel::engine::Engine;
use counsel::review::Reviewer;

use super::{EXIT_ERROR, PolicyArgs};
pub use case::Ran;
pub use suite::{Suite, SuiteError, object_file};

/// What a suite file's name ends with, for directories to be searched.
const SUITE_ENDINGS: [&str; 2] = [".test.yaml", ".test.yml"];

/// Exit code when a case fails (as `counsel check` exits when denied).
const EXIT_FAILED: u8 = 1;

/// Arguments of `counsel test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Suite files, or directories searched for `*.test.yaml` and
    /// `*.test.yml` (default: the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = TestFormat::Pretty)]
    pub output: TestFormat,
    /// Where compiled policies are cached (default: ~/.cache/counsel/compiled).
    #[arg(long, env = "COUNSEL_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Output formats of `counsel test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// Per suite and case, pass or fail, with what differs.
    Pretty,
    /// One JSON document for tools.
    Json,
    /// JUnit XML: a test suite per file, a test case per case.
    Junit,
}

/// A suite run: its cases with what came of each.
pub struct SuiteRun {
    /// The suite.
    pub suite: Suite,
    /// What came of each case, in order.
    pub ran: Vec<Ran>,
}

/// Everything `counsel test` found.
#[derive(Default)]
pub struct Outcome {
    /// Suites run.
    pub suites: Vec<SuiteRun>,
    /// Suites that could not be run.
    pub errors: Vec<SuiteError>,
}

impl Outcome {
    /// Cases passed and failed.
    pub fn counts(&self) -> (usize, usize) {
        let ran = self.suites.iter().flat_map(|s| &s.ran);
        let failed = ran.clone().filter(|r| !r.mismatches.is_empty()).count();
        (ran.count() - failed, failed)
    }
}

/// Runs `counsel test`.
pub fn run(args: TestArgs) -> anyhow::Result<ExitCode> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut outcome = Outcome::default();
    let files = find(&paths, &mut outcome.errors);
    if files.is_empty() && outcome.errors.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        outcome.errors.push(SuiteError {
            file: shown.join(", "),
            line: None,
            message: "no test suites (*.test.yaml, *.test.yml) found".into(),
        });
    }
    let engine = PolicyArgs {
        config: None,
        cache_dir: args.cache_dir.clone(),
        precompiled_dir: None,
    }
    .engine()?;
    for path in files {
        match run_suite(&path, &engine) {
            Ok(run) => outcome.suites.push(run),
            Err(error) => outcome.errors.push(error),
        }
    }
    let text = match args.output {
        TestFormat::Pretty => output::pretty(&outcome),
        TestFormat::Json => output::json(&outcome),
        TestFormat::Junit => output::junit(&outcome),
    };
    print!("{text}");
    let (_, failed) = outcome.counts();
    Ok(ExitCode::from(if !outcome.errors.is_empty() {
        EXIT_ERROR
    } else if failed > 0 {
        EXIT_FAILED
    } else {
        0
    }))
}

/// Reads one suite, loads its policy and runs its cases.
fn run_suite(path: &Path, engine: &Engine) -> Result<SuiteRun, SuiteError> {
    let shown = path.display().to_string();
    let suite = suite::read(path, &shown)?;
    let reviewer = Reviewer::load(&suite.config, engine).map_err(|error| SuiteError {
        file: error.origin.to_string(),
        line: error.line,
        message: error.message,
    })?;
    let mut ran = Vec::with_capacity(suite.cases.len());
    for case in &suite.cases {
        ran.push(
            case::run(&suite, case, &reviewer).map_err(|error| SuiteError {
                file: shown.clone(),
                line: Some(case.line),
                message: error.to_string(),
            })?,
        );
    }
    Ok(SuiteRun { suite, ran })
}

/// The suite files among `paths`: files as given, directories searched
/// (sorted, hidden directories skipped).
fn find(paths: &[PathBuf], errors: &mut Vec<SuiteError>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            search(path, &mut files, errors);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            errors.push(SuiteError {
                file: path.display().to_string(),
                line: None,
                message: "no such file or directory".into(),
            });
        }
    }
    files
}

fn search(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<SuiteError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            errors.push(SuiteError {
                file: dir.display().to_string(),
                line: None,
                message: format!("cannot read the directory: {error}"),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        if path.is_dir() {
            if !name.starts_with('.') {
                search(&path, files, errors);
            }
        } else if SUITE_ENDINGS.iter().any(|end| name.ends_with(end)) {
            // `./x.test.yaml` is shown as `x.test.yaml`.
            files.push(
                path.strip_prefix(".")
                    .map_or(path.clone(), Path::to_path_buf),
            );
        }
    }
}
