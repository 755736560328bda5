//! Turns the parser's events into documents: JSON values, and the span of
//! every node by JSON Pointer.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as EventSpan, Tag};
use serde_json::{Map, Value};

use super::scalar;
use super::text::{self, TextIndex};
use super::{Document, NodeSpan, SourceError, Span, Style, escape_pointer_token};

/// Deepest nesting of collections accepted, as deep as serde_json reads.
const MAX_DEPTH: usize = 128;
/// Nodes that aliases may copy in any document…
const ALIAS_ALLOWANCE: usize = 10_000;
/// …plus this many per node written in the text…
const ALIAS_RATIO: usize = 100;
/// …but never more than this (a "billion laughs" stops here).
const ALIAS_LIMIT: usize = 1_000_000;

/// Why building failed.
pub(crate) enum Failure {
    /// The parser rejected a `\u` escape, maybe a JSON surrogate pair.
    EscapeRejected(SourceError),
    Error(SourceError),
}

impl Failure {
    pub(crate) fn into_error(self) -> SourceError {
        match self {
            Failure::EscapeRejected(error) | Failure::Error(error) => error,
        }
    }
}

/// Parse `parser_text` (the text itself, or a rewritten copy `index` maps back).
pub(crate) fn build(index: &TextIndex, parser_text: &str) -> Result<Vec<Document>, Failure> {
    let mut builder = Builder {
        index,
        documents: Vec::new(),
        document: None,
        next_index: 0,
    };
    for event in Parser::new_from_str(parser_text) {
        let (event, span) = event.map_err(|error| {
            let position = index.position(index.offset(error.marker().index()));
            let failure = SourceError::at(position, error.info());
            if error.info().contains("invalid Unicode character escape") {
                Failure::EscapeRejected(failure)
            } else {
                Failure::Error(failure)
            }
        })?;
        builder.on_event(event, span).map_err(Failure::Error)?;
    }
    builder.finish_document();
    Ok(builder.documents)
}

struct Builder<'i, 't> {
    index: &'i TextIndex<'t>,
    documents: Vec<Document>,
    document: Option<DocumentState>,
    next_index: usize,
}

impl Builder<'_, '_> {
    fn on_event(&mut self, event: Event, span: EventSpan) -> Result<(), SourceError> {
        let start = self.index.offset(span.start.index());
        let end = self.index.offset(span.end.index()).max(start);
        match event {
            Event::DocumentStart(_) => {
                self.finish_document();
                self.document = Some(DocumentState::new(self.next_index, end));
                self.next_index += 1;
                Ok(())
            }
            Event::DocumentEnd => {
                self.finish_document();
                Ok(())
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => Ok(()),
            event => match self.document.as_mut() {
                Some(document) => document.on_node_event(self.index, event, start, end),
                None => Err(SourceError::at(
                    self.index.position(start),
                    "content outside of a document",
                )),
            },
        }
    }

    fn finish_document(&mut self) {
        let Some(document) = self.document.take() else {
            return;
        };
        let Some((value, span)) = document.root else {
            return;
        };
        if document.empty {
            return;
        }
        let nodes = document
            .nodes
            .into_iter()
            .filter_map(|(pointer, node)| Some((pointer, node?)))
            .collect();
        self.documents
            .push(Document::new(document.index, value, span, nodes));
    }
}

/// A node copied by aliases.
struct Anchored {
    value: Value,
    nodes: usize,
    depth: usize,
}

/// Where a node goes in its parent.
struct Place {
    /// `None` for nodes that have no pointer of their own (inside a `<<` value).
    pointer: Option<String>,
    key: Option<Span>,
    dash: Option<Span>,
}

/// What an open mapping waits for.
enum Pending {
    Key,
    Value { name: String, key: Span },
    MergeValue { at: usize },
}

enum Content {
    Mapping {
        map: Map<String, Value>,
        pending: Pending,
        /// Line of each key written in this mapping, to name it in a duplicate error.
        written: HashMap<String, usize>,
    },
    Sequence(Vec<Value>),
}

/// An open collection.
struct Frame {
    content: Content,
    place: Place,
    /// Its slot in `DocumentState::nodes`.
    record: Option<usize>,
    start: usize,
    end: usize,
    flow: bool,
    anchor: usize,
    tagged: bool,
    indent: Option<usize>,
    nodes: usize,
    child_depth: usize,
}

struct DocumentState {
    index: usize,
    stack: Vec<Frame>,
    /// Spans by pointer in text order; a collection's is filled in when it closes.
    nodes: Vec<(String, Option<NodeSpan>)>,
    anchors: HashMap<usize, Anchored>,
    root: Option<(Value, Span)>,
    /// Whether the document has no content at all.
    empty: bool,
    /// Where the last token ended, to find block scalar headers after it.
    last_end: usize,
    written_nodes: usize,
    copied_nodes: usize,
}

impl DocumentState {
    fn new(index: usize, start: usize) -> Self {
        DocumentState {
            index,
            stack: Vec::new(),
            nodes: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            empty: false,
            last_end: start,
            written_nodes: 0,
            copied_nodes: 0,
        }
    }

