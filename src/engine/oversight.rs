//! Who, besides its own deadline, may stop a policy while it runs.
//!
//! Whoever runs evaluations on a thread (the webhook's review pool) can set
//! an [`Overseer`] for that thread with [`oversee`]. Every evaluation made on
//! the thread then reports to it at each epoch tick while the policy runs,
//! and the overseer may stop it: because its caller gave up on the answer,
//! or because it is running long while other long evaluations already take
//! their share of the machine. The engine knows nothing of why; it only
//! turns a [`Stop`] into a [`super::Failure`].
//!
//! A thread-local rather than a parameter: the evaluations are made deep
//! inside `Reviewer::review`, and what oversees them is a property of the
//! thread they run on, like a tracing span.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

/// Watches the evaluations made on one thread.
pub trait Overseer: Send + Sync {
    /// Called at every epoch tick while `policy` runs on this thread, with
    /// the time since its evaluation began. `Err` stops the evaluation now.
    fn tick(&self, policy: &Arc<str>, running: Duration) -> Result<(), Stop>;

    /// The evaluation of `policy` that reported to [`Overseer::tick`] has
    /// ended, however it ended (also when it never ticked).
    fn ended(&self, policy: &Arc<str>);
}

/// Why an overseer stopped an evaluation before its deadline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    /// Whoever asked for the evaluation no longer wants its answer (the
    /// client went away or the answer was already given without it).
    #[error("its answer was no longer wanted")]
    Abandoned,
    /// It ran long while as many long evaluations of the same policy as one
    /// policy may have were already running.
    #[error(
        "it ran longer than {} ms while {limit} other evaluations of it already were, the most one policy may have at once, so it was stopped to leave the machine to other reviews",
        .after.as_millis()
    )]
    TooManyOfItsOwn {
        /// How many long evaluations one policy may have at once.
        limit: usize,
        /// The running time from which an evaluation counts as long.
        after: Duration,
    },
    /// It ran long while every place for long evaluations was taken.
    #[error(
        "it ran longer than {} ms while all {limit} places for long evaluations were taken, so it was stopped to leave the machine to other reviews",
        .after.as_millis()
    )]
    NoRoom {
        /// How many long evaluations may run at once in all.
        limit: usize,
        /// The running time from which an evaluation counts as long.
        after: Duration,
    },
}

impl Stop {
    /// A short, stable label for metrics and logs.
    pub fn cause(&self) -> &'static str {
        match self {
            Stop::Abandoned => "abandoned",
            Stop::TooManyOfItsOwn { .. } | Stop::NoRoom { .. } => "crowded",
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<dyn Overseer>>> = const { RefCell::new(None) };
}

/// Runs `f` with `overseer` watching every evaluation `f` makes on this
/// thread (the previous overseer, if any, is back afterwards, also when `f`
/// panics).
pub fn oversee<R>(overseer: Arc<dyn Overseer>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<dyn Overseer>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|current| *current.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|current| current.borrow_mut().replace(overseer));
    let _restore = Restore(previous);
    f()
}

/// The overseer of this thread, if any.
pub(super) fn current() -> Option<Arc<dyn Overseer>> {
    CURRENT.with(|current| current.borrow().clone())
}
