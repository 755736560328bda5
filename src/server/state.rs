//! What the request handlers share: the loaded policies (swapped on
//! reload), the exceptions, the serving certificate, the metrics and the
//! review pool.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use super::activity::Activity;
use super::admission::BodyBudget;
use super::exceptions::ExceptionStore;
use super::metrics::Metrics;
use super::pool::ReviewPool;
use super::response::SkippedPolicy;
use super::tls::ReloadingCertificate;
use crate::audit::AuditSnapshot;
use crate::cluster::ClusterState;
use crate::cluster::events::EventSender;
use crate::config::Config;
use crate::exceptions::{ExceptionError, Exceptions};
use crate::request::Request;
use crate::review::{Namespace, Reviewer, Scope};

/// A configuration and its loaded policies: what reviews run against.
pub struct Policies {
    /// The configuration the policies were loaded from.
    pub config: Config,
    /// The loaded policies.
    pub reviewer: Reviewer,
}

impl Policies {
    /// The policies in `scope` that would judge `request`, for answering it
    /// per `failurePolicy` when it cannot be evaluated.
    pub fn matching(
        &self,
        request: &Request,
        scope: Scope<'_>,
        namespace: Option<&Namespace>,
    ) -> Vec<SkippedPolicy> {
        self.reviewer
            .matching(request, scope, namespace)
            .map(|config| SkippedPolicy {
                policy: config.name.clone(),
                failure_policy: config.failure_policy,
                contact: config.contact.clone(),
            })
            .collect()
    }

    /// The configured mode of a policy, as its metrics label.
    pub fn mode_of(&self, policy: &str) -> &'static str {
        self.config
            .policies
            .iter()
            .find(|config| config.name == policy)
            .map_or("", |config| config.mode.as_str())
    }
}

/// Limits on one HTTP request to the webhook.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Largest accepted body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Longest a client may take to send the body.
    pub body_timeout: Duration,
    /// Bytes of all the bodies held at once (being received or reviewed);
    /// a body that would go past it gets 503.
    pub body_budget_bytes: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            // The API server caps objects at ~3 MiB; an AdmissionReview of an
            // UPDATE carries two of them.
            max_body_bytes: 4 * 1024 * 1024,
            body_timeout: Duration::from_secs(10),
            // Sixteen of the largest reviews, thousands of usual ones; with
            // the copies a review makes, well within the chart's 512 Mi.
            body_budget_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Shared by every handler of both listeners.
pub struct ServerState {
    policies: RwLock<Option<Arc<Policies>>>,
    /// Whether policies were ever installed: an event to wait for.
    loaded: tokio::sync::watch::Sender<bool>,
    certificate: Arc<ReloadingCertificate>,
    metrics: Arc<Metrics>,
    pool: ReviewPool,
    limits: RequestLimits,
    body_budget: BodyBudget,
    draining: AtomicBool,
    cluster: Option<Arc<ClusterState>>,
    exceptions: ExceptionStore,
    /// Where reviews hand their Events; set once the writer runs.
    events: std::sync::OnceLock<EventSender>,
    /// Counts changes of what reviews judge by (policies, exceptions).
    judging: tokio::sync::watch::Sender<u64>,
    /// What the background audit concluded last.
    audit: tokio::sync::watch::Sender<Arc<AuditSnapshot>>,
    /// Reviews being answered: what the audit waits for.
    activity: Activity,
}

impl ServerState {
    pub(crate) fn new(
        certificate: Arc<ReloadingCertificate>,
        metrics: Arc<Metrics>,
        pool: ReviewPool,
        limits: RequestLimits,
        cluster: Option<Arc<ClusterState>>,
    ) -> Self {
        ServerState {
            policies: RwLock::new(None),
            loaded: tokio::sync::watch::Sender::new(false),
            certificate,
            metrics,
            pool,
            limits,
            body_budget: BodyBudget::new(limits.body_budget_bytes),
            draining: AtomicBool::new(false),
            cluster,
            exceptions: ExceptionStore::default(),
            events: std::sync::OnceLock::new(),
            judging: tokio::sync::watch::Sender::new(0),
            audit: tokio::sync::watch::Sender::new(Arc::default()),
            activity: Activity::default(),
        }
    }

