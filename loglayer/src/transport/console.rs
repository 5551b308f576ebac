//! [`ConsoleTransport`]: a human format for a terminal.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{transport_options, with_buffer, with_writer, Options, Transport};
use crate::value::Value;
use crate::{Entry, Level};

/// Writes each entry as one human-readable line, with **one `write_all` call
/// per line**, so lines from different threads never interleave.
///
/// # Format
///
/// ```text
/// 01:02:03.456 INFO  shipping request_id=7f3a note="two words" order_id=42
/// 01:02:03.457 ERROR payment failed order_id=42 err="card declined: gateway timeout"
/// ```
///
/// - the time of day in UTC with milliseconds (omitted with
///   [`with_time(false)`](ConsoleTransport::with_time));
/// - the level in upper case, padded to five characters so messages align;
/// - the message (with the logger's prefix applied);
/// - then every root field of the entry as `key=value`, in the order the JSON
///   transport writes them (context, then metadata, then the error). A string
///   is shown bare when it is non-empty and holds no whitespace, `=`, `"`,
///   `\` or control character, and in double quotes (with `\"` and `\\`
///   escaped) otherwise; numbers, booleans, `null`, objects and arrays are
///   shown as their JSON text. Keys follow the same quoting rule. The error is
///   shown as its message followed by its sources, joined by `": "` (or as the
///   JSON text of whatever a configured error serializer returned).
///
/// # Escaping (log forging, terminal injection)
///
/// Text that comes from data — the message, keys, values, error text — can
/// never break the line or drive the terminal. In the message and in string
/// values and keys, `\n`, `\r` and `\t` are shown as `\n`, `\r`, `\t`; every
/// other C0 control (U+0000–U+001F, including ESC and BEL), DEL (U+007F), the
/// C1 controls (U+0080–U+009F), the bidirectional marks, embeddings,
/// overrides and isolates (U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069) and the line/paragraph separators (U+2028, U+2029) are shown
/// as `\u{1b}`-style text. Inside the JSON text of objects and arrays those
/// characters are shown as JSON escapes (`\u001b`), so the text stays valid
/// JSON. The message is otherwise shown as is (a backslash stays a backslash).
/// Only the transport's own colour sequences ever reach the terminal raw.
///
/// # Colour
///
/// [`new`](ConsoleTransport::new) never colours. [`stdout`](ConsoleTransport::stdout)
/// and [`stderr`](ConsoleTransport::stderr) colour only when that stream is a
/// terminal, the `NO_COLOR` environment variable is unset or empty and `TERM`
/// is not `dumb`. [`with_color`](ConsoleTransport::with_color) overrides that
/// choice in both directions — as [no-color.org](https://no-color.org) asks,
/// `NO_COLOR` sets the default and an explicit per-instance setting wins over it.
///
/// ```
/// use loglayer::{transport::ConsoleTransport, LogLayer};
/// use std::sync::{Arc, Mutex};
///
/// #[derive(Clone, Default)]
/// struct Shared(Arc<Mutex<Vec<u8>>>);
/// impl std::io::Write for Shared {
///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
///
/// let out = Shared::default();
/// let log = LogLayer::new(ConsoleTransport::new(out.clone()).with_time(false));
/// log.with_context(serde_json::json!({"request_id": "7f3a"}));
/// log.with_metadata(serde_json::json!({"note": "two words", "order_id": 42})).info("shipping");
/// log.warn("line one\nline two\x1b[31m");
///
/// let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
/// assert_eq!(
///     text,
///     "INFO  shipping request_id=7f3a note=\"two words\" order_id=42\n\
///      WARN  line one\\nline two\\u{1b}[31m request_id=7f3a\n"
/// );
/// ```
pub struct ConsoleTransport {
    writer: Mutex<Box<dyn Write + Send>>,
    options: Options,
    color: bool,
    time: bool,
}