    fn on_node_event(
        &mut self,
        index: &TextIndex,
        event: Event,
        start: usize,
        end: usize,
    ) -> Result<(), SourceError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                if self.expects_key() {
                    self.key_scalar(index, &text, style, anchor, tag.as_deref(), start, end)
                } else {
                    self.value_scalar(index, &text, style, anchor, tag.as_deref(), start, end)
                }
            }
            Event::Alias(id) => self.alias(index, id, start, end),
            Event::MappingStart(anchor, tag) => {
                self.open(index, true, anchor, tag.is_some(), start, end)
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(index, false, anchor, tag.is_some(), start, end)
            }
            Event::MappingEnd | Event::SequenceEnd => self.close(index, start, end),
            _ => Ok(()),
        }
    }

    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                content: Content::Mapping {
                    pending: Pending::Key,
                    ..
                },
                ..
            })
        )
    }

    #[allow(clippy::too_many_arguments)] // one parser event, taken apart
    fn key_scalar(
        &mut self,
        index: &TextIndex,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        start: usize,
        end: usize,
    ) -> Result<(), SourceError> {
        self.last_end = end;
        let here = index.position(start);
        let merge_tag =
            tag.is_some_and(|t| format!("{}{}", t.handle, t.suffix) == "tag:yaml.org,2002:merge");
        if merge_tag || (text == "<<" && style == ScalarStyle::Plain && tag.is_none()) {
            return self.set_pending(index, Pending::MergeValue { at: start }, start);
        }
        let resolved =
            scalar::resolve(text, style, tag).map_err(|message| SourceError::at(here, message))?;
        if anchor != 0 {
            let value = resolved
                .clone()
                .into_value(text)
                .unwrap_or_else(|_| Value::String(text.to_owned()));
            self.anchors.insert(
                anchor,
                Anchored {
                    value,
                    nodes: 1,
                    depth: 0,
                },
            );
        }
        let name = resolved
            .into_key(text)
            .map_err(|message| SourceError::at(here, message))?;
        self.set_key(index, name, start, end)
    }

    /// Take `name` as the next key of the open mapping, refusing duplicates.
    fn set_key(
        &mut self,
        index: &TextIndex,
        name: String,
        start: usize,
        end: usize,
    ) -> Result<(), SourceError> {
        let here = index.position(start);
        if let Some(Frame {
            content: Content::Mapping { written, .. },
            ..
        }) = self.stack.last()
        {
            if let Some(first) = written.get(&name) {
                return Err(SourceError::at(
                    here,
                    format!("duplicate key {name:?} (first on line {first})"),
                ));
            }
        }
        if let Some(Frame {
            content: Content::Mapping { written, .. },
            ..
        }) = self.stack.last_mut()
        {
            written.insert(name.clone(), here.line);
        }
        self.set_pending(
            index,
            Pending::Value {
                name,
                key: index.span(start, end),
            },
            start,
        )
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
            frame.indent = Some(index.position(key_start).column - 1);
        }
        match &mut frame.content {
            Content::Mapping { pending, .. } => *pending = next,
            Content::Sequence(_) => {
                return Err(internal(index, key_start, "a key inside a sequence"));
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // one parser event, taken apart
    fn value_scalar(
        &mut self,
        index: &TextIndex,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        start: usize,
        end: usize,
    ) -> Result<(), SourceError> {
        let here = index.position(start);
        let value = scalar::resolve(text, style, tag)
            .and_then(|resolved| resolved.into_value(text))
            .map_err(|message| SourceError::at(here, message))?;
        let source = index.text();
        let bare = tag.is_none() && anchor == 0;
        let (start, end) = match style {
            ScalarStyle::Literal | ScalarStyle::Folded => {
                let header = if bare {
                    text::block_scalar_start(source, self.last_end.min(start), start)
                        .unwrap_or(start)
                } else {
                    start // the parser's span already starts at the anchor or tag
                };
                (header, text::trim_trailing_space(source, header + 1, end))
            }
            // An empty value: an empty span just after its `:` indicator.
            ScalarStyle::Plain if text.is_empty() && bare => {
                let at = if source.as_bytes().get(start) == Some(&b':') {
                    start + 1
                } else {
                    start
                };
                (at, at)
            }
            _ => (start, end),
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
            self.nodes.push((pointer, Some(node)));
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
        let empty_root =
            self.stack.is_empty() && bare && text.is_empty() && style == ScalarStyle::Plain;
        self.attach(index, value, 1, 0, span, empty_root)
    }

    fn alias(
        &mut self,
        index: &TextIndex,
        id: usize,
        start: usize,
        end: usize,
    ) -> Result<(), SourceError> {
        let here = index.position(start);
        let name = index
            .text()
            .get(start..end)
            .unwrap_or_default()
            .trim_start_matches('*')
            .to_owned();
        let Some(anchored) = self.anchors.get(&id) else {
            let message = if self.stack.iter().any(|frame| frame.anchor == id) {
                format!(
                    "alias *{name} is inside the node anchored as &{name}, which would contain itself"
                )
            } else {
                format!(
                    "unknown anchor &{name} (an alias only reaches anchors earlier in its own document)"
                )
            };
            return Err(SourceError::at(here, message));
        };
        if self.stack.len() + anchored.depth > MAX_DEPTH {
            return Err(SourceError::at(
                here,
                format!("alias *{name} nests values deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.copied_nodes += anchored.nodes;
        let allowed = (ALIAS_ALLOWANCE + ALIAS_RATIO * self.written_nodes).min(ALIAS_LIMIT);
        if self.copied_nodes > allowed {
            return Err(SourceError::at(
                here,
                format!("aliases copy more than {allowed} nodes; refusing to expand *{name}"),
            ));
        }
        let (value, nodes, depth) = (anchored.value.clone(), anchored.nodes, anchored.depth);
        self.last_end = end;
        if self.expects_key() {
            let name = match &value {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n
                    .as_f64()
                    .filter(|_| n.is_f64())
                    .map_or_else(|| n.to_string(), scalar::go_float32_g),
                Value::Null => {
                    return Err(SourceError::at(
                        here,
                        format!("the key *{name} is null, which cannot be a JSON object key"),
                    ));
                }
                Value::Array(_) | Value::Object(_) => {
                    return Err(SourceError::at(
                        here,
                        format!("the key *{name} is a collection; JSON object keys are strings"),
                    ));
                }
            };
            return self.set_key(index, name, start, end);
        }
        let place = self.place_value(index, start)?;
        let span = index.span(start, end);
        let node = NodeSpan {
            key: place.key,
            dash: place.dash,
            value: span,
            style: Style::Alias,
            indent: None,
            anchored: false,
            tagged: false,
        };
        if let Some(pointer) = place.pointer {
            self.nodes.push((pointer, Some(node)));
        }
        self.attach(index, value, nodes, depth, span, false)
    }

    fn open(
        &mut self,
        index: &TextIndex,
        mapping: bool,
        anchor: usize,
        tagged: bool,
        start: usize,
        end: usize,
    ) -> Result<(), SourceError> {
        let here = index.position(start);
        let kind = if mapping { "mapping" } else { "sequence" };
        if self.expects_key() {
            return Err(SourceError::at(
                here,
                format!("a {kind} cannot be a key; JSON object keys are strings"),
            ));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(SourceError::at(
                here,
                format!("values nest deeper than {MAX_DEPTH} levels"),
            ));
        }
        // The parser does not say which style a collection has: a flow one
        // opens with its bracket, and everything inside a flow one is flow.
        let bracket = if mapping { b'{' } else { b'[' };
        let opens_with_bracket =
            end > start && index.text().as_bytes().get(end - 1) == Some(&bracket);
        let flow = opens_with_bracket || self.stack.last().is_some_and(|frame| frame.flow);
        let place = self.place_value(index, start)?;
        let record = place.pointer.as_ref().map(|pointer| {
            self.nodes.push((pointer.clone(), None));
            self.nodes.len() - 1
        });
        let content = if mapping {
            Content::Mapping {
                map: Map::new(),
                pending: Pending::Key,
                written: HashMap::new(),
            }
        } else {
            Content::Sequence(Vec::new())
        };
        self.stack.push(Frame {
            content,
            place,
            record,
            start,
            end,
            flow,
            anchor,
            tagged,
            indent: None,
            nodes: 0,
            child_depth: 0,
        });
        Ok(())
    }

    fn close(&mut self, index: &TextIndex, start: usize, end: usize) -> Result<(), SourceError> {
        let Some(frame) = self.stack.pop() else {
            return Err(internal(
                index,
                start,
                "the end of a collection that was never opened",
            ));
        };
        // A flow collection ends at its bracket; a block one where its last entry ends.
        let end = if end > start { end } else { frame.end };
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
        if let Some((_, slot)) = frame.record.and_then(|i| self.nodes.get_mut(i)) {
            *slot = Some(node);
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
    fn place_value(&mut self, index: &TextIndex, start: usize) -> Result<Place, SourceError> {
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
            } => Ok(Place {
                pointer: parent.map(|p| format!("{p}/{}", escape_pointer_token(name))),
                key: Some(*key),
                dash: None,
            }),
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
                let pointer = parent.map(|p| format!("{p}/{}", items.len()));
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
    fn attach(
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
            Content::Mapping { map, pending, .. } => match std::mem::replace(pending, Pending::Key)
            {
                Pending::Value { name, .. } => {
                    // A key written here replaces one merged in by `<<`.
                    map.insert(name, value);
                }
                Pending::MergeValue { at } => {
                    merge(map, value).map_err(|m| SourceError::at(index.position(at), m))?
                }
                Pending::Key => {
                    return Err(internal(index, span.start.offset, "a value without a key"));
                }
            },
        }
        Ok(())
    }
}

/// Apply `<<: source`: members the mapping does not have yet are copied in,
/// so keys written in the mapping and earlier merged mappings win.
fn merge(map: &mut Map<String, Value>, source: Value) -> Result<(), String> {
    let sources = match source {
        Value::Object(members) => vec![members],
        Value::Array(items) if items.iter().all(Value::is_object) => items
            .into_iter()
            .filter_map(|item| {
                if let Value::Object(m) = item {
                    Some(m)
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
            }
        }
    }
    Ok(())
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

/// An event sequence the parser should never produce; reported, not panicked on.
fn internal(index: &TextIndex, at: usize, what: &str) -> SourceError {
    SourceError::at(
        index.position(at),
        format!("unexpected YAML structure: {what}"),
    )
}
