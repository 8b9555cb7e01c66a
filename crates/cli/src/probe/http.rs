//! The HTTP and WebSocket plumbing of `sio probe`: URL parsing, requests with a deadline, TLS
//! through rustls (ring, webpki roots), and errors in words.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, ClientRequestBuilder};

use crate::output::escape_control;

/// Largest body read from an answer; Engine.IO handshakes are a few hundred bytes.
const MAX_BODY: usize = 256 * 1024;
const USER_AGENT: &str = concat!("sio-probe/", env!("CARGO_PKG_VERSION"));

/// The endpoint given on the command line.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub secure: bool,
    pub host: String,
    pub port: u16,
    /// The URL's path, `/` when it has none.
    pub path: String,
    /// The URL's query, if any.
    pub query: Option<String>,
}

impl Target {
    /// Parses `http(s)://` and `ws(s)://` URLs; a URL without a scheme is taken as `http://`.
    pub(crate) fn parse(input: &str) -> Result<Target, String> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err("the URL is empty".into());
        }
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("http://{trimmed}")
        };
        let uri: Uri = with_scheme
            .parse()
            .map_err(|error| format!("{input:?} is not a URL ({error})"))?;
        let secure = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http" | "ws") => false,
            Some("https" | "wss") => true,
            Some(other) => {
                return Err(format!(
                    "unsupported scheme {other:?} in {input:?}: use http, https, ws or wss"
                ));
            }
            None => return Err(format!("{input:?} has no scheme")),
        };
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("{input:?} has no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let path = match uri.path() {
            "" => "/".to_owned(),
            path => path.to_owned(),
        };
        Ok(Target {
            secure,
            host,
            port,
            path,
            query: uri.query().map(str::to_owned),
        })
    }

    /// `host:port`, with brackets around an IPv6 address.
    pub(crate) fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `http(s)://host[:port]`, the port left out when it is the scheme's default.
    pub(crate) fn origin(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        let default = if self.secure { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            format!("{scheme}://{host}")
        } else {
            format!("{scheme}://{host}:{}", self.port)
        }
    }

    fn http_uri(&self, path_and_query: &str) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}{path_and_query}", self.authority())
    }

    fn ws_uri(&self, path_and_query: &str) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        format!("{scheme}://{}{path_and_query}", self.authority())
    }
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    Refused(String),
    Timeout(Duration),
    Dns(String),
    Tls(String),
    /// A WebSocket handshake answered with something else than 101.
    Rejected {
        status: u16,
        body: String,
    },
    Other(String),
}

impl Failure {
    /// Whether the server was reached at all.
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Failure::Refused(_) | Failure::Timeout(_) | Failure::Dns(_) | Failure::Tls(_)
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused(addr) => write!(f, "connection refused by {addr}"),
            Failure::Timeout(after) => write!(f, "no answer within {}", seconds(*after)),
            Failure::Dns(message) => write!(f, "cannot resolve the host name: {message}"),
            Failure::Tls(message) => write!(f, "TLS failed: {message}"),
            Failure::Rejected { status, body } => {
                write!(
                    f,
                    "the WebSocket handshake was answered with HTTP {status}: {body}"
                )
            }
            Failure::Other(message) => f.write_str(message),
        }
    }
}

/// `5 s`, `0.5 s`.
pub(crate) fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs} s")
    }
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text (lossy).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The start of the body, escaped, for messages.
    pub(crate) fn snippet(&self) -> String {
        snippet(&self.text())
    }

    /// The `Set-Cookie` values, as `name=value` pairs to send back.
    pub(crate) fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(|v| v.trim().to_owned())
            .collect()
    }
}

/// How many characters of an answer [`snippet`] shows.
pub(crate) const SNIPPET_CHARS: usize = 100;

/// The start of `text`, escaped, or `(empty)`.
pub(crate) fn snippet(text: &str) -> String {
    if text.is_empty() {
        "(empty)".into()
    } else {
        escape_control(text, SNIPPET_CHARS)
    }
}

/// A byte stream a WebSocket can run on: plain TCP or TLS.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open WebSocket.
pub(crate) type Ws = WebSocketStream<Box<dyn Io>>;

/// Requests to one endpoint, with the user's extra headers and a deadline for each.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    tls: Arc<rustls::ClientConfig>,
    headers: Vec<(HeaderName, HeaderValue)>,
    pub timeout: Duration,
}

