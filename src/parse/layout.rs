//! Where in its lines a source writes its time, and in which form: learned
//! from the source's first lines, then used to read each line.
//!
//! Owns: [`Layout`] (a [`Written`] form at an [`Anchor`]), [`learn`] (the
//! layout a sample of lines agrees on, with the order of a numeric date's
//! parts decided from the sample), and reading a line with a layout: at its
//! anchor first ([`Layout::at_anchor`]), else a search of the line's prefix
//! ([`Layout::search`]) that stops at the first word of prose. Must not: do
//! I/O or read a clock (the present comes in the [`TimeContext`]).
//! Invariants: never panics on any input; only the first [`PREFIX`] bytes of
//! a line are searched; a time is taken in the search only where every word
//! before it looks like a log prefix (a number, a bracketed or punctuated
//! token, an upper-case word), never after a word of prose, so a time in a
//! message ("retry at 2026-11-21 03:00:00") is not the line's time.

use std::{collections::HashMap, fmt, sync::Arc};

use jiff::{SignedDuration, Timestamp};

use super::{
    time_format::TimeFormat,
    timestamp::{self, Form, LineTime, NumericDate, Order, TimeContext, numeric_date_at},
};

/// Only this many bytes at the start of a line are searched for its time.
pub const PREFIX: usize = 128;

/// How far into its field a time may start (after a bracket, a file name
/// glued with a colon, ...).
const IN_FIELD: usize = 48;

/// Where a line's time starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// In the field after this many runs of spaces or tabs: `Field(0)` is
    /// the start of the line, `Field(1)` after a leading file name or
    /// sequence number, ...
    Field(u8),
    /// In the field after this many tabs (tab-separated prefixes whose
    /// fields hold spaces: `job<TAB>step name<TAB>time`).
    Tab(u8),
}

impl Anchor {
    /// Preference on a tie: the start of the line, then tabs, then the
    /// nearest field.
    fn rank(self) -> u16 {
        match self {
            Anchor::Field(0) => 0,
            Anchor::Tab(t) => 2 * u16::from(t) - 1,
            Anchor::Field(k) => 2 * u16::from(k),
        }
    }

    /// Where the anchor's field starts in `line`, if the line has it.
    fn field_start(self, line: &[u8]) -> Option<usize> {
        match self {
            Anchor::Field(k) => {
                let mut pos = 0;
                for _ in 0..k {
                    while pos < line.len() && !is_blank(line[pos]) {
                        pos += 1;
                    }
                    while pos < line.len() && is_blank(line[pos]) {
                        pos += 1;
                    }
                    if pos >= line.len() {
                        return None;
                    }
                }
                Some(pos)
            }
            Anchor::Tab(t) => {
                let mut pos = 0;
                for _ in 0..t {
                    pos += memchr::memchr(b'\t', &line[pos..])? + 1;
                }
                Some(pos)
            }
        }
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anchor::Field(0) => f.write_str("at the start of the line"),
            Anchor::Field(k) => write!(f, "in field {} of the line (split at spaces)", k + 1),
            Anchor::Tab(t) => write!(f, "after tab {t}"),
        }
    }
}

/// How a time is written: a built-in form, or a `time_format` from
/// `triage.toml`.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// A built-in form (a numeric date with its learned order).
    Form(Form),
    /// A configured `strftime`-like format.
    Format(Arc<TimeFormat>),
}

impl Written {
    /// The time written at `pos` of `line`, and where its text ends.
    #[inline(always)]
    pub fn read(&self, line: &[u8], pos: usize, ctx: &TimeContext) -> Option<(Timestamp, usize)> {
        match self {
            Written::Form(form) => form.read(line, pos, ctx),
            Written::Format(format) => format.read(line, pos, ctx),
        }
    }
}

/// Where and how a source writes its time.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The form.
    pub written: Written,
    /// The field it is in.
    pub anchor: Anchor,
    /// How far into that field it usually starts (past a `[`, say).
    pub skip: u8,
}

