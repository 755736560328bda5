//! `POST /mutate` over real TLS: fix-mode policies' fixes come back as a
//! base64 JSON Patch that applies to the original object; only fixes safe
//! to make unattended are applied (suggestions are shown with their hint);
//! each applied fix is explained in a warning; fixes that disagree, objects
//! that would still be denied, nothing to fix, and warn/enforce policies get
//! no patch.

use crate::support::client;
use crate::support::harness;

use base64::Engine as _;
use client::Protocol;
use harness::{Harness, clean_deployment, module, privileged_deployment, review};
use serde_json::{Value, json};

const JSON: Option<&str> = Some("application/json");

fn container_security(mode: &str) -> String {
    format!(
        "policies:\n  - name: container-security\n    module: {}\n    mode: {mode}\n",
        module("container-security").display()
    )
}

async fn answer(server: &Harness, path: &str, object: &Value) -> Value {
    let reply = server
        .client(Protocol::Http2)
        .post(path, JSON, review("uid-1", "CREATE", Some(object), None))
        .await
        .expect("answered");
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["response"].clone()
}

/// The patch of a response, decoded, and the original with it applied.
fn patched(response: &Value, original: &Value) -> (Value, Value) {
    assert_eq!(response["patchType"], "JSONPatch", "{response}");
    let encoded = response["patch"].as_str().expect("a base64 patch");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    let patch: json_patch::Patch = serde_json::from_slice(&bytes).expect("an RFC 6902 patch");
    let mut object = original.clone();
    json_patch::patch(&mut object, &patch).expect("the patch applies to the original");
    (serde_json::to_value(&patch).expect("JSON"), object)
}

