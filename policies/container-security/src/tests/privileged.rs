use super::*;

fn privileged(name: &str, value: Value) -> Value {
    let mut container = hardened(name);
    container["securityContext"]["privileged"] = value;
    // Kubernetes refuses allowPrivilegeEscalation: false next to privileged:
    // true, so a real privileged container leaves it unset.
    if container["securityContext"]["privileged"] == json!(true)
        && let Some(context) = container["securityContext"].as_object_mut()
    {
        context.remove("allowPrivilegeEscalation");
    }
    container
}

#[test]
fn privileged_false_passes() {
    for kind in workload::KINDS {
        let spec = json!({"containers": [privileged("app", json!(false))]});
        assert_eq!(check_fixable(&wrap(kind, spec)), [], "{kind}");
    }
}

#[test]
fn privileged_containers_fail_in_every_list_on_every_kind() {
    for kind in workload::KINDS {
        let p = spec_pointer(kind);
        let spec = json!({
            "initContainers": [privileged("setup", json!(true))],
            "containers": [hardened("app"), privileged("vpn", json!(true))],
            "ephemeralContainers": [privileged("debug", json!(true))],
        });
        let violations = check_fixable(&wrap(kind, spec));
        let privileged: Vec<_> = violations
            .iter()
            .filter(|v| v.rule == "privileged")
            .collect();
        let expected = [
            (
                "initContainers/0",
                r#"init container "setup" runs privileged"#,
            ),
            ("containers/1", r#"container "vpn" runs privileged"#),
            (
                "ephemeralContainers/0",
                r#"ephemeral container "debug" runs privileged"#,
            ),
        ];
        assert_eq!(privileged.len(), expected.len(), "{kind}");
        for (v, (container, message)) in privileged.iter().zip(expected) {
            let path = format!("{p}/{container}/securityContext/privileged");
            assert_eq!(v.path, path, "{kind}");
            assert_eq!(v.message, message, "{kind}");
            assert_eq!(v.found, Some(json!(true)), "{kind}");
            assert_eq!(v.fixes, [set(&path, json!(false))], "{kind}");
            assert!(
                v.hint
                    .as_deref()
                    .unwrap_or_default()
                    .contains("capabilities.add")
            );
        }
    }
}

#[test]
fn unnamed_privileged_containers_are_named_by_position() {
    let spec = json!({"containers": [hardened("app"), {"securityContext": {"privileged": true, "runAsNonRoot": true}}]});
    let violations = check_fixable(&wrap("Pod", spec));
    assert_eq!(
        violations[0].message,
        "container #1 (no name) runs privileged"
    );
}

#[test]
fn privileged_fields_are_removed_from_windows_pods() {
    // Kubernetes refuses securityContext.privileged in Windows pods, so the
    // fix is to drop it, not to set it to false.
    let spec = json!({
        "os": {"name": "windows"},
        "securityContext": {"runAsNonRoot": true},
        "containers": [{"name": "iis", "securityContext": {"privileged": true}}],
    });
    for kind in ["Pod", "Deployment", "CronJob"] {
        let path = format!(
            "{}/containers/0/securityContext/privileged",
            spec_pointer(kind)
        );
        let violations = check_fixable(&wrap(kind, spec.clone()));
        assert_eq!(
            summary(&violations),
            [(
                "privileged",
                path.as_str(),
                Some(&json!(true)),
                &[Edit::remove(&path)][..]
            )],
            "{kind}"
        );
    }
}
