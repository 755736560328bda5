//! The Helm chart in charts/counsel, read without Helm: Chart.yaml is
//! complete, every template is YAML outside its directives, every value is
//! documented, and the chart describes the same objects as `counsel install`
//! (kinds, names, ports, probes, mounts, security, webhook rules and
//! selectors, the default configuration).

#[path = "install/manifests.rs"]
mod manifests;
#[path = "chart/template.rs"]
mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use manifests::install;
use template::{HOLE, agrees, helpers, matches_pattern, skeleton};

fn chart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/counsel")
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(chart_dir().join(relative))
        .unwrap_or_else(|e| panic!("charts/counsel/{relative}: {e}"))
}

fn parse_one(text: &str, what: &str) -> Value {
    let documents =
        counsel::source::parse(text).unwrap_or_else(|e| panic!("{what} is not YAML: {e}"));
    assert_eq!(documents.len(), 1, "{what}: one document");
    documents.into_iter().next().expect("one").value
}

fn values() -> Value {
    parse_one(&read("values.yaml"), "values.yaml")
}

/// Every template's objects (skeletons), by template file.
fn rendered() -> BTreeMap<String, Vec<Value>> {
    let values = values();
    let helpers = helpers(&read("templates/_helpers.tpl"));
    let mut rendered = BTreeMap::new();
    for entry in std::fs::read_dir(chart_dir().join("templates")).expect("templates") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if !name.ends_with(".yaml") {
            continue;
        }
        let text = skeleton(&read(&format!("templates/{name}")), &values, &helpers);
        let objects = counsel::source::parse(&text)
            .unwrap_or_else(|e| panic!("templates/{name} outside directives: {e}\n{text}"))
            .into_iter()
            .map(|document| document.value)
            .collect();
        rendered.insert(name, objects);
    }
    rendered
}

