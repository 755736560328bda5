//! ValidatingAdmissionPolicies from the Kubernetes documentation, pasted
//! unmodified (fixtures/vap/*.yaml), run as Counsel rules.

use cel_rules::Cel;
use counsel_policy::testing::{request, request_from_yaml, yaml};
use counsel_policy::{Edit, Request, Verdict, guest, json};

/// Settings with one VAP from a fixture, its params, and Counsel's
/// additions (YAML, indented for `validatingAdmissionPolicies[0]`).
fn settings(fixture: &str, extra: &str) -> String {
    let vap = yaml(
        &std::fs::read_to_string(format!("tests/fixtures/vap/{fixture}.yaml")).expect("fixture"),
    );
    let mut entry = yaml(extra);
    if entry.is_null() {
        entry = json!({});
    }
    entry["policy"] = vap;
    let settings = json!({"validatingAdmissionPolicies": [entry]}).to_string();
    if let Err(e) = guest::validate_settings::<Cel>(&settings) {
        panic!("settings refused: {e}");
    }
    settings
}

fn run(settings: &str, request: &Request) -> Verdict {
    guest::run::<Cel>(&request.raw().to_string(), settings)
}

/// (rule, message, path) of every violation.
fn summary(verdict: &Verdict) -> Vec<(&str, &str, &str)> {
    verdict
        .violations
        .iter()
        .map(|v| (v.rule.as_str(), v.message.as_str(), v.path.as_str()))
        .collect()
}

fn deployment(replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers: [{{name: app, image: 'nginx:1.27'}}]\n"
    )
}

#[test]
fn the_demo_policy_limits_replicas_with_kubernetes_default_message() {
    let settings = settings("demo-policy", "");
    let verdict = run(&settings, &request_from_yaml(&deployment(7)));
    assert_eq!(
        summary(&verdict),
        [(
            "demo-policy.example.com",
            "failed expression: object.spec.replicas <= 5",
            ""
        )]
    );
    assert!(
        run(&settings, &request_from_yaml(&deployment(5)))
            .violations
            .is_empty()
    );
    // matchConstraints: a Pod is not a deployment.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n";
    assert!(
        run(&settings, &request_from_yaml(pod))
            .violations
            .is_empty()
    );
}

#[test]
fn params_and_message_expressions_and_counsels_additions() {
    let settings = settings(
        "replicalimit-policy",
        "params: {maxReplicas: 3}\nvalidations:\n  - path: spec.replicas\n    fixes: [{set: spec.replicas, value: params.maxReplicas}]\n    hint: Scale with the autoscaler instead.\n",
    );
    let verdict = run(&settings, &request_from_yaml(&deployment(7)));
    assert_eq!(
        summary(&verdict),
        [(
            "replicalimit-policy.example.com",
            "object.spec.replicas must be no greater than 3",
            "/spec/replicas"
        )]
    );
    let v = &verdict.violations[0];
    assert_eq!(v.found, Some(json!(7)));
    assert_eq!(
        v.fixes,
        [Edit::Set {
            path: "/spec/replicas".into(),
            value: json!(3)
        }]
    );
    assert_eq!(
        v.hint.as_deref(),
        Some("Scale with the autoscaler instead.")
    );
}

#[test]
fn match_conditions_exclude_what_they_say() {
    let settings = settings("match-conditions", "");
    let named_demo =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: demo-config, namespace: shop}\n";
    assert_eq!(
        summary(&run(&settings, &request_from_yaml(named_demo))),
        [(
            "demo-policy.example.com",
            "failed expression: !object.metadata.name.contains('demo') || object.metadata.namespace == 'demo'",
            ""
        )]
    );
    // A request by a node is excluded by `exclude-kubelet-requests`.
    let mut by_node = request_from_yaml(named_demo).raw().clone();
    by_node["userInfo"]["groups"] = json!(["system:nodes", "system:authenticated"]);
    let by_node = Request::from_value(by_node).expect("request");
    assert!(run(&settings, &by_node).violations.is_empty());
}

#[test]
fn variables_are_evaluated_in_order_and_seen_by_validations() {
    let settings = settings("variables", "");
    let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n        - {name: a, image: 'example.com/app:1'}\n        - {name: b, image: 'prod.example.com/app:1'}\n";
    assert_eq!(
        summary(&run(&settings, &request_from_yaml(manifest))),
        [(
            "image-matches-environment.policy.example.com",
            "only prod images are allowed",
            ""
        )]
    );
}

#[test]
fn an_update_sees_the_old_object() {
    let settings = settings("immutable-label", "");
    let old = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {owner: a}}\n");
    let new = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {owner: b}}\n");
    let verdict = run(&settings, &request("UPDATE", Some(new), Some(old.clone())));
    assert_eq!(
        summary(&verdict),
        [(
            "immutable-owner.example.com",
            "the owner label cannot change",
            ""
        )]
    );
    assert!(
        run(&settings, &request("UPDATE", Some(old.clone()), Some(old)))
            .violations
            .is_empty()
    );
}

#[test]
fn broken_policies_are_refused_at_load_with_the_setting_named() {
    let vap = std::fs::read_to_string("tests/fixtures/vap/demo-policy.yaml").expect("fixture");
    let broken = vap.replace("object.spec.replicas <= 5", "object.spec.replicas <=");
    let settings = json!({"validatingAdmissionPolicies": [{"policy": yaml(&broken)}]}).to_string();
    assert_eq!(
        guest::validate_settings::<Cel>(&settings).unwrap_err(),
        "setting `validatingAdmissionPolicies[0].policy.spec.validations[0].expression`: ValidatingAdmissionPolicy \"demo-policy.example.com\", validation 1: column 24: Syntax error: mismatched input '<EOF>' expecting expression"
    );
    let authorizer = vap.replace(
        "object.spec.replicas <= 5",
        "authorizer.requestResource.check('x').allowed()",
    );
    let settings =
        json!({"validatingAdmissionPolicies": [{"policy": yaml(&authorizer)}]}).to_string();
    assert_eq!(
        guest::validate_settings::<Cel>(&settings).unwrap_err(),
        "setting `validatingAdmissionPolicies[0].policy.spec.validations[0].expression`: ValidatingAdmissionPolicy \"demo-policy.example.com\", validation 1: column 1: undeclared reference to `authorizer` (declared here: object, oldObject, request, params, variables, namespaceObject)"
    );
}
