//! Manifests as JSON values that remember where every node was written.
//!
//! [`parse`] reads a YAML stream (or JSON, which is YAML flow syntax) into
//! one [`Document`] per YAML document: its value as `serde_json::Value`, read
//! the way Kubernetes reads it (sigs.k8s.io/yaml over go-yaml v2), plus the
//! exact source position of every node, addressed by JSON Pointer. Diagnostics
//! use the positions to point at the line a developer wrote; `--fix` uses the
//! key and value spans, styles and indentation to make minimal text edits.
//!
//! # How YAML becomes JSON
//! - Plain scalars resolve as go-yaml v2 does (YAML 1.1): `~`, `null`, `Null`,
//!   `NULL` and nothing are null; `true`/`false`, `yes`/`no`, `on`/`off` and `y`/`n`
//!   (each in lower, Capitalised and UPPER case) are booleans; integers may have a
//!   sign, `_` separators and `0x`, `0o`, `0b` or a leading `0` (octal); floats
//!   follow `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`. Integers beyond
//!   64 bits become floats; floats beyond `f64` stay strings. Timestamps stay strings.
//! - `.inf`, `-.inf` and `.nan` are an error: JSON cannot represent them and
//!   Kubernetes fails on them as well.
//! - Quoted and block (`|`, `>`) scalars are strings. Tags `!!str`, `!!int`,
//!   `!!float`, `!!bool`, `!!null` force or check the type, `!!binary` is decoded,
//!   other tags leave the text as a string; tags on collections are ignored.
//! - Keys become strings as sigs.k8s.io/yaml makes them: `1` → `"1"`, `yes` →
//!   `"true"`, `1.5` → `"1.5"` (Go's `%g` of a 32-bit float). Null, mapping and
//!   sequence keys are errors, and so is a key written twice in one mapping
//!   (after this conversion, so `1` and `"1"` collide).
//! - Aliases are resolved by copying the anchored value. Merge keys (`<<: *base`,
//!   `<<: [*a, *b]`) copy the members that the mapping does not define itself;
//!   of several merged mappings the first wins. (go-yaml v2 lets a merge written
//!   after a key override it; here the key always wins, as the merge spec says.)
//! - Documents without content (only comments, or an empty `---`) are left out,
//!   but still counted by [`Document::index`], the document's position in the
//!   stream as every YAML tool counts it.
//! - A stream nested deeper than 128 levels, or one whose aliases expand to far
//!   more nodes than it contains, is rejected.
//! - JSON goes through the same parser, so JSON files get positions too; its
//!   values come out exactly as `serde_json` reads them (integers stay integers,
//!   `1.0` stays a float), and UTF-16 surrogate pair escapes (`"\ud83d\ude00"`),
//!   which YAML itself rejects, are accepted.
//! - A syntax error reports the parser's message at the parser's position.
//!
//! # Which nodes have positions
//! Every node written in the text has a [`NodeSpan`] under its pointer. Nodes
//! that exist only as copies (inside an alias, or merged in by `<<`) have none:
//! [`Document::locate`] then answers with the alias or the mapping they were
//! merged into, which is also where an edit has to go.

mod builder;
mod encoding;
mod rewrite;
mod scalar;
mod text;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

pub use encoding::{Encoding, decode};

/// A place in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Position {
    /// Byte offset from the start of the text.
    pub offset: usize,
    /// Line, from 1. LF, CRLF and a lone CR each end a line.
    pub line: usize,
    /// Column, from 1, counted in characters (a leading byte order mark is not counted).
    pub column: usize,
}

/// A stretch of text, `start` inclusive and `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First character.
    pub start: Position,
    /// Just past the last character.
    pub end: Position,
}

impl Span {
    /// The text this span covers (empty if `text` is not the parsed text).
    pub fn slice<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.start.offset..self.end.offset)
            .unwrap_or_default()
    }
}

