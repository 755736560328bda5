//! Fixes as an RFC 6902 JSON Patch, for the mutating webhook.
//!
//! The fix model is [`counsel_edit::Edit`]; this module only translates a
//! list of edits into the patch operations that do the same to the original
//! object: `add` for a field (with any missing parents created in one value),
//! `replace` for an existing one, `remove` for one that exists. Applying the
//! patch to the original gives exactly what [`counsel_edit::apply`] gives.

use counsel_edit::{Edit, EditError, pointer};
use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, Patch, PatchOperation, RemoveOperation, ReplaceOperation};
use serde_json::Value;

/// Why edits could not be turned into a patch.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// An edit does not apply to the object.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// A pointer is not valid for JSON Patch.
    #[error("{pointer:?} is not a JSON Pointer: {reason}")]
    Pointer {
        /// The pointer.
        pointer: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The JSON Patch that applies `edits`, in order, to `original`.
pub fn json_patch(original: &Value, edits: &[Edit]) -> Result<Patch, PatchError> {
    let mut current = original.clone();
    let mut operations = Vec::new();
    for edit in edits {
        match edit {
            Edit::Set { path, value } => {
                operations.push(set_operation(&current, path, value)?);
            }
            Edit::Remove { path } => {
                if current.pointer(path).is_some() {
                    operations.push(PatchOperation::Remove(RemoveOperation {
                        path: parse(path)?,
                    }));
                }
            }
        }
        counsel_edit::apply(&mut current, std::slice::from_ref(edit))?;
    }
    Ok(Patch(operations))
}

/// `replace` when the field exists; otherwise `add` at the first missing
/// token, with the missing parents built into the added value.
fn set_operation(current: &Value, path: &str, value: &Value) -> Result<PatchOperation, PatchError> {
    if current.pointer(path).is_some() && !path.ends_with("/-") {
        return Ok(PatchOperation::Replace(ReplaceOperation {
            path: parse(path)?,
            value: value.clone(),
        }));
    }
    let tokens = pointer::tokens(path).map_err(|e| PatchError::Pointer {
        pointer: path.to_owned(),
        reason: e.to_string(),
    })?;
    // The deepest ancestor that exists (and is not null: `securityContext:`
    // with no value is null, and counts as missing).
    let mut existing = 0;
    let mut node = current;
    for token in &tokens[..tokens.len().saturating_sub(1)] {
        let next = match node {
            Value::Object(map) => map.get(token.as_str()),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(child) if !child.is_null() => {
                node = child;
                existing += 1;
            }
            _ => break,
        }
    }
    let mut added = value.clone();
    for token in tokens[existing + 1..].iter().rev() {
        added = Value::Object([(token.clone(), added)].into_iter().collect());
    }
    let at = tokens[..=existing.min(tokens.len().saturating_sub(1))]
        .iter()
        .fold(String::new(), |at, token| pointer::push(&at, token));
    let replaces_null = node
        .get(tokens.get(existing).map_or("", String::as_str))
        .is_some_and(Value::is_null);
    Ok(if replaces_null {
        PatchOperation::Replace(ReplaceOperation {
            path: parse(&at)?,
            value: added,
        })
    } else {
        PatchOperation::Add(AddOperation {
            path: parse(&at)?,
            value: added,
        })
    })
}

fn parse(path: &str) -> Result<PointerBuf, PatchError> {
    PointerBuf::parse(path).map_err(|e| PatchError::Pointer {
        pointer: path.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(original: Value, edits: &[Edit], expected_patch: Value) {
        let patch = json_patch(&original, edits).expect("patch");
        assert_eq!(
            serde_json::to_value(&patch).expect("serialises"),
            expected_patch
        );
        let mut via_patch = original.clone();
        json_patch::patch(&mut via_patch, &patch).expect("the patch applies to the original");
        let mut via_edits = original;
        counsel_edit::apply(&mut via_edits, edits).expect("edits apply");
        assert_eq!(via_patch, via_edits);
    }

    #[test]
    fn replace_add_with_parents_and_remove() {
        let deployment = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "app", "securityContext": {"privileged": true}, "ports": [{"hostPort": 80}]}]
        }}}});
        check(
            deployment,
            &[
                Edit::set(
                    "/spec/template/spec/containers/0/securityContext/privileged",
                    json!(false),
                ),
                Edit::set(
                    "/spec/template/spec/securityContext/seccompProfile/type",
                    json!("RuntimeDefault"),
                ),
                Edit::set(
                    "/spec/template/spec/securityContext/runAsNonRoot",
                    json!(true),
                ),
                Edit::remove("/spec/template/spec/containers/0/ports/0/hostPort"),
                Edit::remove("/spec/template/spec/hostNetwork"),
            ],
            json!([
                {"op": "replace", "path": "/spec/template/spec/containers/0/securityContext/privileged", "value": false},
                {"op": "add", "path": "/spec/template/spec/securityContext", "value": {"seccompProfile": {"type": "RuntimeDefault"}}},
                {"op": "add", "path": "/spec/template/spec/securityContext/runAsNonRoot", "value": true},
                {"op": "remove", "path": "/spec/template/spec/containers/0/ports/0/hostPort"},
            ]),
        );
    }

    #[test]
    fn a_null_parent_is_replaced_and_escapes_survive() {
        check(
            json!({"metadata": {"annotations": null}, "spec": {"securityContext": null}}),
            &[
                Edit::set("/spec/securityContext/runAsNonRoot", json!(true)),
                Edit::set(
                    "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app",
                    json!("runtime/default"),
                ),
            ],
            json!([
                {"op": "replace", "path": "/spec/securityContext", "value": {"runAsNonRoot": true}},
                {"op": "replace", "path": "/metadata/annotations", "value": {"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}},
            ]),
        );
    }

    #[test]
    fn appending_to_a_list() {
        check(
            json!({"drop": ["NET_RAW"]}),
            &[Edit::set("/drop/-", json!("ALL"))],
            json!([{"op": "add", "path": "/drop/-", "value": "ALL"}]),
        );
    }
}