impl Layout {
    /// A layout of `written` at the start of the line.
    pub fn at_start(written: Written) -> Layout {
        Layout {
            written,
            anchor: Anchor::Field(0),
            skip: 0,
        }
    }

    /// The time at the layout's anchor: at the usual place in its field,
    /// else after an opening bracket or other punctuation in that field.
    /// Inlined into the line path, as [`Form::read`] is (what they find is
    /// used where it is found, not stored and read back at once).
    #[inline(always)]
    pub fn at_anchor(&self, line: &str, ctx: &TimeContext) -> Option<LineTime> {
        let bytes = line.as_bytes();
        let field = self.anchor.field_start(bytes)?;
        let usual = field + usize::from(self.skip);
        if usual < bytes.len()
            && is_boundary(bytes, usual)
            && let Some((ts, end)) = self.written.read(bytes, usual, ctx)
        {
            return Some(LineTime {
                ts,
                start: usual,
                end,
                form: self.form(),
            });
        }
        let limit = bytes.len().min(field + IN_FIELD);
        let mut pos = field;
        while pos < limit && !is_blank(bytes[pos]) {
            if pos != usual
                && is_boundary(bytes, pos)
                && let Some((ts, end)) = self.written.read(bytes, pos, ctx)
            {
                return Some(LineTime {
                    ts,
                    start: pos,
                    end,
                    form: self.form(),
                });
            }
            pos += 1;
        }
        None
    }

    /// The time in the layout's form anywhere in the first [`PREFIX`]
    /// bytes, where every word before it looks like a log prefix (see
    /// [`prose`]).
    pub fn search(&self, line: &str, ctx: &TimeContext) -> Option<LineTime> {
        let bytes = line.as_bytes();
        let limit = bytes.len().min(PREFIX);
        let mut word_start = 0;
        for pos in 0..limit {
            if is_blank(bytes[pos]) {
                if prose(&bytes[word_start..pos]) {
                    return None;
                }
                word_start = pos + 1;
                continue;
            }
            let clock = self.written == Written::Form(Form::Clock);
            if is_boundary(bytes, pos)
                && (!clock || clock_may_follow(&bytes[..pos]))
                && let Some((ts, end)) = self.written.read(bytes, pos, ctx)
            {
                return Some(LineTime {
                    ts,
                    start: pos,
                    end,
                    form: self.form(),
                });
            }
        }
        None
    }

    /// The built-in form, if the layout is one.
    pub fn form(&self) -> Option<Form> {
        match self.written {
            Written::Form(form) => Some(form),
            Written::Format(_) => None,
        }
    }

    /// How `triage formats` names the layout; a numeric date's separator is
    /// taken from `example`, the time as the sample wrote it.
    pub fn describe(&self, example: Option<&str>) -> String {
        let form = match &self.written {
            Written::Form(Form::Numeric(order)) => {
                let sep = example
                    .and_then(|e| e.chars().find(|c| matches!(c, '/' | '.' | '-')))
                    .unwrap_or('/');
                let year = example
                    .and_then(|e| e.split(['/', '.', '-', ' ']).find(|p| p.len() == 4))
                    .map_or(2, |_| 4);
                format!("{} HH:mm:ss", order.pattern(sep, year))
            }
            Written::Form(form) => form.describe(),
            Written::Format(format) => format!("time_format {:?}", format.source()),
        };
        format!("{form}, {}", self.anchor)
    }
}

/// What learning found in a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Learned {
    /// The layout most lines agree on.
    pub layout: Layout,
    /// Sample lines (that may start an event) it reads a time in.
    pub lines: usize,
    /// Sample lines that may start an event.
    pub of: usize,
    /// The time as written in the first line it reads.
    pub example: String,
}

