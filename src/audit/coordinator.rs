//! The audit's one task: it keeps the watched objects, decides what is
//! judged when (everything once every watch has listed and again when
//! what reviews judge by changes; a changed object after the debounce
//! delay; the objects of a namespace whose labels or annotations changed),
//! hands batches to the evaluation threads, and publishes what they
//! conclude as [`AuditSnapshot`]s and metrics.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::debounce::Debouncer;
use super::evaluate::{Evaluators, Job, Judged};
use super::kinds;
use super::metrics::Tally;
use super::watch::{Held, Seen, WatchId};
use super::{AuditOptions, AuditSnapshot, ObjectKey};
use crate::cluster::{ClusterState, Namespaces};
use crate::server::ServerState;

/// Objects per batch handed to an evaluation thread.
const BATCH: usize = 32;
/// Batches in flight per evaluation thread: enough to keep it busy, few
/// enough that work made stale by a change is not queued long.
const IN_FLIGHT_PER_THREAD: usize = 2;
/// How often, at most, a snapshot is published while work remains.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// One watch and what it has listed.
struct Watch {
    task: JoinHandle<()>,
    /// Keys seen by a list in progress.
    listing: Option<HashSet<ObjectKey>>,
    /// Whether a list has completed.
    listed: bool,
}

/// A full audit in progress.
struct Full {
    started: Instant,
    remaining: HashSet<ObjectKey>,
}

pub(super) struct Coordinator {
    client: kube::Client,
    state: Arc<ServerState>,
    options: AuditOptions,
    kinds: BTreeSet<String>,
    /// Kinds already reported as not served (reported once).
    unserved: BTreeSet<String>,
    watches: BTreeMap<WatchId, Watch>,
    seen_sender: mpsc::Sender<Seen>,
    objects: HashMap<ObjectKey, Arc<Held>>,
    snapshot: Arc<AuditSnapshot>,
    changed: bool,
    published: Instant,
    tally: Tally,
    debouncer: Debouncer<ObjectKey>,
    ready: VecDeque<ObjectKey>,
    queued: HashSet<ObjectKey>,
    in_flight: usize,
    evaluators: Evaluators,
    full: Option<Full>,
    /// When the next full audit is due; `None`: none wanted.
    full_due: Option<Instant>,
    first_done: bool,
}

impl Coordinator {
    /// Runs the audit until the task is aborted.
    pub(super) async fn run(
        client: kube::Client,
        state: Arc<ServerState>,
        cluster: Arc<ClusterState>,
        options: AuditOptions,
    ) {
        state.policies_loaded().await;
        // Namespaces and exceptions first: judging without them would
        // only be undone.
        cluster.wait_synced().await;
        let (results_sender, mut results) = mpsc::unbounded_channel();
        let evaluators = match Evaluators::start(options.threads, state.clone(), results_sender) {
            Ok(evaluators) => evaluators,
            Err(error) => {
                tracing::error!("the audit cannot start its threads; no audit: {error}");
                return;
            }
        };
        let (seen_sender, mut seen) = mpsc::channel(1024);
        let mut judging = state.watch_judging();
        judging.borrow_and_update();
        let mut namespaces = cluster.watch_namespaces();
        let mut known_namespaces = namespaces.borrow_and_update().clone();
        let mut audit = Coordinator {
            client,
            state,
            options,
            kinds: BTreeSet::new(),
            unserved: BTreeSet::new(),
            watches: BTreeMap::new(),
            seen_sender,
            objects: HashMap::new(),
            snapshot: Arc::default(),
            changed: false,
            published: Instant::now(),
            tally: Tally::default(),
            debouncer: Debouncer::new(options.debounce),
            ready: VecDeque::new(),
            queued: HashSet::new(),
            in_flight: 0,
            evaluators,
            full: None,
            full_due: Some(Instant::now()),
            first_done: false,
        };
        audit.watch_kinds().await;
        loop {
            let wake = audit.next_wake();
            tokio::select! {
                Some(message) = seen.recv() => audit.seen(message),
                Some(batch) = results.recv() => audit.judged(batch),
                Ok(()) = judging.changed() => {
                    judging.borrow_and_update();
                    audit.watch_kinds().await;
                    audit.full_due.get_or_insert(Instant::now() + audit.options.debounce);
                }
                Ok(()) = namespaces.changed() => {
                    let now = namespaces.borrow_and_update().clone();
                    audit.namespaces_changed(&known_namespaces, &now);
                    known_namespaces = now;
                }
                () = sleep_until(wake) => {}
            }
            audit.step();
        }
    }

