//! Times written in a log line, and in the value of a field.
//!
//! Owns: reading every written form of a point in time into a UTC
//! [`Timestamp`], at a given place of a line ([`Form::read`]), at the start
//! of a line ([`at_start`]), or as a field's value ([`from_value`]). Where a
//! source writes its time is learned elsewhere (`layout`); this module only
//! reads. Must not: read a clock or do I/O (the zone for times written
//! without one, and "now", for forms without a year or a date, come in a
//! [`TimeContext`]). Invariants: never panics on any input; anything not
//! recognised is `None`; an invalid date (30 February, hour 25, 13 PM) is
//! `None`, never a neighbouring date; a time is never followed directly by a
//! letter or digit (`2026-11-21T03:12:09Zulu` is no time).
//!
//! The forms ([`Form`]):
//! - ISO 8601 / RFC 3339 and cousins: `2026-11-21T03:12:09.114Z`,
//!   `2026/11/21 03:12:09`, `2026.11.21 03:12:09`, unpadded fields
//!   (`2026-1-5 3:04:05`), a space-padded hour (`2022-06-08  8:52:40`), the
//!   DB2 form `2026-11-21-03.12.09.123456`;
//! - `20261121 03:12:09`, `20261121-03:12:09:606`, `20261121T031209Z`;
//! - `261121 031209` and `261121  3:12:09` (MySQL 5, HDFS);
//! - numeric dates whose order is learned per source ([`Order`]):
//!   `17/06/09` (yy/MM/dd), `21/11/2026`, `11/21/2026 3:12:09 PM`,
//!   `21.11.2026`, and month and day without a year: `03-17` (logcat),
//!   `10.30` (Proxifier);
//! - `21-Nov-2026 03:12:09.114` (Tomcat), `21/Nov/2026:03:12:09 +0000`
//!   (common log format), `21 Nov 2026 03:12:09`, `Sat, 21 Nov 2026 ...`
//!   (RFC 2822), `13 Apr 12:52:30.731` (no year);
//! - `Sat Nov 21 03:12:09[.ffffff] [ZONE] [2026]` (ctime, Apache);
//! - `Nov 21 03:12:09` (BSD syslog), `Mar-18 21:41:15.684`, `Nov 21, 2026
//!   3:12:09 AM` (java.util.logging), `Nov 21 2026 03:12:09`;
//! - klog/glog `I1121 03:12:09.114567` and `I20261121 03:12:09.114567`;
//! - seconds, milliseconds, microseconds or nanoseconds since the epoch (10,
//!   13, 16 or 19 digits, optional fraction), between 2000 and a day from now;
//! - a time of day alone, `03:12:09.114`, on the present's date (learned
//!   per source only: see `layout`).
//!
//! Clocks: `H:MM[:SS]` or `HH.mm.ss`; a fraction of 1 to 9 digits after `.`,
//! `,` or `:` (more are read and dropped); `AM`/`PM`. Zones: `Z`, `+02:00`,
//! `+0200`, `+02`, after a space too, or an abbreviation (`UTC`, `CEST`,
//! `PDT`, `IST` as India, as lnav reads them); else the context's zone.
//! Forms without a year take the latest year that does not put the time more
//! than a day in the future (the December→January roll); a time of day alone
//! takes the present's date, or the day before if that is more than an hour
//! ahead. Two-digit years are 1969–2068. A leap second (`:60`) is read as
//! the last nanosecond of `:59`.

use std::sync::atomic::{AtomicU64, Ordering};

use jiff::{
    SignedDuration, Timestamp,
    civil::DateTime,
    tz::{Offset, TimeZone},
};

/// What a timestamp that omits something is read against.
#[derive(Debug, Clone)]
pub struct TimeContext {
    /// The zone of timestamps written without one (set by
    /// [`TimeContext::new`]: what it keeps of the zone is not updated when
    /// this field is written).
    pub zone: TimeZone,
    /// The present, to choose the year of syslog timestamps.
    pub now: Timestamp,
    /// `zone`'s offset when it has only one (UTC, a fixed offset): no
    /// rules to look up.
    fixed: Option<Offset>,
    /// The civil second last read in `zone` and its offset there.
    last: LastSecond,
}

impl TimeContext {
    /// Timestamps without a zone are in `zone`; `now` is the present.
    pub fn new(zone: TimeZone, now: Timestamp) -> TimeContext {
        TimeContext {
            fixed: zone.to_fixed_offset().ok(),
            zone,
            now,
            last: LastSecond::default(),
        }
    }

    /// The instant of a civil time in the context's zone. Most lines of a
    /// source share their second with the line before: the offset found for
    /// the last second read is used again for the same civil second (the
    /// same answer: an offset changes only at a whole second), sparing the
    /// zone's rules.
    fn local_timestamp(&self, dt: DateTime) -> Option<Timestamp> {
        if let Some(offset) = self.fixed {
            return offset.to_timestamp(dt).ok();
        }
        let naive = naive_second(dt);
        let nanos = dt.subsec_nanosecond();
        if let Some(naive) = naive
            && let Some(offset) = self.last.offset_of(naive)
        {
            return Timestamp::new(naive - offset, nanos).ok();
        }
        let ts = self.zone.to_timestamp(dt).ok()?;
        if let Some(naive) = naive
            && ts.as_second() >= 0
        {
            self.last.keep(naive, naive - ts.as_second());
        }
        Some(ts)
    }
}

/// The last civil second converted in a zone, packed in one word (so a
/// context shared between threads never mixes two): the civil second since
/// 1970 as if in UTC, shifted past 18 bits holding the offset in seconds
/// plus 2^17. 0 is empty.
#[derive(Debug, Default)]
struct LastSecond(AtomicU64);

/// The bias added to an offset (at most a day and a half either way).
const OFFSET_BIAS: i64 = 1 << 17;

impl Clone for LastSecond {
    fn clone(&self) -> LastSecond {
        LastSecond(AtomicU64::new(self.0.load(Ordering::Relaxed)))
    }
}

impl LastSecond {
    fn offset_of(&self, naive: i64) -> Option<i64> {
        let packed = self.0.load(Ordering::Relaxed);
        (packed != 0 && (packed >> 18) as i64 == naive)
            .then(|| (packed & ((1 << 18) - 1)) as i64 - OFFSET_BIAS)
    }

    fn keep(&self, naive: i64, offset: i64) {
        if (-OFFSET_BIAS..OFFSET_BIAS).contains(&offset) {
            let packed = ((naive as u64) << 18) | (offset + OFFSET_BIAS) as u64;
            self.0.store(packed, Ordering::Relaxed);
        }
    }
}

/// The seconds from 1970-01-01 00:00:00 to `dt`'s whole second, as if both
/// were in UTC; `None` outside 1970–9999 (not cached).
fn naive_second(dt: DateTime) -> Option<i64> {
    let (y, m, d) = (
        i64::from(dt.year()),
        i64::from(dt.month()),
        i64::from(dt.day()),
    );
    if y < 1970 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(
        days * 86_400
            + i64::from(dt.hour()) * 3_600
            + i64::from(dt.minute()) * 60
            + i64::from(dt.second()),
    )
}

/// A time read from a line, and where its text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTime {
    /// The time, in UTC.
    pub ts: Timestamp,
    /// Byte offset of its first byte.
    pub start: usize,
    /// Byte offset just after its last byte (zone included).
    pub end: usize,
    /// The form it is written in (`None`: a configured `time_format`).
    pub form: Option<Form>,
}

