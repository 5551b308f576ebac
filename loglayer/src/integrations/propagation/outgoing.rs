//! [`outgoing_headers`]: the current logger's trace keys and request id as
//! headers, and [`add_missing`], which puts them on a request without
//! replacing what the caller set.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::w3c::{self, SPAN_ID, TRACEPARENT, TRACESTATE, TRACESTATE_KEY, TRACE_FLAGS, TRACE_ID};

/// The request id's header on outgoing calls.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The context key of the request id.
const REQUEST_ID: &str = "request_id";
/// Flags when a scope set `trace_id` and `span_id` but no `trace_flags`.
const DEFAULT_FLAGS: &str = "01";

/// The headers for a call made from here to another service, from the
/// [current](crate::try_current) logger's context: `traceparent` (its
/// `trace_id`, its `span_id` as the parent id, its `trace_flags`),
/// `tracestate` when one came in, and `x-request-id` (its `request_id`).
/// Empty outside every scope, or when the logger has none of these keys; see
/// the [module docs](crate::propagation).
///
/// For a client without a ready-made integration:
///
/// ```
/// use loglayer::{propagation::outgoing_headers, transport::CaptureTransport, LogLayer};
///
/// fn build_call() -> http::Request<()> {
///     let mut req = http::Request::get("http://inventory.internal/stock").body(()).unwrap();
///     req.headers_mut().extend(outgoing_headers());
///     req
/// }
///
/// let request_logger = LogLayer::new(CaptureTransport::new());
/// request_logger.with_context(serde_json::json!({
///     "request_id": "req-7",
///     "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
///     "span_id": "00f067aa0ba902b7",
///     "trace_flags": "01",
///     "tracestate": "congo=t61rcWkgMzE",
/// }));
/// let req = loglayer::sync_scope(request_logger, build_call);
/// assert_eq!(req.headers()["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// assert_eq!(req.headers()["tracestate"], "congo=t61rcWkgMzE");
/// assert_eq!(req.headers()["x-request-id"], "req-7");
///
/// assert!(build_call().headers().is_empty()); // no scope: nothing to send
/// ```
pub fn outgoing_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(logger) = crate::try_current() {
        headers_from(&logger.get_context(), &mut headers);
    }
    headers
}

/// Adds [`outgoing_headers`] to `headers`, keeping every header the caller
/// set: an existing `traceparent` keeps its `tracestate` (or lack of one),
/// an existing `x-request-id` stays.
pub(super) fn add_missing(headers: &mut HeaderMap) {
    let has_traceparent = headers.contains_key(TRACEPARENT);
    let has_tracestate = headers.contains_key(TRACESTATE);
    let has_request_id = headers.contains_key(X_REQUEST_ID);
    if has_traceparent && has_request_id {
        return; // nothing to add: skip reading the context
    }
    for (name, value) in outgoing_headers() {
        let Some(name) = name else { continue };
        let keep_callers = if name == TRACEPARENT || name == TRACESTATE {
            has_traceparent || has_tracestate
        } else {
            headers.contains_key(&name)
        };
        if !keep_callers {
            headers.insert(name, value);
        }
    }
}

/// The headers for `context` (the logger's context), each only when its keys
/// are there and valid.
fn headers_from(context: &Map<String, Value>, headers: &mut HeaderMap) {
    let text = |key: &str| context.get(key).and_then(Value::as_str);
    if let (Some(trace_id), Some(span_id)) = (text(TRACE_ID), text(SPAN_ID)) {
        let flags = text(TRACE_FLAGS).unwrap_or(DEFAULT_FLAGS);
        let traceparent = format!("00-{trace_id}-{span_id}-{flags}");
        // The grammar we accept is the grammar we send.
        if w3c::parse_traceparent(&traceparent).is_some() {
            if let Ok(value) = HeaderValue::try_from(traceparent) {
                headers.insert(TRACEPARENT, value);
                let state = text(TRACESTATE_KEY).filter(|s| w3c::valid_tracestate(s));
                if let Some(value) = state.and_then(|s| HeaderValue::from_str(s).ok()) {
                    headers.insert(TRACESTATE, value);
                }
            }
        }
    }
    let request_id = text(REQUEST_ID).and_then(|id| HeaderValue::from_str(id).ok());
    if let Some(value) = request_id.filter(|v| !v.is_empty()) {
        headers.insert(X_REQUEST_ID, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(context: Value) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers_from(context.as_object().unwrap(), &mut headers);
        headers
    }

    #[test]
    fn keys_that_do_not_fit_are_left_out() {
        let t = "4bf92f3577b34da6a3ce929d0e0e4736";
        let s = "00f067aa0ba902b7";
        assert!(headers(json!({})).is_empty());
        assert!(headers(json!({"service": "shop"})).is_empty());
        assert!(headers(json!({"trace_id": t})).is_empty());
        assert!(headers(json!({"trace_id": t, "span_id": "0000000000000000"})).is_empty());
        assert!(headers(json!({"trace_id": t.to_uppercase(), "span_id": s})).is_empty());
        assert!(headers(json!({"trace_id": t, "span_id": s, "trace_flags": "1"})).is_empty());
        assert!(headers(json!({"trace_id": 7, "span_id": s})).is_empty());
        assert!(headers(json!({"request_id": "a\nb"})).is_empty());
        let h = headers(json!({"trace_id": t, "span_id": s, "tracestate": "a=\u{1}"}));
        assert_eq!(h[TRACEPARENT], format!("00-{t}-{s}-01"));
        assert!(h.get(TRACESTATE).is_none());
        // A tracestate without a traceparent is not sent.
        assert!(headers(json!({"tracestate": "a=1"})).is_empty());
    }
}
