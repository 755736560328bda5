//! workload-hygiene as Counsel runs it: exact violations, fixes, settings.

use counsel_policy::testing::{
    apply_fixes, assert_catalog, check, check_object, check_request, request, rule_ids,
    settings_error, update_request_from_yaml, yaml,
};
use counsel_policy::{Edit, Policy, Request, json};
use workload_hygiene::WorkloadHygiene;

/// A Deployment that follows every rule.
const TIDY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
        - name: migrate
          image: registry.example/migrate:1.4@sha256:0a1b
          resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 64Mi}}
      containers:
        - name: app
          image: registry.example/web:2.1@sha256:9f8e
          imagePullPolicy: IfNotPresent
          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
"#;

/// (rule, path, found, fixes) of every violation.
fn summary(
    verdict: &counsel_policy::Verdict,
) -> Vec<(String, String, Option<counsel_policy::Value>, Vec<Edit>)> {
    verdict
        .violations
        .iter()
        .map(|v| {
            (
                v.rule.clone(),
                v.path.clone(),
                v.found.clone(),
                v.fixes.clone(),
            )
        })
        .collect()
}

fn v(
    rule: &str,
    path: &str,
    found: Option<counsel_policy::Value>,
    fixes: Vec<Edit>,
) -> (String, String, Option<counsel_policy::Value>, Vec<Edit>) {
    (rule.to_owned(), path.to_owned(), found, fixes)
}

#[test]
fn catalog_lists_every_rule_with_reason_and_docs() {
    assert_catalog::<WorkloadHygiene>();
    let metadata = WorkloadHygiene::metadata();
    let ids: Vec<&str> = metadata.rules.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        [
            "resource-requests",
            "memory-limit",
            "image-tag",
            "image-digest",
            "image-pull-policy",
            "liveness-probe",
            "readiness-probe"
        ]
    );
    for rule in &metadata.rules {
        assert!(
            rule.docs
                .is_some_and(|d| d.starts_with("https://kubernetes.io/docs/")),
            "{}",
            rule.id
        );
    }
}

#[test]
fn a_tidy_deployment_passes() {
    assert!(check::<WorkloadHygiene>(TIDY, "{}").passed());
}

#[test]
fn every_mistake_is_reported_container_by_container() {
    let manifest = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers:
        - {name: migrate, image: "registry.example:5000/migrate:1.4"}
      containers:
        - name: app
          image: nginx
          imagePullPolicy: IfNotPresent
      ephemeralContainers:
        - {name: debug, image: busybox}
"#;
    let verdict = check::<WorkloadHygiene>(manifest, "{}");
    let init = "/spec/template/spec/initContainers/0";
    let app = "/spec/template/spec/containers/0";
    assert_eq!(
        summary(&verdict),
        [
            v(
                "resource-requests",
                &format!("{init}/resources/requests/cpu"),
                None,
                vec![]
            ),
            v(
                "resource-requests",
                &format!("{init}/resources/requests/memory"),
                None,
                vec![]
            ),
            v(
                "memory-limit",
                &format!("{init}/resources/limits/memory"),
                None,
                vec![]
            ),
            v(
                "image-digest",
                &format!("{init}/image"),
                Some(json!("registry.example:5000/migrate:1.4")),
                vec![]
            ),
            v(
                "resource-requests",
                &format!("{app}/resources/requests/cpu"),
                None,
                vec![]
            ),
            v(
                "resource-requests",
                &format!("{app}/resources/requests/memory"),
                None,
                vec![]
            ),
            v(
                "memory-limit",
                &format!("{app}/resources/limits/memory"),
                None,
                vec![]
            ),
            v(
                "image-tag",
                &format!("{app}/image"),
                Some(json!("nginx")),
                vec![]
            ),
            v(
                "image-pull-policy",
                &format!("{app}/imagePullPolicy"),
                Some(json!("IfNotPresent")),
                vec![Edit::set(format!("{app}/imagePullPolicy"), json!("Always"))]
            ),
            v(
                "liveness-probe",
                &format!("{app}/livenessProbe"),
                None,
                vec![]
            ),
            v(
                "readiness-probe",
                &format!("{app}/readinessProbe"),
                None,
                vec![]
            ),
        ]
    );
    let messages: Vec<&str> = verdict
        .violations
        .iter()
        .map(|v| v.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "init container \"migrate\" requests no cpu",
            "init container \"migrate\" requests no memory",
            "init container \"migrate\" has no memory limit",
            "init container \"migrate\" uses image \"registry.example:5000/migrate:1.4\", pinned by tag but not by digest",
            "container \"app\" requests no cpu",
            "container \"app\" requests no memory",
            "container \"app\" has no memory limit",
            "container \"app\" uses image \"nginx\" without a tag, which means :latest",
            "container \"app\" pulls \"nginx\" only when the node does not have it, so each node keeps whatever it pulled first",
            "container \"app\" has no liveness probe",
            "container \"app\" has no readiness probe",
        ]
    );
    // Everything without a machine fix says what to do instead.
    for v in &verdict.violations {
        assert!(
            !v.fixes.is_empty() || v.hint.is_some(),
            "{} at {}",
            v.rule,
            v.path
        );
    }
    assert_eq!(
        verdict.violations[7].hint.as_deref(),
        Some(
            "Pin a version tag (for example nginx:1.2.3) or, better, a digest (nginx@sha256:...), \
             so that a rollout, not a push to the registry, changes what runs."
        )
    );
}

