//! Timestamps of log lines, written straight into the line's bytes without `fmt` (every line
//! has one): RFC 3339 in UTC with milliseconds for JSON, the time of day for text.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    /// The last second written and its text up to the milliseconds (`2024-01-15T10:30:00.`);
    /// second `u64::MAX` means none yet.
    static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// `2024-01-15T10:30:00.123Z`: RFC 3339 in UTC with milliseconds, written without `fmt`.
/// Times before 1970 are written as 1970.
pub(super) fn write_rfc3339(out: &mut Vec<u8>, time: SystemTime) {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    // A busy server writes many lines a second: the text up to the second is made once a second
    // and copied for every other line.
    let prefix = SECOND.with(|cached| {
        let (cached_second, text) = cached.get();
        if cached_second == seconds {
            return text;
        }
        let (year, month, day_of_month) = civil_from_days(seconds / 86_400);
        let year = year.min(9999);
        let mut text = Vec::with_capacity(20);
        two_digits(&mut text, year / 100);
        two_digits(&mut text, year % 100);
        text.push(b'-');
        two_digits(&mut text, month);
        text.push(b'-');
        two_digits(&mut text, day_of_month);
        text.push(b'T');
        write_clock(&mut text, seconds);
        text.push(b'.');
        let text: [u8; 20] = text.try_into().unwrap_or(*b"1970-01-01T00:00:00.");
        cached.set((seconds, text));
        text
    });
    out.extend_from_slice(&prefix);
    write_millis(out, since_epoch.subsec_millis());
    out.push(b'Z');
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
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
    (year, month, day)
}

/// `10:30:00.123` in UTC.
pub(super) fn write_time_of_day(out: &mut Vec<u8>, time: SystemTime) {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    write_clock(out, since_epoch.as_secs());
    out.push(b'.');
    write_millis(out, since_epoch.subsec_millis());
}

/// `10:30:00`, the UTC time of day of `seconds` since the epoch.
fn write_clock(out: &mut Vec<u8>, seconds: u64) {
    let day_seconds = seconds % 86_400;
    two_digits(out, day_seconds / 3600);
    out.push(b':');
    two_digits(out, day_seconds / 60 % 60);
    out.push(b':');
    two_digits(out, day_seconds % 60);
}

fn write_millis(out: &mut Vec<u8>, millis: u32) {
    two_digits(out, u64::from(millis / 10));
    out.push(b'0' + (millis % 10) as u8);
}

fn two_digits(out: &mut Vec<u8>, n: u64) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_match_rfc_3339_for_dates_across_eras() {
        // Leap days, century rules, the epoch, and a far future date.
        for seconds in [
            0,
            951_782_400,
            4_107_542_399,
            1_709_164_800,
            253_402_300_799u64,
        ] {
            for millis in [0, 7, 999] {
                let time = UNIX_EPOCH + Duration::from_millis(seconds * 1000 + millis);
                let mut out = Vec::new();
                write_rfc3339(&mut out, time);
                let expected = humantime::format_rfc3339_millis(time).to_string();
                assert_eq!(String::from_utf8_lossy(&out), expected);
            }
        }
    }
}
