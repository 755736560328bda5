//! `counsel check --output sarif`: SARIF 2.1.0 for code scanning (GitHub,
//! GitLab, IDE viewers), valid against the OASIS schema.
//!
//! One run. Results are written as they come; the members after them
//! (`tool` with the rules met so far, `invocations` with what could not be
//! checked, `originalUriBaseIds`, `columnKind`) at the end: JSON members
//! have no order, so the document is written in one pass while only the
//! rules table and the notifications are kept. Columns count UTF-16 code
//! units (`columnKind: utf16CodeUnits`, SARIF's default and what editors
//! use). Each result's `fixes` are the replacements `--fix=all` makes for it
//! ([`super::suggestions`]).

use std::collections::HashMap;

use counsel::config::Mode;
use counsel::engine::Severity;
use counsel::explain::Finding;
use counsel::fix::TextChange;
use counsel::source::{Document, Span};
use serde_json::{Map, Value, json};

use super::base::Base;
use super::inputs::{self, Checked, InputError, Skipped};
use super::json::member;
use super::suggestions::FindingFix;
use super::{File, Renderer, Totals};

/// Where Counsel is described: the package's `homepage` (Cargo.toml).
const INFORMATION_URI: &str = env!("CARGO_PKG_HOMEPAGE");
/// The base of relative URIs.
const SRCROOT: &str = "%SRCROOT%";

/// The SARIF renderer.
pub struct Sarif {
    base: Base,
    results: usize,
    /// The rules met, in order, and each one's index by id.
    rules: Vec<Value>,
    rule_index: HashMap<String, usize>,
    notifications: Vec<Value>,
}

impl Sarif {
    pub fn new(base: Base) -> Self {
        Sarif {
            base,
            results: 0,
            rules: Vec::new(),
            rule_index: HashMap::new(),
            notifications: Vec::new(),
        }
    }

    /// The index and id (`policy/rule`) of the finding's rule, described
    /// the first time it is met.
    fn rule(&mut self, finding: &Finding) -> (usize, String) {
        let id = format!("{}/{}", finding.policy, finding.rule);
        if let Some(&index) = self.rule_index.get(&id) {
            return (index, id);
        }
        let mut text = finding.why.clone();
        let mut markdown = format!("**{}**\n\n{}", finding.title, finding.why);
        if let Some(docs) = &finding.docs {
            text.push_str(&format!("\n\nDocs: {docs}"));
            markdown.push_str(&format!("\n\nDocs: [{docs}]({docs})"));
        }
        if let Some(contact) = &finding.contact {
            text.push_str(&format!("\nContact: {contact}"));
            markdown.push_str(&format!("\n\nContact: {contact}"));
        }
        let mut rule = json!({
            "id": id,
            "name": finding.rule,
            "shortDescription": {"text": finding.title},
            "fullDescription": {"text": finding.why},
            "help": {"text": text, "markdown": markdown},
            "defaultConfiguration": {"level": level(finding.mode)},
            "properties": {
                "security-severity": security_severity(finding.severity),
                "tags": ["kubernetes", "security", finding.policy],
            },
        });
        if let Some(docs) = &finding.docs {
            rule["helpUri"] = json!(docs);
        }
        let index = self.rules.len();
        self.rules.push(rule);
        self.rule_index.insert(id.clone(), index);
        (index, id)
    }

    fn artifact(&self, file: &File) -> Value {
        match self.base.file_uri(file) {
            Some((uri, true)) => json!({"uri": uri, "uriBaseId": SRCROOT}),
            Some((uri, false)) => json!({"uri": uri}),
            None => {
                json!({"description": {"text": "standard input (positions are in the stream read)"}})
            }
        }
    }

    fn fix(&self, file: &File, fix: &FindingFix) -> Value {
        let replacements: Vec<Value> = fix
            .changes
            .iter()
            .map(|change| replacement(file, change))
            .collect();
        json!({
            "description": {"text": fix.description()},
            "artifactChanges": [{
                "artifactLocation": self.artifact(file),
                "replacements": replacements,
            }],
        })
    }
}

impl Renderer for Sarif {
    /// The opening of the log, up to the first result.
    fn start(&mut self, out: &mut String) {
        out.push_str(concat!(
            "{\n",
            "  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n",
            "  \"version\": \"2.1.0\",\n",
            "  \"runs\": [\n",
            "    {\n",
            "      \"results\": ["
        ));
    }

    fn skipped(&mut self, _: &mut String, skipped: &Skipped) {
        self.notifications.push(json!({
            "level": "note",
            "message": {"text": format!("{}: {}", skipped.path, skipped.reason)},
        }));
    }

    /// An input that could not be checked: a notification, at its place.
    fn error(&mut self, _: &mut String, error: &InputError, _: Option<&File>) {
        let mut notification = json!({
            "level": "error",
            "message": {"text": format!("{}: {}", error.file, error.message)},
        });
        if let (Some(line), Some(column)) = (error.line, error.column) {
            notification["locations"] = json!([{"physicalLocation": {
                "artifactLocation": {"description": {"text": error.file}},
                "region": {"startLine": line, "startColumn": column},
            }}]);
        }
        self.notifications.push(notification);
    }

