//! What an UPDATE is denied for, over real TLS: only for what it changes.
//! An object that predates a policy can still be labelled, have its status
//! written and its finalizers removed, and be deleted; a violation the
//! update adds or changes denies; `updates: strict` re-judges the whole
//! object, yet never denies what cannot change it.

use crate::support::client;
use crate::support::harness;

use client::Protocol;
use harness::{Harness, clean_deployment, module, privileged_deployment, review};
use serde_json::{Value, json};

const JSON: Option<&str> = Some("application/json");

fn container_security(extra: &str) -> String {
    format!(
        "policies:\n  - name: container-security\n    module: {}\n    mode: enforce\n{extra}",
        module("container-security").display()
    )
}

/// The answer to an AdmissionReview `body`, after `edit` changed its request.
async fn answer(server: &Harness, body: Vec<u8>, edit: impl FnOnce(&mut Value)) -> Value {
    let mut body: Value = serde_json::from_slice(&body).expect("JSON");
    edit(&mut body["request"]);
    let reply = server
        .client(Protocol::Http2)
        .post("/validate", JSON, serde_json::to_vec(&body).expect("JSON"))
        .await
        .expect("answered");
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["response"].clone()
}

async fn update(server: &Harness, old: &Value, new: &Value) -> Value {
    answer(server, review("u", "UPDATE", Some(new), Some(old)), |_| {}).await
}

fn labelled(mut object: Value) -> Value {
    object["metadata"]["labels"] = json!({"team": "shop"});
    object
}

/// `object` being deleted, held back by `finalizers`.
fn deleting(mut object: Value, finalizers: &[&str]) -> Value {
    object["metadata"]["deletionTimestamp"] = json!("2026-12-05T01:00:00Z");
    object["metadata"]["finalizers"] = json!(finalizers);
    object
}

const CHECK: &str =
    "To see this report locally, pointing at the lines of your file: counsel check -f <file>";

const PRIVILEGED_BLOCK: &str = r#"[container-security/privileged] container "app" runs privileged
  field: spec.template.spec.containers[0].securityContext.privileged (found: true)
  why: A privileged container has every Linux capability and sees the node's devices: whoever gets into it, through a bug in the app say, controls the node and every pod on it.
  fix: set spec.template.spec.containers[0].securityContext.privileged: false
  hint: If the container needs one specific privilege, add just that capability under securityContext.capabilities.add instead.
  docs: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"#;

const HOST_PORT_BLOCK: &str = r#"[pod-security/host-ports] container "app" must not open hostPort 8080 (ports[0])
  field: spec.template.spec.containers[0].ports[0].hostPort (found: 8080)
  why: A hostPort opens the port on the node's own address, outside the Services and NetworkPolicies that guard your pod, and pins the pod to nodes where the port is free. Anyone who can reach the node reaches your container.
  fix: remove spec.template.spec.containers[0].ports[0].hostPort
  hint: Reach the container through a Service (type NodePort or LoadBalancer if it must be reachable from outside the cluster) instead of a port on the node.
  docs: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"#;

const RUN_AS_ROOT_BLOCK: &str = r#"[container-security/run-as-non-root] the pod sets runAsNonRoot to false, which container "app" inherits
  field: spec.template.spec.securityContext.runAsNonRoot (found: false)
  why: Root in a container is root on the node the moment it escapes the container. With runAsNonRoot: true the kubelet refuses to start a container whose user would be root, so an image that quietly runs as root is caught before it runs.
  fix: set spec.template.spec.securityContext.runAsNonRoot: true
  hint: The image must then run as a non-zero user: set runAsUser, or use a numeric USER in the image, or the kubelet refuses to start the container.
  docs: https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"#;

const FIX_PRIVILEGED: &str =
    "(fix: set spec.template.spec.containers[0].securityContext.privileged: false)";

