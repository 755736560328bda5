//! The background audit of `counsel serve` against a real kube-apiserver
//! (v1.20, see tests/support/cluster.rs): what already ran before Counsel
//! started is judged and counted in the metrics a user scrapes; fixing an
//! object, or granting an exception, changes the counts while it runs; a
//! Pod a controller owns is reported at its controller only; a kind
//! Counsel may not list does not hold the rest back; `--no-audit` judges
//! nothing.

use std::time::{Duration, Instant};

use crate::support::cluster::{COUNSEL_ACCOUNT, Cluster};
use crate::support::counsel_process::CounselProcess;
use crate::support::times;

/// Privileged pod-security findings everywhere but in the namespace's own
/// name, and one audit-mode policy: every mode is audited.
fn config(namespace: &str) -> String {
    format!(
        "\
policies:
  - name: pod-security
    module: builtin:pod-security
    mode: enforce
    settings: {{level: baseline}}
    match:
      namespaces:
        include: [{namespace}]
  - name: cel
    module: builtin:cel
    mode: audit
    match:
      kinds: [Deployment]
      namespaces:
        include: [{namespace}]
    settings:
      rules:
        - id: replicas
          title: Deployments run two replicas at least
          why: one replica is down at every rollout
          validate: \"has(object.spec.replicas) && object.spec.replicas >= 2\"
          message: \"'spec.replicas is below 2'\"
"
    )
}

/// A Deployment, privileged or not.
fn deployment(privileged: bool) -> String {
    format!(
        "\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: app
          image: registry.example/app:1.0
          securityContext: {{privileged: {privileged}}}
"
    )
}

/// A privileged Pod; `owner`: the ReplicaSet that controls it.
fn pod(name: &str, owner: Option<&str>) -> String {
    let owners = owner.map_or(String::new(), |owner| {
        format!(
            "\n  ownerReferences:\n    - {{apiVersion: apps/v1, kind: ReplicaSet, name: {owner}, uid: 3f1c7a52-9d0e-4f5b-8c2a-1b6e0d4f7a91, controller: true}}"
        )
    });
    format!(
        "\
apiVersion: v1
kind: Pod
metadata:
  name: {name}{owners}
spec:
  containers:
    - name: app
      image: registry.example/app:1.0
      securityContext: {{privileged: true}}
"
    )
}

/// The `counsel_audit_*` series of the metrics, but the durations and
/// timestamps (which vary), and the evaluations (which count work).
fn audit_lines(counsel: &CounselProcess) -> Vec<String> {
    counsel
        .ops_get("/metrics")
        .lines()
        .filter(|line| line.starts_with("counsel_audit_"))
        .filter(|line| !line.starts_with("counsel_audit_last_full_"))
        .filter(|line| !line.starts_with("counsel_audit_evaluations"))
        .map(str::to_owned)
        .collect()
}

