//! `counsel install`: the real binary's output, parsed as `kubectl apply`
//! would read it, checked object by object; its certificates checked as the
//! API server would; its Deployment run as the kubelet would; and its pods
//! checked against Counsel's own restricted Pod Security policy.

mod certificates;
mod guide;
pub mod manifests;
mod precompiled;
mod runtime;
mod serve;
mod tls;
mod versions;

use std::path::Path;

use crate::support::counsel_process;

use serde_json::{Value, json};

use crate::support::cli::counsel;
use manifests::{Installed, base64_decode, install, install_in};

#[test]
fn output_is_a_stream_of_valid_objects_in_apply_order() {
    let installed = install(&["--namespace", "policy", "--name", "guard"]);
    assert!(
        installed.text.starts_with("# Counsel "),
        "{}",
        installed.text
    );
    assert_eq!(
        installed.kinds(),
        [
            "CustomResourceDefinition",
            "CustomResourceDefinition",
            "CustomResourceDefinition",
            "CustomResourceDefinition",
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "ConfigMap",
            "Secret",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "ValidatingWebhookConfiguration",
        ]
    );
    let expected = [
        (
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "counselexceptions.counsel.dev",
            None,
        ),
        (
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "clustercounselexceptions.counsel.dev",
            None,
        ),
        (
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "reports.openreports.io",
            None,
        ),
        (
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "clusterreports.openreports.io",
            None,
        ),
        ("v1", "Namespace", "policy", None),
        ("v1", "ServiceAccount", "guard", Some("policy")),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "guard", None),
        (
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            "guard",
            None,
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "Role",
            "guard",
            Some("policy"),
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            "guard",
            Some("policy"),
        ),
        ("v1", "ConfigMap", "guard-config", Some("policy")),
        ("v1", "Secret", "guard-tls", Some("policy")),
        ("v1", "Service", "guard", Some("policy")),
        ("apps/v1", "Deployment", "guard", Some("policy")),
        ("policy/v1", "PodDisruptionBudget", "guard", Some("policy")),
        (
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
            "guard",
            None,
        ),
    ];
    for (object, (api_version, kind, name, namespace)) in installed.objects.iter().zip(expected) {
        assert_eq!(object["apiVersion"], api_version, "{kind}");
        assert_eq!(object["kind"], kind);
        assert_eq!(object["metadata"]["name"], name, "{kind}");
        assert_eq!(
            object["metadata"].get("namespace").and_then(Value::as_str),
            namespace,
            "{kind}"
        );
    }
    // Every object is one Kubernetes knows, field for field: read into the
    // API's own types and written back, nothing is lost or changed (a
    // misspelt field would be dropped, a wrong type refused).
    for object in &installed.objects {
        let kind = object["kind"].as_str().expect("kind");
        let typed = match kind {
            // The chart's own file, as it is; tests/cluster.rs has the API
            // server take it.
            "CustomResourceDefinition" => continue,
            "ClusterRole" => round_trip::<k8s_openapi::api::rbac::v1::ClusterRole>(object),
            "ClusterRoleBinding" => {
                round_trip::<k8s_openapi::api::rbac::v1::ClusterRoleBinding>(object)
            }
            "Role" => round_trip::<k8s_openapi::api::rbac::v1::Role>(object),
            "RoleBinding" => round_trip::<k8s_openapi::api::rbac::v1::RoleBinding>(object),
            "Namespace" => round_trip::<k8s_openapi::api::core::v1::Namespace>(object),
            "ServiceAccount" => round_trip::<k8s_openapi::api::core::v1::ServiceAccount>(object),
            "ConfigMap" => round_trip::<k8s_openapi::api::core::v1::ConfigMap>(object),
            "Secret" => round_trip::<k8s_openapi::api::core::v1::Secret>(object),
            "Service" => round_trip::<k8s_openapi::api::core::v1::Service>(object),
            "Deployment" => round_trip::<k8s_openapi::api::apps::v1::Deployment>(object),
            "PodDisruptionBudget" => {
                round_trip::<k8s_openapi::api::policy::v1::PodDisruptionBudget>(object)
            }
            "ValidatingWebhookConfiguration" => round_trip::<
                k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration,
            >(object),
            other => panic!("unexpected kind {other}"),
        };
        assert_eq!(&typed, object, "{kind} as Kubernetes reads it");
    }
    // Without a policy in `fix` mode there is nothing to mutate.
    assert!(!installed.text.contains("MutatingWebhookConfiguration"));
}

