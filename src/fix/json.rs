//! Values written as JSON, for JSON files: compact on one line, or
//! pretty-printed with the file's indentation when the file spreads its
//! values over lines.

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{PrettyFormatter, Serializer};

/// `value` as JSON. With `pretty`, a non-empty collection is spread over
/// lines indented by `indent` spaces per level, starting from column `base`
/// (the column of the line it begins on), with `newline` between lines.
pub(super) fn render(
    value: &Value,
    pretty: bool,
    base: usize,
    indent: usize,
    newline: &str,
) -> String {
    if !pretty || super::render::is_inline(value) {
        return compact(value);
    }
    let unit = " ".repeat(indent);
    let mut out = Vec::new();
    let mut serializer =
        Serializer::with_formatter(&mut out, PrettyFormatter::with_indent(unit.as_bytes()));
    if value.serialize(&mut serializer).is_err() {
        return compact(value);
    }
    let text = String::from_utf8(out).unwrap_or_else(|_| compact(value));
    let pad = " ".repeat(base);
    text.split('\n')
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                line.to_owned()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join(newline)
}

/// A string as a JSON key.
pub(super) fn key(name: &str) -> String {
    compact(&Value::String(name.to_owned()))
}

/// One line, with a blank after `:` and `,` as people write JSON by hand.
fn compact(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .map(|(name, member)| format!("{}: {}", key(name), compact(member)))
                .collect();
            format!("{{{}}}", members.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(compact).collect();
            format!("[{}]", items.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_and_pretty() {
        let value = json!({"b": [1, "x"], "a": {}});
        assert_eq!(
            render(&value, false, 4, 2, "\n"),
            r#"{"a": {}, "b": [1, "x"]}"#
        );
        assert_eq!(
            render(&value, true, 4, 2, "\r\n"),
            "{\r\n      \"a\": {},\r\n      \"b\": [\r\n        1,\r\n        \"x\"\r\n      ]\r\n    }"
        );
        assert_eq!(render(&json!("y\"es"), true, 0, 2, "\n"), r#""y\"es""#);
    }
}
