//! The request's trace keys: join the caller's trace when a valid
//! `traceparent` came in, else (unless turned off) start a new one. Either
//! way this service's handling gets a new `span_id`; the caller's span id
//! becomes `parent_span_id`.

use http::header::HeaderMap;
use serde_json::{Map, Value};

use super::random::{new_span_id, new_trace_id};
use crate::propagation::w3c::{
    self, PARENT_SPAN_ID, SPAN_ID, TRACESTATE_KEY, TRACE_FLAGS, TRACE_ID,
};

/// The flags of a trace this service starts: sampled. Everything logged is
/// kept, so the trace is recorded; a downstream sampler that reads the flag
/// keeps its spans too.
const NEW_TRACE_FLAGS: &str = "01";

/// Puts the trace keys for a request with `headers` into `context`:
/// `trace_id`, `span_id`, `trace_flags`, and with a valid incoming
/// `traceparent` also `parent_span_id` and (when one came in and is
/// acceptable) `tracestate`. With no valid `traceparent` and `start_new`
/// off, nothing.
pub(super) fn insert_trace_keys(
    headers: &HeaderMap,
    start_new: bool,
    context: &mut Map<String, Value>,
) {
    match w3c::traceparent(headers) {
        Some(parent) => {
            context.insert(TRACE_ID.into(), parent.trace_id.into());
            context.insert(SPAN_ID.into(), new_span_id().into());
            context.insert(PARENT_SPAN_ID.into(), parent.parent_id.into());
            context.insert(TRACE_FLAGS.into(), parent.flags.into());
            if let Some(state) = w3c::tracestate(headers) {
                context.insert(TRACESTATE_KEY.into(), state.into());
            }
        }
        None if start_new => {
            context.insert(TRACE_ID.into(), new_trace_id().into());
            context.insert(SPAN_ID.into(), new_span_id().into());
            context.insert(TRACE_FLAGS.into(), NEW_TRACE_FLAGS.into());
        }
        None => {}
    }
}
