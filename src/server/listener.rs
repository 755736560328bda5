//! Accepting connections: TLS over TCP, then HTTP/1.1 or HTTP/2 (as ALPN
//! chose) on the same port, within bounds that no client can outlast: a
//! number of open connections, the time to finish the TLS handshake, to
//! send a request's headers, and to stay idle; with graceful draining.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// The most requests one HTTP/2 connection may have in flight: one client
/// must not be able to fill the review queue (which holds at least 256) by
/// itself. The API server opens another connection when it needs more.
const MAX_STREAMS_PER_CONNECTION: u32 = 32;

/// Bounds of the connection layer.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Longest a client may take to finish the TLS handshake.
    pub handshake_timeout: Duration,
    /// Longest a client may take to send a request's headers (HTTP/1.1;
    /// this also closes a kept-alive connection idle that long).
    pub header_timeout: Duration,
    /// A connection with no request in flight for this long is closed
    /// (HTTP/2 with a GOAWAY, so nothing in flight is lost); this also
    /// closes a connection that never sends anything.
    pub idle_timeout: Duration,
    /// Connections open at once on one listener; more wait in the kernel's
    /// backlog until one closes, so no client can use up the process's
    /// file descriptors.
    pub max_connections: usize,
    /// Longest to wait for in-flight requests after shutdown starts.
    pub drain_timeout: Duration,
}

impl ConnectionLimits {
    /// Counsel's defaults for the webhook listener.
    pub fn webhook() -> Self {
        ConnectionLimits {
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            // Longer than the API server's own idle timeout (90 s), so that
            // it is normally the one to close.
            idle_timeout: Duration::from_secs(120),
            // API servers keep a few connections each; with the ops
            // listener's, well within a 1,024 descriptor limit.
            max_connections: 512,
            drain_timeout: Duration::from_secs(25),
        }
    }

    /// Counsel's defaults for the ops listener (probes and scrapes, one
    /// short request per connection).
    pub fn ops() -> Self {
        ConnectionLimits {
            idle_timeout: Duration::from_secs(30),
            max_connections: 64,
            ..Self::webhook()
        }
    }
}

/// Serves `router` on every connection accepted by `listener` until
/// `shutdown` turns true, then drains open connections (finishing requests
/// in flight) for at most `limits.drain_timeout`. With `tls`, connections are
/// TLS; without, plain HTTP/1.1.
pub(crate) async fn serve(
    what: &'static str,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let builders = Arc::new(Builders::new(limits));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut warned_full: Option<Instant> = None;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                // At most one line a minute, however hard a client pushes.
                if warned_full.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                    warned_full = Some(Instant::now());
                    tracing::warn!(
                        listener = what,
                        "{} connections are open, the limit; new connections wait until one closes",
                        limits.max_connections
                    );
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                    () = stop_requested(&mut shutdown) => break,
                }
            }
        };
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
                tokio::spawn(connection(
                    stream,
                    peer,
                    tls.clone(),
                    router.clone(),
                    builders.clone(),
                    limits,
                    shutdown.clone(),
                    slot,
                ));
            }
            () = stop_requested(&mut shutdown) => break,
        }
    }
    drop(listener);
    // Every connection gives its slot back when it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.drain_timeout, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open after {} s of draining; closing them",
            limits.drain_timeout.as_secs()
        );
    }
}

/// The HTTP connection builders: one per protocol, so that a connection
/// speaks what TLS negotiated (or HTTP/1.1 in plain text) without waiting
/// to read which.
struct Builders {
    http1: auto::Builder<TokioExecutor>,
    http2: auto::Builder<TokioExecutor>,
}

impl Builders {
    fn new(limits: ConnectionLimits) -> Self {
        let mut http1 = auto::Builder::new(TokioExecutor::new()).http1_only();
        http1
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout);
        let mut http2 = auto::Builder::new(TokioExecutor::new()).http2_only();
        http2
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
            // Idle API-server connections are kept alive; pings find dead ones.
            .keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10));
        Builders { http1, http2 }
    }
}

/// One connection, from the TLS handshake to its end; holds its `slot`.
#[allow(clippy::too_many_arguments)]
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    router: Router,
    builders: Arc<Builders>,
    limits: ConnectionLimits,
    shutdown: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let result = match tls {
        Some(acceptor) => {
            match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => {
                    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    let builder = if h2 { &builders.http2 } else { &builders.http1 };
                    http(stream, builder, router, limits, shutdown).await
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
        None => http(stream, &builders.http1, router, limits, shutdown).await,
    };
    if let Err(error) = result {
        tracing::debug!(%peer, "connection ended with an error: {error}");
    }
}

/// Serves HTTP on `io` until the client closes, the connection has been
/// idle for `limits.idle_timeout`, or shutdown (then gracefully: requests
/// in flight finish).
async fn http<I>(
    io: I,
    builder: &auto::Builder<TokioExecutor>,
    router: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let service = {
        let activity = activity.clone();
        let inner = TowerToHyperService::new(router);
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let in_flight = activity.start();
            let response = hyper::service::Service::call(&inner, request);
            async move {
                let response = response.await;
                drop(in_flight);
                response
            }
        })
    };
    let connection = builder.serve_connection(TokioIo::new(io), service);
    let mut connection = std::pin::pin!(connection);
    // Once closing, the time left for a graceful end: a client that has
    // not sent its HTTP/2 preface, or holds a stream open, is not waited
    // for past it.
    let mut closing: Option<Instant> = None;
    loop {
        tokio::select! {
            result = connection.as_mut() => return result,
            () = stop_requested(&mut shutdown), if closing.is_none() => {
                connection.as_mut().graceful_shutdown();
                closing = Some(Instant::now() + limits.drain_timeout);
            }
            () = activity.idle_for(limits.idle_timeout), if closing.is_none() => {
                tracing::debug!("closing a connection idle for {} s", limits.idle_timeout.as_secs());
                connection.as_mut().graceful_shutdown();
                closing = Some(Instant::now() + limits.header_timeout);
            }
            () = tokio::time::sleep_until(closing.unwrap_or_else(Instant::now)), if closing.is_some() => {
                return Ok(());
            }
        }
    }
}

/// Requests in flight on one connection and when the last one started or
/// ended.
struct Activity {
    state: Mutex<(usize, Instant)>,
}

/// One request in flight; ends when dropped.
struct InFlight(Arc<Activity>);

impl Activity {
    fn new() -> Self {
        Activity {
            state: Mutex::new((0, Instant::now())),
        }
    }

    fn start(self: &Arc<Self>) -> InFlight {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *state = (state.0 + 1, Instant::now());
        InFlight(self.clone())
    }

    /// Completes once no request has been in flight for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let (in_flight, since) = *self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let due = since + timeout;
            if in_flight == 0 && Instant::now() >= due {
                return;
            }
            // A request in flight is bounded by the body and review
            // timeouts; look again a timeout later.
            tokio::time::sleep_until(if in_flight == 0 {
                due
            } else {
                Instant::now() + timeout
            })
            .await;
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        *state = (state.0.saturating_sub(1), Instant::now());
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
