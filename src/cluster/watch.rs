//! The watches (kube-runtime watchers): each lists its kind, then follows
//! changes, and publishes the complete set into the [`ClusterState`]
//! after the first list and after each batch of changes. An error is
//! logged and retried with kube-runtime's backoff; what was last listed
//! keeps serving meanwhile.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::{Stream, StreamExt as _};
use k8s_openapi::api::core::v1::Namespace as NamespaceObject;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PartialObjectMeta};
use kube::runtime::WatchStreamExt as _;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use tokio::task::JoinHandle;

use super::state::{ClusterState, Kind, Namespaces};
use crate::review::Namespace;

/// Counsel's API group and version.
const GROUP: &str = "counsel.dev";
const VERSION: &str = "v1alpha1";

/// Changes taken together into one snapshot, at most.
const BATCH: usize = 512;

/// The running watches; dropping this stops them.
pub struct Watches {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Watches {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts watching Namespaces and both exception kinds into `state`.
pub fn start(client: &kube::Client, state: &Arc<ClusterState>) -> Watches {
    // Metadata only: labels and annotations are all Counsel reads.
    let namespaces = watcher::watcher(
        Api::<PartialObjectMeta<NamespaceObject>>::all(client.clone()),
        watcher::Config::default(),
    );
    let exceptions = |kind, plural| {
        let gvk = GroupVersionKind::gvk(GROUP, VERSION, kind);
        let api = Api::<DynamicObject>::all_with(
            client.clone(),
            &ApiResource::from_gvk_with_plural(&gvk, plural),
        );
        watcher::watcher(api, watcher::Config::default())
    };
    let tasks = vec![
        tokio::spawn(keep(
            Kind::Namespaces,
            namespaces,
            state.clone(),
            namespace_entry,
            |state, namespaces| {
                state.set_namespaces(Namespaces::new(namespaces.values().cloned()));
            },
        )),
        tokio::spawn(keep(
            Kind::CounselExceptions,
            exceptions("CounselException", Kind::CounselExceptions.as_str()),
            state.clone(),
            object_entry,
            |state, objects| {
                state.set_exceptions(Kind::CounselExceptions, objects.values().cloned().collect());
            },
        )),
        tokio::spawn(keep(
            Kind::ClusterCounselExceptions,
            exceptions(
                "ClusterCounselException",
                Kind::ClusterCounselExceptions.as_str(),
            ),
            state.clone(),
            object_entry,
            |state, objects| {
                state.set_exceptions(
                    Kind::ClusterCounselExceptions,
                    objects.values().cloned().collect(),
                );
            },
        )),
    ];
    Watches { tasks }
}

fn namespace_entry(object: PartialObjectMeta<NamespaceObject>) -> (String, Namespace) {
    let metadata = object.metadata;
    let name = metadata.name.unwrap_or_default();
    let namespace = Namespace {
        name: name.clone(),
        labels: metadata.labels.unwrap_or_default(),
        annotations: metadata.annotations.unwrap_or_default(),
    };
    (name, namespace)
}

fn object_entry(object: DynamicObject) -> (String, Value) {
    let key = format!(
        "{}/{}",
        object.metadata.namespace.as_deref().unwrap_or(""),
        object.metadata.name.as_deref().unwrap_or("")
    );
    // A DynamicObject is plain JSON already: this cannot fail.
    let value = serde_json::to_value(&object).unwrap_or(Value::Null);
    (key, value)
}

/// Follows one watch until the task is stopped: keeps its objects by key
/// and publishes them after the first list and after each batch of changes.
async fn keep<K, V: Clone>(
    kind: Kind,
    events: impl Stream<Item = Result<Event<K>, watcher::Error>> + Send,
    state: Arc<ClusterState>,
    entry: fn(K) -> (String, V),
    publish: impl Fn(&ClusterState, &BTreeMap<String, V>),
) {
    let events = events.default_backoff().ready_chunks(BATCH);
    futures::pin_mut!(events);
    let mut current = BTreeMap::new();
    // Objects of a list in progress; they replace `current` when it ends.
    let mut listing: Option<BTreeMap<String, V>> = None;
    let mut failing = false;
    while let Some(batch) = events.next().await {
        let mut changed = false;
        for event in batch {
            match event {
                Ok(event) => {
                    if failing {
                        failing = false;
                        tracing::info!("the watch of {} recovered", kind.as_str());
                    }
                    match event {
                        Event::Init => listing = Some(BTreeMap::new()),
                        Event::InitApply(object) => {
                            let (key, value) = entry(object);
                            listing.get_or_insert_default().insert(key, value);
                        }
                        Event::InitDone => {
                            current = listing.take().unwrap_or_default();
                            publish(&state, &current);
                            state.mark_synced(kind);
                            tracing::info!(
                                "the watch of {} synced: {} objects",
                                kind.as_str(),
                                current.len()
                            );
                            changed = false;
                        }
                        Event::Apply(object) => {
                            let (key, value) = entry(object);
                            current.insert(key, value);
                            changed = true;
                        }
                        Event::Delete(object) => {
                            current.remove(&entry(object).0);
                            changed = true;
                        }
                    }
                }
                Err(error) => {
                    failing = true;
                    tracing::warn!(
                        "the watch of {} failed (retried with backoff; the last state is kept): {error}",
                        kind.as_str()
                    );
                    state.record_error(kind, error.to_string());
                }
            }
        }
        if changed {
            publish(&state, &current);
        }
    }
}
