//! Watching files for a change and reloading what they hold once the change
//! has settled: one [`Watcher`] for the serving certificate and one for the
//! configuration, each looked at by its own [`poll`] task.
//!
//! A change is loaded only once it is stable: the same on two looks in a
//! row. A file being written in place (whose first part may load on its
//! own) is never served half-written, as long as the writer does not pause
//! longer than the interval between looks; a set of files replaced one by
//! one (a certificate renamed into place before its key) is loaded once all
//! are in place; replacing files by an atomic rename is always safe.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A digest of everything a look read: what decides whether the files
/// changed.
pub(crate) type Fingerprint = [u8; 32];

/// What one look at watched files found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look<T> {
    /// Nothing changed (or the change was refused already).
    Unchanged,
    /// A change, not loaded yet: the next look loads it if it is the same.
    Settling,
    /// A change that stayed the same, loaded and now served, and what the
    /// reload says about it.
    Reloaded(T),
    /// A change that stayed the same but does not load; what was served
    /// before keeps being served.
    Refused(String),
    /// Nothing to look at (yet).
    Idle,
}

/// What the looks at a set of files found so far, and the one decision made
/// from it: reload now or not.
#[derive(Debug, Default)]
pub(crate) struct Watcher {
    looks: Mutex<Looks>,
}

#[derive(Debug, Default)]
struct Looks {
    /// What is being served was loaded from this.
    served: Option<Fingerprint>,
    /// A change seen by the last look, to load if the next sees it again.
    settling: Option<Fingerprint>,
    /// A change that did not load (logged and counted once).
    refused: Option<Fingerprint>,
}

impl Watcher {
    /// Records that what is served now was loaded from files that read as
    /// `fingerprint` (the first load, or one made outside the watcher).
    pub(crate) fn served(&self, fingerprint: Fingerprint) {
        let mut looks = self.looks();
        looks.served = Some(fingerprint);
        looks.settling = None;
    }

    /// One look, whose reading of the files gave `now`: a change seen the
    /// same as on the last look is handed to `reload` (blocking; the
    /// watcher is not locked meanwhile), which serves it or says why not.
    pub(crate) fn look<T>(
        &self,
        now: Fingerprint,
        reload: impl FnOnce() -> Result<T, String>,
    ) -> Look<T> {
        {
            let mut looks = self.looks();
            if looks.served == Some(now) || looks.refused == Some(now) {
                looks.settling = None;
                return Look::Unchanged;
            }
            if looks.settling != Some(now) {
                looks.settling = Some(now);
                return Look::Settling;
            }
            looks.settling = None;
        }
        match reload() {
            Ok(reloaded) => {
                let mut looks = self.looks();
                looks.served = Some(now);
                looks.refused = None;
                Look::Reloaded(reloaded)
            }
            Err(reason) => {
                self.looks().refused = Some(now);
                Look::Refused(reason)
            }
        }
    }

    fn looks(&self) -> std::sync::MutexGuard<'_, Looks> {
        self.looks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Calls `look` (blocking: it reads files and may compile) on a blocking
/// thread every `interval`, the first time one interval from now, until the
/// task is dropped. `what` names the files in the log of a look that
/// panicked.
pub(crate) async fn poll<T: Send + 'static>(
    what: &'static str,
    interval: Duration,
    look: impl Fn() -> T + Send + Sync + 'static,
) {
    let look = Arc::new(look);
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is now, right after the files were loaded.
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let look = look.clone();
        if let Err(error) = tokio::task::spawn_blocking(move || look()).await {
            tracing::error!("{what} watcher failed: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Look, Watcher};

    const A: [u8; 32] = [1; 32];
    const B: [u8; 32] = [2; 32];
    const C: [u8; 32] = [3; 32];

    #[test]
    fn a_change_is_reloaded_once_it_is_the_same_on_two_looks() {
        let watcher = Watcher::default();
        watcher.served(A);
        assert_eq!(watcher.look(A, || Ok(())), Look::Unchanged);
        assert_eq!(watcher.look(B, || Ok(())), Look::Settling);
        assert_eq!(watcher.look(C, || Ok(())), Look::Settling);
        assert_eq!(watcher.look(C, || Ok("C")), Look::Reloaded("C"));
        assert_eq!(watcher.look(C, || Ok("again")), Look::Unchanged);
    }

    #[test]
    fn a_refused_change_is_refused_once_and_going_back_is_no_change() {
        let watcher = Watcher::default();
        watcher.served(A);
        assert_eq!(watcher.look(B, || Ok(())), Look::Settling);
        assert_eq!(
            watcher.look(B, || Err::<(), _>("broken".to_owned())),
            Look::Refused("broken".to_owned())
        );
        assert_eq!(watcher.look(B, || Ok(())), Look::Unchanged);
        assert_eq!(watcher.look(A, || Ok(())), Look::Unchanged);
        assert_eq!(watcher.look(C, || Ok(())), Look::Settling);
        assert_eq!(watcher.look(C, || Ok(7)), Look::Reloaded(7));
        // Refusals are forgotten once something else is served.
        assert_eq!(watcher.look(B, || Ok(())), Look::Settling);
    }
}