/// A candidate layout's tally over the sample.
#[derive(Debug, Default)]
struct Tally {
    lines: usize,
    skips: HashMap<u8, usize>,
    dates: Vec<NumericDate>,
    example: Option<String>,
    first_line: usize,
}

/// The form kinds tried at each place of a sample line, in order (a
/// numeric date stands for any order; the order is decided after).
const LEARNED_FORMS: [Form; 10] = [
    Form::Iso,
    Form::CompactDate,
    Form::Compact,
    Form::DayMonthName,
    Form::Ctime,
    Form::MonthDay,
    Form::Klog,
    Form::Numeric(Order::Ymd),
    Form::Epoch,
    Form::Clock,
];

/// The layout of the times in `lines` (the lines of a sample that may start
/// an event): the form and anchor that read a time in the most lines,
/// provided that is at least half of them; with `configured`, that format
/// (at the start of the line when no sample line has it). A numeric date's
/// order is the one every line fits (a day over 12 settles day and month;
/// of a year-first and a year-last reading, the one nearer the present),
/// else by convention: month first with `/` or without a year, day first
/// with `.` or `-`.
pub fn learn(
    lines: &[&str],
    configured: Option<&Arc<TimeFormat>>,
    ctx: &TimeContext,
) -> Option<Learned> {
    let latest = ctx.now.checked_add(SignedDuration::from_hours(24)).ok()?;
    if configured.is_none()
        && let Some(learned) = all_at_start(lines, ctx)
    {
        return Some(learned);
    }
    // Keyed by anchor and form (`None`: the configured format).
    let mut tallies: HashMap<(Anchor, Option<Form>), Tally> = HashMap::new();
    let configured_written = configured.map(|format| Written::Format(Arc::clone(format)));
    for (index, line) in lines.iter().enumerate() {
        let bytes = line.as_bytes();
        let mut seen: Vec<(Anchor, Option<Form>)> = Vec::new();
        for_each_place(bytes, |pos, anchors, field_start| {
            let found = match &configured_written {
                Some(written) => written
                    .read(bytes, pos, ctx)
                    .map(|(ts, end)| (None, ts, end, None)),
                None => LEARNED_FORMS.iter().find_map(|&form| {
                    let (date, form_read) = match form {
                        Form::Numeric(_) => {
                            let date = numeric_date_at(bytes, pos)?;
                            let order = Order::ALL
                                .into_iter()
                                .find(|&o| Form::Numeric(o).read(bytes, pos, ctx).is_some())?;
                            (Some(date), Form::Numeric(order))
                        }
                        _ => (None, form),
                    };
                    let (ts, end) = form_read.read(bytes, pos, ctx)?;
                    Some((Some(form), ts, end, date))
                }),
            };
            let Some((form, ts, end, date)) = found else {
                return;
            };
            if form == Some(Form::Clock) && !clock_may_follow(&bytes[..pos]) {
                return;
            }
            if ts > latest {
                return;
            }
            for anchor in anchors.into_iter().flatten() {
                if seen.contains(&(anchor, form)) {
                    continue;
                }
                seen.push((anchor, form));
                let start = field_start;
                let tally = tallies.entry((anchor, form)).or_insert_with(|| Tally {
                    first_line: index,
                    ..Tally::default()
                });
                tally.lines += 1;
                let skip = u8::try_from(pos - start).unwrap_or(u8::MAX);
                *tally.skips.entry(skip).or_default() += 1;
                tally.dates.extend(date);
                if tally.example.is_none() {
                    tally.example = Some(String::from_utf8_lossy(&bytes[pos..end]).into_owned());
                }
            }
        });
    }
    let of = lines.len();
    let best = tallies.into_iter().max_by(|(ka, a), (kb, b)| {
        a.lines
            .cmp(&b.lines)
            .then_with(|| kb.0.rank().cmp(&ka.0.rank()))
            .then_with(|| b.first_line.cmp(&a.first_line))
            .then_with(|| form_rank(kb.1).cmp(&form_rank(ka.1)))
    });
    let Some(((anchor, form), tally)) = best else {
        return configured_written.map(|written| Learned {
            layout: Layout::at_start(written),
            lines: 0,
            of,
            example: String::new(),
        });
    };
    if configured_written.is_none() && tally.lines * 2 < of {
        return None;
    }
    let written = match (configured_written, form) {
        (Some(written), _) => written,
        (None, Some(Form::Numeric(_))) => {
            Written::Form(Form::Numeric(decide_order(&tally.dates, ctx)?))
        }
        (None, Some(form)) => Written::Form(form),
        (None, None) => return None,
    };
    let skip = tally
        .skips
        .iter()
        .max_by_key(|&(skip, count)| (*count, std::cmp::Reverse(*skip)))
        .map_or(0, |(skip, _)| *skip);
    Some(Learned {
        layout: Layout {
            written,
            anchor,
            skip,
        },
        lines: tally.lines,
        of,
        example: tally.example.unwrap_or_default(),
    })
}

