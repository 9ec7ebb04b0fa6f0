//! The shape of a log file: which format its lines are written in.
//!
//! Owns: the [`Format`] enum, its names (as written in `triage.toml`
//! `format = "..."`), and detecting a file's format from a sample of its
//! lines. Must not: read files or keep state between calls; detection is a
//! pure function of the sample. Invariants: never panics on any input;
//! detection on an empty or unrecognised sample is [`Format::Plain`], which
//! parses every line with the generic rules (a time where the source's
//! first lines put it, a level word).

use std::{fmt, str::FromStr, sync::LazyLock};

use regex::Regex;

/// A log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON object per line (slog JSON, zap, pino, bunyan, logstash, ...).
    Json,
    /// `key=value key="quoted value"` (logrus text, Go `slog` text, Heroku).
    Logfmt,
    /// BSD syslog, RFC 3164: `<PRI>Mmm dd HH:MM:SS host program[pid]: msg`.
    Syslog,
    /// RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`.
    Syslog5424,
    /// Apache/nginx common or combined access log.
    Access,
    /// Apache `error_log`: `[Sat Nov 21 03:12:09.123456 2026] [mod:level] ...`.
    ApacheError,
    /// nginx `error.log`: `2026/11/21 03:05:12 [error] 31#31: ...`.
    NginxError,
    /// log4j / logback: `timestamp [thread] LEVEL logger - message`.
    Log4j,
    /// Python `logging`: `LEVEL:name:msg`, or `asctime - name - LEVEL - msg`.
    Python,
    /// Go and Rust text loggers: Rust `tracing` (`ts  LEVEL target: msg`),
    /// Go zap console (`ts\tLEVEL\tlogger\tmsg`), klog (`I1121 03:12:09...`),
    /// Go's `log` package (`2026/11/21 03:05:12 msg`).
    Tracing,
    /// Kubernetes CRI container log: `<RFC 3339> stdout F message`.
    Cri,
    /// Android logcat (`threadtime`, `brief`, `time`): `03-17 16:13:38.811
    /// 1702  2395 D Tag: message`, the level a letter.
    Logcat,
    /// Docker `json-file`: `{"log":"...","stream":"stdout","time":"..."}`.
    DockerJson,
    /// PostgreSQL `stderr` log (any `log_line_prefix`), RDS, Cloud SQL text.
    Postgres,
    /// PostgreSQL `csvlog`.
    PostgresCsv,
    /// PostgreSQL `jsonlog` and CloudNativePG's JSON records.
    PostgresJson,
    /// Anything else: a leading timestamp and level word where there is one.
    Plain,
}

impl Format {
    /// Every format, in the order detection prefers them on a tie (the most
    /// specific first).
    pub const ALL: [Format; 17] = [
        Format::PostgresJson,
        Format::DockerJson,
        Format::Json,
        Format::Cri,
        Format::Logcat,
        Format::Syslog5424,
        Format::Syslog,
        Format::Access,
        Format::ApacheError,
        Format::NginxError,
        Format::PostgresCsv,
        Format::Postgres,
        Format::Python,
        Format::Log4j,
        Format::Tracing,
        Format::Logfmt,
        Format::Plain,
    ];

