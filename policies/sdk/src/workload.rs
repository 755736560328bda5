//! Find every PodSpec in a workload, and every container in a PodSpec, with
//! exact JSON Pointers.
//!
//! A rule written once against a PodSpec applies to every kind that carries
//! one, so a developer applying a Deployment hears about a bad container at
//! apply time, not later through a ReplicaSet event.
//!
//! | kind | PodSpec pointer |
//! | --- | --- |
//! | Pod | `/spec` |
//! | Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job | `/spec/template/spec` |
//! | CronJob | `/spec/jobTemplate/spec/template/spec` |
//! | PodTemplate | `/template/spec` |
//! | EphemeralContainers | `` (the object itself) |
//!
//! `EphemeralContainers` is what the API server sends for the
//! `pods/ephemeralcontainers` subresource (`kubectl debug`) on Kubernetes
//! 1.16 to 1.21: the pod's name and its `ephemeralContainers`, at the top,
//! and nothing else of the pod. It is read as a PodSpec holding only those
//! containers (`/ephemeralContainers/0`); pod-level fields read as unset,
//! since the object does not carry them. From 1.22 on the subresource sends
//! the whole Pod.
//!
//! Fields of the wrong type never panic: each is reported as an
//! `invalid-field` [`Violation`] at its pointer and skipped.
//!
//! ```
//! use counsel_policy::{json, workload};
//!
//! let deployment = json!({
//!     "kind": "Deployment",
//!     "spec": {"template": {"spec": {
//!         "initContainers": [{"name": "migrate"}],
//!         "containers": [{"name": "app"}, {"name": "sidecar"}],
//!     }}},
//! });
//! let found = workload::pod_specs(&deployment);
//! assert!(found.problems.is_empty());
//! let spec = &found.specs[0];
//! assert_eq!(spec.pointer, "/spec/template/spec");
//! let containers: Vec<_> = spec.containers().map(|c| (c.name, c.pointer)).collect();
//! assert_eq!(containers, [
//!     ("migrate", "/spec/template/spec/initContainers/0".to_string()),
//!     ("app", "/spec/template/spec/containers/0".to_string()),
//!     ("sidecar", "/spec/template/spec/containers/1".to_string()),
//! ]);
//! ```

mod containers;

pub use containers::{ContainerList, ContainerRef, Containers};

use serde_json::Value;

use crate::field::{self, Object};
use crate::node::Node;
use crate::pointer;
use crate::verdict::{Violation, invalid_field};
use counsel_edit::Reads;

/// The kind of the `pods/ephemeralcontainers` subresource's object on
/// Kubernetes 1.16 to 1.21 (see the module's documentation); not in
/// [`KINDS`], which carry a whole PodSpec.
pub const EPHEMERAL_CONTAINERS: &str = "EphemeralContainers";

/// Every kind [`pod_specs`] finds containers in: [`KINDS`] and
/// [`EPHEMERAL_CONTAINERS`], the default `kinds` of a workload policy.
pub const CONTAINER_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "PodTemplate",
    EPHEMERAL_CONTAINERS,
];

/// Every kind that carries a whole PodSpec, which [`pod_specs`] knows.
pub const KINDS: &[&str] = CONTAINER_KINDS.split_at(CONTAINER_KINDS.len() - 1).0;

/// [`CONTAINER_KINDS`] as owned strings, for
/// [`Metadata::kinds`](crate::Metadata::kinds).
pub fn kinds() -> Vec<String> {
    CONTAINER_KINDS
        .iter()
        .map(|kind| (*kind).to_owned())
        .collect()
}

/// What a policy that checks pod specs reads (for
/// [`Policy::reads`](crate::Policy::reads)): the `pod` fields of every PodSpec
/// (`hostNetwork`, `securityContext`), the `container` fields of every
/// container of every list (`image`, `securityContext/privileged`), and what
/// this module needs itself: `kind`, `apiVersion`, the name, namespace,
/// labels and annotations of the object and of its pod template, the
/// PodSpec's `os` and each container's `name`.
pub fn reads(pod: &[&'static str], container: &[&'static str]) -> Reads {
    const METADATA: [&str; 5] = ["name", "namespace", "generateName", "labels", "annotations"];
    // The patterns of one pod template, built once and shared by every kind.
    let mut template = Reads::nothing();
    for field in METADATA {
        template.add(["metadata", field]);
    }
    for field in pod.iter().chain(&["os"]) {
        template.add(std::iter::once("spec").chain(field.split('/')));
    }
    for list in ContainerList::ALL {
        for field in container.iter().chain(&["name"]) {
            template.add(
                ["spec", list.field(), "*"]
                    .into_iter()
                    .chain(field.split('/')),
            );
        }
    }
    let mut reads = Reads::only(["kind", "apiVersion"]);
    for path in KINDS.iter().filter_map(|kind| template_path(kind)) {
        reads.add_at(path, &template);
    }
    // EphemeralContainers: the metadata and the one container list at the
    // top of the object.
    for field in METADATA {
        reads.add(["metadata", field]);
    }
    for field in container.iter().chain(&["name"]) {
        reads.add(
            [ContainerList::Ephemeral.field(), "*"]
                .into_iter()
                .chain(field.split('/')),
        );
    }
    reads.finish()
}

