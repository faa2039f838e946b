//! A plugin that imports `test:fault/net`, which no importhook host provides: the host must
//! refuse it at load time, naming the missing import.
#![allow(unsafe_code, missing_docs)]

wit_bindgen::generate!({ world: "plugin-with-network", path: "wit", generate_all });

use exports::importhook::plugin::strategy::Guest;
use importhook::plugin::types::{Outcome, Request};

struct WithNetwork;

impl Guest for WithNetwork {
    fn transform(_request: &Request) -> Result<Outcome, String> {
        let _ = test::fault::net::connect("192.0.2.1:80");
        Ok(Outcome {
            app_user_updates: Vec::new(),
            user_updates: Vec::new(),
            decision: None,
            note: None,
        })
    }

    fn validate_config() -> Result<(), String> {
        Ok(())
    }
}

export!(WithNetwork);