impl ConsoleTransport {
    /// A transport writing to `writer` (a file, a socket, a `Vec<u8>`…),
    /// without colour unless [`with_color(true)`](ConsoleTransport::with_color).
    ///
    /// ```
    /// # use loglayer::{transport::ConsoleTransport, LogLayer};
    /// let log = LogLayer::new(ConsoleTransport::new(std::io::sink()));
    /// log.info("nowhere");
    /// ```
    pub fn new<W: Write + Send + 'static>(writer: W) -> Self {
        ConsoleTransport {
            writer: Mutex::new(Box::new(writer)),
            options: Options::new("console"),
            color: false,
            time: true,
        }
    }

    /// A transport writing to standard output, coloured when standard output
    /// is a terminal and neither `NO_COLOR` (non-empty) nor `TERM=dumb` is set.
    ///
    /// ```
    /// let log = loglayer::LogLayer::new(loglayer::transport::ConsoleTransport::stdout());
    /// log.info("to stdout");
    /// ```
    pub fn stdout() -> Self {
        let stream = io::stdout();
        let color = auto_color(stream.is_terminal());
        Self::new(stream).with_color(color)
    }

    /// A transport writing to standard error, coloured when standard error is
    /// a terminal and neither `NO_COLOR` (non-empty) nor `TERM=dumb` is set.
    ///
    /// ```
    /// let log = loglayer::LogLayer::new(loglayer::transport::ConsoleTransport::stderr());
    /// log.warn("to stderr");
    /// ```
    pub fn stderr() -> Self {
        let stream = io::stderr();
        let color = auto_color(stream.is_terminal());
        Self::new(stream).with_color(color)
    }

    /// Turns colour on or off, overriding the automatic choice of
    /// [`stdout`](ConsoleTransport::stdout) / [`stderr`](ConsoleTransport::stderr)
    /// — including `NO_COLOR`, which only sets the default (as
    /// [no-color.org](https://no-color.org) asks of explicit settings).
    ///
    /// Colours are ANSI SGR sequences: trace and debug dim, info green, warn
    /// yellow, error red, fatal bold red; the time and the keys dim.
    ///
    /// ```
    /// use loglayer::{transport::ConsoleTransport, LogLayer};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Clone, Default)]
    /// struct Shared(Arc<Mutex<Vec<u8>>>);
    /// impl std::io::Write for Shared {
    ///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
    ///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
    /// }
    ///
    /// let out = Shared::default();
    /// let log = LogLayer::new(ConsoleTransport::new(out.clone()).with_color(true).with_time(false));
    /// log.error("boom");
    /// let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    /// assert_eq!(text, "\x1b[31mERROR\x1b[0m boom\n");
    /// ```
    pub fn with_color(mut self, color: bool) -> Self {
        self.color = color;
        self
    }

    /// Shows or hides the time column (shown by default).
    ///
    /// ```
    /// use loglayer::{transport::ConsoleTransport, LogLayer};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Clone, Default)]
    /// struct Shared(Arc<Mutex<Vec<u8>>>);
    /// impl std::io::Write for Shared {
    ///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
    ///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
    /// }
    ///
    /// let out = Shared::default();
    /// let log = LogLayer::new(ConsoleTransport::new(out.clone()).with_time(false));
    /// log.info("ready");
    /// assert_eq!(out.0.lock().unwrap().as_slice(), b"INFO  ready\n");
    /// ```
    pub fn with_time(mut self, time: bool) -> Self {
        self.time = time;
        self
    }

    transport_options! {
        example: ConsoleTransport::stderr(),
        default_id: "console",
        field: options,
        methods: [with_id, with_level, set_enabled],
    }

    /// Appends the line for `entry` (with its trailing newline) to `out`.
    fn render(&self, entry: &Entry<'_>, out: &mut Vec<u8>) {
        let color = self.color;
        if self.time {
            if color {
                out.extend_from_slice(DIM);
            }
            write_time_of_day(out, entry.time());
            if color {
                out.extend_from_slice(RESET);
            }
            out.push(b' ');
        }
        let level = entry.level();
        if color {
            out.extend_from_slice(level_color(level));
        }
        out.extend_from_slice(level_label(level).as_bytes());
        if color {
            out.extend_from_slice(RESET);
        }
        out.push(b' ');
        push_escaped(out, entry.message(), false);

        // The error, when there is one, is the last root field.
        let mut remaining = if entry.error().is_some() {
            let mut n = 0usize;
            entry.for_each_field(|_, _| n += 1);
            n
        } else {
            usize::MAX
        };
        entry.for_each_field(|key, value| {
            remaining = remaining.saturating_sub(1);
            let is_error = remaining == 0;
            out.push(b' ');
            if color {
                out.extend_from_slice(DIM);
            }
            push_text(out, key);
            out.push(b'=');
            if color {
                out.extend_from_slice(RESET);
            }
            if is_error {
                push_error(out, value);
            } else {
                push_json_value(out, value);
            }
        });
        out.push(b'\n');
    }
}

