//! `counsel serve`: the admission webhook.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use counsel::engine::{Engine, EngineOptions};
use counsel::reports::ReportOptions;
use counsel::server::{
    self, CertificatePaths, EventSettings, PolicySource, ReportSettings, ServeError, ServeOptions,
    Server,
};
use counsel::{certs, cluster};

use super::PolicyArgs;

/// Where development certificates live when no certificate is given.
const DEV_CERTS_DIR: &str = "certs";

/// Serve the admission webhook over HTTPS.
///
/// Without --tls-cert/--tls-key, a development CA and a certificate for
/// localhost, 127.0.0.1 and ::1 are used from ./certs (generated there when
/// absent). Certificate and configuration files are watched and reloaded
/// when they change. SIGTERM (after --shutdown-delay) drains in-flight
/// reviews and exits 0.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub policies: PolicyArgs,
    /// Address of the HTTPS webhook listener.
    #[arg(
        long,
        env = "COUNSEL_LISTEN",
        default_value = "0.0.0.0:8443",
        value_name = "ADDR"
    )]
    pub listen: SocketAddr,
    /// Address of the plain-HTTP listener for /healthz, /readyz and /metrics.
    #[arg(
        long,
        env = "COUNSEL_METRICS_LISTEN",
        default_value = "0.0.0.0:9090",
        value_name = "ADDR"
    )]
    pub metrics_listen: SocketAddr,
    /// The serving certificate (PEM chain, leaf first).
    #[arg(
        long,
        env = "COUNSEL_TLS_CERT",
        requires = "tls_key",
        value_name = "FILE"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The serving certificate's private key (PEM).
    #[arg(
        long,
        env = "COUNSEL_TLS_KEY",
        requires = "tls_cert",
        value_name = "FILE"
    )]
    pub tls_key: Option<PathBuf>,
    /// Require clients (the API server) to present a certificate signed by a
    /// CA in this PEM bundle.
    #[arg(long, env = "COUNSEL_CLIENT_CA", value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// Seconds to keep serving after SIGTERM before draining and exiting:
    /// Kubernetes removes a stopping pod from its Service while the API
    /// server may still be calling it, and calls made in that window must be
    /// answered. In a cluster, set it to a few seconds and keep the pod's
    /// terminationGracePeriodSeconds well above it (`counsel install` uses 5
    /// and 30). Ctrl-C stops at once.
    #[arg(
        long,
        env = "COUNSEL_SHUTDOWN_DELAY",
        default_value_t = 0,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u16).range(0..=600)
    )]
    pub shutdown_delay: u16,
    /// The cluster to watch for namespaces (labels for namespaceSelector,
    /// owners) and exceptions. Without it, KUBECONFIG, and in a pod the
    /// pod's service account, are used; with none of them, cluster
    /// features are off and counsel serve is a webhook on its own.
    #[arg(long, env = "COUNSEL_KUBECONFIG", value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Write no OpenReports (and take no part in the leader election that
    /// decides which replica writes them and the audit's Events).
    #[arg(long, env = "COUNSEL_NO_REPORTS")]
    pub no_reports: bool,
    /// Most results one report lists; the rest are counted in its summary
    /// and its counsel.dev/omitted-results annotation.
    #[arg(
        long,
        env = "COUNSEL_REPORT_MAX_RESULTS",
        default_value_t = 1000,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=10_000)
    )]
    pub report_max_results: u32,
    /// The Lease (coordination.k8s.io/v1) that elects the one replica that
    /// writes reports and the audit's Events.
    #[arg(
        long,
        env = "COUNSEL_LEASE_NAME",
        default_value = "counsel-audit",
        value_name = "NAME"
    )]
    pub lease_name: String,
    /// The Lease's namespace; by default Counsel's own (the pod's, or the
    /// kubeconfig context's).
    #[arg(long, env = "COUNSEL_LEASE_NAMESPACE", value_name = "NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// Seconds a Lease its holder stops renewing stays held: how long
    /// reports wait for another replica when the leader dies.
    #[arg(
        long,
        env = "COUNSEL_LEASE_DURATION",
        default_value_t = 15,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u16).range(2..=3600)
    )]
    pub lease_duration: u16,
    /// Seconds between renewals of the Lease (less than --lease-duration).
    #[arg(
        long,
        env = "COUNSEL_LEASE_RENEW",
        default_value_t = 5,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u16).range(1..=3600)
    )]
    pub lease_renew: u16,
    /// Emit no Kubernetes Events about findings.
    #[arg(long, env = "COUNSEL_NO_EVENTS")]
    pub no_events: bool,
    /// Events written per second at most, in all (bursts of ten times as
    /// many); more are dropped and counted (counsel_events_total).
    #[arg(
        long,
        env = "COUNSEL_EVENTS_PER_SECOND",
        default_value_t = 10,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub events_per_second: u16,
    /// Events about one object at most per 10 minutes.
    #[arg(
        long,
        env = "COUNSEL_EVENTS_PER_OBJECT",
        default_value_t = 25,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub events_per_object: u32,
    /// Do not audit what already runs in the cluster (by default, with a
    /// cluster, every object of a kind a policy matches is judged in the
    /// background: metrics counsel_audit_*).
    #[arg(long, env = "COUNSEL_NO_AUDIT", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_audit: bool,
    /// Threads the background audit evaluates on (its CPU budget; they
    /// judge objects only in the gaps between the webhook's reviews).
    #[arg(
        long,
        env = "COUNSEL_AUDIT_THREADS",
        default_value_t = 1,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub audit_threads: u16,
    /// Milliseconds after an object's change before the audit judges it
    /// again (changes in between are judged once).
    #[arg(
        long,
        env = "COUNSEL_AUDIT_DEBOUNCE_MS",
        default_value_t = 1000,
        value_name = "MS"
    )]
    pub audit_debounce_ms: u64,
    /// Also audit objects a controller owns (a Deployment's ReplicaSets and
    /// Pods, a CronJob's Jobs), not only the controller.
    #[arg(long, env = "COUNSEL_AUDIT_CONTROLLED", value_parser = clap::builder::BoolishValueParser::new())]
    pub audit_controlled: bool,
    /// Log lines as text or as JSON objects.
    #[arg(long, env = "COUNSEL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the review span's fields.
    Json,
}

