//! The HTTPS admission webhook (`counsel serve`).
//!
//! Two listeners: the webhook itself (TLS; `POST /validate`,
//! `POST /validate/{policy}`, and for policies in `fix` mode `POST /mutate`,
//! `POST /mutate/{policy}`) and a plain-HTTP ops listener (`/healthz`,
//! `/readyz`, `/metrics`) for the kubelet and Prometheus. Both are bound by
//! [`Server::bind`] and served by [`Server::run`] until its shutdown future
//! completes; then in-flight reviews are drained.
//!
//! Policies are installed with [`ServerState::set_policies`] once loaded;
//! until then `/readyz` says so and reviews get 503.

pub mod admission;
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

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub use listener::ConnectionLimits;
pub use metrics::Metrics;
pub use policies::{Look, PolicySource};
pub use pool::ReviewPool;
pub use state::{Policies, RequestLimits, ServerState};
pub use tls::{CertificatePaths, ReloadingCertificate, TlsError};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
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
            request_limits: RequestLimits::default(),
            connection_limits: ConnectionLimits::webhook(),
            ops_connection_limits: ConnectionLimits::ops(),
            concurrency: None,
            long_evaluation: pool::LONG_AFTER,
        }
    }
}

/// A bound, not yet running server.
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
        let state = Arc::new(ServerState::new(
            certificate,
            metrics,
            pool,
            options.request_limits,
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

    /// Serves until `shutdown` completes, then stops accepting, drains
    /// in-flight requests and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let (webhook_addr, ops_addr) = (self.webhook_addr(), self.ops_addr());
        let Server {
            state,
            webhook,
            ops,
            tls,
            options,
        } = self;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let watcher = tokio::spawn(
            state
                .certificate()
                .clone()
                .watch(options.certificate_poll_interval),
        );
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
        tracing::info!("shut down");
    }
}
