//! Splitting a message into tokens and masking their variable parts: the
//! miner's hot loop.
//!
//! Owns: what a token is (a run of bytes between ASCII whitespace) and which
//! parts of it are variable. Must not: allocate per line (the caller's
//! [`Tokens`] is reused), keep state between messages other than its cache
//! of short tokens (what a token masks to depends on its bytes alone, so
//! the cache changes speed, never a result), or know any system.
//! Invariants: the same token text always gives the same masked form and
//! hash; a message gives at most [`MAX_TOKENS`] tokens (the rest of a longer
//! message is one variable token); a token longer than [`MAX_TOKEN_LEN`]
//! bytes is variable as a whole, so what a template stores per token is
//! bounded.
//!
//! The masking rules, applied inside each token (`=`, `(`, `[`, `/`, `,`
//! and other punctuation stay as written, so `uid=0` is `uid=<*>`):
//! - a run of letters and digits is variable when it starts with a digit
//!   (`8080`, `0x1f`, `12ms`), or holds a digit and is hex (`a692162415ae`,
//!   `e182`), at least half digits (`dn228`, `R02`), or at least 12 long
//!   with three digits (tokens, keys); words with a digit in them stay (`SOCKS5`, `ssh2`,
//!   `IPv4`); a sign right before a number, where it cannot be a hyphen
//!   between two words, belongs to it (`blk_-42` is `blk_<*>`);
//! - a run of at least eight hex letters is variable (hashes that happen to
//!   hold no digit); month and weekday names (`Jul`, `Friday`) are
//!   variable, as parts of a date;
//! - a DNS name of three labels or more ending in a common top-level domain,
//!   and a UUID, are variable;
//! - variable runs joined by `.`, `:` or `-` are one variable (an IPv4
//!   address with its port, a time, a date, a decimal number, a UUID), so
//!   `1.16` and `1190` have the same shape;
//! - a token longer than [`MAX_TOKEN_LEN`] bytes, or that starts with
//!   `/` and names a path of at least two parts, is variable as a whole;
//! - a unit after a token with a variable part is part of that variable
//!   (`1.16 KB)`, `<1 sec`, `0 bytes`), and variable tokens in a row are one
//!   (`Fri Jul  1 07:57:30 2005`), so quantities and dates written in
//!   different numbers of words have one shape.

/// The most tokens a message is split into; the rest of a longer message is
/// one variable token.
pub const MAX_TOKENS: usize = 96;

/// A token longer than this (in bytes) is variable as a whole.
pub const MAX_TOKEN_LEN: usize = 256;

/// Marks a variable part in a masked token. Never a byte of UTF-8 text.
pub const VAR: u8 = 0xFF;

/// One token of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte range of the token in the message.
    pub start: u32,
    /// End of the byte range (exclusive).
    pub end: u32,
    /// Hash of the masked form.
    pub hash: u64,
    /// The token is variable as a whole.
    pub wild: bool,
    /// The token has a variable part (or is variable as a whole).
    pub has_var: bool,
}

/// The tokens of one message, reused from message to message.
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    /// The tokens in order.
    pub list: Vec<Token>,
    /// The masked form of every token, one after another (`VAR` for each
    /// variable part), in its first `masked_len` bytes: sized to the
    /// message once per message, as a masked form is never longer than its
    /// token, so the hot loop writes bytes without growing a vector.
    masked: Vec<u8>,
    masked_len: usize,
    /// Where each token's masked form ends in `masked`.
    masked_end: Vec<u32>,
    /// What short tokens seen before mask to, by their bytes: most tokens
    /// of a log (its constant words) repeat, and are found here without
    /// being scanned byte by byte. Empty until the first message.
    cache: Vec<Cached>,
    /// Every token byte by byte: what the cache and the number fast path
    /// must agree with (tests).
    #[cfg(test)]
    byte_by_byte: bool,
}

/// Tokens of at most this many bytes are kept in [`Tokens`]'s cache.
const CACHED_LEN: usize = 32;

/// [`CACHED_LEN`] in words.
const CACHED_WORDS: usize = CACHED_LEN / 8;

