//! `counsel check --output json`: one stable document for tools. Its shape
//! is documented in README.md ("JSON output"); values stay JSON values.

use counsel::explain::Finding;
use serde_json::{Value, json};

use super::inputs::{self, Checked};
use super::{Fixes, Outcome};

/// Renders the whole outcome as pretty-printed JSON.
pub fn render(outcome: &Outcome) -> String {
    let results: Vec<Value> = outcome
        .checked
        .iter()
        .map(|checked| result(outcome, checked))
        .collect();
    let errors: Vec<Value> = outcome
        .errors
        .iter()
        .map(|e| json!({"file": e.file, "line": e.line, "column": e.column, "message": e.message}))
        .collect();
    let mut document = json!({"results": results, "errors": errors});
    if let Some(fixes) = &outcome.fixes {
        document["fix"] = fix(fixes, outcome);
    }
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

fn result(outcome: &Outcome, checked: &Checked) -> Value {
    let file = &outcome.files[checked.object.file];
    let document = &file.documents[checked.object.document];
    let report = &checked.report;
    let violations: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| {
            let (span, _) = inputs::point(
                document,
                &format!("{}{}", checked.object.prefix, finding.pointer),
            );
            violation(finding, span.start.line, span.start.column)
        })
        .collect();
    let failures: Vec<Value> = report
        .failures
        .iter()
        .map(|f| {
            json!({
                "policy": f.policy,
                "cause": f.failure.cause(),
                "message": f.sentence(),
                "failurePolicy": f.failure_policy,
            })
        })
        .collect();
    let warnings: Vec<Value> = report
        .warnings
        .iter()
        .map(|w| json!({"policy": w.policy, "message": w.message}))
        .collect();
    json!({
        "file": file.name,
        "document": checked.object.document,
        "kind": report.object.kind,
        "name": report.object.name,
        "namespace": report.object.namespace,
        "allowed": report.allowed(),
        "violations": violations,
        "warnings": warnings,
        "failures": failures,
    })
}

fn violation(finding: &Finding, line: usize, column: usize) -> Value {
    json!({
        "policy": finding.policy,
        "rule": finding.rule,
        "mode": finding.mode,
        "severity": finding.severity,
        "message": finding.message,
        "path": finding.pointer,
        "field": finding.field,
        "line": line,
        "column": column,
        "found": finding.found,
        "why": finding.why,
        "docs": finding.docs,
        "fixes": finding.fixes,
        "fixSafety": finding.fix_safety.as_str(),
        "hint": finding.hint,
    })
}

/// What `--fix` did: counts, and per file the fixed rules, the diff and
/// what was left for a person.
fn fix(fixes: &Fixes, outcome: &Outcome) -> Value {
    let files: Vec<Value> = fixes
        .files
        .iter()
        .filter(|file| !file.diff.is_empty() || !file.left.is_empty())
        .map(|file| {
            let left: Vec<Value> = file
                .left
                .iter()
                .map(
                    |left| json!({"object": left.object, "line": left.line, "reason": left.reason}),
                )
                .collect();
            json!({
                "file": outcome.files[file.file].name,
                "fixed": file.fixed,
                "rules": file.fixed_labels,
                "diff": file.diff,
                "leftForAPerson": left,
                "writeError": file.write_error,
            })
        })
        .collect();
    json!({
        "dryRun": fixes.dry_run,
        "fixed": fixes.fixed(),
        "needAPerson": outcome.need_a_person(),
        "files": files,
    })
}
