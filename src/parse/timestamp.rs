//! Timestamps at the start of a log line.
//!
//! Pure: text and a [`TimeContext`] (the zone for timestamps that carry none,
//! and "now" for formats without a year) in, a UTC [`Timestamp`] out. Never
//! panics on any input; anything it does not recognise is `None`.
//!
//! Recognised here: RFC 3339 / ISO 8601 (`T` or space, any fraction up to 9
//! digits, `Z`, `+02:00`, `+0200`, `+02`, or a zone abbreviation such as
//! `UTC` or `CEST`), the same with `/` date separators (nginx), an optional
//! `[` before and a syslog `<PRI>` / RFC 5424 version before, BSD syslog
//! `Mmm dd HH:MM:SS` (no year: the latest year that does not put the time in
//! the future), and the common log format `[dd/Mon/yyyy:HH:MM:SS +zzzz]`
//! after the client fields.

use jiff::{
    Timestamp,
    civil::DateTime,
    tz::{Offset, TimeZone},
};

/// What a timestamp that omits something is read against.
#[derive(Debug, Clone)]
pub struct TimeContext {
    /// The zone of timestamps written without one.
    pub zone: TimeZone,
    /// The present, to choose the year of syslog timestamps.
    pub now: Timestamp,
}

impl TimeContext {
    /// Timestamps without a zone are in `zone`; `now` is the present.
    pub fn new(zone: TimeZone, now: Timestamp) -> TimeContext {
        TimeContext { zone, now }
    }
}

/// The timestamp at the start of `line`, if there is one.
pub fn leading(line: &str, ctx: &TimeContext) -> Option<Timestamp> {
    let bytes = line.as_bytes();
    let mut cur = Cursor { bytes, pos: 0 };
    cur.skip_syslog_priority();
    let start = cur.pos;
    cur.eat(b'[');
    if let Some(ts) = cur.iso(ctx) {
        return Some(ts);
    }
    cur.pos = start;
    if let Some(ts) = cur.syslog(ctx) {
        return Some(ts);
    }
    common_log_format(line, ctx)
}

