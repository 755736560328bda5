//! What a developer reads in kubectl when an object breaks many rules: a
//! denial within 4 KB that says each rule's reason once and counts what it
//! leaves out, and warnings that name their object, within Kubernetes'
//! limits (256 characters each, 4096 in all), against the real bundled
//! policies, over real TLS.

use crate::support::client;
use crate::support::harness;

use client::Protocol;
use harness::{Harness, review};
use serde_json::{Value, json};

const JSON: Option<&str> = Some("application/json");

async fn answer(server: &Harness, object: &Value) -> Value {
    let reply = server
        .client(Protocol::Http2)
        .post(
            "/validate",
            JSON,
            review("many-1", "CREATE", Some(object), None),
        )
        .await
        .expect("answered");
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["response"].clone()
}

/// A Pod `shop/kitchen-sink` that breaks most of the restricted level, in
/// each of its `n` containers and at the pod level.
fn kitchen_sink(n: usize) -> Value {
    let containers: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "name": format!("c{i}"),
                "image": "nginx",
                "ports": [{"containerPort": 80, "hostPort": 8080 + i}],
                "securityContext": {
                    "privileged": true,
                    "runAsUser": 0,
                    "capabilities": {"add": ["SYS_ADMIN", "NET_ADMIN"]},
                    "seccompProfile": {"type": "Unconfined"}
                }
            })
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "kitchen-sink", "namespace": "shop"},
        "spec": {
            "hostNetwork": true,
            "hostPID": true,
            "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
            "containers": containers
        }
    })
}

/// What kubectl prints after `denied the request: ` for `kitchen_sink(3)`
/// under the built-in configuration: 30 violations of 9 rules in 4 KB.
const KITCHEN_SINK_DENIAL: &str = r#"Pod shop/kitchen-sink has 28 violations of 9 rules:

[pod-security/privileged] Containers must not run privileged: 3 violations
  container "c0" runs privileged
    field: spec.containers[0].securityContext.privileged (found: true)
    fix: set spec.containers[0].securityContext.privileged: false
  container "c1" runs privileged
    field: spec.containers[1].securityContext.privileged (found: true)
    fix: set spec.containers[1].securityContext.privileged: false
  container "c2" runs privileged
    field: spec.containers[2].securityContext.privileged (found: true)
    fix: set spec.containers[2].securityContext.privileged: false
  why: A privileged container can do anything root on the node can: it sees every device, can mount the node's disks and load kernel modules. Whoever gets code running in it (through a bug in your app or a poisoned dependency) owns the node and every pod on it.
  hint: If the container needs one specific power, grant that capability instead of privileged mode (at baseline; restricted allows only NET_BIND_SERVICE).
  docs: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline

