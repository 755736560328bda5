//! Accepting connections: TLS over TCP, then HTTP/1.1 or HTTP/2 (whichever
//! the client speaks) on the same port, with graceful draining.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// The most requests one HTTP/2 connection may have in flight: one client
/// must not be able to fill the review queue (which holds at least 256) by
/// itself. The API server opens another connection when it needs more.
const MAX_STREAMS_PER_CONNECTION: u32 = 32;

/// Timeouts of the connection layer.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Longest a client may take to finish the TLS handshake.
    pub handshake_timeout: Duration,
    /// Longest a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// Longest to wait for in-flight requests after shutdown starts.
    pub drain_timeout: Duration,
}

/// Serves `router` on every connection accepted by `listener` until
/// `shutdown` turns true, then drains open connections (finishing requests
/// in flight) for at most `limits.drain_timeout`. With `tls`, connections are
/// TLS; without, plain HTTP.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        // Idle API-server connections are kept alive; pings find dead ones.
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10));
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: back off
                        // instead of spinning.
                        tracing::warn!("accepting a connection failed: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(router.clone());
                let watcher = graceful.watcher();
                let builder = builder.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let result = match tls {
                        Some(acceptor) => {
                            match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream)).await {
                                Ok(Ok(stream)) => {
                                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                                    watcher.watch(connection.into_owned()).await
                                }
                                Ok(Err(error)) => {
                                    tracing::debug!(%peer, "TLS handshake failed: {error}");
                                    return;
                                }
                                Err(_) => {
                                    tracing::debug!(%peer, "TLS handshake timed out");
                                    return;
                                }
                            }
                        }
                        None => {
                            let connection = builder.serve_connection(TokioIo::new(stream), service);
                            watcher.watch(connection.into_owned()).await
                        }
                    };
                    if let Err(error) = result {
                        tracing::debug!(%peer, "connection ended with an error: {error}");
                    }
                });
            }
            () = stop_requested(&mut shutdown) => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open after {} s of draining; closing them",
            limits.drain_timeout.as_secs()
        );
    }
}

/// Completes when `shutdown` turns true (or its sender is gone).
async fn stop_requested(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await.
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}

/// Binds a TCP listener, naming the address in the error.
pub(crate) async fn bind(
    address: SocketAddr,
    what: &'static str,
) -> Result<TcpListener, super::ServeError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| super::ServeError::Bind {
            what,
            address,
            source,
        })
}
