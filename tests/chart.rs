//! The Helm chart in charts/counsel, rendered and linted by the real helm
//! (tools/kube/kubectl-helm.sh installs it): Chart.yaml is complete, every
//! template renders to Kubernetes objects, every value is documented, and
//! the chart makes the same objects as `counsel install` on what matters:
//! ports, probes, paths, selectors, security context, webhook rules (with
//! the pod subresources), the mode a new install starts in, enforcing, and
//! Kubernetes 1.20.

mod helm;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::install::manifests::{self, Installed, install};
use crate::support::cluster;
use helm::{
    chart_dir, configuration, helm, one, parse_one, read, template, values, without_ca_bundle,
};

#[test]
fn helm_lints_the_chart() {
    let chart = chart_dir();
    let linted = helm(&["lint", chart.to_str().expect("UTF-8 path"), "--strict"]);
    assert!(
        linted.ends_with("1 chart(s) linted, 0 chart(s) failed\n"),
        "{linted}"
    );
}

#[test]
fn every_template_renders_to_kubernetes_objects() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fix = dir.path().join("counsel.yaml");
    std::fs::write(
        &fix,
        "policies:\n  - {name: pod-security, module: builtin:pod-security, mode: fix}\n",
    )
    .expect("write");
    let objects = template(
        "counsel",
        "counsel",
        &[
            "--set",
            "certManager.enabled=true",
            "--set",
            "metrics.serviceMonitor.enabled=true",
            "--set-file",
            &format!("configFile={}", fix.display()),
        ],
    );
    let mut kinds: Vec<&str> = objects
        .iter()
        .map(|object| object["kind"].as_str().expect("kind"))
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "Certificate",
            "Certificate",
            "ClusterRole",
            "ClusterRoleBinding",
            "ConfigMap",
            "Deployment",
            "Issuer",
            "Issuer",
            "MutatingWebhookConfiguration",
            "PodDisruptionBudget",
            "Role",
            "RoleBinding",
            "Service",
            "ServiceAccount",
            "ServiceMonitor",
            "ValidatingWebhookConfiguration",
        ]
    );
    for object in &objects {
        assert!(object["apiVersion"].is_string(), "{object}");
        assert!(object["metadata"]["name"].is_string(), "{object}");
    }
}

/// The chart's objects and `counsel install`'s agree on `kind`'s `parts`.
fn agree(chart: &[Value], installed: &Installed, kind: &str, parts: &[&str]) {
    for part in parts {
        assert_eq!(
            one(chart, kind).pointer(part),
            installed.one(kind).pointer(part),
            "{kind} {part}"
        );
    }
}

