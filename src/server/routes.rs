//! The admission routes. `POST /validate` and `POST /validate/{policy}`:
//! one AdmissionReview in, one AdmissionReview out. `POST /mutate` and
//! `POST /mutate/{policy}` answer the same way, and also apply the fixes of
//! `fix`-mode policies as a JSON Patch (see `mutate.rs`).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use serde::Deserialize;
use tracing::Instrument as _;

use super::admission::{
    BodyError, BodyPermit, decode_review, is_json_content_type, parse_go_duration, read_body,
    review_budget,
};
use super::metrics::Decision;
use super::mutate::{Mutation, mutate};
use super::pool::PoolError;
use super::response::{Unevaluated, encode_mutation, encode_unevaluated, review_json_with_patch};
use super::state::{Policies, ServerState};
use crate::explain::{ObjectRef, Outcome, Report};
use crate::request::Received;
use crate::review::{Context, ReviewError, Scope};
use counsel_contract::Operation;
use kube_core::admission::AdmissionResponse;

/// The webhook routes.
pub(crate) fn router(state: Arc<ServerState>) -> Router {
    Router::new()
        .route("/validate", review_route(Endpoint::Validate))
        .route("/validate/{policy}", review_route(Endpoint::Validate))
        .route("/mutate", review_route(Endpoint::Mutate))
        .route("/mutate/{policy}", review_route(Endpoint::Mutate))
        .fallback(not_found)
        .with_state(state)
}

/// Query parameters the API server adds.
#[derive(Debug, Deserialize)]
struct ReviewQuery {
    /// The API server's timeout for this call (`10s`).
    timeout: Option<String>,
}

