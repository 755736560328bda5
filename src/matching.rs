//! Which policies see which request: kinds, operations, namespaces (by
//! name and by the namespace's labels) and the object's labels, as
//! configured (kinds default to the policy's own).
//!
//! A `namespaceSelector` follows Kubernetes' webhooks: a Namespace object is
//! matched by its own labels, any other cluster-scoped object is always
//! selected, and a namespace's name is its `kubernetes.io/metadata.name`
//! label (supplied here: API servers before 1.21 do not set it). A
//! namespace Counsel does not know (not synced yet, created a moment ago,
//! or not in `counsel check`'s input) is selected: a policy is never
//! skipped for want of knowing, so the unknown is judged, not let through.

use serde_json::Value;

use crate::config::{LabelExpression, LabelOperator, LabelSelector, Match};
use crate::request::Request;
use crate::review::Namespace;

/// The label every namespace carries with its own name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Whether a policy configured with `matcher`, whose metadata names
/// `default_kinds`, must see `request`, whose namespace (when it has one and
/// it is known) is `namespace`.
pub fn matches(
    matcher: &Match,
    default_kinds: &[String],
    request: &Request,
    namespace: Option<&Namespace>,
) -> bool {
    matcher.operations.contains(&request.operation)
        && kind_matches(
            matcher.kinds.as_deref().unwrap_or(default_kinds),
            &request.kind.kind,
        )
        && namespace_matches(matcher, request.namespace.as_deref())
        && namespace_selected(&matcher.namespace_selector, request, namespace)
        && selects(&matcher.object_selector, |key| {
            object_label(request.subject(), key)
        })
}

fn kind_matches(kinds: &[String], kind: &str) -> bool {
    kinds.is_empty() || kinds.iter().any(|k| k == "*" || k == kind)
}

fn namespace_matches(matcher: &Match, namespace: Option<&str>) -> bool {
    let listed = |patterns: &[String], name: &str| patterns.iter().any(|p| glob(p, name));
    match namespace {
        Some(ns) => {
            (matcher.include_namespaces.is_empty() || listed(&matcher.include_namespaces, ns))
                && !listed(&matcher.exclude_namespaces, ns)
        }
        // Cluster-scoped objects are in no namespace: an include list (which
        // names namespaces) leaves them out; an exclude list cannot.
        None => matcher.include_namespaces.is_empty(),
    }
}

/// `pattern` is a name, or a prefix followed by `*`.
pub fn glob(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

fn namespace_selected(
    selector: &LabelSelector,
    request: &Request,
    known: Option<&Namespace>,
) -> bool {
    if selector.is_empty() {
        return true;
    }
    // A Namespace by its own labels (the API server names a Namespace's
    // request after the namespace itself; its labels may be changing).
    if request.kind.kind == "Namespace" && request.kind.group.is_empty() {
        let object = request.subject();
        let name = object
            .and_then(|o| o.pointer("/metadata/name"))
            .and_then(Value::as_str)
            .unwrap_or(&request.name);
        return selects(selector, |key| {
            if key == NAMESPACE_NAME_LABEL {
                Some(name)
            } else {
                object_label(object, key)
            }
        });
    }
    match (&request.namespace, known) {
        (Some(name), Some(namespace)) => selects(selector, |key| {
            namespace_label(name, &namespace.labels, key)
        }),
        // Not known (see the module docs), or cluster-scoped, as
        // Kubernetes does: selected.
        _ => true,
    }
}

/// A namespace's label, its name label included.
pub fn namespace_label<'a>(
    name: &'a str,
    labels: &'a std::collections::BTreeMap<String, String>,
    key: &str,
) -> Option<&'a str> {
    if key == NAMESPACE_NAME_LABEL {
        Some(name)
    } else {
        labels.get(key).map(String::as_str)
    }
}

fn object_label<'a>(object: Option<&'a Value>, key: &str) -> Option<&'a str> {
    object
        .and_then(|o| o.pointer("/metadata/labels"))
        .and_then(Value::as_object)
        .and_then(|labels| labels.get(key))
        .and_then(Value::as_str)
}

