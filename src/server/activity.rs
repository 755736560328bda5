//! Whether the webhook is answering a review now, or was a moment ago:
//! what background work (the audit) waits for, so that it runs in the
//! gaps between reviews rather than beside them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Reviews being answered, and when the last one was answered.
#[derive(Debug)]
pub struct Activity {
    answering: AtomicUsize,
    /// What `last_answered` counts from.
    started: Instant,
    /// Microseconds from `started` to when the last review was answered.
    last_answered: AtomicU64,
}

/// A review being answered; dropping it says it was.
#[derive(Debug)]
pub struct Answering<'a>(&'a Activity);

impl Default for Activity {
    fn default() -> Self {
        Activity {
            answering: AtomicUsize::new(0),
            started: Instant::now(),
            last_answered: AtomicU64::new(0),
        }
    }
}

impl Activity {
    /// A review arrived; it counts as being answered until the guard goes.
    pub fn answering(&self) -> Answering<'_> {
        self.answering.fetch_add(1, Ordering::AcqRel);
        Answering(self)
    }

    /// How long no review has been answered; `None` while one is.
    pub fn quiet_for(&self) -> Option<Duration> {
        if self.answering.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = Duration::from_micros(self.last_answered.load(Ordering::Acquire));
        Some(self.started.elapsed().saturating_sub(last))
    }
}

impl Drop for Answering<'_> {
    fn drop(&mut self) {
        let activity = self.0;
        let now = u64::try_from(activity.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        activity.last_answered.fetch_max(now, Ordering::AcqRel);
        activity.answering.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::Activity;

    #[test]
    fn quiet_only_once_every_review_is_answered() {
        let activity = Activity::default();
        assert!(activity.quiet_for().is_some());
        let first = activity.answering();
        let second = activity.answering();
        drop(first);
        assert_eq!(activity.quiet_for(), None);
        drop(second);
        let quiet = activity.quiet_for().expect("quiet");
        assert!(quiet < std::time::Duration::from_secs(1), "{quiet:?}");
    }
}
