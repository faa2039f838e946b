//! A plugin with the right interface whose start-up traps: a constructor (run by the
//! component's `_initialize` at instantiation) aborts. The host must refuse it at load.
#![allow(unsafe_code, missing_docs)]

use importhook_sdk::{Error, NoConfig, Outcome, Request, Strategy, export_strategy};

pub struct TrapsAtStart;

export_strategy!(TrapsAtStart);

impl Strategy for TrapsAtStart {
    type Config = NoConfig;

    fn transform(_request: &Request, _config: &NoConfig) -> Result<Outcome, Error> {
        Ok(Outcome::new())
    }
}

#[cfg(target_arch = "wasm32")]
extern "C" fn trap_at_start() {
    std::process::abort();
}

#[cfg(target_arch = "wasm32")]
#[used]
#[unsafe(link_section = ".init_array")]
static TRAP_AT_START: extern "C" fn() = trap_at_start;
