use super::*;
use serde_json::json;

fn update_request() -> Value {
    json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "subResource": "scale",
        "requestKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "name": "web",
        "namespace": "shop",
        "operation": "UPDATE",
        "userInfo": {
            "username": "admin",
            "uid": "014fbff9a07c",
            "groups": ["system:authenticated", "my-admin-group"]
        },
        "object": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}},
        "oldObject": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "generation": 1}},
        "dryRun": true,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "UpdateOptions"}
    })
}

#[test]
fn every_view_of_a_full_request() {
    let raw = update_request();
    let request = Request::from_json(&raw.to_string()).unwrap();
    assert_eq!(request.operation(), Operation::Update);
    assert_eq!(request.operation().as_str(), "UPDATE");
    assert_eq!(request.kind(), "Deployment");
    assert_eq!(request.api_version(), "apps/v1");
    assert_eq!(request.name(), Some("web"));
    assert_eq!(request.namespace(), Some("shop"));
    assert_eq!(request.user(), Some("admin"));
    assert_eq!(request.groups(), ["system:authenticated", "my-admin-group"]);
    assert_eq!(request.object(), raw.get("object"));
    assert_eq!(request.old_object(), raw.get("oldObject"));
    assert!(request.dry_run());
    assert_eq!(request.sub_resource(), Some("scale"));
    assert_eq!(request.raw(), &raw);
}

#[test]
fn a_minimal_create_of_a_core_kind() {
    let request = Request::from_value(json!({
        "operation": "CREATE",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "name": "",
        "object": {"kind": "Pod", "metadata": {"generateName": "web-", "namespace": "shop"}}
    }))
    .unwrap();
    assert_eq!(request.operation(), Operation::Create);
    assert_eq!(request.api_version(), "v1");
    // generateName only: no name yet; the namespace comes from the object.
    assert_eq!(request.name(), None);
    assert_eq!(request.namespace(), Some("shop"));
    assert_eq!(request.user(), None);
    assert!(request.groups().is_empty());
    assert_eq!(request.old_object(), None);
    assert!(!request.dry_run());
    assert_eq!(request.sub_resource(), None);
}

#[test]
fn delete_has_no_object_and_names_from_the_old_one() {
    let request = Request::from_value(json!({
        "operation": "DELETE",
        "kind": {"group": "batch", "version": "v1", "kind": "Job"},
        "object": null,
        "oldObject": {"kind": "Job", "metadata": {"name": "nightly", "namespace": "ops"}}
    }))
    .unwrap();
    assert_eq!(request.operation(), Operation::Delete);
    assert_eq!(request.object(), None);
    assert_eq!(request.name(), Some("nightly"));
    assert_eq!(request.namespace(), Some("ops"));
}

#[test]
fn connect_is_an_operation_too() {
    let request = Request::from_value(json!({
        "operation": "CONNECT",
        "kind": {"group": "", "version": "v1", "kind": "PodExecOptions"}
    }))
    .unwrap();
    assert_eq!(request.operation(), Operation::Connect);
}

#[test]
fn mistyped_optional_fields_read_as_absent() {
    let request = Request::from_value(json!({
        "operation": "CREATE",
        "kind": {"group": 7, "version": "v1", "kind": "Pod"},
        "name": 3,
        "userInfo": {"username": ["x"], "groups": ["a", 1, null, "b"]},
        "dryRun": "yes",
        "subResource": false
    }))
    .unwrap();
    assert_eq!(request.api_version(), "v1");
    assert_eq!(request.name(), None);
    assert_eq!(request.user(), None);
    assert_eq!(request.groups(), ["a", "b"]);
    assert!(!request.dry_run());
    assert_eq!(request.sub_resource(), None);
}

#[test]
fn unreadable_requests_are_errors_naming_the_problem() {
    let err = |json: &str| Request::from_json(json).unwrap_err().to_string();
    assert!(
        err("{").starts_with("the admission request is not valid JSON: EOF while parsing"),
        "{}",
        err("{")
    );
    assert_eq!(
        err("[1]"),
        "the admission request must be a JSON object, found an array"
    );
    assert_eq!(
        err(r#"{"kind": {"kind": "Pod"}}"#),
        "the admission request's `operation` must be a string"
    );
    assert_eq!(
        err(r#"{"operation": "PATCH", "kind": {"kind": "Pod"}}"#),
        "the admission request's `operation` is `PATCH`; expected CREATE, UPDATE, DELETE or CONNECT"
    );
    assert_eq!(
        err(r#"{"operation": "CREATE", "kind": "Pod"}"#),
        "the admission request's `kind.kind` must be a string"
    );
}
