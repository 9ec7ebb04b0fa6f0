//! A source's `time_format` from `triage.toml` (`time_format = "%y/%m/%d
//! %H:%M:%S"`): a `strftime`-like description of how its lines write their
//! time, for the layouts the built-in forms do not read or read wrongly.
//!
//! Owns: [`TimeFormat`] (parsed once, with errors at a byte offset of the
//! format string so `config` can point at the column) and reading a time in
//! it. Must not: read a clock or do I/O. Invariants: never panics on any
//! input; a time is never followed directly by a letter or digit; what the
//! format leaves out is inferred as for the built-in forms (no year: the
//! latest that is not in the future; no date: the present's date; no zone:
//! the source's).

use std::fmt;

use jiff::Timestamp;

use super::timestamp::{
    Parts, TimeContext, abbreviation_at, epoch_at, month_at, offset_at, resolve, weekday_at,
};

/// The directives a `time_format` may use, for error messages.
pub const DIRECTIVES: &str = "%Y %y %m %d %e %H %k %I %l %M %S %f %L %N %p %b %a %z %Z %s %T %F %%";

/// One piece of a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    /// This byte.
    Literal(u8),
    /// `%Y`: four digits.
    Year,
    /// `%y`: two digits, 1969-2068.
    ShortYear,
    /// `%m`: one or two digits.
    Month,
    /// `%b`: a month's three-letter name.
    MonthName,
    /// `%d`, `%e`: one or two digits, or a space and a digit.
    Day,
    /// `%H`, `%k`: 0-23.
    Hour,
    /// `%I`, `%l`: 1-12.
    Hour12,
    /// `%M`.
    Minute,
    /// `%S`.
    Second,
    /// `%f` (1 to 9 digits), `%L` (3), `%N` (9): the fraction's digits.
    Fraction,
    /// `%p`: `AM` or `PM`.
    Meridiem,
    /// `%a`: a weekday's three-letter name, checked for shape only.
    Weekday,
    /// `%z`: `Z`, `+02:00`, `+0200`, `+02`.
    Offset,
    /// `%Z`: a zone abbreviation.
    Zone,
    /// `%s`: seconds (or ms, µs, ns by magnitude) since the epoch.
    Epoch,
}

/// A `time_format`, parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct TimeFormat {
    source: String,
    items: Vec<Item>,
}

impl fmt::Debug for TimeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeFormat({:?})", self.source)
    }
}

