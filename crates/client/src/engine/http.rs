//! A minimal HTTP/1.1 client for long-polling: one kept-alive connection per concurrent
//! request (Engine.IO has at most one GET and one POST in flight), TCP_NODELAY on.

use std::sync::{Arc, Mutex};

use super::EngineError;
use super::net::{Stream, Target};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;

/// Largest polling response body we accept: far above any server's `maxPayload`, but bounded.
const MAX_BODY: usize = 64 * 1024 * 1024;

struct Conn {
    sender: SendRequest<Full<Bytes>>,
    conn: Connection<TokioIo<Stream>, Full<Bytes>>,
}

/// A polling response.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Bytes,
}

/// Keeps idle connections for reuse; requests own their connection while they run, so a
/// request future needs no other task to drive it.
pub(crate) struct HttpClient {
    target: Target,
    headers: HeaderMap,
    idle: Mutex<Vec<Conn>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    pub(crate) fn new(target: Target, headers: HeaderMap) -> Arc<Self> {
        Arc::new(Self {
            target,
            headers,
            idle: Mutex::new(Vec::new()),
        })
    }

    async fn connect(&self) -> Result<Conn, EngineError> {
        let stream = self.target.connect().await?;
        let (sender, conn) = http1::Builder::new()
            .max_buf_size(64 * 1024)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(EngineError::Http)?;
        Ok(Conn { sender, conn })
    }

    fn take_idle(&self) -> Option<Conn> {
        self.idle.lock().ok().and_then(|mut idle| idle.pop())
    }

    fn put_idle(&self, conn: Conn) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < 4
        {
            idle.push(conn);
        }
    }

    /// Sends one request; `body` is `(bytes, content type)`.
    pub(crate) async fn request(
        self: Arc<Self>,
        method: Method,
        path_and_query: String,
        body: Option<(Bytes, &'static str)>,
    ) -> Result<Response, EngineError> {
        // A kept-alive connection may have been closed by the server meanwhile: retry once
        // on a fresh one.
        if let Some(conn) = self.take_idle()
            && let Ok(response) = self
                .send_on(conn, method.clone(), &path_and_query, body.clone())
                .await
        {
            return Ok(response);
        }
        let conn = self.connect().await?;
        self.send_on(conn, method, &path_and_query, body).await
    }

    async fn send_on(
        &self,
        conn: Conn,
        method: Method,
        path_and_query: &str,
        body: Option<(Bytes, &'static str)>,
    ) -> Result<Response, EngineError> {
        let mut request = Request::builder()
            .method(method)
            .uri(path_and_query)
            .body(Full::new(
                body.as_ref().map(|(b, _)| b.clone()).unwrap_or_default(),
            ))
            .map_err(EngineError::Request)?;
        let headers = request.headers_mut();
        for (name, value) in &self.headers {
            headers.append(name, value.clone());
        }
        if let Ok(host) = HeaderValue::from_str(&self.target.authority()) {
            headers.insert(header::HOST, host);
        }
        if let Some((_, content_type)) = &body {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        let Conn {
            mut sender,
            conn: mut driver,
        } = conn;
        let exchange = async {
            sender.ready().await.map_err(EngineError::Http)?;
            let response = sender
                .send_request(request)
                .await
                .map_err(EngineError::Http)?;
            let status = response.status();
            let keep_alive = !closes_connection(response.headers());
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(EngineError::Body)?
                .to_bytes();
            Ok::<_, EngineError>((
                Response {
                    status,
                    content_type,
                    body,
                },
                keep_alive,
            ))
        };
        // Boxed: it outlives the race below when the driver ends first.
        let mut exchange = Box::pin(exchange);
        let early = tokio::select! {
            biased;
            result = &mut exchange => Some(result),
            _ = &mut driver => None,
        };
        match early {
            Some(result) => {
                drop(exchange);
                let (response, keep_alive) = result?;
                if keep_alive && !sender.is_closed() {
                    self.put_idle(Conn {
                        sender,
                        conn: driver,
                    });
                }
                Ok(response)
            }
            // The driver ends as soon as a server that closes after its response (`Connection:
            // close`, HTTP/1.0) has sent it: the response has been read by then, so the
            // exchange is finished rather than dropped. Dropping the driver first makes an
            // exchange that can no longer complete fail instead of waiting.
            None => {
                drop(driver);
                let (response, _) = exchange.await?;
                Ok(response)
            }
        }
    }
}

/// Whether a response says that the server closes the connection after it (`Connection:
/// close`), so that it is not kept for the next request.
fn closes_connection(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("close"))
}