/// The order of the parts of a numeric date, learned per source (see
/// `layout`): which is the year, the month and the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// `17/06/09`: year, month, day.
    Ymd,
    /// `21/11/2026`, `21.11.26`: day, month, year.
    Dmy,
    /// `11/21/2026`: month, day, year.
    Mdy,
    /// `03-17`, `10.30`: month, day, no year.
    Md,
    /// `17.03`: day, month, no year.
    Dm,
}

impl Order {
    /// Every order.
    pub const ALL: [Order; 5] = [Order::Ymd, Order::Dmy, Order::Mdy, Order::Md, Order::Dm];

    /// How the order is written in `triage formats`: `yy/MM/dd`, ...
    pub fn pattern(self, sep: char, year_digits: usize) -> String {
        let year = if year_digits == 4 { "yyyy" } else { "yy" };
        match self {
            Order::Ymd => format!("{year}{sep}MM{sep}dd"),
            Order::Dmy => format!("dd{sep}MM{sep}{year}"),
            Order::Mdy => format!("MM{sep}dd{sep}{year}"),
            Order::Md => format!("MM{sep}dd"),
            Order::Dm => format!("dd{sep}MM"),
        }
    }

    /// Whether the order has a year part.
    pub fn has_year(self) -> bool {
        matches!(self, Order::Ymd | Order::Dmy | Order::Mdy)
    }
}

/// A written form of a point in time (see the module's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// `2026-11-21T03:12:09Z` and its cousins (4-digit year first).
    Iso,
    /// `20261121 03:12:09`, `20261121-03:12:09:606`, `20261121T031209`.
    CompactDate,
    /// `261121 031209`, `261121  3:12:09`.
    Compact,
    /// A numeric date in a learned order, then a clock.
    Numeric(Order),
    /// `21-Nov-2026 03:12:09`, `21/Nov/2026:03:12:09 +0000`, `21 Nov ...`.
    DayMonthName,
    /// `Sat Nov 21 03:12:09 2026`.
    Ctime,
    /// `Nov 21 03:12:09`, `Nov 21, 2026 3:12:09 AM`.
    MonthDay,
    /// `I1121 03:12:09.114567`.
    Klog,
    /// Seconds (or ms, µs, ns) since the epoch.
    Epoch,
    /// `03:12:09.114`: a time of day on the present's date.
    Clock,
}

impl Form {
    /// The forms read at the start of a line of a source whose layout is
    /// not known: those that cannot be mistaken (no numeric date whose order
    /// is unknown, no time of day alone).
    pub const UNAMBIGUOUS: [Form; 8] = [
        Form::Iso,
        Form::CompactDate,
        Form::Compact,
        Form::DayMonthName,
        Form::Ctime,
        Form::MonthDay,
        Form::Klog,
        Form::Epoch,
    ];

    /// The time written at `pos` of `line` in this form, and where its text
    /// ends.
    #[inline(always)]
    pub fn read(self, line: &[u8], pos: usize, ctx: &TimeContext) -> Option<(Timestamp, usize)> {
        let mut cur = Cursor { bytes: line, pos };
        let ts = match self {
            Form::Iso => cur.iso(ctx),
            Form::CompactDate => cur.compact_date(ctx),
            Form::Compact => cur.compact(ctx),
            Form::Numeric(order) => cur.numeric(order, ctx),
            Form::DayMonthName => cur.day_month_name(ctx),
            Form::Ctime => cur.ctime(ctx),
            Form::MonthDay => cur.month_day(ctx),
            Form::Klog => cur.klog(ctx),
            Form::Epoch => cur.epoch(ctx),
            Form::Clock => cur.clock_only(ctx),
        }?;
        Some((ts, cur.pos))
    }

    /// The form's name in `triage formats`.
    pub fn describe(self) -> String {
        match self {
            Form::Iso => "ISO 8601 (yyyy-MM-dd HH:mm:ss)".to_owned(),
            Form::CompactDate => "yyyyMMdd HH:mm:ss".to_owned(),
            Form::Compact => "yyMMdd HHmmss".to_owned(),
            Form::Numeric(order) => format!("{} HH:mm:ss", order.pattern('/', 2)),
            Form::DayMonthName => "dd/MMM/yyyy:HH:mm:ss".to_owned(),
            Form::Ctime => "EEE MMM d HH:mm:ss yyyy (ctime)".to_owned(),
            Form::MonthDay => "MMM d HH:mm:ss (syslog)".to_owned(),
            Form::Klog => "Lmmdd HH:mm:ss.uuuuuu (klog/glog)".to_owned(),
            Form::Epoch => "seconds since the epoch".to_owned(),
            Form::Clock => "HH:mm:ss (time of day only)".to_owned(),
        }
    }
}

/// The parts of a numeric date (`17/06/09`, `03-17`) before its order is
/// known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericDate {
    /// The numbers as written, left to right (`c` absent without a year).
    pub parts: [i64; 3],
    /// How many parts there are: 2 or 3.
    pub count: usize,
    /// Digits in each part.
    pub widths: [usize; 3],
    /// The separator: `/`, `.` or `-`.
    pub sep: u8,
}

impl NumericDate {
    /// Year, month and day of the date in `order` (the year `None` for the
    /// orders without one), if the parts fit it: a 4-digit part only as the
    /// year, a month of 1 to 12, a day of 1 to 31.
    pub fn ymd(&self, order: Order) -> Option<(Option<i64>, i64, i64)> {
        let [a, b, c] = self.parts;
        let [wa, wb, wc] = self.widths;
        let (year, month, day, year_width) = match (order, self.count) {
            (Order::Ymd, 3) if wb <= 2 && wc <= 2 => (Some(a), b, c, wa),
            (Order::Dmy, 3) if wa <= 2 && wb <= 2 => (Some(c), b, a, wc),
            (Order::Mdy, 3) if wa <= 2 && wb <= 2 => (Some(c), a, b, wc),
            (Order::Md, 2) if wa <= 2 && wb <= 2 => (None, a, b, 2),
            (Order::Dm, 2) if wa <= 2 && wb <= 2 => (None, b, a, 2),
            _ => return None,
        };
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        let year = match (year, year_width) {
            (None, _) => None,
            (Some(y), 4) => Some(y),
            (Some(y), 2) => Some(if y < 69 { 2000 + y } else { 1900 + y }),
            _ => return None,
        };
        Some((year, month, day))
    }
}

/// The parts of the numeric date at `pos`, followed by the separator
/// before a clock (for learning its order).
pub fn numeric_date_at(line: &[u8], pos: usize) -> Option<NumericDate> {
    let mut cur = Cursor { bytes: line, pos };
    let date = cur.numeric_parts()?;
    cur.date_time_separator()?;
    Some(date)
}

/// The time at the start of `line`, if there is one, in one of the
/// [unambiguous](Form::UNAMBIGUOUS) forms: after an optional syslog `<PRI>`
/// and RFC 5424 version, and an optional `[`, `(` or `"`; and the common
/// log format's `[dd/Mon/yyyy:HH:MM:SS +zzzz]` after at most three client
/// fields.
pub fn at_start(line: &str, ctx: &TimeContext) -> Option<LineTime> {
    let bytes = line.as_bytes();
    // No form starts with a blank: a stack trace's lines are none.
    if matches!(bytes.first(), None | Some(b' ' | b'\t')) {
        return None;
    }
    let mut cur = Cursor { bytes, pos: 0 };
    cur.skip_syslog_priority();
    let start = cur.pos;
    if !(cur.eat(b'[') || cur.eat(b'(')) {
        cur.eat(b'"');
    }
    let opened = cur.pos;
    for form in [
        Form::Iso,
        Form::CompactDate,
        Form::Compact,
        Form::DayMonthName,
        Form::Ctime,
        Form::MonthDay,
    ] {
        if let Some((ts, end)) = form.read(bytes, opened, ctx) {
            return Some(LineTime {
                ts,
                start: opened,
                end,
                form: Some(form),
            });
        }
    }
    for form in [Form::MonthDay, Form::Klog, Form::Epoch] {
        if let Some((ts, end)) = form.read(bytes, start, ctx) {
            return Some(LineTime {
                ts,
                start,
                end,
                form: Some(form),
            });
        }
    }
    date_then_clock(bytes, opened, ctx).or_else(|| common_log_format(line, ctx))
}

