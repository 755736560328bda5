//! Rendering the chart with the real helm, and finding objects in what it
//! renders.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::cluster;

pub fn chart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/counsel")
}

pub fn read(relative: &str) -> String {
    std::fs::read_to_string(chart_dir().join(relative))
        .unwrap_or_else(|e| panic!("charts/counsel/{relative}: {e}"))
}

pub fn parse_one(text: &str, what: &str) -> Value {
    let documents =
        counsel::source::parse(text).unwrap_or_else(|e| panic!("{what} is not YAML: {e}"));
    assert_eq!(documents.len(), 1, "{what}: one document");
    documents.into_iter().next().expect("one").value
}

pub fn values() -> Value {
    parse_one(&read("values.yaml"), "values.yaml")
}

/// `helm ARGS`; fails the test, with what helm said, unless it exits 0.
pub fn helm(args: &[&str]) -> String {
    let output = Command::new(cluster::helm_binary())
        .args(args)
        // helm's cache and configuration stay out of the user's home.
        .env(
            "HELM_CACHE_HOME",
            std::env::temp_dir().join("counsel-test-helm/cache"),
        )
        .env(
            "HELM_CONFIG_HOME",
            std::env::temp_dir().join("counsel-test-helm/config"),
        )
        .env(
            "HELM_DATA_HOME",
            std::env::temp_dir().join("counsel-test-helm/data"),
        )
        .output()
        .expect("helm runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "helm {args:?} failed: {}{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The objects of `helm template RELEASE charts/counsel -n NAMESPACE ARGS`.
pub fn template(release: &str, namespace: &str, args: &[&str]) -> Vec<Value> {
    let chart = chart_dir();
    let mut full = vec![
        "template",
        release,
        chart.to_str().expect("UTF-8 path"),
        "-n",
        namespace,
    ];
    full.extend_from_slice(args);
    let text = helm(&full);
    counsel::source::parse(&text)
        .unwrap_or_else(|e| panic!("helm template printed no YAML stream: {e}\n{text}"))
        .into_iter()
        .map(|document| document.value)
        .filter(|value| !value.is_null())
        .collect()
}

/// The one object of `kind` among `objects`.
pub fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = objects
        .iter()
        .filter(|object| object["kind"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

/// What `counsel.yaml` in the ConfigMap among `objects` says.
pub fn configuration(objects: &[Value]) -> Value {
    let text = one(objects, "ConfigMap")["data"]["counsel.yaml"]
        .as_str()
        .expect("counsel.yaml");
    parse_one(text, "counsel.yaml")
}

/// A webhook without its caBundle (each install generates its own CA).
pub fn without_ca_bundle(webhook: &Value) -> Value {
    let mut webhook = webhook.clone();
    if let Some(client) = webhook["clientConfig"].as_object_mut() {
        client.remove("caBundle");
    }
    webhook
}
