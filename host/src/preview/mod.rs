//! `importhook preview`: a whole import file run through the plugins `serve` would run, row by
//! row, before Okta runs it: what Okta would send for each row ([`matching`]), what the hook
//! would answer (the serving pipeline itself, on a state store seeded from the real one,
//! [`seed`]), and what the import then does ([`decide`]), written to the reports of
//! `importhook-preview-report` with a summary of counts.

mod decide;
mod existing;
mod input;
mod matching;
mod run;
mod seed;
mod summary;

pub use matching::{Found, Mapping, Org, OrgUser, Rule};
pub use run::{PreviewArgs, run};
