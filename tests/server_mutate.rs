//! `POST /mutate` over real TLS: fix-mode policies' fixes come back as a
//! base64 JSON Patch that applies to the original object; only fixes safe
//! to make unattended are applied (suggestions are shown with their hint);
//! each applied fix is explained in a warning; fixes that disagree, objects
//! that would still be denied, nothing to fix, and warn/enforce policies get
//! no patch.

#[path = "support/client.rs"]
mod client;
#[path = "support/harness.rs"]
mod harness;

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
    let server = Harness::start(Some(&container_security("fix"))).await;
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
                "[container-security/privileged] set {field}.privileged=false: hint: If the container needs one specific privilege, add just that capability"
            )),
            "{}",
            warnings[0]
        );
        assert!(
            warnings[1].starts_with(&format!(
                "[container-security/allow-privilege-escalation] set {field}.privileged=false, set {field}.allowPrivilegeEscalation=false: hint: A privileged container always allows privil"
            )),
            "{}",
            warnings[1]
        );
        // The suggestion is shown, not made, with the hint that says what
        // it takes.
        assert!(
            warnings[2].starts_with(
                "[container-security/run-as-non-root] container \"app\" may run as root: neither it nor the pod sets runAsNonRoot to true (suggested fix, not applied: set spec.template.spec.securityContext.runAsNonRoot: true; hint: The image must then run as a non-zero us"
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
        message.starts_with("Deployment shop/web violates 5 rules:\n\n[pod-security/privileged]"),
        "{message}"
    );
    let warnings = warnings(&response);
    assert_eq!(
        warnings[0],
        "[counsel] fixes not applied: the object would still break enforced rules after them"
    );
    assert!(
        warnings[1].starts_with(
            "[container-security/privileged] container \"app\" runs privileged (fix: set"
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
        "[counsel] not fixed: fixes disagree about spec.containers[0].securityContext.capabilities.add: \
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
