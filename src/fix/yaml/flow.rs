//! Flow collections (`{a: 1}`, `[x, y]`) and JSON, which is written in
//! flow style throughout: members are added after the last one, on a line
//! of their own when the collection spreads over lines, and removed with
//! the comma that separates them.

use serde_json::Value;

use super::{Editor, Refusal};
use crate::fix::json;
use crate::fix::render;
use crate::fix::text::{self, TextEdit};
use crate::source::{NodeSpan, Style};

impl Editor<'_> {
    /// Replaces a node inside a flow collection (or any node of a JSON file).
    pub(super) fn flow_replace(&self, path: &str, node: &NodeSpan, value: &Value) -> TextEdit {
        let span = node.value;
        let written = if self.layout.json {
            let base = self.line_indent(node.key.unwrap_or(span).start.offset);
            let pretty = self.parent_spreads(path);
            json::render(value, pretty, base, self.layout)
        } else if render::is_inline(value) {
            let replaced = matches!(
                node.style,
                Style::Plain | Style::SingleQuoted | Style::DoubleQuoted
            )
            .then_some(node.style);
            render::inline(value, replaced)
        } else {
            render::flow(value)
        };
        let lead = if span.start.offset == span.end.offset {
            " "
        } else {
            ""
        };
        TextEdit::replace(
            span.start.offset,
            span.end.offset,
            format!("{lead}{written}"),
        )
    }

    /// Adds a member (`name: value`) or an item (`value`) to a flow collection.
    pub(super) fn flow_add(
        &self,
        path: &str,
        node: &NodeSpan,
        name: Option<&str>,
        value: &Value,
    ) -> Result<TextEdit, Refusal> {
        let span = node.value;
        let children = self.children(path);
        let newline = self.layout.newline;
        let entry = |column: usize, pretty: bool| -> String {
            let value = if self.layout.json {
                json::render(value, pretty, column, self.layout)
            } else {
                render::flow(value)
            };
            match name {
                Some(name) if self.layout.json && !self.layout.json_spaced => {
                    format!("{}:{value}", json::key(name))
                }
                Some(name) if self.layout.json => format!("{}: {value}", json::key(name)),
                Some(name) => format!("{}: {value}", render::key(name)),
                None => value,
            }
        };
        let Some((_, last)) = children.last() else {
            let written = span.slice(self.text);
            let inside = written
                .strip_prefix(['{', '['])
                .and_then(|rest| rest.strip_suffix(['}', ']']));
            if !inside.is_some_and(|inside| inside.trim().is_empty()) {
                return Err(format!(
                    "{} is written in a way the editor does not change ({written}); left to a person",
                    self.field(path)
                ));
            }
            let (open, close) = written.split_at(1);
            let close = close.trim_start();
            if self.layout.json && self.parent_spreads(path) {
                let base = self.line_indent(node.key.unwrap_or(span).start.offset);
                let column = base + self.layout.indent;
                let pad = " ".repeat(column);
                let end = " ".repeat(base);
                return Ok(TextEdit::replace(
                    span.start.offset,
                    span.end.offset,
                    format!(
                        "{open}{newline}{pad}{}{newline}{end}{close}",
                        entry(column, true)
                    ),
                ));
            }
            return Ok(TextEdit::replace(
                span.start.offset,
                span.end.offset,
                format!("{open}{}{close}", entry(0, false)),
            ));
        };
        let first = last.key.unwrap_or(last.value).start;
        let separator = if first.line > span.start.line {
            let column = first.column - 1;
            format!(",{newline}{}{}", " ".repeat(column), entry(column, true))
        } else if self.layout.json_spaced {
            format!(", {}", entry(0, false))
        } else {
            format!(",{}", entry(0, false))
        };
        Ok(TextEdit::insert(last.value.end.offset, separator))
    }

    /// Removes the member or item at `path` from the flow collection at
    /// `parent`, with the comma before it (or after it, for the first).
    pub(super) fn flow_remove(&self, parent: &str, path: &str) -> Result<TextEdit, Refusal> {
        let children = self.children(parent);
        let Some(at) = children.iter().position(|(p, _)| p == path) else {
            return Err(format!("{} is not written here", self.field(path)));
        };
        let this = children[at].1;
        let start = |n: &NodeSpan| n.key.unwrap_or(n.value).start.offset;
        if at > 0 {
            let previous = children[at - 1].1;
            return Ok(TextEdit::replace(
                previous.value.end.offset,
                this.value.end.offset,
                "",
            ));
        }
        match children.get(1) {
            Some((_, next)) => Ok(TextEdit::replace(start(&this), start(next), "")),
            None => Err(format!(
                "{} is the only member written in its collection; left to a person",
                self.field(path)
            )),
        }
    }

    /// Whether the collection holding `path` spreads over lines, so that a
    /// new collection in it may too.
    fn parent_spreads(&self, path: &str) -> bool {
        counsel_edit::pointer::parent(path)
            .and_then(|(parent, _)| self.document.node(parent))
            .is_some_and(|parent| parent.value.start.line != parent.value.end.line)
    }

    /// The blanks that start the line holding `offset`.
    fn line_indent(&self, offset: usize) -> usize {
        let start = text::line_start(self.text, offset);
        self.text
            .get(start..)
            .map_or(0, |line| line.bytes().take_while(|&b| b == b' ').count())
    }
}
