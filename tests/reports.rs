//! OpenReports as a cluster holds them: conclusions of a real `Reviewer`
//! (bundled `builtin:cel`, configured as ops would) about real objects,
//! written by the report writer to a real API server, read back with
//! kubectl. The API server is the test's own: the writer deletes Counsel's
//! reports of namespaces it has no results for, cluster-wide.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use counsel::audit::{AuditSnapshot, Audited, Conclusions, ObjectKey};
use counsel::config::ExceptionSettings;
use counsel::config::{Config, Origin};
use counsel::engine::{Engine, EngineOptions};
use counsel::exceptions::Exceptions;
use counsel::reports::{ReportOptions, ReportWriter};
use counsel::request::Request;
use counsel::review::{Context, Reviewer, Scope};
use counsel_contract::Operation;
use serde_json::{Value, json};

use crate::support::cluster::Cluster;

/// Limits enforced, labels warned about; the same rule for Deployments and
/// Namespaces.
const CONFIG: &str = r##"policies:
  - name: house-limits
    module: builtin:cel
    mode: enforce
    contact: "#platform"
    settings:
      rules:
        - id: replicas
          title: At most 5 replicas
          kinds: [Deployment]
          severity: high
          validate: "object.spec.replicas <= 5"
          message: "'asks for ' + string(object.spec.replicas) + ' replicas'"
          path: spec.replicas
          docs: https://wiki.example.com/replicas
          fixes:
            - set: spec.replicas
              value: "5"
  - name: house-labels
    module: builtin:cel
    mode: warn
    settings:
      rules:
        - id: team-label
          title: Objects name their team
          kinds: [Deployment, Namespace]
          severity: low
          validate: "has(object.metadata.labels) && 'team' in object.metadata.labels"
          path: metadata.labels
          hint: Add the label `team` with your team's name.
"##;

fn reviewer() -> Reviewer {
    let config = Config::parse(CONFIG, Origin::Builtin, Path::new("/")).expect("configuration");
    let engine = Engine::new(EngineOptions {
        cache_dir: Some(crate::support::policy_cache::dir()),
        ..EngineOptions::default()
    })
    .expect("engine");
    Reviewer::load(&config, &engine).expect("policies load")
}

fn deployment(namespace: &str, name: &str, replicas: u32) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]},
            },
        },
    })
}

/// What the audit concludes about `object`: the review of a CREATE of it.
fn audit(
    reviewer: &Reviewer,
    object: Value,
    uid: &str,
    exceptions: Option<&Exceptions>,
) -> (ObjectKey, Arc<Audited>) {
    let namespace = object["metadata"]["namespace"].as_str().map(str::to_owned);
    let key = ObjectKey {
        namespace: namespace.clone(),
        api_version: object["apiVersion"]
            .as_str()
            .expect("apiVersion")
            .to_owned(),
        kind: object["kind"].as_str().expect("kind").to_owned(),
        name: object["metadata"]["name"]
            .as_str()
            .expect("name")
            .to_owned(),
    };
    let request = Request::for_manifest(object, Operation::Create, namespace.as_deref());
    let context = Context {
        namespace: None,
        now: SystemTime::now(),
        exceptions,
    };
    let report = reviewer
        .review_in(&request, Scope::All, None, &context)
        .expect("reviewed");
    let audited = Conclusions::default().audited(uid, "1", &report);
    (key, Arc::new(audited))
}

fn snapshot(objects: impl IntoIterator<Item = (ObjectKey, Arc<Audited>)>) -> Arc<AuditSnapshot> {
    Arc::new(AuditSnapshot {
        objects: objects.into_iter().collect(),
        complete: true,
    })
}

/// A report writer on the test's API server.
fn report_writer(client: &kube::Client, options: ReportOptions) -> ReportWriter {
    ReportWriter::new(client.clone(), options).expect("the writer's thread starts")
}

