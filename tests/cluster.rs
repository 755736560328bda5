//! Counsel behind a real kube-apiserver (v1.20, see tests/support/cluster.rs),
//! registered as `counsel install` registers it, driven with kubectl as
//! developers drive it: what they see on stdout and stderr, and what the
//! cluster then holds.

use crate::install::manifests::{Installed, install};
use crate::support::cluster::{Cluster, Output, PRIVILEGED_DEPLOYMENT};
use crate::support::counsel_process::CounselProcess;

/// `counsel serve` running the configuration of `installed`, registered
/// with its webhook configurations for `namespace` only.
fn serve_as_installed(cluster: &Cluster, installed: &Installed, namespace: &str) -> CounselProcess {
    let config = installed.one("ConfigMap")["data"]["counsel.yaml"]
        .as_str()
        .expect("counsel.yaml");
    serve_registered(cluster, installed, config, namespace)
}

/// `counsel serve` running `config`, registered with the webhook
/// configurations of `installed` for `namespace` only.
fn serve_registered(
    cluster: &Cluster,
    installed: &Installed,
    config: &str,
    namespace: &str,
) -> CounselProcess {
    let counsel = CounselProcess::start(Some(config), &[]);
    let webhooks = installed.webhooks();
    cluster.register_counsel(&counsel, &webhooks, namespace);
    counsel
}

#[test]
fn a_new_install_warns_about_a_privileged_deployment_and_lets_it_in() {
    let cluster = Cluster::shared();
    let namespace = cluster.namespace("warned", &[]);
    let installed = install(&["--name", "warned"]);
    let _counsel = serve_as_installed(cluster, &installed, &namespace);

    let applied = cluster
        .kubectl(&["apply", "-n", &namespace, "-f", "-"])
        .stdin(PRIVILEGED_DEPLOYMENT)
        .run();
    assert_eq!(applied.code, Some(0), "{applied:#?}");
    assert_eq!(applied.stdout, "deployment.apps/web created\n");
    let warnings: Vec<&str> = applied.stderr.lines().collect();
    assert!(!warnings.is_empty(), "{applied:#?}");
    for line in &warnings {
        assert!(line.starts_with("Warning: "), "{applied:#?}");
    }
    assert!(
        warnings.iter().any(|line| line.contains("privileged")),
        "{applied:#?}"
    );
    let stored = cluster
        .kubectl(&["get", "deployment", "web", "-n", &namespace, "-o", "name"])
        .success();
    assert_eq!(stored, "deployment.apps/web\n");
}

#[test]
fn an_enforcing_install_denies_the_same_deployment_with_counsels_explanation() {
    let cluster = Cluster::shared();
    let namespace = cluster.namespace("enforced", &[]);
    let installed = install(&["--name", "enforced", "--enforce"]);
    let _counsel = serve_as_installed(cluster, &installed, &namespace);

    let applied = cluster
        .kubectl(&["apply", "-n", &namespace, "-f", "-"])
        .stdin(PRIVILEGED_DEPLOYMENT)
        .run();
    assert_eq!(applied.code, Some(1), "{applied:#?}");
    assert_eq!(applied.stdout, "");
    let denied = "Error from server (Forbidden): error when creating \"STDIN\": admission webhook \
         \"validate.enforced.counsel.svc\" denied the request: ";
    // kubectl prints the warnings of warn-mode policies (workload hygiene)
    // first, then the denial.
    let at = applied.stderr.find("Error from server").expect("a denial");
    let (warnings, error) = applied.stderr.split_at(at);
    assert!(
        warnings.lines().all(|line| line.starts_with("Warning: ")),
        "{applied:#?}"
    );
    assert!(error.starts_with(denied), "{applied:#?}");
    assert!(
        error.contains(&format!("Deployment {namespace}/web")),
        "{applied:#?}"
    );
    assert!(
        applied
            .stderr
            .contains("spec.template.spec.containers[0].securityContext.privileged"),
        "{applied:#?}"
    );
    let stored = cluster
        .kubectl(&["get", "deployment", "web", "-n", &namespace])
        .run();
    assert_eq!(stored.code, Some(1));
    assert_eq!(
        stored.stderr,
        "Error from server (NotFound): deployments.apps \"web\" not found\n"
    );
}

/// A Pod that meets the restricted Pod Security Standard.
fn restricted_pod(namespace: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: {namespace}}}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {{type: RuntimeDefault}}
  containers:
    - name: app
      image: registry.example/app:1.0
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {{drop: [ALL]}}
"
    )
}

/// Adds an ephemeral container named `name` to pod `web`, as `kubectl
/// debug` does, through the pods/ephemeralcontainers subresource. kubectl
/// 1.33's `debug` no longer speaks the EphemeralContainers object that
/// Kubernetes 1.20 serves there, so the object is sent as it is (PUT).
fn debug(cluster: &Cluster, namespace: &str, name: &str) -> Output {
    let object = serde_json::json!({
        "apiVersion": "v1",
        "kind": "EphemeralContainers",
        "metadata": {"name": "web", "namespace": namespace},
        "ephemeralContainers": [{
            "name": name,
            "image": "busybox:1.36",
            "command": ["sh"],
            "stdin": true,
            "tty": true,
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent",
        }],
    });
    let path = format!("/api/v1/namespaces/{namespace}/pods/web/ephemeralcontainers");
    cluster
        .kubectl(&["replace", "--raw", &path, "-f", "-"])
        .stdin(object.to_string())
        .run()
}

fn ephemeral_names(cluster: &Cluster, namespace: &str) -> String {
    cluster
        .kubectl(&[
            "get",
            "pod",
            "web",
            "-n",
            namespace,
            "-o",
            "jsonpath={.spec.ephemeralContainers[*].name}",
        ])
        .success()
}

