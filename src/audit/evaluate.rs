//! The audit's evaluation threads: its own CPU budget, beside the webhook's
//! review pool and never through it. Each judges objects with the policies,
//! exceptions and namespaces the webhook uses at that moment, as a CREATE
//! of the object, and runs at the lowest priority (`SCHED_IDLE`), so
//! admission reviews get the cores first: under a load that keeps every
//! core busy the audit waits, and catches up when the load eases.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use tokio::sync::mpsc::UnboundedSender;

use super::watch::Held;
use super::{Audited, ObjectKey};
use crate::request::{Operation, Request};
use crate::review::{Context, Scope};
use crate::server::ServerState;

/// The niceness of the evaluation threads where `SCHED_IDLE` is refused
/// (the webhook's run at 0).
const NICENESS: i32 = 19;

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
    lower_priority();
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
            .map(|job| Judged {
                audited: judge(state, &job.key, &job.held).map(Arc::new),
                key: job.key,
            })
            .collect();
        if results.send(judged).is_err() {
            return;
        }
    }
}

/// Judges one object as the webhook would judge a CREATE of it now.
fn judge(state: &ServerState, key: &ObjectKey, held: &Held) -> Option<Audited> {
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
    (!report.evaluations.is_empty() || !report.failures.is_empty()).then(|| Audited {
        uid: held.uid.clone(),
        resource_version: held.resource_version.clone(),
        report,
    })
}

/// Lowers the calling thread's scheduling priority, so that the webhook's
/// threads get the cores first when both want them: `SCHED_IDLE`, which
/// runs only on CPU time nothing else wants (a woken review thread takes
/// the core at once), else the highest niceness.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn lower_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: gettid has no preconditions; sched_setscheduler and
    // setpriority with a thread id change only that thread's scheduling
    // (Linux), and read only `param`, which lives across the call.
    let lowered = unsafe {
        let thread = libc::gettid();
        libc::sched_setscheduler(thread, libc::SCHED_IDLE, &param) == 0
            || libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, NICENESS) == 0
    };
    if !lowered {
        tracing::warn!(
            "the audit's thread keeps its priority: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}