    /// The name used in `triage.toml` and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Logfmt => "logfmt",
            Format::Syslog => "syslog",
            Format::Syslog5424 => "syslog5424",
            Format::Access => "access",
            Format::ApacheError => "apache-error",
            Format::NginxError => "nginx-error",
            Format::Log4j => "log4j",
            Format::Python => "python",
            Format::Tracing => "tracing",
            Format::Cri => "cri",
            Format::Logcat => "logcat",
            Format::DockerJson => "docker-json",
            Format::Postgres => "postgres",
            Format::PostgresCsv => "postgres-csv",
            Format::PostgresJson => "postgres-json",
            Format::Plain => "plain",
        }
    }

    /// The format whose lines are one JSON object each.
    pub fn is_json(self) -> bool {
        matches!(
            self,
            Format::Json | Format::DockerJson | Format::PostgresJson
        )
    }

    /// The format a single line looks like, if any but plain.
    pub fn of_line(line: &str) -> Option<Format> {
        let line = line.trim_end();
        if line.is_empty() {
            return None;
        }
        if line.starts_with('{') {
            return json_kind(line);
        }
        LINE_PATTERNS
            .into_iter()
            .find(|(format, re)| may_be(*format, line.as_bytes()) && re.is_match(line))
            .map(|(format, _)| format)
    }

    /// The format of a file, from a sample of its lines (the first few
    /// dozen are enough): the format most lines look like, provided at
    /// least a fifth do (continuation lines of stack traces match none);
    /// else [`Format::Plain`]. Ties go to the more specific format.
    pub fn detect(sample: &[&str]) -> Format {
        let mut counts = [0_usize; Format::ALL.len()];
        let mut lines = 0;
        for line in sample {
            if line.trim().is_empty() {
                continue;
            }
            lines += 1;
            if let Some(format) = Format::of_line(line) {
                let index = Format::ALL
                    .iter()
                    .position(|f| *f == format)
                    .expect("every format is in ALL");
                counts[index] += 1;
            }
        }
        let mut best = (0, Format::Plain);
        for (count, format) in counts.into_iter().zip(Format::ALL) {
            if count > best.0 {
                best = (count, format);
            }
        }
        if best.0 > 0 && best.0 * 5 >= lines {
            best.1
        } else {
            Format::Plain
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A format name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log format {name:?} (known: {known})")]
pub struct UnknownFormat {
    /// The name as written.
    pub name: String,
    /// The known names, comma-separated.
    pub known: String,
}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Reads a format's name, or a common alias (`jsonl`, `rfc3164`,
    /// `rfc5424`, `combined`, `clf`, `nginx`, `logback`, `go`, `slog`,
    /// `klog`, `docker`, `postgresql`, `csvlog`, `jsonlog`, `text`).
    fn from_str(name: &str) -> Result<Format, UnknownFormat> {
        let lower = name.trim().to_ascii_lowercase();
        if let Some(format) = Format::ALL.into_iter().find(|f| f.as_str() == lower) {
            return Ok(format);
        }
        let format = match lower.as_str() {
            "jsonl" | "ndjson" | "json-lines" => Format::Json,
            "rfc3164" | "bsd-syslog" => Format::Syslog,
            "rfc5424" => Format::Syslog5424,
            "combined" | "common" | "clf" | "apache" | "nginx" | "nginx-access" => Format::Access,
            "logback" | "log4j2" | "java" => Format::Log4j,
            "go" | "klog" | "zap" | "rust" => Format::Tracing,
            "slog" | "logrus" => Format::Logfmt,
            "kubernetes" | "containerd" => Format::Cri,
            "android" | "adb" => Format::Logcat,
            "docker" => Format::DockerJson,
            "postgresql" | "pg" | "stderr" => Format::Postgres,
            "csvlog" | "postgresql-csv" => Format::PostgresCsv,
            "jsonlog" | "cnpg" | "postgresql-json" => Format::PostgresJson,
            "text" | "none" => Format::Plain,
            _ => {
                return Err(UnknownFormat {
                    name: name.to_owned(),
                    known: Format::ALL.map(Format::as_str).join(", "),
                });
            }
        };
        Ok(format)
    }
}

/// Which JSON format an object line is.
fn json_kind(line: &str) -> Option<Format> {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str(line) else {
        return None;
    };
    if object.contains_key("log") && object.contains_key("stream") {
        return Some(Format::DockerJson);
    }
    let postgres = |o: &serde_json::Map<String, serde_json::Value>| {
        o.contains_key("error_severity") && (o.contains_key("message") || o.contains_key("pid"))
    };
    let record = object.get("record").and_then(|r| r.as_object());
    if postgres(&object) || record.is_some_and(postgres) {
        return Some(Format::PostgresJson);
    }
    Some(Format::Json)
}

/// Whether `line` may match `format`'s pattern, told from a few bytes: a
/// necessary condition of the pattern, so a line that fails it is not
/// given to the pattern (whose first use on a thread builds its search
/// state, and every use costs a search). Where a pattern's `\d` may be a
/// digit of another script (a byte above ASCII), the line may match.
fn may_be(format: Format, bytes: &[u8]) -> bool {
    let iso = |bytes: &[u8]| starts_like(bytes, b"dddd");
    let digit_first = |bytes: &[u8]| {
        bytes
            .first()
            .is_some_and(|&b| b.is_ascii_digit() || b >= 0x80)
    };
    match format {
        Format::Cri => starts_like(bytes, b"dddd-dd-ddTdd:dd:dd"),
        Format::Logcat => starts_like(bytes, b"dd-dd dd:dd:dd."),
        Format::Syslog5424 => bytes.first() == Some(&b'<'),
        Format::Syslog => matches!(bytes.first(), Some(b'<' | b'A'..=b'Z')),
        Format::Access => {
            (memchr::memchr(b'[', bytes).is_some() && memchr::memchr(b'"', bytes).is_some())
                || starts_like(bytes, b"dddd-dd-ddT")
        }
        Format::ApacheError => matches!(bytes, [b'[', b'A'..=b'Z', ..]),
        Format::NginxError => starts_like(bytes, b"dddd/dd/dd dd:dd:dd ["),
        Format::PostgresCsv => {
            iso(bytes.strip_prefix(b"\"").unwrap_or(bytes)) && memchr::memchr(b',', bytes).is_some()
        }
        Format::Postgres => iso(bytes),
        Format::Python => {
            matches!(bytes.first(), Some(b'D' | b'I' | b'W' | b'E' | b'C')) || iso(bytes)
        }
        Format::Log4j => digit_first(bytes),
        Format::Tracing => {
            matches!(bytes.first(), Some(b'I' | b'W' | b'E' | b'F')) || digit_first(bytes)
        }
        Format::Logfmt => matches!(bytes.first(), Some(b'A'..=b'Z' | b'a'..=b'z' | b'_')),
        _ => true,
    }
}

/// Whether `bytes` start as `shape` says (`d` a digit, any other byte
/// itself), or may: a byte above ASCII where a digit is due may be one of
/// another script, and the rest is not looked at.
fn starts_like(bytes: &[u8], shape: &[u8]) -> bool {
    for (i, &want) in shape.iter().enumerate() {
        match (want, bytes.get(i)) {
            (b'd', Some(b'0'..=b'9')) => {}
            (b'd', Some(&b)) if b >= 0x80 => return true,
            (_, Some(&b)) if b == want && want != b'd' => {}
            _ => return false,
        }
    }
    true
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the built-in format patterns are valid")
}

/// An ISO-ish timestamp at the start: date, `T` or space, clock.
const ISO: &str = r"\d{4}[-/]\d{1,2}[-/]\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?";

static CRI: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d) (?:stdout|stderr) [FP] ")
});
/// `threadtime` (an optional uid, pid, tid, the letter), or `brief`/`time`
/// (the letter, `/`, the tag).
static LOGCAT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3,}\s+(?:(?:\S+\s+)?\d+\s+\d+\s+[VDIWEFA]\s|[VDIWEFA]/)")
});
static SYSLOG_5424: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^<\d{1,3}>\d{1,2} (?:-|\d{4}-\d\d-\d\dT\S+) \S+ \S+ \S+ \S+ "));
static SYSLOG_3164: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(?:<\d{1,3}>)?[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [^\s:\[]+(?:\[\d+\])?: ")
});
/// Common and combined (a virtual host first too), or the time first.
static ACCESS: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"^(?:(?:\S+ )?\S+ \S+ \S+ \[[^\]]+\] "[^"]*" \d{3} (?:\d+|-)|\d{4}-\d\d-\d\dT\S+ \S+ \S+ [A-Z]+ "?[^ "]+"? -?\d+ \d{3} (?:\d+|-))"#,
    )
});
static APACHE_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4}\] \[[\w:]+\] ")
});
static NGINX_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(?:debug|info|notice|warn|error|crit|alert|emerg)\] \d+#\d+: ",
    )
});
/// A timestamp (quoted or not) and its zone, then a comma and quoted fields;
/// the severity and SQLSTATE columns somewhere after.
static POSTGRES_CSV: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r#"^"?{ISO}(?: [A-Z]{{2,5}}|[+-]\d\d)?"?,.*,(?:LOG|ERROR|WARNING|FATAL|PANIC|NOTICE|INFO|DEBUG[1-5]),[0-9A-Z]{{5}},"#
    ))
});
/// A timestamp, then a severity word and a colon (then usually two spaces)
/// within the prefix; also after RDS's `:` separated prefix.
static POSTGRES: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"^{ISO}.{{0,200}}?[\s:\]](?:LOG|ERROR|WARNING|FATAL|PANIC|NOTICE|INFO|DEBUG[1-5]|DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION):\s"
    ))
});
static PYTHON: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"^(?:(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]+:|{ISO} - [\w.]+ - (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) - )"
    ))
});
static LOG4J: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"^(?:{ISO}|\d\d:\d\d:\d\d[.,]\d+|\d{{1,2}}-[A-Z][a-z]{{2}}-\d{{4}} \d\d:\d\d:\d\d[.,]\d+)\s+(?:\[[^\]]*\]\s+(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)|(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+(?:\[[^\]]*\]\s+)?[\w.$]+(?::\d+)?\s+-\s|(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+\d+ --- \[)"
    ))
});
static TRACING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?\s+(?:TRACE|DEBUG|INFO|WARN|ERROR)\s+\S+|\d{4}-\d\d-\d\dT\S+\t(?:debug|info|warn|error|dpanic|panic|fatal|DEBUG|INFO|WARN|ERROR|DPANIC|PANIC|FATAL)\t|[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6}\s+\d+ \S+:\d+\] |\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)? )",
    )
});
/// Two `key=value` pairs at the start.
static LOGFMT: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"^[A-Za-z_][\w.@-]*=(?:"(?:[^"\\]|\\.)*"|\S*) [A-Za-z_][\w.@-]*="#));

/// The pattern of a line of each text format, in the order they are tried
/// (the first that matches names the line's format).
static LINE_PATTERNS: [(Format, &LazyLock<Regex>); 13] = [
    (Format::Cri, &CRI),
    (Format::Logcat, &LOGCAT),
    (Format::Syslog5424, &SYSLOG_5424),
    (Format::Syslog, &SYSLOG_3164),
    (Format::Access, &ACCESS),
    (Format::ApacheError, &APACHE_ERROR),
    (Format::NginxError, &NGINX_ERROR),
    (Format::PostgresCsv, &POSTGRES_CSV),
    (Format::Postgres, &POSTGRES),
    (Format::Python, &PYTHON),
    (Format::Log4j, &LOG4J),
    (Format::Tracing, &TRACING),
    (Format::Logfmt, &LOGFMT),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Format::of_line`] without [`may_be`]: every pattern tried.
    fn of_line_by_patterns(line: &str) -> Option<Format> {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('{') {
            return Format::of_line(line);
        }
        LINE_PATTERNS
            .into_iter()
            .find(|(_, re)| re.is_match(line))
            .map(|(format, _)| format)
    }

    /// Every line of the real logs the fixtures hold (and the shared
    /// corpus beside the checkout, when there) gets the format every
    /// pattern would give it, and never a pattern that [`may_be`] turned
    /// away would have matched.
    #[test]
    fn the_byte_tests_turn_away_no_line_a_pattern_matches() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("tests/fixtures"), root.join("../shared/data")];
        let (mut lines, mut files) = (0, 0);
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                files += 1;
                for line in String::from_utf8_lossy(&bytes).lines().take(2000) {
                    lines += 1;
                    assert_eq!(
                        Format::of_line(line),
                        of_line_by_patterns(line),
                        "{}: {line}",
                        path.display()
                    );
                }
            }
        }
        assert!(files > 10 && lines > 1000, "{files} files, {lines} lines");
    }

    proptest::proptest! {
        #[test]
        fn a_line_turned_away_by_its_bytes_matches_no_pattern(
            line in "(<1[0-9]>1? ?|\\[|\"|[0-9٣]{2,4}[-/]|[A-Z][a-z]{2} )?[0-9٣ :./T,A-Za-z\\[\\]\"=-]{0,40}"
        ) {
            proptest::prop_assert_eq!(Format::of_line(&line), of_line_by_patterns(&line));
        }
    }

    #[test]
    fn each_format_is_recognised_by_a_typical_line() {
        for (line, want) in [
            (
                r#"{"level":"info","ts":1669575482.09,"msg":"record","record":{"error_severity":"LOG","message":"x"}}"#,
                Format::PostgresJson,
            ),
            (
                r#"{"timestamp":"2026-11-21 03:00:00.000 UTC","pid":7,"error_severity":"LOG","message":"x"}"#,
                Format::PostgresJson,
            ),
            (
                r#"{"log":"hello\n","stream":"stdout","time":"2026-11-21T03:00:00.1Z"}"#,
                Format::DockerJson,
            ),
            (
                r#"{"time":"2026-11-21T03:00:00Z","level":"INFO","msg":"hi"}"#,
                Format::Json,
            ),
            ("2026-11-21T03:00:00.123456789Z stdout F hello", Format::Cri),
            (
                "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezing",
                Format::Logcat,
            ),
            (
                "05-26 14:57:03.870 V/Configuration( 1766): Updating",
                Format::Logcat,
            ),
            (
                "<34>1 2026-11-21T03:12:09.5Z host app 1 ID47 - msg",
                Format::Syslog5424,
            ),
            (
                "Nov 21 03:14:02 web-1 kernel: [1.2] Out of memory",
                Format::Syslog,
            ),
            (
                "Feb 10 23:15:39 test-pc postgres[10808]: [1-1] db=,user= LOG:  x",
                Format::Syslog,
            ),
            (
                r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 203023 "-" "UA""#,
                Format::Access,
            ),
            (
                "[Sat Nov 21 03:12:09.123456 2026] [core:error] [pid 42] AH00037: x",
                Format::ApacheError,
            ),
            (
                "2026/11/21 03:05:12 [error] 31#31: *1 upstream timed out",
                Format::NginxError,
            ),
            (
                r#""2026-05-16 05:11:50.269 UTC","u","d",1001,"h:1",0.3e9,1,"SELECT","2026-05-16 05:00:00 UTC",1/1,0,LOG,00000,"statement: x",,,"#,
                Format::PostgresCsv,
            ),
            (
                "2021-01-22 10:03:22.785 CET,\"a\",\"a\",1486,\"h\",6.5ce,32878,\"SELECT\",2021-01-21 19:08:05 CET,14/10903,0,LOG,00000,\"x\"",
                Format::PostgresCsv,
            ),
            (
                "2025-01-21 18:38:06.453 CET [78798] gilles@gilles ERROR:  conflicting",
                Format::Postgres,
            ),
            (
                "2020-03-11 20:40:43 CET::@:[12760]:LOG:  starting PostgreSQL",
                Format::Postgres,
            ),
            (
                "2026-11-21 03:12:09,114 - app.db - ERROR - pool exhausted",
                Format::Python,
            ),
            ("ERROR:root:pool exhausted", Format::Python),
            (
                "2026-11-21 03:12:09,114 [main] ERROR com.example.Pool - exhausted",
                Format::Log4j,
            ),
            (
                "2026-11-21 03:12:09.114 ERROR 1 --- [main] c.e.Pool : x",
                Format::Log4j,
            ),
            ("03:12:09.114 [main] WARN  c.e.Pool - slow", Format::Log4j),
            (
                "2026-11-21T03:12:09.114Z  INFO triage::scan: started",
                Format::Tracing,
            ),
            (
                "2026-11-21T03:12:09.114Z\tinfo\tserver\tlistening",
                Format::Tracing,
            ),
            (
                "I1121 03:12:09.114567   12345 main.go:12] ready",
                Format::Tracing,
            ),
            (
                r#"time="2026-11-21T03:12:09Z" level=info msg="started""#,
                Format::Logfmt,
            ),
            (
                "time=2026-11-21T03:12:09Z level=INFO msg=hi",
                Format::Logfmt,
            ),
            ("just some words", Format::Plain),
        ] {
            let got = Format::of_line(line).unwrap_or(Format::Plain);
            assert_eq!(got, want, "{line}");
        }
    }

    #[test]
    fn detection_takes_the_majority_and_tolerates_continuations() {
        let java = [
            "2026-11-21 03:12:09,114 [main] ERROR com.example.Pool - exhausted",
            "java.lang.IllegalStateException: exhausted",
            "\tat com.example.Pool.get(Pool.java:12)",
            "\tat com.example.Main.main(Main.java:3)",
            "2026-11-21 03:12:10,001 [main] INFO com.example.Pool - recovered",
        ];
        assert_eq!(Format::detect(&java), Format::Log4j);
        assert_eq!(Format::detect(&[]), Format::Plain);
        assert_eq!(Format::detect(&["", "  "]), Format::Plain);
        assert_eq!(
            Format::detect(&["hello", "world", "more", "words", "and", "x=1 y=2"]),
            Format::Plain
        );
    }

    #[test]
    fn names_parse_back_and_unknown_names_are_errors() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse(), Ok(format));
        }
        assert_eq!("CSVLOG".parse(), Ok(Format::PostgresCsv));
        assert_eq!("combined".parse(), Ok(Format::Access));
        let err = "yaml".parse::<Format>().expect_err("unknown");
        assert_eq!(err.name, "yaml");
        assert!(err.to_string().contains("postgres-csv"), "{err}");
    }
}
