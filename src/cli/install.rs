//! `counsel install`: the whole deployment as plain manifests, with fresh
//! certificates and the matching `caBundle`, for
//! `counsel install | kubectl apply -f -`. The same objects as the Helm
//! chart in `charts/counsel`.

mod bundle;
mod layout;
mod rbac;
mod webhook;
mod workload;
mod yaml;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use counsel::certs::{self, GeneratedCertificates, SubjectNames};
use serde_json::{Value, json};

use bundle::ConfigBundle;
use layout::{
    CONFIG_MAP_SUFFIX, IMAGE_REPOSITORY, MIN_KUBE_MINOR, NAMESPACE_NAME_LABEL, TLS_SECRET_SUFFIX,
    WEBHOOK_KINDS,
};

/// Print Counsel's deployment (namespace, workload, Service, TLS Secret,
/// webhook configurations) as Kubernetes manifests.
///
/// Every run generates a new CA and serving certificate unless --ca-cert
/// and --ca-key name a CA to keep (then the caBundle stays the same and
/// re-applying only rotates the serving certificate). The output holds a
/// private key: apply it, do not commit it.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct InstallArgs {
    /// The namespace Counsel runs in (created; always excluded from the
    /// webhooks, like kube-system).
    #[arg(long, short = 'n', default_value = "counsel", value_name = "NS")]
    pub namespace: String,
    /// Name of the Deployment, Service and webhook configurations.
    #[arg(long, default_value = "counsel", value_name = "NAME")]
    pub name: String,
    /// The configuration to deploy (module paths relative to it are shipped
    /// in the ConfigMap); the built-in configuration when not given.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Deny what the bundled Pod Security Standards (restricted) find,
    /// instead of warning about it. For the built-in configuration only: a
    /// configuration given with --config says its own modes.
    #[arg(long, conflicts_with = "config")]
    pub enforce: bool,
    /// The cluster's Kubernetes version (MAJOR.MINOR), 1.20 or later.
    /// Versions before 1.21 get a PodDisruptionBudget of policy/v1beta1.
    #[arg(long, default_value = "1.21", value_name = "VERSION", value_parser = parse_kube_version)]
    pub kube_version: KubeVersion,
    /// The container image (default: the release matching this binary).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Number of Counsel pods.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub replicas: u32,
    /// What the API server does when Counsel cannot answer (down, timed out).
    #[arg(long, value_enum, ignore_case = true, default_value_t = FailurePolicyArg::Fail)]
    pub failure_policy: FailurePolicyArg,
    /// How long the API server waits for Counsel, in seconds (1 to 30).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(1..=30))]
    pub timeout_seconds: u8,
    /// Sign the serving certificate with this CA (PEM) instead of a new one.
    #[arg(long, requires = "ca_key", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// The private key of --ca-cert (PEM).
    #[arg(long, requires = "ca_cert", value_name = "FILE")]
    pub ca_key: Option<PathBuf>,
    /// Leave out Counsel's CustomResourceDefinitions (exceptions), e.g.
    /// when they are installed separately; Counsel is not ready until they
    /// exist.
    #[arg(long)]
    pub no_crds: bool,
    /// Leave out the OpenReports CRDs (Report, ClusterReport of
    /// openreports.io), for clusters where another producer installed
    /// them already.
    #[arg(long)]
    pub no_report_crds: bool,
}

/// What `counsel install --help` ends with.
const AFTER_HELP: &str = "\
Supported: Kubernetes 1.20 and later (on 1.20, give --kube-version 1.20).

A new install warns: developers see every finding of the Pod Security
Standards (restricted) in kubectl's output and nothing is denied. Once the
workloads are clean, enforce: counsel install --enforce | kubectl apply -f -";

/// The webhook's `failurePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailurePolicyArg {
    /// Reject requests Counsel cannot review.
    Fail,
    /// Let them through unreviewed.
    Ignore,
}

