//! The process's open-file limit: every connection, plugin file and state file is one, and
//! the soft limit a service manager or shell hands down (often 1024) is far below what the
//! kernel allows the process (the hard limit), so `serve` raises the one to the other.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// What is set when the hard limit is "unlimited" (the kernel's `nr_open` default).
const UNLIMITED_CAP: u64 = 1 << 20;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the soft limit now in force.
/// A failure leaves the limit as it was (logged): the service runs, with fewer connections.
pub fn raise_open_files() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum.unwrap_or(UNLIMITED_CAP);
    let soft = limit.current.unwrap_or(UNLIMITED_CAP);
    if soft >= hard {
        tracing::debug!(
            open_files = soft,
            "open-file limit already at its hard limit"
        );
        return Some(soft);
    }
    let raised = Rlimit {
        current: Some(hard),
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => {
            tracing::info!(
                from = soft,
                to = hard,
                "open-file limit raised to the hard limit"
            );
            Some(hard)
        }
        Err(e) => {
            tracing::warn!(error = %e, soft, hard, "cannot raise the open-file limit");
            Some(soft)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_limit() {
        let now = raise_open_files().expect("limit");
        let limit = getrlimit(Resource::Nofile);
        assert_eq!(limit.current, Some(now));
        assert_eq!(limit.current, limit.maximum.or(Some(UNLIMITED_CAP)));
    }
}
