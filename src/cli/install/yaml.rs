//! Writing manifests as a YAML stream people can read: block style,
//! multi-line text (counsel.yaml) as literal blocks, and strings quoted
//! whenever Kubernetes' YAML decoder could read them as something else.

use std::borrow::Cow;

use counsel::source;
use saphyr::{Mapping, Scalar, ScalarStyle, Yaml, YamlEmitter};
use serde_json::Value;

/// The documents as one YAML stream, each starting with `---`, keys in a
/// fixed order (see [`LEADING_KEYS`]).
///
/// Every document is read back with Counsel's own parser (which resolves
/// scalars as Kubernetes does); one that would not read back as the same
/// value is written as JSON instead, which YAML reads exactly.
pub fn stream(documents: &[Value]) -> String {
    let mut out = String::new();
    for document in documents {
        out.push_str(&document_text(document));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn document_text(document: &Value) -> String {
    let mut text = String::new();
    let yaml = to_yaml(document);
    let mut emitter = YamlEmitter::new(&mut text);
    emitter.multiline(true);
    if emitter.dump(&yaml).is_ok() && reads_back_as(&text, document) {
        return text;
    }
    // serde_json cannot fail on a Value; JSON is YAML.
    let json = serde_json::to_string_pretty(document).unwrap_or_default();
    format!("---\n{json}\n")
}

fn reads_back_as(text: &str, document: &Value) -> bool {
    matches!(source::parse(text).as_deref(), Ok([read]) if read.value == *document)
}

fn to_yaml(value: &Value) -> Yaml<'_> {
    match value {
        Value::Null => Yaml::Value(Scalar::Null),
        Value::Bool(flag) => Yaml::Value(Scalar::Boolean(*flag)),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => Yaml::Value(Scalar::Integer(integer)),
            None => Yaml::Representation(number.to_string().into(), ScalarStyle::Plain, None),
        },
        Value::String(text) => string(text),
        Value::Array(items) => Yaml::Sequence(items.iter().map(to_yaml).collect()),
        Value::Object(members) => {
            let mut keys: Vec<&String> = members.keys().collect();
            keys.sort_by_key(|key| (rank(key), key.as_str()));
            let mut mapping = Mapping::new();
            for key in keys {
                mapping.insert(string(key), to_yaml(&members[key]));
            }
            Yaml::Mapping(mapping)
        }
    }
}

/// Keys written first, in this order, as Kubernetes' own tools write them;
/// the others follow alphabetically.
const LEADING_KEYS: &[&str] = &["apiVersion", "kind", "metadata", "name", "namespace"];

fn rank(key: &str) -> usize {
    LEADING_KEYS
        .iter()
        .position(|leading| *leading == key)
        .unwrap_or(LEADING_KEYS.len())
}

/// A string scalar: plain when Kubernetes would read it back as this very
/// string, a literal block when it has several lines, otherwise quoted.
fn string(text: &str) -> Yaml<'_> {
    if text.contains('\n') || reads_as_plain_string(text) {
        Yaml::Value(Scalar::String(Cow::Borrowed(text)))
    } else {
        // A JSON string is a valid YAML double-quoted scalar; written as a
        // representation, the emitter copies it as is.
        let quoted = serde_json::to_string(text).unwrap_or_default();
        Yaml::Representation(quoted.into(), ScalarStyle::Plain, None)
    }
}

/// Whether `text`, written without quotes, reads back as the string
/// `text` (and not as a number, a boolean, null, a collection or nothing).
fn reads_as_plain_string(text: &str) -> bool {
    !text.is_empty()
        && text.trim() == text
        && matches!(source::parse(text).as_deref(), Ok([read]) if read.value == Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ambiguous_strings_are_quoted_and_plain_ones_are_not() {
        let document = json!({
            "plain": "counsel.counsel.svc",
            "yes": "yes",
            "octal": "0755",
            "number": "8443",
            "null": "null",
            "colon": "a: b",
            "empty": "",
            "y": "y",
            "port": 443,
        });
        assert_eq!(
            stream(&[document]),
            "---\ncolon: \"a: b\"\nempty: \"\"\n\"null\": \"null\"\nnumber: \"8443\"\noctal: \"0755\"\n\
             plain: counsel.counsel.svc\nport: 443\n\"y\": \"y\"\n\"yes\": \"yes\"\n"
        );
    }

    #[test]
    fn kubernetes_keys_lead_and_the_rest_is_alphabetical() {
        let document = json!({
            "spec": {"ports": [{"port": 443, "name": "https"}]},
            "metadata": {"namespace": "counsel", "labels": {"b": "1", "a": "2"}, "name": "counsel"},
            "kind": "Service",
            "apiVersion": "v1",
        });
        assert_eq!(
            stream(&[document]),
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: counsel\n  namespace: counsel\n  \
             labels:\n    a: \"2\"\n    b: \"1\"\nspec:\n  ports:\n    - name: https\n      port: 443\n"
        );
    }

    #[test]
    fn multi_line_text_is_a_literal_block() {
        let document = json!({"data": {"counsel.yaml": "policies:\n  - name: a\n"}});
        assert_eq!(
            stream(&[document]),
            "---\ndata:\n  counsel.yaml: |\n    policies:\n      - name: a\n"
        );
    }

    #[test]
    fn every_document_reads_back_as_written() {
        let documents = vec![
            json!({"a": [1, {"b": "c\n  d\n\n"}], "e": "  lead", "f": "tab\there", "g": true}),
            json!({"list": [], "map": {}, "text": "#not a comment", "dash": "- x"}),
        ];
        let text = stream(&documents);
        assert!(
            !text.contains("---\n{"),
            "written as YAML, not JSON:\n{text}"
        );
        let read: Vec<Value> = source::parse(&text)
            .expect("parses")
            .into_iter()
            .map(|document| document.value)
            .collect();
        assert_eq!(read, documents);
    }
}