/// How a node is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    /// `key: value` lines.
    BlockMapping,
    /// `{key: value}`, or a lone `key: value` pair inside a flow sequence.
    FlowMapping,
    /// `- item` lines.
    BlockSequence,
    /// `[item, item]`.
    FlowSequence,
    /// An unquoted scalar (also an empty value).
    Plain,
    /// `'text'`.
    SingleQuoted,
    /// `"text"`, which is how every JSON string is written.
    DoubleQuoted,
    /// `|` block scalar.
    Literal,
    /// `>` block scalar.
    Folded,
    /// `*name`, a copy of an anchored node.
    Alias,
}

impl Style {
    /// Whether the node is a flow collection (`{…}`, `[…]`, or a pair inside
    /// one). Scalars inside a flow collection have their own scalar style.
    pub fn is_flow(self) -> bool {
        matches!(self, Style::FlowMapping | Style::FlowSequence)
    }
}

/// Where one node is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    /// The key, for a member of a mapping (quotes included).
    pub key: Option<Span>,
    /// The `-` indicator, for an item of a block sequence.
    pub dash: Option<Span>,
    /// The node itself, with its anchor and tag, never the blanks or comment
    /// after it: a quoted scalar ends at its closing quote, a flow collection at
    /// its bracket, a block scalar spans from its `|`/`>` header to its last
    /// non-blank line, a block collection from its first key or dash to the end
    /// of its last entry. An empty value is an empty span right after its `:`,
    /// its `-`, or its `? key`.
    pub value: Span,
    /// How the node is written.
    pub style: Style,
    /// For a block collection: the column (from 0) of its entries' keys or
    /// dashes, i.e. the indentation a new entry needs.
    pub indent: Option<usize>,
    /// Whether the node defines an anchor (`&name`); editing it also changes
    /// every alias of it.
    pub anchored: bool,
    /// Whether the node has an explicit tag (`!!str`, `!thing`).
    pub tagged: bool,
}

/// One YAML document of a stream, as JSON, with positions.
#[derive(Debug, Clone)]
pub struct Document {
    /// Position of the document in the stream, from 0, counting documents
    /// without content that [`parse`] leaves out.
    pub index: usize,
    /// The document's content.
    pub value: Value,
    /// Where the content is written.
    pub span: Span,
    /// Every node written in the text, in text order, by JSON Pointer.
    nodes: Vec<(String, NodeSpan)>,
    /// Position in `nodes` of each pointer, built on the first lookup (most
    /// documents are never asked).
    lookup: OnceLock<HashMap<String, usize>>,
}

/// The answer of [`Document::locate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The pointer asked for when it exists in the text, otherwise its deepest
    /// ancestor that does.
    pub pointer: String,
    /// Whether `pointer` is the one asked for.
    pub exact: bool,
    /// Where to point: the node's value when exact; otherwise the ancestor's key
    /// (`securityContext:` for a missing field in it), or its value when it has
    /// no key (a sequence item, the document).
    pub span: Span,
    /// Everything known about the node at `pointer`.
    pub node: NodeSpan,
}

impl Document {
    /// The node at an RFC 6901 JSON Pointer (`""` is the document,
    /// `/spec/containers/0/name` a field; `~1` stands for `/`, `~0` for `~`).
    /// `None` when no such node is written in the text.
    pub fn node(&self, pointer: &str) -> Option<&NodeSpan> {
        let lookup = self.lookup.get_or_init(|| {
            let pointers = self.nodes.iter().enumerate();
            pointers
                .map(|(i, (pointer, _))| (pointer.clone(), i))
                .collect()
        });
        lookup
            .get(pointer)
            .and_then(|&i| self.nodes.get(i))
            .map(|(_, node)| node)
    }

