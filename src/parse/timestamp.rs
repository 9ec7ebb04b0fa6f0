//! Timestamps at the start of a log line, and in the value of a field.
//!
//! Owns: reading every written form of a point in time into a UTC
//! [`Timestamp`]. Must not: read a clock or do I/O (the zone for timestamps
//! that carry none and "now", for forms without a year, come in a
//! [`TimeContext`]). Invariants: never panics on any input; anything not
//! recognised is `None`; an invalid date (30 February, hour 25) is `None`,
//! never a neighbouring date.
//!
//! Recognised at the start of a line (after an optional syslog `<PRI>` and
//! RFC 5424 version, and an optional `[` or `"`):
//! - RFC 3339 / ISO 8601 (`T` or space, any fraction up to 9 digits, `Z`,
//!   `+02:00`, `+0200`, `+02`, or a zone abbreviation such as `UTC` or
//!   `CEST`), with `/` date separators (nginx, Go), unpadded fields
//!   (`2026-1-5 3:04:05`), and the DB2 form `2026-11-21-03.12.09.123456`;
//! - compact `yyMMdd HHmmss` and `yyMMdd H:MM:SS` (MySQL 5);
//! - `dd-Mon-yyyy HH:MM:SS.fff` (Tomcat) and `dd/Mon/yyyy:HH:MM:SS +zzzz`;
//! - `Sat Nov 21 03:12:09[.ffffff] [ZONE] 2026` (ctime, Apache error log);
//! - BSD syslog `Mmm dd HH:MM:SS` and klog `I1121 03:12:09.114567` (no
//!   year: the latest year that does not put the time in the future, which
//!   handles the December→January roll);
//! - epoch seconds (10 digits, optional fraction) and milliseconds (13);
//! - the common log format `[dd/Mon/yyyy:HH:MM:SS +zzzz]` after at most
//!   three client fields.
//!
//! [`from_value`] reads a field value (JSON `ts`, logfmt `time`): any of the
//! above, or a number of seconds, milliseconds, microseconds or nanoseconds
//! since the epoch (told apart by magnitude). A leap second (`:60`) is read
//! as the last nanosecond of `:59`.

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
pub fn leading<'a>(line: &'a str, ctx: &TimeContext) -> Option<Timestamp> {
    let bytes = line.as_bytes();
    let mut cur = Cursor { bytes, pos: 0 };
    cur.skip_syslog_priority();
    let start = cur.pos;
    if !cur.eat(b'[') {
        cur.eat(b'"');
    }
    let opened = cur.pos;
    let readers: [fn(&mut Cursor<'a>, &TimeContext) -> Option<Timestamp>; 4] = [
        Cursor::iso,
        Cursor::compact,
        Cursor::day_month_name_year,
        Cursor::ctime,
    ];
    for read in readers {
        cur.pos = opened;
        if let Some(ts) = read(&mut cur, ctx) {
            return Some(ts);
        }
    }
    let undelimited: [fn(&mut Cursor<'a>, &TimeContext) -> Option<Timestamp>; 3] =
        [Cursor::syslog, Cursor::klog, Cursor::epoch];
    for read in undelimited {
        cur.pos = start;
        if let Some(ts) = read(&mut cur, ctx) {
            return Some(ts);
        }
    }
    common_log_format(line, ctx)
}

/// The time a field's value holds: any form [`leading`] reads (the whole
/// value, surrounding quotes allowed), or a number since the epoch in
/// seconds, milliseconds, microseconds or nanoseconds, told apart by its
/// magnitude (a fraction is allowed).
pub fn from_value(value: &str, ctx: &TimeContext) -> Option<Timestamp> {
    let value = value.trim().trim_matches('"');
    if let Some(ts) = epoch_number(value) {
        return Some(ts);
    }
    leading(value, ctx)
}

/// `1669575482`, `1669575482.0968924`, `1669575482096`: a whole number of
/// seconds (10 digits or fewer), milliseconds (13), microseconds (16) or
/// nanoseconds (19), with an optional fraction of that unit.
fn epoch_number(value: &str) -> Option<Timestamp> {
    let (whole, fraction) = match value.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (value, ""),
    };
    if whole.is_empty()
        || whole.len() > 19
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let number: i128 = whole.parse().ok()?;
    // Nanoseconds per unit, chosen by the number of digits.
    let unit: i128 = match whole.len() {
        1..=11 => 1_000_000_000,
        12..=14 => 1_000_000,
        15..=17 => 1_000,
        _ => 1,
    };
    let mut fraction_nanos: i128 = 0;
    let mut scale = unit;
    for digit in fraction.bytes().take(9) {
        scale /= 10;
        fraction_nanos += i128::from(digit - b'0') * scale;
    }
    Timestamp::from_nanosecond(number.checked_mul(unit)? + fraction_nanos).ok()
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
    cur.day_month_name_year(ctx)
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
        let minute = self.digits(1, 2)?;
        let mut second = 0;
        let mut nanos = 0;
        if self.eat(b':') {
            second = self.digits(1, 2)?;
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

    /// ISO 8601 / RFC 3339 and its space- and slash-separated cousins, and
    /// the DB2 form `yyyy-MM-dd-HH.mm.ss.ffffff`.
    fn iso(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        let year = self.digits(4, 4)?;
        let separator = self.peek().filter(|b| matches!(b, b'-' | b'/'))?;
        self.pos += 1;
        let month = self.digits(1, 2)?;
        self.expect(separator)?;
        let day = self.digits(1, 2)?;
        let (hour, minute, second, nanos) = if separator == b'-' && self.eat(b'-') {
            self.dotted_clock()?
        } else {
            if !(self.eat(b'T') || self.eat(b' ') || self.eat(b't')) {
                return None;
            }
            self.clock()?
        };
        let dt = civil(year, month, day, hour, minute, second, nanos)?;
        self.zoned(dt, ctx)
    }

    /// The zone after a civil time (an offset, a space and an offset, or a
    /// zone abbreviation; else the context's zone), provided no letter or
    /// digit follows: then it was not a time.
    fn zoned(&mut self, dt: DateTime, ctx: &TimeContext) -> Option<Timestamp> {
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
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric()) {
            return None;
        }
        // An offset that did not read (`+25:00`) makes the whole time invalid.
        let sign = matches!(self.peek(), Some(b'+' | b'-'));
        let digit_next = matches!(self.bytes.get(self.pos + 1), Some(b'0'..=b'9'));
        if offset.is_none() && sign && digit_next {
            return None;
        }
        match offset {
            Some(offset) => offset.to_timestamp(dt).ok(),
            None => ctx.zone.to_timestamp(dt).ok(),
        }
    }

    /// `HH.mm.ss[.ffffff]` (DB2, WebSphere).
    fn dotted_clock(&mut self) -> Option<(i64, i64, i64, i64)> {
        let hour = self.digits(2, 2)?;
        self.expect(b'.')?;
        let minute = self.digits(2, 2)?;
        self.expect(b'.')?;
        let second = self.digits(2, 2)?;
        let nanos = if self.peek() == Some(b'.') {
            self.pos += 1;
            self.fraction()?
        } else {
            0
        };
        Some((hour, minute, second, nanos))
    }

    /// Fraction digits (the separator already read) as nanoseconds; digits
    /// beyond nanoseconds are read and dropped.
    fn fraction(&mut self) -> Option<i64> {
        let start = self.pos;
        let fraction = self.digits(1, 9)?;
        let scale = 9 - (self.pos - start) as u32;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        Some(fraction * 10_i64.pow(scale))
    }

    /// Compact `yyMMdd HHmmss`, or `yyMMdd H:MM:SS` with the hour padded by
    /// a space (MySQL 5 error log). The year is 20yy.
    fn compact(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        let start = self.pos;
        let date = self.digits(6, 6)?;
        if self.pos - start != 6 || matches!(self.peek(), Some(b'0'..=b'9')) {
            return None;
        }
        self.expect(b' ')?;
        self.eat(b' ');
        let clock_start = self.pos;
        let (hour, minute, second) = match self.digits(6, 6) {
            Some(hms) if !matches!(self.peek(), Some(b'0'..=b'9' | b':')) => {
                (hms / 10_000, hms / 100 % 100, hms % 100)
            }
            _ => {
                self.pos = clock_start;
                let (hour, minute, second, _) = self.clock()?;
                (hour, minute, second)
            }
        };
        let dt = civil(
            2000 + date / 10_000,
            date / 100 % 100,
            date % 100,
            hour,
            minute,
            second,
            0,
        )?;
        self.zoned(dt, ctx)
    }

    /// `dd-Mon-yyyy HH:MM:SS.fff` (Tomcat), `dd/Mon/yyyy:HH:MM:SS +zzzz`
    /// (the common log format's time), `dd Mon yyyy HH:MM:SS`.
    fn day_month_name_year(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        let day = self.digits(1, 2)?;
        let separator = self.peek().filter(|b| matches!(b, b'-' | b'/' | b' '))?;
        self.pos += 1;
        let month = self.month_name()?;
        self.expect(separator)?;
        let year = self.digits(4, 4)?;
        if !(self.eat(b':') || self.eat(b' ')) {
            return None;
        }
        let (hour, minute, second, nanos) = self.clock()?;
        let dt = civil(year, month, day, hour, minute, second, nanos)?;
        self.zoned(dt, ctx)
    }

    /// `Sat Nov 21 03:12:09[.ffffff] [ZONE] 2026`: ctime, `date`, and the
    /// Apache error log's `[Sat Nov 21 03:12:09.123456 2026]`.
    fn ctime(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
        let word = self.bytes.get(self.pos..self.pos + 3)?;
        if !DAYS.iter().any(|d| d.eq_ignore_ascii_case(word)) {
            return None;
        }
        self.pos += 3;
        self.eat(b',');
        self.expect(b' ')?;
        let month = self.month_name()?;
        self.expect(b' ')?;
        self.eat(b' ');
        let day = self.digits(1, 2)?;
        self.expect(b' ')?;
        let (hour, minute, second, nanos) = self.clock()?;
        let offset = self.zone_abbreviation();
        self.expect(b' ')?;
        let year = self.digits(4, 4)?;
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric()) {
            return None;
        }
        let dt = civil(year, month, day, hour, minute, second, nanos)?;
        match offset {
            Some(offset) => offset.to_timestamp(dt).ok(),
            None => ctx.zone.to_timestamp(dt).ok(),
        }
    }

    /// klog (Kubernetes, glog): `I1121 03:12:09.114567`, the level letter
    /// then month and day; the year as for syslog.
    fn klog(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        if !matches!(self.peek(), Some(b'I' | b'W' | b'E' | b'F')) {
            return None;
        }
        self.pos += 1;
        let start = self.pos;
        let month_day = self.digits(4, 4)?;
        if self.pos - start != 4 {
            return None;
        }
        self.expect(b' ')?;
        let (hour, minute, second, nanos) = self.clock()?;
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric()) {
            return None;
        }
        without_year(
            month_day / 100,
            month_day % 100,
            (hour, minute, second, nanos),
            ctx,
        )
    }

    /// Epoch seconds (10 digits, optional `.fraction`) or milliseconds (13
    /// digits) at the start of a line, followed by a space, a tab, the end,
    /// or punctuation that is not part of a date.
    fn epoch(&mut self, _ctx: &TimeContext) -> Option<Timestamp> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        let whole = self.pos - start;
        if whole != 10 && whole != 13 {
            return None;
        }
        if whole == 10 && self.peek() == Some(b'.') {
            self.pos += 1;
            let fraction_start = self.pos;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
            if self.pos == fraction_start {
                return None;
            }
        }
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'-' | b':' | b'/' | b'.'))
        {
            return None;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).ok()?;
        epoch_number(text)
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
        without_year(month, day, (hour, minute, second, nanos), ctx)
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