#[test]
fn an_ephemeral_container_is_judged_like_the_pods_own_containers() {
    let cluster = Cluster::shared();
    // Restricted, enforced: the debug container (which Kubernetes 1.20
    // does not let carry a securityContext) is refused with Counsel's
    // explanation, pointing into the EphemeralContainers object.
    let namespace = cluster.namespace("debug-restricted", &[]);
    let installed = install(&["--name", "debug-restricted", "--enforce"]);
    let _counsel = serve_as_installed(cluster, &installed, &namespace);
    cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(restricted_pod(&namespace))
        .success();
    let refused = debug(cluster, &namespace, "debugger");
    assert_eq!(refused.code, Some(1), "{refused:#?}");
    assert_eq!(refused.stdout, "");
    let denied = "Error from server (Forbidden): admission webhook \"validate.debug-restricted.counsel.svc\" \
         denied the request: ";
    assert!(refused.stderr.starts_with(denied), "{refused:#?}");
    assert!(
        refused
            .stderr
            .contains(&format!("EphemeralContainers {namespace}/web")),
        "{refused:#?}"
    );
    assert!(
        refused
            .stderr
            .contains("ephemeralContainers[0].securityContext.allowPrivilegeEscalation"),
        "{refused:#?}"
    );
    assert_eq!(ephemeral_names(cluster, &namespace), "");

    // Baseline, enforced: the same container is let in.
    let namespace = cluster.namespace("debug-baseline", &[]);
    let installed = install(&["--name", "debug-baseline", "--enforce"]);
    let config = installed.one("ConfigMap")["data"]["counsel.yaml"]
        .as_str()
        .expect("counsel.yaml")
        .replace("level: restricted", "level: baseline");
    let counsel = serve_registered(cluster, &installed, &config, &namespace);
    cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(restricted_pod(&namespace))
        .success();
    let reviews = counsel.reviews();
    let allowed = debug(cluster, &namespace, "debugger");
    assert_eq!(allowed.code, Some(0), "{allowed:#?}");
    assert_eq!(allowed.stderr, "");
    assert_eq!(ephemeral_names(cluster, &namespace), "debugger");
    assert_eq!(
        counsel.reviews(),
        reviews + 1,
        "Counsel reviewed the update"
    );
}

/// A privileged Deployment that holds a finalizer, as one made before
/// Counsel (or before its policy was enforced) would be.
const OLD_PRIVILEGED_DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: old
  finalizers: [example.com/keep]
spec:
  selector:
    matchLabels: {app: old}
  template:
    metadata:
      labels: {app: old}
    spec:
      containers:
        - name: app
          image: registry.example/app:1.0
          securityContext: {privileged: true}
";

#[test]
fn an_object_that_predates_enforcement_can_be_labelled_and_deleted_but_not_made_worse() {
    let cluster = Cluster::shared();
    let namespace = cluster.namespace("predating", &[]);
    // Stored before Counsel is registered for the namespace.
    let created = cluster
        .kubectl(&["apply", "-n", &namespace, "-f", "-"])
        .stdin(OLD_PRIVILEGED_DEPLOYMENT)
        .success();
    assert_eq!(created, "deployment.apps/old created\n");
    let installed = install(&["--name", "predating", "--enforce"]);
    let _counsel = serve_as_installed(cluster, &installed, &namespace);

    // `kubectl VERB deployment old -n NAMESPACE ARGS...`
    let on_old = |verb: &str, args: &[&str]| {
        let mut all = vec![verb, "deployment", "old", "-n", &namespace];
        all.extend_from_slice(args);
        cluster.kubectl(&all).run()
    };

    // What the update does not change does not deny: it is a warning that
    // says it was there before.
    let labelled = on_old("label", &["team=shop"]);
    assert_eq!(labelled.code, Some(0), "{labelled:#?}");
    assert_eq!(labelled.stdout, "deployment.apps/old labeled\n");
    assert!(
        labelled.stderr.lines().any(|line| line.starts_with(&format!(
            "Warning: [pod-security/privileged] Deployment {namespace}/old: already there before this change: container \"app\" runs privileged"
        ))),
        "{labelled:#?}"
    );
    let annotated = on_old("annotate", &["note=kept"]);
    assert_eq!(annotated.code, Some(0), "{annotated:#?}");
    assert_eq!(annotated.stdout, "deployment.apps/old annotated\n");

    // What the update adds is judged as on CREATE.
    let worse = on_old(
        "patch",
        &[
            "--type=merge",
            "-p",
            r#"{"spec":{"template":{"spec":{"hostPID":true}}}}"#,
        ],
    );
    assert_eq!(worse.code, Some(1), "{worse:#?}");
    // Denied for the new field alone; the old one stays a warning.
    assert!(
        worse.stderr.contains(&format!(
            "denied the request: Deployment {namespace}/old violates 1 rule:\n\n[pod-security/host-namespaces]"
        )),
        "{worse:#?}"
    );

    // Deleting, then removing the finalizer, goes through: the object is gone.
    let deleted = on_old("delete", &["--wait=false"]);
    assert_eq!(deleted.code, Some(0), "{deleted:#?}");
    assert_eq!(deleted.stdout, "deployment.apps \"old\" deleted\n");
    let released = on_old(
        "patch",
        &[
            "--type=json",
            "-p",
            r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        ],
    );
    assert_eq!(released.code, Some(0), "{released:#?}");
    assert_eq!(released.stdout, "deployment.apps/old patched\n");
    let gone = on_old("get", &[]);
    assert_eq!(
        gone.stderr, "Error from server (NotFound): deployments.apps \"old\" not found\n",
        "{gone:#?}"
    );
}
