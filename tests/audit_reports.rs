//! The background audit's reports end to end: `counsel serve` against its
//! own kube-apiserver writes OpenReports of objects that were there before
//! it started, follows fixes, and shows excepted findings as skips.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::cluster::Cluster;
use crate::support::counsel_process::CounselProcess;
use crate::support::times;

const CONFIG: &str = r#"policies:
  - name: house-limits
    module: builtin:cel
    mode: enforce
    settings:
      rules:
        - id: replicas
          title: At most 5 replicas
          kinds: [Deployment]
          validate: "object.spec.replicas <= 5"
          path: spec.replicas
  - name: house-labels
    module: builtin:cel
    mode: warn
    settings:
      rules:
        - id: team-label
          title: Deployments name their team
          kinds: [Deployment]
          validate: "has(object.metadata.labels) && 'team' in object.metadata.labels"
          path: metadata.labels
"#;

const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 7
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: registry.example/app:1.0}]
";

/// The summary of Counsel's Report in `namespace`, once it is `wanted`.
fn summary_until(cluster: &Cluster, namespace: &str, wanted: Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let read = cluster
            .kubectl(&["get", "report", "counsel", "-n", namespace, "-o", "json"])
            .run();
        let report: Value = serde_json::from_str(&read.stdout).unwrap_or(Value::Null);
        if report["summary"] == wanted {
            return report;
        }
        assert!(
            Instant::now() < deadline,
            "the Report never said {wanted}; last: {report}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn objects_there_before_counsel_starts_are_reported_fixed_and_excepted() {
    let cluster = Cluster::start();
    cluster.kubectl(&["create", "namespace", "shop"]).success();
    cluster.kubectl(&["apply", "-f", "-"]).stdin(WEB).success();
    let kubeconfig = cluster.kubeconfig.to_str().expect("UTF-8 path");
    let mut counsel = CounselProcess::start(Some(CONFIG), &["--kubeconfig", kubeconfig]);
    counsel.wait_for_message(|m| m.starts_with("became the leader"));

    // There before Counsel started: one failure, one warning.
    let report = summary_until(
        &cluster,
        "shop",
        json!({"pass": 0, "fail": 1, "warn": 1, "error": 0, "skip": 0}),
    );
    let results: Vec<(&str, &str, &str)> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["result"].as_str().unwrap_or_default(),
                r["rule"].as_str().unwrap_or_default(),
                r["resources"][0]["name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [("fail", "replicas", "web"), ("warn", "team-label", "web")]
    );

    // Fixed: the failure goes, the passing policy is counted.
    cluster
        .kubectl(&["scale", "deployment", "web", "-n", "shop", "--replicas=3"])
        .success();
    summary_until(
        &cluster,
        "shop",
        json!({"pass": 1, "fail": 0, "warn": 1, "error": 0, "skip": 0}),
    );

    // Excepted: the warning becomes a skip that names the exception.
    let exception = format!(
        "apiVersion: counsel.dev/v1alpha1\nkind: CounselException\nmetadata: {{name: web-team, namespace: shop}}\nspec:\n  policy: house-labels\n  rules: [team-label]\n  objects: {{kinds: [Deployment], names: [web]}}\n  reason: the team is being renamed\n  owner: team-shop\n  expires: {:?}\n",
        times::from_now(30 * 86_400)
    );
    cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(exception)
        .success();
    let report = summary_until(
        &cluster,
        "shop",
        json!({"pass": 1, "fail": 0, "warn": 0, "error": 0, "skip": 1}),
    );
    assert_eq!(
        report["results"][0]["properties"]["exception"],
        "CounselException shop/web-team"
    );

    // Every object clean: the Report goes.
    cluster
        .kubectl(&["label", "deployment", "web", "-n", "shop", "team=shop"])
        .success();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let read = cluster.kubectl(&["get", "reports", "-n", "shop"]).run();
        if read.stderr == "No resources found in shop namespace.\n" {
            break;
        }
        assert!(Instant::now() < deadline, "the Report stayed: {read:#?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}
