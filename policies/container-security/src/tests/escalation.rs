use super::*;

/// A PodSpec that passes everything but escalation, with `container` added.
fn spec_with(container: Value) -> Value {
    json!({
        "securityContext": {"runAsNonRoot": true},
        "initContainers": [hardened("setup")],
        "containers": [container],
    })
}

#[test]
fn explicit_false_passes() {
    for kind in workload::KINDS {
        let spec = spec_with(
            json!({"name": "app", "securityContext": {"allowPrivilegeEscalation": false}}),
        );
        assert_eq!(check_fixable(&wrap(kind, spec)), [], "{kind}");
    }
}

#[test]
fn missing_setting_fails_and_the_fix_creates_the_security_context() {
    for kind in workload::KINDS {
        let path = format!(
            "{}/containers/0/securityContext/allowPrivilegeEscalation",
            spec_pointer(kind)
        );
        let object = wrap(kind, spec_with(json!({"name": "app", "image": "app:1"})));
        let violations = check_fixable(&object);
        assert_eq!(
            summary(&violations),
            [(
                "allow-privilege-escalation",
                path.as_str(),
                None,
                &[set(&path, json!(false))][..]
            )],
            "{kind}"
        );
        assert_eq!(
            violations[0].message,
            r#"container "app" does not set allowPrivilegeEscalation to false"#
        );
        let fixed = apply_fixes(
            &object,
            &counsel_policy::Verdict {
                violations,
                warnings: vec![],
            },
        );
        let container = format!("{}/containers/0", spec_pointer(kind));
        assert_eq!(
            fixed.pointer(&container),
            Some(
                &json!({"name": "app", "image": "app:1", "securityContext": {"allowPrivilegeEscalation": false}})
            ),
            "{kind}"
        );
    }
}

#[test]
fn explicit_true_fails_with_the_found_value() {
    for kind in workload::KINDS {
        let p = spec_pointer(kind);
        let path = format!("{p}/ephemeralContainers/0/securityContext/allowPrivilegeEscalation");
        let mut spec = spec_with(hardened("app"));
        spec["ephemeralContainers"] = json!([{
            "name": "debug",
            "securityContext": {"allowPrivilegeEscalation": true, "runAsNonRoot": true}
        }]);
        let violations = check_fixable(&wrap(kind, spec));
        assert_eq!(
            summary(&violations),
            [(
                "allow-privilege-escalation",
                path.as_str(),
                Some(&json!(true)),
                &[set(&path, json!(false))][..]
            )],
            "{kind}"
        );
        assert_eq!(
            violations[0].message,
            r#"ephemeral container "debug" allows privilege escalation"#
        );
    }
}

#[test]
fn privileged_containers_get_privileged_turned_off_too() {
    // The API server refuses allowPrivilegeEscalation: false together with
    // privileged: true, so this violation's own fixes must turn both off.
    let spec = spec_with(json!({"name": "app", "securityContext": {"privileged": true}}));
    let violations = check_fixable(&wrap("StatefulSet", spec));
    let p = "/spec/template/spec/containers/0/securityContext";
    let escalation = violations
        .iter()
        .find(|v| v.rule == "allow-privilege-escalation")
        .expect("an escalation violation");
    assert_eq!(
        escalation.fixes,
        [
            set(&format!("{p}/privileged"), json!(false)),
            set(&format!("{p}/allowPrivilegeEscalation"), json!(false)),
        ]
    );
    assert_eq!(
        escalation.hint.as_deref(),
        Some(
            "A privileged container always allows privilege escalation, so the fix also turns privileged off."
        )
    );
}

#[test]
fn sys_admin_gets_a_hint_instead_of_a_fix_kubernetes_would_refuse() {
    for capability in ["SYS_ADMIN", "CAP_SYS_ADMIN"] {
        let spec = spec_with(json!({
            "name": "fuse",
            "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", capability]}}
        }));
        let verdict = check_object::<ContainerSecurity>(&wrap("DaemonSet", spec), "{}");
        let path = "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation";
        assert_eq!(
            summary(&verdict.violations),
            [("allow-privilege-escalation", path, None, &[][..])],
            "{capability}"
        );
        assert_eq!(
            verdict.violations[0].hint.as_deref(),
            Some(
                "Kubernetes refuses allowPrivilegeEscalation: false while the container adds the \
                 SYS_ADMIN capability: remove SYS_ADMIN from securityContext.capabilities.add, \
                 then set allowPrivilegeEscalation: false."
            )
        );
    }
}

#[test]
fn windows_pods_are_exempt() {
    for kind in workload::KINDS {
        let mut spec = spec_with(
            json!({"name": "iis", "securityContext": {"allowPrivilegeEscalation": true}}),
        );
        spec["os"] = json!({"name": "windows"});
        assert_eq!(check_fixable(&wrap(kind, spec)), [], "{kind}");
    }
    // Linux pods, said explicitly, are not.
    let mut spec = spec_with(json!({"name": "app"}));
    spec["os"] = json!({"name": "linux"});
    assert_eq!(
        rule_ids(&check_object::<ContainerSecurity>(&wrap("Pod", spec), "{}")),
        ["allow-privilege-escalation"]
    );
}
