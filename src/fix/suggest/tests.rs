//! Suggestions on small texts: exact replacements and their groups.

use counsel_edit::Edit;
use serde_json::json;

use super::*;
use crate::fix::Layout;
use crate::source;

/// The suggestions for the first document's units, one unit per list of edits.
fn suggested(text: &str, units: Vec<Vec<Edit>>) -> Suggested {
    let documents = source::parse(text).expect("parses");
    let units: Vec<ObjectFix> = units
        .into_iter()
        .map(|edits| ObjectFix {
            document: 0,
            prefix: String::new(),
            edits,
        })
        .collect();
    suggest(text, &Layout::of(text, &documents), &documents[0], &units)
}

fn change(old: Range<usize>, text: &str) -> TextChange {
    TextChange {
        old,
        text: text.into(),
    }
}

#[test]
fn fixes_in_different_places_are_suggested_apart() {
    let text = "a:\n  x: true\nb:\n  z: 1\n";
    let result = suggested(
        text,
        vec![
            vec![Edit::set("/a/x", json!(false))],
            vec![Edit::set("/b/z", json!(2))],
        ],
    );
    assert_eq!(
        result.outcomes,
        [ObjectOutcome::Fixed, ObjectOutcome::Fixed]
    );
    assert_eq!(
        result.suggestions,
        [
            Suggestion {
                units: vec![0],
                changes: vec![change(8..12, "false")],
            },
            Suggestion {
                units: vec![1],
                changes: vec![change(21..22, "2")],
            },
        ]
    );
}

#[test]
fn fixes_that_share_lines_are_one_suggestion() {
    // Both add a field under a parent the first one creates.
    let text = "---\nkind: Pod\nspec:\n  name: c\n";
    let result = suggested(
        text,
        vec![
            vec![Edit::set("/spec/securityContext/a", json!(false))],
            vec![Edit::set("/spec/securityContext/b", json!(true))],
            vec![Edit::set("/spec/securityContext/a", json!(false))],
        ],
    );
    assert_eq!(
        result.outcomes,
        [
            ObjectOutcome::Fixed,
            ObjectOutcome::Fixed,
            ObjectOutcome::Unchanged
        ]
    );
    assert_eq!(
        result.suggestions,
        [Suggestion {
            units: vec![0, 1, 2],
            changes: vec![change(
                29..29,
                "\n  securityContext:\n    a: false\n    b: true"
            )],
        }]
    );
}

#[test]
fn a_refused_unit_has_no_suggestion_and_positions_are_in_the_whole_text() {
    let text = "kind: A\n---\nbase: &b {x: 1}\ncopy: *b\nother: true\n";
    let result = suggested(text, vec![]);
    assert!(result.suggestions.is_empty());
    let documents = source::parse(text).expect("parses");
    let units = [
        ObjectFix {
            document: 1,
            prefix: String::new(),
            edits: vec![Edit::set("/base/x", json!(2))],
        },
        ObjectFix {
            document: 1,
            prefix: String::new(),
            edits: vec![Edit::set("/other", json!(false))],
        },
    ];
    let result = suggest(text, &Layout::of(text, &documents), &documents[1], &units);
    assert!(matches!(result.outcomes[0], ObjectOutcome::Refused(_)));
    assert_eq!(result.outcomes[1], ObjectOutcome::Fixed);
    assert_eq!(
        result.suggestions,
        [Suggestion {
            units: vec![1],
            changes: vec![change(44..48, "false")],
        }]
    );
    assert_eq!(result.of_unit(1), Some(&result.suggestions[0]));
    assert_eq!(result.of_unit(0), None);
}
