//! `counsel audit`, the rollout report: on manifests and on a prepared
//! cluster of its own (a real kube-apiserver; the audit lists the whole
//! cluster), asserting the exact report and the exit code.

use serde_json::{Value, json};

use crate::support::cli::{counsel, files, text};
use crate::support::cluster::Cluster;
use crate::support::times;

/// pod-security (baseline) enforced, workload-hygiene (two rules) warned.
const CONFIG: &str = "\
policies:
  - name: pod-security
    module: builtin:pod-security
    settings: {level: baseline}
    mode: enforce
  - name: workload-hygiene
    module: builtin:workload-hygiene
    settings:
      disabled: [image-digest, resource-requests, memory-limit, liveness-probe, readiness-probe]
    mode: warn
";

/// Three namespaces (two with owners), three Deployments that break rules,
/// a Pod a ReplicaSet owns and an exception that expires `expires`.
fn workloads(expires: &str) -> String {
    format!(
        "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations: {{counsel.dev/owner: team-shop, counsel.dev/contact: \"#shop on Slack\"}}
---
apiVersion: v1
kind: Namespace
metadata:
  name: payments
  annotations: {{counsel.dev/owner: team-pay}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: legacy}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: app
          image: registry.example/web:1.0
          securityContext: {{privileged: true}}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-5d9c-abcde
  namespace: shop
  ownerReferences:
    - {{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d9c, uid: 9b0e8a52-0000-4000-8000-000000000001, controller: true}}
spec:
  containers:
    - name: app
      image: registry.example/web:1.0
      securityContext: {{privileged: true}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: payments}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers:
        - name: api
          image: registry.example/api:latest
          imagePullPolicy: IfNotPresent
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: old, namespace: legacy}}
spec:
  selector: {{matchLabels: {{app: old}}}}
  template:
    metadata: {{labels: {{app: old}}}}
    spec:
      hostNetwork: true
      containers:
        - name: old
          image: registry.example/old:2.1
          securityContext: {{privileged: true}}
---
apiVersion: counsel.dev/v1alpha1
kind: CounselException
metadata: {{name: old-privileged, namespace: legacy}}
spec:
  policy: pod-security
  rules: [privileged]
  objects: {{kinds: [Deployment], names: [old]}}
  reason: the vendor agent needs the host's devices until v5
  owner: team-platform
  expires: \"{expires}\"
"
    )
}

