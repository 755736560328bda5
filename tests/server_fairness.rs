//! One policy, or one client, cannot take the webhook from everyone else:
//! a policy that loops gets its share of the machine and no more, its
//! reviews are answered per failurePolicy within the API server's timeout,
//! and HTTP/2 streams a client gives up on leave the queue. End to end over
//! real TLS and HTTP/2.

use crate::support::client;
use crate::support::harness;

use std::time::Duration;

use client::Protocol;
use harness::{Harness, clean_deployment, module, privileged_deployment, review};
use serde_json::{Value, json};

const JSON: Option<&str> = Some("application/json");

/// container-security for everyone, and `stuck`, which loops until its
/// deadline, for objects in namespace `hog` only.
fn config(stuck_failure_policy: &str, stuck_timeout: &str) -> String {
    format!(
        "policies:\n  - name: container-security\n    module: {}\n    contact: \"#platform-security\"\n  - name: stuck\n    module: {}\n    settings: {{behaviour: loop}}\n    timeout: {stuck_timeout}\n    failurePolicy: {stuck_failure_policy}\n    contact: \"#team-stuck\"\n    match: {{namespaces: {{include: [hog]}}}}\n",
        module("container-security").display(),
        module("test-hostile").display()
    )
}

fn hog_review(uid: &str) -> Vec<u8> {
    let mut object = clean_deployment();
    object["metadata"]["namespace"] = json!("hog");
    review(uid, "CREATE", Some(&object), None)
}

/// The AdmissionReview response of a 200 answer.
fn response_of(reply: &client::Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["response"].clone()
}

/// A privileged Deployment in `shop` got container-security's own verdict:
/// denied for its three violations, not an answer without evaluation.
fn assert_judged(response: &Value, uid: &str) {
    assert_eq!(response["uid"], uid);
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(response["status"]["code"], 403, "{response}");
    assert_eq!(response["status"]["reason"], "Forbidden", "{response}");
    let causes = response["status"]["details"]["causes"]
        .as_array()
        .expect("causes");
    let rules: Vec<&str> = causes
        .iter()
        .map(|cause| cause["message"].as_str().expect("message"))
        .map(|message| message.split(']').next().unwrap_or_default())
        .collect();
    assert_eq!(
        rules,
        [
            "[container-security/privileged",
            "[container-security/allow-privilege-escalation",
            "[container-security/run-as-non-root"
        ]
    );
}

