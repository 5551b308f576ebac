//! Low-level JSON writing shared by the context, the entry and the JSON
//! transport: string escaping and the RFC 3339 timestamp. Values are
//! rendered from their encoding by `value/render.rs`.
//!
//! # Placeholders (documented contract)
//!
//! Written when a value is encoded (`value/encode.rs`), so every transport
//! sees the same placeholder:
//!
//! | input | written as |
//! |---|---|
//! | `f64`/`f32` NaN, +inf, -inf | `null`, as `JSON.stringify` writes them (JSON has no such numbers) |
//! | a value whose `Serialize` fails (e.g. a map with non-string keys) | `"[unserializable: <serde error>]"` |
//! | a value nested more than 100 levels deep | `"[unserializable: nested too deeply]"` |
//! | a `Display`/`Debug` field that returns `fmt::Error` | `"[unprintable: fmt error]"` (text written before the error is dropped) |
//! | a `Display`/`Debug` field that panics | `"[unprintable: panicked]"` |

use std::cell::Cell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{SystemTime, UNIX_EPOCH};

/// Placeholder for a `Display`/`Debug` that returned `fmt::Error`.
pub(crate) const FMT_ERROR_PLACEHOLDER: &str = "[unprintable: fmt error]";
/// Placeholder for a `Display`/`Debug` that panicked.
pub(crate) const PANIC_PLACEHOLDER: &str = "[unprintable: panicked]";

/// Deepest nesting of a value that every common JSON reader accepts; deeper
/// values are written as [`TOO_DEEP`].
pub(crate) const MAX_DEPTH: usize = 100;

/// Placeholder for a value nested deeper than [`MAX_DEPTH`].
pub(crate) const TOO_DEEP: &str = "[unserializable: nested too deeply]";

/// Writes `s` as a JSON string literal (with quotes). Control characters are
/// escaped, so a string never spans lines.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    write_utf8(out, s.as_bytes());
}

/// [`write_str`] for UTF-8 held as bytes (a string's encoding, see
/// [`crate::value`]): escaping is bytewise, so it needs no check.
///
/// Most strings need no escape: one scan says so (eight bytes at a time),
/// then one copy; the rest go byte by byte.
pub(crate) fn write_utf8(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if is_plain(bytes) {
        out.extend_from_slice(bytes);
    } else {
        write_contents(out, bytes);
    }
    out.push(b'"');
}

/// Whether no byte of `bytes` has an [`ESCAPE`] class (then the JSON string
/// is the bytes as they are).
#[inline(always)]
fn is_plain(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        if !word_is_plain(u64::from_le_bytes(word.try_into().unwrap_or([0; 8]))) {
            return false;
        }
    }
    words.remainder().iter().all(|&b| ESCAPE[b as usize] == 0)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Escape class per byte: 0 = copy, b'u' = \u00XX, other = two-char escape.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[0x7f] = b'u';
    // Lead bytes of C1 controls and of U+2028/U+2029: checked further.
    t[0xC2] = b'm';
    t[0xE2] = b'm';
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether some byte of `word` is zero (exact as a yes/no).
#[inline(always)]
fn has_zero_byte(word: u64) -> bool {
    word.wrapping_sub(ONES) & !word & HIGH != 0
}

/// Whether none of the eight bytes of `word` may need an escape: no control
/// (< 0x20), `"`, `\\`, DEL, and no byte ≥ 0x80 (whose lead bytes are looked
/// at one by one).
#[inline(always)]
fn word_is_plain(word: u64) -> bool {
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH != 0;
    !(control
        || word & HIGH != 0
        || has_zero_byte(word ^ (ONES * u64::from(b'"')))
        || has_zero_byte(word ^ (ONES * u64::from(b'\\')))
        || has_zero_byte(word ^ (ONES * 0x7f)))
}

/// Writes the escaped contents of a JSON string (without quotes).
///
/// Besides what JSON requires, DEL, the C1 controls U+0080–U+009F (NEL among
/// them) and the line/paragraph separators U+2028/U+2029 are escaped, so no
/// reader — JSON or a Unicode line splitter — splits the line on them.
#[cold]
#[inline(never)]
fn write_contents(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let class = ESCAPE[b as usize];
        if class == 0 {
            i += 1;
            continue;
        }
        if class == b'm' {
            // A lead byte of something we may escape: C1 (C2 80..9F) or
            // U+2028/U+2029 (E2 80 A8/A9). Anything else is copied.
            let c1 = b == 0xC2 && matches!(bytes.get(i + 1), Some(0x80..=0x9F));
            let sep = b == 0xE2
                && bytes.get(i + 1) == Some(&0x80)
                && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9));
            if !c1 && !sep {
                i += 1;
                continue;
            }
            out.extend_from_slice(&bytes[start..i]);
            if c1 {
                // For U+0080..U+009F the second byte equals the code point.
                let cp = bytes[i + 1];
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(cp >> 4) as usize]);
                out.push(HEX[(cp & 0xf) as usize]);
                i += 2;
            } else {
                out.extend_from_slice(if bytes[i + 2] == 0xA8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                });
                i += 3;
            }
            start = i;
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if class == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.push(b'\\');
            out.push(class);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `args` formatted to `buf`, catching failures: a failing