/// `host ident user [dd/Mon/yyyy:HH:MM:SS +zzzz]`: the bracket is looked for
/// after at most three space-separated fields.
fn common_log_format(line: &str, ctx: &TimeContext) -> Option<Timestamp> {
    let head = &line.as_bytes()[..line.len().min(200)];
    let open = head.iter().position(|&b| b == b'[')?;
    if head[..open].iter().filter(|&&b| b == b' ').count() > 3 {
        return None;
    }
    let mut cur = Cursor {
        bytes: head,
        pos: open + 1,
    };
    let day = cur.digits(1, 2)?;
    cur.expect(b'/')?;
    let month = cur.month_name()?;
    cur.expect(b'/')?;
    let year = cur.digits(4, 4)?;
    cur.expect(b':')?;
    let (hour, minute, second, nanos) = cur.clock()?;
    let dt = civil(year, month, day, hour, minute, second, nanos)?;
    cur.eat(b' ');
    match cur.offset() {
        Some(offset) => offset.to_timestamp(dt).ok(),
        None => ctx.zone.to_timestamp(dt).ok(),
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// Between `min` and `max` ASCII digits, as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.pos;
        let mut value: i64 = 0;
        while self.pos - start < max {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    value = value * 10 + i64::from(b - b'0');
                    self.pos += 1;
                }
                _ => break,
            }
        }
        (self.pos - start >= min).then_some(value)
    }

    /// `<13>` and, for RFC 5424, the version `1 ` after it.
    fn skip_syslog_priority(&mut self) {
        let start = self.pos;
        if self.eat(b'<') && self.digits(1, 3).is_some() && self.eat(b'>') {
            let after = self.pos;
            if !(self.digits(1, 2).is_some() && self.eat(b' ')) {
                self.pos = after;
            }
        } else {
            self.pos = start;
        }
    }

    /// `HH:MM[:SS[.fff]]`.
    fn clock(&mut self) -> Option<(i64, i64, i64, i64)> {
        let hour = self.digits(1, 2)?;
        self.expect(b':')?;
        let minute = self.digits(2, 2)?;
        let mut second = 0;
        let mut nanos = 0;
        if self.eat(b':') {
            second = self.digits(2, 2)?;
            if matches!(self.peek(), Some(b'.' | b',')) {
                let mark = self.pos;
                self.pos += 1;
                let start = self.pos;
                match self.digits(1, 9) {
                    Some(fraction) => {
                        let scale = 9 - (self.pos - start) as u32;
                        nanos = fraction * 10_i64.pow(scale);
                        // Digits beyond nanoseconds are read and dropped.
                        while matches!(self.peek(), Some(b'0'..=b'9')) {
                            self.pos += 1;
                        }
                    }
                    None => self.pos = mark,
                }
            }
        }
        Some((hour, minute, second, nanos))
    }

    /// `Z`, `+HH:MM`, `+HHMM`, `+HH`.
    fn offset(&mut self) -> Option<Offset> {
        let start = self.pos;
        if self.eat(b'Z') || self.eat(b'z') {
            return Some(Offset::UTC);
        }
        let sign = match self.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return None,
        };
        self.pos += 1;
        let parsed = (|| {
            let hours = self.digits(2, 2)?;
            let minutes = if self.eat(b':') {
                self.digits(2, 2)?
            } else {
                self.digits(2, 2).unwrap_or(0)
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            Offset::from_seconds((sign * (hours * 3600 + minutes * 60)) as i32).ok()
        })();
        if parsed.is_none() {
            self.pos = start;
        }
        parsed
    }

    /// A zone abbreviation after a space: ` UTC`, ` CEST`.
    fn zone_abbreviation(&mut self) -> Option<Offset> {
        let start = self.pos;
        if !self.eat(b' ') {
            return None;
        }
        let word_start = self.pos;
        while matches!(self.peek(), Some(b'A'..=b'Z')) {
            self.pos += 1;
        }
        let word = std::str::from_utf8(&self.bytes[word_start..self.pos]).unwrap_or("");
        let next_is_word = matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric());
        match abbreviation_offset(word) {
            Some(hours) if !next_is_word => Some(Offset::constant(hours)),
            _ => {
                self.pos = start;
                None
            }
        }
    }

    /// ISO 8601 / RFC 3339 and its space- and slash-separated cousins.
    fn iso(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        let year = self.digits(4, 4)?;
        let separator = self.peek().filter(|b| matches!(b, b'-' | b'/'))?;
        self.pos += 1;
        let month = self.digits(1, 2)?;
        self.expect(separator)?;
        let day = self.digits(1, 2)?;
        if !(self.eat(b'T') || self.eat(b' ') || self.eat(b't')) {
            return None;
        }
        let (hour, minute, second, nanos) = self.clock()?;
        let dt = civil(year, month, day, hour, minute, second, nanos)?;
        let offset = self.offset().or_else(|| {
            let mark = self.pos;
            if self.eat(b' ') {
                if let Some(offset) = self.offset() {
                    return Some(offset);
                }
                self.pos = mark;
            }
            self.zone_abbreviation()
        });
        // A letter or digit right after the time means this was not a time.
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric()) {
            return None;
        }
        match offset {
            Some(offset) => offset.to_timestamp(dt).ok(),
            None => ctx.zone.to_timestamp(dt).ok(),
        }
    }

    /// BSD syslog `Mmm dd HH:MM:SS`, with the year chosen so that the time is
    /// not in the future (a December line read in January is last year's).
    fn syslog(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        let month = self.month_name()?;
        self.expect(b' ')?;
        self.eat(b' ');
        let day = self.digits(1, 2)?;
        self.expect(b' ')?;
        let (hour, minute, second, nanos) = self.clock()?;
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric()) {
            return None;
        }
        let now_year = i64::from(ctx.now.to_zoned(ctx.zone.clone()).year());
        // A day of grace for clocks that run slightly ahead of ours.
        let latest = ctx
            .now
            .checked_add(jiff::SignedDuration::from_hours(24))
            .ok()?;
        for year in [now_year, now_year - 1] {
            let Some(dt) = civil(year, month, day, hour, minute, second, nanos) else {
                continue; // 29 February in a year that has none.
            };
            let ts = ctx.zone.to_timestamp(dt).ok()?;
            if ts <= latest {
                return Some(ts);
            }
        }
        None
    }

    fn month_name(&mut self) -> Option<i64> {
        const MONTHS: [&[u8; 3]; 12] = [
            b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
            b"Dec",
        ];
        let word = self.bytes.get(self.pos..self.pos + 3)?;
        let index = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(word))?;
        self.pos += 3;
        Some(index as i64 + 1)
    }
}

fn civil(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    nanos: i64,
) -> Option<DateTime> {
    // A leap second (:60) is read as the last nanosecond of :59.
    let (second, nanos) = if second == 60 {
        (59, 999_999_999)
    } else {
        (second, nanos)
    };
    DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        i32::try_from(nanos).ok()?,
    )
    .ok()
}

