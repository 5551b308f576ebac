//! The W3C Trace Context grammar, one copy for both directions: what the
//! middleware accepts from a caller and what [`outgoing_headers`] sends on
//! are checked by the same functions, so we never send what we would refuse.
//! Also the names of the headers and of the context keys that carry a trace.
//!
//! [`outgoing_headers`]: super::outgoing_headers

use http::header::{HeaderMap, HeaderName};

/// The `traceparent` header.
pub(crate) const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The `tracestate` header.
pub(crate) const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// Context key: the trace id, 32 lowercase hex digits.
pub(crate) const TRACE_ID: &str = "trace_id";
/// Context key: this service's span id, 16 lowercase hex digits.
pub(crate) const SPAN_ID: &str = "span_id";
/// Context key: the caller's span id, only when a valid `traceparent` came in.
pub(crate) const PARENT_SPAN_ID: &str = "parent_span_id";
/// Context key: the trace flags, 2 lowercase hex digits (`01` = sampled).
pub(crate) const TRACE_FLAGS: &str = "trace_flags";
/// Context key: the caller's `tracestate`, passed on unchanged.
pub(crate) const TRACESTATE_KEY: &str = "tracestate";

/// The longest `tracestate` kept: the W3C specification asks vendors to
/// propagate at least 512 characters; longer values are dropped whole rather
/// than cut (a cut list is a different list).
pub(crate) const MAX_TRACESTATE: usize = 512;

/// The fields of a valid `traceparent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Traceparent<'a> {
    /// 32 lowercase hex digits, not all zero.
    pub(crate) trace_id: &'a str,
    /// The sender's span id: 16 lowercase hex digits, not all zero.
    pub(crate) parent_id: &'a str,
    /// 2 lowercase hex digits.
    pub(crate) flags: &'a str,
}

/// The single `traceparent` header of `headers`, if it is valid (several
/// `traceparent` headers are ambiguous: none is used).
pub(crate) fn traceparent(headers: &HeaderMap) -> Option<Traceparent<'_>> {
    let mut values = headers.get_all(TRACEPARENT).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parse_traceparent(value.to_str().ok()?)
}

/// W3C Trace Context `traceparent`: `version-traceid-parentid-flags`, all
/// lowercase hex; version `ff` and all-zero ids are invalid; version `00` has
/// exactly these four fields, a later version may append `-` and more.
pub(crate) fn parse_traceparent(s: &str) -> Option<Traceparent<'_>> {
    let b = s.as_bytes();
    if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    let (version, trace_id, parent_id, flags) = (&s[0..2], &s[3..35], &s[36..52], &s[53..55]);
    let well_formed = is_lower_hex(version)
        && version != "ff"
        && is_id(trace_id, 32)
        && is_id(parent_id, 16)
        && is_lower_hex(flags);
    // Version 00 has exactly four fields; a later version may append more.
    let rest_ok = b.len() == 55 || (version != "00" && b[55] == b'-');
    (well_formed && rest_ok).then_some(Traceparent {
        trace_id,
        parent_id,
        flags,
    })
}

/// A trace or span id: `len` lowercase hex digits, not all zero.
pub(crate) fn is_id(s: &str, len: usize) -> bool {
    s.len() == len && is_lower_hex(s) && s.bytes().any(|b| b != b'0')
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The `tracestate` to pass on: every `tracestate` header joined with `,` (an
/// HTTP list may be split over several headers), if the result is acceptable
/// (see [`valid_tracestate`]).
pub(crate) fn tracestate(headers: &HeaderMap) -> Option<String> {
    let mut joined = String::new();
    for value in headers.get_all(TRACESTATE) {
        let value = value.to_str().ok()?;
        if !joined.is_empty() {
            joined.push(',');
        }
        joined.push_str(value);
        if joined.len() > MAX_TRACESTATE {
            return None;
        }
    }
    valid_tracestate(&joined).then_some(joined)
}

/// At most [`MAX_TRACESTATE`] bytes of printable ASCII (no control
/// characters, no DEL, nothing outside ASCII), with at least one list member.
/// The members are passed on as they are, not parsed: the vendors that wrote
/// them own their format.
pub(crate) fn valid_tracestate(s: &str) -> bool {
    s.len() <= MAX_TRACESTATE
        && s.bytes().all(|b| (0x20..0x7f).contains(&b))
        && s.bytes().any(|b| !matches!(b, b' ' | b'\t' | b','))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_rules() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(ok),
            Some(Traceparent {
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
                parent_id: "00f067aa0ba902b7",
                flags: "01",
            })
        );
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra";
        assert_eq!(parse_traceparent(later).map(|t| t.flags), Some("09"));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tracestate_rules() {
        assert!(valid_tracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"));
        assert!(valid_tracestate(&"a".repeat(MAX_TRACESTATE)));
        assert!(!valid_tracestate(&"a".repeat(MAX_TRACESTATE + 1)));
        assert!(!valid_tracestate(""));
        assert!(!valid_tracestate(" , "));
        assert!(!valid_tracestate("a=1\tb=2"));
        assert!(!valid_tracestate("a=1\x7f"));
        assert!(!valid_tracestate("a=é"));

        let mut headers = HeaderMap::new();
        headers.append(TRACESTATE, "a=1".parse().unwrap());
        headers.append(TRACESTATE, "b=2".parse().unwrap());
        assert_eq!(tracestate(&headers).as_deref(), Some("a=1,b=2"));
    }
}