impl fmt::Debug for ConsoleTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleTransport")
            .field("options", &self.options)
            .field("color", &self.color)
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

impl Transport for ConsoleTransport {
    fn write(&self, entry: &Entry<'_>) -> io::Result<()> {
        with_buffer(|buf| {
            self.render(entry, buf);
            with_writer(&self.writer, |w| w.write_all(buf))
        })
    }

    transport_options! { accessors: options }

    fn flush(&self) -> io::Result<()> {
        with_writer(&self.writer, |w| w.flush())
    }
}

const RESET: &[u8] = b"\x1b[0m";
const DIM: &[u8] = b"\x1b[2m";

fn level_color(level: Level) -> &'static [u8] {
    match level {
        Level::Trace | Level::Debug => DIM,
        Level::Info => b"\x1b[32m",
        Level::Warn => b"\x1b[33m",
        Level::Error => b"\x1b[31m",
        Level::Fatal => b"\x1b[1;31m",
    }
}

fn level_label(level: Level) -> &'static str {
    match level {
        Level::Trace => "TRACE",
        Level::Debug => "DEBUG",
        Level::Info => "INFO ",
        Level::Warn => "WARN ",
        Level::Error => "ERROR",
        Level::Fatal => "FATAL",
    }
}

/// The automatic colour choice for a standard stream.
fn auto_color(is_terminal: bool) -> bool {
    color_choice(
        is_terminal,
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

fn color_choice(is_terminal: bool, no_color: Option<&OsStr>, term: Option<&OsStr>) -> bool {
    let no_color = no_color.is_some_and(|v| !v.is_empty());
    let dumb = term.is_some_and(|t| t == "dumb");
    is_terminal && !no_color && !dumb
}

/// `HH:MM:SS.mmm`, the UTC time of day.
fn write_time_of_day(out: &mut Vec<u8>, time: SystemTime) {
    let millis: i128 = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i128,
        Err(e) => -(e.duration().as_millis() as i128),
    };
    let of_day = millis.rem_euclid(86_400_000) as u32;
    let (h, m, s, ms) = (
        of_day / 3_600_000,
        of_day / 60_000 % 60,
        of_day / 1000 % 60,
        of_day % 1000,
    );
    let _ = write!(out, "{h:02}:{m:02}:{s:02}.{ms:03}");
}

/// Characters from data that must never reach the terminal raw: they could
/// break the line, drive the terminal or reorder what the reader sees.
fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Appends `s` with unsafe characters escaped; `quoted` also escapes `"` and
/// `\` (the caller writes the surrounding quotes).
fn push_escaped(out: &mut Vec<u8>, s: &str, quoted: bool) {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let needs = is_unsafe(c) || (quoted && (c == '"' || c == '\\'));
        if !needs {
            continue;
        }
        out.extend_from_slice(&s.as_bytes()[start..i]);
        start = i + c.len_utf8();
        match c {
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            other => {
                let _ = write!(out, "\\u{{{:x}}}", other as u32);
            }
        }
    }
    out.extend_from_slice(&s.as_bytes()[start..]);
}

