//! The audit's Prometheus series, in the server's registry. The violation
//! gauges are kept exact: the audit adds an object's findings when it is
//! judged and takes its previous ones away, and a series whose count falls
//! to zero is removed, so what a scrape shows is what is present now.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::{Audited, ObjectKey};

/// Labels of `counsel_audit_violations` and
/// `counsel_audit_excepted_violations`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ViolationLabels {
    policy: String,
    rule: String,
    /// Empty for cluster-scoped objects.
    namespace: String,
    /// The finding's mode (`enforce`, `warn`, `audit`, `fix`); for an
    /// excepted finding, the mode it had before its exception.
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

/// The audit's series.
#[derive(Debug)]
pub struct AuditMetrics {
    violations: Family<ViolationLabels, Gauge>,
    excepted: Family<ViolationLabels, Gauge>,
    objects: Family<KindLabels, Gauge>,
    evaluations: Counter,
    last_duration: Gauge<f64, AtomicU64>,
    last_timestamp: Gauge<f64, AtomicU64>,
}

impl AuditMetrics {
    /// Creates the series and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> AuditMetrics {
        let metrics = AuditMetrics {
            violations: Family::default(),
            excepted: Family::default(),
            objects: Family::default(),
            evaluations: Counter::default(),
            last_duration: Gauge::default(),
            last_timestamp: Gauge::default(),
        };
        registry.register(
            "counsel_audit_violations",
            "Violations present in the cluster now, as the background audit last judged each object, by policy, rule, namespace and mode (excepted ones not included)",
            metrics.violations.clone(),
        );
        registry.register(
            "counsel_audit_excepted_violations",
            "Violations present in the cluster now that a live exception lets through, by policy, rule, namespace and mode",
            metrics.excepted.clone(),
        );
        registry.register(
            "counsel_audit_objects",
            "Objects the background audit holds a conclusion for, by kind",
            metrics.objects.clone(),
        );
        registry.register(
            "counsel_audit_evaluations",
            "Objects the background audit judged (every judgement, again after changes)",
            metrics.evaluations.clone(),
        );
        registry.register(
            "counsel_audit_last_full_duration_seconds",
            "How long the last full audit (every watched object judged) took",
            metrics.last_duration.clone(),
        );
        registry.register(
            "counsel_audit_last_full_timestamp_seconds",
            "When the last full audit ended (Unix time)",
            metrics.last_timestamp.clone(),
        );
        metrics
    }

    pub(super) fn record_evaluations(&self, count: usize) {
        self.evaluations
            .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
    }

    pub(super) fn record_full_audit(&self, took: Duration, ended: SystemTime) {
        self.last_duration.set(took.as_secs_f64());
        let seconds = ended
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64());
        self.last_timestamp.set(seconds);
    }
}

/// The counts behind the gauges, kept by the audit's coordinator, which
/// alone changes them.
#[derive(Debug, Default)]
pub(super) struct Tally {
    violations: HashMap<ViolationLabels, i64>,
    excepted: HashMap<ViolationLabels, i64>,
    objects: HashMap<String, i64>,
}

impl Tally {
    /// One object's conclusion replaced by another (either may be absent).
    pub(super) fn replace(
        &mut self,
        metrics: &AuditMetrics,
        key: &ObjectKey,
        old: Option<&Audited>,
        new: Option<&Audited>,
    ) {
        if let Some(old) = old {
            self.count(metrics, key, old, -1);
        }
        if let Some(new) = new {
            self.count(metrics, key, new, 1);
        }
    }

    fn count(&mut self, metrics: &AuditMetrics, key: &ObjectKey, audited: &Audited, by: i64) {
        let namespace = key.namespace.clone().unwrap_or_default();
        for finding in &audited.findings {
            let labels = ViolationLabels {
                policy: finding.facts.policy.clone(),
                rule: finding.facts.rule.clone(),
                namespace: namespace.clone(),
                mode: finding.mode.as_str(),
            };
            let (counts, family) = if finding.exception.is_some() {
                (&mut self.excepted, &metrics.excepted)
            } else {
                (&mut self.violations, &metrics.violations)
            };
            add(counts, family, labels, by);
        }
        let kind = key.kind.clone();
        let count = self.objects.entry(kind.clone()).or_default();
        *count += by;
        metrics
            .objects
            .get_or_create(&KindLabels { kind })
            .set(*count);
    }
}

fn add(
    counts: &mut HashMap<ViolationLabels, i64>,
    family: &Family<ViolationLabels, Gauge>,
    labels: ViolationLabels,
    by: i64,
) {
    let count = counts.entry(labels.clone()).or_default();
    *count += by;
    if *count <= 0 {
        counts.remove(&labels);
        family.remove(&labels);
    } else {
        family.get_or_create(&labels).set(*count);
    }
}
