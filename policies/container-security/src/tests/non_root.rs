use super::*;

/// A container passing the other rules, with `runAsNonRoot` as given
/// (`None`: not set).
fn container(name: &str, run_as_non_root: Option<bool>) -> Value {
    let mut context = json!({"allowPrivilegeEscalation": false});
    if let Some(value) = run_as_non_root {
        context["runAsNonRoot"] = json!(value);
    }
    json!({"name": name, "securityContext": context})
}

/// A PodSpec whose pod-level `runAsNonRoot` is as given.
fn spec(pod: Option<bool>, containers: Vec<Value>) -> Value {
    let mut spec = json!({"containers": containers});
    if let Some(value) = pod {
        spec["securityContext"] = json!({"runAsNonRoot": value, "fsGroup": 2000});
    }
    spec
}

fn messages(violations: &[Violation]) -> Vec<&str> {
    violations.iter().map(|v| v.message.as_str()).collect()
}

#[test]
fn pod_level_true_covers_containers_that_do_not_override_it() {
    for kind in workload::KINDS {
        let s = spec(
            Some(true),
            vec![container("app", None), container("sidecar", Some(true))],
        );
        assert_eq!(check_fixable(&wrap(kind, s)), [], "{kind}");
    }
}

#[test]
fn every_container_true_passes_without_the_pod() {
    for kind in workload::KINDS {
        let mut s = spec(None, vec![container("app", Some(true))]);
        s["initContainers"] = json!([container("setup", Some(true))]);
        assert_eq!(check_fixable(&wrap(kind, s)), [], "{kind}");
    }
}

#[test]
fn unset_everywhere_is_fixed_once_at_the_pod() {
    for kind in workload::KINDS {
        let p = spec_pointer(kind);
        let pod_path = format!("{p}/securityContext/runAsNonRoot");
        let mut s = spec(
            None,
            vec![container("app", None), container("sidecar", Some(true))],
        );
        s["initContainers"] = json!([container("setup", None)]);
        s["ephemeralContainers"] = json!([container("debug", None)]);
        let violations = check_fixable(&wrap(kind, s));
        assert_eq!(
            summary(&violations),
            [(
                "run-as-non-root",
                pod_path.as_str(),
                None,
                &[set(&pod_path, json!(true))][..]
            )],
            "{kind}"
        );
        assert_eq!(
            messages(&violations),
            [
                r#"init container "setup", container "app" and ephemeral container "debug" may run as root: neither they nor the pod set runAsNonRoot to true"#
            ]
        );
        assert!(
            violations[0]
                .hint
                .as_deref()
                .unwrap_or_default()
                .contains("runAsUser")
        );
    }
}

#[test]
fn a_container_opting_out_gets_each_container_fixed_on_its_own() {
    for kind in workload::KINDS {
        let p = spec_pointer(kind);
        let s = spec(
            None,
            vec![container("app", Some(false)), container("sidecar", None)],
        );
        let root = format!("{p}/containers/0/securityContext/runAsNonRoot");
        let sidecar = format!("{p}/containers/1/securityContext/runAsNonRoot");
        let violations = check_fixable(&wrap(kind, s));
        assert_eq!(
            summary(&violations),
            [
                (
                    "run-as-non-root",
                    root.as_str(),
                    Some(&json!(false)),
                    &[set(&root, json!(true))][..]
                ),
                (
                    "run-as-non-root",
                    sidecar.as_str(),
                    None,
                    &[set(&sidecar, json!(true))][..]
                ),
            ],
            "{kind}"
        );
        assert_eq!(
            messages(&violations),
            [
                r#"container "app" sets runAsNonRoot to false"#,
                r#"container "sidecar" may run as root: neither it nor the pod sets runAsNonRoot to true"#,
            ]
        );
    }
}

#[test]
fn a_container_false_overrides_a_pod_true() {
    for kind in workload::KINDS {
        let p = spec_pointer(kind);
        let path = format!("{p}/initContainers/0/securityContext/runAsNonRoot");
        let mut s = spec(Some(true), vec![container("app", None)]);
        s["initContainers"] = json!([container("chown", Some(false))]);
        let violations = check_fixable(&wrap(kind, s));
        assert_eq!(
            summary(&violations),
            [(
                "run-as-non-root",
                path.as_str(),
                Some(&json!(false)),
                &[set(&path, json!(true))][..]
            )],
            "{kind}"
        );
        assert_eq!(
            messages(&violations),
            [r#"init container "chown" sets runAsNonRoot to false"#]
        );
    }
}

#[test]
fn a_pod_false_fails_even_when_every_container_overrides_it() {
    // As in Pod Security Admission: the pod-level false is itself a violation.
    for kind in workload::KINDS {
        let pod_path = format!("{}/securityContext/runAsNonRoot", spec_pointer(kind));
        let s = spec(Some(false), vec![container("app", Some(true))]);
        let violations = check_fixable(&wrap(kind, s));
        assert_eq!(
            summary(&violations),
            [(
                "run-as-non-root",
                pod_path.as_str(),
                Some(&json!(false)),
                &[set(&pod_path, json!(true))][..]
            )],
            "{kind}"
        );
        assert_eq!(
            messages(&violations),
            ["the pod sets runAsNonRoot to false"]
        );
    }
}

#[test]
fn a_pod_false_names_the_containers_that_inherit_it() {
    let pod_path = "/spec/securityContext/runAsNonRoot";
    let s = spec(
        Some(false),
        vec![
            container("app", None),
            container("web", None),
            container("ok", Some(true)),
        ],
    );
    let object = wrap("Pod", s);
    let violations = check_fixable(&object);
    assert_eq!(
        summary(&violations),
        [(
            "run-as-non-root",
            pod_path,
            Some(&json!(false)),
            &[set(pod_path, json!(true))][..]
        )]
    );
    assert_eq!(
        messages(&violations),
        [
            r#"the pod sets runAsNonRoot to false, which container "app" and container "web" inherit"#
        ]
    );
    // The fix changes only that field: fsGroup stays.
    let fixed = apply_fixes(
        &object,
        &counsel_policy::Verdict {
            violations,
            warnings: vec![],
        },
    );
    assert_eq!(
        fixed["spec"]["securityContext"],
        json!({"runAsNonRoot": true, "fsGroup": 2000})
    );

    let one = spec(Some(false), vec![container("app", None)]);
    assert_eq!(
        messages(&check_fixable(&wrap("Pod", one))),
        [r#"the pod sets runAsNonRoot to false, which container "app" inherits"#]
    );
}

#[test]
fn a_pod_false_and_a_container_false_are_both_reported() {
    let s = spec(
        Some(false),
        vec![container("app", Some(false)), container("web", None)],
    );
    let violations = check_fixable(&wrap("Job", s));
    let p = "/spec/template/spec";
    let app = format!("{p}/containers/0/securityContext/runAsNonRoot");
    let pod = format!("{p}/securityContext/runAsNonRoot");
    assert_eq!(
        summary(&violations),
        [
            (
                "run-as-non-root",
                app.as_str(),
                Some(&json!(false)),
                &[set(&app, json!(true))][..]
            ),
            (
                "run-as-non-root",
                pod.as_str(),
                Some(&json!(false)),
                &[set(&pod, json!(true))][..]
            ),
        ]
    );
}

#[test]
fn a_pod_without_containers_passes() {
    assert_eq!(check_fixable(&wrap("Pod", spec(None, vec![]))), []);
}
