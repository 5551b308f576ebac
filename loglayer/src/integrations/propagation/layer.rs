//! [`PropagateLayer`] and its service [`Propagate`]: the outgoing headers on
//! every request a tower client sends.

use std::task::{Context, Poll};

use super::outgoing::add_missing;

/// A tower [`Layer`](tower_layer::Layer) for HTTP clients (tower, hyper,
/// tonic: any `Service<http::Request<B>>`) that adds the
/// [`outgoing_headers`](super::outgoing_headers) of the current logger to
/// every request, keeping headers the caller set; see the
/// [module docs](super).
///
/// With hyper's client (`hyper-util` and `tower` are not dependencies of
/// loglayer, so this snippet is not compiled here; `tests/propagation.rs` in
/// the repository runs it):
///
/// ```ignore
/// use loglayer::propagation::PropagateLayer;
///
/// let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
/// let mut client = tower::ServiceBuilder::new().layer(PropagateLayer::new()).service(client);
/// // in a handler: client.call(req).await carries traceparent and x-request-id
/// ```
///
/// Driven by hand:
///
/// ```
/// use std::convert::Infallible;
/// use loglayer::{propagation::PropagateLayer, transport::CaptureTransport, LogLayer};
/// use tower_layer::Layer;
/// use tower_service::Service;
///
/// // A stand-in for the HTTP client: answers with the request's headers.
/// struct Echo;
/// impl Service<http::Request<()>> for Echo {
///     type Response = http::HeaderMap;
///     type Error = Infallible;
///     type Future = std::future::Ready<Result<http::HeaderMap, Infallible>>;
///     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
///         std::task::Poll::Ready(Ok(()))
///     }
///     fn call(&mut self, req: http::Request<()>) -> Self::Future {
///         std::future::ready(Ok(req.headers().clone()))
///     }
/// }
///
/// let mut client = PropagateLayer::new().layer(Echo);
///
/// let request_logger = LogLayer::new(CaptureTransport::new());
/// request_logger.with_context(serde_json::json!({
///     "request_id": "req-7",
///     "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
///     "span_id": "00f067aa0ba902b7",
///     "trace_flags": "01",
/// }));
/// let sent = futures::executor::block_on(loglayer::scope(request_logger, async {
///     let req = http::Request::get("http://b.internal/")
///         .header("x-request-id", "set-by-caller")
///         .body(())
///         .unwrap();
///     client.call(req).await
/// }))
/// .unwrap();
/// assert_eq!(sent["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// assert_eq!(sent["x-request-id"], "set-by-caller"); // never overwritten
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PropagateLayer {
    _private: (),
}

impl PropagateLayer {
    /// The layer.
    ///
    /// ```
    /// let layer = loglayer::propagation::PropagateLayer::new();
    /// # let _ = layer;
    /// ```
    pub fn new() -> Self {
        PropagateLayer { _private: () }
    }
}

impl<S> tower_layer::Layer<S> for PropagateLayer {
    type Service = Propagate<S>;

    fn layer(&self, inner: S) -> Propagate<S> {
        Propagate { inner }
    }
}

/// The service made by [`PropagateLayer`]: `S` with the outgoing headers
/// added to each request in `call`.
///
/// ```
/// use loglayer::propagation::{Propagate, PropagateLayer};
/// use tower_layer::Layer;
///
/// # #[derive(Clone)] struct Client;
/// let client: Propagate<Client> = PropagateLayer::new().layer(Client);
/// # let _ = client;
/// ```
#[derive(Clone, Debug)]
pub struct Propagate<S> {
    inner: S,
}

impl<S> Propagate<S> {
    /// The wrapped client.
    ///
    /// ```
    /// # use loglayer::propagation::PropagateLayer;
    /// # use tower_layer::Layer;
    /// # #[derive(Debug, PartialEq)] struct Client;
    /// let client = PropagateLayer::new().layer(Client);
    /// assert_eq!(client.into_inner(), Client);
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> tower_service::Service<http::Request<B>> for Propagate<S>
where
    S: tower_service::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> S::Future {
        add_missing(req.headers_mut());
        self.inner.call(req)
    }
}
