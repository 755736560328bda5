//! What a review knows besides the request itself: the namespace the object
//! is in, as the cluster (or `counsel check`'s input) describes it, and the
//! time of the review. The webhook fills it from its watches; `counsel
//! check` from its input and options; the review reads nothing else.
//! Exceptions are part of it, so the webhook and `counsel check` given the
//! same exception objects agree on them too.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::exceptions::Exceptions;

/// A namespace as Counsel knows it: its labels (what a
/// `namespaceSelector` matches) and annotations (which may name its owner).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespace {
    /// The namespace's name.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its annotations.
    pub annotations: BTreeMap<String, String>,
}

/// The namespace annotation naming the team that owns a namespace.
pub const OWNER_ANNOTATION: &str = "counsel.dev/owner";
/// The namespace annotation saying how to reach its owner.
pub const CONTACT_ANNOTATION: &str = "counsel.dev/contact";

impl Namespace {
    /// Whom to ask about objects in this namespace, as its annotations say
    /// (`team-a, #team-a on Slack (owns namespace shop)`); `None` when they
    /// say nothing.
    pub fn owner(&self) -> Option<String> {
        let annotation = |key| {
            self.annotations
                .get(key)
                .map(|value: &String| value.trim())
                .filter(|value| !value.is_empty())
        };
        let who: Vec<&str> = [OWNER_ANNOTATION, CONTACT_ANNOTATION]
            .into_iter()
            .filter_map(annotation)
            .collect();
        (!who.is_empty()).then(|| format!("{} (owns namespace {})", who.join(", "), self.name))
    }
}

/// What a review knows besides the request.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The request's namespace, when the request has one and it is known.
    pub namespace: Option<&'a Namespace>,
    /// When the review happens.
    pub now: SystemTime,
    /// The exceptions that apply (see [`crate::exceptions`]).
    pub exceptions: Option<&'a Exceptions>,
}

impl Context<'_> {
    /// Nothing known besides the request, now.
    pub fn alone() -> Context<'static> {
        Context {
            namespace: None,
            now: SystemTime::now(),
            exceptions: None,
        }
    }
}
