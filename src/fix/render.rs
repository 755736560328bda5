//! Values written as YAML: scalars quoted only when they must be (so that
//! `"yes"`, `"1.0"`, `":"` or `"*x"` stay strings), keys, flow collections,
//! and block collections indented as the file indents them.

use serde_json::Value;

use super::layout::Layout;
use crate::source::{self, Style};

/// Whether `value` is written on the line of its key or dash: a scalar, or
/// an empty collection (`{}`, `[]`).
pub(super) fn is_inline(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => true,
    }
}

/// A scalar or empty collection as YAML. A string is written in the style
/// of the scalar it replaces when that can carry it, plain when that reads
/// back as the same string, and double-quoted otherwise.
pub(super) fn inline(value: &Value, replaced: Option<Style>) -> String {
    match value {
        Value::String(text) => string(text, replaced),
        Value::Object(map) if map.is_empty() => "{}".to_owned(),
        Value::Array(items) if items.is_empty() => "[]".to_owned(),
        Value::Object(_) | Value::Array(_) => flow(value),
        // null, booleans and numbers: JSON's spelling is YAML's.
        other => other.to_string(),
    }
}

/// A mapping key.
pub(super) fn key(name: &str) -> String {
    if looks_plain(name) && reads_back_as_key(name) {
        name.to_owned()
    } else {
        double_quoted(name)
    }
}

/// A value in flow style (`{a: 1, b: [x, y]}`).
pub(super) fn flow(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .map(|(name, member)| format!("{}: {}", key(name), flow(member)))
                .collect();
            format!("{{{}}}", members.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", items.join(", "))
        }
        scalar => inline(scalar, None),
    }
}

/// A non-empty collection in block style, one line per entry, its entries
/// at column `indent`.
pub(super) fn block(value: &Value, indent: usize, layout: &Layout) -> Vec<String> {
    let pad = " ".repeat(indent);
    let mut lines = Vec::new();
    match value {
        Value::Object(map) => {
            for (name, member) in map {
                let name = key(name);
                if is_inline(member) {
                    lines.push(format!("{pad}{name}: {}", inline(member, None)));
                    continue;
                }
                lines.push(format!("{pad}{name}:"));
                let nested = if member.is_array() {
                    layout.sequence_indent
                } else {
                    layout.indent
                };
                lines.extend(block(member, indent + nested, layout));
            }
        }
        Value::Array(items) => {
            for item in items {
                if is_inline(item) {
                    lines.push(format!("{pad}- {}", inline(item, None)));
                    continue;
                }
                let nested = indent + layout.item_indent;
                let mut inner = block(item, nested, layout).into_iter();
                // The item's first entry goes on the dash's line.
                if let Some(first) = inner.next() {
                    let gap = " ".repeat(layout.item_indent.saturating_sub(1));
                    lines.push(format!("{pad}-{gap}{}", first.trim_start_matches(' ')));
                }
                lines.extend(inner);
            }
        }
        scalar => lines.push(format!("{pad}{}", inline(scalar, None))),
    }
    lines
}

fn string(text: &str, replaced: Option<Style>) -> String {
    match replaced {
        Some(Style::SingleQuoted) if !text.chars().any(char::is_control) => {
            format!("'{}'", text.replace('\'', "''"))
        }
        Some(Style::DoubleQuoted) => double_quoted(text),
        _ if plain_is_safe(text) => text.to_owned(),
        _ => double_quoted(text),
    }
}

/// A YAML double-quoted scalar: JSON's escapes are a subset of YAML's.
fn double_quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// Whether `text` can be written without quotes, as a value and as a flow
/// item, and read back as the same string.
fn plain_is_safe(text: &str) -> bool {
    // What it means is the parser's call: `yes`, `1.0`, `~`, `0x1F` are not strings.
    let expected = Value::String(text.to_owned());
    let reads_back = |yaml: String, pointer: &str| {
        source::parse(&yaml)
            .ok()
            .and_then(|documents| documents.into_iter().next())
            .is_some_and(|document| document.value.pointer(pointer) == Some(&expected))
    };
    looks_plain(text)
        && reads_back(format!("k: {text}\n"), "/k")
        && reads_back(format!("[{text}]\n"), "/0")
}

/// Whether `text` written without quotes is read back as the key `text`
/// (`on` becomes `"true"`, `1.50` becomes `"1.5"`).
fn reads_back_as_key(text: &str) -> bool {
    source::parse(&format!("{text}: x\n"))
        .ok()
        .and_then(|documents| documents.into_iter().next())
        .and_then(|document| document.value.as_object().cloned())
        .is_some_and(|map| map.contains_key(text) && map.len() == 1)
}

/// Whether nothing in `text` has a syntactic meaning where a plain scalar
/// stands: no indicator first, no `: ` or ` #`, no flow punctuation, no breaks.
fn looks_plain(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    let indicator = "-?:,[]{}#&*!|>'\"%@`";
    let unsafe_anywhere = text.ends_with([' ', '\t', ':'])
        || text.contains(": ")
        || text.contains(" #")
        || text.contains(['\n', '\r', '\t', ',', '[', ']', '{', '}'])
        || text.chars().any(char::is_control);
    !(indicator.contains(first) || first.is_whitespace() || unsafe_anywhere)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_quoted_only_when_they_must_be() {
        let cases = [
            ("RuntimeDefault", "RuntimeDefault"),
            ("runtime/default", "runtime/default"),
            ("yes", "\"yes\""),
            ("1.0", "\"1.0\""),
            ("0x1F", "\"0x1F\""),
            (":", "\":\""),
            ("*x", "\"*x\""),
            ("a: b", "\"a: b\""),
            ("", "\"\""),
            ("null", "\"null\""),
            ("~", "\"~\""),
            ("-", "\"-\""),
            ("two words", "two words"),
            ("x #y", "\"x #y\""),
            ("line\nbreak", "\"line\\nbreak\""),
            ("nginx:1.27", "nginx:1.27"),
        ];
        for (text, expected) in cases {
            assert_eq!(inline(&json!(text), None), expected, "{text:?}");
        }
        assert_eq!(inline(&json!("it's"), Some(Style::SingleQuoted)), "'it''s'");
        assert_eq!(inline(&json!("x"), Some(Style::DoubleQuoted)), "\"x\"");
        assert_eq!(inline(&json!(false), Some(Style::DoubleQuoted)), "false");
        assert_eq!(inline(&json!(1.5), None), "1.5");
        assert_eq!(key("app.kubernetes.io/name"), "app.kubernetes.io/name");
        assert_eq!(key("on"), "\"on\"");
        assert_eq!(key("8080"), "8080");
    }

    #[test]
    fn collections_in_flow_and_block() {
        let layout = Layout {
            newline: "\n",
            json: false,
            json_spaced: true,
            indent: 2,
            sequence_indent: 0,
            item_indent: 2,
        };
        let value = json!({"drop": ["ALL"], "add": [], "m": {"k": [{"a": 1, "b": [true]}]}});
        assert_eq!(
            flow(&value),
            "{add: [], drop: [ALL], m: {k: [{a: 1, b: [true]}]}}"
        );
        assert_eq!(
            block(&value, 4, &layout),
            [
                "    add: []",
                "    drop:",
                "    - ALL",
                "    m:",
                "      k:",
                "      - a: 1",
                "        b:",
                "        - true",
            ]
        );
    }
}