/// Appends a key or string value: bare when that is unambiguous, quoted and
/// escaped otherwise.
fn push_text(out: &mut Vec<u8>, s: &str) {
    let bare = !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == '=' || c == '"' || c == '\\' || is_unsafe(c));
    if bare {
        out.extend_from_slice(s.as_bytes());
    } else {
        out.push(b'"');
        push_escaped(out, s, true);
        out.push(b'"');
    }
}

/// Appends JSON text as is, except that unsafe characters (which valid,
/// compact JSON can only hold inside strings) become JSON `\uXXXX` escapes.
fn push_json_text(out: &mut Vec<u8>, json: &str) {
    let mut start = 0;
    for (i, c) in json.char_indices() {
        if !is_unsafe(c) {
            continue;
        }
        out.extend_from_slice(&json.as_bytes()[start..i]);
        start = i + c.len_utf8();
        let _ = write!(out, "\\u{:04x}", c as u32);
    }
    out.extend_from_slice(&json.as_bytes()[start..]);
}

/// Appends a field value: a string as text, anything else as its JSON.
fn push_json_value(out: &mut Vec<u8>, value: Value<'_>) {
    match value {
        Value::Str(s) => push_text(out, s),
        other => push_json_text(out, &other.to_string()),
    }
}

/// Appends the error field: `message: source: source` when it has the default
/// shape, its JSON text otherwise (a custom error serializer's value).
fn push_error(out: &mut Vec<u8>, value: Value<'_>) {
    let default_shape = value.as_map().and_then(|map| {
        if map.len() != 2 {
            return None;
        }
        let message = map.get("message")?.as_str()?;
        let sources = map.get("sources")?.as_list()?;
        let mut text = message.to_owned();
        for s in sources.iter() {
            text.push_str(": ");
            text.push_str(s.as_str()?);
        }
        Some(text)
    });
    match default_shape {
        Some(text) => push_text(out, &text),
        None => push_json_value(out, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str, quoted: bool) -> String {
        let mut out = Vec::new();
        push_escaped(&mut out, s, quoted);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_every_unsafe_character() {
        assert_eq!(escaped("a\nb\rc\td", false), "a\\nb\\rc\\td");
        assert_eq!(
            escaped("\x1b[31m\x07\x7f", false),
            "\\u{1b}[31m\\u{7}\\u{7f}"
        );
        assert_eq!(
            escaped("\u{9b}\u{202e}\u{2066}\u{2028}", false),
            "\\u{9b}\\u{202e}\\u{2066}\\u{2028}"
        );
        assert_eq!(escaped("a\"b\\c", false), "a\"b\\c");
        assert_eq!(escaped("a\"b\\c", true), "a\\\"b\\\\c");
        assert_eq!(escaped("héllo ✓", false), "héllo ✓");
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let out = escaped(&c.to_string(), false);
            assert!(!out.chars().any(is_unsafe), "{c:?} -> {out:?}");
        }
    }

    #[test]
    fn json_text_keeps_valid_json() {
        let mut out = Vec::new();
        push_json_text(&mut out, "{\"a\":\"x\u{9b}\u{202e}y\"}");
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "{\"a\":\"x\\u009b\\u202ey\"}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["a"], "x\u{9b}\u{202e}y");
    }

    #[test]
    fn time_of_day_is_utc() {
        let mut out = Vec::new();
        let t = UNIX_EPOCH + std::time::Duration::from_millis(86_400_000 * 3 + 3_723_456);
        write_time_of_day(&mut out, t);
        assert_eq!(out, b"01:02:03.456");
        out.clear();
        write_time_of_day(&mut out, UNIX_EPOCH - std::time::Duration::from_millis(1));
        assert_eq!(out, b"23:59:59.999");
    }

    #[test]
    fn color_choice_follows_tty_no_color_and_term() {
        let s = |v: &'static str| Some(OsStr::new(v));
        assert!(color_choice(true, None, None));
        assert!(color_choice(true, s(""), s("xterm")));
        assert!(!color_choice(false, None, None));
        assert!(!color_choice(true, s("1"), None));
        assert!(!color_choice(true, s("0"), None));
        assert!(!color_choice(true, None, s("dumb")));
    }
}
