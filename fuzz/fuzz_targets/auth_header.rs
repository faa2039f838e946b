//! The shared-secret check: any header bytes, any number of headers; never panics, and only
//! the exact secret is accepted.
#![no_main]

use http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
use importhook::auth::{Secret, SecretSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let secrets = SecretSet::new(
        AUTHORIZATION,
        &[
            Secret::new("Basic c2VjcmV0OnZhbHVl"),
            Secret::new("second-secret"),
        ],
    )
    .expect("a digest key");
    let mut headers = HeaderMap::new();
    for part in data.split(|b| *b == b'\n').take(3) {
        if let Ok(value) = HeaderValue::from_bytes(part) {
            headers.append(AUTHORIZATION, value);
        }
    }
    let accepted = secrets.verify(&headers).is_ok();
    let exact = headers.len() == 1
        && headers.get(AUTHORIZATION).is_some_and(|v| {
            v.as_bytes() == b"Basic c2VjcmV0OnZhbHVl" || v.as_bytes() == b"second-secret"
        });
    assert_eq!(accepted, exact);
});
