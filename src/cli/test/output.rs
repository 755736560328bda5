//! `counsel test`'s outputs: pretty text for people, JSON for tools, JUnit
//! XML for CI dashboards. Each says the same: per suite and case, passed or
//! failed and every way it differs from what was expected; the suites that
//! could not be run, and why.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::super::check::junit::{content, xml};
use super::{Outcome, SuiteError};

/// Per suite, a line per case (`pass` or `FAIL`), the mismatches under a
/// failed case; errors; then the counts.
pub fn pretty(outcome: &Outcome) -> String {
    let mut out = String::new();
    for run in &outcome.suites {
        let _ = writeln!(out, "{} ({})", run.suite.file, policy_name(run));
        for (case, ran) in run.suite.cases.iter().zip(&run.ran) {
            if ran.mismatches.is_empty() {
                let _ = writeln!(out, "  pass  {}", case.name);
                continue;
            }
            let _ = writeln!(
                out,
                "  FAIL  {} ({}:{})",
                case.name, run.suite.file, case.line
            );
            for mismatch in &ran.mismatches {
                let text = mismatch.to_string();
                for (i, line) in text.lines().enumerate() {
                    let lead = if i == 0 { "- " } else { "  " };
                    let _ = writeln!(out, "        {lead}{line}");
                }
            }
        }
    }
    for error in &outcome.errors {
        let _ = writeln!(out, "error: {error}");
    }
    let (passed, failed) = outcome.counts();
    let suites = outcome.suites.len();
    let _ = write!(
        out,
        "\n{passed} passed, {failed} failed ({} in {suites} {})",
        plural(passed + failed, "case"),
        if suites == 1 { "suite" } else { "suites" }
    );
    if !outcome.errors.is_empty() {
        let _ = write!(
            out,
            "; {} could not be run",
            plural(outcome.errors.len(), "suite")
        );
    }
    out.push('\n');
    out
}

/// One JSON document: `suites` (each case with `passed`, `mismatches` and
/// what the review found), `errors`, and the counts.
pub fn json(outcome: &Outcome) -> String {
    let suites: Vec<Value> = outcome
        .suites
        .iter()
        .map(|run| {
            let cases: Vec<Value> = run
                .suite
                .cases
                .iter()
                .zip(&run.ran)
                .map(|(case, ran)| {
                    let findings: Vec<Value> = ran
                        .report
                        .findings
                        .iter()
                        .map(|f| {
                            json!({
                                "rule": f.rule, "mode": f.mode.as_str(),
                                "path": f.pointer, "field": f.field, "message": f.message,
                            })
                        })
                        .collect();
                    let mut value = json!({
                        "name": case.name,
                        "line": case.line,
                        "passed": ran.mismatches.is_empty(),
                        "mismatches": ran.mismatches.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "allowed": ran.report.allowed(),
                        "findings": findings,
                    });
                    if let Some(fixed) = &ran.fixed {
                        value["fixed"] = fixed.clone();
                    }
                    value
                })
                .collect();
            json!({"file": run.suite.file, "policy": policy_name(run), "cases": cases})
        })
        .collect();
    let errors: Vec<Value> = outcome
        .errors
        .iter()
        .map(|e| json!({"file": e.file, "line": e.line, "message": e.message}))
        .collect();
    let (passed, failed) = outcome.counts();
    let document = json!({
        "suites": suites,
        "errors": errors,
        "passed": passed,
        "failed": failed,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// JUnit XML: a `testsuite` per suite file, a `testcase` per case (a
/// `failure` listing the mismatches), and per suite that could not be run
/// a `testsuite` with one `testcase` in `error`.
pub fn junit(outcome: &Outcome) -> String {
    let (passed, failed) = outcome.counts();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"counsel test\" tests=\"{}\" failures=\"{failed}\" errors=\"{}\">",
        passed + failed + outcome.errors.len(),
        outcome.errors.len()
    );
    for run in &outcome.suites {
        let failures = run.ran.iter().filter(|r| !r.mismatches.is_empty()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
            xml(&run.suite.file),
            run.ran.len()
        );
        for (case, ran) in run.suite.cases.iter().zip(&run.ran) {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\"",
                xml(&case.name),
                xml(policy_name(run)),
                xml(&run.suite.file),
                case.line
            );
            let Some(first) = ran.mismatches.first() else {
                out.push_str("/>\n");
                continue;
            };
            let all: Vec<String> = ran.mismatches.iter().map(ToString::to_string).collect();
            let first = first.to_string();
            let first = first.lines().next().unwrap_or_default();
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                xml(first),
                content(&all.join("\n"))
            );
        }
        out.push_str("  </testsuite>\n");
    }
    for error in &outcome.errors {
        error_suite(&mut out, error);
    }
    out.push_str("</testsuites>\n");
    out
}

fn error_suite(out: &mut String, error: &SuiteError) {
    let _ = writeln!(
        out,
        "  <testsuite name=\"{name}\" tests=\"1\" failures=\"0\" errors=\"1\">\n    <testcase name=\"{name}\" classname=\"counsel test\">\n      <error message=\"{}\"/>\n    </testcase>\n  </testsuite>",
        xml(&error.to_string()),
        name = xml(&error.file),
    );
}

fn policy_name(run: &super::SuiteRun) -> &str {
    run.suite
        .config
        .policies
        .first()
        .map_or("", |p| p.name.as_str())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
