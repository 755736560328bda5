//! The `counsel serve` process: configuration from the environment,
//! development certificates, JSON logs with a line per review, and a
//! SIGTERM that lets in-flight reviews finish before exiting 0.

use crate::support::client;
use crate::support::harness;

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use client::{Protocol, TlsClient, http_get};
use harness::{clean_deployment, module, review};
use serde_json::Value;

/// Waits for a JSON log line whose message satisfies `wanted`, or finds it
/// among the lines already seen (lines of independent tasks, such as loading
/// policies and starting the listeners, come in either order).
fn wait_for_log(
    lines: &mpsc::Receiver<Value>,
    seen: &mut Vec<Value>,
    wanted: impl Fn(&str) -> bool,
) -> Value {
    let message = |line: &Value| line["fields"]["message"].as_str().is_some_and(&wanted);
    if let Some(line) = seen.iter().find(|line| message(line)) {
        return line.clone();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("log line not seen; got {seen:#?}"));
        seen.push(line.clone());
        if message(&line) {
            return line;
        }
    }
}

/// `https://127.0.0.1:PORT` → the address.
fn address_after(text: &str, scheme: &str) -> SocketAddr {
    let start = text.find(scheme).expect("scheme") + scheme.len();
    let end = text[start..].find(' ').map_or(text.len(), |i| start + i);
    text[start..end].parse().expect("address")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_reviews_and_exits_zero() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("counsel.yaml"),
        format!(
            "policies:\n  - name: slow\n    module: {}\n    settings: {{behaviour: loop}}\n    timeout: 1500ms\n    failurePolicy: fail\n",
            module("test-hostile").display()
        ),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_counsel"))
        .arg("serve")
        .current_dir(dir.path())
        .env("COUNSEL_CONFIG", "counsel.yaml")
        .env("COUNSEL_LISTEN", "127.0.0.1:0")
        .env("COUNSEL_METRICS_LISTEN", "127.0.0.1:0")
        .env("COUNSEL_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("counsel serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
            if send.send(value).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let generated = wait_for_log(&lines, &mut seen, |m| {
        m.starts_with("generated a development CA")
    });
    assert_eq!(
        generated["fields"]["message"],
        "generated a development CA and a certificate for localhost, 127.0.0.1 and ::1 in certs/; caBundle: base64 -w0 certs/ca.crt"
    );
    let serving = wait_for_log(&lines, &mut seen, |m| {
        m.starts_with("counsel is serving on")
    });
    let message = serving["fields"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    let webhook = address_after(&message, "https://");
    let ops = address_after(&message, "http://");
    wait_for_log(&lines, &mut seen, |m| m == "policies loaded: slow; ready");
    assert_eq!(http_get(ops, "/readyz").await.text(), "ready\n");

    // A review that takes its policy's whole 1.5 s deadline...
    let ca = std::fs::read(dir.path().join("certs/ca.crt")).expect("dev CA");
    let client = TlsClient::new(&ca, webhook, Protocol::Http2);
    let in_flight = tokio::spawn(async move {
        client
            .post(
                "/validate?timeout=10s",
                Some("application/json"),
                review("drain-1", "CREATE", Some(&clean_deployment()), None),
            )
            .await
    });
    client::metrics_with(ops, "counsel_reviews_in_flight 1").await;
    // ...is still answered when SIGTERM arrives in the middle of it.
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let reply = in_flight
        .await
        .expect("task")
        .expect("the in-flight review is answered");
    let body = reply.json();
    assert_eq!(body["response"]["uid"], "drain-1");
    assert_eq!(body["response"]["allowed"], false);

    // The cap only turns a server that never exits into a failure.
    let status = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await
    .expect("the server exits after SIGTERM")
    .expect("task")
    .expect("wait");
    assert_eq!(status.code(), Some(0));

    // One line per review, with what ops search logs by; whatever else is
    // logged during a review carries its uid in the span.
    let reviewed = wait_for_log(&lines, &mut seen, |m| m == "reviewed");
    let span = &reviewed["span"];
    assert_eq!(span["name"], "review");
    assert_eq!(span["uid"], "drain-1");
    let fields = &reviewed["fields"];
    assert_eq!(fields["kind"], "Deployment");
    assert_eq!(fields["namespace"], "shop");
    assert_eq!(fields["name"], "web");
    assert_eq!(fields["operation"], "CREATE");
    assert_eq!(fields["user"], "jane@example.com");
    assert_eq!(fields["policy"], "*");
    assert_eq!(fields["decision"], "denied");
    assert_eq!(fields["warnings"], 0);
    // It lasted until the policy's deadline (1.5 s of wall time); how much
    // longer depends on the machine, so no upper bound.
    let duration = fields["duration_ms"].as_f64().expect("duration");
    assert!(duration >= 1400.0, "{duration} ms");
    wait_for_log(&lines, &mut seen, |m| m == "shut down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_to_a_pipe_are_plain_with_one_line_per_denied_review_whatever_its_uid() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("counsel.yaml"),
        format!(
            "policies:\n  - name: container-security\n    module: {}\n    mode: enforce\n",
            module("container-security").display()
        ),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_counsel"))
        .arg("serve")
        .current_dir(dir.path())
        .env("COUNSEL_CONFIG", "counsel.yaml")
        .env("COUNSEL_LISTEN", "127.0.0.1:0")
        .env("COUNSEL_METRICS_LISTEN", "127.0.0.1:0")
        .env("COUNSEL_LOG_FORMAT", "text")
        // Not a terminal is enough to get no colour.
        .env_remove("NO_COLOR")
        .env_remove("COUNSEL_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("counsel serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let (send, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen: Vec<String> = Vec::new();
    let mut wait_for = |wanted: &str| -> String {
        if let Some(line) = seen.iter().find(|line| line.contains(wanted)) {
            return line.clone();
        }
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no line with {wanted:?}; got {seen:#?}"));
            seen.push(line.clone());
            if line.contains(wanted) {
                return line;
            }
        }
    };
    let serving = wait_for("counsel is serving on");
    let webhook = address_after(&serving, "https://");
    wait_for("policies loaded: container-security; ready");

    let ca = std::fs::read(dir.path().join("certs/ca.crt")).expect("dev CA");
    let client = TlsClient::new(&ca, webhook, Protocol::Http2);
    let forged = "forged\n2026-01-01T00:00:00Z  INFO reviewed decision=\"allowed\"";
    let mut privileged = harness::privileged_deployment();
    privileged["metadata"]["name"] = "web\nalso-forged".into();
    for (uid, object, allowed) in [
        (forged, privileged, false),
        ("quiet-allowed", clean_deployment(), true),
    ] {
        let reply = client
            .post(
                "/validate",
                Some("application/json"),
                review(uid, "CREATE", Some(&object), None),
            )
            .await
            .expect("answered");
        assert_eq!(reply.json()["response"]["allowed"], allowed);
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    assert_eq!(child.wait().expect("exits").code(), Some(0));
    // Every line, up to the end of stderr.
    seen.extend(lines.iter());

    for line in &seen {
        assert!(!line.contains('\u{1b}'), "colour codes in a pipe: {line:?}");
        assert!(
            !line.starts_with("2026-01-01") && !line.starts_with("also-forged"),
            "a forged line: {seen:#?}"
        );
        assert!(
            !line.contains("quiet-allowed"),
            "an allowed review is logged at debug only: {line}"
        );
    }
    let reviewed: Vec<&String> = seen.iter().filter(|l| l.contains("reviewed")).collect();
    assert_eq!(reviewed.len(), 1, "{seen:#?}");
    let line = reviewed[0];
    assert!(
        line.contains(
            r#"review{uid="forged\n2026-01-01T00:00:00Z  INFO reviewed decision=\"allowed\""}"#
        ),
        "{line}"
    );
    assert!(line.contains(r#"name="web\nalso-forged""#), "{line}");
    assert!(line.contains(r#"decision="denied""#), "{line}");
}
