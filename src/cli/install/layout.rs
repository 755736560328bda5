//! Where things are in Counsel's container and how the cluster reaches it.
//! The Helm chart (`charts/counsel`) uses the same values; `tests/chart.rs`
//! checks that the two agree.

/// The image `counsel install` deploys unless told otherwise; the chart's
/// default (`image.repository` at the chart's `appVersion`).
pub const IMAGE_REPOSITORY: &str = "ghcr.io/counsel/counsel";

/// The HTTPS webhook port inside the pod (`counsel serve --listen`).
pub const WEBHOOK_PORT: u16 = 8443;
/// The plain-HTTP port for /healthz, /readyz and /metrics
/// (`counsel serve --metrics-listen`).
pub const OPS_PORT: u16 = 9090;
/// The Service port the API server calls.
pub const SERVICE_PORT: u16 = 443;
/// Name of the webhook port, in the pod and the Service.
pub const WEBHOOK_PORT_NAME: &str = "https";
/// Name of the ops port, in the pod and the Service.
pub const OPS_PORT_NAME: &str = "metrics";

/// Where the ConfigMap with counsel.yaml (and shipped modules) is mounted.
/// A directory mount, not `subPath`, so that edits reach the running pod and
/// `counsel serve` reloads them.
pub const CONFIG_DIR: &str = "/etc/counsel/config";
/// The configuration's key in the ConfigMap and file name in [`CONFIG_DIR`].
pub const CONFIG_FILE: &str = "counsel.yaml";
/// Where the TLS Secret is mounted (`tls.crt`, `tls.key`, `ca.crt`).
pub const TLS_DIR: &str = "/etc/counsel/tls";
/// The compiled-policy cache: an emptyDir, since the root filesystem is
/// read-only.
pub const CACHE_DIR: &str = "/var/cache/counsel";
/// The user and group Counsel runs as (distroless `nonroot`).
pub const RUN_AS: i64 = 65532;

/// The biggest ConfigMap the API server stores (data and binaryData
/// together).
pub const CONFIG_MAP_LIMIT: usize = 1024 * 1024;

/// The label every Kubernetes namespace carries with its own name; the
/// webhooks' namespaceSelector excludes namespaces by it.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Namespaces the webhooks never see, besides Counsel's own: a broken
/// policy must not keep the control plane from healing itself.
pub const EXCLUDED_NAMESPACES: &[&str] = &["kube-system"];

/// The kinds the webhooks are sent, as (kind, API group, resource): the
/// workload kinds the bundled policies check, and the pod subresources that
/// change what a pod runs: `kubectl debug`'s ephemeral containers (sent as
/// an `EphemeralContainers` object by Kubernetes 1.20 and 1.21, as the Pod
/// from 1.22 on) and in-place resizes (`pods/resize`, Kubernetes 1.33 on;
/// older API servers accept the rule and never send it). A policy matching
/// other kinds needs more webhook rules.
pub const WEBHOOK_KINDS: &[(&str, &str, &str)] = &[
    ("Pod", "", "pods"),
    ("EphemeralContainers", "", "pods/ephemeralcontainers"),
    ("Pod", "", "pods/resize"),
    ("ReplicationController", "", "replicationcontrollers"),
    ("PodTemplate", "", "podtemplates"),
    ("Deployment", "apps", "deployments"),
    ("ReplicaSet", "apps", "replicasets"),
    ("StatefulSet", "apps", "statefulsets"),
    ("DaemonSet", "apps", "daemonsets"),
    ("Job", "batch", "jobs"),
    ("CronJob", "batch", "cronjobs"),
];

/// The oldest Kubernetes minor version (1.x) the manifests work on:
/// admissionregistration/v1, warnings in admission responses and
/// `seccompProfile` fields are all there from 1.20 on.
pub const MIN_KUBE_MINOR: u32 = 20;

/// Seconds `counsel serve` keeps answering after SIGTERM
/// (`--shutdown-delay`), while the pod leaves its Service's endpoints.
pub const SHUTDOWN_DELAY_SECONDS: u32 = 5;
/// The pod's grace period: the shutdown delay, then draining in-flight
/// reviews, well within it.
pub const TERMINATION_GRACE_SECONDS: u32 = 30;

/// Suffixes of the objects' names after the installation's name; the
/// longest one bounds how long the name may be.
pub const CONFIG_MAP_SUFFIX: &str = "-config";
/// See [`CONFIG_MAP_SUFFIX`].
pub const TLS_SECRET_SUFFIX: &str = "-tls";
