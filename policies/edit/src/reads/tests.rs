use serde_json::json;

use super::Reads;

fn object(reads: &Reads, object: serde_json::Value) -> serde_json::Value {
    let request = json!({"uid": "u", "operation": "CREATE", "kind": {"kind": "Pod"},
        "userInfo": {"username": "dev"}, "object": object.clone(), "oldObject": object});
    let read = reads
        .read_members(&request.to_string(), &["object", "oldObject"])
        .expect("reads");
    assert_eq!(read["object"], read["oldObject"], "both objects read alike");
    assert_eq!(
        read["userInfo"],
        json!({"username": "dev"}),
        "the envelope is whole"
    );
    read["object"].clone()
}

#[test]
fn only_what_the_patterns_reach_is_kept() {
    let reads = Reads::only(["kind", "spec/containers/*/securityContext", "spec/hostPID"]);
    let pod = json!({
        "kind": "Pod",
        "metadata": {"name": "p", "annotations": {"a": "b"}},
        "spec": {
            "hostPID": true,
            "affinity": {"nodeAffinity": {}},
            "containers": [
                {"name": "app", "env": [{"name": "A", "value": "1"}],
                 "securityContext": {"privileged": true, "capabilities": {"add": ["ALL"]}}},
                {"name": "sidecar"},
            ],
        },
    });
    assert_eq!(
        object(&reads, pod),
        json!({
            "kind": "Pod",
            "spec": {
                "hostPID": true,
                "containers": [
                    {"securityContext": {"privileged": true, "capabilities": {"add": ["ALL"]}}},
                    {},
                ],
            },
        })
    );
}

#[test]
fn everything_and_the_empty_pattern_keep_the_whole_object() {
    let pod = json!({"kind": "Pod", "spec": {"containers": [{"name": "app", "env": []}]}});
    assert!(Reads::everything().is_everything());
    assert!(Reads::only(["kind", ""]).is_everything());
    assert!(!Reads::only(["kind"]).is_everything());
    assert_eq!(object(&Reads::everything(), pod.clone()), pod);
}

#[test]
fn values_of_an_unexpected_type_are_kept_as_they_are() {
    let reads = Reads::only(["spec/containers/*/securityContext/privileged"]);
    let pod = json!({"spec": {"containers": "not a list", "other": 1}});
    assert_eq!(
        object(&reads, pod),
        json!({"spec": {"containers": "not a list"}})
    );
    let pod = json!({"spec": {"containers": [7, null, {"securityContext": "x"}]}});
    assert_eq!(object(&reads, pod.clone()), pod);
    let pod = json!({"spec": 1.5});
    assert_eq!(object(&reads, pod.clone()), pod);
}

#[test]
fn arrays_keep_every_element_so_pointers_stay_true() {
    let reads = Reads::only(["spec/volumes/*/name"]);
    let pod =
        json!({"spec": {"volumes": [{"name": "a", "emptyDir": {}}, {"hostPath": {"path": "/"}}]}});
    assert_eq!(
        object(&reads, pod),
        json!({"spec": {"volumes": [{"name": "a"}, {}]}})
    );
    // An array reached where no `*` goes is kept whole.
    let reads = Reads::only(["spec/volumes/first"]);
    let pod = json!({"spec": {"volumes": [{"name": "a", "emptyDir": {}}]}});
    assert_eq!(object(&reads, pod.clone()), pod);
}

#[test]
fn a_wildcard_also_applies_to_members_named_beside_it() {
    let reads = Reads::only(["metadata/*/team", "metadata/labels/app"]);
    let object = json!({"metadata": {
        "labels": {"app": "web", "team": "shop", "tier": "1"},
        "annotations": {"team": "shop", "note": "x"},
    }});
    assert_eq!(
        self::object(&reads, object),
        json!({"metadata": {
            "labels": {"app": "web", "team": "shop"},
            "annotations": {"team": "shop"},
        }})
    );
}

#[test]
fn escaped_names_and_all_scalar_types_read_as_written() {
    let reads = Reads::only(["metadata/annotations/a\u{e9}\"b", "n"]);
    let text = r#"{"operation": "CREATE", "kind": {"kind": "Pod"}, "object": {
        "n": [true, -1, 18446744073709551615, 1.5, "s", null],
        "metadata": {"annotations": {"a\u00e9\"b": "v", "skipped\n": "w"}}}}"#;
    let read = reads.read_members(text, &["object"]).expect("reads");
    assert_eq!(
        read["object"],
        json!({
            "n": [true, -1, 18446744073709551615u64, 1.5, "s", null],
            "metadata": {"annotations": {"a\u{e9}\"b": "v"}},
        })
    );
}

#[test]
fn bad_json_is_an_error_even_in_skipped_parts() {
    let reads = Reads::only(["kind"]);
    let text = r#"{"operation": "CREATE", "object": {"kind": "Pod", "spec": {"x": [1, }}}"#;
    assert!(reads.read_members(text, &["object"]).is_err());
    let text = r#"{"operation": "CREATE", "object": {"kind": "Pod"}} trailing"#;
    assert!(reads.read_members(text, &["object"]).is_err());
}

#[test]
fn owned_tokens_read_like_static_ones() {
    let mut reads = Reads::nothing();
    let pointer = String::from("/spec/containers/0/image");
    reads.add(pointer.split('/').map(|token| {
        let token = if token == "0" { "*" } else { token };
        token.to_owned()
    }));
    let reads = reads.finish();
    let pod = json!({"spec": {"containers": [{"name": "a", "image": "x"}]}});
    assert_eq!(
        object(&reads, pod),
        json!({"spec": {"containers": [{"image": "x"}]}})
    );
}

#[test]
fn a_reached_path_keeps_only_the_way_there() {
    let mut reads = Reads::nothing();
    reads.reach(["spec", "containers", "*", "securityContext"]);
    reads.reach(["metadata"]);
    reads.reach(Vec::<&str>::new());
    let reads = reads.finish();
    assert!(!reads.is_everything(), "reaching nothing adds nothing");
    let pod = json!({
        "metadata": {"name": "p"},
        "spec": {"hostPID": true, "containers": [
            {"name": "a", "securityContext": {"privileged": true}},
            {"name": "b", "securityContext": {"capabilities": {"add": ["X"]}}, "args": ["x"]},
        ]},
    });
    assert_eq!(
        object(&reads, pod),
        json!({
            "metadata": {},
            "spec": {"containers": [{"securityContext": {}}, {"securityContext": {}}]},
        })
    );
}

#[test]
fn one_member_is_read_and_the_rest_of_the_document_skipped() {
    let text = r#"{"uid": "u", "object": {"kind": "Pod", "spec": {"x": 1}}, "oldObject": {"kind": "Pod"}}"#;
    let reads = Reads::only(["kind"]);
    assert_eq!(
        reads.read_member(text, "object").expect("reads"),
        Some(json!({"kind": "Pod"}))
    );
    assert_eq!(
        Reads::everything()
            .read_member(text, "object")
            .expect("reads"),
        Some(json!({"kind": "Pod", "spec": {"x": 1}}))
    );
    assert_eq!(reads.read_member(text, "options").expect("reads"), None);
    assert!(
        reads
            .read_member(r#"{"object": {"kind": "Pod"}} x"#, "object")
            .is_err()
    );
}
