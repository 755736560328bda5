//! The request a policy judges: an `AdmissionRequest` of `admission.k8s.io/v1`.
//!
//! The webhook receives it inside an AdmissionReview ([`Received`]: the JSON
//! as received, and of its objects only their identity); `counsel check`
//! builds one per manifest document ([`Request`], whole). Either way policies
//! get the same JSON, so a policy cannot tell a laptop from a cluster.
//! Objects stay raw JSON: no typed round trip reorders, drops or rejects what
//! the developer wrote.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod received;

pub use counsel_contract::Operation;
pub use received::Received;
pub(crate) use received::UniqueSkip;

/// An `AdmissionRequest` (admission.k8s.io/v1), field for field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// Identifies this request/response round trip.
    pub uid: String,
    /// The type of the object being submitted.
    pub kind: GroupVersionKind,
    /// The resource being requested.
    pub resource: GroupVersionResource,
    /// The subresource being requested, if any (`status`, `scale`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_resource: Option<String>,
    /// The type of the original API request, when it was converted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_kind: Option<GroupVersionKind>,
    /// The resource of the original API request, when it was converted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_resource: Option<GroupVersionResource>,
    /// The subresource of the original API request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_sub_resource: Option<String>,
    /// The object's name; empty when the server will generate it.
    #[serde(default)]
    pub name: String,
    /// The namespace, for namespaced resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// What is being done.
    pub operation: Operation,
    /// Who is doing it.
    #[serde(default)]
    pub user_info: UserInfo,
    /// The object as submitted; absent on DELETE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
    /// The object as stored; present on UPDATE and DELETE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_object: Option<Value>,
    /// True when nothing will be persisted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// The operation's options (`CreateOptions`, `DeleteOptions`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

/// A Kubernetes API group, version and kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionKind {
    /// API group; empty for the core group.
    #[serde(default)]
    pub group: String,
    /// API version within the group.
    #[serde(default)]
    pub version: String,
    /// The kind (`Deployment`).
    #[serde(default)]
    pub kind: String,
}

/// A Kubernetes API group, version and resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionResource {
    /// API group; empty for the core group.
    #[serde(default)]
    pub group: String,
    /// API version within the group.
    #[serde(default)]
    pub version: String,
    /// The plural resource name (`deployments`).
    #[serde(default)]
    pub resource: String,
}

/// The user making a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The user's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// A unique value that identifies the user across time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// The groups the user belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Further information from the authenticator.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

/// A request as a review takes it: what policies get, and how much of the
/// objects the host has read.
#[derive(Debug, Clone, Copy)]
pub enum Admission<'a> {
    /// Built or parsed whole (`counsel check`, an object patched by
    /// `/mutate`): policies get it serialised.
    Built(&'a Request),
    /// Read off the wire: policies get the JSON as received.
    Received(&'a Received),
}

impl<'a> From<&'a Request> for Admission<'a> {
    fn from(request: &'a Request) -> Self {
        Admission::Built(request)
    }
}

impl<'a> From<&'a Received> for Admission<'a> {
    fn from(received: &'a Received) -> Self {
        Admission::Received(received)
    }
}

impl<'a> Admission<'a> {
    /// The request's fields; of a received request's objects only their
    /// identity (see [`Received::request`]).
    pub fn request(self) -> &'a Request {
        match self {
            Admission::Built(request) => request,
            Admission::Received(received) => received.request(),
        }
    }

    /// The JSON policies get.
    pub fn to_json(self) -> Cow<'a, str> {
        match self {
            Admission::Built(request) => Cow::Owned(request.to_json()),
            Admission::Received(received) => Cow::Borrowed(received.json()),
        }
    }

    /// The request with its objects whole.
    pub fn whole(self) -> serde_json::Result<Cow<'a, Request>> {
        match self {
            Admission::Built(request) => Ok(Cow::Borrowed(request)),
            Admission::Received(received) => received.whole().map(Cow::Owned),
        }
    }

    /// The [subject](Request::subject), with at least its identity and,
    /// along each of `pointers`, what tells arrays from objects: enough to
    /// name the fields they point at.
    pub fn subject_reaching<'p>(
        self,
        pointers: impl IntoIterator<Item = &'p str>,
    ) -> Option<Cow<'a, Value>> {
        match self {
            Admission::Built(request) => request.subject().map(Cow::Borrowed),
            Admission::Received(received) => received.subject_reaching(pointers),
        }
    }
}

impl Request {
    /// The JSON policies get of a request built or parsed whole.
    pub fn to_json(&self) -> String {
        // Only strings, maps and JSON values, whose serialisation cannot
        // fail; were it to, an empty request must not reach policies.
        serde_json::to_string(self).expect("a Request always serialises")
    }

    /// The object the request is about: the submitted one, or on DELETE the
    /// stored one.
    pub fn subject(&self) -> Option<&Value> {
        self.object.as_ref().or(self.old_object.as_ref())
    }

    /// Builds the request `counsel check` makes for a manifest document:
    /// the resource and API group come from the object itself, the namespace
    /// too, else `default_namespace` (as `kubectl apply -n` does).
    pub fn for_manifest(
        object: Value,
        operation: Operation,
        default_namespace: Option<&str>,
    ) -> Request {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group.to_owned(), version.to_owned()),
            None => (String::new(), api_version.to_owned()),
        };
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let metadata = object.get("metadata");
        let field = |name: &str| {
            metadata
                .and_then(|m| m.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let name = field("name").unwrap_or_default();
        let namespace = field("namespace").or_else(|| default_namespace.map(str::to_owned));
        let resource = counsel_contract::resource_name(&kind);
        let (object, old_object) = match operation {
            Operation::Delete => (None, Some(object)),
            Operation::Update => (Some(object.clone()), Some(object)),
            Operation::Create | Operation::Connect => (Some(object), None),
        };
        Request {
            uid: String::new(),
            kind: GroupVersionKind {
                group: group.clone(),
                version: version.clone(),
                kind,
            },
            resource: GroupVersionResource {
                group,
                version,
                resource,
            },
            sub_resource: None,
            request_kind: None,
            request_resource: None,
            request_sub_resource: None,
            name,
            namespace,
            operation,
            user_info: UserInfo::default(),
            object,
            old_object,
            dry_run: Some(true),
            options: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plural_follows_kubernetes_resource_names() {
        for (kind, resource) in [
            ("Deployment", "deployments"),
            ("NetworkPolicy", "networkpolicies"),
            ("Ingress", "ingresses"),
            ("Endpoints", "endpoints"),
            ("Gateway", "gateways"),
            ("Pod", "pods"),
        ] {
            assert_eq!(counsel_contract::resource_name(kind), resource);
        }
    }

    #[test]
    fn manifest_request_has_the_wire_shape() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}});
        let request = Request::for_manifest(object.clone(), Operation::Create, None);
        let wire = serde_json::to_value(&request).expect("serialises");
        assert_eq!(
            wire,
            json!({
                "uid": "",
                "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
                "name": "web",
                "namespace": "shop",
                "operation": "CREATE",
                "userInfo": {},
                "object": object,
                "dryRun": true,
            })
        );
        let back: Request = serde_json::from_value(wire).expect("deserialises");
        assert_eq!(back, request);
    }

    #[test]
    fn delete_puts_the_object_in_old_object() {
        let object = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
        let request = Request::for_manifest(object.clone(), Operation::Delete, Some("dev"));
        assert_eq!(request.object, None);
        assert_eq!(request.subject(), Some(&object));
        assert_eq!(request.namespace.as_deref(), Some("dev"));
        assert_eq!(request.kind.group, "");
    }
}
