//! The namespaces `counsel check` knows: those given with
//! `--namespace-labels`, and the Namespace objects of its input (as they
//! are read: a Namespace counts for the objects after it), which replace a
//! given one of the same name. A namespace known neither way is unknown,
//! and a `namespaceSelector` selects it, as the webhook does.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use counsel::review::Namespace;
use serde_json::Value;

/// The namespaces known so far.
#[derive(Debug, Default)]
pub struct KnownNamespaces {
    known: RefCell<HashMap<String, Namespace>>,
}

impl KnownNamespaces {
    /// Starts with the namespaces given on the command line.
    pub fn new(given: &[Namespace]) -> KnownNamespaces {
        KnownNamespaces {
            known: RefCell::new(
                given
                    .iter()
                    .map(|namespace| (namespace.name.clone(), namespace.clone()))
                    .collect(),
            ),
        }
    }

    /// Learns `object` if it is a Namespace.
    pub fn learn(&self, object: &Value) {
        if object.get("apiVersion").and_then(Value::as_str) != Some("v1")
            || object.get("kind").and_then(Value::as_str) != Some("Namespace")
        {
            return;
        }
        let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str) else {
            return;
        };
        let strings = |pointer| -> BTreeMap<String, String> {
            object
                .pointer(pointer)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
                .collect()
        };
        let namespace = Namespace {
            name: name.to_owned(),
            labels: strings("/metadata/labels"),
            annotations: strings("/metadata/annotations"),
        };
        self.known.borrow_mut().insert(name.to_owned(), namespace);
    }

    /// The namespace of that name, when known.
    pub fn get(&self, name: &str) -> Option<Namespace> {
        self.known.borrow().get(name).cloned()
    }
}

/// Parses `NAME=KEY=VALUE,KEY=VALUE` (`--namespace-labels`): the labels of
/// namespace NAME. `NAME=` gives a namespace with no labels.
pub fn parse_namespace_labels(text: &str) -> Result<Namespace, String> {
    let (name, labels) = text.split_once('=').ok_or_else(|| {
        format!("{text:?}: expected NAME=KEY=VALUE[,KEY=VALUE...], e.g. shop=env=prod,tier=web")
    })?;
    if name.is_empty() {
        return Err(format!("{text:?}: the namespace name is empty"));
    }
    let mut namespace = Namespace {
        name: name.to_owned(),
        ..Namespace::default()
    };
    for label in labels.split(',').filter(|label| !label.is_empty()) {
        let (key, value) = label
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: label {label:?} has no `=VALUE`"))?;
        if key.is_empty() {
            return Err(format!("{text:?}: label {label:?} has an empty key"));
        }
        namespace.labels.insert(key.to_owned(), value.to_owned());
    }
    Ok(namespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_from_the_option() {
        let shop = parse_namespace_labels("shop=env=prod,tier=web").expect("parses");
        assert_eq!(shop.name, "shop");
        assert_eq!(
            shop.labels,
            BTreeMap::from([
                ("env".to_owned(), "prod".to_owned()),
                ("tier".to_owned(), "web".to_owned())
            ])
        );
        assert!(
            parse_namespace_labels("bare=")
                .expect("parses")
                .labels
                .is_empty()
        );
        assert_eq!(
            parse_namespace_labels("shop").unwrap_err(),
            "\"shop\": expected NAME=KEY=VALUE[,KEY=VALUE...], e.g. shop=env=prod,tier=web"
        );
        assert_eq!(
            parse_namespace_labels("shop=env").unwrap_err(),
            "\"shop=env\": label \"env\" has no `=VALUE`"
        );
        assert_eq!(
            parse_namespace_labels("=env=prod").unwrap_err(),
            "\"=env=prod\": the namespace name is empty"
        );
    }

    #[test]
    fn namespace_objects_replace_given_ones() {
        let known =
            KnownNamespaces::new(&[parse_namespace_labels("shop=env=dev").expect("parses")]);
        known
            .learn(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shop"}}));
        assert_eq!(
            known
                .get("shop")
                .map(|n| n.labels["env"].clone())
                .as_deref(),
            Some("dev")
        );
        known.learn(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "shop", "labels": {"env": "prod"}, "annotations": {"counsel.dev/owner": "team-shop"}
        }}));
        let shop = known.get("shop").expect("known");
        assert_eq!(shop.labels["env"], "prod");
        assert_eq!(shop.annotations["counsel.dev/owner"], "team-shop");
        assert_eq!(known.get("other"), None);
    }
}
