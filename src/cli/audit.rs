//! `counsel audit`: the rollout report. What already runs (in a cluster,
//! or in manifests) and would be denied if the policies were enforced (or
//! put in the modes `--as-mode` plans), per rule, namespace and owner, and
//! what `counsel check --fix` would close. The judging and counting are
//! `counsel::rollout`'s; here are the inputs (`files.rs`, `cluster.rs`) and
//! the renderers (`pretty.rs`, `json.rs`, `markdown.rs`).

mod cluster;
mod files;
mod json;
mod markdown;
mod pretty;
mod text;

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::ValueEnum;
use counsel::review::Context;
use counsel::rollout::{Auditor, ModeChange, Plan, Rollout};

use super::check::namespaces::KnownNamespaces;
use super::check::{ColorChoice, FixArg};
use super::{EXIT_ERROR, PolicyArgs};

/// Exit code when something would be denied under the planned modes.
const EXIT_DENIED: u8 = 1;

/// Arguments of `counsel audit`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Without --as-mode, every policy is judged as if enforced, and the report says \
what the current modes deny already and what enforcing would add.

Exit status: 0 when nothing would be denied under the planned modes, 1 when \
something would (so CI can gate a rollout), 2 on errors (configuration, \
input, cluster).")]
pub struct AuditArgs {
    /// Manifests to audit instead of a cluster (YAML or JSON files, or
    /// directories of them; `-` reads standard input), read as `counsel
    /// check` reads them: Namespace objects give their labels and owner,
    /// exception objects are applied.
    #[arg(short = 'f', long = "filename", num_args = 1.., conflicts_with = "kubeconfig")]
    pub files: Vec<PathBuf>,
    /// The cluster to audit (without -f). Without it, KUBECONFIG, and in a
    /// pod the pod's service account, are used.
    #[arg(long, env = "COUNSEL_KUBECONFIG", value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    #[command(flatten)]
    pub policies: PolicyArgs,
    /// Judge as if policies were in this mode: `enforce` (every policy) or
    /// `POLICY=MODE` (one policy; the others keep their modes); a policy's
    /// planned mode applies to all its rules. Repeat to plan several.
    /// Default: every policy enforced.
    #[arg(long, value_name = "[POLICY=]MODE")]
    pub as_mode: Vec<ModeChange>,
    /// Only objects in this namespace (repeat for more); cluster-scoped
    /// objects are then left out.
    #[arg(short = 'n', long)]
    pub namespace: Vec<String>,
    /// Only objects with these labels (a label selector, as kubectl -l).
    /// Cluster only.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Also list this kind (repeatable): the kinds the policies name are
    /// always listed; a policy that matches every kind sees only those.
    #[arg(long, value_name = "KIND")]
    pub kind: Vec<String>,
    /// Judge objects a controller owns (a Pod of a ReplicaSet) themselves
    /// too; by default they are left to their controller when its kind is
    /// audited, so a Deployment's findings are not counted once per Pod.
    #[arg(long)]
    pub include_owned: bool,
    /// The fixes `counsel check --fix` is counted with: `safe` (what
    /// `--fix` makes) or `all` (`--fix=all`: suggestions too).
    #[arg(long, value_enum, value_name = "WHICH", default_value_t = FixArg::Safe)]
    pub fixes: FixArg,
    /// Exception objects to apply besides those of the input or cluster
    /// (files or directories), as `counsel check --exceptions`.
    #[arg(long, value_name = "PATH")]
    pub exceptions: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Pretty)]
    pub output: Format,
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Output formats of `counsel audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A report for the terminal.
    Pretty,
    /// One JSON document for tools (see docs/operations.md).
    Json,
    /// Markdown to paste into a message or a ticket: one section per owner.
    Markdown,
}

/// What the input said besides the objects, for the report's first lines.
#[derive(Debug, Default)]
pub struct Notes {
    /// Things the reader should know (kinds not served, exceptions ignored).
    pub notes: Vec<String>,
    /// Inputs that could not be read (each makes the exit status 2).
    pub errors: Vec<String>,
}

/// Runs `counsel audit`.
pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    if !args.files.is_empty() && args.selector.is_some() {
        anyhow::bail!(
            "-l/--selector filters what is listed from a cluster; with -f, give the files to audit"
        );
    }
    let current = args.policies.config()?;
    let plan = Plan::new(args.as_mode.clone());
    let planned = plan
        .configure(&current)
        .map_err(|e| anyhow::anyhow!("--as-mode: {e}"))?;
    let reviewer = args.policies.reviewer(&planned)?;
    let matched = reviewer.kinds();
    let mut kinds: BTreeSet<String> = matched.named;
    kinds.extend(args.kind.iter().cloned());
    let mut notes = Notes::default();
    if matched.every && args.files.is_empty() {
        notes.notes.push(format!(
            "a policy matches every kind; the kinds listed are those policies name and --kind adds: {}",
            kinds.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let mut auditor = Auditor::new(
        &current,
        &plan,
        &reviewer,
        kinds.clone(),
        args.include_owned,
        args.fixes.into(),
    );
    let now = SystemTime::now();
    let mut exceptions = match &args.exceptions {
        paths if paths.is_empty() => counsel::exceptions::Exceptions::new(current.exceptions),
        paths => super::check::exceptions::load(paths, None, &reviewer, current.exceptions, now)?,
    };
    if args.files.is_empty() {
        cluster::audit(
            &args,
            &kinds,
            &mut auditor,
            &mut exceptions,
            now,
            &mut notes,
        )?;
    } else {
        files::audit(&args, &mut auditor, &mut exceptions, now, &mut notes);
    }
    let rollout = auditor.finish();
    let stdout = std::io::stdout();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = render(&rollout, &notes, args.output, color);
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    for error in &notes.errors {
        eprintln!("error: {error}");
    }
    Ok(ExitCode::from(if !notes.errors.is_empty() {
        EXIT_ERROR
    } else if rollout.totals().denied > 0 {
        EXIT_DENIED
    } else {
        0
    }))
}

/// Judges `object` in its namespace, as `namespaces` know it.
fn judge(
    auditor: &mut Auditor<'_>,
    object: serde_json::Value,
    namespaces: &KnownNamespaces,
    exceptions: &counsel::exceptions::Exceptions,
    now: SystemTime,
) {
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(serde_json::Value::as_str)
        .and_then(|name| namespaces.get(name));
    let context = Context {
        namespace: namespace.as_ref(),
        now,
        exceptions: Some(exceptions),
    };
    auditor.judge(object, &context);
}

fn render(rollout: &Rollout, notes: &Notes, format: Format, color: bool) -> String {
    match format {
        Format::Pretty => pretty::render(rollout, &notes.notes, color),
        Format::Json => json::render(rollout, &notes.notes),
        Format::Markdown => markdown::render(rollout, &notes.notes, markdown::LIMIT),
    }
}
