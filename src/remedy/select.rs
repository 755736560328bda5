//! Which fixes to make in one object: every fix of the chosen findings that
//! the [`FixScope`] allows, each edit once, except where two findings
//! disagree about one field.

use std::collections::BTreeMap;
use std::fmt;

use counsel_edit::Edit;
use serde_json::Value;

use crate::engine::FixSafety;
use crate::explain::{Finding, describe_edit, field_path};

/// Which fixes may be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixScope {
    /// Only fixes whose rule says they are safe to make unattended: what the
    /// webhook makes, and `counsel check --fix` by default.
    Safe,
    /// Suggestions too: `counsel check --fix=all`, a person asking for them.
    All,
}

impl FixScope {
    /// Whether a fix of this safety is made.
    pub fn allows(self, safety: FixSafety) -> bool {
        self == FixScope::All || safety == FixSafety::Safe
    }
}

/// The fixes chosen for one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection<'a> {
    /// The edits to apply, in the findings' order, each once.
    pub edits: Vec<Edit>,
    /// The findings whose fixes are all in `edits`.
    pub fixed: Vec<&'a Finding>,
    /// Fields that findings disagree about; none of those findings' fixes
    /// is in `edits`.
    pub conflicts: Vec<Conflict>,
    /// Findings whose fixes the scope leaves out (suggestions, under
    /// [`FixScope::Safe`]): for a person to make.
    pub suggested: Vec<&'a Finding>,
}

/// Two or more findings that want different things at one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The field, as a JSON Pointer.
    pub pointer: String,
    /// The field as a developer reads it.
    pub field: String,
    /// Each finding's label (`[policy/rule]`) and the edit it wants there
    /// (`set spec...privileged: false`).
    pub wants: Vec<(String, String)>,
    /// Each finding's label and, in short, what it wants (`sets false`, `removes it`).
    pub brief: Vec<(String, String)>,
}

impl Conflict {
    /// One short line, for places with little room (webhook warnings):
    /// `fixes disagree about F: [a/r] sets ["CHOWN"], [b/s] removes it; none is applied`.
    pub fn brief(&self) -> String {
        let wants: Vec<String> = self
            .brief
            .iter()
            .map(|(label, what)| format!("{label} {what}"))
            .collect();
        format!(
            "fixes disagree about {}: {}; none is applied",
            self.field,
            wants.join(", ")
        )
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wants: Vec<String> = self
            .wants
            .iter()
            .map(|(label, edit)| format!("{label} wants to {edit}"))
            .collect();
        write!(
            f,
            "fixes disagree about {}: {}; none of them is applied",
            self.field,
            wants.join(", ")
        )
    }
}

