//! Exceptions at the webhook, over real TLS with the bundled
//! container-security policy: exception objects given to the server state
//! (as the cluster watch gives them) turn denials into one warning each,
//! are counted in the metrics, and name themselves in the denial once
//! expired; exception objects sent for admission are checked by Counsel.

use crate::support::times;

use crate::support::client::{Protocol, metrics_with};
use crate::support::harness::{Harness, container_security_config, privileged_deployment, review};
use serde_json::{Value, json};

const JSON: Option<&str> = Some("application/json");
const DAY: i64 = 86_400;
const RULES: [&str; 3] = [
    "privileged",
    "allow-privilege-escalation",
    "run-as-non-root",
];

fn exception(name: &str, expires: &str) -> Value {
    json!({
        "apiVersion": "counsel.dev/v1alpha1",
        "kind": "CounselException",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "policy": "container-security",
            "rules": RULES,
            "objects": {"kinds": ["Deployment"], "names": ["web"]},
            "reason": "the vendor agent needs the host's devices until v5",
            "owner": "team-payments",
            "expires": expires,
        }
    })
}

async fn answer(server: &Harness, path: &str, operation: &str, object: &Value) -> Value {
    let reply = server
        .client(Protocol::Http2)
        .post(path, JSON, review("e-1", operation, Some(object), None))
        .await
        .expect("answered");
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["response"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_exception_turns_each_denial_into_one_warning_naming_it() {
    let server = Harness::start(Some(&container_security_config())).await;
    let errors = server
        .state
        .set_exception_objects(vec![exception("legacy-agent", &times::from_now(20 * DAY))]);
    assert!(errors.is_empty(), "{errors:?}");
    let response = answer(&server, "/validate", "CREATE", &privileged_deployment()).await;
    assert_eq!(response["allowed"], json!(true));
    let mut warnings: Vec<String> =
        serde_json::from_value(response["warnings"].clone()).expect("warnings");
    warnings.sort();
    let mut rules = RULES;
    rules.sort();
    let expected: Vec<String> = rules
        .iter()
        .map(|rule| format!(
            "[container-security/{rule}] Deployment shop/web: excepted by CounselException shop/legacy-agent (owner: team-payments; expires in 20 days): the vendor agent needs the host's devices until v5"
        ))
        .collect();
    assert_eq!(warnings, expected);
    let metrics = metrics_with(
        server.ops,
        "counsel_excepted_findings_total{policy=\"container-security\",rule=\"privileged\",exception=\"CounselException shop/legacy-agent\"} 1",
    )
    .await;
    assert!(metrics.contains(
        "counsel_evaluations_total{policy=\"container-security\",rule=\"privileged\",mode=\"enforce\",outcome=\"excepted\"} 1\n"
    ), "{metrics}");

    // Near its end, the warning says so and what comes then.
    server
        .state
        .set_exception_objects(vec![exception("legacy-agent", &times::from_now(5 * DAY))]);
    let response = answer(&server, "/validate", "CREATE", &privileged_deployment()).await;
    let warnings: Vec<String> =
        serde_json::from_value(response["warnings"].clone()).expect("warnings");
    assert!(warnings.contains(&
        "[container-security/privileged] Deployment shop/web: excepted by CounselException shop/legacy-agent (owner: team-payments; expires soon, in 5 days; then this is denied): the vendor agent needs the host's devices until v5".to_owned()
    ), "{warnings:?}");

    // Expired: denied again, naming it.
    let expired = times::from_now(-3 * DAY);
    server
        .state
        .set_exception_objects(vec![exception("legacy-agent", &expired)]);
    let response = answer(&server, "/validate", "CREATE", &privileged_deployment()).await;
    assert_eq!(response["allowed"], json!(false));
    let message = response["status"]["message"].as_str().expect("message");
    assert!(message.contains(&format!(
        "container \"app\" runs privileged (the exception CounselException shop/legacy-agent (owner: team-payments) expired 3 days ago, at {expired}, so this counts again)"
    )), "{message}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn exception_objects_are_checked_by_counsel_on_admission() {
    let server = Harness::start(Some(&container_security_config())).await;
    let good = exception("legacy-agent", &times::from_now(20 * DAY));
    let response = answer(&server, "/validate", "CREATE", &good).await;
    assert_eq!(response["allowed"], json!(true), "{response}");

    let mut bad = exception("legacy-agent", "soon");
    bad["spec"]["policy"] = json!("pod-security");
    bad["spec"].as_object_mut().expect("spec").remove("reason");
    let response = answer(&server, "/validate", "UPDATE", &bad).await;
    assert_eq!(response["allowed"], json!(false));
    assert_eq!(response["status"]["code"], json!(422));
    assert_eq!(
        response["status"]["message"],
        json!(
            "CounselException shop/legacy-agent: spec.reason: missing; an exception must say why it is granted; \
             spec.expires: \"soon\" is not an RFC 3339 time; write e.g. 2026-12-31T00:00:00Z; \
             spec.policy: no policy named \"pod-security\" is configured; the policies are container-security"
        )
    );
    // Deleting one is never refused.
    let response = answer(&server, "/validate", "DELETE", &bad).await;
    assert_eq!(response["allowed"], json!(true));
    server.stop().await;
}
