//! Leader election with a `coordination.k8s.io/v1` Lease, so that one
//! replica, and only one, writes what is written once for the cluster
//! (reports, audit Events).
//!
//! As client-go's leader election does: a replica takes the Lease when it
//! is absent, released (no holder), or has not changed for its duration as
//! this replica observed it (its own clock, never the holder's), renews it
//! while it holds it, and stops leading when it could not renew for
//! longer than the duration less one renewal period, before any other
//! replica may take over. Every write is conditional on the Lease's
//! `resourceVersion`, so two replicas never both win.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Which Lease, held by whom, how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseOptions {
    /// The Lease's name (`counsel-audit`).
    pub name: String,
    /// Its namespace (Counsel's own).
    pub namespace: String,
    /// This replica, as the Lease's `holderIdentity` names it.
    pub identity: String,
    /// How long a Lease nobody renews stays held.
    pub duration: Duration,
    /// How often the leader renews it (and others look at it).
    pub renew_every: Duration,
}

impl LeaseOptions {
    /// Counsel's defaults (15 s, renewed every 5 s) for the Lease `name`
    /// in `namespace`, held as [`identity`].
    pub fn new(name: &str, namespace: &str) -> Self {
        LeaseOptions {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            identity: identity(),
            duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
        }
    }
}

/// `HOSTNAME_PID_RANDOM`: the pod's name (its hostname) and what tells two
/// processes of one pod, or a restarted one, apart.
pub fn identity() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
        })
        .unwrap_or_else(|| "counsel".to_owned());
    // A randomly seeded hasher: random enough to tell replicas apart.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{host}_{}_{:08x}", std::process::id(), random as u32)
}

/// A running election: [`Leadership::leader`] says whether this replica
/// leads now.
pub struct Leadership {
    leader: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Leadership {
    /// `true` while this replica leads; watch it to start and stop work.
    pub fn leader(&self) -> watch::Receiver<bool> {
        self.leader.clone()
    }

    /// Stops taking part and, when leading, releases the Lease so that
    /// another replica takes over at once rather than after its duration.
    pub async fn release(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Takes part in the election for `options`' Lease until released.
pub fn elect(client: kube::Client, options: LeaseOptions) -> Leadership {
    let (leader_sender, leader) = watch::channel(false);
    let (stop, stopped) = watch::channel(false);
    let api: Api<Lease> = Api::namespaced(client, &options.namespace);
    let task = tokio::spawn(run(api, options, leader_sender, stopped));
    Leadership { leader, stop, task }
}

/// The Lease as last seen, and when this replica first saw it so.
struct Observed {
    record: (Option<String>, Option<String>),
    since: Instant,
}

async fn run(
    api: Api<Lease>,
    options: LeaseOptions,
    leader: watch::Sender<bool>,
    mut stopped: watch::Receiver<bool>,
) {
    let lease = format!("{}/{}", options.namespace, options.name);
    let mut observed: Option<Observed> = None;
    let mut renewed: Option<Instant> = None;
    // Step down before anyone else may take over.
    let renew_deadline = options
        .duration
        .saturating_sub(options.renew_every)
        .max(options.renew_every);
    loop {
        let leads = match try_hold(&api, &options, &mut observed).await {
            Ok(true) => {
                renewed = Some(Instant::now());
                true
            }
            Ok(false) => false,
            Err(error) => {
                tracing::warn!("Lease {lease}: {error}; trying again");
                renewed.is_some_and(|at| at.elapsed() < renew_deadline)
            }
        };
        if !leads {
            renewed = None;
        }
        if leads != *leader.borrow() {
            if leads {
                tracing::info!(
                    "became the leader (Lease {lease}, holder {}): this replica writes reports and audit Events",
                    options.identity
                );
            } else {
                tracing::info!(
                    "no longer the leader (Lease {lease}, holder {}): another replica writes reports",
                    options.identity
                );
            }
            leader.send_replace(leads);
        }
        tokio::select! {
            () = tokio::time::sleep(options.renew_every) => {}
            _ = stopped.changed() => break,
        }
    }
    if *leader.borrow() {
        leader.send_replace(false);
        match release(&api, &options).await {
            Ok(()) => tracing::info!("released the Lease {lease}"),
            Err(error) => tracing::warn!("Lease {lease}: releasing it: {error}"),
        }
    }
}

/// Takes or renews the Lease; `Ok(false)` when another replica holds it
/// (or won a race for it).
async fn try_hold(
    api: &Api<Lease>,
    options: &LeaseOptions,
    observed: &mut Option<Observed>,
) -> Result<bool, kube::Error> {
    let now = MicroTime(Timestamp::now());
    let Some(mut lease) = api.get_opt(&options.name).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(options.name.clone()),
                namespace: Some(options.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(options.identity.clone()),
                lease_duration_seconds: Some(seconds(options.duration)),
                acquire_time: Some(now.clone()),
                renew_time: Some(now),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        return conflict_is_loss(api.create(&PostParams::default(), &lease).await);
    };
    let mut spec = lease.spec.take().unwrap_or_default();
    let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
    let record = (holder.clone(), lease.metadata.resource_version.clone());
    if observed.as_ref().is_none_or(|seen| seen.record != record) {
        *observed = Some(Observed {
            record,
            since: Instant::now(),
        });
    }
    let mine = holder.as_deref() == Some(options.identity.as_str());
    if !mine {
        let duration = spec
            .lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map_or(options.duration, Duration::from_secs);
        let unchanged_for = observed
            .as_ref()
            .map_or(Duration::ZERO, |seen| seen.since.elapsed());
        if holder.is_some() && unchanged_for < duration {
            return Ok(false);
        }
        spec.holder_identity = Some(options.identity.clone());
        spec.acquire_time = Some(now.clone());
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
    }
    spec.renew_time = Some(now);
    spec.lease_duration_seconds = Some(seconds(options.duration));
    lease.spec = Some(spec);
    conflict_is_loss(
        api.replace(&options.name, &PostParams::default(), &lease)
            .await,
    )
}

/// A write that lost a race (409 Conflict) means another replica holds it.
fn conflict_is_loss(written: Result<Lease, kube::Error>) -> Result<bool, kube::Error> {
    match written {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(error) => Err(error),
    }
}

/// Gives the Lease up, if still ours: no holder, so the next replica to
/// look takes it.
async fn release(api: &Api<Lease>, options: &LeaseOptions) -> Result<(), kube::Error> {
    let Some(mut lease) = api.get_opt(&options.name).await? else {
        return Ok(());
    };
    let Some(spec) = lease.spec.as_mut() else {
        return Ok(());
    };
    if spec.holder_identity.as_deref() != Some(options.identity.as_str()) {
        return Ok(());
    }
    spec.holder_identity = None;
    spec.renew_time = Some(MicroTime(Timestamp::now()));
    api.replace(&options.name, &PostParams::default(), &lease)
        .await
        .map(drop)
}

fn seconds(duration: Duration) -> i32 {
    i32::try_from(duration.as_secs().max(1)).unwrap_or(i32::MAX)
}
