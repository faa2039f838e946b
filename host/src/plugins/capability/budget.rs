//! The memory budget all plugin instances share: linear memory is reserved from it as an
//! instance creates and grows its memory, and given back when the instance goes. An instance
//! that cannot start for want of budget waits for some to be given back, until its call's
//! deadline; a call whose memory cannot grow fails at once as `overloaded` (its plugin's
//! `on_error` applies), giving back what it held. Either way the process never grows past
//! what its container may hold because of plugins.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Linear memory every plugin instance together may hold.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
    /// Woken whenever memory is given back.
    released: tokio::sync::Notify,
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
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

    /// Gives `bytes` back, waking the instances waiting to start.
    pub fn release(&self, bytes: usize) {
        if bytes > 0 {
            self.used.fetch_sub(bytes, Ordering::AcqRel);
            self.released.notify_waiters();
        }
    }

    /// Reserves `bytes`, waiting for memory to be given back until `deadline`.
    pub async fn reserve_by(&self, bytes: usize, deadline: std::time::Instant) -> bool {
        loop {
            // Registered before the check, so a release between the two is not missed.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if self.try_reserve(bytes) {
                return true;
            }
            if bytes > self.limit
                || tokio::time::timeout_at(deadline.into(), released)
                    .await
                    .is_err()
            {
                return false;
            }
        }
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
        let budget = std::sync::Arc::new(MemoryBudget::new(100));
        assert!(budget.try_reserve(100));
        let soon = std::time::Instant::now() + std::time::Duration::from_millis(20);
        assert!(!budget.reserve_by(10, soon).await, "nothing was given back");
        let waiter = {
            let budget = budget.clone();
            let later = std::time::Instant::now() + std::time::Duration::from_secs(5);
            tokio::spawn(async move { budget.reserve_by(10, later).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        budget.release(50);
        assert!(waiter.await.expect("waiter"));
        assert_eq!(budget.used(), 60);
    }
}