/// `Display` yields the text so far followed by a placeholder.
pub(crate) fn append_message(buf: &mut String, args: fmt::Arguments<'_>) {
    if let Some(s) = args.as_str() {
        buf.push_str(s);
        return;
    }
    let result = catch_unwind(AssertUnwindSafe(|| fmt::write(&mut *buf, args)));
    match result {
        Ok(Ok(())) => {}
        Ok(Err(_)) => buf.push_str(FMT_ERROR_PLACEHOLDER),
        Err(_) => buf.push_str(PANIC_PLACEHOLDER),
    }
}

thread_local! {
    /// (unix second, "YYYY-MM-DDTHH:MM:SS.") cached per thread: entries in the
    /// same second reuse the formatted date.
    static TIME_CACHE: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// Appends `time` as RFC 3339 UTC with milliseconds, e.g.
/// `2026-11-26T01:02:03.456Z` (24 bytes, no quotes).
pub(crate) fn write_time(out: &mut Vec<u8>, time: SystemTime) {
    let (secs, millis) = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs(), d.subsec_millis()),
        Err(_) => (0, 0), // before 1970: clamp rather than fail
    };
    let prefix = TIME_CACHE
        .try_with(|c| {
            let (cached_secs, cached) = c.get();
            if cached_secs == secs {
                cached
            } else {
                let p = format_second(secs);
                c.set((secs, p));
                p
            }
        })
        .unwrap_or_else(|_| format_second(secs));
    let mut stamp = [b'Z'; 24];
    stamp[..20].copy_from_slice(&prefix);
    stamp[20] = b'0' + (millis / 100) as u8;
    stamp[21] = b'0' + (millis / 10 % 10) as u8;
    stamp[22] = b'0' + (millis % 10) as u8;
    out.extend_from_slice(&stamp);
}

/// Formats `YYYY-MM-DDTHH:MM:SS.` for a unix second.
fn format_second(secs: u64) -> [u8; 20] {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem / 60 % 60, rem % 60);
    let mut b = [0u8; 20];
    let y = y.clamp(0, 9999) as u64;
    let digits = |b: &mut [u8], v: u64| {
        let n = b.len();
        let mut v = v;
        for i in (0..n).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    digits(&mut b[0..4], y);
    b[4] = b'-';
    digits(&mut b[5..7], m as u64);
    b[7] = b'-';
    digits(&mut b[8..10], d as u64);
    b[10] = b'T';
    digits(&mut b[11..13], hh);
    b[13] = b':';
    digits(&mut b[14..16], mm);
    b[16] = b':';
    digits(&mut b[17..19], ss);
    b[19] = b'.';
    b
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn time_formats_known_instants() {
        let mut out = Vec::new();
        write_time(&mut out, UNIX_EPOCH);
        assert_eq!(out, b"1970-01-01T00:00:00.000Z");
        out.clear();
        // 2026-11-26T01:02:03.456Z
        let t = UNIX_EPOCH + Duration::from_millis(1_795_654_923_456);
        write_time(&mut out, t);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "2026-11-26T01:02:03.456Z"
        );
        out.clear();
        // leap day
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        write_time(&mut out, t);
        assert_eq!(&out[..10], b"2000-02-29");
    }

    #[test]
    fn escapes_controls_and_separators() {
        let mut out = Vec::new();
        write_str(
            &mut out,
            "a\nb\"c\\\u{1b}[31m\u{7f}\u{2028}é\u{85}\u{9f}\u{a0}",
        );
        let s = std::str::from_utf8(&out).unwrap();
        assert_eq!(
            s,
            "\"a\\nb\\\"c\\\\\\u001b[31m\\u007f\\u2028é\\u0085\\u009f\u{a0}\""
        );
        let back: String = serde_json::from_str(s).unwrap();
        assert_eq!(back, "a\nb\"c\\\u{1b}[31m\u{7f}\u{2028}é\u{85}\u{9f}\u{a0}");
    }

    /// The escaping as one rule per character, for comparison.
    fn reference(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' => {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn word_at_a_time_escaping_matches_the_per_character_rule() {
        // Every character class the escaper distinguishes, at every offset
        // of a word, in strings of every length up to a few words.
        let alphabet = [
            "a", "Z", " ", "~", "\"", "\\", "\n", "\u{0}", "\u{1f}", "\u{7f}", "\u{80}", "\u{85}",
            "\u{9f}", "\u{a0}", "é", "\u{2027}", "\u{2028}", "\u{2029}", "€", "😀",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            // Mostly plain text, so that whole plain words occur.
            let s: String = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 4 == 0 {
                        alphabet[(r / 4 % alphabet.len() as u64) as usize]
                    } else {
                        "x"
                    }
                })
                .collect();
            let mut out = Vec::new();
            write_str(&mut out, &s);
            assert_eq!(std::str::from_utf8(&out).unwrap(), reference(&s), "{s:?}");
        }
    }
}