/// A `time_format` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TimeFormatError {
    /// Byte offset in the format string of the problem.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl TimeFormat {
    /// Parses `text`: literal bytes and the [`DIRECTIVES`]. A format must
    /// give an hour and minutes (or `%s`); `%I` needs `%p`.
    pub fn parse(text: &str) -> Result<TimeFormat, TimeFormatError> {
        let error = |offset: usize, message: String| TimeFormatError { offset, message };
        let bytes = text.as_bytes();
        let mut items = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'%' {
                items.push(Item::Literal(bytes[i]));
                i += 1;
                continue;
            }
            let Some(&directive) = bytes.get(i + 1) else {
                return Err(error(i, "`%` at the end of time_format".to_owned()));
            };
            let expanded: &[Item] = match directive {
                b'Y' => &[Item::Year],
                b'y' => &[Item::ShortYear],
                b'm' => &[Item::Month],
                b'b' | b'h' => &[Item::MonthName],
                b'd' | b'e' => &[Item::Day],
                b'H' | b'k' => &[Item::Hour],
                b'I' | b'l' => &[Item::Hour12],
                b'M' => &[Item::Minute],
                b'S' => &[Item::Second],
                b'f' | b'L' | b'N' => &[Item::Fraction],
                b'p' => &[Item::Meridiem],
                b'a' => &[Item::Weekday],
                b'z' => &[Item::Offset],
                b'Z' => &[Item::Zone],
                b's' => &[Item::Epoch],
                b'T' => &[
                    Item::Hour,
                    Item::Literal(b':'),
                    Item::Minute,
                    Item::Literal(b':'),
                    Item::Second,
                ],
                b'F' => &[
                    Item::Year,
                    Item::Literal(b'-'),
                    Item::Month,
                    Item::Literal(b'-'),
                    Item::Day,
                ],
                b'%' => &[Item::Literal(b'%')],
                _ => {
                    let shown = text[i..].chars().take(2).collect::<String>();
                    return Err(error(
                        i,
                        format!("unknown directive `{shown}` (known: {DIRECTIVES})"),
                    ));
                }
            };
            items.extend_from_slice(expanded);
            i += 2;
        }
        let has = |item: Item| items.contains(&item);
        if !has(Item::Epoch) && !((has(Item::Hour) || has(Item::Hour12)) && has(Item::Minute)) {
            return Err(error(
                0,
                "time_format needs an hour and minutes (%H or %I, and %M) or %s".to_owned(),
            ));
        }
        if has(Item::Hour12) && !has(Item::Meridiem) {
            return Err(error(
                text.find("%I").or_else(|| text.find("%l")).unwrap_or(0),
                "%I needs %p (AM or PM)".to_owned(),
            ));
        }
        if has(Item::Day) != (has(Item::Month) || has(Item::MonthName)) {
            return Err(error(
                0,
                "time_format needs both a month (%m or %b) and a day (%d), or neither".to_owned(),
            ));
        }
        Ok(TimeFormat {
            source: text.to_owned(),
            items,
        })
    }

    /// The format as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The time written at `pos` of `line` in this format, and where its
    /// text ends.
    pub fn read(&self, line: &[u8], pos: usize, ctx: &TimeContext) -> Option<(Timestamp, usize)> {
        let mut parts = Parts::default();
        let mut at = pos;
        let mut pm = None;
        let mut hour12 = None;
        let digits = |at: &mut usize, min: usize, max: usize| -> Option<i64> {
            let start = *at;
            let mut value = 0_i64;
            while *at - start < max && line.get(*at).is_some_and(u8::is_ascii_digit) {
                value = value * 10 + i64::from(line[*at] - b'0');
                *at += 1;
            }
            (*at - start >= min).then_some(value)
        };
        for item in &self.items {
            match *item {
                Item::Literal(byte) => {
                    if line.get(at) != Some(&byte) {
                        return None;
                    }
                    at += 1;
                }
                Item::Year => parts.year = Some(digits(&mut at, 4, 4)?),
                Item::ShortYear => {
                    let yy = digits(&mut at, 2, 2)?;
                    parts.year = Some(if yy < 69 { 2000 + yy } else { 1900 + yy });
                }
                Item::Month => parts.month = Some(digits(&mut at, 1, 2)?),
                Item::MonthName => {
                    let (month, end) = month_at(line, at)?;
                    parts.month = Some(month);
                    at = end;
                }
                Item::Day => {
                    if line.get(at) == Some(&b' ') {
                        at += 1;
                    }
                    parts.day = Some(digits(&mut at, 1, 2)?);
                }
                Item::Hour => {
                    if line.get(at) == Some(&b' ') {
                        at += 1;
                    }
                    parts.hour = digits(&mut at, 1, 2)?;
                }
                Item::Hour12 => {
                    if line.get(at) == Some(&b' ') {
                        at += 1;
                    }
                    hour12 = Some(digits(&mut at, 1, 2)?);
                }
                Item::Minute => parts.minute = digits(&mut at, 2, 2)?,
                Item::Second => parts.second = digits(&mut at, 2, 2)?,
                Item::Fraction => {
                    let start = at;
                    let value = digits(&mut at, 1, 9)?;
                    let width = at - start;
                    while line.get(at).is_some_and(u8::is_ascii_digit) {
                        at += 1;
                    }
                    parts.nanos = value * 10_i64.pow(9 - width as u32);
                }
                Item::Meridiem => {
                    let word = line.get(at..at + 2)?;
                    pm = Some(match word.to_ascii_uppercase().as_slice() {
                        b"AM" => false,
                        b"PM" => true,
                        _ => return None,
                    });
                    at += 2;
                }
                Item::Weekday => at = weekday_at(line, at)?,
                Item::Offset => {
                    let (offset, end) = offset_at(line, at)?;
                    parts.offset = Some(offset);
                    at = end;
                }
                Item::Zone => {
                    let (offset, end) = abbreviation_at(line, at)?;
                    parts.offset = Some(offset);
                    at = end;
                }
                Item::Epoch => {
                    let (ts, end) = epoch_at(line, at)?;
                    parts.epoch = Some(ts);
                    at = end;
                }
            }
        }
        if let Some(hour) = hour12 {
            if !(1..=12).contains(&hour) {
                return None;
            }
            parts.hour = hour % 12 + if pm == Some(true) { 12 } else { 0 };
        }
        if line.get(at).is_some_and(u8::is_ascii_alphanumeric) {
            return None;
        }
        let ts = resolve(parts, ctx)?;
        Some((ts, at))
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;

    fn ctx() -> TimeContext {
        TimeContext::new(
            TimeZone::UTC,
            "2026-11-21T12:00:00Z".parse().expect("valid"),
        )
    }

    fn read(format: &str, line: &str) -> Option<String> {
        let format = TimeFormat::parse(format).expect("valid format");
        format
            .read(line.as_bytes(), 0, &ctx())
            .map(|(ts, _)| ts.to_string())
    }

    #[test]
    fn formats_read_what_they_describe() {
        assert_eq!(
            read("%y/%m/%d %H:%M:%S", "17/06/09 20:10:40 INFO x").as_deref(),
            Some("2017-06-09T20:10:40Z")
        );
        assert_eq!(
            read("%d/%m/%y %H:%M:%S", "09/06/17 20:10:40 INFO x").as_deref(),
            Some("2017-06-09T20:10:40Z")
        );
        assert_eq!(
            read(
                "%m/%d/%Y %I:%M:%S:%L %p %Z",
                "06/09/2014 02:49:59:447 PM UTC: x"
            )
            .as_deref(),
            Some("2014-06-09T14:49:59.447Z")
        );
        assert_eq!(
            read("%b %e %T", "Nov  1 03:04:05 host").as_deref(),
            Some("2026-11-01T03:04:05Z")
        );
        assert_eq!(
            read("%F %T%z", "2026-11-21 03:04:05+0200 x").as_deref(),
            Some("2026-11-21T01:04:05Z")
        );
        assert_eq!(
            read("%s", "1669575482 x").as_deref(),
            Some("2022-11-27T18:58:02Z")
        );
        assert_eq!(
            read("%H:%M:%S.%f", "11:30:00.25 x").as_deref(),
            Some("2026-11-21T11:30:00.25Z")
        );
        assert_eq!(read("%y/%m/%d %H:%M:%S", "17/13/09 20:10:40"), None);
        assert_eq!(read("%y/%m/%d %H:%M:%S", "17/06/09 20:10:40x"), None);
        assert_eq!(read("%I:%M %p", "13:00 PM"), None);
    }

    #[test]
    fn bad_formats_say_where() {
        let err = TimeFormat::parse("%y/%m/%d %Q").expect_err("unknown");
        assert_eq!(err.offset, 9);
        assert!(err.message.starts_with("unknown directive `%Q`"), "{err}");
        let err = TimeFormat::parse("%H:%M:%").expect_err("dangling");
        assert_eq!(err.offset, 6);
        assert!(TimeFormat::parse("%Y-%m-%d").is_err());
        assert!(TimeFormat::parse("%I:%M").is_err());
        assert!(TimeFormat::parse("%m %H:%M").is_err());
    }
}
