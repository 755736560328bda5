//! What runs beside the webhook when it is connected to a cluster, apart
//! from the watches: the Events writer (fed by reviews and, on the leader,
//! by the audit), the leader election, and on the leader the report
//! writer.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::events::run_audit_events;
use super::state::ServerState;
use crate::audit::AuditSnapshot;
use crate::cluster::events::{self, EventOptions};
use crate::cluster::lease::{self, Leadership, LeaseOptions};
use crate::reports::{ReportOptions, run_writer};

/// Leader election and OpenReports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSettings {
    /// The Lease's name.
    pub lease_name: String,
    /// The Lease's namespace; `None`: the client's (the pod's own in a
    /// cluster, the kubeconfig context's outside).
    pub lease_namespace: Option<String>,
    /// How long a Lease nobody renews stays held.
    pub lease_duration: Duration,
    /// How often the leader renews it.
    pub renew_every: Duration,
    /// How reports are made.
    pub report: ReportOptions,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            lease_name: "counsel-audit".to_owned(),
            lease_namespace: None,
            lease_duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
            report: ReportOptions::default(),
        }
    }
}

/// Rates of Events about findings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventSettings {
    /// Events written per second at most, in all.
    pub per_second: f64,
    /// Events about one object at most within the deduplication window.
    pub per_object: u32,
}

impl Default for EventSettings {
    fn default() -> Self {
        EventSettings {
            per_second: 10.0,
            per_object: 25,
        }
    }
}

/// The running tasks; [`Background::stop`] ends them.
pub(crate) struct Background {
    leadership: Option<Leadership>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts the Events writer (when `event_settings` is set) and the
    /// leader election (when `report_settings` is set). With `audit`, the
    /// background audit's snapshots, the leader also writes reports and
    /// audit Events.
    pub(crate) fn start(
        client: &kube::Client,
        state: &Arc<ServerState>,
        report_settings: Option<&ReportSettings>,
        event_settings: Option<&EventSettings>,
        audit: Option<watch::Receiver<Arc<AuditSnapshot>>>,
    ) -> Background {
        let identity = lease::identity();
        let mut tasks = Vec::new();
        let sender = event_settings.map(|settings| {
            let mut options = EventOptions::new(identity.clone());
            options.per_second = settings.per_second;
            options.per_object = settings.per_object;
            let metrics = state.clone();
            let observe = Arc::new(move |outcome: events::EventOutcome| {
                metrics.metrics().record_event(outcome.as_str());
            });
            let (sender, task) = events::start(client.clone(), options, observe);
            state.set_events(sender.clone());
            tasks.push(task);
            sender
        });
        let leadership = report_settings.map(|settings| {
            let namespace = settings
                .lease_namespace
                .clone()
                .unwrap_or_else(|| client.default_namespace().to_owned());
            let mut options = LeaseOptions::new(&settings.lease_name, &namespace);
            options.identity = identity.clone();
            options.duration = settings.lease_duration;
            options.renew_every = settings.renew_every;
            let leadership = lease::elect(client.clone(), options);
            tasks.push(tokio::spawn(mirror_leader(
                leadership.leader(),
                state.clone(),
            )));
            if let Some(audit) = &audit {
                let metrics = state.clone();
                tasks.push(tokio::spawn(run_writer(
                    client.clone(),
                    audit.clone(),
                    leadership.leader(),
                    settings.report,
                    move |written| metrics.metrics().record_report_writes(written),
                )));
                if let Some(sender) = &sender {
                    tasks.push(tokio::spawn(run_audit_events(
                        audit.clone(),
                        leadership.leader(),
                        sender.clone(),
                    )));
                }
            }
            leadership
        });
        Background { leadership, tasks }
    }

    /// Stops every task and releases the Lease when leading.
    pub(crate) async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(leadership) = self.leadership {
            leadership.release().await;
        }
    }
}

/// Keeps `counsel_leader` equal to the election's outcome.
async fn mirror_leader(mut leader: watch::Receiver<bool>, state: Arc<ServerState>) {
    loop {
        state.metrics().set_leader(*leader.borrow_and_update());
        if leader.changed().await.is_err() {
            return;
        }
    }
}
