//! [`ResponseFuture`]: the inner service's future, polled and dropped in the
//! request's scope; when it resolves it sets the request id on the response,
//! wraps the body and has the [completion entry](super::completion) logged —
//! or, dropped first, the cancelled one.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::header::HeaderValue;

use super::completion;
use super::layer::Config;
use super::ResponseBody;
use crate::{LogLayer, Scoped};

/// What a [`ResponseFuture`] needs until it has logged its completion entry.
pub(super) struct CompletionState {
    /// The request's logger.
    pub(super) logger: LogLayer,
    /// When `call` began.
    pub(super) start: Instant,
    /// The id to set on the response.
    pub(super) request_id: HeaderValue,
    pub(super) config: Arc<Config>,
}

pin_project_lite::pin_project! {
    /// The future of a [`RequestLogger`](super::RequestLogger): the inner service's future, polled
    /// (and dropped) in the request's scope. It logs the completion entry and
    /// sets the request id on the response.
    ///
    /// ```
    /// fn assert_future<F: std::future::Future>() {}
    /// assert_future::<loglayer::tower::ResponseFuture<std::future::Ready<Result<http::Response<String>, ()>>>>();
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        future: Scoped<F>,
        state: Option<CompletionState>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(p) = this.project().state.take() {
                if p.config.completion.is_some() {
                    completion::cancelled(&p.logger, p.start);
                }
            }
        }
    }
}

impl<F> ResponseFuture<F> {
    /// The inner service's future, already in the request's scope.
    pub(super) fn new(future: Scoped<F>, pending: CompletionState) -> Self {
        ResponseFuture {
            future,
            state: Some(pending),
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<ResponseBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.state.is_none() {
            // Polled after completion (or after a panic): stay pending.
            return Poll::Pending;
        }
        let mut future = this.future;
        let polled = catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)));
        let result = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => result,
            Err(panic) => {
                let p = this.state.take().expect("checked above");
                p.logger.release_buffered();
                if p.config.completion.is_some() {
                    completion::panicked(&p.logger, p.start, &*panic);
                }
                resume_unwind(panic)
            }
        };
        let p = this.state.take().expect("checked above");
        Poll::Ready(match result {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                parts.headers.insert(p.config.header.clone(), p.request_id);
                if parts.status.is_server_error() {
                    p.logger.release_buffered();
                }
                if let Some(message) = &p.config.completion {
                    completion::completed(&p.logger, message, parts.status.as_u16(), p.start);
                }
                Ok(http::Response::from_parts(
                    parts,
                    ResponseBody::new(body, p.logger),
                ))
            }
            Err(e) => {
                p.logger.release_buffered();
                if p.config.completion.is_some() {
                    completion::failed(&p.logger, p.start);
                }
                Err(e)
            }
        })
    }
}