/// Sends logs to stderr in the chosen format.
pub fn init_logging(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour_stderr())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// Whether text logs on stderr may be coloured: only on a terminal (a file
/// or a log collector would get escape codes), and not when `NO_COLOR` is
/// set.
pub fn colour_stderr() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Runs the server until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let (certificate, dev_ca) = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => (
            CertificatePaths {
                cert: cert.clone(),
                key: key.clone(),
            },
            None,
        ),
        _ => {
            let dev = certs::ensure_dev_certificates(Path::new(DEV_CERTS_DIR))
                .context("preparing development certificates (give --tls-cert and --tls-key to use your own)")?;
            if dev.generated {
                tracing::info!(
                    "generated a development CA and a certificate for localhost, 127.0.0.1 and ::1 in {DEV_CERTS_DIR}/; caBundle: base64 -w0 {}",
                    dev.files.ca_cert.display()
                );
            } else {
                tracing::info!(
                    "using the development certificate in {DEV_CERTS_DIR}/ (CA: {}, caBundle: base64 -w0 {})",
                    dev.files.ca_cert.display(),
                    dev.files.ca_cert.display()
                );
            }
            let ca = dev.files.ca_cert.clone();
            (
                CertificatePaths {
                    cert: dev.files.cert,
                    key: dev.files.key,
                },
                Some(ca),
            )
        }
    };
    let mut options = ServeOptions::new(args.listen, args.metrics_listen, certificate);
    options.client_ca = args.client_ca.clone();
    if args.lease_renew >= args.lease_duration {
        anyhow::bail!(
            "--lease-renew ({} s) must be less than --lease-duration ({} s): the leader must renew the Lease before it expires",
            args.lease_renew,
            args.lease_duration
        );
    }
    options.reports = (!args.no_reports).then(|| ReportSettings {
        lease_name: args.lease_name.clone(),
        lease_namespace: args.lease_namespace.clone(),
        lease_duration: Duration::from_secs(args.lease_duration.into()),
        renew_every: Duration::from_secs(args.lease_renew.into()),
        report: ReportOptions {
            max_results: args.report_max_results as usize,
        },
    });
    options.events = (!args.no_events).then(|| EventSettings {
        per_second: f64::from(args.events_per_second),
        per_object: args.events_per_object,
    });
    options.audit = (!args.no_audit).then(|| counsel::audit::AuditOptions {
        threads: args.audit_threads.into(),
        debounce: Duration::from_millis(args.audit_debounce_ms),
        controlled: args.audit_controlled,
    });
    let engine_options = EngineOptions {
        cache_dir: args
            .policies
            .cache_dir
            .clone()
            .or_else(counsel::engine::default_cache_dir),
        precompiled_dir: args.policies.precompiled_dir.clone(),
        ..EngineOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(options, engine_options, args, dev_ca))
}

