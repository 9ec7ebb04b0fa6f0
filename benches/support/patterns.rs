//! Regexes for the reference tools and synthetic signatures, for the
//! benchmarks.
//!
//! [`to_ere`] rewrites a Rust-syntax regex as a POSIX extended regex for
//! `grep -E` (byte semantics, `LC_ALL=C`), or says it cannot be expressed;
//! [`synthetic_toml`] writes N distinct, realistic-looking signatures.

use std::fmt::Write as _;

use regex_syntax::{
    ParserBuilder,
    hir::{Class, Hir, HirKind, Look},
};

/// The same regex as POSIX ERE, or `None` when ERE cannot say it (Unicode
/// classes, a newline, bytes outside ASCII).
pub fn to_ere(pattern: &str) -> Option<String> {
    let hir = ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let mut out = String::new();
    ere(&hir, &mut out)?;
    Some(out)
}

fn ere(hir: &Hir, out: &mut String) -> Option<()> {
    match hir.kind() {
        HirKind::Empty => out.push_str("()"),
        HirKind::Literal(lit) => {
            for &b in lit.0.iter() {
                ere_byte(b, out)?;
            }
        }
        HirKind::Class(Class::Bytes(class)) => {
            let mut set = [false; 256];
            for r in class.ranges() {
                for b in r.start()..=r.end() {
                    set[usize::from(b)] = true;
                }
            }
            ere_class(&set, out)?;
        }
        HirKind::Class(Class::Unicode(class)) => {
            let mut set = [false; 256];
            for r in class.ranges() {
                if u32::from(r.end()) > 0x7f {
                    return None;
                }
                for c in u32::from(r.start())..=u32::from(r.end()) {
                    set[c as usize] = true;
                }
            }
            ere_class(&set, out)?;
        }
        HirKind::Look(look) => out.push_str(match look {
            Look::Start | Look::StartLF | Look::StartCRLF => "^",
            Look::End | Look::EndLF | Look::EndCRLF => "$",
            Look::WordAscii => "\\b",
            Look::WordAsciiNegate => "\\B",
            Look::WordStartAscii => "\\<",
            Look::WordEndAscii => "\\>",
            _ => return None,
        }),
        HirKind::Repetition(rep) => {
            let atomic = match rep.sub.kind() {
                HirKind::Literal(lit) => lit.0.len() == 1,
                HirKind::Class(_) => true,
                _ => false,
            };
            if atomic {
                ere(&rep.sub, out)?;
            } else {
                out.push('(');
                ere(&rep.sub, out)?;
                out.push(')');
            }
            match (rep.min, rep.max) {
                (0, None) => out.push('*'),
                (1, None) => out.push('+'),
                (0, Some(1)) => out.push('?'),
                (m, None) => {
                    let _ = write!(out, "{{{m},}}");
                }
                (m, Some(n)) if m == n => {
                    let _ = write!(out, "{{{m}}}");
                }
                (m, Some(n)) => {
                    let _ = write!(out, "{{{m},{n}}}");
                }
            }
        }
        // An alternation brings its own parentheses.
        HirKind::Capture(cap) if matches!(cap.sub.kind(), HirKind::Alternation(_)) => {
            ere(&cap.sub, out)?;
        }
        HirKind::Capture(cap) => {
            out.push('(');
            ere(&cap.sub, out)?;
            out.push(')');
        }
        HirKind::Concat(subs) => {
            for sub in subs {
                ere(sub, out)?;
            }
        }
        HirKind::Alternation(subs) => {
            out.push('(');
            for (i, sub) in subs.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                ere(sub, out)?;
            }
            out.push(')');
        }
    }
    Some(())
}

fn ere_byte(b: u8, out: &mut String) -> Option<()> {
    match b {
        b'.' | b'[' | b']' | b'(' | b')' | b'*' | b'+' | b'?' | b'{' | b'}' | b'|' | b'^'
        | b'$' | b'\\' => {
            out.push('\\');
            out.push(char::from(b));
        }
        b'\n' => return None,
        0x20..=0x7e | b'\t' => out.push(char::from(b)),
        _ => return None,
    }
    Some(())
}

