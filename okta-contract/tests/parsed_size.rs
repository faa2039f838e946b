//! What a request costs parsed, measured by counting the heap bytes parsing it holds at most:
//! the host charges each request body's memory to a budget (`max_body_memory_mib`) at
//! [`PARSED_BYTES_PER_BODY_BYTE`] per body byte, which must cover the costliest shape. A test
//! binary of its own: it counts every allocation of the process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use importhook_okta::{ImportRequest, PARSED_BYTES_PER_BODY_BYTE};

struct Counting;

/// What the allocator really takes for `size` bytes: glibc's chunk, a 16-byte multiple with
/// an 8-byte header, at least 32 bytes.
fn chunk(size: usize) -> usize {
    ((size + 8 + 15) & !15).max(32)
}

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let size = chunk(layout.size());
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(chunk(layout.size()), Ordering::Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Where a body repeats its element.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// `data.context.matches`.
    Matches,
    /// One array attribute of the app user's profile (Okta has array attributes).
    ProfileArray,
    /// As attributes of their own, `"a0": element, "a1": element, …` (custom attributes).
    ProfileAttributes,
    /// As attributes of one empty name, `"": element, "": element, …`: the fewest bytes an
    /// attribute can take (JSON allows a name twice; the last value is read).
    ProfileRepeatedName,
}

/// A ~256 KB request whose `place` holds `element` over and over.
fn body_of(place: Place, element: &str) -> Vec<u8> {
    let count = match place {
        Place::Matches | Place::ProfileArray => 250_000 / (element.len() + 1),
        Place::ProfileAttributes => 250_000 / (element.len() + 8),
        Place::ProfileRepeatedName => 250_000 / (element.len() + 4),
    };
    body_with(place, element, count)
}

/// A request whose `place` holds `element` `count` times.
fn body_with(place: Place, element: &str, count: usize) -> Vec<u8> {
    let repeated = vec![element; count].join(",");
    let (profile, matches) = match place {
        Place::Matches => (r#""login":"a""#.to_owned(), repeated),
        Place::ProfileArray => (format!(r#""login":"a","tags":[{repeated}]"#), String::new()),
        Place::ProfileAttributes => {
            let attributes: Vec<String> =
                (0..count).map(|i| format!(r#""a{i}":{element}"#)).collect();
            (attributes.join(","), String::new())
        }
        Place::ProfileRepeatedName => (
            vec![format!(r#""":{element}"#); count].join(","),
            String::new(),
        ),
    };
    format!(
        r#"{{"eventId":"e","eventType":"com.okta.import.transform","data":{{"appUser":{{"profile":{{{profile}}}}},"user":{{"profile":{{"login":"a"}}}},"action":{{"result":"CREATE_USER"}},"context":{{"conflicts":["login"],"matches":[{matches}],"policy":[]}}}}}}"#
    )
    .into_bytes()
}

/// The most heap bytes parsing `body` and reading its profiles had live at once, per body
/// byte (the test's threads run one at a time: this binary has one test). A profile finds
/// where its attributes lie when first read, indexes its names when first looked up by name
/// or listed, and lists its names apart: all are counted, as a request a strategy reads holds
/// them.
fn parsed_per_body_byte(body: &[u8]) -> f64 {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let parsed: ImportRequest = serde_json::from_slice(body).expect("parses");
    for profile in [&parsed.data.app_user.profile, &parsed.data.user.profile] {
        assert!(profile.get("a name no body here holds").is_none());
        assert!(profile.names().count() <= body.len());
    }
    let peak = PEAK.load(Ordering::Relaxed) - before;
    drop(parsed);
    peak as f64 / body.len() as f64
}

#[test]
fn no_request_costs_more_than_the_documented_bytes_per_body_byte_parsed() {
    let mut worst = 0.0f64;
    for place in [
        Place::Matches,
        Place::ProfileArray,
        Place::ProfileAttributes,
        Place::ProfileRepeatedName,
    ] {
        for element in [
            // Okta never shows a match (its OpenAPI types them as strings): small objects,
            // user-id strings, and the densest shapes a body could hold.
            r#"{"id":"00u1a2b3c4d5e6f7g8h9","status":"ACTIVE"}"#,
            r#"{"id":"00u1a2b3c4d5e6f7g8h9"}"#,
            r#"{"a":1}"#,
            r#"{}"#,
            r#"[]"#,
            r#""00u1a2b3c4d5e6f7g8h9""#,
            "1",
        ] {
            let body = body_of(place, element);
            let ratio = parsed_per_body_byte(&body);
            eprintln!(
                "{place:?} of {element}: {} bytes, {ratio:.1} bytes parsed per body byte",
                body.len()
            );
            worst = worst.max(ratio);
        }
    }
    // Just past a power of two attributes, where a list grown by doubling would hold its old
    // and new room at once with the most spare.
    for count in [257, 4_097, 32_769] {
        for place in [Place::ProfileAttributes, Place::ProfileRepeatedName] {
            let body = body_with(place, "1", count);
            let ratio = parsed_per_body_byte(&body);
            eprintln!(
                "{place:?} of 1, {count} times: {} bytes, {ratio:.1} bytes parsed per body byte",
                body.len()
            );
            worst = worst.max(ratio);
        }
    }
    assert!(
        worst <= PARSED_BYTES_PER_BODY_BYTE as f64,
        "a request costs {worst:.1}x its body parsed, past PARSED_BYTES_PER_BODY_BYTE"
    );
}