/// Entries of the cache (a power of two): direct-mapped, a newer token
/// replaces an older one with the same slot.
const CACHE_SIZE: usize = 4096;

/// A short token and what it masks to: a pure function of its bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Cached {
    /// The token's bytes, zero-padded (`len` 0: an empty entry).
    raw: [u64; CACHED_WORDS],
    len: u8,
    masked_len: u8,
    masked: [u8; CACHED_LEN],
    facts: Facts,
}

/// What the miner needs to know of a token besides where it is.
#[derive(Debug, Clone, Copy, Default)]
struct Facts {
    /// Hash of the masked form.
    hash: u64,
    /// The masked form has a variable part.
    has_var: bool,
    /// The token is a unit of measure ([`is_unit`]).
    unit: bool,
    /// The token is variable as a whole: too long, a path, or one variable.
    whole: bool,
}

/// The facts of a token that [`is_number`].
const NUMBER: Facts = Facts {
    hash: WILD_HASH,
    has_var: true,
    unit: false,
    whole: true,
};

/// Digits, in runs joined by single `.`, `:` or `-` (`8080`, `1.16`,
/// `10.251.73.220:50010`, `07:57:30`, `2005-06-05`): masks to one `VAR`, as
/// [`mask`] would find byte by byte (each run starts with a digit, so is
/// variable; variables joined by those are one), and is no unit nor path.
fn is_number(token: &[u8]) -> bool {
    let mut digit_before = false;
    for &b in token {
        if b.is_ascii_digit() {
            digit_before = true;
        } else if digit_before && matches!(b, b'.' | b':' | b'-') {
            digit_before = false;
        } else {
            return false;
        }
    }
    digit_before
}

/// The first `n` bytes (all when `n` is 8 or more) of a little-endian
/// word.
fn keep_low(word: u64, n: usize) -> u64 {
    if n >= 8 {
        word
    } else {
        word & ((1u64 << (n * 8)) - 1)
    }
}

/// Where the first byte below `0x21` (whitespace or another control byte)
/// is in a little-endian word: exact for the lowest such byte.
fn first_low(word: u64) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let found = word.wrapping_sub(ONES * 0x21) & !word & (ONES * 0x80);
    (found != 0).then(|| found.trailing_zeros() as usize / 8)
}

/// The hash of a token that is variable as a whole.
pub const WILD_HASH: u64 = 0x9E37_79B9_7F4A_7C15;

impl Tokens {
    /// An empty token list.
    pub fn new() -> Tokens {
        Tokens::default()
    }

    /// Splits `message` into tokens, masking their variable parts.
    pub fn split(&mut self, message: &str) {
        self.list.clear();
        self.masked_len = 0;
        self.masked_end.clear();
        let bytes = message.as_bytes();
        if self.masked.len() < bytes.len() + CACHED_LEN {
            self.masked.resize(bytes.len() + CACHED_LEN, 0);
        }
        if self.cache.is_empty() {
            self.cache = vec![Cached::default(); CACHE_SIZE];
        }
        let mut at = 0;
        while at < bytes.len() {
            while at < bytes.len() && is_space(bytes[at]) {
                at += 1;
            }
            if at == bytes.len() {
                break;
            }
            let start = at;
            if self.list.len() == MAX_TOKENS - 1 {
                // The rest of the message is one variable token.
                let mut end = bytes.len();
                while end > start && is_space(bytes[end - 1]) {
                    end -= 1;
                }
                self.push_wild(start, end);
                break;
            }
            let from = self.masked_len;
            #[cfg(test)]
            let fast = if self.byte_by_byte {
                None
            } else {
                self.short_token(bytes, start)
            };
            #[cfg(not(test))]
            let fast = self.short_token(bytes, start);
            at = match fast {
                Some(end) => end,
                None => {
                    let (len, masked_len, has_var) = mask(&bytes[start..], &mut self.masked, from);
                    self.masked_len = masked_len;
                    let end = start + len;
                    let facts = self.facts(&bytes[start..end], from, has_var);
                    self.push(start, end, from, facts);
                    end
                }
            };
        }
    }

