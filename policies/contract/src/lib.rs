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
mod verdict;

use serde::{Deserialize, Serialize};

pub use catalog::{FixSafety, INVALID_FIELD, Metadata, Rule, Severity};
pub use counsel_edit::Edit;
pub use verdict::{Verdict, Violation};

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
    use super::Operation;

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
}
