//! OpenReports (`openreports.io/v1alpha1`): what the background audit
//! concluded, as the objects report consumers (Policy Reporter, dashboards,
//! `kubectl get reports`) read. One `Report` per namespace and one
//! `ClusterReport` for cluster-scoped objects, all named [`REPORT_NAME`]
//! and labelled [`MANAGED_BY`].
//!
//! `build.rs` makes the reports of an [`AuditSnapshot`](crate::audit::AuditSnapshot),
//! bounded and in a fixed order, so that equal conclusions make equal
//! reports; `compare.rs` tells whether one differs from what the cluster
//! has; `writer.rs` writes them when their content changes, as the leader
//! only.

mod build;
mod compare;
mod writer;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use build::{ReportOptions, build, build_one};
pub use writer::{ReportWriter, WriteError, Written, run_writer};

/// The API group and version of the reports.
pub const API_VERSION: &str = "openreports.io/v1alpha1";
/// What every report and result says produced it.
pub const SOURCE: &str = "counsel";
/// The name of Counsel's report in each namespace, and of its ClusterReport.
pub const REPORT_NAME: &str = "counsel";
/// The label that marks Counsel's reports: the writer lists, updates and
/// deletes only reports that carry it.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "counsel");
/// The annotation that says how many results the bound left out.
pub const OMITTED_ANNOTATION: &str = "counsel.dev/omitted-results";

/// One report: a namespace's (`Report`) or the cluster-scoped objects'
/// (`ClusterReport`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// The namespace; `None` for the `ClusterReport`.
    pub namespace: Option<String>,
    /// Counts of every result, those left out by the bound included.
    pub summary: Summary,
    /// The results kept, most important first.
    pub results: Vec<ReportResult>,
    /// Results left out by the bound (counted in `summary`).
    pub omitted: usize,
    /// The bound the report was made with.
    pub max_results: usize,
}

/// `summary`: results per outcome. `pass` counts the policies each object
/// passed (passes are counted, not listed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Policies an object passed.
    pub pass: u64,
    /// Findings of `enforce` mode: what admission denies.
    pub fail: u64,
    /// Findings of `warn`, `audit` and `fix` modes.
    pub warn: u64,
    /// Policies that failed to evaluate an object.
    pub error: u64,
    /// Findings a live exception lets through.
    pub skip: u64,
}

/// One result: a finding (or a policy failure) about one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportResult {
    /// Always [`SOURCE`].
    pub source: String,
    /// The policy's configured name.
    pub policy: String,
    /// The rule's id; absent for a policy failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// `critical`, `high`, `medium`, `low`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// `fail`, `warn`, `skip` or `error`.
    pub result: String,
    /// The one-line message.
    pub message: String,
    /// The object, with its uid.
    pub resources: Vec<Value>,
    /// Counsel's explanation: field, found, fix, docs, contact, owner,
    /// mode, exception.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// When the result was first written (set by the writer, carried over
    /// while the result stays the same); `None` in what `build` makes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}

/// `metav1.Timestamp`: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timestamp {
    /// Whole seconds.
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanos: i32,
}

impl OpenReport {
    /// `Report` or `ClusterReport`.
    pub fn kind(&self) -> &'static str {
        if self.namespace.is_some() {
            "Report"
        } else {
            "ClusterReport"
        }
    }

    /// The object as the API server takes it.
    pub fn to_object(&self) -> Value {
        let mut metadata = json!({
            "name": REPORT_NAME,
            "labels": {MANAGED_BY.0: MANAGED_BY.1},
            "annotations": {OMITTED_ANNOTATION: self.omitted.to_string()},
        });
        if let Some(namespace) = &self.namespace {
            metadata["namespace"] = json!(namespace);
        }
        json!({
            "apiVersion": API_VERSION,
            "kind": self.kind(),
            "metadata": metadata,
            "source": SOURCE,
            "configuration": {"limits": {"maxResults": self.max_results}},
            "summary": self.summary,
            "results": self.results,
        })
    }

    /// The report as written to the cluster, read back: `None` when the
    /// object is not one `to_object` could have made.
    pub fn from_object(object: &Value) -> Option<OpenReport> {
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let omitted = object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(OMITTED_ANNOTATION))
            .and_then(Value::as_str)
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
        let max_results = object
            .pointer("/configuration/limits/maxResults")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        Some(OpenReport {
            namespace,
            summary: serde_json::from_value(object.get("summary")?.clone()).ok()?,
            results: match object.get("results") {
                Some(results) => serde_json::from_value(results.clone()).ok()?,
                None => Vec::new(),
            },
            omitted,
            max_results,
        })
    }
}
