//! `counsel serve` on the wire: a real server on ephemeral ports with
//! generated certificates, a real TLS client that verifies the CA, over
//! HTTP/1.1 and HTTP/2; malformed input, readiness, metrics, concurrency
//! and client certificates.

use crate::support::client;
use crate::support::harness;

use std::collections::BTreeMap;

use client::{Protocol, TlsClient, http_get};
use harness::{
    Harness, clean_deployment, container_security_config, module, privileged_deployment, review,
};
use serde_json::{Value, json};

const JSON: Option<&str> = Some("application/json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_protocols_are_negotiated_and_the_uid_is_echoed() {
    let server = Harness::start(Some(&container_security_config())).await;
    for (protocol, alpn) in [
        (Protocol::Http1, &b"http/1.1"[..]),
        (Protocol::Http2, &b"h2"[..]),
    ] {
        let mut connection = server.client(protocol).connect().await.expect("connects");
        assert_eq!(connection.alpn.as_deref(), Some(alpn));
        for (uid, object, allowed) in [
            ("uid-denied-1", privileged_deployment(), false),
            ("uid-allowed-2", clean_deployment(), true),
        ] {
            let reply = connection
                .post(
                    "/validate",
                    JSON,
                    review(uid, "CREATE", Some(&object), None),
                )
                .await
                .expect("answered");
            assert_eq!(reply.status, 200, "{}", reply.text());
            assert_eq!(reply.content_type.as_deref(), Some("application/json"));
            let body = reply.json();
            assert_eq!(body["apiVersion"], "admission.k8s.io/v1");
            assert_eq!(body["kind"], "AdmissionReview");
            assert_eq!(body["response"]["uid"], uid);
            assert_eq!(body["response"]["allowed"], allowed);
            if !allowed {
                assert_eq!(body["response"]["status"]["code"], 403);
                assert_eq!(body["response"]["status"]["reason"], "Forbidden");
            }
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_precise_errors() {
    let server = Harness::start(Some(&container_security_config())).await;
    let client = server.client(Protocol::Http2);
    let good = review("u-1", "CREATE", Some(&clean_deployment()), None);
    let mut no_uid: Value = serde_json::from_slice(&good).expect("JSON");
    no_uid["request"]
        .as_object_mut()
        .expect("request")
        .remove("uid");
    let with_request = |change: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut body: Value = serde_json::from_slice(&good).expect("JSON");
        change(body["request"].as_object_mut().expect("request"));
        serde_json::to_vec(&body).expect("JSON")
    };
    let good_text = String::from_utf8(good.clone()).expect("UTF-8");
    let duplicate_name = good_text.replacen(
        r#""metadata":{"name":"web""#,
        r#""metadata":{"name":"web","name":"db""#,
        1,
    );
    assert_ne!(duplicate_name, good_text);
    let duplicate_kind = good_text.replacen(
        r#""kind":"AdmissionReview""#,
        r#""kind":"AdmissionReview","kind":"AdmissionReview""#,
        1,
    );
    assert_ne!(duplicate_kind, good_text);
    // (path, content type, body, expected status, expected text)
    type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "/validate",
            Some("text/plain"),
            good.clone(),
            415,
            "Content-Type must be application/json, not \"text/plain\": send the AdmissionReview as JSON (curl: -H 'Content-Type: application/json')\n",
        ),
        (
            "/validate",
            None,
            good.clone(),
            415,
            "Content-Type must be application/json, not missing: send the AdmissionReview as JSON (curl: -H 'Content-Type: application/json')\n",
        ),
        (
            "/validate",
            JSON,
            vec![b' '; 4 * 1024 * 1024 + 1],
            413,
            "the request body is larger than the limit of 4194304 bytes (4 MiB) for an AdmissionReview\n",
        ),
        (
            "/validate",
            JSON,
            b"{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": ".to_vec(),
            400,
            "the body is not a JSON AdmissionReview: EOF while parsing a value at line 1 column 46\n",
        ),
        (
            "/validate",
            JSON,
            br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#
                .to_vec(),
            400,
            "apiVersion is \"admission.k8s.io/v1beta1\", expected \"admission.k8s.io/v1\" (Counsel speaks AdmissionReview v1 only; set admissionReviewVersions: [v1])\n",
        ),
        (
            "/validate",
            JSON,
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"ConversionReview"}"#.to_vec(),
            400,
            "kind is \"ConversionReview\", expected \"AdmissionReview\"\n",
        ),
        (
            "/validate",
            JSON,
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(),
            400,
            "the AdmissionReview has no request: expected a \"request\" object with uid, kind, resource, operation and object\n",
        ),
        (
            "/validate",
            JSON,
            serde_json::to_vec(&no_uid).expect("JSON"),
            400,
            "request.uid is missing or empty: the response must echo it\n",
        ),
        (
            "/validate",
            JSON,
            duplicate_name.into_bytes(),
            400,
            "request.object.metadata has the member \"name\" twice: JSON readers disagree about which one counts, so Counsel judges no such review (the API server never sends one)\n",
        ),
        (
            "/validate",
            JSON,
            duplicate_kind.into_bytes(),
            400,
            "the AdmissionReview has the member \"kind\" twice: JSON readers disagree about which one counts, so Counsel judges no such review (the API server never sends one)\n",
        ),
        (
            "/validate",
            JSON,
            with_request(&|request| {
                request.insert("object".into(), Value::Null);
            }),
            400,
            "request.object is null: CREATE reviews must carry the object to judge\n",
        ),
        (
            "/mutate",
            JSON,
            with_request(&|request| {
                request.remove("object");
                request.insert("operation".into(), json!("UPDATE"));
                request.insert("oldObject".into(), clean_deployment());
            }),
            400,
            "request.object is missing: UPDATE reviews must carry the object to judge\n",
        ),
        (
            "/validate",
            JSON,
            with_request(&|request| {
                request.insert("object".into(), json!([clean_deployment()]));
            }),
            400,
            "request.object is an array, expected a Kubernetes object (a JSON object)\n",
        ),
        (
            "/validate?timeout=soon",
            JSON,
            good.clone(),
            400,
            "query parameter timeout: \"soon\" is not a duration (a number must come before each unit); expected e.g. 10s, 500ms or 1m30s\n",
        ),
        (
            "/validate/no-such-policy",
            JSON,
            good.clone(),
            404,
            "no policy named \"no-such-policy\" is configured; configured: container-security\n",
        ),
        (
            "/mutate/no-such-policy",
            JSON,
            good.clone(),
            404,
            "no policy named \"no-such-policy\" is configured; configured: container-security\n",
        ),
        (
            "/patch",
            JSON,
            good.clone(),
            404,
            "no such endpoint: POST AdmissionReviews to /validate, /validate/{policy}, /mutate or /mutate/{policy}\n",
        ),
    ];
    for (path, content_type, body, status, message) in cases {
        let reply = client
            .post(path, content_type, body)
            .await
            .expect("answered");
        assert_eq!(
            (reply.status, reply.text().as_str()),
            (status, message),
            "{path} {content_type:?}"
        );
    }
    // Another method than POST says what to do.
    for path in ["/validate", "/mutate/container-security"] {
        let mut connection = client.connect().await.expect("connects");
        let reply = connection
            .send("GET", path, None, Vec::new())
            .await
            .expect("answered");
        assert_eq!(
            (reply.status, reply.text().as_str()),
            (
                405,
                "GET is not supported here: POST an AdmissionReview (admission.k8s.io/v1) as JSON, as the API server does (curl: -H 'Content-Type: application/json' --data @review.json)\n"
            )
        );
    }
    // The server is still fine.
    let reply = client
        .post("/validate", JSON, good)
        .await
        .expect("answered");
    assert_eq!(reply.json()["response"]["allowed"], true);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_not_ready_before_policies_load() {
    let mut server = Harness::start_unloaded(|_| {}).await;
    assert_eq!(http_get(server.ops, "/healthz").await.text(), "ok\n");
    let readyz = http_get(server.ops, "/readyz").await;
    assert_eq!(
        (readyz.status, readyz.text().as_str()),
        (503, "not ready: policies are not loaded yet\n")
    );
    let reply = server
        .client(Protocol::Http1)
        .post(
            "/validate",
            JSON,
            review("u-1", "CREATE", Some(&clean_deployment()), None),
        )
        .await
        .expect("answered");
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (
            503,
            "policies are still loading; the API server applies the webhook's failurePolicy\n"
        )
    );
    server.load(None).await;
    let readyz = http_get(server.ops, "/readyz").await;
    assert_eq!((readyz.status, readyz.text().as_str()), (200, "ready\n"));
    server.stop().await;
}

