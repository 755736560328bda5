//! JSON Pointers as a developer reads them.

use crate::pointer;
use serde_json::Value;

/// Turns a JSON Pointer into the dotted path kubectl users know:
/// `/spec/containers/0/securityContext` becomes
/// `spec.containers[0].securityContext`, and keys that are not plain
/// identifiers are bracketed (`metadata.annotations["a.b/c"]`).
///
/// A number is an array index where the object has an array there, or where
/// the object does not reach that far (fixes point at fields to be created).
pub fn field_path(path: &str, object: Option<&Value>) -> String {
    let Ok(tokens) = pointer::tokens(path) else {
        return path.to_owned();
    };
    let mut out = String::new();
    let mut node = object;
    for token in &tokens {
        let is_index = match node {
            Some(Value::Array(_)) => true,
            Some(_) => false,
            None => {
                token == "-" || (!token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()))
            }
        };
        if is_index {
            out.push_str(&format!("[{token}]"));
        } else if !token.is_empty()
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(token);
        } else {
            out.push_str(&format!("[{}]", Value::String(token.clone())));
        }
        node = node.and_then(|n| match n {
            Value::Object(map) => map.get(token.as_str()),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn indices_and_keys() {
        let object =
            json!({"spec": {"containers": [{"name": "app"}]}, "metadata": {"labels": {"0": "x"}}});
        assert_eq!(
            field_path(
                "/spec/containers/0/securityContext/privileged",
                Some(&object)
            ),
            "spec.containers[0].securityContext.privileged"
        );
        assert_eq!(
            field_path("/metadata/labels/0", Some(&object)),
            "metadata.labels.0"
        );
        assert_eq!(
            field_path(
                "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app",
                Some(&object)
            ),
            "metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/app\"]"
        );
        assert_eq!(
            field_path("/spec/volumes/2/hostPath", None),
            "spec.volumes[2].hostPath"
        );
        assert_eq!(field_path("", Some(&object)), "");
        assert_eq!(field_path("not-a-pointer", None), "not-a-pointer");
    }
}