/// UTC offset in hours of the zone abbreviations PostgreSQL and syslog
/// daemons print. Ambiguous ones (IST, BST as British or Bangladesh, ...)
/// are left out on purpose.
fn abbreviation_offset(word: &str) -> Option<i8> {
    let hours = match word {
        "UTC" | "GMT" | "UT" | "Z" | "WET" => 0,
        "WEST" | "CET" | "MET" => 1,
        "CEST" | "MEST" | "EET" => 2,
        "EEST" | "MSK" => 3,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        "AKST" => -9,
        "AKDT" => -8,
        "HST" => -10,
        "JST" | "KST" => 9,
        "AEST" => 10,
        "AEDT" => 11,
        "NZST" => 12,
        "NZDT" => 13,
        _ => return None,
    };
    Some(hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> TimeContext {
        TimeContext::new(
            TimeZone::UTC,
            "2026-11-21T12:00:00Z".parse().expect("valid"),
        )
    }

    fn ts(line: &str) -> Option<String> {
        leading(line, &ctx()).map(|t| t.to_string())
    }

    #[test]
    fn rfc3339_and_iso_forms() {
        assert_eq!(
            ts("2026-11-21T03:12:09.114Z x").as_deref(),
            Some("2026-11-21T03:12:09.114Z")
        );
        assert_eq!(
            ts("2026-11-21T03:12:09+02:00 x").as_deref(),
            Some("2026-11-21T01:12:09Z")
        );
        assert_eq!(
            ts("2026-11-21T03:12:09-0130 x").as_deref(),
            Some("2026-11-21T04:42:09Z")
        );
        assert_eq!(
            ts("2026-11-21T03:12:09.123456789Z").as_deref(),
            Some("2026-11-21T03:12:09.123456789Z")
        );
        assert_eq!(
            ts("2026-11-21 03:12:09,114 ERROR").as_deref(),
            Some("2026-11-21T03:12:09.114Z")
        );
        assert_eq!(
            ts("[2026-11-21 03:12:09] x").as_deref(),
            Some("2026-11-21T03:12:09Z")
        );
        assert_eq!(
            ts("2026/11/21 03:05:12 [error]").as_deref(),
            Some("2026-11-21T03:05:12Z")
        );
    }

    #[test]
    fn zone_abbreviations_and_spaced_offsets() {
        assert_eq!(
            ts("2026-11-21 03:04:10.123 UTC [4242] FATAL").as_deref(),
            Some("2026-11-21T03:04:10.123Z")
        );
        assert_eq!(
            ts("2026-07-01 10:00:00 CEST [1] LOG").as_deref(),
            Some("2026-07-01T08:00:00Z")
        );
        assert_eq!(
            ts("2026-07-01 10:00:00 PDT x").as_deref(),
            Some("2026-07-01T17:00:00Z")
        );
        assert_eq!(
            ts("2026-07-01 10:00:00 +0200 x").as_deref(),
            Some("2026-07-01T08:00:00Z")
        );
        // An upper-case word that is no zone is left alone.
        assert_eq!(
            ts("2026-07-01 10:00:00 LOG x").as_deref(),
            Some("2026-07-01T10:00:00Z")
        );
    }

    #[test]
    fn zoneless_times_use_the_configured_zone() {
        let paris = TimeContext::new(TimeZone::get("Europe/Paris").expect("tzdb"), ctx().now);
        let got = leading("2026-11-21 03:00:00 x", &paris).map(|t| t.to_string());
        assert_eq!(got.as_deref(), Some("2026-11-21T02:00:00Z"));
    }

    #[test]
    fn syslog_year_is_not_in_the_future() {
        assert_eq!(
            ts("Nov 21 03:14:02 web-1 kernel:").as_deref(),
            Some("2026-11-21T03:14:02Z")
        );
        assert_eq!(
            ts("Nov  1 03:14:02 web-1 kernel:").as_deref(),
            Some("2026-11-01T03:14:02Z")
        );
        // December read in November: last year's.
        assert_eq!(
            ts("Dec 31 23:59:59 h p:").as_deref(),
            Some("2025-12-31T23:59:59Z")
        );
        assert_eq!(
            ts("<13>Nov 21 03:14:02 h p:").as_deref(),
            Some("2026-11-21T03:14:02Z")
        );
        // The December→January roll: on 1 January, 31 December is last year.
        let january = TimeContext::new(
            TimeZone::UTC,
            "2027-01-01T00:05:00Z".parse().expect("valid"),
        );
        let got = leading("Dec 31 23:58:00 h p:", &january).map(|t| t.to_string());
        assert_eq!(got.as_deref(), Some("2026-12-31T23:58:00Z"));
    }

    #[test]
    fn rfc5424_and_common_log_format() {
        assert_eq!(
            ts("<34>1 2026-11-21T03:12:09.5Z host app 1 - - msg").as_deref(),
            Some("2026-11-21T03:12:09.5Z")
        );
        assert_eq!(
            ts("83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\"").as_deref(),
            Some("2015-05-17T10:05:03Z")
        );
        assert_eq!(
            ts("10.0.0.1 - bob [21/Nov/2026:03:00:01 -0500] \"GET /\"").as_deref(),
            Some("2026-11-21T08:00:01Z")
        );
    }

    #[test]
    fn non_timestamps_are_none() {
        for line in [
            "",
            "hello world",
            "2026-13-01 00:00:00 bad month",
            "2026-02-30 00:00:00 bad day",
            "2026-11-21T25:00:00Z bad hour",
            "20261121 nothing",
            "12345 2026-11-21T03:12:09Z later in line",
            "\tat com.example.Foo(Foo.java:12)",
            "2026-11-21T03:12:09Zulu",
            "a b c d e [17/May/2015:10:05:03 +0000] too far in",
        ] {
            assert_eq!(ts(line), None, "{line:?}");
        }
    }
}
