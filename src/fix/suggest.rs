//! Fixes as suggestions for tools that apply them one at a time (SARIF
//! `fixes`, review comments): the exact text replacements `--fix` makes in
//! one document, grouped so that each group applies to the original text on
//! its own and makes exactly its units' edits.
//!
//! The editor makes a document's units one after another, each in the text
//! the earlier ones left, so two units may edit the same lines (both add a
//! field to a `securityContext:` the first one created). Every text edit is
//! recorded in the original text's positions; edits that overlap or touch
//! are merged into one replacement, and units that share a replacement form
//! one group. Each group is then made alone in the original text and must
//! mean exactly what its units' edits say; if one does not, the document's
//! whole change is the one group.

use std::ops::Range;

use counsel_edit::Edit;

use super::document::{Region, in_document};
use super::layout::Layout;
use super::text::TextEdit;
use super::{ObjectFix, ObjectOutcome};
use crate::source::Document;

/// One replacement in the text given to [`suggest`]: the bytes `old` of it
/// and the text that replaces them (empty `old`: an insertion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChange {
    /// Byte range in the original text.
    pub old: Range<usize>,
    /// What replaces it.
    pub text: String,
}

/// Replacements that make some units of a document, and nothing else,
/// applied to the original text together (they never overlap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The units made, by index, in order.
    pub units: Vec<usize>,
    /// The replacements, in text order.
    pub changes: Vec<TextChange>,
}

/// What [`suggest`] found for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggested {
    /// One outcome per unit, as `--fix` would have it.
    pub outcomes: Vec<ObjectOutcome>,
    /// Groups of units and the replacements that make them.
    pub suggestions: Vec<Suggestion>,
}

impl Suggested {
    /// The suggestion that makes unit `index`, if it is made.
    pub fn of_unit(&self, index: usize) -> Option<&Suggestion> {
        self.suggestions.iter().find(|s| s.units.contains(&index))
    }
}

/// The units of one document of `text` (written as `layout` says), made as
/// `--fix` makes them, as groups of replacements in `text`; see the module
/// docs. A unit that changes nothing because an earlier one made its edits
/// joins that unit's group.
pub fn suggest(text: &str, layout: &Layout, document: &Document, units: &[ObjectFix]) -> Suggested {
    let mut region = Region::of(text, document);
    let mut tracker = Tracker::default();
    let outcomes: Vec<ObjectOutcome> = units
        .iter()
        .enumerate()
        .map(|(index, unit)| region.fix(unit, layout, Some((index, &mut tracker))))
        .collect();
    // Groups: units that share a replacement, or the edits of a unit that changed nothing.
    let mut group: Vec<usize> = (0..units.len()).collect();
    for change in &tracker.changes {
        for pair in change.units.windows(2) {
            join(&mut group, pair[0], pair[1]);
        }
    }
    for (index, outcome) in outcomes.iter().enumerate() {
        if *outcome != ObjectOutcome::Unchanged {
            continue;
        }
        let paths: Vec<String> = in_document(&units[index])
            .iter()
            .map(|edit| edit.path().to_owned())
            .collect();
        let maker = (0..index).find(|&earlier| {
            outcomes[earlier] == ObjectOutcome::Fixed
                && in_document(&units[earlier])
                    .iter()
                    .any(|edit| paths.iter().any(|path| path == edit.path()))
        });
        if let Some(earlier) = maker {
            join(&mut group, earlier, index);
        }
    }
    let mut suggestions: Vec<Suggestion> = Vec::new();
    for change in &tracker.changes {
        let root = find(&mut group, change.units[0]);
        let at = match suggestions.iter().position(|s| s.units[0] == root) {
            Some(at) => at,
            None => {
                suggestions.push(Suggestion {
                    units: vec![root],
                    changes: Vec::new(),
                });
                suggestions.len() - 1
            }
        };
        suggestions[at].changes.push(TextChange {
            old: change.old.start + region.start..change.old.end + region.start,
            text: change.text.clone(),
        });
    }
    for suggestion in &mut suggestions {
        let root = suggestion.units[0];
        suggestion.units = (0..units.len())
            .filter(|&unit| {
                matches!(
                    outcomes[unit],
                    ObjectOutcome::Fixed | ObjectOutcome::Unchanged
                ) && find(&mut group, unit) == root
            })
            .collect();
    }
    if suggestions.len() > 1
        && !suggestions
            .iter()
            .all(|s| makes_alone(text, &region, document, units, s))
    {
        let mut units: Vec<usize> = suggestions.iter().flat_map(|s| s.units.clone()).collect();
        units.sort_unstable();
        let mut changes: Vec<TextChange> =
            suggestions.into_iter().flat_map(|s| s.changes).collect();
        changes.sort_by_key(|change| change.old.start);
        suggestions = vec![Suggestion { units, changes }];
    }
    Suggested {
        outcomes,
        suggestions,
    }
}

