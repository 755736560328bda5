//! Events about findings that did not deny, as a developer who deploys
//! through GitOps sees them: `kubectl get events` and `kubectl describe`
//! of an object applied to a real kube-apiserver with Counsel registered.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::install::manifests::install;
use crate::support::cluster::{Cluster, PRIVILEGED_DEPLOYMENT};
use crate::support::counsel_process::CounselProcess;

const WARN: &str = "\
policies:
  - name: pod-security
    module: builtin:pod-security
    mode: warn
    settings: {level: baseline}
";

/// `kubectl get events` of `namespace`, the columns that do not change with
/// time, until `done` holds of them.
fn events_until(cluster: &Cluster, namespace: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listed = cluster
            .kubectl(&[
                "get",
                "events",
                "-n",
                namespace,
                "-o",
                "custom-columns=TYPE:.type,REASON:.reason,OBJECT:.involvedObject.kind,NAME:.involvedObject.name,COUNT:.series.count,FROM:.reportingComponent,MESSAGE:.message",
            ])
            .success();
        if done(&listed) {
            return listed;
        }
        assert!(Instant::now() < deadline, "never came; last:\n{listed}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_warned_deployment_gets_an_event_and_applying_it_again_counts_it() {
    let cluster = Cluster::shared();
    let namespace = cluster.namespace("events-warn", &[]);
    let kubeconfig = cluster.kubeconfig.to_str().expect("UTF-8 path");
    let mut counsel =
        CounselProcess::start(Some(WARN), &["--kubeconfig", kubeconfig, "--no-reports"]);
    counsel.wait_synced();
    let webhooks = install(&["--name", "events-warn"]).webhooks();
    cluster.register_counsel(&counsel, &webhooks, &namespace);

    let applied = cluster
        .kubectl(&["apply", "-n", &namespace, "-f", "-"])
        .stdin(PRIVILEGED_DEPLOYMENT)
        .run();
    assert_eq!(
        applied.stdout, "deployment.apps/web created\n",
        "{applied:#?}"
    );
    let warning = format!(
        "[pod-security/privileged] Deployment {namespace}/web: container \"app\" runs privileged (fix: set spec.template.spec.containers[0].securityContext.privileged: false)"
    );
    assert_eq!(applied.stderr, format!("Warning: {warning}\n"));

    // The same line, as an Event about the Deployment (its uid: the API
    // server fills it in before validating admission).
    let header =
        "TYPE      REASON            OBJECT       NAME   COUNT    FROM                  MESSAGE";
    let once = events_until(cluster, &namespace, |listed| listed.lines().count() > 1);
    assert_eq!(
        once,
        format!(
            "{header}\nWarning   PolicyViolation   Deployment   web    <none>   counsel.dev/counsel   {warning}\n"
        )
    );
    let uid = cluster
        .kubectl(&[
            "get",
            "deployment",
            "web",
            "-n",
            &namespace,
            "-o",
            "jsonpath={.metadata.uid}",
        ])
        .success();
    let event: Value = serde_json::from_str(
        &cluster
            .kubectl(&[
                "get",
                "events.v1.events.k8s.io",
                "-n",
                &namespace,
                "-o",
                "json",
            ])
            .success(),
    )
    .expect("JSON");
    let event = &event["items"][0];
    assert_eq!(event["regarding"]["uid"], uid.as_str());
    assert_eq!(event["action"], "Admit");
    assert_eq!(event["reportingController"], "counsel.dev/counsel");

    // Applied again (changed, so the API server reviews it): the same
    // finding counts in the same Event, not a second one.
    let changed =
        PRIVILEGED_DEPLOYMENT.replace("name: web\n", "name: web\n  labels: {tier: front}\n");
    let reapplied = cluster
        .kubectl(&["apply", "-n", &namespace, "-f", "-"])
        .stdin(changed)
        .run();
    assert_eq!(
        reapplied.stdout, "deployment.apps/web configured\n",
        "{reapplied:#?}"
    );
    let twice = events_until(cluster, &namespace, |listed| !listed.contains("<none>"));
    assert_eq!(
        twice,
        format!(
            "TYPE      REASON            OBJECT       NAME   COUNT   FROM                  MESSAGE\nWarning   PolicyViolation   Deployment   web    2       counsel.dev/counsel   {warning}\n"
        )
    );
    // What `kubectl describe` ends with.
    let described = cluster
        .kubectl(&["describe", "deployment", "web", "-n", &namespace])
        .success();
    let events = described
        .split_once("Events:\n")
        .map(|(_, events)| events)
        .expect("an Events section");
    let lines: Vec<&str> = events.lines().collect();
    assert_eq!(lines.len(), 3, "{events}");
    assert!(
        lines[0]
            .trim_start()
            .starts_with("Type     Reason           Age"),
        "{events}"
    );
    assert!(
        lines[2]
            .trim_start()
            .starts_with("Warning  PolicyViolation  "),
        "{events}"
    );
    assert!(lines[2].ends_with(&warning), "{events}");

    // A server-side dry run is not stored, so it tells no Event.
    let probe_count = |listed: &str| listed.lines().count();
    cluster
        .kubectl(&["create", "--dry-run=server", "-n", &namespace, "-f", "-"])
        .stdin(PRIVILEGED_DEPLOYMENT.replace("name: web\n", "name: dry\n"))
        .success();
    let after = events_until(cluster, &namespace, |_| true);
    assert_eq!(probe_count(&after), 2, "{after}");
}