    /// Starts and stops watches to follow the kinds the policies match.
    async fn watch_kinds(&mut self) {
        let Some(policies) = self.state.policies() else {
            return;
        };
        let kinds = kinds::to_watch(&policies.reviewer.kinds());
        if kinds == self.kinds {
            return;
        }
        let resolved = loop {
            match kinds::resolve(&self.client, &kinds).await {
                Ok(resolved) => break resolved,
                Err(error) => {
                    tracing::warn!(
                        "the audit cannot discover the API server's kinds (retried in 10 s): {error}"
                    );
                    tokio::time::sleep(Duration::from_secs(10)).await;
                }
            }
        };
        for kind in &resolved.unserved {
            if self.unserved.insert(kind.clone()) {
                tracing::info!(
                    kind = kind.as_str(),
                    "the API server serves no such kind: not audited"
                );
            }
        }
        let controllers = Arc::new(if self.options.controlled {
            BTreeSet::new()
        } else {
            resolved
                .resources
                .iter()
                .map(|r| r.resource.kind.clone())
                .collect()
        });
        let wanted: BTreeMap<WatchId, _> = resolved
            .resources
            .iter()
            .map(|r| &r.resource)
            .map(|r| ((r.api_version.clone(), r.kind.clone()), r))
            .collect();
        // Every watch restarts when the kinds change: which controllers are
        // audited may have changed, and with it which objects are kept.
        for watch in std::mem::take(&mut self.watches).into_values() {
            watch.task.abort();
        }
        let dropped: Vec<ObjectKey> = self.objects.keys().cloned().collect();
        for key in dropped {
            self.gone(&key);
        }
        for (id, resource) in wanted {
            let task = super::watch::start(
                &self.client,
                resource,
                controllers.clone(),
                self.seen_sender.clone(),
            );
            let watch = Watch {
                task,
                listing: None,
                listed: false,
            };
            self.watches.insert(id, watch);
        }
        let names: Vec<&str> = self.watches.keys().map(|(_, kind)| kind.as_str()).collect();
        tracing::info!("the audit watches {}", names.join(", "));
        self.kinds = kinds;
        self.full_due.get_or_insert(Instant::now());
    }

    fn seen(&mut self, message: Seen) {
        match message {
            Seen::Listing(id) => {
                if let Some(watch) = self.watches.get_mut(&id) {
                    watch.listing = Some(HashSet::new());
                }
            }
            Seen::Object(id, key, held) => {
                let Some(watch) = self.watches.get_mut(&id) else {
                    return;
                };
                if let Some(listing) = &mut watch.listing {
                    listing.insert(key.clone());
                }
                let same = self.objects.get(&key).is_some_and(|known| {
                    known.uid == held.uid && known.resource_version == held.resource_version
                });
                if !same {
                    self.objects.insert(key.clone(), held);
                    if self.first_done || self.full.is_some() {
                        self.debouncer.changed(key, Instant::now());
                    }
                }
            }
            Seen::Gone(id, key) => {
                if self.watches.contains_key(&id) {
                    self.gone(&key);
                }
            }
            Seen::Refused(id) => {
                // Judged without it (its objects unknown) rather than never:
                // the watch keeps trying, and what it lists later is judged
                // as a change.
                if let Some(watch) = self.watches.get_mut(&id)
                    && !watch.listed
                {
                    watch.listed = true;
                    tracing::warn!(
                        kind = id.1.as_str(),
                        "the audit goes on without a kind it may not list; grant list and watch of it to audit it"
                    );
                }
            }
            Seen::Listed(id) => {
                let Some(watch) = self.watches.get_mut(&id) else {
                    return;
                };
                watch.listed = true;
                if let Some(listed) = watch.listing.take() {
                    let vanished: Vec<ObjectKey> = (self.objects.keys())
                        .filter(|key| key.api_version == id.0 && key.kind == id.1)
                        .filter(|key| !listed.contains(*key))
                        .cloned()
                        .collect();
                    for key in vanished {
                        self.gone(&key);
                    }
                }
            }
        }
    }

    /// Forgets an object and its conclusion.
    fn gone(&mut self, key: &ObjectKey) {
        self.objects.remove(key);
        self.debouncer.forget(key);
        if let Some(full) = &mut self.full {
            full.remaining.remove(key);
        }
        self.conclude(key, None);
    }

    /// Records a conclusion (or its absence) about `key`.
    fn conclude(&mut self, key: &ObjectKey, audited: Option<Arc<super::Audited>>) {
        // Judged again to the same conclusion: the snapshot's readers keep
        // theirs (an unchanged `Arc` is how they know nothing changed).
        if let (Some(new), Some(known)) = (&audited, self.snapshot.objects.get(key))
            && new == known
        {
            return;
        }
        let old = match &audited {
            Some(audited) => Arc::make_mut(&mut self.snapshot)
                .objects
                .insert(key.clone(), audited.clone()),
            None if self.snapshot.objects.contains_key(key) => {
                Arc::make_mut(&mut self.snapshot).objects.remove(key)
            }
            None => return,
        };
        let metrics = self.state.metrics().audit();
        self.tally
            .replace(metrics, key, old.as_deref(), audited.as_deref());
        self.changed = true;
    }

