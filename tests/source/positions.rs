//! Exact positions of keys and values.

use counsel::source::Style;

use super::{at, node, single};

pub const DEPLOYMENT: &str = "# A Deployment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, \"tier\": 'front'}
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx:1.25
        securityContext:
          privileged: true
        args: [serve, \"--port=8080\"]
      - name: sidecar
        command:
          - sh
          - -c
        env:
";

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn block_mapping_keys_and_values() {
    let doc = single(DEPLOYMENT);
    let t = DEPLOYMENT;
    assert_eq!(
        node(&doc, t, "/apiVersion"),
        (some("2:1-2:11"), "2:13-2:20".into(), "apps/v1".into())
    );
    assert_eq!(
        node(&doc, t, "/kind"),
        (some("3:1-3:5"), "3:7-3:17".into(), "Deployment".into())
    );
    let root = doc.node("").unwrap();
    assert_eq!(
        (root.key, at(root.value), root.style, root.indent),
        (None, "2:1-20:13".into(), Style::BlockMapping, Some(0))
    );
    assert_eq!(at(doc.span), "2:1-20:13");
    let metadata = doc.node("/metadata").unwrap();
    assert_eq!(
        (at(metadata.value), metadata.style, metadata.indent),
        ("5:3-6:38".into(), Style::BlockMapping, Some(2))
    );
    assert_eq!(
        doc.node("/metadata/name").unwrap().value.start.offset,
        t.find("web").unwrap()
    );
}

#[test]
fn flow_mapping_inside_block_with_quoted_keys() {
    let doc = single(DEPLOYMENT);
    let t = DEPLOYMENT;
    let labels = "{app: web, \"tier\": 'front'}";
    assert_eq!(
        node(&doc, t, "/metadata/labels"),
        (some("6:3-6:9"), "6:11-6:38".into(), labels.into())
    );
    let node_labels = doc.node("/metadata/labels").unwrap();
    assert_eq!(
        (node_labels.style, node_labels.indent),
        (Style::FlowMapping, None)
    );
    assert_eq!(
        node(&doc, t, "/metadata/labels/app"),
        (some("6:12-6:15"), "6:17-6:20".into(), "web".into())
    );
    assert_eq!(
        node(&doc, t, "/metadata/labels/tier"),
        (some("6:22-6:28"), "6:30-6:37".into(), "'front'".into())
    );
    assert_eq!(
        doc.node("/metadata/labels/tier")
            .unwrap()
            .key
            .unwrap()
            .slice(t),
        "\"tier\""
    );
    assert_eq!(
        doc.node("/metadata/labels/tier").unwrap().style,
        Style::SingleQuoted
    );
}

#[test]
fn sequence_items_start_after_their_dash() {
    let doc = single(DEPLOYMENT);
    let t = DEPLOYMENT;
    let containers = "/spec/template/spec/containers";
    let list = doc.node(containers).unwrap();
    assert_eq!(
        (at(list.key.unwrap()), at(list.value)),
        ("10:7-10:17".into(), "11:7-20:13".into())
    );
    assert_eq!(
        (list.style, list.indent, list.dash),
        (Style::BlockSequence, Some(6), None)
    );
    let first = doc.node(&format!("{containers}/0")).unwrap();
    assert_eq!(
        (first.key, at(first.dash.unwrap()), at(first.value)),
        (None, "11:7-11:8".into(), "11:9-15:37".into())
    );
    assert_eq!((first.style, first.indent), (Style::BlockMapping, Some(8)));
    assert!(first.value.slice(t).starts_with("name: app\n        image"));
    let c0 = |p: &str| node(&doc, t, &format!("{containers}/0{p}"));
    assert_eq!(
        c0("/name"),
        (some("11:9-11:13"), "11:15-11:18".into(), "app".into())
    );
    assert_eq!(
        c0("/image"),
        (
            some("12:9-12:14"),
            "12:16-12:26".into(),
            "nginx:1.25".into()
        )
    );
    assert_eq!(
        c0("/securityContext"),
        (
            some("13:9-13:24"),
            "14:11-14:27".into(),
            "privileged: true".into()
        )
    );
    assert_eq!(
        c0("/securityContext/privileged"),
        (some("14:11-14:21"), "14:23-14:27".into(), "true".into())
    );
    assert_eq!(
        doc.node(&format!("{containers}/0/securityContext"))
            .unwrap()
            .indent,
        Some(10)
    );
    assert_eq!(
        c0("/args"),
        (
            some("15:9-15:13"),
            "15:15-15:37".into(),
            "[serve, \"--port=8080\"]".into()
        )
    );
    assert_eq!(
        doc.node(&format!("{containers}/0/args")).unwrap().style,
        Style::FlowSequence
    );
    assert_eq!(
        c0("/args/1"),
        (None, "15:23-15:36".into(), "\"--port=8080\"".into())
    );
    assert_eq!(
        doc.node(&format!("{containers}/0/args/1")).unwrap().dash,
        None
    );

    let second = doc.node(&format!("{containers}/1")).unwrap();
    assert_eq!(
        (at(second.dash.unwrap()), at(second.value)),
        ("16:7-16:8".into(), "16:9-20:13".into())
    );
    let command = doc.node(&format!("{containers}/1/command")).unwrap();
    assert_eq!(
        (at(command.value), command.indent),
        ("18:11-19:15".into(), Some(10))
    );
    let sh = doc.node(&format!("{containers}/1/command/0")).unwrap();
    assert_eq!(
        (at(sh.dash.unwrap()), at(sh.value)),
        ("18:11-18:12".into(), "18:13-18:15".into())
    );
    assert_eq!(
        node(&doc, t, &format!("{containers}/1/command/1")),
        (None, "19:13-19:15".into(), "-c".into())
    );
    // `env:` with nothing after it: null, an empty span right after the colon.
    let env = doc.node(&format!("{containers}/1/env")).unwrap();
    assert_eq!(
        (at(env.key.unwrap()), at(env.value), env.style),
        ("20:9-20:12".into(), "20:13-20:13".into(), Style::Plain)
    );
    assert_eq!(
        doc.value["spec"]["template"]["spec"]["containers"][1]["env"],
        serde_json::Value::Null
    );
}

#[test]
fn nested_sequences() {
    let t = "matrix:\n- - a\n  - b\n- [c]\n";
    let doc = single(t);
    let matrix = doc.node("/matrix").unwrap();
    assert_eq!(
        (at(matrix.value), matrix.indent),
        ("2:1-4:6".into(), Some(0))
    );
    let inner = doc.node("/matrix/0").unwrap();
    assert_eq!(
        (at(inner.dash.unwrap()), at(inner.value), inner.indent),
        ("2:1-2:2".into(), "2:3-3:6".into(), Some(2))
    );
    assert_eq!(
        at(doc.node("/matrix/0/0").unwrap().dash.unwrap()),
        "2:3-2:4"
    );
    assert_eq!(
        node(&doc, t, "/matrix/0/1"),
        (None, "3:5-3:6".into(), "b".into())
    );
    let flow = doc.node("/matrix/1").unwrap();
    assert_eq!(
        (at(flow.dash.unwrap()), at(flow.value), flow.style),
        ("4:1-4:2".into(), "4:3-4:6".into(), Style::FlowSequence)
    );
    // A lone `key: value` inside a flow sequence is a flow mapping of one pair.
    let doc = single("[a, b: c]");
    assert_eq!(
        (
            at(doc.node("/1").unwrap().value),
            doc.node("/1").unwrap().style
        ),
        ("1:5-1:9".into(), Style::FlowMapping)
    );
    assert_eq!(doc.value, serde_json::json!(["a", {"b": "c"}]));
}

#[test]
fn json_gets_positions_too() {
    let t = "{
  \"apiVersion\": \"v1\",
  \"items\": [
    {\"name\": \"a\", \"n\": 1.5},
    []
  ],
  \"e\": {}
}
";
    let doc = single(t);
    let root = doc.node("").unwrap();
    assert_eq!(
        (at(root.value), root.style, root.indent),
        ("1:1-8:2".into(), Style::FlowMapping, None)
    );
    assert_eq!(
        node(&doc, t, "/apiVersion"),
        (some("2:3-2:15"), "2:17-2:21".into(), "\"v1\"".into())
    );
    assert_eq!(node(&doc, t, "/items").1, "3:12-6:4");
    assert_eq!(node(&doc, t, "/items/0").1, "4:5-4:28");
    assert_eq!(
        node(&doc, t, "/items/0/n"),
        (some("4:19-4:22"), "4:24-4:27".into(), "1.5".into())
    );
    assert_eq!(
        node(&doc, t, "/items/1"),
        (None, "5:5-5:7".into(), "[]".into())
    );
    assert_eq!(
        node(&doc, t, "/e"),
        (some("7:3-7:6"), "7:8-7:10".into(), "{}".into())
    );
}

#[test]
fn nodes_are_listed_in_text_order() {
    let doc = single("a: [1, {b: 2}]\nc: z\n");
    let pointers: Vec<&str> = doc.nodes().map(|(p, _)| p).collect();
    assert_eq!(pointers, ["", "/a", "/a/0", "/a/1", "/a/1/b", "/c"]);
}