/// What `counsel audit` says of [`workloads`], from files or the cluster.
fn report(expires: &str) -> String {
    format!(
        "\
Planned modes: pod-security enforce (as now), workload-hygiene enforce (now warn).
3 of 3 objects would be denied (2 already today); counsel check --fix would make 1 of them pass.
1 finding let through by exceptions.
1 object owned by a controller left to it (--include-owned judges them too).

By rule:
  pod-security/host-namespaces: 1 object would be denied (1 today), counsel check --fix closes 0
    Pods must not share the node's network, process or IPC namespace
    namespaces: legacy (1)
    owners: (no owner) (1)
  pod-security/privileged: 1 object would be denied (1 today), counsel check --fix closes 1; 1 excepted
    Containers must not run privileged
    namespaces: shop (1)
    owners: team-shop (1)
  workload-hygiene/image-pull-policy: 1 object would be denied (0 today), counsel check --fix closes 1
    imagePullPolicy must be valid and fit the image's tag
    namespaces: payments (1)
    owners: team-pay (1)
  workload-hygiene/image-tag: 1 object would be denied (0 today), counsel check --fix closes 0
    Images must be pinned to a version, not :latest or no tag
    namespaces: payments (1)
    owners: team-pay (1)

team-pay: 1 object
  Deployment payments/api: would be denied
    ✗ [workload-hygiene/image-tag] spec.template.spec.containers[0].image: container \"api\" uses image \"registry.example/api:latest\", whose tag moves with every push (a warning today)
      hint: Pin a version tag (for example registry.example/api:1.2.3) or, better, a digest (registry.example/api@sha256:...), so that a rollout, not a push to the registry, changes what runs.
    ✗ [workload-hygiene/image-pull-policy] spec.template.spec.containers[0].imagePullPolicy: container \"api\" pulls \"registry.example/api:latest\" only when the node does not have it, so each node keeps whatever it pulled first (a warning today; counsel check --fix closes it)
      fix: spec.template.spec.containers[0].imagePullPolicy: \"IfNotPresent\" → \"Always\"

team-shop: 1 object
  Deployment shop/web: denied today already; counsel check --fix makes it pass
    ✗ [pod-security/privileged] spec.template.spec.containers[0].securityContext.privileged: container \"app\" runs privileged (denied today; counsel check --fix closes it)
      fix: spec.template.spec.containers[0].securityContext.privileged: true → false

(no owner): 1 object
  Deployment legacy/old: denied today already
    ✗ [pod-security/host-namespaces] spec.template.spec.hostNetwork: pod must not set hostNetwork=true (it shares the node's network) (denied today)
      suggested fix (--fix=all): spec.template.spec.hostNetwork: true → false
    ~ [pod-security/privileged] spec.template.spec.containers[0].securityContext.privileged: excepted by CounselException legacy/old-privileged (owner: team-platform; expires in 30 days, {expires}): the vendor agent needs the host's devices until v5
"
    )
}

#[test]
fn the_report_counts_what_enforcing_would_deny_per_rule_and_owner() {
    let expires = times::from_now(30 * 86_400);
    let dir = files(&[
        ("counsel.yaml", CONFIG),
        ("workloads.yaml", &workloads(&expires)),
    ]);
    let output = counsel(
        dir.path(),
        &["audit", "-c", "counsel.yaml", "-f", "workloads.yaml"],
        None,
    );
    assert_eq!(text(&output.stderr), "");
    assert_eq!(text(&output.stdout), report(&expires));
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn markdown_has_a_section_per_owner_and_as_mode_plans_other_modes() {
    let expires = times::from_now(30 * 86_400);
    let dir = files(&[
        ("counsel.yaml", CONFIG),
        ("workloads.yaml", &workloads(&expires)),
    ]);
    let args = ["audit", "-c", "counsel.yaml", "-f", "workloads.yaml"];
    let output = counsel(
        dir.path(),
        &[
            &args[..],
            &["--as-mode", "workload-hygiene=warn", "-o", "markdown"],
        ]
        .concat(),
        None,
    );
    assert_eq!(
        text(&output.stdout),
        format!(
            "\
## Counsel rollout report

Planned modes: pod-security enforce (as now), workload-hygiene warn (as now).

2 of 3 objects would be denied (2 already today); counsel check --fix would make 1 of them pass.

1 finding let through by exceptions.

1 object owned by a controller left to it (--include-owned judges them too).

| Rule | Would be denied | Today | Closed by `counsel check --fix` | Excepted | Namespaces | Owners |
|---|---:|---:|---:|---:|---|---|
| `pod-security/host-namespaces` | 1 | 1 | 0 | 0 | legacy (1) | (no owner) (1) |
| `pod-security/privileged` | 1 | 1 | 1 | 1 | shop (1) | team-shop (1) |

### team-shop: 1 object

- **Deployment shop/web**: denied today already; counsel check --fix makes it pass
  - `pod-security/privileged` at `spec.template.spec.containers[0].securityContext.privileged`: container \"app\" runs privileged (denied today; `counsel check --fix` closes it)
    - fix: `spec.template.spec.containers[0].securityContext.privileged: true → false`

### (no owner): 1 object

- **Deployment legacy/old**: denied today already
  - `pod-security/host-namespaces` at `spec.template.spec.hostNetwork`: pod must not set hostNetwork=true (it shares the node's network) (denied today)
    - suggested fix (--fix=all): `spec.template.spec.hostNetwork: true → false`
  - `pod-security/privileged` at `spec.template.spec.containers[0].securityContext.privileged`: excepted by CounselException legacy/old-privileged (owner: team-platform; expires in 30 days, {expires}): the vendor agent needs the host's devices until v5

"
        )
    );
    assert_eq!(output.status.code(), Some(1));

    // Nothing denies in warn mode: a rollout gate passes.
    let warn = counsel(
        dir.path(),
        &[&args[..], &["--as-mode", "warn", "-o", "json"]].concat(),
        None,
    );
    assert_eq!(warn.status.code(), Some(0), "{}", text(&warn.stderr));
    let json: Value = serde_json::from_slice(&warn.stdout).expect("JSON");
    assert_eq!(
        json["totals"],
        json!({"denied": 0, "deniedNow": 0, "closedByFix": 0, "denyingFindings": 0, "excepted": 1})
    );

    let unknown = counsel(
        dir.path(),
        &[&args[..], &["--as-mode", "pod-securty=warn"]].concat(),
        None,
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(
        text(&unknown.stderr),
        "error: --as-mode: no policy named \"pod-securty\" is configured; the policies are pod-security, workload-hygiene\n"
    );
}

#[test]
fn json_lists_each_owner_s_objects_with_their_fixes() {
    let expires = times::from_now(30 * 86_400);
    let dir = files(&[
        ("counsel.yaml", CONFIG),
        ("workloads.yaml", &workloads(&expires)),
    ]);
    let output = counsel(
        dir.path(),
        &[
            "audit",
            "-c",
            "counsel.yaml",
            "-f",
            "workloads.yaml",
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        json["policies"],
        json!([
            {"policy": "pod-security", "mode": "enforce", "plannedMode": "enforce"},
            {"policy": "workload-hygiene", "mode": "warn", "plannedMode": "enforce"}
        ])
    );
    assert_eq!(
        (
            json["objects"].clone(),
            json["ownedLeftToController"].clone()
        ),
        (json!(3), json!(1))
    );
    assert_eq!(
        json["totals"],
        json!({"denied": 3, "deniedNow": 2, "closedByFix": 1, "denyingFindings": 4, "excepted": 1})
    );
    assert_eq!(
        json["rules"][3],
        json!({
            "policy": "workload-hygiene", "rule": "image-tag",
            "title": "Images must be pinned to a version, not :latest or no tag",
            "denied": 1, "deniedNow": 0, "closedByFix": 0, "excepted": 0,
            "namespaces": {"payments": 1},
            "owners": [{"owner": "team-pay", "objects": 1}]
        })
    );
    let owners: Vec<(Value, Vec<Value>)> = json["owners"]
        .as_array()
        .expect("owners")
        .iter()
        .map(|part| {
            let names = part["objects"].as_array().expect("objects").iter();
            (
                part["owner"].clone(),
                names.map(|o| o["object"]["name"].clone()).collect(),
            )
        })
        .collect();
    assert_eq!(
        owners,
        vec![
            (json!("team-pay"), vec![json!("api")]),
            (json!("team-shop"), vec![json!("web")]),
            (Value::Null, vec![json!("old")]),
        ]
    );
    assert_eq!(
        json["owners"][1]["objects"][0],
        json!({
            "object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web"},
            "contact": "team-shop, #shop on Slack (owns namespace shop)",
            "denied": true, "deniedNow": true, "closedByFix": true,
            "findings": [{
                "policy": "pod-security", "rule": "privileged", "severity": "critical",
                "now": "deny", "planned": "deny",
                "message": "container \"app\" runs privileged",
                "field": "spec.template.spec.containers[0].securityContext.privileged",
                "pointer": "/spec/template/spec/containers/0/securityContext/privileged",
                "found": true,
                "fixSafety": "safe",
                "fixes": [{
                    "field": "spec.template.spec.containers[0].securityContext.privileged",
                    "from": true, "to": false, "removes": false
                }],
                "closedByFix": true,
                "hint": "If the container needs one specific power, grant that capability instead of privileged mode (at baseline; restricted allows only NET_BIND_SERVICE).",
                "exception": null
            }],
            "failures": []
        })
    );
}

#[test]
fn markdown_stays_within_its_limit_and_counts_what_is_left_out() {
    let mut manifests = String::new();
    for i in 0..400 {
        manifests.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web-{i:03}, namespace: shop}}\n\
             spec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: registry.example/web:1.0\n          \
             securityContext: {{privileged: true}}\n"
        ));
    }
    let dir = files(&[("counsel.yaml", CONFIG), ("many.yaml", &manifests)]);
    let output = counsel(
        dir.path(),
        &[
            "audit",
            "-c",
            "counsel.yaml",
            "-f",
            "many.yaml",
            "-o",
            "markdown",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let report = text(&output.stdout);
    assert!(report.len() <= 60_000, "{} bytes", report.len());
    let shown = report.matches("- **Deployment shop/web-").count();
    assert!(shown > 100, "{shown} shown");
    assert!(
        report.ends_with(&format!(
            "_{} more objects left out to keep this within 60000 characters; `counsel audit --output json` lists them all._\n",
            400 - shown
        )),
        "{report}"
    );
}

#[test]
fn a_prepared_cluster_gets_the_same_report_as_its_manifests() {
    let cluster = Cluster::start();
    let expires = times::from_now(30 * 86_400);
    cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(workloads(&expires))
        .success();
    let dir = files(&[("counsel.yaml", CONFIG)]);
    let kubeconfig = cluster.kubeconfig.to_str().expect("a UTF-8 path");
    let output = counsel(
        dir.path(),
        &["audit", "-c", "counsel.yaml", "--kubeconfig", kubeconfig],
        None,
    );
    assert_eq!(text(&output.stderr), "");
    assert_eq!(text(&output.stdout), report(&expires));
    assert_eq!(output.status.code(), Some(1));

    // Only one namespace; and only what a label selects (nothing here).
    let audit = |extra: &[&str]| {
        let args = [
            "audit",
            "-c",
            "counsel.yaml",
            "--kubeconfig",
            kubeconfig,
            "-o",
            "json",
        ];
        let output = counsel(dir.path(), &[&args[..], extra].concat(), None);
        let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        (
            output.status.code(),
            json["objects"].clone(),
            json["owners"].clone(),
        )
    };
    let (code, objects, owners) = audit(&["-n", "shop"]);
    assert_eq!((code, objects), (Some(1), json!(1)));
    assert_eq!(owners[0]["owner"], json!("team-shop"));
    assert_eq!(owners.as_array().map(Vec::len), Some(1));
    assert_eq!(
        audit(&["-n", "shop", "-l", "app=web"]),
        (Some(0), json!(0), json!([]))
    );

    // Counsel's ServiceAccount, bound to nothing, may list nothing.
    let account = cluster.account_kubeconfig.to_str().expect("a UTF-8 path");
    let forbidden = counsel(
        dir.path(),
        &["audit", "-c", "counsel.yaml", "--kubeconfig", account],
        None,
    );
    assert_eq!(forbidden.status.code(), Some(2));
    assert_eq!(
        text(&forbidden.stderr),
        "error: cannot list namespaces (Namespace): forbidden: namespaces is forbidden: User \
         \"system:serviceaccount:counsel-system:counsel\" cannot list resource \"namespaces\" in API group \"\" \
         at the cluster scope; counsel audit needs list on every kind the policies match, on namespaces and on \
         Counsel's exceptions\n"
    );
    assert_eq!(text(&forbidden.stdout), "");
}
