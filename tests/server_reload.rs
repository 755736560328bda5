//! Reloading `counsel.yaml` (and the settings files it names) and the
//! serving certificate, with the same
//! watcher: a file being rewritten in place is never served half-written,
//! even when its first part is a valid configuration on its own, and a
//! certificate replaced before its key is served once both are in place;
//! only files that stay the same from one look to the next are loaded.

use crate::support::client;
use crate::support::harness;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use client::Protocol;
use counsel::server::{Look, PolicySource};
use harness::{Harness, module, privileged_deployment, review};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use serde_json::Value;

const JSON: Option<&str> = Some("application/json");

/// The policies being served, by name.
fn served(server: &Harness) -> Vec<String> {
    let policies = server.state.policies().expect("policies loaded");
    policies.reviewer.policies().map(str::to_owned).collect()
}

/// One look of the watcher (blocking: it may compile).
async fn look(source: &Arc<PolicySource>, server: &Harness) -> Look<usize> {
    let (source, state) = (source.clone(), server.state.clone());
    tokio::task::spawn_blocking(move || source.look(&state))
        .await
        .expect("look")
}

async fn judge(server: &Harness, uid: &str) -> Value {
    let reply = server
        .client(Protocol::Http2)
        .post(
            "/validate",
            JSON,
            review(uid, "CREATE", Some(&privileged_deployment()), None),
        )
        .await
        .expect("answered");
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["response"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_written_in_two_parts_is_served_only_whole() {
    let container_security = module("container-security");
    let old = format!(
        "policies:\n  - name: container-security\n    module: {}\n    mode: enforce\n",
        container_security.display()
    );
    // Its first part alone is a valid configuration that denies nothing.
    let first_part = format!(
        "policies:\n  - name: audit-only\n    module: {}\n    mode: audit\n",
        container_security.display()
    );
    let rest = format!(
        "  - name: enforced\n    module: {}\n    mode: enforce\n",
        container_security.display()
    );
    // Only the test looks, one look at a time between its writes.
    let mut server = Harness::start_unloaded(|options| {
        options.config_poll_interval = Duration::from_secs(3600);
    })
    .await;
    let source = server.load(Some(&old)).await;
    let path = server.config_path.clone().expect("config file");
    assert_eq!(look(&source, &server).await, Look::Unchanged);

    // The writer has written the first part...
    let mut file = std::fs::File::create(&path).expect("rewritten in place");
    file.write_all(first_part.as_bytes()).expect("first part");
    file.flush().expect("flushed");
    assert_eq!(look(&source, &server).await, Look::Settling);
    // ...and a review in between is judged by the old configuration.
    let response = judge(&server, "between").await;
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(served(&server), ["container-security"]);

    // Then the rest: changed again, so still not loaded.
    file.write_all(rest.as_bytes()).expect("the rest");
    file.flush().expect("flushed");
    drop(file);
    assert_eq!(look(&source, &server).await, Look::Settling);
    assert_eq!(served(&server), ["container-security"]);

    // The same on the next look: the whole file is loaded.
    assert_eq!(look(&source, &server).await, Look::Reloaded(2));
    assert_eq!(served(&server), ["audit-only", "enforced"]);
    let response = judge(&server, "after").await;
    assert_eq!(response["allowed"], false, "{response}");
    let denial = response["status"]["message"].as_str().expect("message");
    assert!(denial.contains("[enforced/"), "{denial}");
    assert_eq!(look(&source, &server).await, Look::Unchanged);
    server.stop().await;
}

/// `builtin:cel` rules in a settings file of their own: one rule per name.
fn name_rule(forbidden: &str) -> String {
    format!(
        "rules:\n  - id: name\n    title: Names are not {forbidden}\n    why: Reserved.\n    validate: \"object.metadata.name != '{forbidden}'\"\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settings_file_edited_on_its_own_is_reloaded_and_a_broken_one_refused() {
    let mut server = Harness::start_unloaded(|options| {
        options.config_poll_interval = Duration::from_secs(3600);
    })
    .await;
    let rules = server.dir.path().join("rules.yaml");
    std::fs::write(&rules, name_rule("api")).expect("rules written");
    let config = "policies:\n  - name: house\n    module: builtin:cel\n    settingsFile: rules.yaml\n    mode: enforce\n";
    let source = server.load(Some(config)).await;
    assert_eq!(look(&source, &server).await, Look::Unchanged);
    assert_eq!(judge(&server, "before").await["allowed"], true);

    // Only the rules change: the Deployment `web` is now denied.
    std::fs::write(&rules, name_rule("web")).expect("rules rewritten");
    assert_eq!(look(&source, &server).await, Look::Settling);
    assert_eq!(look(&source, &server).await, Look::Reloaded(1));
    let response = judge(&server, "after").await;
    assert_eq!(response["allowed"], false, "{response}");
    let denial = response["status"]["message"].as_str().expect("message");
    assert!(denial.contains("[house/name]"), "{denial}");

    // A broken rule is refused, naming the file; the rules served stay.
    std::fs::write(&rules, "rules:\n  - id: name\n    validate: \"object.\"\n")
        .expect("rules broken");
    assert_eq!(look(&source, &server).await, Look::Settling);
    match look(&source, &server).await {
        Look::Refused(why) => assert!(why.contains("rules.yaml"), "{why}"),
        other => panic!("a broken settings file must be refused, not {other:?}"),
    }
    assert_eq!(judge(&server, "still").await["allowed"], false);
    server.stop().await;
}

/// One look of the certificate's watcher (blocking: it parses keys).
async fn look_at_certificate(server: &Harness) -> Look<()> {
    let certificate = server.state.certificate().clone();
    tokio::task::spawn_blocking(move || certificate.look())
        .await
        .expect("look")
}

async fn served_certificate(server: &Harness) -> CertificateDer<'static> {
    let connection = server
        .client(Protocol::Http2)
        .connect()
        .await
        .expect("connects");
    connection.peer_certificate
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_replaced_before_its_key_is_served_once_both_are_in_place() {
    // Only the test looks, one look at a time between its writes.
    let server = Harness::start_with(None, |options| {
        options.certificate_poll_interval = Duration::from_secs(3600);
    })
    .await;
    let old = served_certificate(&server).await;
    let rotated = server.renewed_certificate();
    let new = CertificateDer::from_pem_slice(rotated.cert_pem.as_bytes()).expect("PEM");
    assert_eq!(look_at_certificate(&server).await, Look::Unchanged);

    // The certificate is in place, its key not yet: nothing is tried.
    std::fs::write(&server.files.cert, &rotated.cert_pem).expect("certificate written");
    assert_eq!(look_at_certificate(&server).await, Look::Settling);
    assert_eq!(served_certificate(&server).await, old);

    // Then the key: changed again, so still the old pair.
    std::fs::write(&server.files.key, &rotated.key_pem).expect("key written");
    assert_eq!(look_at_certificate(&server).await, Look::Settling);
    assert_eq!(served_certificate(&server).await, old);

    // The same on the next look: the new pair is served.
    assert_eq!(look_at_certificate(&server).await, Look::Reloaded(()));
    assert_eq!(served_certificate(&server).await, new);
    assert_eq!(look_at_certificate(&server).await, Look::Unchanged);
    server.stop().await;
}