/// The most words of a log prefix between a date written alone and its
/// time of day ([`date_then_clock`]).
const WORDS_BEFORE_CLOCK: usize = 4;

/// `yyyy-MM-dd` alone, then a few words of a log prefix, then the time of
/// day as a word of its own (`HH:mm:ss`, a fraction, a zone): the date at
/// that time, as lnav reads a format whose `time-field` holds the time
/// (ESXi's `2022-06-02 In(14) hostprofile[1001430319]: 05:34:23.666 ...`).
/// A prefix word holds a digit or a bracket, or is an upper-case word; the
/// first other word (prose: `2026-11-21 backup ran at 03:00:00`) ends the
/// search, so a time in a message is not taken, nor is a date alone read as
/// midnight.
fn date_then_clock(bytes: &[u8], pos: usize, ctx: &TimeContext) -> Option<LineTime> {
    let date = bytes.get(pos..pos + 11)?;
    let digit = |i: usize| date[i].is_ascii_digit();
    if !(date[4] == b'-'
        && date[7] == b'-'
        && matches!(date[10], b' ' | b'\t')
        && [0, 1, 2, 3, 5, 6, 8, 9].into_iter().all(digit))
    {
        return None;
    }
    let mut cur = Cursor { bytes, pos };
    let year = cur.exact_digits(4)?;
    cur.pos += 1;
    let month = cur.exact_digits(2)?;
    cur.pos += 1;
    let day = cur.exact_digits(2)?;
    let limit = bytes.len().min(200);
    let mut at = pos + 10;
    for _ in 0..=WORDS_BEFORE_CLOCK {
        while at < limit && matches!(bytes[at], b' ' | b'\t') {
            at += 1;
        }
        let end = bytes[at..limit]
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .map_or(limit, |i| at + i);
        let word = &bytes[at..end];
        let clock = word.len() >= 8
            && word[2] == b':'
            && word[5] == b':'
            && [0, 1, 3, 4, 6, 7].iter().all(|&i| word[i].is_ascii_digit());
        if clock {
            let mut cur = Cursor { bytes, pos: at };
            let (hour, minute, second, nanos) = cur.clock()?;
            let dt = civil(year, month, day, hour, minute, second, nanos)?;
            let ts = cur.zoned(dt, ctx)?;
            return Some(LineTime {
                ts,
                start: pos,
                end: cur.pos,
                form: Some(Form::Iso),
            });
        }
        let prefix_word = word
            .iter()
            .any(|b| b.is_ascii_digit() || matches!(b, b'[' | b'(' | b'<' | b'{'))
            || (word.len() >= 2 && word.iter().all(u8::is_ascii_uppercase));
        if !prefix_word {
            return None;
        }
        at = end;
    }
    None
}

