//! What already runs: the background audit's conclusions about the objects
//! in the cluster, judged by the same `Reviewer` as admission.
//!
//! The audit (watches of every kind a policy matches, evaluation beside the
//! review path) publishes an [`AuditSnapshot`]; whoever reports on it
//! (OpenReports, Events, metrics) reads snapshots and never the audit's
//! internals.

mod conclusion;
mod coordinator;
mod debounce;
mod evaluate;
mod kinds;
mod metrics;
mod watch;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;

use crate::cluster::ClusterState;
use crate::server::ServerState;

pub use conclusion::{
    Audited, Conclusions, KeptException, KeptFailure, KeptFinding, MAX_FOUND_CHARS, RuleFacts,
};
pub use debounce::Debouncer;
pub use kinds::{Resolved, Served, WORKLOAD_KINDS, resolve_in};
pub use metrics::AuditMetrics;

/// How the background audit runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditOptions {
    /// Evaluation threads (its CPU budget); they judge objects only in the
    /// gaps between the webhook's reviews.
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
///
/// Its coordinator and watches run on a runtime of their own, on a thread
/// of their own at the lowest priority: reading 20,000 objects or starting
/// a full audit never holds up a worker of the webhook's runtime.
pub struct Audit {
    stop: Option<oneshot::Sender<()>>,
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
    ) -> std::io::Result<Audit> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let audit_state = state.clone();
        std::thread::Builder::new()
            .name("counsel-audit-watch".to_owned())
            .spawn(move || {
                crate::idle::lower_priority();
                let run = coordinator::Coordinator::run(client, audit_state, cluster, options);
                runtime.block_on(async move {
                    tokio::select! {
                        () = run => {}
                        _ = stopped => {}
                    }
                });
            })?;
        Ok(Audit {
            stop: Some(stop),
            state,
        })
    }

    /// What the audit concludes, now and on every change.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Arc<AuditSnapshot>> {
        self.state.audit_snapshots()
    }
}

impl Drop for Audit {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The thread is gone already if this fails: nothing to stop.
            let _ = stop.send(());
        }
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

impl AuditSnapshot {
    /// The objects of `namespace` (`None`: cluster-scoped ones), in order.
    pub fn in_namespace<'a>(
        &'a self,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Arc<Audited>)> + 'a {
        let first = ObjectKey {
            namespace: namespace.map(str::to_owned),
            api_version: String::new(),
            kind: String::new(),
            name: String::new(),
        };
        (self.objects.range(first..))
            .take_while(move |(key, _)| key.namespace.as_deref() == namespace)
    }

    /// The namespaces (`None`: cluster-scoped objects) where an object was
    /// judged again, appeared or went since `before`: where a report may
    /// say something else.
    pub fn namespaces_changed_since(&self, before: &AuditSnapshot) -> BTreeSet<Option<String>> {
        let mut changed = BTreeSet::new();
        let mut earlier = before.objects.iter().peekable();
        let mut now = self.objects.iter().peekable();
        loop {
            let order = match (earlier.peek(), now.peek()) {
                (None, None) => return changed,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((was, _)), Some((is, _))) => was.cmp(is),
            };
            let (key, same) = match order {
                Ordering::Less => (earlier.next().map(|(key, _)| key), false),
                Ordering::Greater => (now.next().map(|(key, _)| key), false),
                Ordering::Equal => match (earlier.next(), now.next()) {
                    (Some((key, was)), Some((_, is))) => (Some(key), Arc::ptr_eq(was, is)),
                    _ => (None, true),
                },
            };
            if let Some(key) = key.filter(|_| !same)
                && !changed.contains(&key.namespace)
            {
                changed.insert(key.namespace.clone());
            }
        }
    }
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
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use serde_json::json;

    use super::{AuditSnapshot, Audited, ObjectKey, controller};

    fn key(namespace: Option<&str>, name: &str) -> ObjectKey {
        ObjectKey {
            namespace: namespace.map(str::to_owned),
            api_version: "apps/v1".to_owned(),
            kind: "Deployment".to_owned(),
            name: name.to_owned(),
        }
    }

    fn audited(uid: &str) -> Arc<Audited> {
        Arc::new(Audited {
            uid: uid.to_owned(),
            resource_version: "1".to_owned(),
            passed: 1,
            findings: Vec::new(),
            failures: Vec::new(),
        })
    }

    #[test]
    fn a_namespace_changed_where_an_object_was_judged_again_came_or_went() {
        let same = audited("same");
        let before = AuditSnapshot {
            objects: [
                (key(None, "cluster-wide"), same.clone()),
                (key(Some("a"), "gone"), same.clone()),
                (key(Some("a"), "stays"), same.clone()),
                (key(Some("b"), "judged-again"), same.clone()),
                (key(Some("d"), "untouched"), same.clone()),
            ]
            .into(),
            complete: true,
        };
        let now = AuditSnapshot {
            objects: [
                (key(None, "cluster-wide"), same.clone()),
                (key(Some("a"), "stays"), same.clone()),
                // Equal, but judged again: a new conclusion.
                (key(Some("b"), "judged-again"), audited("same")),
                (key(Some("c"), "new"), same.clone()),
                (key(Some("d"), "untouched"), same.clone()),
            ]
            .into(),
            complete: true,
        };
        let changed: BTreeSet<Option<String>> = ["a", "b", "c"].map(|n| Some(n.to_owned())).into();
        assert_eq!(now.namespaces_changed_since(&before), changed);
        assert_eq!(now.namespaces_changed_since(&now), BTreeSet::new());
        let names: Vec<&str> = (now.in_namespace(Some("a")))
            .map(|(key, _)| key.name.as_str())
            .collect();
        assert_eq!(names, ["stays"]);
        assert_eq!(now.in_namespace(None).count(), 1);
    }

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
