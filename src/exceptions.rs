//! Exceptions: findings ops have agreed to let through, for a reason, with
//! an owner, until a date (`CounselException`, `ClusterCounselException`;
//! the CRDs are in `charts/counsel/crds/exceptions.yaml`).
//!
//! Exception objects (JSON, from files or the cluster) are checked against
//! the loaded policies and ops' limits (`parse.rs`) and filed in an index by
//! policy, rule and namespace (`index.rs`). A review given [`Exceptions`]
//! (in its [`Context`](crate::review::Context)) marks every finding one
//! covers ([`Exceptions::apply`]): a live exception lets it through as a
//! warning that names the exception; an expired one is named in the
//! finding's message. `draft.rs` writes the exception a developer would ask
//! for.

mod draft;
mod index;
mod parse;

use std::fmt;
use std::time::SystemTime;

use counsel_edit::pointer;
use serde_json::Value;

use crate::config::ExceptionSettings;
use crate::explain::{Excepted, ExceptionStatus, Finding, field_path};
use crate::request::Request;
use crate::review::{Context, Reviewer};

pub use draft::{Draft, draft};
pub use index::Target;
pub use parse::{Exception, check, rfc3339};

/// The API group of Counsel's own objects.
pub const GROUP: &str = "counsel.dev";
/// The apiVersion of exception objects.
pub const API_VERSION: &str = "counsel.dev/v1alpha1";
/// The kind of an exception that applies in its own namespace.
pub const NAMESPACED_KIND: &str = "CounselException";
/// The kind of an exception that applies across namespaces.
pub const CLUSTER_KIND: &str = "ClusterCounselException";

/// The policies and rules exceptions may name.
pub trait Catalog {
    /// The configured policy names.
    fn policies(&self) -> Vec<&str>;
    /// The rule ids of a policy; `None` when it is not configured.
    fn rules(&self, policy: &str) -> Option<Vec<&str>>;
}

impl Catalog for Reviewer {
    fn policies(&self) -> Vec<&str> {
        Reviewer::policies(self).collect()
    }

    fn rules(&self, policy: &str) -> Option<Vec<&str>> {
        self.policy(policy)
            .map(|p| p.metadata().rules.iter().map(|r| r.id.as_str()).collect())
    }
}

/// One thing wrong with an exception object, at its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON Pointer to the field (`/spec/expires`).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// An exception object that cannot be used, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ExceptionError {
    /// `CounselException shop/legacy-root`.
    pub object: String,
    /// What is wrong, field by field.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ExceptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.object)?;
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(
                f,
                "{}: {}",
                field_path(&problem.pointer, None),
                problem.message
            )?;
        }
        Ok(())
    }
}

/// The exceptions a review applies, indexed.
#[derive(Debug, Default)]
pub struct Exceptions {
    index: index::Index,
    settings: ExceptionSettings,
    len: usize,
}

impl Exceptions {
    /// No exceptions, with `settings`.
    pub fn new(settings: ExceptionSettings) -> Exceptions {
        Exceptions {
            settings,
            ..Exceptions::default()
        }
    }

