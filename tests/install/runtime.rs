//! The Deployment as `counsel serve` expects to be run: its flags, ports,
//! probes and mounts; run for real; and checked by Counsel's own restricted
//! Pod Security policy.

use serde_json::{Value, json};

use super::manifests::{install, install_in};
use super::{container_port, serve, volume_mounts};
use crate::support::cli::counsel;

#[test]
fn the_deployment_runs_counsel_serve_as_it_expects_to_be_run() {
    let installed = install(&[]);
    let container = installed.container();
    assert_eq!(container["args"], json!(["serve"]));
    let env = environment(container);

    // Every variable is one `counsel serve` reads.
    let dir = tempfile::tempdir().expect("temp dir");
    let help = counsel(dir.path(), &["serve", "--help"], None);
    let help = String::from_utf8_lossy(&help.stdout);
    for name in env.keys() {
        assert!(
            help.contains(&format!("[env: {name}=")),
            "serve reads {name}"
        );
    }
    // The listeners are on the ports the pod declares and the probes use.
    let port_of = |name: &str| {
        let address = env[name].as_str().expect("address");
        address
            .rsplit(':')
            .next()
            .expect("port")
            .parse::<u64>()
            .expect("number")
    };
    assert_eq!(
        port_of("COUNSEL_LISTEN"),
        container_port(&installed, &json!("https"))
    );
    assert_eq!(
        port_of("COUNSEL_METRICS_LISTEN"),
        container_port(&installed, &json!("metrics"))
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "metrics"})
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "metrics"})
    );

    // The configuration, certificate and cache are where the variables say.
    let mounts = volume_mounts(&installed);
    let (config, _) = &mounts["/etc/counsel/config"];
    assert_eq!(env["COUNSEL_CONFIG"], "/etc/counsel/config/counsel.yaml");
    assert_eq!(config["configMap"]["name"], "counsel-config");
    // The built-in policies, pod-security warning (see
    // `a_new_install_warns_and_enforcing_is_one_option`).
    let data = installed.one("ConfigMap")["data"]
        .as_object()
        .expect("data");
    assert_eq!(data.keys().collect::<Vec<_>>(), ["counsel.yaml"]);
    let (tls, _) = &mounts["/etc/counsel/tls"];
    assert_eq!(env["COUNSEL_TLS_CERT"], "/etc/counsel/tls/tls.crt");
    assert_eq!(env["COUNSEL_TLS_KEY"], "/etc/counsel/tls/tls.key");
    assert_eq!(tls["secret"]["secretName"], "counsel-tls");
    let (cache, writable) = &mounts["/var/cache/counsel"];
    assert_eq!(env["COUNSEL_CACHE_DIR"], "/var/cache/counsel");
    assert!(cache.get("emptyDir").is_some() && *writable, "{cache}");
    assert_eq!(mounts.len(), 3, "{mounts:?}");

    // Restricted, and nothing to write but the cache.
    assert_eq!(
        container["securityContext"],
        json!({
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        })
    );
    let pod = installed.pod_spec();
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(pod["automountServiceAccountToken"], true);
    assert_eq!(pod["serviceAccountName"], "counsel");
}

/// The container's environment, by name.
pub fn environment(container: &Value) -> serde_json::Map<String, Value> {
    container["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|var| {
            (
                var["name"].as_str().expect("name").to_owned(),
                var["value"].clone(),
            )
        })
        .collect()
}

#[test]
fn counsels_own_deployment_passes_its_restricted_pod_security_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let installed = install_in(dir.path(), &[]);
    std::fs::write(
        dir.path().join("restricted.yaml"),
        "policies:\n  - name: pod-security\n    module: builtin:pod-security\n    \
         settings: {level: restricted}\n    mode: enforce\n",
    )
    .expect("write config");
    let checked = counsel(
        dir.path(),
        &["check", "-f", "-", "-c", "restricted.yaml", "-o", "json"],
        Some(&installed.text),
    );
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
    let report: Value = serde_json::from_slice(&checked.stdout).expect("JSON");
    let deployment = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|result| result["kind"] == "Deployment")
        .expect("the Deployment was checked");
    assert_eq!(deployment["allowed"], true);
    assert_eq!(deployment["violations"], json!([]));
    assert_eq!(deployment["failures"], json!([]));

    // The default configuration (restricted, enforced; hygiene warned):
    // allowed, and the only advice is to pin the image by digest.
    let checked = counsel(dir.path(), &["check", "-f", "-"], Some(&installed.text));
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("warning[workload-hygiene/image-digest]: Deployment counsel/counsel"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 errors, 1 warning in 16 objects\n"),
        "{stdout}"
    );
}

#[test]
fn the_deployment_serves_as_deployed() {
    // Enforcing, so that the review it answers is a denial.
    let installed = install(&["-n", "policy", "--name", "guard", "--enforce"]);
    serve::run_as_deployed(&installed, "guard.policy.svc");
}
