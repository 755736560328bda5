//! The webhook configurations: which requests the API server sends Counsel,
//! where, and how it trusts and waits for the answer.

use serde_json::{Value, json};

use super::Plan;
use super::layout::{EXCLUDED_NAMESPACES, NAMESPACE_NAME_LABEL, SERVICE_PORT, WEBHOOK_KINDS};

impl Plan {
    pub(super) fn validating_webhooks(&self) -> Value {
        let mut webhook = self.webhook("validate", "/validate");
        if let Some(rules) = webhook["rules"].as_array_mut() {
            rules.push(exception_rule());
        }
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": self.name, "labels": self.labels()},
            "webhooks": [webhook],
        })
    }

    /// Only deployed when a policy is in `fix` mode.
    pub(super) fn mutating_webhooks(&self) -> Value {
        let mut webhook = self.webhook("mutate", "/mutate");
        webhook["reinvocationPolicy"] = json!("Never");
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": self.name, "labels": self.labels()},
            "webhooks": [webhook],
        })
    }

    fn webhook(&self, verb: &str, path: &str) -> Value {
        json!({
            "name": format!("{verb}.{}.{}.svc", self.name, self.namespace),
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "failurePolicy": self.failure_policy,
            "timeoutSeconds": self.timeout_seconds,
            "matchPolicy": "Equivalent",
            "clientConfig": {
                "service": {
                    "name": self.name,
                    "namespace": self.namespace,
                    "path": path,
                    "port": SERVICE_PORT,
                },
                "caBundle": self.certs.ca_bundle(),
            },
            "namespaceSelector": {
                "matchExpressions": [{
                    "key": NAMESPACE_NAME_LABEL,
                    "operator": "NotIn",
                    "values": self.excluded_namespaces(),
                }],
            },
            "rules": rules(),
        })
    }

    /// kube-system and Counsel's own namespace: whatever a policy does,
    /// the control plane and Counsel itself can always be repaired.
    fn excluded_namespaces(&self) -> Vec<String> {
        let mut namespaces: Vec<String> = EXCLUDED_NAMESPACES
            .iter()
            .map(|namespace| (*namespace).to_owned())
            .collect();
        if !namespaces.contains(&self.namespace) {
            namespaces.push(self.namespace.clone());
        }
        namespaces
    }
}

/// One rule per API group for [`WEBHOOK_KINDS`]; `matchPolicy: Equivalent`
/// makes the API server send other versions of the same resources too.
pub fn rules() -> Value {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (_, group, resource) in WEBHOOK_KINDS {
        match groups.iter_mut().find(|(known, _)| known == group) {
            Some((_, resources)) => resources.push(resource),
            None => groups.push((group, vec![resource])),
        }
    }
    groups
        .into_iter()
        .map(|(group, resources)| {
            json!({
                "apiGroups": [group],
                "apiVersions": ["v1"],
                "resources": resources,
                "operations": ["CREATE", "UPDATE"],
                "scope": "*",
            })
        })
        .collect()
}

/// Counsel's own exception objects, which `/validate` checks itself (the
/// policy and rules exist, the lifetime is within ops' maximum); only the
/// validating webhook is sent them.
pub fn exception_rule() -> Value {
    json!({
        "apiGroups": [counsel::exceptions::GROUP],
        "apiVersions": ["v1alpha1"],
        "resources": ["counselexceptions", "clustercounselexceptions"],
        "operations": ["CREATE", "UPDATE"],
        "scope": "*",
    })
}