#[test]
fn counsel_may_watch_what_it_reads_and_audits_write_its_reports_events_and_lease_and_nothing_else()
{
    let installed = install(&["--namespace", "policy", "--name", "guard"]);
    assert_eq!(
        installed.one("ClusterRole")["rules"],
        json!([
            {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]},
            {
                "apiGroups": ["counsel.dev"],
                "resources": ["counselexceptions", "clustercounselexceptions"],
                "verbs": ["list", "watch"],
            },
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
            {
                "apiGroups": ["openreports.io"],
                "resources": ["reports", "clusterreports"],
                "verbs": ["list", "create", "patch", "delete"],
            },
            {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
        ])
    );
    assert_eq!(
        installed.one("Role")["rules"],
        json!([{
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "create", "update"],
        }])
    );
    let role_binding = installed.one("RoleBinding");
    assert_eq!(
        role_binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "guard"})
    );
    assert_eq!(
        role_binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "guard", "namespace": "policy"}])
    );
    let binding = installed.one("ClusterRoleBinding");
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "guard"})
    );
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "guard", "namespace": "policy"}])
    );
    // The CRDs are the chart's file, verbatim; --no-crds leaves them out.
    let crds = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/counsel/crds/exceptions.yaml"),
    )
    .expect("the chart's CRDs");
    assert!(installed.text.contains(&crds));
    let report_crds = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/counsel/crds/openreports.yaml"),
    )
    .expect("the chart's OpenReports CRDs");
    assert!(installed.text.contains(&report_crds));
    // --no-crds leaves out the exceptions' CRDs, --no-report-crds the
    // OpenReports ones (a cluster may have them from another producer).
    let without = install(&["--namespace", "policy", "--name", "guard", "--no-crds"]);
    assert!(!without.text.contains(&crds));
    assert!(without.text.contains(&report_crds));
    let without_reports = install(&[
        "--namespace",
        "policy",
        "--name",
        "guard",
        "--no-report-crds",
    ]);
    assert!(without_reports.text.contains(&crds));
    assert!(!without_reports.text.contains(&report_crds));
    let neither = install(&[
        "--namespace",
        "policy",
        "--name",
        "guard",
        "--no-crds",
        "--no-report-crds",
    ]);
    assert_eq!(neither.kinds()[..2], ["Namespace", "ServiceAccount"]);
}

#[test]
fn the_webhook_calls_the_service_on_443_which_reaches_the_pods_on_8443() {
    let installed = install(&["-n", "policy", "--name", "guard"]);
    let webhook = installed.validating_webhook();
    assert_eq!(webhook["name"], "validate.guard.policy.svc");
    assert_eq!(
        webhook["clientConfig"]["service"],
        json!({"name": "guard", "namespace": "policy", "path": "/validate", "port": 443})
    );
    assert_eq!(webhook["admissionReviewVersions"], json!(["v1"]));
    assert_eq!(webhook["sideEffects"], "None");
    assert_eq!(webhook["failurePolicy"], "Fail");
    assert_eq!(webhook["timeoutSeconds"], 10);
    assert_eq!(webhook["matchPolicy"], "Equivalent");

    let service = installed.one("Service");
    let pod_labels = &installed.one("Deployment")["spec"]["template"]["metadata"]["labels"];
    for (key, value) in service["spec"]["selector"].as_object().expect("selector") {
        assert_eq!(
            &pod_labels[key], value,
            "the Service selects the pods by {key}"
        );
    }
    let https = service["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|port| port["port"] == 443)
        .expect("a Service port 443");
    assert_eq!(container_port(&installed, &https["targetPort"]), 8443);
}

/// The container port a Service's `targetPort` (number or name) reaches.
fn container_port(installed: &Installed, target: &Value) -> u64 {
    if let Some(number) = target.as_u64() {
        return number;
    }
    installed.container()["ports"]
        .as_array()
        .expect("container ports")
        .iter()
        .find(|port| port["name"] == *target)
        .unwrap_or_else(|| panic!("no container port named {target}"))["containerPort"]
        .as_u64()
        .expect("containerPort")
}

#[test]
fn kube_system_and_counsels_own_namespace_are_never_sent_to_the_webhook() {
    for (namespace, excluded) in [
        ("policy", json!(["kube-system", "policy"])),
        ("kube-system", json!(["kube-system"])),
    ] {
        let installed = install(&["-n", namespace]);
        assert_eq!(
            installed.validating_webhook()["namespaceSelector"],
            json!({"matchExpressions": [{
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": excluded,
            }]}),
            "namespace {namespace}"
        );
    }
}

#[test]
fn the_webhook_is_sent_creates_and_updates_of_every_workload_kind_and_pod_subresource() {
    let installed = install(&[]);
    assert_eq!(
        installed.validating_webhook()["rules"],
        json!([
            {"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods", "pods/ephemeralcontainers", "pods/resize", "replicationcontrollers", "podtemplates"], "operations": ["CREATE", "UPDATE"], "scope": "*"},
            {"apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"], "operations": ["CREATE", "UPDATE"], "scope": "*"},
            {"apiGroups": ["batch"], "apiVersions": ["v1"], "resources": ["jobs", "cronjobs"], "operations": ["CREATE", "UPDATE"], "scope": "*"},
            // Counsel's own exception objects, which it checks itself.
            {"apiGroups": ["counsel.dev"], "apiVersions": ["v1alpha1"], "resources": ["counselexceptions", "clustercounselexceptions"], "operations": ["CREATE", "UPDATE"], "scope": "*"},
        ])
    );
}

