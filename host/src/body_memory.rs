//! One memory account for what requests hold: a request reserves what its body will cost
//! (the bytes read, and their parsed form, held until the answer) before it reads the body,
//! from a budget every request shares (`max_body_memory_mib`). A request that finds the budget
//! spent waits briefly for memory to be given back, then gets `503` with `Retry-After` (Okta
//! retries once), so a burst of large bodies costs some of them a retry, never the process its
//! container's memory limit.
//!
//! What a body costs parsed depends on its shape, densest for a profile of the shortest
//! attributes ([`importhook_okta::PARSED_BYTES_PER_BODY_BYTE`] says how much: profiles and
//! `matches` are kept as their text, a profile with an index per attribute once a plugin reads
//! it, after the raw body is dropped). A request is charged that worst case, since its shape
//! is not known before it is parsed, plus the raw body and, for a body with a lone surrogate,
//! its marked copy: both live while it is parsed and dropped right after.

use std::time::{Duration, Instant};

use crate::engine::MemoryBudget;

/// Default `max_body_memory_mib`: see README, "Running in production", for the arithmetic.
pub const DEFAULT_MIB: u64 = 96;

/// Bytes charged per body byte: its parsed form at most, the body itself and its marked copy.
pub const CHARGE_PER_BODY_BYTE: u64 = importhook_okta::PARSED_BYTES_PER_BODY_BYTE + 2;

/// Bytes charged per request whatever its body: headers, the parsed envelope, the answer.
pub const CHARGE_PER_REQUEST: u64 = 16 * 1024;

/// Longest a request waits for body memory before it gets `503`.
pub const WAIT: Duration = Duration::from_millis(500);

/// What a body of `body_bytes` is charged.
pub fn charge_for(body_bytes: u64) -> usize {
    let bytes = body_bytes
        .saturating_mul(CHARGE_PER_BODY_BYTE)
        .saturating_add(CHARGE_PER_REQUEST);
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

/// The account every request's body memory is reserved from.
#[derive(Debug)]
pub struct BodyMemory {
    budget: MemoryBudget,
    gauge: prometheus_client::metrics::gauge::Gauge,
}

impl BodyMemory {
    /// An account of `limit` bytes, shown in `gauge`.
    pub fn new(limit: usize, gauge: prometheus_client::metrics::gauge::Gauge) -> Self {
        Self {
            budget: MemoryBudget::new(limit),
            gauge,
        }
    }

    /// Reserves `bytes`, waiting for memory to be given back until `until`; `None` when it
    /// could not.
    pub async fn reserve(&self, bytes: usize, until: Instant) -> Option<Charge<'_>> {
        if !self.budget.reserve_by(bytes, until).await {
            return None;
        }
        self.show();
        Some(Charge {
            account: self,
            bytes,
        })
    }

    fn show(&self) {
        self.gauge
            .set(i64::try_from(self.budget.used()).unwrap_or(i64::MAX));
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.budget.used()
    }
}

/// Memory one request holds from the account; given back when dropped.
#[derive(Debug)]
pub struct Charge<'a> {
    account: &'a BodyMemory,
    bytes: usize,
}

impl Charge<'_> {
    /// Gives back what is past `bytes` (the body turned out smaller than reserved for).
    pub fn shrink_to(&mut self, bytes: usize) {
        if bytes < self.bytes {
            self.account.budget.release(self.bytes - bytes);
            self.bytes = bytes;
            self.account.show();
        }
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        self.account.budget.release(self.bytes);
        self.account.show();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_past_the_budget_waits_then_is_refused_and_memory_comes_back() {
        let account = BodyMemory::new(charge_for(100) * 2, Default::default());
        let soon = || Instant::now() + Duration::from_millis(20);
        let first = account
            .reserve(charge_for(100), soon())
            .await
            .expect("fits");
        let mut second = account
            .reserve(charge_for(100), soon())
            .await
            .expect("fits");
        assert!(
            account.reserve(charge_for(1), soon()).await.is_none(),
            "full"
        );
        second.shrink_to(charge_for(0));
        let freed = charge_for(100) - charge_for(0);
        let third = account.reserve(freed, soon()).await.expect("given back");
        drop((first, second, third));
        assert_eq!(account.used(), 0);
    }
}
