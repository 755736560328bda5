//! The open collections around the current event: where each new node goes,
//! its pointer, and what the collection becomes when it closes.

use serde_json::{Map, Value};

use super::{Anchored, DocumentState, MAX_DEPTH, internal};
use crate::source::text::{self, TextIndex};
use crate::source::{NodeSpan, SourceError, Span, Style, escape_pointer_token};

/// In `key_offsets`: a member copied in by `<<`, not written in the mapping.
const MERGED: usize = usize::MAX;

/// Where a node goes in its parent.
pub(super) struct Place {
    /// `None` for nodes that have no pointer of their own (inside a `<<` value).
    pub(super) pointer: Option<String>,
    pub(super) key: Option<Span>,
    pub(super) dash: Option<Span>,
}

/// What an open mapping waits for.
pub(super) enum Pending {
    Key,
    Value { name: String, key: Span },
    MergeValue { at: usize },
}

pub(super) enum Content {
    Mapping {
        map: Map<String, Value>,
        pending: Pending,
        /// Byte offset of each member's key, in the order of `map` (or `MERGED`).
        key_offsets: Vec<usize>,
    },
    Sequence(Vec<Value>),
}

/// An open collection.
pub(super) struct Frame {
    pub(super) content: Content,
    place: Place,
    /// Its slot in `DocumentState::nodes`.
    record: Option<usize>,
    start: usize,
    end: usize,
    pub(super) flow: bool,
    pub(super) anchor: usize,
    tagged: bool,
    pub(super) indent: Option<usize>,
    nodes: usize,
    child_depth: usize,
}

/// Where `name` was written in this mapping already, if it was (a member
/// merged in by `<<` may be overridden, so it does not count).
pub(super) fn written_key_offset(
    map: &Map<String, Value>,
    key_offsets: &[usize],
    name: &str,
) -> Option<usize> {
    if !map.contains_key(name) {
        return None;
    }
    let position = map.keys().position(|key| key == name)?;
    key_offsets
        .get(position)
        .copied()
        .filter(|&offset| offset != MERGED)
}

impl DocumentState {
    pub(super) fn open(
        &mut self,
        index: &TextIndex,
        mapping: bool,
        anchor: usize,
        tagged: bool,
        start: usize,
        end: usize,
    ) -> Result<(), SourceError> {
        let at = |message: String| SourceError::at(index.position(start), message);
        let kind = if mapping { "mapping" } else { "sequence" };
        if self.expects_key() {
            return Err(at(format!(
                "a {kind} cannot be a key; JSON object keys are strings"
            )));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(at(format!("values nest deeper than {MAX_DEPTH} levels")));
        }
        // The parser does not say which style a collection has: a flow one
        // opens with its bracket, and everything inside a flow one is flow.
        let bracket = if mapping { b'{' } else { b'[' };
        let opens_with_bracket =
            end > start && index.text().as_bytes().get(end - 1) == Some(&bracket);
        let flow = opens_with_bracket || self.stack.last().is_some_and(|frame| frame.flow);
        let place = self.place_value(index, start)?;
        // Its slot in text order; the pointer moves in when it closes.
        let record = place.pointer.is_some().then(|| {
            self.nodes.push((String::new(), placeholder()));
            self.nodes.len() - 1
        });
        let content = if mapping {
            Content::Mapping {
                map: Map::new(),
                pending: Pending::Key,
                key_offsets: Vec::new(),
            }
        } else {
            Content::Sequence(Vec::new())
        };
        self.stack.push(Frame {
            content,
            place,
            record,
            start,
            // Grows with each entry (the parser's span of an unindented sequence
            // starts past the blanks after its first `-`).
            end: 0,
            flow,
            anchor,
            tagged,
            indent: None,
            nodes: 0,
            child_depth: 0,
        });
        Ok(())
    }

    pub(super) fn close(
        &mut self,
        index: &TextIndex,
        start: usize,
        end: usize,
    ) -> Result<(), SourceError> {
        let Some(frame) = self.stack.pop() else {
            return Err(internal(
                index,
                start,
                "the end of a collection that was never opened",
            ));
        };
        // A flow collection ends with its bracket (the parser's span runs on over
        // blanks and a comment after it); a block one where its last entry ends.
        let closing = index.text().as_bytes().get(start);
        let end = if end > start && matches!(closing, Some(b'}' | b']')) {
            start + 1
        } else {
            frame.end.max(frame.start)
        };
        self.last_end = self.last_end.max(end);
        self.written_nodes += 1;
        let (value, style) = match frame.content {
            Content::Mapping {
                mut map, pending, ..
            } => {
                if let Pending::Value { name, .. } = pending {
                    map.insert(name, Value::Null);
                }
                (
                    Value::Object(map),
                    if frame.flow {
                        Style::FlowMapping
                    } else {
                        Style::BlockMapping
                    },
                )
            }
            Content::Sequence(items) => (
                Value::Array(items),
                if frame.flow {
                    Style::FlowSequence
                } else {
                    Style::BlockSequence
                },
            ),
        };
        let span = index.span(frame.start, end);
        let node = NodeSpan {
            key: frame.place.key,
            dash: frame.place.dash,
            value: span,
            style,
            indent: if frame.flow { None } else { frame.indent },
            anchored: frame.anchor != 0,
            tagged: frame.tagged,
        };
        if let Some((pointer, slot)) = frame.record.and_then(|i| self.nodes.get_mut(i)) {
            *pointer = frame.place.pointer.unwrap_or_default();
            *slot = node;
        }
        let (nodes, depth) = (frame.nodes + 1, frame.child_depth + 1);
        if frame.anchor != 0 {
            self.anchors.insert(
                frame.anchor,
                Anchored {
                    value: value.clone(),
                    nodes,
                    depth,
                },
            );
        }
        self.attach(index, value, nodes, depth, span, false)
    }

