//! The memory budget all plugin instances share: linear memory is reserved from it as an
//! instance creates and grows its memory, and given back when the instance goes.
//!
//! Fairness: the budget is shared out while anyone waits. An instance starting, and a running
//! instance growing within its fair share (the budget divided among the instances that hold or
//! wait for memory), waits for memory to be given back, until its call's deadline. An instance
//! growing past its fair share gets memory only while nobody waits; otherwise it fails at
//! once as `overloaded` (its plugin's `on_error` applies) and gives back what it held. So a
//! storm of memory-hungry calls cannot take the budget from a small call waiting to start or
//! to grow a little: the hungry ones are refused first. Either way the process never grows
//! past what its container may hold because of plugins.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Linear memory every plugin instance together may hold.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
    /// Instances holding memory from the budget.
    holders: AtomicUsize,
    /// Reservations waiting for memory to be given back.
    waiting: AtomicUsize,
    /// Woken whenever memory is given back.
    released: tokio::sync::Notify,
}

/// Counts a waiting reservation for as long as it waits (also when its future is dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
            holders: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            released: tokio::sync::Notify::new(),
        }
    }

    /// Reserves `bytes`, if the budget has them.
    pub fn try_reserve(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    /// Gives `bytes` back, waking the reservations waiting for memory. With nobody waiting
    /// (nearly always) it wakes nobody: `notify_waiters` takes a lock, and every instance
    /// that goes releases.
    pub fn release(&self, bytes: usize) {
        if bytes > 0 {
            self.used.fetch_sub(bytes, Ordering::AcqRel);
            // Pairs with the fence in `reserve_by`: either this load sees the waiter counted,
            // or the waiter's check after counting itself sees the memory given back.
            std::sync::atomic::fence(Ordering::SeqCst);
            if self.waiting.load(Ordering::Acquire) > 0 {
                self.released.notify_waiters();
            }
        }
    }

    /// Reserves `bytes`, waiting for memory to be given back until `deadline`. While it
    /// waits, instances past their fair share cannot grow.
    pub async fn reserve_by(&self, bytes: usize, deadline: std::time::Instant) -> bool {
        if bytes > self.limit {
            return false;
        }
        if self.try_reserve(bytes) {
            return true;
        }
        let _waiting = Waiting::new(&self.waiting);
        // Pairs with the fence in `release`, which skips the wake-up when nobody is counted.
        std::sync::atomic::fence(Ordering::SeqCst);
        loop {
            // Registered before the check, so a release between the two is not missed.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if self.try_reserve(bytes) {
                return true;
            }
            if tokio::time::timeout_at(deadline.into(), released)
                .await
                .is_err()
            {
                return false;
            }
        }
    }

    /// Reserves `more` bytes for an instance that holds `held` and is growing: waiting until
    /// `deadline` while it stays within its fair share, at once and only while nobody waits
    /// past it.
    pub async fn grow_by(&self, held: usize, more: usize, deadline: std::time::Instant) -> bool {
        if held.saturating_add(more) <= self.fair_share() {
            return self.reserve_by(more, deadline).await;
        }
        self.waiting.load(Ordering::Acquire) == 0 && self.try_reserve(more)
    }

    /// The budget divided among the instances holding or waiting for memory.
    pub fn fair_share(&self) -> usize {
        let sharing = self.holders.load(Ordering::Acquire) + self.waiting.load(Ordering::Acquire);
        self.limit / sharing.max(1)
    }

    /// An instance now holds memory from the budget (its first reservation).
    pub fn join(&self) {
        self.holders.fetch_add(1, Ordering::AcqRel);
    }

    /// An instance that held memory gives all of it back.
    pub fn leave(&self, held: usize) {
        self.holders.fetch_sub(1, Ordering::AcqRel);
        self.release(held);
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// The budget.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn reservations_never_exceed_the_limit_and_come_back() {
        let budget = MemoryBudget::new(100);
        assert!(budget.try_reserve(60));
        assert!(!budget.try_reserve(41));
        assert!(budget.try_reserve(40));
        assert_eq!(budget.used(), 100);
        budget.release(60);
        assert!(budget.try_reserve(50));
        assert!(!budget.try_reserve(usize::MAX));
    }

    #[tokio::test]
    async fn a_start_waits_for_memory_given_back_until_its_deadline() {
        let budget = Arc::new(MemoryBudget::new(100));
        assert!(budget.try_reserve(100));
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(!budget.reserve_by(10, soon).await, "nothing was given back");
        let waiter = {
            let budget = budget.clone();
            let later = Instant::now() + Duration::from_secs(5);
            tokio::spawn(async move { budget.reserve_by(10, later).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        budget.release(50);
        assert!(waiter.await.expect("waiter"));
        assert_eq!(budget.used(), 60);
    }

    /// One hungry instance holds most of the budget; a small one waits to start. The hungry
    /// one may not grow while it waits (past its fair share), even though memory is free; once
    /// it is gone, the waiter starts.
    #[tokio::test]
    async fn while_a_start_waits_an_instance_past_its_fair_share_cannot_grow() {
        let budget = Arc::new(MemoryBudget::new(100));
        let far = Instant::now() + Duration::from_secs(5);
        assert!(budget.reserve_by(70, far).await);
        budget.join();
        // Alone, it may grow past any share.
        assert!(budget.grow_by(70, 20, far).await);
        let waiter = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.reserve_by(30, far).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(budget.fair_share(), 50, "two instances share the budget");
        assert!(
            !budget.grow_by(90, 5, far).await,
            "grew past its fair share while another instance waited"
        );
        assert!(!waiter.is_finished());
        budget.leave(90);
        assert!(waiter.await.expect("waiter"), "the waiter got the memory");
        assert_eq!(budget.used(), 30);
    }

    /// Growth within the fair share waits for memory instead of failing.
    #[tokio::test]
    async fn growth_within_the_fair_share_waits_for_memory() {
        let budget = Arc::new(MemoryBudget::new(100));
        let far = Instant::now() + Duration::from_secs(5);
        assert!(budget.reserve_by(20, far).await);
        budget.join();
        assert!(budget.reserve_by(80, far).await);
        budget.join();
        // Each holder's share is 50: the small one growing by 10 waits for the big one.
        let small = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.grow_by(20, 10, far).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!small.is_finished());
        assert!(
            !budget.grow_by(80, 1, far).await,
            "past its share while one waits"
        );
        budget.leave(80);
        assert!(small.await.expect("small"));
        assert_eq!(budget.used(), 30);
    }

    /// A release wakes waiters only when one is counted: racing releases and waits on two
    /// threads, no wait may miss the memory given back (each would run into its deadline).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_waiter_misses_a_release_that_skips_the_wake_up_when_none_waits() {
        let budget = Arc::new(MemoryBudget::new(4));
        let far = Instant::now() + Duration::from_secs(30);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let budget = budget.clone();
                tokio::spawn(async move {
                    for _ in 0..2_000 {
                        if !budget.reserve_by(1, far).await {
                            return false;
                        }
                        tokio::task::yield_now().await;
                        budget.release(1);
                    }
                    true
                })
            })
            .collect();
        for task in tasks {
            assert!(task.await.expect("task"), "a wait missed a release");
        }
        assert_eq!(budget.used(), 0);
    }
}
