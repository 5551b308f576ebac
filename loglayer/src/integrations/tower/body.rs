//! [`ResponseBody`]: the response body, polled in the request's scope, so
//! what runs while it streams logs with the request's context.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};

use crate::LogLayer;

pin_project_lite::pin_project! {
    /// The response body of a [`RequestLogger`](super::RequestLogger): the inner body, polled in the
    /// request's scope, so code that runs while the body streams (a stream's
    /// `poll_next`, a template rendered lazily…) logs with the request's
    /// context.
    ///
    /// ```
    /// fn assert_body<B: http_body::Body>() {}
    /// assert_body::<loglayer::tower::ResponseBody<String>>();
    /// ```
    pub struct ResponseBody<B> {
        #[pin]
        body: B,
        logger: LogLayer,
    }
}

impl<B> ResponseBody<B> {
    /// `body`, to be polled with `logger` as the current logger.
    pub(super) fn new(body: B, logger: LogLayer) -> Self {
        ResponseBody { body, logger }
    }

    /// The request's logger: the one this body is polled with.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use loglayer::{tower::RequestLoggerLayer, transport::CaptureTransport, LogLayer};
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    ///
    /// # #[derive(Clone)] struct Ok200;
    /// # impl Service<http::Request<String>> for Ok200 {
    /// #     type Response = http::Response<String>;
    /// #     type Error = Infallible;
    /// #     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
    /// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn call(&mut self, _: http::Request<String>) -> Self::Future { std::future::ready(Ok(http::Response::new(String::new()))) }
    /// # }
    /// let mut svc = RequestLoggerLayer::new(LogLayer::new(CaptureTransport::new())).layer(Ok200);
    /// let req = http::Request::builder().header("x-request-id", "r-7").body(String::new()).unwrap();
    /// let res = futures::executor::block_on(svc.call(req)).unwrap();
    /// assert_eq!(res.body().logger().get_context()["request_id"], "r-7");
    /// ```
    pub fn logger(&self) -> &LogLayer {
        &self.logger
    }

    /// The inner body.
    ///
    /// ```
    /// # use std::convert::Infallible;
    /// # use loglayer::{tower::RequestLoggerLayer, transport::CaptureTransport, LogLayer};
    /// # use tower_layer::Layer;
    /// # use tower_service::Service;
    /// # #[derive(Clone)] struct Hi;
    /// # impl Service<http::Request<String>> for Hi {
    /// #     type Response = http::Response<String>;
    /// #     type Error = Infallible;
    /// #     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
    /// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn call(&mut self, _: http::Request<String>) -> Self::Future { std::future::ready(Ok(http::Response::new("hi".into()))) }
    /// # }
    /// # let mut svc = RequestLoggerLayer::new(LogLayer::new(CaptureTransport::new())).layer(Hi);
    /// let res = futures::executor::block_on(svc.call(http::Request::new(String::new()))).unwrap();
    /// assert_eq!(res.into_body().into_inner(), "hi");
    /// ```
    pub fn into_inner(self) -> B {
        self.body
    }
}

impl<B: fmt::Debug> fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        // One `Arc` clone per poll: `sync_scope` owns the logger it installs.
        crate::sync_scope(this.logger.clone(), || this.body.poll_frame(cx))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
