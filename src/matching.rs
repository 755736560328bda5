//! Which policies see which request: kinds, operations, namespaces and the
//! object's labels, as configured (kinds default to the policy's own).

use serde_json::Value;

use crate::config::{LabelExpression, LabelOperator, Match};
use crate::request::Request;

/// Whether a policy configured with `matcher`, whose metadata names
/// `default_kinds`, must see `request`.
pub fn matches(matcher: &Match, default_kinds: &[String], request: &Request) -> bool {
    matcher.operations.contains(&request.operation)
        && kind_matches(
            matcher.kinds.as_deref().unwrap_or(default_kinds),
            &request.kind.kind,
        )
        && namespace_matches(matcher, request.namespace.as_deref())
        && labels_match(matcher, request.subject())
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

fn labels_match(matcher: &Match, object: Option<&Value>) -> bool {
    if matcher.match_labels.is_empty() && matcher.match_expressions.is_empty() {
        return true;
    }
    let labels = object
        .and_then(|o| o.pointer("/metadata/labels"))
        .and_then(Value::as_object);
    let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    matcher
        .match_labels
        .iter()
        .all(|(key, value)| label(key) == Some(value.as_str()))
        && matcher
            .match_expressions
            .iter()
            .all(|e| expression_matches(e, label(&e.key)))
}

/// Whether a label's value (`None`: the label is absent) meets `expression`.
pub fn expression_matches(expression: &LabelExpression, value: Option<&str>) -> bool {
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
    use crate::request::Operation;
    use serde_json::json;

    fn request(kind: &str, namespace: Option<&str>, labels: Value) -> Request {
        let mut object = json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "x", "labels": labels}});
        if let Some(ns) = namespace {
            object["metadata"]["namespace"] = json!(ns);
        }
        Request::for_manifest(object, Operation::Create, None)
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
            match_labels: [("tier".to_owned(), "web".to_owned())].into(),
            match_expressions: vec![LabelExpression {
                key: "legacy".into(),
                operator: LabelOperator::DoesNotExist,
                values: vec![],
            }],
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
            match_expressions: vec![LabelExpression {
                key: "env".into(),
                operator: LabelOperator::NotIn,
                values: vec!["dev".into()],
            }],
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
