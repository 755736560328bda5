//! The command line of `counsel check`.

use std::path::PathBuf;

use clap::ValueEnum;
use counsel::config::Mode;
use counsel::explain::Report;
use counsel::remedy::FixScope;

use super::super::PolicyArgs;

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
    /// The labels of a namespace, for policies that select namespaces by
    /// label (match.namespaceSelector): NAME=KEY=VALUE[,KEY=VALUE...], e.g.
    /// shop=env=prod,tier=web; repeat for more namespaces. A Namespace
    /// object in the input counts for the objects after it and replaces
    /// this; a namespace known neither way is selected by every selector.
    #[arg(long, value_name = "NAME=LABELS", value_parser = super::namespaces::parse_namespace_labels)]
    pub namespace_labels: Vec<counsel::review::Namespace>,
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
    /// Exception objects (CounselException, ClusterCounselException) to
    /// apply, as the cluster does: YAML or JSON files, or directories of
    /// them. An exception that the webhook would refuse stops the run.
    #[arg(long, value_name = "PATH")]
    pub exceptions: Vec<PathBuf>,
    /// Print, instead of a report, the exception that would let each
    /// object's current violations through (one per policy), for ops to
    /// review and apply; needs --reason, --owner and --expires.
    #[arg(long, conflicts_with_all = ["fix", "output"])]
    pub draft_exception: bool,
    /// With --draft-exception: why the exception is needed.
    #[arg(long, requires = "draft_exception")]
    pub reason: Option<String>,
    /// With --draft-exception: who answers for it (a team, a person).
    #[arg(long, requires = "draft_exception")]
    pub owner: Option<String>,
    /// With --draft-exception: when it expires, from now (`30d`, `36h`) or
    /// as an RFC 3339 time.
    #[arg(long, requires = "draft_exception")]
    pub expires: Option<String>,
    /// With --draft-exception: a link to the request or discussion.
    #[arg(long, requires = "draft_exception")]
    pub ticket: Option<String>,
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
    pub(super) fn fails_report(self, report: &Report) -> bool {
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
    pub(super) fn shows_fixes(self) -> bool {
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
