//! `counsel install`: the real binary's output, parsed as `kubectl apply`
//! would read it, checked object by object; its certificates checked as the
//! API server would; its Deployment run as the kubelet would; and its pods
//! checked against Counsel's own restricted Pod Security policy.

#[path = "install/manifests.rs"]
mod manifests;
#[path = "install/serve.rs"]
mod serve;
#[path = "install/tls.rs"]
mod tls;

use serde_json::{Value, json};

use manifests::{Installed, base64_decode, counsel, install, install_in};

const DEFAULT_CONFIG: &str = include_str!("../src/config/default.yaml");

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
            "Namespace",
            "ServiceAccount",
            "ConfigMap",
            "Secret",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "ValidatingWebhookConfiguration",
        ]
    );
    let expected = [
        ("v1", "Namespace", "policy", None),
        ("v1", "ServiceAccount", "guard", Some("policy")),
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
    // Without a policy in `fix` mode there is nothing to mutate.
    assert!(!installed.text.contains("MutatingWebhookConfiguration"));
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
fn the_ca_bundle_verifies_the_serving_certificate_for_the_service_name() {
    let installed = install(&["-n", "policy", "--name", "guard"]);
    let ca = base64_decode(
        installed.validating_webhook()["clientConfig"]["caBundle"]
            .as_str()
            .expect("caBundle"),
    );
    let cert = installed.secret_data("tls.crt");
    let key = installed.secret_data("tls.key");
    assert_eq!(installed.secret_data("ca.crt"), ca, "the Secret's ca.crt");
    assert_eq!(installed.one("Secret")["type"], "kubernetes.io/tls");

    for name in ["guard.policy.svc", "guard.policy", "guard"] {
        tls::handshake(&ca, name, &cert, &key)
            .unwrap_or_else(|e| panic!("TLS to {name} with the caBundle: {e}"));
    }
    let wrong_name = tls::handshake(&ca, "guard.other.svc", &cert, &key).expect_err("wrong name");
    assert!(
        matches!(
            wrong_name,
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{wrong_name:?}"
    );
    // Every run makes a new CA: another installation's bundle does not
    // verify this certificate.
    let other = install(&["-n", "policy", "--name", "guard"]);
    let other_ca = base64_decode(
        other.validating_webhook()["clientConfig"]["caBundle"]
            .as_str()
            .expect("caBundle"),
    );
    let foreign = tls::handshake(&other_ca, "guard.policy.svc", &cert, &key).expect_err("other CA");
    assert!(
        matches!(
            foreign,
            // Both CAs are named alike; the signature tells them apart.
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer | rustls::CertificateError::BadSignature
            )
        ),
        "{foreign:?}"
    );
}

#[test]
fn a_kept_ca_keeps_the_ca_bundle_and_issues_a_new_serving_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let made = counsel(
        dir.path(),
        &["certs", "--out", "ca", "--dns", "counsel.counsel.svc"],
        None,
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let args = ["--ca-cert", "ca/ca.crt", "--ca-key", "ca/ca.key"];
    let first = install_in(dir.path(), &args);
    let second = install_in(dir.path(), &args);
    let bundle =
        |installed: &Installed| installed.validating_webhook()["clientConfig"]["caBundle"].clone();
    assert_eq!(bundle(&first), bundle(&second));
    let ca = std::fs::read(dir.path().join("ca/ca.crt")).expect("ca.crt");
    assert_eq!(
        base64_decode(bundle(&first).as_str().expect("caBundle")),
        ca
    );
    assert_ne!(first.secret_data("tls.crt"), second.secret_data("tls.crt"));
    for installed in [&first, &second] {
        tls::handshake(
            &ca,
            "counsel.counsel.svc",
            &installed.secret_data("tls.crt"),
            &installed.secret_data("tls.key"),
        )
        .expect("the kept CA verifies the new certificate");
    }
    let half = counsel(dir.path(), &["install", "--ca-cert", "ca/ca.crt"], None);
    assert_eq!(half.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&half.stderr).contains("--ca-key <FILE>"),
        "{}",
        String::from_utf8_lossy(&half.stderr)
    );
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
fn the_webhook_is_sent_creates_and_updates_of_every_workload_kind() {
    let installed = install(&[]);
    assert_eq!(
        installed.validating_webhook()["rules"],
        json!([
            {"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods", "replicationcontrollers", "podtemplates"], "operations": ["CREATE", "UPDATE"], "scope": "*"},
            {"apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"], "operations": ["CREATE", "UPDATE"], "scope": "*"},
            {"apiGroups": ["batch"], "apiVersions": ["v1"], "resources": ["jobs", "cronjobs"], "operations": ["CREATE", "UPDATE"], "scope": "*"},
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

#[test]
fn the_deployment_runs_counsel_serve_as_it_expects_to_be_run() {
    let installed = install(&[]);
    let container = installed.container();
    assert_eq!(container["args"], json!(["serve"]));
    let env = environment(container);

    // Every variable is one `counsel serve` reads.
    let dir = tempfile::tempdir().expect("temp dir");
    let help = counsel(dir.path(), &["serve", "--help"], None);
    let help = String::from_utf8_lossy(&help.stdout);
    for name in env.keys() {
        assert!(
            help.contains(&format!("[env: {name}=")),
            "serve reads {name}"
        );
    }
    // The listeners are on the ports the pod declares and the probes use.
    let port_of = |name: &str| {
        let address = env[name].as_str().expect("address");
        address
            .rsplit(':')
            .next()
            .expect("port")
            .parse::<u64>()
            .expect("number")
    };
    assert_eq!(
        port_of("COUNSEL_LISTEN"),
        container_port(&installed, &json!("https"))
    );
    assert_eq!(
        port_of("COUNSEL_METRICS_LISTEN"),
        container_port(&installed, &json!("metrics"))
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "metrics"})
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "metrics"})
    );

    // The configuration, certificate and cache are where the variables say.
    let mounts = volume_mounts(&installed);
    let (config, _) = &mounts["/etc/counsel/config"];
    assert_eq!(env["COUNSEL_CONFIG"], "/etc/counsel/config/counsel.yaml");
    assert_eq!(config["configMap"]["name"], "counsel-config");
    assert_eq!(
        installed.one("ConfigMap")["data"],
        json!({"counsel.yaml": DEFAULT_CONFIG})
    );
    let (tls, _) = &mounts["/etc/counsel/tls"];
    assert_eq!(env["COUNSEL_TLS_CERT"], "/etc/counsel/tls/tls.crt");
    assert_eq!(env["COUNSEL_TLS_KEY"], "/etc/counsel/tls/tls.key");
    assert_eq!(tls["secret"]["secretName"], "counsel-tls");
    let (cache, writable) = &mounts["/var/cache/counsel"];
    assert_eq!(env["COUNSEL_CACHE_DIR"], "/var/cache/counsel");
    assert!(cache.get("emptyDir").is_some() && *writable, "{cache}");
    assert_eq!(mounts.len(), 3, "{mounts:?}");

    // Restricted, and nothing to write but the cache.
    assert_eq!(
        container["securityContext"],
        json!({
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        })
    );
    let pod = installed.pod_spec();
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["serviceAccountName"], "counsel");
}

