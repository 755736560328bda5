//! Native unit tests: every rule passing and failing on every workload kind,
//! with exact pointers, found values and fixes, and the fixes applied.

mod escalation;
mod non_root;
mod privileged;

use super::*;
use counsel_policy::testing::{
    apply_fixes, assert_catalog, check, check_object, check_request, delete_request_from_yaml,
    rule_ids,
};
use counsel_policy::{Edit, Value, Violation, json, workload};

/// `object` wrapped as `kind`, with `spec` as its PodSpec.
fn wrap(kind: &str, spec: Value) -> Value {
    let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": spec});
    let meta = json!({"name": "web", "namespace": "shop"});
    match kind {
        "Pod" => json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => json!({
            "apiVersion": "apps/v1", "kind": kind, "metadata": meta,
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template}
        }),
        "ReplicationController" => {
            json!({"apiVersion": "v1", "kind": kind, "metadata": meta, "spec": {"template": template}})
        }
        "Job" => {
            json!({"apiVersion": "batch/v1", "kind": kind, "metadata": meta, "spec": {"template": template}})
        }
        "CronJob" => json!({
            "apiVersion": "batch/v1", "kind": kind, "metadata": meta,
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}}
        }),
        "PodTemplate" => {
            json!({"apiVersion": "v1", "kind": kind, "metadata": meta, "template": template})
        }
        other => panic!("no test wrapping for {other}"),
    }
}

/// Where `wrap(kind, ..)` puts the PodSpec.
fn spec_pointer(kind: &str) -> &'static str {
    match kind {
        "Pod" => "/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        "PodTemplate" => "/template/spec",
        _ => "/spec/template/spec",
    }
}

/// A container that passes every rule.
fn hardened(name: &str) -> Value {
    json!({
        "name": name,
        "image": "registry.example.com/app:1.0",
        "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true}
    })
}

/// Runs the policy on `object` and, when it fails, checks that the fixes
/// make it pass.
fn check_fixable(object: &Value) -> Vec<Violation> {
    let verdict = check_object::<ContainerSecurity>(object, "{}");
    if !verdict.passed() {
        let fixed = apply_fixes(object, &verdict);
        let after = check_object::<ContainerSecurity>(&fixed, "{}");
        assert_eq!(
            after.violations,
            [],
            "the fixes leave violations; fixed object: {fixed}"
        );
    }
    verdict.violations
}

/// The (rule, path, found, fixes) of each violation.
fn summary(violations: &[Violation]) -> Vec<(&str, &str, Option<&Value>, &[Edit])> {
    violations
        .iter()
        .map(|v| {
            (
                v.rule.as_str(),
                v.path.as_str(),
                v.found.as_ref(),
                v.fixes.as_slice(),
            )
        })
        .collect()
}

fn set(path: &str, value: Value) -> Edit {
    Edit::set(path, value)
}

#[test]
fn catalog_lists_the_three_rules_for_every_workload_kind() {
    assert_catalog::<ContainerSecurity>();
    let metadata = ContainerSecurity::metadata();
    assert_eq!(metadata.name, "container-security");
    assert_eq!(metadata.version, "0.1.0");
    assert_eq!(metadata.kinds, workload::kinds());
    let ids: Vec<_> = metadata.rules.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        [
            "privileged",
            "allow-privilege-escalation",
            "run-as-non-root"
        ]
    );
    for rule in &metadata.rules {
        let docs = rule.docs.unwrap_or_default();
        assert!(docs.starts_with("https://kubernetes.io/docs/"), "{docs}");
    }
    assert_eq!(PRIVILEGED.severity, Severity::Critical);
    assert_eq!(ALLOW_PRIVILEGE_ESCALATION.severity, Severity::High);
    assert_eq!(RUN_AS_NON_ROOT.severity, Severity::High);
}

