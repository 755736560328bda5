//! Kubernetes Events (`events.k8s.io/v1`) about objects Counsel judged, so
//! that findings reach those who never see kubectl's warnings (GitOps
//! users: `kubectl describe`, `kubectl events`, Argo CD, Flux).
//!
//! Whoever has an event to tell hands it to an [`EventSender`], which never
//! waits: the review path puts it in a bounded queue (`try_send`; a full
//! queue drops it and counts it) and one task ([`start`]) writes the
//! events. That task deduplicates (the same note about the same object
//! within the window becomes one Event whose `series.count` grows, as
//! kubectl shows it) and limits the rate, in all and per object.
//!
//! kube-runtime's `events::Recorder` writes `events.k8s.io/v1` too, but its
//! series key leaves out the note: every finding about one object would
//! become one Event carrying the first finding's note. Hence this writer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The `reportingController` of Counsel's events.
pub const REPORTING_CONTROLLER: &str = "counsel.dev/counsel";
/// The reason of an event about a finding.
pub const VIOLATION: &str = "PolicyViolation";
/// The reason of an event about a finding an exception lets through.
pub const EXCEPTED: &str = "PolicyExcepted";

/// One event to tell.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyEvent {
    /// The object it is about (`uid` when known).
    pub regarding: ObjectReference,
    /// [`VIOLATION`] or [`EXCEPTED`].
    pub reason: &'static str,
    /// `Admit` (a review let it in) or `Audit` (the background audit).
    pub action: &'static str,
    /// The one line a developer reads (at most 1 kB).
    pub note: String,
    /// `Warning` rather than `Normal`.
    pub warning: bool,
}

/// How events are told.
#[derive(Debug, Clone, PartialEq)]
pub struct EventOptions {
    /// This replica (`reportingInstance`).
    pub instance: String,
    /// Events written per second at most, in all (bursts of ten times as
    /// many).
    pub per_second: f64,
    /// Events about one object at most within `window` (refilled evenly).
    pub per_object: u32,
    /// How long the same note about the same object counts as a repeat.
    pub window: Duration,
    /// Events waiting to be written at most; more are dropped.
    pub queue: usize,
}

impl EventOptions {
    /// Counsel's defaults, as `instance`.
    pub fn new(instance: String) -> Self {
        EventOptions {
            instance,
            per_second: 10.0,
            per_object: 25,
            window: Duration::from_secs(600),
            queue: 1024,
        }
    }
}

/// What became of an event, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    /// Written as a new Event.
    Created,
    /// Counted in an Event's series.
    Repeated,
    /// Dropped: the queue was full.
    QueueFull,
    /// Dropped: over the rate (in all or for its object).
    RateLimited,
    /// The API server refused it.
    Failed,
}

impl EventOutcome {
    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            EventOutcome::Created => "created",
            EventOutcome::Repeated => "repeated",
            EventOutcome::QueueFull => "queue_full",
            EventOutcome::RateLimited => "rate_limited",
            EventOutcome::Failed => "failed",
        }
    }
}

/// Told what became of each event.
pub type EventObserver = Arc<dyn Fn(EventOutcome) + Send + Sync>;

/// Hands events to the writer without ever waiting.
#[derive(Clone)]
pub struct EventSender {
    queue: mpsc::Sender<PolicyEvent>,
    observe: EventObserver,
}

impl std::fmt::Debug for EventSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSender").finish_non_exhaustive()
    }
}

impl EventSender {
    /// Queues `event`; when the queue is full it is dropped (and counted).
    pub fn send(&self, event: PolicyEvent) {
        if self.queue.try_send(event).is_err() {
            (self.observe)(EventOutcome::QueueFull);
        }
    }
}

/// Starts the task that writes events; it ends when every sender is gone.
pub fn start(
    client: kube::Client,
    options: EventOptions,
    observe: EventObserver,
) -> (EventSender, JoinHandle<()>) {
    let (queue, events) = mpsc::channel(options.queue.max(1));
    let writer = Writer {
        client,
        global: Bucket::new(options.per_second * 10.0, options.per_second),
        per_object: HashMap::new(),
        series: HashMap::new(),
        observe: observe.clone(),
        options,
        swept: Instant::now(),
    };
    let task = tokio::spawn(writer.run(events));
    (EventSender { queue, observe }, task)
}

/// The same note about the same object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    object: ObjectKey,
    reason: &'static str,
    action: &'static str,
    note: String,
}

/// `namespace/kind/name/uid`.
type ObjectKey = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// An Event written, and how often it happened since.
struct Series {
    name: String,
    namespace: String,
    count: i32,
    last: Instant,
}