impl FailurePolicyArg {
    fn as_str(self) -> &'static str {
        match self {
            FailurePolicyArg::Fail => "Fail",
            FailurePolicyArg::Ignore => "Ignore",
        }
    }
}

/// A Kubernetes version (1.MINOR) that `counsel install` supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KubeVersion {
    /// The minor version; the major is 1.
    pub minor: u32,
}

/// `1.20`, `v1.20` or `1.20.2` → 1.20; refuses versions before
/// [`MIN_KUBE_MINOR`].
fn parse_kube_version(text: &str) -> Result<KubeVersion, String> {
    let bare = text.strip_prefix('v').unwrap_or(text);
    let mut parts = bare.split('.');
    let number = |part: Option<&str>| part.and_then(|part| part.parse::<u32>().ok());
    let (major, minor) = (number(parts.next()), number(parts.next()));
    let patch_ok = parts
        .next()
        .is_none_or(|patch| patch.parse::<u32>().is_ok());
    match (major, minor) {
        (Some(1), Some(minor)) if patch_ok && parts.next().is_none() => {
            if minor < MIN_KUBE_MINOR {
                Err(format!(
                    "Kubernetes 1.{minor} is not supported: counsel install supports Kubernetes \
                     1.{MIN_KUBE_MINOR} and later"
                ))
            } else {
                Ok(KubeVersion { minor })
            }
        }
        _ => Err("expected a Kubernetes version such as 1.29".to_owned()),
    }
}

/// Everything the manifests are made from.
pub struct Plan {
    name: String,
    namespace: String,
    image: String,
    replicas: u32,
    failure_policy: &'static str,
    timeout_seconds: u8,
    kube_version: KubeVersion,
    bundle: ConfigBundle,
    certs: GeneratedCertificates,
}

/// Prints the manifests on stdout; notes for the operator go to stderr.
pub fn run(args: InstallArgs) -> anyhow::Result<ExitCode> {
    check_label("--namespace", &args.namespace, 63)?;
    let longest_suffix = CONFIG_MAP_SUFFIX.len().max(TLS_SECRET_SUFFIX.len());
    check_label("--name", &args.name, 63 - longest_suffix)?;
    if !args.name.starts_with(|c: char| c.is_ascii_lowercase()) {
        bail!(
            "--name {:?} must start with a letter: it names the Service",
            args.name
        );
    }
    let bundle = match &args.config {
        Some(path) => ConfigBundle::load(path)?,
        None => ConfigBundle::builtin(if args.enforce { "enforce" } else { "warn" })?,
    };
    let mut sent: Vec<&str> = Vec::new();
    for (kind, _, _) in WEBHOOK_KINDS {
        if !sent.contains(kind) {
            sent.push(kind);
        }
    }
    for (policy, kind) in bundle.kinds_outside(&sent) {
        eprintln!(
            "note: policy {policy:?} matches kind {kind:?}, which the webhooks are not sent \
             (they are sent {}); add a rule for it to the webhook configurations",
            sent.join(", ")
        );
    }
    if args.kube_version.minor < 21 {
        eprintln!(
            "note: Kubernetes 1.{} does not label namespaces with {NAMESPACE_NAME_LABEL}, which the \
             webhooks' namespaceSelector reads; label kube-system so that it stays excluded: \
             kubectl label namespace kube-system {NAMESPACE_NAME_LABEL}=kube-system",
            args.kube_version.minor
        );
    }
    let certs = certificates(&args)?;
    let args_crds = !args.no_crds;
    let plan = Plan {
        image: args
            .image
            .clone()
            .unwrap_or_else(|| format!("{IMAGE_REPOSITORY}:{}", env!("CARGO_PKG_VERSION"))),
        name: args.name,
        namespace: args.namespace,
        replicas: args.replicas,
        failure_policy: args.failure_policy.as_str(),
        timeout_seconds: args.timeout_seconds,
        kube_version: args.kube_version,
        bundle,
        certs,
    };
    let mut crds = String::new();
    if args_crds {
        crds = format!("{}---\n", rbac::CRDS);
    }
    if !args.no_report_crds {
        crds.push_str(&format!("{}---\n", rbac::REPORT_CRDS));
    }
    let text = format!("{}{crds}{}", plan.header(), yaml::stream(&plan.objects()));
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("cannot write the manifests to standard output")?;
    Ok(ExitCode::SUCCESS)
}

