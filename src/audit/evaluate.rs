//! The audit's evaluation threads: its own CPU budget, beside the webhook's
//! review pool and never through it. Each judges objects with the policies,
//! exceptions and namespaces the webhook uses at that moment, as a CREATE
//! of the object, and only in the gaps between reviews: under a load that
//! leaves no gaps the audit waits, and catches up when the load eases.
//!
//! They run at normal priority, deliberately: they share the engine's
//! instance pool (and the process's address space) with the review
//! threads, and a thread at the lowest priority that is preempted while
//! it holds one of their locks would keep a review waiting until a core
//! is idle (measured in BENCHMARKS.md: the webhook's p99 at half load
//! rose further with `SCHED_IDLE` than without it).

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc::UnboundedSender;

use super::watch::Held;
use super::{Audited, Conclusions, ObjectKey};
use crate::request::{Operation, Request};
use crate::review::{Context, Scope};
use crate::server::ServerState;

/// How long the webhook must have answered no review before the audit
/// judges an object: a webhook answering hundreds of reviews a second
/// leaves few such gaps, one answering a few a second many (5 ms let the
/// p99 at half load rise to 1.55x in one run; BENCHMARKS.md).
const QUIET: Duration = Duration::from_millis(10);
/// The longest the audit waits before it looks again whether the webhook
/// is quiet.
const LOOK_AT_MOST_EVERY: Duration = Duration::from_millis(40);

/// One object to judge.
pub struct Job {
    /// Its key.
    pub key: ObjectKey,
    /// The object as held when the job was made.
    pub held: Arc<Held>,
}

/// One object judged.
pub struct Judged {
    /// Its key.
    pub key: ObjectKey,
    /// What was concluded; `None` when no policy matched it.
    pub audited: Option<Arc<Audited>>,
}

/// The evaluation threads; they end once this is dropped and their
/// current batch is done.
pub struct Evaluators {
    jobs: SyncSender<Vec<Job>>,
}

impl Evaluators {
    /// Starts `threads` threads judging batches of jobs, each batch's
    /// results sent to `results` at once.
    pub fn start(
        threads: usize,
        state: Arc<ServerState>,
        results: UnboundedSender<Vec<Judged>>,
    ) -> std::io::Result<Evaluators> {
        // The coordinator bounds what is in flight; this only holds it.
        let (jobs, queue) = sync_channel(threads.max(1) * 4);
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let (queue, state, results) = (queue.clone(), state.clone(), results.clone());
            std::thread::Builder::new()
                .name(format!("counsel-audit-{index}"))
                .spawn(move || evaluate(&queue, &state, &results))?;
        }
        Ok(Evaluators { jobs })
    }

    /// Hands a batch to the threads (waits only if they are far behind,
    /// which the coordinator's bound prevents).
    pub fn send(&self, batch: Vec<Job>) -> bool {
        self.jobs.send(batch).is_ok()
    }
}

fn evaluate(
    queue: &Mutex<Receiver<Vec<Job>>>,
    state: &ServerState,
    results: &UnboundedSender<Vec<Judged>>,
) {
    let mut conclusions = Conclusions::default();
    loop {
        let batch = {
            let queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
            match queue.recv() {
                Ok(batch) => batch,
                Err(_) => return,
            }
        };
        let judged = batch
            .into_iter()
            .map(|job| {
                yield_to_reviews(state);
                Judged {
                    audited: judge(state, &mut conclusions, &job.key, &job.held).map(Arc::new),
                    key: job.key,
                }
            })
            .collect();
        if results.send(judged).is_err() {
            return;
        }
    }
}

/// Waits until the webhook has answered no review for [`QUIET`]: objects
/// are judged in the gaps between reviews, and a review that arrives
/// meanwhile meets at most one object's evaluation. While the webhook
/// stays busy the audit looks again less and less often (up to every
/// [`LOOK_AT_MOST_EVERY`]), so that a saturated webhook is not woken for
/// it; it catches up once the load eases.
fn yield_to_reviews(state: &ServerState) {
    let mut wait = QUIET;
    while state
        .activity()
        .quiet_for()
        .is_none_or(|quiet| quiet < QUIET)
    {
        std::thread::sleep(wait);
        wait = (wait * 2).min(LOOK_AT_MOST_EVERY);
    }
}

/// Judges one object as the webhook would judge a CREATE of it now.
fn judge(
    state: &ServerState,
    conclusions: &mut Conclusions,
    key: &ObjectKey,
    held: &Held,
) -> Option<Audited> {
    let policies = state.policies()?;
    let object = match serde_json::from_str(&held.json) {
        Ok(object) => object,
        Err(error) => {
            tracing::warn!(
                object = key.to_string().as_str(),
                "the audit cannot read an object: {error}"
            );
            return None;
        }
    };
    let mut request = Request::for_manifest(object, Operation::Create, None);
    request.dry_run = None;
    let namespace = state.namespace(request.namespace.as_deref());
    let exceptions = state.exceptions();
    let context = Context {
        namespace: namespace.as_deref(),
        now: SystemTime::now(),
        exceptions: Some(&exceptions),
    };
    let report = match policies
        .reviewer
        .review_in(&request, Scope::All, None, &context)
    {
        Ok(report) => report,
        Err(error) => {
            tracing::warn!(
                object = key.to_string().as_str(),
                "the audit could not judge an object: {error}"
            );
            return None;
        }
    };
    let audited = conclusions.audited(&held.uid, &held.resource_version, &report);
    (!audited.is_empty()).then_some(audited)
}
