//! Pointers to nodes, and to the nearest written ancestor of what is missing.

use counsel::source::Style;

use super::positions::DEPLOYMENT;
use super::{at, single};

const CONTAINERS: &str = "/spec/template/spec/containers";

#[test]
fn an_existing_field_is_located_exactly_at_its_value() {
    let doc = single(DEPLOYMENT);
    let located = doc.locate(&format!("{CONTAINERS}/0/securityContext/privileged"));
    assert!(located.exact);
    assert_eq!(
        located.pointer,
        format!("{CONTAINERS}/0/securityContext/privileged")
    );
    assert_eq!(at(located.span), "14:23-14:27");
    assert_eq!(located.span.slice(DEPLOYMENT), "true");
    let root = doc.locate("");
    assert!(root.exact);
    assert_eq!(
        (root.pointer.as_str(), at(root.span)),
        ("", "2:1-20:13".into())
    );
}

#[test]
fn a_missing_field_points_at_its_nearest_parent_key() {
    let doc = single(DEPLOYMENT);
    let located = doc.locate(&format!("{CONTAINERS}/0/securityContext/runAsNonRoot"));
    assert!(!located.exact);
    assert_eq!(located.pointer, format!("{CONTAINERS}/0/securityContext"));
    assert_eq!(at(located.span), "13:9-13:24");
    assert_eq!(located.span.slice(DEPLOYMENT), "securityContext");
    assert_eq!(at(located.node.value), "14:11-14:27");

    // Two levels missing under a sequence item: the item has no key, so its value.
    let located = doc.locate(&format!("{CONTAINERS}/1/securityContext/privileged"));
    assert_eq!(
        (located.pointer, located.exact),
        (format!("{CONTAINERS}/1"), false)
    );
    assert_eq!(at(located.span), "16:9-20:13");

    let located = doc.locate(&format!("{CONTAINERS}/5/name"));
    assert_eq!(
        (located.pointer.as_str(), at(located.span)),
        (CONTAINERS, "10:7-10:17".into())
    );
    let located = doc.locate("/status/replicas");
    assert_eq!(
        (located.pointer.as_str(), located.exact, at(located.span)),
        ("", false, "2:1-20:13".into())
    );
    // Not a pointer at all, or not a canonical index: the document, or the list.
    assert_eq!(doc.locate("spec").pointer, "");
    assert_eq!(doc.locate(&format!("{CONTAINERS}/01")).pointer, CONTAINERS);
}

#[test]
fn pointer_tokens_are_escaped() {
    let t = "metadata:\n  annotations: {\"example.com/x\": \"1\", \"c~d\": \"2\", \"\": \"3\"}\n";
    let doc = single(t);
    assert_eq!(
        doc.node("/metadata/annotations/example.com~1x")
            .unwrap()
            .value
            .slice(t),
        "\"1\""
    );
    assert_eq!(
        doc.node("/metadata/annotations/c~0d")
            .unwrap()
            .value
            .slice(t),
        "\"2\""
    );
    assert_eq!(
        doc.node("/metadata/annotations/").unwrap().value.slice(t),
        "\"3\""
    );
    assert!(doc.node("/metadata/annotations/example.com/x").is_none());
    assert_eq!(counsel::source::escape_pointer_token("a/b~c"), "a~1b~0c");
}

#[test]
fn copies_from_aliases_and_merges_point_at_what_was_written() {
    let t = "base: &base
  image: nginx
  ports: [80]
app:
  <<: *base
  name: app
copy: *base
";
    let doc = single(t);
    let expected = serde_json::json!({"image": "nginx", "ports": [80], "name": "app"});
    assert_eq!(doc.value["app"], expected);
    assert_eq!(doc.value["copy"], doc.value["base"]);

    let base = doc.node("/base").unwrap();
    assert!(base.anchored);
    assert_eq!(base.value.slice(t), "&base\n  image: nginx\n  ports: [80]");
    assert!(doc.node("/app/name").is_some());
    assert!(doc.node("/app/image").is_none());
    assert!(doc.node("/app/<<").is_none());
    let located = doc.locate("/app/image");
    assert_eq!(
        (located.pointer.as_str(), located.exact, at(located.span)),
        ("/app", false, "4:1-4:4".into())
    );

    let copy = doc.node("/copy").unwrap();
    assert_eq!(
        (copy.style, at(copy.value), copy.value.slice(t)),
        (Style::Alias, "7:7-7:12".into(), "*base")
    );
    assert!(doc.node("/copy/image").is_none());
    let located = doc.locate("/copy/ports/0");
    assert_eq!(
        (located.pointer.as_str(), at(located.span)),
        ("/copy", "7:1-7:5".into())
    );
}
