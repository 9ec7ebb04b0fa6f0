//! The one grammar of times given on the command line (`search --since` and
//! `--until`, `incident ... --at`, the console's `:at`): RFC 3339 with an
//! offset, a date and time or a date in a zone, a time of day in a zone
//! (the last one not after the present), or a duration before the present
//! (`90s`, `15m`, `2h`, `7d`).
//!
//! Pure: the zone and the present are passed in; no clock is read here.

use jiff::{SignedDuration, Timestamp, civil, tz::TimeZone};

use crate::model::parse_duration;

/// The forms [`parse`] takes, for messages.
pub const FORMS: &str = "RFC 3339 (2026-11-21T03:00:00Z), a date and time (`2026-11-21 03:00`), \
                         a date (2026-11-21), a time of day (03:00, the last one not after now), \
                         or a duration before now (15m, 2h, 7d)";

/// Reads a time; the error says what was given and the forms taken.
pub fn parse(text: &str, zone: &TimeZone, now: Timestamp) -> Result<Timestamp, String> {
    let text = text.trim();
    let not_a_time = || format!("`{text}` is not a time: use {FORMS}");
    if let Some(ago) = parse_duration(text) {
        let ago = SignedDuration::try_from(ago).map_err(|_| not_a_time())?;
        return now
            .checked_sub(ago)
            .map_err(|_| format!("`{text}` reaches before the earliest time"));
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    let in_zone = |dt: civil::DateTime| {
        dt.to_zoned(zone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| format!("`{text}`: {e}"))
    };
    if let Ok(dt) = text.replacen(' ', "T", 1).parse::<civil::DateTime>() {
        return in_zone(dt);
    }
    if let Ok(date) = text.parse::<civil::Date>() {
        return in_zone(date.to_datetime(civil::Time::midnight()));
    }
    if text.contains(':')
        && let Ok(t) = text.parse::<civil::Time>()
    {
        let today = now.to_zoned(zone.clone()).date();
        let at = in_zone(today.to_datetime(t))?;
        if at <= now {
            return Ok(at);
        }
        let yesterday = today.yesterday().map_err(|_| not_a_time())?;
        return in_zone(yesterday.to_datetime(t));
    }
    Err(not_a_time())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    #[test]
    fn every_form_in_one_grammar() {
        let utc = TimeZone::UTC;
        let now = ts("2026-11-21T03:30:00Z");
        let cases = [
            ("2026-11-21T03:10:00Z", "2026-11-21T03:10:00Z"),
            ("2026-11-21T04:10:00+01:00", "2026-11-21T03:10:00Z"),
            ("2026-11-21 03:10", "2026-11-21T03:10:00Z"),
            ("2026-11-21T03:10", "2026-11-21T03:10:00Z"),
            ("2026-11-21", "2026-11-21T00:00:00Z"),
            ("03:10", "2026-11-21T03:10:00Z"),
            ("03:10:05", "2026-11-21T03:10:05Z"),
            ("23:50:10", "2026-11-20T23:50:10Z"),
            ("2h", "2026-11-21T01:30:00Z"),
            ("90s", "2026-11-21T03:28:30Z"),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text, &utc, now), Ok(ts(want)), "{text}");
        }
        let paris = TimeZone::get("Europe/Paris").expect("tzdb");
        assert_eq!(
            parse("2026-11-21 04:10", &paris, now),
            Ok(ts("2026-11-21T03:10:00Z"))
        );
        let err = parse("soon", &utc, now).expect_err("not a time");
        assert!(err.contains("a time of day"), "{err}");
        assert!(parse("3", &utc, now).is_err());
    }
}
