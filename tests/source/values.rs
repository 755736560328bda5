//! Values as Kubernetes reads them, and the errors that name a line.

use counsel::source::parse;
use serde_json::{Value, json};

use super::single;

fn error(text: &str) -> String {
    match parse(text) {
        Ok(docs) => panic!(
            "expected an error, got {:?}",
            docs.iter().map(|d| &d.value).collect::<Vec<_>>()
        ),
        Err(e) => e.to_string(),
    }
}

/// Serialised, so that key order and integer-vs-float are compared too.
fn same(actual: &Value, expected: &Value) {
    assert_eq!(
        serde_json::to_string(actual).unwrap(),
        serde_json::to_string(expected).unwrap()
    );
}

#[test]
fn scalars_resolve_like_go_yaml_v2() {
    let t = r#"null_tilde: ~
null_word: Null
empty:
yes_: yes
on_: On
n_: n
Y_: Y
true_: TRUE
not_bool: yEs
int: 42
neg: -17
hex: 0x1F
octal_old: 017
octal_new: 0o17
binary: 0b101
underscore: 1_000_000
big: 18446744073709551615
bigger: 18446744073709551616
float: 1.5
exp: 6.02e23
leading_dot: .5
eight: 08
version: 1.20.3
date: 2024-01-02
quoted_int: "42"
single_true: 'true'
literal_int: |-
  42
str_tag: !!str 42
int_tag: !!int "42"
float_tag: !!float 3
bool_tag: !!bool "no"
null_tag: !!null ""
binary_tag: !!binary aGVsbG8=
local_tag: !thing 42
colon: a:b
url: http://x.y/z#frag
"#;
    let expected = json!({
        "null_tilde": null, "null_word": null, "empty": null,
        "yes_": true, "on_": true, "n_": false, "Y_": true, "true_": true, "not_bool": "yEs",
        "int": 42, "neg": -17, "hex": 31, "octal_old": 15, "octal_new": 15, "binary": 5,
        "underscore": 1_000_000, "big": u64::MAX, "bigger": 18446744073709551616.0,
        "float": 1.5, "exp": 6.02e23, "leading_dot": 0.5, "eight": 8.0,
        "version": "1.20.3", "date": "2024-01-02",
        "quoted_int": "42", "single_true": "true", "literal_int": "42",
        "str_tag": "42", "int_tag": 42, "float_tag": 3.0, "bool_tag": false, "null_tag": null,
        "binary_tag": "hello", "local_tag": "42",
        "colon": "a:b", "url": "http://x.y/z#frag",
    });
    same(&single(t).value, &expected);
}

#[test]
fn keys_become_strings_like_sigs_k8s_io_yaml_makes_them() {
    let t = "1: one\nyes: two\n1.5: three\n0x10: four\n\"1.0\": five\n1e3: six\nn: seven\n";
    let expected = json!({"1": "one", "true": "two", "1.5": "three", "16": "four", "1.0": "five", "1000": "six", "false": "seven"});
    same(&single(t).value, &expected);
    assert_eq!(
        error("~: x"),
        "1:1: the key `~` reads as null, which cannot be a JSON object key; quote it if you mean the string"
    );
    assert_eq!(
        error("a: 1\n: x"),
        "2:1: a key is missing: an empty key is null, which cannot be a JSON object key"
    );
    assert_eq!(
        error("? [a]\n: x"),
        "1:3: a sequence cannot be a key; JSON object keys are strings"
    );
    assert_eq!(
        error("{{a: 1}: x}"),
        "1:2: a mapping cannot be a key; JSON object keys are strings"
    );
}

#[test]
fn duplicate_keys_name_both_lines() {
    assert_eq!(
        error("a: 1\nb: 2\na: 3\n"),
        "3:1: duplicate key \"a\" (first on line 1)"
    );
    assert_eq!(
        error("1: a\n\"1\": b\n"),
        "2:1: duplicate key \"1\" (first on line 1)"
    );
    assert_eq!(
        error("spec:\n  x: {a: 1, a: 2}\n"),
        "2:13: duplicate key \"a\" (first on line 2)"
    );
    same(
        &single("x:\n  a: 1\nz:\n  a: 2\n").value,
        &json!({"x": {"a": 1}, "z": {"a": 2}}),
    );
}

#[test]
fn values_json_cannot_hold_are_errors() {
    assert_eq!(
        error("x: .inf"),
        "1:4: `.inf` is not a number JSON can represent; quote it if you mean the string"
    );
    assert_eq!(
        error("- -.Inf"),
        "1:3: `-.Inf` is not a number JSON can represent; quote it if you mean the string"
    );
    assert_eq!(
        error("x: !!float .nan"),
        "1:4: `.nan` is not a number JSON can represent; quote it if you mean the string"
    );
    same(
        &single("x: '.inf'\n.inf: 1\n").value,
        &json!({"x": ".inf", ".inf": 1}),
    );
    assert_eq!(
        error("x: !!int abc"),
        "1:4: `abc` cannot be read as !!int: it is a !!str"
    );
    assert_eq!(
        error("x: !!binary '***'")
            .split(": ")
            .take(2)
            .collect::<Vec<_>>(),
        ["1:4", "!!binary value is not valid base64"]
    );
}

