//! The request deadline. Every request is answered 503 once `server.request_timeout_seconds`
//! have passed, except where a route's work has a budget of its own that may run longer:
//! compiling a plugin is bounded by `plugins.compile_seconds` (the compiler child is killed
//! at twice that on the wall clock), so the routes that may compile one (an upload, a test
//! run, a replay) move their deadline past that budget. The uploader then gets the budget's
//! own answer (the plugin compiled, or the limit it hit, by name) instead of a generic "busy"
//! while the compile goes on behind it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::time::{Instant, Sleep};

/// A request's deadline, which a route may move later (never earlier).
#[derive(Clone, Debug)]
pub struct Deadline {
    started: Instant,
    /// Milliseconds from `started`.
    after_ms: Arc<AtomicU64>,
}

impl Deadline {
    fn new(limit: Duration) -> Deadline {
        Deadline { started: Instant::now(), after_ms: Arc::new(AtomicU64::new(millis(limit))) }
    }

    /// When the request's time runs out.
    pub fn at(&self) -> Instant {
        self.started + Duration::from_millis(self.after_ms.load(Ordering::Acquire))
    }

    /// Moves the deadline to `limit` after the request began, if that is later.
    pub fn extend_to(&self, limit: Duration) {
        self.after_ms.fetch_max(millis(limit), Ordering::AcqRel);
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Runs each request under its deadline (`limit` unless a route moves it): past it, the
/// request's work is dropped and the answer is a bare 503, which the edge puts in the
/// protocol's format. A tower layer rather than a `from_fn` one: it is on every request's path
/// and adds no boxed future of its own.
#[derive(Clone, Copy, Debug)]
pub struct DeadlineLayer {
    limit: Duration,
}

impl DeadlineLayer {
    pub fn new(limit: Duration) -> DeadlineLayer {
        DeadlineLayer { limit }
    }
}

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = DeadlineService<S>;

    fn layer(&self, inner: S) -> DeadlineService<S> {
        DeadlineService { inner, limit: self.limit }
    }
}

#[derive(Clone, Debug)]
pub struct DeadlineService<S> {
    inner: S,
    limit: Duration,
}

impl<S> tower::Service<Request> for DeadlineService<S>
where
    S: tower::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = DeadlineFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let deadline = Deadline::new(self.limit);
        let sleep = tokio::time::sleep_until(deadline.at());
        req.extensions_mut().insert(deadline.clone());
        DeadlineFuture { inner: self.inner.call(req), sleep, deadline }
    }
}

pin_project_lite::pin_project! {
    /// A request's answer, or a 503 once its deadline has passed.
    pub struct DeadlineFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Sleep,
        deadline: Deadline,
    }
}

impl<F, E> Future for DeadlineFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(answer) = this.inner.poll(cx) {
            return Poll::Ready(answer);
        }
        loop {
            let at = this.deadline.at();
            if this.sleep.deadline() != at {
                this.sleep.as_mut().reset(at);
            }
            ready!(this.sleep.as_mut().poll(cx));
            // Moved later while the timer ran: wait on for the new deadline.
            if this.deadline.at() <= at {
                return Poll::Ready(Ok(StatusCode::SERVICE_UNAVAILABLE.into_response()));
            }
        }
    }
}

/// A route layer that gives the route's requests at least `limit` from their start.
#[derive(Clone, Copy, Debug)]
pub struct ExtendLayer {
    limit: Duration,
}

impl ExtendLayer {
    pub fn new(limit: Duration) -> ExtendLayer {
        ExtendLayer { limit }
    }

    /// For a route that may compile a plugin: the compile's wall-clock limit on top of the
    /// ordinary deadline, which stays for the rest of the request (reading the upload, storing
    /// it, or waiting behind another compile of the same bytes).
    pub fn compiling(config: &crate::config::Config) -> ExtendLayer {
        let ordinary = Duration::from_secs(config.server.request_timeout_seconds);
        ExtendLayer::new(ordinary + crate::plugin_host::compiler::wall_limit(&config.plugins))
    }
}

impl<S> tower::Layer<S> for ExtendLayer {
    type Service = ExtendService<S>;

    fn layer(&self, inner: S) -> ExtendService<S> {
        ExtendService { inner, limit: self.limit }
    }
}

#[derive(Clone, Debug)]
pub struct ExtendService<S> {
    inner: S,
    limit: Duration,
}

// Routes never fail (`Infallible`): saying so lets the router infer the layers around it.
impl<S: tower::Service<Request, Error = Infallible>> tower::Service<Request> for ExtendService<S> {
    type Response = S::Response;
    type Error = Infallible;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> S::Future {
        if let Some(d) = req.extensions().get::<Deadline>() {
            d.extend_to(self.limit);
        }
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    const LIMIT: Duration = Duration::from_millis(200);

    fn app() -> Router {
        let slow = || async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            "done"
        };
        Router::new()
            .route("/slow", get(slow))
            .route("/budgeted", get(slow).layer(ExtendLayer::new(Duration::from_secs(5))))
            .route("/quick", get(|| async { "done" }))
            .layer(DeadlineLayer::new(LIMIT))
    }

    async fn status(path: &str) -> StatusCode {
        app().oneshot(axum::http::Request::get(path).body(Body::empty()).unwrap()).await.unwrap().status()
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_is_answered_503() {
        assert_eq!(status("/slow").await, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status("/quick").await, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_route_with_a_budget_of_its_own_moves_its_deadline() {
        assert_eq!(status("/budgeted").await, StatusCode::OK);
    }

    #[test]
    fn a_deadline_only_moves_later() {
        let d = Deadline::new(Duration::from_secs(30));
        d.extend_to(Duration::from_secs(5));
        assert_eq!(d.at(), d.started + Duration::from_secs(30));
        d.extend_to(Duration::from_secs(70));
        assert_eq!(d.at(), d.started + Duration::from_secs(70));
    }
}
