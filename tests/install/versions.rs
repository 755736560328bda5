//! What `counsel install` makes for which cluster: the Kubernetes versions
//! it supports, the mode a new install starts in, and how its pods stop.

use serde_json::json;

use super::manifests::install;
use super::runtime::environment;
use crate::support::cli::counsel;

#[test]
fn versions_before_1_20_are_refused_before_anything_is_printed() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (version, message) in [
        (
            "1.19",
            "error: invalid value '1.19' for '--kube-version <VERSION>': Kubernetes 1.19 is not \
             supported: counsel install supports Kubernetes 1.20 and later\n\n\
             For more information, try '--help'.\n",
        ),
        (
            "2.0",
            "error: invalid value '2.0' for '--kube-version <VERSION>': expected a Kubernetes \
             version such as 1.29\n\nFor more information, try '--help'.\n",
        ),
    ] {
        let output = counsel(dir.path(), &["install", "--kube-version", version], None);
        assert_eq!(output.status.code(), Some(2), "{version}");
        assert_eq!(String::from_utf8_lossy(&output.stderr), message);
        assert!(output.stdout.is_empty(), "{version}: nothing on stdout");
    }
    let help = counsel(dir.path(), &["install", "--help"], None);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Supported: Kubernetes 1.20 and later (on 1.20, give --kube-version 1.20)."),
        "{help}"
    );
}

#[test]
fn kubernetes_1_20_gets_a_policy_v1beta1_disruption_budget_and_a_note() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = counsel(dir.path(), &["install", "--kube-version", "v1.20.2"], None);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "note: Kubernetes 1.20 does not label namespaces with kubernetes.io/metadata.name, \
         which the webhooks' namespaceSelector reads; label kube-system so that it stays \
         excluded: kubectl label namespace kube-system kubernetes.io/metadata.name=kube-system\n"
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        text.contains("apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\n"),
        "{text}"
    );
    for version in ["1.21", "1.33"] {
        let installed = install(&["--kube-version", version]);
        assert_eq!(
            installed.one("PodDisruptionBudget")["apiVersion"],
            "policy/v1"
        );
    }
}

#[test]
fn counsels_namespace_carries_its_name_label_for_api_servers_that_do_not() {
    let installed = install(&["-n", "policy"]);
    assert_eq!(
        installed.one("Namespace")["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "policy"
    );
}

#[test]
fn pods_keep_serving_after_sigterm_without_a_prestop_hook() {
    // preStop.sleep needs Kubernetes 1.30: Counsel waits by itself instead.
    let installed = install(&[]);
    let container = installed.container();
    assert_eq!(container.get("lifecycle"), None, "{container}");
    assert_eq!(environment(container)["COUNSEL_SHUTDOWN_DELAY"], "5");
    assert_eq!(installed.pod_spec()["terminationGracePeriodSeconds"], 30);
}

#[test]
fn a_new_install_warns_and_enforcing_is_one_option() {
    let policies = |args: &[&str]| {
        let installed = install(args);
        let text = installed.one("ConfigMap")["data"]["counsel.yaml"]
            .as_str()
            .expect("counsel.yaml")
            .to_owned();
        let config = counsel::source::parse(&text).expect("YAML")[0]
            .value
            .clone();
        config["policies"].clone()
    };
    let expected = |mode: &str| {
        let everywhere_but_kube_system = json!({"namespaces": {"exclude": ["kube-system"]}});
        json!([
            {"name": "pod-security", "module": "builtin:pod-security",
             "settings": {"level": "restricted"}, "mode": mode,
             "match": everywhere_but_kube_system},
            {"name": "workload-hygiene", "module": "builtin:workload-hygiene", "mode": "warn",
             "match": everywhere_but_kube_system},
        ])
    };
    assert_eq!(policies(&[]), expected("warn"));
    assert_eq!(policies(&["--enforce"]), expected("enforce"));

    // A configuration of one's own says its own modes.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("counsel.yaml"), "policies: []\n").expect("write");
    let output = counsel(
        dir.path(),
        &["install", "--enforce", "--config", "counsel.yaml"],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .starts_with("error: the argument '--enforce' cannot be used with '--config <FILE>'\n"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}