/// The timestamp at the start of `line` ([`at_start`]), without where.
pub fn leading(line: &str, ctx: &TimeContext) -> Option<Timestamp> {
    at_start(line, ctx).map(|found| found.ts)
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
/// seconds (11 digits or fewer), milliseconds (12 to 14), microseconds (15
/// to 17) or nanoseconds (18 or 19), with an optional fraction of that unit.
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
fn common_log_format(line: &str, ctx: &TimeContext) -> Option<LineTime> {
    let head = &line.as_bytes()[..line.len().min(200)];
    let open = head.iter().position(|&b| b == b'[')?;
    if head[..open].iter().filter(|&&b| b == b' ').count() > 3 {
        return None;
    }
    let (ts, end) = Form::DayMonthName.read(head, open + 1, ctx)?;
    Some(LineTime {
        ts,
        start: open + 1,
        end,
        form: Some(Form::DayMonthName),
    })
}

/// The earliest time an epoch number may stand for: 2000-01-01.
const EPOCH_MIN_SECONDS: i64 = 946_684_800;

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
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

    fn digit_next(&self) -> bool {
        matches!(self.peek(), Some(b'0'..=b'9'))
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
        if self.pos - start >= min {
            Some(value)
        } else {
            self.pos = start;
            None
        }
    }

    /// Exactly `n` digits, not followed by another.
    fn exact_digits(&mut self, n: usize) -> Option<i64> {
        let start = self.pos;
        let value = self.digits(n, n)?;
        if self.digit_next() {
            self.pos = start;
            return None;
        }
        Some(value)
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

    /// `H:MM[:SS[frac]]` or `HH.mm.ss[frac]`, then an optional `AM`/`PM`
    /// (which makes an hour of 1 to 12 one of 0 to 23). The fraction is 1 to
    /// 9 digits after `.` or `,`; after `:`, 1 to 3 digits are milliseconds
    /// and more a fraction.
    fn clock(&mut self) -> Option<(i64, i64, i64, i64)> {
        let start = self.pos;
        let hour = self.digits(1, 2)?;
        let dotted = self.peek() == Some(b'.');
        let (minute, second) = if dotted {
            if self.pos - start != 2 {
                return None;
            }
            self.pos += 1;
            let minute = self.exact_digits(2)?;
            self.expect(b'.')?;
            (minute, Some(self.exact_digits(2)?))
        } else {
            self.expect(b':')?;
            let minute = self.digits(1, 2)?;
            let second =
                if self.peek() == Some(b':') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
                    self.pos += 1;
                    Some(self.digits(1, 2)?)
                } else {
                    None
                };
            (minute, second)
        };
        let second_read = second.is_some() || dotted;
        self.clock_rest(hour, minute, second.unwrap_or(0), dotted, second_read)
    }

    /// The rest of a clock after its hour, minutes and (when
    /// `second_read`) seconds: the fraction, `AM`/`PM`.
    fn clock_rest(
        &mut self,
        hour: i64,
        minute: i64,
        second: i64,
        dotted: bool,
        second_read: bool,
    ) -> Option<(i64, i64, i64, i64)> {
        let mut nanos = 0;
        let mark = self.pos;
        match self.peek() {
            Some(b'.' | b',') => {
                self.pos += 1;
                match self.fraction() {
                    Some(fraction) => nanos = fraction,
                    None => self.pos = mark,
                }
            }
            // `HH:mm:ss:SSS`: milliseconds, written unpadded by some
            // (HealthApp's `22:15:35:11` is 11 ms); more digits are a
            // fraction (SSSD's `:259149`).
            Some(b':') if !dotted && second_read => {
                self.pos += 1;
                let digits_start = self.pos;
                match self.fraction() {
                    Some(fraction) => {
                        let digits = self.pos - digits_start;
                        nanos = match digits {
                            1..=3 => fraction / 10_i64.pow(9 - digits as u32) * 1_000_000,
                            _ => fraction,
                        };
                    }
                    None => self.pos = mark,
                }
            }
            _ => {}
        }
        let hour = self.meridiem(hour)?;
        Some((hour, minute, second, nanos))
    }

    /// An `AM`/`PM` after a clock (after a space or not): the hour on a
    /// 24-hour clock; the hour as it is when there is none.
    fn meridiem(&mut self, hour: i64) -> Option<i64> {
        let mark = self.pos;
        self.eat(b' ');
        let word = [self.peek(), self.peek_at(1)];
        let pm = match word {
            [Some(b'A' | b'a'), Some(b'M' | b'm')] => false,
            [Some(b'P' | b'p'), Some(b'M' | b'm')] => true,
            _ => {
                self.pos = mark;
                return Some(hour);
            }
        };
        if matches!(self.peek_at(2), Some(b) if b.is_ascii_alphanumeric()) {
            self.pos = mark;
            return Some(hour);
        }
        self.pos += 2;
        if !(1..=12).contains(&hour) {
            return None;
        }
        Some(hour % 12 + if pm { 12 } else { 0 })
    }

    /// Fraction digits (the separator already read) as nanoseconds; digits
    /// beyond nanoseconds are read and dropped.
    fn fraction(&mut self) -> Option<i64> {
        let start = self.pos;
        let fraction = self.digits(1, 9)?;
        let scale = 9 - (self.pos - start) as u32;
        while self.digit_next() {
            self.pos += 1;
        }
        Some(fraction * 10_i64.pow(scale))
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

    /// A zone abbreviation after a space (or directly): ` UTC`, ` CEST`.
    fn zone_abbreviation(&mut self) -> Option<Offset> {
        let start = self.pos;
        self.eat(b' ');
        let word_start = self.pos;
        // The upper-case letters here, counted up to five without a branch
        // per letter (a level word follows most times: `INFO`, `DEBUG`,
        // whose lengths vary from line to line).
        let (mut letters, mut run) = (0, true);
        for ahead in 0..5 {
            run &= matches!(self.peek_at(ahead), Some(b'A'..=b'Z'));
            letters += usize::from(run);
        }
        // Every abbreviation known ends in T, C, K or Z and is 1 to 4
        // letters: a level word after the time is turned away at once.
        let shaped = (1..=4).contains(&letters)
            && matches!(
                self.bytes[word_start + letters - 1],
                b'T' | b'C' | b'K' | b'Z'
            );
        if !shaped {
            self.pos = start;
            return None;
        }
        self.pos = word_start + letters;
        let word = &self.bytes[word_start..self.pos];
        let word = std::str::from_utf8(word).unwrap_or("");
        let next_is_word = matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric());
        match abbreviation_offset(word) {
            Some(seconds) if !next_is_word => Offset::from_seconds(seconds).ok(),
            _ => {
                self.pos = start;
                None
            }
        }
    }

    /// The zone after a civil time (an offset, a space and an offset, or a
    /// zone abbreviation; else the context's zone), provided no letter or
    /// digit follows: then it was not a time.
    fn zoned(&mut self, dt: DateTime, ctx: &TimeContext) -> Option<Timestamp> {
        let offset = self.zone();
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric()) {
            return None;
        }
        // An offset that did not read (`+25:00`) makes the whole time invalid.
        let sign = matches!(self.peek(), Some(b'+' | b'-'));
        if offset.is_none() && sign && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
            return None;
        }
        match offset {
            Some(offset) => offset.to_timestamp(dt).ok(),
            None => ctx.local_timestamp(dt),
        }
    }

    /// An offset, a space and an offset, or an abbreviation.
    fn zone(&mut self) -> Option<Offset> {
        // Dispatched on what every zone starts with (after a space or
        // not): `Z`, `z` or a sign (an offset), an upper-case letter (an
        // abbreviation); anything else at once. An offset that does not
        // read is no abbreviation either.
        match (self.peek(), self.peek_at(1)) {
            (Some(b'Z' | b'z' | b'+' | b'-'), _) => self.offset(),
            (Some(b' '), Some(b'Z' | b'z' | b'+' | b'-')) => {
                let mark = self.pos;
                self.pos += 1;
                if let Some(offset) = self.offset() {
                    return Some(offset);
                }
                self.pos = mark;
                self.zone_abbreviation()
            }
            (Some(b'A'..=b'Z'), _) | (Some(b' '), Some(b'A'..=b'Z')) => self.zone_abbreviation(),
            _ => None,
        }
    }

    /// What separates a date from its clock: `T`, one or two spaces (a
    /// space-padded hour), `, ` (`11/21/2026, 3:12:09 PM`).
    fn date_time_separator(&mut self) -> Option<()> {
        if self.eat(b'T') || self.eat(b't') {
            return Some(());
        }
        self.eat(b',');
        self.expect(b' ')?;
        if self.peek() == Some(b' ') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        Some(())
    }

    /// ISO 8601 / RFC 3339 and its space-, slash- and dot-separated cousins,
    /// and the DB2 form `yyyy-MM-dd-HH.mm.ss.ffffff`.
    fn iso(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        if let Some(ts) = self.iso_fixed(ctx) {
            return ts;
        }
        let year = self.exact_digits(4)?;
        let separator = self.peek().filter(|b| matches!(b, b'-' | b'/' | b'.'))?;
        self.pos += 1;
        let month = self.digits(1, 2)?;
        self.expect(separator)?;
        let day = self.digits(1, 2)?;
        if self.digit_next() {
            return None;
        }
        let (hour, minute, second, nanos) = if separator == b'-' && self.eat(b'-') {
            self.dotted_clock()?
        } else {
            self.date_time_separator()?;
            self.clock()?
        };
        let dt = civil(year, month, day, hour, minute, second, nanos)?;
        self.zoned(dt, ctx)
    }

    /// The commonest shape, `yyyy-MM-dd[T ]HH:mm:ss`, read by position
    /// (then the fraction and the zone as for any clock): `Some` with what
    /// [`Cursor::iso`] would give when the bytes have that shape, `None`
    /// (the cursor unmoved) when they do not.
    fn iso_fixed(&mut self, ctx: &TimeContext) -> Option<Option<Timestamp>> {
        let b = self.bytes.get(self.pos..self.pos + 19)?;
        if !(b[4] == b'-'
            && b[7] == b'-'
            && (b[10] == b'T' || b[10] == b' ')
            && b[13] == b':'
            && b[16] == b':')
        {
            return None;
        }
        // `yyyy-MM-` and `HH:mm:ss` eight digits at a time, the day's two
        // alone: no call per field.
        let date = digits8(&b[..8], SEPARATORS_4_7)?;
        let clock = digits8(&b[11..], SEPARATORS_2_5)?;
        let (d8, d9) = (b[8].wrapping_sub(b'0'), b[9].wrapping_sub(b'0'));
        if d8 >= 10 || d9 >= 10 {
            return None;
        }
        let digit = |word: u64, i: u32| ((word >> (8 * i)) & 0xff) as i64;
        let two = |word: u64, i: u32| digit(word, i) * 10 + digit(word, i + 1);
        let year = two(date, 0) * 100 + two(date, 2);
        let (month, day) = (two(date, 5), i64::from(d8) * 10 + i64::from(d9));
        let (hour, minute, second) = (two(clock, 0), two(clock, 3), two(clock, 6));
        if self
            .bytes
            .get(self.pos + 19)
            .is_some_and(u8::is_ascii_digit)
        {
            return None;
        }
        self.pos += 19;
        let read = (|| {
            let (hour, minute, second, nanos) =
                self.clock_rest(hour, minute, second, false, true)?;
            let dt = civil(year, month, day, hour, minute, second, nanos)?;
            self.zoned(dt, ctx)
        })();
        Some(read)
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

    /// `yyyyMMdd` then a space, `-`, `T` or `_`, then `HH:mm:ss` or
    /// `HHmmss` (a year from 1970 to 2100).
    fn compact_date(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        let date = self.exact_digits(8)?;
        let (year, month, day) = (date / 10_000, date / 100 % 100, date % 100);
        if !(1970..=2100).contains(&year) {
            return None;
        }
        if !(self.eat(b' ') || self.eat(b'-') || self.eat(b'T') || self.eat(b'_')) {
            return None;
        }
        let (hour, minute, second, nanos) = self.hms_or_clock()?;
        let dt = civil(year, month, day, hour, minute, second, nanos)?;
        self.zoned(dt, ctx)
    }

    /// `HHmmss[.fff]` (six digits) or a [`Cursor::clock`].
    fn hms_or_clock(&mut self) -> Option<(i64, i64, i64, i64)> {
        let start = self.pos;
        if let Some(hms) = self.exact_digits(6)
            && self.peek() != Some(b':')
        {
            let nanos = match self.peek() {
                Some(b'.' | b',') if matches!(self.peek_at(1), Some(b'0'..=b'9')) => {
                    self.pos += 1;
                    self.fraction()?
                }
                _ => 0,
            };
            return Some((hms / 10_000, hms / 100 % 100, hms % 100, nanos));
        }
        self.pos = start;
        self.clock()
    }

    /// Compact `yyMMdd HHmmss`, or `yyMMdd H:MM:SS` with the hour padded by
    /// a space (MySQL 5 error log). The year is 20yy.
    fn compact(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        let date = self.exact_digits(6)?;
        self.expect(b' ')?;
        self.eat(b' ');
        let (hour, minute, second, nanos) = self.hms_or_clock()?;
        let dt = civil(
            2000 + date / 10_000,
            date / 100 % 100,
            date % 100,
            hour,
            minute,
            second,
            nanos,
        )?;
        self.zoned(dt, ctx)
    }

    /// Two or three numbers separated by `/`, `.` or `-` (the same twice),
    /// not followed by another digit or separator.
    fn numeric_parts(&mut self) -> Option<NumericDate> {
        let start = self.pos;
        let mut parts = [0; 3];
        let mut widths = [0; 3];
        let mut sep = 0;
        let mut count = 0;
        while count < 3 {
            let at = self.pos;
            let Some(value) = self.digits(1, 4) else {
                break;
            };
            if self.digit_next() {
                break;
            }
            parts[count] = value;
            widths[count] = self.pos - at;
            count += 1;
            let next = self.peek();
            let is_sep = matches!(next, Some(b'/' | b'.' | b'-'))
                && matches!(self.peek_at(1), Some(b'0'..=b'9'));
            if count == 3 || !is_sep {
                break;
            }
            let next = next.unwrap_or(0);
            if count == 1 {
                sep = next;
            } else if next != sep {
                break;
            }
            self.pos += 1;
        }
        let sep_next = matches!(self.peek(), Some(b'/' | b'.' | b'-'))
            && matches!(self.peek_at(1), Some(b'0'..=b'9'));
        if count < 2 || sep_next || widths[..count].contains(&3) {
            self.pos = start;
            return None;
        }
        Some(NumericDate {
            parts,
            count,
            widths,
            sep,
        })
    }

    /// A numeric date in `order`, then a clock.
    fn numeric(&mut self, order: Order, ctx: &TimeContext) -> Option<Timestamp> {
        let date = self.numeric_parts()?;
        let (year, month, day) = date.ymd(order)?;
        self.date_time_separator()?;
        let clock = self.clock()?;
        match year {
            Some(year) => {
                let (hour, minute, second, nanos) = clock;
                let dt = civil(year, month, day, hour, minute, second, nanos)?;
                self.zoned(dt, ctx)
            }
            None => {
                let offset = self.zone();
                if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric()) {
                    return None;
                }
                without_year(month, day, clock, offset, ctx)
            }
        }
    }

    /// `dd-Mon-yyyy HH:MM:SS.fff` (Tomcat), `dd/Mon/yyyy:HH:MM:SS +zzzz`
    /// (the common log format's time), `dd/Mon/yyyy HH:MM:SS`, `dd Mon yyyy
    /// HH:MM:SS`, RFC 2822's `Sat, 21 Nov 2026 03:12:09 +0000`, and without
    /// a year `dd Mon HH:MM:SS.fff` (Redis 2).
    fn day_month_name(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        if self.weekday() {
            self.expect(b',')?;
            self.expect(b' ')?;
        }
        let day = self.digits(1, 2)?;
        let separator = self.peek().filter(|b| matches!(b, b'-' | b'/' | b' '))?;
        self.pos += 1;
        let month = self.month_name()?;
        self.expect(separator)?;
        let mark = self.pos;
        let year = match self.exact_digits(4) {
            Some(year) if self.eat(b':') || self.eat(b' ') => Some(year),
            _ => {
                self.pos = mark;
                None
            }
        };
        if year.is_none() && separator != b' ' {
            return None;
        }
        let (hour, minute, second, nanos) = self.clock()?;
        match year {
            Some(year) => {
                let dt = civil(year, month, day, hour, minute, second, nanos)?;
                self.zoned(dt, ctx)
            }
            None => {
                let offset = self.zone();
                if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric()) {
                    return None;
                }
                without_year(month, day, (hour, minute, second, nanos), offset, ctx)
            }
        }
    }

    /// A weekday's three-letter name, read when there is one.
    fn weekday(&mut self) -> bool {
        const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
        let Some(word) = self.bytes.get(self.pos..self.pos + 3) else {
            return false;
        };
        let found = DAYS.iter().any(|d| d.eq_ignore_ascii_case(word))
            && !matches!(self.peek_at(3), Some(b) if b.is_ascii_alphabetic());
        if found {
            self.pos += 3;
        }
        found
    }

    /// `Sat Nov 21 03:12:09[.ffffff] [ZONE] [2026]`: ctime, `date`, and the
    /// Apache error log's `[Sat Nov 21 03:12:09.123456 2026]`; without the
    /// year as for syslog.
    fn ctime(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        if !self.weekday() {
            return None;
        }
        self.eat(b',');
        self.expect(b' ')?;
        let month = self.month_name()?;
        self.expect(b' ')?;
        self.eat(b' ');
        let day = self.digits(1, 2)?;
        self.expect(b' ')?;
        let clock = self.clock()?;
        let offset = self.zone();
        let mark = self.pos;
        let year = match self.eat(b' ') {
            true => self.exact_digits(4),
            false => None,
        };
        if year.is_none() {
            self.pos = mark;
        }
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric()) {
            return None;
        }
        let Some(year) = year else {
            return without_year(month, day, clock, offset, ctx);
        };
        let (hour, minute, second, nanos) = clock;
        let dt = civil(year, month, day, hour, minute, second, nanos)?;
        match offset {
            Some(offset) => offset.to_timestamp(dt).ok(),
            None => ctx.local_timestamp(dt),
        }
    }

    /// BSD syslog `Mmm dd HH:MM:SS` (and `Mmm-dd`, Nextflow), with the year
    /// chosen so that the time is not in the future; with a year:
    /// `Nov 21, 2026 3:12:09 AM` (java.util.logging), `Nov 21 2026
    /// 03:12:09`, `Nov 21 03:12:09 2026`.
    fn month_day(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        let month = self.month_name()?;
        if !self.eat(b'-') {
            self.expect(b' ')?;
            self.eat(b' ');
        }
        let day = self.digits(1, 2)?;
        let comma = self.eat(b',');
        self.expect(b' ')?;
        let mark = self.pos;
        let mut year = match self.exact_digits(4) {
            Some(year) if self.eat(b' ') => Some(year),
            _ => {
                self.pos = mark;
                None
            }
        };
        if comma && year.is_none() {
            return None;
        }
        let clock = self.clock()?;
        if year.is_none() {
            let mark = self.pos;
            year = match self.eat(b' ') {
                true => self.exact_digits(4),
                false => None,
            };
            if year.is_none() || matches!(self.peek(), Some(b':')) {
                year = None;
                self.pos = mark;
            }
        }
        match year {
            Some(year) => {
                let (hour, minute, second, nanos) = clock;
                let dt = civil(year, month, day, hour, minute, second, nanos)?;
                self.zoned(dt, ctx)
            }
            None => {
                let offset = self.zone();
                if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric()) {
                    return None;
                }
                without_year(month, day, clock, offset, ctx)
            }
        }
    }

    /// klog (Kubernetes, glog): `I1121 03:12:09.114567`, the level letter
    /// then month and day (the year as for syslog), or year, month and day.
    fn klog(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        if !matches!(self.peek(), Some(b'I' | b'W' | b'E' | b'F' | b'C')) {
            return None;
        }
        self.pos += 1;
        let start = self.pos;
        let date = self.digits(4, 8)?;
        let width = self.pos - start;
        if width != 4 && width != 8 {
            return None;
        }
        self.expect(b' ')?;
        let clock = self.clock()?;
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric()) {
            return None;
        }
        if width == 8 {
            let (hour, minute, second, nanos) = clock;
            let dt = civil(
                date / 10_000,
                date / 100 % 100,
                date % 100,
                hour,
                minute,
                second,
                nanos,
            )?;
            return ctx.local_timestamp(dt);
        }
        without_year(date / 100, date % 100, clock, None, ctx)
    }

    /// Seconds (10 digits), milliseconds (13), microseconds (16) or
    /// nanoseconds (19) since the epoch, an optional `.fraction`, an
    /// optional `+` before (tcsh history's `#+1375138067`), followed by a
    /// space, a tab, the end, or punctuation that is not part of a date;
    /// between 2000 and a day after the present.
    fn epoch(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        self.eat(b'+');
        let start = self.pos;
        while self.digit_next() {
            self.pos += 1;
        }
        let whole = self.pos - start;
        if !matches!(whole, 10 | 13 | 16 | 19) {
            return None;
        }
        if self.peek() == Some(b'.') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
            self.pos += 1;
            while self.digit_next() {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'-' | b':' | b'/' | b'.'))
        {
            return None;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).ok()?;
        let ts = epoch_number(text)?;
        let latest = ctx.now.checked_add(SignedDuration::from_hours(24)).ok()?;
        (ts.as_second() >= EPOCH_MIN_SECONDS && ts <= latest).then_some(ts)
    }

    /// `HH:MM:SS[.fff]` alone: the present's date in the context's zone, or
    /// the day before when that puts it more than an hour ahead.
    fn clock_only(&mut self, ctx: &TimeContext) -> Option<Timestamp> {
        // `HH:MM:SS`: seconds are required (`12:30` alone is too easily
        // something else).
        let shape = self.bytes.get(self.pos..self.pos + 8).is_some_and(|b| {
            b[2] == b':'
                && b[5] == b':'
                && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit())
        });
        if !shape {
            return None;
        }
        let clock = self.clock()?;
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b':') {
            return None;
        }
        self.on_present_date(clock, ctx)
    }

    /// A time of day on the present's date, or the day before when that
    /// puts it more than an hour ahead.
    fn on_present_date(
        &mut self,
        (hour, minute, second, nanos): (i64, i64, i64, i64),
        ctx: &TimeContext,
    ) -> Option<Timestamp> {
        let today = ctx.now.to_zoned(ctx.zone.clone()).date();
        let latest = ctx.now.checked_add(SignedDuration::from_hours(1)).ok()?;
        for date in [Some(today), today.yesterday().ok()].into_iter().flatten() {
            let dt = civil(
                i64::from(date.year()),
                i64::from(date.month()),
                i64::from(date.day()),
                hour,
                minute,
                second,
                nanos,
            )?;
            let ts = ctx.local_timestamp(dt)?;
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

/// The parts of a time as a `time_format` read them (see
/// `time_format`), before they are put together.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Parts {
    pub year: Option<i64>,
    pub month: Option<i64>,
    pub day: Option<i64>,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    pub nanos: i64,
    pub offset: Option<Offset>,
    /// `%s`: the time itself.
    pub epoch: Option<Timestamp>,
}

/// The time `parts` stand for: the epoch if read; without a year as for
/// syslog; without a date, on the present's date as for a time of day
/// alone.
pub(super) fn resolve(parts: Parts, ctx: &TimeContext) -> Option<Timestamp> {
    if let Some(ts) = parts.epoch {
        return Some(ts);
    }
    let clock = (parts.hour, parts.minute, parts.second, parts.nanos);
    match (parts.year, parts.month, parts.day) {
        (Some(year), Some(month), Some(day)) => {
            let dt = civil(year, month, day, clock.0, clock.1, clock.2, clock.3)?;
            match parts.offset {
                Some(offset) => offset.to_timestamp(dt).ok(),
                None => ctx.local_timestamp(dt),
            }
        }
        (None, Some(month), Some(day)) => without_year(month, day, clock, parts.offset, ctx),
        (None, None, None) => {
            let mut cur = Cursor { bytes: b"", pos: 0 };
            cur.on_present_date(clock, ctx)
        }
        _ => None,
    }
}

/// An offset (`Z`, `+02:00`, `+0200`, `+02`) at `pos`, and where it ends.
pub(super) fn offset_at(line: &[u8], pos: usize) -> Option<(Offset, usize)> {
    let mut cur = Cursor { bytes: line, pos };
    let offset = cur.offset()?;
    Some((offset, cur.pos))
}

/// A zone abbreviation (`UTC`, `CEST`) at `pos`, and where it ends.
pub(super) fn abbreviation_at(line: &[u8], pos: usize) -> Option<(Offset, usize)> {
    if line.get(pos) == Some(&b' ') {
        return None;
    }
    let mut cur = Cursor { bytes: line, pos };
    let offset = cur.zone_abbreviation()?;
    Some((offset, cur.pos))
}

/// A month's three-letter name at `pos` (any case): its number and where it
/// ends.
pub(super) fn month_at(line: &[u8], pos: usize) -> Option<(i64, usize)> {
    let mut cur = Cursor { bytes: line, pos };
    let month = cur.month_name()?;
    Some((month, cur.pos))
}

/// A weekday's three-letter name at `pos`: where it ends.
pub(super) fn weekday_at(line: &[u8], pos: usize) -> Option<usize> {
    let mut cur = Cursor { bytes: line, pos };
    cur.weekday().then_some(cur.pos)
}

/// A number since the epoch at `pos` (magnitude decides the unit, as for a
/// field's value), and where it ends.
pub(super) fn epoch_at(line: &[u8], pos: usize) -> Option<(Timestamp, usize)> {
    let mut end = pos;
    while line.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    if line.get(end) == Some(&b'.') && line.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end += 1;
        while line.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    let text = std::str::from_utf8(&line[pos..end]).ok()?;
    Some((epoch_number(text)?, end))
}

/// A month, day and time of a form that writes no year: the latest year
/// (this one or the last) that does not put the time in the future. A day of
/// grace allows for clocks that run slightly ahead of ours.
fn without_year(
    month: i64,
    day: i64,
    (hour, minute, second, nanos): (i64, i64, i64, i64),
    offset: Option<Offset>,
    ctx: &TimeContext,
) -> Option<Timestamp> {
    let now_year = i64::from(ctx.now.to_zoned(ctx.zone.clone()).year());
    let latest = ctx.now.checked_add(SignedDuration::from_hours(24)).ok()?;
    for year in [now_year, now_year - 1] {
        let Some(dt) = civil(year, month, day, hour, minute, second, nanos) else {
            continue; // 29 February in a year that has none.
        };
        let ts = match offset {
            Some(offset) => offset.to_timestamp(dt).ok()?,
            None => ctx.local_timestamp(dt)?,
        };
        if ts <= latest {
            return Some(ts);
        }
    }
    None
}

/// The separators of `yyyy-MM-` (bytes 4 and 7) in an eight-byte word.
const SEPARATORS_4_7: u64 = 0xff00_00ff_0000_0000;
/// The separators of `HH:mm:ss` (bytes 2 and 5) in an eight-byte word.
const SEPARATORS_2_5: u64 = 0x0000_ff00_00ff_0000;

/// Eight bytes (little-endian, the first the lowest) as their digits'
/// values, one per byte, the bytes `separators` marks read as `0`; `None`
/// if any other is no ASCII digit.
fn digits8(bytes: &[u8], separators: u64) -> Option<u64> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let chunk: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    let word = (u64::from_le_bytes(chunk) & !separators) | ((ONES * u64::from(b'0')) & separators);
    // A byte below `0` borrows and sets its high bit; one above `9` sets
    // it when 0x76 is added. Either fails the whole word, so what a borrow
    // or a carry does to the bytes above does not matter.
    let values = word.wrapping_sub(ONES * u64::from(b'0'));
    let high = (values | values.wrapping_add(ONES * 0x76)) & (ONES * 0x80);
    (high == 0).then_some(values)
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

/// UTC offset in seconds of the zone abbreviations log writers print: those
/// lnav reads (IST is India's, as there) and a few more. Ambiguous ones
/// lnav leaves out (BST, ...) are left out here too.
fn abbreviation_offset(word: &str) -> Option<i32> {
    let minutes = match word {
        "UTC" | "GMT" | "UT" | "Z" | "WET" => 0,
        "WEST" | "CET" | "MET" | "WAT" => 60,
        "CEST" | "CEDT" | "MEST" | "EET" | "CAT" | "SAST" => 120,
        "EEST" | "MSK" | "EAT" | "IDT" => 180,
        "IST" => 330,
        "HKT" | "SGT" | "AWST" => 480,
        "JST" | "KST" => 540,
        "AEST" => 600,
        "AEDT" => 660,
        "NZST" => 720,
        "NZDT" => 780,
        "NST" => -210,
        "NDT" => -150,
        "AST" => -240,
        "ADT" => -180,
        "EST" => -300,
        "EDT" => -240,
        "CST" => -360,
        "CDT" => -300,
        "MST" => -420,
        "MDT" => -360,
        "PST" => -480,
        "PDT" => -420,
        "AKST" => -540,
        "AKDT" => -480,
        "HST" => -600,
        _ => return None,
    };
    Some(minutes * 60)
}
#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn eight_digits_at_once_as_one_at_a_time(
            bytes in proptest::collection::vec(proptest::prop_oneof![
                proptest::prelude::Just(b'0'), proptest::prelude::Just(b'9'), proptest::prelude::Just(b'5'),
                proptest::prelude::Just(b'/'), proptest::prelude::Just(b':'), proptest::prelude::Just(b'-'),
                proptest::prelude::Just(0x00_u8), proptest::prelude::Just(0xb0_u8), proptest::prelude::Just(0xff_u8),
            ], 8),
            separators in proptest::prop_oneof![
                proptest::prelude::Just(SEPARATORS_4_7), proptest::prelude::Just(SEPARATORS_2_5)
            ],
        ) {
            let want = (0..8).try_fold(0_u64, |word, i| {
                let separator = (separators >> (8 * i)) & 0xff != 0;
                let value = if separator { 0 } else { bytes[i].wrapping_sub(b'0') };
                (value < 10).then_some(word | u64::from(value) << (8 * i))
            });
            proptest::prop_assert_eq!(digits8(&bytes, separators), want);
        }
    }

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
    fn a_date_alone_takes_the_time_of_day_after_a_log_prefix() {
        // ESXi writes the date, the level, the program, then the time.
        assert_eq!(
            ts("2022-06-02 In(14) hostprofile[1001430319]: 05:34:23.666 {'mode': 'Disabled'}")
                .as_deref(),
            Some("2022-06-02T05:34:23.666Z")
        );
        assert_eq!(
            ts("2026-11-21 ERROR [job-7] 03:00:01 +0100 nightly export failed").as_deref(),
            Some("2026-11-21T02:00:01Z")
        );
        // A word of prose before it: the time is the message's; a date
        // alone is no time (midnight would be a wrong one).
        for line in [
            "2026-11-21 backup ran at 03:00:00",
            "2026-11-21 [job-7] finished, next run 03:00:00",
            "2026-11-21",
            "2026-11-21 [a] [b] [c] [d] [e] 03:00:00",
        ] {
            assert_eq!(ts(line), None, "{line}");
        }
    }

    #[test]
    fn the_last_second_kept_gives_what_the_zone_gives() {
        // Read in turn with one context (each second read twice, the second
        // time from what the first kept) and each with a fresh one: the
        // same instants, across both of Paris's changes of offset.
        let paris = TimeZone::get("Europe/Paris").expect("tzdb");
        let shared = TimeContext::new(paris.clone(), ctx().now);
        for line in [
            "2026-03-29 01:59:59.5 x",
            "2026-03-29 01:59:59.9 x",
            "2026-03-29 02:30:00 x",
            "2026-03-29 03:00:00 x",
            "2026-10-25 02:30:00.25 x",
            "2026-10-25 02:30:00.75 x",
            "2026-10-25 03:00:00 x",
            "1970-01-01 00:30:00 x",
            "1970-01-01 00:30:00.5 x",
            "2026-11-21 03:00:00,001 x",
            "2026-11-21 03:00:00,999 x",
        ] {
            let fresh = TimeContext::new(paris.clone(), ctx().now);
            assert_eq!(leading(line, &shared), leading(line, &fresh), "{line}");
        }
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

    /// A line read in `form` at its start.
    fn form(form: Form, line: &str) -> Option<String> {
        form.read(line.as_bytes(), 0, &ctx())
            .map(|(ts, _)| ts.to_string())
    }

    #[test]
    fn each_layout_reads_its_exact_time() {
        for (f, line, want) in [
            // Two-digit years, in each order.
            (
                Form::Numeric(Order::Ymd),
                "17/06/09 20:10:40 INFO executor",
                "2017-06-09T20:10:40Z",
            ),
            (
                Form::Numeric(Order::Dmy),
                "09/06/17 20:10:40 x",
                "2017-06-09T20:10:40Z",
            ),
            (
                Form::Numeric(Order::Mdy),
                "06/09/17 20:10:40 x",
                "2017-06-09T20:10:40Z",
            ),
            (
                Form::Numeric(Order::Dmy),
                "21.11.2026 03:12:09,5 x",
                "2026-11-21T03:12:09.5Z",
            ),
            (
                Form::Numeric(Order::Mdy),
                "11/21/2026, 3:12:09 PM x",
                "2026-11-21T15:12:09Z",
            ),
            (
                Form::Numeric(Order::Dmy),
                "21-11-2026 03:12:09 x",
                "2026-11-21T03:12:09Z",
            ),
            // Month and day without a year: this year (now is 21 November).
            (
                Form::Numeric(Order::Md),
                "03-17 16:13:38.811  1702  2395 D W: x",
                "2026-03-17T16:13:38.811Z",
            ),
            (
                Form::Numeric(Order::Md),
                "10.30 16:49:06] chrome.exe",
                "2026-10-30T16:49:06Z",
            ),
            (
                Form::Numeric(Order::Md),
                "12.30 16:49:06] chrome.exe",
                "2025-12-30T16:49:06Z",
            ),
            (
                Form::Numeric(Order::Md),
                "11/20 23:59:59 x",
                "2026-11-20T23:59:59Z",
            ),
            (
                Form::MonthDay,
                "Mar-18 21:41:15.684 [main] DEBUG",
                "2026-03-18T21:41:15.684Z",
            ),
            (
                Form::MonthDay,
                "Nov 21, 2026 3:12:09 AM org.apache.catalina.startup.Catalina start",
                "2026-11-21T03:12:09Z",
            ),
            (
                Form::MonthDay,
                "Nov 21 2026 03:12:09 host",
                "2026-11-21T03:12:09Z",
            ),
            (
                Form::DayMonthName,
                "13 Apr 12:52:30.731 # Sentinel",
                "2026-04-13T12:52:30.731Z",
            ),
            (
                Form::DayMonthName,
                "Sat, 21 Nov 2026 03:12:09 +0100 x",
                "2026-11-21T02:12:09Z",
            ),
            (Form::Ctime, "Sat Nov 21 03:12:09 x", "2026-11-21T03:12:09Z"),
            // Separators: dashes, slashes, dots, T, space, dashes and dots.
            (Form::Iso, "2026.11.21 03:12:09 x", "2026-11-21T03:12:09Z"),
            (
                Form::Iso,
                "2026-11-21-03.12.09.123456 x",
                "2026-11-21T03:12:09.123456Z",
            ),
            (Form::Iso, "2026-11-21 03.12.09 x", "2026-11-21T03:12:09Z"),
            (
                Form::Iso,
                "2022-06-08  8:52:40): [be]",
                "2022-06-08T08:52:40Z",
            ),
            (
                Form::CompactDate,
                "20171223-22:15:29:606|Step_LSC|30002312",
                "2017-12-23T22:15:29.606Z",
            ),
            (
                Form::CompactDate,
                "20171223-22:15:35:11|Step_SPUtils",
                "2017-12-23T22:15:35.011Z",
            ),
            (
                Form::CompactDate,
                "20260327 11:34:21.908 - INFO",
                "2026-03-27T11:34:21.908Z",
            ),
            (
                Form::CompactDate,
                "20261121T031209Z x",
                "2026-11-21T03:12:09Z",
            ),
            (
                Form::Compact,
                "081109 203615 148 INFO dfs.DataNode",
                "2008-11-09T20:36:15Z",
            ),
            (
                Form::Klog,
                "I20200308 23:47:32.089828 400441 config.cc:27] x",
                "2020-03-08T23:47:32.089828Z",
            ),
            // Fractions of 1 to 9 digits after `.`, `,` or `:`.
            (
                Form::Iso,
                "2026-11-21 03:12:09.1 x",
                "2026-11-21T03:12:09.1Z",
            ),
            (
                Form::Iso,
                "2026-11-21 03:12:09,12 x",
                "2026-11-21T03:12:09.12Z",
            ),
            (
                Form::Iso,
                "2026-11-21 03:12:09:123 x",
                "2026-11-21T03:12:09.123Z",
            ),
            (
                Form::Iso,
                "2026-11-21 03:12:09.1234 x",
                "2026-11-21T03:12:09.1234Z",
            ),
            (
                Form::Iso,
                "2026-11-21 03:12:09,12345678 x",
                "2026-11-21T03:12:09.12345678Z",
            ),
            (
                Form::Iso,
                "2026-11-21T03:12:09.3807878Z x",
                "2026-11-21T03:12:09.3807878Z",
            ),
            (
                Form::Iso,
                "2026-11-21 03:12:09:259149 x",
                "2026-11-21T03:12:09.259149Z",
            ),
            // Epoch seconds, milliseconds, microseconds, nanoseconds.
            (Form::Epoch, "1669575482 x", "2022-11-27T18:58:02Z"),
            (
                Form::Epoch,
                "1669575482.895450 x",
                "2022-11-27T18:58:02.89545Z",
            ),
            (Form::Epoch, "1669575482096 x", "2022-11-27T18:58:02.096Z"),
            (
                Form::Epoch,
                "1669575482096123 x",
                "2022-11-27T18:58:02.096123Z",
            ),
            (
                Form::Epoch,
                "1669575482096123456 x",
                "2022-11-27T18:58:02.096123456Z",
            ),
            (Form::Epoch, "+1375138067", "2013-07-29T22:47:47Z"),
            // Zones: offsets, Z, abbreviations.
            (
                Form::Iso,
                "2026-11-21T03:12:09+05:30 x",
                "2026-11-20T21:42:09Z",
            ),
            (
                Form::Iso,
                "2026-11-21 03:12:09 -0800 x",
                "2026-11-21T11:12:09Z",
            ),
            (Form::Iso, "2026-11-21T03:12:09z x", "2026-11-21T03:12:09Z"),
            (
                Form::Iso,
                "2026-11-21 03:12:09 IST x",
                "2026-11-20T21:42:09Z",
            ),
            (
                Form::Iso,
                "2026-07-19T02:47:11 AM UTC [1670]DEBUG",
                "2026-07-19T02:47:11Z",
            ),
            (
                Form::Numeric(Order::Mdy),
                "06/09/2014 02:49:59:447 PM UTC: Thread",
                "2014-06-09T14:49:59.447Z",
            ),
            // A time of day alone: today, or yesterday when more than an
            // hour ahead of now (12:00).
            (
                Form::Clock,
                "08:09:33.814936 execve(",
                "2026-11-21T08:09:33.814936Z",
            ),
            (Form::Clock, "23:59:00 x", "2026-11-20T23:59:00Z"),
        ] {
            assert_eq!(form(f, line).as_deref(), Some(want), "{f:?}: {line}");
        }
    }

    #[test]
    fn what_looks_like_a_time_but_is_none() {
        for (f, line) in [
            (Form::Numeric(Order::Md), "13-17 16:13:38.811 x"),
            (Form::Numeric(Order::Dmy), "32/01/2026 00:00:00 x"),
            (Form::Numeric(Order::Ymd), "10.0.0.1 12:00:00 x"),
            (Form::Numeric(Order::Ymd), "17/06/09 x"),
            (Form::Epoch, "1669575482-12 x"),
            (Form::Epoch, "0000000001 x"),
            (Form::Epoch, "9999999999 x"),
            (Form::Epoch, "12345 x"),
            (Form::Clock, "12:30 x"),
            (Form::Clock, "1:02:03 x"),
            (Form::Clock, "12:30:00abc"),
            (Form::Iso, "2026-11-21 13:00:00 PM x"),
            (Form::Iso, "2026-11-21 In(14) x"),
            (Form::CompactDate, "12345678 12:00:00"),
        ] {
            assert_eq!(form(f, line), None, "{f:?}: {line}");
        }
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
