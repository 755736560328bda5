//! Fixes applied to the developer's own file, changing only what they say.
//!
//! [`fix_text`] takes a manifest's text and, per object in it, the
//! [`Edit`]s to make (the one fix model, `counsel_edit`), and returns the new
//! text: minimal edits at the positions the parser reports, so comments, key
//! order, indentation, quoting, blank lines, other documents, `---`, line
//! endings and the final line break all stay as written. JSON files stay
//! JSON, with their key order and indentation.
//!
//! Every object is a unit: its edits are made one at a time (the text is
//! read again after each, so a later edit sees the parents an earlier one
//! created), and then the new text must mean exactly what
//! [`counsel_edit::apply`] makes of the old value. A unit is made in its
//! document's own lines, read on their own ([`FileFixer`]), so fixing a long
//! stream costs time in proportion to its length; once every document is
//! done, the whole new text is read again and every document must mean
//! exactly what was made of it (the others what they meant). When that does
//! not hold, or an edit touches something the editor will not change (an
//! anchored node, a copy made by an alias or a `<<` merge), the object (or,
//! for the final reading, the file) is left as it was and the reason is
//! reported: a file is never written to mean something other than the fixes
//! say.
//!
//! [`suggest`] gives the same edits as replacements in the original text,
//! in groups that apply on their own (SARIF `fixes`, suggested diffs).
//!
//! Which fixes to make is not decided here but by [`crate::remedy`]: this
//! module knows only manifest text ([`crate::source`]) and edits
//! ([`counsel_edit`]).

mod diff;
mod document;
mod json;
mod layout;
mod render;
mod suggest;
mod text;
mod yaml;

use counsel_edit::Edit;

use crate::source::Document;

pub use document::{FileFixer, FixedFile};
pub use layout::{Layout, LayoutReader};
pub use suggest::{Suggested, Suggestion, TextChange, suggest};

/// Edits of one object of a file, made or refused as a unit (one object's
/// fixes, or one finding's).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectFix {
    /// The document's [`Document::index`] in the stream.
    pub document: usize,
    /// Pointer from the document to the object: empty, or `/items/N` for an
    /// item of a `List`.
    pub prefix: String,
    /// The edits, with paths relative to the object, in order.
    pub edits: Vec<Edit>,
}

/// What became of one unit of edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectOutcome {
    /// The text was changed and means exactly what the edits say.
    Fixed,
    /// The text already said what the edits say.
    Unchanged,
    /// Nothing was changed for these edits, for this reason.
    Refused(String),
}

/// A file's new text and what became of each object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedText {
    /// The new text (the old one when nothing changed).
    pub text: String,
    /// One outcome per [`ObjectFix`], in the same order.
    pub outcomes: Vec<ObjectOutcome>,
}

impl FixedText {
    /// Whether the text differs from the one given.
    pub fn changed(&self) -> bool {
        self.outcomes.contains(&ObjectOutcome::Fixed)
    }
}

/// Makes each object's edits in `text`, whose parsed documents are
/// `documents` (from [`crate::source::parse`]); see the module docs.
pub fn fix_text(text: &str, documents: &[Document], objects: &[ObjectFix]) -> FixedText {
    let mut fixer = FileFixer::new(text, Layout::of(text, documents));
    let mut outcomes: Vec<Option<ObjectOutcome>> = vec![None; objects.len()];
    for document in documents {
        let (slots, units): (Vec<usize>, Vec<ObjectFix>) = objects
            .iter()
            .enumerate()
            .filter(|(_, object)| object.document == document.index)
            .map(|(slot, object)| (slot, object.clone()))
            .unzip();
        for (slot, outcome) in slots.into_iter().zip(fixer.document(document, &units)) {
            outcomes[slot] = Some(outcome);
        }
    }
    let mut outcomes: Vec<ObjectOutcome> = outcomes
        .into_iter()
        .zip(objects)
        .map(|(outcome, object)| {
            outcome.unwrap_or_else(|| {
                ObjectOutcome::Refused(format!(
                    "document {} is not in the file",
                    object.document + 1
                ))
            })
        })
        .collect();
    let text = match fixer.finish() {
        Ok(Some(fixed)) => fixed.text,
        Ok(None) => text.to_owned(),
        Err(reason) => {
            for outcome in &mut outcomes {
                if *outcome == ObjectOutcome::Fixed {
                    *outcome = ObjectOutcome::Refused(reason.clone());
                }
            }
            text.to_owned()
        }
    };
    FixedText { text, outcomes }
}

#[cfg(test)]
mod tests;
