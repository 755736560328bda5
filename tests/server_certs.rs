//! Certificates: `counsel certs`, development certificates, and hot reload
//! of the serving certificate while clients keep connecting.

use crate::support::client;
use crate::support::harness;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use client::{Protocol, http_get};
use counsel::certs::{self, SubjectNames};
use harness::{Harness, clean_deployment, review};
use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

/// Whether `cert_pem` verifies against `ca_pem` for `name`, as a TLS client
/// would check it; the error says why not.
fn verify(ca_pem: &[u8], cert_pem: &[u8], name: &str) -> Result<(), String> {
    let mut roots = RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(ca_pem) {
        roots
            .add(ca.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| e.to_string())?;
    let leaf = CertificateDer::from_pem_slice(cert_pem).map_err(|e| e.to_string())?;
    let name = ServerName::try_from(name.to_owned()).map_err(|e| e.to_string())?;
    verifier
        .verify_server_cert(&leaf, &[], &name, &[], UnixTime::now())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

fn counsel(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_counsel"))
        .args(args)
        .output()
        .expect("counsel runs")
}

#[test]
fn counsel_certs_writes_a_ca_and_serving_certificate_and_prints_the_ca_bundle() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("tls");
    let out_arg = out.to_str().expect("utf-8");
    let output = counsel(&[
        "certs",
        "--out",
        out_arg,
        "--dns",
        "counsel.counsel.svc",
        "--dns",
        "counsel",
        "--ip",
        "10.0.0.7",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ca = std::fs::read(out.join("ca.crt")).expect("ca.crt");
    let cert = std::fs::read(out.join("tls.crt")).expect("tls.crt");
    use base64::Engine as _;
    let expected_bundle = base64::engine::general_purpose::STANDARD.encode(&ca);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{expected_bundle}\n")
    );
    for name in ["counsel.counsel.svc", "counsel", "10.0.0.7"] {
        verify(&ca, &cert, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(verify(&ca, &cert, "other.example.com").is_err());
    assert_eq!(mode(&out.join("ca.key")), 0o600);
    assert_eq!(mode(&out.join("tls.key")), 0o600);
    assert_eq!(mode(&out.join("ca.crt")), 0o644);
    assert_eq!(mode(&out.join("tls.crt")), 0o644);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("serving certificate for counsel.counsel.svc, counsel, 10.0.0.7"),
        "{stderr}"
    );

    // Again: the CA (and so the caBundle) stays, the serving certificate is new.
    let again = counsel(&["certs", "--out", out_arg, "--dns", "counsel.counsel.svc"]);
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        format!("{expected_bundle}\n")
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("kept the CA in"));
    let new_cert = std::fs::read(out.join("tls.crt")).expect("tls.crt");
    assert_ne!(new_cert, cert);
    verify(&ca, &new_cert, "counsel.counsel.svc").expect("signed by the same CA");
}

#[test]
fn counsel_certs_names_bad_input() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().to_str().expect("utf-8");
    let output = counsel(&["certs", "--out", out]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: a certificate needs at least one name: give --dns NAME or --ip ADDRESS\n"
    );
    let output = counsel(&["certs", "--out", out, "--dns", "bad name!"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: \"bad name!\" is not a valid DNS name for a certificate: ' ' is not allowed (letters, digits, '-' and '.' only)\n"
    );
    let output = counsel(&["certs", "--out", out, "--ip", "300.1.1.1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("invalid value '300.1.1.1' for '--ip <IP>'")
    );
}

#[test]
fn development_certificates_are_made_once_for_localhost() {
    let dir = tempfile::tempdir().expect("dir");
    let certs_dir = dir.path().join("certs");
    let first = certs::ensure_dev_certificates(&certs_dir).expect("generated");
    assert!(first.generated);
    let ca = std::fs::read(&first.files.ca_cert).expect("ca");
    let cert = std::fs::read(&first.files.cert).expect("cert");
    for name in ["localhost", "127.0.0.1", "::1"] {
        verify(&ca, &cert, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_eq!(mode(&first.files.key), 0o600);
    assert_eq!(mode(&first.files.ca_key), 0o600);
    let second = certs::ensure_dev_certificates(&certs_dir).expect("found");
    assert!(!second.generated);
    assert_eq!(std::fs::read(&second.files.cert).expect("cert"), cert);
}

#[test]
fn loading_names_the_file_at_fault() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("tls.crt");
    let error = certs::load_certificates(&path, b"hello").expect_err("no certificate");
    assert_eq!(
        error.to_string(),
        format!(
            "{} holds no certificate (expected a PEM block \"-----BEGIN CERTIFICATE-----\")",
            path.display()
        )
    );
    let error =
        certs::load_certificates(&path, b"-----BEGIN CERTIFICATE-----\nAAAA\n").expect_err("cut");
    assert_eq!(
        error.to_string(),
        format!(
            "{} is not a valid PEM file: missing the line \"-----END CERTIFICATE-----\"",
            path.display()
        )
    );
    let error = certs::load_certificates(
        &path,
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect_err("not X.509");
    assert!(error.to_string().starts_with(&format!(
        "{} holds a certificate that is not valid X.509",
        path.display()
    )));
    let key_path = dir.path().join("tls.key");
    let error = certs::load_private_key(&key_path, b"").expect_err("no key");
    assert_eq!(
        error.to_string(),
        format!(
            "{} holds no private key (expected a PEM block \"-----BEGIN PRIVATE KEY-----\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\")",
            key_path.display()
        )
    );
}

fn reload_count(metrics: &str, outcome: &str) -> u64 {
    client::metric(
        metrics,
        &format!("counsel_reloads_total{{what=\"certificate\",outcome=\"{outcome}\"}}"),
    )
}

/// Waits until the certificate watcher has looked at the files twice since
/// now, which settles and acts on any change made before, and returns the
/// metrics then.
async fn two_looks_later(server: &Harness) -> String {
    const LOOKS: &str = "counsel_reload_checks_total{what=\"certificate\"}";
    let now = client::metric(&http_get(server.ops, "/metrics").await.text(), LOOKS);
    // A look counted at `now` may have read the files before they changed;
    // the next two did not, and the one after starts once they are done.
    client::metrics_until(server.ops, "three more looks", |metrics| {
        client::metric(metrics, LOOKS) >= now + 3
    })
    .await
}

/// Waits until the certificate watcher has refused `count` changes, and
/// returns the metrics then.
async fn refused(server: &Harness, count: u64) -> String {
    client::metrics_until(server.ops, &format!("{count} refusals"), |metrics| {
        reload_count(metrics, "failure") >= count
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_serves_the_new_certificate_without_a_failed_request() {
    let server = Harness::start_with(None, |options| {
        options.certificate_poll_interval = Duration::from_millis(200);
    })
    .await;
    let old_cert =
        CertificateDer::from_pem_slice(&std::fs::read(&server.files.cert).expect("cert"))
            .expect("PEM");

    // A client that opens a new connection for every request, like an API
    // server whose connections come and go.
    // Each outcome says whether its connection was opened after the server
    // reported the new certificate reloaded.
    let stop = Arc::new(AtomicBool::new(false));
    let reloaded = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(std::sync::Mutex::new(
        Vec::<(bool, Result<Vec<u8>, String>)>::new(),
    ));
    let mut loops = Vec::new();
    for protocol in [Protocol::Http1, Protocol::Http2] {
        let client = server.client(protocol);
        let (stop, reloaded, seen) = (stop.clone(), reloaded.clone(), seen.clone());
        loops.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Acquire) {
                i += 1;
                let uid = format!("rotation-{protocol:?}-{i}");
                let after_reload = reloaded.load(Ordering::Acquire);
                let outcome = async {
                    let mut connection = client.connect().await?;
                    let reply = connection
                        .post(
                            "/validate",
                            Some("application/json"),
                            review(&uid, "CREATE", Some(&clean_deployment()), None),
                        )
                        .await?;
                    if reply.status != 200 || reply.json()["response"]["uid"] != uid.as_str() {
                        return Err(format!("bad answer {}: {}", reply.status, reply.text()));
                    }
                    Ok(connection.peer_certificate.to_vec())
                }
                .await;
                seen.lock().expect("lock").push((after_reload, outcome));
            }
        }));
    }
    let answered = |after: bool| {
        let seen = seen.clone();
        move || {
            let seen = seen.lock().expect("lock");
            seen.iter().filter(|(then, _)| *then == after).count() >= 10
        }
    };
    harness::until("ten requests before the rotation", answered(false)).await;

    // Rotate: a new key and certificate from the same CA, as `counsel certs`
    // or cert-manager would write them.
    let rotated = server.renewed_certificate();
    let certs_dir = server.files.cert.parent().expect("dir").to_path_buf();
    rotated.write(&certs_dir).expect("written");
    let new_cert = CertificateDer::from_pem_slice(rotated.cert_pem.as_bytes()).expect("PEM");
    assert_ne!(new_cert, old_cert);

    client::metrics_with(
        server.ops,
        "counsel_reloads_total{what=\"certificate\",outcome=\"success\"} 1",
    )
    .await;
    reloaded.store(true, Ordering::Release);
    harness::until("ten requests after the rotation", answered(true)).await;
    stop.store(true, Ordering::Release);
    for task in loops {
        task.await.expect("client loop");
    }
    let seen = std::mem::take(&mut *seen.lock().expect("lock"));
    let failures: Vec<&String> = seen
        .iter()
        .filter_map(|(_, outcome)| outcome.as_ref().err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed: {failures:?}",
        failures.len(),
        seen.len()
    );
    let certificates = |after: bool| -> Vec<bool> {
        seen.iter()
            .filter(|(then, _)| *then == after)
            .map(|(_, outcome)| outcome.as_deref().ok() == Some(new_cert.as_ref()))
            .collect()
    };
    assert!(
        certificates(false).contains(&false),
        "the old certificate was served first"
    );
    assert!(
        !certificates(true).contains(&false),
        "new connections must get the new certificate"
    );

    let metrics = http_get(server.ops, "/metrics").await.text();
    assert_eq!(reload_count(&metrics, "success"), 1);
    assert_eq!(reload_count(&metrics, "failure"), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_certificate_is_refused_and_the_old_one_kept() {
    let server = Harness::start_with(None, |options| {
        options.certificate_poll_interval = Duration::from_millis(100);
    })
    .await;
    let served = CertificateDer::from_pem_slice(&std::fs::read(&server.files.cert).expect("cert"))
        .expect("PEM");
    let good_key = std::fs::read(&server.files.key).expect("key");
    let client = server.client(Protocol::Http2);
    let check_still_serving = || async {
        let mut connection = client
            .connect()
            .await
            .expect("connects with the old certificate");
        assert_eq!(connection.peer_certificate, served);
        let reply = connection
            .post(
                "/validate",
                Some("application/json"),
                review("u", "CREATE", Some(&clean_deployment()), None),
            )
            .await
            .expect("answered");
        assert_eq!(reply.status, 200);
        assert_eq!(http_get(server.ops, "/readyz").await.text(), "ready\n");
    };

    // Garbage in place of the certificate.
    std::fs::write(&server.files.cert, b"this is not a certificate\n").expect("written");
    refused(&server, 1).await;
    check_still_serving().await;
    let metrics = two_looks_later(&server).await;
    assert_eq!(
        reload_count(&metrics, "failure"),
        1,
        "refused once, not on every look"
    );
    std::fs::write(&server.files.cert, rustls_pem(&served)).expect("restored");

    // A well-formed key that belongs to another certificate.
    let stranger = certs::generate(&SubjectNames::localhost()).expect("other pair");
    std::fs::write(&server.files.key, stranger.key_pem.as_bytes()).expect("written");
    refused(&server, 2).await;
    check_still_serving().await;
    let metrics = two_looks_later(&server).await;
    assert_eq!(reload_count(&metrics, "failure"), 2);
    assert_eq!(reload_count(&metrics, "success"), 0);

    // Putting the right key back is not a change from what is served.
    std::fs::write(&server.files.key, &good_key).expect("restored");
    let metrics = two_looks_later(&server).await;
    assert_eq!(reload_count(&metrics, "failure"), 2);
    assert_eq!(reload_count(&metrics, "success"), 0);
    check_still_serving().await;
    server.stop().await;
}

fn rustls_pem(cert: &CertificateDer<'_>) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}
