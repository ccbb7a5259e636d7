//! Phase 6, vm: the parking lot behind `memory.atomic.wait32/64` and `memory.atomic.notify`.
//!
//! Waiters queue per address (the native address of the waited-on cell: a shared memory's
//! base never moves and is the same in every store that imports it), in first-in first-out
//! order, in one of a fixed set of buckets, each a mutex over its queues. A waiter compares
//! the memory's value *while holding its bucket's lock* and enqueues itself before releasing
//! it; `notify` takes the same lock to dequeue. So a notify that follows the store which
//! changed the value either finds the waiter in the queue or the waiter sees the new value:
//! no wake-up is lost. Each waiter has its own condition variable and a flag set only by
//! `notify` (under the lock), so spurious wake-ups are told apart from real ones and `notify`
//! wakes exactly the waiters it counts.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// `memory.atomic.wait` results, as the instruction returns them.
pub const WAIT_OK: u32 = 0;
/// The value was not the expected one.
pub const WAIT_NOT_EQUAL: u32 = 1;
/// The timeout passed without a notify.
pub const WAIT_TIMED_OUT: u32 = 2;

const BUCKETS: usize = 64;

#[derive(Default)]
struct Waiter {
    /// Set by `notify` while it holds the bucket lock.
    woken: AtomicBool,
    cond: Condvar,
}

type Queues = BTreeMap<usize, VecDeque<Arc<Waiter>>>;

static LOT: [Mutex<Queues>; BUCKETS] = [const { Mutex::new(BTreeMap::new()) }; BUCKETS];

fn bucket(key: usize) -> MutexGuard<'static, Queues> {
    // Fibonacci hashing of the cell index; the top 6 bits pick one of 64 buckets.
    let hash = ((key as u64) >> 2).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58;
    // The critical sections below do not panic (short of allocation failure, which aborts),
    // so a poisoned lock still guards consistent queues.
    LOT[hash as usize]
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Waits at `key` while `matches()` (called once, under the bucket lock) says the cell holds
/// the expected value, until a [`notify`] of `key` or `timeout_ns` nanoseconds pass (negative:
/// no limit). Returns [`WAIT_OK`], [`WAIT_NOT_EQUAL`] or [`WAIT_TIMED_OUT`].
pub fn wait(key: usize, matches: impl FnOnce() -> bool, timeout_ns: i64) -> u32 {
    // No deadline for a negative timeout; one beyond what `Instant` can represent (some
    // 292 years) is as good as none.
    let deadline = u64::try_from(timeout_ns)
        .ok()
        .and_then(|ns| Instant::now().checked_add(Duration::from_nanos(ns)));
    let mut queues = bucket(key);
    if !matches() {
        return WAIT_NOT_EQUAL;
    }
    if timeout_ns == 0 {
        return WAIT_TIMED_OUT;
    }
    let me = Arc::new(Waiter::default());
    queues.entry(key).or_default().push_back(me.clone());
    loop {
        if me.woken.load(Ordering::Relaxed) {
            return WAIT_OK;
        }
        match deadline {
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    dequeue(&mut queues, key, &me);
                    return WAIT_TIMED_OUT;
                }
                queues = me
                    .cond
                    .wait_timeout(queues, deadline - now)
                    .map_or_else(|e| e.into_inner().0, |(guard, _)| guard);
            }
            None => queues = me.cond.wait(queues).unwrap_or_else(PoisonError::into_inner),
        }
    }
}

/// Removes a waiter that timed out from its queue.
fn dequeue(queues: &mut Queues, key: usize, me: &Arc<Waiter>) {
    if let Some(queue) = queues.get_mut(&key) {
        queue.retain(|w| !Arc::ptr_eq(w, me));
        if queue.is_empty() {
            queues.remove(&key);
        }
    }
}

/// Wakes up to `count` waiters at `key`, oldest first; returns how many it woke.
pub fn notify(key: usize, count: u32) -> u32 {
    let mut queues = bucket(key);
    let Some(queue) = queues.get_mut(&key) else {
        return 0;
    };
    let mut woken = 0;
    while woken < count {
        let Some(waiter) = queue.pop_front() else {
            break;
        };
        waiter.woken.store(true, Ordering::Relaxed);
        waiter.cond.notify_one();
        woken += 1;
    }
    if queue.is_empty() {
        queues.remove(&key);
    }
    woken
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn a_mismatch_returns_at_once_and_a_zero_timeout_times_out() {
        assert_eq!(wait(0x1000, || false, -1), WAIT_NOT_EQUAL);
        assert_eq!(wait(0x1000, || true, 0), WAIT_TIMED_OUT);
        assert_eq!(wait(0x1000, || true, 1_000_000), WAIT_TIMED_OUT);
        assert_eq!(notify(0x1000, 1), 0, "a timed-out waiter leaves its queue");
    }

    #[test]
    fn notify_wakes_the_counted_waiters_in_order() {
        let key = 0x2000;
        let order = Arc::new(Mutex::new(Vec::new()));
        let queued = Arc::new(AtomicU32::new(0));
        let mut threads = Vec::new();
        for i in 0..3 {
            // Start the waiters one after the other so the queue order is known.
            while queued.load(Ordering::SeqCst) != i {
                std::thread::yield_now();
            }
            let (order, queued) = (order.clone(), queued.clone());
            threads.push(std::thread::spawn(move || {
                let r = wait(
                    key,
                    || {
                        queued.fetch_add(1, Ordering::SeqCst);
                        true
                    },
                    -1,
                );
                order.lock().unwrap().push(i);
                r
            }));
        }
        while queued.load(Ordering::SeqCst) != 3 {
            std::thread::yield_now();
        }
        // `queued` is bumped under the bucket lock, so all three are in the queue.
        assert_eq!(notify(key, 2), 2);
        let mut woken = 0;
        while woken < 2 {
            woken = order.lock().unwrap().len();
            std::thread::yield_now();
        }
        // The two oldest waiters, in whichever order their threads got to run again.
        let mut first = order.lock().unwrap().clone();
        first.sort();
        assert_eq!(first, [0, 1]);
        assert_eq!(notify(key, u32::MAX), 1);
        for t in threads {
            assert_eq!(t.join().unwrap(), WAIT_OK);
        }
        assert_eq!(order.lock().unwrap()[2], 2);
    }
}
