//! The editor on small texts: exact results, and refusals with reasons.

use counsel_edit::Edit;
use serde_json::json;

use super::*;
use crate::source;

/// The text after making `edits` in the first document.
fn fixed(text: &str, edits: Vec<Edit>) -> String {
    let documents = source::parse(text).expect("parses");
    let objects = [ObjectFix {
        document: documents[0].index,
        prefix: String::new(),
        edits,
    }];
    let result = fix_text(text, &documents, &objects);
    match &result.outcomes[0] {
        ObjectOutcome::Refused(reason) => panic!("refused: {reason}\n{text}"),
        _ => result.text,
    }
}

/// Why `edits` are refused.
fn refused(text: &str, edits: Vec<Edit>) -> String {
    let documents = source::parse(text).expect("parses");
    let objects = [ObjectFix {
        document: documents[0].index,
        prefix: String::new(),
        edits,
    }];
    let result = fix_text(text, &documents, &objects);
    assert_eq!(result.text, text, "a refused object leaves the text alone");
    match &result.outcomes[0] {
        ObjectOutcome::Refused(reason) => reason.clone(),
        other => panic!("not refused: {other:?}\n{}", result.text),
    }
}

#[test]
fn replaces_a_scalar_in_place() {
    let text = "# top\nspec:\n  privileged: true   # why not\n  other: x\n";
    assert_eq!(
        fixed(text, vec![Edit::set("/spec/privileged", json!(false))]),
        "# top\nspec:\n  privileged: false   # why not\n  other: x\n"
    );
    let text = "a: 'old'\nb: \"old\"\nc: |\n  block\n  text\nd: e\n";
    assert_eq!(
        fixed(
            text,
            vec![
                Edit::set("/a", json!("it's")),
                Edit::set("/b", json!("new")),
                Edit::set("/c", json!("yes")),
            ]
        ),
        "a: 'it''s'\nb: \"new\"\nc: \"yes\"\nd: e\n"
    );
}

#[test]
fn adds_keys_at_the_siblings_indentation_creating_parents() {
    let text = "spec:\n    containers:\n    -   name: app   # main\n        image: x\n# end\n";
    assert_eq!(
        fixed(
            text,
            vec![
                Edit::set(
                    "/spec/containers/0/securityContext/privileged",
                    json!(false)
                ),
                Edit::set(
                    "/spec/containers/0/securityContext/capabilities/drop",
                    json!(["ALL"])
                ),
                Edit::set("/spec/securityContext/runAsNonRoot", json!(true)),
            ]
        ),
        "spec:\n    containers:\n    -   name: app   # main\n        image: x\n        securityContext:\n            privileged: false\n            capabilities:\n                drop:\n                - ALL\n    securityContext:\n        runAsNonRoot: true\n# end\n"
    );
}

#[test]
fn a_null_parent_becomes_a_mapping() {
    let text = "spec:\n  securityContext: # set below\n  x: 1\n";
    assert_eq!(
        fixed(
            text,
            vec![Edit::set("/spec/securityContext/runAsNonRoot", json!(true))]
        ),
        "spec:\n  securityContext: # set below\n    runAsNonRoot: true\n  x: 1\n"
    );
    let text = "spec:\n  securityContext: ~\n";
    assert_eq!(
        fixed(
            text,
            vec![Edit::set("/spec/securityContext/runAsNonRoot", json!(true))]
        ),
        "spec:\n  securityContext:\n    runAsNonRoot: true\n"
    );
}

#[test]
fn flow_collections_get_members_added_and_removed() {
    let text = "sc: {privileged: true, drop: [NET_RAW]}  # inline\nempty: {}\nlist: []\n";
    assert_eq!(
        fixed(
            text,
            vec![
                Edit::set("/sc/privileged", json!(false)),
                Edit::set("/sc/drop/-", json!("ALL")),
                Edit::set("/sc/runAsUser", json!(1000)),
                Edit::set("/empty/a/b", json!("yes")),
                Edit::set("/list/0", json!({"k": 1})),
            ]
        ),
        "sc: {privileged: false, drop: [NET_RAW, ALL], runAsUser: 1000}  # inline\nempty: {a: {b: \"yes\"}}\nlist: [{k: 1}]\n"
    );
    let text = "a: {x: 1, y: 2, z: 3}\nb: [1, 2]\n";
    assert_eq!(
        fixed(
            text,
            vec![
                Edit::remove("/a/x"),
                Edit::remove("/a/z"),
                Edit::remove("/b/1")
            ]
        ),
        "a: {y: 2}\nb: [1]\n"
    );
}