fn warnings(response: &Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .map(|w| w.as_str().expect("text").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_privileged_deployment_comes_back_allowed_with_only_its_safe_fixes() {
    // Ops let fix mode warn about what it does not fix (else the suggestion
    // would deny, as a violation without a machine fix does).
    let config = format!("{}    unfixable: warn\n", container_security("fix"));
    let server = Harness::start(Some(&config)).await;
    // nginx runs as root: runAsNonRoot: true would make a pod the kubelet
    // refuses to start, so that fix is only a suggestion and not applied.
    let original = privileged_deployment();
    for path in ["/mutate", "/mutate/container-security"] {
        let response = answer(&server, path, &original).await;
        assert_eq!(response["allowed"], true, "{path}: {response}");
        let (patch, fixed) = patched(&response, &original);
        let container = "/spec/template/spec/containers/0";
        assert_eq!(
            patch,
            json!([
                {"op": "replace", "path": format!("{container}/securityContext/privileged"), "value": false},
                {"op": "add", "path": format!("{container}/securityContext/allowPrivilegeEscalation"), "value": false},
            ]),
            "{path}"
        );
        let warnings = warnings(&response);
        let field = "spec.template.spec.containers[0].securityContext";
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
        // Each applied fix keeps the hint enforce mode shows; the reason
        // gives way to the limit of 256 characters per warning.
        assert!(
            warnings[0].starts_with(&format!(
                "[container-security/privileged] Deployment shop/web: set {field}.privileged=false: hint: If the container needs one specific privilege, add just that capability"
            )),
            "{}",
            warnings[0]
        );
        assert!(
            warnings[1].starts_with(&format!(
                "[container-security/allow-privilege-escalation] Deployment shop/web: in {field}, set privileged=false, set allowPrivilegeEscalation=false: hint: A privileged container always allows privil"
            )),
            "{}",
            warnings[1]
        );
        // The suggestion is shown, not made (with the hint that says what
        // it takes when the 256 characters leave it room).
        assert!(
            warnings[2].starts_with(
                "[container-security/run-as-non-root] Deployment shop/web: container \"app\" may run as root: neither it nor the pod sets runAsNonRoot to true (suggested fix, not applied: set spec.template.spec.securityContext.runAsNonRoot: true"
            ),
            "{}",
            warnings[2]
        );
        assert!(warnings.iter().all(|w| w.chars().count() <= 256));
        // The patched object is left with what needs a person.
        let check = answer(&server, "/validate", &fixed).await;
        assert_eq!(check["allowed"], true);
        let left: Vec<String> = check["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .map(|w| w.as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(left.len(), 1, "{left:#?}");
        assert!(
            left[0].starts_with("[container-security/run-as-non-root]"),
            "{left:#?}"
        );
        assert_eq!(check.get("patch"), None);
    }
    // /validate never patches; fix-mode findings are warnings there.
    let response = answer(&server, "/validate", &original).await;
    assert_eq!(response["allowed"], true);
    assert_eq!(response.get("patch"), None);
    assert_eq!(warnings(&response).len(), 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_can_declare_a_suggestion_safe_for_their_images() {
    let config = format!(
        "{}    rules:\n      run-as-non-root: {{fixSafety: safe}}\n",
        container_security("fix")
    );
    let server = Harness::start(Some(&config)).await;
    let original = privileged_deployment();
    let response = answer(&server, "/mutate", &original).await;
    assert_eq!(response["allowed"], true, "{response}");
    let (patch, fixed) = patched(&response, &original);
    assert_eq!(
        patch[2],
        json!({"op": "add", "path": "/spec/template/spec/securityContext", "value": {"runAsNonRoot": true}})
    );
    assert_eq!(warnings(&response).len(), 3);
    let check = answer(&server, "/validate", &fixed).await;
    assert_eq!(check.get("warnings"), None, "{check}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_still_denied_after_fixing_gets_no_patch_and_the_usual_denial() {
    let config = format!(
        "{}  - name: pod-security\n    module: builtin:pod-security\n    settings: {{level: restricted}}\n    mode: enforce\n",
        container_security("fix")
    );
    let server = Harness::start(Some(&config)).await;
    let original = privileged_deployment();
    let response = answer(&server, "/mutate", &original).await;
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(response.get("patch"), None);
    assert_eq!(response.get("patchType"), None);
    let message = response["status"]["message"].as_str().expect("a message");
    assert!(
        message.starts_with("Deployment shop/web violates 6 rules:\n\n[pod-security/privileged]"),
        "{message}"
    );
    let warnings = warnings(&response);
    assert_eq!(
        warnings[0],
        "[counsel] Deployment shop/web: fixes not applied: the object would still break enforced rules after them"
    );
    assert!(
        warnings[1].starts_with(
            "[container-security/privileged] Deployment shop/web: container \"app\" runs privileged (fix: set"
        ),
        "{warnings:#?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixes_that_disagree_are_not_applied_and_the_answer_says_why() {
    // Capabilities fixes are suggestions; declared safe here, so that the
    // webhook would make them if they agreed.
    let config = "policies:\n  - name: baseline\n    module: builtin:pod-security\n    settings: {level: baseline}\n    mode: fix\n    rules: {capabilities: {fixSafety: safe}}\n  - name: restricted\n    module: builtin:pod-security\n    settings: {level: restricted}\n    mode: fix\n    rules: {capabilities: {fixSafety: safe}}\n";
    let server = Harness::start(Some(config)).await;
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "caps", "namespace": "shop"},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "app", "image": "registry.example.com/app:1.0", "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN", "CHOWN"]}
            }}]
        }
    });
    let response = answer(&server, "/mutate", &pod).await;
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(response.get("patch"), None);
    let warnings = warnings(&response);
    assert_eq!(
        warnings[0],
        "[counsel] Pod shop/caps: not fixed: fixes disagree about spec.containers[0].securityContext.capabilities.add: \
         [baseline/capabilities] sets [\"CHOWN\"], [restricted/capabilities] removes it; none is applied"
    );
    assert_eq!(
        warnings.len(),
        4,
        "the conflict, then the three findings: {warnings:#?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_to_fix_and_warn_or_enforce_policies_get_no_patch() {
    let server = Harness::start(Some(&container_security("fix"))).await;
    let response = answer(&server, "/mutate", &clean_deployment()).await;
    assert_eq!(response["allowed"], true);
    assert_eq!(response.get("patch"), None);
    assert_eq!(response.get("patchType"), None);
    assert_eq!(response.get("warnings"), None, "{response}");
    server.stop().await;
    for (mode, allowed) in [("warn", true), ("enforce", false)] {
        let server = Harness::start(Some(&container_security(mode))).await;
        let response = answer(&server, "/mutate", &privileged_deployment()).await;
        assert_eq!(response["allowed"], allowed, "{mode}: {response}");
        assert_eq!(response.get("patch"), None, "{mode}");
        server.stop().await;
    }
}

/// A Pod that mounts the node's root and runs as root: at `restricted`,
/// violations with machine fixes and violations without.
fn root_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root", "namespace": "shop"},
        "spec": {
            "securityContext": {"runAsUser": 0},
            "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
            "containers": [{"name": "app", "image": "registry.example.com/app:1.0",
                "volumeMounts": [{"name": "host", "mountPath": "/host"}]}]
        }
    })
}

fn pod_security_fix(extra: &str) -> String {
    format!(
        "policies:\n  - name: pod-security\n    module: builtin:pod-security\n    settings: {{level: restricted}}\n    mode: fix\n{extra}"
    )
}

const RESTRICTED_VOLUMES: &str = r#"[pod-security/restricted-volumes] volume "host" must not use the restricted volume type "hostPath" (Counsel cannot fix this one automatically)
  field: spec.volumes[0].hostPath (found: {"path":"/"})
  why: Volume types other than configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret reach outside the pod: the node's files, or network storage mounted with the node's credentials and no Kubernetes access control. An attacker in your container could read or overwrite data that belongs to others.
  hint: Use a volume scoped to the pod instead: emptyDir for scratch space, a persistentVolumeClaim for data that must survive the pod, a configMap or secret for files you ship with it. If the workload really needs the node's files (a log or metrics agent), ops must run it under an exemption.
  docs: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"#;