#[test]
fn limits_and_pod_level_resources_count_as_requests() {
    let manifest = r#"
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  restartPolicy: Never
  resources: {requests: {cpu: 200m}}
  containers:
    - {name: a, image: "app@sha256:1", resources: {limits: {cpu: 100m, memory: 64Mi}}}
    - {name: b, image: "app@sha256:1", resources: {requests: {memory: 64Mi}}}
"#;
    let verdict = check::<WorkloadHygiene>(manifest, "{}");
    assert_eq!(
        summary(&verdict),
        [v(
            "memory-limit",
            "/spec/containers/1/resources/limits/memory",
            None,
            vec![]
        )]
    );
}

#[test]
fn probes_are_expected_only_of_long_running_workloads() {
    let container = json!({"name": "app", "image": "app@sha256:1",
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}});
    let template = json!({"spec": {"containers": [container]}});
    let objects = [
        (
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": template}}),
            0,
        ),
        (
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}}),
            0,
        ),
        (
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"restartPolicy": "OnFailure", "containers": [container]}}),
            0,
        ),
        (
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [container]}}),
            2,
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"}, "spec": {"template": template}}),
            2,
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"}, "spec": {"template": template}}),
            2,
        ),
        (
            json!({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}, "template": template}),
            2,
        ),
    ];
    for (object, probes) in objects {
        let verdict = check_object::<WorkloadHygiene>(&object, "{}");
        assert_eq!(verdict.violations.len(), probes, "{}", object["kind"]);
        if probes == 2 {
            assert_eq!(rule_ids(&verdict), ["liveness-probe", "readiness-probe"]);
        }
    }
}

#[test]
fn pull_policies_are_checked_against_the_image() {
    let pod = |image: &str, policy: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "app", "image": image, "imagePullPolicy": policy,
                "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}}]}})
    };
    let settings = r#"{"disabled": ["image-tag", "image-digest"]}"#;
    let path = "/spec/containers/0/imagePullPolicy";
    let cases = [
        ("app@sha256:1", "IfNotPresent", None),
        ("app:1.0", "Never", None),
        ("app:latest", "Always", None),
        ("app:1.0", "always", Some((Some("Always"), None))),
        ("app:latest", "ifnotpresent", Some((Some("Always"), None))),
        (
            "app:latest",
            "IfNotPresent",
            Some((
                Some("Always"),
                Some("Better still, pin a version and keep IfNotPresent."),
            )),
        ),
        (
            "app",
            "Never",
            Some((
                None,
                Some(
                    "Pin a version and use IfNotPresent, or use Always. Never works only with images preloaded on every node (as in a local kind cluster).",
                ),
            )),
        ),
        (
            "app:1.0",
            "Sometimes",
            Some((
                None,
                Some(
                    "Remove imagePullPolicy to get the default (Always for :latest or no tag, IfNotPresent otherwise), or set one of the three.",
                ),
            )),
        ),
    ];
    for (image, policy, expected) in cases {
        let object = pod(image, policy);
        let verdict = check_object::<WorkloadHygiene>(&object, settings);
        let Some((fix, hint)) = expected else {
            assert!(
                verdict.passed(),
                "{image} {policy}: {:?}",
                verdict.violations
            );
            continue;
        };
        assert_eq!(
            rule_ids(&verdict),
            ["image-pull-policy"],
            "{image} {policy}"
        );
        let violation = &verdict.violations[0];
        assert_eq!(violation.path, path);
        assert_eq!(violation.found, Some(json!(policy)));
        let fixes: Vec<Edit> = fix.map(|f| Edit::set(path, json!(f))).into_iter().collect();
        assert_eq!(violation.fixes, fixes, "{image} {policy}");
        assert_eq!(violation.hint.as_deref(), hint, "{image} {policy}");
        if !fixes.is_empty() {
            let fixed = apply_fixes(&object, &verdict);
            assert!(
                check_object::<WorkloadHygiene>(&fixed, settings).passed(),
                "{image} {policy}"
            );
        }
    }
}