/// The layout when more than half of the lines have their time at their
/// start in the same form that needs no learning, and no line has one there
/// in another (most logs; the other lines are a stack trace's, say): what
/// the search over every place would find (no other place can read more
/// lines, and a tie goes to the start), without it.
fn all_at_start(lines: &[&str], ctx: &TimeContext) -> Option<Learned> {
    let latest = ctx.now.checked_add(SignedDuration::from_hours(24)).ok()?;
    let mut first: Option<(Form, String)> = None;
    let mut skips: Vec<(usize, usize)> = Vec::new();
    let mut count = 0;
    for line in lines {
        let Some(found) = timestamp::at_start(line, ctx) else {
            continue;
        };
        let in_first_field = !line.as_bytes()[..found.start].iter().any(|&b| is_blank(b));
        if !in_first_field || found.ts > latest {
            return None;
        }
        let form = found.form?;
        match &first {
            None => first = Some((form, line[found.start..found.end].to_owned())),
            Some((f, _)) if *f == form => {}
            Some(_) => return None,
        }
        match skips.iter_mut().find(|(skip, _)| *skip == found.start) {
            Some((_, n)) => *n += 1,
            None => skips.push((found.start, 1)),
        }
        count += 1;
    }
    if count * 2 <= lines.len() {
        return None;
    }
    let (form, example) = first?;
    let skip = skips
        .iter()
        .max_by_key(|&&(skip, n)| (n, std::cmp::Reverse(skip)))
        .map_or(0, |&(skip, _)| skip);
    Some(Learned {
        layout: Layout {
            written: Written::Form(form),
            anchor: Anchor::Field(0),
            skip: u8::try_from(skip).ok()?,
        },
        lines: count,
        of: lines.len(),
        example,
    })
}

/// Tie-break between forms read at the same place: the order tried.
fn form_rank(form: Option<Form>) -> usize {
    form.and_then(|form| {
        LEARNED_FORMS
            .iter()
            .position(|f| std::mem::discriminant(f) == std::mem::discriminant(&form))
    })
    .unwrap_or(usize::MAX)
}

