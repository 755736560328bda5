//! The minimal-edit rewriter: one [`Edit`] becomes one [`TextEdit`] at the
//! positions the parser reports, leaving every other byte as it was.
//!
//! Block collections get whole lines added or removed at their own
//! indentation; scalars are replaced in place; flow collections (and JSON)
//! get members added or removed between their brackets (`flow.rs`). Nodes
//! that are anchored, or exist only as copies made by an alias or a `<<`
//! merge, are refused: changing them here would change other places too.

mod flow;
mod remove;

use counsel_edit::field::field_path;
use counsel_edit::{Edit, pointer};
use serde_json::Value;

use super::layout::Layout;
use super::render;
use super::text::{self, TextEdit};
use crate::source::{Document, NodeSpan, Style};

/// Why an edit is left for a person.
pub(super) type Refusal = String;

/// Plans edits against one parsed document of the current text.
pub(super) struct Editor<'a> {
    pub(super) text: &'a str,
    pub(super) document: &'a Document,
    pub(super) layout: &'a Layout,
}

impl Editor<'_> {
    /// The text edit that makes `edit` (its path from the document's root),
    /// or `None` when the document already says so.
    pub(super) fn plan(&self, edit: &Edit) -> Result<Option<TextEdit>, Refusal> {
        match edit {
            Edit::Set { path, value } => self.set(path, value),
            Edit::Remove { path } => self.remove(path),
        }
    }

    fn set(&self, path: &str, value: &Value) -> Result<Option<TextEdit>, Refusal> {
        let tokens = pointer::tokens(path).map_err(|e| e.to_string())?;
        let Some((last, parents)) = tokens.split_last() else {
            return Err("replacing a whole document is left to a person".to_owned());
        };
        // The deepest parent that exists and is not null.
        let mut current = &self.document.value;
        let mut depth = 0;
        for token in parents {
            match child(current, token) {
                Some(next) if !next.is_null() => {
                    current = next;
                    depth += 1;
                }
                _ => break,
            }
        }
        let at = join(&tokens[..depth]);
        let (token, rest) = if depth == parents.len() {
            (last, &[][..])
        } else {
            (&tokens[depth], &tokens[depth + 1..])
        };
        let nested = nest(rest, value.clone());
        match current {
            Value::Object(map) => match map.get(token.as_str()) {
                Some(old) if *old == nested => Ok(None),
                // A member merged in by `<<`: a key written in the mapping itself
                // overrides it and leaves the anchored original alone.
                Some(_)
                    if self.document.node(&pointer::push(&at, token)).is_none()
                        && self.document.node(&at).is_some_and(|node| {
                            matches!(node.style, Style::BlockMapping | Style::FlowMapping)
                        }) =>
                {
                    self.add_member(&at, token, &nested).map(Some)
                }
                Some(_) => self.replace(&pointer::push(&at, token), &nested).map(Some),
                None => self.add_member(&at, token, &nested).map(Some),
            },
            Value::Array(items) => {
                let index = if token == "-" {
                    items.len()
                } else {
                    index(token).ok_or_else(|| {
                        format!(
                            "`{token}` is not an index into the list {}",
                            self.field(&at)
                        )
                    })?
                };
                match items.get(index) {
                    Some(old) if *old == nested => Ok(None),
                    Some(_) => self.replace(&pointer::push(&at, token), &nested).map(Some),
                    None if index == items.len() => self.append(&at, &nested).map(Some),
                    None => Err(format!(
                        "index {index} is past the end of the list {} (length {})",
                        self.field(&at),
                        items.len()
                    )),
                }
            }
            _ => Err(format!(
                "{} is a scalar, so {} cannot be set inside it",
                self.field(&at),
                self.field(path)
            )),
        }
    }

    /// Replaces the node at `path` (which is written in the text) with `value`.
    fn replace(&self, path: &str, value: &Value) -> Result<TextEdit, Refusal> {
        let node = self.writable(path)?;
        let parent_flow = pointer::parent(path)
            .and_then(|(parent, _)| self.document.node(parent))
            .is_some_and(|parent| parent.style.is_flow());
        if self.layout.json || parent_flow {
            return Ok(self.flow_replace(path, &node, value));
        }
        let text = self.text;
        let span = node.value;
        let on_its_line = !matches!(
            node.style,
            Style::BlockMapping | Style::BlockSequence | Style::Literal | Style::Folded
        );
        if render::is_inline(value) {
            let replaced = matches!(
                node.style,
                Style::Plain | Style::SingleQuoted | Style::DoubleQuoted
            )
            .then_some(node.style);
            let written = render::inline(value, replaced);
            if on_its_line {
                let lead = if span.start.offset == span.end.offset {
                    " "
                } else {
                    ""
                };
                return Ok(TextEdit::replace(
                    span.start.offset,
                    span.end.offset,
                    format!("{lead}{written}"),
                ));
            }
            let from = self.indicator_end(path, &node)?;
            return Ok(TextEdit::replace(
                from,
                span.end.offset,
                format!(" {written}"),
            ));
        }
        let newline = self.layout.newline;
        if let Some(key) = node.key {
            let column = key.start.column - 1;
            let nested = if value.is_array() {
                self.layout.sequence_indent
            } else {
                self.layout.indent
            };
            let lines = render::block(value, column + nested, self.layout).join(newline);
            let colon = self.indicator_end(path, &node)?;
            if on_its_line {
                // Keep a comment written after the old value.
                let end = text::line_end(text, span.end.offset);
                let tail = text.get(span.end.offset..end).unwrap_or_default();
                return Ok(TextEdit::replace(
                    colon,
                    end,
                    format!("{tail}{newline}{lines}"),
                ));
            }
            let from = text::line_end(text, colon);
            return Ok(TextEdit::replace(
                from,
                span.end.offset,
                format!("{newline}{lines}"),
            ));
        }
        if let Some(dash) = node.dash {
            let column = dash.start.column - 1;
            let lines = render::block(value, column + self.layout.item_indent, self.layout);
            let gap = " ".repeat(self.layout.item_indent.saturating_sub(1));
            let mut written = String::new();
            for (i, line) in lines.iter().enumerate() {
                if i == 0 {
                    written.push_str(&gap);
                    written.push_str(line.trim_start_matches(' '));
                } else {
                    written.push_str(newline);
                    written.push_str(line);
                }
            }
            return Ok(TextEdit::replace(dash.end.offset, span.end.offset, written));
        }
        let lines = render::block(value, 0, self.layout).join(newline);
        Ok(TextEdit::replace(span.start.offset, span.end.offset, lines))
    }

    /// Adds `name: value` to the mapping at `path`.
    fn add_member(&self, path: &str, name: &str, value: &Value) -> Result<TextEdit, Refusal> {
        let node = self.writable(path)?;
        match node.style {
            Style::FlowMapping => self.flow_add(path, &node, Some(name), value),
            Style::BlockMapping if !self.layout.json => {
                let column = node.indent.unwrap_or(0);
                let pad = " ".repeat(column);
                let name = render::key(name);
                let mut lines = Vec::new();
                if render::is_inline(value) {
                    lines.push(format!("{pad}{name}: {}", render::inline(value, None)));
                } else {
                    lines.push(format!("{pad}{name}:"));
                    let nested = if value.is_array() {
                        self.layout.sequence_indent
                    } else {
                        self.layout.indent
                    };
                    lines.extend(render::block(value, column + nested, self.layout));
                }
                Ok(self.after_last_line(&node, lines))
            }
            _ => Err(self.not_written_as(path, &node, "a mapping")),
        }
    }

    /// Appends `value` to the sequence at `path`.
    fn append(&self, path: &str, value: &Value) -> Result<TextEdit, Refusal> {
        let node = self.writable(path)?;
        match node.style {
            Style::FlowSequence => self.flow_add(path, &node, None, value),
            Style::BlockSequence if !self.layout.json => {
                let column = node.indent.unwrap_or(0);
                let pad = " ".repeat(column);
                let mut lines = Vec::new();
                if render::is_inline(value) {
                    lines.push(format!("{pad}- {}", render::inline(value, None)));
                } else {
                    let gap = " ".repeat(self.layout.item_indent.saturating_sub(1));
                    let item = render::block(value, column + self.layout.item_indent, self.layout);
                    for (i, line) in item.into_iter().enumerate() {
                        if i == 0 {
                            lines.push(format!("{pad}-{gap}{}", line.trim_start_matches(' ')));
                        } else {
                            lines.push(line);
                        }
                    }
                }
                Ok(self.after_last_line(&node, lines))
            }
            _ => Err(self.not_written_as(path, &node, "a list")),
        }
    }

    /// New lines right after the line where a block collection ends.
    fn after_last_line(&self, node: &NodeSpan, lines: Vec<String>) -> TextEdit {
        let newline = self.layout.newline;
        let at = text::line_end(self.text, node.value.end.offset);
        TextEdit::insert(at, format!("{newline}{}", lines.join(newline)))
    }

    /// Just past the `:` of the node's key or its `-`.
    fn indicator_end(&self, path: &str, node: &NodeSpan) -> Result<usize, Refusal> {
        if let Some(key) = node.key {
            return text::colon_after(self.text, key.end.offset)
                .map(|colon| colon + 1)
                .ok_or_else(|| {
                    format!(
                        "the key of {} is not followed by `:` on its line; editing it is left to a person",
                        self.field(path)
                    )
                });
        }
        if let Some(dash) = node.dash {
            return Ok(dash.end.offset);
        }
        Ok(node.value.start.offset)
    }

    /// The node at `path` when it may be edited: written in the text (not a
    /// copy made by an alias or a merge), not anchored, and not inside an
    /// anchored node.
    fn writable(&self, path: &str) -> Result<NodeSpan, Refusal> {
        let Some(node) = self.document.node(path).copied() else {
            return Err(format!(
                "{} is not written here: it is copied in by an alias or a `<<` merge, and changing the anchored original would change every copy",
                self.field(path)
            ));
        };
        let mut at = path;
        loop {
            if let Some(found) = self.document.node(at)
                && found.anchored
            {
                return Err(format!(
                    "{} is anchored (line {}); changing it would also change every alias of it",
                    if at == path {
                        self.field(path)
                    } else {
                        format!("{}, which holds {},", self.field(at), self.field(path))
                    },
                    found.value.start.line
                ));
            }
            match pointer::parent(at) {
                Some((parent, _)) => at = parent,
                None => break,
            }
        }
        Ok(node)
    }

    fn not_written_as(&self, path: &str, node: &NodeSpan, what: &str) -> Refusal {
        if node.style == Style::Alias {
            format!(
                "{} is an alias ({}) of an anchored node; adding to it would change the original and every copy",
                self.field(path),
                node.value.slice(self.text)
            )
        } else {
            format!("{} is not written as {what} here", self.field(path))
        }
    }

    /// The written nodes directly inside the collection at `path`, in text order.
    fn children(&self, path: &str) -> Vec<(String, NodeSpan)> {
        self.document
            .nodes()
            .filter(|(p, _)| pointer::parent(p).is_some_and(|(parent, _)| parent == path))
            .map(|(p, n)| (p.to_owned(), *n))
            .collect()
    }

    /// `spec.containers[0].image` for messages.
    fn field(&self, path: &str) -> String {
        if path.is_empty() {
            return "the document".to_owned();
        }
        format!("`{}`", field_path(path, Some(&self.document.value)))
    }
}

fn child<'v>(value: &'v Value, token: &str) -> Option<&'v Value> {
    match value {
        Value::Object(map) => map.get(token),
        Value::Array(items) => index(token).and_then(|i| items.get(i)),
        _ => None,
    }
}

/// An RFC 6901 array index: `0` or digits without a leading zero.
fn index(token: &str) -> Option<usize> {
    let well_formed = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    well_formed.then(|| token.parse().ok()).flatten()
}

fn join(tokens: &[String]) -> String {
    tokens
        .iter()
        .fold(String::new(), |at, token| pointer::push(&at, token))
}

/// `value` under the missing parents `tokens` (created as mappings, as
/// `counsel_edit::apply` creates them).
fn nest(tokens: &[String], value: Value) -> Value {
    tokens.iter().rev().fold(value, |inner, token| {
        Value::Object([(token.clone(), inner)].into_iter().collect())
    })
}
