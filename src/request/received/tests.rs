use serde_json::{Value, json};

use crate::explain::field_path;
use crate::request::{Admission, Operation, Received, Request};

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "0": "zero"},
                     "annotations": {"note": "x"}},
        "spec": {"template": {"spec": {"containers": [
            {"name": "app", "env": [{"name": "A", "value": "1"}],
             "securityContext": {"privileged": true}},
            {"name": "sidecar", "args": ["--x"]},
        ]}}},
    })
}

fn received(operation: &str, object: &Value) -> String {
    let (object_key, old) = match operation {
        "DELETE" => ("oldObject", Value::Null),
        "UPDATE" => ("object", object.clone()),
        _ => ("object", Value::Null),
    };
    let mut request = json!({
        "uid": "u-1",
        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "namespace": "shop",
        "operation": operation,
        "userInfo": {"username": "dev"},
    });
    request[object_key] = object.clone();
    if !old.is_null() {
        request["oldObject"] = old;
    }
    request.to_string()
}

#[test]
fn only_the_identity_of_the_objects_is_read_up_front() {
    let json = received("UPDATE", &deployment());
    let received = Received::read(&json).expect("reads");
    let request = received.request();
    let identity = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "0": "zero"}},
    });
    assert_eq!(request.object, Some(identity.clone()));
    assert_eq!(request.old_object, Some(identity));
    assert_eq!(request.operation, Operation::Update);
    assert_eq!(received.json(), json);
    assert_eq!(
        Admission::from(&received).to_json(),
        json,
        "policies get the JSON as received"
    );
}

#[test]
fn the_whole_request_is_the_plain_parse_of_what_was_received() {
    let json = received("UPDATE", &deployment());
    let received = Received::read(&json).expect("reads");
    let whole = received.whole().expect("reads again");
    let plain: Request = serde_json::from_str(&json).expect("parses");
    assert_eq!(whole, plain);
    // A request read whole is already whole.
    assert!(matches!(
        Admission::from(&whole).whole(),
        Ok(std::borrow::Cow::Borrowed(_))
    ));
}

#[test]
fn fields_are_named_as_on_the_whole_object_along_the_pointers() {
    let object = deployment();
    let pointers = [
        "/spec/template/spec/containers/0/securityContext/privileged",
        "/spec/template/spec/containers/1/securityContext",
        "/spec/template/spec/containers/-",
        "/metadata/labels/0",
        "/metadata/annotations/note",
        "/spec/replicas",
    ];
    for operation in ["CREATE", "UPDATE", "DELETE"] {
        let request = Received::read(&received(operation, &object)).expect("reads");
        let subject = request.subject_reaching(pointers).expect("a subject");
        for pointer in pointers {
            assert_eq!(
                field_path(pointer, Some(&subject)),
                field_path(pointer, Some(&object)),
                "{operation} {pointer}"
            );
        }
        // What no pointer reaches is not read.
        assert_eq!(
            subject["spec"]["template"]["spec"]["containers"][0].get("env"),
            None
        );
        assert_eq!(subject["metadata"]["name"], "web", "the identity is kept");
    }
    assert_eq!(
        field_path("/metadata/labels/0", Some(&object)),
        "metadata.labels.0"
    );
}

#[test]
fn a_request_built_whole_is_its_own_subject() {
    let request = Request::for_manifest(deployment(), Operation::Create, None);
    let subject = Admission::from(&request)
        .subject_reaching(["/spec"])
        .expect("a subject");
    assert!(matches!(subject, std::borrow::Cow::Borrowed(_)));
    assert_eq!(*subject, deployment());
}
