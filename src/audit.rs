//! What already runs: the background audit's conclusions about the objects
//! in the cluster, judged by the same `Reviewer` as admission.
//!
//! The audit (watches of every kind a policy matches, evaluation beside the
//! review path) publishes an [`AuditSnapshot`]; whoever reports on it
//! (OpenReports, Events, metrics) reads snapshots and never the audit's
//! internals.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::explain;

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