    /// Masks and pushes the token at `start` through the cache when it is
    /// short (at most [`CACHED_LEN`] bytes, ended by whitespace or the end
    /// of the message); returns its end. `None`: not a short token, nothing
    /// done.
    fn short_token(&mut self, bytes: &[u8], start: usize) -> Option<usize> {
        let mut padded = [0u8; CACHED_LEN];
        let rest = &bytes[start..];
        let n = rest.len().min(CACHED_LEN);
        // Near the end of the message, its rest zero-padded (a zero byte
        // ends the token as the end does).
        let window = match rest.first_chunk::<CACHED_LEN>() {
            Some(window) => window,
            None => {
                padded[..n].copy_from_slice(rest);
                &padded
            }
        };
        let mut raw = [0u64; CACHED_WORDS];
        let mut len = None;
        for (w, word) in raw.iter_mut().enumerate() {
            *word = u64::from_le_bytes(window[w * 8..w * 8 + 8].try_into().expect("8 bytes"));
            if let Some(i) = first_low(*word) {
                len = Some(w * 8 + i);
                break;
            }
        }
        let len = len?;
        // Past the message's end, or at whitespace; another control byte
        // is part of a token, which the byte-by-byte path handles.
        if len < n && !is_space(rest[len]) {
            return None;
        }
        let mut key = len as u64;
        for (w, word) in raw.iter_mut().enumerate() {
            *word = keep_low(*word, len.saturating_sub(w * 8));
            key = key.rotate_left(23) ^ *word;
        }
        let index = (mix(key) as usize) & (CACHE_SIZE - 1);
        let from = self.masked_len;
        let cached = self.cache[index];
        let facts = if usize::from(cached.len) == len && cached.raw == raw {
            let m = usize::from(cached.masked_len);
            self.masked[from..from + CACHED_LEN].copy_from_slice(&cached.masked);
            self.masked_len = from + m;
            cached.facts
        } else if is_number(&rest[..len]) {
            // Not cached: numbers seldom repeat, and would push out words.
            self.masked[from] = VAR;
            self.masked_len = from + 1;
            NUMBER
        } else {
            let token = &rest[..len];
            let (_, masked_len, has_var) = mask(token, &mut self.masked, from);
            self.masked_len = masked_len;
            let facts = self.facts(token, from, has_var);
            let mut masked = [0u8; CACHED_LEN];
            masked[..masked_len - from].copy_from_slice(&self.masked[from..masked_len]);
            self.cache[index] = Cached {
                raw,
                len: len as u8,
                masked_len: (masked_len - from) as u8,
                masked,
                facts,
            };
            facts
        };
        self.push(start, start + len, from, facts);
        Some(start + len)
    }

