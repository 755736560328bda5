//! The vocabulary of Counsel's policy contract, in Rust.
//!
//! `wit/counsel.wit` is the contract itself; this crate is what both of its
//! sides speak in Rust: what a policy says about itself ([`Metadata`], its
//! catalog of [`Rule`]s with their [`Severity`] and [`FixSafety`]), what it
//! says about an object ([`Verdict`], made of [`Violation`]s whose fixes are
//! `counsel_edit` [`Edit`]s), and what a request does ([`Operation`]).
//!
//! The SDK (`counsel-policy`) re-exports these types for policy authors; the
//! host converts what crosses the WIT boundary into them once, in its engine,
//! after checking it. Nothing here knows of WebAssembly.
//!
//! A rule's texts are `&'static str` in a policy, which declares its rules as
//! constants, and `String` in the host, which reads them from a component:
//! [`Rule`] and [`Metadata`] take the text type as a parameter, `&'static str`
//! unless said otherwise.

mod catalog;
mod encoded;
mod verdict;

use serde::{Deserialize, Serialize};

pub use catalog::{FixSafety, INVALID_FIELD, Metadata, Rule, Severity};
pub use counsel_edit::Edit;
pub use encoded::{EncodedViolation, verdict_encoded_size};
pub use verdict::{Place, Verdict, Violation};

/// The resource name Kubernetes gives a kind when nothing says otherwise
/// (what `kubectl` and the API server guess from a kind): the kind in lower
/// case and plural, `+es` after `s`, `x`, `z`, `ch` or `sh`, `ies` for a
/// `y` after a consonant, `+s` otherwise, and the kinds that are plural
/// already (`Endpoints`) as they are.
pub fn resource_name(kind: &str) -> String {
    const ALREADY_PLURAL: [&str; 1] = ["endpoints"];
    let lower = kind.to_ascii_lowercase();
    if lower.is_empty() || ALREADY_PLURAL.contains(&lower.as_str()) {
        return lower;
    }
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.is_empty()
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if lower.ends_with(['s', 'x', 'z']) || lower.ends_with("ch") || lower.ends_with("sh") {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

/// What a request does to its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operation {
    /// A new object (`object` is set).
    Create,
    /// A change to an existing object (`object` and `oldObject` are set).
    Update,
    /// A deletion (only `oldObject` is set).
    Delete,
    /// A connection to a subresource (`kubectl exec`, attach, port-forward).
    Connect,
}

impl Operation {
    /// The Kubernetes spelling: `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }

    /// The operation of that Kubernetes spelling, if it is one.
    pub fn from_wire(name: &str) -> Option<Operation> {
        [
            Operation::Create,
            Operation::Update,
            Operation::Delete,
            Operation::Connect,
        ]
        .into_iter()
        .find(|operation| operation.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::{Operation, resource_name};

    #[test]
    fn operations_read_back_their_wire_names() {
        for operation in [
            Operation::Create,
            Operation::Update,
            Operation::Delete,
            Operation::Connect,
        ] {
            assert_eq!(Operation::from_wire(operation.as_str()), Some(operation));
            assert_eq!(
                serde_json::to_value(operation).ok(),
                Some(serde_json::Value::from(operation.as_str()))
            );
        }
        assert_eq!(Operation::from_wire("create"), None);
    }

    #[test]
    fn resource_names_follow_kubernetes() {
        for (kind, resource) in [
            ("Gateway", "gateways"),
            ("Ingress", "ingresses"),
            ("NetworkPolicy", "networkpolicies"),
            ("Endpoints", "endpoints"),
            ("Pod", "pods"),
            ("Deployment", "deployments"),
            ("ComponentStatus", "componentstatuses"),
            ("Box", "boxes"),
            ("Batch", "batches"),
            ("Mesh", "meshes"),
            ("Buzz", "buzzes"),
            ("", ""),
        ] {
            assert_eq!(resource_name(kind), resource, "{kind}");
        }
    }
}
