//! Each finding's fix as text replacements in the file, for the outputs
//! that offer fixes to apply (SARIF `fixes`, Markdown suggested diffs): the
//! very edits `counsel check --fix=all` makes, from [`counsel::fix::suggest`].
//!
//! Findings whose edits share lines (two fields added to one new
//! `securityContext:`) share one fix, which makes them all; every fix
//! applies to the file as it is on its own, and all of them together (each
//! distinct one once) make exactly what `--fix=all` makes.

use std::rc::Rc;

use counsel::engine::FixSafety;
use counsel::fix::{self, Layout, ObjectFix, TextChange};
use counsel::remedy::{FixScope, Remedy};
use counsel::source::{self, Document};

use super::inputs::Checked;

/// One fix: replacements in the file's text and what they fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingFix {
    /// The replacements, in text order, never overlapping.
    pub changes: Vec<TextChange>,
    /// What it does, per finding it fixes: `set FIELD: VALUE`.
    pub summaries: Vec<String>,
    /// `[policy/rule]` of each finding it fixes, in order.
    pub labels: Vec<String>,
    /// Whether every one of its edits is safe to make unattended (otherwise
    /// it holds a suggestion: a person checks it suits the image).
    pub safe: bool,
}

impl FindingFix {
    /// One sentence for the fix: what it sets, whom it fixes besides, and
    /// how safe it is.
    pub fn description(&self) -> String {
        let mut text = self.summaries.join("; ");
        if self.labels.len() > 1 {
            text.push_str(&format!(
                " (one change fixing {} together: their edits share lines)",
                self.labels.join(", ")
            ));
        }
        text.push_str(if self.safe {
            ". Safe to make unattended: counsel check --fix makes it."
        } else {
            ". A suggestion: check that it suits the image; counsel check --fix=all makes it."
        });
        text
    }
}

/// How the file indents, read before any fix is planned; `None` when it
/// does not parse (there is nothing to fix then).
pub fn layout(text: &str) -> Option<Layout> {
    let mut reader = Layout::reader(text);
    source::parse_each(text, |document| reader.read(&document)).ok()?;
    Some(reader.finish())
}

/// Fills `fixes` of each checked object of `document` (every object of it,
/// in order): the fix of each finding that `--fix=all` would make.
pub fn attach(text: &str, layout: &Layout, document: &Document, checked: &mut [Checked]) {
    // Per unit: the object and the finding it is made for.
    let mut units = Vec::new();
    let mut owners = Vec::new();
    for (object, checked) in checked.iter().enumerate() {
        let selection =
            Remedy::check(FixScope::All).select(&checked.report.findings, &checked.object.value);
        for finding in selection.fixed {
            let Some(index) = checked
                .report
                .findings
                .iter()
                .position(|f| std::ptr::eq(f, finding))
            else {
                continue;
            };
            units.push(ObjectFix {
                document: document.index,
                prefix: checked.object.prefix.clone(),
                edits: finding.fixes.clone(),
            });
            owners.push((object, index));
        }
    }
    for checked in checked.iter_mut() {
        checked.fixes = vec![None; checked.report.findings.len()];
    }
    if units.is_empty() {
        return;
    }
    let suggested = fix::suggest(text, layout, document, &units);
    for suggestion in &suggested.suggestions {
        let mut fix = FindingFix {
            changes: suggestion.changes.clone(),
            summaries: Vec::new(),
            labels: Vec::new(),
            safe: true,
        };
        for &unit in &suggestion.units {
            let (object, index) = owners[unit];
            let finding = &checked[object].report.findings[index];
            fix.summaries
                .extend(finding.fix_summary().filter(|s| !fix.summaries.contains(s)));
            fix.labels.push(finding.label());
            fix.safe &= finding.fix_safety == FixSafety::Safe;
        }
        let fix = Rc::new(fix);
        for &unit in &suggestion.units {
            let (object, index) = owners[unit];
            checked[object].fixes[index] = Some(Rc::clone(&fix));
        }
    }
}