/// The order of a sample's numeric dates: the orders most of them fit;
/// between a year-first and a year-last reading the one whose latest date
/// is nearer the present; between day-first and month-first, month first
/// for `/` and for dates without a year, day first for `.` and `-`.
pub fn decide_order(dates: &[NumericDate], ctx: &TimeContext) -> Option<Order> {
    let first = dates.first()?;
    let candidates: &[Order] = match first.count {
        3 => &[Order::Ymd, Order::Dmy, Order::Mdy],
        _ => &[Order::Md, Order::Dm],
    };
    let latest = ctx.now.checked_add(SignedDuration::from_hours(24)).ok()?;
    let now_year = i64::from(ctx.now.to_zoned(ctx.zone.clone()).year());
    let fits = |order: Order| -> (usize, Option<Timestamp>) {
        let mut count = 0;
        let mut newest: Option<Timestamp> = None;
        for date in dates.iter().filter(|d| d.count == first.count) {
            let Some((year, month, day)) = date.ymd(order) else {
                continue;
            };
            let year = year.unwrap_or(now_year);
            let date = jiff::civil::Date::new(
                i16::try_from(year).unwrap_or(0),
                i8::try_from(month).unwrap_or(0),
                i8::try_from(day).unwrap_or(0),
            );
            let Ok(civil) = date.and_then(|d| {
                d.to_datetime(jiff::civil::Time::midnight())
                    .to_zoned(ctx.zone.clone())
            }) else {
                continue;
            };
            let ts = civil.timestamp();
            if !order.has_year() || ts <= latest {
                count += 1;
                newest = Some(newest.map_or(ts, |n| n.max(ts)));
            }
        }
        (count, newest)
    };
    let scored: Vec<(Order, usize, Option<Timestamp>)> = candidates
        .iter()
        .map(|&order| {
            let (count, newest) = fits(order);
            (order, count, newest)
        })
        .collect();
    let most = scored.iter().map(|s| s.1).max()?;
    if most == 0 {
        return None;
    }
    let mut kept: Vec<(Order, Option<Timestamp>)> = scored
        .into_iter()
        .filter(|s| s.1 == most)
        .map(|s| (s.0, s.2))
        .collect();
    let day_first = first.sep != b'/' && first.count == 3;
    let conventional = |order: Order| match order {
        Order::Dmy | Order::Dm => day_first,
        Order::Mdy | Order::Md => !day_first,
        Order::Ymd => true,
    };
    // Between the year-last orders, the conventional one.
    if kept
        .iter()
        .filter(|(o, _)| matches!(o, Order::Dmy | Order::Mdy))
        .count()
        == 2
    {
        kept.retain(|(o, _)| !matches!(o, Order::Dmy | Order::Mdy) || conventional(*o));
    }
    if kept.len() == 2 && first.count == 2 {
        kept.retain(|(o, _)| conventional(*o));
    }
    // Between year-first and year-last, the one nearer the present.
    kept.into_iter()
        .min_by_key(|(_, newest)| {
            newest.map_or(i64::MAX, |ts| {
                ctx.now.duration_since(ts).as_secs().unsigned_abs() as i64
            })
        })
        .map(|(order, _)| order)
}