    /// The facts of `token`, whose masked form is `masked[from..masked_len]`.
    fn facts(&self, token: &[u8], from: usize, has_var: bool) -> Facts {
        let masked = &self.masked[from..self.masked_len];
        let whole = token.len() > MAX_TOKEN_LEN || is_path(token) || masked == [VAR];
        Facts {
            hash: if whole { WILD_HASH } else { hash(masked) },
            has_var,
            unit: is_unit(token),
            whole,
        }
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// There is no token.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The masked form of token `i` (`VAR` for each variable part).
    pub fn masked(&self, i: usize) -> &[u8] {
        let start = if i == 0 {
            0
        } else {
            self.masked_end[i - 1] as usize
        };
        &self.masked[start..self.masked_end[i] as usize]
    }

    /// Hash of token `i`'s masked form without its variable parts: `()`
    /// and `(<*>)` have the same skeleton, `kernel[<*>]:` and `QQ[<*>]:` do
    /// not.
    pub fn skeleton(&self, i: usize) -> u64 {
        if self.list[i].wild {
            WILD_HASH
        } else {
            skeleton(self.masked(i))
        }
    }

    fn push_wild(&mut self, start: usize, end: usize) {
        self.push_var_byte();
        self.list.push(Token {
            start: start as u32,
            end: end as u32,
            hash: WILD_HASH,
            wild: true,
            has_var: true,
        });
    }

    /// Turns the last token into a variable one reaching to `end`, and
    /// joins it with a variable token before it.
    fn widen_last(&mut self, end: usize) {
        let Some(mut last) = self.list.pop() else {
            return;
        };
        self.masked_end.pop();
        self.masked_len = self.masked_end.last().map_or(0, |&e| e as usize);
        if let Some(before) = self.list.last_mut()
            && before.wild
        {
            before.end = end as u32;
            return;
        }
        last.end = end as u32;
        self.push_var_byte();
        self.list.push(Token {
            hash: WILD_HASH,
            wild: true,
            has_var: true,
            ..last
        });
    }

    /// Ends the masked form with a token that is `VAR` alone.
    fn push_var_byte(&mut self) {
        // A token (at least one byte) was consumed for each masked byte
        // before, so there is room.
        self.masked[self.masked_len] = VAR;
        self.masked_len += 1;
        self.masked_end.push(self.masked_len as u32);
    }

    /// Adds the token from `start` to `end`, whose masked form is
    /// `masked[from..masked_len]`.
    fn push(&mut self, start: usize, end: usize, from: usize, facts: Facts) {
        let last = self.list.last().copied();
        if last.is_some_and(|l| l.has_var) && facts.unit {
            self.masked_len = from;
            self.widen_last(end);
            return;
        }
        if facts.whole {
            self.masked_len = from;
            if last.is_some_and(|l| l.wild) {
                self.widen_last(end);
            } else {
                self.push_wild(start, end);
            }
            return;
        }
        self.masked_end.push(self.masked_len as u32);
        self.list.push(Token {
            start: start as u32,
            end: end as u32,
            hash: facts.hash,
            wild: false,
            has_var: facts.has_var,
        });
    }
}

/// Byte classes, looked up rather than computed in the hot loop.
const WORD: u8 = 1;
const DIGIT: u8 = 2;
const HEX: u8 = 4;
const SPACE: u8 = 8;

static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut class = 0;
        if c.is_ascii_alphanumeric() || c >= 0x80 {
            class |= WORD;
        }
        if c.is_ascii_digit() {
            class |= DIGIT;
        }
        if c.is_ascii_hexdigit() {
            class |= HEX;
        }
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C) {
            class |= SPACE;
        }
        table[b] = class;
        b += 1;
    }
    table
};

fn is_space(b: u8) -> bool {
    CLASS[b as usize] & SPACE != 0
}

/// `/usr/lib/x.so`, `/api/orders/42`, `'/udev/vcs2'`: starts with `/`
/// (after quotes or brackets) and has another `/` after a name.
fn is_path(token: &[u8]) -> bool {
    if !matches!(
        token.first(),
        Some(b'/' | b'\'' | b'"' | b'(' | b'[' | b'<')
    ) {
        return false;
    }
    let skip = token
        .iter()
        .position(|b| !matches!(b, b'\'' | b'"' | b'(' | b'[' | b'<'))
        .unwrap_or(token.len());
    let token = &token[skip..];
    token.len() > 2
        && token[0] == b'/'
        && token[1] != b'/'
        && token[1..].contains(&b'/')
        && token.iter().all(|&b| b.is_ascii_graphic() || b >= 0x80)
}

