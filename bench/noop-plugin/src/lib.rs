//! `noop`: changes nothing and reads nothing. What one fresh, isolated plugin call costs when
//! the strategy itself costs nothing: the floor the benchmarks compare the examples with.

use importhook_sdk::{Error, NoConfig, Outcome, Request, Strategy, export_strategy};

/// The strategy.
#[derive(Debug)]
pub struct Noop;

export_strategy!(Noop);

impl Strategy for Noop {
    type Config = NoConfig;

    fn transform(_request: &Request, _config: &NoConfig) -> Result<Outcome, Error> {
        Ok(Outcome::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_nothing() {
        let request = Request::minimal();
        assert!(
            Noop::transform(&request, &NoConfig::default())
                .expect("ok")
                .is_empty()
        );
    }
}
