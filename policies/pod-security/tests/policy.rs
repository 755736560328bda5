//! The policy as Counsel sees it: catalog, settings, which requests and
//! kinds are evaluated, and pointers into every workload kind.

use counsel_policy::testing::{
    assert_catalog, check, check_request, request, rule_ids, settings_error,
    update_request_from_yaml, yaml,
};
use counsel_policy::{FixSafety, Policy, Request, Severity, Value, json};
use pod_security::{KINDS, Level, PodSecurity, PolicyVersion, Settings};

const PRIVILEGED_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: app
      image: registry.example/app:1.0
      securityContext: {privileged: true}
"#;

#[test]
fn catalog_has_one_rule_per_control_with_reason_and_docs() {
    assert_catalog::<PodSecurity>();
    let metadata = PodSecurity::metadata();
    assert_eq!(metadata.name, "pod-security");
    assert_eq!(metadata.kinds, KINDS);
    let ids: Vec<&str> = metadata.rules.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        [
            "privileged",
            "allow-privilege-escalation",
            "run-as-non-root",
            "run-as-user",
            "capabilities",
            "seccomp",
            "host-namespaces",
            "host-path-volumes",
            "host-ports",
            "probe-host",
            "app-armor",
            "se-linux",
            "proc-mount",
            "sysctls",
            "restricted-volumes",
            "windows-host-process",
        ]
    );
    for rule in &metadata.rules {
        let docs = rule.docs.unwrap_or_default();
        assert!(
            docs.starts_with(
                "https://kubernetes.io/docs/concepts/security/pod-security-standards/#"
            ),
            "{}: {docs}",
            rule.id
        );
        assert!(
            rule.why.len() > 120,
            "{}: the why is too thin to explain",
            rule.id
        );
    }
    assert_eq!(
        metadata.rule("privileged").map(|r| r.severity),
        Some(Severity::Critical)
    );
}

#[test]
fn only_fixes_that_keep_a_typical_workload_running_are_safe() {
    let metadata = PodSecurity::metadata();
    let safe: Vec<&str> = metadata
        .rules
        .iter()
        .filter(|r| r.fix_safety == FixSafety::Safe)
        .map(|r| r.id)
        .collect();
    assert_eq!(
        safe,
        [
            "privileged",
            "allow-privilege-escalation",
            "seccomp",
            "app-armor",
            "se-linux",
            "proc-mount",
            "sysctls",
        ]
    );
}

#[test]
fn rules_both_levels_constrain_link_the_level_of_each_violation() {
    const BASELINE: &str =
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline";
    const RESTRICTED: &str =
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted";
    let pod = r#"
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: app
      image: registry.example/app:1.0
      securityContext:
        capabilities: {add: [SYS_ADMIN]}
        seccompProfile: {type: Unconfined}
"#;
    let docs = |level: &str| -> Vec<(String, Option<String>)> {
        check::<PodSecurity>(pod, &json!({"level": level}).to_string())
            .violations
            .into_iter()
            .filter(|v| v.rule == "capabilities" || v.rule == "seccomp")
            .map(|v| (format!("{} {}", v.rule, v.path), v.docs))
            .collect()
    };
    let caps = "/spec/containers/0/securityContext/capabilities";
    let seccomp = "/spec/containers/0/securityContext/seccompProfile/type";
    assert_eq!(
        docs("baseline"),
        [
            (
                format!("capabilities {caps}/add/0"),
                Some(BASELINE.to_owned())
            ),
            (format!("seccomp {seccomp}"), Some(BASELINE.to_owned())),
        ]
    );
    assert_eq!(
        docs("restricted"),
        [
            (
                format!("capabilities {caps}/drop"),
                Some(RESTRICTED.to_owned())
            ),
            (
                format!("capabilities {caps}/add/0"),
                Some(RESTRICTED.to_owned())
            ),
            (format!("seccomp {seccomp}"), Some(RESTRICTED.to_owned())),
        ]
    );
}

#[test]
fn settings_default_to_restricted_at_latest() {
    let defaults = counsel_policy::testing::settings::<PodSecurity>("{}");
    assert_eq!(
        defaults,
        Settings {
            level: Level::Restricted,
            version: PolicyVersion::Latest
        }
    );
    let pinned = counsel_policy::testing::settings::<PodSecurity>(
        r#"{"level": "baseline", "version": "v1.99"}"#,
    );
    assert_eq!(pinned.level, Level::Baseline);
    assert_eq!(pinned.version, PolicyVersion::Minor(99));
    // A version newer than the newest is evaluated as the newest.
    assert_eq!(pinned.version.effective_minor(), 37);
}