    /// One object's findings as results; its policy failures and warnings
    /// as notifications.
    fn checked(&mut self, out: &mut String, file: &File, document: &Document, checked: &Checked) {
        let object = &checked.report.object;
        for (index, finding) in checked.report.findings.iter().enumerate() {
            let (rule_index, rule_id) = self.rule(finding);
            let pointer = format!("{}{}", checked.object.prefix, finding.pointer);
            let (span, _) = inputs::point(document, &pointer);
            let mut physical = Map::new();
            physical.insert("artifactLocation".into(), self.artifact(file));
            physical.insert("region".into(), region(file, span));
            let mut logical = json!({
                "name": object.name,
                "fullyQualifiedName": object.describe(),
                "kind": "resource",
                "properties": {"kind": object.kind, "apiVersion": object.api_version},
            });
            if let Some(namespace) = &object.namespace {
                logical["properties"]["namespace"] = json!(namespace);
            }
            let mut result = json!({
                "ruleId": rule_id,
                "ruleIndex": rule_index,
                "level": level(finding.mode),
                "message": {"text": format!("{}: {}", object.describe(), finding.message_with_exception())},
                "locations": [{
                    "physicalLocation": physical,
                    "logicalLocations": [logical],
                }],
                "properties": {
                    "field": finding.field,
                    "found": finding.found,
                    "mode": finding.mode,
                    "severity": finding.severity,
                    "fixSafety": finding.fix_safety.as_str(),
                },
            });
            if let Some(Some(fix)) = checked.fixes.get(index) {
                result["fixes"] = json!([self.fix(file, fix)]);
            }
            // SARIF's own word for a finding let through by a decision
            // recorded elsewhere.
            if let Some(excepted) = finding.excepted_by() {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": excepted.sentence(),
                }]);
            }
            out.push_str(if self.results == 0 { "\n" } else { ",\n" });
            self.results += 1;
            out.push_str("        ");
            member(out, &result, 8);
        }
        for failure in &checked.report.failures {
            self.notifications.push(json!({
                "level": "error",
                "message": {"text": format!("{}: {}", object.describe(), failure.sentence())},
                "descriptor": {"id": failure.policy},
            }));
        }
        for warning in &checked.report.warnings {
            self.notifications.push(json!({
                "level": "warning",
                "message": {"text": format!("{}: {}", object.describe(), warning.message)},
                "descriptor": {"id": warning.policy},
            }));
        }
    }

    /// The rest of the log.
    fn finish(&mut self, out: &mut String, totals: &Totals, _: Option<bool>) {
        out.push_str(if self.results > 0 {
            "\n      ],\n"
        } else {
            "],\n"
        });
        let driver = json!({
            "name": "counsel",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": INFORMATION_URI,
            "rules": std::mem::take(&mut self.rules),
        });
        let rest = json!({
            "tool": {"driver": driver},
            "invocations": [{
                "executionSuccessful": totals.unchecked == 0,
                "toolExecutionNotifications": std::mem::take(&mut self.notifications),
            }],
            "originalUriBaseIds": {SRCROOT: {"uri": self.base.uri()}},
            "columnKind": "utf16CodeUnits",
        });
        let Value::Object(members) = rest else {
            return;
        };
        let count = members.len();
        for (i, (name, value)) in members.iter().enumerate() {
            out.push_str("      ");
            out.push_str(&Value::String(name.clone()).to_string());
            out.push_str(": ");
            member(out, value, 6);
            out.push_str(if i + 1 < count { ",\n" } else { "\n" });
        }
        out.push_str("    }\n  ]\n}\n");
    }
}

/// SARIF's level for a mode.
pub fn level(mode: Mode) -> &'static str {
    match mode {
        Mode::Enforce => "error",
        Mode::Warn | Mode::Fix => "warning",
        Mode::Audit => "note",
    }
}

/// GitHub's `security-severity` score for a severity (its bands: critical
/// from 9.0, high 7.0, medium 4.0, low 0.1).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
    }
}

/// A span as a region: columns in UTF-16 code units, the end exclusive.
fn region(file: &File, span: Span) -> Value {
    let (start, end) = (span.start, span.end);
    json!({
        "startLine": start.line,
        "startColumn": file.utf16_column(start.line, start.column),
        "endLine": end.line,
        "endColumn": file.utf16_column(end.line, end.column),
    })
}

/// A text change as a replacement: the region it deletes (empty for an
/// insertion) and the text it inserts.
fn replacement(file: &File, change: &TextChange) -> Value {
    let (start_line, start_column) = file.utf16_position(change.old.start);
    let (end_line, end_column) = file.utf16_position(change.old.end);
    json!({
        "deletedRegion": {
            "startLine": start_line,
            "startColumn": start_column,
            "endLine": end_line,
            "endColumn": end_column,
        },
        "insertedContent": {"text": change.text},
    })
}
