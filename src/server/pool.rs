//! The bounded pool reviews run on.
//!
//! Evaluating policies is CPU-bound, so it runs off the async reactor on the
//! pool's own threads. A thread needs a *slot* to take a review from the
//! queue; there is one slot per core, so ordinary reviews run back to back
//! without the threads fighting over the cores.
//!
//! A policy that runs long (a loop until its deadline, an object that makes
//! it slow) must not hold those slots: when one evaluation has run for
//! [`LONG_AFTER`], the engine's epoch tick asks this pool (its
//! [`Overseer`](crate::engine::Overseer)) whether it may go on. It may, on a
//! *long slot*: its review gives its slot back, so another thread takes the
//! next queued review, and the operating system time-slices the cores
//! between the ordinary reviews and the long ones. There are two long slots
//! per slot (fewer past 21 cores: threads are bounded by the engine's
//! instance slots), and one policy may have at most half of them: a slow
//! policy, or a client sending what makes a policy slow, gets its share and
//! no more.
//! An evaluation that turns long beyond that is stopped at once (a policy
//! failure, answered per the policy's `failurePolicy`) rather than queued:
//! it would only wait for its deadline. So the pool has one thread per slot
//! and long slot, and a slot is never held by a long evaluation for more
//! than [`LONG_AFTER`].
//!
//! Requests beyond the slots wait in a queue, but only as long as an answer
//! can still reach the API server in time: an answer that arrives after its
//! timeout is worth nothing, while a quick answer per `failurePolicy` is
//! worth something. A request whose caller gives up (an HTTP/2 stream reset,
//! a closed connection: the handler's future is dropped) leaves the queue at
//! once, or, if it is running, its policy is stopped at the next tick.

mod worker;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use worker::{ABANDONED, CANCELLED, Job, QUEUED, STARTED, Shared, Sizing, Worker};

/// The running time from which a policy's evaluation is long and moves off
/// its slot: well above what a policy takes on an ordinary object (well
/// under a millisecond), well below the API server's timeouts (seconds).
pub const LONG_AFTER: Duration = Duration::from_millis(50);

/// The most threads a pool has: the engine has an instance slot for each
/// (`EngineOptions::max_concurrent`).
const MAX_THREADS: usize = 64;

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

/// Threads for CPU-bound work: a slot per core, and long slots that keep
/// slow policies in check (see the module docs).
#[derive(Debug)]
pub struct ReviewPool {
    shared: Arc<Shared>,
    max_waiting: usize,
    /// A review that would start with less time than this left is not worth
    /// starting: it could not finish anyway.
    min_run_time: Duration,
}

impl ReviewPool {
    /// A pool with `slots` slots (at least one) that lets at most
    /// `max_waiting` requests queue.
    pub fn new(slots: usize, max_waiting: usize) -> Self {
        Self::with_long_after(slots, max_waiting, LONG_AFTER)
    }

    /// [`ReviewPool::new`], with evaluations counting as long from
    /// `long_after` on rather than [`LONG_AFTER`].
    pub fn with_long_after(slots: usize, max_waiting: usize, long_after: Duration) -> Self {
        // Two long slots per slot, within the engine's instance slots; on
        // machines with more cores than that allows, fewer long slots.
        let slots = slots.clamp(1, MAX_THREADS * 3 / 4);
        let long_slots = (2 * slots).min(MAX_THREADS - slots);
        let sizing = Sizing {
            slots,
            long_slots,
            per_policy: (long_slots / 2).max(1),
            long_after,
        };
        let shared = Arc::new(Shared::new(sizing));
        for index in 0..slots + long_slots {
            let worker = Arc::new(Worker::new(shared.clone()));
            let spawned = std::thread::Builder::new()
                .name(format!("counsel-review-{index}"))
                .spawn(move || worker.work());
            if let Err(error) = spawned {
                // Fewer threads still serve; none at all answers "overloaded".
                tracing::error!("cannot start review thread {index}: {error}");
            }
        }
        ReviewPool {
            shared,
            max_waiting,
            min_run_time: Duration::from_millis(20),
        }
    }

    /// One slot per core the process may use.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores, (cores * 64).max(256))
    }

    /// Runs `work` on a pool thread once a slot is free, and returns its
    /// result if it arrives before `deadline`. Dropping the future gives the
    /// work up: it leaves the queue, or its running policy is stopped.
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
        if self.shared.push(job, self.max_waiting).is_err() {
            return Err(PoolError::Overloaded);
        }
        // From here on, however this future ends (answered, timed out,
        // dropped), the job is given up unless it has finished.
        let _pending = Pending {
            shared: &self.shared,
            state: &state,
        };
        // Not started in time to finish: overloaded. Started: it has until
        // the deadline; after it, its policy is stopped at the next tick.
        let answer = match tokio::time::timeout_at(start_by, &mut result).await {
            Ok(answer) => answer,
            Err(_) => {
                let taken =
                    state.compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire);
                if taken.is_ok() {
                    self.shared.remove(&state);
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
        self.shared.close();
    }
}

/// A job whose caller still waits; dropping this gives it up.
struct Pending<'a> {
    shared: &'a Shared,
    state: &'a Arc<AtomicU8>,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        let given_up =
            self.state
                .compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire);
        match given_up {
            // Out of the queue now, so it takes no place a live request
            // could have.
            Ok(_) => self.shared.remove(self.state),
            // Running: stopped at the next tick. (Finished: nothing reads
            // the state any more.)
            Err(_) => {
                let _ = self.state.compare_exchange(
                    STARTED,
                    CANCELLED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
