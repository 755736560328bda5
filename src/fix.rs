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
//! [`counsel_edit::apply`] makes of the old value, with every other document
//! unchanged. When that does not hold, or an edit touches something the
//! editor will not change (an anchored node, a copy made by an alias or a
//! `<<` merge), the object is left as it was and the reason is reported:
//! a file is never written to mean something other than the fixes say.
//!
//! [`select`] chooses which fixes of an object's findings to apply (each
//! edit once; findings that disagree about a field are left out; suggestions
//! only under [`FixScope::All`]).

mod json;
mod layout;
mod render;
mod select;
mod text;
mod yaml;

use counsel_edit::Edit;

use crate::source::{self, Document};

pub use select::{Conflict, FixScope, Selection, select};

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
/// `documents` (from [`source::parse`]); see the module docs.
pub fn fix_text(text: &str, documents: &[Document], objects: &[ObjectFix]) -> FixedText {
    let layout = layout::Layout::of(text, documents);
    let mut current = text.to_owned();
    let mut parsed = documents.to_vec();
    let mut outcomes = Vec::with_capacity(objects.len());
    for object in objects {
        match fix_object(&current, &parsed, object, &layout) {
            Ok(Some((new_text, new_documents))) => {
                current = new_text;
                parsed = new_documents;
                outcomes.push(ObjectOutcome::Fixed);
            }
            Ok(None) => outcomes.push(ObjectOutcome::Unchanged),
            Err(reason) => outcomes.push(ObjectOutcome::Refused(reason)),
        }
    }
    FixedText {
        text: current,
        outcomes,
    }
}

/// One object's edits: the new text and its documents, `None` when nothing
/// needed changing, or why the object is left alone.
fn fix_object(
    text: &str,
    documents: &[Document],
    object: &ObjectFix,
    layout: &layout::Layout,
) -> Result<Option<(String, Vec<Document>)>, String> {
    let find = |documents: &[Document]| -> Option<usize> {
        documents.iter().position(|d| d.index == object.document)
    };
    let position = find(documents)
        .ok_or_else(|| format!("document {} is not in the file", object.document + 1))?;
    let edits: Vec<Edit> = object
        .edits
        .iter()
        .map(|edit| match edit {
            Edit::Set { path, value } => {
                Edit::set(format!("{}{path}", object.prefix), value.clone())
            }
            Edit::Remove { path } => Edit::remove(format!("{}{path}", object.prefix)),
        })
        .collect();
    let mut expected = documents[position].value.clone();
    counsel_edit::apply(&mut expected, &edits).map_err(|e| e.to_string())?;
    let mut current = text.to_owned();
    let mut parsed: Option<Vec<Document>> = None;
    for edit in &edits {
        let now = parsed.as_deref().unwrap_or(documents);
        let document = find(now)
            .map(|i| &now[i])
            .ok_or("the document disappeared while editing it")?;
        let editor = yaml::Editor {
            text: &current,
            document,
            layout,
        };
        let Some(change) = editor.plan(edit)? else {
            continue;
        };
        let Some(next) = change.apply(&current) else {
            return Err("the editor computed an edit outside the text".to_owned());
        };
        let reparsed = source::parse(&next).map_err(|e| {
            format!("the edited text would not parse ({e}); the fix is left to a person")
        })?;
        current = next;
        parsed = Some(reparsed);
    }
    let Some(parsed) = parsed else {
        return Ok(None);
    };
    // The safety net: the new text means exactly what the edits say, and
    // nothing else in the file changed meaning.
    let unchanged_elsewhere = parsed.len() == documents.len()
        && parsed.iter().zip(documents).all(|(new, old)| {
            new.index == old.index && (new.index == object.document || new.value == old.value)
        });
    let means_the_edits = find(&parsed).is_some_and(|i| parsed[i].value == expected);
    if !(unchanged_elsewhere && means_the_edits) {
        return Err(
            "the edited text would not mean exactly what the fixes say (a YAML construct the editor does not handle); the fix is left to a person"
                .to_owned(),
        );
    }
    Ok(Some((current, parsed)))
}

#[cfg(test)]
mod tests;
