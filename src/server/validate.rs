//! `POST /validate` and `POST /validate/{policy}`: one AdmissionReview in,
//! one AdmissionReview out. `POST /mutate` and `POST /mutate/{policy}` answer
//! the same way, and also apply the fixes of `fix`-mode policies as a JSON
//! Patch (see `mutate.rs`).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use serde::Deserialize;
use tracing::Instrument as _;

use super::admission::{decode_review, is_json_content_type, parse_go_duration, review_budget};
use super::metrics::Decision;
use super::mutate::{Mutation, mutate};
use super::pool::PoolError;
use super::response::{Unevaluated, encode_mutation, encode_unevaluated, review_json_with_patch};
use super::state::{Policies, ServerState};
use crate::explain::{ObjectRef, Outcome, Report};
use crate::request::Request;
use crate::review::{ReviewError, Scope};

/// The webhook routes.
pub(crate) fn router(state: Arc<ServerState>) -> Router {
    Router::new()
        .route("/validate", post(validate_route))
        .route("/validate/{policy}", post(validate_route))
        .route("/mutate", post(mutate_route))
        .route("/mutate/{policy}", post(mutate_route))
        .fallback(not_found)
        .with_state(state)
}

/// Query parameters the API server adds.
#[derive(Debug, Deserialize)]
struct ReviewQuery {
    /// The API server's timeout for this call (`10s`).
    timeout: Option<String>,
}

async fn validate_route(
    State(state): State<Arc<ServerState>>,
    policy: Option<Path<String>>,
    Query(query): Query<ReviewQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let policy = policy.map(|Path(policy)| policy);
    handle(state, policy, Endpoint::Validate, query, headers, body).await
}

async fn mutate_route(
    State(state): State<Arc<ServerState>>,
    policy: Option<Path<String>>,
    Query(query): Query<ReviewQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let policy = policy.map(|Path(policy)| policy);
    handle(state, policy, Endpoint::Mutate, query, headers, body).await
}

/// Which endpoint a review came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// Decide only.
    Validate,
    /// Decide, and apply the fixes of fix-mode policies.
    Mutate,
}

async fn not_found() -> Response {
    plain(
        StatusCode::NOT_FOUND,
        "no such endpoint: POST AdmissionReviews to /validate, /validate/{policy}, /mutate or /mutate/{policy}".to_owned(),
    )
}

async fn handle(
    state: Arc<ServerState>,
    policy: Option<String>,
    endpoint: Endpoint,
    query: ReviewQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let received = Instant::now();
    match read_review(&state, &query, &headers, body).await {
        Ok((request, budget)) => review(&state, policy, endpoint, request, received, budget).await,
        Err(rejection) => {
            state
                .metrics()
                .observe_review(Decision::Invalid, received.elapsed().as_secs_f64());
            tracing::info!(
                status = rejection.0.as_u16(),
                "rejected a review request: {}",
                rejection.1
            );
            plain(rejection.0, rejection.1)
        }
    }
}

type Rejection = (StatusCode, String);

/// Checks the content type, reads the body within its limits and decodes it.
async fn read_review(
    state: &ServerState,
    query: &ReviewQuery,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Request, std::time::Duration), Rejection> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    match content_type.as_deref() {
        Some(value) if is_json_content_type(value) => {}
        other => {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Type must be application/json, not {}: send the AdmissionReview as JSON (curl: -H 'Content-Type: application/json')",
                    other.map_or_else(|| "missing".to_owned(), |v| format!("{v:?}"))
                ),
            ));
        }
    }
    let limits = state.limits();
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than the limit of {} bytes ({} MiB) for an AdmissionReview",
                limits.max_body_bytes,
                limits.max_body_bytes / (1024 * 1024)
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_body_bytes as u64) {
        return Err(too_large());
    }
    let bytes: Bytes = match tokio::time::timeout(
        limits.body_timeout,
        Limited::new(body, limits.max_body_bytes).collect(),
    )
    .await
    {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.is::<LengthLimitError>() => return Err(too_large()),
        Ok(Err(error)) => {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {error}"),
            ));
        }
        Err(_) => {
            return Err((
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    limits.body_timeout.as_secs()
                ),
            ));
        }
    };
    let request =
        decode_review(&bytes).map_err(|error| (StatusCode::BAD_REQUEST, error.to_string()))?;
    let timeout = match &query.timeout {
        Some(text) => Some(parse_go_duration(text).map_err(|error| {
            (
                StatusCode::BAD_REQUEST,
                format!("query parameter timeout: {error}"),
            )
        })?),
        None => None,
    };
    Ok((request, review_budget(timeout)))
}

