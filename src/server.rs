//! The HTTPS admission webhook (`counsel serve`).
//!
//! Two listeners: the webhook itself (TLS; `POST /validate`,
//! `POST /validate/{policy}`, and for policies in `fix` mode `POST /mutate`,
//! `POST /mutate/{policy}`) and a plain-HTTP ops listener (`/healthz`,
//! `/readyz`, `/metrics`) for the kubelet and Prometheus. Both are bound by
//! [`Server::bind`]; [`run`] serves them, loads the policies (until then
//! `/readyz` says so and reviews get 503), reloads the certificate and the
//! configuration when their files change, and when its shutdown future
//! completes drains in-flight reviews and returns.

mod activity;
pub mod admission;
mod background;
pub mod events;
mod exceptions;
mod listener;
mod metrics;
mod mutate;
mod ops;
mod policies;
mod pool;
mod response;
mod routes;
mod state;
mod tls;
mod watch;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinError;
use tokio_rustls::TlsAcceptor;

pub use activity::{Activity, Answering};
pub use background::{EventSettings, ReportSettings};
pub use listener::ConnectionLimits;
pub use metrics::Metrics;
pub use policies::PolicySource;
pub use pool::ReviewPool;
pub(crate) use response::{finding_line, warning_subject};
pub use state::{Policies, RequestLimits, ServerState};
pub use tls::{CertificatePaths, ReloadingCertificate, TlsError};
pub use watch::Look;

use crate::cluster::ClusterState;
use crate::config::ConfigError;
use crate::engine::EngineError;

