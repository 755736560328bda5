//! What developers and ops read from `counsel serve`: the denial message,
//! warnings within Kubernetes' limits, audit annotations, DELETE and dryRun,
//! and policies that fail, end to end over real TLS.

use crate::support::client;
use crate::support::harness;

use std::time::{Duration, Instant};

use client::Protocol;
use harness::{Harness, clean_deployment, module, privileged_deployment, review};
use serde_json::{Value, json};

const JSON: Option<&str> = Some("application/json");

fn container_security(mode: &str, extra: &str) -> String {
    format!(
        "policies:\n  - name: container-security\n    module: {}\n    mode: {mode}\n    contact: \"#platform-security\"\n{extra}",
        module("container-security").display()
    )
}

async fn answer(server: &Harness, protocol: Protocol, path: &str, body: Vec<u8>) -> Value {
    let reply = server
        .client(protocol)
        .post(path, JSON, body)
        .await
        .expect("answered");
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["response"].clone()
}

const PRIVILEGED_DENIAL: &str = r#"Deployment shop/web violates 3 rules:

[container-security/privileged] container "app" runs privileged
  field: spec.template.spec.containers[0].securityContext.privileged (found: true)
  why: A privileged container has every Linux capability and sees the node's devices: whoever gets into it, through a bug in the app say, controls the node and every pod on it.
  fix: set spec.template.spec.containers[0].securityContext.privileged: false
  hint: If the container needs one specific privilege, add just that capability under securityContext.capabilities.add instead.
  docs: https://wiki.example.com/k8s/privileged
  contact: #platform-security

[container-security/allow-privilege-escalation] container "app" does not set allowPrivilegeEscalation to false
  field: spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation (not set)
  why: Unless allowPrivilegeEscalation is false, a process in the container can gain more privileges than it started with (through setuid programs such as sudo), turning a small foothold into root inside the container.
  fix: set spec.template.spec.containers[0].securityContext.privileged: false; set spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: false
  hint: A privileged container always allows privilege escalation, so the fix also turns privileged off.
  docs: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
  contact: #platform-security

[container-security/run-as-non-root] container "app" may run as root: neither it nor the pod sets runAsNonRoot to true
  field: spec.template.spec.securityContext.runAsNonRoot (not set)
  why: Root in a container is root on the node the moment it escapes the container. With runAsNonRoot: true the kubelet refuses to start a container whose user would be root, so an image that quietly runs as root is caught before it runs.
  fix: set spec.template.spec.securityContext.runAsNonRoot: true
  hint: The image must then run as a non-zero user: set runAsUser, or use a numeric USER in the image, or the kubelet refuses to start the container.
  docs: https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
  contact: #platform-security