impl Http {
    pub(crate) fn new(
        headers: Vec<(HeaderName, HeaderValue)>,
        timeout: Duration,
    ) -> Result<Http, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("cannot set up TLS: {error}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls.clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(Http {
            client,
            tls: Arc::new(tls),
            headers,
            timeout,
        })
    }

    /// `GET path_and_query`, waiting at most `wait`.
    pub(crate) async fn get(
        &self,
        target: &Target,
        path_and_query: &str,
        cookies: &[String],
        wait: Duration,
    ) -> Result<Answer, Failure> {
        self.request(Method::GET, target, path_and_query, None, cookies, wait)
            .await
    }

    /// `POST path_and_query` with a text body.
    pub(crate) async fn post(
        &self,
        target: &Target,
        path_and_query: &str,
        body: &str,
        content_type: &str,
        cookies: &[String],
    ) -> Result<Answer, Failure> {
        self.request(
            Method::POST,
            target,
            path_and_query,
            Some((body.to_owned(), content_type)),
            cookies,
            self.timeout,
        )
        .await
    }

    async fn request(
        &self,
        method: Method,
        target: &Target,
        path_and_query: &str,
        body: Option<(String, &str)>,
        cookies: &[String],
        wait: Duration,
    ) -> Result<Answer, Failure> {
        let mut builder = Request::builder()
            .method(method)
            .uri(target.http_uri(path_and_query))
            .header(http::header::USER_AGENT, USER_AGENT)
            .header(http::header::ACCEPT, "*/*");
        if !cookies.is_empty() {
            builder = builder.header(http::header::COOKIE, cookies.join("; "));
        }
        if let Some((_, content_type)) = &body {
            builder = builder.header(http::header::CONTENT_TYPE, *content_type);
        }
        let mut request = builder
            .body(Full::new(Bytes::from(
                body.map(|(b, _)| b).unwrap_or_default(),
            )))
            .map_err(|error| Failure::Other(format!("cannot build the request: {error}")))?;
        for (name, value) in &self.headers {
            request.headers_mut().insert(name.clone(), value.clone());
        }
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|error| classify(&error, target))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|error| Failure::Other(format!("cannot read the answer: {error}")))?
                .to_bytes();
            Ok(Answer {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body: body.to_vec(),
            })
        };
        tokio::time::timeout(wait, exchange)
            .await
            .unwrap_or(Err(Failure::Timeout(wait)))
    }

    /// Opens a WebSocket to `path_and_query`.
    pub(crate) async fn websocket(
        &self,
        target: &Target,
        path_and_query: &str,
        cookies: &[String],
    ) -> Result<Ws, Failure> {
        let uri: Uri = target
            .ws_uri(path_and_query)
            .parse()
            .map_err(|error| Failure::Other(format!("bad WebSocket URL: {error}")))?;
        let mut request = ClientRequestBuilder::new(uri).with_header("User-Agent", USER_AGENT);
        if !cookies.is_empty() {
            request = request.with_header("Cookie", cookies.join("; "));
        }
        for (name, value) in &self.headers {
            if let Ok(value) = value.to_str() {
                request = request.with_header(name.as_str(), value);
            }
        }
        let open = async {
            let tcp = TcpStream::connect((target.host.as_str(), target.port))
                .await
                .map_err(|error| io_failure(&error, target))?;
            let _ = tcp.set_nodelay(true);
            let stream: Box<dyn Io> = if target.secure {
                let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                    .map_err(|error| Failure::Tls(format!("bad server name: {error}")))?;
                let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|error| Failure::Tls(error.to_string()))?;
                Box::new(tls)
            } else {
                Box::new(tcp)
            };
            let (ws, _) = tokio_tungstenite::client_async(request, stream)
                .await
                .map_err(|error| match error {
                    tungstenite::Error::Http(response) => Failure::Rejected {
                        status: response.status().as_u16(),
                        body: snippet(&String::from_utf8_lossy(
                            response.body().as_deref().unwrap_or_default(),
                        )),
                    },
                    other => Failure::Other(format!("WebSocket handshake failed: {other}")),
                })?;
            Ok(ws)
        };
        tokio::time::timeout(self.timeout, open)
            .await
            .unwrap_or(Err(Failure::Timeout(self.timeout)))
    }
}

fn io_failure(error: &std::io::Error, target: &Target) -> Failure {
    match error.kind() {
        std::io::ErrorKind::ConnectionRefused => Failure::Refused(target.authority()),
        std::io::ErrorKind::TimedOut => Failure::Timeout(Duration::ZERO),
        _ => {
            let text = error.to_string();
            if text.contains("lookup")
                || text.contains("resolve")
                || text.contains("Name or service")
            {
                Failure::Dns(format!("{}: {text}", target.host))
            } else {
                Failure::Other(format!("cannot connect to {}: {text}", target.authority()))
            }
        }
    }
}

/// Names the cause of a hyper client error by walking its sources.
fn classify(error: &hyper_util::client::legacy::Error, target: &Target) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut deepest = error.to_string();
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if let Some(tls) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                return Failure::Tls(tls.to_string());
            }
            return io_failure(io, target);
        }
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Failure::Tls(tls.to_string());
        }
        let text = current.to_string();
        if text.contains("dns error") {
            let detail = current.source().map_or(text.clone(), |s| s.to_string());
            return Failure::Dns(format!("{}: {detail}", target.host));
        }
        deepest = text;
        source = current.source();
    }
    Failure::Other(format!(
        "request to {} failed: {deepest}",
        target.authority()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let t = Target::parse("localhost:3000").unwrap();
        assert_eq!((t.secure, t.port, t.path.as_str()), (false, 3000, "/"));
        assert_eq!(t.origin(), "http://localhost:3000");
        let t = Target::parse("wss://example.com/socket.io/?EIO=4&transport=websocket").unwrap();
        assert_eq!(
            (t.secure, t.port, t.path.as_str()),
            (true, 443, "/socket.io/")
        );
        assert_eq!(t.query.as_deref(), Some("EIO=4&transport=websocket"));
        assert_eq!(t.origin(), "https://example.com");
        let t = Target::parse("http://[::1]:8080/chat").unwrap();
        assert_eq!(t.authority(), "[::1]:8080");
        assert!(Target::parse("ftp://x").is_err());
        assert!(Target::parse("http://").is_err());
        assert!(Target::parse("").is_err());
        assert!(Target::parse("http://exa mple.com").is_err());
    }
}
