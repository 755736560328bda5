//! Turns the parser's events into documents: JSON values, and the span of
//! every node by JSON Pointer.

mod scalars;
mod tree;

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span as EventSpan};
use serde_json::Value;

use super::scalar;
use super::text::TextIndex;
use super::{Document, NodeSpan, SourceError, Style};
use scalars::ScalarEvent;
use tree::{Content, Frame, Pending};

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

/// Parse `parser_text` (the text itself, or a rewritten copy `index` maps back),
/// handing each document to `each` as soon as it is complete, except the first
/// `skip` ones (already handed over by an earlier attempt). Returns how many
/// documents there were in all.
pub(crate) fn build(
    index: &TextIndex,
    parser_text: &str,
    skip: usize,
    each: &mut dyn FnMut(Document),
) -> Result<usize, Failure> {
    let mut builder = Builder {
        index,
        each,
        skip,
        delivered: 0,
        document: None,
        next_index: 0,
        last_document_end: 0,
    };
    for event in Parser::new_from_str(parser_text) {
        let (event, span) = event.map_err(|error| {
            let position = index.position(index.offset(error.marker().index()));
            let failure = match error.info() {
                // The parser's own guard against deep nesting, deeper than ours.
                "recursion limit exceeded" => SourceError::at(
                    position,
                    format!("values nest deeper than {MAX_DEPTH} levels"),
                ),
                info => SourceError::at(position, info),
            };
            if error.info().contains("invalid Unicode character escape") {
                Failure::EscapeRejected(failure)
            } else {
                Failure::Error(failure)
            }
        })?;
        builder.on_event(event, span).map_err(Failure::Error)?;
    }
    builder.finish_document();
    Ok(builder.delivered)
}

struct Builder<'i, 't, 'e> {
    index: &'i TextIndex<'t>,
    each: &'e mut dyn FnMut(Document),
    /// Documents not to hand over again.
    skip: usize,
    /// Documents complete so far.
    delivered: usize,
    document: Option<DocumentState>,
    next_index: usize,
    /// Where the last document ended (after its `...`, if any).
    last_document_end: usize,
}

impl Builder<'_, '_, '_> {
    fn on_event(&mut self, event: Event, span: EventSpan) -> Result<(), SourceError> {
        let start = self.index.offset(span.start.index());
        let end = self.index.offset(span.end.index()).max(start);
        match event {
            Event::DocumentStart(explicit) => {
                self.finish_document();
                // After `---`; an implicit start's span covers (part of) the first
                // token, so its content can only be said to follow the last document.
                let content = if explicit {
                    end
                } else {
                    self.last_document_end
                };
                // Room for the document's nodes (about one per 8 bytes up to the next
                // `---`), so that the list is not copied over and over as it grows.
                let rest = self.index.text().get(content..).unwrap_or_default();
                let expected_nodes = rest.find("\n---").unwrap_or(rest.len()) / 8;
                self.document = Some(DocumentState::new(self.next_index, content, expected_nodes));
                self.next_index += 1;
                Ok(())
            }
            Event::DocumentEnd => {
                self.last_document_end = end;
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
        self.delivered += 1;
        if self.delivered > self.skip {
            (self.each)(Document::new(document.index, value, span, document.nodes));
        }
    }
}

/// A node copied by aliases.
struct Anchored {
    value: Value,
    nodes: usize,
    depth: usize,
}

/// The document being built.
struct DocumentState {
    index: usize,
    /// The collections open around the current event.
    stack: Vec<Frame>,
    /// Spans by pointer in text order; a collection's is filled in when it closes.
    nodes: Vec<(String, NodeSpan)>,
    anchors: HashMap<usize, Anchored>,
    root: Option<(Value, super::Span)>,
    /// Whether the document has no content at all.
    empty: bool,
    /// Where the last token ended, to find block scalar headers after it.
    last_end: usize,
    written_nodes: usize,
    copied_nodes: usize,
}

impl DocumentState {
    fn new(index: usize, start: usize, expected_nodes: usize) -> Self {
        DocumentState {
            index,
            stack: Vec::new(),
            nodes: Vec::with_capacity(expected_nodes),
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
                let scalar = ScalarEvent {
                    text,
                    style,
                    anchor,
                    tag: tag.as_deref(),
                    start,
                    end,
                };
                if self.expects_key() {
                    self.key_scalar(index, scalar)
                } else {
                    self.value_scalar(index, scalar)
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

    fn alias(
        &mut self,
        index: &TextIndex,
        id: usize,
        start: usize,
        end: usize,
    ) -> Result<(), SourceError> {
        let name = index
            .text()
            .get(start..end)
            .unwrap_or_default()
            .trim_start_matches('*');
        let at = |message: String| SourceError::at(index.position(start), message);
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(at(if self.stack.iter().any(|frame| frame.anchor == id) {
                format!(
                    "alias *{name} is inside the node anchored as &{name}, which would contain itself"
                )
            } else {
                format!(
                    "unknown anchor &{name} (an alias only reaches anchors earlier in its own document)"
                )
            }));
        };
        if self.stack.len() + anchored.depth > MAX_DEPTH {
            return Err(at(format!(
                "alias *{name} nests values deeper than {MAX_DEPTH} levels"
            )));
        }
        self.copied_nodes += anchored.nodes;
        let allowed = (ALIAS_ALLOWANCE + ALIAS_RATIO * self.written_nodes).min(ALIAS_LIMIT);
        if self.copied_nodes > allowed {
            return Err(at(format!(
                "aliases copy more than {allowed} nodes; refusing to expand *{name}"
            )));
        }
        let (value, nodes, depth) = (anchored.value.clone(), anchored.nodes, anchored.depth);
        self.last_end = end;
        if self.expects_key() {
            let key = match &value {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) if n.is_f64() => n
                    .as_f64()
                    .map_or_else(|| n.to_string(), scalar::go_float32_g),
                Value::Number(n) => n.to_string(),
                Value::Null => {
                    return Err(at(format!(
                        "the key *{name} is null, which cannot be a JSON object key"
                    )));
                }
                Value::Array(_) | Value::Object(_) => {
                    return Err(at(format!(
                        "the key *{name} is a collection; JSON object keys are strings"
                    )));
                }
            };
            return self.set_key(index, key, start, end);
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
            self.nodes.push((pointer, node));
        }
        self.attach(index, value, nodes, depth, span, false)
    }
}

/// An event sequence the parser should never produce; reported, not panicked on.
fn internal(index: &TextIndex, at: usize, what: &str) -> SourceError {
    SourceError::at(
        index.position(at),
        format!("unexpected YAML structure: {what}"),
    )
}