To see this report locally, pointing at the lines of your file: counsel check -f <file>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_privileged_deployment_is_denied_with_an_explanation() {
    let config = container_security(
        "enforce",
        "    rules:\n      privileged: {docs: \"https://wiki.example.com/k8s/privileged\"}\n",
    );
    let server = Harness::start(Some(&config)).await;
    for protocol in [Protocol::Http1, Protocol::Http2] {
        let response = answer(
            &server,
            protocol,
            "/validate",
            review("deny-1", "CREATE", Some(&privileged_deployment()), None),
        )
        .await;
        assert_eq!(response["uid"], "deny-1");
        assert_eq!(response["allowed"], false);
        let status = &response["status"];
        assert_eq!(status["status"], "Failure");
        assert_eq!(status["code"], 403);
        assert_eq!(status["reason"], "Forbidden");
        assert_eq!(
            status["message"].as_str().expect("message"),
            PRIVILEGED_DENIAL
        );
        assert_eq!(
            status["details"],
            json!({
                "name": "web",
                "group": "apps",
                "kind": "Deployment",
                "causes": [
                    {
                        "reason": "FieldValueForbidden",
                        "message": "[container-security/privileged] container \"app\" runs privileged",
                        "field": "spec.template.spec.containers[0].securityContext.privileged"
                    },
                    {
                        "reason": "FieldValueForbidden",
                        "message": "[container-security/allow-privilege-escalation] container \"app\" does not set allowPrivilegeEscalation to false",
                        "field": "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation"
                    },
                    {
                        "reason": "FieldValueForbidden",
                        "message": "[container-security/run-as-non-root] container \"app\" may run as root: neither it nor the pod sets runAsNonRoot to true",
                        "field": "spec.template.spec.securityContext.runAsNonRoot"
                    }
                ]
            })
        );
        assert_eq!(response.get("warnings"), None);
        assert_eq!(response.get("auditAnnotations"), None);
    }
    // A clean object is allowed, silently.
    let response = answer(
        &server,
        Protocol::Http2,
        "/validate",
        review("allow-1", "CREATE", Some(&clean_deployment()), None),
    )
    .await;
    assert_eq!(
        response,
        json!({"uid": "allow-1", "allowed": true, "status": {"status": "Success"}})
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_is_judged_the_same() {
    let config = container_security(
        "enforce",
        "    rules:\n      privileged: {docs: \"https://wiki.example.com/k8s/privileged\"}\n",
    );
    let server = Harness::start(Some(&config)).await;
    let mut body: Value = serde_json::from_slice(&review(
        "dry-1",
        "CREATE",
        Some(&privileged_deployment()),
        None,
    ))
    .expect("JSON");
    body["request"]["dryRun"] = json!(true);
    let response = answer(
        &server,
        Protocol::Http2,
        "/validate",
        serde_json::to_vec(&body).expect("JSON"),
    )
    .await;
    assert_eq!(response["uid"], "dry-1");
    assert_eq!(response["allowed"], false);
    assert_eq!(
        response["status"]["message"].as_str().expect("message"),
        PRIVILEGED_DENIAL
    );
    server.stop().await;
}

/// A Deployment with `n` containers that run privileged and set
/// runAsNonRoot to false: three violations per container.
fn many_privileged_containers(n: usize) -> Value {
    let containers: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("c{i}"), "image": "nginx:1.27", "securityContext": {"privileged": true, "runAsNonRoot": false}}))
        .collect();
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "wide", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "wide"}},
            "template": {"metadata": {"labels": {"app": "wide"}}, "spec": {"containers": containers}}}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_mode_allows_with_warnings_within_kubernetes_limits() {
    let server = Harness::start(Some(&container_security("warn", ""))).await;
    // One container: every warning fits.
    let response = answer(
        &server,
        Protocol::Http2,
        "/validate",
        review("warn-1", "CREATE", Some(&privileged_deployment()), None),
    )
    .await;
    assert_eq!(response["allowed"], true);
    assert_eq!(
        response["warnings"],
        json!([
            "[container-security/privileged] Deployment shop/web: container \"app\" runs privileged (fix: set spec.template.spec.containers[0].securityContext.privileged: false)",
            // Over 256 characters with each fix in full: the fixes are said
            // once under their common parent.
            "[container-security/allow-privilege-escalation] Deployment shop/web: container \"app\" does not set allowPrivilegeEscalation to false (fix: in spec.template.spec.containers[0].securityContext, set privileged: false; set allowPrivilegeEscalation: false)",
            "[container-security/run-as-non-root] Deployment shop/web: container \"app\" may run as root: neither it nor the pod sets runAsNonRoot to true (fix: set spec.template.spec.securityContext.runAsNonRoot: true)",
        ])
    );

    // Twenty containers, sixty violations: capped, most severe first, and
    // a last line saying how many were left out.
    let response = answer(
        &server,
        Protocol::Http1,
        "/validate",
        review(
            "warn-60",
            "CREATE",
            Some(&many_privileged_containers(20)),
            None,
        ),
    )
    .await;
    assert_eq!(response["allowed"], true);
    let warnings: Vec<&str> = response["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w.as_str().expect("text"))
        .collect();
    let total: usize = warnings.iter().map(|w| w.chars().count()).sum();
    assert!(total <= 4096, "{total} characters of warnings");
    assert!(
        warnings.iter().all(|w| w.chars().count() <= 256),
        "{warnings:#?}"
    );
    let (shown, last) = warnings.split_at(warnings.len() - 1);
    assert_eq!(
        last[0],
        format!(
            "[counsel] Deployment shop/wide: {} more warnings left out (Kubernetes passes on at most 4096 characters of warnings); to see them all: counsel check -f <file>",
            60 - shown.len()
        )
    );
    assert!(shown.len() >= 20, "only {} of 60 shown", shown.len());
    // The critical ones (privileged) come first, in container order.
    for (i, warning) in shown.iter().take(20).enumerate() {
        assert_eq!(
            *warning,
            format!(
                "[container-security/privileged] Deployment shop/wide: container \"c{i}\" runs privileged (fix: set spec.template.spec.containers[{i}].securityContext.privileged: false)"
            )
        );
    }
    assert!(shown[20..].iter().all(|w| !w.contains("/privileged]")));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_mode_allows_and_records_audit_annotations() {
    let server = Harness::start(Some(&container_security("audit", ""))).await;
    let response = answer(
        &server,
        Protocol::Http2,
        "/validate",
        review("audit-1", "CREATE", Some(&privileged_deployment()), None),
    )
    .await;
    assert_eq!(
        response,
        json!({
            "uid": "audit-1",
            "allowed": true,
            "status": {"status": "Success"},
            "auditAnnotations": {
                "container-security.privileged": "container \"app\" runs privileged (spec.template.spec.containers[0].securityContext.privileged: true)",
                "container-security.allow-privilege-escalation": "container \"app\" does not set allowPrivilegeEscalation to false (spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: not set)",
                "container-security.run-as-non-root": "container \"app\" may run as root: neither it nor the pod sets runAsNonRoot to true (spec.template.spec.securityContext.runAsNonRoot: not set)",
            }
        })
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_is_judged_on_the_old_object_and_never_denied() {
    let config = format!(
        "{}  - name: guard\n    module: {}\n    settings: {{behaviour: deny}}\n    match: {{operations: [DELETE]}}\n",
        container_security("enforce", ""),
        module("test-hostile").display()
    );
    let server = Harness::start(Some(&config)).await;
    let response = answer(
        &server,
        Protocol::Http2,
        "/validate",
        review("delete-1", "DELETE", None, Some(&privileged_deployment())),
    )
    .await;
    // Only the DELETE policy ran (container-security matches CREATE and
    // UPDATE), and it saw the stored object: its name and kind. A deletion
    // changes nothing in the object, so what it found does not deny (an
    // object that breaks a policy must stay deletable).
    assert_eq!(
        response,
        json!({
            "uid": "delete-1",
            "allowed": true,
            "status": {"status": "Success"},
            "warnings": ["[guard/hostile] Deployment shop/web: already there before this change: the object's name is not allowed"]
        })
    );

    // With no DELETE policy, deleting is allowed.
    let server_without = Harness::start(Some(&container_security("enforce", ""))).await;
    let response = response_of(
        &server_without,
        review("delete-2", "DELETE", None, Some(&privileged_deployment())),
    )
    .await;
    assert_eq!(
        response,
        json!({"uid": "delete-2", "allowed": true, "status": {"status": "Success"}})
    );
    server.stop().await;
    server_without.stop().await;
}

async fn response_of(server: &Harness, body: Vec<u8>) -> Value {
    answer(server, Protocol::Http2, "/validate", body).await
}

fn with_stuck_policy(failure_policy: &str, timeout: &str) -> String {
    format!(
        "{}  - name: stuck\n    module: {}\n    settings: {{behaviour: loop}}\n    failurePolicy: {failure_policy}\n    timeout: {timeout}\n    contact: \"#team-stuck\"\n",
        container_security("enforce", ""),
        module("test-hostile").display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_policy_under_fail_denies_in_time_saying_the_policy_failed() {
    let server = Harness::start(Some(&with_stuck_policy("fail", "300ms"))).await;
    let response = answer(
        &server,
        Protocol::Http2,
        "/validate?timeout=5s",
        review("stuck-1", "CREATE", Some(&clean_deployment()), None),
    )
    .await;
    assert_eq!(response["uid"], "stuck-1");
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 500);
    assert_eq!(response["status"]["reason"], "InternalError");
    assert_eq!(
        response["status"]["message"],
        "Deployment shop/web could not be checked: 1 policy failed:\n\n[stuck] policy \"stuck\" failed (did not finish within its deadline of 300 ms), so it could not check this object; this is not a problem with your object; contact #team-stuck"
    );
    assert_eq!(
        response["status"]["details"]["causes"],
        json!([{
            "reason": "PolicyFailed",
            "message": "[stuck] policy \"stuck\" failed (did not finish within its deadline of 300 ms), so it could not check this object; this is not a problem with your object; contact #team-stuck"
        }])
    );

    // The API server's timeout bounds the evaluation even when the policy's
    // own deadline is longer.
    let server = Harness::start(Some(&with_stuck_policy("fail", "20s"))).await;
    let response = answer(
        &server,
        Protocol::Http1,
        "/validate?timeout=1s",
        review("stuck-2", "CREATE", Some(&clean_deployment()), None),
    )
    .await;
    assert_eq!(response["allowed"], false);
    // Normally the policy's deadline is cut to the time left and it is
    // reported as failed with that deadline; on a starved machine the
    // server's own deadline may come first and every policy that must check
    // is named. Either way the answer blames the policy and names it, and
    // no deadline past the API server's second applied.
    let message = response["status"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("Deployment shop/web could not be checked: "),
        "{message}"
    );
    assert!(
        message.contains("\n\n[stuck] policy \"stuck\" "),
        "{message}"
    );
    assert!(
        message.contains("not a problem with your object"),
        "{message}"
    );
    if let Some((_, rest)) = message.split_once("did not finish within its deadline of ") {
        let deadline_ms: u64 = rest
            .split_once(" ms)")
            .and_then(|(ms, _)| ms.parse().ok())
            .unwrap_or_else(|| panic!("{message}"));
        assert!(deadline_ms < 1_000, "{message}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_policy_under_ignore_allows_with_a_warning_and_healthy_ones_keep_answering() {
    let server = Harness::start(Some(&with_stuck_policy("ignore", "300ms"))).await;
    let response = answer(
        &server,
        Protocol::Http2,
        "/validate?timeout=5s",
        review("stuck-3", "CREATE", Some(&clean_deployment()), None),
    )
    .await;
    assert_eq!(response["allowed"], true);
    assert_eq!(
        response["warnings"],
        json!([
            "[stuck] Deployment shop/web: policy \"stuck\" failed (did not finish within its deadline of 300 ms), so it could not check this object; this is not a problem with your object; contact #team-stuck"
        ])
    );
    assert_eq!(
        response["auditAnnotations"]["stuck.failed"],
        "policy \"stuck\" failed (did not finish within its deadline of 300 ms), so it could not check this object; this is not a problem with your object; contact #team-stuck"
    );

    // While the stuck policy burns its deadline on several requests, the
    // healthy policy alone still answers, correctly (that it is not queued
    // behind them is shown in tests/server_fairness.rs).
    let mut stuck = Vec::new();
    for i in 0..4 {
        let client = server.client(Protocol::Http2);
        stuck.push(tokio::spawn(async move {
            let body = review(
                &format!("stuck-bg-{i}"),
                "CREATE",
                Some(&clean_deployment()),
                None,
            );
            client
                .post("/validate", JSON, body)
                .await
                .expect("answered")
                .json()
        }));
    }
    client::metrics_until(server.ops, "a stuck review in flight", |metrics| {
        client::metric(metrics, "counsel_reviews_in_flight") > 0
    })
    .await;
    for i in 0..5 {
        let response = answer(
            &server,
            Protocol::Http1,
            "/validate/container-security",
            review(
                &format!("healthy-{i}"),
                "CREATE",
                Some(&privileged_deployment()),
                None,
            ),
        )
        .await;
        assert_eq!(response["uid"], format!("healthy-{i}"));
        assert_eq!(response["allowed"], false);
        assert_eq!(
            response["status"]["details"]["causes"]
                .as_array()
                .expect("causes")
                .len(),
            3
        );
    }
    for task in stuck {
        let body = task.await.expect("task");
        assert_eq!(body["response"]["allowed"], true, "{body}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_overload_reviews_are_answered_in_time_per_failure_policy() {
    for failure_policy in ["fail", "ignore"] {
        // One evaluation slot, held for 3 s by a looping policy that only
        // sees namespace `hog` (long evaluations are not moved off their
        // slot here: tests/server_fairness.rs shows that they are);
        // container-security sees everything.
        let config = format!(
            "policies:\n  - name: container-security\n    module: {}\n    failurePolicy: {failure_policy}\n    contact: \"#platform-security\"\n  - name: stuck\n    module: {}\n    settings: {{behaviour: loop}}\n    timeout: 3s\n    failurePolicy: ignore\n    match: {{namespaces: {{include: [hog]}}}}\n",
            module("container-security").display(),
            module("test-hostile").display()
        );
        let server = Harness::start_with(Some(&config), |options| {
            options.concurrency = Some(1);
            options.long_evaluation = Duration::from_secs(60);
        })
        .await;
        let client = server.client(Protocol::Http2);
        let hog = tokio::spawn(async move {
            let mut object = clean_deployment();
            object["metadata"]["namespace"] = json!("hog");
            client
                .post(
                    "/validate?timeout=10s",
                    JSON,
                    review("hog", "CREATE", Some(&object), None),
                )
                .await
        });
        // Once the hog holds the slot, a review is answered per
        // failurePolicy within the API server's second, while the hog
        // still holds it.
        client::metrics_with(server.ops, "counsel_reviews_in_flight 1").await;
        let response = answer(
            &server,
            Protocol::Http1,
            "/validate?timeout=1s",
            review("late", "CREATE", Some(&privileged_deployment()), None),
        )
        .await;
        assert!(
            !hog.is_finished(),
            "{failure_policy}: answered only after the slot was free"
        );
        assert_eq!(response["uid"], "late");
        if failure_policy == "fail" {
            assert_eq!(response["allowed"], false);
            assert_eq!(response["status"]["code"], 503);
            assert_eq!(response["status"]["reason"], "ServiceUnavailable");
            assert_eq!(
                response["status"]["message"],
                "Deployment shop/web could not be checked: the webhook is overloaded. This is not a problem with your object; retry in a moment.\n\n[container-security] policy \"container-security\" must check this request (failurePolicy: fail); if this persists, contact #platform-security"
            );
        } else {
            assert_eq!(response["allowed"], true);
            assert_eq!(
                response["warnings"],
                json!([
                    "[container-security] Deployment shop/web: not checked: the webhook is overloaded (failurePolicy: ignore, so the request is allowed)"
                ])
            );
        }
        let hog = hog
            .await
            .expect("task")
            .expect("the slot holder is answered too");
        assert_eq!(hog.json()["response"]["allowed"], true);
        let metrics = client::http_get(server.ops, "/metrics").await.text();
        assert!(
            metrics.contains("counsel_reviews_unevaluated_total{reason=\"overload\"} 1\n"),
            "{metrics}"
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_configuration_is_reloaded_and_a_broken_one_refused() {
    let server = Harness::start_with(Some(&container_security("enforce", "")), |options| {
        options.config_poll_interval = Duration::from_millis(100);
    })
    .await;
    let privileged = || review("reload", "CREATE", Some(&privileged_deployment()), None);
    assert_eq!(
        answer(&server, Protocol::Http2, "/validate", privileged()).await["allowed"],
        false
    );

    let config_path = server.config_path.clone().expect("config file");
    std::fs::write(&config_path, container_security("warn", "")).expect("rewritten");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = answer(&server, Protocol::Http2, "/validate", privileged()).await;
        if response["allowed"] == true {
            assert_eq!(response["warnings"].as_array().expect("warnings").len(), 3);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new configuration was never used"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    std::fs::write(
        &config_path,
        "policies:\n  - name: broken\n    modul: nowhere.wasm\n",
    )
    .expect("rewritten");
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let metrics = client::http_get(server.ops, "/metrics").await.text();
        if metrics.contains("counsel_reloads_total{what=\"config\",outcome=\"failure\"} 1\n") {
            break metrics;
        }
        assert!(
            Instant::now() < deadline,
            "the broken configuration was never refused: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let response = answer(&server, Protocol::Http2, "/validate", privileged()).await;
    assert_eq!(response["allowed"], true, "the previous policies stay");
    assert!(
        metrics.contains("counsel_reloads_total{what=\"config\",outcome=\"success\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("counsel_reloads_total{what=\"config\",outcome=\"failure\"} 1\n"),
        "{metrics}"
    );
    server.stop().await;
}

/// A Pod with `n` containers that run privileged.
fn privileged_pod(n: usize) -> Value {
    let containers: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("c{i}"), "image": "nginx:1.27", "securityContext": {"privileged": true}}))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "wide", "namespace": "shop"},
        "spec": {"containers": containers}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_that_breaks_a_rule_800_times_is_denied_with_the_first_and_a_count() {
    // failurePolicy ignore: were the verdict too large for the engine, the
    // policy would count as failed and the Pod be let in.
    let config = format!(
        "policies:\n  - name: pod-security\n    module: {}\n    settings: {{level: baseline}}\n    failurePolicy: ignore\n",
        module("pod-security").display()
    );
    let server = Harness::start(Some(&config)).await;
    let response = answer(
        &server,
        Protocol::Http2,
        "/validate",
        review("wide-1", "CREATE", Some(&privileged_pod(800)), None),
    )
    .await;
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(response["status"]["code"], 403);
    let message = response["status"]["message"].as_str().expect("message");
    assert!(
        !message.contains("failed"),
        "the policy did not fail: {message}"
    );
    assert!(
        message.contains(
            "[pod-security/privileged] Containers must not run privileged: 20 violations\n  container \"c0\" runs privileged (20 listed here, and 780 more violations of this rule)\n"
        ),
        "{message}"
    );
    let listed: Vec<usize> = (0..800)
        .filter(|i| message.contains(&format!("container \"c{i}\" runs privileged")))
        .collect();
    // The first ones, in order, as many as the 4 KB denial holds.
    assert!(listed.len() >= 10, "{listed:?}");
    assert_eq!(listed, (0..listed.len()).collect::<Vec<_>>());
    server.stop().await;
}
