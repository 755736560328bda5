//! The background audit of `counsel serve` against a real kube-apiserver
//! (v1.20, see tests/support/cluster.rs): what already ran before Counsel
//! started is judged and counted in the metrics a user scrapes; fixing an
//! object, or granting an exception, changes the counts while it runs; a
//! Pod a controller owns is reported at its controller only; `--no-audit`
//! judges nothing.

use std::time::{Duration, Instant};

use crate::support::cluster::Cluster;
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