    /// Starts serving reviews with `policies` (replacing any loaded before;
    /// reviews already running finish with the old ones).
    pub fn set_policies(&self, policies: Policies) {
        self.metrics
            .set_policies_loaded(policies.reviewer.policies().count());
        let policies = Arc::new(policies);
        *self
            .policies
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(policies.clone());
        // Exceptions name policies and rules: checked again against these.
        self.exceptions.reindex(&policies);
        self.loaded.send_replace(true);
        self.judging.send_modify(|changes| *changes += 1);
    }

    /// A receiver told of every change of what reviews judge by: policies
    /// installed, exception objects indexed (the background audit judges
    /// everything again).
    pub fn watch_judging(&self) -> tokio::sync::watch::Receiver<u64> {
        self.judging.subscribe()
    }

    /// The background audit's conclusions, now and on every change (an
    /// empty, incomplete snapshot while no audit runs).
    pub fn audit_snapshots(&self) -> tokio::sync::watch::Receiver<Arc<AuditSnapshot>> {
        self.audit.subscribe()
    }

    /// Whether reviews are being answered, or were a moment ago.
    pub fn activity(&self) -> &Activity {
        &self.activity
    }

    /// Where the background audit publishes.
    pub(crate) fn audit_publisher(&self) -> &tokio::sync::watch::Sender<Arc<AuditSnapshot>> {
        &self.audit
    }

    /// Completes once policies are installed (at once if they are).
    pub async fn policies_loaded(&self) {
        let mut loaded = self.loaded.subscribe();
        // The sender lives as long as `self`: waiting cannot fail.
        let _ = loaded.wait_for(|loaded| *loaded).await;
    }

    /// The policies reviews run against now; `None` until loaded.
    pub fn policies(&self) -> Option<Arc<Policies>> {
        self.policies
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the exception objects (`CounselException`s and
    /// `ClusterCounselException`s as JSON, as the cluster serves them):
    /// reviews from now on apply those that pass Counsel's checks against
    /// the policies loaded (and again after every reload). Returns, and
    /// logs, those that do not.
    pub fn set_exception_objects(&self, objects: Vec<serde_json::Value>) -> Vec<ExceptionError> {
        let policies = self.policies();
        let errors = self.exceptions.set_objects(objects, policies.as_deref());
        self.judging.send_modify(|changes| *changes += 1);
        errors
    }

    /// The exceptions reviews apply now.
    pub fn exceptions(&self) -> Arc<Exceptions> {
        self.exceptions.index()
    }

    /// Where reviews hand the Events of what they let in; `None` when
    /// Events are off (or there is no cluster).
    pub fn events(&self) -> Option<&EventSender> {
        self.events.get()
    }

    /// Installs where Events go (once; a second call is ignored).
    pub fn set_events(&self, sender: EventSender) {
        let _ = self.events.set(sender);
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The serving certificate.
    pub fn certificate(&self) -> &Arc<ReloadingCertificate> {
        &self.certificate
    }

    /// What the cluster watches know; `None` without a cluster.
    pub fn cluster(&self) -> Option<&Arc<ClusterState>> {
        self.cluster.as_ref()
    }

    /// The namespace of that name as the cluster watches last saw it.
    pub fn namespace(&self, name: Option<&str>) -> Option<Arc<Namespace>> {
        self.cluster.as_ref()?.namespace(name?)
    }

    pub(crate) fn pool(&self) -> &ReviewPool {
        &self.pool
    }

    pub(crate) fn limits(&self) -> RequestLimits {
        self.limits
    }

    /// The bytes of request bodies the server may still take.
    pub fn body_budget(&self) -> &BodyBudget {
        &self.body_budget
    }

    /// Marks the server as shutting down: `/readyz` fails from now on so
    /// load balancers stop sending new work.
    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Why the server is not ready; empty when it is.
    pub fn readiness_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.policies().is_none() {
            problems.push("policies are not loaded yet".to_owned());
        }
        let validity = self.certificate.validity();
        let now = SystemTime::now();
        if now < validity.not_before {
            problems.push("the serving certificate is not valid yet".to_owned());
        } else if now > validity.not_after {
            problems.push("the serving certificate has expired".to_owned());
        }
        if let Some(cluster) = &self.cluster {
            problems.extend(cluster.sync_problems());
        }
        if self.draining.load(Ordering::Acquire) {
            problems.push("shutting down".to_owned());
        }
        problems
    }
}