    /// Where a diagnostic about `pointer` should point: the node itself, or for
    /// a field that is missing (or exists only as a copy) its nearest ancestor
    /// written in the text.
    pub fn locate(&self, pointer: &str) -> Located {
        let mut candidate = pointer;
        loop {
            if let Some(node) = self.node(candidate) {
                let exact = candidate == pointer;
                let span = if exact {
                    node.value
                } else {
                    node.key.unwrap_or(node.value)
                };
                return Located {
                    pointer: candidate.to_owned(),
                    exact,
                    span,
                    node: *node,
                };
            }
            match candidate.rfind('/') {
                Some(parent) => candidate = &candidate[..parent],
                None if !candidate.is_empty() => candidate = "",
                None => break,
            }
        }
        // Every document has its root node; this is only reached if it did not.
        let node = NodeSpan {
            key: None,
            dash: None,
            value: self.span,
            style: Style::Plain,
            indent: None,
            anchored: false,
            tagged: false,
        };
        Located {
            pointer: String::new(),
            exact: pointer.is_empty(),
            span: self.span,
            node,
        }
    }

    /// Every node written in the text, in text order, with its pointer.
    pub fn nodes(&self) -> impl Iterator<Item = (&str, &NodeSpan)> {
        self.nodes
            .iter()
            .map(|(pointer, node)| (pointer.as_str(), node))
    }

    /// Moves every position `lines` lines down (offsets and columns stay):
    /// for a document read out of its file on its own, whose messages must
    /// name the file's lines.
    pub fn shift_lines(&mut self, lines: usize) {
        let shift = |span: &mut Span| {
            span.start.line += lines;
            span.end.line += lines;
        };
        shift(&mut self.span);
        for (_, node) in &mut self.nodes {
            shift(&mut node.value);
            if let Some(key) = &mut node.key {
                shift(key);
            }
            if let Some(dash) = &mut node.dash {
                shift(dash);
            }
        }
    }

    fn new(index: usize, value: Value, span: Span, nodes: Vec<(String, NodeSpan)>) -> Self {
        Document {
            index,
            value,
            span,
            nodes,
            lookup: OnceLock::new(),
        }
    }
}

/// A manifest that cannot be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct SourceError {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
    /// Byte offset from the start of the text.
    pub offset: usize,
    /// What is wrong, e.g. `duplicate key "name" (first on line 3)`.
    pub message: String,
}

impl SourceError {
    fn at(position: Position, message: impl Into<String>) -> Self {
        SourceError {
            line: position.line,
            column: position.column,
            offset: position.offset,
            message: message.into(),
        }
    }
}

/// Read a YAML stream, or JSON, into its documents (see the module docs for
/// how values are resolved). Fails on the first syntax or conversion error.
pub fn parse(text: &str) -> Result<Vec<Document>, SourceError> {
    let mut documents = Vec::new();
    parse_each(text, |document| documents.push(document))?;
    Ok(documents)
}

/// Like [`parse`], handing each document to `each` as soon as it is read, so
/// that a stream of any length can be handled one document at a time. On a
/// syntax or conversion error, the documents before it have been handed over.
pub fn parse_each(text: &str, mut each: impl FnMut(Document)) -> Result<(), SourceError> {
    let index = text::TextIndex::new(text);
    let masked = rewrite::mask_reserved_directives(text);
    let mut delivered = 0;
    let first = builder::build(
        &index,
        masked.as_deref().unwrap_or(text),
        0,
        &mut |document| {
            delivered += 1;
            each(document);
        },
    );
    match first {
        // Only JSON has surrogate pairs, and JSON has no directives: the
        // rewrite starts from the original text, and the documents read before
        // the escape are not handed over again.
        Err(builder::Failure::EscapeRejected(error)) => {
            match rewrite::rewrite_surrogate_pairs(text) {
                Some((rewritten, offsets)) => {
                    let index = text::TextIndex::with_offsets(text, Some(offsets));
                    builder::build(&index, &rewritten, delivered, &mut each)
                        .map(drop)
                        .map_err(builder::Failure::into_error)
                }
                None => Err(error),
            }
        }
        result => result.map(drop).map_err(builder::Failure::into_error),
    }
}

/// A key or index as a JSON Pointer reference token (`~` → `~0`, `/` → `~1`).
pub fn escape_pointer_token(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}