    fn judged(&mut self, batch: Vec<Judged>) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.state.metrics().audit().record_evaluations(batch.len());
        for judged in batch {
            // Deleted while it was judged: nothing to say of it.
            if !self.objects.contains_key(&judged.key) {
                continue;
            }
            if let Some(full) = &mut self.full {
                full.remaining.remove(&judged.key);
            }
            self.conclude(&judged.key, judged.audited);
        }
    }

    fn namespaces_changed(&mut self, before: &Namespaces, now: &Namespaces) {
        let changed: HashSet<&str> = (now.iter())
            .filter(|namespace| before.get(&namespace.name).map(|b| &**b) != Some(&***namespace))
            .map(|namespace| namespace.name.as_str())
            .chain(
                (before.iter())
                    .filter(|namespace| now.get(&namespace.name).is_none())
                    .map(|namespace| namespace.name.as_str()),
            )
            .collect();
        if changed.is_empty() {
            return;
        }
        let instant = Instant::now();
        for key in self.objects.keys() {
            if key
                .namespace
                .as_deref()
                .is_some_and(|n| changed.contains(n))
            {
                self.debouncer.changed(key.clone(), instant);
            }
        }
    }

    /// When something is due: a debounced object, a full audit, a publish.
    fn next_wake(&self) -> Option<Instant> {
        let publish = self.changed.then_some(self.published + PUBLISH_EVERY);
        // A full audit waits for every watch's list, which wakes it anyway.
        let listed = self.watches.values().all(|watch| watch.listed);
        let full = self.full_due.filter(|_| listed);
        [self.debouncer.next_due(), full, publish]
            .into_iter()
            .flatten()
            .min()
    }

    /// Does what is due: starts a full audit, queues debounced objects,
    /// hands out work, completes a full audit, publishes.
    fn step(&mut self) {
        let now = Instant::now();
        let listed = self.watches.values().all(|watch| watch.listed);
        if listed && self.full_due.is_some_and(|due| due <= now) {
            self.full_due = None;
            self.start_full(now);
        }
        for key in self.debouncer.take_due(now) {
            if self.queued.insert(key.clone()) {
                self.ready.push_back(key);
            }
        }
        self.dispatch();
        if let Some(full) = &self.full
            && full.remaining.is_empty()
        {
            let took = full.started.elapsed();
            self.full = None;
            self.state
                .metrics()
                .audit()
                .record_full_audit(took, SystemTime::now());
            Arc::make_mut(&mut self.snapshot).complete = true;
            self.changed = true;
            let findings: usize = (self.snapshot.objects.values())
                .map(|audited| audited.findings.len())
                .sum();
            tracing::info!(
                objects = self.snapshot.objects.len(),
                findings,
                seconds = took.as_secs_f64(),
                "the audit judged every watched object"
            );
            self.first_done = true;
        }
        let idle = self.ready.is_empty() && self.in_flight == 0;
        if self.changed && (idle || self.published.elapsed() >= PUBLISH_EVERY) {
            self.state
                .audit_publisher()
                .send_replace(self.snapshot.clone());
            self.changed = false;
            self.published = Instant::now();
        }
    }

    fn start_full(&mut self, now: Instant) {
        self.debouncer.clear();
        let remaining: HashSet<ObjectKey> = self.objects.keys().cloned().collect();
        for key in &remaining {
            if self.queued.insert(key.clone()) {
                self.ready.push_back(key.clone());
            }
        }
        // Concluded before and no longer watched (a kind the policies
        // dropped): gone from the snapshot.
        let stale: Vec<ObjectKey> = (self.snapshot.objects.keys())
            .filter(|key| !self.objects.contains_key(*key))
            .cloned()
            .collect();
        for key in stale {
            self.conclude(&key, None);
        }
        Arc::make_mut(&mut self.snapshot).complete = false;
        self.changed = true;
        self.full = Some(Full {
            started: now,
            remaining,
        });
    }

    fn dispatch(&mut self) {
        let bound = self.options.threads.max(1) * IN_FLIGHT_PER_THREAD;
        while self.in_flight < bound && !self.ready.is_empty() {
            let mut batch = Vec::with_capacity(BATCH);
            while batch.len() < BATCH
                && let Some(key) = self.ready.pop_front()
            {
                self.queued.remove(&key);
                if let Some(held) = self.objects.get(&key) {
                    batch.push(Job {
                        held: held.clone(),
                        key,
                    });
                }
            }
            if batch.is_empty() {
                continue;
            }
            if !self.evaluators.send(batch) {
                return;
            }
            self.in_flight += 1;
        }
    }
}

impl Drop for Coordinator {
    fn drop(&mut self) {
        for watch in self.watches.values() {
            watch.task.abort();
        }
    }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(wake) => tokio::time::sleep_until(wake.into()).await,
        None => std::future::pending().await,
    }
}
