//! An [`AuditSnapshot`] as reports: one per namespace with results, one for
//! cluster-scoped objects, each bounded and in a fixed order.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{OpenReport, ReportResult, SOURCE, Summary};
use crate::audit::{AuditSnapshot, Audited, ObjectKey};
use crate::config::Mode;
use crate::explain::{Finding, Outcome, PolicyFailure};

/// How reports are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportOptions {
    /// Most results one report lists; the rest are counted in its summary
    /// and its `counsel.dev/omitted-results` annotation. Keeps a report
    /// well within etcd's object size limit however much a namespace
    /// breaks.
    pub max_results: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions { max_results: 1000 }
    }
}

/// Most characters of a found value in a result's properties; a whole
/// ConfigMap's data would make one result larger than many others together.
const MAX_FOUND_CHARS: usize = 256;

/// The reports of `snapshot`, by namespace (`None`: the `ClusterReport`).
/// A namespace none of whose objects has a result has no report.
pub fn build(
    snapshot: &AuditSnapshot,
    options: &ReportOptions,
) -> BTreeMap<Option<String>, OpenReport> {
    let mut collected: BTreeMap<Option<String>, Collected> = BTreeMap::new();
    for (key, audited) in &snapshot.objects {
        let (summary, results) = collected.entry(key.namespace.clone()).or_default();
        add_object(key, audited, summary, results);
    }
    collected
        .into_iter()
        .filter(|(_, (_, results))| !results.is_empty())
        .map(|(namespace, (summary, mut results))| {
            results.sort_by(|a, b| a.0.cmp(&b.0));
            let omitted = results.len().saturating_sub(options.max_results);
            results.truncate(options.max_results);
            let report = OpenReport {
                namespace: namespace.clone(),
                summary,
                results: results.into_iter().map(|(_, result)| result).collect(),
                omitted,
                max_results: options.max_results,
            };
            (namespace, report)
        })
        .collect()
}

/// A namespace's summary and results, each with its place.
type Collected = (Summary, Vec<(Order, ReportResult)>);

/// Where a result goes in its report: what denies first, the most severe
/// first, then by object, policy, rule and field, so that the bound keeps
/// what matters most and equal conclusions make equal reports.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Order {
    result: u8,
    severity: Reverse<u8>,
    kind: String,
    name: String,
    policy: String,
    rule: String,
    field: String,
    message: String,
}

fn add_object(
    key: &ObjectKey,
    audited: &Audited,
    summary: &mut Summary,
    results: &mut Vec<(Order, ReportResult)>,
) {
    let report = &audited.report;
    summary.pass += report
        .evaluations
        .iter()
        .filter(|evaluation| evaluation.outcome == Outcome::Pass)
        .count() as u64;
    let resource = resource(key, &audited.uid);
    for finding in &report.findings {
        let result = finding_result(finding, &resource);
        match result.result.as_str() {
            "fail" => summary.fail += 1,
            "skip" => summary.skip += 1,
            _ => summary.warn += 1,
        }
        results.push((order(key, &result, &finding.field), result));
    }
    for failure in &report.failures {
        summary.error += 1;
        let result = failure_result(failure, &resource);
        results.push((order(key, &result, ""), result));
    }
}

fn order(key: &ObjectKey, result: &ReportResult, field: &str) -> Order {
    Order {
        result: match result.result.as_str() {
            "fail" => 0,
            "error" => 1,
            "warn" => 2,
            _ => 3,
        },
        severity: Reverse(match result.severity.as_deref() {
            Some("critical") => 4,
            Some("high") => 3,
            Some("medium") => 2,
            Some("low") => 1,
            _ => 0,
        }),
        kind: key.kind.clone(),
        name: key.name.clone(),
        policy: result.policy.clone(),
        rule: result.rule.clone().unwrap_or_default(),
        field: field.to_owned(),
        message: result.message.clone(),
    }
}

/// The object as a result names it (`corev1.ObjectReference`).
fn resource(key: &ObjectKey, uid: &str) -> Value {
    let mut reference = json!({
        "apiVersion": key.api_version,
        "kind": key.kind,
        "name": key.name,
    });
    if let Some(namespace) = &key.namespace {
        reference["namespace"] = json!(namespace);
    }
    if !uid.is_empty() {
        reference["uid"] = json!(uid);
    }
    reference
}

/// `fail` for what admission denies, `warn` for what it lets through
/// (warn, audit, fix), `skip` for what a live exception lets through.
fn finding_result(finding: &Finding, resource: &Value) -> ReportResult {
    let mut properties = BTreeMap::new();
    properties.insert("field".to_owned(), finding.field.clone());
    properties.insert("found".to_owned(), found(finding));
    properties.insert("mode".to_owned(), finding.mode.as_str().to_owned());
    let optional = [
        ("fix", finding.fix_summary()),
        ("hint", finding.hint.clone()),
        ("docs", finding.docs.clone()),
        ("contact", finding.contact.clone()),
        ("owner", finding.owner.clone()),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            properties.insert(name.to_owned(), value);
        }
    }
    let result = match finding.excepted_by() {
        Some(excepted) => {
            properties.insert("exception".to_owned(), excepted.exception.clone());
            // What it would be without the exception.
            properties.insert("mode".to_owned(), excepted.mode.as_str().to_owned());
            "skip"
        }
        None if finding.mode == Mode::Enforce => "fail",
        None => "warn",
    };
    ReportResult {
        source: SOURCE.to_owned(),
        policy: finding.policy.clone(),
        rule: Some(finding.rule.clone()),
        severity: Some(finding.severity.as_str().to_owned()),
        result: result.to_owned(),
        message: finding.message_with_exception(),
        resources: vec![resource.clone()],
        properties,
        timestamp: None,
    }
}

/// The found value as compact JSON (`(not set)` when missing), cut after
/// [`MAX_FOUND_CHARS`] characters.
fn found(finding: &Finding) -> String {
    let text = finding.found_text();
    match text.char_indices().nth(MAX_FOUND_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn failure_result(failure: &PolicyFailure, resource: &Value) -> ReportResult {
    let mut properties = BTreeMap::new();
    if let Some(contact) = &failure.contact {
        properties.insert("contact".to_owned(), contact.clone());
    }
    ReportResult {
        source: SOURCE.to_owned(),
        policy: failure.policy.clone(),
        rule: None,
        severity: None,
        result: "error".to_owned(),
        message: failure.sentence(),
        resources: vec![resource.clone()],
        properties,
        timestamp: None,
    }
}