const RUN_AS_USER: &str = r#"[pod-security/run-as-user] pod must not set runAsUser=0 (Counsel cannot fix this one automatically)
  field: spec.securityContext.runAsUser (found: 0)
  why: runAsUser: 0 runs the container as root, the same user id as root on the node, so an attacker who breaks out of the container or reaches a file shared with the node does so as root. Any other user id keeps a compromise contained.
  hint: Pick a non-zero user id the image works with (many images document one, e.g. 101 for nginx-unprivileged or 65532 for distroless "nonroot"), set it here, and make sure the files the program writes are owned by that user or group (securityContext.fsGroup helps for volumes). If the image only works as root, it needs a rootless variant.
  docs: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"#;

/// Fixes that are only suggestions: fix mode does not make them, so they
/// deny as violations without a fix do.
const CAPABILITIES: &str = r#"[pod-security/capabilities] container "app" must set securityContext.capabilities.drop=["ALL"] (its fix is only a suggestion, which Counsel does not make at admission)
  field: spec.containers[0].securityContext.capabilities.drop (not set)
  why: Capabilities are slices of root's power: SYS_ADMIN is nearly full root, NET_ADMIN rewires the network, SYS_PTRACE reads other processes' memory. Each one is a tool for an attacker who gets code running in your container. Baseline forbids adding dangerous ones; restricted requires dropping ALL and adding back at most NET_BIND_SERVICE (ports below 1024).
  fix: set spec.containers[0].securityContext.capabilities.drop: ["ALL"]
  docs: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"#;

const RUN_AS_NON_ROOT: &str = r#"[pod-security/run-as-non-root] container "app" may run as root: neither it nor the pod sets securityContext.runAsNonRoot=true (its fix is only a suggestion, which Counsel does not make at admission)
  field: spec.securityContext.runAsNonRoot (not set)
  why: Many images run as root unless told otherwise, and root in a container is the same user id as root on the node: any escape (a kernel bug, a mounted socket, a shared file) lands as root on the node. With runAsNonRoot: true the kubelet refuses to start a container whose user is root.
  fix: set spec.securityContext.runAsNonRoot: true
  hint: The image must then run as a numeric non-root user: set USER 1000 (or any non-zero id) in its Dockerfile, or securityContext.runAsUser, or the kubelet refuses to start it.
  docs: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"#;

const CHECK: &str =
    "To see this report locally, pointing at the lines of your file: counsel check -f <file>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_mode_denies_what_it_cannot_fix() {
    let server = Harness::start(Some(&pod_security_fix(""))).await;
    for path in ["/mutate", "/validate"] {
        let response = answer(&server, path, &root_pod()).await;
        assert_eq!(response["allowed"], false, "{path}: {response}");
        assert_eq!(response.get("patch"), None, "{path}");
        assert_eq!(response["status"]["code"], 403, "{path}");
        assert_eq!(
            response["status"]["message"].as_str().expect("a message"),
            format!(
                "Pod shop/root violates 4 rules:\n\n{CAPABILITIES}\n\n{RUN_AS_USER}\n\n{RESTRICTED_VOLUMES}\n\n{RUN_AS_NON_ROOT}\n\n{CHECK}"
            ),
            "{path}"
        );
        // What could be fixed is still named, as warnings.
        let warnings = warnings(&response);
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("[pod-security/seccomp] ")),
            "{path}: {warnings:#?}"
        );
        assert_eq!(
            warnings.iter().any(|w| w
                == "[counsel] Pod shop/root: fixes not applied: the object would still break enforced rules after them"),
            path == "/mutate",
            "{path}: {warnings:#?}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_can_let_fix_mode_warn_about_what_it_cannot_fix() {
    let server = Harness::start(Some(&pod_security_fix("    unfixable: warn\n"))).await;
    let original = root_pod();
    let response = answer(&server, "/mutate", &original).await;
    assert_eq!(response["allowed"], true, "{response}");
    let (_, fixed) = patched(&response, &original);
    assert_eq!(
        fixed["spec"]["securityContext"]["seccompProfile"],
        json!({"type": "RuntimeDefault"})
    );
    let warnings = warnings(&response);
    for unfixable in [
        "[pod-security/run-as-user] Pod shop/root: pod must not set runAsUser=0 (hint: Pick a non-zero user id the image works with (many images document one, e.g. 101 for nginx-unprivileged or 65532 for distroless \"nonroot\"), set it here, and make sure the...",
        "[pod-security/restricted-volumes] Pod shop/root: volume \"host\" must not use the restricted volume type \"hostPath\" (hint: Use a volume scoped to the pod instead: emptyDir for scratch space, a persistentVolumeClaim for data that must survive the pod, a...",
    ] {
        assert!(warnings.iter().any(|w| w == unfixable), "{warnings:#?}");
    }
    server.stop().await;
    // Per rule: only the rule named warns; the other still denies.
    let server = Harness::start(Some(&pod_security_fix(
        "    rules:\n      restricted-volumes: {unfixable: warn}\n",
    )))
    .await;
    let response = answer(&server, "/mutate", &original).await;
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(
        response["status"]["message"].as_str().expect("a message"),
        format!(
            "Pod shop/root violates 3 rules:\n\n{CAPABILITIES}\n\n{RUN_AS_USER}\n\n{RUN_AS_NON_ROOT}\n\n{CHECK}"
        )
    );
    server.stop().await;
}