/// Kubernetes' rule for names that are DNS labels (RFC 1123).
fn check_label(flag: &str, value: &str, max: usize) -> anyhow::Result<()> {
    let valid_chars = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let valid_ends = !value.starts_with('-') && !value.ends_with('-');
    if value.is_empty() || !valid_chars || !valid_ends {
        bail!(
            "{flag} {value:?} is not a valid Kubernetes name: use lower-case letters, digits \
             and '-', starting and ending with a letter or digit"
        );
    }
    if value.len() > max {
        bail!(
            "{flag} {value:?} is {} characters long; at most {max} fit",
            value.len()
        );
    }
    Ok(())
}

/// A new CA and serving certificate, or a serving certificate from the
/// given CA; valid for the Service's names.
fn certificates(args: &InstallArgs) -> anyhow::Result<GeneratedCertificates> {
    let service = format!("{}.{}", args.name, args.namespace);
    let names = SubjectNames {
        dns: vec![
            format!("{service}.svc"),
            service.clone(),
            args.name.clone(),
            format!("{service}.svc.cluster.local"),
        ],
        ips: Vec::new(),
    };
    match (&args.ca_cert, &args.ca_key) {
        (Some(cert_path), Some(key_path)) => {
            let read = |path: &PathBuf| {
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))
            };
            let ca_cert = read(cert_path)?;
            let ca_key = read(key_path)?;
            Ok(certs::generate_with_ca(
                &names, &ca_cert, &ca_key, cert_path,
            )?)
        }
        _ => Ok(certs::generate(&names)?),
    }
}

impl Plan {
    /// The comment that opens the output.
    fn header(&self) -> String {
        format!(
            "# Counsel {version}: namespace {ns}, name {name}, generated by `counsel install`.\n\
             # Holds the webhook's private key (Secret {name}{TLS_SECRET_SUFFIX}): apply it, do not commit it.\n\
             # Apply: counsel install ... | kubectl apply -f -\n\
             # Wait:  kubectl -n {ns} rollout status deployment/{name}\n",
            version = env!("CARGO_PKG_VERSION"),
            ns = self.namespace,
            name = self.name,
        )
    }

    /// Every object, in the order `kubectl apply` should create them: the
    /// webhook configurations last, once what they point at exists.
    pub fn objects(&self) -> Vec<Value> {
        let mut objects = vec![
            self.namespace_object(),
            self.service_account(),
            self.cluster_role(),
            self.cluster_role_binding(),
            self.role(),
            self.role_binding(),
            self.config_map(),
            self.tls_secret(),
            self.service(),
            self.deployment(),
            self.disruption_budget(),
            self.validating_webhooks(),
        ];
        if self.bundle.uses_fix_mode() {
            objects.push(self.mutating_webhooks());
        }
        objects
    }

    /// The labels of every object.
    fn labels(&self) -> Value {
        json!({
            "app.kubernetes.io/name": "counsel",
            "app.kubernetes.io/instance": self.name,
            "app.kubernetes.io/version": env!("CARGO_PKG_VERSION"),
            "app.kubernetes.io/managed-by": "counsel-install",
        })
    }

    /// The labels that select Counsel's pods.
    fn selector(&self) -> Value {
        json!({
            "app.kubernetes.io/name": "counsel",
            "app.kubernetes.io/instance": self.name,
        })
    }

    /// `metadata` of a namespaced object named `name`.
    fn metadata(&self, name: &str) -> Value {
        json!({
            "name": name,
            "namespace": self.namespace,
            "labels": self.labels(),
        })
    }
}
