//! What the watches know: the current objects of each kind, published as
//! immutable snapshots (`tokio::sync::watch` of an `Arc`), so a reader
//! takes one without waiting for a writer and is told of every change;
//! and each watch's health, for `/readyz` and the metrics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use serde_json::Value;
use tokio::sync::watch;

use crate::review::Namespace;
use crate::server::Metrics;

/// What Counsel watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Namespaces (labels for `namespaceSelector`, annotations for owners).
    Namespaces,
    /// `counselexceptions.counsel.dev`, namespaced.
    CounselExceptions,
    /// `clustercounselexceptions.counsel.dev`, cluster-wide.
    ClusterCounselExceptions,
}

impl Kind {
    /// Every kind, in the order readiness reports them.
    pub const ALL: [Kind; 3] = [
        Kind::Namespaces,
        Kind::CounselExceptions,
        Kind::ClusterCounselExceptions,
    ];

    /// The resource's plural name, as RBAC and the metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Namespaces => "namespaces",
            Kind::CounselExceptions => "counselexceptions",
            Kind::ClusterCounselExceptions => "clustercounselexceptions",
        }
    }

    fn index(self) -> usize {
        match self {
            Kind::Namespaces => 0,
            Kind::CounselExceptions => 1,
            Kind::ClusterCounselExceptions => 2,
        }
    }
}

/// The namespaces of the cluster, by name.
#[derive(Debug, Default)]
pub struct Namespaces {
    by_name: HashMap<String, Arc<Namespace>>,
}

impl Namespaces {
    /// Indexes `namespaces` by name.
    pub fn new(namespaces: impl IntoIterator<Item = Namespace>) -> Namespaces {
        Namespaces {
            by_name: namespaces
                .into_iter()
                .map(|namespace| (namespace.name.clone(), Arc::new(namespace)))
                .collect(),
        }
    }

    /// The namespace of that name, when it is known.
    pub fn get(&self, name: &str) -> Option<&Arc<Namespace>> {
        self.by_name.get(name)
    }

    /// Every known namespace.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Namespace>> {
        self.by_name.values()
    }

    /// How many are known.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether none is known.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// Counsel's exception objects as the API server holds them (raw JSON,
/// each list ordered by namespace and name): what an exceptions index is
/// built from.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExceptionObjects {
    /// Every `CounselException`.
    pub namespaced: Vec<Value>,
    /// Every `ClusterCounselException`.
    pub cluster_wide: Vec<Value>,
}

/// The health of one watch.
#[derive(Debug, Default, Clone)]
struct Health {
    /// When the last complete list was received; `None` before the first.
    synced: Option<SystemTime>,
    /// The last error, until the watch recovers.
    error: Option<String>,
}

/// The cluster as the watches last saw it. Readers take snapshots
/// ([`ClusterState::namespace`], [`ClusterState::exceptions`]) or subscribe
/// to changes ([`ClusterState::watch_exceptions`]).
#[derive(Debug)]
pub struct ClusterState {
    namespaces: watch::Sender<Arc<Namespaces>>,
    exceptions: watch::Sender<Arc<ExceptionObjects>>,
    health: Mutex<[Health; 3]>,
    /// Whether every watch has had its first complete list.
    synced: watch::Sender<bool>,
    metrics: Arc<Metrics>,
}

impl ClusterState {
    /// Nothing known yet; every watch unsynced.
    pub fn new(metrics: Arc<Metrics>) -> ClusterState {
        ClusterState {
            namespaces: watch::Sender::new(Arc::default()),
            exceptions: watch::Sender::new(Arc::default()),
            health: Mutex::default(),
            synced: watch::Sender::new(false),
            metrics,
        }
    }

    /// The namespace of that name, as last seen; `None` when it is not
    /// known (not synced yet, or not in the cluster).
    pub fn namespace(&self, name: &str) -> Option<Arc<Namespace>> {
        self.namespaces.borrow().get(name).cloned()
    }

    /// Every known namespace, now.
    pub fn namespaces(&self) -> Arc<Namespaces> {
        self.namespaces.borrow().clone()
    }

    /// The exception objects, now.
    pub fn exceptions(&self) -> Arc<ExceptionObjects> {
        self.exceptions.borrow().clone()
    }

    /// A receiver told of every change of the exception objects (after
    /// each first sync and each change since), for keeping an index of
    /// them: `changed().await`, then `borrow_and_update()`.
    pub fn watch_exceptions(&self) -> watch::Receiver<Arc<ExceptionObjects>> {
        self.exceptions.subscribe()
    }

    /// A receiver told of every change of the namespaces.
    pub fn watch_namespaces(&self) -> watch::Receiver<Arc<Namespaces>> {
        self.namespaces.subscribe()
    }

    /// Completes once every watch has had its first complete list.
    pub async fn wait_synced(&self) {
        let mut synced = self.synced.subscribe();
        // The sender lives as long as `self`: waiting cannot fail.
        let _ = synced.wait_for(|synced| *synced).await;
    }

    /// Why the cluster's state is not complete yet, per watch that has not
    /// had its first complete list; empty once every watch has.
    pub fn sync_problems(&self) -> Vec<String> {
        let health = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        Kind::ALL
            .iter()
            .filter(|kind| health[kind.index()].synced.is_none())
            .map(|kind| {
                let why = match &health[kind.index()].error {
                    Some(error) => format!(": {error}"),
                    None => String::new(),
                };
                format!("the watch of {} has not synced yet{why}", kind.as_str())
            })
            .collect()
    }

    /// Whether every watch has had its first complete list.
    pub fn synced(&self) -> bool {
        self.sync_problems().is_empty()
    }

    pub(super) fn set_namespaces(&self, namespaces: Namespaces) {
        self.metrics
            .set_cluster_objects(Kind::Namespaces.as_str(), namespaces.len());
        self.namespaces.send_replace(Arc::new(namespaces));
    }

    pub(super) fn set_exceptions(&self, kind: Kind, objects: Vec<Value>) {
        self.metrics
            .set_cluster_objects(kind.as_str(), objects.len());
        self.exceptions.send_modify(|exceptions| {
            let exceptions = Arc::make_mut(exceptions);
            match kind {
                Kind::ClusterCounselExceptions => exceptions.cluster_wide = objects,
                _ => exceptions.namespaced = objects,
            }
        });
    }

    /// Records a complete list of `kind`.
    pub(super) fn mark_synced(&self, kind: Kind) {
        let now = SystemTime::now();
        let mut health = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        health[kind.index()] = Health {
            synced: Some(now),
            error: None,
        };
        if health.iter().all(|health| health.synced.is_some()) {
            self.synced.send_replace(true);
        }
        self.metrics.set_cluster_synced(kind.as_str(), now);
    }

    /// Records an error of the watch of `kind`; what it last listed stays.
    pub(super) fn record_error(&self, kind: Kind, error: String) {
        self.health.lock().unwrap_or_else(PoisonError::into_inner)[kind.index()].error =
            Some(error);
    }
}
