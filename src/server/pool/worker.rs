//! The pool's threads, what they share, and how each watches the policies
//! its review runs (see the module docs of `pool` for the scheme).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::engine::{Overseer, Stop, oversee};

/// [`Job::state`]: waiting in the queue,
pub(super) const QUEUED: u8 = 0;
/// taken by a thread,
pub(super) const STARTED: u8 = 1;
/// given up by its caller while queued (it is then out of the queue),
pub(super) const ABANDONED: u8 = 2;
/// or given up by its caller while running: its policy is stopped at the
/// next tick.
pub(super) const CANCELLED: u8 = 3;

/// Queued work: run it, unless its time to start has passed or its caller
/// has given up on it.
pub(super) struct Job {
    pub(super) start_by: std::time::Instant,
    pub(super) state: Arc<AtomicU8>,
    pub(super) run: Box<dyn FnOnce() + Send>,
}

/// How many reviews run at once, and how long ones are kept in check.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sizing {
    /// Slots: a thread needs one to take a review from the queue.
    pub(super) slots: usize,
    /// Reviews with a long evaluation that may run at once, besides slots.
    pub(super) long_slots: usize,
    /// Long evaluations one policy may have at once.
    pub(super) per_policy: usize,
    /// The running time from which an evaluation is long.
    pub(super) long_after: Duration,
}

/// What the pool and its threads share.
pub(super) struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    pub(super) sizing: Sizing,
}

pub(super) struct Queue {
    pub(super) jobs: VecDeque<Job>,
    /// Threads waiting for a job: only then is one woken.
    idle: usize,
    /// Slots not held by a running review.
    free: usize,
    /// Long slots held (by reviews that had a long evaluation).
    long: usize,
    /// Long evaluations running now, by policy.
    long_by_policy: HashMap<Arc<str>, usize>,
    /// The pool is gone: threads exit.
    closed: bool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self.lock();
        f.debug_struct("Shared")
            .field("jobs", &queue.jobs.len())
            .field("idle", &queue.idle)
            .field("free", &queue.free)
            .field("long", &queue.long)
            .field("sizing", &self.sizing)
            .finish()
    }
}

impl Shared {
    pub(super) fn new(sizing: Sizing) -> Self {
        Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                idle: 0,
                free: sizing.slots,
                long: 0,
                long_by_policy: HashMap::new(),
                closed: false,
            }),
            ready: Condvar::new(),
            sizing,
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Queue> {
        // Jobs run outside the lock, so no panic can poison it mid-change.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a job unless `max_waiting` are already waiting.
    pub(super) fn push(&self, job: Job, max_waiting: usize) -> Result<(), Job> {
        let mut queue = self.lock();
        if queue.jobs.len() >= max_waiting {
            return Err(job);
        }
        queue.jobs.push_back(job);
        self.wake_one_if_useful(&queue);
        Ok(())
    }

    /// Takes the job of `state` out of the queue (its caller gave up).
    pub(super) fn remove(&self, state: &Arc<AtomicU8>) {
        self.lock()
            .jobs
            .retain(|job| !Arc::ptr_eq(&job.state, state));
    }

    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    fn wake_one_if_useful(&self, queue: &Queue) {
        if queue.idle > 0 && queue.free > 0 && !queue.jobs.is_empty() {
            self.ready.notify_one();
        }
    }
}

/// One thread of the pool, and the overseer of the evaluations it runs.
pub(super) struct Worker {
    shared: Arc<Shared>,
    /// The state of the job running on this thread.
    job: Mutex<Option<Arc<AtomicU8>>>,
    /// The running review holds a long slot (its slot went back to the
    /// pool when one of its evaluations turned long).
    long: AtomicBool,
    /// The running evaluation counts as long for its policy.
    counted: AtomicBool,
}

impl Worker {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Worker {
            shared,
            job: Mutex::new(None),
            long: AtomicBool::new(false),
            counted: AtomicBool::new(false),
        }
    }

    /// The thread's life: takes jobs in order, each once a slot is free,
    /// until the pool is dropped.
    pub(super) fn work(self: Arc<Self>) {
        let overseer: Arc<dyn Overseer> = self.clone();
        oversee(overseer, || {
            while let Some(job) = self.next_job() {
                let taken = job.state.compare_exchange(
                    QUEUED,
                    STARTED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
                if taken.is_ok() && std::time::Instant::now() < job.start_by {
                    self.set_job(Some(job.state));
                    // The job catches its own panics.
                    (job.run)();
                    self.set_job(None);
                }
                self.finished();
            }
        });
    }

    /// Waits for a queued job and a free slot, and takes both; `None` when
    /// the pool is gone.
    fn next_job(&self) -> Option<Job> {
        let mut queue = self.shared.lock();
        loop {
            if queue.closed {
                return None;
            }
            if queue.free > 0
                && let Some(job) = queue.jobs.pop_front()
            {
                queue.free -= 1;
                return Some(job);
            }
            queue.idle += 1;
            queue = self
                .shared
                .ready
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
            queue.idle -= 1;
        }
    }

    fn set_job(&self, state: Option<Arc<AtomicU8>>) {
        *self.job.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    /// Gives back what the finished job held: its long slot, or its slot.
    fn finished(&self) {
        let mut queue = self.shared.lock();
        if self.long.swap(false, Ordering::AcqRel) {
            queue.long -= 1;
        } else {
            queue.free += 1;
        }
    }

    fn cancelled(&self) -> bool {
        self.job
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|state| state.load(Ordering::Acquire) == CANCELLED)
    }
}

impl Overseer for Worker {
    fn tick(&self, policy: &Arc<str>, running: Duration) -> Result<(), Stop> {
        if self.cancelled() {
            return Err(Stop::Abandoned);
        }
        let sizing = self.shared.sizing;
        if running < sizing.long_after || self.counted.load(Ordering::Acquire) {
            return Ok(());
        }
        // The evaluation turns long: it may go on only within its policy's
        // share, and on a long slot, so that its slot serves the queue.
        let mut queue = self.shared.lock();
        let of_policy = queue.long_by_policy.get(policy).copied().unwrap_or(0);
        if of_policy >= sizing.per_policy {
            return Err(Stop::TooManyOfItsOwn {
                limit: sizing.per_policy,
                after: sizing.long_after,
            });
        }
        if !self.long.load(Ordering::Acquire) {
            if queue.long >= sizing.long_slots {
                return Err(Stop::NoRoom {
                    limit: sizing.long_slots,
                    after: sizing.long_after,
                });
            }
            queue.long += 1;
            queue.free += 1;
            self.long.store(true, Ordering::Release);
            self.shared.wake_one_if_useful(&queue);
        }
        *queue.long_by_policy.entry(Arc::clone(policy)).or_default() += 1;
        self.counted.store(true, Ordering::Release);
        Ok(())
    }

    fn ended(&self, policy: &Arc<str>) {
        if !self.counted.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut queue = self.shared.lock();
        if let Some(count) = queue.long_by_policy.get_mut(policy) {
            *count -= 1;
            if *count == 0 {
                queue.long_by_policy.remove(policy);
            }
        }
    }
}
