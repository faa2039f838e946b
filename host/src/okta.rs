//! Okta's User Import Inline Hook contract, as the host sees it: the model lives in the
//! `importhook-okta` crate (the one model, shared with the SDK); this module re-exports it so
//! the host names it `crate::okta`.

pub use importhook_okta::*;