    /// Where a value starting at `start` goes: its pointer, key and dash.
    pub(super) fn place_value(
        &mut self,
        index: &TextIndex,
        start: usize,
    ) -> Result<Place, SourceError> {
        let Some(frame) = self.stack.last_mut() else {
            return Ok(Place {
                pointer: Some(String::new()),
                key: None,
                dash: None,
            });
        };
        let parent = frame.place.pointer.as_deref();
        match &frame.content {
            Content::Mapping {
                pending: Pending::Value { name, key },
                ..
            } => {
                let pointer =
                    parent.map(|parent| child_pointer(parent, &escape_pointer_token(name)));
                Ok(Place {
                    pointer,
                    key: Some(*key),
                    dash: None,
                })
            }
            Content::Mapping {
                pending: Pending::MergeValue { .. },
                ..
            } => Ok(Place {
                pointer: None,
                key: None,
                dash: None,
            }),
            Content::Mapping {
                pending: Pending::Key,
                ..
            } => Err(internal(index, start, "a value without a key")),
            Content::Sequence(items) => {
                let pointer = parent
                    .map(|parent| child_pointer(parent, index_token(items.len(), &mut [0; 20])));
                let dash = if frame.flow {
                    None
                } else {
                    text::sequence_dash(index.text(), start)
                };
                if let (Some(dash), true) = (dash, items.is_empty()) {
                    // The parser starts an unindented sequence at its first value, not its `-`.
                    frame.start = frame.start.min(dash);
                    frame.indent = Some(index.position(dash).column - 1);
                }
                Ok(Place {
                    pointer,
                    key: None,
                    dash: dash.map(|at| index.span(at, at + 1)),
                })
            }
        }
    }

    /// Put a finished value into its parent (or make it the document).
    pub(super) fn attach(
        &mut self,
        index: &TextIndex,
        value: Value,
        nodes: usize,
        depth: usize,
        span: Span,
        empty_root: bool,
    ) -> Result<(), SourceError> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some((value, span));
            self.empty = empty_root;
            return Ok(());
        };
        frame.nodes += nodes;
        frame.child_depth = frame.child_depth.max(depth);
        frame.end = frame.end.max(span.end.offset);
        match &mut frame.content {
            Content::Sequence(items) => items.push(value),
            Content::Mapping {
                map,
                pending,
                key_offsets,
            } => match std::mem::replace(pending, Pending::Key) {
                Pending::Value { name, key } => {
                    if map.contains_key(&name) {
                        // A key written here replaces a member merged in by `<<`, in its place.
                        let merged = map.keys().position(|existing| *existing == name);
                        if let Some(offset) = merged.and_then(|i| key_offsets.get_mut(i)) {
                            *offset = key.start.offset;
                        }
                    } else {
                        key_offsets.push(key.start.offset);
                    }
                    map.insert(name, value);
                }
                Pending::MergeValue { at } => {
                    merge(map, key_offsets, value)
                        .map_err(|m| SourceError::at(index.position(at), m))?;
                }
                Pending::Key => {
                    return Err(internal(index, span.start.offset, "a value without a key"));
                }
            },
        }
        Ok(())
    }
}

fn child_pointer(parent: &str, token: &str) -> String {
    let mut pointer = String::with_capacity(parent.len() + 1 + token.len());
    pointer.push_str(parent);
    pointer.push('/');
    pointer.push_str(token);
    pointer
}

/// `index` in decimal, written into `digits` (no allocation: one per sequence item adds up).
fn index_token(mut index: usize, digits: &mut [u8; 20]) -> &str {
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (index % 10) as u8;
        index /= 10;
        if index == 0 || start == 0 {
            break;
        }
    }
    std::str::from_utf8(&digits[start..]).unwrap_or_default()
}

/// What a collection's slot holds until it closes.
fn placeholder() -> NodeSpan {
    let value = Span::default();
    NodeSpan {
        key: None,
        dash: None,
        value,
        style: Style::Plain,
        indent: None,
        anchored: false,
        tagged: false,
    }
}

/// Apply `<<: source`: members the mapping does not have yet are copied in,
/// so keys written in the mapping and earlier merged mappings win.
fn merge(
    map: &mut Map<String, Value>,
    key_offsets: &mut Vec<usize>,
    source: Value,
) -> Result<(), String> {
    let sources = match source {
        Value::Object(members) => vec![members],
        Value::Array(items) if items.iter().all(Value::is_object) => items
            .into_iter()
            .filter_map(|item| {
                if let Value::Object(members) = item {
                    Some(members)
                } else {
                    None
                }
            })
            .collect(),
        other => {
            let found = match other {
                Value::Array(_) => "a sequence with something other than mappings in it",
                Value::Null => "null",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                Value::Object(_) => "a mapping",
            };
            return Err(format!(
                "`<<` merges a mapping or a sequence of mappings, not {found}"
            ));
        }
    };
    for members in sources {
        for (key, value) in members {
            if !map.contains_key(&key) {
                map.insert(key, value);
                key_offsets.push(MERGED);
            }
        }
    }
    Ok(())
}
