//! A standalone HTTP server for services such as the engine: accept, TCP_NODELAY, HTTP/1.1
//! with upgrades.

use std::{convert::Infallible, future::Future, io, net::SocketAddr};

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, ToSocketAddrs};
use tower_service::Service;

use crate::{
    engine::{Engine, EngineHandler, RemoteAddr, Secure},
    service::{BoxError, EngineService},
};

/// Serves an engine alone on `addr` until an accept error: the one-line server.
///
/// See the crate documentation for an example.
pub async fn listen<H: EngineHandler>(
    addr: impl ToSocketAddrs,
    engine: Engine<H>,
) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    serve(listener, EngineService::new(engine), std::future::pending()).await
}

/// Serves `service` on connections accepted from `listener` until `shutdown` completes.
///
/// Every accepted socket gets TCP_NODELAY; each request carries a [`RemoteAddr`] extension.
/// Connections already open are left to finish.
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Running out of file descriptors and similar are transient: keep serving.
                Err(error) if is_transient(&error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
                Err(error) => return Err(error),
            },
            _ = &mut shutdown => return Ok(()),
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        tokio::spawn(serve_connection(stream, peer, false, service.clone()));
    }
}

fn is_transient(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    ) || error
        .raw_os_error()
        .is_some_and(|code| code == 24 || code == 23)
}

/// Serves `service` on one accepted connection of any kind until it closes: HTTP/1.1 with
/// upgrades, each request carrying [`RemoteAddr`] (and [`Secure`] when `secure`).
///
/// This is how to serve over TLS: accept TCP yourself, complete the rustls handshake (for
/// example with `tokio_rustls::TlsAcceptor`), then hand the encrypted stream here with
/// `secure = true`.
pub async fn serve_connection<I, S, B>(io: I, peer: SocketAddr, secure: bool, service: S)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let hyper_service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(RemoteAddr(peer));
        if secure {
            req.extensions_mut().insert(Secure);
        }
        let mut service = service.clone();
        async move {
            std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
            service.call(req).await
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .serve_connection(TokioIo::new(io), hyper_service)
        .with_upgrades();
    if let Err(error) = connection.await {
        tracing::debug!(%error, %peer, "connection ended with an error");
    }
}
