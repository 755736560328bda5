//! `counsel check --output json`: one stable document for tools. Its shape
//! is documented in README.md ("JSON output"); values stay JSON values.
//!
//! Results are written as they come, each pretty-printed at its depth in
//! the document; errors, skipped paths and what `--fix` did (small next to
//! the results) are kept and written at the end.

use counsel::explain::Finding;
use counsel::source::Document;
use serde_json::{Value, json};

use super::fix::FileFix;
use super::inputs::{self, Checked, InputError, Skipped};
use super::{File, Renderer, Totals};

/// The JSON renderer.
#[derive(Default)]
pub struct Json {
    results: usize,
    errors: Vec<Value>,
    skipped: Vec<Value>,
    fixes: Vec<Value>,
}

impl Json {
    pub fn new() -> Self {
        Json::default()
    }
}

impl Renderer for Json {
    /// The opening of the document.
    fn start(&mut self, out: &mut String) {
        out.push_str("{\n  \"results\": [");
    }

    fn skipped(&mut self, _: &mut String, skipped: &Skipped) {
        self.skipped
            .push(json!({"path": skipped.path, "reason": skipped.reason}));
    }

    fn error(&mut self, _: &mut String, e: &InputError, _: Option<&File>) {
        self.errors.push(
            json!({"file": e.file, "line": e.line, "column": e.column, "message": e.message}),
        );
    }

    /// One object's result, written at once.
    fn checked(&mut self, out: &mut String, file: &File, document: &Document, checked: &Checked) {
        if self.results > 0 {
            out.push(',');
        }
        self.results += 1;
        out.push_str("\n    ");
        member(out, &result(file, document, checked), 4);
    }

    /// What `--fix` did to one file.
    fn fixed(&mut self, _: &mut String, file: &File, fix: &FileFix) {
        if fix.diff.is_empty() && fix.left.is_empty() {
            return;
        }
        let left: Vec<Value> = fix
            .left
            .iter()
            .map(|left| json!({"object": left.object, "line": left.line, "reason": left.reason}))
            .collect();
        self.fixes.push(json!({
            "file": file.name,
            "fixed": fix.fixed,
            "rules": fix.fixed_labels,
            "diff": fix.diff,
            "leftForAPerson": left,
            "writeError": fix.write_error,
        }));
    }

    /// The rest of the document. `fix`: with `--fix`, whether it was a dry run.
    fn finish(&mut self, out: &mut String, totals: &Totals, fix: Option<bool>) {
        out.push_str(if self.results > 0 { "\n  ]" } else { "]" });
        let errors = Value::Array(std::mem::take(&mut self.errors));
        out.push_str(",\n  \"errors\": ");
        member(out, &errors, 2);
        let skipped = Value::Array(std::mem::take(&mut self.skipped));
        out.push_str(",\n  \"skipped\": ");
        member(out, &skipped, 2);
        if let Some(dry_run) = fix {
            let fix = json!({
                "dryRun": dry_run,
                "fixed": totals.fixed,
                "needAPerson": totals.need_a_person,
                "files": std::mem::take(&mut self.fixes),
            });
            out.push_str(",\n  \"fix\": ");
            member(out, &fix, 2);
        }
        out.push_str("\n}\n");
    }
}

/// `value` pretty-printed, its lines after the first indented by `indent`
/// (JSON strings hold no line breaks, so every line break is the printer's).
pub(super) fn member(out: &mut String, value: &Value, indent: usize) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let mut lines = text.split('\n');
    if let Some(first) = lines.next() {
        out.push_str(first);
    }
    for line in lines {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', indent));
        out.push_str(line);
    }
}

fn result(file: &File, document: &Document, checked: &Checked) -> Value {
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
        "document": document.index,
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
    let mut violation = json!({
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
        "contact": finding.contact,
        "owner": finding.owner,
        "fixes": finding.fixes,
        "fixSafety": finding.fix_safety.as_str(),
        "hint": finding.hint,
    });
    if let Some(exception) = &finding.exception {
        // A live exception lets it through (`excepted`); an expired one is
        // named beside the finding that counts again.
        let key = if exception.is_live() {
            "excepted"
        } else {
            "expiredException"
        };
        violation[key] = json!({
            "exception": exception.exception,
            "name": exception.name,
            "namespace": exception.namespace,
            "reason": exception.reason,
            "owner": exception.owner,
            "expires": exception.expires,
            "ticket": exception.ticket,
            "status": exception.when(),
            "modeWithout": exception.mode,
        });
    }
    violation
}