/// `kubectl get KIND counsel -o json`, the content of the report: the
/// metadata it is written with, and results without their timestamps
/// (returned apart, in order).
fn stored(cluster: &Cluster, what: &[&str]) -> (Value, Vec<Value>, String) {
    let mut args = vec!["get"];
    args.extend(what);
    args.extend(["-o", "json"]);
    let object: Value = serde_json::from_str(&cluster.kubectl(&args).success()).expect("JSON");
    let mut results = object["results"].as_array().cloned().unwrap_or_default();
    let timestamps = results
        .iter_mut()
        .map(|result| {
            result
                .as_object_mut()
                .and_then(|r| r.remove("timestamp"))
                .expect("every result has a timestamp")
        })
        .collect();
    let content = json!({
        "apiVersion": object["apiVersion"],
        "kind": object["kind"],
        "name": object["metadata"]["name"],
        "namespace": object["metadata"]["namespace"],
        "labels": object["metadata"]["labels"],
        "annotations": object["metadata"]["annotations"],
        "source": object["source"],
        "configuration": object["configuration"],
        "summary": object["summary"],
        "results": results,
    });
    let version = object["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .to_owned();
    (content, timestamps, version)
}

const WEB_UID: &str = "3f1c2b9e-1111-4a5b-9c3d-5e6f7a8b9c0d";
const LAB_UID: &str = "7d2e4f6a-2222-4b6c-8d9e-0f1a2b3c4d5e";

fn web_ref() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop", "uid": WEB_UID})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_say_what_the_audit_found_and_change_only_with_it() {
    let cluster = Cluster::start();
    for namespace in ["shop", "lab"] {
        cluster
            .kubectl(&["create", "namespace", namespace])
            .success();
    }
    let client = cluster.client().await;
    let reviewer = reviewer();
    let lab = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lab"}});
    let first = snapshot([
        audit(&reviewer, deployment("shop", "web", 7), WEB_UID, None),
        audit(&reviewer, lab.clone(), LAB_UID, None),
    ]);
    let mut writer = report_writer(&client, ReportOptions::default());
    let written = writer.write(&first).await.expect("written");
    assert_eq!(
        (
            written.written,
            written.unchanged,
            written.deleted,
            written.failed.len()
        ),
        (2, 0, 0, 0)
    );

    // One Report in shop: the enforced finding fails, the warned one warns.
    let (content, timestamps, version) = stored(&cluster, &["report", "counsel", "-n", "shop"]);
    let replicas = json!({
        "source": "counsel",
        "policy": "house-limits",
        "rule": "replicas",
        "severity": "high",
        "result": "fail",
        "message": "asks for 7 replicas",
        "resources": [web_ref()],
        "properties": {
            "contact": "#platform",
            "docs": "https://wiki.example.com/replicas",
            "field": "spec.replicas",
            "fix": "set spec.replicas: 5",
            "found": "7",
            "mode": "enforce",
        },
    });
    let team = json!({
        "source": "counsel",
        "policy": "house-labels",
        "rule": "team-label",
        "severity": "low",
        "result": "warn",
        "message": "Objects name their team",
        "resources": [web_ref()],
        "properties": {
            "field": "metadata.labels",
            "found": "{\"app\":\"web\"}",
            "hint": "Add the label `team` with your team's name.",
            "mode": "warn",
        },
    });
    assert_eq!(
        content,
        json!({
            "apiVersion": "openreports.io/v1alpha1",
            "kind": "Report",
            "name": "counsel",
            "namespace": "shop",
            "labels": {"app.kubernetes.io/managed-by": "counsel"},
            "annotations": {"counsel.dev/omitted-results": "0"},
            "source": "counsel",
            "configuration": {"limits": {"maxResults": 1000}},
            "summary": {"pass": 0, "fail": 1, "warn": 1, "error": 0, "skip": 0},
            "results": [replicas, team],
        })
    );
    // The Namespace, cluster-scoped, is in the ClusterReport; it passes
    // house-limits, whose rule is about Deployments only.
    let (cluster_content, _, _) = stored(&cluster, &["clusterreport", "counsel"]);
    assert_eq!(cluster_content["kind"], "ClusterReport");
    assert_eq!(cluster_content["namespace"], Value::Null);
    assert_eq!(
        cluster_content["summary"],
        json!({"pass": 1, "fail": 0, "warn": 1, "error": 0, "skip": 0})
    );
    assert_eq!(
        cluster_content["results"][0]["resources"],
        json!([{"apiVersion": "v1", "kind": "Namespace", "name": "lab", "uid": LAB_UID}])
    );
    // What kubectl shows of them: the chart's printer columns.
    assert_eq!(
        cluster
            .kubectl(&["get", "reports", "-n", "shop", "-o", "custom-columns=NAME:.metadata.name,PASS:.summary.pass,FAIL:.summary.fail,WARN:.summary.warn,ERROR:.summary.error,SKIP:.summary.skip"])
            .success(),
        "NAME      PASS   FAIL   WARN   ERROR   SKIP\ncounsel   0      1      1      0       0\n"
    );

    // The same conclusions again, by this writer or a new one (which reads
    // what is in the cluster): nothing is written.
    let again = writer.write(&first).await.expect("written");
    assert_eq!((again.written, again.unchanged), (0, 2));
    let mut fresh = report_writer(&client, ReportOptions::default());
    let again = fresh.write(&first).await.expect("written");
    assert_eq!((again.written, again.unchanged), (0, 2));
    let (_, _, unchanged_version) = stored(&cluster, &["report", "counsel", "-n", "shop"]);
    assert_eq!(unchanged_version, version);

    // Fixed: the failure goes; the warning that stays keeps its timestamp.
    let fixed = snapshot([
        audit(&reviewer, deployment("shop", "web", 3), WEB_UID, None),
        audit(&reviewer, lab.clone(), LAB_UID, None),
    ]);
    let written = writer.write(&fixed).await.expect("written");
    assert_eq!((written.written, written.unchanged), (1, 1));
    let (content, fixed_timestamps, _) = stored(&cluster, &["report", "counsel", "-n", "shop"]);
    assert_eq!(
        content["summary"],
        json!({"pass": 1, "fail": 0, "warn": 1, "error": 0, "skip": 0})
    );
    assert_eq!(content["results"], json!([team]));
    assert_eq!(fixed_timestamps, vec![timestamps[1].clone()]);

    // An exception turns its finding into a skip that names it.
    let expires = crate::support::times::from_now(30 * 24 * 3600);
    let exception = json!({
        "apiVersion": "counsel.dev/v1alpha1",
        "kind": "CounselException",
        "metadata": {"name": "web-team", "namespace": "shop"},
        "spec": {
            "policy": "house-labels",
            "rules": ["team-label"],
            "objects": {"kinds": ["Deployment"], "names": ["web"]},
            "reason": "the team is being renamed",
            "owner": "team-shop",
            "expires": expires,
        },
    });
    let (exceptions, errors) = Exceptions::from_objects(
        [&exception],
        &reviewer,
        ExceptionSettings::default(),
        SystemTime::now(),
    );
    assert!(errors.is_empty(), "{errors:?}");
    let excepted = snapshot([
        audit(
            &reviewer,
            deployment("shop", "web", 3),
            WEB_UID,
            Some(&exceptions),
        ),
        audit(&reviewer, lab.clone(), LAB_UID, None),
    ]);
    writer.write(&excepted).await.expect("written");
    let (content, _, _) = stored(&cluster, &["report", "counsel", "-n", "shop"]);
    assert_eq!(
        content["summary"],
        json!({"pass": 1, "fail": 0, "warn": 0, "error": 0, "skip": 1})
    );
    let skip = &content["results"][0];
    assert_eq!(skip["result"], "skip");
    assert_eq!(
        skip["properties"]["exception"],
        "CounselException shop/web-team"
    );
    assert_eq!(skip["properties"]["mode"], "warn");
    let message = skip["message"].as_str().expect("message");
    assert!(
        message.starts_with("Objects name their team (excepted by CounselException shop/web-team (owner: team-shop; expires in "),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(", {expires}): the team is being renamed)")),
        "{message}"
    );

    // An incomplete snapshot removes no report; a complete one without
    // the Namespace deletes the ClusterReport.
    let without_lab = |complete| {
        Arc::new(AuditSnapshot {
            objects: excepted
                .objects
                .iter()
                .filter(|(key, _)| key.namespace.is_some())
                .map(|(key, audited)| (key.clone(), audited.clone()))
                .collect(),
            complete,
        })
    };
    let partial = writer.write(&without_lab(false)).await.expect("written");
    assert_eq!((partial.written, partial.deleted), (0, 0));
    let complete = writer.write(&without_lab(true)).await.expect("written");
    assert_eq!((complete.written, complete.deleted), (0, 1));
    let gone = cluster.kubectl(&["get", "clusterreports"]).run();
    assert_eq!(gone.stderr, "No resources found\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_lists_at_most_its_bound_and_counts_the_rest() {
    let cluster = Cluster::start();
    cluster.kubectl(&["create", "namespace", "shop"]).success();
    let client = cluster.client().await;
    let reviewer = reviewer();
    // Five Deployments, each failing one rule and warned about another.
    let objects: BTreeMap<ObjectKey, Arc<Audited>> = (1..=5)
        .map(|n| {
            let uid = format!("00000000-0000-4000-8000-00000000000{n}");
            audit(
                &reviewer,
                deployment("shop", &format!("web-{n}"), 9),
                &uid,
                None,
            )
        })
        .collect();
    let snapshot = Arc::new(AuditSnapshot {
        objects,
        complete: true,
    });
    let mut writer = report_writer(&client, ReportOptions { max_results: 3 });
    writer.write(&snapshot).await.expect("written");
    let (content, _, _) = stored(&cluster, &["report", "counsel", "-n", "shop"]);
    assert_eq!(
        content["summary"],
        json!({"pass": 0, "fail": 5, "warn": 5, "error": 0, "skip": 0})
    );
    assert_eq!(
        content["annotations"],
        json!({"counsel.dev/omitted-results": "7"})
    );
    assert_eq!(
        content["configuration"],
        json!({"limits": {"maxResults": 3}})
    );
    // What denies comes first, by object.
    let listed: Vec<(&str, &str)> = content["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["result"].as_str().expect("result"),
                r["resources"][0]["name"].as_str().expect("name"),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [("fail", "web-1"), ("fail", "web-2"), ("fail", "web-3")]
    );
}