/// The container's environment, by name.
pub fn environment(container: &Value) -> serde_json::Map<String, Value> {
    container["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|var| {
            (
                var["name"].as_str().expect("name").to_owned(),
                var["value"].clone(),
            )
        })
        .collect()
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
fn counsels_own_deployment_passes_its_restricted_pod_security_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let installed = install_in(dir.path(), &[]);
    std::fs::write(
        dir.path().join("restricted.yaml"),
        "policies:\n  - name: pod-security\n    module: builtin:pod-security\n    \
         settings: {level: restricted}\n    mode: enforce\n",
    )
    .expect("write config");
    let checked = counsel(
        dir.path(),
        &["check", "-f", "-", "-c", "restricted.yaml", "-o", "json"],
        Some(&installed.text),
    );
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
    let report: Value = serde_json::from_slice(&checked.stdout).expect("JSON");
    let deployment = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|result| result["kind"] == "Deployment")
        .expect("the Deployment was checked");
    assert_eq!(deployment["allowed"], true);
    assert_eq!(deployment["violations"], json!([]));
    assert_eq!(deployment["failures"], json!([]));

    // The default configuration (restricted, enforced; hygiene warned):
    // allowed, and the only advice is to pin the image by digest.
    let checked = counsel(dir.path(), &["check", "-f", "-"], Some(&installed.text));
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("warning[workload-hygiene/image-digest]: Deployment counsel/counsel"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 errors, 1 warning in 8 objects\n"),
        "{stdout}"
    );
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
            "error: broken.yaml:3: policy \"a\": module: there is no bundled policy \"nope\"; bundled are builtin:pod-security, builtin:workload-hygiene, builtin:container-security\n",
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
fn the_deployment_serves_as_deployed() {
    let installed = install(&["-n", "policy", "--name", "guard"]);
    serve::run_as_deployed(&installed, "guard.policy.svc");
}