#[test]
fn aliases_copy_their_anchor_within_a_document() {
    let doc = single("a: &x [1, {b: 2}]\nc: *x\nd: &s text\ne: *s\n");
    same(
        &doc.value,
        &json!({"a": [1, {"b": 2}], "c": [1, {"b": 2}], "d": "text", "e": "text"}),
    );
    same(
        &single("k: &k name\n*k : v\n").value,
        &json!({"k": "name", "name": "v"}),
    );
    assert_eq!(
        error("a: &x 1\n---\nb: *x\n"),
        "3:4: unknown anchor &x (an alias only reaches anchors earlier in its own document)"
    );
    assert_eq!(
        error("a: &x [*x]"),
        "1:8: alias *x is inside the node anchored as &x, which would contain itself"
    );
    assert_eq!(
        error("a: *nope"),
        "1:4: while parsing node, found unknown anchor"
    );
}

#[test]
fn merge_keys_fill_in_what_the_mapping_does_not_say() {
    let t = "defaults: &defaults
  a: 1
  b: 2
extra: &extra
  b: 20
  c: 30
merged:
  <<: [*defaults, *extra]
  c: 300
  d: 4
inline:
  <<: {z: 26}
  w: 23
quoted:
  \"<<\": not a merge
";
    let doc = single(t);
    same(
        &doc.value["merged"],
        &json!({"a": 1, "b": 2, "c": 300, "d": 4}),
    );
    same(&doc.value["inline"], &json!({"z": 26, "w": 23}));
    same(&doc.value["quoted"], &json!({"<<": "not a merge"}));
    assert_eq!(
        error("s: &s text\nm:\n  <<: *s\n"),
        "3:3: `<<` merges a mapping or a sequence of mappings, not a string"
    );
    assert_eq!(
        error("s: &s [1]\nm:\n  <<: [*s]\n"),
        "3:3: `<<` merges a mapping or a sequence of mappings, not a sequence with something other than mappings in it"
    );
}

#[test]
fn exponential_aliases_are_refused() {
    let mut t = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let previous = format!("*l{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        t.push_str(&format!("l{level}: &l{level} [{items}]\n"));
    }
    // l0 to l2 copy 1,220 nodes; l3 would copy 11,110 more.
    assert_eq!(
        error(&t),
        "4:55: aliases copy more than 11300 nodes; refusing to expand *l2"
    );
}

#[test]
fn nesting_is_bounded() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert_eq!(parse(&deep(128)).unwrap().len(), 1);
    assert_eq!(
        error(&deep(129)),
        "1:129: values nest deeper than 128 levels"
    );
    // The parser reads ahead and stops first, at its own limit.
    assert_eq!(
        error(&deep(100_000)),
        "1:256: values nest deeper than 128 levels"
    );
}

#[test]
fn syntax_errors_carry_the_parser_position() {
    assert_eq!(
        error("a: [1, 2"),
        "1:9: while parsing a flow sequence, expected ',' or ']'"
    );
    assert_eq!(
        error("a:\n\t- b"),
        "2:2: tabs disallowed within this context (block indentation)"
    );
    assert_eq!(
        error("a: b: c"),
        "1:5: mapping values are not allowed in this context"
    );
    assert_eq!(
        error("ok: 1\n---\nkey: \"open\n"),
        "3:6: while scanning a quoted scalar, found unexpected end of stream"
    );
    let error = parse("x:\r\n  - a\r\n  b: 1\r\n").unwrap_err();
    assert_eq!((error.line, error.column), (3, 3));
}

#[test]
fn json_round_trips_exactly() {
    let corpus = [
        r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"app","image":"nginx","ports":[{"containerPort":80}],"resources":{"limits":{"cpu":"500m"}}}]}}}}"#,
        "{\n\t\"a\": \"\\u00e9\\n\\t\\\"q\\\" \\\\ \\/\",\n\t\"b\": [1, -2, 3.25, 1e3, -1.5E-3, true, false, null, [], {}],\n\t\"c\": {\"d\": [[1], [2, [3]]]}\n}",
        "[0, 12345678901234567890, 9007199254740993, 0.1, 123.456e-7, -0.0, 1E+2]",
        r#"{"emoji": "\ud83d\ude00", "raw": "😀", "mixed": "a\ud83d\ude00b\u00e9"}"#,
        "{\"z\": 1, \"a\": 2, \"m\": {\"y\": null, \"b\": \"yes\", \"c\": \"0x10\", \"d\": \"~\"}}\r\n",
        r#""just a string""#,
        "[\"on\", \"off\", \"null\", \"\", \" spaced \", \"#hash\", \"a: b\", \"- dash\"]",
    ];
    for text in corpus {
        let expected: Value = serde_json::from_str(text).unwrap();
        same(&single(text).value, &expected);
    }
}

#[test]
fn surrogate_pairs_in_json_keep_later_positions_right() {
    let t = r#"{"e": "\ud83d\ude00", "n": 1}"#;
    let doc = single(t);
    same(&doc.value, &json!({"e": "😀", "n": 1}));
    let e = doc.node("/e").unwrap();
    assert_eq!(
        (super::at(e.value), e.value.slice(t)),
        ("1:7-1:21".into(), r#""\ud83d\ude00""#)
    );
    assert_eq!(super::at(doc.node("/n").unwrap().value), "1:28-1:29");
    assert_eq!(
        error(r#"{"e": "\ud83d"}"#),
        "1:7: while parsing a quoted scalar, found invalid Unicode character escape code"
    );
}