/// Writes the masked form of the token that starts `token` (it ends at
/// the first whitespace) to `out` from `len` on (`out` has room for the
/// token's bytes); returns the token's length, where its masked form ends
/// in `out`, and whether it has a variable part.
fn mask(token: &[u8], out: &mut [u8], mut len: usize) -> (usize, usize, bool) {
    let start = len;
    let mut has_var = false;
    let mut i = 0;
    while i < token.len() {
        let c = token[i];
        let class = CLASS[c as usize];
        if class & SPACE != 0 {
            break;
        }
        if class & WORD == 0 {
            out[len] = c;
            len += 1;
            i += 1;
            continue;
        }
        // The run is copied as it is scanned, and replaced by `VAR` if it
        // turns out variable.
        let run_start = i;
        let run_out = len;
        let (mut digits, mut hex) = (0usize, HEX);
        while i < token.len() {
            let b = token[i];
            let class = CLASS[b as usize];
            if class & WORD == 0 {
                break;
            }
            digits += usize::from(class & DIGIT != 0);
            hex &= class;
            out[len] = b;
            len += 1;
            i += 1;
        }
        let hex = hex != 0;
        // A host name or a UUID, as a whole.
        if i < token.len()
            && matches!(token[i], b'.' | b'-')
            && (run_start == 0
                || !is_word(token[run_start - 1]) && !matches!(token[run_start - 1], b'-' | b'.'))
        {
            let span = name_span(&token[run_start..]);
            let name = &token[run_start..run_start + span];
            if is_host(name) || is_uuid(name) {
                len = push_var(token, run_start, start, out, run_out);
                has_var = true;
                i = run_start + span;
                continue;
            }
        }
        let run = &token[run_start..i];
        let variable = if digits > 0 {
            run[0].is_ascii_digit()
                || hex
                || digits * 2 >= run.len()
                || (run.len() >= 12 && digits >= 3)
        } else {
            (hex && run.len() >= 8) || is_date_word(run)
        };
        if variable {
            len = push_var(token, run_start, start, out, run_out);
            has_var = true;
        }
    }
    (i, len, has_var)
}

/// Writes a variable that starts at `token[at]` to `out` at `len` (this
/// token's part of `out` starts at `start`); returns where it ends: a sign
/// right before a number, where it is no hyphen between words, belongs to
/// it; variables joined by `.`, `:` or `-` are one.
fn push_var(token: &[u8], at: usize, start: usize, out: &mut [u8], mut len: usize) -> usize {
    if token[at].is_ascii_digit()
        && at > 0
        && matches!(token[at - 1], b'-' | b'+')
        && (at == 1 || !token[at - 2].is_ascii_alphanumeric())
        && len > start
    {
        len -= 1;
    }
    let n = len - start;
    if n >= 2 && out[len - 2] == VAR && matches!(out[len - 1], b'.' | b':' | b'-') {
        len - 1
    } else if n >= 1 && out[len - 1] == VAR {
        len
    } else {
        out[len] = VAR;
        len + 1
    }
}

/// How many bytes from the start are letters, digits, `-` and `.`, not
/// counting a `.` at the end.
fn name_span(bytes: &[u8]) -> usize {
    let mut n = bytes
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
        .unwrap_or(bytes.len());
    while n > 0 && bytes[n - 1] == b'.' {
        n -= 1;
    }
    n
}