#[test]
fn the_ops_guide_example_configuration_is_one_counsel_accepts() {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"),
    )
    .expect("docs/operations.md");
    let section = guide
        .split("## Write a counsel.yaml")
        .nth(1)
        .expect("the counsel.yaml section");
    let example = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a YAML example");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("counsel.yaml"), example).expect("write");
    let installed = install_in(dir.path(), &["--config", "counsel.yaml"]);
    assert_eq!(
        installed.one("ConfigMap")["data"]["counsel.yaml"],
        example,
        "shipped as written"
    );
    let checked = counsel(
        dir.path(),
        &["check", "-c", "counsel.yaml", "-f", "-"],
        Some(&installed.text),
    );
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
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
         (they are sent Pod, ReplicationController, PodTemplate, Deployment, ReplicaSet, \
         StatefulSet, DaemonSet, Job, CronJob); add a rule for it to the webhook configurations\n"
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("kind: ValidatingWebhookConfiguration")
    );
}

/// The fenced blocks of `language` in the ops guide's section `heading`.
fn guide_blocks(heading: &str, language: &str) -> Vec<String> {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"),
    )
    .expect("docs/operations.md");
    let section = guide
        .split(&format!("\n## {heading}\n"))
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_else(|| panic!("no section {heading:?}"));
    section
        .split(&format!("```{language}\n"))
        .skip(1)
        .map(|block| block.split("```").next().expect("closed block").to_owned())
        .collect()
}

#[test]
fn the_ops_guide_shows_what_counsel_serve_answers() {
    let configs = guide_blocks("What developers see", "yaml");
    let texts = guide_blocks("What developers see", "text");
    let review = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/review-privileged.json"),
    )
    .expect("example review");
    let dir = tempfile::tempdir().expect("temp dir");

    // The denial, as kubectl prints it.
    std::fs::write(dir.path().join("counsel.yaml"), &configs[0]).expect("write");
    let installed = install_in(dir.path(), &["--config", "counsel.yaml"]);
    let deployed = serve::Deployed::start(&installed, "counsel.counsel.svc");
    let response = deployed.review(&review);
    let (kubectl, message) = texts[0]
        .split_once("denied the request: ")
        .expect("kubectl's words, then Counsel's");
    assert!(
        kubectl.ends_with(&format!(
            "admission webhook {} ",
            installed.validating_webhook()["name"]
        )),
        "{kubectl}"
    );
    assert_eq!(response["status"]["message"], message.trim_end());

    // The same in warn mode.
    let warn = configs[0].replace("mode: enforce", "mode: warn");
    std::fs::write(dir.path().join("counsel.yaml"), warn).expect("write");
    let installed = install_in(dir.path(), &["--config", "counsel.yaml"]);
    let deployed = serve::Deployed::start(&installed, "counsel.counsel.svc");
    let response = deployed.review(&review);
    assert_eq!(response["allowed"], true);
    let shown: Vec<&str> = texts[1]
        .lines()
        .filter_map(|line| line.strip_prefix("Warning: "))
        .collect();
    assert_eq!(response["warnings"], json!(shown));
}

#[test]
fn the_ops_guide_shows_what_counsel_check_prints() {
    let texts = guide_blocks("What developers see", "text");
    let shown = texts.last().expect("the counsel check example");
    let (command, output) = shown.split_once('\n').expect("command line");
    let args: Vec<&str> = command
        .strip_prefix("$ counsel ")
        .expect("a counsel command")
        .split_whitespace()
        .collect();
    let (head, tail) = output.split_once("...\n").expect("an elided middle");
    let mut full_args = args.clone();
    full_args.extend(["--color", "never"]);
    // The example files, at the same relative paths, in a scratch folder.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("examples")).expect("mkdir");
    for file in args.iter().filter(|arg| arg.starts_with("examples/")) {
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file),
            dir.path().join(file),
        )
        .expect("copy the example");
    }
    let checked = counsel(dir.path(), &full_args, None);
    let printed = String::from_utf8_lossy(&checked.stdout);
    assert!(printed.starts_with(head), "{printed}");
    assert!(printed.ends_with(tail), "{printed}");
    assert_eq!(checked.status.code(), Some(1));
}
