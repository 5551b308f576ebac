//! [`PropagateMiddleware`]: the outgoing headers on every request a
//! `reqwest-middleware` client sends.

use http::Extensions;
use reqwest_middleware::{Middleware, Next};

use super::outgoing::add_missing;

/// A [`reqwest_middleware::Middleware`] (feature `reqwest`) that adds the
/// [`outgoing_headers`](super::outgoing_headers) of the current logger to
/// every request, keeping headers the caller set; see the
/// [module docs](super). The headers are read when the request is sent, so
/// one client, built once and shared, serves every request handler.
///
/// ```
/// use loglayer::propagation::PropagateMiddleware;
/// use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
///
/// let client: ClientWithMiddleware = ClientBuilder::new(reqwest::Client::new())
///     .with(PropagateMiddleware::new())
///     .build();
///
/// // In a handler behind RequestLoggerLayer: the call carries traceparent,
/// // tracestate and x-request-id from the request's logger.
/// async fn check_stock(client: &ClientWithMiddleware) -> reqwest_middleware::Result<String> {
///     Ok(client.get("http://inventory.internal/stock/42").send().await?.text().await?)
/// }
/// # let _ = check_stock;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PropagateMiddleware {
    _private: (),
}

impl PropagateMiddleware {
    /// The middleware.
    ///
    /// ```
    /// let middleware = loglayer::propagation::PropagateMiddleware::new();
    /// # let _ = middleware;
    /// ```
    pub fn new() -> Self {
        PropagateMiddleware { _private: () }
    }
}

#[async_trait::async_trait]
impl Middleware for PropagateMiddleware {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        add_missing(req.headers_mut());
        next.run(req, extensions).await
    }
}