#[test]
fn failure_policy_timeout_replicas_and_image_are_options() {
    let installed = install(&[
        "--failure-policy",
        "ignore",
        "--timeout-seconds",
        "5",
        "--replicas",
        "3",
        "--image",
        "registry.example.com/counsel:9.9.9",
    ]);
    assert_eq!(installed.validating_webhook()["failurePolicy"], "Ignore");
    assert_eq!(installed.validating_webhook()["timeoutSeconds"], 5);
    assert_eq!(installed.one("Deployment")["spec"]["replicas"], 3);
    assert_eq!(
        installed.container()["image"],
        "registry.example.com/counsel:9.9.9"
    );
    let default = install(&[]);
    assert_eq!(
        default.container()["image"],
        format!("ghcr.io/counsel/counsel:{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(default.one("Deployment")["spec"]["replicas"], 2);
}

/// The container's mounts: mount path → (volume, writable).
pub fn volume_mounts(installed: &Installed) -> std::collections::BTreeMap<String, (Value, bool)> {
    let volumes = installed.pod_spec()["volumes"].as_array().expect("volumes");
    installed.container()["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .map(|mount| {
            let volume = volumes
                .iter()
                .find(|volume| volume["name"] == mount["name"])
                .unwrap_or_else(|| panic!("no volume for {mount}"));
            (
                mount["mountPath"].as_str().expect("mountPath").to_owned(),
                (volume.clone(), mount["readOnly"] != true),
            )
        })
        .collect()
}

#[test]
fn high_availability_two_replicas_spread_and_a_disruption_budget() {
    let installed = install(&[]);
    let selector = json!({"matchLabels": {
        "app.kubernetes.io/name": "counsel",
        "app.kubernetes.io/instance": "counsel",
    }});
    let deployment = installed.one("Deployment");
    assert_eq!(deployment["spec"]["selector"], selector);
    assert_eq!(
        deployment["spec"]["strategy"]["rollingUpdate"],
        json!({"maxUnavailable": 0, "maxSurge": 1})
    );
    let pod = installed.pod_spec();
    let anti =
        &pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(
        anti["podAffinityTerm"]["topologyKey"],
        "kubernetes.io/hostname"
    );
    assert_eq!(anti["podAffinityTerm"]["labelSelector"], selector);
    assert_eq!(
        pod["topologySpreadConstraints"][0]["topologyKey"],
        "topology.kubernetes.io/zone"
    );
    assert_eq!(
        pod["topologySpreadConstraints"][0]["labelSelector"],
        selector
    );
    let budget = installed.one("PodDisruptionBudget");
    assert_eq!(
        budget["spec"],
        json!({"minAvailable": 1, "selector": selector})
    );
    let resources = &installed.container()["resources"];
    assert_eq!(
        resources["requests"],
        json!({"cpu": "100m", "memory": "128Mi"})
    );
    assert_eq!(resources["limits"], json!({"memory": "512Mi"}));
}

#[test]
fn a_configuration_is_shipped_as_written_with_its_module_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let module = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("policies/dist/container-security.wasm"),
    )
    .expect("the committed container-security component");
    std::fs::create_dir(dir.path().join("policies")).expect("mkdir");
    std::fs::write(dir.path().join("policies/containers.wasm"), &module).expect("write module");
    let config = "# ops' own comments stay\npolicies:\n  - name: containers\n    \
                  module: ./policies/containers.wasm\n    mode: warn\n  - name: pss\n    \
                  module: builtin:pod-security\n";
    std::fs::write(dir.path().join("counsel.yaml"), config).expect("write config");
    let installed = install_in(dir.path(), &["--config", "counsel.yaml"]);
    let config_map = installed.one("ConfigMap");
    assert_eq!(config_map["data"], json!({"counsel.yaml": config}));
    let shipped = config_map["binaryData"]["policies_containers.wasm"]
        .as_str()
        .expect("the module as binaryData");
    assert_eq!(base64_decode(shipped), module);
    let (volume, _) = &volume_mounts(&installed)["/etc/counsel/config"];
    assert_eq!(
        volume["configMap"]["items"],
        json!([
            {"key": "counsel.yaml", "path": "counsel.yaml"},
            {"key": "policies_containers.wasm", "path": "policies/containers.wasm"},
        ])
    );
}