/// The tokens leading from the object to the pod template (the object holding
/// `metadata` and `spec`) for `kind`; empty for a Pod, `None` for other kinds.
pub fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &[],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => &["spec", "template"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template"],
        "PodTemplate" => &["template"],
        _ => return None,
    })
}

/// The PodSpecs found in an object, and what was wrong on the way to them.
#[derive(Debug, Clone, PartialEq)]
pub struct PodSpecs<'a> {
    /// Each PodSpec (one for every known kind whose spec is present).
    pub specs: Vec<PodSpecRef<'a>>,
    /// `invalid-field` violations for wrongly typed fields on the way.
    pub problems: Vec<Violation>,
}

/// One PodSpec and where it lives.
#[derive(Debug, Clone, PartialEq)]
pub struct PodSpecRef<'a> {
    /// JSON Pointer of the PodSpec (`/spec/template/spec`).
    pub pointer: String,
    /// The PodSpec.
    pub spec: &'a Object,
    /// The pod's (or pod template's) metadata, for labels and annotations.
    pub metadata: Option<&'a Object>,
    /// JSON Pointer of that metadata, also when it is missing.
    pub metadata_pointer: String,
    /// The PodSpec and its metadata as JSON values, for [`PodSpecRef::node`].
    value: &'a Value,
    metadata_value: Option<&'a Value>,
}

/// Finds the PodSpecs in `object`, by its `kind`.
///
/// Kinds that carry no PodSpec yield nothing. A missing spec yields nothing
/// (it is not this SDK's job to require one); a spec or parent of the wrong
/// type is reported in [`PodSpecs::problems`].
pub fn pod_specs(object: &Value) -> PodSpecs<'_> {
    let mut found = PodSpecs {
        specs: Vec::new(),
        problems: Vec::new(),
    };
    let Some(root) = object.as_object() else {
        found.problems.push(invalid_field("", object, "an object"));
        return found;
    };
    let kind = match field::string(root, "kind", "") {
        Ok(kind) => kind,
        Err(problem) => {
            found.problems.push(problem);
            None
        }
    };
    if kind == Some(EPHEMERAL_CONTAINERS) {
        // The object stands for a PodSpec of ephemeral containers only.
        let metadata = field::object(root, "metadata", "").unwrap_or_else(|problem| {
            found.problems.push(problem);
            None
        });
        found.specs.push(PodSpecRef {
            pointer: String::new(),
            spec: root,
            metadata,
            metadata_pointer: "/metadata".to_owned(),
            value: object,
            metadata_value: metadata.and(object.get("metadata")),
        });
        return found;
    }
    let Some(path) = kind.and_then(template_path) else {
        return found;
    };

    // Walk down to the pod template; a missing step means there is no spec.
    let mut template = root;
    let mut template_pointer = String::new();
    for token in path {
        match field::object(template, token, &template_pointer) {
            Ok(Some(next)) => template = next,
            Ok(None) => return found,
            Err(problem) => {
                found.problems.push(problem);
                return found;
            }
        }
        template_pointer = pointer::push(&template_pointer, token);
    }

    let spec = match field::object(template, "spec", &template_pointer) {
        Ok(Some(spec)) => spec,
        Ok(None) => return found,
        Err(problem) => {
            found.problems.push(problem);
            return found;
        }
    };
    let metadata =
        field::object(template, "metadata", &template_pointer).unwrap_or_else(|problem| {
            found.problems.push(problem);
            None
        });
    // Both present as read above; the values are what `node()` wraps.
    let (Some(value), metadata_value) = (template.get("spec"), template.get("metadata")) else {
        return found;
    };
    found.specs.push(PodSpecRef {
        pointer: pointer::push(&template_pointer, "spec"),
        spec,
        metadata,
        metadata_pointer: pointer::push(&template_pointer, "metadata"),
        value,
        metadata_value: metadata.and(metadata_value),
    });
    found
}

impl<'a> PodSpecRef<'a> {
    /// Every container, in the order init, regular, ephemeral. Lists and
    /// entries of the wrong type are skipped (see
    /// [`container_problems`](Self::container_problems)).
    pub fn containers(&self) -> Containers<'a> {
        Containers::new(self.spec, self.pointer.clone())
    }

    /// `invalid-field` violations for container lists that are not arrays,
    /// entries that are not objects, and names that are not strings.
    pub fn container_problems(&self) -> Vec<Violation> {
        containers::problems(self.spec, &self.pointer)
    }

    /// The PodSpec as a [`Node`], for typed reads.
    pub fn node(&self) -> Node<'a> {
        Node::new(Some(self.value), self.pointer.clone())
    }

    /// The pod's (or pod template's) metadata as a [`Node`] (absent when
    /// missing), e.g. for [`Node::string_map`] of its annotations.
    pub fn metadata_node(&self) -> Node<'a> {
        Node::new(self.metadata_value, self.metadata_pointer.clone())
    }

    /// The pointer to a field below this PodSpec (`pointer_to(&["securityContext"])`).
    pub fn pointer_to(&self, tokens: &[&str]) -> String {
        tokens
            .iter()
            .fold(self.pointer.clone(), |at, token| pointer::push(&at, token))
    }

    /// `spec.os.name` (`linux`, `windows`), when set and a string.
    pub fn os_name(&self) -> Option<&'a str> {
        field::get(self.spec, "os")
            .and_then(|os| os.get("name"))
            .and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests;
