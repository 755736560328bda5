//! Counsel's own objects: namespace, ServiceAccount, ConfigMap, TLS Secret,
//! Service, Deployment and PodDisruptionBudget.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use super::Plan;
use super::layout::{
    CACHE_DIR, CONFIG_DIR, CONFIG_FILE, CONFIG_MAP_SUFFIX, NAMESPACE_NAME_LABEL, OPS_PORT,
    OPS_PORT_NAME, RUN_AS, SERVICE_PORT, SHUTDOWN_DELAY_SECONDS, TERMINATION_GRACE_SECONDS,
    TLS_DIR, TLS_SECRET_SUFFIX, WEBHOOK_PORT, WEBHOOK_PORT_NAME,
};

impl Plan {
    /// The namespace, enforcing the restricted Pod Security Standard that
    /// Counsel's own pods meet. Labelled with its name, as Kubernetes does
    /// from 1.21 on, so that the webhooks leave it out on 1.20 too.
    pub(super) fn namespace_object(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": self.namespace,
                "labels": {
                    "app.kubernetes.io/name": "counsel",
                    "app.kubernetes.io/managed-by": "counsel-install",
                    "pod-security.kubernetes.io/enforce": "restricted",
                    NAMESPACE_NAME_LABEL: self.namespace,
                },
            },
        })
    }

    /// Counsel's own account: its token is what the watches of namespaces
    /// and exceptions use (`rbac.rs` grants exactly that).
    pub(super) fn service_account(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": self.metadata(&self.name),
        })
    }

    pub(super) fn config_map(&self) -> Value {
        let mut object = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": self.metadata(&format!("{}{CONFIG_MAP_SUFFIX}", self.name)),
            "data": {CONFIG_FILE: self.bundle.text},
        });
        if !self.bundle.modules.is_empty() {
            let binary: Map<String, Value> = self
                .bundle
                .modules
                .iter()
                .map(|(key, (_, bytes))| (key.clone(), Value::String(BASE64.encode(bytes))))
                .collect();
            object["binaryData"] = Value::Object(binary);
        }
        object
    }

    /// The serving certificate and key, and the CA for reference (its key is
    /// not stored in the cluster).
    pub(super) fn tls_secret(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": self.metadata(&format!("{}{TLS_SECRET_SUFFIX}", self.name)),
            "type": "kubernetes.io/tls",
            "data": {
                "tls.crt": BASE64.encode(&self.certs.cert_pem),
                "tls.key": BASE64.encode(&self.certs.key_pem),
                "ca.crt": BASE64.encode(&self.certs.ca_cert_pem),
            },
        })
    }

    pub(super) fn service(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self.metadata(&self.name),
            "spec": {
                "type": "ClusterIP",
                "selector": self.selector(),
                "ports": [
                    {"name": WEBHOOK_PORT_NAME, "port": SERVICE_PORT, "targetPort": WEBHOOK_PORT_NAME, "protocol": "TCP"},
                    {"name": OPS_PORT_NAME, "port": OPS_PORT, "targetPort": OPS_PORT_NAME, "protocol": "TCP"},
                ],
            },
        })
    }

    pub(super) fn deployment(&self) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": self.metadata(&self.name),
            "spec": {
                "replicas": self.replicas,
                "revisionHistoryLimit": 5,
                "selector": {"matchLabels": self.selector()},
                // Never fewer ready pods than asked for during a rollout:
                // every pod missing is capacity the API server waits on.
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
                },
                "template": {
                    "metadata": {"labels": self.labels()},
                    "spec": self.pod_spec(),
                },
            },
        })
    }

    fn pod_spec(&self) -> Value {
        json!({
            "serviceAccountName": self.name,
            // The token is the cluster configuration (in-cluster).
            "automountServiceAccountToken": true,
            "securityContext": pod_security_context(),
            "affinity": {
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": self.selector()},
                        },
                    }],
                },
            },
            "topologySpreadConstraints": [{
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": self.selector()},
            }],
            "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
            "containers": [self.container()],
            "volumes": self.volumes(),
        })
    }

    fn container(&self) -> Value {
        json!({
            "name": "counsel",
            "image": self.image,
            "imagePullPolicy": "IfNotPresent",
            "args": ["serve"],
            "env": serve_environment(),
            "ports": [
                {"name": WEBHOOK_PORT_NAME, "containerPort": WEBHOOK_PORT, "protocol": "TCP"},
                {"name": OPS_PORT_NAME, "containerPort": OPS_PORT, "protocol": "TCP"},
            ],
            "readinessProbe": {
                "httpGet": {"path": "/readyz", "port": OPS_PORT_NAME},
                "periodSeconds": 5,
                "timeoutSeconds": 2,
                "failureThreshold": 2,
            },
            "livenessProbe": {
                "httpGet": {"path": "/healthz", "port": OPS_PORT_NAME},
                "periodSeconds": 10,
                "timeoutSeconds": 2,
                "failureThreshold": 3,
            },
            "resources": resources(),
            "securityContext": container_security_context(),
            "volumeMounts": [
                {"name": "config", "mountPath": CONFIG_DIR, "readOnly": true},
                {"name": "tls", "mountPath": TLS_DIR, "readOnly": true},
                {"name": "cache", "mountPath": CACHE_DIR},
            ],
        })
    }

    fn volumes(&self) -> Value {
        let mut config = json!({"name": format!("{}{CONFIG_MAP_SUFFIX}", self.name)});
        if let Some(items) = self.bundle.volume_items() {
            config["items"] = items
                .into_iter()
                .map(|(key, path)| json!({"key": key, "path": path}))
                .collect();
        }
        json!([
            {"name": "config", "configMap": config},
            {
                "name": "tls",
                // Readable by Counsel's group (fsGroup) only.
                "secret": {"secretName": format!("{}{TLS_SECRET_SUFFIX}", self.name), "defaultMode": 0o440},
            },
            {"name": "cache", "emptyDir": {"sizeLimit": "256Mi"}},
        ])
    }

    /// Keeps one pod up through node drains; with two replicas, one node can
    /// be drained at a time. policy/v1 from Kubernetes 1.21 on.
    pub(super) fn disruption_budget(&self) -> Value {
        let api_version = if self.kube_version.minor < 21 {
            "policy/v1beta1"
        } else {
            "policy/v1"
        };
        json!({
            "apiVersion": api_version,
            "kind": "PodDisruptionBudget",
            "metadata": self.metadata(&self.name),
            "spec": {
                "minAvailable": 1,
                "selector": {"matchLabels": self.selector()},
            },
        })
    }
}