#[test]
fn the_chart_makes_the_objects_counsel_install_prints() {
    let chart = template("counsel", "counsel", &["--include-crds"]);
    let installed = install(&[]);
    let mut kinds: Vec<&str> = installed.kinds();
    kinds.retain(|kind| *kind != "Namespace"); // helm install --create-namespace
    let chart_kinds: Vec<&str> = chart
        .iter()
        .map(|object| object["kind"].as_str().expect("kind"))
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort_unstable();
    let mut chart_sorted = chart_kinds.clone();
    chart_sorted.sort_unstable();
    assert_eq!(chart_sorted, sorted);
    // The CRDs are the same file.
    let crds = |objects: &[Value]| -> Vec<Value> {
        objects
            .iter()
            .filter(|object| object["kind"] == "CustomResourceDefinition")
            .cloned()
            .collect()
    };
    assert_eq!(crds(&chart), crds(&installed.objects));
    for object in &chart {
        let kind = object["kind"].as_str().expect("kind");
        if kind == "CustomResourceDefinition" {
            continue;
        }
        assert_eq!(
            object["apiVersion"],
            installed.one(kind)["apiVersion"],
            "{kind}"
        );
        assert_eq!(
            object["metadata"]["name"],
            installed.one(kind)["metadata"]["name"],
            "{kind}"
        );
    }
    // Ports, selectors and the Service in front of them.
    agree(&chart, &installed, "Service", &["/spec"]);
    agree(
        &chart,
        &installed,
        "Deployment",
        &[
            "/spec/replicas",
            "/spec/selector",
            "/spec/strategy",
            "/spec/revisionHistoryLimit",
        ],
    );
    agree(&chart, &installed, "PodDisruptionBudget", &["/spec"]);
    agree(
        &chart,
        &installed,
        "ServiceAccount",
        &["/automountServiceAccountToken"],
    );
    agree(&chart, &installed, "Secret", &["/type"]);
    agree(&chart, &installed, "ClusterRole", &["/rules"]);
    agree(&chart, &installed, "Role", &["/rules"]);
    agree(
        &chart,
        &installed,
        "RoleBinding",
        &["/roleRef", "/subjects"],
    );
    agree(
        &chart,
        &installed,
        "ClusterRoleBinding",
        &["/roleRef", "/subjects"],
    );
    // The pod: probes, ports, paths, environment, mounts, security context,
    // spreading; all but the image, which the chart names by its own tag.
    let mut chart_pod = one(&chart, "Deployment")["spec"]["template"]["spec"].clone();
    let mut install_pod = installed.pod_spec().clone();
    for pod in [&mut chart_pod, &mut install_pod] {
        pod["containers"][0]["image"] = json!("<image>");
    }
    assert_eq!(chart_pod, install_pod);
    // Both select their own pods.
    let labels = &one(&chart, "Deployment")["spec"]["template"]["metadata"]["labels"];
    for (key, value) in one(&chart, "Deployment")["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("matchLabels")
    {
        assert_eq!(&labels[key], value, "{key}");
    }
    // The webhook, rules (pod subresources included) and all.
    let chart_webhook = &one(&chart, "ValidatingWebhookConfiguration")["webhooks"][0];
    assert_eq!(
        without_ca_bundle(chart_webhook),
        without_ca_bundle(installed.validating_webhook())
    );
    let rules = &chart_webhook["rules"][0]["resources"];
    assert_eq!(
        rules,
        &json!([
            "pods",
            "pods/ephemeralcontainers",
            "pods/resize",
            "replicationcontrollers",
            "podtemplates"
        ])
    );
    // The same configuration: pod-security warns.
    let config = configuration(&chart);
    assert_eq!(config, configuration(&installed.objects));
    assert_eq!(config["policies"][0]["mode"], "warn");
}

#[test]
fn enforcing_is_one_value_as_it_is_one_option() {
    let chart = template("counsel", "counsel", &["--set", "enforce=true"]);
    let installed = install(&["--enforce"]);
    let config = configuration(&chart);
    assert_eq!(config, configuration(&installed.objects));
    assert_eq!(config["policies"][0]["mode"], "enforce");
}

#[test]
fn kubernetes_1_20_gets_the_same_disruption_budget_from_both() {
    let chart = template("counsel", "counsel", &["--kube-version", "1.20.2"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let printed =
        crate::support::cli::counsel(dir.path(), &["install", "--kube-version", "1.20"], None);
    let text = String::from_utf8(printed.stdout).expect("UTF-8");
    let installed: Vec<Value> = counsel::source::parse(&text)
        .expect("YAML")
        .into_iter()
        .map(|document| document.value)
        .collect();
    assert_eq!(
        one(&chart, "PodDisruptionBudget")["apiVersion"],
        "policy/v1beta1"
    );
    assert_eq!(one(&chart, "PodDisruptionBudget"), &{
        let mut budget = one(&installed, "PodDisruptionBudget").clone();
        budget["metadata"]["labels"] =
            one(&chart, "PodDisruptionBudget")["metadata"]["labels"].clone();
        budget
    });
    // Below 1.20, helm refuses as counsel install does.
    let refused = Command::new(cluster::helm_binary())
        .args([
            "template",
            "counsel",
            chart_dir().to_str().expect("path"),
            "--kube-version",
            "1.19.0",
        ])
        .output()
        .expect("helm runs");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(
            "chart requires kubeVersion: >=1.20.0-0 which is incompatible with Kubernetes v1.19.0"
        ),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn the_mutating_webhook_is_the_validating_one_at_mutate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = "policies:\n  - {name: pod-security, module: builtin:pod-security, mode: fix}\n";
    std::fs::write(dir.path().join("counsel.yaml"), config).expect("write");
    let chart = template(
        "counsel",
        "counsel",
        &[
            "--set-file",
            &format!("configFile={}", dir.path().join("counsel.yaml").display()),
        ],
    );
    let installed = manifests::install_in(dir.path(), &["--config", "counsel.yaml"]);
    let mutating = installed.one("MutatingWebhookConfiguration");
    assert_eq!(
        without_ca_bundle(&one(&chart, "MutatingWebhookConfiguration")["webhooks"][0]),
        without_ca_bundle(&mutating["webhooks"][0])
    );
    assert_eq!(
        mutating["webhooks"][0]["clientConfig"]["service"]["path"],
        "/mutate"
    );
    assert_eq!(mutating["webhooks"][0]["reinvocationPolicy"], "Never");
}

#[test]
fn the_webhooks_exclude_kube_system_and_the_release_namespace() {
    let chart = template("guard", "policy", &["--set", "fullnameOverride=guard"]);
    let installed = install(&["-n", "policy", "--name", "guard"]);
    let selector =
        &one(&chart, "ValidatingWebhookConfiguration")["webhooks"][0]["namespaceSelector"];
    assert_eq!(
        selector,
        &json!({"matchExpressions": [{
            "key": "kubernetes.io/metadata.name",
            "operator": "NotIn",
            "values": ["kube-system", "policy"],
        }]})
    );
    assert_eq!(
        selector,
        &installed.validating_webhook()["namespaceSelector"]
    );
}

#[test]
fn tls_alternatives_produce_a_certificate_for_the_service_name() {
    let chart = template(
        "guard",
        "policy",
        &[
            "--set",
            "fullnameOverride=guard",
            "--set",
            "certManager.enabled=true",
        ],
    );
    let serving = chart
        .iter()
        .find(|object| object["kind"] == "Certificate" && object["spec"]["isCA"].is_null())
        .expect("the serving Certificate");
    assert_eq!(serving["metadata"]["name"], "guard-serving");
    assert_eq!(
        serving["spec"]["dnsNames"],
        json!([
            "guard.policy.svc",
            "guard.policy",
            "guard",
            "guard.policy.svc.cluster.local"
        ])
    );
    // cert-manager's injector fills the caBundle from that Certificate.
    let webhook = one(&chart, "ValidatingWebhookConfiguration");
    assert_eq!(
        webhook["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        "policy/guard-serving"
    );
    assert!(
        webhook["webhooks"][0]["clientConfig"]
            .get("caBundle")
            .is_none()
    );
    // Without cert-manager, helm generates a CA and a certificate whose
    // caBundle is the CA it stores, as counsel install does.
    let generated = template("guard", "policy", &["--set", "fullnameOverride=guard"]);
    let secret = one(&generated, "Secret");
    let webhook = one(&generated, "ValidatingWebhookConfiguration");
    assert_eq!(
        webhook["webhooks"][0]["clientConfig"]["caBundle"],
        secret["data"]["ca.crt"]
    );
    let keys = |secret: &Value| -> Vec<String> {
        secret["data"]
            .as_object()
            .expect("data")
            .keys()
            .cloned()
            .collect()
    };
    let installed = install(&["-n", "policy", "--name", "guard"]);
    assert_eq!(keys(secret), keys(installed.one("Secret")));
}

#[test]
fn chart_yaml_is_complete() {
    let chart = parse_one(&read("Chart.yaml"), "Chart.yaml");
    assert_eq!(chart["apiVersion"], "v2");
    assert_eq!(chart["name"], "counsel");
    assert_eq!(chart["type"], "application");
    let version = chart["version"].as_str().expect("version");
    semver::Version::parse(version).expect("version is SemVer");
    assert_eq!(
        chart["appVersion"],
        env!("CARGO_PKG_VERSION"),
        "appVersion is this release"
    );
    for field in ["description", "kubeVersion"] {
        assert!(
            chart[field]
                .as_str()
                .is_some_and(|text| !text.trim().is_empty()),
            "Chart.yaml {field}"
        );
    }
    semver::VersionReq::parse(
        chart["kubeVersion"]
            .as_str()
            .expect("kubeVersion")
            .trim_end_matches("-0"),
    )
    .expect("kubeVersion is a version range");
    assert!(chart["maintainers"][0]["name"].is_string(), "a maintainer");
    assert!(chart_dir().join("README.md").is_file(), "README.md");
    assert!(
        chart_dir().join("templates/NOTES.txt").is_file(),
        "NOTES.txt"
    );
}

/// Mapping keys in values.yaml whose members are Kubernetes' or Counsel's
/// own fields, documented as a whole by the comment above them.
const DOCUMENTED_AS_A_WHOLE: &[&str] = &[
    "/config",
    "/webhook/rules",
    "/resources",
    "/podSecurityContext",
    "/securityContext",
];

#[test]
fn values_yaml_and_the_readme_document_every_value() {
    let text = read("values.yaml");
    let lines: Vec<&str> = text.lines().collect();
    let document = counsel::source::parse(&text)
        .expect("values.yaml")
        .remove(0);
    let readme = read("README.md");
    let mut documented = 0;
    for (pointer, node) in document.nodes() {
        let Some(key) = node.key else { continue };
        if DOCUMENTED_AS_A_WHOLE
            .iter()
            .any(|whole| pointer.starts_with(&format!("{whole}/")))
        {
            continue;
        }
        let line = key.start.line;
        let above = lines[line - 2].trim();
        assert!(
            above.starts_with('#'),
            "values.yaml:{line}: {pointer} has no comment above it"
        );
        let is_parent = document
            .value
            .pointer(pointer)
            .and_then(Value::as_object)
            .is_some_and(|members| !members.is_empty());
        let dotted = pointer.trim_start_matches('/').replace('/', ".");
        assert!(
            is_parent || readme.contains(&format!("`{dotted}`")),
            "README.md does not describe `{dotted}`"
        );
        documented += 1;
    }
    assert!(documented > 40, "only {documented} values found");
}

#[test]
fn the_image_is_built_to_run_as_the_chart_runs_it() {
    let dockerfile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile"))
            .expect("Dockerfile");
    let values = values();
    let user = values["podSecurityContext"]["runAsUser"]
        .as_i64()
        .expect("runAsUser");
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
        .collect();
    let stages = instructions
        .iter()
        .filter(|line| line.starts_with("FROM "))
        .count();
    assert_eq!(stages, 2, "a build stage and a runtime stage");
    let runtime = instructions
        .iter()
        .rev()
        .find(|line| line.starts_with("FROM "))
        .expect("runtime stage");
    assert!(
        runtime.contains("distroless") && runtime.contains("nonroot"),
        "{runtime}"
    );
    assert!(
        instructions.contains(&format!("USER {user}:{user}").as_str()),
        "USER {user}"
    );
    assert!(
        instructions.contains(&"EXPOSE 8443 9090"),
        "the ports the chart uses"
    );
    assert!(instructions.contains(&"ENTRYPOINT [\"/usr/local/bin/counsel\"]"));
    assert!(
        instructions
            .iter()
            .any(|line| line.contains("cargo build --release --locked --bin counsel")),
        "builds the counsel binary"
    );
    // New pods start warm: the bundled policies are compiled into the
    // image, and serve is pointed at them.
    assert!(
        instructions
            .iter()
            .any(|line| line.contains("/out/counsel precompile --out /out/compiled")),
        "precompiles the bundled policies"
    );
    assert!(
        instructions.contains(&"ENV COUNSEL_PRECOMPILED_DIR=/usr/share/counsel/compiled"),
        "serve reads them"
    );
    // The build context carries the committed policy components that the
    // binary embeds.
    let ignored =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".dockerignore"))
            .expect(".dockerignore");
    assert!(
        !ignored.lines().any(|line| line.starts_with("policies")),
        "{ignored}"
    );
    assert!(
        dockerfile.contains(&format!(
            "docker build -t {}:",
            values["image"]["repository"].as_str().expect("repository")
        )),
        "the Dockerfile's build line names the chart's image"
    );
}