/// Waits until the audit's series are `wanted`, sorted (the audit follows the
/// cluster within moments; this waits on the metrics, never a set time,
/// with a deadline only against hanging forever).
fn wait_for_lines(counsel: &CounselProcess, wanted: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut lines = audit_lines(counsel);
        lines.sort();
        if lines == wanted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the audit's metrics never became\n{wanted:#?}\nthey are\n{lines:#?}\nlog:\n{}",
            counsel.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn what_ran_before_counsel_is_audited_and_the_counts_follow_fixes_and_exceptions() {
    // The audit lists the whole cluster: a cluster of its own.
    let cluster = Cluster::start();
    let namespace = cluster.namespace("audited", &[]);
    let apply = |manifest: String| {
        cluster
            .kubectl(&["apply", "-n", &namespace, "-f", "-"])
            .stdin(manifest)
            .success()
    };
    apply(deployment(true));
    apply(pod("debug", None));
    // Made by a ReplicaSet: reported at its controller, not here.
    apply(pod("web-5d9c-x2x7q", Some("web-5d9c")));

    let kubeconfig = cluster.kubeconfig.to_str().expect("UTF-8 path");
    let mut counsel = CounselProcess::start(
        Some(&config(&namespace)),
        &["--kubeconfig", kubeconfig, "--audit-debounce-ms", "200"],
    );
    counsel.wait_for_message(|m| {
        m.starts_with("background audit on: every object of a kind a policy matches")
    });
    counsel.wait_for_message(|m| m == "the audit judged every watched object");
    let line = |series: &str| format!("counsel_audit_{series}");
    let privileged = |count: u32| {
        line(&format!(
            "violations{{policy=\"pod-security\",rule=\"privileged\",namespace=\"audited\",mode=\"enforce\"}} {count}"
        ))
    };
    let replicas =
        line("violations{policy=\"cel\",rule=\"replicas\",namespace=\"audited\",mode=\"audit\"} 1");
    let objects = [
        line("objects{kind=\"Deployment\"} 1"),
        line("objects{kind=\"Pod\"} 1"),
    ];
    let mut wanted = vec![privileged(2), replicas.clone()];
    let assert_lines = |wanted: &[String], counsel: &CounselProcess| {
        let mut lines = audit_lines(counsel);
        lines.sort();
        let mut wanted = wanted.to_vec();
        wanted.sort();
        assert_eq!(lines, wanted, "{}", counsel.log());
    };
    assert_lines(&[&wanted[..], &objects[..]].concat(), &counsel);
    let metrics = counsel.ops_get("/metrics");
    assert!(
        metrics.contains("\ncounsel_audit_last_full_timestamp_seconds "),
        "{metrics}"
    );

    // Fixed while Counsel runs: the Deployment's privileged finding goes.
    apply(deployment(false));
    wanted = vec![privileged(1), replicas.clone()];
    wait_for_lines(&counsel, &sorted([&wanted[..], &objects[..]].concat()));

    // An exception for the Pod: its finding stays, as excepted.
    apply(format!(
        "\
apiVersion: counsel.dev/v1alpha1
kind: CounselException
metadata: {{name: debug-pod}}
spec:
  policy: pod-security
  rules: [privileged]
  objects: {{kinds: [Pod], names: [debug]}}
  reason: debugging the node's devices this week
  owner: team-platform
  expires: {:?}
",
        times::from_now(3 * 24 * 3600)
    ));
    let excepted = line(
        "excepted_violations{policy=\"pod-security\",rule=\"privileged\",namespace=\"audited\",mode=\"enforce\"} 1",
    );
    wait_for_lines(
        &counsel,
        &sorted([&[replicas.clone(), excepted][..], &objects[..]].concat()),
    );

    // Deleted: nothing of it is counted any more.
    cluster
        .kubectl(&["delete", "-n", &namespace, "pod", "debug"])
        .success();
    wait_for_lines(
        &counsel,
        &sorted(vec![
            replicas,
            line("objects{kind=\"Deployment\"} 1"),
            line("objects{kind=\"Pod\"} 0"),
        ]),
    );
}

#[test]
fn a_kind_counsel_may_not_list_does_not_hold_the_audit_back() {
    // Counsel's ServiceAccount gets what it needs but ConfigMaps, which a
    // rule matches: a cluster of its own, for the binding.
    let cluster = Cluster::start();
    let (account_namespace, account) = COUNSEL_ACCOUNT;
    cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(format!(
            "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: counsel-but-configmaps}}
rules:
  - {{apiGroups: [\"\"], resources: [namespaces], verbs: [list, watch]}}
  - {{apiGroups: [counsel.dev], resources: [counselexceptions, clustercounselexceptions], verbs: [list, watch]}}
  - {{apiGroups: [apps], resources: [deployments], verbs: [list, watch]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: counsel-but-configmaps}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: counsel-but-configmaps}}
subjects:
  - {{kind: ServiceAccount, namespace: {account_namespace}, name: {account}}}
"
        ))
        .success();
    let namespace = cluster.namespace("partly-audited", &[]);
    cluster
        .kubectl(&["apply", "-n", &namespace, "-f", "-"])
        .stdin(deployment(false))
        .success();
    cluster
        .kubectl(&["create", "configmap", "settings", "-n", &namespace])
        .success();
    let config = "\
policies:
  - name: house
    module: builtin:cel
    mode: audit
    match:
      kinds: [Deployment, ConfigMap]
    settings:
      rules:
        - id: replicas
          title: Deployments run two replicas at least
          kinds: [Deployment]
          validate: \"has(object.spec.replicas) && object.spec.replicas >= 2\"
        - id: owner
          title: ConfigMaps name their owner
          kinds: [ConfigMap]
          validate: \"has(object.metadata.labels) && 'owner' in object.metadata.labels\"
";
    let kubeconfig = cluster.account_kubeconfig.to_str().expect("UTF-8 path");
    let mut counsel = CounselProcess::start(
        Some(config),
        &["--kubeconfig", kubeconfig, "--no-reports", "--no-events"],
    );
    counsel.wait_for_message(|m| {
        m == "the audit goes on without a kind it may not list; grant list and watch of it to audit it"
    });
    counsel.wait_for_message(|m| m == "the audit judged every watched object");
    let refused: Vec<String> = (counsel.log_lines().into_iter())
        .filter(|line| {
            line["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("the audit goes on"))
        })
        .map(|line| line["fields"]["kind"].to_string())
        .collect();
    assert_eq!(refused, ["\"ConfigMap\""], "{}", counsel.log());
    wait_for_lines(
        &counsel,
        &sorted(vec![
            "counsel_audit_objects{kind=\"Deployment\"} 1".to_owned(),
            format!(
                "counsel_audit_violations{{policy=\"house\",rule=\"replicas\",namespace=\"{namespace}\",mode=\"audit\"}} 1"
            ),
        ]),
    );
}

/// `lines` in the order the metrics list them in (by name, then labels,
/// as registered): sorted, as [`audit_lines`] is compared sorted.
fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

#[test]
fn no_audit_judges_nothing() {
    let cluster = Cluster::shared();
    let namespace = cluster.namespace("unaudited", &[]);
    cluster
        .kubectl(&["apply", "-n", &namespace, "-f", "-"])
        .stdin(deployment(true))
        .success();
    let kubeconfig = cluster.kubeconfig.to_str().expect("UTF-8 path");
    let mut counsel = CounselProcess::start(
        Some(&config(&namespace)),
        &["--kubeconfig", kubeconfig, "--no-audit"],
    );
    counsel.wait_for_message(|m| m == "background audit off (--no-audit)");
    counsel.wait_synced();
    let metrics = counsel.ops_get("/metrics");
    let audit: Vec<&str> = (metrics.lines())
        .filter(|line| line.starts_with("counsel_audit_"))
        .collect();
    assert_eq!(
        audit,
        [
            "counsel_audit_evaluations_total 0",
            "counsel_audit_last_full_duration_seconds 0.0",
            "counsel_audit_last_full_timestamp_seconds 0.0",
        ]
    );
    assert!(
        !counsel.log().contains("the audit watches"),
        "{}",
        counsel.log()
    );
}
