//! Writes the reports to the cluster: each when its content changes, and
//! deletes those of namespaces left without results. Only Counsel's own
//! reports (labelled [`MANAGED_BY`]) are ever listed, changed or deleted.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use tokio::sync::watch;

use super::{MANAGED_BY, OpenReport, REPORT_NAME, ReportOptions, Timestamp, build};
use crate::audit::AuditSnapshot;

/// The field manager of Counsel's server-side applies.
const FIELD_MANAGER: &str = "counsel";
/// How long the writer waits before trying again after a failed write.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// A report that could not be listed, written or deleted.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Counsel's reports could not be listed.
    #[error("listing Counsel's {kind}s")]
    List {
        /// `Report` or `ClusterReport`.
        kind: &'static str,
        /// What the API server said.
        #[source]
        source: kube::Error,
    },
    /// A report could not be written.
    #[error("writing {report}")]
    Write {
        /// `Report shop/counsel`.
        report: String,
        /// What the API server said.
        #[source]
        source: kube::Error,
    },
    /// A report could not be deleted.
    #[error("deleting {report}")]
    Delete {
        /// `Report shop/counsel`.
        report: String,
        /// What the API server said.
        #[source]
        source: kube::Error,
    },
}

/// What one pass did.
#[derive(Debug, Default)]
pub struct Written {
    /// Reports created or changed.
    pub written: usize,
    /// Reports whose content was already there, left alone.
    pub unchanged: usize,
    /// Reports deleted (their namespace has no results any more).
    pub deleted: usize,
    /// What went wrong; tried again on the next pass.
    pub failed: Vec<WriteError>,
}

/// Keeps the cluster's reports equal to the latest snapshot's, writing
/// only what changed.
pub struct ReportWriter {
    client: kube::Client,
    options: ReportOptions,
    /// The reports in the cluster as last listed or written, by namespace;
    /// `None` until listed.
    written: Option<BTreeMap<Option<String>, OpenReport>>,
}

impl ReportWriter {
    /// A writer that lists Counsel's reports on its first pass.
    pub fn new(client: kube::Client, options: ReportOptions) -> Self {
        ReportWriter {
            client,
            options,
            written: None,
        }
    }

    /// Makes the cluster's reports those of `snapshot`: writes each report
    /// whose content (timestamps aside) differs from what is there, and,
    /// once the snapshot is complete, deletes the reports of namespaces
    /// without results. A result that stays the same keeps its timestamp.
    pub async fn write(&mut self, snapshot: &AuditSnapshot) -> Result<Written, WriteError> {
        let mut written = match self.written.take() {
            Some(written) => written,
            None => self.list().await?,
        };
        let mut outcome = Written::default();
        let wanted = build(snapshot, &self.options);
        for (namespace, report) in &wanted {
            let before = written.get(namespace);
            if before.is_some_and(|before| before.without_timestamps() == *report) {
                outcome.unchanged += 1;
                continue;
            }
            let report = stamped(report, before);
            match self.apply(&report).await {
                Ok(()) => {
                    outcome.written += 1;
                    written.insert(namespace.clone(), report);
                }
                Err(error) => outcome.failed.push(error),
            }
        }
        // An incomplete snapshot lacks objects not judged yet, not objects
        // gone: their reports stay until it is complete.
        if snapshot.complete {
            let gone: Vec<Option<String>> = written
                .keys()
                .filter(|namespace| !wanted.contains_key(*namespace))
                .cloned()
                .collect();
            for namespace in gone {
                match self.delete(namespace.as_deref()).await {
                    Ok(()) => {
                        outcome.deleted += 1;
                        written.remove(&namespace);
                    }
                    Err(error) => outcome.failed.push(error),
                }
            }
        }
        self.written = Some(written);
        Ok(outcome)
    }

