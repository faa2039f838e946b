//! The log line's timestamp, as tracing-subscriber's default timer writes it
//! (`2026-12-06T08:17:19.123456Z`, UTC, microseconds), with the date and time of the current
//! second kept per thread: every line within one second differs only in its six digits of
//! microseconds, so the calendar arithmetic and the digits before them are done once a second.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// `YYYY-MM-DDTHH:MM:SS.`: the part of a timestamp shared by one second.
const PREFIX: usize = 20;

/// The last second 10,000-01-01T00:00:00Z comes before: later years take five digits and a
/// sign, earlier ones (before 1970 here) another layout; neither is cached.
const LAST_SECOND: u64 = 253_402_300_799;

thread_local! {
    /// The second last formatted on this thread and its prefix (`u64::MAX`: none yet).
    static SECOND: Cell<(u64, [u8; PREFIX])> = const { Cell::new((u64::MAX, [0; PREFIX])) };
}

/// Appends the timestamp of now to `out`; `false` (and nothing appended) for a clock before
/// 1970 or after 9999, which the caller leaves to tracing-subscriber's own timer.
pub(super) fn write_now(out: &mut String) -> bool {
    let Ok(since) = SystemTime::now().duration_since(UNIX_EPOCH) else {
        return false;
    };
    write(out, since.as_secs(), since.subsec_micros())
}

/// Appends the timestamp `secs` seconds and `micros` µs after the Unix epoch.
pub(super) fn write(out: &mut String, secs: u64, micros: u32) -> bool {
    if secs > LAST_SECOND {
        return false;
    }
    let (cached, mut prefix) = SECOND.get();
    if cached != secs {
        prefix = second_prefix(secs);
        SECOND.set((secs, prefix));
    }
    let mut tail = *b"000000Z";
    digits(&mut tail[..6], micros);
    // Only ASCII digits and separators were written into either array.
    out.push_str(std::str::from_utf8(&prefix).unwrap_or_default());
    out.push_str(std::str::from_utf8(&tail).unwrap_or_default());
    true
}

/// `YYYY-MM-DDTHH:MM:SS.` of the second `secs` after the epoch (at most [`LAST_SECOND`]).
fn second_prefix(secs: u64) -> [u8; PREFIX] {
    let (year, month, day) = civil(secs / 86_400);
    let of_day = secs % 86_400;
    let mut prefix = *b"0000-00-00T00:00:00.";
    digits(&mut prefix[0..4], year);
    digits(&mut prefix[5..7], month);
    digits(&mut prefix[8..10], day);
    digits(&mut prefix[11..13], (of_day / 3600) as u32);
    digits(&mut prefix[14..16], (of_day / 60 % 60) as u32);
    digits(&mut prefix[17..19], (of_day % 60) as u32);
    prefix
}

/// Year, month and day of the day `days` after 1970-01-01 in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`, on days since 0000-03-01 so leap days end a year).
fn civil(days: u64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    // Bounded by LAST_SECOND: the year has at most four digits.
    (year as u32, month as u32, day as u32)
}

/// Writes `value`'s last `into.len()` decimal digits into `into`, zero-padded.
fn digits(into: &mut [u8], mut value: u32) {
    for digit in into.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn stamp(secs: u64, micros: u32) -> String {
        let mut out = String::new();
        assert!(write(&mut out, secs, micros));
        out
    }

    #[test]
    fn known_instants() {
        assert_eq!(stamp(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(stamp(951_782_400, 7), "2000-02-29T00:00:00.000007Z");
        assert_eq!(stamp(4_107_542_399, 999_999), "2100-02-28T23:59:59.999999Z");
        assert_eq!(stamp(4_107_542_400, 0), "2100-03-01T00:00:00.000000Z");
        assert_eq!(stamp(1_796_545_039, 123_456), "2026-12-06T08:17:19.123456Z");
        assert_eq!(stamp(LAST_SECOND, 5), "9999-12-31T23:59:59.000005Z");
        assert!(!write(&mut String::new(), LAST_SECOND + 1, 0));
    }

    #[test]
    fn the_cached_second_changes_with_the_second() {
        assert_eq!(stamp(59, 1), "1970-01-01T00:00:59.000001Z");
        assert_eq!(stamp(59, 2), "1970-01-01T00:00:59.000002Z");
        assert_eq!(stamp(60, 0), "1970-01-01T00:01:00.000000Z");
        assert_eq!(stamp(59, 3), "1970-01-01T00:00:59.000003Z");
    }

    proptest! {
        /// The calendar against the `time` crate's, over the whole range cached.
        #[test]
        fn as_the_time_crate_reads_the_instant(secs in 0..=LAST_SECOND, micros in 0..1_000_000u32) {
            let at = time::OffsetDateTime::from_unix_timestamp(secs as i64).expect("in range");
            let expected = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second(),
                micros
            );
            prop_assert_eq!(stamp(secs, micros), expected);
        }
    }
}
