//! One kube-runtime watcher per audited resource: it lists the resource,
//! then follows its changes, and tells the coordinator what it sees, each
//! object already reduced to what the audit keeps of it ([`Held`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::StreamExt as _;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::WatchStreamExt as _;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::ObjectKey;

/// A watched resource, as its objects' keys name it: `(apiVersion, kind)`.
pub type WatchId = (String, String);

/// What the audit keeps of an object: its identity, and the object itself
/// as compact JSON (the one copy held, without `metadata.managedFields`,
/// which are the API server's bookkeeping and no policy's concern).
#[derive(Debug)]
pub struct Held {
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.resourceVersion`.
    pub resource_version: String,
    /// The object.
    pub json: Box<str>,
}

/// What a watch tells the coordinator.
#[derive(Debug)]
pub enum Seen {
    /// A (re)list begins.
    Listing(WatchId),
    /// The object is as given (listed, created or changed).
    Object(WatchId, ObjectKey, Arc<Held>),
    /// The object is gone, or is no longer audited here (a controller now
    /// owns it).
    Gone(WatchId, ObjectKey),
    /// The list that began is complete.
    Listed(WatchId),
    /// The API server refuses to list the resource (forbidden, or not
    /// found): until it does, the audit goes on without it.
    Refused(WatchId),
}

/// Starts watching `resource`, sending what it sees to `seen`. Objects a
/// controller of a kind in `controllers` owns are reported at their
/// controller, so they are passed on as gone.
pub fn start(
    client: &kube::Client,
    resource: &ApiResource,
    controllers: Arc<BTreeSet<String>>,
    seen: mpsc::Sender<Seen>,
) -> JoinHandle<()> {
    let api = Api::<DynamicObject>::all_with(client.clone(), resource);
    let id: WatchId = (resource.api_version.clone(), resource.kind.clone());
    let events = watcher::watcher(api, watcher::Config::default()).default_backoff();
    tokio::spawn(async move {
        futures::pin_mut!(events);
        let mut failing = false;
        while let Some(event) = events.next().await {
            let message = match event {
                Ok(event) => {
                    if std::mem::take(&mut failing) {
                        tracing::info!("the audit's watch of {} recovered", id.1);
                    }
                    match event {
                        Event::Init => Seen::Listing(id.clone()),
                        Event::InitDone => Seen::Listed(id.clone()),
                        Event::InitApply(object) | Event::Apply(object) => {
                            match hold(&id, object, &controllers) {
                                (key, Some(held)) => Seen::Object(id.clone(), key, Arc::new(held)),
                                (key, None) => Seen::Gone(id.clone(), key),
                            }
                        }
                        Event::Delete(object) => Seen::Gone(id.clone(), key_of(&id, &object)),
                    }
                }
                Err(error) => {
                    let first = !std::mem::replace(&mut failing, true);
                    tracing::warn!(
                        "the audit's watch of {} failed (retried with backoff; what it saw is kept): {error}",
                        id.1
                    );
                    if first && refused(&error) {
                        Seen::Refused(id.clone())
                    } else {
                        continue;
                    }
                }
            };
            if seen.send(message).await.is_err() {
                return;
            }
        }
    })
}

/// Whether the API server refused to list the resource: no permission
/// (403) or no such resource (404); retrying will not change that soon.
fn refused(error: &watcher::Error) -> bool {
    matches!(
        error,
        watcher::Error::InitialListFailed(kube::Error::Api(status))
            if status.code == 403 || status.code == 404
    )
}

fn key_of(id: &WatchId, object: &DynamicObject) -> ObjectKey {
    ObjectKey {
        namespace: object.metadata.namespace.clone(),
        api_version: id.0.clone(),
        kind: id.1.clone(),
        name: object.metadata.name.clone().unwrap_or_default(),
    }
}

/// The object's key, and what is kept of it: `None` when a controller of
/// a kind in `controllers` owns it (it is reported at its controller).
fn hold(
    id: &WatchId,
    object: DynamicObject,
    controllers: &BTreeSet<String>,
) -> (ObjectKey, Option<Held>) {
    let key = key_of(id, &object);
    let metadata = &object.metadata;
    let uid = metadata.uid.clone().unwrap_or_default();
    let resource_version = metadata.resource_version.clone().unwrap_or_default();
    let Ok(mut value) = serde_json::to_value(&object) else {
        return (key, None);
    };
    drop(object);
    if super::controller(&value).is_some_and(|(kind, _)| controllers.contains(kind)) {
        return (key, None);
    }
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    // Items of a list carry no apiVersion and kind; policies need them.
    if let Some(fields) = value.as_object_mut() {
        fields.insert("apiVersion".to_owned(), Value::String(id.0.clone()));
        fields.insert("kind".to_owned(), Value::String(id.1.clone()));
    }
    let held = serde_json::to_string(&value).ok().map(|json| Held {
        uid,
        resource_version,
        json: json.into_boxed_str(),
    });
    (key, held)
}