#[test]
fn bad_input_is_refused_naming_what_is_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("broken.yaml"),
        "policies:\n  - name: a\n    module: builtin:nope\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("absolute.yaml"),
        format!(
            "policies:\n  - name: abs\n    module: {}\n",
            dir.path().join("broken.yaml").display()
        ),
    )
    .expect("write");
    let cases: [(&[&str], &str); 5] = [
        (
            &["--name", "Counsel"],
            "error: --name \"Counsel\" is not a valid Kubernetes name: use lower-case letters, digits and '-', starting and ending with a letter or digit\n",
        ),
        (
            &["--name", "1counsel"],
            "error: --name \"1counsel\" must start with a letter: it names the Service\n",
        ),
        (
            &["-n", &"x".repeat(64)],
            &format!(
                "error: --namespace {:?} is 64 characters long; at most 63 fit\n",
                "x".repeat(64)
            ),
        ),
        (
            &["--config", "broken.yaml"],
            "error: broken.yaml:3: policy \"a\": module: there is no bundled policy \"nope\"; bundled are builtin:pod-security, builtin:workload-hygiene, builtin:container-security, builtin:cel\n",
        ),
        (
            &["--config", "absolute.yaml"],
            &format!(
                "error: absolute.yaml: policy \"abs\": module {:?}: counsel install ships module files with counsel.yaml and needs their paths relative to it; write the path relative to counsel.yaml, or mount the module yourself with the Helm chart (value `policies.volume`)\n",
                dir.path().join("broken.yaml").display().to_string()
            ),
        ),
    ];
    for (args, message) in cases {
        let mut full = vec!["install"];
        full.extend_from_slice(args);
        let output = counsel(dir.path(), &full, None);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&output.stderr), message, "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
}

#[test]
fn kinds_the_webhook_is_not_sent_are_pointed_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("counsel.yaml"),
        "policies:\n  - name: hygiene\n    module: builtin:workload-hygiene\n    \
         match: {kinds: [Deployment, Ingress]}\n",
    )
    .expect("write");
    let output = counsel(dir.path(), &["install", "--config", "counsel.yaml"], None);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "note: policy \"hygiene\" matches kind \"Ingress\", which the webhooks are not sent \
         (they are sent Pod, EphemeralContainers, ReplicationController, PodTemplate, Deployment, ReplicaSet, \
         StatefulSet, DaemonSet, Job, CronJob); add a rule for it to the webhook configurations\n"
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("kind: ValidatingWebhookConfiguration")
    );
}

/// `object` read as the Kubernetes type `T` and written back.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(object: &Value) -> Value {
    let typed: T = serde_json::from_value(object.clone())
        .unwrap_or_else(|e| panic!("not a valid {}: {e}", object["kind"]));
    serde_json::to_value(typed).expect("serialises")
}
