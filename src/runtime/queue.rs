//! The wake-up queue: suspended enrollments ordered by when they resume.
//!
//! A radix heap: the virtual clock never goes back, so every key pushed is
//! at least the last key popped, and keys can live in buckets by the
//! highest bit in which they differ from it (bucket 0 holds keys equal to
//! it). A push is O(1); a pop moves each key down at most once per bit,
//! O(log C) amortised, scanning vectors instead of chasing a binary heap's
//! scattered parents. The enrollment is stored beside its key, never read
//! back from it, so moving a key (below) can never change whom it wakes.

use chrono::{DateTime, Utc};

/// Buckets by the highest bit in which a key differs from the last popped.
const BUCKETS: usize = 129;

/// A queued enrollment: its key (the instant, then the enrollment: unique,
/// so a bucket never fills with equal keys) and its id, kept beside it.
type Entry = (u128, u32);

/// Enrollments by wake-up instant, earliest first; ties by enrollment.
#[derive(Debug)]
pub struct WakeQueue {
    buckets: Vec<Vec<Entry>>,
    /// The last key taken: every key in the queue is at least this.
    last: u128,
    /// The smallest entry, when known; peeking never reorganises buckets,
    /// so pushes below a peeked entry stay valid.
    smallest: Option<Entry>,
    len: usize,
}

impl Default for WakeQueue {
    fn default() -> Self {
        WakeQueue {
            buckets: vec![Vec::new(); BUCKETS],
            last: 0,
            smallest: None,
            len: 0,
        }
    }
}

impl WakeQueue {
    /// Schedules enrollment `id` at `at`. A key before the last one taken
    /// (an enrollment with a smaller id at the same instant, or a damaged
    /// program asking for the past) is due right after it.
    pub fn push(&mut self, at: DateTime<Utc>, id: u32) {
        let entry = (key(at, id).max(self.last), id);
        self.buckets[bucket(entry.0, self.last)].push(entry);
        self.len += 1;
        if self.len == 1 {
            self.smallest = Some(entry);
        } else if let Some(smallest) = self.smallest.as_mut() {
            *smallest = (*smallest).min(entry);
        }
    }

    /// The enrollment due first, taken off the queue.
    pub fn pop(&mut self) -> Option<u32> {
        let index = self.buckets.iter().position(|bucket| !bucket.is_empty())?;
        let mut entries = std::mem::take(&mut self.buckets[index]);
        let (at, smallest) = entries
            .iter()
            .enumerate()
            .min_by_key(|(_, entry)| **entry)
            .map(|(at, entry)| (at, *entry))?;
        entries.swap_remove(at);
        self.last = smallest.0;
        for entry in entries.drain(..) {
            self.buckets[bucket(entry.0, self.last)].push(entry);
        }
        // Keep the emptied bucket's allocation for later pushes (unless
        // the loop above refilled bucket 0 from it).
        if self.buckets[index].is_empty() {
            self.buckets[index] = entries;
        }
        self.len -= 1;
        self.smallest = None;
        Some(smallest.1)
    }

    /// When the enrollment due first wakes, and which it is.
    pub fn peek(&mut self) -> Option<(DateTime<Utc>, u32)> {
        if self.len == 0 {
            return None;
        }
        if self.smallest.is_none() {
            let bucket = self.buckets.iter().find(|bucket| !bucket.is_empty())?;
            self.smallest = bucket.iter().copied().min();
        }
        self.smallest.map(|(key, id)| (instant(key), id))
    }

    /// How many enrollments wait.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The bucket of `key` relative to `last`: 0 if equal, else one more than
/// the index of the highest bit in which they differ.
fn bucket(key: u128, last: u128) -> usize {
    (128 - (key ^ last).leading_zeros()) as usize
}

/// The instant in nanoseconds (clamped to what fits), then the enrollment:
/// one integer orders both.
fn key(at: DateTime<Utc>, id: u32) -> u128 {
    let nanos = at.timestamp_nanos_opt().unwrap_or(if at.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    });
    let ordered = (i128::from(nanos) - i128::from(i64::MIN)) as u128;
    (ordered << 32) | u128::from(id)
}

/// The instant of a key.
fn instant(key: u128) -> DateTime<Utc> {
    let nanos = ((key >> 32) as i128 + i128::from(i64::MIN)) as i64;
    DateTime::from_timestamp_nanos(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + seconds, 0)
            .single()
            .expect("a time")
    }

    #[test]
    fn pops_in_time_order_then_by_enrollment() {
        let mut queue = WakeQueue::default();
        for (seconds, id) in [(50, 1), (10, 7), (10, 3), (3600, 2), (-5, 9), (10, 4)] {
            queue.push(at(seconds), id);
        }
        let mut order = Vec::new();
        while let Some(id) = queue.pop() {
            order.push(id);
        }
        assert_eq!(order, [9, 3, 4, 7, 1, 2]);
        assert!(queue.is_empty());
    }

    #[test]
    fn agrees_with_a_binary_heap_while_the_clock_moves_forward() {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut queue = WakeQueue::default();
        let mut reference = BinaryHeap::new();
        let mut seed: u64 = 42;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 33
        };
        let mut now = 0i64;
        for id in 0..20_000u32 {
            let wake = now + (next() % 100_000) as i64;
            queue.push(at(wake), id);
            reference.push(Reverse((wake, id)));
            if next() % 3 == 0 {
                let Reverse((expected_at, expected)) = reference.pop().expect("not empty");
                assert_eq!(queue.peek(), Some((at(expected_at), expected)));
                assert_eq!(queue.pop(), Some(expected));
                now = expected_at;
            }
        }
        while let Some(Reverse((_, expected))) = reference.pop() {
            assert_eq!(queue.pop(), Some(expected));
        }
        assert_eq!(queue.pop(), None);
        assert_eq!(queue.len(), 0);
    }

    proptest::proptest! {
        /// Any interleaving of pushes (at, before or after the last instant
        /// taken) and pops wakes exactly the enrollments a reference model
        /// says: the smallest (instant, enrollment), where an entry below
        /// the last one taken counts as due at it.
        #[test]
        fn agrees_with_a_reference_model_for_any_pushes_and_pops(
            operations in proptest::collection::vec((0u8..4, -3i64..4, 0u32..8), 1..200)
        ) {
            let mut queue = WakeQueue::default();
            let mut model: Vec<Entry> = Vec::new();
            let mut last = 0u128;
            let mut now = 0i64;
            for (operation, offset, id) in operations {
                if operation == 0 {
                    let expected = model
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, entry)| **entry)
                        .map(|(at, entry)| (at, *entry));
                    let popped = queue.pop();
                    proptest::prop_assert_eq!(popped, expected.map(|(_, entry)| entry.1));
                    if let Some((at, entry)) = expected {
                        model.swap_remove(at);
                        last = entry.0;
                        now = (instant(last) - at_zero()).num_seconds();
                    }
                } else {
                    let when = at(now + offset);
                    queue.push(when, id);
                    model.push((key(when, id).max(last), id));
                }
                proptest::prop_assert_eq!(queue.len(), model.len());
            }
        }
    }

    fn at_zero() -> DateTime<Utc> {
        at(0)
    }
}