/// Why the server could not start, or stopped other than when told to.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The policy engine could not be started.
    #[error("starting the policy engine")]
    Engine(#[source] EngineError),
    /// The policies could not be loaded.
    #[error(transparent)]
    Policies(#[from] ConfigError),
    /// A task of the server panicked.
    #[error("{what}")]
    Task {
        /// What the task was doing.
        what: &'static str,
        /// How it ended.
        source: JoinError,
    },
    /// TLS could not be set up (certificate, key or client CA).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A listener could not be bound.
    #[error("cannot listen on {address} ({what}): {source}")]
    Bind {
        /// Which listener (`webhook`, `metrics`).
        what: &'static str,
        /// The address.
        address: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The webhook's HTTPS address.
    pub listen: SocketAddr,
    /// The ops listener's address (health, readiness, metrics).
    pub metrics_listen: SocketAddr,
    /// The serving certificate and key (watched for changes).
    pub certificate: CertificatePaths,
    /// When set, clients must present a certificate signed by a CA in this
    /// PEM bundle.
    pub client_ca: Option<PathBuf>,
    /// How often the certificate files are looked at.
    pub certificate_poll_interval: Duration,
    /// How often the configuration file (and the modules it names) is
    /// looked at.
    pub config_poll_interval: Duration,
    /// Limits on one request.
    pub request_limits: RequestLimits,
    /// Bounds of the webhook listener's connections.
    pub connection_limits: ConnectionLimits,
    /// Bounds of the ops listener's connections.
    pub ops_connection_limits: ConnectionLimits,
    /// Reviews evaluated at once; `None`: one per core.
    pub concurrency: Option<usize>,
    /// The running time from which a policy's evaluation is long and moves
    /// off its slot (see [`pool::LONG_AFTER`], the default).
    pub long_evaluation: Duration,
    /// The cluster to watch (namespaces, exceptions); `None`: no cluster
    /// features.
    pub cluster: Option<crate::cluster::Connection>,
    /// With a cluster: leader election and OpenReports; `None`: off.
    pub reports: Option<ReportSettings>,
    /// With a cluster: Events about findings; `None`: off.
    pub events: Option<EventSettings>,
    /// How the background audit runs when there is a cluster; `None`: no
    /// audit.
    pub audit: Option<crate::audit::AuditOptions>,
}

impl ServeOptions {
    /// Options with Counsel's defaults for everything but the addresses and
    /// the certificate.
    pub fn new(
        listen: SocketAddr,
        metrics_listen: SocketAddr,
        certificate: CertificatePaths,
    ) -> Self {
        ServeOptions {
            listen,
            metrics_listen,
            certificate,
            client_ca: None,
            certificate_poll_interval: Duration::from_secs(1),
            config_poll_interval: Duration::from_secs(2),
            request_limits: RequestLimits::default(),
            connection_limits: ConnectionLimits::webhook(),
            ops_connection_limits: ConnectionLimits::ops(),
            concurrency: None,
            long_evaluation: pool::LONG_AFTER,
            cluster: None,
            reports: Some(ReportSettings::default()),
            events: Some(EventSettings::default()),
            audit: Some(crate::audit::AuditOptions::default()),
        }
    }
}

/// A bound server, to [`run`].
pub struct Server {
    state: Arc<ServerState>,
    webhook: TcpListener,
    ops: TcpListener,
    tls: TlsAcceptor,
    options: ServeOptions,
}

impl Server {
    /// Loads the certificate, sets up TLS and binds both listeners.
    pub async fn bind(options: ServeOptions) -> Result<Server, ServeError> {
        let metrics = Arc::new(Metrics::new());
        let certificate = ReloadingCertificate::load(options.certificate.clone(), metrics.clone())?;
        let tls_config = tls::server_config(certificate.clone(), options.client_ca.as_deref())?;
        let slots = options
            .concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |cores| cores.get()));
        let pool =
            ReviewPool::with_long_after(slots, (slots * 64).max(256), options.long_evaluation);
        let cluster = options
            .cluster
            .as_ref()
            .map(|_| Arc::new(ClusterState::new(metrics.clone())));
        let state = Arc::new(ServerState::new(
            certificate,
            metrics,
            pool,
            options.request_limits,
            cluster,
        ));
        let webhook = listener::bind(options.listen, "webhook").await?;
        let ops = listener::bind(options.metrics_listen, "metrics").await?;
        Ok(Server {
            state,
            webhook,
            ops,
            tls: TlsAcceptor::from(tls_config),
            options,
        })
    }

    /// The webhook's bound address (useful with port 0).
    pub fn webhook_addr(&self) -> SocketAddr {
        self.webhook.local_addr().unwrap_or(self.options.listen)
    }

    /// The ops listener's bound address.
    pub fn ops_addr(&self) -> SocketAddr {
        self.ops.local_addr().unwrap_or(self.options.metrics_listen)
    }

    /// The state shared with the handlers: install policies here.
    pub fn state(&self) -> Arc<ServerState> {
        self.state.clone()
    }

    /// Serves both listeners and watches the certificate until `shutdown`
    /// completes, then stops accepting, drains in-flight requests and
    /// returns.
    async fn serve(self, shutdown: impl Future<Output = ()> + Send) {
        let (webhook_addr, ops_addr) = (self.webhook_addr(), self.ops_addr());
        let Server {
            state,
            webhook,
            ops,
            tls,
            options,
        } = self;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        // Stopped when dropped, as the server returns.
        let _watches = options
            .cluster
            .as_ref()
            .zip(state.cluster())
            .map(|(connection, cluster)| crate::cluster::start(&connection.client, cluster));
        let audit = (options.cluster.as_ref())
            .zip(state.cluster())
            .zip(options.audit)
            .and_then(|((connection, cluster), audit)| {
                let client = connection.client.clone();
                match crate::audit::Audit::start(client, state.clone(), cluster.clone(), audit) {
                    Ok(audit) => Some(audit),
                    Err(error) => {
                        tracing::error!("no background audit: its thread cannot start: {error}");
                        None
                    }
                }
            });
        // The report writer and the audit's Events run on the leader, from
        // the audit's snapshots.
        let background = options.cluster.as_ref().map(|connection| {
            background::Background::start(
                &connection.client,
                &state,
                options.reports.as_ref(),
                options.events.as_ref(),
                audit.as_ref().map(|_| state.audit_snapshots()),
            )
        });
        let exceptions_feed = state.cluster().map(|cluster| {
            tokio::spawn(feed_exceptions(cluster.watch_exceptions(), state.clone()))
        });
        let certificate = state.certificate().clone();
        let watcher = tokio::spawn(watch::poll(
            "certificate",
            options.certificate_poll_interval,
            move || certificate.look(),
        ));
        let ops_server = tokio::spawn(listener::serve(
            "metrics",
            ops,
            None,
            ops::router(state.clone()),
            options.ops_connection_limits,
            stopped.clone(),
        ));
        let webhook_server = tokio::spawn(listener::serve(
            "webhook",
            webhook,
            Some(tls),
            routes::router(state.clone()),
            options.connection_limits,
            stopped,
        ));
        tracing::info!(
            "counsel is serving on https://{} (webhook) and http://{} (health, readiness, metrics)",
            webhook_addr,
            ops_addr
        );
        shutdown.await;
        tracing::info!("shutting down: draining in-flight reviews");
        state.start_draining();
        let _ = stop.send(true);
        let _ = webhook_server.await;
        let _ = ops_server.await;
        watcher.abort();
        if let Some(feed) = exceptions_feed {
            feed.abort();
        }
        if let Some(background) = background {
            background.stop().await;
        }
        tracing::info!("shut down");
    }
}