async fn serve(
    options: ServeOptions,
    engine_options: EngineOptions,
    args: ServeArgs,
    dev_ca: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let mut options = options;
    options.cluster = match cluster::connect(args.kubeconfig.as_deref())
        .await
        .context("connecting to the cluster")?
    {
        Some(connection) => {
            tracing::info!(
                "cluster features on: watching namespaces and exceptions with {}",
                connection.source
            );
            Some(connection)
        }
        None => {
            tracing::info!(
                "cluster features off (namespaceSelector matches every namespace, no namespace owners, no exceptions): {}",
                cluster::NOT_CONFIGURED
            );
            None
        }
    };
    match (&options.cluster, &options.audit) {
        (Some(_), Some(audit)) => tracing::info!(
            "background audit on: every object of a kind a policy matches is judged on {} thread(s)",
            audit.threads
        ),
        (Some(_), None) => tracing::info!("background audit off (--no-audit)"),
        (None, _) => tracing::info!("background audit off: no cluster"),
    }
    let server = Server::bind(options).await?;
    let state = server.state();
    let webhook_addr = server.webhook_addr();
    let config_path = args.policies.config.clone();
    let policies = move || {
        let engine = Engine::new(engine_options).map_err(ServeError::Engine)?;
        Ok(Arc::new(PolicySource::new(config_path, Arc::new(engine))))
    };
    let delay = Duration::from_secs(args.shutdown_delay.into());
    let shutdown = async move {
        let signal = termination().await;
        if signal == Termination::Sigterm && !delay.is_zero() {
            tracing::info!(
                "SIGTERM received: serving {} s more while the API server stops calling this pod (--shutdown-delay)",
                delay.as_secs()
            );
            tokio::time::sleep(delay).await;
        }
    };
    let running = server::run(server, policies, shutdown);
    tokio::pin!(running);
    tokio::select! {
        result = &mut running => return result.map(|()| ExitCode::SUCCESS).map_err(Into::into),
        () = state.policies_loaded() => {
            print_try_it(args.log_format, webhook_addr, dev_ca.as_deref());
        }
    }
    running.await?;
    Ok(ExitCode::SUCCESS)
}

/// Which signal asked the server to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Termination {
    /// Kubernetes stopping the pod.
    Sigterm,
    /// Someone at a terminal.
    CtrlC,
}

/// Completes on SIGTERM or Ctrl-C, saying which.
async fn termination() -> Termination {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => Termination::Sigterm,
                    _ = tokio::signal::ctrl_c() => Termination::CtrlC,
                }
            }
            Err(error) => {
                tracing::warn!("cannot listen for SIGTERM ({error}); stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
                Termination::CtrlC
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        Termination::CtrlC
    }
}

/// Tells whoever started the server how to talk to it.
fn print_try_it(format: LogFormat, webhook_addr: SocketAddr, dev_ca: Option<&Path>) {
    let host = if webhook_addr.ip().is_unspecified() || webhook_addr.ip().is_loopback() {
        "localhost".to_owned()
    } else {
        webhook_addr.ip().to_string()
    };
    let ca = dev_ca.map_or_else(
        || "<your CA file>".to_owned(),
        |path| path.display().to_string(),
    );
    let curl = format!(
        "curl --cacert {ca} -H 'Content-Type: application/json' --data @examples/review-privileged.json https://{host}:{}/validate",
        webhook_addr.port()
    );
    let check = "counsel check -f examples/deployment-privileged.yaml";
    match format {
        LogFormat::Text => eprintln!("\nTry it:\n  {curl}\n  {check}\n"),
        LogFormat::Json => tracing::info!(curl = %curl, check = check, "try it"),
    }
}