[pod-security/host-namespaces] Pods must not share the node's network, process or IPC namespace: 2 violations
  pod must not set hostNetwork=true (it shares the node's network)
    field: spec.hostNetwork (found: true)
    fix: set spec.hostNetwork: false
  pod must not set hostPID=true (it shares the node's process list)
    field: spec.hostPID (found: true)
    fix: set spec.hostPID: false
  why: hostNetwork lets the pod see the node's network traffic and reach services that listen only on the node; hostPID lets it see and signal every process on the node and read their environment, secrets included; hostIPC lets it read other processes' shared memory. Each removes a wall between your pod and everything else on the node.
  docs: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline

Also broken:
  [pod-security/capabilities] container "c0" must set securityContext.capabilities.drop=["ALL"]
  [pod-security/capabilities] container "c0" must not add capability "SYS_ADMIN" at restricted
  [pod-security/capabilities] container "c0" must not add capability "NET_ADMIN" at restricted
  [pod-security/capabilities] container "c1" must set securityContext.capabilities.drop=["ALL"]
  [pod-security/capabilities] container "c1" must not add capability "SYS_ADMIN" at restricted
  [pod-security/capabilities] container "c1" must not add capability "NET_ADMIN" at restricted
  [pod-security/capabilities] container "c2" must set securityContext.capabilities.drop=["ALL"]
  [pod-security/capabilities] container "c2" must not add capability "SYS_ADMIN" at restricted
  [pod-security/capabilities] container "c2" must not add capability "NET_ADMIN" at restricted
  [pod-security/run-as-user] container "c0" must not set runAsUser=0
  [pod-security/run-as-user] container "c1" must not set runAsUser=0
  [pod-security/run-as-user] container "c2" must not set runAsUser=0
  [pod-security/seccomp] container "c0" must not set securityContext.seccompProfile.type to "Unconfined"
  [pod-security/seccomp] container "c1" must not set securityContext.seccompProfile.type to "Unconfined"
  [pod-security/seccomp] container "c2" must not set securityContext.seccompProfile.type to "Unconfined"
  [pod-security/host-ports] container "c0" must not open hostPort 8080 (ports[0])
  [pod-security/host-ports] container "c1" must not open hostPort 8081 (ports[0])
  [pod-security/host-ports] container "c2" must not open hostPort 8082 (ports[0])
  [pod-security/allow-privilege-escalation] container "c0" does not set securityContext.allowPrivilegeEscalation=false

4 more violations left out to keep this message short: pod-security/allow-privilege-escalation (2), pod-security/restricted-volumes (1), pod-security/run-as-non-root (1).
To see this report locally, pointing at the lines of your file: counsel check -f <file>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_with_many_violations_is_denied_in_4_kb_each_reason_said_once() {
    let server = Harness::start(None).await;
    let response = answer(&server, &kitchen_sink(3)).await;
    assert_eq!(response["allowed"], false);
    let message = response["status"]["message"].as_str().expect("message");
    assert_eq!(message, KITCHEN_SINK_DENIAL);
    assert!(message.len() <= 4096, "{} bytes", message.len());
    // Each rule's reason once, however many times the rule is broken.
    for why in message
        .lines()
        .filter_map(|line| line.strip_prefix("  why: "))
    {
        assert_eq!(message.matches(why).count(), 1, "{why}");
    }
    // No text is cut inside a word: every line is whole or ends in "...",
    // after a whole word.
    for line in message.lines() {
        if let Some(kept) = line.strip_suffix("...") {
            assert!(kept.ends_with(|c: char| c.is_alphanumeric()), "{line}");
        }
    }
    // The answer for tools lists what the message shows, then the count.
    let causes = response["status"]["details"]["causes"]
        .as_array()
        .expect("causes");
    assert_eq!(causes.len(), 30 - 6 + 1);
    assert_eq!(
        causes[0],
        json!({
            "reason": "FieldValueForbidden",
            "message": "[pod-security/privileged] container \"c0\" runs privileged",
            "field": "spec.containers[0].securityContext.privileged"
        })
    );
    assert_eq!(
        causes[24],
        json!({
            "reason": "ViolationsLeftOut",
            "message": "4 more violations left out; counsel check -f <file> lists them all"
        })
    );

    // Eighty containers: 723 violations, of which the policy lists 101 (at
    // most 20 a rule, the rest counted on the first); still 4 KB, the most
    // severe first.
    let response = answer(&server, &kitchen_sink(80)).await;
    let message = response["status"]["message"].as_str().expect("message");
    assert!(message.len() <= 4096, "{} bytes", message.len());
    assert!(
        message.starts_with(
            "Pod shop/kitchen-sink has 101 violations of 9 rules:\n\n[pod-security/privileged] Containers must not run privileged: 20 violations\n  container \"c0\" runs privileged (20 listed here, and 60 more violations of this rule)\n"
        ),
        "{message}"
    );
    let last = message.lines().rev().nth(1).expect("the left-out line");
    let left_out: usize = last
        .split_once(" more violations left out to keep this message short: ")
        .and_then(|(count, _)| count.parse().ok())
        .expect(last);
    let causes = response["status"]["details"]["causes"]
        .as_array()
        .expect("causes");
    assert_eq!(causes.len() - 1 + left_out, 101);
    assert!(message.ends_with(
        "\nTo see this report locally, pointing at the lines of your file: counsel check -f <file>"
    ));
    server.stop().await;
}

const PODS_WARN: &str = "policies:\n  - name: pod-security\n    module: builtin:pod-security\n    settings: {level: restricted}\n    mode: warn\n";

/// A Deployment `shop/{name}` whose `n` containers run privileged as root.
fn privileged_deployment(name: &str, n: usize) -> Value {
    let containers: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "name": format!("c{i}"),
                "image": "registry.example.com/app:1.0",
                "securityContext": {"privileged": true, "runAsUser": 0}
            })
        })
        .collect();
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": containers}
            }
        }
    })
}

