//! What already runs: the background audit's conclusions about the objects
//! in the cluster, judged by the same `Reviewer` as admission.
//!
//! The audit (watches of every kind a policy matches, evaluation beside the
//! review path) publishes an [`AuditSnapshot`]; whoever reports on it
//! (OpenReports, Events, metrics) reads snapshots and never the audit's
//! internals.

mod coordinator;
mod debounce;
mod evaluate;
mod kinds;
mod metrics;
mod watch;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

use crate::cluster::ClusterState;
use crate::explain;
use crate::server::ServerState;

pub use debounce::Debouncer;
pub use kinds::{Resolved, Served, WORKLOAD_KINDS, resolve_in};
pub use metrics::AuditMetrics;

/// How the background audit runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditOptions {
    /// Evaluation threads (its CPU budget), at a lower priority than the
    /// webhook's.
    pub threads: usize,
    /// How long after an object's change it is judged again (changes in
    /// between fold into one judgement); the same delay gathers changes of
    /// policies, exceptions and namespaces before everything is judged
    /// again.
    pub debounce: Duration,
    /// Objects a controller owns (a Deployment's Pods, a CronJob's Jobs)
    /// are judged too, rather than reported at their controller only.
    pub controlled: bool,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            threads: 1,
            debounce: Duration::from_secs(1),
            controlled: false,
        }
    }
}

/// The running background audit; dropping it stops it. What it concludes
/// is published by the server ([`ServerState::audit_snapshots`]).
pub struct Audit {
    task: JoinHandle<()>,
    state: Arc<ServerState>,
}

impl Audit {
    /// Starts auditing the cluster `client` reaches, once policies are
    /// loaded and the cluster's namespaces and exceptions are synced.
    pub fn start(
        client: kube::Client,
        state: Arc<ServerState>,
        cluster: Arc<ClusterState>,
        options: AuditOptions,
    ) -> Audit {
        let task = tokio::spawn(coordinator::Coordinator::run(
            client,
            state.clone(),
            cluster,
            options,
        ));
        Audit { task, state }
    }

    /// What the audit concludes, now and on every change.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Arc<AuditSnapshot>> {
        self.state.audit_snapshots()
    }
}

impl Drop for Audit {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Names one audited object; orders reports by namespace, then kind and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// The namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// `apps/v1`.
    pub api_version: String,
    /// `Deployment`.
    pub kind: String,
    /// The object's name.
    pub name: String,
}

impl std::fmt::Display for ObjectKey {
    /// `Deployment shop/web`, `Namespace shop`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {namespace}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One object the audit judged, and what it concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct Audited {
    /// The object's `metadata.uid`.
    pub uid: String,
    /// The object's `metadata.resourceVersion` when it was judged.
    pub resource_version: String,
    /// The review, as admission would make it of a CREATE of the object:
    /// findings in every mode (`audit` included), excepted ones marked.
    pub report: explain::Report,
}

/// Everything the audit currently knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditSnapshot {
    /// The latest conclusion for every watched object that any policy
    /// matched (objects no policy matched are absent).
    pub objects: BTreeMap<ObjectKey, Arc<Audited>>,
    /// Every watched kind has been listed and each object judged once since
    /// the audit started or the policies or exceptions last changed.
    pub complete: bool,
}

/// The controller that owns `object` (its `ownerReferences` entry with
/// `controller: true`), as `(kind, name)`: a Pod made by a ReplicaSet is
/// reported at its controller, once, not once per replica.
pub fn controller(object: &Value) -> Option<(&str, &str)> {
    let owners = object.pointer("/metadata/ownerReferences")?.as_array()?;
    owners.iter().find_map(|owner| {
        if owner.get("controller")?.as_bool()? {
            Some((owner.get("kind")?.as_str()?, owner.get("name")?.as_str()?))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::controller;

    #[test]
    fn the_controller_is_the_owner_marked_controller() {
        let pod = json!({"metadata": {"ownerReferences": [
            {"kind": "Node", "name": "n1"},
            {"kind": "ReplicaSet", "name": "web-5d9c", "controller": true}
        ]}});
        assert_eq!(controller(&pod), Some(("ReplicaSet", "web-5d9c")));
        let orphan = json!({"metadata": {"ownerReferences": [
            {"kind": "ReplicaSet", "name": "web-5d9c", "controller": false}
        ]}});
        assert_eq!(controller(&orphan), None);
        assert_eq!(controller(&json!({"metadata": {}})), None);
    }
}
