use super::*;
use serde_json::json;

fn applied(mut object: Value, edits: &[Edit]) -> Result<Value, EditError> {
    apply(&mut object, edits)?;
    Ok(object)
}

#[test]
fn set_creates_missing_parent_objects() {
    let out = applied(
        json!({"spec": {"containers": [{"name": "app"}]}}),
        &[Edit::set(
            "/spec/containers/0/securityContext/capabilities/drop",
            json!(["ALL"]),
        )],
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"spec": {"containers": [{"name": "app",
            "securityContext": {"capabilities": {"drop": ["ALL"]}}}]}})
    );
}

#[test]
fn set_treats_null_parents_as_missing() {
    // `securityContext:` with no value parses as null.
    let out = applied(
        json!({"securityContext": null}),
        &[Edit::set("/securityContext/runAsNonRoot", json!(true))],
    )
    .unwrap();
    assert_eq!(out, json!({"securityContext": {"runAsNonRoot": true}}));
}

#[test]
fn set_creates_objects_even_for_numeric_tokens() {
    let out = applied(json!({}), &[Edit::set("/a/0", json!(1))]).unwrap();
    assert_eq!(out, json!({"a": {"0": 1}}));
}

#[test]
fn set_replaces_existing_values_and_the_root() {
    let out = applied(
        json!({"a": {"b": 1}, "list": [1, 2]}),
        &[
            Edit::set("/a/b", json!(2)),
            Edit::set("/list/1", json!("x")),
        ],
    )
    .unwrap();
    assert_eq!(out, json!({"a": {"b": 2}, "list": [1, "x"]}));
    assert_eq!(
        applied(json!({"a": 1}), &[Edit::set("", json!([]))]).unwrap(),
        json!([])
    );
}

#[test]
fn set_appends_with_dash_or_length() {
    let out = applied(
        json!({"args": ["a"]}),
        &[
            Edit::set("/args/-", json!("b")),
            Edit::set("/args/2", json!("c")),
            Edit::set("/args/-/name", json!("d")),
        ],
    )
    .unwrap();
    assert_eq!(out, json!({"args": ["a", "b", "c", {"name": "d"}]}));
}

#[test]
fn set_and_remove_unescape_tokens() {
    let out = applied(
        json!({"metadata": {"annotations": {"a/b": "x", "c~d": "y"}}}),
        &[
            Edit::set("/metadata/annotations/example.com~1owner", json!("ops")),
            Edit::set("/metadata/annotations/~0tilde", json!("t")),
            Edit::remove("/metadata/annotations/a~1b"),
            Edit::remove("/metadata/annotations/c~0d"),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"metadata": {"annotations": {"example.com/owner": "ops", "~tilde": "t"}}})
    );
}

#[test]
fn remove_deletes_members_and_elements() {
    let out = applied(
        json!({"a": {"b": 1, "c": 2}, "list": [0, 1, 2]}),
        &[Edit::remove("/a/b"), Edit::remove("/list/1")],
    )
    .unwrap();
    assert_eq!(out, json!({"a": {"c": 2}, "list": [0, 2]}));
}

#[test]
fn remove_of_absent_values_changes_nothing() {
    let object = json!({"a": {"b": null}, "list": [1]});
    let out = applied(
        object.clone(),
        &[
            Edit::remove("/missing"),
            Edit::remove("/missing/deeper"),
            Edit::remove("/a/b/c"),
            Edit::remove("/list/5"),
            Edit::remove("/list/5/x"),
        ],
    )
    .unwrap();
    assert_eq!(out, object);
}

#[test]
fn running_into_a_scalar_names_the_pointer_and_the_obstacle() {
    let err = applied(
        json!({"spec": {"containers": "app"}}),
        &[Edit::set("/spec/containers/0/name", json!("x"))],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot set `/spec/containers/0/name`: `/spec/containers` is a string, not an object or array"
    );
    let err = applied(json!({"a": 3}), &[Edit::remove("/a/b")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot remove `/a/b`: `/a` is a number, not an object or array"
    );
    let err = applied(json!({"a": true}), &[Edit::set("/a/b", json!(1))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot set `/a/b`: `/a` is a boolean, not an object or array"
    );
}

#[test]
fn bad_array_tokens_are_errors() {
    let err = applied(json!({"l": [1]}), &[Edit::set("/l/3", json!(0))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot set `/l/3`: index 3 is past the end of the array at `/l` (length 1)"
    );
    let err = applied(json!({"l": [1]}), &[Edit::set("/l/first", json!(0))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot set `/l/first`: `first` is not an index into the array at `/l`"
    );
    let err = applied(json!({"l": [1, 2]}), &[Edit::remove("/l/01")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot remove `/l/01`: `01` is not an index into the array at `/l`"
    );
    let err = applied(json!({"l": [1]}), &[Edit::remove("/l/-")]).unwrap_err();
    assert!(matches!(err, EditError::NotAnIndex { token, .. } if token == "-"));
}

#[test]
fn invalid_pointers_and_root_removal_are_errors() {
    let err = applied(json!({}), &[Edit::set("spec", json!(1))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`spec` is not a JSON Pointer: it must be empty or start with `/`"
    );
    let err = applied(json!({}), &[Edit::remove("")]).unwrap_err();
    assert_eq!(err, EditError::RemoveRoot);
}

#[test]
fn edits_before_a_failing_one_stay_applied() {
    let mut object = json!({"a": 1});
    let result = apply(
        &mut object,
        &[Edit::set("/b", json!(2)), Edit::set("/a/x", json!(3))],
    );
    assert!(result.is_err());
    assert_eq!(object, json!({"a": 1, "b": 2}));
}

#[test]
fn edits_serialise_with_an_op_tag() {
    let edits = vec![Edit::set("/a", json!({"b": [1]})), Edit::remove("/c")];
    let text = serde_json::to_string(&edits).unwrap();
    assert_eq!(
        text,
        r#"[{"op":"set","path":"/a","value":{"b":[1]}},{"op":"remove","path":"/c"}]"#
    );
    let back: Vec<Edit> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, edits);
    assert_eq!(back[0].path(), "/a");
    assert_eq!(back[1].path(), "/c");
}
