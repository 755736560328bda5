//! What a request is judged on when the object already exists: only what
//! the request does to it.
//!
//! Denying a change for a violation it did not make wedges the object: an
//! object that predates a policy could then never be labelled, scaled or
//! have its finalizers removed, so it could never be deleted, and
//! controllers and the garbage collector stall on it. So:
//!
//! - Requests that cannot change what a policy judges are never denied:
//!   DELETE, writes to the `status` and `scale` subresources, and UPDATEs of
//!   an object being deleted that only remove finalizers.
//! - On any other UPDATE, a policy in `updates: changed` (the default) is
//!   asked about the stored object too, and a finding that was already there
//!   (same rule, same field, same value) becomes a warning that says so.
//!   Only what the update introduces or changes denies (or, in `fix` mode,
//!   gets fixed). `updates: strict` judges the whole updated object.
//!
//! The stored object is read and evaluated only for UPDATEs whose findings
//! would deny or be fixed, and only by the policies that made them.

use counsel_contract::Violation;
use serde_json::Value;

use crate::config::FailurePolicy;
use crate::explain::{Finding, Report};
use crate::request::{Operation, Request};

/// Subresources whose writes leave everything policies judge as it was.
const INERT_SUBRESOURCES: [&str; 2] = ["status", "scale"];

/// Members of `metadata` that change in an UPDATE that only removes
/// finalizers: the finalizers themselves, and the server's bookkeeping.
const FINALIZER_UPDATE: [&str; 3] = ["finalizers", "resourceVersion", "managedFields"];

/// Whether the request cannot change what policies judge, from its own
/// fields alone: a DELETE, or a write to a `status` or `scale` subresource.
pub(super) fn cannot_change(request: &Request) -> bool {
    request.operation == Operation::Delete
        || request
            .sub_resource
            .as_deref()
            .is_some_and(|sub| INERT_SUBRESOURCES.contains(&sub))
}

/// Whether `new` is `old`, being deleted, with nothing changed but
/// finalizers removed (and the server's bookkeeping).
pub(super) fn only_removes_finalizers(old: &Value, new: &Value) -> bool {
    let deleting = old
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|at| !at.is_null());
    if !deleting {
        return false;
    }
    let finalizers = |object: &Value| {
        object
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .to_vec()
    };
    let before = finalizers(old);
    finalizers(new).iter().all(|kept| before.contains(kept))
        && without_finalizer_update(old) == without_finalizer_update(new)
}

fn without_finalizer_update(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for member in FINALIZER_UPDATE {
            metadata.remove(member);
        }
    }
    object
}

/// The request a policy would have judged had the stored object of
/// `update` been created: what the policy says of the object as it was.
pub(super) fn as_created(update: Request) -> Request {
    Request {
        operation: Operation::Create,
        object: update.old_object,
        old_object: None,
        // UpdateOptions; a CREATE carries CreateOptions, and nothing here
        // was asked for.
        options: None,
        ..update
    }
}

/// Whether `finding` was already made of the stored object: the same rule,
/// at the same field, found with the same value.
pub(super) fn was_there(finding: &Finding, before: &[Violation]) -> bool {
    before.iter().any(|old| {
        old.rule == finding.rule && old.path == finding.pointer && old.found == finding.found
    })
}

/// Excuses everything of a request that cannot change the object: no
/// finding denies or is fixed, and a policy that failed does not deny.
pub(super) fn excuse_all(report: &mut Report) {
    for finding in &mut report.findings {
        finding.predates();
    }
    for failure in &mut report.failures {
        failure.failure_policy = FailurePolicy::Ignore;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deleting(finalizers: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "deletionTimestamp": "2026-01-01T00:00:00Z",
                "resourceVersion": "7", "finalizers": finalizers},
            "spec": {"replicas": 1}})
    }

    #[test]
    fn removing_finalizers_of_an_object_being_deleted_changes_nothing() {
        let old = deleting(json!(["a", "b"]));
        let mut new = deleting(json!(["b"]));
        new["metadata"]["resourceVersion"] = json!("8");
        assert!(only_removes_finalizers(&old, &new));
        assert!(only_removes_finalizers(&old, &deleting(json!([]))));
        // Adding one, or changing anything else, is a change.
        assert!(!only_removes_finalizers(
            &old,
            &deleting(json!(["a", "b", "c"]))
        ));
        let mut scaled = deleting(json!(["b"]));
        scaled["spec"]["replicas"] = json!(2);
        assert!(!only_removes_finalizers(&old, &scaled));
        // Not being deleted: the general rule applies.
        let mut alive = old.clone();
        alive["metadata"]
            .as_object_mut()
            .expect("metadata")
            .remove("deletionTimestamp");
        let mut alive_new = alive.clone();
        alive_new["metadata"]["finalizers"] = json!(["b"]);
        assert!(!only_removes_finalizers(&alive, &alive_new));
    }
}
