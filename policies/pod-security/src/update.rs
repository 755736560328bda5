//! Which admission requests Pod Security Admission evaluates at all.

use counsel_policy::workload;
use counsel_policy::{Operation, Request, Value};

/// Pod subresources PSA never evaluates.
const SKIPPED_POD_SUBRESOURCES: [&str; 8] = [
    "exec",
    "attach",
    "binding",
    "eviction",
    "log",
    "portforward",
    "proxy",
    "status",
];

/// Whether PSA evaluates `request`: CREATE and UPDATE only; for Pods every
/// subresource but the skipped ones (so `ephemeralcontainers` is evaluated),
/// for templates none; and a Pod UPDATE only when it changes what runs (the
/// rest of a pod spec is immutable, so an old pod is not rejected for a
/// label change).
pub fn evaluated(request: &Request) -> bool {
    if !matches!(request.operation(), Operation::Create | Operation::Update) {
        return false;
    }
    // Kubernetes 1.16-1.21 send pods/ephemeralcontainers as an
    // EphemeralContainers object: only the ephemeral containers, which are
    // all that such an update can change, so it is always evaluated.
    if request.kind() == workload::EPHEMERAL_CONTAINERS {
        return request.sub_resource() == Some("ephemeralcontainers");
    }
    let pod = request.kind() == "Pod";
    match request.sub_resource() {
        Some(sub) if !pod || SKIPPED_POD_SUBRESOURCES.contains(&sub) => return false,
        _ => {}
    }
    if pod && matches!(request.operation(), Operation::Update) {
        return match (request.object(), request.old_object()) {
            (Some(new), Some(old)) => significant_pod_update(new, old),
            _ => true,
        };
    }
    true
}

/// The container list `field` of a pod; `None` when it is not a list (the
/// update is then evaluated, and the bad field reported).
fn list<'a>(pod: &'a Value, field: &str) -> Option<&'a [Value]> {
    match pod.get("spec").and_then(|spec| spec.get(field)) {
        None | Some(Value::Null) => Some(&[]),
        Some(Value::Array(items)) => Some(items),
        Some(_) => None,
    }
}

fn image(container: &Value) -> Option<&Value> {
    container.get("image")
}

/// PSA's rule: the number of containers or init containers changed, an
/// image of one of them changed, or an ephemeral container was added or
/// changed its image.
fn significant_pod_update(new: &Value, old: &Value) -> bool {
    for field in ["containers", "initContainers"] {
        let (Some(new), Some(old)) = (list(new, field), list(old, field)) else {
            return true;
        };
        if new.len() != old.len() || new.iter().zip(old).any(|(n, o)| image(n) != image(o)) {
            return true;
        }
    }
    let (Some(new), Some(old)) = (
        list(new, "ephemeralContainers"),
        list(old, "ephemeralContainers"),
    ) else {
        return true;
    };
    new.iter().any(|container| {
        let name = container.get("name");
        match old.iter().find(|o| o.get("name") == name) {
            None => true,
            Some(previous) => image(previous) != image(container),
        }
    })
}
