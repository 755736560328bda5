use super::*;
use crate::{NoSettings, Operation, Rule, violation};

const MANIFEST: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: "app:1"
          securityContext:
"#;

#[test]
fn yaml_becomes_json_with_types_kept() {
    assert_eq!(
        yaml(MANIFEST),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                {"name": "app", "image": "app:1", "securityContext": null}
            ]}}},
        })
    );
}

#[test]
#[should_panic(expected = "the test manifest is not valid YAML")]
fn bad_yaml_panics_with_a_clear_message() {
    yaml("a: [unclosed");
}

#[test]
fn requests_from_yaml_look_like_the_api_servers() {
    let request = request_from_yaml(MANIFEST);
    assert_eq!(request.operation(), Operation::Create);
    assert_eq!(request.kind(), "Deployment");
    assert_eq!(request.api_version(), "apps/v1");
    assert_eq!(request.name(), Some("web"));
    assert_eq!(request.namespace(), Some("shop"));
    assert_eq!(request.user(), Some("developer@example.com"));
    assert_eq!(request.groups(), ["system:authenticated"]);
    assert_eq!(request.object(), Some(&yaml(MANIFEST)));
    assert_eq!(request.old_object(), None);
    assert_eq!(
        request.raw()["resource"],
        json!({"group": "apps", "version": "v1", "resource": "deployments"})
    );

    let old = MANIFEST.replace("replicas: 2", "replicas: 1");
    let update = update_request_from_yaml(&old, MANIFEST);
    assert_eq!(update.operation(), Operation::Update);
    assert_eq!(update.old_object(), Some(&yaml(&old)));
    assert_eq!(update.object(), Some(&yaml(MANIFEST)));

    let delete = delete_request_from_yaml("kind: Pod\napiVersion: v1\nmetadata: {name: p}\n");
    assert_eq!(delete.operation(), Operation::Delete);
    assert_eq!(delete.object(), None);
    assert_eq!(delete.name(), Some("p"));
    assert_eq!(delete.api_version(), "v1");
}

#[test]
fn kinds_are_pluralised_like_kubernetes_resources() {
    assert_eq!(counsel_contract::resource_name("Pod"), "pods");
    assert_eq!(counsel_contract::resource_name("ReplicaSet"), "replicasets");
    assert_eq!(counsel_contract::resource_name("Ingress"), "ingresses");
    assert_eq!(
        counsel_contract::resource_name("NetworkPolicy"),
        "networkpolicies"
    );
}

/// A policy that reports whatever rule its object's `report` field names.
struct Echo;

impl Policy for Echo {
    type Settings = NoSettings;

    fn metadata() -> Metadata {
        Metadata {
            name: "echo".into(),
            version: "0.1.0".into(),
            description: "Reports what it is told.".into(),
            kinds: vec![],
            rules: vec![Rule::new("told", "Told", "Because it was told.")],
        }
    }

    fn validate(request: &Request, _: &NoSettings) -> Verdict {
        let mut verdict = Verdict::default();
        let object = request.object().cloned().unwrap_or_default();
        if let Some(rule) = object.get("report").and_then(Value::as_str) {
            let path = object
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("/report");
            verdict.push(
                violation(rule)
                    .at(path)
                    .message("told to")
                    .fix_set("/report", json!(null))
                    .fix_remove("/report"),
            );
        }
        verdict
    }
}

#[test]
fn check_runs_the_policy_and_fixes_apply() {
    let verdict = check::<Echo>("kind: Pod\nreport: told\n", "{}");
    assert_eq!(rule_ids(&verdict), ["told"]);
    let fixed = apply_fixes(&yaml("kind: Pod\nreport: told\n"), &verdict);
    assert_eq!(fixed, json!({"kind": "Pod"}));
    assert!(check_object::<Echo>(&fixed, "{}").passed());
}

#[test]
#[should_panic(expected = "the policy reported rule `made-up`, which its catalog does not list")]
fn check_refuses_rules_missing_from_the_catalog() {
    check::<Echo>("kind: Pod\nreport: made-up\n", "{}");
}

#[test]
#[should_panic(expected = "a `told` violation has a bad path: `report` is not a JSON Pointer")]
fn check_refuses_bad_pointers() {
    check::<Echo>("kind: Pod\nreport: told\npath: report\n", "{}");
}

#[test]
#[should_panic(
    expected = "the policy refused the test settings {\"x\": 1}: setting `x`: unknown field `x`"
)]
fn check_refuses_settings_the_policy_refuses() {
    check::<Echo>("kind: Pod\n", r#"{"x": 1}"#);
}

#[test]
fn settings_errors_are_returned() {
    assert!(
        settings_error::<Echo>(r#"{"x": 1}"#).starts_with("setting `x`: unknown field `x`"),
        "{}",
        settings_error::<Echo>(r#"{"x": 1}"#)
    );
}

#[test]
#[should_panic(
    expected = "the fixes of `told` at /report do not apply: cannot set `/a/b`: `/a` is a number"
)]
fn fixes_that_do_not_apply_name_their_pointer() {
    let verdict = Verdict {
        violations: vec![violation("told").at("/report").fix_set("/a/b", json!(1))],
        warnings: vec![],
    };
    apply_fixes(&json!({"a": 1}), &verdict);
}

#[test]
fn catalog_checks_accept_a_good_catalog() {
    assert_catalog::<Echo>();
    assert!(is_kebab("run-as-non-root"));
    assert!(is_kebab("rule2"));
    for bad in ["", "Run", "a_b", "-a", "a-", "a--b", "a b"] {
        assert!(!is_kebab(bad), "{bad:?}");
    }
}