/// The chart's one object of `kind`.
fn chart_object(rendered: &BTreeMap<String, Vec<Value>>, kind: &str) -> Value {
    let found: Vec<&Value> = rendered
        .values()
        .flatten()
        .filter(|object| object["kind"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "the chart has one {kind}");
    found[0].clone()
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

#[test]
fn every_template_is_yaml_of_kubernetes_objects_outside_its_directives() {
    let rendered = rendered();
    let mut kinds: Vec<String> = Vec::new();
    for (name, objects) in &rendered {
        assert!(!objects.is_empty(), "templates/{name} describes objects");
        for object in objects {
            let kind = object["kind"].as_str().expect("kind").to_owned();
            assert!(!kind.contains(HOLE), "templates/{name}: literal kind");
            assert!(
                object["apiVersion"]
                    .as_str()
                    .is_some_and(|v| !v.contains(HOLE)),
                "{name} {kind}"
            );
            assert!(
                object["metadata"]["name"].is_string(),
                "{name} {kind}: a name"
            );
            kinds.push(kind);
        }
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "Certificate",
            "Certificate",
            "ConfigMap",
            "Deployment",
            "Issuer",
            "Issuer",
            "MutatingWebhookConfiguration",
            "PodDisruptionBudget",
            "Secret",
            "Service",
            "ServiceAccount",
            "ServiceMonitor",
            "ValidatingWebhookConfiguration",
        ]
    );
}

#[test]
fn the_chart_describes_the_objects_counsel_install_prints() {
    let rendered = rendered();
    let installed = install(&[]);
    for object in &installed.objects {
        let kind = object["kind"].as_str().expect("kind");
        if kind == "Namespace" {
            // Helm leaves the namespace to `--create-namespace`.
            continue;
        }
        let mut chart = chart_object(&rendered, kind);
        let mut object = object.clone();
        if kind == "ConfigMap" {
            // The text differs (toYaml against the file); the configuration
            // must not.
            let chart_config = chart["data"]["counsel.yaml"].as_str().expect("text");
            let install_config = object["data"]["counsel.yaml"].as_str().expect("text");
            assert_eq!(
                parse_one(chart_config, "the chart's counsel.yaml"),
                parse_one(install_config, "install's counsel.yaml"),
            );
            chart["data"]["counsel.yaml"] = json!(HOLE.to_string());
        }
        if kind == "ValidatingWebhookConfiguration" {
            // Only with cert-manager (checked below): its CA injector.
            if let Some(metadata) = chart["metadata"].as_object_mut() {
                metadata.remove("annotations");
            }
        }
        if kind == "Deployment" {
            // The image is the same, named by helpers.
            object["spec"]["template"]["spec"]["containers"][0]["image"] = json!("");
        }
        agrees(&chart, &object, kind, &["policies"]).unwrap_or_else(|e| panic!("{e}"));
    }
    // The mutating webhook (only for policies in fix mode) is the
    // validating one pointed at /mutate, not reinvoked.
    let mut validating = installed.validating_webhook().clone();
    validating["name"] = json!(validating["name"].as_str().expect("name").replacen(
        "validate.",
        "mutate.",
        1
    ));
    validating["clientConfig"]["service"]["path"] = json!("/mutate");
    validating["reinvocationPolicy"] = json!("Never");
    let mutating = chart_object(&rendered, "MutatingWebhookConfiguration");
    agrees(&mutating["webhooks"][0], &validating, "mutating", &[])
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_defaults_are_those_of_counsel_install() {
    let values = values();
    let installed = install(&[]);
    let container = installed.container();
    assert_eq!(
        container["image"],
        format!(
            "{}:{}",
            values["image"]["repository"].as_str().expect("repository"),
            env!("CARGO_PKG_VERSION")
        )
    );
    assert_eq!(values["image"]["tag"], "", "the tag defaults to appVersion");
    assert_eq!(
        values["replicaCount"],
        installed.one("Deployment")["spec"]["replicas"]
    );
    let webhook = installed.validating_webhook();
    assert_eq!(values["webhook"]["rules"], webhook["rules"]);
    assert_eq!(values["webhook"]["failurePolicy"], webhook["failurePolicy"]);
    assert_eq!(
        values["webhook"]["timeoutSeconds"],
        webhook["timeoutSeconds"]
    );
    assert_eq!(values["resources"], container["resources"]);
    assert_eq!(values["securityContext"], container["securityContext"]);
    assert_eq!(
        values["podSecurityContext"],
        installed.pod_spec()["securityContext"]
    );
    assert_eq!(
        values["config"],
        parse_one(include_str!("../src/config/default.yaml"), "default.yaml")
    );
}

#[test]
fn the_webhooks_exclude_kube_system_and_the_release_namespace() {
    let values = values();
    assert_eq!(
        values["webhook"]["excludeNamespaces"],
        json!(["kube-system"])
    );
    let helper = &helpers(&read("templates/_helpers.tpl"))["counsel.excludedNamespaces"];
    assert!(
        helper.contains("append $namespaces .Release.Namespace"),
        "the release namespace is always excluded:\n{helper}"
    );
    let templates = read("templates/webhook.yaml");
    let uses = templates
        .matches("{{- include \"counsel.excludedNamespaces\" . | nindent 12 }}")
        .count();
    assert_eq!(uses, 2, "both webhooks use the excluded namespaces");
    let rendered = rendered();
    for kind in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        let webhook = &chart_object(&rendered, kind)["webhooks"][0];
        assert_eq!(
            webhook["namespaceSelector"]["matchExpressions"][0]["key"],
            "kubernetes.io/metadata.name",
            "{kind}"
        );
        assert_eq!(
            webhook["namespaceSelector"]["matchExpressions"][0]["operator"],
            "NotIn"
        );
    }
}

#[test]
fn tls_alternatives_produce_a_certificate_for_the_service_name() {
    let rendered = rendered();
    let installed = install(&["-n", "policy", "--name", "guard"]);
    let serving = rendered["certmanager.yaml"]
        .iter()
        .find(|object| object["kind"] == "Certificate" && object["spec"]["isCA"].is_null())
        .expect("the serving Certificate");
    let names = serving["spec"]["dnsNames"].as_array().expect("dnsNames");
    for (pattern, name) in names.iter().zip([
        "guard.policy.svc",
        "guard.policy",
        "guard",
        "guard.policy.svc.cluster.local",
    ]) {
        assert!(
            matches_pattern(pattern.as_str().expect("name"), name),
            "{pattern} ~ {name}"
        );
    }
    assert!(matches_pattern(
        serving["metadata"]["name"].as_str().expect("name"),
        "guard-serving"
    ));
    // cert-manager's injector fills the caBundle from that Certificate.
    let webhook = chart_object(&rendered, "ValidatingWebhookConfiguration");
    let inject = webhook["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
        .as_str()
        .expect("inject-ca-from");
    assert!(matches_pattern(inject, "policy/guard-serving"), "{inject}");
    // Helm's own generator issues for the same names as `counsel install`.
    let template = read("templates/webhook.yaml");
    assert!(template.contains(
        "{{- $names := list $service (printf \"%s.%s\" $fullname .Release.Namespace) $fullname (printf \"%s.cluster.local\" $service) }}"
    ));
    assert!(template.contains("{{- $cert := genSignedCert $service nil $names"));
    assert!(installed.one("Secret")["data"].get("ca.crt").is_some());
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
