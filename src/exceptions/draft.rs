//! The exception a developer asks for: one per policy, covering exactly the
//! rules an object breaks now (in the containers it breaks them in), for
//! ops to review and apply (`counsel check --draft-exception`).

use std::fmt::Write;
use std::time::SystemTime;

use serde_json::Value;

use super::{API_VERSION, CLUSTER_KIND, NAMESPACED_KIND, container_of, rfc3339};
use crate::config::Mode;
use crate::explain::Report;

/// What the developer says of the exception they ask for.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Why it is needed.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// When it expires.
    pub expires: SystemTime,
    /// A link to the request or discussion.
    pub ticket: Option<String>,
}

/// The exception objects (YAML, `---` between them) that would let
/// `object`'s findings in `report` through, one per policy; `None` when it
/// has none that an exception would change (audit-only findings aside).
pub fn draft(report: &Report, object: &Value, request: &Draft) -> Option<String> {
    let mut policies: Vec<&str> = Vec::new();
    for finding in &report.findings {
        if finding.mode != Mode::Audit && !policies.contains(&finding.policy.as_str()) {
            policies.push(&finding.policy);
        }
    }
    if policies.is_empty() {
        return None;
    }
    let quote = |text: &str| Value::from(text).to_string();
    let list = |items: &[&str]| {
        let items: Vec<String> = items.iter().map(|i| quote(i)).collect();
        format!("[{}]", items.join(", "))
    };
    let subject = &report.object;
    let mut out = String::new();
    for (index, policy) in policies.iter().enumerate() {
        let findings: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.policy == *policy && f.mode != Mode::Audit)
            .collect();
        let mut rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        rules.dedup();
        rules.sort_unstable();
        rules.dedup();
        // Only these containers when every finding is in one.
        let containers: Option<Vec<&str>> = findings
            .iter()
            .map(|f| container_of(&f.pointer, Some(object)))
            .collect();
        let containers = containers.map(|mut c| {
            c.sort_unstable();
            c.dedup();
            c
        });
        if index > 0 {
            out.push_str("---\n");
        }
        let name = dns_name(&format!("{}-{policy}", subject.name));
        let _ = writeln!(
            out,
            "# Asked for by counsel check: lets {} through {policy}'s rules {}.",
            subject.describe(),
            rules.join(", ")
        );
        let _ = writeln!(out, "apiVersion: {API_VERSION}");
        match &subject.namespace {
            Some(namespace) => {
                let _ = writeln!(out, "kind: {NAMESPACED_KIND}");
                let _ = writeln!(
                    out,
                    "metadata:\n  name: {name}\n  namespace: {}",
                    quote(namespace)
                );
            }
            None => {
                let _ = writeln!(out, "kind: {CLUSTER_KIND}");
                let _ = writeln!(out, "metadata:\n  name: {name}");
            }
        }
        let _ = writeln!(out, "spec:\n  policy: {}", quote(policy));
        let _ = writeln!(out, "  rules: {}", list(&rules));
        let _ = writeln!(out, "  objects:\n    kinds: {}", list(&[&subject.kind]));
        if !subject.name.is_empty() {
            let _ = writeln!(out, "    names: {}", list(&[&subject.name]));
        }
        if let Some(containers) = containers.filter(|c| !c.is_empty()) {
            let _ = writeln!(out, "  containers: {}", list(&containers));
        }
        let _ = writeln!(out, "  reason: {}", quote(&request.reason));
        let _ = writeln!(out, "  owner: {}", quote(&request.owner));
        let _ = writeln!(out, "  expires: {}", quote(&rfc3339(request.expires)));
        if let Some(ticket) = &request.ticket {
            let _ = writeln!(out, "  ticket: {}", quote(ticket));
        }
    }
    Some(out)
}

/// A valid object name: lower case letters, digits and `-`, at most 63
/// characters, starting and ending with a letter or digit.
fn dns_name(text: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(63);
    let name = name.trim_matches('-');
    if name.is_empty() {
        "exception".to_owned()
    } else {
        name.to_owned()
    }
}