/// Whether the suggestion, made alone in the original text, means exactly
/// what its units' edits make of the document.
fn makes_alone(
    text: &str,
    region: &Region,
    document: &Document,
    units: &[ObjectFix],
    suggestion: &Suggestion,
) -> bool {
    let mut expected = document.value.clone();
    let edits: Vec<Edit> = suggestion
        .units
        .iter()
        .flat_map(|&unit| in_document(&units[unit]))
        .collect();
    if counsel_edit::apply(&mut expected, &edits).is_err() {
        return false;
    }
    let original = region.original(text);
    let mut new = String::with_capacity(original.len());
    let mut copied = 0;
    for change in &suggestion.changes {
        let (start, end) = (
            change.old.start - region.start,
            change.old.end - region.start,
        );
        let Some(before) = original.get(copied..start) else {
            return false;
        };
        new.push_str(before);
        new.push_str(&change.text);
        copied = end;
    }
    new.push_str(original.get(copied..).unwrap_or_default());
    region
        .read(&new)
        .is_ok_and(|document| document.value == expected)
}

fn find(group: &mut [usize], unit: usize) -> usize {
    let mut root = unit;
    while group[root] != root {
        root = group[root];
    }
    group[unit] = root;
    root
}

fn join(group: &mut [usize], a: usize, b: usize) {
    let (a, b) = (find(group, a), find(group, b));
    // The smaller index is the root, so a group is named by its first unit.
    group[a.max(b)] = a.min(b);
}

/// The text edits made so far in a region, in the original text's
/// positions: sorted, never overlapping or touching.
#[derive(Debug, Clone, Default)]
pub(super) struct Tracker {
    changes: Vec<Tracked>,
}

#[derive(Debug, Clone)]
struct Tracked {
    /// Bytes of the original region text.
    old: Range<usize>,
    /// What replaces them now.
    text: String,
    /// The units whose edits made it, in order.
    units: Vec<usize>,
}

impl Tracker {
    /// Records `edit`, made for `unit` in `current` (the region's text
    /// before the edit, which is the original with every tracked change made).
    pub(super) fn record(&mut self, unit: usize, edit: &TextEdit, current: &str) {
        // How much longer the current text is than the original before a point.
        let mut delta: isize = 0;
        let mut touched: Option<(usize, usize, isize, isize)> = None;
        let mut insert_at = self.changes.len();
        for (i, change) in self.changes.iter().enumerate() {
            let start = change.old.start.saturating_add_signed(delta);
            let end = start + change.text.len();
            let after = delta + change.text.len() as isize - change.old.len() as isize;
            if end < edit.start {
                delta = after;
                continue;
            }
            if start > edit.end {
                insert_at = i;
                break;
            }
            touched = Some(match touched {
                None => (i, i, delta, after),
                Some((first, _, before, _)) => (first, i, before, after),
            });
            delta = after;
        }
        let Some((first, last, before, after)) = touched else {
            let old =
                edit.start.saturating_add_signed(-delta)..edit.end.saturating_add_signed(-delta);
            self.changes.insert(
                insert_at,
                Tracked {
                    old,
                    text: edit.text.clone(),
                    units: vec![unit],
                },
            );
            return;
        };
        let first_start = self.changes[first].old.start.saturating_add_signed(before);
        let last_end = self.changes[last].old.end.saturating_add_signed(after);
        let old_start = if edit.start < first_start {
            edit.start.saturating_add_signed(-before)
        } else {
            self.changes[first].old.start
        };
        let old_end = if edit.end > last_end {
            edit.end.saturating_add_signed(-after)
        } else {
            self.changes[last].old.end
        };
        let (from, to) = (first_start.min(edit.start), last_end.max(edit.end));
        let mut text = String::new();
        text.push_str(current.get(from..edit.start).unwrap_or_default());
        text.push_str(&edit.text);
        text.push_str(current.get(edit.end..to).unwrap_or_default());
        let mut units: Vec<usize> = Vec::new();
        for change in self.changes.drain(first..=last) {
            units.extend(change.units);
        }
        units.push(unit);
        units.sort_unstable();
        units.dedup();
        self.changes.insert(
            first,
            Tracked {
                old: old_start..old_end,
                text,
                units,
            },
        );
    }
}

#[cfg(test)]
mod tests;
