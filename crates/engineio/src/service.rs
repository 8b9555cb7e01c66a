//! Tower integration: mount the engine at its path in front of any other service (axum, hyper).

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{Either, Full};
use tower_layer::Layer;
use tower_service::Service;

use crate::engine::{Engine, EngineHandler};

/// A boxed error, the error type of [`EngineBody`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A [`Layer`] that routes requests under the engine's path to the engine and the rest to the
/// wrapped service.
pub struct EngineLayer<H: EngineHandler> {
    engine: Engine<H>,
}

impl<H: EngineHandler> EngineLayer<H> {
    /// A layer for this engine.
    pub fn new(engine: Engine<H>) -> Self {
        EngineLayer { engine }
    }
}

impl<H: EngineHandler> Clone for EngineLayer<H> {
    fn clone(&self) -> Self {
        EngineLayer {
            engine: self.engine.clone(),
        }
    }
}

impl<H: EngineHandler> std::fmt::Debug for EngineLayer<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineLayer")
            .field("engine", &self.engine)
            .finish()
    }
}

impl<H: EngineHandler, S> Layer<S> for EngineLayer<H> {
    type Service = EngineService<H, S>;

    fn layer(&self, inner: S) -> Self::Service {
        EngineService {
            engine: self.engine.clone(),
            inner,
        }
    }
}

/// The service made by [`EngineLayer`]; with [`NotFound`] as the inner service it serves the
/// engine alone.
pub struct EngineService<H: EngineHandler, S = NotFound> {
    engine: Engine<H>,
    inner: S,
}

impl<H: EngineHandler> EngineService<H, NotFound> {
    /// A service that answers the engine's path and 404 elsewhere.
    pub fn new(engine: Engine<H>) -> Self {
        EngineService {
            engine,
            inner: NotFound,
        }
    }
}

impl<H: EngineHandler, S: Clone> Clone for EngineService<H, S> {
    fn clone(&self) -> Self {
        EngineService {
            engine: self.engine.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<H: EngineHandler, S> std::fmt::Debug for EngineService<H, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineService")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl<H, S, ReqBody, ResBody> Service<Request<ReqBody>> for EngineService<H, S>
where
    H: EngineHandler,
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<EngineBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness of the inner service is awaited in `call`, only for requests it serves.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        if self.engine.matches(&req) {
            let engine = self.engine.clone();
            Box::pin(async move { Ok(engine.handle(req).await.map(Either::Left)) })
        } else {
            let mut inner = self.inner.clone();
            Box::pin(async move {
                std::future::poll_fn(|cx| inner.poll_ready(cx)).await?;
                Ok(inner.call(req).await?.map(Either::Right))
            })
        }
    }
}

/// The fallback service of a standalone engine: 404 for every other path.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotFound;

impl<B> Service<Request<B>> for NotFound {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<B>) -> Self::Future {
        let mut response = Response::new(Full::default());
        *response.status_mut() = StatusCode::NOT_FOUND;
        std::future::ready(Ok(response))
    }
}

/// A response body from either the engine (`Left`) or the wrapped service (`Right`).
pub type EngineBody<B> = Either<Full<Bytes>, B>;
