//! The bounded pool reviews run on.
//!
//! Evaluating policies is CPU-bound, so it runs off the async reactor on a
//! fixed set of threads, one per core: at most that many reviews at a time.
//! Requests beyond that wait in a queue, but only as long as an answer can
//! still reach the API server in time: an answer that arrives after its
//! timeout is worth nothing, while a quick answer per `failurePolicy` is
//! worth something.
//!
//! The threads are the pool's own rather than tokio's blocking pool: a
//! thread takes the next queued review as soon as it is done with one,
//! without going back to sleep and being woken for it, which under load
//! saves two context switches per review.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

/// Why work did not run to completion on the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// No thread became free in time, or too many requests are waiting.
    #[error("every evaluation slot is busy")]
    Overloaded,
    /// The work started but did not finish before the deadline.
    #[error("the evaluation did not finish in time")]
    Timeout,
    /// The work panicked (a bug; the panic has been logged).
    #[error("the evaluation crashed")]
    Panicked,
}

/// A fixed number of threads for CPU-bound work.
#[derive(Debug)]
pub struct ReviewPool {
    shared: Arc<Shared>,
    size: usize,
    max_waiting: usize,
    /// A review that would start with less time than this left is not worth
    /// starting: it could not finish anyway.
    min_run_time: Duration,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Threads waiting for a job: only then is one woken.
    idle: usize,
    /// The pool is gone: threads exit.
    closed: bool,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("jobs", &self.jobs.len())
            .field("idle", &self.idle)
            .field("closed", &self.closed)
            .finish()
    }
}

/// Queued work: run it, unless its time to start has passed or its caller
/// has given up on it (then it is dropped unrun).
struct Job {
    start_by: std::time::Instant,
    state: Arc<AtomicU8>,
    run: Box<dyn FnOnce() + Send>,
}

/// [`Job::state`]: waiting in the queue,
const QUEUED: u8 = 0;
/// taken by a thread,
const STARTED: u8 = 1;
/// or given up by its caller.
const ABANDONED: u8 = 2;

impl ReviewPool {
    /// A pool of `size` threads (at least one) that lets at most
    /// `max_waiting` requests queue.
    pub fn new(size: usize, max_waiting: usize) -> Self {
        let size = size.max(1);
        let shared = Arc::new(Shared::default());
        for index in 0..size {
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("counsel-review-{index}"))
                .spawn(move || shared.work());
            if let Err(error) = spawned {
                // Fewer threads still serve; none at all answers "overloaded".
                tracing::error!("cannot start review thread {index}: {error}");
            }
        }
        ReviewPool {
            shared,
            size,
            max_waiting,
            min_run_time: Duration::from_millis(20),
        }
    }

    /// One thread per core the process may use.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores, (cores * 64).max(256))
    }

    /// How many reviews may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `work` on a pool thread once one is free, and returns its result
    /// if it arrives before `deadline`.
    pub async fn run<T, F>(&self, deadline: Instant, work: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, mut result) = oneshot::channel();
        let start_by = deadline.checked_sub(self.min_run_time).unwrap_or(deadline);
        let state = Arc::new(AtomicU8::new(QUEUED));
        let job = Job {
            start_by: start_by.into_std(),
            state: state.clone(),
            run: Box::new(move || {
                // The panic itself is reported by the panic hook.
                let outcome = catch_unwind(AssertUnwindSafe(work)).map_err(|_| PoolError::Panicked);
                let _ = done.send(outcome);
            }),
        };
        {
            let mut queue = self.shared.lock();
            if queue.jobs.len() >= self.max_waiting {
                return Err(PoolError::Overloaded);
            }
            queue.jobs.push_back(job);
            if queue.idle > 0 {
                self.shared.ready.notify_one();
            }
        }
        // Not started in time to finish: overloaded. Started: it has until
        // the deadline, and finishes unheard after it (policies have their
        // own deadline), so a thread never runs more than one review.
        let answer = match tokio::time::timeout_at(start_by, &mut result).await {
            Ok(answer) => answer,
            Err(_) => {
                let taken =
                    state.compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire);
                if taken.is_ok() {
                    return Err(PoolError::Overloaded);
                }
                match tokio::time::timeout_at(deadline, result).await {
                    Ok(answer) => answer,
                    Err(_) => return Err(PoolError::Timeout),
                }
            }
        };
        // A job dropped unrun had come too late to start.
        answer.unwrap_or(Err(PoolError::Overloaded))
    }
}

impl Drop for ReviewPool {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        // A job runs outside the lock, so no panic can poison it mid-change.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A pool thread: runs jobs in order until the pool is dropped.
    fn work(&self) {
        loop {
            let job = {
                let mut queue = self.lock();
                loop {
                    if queue.closed {
                        return;
                    }
                    if let Some(job) = queue.jobs.pop_front() {
                        break job;
                    }
                    queue.idle += 1;
                    queue = self
                        .ready
                        .wait(queue)
                        .unwrap_or_else(PoisonError::into_inner);
                    queue.idle -= 1;
                }
            };
            let taken =
                job.state
                    .compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire);
            if taken.is_ok() && std::time::Instant::now() < job.start_by {
                (job.run)();
            }
        }
    }
}

#[cfg(test)]
mod tests;