#[test]
fn removes_keys_with_their_whole_value() {
    let text = "spec:\n  hostNetwork: true\n  ports:\n    - hostPort: 80   # bad\n      containerPort: 80\n  volumes:\n    # host\n    - hostPath:\n        path: /\n    - emptyDir: {}\nlast: 1";
    assert_eq!(
        fixed(
            text,
            vec![
                Edit::remove("/spec/hostNetwork"),
                Edit::remove("/spec/ports/0/hostPort"),
                Edit::remove("/spec/volumes/0"),
                Edit::remove("/last"),
            ]
        ),
        "spec:\n  ports:\n    - containerPort: 80\n  volumes:\n    # host\n    - emptyDir: {}"
    );
    // The last member leaves an empty collection, not a null.
    let text = "a:\n  b: 1\nl:\n- x\n";
    assert_eq!(
        fixed(text, vec![Edit::remove("/a/b"), Edit::remove("/l/0")]),
        "a: {}\nl: []\n"
    );
}

#[test]
fn list_items_by_index_and_appended() {
    let text = "drop:\n  - NET_RAW\n  - CHOWN\nitems:\n- a: 1\n";
    assert_eq!(
        fixed(
            text,
            vec![
                Edit::set("/drop/1", json!("ALL")),
                Edit::set("/drop/-", json!("1.0")),
                Edit::set("/items/1", json!({"b": [1], "a": ":"})),
            ]
        ),
        "drop:\n  - NET_RAW\n  - ALL\n  - \"1.0\"\nitems:\n- a: 1\n- a: \":\"\n  b:\n  - 1\n"
    );
}

#[test]
fn crlf_bom_documents_and_lists_keep_their_form() {
    let text = "\u{feff}# one\r\na: 1\r\n---\r\nkind: List\r\nitems:\r\n- kind: Pod\r\n  spec: {}\r\n- kind: Pod\r\n  spec:\r\n    x: 1\r\n";
    let documents = source::parse(text).expect("parses");
    let objects = [
        ObjectFix {
            document: 1,
            prefix: "/items/1".into(),
            edits: vec![
                Edit::set("/spec/hostPID", json!(false)),
                Edit::set("/spec/y/z", json!("*")),
            ],
        },
        ObjectFix {
            document: 1,
            prefix: "/items/0".into(),
            edits: vec![Edit::set("/spec/x", json!(2))],
        },
    ];
    let result = fix_text(text, &documents, &objects);
    assert_eq!(
        result.outcomes,
        [ObjectOutcome::Fixed, ObjectOutcome::Fixed]
    );
    assert_eq!(
        result.text,
        "\u{feff}# one\r\na: 1\r\n---\r\nkind: List\r\nitems:\r\n- kind: Pod\r\n  spec: {x: 2}\r\n- kind: Pod\r\n  spec:\r\n    x: 1\r\n    hostPID: false\r\n    \"y\":\r\n      z: \"*\"\r\n"
    );
}

#[test]
fn json_keeps_order_and_indentation() {
    let text = "{\n    \"kind\": \"Pod\",\n    \"spec\": {\n        \"containers\": [\n            {\"name\": \"a\", \"securityContext\": {}}\n        ],\n        \"hostPID\": true\n    }\n}\n";
    assert_eq!(
        fixed(
            text,
            vec![
                Edit::remove("/spec/hostPID"),
                Edit::set(
                    "/spec/containers/0/securityContext/privileged",
                    json!(false)
                ),
                Edit::set(
                    "/spec/securityContext/seccompProfile/type",
                    json!("RuntimeDefault")
                ),
            ]
        ),
        "{\n    \"kind\": \"Pod\",\n    \"spec\": {\n        \"containers\": [\n            {\"name\": \"a\", \"securityContext\": {\"privileged\": false}}\n        ],\n        \"securityContext\": {\n            \"seccompProfile\": {\n                \"type\": \"RuntimeDefault\"\n            }\n        }\n    }\n}\n"
    );
}

