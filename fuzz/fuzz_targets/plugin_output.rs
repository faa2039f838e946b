//! The plugin output validator: any outcome a plugin could return is either refused or turned
//! into commands Okta accepts (LINK paired, under the size limit). Never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    importhook::engine::fuzzing::validate_outcome_bytes(data);
});