async fn review(
    state: &Arc<ServerState>,
    policy: Option<String>,
    endpoint: Endpoint,
    request: Request,
    received: Instant,
    budget: std::time::Duration,
) -> Response {
    let Some(policies) = state.policies() else {
        state.metrics().record_unevaluated("not_ready");
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "policies are still loading; the API server applies the webhook's failurePolicy"
                .to_owned(),
        );
    };
    if let Some(name) = &policy
        && !policies
            .reviewer
            .policies()
            .any(|configured| configured == name)
    {
        let configured: Vec<&str> = policies.reviewer.policies().collect();
        return plain(
            StatusCode::NOT_FOUND,
            ReviewError::UnknownPolicy(name.clone()).to_string()
                + &format!("; configured: {}", configured.join(", ")),
        );
    }
    // Lines logged while reviewing (a policy that failed, a policy's own
    // log) carry the uid; the one line per review carries the rest.
    let span = tracing::info_span!("review", uid = %request.uid);
    let request = Arc::new(request);
    async move {
        let deadline = tokio::time::Instant::from_std(received + budget);
        let metrics_in_flight = state.metrics().in_flight().clone();
        let work = {
            let policies = policies.clone();
            let request = request.clone();
            let policy = policy.clone();
            let span = tracing::Span::current();
            move || {
                let _entered = span.enter();
                let _in_flight = InFlight::start(metrics_in_flight);
                let remaining = evaluation_budget(
                    deadline.saturating_duration_since(tokio::time::Instant::now()),
                );
                let scope = policy.as_deref().map_or(Scope::All, Scope::Policy);
                match endpoint {
                    Endpoint::Validate => policies
                        .reviewer
                        .review(&request, scope, Some(remaining))
                        .map(Mutation::unchanged),
                    Endpoint::Mutate => {
                        mutate(&policies.reviewer, &request, scope, Some(remaining))
                    }
                }
            }
        };
        let outcome = state.pool().run(deadline, work).await;
        let scope = policy.as_deref().map_or(Scope::All, Scope::Policy);
        let mut patch = None;
        let response = match outcome {
            Ok(Ok(mutation)) => {
                record_report(state, &policies, &mutation.report);
                if mutation.patch.is_some() {
                    tracing::info!(fixes = mutation.applied.len(), "patched");
                }
                let response = encode_mutation(&request.uid, &mutation);
                patch = mutation.patch;
                response
            }
            Ok(Err(error)) => {
                // The scope was checked above; only a reload in between gets here.
                return plain(StatusCode::NOT_FOUND, error.to_string());
            }
            Err(error) => {
                let why = match error {
                    PoolError::Overloaded => Unevaluated::Overloaded,
                    PoolError::Timeout => Unevaluated::TimedOut,
                    PoolError::Panicked => Unevaluated::Crashed,
                };
                state.metrics().record_unevaluated(match why {
                    Unevaluated::Overloaded => "overload",
                    Unevaluated::TimedOut => "timeout",
                    Unevaluated::Crashed => "crash",
                });
                tracing::warn!("answered without evaluating: {error}");
                let object = ObjectRef::of(request.subject(), request.namespace.as_deref());
                let skipped = policies.matching(&request, scope);
                encode_unevaluated(&request.uid, &object, &skipped, why)
            }
        };
        let decision = if response.allowed {
            Decision::Allowed
        } else {
            Decision::Denied
        };
        let elapsed = received.elapsed();
        state
            .metrics()
            .observe_review(decision, elapsed.as_secs_f64());
        tracing::info!(
            kind = %request.kind.kind,
            namespace = request.namespace.as_deref().unwrap_or(""),
            name = %request.name,
            operation = request.operation.as_str(),
            user = %request.user_info.username,
            policy = policy.as_deref().unwrap_or("*"),
            decision = if response.allowed { "allowed" } else { "denied" },
            warnings = response.warnings.as_ref().map_or(0, Vec::len),
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "reviewed"
        );
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            review_json_with_patch(response, patch.as_ref()),
        )
            .into_response()
    }
    .instrument(span)
    .await
}

/// The time policies get out of what is left before the answer is due: a
/// little is kept back so that a policy stopped at its deadline is still
/// reported as such (with its name and contact) rather than overtaken by the
/// pool's own timeout.
fn evaluation_budget(left: std::time::Duration) -> std::time::Duration {
    let slack = (left / 10).min(std::time::Duration::from_millis(100));
    left.saturating_sub(slack)
}

/// Counts evaluations by outcome and policy failures by cause.
fn record_report(state: &ServerState, policies: &Policies, report: &Report) {
    let metrics = state.metrics();
    for evaluation in &report.evaluations {
        let mode = policies.mode_of(&evaluation.policy);
        match evaluation.outcome {
            Outcome::Pass => metrics.record_evaluation(&evaluation.policy, "", mode, "pass"),
            Outcome::Violations => {
                for finding in report
                    .findings
                    .iter()
                    .filter(|f| f.policy == evaluation.policy)
                {
                    metrics.record_evaluation(
                        &finding.policy,
                        &finding.rule,
                        finding.mode.as_str(),
                        "violation",
                    );
                }
            }
            Outcome::Failure => metrics.record_evaluation(&evaluation.policy, "", mode, "failure"),
        }
    }
    for failure in &report.failures {
        metrics.record_policy_failure(&failure.policy, failure.failure.cause());
    }
}

/// Keeps `counsel_reviews_in_flight` right even if a review panics.
struct InFlight(prometheus_client::metrics::gauge::Gauge);

impl InFlight {
    fn start(gauge: prometheus_client::metrics::gauge::Gauge) -> Self {
        gauge.inc();
        InFlight(gauge)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn plain(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message + "\n",
    )
        .into_response()
}
