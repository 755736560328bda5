//! Running the real `counsel` binary and finding objects in the manifests
//! `counsel install` prints. Shared by the install, chart and cluster tests.

use std::path::Path;

use base64::Engine as _;
use serde_json::Value;

use crate::support::cli::counsel;

/// What one `counsel install` printed.
pub struct Installed {
    /// The text, as `kubectl apply -f -` reads it.
    pub text: String,
    /// Every document, parsed by Counsel's own manifest reader.
    pub objects: Vec<Value>,
}

/// Runs `counsel install ARGS` in `dir`; it must succeed and print nothing
/// on stderr.
pub fn install_in(dir: &Path, args: &[&str]) -> Installed {
    let mut full = vec!["install"];
    full.extend_from_slice(args);
    let output = counsel(dir, &full, None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "install {args:?} failed: {stderr}");
    assert_eq!(stderr, "", "install {args:?} wrote to stderr");
    let text = String::from_utf8(output.stdout).expect("UTF-8 output");
    let objects = counsel::source::parse(&text)
        .unwrap_or_else(|e| panic!("the output is not a YAML stream: {e}\n{text}"))
        .into_iter()
        .map(|document| document.value)
        .collect();
    Installed { text, objects }
}

/// `counsel install ARGS` in a fresh directory.
pub fn install(args: &[&str]) -> Installed {
    let dir = tempfile::tempdir().expect("temp dir");
    install_in(dir.path(), args)
}

impl Installed {
    /// Its webhook configurations (validating and mutating), in output
    /// order: what a test registers Counsel with.
    pub fn webhooks(&self) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|object| {
                object["kind"]
                    .as_str()
                    .is_some_and(|kind| kind.ends_with("WebhookConfiguration"))
            })
            .cloned()
            .collect()
    }

    /// The kinds, in output order.
    pub fn kinds(&self) -> Vec<&str> {
        self.objects
            .iter()
            .map(|object| object["kind"].as_str().unwrap_or("<no kind>"))
            .collect()
    }

    /// The one object of `kind`.
    pub fn one(&self, kind: &str) -> &Value {
        let found: Vec<&Value> = self
            .objects
            .iter()
            .filter(|object| object["kind"] == kind)
            .collect();
        assert_eq!(found.len(), 1, "expected exactly one {kind}");
        found[0]
    }

    /// The Deployment's only container.
    pub fn container(&self) -> &Value {
        let containers = self.one("Deployment")["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("containers");
        assert_eq!(containers.len(), 1, "one container");
        &containers[0]
    }

    /// The Deployment's pod spec.
    pub fn pod_spec(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]["spec"]
    }

    /// The only webhook of the ValidatingWebhookConfiguration.
    pub fn validating_webhook(&self) -> &Value {
        let webhooks = self.one("ValidatingWebhookConfiguration")["webhooks"]
            .as_array()
            .expect("webhooks");
        assert_eq!(webhooks.len(), 1, "one webhook");
        &webhooks[0]
    }

    /// Key `key` of the `data` of the Secret, decoded.
    pub fn secret_data(&self, key: &str) -> Vec<u8> {
        let encoded = self.one("Secret")["data"][key]
            .as_str()
            .unwrap_or_else(|| panic!("Secret data {key}"));
        base64_decode(encoded)
    }
}

/// Standard base64, as Kubernetes writes `data` and `caBundle`.
pub fn base64_decode(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_else(|e| panic!("not base64 ({e}): {text}"))
}
