//! An [`AuditSnapshot`] as reports: one per namespace with results, one for
//! cluster-scoped objects, each bounded and in a fixed order.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{OpenReport, ReportResult, SOURCE, Summary};
use crate::audit::{AuditSnapshot, Audited, KeptFailure, KeptFinding, ObjectKey};
use crate::config::Mode;

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

/// The reports of `snapshot`, by namespace (`None`: the `ClusterReport`).
/// A namespace none of whose objects has a result has no report.
pub fn build(
    snapshot: &AuditSnapshot,
    options: &ReportOptions,
) -> BTreeMap<Option<String>, OpenReport> {
    let namespaces: BTreeSet<Option<&str>> = (snapshot.objects.keys())
        .map(|key| key.namespace.as_deref())
        .collect();
    namespaces
        .into_iter()
        .filter_map(|namespace| {
            let report = build_one(snapshot, namespace, options)?;
            Some((namespace.map(str::to_owned), report))
        })
        .collect()
}

/// The report of `namespace` (`None`: the `ClusterReport`) in `snapshot`;
/// `None` when none of its objects has a result.
pub fn build_one(
    snapshot: &AuditSnapshot,
    namespace: Option<&str>,
    options: &ReportOptions,
) -> Option<OpenReport> {
    let mut summary = Summary::default();
    let mut results = Vec::new();
    for (key, audited) in snapshot.in_namespace(namespace) {
        add_object(key, audited, &mut summary, &mut results);
    }
    if results.is_empty() {
        return None;
    }
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let omitted = results.len().saturating_sub(options.max_results);
    results.truncate(options.max_results);
    Some(OpenReport {
        namespace: namespace.map(str::to_owned),
        summary,
        results: results.into_iter().map(|(_, result)| result).collect(),
        omitted,
        max_results: options.max_results,
    })
}

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
    summary.pass += u64::from(audited.passed);
    let resource = resource(key, &audited.uid);
    for finding in &audited.findings {
        let result = finding_result(finding, &resource);
        match result.result.as_str() {
            "fail" => summary.fail += 1,
            "skip" => summary.skip += 1,
            _ => summary.warn += 1,
        }
        results.push((order(key, &result, &finding.field), result));
    }
    for failure in &audited.failures {
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
fn finding_result(finding: &KeptFinding, resource: &Value) -> ReportResult {
    let facts = &finding.facts;
    let mut properties = BTreeMap::new();
    properties.insert("field".to_owned(), finding.field.to_string());
    properties.insert("found".to_owned(), finding.found.to_string());
    // For an excepted finding: what it would be without the exception.
    properties.insert("mode".to_owned(), finding.mode.as_str().to_owned());
    let optional = [
        ("fix", finding.fix.as_deref()),
        ("hint", facts.hint.as_deref()),
        ("docs", facts.docs.as_deref()),
        ("contact", facts.contact.as_deref()),
        ("owner", facts.owner.as_deref()),
        (
            "exception",
            (finding.exception.as_ref()).map(|e| &*e.exception),
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            properties.insert(name.to_owned(), value.to_owned());
        }
    }
    let result = match &finding.exception {
        Some(_) => "skip",
        None if finding.mode == Mode::Enforce => "fail",
        None => "warn",
    };
    ReportResult {
        source: SOURCE.to_owned(),
        policy: facts.policy.clone(),
        rule: Some(facts.rule.clone()),
        severity: Some(facts.severity.as_str().to_owned()),
        result: result.to_owned(),
        message: finding.message_with_exception(),
        resources: vec![resource.clone()],
        properties,
        timestamp: None,
    }
}

fn failure_result(failure: &KeptFailure, resource: &Value) -> ReportResult {
    let mut properties = BTreeMap::new();
    if let Some(contact) = &failure.contact {
        properties.insert("contact".to_owned(), contact.to_string());
    }
    ReportResult {
        source: SOURCE.to_owned(),
        policy: failure.policy.to_string(),
        rule: None,
        severity: None,
        result: "error".to_owned(),
        message: failure.sentence.to_string(),
        resources: vec![resource.clone()],
        properties,
        timestamp: None,
    }
}
