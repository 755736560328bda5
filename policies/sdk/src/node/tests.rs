use super::*;
use crate::{Rule, json, violation};

const RULE: Rule = Rule::new("rule", "A rule", "Why.");

#[test]
fn fields_know_their_pointers_also_when_missing() {
    let object = json!({"spec": {"a/b": [{"x": 1}], "n": null}});
    let spec = Node::root(&object).field("spec");
    assert_eq!(spec.pointer(), "/spec");
    let x = spec.field("a/b").index(0).field("x");
    assert_eq!(
        (x.pointer(), x.value()),
        ("/spec/a~1b/0/x", Some(&json!(1)))
    );
    let missing = spec.field("securityContext").field("privileged");
    assert_eq!(missing.pointer(), "/spec/securityContext/privileged");
    assert!(!missing.is_set());
    assert!(!spec.field("n").is_set());
    let mut out = Findings::default();
    assert_eq!(missing.bool(&mut out), None);
    assert!(out.violations().is_empty());
}

#[test]
fn typed_reads_return_right_types_and_report_wrong_ones_once() {
    let object = json!({"b": true, "s": "x", "i": -3, "f": 1.5, "l": [1, "two", {"k": 3}]});
    let root = Node::root(&object);
    let mut out = Findings::default();
    assert_eq!(root.field("b").bool(&mut out), Some(true));
    assert_eq!(root.field("s").str(&mut out), Some("x"));
    assert_eq!(root.field("i").int(&mut out), Some(-3));
    assert_eq!(root.field("f").int(&mut out), None);
    assert_eq!(root.field("f").int(&mut out), None);
    assert_eq!(root.field("s").bool(&mut out), None);
    let list = root.field("l");
    assert_eq!(list.items(&mut out).len(), 3);
    let objects = list.objects(&mut out);
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].pointer(), "/l/2");
    let strings: Vec<_> = list
        .strings(&mut out)
        .into_iter()
        .map(|(n, s)| (n.pointer().to_owned(), s))
        .collect();
    assert_eq!(strings, [("/l/1".to_owned(), "two")]);
    assert!(root.field("b").object(&mut out).is_none());
    assert!(!root.field("b").as_object(&mut out).field("x").is_set());
    let reported: Vec<_> = out
        .violations()
        .iter()
        .map(|v| (v.rule.as_str(), v.path.as_str()))
        .collect();
    assert_eq!(
        reported,
        [
            ("invalid-field", "/f"),
            ("invalid-field", "/s"),
            ("invalid-field", "/l/0"),
            ("invalid-field", "/l/1"),
            ("invalid-field", "/l/2"),
            ("invalid-field", "/b"),
        ]
    );
    assert_eq!(
        out.violations()[0].message,
        "`/f` must be an integer, but it is a number"
    );
}

#[test]
fn quantities_read_strings_and_numbers_and_report_the_rest() {
    let object =
        json!({"cpu": " 500m ", "memory": 1073741824, "bad": "1x", "list": [], "half": 0.5});
    let root = Node::root(&object);
    let mut out = Findings::default();
    assert_eq!(
        root.field("cpu").quantity(&mut out),
        Some(Quantity::from_millis(500))
    );
    assert_eq!(root.field("memory").quantity(&mut out), "1Gi".parse().ok());
    assert_eq!(
        root.field("half").quantity(&mut out),
        Some(Quantity::from_millis(500))
    );
    assert_eq!(root.field("none").quantity(&mut out), None);
    assert_eq!(root.field("bad").quantity(&mut out), None);
    assert_eq!(root.field("list").quantity(&mut out), None);
    let v = &out.violations()[0];
    assert_eq!(
        (v.rule.as_str(), v.path.as_str()),
        ("invalid-field", "/bad")
    );
    assert_eq!(v.found, Some(json!("1x")));
    assert_eq!(
        v.message,
        "`/bad` must be a quantity, but \"1x\" is not a quantity: it must be a number and an \
         optional suffix (500m, 128Mi, 1.5, 2e3)"
    );
    assert_eq!(
        out.violations()[1].message,
        "`/list` must be a quantity, but it is an array"
    );
}

#[test]
fn labels_and_annotations_read_as_sorted_string_maps() {
    let object = json!({"metadata": {
        "labels": {"b": "2", "a": "1", "n": null, "bad": 3},
        "annotations": "oops",
    }});
    let root = Node::root(&object);
    let mut out = Findings::default();
    let labels = root.labels(&mut out);
    let read: Vec<_> = labels.iter().map(|e| (e.key, e.value)).collect();
    assert_eq!(read, [("a", "1"), ("b", "2"), ("n", "")]);
    assert_eq!(labels.value("b"), Some("2"));
    assert_eq!(
        labels.get("a").map(|e| e.node.pointer()),
        Some("/metadata/labels/a")
    );
    assert_eq!(labels.value("bad"), None);
    assert!(root.annotations(&mut out).is_empty());
    let paths: Vec<_> = out.violations().iter().map(|v| v.path.as_str()).collect();
    assert_eq!(paths, ["/metadata/labels/bad", "/metadata/annotations"]);
}

#[test]
fn violations_at_a_node_carry_what_was_found() {
    let object = json!({"sc": {"privileged": true}});
    let sc = Node::root(&object).field("sc");
    let v = violation(&RULE).at(&sc.field("privileged")).fix_to(false);
    assert_eq!(v.rule, "rule");
    assert_eq!(v.path, "/sc/privileged");
    assert_eq!(v.found, Some(json!(true)));
    assert_eq!(v.fixes, [crate::Edit::set("/sc/privileged", json!(false))]);
    let v = violation(&RULE)
        .found(&json!(1))
        .at(&sc.field("missing"))
        .fix_remove(&sc);
    assert_eq!((v.path.as_str(), v.found), ("/sc/missing", None));
    assert_eq!(v.fixes, [crate::Edit::remove("/sc")]);
    // A plain pointer sets the path only.
    let v = violation("rule").found(&json!(1)).at("/x");
    assert_eq!(v.found, Some(json!(1)));
}