/// Parses the Prometheus/OpenMetrics text format into (name, labels, value).
fn parse_metrics(text: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    let mut samples = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let labels = body
                    .split("\",")
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (key, value) = pair
                            .split_once("=\"")
                            .unwrap_or_else(|| panic!("bad label: {line}"));
                        (key.to_owned(), value.trim_end_matches('"').to_owned())
                    })
                    .collect();
                (name.to_owned(), labels)
            }
            None => (series.to_owned(), BTreeMap::new()),
        };
        samples.push((name, labels, value));
    }
    samples
}

fn sample(
    samples: &[(String, BTreeMap<String, String>, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, value)| *value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_expose_evaluations_latency_failures_policies_and_reloads() {
    let config = format!(
        "policies:\n  - name: container-security\n    module: {}\n    mode: enforce\n  - name: flaky\n    module: {}\n    settings: {{behaviour: trap}}\n    failurePolicy: ignore\n",
        module("container-security").display(),
        module("test-hostile").display()
    );
    let server = Harness::start(Some(&config)).await;
    let client = server.client(Protocol::Http2);
    client
        .post(
            "/validate",
            JSON,
            review("u-1", "CREATE", Some(&privileged_deployment()), None),
        )
        .await
        .expect("answered");
    client
        .post(
            "/validate/container-security",
            JSON,
            review("u-2", "CREATE", Some(&clean_deployment()), None),
        )
        .await
        .expect("answered");
    client
        .post("/validate", JSON, b"[]".to_vec())
        .await
        .expect("answered");

    let reply = http_get(server.ops, "/metrics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.content_type.as_deref(),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = reply.text();
    assert!(text.ends_with("# EOF\n"), "{text}");
    let samples = parse_metrics(&text);
    let evaluations = |rule: &str, mode: &str, outcome: &str| {
        sample(
            &samples,
            "counsel_evaluations_total",
            &[
                ("policy", "container-security"),
                ("rule", rule),
                ("mode", mode),
                ("outcome", outcome),
            ],
        )
    };
    assert_eq!(
        evaluations("privileged", "enforce", "violation"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        evaluations("allow-privilege-escalation", "enforce", "violation"),
        Some(1.0)
    );
    assert_eq!(
        evaluations("run-as-non-root", "enforce", "violation"),
        Some(1.0)
    );
    assert_eq!(evaluations("", "enforce", "pass"), Some(1.0));
    assert_eq!(
        sample(
            &samples,
            "counsel_evaluations_total",
            &[("policy", "flaky"), ("outcome", "failure")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &samples,
            "counsel_policy_failures_total",
            &[("policy", "flaky"), ("cause", "trap")]
        ),
        Some(1.0)
    );
    // The trap is ignored and nothing else is enforced on the clean object.
    assert_eq!(
        sample(
            &samples,
            "counsel_review_duration_seconds_count",
            &[("decision", "denied")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &samples,
            "counsel_review_duration_seconds_count",
            &[("decision", "allowed")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &samples,
            "counsel_review_duration_seconds_count",
            &[("decision", "invalid")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &samples,
            "counsel_review_duration_seconds_bucket",
            &[("decision", "denied"), ("le", "+Inf")]
        ),
        Some(1.0)
    );
    assert_eq!(sample(&samples, "counsel_policies_loaded", &[]), Some(2.0));
    for what in ["certificate", "config"] {
        for outcome in ["success", "failure"] {
            assert_eq!(
                sample(
                    &samples,
                    "counsel_reloads_total",
                    &[("what", what), ("outcome", outcome)]
                ),
                Some(0.0),
                "{what} {outcome}"
            );
        }
    }
    let expiry = sample(
        &samples,
        "counsel_certificate_expiry_timestamp_seconds",
        &[],
    )
    .expect("expiry");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    assert!(
        expiry > now + 300.0 * 86400.0,
        "a fresh certificate is valid for a year: {expiry}"
    );
    assert_eq!(
        sample(&samples, "counsel_reviews_in_flight", &[]),
        Some(0.0)
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_reviews_are_all_answered_correctly() {
    let server = Harness::start(Some(&container_security_config())).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let protocol = if i % 2 == 0 {
            Protocol::Http2
        } else {
            Protocol::Http1
        };
        let client = server.client(protocol);
        let denied = i % 3 == 0;
        tasks.push(tokio::spawn(async move {
            let object = if denied {
                privileged_deployment()
            } else {
                clean_deployment()
            };
            let uid = format!("concurrent-{i}");
            let reply = client
                .post(
                    "/validate",
                    JSON,
                    review(&uid, "CREATE", Some(&object), None),
                )
                .await
                .unwrap_or_else(|e| panic!("request {i}: {e}"));
            assert_eq!(reply.status, 200, "request {i}: {}", reply.text());
            let body = reply.json();
            assert_eq!(body["response"]["uid"], uid.as_str());
            assert_eq!(body["response"]["allowed"], !denied, "request {i}: {body}");
            if denied {
                let causes = body["response"]["status"]["details"]["causes"]
                    .as_array()
                    .expect("causes");
                assert_eq!(causes.len(), 3, "request {i}");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    server.stop().await;
}

/// A client CA and a client certificate signed by it (PEM).
fn client_identity() -> (String, String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("CA");
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["kube-apiserver".to_owned()]).expect("params");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &issuer).expect("client cert");
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_required_with_a_client_ca() {
    let (ca, cert, key) = client_identity();
    let dir = tempfile::tempdir().expect("dir");
    let ca_path = dir.path().join("client-ca.crt");
    std::fs::write(&ca_path, &ca).expect("written");
    let server = Harness::start_with(Some(&container_security_config()), |options| {
        options.client_ca = Some(ca_path.clone())
    })
    .await;
    let body = review("u-mtls", "CREATE", Some(&clean_deployment()), None);

    let anonymous = server.client(Protocol::Http2);
    let refused = anonymous.post("/validate", JSON, body.clone()).await;
    assert!(
        refused.is_err(),
        "a client without a certificate must be refused: {refused:?}"
    );

    let config = client::client_config(
        &server.ca_pem,
        Protocol::Http2,
        Some((cert.as_bytes(), key.as_bytes())),
    );
    let authenticated = TlsClient::with_config(config, server.webhook, Protocol::Http2);
    let reply = authenticated
        .post("/validate", JSON, body)
        .await
        .expect("answered");
    assert_eq!(reply.json()["response"]["uid"], "u-mtls");

    // A certificate from another CA is refused too.
    let (_, other_cert, other_key) = client_identity();
    let config = client::client_config(
        &server.ca_pem,
        Protocol::Http1,
        Some((other_cert.as_bytes(), other_key.as_bytes())),
    );
    let stranger = TlsClient::with_config(config, server.webhook, Protocol::Http1);
    let refused = stranger
        .post(
            "/validate",
            JSON,
            review("u-x", "CREATE", Some(&clean_deployment()), None),
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    server.stop().await;
}

#[test]
fn body_json_of_a_review_keeps_unknown_fields_out_of_the_way() {
    // The request object stays raw: fields Counsel does not know survive.
    let object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"},
        "data": {"x": "1"}, "someFutureField": {"nested": [1, 2, 3]}});
    let body = review("u", "CREATE", Some(&object), None);
    let request = counsel::server::admission::decode_review(&body).expect("decodes");
    let whole = request.whole().expect("reads whole");
    assert_eq!(whole.object.as_ref(), Some(&object));
    let received: serde_json::Value = serde_json::from_str(request.json()).expect("JSON");
    assert_eq!(received["object"], object, "policies get it as sent");
}
