//! The Prometheus metrics of the webhook, exposed on the ops listener's
//! `/metrics` in the OpenMetrics text format.

use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Labels of `counsel_evaluations_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EvaluationLabels {
    policy: String,
    /// The broken rule; empty for `pass` and `failure`.
    rule: String,
    mode: String,
    outcome: &'static str,
}

/// Labels of `counsel_excepted_findings_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExceptedLabels {
    policy: String,
    rule: String,
    /// `CounselException shop/legacy-root`.
    exception: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    policy: String,
    cause: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    what: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WatchedLabels {
    what: &'static str,
}

/// Labels of the cluster watches' series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// Labels of `counsel_events_total` and `counsel_report_writes_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectionLabels {
    reason: &'static str,
}

/// What was reloaded, for `counsel_reloads_total`, or looked at for
/// changes, for `counsel_reload_checks_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reloaded {
    /// The serving certificate and key.
    Certificate,
    /// `counsel.yaml` and the policies it names.
    Config,
}

impl Reloaded {
    fn as_str(self) -> &'static str {
        match self {
            Reloaded::Certificate => "certificate",
            Reloaded::Config => "config",
        }
    }
}

/// What the webhook answered, for the latency histogram's `decision` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The request may proceed (possibly with warnings).
    Allowed,
    /// The request is denied.
    Denied,
    /// The request could not be read (HTTP 4xx).
    Invalid,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Denied => "denied",
            Decision::Invalid => "invalid",
        }
    }
}

