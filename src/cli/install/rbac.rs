//! What Counsel may read of the cluster, and its CRDs: a ClusterRole that
//! grants exactly what `counsel serve`'s watches use (list and watch of
//! namespaces, of both exception kinds, and for the background audit of
//! the kinds the default policies match), bound to Counsel's
//! ServiceAccount; the CRDs are the chart's own file.

use serde_json::{Value, json};

use super::Plan;

/// The chart's CRDs, shipped as they are.
pub const CRDS: &str = include_str!("../../../charts/counsel/crds/exceptions.yaml");

/// The rules of Counsel's ClusterRole (the chart's `rbac.yaml` says the
/// same; `tests/chart.rs` compares them).
pub fn cluster_role_rules() -> Value {
    json!([
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]},
        {
            "apiGroups": ["counsel.dev"],
            "resources": ["counselexceptions", "clustercounselexceptions"],
            "verbs": ["list", "watch"],
        },
        // The background audit: the workload kinds the default policies match.
        {
            "apiGroups": [""],
            "resources": ["pods", "replicationcontrollers", "podtemplates"],
            "verbs": ["list", "watch"],
        },
        {
            "apiGroups": ["apps"],
            "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"],
            "verbs": ["list", "watch"],
        },
        {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": ["list", "watch"]},
    ])
}

impl Plan {
    pub(super) fn cluster_role(&self) -> Value {
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": self.name, "labels": self.labels()},
            "rules": cluster_role_rules(),
        })
    }

    pub(super) fn cluster_role_binding(&self) -> Value {
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": self.name, "labels": self.labels()},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": self.name,
            },
            "subjects": [{
                "kind": "ServiceAccount",
                "name": self.name,
                "namespace": self.namespace,
            }],
        })
    }
}