#[test]
fn bad_settings_are_refused_naming_the_setting() {
    assert_eq!(
        settings_error::<PodSecurity>(r#"{"level": "privileged"}"#),
        "setting `level`: \"privileged\" checks nothing; use \"baseline\" or \"restricted\", \
         or turn the pod-security policy off"
    );
    assert_eq!(
        settings_error::<PodSecurity>(r#"{"level": "Restricted"}"#),
        "setting `level`: \"Restricted\" is not a Pod Security Standards level; use \
         \"baseline\" or \"restricted\""
    );
    assert_eq!(
        settings_error::<PodSecurity>(r#"{"version": "1.30"}"#),
        "setting `version`: \"1.30\" is not a policy version; use \"latest\" or \"v1.N\" \
         (for example \"v1.35\")"
    );
    let unknown = settings_error::<PodSecurity>(r#"{"levle": "baseline"}"#);
    assert!(unknown.contains("unknown field `levle`"), "{unknown}");
    let wrong_type = settings_error::<PodSecurity>(r#"{"level": 1}"#);
    assert!(wrong_type.starts_with("setting `level`: "), "{wrong_type}");
}

/// Every workload kind's template is checked, with pointers into it.
#[test]
fn every_workload_kind_is_checked_at_its_template() {
    let container = json!({"name": "app", "image": "registry.example/app:1.0",
        "securityContext": {"privileged": true}});
    let template =
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}});
    let cases = [
        (
            "apps/v1",
            "StatefulSet",
            json!({"template": template}),
            "/spec/template/spec",
        ),
        (
            "apps/v1",
            "DaemonSet",
            json!({"template": template}),
            "/spec/template/spec",
        ),
        (
            "apps/v1",
            "ReplicaSet",
            json!({"template": template}),
            "/spec/template/spec",
        ),
        (
            "v1",
            "ReplicationController",
            json!({"template": template}),
            "/spec/template/spec",
        ),
        (
            "batch/v1",
            "Job",
            json!({"template": template}),
            "/spec/template/spec",
        ),
    ];
    for (api_version, kind, spec, at) in cases {
        let object = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "web"}, "spec": spec});
        let verdict = counsel_policy::testing::check_object::<PodSecurity>(
            &object,
            r#"{"level": "baseline"}"#,
        );
        assert_eq!(rule_ids(&verdict), ["privileged"], "{kind}");
        assert_eq!(
            verdict.violations[0].path,
            format!("{at}/containers/0/securityContext/privileged")
        );
    }
    let pod_template = json!({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}, "template": template});
    let verdict = counsel_policy::testing::check_object::<PodSecurity>(
        &pod_template,
        r#"{"level": "baseline"}"#,
    );
    assert_eq!(
        verdict.violations[0].path,
        "/template/spec/containers/0/securityContext/privileged"
    );
}

#[test]
fn kinds_without_a_pod_spec_and_deletes_pass() {
    let config_map =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {privileged: 'true'}\n";
    assert!(check::<PodSecurity>(config_map, "{}").passed());
    let delete = counsel_policy::testing::delete_request_from_yaml(PRIVILEGED_POD);
    assert!(check_request::<PodSecurity>(&delete, "{}").passed());
}

fn with_sub_resource(request: Request, sub_resource: &str) -> Request {
    let mut raw = request.raw().clone();
    raw["subResource"] = json!(sub_resource);
    Request::from_value(raw).expect("a valid request")
}

#[test]
fn pod_subresources_are_skipped_as_pod_security_admission_does() {
    let settings = r#"{"level": "baseline"}"#;
    let pod = yaml(PRIVILEGED_POD);
    let update = || request("UPDATE", Some(pod.clone()), Some(pod.clone()));
    for skipped in [
        "status",
        "exec",
        "attach",
        "binding",
        "eviction",
        "log",
        "portforward",
        "proxy",
    ] {
        let verdict = check_request::<PodSecurity>(&with_sub_resource(update(), skipped), settings);
        assert!(verdict.passed(), "{skipped}");
    }
    // Adding an ephemeral container goes through a subresource that is checked.
    let mut debugged = pod.clone();
    debugged["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox:1.36", "securityContext": {"privileged": true}}]);
    let add_debug = request("UPDATE", Some(debugged), Some(pod.clone()));
    let verdict = check_request::<PodSecurity>(
        &with_sub_resource(add_debug, "ephemeralcontainers"),
        settings,
    );
    assert_eq!(rule_ids(&verdict), ["privileged", "privileged"]);
    assert_eq!(
        verdict.violations[1].path,
        "/spec/ephemeralContainers/0/securityContext/privileged"
    );
    // Templates' subresources (scale, status) are never checked.
    let deployment = yaml(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: app, securityContext: {privileged: true}}]\n",
    );
    let scale = with_sub_resource(
        request("UPDATE", Some(deployment.clone()), Some(deployment)),
        "scale",
    );
    assert!(check_request::<PodSecurity>(&scale, settings).passed());
}

