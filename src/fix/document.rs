//! A file fixed one document at a time: each document's units are made in
//! the document's own text, read on its own, so the work grows with the
//! file, not with the file times its fixes; the file is read once more,
//! whole, at the end to check that it means exactly what was made of it.

use std::ops::Range;

use counsel_edit::Edit;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::layout::Layout;
use super::suggest::Tracker;
use super::text;
use super::yaml;
use super::{ObjectFix, ObjectOutcome};
use crate::source::{self, Document};

/// A unit's edits with paths from the document (the object's prefix put before each).
pub(super) fn in_document(unit: &ObjectFix) -> Vec<Edit> {
    unit.edits
        .iter()
        .map(|edit| match edit {
            Edit::Set { path, value } => Edit::set(format!("{}{path}", unit.prefix), value.clone()),
            Edit::Remove { path } => Edit::remove(format!("{}{path}", unit.prefix)),
        })
        .collect()
}

/// What every refusal of the safety net says.
const MEANS_SOMETHING_ELSE: &str = "the edited text would not mean exactly what the fixes say (a YAML construct the editor does not handle); the fix is left to a person";

/// Fingerprint of a document's value (its canonical JSON: keys sorted).
type Fingerprint = [u8; 32];

fn fingerprint(value: &Value) -> Fingerprint {
    Sha256::digest(serde_json::to_vec(value).unwrap_or_default()).into()
}

/// Fixes one file: shown every document of its text in order, with the
/// units of edits to make in it; then [`FileFixer::finish`] makes the new
/// text and checks it.
pub struct FileFixer<'t> {
    text: &'t str,
    layout: Layout,
    /// Replacements in the old text, in text order, never overlapping.
    pieces: Vec<Replacement>,
    /// What each document must mean in the new text, in order.
    expected: Vec<Fingerprint>,
}

/// A stretch of the old text and what replaces it.
#[derive(Debug, Clone)]
struct Replacement {
    old: Range<usize>,
    text: String,
}

/// A stretch of the old text and the length of what replaced it.
#[derive(Debug, Clone)]
pub(super) struct Piece {
    pub(super) old: Range<usize>,
    pub(super) new_len: usize,
}

/// A file's new text, checked.
#[derive(Debug, Clone)]
pub struct FixedFile<'t> {
    old: &'t str,
    pieces: Vec<Piece>,
    /// The new text.
    pub text: String,
}

impl FixedFile<'_> {
    /// The change as a unified diff (`--- name`, `+++ name (fixed)`, hunks
    /// with three lines of context), made from the changed stretches only.
    pub fn diff(&self, name: &str) -> String {
        super::diff::unified(name, self.old, &self.text, &self.pieces)
    }
}

impl<'t> FileFixer<'t> {
    /// A fixer of `text`, written as `layout` says.
    pub fn new(text: &'t str, layout: Layout) -> Self {
        FileFixer {
            text,
            layout,
            pieces: Vec::new(),
            expected: Vec::new(),
        }
    }

    /// Makes the units of one document, the next one of the text (every
    /// document must be shown, in order, with units or without). Each unit
    /// is made or refused on its own, in order; one outcome per unit.
    pub fn document(&mut self, document: &Document, units: &[ObjectFix]) -> Vec<ObjectOutcome> {
        if units.is_empty() {
            self.expected.push(fingerprint(&document.value));
            return Vec::new();
        }
        let mut region = Region::of(self.text, document);
        let mut outcomes: Vec<ObjectOutcome> = units
            .iter()
            .map(|unit| region.fix(unit, &self.layout, None))
            .collect();
        let end = region.text.len().saturating_sub(region.suffix);
        let changed = outcomes.contains(&ObjectOutcome::Fixed);
        let old = region.start + region.prefix..region.end.saturating_sub(region.suffix);
        let after_the_last = self
            .pieces
            .last()
            .is_none_or(|last| last.old.end <= old.start);
        match region.text.get(region.prefix..end) {
            Some(new) if changed && after_the_last && old.start <= old.end => {
                self.pieces.push(Replacement {
                    old,
                    text: new.to_owned(),
                });
                self.expected.push(fingerprint(&region.document.value));
            }
            _ => {
                if changed {
                    // Cannot happen (each document's change lies within it).
                    for outcome in &mut outcomes {
                        if *outcome == ObjectOutcome::Fixed {
                            *outcome = ObjectOutcome::Refused(MEANS_SOMETHING_ELSE.into());
                        }
                    }
                }
                self.expected.push(fingerprint(&document.value));
            }
        }
        outcomes
    }