/// A DNS name: at least three labels, the last one a common top-level
/// domain or two lower-case letters, a country's (`proxy.cse.cuhk.edu.hk`,
/// `ec2-52-80-34-196.compute.amazonaws.com`).
/// Java class names (`org.apache.Foo`) end in a class, not a domain.
fn is_host(name: &[u8]) -> bool {
    if name.len() < 5 || !name.contains(&b'.') {
        return false;
    }
    let mut count = 0;
    let mut last: &[u8] = &[];
    for label in name.split(|&b| b == b'.') {
        if label.is_empty() || label[0] == b'-' || label[label.len() - 1] == b'-' {
            return false;
        }
        count += 1;
        last = label;
    }
    count >= 3
        && (last.len() == 2 && last.iter().all(u8::is_ascii_lowercase)
            || matches!(
                last,
                b"com"
                    | b"net"
                    | b"org"
                    | b"edu"
                    | b"gov"
                    | b"mil"
                    | b"int"
                    | b"io"
                    | b"info"
                    | b"biz"
                    | b"local"
                    | b"internal"
                    | b"lan"
                    | b"arpa"
            ))
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(name: &[u8]) -> bool {
    name.len() == 36
        && name.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Month and weekday names, abbreviated or not, capitalised or in
/// capitals.
fn is_date_word(run: &[u8]) -> bool {
    if !(3..=9).contains(&run.len())
        || !matches!(
            run[0],
            b'J' | b'F' | b'M' | b'A' | b'S' | b'O' | b'N' | b'D' | b'T' | b'W'
        )
    {
        return false;
    }
    let mut lower = [0u8; 9];
    for (l, b) in lower.iter_mut().zip(run) {
        *l = b.to_ascii_lowercase();
    }
    matches!(
        &lower[..run.len()],
        b"jan"
            | b"feb"
            | b"mar"
            | b"apr"
            | b"may"
            | b"jun"
            | b"jul"
            | b"aug"
            | b"sep"
            | b"sept"
            | b"oct"
            | b"nov"
            | b"dec"
            | b"mon"
            | b"tue"
            | b"tues"
            | b"wed"
            | b"thu"
            | b"fri"
            | b"sat"
            | b"sun"
            | b"january"
            | b"february"
            | b"march"
            | b"april"
            | b"june"
            | b"july"
            | b"august"
            | b"september"
            | b"october"
            | b"november"
            | b"december"
            | b"monday"
            | b"tuesday"
            | b"wednesday"
            | b"thursday"
            | b"friday"
            | b"saturday"
            | b"sunday"
    )
}

/// A unit of measure, alone in its token (punctuation around it allowed):
/// `KB)`, `sec`, `bytes,`, `ms`.
fn is_unit(token: &[u8]) -> bool {
    if token.len() > 9 {
        return false;
    }
    let start = token
        .iter()
        .position(|b| b.is_ascii_alphabetic() || *b == b'%');
    let end = token
        .iter()
        .rposition(|b| b.is_ascii_alphabetic() || *b == b'%');
    let (Some(start), Some(end)) = (start, end) else {
        return false;
    };
    if token[..start]
        .iter()
        .chain(&token[end + 1..])
        .any(|b| b.is_ascii_alphanumeric())
    {
        return false;
    }
    matches!(
        &token[start..=end],
        b"B" | b"KB"
            | b"MB"
            | b"GB"
            | b"TB"
            | b"PB"
            | b"kB"
            | b"KiB"
            | b"MiB"
            | b"GiB"
            | b"TiB"
            | b"K"
            | b"M"
            | b"G"
            | b"bytes"
            | b"byte"
            | b"bits"
            | b"ms"
            | b"us"
            | b"ns"
            | b"s"
            | b"sec"
            | b"secs"
            | b"second"
            | b"seconds"
            | b"min"
            | b"mins"
            | b"minute"
            | b"minutes"
            | b"h"
            | b"hr"
            | b"hrs"
            | b"hour"
            | b"hours"
            | b"day"
            | b"days"
            | b"%"
            | b"msec"
            | b"usec"
            | b"nsec"
    )
}

/// Letters, digits, and any byte of a non-ASCII character.
fn is_word(b: u8) -> bool {
    CLASS[b as usize] & WORD != 0
}

/// Eight bytes at a time, multiplied and rotated, then a final mix: fast
/// on tokens, and the same in every run (no random seed), so template ids
/// are stable.
pub fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(word))
            .wrapping_mul(K)
            .rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(word))
            .wrapping_mul(K)
            .rotate_left(29);
    }
    mix(h)
}

/// [`hash`] of the bytes that are not [`VAR`].
pub fn skeleton(masked: &[u8]) -> u64 {
    let kept: Vec<u8> = masked.iter().copied().filter(|&b| b != VAR).collect();
    hash(&kept)
}

