//! What Counsel may do in the cluster, and its CRDs: a ClusterRole that
//! grants exactly what `counsel serve` uses (list and watch of namespaces,
//! of both exception kinds and, for the background audit, of the kinds the
//! default policies match; OpenReports it writes; Events), and a Role in its
//! own namespace for the Lease of its leader election, both bound to
//! Counsel's ServiceAccount; the CRDs are the chart's own files.

use serde_json::{Value, json};

use super::Plan;

/// The chart's CRDs, shipped as they are.
pub const CRDS: &str = include_str!("../../../charts/counsel/crds/exceptions.yaml");

/// The OpenReports CRDs (`Report`, `ClusterReport`), the chart's file as it is.
pub const REPORT_CRDS: &str = include_str!("../../../charts/counsel/crds/openreports.yaml");

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
        // The report writer lists its own reports, applies them
        // (server-side apply creates through patch) and deletes them.
        {
            "apiGroups": ["openreports.io"],
            "resources": ["reports", "clusterreports"],
            "verbs": ["list", "create", "patch", "delete"],
        },
        // An Event is created, then its series counted by patching it.
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
    ])
}

/// The rules of Counsel's Role in its own namespace: the Lease of the
/// leader election (read, created once, renewed by replacing it).
pub fn role_rules() -> Value {
    json!([
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]},
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

    pub(super) fn role(&self) -> Value {
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": self.labels()},
            "rules": role_rules(),
        })
    }

    pub(super) fn role_binding(&self) -> Value {
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": self.labels()},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": self.name,
            },
            "subjects": [{
                "kind": "ServiceAccount",
                "name": self.name,
                "namespace": self.namespace,
            }],
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