fn warnings(response: &Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w.as_str().expect("text").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_name_their_object_within_kubernetes_limits() {
    let server = Harness::start(Some(PODS_WARN)).await;
    let response = answer(&server, &privileged_deployment("web", 1)).await;
    assert_eq!(response["allowed"], true);
    assert_eq!(
        warnings(&response),
        [
            r#"[pod-security/privileged] Deployment shop/web: container "c0" runs privileged (fix: set spec.template.spec.containers[0].securityContext.privileged: false)"#,
            r#"[pod-security/capabilities] Deployment shop/web: container "c0" must set securityContext.capabilities.drop=["ALL"] (fix: set spec.template.spec.containers[0].securityContext.capabilities.drop: ["ALL"])"#,
            // Without a fix, the hint; cut after a whole word.
            r#"[pod-security/run-as-user] Deployment shop/web: container "c0" must not set runAsUser=0 (hint: Pick a non-zero user id the image works with (many images document one, e.g. 101 for nginx-unprivileged or 65532 for distroless "nonroot"), set it here, and..."#,
            // The message gives way to the fix, after a whole word.
            r#"[pod-security/seccomp] Deployment shop/web: container "c0" has no seccomp profile: neither it nor the pod sets securityContext.seccompProfile.type to "RuntimeDefault" or... (fix: set spec.template.spec.securityContext.seccompProfile.type: "RuntimeDefault")"#,
            r#"[pod-security/allow-privilege-escalation] Deployment shop/web: container "c0" does not set securityContext.allowPrivilegeEscalation=false (fix: set spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: false)"#,
            r#"[pod-security/run-as-non-root] Deployment shop/web: container "c0" may run as root: neither it nor the pod sets securityContext.runAsNonRoot=true (fix: set spec.template.spec.securityContext.runAsNonRoot: true)"#,
        ]
    );
    // The same findings about another object read differently: kubectl,
    // which prints a warning text once per run, shows both objects'.
    let other = warnings(&answer(&server, &privileged_deployment("api", 1)).await);
    assert_eq!(other.len(), 6);
    for warning in &other {
        assert!(warning.contains("] Deployment shop/api: "), "{warning}");
    }

    // Twenty containers, 120 findings: within 256 characters each and 4096
    // in all (Kubernetes counts characters), most severe first, each naming
    // the object, and a last warning counting what is left out.
    let all = warnings(&answer(&server, &privileged_deployment("web", 20)).await);
    let total: usize = all.iter().map(|w| w.chars().count()).sum();
    assert!(total <= 4096, "{total} characters");
    assert!(all.iter().all(|w| w.chars().count() <= 256), "{all:#?}");
    let (last, shown) = all.split_last().expect("warnings");
    for warning in shown {
        assert!(
            warning.starts_with("[pod-security/")
                && warning.contains("] Deployment shop/web: container \"c"),
            "{warning}"
        );
    }
    for (i, warning) in shown.iter().take(20).enumerate() {
        assert_eq!(
            *warning,
            format!(
                "[pod-security/privileged] Deployment shop/web: container \"c{i}\" runs privileged (fix: set spec.template.spec.containers[{i}].securityContext.privileged: false)"
            )
        );
    }
    assert_eq!(
        *last,
        format!(
            "[counsel] Deployment shop/web: {} more warnings left out (Kubernetes passes on at most 4096 characters of warnings); to see them all: counsel check -f <file>",
            // The policy lists at most 20 violations of a rule and counts
            // the rest (on the first it lists): 82 findings in all.
            82 - shown.len()
        )
    );
    assert_eq!(shown.len(), 24);

    // A name as long as Kubernetes allows, with a line break (which would
    // make the API server drop the warning): shortened, on one line, and
    // the rule and object still come first.
    let mut object = privileged_deployment("web", 1);
    object["metadata"]["name"] = json!(format!("web\nforged-{}", "x".repeat(240)));
    let forged = warnings(&answer(&server, &object).await);
    assert_eq!(forged.len(), 6);
    let subject = format!("Deployment shop/web forged-{}...", "x".repeat(50));
    assert_eq!(subject.chars().count(), 80);
    for warning in &forged {
        assert!(warning.chars().count() <= 256, "{warning}");
        assert!(!warning.contains(char::is_control), "{warning:?}");
        let (label, rest) = warning.split_once(' ').expect("a label");
        assert!(label.starts_with("[pod-security/"), "{warning}");
        assert!(
            rest.starts_with(&format!("{subject}: container \"c0\" ")),
            "{warning}"
        );
    }
    assert_eq!(
        forged[4],
        format!(
            "[pod-security/allow-privilege-escalation] {subject}: container \"c0\" does not set... (fix: set spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: false)"
        )
    );
    server.stop().await;
}