/// A token bucket.
struct Bucket {
    tokens: f64,
    burst: f64,
    per_second: f64,
    at: Instant,
}

impl Bucket {
    fn new(burst: f64, per_second: f64) -> Self {
        Bucket {
            tokens: burst,
            burst,
            per_second,
            at: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let earned = now.duration_since(self.at).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.at = now;
    }

    fn has_one(&mut self) -> bool {
        self.refill();
        self.tokens >= 1.0
    }

    fn take(&mut self) {
        self.tokens -= 1.0;
    }
}

/// Most series and per-object buckets kept: beyond them, the oldest are
/// forgotten early (an event may then be written again rather than
/// counted).
const MAX_TRACKED: usize = 10_000;

struct Writer {
    client: kube::Client,
    options: EventOptions,
    global: Bucket,
    per_object: HashMap<ObjectKey, Bucket>,
    series: HashMap<SeriesKey, Series>,
    observe: EventObserver,
    swept: Instant,
}

impl Writer {
    async fn run(mut self, mut events: mpsc::Receiver<PolicyEvent>) {
        while let Some(event) = events.recv().await {
            let outcome = self.write(event).await;
            (self.observe)(outcome);
        }
    }

    async fn write(&mut self, event: PolicyEvent) -> EventOutcome {
        self.sweep();
        let object: ObjectKey = (
            event.regarding.namespace.clone(),
            event.regarding.kind.clone(),
            event.regarding.name.clone(),
            event.regarding.uid.clone(),
        );
        let window = self.options.window;
        let per_object = f64::from(self.options.per_object.max(1));
        let bucket = self
            .per_object
            .entry(object.clone())
            .or_insert_with(|| Bucket::new(per_object, per_object / window.as_secs_f64().max(1.0)));
        if !(self.global.has_one() && bucket.has_one()) {
            return EventOutcome::RateLimited;
        }
        let key = SeriesKey {
            object,
            reason: event.reason,
            action: event.action,
            note: event.note.clone(),
        };
        if let Some(series) = self.series.get_mut(&key) {
            self.global.take();
            bucket.take();
            series.count += 1;
            series.last = Instant::now();
            let patch = serde_json::json!({"series": EventSeries {
                count: series.count,
                last_observed_time: MicroTime(Timestamp::now()),
            }});
            let (namespace, name) = (series.namespace.clone(), series.name.clone());
            let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
            return match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => EventOutcome::Repeated,
                Err(error) => {
                    tracing::warn!("updating Event {namespace}/{name}: {error}");
                    // Written afresh next time.
                    self.series.remove(&key);
                    EventOutcome::Failed
                }
            };
        }
        self.global.take();
        bucket.take();
        let namespace = event
            .regarding
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let now = Timestamp::now();
        let object_name = event.regarding.name.clone().unwrap_or_default();
        // Event names are at most 253 characters, like the object's.
        let prefix: String = object_name.chars().take(200).collect();
        let name = format!("{prefix}.{:x}", now.as_nanosecond());
        let written = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(now)),
            action: Some(event.action.to_owned()),
            reason: Some(event.reason.to_owned()),
            note: Some(event.note),
            regarding: Some(event.regarding),
            reporting_controller: Some(REPORTING_CONTROLLER.to_owned()),
            reporting_instance: Some(self.options.instance.clone()),
            type_: Some(if event.warning { "Warning" } else { "Normal" }.to_owned()),
            ..Event::default()
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        match api.create(&PostParams::default(), &written).await {
            Ok(_) => {
                if self.series.len() < MAX_TRACKED {
                    self.series.insert(
                        key,
                        Series {
                            name,
                            namespace,
                            count: 1,
                            last: Instant::now(),
                        },
                    );
                }
                EventOutcome::Created
            }
            Err(error) => {
                tracing::warn!("writing an Event in namespace {namespace}: {error}");
                EventOutcome::Failed
            }
        }
    }

    /// Forgets series older than the window and full buckets, once a
    /// second at most.
    fn sweep(&mut self) {
        if self.swept.elapsed() < Duration::from_secs(1)
            && self.series.len() < MAX_TRACKED
            && self.per_object.len() < MAX_TRACKED
        {
            return;
        }
        self.swept = Instant::now();
        let window = self.options.window;
        self.series
            .retain(|_, series| series.last.elapsed() < window);
        self.per_object.retain(|_, bucket| {
            bucket.refill();
            bucket.tokens < bucket.burst
        });
        if self.series.len() >= MAX_TRACKED {
            self.series.clear();
        }
        if self.per_object.len() >= MAX_TRACKED {
            self.per_object.clear();
        }
    }
}