/// All metrics, registered once. Cheap to update from any thread.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    evaluations: Family<EvaluationLabels, Counter>,
    policy_failures: Family<FailureLabels, Counter>,
    excepted: Family<ExceptedLabels, Counter>,
    review_seconds: Family<DecisionLabels, Histogram>,
    policies_loaded: Gauge,
    reloads: Family<ReloadLabels, Counter>,
    reload_checks: Family<WatchedLabels, Counter>,
    rejected: Family<RejectionLabels, Counter>,
    in_flight: Gauge,
    certificate_expiry: Gauge<f64, AtomicU64>,
    cluster_objects: Family<KindLabels, Gauge>,
    cluster_synced: Family<KindLabels, Gauge<f64, AtomicU64>>,
    leader: Gauge,
    events: Family<EventLabels, Counter>,
    report_writes: Family<EventLabels, Counter>,
    audit: crate::audit::AuditMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every series.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let evaluations = Family::<EvaluationLabels, Counter>::default();
        registry.register(
            "counsel_evaluations",
            "Policy evaluations by policy, rule, mode and outcome (pass, violation, excepted, failure); one per broken rule",
            evaluations.clone(),
        );
        let policy_failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "counsel_policy_failures",
            "Policies that failed to answer (trap, deadline, memory, bad verdict) by policy and cause",
            policy_failures.clone(),
        );
        let excepted = Family::<ExceptedLabels, Counter>::default();
        registry.register(
            "counsel_excepted_findings",
            "Findings a live exception let through, by policy, rule and exception",
            excepted.clone(),
        );
        // 0.5 ms to ~16 s: a review normally takes milliseconds, but the
        // API server allows up to 30 s and overload shows in the tail.
        let review_seconds = Family::<DecisionLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "counsel_review_duration_seconds",
            "Time from receiving an AdmissionReview to answering it, by decision",
            review_seconds.clone(),
        );
        let policies_loaded = Gauge::default();
        registry.register(
            "counsel_policies_loaded",
            "Policies loaded and ready to review",
            policies_loaded.clone(),
        );
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "counsel_reloads",
            "Reloads of the configuration and of the serving certificate, by outcome",
            reloads.clone(),
        );
        let reload_checks = Family::<WatchedLabels, Counter>::default();
        registry.register(
            "counsel_reload_checks",
            "Looks at the configuration and at the serving certificate for changes",
            reload_checks.clone(),
        );
        let rejected = Family::<RejectionLabels, Counter>::default();
        registry.register(
            "counsel_reviews_unevaluated",
            "Reviews answered without evaluating policies (overload, timeout, not ready), answered per failurePolicy",
            rejected.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "counsel_reviews_in_flight",
            "Reviews being evaluated right now",
            in_flight.clone(),
        );
        let certificate_expiry = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "counsel_certificate_expiry_timestamp_seconds",
            "When the serving certificate expires (Unix time)",
            certificate_expiry.clone(),
        );
        // Zero-valued series from the start, so dashboards and alerts see
        // "no reloads yet" rather than "no data".
        for what in ["certificate", "config"] {
            for outcome in ["success", "failure"] {
                let _ = reloads.get_or_create(&ReloadLabels { what, outcome });
            }
        }
        let _ = reload_checks.get_or_create(&WatchedLabels {
            what: "certificate",
        });
        let cluster_objects = Family::<KindLabels, Gauge>::default();
        registry.register(
            "counsel_cluster_objects",
            "Objects the cluster watches hold, by kind (namespaces, counselexceptions, clustercounselexceptions)",
            cluster_objects.clone(),
        );
        let cluster_synced = Family::<KindLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "counsel_cluster_last_sync_timestamp_seconds",
            "When each cluster watch last received a complete list, by kind (Unix time)",
            cluster_synced.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "counsel_leader",
            "1 while this replica holds the Lease and writes reports and audit Events, else 0",
            leader.clone(),
        );
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "counsel_events",
            "Kubernetes Events about findings, by outcome (created, repeated, queue_full, rate_limited, failed)",
            events.clone(),
        );
        let report_writes = Family::<EventLabels, Counter>::default();
        registry.register(
            "counsel_report_writes",
            "Writes of the OpenReports, by outcome (written, deleted, failed); a report whose content is unchanged is not written",
            report_writes.clone(),
        );
        let audit = crate::audit::AuditMetrics::register(&mut registry);
        Metrics {
            leader,
            events,
            report_writes,
            registry,
            evaluations,
            policy_failures,
            excepted,
            review_seconds,
            policies_loaded,
            reloads,
            reload_checks,
            rejected,
            in_flight,
            certificate_expiry,
            cluster_objects,
            cluster_synced,
            audit,
        }
    }

    /// The background audit's series.
    pub fn audit(&self) -> &crate::audit::AuditMetrics {
        &self.audit
    }

    /// The current values in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// Whether this replica leads (`counsel_leader`).
    pub fn set_leader(&self, leads: bool) {
        self.leader.set(i64::from(leads));
    }

    /// Counts what became of one Event.
    pub fn record_event(&self, outcome: &'static str) {
        self.events.get_or_create(&EventLabels { outcome }).inc();
    }

    /// Counts what one pass of the report writer did.
    pub fn record_report_writes(&self, written: &crate::reports::Written) {
        let outcomes = [
            ("written", written.written),
            ("deleted", written.deleted),
            ("failed", written.failed.len()),
        ];
        for (outcome, count) in outcomes {
            let count = u64::try_from(count).unwrap_or(u64::MAX);
            self.report_writes
                .get_or_create(&EventLabels { outcome })
                .inc_by(count);
        }
    }

    /// Counts one evaluation outcome: `outcome` is `pass`, `violation` (once
    /// per broken rule, with its `rule`) or `failure`.
    pub fn record_evaluation(&self, policy: &str, rule: &str, mode: &str, outcome: &'static str) {
        self.evaluations
            .get_or_create(&EvaluationLabels {
                policy: policy.to_owned(),
                rule: rule.to_owned(),
                mode: mode.to_owned(),
                outcome,
            })
            .inc();
    }

    /// Counts a finding an exception let through.
    pub fn record_excepted(&self, policy: &str, rule: &str, exception: &str) {
        self.excepted
            .get_or_create(&ExceptedLabels {
                policy: policy.to_owned(),
                rule: rule.to_owned(),
                exception: exception.to_owned(),
            })
            .inc();
    }

    /// Counts a policy failure.
    pub fn record_policy_failure(&self, policy: &str, cause: &str) {
        self.policy_failures
            .get_or_create(&FailureLabels {
                policy: policy.to_owned(),
                cause: cause.to_owned(),
            })
            .inc();
    }

    /// Records how long answering a review took.
    pub fn observe_review(&self, decision: Decision, seconds: f64) {
        self.review_seconds
            .get_or_create(&DecisionLabels {
                decision: decision.as_str(),
            })
            .observe(seconds);
    }

    /// Sets the number of loaded policies.
    pub fn set_policies_loaded(&self, count: usize) {
        self.policies_loaded
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Records how many objects of a watched kind are held.
    pub fn set_cluster_objects(&self, kind: &'static str, count: usize) {
        self.cluster_objects
            .get_or_create(&KindLabels { kind })
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Records a complete list of a watched kind.
    pub fn set_cluster_synced(&self, kind: &'static str, at: SystemTime) {
        let seconds = at
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.cluster_synced
            .get_or_create(&KindLabels { kind })
            .set(seconds);
    }

    /// Counts a reload attempt.
    pub fn record_reload(&self, what: Reloaded, succeeded: bool) {
        let outcome = if succeeded { "success" } else { "failure" };
        self.reloads
            .get_or_create(&ReloadLabels {
                what: what.as_str(),
                outcome,
            })
            .inc();
    }

    /// Counts a look at `what` for changes, whatever it found.
    pub fn record_reload_check(&self, what: Reloaded) {
        self.reload_checks
            .get_or_create(&WatchedLabels {
                what: what.as_str(),
            })
            .inc();
    }

    /// Counts a review answered without evaluation; `reason` is `overload`,
    /// `timeout` or `not_ready`.
    pub fn record_unevaluated(&self, reason: &'static str) {
        self.rejected
            .get_or_create(&RejectionLabels { reason })
            .inc();
    }

    /// The gauge of reviews being evaluated (inc on start, dec on end).
    pub fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// Publishes when the serving certificate expires.
    pub fn set_certificate_expiry(&self, not_after: SystemTime) {
        let seconds = not_after
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.certificate_expiry.set(seconds);
    }
}
