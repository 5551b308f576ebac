//! The request's trace keys: join the caller's trace when a valid
//! `traceparent` came in, else (unless turned off) start a new one. Either
//! way this service's handling gets a new `span_id`; the caller's span id
//! becomes `parent_span_id`.

use http::header::HeaderMap;

use super::random::{new_span_id, new_trace_id, Hex};
use crate::propagation::w3c;

/// The flags of a trace this service starts: sampled. Everything logged is
/// kept, so the trace is recorded; a downstream sampler that reads the flag
/// keeps its spans too.
const NEW_TRACE_FLAGS: &str = "01";

/// A request's trace keys, held until they are written into its context.
#[derive(Default)]
pub(super) struct TraceKeys<'h> {
    trace_id: Option<TraceId<'h>>,
    span_id: Option<Hex<16>>,
    parent_span_id: Option<&'h str>,
    flags: &'h str,
    tracestate: Option<String>,
}

/// The caller's trace id, or a new one (inline, no `String`).
enum TraceId<'h> {
    Incoming(&'h str),
    New(Hex<32>),
}

/// The trace keys for a request with `headers`: `trace_id`, `span_id`,
/// `trace_flags`, and with a valid incoming `traceparent` also
/// `parent_span_id` and (when one came in and is acceptable) `tracestate`.
/// With no valid `traceparent` and `start_new` off, none.
pub(super) fn trace_keys(headers: &HeaderMap, start_new: bool) -> TraceKeys<'_> {
    match w3c::traceparent(headers) {
        Some(parent) => TraceKeys {
            trace_id: Some(TraceId::Incoming(parent.trace_id)),
            span_id: Some(new_span_id()),
            parent_span_id: Some(parent.parent_id),
            flags: parent.flags,
            tracestate: w3c::tracestate(headers),
        },
        None if start_new => TraceKeys {
            trace_id: Some(TraceId::New(new_trace_id())),
            span_id: Some(new_span_id()),
            parent_span_id: None,
            flags: NEW_TRACE_FLAGS,
            tracestate: None,
        },
        None => TraceKeys::default(),
    }
}

impl TraceKeys<'_> {
    /// `trace_id`: the caller's or a new one.
    pub(super) fn trace_id(&self) -> Option<&[u8]> {
        self.trace_id.as_ref().map(|t| match t {
            TraceId::Incoming(s) => s.as_bytes(),
            TraceId::New(h) => h.as_bytes(),
        })
    }

    /// `span_id`: this service's handling of the request.
    pub(super) fn span_id(&self) -> Option<&[u8]> {
        self.span_id.as_ref().map(Hex::as_bytes)
    }

    /// `parent_span_id`: the caller's span, when one came in.
    pub(super) fn parent_span_id(&self) -> Option<&[u8]> {
        self.parent_span_id.map(str::as_bytes)
    }

    /// `trace_flags`, present with a trace id.
    pub(super) fn flags(&self) -> Option<&[u8]> {
        self.trace_id.is_some().then_some(self.flags.as_bytes())
    }

    /// `tracestate`, when an acceptable one came in.
    pub(super) fn tracestate(&self) -> Option<&[u8]> {
        self.tracestate.as_deref().map(str::as_bytes)
    }
}
