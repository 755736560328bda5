//! `counsel install | kubectl apply -f -` against a real kube-apiserver
//! (v1.20, see tests/support/cluster.rs): every object created, or nothing
//! at all. The install gets an API server of its own, since the installed
//! webhooks point at a Service no pod serves here and would stand in the way
//! of the other tests' requests.

use crate::support::cli::counsel;
use crate::support::cluster::Cluster;

#[test]
fn the_install_applies_completely_on_kubernetes_1_20() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let printed = counsel(
        dir.path(),
        &[
            "install",
            "-n",
            "guard",
            "--name",
            "guard",
            "--kube-version",
            "1.20",
        ],
        None,
    );
    assert_eq!(printed.status.code(), Some(0));
    let manifests = String::from_utf8(printed.stdout).expect("UTF-8");

    let applied = cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(manifests)
        .run();
    // The test cluster has the CRDs already (the chart's file, which
    // `counsel install` prints verbatim).
    assert_eq!(
        applied.stdout,
        "customresourcedefinition.apiextensions.k8s.io/counselexceptions.counsel.dev unchanged\n\
         customresourcedefinition.apiextensions.k8s.io/clustercounselexceptions.counsel.dev unchanged\n\
         customresourcedefinition.apiextensions.k8s.io/reports.openreports.io unchanged\n\
         customresourcedefinition.apiextensions.k8s.io/clusterreports.openreports.io unchanged\n\
         namespace/guard created\n\
         serviceaccount/guard created\n\
         clusterrole.rbac.authorization.k8s.io/guard created\n\
         clusterrolebinding.rbac.authorization.k8s.io/guard created\n\
         role.rbac.authorization.k8s.io/guard created\n\
         rolebinding.rbac.authorization.k8s.io/guard created\n\
         configmap/guard-config created\n\
         secret/guard-tls created\n\
         service/guard created\n\
         deployment.apps/guard created\n\
         poddisruptionbudget.policy/guard created\n\
         validatingwebhookconfiguration.admissionregistration.k8s.io/guard created\n",
        "{applied:#?}"
    );
    assert_eq!(applied.stderr, "");
    assert_eq!(applied.code, Some(0));

    // Every object is stored, as printed.
    let stored = cluster
        .kubectl(&[
            "get",
            "-n",
            "guard",
            "serviceaccount/guard",
            "configmap/guard-config",
            "secret/guard-tls",
            "service/guard",
            "deployment/guard",
            "poddisruptionbudget/guard",
            "-o",
            "name",
        ])
        .success();
    assert_eq!(
        stored,
        "serviceaccount/guard\nconfigmap/guard-config\nsecret/guard-tls\nservice/guard\n\
         deployment.apps/guard\npoddisruptionbudget.policy/guard\n"
    );
    let labels = cluster
        .kubectl(&[
            "get",
            "namespace",
            "guard",
            "-o",
            "jsonpath={.metadata.labels}",
        ])
        .success();
    assert!(
        labels.contains("\"kubernetes.io/metadata.name\":\"guard\""),
        "{labels}"
    );
}

#[test]
fn an_unsupported_version_is_refused_before_anything_reaches_the_cluster() {
    let cluster = Cluster::shared();
    let dir = tempfile::tempdir().expect("temp dir");
    let printed = counsel(
        dir.path(),
        &["install", "-n", "too-old", "--kube-version", "1.19"],
        None,
    );
    assert_eq!(printed.status.code(), Some(2));
    assert!(printed.stdout.is_empty());
    // What `counsel install ... | kubectl apply -f -` then does.
    let applied = cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(printed.stdout)
        .run();
    assert_eq!(applied.stdout, "");
    assert_eq!(applied.stderr, "error: no objects passed to apply\n");
    assert_eq!(applied.code, Some(1));
    let namespace = cluster.kubectl(&["get", "namespace", "too-old"]).run();
    assert_eq!(
        namespace.stderr,
        "Error from server (NotFound): namespaces \"too-old\" not found\n"
    );
}
