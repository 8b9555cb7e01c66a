//! Opening the byte stream under HTTP and WebSocket: TCP (TCP_NODELAY on), through an HTTP
//! `CONNECT` proxy when configured, then TLS (rustls) for `https`/`wss` URLs.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::EngineError;

/// Longest proxy answer head we read.
const MAX_PROXY_HEAD: usize = 16 * 1024;

/// An HTTP proxy reached with `CONNECT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// Proxy host.
    pub host: String,
    /// Proxy port.
    pub port: u16,
    /// `Proxy-Authorization` value, e.g. `Basic …`.
    pub authorization: Option<String>,
}

impl Proxy {
    /// Reads `http://[user:password@]host[:port]`.
    ///
    /// # Errors
    /// A URL that is not `http://` with a host.
    pub fn from_url(url: &str) -> Result<Proxy, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("proxy {url}: only http:// proxies are supported"))?;
        let authority = rest.split('/').next().unwrap_or_default();
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || hostport.starts_with('[') => {
                let port = port.parse().map_err(|_| format!("proxy {url}: bad port"))?;
                (host, port)
            }
            _ => (hostport, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("proxy {url}: no host"));
        }
        let authorization = userinfo.map(|u| {
            use base64::Engine as _;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(u)
            )
        });
        Ok(Proxy {
            host: host.to_owned(),
            port,
            authorization,
        })
    }
}

/// Where requests go and how to get there.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `Some` for TLS.
    pub(crate) tls: Option<Arc<ClientConfig>>,
    pub(crate) proxy: Option<Proxy>,
}

/// The default TLS settings: the webpki root certificates, the ring provider.
pub(crate) fn default_tls() -> Result<Arc<ClientConfig>, EngineError> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(config.clone());
    }
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(EngineError::Tls)?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(CONFIG.get_or_init(|| Arc::new(config)).clone())
}

impl Target {
    /// `host:port`, for the `Host` header and the WebSocket URL.
    pub(crate) fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    pub(crate) fn ws_scheme(&self) -> &'static str {
        if self.tls.is_some() { "wss" } else { "ws" }
    }

    /// Opens the stream.
    pub(crate) async fn connect(&self) -> Result<Stream, EngineError> {
        let mut tcp = match &self.proxy {
            Some(proxy) => TcpStream::connect((proxy.host.as_str(), proxy.port)).await?,
            None => TcpStream::connect((self.host.as_str(), self.port)).await?,
        };
        // Engine.IO packets are small and latency matters more than throughput.
        tcp.set_nodelay(true)?;
        if let Some(proxy) = &self.proxy {
            tunnel(&mut tcp, &self.authority(), proxy.authorization.as_deref()).await?;
        }
        match &self.tls {
            None => Ok(Stream::Plain(tcp)),
            Some(config) => {
                let name = ServerName::try_from(self.host.clone()).map_err(|source| {
                    EngineError::TlsServerName {
                        name: self.host.clone(),
                        source,
                    }
                })?;
                let tls = TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(EngineError::TlsHandshake)?;
                Ok(Stream::Tls(Box::new(tls)))
            }
        }
    }
}

/// Asks the proxy for a tunnel to `authority`.
async fn tunnel(
    tcp: &mut TcpStream,
    authority: &str,
    authorization: Option<&str>,
) -> Result<(), EngineError> {
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(authorization) = authorization {
        request.push_str("Proxy-Authorization: ");
        request.push_str(authorization);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes()).await?;
    // Read the answer head byte by byte: what follows it belongs to the tunnel.
    let mut head = Vec::with_capacity(128);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_PROXY_HEAD {
            return Err(EngineError::Proxy("answer head too long".into()));
        }
        let byte = tcp.read_u8().await?;
        head.push(byte);
    }
    let head = String::from_utf8_lossy(&head);
    let status = head.lines().next().unwrap_or_default();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    if code == "200" {
        Ok(())
    } else {
        Err(EngineError::Proxy(format!("CONNECT answered {status}")))
    }
}

/// A plain or TLS stream.
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        let p = Proxy::from_url("http://proxy.local:3128").unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.authorization),
            ("proxy.local", 3128, None)
        );
        let p = Proxy::from_url("http://user:pw@10.0.0.1:8080/").unwrap();
        assert_eq!(p.host, "10.0.0.1");
        assert_eq!(p.authorization.as_deref(), Some("Basic dXNlcjpwdw=="));
        let p = Proxy::from_url("http://[::1]:9").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("::1", 9));
        assert_eq!(Proxy::from_url("http://h").unwrap().port, 80);
        assert!(Proxy::from_url("socks5://h:1").is_err());
        assert!(Proxy::from_url("http://:1").is_err());
    }
}