/// The three warnings of container-security for the privileged Deployment,
/// when every one of its violations was there before the update.
fn predating_warnings() -> Value {
    json!([
        format!(
            "[container-security/privileged] Deployment shop/web: already there before this change: container \"app\" runs privileged {FIX_PRIVILEGED}"
        ),
        "[container-security/allow-privilege-escalation] Deployment shop/web: already there before this change: container \"app\" does not set... (fix: in spec.template.spec.containers[0].securityContext, set privileged: false; set allowPrivilegeEscalation: false)",
        "[container-security/run-as-non-root] Deployment shop/web: already there before this change: container \"app\" may run as root: neither it nor the pod sets runAsNonRoot to true (fix: set spec.template.spec.securityContext.runAsNonRoot: true)",
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_that_keeps_what_was_there_is_allowed_with_warnings_that_say_so() {
    let server = Harness::start(Some(&container_security(""))).await;
    let old = privileged_deployment();
    // kubectl label: only metadata changes.
    let response = update(&server, &old, &labelled(old.clone())).await;
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(response["warnings"], predating_warnings());
    // A change elsewhere in the spec leaves the old violations where they were.
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.28");
    let response = update(&server, &old, &new).await;
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(response["warnings"], predating_warnings());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_that_adds_a_violation_is_denied_for_it_alone() {
    let server = Harness::start(Some(&container_security(""))).await;
    let old = clean_deployment();
    let mut new = clean_deployment();
    new["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    let response = update(&server, &old, &new).await;
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(response["status"]["code"], 403);
    assert_eq!(
        response["status"]["message"].as_str().expect("message"),
        format!("Deployment shop/web violates 1 rule:\n\n{PRIVILEGED_BLOCK}\n\n{CHECK}")
    );
    assert_eq!(response.get("warnings"), None, "{response}");

    // Added next to one that was there: the old one warns, the new one denies.
    let mut old = privileged_deployment();
    old["spec"]["template"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] =
        json!(false);
    old["spec"]["template"]["spec"]["securityContext"] = json!({"runAsNonRoot": true});
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["securityContext"] = json!({"runAsNonRoot": false});
    let response = update(&server, &old, &new).await;
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(
        response["status"]["message"].as_str().expect("message"),
        format!("Deployment shop/web violates 1 rule:\n\n{RUN_AS_ROOT_BLOCK}\n\n{CHECK}")
    );
    assert_eq!(
        response["warnings"],
        json!([format!(
            "[container-security/privileged] Deployment shop/web: already there before this change: container \"app\" runs privileged {FIX_PRIVILEGED}"
        )])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_that_changes_a_violating_value_to_another_is_denied() {
    let config = "policies:\n  - name: pod-security\n    module: builtin:pod-security\n    settings: {level: baseline}\n    mode: enforce\n";
    let server = Harness::start(Some(config)).await;
    let mut old = clean_deployment();
    old["spec"]["template"]["spec"]["containers"][0]["ports"] =
        json!([{"containerPort": 80, "hostPort": 80}]);
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["containers"][0]["ports"][0]["hostPort"] = json!(8080);
    let response = update(&server, &old, &new).await;
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(
        response["status"]["message"].as_str().expect("message"),
        format!("Deployment shop/web violates 1 rule:\n\n{HOST_PORT_BLOCK}\n\n{CHECK}")
    );
    // The same value again is what was there.
    let response = update(&server, &old, &labelled(old.clone())).await;
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(
        response["warnings"],
        json!([
            "[pod-security/host-ports] Deployment shop/web: already there before this change: container \"app\" must not open hostPort 80 (ports[0]) (fix: remove spec.template.spec.containers[0].ports[0].hostPort)"
        ])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_updates_judge_the_whole_object() {
    let server = Harness::start(Some(&container_security("    updates: strict\n"))).await;
    let old = privileged_deployment();
    let created = answer(&server, review("c", "CREATE", Some(&old), None), |_| {}).await;
    assert_eq!(created["allowed"], false);
    let response = update(&server, &old, &labelled(old.clone())).await;
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(response["status"], created["status"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_change_the_object_is_never_denied_even_when_strict() {
    let server = Harness::start(Some(&container_security("    updates: strict\n"))).await;
    let old = privileged_deployment();

    // A write to the status subresource.
    let mut new = old.clone();
    new["status"] = json!({"replicas": 1, "readyReplicas": 1});
    let body = review("s", "UPDATE", Some(&new), Some(&old));
    let response = answer(&server, body, |request| {
        request["subResource"] = json!("status");
        request["requestSubResource"] = json!("status");
    })
    .await;
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(response["warnings"], predating_warnings());

    // Removing a finalizer while the object is being deleted.
    let before = deleting(old.clone(), &["example.com/a", "example.com/b"]);
    let after = deleting(old.clone(), &["example.com/b"]);
    let response = update(&server, &before, &after).await;
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(response["warnings"], predating_warnings());
    // ... but anything else changed while it is deleted is an update.
    let response = update(&server, &before, &labelled(after.clone())).await;
    assert_eq!(response["allowed"], false, "{response}");

    // DELETE, even by policies configured to see it, one of which denies
    // whatever it sees and one of which fails under `failurePolicy: fail`.
    let hostile = module("test-hostile");
    let config = format!(
        "policies:\n  - name: guard\n    module: {0}\n    settings: {{behaviour: deny}}\n    updates: strict\n    match: {{operations: [DELETE]}}\n  - name: broken\n    module: {0}\n    settings: {{behaviour: trap}}\n    failurePolicy: fail\n    match: {{operations: [DELETE]}}\n",
        hostile.display()
    );
    let server_delete = Harness::start(Some(&config)).await;
    let response = answer(
        &server_delete,
        review("d", "DELETE", None, Some(&old)),
        |_| {},
    )
    .await;
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(
        response["warnings"],
        json!([
            "[guard/hostile] Deployment shop/web: already there before this change: the object's name is not allowed",
            "[broken] Deployment shop/web: policy \"broken\" failed (crashed: wasm trap: wasm `unreachable` instruction executed), so it could not check this object; this is not a problem with your object; contact the cluster's operators",
        ])
    );
    server.stop().await;
    server_delete.stop().await;
}