#[test]
fn anchors_aliases_and_merges_are_left_to_a_person() {
    let text = "base: &base\n  privileged: true\nc1:\n  securityContext: *base\nc2:\n  <<: *base\n";
    assert_eq!(
        refused(text, vec![Edit::set("/base/privileged", json!(false))]),
        "`base`, which holds `base.privileged`, is anchored (line 1); changing it would also change every alias of it"
    );
    assert_eq!(
        refused(
            text,
            vec![Edit::set("/c1/securityContext/privileged", json!(false))]
        ),
        "`c1.securityContext.privileged` is not written here: it is copied in by an alias or a `<<` merge, and changing the anchored original would change every copy"
    );
    assert_eq!(
        refused(text, vec![Edit::set("/c1/securityContext/other", json!(1))]),
        "`c1.securityContext` is an alias (*base) of an anchored node; adding to it would change the original and every copy"
    );
    // Replacing an alias itself changes only this place; a merged mapping
    // may get keys of its own, which win over the merged ones.
    assert_eq!(
        fixed(
            text,
            vec![
                Edit::set("/c1/securityContext", json!({"privileged": false})),
                Edit::set("/c2/privileged", json!(false)),
            ]
        ),
        "base: &base\n  privileged: true\nc1:\n  securityContext:\n    privileged: false\nc2:\n  <<: *base\n  privileged: false\n"
    );
}

#[test]
fn edits_that_do_not_apply_are_refused_with_the_reason() {
    let text = "spec: {containers: 3}\n";
    assert_eq!(
        refused(text, vec![Edit::set("/spec/containers/0/name", json!("x"))]),
        "cannot set `/spec/containers/0/name`: `/spec/containers` is a number, not an object or array"
    );
}

#[test]
fn text_that_would_mean_something_else_is_never_written() {
    // A kept block scalar owns the blank lines after it: a key added after
    // its last line would take them away. The safety net notices.
    let text = "a:\n  s: |+\n    text\n\n\nb: 1\n";
    assert_eq!(
        refused(text, vec![Edit::set("/a/t", json!(1))]),
        "the edited text would not mean exactly what the fixes say (a YAML construct the editor does not handle); the fix is left to a person"
    );
}

#[test]
fn each_document_is_fixed_in_its_own_lines_and_refusals_name_the_file_lines() {
    let text =
        "kind: A\nspec: {x: 1}\n---\n# later\nbase: &base\n  privileged: true\n---\nkind: C\n";
    let documents = source::parse(text).expect("parses");
    let objects = [
        ObjectFix {
            document: documents[1].index,
            prefix: String::new(),
            edits: vec![Edit::set("/base/privileged", json!(false))],
        },
        ObjectFix {
            document: documents[2].index,
            prefix: String::new(),
            edits: vec![Edit::set("/spec/y", json!(2))],
        },
        ObjectFix {
            document: documents[0].index,
            prefix: String::new(),
            edits: vec![Edit::set("/spec/x", json!(3))],
        },
    ];
    let result = fix_text(text, &documents, &objects);
    assert_eq!(
        result.outcomes,
        [
            ObjectOutcome::Refused(
                "`base`, which holds `base.privileged`, is anchored (line 5); changing it would also change every alias of it".into()
            ),
            ObjectOutcome::Fixed,
            ObjectOutcome::Fixed,
        ]
    );
    assert_eq!(
        result.text,
        "kind: A\nspec: {x: 3}\n---\n# later\nbase: &base\n  privileged: true\n---\nkind: C\nspec:\n  \"y\": 2\n"
    );
}
