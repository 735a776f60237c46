//! The wake-up queue: suspended enrollments ordered by when they resume.
//!
//! A radix heap: the virtual clock never goes back, so every key pushed is
//! larger than the last key popped, and keys can live in buckets by the
//! highest bit in which they differ from it (bucket 0 is never used: keys
//! are unique). A push is O(1); a pop moves each key down at most once per
//! bit, O(log C) amortised, scanning vectors instead of chasing a binary
//! heap's scattered parents.

use chrono::{DateTime, Utc};

/// Buckets by the highest bit in which a key differs from the last popped.
const BUCKETS: usize = 129;

/// Enrollments by wake-up instant, earliest first; ties by enrollment.
#[derive(Debug)]
pub struct WakeQueue {
    buckets: Vec<Vec<u128>>,
    /// The last key taken: every key in the queue is larger.
    last: u128,
    /// The smallest key, when known; peeking never reorganises buckets,
    /// so pushes below a peeked key stay valid.
    smallest: Option<u128>,
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
    /// Schedules enrollment `id` at `at`. An instant before the last one
    /// taken (only a damaged program can ask for it) is due right after it.
    pub fn push(&mut self, at: DateTime<Utc>, id: u32) {
        let key = key(at, id).max(self.last.saturating_add(1));
        self.buckets[bucket(key, self.last)].push(key);
        self.len += 1;
        if self.len == 1 {
            self.smallest = Some(key);
        } else if let Some(smallest) = self.smallest.as_mut() {
            *smallest = (*smallest).min(key);
        }
    }

    /// The enrollment due first, taken off the queue.
    pub fn pop(&mut self) -> Option<u32> {
        let index = self.buckets.iter().position(|bucket| !bucket.is_empty())?;
        let keys = std::mem::take(&mut self.buckets[index]);
        let smallest = keys.iter().copied().min()?;
        self.last = smallest;
        for key in &keys {
            if *key != smallest {
                self.buckets[bucket(*key, smallest)].push(*key);
            }
        }
        // Keep the emptied bucket's allocation for later pushes.
        let mut keys = keys;
        keys.clear();
        self.buckets[index] = keys;
        self.len -= 1;
        self.smallest = None;
        Some(smallest as u32)
    }

    /// When the enrollment due first wakes, and which it is.
    pub fn peek(&mut self) -> Option<(DateTime<Utc>, u32)> {
        if self.smallest.is_none() {
            let bucket = self.buckets.iter().find(|bucket| !bucket.is_empty())?;
            self.smallest = bucket.iter().copied().min();
        }
        self.smallest.map(|key| (instant(key), key as u32))
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
}