/// A month, day and time of a form that writes no year: the latest year
/// (this one or the last) that does not put the time in the future. A day of
/// grace allows for clocks that run slightly ahead of ours.
fn without_year(
    month: i64,
    day: i64,
    (hour, minute, second, nanos): (i64, i64, i64, i64),
    ctx: &TimeContext,
) -> Option<Timestamp> {
    let now_year = i64::from(ctx.now.to_zoned(ctx.zone.clone()).year());
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

    #[test]
    fn epoch_seconds_and_milliseconds_at_line_start() {
        assert_eq!(
            ts("1669575482 started").as_deref(),
            Some("2022-11-27T18:58:02Z")
        );
        assert_eq!(
            ts("1669575482.0968924 started").as_deref(),
            Some("2022-11-27T18:58:02.0968924Z")
        );
        assert_eq!(
            ts("1669575482096\tstarted").as_deref(),
            Some("2022-11-27T18:58:02.096Z")
        );
        assert_eq!(ts("1669575482").as_deref(), Some("2022-11-27T18:58:02Z"));
        // Other lengths, or a number that runs into a word, are no time.
        assert_eq!(ts("166957548 x"), None);
        assert_eq!(ts("16695754820 x"), None);
        assert_eq!(ts("1669575482abc"), None);
        assert_eq!(ts("1669575482-12"), None);
    }

    #[test]
    fn field_values_by_magnitude() {
        let read = |v: &str| from_value(v, &ctx()).map(|t| t.to_string());
        assert_eq!(read("1669575482").as_deref(), Some("2022-11-27T18:58:02Z"));
        assert_eq!(
            read("1669575482.0968924").as_deref(),
            Some("2022-11-27T18:58:02.0968924Z")
        );
        assert_eq!(
            read("1669575482096").as_deref(),
            Some("2022-11-27T18:58:02.096Z")
        );
        assert_eq!(
            read("1669575482096123").as_deref(),
            Some("2022-11-27T18:58:02.096123Z")
        );
        assert_eq!(
            read("1669575482096123456").as_deref(),
            Some("2022-11-27T18:58:02.096123456Z")
        );
        assert_eq!(
            read("\"2020-05-02T13:00:20.382318Z\"").as_deref(),
            Some("2020-05-02T13:00:20.382318Z")
        );
        assert_eq!(
            read("2022-11-27 18:58:02.096 UTC").as_deref(),
            Some("2022-11-27T18:58:02.096Z")
        );
        assert_eq!(read("12ab"), None);
        assert_eq!(read(""), None);
        assert_eq!(read("99999999999999999999"), None);
    }

    #[test]
    fn compact_and_db2_forms() {
        assert_eq!(
            ts("260105 030405 x").as_deref(),
            Some("2026-01-05T03:04:05Z")
        );
        assert_eq!(
            ts("150119  9:35:27 [Note] mysqld").as_deref(),
            Some("2015-01-19T09:35:27Z")
        );
        assert_eq!(
            ts("2026-11-21-03.12.09.123456 db2").as_deref(),
            Some("2026-11-21T03:12:09.123456Z")
        );
        assert_eq!(ts("261305 030405 bad month"), None);
        assert_eq!(ts("2605 030405"), None);
    }

    #[test]
    fn unpadded_fields() {
        assert_eq!(
            ts("2026-1-5 3:04:05 x").as_deref(),
            Some("2026-01-05T03:04:05Z")
        );
        assert_eq!(
            ts("2026/1/5 3:4:5 x").as_deref(),
            Some("2026-01-05T03:04:05Z")
        );
    }

    #[test]
    fn month_name_forms() {
        assert_eq!(
            ts("21-Nov-2026 03:12:09.114 INFO [main]").as_deref(),
            Some("2026-11-21T03:12:09.114Z")
        );
        assert_eq!(
            ts("[21/Nov/2026:03:12:09 +0100] x").as_deref(),
            Some("2026-11-21T02:12:09Z")
        );
        assert_eq!(
            ts("[Sat Nov 21 03:12:09.123456 2026] [core:error] x").as_deref(),
            Some("2026-11-21T03:12:09.123456Z")
        );
        assert_eq!(
            ts("Sat Nov 21 03:12:09 CET 2026 x").as_deref(),
            Some("2026-11-21T02:12:09Z")
        );
        assert_eq!(ts("Sat Nov 31 03:12:09 2026"), None);
    }

    #[test]
    fn klog_year_like_syslog() {
        assert_eq!(
            ts("I1121 03:12:09.114567   12345 main.go:12] ready").as_deref(),
            Some("2026-11-21T03:12:09.114567Z")
        );
        assert_eq!(
            ts("E1231 23:00:00.000000   1 x.go:1] boom").as_deref(),
            Some("2025-12-31T23:00:00Z")
        );
        assert_eq!(ts("I11 03:12:09 x"), None);
        assert_eq!(ts("Info 03:12:09"), None);
    }

    #[test]
    fn postgres_prefixes_seen_in_the_data() {
        for (line, want) in [
            (
                "\"2026-05-16 05:11:50.269 UTC\",\"example_user\"",
                "2026-05-16T05:11:50.269Z",
            ),
            (
                "2021-01-22 10:03:22.785 CET,\"aaaa\",\"aaaa\",1486",
                "2021-01-22T09:03:22.785Z",
            ),
            (
                "2020-03-11 20:40:43 CET::@:[12760]:LOG:  starting",
                "2020-03-11T19:40:43Z",
            ),
            (
                "2021-05-27 17:00:00 UTC:10.1.91.65:user@my_db:[24743]:LOG:",
                "2021-05-27T17:00:00Z",
            ),
            (
                "2019-10-21 12:03:31.311 MSK [5133] LOG:  duration",
                "2019-10-21T09:03:31.311Z",
            ),
            (
                "2019-03-14T00:22:56+00:00 app[postgres.4882]: [GREEN] [15-1]",
                "2019-03-14T00:22:56Z",
            ),
            (
                "2018-09-12 16:08:54.775 3392 LOG file descriptor limit",
                "2018-09-12T16:08:54.775Z",
            ),
        ] {
            assert_eq!(ts(line).as_deref(), Some(want), "{line}");
        }
    }

    #[test]
    fn leap_second_is_the_last_instant_of_the_minute() {
        assert_eq!(
            ts("2016-12-31T23:59:60Z leap").as_deref(),
            Some("2016-12-31T23:59:59.999999999Z")
        );
        assert_eq!(ts("2016-12-31T23:59:61Z"), None);
    }

    #[test]
    fn invalid_dates_are_none() {
        for line in [
            "2026-02-29 00:00:00 not a leap year",
            "2026-04-31T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-11-21T24:00:00Z",
            "2026-11-21T23:60:00Z",
            "2026-11-21T23:00:00+25:00",
            "Feb 30 00:00:00 host p:",
            "31/Apr/2026:00:00:00 +0000",
        ] {
            assert_eq!(ts(line), None, "{line:?}");
        }
        // 29 February is accepted in a leap year, and a syslog 29 February
        // read in a year without one is from the last leap year only if
        // that is this or the last year.
        assert_eq!(
            ts("2024-02-29 00:00:00 x").as_deref(),
            Some("2024-02-29T00:00:00Z")
        );
        let march_2025 = TimeContext::new(
            TimeZone::UTC,
            "2025-03-01T00:00:00Z".parse().expect("valid"),
        );
        let got = leading("Feb 29 10:00:00 h p:", &march_2025).map(|t| t.to_string());
        assert_eq!(got.as_deref(), Some("2024-02-29T10:00:00Z"));
    }

    #[test]
    fn syslog_a_day_ahead_is_this_year_more_is_last_year() {
        // Clocks a few hours ahead of ours still read as this year.
        assert_eq!(
            ts("Nov 21 20:00:00 h p:").as_deref(),
            Some("2026-11-21T20:00:00Z")
        );
        assert_eq!(
            ts("Nov 23 20:00:00 h p:").as_deref(),
            Some("2025-11-23T20:00:00Z")
        );
    }
}