/// A 64-bit finaliser (from MurmurHash3).
pub fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// The display form of a masked token: `<*>` for each variable part.
pub fn display(masked: &[u8]) -> String {
    let mut out = Vec::with_capacity(masked.len() + 4);
    for &b in masked {
        if b == VAR {
            out.extend_from_slice(b"<*>");
        } else {
            out.push(b);
        }
    }
    // Masking only replaces whole runs of ASCII letters and digits or
    // whole non-ASCII runs, so what is left is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(message: &str) -> Vec<String> {
        let mut tokens = Tokens::new();
        tokens.split(message);
        (0..tokens.len())
            .map(|i| display(tokens.masked(i)))
            .collect()
    }

    #[test]
    fn variable_parts_are_masked_inside_tokens() {
        assert_eq!(
            shapes("PacketResponder 1 for block blk_-6952295868487656571 terminating"),
            [
                "PacketResponder",
                "<*>",
                "for",
                "block",
                "blk_<*>",
                "terminating"
            ]
        );
        assert_eq!(shapes("blk_38865049064139660"), ["blk_<*>"]);
        assert_eq!(
            shapes("uid=0 euid=0 tty=NODEVssh rhost=218.188.2.4"),
            ["uid=<*>", "euid=<*>", "tty=NODEVssh", "rhost=<*>"]
        );
        assert_eq!(
            shapes("from 10.251.73.220:50010 (1.16 KB) 00:01 2017-05-16 done"),
            ["from", "<*>", "done"]
        );
        assert_eq!(
            shapes("close, 1190 bytes (1.16 KB) sent, 0 bytes received, lifetime <1 sec"),
            [
                "close,",
                "<*>",
                "sent,",
                "<*>",
                "received,",
                "lifetime",
                "<*>"
            ]
        );
        assert_eq!(
            shapes("at Fri Jul  1 07:57:30 2005 via SOCKS5 ssh2 IPv4"),
            ["at", "<*>", "via", "SOCKS5", "ssh2", "IPv4"]
        );
        assert_eq!(
            shapes("[req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da]"),
            ["[req-<*>", "<*>]"]
        );
        assert_eq!(
            shapes("http-nio-8080-exec-29 R02-M1-N0 on deadbeefcafe01"),
            ["http-nio-<*>-exec-<*>", "<*>", "on", "<*>"]
        );
        assert_eq!(shapes("/var/log/x.log /tmp"), ["<*>", "/tmp"]);
        assert_eq!(
            shapes(
                "[instance: b9000564-fecd-409b-b8cc-1e88b294cd1d] rhost=ec2-52-80-34-196.cn-north-1.compute.amazonaws.com"
            ),
            ["[instance:", "<*>]", "rhost=<*>"]
        );
        assert_eq!(
            shapes("www.google.com:443 org.apache.hadoop.Foo"),
            ["<*>", "org.apache.hadoop.Foo"]
        );
    }

    #[test]
    fn cache_and_number_path_agree_with_byte_by_byte() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/loghub");
        let mut fast = Tokens::new();
        let mut slow = Tokens::new();
        slow.byte_by_byte = true;
        let mut files = 0;
        let mut extra = String::new();
        for token in [
            "1",
            "-1",
            "+1.5",
            "1-2",
            "1::2",
            "1.",
            ".1",
            "1..2",
            "a1",
            "0x1f",
            "12ms",
            "\u{1}x",
            "x\u{1}",
            "/a/b",
            "KB)",
            "www.google.com:443",
            "x".repeat(40).as_str(),
            "größe=12",
        ] {
            extra.push_str(&format!("{token}\n{token} {token}\nsize {token} {token}\n"));
        }
        let mut texts = vec![extra];
        for entry in std::fs::read_dir(dir).expect("the Loghub fixtures") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "log") {
                files += 1;
                let bytes = std::fs::read(&path).expect("a fixture");
                texts.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        assert!(files >= 10, "only {files} Loghub fixtures");
        // Twice over, so the second pass finds its tokens in the cache.
        for text in texts.iter().chain(&texts) {
            for line in text.lines() {
                fast.split(line);
                slow.split(line);
                assert_eq!(fast.list, slow.list, "{line:?}");
                for i in 0..fast.len() {
                    assert_eq!(fast.masked(i), slow.masked(i), "{line:?} token {i}");
                }
            }
        }
    }

    #[test]
    fn long_messages_and_tokens_are_bounded() {
        let long = "x".repeat(MAX_TOKEN_LEN + 1);
        let mut tokens = Tokens::new();
        tokens.split(&long);
        assert!(tokens.list[0].wild);
        let many = "a ".repeat(MAX_TOKENS * 3);
        tokens.split(&many);
        assert_eq!(tokens.len(), MAX_TOKENS);
        assert!(tokens.list[MAX_TOKENS - 1].wild);
        assert_eq!(
            tokens.list[MAX_TOKENS - 1].end as usize,
            many.trim_end().len()
        );
    }

    #[test]
    fn masking_keeps_utf8() {
        assert_eq!(shapes("größe=12 ünïcode"), ["größe=<*>", "ünïcode"]);
    }
}