    /// Counsel's reports in the cluster now.
    async fn list(&self) -> Result<BTreeMap<Option<String>, OpenReport>, WriteError> {
        let params = ListParams::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
        let mut found = BTreeMap::new();
        for kind in ["Report", "ClusterReport"] {
            let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resource(kind));
            let list = api
                .list(&params)
                .await
                .map_err(|source| WriteError::List { kind, source })?;
            for object in list.items {
                if object.metadata.name.as_deref() != Some(REPORT_NAME) {
                    continue;
                }
                // One that does not read as a report of ours is rewritten.
                let report = serde_json::to_value(&object)
                    .ok()
                    .and_then(|value| OpenReport::from_object(&value));
                if let Some(report) = report {
                    found.insert(report.namespace.clone(), report);
                }
            }
        }
        Ok(found)
    }

    async fn apply(&self, report: &OpenReport) -> Result<(), WriteError> {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let patch = Patch::Apply(report.to_object());
        self.api(report.namespace.as_deref())
            .patch(REPORT_NAME, &params, &patch)
            .await
            .map(drop)
            .map_err(|source| WriteError::Write {
                report: report.describe(),
                source,
            })
    }

    async fn delete(&self, namespace: Option<&str>) -> Result<(), WriteError> {
        match self
            .api(namespace)
            .delete(REPORT_NAME, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            // Someone deleted it already: what was wanted.
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(source) => Err(WriteError::Delete {
                report: match namespace {
                    Some(namespace) => format!("Report {namespace}/{REPORT_NAME}"),
                    None => format!("ClusterReport {REPORT_NAME}"),
                },
                source,
            }),
        }
    }

    fn api(&self, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(namespace) => {
                Api::namespaced_with(self.client.clone(), namespace, &resource("Report"))
            }
            None => Api::all_with(self.client.clone(), &resource("ClusterReport")),
        }
    }
}

/// `Report` or `ClusterReport` of `openreports.io/v1alpha1`.
fn resource(kind: &str) -> ApiResource {
    let plural = if kind == "Report" {
        "reports"
    } else {
        "clusterreports"
    };
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("openreports.io", "v1alpha1", kind),
        plural,
    )
}

/// `report` with each result's timestamp: the one it had in `before` when
/// it was there already, now otherwise.
fn stamped(report: &OpenReport, before: Option<&OpenReport>) -> OpenReport {
    let key = |result: &super::ReportResult| {
        let mut result = result.clone();
        result.timestamp = None;
        serde_json::to_string(&result).unwrap_or_default()
    };
    let earlier: HashMap<String, Timestamp> = before
        .into_iter()
        .flat_map(|before| &before.results)
        .filter_map(|result| Some((key(result), result.timestamp?)))
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let now = Timestamp {
        seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        nanos: 0,
    };
    let mut report = report.clone();
    for result in &mut report.results {
        result.timestamp = Some(earlier.get(&key(result)).copied().unwrap_or(now));
    }
    report
}

/// Writes the reports of every snapshot `snapshots` publishes while
/// `leader` says this replica leads; each time it becomes the leader it
/// lists the cluster's reports afresh (another replica wrote them last).
/// Failed writes are logged and tried again; returns when either channel's
/// sender is gone.
pub async fn run_writer(
    client: kube::Client,
    mut snapshots: watch::Receiver<Arc<AuditSnapshot>>,
    mut leader: watch::Receiver<bool>,
    options: ReportOptions,
) {
    loop {
        if leader.wait_for(|leads| *leads).await.is_err() {
            return;
        }
        let mut writer = ReportWriter::new(client.clone(), options);
        while *leader.borrow_and_update() {
            let snapshot = snapshots.borrow_and_update().clone();
            let retry = match writer.write(&snapshot).await {
                Ok(written) => {
                    if written.written + written.deleted > 0 {
                        tracing::info!(
                            written = written.written,
                            deleted = written.deleted,
                            unchanged = written.unchanged,
                            "reports updated"
                        );
                    }
                    for error in &written.failed {
                        tracing::warn!("{}; trying again", error_chain(error));
                    }
                    !written.failed.is_empty()
                }
                Err(error) => {
                    tracing::warn!("{}; trying again", error_chain(&error));
                    true
                }
            };
            tokio::select! {
                changed = snapshots.changed() => if changed.is_err() { return },
                changed = leader.changed() => if changed.is_err() { return },
                () = tokio::time::sleep(RETRY_AFTER), if retry => {}
            }
        }
    }
}

/// The error and its causes on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
