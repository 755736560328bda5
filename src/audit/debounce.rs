//! When a changed object is judged again: once `delay` after its first
//! change not yet judged, with the object as it is then. Changes in
//! between are folded into that one judgement, and an object that changes
//! all the time (a status written every second) is still judged once per
//! `delay`, never starved.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Keys waiting for their judgement, by when it is due.
#[derive(Debug)]
pub struct Debouncer<K> {
    delay: Duration,
    due: HashMap<K, (Instant, u64)>,
    /// The same keys by due time (a counter keeps equal times apart).
    order: BTreeMap<(Instant, u64), K>,
    sequence: u64,
}

impl<K: Clone + Eq + Hash> Debouncer<K> {
    /// Nothing waiting; changes are due `delay` after the first.
    pub fn new(delay: Duration) -> Self {
        Debouncer {
            delay,
            due: HashMap::new(),
            order: BTreeMap::new(),
            sequence: 0,
        }
    }

    /// `key` changed at `now`: due `delay` from now, unless it already
    /// waits (then it keeps its earlier time).
    pub fn changed(&mut self, key: K, now: Instant) {
        if self.due.contains_key(&key) {
            return;
        }
        let at = now + self.delay;
        self.sequence += 1;
        self.order.insert((at, self.sequence), key.clone());
        self.due.insert(key, (at, self.sequence));
    }

    /// `key` needs no judgement any more (it was deleted, or judged anyway).
    pub fn forget(&mut self, key: &K) {
        if let Some(at) = self.due.remove(key) {
            self.order.remove(&at);
        }
    }

    /// Takes every key due at `now`, earliest first.
    pub fn take_due(&mut self, now: Instant) -> Vec<K> {
        let later = self.order.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut self.order, later);
        due.into_values()
            .inspect(|key| {
                self.due.remove(key);
            })
            .collect()
    }

    /// When the next key is due; `None` when none waits.
    pub fn next_due(&self) -> Option<Instant> {
        self.order.keys().next().map(|(at, _)| *at)
    }

    /// Forgets every key (everything is about to be judged anyway).
    pub fn clear(&mut self) {
        self.due.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::Debouncer;

    #[test]
    fn a_change_is_due_after_the_delay_and_later_changes_fold_into_it() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut debouncer = Debouncer::new(second);
        debouncer.changed("web", start);
        debouncer.changed("web", start + second / 2);
        debouncer.changed("db", start + second / 4);
        assert_eq!(debouncer.next_due(), Some(start + second));
        assert!(debouncer.take_due(start + second / 2).is_empty());
        assert_eq!(debouncer.take_due(start + second), vec!["web"]);
        assert_eq!(debouncer.next_due(), Some(start + second + second / 4));
        // Changed again after its judgement: due a delay later again.
        debouncer.changed("web", start + second);
        assert_eq!(
            debouncer.take_due(start + 3 * second),
            vec!["db", "web"],
            "earliest first"
        );
        assert_eq!(debouncer.next_due(), None);
    }

    #[test]
    fn forgotten_and_cleared_keys_are_not_due() {
        let start = Instant::now();
        let mut debouncer = Debouncer::new(Duration::ZERO);
        debouncer.changed("web", start);
        debouncer.changed("db", start);
        debouncer.forget(&"web");
        assert_eq!(debouncer.take_due(start), vec!["db"]);
        debouncer.changed("web", start);
        debouncer.clear();
        assert_eq!(debouncer.take_due(start), Vec::<&str>::new());
        assert_eq!(debouncer.next_due(), None);
    }
}
