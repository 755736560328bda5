//! Scalars: keys (with duplicate and merge-key handling) and values (with
//! the spans of block scalars and empty values put where an editor needs them).

use std::borrow::Cow;

use saphyr_parser::{ScalarStyle, Tag};
use serde_json::Value;

use super::tree::{self, Content, Frame, Pending};
use super::{Anchored, DocumentState, internal};
use crate::source::scalar;
use crate::source::text::{self, TextIndex};
use crate::source::{NodeSpan, SourceError, Style};

impl DocumentState {
    pub(super) fn key_scalar(
        &mut self,
        index: &TextIndex,
        scalar: ScalarEvent,
    ) -> Result<(), SourceError> {
        let ScalarEvent {
            text,
            style,
            anchor,
            tag,
            start,
            end,
        } = scalar;
        let bare = tag.is_none() && anchor == 0;
        let (start, end) = self.extent(index.text(), style, bare, start, end);
        self.last_end = end;
        let merge_tag =
            tag.is_some_and(|t| format!("{}{}", t.handle, t.suffix) == "tag:yaml.org,2002:merge");
        if merge_tag || (text == "<<" && style == ScalarStyle::Plain && tag.is_none()) {
            return self.set_pending(index, Pending::MergeValue { at: start }, start);
        }
        let at = |message| SourceError::at(index.position(start), message);
        let resolved = scalar::resolve(&text, style, tag).map_err(at)?;
        if anchor != 0 {
            let value = resolved.clone().into_value(Cow::Borrowed(&text));
            let value = value.unwrap_or_else(|_| Value::String(text.to_string()));
            self.anchors.insert(
                anchor,
                Anchored {
                    value,
                    nodes: 1,
                    depth: 0,
                },
            );
        }
        let name = resolved.into_key(text).map_err(at)?;
        self.set_key(index, name, start, end)
    }

    /// Take `name` as the next key of the open mapping, refusing duplicates.
    pub(super) fn set_key(
        &mut self,
        index: &TextIndex,
        name: String,
        start: usize,
        end: usize,
    ) -> Result<(), SourceError> {
        let key = index.span(start, end);
        let first = match self.stack.last() {
            Some(Frame {
                content:
                    Content::Mapping {
                        map, key_offsets, ..
                    },
                ..
            }) => tree::written_key_offset(map, key_offsets, &name),
            _ => None,
        };
        if let Some(first) = first {
            let line = index.position(first).line;
            let message = format!("duplicate key {name:?} (first on line {line})");
            return Err(SourceError::at(key.start, message));
        }
        self.set_pending(index, Pending::Value { name, key }, start)
    }

    /// Where a scalar is written: the parser's span, trimmed to the text of
    /// the node (a block scalar from its header to its last line, a quoted one
    /// up to its closing quote).
    fn extent(
        &self,
        source: &str,
        style: ScalarStyle,
        bare: bool,
        start: usize,
        end: usize,
    ) -> (usize, usize) {
        match style {
            ScalarStyle::Literal | ScalarStyle::Folded => {
                let header = if bare {
                    text::block_scalar_start(source, self.last_end.min(start), start)
                        .unwrap_or(start)
                } else {
                    start // the parser's span already starts at the anchor or tag
                };
                (header, text::trim_trailing_space(source, header + 1, end))
            }
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                (start, text::quoted_end(source, start, end).unwrap_or(end))
            }
            ScalarStyle::Plain => (start, end),
        }
    }

    fn set_pending(
        &mut self,
        index: &TextIndex,
        next: Pending,
        key_start: usize,
    ) -> Result<(), SourceError> {
        let Some(frame) = self.stack.last_mut() else {
            return Err(internal(index, key_start, "a key outside of a mapping"));
        };
        if !frame.flow && frame.indent.is_none() {
            let entry = text::explicit_key_indicator(index.text(), key_start).unwrap_or(key_start);
            frame.indent = Some(index.position(entry).column - 1);
        }
        match &mut frame.content {
            Content::Mapping { pending, .. } => *pending = next,
            Content::Sequence(_) => {
                return Err(internal(index, key_start, "a key inside a sequence"));
            }
        }
        Ok(())
    }

    pub(super) fn value_scalar(
        &mut self,
        index: &TextIndex,
        scalar: ScalarEvent,
    ) -> Result<(), SourceError> {
        let ScalarEvent {
            text,
            style,
            anchor,
            tag,
            start,
            end,
        } = scalar;
        let bare = tag.is_none() && anchor == 0;
        let empty = text.is_empty() && style == ScalarStyle::Plain;
        let value = scalar::resolve(&text, style, tag)
            .and_then(|resolved| resolved.into_value(text))
            .map_err(|message| SourceError::at(index.position(start), message))?;
        let source = index.text();
        let (start, end) = if empty && bare {
            // An empty value: an empty span just after its `:` or `-` indicator.
            let at = text::empty_value_at(source, start, self.last_end);
            (at, at)
        } else {
            self.extent(source, style, bare, start, end)
        };
        self.last_end = end;
        let place = self.place_value(index, start)?;
        let span = index.span(start, end);
        let node = NodeSpan {
            key: place.key,
            dash: place.dash,
            value: span,
            style: scalar_style(style),
            indent: None,
            anchored: anchor != 0,
            tagged: tag.is_some(),
        };
        if let Some(pointer) = place.pointer {
            self.nodes.push((pointer, node));
        }
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    value: value.clone(),
                    nodes: 1,
                    depth: 0,
                },
            );
        }
        self.written_nodes += 1;
        let empty_root = self.stack.is_empty() && bare && empty;
        self.attach(index, value, 1, 0, span, empty_root)
    }
}

/// A scalar event taken apart, with byte offsets.
pub(super) struct ScalarEvent<'a> {
    pub(super) text: Cow<'a, str>,
    pub(super) style: ScalarStyle,
    pub(super) anchor: usize,
    pub(super) tag: Option<&'a Tag>,
    pub(super) start: usize,
    pub(super) end: usize,
}

fn scalar_style(style: ScalarStyle) -> Style {
    match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}