    /// The new text, `None` when nothing changed. The new text is read
    /// whole and must mean, document by document, exactly what was made of
    /// each; otherwise nothing is changed, and the error says why.
    pub fn finish(self) -> Result<Option<FixedFile<'t>>, String> {
        if self.pieces.is_empty() {
            return Ok(None);
        }
        let growth: usize = self.pieces.iter().map(|p| p.text.len()).sum();
        let mut new = String::with_capacity(self.text.len() + growth);
        let mut copied = 0;
        for piece in &self.pieces {
            new.push_str(self.text.get(copied..piece.old.start).unwrap_or_default());
            new.push_str(&piece.text);
            copied = piece.old.end;
        }
        new.push_str(self.text.get(copied..).unwrap_or_default());
        // The replacements' texts are in `new` now; the diff needs only where they are.
        let pieces: Vec<Piece> = self
            .pieces
            .into_iter()
            .map(|piece| Piece {
                old: piece.old,
                new_len: piece.text.len(),
            })
            .collect();
        let mut seen = 0;
        let mut same = true;
        let read = source::parse_each(&new, |document| {
            same &= self.expected.get(seen) == Some(&fingerprint(&document.value));
            seen += 1;
        });
        match read {
            Err(error) => Err(format!(
                "the edited text would not parse ({error}); the fixes are left to a person"
            )),
            Ok(()) if !same || seen != self.expected.len() => Err(MEANS_SOMETHING_ELSE.into()),
            Ok(()) => Ok(Some(FixedFile {
                old: self.text,
                pieces,
                text: new,
            })),
        }
    }
}

/// The text one document's units are made in: its own lines, read on their
/// own, or (when those do not read as the document, e.g. a `|+` scalar that
/// keeps the blank lines after it) the whole file.
pub(super) struct Region {
    /// Where the region is in the old text.
    pub(super) start: usize,
    end: usize,
    /// Its current text and what that says.
    text: String,
    pub(super) document: Document,
    /// For the whole file: the fingerprints of the other documents, which
    /// must not change.
    others: Option<Vec<Fingerprint>>,
    /// Bytes at the start and at the end of the region that no edit touched.
    prefix: usize,
    suffix: usize,
    /// Lines of the file before the region (its documents' positions are
    /// moved down by as many, so that messages name the file's lines).
    lines_before: usize,
}

impl Region {
    pub(super) fn of(text: &str, document: &Document) -> Region {
        let start = text::line_start(text, document.span.start.offset);
        let end = text::next_line_start(text, document.span.end.offset);
        let own = text.get(start..end).unwrap_or_default();
        let mut read = Vec::new();
        let alone = source::parse_each(own, |d| read.push(d)).is_ok()
            && read.len() == 1
            && read[0].value == document.value;
        if let (true, Some(mut alone)) = (alone, read.pop()) {
            let lines_before = document.span.start.line.saturating_sub(1);
            alone.shift_lines(lines_before);
            return Region {
                start,
                end,
                text: own.to_owned(),
                document: alone,
                others: None,
                prefix: own.len(),
                suffix: own.len(),
                lines_before,
            };
        }
        let mut others = Vec::new();
        let _ = source::parse_each(text, |d| {
            if d.index != document.index {
                others.push(fingerprint(&d.value));
            }
        });
        Region {
            start: 0,
            end: text.len(),
            text: text.to_owned(),
            document: document.clone(),
            others: Some(others),
            prefix: text.len(),
            suffix: text.len(),
            lines_before: 0,
        }
    }

