//! W3C Trace Context: `trace_id` and `span_id` from a single, strictly
//! valid `traceparent` header.

use http::header::{HeaderMap, HeaderName};

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// `trace_id` and `span_id` from a single valid `traceparent` header.
pub(super) fn traceparent(headers: &HeaderMap) -> Option<(&str, &str)> {
    let mut values = headers.get_all(TRACEPARENT).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parse_traceparent(value.to_str().ok()?)
}

/// W3C Trace Context `traceparent`: `version-traceid-parentid-flags`.
fn parse_traceparent(s: &str) -> Option<(&str, &str)> {
    fn lower_hex(s: &str) -> bool {
        s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }
    fn nonzero(s: &str) -> bool {
        s.bytes().any(|b| b != b'0')
    }
    let b = s.as_bytes();
    if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    let (version, trace_id, span_id, flags) = (&s[0..2], &s[3..35], &s[36..52], &s[53..55]);
    let well_formed = lower_hex(version)
        && version != "ff"
        && lower_hex(trace_id)
        && nonzero(trace_id)
        && lower_hex(span_id)
        && nonzero(span_id)
        && lower_hex(flags);
    // Version 00 has exactly four fields; a later version may append more.
    let rest_ok = b.len() == 55 || (version != "00" && b[55] == b'-');
    (well_formed && rest_ok).then_some((trace_id, span_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_rules() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(ok),
            Some(("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"))
        );
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra";
        assert!(parse_traceparent(later).is_some());
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
}