#[test]
fn hardened_workloads_pass_on_every_kind() {
    for kind in workload::KINDS {
        let spec = json!({
            "initContainers": [hardened("setup")],
            "containers": [hardened("app"), hardened("sidecar")],
            "ephemeralContainers": [hardened("debug")],
        });
        assert_eq!(check_fixable(&wrap(kind, spec)), [], "{kind}");
    }
}

#[test]
fn a_typical_manifest_fails_every_rule_and_its_fixes_make_it_pass() {
    let manifest = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: registry.example.com/web:1.4
          securityContext:
            privileged: true
"#;
    let verdict = check::<ContainerSecurity>(manifest, "{}");
    assert_eq!(
        rule_ids(&verdict),
        [
            "privileged",
            "allow-privilege-escalation",
            "run-as-non-root"
        ]
    );
    let messages: Vec<_> = verdict
        .violations
        .iter()
        .map(|v| v.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            r#"container "app" runs privileged"#,
            r#"container "app" does not set allowPrivilegeEscalation to false"#,
            r#"container "app" may run as root: neither it nor the pod sets runAsNonRoot to true"#,
        ]
    );
    let object = counsel_policy::testing::yaml(manifest);
    let fixed = apply_fixes(&object, &verdict);
    assert_eq!(
        fixed.pointer("/spec/template/spec"),
        Some(&json!({
            "securityContext": {"runAsNonRoot": true},
            "containers": [{
                "name": "app",
                "image": "registry.example.com/web:1.4",
                "securityContext": {"privileged": false, "allowPrivilegeEscalation": false}
            }]
        }))
    );
    assert!(check_object::<ContainerSecurity>(&fixed, "{}").passed());
}

#[test]
fn deletes_and_kinds_without_pods_pass() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: app, securityContext: {privileged: true}}]\n";
    let verdict = check_request::<ContainerSecurity>(&delete_request_from_yaml(pod), "{}");
    assert!(verdict.passed());
    let config =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {privileged: 'true'}\n";
    assert!(check::<ContainerSecurity>(config, "{}").passed());
    assert!(
        check::<ContainerSecurity>("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", "{}")
            .passed()
    );
}

#[test]
fn settings_are_refused_by_name() {
    assert_eq!(
        counsel_policy::testing::settings_error::<ContainerSecurity>(r#"{"exempt": ["x"]}"#),
        "setting `exempt`: unknown field `exempt`, there are no fields"
    );
}

#[test]
fn wrongly_typed_fields_are_reported_and_nothing_is_guessed() {
    let spec = json!({
        "securityContext": ["not", "an", "object"],
        "containers": [
            {"name": "a", "securityContext": "privileged"},
            {"name": "b", "securityContext": {"privileged": "yes", "allowPrivilegeEscalation": 0, "runAsNonRoot": "true"}},
            42,
        ],
    });
    for kind in workload::KINDS {
        let p = spec_pointer(kind);
        let verdict = check_object::<ContainerSecurity>(&wrap(kind, spec.clone()), "{}");
        let found: Vec<_> = verdict
            .violations
            .iter()
            .map(|v| {
                (
                    v.rule.as_str(),
                    v.path.clone(),
                    v.found.clone(),
                    v.fixes.len(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "invalid-field",
                    format!("{p}/containers/2"),
                    Some(json!(42)),
                    0
                ),
                (
                    "invalid-field",
                    format!("{p}/containers/0/securityContext"),
                    Some(json!("privileged")),
                    0
                ),
                (
                    "invalid-field",
                    format!("{p}/containers/1/securityContext/privileged"),
                    Some(json!("yes")),
                    0
                ),
                (
                    "invalid-field",
                    format!("{p}/containers/1/securityContext/allowPrivilegeEscalation"),
                    Some(json!(0)),
                    0
                ),
                (
                    "invalid-field",
                    format!("{p}/securityContext"),
                    Some(json!(["not", "an", "object"])),
                    0
                ),
                (
                    "invalid-field",
                    format!("{p}/containers/1/securityContext/runAsNonRoot"),
                    Some(json!("true")),
                    0
                ),
            ],
            "{kind}"
        );
    }
}
