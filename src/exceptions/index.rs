//! Exceptions by policy, rule and namespace: a finding looks up only the
//! exceptions that could cover it, never scans them all.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::Exception;
use crate::matching;

/// Where a finding is: what an exception must match.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The object's kind.
    pub kind: &'a str,
    /// The object's name (or `generateName`).
    pub name: &'a str,
    /// The object's labels.
    pub labels: Option<&'a Map<String, Value>>,
    /// The object's namespace; `None` for cluster-scoped objects.
    pub namespace: Option<&'a str>,
    /// The namespace's labels, when the namespace is known.
    pub namespace_labels: Option<&'a BTreeMap<String, String>>,
}

/// The exceptions of one policy rule.
#[derive(Debug, Default)]
struct Bucket {
    /// Those that name their namespace (every `CounselException`, and
    /// cluster-wide ones listing exact names), by namespace.
    in_namespace: HashMap<String, Vec<Arc<Exception>>>,
    /// Cluster-wide ones that select namespaces otherwise (prefixes,
    /// labels) or not at all: matched one by one.
    elsewhere: Vec<Arc<Exception>>,
}

/// Exceptions looked up by (policy, rule), then namespace.
#[derive(Debug, Default)]
pub struct Index {
    by_rule: HashMap<String, HashMap<String, Bucket>>,
}

impl Index {
    pub fn insert(&mut self, exception: Exception) {
        let exception = Arc::new(exception);
        let rules = self.by_rule.entry(exception.policy.clone()).or_default();
        for rule in &exception.rules {
            let bucket = rules.entry(rule.clone()).or_default();
            let exact: Option<Vec<&str>> = match &exception.namespace {
                Some(namespace) => Some(vec![namespace.as_str()]),
                None if exception.namespace_selector.is_none()
                    && !exception.namespaces.is_empty()
                    && exception.namespaces.iter().all(|n| !n.ends_with('*')) =>
                {
                    Some(exception.namespaces.iter().map(String::as_str).collect())
                }
                None => None,
            };
            match exact {
                Some(namespaces) => {
                    for namespace in namespaces {
                        let list = bucket.in_namespace.entry(namespace.to_owned()).or_default();
                        // Listed twice in one exception, kept once.
                        if !list.iter().any(|e| Arc::ptr_eq(e, &exception)) {
                            list.push(exception.clone());
                        }
                    }
                }
                None => bucket.elsewhere.push(exception.clone()),
            }
        }
    }

    /// The exceptions that cover a finding of `policy`'s `rule` at `target`,
    /// in `container` (when the finding is in one).
    pub fn covering<'s>(
        &'s self,
        policy: &str,
        rule: &str,
        target: &Target<'_>,
        container: Option<&str>,
    ) -> impl Iterator<Item = &'s Exception> {
        let bucket = self.by_rule.get(policy).and_then(|rules| rules.get(rule));
        let named = bucket
            .zip(target.namespace)
            .and_then(|(bucket, namespace)| bucket.in_namespace.get(namespace))
            .into_iter()
            .flatten();
        let elsewhere = bucket.into_iter().flat_map(|b| b.elsewhere.iter());
        let target = *target;
        let container = container.map(str::to_owned);
        named
            .chain(elsewhere.filter(move |e| namespace_matches(e, &target)))
            .map(Arc::as_ref)
            .filter(move |e| object_matches(e, &target, container.as_deref()))
    }
}

/// For the exceptions not filed under their namespace.
fn namespace_matches(exception: &Exception, target: &Target<'_>) -> bool {
    if exception.namespaces.is_empty() && exception.namespace_selector.is_none() {
        return true;
    }
    let Some(namespace) = target.namespace else {
        // Naming namespaces leaves cluster-scoped objects out.
        return false;
    };
    let listed = exception.namespaces.is_empty()
        || exception
            .namespaces
            .iter()
            .any(|p| matching::glob(p, namespace));
    let selected = exception
        .namespace_selector
        .as_ref()
        .is_none_or(|selector| {
            // Every namespace carries its name as a label (Kubernetes 1.21+);
            // a namespace Counsel knows nothing else of still has that.
            let label = |key: &str| match target.namespace_labels.and_then(|l| l.get(key)) {
                Some(value) => Some(value.as_str()),
                None if key == "kubernetes.io/metadata.name" => Some(namespace),
                None => None,
            };
            matching::selects(selector, label)
        });
    listed && selected
}

fn object_matches(exception: &Exception, target: &Target<'_>, container: Option<&str>) -> bool {
    exception.kinds.iter().any(|k| k == "*" || k == target.kind)
        && (exception.names.is_empty()
            || exception
                .names
                .iter()
                .any(|p| matching::glob(p, target.name)))
        && matching::selects(&exception.selector, |key| {
            target
                .labels
                .and_then(|labels| labels.get(key))
                .and_then(Value::as_str)
        })
        && (exception.containers.is_empty()
            || container.is_some_and(|c| exception.containers.iter().any(|x| x == c)))
}
