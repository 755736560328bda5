//! `counsel::source`: manifests as JSON values with the position of every node.

mod layout;
mod locate;
mod positions;
mod robustness;
mod values;

use counsel::source::{Document, Span, parse};

/// `line:column-line:column` of a span, to compare positions at a glance.
pub fn at(span: Span) -> String {
    format!(
        "{}:{}-{}:{}",
        span.start.line, span.start.column, span.end.line, span.end.column
    )
}

/// The one document of `text`.
pub fn single(text: &str) -> Document {
    let mut documents = parse(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(documents.len(), 1, "expected one document");
    documents.remove(0)
}

/// The key and value positions of the node at `pointer`, and the text of its value.
pub fn node(document: &Document, text: &str, pointer: &str) -> (Option<String>, String, String) {
    let node = document
        .node(pointer)
        .unwrap_or_else(|| panic!("no node at {pointer:?}"));
    (
        node.key.map(at),
        at(node.value),
        node.value.slice(text).to_owned(),
    )
}
