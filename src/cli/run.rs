//! `counsel run POLICY`: one policy, with settings given on the command
//! line, on manifests (as `counsel check` checks them) or on an
//! AdmissionReview (decoded as the webhook decodes it), without writing a
//! counsel.yaml. `--review` prints the AdmissionReview a manifest becomes,
//! for `curl` against `counsel serve` and for tests.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::ValueEnum;
use counsel::config::{Config, Origin};
use counsel::request::{Operation, Request};
use counsel::review::{Reviewer, Scope};
use counsel::source;
use serde_json::{Value, json};

use super::PolicyArgs;
use super::check::{CheckArgs, ColorChoice, FailOn, Format, OperationArg};

/// Arguments of `counsel run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The policy: `builtin:NAME` or the path of a component (.wasm).
    #[arg(required_unless_present = "review")]
    pub policy: Option<String>,
    /// The policy's settings: YAML or JSON text, or @FILE to read them
    /// from a file (default: none).
    #[arg(short = 's', long, value_name = "YAML|@FILE")]
    pub settings: Option<String>,
    /// Manifests to evaluate (files, directories, `-`), as `counsel check -f`.
    #[arg(short = 'f', long = "filename", num_args = 1.., required_unless_present = "request", conflicts_with = "request")]
    pub files: Vec<PathBuf>,
    /// An AdmissionReview (JSON) to evaluate, as the webhook would.
    #[arg(long, value_name = "FILE")]
    pub request: Option<PathBuf>,
    /// Print the AdmissionReview the manifest given with -f becomes
    /// (CREATE; UPDATE with --old), instead of evaluating anything.
    #[arg(long, requires = "files", conflicts_with = "request")]
    pub review: bool,
    /// With --review: the stored object, for an UPDATE.
    #[arg(long, value_name = "FILE", requires = "review")]
    pub old: Option<PathBuf>,
    /// The operation (default: CREATE; with --old, UPDATE).
    #[arg(long, value_enum, ignore_case = true)]
    pub operation: Option<RunOperation>,
    /// Namespace for objects that do not name one (like `kubectl -n`).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = RunFormat::Pretty)]
    pub output: RunFormat,
    /// Where compiled policies are cached (default: ~/.cache/counsel/compiled).
    #[arg(long, env = "COUNSEL_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Output formats of `counsel run`: those of `counsel check` for people and
/// tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    /// Diagnostics for people, pointing at source lines.
    Pretty,
    /// One JSON document for tools.
    Json,
}

/// The operations `counsel run` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunOperation {
    /// A new object.
    Create,
    /// A change (with --review, the old object is --old, else the file).
    Update,
    /// A deletion (with --review only: the object is the one deleted).
    Delete,
}

/// Runs `counsel run`.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    if args.review {
        return print_review(&args);
    }
    let Some(policy) = &args.policy else {
        bail!("give the policy to run: builtin:NAME or the path of a .wasm");
    };
    let config = config(policy, args.settings.as_deref())?;
    let engine = PolicyArgs {
        config: None,
        cache_dir: args.cache_dir.clone(),
        precompiled_dir: None,
    }
    .engine()?;
    let reviewer = Reviewer::load(&config, &engine)?;
    let format = match args.output {
        RunFormat::Pretty => Format::Pretty,
        RunFormat::Json => Format::Json,
    };
    if let Some(path) = &args.request {
        return run_request(path, &reviewer, format);
    }
    let operation = match args.operation {
        None | Some(RunOperation::Create) => OperationArg::Create,
        Some(RunOperation::Update) => OperationArg::Update,
        Some(RunOperation::Delete) => {
            bail!(
                "--operation DELETE is for --review and --request; a manifest is checked as CREATE or UPDATE"
            )
        }
    };
    let check = CheckArgs {
        files: args.files,
        policies: PolicyArgs {
            config: None,
            cache_dir: args.cache_dir,
            precompiled_dir: None,
        },
        output: format,
        namespace: args.namespace,
        namespace_labels: Vec::new(),
        operation,
        color: ColorChoice::Auto,
        fix: None,
        dry_run: false,
        fail_on: FailOn::Enforce,
        sarif_base: None,
        exceptions: Vec::new(),
        draft_exception: false,
        reason: None,
        owner: None,
        expires: None,
        ticket: None,
    };
    super::check::run_loaded(check, &config, reviewer)
}