const STOPPED: &str = "[stuck] policy \"stuck\" failed (was stopped: it ran longer than 50 ms while 2 other evaluations of it already were, the most one policy may have at once, so it was stopped to leave the machine to other reviews), so it could not check this object; this is not a problem with your object; contact #team-stuck";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_policy_in_many_requests_leaves_other_reviews_their_verdicts() {
    // Two slots, as on a two-core machine: four long slots, two per policy.
    let server =
        Harness::start_with(Some(&config("fail", "20s")), |o| o.concurrency = Some(2)).await;
    // Eight reviews that make `stuck` loop, at once, each on its own
    // connection as the API server's calls may come.
    let (answered, mut answers) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..8 {
        let client = server.client(Protocol::Http2);
        let answered = answered.clone();
        tokio::spawn(async move {
            let reply = client
                .post(
                    "/validate?timeout=5s",
                    JSON,
                    hog_review(&format!("hog-{i}")),
                )
                .await;
            let _ = answered.send(reply);
        });
    }
    drop(answered);
    // Two of them may run long; the other six are stopped once they turn
    // long, and answered per stuck's failurePolicy: denied, blaming it.
    for _ in 0..6 {
        let reply = answers.recv().await.expect("answered").expect("a reply");
        let response = response_of(&reply);
        assert_eq!(response["allowed"], false, "{response}");
        assert_eq!(response["status"]["code"], 500, "{response}");
        assert_eq!(
            response["status"]["message"],
            format!("Deployment hog/web could not be checked: 1 policy failed:\n\n{STOPPED}")
        );
    }
    // While those two loop, every other review still gets its verdict.
    let mut connection = server
        .client(Protocol::Http2)
        .connect()
        .await
        .expect("connects");
    for i in 0..20 {
        let uid = format!("shop-{i}");
        let reply = connection
            .post(
                "/validate?timeout=10s",
                JSON,
                review(&uid, "CREATE", Some(&privileged_deployment()), None),
            )
            .await
            .expect("answered");
        assert_judged(&response_of(&reply), &uid);
    }
    // The two that ran long are stopped at their deadline, which the API
    // server's timeout set (stuck's own is 20 s), and denied per
    // failurePolicy.
    for _ in 0..2 {
        let reply = answers.recv().await.expect("answered").expect("a reply");
        let response = response_of(&reply);
        assert_eq!(response["allowed"], false, "{response}");
        assert_eq!(response["status"]["code"], 500, "{response}");
        let message = response["status"]["message"].as_str().expect("message");
        let deadline_ms: u64 = message
            .strip_prefix("Deployment hog/web could not be checked: 1 policy failed:\n\n[stuck] policy \"stuck\" failed (did not finish within its deadline of ")
            .and_then(|rest| rest.split_once(" ms), so it could not check this object; this is not a problem with your object; contact #team-stuck"))
            .filter(|(_, after)| after.is_empty())
            .and_then(|(ms, _)| ms.parse().ok())
            .unwrap_or_else(|| panic!("{message}"));
        assert!(deadline_ms < 5_000, "{message}");
    }
    assert!(answers.recv().await.is_none());
    let metrics = client::http_get(server.ops, "/metrics").await.text();
    assert!(
        metrics.contains("counsel_policy_failures_total{policy=\"stuck\",cause=\"crowded\"} 6\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("counsel_policy_failures_total{policy=\"stuck\",cause=\"deadline\"} 2\n"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("counsel_reviews_unevaluated_total"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_a_client_gives_up_on_leave_the_queue_and_one_connection_cannot_fill_it() {
    // One slot, held for 5 s by a looping policy (long evaluations are not
    // moved off it here), so that everything after it queues.
    let server = Harness::start_with(Some(&config("ignore", "5s")), |o| {
        o.concurrency = Some(1);
        o.long_evaluation = Duration::from_secs(60);
    })
    .await;
    let hog = {
        let client = server.client(Protocol::Http2);
        tokio::spawn(async move {
            client
                .post("/validate?timeout=10s", JSON, hog_review("hog"))
                .await
        })
    };
    while !client::http_get(server.ops, "/metrics")
        .await
        .text()
        .contains("counsel_reviews_in_flight 1\n")
    {
        tokio::task::yield_now().await;
    }
    // One client, one connection: 320 reviews (more than the queue holds),
    // each given up shortly after it was sent, 32 at a time.
    let mut attacker = server
        .client(Protocol::Http2)
        .connect()
        .await
        .expect("connects")
        .streams()
        .expect("HTTP/2");
    let mut answered_early = 0;
    for round in 0..10 {
        let mut wave = Vec::new();
        for i in 0..32 {
            let mut streams = attacker.clone();
            let body = review(
                &format!("gone-{round}-{i}"),
                "CREATE",
                Some(&privileged_deployment()),
                None,
            );
            wave.push(tokio::spawn(async move {
                streams
                    .post_and_cancel(
                        "/validate?timeout=10s",
                        JSON,
                        body,
                        Duration::from_millis(20),
                    )
                    .await
            }));
        }
        for task in wave {
            // Answered within 20 ms only if the hog was done early: then
            // with a verdict, never "overloaded" for a queue full of the
            // reviews given up before.
            if let Some(reply) = task.await.expect("task").expect("sent") {
                answered_early += 1;
                let response = response_of(&reply);
                assert_judged(&response, response["uid"].as_str().expect("uid"));
            }
        }
    }
    // The same connection then keeps 100 more in flight and waits for them.
    let waiting: Vec<_> = (0..100)
        .map(|i| {
            let mut streams = attacker.clone();
            let uid = format!("waiting-{i}");
            let body = review(&uid, "CREATE", Some(&privileged_deployment()), None);
            tokio::spawn(async move {
                let reply = streams
                    .post("/validate?timeout=10s", JSON, body)
                    .await
                    .expect("answered");
                (uid, reply)
            })
        })
        .collect();
    // Another client still finds room in the queue and gets its verdict
    // once the slot is free, not "overloaded".
    let reply = server
        .client(Protocol::Http2)
        .post(
            "/validate?timeout=10s",
            JSON,
            review("legit", "CREATE", Some(&privileged_deployment()), None),
        )
        .await
        .expect("answered");
    assert_judged(&response_of(&reply), "legit");
    for task in waiting {
        let (uid, reply) = task.await.expect("task");
        assert_judged(&response_of(&reply), &uid);
    }
    let hog = hog.await.expect("task").expect("the hog is answered");
    assert_eq!(response_of(&hog)["allowed"], true);
    let metrics = client::http_get(server.ops, "/metrics").await.text();
    assert!(
        !metrics.contains("counsel_reviews_unevaluated_total"),
        "{metrics}"
    );
    // The denials counted are those answered: 101, and any that came
    // before the client gave up.
    let denials = 101 + answered_early;
    assert!(
        metrics.contains(&format!("counsel_evaluations_total{{policy=\"container-security\",rule=\"privileged\",mode=\"enforce\",outcome=\"violation\"}} {denials}\n")),
        "{metrics}"
    );
    attacker
        .post("/validate", JSON, hog_review("after"))
        .await
        .expect("the connection still serves");
    server.stop().await;
}