/// A bracket expression for `set` (a newline never occurs inside a line, so
/// it is left out).
fn ere_class(set: &[bool; 256], out: &mut String) -> Option<()> {
    let mut set = *set;
    set[usize::from(b'\n')] = false;
    let members = set.iter().filter(|&&m| m).count();
    let (negate, list): (bool, Vec<u8>) = if members > 128 {
        let excluded: Vec<u8> = (0..=255u8)
            .filter(|&b| !set[usize::from(b)] && b != b'\n')
            .collect();
        if excluded.is_empty() {
            out.push('.');
            return Some(());
        }
        (true, excluded)
    } else {
        (
            false,
            (0..=255u8).filter(|&b| set[usize::from(b)]).collect(),
        )
    };
    if list.iter().any(|&b| b >= 0x80 || (b < 0x20 && b != b'\t')) {
        return None;
    }
    out.push('[');
    if negate {
        out.push('^');
    }
    if list.contains(&b']') {
        out.push(']');
    }
    let plain: Vec<u8> = list
        .iter()
        .copied()
        .filter(|b| !b"]^-[".contains(b))
        .collect();
    let mut i = 0;
    while i < plain.len() {
        let mut j = i;
        while j + 1 < plain.len() && plain[j + 1] == plain[j] + 1 {
            j += 1;
        }
        if j >= i + 2 {
            out.push(char::from(plain[i]));
            out.push('-');
            out.push(char::from(plain[j]));
        } else {
            for &b in &plain[i..=j] {
                out.push(char::from(b));
            }
        }
        i = j + 1;
    }
    for special in [b'[', b'^', b'-'] {
        if list.contains(&special) {
            out.push(char::from(special));
        }
    }
    out.push(']');
    Some(())
}

/// The regex with its named groups made non-capturing (`(?P<x>a)` → `(?:a)`):
/// the same language, and regexes joined by `rg -f` may repeat a name.
pub fn strip_capture_names(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    let mut escaped = false;
    while let Some(c) = rest.chars().next() {
        if !escaped && c == '(' {
            let after = &rest[1..];
            let name_start = after
                .strip_prefix("?P<")
                .or_else(|| after.strip_prefix("?<"));
            if let Some(name) = name_start
                && let Some(end) = name.find('>')
                && name[..end]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                out.push_str("(?:");
                rest = &name[end + 1..];
                continue;
            }
        }
        escaped = !escaped && c == '\\';
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

const COMPONENTS: [&str; 20] = [
    "auth",
    "billing",
    "cart",
    "catalog",
    "checkout",
    "inventory",
    "ledger",
    "mailer",
    "notifier",
    "orders",
    "payments",
    "pricing",
    "profile",
    "search",
    "session",
    "shipping",
    "stock",
    "tax",
    "users",
    "wallet",
];

const FAILURES: [&str; 25] = [
    "lease expired",
    "quorum lost",
    "shard unavailable",
    "checksum mismatch",
    "handshake aborted",
    "queue overflow",
    "token revoked",
    "snapshot stale",
    "replica diverged",
    "cursor invalidated",
    "backlog exceeded",
    "schema drift",
    "fence violated",
    "watchdog expired",
    "budget exhausted",
    "ring rebalanced",
    "epoch rejected",
    "journal corrupted",
    "barrier timeout",
    "heartbeat missed",
    "partition fenced",
    "index poisoned",
    "ticket rejected",
    "bucket throttled",
    "cache stampede",
];

/// The regex of synthetic signature `i`: four shapes (literal prefix, a
/// class first, an alternation, case-insensitive), each distinct.
pub fn synthetic_regex(i: usize) -> String {
    let component = COMPONENTS[i % COMPONENTS.len()];
    let failure = FAILURES[(i / COMPONENTS.len()) % FAILURES.len()];
    let other = FAILURES[(i / COMPONENTS.len() + 7) % FAILURES.len()];
    let snake = failure.replace(' ', "_").to_uppercase();
    match i % 4 {
        0 => format!(
            r"{component}-worker\[(?P<pid>[0-9]+)\]: {failure} after (?P<attempts>[0-9]+) attempts"
        ),
        1 => format!(
            r"\b{}_{snake}\b \(code=(?P<code>E[0-9]{{4}})\)",
            component.to_uppercase()
        ),
        2 => format!(
            r"(?P<host>[a-z0-9-]+) {component}: (?:{failure}|{other}) on (?P<resource>[a-z_]+)"
        ),
        _ => format!(r"(?i:{component} {failure}) \[(?P<detail>[^\]]+)\]"),
    }
}

/// A patterns file with `count` synthetic signatures.
pub fn synthetic_toml(count: usize) -> String {
    let mut text =
        String::from("# Synthetic signatures for benchmarks: distinct, realistic shapes.\n");
    for i in 0..count {
        let _ = write!(
            text,
            "\n[[signature]]\nid = \"synthetic-{i:04}\"\ntitle = \"Synthetic failure {i}\"\nseverity = \"medium\"\ndescription = \"Generated for benchmarks.\"\nregex = '{}'\n",
            synthetic_regex(i)
        );
    }
    text
}