/// A configuration of the one policy, named after its module
/// (`builtin:cel` is `cel`, `x/team-label.wasm` is `team-label`).
fn config(policy: &str, settings: Option<&str>) -> anyhow::Result<Config> {
    let name = match policy.strip_prefix("builtin:") {
        Some(name) => name.to_owned(),
        None => Path::new(policy)
            .file_stem()
            .map(|stem| stem.to_string_lossy().replace([' ', '/'], "-"))
            .filter(|stem| !stem.is_empty())
            .with_context(|| format!("{policy:?} names no policy file"))?,
    };
    let mut entry = json!({"name": name, "module": policy});
    match settings {
        None => {}
        Some(file) if file.starts_with('@') => entry["settingsFile"] = json!(&file[1..]),
        Some(text) => {
            let documents = source::parse(text).map_err(|e| {
                anyhow::anyhow!(
                    "--settings: line {}: column {}: {}",
                    e.line,
                    e.column,
                    e.message
                )
            })?;
            match documents.as_slice() {
                [document] if document.value.is_object() => {
                    entry["settings"] = document.value.clone();
                }
                _ => bail!("--settings: expected a mapping (YAML or JSON), the policy's settings"),
            }
        }
    }
    let text = json!({"policies": [entry]}).to_string();
    Ok(Config::parse(
        &text,
        Origin::File("--settings".into()),
        Path::new(""),
    )?)
}

/// Evaluates the AdmissionReview in `path`, decoded as the webhook decodes
/// it, and renders it as `counsel check` renders a file.
fn run_request(path: &Path, reviewer: &Reviewer, format: Format) -> anyhow::Result<ExitCode> {
    let shown = path.display().to_string();
    let body = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
    let received = counsel::server::admission::decode_review(&body)
        .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    let report = reviewer.review(&received, Scope::All, None)?;
    let whole = counsel::request::Admission::from(&received)
        .whole()
        .with_context(|| format!("{shown}: the object cannot be read"))?;
    let (prefix, object) = match (&whole.object, &whole.old_object) {
        (Some(object), _) => ("/request/object", object.clone()),
        (None, Some(old)) => ("/request/oldObject", old.clone()),
        (None, None) => ("/request", Value::Null),
    };
    let text = String::from_utf8(body).with_context(|| format!("{shown} is not UTF-8"))?;
    super::check::render_report(format, (shown, text), prefix, object, report)
}

/// Prints the AdmissionReview the manifest given with -f becomes.
fn print_review(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let [file] = args.files.as_slice() else {
        bail!("--review makes the AdmissionReview of one manifest: give one file with -f");
    };
    let object = one_object(file)?;
    let old = args.old.as_deref().map(one_object).transpose()?;
    let operation = match (args.operation, &old) {
        (Some(RunOperation::Create), _) | (None, None) => Operation::Create,
        (Some(RunOperation::Update), _) | (None, Some(_)) => Operation::Update,
        (Some(RunOperation::Delete), _) => Operation::Delete,
    };
    if old.is_some() && operation != Operation::Update {
        bail!(
            "--old is the stored object of an UPDATE; it does not go with --operation {operation:?}"
        );
    }
    let mut request = Request::for_manifest(object, operation, args.namespace.as_deref());
    if let Some(old) = old {
        request.old_object = Some(old);
    }
    request.uid = "counsel-run-review".into();
    request.dry_run = Some(false);
    let review = json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": request,
    });
    println!("{}", serde_json::to_string_pretty(&review)?);
    Ok(ExitCode::SUCCESS)
}

/// The one object of a manifest file.
fn one_object(path: &Path) -> anyhow::Result<Value> {
    super::test::object_file(path).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))
}
