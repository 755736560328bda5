//! The certificates `counsel install` makes, checked as the API server
//! checks them: a TLS handshake that trusts only the webhook's caBundle.

use super::manifests::{Installed, base64_decode, install, install_in};
use super::tls;
use crate::support::cli::counsel;

#[test]
fn the_ca_bundle_verifies_the_serving_certificate_for_the_service_name() {
    let installed = install(&["-n", "policy", "--name", "guard"]);
    let ca = base64_decode(
        installed.validating_webhook()["clientConfig"]["caBundle"]
            .as_str()
            .expect("caBundle"),
    );
    let cert = installed.secret_data("tls.crt");
    let key = installed.secret_data("tls.key");
    assert_eq!(installed.secret_data("ca.crt"), ca, "the Secret's ca.crt");
    assert_eq!(installed.one("Secret")["type"], "kubernetes.io/tls");

    for name in ["guard.policy.svc", "guard.policy", "guard"] {
        tls::handshake(&ca, name, &cert, &key)
            .unwrap_or_else(|e| panic!("TLS to {name} with the caBundle: {e}"));
    }
    let wrong_name = tls::handshake(&ca, "guard.other.svc", &cert, &key).expect_err("wrong name");
    assert!(
        matches!(
            wrong_name,
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{wrong_name:?}"
    );
    // Every run makes a new CA: another installation's bundle does not
    // verify this certificate.
    let other = install(&["-n", "policy", "--name", "guard"]);
    let other_ca = base64_decode(
        other.validating_webhook()["clientConfig"]["caBundle"]
            .as_str()
            .expect("caBundle"),
    );
    let foreign = tls::handshake(&other_ca, "guard.policy.svc", &cert, &key).expect_err("other CA");
    assert!(
        matches!(
            foreign,
            // Both CAs are named alike; the signature tells them apart.
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer | rustls::CertificateError::BadSignature
            )
        ),
        "{foreign:?}"
    );
}

#[test]
fn a_kept_ca_keeps_the_ca_bundle_and_issues_a_new_serving_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let made = counsel(
        dir.path(),
        &["certs", "--out", "ca", "--dns", "counsel.counsel.svc"],
        None,
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let args = ["--ca-cert", "ca/ca.crt", "--ca-key", "ca/ca.key"];
    let first = install_in(dir.path(), &args);
    let second = install_in(dir.path(), &args);
    let bundle =
        |installed: &Installed| installed.validating_webhook()["clientConfig"]["caBundle"].clone();
    assert_eq!(bundle(&first), bundle(&second));
    let ca = std::fs::read(dir.path().join("ca/ca.crt")).expect("ca.crt");
    assert_eq!(
        base64_decode(bundle(&first).as_str().expect("caBundle")),
        ca
    );
    assert_ne!(first.secret_data("tls.crt"), second.secret_data("tls.crt"));
    for installed in [&first, &second] {
        tls::handshake(
            &ca,
            "counsel.counsel.svc",
            &installed.secret_data("tls.crt"),
            &installed.secret_data("tls.key"),
        )
        .expect("the kept CA verifies the new certificate");
    }
    let half = counsel(dir.path(), &["install", "--ca-cert", "ca/ca.crt"], None);
    assert_eq!(half.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&half.stderr).contains("--ca-key <FILE>"),
        "{}",
        String::from_utf8_lossy(&half.stderr)
    );
}
