//! Block scalars, line endings, byte order marks, empty values and streams
//! of several documents.

use counsel::source::{Style, parse};

use super::{at, node, single};

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn block_scalars_span_from_header_to_last_line() {
    let t = "script: |
  echo hi
  echo there
folded: >-   # a comment
  one
  two

keep: |+
  kept

# trailing comment
anchored: &text |
  body
after: x
";
    let doc = single(t);
    assert_eq!(
        node(&doc, t, "/script"),
        (
            some("1:1-1:7"),
            "1:9-3:13".into(),
            "|\n  echo hi\n  echo there".into()
        )
    );
    assert_eq!(doc.node("/script").unwrap().style, Style::Literal);
    assert_eq!(
        node(&doc, t, "/folded"),
        (
            some("4:1-4:7"),
            "4:9-6:6".into(),
            ">-   # a comment\n  one\n  two".into()
        )
    );
    assert_eq!(doc.node("/folded").unwrap().style, Style::Folded);
    assert_eq!(node(&doc, t, "/keep").1, "8:7-9:7");
    assert_eq!(
        node(&doc, t, "/anchored"),
        (
            some("12:1-12:9"),
            "12:11-13:7".into(),
            "&text |\n  body".into()
        )
    );
    assert!(doc.node("/anchored").unwrap().anchored);
    assert_eq!(node(&doc, t, "/after").1, "14:8-14:9");
    let expected = serde_json::json!({
        "script": "echo hi\necho there\n",
        "folded": "one two",
        "keep": "kept\n\n",
        "anchored": "body\n",
        "after": "x",
    });
    assert_eq!(doc.value, expected);
    // Multi-line plain and quoted scalars.
    let t = "a: one\n  two\nb: \"x\n  y\"\nc: 1\n";
    let doc = single(t);
    assert_eq!(node(&doc, t, "/a").1, "1:4-2:6");
    assert_eq!(node(&doc, t, "/b").1, "3:4-4:5");
    assert_eq!(
        doc.value,
        serde_json::json!({"a": "one two", "b": "x y", "c": 1})
    );
}

#[test]
fn crlf_line_endings() {
    let t =
        "apiVersion: v1\r\nkind: ConfigMap\r\ndata:\r\n  a: |\r\n    x\r\n    y\r\n  b: \"q\"\r\n";
    let doc = single(t);
    let kind = doc.node("/kind").unwrap();
    assert_eq!(
        (
            at(kind.value),
            kind.value.start.offset,
            kind.value.end.offset
        ),
        ("2:7-2:16".into(), 22, 31)
    );
    assert_eq!(
        node(&doc, t, "/data/a"),
        (
            some("4:3-4:4"),
            "4:6-6:6".into(),
            "|\r\n    x\r\n    y".into()
        )
    );
    assert_eq!(
        node(&doc, t, "/data/b"),
        (some("7:3-7:4"), "7:6-7:9".into(), "\"q\"".into())
    );
    let expected = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "x\ny\n", "b": "q"}});
    assert_eq!(doc.value, expected);
}

#[test]
fn documents_after_separators_keep_their_index() {
    let t = "# leading comment
---
apiVersion: v1
kind: Service
---
# only a comment
---
- a
- b
...
---
kind: Last
";
    let docs = parse(t).unwrap();
    let summary: Vec<(usize, String)> = docs.iter().map(|d| (d.index, at(d.span))).collect();
    assert_eq!(
        summary,
        [
            (0, "3:1-4:14".into()),
            (2, "8:1-9:4".into()),
            (3, "12:1-12:11".into())
        ]
    );
    assert_eq!(
        docs[0].value,
        serde_json::json!({"apiVersion": "v1", "kind": "Service"})
    );
    assert_eq!(docs[1].value, serde_json::json!(["a", "b"]));
    assert_eq!(at(docs[1].node("/0").unwrap().value), "8:3-8:4");
    assert_eq!(at(docs[2].node("/kind").unwrap().value), "12:7-12:11");
    assert!(parse("# nothing here\n").unwrap().is_empty());
    assert!(parse("").unwrap().is_empty());
    assert!(parse("---\n---\n").unwrap().is_empty());
    // An explicit null is content, not an empty document.
    let docs = parse("a: 1\n--- ~\n").unwrap();
    assert_eq!(
        (docs.len(), docs[1].index, &docs[1].value),
        (2, 1, &serde_json::Value::Null)
    );
}

