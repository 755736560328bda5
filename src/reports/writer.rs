//! Writes the reports to the cluster: each when its content changes, and
//! deletes those of namespaces left without results. Only Counsel's own
//! reports (labelled [`MANAGED_BY`]) are ever listed, changed or deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use serde_json::value::RawValue;
use tokio::sync::watch;

use super::compare::{Built, Stored, build, now_timestamp};
use super::{MANAGED_BY, OpenReport, REPORT_NAME, ReportOptions};
use crate::audit::AuditSnapshot;
use crate::idle::IdleWorker;

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
    /// The thread that builds reports stopped.
    #[error("the report writer's thread stopped")]
    Stopped,
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
/// only what changed. It keeps of each report a digest and its results'
/// timestamps, not the report; and it builds again only the reports of
/// namespaces where the snapshot changed, on an [`IdleWorker`].
pub struct ReportWriter {
    client: kube::Client,
    options: ReportOptions,
    /// Counsel's reports in the cluster, by namespace, as last listed or
    /// written; `None` until listed.
    stored: Option<BTreeMap<Option<String>, Stored>>,
    /// The snapshot the reports were last built from.
    built_from: Option<Arc<AuditSnapshot>>,
    /// Namespaces to build again whatever the next snapshot changes: a
    /// write failed, or a report awaits deletion until a complete snapshot.
    again: BTreeSet<Option<String>>,
    /// Whether a complete snapshot has come: reports are written from then.
    complete_once: bool,
    worker: IdleWorker,
}

impl ReportWriter {
    /// A writer that lists Counsel's reports on its first pass; it builds
    /// reports on a thread of its own.
    pub fn new(client: kube::Client, options: ReportOptions) -> std::io::Result<Self> {
        Ok(ReportWriter {
            client,
            options,
            stored: None,
            built_from: None,
            again: BTreeSet::new(),
            complete_once: false,
            worker: IdleWorker::start("counsel-reports")?,
        })
    }

    /// Makes the cluster's reports those of `snapshot`: writes each report
    /// whose content (timestamps aside) differs from what is there, and,
    /// once the snapshot is complete, deletes the reports of namespaces
    /// without results. A result that stays the same keeps its timestamp.
    /// Nothing is written before the first complete snapshot.
    pub async fn write(&mut self, snapshot: &Arc<AuditSnapshot>) -> Result<Written, WriteError> {
        // Until the audit has judged everything once, a report would say
        // only part of what its namespace holds (and be written again as
        // the rest comes): what is in the cluster stays until then.
        self.complete_once |= snapshot.complete;
        if !self.complete_once {
            return Ok(Written::default());
        }
        let mut stored = match self.stored.take() {
            Some(stored) => stored,
            None => self.list().await?,
        };
        // Which reports may say something else now, found (as they are
        // built) on the writer's thread, one at a time: a report's body is
        // dropped once written.
        let (before, now) = (self.built_from.take(), snapshot.clone());
        let listed: Vec<Option<String>> = stored.keys().cloned().collect();
        let mut namespaces = self
            .worker
            .run(move || match before {
                Some(before) => now.namespaces_changed_since(&before),
                None => (now.objects.keys())
                    .map(|key| key.namespace.clone())
                    .chain(listed)
                    .collect(),
            })
            .await
            .ok_or(WriteError::Stopped)?;
        namespaces.append(&mut self.again);
        self.built_from = Some(snapshot.clone());
        let mut outcome = Written::default();
        let time = now_timestamp();
        for namespace in namespaces {
            let (known, from) = (stored.get(&namespace).cloned(), snapshot.clone());
            let (options, which) = (self.options, namespace.clone());
            let built = self
                .worker
                .run(move || build(&from, which.as_deref(), &options, known.as_ref(), time))
                .await;
            let Some(built) = built else {
                self.again.insert(namespace);
                self.stored = Some(stored);
                return Err(WriteError::Stopped);
            };
            match built {
                Built::Unchanged => {}
                Built::Changed(body, kept) => match self.apply(namespace.as_deref(), body).await {
                    Ok(()) => {
                        outcome.written += 1;
                        stored.insert(namespace, kept);
                    }
                    Err(error) => {
                        outcome.failed.push(error);
                        self.again.insert(namespace);
                    }
                },
                // An incomplete snapshot lacks objects not judged yet, not
                // objects gone: the report stays until it is complete.
                Built::Empty if !stored.contains_key(&namespace) => {}
                Built::Empty if !snapshot.complete => {
                    self.again.insert(namespace);
                }
                Built::Empty => match self.delete(namespace.as_deref()).await {
                    Ok(()) => {
                        outcome.deleted += 1;
                        stored.remove(&namespace);
                    }
                    Err(error) => {
                        outcome.failed.push(error);
                        self.again.insert(namespace);
                    }
                },
            }
        }
        outcome.unchanged = stored.len() - outcome.written;
        self.stored = Some(stored);
        Ok(outcome)
    }

    /// What Counsel's reports in the cluster now say.
    async fn list(&self) -> Result<BTreeMap<Option<String>, Stored>, WriteError> {
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
                    found.insert(report.namespace.clone(), Stored::listed(&report));
                }
            }
        }
        Ok(found)
    }

    async fn apply(&self, namespace: Option<&str>, body: Box<RawValue>) -> Result<(), WriteError> {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        self.api(namespace)
            .patch(REPORT_NAME, &params, &Patch::Apply(body))
            .await
            .map(drop)
            .map_err(|source| WriteError::Write {
                report: describe(namespace),
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
                report: describe(namespace),
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

/// `Report shop/counsel`, `ClusterReport counsel`.
fn describe(namespace: Option<&str>) -> String {
    match namespace {
        Some(namespace) => format!("Report {namespace}/{REPORT_NAME}"),
        None => format!("ClusterReport {REPORT_NAME}"),
    }
}

/// Writes the reports of every snapshot `snapshots` publishes while
/// `leader` says this replica leads; each time it becomes the leader it
/// lists the cluster's reports afresh (another replica wrote them last).
/// Each pass is told to `observe`. Failed writes are logged and tried
/// again; returns when either channel's sender is gone.
pub async fn run_writer(
    client: kube::Client,
    mut snapshots: watch::Receiver<Arc<AuditSnapshot>>,
    mut leader: watch::Receiver<bool>,
    options: ReportOptions,
    observe: impl Fn(&Written),
) {
    loop {
        if leader.wait_for(|leads| *leads).await.is_err() {
            return;
        }
        let mut writer = match ReportWriter::new(client.clone(), options) {
            Ok(writer) => writer,
            Err(error) => {
                tracing::error!("no reports: the report writer's thread cannot start: {error}");
                return;
            }
        };
        while *leader.borrow_and_update() {
            let snapshot = snapshots.borrow_and_update().clone();
            let retry = match writer.write(&snapshot).await {
                Ok(written) => {
                    observe(&written);
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