/// Calls `visit` for each place in the first [`PREFIX`] bytes of `line`
/// where a time may start, with the anchors that name that place and the
/// start of its field.
fn for_each_place(line: &[u8], mut visit: impl FnMut(usize, [Option<Anchor>; 2], usize)) {
    let limit = line.len().min(PREFIX);
    let (mut fields, mut tabs) = (0_u8, 0_u8);
    let mut field_start = 0;
    let mut after_tab = false;
    let mut pos = 0;
    while pos < limit {
        let byte = line[pos];
        if is_blank(byte) {
            while pos < line.len() && is_blank(line[pos]) {
                if line[pos] == b'\t' {
                    tabs = tabs.saturating_add(1);
                    after_tab = true;
                } else {
                    after_tab = false;
                }
                pos += 1;
            }
            fields = fields.saturating_add(1);
            field_start = pos;
            continue;
        }
        if pos - field_start < IN_FIELD && is_boundary(line, pos) {
            let tab = (after_tab && tabs > 0).then_some(Anchor::Tab(tabs));
            visit(pos, [Some(Anchor::Field(fields)), tab], field_start);
        }
        pos += 1;
    }
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// Whether a time may start at `pos`: the line's or a field's start, or
/// right after an opening bracket that does not follow a word (`[` in
/// `[2026-...`, not in `sshd[4242]`), a quote or punctuation that glues a
/// prefix to it (`>`, `"`, `'`, `|`, `:`, `=`, `#`, `,`, `@`), or after a
/// byte order mark.
fn is_boundary(line: &[u8], pos: usize) -> bool {
    let Some(before) = pos.checked_sub(1).map(|p| line[p]) else {
        return true;
    };
    match before {
        b' ' | b'\t' | b'>' | b'"' | b'\'' | b'|' | b':' | b'=' | b'#' | b',' | b'@' => true,
        b'[' | b'(' | b'<' => pos < 2 || !line[pos - 2].is_ascii_alphanumeric(),
        _ => pos == 3 && line.starts_with(b"\xef\xbb\xbf"),
    }
}

/// Whether a time of day alone may be taken after `before`: only numbers
/// (a pid, bracketed or not, strace's `[pid 42]`) may come first, so that a
/// clock after a date, a program name or words is not the line's time.
fn clock_may_follow(before: &[u8]) -> bool {
    before
        .split(|&b| is_blank(b))
        .map(|word| {
            let start = word
                .iter()
                .position(|b| !matches!(b, b'[' | b'('))
                .unwrap_or(word.len());
            let end = word
                .iter()
                .rposition(|b| !matches!(b, b']' | b')'))
                .map_or(start, |i| i + 1);
            &word[start..end.max(start)]
        })
        .all(|word| word.is_empty() || word == b"pid" || word.iter().all(u8::is_ascii_digit))
}

/// A word of prose: letters only (after trailing punctuation), at least two,
/// one of them lower-case (`at`, `retry`, `Caused`); a log prefix's words
/// are numbers, bracketed or punctuated tokens or upper-case words.
pub fn prose(word: &[u8]) -> bool {
    let word = match word.iter().rposition(|b| b.is_ascii_alphabetic()) {
        Some(end) => &word[..=end],
        None => return false,
    };
    word.len() >= 2
        && word.iter().all(u8::is_ascii_alphabetic)
        && word.iter().any(u8::is_ascii_lowercase)
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

    fn learned(lines: &[&str]) -> Option<Learned> {
        learn(lines, None, &ctx())
    }

    fn read(layout: &Layout, line: &str) -> Option<String> {
        layout
            .at_anchor(line, &ctx())
            .or_else(|| layout.search(line, &ctx()))
            .map(|f| f.ts.to_string())
    }

    #[test]
    fn a_leading_file_name_is_skipped() {
        let lines = [
            "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-1] x",
            "nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:04.500 2931 INFO nova.compute.manager [req-2] y",
        ];
        let learned = learned(&lines).expect("learned");
        assert_eq!(learned.layout.anchor, Anchor::Field(1));
        assert_eq!(learned.layout.written, Written::Form(Form::Iso));
        assert_eq!(learned.lines, 2);
        assert_eq!(
            read(&learned.layout, lines[1]).as_deref(),
            Some("2017-05-16T00:00:04.5Z")
        );
    }

    #[test]
    fn tab_separated_prefixes_with_spaces() {
        let lines = [
            "build (ubuntu, 21)\tSet up job\t2021-12-01T13:01:04.3807878Z Current runner version: '2.285.0'",
            "build (ubuntu, 21)\tRun ./gradlew build\t2021-12-01T13:01:09.1234567Z > Task :compileJava",
            "lint\tRun ./gradlew build\t2021-12-01T13:01:10.0000000Z FAILURE: Build failed with an exception.",
        ];
        let learned = learned(&lines).expect("learned");
        assert_eq!(learned.layout.anchor, Anchor::Tab(2));
        assert_eq!(
            read(&learned.layout, lines[2]).as_deref(),
            Some("2021-12-01T13:01:10Z")
        );
    }

    #[test]
    fn day_month_order_is_settled_by_a_day_over_twelve() {
        let order = |lines: &[&str]| match learned(lines).map(|l| l.layout.written) {
            Some(Written::Form(Form::Numeric(order))) => Some(order),
            _ => None,
        };
        // 21/11: the first part cannot be a month.
        assert_eq!(
            order(&["05/11/2026 10:00:00 a", "21/11/2026 10:00:00 b"]),
            Some(Order::Dmy)
        );
        // 11/21: the second cannot.
        assert_eq!(
            order(&["11/05/2026 10:00:00 a", "11/21/2026 10:00:00 b"]),
            Some(Order::Mdy)
        );
        // Unsettled: month first with slashes, day first with dots.
        assert_eq!(order(&["05/11/2026 10:00:00 a"]), Some(Order::Mdy));
        assert_eq!(order(&["05.11.2026 10:00:00 a"]), Some(Order::Dmy));
        // yy/MM/dd: 17 is no month; of 2017-06-09 and 2009-06-17, the
        // nearer to the present.
        assert_eq!(order(&["17/06/09 20:10:40 INFO x"]), Some(Order::Ymd));
        // dd/MM/yy written today: 2026-11-21 is nearer than 2021-11-26.
        assert_eq!(order(&["21/11/26 09:00:00 INFO x"]), Some(Order::Dmy));
        // Month and day without a year: `10.30` is October 30.
        assert_eq!(order(&["[10.30 16:49:06] chrome.exe x"]), Some(Order::Md));
        assert_eq!(order(&["[30.10 16:49:06] chrome.exe x"]), Some(Order::Dm));
        assert_eq!(
            order(&["03-17 16:13:38.811  1702  2395 D W: x"]),
            Some(Order::Md)
        );
        // The sample as a whole: one line over 12 settles every line.
        let lines = ["02/03/2026 10:00:00 a", "13/03/2026 10:00:00 b"];
        let layout = learned(&lines).expect("learned").layout;
        assert_eq!(
            read(&layout, lines[0]).as_deref(),
            Some("2026-03-02T10:00:00Z")
        );
    }

    #[test]
    fn a_time_in_a_message_is_not_the_lines_time() {
        // No layout: times are in the messages of a minority of lines.
        let lines = [
            "worker 3 processed 1669575482 records",
            "job finished at 2026-11-21 03:00:00 after 12:30:00 of work",
            "nothing here",
            "still nothing",
        ];
        assert_eq!(learned(&lines), None);
        // A layout at the start: a line without its time there is not read
        // from its message.
        let layout = Layout::at_start(Written::Form(Form::Iso));
        assert_eq!(
            read(
                &layout,
                "java.lang.IllegalStateException: lease expired at 2026-11-21 03:00:00"
            ),
            None
        );
        assert_eq!(
            read(
                &layout,
                "\tat com.example.Lease.renew(Lease.java:42) 2026-11-21 03:00:00"
            ),
            None
        );
        // ...but one after a prefix of numbers and tokens is.
        assert_eq!(
            read(&layout, "10000 [pid 7] 2026-11-21 03:00:00 x").as_deref(),
            Some("2026-11-21T03:00:00Z")
        );
    }

    #[test]
    fn epoch_at_a_learned_field() {
        let lines = [
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02 RAS KERNEL INFO x",
            "- 1117838573 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.53.276129 R02 RAS KERNEL INFO y",
        ];
        let learned = learned(&lines).expect("learned");
        assert_eq!(learned.layout.anchor, Anchor::Field(1));
        assert_eq!(
            read(&learned.layout, lines[0]).as_deref(),
            Some("2005-06-03T22:42:50Z")
        );
    }

    #[test]
    fn prose_words() {
        for word in ["at", "retry", "Caused", "expired:", "jvm"] {
            assert!(prose(word.as_bytes()), "{word}");
        }
        for word in [
            "INFO",
            "[main]",
            "12345",
            "-",
            "chrome.exe",
            "a",
            "nova-api.log",
        ] {
            assert!(!prose(word.as_bytes()), "{word}");
        }
    }
}