/// `counsel serve`'s flags, as the environment variables it reads.
fn serve_environment() -> Value {
    let variables = [
        ("COUNSEL_CONFIG", format!("{CONFIG_DIR}/{CONFIG_FILE}")),
        ("COUNSEL_TLS_CERT", format!("{TLS_DIR}/tls.crt")),
        ("COUNSEL_TLS_KEY", format!("{TLS_DIR}/tls.key")),
        ("COUNSEL_CACHE_DIR", CACHE_DIR.to_owned()),
        ("COUNSEL_LISTEN", format!("0.0.0.0:{WEBHOOK_PORT}")),
        ("COUNSEL_METRICS_LISTEN", format!("0.0.0.0:{OPS_PORT}")),
        ("COUNSEL_LOG_FORMAT", "json".to_owned()),
        ("COUNSEL_LOG", "info".to_owned()),
        // Endpoints are removed while the pod still serves, so the API
        // server stops calling it before it drains and exits. Done by
        // Counsel itself rather than a preStop sleep, which Kubernetes
        // before 1.30 refuses.
        ("COUNSEL_SHUTDOWN_DELAY", SHUTDOWN_DELAY_SECONDS.to_string()),
    ];
    variables
        .into_iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect()
}

fn pod_security_context() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// The restricted Pod Security Standard, and a read-only root filesystem.
fn container_security_context() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// No CPU limit: throttling would show up as admission latency.
fn resources() -> Value {
    json!({
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "512Mi"},
    })
}
