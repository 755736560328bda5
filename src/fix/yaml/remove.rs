//! Removing a member or an item, with everything nested in it.

use counsel_edit::pointer;
use serde_json::{Map, Value};

use super::{Editor, Refusal};
use crate::fix::text::{self, TextEdit};
use crate::source::Style;

impl Editor<'_> {
    /// Removes the node at `path` with its whole value: whole lines in a
    /// block collection, the member and its comma in a flow one; the last
    /// member leaves an empty collection (`{}`, `[]`), not a null.
    pub(super) fn remove(&self, path: &str) -> Result<Option<TextEdit>, Refusal> {
        if self.document.value.pointer(path).is_none() {
            return Ok(None);
        }
        let Some((parent, _)) = pointer::parent(path) else {
            return Err("removing a whole document is left to a person".to_owned());
        };
        let node = self.writable(path)?;
        let container = self.writable(parent)?;
        let entries = match self.document.value.pointer(parent) {
            Some(Value::Object(map)) => map.len(),
            Some(Value::Array(items)) => items.len(),
            _ => 0,
        };
        if entries == 1 {
            let empty = if container.style == Style::BlockSequence
                || container.style == Style::FlowSequence
            {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            };
            return self.replace(parent, &empty).map(Some);
        }
        if container.style.is_flow() || self.layout.json {
            return self.flow_remove(parent, path).map(Some);
        }
        let Some(head) = node.key.or(node.dash) else {
            return Err(format!("{} has no key or dash to remove", self.field(path)));
        };
        let text = self.text;
        if text::starts_line(text, head.start.offset) {
            let start = text::line_start(text, head.start.offset);
            let end = text::next_line_start(text, node.value.end.offset);
            // On the last line of a text without a final line break, the
            // break before the entry goes instead.
            if end == text.len() && !text.ends_with(['\n', '\r']) && start > 0 {
                let before = text::line_start(text, start - 1);
                let previous_end = text::line_end(text, before);
                return Ok(Some(TextEdit::replace(previous_end, end, "")));
            }
            return Ok(Some(TextEdit::replace(start, end, "")));
        }
        // `- first: 1` in a mapping inside a sequence item: the next key
        // moves up onto the dash's line.
        if node.key.is_some()
            && let Some(next) = self
                .children(parent)
                .into_iter()
                .find(|(_, n)| n.value.start.offset > node.value.end.offset)
                .and_then(|(_, n)| n.key)
        {
            return Ok(Some(TextEdit::replace(
                head.start.offset,
                next.start.offset,
                "",
            )));
        }
        Err(format!(
            "{} shares its line with its parent; removing it is left to a person",
            self.field(path)
        ))
    }
}