#[test]
fn disabled_rules_and_groups_are_switched_off() {
    let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      containers: [{name: app, image: 'app:1.0'}]\n";
    let all = check::<WorkloadHygiene>(manifest, "{}");
    assert_eq!(
        rule_ids(&all),
        [
            "resource-requests",
            "resource-requests",
            "memory-limit",
            "image-digest",
            "liveness-probe",
            "readiness-probe"
        ]
    );
    let some = check::<WorkloadHygiene>(manifest, r#"{"disabled": ["probes", "image-digest"]}"#);
    assert_eq!(
        rule_ids(&some),
        ["resource-requests", "resource-requests", "memory-limit"]
    );
    let rest = check::<WorkloadHygiene>(
        manifest,
        r#"{"disabled": ["resources", "images", "liveness-probe"]}"#,
    );
    assert_eq!(rule_ids(&rest), ["readiness-probe"]);
}

#[test]
fn bad_settings_name_the_entry() {
    assert_eq!(
        settings_error::<WorkloadHygiene>(r#"{"disabled": ["probes", "probe"]}"#),
        "setting `disabled[1]`: \"probe\" is neither a rule nor a group of workload-hygiene; \
         rules: resource-requests, memory-limit, image-tag, image-digest, image-pull-policy, \
         liveness-probe, readiness-probe; groups: resources, images, probes"
    );
    let unknown = settings_error::<WorkloadHygiene>(r#"{"disable": ["probes"]}"#);
    assert!(unknown.contains("unknown field `disable`"), "{unknown}");
    let wrong = settings_error::<WorkloadHygiene>(r#"{"disabled": "probes"}"#);
    assert!(wrong.starts_with("setting `disabled`: "), "{wrong}");
}

#[test]
fn wrongly_typed_fields_are_reported_not_skipped_silently() {
    let manifest = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  restartPolicy: Never
  resources: 4
  containers:
    - {name: app, image: 5, resources: {requests: [cpu], limits: {memory: 1Gi}}, imagePullPolicy: true}
"#;
    let verdict = check::<WorkloadHygiene>(manifest, "{}");
    let paths: Vec<(&str, &str)> = verdict
        .violations
        .iter()
        .map(|v| (v.rule.as_str(), v.path.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("invalid-field", "/spec/resources"),
            ("invalid-field", "/spec/containers/0/resources/requests"),
            (
                "resource-requests",
                "/spec/containers/0/resources/requests/cpu"
            ),
            ("invalid-field", "/spec/containers/0/image"),
        ]
    );
}

fn with_sub_resource(request: Request, sub_resource: &str) -> Request {
    let mut raw = request.raw().clone();
    raw["subResource"] = json!(sub_resource);
    Request::from_value(raw).expect("a valid request")
}

#[test]
fn pod_updates_are_checked_only_when_the_spec_changes() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: app, image: 'app:latest'}]\n";
    let relabelled = pod.replace("{name: p}", "{name: p, labels: {a: b}}");
    assert!(
        check_request::<WorkloadHygiene>(&update_request_from_yaml(pod, &relabelled), "{}")
            .passed()
    );
    let new_image = pod.replace("app:latest", "app:2");
    let changed =
        check_request::<WorkloadHygiene>(&update_request_from_yaml(pod, &new_image), "{}");
    assert!(rule_ids(&changed).contains(&"image-digest"));
    let status = with_sub_resource(
        request("UPDATE", Some(yaml(&new_image)), Some(yaml(pod))),
        "status",
    );
    assert!(check_request::<WorkloadHygiene>(&status, "{}").passed());
    let deployment = TIDY.replace("@sha256:9f8e", "");
    let update = update_request_from_yaml(&deployment, &deployment);
    assert_eq!(
        rule_ids(&check_request::<WorkloadHygiene>(&update, "{}")),
        ["image-digest"]
    );
}
