//! Counsel watching a real kube-apiserver (v1.20, see
//! tests/support/cluster.rs): with exactly the ClusterRole `counsel
//! install` grants, namespace owners in what kubectl prints, and a
//! `namespaceSelector` following a namespace's labels as they change while
//! Counsel runs.

use serde_json::Value;

use crate::install::manifests::{Installed, install};
use crate::support::cluster::{COUNSEL_ACCOUNT, Cluster};
use crate::support::counsel_process::CounselProcess;

/// The objects of `installed` of these kinds.
fn objects_of(installed: &Installed, kinds: &[&str]) -> Vec<Value> {
    installed
        .objects
        .iter()
        .filter(|object| kinds.iter().any(|kind| object["kind"] == *kind))
        .cloned()
        .collect()
}

#[test]
fn counsel_runs_with_exactly_its_cluster_role_and_names_the_namespaces_owner() {
    let cluster = Cluster::shared();
    let (account_namespace, account_name) = COUNSEL_ACCOUNT;
    let namespace = "owned";
    cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n  labels:\n    kubernetes.io/metadata.name: {namespace}\n  annotations:\n    counsel.dev/owner: team-shop\n    counsel.dev/contact: \"#shop-oncall\"\n"
        ))
        .success();
    let config = "\
policies:
  - name: pod-security
    module: builtin:pod-security
    settings: {level: baseline}
    contact: \"#platform\"
  - name: workload-hygiene
    module: builtin:workload-hygiene
    mode: warn
";
    let kubeconfig = cluster.account_kubeconfig.to_str().expect("UTF-8 path");
    let mut counsel = CounselProcess::start(Some(config), &["--kubeconfig", kubeconfig]);

    // No binding yet: the token may do nothing, and Counsel says so.
    counsel.wait_for_message(|m| {
        m.starts_with("the watch of namespaces failed") && m.contains("forbidden")
    });
    let readiness = counsel.ops_get("/readyz");
    assert!(
        readiness.starts_with("not ready: the watch of namespaces has not synced yet: "),
        "{readiness}"
    );
    assert!(
        readiness.contains(&format!(
            "namespaces is forbidden: User \"system:serviceaccount:{account_namespace}:{account_name}\" cannot list resource \"namespaces\""
        )),
        "{readiness}"
    );

    // The ClusterRole and its binding, as `counsel install` prints them.
    let installed = install(&["--namespace", account_namespace, "--name", account_name]);
    let rbac = objects_of(&installed, &["ClusterRole", "ClusterRoleBinding"]);
    assert_eq!(rbac.len(), 2);
    let stream: String = rbac.iter().map(|object| format!("{object}\n")).collect();
    cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(stream)
        .success();
    counsel.wait_synced();
    assert_eq!(counsel.ops_get("/readyz"), "ready\n");
    let metrics = counsel.ops_get("/metrics");
    assert!(
        metrics
            .lines()
            // Other tests share the cluster: how many there are varies.
            .any(|line| line.starts_with("counsel_cluster_objects{kind=\"counselexceptions\"} ")),
        "{metrics}"
    );
    assert!(
        metrics.lines().any(|line| line
            .starts_with("counsel_cluster_last_sync_timestamp_seconds{kind=\"namespaces\"} ")),
        "{metrics}"
    );

    // It serves, and kubectl shows whom the namespace belongs to.
    cluster.register_counsel(&counsel, &installed.webhooks(), namespace);
    let denied = cluster.create_until(namespace, |output| output.code == Some(1));
    assert_eq!(denied.stdout, "");
    assert!(
        denied.stderr.contains(
            "\n  contact: #platform\n  owner: team-shop, #shop-oncall (owns namespace owned)\n"
        ),
        "{denied:#?}"
    );
    assert!(
        denied.stderr.lines().any(|line| line
            == "Warning: [counsel] Deployment owned/web: owner: team-shop, #shop-oncall (owns namespace owned)"),
        "{denied:#?}"
    );
}

#[test]
fn a_namespace_selector_follows_the_namespaces_labels_while_counsel_runs() {
    let cluster = Cluster::shared();
    let namespace = cluster.namespace("selected", &[]);
    let config = "\
policies:
  - name: pod-security
    module: builtin:pod-security
    settings: {level: baseline}
    match:
      namespaceSelector:
        matchLabels: {counsel.example/enforce: \"yes\"}
";
    let kubeconfig = cluster.kubeconfig.to_str().expect("UTF-8 path");
    let mut counsel = CounselProcess::start(Some(config), &["--kubeconfig", kubeconfig]);
    counsel.wait_synced();
    let installed = install(&["--name", "selector"]);
    cluster.register_counsel(&counsel, &installed.webhooks(), &namespace);

    // Not labelled: the policy does not look.
    let allowed = cluster.create_until(&namespace, |_| true);
    assert_eq!(allowed.code, Some(0), "{allowed:#?}");
    assert_eq!(
        allowed.stdout,
        "deployment.apps/web created (server dry run)\n"
    );

    // Labelled while Counsel runs: enforced, without a restart.
    cluster
        .kubectl(&[
            "label",
            "namespace",
            &namespace,
            "counsel.example/enforce=yes",
        ])
        .success();
    let denied = cluster.create_until(&namespace, |output| output.code == Some(1));
    assert!(
        denied
            .stderr
            .contains("admission webhook \"validate.selector.counsel.svc\" denied the request: "),
        "{denied:#?}"
    );
    assert!(
        denied.stderr.contains("[pod-security/privileged]"),
        "{denied:#?}"
    );

    // And the label taken off again: let in.
    cluster
        .kubectl(&["label", "namespace", &namespace, "counsel.example/enforce-"])
        .success();
    let allowed = cluster.create_until(&namespace, |output| output.code == Some(0));
    assert_eq!(
        allowed.stdout,
        "deployment.apps/web created (server dry run)\n"
    );
}

#[test]
fn a_kubeconfig_that_is_given_but_broken_stops_counsel_serve_saying_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_counsel"))
        .args(["serve", "--kubeconfig", "missing.yaml"])
        .current_dir(dir.path())
        .env("COUNSEL_LISTEN", "127.0.0.1:0")
        .env("COUNSEL_METRICS_LISTEN", "127.0.0.1:0")
        .output()
        .expect("counsel runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "\nerror: connecting to the cluster: kubeconfig --kubeconfig missing.yaml: failed to read kubeconfig from '\"missing.yaml\"'"
        ),
        "{stderr}"
    );
}
