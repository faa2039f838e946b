//! The one model of Okta's User Import Inline Hook contract (`com.okta.import.transform`): the
//! request Okta sends ([`ImportRequest`]) and every response form ([`HookResponse`]). The host
//! reads requests and writes responses with it; the SDK builds its native test requests from it.
//!
//! # Reading requests: lenient by rule
//!
//! Okta's OpenAPI marks no request field required, and a `400` makes Okta log a failure and
//! create the user with the conflict unresolved. So [`ImportRequest`]'s `Deserialize` refuses
//! only a body that is not a JSON object; everything else is read by these rules:
//!
//! - a field that is absent or `null` is empty: `None`, an empty string, list or profile;
//! - unknown fields are ignored;
//! - an unknown `data.action.result` is kept as [`RequestedAction::Unknown`] with its text, an
//!   absent one as [`RequestedAction::Missing`];
//! - a value of a type Okta does not document there (a string where an object belongs, a number
//!   in `conflicts`) is read as absent and its path recorded in [`ImportRequest::irregular`];
//! - profiles and `matches` are kept as the JSON text Okta sent ([`RawProfile`], [`RawList`]),
//!   checked as JSON but read only when something reads a value ([`JsonText::parse`]): numbers
//!   losslessly (`1e400`, `-0`, `1.0`, `1.50` and integers past 64 bits keep every digit; read
//!   into a [`serde_json::Value`], an exponent is written `e+400`), strings exactly as sent (no
//!   Unicode normalization);
//! - a value serde_json can only refuse when it reads it (a lone UTF-16 surrogate escape,
//!   nesting 128 levels deep or more) makes that value [`Unreadable`], not the request. A lone surrogate
//!   elsewhere in the body, which a strict parser refuses with the whole body, can be read as
//!   [`INVALID_STRING_MARK`] first ([`mark_lone_surrogates`]), so that only what reads that
//!   value is refused ([`holds_invalid_string`]).
//!
//! Whether to act on what was read is the caller's decision: [`ImportRequest::is_for_this_hook`]
//! and [`ImportRequest::unhandled`] say what the host needs (it answers another `eventType` with
//! `400`, and passes an unhandled request through with `204`, Okta's default action).
//!
//! # Numbers
//!
//! This crate turns on serde_json's `arbitrary_precision`, and Cargo unifies features: in every
//! build that links it, a [`serde_json::Number`] holds its text, `as_i64`/`as_u64` parse it,
//! and `is_f64` is true only for a finite number written with `.` or an exponent. Read from
//! JSON text, a number that fits neither `u64` nor `i64` (any fraction or exponent, and larger
//! integers) reaches a `deserialize_any` visitor as a map instead of `visit_f64`: a typed `f64`
//! field still reads it, but an untagged enum, a flattened struct or a visitor that expects
//! `visit_f64` does not (jsonwebtoken's `exp`/`nbf` then accept integers only, which is what
//! Okta issues). Two numbers are equal when their text is: `1.0` and `1.00` differ.
//!
//! # Writing responses
//!
//! [`HookResponse::from_changes`] builds the commands for a net change (a `LINK_USER` always
//! with its target) and [`HookResponse::to_checked_json`] enforces Okta's rules on the way out.
//! Every [`ErrorCause`] built with [`ErrorCause::in_body`] carries a `locationType` and a JSON
//! path `location`, as Okta lists for every cause.

mod number;
mod raw;
mod read;
mod request;
mod response;
mod surrogates;

/// The string type of the request's short fields (ids, names, statuses): `Deref<Target = str>`,
/// kept inline up to 24 bytes.
pub use compact_str::CompactString;
/// Okta's rules for a user's login (the `importhook-login` crate).
pub use importhook_login as login;
pub use number::{NumberForm, number_form};
pub use raw::{JsonText, NotAProfile, RawList, RawProfile, Unreadable};
pub use request::{
    ActionHolder, Application, ImportContext, ImportData, ImportRequest, Job, NotAnObject,
    ProfileHolder, RequestedAction, Unhandled, UserHolder, to_strings,
};
pub use response::{
    ActionResult, ActionValue, Command, DebugContext, Decision, ErrorCause, HookError,
    HookResponse, LocationType, NotADebugContext, ResponseError, UserRef,
};
pub use surrogates::{INVALID_STRING_MARK, holds_invalid_string, mark_lone_surrogates};

/// The only event type this hook handles.
pub const EVENT_TYPE: &str = "com.okta.import.transform";

/// The most heap memory parsing an [`ImportRequest`] and reading its profiles holds at once,
/// per byte of its JSON body, for the densest body the contract allows, with a margin. The
/// envelope is read into typed fields, `matches` and each profile are kept as their text
/// ([`RawProfile`], [`RawList`]): parsed, a request keeps about 1× its body. Read, a profile
/// adds where its attributes lie, 16 bytes an entry with room for as many as its text can
/// hold (one per 5 bytes: 3.2× the text, made once and never grown), 4 bytes an entry for its
/// order by name (a name looked up in a profile of more than 32 attributes, or the names
/// listed), and, while its names are listed, 8 bytes a name. Measured with the allocator's
/// chunk sizes by `tests/parsed_size.rs` (bodies of ~256 KB of each shape, and of just past a
/// power of two attributes, every profile read and listed): at most 5.8 at the peak, ~1 for
/// `matches` and list attributes of any shape, and at most 5.0 kept once read. The test fails
/// when a shape costs more than this; a host budgeting request memory charges at least this.
pub const PARSED_BYTES_PER_BODY_BYTE: u64 = 8;

/// Okta rejects hook responses of 256 KB or more; we stay strictly below in either reading of "KB".
pub const MAX_RESPONSE_BYTES: usize = 256_000;

/// Profile attributes read into JSON values, in order: the updates a response sends. A
/// request's profiles are kept as Okta sent them ([`RawProfile`]).
pub type Profile = serde_json::Map<String, serde_json::Value>;