/// Gives the server every exception object the cluster holds, now and on
/// every change, so reviews apply them within moments of a change.
async fn feed_exceptions(
    mut changes: tokio::sync::watch::Receiver<Arc<crate::cluster::ExceptionObjects>>,
    state: Arc<ServerState>,
) {
    loop {
        let objects = changes.borrow_and_update().clone();
        let all = objects.namespaced.iter().chain(&objects.cluster_wide);
        state.set_exception_objects(all.cloned().collect());
        if changes.changed().await.is_err() {
            return;
        }
    }
}

/// Runs `server` until `shutdown` completes: serves both listeners, loads
/// the policies, reloads the certificate and the configuration when their
/// files change, and at shutdown stops accepting, drains in-flight reviews
/// and returns.
///
/// `policies` makes the policy source (starting the engine); it is called
/// on a blocking thread once both listeners serve, so `/healthz` answers
/// and `/readyz` says why it is not ready while policies load. When they do
/// not load, the server stops and the error is returned.
pub async fn run(
    server: Server,
    policies: impl FnOnce() -> Result<Arc<PolicySource>, ServeError> + Send + 'static,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let state = server.state();
    let config_poll_interval = server.options.config_poll_interval;
    // Stops the server when policies do not load; kept until the server
    // stops, as dropping it would stop the server too.
    let (stop, stop_requested) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve(async move {
        tokio::select! {
            () = shutdown => {}
            _ = stop_requested => {}
        }
    }));
    let loaded = tokio::task::spawn_blocking(move || {
        let source = policies()?;
        let loaded = source.load()?;
        Ok((source, loaded))
    })
    .await
    .unwrap_or_else(|source| {
        Err(ServeError::Task {
            what: "loading policies",
            source,
        })
    });
    let (source, loaded) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            let _ = stop.send(());
            let _ = serving.await;
            return Err(error);
        }
    };
    let names: Vec<&str> = loaded.reviewer.policies().collect();
    let names = names.join(", ");
    // Installed first, so that /readyz agrees with the line as soon as it
    // is read.
    state.set_policies(loaded);
    tracing::info!("policies loaded: {names}; ready");
    let config_watcher = source.is_file().then(|| {
        let state = state.clone();
        tokio::spawn(watch::poll(
            "configuration",
            config_poll_interval,
            move || source.look(&state),
        ))
    });
    let served = serving.await;
    if let Some(watcher) = config_watcher {
        watcher.abort();
    }
    drop(stop);
    served.map_err(|source| ServeError::Task {
        what: "the server task failed",
        source,
    })
}