/// The handler of one review endpoint: `/validate` and `/mutate` (and their
/// `{policy}` forms) differ only in the endpoint.
fn review_route(endpoint: Endpoint) -> MethodRouter<Arc<ServerState>> {
    post(
        move |State(state): State<Arc<ServerState>>,
              policy: Option<Path<String>>,
              Query(query): Query<ReviewQuery>,
              headers: HeaderMap,
              body: Body| {
            let policy = policy.map(|Path(policy)| policy);
            handle(state, policy, endpoint, query, headers, body)
        },
    )
    .fallback(not_post)
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

/// Another method than POST on a review endpoint (a browser, `curl`
/// without `--data`): say what the endpoint takes.
async fn not_post(method: axum::http::Method) -> Response {
    let mut response = plain(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{method} is not supported here: POST an AdmissionReview (admission.k8s.io/v1) as JSON, as the API server does (curl: -H 'Content-Type: application/json' --data @review.json)"
        ),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
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
    let _answering = state.activity().answering();
    match read_review(&state, &query, &headers, body).await {
        Ok((request, budget, _body_permit)) => {
            // The permit is held until the answer is made: the request's
            // JSON lives as long as the review.
            review(&state, policy, endpoint, request, received, budget).await
        }
        Err(rejection) => {
            if rejection.0 == StatusCode::SERVICE_UNAVAILABLE {
                state.metrics().record_unevaluated("overload");
            } else {
                state
                    .metrics()
                    .observe_review(Decision::Invalid, received.elapsed().as_secs_f64());
            }
            // The reason quotes what the client sent: a field, so that it
            // is escaped in text logs.
            tracing::info!(
                status = rejection.0.as_u16(),
                reason = rejection.1.as_str(),
                "rejected a review request"
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
) -> Result<(Received, std::time::Duration, BodyPermit), Rejection> {
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
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (bytes, permit) = read_body(
        body,
        declared,
        limits.max_body_bytes,
        limits.body_timeout,
        state.body_budget(),
    )
    .await
    .map_err(|error| {
        let status = match error {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::OverBudget { .. } => StatusCode::SERVICE_UNAVAILABLE,
            BodyError::TimedOut { .. } => StatusCode::REQUEST_TIMEOUT,
            BodyError::Read(_) => StatusCode::BAD_REQUEST,
        };
        (status, error.to_string())
    })?;
    let request =
        decode_review(&bytes).map_err(|error| (StatusCode::BAD_REQUEST, error.to_string()))?;
    drop(bytes);
    let timeout = match &query.timeout {
        Some(text) => Some(parse_go_duration(text).map_err(|error| {
            (
                StatusCode::BAD_REQUEST,
                format!("query parameter timeout: {error}"),
            )
        })?),
        None => None,
    };
    Ok((request, review_budget(timeout), permit))
}

async fn review(
    state: &Arc<ServerState>,
    policy: Option<String>,
    endpoint: Endpoint,
    request: Received,
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
    // Exception objects are Counsel's own: it checks them, not the policies.
    if let Some(response) = super::exceptions::admit(&request, &policies) {
        return answer(response, None);
    }
    // Lines logged while reviewing (a policy that failed, a policy's own
    // log) carry the uid; the one line per review carries the rest.
    // Fields taken from the request are given as `&str`, never `%`: text
    // logs then quote and escape them, so no input can start a line.
    let span = tracing::info_span!("review", uid = request.request().uid.as_str());
    // The namespace as the cluster watches last saw it, taken before the
    // review starts: the review itself never waits for the cluster.
    let namespace = state.namespace(request.request().namespace.as_deref());
    let received_request = Arc::new(request);
    async move {
        let request = received_request.request();
        let deadline = tokio::time::Instant::from_std(received + budget);
        let metrics_in_flight = state.metrics().in_flight().clone();
        let exceptions = state.exceptions();
        let work = {
            let policies = policies.clone();
            let received_request = received_request.clone();
            let policy = policy.clone();
            let namespace = namespace.clone();
            let span = tracing::Span::current();
            move || {
                let _entered = span.enter();
                let _in_flight = InFlight::start(metrics_in_flight);
                let remaining = evaluation_budget(
                    deadline.saturating_duration_since(tokio::time::Instant::now()),
                );
                let scope = policy.as_deref().map_or(Scope::All, Scope::Policy);
                let context = Context {
                    namespace: namespace.as_deref(),
                    now: SystemTime::now(),
                    exceptions: Some(&exceptions),
                };
                match endpoint {
                    Endpoint::Validate => policies
                        .reviewer
                        .review_in(&*received_request, scope, Some(remaining), &context)
                        .map(Mutation::unchanged),
                    Endpoint::Mutate => mutate(
                        &policies.reviewer,
                        (&*received_request).into(),
                        scope,
                        Some(remaining),
                        &context,
                    ),
                }
            }
        };
        let outcome = state.pool().run(deadline, work).await;
        let scope = policy.as_deref().map_or(Scope::All, Scope::Policy);
        let mut patch = None;
        let response = match outcome {
            Ok(Ok(mutation)) => {
                record_report(state, &policies, &mutation.report);
                if endpoint == Endpoint::Validate {
                    hand_events(state, request, &mutation.report);
                }
                if mutation.fix.is_some() {
                    tracing::debug!(fixes = mutation.applied.len(), "patched");
                }
                let response = encode_mutation(&request.uid, &mutation);
                patch = mutation.fix;
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
                let skipped = policies.matching(request, scope, namespace.as_deref());
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
        // One line per review: at debug when allowed (most reviews, at full
        // rate), at info when denied.
        macro_rules! reviewed {
            ($level:ident) => {
                tracing::$level!(
                    kind = request.kind.kind.as_str(),
                    namespace = request.namespace.as_deref().unwrap_or(""),
                    name = request.name.as_str(),
                    operation = request.operation.as_str(),
                    user = request.user_info.username.as_str(),
                    policy = policy.as_deref().unwrap_or("*"),
                    decision = if response.allowed {
                        "allowed"
                    } else {
                        "denied"
                    },
                    warnings = response.warnings.as_ref().map_or(0, Vec::len),
                    duration_ms = (elapsed.as_secs_f64() * 100_000.0).round() / 100.0,
                    "reviewed"
                )
            };
        }
        if response.allowed {
            reviewed!(debug);
        } else {
            reviewed!(info);
        }
        answer(response, patch.as_ref())
    }
    .instrument(span)
    .await
}

/// The AdmissionReview answer as an HTTP response.
fn answer(response: AdmissionResponse, patch: Option<&json_patch::Patch>) -> Response {
    match review_json_with_patch(response, patch) {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!("the answer could not be serialised: {error}");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the AdmissionReview answer could not be serialised: {error}"),
            )
        }
    }
}

/// The time policies get out of what is left before the answer is due: a
/// little is kept back so that a policy stopped at its deadline is still
/// reported as such (with its name and contact) rather than overtaken by the
/// pool's own timeout.
fn evaluation_budget(left: std::time::Duration) -> std::time::Duration {
    let slack = (left / 10).min(std::time::Duration::from_millis(100));
    left.saturating_sub(slack)
}

/// Hands the Events of an admitted object to the Events writer (never
/// waiting): only for what will be stored (no dry run, no DELETE, no
/// subresource) and only on `/validate`, which sees the object as it will
/// be.
fn hand_events(state: &ServerState, request: &crate::request::Request, report: &Report) {
    let Some(events) = state.events() else {
        return;
    };
    // A controller writing `status` would repeat the object's findings at
    // every write.
    if request.dry_run == Some(true)
        || request.sub_resource.is_some()
        || !matches!(request.operation, Operation::Create | Operation::Update)
        || !report.allowed()
    {
        return;
    }
    let uid = request
        .subject()
        .and_then(|object| object.pointer("/metadata/uid"))
        .and_then(serde_json::Value::as_str);
    for event in super::events::admission_events(report, uid) {
        events.send(event);
    }
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
                    // Never hidden: counted as excepted, with the exception.
                    let (mode, outcome) = match finding.excepted_by() {
                        Some(excepted) => {
                            metrics.record_excepted(
                                &finding.policy,
                                &finding.rule,
                                &excepted.exception,
                            );
                            (excepted.mode, "excepted")
                        }
                        None => (finding.mode, "violation"),
                    };
                    metrics.record_evaluation(
                        &finding.policy,
                        &finding.rule,
                        mode.as_str(),
                        outcome,
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