    /// Makes one unit: its edits one at a time (the text is read again
    /// after each, so a later edit sees the parents an earlier one created),
    /// then the new text must mean exactly what `counsel_edit::apply` makes
    /// of the old value, or the region is left as it was. `tracker`, when
    /// given, records each text edit of a unit that is made, as `(index,
    /// tracker)`: the unit's index.
    pub(super) fn fix(
        &mut self,
        unit: &ObjectFix,
        layout: &Layout,
        tracker: Option<(usize, &mut Tracker)>,
    ) -> ObjectOutcome {
        let edits = in_document(unit);
        // The tracker's changes if this unit is made.
        let mut tracked = tracker.map(|(index, tracker)| (index, tracker.clone(), tracker));
        let mut expected = self.document.value.clone();
        if let Err(error) = counsel_edit::apply(&mut expected, &edits) {
            return ObjectOutcome::Refused(error.to_string());
        }
        let mut current: Option<(String, Document)> = None;
        let (mut prefix, mut suffix) = (self.prefix, self.suffix);
        for edit in &edits {
            let (text, document) = match &current {
                Some((text, document)) => (text.as_str(), document),
                None => (self.text.as_str(), &self.document),
            };
            let editor = yaml::Editor {
                text,
                document,
                layout,
            };
            let change = match editor.plan(edit) {
                Ok(Some(change)) => change,
                Ok(None) => continue,
                Err(reason) => return ObjectOutcome::Refused(reason),
            };
            let Some(next) = change.apply(text) else {
                return ObjectOutcome::Refused(
                    "the editor computed an edit outside the text".into(),
                );
            };
            prefix = prefix.min(change.start);
            suffix = suffix.min(text.len().saturating_sub(change.end));
            if let Some((index, changes, _)) = &mut tracked {
                changes.record(*index, &change, text);
            }
            let document = match self.read(&next) {
                Ok(document) => document,
                Err(reason) => return ObjectOutcome::Refused(reason),
            };
            current = Some((next, document));
        }
        let Some((text, document)) = current else {
            return ObjectOutcome::Unchanged;
        };
        if document.value != expected {
            return ObjectOutcome::Refused(MEANS_SOMETHING_ELSE.into());
        }
        (self.text, self.document) = (text, document);
        (self.prefix, self.suffix) = (prefix, suffix);
        if let Some((_, changes, tracker)) = tracked {
            *tracker = changes;
        }
        ObjectOutcome::Fixed
    }

    /// The region's text as it was before any unit was made.
    pub(super) fn original<'t>(&self, file: &'t str) -> &'t str {
        file.get(self.start..self.end).unwrap_or_default()
    }

    /// The document in an edited text of the region; for the whole file,
    /// every other document must still mean what it meant.
    pub(super) fn read(&self, text: &str) -> Result<Document, String> {
        let mut found = None;
        let mut count = 0;
        let mut others = Vec::new();
        let index = self.document.index;
        source::parse_each(text, |document| {
            count += 1;
            match &self.others {
                None => found = Some(document),
                Some(_) if document.index == index => found = Some(document),
                Some(_) => others.push(fingerprint(&document.value)),
            }
        })
        .map_err(|e| {
            format!("the edited text would not parse ({e}); the fix is left to a person")
        })?;
        let unchanged = match &self.others {
            None => count == 1,
            Some(before) => *before == others,
        };
        match found {
            Some(mut document) if unchanged => {
                document.shift_lines(self.lines_before);
                Ok(document)
            }
            _ => Err(MEANS_SOMETHING_ELSE.into()),
        }
    }
}