/// Chooses the fixes of `findings` that `scope` allows, for `object` (the
/// object they are about, for readable field names). Findings without fixes
/// are left out; findings whose fixes the scope does not allow are in
/// `suggested`.
pub fn select<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    object: Option<&Value>,
    scope: FixScope,
) -> Selection<'a> {
    let (findings, suggested): (Vec<&Finding>, Vec<&Finding>) = findings
        .into_iter()
        .filter(|finding| !finding.fixes.is_empty())
        .partition(|finding| scope.allows(finding.fix_safety));
    // Every distinct edit of each pointer, with the findings that want it.
    let mut by_pointer: BTreeMap<&str, Vec<(usize, &Edit)>> = BTreeMap::new();
    for (i, finding) in findings.iter().enumerate() {
        for edit in &finding.fixes {
            by_pointer.entry(edit.path()).or_default().push((i, edit));
        }
    }
    let mut excluded = vec![false; findings.len()];
    let mut conflicts = Vec::new();
    for (pointer, wanted) in &by_pointer {
        let first = wanted[0].1;
        if wanted.iter().all(|(_, edit)| *edit == first) {
            continue;
        }
        let mut wants = Vec::new();
        let mut brief = Vec::new();
        for (i, edit) in wanted {
            excluded[*i] = true;
            let entry = (findings[*i].label(), describe_edit(edit, object));
            if !wants.contains(&entry) {
                wants.push(entry);
                let what = match edit {
                    Edit::Set { value, .. } => format!("sets {value}"),
                    Edit::Remove { .. } => "removes it".to_owned(),
                };
                brief.push((findings[*i].label(), what));
            }
        }
        conflicts.push(Conflict {
            pointer: (*pointer).to_owned(),
            field: field_path(pointer, object),
            wants,
            brief,
        });
    }
    let mut edits: Vec<Edit> = Vec::new();
    let mut fixed = Vec::new();
    for (i, finding) in findings.into_iter().enumerate() {
        if excluded[i] {
            continue;
        }
        for edit in &finding.fixes {
            if !edits.contains(edit) {
                edits.push(edit.clone());
            }
        }
        fixed.push(finding);
    }
    Selection {
        edits,
        fixed,
        conflicts,
        suggested,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;
    use crate::engine::Severity;
    use serde_json::json;

    fn finding(rule: &str, fixes: Vec<Edit>) -> Finding {
        Finding {
            policy: "p".into(),
            rule: rule.into(),
            mode: Mode::Enforce,
            severity: Severity::High,
            title: String::new(),
            message: String::new(),
            pointer: String::new(),
            field: String::new(),
            found: None,
            why: String::new(),
            docs: None,
            contact: None,
            owner: None,
            fix_fields: fixes.iter().map(|edit| edit.path().to_owned()).collect(),
            fixes,
            fix_safety: FixSafety::Safe,
            hint: None,
            exception: None,
        }
    }

    #[test]
    fn edits_are_made_once_and_disagreeing_findings_are_left_out() {
        let object = json!({"spec": {"containers": [{"name": "app"}]}});
        let privileged = "/spec/containers/0/securityContext/privileged";
        let findings = [
            finding("a", vec![Edit::set(privileged, json!(false))]),
            finding(
                "b",
                vec![
                    Edit::set(privileged, json!(false)),
                    Edit::set("/spec/x", json!(1)),
                ],
            ),
            finding("c", vec![Edit::set("/spec/y", json!(1))]),
            finding(
                "d",
                vec![Edit::remove("/spec/y"), Edit::set("/spec/z", json!(1))],
            ),
            finding("hint-only", vec![]),
        ];
        let selection = select(&findings, Some(&object), FixScope::Safe);
        assert_eq!(
            selection.edits,
            [
                Edit::set(privileged, json!(false)),
                Edit::set("/spec/x", json!(1))
            ]
        );
        let fixed: Vec<&str> = selection.fixed.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(fixed, ["a", "b"]);
        assert_eq!(selection.conflicts.len(), 1);
        let conflict = &selection.conflicts[0];
        assert_eq!(conflict.pointer, "/spec/y");
        assert_eq!(
            conflict.to_string(),
            "fixes disagree about spec.y: [p/c] wants to set spec.y: 1, [p/d] wants to remove spec.y; none of them is applied"
        );
        assert_eq!(
            conflict.brief(),
            "fixes disagree about spec.y: [p/c] sets 1, [p/d] removes it; none is applied"
        );
    }

    #[test]
    fn suggestions_are_made_only_when_the_scope_allows_them() {
        let object = json!({"spec": {"containers": [{"name": "app"}]}});
        let privileged = "/spec/containers/0/securityContext/privileged";
        let non_root = "/spec/securityContext/runAsNonRoot";
        let mut suggestion = finding("run-as-non-root", vec![Edit::set(non_root, json!(true))]);
        suggestion.fix_safety = FixSafety::Suggestion;
        let findings = [
            finding("privileged", vec![Edit::set(privileged, json!(false))]),
            suggestion,
            finding("hint-only", vec![]),
        ];

        let safe = select(&findings, Some(&object), FixScope::Safe);
        assert_eq!(safe.edits, [Edit::set(privileged, json!(false))]);
        let rules =
            |found: &[&Finding]| -> Vec<String> { found.iter().map(|f| f.rule.clone()).collect() };
        assert_eq!(rules(&safe.fixed), ["privileged"]);
        assert_eq!(rules(&safe.suggested), ["run-as-non-root"]);
        assert!(!findings[1].has_unattended_fix());
        assert!(findings[0].has_unattended_fix());
        assert!(!findings[2].has_unattended_fix());

        let all = select(&findings, Some(&object), FixScope::All);
        assert_eq!(
            all.edits,
            [
                Edit::set(privileged, json!(false)),
                Edit::set(non_root, json!(true))
            ]
        );
        assert_eq!(rules(&all.fixed), ["privileged", "run-as-non-root"]);
        assert!(all.suggested.is_empty());
    }
}