/// Whether `selector` selects an object whose labels `label` reads.
pub fn selects<'a>(selector: &LabelSelector, label: impl Fn(&str) -> Option<&'a str>) -> bool {
    selector
        .match_labels
        .iter()
        .all(|(key, value)| label(key) == Some(value.as_str()))
        && selector
            .match_expressions
            .iter()
            .all(|e| expression_matches(e, label(&e.key)))
}

/// Whether a label's value (`None`: the label is absent) meets `expression`.
fn expression_matches(expression: &LabelExpression, value: Option<&str>) -> bool {
    let listed = || value.is_some_and(|v| expression.values.iter().any(|x| x == v));
    match expression.operator {
        LabelOperator::In => listed(),
        LabelOperator::NotIn => !listed(),
        LabelOperator::Exists => value.is_some(),
        LabelOperator::DoesNotExist => value.is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LabelSelector;
    use crate::request::Operation;
    use serde_json::json;

    fn request(kind: &str, namespace: Option<&str>, labels: Value) -> Request {
        let mut object = json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "x", "labels": labels}});
        if let Some(ns) = namespace {
            object["metadata"]["namespace"] = json!(ns);
        }
        Request::for_manifest(object, Operation::Create, None)
    }

    /// With no namespace known.
    fn matches(matcher: &Match, kinds: &[String], request: &Request) -> bool {
        super::matches(matcher, kinds, request, None)
    }

    fn namespace(name: &str, labels: &[(&str, &str)]) -> Namespace {
        Namespace {
            name: name.to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            annotations: Default::default(),
        }
    }

    fn selecting(selector: Value) -> Match {
        Match {
            namespace_selector: serde_json::from_value(selector).expect("a selector"),
            ..matcher()
        }
    }

    #[test]
    fn namespace_selector_reads_the_namespaces_labels() {
        let m = selecting(json!({
            "matchLabels": {"env": "prod"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["batch"]}]
        }));
        let pod = request("Pod", Some("shop"), json!({"env": "dev"}));
        let prod = namespace("shop", &[("env", "prod")]);
        assert!(super::matches(&m, &[], &pod, Some(&prod)));
        let batch = namespace("shop", &[("env", "prod"), ("tier", "batch")]);
        assert!(!super::matches(&m, &[], &pod, Some(&batch)));
        let dev = namespace("shop", &[("env", "dev")]);
        assert!(!super::matches(&m, &[], &pod, Some(&dev)));
        // The object's own labels are not the namespace's.
        let unlabelled = namespace("shop", &[]);
        let labelled_pod = request("Pod", Some("shop"), json!({"env": "prod"}));
        assert!(!super::matches(&m, &[], &labelled_pod, Some(&unlabelled)));
    }

    #[test]
    fn every_namespace_carries_its_name_as_a_label() {
        let m = selecting(json!({"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}
        ]}));
        let system = namespace("kube-system", &[]);
        let shop = namespace("shop", &[]);
        assert!(!super::matches(
            &m,
            &[],
            &request("Pod", Some("kube-system"), json!({})),
            Some(&system)
        ));
        assert!(super::matches(
            &m,
            &[],
            &request("Pod", Some("shop"), json!({})),
            Some(&shop)
        ));
        // Supplied from the name, whatever the label says.
        let lying = namespace("kube-system", &[("kubernetes.io/metadata.name", "shop")]);
        assert!(!super::matches(
            &m,
            &[],
            &request("Pod", Some("kube-system"), json!({})),
            Some(&lying)
        ));
    }

    #[test]
    fn unknown_namespaces_and_cluster_scoped_objects_are_selected() {
        let m = selecting(json!({"matchLabels": {"env": "prod"}}));
        assert!(matches(
            &m,
            &["Pod".into()],
            &request("Pod", Some("new"), json!({}))
        ));
        let role = request("ClusterRole", None, json!({}));
        assert!(matches(&m, &[], &role));
        // A Namespace is matched by its own labels and name.
        let mut ns = request("Namespace", None, json!({"env": "dev"}));
        ns.kind.group = String::new();
        assert!(!matches(&m, &[], &ns));
        let mut prod = request("Namespace", None, json!({"env": "prod"}));
        prod.kind.group = String::new();
        assert!(matches(&m, &[], &prod));
        let by_name = selecting(json!({"matchLabels": {"kubernetes.io/metadata.name": "x"}}));
        assert!(matches(&by_name, &[], &prod));
        // Its request names it as its own namespace; the new labels count,
        // not those last seen.
        prod.namespace = Some("x".to_owned());
        let stale = namespace("x", &[("env", "dev")]);
        assert!(super::matches(&m, &[], &prod, Some(&stale)));
    }

    fn matcher() -> Match {
        Match {
            operations: vec![Operation::Create, Operation::Update],
            ..Match::default()
        }
    }

    #[test]
    fn kinds_default_to_the_policys_own() {
        let deployment = request("Deployment", Some("a"), json!({}));
        let pods = vec!["Pod".to_owned()];
        assert!(!matches(&matcher(), &pods, &deployment));
        assert!(matches(&matcher(), &[], &deployment));
        let configured = Match {
            kinds: Some(vec!["Deployment".into()]),
            ..matcher()
        };
        assert!(matches(&configured, &pods, &deployment));
        let any = Match {
            kinds: Some(vec!["*".into()]),
            ..matcher()
        };
        assert!(matches(&any, &pods, &deployment));
    }

    #[test]
    fn operations_must_be_listed() {
        let mut delete = request("Pod", Some("a"), json!({}));
        delete.operation = Operation::Delete;
        assert!(!matches(&matcher(), &[], &delete));
    }

    #[test]
    fn namespaces_include_exclude_and_prefixes() {
        let m = Match {
            include_namespaces: vec!["team-*".into()],
            exclude_namespaces: vec!["team-infra".into()],
            ..matcher()
        };
        assert!(matches(
            &m,
            &[],
            &request("Pod", Some("team-shop"), json!({}))
        ));
        assert!(!matches(
            &m,
            &[],
            &request("Pod", Some("team-infra"), json!({}))
        ));
        assert!(!matches(
            &m,
            &[],
            &request("Pod", Some("default"), json!({}))
        ));
        assert!(!matches(&m, &[], &request("Namespace", None, json!({}))));
        let exclude_only = Match {
            exclude_namespaces: vec!["kube-system".into()],
            ..matcher()
        };
        assert!(matches(
            &exclude_only,
            &[],
            &request("Namespace", None, json!({}))
        ));
        assert!(!matches(
            &exclude_only,
            &[],
            &request("Pod", Some("kube-system"), json!({}))
        ));
    }

    #[test]
    fn object_selector() {
        let m = Match {
            object_selector: LabelSelector {
                match_labels: [("tier".to_owned(), "web".to_owned())].into(),
                match_expressions: vec![LabelExpression {
                    key: "legacy".into(),
                    operator: LabelOperator::DoesNotExist,
                    values: vec![],
                }],
            },
            ..matcher()
        };
        assert!(matches(
            &m,
            &[],
            &request("Pod", Some("a"), json!({"tier": "web"}))
        ));
        assert!(!matches(
            &m,
            &[],
            &request("Pod", Some("a"), json!({"tier": "web", "legacy": "1"}))
        ));
        assert!(!matches(&m, &[], &request("Pod", Some("a"), json!({}))));
        let not_in = Match {
            object_selector: LabelSelector {
                match_expressions: vec![LabelExpression {
                    key: "env".into(),
                    operator: LabelOperator::NotIn,
                    values: vec!["dev".into()],
                }],
                ..LabelSelector::default()
            },
            ..matcher()
        };
        assert!(matches(&not_in, &[], &request("Pod", Some("a"), json!({}))));
        assert!(!matches(
            &not_in,
            &[],
            &request("Pod", Some("a"), json!({"env": "dev"}))
        ));
    }
}
