//! Values written as JSON, for JSON files: compact on one line, or
//! pretty-printed with the file's indentation when the file spreads its
//! values over lines.

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{PrettyFormatter, Serializer};

use super::layout::Layout;

/// `value` as JSON. With `pretty`, a non-empty collection is spread over
/// lines indented as the file indents, starting from column `base` (the
/// column of the line it begins on); otherwise it is one line, spaced as the
/// file is (`{"a": 1}` or `{"a":1}`).
pub(super) fn render(value: &Value, pretty: bool, base: usize, layout: &Layout) -> String {
    if !pretty || super::render::is_inline(value) {
        return compact(value, layout.json_spaced);
    }
    let newline = layout.newline;
    let unit = " ".repeat(layout.indent);
    let mut out = Vec::new();
    let mut serializer =
        Serializer::with_formatter(&mut out, PrettyFormatter::with_indent(unit.as_bytes()));
    if value.serialize(&mut serializer).is_err() {
        return compact(value, true);
    }
    let text = String::from_utf8(out).unwrap_or_else(|_| compact(value, true));
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
    Value::String(name.to_owned()).to_string()
}

/// One line; `spaced` puts a blank after `:` and `,` as people write JSON by
/// hand, otherwise there is none, as machines write it.
fn compact(value: &Value, spaced: bool) -> String {
    if !spaced {
        return value.to_string();
    }
    match value {
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .map(|(name, member)| format!("{}: {}", key(name), compact(member, true)))
                .collect();
            format!("{{{}}}", members.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(|item| compact(item, true)).collect();
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
        let mut layout = Layout {
            newline: "\r\n",
            json: true,
            json_spaced: true,
            indent: 2,
            sequence_indent: 2,
            item_indent: 2,
        };
        let value = json!({"b": [1, "x"], "a": {}});
        assert_eq!(
            render(&value, false, 4, &layout),
            r#"{"a": {}, "b": [1, "x"]}"#
        );
        assert_eq!(
            render(&value, true, 4, &layout),
            "{\r\n      \"a\": {},\r\n      \"b\": [\r\n        1,\r\n        \"x\"\r\n      ]\r\n    }"
        );
        assert_eq!(render(&json!("y\"es"), true, 0, &layout), r#""y\"es""#);
        layout.json_spaced = false;
        assert_eq!(render(&value, false, 0, &layout), r#"{"a":{},"b":[1,"x"]}"#);
    }
}
