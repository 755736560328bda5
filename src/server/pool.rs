//! The bounded pool reviews run on.
//!
//! Evaluating policies is CPU-bound, so it runs off the async reactor on
//! tokio's blocking threads, at most one review per core at a time. Requests
//! beyond that wait for a slot, but only as long as an answer can still
//! reach the API server in time: an answer that arrives after its timeout is
//! worth nothing, while a quick answer per `failurePolicy` is worth something.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Why work did not run to completion on the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// No slot became free in time, or too many requests are waiting.
    #[error("every evaluation slot is busy")]
    Overloaded,
    /// The work started but did not finish before the deadline.
    #[error("the evaluation did not finish in time")]
    Timeout,
    /// The work panicked (a bug; the panic has been logged by the runtime).
    #[error("the evaluation crashed")]
    Panicked,
}

/// A fixed number of slots for CPU-bound work.
#[derive(Debug)]
pub struct ReviewPool {
    slots: Arc<Semaphore>,
    size: usize,
    waiting: AtomicUsize,
    max_waiting: usize,
    /// A slot that frees up with less time than this left is not worth
    /// taking: the review could not finish anyway.
    min_run_time: Duration,
}

impl ReviewPool {
    /// A pool of `size` slots (at least one) that lets at most
    /// `max_waiting` requests queue.
    pub fn new(size: usize, max_waiting: usize) -> Self {
        let size = size.max(1);
        ReviewPool {
            slots: Arc::new(Semaphore::new(size)),
            size,
            waiting: AtomicUsize::new(0),
            max_waiting,
            min_run_time: Duration::from_millis(20),
        }
    }

    /// One slot per core the process may use.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores, (cores * 64).max(256))
    }

    /// How many reviews may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `work` on a blocking thread once a slot is free, and returns its
    /// result if it arrives before `deadline`.
    pub async fn run<T, F>(&self, deadline: Instant, work: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(PoolError::Overloaded);
                }
                let give_up = deadline.checked_sub(self.min_run_time).unwrap_or(deadline);
                let acquired =
                    tokio::time::timeout_at(give_up, self.slots.clone().acquire_owned()).await;
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                match acquired {
                    Ok(Ok(slot)) => slot,
                    // Timed out, or the semaphore was closed (never done).
                    _ => return Err(PoolError::Overloaded),
                }
            }
        };
        // The slot moves into the task: if the caller stops waiting, the slot
        // stays taken until the work really ends, so the pool never runs
        // more than `size` reviews.
        let task = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            work()
        });
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(PoolError::Panicked),
            Err(_) => Err(PoolError::Timeout),
        }
    }
}