#[test]
fn legacy_ephemeral_containers_objects_are_checked_at_the_top() {
    // Kubernetes 1.16-1.21 send pods/ephemeralcontainers as this object.
    let legacy = |containers: Value| {
        json!({"apiVersion": "v1", "kind": "EphemeralContainers",
               "metadata": {"name": "web", "namespace": "shop"},
               "ephemeralContainers": containers})
    };
    let before = legacy(json!([]));
    let privileged = legacy(json!([{"name": "debug", "image": "busybox:1.36",
        "securityContext": {"privileged": true}}]));
    let plain = legacy(json!([{"name": "debug", "image": "busybox:1.36"}]));
    let update = |after: &Value| {
        with_sub_resource(
            request("UPDATE", Some(after.clone()), Some(before.clone())),
            "ephemeralcontainers",
        )
    };
    let baseline = r#"{"level": "baseline"}"#;
    let verdict = check_request::<PodSecurity>(&update(&privileged), baseline);
    assert_eq!(rule_ids(&verdict), ["privileged"]);
    assert_eq!(
        verdict.violations[0].path,
        "/ephemeralContainers/0/securityContext/privileged"
    );
    assert!(check_request::<PodSecurity>(&update(&plain), baseline).passed());
    // Restricted wants what 1.20 cannot give an ephemeral container (a
    // securityContext), so the pod's debugging needs a baseline namespace.
    let restricted = check_request::<PodSecurity>(&update(&plain), "{}");
    let paths: Vec<_> = restricted
        .violations
        .iter()
        .map(|v| v.path.as_str())
        .collect();
    assert!(
        paths.contains(&"/ephemeralContainers/0/securityContext/allowPrivilegeEscalation"),
        "{paths:?}"
    );
    // The same object under another subresource, or none, is not a pod's.
    let other = with_sub_resource(
        request("UPDATE", Some(privileged.clone()), Some(before.clone())),
        "status",
    );
    assert!(check_request::<PodSecurity>(&other, baseline).passed());
}

#[test]
fn pod_updates_are_checked_only_when_what_runs_changes() {
    let settings = r#"{"level": "baseline"}"#;
    let relabelled = PRIVILEGED_POD.replace(
        "metadata: {name: web, namespace: shop}",
        "metadata: {name: web, namespace: shop, labels: {tier: web}}",
    );
    let label_change = update_request_from_yaml(PRIVILEGED_POD, &relabelled);
    assert!(check_request::<PodSecurity>(&label_change, settings).passed());

    let new_image = PRIVILEGED_POD.replace("app:1.0", "app:1.1");
    let image_change = update_request_from_yaml(PRIVILEGED_POD, &new_image);
    assert_eq!(
        rule_ids(&check_request::<PodSecurity>(&image_change, settings)),
        ["privileged"]
    );

    let more = PRIVILEGED_POD.replace(
        "    - name: app",
        "    - {name: sidecar, image: registry.example/sidecar:1.0}\n    - name: app",
    );
    let added = update_request_from_yaml(PRIVILEGED_POD, &more);
    assert_eq!(
        rule_ids(&check_request::<PodSecurity>(&added, settings)),
        ["privileged"]
    );

    // Template updates are always checked.
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: app, image: a, securityContext: {privileged: true}}]\n";
    let template_update = update_request_from_yaml(deployment, deployment);
    assert_eq!(
        rule_ids(&check_request::<PodSecurity>(&template_update, settings)),
        ["privileged"]
    );
}

#[test]
fn wrongly_typed_fields_are_reported_once_and_never_panic() {
    let pod = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, annotations: {container.apparmor.security.beta.kubernetes.io/app: 3}}
spec:
  os: windows
  hostUsers: "false"
  securityContext: "strict"
  volumes: {name: data}
  containers:
    - name: app
      securityContext: [privileged]
      ports: [8080]
    - 7
"#;
    for level in ["baseline", "restricted"] {
        let verdict = check::<PodSecurity>(pod, &json!({"level": level}).to_string());
        let found: Vec<(&str, &str)> = verdict
            .violations
            .iter()
            .map(|v| (v.rule.as_str(), v.path.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("invalid-field", "/spec/containers/1"),
                ("invalid-field", "/spec/securityContext"),
                ("invalid-field", "/spec/os"),
                ("invalid-field", "/spec/hostUsers"),
                (
                    "invalid-field",
                    "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app"
                ),
                ("invalid-field", "/spec/containers/0/securityContext"),
                ("invalid-field", "/spec/volumes"),
                ("invalid-field", "/spec/containers/0/ports/0"),
            ]
            .into_iter()
            .chain(restricted_extras(level))
            .collect::<Vec<_>>(),
            "{level}"
        );
        assert_eq!(verdict.violations[0].found, Some(Value::from(7)));
    }
}

/// At restricted the container without a usable securityContext also fails
/// the restricted checks (and the pod has no runAsNonRoot or seccomp).
fn restricted_extras(level: &str) -> Vec<(&'static str, &'static str)> {
    if level == "baseline" {
        return Vec::new();
    }
    vec![
        (
            "allow-privilege-escalation",
            "/spec/containers/0/securityContext/allowPrivilegeEscalation",
        ),
        (
            "capabilities",
            "/spec/containers/0/securityContext/capabilities/drop",
        ),
        ("run-as-non-root", "/spec/securityContext/runAsNonRoot"),
        ("seccomp", "/spec/securityContext/seccompProfile/type"),
    ]
}