    /// Checks every object against the loaded policies and ops' limits at
    /// `now`, and indexes those that pass; the others are returned, each
    /// naming the object and its fields at fault. Objects come as read
    /// from files or the cluster (`CounselException`s must name their
    /// namespace).
    pub fn from_objects<'a>(
        objects: impl IntoIterator<Item = &'a Value>,
        catalog: &dyn Catalog,
        settings: ExceptionSettings,
        now: SystemTime,
    ) -> (Exceptions, Vec<ExceptionError>) {
        let mut exceptions = Exceptions::new(settings);
        let mut errors = Vec::new();
        for object in objects {
            match check(object, None, catalog, &settings, now) {
                Ok(exception) => exceptions.insert(exception),
                Err(error) => errors.push(error),
            }
        }
        (exceptions, errors)
    }

    /// Adds a checked exception.
    pub fn insert(&mut self, exception: Exception) {
        self.len += 1;
        self.index.insert(exception);
    }

    /// How many exceptions there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Ops' limits these were checked with.
    pub fn settings(&self) -> &ExceptionSettings {
        &self.settings
    }

    /// The exceptions that cover a finding of `policy`'s `rule` at `target`.
    pub fn covering<'s>(
        &'s self,
        policy: &str,
        rule: &str,
        target: &Target<'_>,
        container: Option<&str>,
    ) -> impl Iterator<Item = &'s Exception> {
        self.index.covering(policy, rule, target, container)
    }

    /// Marks every finding an exception covers (see [`Finding::except`]):
    /// of those that cover it, the live one that runs longest, else the one
    /// that expired last. `object` is the object as far as the findings'
    /// pointers reach (for container names).
    pub fn apply(
        &self,
        findings: &mut [Finding],
        target: &Target<'_>,
        object: Option<&Value>,
        now: SystemTime,
    ) {
        for finding in findings {
            let container = container_of(&finding.pointer, object);
            let chosen = self
                .covering(&finding.policy, &finding.rule, target, container)
                .max_by_key(|e| (e.expires > now, e.expires));
            if let Some(exception) = chosen {
                let status = match exception.expires.duration_since(now) {
                    Ok(left) if left > self.settings.warn_before => ExceptionStatus::Live { left },
                    Ok(left) if !left.is_zero() => ExceptionStatus::ExpiresSoon { left },
                    Ok(_) => ExceptionStatus::Expired {
                        ago: Default::default(),
                    },
                    Err(error) => ExceptionStatus::Expired {
                        ago: error.duration(),
                    },
                };
                finding.except(Excepted {
                    exception: exception.describe(),
                    name: exception.name.clone(),
                    namespace: exception.namespace.clone(),
                    reason: exception.reason.clone(),
                    owner: exception.owner.clone(),
                    expires: exception.expires_text.clone(),
                    ticket: exception.ticket.clone(),
                    status,
                    mode: finding.mode,
                });
            }
        }
    }
}

/// Where a request's object is, as exceptions match it.
pub fn target<'a>(request: &'a Request, context: &Context<'a>) -> Target<'a> {
    let subject = request.subject();
    Target {
        kind: &request.kind.kind,
        name: subject
            .and_then(|o| o.pointer("/metadata/name"))
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .or_else(|| {
                subject
                    .and_then(|o| o.pointer("/metadata/generateName"))
                    .and_then(Value::as_str)
            })
            .unwrap_or(&request.name),
        labels: subject
            .and_then(|o| o.pointer("/metadata/labels"))
            .and_then(Value::as_object),
        namespace: request.namespace.as_deref(),
        namespace_labels: context
            .namespace
            .filter(|ns| Some(ns.name.as_str()) == request.namespace.as_deref())
            .map(|ns| &ns.labels),
    }
}

/// The pointers of the container names a finding's pointers need:
/// `/spec/containers/0/name` for `/spec/containers/0/securityContext`.
pub fn container_name_pointer(path: &str) -> Option<String> {
    let tokens = pointer::tokens(path).ok()?;
    let at = tokens.windows(2).rposition(|pair| {
        matches!(
            pair[0].as_str(),
            "containers" | "initContainers" | "ephemeralContainers"
        ) && pair[1].bytes().all(|b| b.is_ascii_digit())
            && !pair[1].is_empty()
    })?;
    let mut out = String::new();
    for token in tokens.iter().take(at + 2) {
        out = pointer::push(&out, token);
    }
    Some(pointer::push(&out, "name"))
}

/// The name of the container a finding's pointer is in.
fn container_of<'o>(path: &str, object: Option<&'o Value>) -> Option<&'o str> {
    object?
        .pointer(&container_name_pointer(path)?)
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests;