#[test]
fn columns_count_characters_after_a_byte_order_mark() {
    let t = "\u{feff}name: é\nlabels: {ünï: cödé, b: 1}\n";
    let doc = single(t);
    let name = doc.node("/name").unwrap();
    assert_eq!(
        (at(name.key.unwrap()), name.key.unwrap().start.offset),
        ("1:1-1:5".into(), 3)
    );
    assert_eq!(
        (
            at(name.value),
            name.value.start.offset,
            name.value.end.offset
        ),
        ("1:7-1:8".into(), 9, 11)
    );
    assert_eq!(
        node(&doc, t, "/labels/ünï"),
        (some("2:10-2:13"), "2:15-2:19".into(), "cödé".into())
    );
    assert_eq!(
        node(&doc, t, "/labels/b"),
        (some("2:21-2:22"), "2:24-2:25".into(), "1".into())
    );
}

#[test]
fn empty_values_sit_right_after_their_indicator() {
    let t = "a:\nb: # comment\nlist:\n-\n- \n- x\nflow: {k: , j}\n";
    let doc = single(t);
    assert_eq!(
        node(&doc, t, "/a"),
        (some("1:1-1:2"), "1:3-1:3".into(), String::new())
    );
    assert_eq!(node(&doc, t, "/b").1, "2:3-2:3");
    let first = doc.node("/list/0").unwrap();
    assert_eq!(
        (at(first.dash.unwrap()), at(first.value)),
        ("4:1-4:2".into(), "4:2-4:2".into())
    );
    assert_eq!(node(&doc, t, "/list/1").1, "5:2-5:2");
    assert_eq!(node(&doc, t, "/list/2").1, "6:3-6:4");
    assert_eq!(node(&doc, t, "/flow/k").1, "7:10-7:10");
    let expected = serde_json::json!({"a": null, "b": null, "list": [null, null, "x"], "flow": {"k": null, "j": null}});
    assert_eq!(doc.value, expected);
}

#[test]
fn spans_stop_before_trailing_blanks_and_comments() {
    let t = "b: 'it''s'   # note\nc: \"q\\\"\" # d\nd: [a]   # e\nf: {a: 1}  # g\n\"k\" : v\nh: [ 'p' ,  \"q\"  ]\n";
    let doc = single(t);
    assert_eq!(
        node(&doc, t, "/b"),
        (some("1:1-1:2"), "1:4-1:11".into(), "'it''s'".into())
    );
    assert_eq!(node(&doc, t, "/c").2, "\"q\\\"\"");
    assert_eq!(
        node(&doc, t, "/d"),
        (some("3:1-3:2"), "3:4-3:7".into(), "[a]".into())
    );
    assert_eq!(node(&doc, t, "/f").2, "{a: 1}");
    assert_eq!(
        node(&doc, t, "/k"),
        (some("5:1-5:4"), "5:7-5:8".into(), "v".into())
    );
    assert_eq!(node(&doc, t, "/h/0").2, "'p'");
    assert_eq!(node(&doc, t, "/h/1").2, "\"q\"");
    assert_eq!(node(&doc, t, "").1, "1:1-6:19");
}

#[test]
fn explicit_keys_indent_at_their_question_mark() {
    let t = "? complex\n: value\nplain: x\n";
    let doc = single(t);
    let root = doc.node("").unwrap();
    assert_eq!((root.indent, at(root.value)), (Some(0), "1:1-3:9".into()));
    assert_eq!(
        node(&doc, t, "/complex"),
        (some("1:3-1:10"), "2:3-2:8".into(), "value".into())
    );
}

#[test]
fn block_sequence_items_of_every_kind_have_their_dash() {
    let t = "list:\n- |\n  text\n- >-\n  folded\n- &a !!str |\n  tagged\n- # comment\n  name: x\n- - nested\n";
    let doc = single(t);
    let items: Vec<(String, String)> = (0..5)
        .map(|i| {
            let n = doc.node(&format!("/list/{i}")).unwrap();
            (at(n.dash.unwrap()), n.value.slice(t).to_owned())
        })
        .collect();
    let expected = [
        ("2:1-2:2", "|\n  text"),
        ("4:1-4:2", ">-\n  folded"),
        ("6:1-6:2", "&a !!str |\n  tagged"),
        ("8:1-8:2", "name: x"),
        ("10:1-10:2", "- nested"),
    ];
    assert_eq!(items, expected.map(|(d, v)| (d.to_owned(), v.to_owned())));
    assert_eq!(doc.node("/list/3").unwrap().indent, Some(2));
    let value =
        serde_json::json!({"list": ["text\n", "folded", "tagged\n", {"name": "x"}, ["nested"]]});
    assert_eq!(doc.value, value);
    // A properties-only line before a block sequence belongs to it.
    let t = "a: &anc\n  - x\nb: !!seq\n- z\n";
    let doc = single(t);
    assert_eq!(
        node(&doc, t, "/a"),
        (some("1:1-1:2"), "1:4-2:6".into(), "&anc\n  - x".into())
    );
    assert_eq!(doc.node("/a").unwrap().indent, Some(2));
    assert_eq!(node(&doc, t, "/b").1, "3:4-4:4");
    assert_eq!(doc.node("/b").unwrap().indent, Some(0));
}
