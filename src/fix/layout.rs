//! How a file is written, so that new lines look like their neighbours:
//! its line break, whether it is JSON, and how far it indents nested
//! mappings, sequences under a key and mappings inside sequence items.

use std::collections::HashMap;

use crate::source::{Document, Style};

use super::text;

/// The conventions of one file (see [`Layout::reader`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `\n` or `\r\n`.
    pub(super) newline: &'static str,
    /// Whether the file is JSON (every value is then written as JSON).
    pub(super) json: bool,
    /// Whether JSON puts a blank after `:` and `,` (not when minified).
    pub(super) json_spaced: bool,
    /// Columns a nested mapping's keys sit right of its parent's key (YAML),
    /// or a member right of its container's line (JSON).
    pub(super) indent: usize,
    /// Columns a block sequence's dashes sit right of its key (often 0 or 2).
    pub(super) sequence_indent: usize,
    /// Columns from a dash to the first key of a mapping in that item.
    pub(super) item_indent: usize,
}

/// Reads a file's conventions one document at a time, so that a long stream
/// need not be held in memory whole.
pub struct LayoutReader<'t> {
    text: &'t str,
    json: bool,
    indents: Tally,
    sequence_indents: Tally,
    item_indents: Tally,
}

impl Layout {
    /// Reads the conventions off `text` and its documents; where the file has
    /// no example, the common ones (two spaces, indented sequences).
    pub fn of(text: &str, documents: &[Document]) -> Layout {
        let mut reader = Layout::reader(text);
        for document in documents {
            reader.read(document);
        }
        reader.finish()
    }

    /// A reader of `text`'s conventions, to be shown each of its documents.
    pub fn reader(text: &str) -> LayoutReader<'_> {
        LayoutReader {
            text,
            json: is_json(text),
            indents: Tally::default(),
            sequence_indents: Tally::default(),
            item_indents: Tally::default(),
        }
    }
}

impl LayoutReader<'_> {
    /// Takes note of how one document of the text is written.
    pub fn read(&mut self, document: &Document) {
        let (text, json) = (self.text, self.json);
        let mut nodes = document.nodes().peekable();
        while let Some((_, node)) = nodes.next() {
            match (node.style, node.key, node.dash, node.indent) {
                (Style::BlockMapping, Some(key), _, Some(indent)) => {
                    self.indents.add(indent.checked_sub(key.start.column - 1));
                }
                (Style::BlockMapping, None, Some(dash), Some(indent)) => {
                    self.item_indents
                        .add(indent.checked_sub(dash.start.column - 1));
                }
                (Style::BlockSequence, Some(key), _, Some(indent)) => {
                    self.sequence_indents
                        .add(indent.checked_sub(key.start.column - 1));
                }
                (Style::FlowMapping | Style::FlowSequence, _, _, _) if json => {
                    // A member on a line of its own, right of its container's
                    // line. Nodes come in text order: the next is the first member.
                    let opening = node.value.start.offset;
                    let first_member = nodes.peek().map(|(_, n)| n.key.unwrap_or(n.value).start);
                    if let Some(member) = first_member
                        && member.line > node.value.start.line
                        && member.offset < node.value.end.offset
                    {
                        let own = text::line_start(text, opening);
                        let base = text
                            .get(own..)
                            .map_or(0, |s| s.bytes().take_while(|&b| b == b' ').count());
                        self.indents.add((member.column - 1).checked_sub(base));
                    }
                }
                _ => {}
            }
        }
    }

    /// The conventions read.
    pub fn finish(self) -> Layout {
        let indent = self.indents.most_common().filter(|&n| n > 0).unwrap_or(2);
        Layout {
            newline: text::newline_of(self.text),
            json: self.json,
            json_spaced: !self.json || self.text.contains("\": ") || self.text.contains("\" : "),
            indent,
            sequence_indent: self.sequence_indents.most_common().unwrap_or(indent),
            item_indent: self
                .item_indents
                .most_common()
                .filter(|&n| n >= 2)
                .unwrap_or(2),
        }
    }
}

/// Whether the text is one JSON value (what `kubectl get -o json` writes).
fn is_json(text: &str) -> bool {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    body.starts_with(['{', '['])
        && serde_json::from_str::<serde::de::IgnoredAny>(text.trim_start_matches('\u{feff}'))
            .is_ok()
}

/// Counts of observed widths.
#[derive(Default)]
struct Tally(HashMap<usize, usize>);

impl Tally {
    fn add(&mut self, width: Option<usize>) {
        if let Some(width) = width {
            *self.0.entry(width).or_default() += 1;
        }
    }

    /// The width seen most often; of equally common ones, the smallest.
    fn most_common(&self) -> Option<usize> {
        self.0
            .iter()
            .max_by_key(|&(width, count)| (*count, std::cmp::Reverse(*width)))
            .map(|(width, _)| *width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source;

    fn layout(text: &str) -> Layout {
        Layout::of(text, &source::parse(text).expect("parses"))
    }

    #[test]
    fn reads_indentation_from_the_file() {
        let text = "a:\n    b:\n        c: 1\n    list:\n    - x: 1\n      y: 2\n";
        let found = layout(text);
        assert_eq!(
            (
                found.indent,
                found.sequence_indent,
                found.item_indent,
                found.json
            ),
            (4, 0, 2, false)
        );
        assert_eq!(found.newline, "\n");
        let found = layout("a:\r\n  l:\r\n    -   k: 1\r\n        j: 2\r\n");
        assert_eq!(
            (found.indent, found.sequence_indent, found.item_indent),
            (2, 2, 4)
        );
        assert_eq!(found.newline, "\r\n");
        let found = layout("{\n    \"a\": {\n        \"b\": [1]\n    }\n}\n");
        assert!(found.json);
        assert_eq!(found.indent, 4);
        let found = layout("kind: Pod\n");
        assert_eq!((found.indent, found.sequence_indent), (2, 2));
    }
}
