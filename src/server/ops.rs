//! The plain-HTTP ops listener: liveness, readiness and metrics, for the
//! kubelet and Prometheus (never the API server).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::metrics::CONTENT_TYPE;
use super::state::ServerState;

/// `GET /healthz`, `GET /readyz`, `GET /metrics`.
pub(crate) fn router(state: Arc<ServerState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// The process is alive and serving HTTP.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when policies are loaded, the certificate is valid, the cluster
/// watches (when there is a cluster) have had their first list, and the
/// server is not shutting down; otherwise 503 with every reason.
async fn readyz(State(state): State<Arc<ServerState>>) -> Response {
    let problems = state.readiness_problems();
    if problems.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", problems.join("; ")),
        )
            .into_response()
    }
}

async fn metrics(State(state): State<Arc<ServerState>>) -> Response {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics().encode(),
    )
        .into_response()
}
